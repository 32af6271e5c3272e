/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streamed request bodies. A request whose stream_body callback said yes is delivered at its
 * headers and becomes the connection's sreq. The parser stays at the start of its body until
 * the handler calls httpd_req_body_read(); from then on the pump feeds the unparsed input to
 * the parser and hands each piece it yields to the data callback. A piece is never more than
 * the unparsed input, which reading keeps under HTTPD_READ_BOUND plus one read, so a paused
 * handler bounds the memory a client can make us hold.
 *
 * The data and end callbacks run only from libuv callbacks (the kick timer, a read, the close
 * of the connection), never from inside a call the handler made into httpd. The request is
 * held until its end ran, so the handler may answer at any time and still gets a valid request
 * in end. Answering first cancels the body (conn_body_cancel()).
 */
#include "daemon/httpd/httpd_int.h"

#include <errno.h>

static void body_on_kick(uv_timer_t *t)
{
    conn_body_pump(t->data);
}

/* Body work on the next loop turn: what the handler's call must not do itself. */
void conn_kick(struct conn *c)
{
    if (!c->closing && !c->hijacked)
        uv_timer_start(&c->kick, body_on_kick, 0, 0);
}

bool conn_body_open(const struct conn *c, const struct httpd_req *req)
{
    return c->sreq == req && !c->body_done;
}

static void body_over(struct conn *c, int error)
{
    c->body_done = true;
    c->sreq->berror = error;
}

/* Runs end once (if the handler asked for the body) and lets go of the request. */
void body_finish(struct httpd_req *req, int error)
{
    if (req->bops && !req->bended) {
        req->bended = true;
        req->bops->end(req, error, req->bdata);
    }
    req->held = false;
    if (req->resp == RESP_ENDED)
        req_free(req);
}

/* Feeds the unparsed input to the parser once and gives the handler the body bytes it yields. */
static void body_step(struct conn *c, struct httpd_req *req)
{
    size_t used = 0;
    enum h1_event ev = h1_feed(c->parser, c->in.buf + c->in_off, c->in.len - c->in_off, &used);
    c->in_off += used;
    if (ev == H1_REQUEST) {
        body_over(c, 0);
    } else if (ev == H1_ERROR) {
        body_over(c, -EBADMSG);
        c->want_close = true; /* the framing is lost: nothing after it can be parsed */
    }
    struct sb piece = SB_INIT;
    h1_body_take(c->parser, &piece); /* ours: the handler may cancel (and parse) inside data */
    if (piece.len > 0 && req->bops->data(req, piece.buf, piece.len, req->bdata) != 0)
        req->bpaused = true;
    sb_release(&piece);
}

/*
 * Delivers sreq's body as far as the input and the handler allow, runs its end once it is
 * over, then brings the connection up to date (the next request may be parsed).
 */
void conn_body_pump(struct conn *c)
{
    while (c->sreq && !c->closing) {
        struct httpd_req *req = c->sreq;
        bool answered = req->resp == RESP_ENDED;
        if (req->bops == NULL || (req->bpaused && !answered))
            break;
        if (c->body_done) {
            c->sreq = NULL;
            body_finish(req, req->berror);
            break;
        }
        if (c->in.len == c->in_off) {
            if (!c->read_eof)
                break;
            body_over(c, -ECONNRESET);
            continue;
        }
        body_step(c, req);
    }
    /* The EOF abort waits until the body is over: the input held the rest of it, or not. */
    if (!c->closing && c->read_eof && c->req && !conn_body_open(c, c->req))
        conn_fire_abort(c->req);
    if (!c->closing && !c->hijacked)
        conn_compact(c);
    conn_settle(c);
}

/* Parses and drops the rest of the body from the buffered input; true if it was all there. */
static bool body_discard(struct conn *c)
{
    while (c->in.len > c->in_off) {
        size_t used = 0;
        enum h1_event ev = h1_feed(c->parser, c->in.buf + c->in_off, c->in.len - c->in_off, &used);
        c->in_off += used;
        struct sb piece = SB_INIT;
        h1_body_take(c->parser, &piece);
        sb_release(&piece);
        if (ev != H1_MORE)
            return ev == H1_REQUEST;
    }
    return false;
}

/*
 * The handler is answering req. If its streamed body has not ended, what was already received
 * of it is parsed and dropped; when that is not all of it, the connection cannot be reused and
 * closes after the response. The end callback, if owed, runs on the next turn.
 */
void conn_body_cancel(struct conn *c, struct httpd_req *req)
{
    if (c->sreq != req)
        return;
    if (!c->body_done) {
        if (!body_discard(c))
            c->want_close = true;
        body_over(c, -ECANCELED);
    }
    if (req->bops == NULL) { /* no end is owed */
        c->sreq = NULL;
        req->held = false;
        return;
    }
    conn_kick(c);
}

void httpd_req_body_read(struct httpd_req *req, const struct httpd_body_ops *ops, void *data)
{
    if (!req->streamed || req->bops || req->resp == RESP_ENDED) {
        log_error("httpd: body read on %s %s: not streamed, already read or answered",
                  httpd_req_method(req), httpd_req_path(req));
        return;
    }
    req->bops = ops;
    req->bdata = data;
    struct conn *c = req->conn;
    if (c == NULL) {
        if (!req->held) /* the connection is freed: nothing else would run end */
            body_finish(req, -ECONNRESET);
        return;
    }
    if (req->msg->expect_continue && req->resp == RESP_NONE && conn_body_open(c, req)) {
        struct sb out = SB_INIT;
        sb_adds(&out, "HTTP/1.1 100 Continue\r\n\r\n");
        conn_write(c, &out);
    }
    conn_kick(c);
}

void httpd_req_body_resume(struct httpd_req *req)
{
    if (!req->bpaused)
        return;
    req->bpaused = false;
    if (req->conn)
        conn_kick(req->conn);
}
