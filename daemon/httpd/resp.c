/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request a handler sees and the responses it writes. A request is owned by httpd; the
 * handler ends it exactly once (send, end or hijack), which frees it, unless its streamed body
 * still holds it (req->held): then body.c frees it after the body's end callback ran. If the
 * connection dies first, the request is detached from it (req->conn == NULL) and stays valid
 * until then.
 */
#include "daemon/httpd/httpd_int.h"

#include <string.h>
#include <strings.h>

/* msg is owned by the request from now on (NULL allowed for a shell never delivered). */
struct httpd_req *req_new(struct conn *c, struct h1_msg *msg)
{
    struct httpd_req *req = xcalloc(1, sizeof(*req));
    req->conn = c;
    req->msg = msg;
    sb_init(&req->headers);
    return req;
}

void req_free(struct httpd_req *req)
{
    h1_msg_free(req->msg);
    sb_release(&req->headers);
    free(req);
}

const char *httpd_req_method(const struct httpd_req *req)
{
    return req->msg->method;
}

const char *httpd_req_path(const struct httpd_req *req)
{
    return req->msg->path;
}

const char *httpd_req_query(const struct httpd_req *req)
{
    return req->msg->query;
}

const char *httpd_req_body(const struct httpd_req *req, size_t *len)
{
    if (len)
        *len = req->msg->body.len;
    return req->msg->body.buf; /* never NULL: the parser starts every body as "" */
}

const char *httpd_req_header(const struct httpd_req *req, const char *name)
{
    for (size_t i = 0; i < req->msg->nhdrs; i++) {
        if (strcasecmp(req->msg->hdrs[i].name, name) == 0)
            return req->msg->hdrs[i].value;
    }
    return NULL;
}

void httpd_req_set_data(struct httpd_req *req, void *data)
{
    req->data = data;
}

void *httpd_req_get_data(const struct httpd_req *req)
{
    return req->data;
}

/*
 * The callback runs at most once, when the client goes away later. A handler that registers
 * it after that already happened is not called back: it should check httpd_req_aborted().
 */
void httpd_req_on_abort(struct httpd_req *req, void (*cb)(struct httpd_req *req, void *data),
                        void *data)
{
    req->abort_cb = cb;
    req->abort_data = data;
}

bool httpd_req_aborted(const struct httpd_req *req)
{
    return req->aborted;
}

static bool req_live(const struct httpd_req *req)
{
    return req->conn != NULL && !req->dead;
}

/* Header values may not break the response framing: CR and LF become spaces. */
static void resp_add_clean(struct sb *sb, const char *s)
{
    for (; *s; s++)
        sb_addc(sb, (*s == '\r' || *s == '\n') ? ' ' : *s);
}

void httpd_resp_header(struct httpd_req *req, const char *name, const char *value)
{
    resp_add_clean(&req->headers, name);
    sb_adds(&req->headers, ": ");
    resp_add_clean(&req->headers, value);
    sb_adds(&req->headers, "\r\n");
}

static bool status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

static bool resp_no_body(const struct httpd_req *req, int status)
{
    return !status_has_body(status) || strcmp(req->msg->method, "HEAD") == 0;
}

/* Status line, default headers, Date, Content-Type, the handler's headers and Connection. */
static void resp_head(struct sb *out, struct httpd_req *req, int status, const char *ctype)
{
    struct conn *c = req->conn;
    const struct h1_msg *m = req->msg;
    conn_head(out, c, status);
    if (ctype)
        sb_addf(out, "Content-Type: %s\r\n", ctype);
    sb_add(out, req->headers.buf, req->headers.len);
    if (!m->keep_alive || m->upgrade || c->h->stopping || conn_body_open(c, req))
        c->want_close = true; /* an unfinished body: where the next request starts is unknown */
    if (c->want_close)
        sb_adds(out, "Connection: close\r\n");
    else if (m->http_major == 1 && m->http_minor == 0)
        sb_adds(out, "Connection: keep-alive\r\n");
}

