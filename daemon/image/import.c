/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker import: a tarball (plain, gzip or zstd) becomes a one-layer image. The body flows
 * through a pipe to a thread of its own (it blocks while the client is slow) that spools it to
 * tmp/ while hashing it (the blob digest), decompresses it once for the diff-id, commits the
 * layer through image_layer_unpack_commit (the load path's) and writes the config; the loop
 * then publishes the layer, the image and its tag, in that order.
 */
#include "daemon/image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/layer/layer.h"

#define IMPORT_HIGH_WATER (1024 * 1024)
#define IMPORT_LOW_WATER  (256 * 1024)
#define IMPORT_BUF        (64 * 1024)

struct image_import {
    struct image_store *st;
    struct image_import_ops ops;
    void *data;
    char *root;
    char *ref;    /* normalised repo:tag, or NULL */
    char *config; /* the config without rootfs, history and created (filled by the thread) */
    char *comment;
    char *arch, *os;
    char *src_path; /* fromSrc=URL: the downloaded file; else the body comes through the pipe */
    /* thread */
    uv_thread_t thread;
    uv_async_t async;
    bool async_open, thread_running, job_done;
    int thread_fd;
    struct err *err;         /* the thread's, then the outcome */
    struct err *body_err;    /* the loop's: the body broke */
    struct layer_rec *layer; /* the committed layer, for the loop to add */
    char *config_bytes;      /* the image config as written */
    char id[DIGEST_STR_LEN + 1];
    /* the body */
    uv_pipe_t pipe;
    bool pipe_open, body_ended, paused, done_called;
    size_t queued;
};

/* ---- the thread: spool, verify, commit ----------------------------------------------------- */

/* Copies the body from fd into a new file under tmp/ while hashing it. */
static int import_spool(struct image_import *im, int fd, char **path,
                        char digest[DIGEST_STR_LEN + 1], struct err **err)
{
    *path = xasprintf("%s/tmp/import-XXXXXX", im->root);
    _cleanup_close_ int out = mkostemp(*path, O_CLOEXEC);
    if (out < 0)
        return err_set(err, ERR_SYSTEM, errno, "create %s", *path);
    struct digest_ctx *d = digest_new();
    _cleanup_free_ char *buf = xmalloc(IMPORT_BUF);
    ssize_t n;
    int r = 0;
    while ((n = read(fd, buf, IMPORT_BUF)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = err_set(err, ERR_SYSTEM, errno, "read the tarball");
            break;
        }
        digest_update(d, buf, (size_t)n);
        int w = fdu_write_all(out, buf, (size_t)n);
        if (w < 0) {
            r = err_set(err, ERR_SYSTEM, -w, "write %s", *path);
            break;
        }
    }
    if (r < 0) {
        digest_free(d);
        return -1;
    }
    digest_final(d, digest);
    if (fsync(out) < 0)
        return err_set(err, ERR_SYSTEM, errno, "sync %s", *path);
    return 0;
}

static int import_config(struct image_import *im, const char *diff_id, struct err **err)
{
    json_auto_t *cfg = json_loads(im->config, 0, NULL);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char created[40];
    time_rfc3339nano(&now, created);
    json_t *img =
        json_pack("{s:s, s:o, s:s, s:s, s:s, s:[{s:s, s:s}], s:{s:s, s:[s]}}", "architecture",
                  im->arch, "config", json_incref(cfg), "created", created, "os", im->os, "comment",
                  im->comment, "history", "created", created, "comment", im->comment, "rootfs",
                  "type", "layers", "diff_ids", diff_id);
    if (!img)
        return err_set(err, ERR_INTERNAL, 0, "encode the image config");
    im->config_bytes = json_dumps(img, JSON_COMPACT);
    json_decref(img);
    digest_buf(im->config_bytes, strlen(im->config_bytes), im->id);
    _cleanup_free_ char *path = xasprintf("%s/images/%s.json", im->root, digest_hex(im->id));
    return fsu_write_atomic(path, im->config_bytes, strlen(im->config_bytes), 0600, err);
}

static int import_run(struct image_import *im, struct err **err)
{
    _cleanup_free_ char *spool = NULL;
    char blob[DIGEST_STR_LEN + 1];
    if (im->src_path) {
        _cleanup_close_ int fd = open(im->src_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return err_set(err, ERR_SYSTEM, errno, "open %s", im->src_path);
        if (import_spool(im, fd, &spool, blob, err) < 0)
            goto fail;
    } else {
        _cleanup_close_ int fd = steal_fd(&im->thread_fd);
        if (import_spool(im, fd, &spool, blob, err) < 0)
            goto fail;
    }
    /* one pass for the diff-id; it also refuses what is not a tar in gzip, zstd or nothing */
    char diff[DIGEST_STR_LEN + 1];
    _cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0) {
        err_set(err, ERR_SYSTEM, errno, "open /dev/null");
        goto fail;
    }
    if (layer_decompress(spool, null, diff, err) < 0)
        goto fail;
    struct image_layer_spec spec = {
        .chain = diff, .parent = "", .diff = diff, .blob = blob, .blob_tmp = spool};
    if (image_layer_unpack_commit(im->root, &spec, NULL, &im->layer, err) < 0)
        goto fail;
    return import_config(im, diff, err);
fail:
    if (spool)
        (void)unlink(spool);
    return -1;
}

static void import_thread(void *arg)
{
    struct image_import *im = arg;
    (void)import_run(im, &im->err);
    if (im->thread_fd >= 0)
        close(steal_fd(&im->thread_fd)); /* a writer still writing sees EPIPE */
    uv_async_send(&im->async);
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void import_free(struct image_import *im)
{
    if (im->layer)
        free(im->layer);
    free(im->root);
    free(im->ref);
    free(im->config);
    free(im->comment);
    free(im->arch);
    free(im->os);
    free(im->src_path);
    free(im->config_bytes);
    err_free(im->err);
    err_free(im->body_err);
    free(im);
}

static void import_maybe_free(struct image_import *im)
{
    if (im->done_called && !im->pipe_open && !im->async_open && !im->thread_running &&
        im->body_ended)
        import_free(im);
}

static void import_done(struct image_import *im)
{
    if (im->done_called)
        return;
    im->done_called = true;
    im->ops.done(im->err, im->err ? NULL : im->id, im->data);
    import_maybe_free(im);
}

static void import_refs_saved(const struct err *err, void *data)
{
    struct image_import *im = data;
    if (err)
        err_set(&im->err, err->kind, err->errnum, "%s", err->msg);
    import_done(im);
}

static void import_publish(struct image_import *im)
{
    struct image_store *st = im->st;
    struct image *img = NULL;
    if (!image_layer_find(st, im->layer->chain_id))
        image_store_add_layer(st, steal_ptr(&im->layer));
    if (!image_find_id(st, im->id)) {
        if (image_from_config(im->config_bytes, strlen(im->config_bytes), &img, &im->err) < 0) {
            import_done(im);
            return;
        }
        image_store_add(st, img);
    }
    if (!im->ref) {
        import_done(im);
        return;
    }
    image_ref_set(st, im->ref, im->id);
    image_refs_save(st, import_refs_saved, im);
}

static void import_pipe_closed(uv_handle_t *h)
{
    struct image_import *im = h->data;
    im->pipe_open = false;
    import_maybe_free(im);
}

static void import_close_pipe(struct image_import *im)
{
    if (im->pipe_open && !uv_is_closing((uv_handle_t *)&im->pipe))
        uv_close((uv_handle_t *)&im->pipe, import_pipe_closed);
}

static void import_async_closed(uv_handle_t *h)
{
    struct image_import *im = h->data;
    im->async_open = false;
    import_maybe_free(im);
}

static void import_thread_ended(uv_async_t *a)
{
    struct image_import *im = a->data;
    uv_thread_join(&im->thread);
    im->thread_running = false;
    im->job_done = true;
    uv_close((uv_handle_t *)&im->async, import_async_closed);
    import_close_pipe(im);
    if (im->body_err) {
        /* the thread may have seen a clean end of a cut body: nothing of it is published */
        err_free(im->err);
        im->err = steal_ptr(&im->body_err);
        if (im->layer) {
            free(im->layer);
            im->layer = NULL;
        }
    }
    if (im->err)
        import_done(im);
    else
        import_publish(im);
}

struct import_write {
    uv_write_t w;
    struct image_import *im;
    size_t len;
    char data[];
};

static void import_written(uv_write_t *w, int status)
{
    struct import_write *iw = (struct import_write *)w;
    struct image_import *im = iw->im;
    (void)status; /* a thread that stopped reading reports its own error */
    im->queued -= iw->len;
    free(iw);
    if (im->paused && im->queued < IMPORT_LOW_WATER && !im->body_ended) {
        im->paused = false;
        im->ops.resume(im->data);
    }
    if (im->body_ended && im->queued == 0)
        import_close_pipe(im);
}

int image_import_feed(struct image_import *im, const void *buf, size_t len)
{
    if (!im->pipe_open || uv_is_closing((uv_handle_t *)&im->pipe))
        return 0;
    struct import_write *iw = xmalloc(sizeof(*iw) + len);
    iw->im = im;
    iw->len = len;
    memcpy(iw->data, buf, len);
    uv_buf_t b = uv_buf_init(iw->data, (unsigned int)len);
    if (uv_write(&iw->w, (uv_stream_t *)&im->pipe, &b, 1, import_written) < 0) {
        free(iw);
        return 0;
    }
    im->queued += len;
    if (im->queued > IMPORT_HIGH_WATER) {
        im->paused = true;
        return 1;
    }
    return 0;
}

void image_import_finish(struct image_import *im, int error)
{
    im->body_ended = true;
    if (error < 0) {
        if (!im->body_err)
            err_set(&im->body_err, ERR_INVALID, 0, "the tarball was cut short");
        import_close_pipe(im);
    } else if (im->queued == 0) {
        import_close_pipe(im);
    }
    import_maybe_free(im);
}

static int import_prepare(struct image_import *im, const struct image_import_opts *o,
                          struct err **err)
{
    if (o->repo && o->repo[0]) {
        _cleanup_free_ char *full =
            o->tag && o->tag[0] ? xasprintf("%s:%s", o->repo, o->tag) : xstrdup(o->repo);
        struct reg_ref ref;
        if (reg_ref_parse(full, true, &ref, err) < 0)
            return -1;
        int rc = 0;
        if (ref.digest)
            rc = err_set(err, ERR_INVALID, 0, "invalid reference %s: a digest is not a tag", full);
        else
            im->ref = reg_ref_string(&ref);
        reg_ref_release(&ref);
        if (rc < 0)
            return -1;
    }
    json_auto_t *cfg = json_object();
    if (image_config_apply_changes(cfg, (const char *const *)o->changes, err) < 0)
        return -1;
    im->config = json_dumps(cfg, JSON_COMPACT);
    im->comment =
        o->message && o->message[0] ? xstrdup(o->message) : xasprintf("Imported from %s", o->src);
    im->arch = xstrdup(o->arch && o->arch[0] ? o->arch : "amd64");
    im->os = xstrdup(o->os && o->os[0] ? o->os : "linux");
    im->root = xstrdup(im->st->root);
    return 0;
}

struct image_import *image_import_start(struct image_store *st, const struct image_import_opts *o,
                                        const struct image_import_ops *ops, void *data,
                                        struct err **err)
{
    struct image_import *im = xcalloc(1, sizeof(*im));
    im->st = st;
    im->ops = *ops;
    im->data = data;
    im->thread_fd = -1;
    if (import_prepare(im, o, err) < 0) {
        import_free(im);
        return NULL;
    }
    int fds[2] = {-1, -1};
    if (o->src_path) {
        im->src_path = xstrdup(o->src_path);
        im->body_ended = true;
    } else {
        if (pipe2(fds, O_CLOEXEC) < 0) {
            err_set(err, ERR_SYSTEM, errno, "pipe");
            import_free(im);
            return NULL;
        }
        im->thread_fd = fds[0];
        uv_pipe_init(st->loop, &im->pipe, 0);
        im->pipe.data = im;
        im->pipe_open = true;
        if (uv_pipe_open(&im->pipe, fds[1]) < 0)
            close(fds[1]); /* writes then fail and the thread sees the end at once */
    }
    uv_async_init(st->loop, &im->async, import_thread_ended);
    im->async.data = im;
    im->async_open = true;
    im->thread_running = true;
    int r = uv_thread_create(&im->thread, import_thread, im);
    if (r < 0) {
        /* freed once its handles are closed; done never runs */
        im->thread_running = false;
        im->done_called = im->body_ended = true;
        uv_close((uv_handle_t *)&im->async, import_async_closed);
        import_close_pipe(im);
        if (im->thread_fd >= 0)
            close(steal_fd(&im->thread_fd));
        err_set(err, ERR_SYSTEM, -r, "create a thread");
        return NULL;
    }
    return im;
}
