/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's event loop (epoll + signalfd, no libuv): container output into the json-file
 * log, control connections, and the container's exit.
 *
 * The output pipes are read whoever is connected, so the container never blocks on a full pipe
 * while the shim lives (F9), with one bounded exception: an attach session that is more than
 * SHIM_STREAM_OUT behind holds the reading until it catches up, SHIM_STREAM_STALL_MS at most
 * (then it is dropped), so that a slow reader loses nothing (stream.c). When the log cannot be
 * written (ENOSPC), the shim keeps draining and drops what does not fit, like docker's json-file
 * driver; shim.log records when dropping starts and when writes succeed again. Nothing fake is
 * written into the container's own log.
 */
#include "daemon/shim/shim_int.h"

#include "api/api.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define READS_PER_WAKEUP 16

int shim_ep_ctl(struct shim *s, int op, struct shim_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(s->epfd, op, w->fd, &ev);
}

int64_t shim_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- messages ---------------------------------------------------------------------------- */

char *shim_status_line(const struct shim *s)
{
    struct api_shim_msg m = {.pid = s->pid};
    if (s->pid <= 0) {
        m.status = "created";
    } else if (s->exited) {
        m.status = "exited";
        m.exit_code = s->exit_code;
        m.oom_killed = s->oom_killed;
        m.finished_at = (char *)s->finished_at;
    } else {
        m.status = "running";
    }
    return api_shim_encode(&m);
}

char *shim_error_line(const char *msg)
{
    struct api_shim_msg m = {.error = (char *)msg};
    return api_shim_encode(&m);
}

/* ---- clients ----------------------------------------------------------------------------- */

void shim_client_drop(struct shim *s, struct shim_client *c)
{
    if (c->w.fd < 0)
        return;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->w.fd, NULL);
    close(c->w.fd);
    c->w.fd = -1; /* freed by client_sweep, after the current batch of events */
    if (c->mode != CM_CONTROL)
        shim_stream_gone(s, c);
}

static void client_sweep(struct shim *s)
{
    struct shim_client **pp = &s->clients;
    while (*pp) {
        struct shim_client *c = *pp;
        if (c->w.fd >= 0) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        sb_release(&c->in);
        shim_queue_release(&c->out);
        free(c);
        s->nclients--;
    }
}

/* Queues line (taking it) for c; a client that stopped reading is dropped, never waited on. */
void shim_client_send(struct shim *s, struct shim_client *c, char *line)
{
    if (c->w.fd >= 0) {
        shim_queue_add(&c->out, line, strlen(line));
        if (shim_queue_len(&c->out) > SHIM_CLIENT_OUT) {
            log_warn("control client is not reading: dropped");
            shim_client_drop(s, c);
        } else {
            shim_client_flush(s, c);
        }
    }
    free(line);
}

static void op_start(struct shim *s, struct shim_client *c)
{
    if (s->pid > 0 || s->start_failed) {
        shim_client_send(s, c, shim_error_line("container already started"));
        return;
    }
    struct err *err = NULL;
    if (shim_create(s, &err) < 0) {
        log_error("start: %s", err->msg);
        shim_client_send(s, c, shim_error_line(err->msg));
        err_free(err);
        s->start_failed = true; /* nothing to monitor: the shim leaves */
        return;
    }
    shim_client_send(s, c, shim_status_line(s));
}

static void op_resize(struct shim *s, struct shim_client *c, const struct api_shim_msg *m)
{
    int r = s->pty < 0 || m->h <= 0 || m->w <= 0 ? -1 : shim_resize(s->pty, m->h, m->w);
    if (r == 0) {
        struct api_shim_msg ok = {.ok = true};
        shim_client_send(s, c, api_shim_encode(&ok));
    } else {
        shim_client_send(s, c,
                         shim_error_line(s->pty < 0 ? "container has no tty"
                                         : r == -1  ? "invalid size"
                                                    : strerror(-r)));
    }
}

static void op_kill(struct shim *s, struct shim_client *c, const struct api_shim_msg *m)
{
    /* after the reap the pid may belong to someone else: never signal it then */
    if (s->exited || s->pid <= 0) {
        shim_client_send(s, c, shim_error_line("container is not running"));
    } else if (m->signal <= 0 || m->signal >= NSIG || kill(s->pid, m->signal) < 0) {
        char *msg =
            xasprintf("kill %d: %s", m->signal,
                      m->signal <= 0 || m->signal >= NSIG ? "invalid signal" : strerror(errno));
        shim_client_send(s, c, shim_error_line(msg));
        free(msg);
    } else {
        shim_client_send(s, c, shim_status_line(s));
    }
}

