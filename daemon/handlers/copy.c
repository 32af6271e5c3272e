/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker cp and export: HEAD, GET and PUT /containers/{id}/archive, GET /containers/{id}/export.
 * The container's root comes from ctr_rootfs_get (never a chroot, never a program of the
 * container); every path is resolved below it in-root (layer_root_open). Stat and resolution
 * run on the threadpool; a tar in or out streams through a pipe to a thread of its own (it
 * blocks while the client is slow), with back-pressure both ways.
 */
#include "daemon/handlers/handlers.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/layer/layer.h"

/* Bytes queued towards the client or the extracting thread beyond which input pauses. */
#define CP_HIGH_WATER (1024 * 1024)
#define CP_LOW_WATER  (256 * 1024)
#define CP_READ_BUF   (64 * 1024)

enum cp_kind { CP_HEAD, CP_GET, CP_PUT, CP_EXPORT };

struct cp_op {
    enum cp_kind kind;
    uv_loop_t *loop;
    struct httpd_req *req;
    struct ctr_store *ctrs;
    struct ctr *c; /* referenced */
    char *path;    /* as the client named it */
    bool held;     /* the root is held (ctr_rootfs_put at the end) */
    int root_fd;
    int src_fd; /* GET: what the path names (O_PATH) */
    bool no_overwrite, copy_uidgid;
    char *user; /* the container's configured user, for copyUIDGID */
    struct layer_extract_opts xopts;
    char *stat_b64;       /* X-Docker-Container-Path-Stat */
    struct err *prep_err; /* the threadpool step's failure */
    uv_work_t work;
    /* the streaming thread and the pipe between it and the loop */
    uv_thread_t thread;
    uv_async_t async;
    bool async_open, thread_running, job_done;
    struct err *job_err;
    int thread_fd; /* the thread's end of the pipe */
    uv_pipe_t pipe;
    bool pipe_open;
    /* PUT: the body flowing into the pipe */
    bool body_reading, body_ended, body_paused;
    size_t queued;
    /* GET: the pipe flowing to the client */
    bool reading, eof, client_paused;
    char *rbuf;
    bool replied;
};

static void cp_free(struct cp_op *op)
{
    if (op->held)
        ctr_rootfs_put(op->c);
    if (op->root_fd >= 0)
        close(op->root_fd);
    if (op->src_fd >= 0)
        close(op->src_fd);
    if (op->thread_fd >= 0)
        close(op->thread_fd);
    ctr_unref(op->c);
    free(op->path);
    free(op->user);
    free(op->stat_b64);
    free(op->rbuf);
    err_free(op->prep_err);
    err_free(op->job_err);
    free(op);
}

/* Frees op once nothing refers to it any more. */
static void cp_maybe_free(struct cp_op *op)
{
    if (!op->replied || op->pipe_open || op->async_open || op->thread_running)
        return;
    if (op->body_reading && !op->body_ended)
        return;
    cp_free(op);
}

static void cp_reply_err(struct cp_op *op, const struct err *err)
{
    if (op->replied)
        return;
    op->replied = true;
    route_send_err(op->req, err);
}

/* docker's answer for a path that is not there. */
static void cp_not_found(struct cp_op *op, struct err **err)
{
    if (*err && (*err)->kind == ERR_NOT_FOUND) {
        err_free(*err);
        *err = NULL;
        err_set(err, ERR_NOT_FOUND, 0, "Could not find the file %s in container %s", op->path,
                op->c->name);
    }
}

/* ---- stat: X-Docker-Container-Path-Stat --------------------------------------------------- */

/* Go's os.FileMode bits, as moby's ContainerPathStat.Mode carries them. */
#define GO_MODE_DIR        (1u << 31)
#define GO_MODE_SYMLINK    (1u << 27)
#define GO_MODE_DEVICE     (1u << 26)
#define GO_MODE_NAMED_PIPE (1u << 25)
#define GO_MODE_SOCKET     (1u << 24)
#define GO_MODE_SETUID     (1u << 23)
#define GO_MODE_SETGID     (1u << 22)
#define GO_MODE_CHAR       (1u << 21)
#define GO_MODE_STICKY     (1u << 20)

