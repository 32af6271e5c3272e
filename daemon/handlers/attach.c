/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /containers/{id}/attach, POST /containers/{id}/resize and the exec endpoints. The
 * connection is hijacked (101 when the client asked to upgrade, else 200 and the stream ends
 * with the connection), stdin the client sends before the session is ready is kept, then a
 * stream relay joins the client and the container's berth-shim.
 */
#include "daemon/handlers/handlers.h"

#include <string.h>
#include <strings.h>

#include "daemon/logs/logs.h"
#include "daemon/stream/stream.h"

#define PRE_STDIN_MAX (1 << 20)

struct hijack {
    struct handle_sessions *list;
    struct hijack *prev, *next;
    struct stream_relay *relay;
    uv_stream_t *client;
    struct ctr *c;
    struct ctr_exec *x;
    struct ctr_session *session;
    struct sb pre; /* client bytes before the session was ready */
    bool client_eof;
    bool busy; /* a log replay is being read: it frees hj if the client goes meanwhile */
    bool stdin, tty, eof_ends;
    unsigned char keys[STREAM_DETACH_MAX];
    size_t nkeys;
    bool gone;
};

static void hijack_track(struct hijack *hj, struct handle_sessions *list)
{
    hj->list = list;
    hj->next = list->head;
    if (list->head)
        list->head->prev = hj;
    list->head = hj;
}

static void hijack_untrack(struct hijack *hj)
{
    if (!hj->list)
        return;
    if (hj->prev)
        hj->prev->next = hj->next;
    else
        hj->list->head = hj->next;
    if (hj->next)
        hj->next->prev = hj->prev;
    hj->list = NULL;
}

static void hijack_free(struct hijack *hj)
{
    hijack_untrack(hj);
    sb_release(&hj->pre);
    if (hj->c)
        ctr_unref(hj->c);
    free(hj);
}

static void release_client(uv_stream_t *client, void *data)
{
    (void)data;
    httpd_hijack_close(client);
}

static void relay_exit_code(int code, void *data)
{
    struct hijack *hj = data;
    if (hj->x)
        ctr_exec_exited(hj->x, code);
}

static void relay_done(void *data)
{
    hijack_free(data);
}

static void pre_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = xmalloc(65536);
    buf->len = 65536;
}

/* Before the session is ready: keep stdin (bounded), notice EOF and a vanished client. */
static void pre_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct hijack *hj = s->data;
    if (n > 0 && hj->pre.len + (size_t)n <= PRE_STDIN_MAX)
        sb_add(&hj->pre, buf->base, (size_t)n);
    free(buf->base);
    if (n == UV_EOF) {
        hj->client_eof = true;
        uv_read_stop(s);
    } else if (n < 0) {
        /* gone before the session was ready */
        uv_read_stop(s);
        hj->gone = true;
        ctr_session_cancel(hj->session);
        hj->session = NULL;
        httpd_hijack_close(s);
        if (!hj->busy)
            hijack_free(hj);
    }
}

/* Writes text to a hijacked client as docker does for errors after the upgrade, and ends. */
static void client_error(struct hijack *hj, const char *msg)
{
    _cleanup_free_ char *text = xasprintf("%s\r\n", msg);
    struct sb out = SB_INIT;
    if (!hj->tty) {
        size_t len = strlen(text);
        unsigned char h[8] = {1,
                              0,
                              0,
                              0,
                              (unsigned char)(len >> 24),
                              (unsigned char)(len >> 16),
                              (unsigned char)(len >> 8),
                              (unsigned char)len};
        sb_add(&out, h, 8);
    }
    sb_adds(&out, text);
    uv_buf_t b = uv_buf_init(out.buf, (unsigned int)out.len);
    (void)uv_try_write(hj->client, &b, 1);
    sb_release(&out);
    uv_read_stop(hj->client);
    httpd_hijack_close(hj->client);
    hijack_free(hj);
}

static void session_ready(const struct err *err, uv_pipe_t *shim, const char *pre, size_t prelen,
                          void *data)
{
    struct hijack *hj = data;
    hj->session = NULL;
    if (err) {
        if (hj->x)
            ctr_exec_failed(
                hj->x, strstr(err->msg, "not found") || strstr(err->msg, "no such") ? 127 : 126);
        client_error(hj, err->msg);
        return;
    }
    uv_read_stop(hj->client);
    static const struct stream_relay_ops ops = {
        .exit_code = relay_exit_code, .done = relay_done, .release_client = release_client};
    struct stream_relay *r =
        stream_relay_start(hj->client, shim, hj->pre.buf, hj->pre.len, hj->client_eof, hj->stdin,
                           hj->tty, hj->eof_ends, hj->keys, hj->nkeys, &ops, hj);
    hj->relay = r; /* for handle_env_shutdown */
    stream_relay_shim_input(r, pre, prelen);
}

