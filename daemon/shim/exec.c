/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exec op: a process started in the container's namespaces (rt_exec) with its stdio on
 * pipes or its own pty, streamed on the connection that asked for it. Its output is not
 * logged; when its session falls SHIM_STREAM_OUT behind, its output is not read until the
 * session catches up (back-pressure on the exec, as docker does), and once the session is gone
 * its output is read and dropped. The shim reaps it (it is the shim's child); after its exit
 * and its output (drained until EOF, or for SHIM_DRAIN_MS when something else holds the
 * pipe), the session gets the type-3 frame with the exit code and is closed.
 */
#include "daemon/shim/shim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#define EXEC_READS_PER_WAKEUP 16
#define EXEC_ID_MAX           128

static struct shim_exec *exec_find(struct shim *s, const char *id)
{
    for (struct shim_exec *e = s->execs; e; e = e->next)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

bool shim_exec_any(const struct shim *s)
{
    return s->execs != NULL;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- start ------------------------------------------------------------------------------- */

/* The pty master from the container's devpts (rt_exec): e owns it, output and stdin use dups. */
static int exec_take_pty(struct shim_exec *e, int m, bool in, struct err **err)
{
    e->pty = m;
    e->out.fd = fcntl(m, F_DUPFD_CLOEXEC, 3);
    e->sink.w.fd = in ? fcntl(m, F_DUPFD_CLOEXEC, 3) : -1;
    if (e->out.fd < 0 || (in && e->sink.w.fd < 0))
        return err_set(err, ERR_SYSTEM, errno, "dup the pty");
    return 0;
}

/* Our ends go into e, the process's ends into child[3] (-1: /dev/null); a tty comes later. */
static int exec_stdio(struct shim_exec *e, bool tty, bool in, int child[3], struct err **err)
{
    if (tty)
        return 0;
    int po[2], pe[2], pi[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0)
        return err_set(err, ERR_SYSTEM, errno, "pipe");
    e->out.fd = po[0];
    child[1] = po[1];
    if (pipe2(pe, O_CLOEXEC) < 0)
        return err_set(err, ERR_SYSTEM, errno, "pipe");
    e->err.fd = pe[0];
    child[2] = pe[1];
    if (in && pipe2(pi, O_CLOEXEC) < 0)
        return err_set(err, ERR_SYSTEM, errno, "pipe");
    child[0] = pi[0];
    e->sink.w.fd = pi[1];
    int fds[] = {po[0], pe[0], pi[1]};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        int fl = fds[i] >= 0 ? fcntl(fds[i], F_GETFL) : -1;
        if (fl >= 0)
            (void)fcntl(fds[i], F_SETFL, fl | O_NONBLOCK);
    }
    return 0;
}

static void exec_free(struct shim *s, struct shim_exec *e)
{
    struct shim_watch *ws[] = {&e->out, &e->err};
    for (size_t i = 0; i < ARRAY_SIZE(ws); i++) {
        if (ws[i]->fd >= 0 && !e->throttled)
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, ws[i]->fd, NULL);
        close_fd(&ws[i]->fd);
    }
    shim_sink_close(s, &e->sink);
    close_fd(&e->pty);
    free(e->id);
    free(e);
}

static struct shim_exec *exec_new(const char *id)
{
    struct shim_exec *e = xcalloc(1, sizeof(*e));
    e->out = (struct shim_watch){W_EXEC_OUT, -1};
    e->err = (struct shim_watch){W_EXEC_ERR, -1};
    shim_sink_init(&e->sink, -1);
    e->pty = -1;
    e->id = xstrdup(id);
    return e;
}

static int exec_start(struct shim *s, const struct api_shim_msg *m, struct shim_exec *e,
                      struct err **err)
{
    struct rt_exec_spec spec;
    if (rt_exec_spec_decode(m->exec, &spec, err) < 0)
        return -1;
    int child[3] = {-1, -1, -1};
    spec.console_h = m->h;
    spec.console_w = m->w;
    int pty = -1;
    int r = exec_stdio(e, spec.tty, m->stdin_, child, err);
    if (r == 0)
        r = rt_exec(&spec, s->pid, child[0], child[1], child[2], &e->pid, &pty, err);
    if (r == 0 && pty >= 0 && exec_take_pty(e, pty, m->stdin_, err) < 0) {
        kill(e->pid, SIGKILL); /* reaped as any exec process */
        r = -1;
    }
    for (int i = 0; i < 3; i++)
        if (child[i] >= 0 && (i == 0 || child[i] != child[i - 1]))
            close(child[i]);
    rt_exec_spec_release(&spec);
    if (r < 0)
        return -1;
    struct shim_watch *ws[] = {&e->out, &e->err};
    for (size_t i = 0; i < ARRAY_SIZE(ws); i++)
        if (ws[i]->fd >= 0 && shim_ep_ctl(s, EPOLL_CTL_ADD, ws[i], EPOLLIN) < 0)
            log_warn("exec %s: epoll_ctl: %s", e->id, strerror(errno));
    e->sink.active = true;
    return 0;
}

static const char *exec_check(struct shim *s, const struct api_shim_msg *m)
{
    if (s->pid <= 0 || s->exited)
        return "container is not running";
    if (!m->id || !m->id[0] || strlen(m->id) > EXEC_ID_MAX)
        return "exec: missing or invalid id";
    if (!m->exec)
        return "exec: missing exec spec";
    if (exec_find(s, m->id))
        return "exec: id already in use";
    return NULL;
}

void shim_exec_begin(struct shim *s, struct shim_client *c, const struct api_shim_msg *m)
{
    const char *bad = exec_check(s, m);
    if (bad) {
        shim_client_send(s, c, shim_error_line(bad));
        return;
    }
    struct shim_exec *e = exec_new(m->id);
    struct err *err = NULL;
    if (exec_start(s, m, e, &err) < 0) {
        exec_free(s, e);
        shim_client_send(s, c, shim_error_line(err->msg));
        err_free(err);
        return;
    }
    e->next = s->execs;
    s->execs = e;
    e->client = c;
    c->mode = CM_EXEC;
    c->exec = e;
    c->want_stdout = m->stdout_;
    c->want_stderr = m->stderr_;
    c->has_stdin = m->stdin_;
    c->stdin_open = true;
    struct api_shim_msg ok = {.ok = true, .pid = e->pid};
    char *line = api_shim_encode(&ok);
    shim_queue_add(&c->out, line, strlen(line));
    free(line);
    shim_client_flush(s, c);
}

void shim_exec_resize(struct shim *s, struct shim_client *c, const struct api_shim_msg *m)
{
    struct shim_exec *e = m->id ? exec_find(s, m->id) : NULL;
    int r = e && e->pty >= 0 && m->h > 0 && m->w > 0 ? shim_resize(e->pty, m->h, m->w) : -1;
    if (r == 0) {
        struct api_shim_msg ok = {.ok = true};
        shim_client_send(s, c, api_shim_encode(&ok));
    } else {
        shim_client_send(s, c,
                         shim_error_line(!e           ? "no such exec"
                                         : e->pty < 0 ? "exec has no tty"
                                         : r == -1    ? "invalid size"
                                                      : strerror(-r)));
    }
}

/* ---- output ------------------------------------------------------------------------------ */

static void exec_throttle(struct shim *s, struct shim_exec *e)
{
    struct shim_watch *ws[] = {&e->out, &e->err};
    for (size_t i = 0; i < ARRAY_SIZE(ws); i++)
        if (ws[i]->fd >= 0)
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, ws[i]->fd, NULL);
    e->throttled = true;
}

