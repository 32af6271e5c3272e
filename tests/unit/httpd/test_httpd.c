/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd over a real libuv loop: each test serves one end of a socketpair() with
 * httpd_serve_fd() and plays the client on the other end, turning the loop between reads.
 * The streamed-body tests also look at the connection's input buffer (httpd_int.h) to check
 * that back-pressure bounds it.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/httpd/httpd.h"
#include "daemon/httpd/httpd_int.h"

#define MAX_RESPS 16

struct resp {
    int status;
    char head[4096];
    char body[4096];
    size_t bodylen;
};

struct fx {
    uv_loop_t loop;
    struct httpd *h;
    struct httpd_limits lim;
    int cfd;
    struct sb rx;
    size_t rx_off;
    bool eof;
    struct resp resps[MAX_RESPS];
    int nresps;
    bool expect_head; /* the next response answers a HEAD */
    int nrequests;
    bool aborted;
    bool done;
    struct httpd_req *held;
    uv_timer_t later;
    struct httpd_req *later_reqs[MAX_RESPS];
    int nlater;
    /* hijack */
    uv_stream_t *hj;
    char hj_rest[64];
    struct sb hj_in;
    /* streamed bodies: one at a time */
    struct httpd_req *sreq; /* read and its end not yet run */
    bool sanswered;
    uint64_t shash;
    size_t slen;
    int ndata;
    int nends;
    int end_error;
    int next_seen_ends; /* nends when GET /next was delivered */
    bool in_read_call;  /* inside httpd_req_body_read(): data must not run */
    bool pause_each;    /* data returns 1; the resume timer resumes */
    uv_timer_t resume;
    size_t max_piece;
    size_t max_unparsed; /* the most unparsed input httpd held, seen from the client loop */
    bool read_stopped;   /* httpd stopped reading for the streamed request (back-pressure) */
};

/* ---- the handler ------------------------------------------------------------------------ */

static const char *error_body(int status, const char *message, struct sb *out, void *ud)
{
    sb_addf(out, "{\"message\":\"%s\"}", message);
    return "application/json";
}

static void echo(struct httpd_req *req)
{
    size_t len;
    const char *body = httpd_req_body(req, &len);
    struct sb out = SB_INIT;
    sb_addf(&out, "%s %s ?%s %zu:%s", httpd_req_method(req), httpd_req_path(req),
            httpd_req_query(req), len, body);
    const char *t = httpd_req_header(req, "x-TEST");
    if (t)
        httpd_resp_header(req, "X-Got", t);
    httpd_resp_send(req, 200, "text/plain", out.buf, out.len);
    sb_release(&out);
}

static void on_later(uv_timer_t *t)
{
    struct fx *f = t->data;
    for (int i = 0; i < f->nlater; i++)
        httpd_resp_send(f->later_reqs[i], 200, "text/plain", "later", 5);
    f->nlater = 0;
}

static void on_abort(struct httpd_req *req, void *data)
{
    struct fx *f = data;
    f->aborted = true;
    if (f->held == req)
        f->held = NULL;
    httpd_resp_end(req);
}

static void hj_alloc(uv_handle_t *hd, size_t s, uv_buf_t *buf)
{
    static char b[4096];
    *buf = uv_buf_init(b, sizeof(b));
}

static void hj_written(uv_write_t *w, int status)
{
    free(w->data);
    free(w);
}

static void hj_write(uv_stream_t *s, const char *data, size_t len)
{
    uv_write_t *w = calloc(1, sizeof(*w));
    char *copy = xstrndup(data, len);
    w->data = copy;
    uv_buf_t b = uv_buf_init(copy, (unsigned int)len);
    assert_int_equal(uv_write(w, s, &b, 1, hj_written), 0);
}

static void hj_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct fx *f = s->data;
    if (n < 0) {
        f->hj = NULL;
        httpd_hijack_close(s);
        return;
    }
    hj_write(s, buf->base, (size_t)n); /* echo */
}

static void on_hijack(uv_stream_t *s, const char *rest, size_t restlen, void *data)
{
    struct fx *f = data;
    f->hj = s;
    s->data = f;
    snprintf(f->hj_rest, sizeof(f->hj_rest), "%.*s", (int)restlen, rest);
    struct sb msg = SB_INIT;
    sb_addf(&msg, "rest=%.*s;", (int)restlen, rest);
    hj_write(s, msg.buf, msg.len);
    sb_release(&msg);
    assert_int_equal(uv_read_start(s, hj_alloc, hj_read), 0);
}

/* ---- streamed bodies -------------------------------------------------------------------- */

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME  1099511628211ULL

static uint64_t fnv(uint64_t h, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)buf[i]) * FNV_PRIME;
    return h;
}

static bool stream_body(struct httpd_req *req, void *ud)
{
    return strncmp(httpd_req_path(req), "/up", 3) == 0;
}

static void s_answer(struct fx *f, struct httpd_req *req, int status, int error)
{
    char out[128];
    int n = snprintf(out, sizeof(out), "n=%zu h=%016llx e=%d", f->slen,
                     (unsigned long long)f->shash, error);
    f->sanswered = true;
    if (strcmp(httpd_req_path(req), "/up-duplex") == 0) { /* the answer began at the headers */
        assert_int_equal(httpd_resp_chunk(req, out, (size_t)n), 0);
        httpd_resp_end(req);
        return;
    }
    httpd_resp_send(req, status, "text/plain", out, (size_t)n);
}

static void on_resume(uv_timer_t *t)
{
    struct fx *f = t->data;
    if (f->sreq)
        httpd_req_body_resume(f->sreq);
}

static int s_data(struct httpd_req *req, const char *buf, size_t len, void *data)
{
    struct fx *f = data;
    assert_false(f->in_read_call);
    assert_ptr_equal(req, f->sreq);
    assert_false(f->sanswered);
    f->ndata++;
    f->shash = fnv(f->shash, buf, len);
    f->slen += len;
    if (len > f->max_piece)
        f->max_piece = len;
    if (strcmp(httpd_req_path(req), "/up-cancel") == 0) {
        s_answer(f, req, 400, 1);
        return 0;
    }
    if (!f->pause_each)
        return 0;
    uv_timer_start(&f->resume, on_resume, 1, 0);
    return 1;
}

