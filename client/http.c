/* SPDX-License-Identifier: Apache-2.0 */
#include "client/http.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "api/api.h"

void cli_conn_init(struct cli_conn *c, int fd)
{
    c->fd = fd;
    sb_init(&c->rbuf);
}

void cli_conn_release(struct cli_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    sb_release(&c->rbuf);
}

/* Reads more bytes into rbuf. Returns the count, 0 at EOF, -1 with err. */
static ssize_t conn_fill(struct cli_conn *c, struct err **err)
{
    sb_grow(&c->rbuf, 16384);
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf.buf + c->rbuf.len, c->rbuf.cap - c->rbuf.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "reading the daemon's response");
        c->rbuf.len += (size_t)n;
        c->rbuf.buf[c->rbuf.len] = '\0';
        return n;
    }
}

static int eof_error(struct err **err)
{
    return err_set(err, ERR_SYSTEM, 0, "reading the daemon's response: unexpected EOF");
}

/* Reads until rbuf holds a CRLF-terminated line of at most max bytes; returns its length. */
static int conn_line(struct cli_conn *c, size_t max, size_t *len, struct err **err)
{
    for (;;) {
        char *nl = c->rbuf.len ? memchr(c->rbuf.buf, '\n', c->rbuf.len) : NULL;
        if (nl) {
            *len = (size_t)(nl - c->rbuf.buf) + 1;
            return 0;
        }
        if (c->rbuf.len > max)
            return err_set(err, ERR_INVALID, 0, "malformed chunked response: line too long");
        ssize_t n = conn_fill(c, err);
        if (n < 0)
            return -1;
        if (n == 0)
            return eof_error(err);
    }
}

static void headers_add(struct cli_http_resp *resp, const char *name, size_t nlen,
                        const char *value, size_t vlen)
{
    while (vlen > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        vlen--;
    }
    while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        vlen--;
    resp->headers = xrealloc(resp->headers, (resp->nheaders + 1) * sizeof(*resp->headers));
    resp->headers[resp->nheaders].name = xstrndup(name, nlen);
    resp->headers[resp->nheaders].value = xstrndup(value, vlen);
    resp->nheaders++;
}

static int parse_status_line(struct cli_http_resp *resp, const char *line, size_t len,
                             struct err **err)
{
    /* "HTTP/1.1 200 OK" */
    if (len < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return err_set(err, ERR_INVALID, 0, "malformed HTTP response from the daemon");
    int status = 0;
    for (size_t i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return err_set(err, ERR_INVALID, 0, "malformed HTTP status from the daemon");
        status = status * 10 + (line[i] - '0');
    }
    if (len > 12 && line[12] != ' ')
        return err_set(err, ERR_INVALID, 0, "malformed HTTP status from the daemon");
    resp->status = status;
    resp->reason = len > 13 ? xstrndup(line + 13, len - 13) : xstrdup("");
    return 0;
}

/* Parses the header section in buf[0..len) (without the final empty line). */
static int parse_head(struct cli_http_resp *resp, const char *buf, size_t len, struct err **err)
{
    const char *p = buf, *end = buf + len;
    bool first = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t llen = (size_t)(le - p);
        if (llen > 0 && p[llen - 1] == '\r')
            llen--;
        if (first) {
            if (parse_status_line(resp, p, llen, err) < 0)
                return -1;
            first = false;
        } else if (llen > 0) {
            const char *colon = memchr(p, ':', llen);
            if (!colon || colon == p)
                return err_set(err, ERR_INVALID, 0, "malformed HTTP header from the daemon");
            headers_add(resp, p, (size_t)(colon - p), colon + 1, llen - (size_t)(colon - p) - 1);
        }
        p = nl ? nl + 1 : end;
    }
    if (first)
        return err_set(err, ERR_INVALID, 0, "empty HTTP response from the daemon");
    return 0;
}

/* Finds the end of the header section; sets *hlen (head) and *total (with the blank line). */
static bool find_head_end(const char *buf, size_t len, size_t *hlen, size_t *total)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n') {
            *hlen = i;
            *total = i + 2;
            return true;
        }
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
            *hlen = i;
            *total = i + 3;
            return true;
        }
    }
    return false;
}

