/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client: libcurl's multi-socket interface on the libuv loop. curl tells us which sockets
 * to watch (CURLMOPT_SOCKETFUNCTION -> one uv_poll_t per socket) and when to wake it
 * (CURLMOPT_TIMERFUNCTION -> one uv_timer_t); we call curl_multi_socket_action from those
 * callbacks and then collect finished transfers. Handles are freed in their close callbacks;
 * the client itself goes once every handle has closed and every operation has finished.
 */
#include "daemon/registry/internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CONNECT_TIMEOUT_S 15
#define LOW_SPEED_BYTES   1024
#define LOW_SPEED_TIME_S  30
#define RECV_BUFFER       (128 * 1024)
#define SYSTEM_CA_PATH    "/etc/ssl/certs"

struct reg_sock {
    uv_poll_t poll;
    struct reg_client *c;
    struct reg_sock *prev, *next;
    curl_socket_t fd;
};

/* ---- sockets and the timer ------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
    struct reg_client *c = h->data;
    c->handles--;
    reg_client_maybe_free(c);
}

static void on_sock_closed(uv_handle_t *h)
{
    struct reg_sock *k = (struct reg_sock *)h;
    struct reg_client *c = k->c;
    free(k);
    c->handles--;
    reg_client_maybe_free(c);
}

static void sock_close(struct reg_sock *k)
{
    struct reg_client *c = k->c;
    if (k->prev)
        k->prev->next = k->next;
    else
        c->socks = k->next;
    if (k->next)
        k->next->prev = k->prev;
    uv_poll_stop(&k->poll);
    uv_close((uv_handle_t *)&k->poll, on_sock_closed);
}

static void client_teardown(struct reg_client *c);

/* Hands every finished transfer to its owner. */
static void dispatch(struct reg_client *c)
{
    CURLMsg *msg;
    int left;
    c->dispatching++;
    while (!c->torn_down && (msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        struct reg_xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(c->multi, easy);
        x->in_multi = false;
        x->done(x, rc);
    }
    c->dispatching--;
    if (c->closing && c->dispatching == 0)
        client_teardown(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct reg_sock *k = (struct reg_sock *)h;
    struct reg_client *c = k->c;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running = 0;
    curl_multi_socket_action(c->multi, k->fd, flags, &running);
    dispatch(c);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct reg_client *c = userp;
    struct reg_sock *k = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            if (!c->torn_down)
                curl_multi_assign(c->multi, fd, NULL);
            sock_close(k);
        }
        return 0;
    }
    if (!k) {
        k = xcalloc(1, sizeof(*k));
        if (uv_poll_init_socket(c->loop, &k->poll, fd) < 0) {
            free(k);
            return -1;
        }
        k->c = c;
        k->fd = fd;
        k->next = c->socks;
        if (c->socks)
            c->socks->prev = k;
        c->socks = k;
        c->handles++;
        curl_multi_assign(c->multi, fd, k);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&k->poll, ev, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    struct reg_client *c = t->data;
    int running = 0;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    dispatch(c);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct reg_client *c = userp;
    if (c->torn_down)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static void on_defer(uv_timer_t *t)
{
    struct reg_client *c = t->data;
    c->dispatching++;
    reg_op_run_deferred(c);
    c->dispatching--;
    if (c->closing && c->dispatching == 0)
        client_teardown(c);
}

void reg_client_defer(struct reg_client *c)
{
    if (!c->torn_down)
        uv_timer_start(&c->defer, on_defer, 0, 0);
}

/* ---- configuration --------------------------------------------------------------------- */

static char **strv_copy(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = xcalloc(n + 1, sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(v[i]);
    return out;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void read_into(const char *dir, const char *name, struct sb *sb)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    char *data = NULL;
    size_t len = 0;
    if (fsu_read_file(path, REG_SMALL_BODY_MAX, &data, &len) < 0) {
        log_warn("registry: cannot read %s", path);
        return;
    }
    sb_add(sb, data, len);
    sb_addc(sb, '\n');
    free(data);
}

static bool has_entry(struct dirent **ents, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, name) == 0)
            return true;
    }
    return false;
}

/* name with its suffix old replaced by suffix new. */
static char *swap_suffix(const char *name, const char *old, const char *new)
{
    return xasprintf("%.*s%s", (int)(strlen(name) - strlen(old)), name, new);
}

/*
 * One certs.d/<host[:port]> directory, as docker reads it: every *.crt is a CA (added to the
 * system's), every *.cert needs the *.key of the same name and the reverse; a lone half makes
 * the host unusable (t->error, docker's message). curl takes one client pair: the first by
 * name, as Go's TLS offers the first of several when the server names no CA.
 */