static void s_end(struct httpd_req *req, int error, void *data)
{
    struct fx *f = data;
    assert_false(f->in_read_call);
    assert_ptr_equal(req, f->sreq);
    f->nends++;
    f->end_error = error;
    f->sreq = NULL;
    if (!f->sanswered)
        s_answer(f, req, 200, error);
}

static const struct httpd_body_ops s_ops = {.data = s_data, .end = s_end};

static void s_read(struct fx *f, struct httpd_req *req)
{
    f->sreq = req;
    f->in_read_call = true;
    httpd_req_body_read(req, &s_ops, f);
    f->in_read_call = false;
}

static void s_request(struct fx *f, struct httpd_req *req)
{
    const char *p = httpd_req_path(req);
    size_t len = 99;
    httpd_req_body(req, &len);
    assert_int_equal(len, 0); /* streamed: the body comes later */
    f->shash = FNV_OFFSET;
    f->slen = 0;
    f->sanswered = false;
    if (strcmp(p, "/up-wait") == 0) {
        f->sreq = req; /* the test reads it later */
    } else if (strcmp(p, "/up-early") == 0) {
        httpd_resp_send(req, 400, "text/plain", "early", 5);
    } else {
        if (strcmp(p, "/up-duplex") == 0)
            httpd_resp_begin_chunked(req, 200, "text/plain");
        s_read(f, req);
    }
}

static void request(struct httpd_req *req, void *ud)
{
    struct fx *f = ud;
    const char *p = httpd_req_path(req);
    f->nrequests++;
    if (strcmp(p, "/next") == 0)
        f->next_seen_ends = f->nends;
    if (strncmp(p, "/up", 3) == 0) {
        s_request(f, req);
    } else if (strcmp(p, "/later") == 0 || strcmp(p, "/slow") == 0) {
        f->later_reqs[f->nlater++] = req;
        uv_timer_start(&f->later, on_later, strcmp(p, "/slow") == 0 ? 150 : 30, 0);
    } else if (strcmp(p, "/204") == 0 || strcmp(p, "/304") == 0) {
        httpd_resp_send(req, atoi(p + 1), "text/plain", "nobody", 6);
    } else if (strcmp(p, "/stream") == 0) {
        httpd_resp_begin_chunked(req, 200, "application/json");
        assert_int_equal(httpd_resp_chunk(req, "a", 1), 0);
        assert_int_equal(httpd_resp_chunk(req, "bb", 2), 0);
        assert_int_equal(httpd_resp_chunk(req, "", 0), 0);
        assert_int_equal(httpd_resp_chunk(req, "ccc", 3), 0);
        httpd_resp_end(req);
    } else if (strcmp(p, "/stream-abort") == 0) {
        httpd_resp_begin_chunked(req, 200, "application/x-tar");
        assert_int_equal(httpd_resp_chunk(req, "abc", 3), 0);
        httpd_resp_abort(req); /* e.g. docker save failing after its first byte */
    } else if (strcmp(p, "/abort") == 0) {
        httpd_resp_abort(req);
    } else if (strcmp(p, "/hold-stream") == 0 || strcmp(p, "/hold") == 0) {
        if (p[5] == '-')
            httpd_resp_begin_chunked(req, 200, "application/json");
        httpd_req_on_abort(req, on_abort, f);
        f->held = req;
    } else if (strcmp(p, "/hijack") == 0) {
        httpd_resp_hijack(req,
                          "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
                          on_hijack, f);
    } else {
        echo(req);
    }
}

static const struct httpd_ops ops = {
    .request = request, .stream_body = stream_body, .error_body = error_body};

/* ---- the client ------------------------------------------------------------------------- */

static bool chunked_body(const char *p, size_t len, struct resp *r, size_t *used)
{
    size_t off = 0;
    r->bodylen = 0;
    for (;;) {
        const char *nl = memmem(p + off, len - off, "\r\n", 2);
        if (nl == NULL)
            return false;
        size_t n = strtoul(p + off, NULL, 16);
        off = (size_t)(nl - p) + 2;
        if (len - off < n + 2)
            return false;
        memcpy(r->body + r->bodylen, p + off, n);
        r->bodylen += n;
        off += n + 2;
        if (n == 0) {
            *used = off;
            return true;
        }
    }
}

/* Parses one response at the front of rx; false if it is not complete yet. */
static bool parse_resp(struct fx *f)
{
    if (f->rx.len == f->rx_off)
        return false; /* nothing received (rx.buf may be NULL) */
    const char *p = f->rx.buf + f->rx_off;
    size_t len = f->rx.len - f->rx_off;
    const char *end = memmem(p, len, "\r\n\r\n", 4);
    if (end == NULL)
        return false;
    size_t hlen = (size_t)(end - p) + 4, used = 0;
    static struct resp scratch;
    struct resp *r = f->nresps < MAX_RESPS ? &f->resps[f->nresps] : &scratch;
    memset(r, 0, sizeof(*r));
    r->status = atoi(p + 9);
    snprintf(r->head, sizeof(r->head), "%.*s", (int)hlen, p);
    bool nobody = f->expect_head || r->status < 200 || r->status == 204 || r->status == 304;
    const char *cl = strcasestr(r->head, "\r\nContent-Length: ");
    if (!nobody && strcasestr(r->head, "\r\nTransfer-Encoding: chunked")) {
        if (!chunked_body(p + hlen, len - hlen, r, &used))
            return false;
    } else if (!nobody && cl) {
        used = strtoul(cl + 18, NULL, 10);
        if (len - hlen < used)
            return false;
        memcpy(r->body, p + hlen, used);
        r->bodylen = used;
    }
    f->rx_off += hlen + used;
    f->nresps++;
    return true;
}

/* The unparsed input httpd holds for the streamed request, at its largest. */
static void watch_unparsed(struct fx *f)
{
    if (f->sreq == NULL || f->sreq->conn == NULL)
        return;
    const struct conn *c = f->sreq->conn;
    if (c->in.len - c->in_off > f->max_unparsed)
        f->max_unparsed = c->in.len - c->in_off;
    if (!c->reading && !c->read_eof)
        f->read_stopped = true;
}