static int read_head(struct cli_conn *c, struct cli_http_resp *resp, struct err **err)
{
    size_t hlen = 0, total = 0;
    while (!find_head_end(c->rbuf.buf, c->rbuf.len, &hlen, &total)) {
        if (c->rbuf.len > CLI_HTTP_MAX_HEADERS)
            return err_set(err, ERR_TOO_LARGE, 0, "the daemon's response headers exceed %d bytes",
                           CLI_HTTP_MAX_HEADERS);
        ssize_t n = conn_fill(c, err);
        if (n < 0)
            return -1;
        if (n == 0)
            return eof_error(err);
    }
    if (total > CLI_HTTP_MAX_HEADERS)
        return err_set(err, ERR_TOO_LARGE, 0, "the daemon's response headers exceed %d bytes",
                       CLI_HTTP_MAX_HEADERS);
    if (parse_head(resp, c->rbuf.buf, hlen, err) < 0)
        return -1;
    sb_consume(&c->rbuf, total);
    return 0;
}

struct body_sink {
    struct cli_http_resp *resp;
    cli_http_body_fn fn;
    void *ud;
};

static int sink_put(struct body_sink *s, const char *data, size_t len, struct err **err)
{
    if (len == 0)
        return 0;
    if (s->fn)
        return s->fn(data, len, s->ud, err);
    if (s->resp->body.len + len > CLI_HTTP_MAX_BODY)
        return err_set(err, ERR_TOO_LARGE, 0, "the daemon's response exceeds %u bytes",
                       CLI_HTTP_MAX_BODY);
    sb_add(&s->resp->body, data, len);
    return 0;
}

/* Passes exactly n bytes (or everything until EOF when until_eof) to the sink. */
static int read_body_bytes(struct cli_conn *c, struct body_sink *s, uint64_t n, bool until_eof,
                           struct err **err)
{
    for (;;) {
        size_t take = c->rbuf.len;
        if (!until_eof && take > n)
            take = (size_t)n;
        if (sink_put(s, c->rbuf.buf, take, err) < 0)
            return -1;
        sb_consume(&c->rbuf, take);
        n -= until_eof ? 0 : take;
        if (!until_eof && n == 0)
            return 0;
        ssize_t r = conn_fill(c, err);
        if (r < 0)
            return -1;
        if (r == 0)
            return until_eof ? 0 : eof_error(err);
    }
}

static int parse_chunk_size(const char *line, size_t len, uint64_t *out, struct err **err)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < len; i++) {
        char ch = line[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        if (v > (UINT64_MAX >> 4))
            return err_set(err, ERR_INVALID, 0, "malformed chunked response: size overflow");
        v = v * 16 + (uint64_t)d;
    }
    if (i == 0 ||
        (i < len && line[i] != ';' && line[i] != '\r' && line[i] != '\n' && line[i] != ' '))
        return err_set(err, ERR_INVALID, 0, "malformed chunked response: bad chunk size");
    *out = v;
    return 0;
}

static int read_chunked(struct cli_conn *c, struct body_sink *s, struct err **err)
{
    for (;;) {
        size_t len = 0;
        uint64_t size = 0;
        if (conn_line(c, 4096, &len, err) < 0)
            return -1;
        if (parse_chunk_size(c->rbuf.buf, len, &size, err) < 0)
            return -1;
        sb_consume(&c->rbuf, len);
        if (size == 0)
            break;
        if (read_body_bytes(c, s, size, false, err) < 0)
            return -1;
        if (conn_line(c, 2, &len, err) < 0) /* the CRLF after the data */
            return -1;
        if (len > 2 || (len == 2 && c->rbuf.buf[0] != '\r'))
            return err_set(err, ERR_INVALID, 0, "malformed chunked response: missing CRLF");
        sb_consume(&c->rbuf, len);
    }
    /* Trailers, then the empty line. */
    for (size_t lines = 0;; lines++) {
        size_t len = 0;
        if (lines > 100)
            return err_set(err, ERR_TOO_LARGE, 0, "too many trailers in the daemon's response");
        if (conn_line(c, 8192, &len, err) < 0)
            return -1;
        bool empty = len == 1 || (len == 2 && c->rbuf.buf[0] == '\r');
        sb_consume(&c->rbuf, len);
        if (empty)
            return 0;
    }
}

static int parse_content_length(const char *v, uint64_t *out, struct err **err)
{
    uint64_t n = 0;
    if (!*v)
        return err_set(err, ERR_INVALID, 0, "malformed Content-Length from the daemon");
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || n > UINT64_MAX / 10 - 9)
            return err_set(err, ERR_INVALID, 0, "malformed Content-Length from the daemon");
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *out = n;
    return 0;
}

