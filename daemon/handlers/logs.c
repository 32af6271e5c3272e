/* SPDX-License-Identifier: Apache-2.0 */
/* GET /containers/{id}/logs: the json-file log read on the threadpool, framed, and followed. */
#include "daemon/handlers/handlers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/logs/logs.h"

#define LOGS_POLL_MS 100
/* Don't read more while the client has this much unread: memory stays bounded by it plus one
 * read, and one read by the log's rotation limits (max-size x max-file). */
#define LOGS_PENDING_MAX (4 << 20)

struct logs_ctx {
    struct httpd_req *req;
    struct ctr *c;
    char *path;
    struct logs_query q;
    bool follow, tty, timestamps;
    struct logs_pos pos;
    bool have_pos;
    bool exited; /* the container stopped: one last read, then end */
    bool aborted;
    bool reading; /* a threadpool read is in flight */
    bool ended;
    struct ctr_waiter *w;
    uv_timer_t timer;
    bool timer_open;
    uv_loop_t *loop;
};

struct logs_read {
    uv_work_t work;
    struct logs_ctx *lc;
    struct sb out;
    struct logs_pos pos;
    bool initial;
    bool after_exit; /* started after the container stopped: nothing can follow it */
    struct err *err;
};

/* since/until: Unix seconds[.fraction] as the docker CLI sends them (GetTimestamp's result), or
 * an RFC 3339 time; -1 otherwise. Absent or empty is 0 (no bound). */
static int parse_time_ns(const char *s, int64_t *ns)
{
    int64_t sec;
    long nsec;
    *ns = 0;
    if (!s || !s[0])
        return 0;
    if ((api_unix_time_parse(s, &sec, &nsec) < 0 || sec < 0) &&
        api_rfc3339_parse(s, &sec, &nsec) < 0)
        return -1;
    *ns = sec * 1000000000 + nsec;
    return 0;
}

void handle_logs_frame(const struct logs_entry *e, bool tty, bool timestamps, struct sb *out)
{
    char ts[48] = "";
    size_t tslen = 0;
    if (timestamps) {
        time_rfc3339nano(&e->time, ts);
        tslen = strlen(ts);
        ts[tslen++] = ' ';
        ts[tslen] = '\0';
    }
    if (!tty) {
        unsigned char hdr[8];
        logs_frame_header(e->stream, (uint32_t)(tslen + e->len), hdr);
        sb_add(out, hdr, sizeof(hdr));
    }
    sb_add(out, ts, tslen);
    sb_add(out, e->data, e->len);
}

static int add_entry(const struct logs_entry *e, void *data)
{
    struct logs_read *r = data;
    handle_logs_frame(e, r->lc->tty, r->lc->timestamps, &r->out);
    return 0;
}

static void read_work(uv_work_t *w)
{
    struct logs_read *r = w->data;
    struct logs_ctx *lc = r->lc;
    if (r->initial)
        (void)logs_read(lc->path, &lc->q, add_entry, r, &r->pos, &r->err);
    else
        (void)logs_read_from(lc->path, &lc->q, &r->pos, add_entry, r, &r->err);
}

static void logs_finish(struct logs_ctx *lc);
static void read_after(uv_work_t *w, int status);

static void on_timer_closed(uv_handle_t *h)
{
    struct logs_ctx *lc = h->data;
    lc->timer_open = false;
    logs_finish(lc);
}

/* Ends the response once nothing is in flight; frees lc. */
static void logs_finish(struct logs_ctx *lc)
{
    if (lc->reading)
        return;
    if (lc->timer_open) {
        if (!uv_is_closing((uv_handle_t *)&lc->timer))
            uv_close((uv_handle_t *)&lc->timer, on_timer_closed);
        return;
    }
    if (lc->w) {
        ctr_wait_cancel(lc->w);
        lc->w = NULL;
    }
    if (!lc->ended) {
        lc->ended = true;
        httpd_resp_end(lc->req);
    }
    ctr_unref(lc->c);
    free(lc->path);
    free(lc);
}

static void start_read(struct logs_ctx *lc, bool initial)
{
    struct logs_read *r = xcalloc(1, sizeof(*r));
    r->lc = lc;
    r->initial = initial;
    r->after_exit = lc->exited;
    r->pos = lc->pos;
    sb_init(&r->out);
    r->work.data = r;
    lc->reading = true;
    uv_queue_work(lc->loop, &r->work, read_work, read_after);
}

