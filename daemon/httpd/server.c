/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server: listeners, accept and the connection cap, graceful shutdown, and small shared
 * helpers. Handles are freed only in their close callbacks; the httpd itself is freed after
 * the last one closed and done() ran.
 */
#include "daemon/httpd/httpd_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

void httpd_limits_default(struct httpd_limits *l)
{
    l->max_header_bytes = 64 * 1024;
    l->max_body_bytes = 8 * 1024 * 1024;
    l->header_timeout_ms = 60 * 1000;
    l->idle_timeout_ms = 300 * 1000;
    l->max_conns = 4096;
    l->spin_us = 50;
}

struct httpd *httpd_new(uv_loop_t *loop, const struct httpd_limits *limits,
                        const struct httpd_ops *ops, void *ud)
{
    struct httpd *h = xcalloc(1, sizeof(*h));
    h->loop = loop;
    if (limits)
        h->lim = *limits;
    else
        httpd_limits_default(&h->lim);
    h->ops = *ops;
    h->ud = ud;
    uv_timer_init(loop, &h->grace);
    h->grace.data = h;
    uv_idle_init(loop, &h->spin);
    h->spin.data = h;
    return h;
}

void httpd_set_default_headers(struct httpd *h, const char *lines)
{
    free(h->default_headers);
    h->default_headers = lines ? xstrdup(lines) : NULL;
}

const char *httpd_date(struct httpd *h)
{
    time_t now = time(NULL);
    if (now != h->date_time || h->date[0] == '\0') {
        time_http_date(now, h->date);
        h->date_time = now;
    }
    return h->date;
}

unsigned int httpd_conn_count(const struct httpd *h)
{
    return h->nconns;
}

unsigned int httpd_busy_count(const struct httpd *h)
{
    return h->nbusy;
}

static void httpd_on_grace_closed(uv_handle_t *hd)
{
    struct httpd *h = hd->data;
    if (h->done)
        h->done(h->done_ud);
    free(h->default_headers);
    free(h);
}

static void httpd_on_spin_closed(uv_handle_t *hd)
{
    struct httpd *h = hd->data;
    uv_close((uv_handle_t *)&h->grace, httpd_on_grace_closed);
}

static void httpd_maybe_finish(struct httpd *h)
{
    if (!h->stopping || h->grace_closing || h->nlisteners > 0 || h->nconns > 0)
        return;
    h->grace_closing = true;
    uv_timer_stop(&h->grace);
    uv_close((uv_handle_t *)&h->spin, httpd_on_spin_closed);
}

#define SPIN_SCORE_MAX 8
#define SPIN_PROBE     16

static void httpd_on_spin(uv_idle_t *i)
{
    struct httpd *h = i->data;
    if (uv_hrtime() < h->spin_until)
        return;
    uv_idle_stop(i); /* nothing came: a miss */
    if (h->spin_score > -SPIN_SCORE_MAX)
        h->spin_score--;
}

void httpd_spin_hit(struct httpd *h)
{
    if (!uv_is_active((uv_handle_t *)&h->spin))
        return;
    uv_idle_stop(&h->spin); /* the response re-arms it */
    if (h->spin_score < SPIN_SCORE_MAX)
        h->spin_score++;
}

void httpd_spin(struct httpd *h)
{
    if (!h->lim.spin_us || h->stopping)
        return;
    if (h->spin_score < 0 && ++h->spin_skipped < SPIN_PROBE)
        return;
    h->spin_skipped = 0;
    h->spin_until = uv_hrtime() + (uint64_t)h->lim.spin_us * 1000;
    if (!uv_is_active((uv_handle_t *)&h->spin))
        uv_idle_start(&h->spin, httpd_on_spin);
}

void httpd_conn_gone(struct httpd *h, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    h->nconns--;
    httpd_maybe_finish(h);
}

/* ---- listeners ---------------------------------------------------------------------------- */

static void listener_on_close(uv_handle_t *hd)
{
    struct listener *l = container_of((uv_pipe_t *)hd, struct listener, pipe);
    struct httpd *h = l->h;
    free(l);
    h->nlisteners--;
    httpd_maybe_finish(h);
}

static void listener_close(struct listener *l)
{
    struct listener **pp = &l->h->listeners;
    while (*pp && *pp != l)
        pp = &(*pp)->next;
    if (*pp)
        *pp = l->next;
    uv_close((uv_handle_t *)&l->pipe, listener_on_close);
}

static void httpd_on_connection(uv_stream_t *server, int status)
{
    struct listener *l = container_of((uv_pipe_t *)server, struct listener, pipe);
    struct httpd *h = l->h;
    if (status < 0) {
        log_warn("httpd: accept: %s", uv_strerror(status));
        return;
    }
    struct conn *c = conn_new(h);
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
        conn_close(c);
        return;
    }
    if (h->nconns > h->lim.max_conns) {
        conn_send_error(c, 503, "too many connections");
        return;
    }
    conn_settle(c);
}