static void req_end(struct httpd_req *req)
{
    struct conn *c = req->conn;
    if (c)
        conn_body_cancel(c, req);
    req->resp = RESP_ENDED;
    sb_release(&req->headers);
    if (c && c->req == req)
        conn_request_ended(c);
    if (!req->held)
        req_free(req);
}

void httpd_resp_send(struct httpd_req *req, int status, const char *content_type, const void *body,
                     size_t len)
{
    if (req->resp == RESP_STREAMING) { /* misuse: finish the stream rather than corrupt it */
        httpd_resp_end(req);
        return;
    }
    if (req_live(req)) {
        conn_body_cancel(req->conn, req); /* before the head: it may say Connection: close */
        struct sb out = SB_INIT;
        resp_head(&out, req, status, content_type);
        if (status_has_body(status))
            sb_addf(&out, "Content-Length: %zu\r\n", len);
        sb_adds(&out, "\r\n");
        if (!resp_no_body(req, status))
            sb_add(&out, body, len);
        conn_write(req->conn, &out);
    }
    req_end(req);
}

void httpd_resp_begin_chunked(struct httpd_req *req, int status, const char *content_type)
{
    if (req->resp != RESP_NONE)
        return;
    req->resp = RESP_STREAMING;
    req->no_body = resp_no_body(req, status);
    if (!req_live(req))
        return;
    struct sb out = SB_INIT;
    resp_head(&out, req, status, content_type);
    if (status_has_body(status))
        sb_adds(&out, "Transfer-Encoding: chunked\r\n");
    sb_adds(&out, "\r\n");
    conn_write(req->conn, &out);
}

int httpd_resp_chunk(struct httpd_req *req, const void *data, size_t len)
{
    if (!req_live(req))
        return -1;
    if (req->resp != RESP_STREAMING || req->no_body || len == 0)
        return 0;
    struct sb out = SB_INIT;
    sb_grow(&out, len + 24);
    sb_addf(&out, "%zx\r\n", len);
    sb_add(&out, data, len);
    sb_adds(&out, "\r\n");
    conn_write(req->conn, &out);
    if (req->drain_cb && req->conn->pending >= req->low_water)
        req->drain_armed = true;
    return 0;
}

size_t httpd_resp_pending(const struct httpd_req *req)
{
    return req->conn ? req->conn->pending : 0;
}

void httpd_resp_on_drain(struct httpd_req *req, size_t low_water,
                         void (*cb)(struct httpd_req *req, void *data), void *data)
{
    req->drain_cb = cb;
    req->drain_data = data;
    req->low_water = low_water;
    req->drain_armed = cb != NULL && req->conn != NULL && req->conn->pending >= low_water;
}

void httpd_resp_end(struct httpd_req *req)
{
    if (req->resp == RESP_NONE && req_live(req))
        req->conn->want_close = true; /* nothing was sent: the client cannot find an end */
    if (req->resp == RESP_STREAMING && !req->no_body && req_live(req)) {
        struct sb out = SB_INIT;
        sb_adds(&out, "0\r\n\r\n");
        conn_write(req->conn, &out);
    }
    req_end(req);
}

void httpd_resp_abort(struct httpd_req *req)
{
    if (req_live(req))
        req->conn->want_close = true; /* closing is the only way to say "incomplete" */
    req_end(req);
}

/*
 * When the client is already gone, cb is not called (the abort callback told the handler);
 * the request is ended either way.
 */
void httpd_resp_hijack(struct httpd_req *req, const char *head, httpd_hijack_cb cb, void *data)
{
    struct conn *c = req->conn;
    if (!req_live(req) || req->resp != RESP_NONE || c->sreq == req) {
        if (req_live(req))
            c->want_close = true; /* nothing was sent, or the body's end is not known */
        req_end(req);
        return;
    }
    struct sb out = SB_INIT;
    sb_adds(&out, head);
    conn_write(c, &out);
    c->req = NULL;
    c->h->nbusy--;
    req->conn = NULL;
    req_end(req);
    conn_hijack(c, cb, data);
}
