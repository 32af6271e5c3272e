/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hijacked connections and the copy loop of an attached session (docker's hijack.go): the
 * Upgrade request and its 101, the wait request whose head is read before start, the poll
 * loop between stdin, the socket, stdout/stderr and the signal pipe, and resizes.
 */
#include "client/attach.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "client/images.h"

#define PUMP_BUF     (32 * 1024)
#define PENDING_HEAD (64 * 1024)

int cli_hijack_response(struct cli_conn *c, struct err **err)
{
    struct cli_http_resp resp;
    if (cli_http_read_response(c, false, &resp, NULL, NULL, err) < 0)
        return -1;
    int r = 0;
    if (resp.status >= 400)
        r = cli_http_status_error(&resp, err);
    else if (resp.status != 101)
        r = err_set(err, ERR_INTERNAL, 0, "unable to upgrade to tcp, received %d", resp.status);
    cli_http_resp_release(&resp);
    return r;
}

int cli_hijack_open(struct cli_client *cl, const char *method, const char *path, json_t *body,
                    struct cli_conn *c, struct err **err)
{
    if (cli_client_negotiate(cl, err) < 0)
        return -1;
    int fd = -1;
    if (cli_client_connect(cl, &fd, err) < 0)
        return -1;
    cli_conn_init(c, fd);
    _cleanup_free_ char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !data)
        abort(); /* jansson fails only on OOM here */
    struct sb req = SB_INIT;
    sb_addf(
        &req,
        "%s /v%s%s HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli/%s\r\n"
        "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
        method, cl->api_version, path, BERTH_VERSION, data ? "application/json" : "text/plain",
        data ? strlen(data) : 0);
    if (data)
        sb_adds(&req, data);
    int r = cli_send_all(fd, req.buf, req.len, err);
    sb_release(&req);
    if (r == 0)
        r = cli_hijack_response(c, err);
    if (r < 0)
        cli_conn_release(c);
    return r;
}

/* ---- a reply read in two steps ---------------------------------------------------------- */

static bool head_complete(const struct sb *b)
{
    return b->len && (memmem(b->buf, b->len, "\r\n\r\n", 4) || memmem(b->buf, b->len, "\n\n", 2));
}

int cli_pending_post(struct cli_client *cl, struct cli_pending *p, const char *path,
                     struct err **err)
{
    memset(p, 0, sizeof(*p));
    if (cli_client_negotiate(cl, err) < 0)
        return -1;
    int fd = -1;
    if (cli_client_connect(cl, &fd, err) < 0)
        return -1;
    cli_conn_init(&p->conn, fd);
    p->open = true;
    _cleanup_free_ char *req =
        xasprintf("POST /v%s%s HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli/%s\r\n"
                  "Content-Length: 0\r\nConnection: close\r\n\r\n",
                  cl->api_version, path, BERTH_VERSION);
    if (cli_send_all(fd, req, strlen(req), err) < 0)
        return -1;
    /* The head is read now and left in rbuf, where cli_http_read_response finds it later. */
    struct sb *b = &p->conn.rbuf;
    while (!head_complete(b)) {
        if (b->len > PENDING_HEAD)
            return err_set(err, ERR_TOO_LARGE, 0, "the daemon's response headers are too long");
        sb_grow(b, 4096);
        ssize_t n = read(fd, b->buf + b->len, b->cap - b->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "reading the daemon's response");
        if (n == 0)
            return err_set(err, ERR_SYSTEM, 0, "reading the daemon's response: unexpected EOF");
        b->len += (size_t)n;
        b->buf[b->len] = '\0';
    }
    if (b->len < 12 || strncmp(b->buf, "HTTP/1.", 7) != 0)
        return err_set(err, ERR_INVALID, 0, "malformed HTTP response from the daemon");
    p->status = atoi(b->buf + 9);
    return 0;
}

int cli_pending_wait_status(struct cli_pending *p, int *code, struct err **err)
{
    struct cli_http_resp resp;
    int r = cli_http_read_response(&p->conn, false, &resp, NULL, NULL, err);
    if (r == 0 && resp.status >= 400)
        r = cli_http_status_error(&resp, err);
    json_auto_t *j = NULL;
    if (r == 0)
        r = api_json_parse(resp.body.buf ? resp.body.buf : "", resp.body.len, &j, err);
    if (r == 0) {
        json_t *e = json_object_get(j, "Error");
        const char *msg = json_string_value(json_object_get(e, "Message"));
        if (msg)
            r = err_set(err, ERR_INTERNAL, 0, "%s", msg);
        else
            *code = (int)json_integer_value(json_object_get(j, "StatusCode"));
    }
    cli_http_resp_release(&resp);
    return r;
}