static void client_request(struct shim *s, struct shim_client *c, const char *line, size_t len)
{
    struct api_shim_msg m = {0};
    struct err *err = NULL;
    if (api_shim_decode(line, len, &m, &err) < 0) {
        shim_client_send(s, c, shim_error_line(err->msg));
        err_free(err);
        return;
    }
    if (!m.op) {
        shim_client_send(s, c, shim_error_line("missing op"));
    } else if (strcmp(m.op, "state") == 0) {
        shim_client_send(s, c, shim_status_line(s));
    } else if (strcmp(m.op, "wait") == 0) {
        if (s->finalized)
            shim_client_send(s, c, shim_status_line(s));
        else
            c->waiting = true;
    } else if (strcmp(m.op, "kill") == 0) {
        op_kill(s, c, &m);
    } else if (strcmp(m.op, "start") == 0) {
        op_start(s, c);
    } else if (strcmp(m.op, "attach") == 0) {
        shim_attach_begin(s, c, &m);
    } else if (strcmp(m.op, "resize") == 0) {
        op_resize(s, c, &m);
    } else if (strcmp(m.op, "exec") == 0) {
        shim_exec_begin(s, c, &m);
    } else if (strcmp(m.op, "exec_resize") == 0) {
        shim_exec_resize(s, c, &m);
    } else {
        char *msg = xasprintf("unknown op %s", m.op);
        shim_client_send(s, c, shim_error_line(msg));
        free(msg);
    }
    api_shim_release(&m);
}

/*
 * Control mode: one request per line. After a request that turned c into a stream (attach,
 * exec), the rest of what was read is that stream's stdin.
 */
static void client_lines(struct shim *s, struct shim_client *c)
{
    size_t start = 0;
    char *nl;
    while (c->w.fd >= 0 && c->mode == CM_CONTROL &&
           (nl = memchr(c->in.buf + start, '\n', c->in.len - start))) {
        size_t end = (size_t)(nl - c->in.buf);
        client_request(s, c, c->in.buf + start, end - start);
        start = end + 1;
    }
    if (c->w.fd >= 0 && c->mode != CM_CONTROL && start < c->in.len)
        shim_stream_input(s, c, c->in.buf + start, c->in.len - start);
    if (c->mode != CM_CONTROL)
        sb_release(&c->in);
    else
        sb_consume(&c->in, start);
}

static void client_readable(struct shim *s, struct shim_client *c)
{
    while (c->w.fd >= 0 && c->mode == CM_CONTROL) {
        if (c->in.len >= SHIM_CLIENT_IN) {
            log_warn("control client sent an oversized request: dropped");
            shim_client_drop(s, c);
            return;
        }
        size_t room = SHIM_CLIENT_IN - c->in.len < 4096 ? SHIM_CLIENT_IN - c->in.len : 4096;
        sb_grow(&c->in, room);
        ssize_t n = recv(c->w.fd, c->in.buf + c->in.len, room, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            shim_client_drop(s, c);
            return;
        }
        c->in.len += (size_t)n;
        c->in.buf[c->in.len] = '\0';
        client_lines(s, c);
    }
    if (c->w.fd >= 0)
        shim_stream_readable(s, c);
}

static void accept_clients(struct shim *s)
{
    for (;;) {
        int fd = accept4(s->listen.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or EMFILE and friends: try again on the next wakeup */
        }
        if (s->nclients >= SHIM_MAX_CLIENTS) {
            close(fd);
            continue;
        }
        struct shim_client *c = xcalloc(1, sizeof(*c));
        c->w = (struct shim_watch){W_CLIENT, fd};
        c->events = EPOLLIN | EPOLLRDHUP;
        if (shim_ep_ctl(s, EPOLL_CTL_ADD, &c->w, c->events) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = s->clients;
        s->clients = c;
        s->nclients++;
    }
}

/* ---- container output -------------------------------------------------------------------- */

static void log_result(struct shim *s, int r, struct err *e)
{
    if (r < 0) {
        if (s->log_failures++ == 0)
            log_warn("container log: %s; output is dropped until writes succeed", e->msg);
        err_free(e);
    } else if (s->log_failures > 0) {
        log_warn("container log: writes succeed again after %" PRIu64 " failed writes",
                 s->log_failures);
        s->log_failures = 0;
    }
}

static enum logs_stream stream_of(const struct shim_watch *w)
{
    return w->kind == W_STDERR ? LOGS_STDERR : LOGS_STDOUT;
}

static void output_eof(struct shim *s, struct shim_watch *w)
{
    struct err *e = NULL;
    if (!s->out_paused)
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    close(w->fd);
    w->fd = -1;
    log_result(s, logs_writer_flush(s->log, stream_of(w), &e), e);
}

/*
 * Reads what is there (a bounded number of times, to stay fair to the other fds), until an
 * attach session falls behind (out_paused), unless this is the final drain.
 */
static void output_readable(struct shim *s, struct shim_watch *w, bool final)
{
    for (int i = 0; i < READS_PER_WAKEUP && w->fd >= 0 && (final || !s->out_paused); i++) {
        ssize_t n = read(w->fd, s->iobuf, sizeof(s->iobuf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) { /* EOF, or EIO from a pty master whose slave is closed */
            output_eof(s, w);
            return;
        }
        struct err *e = NULL;
        log_result(s, logs_writer_write(s->log, stream_of(w), s->iobuf, (size_t)n, &e), e);
        shim_attach_output(s, w->kind == W_STDERR ? SHIM_FRAME_STDERR : SHIM_FRAME_STDOUT, s->iobuf,
                           (size_t)n);
    }
}

/* ---- the exit ---------------------------------------------------------------------------- */

static void reap(struct shim *s)
{
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p < 0 && errno == EINTR)
            continue;
        if (p <= 0)
            return;
        if (shim_exec_reaped(s, p, st))
            continue;
        if (p != s->pid || s->exited)
            continue; /* an orphan we adopted as subreaper */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        s->exited = true;
        s->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        time_rfc3339nano(&now, s->finished_at);
        if (s->cfg.spec.cgroup_path && s->cfg.spec.cgroup_path[0])
            s->oom_killed = rt_cgroup_oom_killed(s->cfg.spec.cgroup_path);
        s->drain_until_ms = shim_mono_ms() + SHIM_DRAIN_MS;
        shim_sink_close(s, &s->in);
        shim_exec_kill_all(s);
        log_info("container %d exited with %d%s", (int)p, s->exit_code,
                 s->oom_killed ? " (OOM killed)" : "");
    }
}