static bool wants_upgrade(const struct httpd_req *req)
{
    const char *up = httpd_req_header(req, "Upgrade");
    const char *conn = httpd_req_header(req, "Connection");
    return up && conn && strcasestr(conn, "upgrade");
}

static char *hijack_head(const struct httpd_req *req, bool tty, int version)
{
    const char *ct = tty || version < 1042 ? "application/vnd.docker.raw-stream"
                                           : "application/vnd.docker.multiplexed-stream";
    if (wants_upgrade(req))
        return xasprintf("HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\n"
                         "Upgrade: tcp\r\n\r\n",
                         ct);
    return xasprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ct);
}

/* ---- attach ------------------------------------------------------------------------------ */

struct attach_args {
    uv_work_t work; /* logs=1: the log is read on the threadpool first */
    struct hijack *hj;
    struct ctr_store *st;
    uv_loop_t *loop;
    bool out, err, logs, stream;
    char *log_path;
    struct sb log;
};

static void attach_session(struct attach_args *a)
{
    struct hijack *hj = a->hj;
    if (!a->stream) {
        /* logs only: they were written; the stream ends here */
        uv_read_stop(hj->client);
        httpd_hijack_close(hj->client);
        hijack_free(hj);
    } else {
        hj->session = ctr_attach(a->st, hj->c, hj->stdin, a->out, a->err, session_ready, hj);
    }
    free(a->log_path);
    sb_release(&a->log);
    free(a);
}

static int log_entry(const struct logs_entry *e, void *data)
{
    struct attach_args *a = data;
    handle_logs_frame(e, a->hj->tty, false, &a->log);
    return 0;
}

static void log_work(uv_work_t *w)
{
    struct attach_args *a = w->data;
    struct logs_query q = {.out = a->out, .err = a->err, .tail = -1};
    struct logs_pos end;
    struct err *err = NULL;
    (void)logs_read(a->log_path, &q, log_entry, a, &end, &err);
    err_free(err); /* no log yet: nothing to replay */
}

static void log_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void log_after(uv_work_t *w, int status)
{
    struct attach_args *a = w->data;
    (void)status;
    struct hijack *hj = a->hj;
    hj->busy = false;
    if (hj->gone) {
        hijack_free(hj);
        free(a->log_path);
        sb_release(&a->log);
        free(a);
        return;
    }
    if (a->log.len) {
        uv_buf_t b = uv_buf_init(a->log.buf, (unsigned int)a->log.len);
        uv_write_t *wr = xcalloc(1, sizeof(*wr) + a->log.len);
        memcpy((char *)(wr + 1), a->log.buf, a->log.len);
        b.base = (char *)(wr + 1);
        if (uv_write(wr, hj->client, &b, 1, log_written) < 0)
            free(wr);
    }
    attach_session(a);
}

static void attach_hijacked(uv_stream_t *client, const char *rest, size_t restlen, void *data)
{
    struct attach_args *a = data;
    struct hijack *hj = a->hj;
    hj->client = client;
    client->data = hj;
    if (restlen && hj->stdin)
        sb_add(&hj->pre, rest, restlen);
    uv_read_start(client, pre_alloc, pre_read);
    if (a->logs) {
        a->work.data = a;
        hj->busy = true;
        uv_queue_work(a->loop, &a->work, log_work, log_after);
        return;
    }
    attach_session(a);
}