static uint32_t cp_go_mode(mode_t m)
{
    uint32_t g = m & 0777;
    switch (m & S_IFMT) {
    case S_IFDIR:
        g |= GO_MODE_DIR;
        break;
    case S_IFLNK:
        g |= GO_MODE_SYMLINK;
        break;
    case S_IFBLK:
        g |= GO_MODE_DEVICE;
        break;
    case S_IFCHR:
        g |= GO_MODE_DEVICE | GO_MODE_CHAR;
        break;
    case S_IFIFO:
        g |= GO_MODE_NAMED_PIPE;
        break;
    case S_IFSOCK:
        g |= GO_MODE_SOCKET;
        break;
    default:
        break;
    }
    g |= (m & S_ISUID) ? GO_MODE_SETUID : 0;
    g |= (m & S_ISGID) ? GO_MODE_SETGID : 0;
    g |= (m & S_ISVTX) ? GO_MODE_STICKY : 0;
    return g;
}

/* Go's filepath.Base of "/" + path: the last element, "/" for the root. */
static char *cp_base(const char *path)
{
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    if (n == 0)
        return xstrdup("/");
    size_t i = n;
    while (i > 0 && path[i - 1] != '/')
        i--;
    return xstrndup(path + i, n - i);
}

/* Opens op->path (a final symlink itself) and encodes its stat; keeps the fd for GET. */
static int cp_stat(struct cp_op *op, struct err **err)
{
    _cleanup_close_ int fd = -1;
    struct stat st;
    if (layer_root_open(op->root_fd, op->path, false, &fd, err) < 0 || fstat(fd, &st) < 0) {
        if (!*err)
            err_set(err, ERR_SYSTEM, errno, "stat %s", op->path);
        cp_not_found(op, err);
        return -1;
    }
    _cleanup_free_ char *target = NULL;
    if (S_ISLNK(st.st_mode) && layer_root_realpath(op->root_fd, op->path, &target, err) < 0)
        return -1;
    _cleanup_free_ char *name = cp_base(op->path);
    char mtime[40];
    time_rfc3339nano(&st.st_mtim, mtime);
    json_auto_t *j = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", name, "size",
                               (json_int_t)st.st_size, "mode", (json_int_t)cp_go_mode(st.st_mode),
                               "mtime", mtime, "linkTarget", target ? target : "");
    _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
    op->stat_b64 = b64_encode(text, strlen(text), false);
    op->src_fd = steal_fd(&fd);
    return 0;
}

/* ---- the streaming thread ------------------------------------------------------------------ */

static void cp_finish(struct cp_op *op);

static void cp_async_closed(uv_handle_t *h)
{
    struct cp_op *op = h->data;
    op->async_open = false;
    cp_maybe_free(op);
}

/* The thread ended (its last act was uv_async_send). */
static void cp_thread_ended(uv_async_t *a)
{
    struct cp_op *op = a->data;
    uv_thread_join(&op->thread);
    op->thread_running = false;
    op->job_done = true;
    uv_close((uv_handle_t *)&op->async, cp_async_closed);
    cp_finish(op);
}

static void cp_pipe_closed(uv_handle_t *h)
{
    struct cp_op *op = h->data;
    op->pipe_open = false;
    cp_maybe_free(op);
}

static void cp_close_pipe(struct cp_op *op)
{
    if (op->pipe_open && !uv_is_closing((uv_handle_t *)&op->pipe))
        uv_close((uv_handle_t *)&op->pipe, cp_pipe_closed);
}

/*
 * Starts fn on a thread of its own with one end of a new pipe (op->thread_fd; the thread
 * closes it or hands it on); the loop keeps the other in op->pipe. to_thread: the loop writes.
 */
static int cp_thread_start(struct cp_op *op, void (*fn)(void *), bool to_thread, struct err **err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return err_set(err, ERR_SYSTEM, errno, "pipe");
    int mine = to_thread ? fds[1] : fds[0];
    op->thread_fd = to_thread ? fds[0] : fds[1];
    uv_pipe_init(op->loop, &op->pipe, 0);
    op->pipe.data = op;
    op->pipe_open = true;
    int r = uv_pipe_open(&op->pipe, mine);
    if (r < 0) {
        close(mine);
        cp_close_pipe(op);
        return err_set(err, ERR_SYSTEM, -r, "pipe");
    }
    uv_async_init(op->loop, &op->async, cp_thread_ended);
    op->async.data = op;
    op->async_open = true;
    op->thread_running = true;
    r = uv_thread_create(&op->thread, fn, op);
    if (r < 0) {
        op->thread_running = false;
        uv_close((uv_handle_t *)&op->async, cp_async_closed);
        cp_close_pipe(op);
        return err_set(err, ERR_SYSTEM, -r, "create a thread");
    }
    return 0;
}