static void pump_once(struct fx *f)
{
    uv_run(&f->loop, UV_RUN_NOWAIT);
    watch_unparsed(f);
    struct pollfd pfd = {.fd = f->cfd, .events = POLLIN};
    if (f->cfd < 0 || f->eof || poll(&pfd, 1, 1) <= 0)
        return;
    char buf[8192];
    ssize_t n = recv(f->cfd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0)
        sb_add(&f->rx, buf, (size_t)n);
    else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        f->eof = true;
    while (parse_resp(f))
        ;
}

/* Turns the loop and reads until cond holds; fails the test after 3 s. */
static void pump_until(struct fx *f, bool (*cond)(struct fx *f, int n), int n)
{
    for (int i = 0; i < 3000; i++) {
        if (cond(f, n))
            return;
        pump_once(f);
    }
    fail_msg("timed out waiting (have %d responses, eof=%d)", f->nresps, f->eof);
}

/* pump_until() once the client is closed: pump_once() no longer waits, so sleep 1 ms a turn. */
static void pump_until_closed(struct fx *f, bool (*cond)(struct fx *f, int n), int n)
{
    for (int i = 0; i < 3000; i++) {
        if (cond(f, n))
            return;
        pump_once(f);
        poll(NULL, 0, 1);
    }
    fail_msg("timed out waiting (have %d responses, eof=%d)", f->nresps, f->eof);
}

static bool have_resps(struct fx *f, int n)
{
    return f->nresps >= n;
}

static bool have_eof(struct fx *f, int n)
{
    return f->eof;
}

static bool have_abort(struct fx *f, int n)
{
    return f->aborted;
}

static bool have_done(struct fx *f, int n)
{
    return f->done;
}

static bool have_bytes(struct fx *f, int n)
{
    return f->rx.len - f->rx_off >= (size_t)n;
}

static void pump_ms(struct fx *f, int ms)
{
    for (int i = 0; i < ms; i++)
        pump_once(f);
}

static void client_send(struct fx *f, const char *s)
{
    size_t len = strlen(s);
    assert_int_equal(send(f->cfd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Sends all of buf, turning the loop so httpd reads while we write. */
static void client_send_all(struct fx *f, const char *buf, size_t len)
{
    size_t off = 0;
    for (int i = 0; i < 100000 && off < len; i++) {
        ssize_t n = send(f->cfd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else
            assert_int_equal(errno, EAGAIN);
        pump_once(f);
    }
    assert_int_equal(off, len);
}

static bool has(const struct resp *r, const char *line)
{
    return strcasestr(r->head, line) != NULL;
}

/* ---- fixtures --------------------------------------------------------------------------- */

static int fx_open(struct fx *f)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    f->cfd = sv[0];
    struct err *err = NULL;
    assert_int_equal(httpd_serve_fd(f->h, sv[1], &err), 0);
    return sv[0];
}

static void fx_start(struct fx *f)
{
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->later);
    f->later.data = f;
    uv_timer_init(&f->loop, &f->resume);
    f->resume.data = f;
    f->h = httpd_new(&f->loop, &f->lim, &ops, f);
    httpd_set_default_headers(f->h, "Api-Version: 1.44\r\nServer: berth-test\r\n");
    fx_open(f);
}

static int setup_with(void **state, void (*tweak)(struct httpd_limits *l))
{
    struct fx *f = calloc(1, sizeof(*f));
    httpd_limits_default(&f->lim);
    if (tweak)
        tweak(&f->lim);
    sb_init(&f->rx);
    sb_init(&f->hj_in);
    fx_start(f);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL);
}

static void small_limits(struct httpd_limits *l)
{
    l->max_header_bytes = 1024;
    l->max_body_bytes = 1000;
    l->header_timeout_ms = 100;
    l->idle_timeout_ms = 200;
    l->max_conns = 1;
}

static int setup_small(void **state)
{
    return setup_with(state, small_limits);
}

static void on_done(void *ud)
{
    struct fx *f = ud;
    f->done = true;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->cfd >= 0)
        close(f->cfd);
    if (!f->done) {
        httpd_shutdown(f->h, 0, on_done, f);
        for (int i = 0; i < 1000 && !f->done; i++)
            uv_run(&f->loop, UV_RUN_NOWAIT);
        assert_true(f->done);
    }
    uv_close((uv_handle_t *)&f->later, NULL);
    uv_close((uv_handle_t *)&f->resume, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    sb_release(&f->rx);
    sb_release(&f->hj_in);
    free(f);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_simple_get(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: x\r\nX-Test: hello\r\n\r\n");
    pump_until(f, have_resps, 1);
    struct resp *r = &f->resps[0];
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "GET /a/b ?x=1&y=2 0:");
    assert_true(has(r, "HTTP/1.1 200 OK\r\n"));
    assert_true(has(r, "\r\nX-Got: hello\r\n"));
    assert_true(has(r, "\r\nContent-Length: 20\r\n"));
    assert_true(has(r, "\r\nContent-Type: text/plain\r\n"));
    assert_true(has(r, "\r\nApi-Version: 1.44\r\n"));
    assert_true(has(r, "\r\nDate: "));
    assert_false(has(r, "Connection: close"));
    assert_false(f->eof);
    assert_int_equal(httpd_conn_count(f->h), 1);
    assert_int_equal(httpd_busy_count(f->h), 0);
}

static void test_fragments(void **state)
{
    struct fx *f = *state;
    const char *req =
        "POST /frag HTTP/1.1\r\nHost: x\r\nX-Test: v\r\nContent-Length: 5\r\n\r\nhello"
        "GET /second HTTP/1.1\r\n\r\n";
    for (const char *p = req; *p; p++) {
        assert_int_equal(send(f->cfd, p, 1, MSG_NOSIGNAL), 1);
        pump_once(f);
    }
    pump_until(f, have_resps, 2);
    assert_string_equal(f->resps[0].body, "POST /frag ? 5:hello");
    assert_true(has(&f->resps[0], "X-Got: v\r\n"));
    assert_string_equal(f->resps[1].body, "GET /second ? 0:");
}

static void test_pipelined_two(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /later HTTP/1.1\r\n\r\nGET /now HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 2);
    assert_string_equal(f->resps[0].body, "later");
    assert_string_equal(f->resps[1].body, "GET /now ? 0:");
}

