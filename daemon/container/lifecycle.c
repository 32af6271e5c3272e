/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start, exit, stop, kill, wait, restart policies: the container's state machine, driven by
 * its berth-shim. berthd spawns the shim, reads one line on the sync pipe ({"pid":N} or
 * {"error":...}), then keeps a connection to shim.sock on which the shim reports the exit.
 */
#include "daemon/container/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/runtime/runtime.h"
#include "daemon/shim/shim.h"

#define SHIM_MSG_MAX (64 * 1024)

/* ---- waiters ----------------------------------------------------------------------------- */

struct ctr_waiter *ctr_wait(struct ctr_store *st, struct ctr *c, enum ctr_wait_cond cond,
                            ctr_wait_cb cb, void *data)
{
    (void)st;
    bool running = c->status == CTR_RUNNING || c->status == CTR_PAUSED ||
                   c->status == CTR_RESTARTING || c->starting;
    if (cond == CTR_WAIT_NOT_RUNNING && !running) {
        cb(c->exit_code, NULL, data);
        return NULL;
    }
    struct ctr_waiter *w = xcalloc(1, sizeof(*w));
    w->c = c;
    w->cond = cond;
    w->cb = cb;
    w->data = data;
    w->next = c->waiters;
    c->waiters = w;
    ctr_ref(c);
    return w;
}

void ctr_wait_cancel(struct ctr_waiter *w)
{
    if (!w)
        return;
    struct ctr *c = w->c;
    for (struct ctr_waiter **pp = &c->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    free(w);
    ctr_unref(c);
}

/* Runs the waiters the event satisfies: an exit (removed false) or the removal. */
void ctr_notify_waiters(struct ctr *c, bool removed)
{
    struct ctr_waiter **pp = &c->waiters;
    struct ctr_waiter *ready = NULL;
    while (*pp) {
        struct ctr_waiter *w = *pp;
        bool fire = removed || w->cond != CTR_WAIT_REMOVED;
        if (!fire) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->next = ready;
        ready = w;
    }
    while (ready) {
        struct ctr_waiter *w = ready;
        ready = w->next;
        w->cb(c->exit_code, c->error, w->data);
        free(w);
        ctr_unref(c);
    }
}

/* ---- the shim connection ----------------------------------------------------------------- */

static void shim_send(struct ctr *c, const struct api_shim_msg *m);

static void on_shim_pipe_closed(uv_handle_t *h)
{
    struct ctr_shim *s = h->data;
    struct ctr *c = s->c;
    sb_release(&s->in);
    free(s);
    ctr_unref(c);
}

/* Detaches c from its shim: closes the connection (the shim goes on running). */
void ctr_shim_close(struct ctr *c)
{
    struct ctr_shim *s = c->shim;
    if (!s)
        return;
    c->shim = NULL;
    if (s->pipe_open) {
        if (!uv_is_closing((uv_handle_t *)&s->pipe))
            uv_close((uv_handle_t *)&s->pipe, on_shim_pipe_closed);
        return;
    }
    sb_release(&s->in);
    free(s);
    ctr_unref(c);
}

struct exit_read {
    uv_work_t work;
    struct ctr *c;
    char *path;
    char *cgroup;
    int pid; /* the container's pid as berthd knew it; 0 when unknown */
    bool found;
    int exit_code;
    bool oom;
    int64_t finished_ns;
};

static void exit_read_work(uv_work_t *w)
{
    struct exit_read *er = w->data;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fsu_read_file(er->path, 1 << 16, &text, &len) < 0) {
        /* The shim died with the container still running: nothing watches or logs it any
         * more, so it is ended (the cgroup's processes are killed) and marked exited. */
        struct err *err = NULL;
        if (rt_cgroup_destroy(er->cgroup, &err) < 0) {
            log_warn("container %.12s: %s", er->c->id, err->msg);
            err_free(err);
        }
        return;
    }
    json_auto_t *j = json_loadb(text, len, 0, NULL);
    json_t *code = json_object_get(j, "exit_code");
    json_t *pid = json_object_get(j, "pid");
    /* The shim writes the file just after telling berthd of the exit, so a file left by an
     * earlier run of the container can outlive the next start: it must name this run's pid. */
    if (!json_is_integer(code) ||
        (er->pid > 0 && json_is_integer(pid) && json_integer_value(pid) != er->pid))
        return;
    er->found = true;
    er->exit_code = (int)json_integer_value(code);
    er->oom = json_is_true(json_object_get(j, "oom_killed"));
    er->finished_ns = ctr_time_parse(json_string_value(json_object_get(j, "finished_at")));
}

static void exit_read_after(uv_work_t *w, int status)
{
    struct exit_read *er = w->data;
    struct ctr *c = er->c;
    (void)status;
    if (!c->removed && (c->status == CTR_RUNNING || c->status == CTR_PAUSED)) {
        if (er->found)
            ctr_exited(c, er->exit_code, er->oom, er->finished_ns, NULL);
        else
            ctr_exited(c, 255, false, ctr_now_ns(), "the container's monitor (berth-shim) died");
    }
    free(er->path);
    free(er->cgroup);
    free(er);
    ctr_unref(c);
}