/* ---- PUT: the body through the pipe into layer_extract -------------------------------------- */

static void cp_extract_thread(void *arg)
{
    struct cp_op *op = arg;
    int fd = steal_fd(&op->thread_fd);
    (void)layer_extract(fd, op->src_fd, &op->xopts, &op->job_err);
    uv_async_send(&op->async);
}

struct cp_write {
    uv_write_t w;
    struct cp_op *op;
    size_t len;
    char data[];
};

static void cp_body_written(uv_write_t *w, int status)
{
    struct cp_write *cw = (struct cp_write *)w;
    struct cp_op *op = cw->op;
    (void)status; /* the thread stopped reading: its own error says why */
    op->queued -= cw->len;
    free(cw);
    if (op->body_paused && op->queued < CP_LOW_WATER && !op->body_ended) {
        op->body_paused = false;
        httpd_req_body_resume(op->req);
    }
    if (op->body_ended && op->queued == 0)
        cp_close_pipe(op); /* the thread sees the end of the tar */
}

static int cp_body_data(struct httpd_req *req, const char *buf, size_t len, void *data)
{
    (void)req;
    struct cp_op *op = data;
    if (op->prep_err)
        return 0; /* refused: read to the end so that the client sees the answer */
    if (!op->pipe_open || uv_is_closing((uv_handle_t *)&op->pipe))
        return 0; /* the extraction ended early: the rest is dropped */
    struct cp_write *cw = xmalloc(sizeof(*cw) + len);
    cw->op = op;
    cw->len = len;
    memcpy(cw->data, buf, len);
    uv_buf_t b = uv_buf_init(cw->data, (unsigned int)len);
    if (uv_write(&cw->w, (uv_stream_t *)&op->pipe, &b, 1, cp_body_written) < 0) {
        free(cw);
        return 0;
    }
    op->queued += len;
    if (op->queued > CP_HIGH_WATER) {
        op->body_paused = true;
        return 1;
    }
    return 0;
}

static void cp_body_end(struct httpd_req *req, int error, void *data)
{
    (void)req;
    struct cp_op *op = data;
    op->body_ended = true;
    if (op->prep_err) {
        cp_reply_err(op, op->prep_err);
        cp_maybe_free(op);
        return;
    }
    if (error < 0 || op->queued == 0)
        cp_close_pipe(op); /* a broken body ends the tar early: the thread fails */
    cp_finish(op);
    cp_maybe_free(op);
}

/* ---- GET and export: layer_pack through the pipe to the client ------------------------------ */

static void cp_pack_thread(void *arg)
{
    struct cp_op *op = arg;
    int fd = steal_fd(&op->thread_fd);
    /* docker cp names the entries after the path as asked ("/etc/" -> "etc", "/etc/." -> ".") */
    _cleanup_free_ char *name = op->kind == CP_GET ? cp_base(op->path) : NULL;
    struct layer_pack_opts o = {.one_filesystem = op->kind == CP_EXPORT, .name = name};
    int top = op->kind == CP_EXPORT ? op->root_fd : op->src_fd;
    (void)layer_pack(top, fd, &o, NULL, NULL, &op->job_err);
    close(fd); /* the reader sees the end */
    uv_async_send(&op->async);
}

static void cp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct cp_op *op = h->data;
    *buf = uv_buf_init(op->rbuf, CP_READ_BUF);
}

static void cp_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct cp_op *op = stream->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        op->eof = true;
        op->reading = false;
        uv_read_stop(stream);
        cp_close_pipe(op);
        cp_finish(op);
        return;
    }
    if (httpd_resp_chunk(op->req, buf->base, (size_t)nread) < 0 ||
        httpd_resp_pending(op->req) > CP_HIGH_WATER) {
        uv_read_stop(stream); /* resumed by cp_drained; a gone client aborts */
        op->reading = false;
    }
}