static void test_pipelined_ten(void **state)
{
    struct fx *f = *state;
    struct sb all = SB_INIT;
    for (int i = 0; i < 10; i++)
        sb_addf(&all, "GET %s?i=%d HTTP/1.1\r\n\r\n", i % 2 ? "/now" : "/later", i);
    client_send(f, all.buf);
    sb_release(&all);
    pump_until(f, have_resps, 10);
    for (int i = 0; i < 10; i++) {
        char want[64];
        if (i % 2)
            snprintf(want, sizeof(want), "GET /now ?i=%d 0:", i);
        else
            snprintf(want, sizeof(want), "later");
        assert_string_equal(f->resps[i].body, want);
    }
    assert_int_equal(f->nrequests, 10);
}

static void test_chunked_request(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
    pump_until(f, have_resps, 1);
    assert_string_equal(f->resps[0].body, "POST /c ? 12:hello, world");
}

static void test_content_length_body(void **state)
{
    struct fx *f = *state;
    client_send(f, "PUT /cl HTTP/1.1\r\nContent-Length: 11\r\n\r\n{\"a\": true}");
    pump_until(f, have_resps, 1);
    assert_string_equal(f->resps[0].body, "PUT /cl ? 11:{\"a\": true}");
}

static void test_expect_continue(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST /e HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    pump_until(f, have_resps, 1);
    assert_int_equal(f->resps[0].status, 100);
    assert_string_equal(f->resps[0].head, "HTTP/1.1 100 Continue\r\n\r\n");
    client_send(f, "body");
    pump_until(f, have_resps, 2);
    assert_string_equal(f->resps[1].body, "POST /e ? 4:body");
}

static void test_header_too_large(void **state)
{
    struct fx *f = *state;
    struct sb req = SB_INIT;
    sb_adds(&req, "GET / HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 2000; i++)
        sb_addc(&req, 'a');
    sb_adds(&req, "\r\n\r\n");
    client_send(f, req.buf);
    sb_release(&req);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_int_equal(f->resps[0].status, 431);
    assert_true(has(&f->resps[0], "Connection: close"));
    assert_true(has(&f->resps[0], "Content-Type: application/json"));
    assert_string_equal(f->resps[0].body, "{\"message\":\"request header fields too large\"}");
    assert_int_equal(f->nrequests, 0);
}

static void test_too_many_headers(void **state)
{
    struct fx *f = *state;
    struct sb req = SB_INIT;
    sb_adds(&req, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 300; i++)
        sb_addf(&req, "X-%d: 1\r\n", i);
    sb_adds(&req, "\r\n");
    client_send(f, req.buf);
    sb_release(&req);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->resps[0].status, 431);
}

static void test_body_too_large(void **state)
{
    struct fx *f = *state;
    /* No body is sent: the answer must come from the headers alone. */
    client_send(f, "POST /big HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_int_equal(f->resps[0].status, 413);
    assert_true(has(&f->resps[0], "Connection: close"));
    assert_int_equal(f->nrequests, 0);
}

static void test_chunked_too_large(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[600 + 16];
    memset(chunk, 'x', sizeof(chunk));
    int n = snprintf(chunk, sizeof(chunk), "258\r\n");
    chunk[n] = 'x';
    memcpy(chunk + n + 600, "\r\n", 3);
    client_send(f, chunk);
    pump_ms(f, 5);
    assert_int_equal(f->nresps, 0);
    client_send(f, chunk);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->resps[0].status, 413);
    assert_int_equal(f->nrequests, 0);
}

static void test_garbage(void **state)
{
    struct fx *f = *state;
    client_send(f, "\x01\x02garbage\r\n\r\n");
    pump_until(f, have_eof, 0);
    struct resp *r = &f->resps[0];
    assert_int_equal(r->status, 400);
    assert_true(has(r, "Content-Type: application/json\r\n"));
    assert_true(has(r, "Api-Version: 1.44\r\n"));
    assert_true(has(r, "Server: berth-test\r\n"));
    assert_true(has(r, "Date: "));
    assert_true(strncmp(r->body, "{\"message\":\"malformed HTTP request: ", 36) == 0);
}

static void test_bad_chunk_size(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->resps[0].status, 400);
    assert_non_null(strstr(f->resps[0].body, "chunk size"));
}

static void test_bad_content_length(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->resps[0].status, 400);
    assert_non_null(strcasestr(f->resps[0].body, "content-length"));
}

static void test_head(void **state)
{
    struct fx *f = *state;
    f->expect_head = true;
    client_send(f, "HEAD /h HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 1);
    assert_true(has(&f->resps[0], "Content-Length: 12\r\n"));
    f->expect_head = false;
    assert_int_equal(f->rx.len, f->rx_off);
    client_send(f, "GET /after HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 2);
    assert_string_equal(f->resps[1].body, "GET /after ? 0:");
    assert_string_equal(f->resps[0].head + strlen(f->resps[0].head) - 4, "\r\n\r\n");
}

static void test_no_body_statuses(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /204 HTTP/1.1\r\n\r\nGET /304 HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 3);
    assert_int_equal(f->resps[0].status, 204);
    assert_false(has(&f->resps[0], "Content-Length"));
    assert_int_equal(f->resps[1].status, 304);
    assert_int_equal(f->resps[2].status, 200);
    assert_string_equal(f->resps[2].body, "GET /x ? 0:");
}

static void test_chunked_response(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /stream HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 1);
    const char *raw = strstr(f->rx.buf, "\r\n\r\n") + 4;
    assert_string_equal(raw, "1\r\na\r\n2\r\nbb\r\n3\r\nccc\r\n0\r\n\r\n");
    assert_true(has(&f->resps[0], "Transfer-Encoding: chunked\r\n"));
    assert_false(has(&f->resps[0], "Content-Length"));
    assert_string_equal(f->resps[0].body, "abbccc");
}