int cli_http_read_response(struct cli_conn *c, bool head, struct cli_http_resp *resp,
                           cli_http_body_fn fn, void *ud, struct err **err)
{
    memset(resp, 0, sizeof(*resp));
    sb_init(&resp->body);
    do {
        cli_http_resp_release(resp);
        if (read_head(c, resp, err) < 0)
            return -1;
        /* 1xx interim responses (100 Continue) precede the real one; 101 is final. */
    } while (resp->status >= 100 && resp->status < 200 && resp->status != 101);

    if (head || resp->status == 101 || resp->status == 204 || resp->status == 304)
        return 0;
    struct body_sink s = {.resp = resp, .fn = fn, .ud = ud};
    const char *te = cli_http_resp_header(resp, "Transfer-Encoding");
    const char *cl = cli_http_resp_header(resp, "Content-Length");
    if (te && strcasestr(te, "chunked"))
        return read_chunked(c, &s, err);
    if (cl) {
        uint64_t n = 0;
        if (parse_content_length(cl, &n, err) < 0)
            return -1;
        if (!fn && n > CLI_HTTP_MAX_BODY)
            return err_set(err, ERR_TOO_LARGE, 0, "the daemon's response exceeds %u bytes",
                           CLI_HTTP_MAX_BODY);
        return n ? read_body_bytes(c, &s, n, false, err) : 0;
    }
    return read_body_bytes(c, &s, 0, true, err);
}

void cli_http_resp_release(struct cli_http_resp *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    free(resp->reason);
    sb_release(&resp->body);
    resp->headers = NULL;
    resp->nheaders = 0;
    resp->reason = NULL;
    resp->status = 0;
}

const char *cli_http_resp_header(const struct cli_http_resp *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    }
    return NULL;
}

/* ---- host, connect, request ------------------------------------------------------------- */

int cli_host_parse(const char *host, char **path, struct err **err)
{
    const char *sep = strstr(host, "://");
    if (!sep)
        return err_set(err, ERR_INVALID, 0,
                       "invalid --host \"%s\": expected unix:///path/to/socket", host);
    if ((size_t)(sep - host) != 4 || strncmp(host, "unix", 4) != 0)
        return err_set(err, ERR_INVALID, 0, "unsupported protocol scheme '%.*s' in --host",
                       (int)(sep - host), host);
    const char *p = sep + 3;
    struct sockaddr_un sun;
    if (*p != '/')
        return err_set(err, ERR_INVALID, 0,
                       "invalid --host \"%s\": the socket path must be absolute", host);
    if (strlen(p) >= sizeof(sun.sun_path))
        return err_set(err, ERR_INVALID, 0, "invalid --host \"%s\": socket path too long", host);
    *path = xstrdup(p);
    return 0;
}

int cli_client_init(struct cli_client *cl, const char *host_flag, struct err **err)
{
    memset(cl, 0, sizeof(*cl));
    const char *host = host_flag;
    if (!host || !*host)
        host = getenv("BERTH_HOST");
    if (!host || !*host)
        host = CLI_DEFAULT_HOST;
    if (cli_host_parse(host, &cl->sock_path, err) < 0)
        return -1;
    cl->host = xstrdup(host);
    return 0;
}

void cli_client_release(struct cli_client *cl)
{
    free(cl->host);
    free(cl->sock_path);
    memset(cl, 0, sizeof(*cl));
}

int cli_client_connect(const struct cli_client *cl, int *out, struct err **err)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strncpy(sun.sun_path, cl->sock_path, sizeof(sun.sun_path) - 1);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "socket");
    int r;
    do {
        r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    } while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EACCES || errno == EPERM))
        return err_set(err, ERR_UNAVAILABLE, 0,
                       "permission denied while trying to connect to the berth daemon socket "
                       "at %s: connect: permission denied",
                       cl->host);
    if (r < 0)
        return err_set(err, ERR_UNAVAILABLE, 0,
                       "Cannot connect to the berth daemon at %s. Is the berth daemon running?",
                       cl->host);
    *out = steal_fd(&fd);
    return 0;
}

int cli_send_all(int fd, const char *buf, size_t len, struct err **err)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "sending the request to the daemon");
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Connects conn to the daemon and starts the request in req (empty): the request line, Host,
 * User-Agent and extra_headers. */
