/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One client connection: reading, the parse loop, timers, writes, errors httpd answers itself,
 * closing and hijack. A connection handles one request at a time; while a request is being
 * handled, later input stays unparsed in c->in (bounded: reading stops above
 * HTTPD_READ_BOUND), so pipelined requests are answered strictly in order.
 *
 * EOF policy. EOF while no request is being handled closes the connection (once queued output
 * is written). EOF while a request is being handled fires the request's abort callback, as Go's
 * server cancels its request context, so long polls and streams can stop; but the connection
 * stays open for writing: a client that sent a whole request and then shut down its write side
 * (curl, the docker CLI) still gets its response, and pipelined requests already received are
 * still answered. Output is dropped only when the connection has really failed (a write or
 * read error), which also fires the abort callback if it has not run.
 *
 * A streamed body (body.c) changes two things: a request is delivered at its headers, and the
 * connection keeps it as sreq until its body is over and its end callback ran; only then is the
 * next request parsed. An EOF while sreq's body is still coming is not yet an abort: the
 * buffered input may hold the rest of the body, so the body pump decides.
 *
 * Memory: the conn is freed only after its handles (pipe, two timers) are closed. A request
 * outlives its connection if the handler has not ended it: conn_close() detaches it. A streamed
 * request whose end callback is owed gets it from conn_free(), a close callback.
 */
#include "daemon/httpd/httpd_int.h"

#include <errno.h>
#include <string.h>

struct wreq {
    uv_write_t w;
    struct conn *c;
    char *buf; /* owned */
    size_t len;
};

static void conn_on_timer(uv_timer_t *t);
static void conn_process(struct conn *c);

struct conn *conn_new(struct httpd *h)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    c->h = h;
    uv_pipe_init(h->loop, &c->pipe, 0);
    uv_timer_init(h->loop, &c->timer);
    c->timer.data = c;
    uv_timer_init(h->loop, &c->kick);
    c->kick.data = c;
    c->open_handles = 3;
    c->parser = h1_new(h->lim.max_header_bytes, h->lim.max_body_bytes, HTTPD_MAX_HEADERS);
    sb_init(&c->in);
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    h->nconns++;
    return c;
}

static void conn_free(struct conn *c)
{
    struct httpd_req *sreq = c->sreq;
    c->sreq = NULL;
    if (sreq) /* the connection died with the body's end owed */
        body_finish(sreq, c->body_done ? sreq->berror : -ECONNRESET);
    if (c->h)
        httpd_conn_gone(c->h, c);
    h1_free(c->parser);
    sb_release(&c->in);
    free(c);
}

static void conn_on_close(uv_handle_t *hd)
{
    struct conn *c;
    if (hd->type == UV_TIMER)
        c = hd->data;
    else
        c = container_of((uv_pipe_t *)hd, struct conn, pipe);
    if (--c->open_handles > 0)
        return;
    if (c->hijacked && !c->owner_released)
        return; /* detached by a forced shutdown: httpd_hijack_close() frees it */
    conn_free(c);
}

void conn_fire_abort(struct httpd_req *req)
{
    if (req->aborted)
        return;
    req->aborted = true;
    if (req->abort_cb)
        req->abort_cb(req, req->abort_data);
}

void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_timer_stop(&c->timer);
    uv_read_stop((uv_stream_t *)&c->pipe);
    c->reading = false;
    struct httpd_req *req = c->req;
    if (req) {
        c->req = NULL;
        req->conn = NULL;
        req->dead = true;
        if (c->h)
            c->h->nbusy--;
    }
    if (c->sreq) { /* still held: conn_free() runs its end */
        c->sreq->conn = NULL;
        c->sreq->dead = true;
    }
    uv_close((uv_handle_t *)&c->pipe, conn_on_close);
    uv_close((uv_handle_t *)&c->timer, conn_on_close);
    uv_close((uv_handle_t *)&c->kick, conn_on_close);
    if (req)
        conn_fire_abort(req); /* last: the callback may end (and free) req */
}