/* An aborted stream: the chunks sent so far, no terminating chunk, then the connection closes
 * (a pipelined request behind it is never served). */
static void test_chunked_abort(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /stream-abort HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 0); /* the client parser never found the end of the body */
    assert_non_null(f->rx.buf);
    const char *head_end = strstr(f->rx.buf, "\r\n\r\n");
    assert_non_null(head_end);
    assert_true(strncmp(f->rx.buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strcasestr(f->rx.buf, "\r\nTransfer-Encoding: chunked\r\n"));
    assert_string_equal(head_end + 4, "3\r\nabc\r\n");
    assert_int_equal(f->nrequests, 1);
    for (int i = 0; i < 100 && httpd_conn_count(f->h) > 0; i++)
        pump_once(f);
    assert_int_equal(httpd_conn_count(f->h), 0);
    assert_int_equal(httpd_busy_count(f->h), 0);
}

/* Aborted before anything was sent: the connection closes without a response. */
static void test_abort_before_head(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /abort HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->rx.len, 0);
    assert_int_equal(f->nrequests, 1);
    for (int i = 0; i < 100 && httpd_conn_count(f->h) > 0; i++)
        pump_once(f);
    assert_int_equal(httpd_conn_count(f->h), 0);
}

static void test_connection_close(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /c HTTP/1.1\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_true(has(&f->resps[0], "Connection: close\r\n"));
    assert_int_equal(f->nrequests, 1);
}

static void test_http10(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /old HTTP/1.0\r\n\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_true(has(&f->resps[0], "Connection: close\r\n"));
}

static void test_http10_keep_alive(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    pump_until(f, have_resps, 1);
    assert_true(has(&f->resps[0], "Connection: keep-alive\r\n"));
    pump_ms(f, 5);
    assert_false(f->eof);
}

static void test_half_close_gets_response(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /later HTTP/1.1\r\n\r\n");
    shutdown(f->cfd, SHUT_WR);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_string_equal(f->resps[0].body, "later");
}

static void test_abort_stream(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /hold-stream HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 0);
    for (int i = 0; i < 100 && f->held == NULL; i++)
        pump_once(f);
    assert_non_null(f->held);
    assert_int_equal(httpd_resp_chunk(f->held, "x", 1), 0);
    assert_int_equal(httpd_busy_count(f->h), 1);
    close(f->cfd);
    f->cfd = -1;
    pump_until(f, have_abort, 0);
    assert_null(f->held);
    for (int i = 0; i < 100 && httpd_conn_count(f->h) > 0; i++)
        pump_once(f);
    assert_int_equal(httpd_conn_count(f->h), 0);
    assert_int_equal(httpd_busy_count(f->h), 0);
}

static void test_abort_write_fails(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /hold HTTP/1.1\r\n\r\n");
    for (int i = 0; i < 100 && f->held == NULL; i++)
        pump_once(f);
    struct httpd_req *req = f->held;
    assert_non_null(req);
    httpd_req_on_abort(req, NULL, NULL); /* keep it: end it ourselves below */
    close(f->cfd);
    f->cfd = -1;
    for (int i = 0; i < 100 && httpd_conn_count(f->h) > 0; i++) {
        pump_once(f);
        if (httpd_req_aborted(req))
            httpd_resp_begin_chunked(req, 200, NULL);
    }
    assert_true(httpd_req_aborted(req));
    assert_int_equal(httpd_conn_count(f->h), 0);
    assert_int_equal(httpd_resp_chunk(req, "x", 1), -1); /* the client is gone: dropped */
    httpd_resp_end(req);                                 /* still valid until ended */
}

static void test_hijack(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST /hijack HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly");
    pump_until(f, have_resps, 1);
    assert_int_equal(f->resps[0].status, 101);
    pump_until(f, have_bytes, 11);
    assert_string_equal(f->rx.buf + f->rx_off, "rest=early;");
    assert_string_equal(f->hj_rest, "early");
    f->rx_off = f->rx.len;
    client_send(f, "ping");
    pump_until(f, have_bytes, 4);
    assert_string_equal(f->rx.buf + f->rx_off, "ping");
    assert_int_equal(httpd_conn_count(f->h), 1);
    assert_int_equal(httpd_busy_count(f->h), 0);
    close(f->cfd);
    f->cfd = -1;
    for (int i = 0; i < 100 && httpd_conn_count(f->h) > 0; i++)
        pump_once(f);
    assert_int_equal(httpd_conn_count(f->h), 0);
}

static void test_conn_cap(void **state)
{
    struct fx *f = *state;
    int first = f->cfd;
    fx_open(f); /* small limits: max_conns 1 */
    pump_until(f, have_eof, 0);
    assert_int_equal(f->resps[0].status, 503);
    assert_non_null(strstr(f->resps[0].body, "too many connections"));
    close(f->cfd);
    /* the first connection still works */
    f->cfd = first;
    f->eof = false;
    client_send(f, "GET /ok HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 2);
    assert_string_equal(f->resps[1].body, "GET /ok ? 0:");
}

static void test_header_timeout(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET / HTTP/1.1\r\nHost: x\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_int_equal(f->resps[0].status, 408);
}

static void test_idle_timeout(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /x HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 1);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
}

static void test_no_timeout_while_handling(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /hold HTTP/1.1\r\n\r\n");
    pump_ms(f, 400); /* twice the idle timeout, more than the header timeout */
    assert_non_null(f->held);
    assert_false(f->eof);
    struct httpd_req *req = f->held;
    f->held = NULL;
    httpd_resp_send(req, 200, NULL, "ok", 2);
    pump_until(f, have_resps, 1);
    assert_string_equal(f->resps[0].body, "ok");
}

static void test_shutdown_lets_request_finish(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /slow HTTP/1.1\r\n\r\n");
    pump_ms(f, 5);
    assert_int_equal(httpd_busy_count(f->h), 1);
    httpd_shutdown(f->h, 5000, on_done, f);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_string_equal(f->resps[0].body, "later");
    assert_true(has(&f->resps[0], "Connection: close"));
    pump_until(f, have_done, 0);
}