static int client_begin(const struct cli_client *cl, const char *method, const char *path,
                        const char *const *extra_headers, struct cli_conn *conn, struct sb *req,
                        struct err **err)
{
    int fd = -1;
    if (cli_client_connect(cl, &fd, err) < 0)
        return -1;
    cli_conn_init(conn, fd);
    sb_addf(req, "%s %s HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli/%s\r\n", method, path,
            BERTH_VERSION);
    for (const char *const *h = extra_headers; h && *h; h++)
        sb_addf(req, "%s\r\n", *h);
    return 0;
}

int cli_client_raw(struct cli_client *cl, const char *method, const char *path,
                   const char *content_type, const void *body, size_t len,
                   const char *const *extra_headers, struct cli_http_resp *resp,
                   cli_http_body_fn fn, void *ud, struct err **err)
{
    memset(resp, 0, sizeof(*resp));
    struct cli_conn conn;
    struct sb req = SB_INIT;
    if (client_begin(cl, method, path, extra_headers, &conn, &req, err) < 0)
        return -1;
    if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        if (content_type)
            sb_addf(&req, "Content-Type: %s\r\n", content_type);
        sb_addf(&req, "Content-Length: %zu\r\n", body ? len : 0);
    }
    sb_adds(&req, "Connection: close\r\n\r\n");
    if (body && len)
        sb_add(&req, body, len);
    int r = cli_send_all(conn.fd, req.buf, req.len, err);
    sb_release(&req);
    if (r == 0)
        r = cli_http_read_response(&conn, strcmp(method, "HEAD") == 0, resp, fn, ud, err);
    cli_conn_release(&conn);
    return r;
}

/* ---- streamed uploads ------------------------------------------------------------------- */

#define UPLOAD_CHUNK     (64 * 1024)
#define UPLOAD_EARLY_MAX (1024 * 1024) /* reply bytes buffered while the body still goes out */

/*
 * Sends buf, and meanwhile reads what the daemon already answers into c->rbuf, so neither side
 * can block the other. *stop is set when the daemon closed or stopped reading: the upload is
 * over and its reply says why.
 */
static int send_duplex(struct cli_conn *c, const char *buf, size_t len, bool *stop,
                       struct err **err)
{
    while (len > 0 && !*stop) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
        if (c->rbuf.len < UPLOAD_EARLY_MAX)
            pfd.events |= POLLIN;
        int r = poll(&pfd, 1, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_set(err, ERR_SYSTEM, errno, "sending the request to the daemon");
        if (pfd.revents & (POLLIN | POLLHUP)) {
            sb_grow(&c->rbuf, 16384);
            ssize_t n = read(c->fd, c->rbuf.buf + c->rbuf.len, c->rbuf.cap - c->rbuf.len - 1);
            if (n > 0) {
                c->rbuf.len += (size_t)n;
                c->rbuf.buf[c->rbuf.len] = '\0';
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                *stop = true;
                break;
            }
        }
        if (!(pfd.revents & (POLLOUT | POLLERR)))
            continue;
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            *stop = true;
            break;
        }
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "sending the request to the daemon");
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads body_fd to its end and sends it as chunks, then the last chunk. */
static int send_chunked_body(struct cli_conn *c, int body_fd, struct err **err)
{
    char *data = xmalloc(UPLOAD_CHUNK);
    struct sb chunk = SB_INIT;
    bool stop = false;
    int r = 0;
    while (r == 0 && !stop) {
        ssize_t n = read(body_fd, data, UPLOAD_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = err_set(err, ERR_SYSTEM, errno, "reading the request body");
            break;
        }
        sb_reset(&chunk);
        if (n == 0)
            sb_adds(&chunk, "0\r\n\r\n");
        else
            sb_addf(&chunk, "%zx\r\n", (size_t)n);
        if (n > 0) {
            sb_add(&chunk, data, (size_t)n);
            sb_adds(&chunk, "\r\n");
        }
        r = send_duplex(c, chunk.buf, chunk.len, &stop, err);
        if (n == 0)
            break;
    }
    sb_release(&chunk);
    free(data);
    return r;
}