static struct listener *listener_new(struct httpd *h)
{
    struct listener *l = xcalloc(1, sizeof(*l));
    l->h = h;
    uv_pipe_init(h->loop, &l->pipe, 0);
    l->next = h->listeners;
    h->listeners = l;
    h->nlisteners++;
    return l;
}

int httpd_listen_unix(struct httpd *h, const char *path, struct err **err)
{
    if (h->stopping)
        return err_set(err, ERR_UNAVAILABLE, 0, "listen on %s: server is stopping", path);
    struct listener *l = listener_new(h);
    int r = uv_pipe_bind(&l->pipe, path);
    if (r < 0) {
        listener_close(l);
        return err_set(err, ERR_SYSTEM, -r, "bind %s", path);
    }
    r = uv_listen((uv_stream_t *)&l->pipe, HTTPD_BACKLOG, httpd_on_connection);
    if (r < 0) {
        listener_close(l); /* libuv unlinks the path it bound when the handle closes */
        return err_set(err, ERR_SYSTEM, -r, "listen on %s", path);
    }
    return 0;
}

static int fd_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

/*
 * The fd is consumed either way: adopted by the handle, or closed here when it could not be
 * (never retried).
 */
int httpd_listen_fd(struct httpd *h, int fd, struct err **err)
{
    int r = h->stopping ? UV_ECANCELED : fd_cloexec(fd);
    if (r < 0) {
        close(fd);
        return err_set(err, ERR_SYSTEM, -r, "listen on fd %d", fd);
    }
    struct listener *l = listener_new(h);
    r = uv_pipe_open(&l->pipe, fd);
    if (r < 0)
        close(fd); /* not adopted */
    else
        r = uv_listen((uv_stream_t *)&l->pipe, HTTPD_BACKLOG, httpd_on_connection);
    if (r < 0) {
        listener_close(l); /* closes fd if it was adopted */
        return err_set(err, ERR_SYSTEM, -r, "listen on fd %d", fd);
    }
    return 0;
}

/* The fd is consumed either way, as with httpd_listen_fd(). */
int httpd_serve_fd(struct httpd *h, int fd, struct err **err)
{
    int r = h->stopping ? UV_ECANCELED : fd_cloexec(fd);
    if (r < 0) {
        close(fd);
        return err_set(err, ERR_SYSTEM, -r, "serve fd %d", fd);
    }
    struct conn *c = conn_new(h);
    r = uv_pipe_open(&c->pipe, fd);
    if (r < 0) {
        close(fd);
        conn_close(c);
        return err_set(err, ERR_SYSTEM, -r, "serve fd %d", fd);
    }
    if (h->nconns > h->lim.max_conns) {
        conn_send_error(c, 503, "too many connections");
        return 0;
    }
    conn_settle(c);
    return 0;
}

/* ---- shutdown ----------------------------------------------------------------------------- */

static void httpd_force_close(struct httpd *h)
{
    struct conn *next;
    for (struct conn *c = h->conns; c; c = next) {
        next = c->next;
        if (c->hijacked)
            conn_detach(c); /* its owner still frees it with httpd_hijack_close() */
        else
            conn_close(c);
    }
}

static void httpd_on_grace(uv_timer_t *t)
{
    struct httpd *h = t->data;
    httpd_force_close(h);
    httpd_maybe_finish(h);
}

void httpd_shutdown(struct httpd *h, unsigned int grace_ms, void (*done)(void *ud), void *ud)
{
    if (h->stopping)
        return;
    h->stopping = true;
    uv_idle_stop(&h->spin);
    h->done = done;
    h->done_ud = ud;
    while (h->listeners)
        listener_close(h->listeners);
    struct conn *next;
    for (struct conn *c = h->conns; c; c = next) {
        next = c->next;
        if (!c->hijacked)
            conn_settle(c); /* idle ones close now, busy ones after their response */
    }
    if (grace_ms == 0)
        httpd_force_close(h);
    else
        uv_timer_start(&h->grace, httpd_on_grace, grace_ms, 0);
    httpd_maybe_finish(h);
}

static const struct {
    int status;
    const char *text;
} httpd_reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Request Entity Too Large"},
    {415, "Unsupported Media Type"},
    {416, "Requested Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Entity"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

const char *httpd_status_text(int status)
{
    for (size_t i = 0; i < ARRAY_SIZE(httpd_reasons); i++) {
        if (httpd_reasons[i].status == status)
            return httpd_reasons[i].text;
    }
    return "Unknown";
}