static void test_shutdown_grace_expires(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /hold-stream HTTP/1.1\r\n\r\n");
    pump_ms(f, 5);
    assert_non_null(f->held);
    httpd_shutdown(f->h, 50, on_done, f);
    pump_until(f, have_done, 0);
    assert_true(f->aborted);
    assert_null(f->held);
}

static void drained(struct httpd_req *req, void *data)
{
    int *n = data;
    (*n)++;
}

static void test_drain(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /hold-stream HTTP/1.1\r\n\r\n");
    pump_ms(f, 5);
    struct httpd_req *req = f->held;
    assert_non_null(req);
    int ndrained = 0;
    httpd_resp_on_drain(req, 1024, drained, &ndrained);
    static char big[1 << 20];
    memset(big, 'z', sizeof(big));
    assert_int_equal(httpd_resp_chunk(req, big, sizeof(big)), 0);
    assert_true(httpd_resp_pending(req) > 0);
    size_t want = sizeof(big) + 16;
    for (int i = 0; i < 3000 && ndrained == 0; i++)
        pump_once(f);
    assert_int_equal(ndrained, 1);
    for (int i = 0; i < 3000 && f->rx.len < want; i++)
        pump_once(f);
    assert_true(f->rx.len >= want);
    assert_int_equal(ndrained, 1);
    assert_int_equal(httpd_resp_pending(req), 0);
    f->held = NULL;
    httpd_resp_end(req);
}

/* A flood pipelined behind a held request: reading stops, and everything is answered later. */
static void test_backpressure(void **state)
{
    struct fx *f = *state;
    client_send(f, "GET /hold HTTP/1.1\r\n\r\n");
    pump_ms(f, 5);
    assert_non_null(f->held);
    struct sb one = SB_INIT;
    sb_adds(&one, "GET /p HTTP/1.1\r\nX-Pad: ");
    for (int i = 0; i < 1000; i++)
        sb_addc(&one, 'p');
    sb_adds(&one, "\r\n\r\n");
    int total = 2000, sent = 0;
    size_t off = 0;
    bool blocked = false;
    for (int i = 0; i < 2000 && sent < total; i++) {
        ssize_t n = send(f->cfd, one.buf + off, one.len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            blocked = true;
            break;
        }
        off += (size_t)n;
        if (off == one.len) {
            off = 0;
            sent++;
        }
        pump_once(f);
    }
    assert_true(blocked); /* httpd stopped reading: the socket buffers filled up */
    assert_int_equal(f->nrequests, 1);
    struct httpd_req *req = f->held;
    f->held = NULL;
    httpd_resp_send(req, 200, NULL, "held", 4);
    for (int i = 0; i < 100000 && sent < total; i++) {
        ssize_t n = send(f->cfd, one.buf + off, one.len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            if (off == one.len) {
                off = 0;
                sent++;
            }
        }
        pump_once(f);
    }
    sb_release(&one);
    assert_int_equal(sent, total);
    for (int i = 0; i < 100000 && f->nresps < total + 1; i++)
        pump_once(f);
    assert_int_equal(f->nresps, total + 1);
    assert_string_equal(f->resps[0].body, "held");
    assert_string_equal(f->resps[1].body, "GET /p ? 0:");
    assert_false(f->eof);
}

static void test_upgrade_not_hijacked(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST /x HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nraw bytes");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_string_equal(f->resps[0].body, "POST /x ? 0:");
    assert_true(has(&f->resps[0], "Connection: close"));
}

static void test_shutdown_detaches_hijacked(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST /hijack HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    pump_until(f, have_bytes, 1);
    assert_non_null(f->hj);
    httpd_shutdown(f->h, 20, on_done, f);
    pump_until(f, have_done, 0); /* the grace period ended; the httpd is gone */
    pump_until(f, have_eof, 0);
    httpd_hijack_close(f->hj); /* its owner still releases it */
    f->hj = NULL;
}

/* ---- streamed request bodies ----------------------------------------------------------- */

static void make_body(struct sb *b, size_t n)
{
    sb_grow(b, n);
    for (size_t i = 0; i < n; i++)
        b->buf[i] = (char)(i * 131 + (i >> 9));
    b->len = n;
    b->buf[n] = '\0';
}

static void expect_summary(const struct resp *r, const struct sb *body, int error)
{
    char want[128];
    snprintf(want, sizeof(want), "n=%zu h=%016llx e=%d", body->len,
             (unsigned long long)fnv(FNV_OFFSET, body->buf, body->len), error);
    assert_string_equal(r->body, want);
}

static bool have_ends(struct fx *f, int n)
{
    return f->nends >= n;
}

/* Content-Length, over the 8 MiB buffered limit: all of it, in order, in several pieces. */
static void test_stream_content_length(void **state)
{
    struct fx *f = *state;
    struct sb body = SB_INIT;
    make_body(&body, 9 * 1024 * 1024 + 123);
    char head[128];
    snprintf(head, sizeof(head), "PUT /up HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", body.len);
    client_send(f, head);
    client_send_all(f, body.buf, body.len);
    pump_until(f, have_resps, 1);
    assert_int_equal(f->resps[0].status, 200);
    expect_summary(&f->resps[0], &body, 0);
    assert_int_equal(f->nends, 1);
    assert_true(f->ndata > 1);
    assert_true(f->max_piece <= HTTPD_READ_BOUND + sizeof(f->h->rbuf));
    assert_false(has(&f->resps[0], "Connection: close"));
    client_send(f, "GET /after HTTP/1.1\r\n\r\n"); /* the connection is reusable */
    pump_until(f, have_resps, 2);
    assert_string_equal(f->resps[1].body, "GET /after ? 0:");
    assert_int_equal(httpd_busy_count(f->h), 0);
    sb_release(&body);
}