static void on_poll_timer(uv_timer_t *t)
{
    struct logs_ctx *lc = t->data;
    if (lc->aborted) {
        logs_finish(lc);
        return;
    }
    if (httpd_resp_pending(lc->req) > LOGS_PENDING_MAX) {
        uv_timer_start(&lc->timer, on_poll_timer, LOGS_POLL_MS, 0); /* the client lags */
        return;
    }
    start_read(lc, false);
}

static void read_after(uv_work_t *w, int status)
{
    struct logs_read *r = w->data;
    struct logs_ctx *lc = r->lc;
    (void)status;
    lc->reading = false;
    if (r->err && !(r->initial && r->err->errnum == ENOENT))
        log_warn("reading logs of %.12s: %s", lc->c->id, r->err->msg);
    if (r->out.len && !lc->aborted)
        httpd_resp_chunk(lc->req, r->out.buf, r->out.len);
    if (!r->err)
        lc->pos = r->pos; /* after a failed first read, following starts at the file's start */
    bool final = r->after_exit;
    err_free(r->err);
    sb_release(&r->out);
    free(r);
    if (lc->aborted || !lc->follow || final) {
        logs_finish(lc);
        return;
    }
    if (lc->exited) {
        start_read(lc, false); /* the container stopped meanwhile: one last read */
        return;
    }
    uv_timer_start(&lc->timer, on_poll_timer, LOGS_POLL_MS, 0);
}

static void on_ctr_exit(int exit_code, const char *error, void *data)
{
    struct logs_ctx *lc = data;
    (void)exit_code;
    (void)error;
    lc->w = NULL;
    lc->exited = true;
    if (!lc->reading && !lc->aborted && lc->timer_open) {
        uv_timer_stop(&lc->timer);
        start_read(lc, false);
    }
}

static void on_abort(struct httpd_req *req, void *data)
{
    struct logs_ctx *lc = data;
    (void)req;
    lc->aborted = true;
    if (!lc->reading)
        logs_finish(lc);
}

static int logs_params(struct route_req *rr, struct logs_ctx *lc, struct err **err)
{
    lc->q.out = route_query_bool(rr, "stdout", false);
    lc->q.err = route_query_bool(rr, "stderr", false);
    if (!lc->q.out && !lc->q.err)
        return err_set(err, ERR_INVALID, 0, "Bad parameters: you must choose at least one stream");
    lc->follow = route_query_bool(rr, "follow", false);
    lc->timestamps = route_query_bool(rr, "timestamps", false);
    const char *tail = route_query(rr, "tail");
    lc->q.tail = -1;
    if (tail && tail[0] && strcmp(tail, "all") != 0) {
        char *end = NULL;
        long n = strtol(tail, &end, 10);
        if (end == tail || *end)
            return err_set(err, ERR_INVALID, 0, "invalid value for tail: %s", tail);
        lc->q.tail = n < 0 ? -1 : n;
    }
    static const char *const keys[] = {"since", "until"};
    int64_t *dst[] = {&lc->q.since_ns, &lc->q.until_ns};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (parse_time_ns(route_query(rr, keys[i]), dst[i]) < 0)
            return err_set(err, ERR_INVALID, 0, "invalid value for %s: %s", keys[i],
                           route_query(rr, keys[i]));
    }
    return 0;
}

void handle_container_logs(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct ctr *c = ctr_lookup(env->ctrs, rr->params[0], &err);
    struct logs_ctx *lc = xcalloc(1, sizeof(*lc));
    if (!c || logs_params(rr, lc, &err) < 0) {
        free(lc);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    lc->c = c;
    ctr_ref(c);
    lc->tty = c->cfg.tty;
    lc->path = ctr_log_path(c);
    lc->loop = env->loop;
    bool running =
        c->status == CTR_RUNNING || c->status == CTR_PAUSED || c->status == CTR_RESTARTING;
    lc->follow = lc->follow && running;
    const char *ct = lc->tty || rr->version < 1042 ? "application/vnd.docker.raw-stream"
                                                   : "application/vnd.docker.multiplexed-stream";
    lc->req = route_detach(rr);
    httpd_resp_begin_chunked(lc->req, 200, ct);
    httpd_req_on_abort(lc->req, on_abort, lc);
    uv_timer_init(lc->loop, &lc->timer);
    lc->timer.data = lc;
    lc->timer_open = true;
    if (lc->follow)
        lc->w = ctr_wait(env->ctrs, c, CTR_WAIT_NEXT_EXIT, on_ctr_exit, lc);
    start_read(lc, true);
}