/* The shim is gone without telling us the exit: the exit file (if any) says how it ended. */
static void shim_lost(struct ctr *c)
{
    ctr_shim_close(c);
    if (c->start_cb) {
        ctr_start_answered(c, 0, "berth-shim ended before starting the container");
        return;
    }
    struct exit_read *er = xcalloc(1, sizeof(*er));
    er->c = c;
    ctr_ref(c);
    er->path = ctr_path(c, "exit.json");
    er->cgroup = xasprintf("berth/%s", c->id);
    er->pid = c->pid;
    er->work.data = er;
    uv_queue_work(c->st->loop, &er->work, exit_read_work, exit_read_after);
}

static void shim_handle_line(struct ctr *c, const char *line, size_t len)
{
    struct api_shim_msg m = {0};
    struct err *err = NULL;
    if (api_shim_decode(line, len, &m, &err) < 0) {
        log_warn("container %.12s: bad message from shim: %s", c->id, err->msg);
        err_free(err);
        return;
    }
    if (m.status && strcmp(m.status, "exited") == 0 &&
        (c->status == CTR_RUNNING || c->status == CTR_PAUSED)) {
        ctr_shim_close(c);
        ctr_exited(c, m.exit_code, m.oom_killed, ctr_time_parse(m.finished_at), NULL);
    } else if (m.status && strcmp(m.status, "running") == 0 && m.pid > 0) {
        if (c->start_cb)
            ctr_start_answered(c, m.pid, NULL); /* the answer to a delayed start */
        else
            c->pid = m.pid;
    } else if (m.error && c->start_cb) {
        ctr_start_answered(c, 0, m.error);
    } else if (m.error) {
        log_debug("container %.12s: shim: %s", c->id, m.error);
    }
    api_shim_release(&m);
}

static void on_shim_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = xmalloc(4096);
    buf->len = 4096;
}

static void on_shim_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct ctr_shim *s = stream->data;
    struct ctr *c = s->c;
    if (n > 0)
        sb_add(&s->in, buf->base, (size_t)n);
    free(buf->base);
    if (n < 0) {
        if (c->shim == s)
            shim_lost(c);
        return;
    }
    for (;;) {
        char *nl = s->in.len ? memchr(s->in.buf, '\n', s->in.len) : NULL;
        if (!nl)
            break;
        size_t len = (size_t)(nl - s->in.buf);
        _cleanup_free_ char *line = xstrndup(s->in.buf, len);
        sb_consume(&s->in, len + 1);
        shim_handle_line(c, line, len);
        if (c->shim != s)
            return; /* closed while handling */
    }
    if (s->in.len > SHIM_MSG_MAX)
        shim_lost(c);
}

static void shim_send(struct ctr *c, const struct api_shim_msg *m)
{
    struct ctr_shim *s = c->shim;
    if (!s || !s->connected)
        return;
    char *line = api_shim_encode(m);
    uv_buf_t buf = uv_buf_init(line, (unsigned int)strlen(line));
    int r = uv_try_write((uv_stream_t *)&s->pipe, &buf, 1);
    if (r != (int)buf.len)
        log_warn("container %.12s: could not send to shim", c->id);
    free(line);
}

static void on_shim_connected(uv_connect_t *req, int status)
{
    struct ctr_shim *s = req->data;
    free(req);
    if (s->dirfd >= 0) {
        close(s->dirfd);
        s->dirfd = -1;
    }
    struct ctr *c = s->c;
    if (c->shim != s) {
        return; /* closed meanwhile */
    }
    if (status < 0) {
        shim_lost(c);
        return;
    }
    s->connected = true;
    uv_read_start((uv_stream_t *)&s->pipe, on_shim_alloc, on_shim_read);
    struct api_shim_msg m = {.op = "wait"};
    shim_send(c, &m);
    ctr_start_proceed(c); /* a delayed start also waits for this connection */
}

static void shim_connect(struct ctr *c, struct ctr_shim *s)
{
    uv_pipe_init(c->st->loop, &s->pipe, 0);
    s->pipe.data = s;
    s->pipe_open = true;
    /* Through an fd on the bundle: <exec-root>/<id>/shim.sock may not fit in sun_path. */
    _cleanup_free_ char *dir = ctr_exec_path(c, "");
    s->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    char sock[64];
    snprintf(sock, sizeof(sock), "/proc/self/fd/%d/shim.sock", s->dirfd);
    uv_connect_t *req = xcalloc(1, sizeof(*req));
    req->data = s;
    uv_pipe_connect(req, &s->pipe, sock, on_shim_connected);
}

struct ctr_shim *ctr_shim_new(struct ctr *c)
{
    struct ctr_shim *s = xcalloc(1, sizeof(*s));
    s->c = c;
    s->dirfd = -1;
    sb_init(&s->in);
    ctr_ref(c);
    c->shim = s;
    return s;
}

void ctr_shim_attach(struct ctr *c)
{
    struct ctr_shim *s = ctr_shim_new(c);
    shim_connect(c, s);
}