static void test_stream_chunked(void **state)
{
    struct fx *f = *state;
    struct sb body = SB_INIT, wire = SB_INIT;
    make_body(&body, 3 * 1024 * 1024 + 7);
    sb_adds(&wire, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t off = 0;
    for (size_t k = 1; off < body.len; k++) {
        size_t n = 1 + (k * 7919) % 70000;
        if (n > body.len - off)
            n = body.len - off;
        sb_addf(&wire, k == 3 ? "%zx;ext=1\r\n" : "%zx\r\n", n);
        sb_add(&wire, body.buf + off, n);
        sb_adds(&wire, "\r\n");
        off += n;
    }
    sb_adds(&wire, "0\r\n\r\n");
    client_send_all(f, wire.buf, wire.len);
    pump_until(f, have_resps, 1);
    expect_summary(&f->resps[0], &body, 0);
    assert_int_equal(f->nends, 1);
    assert_false(has(&f->resps[0], "Connection: close"));
    sb_release(&body);
    sb_release(&wire);
}

/* Paused on every piece and resumed from a timer: everything arrives; the input stays bounded. */
static void test_stream_pause_resume(void **state)
{
    struct fx *f = *state;
    f->pause_each = true;
    struct sb body = SB_INIT;
    make_body(&body, 3 * 1024 * 1024);
    char head[128];
    snprintf(head, sizeof(head), "PUT /up HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", body.len);
    client_send(f, head);
    client_send_all(f, body.buf, body.len);
    pump_until(f, have_resps, 1);
    expect_summary(&f->resps[0], &body, 0);
    assert_int_equal(f->nends, 1);
    assert_true(f->ndata > 10);
    assert_true(f->read_stopped); /* while paused, above the bound */
    assert_true(f->max_unparsed > 0);
    assert_true(f->max_unparsed <= HTTPD_READ_BOUND + sizeof(f->h->rbuf));
    assert_true(f->max_piece <= HTTPD_READ_BOUND + sizeof(f->h->rbuf));
    sb_release(&body);
}

static void test_stream_disconnect(void **state)
{
    struct fx *f = *state;
    struct sb body = SB_INIT;
    make_body(&body, 10000);
    client_send(f, "PUT /up HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
    client_send_all(f, body.buf, body.len);
    for (int i = 0; i < 1000 && f->slen < body.len; i++)
        pump_once(f);
    assert_int_equal(f->slen, body.len);
    assert_int_equal(f->nends, 0);
    close(f->cfd);
    f->cfd = -1;
    pump_until_closed(f, have_ends, 1);
    assert_int_equal(f->end_error, -ECONNRESET);
    for (int i = 0; i < 100 && httpd_conn_count(f->h) > 0; i++)
        pump_once(f);
    assert_int_equal(httpd_conn_count(f->h), 0);
    assert_int_equal(httpd_busy_count(f->h), 0);
    assert_int_equal(f->nends, 1);
    sb_release(&body);
}

/* Paused when the client leaves: what it sent is still delivered, then end(<0), once. */
static void test_stream_disconnect_paused(void **state)
{
    struct fx *f = *state;
    f->pause_each = true;
    struct sb body = SB_INIT;
    make_body(&body, 300000);
    client_send(f, "PUT /up HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
    client_send_all(f, body.buf, body.len);
    close(f->cfd);
    f->cfd = -1;
    pump_until_closed(f, have_ends, 1);
    assert_int_equal(f->end_error, -ECONNRESET);
    assert_int_equal(f->slen, body.len);
    assert_int_equal(f->shash, fnv(FNV_OFFSET, body.buf, body.len));
    pump_ms(f, 10);
    assert_int_equal(f->nends, 1);
    assert_int_equal(httpd_conn_count(f->h), 0);
    sb_release(&body);
}

static void test_stream_expect_continue(void **state)
{
    struct fx *f = *state;
    client_send(f, "PUT /up-wait HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    pump_ms(f, 20);
    assert_non_null(f->sreq);
    assert_int_equal(f->nresps, 0); /* no 100 Continue before the handler reads */
    s_read(f, f->sreq);
    pump_until(f, have_resps, 1);
    assert_string_equal(f->resps[0].head, "HTTP/1.1 100 Continue\r\n\r\n");
    client_send(f, "hello");
    pump_until(f, have_resps, 2);
    struct sb body = SB_INIT;
    sb_adds(&body, "hello");
    expect_summary(&f->resps[1], &body, 0);
    sb_release(&body);
}

/* Answered before the body arrived: the response says close, and the connection closes. */
static void test_stream_early_answer(void **state)
{
    struct fx *f = *state;
    struct sb body = SB_INIT;
    make_body(&body, 1000);
    client_send(f, "PUT /up-early HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
    client_send_all(f, body.buf, body.len);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_int_equal(f->resps[0].status, 400);
    assert_string_equal(f->resps[0].body, "early");
    assert_true(has(&f->resps[0], "Connection: close\r\n"));
    assert_int_equal(f->nends, 0); /* never read: no end */
    sb_release(&body);
}

/* Answered early, but the whole body had arrived: it is dropped and the connection goes on. */
static void test_stream_early_answer_complete(void **state)
{
    struct fx *f = *state;
    client_send(f, "PUT /up-early HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                   "GET /next HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 2);
    assert_int_equal(f->resps[0].status, 400);
    assert_false(has(&f->resps[0], "Connection: close"));
    assert_string_equal(f->resps[1].body, "GET /next ? 0:");
    pump_ms(f, 5);
    assert_false(f->eof);
}

/* Answered from inside data: end(-ECANCELED) follows once, and the connection closes. */
static void test_stream_cancel(void **state)
{
    struct fx *f = *state;
    struct sb body = SB_INIT;
    make_body(&body, 5000);
    client_send(f, "PUT /up-cancel HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
    client_send_all(f, body.buf, body.len);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_int_equal(f->resps[0].status, 400);
    assert_true(has(&f->resps[0], "Connection: close\r\n"));
    assert_int_equal(f->ndata, 1);
    assert_int_equal(f->nends, 1);
    assert_int_equal(f->end_error, -ECANCELED);
    sb_release(&body);
}

/* A request pipelined behind a streamed one is delivered only after that body's end ran. */
static void test_stream_pipelined(void **state)
{
    struct fx *f = *state;
    f->pause_each = true;
    f->next_seen_ends = -1;
    struct sb body = SB_INIT, wire = SB_INIT;
    make_body(&body, 300000);
    sb_addf(&wire, "PUT /up HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", body.len);
    sb_add(&wire, body.buf, body.len);
    sb_adds(&wire, "GET /next HTTP/1.1\r\n\r\n");
    client_send_all(f, wire.buf, wire.len);
    pump_until(f, have_resps, 2);
    expect_summary(&f->resps[0], &body, 0);
    assert_string_equal(f->resps[1].body, "GET /next ? 0:");
    assert_int_equal(f->next_seen_ends, 1);
    assert_int_equal(f->nrequests, 2);
    sb_release(&body);
    sb_release(&wire);
}

/* Streamed bodies ignore the buffered limit (here 1000 bytes). */
static void test_stream_over_limit(void **state)
{
    struct fx *f = *state;
    struct sb body = SB_INIT;
    make_body(&body, 20000);
    client_send(f, "PUT /up HTTP/1.1\r\nContent-Length: 20000\r\n\r\n");
    client_send_all(f, body.buf, body.len);
    pump_until(f, have_resps, 1);
    assert_int_equal(f->resps[0].status, 200);
    expect_summary(&f->resps[0], &body, 0);
    sb_release(&body);
}

static void test_stream_no_body(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST /up HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /up HTTP/1.1\r\n\r\n");
    pump_until(f, have_resps, 2);
    struct sb empty = SB_INIT;
    expect_summary(&f->resps[0], &empty, 0);
    expect_summary(&f->resps[1], &empty, 0);
    assert_int_equal(f->ndata, 0);
    assert_int_equal(f->nends, 2);
}

static void test_stream_bad_chunk(void **state)
{
    struct fx *f = *state;
    client_send(f, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n");
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nends, 1);
    assert_int_equal(f->end_error, -EBADMSG);
    assert_int_equal(f->nresps, 1);
    assert_true(has(&f->resps[0], "Connection: close\r\n"));
    struct sb body = SB_INIT;
    sb_adds(&body, "hello");
    expect_summary(&f->resps[0], &body, -EBADMSG);
    sb_release(&body);
}

/* A body that came with the headers is delivered on a later turn, not inside the read call. */
static void test_stream_buffered_first(void **state)
{
    struct fx *f = *state;
    client_send(f, "PUT /up-wait HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    pump_ms(f, 10);
    assert_non_null(f->sreq);
    s_read(f, f->sreq); /* s_data asserts it does not run from here */
    assert_int_equal(f->ndata, 0);
    pump_until(f, have_resps, 1);
    struct sb body = SB_INIT;
    sb_adds(&body, "hello");
    expect_summary(&f->resps[0], &body, 0);
    sb_release(&body);
}

/* A chunked answer begun while the body streams: the body still arrives; then close. */
static void test_stream_duplex(void **state)
{
    struct fx *f = *state;
    struct sb body = SB_INIT;
    make_body(&body, 200000);
    client_send(f, "PUT /up-duplex HTTP/1.1\r\nContent-Length: 200000\r\n\r\n");
    client_send_all(f, body.buf, body.len);
    pump_until(f, have_eof, 0);
    assert_int_equal(f->nresps, 1);
    assert_true(has(&f->resps[0], "Transfer-Encoding: chunked\r\n"));
    assert_true(has(&f->resps[0], "Connection: close\r\n"));
    expect_summary(&f->resps[0], &body, 0);
    assert_int_equal(f->nends, 1);
    sb_release(&body);
}

static void test_listen_unix(void **state)
{
    struct fx *f = *state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/berth-httpd-test-%d.sock", (int)getpid());
    unlink(path);
    struct err *err = NULL;
    assert_int_equal(httpd_listen_unix(f->h, path, &err), 0);
    assert_int_equal(httpd_listen_unix(f->h, path, &err), -1);
    assert_non_null(err);
    err_free(err);
    unlink(path);
}

static void test_status_text(void **state)
{
    assert_string_equal(httpd_status_text(200), "OK");
    assert_string_equal(httpd_status_text(404), "Not Found");
    assert_string_equal(httpd_status_text(431), "Request Header Fields Too Large");
    assert_string_equal(httpd_status_text(599), "Unknown");
}

#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TS(fn) cmocka_unit_test_setup_teardown(fn, setup_small, teardown)

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        T(test_simple_get),
        T(test_fragments),
        T(test_pipelined_two),
        T(test_pipelined_ten),
        T(test_chunked_request),
        T(test_content_length_body),
        T(test_expect_continue),
        TS(test_header_too_large),
        T(test_too_many_headers),
        TS(test_body_too_large),
        TS(test_chunked_too_large),
        T(test_garbage),
        T(test_bad_chunk_size),
        T(test_bad_content_length),
        T(test_head),
        T(test_no_body_statuses),
        T(test_chunked_response),
        T(test_chunked_abort),
        T(test_abort_before_head),
        T(test_connection_close),
        T(test_http10),
        T(test_http10_keep_alive),
        T(test_half_close_gets_response),
        T(test_abort_stream),
        T(test_abort_write_fails),
        T(test_hijack),
        TS(test_conn_cap),
        TS(test_header_timeout),
        TS(test_idle_timeout),
        TS(test_no_timeout_while_handling),
        T(test_shutdown_lets_request_finish),
        T(test_shutdown_grace_expires),
        T(test_drain),
        T(test_backpressure),
        T(test_upgrade_not_hijacked),
        T(test_shutdown_detaches_hijacked),
        T(test_stream_content_length),
        T(test_stream_chunked),
        T(test_stream_pause_resume),
        T(test_stream_disconnect),
        T(test_stream_disconnect_paused),
        T(test_stream_expect_continue),
        T(test_stream_early_answer),
        T(test_stream_early_answer_complete),
        T(test_stream_cancel),
        T(test_stream_pipelined),
        TS(test_stream_over_limit),
        T(test_stream_no_body),
        T(test_stream_bad_chunk),
        T(test_stream_buffered_first),
        T(test_stream_duplex),
        T(test_listen_unix),
        cmocka_unit_test(test_status_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