void shim_exec_unthrottle(struct shim *s, struct shim_exec *e)
{
    if (!e->throttled)
        return;
    e->throttled = false;
    struct shim_watch *ws[] = {&e->out, &e->err};
    for (size_t i = 0; i < ARRAY_SIZE(ws); i++)
        if (ws[i]->fd >= 0)
            shim_ep_ctl(s, EPOLL_CTL_ADD, ws[i], EPOLLIN);
    if (e->exited)
        e->drain_until_ms = shim_mono_ms() + SHIM_DRAIN_MS;
}

static void exec_out_eof(struct shim *s, struct shim_exec *e, struct shim_watch *w)
{
    if (!e->throttled)
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    close_fd(&w->fd);
}

void shim_exec_readable(struct shim *s, struct shim_watch *w)
{
    struct shim_exec *e = w->kind == W_EXEC_OUT
                              ? (struct shim_exec *)((char *)w - offsetof(struct shim_exec, out))
                              : (struct shim_exec *)((char *)w - offsetof(struct shim_exec, err));
    int type = w->kind == W_EXEC_OUT ? SHIM_FRAME_STDOUT : SHIM_FRAME_STDERR;
    for (int i = 0; i < EXEC_READS_PER_WAKEUP && w->fd >= 0 && !e->throttled; i++) {
        ssize_t n = read(w->fd, s->iobuf, sizeof(s->iobuf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) { /* EOF, or EIO from a pty master whose slave is closed */
            exec_out_eof(s, e, w);
            return;
        }
        struct shim_client *c = e->client;
        if (!c || !(type == SHIM_FRAME_STDOUT ? c->want_stdout : c->want_stderr))
            continue;
        shim_stream_frame(s, c, type, s->iobuf, (size_t)n);
        if (c->w.fd >= 0 && shim_queue_len(&c->out) > SHIM_STREAM_OUT)
            exec_throttle(s, e);
    }
}

/* ---- exit -------------------------------------------------------------------------------- */

bool shim_exec_reaped(struct shim *s, pid_t pid, int status)
{
    for (struct shim_exec *e = s->execs; e; e = e->next) {
        if (e->pid != pid || e->exited)
            continue;
        e->exited = true;
        e->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        e->drain_until_ms = shim_mono_ms() + SHIM_DRAIN_MS;
        shim_sink_close(s, &e->sink);
        return true;
    }
    return false;
}

/* Unlinks e, sends its session the exit frame and frees it. */
static void exec_finish(struct shim *s, struct shim_exec *e)
{
    struct shim_exec **pp = &s->execs;
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    struct shim_client *c = e->client;
    if (c) {
        c->exec = NULL;
        e->client = NULL;
        shim_stream_exit(s, c, e->exited ? e->exit_code : 128 + SIGKILL);
    }
    exec_free(s, e);
}

int64_t shim_exec_tick(struct shim *s)
{
    int64_t now = shim_mono_ms(), next = -1;
    struct shim_exec *e = s->execs;
    while (e) {
        struct shim_exec *n = e->next;
        bool drained = e->out.fd < 0 && e->err.fd < 0;
        if (e->exited && (drained || (!e->throttled && now >= e->drain_until_ms))) {
            exec_finish(s, e);
        } else if (e->exited && !e->throttled) {
            if (next < 0 || e->drain_until_ms < next)
                next = e->drain_until_ms;
        }
        e = n;
    }
    return next;
}

void shim_exec_kill_all(struct shim *s)
{
    for (struct shim_exec *e = s->execs; e; e = e->next)
        if (!e->exited)
            kill(e->pid, SIGKILL); /* not reaped yet: the pid is still this process */
}

void shim_exec_finish_all(struct shim *s)
{
    while (s->execs)
        exec_finish(s, s->execs);
}