void ctr_shim_attach_spawned(struct ctr *c)
{
    if (c->shim && !c->shim->pipe_open)
        shim_connect(c, c->shim);
}

/* ---- exit and restart policies ----------------------------------------------------------- */

static void restart_timer_closed(uv_handle_t *h)
{
    struct ctr *c = h->data;
    free(h);
    ctr_unref(c);
}

static void restart_start_done(const struct err *err, void *data)
{
    struct ctr *c = data;
    if (err)
        log_error("restarting container %.12s: %s", c->id, err->msg);
    ctr_unref(c);
}

/* Cancels a pending restart (the container stays exited). */
void ctr_cancel_restart(struct ctr *c)
{
    if (c->restart_timer) {
        uv_timer_stop(c->restart_timer);
        uv_close((uv_handle_t *)c->restart_timer, restart_timer_closed);
        c->restart_timer = NULL;
    }
    if (c->status == CTR_RESTARTING)
        c->status = CTR_EXITED;
}

static void on_restart_timer(uv_timer_t *t)
{
    struct ctr *c = t->data;
    c->restart_timer = NULL;
    uv_close((uv_handle_t *)t, restart_timer_closed);
    if (c->removed || c->status != CTR_RESTARTING)
        return;
    c->status = CTR_EXITED;
    c->restart_count++;
    ctr_ref(c);
    ctr_start(c->st, c, restart_start_done, c);
}

static bool policy_wants_restart(const struct ctr *c, bool daemon_start)
{
    const char *p = c->cfg.host.restart_policy ? c->cfg.host.restart_policy : "";
    if (strcmp(p, "always") == 0)
        return daemon_start || !c->manually_stopped;
    if (strcmp(p, "unless-stopped") == 0)
        return !c->manually_stopped;
    if (strcmp(p, "on-failure") == 0) {
        if (c->manually_stopped || c->exit_code == 0)
            return false;
        return c->cfg.host.restart_max_retry <= 0 ||
               c->restart_count < c->cfg.host.restart_max_retry;
    }
    return false;
}

void ctr_apply_restart_policy(struct ctr *c, bool daemon_start)
{
    if (c->st->shutting_down || c->removed || !c->has_been_started ||
        !policy_wants_restart(c, daemon_start))
        return;
    /* docker's back-off: 100 ms doubling per quick restart, reset after 10 s of running. */
    int64_t ran = c->finished_ns - c->started_ns;
    uint64_t delay = 100;
    if (!daemon_start && ran < 10 * 1000000000LL) {
        for (int64_t i = 0; i < c->restart_count && delay < 60000; i++)
            delay *= 2;
    }
    if (daemon_start)
        delay = 0;
    c->status = CTR_RESTARTING;
    uv_timer_t *t = xcalloc(1, sizeof(*t));
    uv_timer_init(c->st->loop, t);
    t->data = c;
    ctr_ref(c);
    c->restart_timer = t;
    uv_timer_start(t, on_restart_timer, delay, 0);
}

static void stops_complete(struct ctr *c, const struct err *err)
{
    if (c->stop_timer) {
        uv_timer_stop(c->stop_timer);
    }
    struct ctr_op *op = c->stops;
    c->stops = NULL;
    bool told = false; /* one "stop" event however many asked */
    while (op) {
        struct ctr_op *next = op->next;
        if (!err && !told && !op->for_remove) {
            ctr_event(c, "stop", NULL, NULL);
            told = true;
        }
        if (op->restart && !err)
            ctr_start_restart(c, op->done, op->data);
        else
            op->done(err, op->data);
        free(op);
        ctr_unref(c);
        op = next;
    }
}

static void autoremove_done(const struct err *err, void *data)
{
    struct ctr *c = data;
    if (err)
        log_error("removing container %.12s (--rm): %s", c->id, err->msg);
    ctr_unref(c);
}

void ctr_autoremove(struct ctr *c)
{
    ctr_ref(c);
    ctr_remove(c->st, c, true, true, autoremove_done, c);
}

void ctr_exited(struct ctr *c, int exit_code, bool oom, int64_t finished_ns, const char *error)
{
    c->status = CTR_EXITED;
    c->exit_code = exit_code;
    c->oom_killed = oom;
    c->finished_ns = finished_ns > 0 ? finished_ns : ctr_now_ns();
    c->pid = 0;
    if (error) {
        free(c->error);
        c->error = xstrdup(error);
    }
    /* as dockerd: the network is released at stop and set up again at the next start */
    if (c->st->net)
        net_release(c->st->net, c->id, NULL, NULL);
    ctr_save_state(c);
    char code[16];
    snprintf(code, sizeof(code), "%d", exit_code);
    ctr_event(c, "die", "exitCode", code);
    ctr_notify_waiters(c, false);
    bool restarting = c->stops && c->stops->restart;
    stops_complete(c, NULL);
    if (restarting)
        return;
    if (c->cfg.host.auto_remove && !c->st->shutting_down) {
        ctr_autoremove(c);
        return;
    }
    ctr_apply_restart_policy(c, false);
}