void conn_detach(struct conn *c)
{
    struct httpd *h = c->h;
    c->h = NULL;
    if (h)
        httpd_conn_gone(h, c);
    conn_close(c);
}

static unsigned int conn_timeout(struct conn *c, enum conn_timer mode)
{
    switch (mode) {
    case CT_HEADERS:
        return c->h->lim.header_timeout_ms;
    case CT_IDLE:
    case CT_BODY:
    case CT_DRAIN:
        return c->h->lim.idle_timeout_ms;
    default:
        return 0;
    }
}

/* Arms the timer for mode; an unchanged mode keeps running unless restart is set. */
static void conn_timer_set(struct conn *c, enum conn_timer mode, bool restart)
{
    if (c->closing || c->tmode == CT_FAIL)
        return;
    if (c->tmode == mode && !restart)
        return;
    c->tmode = mode;
    unsigned int ms = conn_timeout(c, mode);
    if (mode == CT_NONE || (ms == 0 && mode != CT_RESUME && mode != CT_FAIL)) {
        uv_timer_stop(&c->timer); /* a zero limit disables that timeout */
        return;
    }
    uv_timer_start(&c->timer, conn_on_timer, ms, 0);
}

static void conn_on_timer(uv_timer_t *t)
{
    struct conn *c = t->data;
    enum conn_timer mode = c->tmode;
    c->tmode = CT_NONE;
    switch (mode) {
    case CT_HEADERS:
    case CT_BODY:
        conn_send_error(c, 408, "timeout reading the request");
        break;
    case CT_RESUME:
        conn_process(c);
        break;
    case CT_IDLE:
    case CT_DRAIN:
    case CT_FAIL:
    case CT_NONE:
        conn_close(c);
        break;
    }
}

static void conn_on_write(uv_write_t *w, int status)
{
    struct wreq *wr = container_of(w, struct wreq, w);
    struct conn *c = wr->c;
    c->pending -= wr->len;
    free(wr->buf);
    free(wr);
    if (c->closing || c->hijacked)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    struct httpd_req *req = c->req;
    if (req && req->drain_armed && c->pending < req->low_water) {
        req->drain_armed = false;
        req->drain_cb(req, req->drain_data);
    }
    if (!c->closing && c->pending == 0 && c->tmode == CT_DRAIN)
        conn_close(c);
}

void conn_write(struct conn *c, struct sb *data)
{
    if (c->closing || data->len == 0) {
        sb_release(data);
        return;
    }
    if (c->h)
        httpd_spin(c->h);
    /* Nothing queued: write now. A response that fits the socket buffer needs no write
     * request, which also spares libuv a poll re-arm per response. */
    size_t off = 0;
    if (c->pending == 0) {
        uv_buf_t tb = uv_buf_init(data->buf, (unsigned int)data->len);
        int n = uv_try_write((uv_stream_t *)&c->pipe, &tb, 1);
        if (n == (int)data->len) {
            sb_release(data);
            return;
        }
        if (n > 0)
            off = (size_t)n;
        else if (n != UV_EAGAIN) {
            sb_release(data);
            conn_timer_set(c, CT_FAIL, true); /* close outside the caller's stack */
            return;
        }
    }
    struct wreq *wr = xcalloc(1, sizeof(*wr));
    wr->c = c;
    wr->len = data->len - off;
    if (off) {
        wr->buf = xmalloc(wr->len);
        memcpy(wr->buf, data->buf + off, wr->len);
        sb_release(data);
    } else {
        wr->buf = sb_steal(data);
    }
    uv_buf_t b = uv_buf_init(wr->buf, (unsigned int)wr->len);
    if (uv_write(&wr->w, (uv_stream_t *)&c->pipe, &b, 1, conn_on_write) < 0) {
        free(wr->buf);
        free(wr);
        conn_timer_set(c, CT_FAIL, true); /* close outside the caller's stack */
        return;
    }
    c->pending += wr->len;
}