static void cp_drained(struct httpd_req *req, void *data)
{
    (void)req;
    struct cp_op *op = data;
    if (!op->reading && !op->eof && op->pipe_open && !httpd_req_aborted(op->req)) {
        op->reading = true;
        uv_read_start((uv_stream_t *)&op->pipe, cp_alloc, cp_read);
    }
}

static void cp_aborted(struct httpd_req *req, void *data)
{
    (void)req;
    struct cp_op *op = data;
    if (op->reading)
        uv_read_stop((uv_stream_t *)&op->pipe);
    op->reading = false;
    op->eof = true;
    cp_close_pipe(op); /* the packing thread's next write fails with EPIPE */
    cp_finish(op);
}

static void cp_get_start(struct cp_op *op)
{
    struct err *err = NULL;
    op->rbuf = xmalloc(CP_READ_BUF);
    if (cp_thread_start(op, cp_pack_thread, false, &err) < 0) {
        cp_reply_err(op, err);
        err_free(err);
        return;
    }
    if (op->kind == CP_GET) {
        httpd_resp_header(op->req, "X-Docker-Container-Path-Stat", op->stat_b64);
        ctr_event(op->c, "archive-path", NULL, NULL);
    }
    httpd_req_on_abort(op->req, cp_aborted, op);
    httpd_resp_on_drain(op->req, CP_LOW_WATER, cp_drained, op);
    httpd_resp_begin_chunked(op->req, 200,
                             op->kind == CP_GET ? "application/x-tar" : "application/octet-stream");
    op->reading = true;
    uv_read_start((uv_stream_t *)&op->pipe, cp_alloc, cp_read);
}

/* ---- completion ---------------------------------------------------------------------------- */

/* The thread ended, or the body did: answer once both are known. */
static void cp_finish(struct cp_op *op)
{
    if (op->kind == CP_PUT) {
        if (!op->job_done)
            return;
        if (op->job_err)
            cp_close_pipe(op); /* the rest of the body is read and dropped */
        /* answered once the body is read: a reset would hide the answer from the client */
        if (!op->body_ended)
            return;
        if (op->job_err) {
            cp_reply_err(op, op->job_err);
        } else if (!op->replied) {
            op->replied = true;
            ctr_event(op->c, "extract-to-dir", NULL, NULL);
            httpd_resp_send(op->req, 200, NULL, NULL, 0);
        }
        return;
    }
    /* GET/export: after the first byte the status cannot change; a failure cuts the stream */
    if (!op->job_done || !op->eof || op->replied)
        return;
    if (op->job_err && !httpd_req_aborted(op->req))
        log_warn("%s of %s: %s", op->kind == CP_GET ? "cp" : "export", op->c->name,
                 op->job_err->msg);
    op->replied = true;
    httpd_resp_on_drain(op->req, 0, NULL, NULL);
    if (op->job_err) {
        httpd_resp_abort(op->req); /* no last chunk: the client sees a truncated tar */
    } else {
        if (op->kind == CP_EXPORT)
            ctr_event(op->c, "export", NULL, NULL);
        httpd_resp_end(op->req);
    }
}

/* ---- the steps after the root is held ------------------------------------------------------ */