static void handle_attach(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct ctr *c = ctr_lookup(env->ctrs, rr->params[0], &err);
    struct hijack *hj = xcalloc(1, sizeof(*hj));
    const char *keys = route_query(rr, "detachKeys");
    if (!c ||
        stream_detach_keys_parse(keys ? keys : "ctrl-p,ctrl-q", hj->keys, &hj->nkeys, &err) < 0) {
        free(hj);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    if (c->status == CTR_REMOVING || c->removed) {
        free(hj);
        route_reply_errf(rr, ERR_CONFLICT, "container %s is being removed", c->id);
        return;
    }
    hj->c = c;
    ctr_ref(c);
    sb_init(&hj->pre);
    hijack_track(hj, env->sessions);
    hj->stdin = route_query_bool(rr, "stdin", false) && c->cfg.open_stdin;
    hj->tty = c->cfg.tty;
    /* docker: a half-close closes a one-shot stdin (no tty); otherwise it ends the session */
    hj->eof_ends = c->cfg.tty || !c->cfg.stdin_once;
    if (!hj->tty)
        hj->nkeys = 0; /* detach keys are read on a terminal only: binary stdin passes as is */
    struct attach_args *a = xcalloc(1, sizeof(*a));
    a->hj = hj;
    a->st = env->ctrs;
    a->out = route_query_bool(rr, "stdout", false);
    a->err = route_query_bool(rr, "stderr", false);
    a->logs = route_query_bool(rr, "logs", false);
    a->stream = route_query_bool(rr, "stream", false) || !a->logs;
    a->log_path = ctr_log_path(c);
    a->loop = env->loop;
    sb_init(&a->log);
    _cleanup_free_ char *head = hijack_head(rr->http, hj->tty, rr->version);
    httpd_resp_hijack(route_detach(rr), head, attach_hijacked, a);
}

static int size_params(struct route_req *rr, int *h, int *w)
{
    struct err *err = NULL;
    long long hh = 0, ww = 0;
    if (route_query_int(rr, "h", &hh, &err) < 0 || route_query_int(rr, "w", &ww, &err) < 0 ||
        hh < 0 || ww < 0 || hh > 65535 || ww > 65535) {
        if (!err)
            err_set(&err, ERR_INVALID, 0, "invalid terminal size %lldx%lld", hh, ww);
        route_reply_err(rr, err);
        err_free(err);
        return -1;
    }
    *h = (int)hh;
    *w = (int)ww;
    return 0;
}

static void handle_resize(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct ctr *c = ctr_lookup(env->ctrs, rr->params[0], &err);
    int h, w;
    if (!c) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    if (size_params(rr, &h, &w) < 0)
        return;
    if (ctr_resize(env->ctrs, c, h, w, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_reply_status(rr, 200);
}

/* ---- exec -------------------------------------------------------------------------------- */

static void handle_exec_create(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_t *body = NULL;
    struct ctr *c = ctr_lookup(env->ctrs, rr->params[0], &err);
    struct ctr_exec *x = NULL;
    if (c && route_body_json(rr, false, &body, &err) == 0)
        x = ctr_exec_create(env->ctrs, c, body, &err);
    json_decref(body);
    if (!x) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_reply_json(rr, 201, json_pack("{s:s}", "Id", x->id));
}

static struct ctr_exec *find_exec(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct ctr_exec *x = ctr_exec_lookup(env->ctrs, rr->params[0], &err);
    if (!x) {
        route_reply_err(rr, err);
        err_free(err);
    }
    return x;
}

/* A detached exec: nobody reads its output, but its exit code must be recorded. */
struct exec_drain {
    struct httpd_req *req; /* answered once the session is ready */
    struct ctr_store *st;
    char id[DIGEST_HEX_LEN + 1];
    struct sb in;
};

static void drain_closed(uv_handle_t *h)
{
    struct exec_drain *d = h->data;
    sb_release(&d->in);
    free(d);
    free(h);
}

static void drain_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct exec_drain *d = s->data;
    if (n > 0)
        sb_add(&d->in, buf->base, (size_t)n);
    free(buf->base);
    while (d->in.len >= 8) {
        const unsigned char *h = (const unsigned char *)d->in.buf;
        size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
        if (d->in.len < 8 + len)
            break;
        if (h[0] == API_SHIM_FRAME_EXIT && len == 4) {
            /* looked up again: the exec may be gone with its container meanwhile */
            struct ctr_exec *x = ctr_exec_lookup(d->st, d->id, NULL);
            if (x)
                ctr_exec_exited(x, (int)((uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 |
                                         (uint32_t)h[10] << 8 | h[11]));
        }
        sb_consume(&d->in, 8 + len); /* output nobody asked for */
    }
    if (n < 0 && !uv_is_closing((uv_handle_t *)s))
        uv_close((uv_handle_t *)s, drain_closed);
}

static void exec_detached_ready(const struct err *err, uv_pipe_t *shim, const char *pre,
                                size_t prelen, void *data)
{
    struct exec_drain *d = data;
    struct httpd_req *req = d->req;
    if (err) {
        route_send_err(req, err);
        free(d);
        return;
    }
    httpd_resp_send(req, 200, NULL, NULL, 0);
    shim->data = d;
    uv_buf_t dummy = uv_buf_init(xmalloc(prelen ? prelen : 1), (unsigned int)prelen);
    memcpy(dummy.base, pre, prelen);
    drain_read((uv_stream_t *)shim, (ssize_t)prelen, &dummy);
    uv_read_start((uv_stream_t *)shim, pre_alloc, drain_read);
}

struct exec_args {
    struct hijack *hj;
    struct ctr_store *st;
};

static void exec_hijacked(uv_stream_t *client, const char *rest, size_t restlen, void *data)
{
    struct exec_args *a = data;
    struct hijack *hj = a->hj;
    hj->client = client;
    client->data = hj;
    if (restlen && hj->stdin)
        sb_add(&hj->pre, rest, restlen);
    uv_read_start(client, pre_alloc, pre_read);
    ctr_exec_start(a->st, hj->x, false, session_ready, hj);
    free(a);
}

static void handle_exec_start(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr_exec *x = find_exec(rr);
    if (!x)
        return;
    struct err *err = NULL;
    json_t *body = NULL;
    if (route_body_json(rr, true, &body, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    bool detach = json_is_true(json_object_get(body, "Detach"));
    int r = x->started ? 0 : ctr_exec_console_size(x, body, &err);
    json_decref(body);
    if (r < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    if (x->started) {
        route_reply_errf(rr, ERR_CONFLICT, "Error: Exec command %s has already run", x->id);
        return;
    }
    if (detach) {
        struct exec_drain *d = xcalloc(1, sizeof(*d));
        d->st = env->ctrs;
        snprintf(d->id, sizeof(d->id), "%s", x->id);
        sb_init(&d->in);
        d->req = route_detach(rr);
        ctr_exec_start(env->ctrs, x, true, exec_detached_ready, d);
        return;
    }
    struct hijack *hj = xcalloc(1, sizeof(*hj));
    hj->x = x;
    sb_init(&hj->pre);
    hijack_track(hj, env->sessions);
    hj->stdin = x->attach_stdin;
    hj->tty = x->tty;
    hj->eof_ends = x->tty;
    if (stream_detach_keys_parse(x->detach_keys[0] ? x->detach_keys : "ctrl-p,ctrl-q", hj->keys,
                                 &hj->nkeys, &err) < 0) {
        free(hj);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    if (!hj->tty)
        hj->nkeys = 0;
    struct exec_args *a = xcalloc(1, sizeof(*a));
    a->hj = hj;
    a->st = env->ctrs;
    _cleanup_free_ char *head = hijack_head(rr->http, hj->tty, rr->version);
    httpd_resp_hijack(route_detach(rr), head, exec_hijacked, a);
}

static void handle_exec_inspect(struct route_req *rr)
{
    struct ctr_exec *x = find_exec(rr);
    if (x)
        route_reply_json(rr, 200, ctr_exec_inspect(x));
}

static void handle_exec_resize(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr_exec *x = find_exec(rr);
    int h, w;
    if (!x || size_params(rr, &h, &w) < 0)
        return;
    struct err *err = NULL;
    if (ctr_exec_resize(env->ctrs, x, h, w, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_reply_status(rr, 200);
}

void handle_env_shutdown(struct handle_env *env)
{
    if (env->events)
        events_end_all(env->events); /* GET /events streams end too */
    struct hijack *hj = env->sessions ? env->sessions->head : NULL;
    while (hj) {
        struct hijack *next = hj->next;
        hijack_untrack(hj);
        if (hj->relay)
            stream_relay_stop(hj->relay); /* frees hj through relay_done */
        hj = next;
    }
}

const struct route handle_attach_routes[] = {
    {.method = "POST", .pattern = "/containers/{id}/attach", .fn = handle_attach},
    {.method = "POST", .pattern = "/containers/{id}/resize", .fn = handle_resize},
    {.method = "POST", .pattern = "/containers/{id}/exec", .fn = handle_exec_create},
    {.method = "POST", .pattern = "/exec/{id}/start", .fn = handle_exec_start},
    {.method = "POST", .pattern = "/exec/{id}/resize", .fn = handle_exec_resize},
    {.method = "GET", .pattern = "/exec/{id}/json", .fn = handle_exec_inspect},
    {.method = NULL},
};