void conn_head(struct sb *out, struct conn *c, int status)
{
    sb_addf(out, "HTTP/1.1 %d %s\r\n", status, httpd_status_text(status));
    if (c->h->default_headers)
        sb_adds(out, c->h->default_headers);
    sb_addf(out, "Date: %s\r\n", httpd_date(c->h));
}

/* Answers a protocol error (400, 408, 413, 431, 503) and closes once it is written. */
void conn_send_error(struct conn *c, int status, const char *message)
{
    struct httpd *h = c->h;
    if (c->closing || c->hijacked || h == NULL)
        return;
    struct sb body = SB_INIT;
    const char *ctype = h->ops.error_body(status, message, &body, h->ud);
    struct sb out = SB_INIT;
    conn_head(&out, c, status);
    if (ctype)
        sb_addf(&out, "Content-Type: %s\r\n", ctype);
    sb_addf(&out, "Content-Length: %zu\r\nConnection: close\r\n\r\n", body.len);
    sb_add(&out, body.buf, body.len);
    sb_release(&body);
    c->want_close = true;
    conn_write(c, &out);
    conn_settle(c);
}

static void conn_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void conn_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = container_of((uv_pipe_t *)hd, struct conn, pipe);
    *buf = uv_buf_init(c->h->rbuf, sizeof(c->h->rbuf));
}

static void conn_reading(struct conn *c, bool on)
{
    if (on == c->reading)
        return;
    if (!on) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = false;
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_on_read) < 0) {
        conn_timer_set(c, CT_FAIL, true);
        return;
    }
    c->reading = true;
}

static enum conn_timer conn_phase_timer(struct conn *c)
{
    switch (h1_phase(c->parser)) {
    case H1_PHASE_HEADERS:
        return CT_HEADERS;
    case H1_PHASE_BODY:
        return CT_BODY;
    default:
        return CT_IDLE;
    }
}

/*
 * Brings reading and the timer in line with the state; called after anything changed it. No
 * timer runs while a request is being handled: long polls and streams are never cut.
 */
void conn_settle(struct conn *c)
{
    if (c->closing || c->hijacked || c->processing)
        return;
    size_t unparsed = c->in.len - c->in_off;
    if (c->req || c->sreq) {
        conn_timer_set(c, CT_NONE, false);
        conn_reading(c, !c->read_eof && unparsed < HTTPD_READ_BOUND);
        return;
    }
    bool stopping = c->h == NULL || c->h->stopping;
    if (unparsed > 0 && !c->want_close && !stopping) {
        conn_timer_set(c, CT_RESUME, false);
        return;
    }
    if (c->want_close || c->read_eof || stopping) {
        conn_reading(c, false);
        if (c->pending == 0)
            conn_close(c);
        else
            conn_timer_set(c, CT_DRAIN, false);
        return;
    }
    conn_reading(c, true);
    conn_timer_set(c, conn_phase_timer(c), false);
}

static void conn_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct conn *c = container_of((uv_pipe_t *)s, struct conn, pipe);
    if (n == 0)
        return;
    if (n > 0 && c->h)
        httpd_spin_hit(c->h);
    if (n < 0 && n != UV_EOF) {
        conn_close(c);
        return;
    }
    if (n == UV_EOF) {
        c->read_eof = true;
        conn_reading(c, false);
        if (c->sreq) {
            conn_body_pump(c); /* fires the abort once the body is over */
            return;
        }
        if (c->req)
            conn_fire_abort(c->req);
        conn_settle(c);
        return;
    }
    sb_add(&c->in, buf->base, (size_t)n);
    if (c->tmode == CT_BODY)
        conn_timer_set(c, CT_BODY, true);
    if (c->sreq)
        conn_body_pump(c);
    else if (c->req)
        conn_settle(c); /* only buffer: reading stops above the bound */
    else
        conn_process(c);
}

static void conn_deliver(struct conn *c, struct httpd_req *req)
{
    c->req = req;
    c->h->nbusy++;
    conn_timer_set(c, CT_NONE, false);
    c->h->ops.request(req, c->h->ud);
}