static int cp_prep_put(struct cp_op *op, struct err **err)
{
    _cleanup_close_ int fd = -1;
    struct stat st;
    /* the extraction point is followed to the end, in-root: "dir -> /etc" means its /etc */
    if (layer_root_open(op->root_fd, op->path, true, &fd, err) < 0 || fstat(fd, &st) < 0) {
        if (!*err)
            err_set(err, ERR_SYSTEM, errno, "stat %s", op->path);
        cp_not_found(op, err);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(err, ERR_INVALID, 0, "extraction point is not a directory");
    op->xopts.uid = op->xopts.gid = -1;
    op->xopts.no_overwrite_dir_non_dir = op->no_overwrite;
    if (op->copy_uidgid && op->user && op->user[0] &&
        ctr_rootfs_user(op->root_fd, op->user, &op->xopts.uid, &op->xopts.gid, err) < 0)
        return -1;
    op->src_fd = steal_fd(&fd);
    return 0;
}

static void cp_prep_work(uv_work_t *w)
{
    struct cp_op *op = w->data;
    if (op->kind == CP_PUT)
        (void)cp_prep_put(op, &op->prep_err);
    else if (op->kind == CP_HEAD || op->kind == CP_GET)
        (void)cp_stat(op, &op->prep_err);
}

static void cp_prep_after(uv_work_t *w, int status)
{
    struct cp_op *op = w->data;
    struct err *err = NULL;
    if (status != 0 && !op->prep_err)
        err_set(&op->prep_err, ERR_INTERNAL, 0, "cancelled");
    if (op->prep_err && op->kind == CP_PUT) {
        /* answered once the body is read: a reset would hide the answer from the client */
        static const struct httpd_body_ops drain = {.data = cp_body_data, .end = cp_body_end};
        op->body_reading = true;
        httpd_req_body_read(op->req, &drain, op);
    } else if (op->prep_err) {
        cp_reply_err(op, op->prep_err);
    } else if (op->kind == CP_HEAD) {
        op->replied = true;
        httpd_resp_header(op->req, "X-Docker-Container-Path-Stat", op->stat_b64);
        httpd_resp_send(op->req, 200, NULL, NULL, 0);
    } else if (op->kind == CP_PUT) {
        if (cp_thread_start(op, cp_extract_thread, true, &err) < 0) {
            cp_reply_err(op, err);
            err_free(err);
        } else {
            static const struct httpd_body_ops body = {.data = cp_body_data, .end = cp_body_end};
            op->body_reading = true;
            httpd_req_body_read(op->req, &body, op);
        }
    } else {
        cp_get_start(op);
    }
    cp_maybe_free(op);
}

static void cp_rootfs_ready(const struct err *err, int root_fd, void *data)
{
    struct cp_op *op = data;
    if (err) {
        cp_reply_err(op, err);
        cp_maybe_free(op);
        return;
    }
    op->held = true;
    op->root_fd = root_fd;
    if (op->kind == CP_EXPORT) {
        cp_get_start(op);
        cp_maybe_free(op);
        return;
    }
    op->work.data = op;
    uv_queue_work(op->loop, &op->work, cp_prep_work, cp_prep_after);
}

static void cp_begin(struct route_req *rr, enum cp_kind kind)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct ctr *c = ctr_lookup(env->ctrs, rr->params[0], &err);
    const char *path = route_query(rr, "path");
    if (c && kind != CP_EXPORT && (!path || !*path))
        err_set(&err, ERR_INVALID, 0, "bad parameter: path cannot be empty");
    if (c && kind == CP_PUT && c->cfg.host.readonly_rootfs)
        err_set(&err, ERR_FORBIDDEN, 0, "container rootfs is marked read-only");
    if (err) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    struct cp_op *op = xcalloc(1, sizeof(*op));
    op->kind = kind;
    op->loop = env->loop;
    op->ctrs = env->ctrs;
    op->c = c;
    ctr_ref(c);
    op->root_fd = op->src_fd = op->thread_fd = -1;
    op->path = xstrdup(path ? path : "/");
    op->no_overwrite = route_query_bool(rr, "noOverwriteDirNonDir", false);
    op->copy_uidgid = route_query_bool(rr, "copyUIDGID", false);
    op->user = c->cfg.user ? xstrdup(c->cfg.user) : NULL;
    op->req = route_detach(rr);
    ctr_rootfs_get(op->ctrs, c, cp_rootfs_ready, op);
}

static void handle_archive_head(struct route_req *rr)
{
    cp_begin(rr, CP_HEAD);
}

static void handle_archive_get(struct route_req *rr)
{
    cp_begin(rr, CP_GET);
}

static void handle_archive_put(struct route_req *rr)
{
    cp_begin(rr, CP_PUT);
}

static void handle_export(struct route_req *rr)
{
    cp_begin(rr, CP_EXPORT);
}

const struct route handle_copy_routes[] = {
    {.method = "HEAD", .pattern = "/containers/{id}/archive", .fn = handle_archive_head},
    {.method = "GET", .pattern = "/containers/{id}/archive", .fn = handle_archive_get},
    {.method = "PUT",
     .pattern = "/containers/{id}/archive",
     .fn = handle_archive_put,
     .stream_body = true},
    {.method = "GET", .pattern = "/containers/{id}/export", .fn = handle_export},
    {.method = NULL},
};