static void load_host(struct reg_host_tls *t, const char *hd)
{
    struct dirent **ents = NULL;
    int n = scandir(hd, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *f = ents[i]->d_name;
        if (has_suffix(f, ".crt")) {
            read_into(hd, f, &t->ca);
        } else if (has_suffix(f, ".cert")) {
            _cleanup_free_ char *key = swap_suffix(f, ".cert", ".key");
            if (!has_entry(ents, n, key) && !t->error)
                t->error = xasprintf("missing key %s for client certificate %s. CA "
                                     "certificates must use the extension .crt",
                                     key, f);
            else if (t->crt.len == 0) {
                read_into(hd, f, &t->crt);
                read_into(hd, key, &t->key);
            }
        } else if (has_suffix(f, ".key")) {
            _cleanup_free_ char *crt = swap_suffix(f, ".key", ".cert");
            if (!has_entry(ents, n, crt) && !t->error)
                t->error = xasprintf("missing client certificate %s for key %s", crt, f);
        }
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    if (t->error) {
        char *msg = xasprintf("%s: %s", hd, t->error);
        free(t->error);
        t->error = msg;
        log_warn("registry: %s", t->error);
    }
}

/* Reads certs.d once, at start-up (blocking is fine there): CAs, client cert and key. */
static void load_certs(struct reg_client *c, const char *certs_dir)
{
    DIR *d = certs_dir ? opendir(certs_dir) : NULL;
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *hd = xasprintf("%s/%s", certs_dir, de->d_name);
        struct stat st;
        if (stat(hd, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        struct reg_host_tls t = {.host = xstrdup(de->d_name)};
        load_host(&t, hd);
        c->tls = xrealloc(c->tls, (c->ntls + 1) * sizeof(*c->tls));
        c->tls[c->ntls++] = t;
    }
    closedir(d);
}

const struct reg_host_tls *reg_client_tls(struct reg_client *c, const char *hostport)
{
    for (size_t i = 0; i < c->ntls; i++) {
        if (strcmp(c->tls[i].host, hostport) == 0)
            return &c->tls[i];
    }
    return NULL;
}

/* "host", "host:port", "[v6]:port" -> host without brackets and port. */
static char *host_only(const char *hostport)
{
    if (hostport[0] == '[') {
        const char *e = strchr(hostport, ']');
        return e ? xstrndup(hostport + 1, (size_t)(e - hostport - 1)) : xstrdup(hostport);
    }
    const char *colon = strchr(hostport, ':');
    return colon ? xstrndup(hostport, (size_t)(colon - hostport)) : xstrdup(hostport);
}

static bool cidr_match(const char *cidr, const char *host)
{
    _cleanup_free_ char *net = xstrdup(cidr);
    char *slash = strchr(net, '/');
    *slash = '\0';
    char *end = NULL;
    long bits = strtol(slash + 1, &end, 10);
    unsigned char a[16], b[16];
    int fam = strchr(net, ':') ? AF_INET6 : AF_INET;
    int len = fam == AF_INET ? 4 : 16;
    if (*end || bits < 0 || bits > len * 8 || inet_pton(fam, net, a) != 1 ||
        inet_pton(fam, host, b) != 1)
        return false;
    for (long i = 0; i < bits; i++) {
        int m = 0x80 >> (i % 8);
        if ((a[i / 8] & m) != (b[i / 8] & m))
            return false;
    }
    return true;
}

/*
 * Insecure: listed as host[:port], inside a listed CIDR, or loopback (as docker always treats
 * 127.0.0.0/8). Names are not resolved to match CIDRs: that would block the loop.
 */
bool reg_client_insecure(struct reg_client *c, const char *hostport)
{
    _cleanup_free_ char *host = host_only(hostport);
    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
        cidr_match("127.0.0.0/8", host))
        return true;
    for (size_t i = 0; c->insecure[i]; i++) {
        const char *e = c->insecure[i];
        if (strchr(e, '/') ? cidr_match(e, host)
                           : (strcmp(e, hostport) == 0 || strcmp(e, host) == 0))
            return true;
    }
    return false;
}

bool reg_client_plain(struct reg_client *c, const char *hostport)
{
    for (size_t i = 0; i < c->nplain; i++) {
        if (strcmp(c->plain[i], hostport) == 0)
            return true;
    }
    return false;
}

void reg_client_set_plain(struct reg_client *c, const char *hostport)
{
    if (reg_client_plain(c, hostport) || c->nplain >= 256)
        return;
    c->plain = xrealloc(c->plain, (c->nplain + 1) * sizeof(*c->plain));
    c->plain[c->nplain++] = xstrdup(hostport);
}

/* ---- life cycle ------------------------------------------------------------------------ */

static CURLM *client_multi(struct reg_client *c)
{
    if (c->multi)
        return c->multi;
    c->multi = curl_multi_init();
    if (!c->multi)
        abort();
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
    return c->multi;
}

struct reg_client *reg_client_new(uv_loop_t *loop, const struct reg_config *cfg)
{
    struct reg_client *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->insecure = strv_copy(cfg->insecure);
    c->mirrors = strv_copy(cfg->mirrors);
    c->user_agent = xstrdup(cfg->user_agent ? cfg->user_agent : "berth/" BERTH_VERSION);
    c->low_speed_time = cfg->low_speed_time ? (long)cfg->low_speed_time : LOW_SPEED_TIME_S;
    c->certs_dir = cfg->certs_dir ? xstrdup(cfg->certs_dir) : NULL;
    load_certs(c, cfg->certs_dir);
    /* The curl multi handle (and with it libcurl's and the TLS library's initialisation) is
     * made at the first transfer: an idle daemon never pays for them. */
    uv_timer_init(loop, &c->timer);
    uv_timer_init(loop, &c->defer);
    c->timer.data = c;
    c->defer.data = c;
    c->handles = 2;
    return c;
}

void reg_client_maybe_free(struct reg_client *c)
{
    if (!c->torn_down || c->handles > 0 || c->ops)
        return;
    strv_free(c->insecure);
    strv_free(c->mirrors);
    free(c->user_agent);
    free(c->certs_dir);
    for (size_t i = 0; i < c->ntls; i++) {
        free(c->tls[i].host);
        sb_release(&c->tls[i].ca);
        sb_release(&c->tls[i].crt);
        sb_release(&c->tls[i].key);
        free(c->tls[i].error);
    }
    free(c->tls);
    while (c->tokens)
        reg_token_drop(c, c->tokens->key);
    for (size_t i = 0; i < c->nplain; i++)
        free(c->plain[i]);
    free(c->plain);
    free(c);
}

/* Runs once no dispatch is on the stack and every transfer has left the multi handle. */
static void client_teardown(struct reg_client *c)
{
    if (c->torn_down)
        return;
    c->torn_down = true;
    curl_multi_cleanup(c->multi); /* may still report sockets to remove */
    c->multi = NULL;
    while (c->socks)
        sock_close(c->socks);
    uv_timer_stop(&c->timer);
    uv_timer_stop(&c->defer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->defer, on_handle_closed);
}

void reg_client_free(struct reg_client *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    for (struct reg_op *op = c->ops; op; op = op->next)
        op->cancelled = true;
    c->dispatching++;
    reg_op_run_deferred(c);
    c->dispatching--;
    if (c->dispatching == 0)
        client_teardown(c);
}

/* ---- transfers ------------------------------------------------------------------------- */

static size_t on_header(char *p, size_t size, size_t n, void *data)
{
    struct reg_xfer *x = data;
    size_t len = size * n;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new response head (after a 100 or an auth round): forget the last one's. */
        const char *sp = memchr(p, ' ', len);
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        free(x->www_bearer);
        free(x->content_type);
        free(x->location);
        x->www_bearer = x->content_type = x->location = NULL;
        x->www_basic = false;
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon || len > 16384)
        return len;
    size_t kl = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vl = len - kl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (kl == 16 && strncasecmp(p, "WWW-Authenticate", kl) == 0) {
        if (vl > 7 && strncasecmp(v, "Bearer ", 7) == 0 && !x->www_bearer)
            x->www_bearer = xstrndup(v + 7, vl - 7);
        else if (vl >= 5 && strncasecmp(v, "Basic", 5) == 0)
            x->www_basic = true;
    } else if (kl == 12 && strncasecmp(p, "Content-Type", kl) == 0 && !x->content_type) {
        x->content_type = xstrndup(v, vl);
    } else if (kl == 8 && strncasecmp(p, "Location", kl) == 0 && !x->location) {
        x->location = xstrndup(v, vl);
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
    struct reg_xfer *x = data;
    size_t len = size * n;
    bool ok = x->status >= 200 && x->status < 300;
    if (ok && x->sink)
        return x->sink(x, p, len);
    size_t max = ok ? x->body_max : REG_SMALL_BODY_MAX;
    if (x->body.len + len > max) {
        x->overflow = true;
        return 0;
    }
    sb_add(&x->body, p, len);
    return len;
}

struct reg_xfer *reg_xfer_new(struct reg_client *c, const char *url, void *owner)
{
    struct reg_xfer *x = xcalloc(1, sizeof(*x));
    x->c = c;
    x->url = xstrdup(url);
    x->owner = owner;
    x->body_max = REG_SMALL_BODY_MAX;
    x->easy = curl_easy_init();
    if (!x->easy)
        abort();
    return x;
}

void reg_xfer_header(struct reg_xfer *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *h = xvasprintf(fmt, ap);
    va_end(ap);
    struct curl_slist *l = curl_slist_append(x->hdrs, h);
    if (!l)
        abort();
    x->hdrs = l;
}

/* The host[:port] of url as certs.d names it (no default port). */
static char *url_hostport(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    char *out = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        out = port ? xasprintf("%s:%s", host, port) : xstrdup(host);
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return out;
}

const char *reg_client_tls_error(struct reg_client *c, const char *url)
{
    if (strncmp(url, "https://", 8) != 0)
        return NULL;
    _cleanup_free_ char *hp = url_hostport(url);
    const struct reg_host_tls *t = hp ? reg_client_tls(c, hp) : NULL;
    return t ? t->error : NULL;
}

/*
 * Notes a TLS CertificateRequest among the handshake messages curl reports (OpenSSL backends
 * report them only in verbose mode, hence CURLOPT_VERBOSE with this sink). In TLS 1.3 a server
 * that wants a client certificate rejects its absence after the client's side of the handshake
 * is over, so curl sees a reset or an alert by race; this is how the message can say why.
 * A handshake message is its type byte (13) and a 24-bit length covering the rest; record
 * headers (types 20 to 24), alerts (2 bytes) and content types never look like one.
 */
static int on_debug(CURL *e, curl_infotype type, char *data, size_t n, void *userp)
{
    struct reg_xfer *x = userp;
    (void)e;
    if (type != CURLINFO_SSL_DATA_IN || n < 4)
        return 0;
    const unsigned char *p = (const unsigned char *)data;
    size_t len = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (p[0] == 13 && len == n - 4)
        x->cert_requested = true;
    return 0;
}

char *reg_xfer_strerror(struct reg_xfer *x, CURLcode rc)
{
    const char *what = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    const char *dir = x->c->certs_dir ? x->c->certs_dir : "certs.d";
    _cleanup_free_ char *hp = url_hostport(x->url);
    if (rc == CURLE_PEER_FAILED_VERIFICATION && strstr(what, "certificate problem"))
        return xasprintf("tls: failed to verify certificate: %s (the registry's CA goes in "
                         "%s/%s/*.crt)",
                         what, dir, hp ? hp : "");
    if (rc == CURLE_PEER_FAILED_VERIFICATION) /* the name, not the issuer */
        return xasprintf("tls: failed to verify certificate: %s", what);
    if (!x->cert_requested || x->status != 0)
        return xstrdup(what);
    const struct reg_host_tls *t = hp ? reg_client_tls(x->c, hp) : NULL;
    if (t && t->crt.len && t->key.len)
        return xasprintf("tls: the registry did not accept the client certificate in %s/%s (%s)",
                         dir, hp, what);
    return xasprintf("tls: the registry requires a client certificate and %s/%s has no *.cert "
                     "and *.key pair (%s)",
                     dir, hp ? hp : "", what);
}

void reg_xfer_setup(struct reg_xfer *x, bool verify)
{
    struct reg_client *c = x->c;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* redirects are ours: see ops.c */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->low_speed_time);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)RECV_BUFFER);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, x);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L); /* for on_debug; nothing is printed */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (x->post) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->post);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(x->post));
    }
    _cleanup_free_ char *hp = url_hostport(x->url);
    const struct reg_host_tls *t = hp ? reg_client_tls(c, hp) : NULL;
    if (t && t->ca.len) {
        struct curl_blob b = {.data = t->ca.buf, .len = t->ca.len, .flags = CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
        curl_easy_setopt(e, CURLOPT_CAPATH, SYSTEM_CA_PATH); /* and the system's CAs */
    }
    if (t && t->crt.len && t->key.len) {
        struct curl_blob cb = {.data = t->crt.buf, .len = t->crt.len, .flags = CURL_BLOB_COPY};
        struct curl_blob kb = {.data = t->key.buf, .len = t->key.len, .flags = CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cb);
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &kb);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
}

void reg_xfer_start(struct reg_xfer *x)
{
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    if (curl_multi_add_handle(client_multi(x->c), x->easy) != CURLM_OK)
        abort();
    x->in_multi = true;
}

void reg_xfer_stop(struct reg_xfer *x)
{
    if (x && x->in_multi) {
        curl_multi_remove_handle(x->c->multi, x->easy);
        x->in_multi = false;
    }
}

void reg_xfer_resume(struct reg_xfer *x)
{
    if (!x->in_multi)
        return;
    struct reg_client *c = x->c;
    curl_easy_pause(x->easy, CURLPAUSE_CONT);
    dispatch(c); /* the transfer may have ended while its data was delivered */
}

void reg_xfer_free(struct reg_xfer *x)
{
    if (!x)
        return;
    reg_xfer_stop(x);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hdrs);
    free(x->url);
    free(x->www_bearer);
    free(x->content_type);
    free(x->location);
    free(x->post);
    sb_release(&x->body);
    free(x);
}