void conn_compact(struct conn *c)
{
    if (c->in_off == 0)
        return;
    size_t rest = c->in.len - c->in_off;
    if (rest > 0)
        memmove(c->in.buf, c->in.buf + c->in_off, rest);
    c->in.len = rest;
    if (c->in.buf)
        c->in.buf[rest] = '\0';
    c->in_off = 0;
    if (rest == 0 && c->in.cap > HTTPD_READ_BOUND)
        sb_release(&c->in); /* do not keep a big buffer on an idle connection */
}

/*
 * Headers complete: the request is either streamed (delivered now; its body comes through
 * httpd_req_body_read()) or its body is buffered within the limit and parsing goes on.
 */
static void conn_on_headers(struct conn *c)
{
    struct httpd *h = c->h;
    if (h->ops.stream_body) {
        /* The message stays the parser's unless it is streamed. */
        struct httpd_req *req = req_new(c, (struct h1_msg *)h1_current(c->parser));
        if (h->ops.stream_body(req, h->ud)) {
            h1_body_mode(c->parser, true);
            h1_take(c->parser);
            req->streamed = true;
            req->held = true;
            c->sreq = req;
            c->body_done = false;
            conn_deliver(c, req);
            return;
        }
        req->msg = NULL;
        req_free(req);
    }
    if (h1_body_mode(c->parser, false) < 0) {
        const char *msg;
        int status = h1_error(c->parser, &msg);
        conn_send_error(c, status, msg);
        return;
    }
    if (h1_current(c->parser)->expect_continue) {
        struct sb out = SB_INIT;
        sb_adds(&out, "HTTP/1.1 100 Continue\r\n\r\n");
        conn_write(c, &out);
    }
}

/* Parses buffered input until a request is delivered, input runs out, or the connection ends. */
static void conn_process(struct conn *c)
{
    if (c->processing || c->closing || c->hijacked)
        return;
    c->processing = true;
    while (!c->req && !c->sreq && !c->closing && !c->hijacked && !c->want_close &&
           c->in.len > c->in_off && !c->h->stopping) {
        size_t used = 0;
        enum h1_event ev = h1_feed(c->parser, c->in.buf + c->in_off, c->in.len - c->in_off, &used);
        c->in_off += used;
        if (ev == H1_MORE)
            break;
        if (ev == H1_ERROR) {
            const char *msg;
            int status = h1_error(c->parser, &msg);
            conn_send_error(c, status, msg);
            break;
        }
        if (ev == H1_HEADERS) {
            conn_on_headers(c);
            continue;
        }
        conn_deliver(c, req_new(c, h1_take(c->parser)));
    }
    conn_compact(c);
    c->processing = false;
    conn_settle(c);
}

void conn_request_ended(struct conn *c)
{
    c->req = NULL;
    if (c->h)
        c->h->nbusy--;
    conn_settle(c); /* a no-op inside conn_process(), whose loop goes on */
}

void conn_hijack(struct conn *c, httpd_hijack_cb cb, void *data)
{
    c->hijacked = true;
    uv_timer_stop(&c->timer);
    uv_timer_stop(&c->kick);
    c->tmode = CT_NONE;
    uv_read_stop((uv_stream_t *)&c->pipe);
    c->reading = false;
    h1_free(c->parser);
    c->parser = NULL;
    struct sb in = c->in;
    size_t off = c->in_off;
    sb_init(&c->in);
    c->in_off = 0;
    cb((uv_stream_t *)&c->pipe, in.buf ? in.buf + off : "", in.len - off, data);
    sb_release(&in);
}

void httpd_hijack_close(uv_stream_t *stream)
{
    struct conn *c = container_of((uv_pipe_t *)stream, struct conn, pipe);
    c->owner_released = true;
    if (!c->closing)
        conn_close(c);
    else if (c->open_handles == 0)
        conn_free(c);
}
