/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd internals shared by server.c (listeners, accept, shutdown), conn.c (connection state,
 * reading, timers, writing), body.c (streamed request bodies) and resp.c (the request and
 * response API).
 */
#ifndef BERTH_HTTPD_INT_H
#define BERTH_HTTPD_INT_H

#include "daemon/httpd/httpd.h"
#include "daemon/httpd/http1.h"

#define HTTPD_MAX_HEADERS 256
/* Unparsed input kept while a request is being handled; reading stops above it. */
#define HTTPD_READ_BOUND (64 * 1024)
#define HTTPD_BACKLOG    4096

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct listener {
    uv_pipe_t pipe; /* freed in its close callback */
    struct httpd *h;
    struct listener *next;
};

struct httpd {
    uv_loop_t *loop;
    struct httpd_limits lim;
    struct httpd_ops ops;
    void *ud;
    char *default_headers; /* owned */
    struct listener *listeners;
    unsigned int nlisteners; /* open or closing */
    struct conn *conns;      /* every connection not yet freed (detached ones excepted) */
    unsigned int nconns;
    unsigned int nbusy; /* connections with a request being handled */
    bool stopping;
    bool grace_closing;
    uv_timer_t grace;
    uv_idle_t spin;            /* active: the loop polls without sleeping, until spin_until */
    uint64_t spin_until;       /* uv_hrtime() */
    int spin_score;            /* spins that caught a request minus those that did not, clamped */
    unsigned int spin_skipped; /* responses not followed by a spin since the last one */
    void (*done)(void *ud);
    void *done_ud;
    time_t date_time; /* cached Date: value */
    char date[40];
    char rbuf[64 * 1024]; /* every read lands here first: one loop thread, one read at a time */
};

enum conn_timer {
    CT_NONE,
    CT_IDLE,    /* nothing in progress: close quietly */
    CT_HEADERS, /* a request began: 408 when its headers are late */
    CT_BODY,    /* the body stalls: 408 */
    CT_DRAIN,   /* final response queued: close when the client never reads it */
    CT_RESUME,  /* 0 ms: parse buffered pipelined input on the next loop turn */
    CT_FAIL,    /* 0 ms: a write could not even be queued; close on the next loop turn */
};

struct conn {
    uv_pipe_t pipe;   /* never uses pipe.data: a hijacking owner may */
    uv_timer_t timer; /* timer.data is the conn */
    uv_timer_t kick;  /* 0 ms: streamed-body work on the next loop turn; data is the conn */
    struct httpd *h;  /* NULL once detached by a forced shutdown of a hijacked connection */
    struct conn *prev, *next;
    struct h1 *parser;
    struct sb in;          /* input read and not yet parsed */
    size_t in_off;         /* parsed bytes at the front of in */
    struct httpd_req *req; /* delivered and not yet ended */
    /*
     * A streamed request whose body is not finished: the parser is in (or at) its body, or
     * its end callback has not run. Holds the request (req->held); blocks the next request.
     */
    struct httpd_req *sreq;
    bool body_done; /* sreq's body is over for the parser (sreq->berror says how) */
    size_t pending; /* bytes in queued writes */
    enum conn_timer tmode;
    int open_handles;
    bool processing;     /* conn_process() is on the stack */
    bool closing;        /* uv_close() called */
    bool want_close;     /* close once the current response is written */
    bool read_eof;       /* the peer shut down its write side */
    bool reading;        /* uv_read_start() active */
    bool hijacked;       /* owned by a hijack callback now */
    bool owner_released; /* httpd_hijack_close() called */
};

enum resp_state { RESP_NONE, RESP_STREAMING, RESP_ENDED };

struct httpd_req {
    struct conn *conn; /* NULL once the connection is gone */
    struct h1_msg *msg;
    void *data;
    void (*abort_cb)(struct httpd_req *req, void *data);
    void *abort_data;
    void (*drain_cb)(struct httpd_req *req, void *data);
    void *drain_data;
    size_t low_water;
    bool drain_armed;
    bool aborted; /* the client went away (abort callback due or run) */
    bool dead;    /* the connection failed: output is dropped */
    bool no_body; /* HEAD, 204 or 304 */
    enum resp_state resp;
    struct sb headers; /* added by httpd_resp_header() */
    /* streamed body (body.c) */
    bool streamed; /* stream_body said yes */
    bool held;     /* a conn's sreq: freed only once released, even when answered */
    bool bpaused;  /* data returned 1 */
    bool bended;   /* end ran */
    int berror;    /* the end's error once the body is over */
    const struct httpd_body_ops *bops; /* set by httpd_req_body_read() */
    void *bdata;
};

/* server.c */
const char *httpd_date(struct httpd *h);
void httpd_conn_gone(struct httpd *h, struct conn *c);
/*
 * A response was written: keep the loop polling without sleeping for lim.spin_us, so the
 * client's next request on a keep-alive connection finds the loop awake. Waking a sleeping
 * CPU costs tens of microseconds on a virtual machine, more than answering a ping does.
 * Adaptive, as a spinning mutex: while spins stop catching requests (clients that think
 * between requests, or work that needs the CPU the loop would burn) the loop sleeps at once,
 * and tries a spin again every 16th response.
 */
void httpd_spin(struct httpd *h);
/* Input arrived: a spin in progress caught it. */
void httpd_spin_hit(struct httpd *h);

/* conn.c */
struct conn *conn_new(struct httpd *h);
void conn_compact(struct conn *c);
void conn_fire_abort(struct httpd_req *req);
void conn_settle(struct conn *c);
void conn_close(struct conn *c);
void conn_detach(struct conn *c);
void conn_write(struct conn *c, struct sb *data);
void conn_send_error(struct conn *c, int status, const char *message);
void conn_request_ended(struct conn *c);
void conn_hijack(struct conn *c, httpd_hijack_cb cb, void *data);
void conn_head(struct sb *out, struct conn *c, int status);

/* body.c */
void conn_kick(struct conn *c);
void conn_body_pump(struct conn *c);
bool conn_body_open(const struct conn *c, const struct httpd_req *req);
void conn_body_cancel(struct conn *c, struct httpd_req *req);
void body_finish(struct httpd_req *req, int error);

/* resp.c */
struct httpd_req *req_new(struct conn *c, struct h1_msg *msg);
void req_free(struct httpd_req *req);

#endif