static void signals_readable(struct shim *s)
{
    struct signalfd_siginfo si;
    bool child = false;
    while (read(s->sig.fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        child |= si.ssi_signo == SIGCHLD;
    if (child)
        reap(s);
}

static int write_exit_file(struct shim *s, struct err **err)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf),
                     "{\"exit_code\":%d,\"oom_killed\":%s,\"finished_at\":\"%s\",\"pid\":%d}\n",
                     s->exit_code, s->oom_killed ? "true" : "false", s->finished_at, (int)s->pid);
    return fsu_write_atomic(s->cfg.exit_file, buf, (size_t)n, 0644, err);
}

/* Output drained (or the drain timed out): record the exit, tell the waiters, clean up. */
static void finalize(struct shim *s)
{
    struct shim_watch *outs[2] = {&s->out, &s->err};
    for (int i = 0; i < 2; i++) {
        if (outs[i]->fd < 0)
            continue;
        output_readable(s, outs[i], true);
        if (outs[i]->fd >= 0)
            output_eof(s, outs[i]); /* a lingering writer still holds the pipe: stop here */
    }
    logs_writer_close(s->log);
    s->log = NULL;
    s->finalized = true;
    shim_exec_finish_all(s);
    shim_attach_exit(s);
    for (struct shim_client *c = s->clients; c; c = c->next)
        if (c->waiting && c->w.fd >= 0)
            shim_client_send(s, c, shim_status_line(s));
    /* After telling berthd (which records the exit itself): the file is for a berthd that is
     * not there, and its fsync need not delay `docker wait`. It carries the pid, so berthd
     * never takes it for a later run's exit. */
    struct err *err = NULL;
    if (write_exit_file(s, &err) < 0) {
        log_error("exit file: %s", err->msg);
        err_freep(&err);
    }
    if (s->cfg.spec.cgroup_path && s->cfg.spec.cgroup_path[0] &&
        rt_cgroup_destroy(s->cfg.spec.cgroup_path, &err) < 0) {
        log_warn("remove cgroup: %s", err->msg);
        err_freep(&err);
    }
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void dispatch(struct shim *s, struct epoll_event *ev)
{
    struct shim_watch *w = ev->data.ptr;
    if (w->fd < 0)
        return; /* closed earlier in this batch */
    switch (w->kind) {
    case W_SIGNAL:
        signals_readable(s);
        break;
    case W_LISTEN:
        accept_clients(s);
        break;
    case W_STDOUT:
    case W_STDERR:
        output_readable(s, w, false);
        break;
    case W_CLIENT: {
        struct shim_client *c = (struct shim_client *)w;
        if (ev->events & EPOLLOUT)
            shim_client_flush(s, c);
        if (c->w.fd >= 0 && (c->events & EPOLLIN) &&
            (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            client_readable(s, c);
        /* gone for good (not a half-close) while its stdin is no longer read */
        if (c->w.fd >= 0 && !(c->events & EPOLLIN) && (ev->events & (EPOLLHUP | EPOLLERR)))
            shim_client_drop(s, c);
        break;
    }
    case W_SINK:
        if (ev->events & (EPOLLERR | EPOLLHUP))
            shim_sink_close(s, (struct shim_sink *)w);
        else
            shim_sink_pump(s, (struct shim_sink *)w);
        break;
    case W_EXEC_OUT:
    case W_EXEC_ERR:
        shim_exec_readable(s, w);
        break;
    }
}

static int watch_all(struct shim *s, struct err **err)
{
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0)
        return err_set(err, ERR_SYSTEM, errno, "epoll_create1");
    struct shim_watch *ws[] = {&s->sig, &s->listen, &s->out, &s->err};
    for (size_t i = 0; i < ARRAY_SIZE(ws); i++)
        if (ws[i]->fd >= 0 && shim_ep_ctl(s, EPOLL_CTL_ADD, ws[i], EPOLLIN) < 0)
            return err_set(err, ERR_SYSTEM, errno, "epoll_ctl");
    return 0;
}

static void close_all(struct shim *s)
{
    for (struct shim_client *c = s->clients; c; c = c->next)
        shim_client_drop(s, c);
    client_sweep(s);
    shim_exec_finish_all(s);
    client_sweep(s);
    shim_sink_close(s, &s->in);
    int fds[] = {s->listen.fd, s->sig.fd, s->pty, s->out.fd, s->err.fd, s->epfd};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    s->listen.fd = s->sig.fd = s->pty = s->out.fd = s->err.fd = s->epfd = -1;
}

/*
 * After the exit: no new connections (shim.sock is gone, so berthd reads the exit file
 * instead), but clients already queued or connected still get their answers. The shim leaves
 * once nothing has happened for SHIM_LINGER_IDLE_MS, and after SHIM_LINGER_MAX_MS at most.
 */
static void linger(struct shim *s)
{
    _cleanup_free_ char *sock = xasprintf("%s/shim.sock", s->bundle);
    (void)unlink(sock);
    accept_clients(s);
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen.fd, NULL);
    int64_t until = shim_mono_ms() + SHIM_LINGER_MAX_MS;
    for (;;) {
        int64_t left = until - shim_mono_ms();
        if (left <= 0 || !s->clients)
            return;
        struct epoll_event evs[16];
        int n = epoll_wait(s->epfd, evs, ARRAY_SIZE(evs),
                           (int)(left < SHIM_LINGER_IDLE_MS ? left : SHIM_LINGER_IDLE_MS));
        if (n < 0 && errno != EINTR)
            return;
        bool pending = false;
        for (int i = 0; i < n; i++)
            dispatch(s, &evs[i]);
        client_sweep(s);
        for (struct shim_client *c = s->clients; c; c = c->next)
            pending |= shim_queue_len(&c->out) > 0;
        if (n == 0 && !pending)
            return;
    }
}

/*
 * How long epoll may sleep: until the container's drain deadline, an exec's or a lagging attach
 * session's (deadline), if any.
 */
static int loop_timeout(struct shim *s, int64_t deadline)
{
    int64_t now = shim_mono_ms(), t = -1;
    if (s->exited && !s->out_paused)
        t = s->drain_until_ms - now;
    if (deadline >= 0 && (t < 0 || deadline - now < t))
        t = deadline - now;
    return t < 0 ? ((s->exited && !s->out_paused) || deadline >= 0 ? 0 : -1) : (int)t;
}

static int64_t earliest(int64_t a, int64_t b)
{
    return a < 0 ? b : b < 0 || a < b ? a : b;
}

int shim_monitor_run(struct shim *s, struct err **err)
{
    if (watch_all(s, err) < 0)
        return -1;
    reap(s); /* the container may have exited before the signalfd existed */
    while (!s->finalized && !s->start_failed) {
        int64_t deadline = earliest(shim_exec_tick(s), shim_attach_tick(s));
        if (s->exited) {
            bool drained = s->out.fd < 0 && s->err.fd < 0 && !shim_exec_any(s);
            /* a paused drain is not over: it goes on when the session catches up or is dropped */
            if (drained || (!s->out_paused && s->drain_until_ms - shim_mono_ms() <= 0)) {
                finalize(s);
                linger(s);
                break;
            }
        }
        struct epoll_event evs[16];
        int n = epoll_wait(s->epfd, evs, ARRAY_SIZE(evs), loop_timeout(s, deadline));
        if (n < 0 && errno != EINTR) {
            err_set(err, ERR_SYSTEM, errno, "epoll_wait");
            close_all(s);
            return -1;
        }
        for (int i = 0; i < n; i++)
            dispatch(s, &evs[i]);
        client_sweep(s);
    }
    if (s->start_failed) {
        linger(s); /* the client that asked gets its error */
        close_all(s);
        return err_set(err, ERR_SYSTEM, 0, "the container did not start");
    }
    close_all(s);
    return 0;
}
