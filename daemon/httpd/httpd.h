/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd: HTTP/1.1 over Unix stream sockets on the libuv loop. It frames requests, buffers their
 * bodies within limits or streams them to the handler, writes responses (fixed length or
 * chunked), answers protocol errors itself and can hand a connection over to a handler (hijack). It
 * knows nothing about containers or the Docker API: what to answer is decided by the one request
 * callback.
 *
 * Every function here runs on the loop thread only.
 */
#ifndef BERTH_HTTPD_H
#define BERTH_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common/common.h"

struct httpd;
struct httpd_req;

struct httpd_limits {
    size_t max_header_bytes;        /* request line + headers; over it: 431 and close */
    size_t max_body_bytes;          /* buffered body; over it: 413 and close */
    unsigned int header_timeout_ms; /* a started request must have its headers within this */
    unsigned int idle_timeout_ms;   /* keep-alive connection with no request in progress */
    unsigned int max_conns;         /* over it, new connections get 503 and are closed */
    unsigned int spin_us; /* after a response, poll without sleeping this long (0: never) */
};

/* Defaults: 64 KiB headers, 8 MiB body, 60 s header timeout, 300 s idle, 4096 connections,
 * 50 us of polling after a response. */
void httpd_limits_default(struct httpd_limits *l);

struct httpd_ops {
    /*
     * A complete request (headers and buffered body). The callee must end it exactly once,
     * now or later, with httpd_resp_send(), httpd_resp_end() after httpd_resp_begin_chunked(),
     * or httpd_resp_hijack(). Requests pipelined on one connection are delivered one at a time,
     * in order: the next is delivered only after the previous one ended (and, for a streamed
     * body, after its end callback ran).
     */
    void (*request)(struct httpd_req *req, void *ud);
    /*
     * Called when a request's headers are complete, before its body is read. Returning true
     * streams this request's body: `request` is then called at once with an empty body, and the
     * handler must call httpd_req_body_read() to receive it. No size limit applies to a
     * streamed body beyond what the handler enforces. Optional (NULL: every body is buffered).
     * Only the method, path, query and headers of req may be used here; it is not the request
     * later passed to `request` when this returns false.
     */
    bool (*stream_body)(struct httpd_req *req, void *ud);
    /*
     * Fills out with the body of an error response httpd produces itself (400, 408, 413, 431,
     * 503) and returns its content type. Lets the API layer own the error format.
     */
    const char *(*error_body)(int status, const char *message, struct sb *out, void *ud);
};

/* Creates a server on loop. Free with httpd_shutdown(). ud is passed to every callback. */
struct httpd *httpd_new(uv_loop_t *loop, const struct httpd_limits *limits,
                        const struct httpd_ops *ops, void *ud);

/*
 * Extra header lines ("Name: value\r\n"...) written on every response httpd sends, its own
 * error responses included. The string is copied.
 */
void httpd_set_default_headers(struct httpd *h, const char *lines);

/* Binds and listens on a Unix socket at path (which must not exist). */
int httpd_listen_unix(struct httpd *h, const char *path, struct err **err);
/* Listens on an already bound and listening socket (systemd socket activation). */
int httpd_listen_fd(struct httpd *h, int fd, struct err **err);
/* Serves one already connected stream socket; used by tests and by in-process callers. */
int httpd_serve_fd(struct httpd *h, int fd, struct err **err);

/* Number of open connections (hijacked ones included) and of requests being handled. */
unsigned int httpd_conn_count(const struct httpd *h);
unsigned int httpd_busy_count(const struct httpd *h);

/*
 * Graceful stop: listeners close at once, idle connections close, requests in progress may
 * finish for up to grace_ms, then every connection is closed. done runs once all handles are
 * closed; the httpd is freed right after it returns.
 */
void httpd_shutdown(struct httpd *h, unsigned int grace_ms, void (*done)(void *ud), void *ud);

/* ---- the request ------------------------------------------------------------------------- */

const char *httpd_req_method(const struct httpd_req *req); /* "GET", "HEAD", ... */
const char *httpd_req_path(const struct httpd_req *req);   /* raw, without the query */
const char *httpd_req_query(const struct httpd_req *req);  /* raw, without '?'; "" if none */
const char *httpd_req_body(const struct httpd_req *req, size_t *len); /* NUL-terminated */
/* First header named name (case-insensitive), or NULL. */
const char *httpd_req_header(const struct httpd_req *req, const char *name);
/* Per-request pointer for the handler's own state. */
void httpd_req_set_data(struct httpd_req *req, void *data);
void *httpd_req_get_data(const struct httpd_req *req);
/*
 * cb runs once if the client goes away while the request is not yet ended (e.g. during a
 * long-poll or a stream). The request stays valid until the handler ends it; writes after
 * that point are dropped.
 */
void httpd_req_on_abort(struct httpd_req *req, void (*cb)(struct httpd_req *req, void *data),
                        void *data);
bool httpd_req_aborted(const struct httpd_req *req);

/* ---- streamed request bodies (requests for which stream_body returned true) -------------- */