void cli_pending_release(struct cli_pending *p)
{
    if (p->open)
        cli_conn_release(&p->conn);
    p->open = false;
}

/* ---- the copy loop ---------------------------------------------------------------------- */

void cli_pump_init(struct cli_pump *p, struct cli_conn *conn, int in_fd, FILE *out, FILE *errf,
                   bool want_out, bool tty, const unsigned char *keys, size_t nkeys)
{
    memset(p, 0, sizeof(*p));
    p->conn = conn;
    p->in_fd = in_fd;
    p->want_out = want_out;
    p->tty = tty;
    p->sig_fd = -1;
    cli_demux_init(&p->demux, out, errf, tty);
    cli_escape_init(&p->esc, keys, tty && in_fd >= 0 ? nkeys : 0);
    sb_init(&p->pending);
}

void cli_pump_release(struct cli_pump *p)
{
    sb_release(&p->pending);
}

/* stdin is finished: once the queued bytes are out, the daemon sees EOF. */
static void pump_close_write(struct cli_pump *p)
{
    p->in_done = true;
    if (p->pending.len == 0 && !p->half_closed) {
        shutdown(p->conn->fd, SHUT_WR);
        p->half_closed = true;
    }
}

/* Reads what stdin has (one read). */
static void pump_read_stdin(struct cli_pump *p)
{
    char buf[PUMP_BUF];
    ssize_t n = read(p->in_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        cli_escape_flush(&p->esc, &p->pending);
        pump_close_write(p);
        return;
    }
    if (cli_escape_feed(&p->esc, buf, (size_t)n, &p->pending))
        p->detached = true;
}

/* Sends queued stdin bytes without blocking (or blocking, at a detach). */
static void pump_write_socket(struct cli_pump *p, bool block)
{
    while (p->pending.len > 0) {
        ssize_t n = send(p->conn->fd, p->pending.buf, p->pending.len,
                         MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0) {
            /* The daemon stopped reading: stdin goes nowhere, output may still come. */
            sb_reset(&p->pending);
            p->in_done = true;
            p->half_closed = true;
            return;
        }
        sb_consume(&p->pending, (size_t)n);
    }
    if (p->in_done && !p->half_closed)
        pump_close_write(p);
}

int cli_pump_prime(struct cli_pump *p, struct err **err)
{
    (void)err;
    if (p->in_fd < 0) {
        pump_close_write(p); /* no stdin: the daemon learns it at once */
        return 0;
    }
    for (int rounds = 0; rounds < 1024 && !p->in_done && !p->detached; rounds++) {
        if (p->pending.len > 0) {
            pump_write_socket(p, false);
            if (p->pending.len > 0)
                return 0; /* the daemon is not reading yet */
        }
        struct pollfd pfd = {.fd = p->in_fd, .events = POLLIN};
        if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            break;
        pump_read_stdin(p);
    }
    pump_write_socket(p, false);
    return 0;
}

static int pump_read_socket(struct cli_pump *p, bool *eof, struct err **err)
{
    char buf[PUMP_BUF];
    ssize_t n = read(p->conn->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0 && errno == ECONNRESET)
        n = 0;
    if (n < 0)
        return err_set(err, ERR_SYSTEM, errno, "reading the container's output");
    if (n == 0) {
        *eof = true;
        return 0;
    }
    return cli_demux_feed(&p->demux, buf, (size_t)n, err);
}

static void pump_signals(struct cli_pump *p)
{
    for (int sig; (sig = cli_signals_next(p->sig_fd)) > 0;) {
        if (p->on_signal)
            p->on_signal(sig, p->ud);
    }
}