int cli_client_upload(struct cli_client *cl, const char *method, const char *path,
                      const char *content_type, int body_fd, const char *const *extra_headers,
                      struct cli_http_resp *resp, cli_http_body_fn fn, void *ud, struct err **err)
{
    memset(resp, 0, sizeof(*resp));
    struct cli_conn conn;
    struct sb req = SB_INIT;
    if (client_begin(cl, method, path, extra_headers, &conn, &req, err) < 0)
        return -1;
    if (content_type)
        sb_addf(&req, "Content-Type: %s\r\n", content_type);
    sb_adds(&req, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    bool stop = false;
    int r = send_duplex(&conn, req.buf, req.len, &stop, err);
    sb_release(&req);
    if (r == 0 && !stop)
        r = send_chunked_body(&conn, body_fd, err);
    if (r == 0)
        r = cli_http_read_response(&conn, false, resp, fn, ud, err);
    cli_conn_release(&conn);
    return r;
}

/* ---- versions and errors ----------------------------------------------------------------- */

void cli_version_negotiate(const char *server_hdr, char out[16])
{
    int mine = api_version_parse(API_VERSION);
    int theirs = server_hdr ? api_version_parse(server_hdr) : -1;
    int v = theirs < 0 ? api_version_parse("1.24") : (theirs < mine ? theirs : mine);
    snprintf(out, 16, "%d.%d", v / 1000, v % 1000);
}

int cli_client_negotiate(struct cli_client *cl, struct err **err)
{
    if (cl->api_version[0])
        return 0;
    struct cli_http_resp resp;
    if (cli_client_raw(cl, "HEAD", "/_ping", NULL, NULL, 0, NULL, &resp, NULL, NULL, err) < 0)
        return -1;
    if (resp.status != 200 && resp.status != 500) {
        cli_http_resp_release(&resp);
        if (cli_client_raw(cl, "GET", "/_ping", NULL, NULL, 0, NULL, &resp, NULL, NULL, err) < 0)
            return -1;
    }
    cli_version_negotiate(cli_http_resp_header(&resp, "Api-Version"), cl->api_version);
    cli_http_resp_release(&resp);
    return 0;
}

static enum err_kind status_kind(int status)
{
    switch (status) {
    case 400:
        return ERR_INVALID;
    case 401:
        return ERR_UNAUTHORIZED;
    case 403:
        return ERR_FORBIDDEN;
    case 404:
        return ERR_NOT_FOUND;
    case 409:
        return ERR_CONFLICT;
    case 413:
        return ERR_TOO_LARGE;
    case 503:
        return ERR_UNAVAILABLE;
    default:
        return ERR_INTERNAL;
    }
}

int cli_http_status_error(const struct cli_http_resp *resp, struct err **err)
{
    const char *ct = cli_http_resp_header(resp, "Content-Type");
    _cleanup_free_ char *msg = NULL;
    if (ct && strcmp(ct, "application/json") == 0) {
        msg = api_error_decode(resp->body.buf ? resp->body.buf : "", resp->body.len);
    } else {
        /* Like docker: only an exact application/json is decoded; other bodies are text. */
        const char *b = resp->body.buf ? resp->body.buf : "";
        size_t len = resp->body.len;
        while (len > 0 && strchr(" \t\r\n", *b)) {
            b++;
            len--;
        }
        while (len > 0 && strchr(" \t\r\n", b[len - 1]))
            len--;
        msg = xstrndup(b, len);
    }
    if (!*msg)
        return err_set(err, status_kind(resp->status), 0,
                       "Error response from daemon: request returned %d %s for API route and "
                       "version, check if the server supports the requested API version",
                       resp->status, resp->reason ? resp->reason : "");
    return err_set(err, status_kind(resp->status), 0, "Error response from daemon: %s", msg);
}

int cli_client_call(struct cli_client *cl, const char *method, const char *path, json_t *req,
                    json_t **out, struct err **err)
{
    if (out)
        *out = NULL;
    if (cli_client_negotiate(cl, err) < 0)
        return -1;
    _cleanup_free_ char *vpath = xasprintf("/v%s%s", cl->api_version, path);
    _cleanup_free_ char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (req && !body)
        abort(); /* jansson fails only on OOM here */
    struct cli_http_resp resp;
    if (cli_client_raw(cl, method, vpath, body ? "application/json" : NULL, body,
                       body ? strlen(body) : 0, NULL, &resp, NULL, NULL, err) < 0)
        return -1;
    int r = 0;
    if (resp.status >= 400)
        r = cli_http_status_error(&resp, err);
    else if (out && resp.body.len > 0)
        r = api_json_parse(resp.body.buf, resp.body.len, out, err);
    if (r < 0 && resp.status < 400)
        err_wrap(err, "decoding the daemon's reply to %s %s", method, path);
    cli_http_resp_release(&resp);
    return r;
}