/*
 * A streamed body is read with back-pressure: while the handler is paused, httpd stops reading
 * the socket once the unparsed input it holds passes a fixed bound (64 KiB, plus one read).
 * Both callbacks run on the loop thread from a later loop turn (a timer, a socket read, or the
 * connection's close), never from inside a call the handler makes into httpd; the request is
 * valid in both, even when already answered.
 */
struct httpd_body_ops {
    /*
     * One piece of the body (decoded from chunked if needed); buf is valid during the call
     * only. Return 0 to go on, or 1 to pause: no more data and no end is delivered until
     * httpd_req_body_resume().
     */
    int (*data)(struct httpd_req *req, const char *buf, size_t len, void *data);
    /*
     * The body ended (error 0), or failed (error < 0): -ECONNRESET when the client went away,
     * -EBADMSG when it sent malformed framing (the connection closes after the response),
     * -ECANCELED when the handler answered before the body ended. Runs exactly once; after it,
     * the request is still the handler's to answer (or it already answered).
     */
    void (*end)(struct httpd_req *req, int error, void *data);
};

/*
 * Starts delivering the body of a streamed request to ops (borrowed until end ran), data
 * passed to both. Bytes that arrived with the headers are delivered first, on a later loop
 * turn. Sends "100 Continue" now if the client asked for it and no response began. A request
 * without a body gets end(0) and no data. Call at most once per request, and only for a
 * streamed one (otherwise it logs an error and does nothing). The one synchronous case: if the
 * connection is already gone and freed, end(-ECONNRESET) runs before this returns.
 *
 * Answering the request (httpd_resp_send(), httpd_resp_end(), httpd_resp_hijack()) before end
 * ran drops the rest of the body: what was already received is parsed and discarded; if that
 * is not the whole body, the response says "Connection: close" and the connection closes after
 * it. end(-ECANCELED) then follows on a later turn. httpd_resp_begin_chunked() does not end
 * the body (the handler may still read it while streaming its answer), but a connection whose
 * body was still coming when the response began closes after it. A request with a streamed
 * body cannot be hijacked before its end ran (the request is ended and the connection closed).
 * The next pipelined request is read only after this one was answered and its end ran. No
 * timeout applies to a streamed body: the handler enforces one if it wants.
 */
void httpd_req_body_read(struct httpd_req *req, const struct httpd_body_ops *ops, void *data);
/* Resumes a body paused by data returning 1; call it after that return, never inside data. */
void httpd_req_body_resume(struct httpd_req *req);

/* ---- the response ------------------------------------------------------------------------ */

/* Adds a header line to the response being built; call before send/begin. Copied. */
void httpd_resp_header(struct httpd_req *req, const char *name, const char *value);

/*
 * A whole response with Content-Length. content_type may be NULL (no header). For HEAD, and
 * for 204 and 304, no body is written. Ends the request.
 */
void httpd_resp_send(struct httpd_req *req, int status, const char *content_type, const void *body,
                     size_t len);

/*
 * A streamed response: status and headers (Transfer-Encoding: chunked) are written at once.
 * Then httpd_resp_chunk() any number of times and httpd_resp_end() to finish.
 */
void httpd_resp_begin_chunked(struct httpd_req *req, int status, const char *content_type);
/* Queues one chunk (len 0 is ignored). Returns -1 once the client is gone. */
int httpd_resp_chunk(struct httpd_req *req, const void *data, size_t len);
/* Bytes queued for the client and not yet written, for back-pressure. */
size_t httpd_resp_pending(const struct httpd_req *req);
/* cb runs whenever pending output has drained below low_water bytes. */
void httpd_resp_on_drain(struct httpd_req *req, size_t low_water,
                         void (*cb)(struct httpd_req *req, void *data), void *data);
/* Writes the terminating chunk and ends the request. */
void httpd_resp_end(struct httpd_req *req);
/*
 * Ends a streamed response that failed part-way: no terminating chunk is written, and the
 * connection closes once what was already queued is written, so the client sees a truncated
 * transfer instead of a complete body. Before httpd_resp_begin_chunked() nothing is sent at
 * all: the connection just closes. Ends the request.
 */
void httpd_resp_abort(struct httpd_req *req);

/*
 * Hijack: writes head verbatim (a full status line and headers, ending in "\r\n\r\n") in its
 * own write, then gives the connection to the caller and ends the request. cb receives the
 * stream (readable and writable; reading is stopped) and any bytes already read past this
 * request. From then on the caller owns the stream and must release it with
 * httpd_hijack_close(), which closes it and frees the connection.
 */
typedef void (*httpd_hijack_cb)(uv_stream_t *stream, const char *rest, size_t restlen, void *data);
void httpd_resp_hijack(struct httpd_req *req, const char *head, httpd_hijack_cb cb, void *data);
void httpd_hijack_close(uv_stream_t *stream);

/* The reason phrase of a status code ("OK", "Not Found"), or "Unknown". */
const char *httpd_status_text(int status);

#endif