enum cli_pump_end cli_pump_run(struct cli_pump *p, struct err **err)
{
    /* Stream bytes that came in with the 101. */
    if (p->conn->rbuf.len > 0) {
        int r = cli_demux_feed(&p->demux, p->conn->rbuf.buf, p->conn->rbuf.len, err);
        sb_reset(&p->conn->rbuf);
        if (r < 0)
            return CLI_PUMP_ERROR;
    }
    if (p->in_fd < 0 && !p->in_done)
        pump_close_write(p);
    for (;;) {
        if (p->detached) {
            pump_write_socket(p, true);
            shutdown(p->conn->fd, SHUT_WR);
            return CLI_PUMP_DETACHED;
        }
        if (p->in_done && p->pending.len == 0 && !p->want_out)
            return CLI_PUMP_EOF;
        struct pollfd pfd[3];
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){.fd = p->conn->fd,
                                   .events = (short)(POLLIN | (p->pending.len ? POLLOUT : 0))};
        int in_i = -1, sig_i = -1;
        if (!p->in_done && p->pending.len == 0) {
            in_i = (int)n;
            pfd[n++] = (struct pollfd){.fd = p->in_fd, .events = POLLIN};
        }
        if (p->sig_fd >= 0) {
            sig_i = (int)n;
            pfd[n++] = (struct pollfd){.fd = p->sig_fd, .events = POLLIN};
        }
        int r = poll(pfd, n, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err_set(err, ERR_SYSTEM, errno, "poll");
            return CLI_PUMP_ERROR;
        }
        if (sig_i >= 0 && pfd[sig_i].revents)
            pump_signals(p);
        if (pfd[0].revents & POLLOUT)
            pump_write_socket(p, false);
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            bool eof = false;
            if (pump_read_socket(p, &eof, err) < 0)
                return CLI_PUMP_ERROR;
            if (eof)
                return CLI_PUMP_EOF;
        }
        if (in_i >= 0 && (pfd[in_i].revents & (POLLIN | POLLHUP | POLLERR))) {
            pump_read_stdin(p);
            pump_write_socket(p, false);
        }
    }
}

/* ---- resize and signals ----------------------------------------------------------------- */

int cli_resize(struct cli_client *cl, const char *id, bool exec, unsigned h, unsigned w,
               struct err **err)
{
    struct sb path = SB_INIT;
    sb_adds(&path, exec ? "/exec/" : "/containers/");
    cli_path_escape(id, &path);
    sb_addf(&path, "/resize?h=%u&w=%u", h, w);
    int r = cli_client_call(cl, "POST", path.buf, NULL, NULL, err);
    sb_release(&path);
    return r;
}

static int resize_now(struct cli_ctx *ctx, const char *id, bool exec)
{
    unsigned h = 0, w = 0;
    struct cli_client *cl = NULL;
    _cleanup_err_ struct err *e = NULL;
    if (cli_term_size(STDOUT_FILENO, &h, &w) < 0 || (h == 0 && w == 0))
        return 0;
    if (cli_ctx_client(ctx, &cl, &e) < 0 || cli_resize(cl, id, exec, h, w, &e) < 0)
        return -1;
    return 0;
}

void cli_resize_init(struct cli_ctx *ctx, const char *id, bool exec)
{
    if (resize_now(ctx, id, exec) == 0)
        return;
    for (int retry = 0; retry < 10; retry++) {
        struct timespec ts = {.tv_nsec = (long)(retry + 1) * 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (resize_now(ctx, id, exec) == 0)
            return;
    }
    fprintf(ctx->errf, "failed to resize tty, using default size\n");
}

void cli_session_signal(int sig, void *ud)
{
    struct cli_session *s = ud;
    char buf[16];
    const char *name = cli_signal_name(sig, buf);
    if (s->proxy && name) {
        struct cli_client *cl = NULL;
        _cleanup_err_ struct err *e = NULL;
        struct sb path = SB_INIT;
        sb_adds(&path, "/containers/");
        cli_path_escape(s->id, &path);
        sb_addf(&path, "/kill?signal=%s", name);
        if (cli_ctx_client(s->ctx, &cl, &e) == 0)
            cli_client_call(cl, "POST", path.buf, NULL, NULL, &e);
        sb_release(&path);
        if (e && s->ctx->debug)
            fprintf(s->ctx->errf, "Error sending signal: %s\n", e->msg);
    }
    if (sig == SIGWINCH && s->resize)
        resize_now(s->ctx, s->id, s->exec);
    if (sig == SIGINT || sig == SIGTERM) {
        /* docker's CLI gives up on the third one. */
        if (++s->interrupts >= 3) {
            cli_term_restore();
            fprintf(s->ctx->errf, "\ngot 3 SIGTERM/SIGINTs, forcefully exiting\n");
            exit(1);
        }
    }
}
