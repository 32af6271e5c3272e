/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attach and exec streams: after {"op":"attach"} (or a started exec) a control connection
 * carries frames to berthd ([type,0,0,0,len BE32] + payload, docker's header) and raw stdin
 * from it. Output is a fan-out with a bounded queue per session. An attach session more than
 * SHIM_STREAM_OUT behind pauses the reading of the container's output (back-pressure, so a
 * client that reads slower than the container writes still gets everything) until it is back
 * under half of that; one that has not caught up within SHIM_STREAM_STALL_MS is disconnected,
 * so a stuck client holds the container, the log and the other sessions that long at most.
 * Stdin from every session goes, whole chunk by whole chunk, into the
 * process's sink, itself bounded (SHIM_STDIN_MAX): when it is full the sessions are not read
 * (back-pressure to berthd) until the process has taken some.
 */
#include "daemon/shim/shim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

#define STREAM_READS_PER_WAKEUP 16
#define QUEUE_KEEP              (64 * 1024) /* an empty queue keeps a buffer this big at most */

/* ---- byte queues ------------------------------------------------------------------------- */

size_t shim_queue_len(const struct shim_queue *q)
{
    return q->b.len - q->off;
}

const char *shim_queue_data(const struct shim_queue *q)
{
    return q->b.buf + q->off;
}

void shim_queue_add(struct shim_queue *q, const void *data, size_t len)
{
    if (q->off > 0 && q->off >= q->b.len / 2) {
        memmove(q->b.buf, q->b.buf + q->off, q->b.len - q->off);
        q->b.len -= q->off;
        q->off = 0;
    }
    sb_add(&q->b, data, len);
}

void shim_queue_consume(struct shim_queue *q, size_t n)
{
    q->off += n;
    if (q->off < q->b.len)
        return;
    q->off = 0;
    if (q->b.cap > QUEUE_KEEP)
        sb_release(&q->b); /* a burst does not pin its memory */
    else
        sb_reset(&q->b);
}

void shim_queue_release(struct shim_queue *q)
{
    sb_release(&q->b);
    q->off = 0;
}

/* ---- sinks: a process's stdin ------------------------------------------------------------ */

void shim_sink_init(struct shim_sink *k, int fd)
{
    memset(k, 0, sizeof(*k));
    k->w = (struct shim_watch){W_SINK, fd};
}

static bool sink_full(const struct shim_sink *k)
{
    return shim_queue_len(&k->q) >= SHIM_STDIN_MAX;
}

static void sink_arm(struct shim *s, struct shim_sink *k, bool want)
{
    if (want == k->armed || k->w.fd < 0)
        return;
    if (want)
        shim_ep_ctl(s, EPOLL_CTL_ADD, &k->w, EPOLLOUT);
    else
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, k->w.fd, NULL);
    k->armed = want;
}

static void clients_update_all(struct shim *s)
{
    for (struct shim_client *c = s->clients; c; c = c->next)
        shim_client_update(s, c);
}

void shim_sink_close(struct shim *s, struct shim_sink *k)
{
    bool was_full = sink_full(k);
    if (k->w.fd >= 0) {
        sink_arm(s, k, false);
        close(k->w.fd);
        k->w.fd = -1;
    }
    shim_queue_release(&k->q);
    k->close_when_drained = false;
    if (was_full)
        clients_update_all(s); /* readers held back by it now read (and discard) again */
}

void shim_sink_pump(struct shim *s, struct shim_sink *k)
{
    bool was_full = sink_full(k);
    while (k->active && k->w.fd >= 0 && shim_queue_len(&k->q) > 0) {
        ssize_t n = write(k->w.fd, shim_queue_data(&k->q), shim_queue_len(&k->q));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) { /* EPIPE: the reader is gone; EIO: the pty's slave is closed */
            shim_sink_close(s, k);
            return;
        }
        shim_queue_consume(&k->q, (size_t)n);
    }
    if (k->active && k->close_when_drained && shim_queue_len(&k->q) == 0) {
        shim_sink_close(s, k);
        return;
    }
    sink_arm(s, k, k->active && k->w.fd >= 0 && shim_queue_len(&k->q) > 0);
    if (was_full && !sink_full(k))
        clients_update_all(s);
}

/* The sink c's stdin goes to, or NULL when it has none (or it is closing). */
static struct shim_sink *sink_of(struct shim *s, struct shim_client *c)
{
    struct shim_sink *k = NULL;
    if (c->mode == CM_EXEC)
        k = c->exec ? &c->exec->sink : NULL;
    else if (c->mode == CM_ATTACH)
        k = &s->in;
    return k && k->w.fd >= 0 && !k->close_when_drained ? k : NULL;
}

/* ---- sessions ---------------------------------------------------------------------------- */

/* Reads the container's output, or pauses it while an attach session is behind. */
static void output_update(struct shim *s)
{
    bool pause = false;
    for (struct shim_client *c = s->clients; c && !pause; c = c->next)
        pause = c->mode == CM_ATTACH && c->w.fd >= 0 && c->behind_since_ms != 0;
    if (pause == s->out_paused)
        return;
    s->out_paused = pause;
    struct shim_watch *ws[] = {&s->out, &s->err};
    for (size_t i = 0; i < ARRAY_SIZE(ws); i++) {
        if (ws[i]->fd < 0)
            continue;
        if (pause)
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, ws[i]->fd, NULL);
        else
            shim_ep_ctl(s, EPOLL_CTL_ADD, ws[i], EPOLLIN);
    }
    if (!pause && s->exited)
        s->drain_until_ms = shim_mono_ms() + SHIM_DRAIN_MS; /* the drain was held up */
}

static void behind_clear(struct shim *s, struct shim_client *c)
{
    if (!c->behind_since_ms)
        return;
    c->behind_since_ms = 0;
    output_update(s);
}

void shim_client_update(struct shim *s, struct shim_client *c)
{
    if (c->w.fd < 0)
        return;
    uint32_t ev = 0;
    if (c->mode == CM_CONTROL) {
        ev = EPOLLIN | EPOLLRDHUP;
    } else if (c->stdin_open) {
        struct shim_sink *k = c->has_stdin ? sink_of(s, c) : NULL;
        if (!k || !sink_full(k))
            ev = EPOLLIN | EPOLLRDHUP;
    }
    if (shim_queue_len(&c->out) > 0)
        ev |= EPOLLOUT;
    if (ev != c->events) {
        shim_ep_ctl(s, EPOLL_CTL_MOD, &c->w, ev);
        c->events = ev;
    }
}

void shim_client_flush(struct shim *s, struct shim_client *c)
{
    while (c->w.fd >= 0 && shim_queue_len(&c->out) > 0) {
        ssize_t n = send(c->w.fd, shim_queue_data(&c->out), shim_queue_len(&c->out),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            shim_client_drop(s, c);
            return;
        }
        shim_queue_consume(&c->out, (size_t)n);
    }
    if (c->w.fd < 0)
        return;
    if (c->closing && shim_queue_len(&c->out) == 0) {
        shim_client_drop(s, c);
        return;
    }
    if (c->exec && c->exec->throttled && shim_queue_len(&c->out) < SHIM_STREAM_OUT / 2)
        shim_exec_unthrottle(s, c->exec);
    if (c->behind_since_ms && shim_queue_len(&c->out) < SHIM_STREAM_OUT / 2)
        behind_clear(s, c); /* caught up: the output is read again */
    shim_client_update(s, c);
}

static void stream_stdin_end(struct shim *s, struct shim_client *c)
{
    c->stdin_open = false;
    if (c->has_stdin) {
        struct shim_sink *k = NULL;
        if (c->mode == CM_EXEC && c->exec)
            k = &c->exec->sink;
        else if (c->mode == CM_ATTACH && s->cfg.stdin_once && !s->cfg.spec.tty)
            k = &s->in; /* `echo x | docker run -i`: the container reads EOF */
        if (k && k->w.fd >= 0) {
            k->close_when_drained = true;
            shim_sink_pump(s, k);
        }
    }
    shim_client_update(s, c);
}

void shim_stream_gone(struct shim *s, struct shim_client *c)
{
    behind_clear(s, c);
    if (c->stdin_open)
        stream_stdin_end(s, c);
    if (c->exec) {
        struct shim_exec *e = c->exec;
        c->exec = NULL;
        e->client = NULL;
        if (e->throttled)
            shim_exec_unthrottle(s, e); /* its output is read (and dropped) again */
    }
}

void shim_stream_input(struct shim *s, struct shim_client *c, const char *data, size_t len)
{
    struct shim_sink *k = c->has_stdin ? sink_of(s, c) : NULL;
    if (!k || len == 0)
        return; /* no stdin wanted or left: dropped, as docker does */
    shim_queue_add(&k->q, data, len);
    shim_sink_pump(s, k);
}

void shim_stream_readable(struct shim *s, struct shim_client *c)
{
    for (int i = 0; i < STREAM_READS_PER_WAKEUP && c->w.fd >= 0 && c->stdin_open; i++) {
        struct shim_sink *k = c->has_stdin ? sink_of(s, c) : NULL;
        if (k && sink_full(k))
            break;
        ssize_t n = recv(c->w.fd, s->iobuf, sizeof(s->iobuf), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            shim_client_drop(s, c);
            return;
        }
        if (n == 0) {
            stream_stdin_end(s, c); /* a half-close: stdin finished, output goes on */
            break;
        }
        shim_stream_input(s, c, s->iobuf, (size_t)n);
    }
    shim_client_update(s, c);
}

bool shim_stream_frame(struct shim *s, struct shim_client *c, int type, const void *data,
                       size_t len)
{
    if (c->w.fd < 0)
        return false;
    unsigned char h[8] = {(unsigned char)type,
                          0,
                          0,
                          0,
                          (unsigned char)(len >> 24),
                          (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8),
                          (unsigned char)len};
    shim_queue_add(&c->out, h, sizeof(h));
    shim_queue_add(&c->out, data, len);
    shim_client_flush(s, c);
    if (c->w.fd < 0 || c->mode != CM_ATTACH)
        return c->w.fd >= 0;
    size_t queued = shim_queue_len(&c->out);
    if (queued > SHIM_STREAM_HARD) {
        /* only the final drain reads past a pause: a session that far behind is not waited for */
        log_warn("attach session is not reading: disconnected");
        shim_client_drop(s, c);
        return false;
    }
    if (queued > SHIM_STREAM_OUT && !c->behind_since_ms) {
        c->behind_since_ms = shim_mono_ms();
        output_update(s); /* the container waits for it (SHIM_STREAM_STALL_MS at most) */
    }
    return true;
}

void shim_attach_output(struct shim *s, int type, const char *data, size_t len)
{
    for (struct shim_client *c = s->clients; c; c = c->next) {
        if (c->mode != CM_ATTACH || c->w.fd < 0 || c->closing)
            continue;
        if (type == SHIM_FRAME_STDOUT ? c->want_stdout : c->want_stderr)
            shim_stream_frame(s, c, type, data, len);
    }
}

static void stream_exit_frame(struct shim *s, struct shim_client *c, int code)
{
    unsigned char b[4] = {(unsigned char)((unsigned)code >> 24),
                          (unsigned char)((unsigned)code >> 16),
                          (unsigned char)((unsigned)code >> 8), (unsigned char)code};
    c->closing = true;
    shim_stream_frame(s, c, SHIM_FRAME_EXIT, b, sizeof(b));
}

void shim_stream_exit(struct shim *s, struct shim_client *c, int code)
{
    stream_exit_frame(s, c, code);
}

void shim_attach_exit(struct shim *s)
{
    for (struct shim_client *c = s->clients; c; c = c->next)
        if (c->mode == CM_ATTACH && c->w.fd >= 0 && !c->closing)
            stream_exit_frame(s, c, s->exit_code);
}

int64_t shim_attach_tick(struct shim *s)
{
    int64_t now = shim_mono_ms(), next = -1;
    for (struct shim_client *c = s->clients; c; c = c->next) {
        if (c->mode != CM_ATTACH || c->w.fd < 0 || !c->behind_since_ms)
            continue;
        int64_t due = c->behind_since_ms + SHIM_STREAM_STALL_MS;
        if (due <= now) {
            log_warn("attach session is not reading (%zu bytes behind for %d ms): disconnected",
                     shim_queue_len(&c->out), SHIM_STREAM_STALL_MS);
            shim_client_drop(s, c); /* resumes the output if it was the last one behind */
            continue;
        }
        if (next < 0 || due < next)
            next = due;
    }
    return next;
}

void shim_attach_begin(struct shim *s, struct shim_client *c, const struct api_shim_msg *m)
{
    c->mode = CM_ATTACH;
    c->want_stdout = m->stdout_;
    c->want_stderr = m->stderr_;
    c->has_stdin = m->stdin_;
    c->stdin_open = true;
    struct api_shim_msg ok = {.ok = true};
    char *line = api_shim_encode(&ok);
    shim_queue_add(&c->out, line, strlen(line));
    free(line);
    if (s->finalized)
        stream_exit_frame(s, c, s->exit_code); /* it all happened already */
    else
        shim_client_flush(s, c);
}

/* ---- ptys -------------------------------------------------------------------------------- */

int shim_resize(int fd, int h, int w)
{
    struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
    return ioctl(fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}
