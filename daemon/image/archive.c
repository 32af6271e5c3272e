/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker save and docker load. Save: a writer thread of its own (it blocks for as long as the
 * client is slow, so not the threadpool) writes the archive into a pipe and the loop reads the
 * other end at the client's pace, so memory stays bounded whatever the image size. Load: the
 * body is spooled to tmp/ with asynchronous writes, then one threadpool job extracts, verifies
 * and commits everything before the loop makes any of it visible.
 */
#include "daemon/image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "daemon/layer/layer.h"

#define SAVE_READ_BUF    (256 * 1024)
#define SAVE_PIPE_SIZE   (1024 * 1024)
#define CONFIG_MAX       (8 << 20)
#define MANIFEST_MAX     (8 << 20)
#define LOAD_MAX_IMAGES  1000
#define LOAD_MAX_BYTES   (64LL << 30) /* a sane upper bound for one archive */
#define LOAD_PAUSE_BYTES (1024 * 1024)

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER    "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_LIST  "application/vnd.docker.distribution.manifest.list.v2+json"
#define ANN_NAME        "io.containerd.image.name"
#define ANN_REF         "org.opencontainers.image.ref.name"

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(**v));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i], s) == 0)
            return true;
    }
    return false;
}

static int strv_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ======================================= save ============================================ */

struct save_layer {
    char chain[DIGEST_STR_LEN + 1];
    char diff[DIGEST_STR_LEN + 1];
    char blob[DIGEST_STR_LEN + 1]; /* "" for a committed layer: its tree is packed again */
    bool stored;                   /* the store has the layer */
    int64_t size;                  /* uncompressed tar bytes, once written */
};

struct save_image {
    char id[DIGEST_STR_LEN + 1];
    char **tags; /* normalised names (docker.io/library/busybox:latest), sorted */
    size_t ntags;
    struct save_layer *layers;
    size_t nlayers;
    int64_t config_size;
    char manifest[DIGEST_STR_LEN + 1]; /* the OCI manifest written for it */
    int64_t manifest_size;
};

struct image_save {
    struct image_store *st;
    char *root;
    struct image_save_ops ops;
    void *data;
    struct save_image *images;
    size_t nimages;
    /*
     * The writer: a thread of its own rather than the threadpool, because it blocks on the
     * pipe for as long as the client is slow and must not starve the pool. It owns wfd and
     * tells the loop it ended through async.
     */
    uv_thread_t thread;
    uv_async_t async;
    bool async_open;
    int wfd;
    struct err *job_err;
    bool job_done;
    /* the reader (loop) */
    uv_pipe_t pipe;
    bool pipe_open, reading, eof, cancelled;
    bool held; /* the layers' users counts include this save */
    struct err *read_err;
    char *rbuf;
};

/* ---- the plan (loop) --------------------------------------------------------------------- */

static struct save_image *save_add(struct image_save *s, const struct image *img, const char *tag)
{
    struct save_image *si = NULL;
    for (size_t i = 0; i < s->nimages; i++) {
        if (strcmp(s->images[i].id, img->id) == 0)
            si = &s->images[i];
    }
    if (!si) {
        s->images = xrealloc(s->images, (s->nimages + 1) * sizeof(*s->images));
        si = &s->images[s->nimages++];
        memset(si, 0, sizeof(*si));
        snprintf(si->id, sizeof(si->id), "%s", img->id);
        si->nlayers = img->nlayers;
        si->layers = xcalloc(img->nlayers + 1, sizeof(*si->layers));
        for (size_t i = 0; i < img->nlayers; i++) {
            struct save_layer *sl = &si->layers[i];
            const struct layer_rec *l = image_layer_find(s->st, img->chain_ids[i]);
            snprintf(sl->chain, sizeof(sl->chain), "%s", img->chain_ids[i]);
            snprintf(sl->diff, sizeof(sl->diff), "%s", img->diff_ids[i]);
            snprintf(sl->blob, sizeof(sl->blob), "%s", l ? l->blob : "");
            sl->stored = l != NULL;
        }
    }
    if (tag && !strv_has(si->tags, si->ntags, tag))
        strv_push(&si->tags, &si->ntags, xstrdup(tag));
    return si;
}

/* A repository name alone: every tag of it (docker's rule), else an id prefix. */
static int save_resolve_repo(struct image_save *s, const char *name, const struct reg_ref *ref,
                             struct err **err)
{
    _cleanup_free_ char *repo = reg_ref_repo(ref);
    size_t rlen = strlen(repo);
    bool any = false;
    for (size_t i = 0; i < s->st->nrefs; i++) {
        const struct ref_rec *r = &s->st->refs[i];
        if (strncmp(r->name, repo, rlen) != 0 || r->name[rlen] != ':' || strchr(r->name, '@'))
            continue;
        const struct image *img = image_find_id(s->st, r->id);
        if (img) {
            save_add(s, img, r->name);
            any = true;
        }
    }
    if (any)
        return 0;
    const struct image *img = image_lookup(s->st, name, err);
    if (!img)
        return -1;
    save_add(s, img, NULL);
    return 0;
}

static int save_resolve(struct image_save *s, const char *name, struct err **err)
{
    struct reg_ref ref;
    if (strncmp(name, "sha256:", 7) != 0 && reg_ref_parse(name, false, &ref, NULL) == 0) {
        int rc = 0;
        if (!ref.tag && !ref.digest) {
            rc = save_resolve_repo(s, name, &ref, err);
        } else if (ref.tag && !ref.digest) {
            _cleanup_free_ char *full = reg_ref_string(&ref);
            const struct image *img = image_lookup(s->st, name, err);
            if (img)
                save_add(s, img, full);
            rc = img ? 0 : -1;
        } else {
            const struct image *img = image_lookup(s->st, name, err);
            if (img)
                save_add(s, img, NULL);
            rc = img ? 0 : -1;
        }
        reg_ref_release(&ref);
        return rc;
    }
    const struct image *img = image_lookup(s->st, name, err);
    if (!img)
        return -1;
    save_add(s, img, NULL);
    return 0;
}

/* Holds (or releases) every planned layer so that a concurrent rmi cannot delete it. */
static void save_hold(struct image_save *s, bool hold)
{
    for (size_t i = 0; i < s->nimages; i++) {
        for (size_t j = 0; j < s->images[i].nlayers; j++) {
            struct layer_rec *l = image_layer_find(s->st, s->images[i].layers[j].chain);
            if (l && hold)
                l->users++;
            else if (l && l->users > 0)
                l->users--;
        }
    }
}

static void save_free(struct image_save *s)
{
    for (size_t i = 0; i < s->nimages; i++) {
        strv_free(s->images[i].tags, s->images[i].ntags);
        free(s->images[i].layers);
    }
    free(s->images);
    err_free(s->job_err);
    err_free(s->read_err);
    free(s->rbuf);
    free(s->root);
    free(s);
}

/* ---- the writer (its own thread) -------------------------------------------------------- */

struct save_writer {
    struct image_save *s;
    struct layer_tar_writer *w;
    char **written; /* blob digests already in the archive */
    size_t nwritten;
};

static int save_blob_bytes(struct save_writer *sw, const char *digest, const void *data, size_t len,
                           struct err **err)
{
    if (strv_has(sw->written, sw->nwritten, digest))
        return 0;
    strv_push(&sw->written, &sw->nwritten, xstrdup(digest));
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(digest));
    return layer_tar_write_bytes(sw->w, name, data, len, err);
}

static int save_config(struct save_writer *sw, struct save_image *si, struct err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/images/%s.json", sw->s->root, digest_hex(si->id));
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = fsu_read_file(path, CONFIG_MAX, &text, &len);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "read the config of image %s", si->id);
    char check[DIGEST_STR_LEN + 1];
    digest_buf(text, len, check);
    if (strcmp(check, si->id) != 0)
        return err_set(err, ERR_SYSTEM, 0, "the stored config of image %s is damaged", si->id);
    si->config_size = (int64_t)len;
    return save_blob_bytes(sw, si->id, text, len, err);
}

/*
 * A committed layer has no blob: its tree, layers/<chain>/diff, is packed again into fd
 * (layer_pack is deterministic: the same tree gives the same bytes), and the result must hash
 * to the diff-id, or the save fails rather than write a layer the config does not name.
 */
static int save_layer_repack(const char *root, const struct save_layer *sl, int fd,
                             struct err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/layers/%s/diff", root, digest_hex(sl->chain));
    _cleanup_close_ int top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (top < 0)
        return err_set(err, ERR_SYSTEM, errno, "open layer %s", sl->diff);
    struct layer_pack_opts opts = {.diff = true};
    char diff[DIGEST_STR_LEN + 1];
    if (layer_pack(top, fd, &opts, diff, NULL, err) < 0)
        return err_wrap(err, "pack layer %s", sl->diff);
    if (strcmp(diff, sl->diff) != 0)
        return err_set(err, ERR_SYSTEM, 0,
                       "layer %s cannot be saved: its files pack to %s, not to its diff-id",
                       sl->diff, diff);
    return 0;
}

/*
 * The uncompressed tar of a layer, open at offset 0, and its size. A blob that is the
 * uncompressed tar (loaded layers) is used as is; a compressed one (pulled layers) is
 * decompressed, and a committed layer's tree packed, into an unnamed file under tmp/ and
 * checked against its diff-id.
 */
static int save_layer_open(const char *root, const struct save_layer *sl, int *out_fd,
                           int64_t *size, struct err **err)
{
    _cleanup_free_ char *blob = xasprintf("%s/blobs/sha256/%s", root, digest_hex(sl->blob));
    _cleanup_close_ int fd = -1;
    if (sl->blob[0] && strcmp(sl->blob, sl->diff) == 0) {
        fd = open(blob, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return err_set(err, ERR_SYSTEM, errno, "open layer %s", sl->diff);
    } else {
        _cleanup_free_ char *tmp = xasprintf("%s/tmp", root);
        fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
            return err_set(err, ERR_SYSTEM, errno, "create a scratch file in %s", tmp);
    }
    if (!sl->blob[0]) {
        if (save_layer_repack(root, sl, fd, err) < 0)
            return -1;
        if (lseek(fd, 0, SEEK_SET) < 0)
            return err_set(err, ERR_SYSTEM, errno, "seek");
    } else if (strcmp(sl->blob, sl->diff) != 0) {
        char diff[DIGEST_STR_LEN + 1];
        if (layer_decompress(blob, fd, diff, err) < 0)
            return err_wrap(err, "layer %s", sl->diff);
        if (strcmp(diff, sl->diff) != 0)
            return err_set(err, ERR_SYSTEM, 0, "the stored blob of layer %s hashes to %s", sl->diff,
                           diff);
        if (lseek(fd, 0, SEEK_SET) < 0)
            return err_set(err, ERR_SYSTEM, errno, "seek");
    }
    struct stat stt;
    if (fstat(fd, &stt) < 0)
        return err_set(err, ERR_SYSTEM, errno, "stat layer %s", sl->diff);
    *size = stt.st_size;
    *out_fd = steal_fd(&fd);
    return 0;
}

static int save_layer(struct save_writer *sw, struct save_layer *sl, struct err **err)
{
    /* Written before, by this image or another: only its size is needed. */
    for (size_t i = 0; i < sw->s->nimages; i++) {
        for (size_t j = 0; j < sw->s->images[i].nlayers; j++) {
            const struct save_layer *o = &sw->s->images[i].layers[j];
            if (o != sl && o->size > 0 && strcmp(o->diff, sl->diff) == 0) {
                sl->size = o->size;
                return 0;
            }
        }
    }
    _cleanup_close_ int fd = -1;
    if (save_layer_open(sw->s->root, sl, &fd, &sl->size, err) < 0)
        return -1;
    strv_push(&sw->written, &sw->nwritten, xstrdup(sl->diff));
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(sl->diff));
    return layer_tar_write_fd(sw->w, name, fd, sl->size, err);
}

static json_t *descriptor(const char *media_type, const char *digest, int64_t size)
{
    return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
                     (json_int_t)size);
}

static int save_manifest(struct save_writer *sw, struct save_image *si, struct err **err)
{
    json_t *layers = json_array();
    for (size_t i = 0; i < si->nlayers; i++)
        json_array_append_new(layers,
                              descriptor(MT_OCI_LAYER, si->layers[i].diff, si->layers[i].size));
    json_auto_t *m =
        json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
                  "config", descriptor(MT_OCI_CONFIG, si->id, si->config_size), "layers", layers);
    _cleanup_free_ char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    size_t len = strlen(text);
    digest_buf(text, len, si->manifest);
    si->manifest_size = (int64_t)len;
    return save_blob_bytes(sw, si->manifest, text, len, err);
}

static int save_json(struct save_writer *sw, const char *name, json_t *j, struct err **err)
{
    /* manifest.json keeps docker's field order (Config, RepoTags, Layers); the rest is sorted */
    size_t flags =
        strcmp(name, "manifest.json") == 0 ? JSON_COMPACT : JSON_COMPACT | JSON_SORT_KEYS;
    _cleanup_free_ char *text = json_dumps(j, flags);
    _cleanup_free_ char *line = xasprintf("%s\n", text); /* as Go's json.Encoder ends them */
    return layer_tar_write_bytes(sw->w, name, line, strlen(line), err);
}

static json_t *save_index(const struct image_save *s)
{
    json_t *manifests = json_array();
    for (size_t i = 0; i < s->nimages; i++) {
        const struct save_image *si = &s->images[i];
        for (size_t t = 0; t < (si->ntags ? si->ntags : 1); t++) {
            json_t *d = descriptor(MT_OCI_MANIFEST, si->manifest, si->manifest_size);
            if (si->ntags) {
                const char *tag = strrchr(si->tags[t], ':');
                json_object_set_new(d, "annotations",
                                    json_pack("{s:s, s:s}", ANN_NAME, si->tags[t], ANN_REF,
                                              tag ? tag + 1 : "latest"));
            }
            json_array_append_new(manifests, d);
        }
    }
    return json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX, "manifests",
                     manifests);
}

/* manifest.json and repositories: the docker-archive view of the same blobs. */
static void save_docker_views(const struct image_save *s, json_t **manifest, json_t **repos)
{
    *manifest = json_array();
    *repos = json_object();
    for (size_t i = 0; i < s->nimages; i++) {
        const struct save_image *si = &s->images[i];
        json_t *tags = json_array(), *layers = json_array();
        for (size_t t = 0; t < si->ntags; t++) {
            _cleanup_free_ char *fam = image_ref_familiar(si->tags[t]);
            json_array_append_new(tags, json_string(fam));
            char *colon = strrchr(fam, ':');
            if (!colon || si->nlayers == 0)
                continue;
            *colon = '\0';
            json_t *repo = json_object_get(*repos, fam);
            if (!repo)
                json_object_set_new(*repos, fam, repo = json_object());
            json_object_set_new(repo, colon + 1,
                                json_string(digest_hex(si->layers[si->nlayers - 1].diff)));
        }
        for (size_t l = 0; l < si->nlayers; l++) {
            _cleanup_free_ char *p = xasprintf("blobs/sha256/%s", digest_hex(si->layers[l].diff));
            json_array_append_new(layers, json_string(p));
        }
        _cleanup_free_ char *cfg = xasprintf("blobs/sha256/%s", digest_hex(si->id));
        json_array_append_new(*manifest,
                              json_pack("{s:s, s:o, s:o}", "Config", cfg, "RepoTags",
                                        si->ntags ? tags : json_null(), "Layers", layers));
        if (!si->ntags)
            json_decref(tags);
    }
}

static int save_write_all(struct save_writer *sw, struct err **err)
{
    struct image_save *s = sw->s;
    if (layer_tar_write_dir(sw->w, "blobs/", err) < 0 ||
        layer_tar_write_dir(sw->w, "blobs/sha256/", err) < 0)
        return -1;
    for (size_t i = 0; i < s->nimages; i++) {
        struct save_image *si = &s->images[i];
        if (save_config(sw, si, err) < 0)
            return -1;
        for (size_t j = 0; j < si->nlayers; j++) {
            if (save_layer(sw, &si->layers[j], err) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < s->nimages; i++) {
        if (save_manifest(sw, &s->images[i], err) < 0)
            return -1;
    }
    json_auto_t *index = save_index(s);
    json_auto_t *layout = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
    json_t *manifest = NULL, *repos = NULL;
    save_docker_views(s, &manifest, &repos);
    int rc = 0;
    if (save_json(sw, "index.json", index, err) < 0 ||
        save_json(sw, "manifest.json", manifest, err) < 0 ||
        save_json(sw, "oci-layout", layout, err) < 0 ||
        save_json(sw, "repositories", repos, err) < 0)
        rc = -1;
    json_decref(manifest);
    json_decref(repos);
    return rc;
}

static void save_thread(void *arg)
{
    struct image_save *s = arg;
    struct save_writer sw = {.s = s};
    if (layer_tar_writer_new(s->wfd, &sw.w, &s->job_err) == 0 &&
        save_write_all(&sw, &s->job_err) == 0)
        (void)layer_tar_writer_finish(sw.w, &s->job_err);
    layer_tar_writer_free(sw.w);
    strv_free(sw.written, sw.nwritten);
    close(s->wfd); /* the reader sees the end */
    s->wfd = -1;
    uv_async_send(&s->async);
}

/* ---- the reader (loop) ------------------------------------------------------------------- */

static void save_maybe_done(struct image_save *s)
{
    if (!s->job_done || s->pipe_open || s->async_open)
        return;
    _cleanup_(err_freep) struct err *cancelled = NULL;
    const struct err *err = s->job_err ? s->job_err : s->read_err;
    if (!err && s->cancelled) {
        err_set(&cancelled, ERR_INTERNAL, 0, "save cancelled: the client went away");
        err = cancelled;
    }
    if (err && !s->cancelled)
        log_error("image save: %s", err->msg);
    if (s->held)
        save_hold(s, false);
    char **ids = xcalloc(s->nimages + 1, sizeof(*ids));
    for (size_t i = 0; i < s->nimages && !err; i++)
        ids[i] = s->images[i].id;
    s->ops.done(err, ids, s->data);
    free(ids);
    save_free(s);
}

static void save_pipe_closed(uv_handle_t *h)
{
    struct image_save *s = h->data;
    s->pipe_open = false;
    save_maybe_done(s);
}

static void save_close_pipe(struct image_save *s)
{
    if (s->pipe_open && !uv_is_closing((uv_handle_t *)&s->pipe))
        uv_close((uv_handle_t *)&s->pipe, save_pipe_closed);
}

static void save_async_closed(uv_handle_t *h)
{
    struct image_save *s = h->data;
    s->async_open = false;
    save_maybe_done(s);
}

/* The writer thread ended (its last act was uv_async_send). */
static void save_thread_ended(uv_async_t *a)
{
    struct image_save *s = a->data;
    uv_thread_join(&s->thread);
    s->job_done = true;
    uv_close((uv_handle_t *)&s->async, save_async_closed);
}

static void save_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct image_save *s = h->data;
    *buf = uv_buf_init(s->rbuf, SAVE_READ_BUF);
}

static void save_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct image_save *s = stream->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            err_set(&s->read_err, ERR_SYSTEM, (int)-nread, "read the archive pipe");
        s->eof = true;
        s->reading = false;
        uv_read_stop(stream);
        save_close_pipe(s);
        return;
    }
    if (s->cancelled)
        return;
    if (s->ops.data(buf->base, (size_t)nread, s->data) == 1 && s->reading) {
        uv_read_stop(stream);
        s->reading = false;
    }
}

void image_save_resume(struct image_save *s)
{
    if (s->reading || s->eof || s->cancelled || !s->pipe_open)
        return;
    s->reading = true;
    uv_read_start((uv_stream_t *)&s->pipe, save_alloc, save_read);
}

void image_save_cancel(struct image_save *s)
{
    if (s->cancelled)
        return;
    s->cancelled = true;
    if (s->reading)
        uv_read_stop((uv_stream_t *)&s->pipe);
    s->reading = false;
    save_close_pipe(s); /* the writer's next write fails with EPIPE */
}

struct image_save *image_save_start(struct image_store *st, const char *const *names, size_t n,
                                    const struct image_save_ops *ops, void *data, struct err **err)
{
    struct image_save *s = xcalloc(1, sizeof(*s));
    s->st = st;
    s->wfd = -1;
    for (size_t i = 0; i < n; i++) {
        if (save_resolve(s, names[i], err) < 0) {
            save_free(s);
            return NULL;
        }
    }
    if (s->nimages == 0) {
        save_free(s);
        return err_set(err, ERR_INVALID, 0, "no image names given"), NULL;
    }
    for (size_t i = 0; i < s->nimages; i++) {
        for (size_t j = 0; j < s->images[i].nlayers; j++) {
            if (s->images[i].layers[j].stored)
                continue;
            err_set(err, ERR_INTERNAL, 0, "image %s: layer %s is not in the store", s->images[i].id,
                    s->images[i].layers[j].diff);
            save_free(s);
            return NULL;
        }
    }
    for (size_t i = 0; i < s->nimages; i++) {
        if (s->images[i].ntags > 1)
            qsort(s->images[i].tags, s->images[i].ntags, sizeof(char *), strv_cmp);
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        save_free(s);
        return err_set(err, ERR_SYSTEM, errno, "pipe"), NULL;
    }
    (void)fcntl(fds[1], F_SETPIPE_SZ, SAVE_PIPE_SIZE); /* fewer wake-ups; the default works */
    s->root = xstrdup(st->root);
    s->ops = *ops;
    s->data = data;
    s->rbuf = xmalloc(SAVE_READ_BUF);
    uv_pipe_init(st->loop, &s->pipe, 0);
    s->pipe.data = s;
    s->pipe_open = true;
    int r = uv_pipe_open(&s->pipe, fds[0]);
    if (r < 0) {
        close(fds[0]);
        close(fds[1]);
        save_close_pipe(s);
        s->job_done = true;
        err_set(&s->job_err, ERR_SYSTEM, -r, "open the archive pipe");
        return s; /* done reports it from the close callback */
    }
    save_hold(s, true);
    s->held = true;
    s->wfd = fds[1];
    uv_async_init(st->loop, &s->async, save_thread_ended);
    s->async.data = s;
    s->async_open = true;
    r = uv_thread_create(&s->thread, save_thread, s);
    if (r < 0) {
        close(fds[1]);
        s->wfd = -1;
        err_set(&s->job_err, ERR_SYSTEM, -r, "start the archive writer");
        s->job_done = true;
        uv_close((uv_handle_t *)&s->async, save_async_closed);
        save_close_pipe(s);
        return s;
    }
    image_save_resume(s);
    return s;
}

/* ======================================= load ============================================ */

struct load_image {
    struct image *img;
    char *config; /* the exact bytes (their sha256 is the id) */
    size_t config_len;
    char **tags; /* normalised names */
    size_t ntags;
    const struct layer_archive_file **files; /* one per layer, borrowed from the archive */
};

struct image_load {
    struct image_store *st;
    struct image_load_ops ops;
    void *data;
    /* spooling the body (loop) */
    char *spool;
    uv_fs_t req;
    bool busy; /* req is in flight */
    uv_file fd;
    bool opened, unlinked, paused, body_ended, job_started, done_called;
    int64_t total, max, offset;
    struct sb pending, inflight;
    size_t inflight_off;
    struct err *err;
    /* the job (threadpool) */
    uv_work_t work;
    char *root;
    char **have_chains; /* what the store held when the job started */
    size_t nhave_chains;
    struct load_image *images;
    size_t nimages;
    struct layer_rec **layers; /* committed by the job, for the loop to add */
    size_t nlayers;
    char **created; /* paths the job made, removed again if it fails */
    size_t ncreated;
    char **lines;
    size_t nlines;
    char **ids; /* the images loaded, for their events */
    size_t nids;
};

static void load_step(struct image_load *l);
static void load_start_job(struct image_load *l);

static void load_free(struct image_load *l)
{
    for (size_t i = 0; i < l->nimages; i++) {
        image_free(l->images[i].img);
        free(l->images[i].config);
        strv_free(l->images[i].tags, l->images[i].ntags);
        free(l->images[i].files);
    }
    free(l->images);
    for (size_t i = 0; i < l->nlayers; i++)
        free(l->layers[i]);
    free(l->layers);
    strv_free(l->have_chains, l->nhave_chains);
    strv_free(l->created, l->ncreated);
    strv_free(l->lines, l->nlines);
    strv_free(l->ids, l->nids);
    sb_release(&l->pending);
    sb_release(&l->inflight);
    err_free(l->err);
    free(l->spool);
    free(l->root);
    free(l);
}

static void load_done(struct image_load *l)
{
    l->done_called = true;
    if (l->err && l->err->kind != ERR_INVALID && l->err->kind != ERR_TOO_LARGE)
        log_error("image load: %s", l->err->msg);
    static char *const none[] = {NULL};
    l->ops.done(l->err, l->err ? none : l->lines, l->err || !l->ids ? none : l->ids, l->data);
    load_free(l);
}

/* ---- parsing the archive (threadpool) ---------------------------------------------------- */

static int read_member(const struct layer_archive *a, const char *name, size_t max, char **text,
                       size_t *len, const struct layer_archive_file **file, struct err **err)
{
    const struct layer_archive_file *f = NULL;
    if (layer_archive_lookup(a, name, &f, err) < 0)
        return -1;
    if (f->size > (int64_t)max)
        return err_set(err, ERR_INVALID, 0, "%s is larger than %zu bytes", name, max);
    int r = fsu_read_file(f->path, max, text, len);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "read %s", name);
    if (file)
        *file = f;
    return 0;
}

/* A layer file that is neither gzip nor zstd is the uncompressed tar: its sha256 is its diff-id. */
static int check_layer(const char *name, const struct layer_archive_file *f, const char *diff,
                       struct err **err)
{
    if (strcmp(f->digest, diff) == 0)
        return 0;
    unsigned char magic[4] = {0};
    _cleanup_close_ int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, magic, sizeof(magic)) < 0)
        return err_set(err, ERR_SYSTEM, errno, "read %s", name);
    bool gzip = magic[0] == 0x1f && magic[1] == 0x8b;
    bool zstd = magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd;
    if (gzip || zstd)
        return 0; /* its diff-id is checked when it is unpacked */
    return err_set(err, ERR_INVALID, 0,
                   "layer %s: its content hashes to %s, the image config says %s", name, f->digest,
                   diff);
}

/*
 * One image of the archive: its config (checked against config_digest when the archive names
 * one), its layers (each checked against digests[i] when given) and tags (taken).
 */
static int load_add(struct image_load *l, const struct layer_archive *a, const char *config_name,
                    const char *config_digest, char **layers, char **digests, size_t nlayers,
                    char **tags, size_t ntags, struct err **err)
{
    struct load_image li = {.tags = tags, .ntags = ntags};
    const struct layer_archive_file *cf = NULL;
    int rc = read_member(a, config_name, CONFIG_MAX, &li.config, &li.config_len, &cf, err);
    if (rc == 0 && config_digest && strcmp(cf->digest, config_digest) != 0)
        rc = err_set(err, ERR_INVALID, 0, "config %s hashes to %s", config_name, cf->digest);
    if (rc == 0 && image_from_config(li.config, li.config_len, &li.img, err) < 0)
        rc = err_wrap(err, "%s", config_name);
    if (rc == 0 && li.img->nlayers != nlayers)
        rc = err_set(err, ERR_INVALID, 0, "image %s lists %zu layers but its config has %zu",
                     config_name, nlayers, li.img->nlayers);
    li.files = xcalloc(nlayers + 1, sizeof(*li.files));
    for (size_t i = 0; rc == 0 && i < nlayers; i++) {
        rc = layer_archive_lookup(a, layers[i], &li.files[i], err);
        if (rc == 0 && digests && strcmp(li.files[i]->digest, digests[i]) != 0)
            rc = err_set(err, ERR_INVALID, 0, "layer %s hashes to %s, its descriptor says %s",
                         layers[i], li.files[i]->digest, digests[i]);
        if (rc == 0)
            rc = check_layer(layers[i], li.files[i], li.img->diff_ids[i], err);
    }
    for (size_t i = 0; rc == 0 && i < l->nimages; i++) {
        struct load_image *o = &l->images[i];
        if (strcmp(o->img->id, li.img->id) != 0)
            continue;
        for (size_t t = 0; t < li.ntags; t++) { /* the same image again: merge its names */
            if (!strv_has(o->tags, o->ntags, li.tags[t]))
                strv_push(&o->tags, &o->ntags, steal_ptr(&li.tags[t]));
        }
        rc = 1;
    }
    if (rc == 0 && l->nimages >= LOAD_MAX_IMAGES)
        rc = err_set(err, ERR_INVALID, 0, "more than %d images", LOAD_MAX_IMAGES);
    if (rc == 0) {
        l->images = xrealloc(l->images, (l->nimages + 1) * sizeof(*l->images));
        l->images[l->nimages++] = li;
        return 0;
    }
    image_free(li.img);
    free(li.config);
    strv_free(li.tags, li.ntags);
    free(li.files);
    return rc < 0 ? -1 : 0;
}

/* A tag from the archive, normalised ("busybox:latest" -> docker.io/library/busybox:latest). */
static int normalise_tag(const char *s, char **out, struct err **err)
{
    struct reg_ref ref;
    if (!s || reg_ref_parse(s, true, &ref, err) < 0)
        return err_wrap(err, "invalid tag \"%s\"", s ? s : "");
    int rc = 0;
    if (ref.digest)
        rc = err_set(err, ERR_INVALID, 0, "invalid tag \"%s\": a digest is not a tag", s);
    else
        *out = reg_ref_string(&ref);
    reg_ref_release(&ref);
    return rc;
}

static int string_list(json_t *arr, const char *what, char ***out, size_t *n, struct err **err)
{
    size_t i;
    json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) > 10000)
        return err_set(err, ERR_INVALID, 0, "%s must be a list", what);
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return err_set(err, ERR_INVALID, 0, "%s[%zu] must be a string", what, i);
        strv_push(out, n, xstrdup(json_string_value(v)));
    }
    return 0;
}

/* manifest.json: [{"Config", "RepoTags", "Layers"}] */
static int load_docker_entry(struct image_load *l, const struct layer_archive *a, json_t *e,
                             size_t idx, struct err **err)
{
    const char *config = json_string_value(json_object_get(e, "Config"));
    if (!config)
        return err_set(err, ERR_INVALID, 0, "manifest.json[%zu]: Config must be a string", idx);
    char **layers = NULL, **raw_tags = NULL, **tags = NULL;
    size_t nlayers = 0, nraw = 0, ntags = 0;
    int rc =
        string_list(json_object_get(e, "Layers"), "manifest.json Layers", &layers, &nlayers, err);
    json_t *rt = json_object_get(e, "RepoTags");
    if (rc == 0 && rt && !json_is_null(rt))
        rc = string_list(rt, "manifest.json RepoTags", &raw_tags, &nraw, err);
    for (size_t i = 0; rc == 0 && i < nraw; i++) {
        char *full = NULL;
        rc = normalise_tag(raw_tags[i], &full, err);
        if (rc == 0 && !strv_has(tags, ntags, full))
            strv_push(&tags, &ntags, full);
        else
            free(full);
    }
    if (rc == 0) {
        rc = load_add(l, a, config, NULL, layers, NULL, nlayers, tags, ntags, err);
        tags = NULL;
        ntags = 0;
    }
    strv_free(layers, nlayers);
    strv_free(raw_tags, nraw);
    strv_free(tags, ntags);
    return rc;
}

static int load_docker(struct image_load *l, const struct layer_archive *a, struct err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (read_member(a, "manifest.json", MANIFEST_MAX, &text, &len, NULL, err) < 0)
        return -1;
    json_auto_t *j = NULL;
    if (api_json_parse(text, len, &j, err) < 0)
        return err_wrap(err, "manifest.json");
    if (!json_is_array(j) || json_array_size(j) == 0)
        return err_set(err, ERR_INVALID, 0, "manifest.json must be a non-empty list");
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e)
    {
        if (load_docker_entry(l, a, e, i, err) < 0)
            return -1;
    }
    return 0;
}

/* An OCI descriptor's blob: blobs/sha256/<hex>, read (up to max) and checked. */
static int oci_blob(const struct layer_archive *a, json_t *desc, size_t max, char **text,
                    size_t *len, struct err **err)
{
    const char *digest = json_string_value(json_object_get(desc, "digest"));
    if (!digest_valid(digest))
        return err_set(err, ERR_INVALID, 0, "a descriptor has no valid sha256 digest");
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(digest));
    const struct layer_archive_file *f = NULL;
    if (read_member(a, name, max, text, len, &f, err) < 0)
        return -1;
    if (strcmp(f->digest, digest) != 0)
        return err_set(err, ERR_INVALID, 0, "%s hashes to %s", name, f->digest);
    return 0;
}

/* Of an index or manifest list, the linux/amd64 image (or the only one). */
static json_t *oci_pick(json_t *index)
{
    json_t *ms = json_object_get(index, "manifests");
    size_t i;
    json_t *m;
    json_array_foreach(ms, i, m)
    {
        json_t *p = json_object_get(m, "platform");
        const char *os = json_string_value(json_object_get(p, "os"));
        const char *arch = json_string_value(json_object_get(p, "architecture"));
        if (os && arch && strcmp(os, "linux") == 0 && strcmp(arch, "amd64") == 0)
            return m;
    }
    return json_array_size(ms) == 1 ? json_array_get(ms, 0) : NULL;
}

static int oci_image(struct image_load *l, const struct layer_archive *a, json_t *desc, char **tags,
                     size_t ntags, struct err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    json_auto_t *m = NULL;
    json_auto_t *cur = json_deep_copy(desc); /* outlives the manifest it may come from */
    for (int depth = 0;; depth++) {
        free(text);
        text = NULL;
        json_decref(m);
        m = NULL;
        if (oci_blob(a, cur, MANIFEST_MAX, &text, &len, err) < 0 ||
            api_json_parse(text, len, &m, err) < 0) {
            strv_free(tags, ntags);
            return err_wrap(err, "index.json");
        }
        const char *mt = json_string_value(json_object_get(m, "mediaType"));
        bool is_index = json_is_array(json_object_get(m, "manifests")) ||
                        (mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0));
        if (!is_index)
            break;
        json_t *pick = depth < 2 ? oci_pick(m) : NULL;
        if (!pick) {
            strv_free(tags, ntags);
            return err_set(err, ERR_INVALID, 0, "index.json: no linux/amd64 image");
        }
        json_decref(cur);
        cur = json_deep_copy(pick);
    }
    json_t *cfg = json_object_get(m, "config");
    json_t *ls = json_object_get(m, "layers");
    const char *cd = json_string_value(json_object_get(cfg, "digest"));
    if (!digest_valid(cd) || !json_is_array(ls) || json_array_size(ls) > 1000) {
        strv_free(tags, ntags);
        return err_set(err, ERR_INVALID, 0, "an image manifest has no config or layers");
    }
    size_t n = json_array_size(ls);
    char **names = xcalloc(n + 1, sizeof(char *)), **digests = xcalloc(n + 1, sizeof(char *));
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *d = json_string_value(json_object_get(json_array_get(ls, i), "digest"));
        if (!digest_valid(d)) {
            rc = err_set(err, ERR_INVALID, 0, "layer %zu of a manifest has no valid digest", i);
            d = "sha256:";
        }
        names[i] = xasprintf("blobs/sha256/%s", digest_hex(d));
        digests[i] = xstrdup(d);
    }
    _cleanup_free_ char *cname = xasprintf("blobs/sha256/%s", digest_hex(cd));
    if (rc == 0)
        rc = load_add(l, a, cname, cd, names, digests, n, tags, ntags, err);
    else
        strv_free(tags, ntags);
    strv_free(names, n);
    strv_free(digests, n);
    return rc;
}

/* index.json of an OCI layout; names come from io.containerd.image.name. */
static int load_oci(struct image_load *l, const struct layer_archive *a, struct err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (read_member(a, "index.json", MANIFEST_MAX, &text, &len, NULL, err) < 0)
        return -1;
    json_auto_t *j = NULL;
    if (api_json_parse(text, len, &j, err) < 0)
        return err_wrap(err, "index.json");
    json_t *ms = json_object_get(j, "manifests");
    if (!json_is_array(ms) || json_array_size(ms) == 0)
        return err_set(err, ERR_INVALID, 0, "index.json lists no manifests");
    size_t i;
    json_t *d;
    json_array_foreach(ms, i, d)
    {
        json_t *ann = json_object_get(d, "annotations");
        const char *name = json_string_value(json_object_get(ann, ANN_NAME));
        const char *ref = json_string_value(json_object_get(ann, ANN_REF));
        if (!name && ref && strchr(ref, ':'))
            name = ref; /* a full reference in ref.name, as some tools write */
        char **tags = NULL;
        size_t ntags = 0;
        if (name) {
            char *full = NULL;
            if (normalise_tag(name, &full, err) < 0)
                return err_wrap(err, "index.json");
            strv_push(&tags, &ntags, full);
        }
        if (oci_image(l, a, d, tags, ntags, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- committing (threadpool) ------------------------------------------------------------- */

static bool path_exists(const char *p)
{
    struct stat stt;
    return lstat(p, &stt) == 0;
}

static bool load_has_chain(const struct image_load *l, const char *chain)
{
    if (strv_has(l->have_chains, l->nhave_chains, chain))
        return true;
    for (size_t i = 0; i < l->nlayers; i++) {
        if (strcmp(l->layers[i]->chain_id, chain) == 0)
            return true;
    }
    return false;
}

/* Takes away what this load created: it failed, so nothing of it may stay. */
static void load_rollback(struct image_load *l)
{
    for (size_t i = l->ncreated; i-- > 0;) {
        const char *p = l->created[i];
        struct stat stt;
        if (lstat(p, &stt) < 0)
            continue;
        if (S_ISDIR(stt.st_mode)) {
            struct err *e = NULL;
            if (fsu_rmtree(p, &e) < 0)
                log_warn("load: removing %s: %s", p, e->msg);
            err_free(e);
        } else if (unlink(p) < 0) {
            log_warn("load: removing %s: %s", p, strerror(errno));
        }
    }
}

static int load_commit_layer(struct image_load *l, const struct load_image *li, size_t i,
                             struct err **err)
{
    const struct image *img = li->img;
    const struct layer_archive_file *f = li->files[i];
    _cleanup_free_ char *dir = xasprintf("%s/layers/%s", l->root, digest_hex(img->chain_ids[i]));
    _cleanup_free_ char *blob = xasprintf("%s/blobs/sha256/%s", l->root, digest_hex(f->digest));
    bool had_dir = path_exists(dir), had_blob = path_exists(blob);
    /* Two layers may share one file: the first commit moves it to blobs/. */
    struct image_layer_spec spec = {.chain = img->chain_ids[i],
                                    .parent = i ? img->chain_ids[i - 1] : "",
                                    .diff = img->diff_ids[i],
                                    .blob = f->digest,
                                    .blob_tmp = had_blob ? NULL : f->path};
    if (!had_blob)
        strv_push(&l->created, &l->ncreated, xstrdup(blob));
    struct layer_rec *rec = NULL;
    if (image_layer_unpack_commit(l->root, &spec, NULL, &rec, err) < 0)
        return -1;
    if (!had_dir)
        strv_push(&l->created, &l->ncreated, xstrdup(dir));
    l->layers = xrealloc(l->layers, (l->nlayers + 1) * sizeof(*l->layers));
    l->layers[l->nlayers++] = rec;
    return 0;
}

/*
 * A layer the store already has is not unpacked again, but the archive's copy must still be
 * what the config says: a compressed one is decompressed once to compute its diff-id.
 */
static int load_verify_skipped(const struct load_image *li, size_t i, struct err **err)
{
    const struct layer_archive_file *f = li->files[i];
    const char *want = li->img->diff_ids[i];
    if (strcmp(f->digest, want) == 0)
        return 0;
    _cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char diff[DIGEST_STR_LEN + 1];
    if (null < 0)
        return err_set(err, ERR_SYSTEM, errno, "open /dev/null");
    if (layer_decompress(f->path, null, diff, err) < 0)
        return err_wrap(err, "layer %s", want);
    if (strcmp(diff, want) != 0)
        return err_set(err, ERR_INVALID, 0,
                       "layer %s: its content hashes to %s, the image config says %s", want, diff,
                       want);
    return 0;
}

static int load_commit(struct image_load *l, struct err **err)
{
    for (size_t i = 0; i < l->nimages; i++) {
        const struct load_image *li = &l->images[i];
        for (size_t j = 0; j < li->img->nlayers; j++) {
            if (load_has_chain(l, li->img->chain_ids[j])) {
                if (load_verify_skipped(li, j, err) < 0)
                    return -1;
                continue;
            }
            if (load_commit_layer(l, li, j, err) < 0) {
                if ((*err)->kind == ERR_INVALID)
                    return err_wrap(err, "layer %s", li->img->diff_ids[j]);
                return -1;
            }
        }
    }
    /* The configs last: an image is only complete once every layer is in place. */
    for (size_t i = 0; i < l->nimages; i++) {
        const struct load_image *li = &l->images[i];
        _cleanup_free_ char *path =
            xasprintf("%s/images/%s.json", l->root, digest_hex(li->img->id));
        if (path_exists(path))
            continue;
        strv_push(&l->created, &l->ncreated, xstrdup(path));
        if (fsu_write_atomic(path, li->config, li->config_len, 0600, err) < 0)
            return -1;
    }
    return 0;
}

static int load_read(struct image_load *l, const char *dir, struct err **err)
{
    struct statvfs sv;
    int64_t room = LOAD_MAX_BYTES;
    if (statvfs(dir, &sv) == 0 && (int64_t)(sv.f_bavail * sv.f_frsize) / 10 * 9 < room)
        room = (int64_t)(sv.f_bavail * sv.f_frsize) / 10 * 9;
    struct layer_archive *a = NULL;
    int rc = layer_archive_extract(l->spool, dir, room, &a, err);
    unlink(l->spool); /* its content is in dir now (or useless): give the space back */
    if (rc == 0) {
        const struct layer_archive_file *f = NULL;
        bool docker = layer_archive_lookup(a, "manifest.json", &f, NULL) == 0;
        if (!docker && layer_archive_lookup(a, "index.json", &f, NULL) < 0)
            rc = err_set(err, ERR_INVALID, 0, "no manifest.json or index.json in it");
        else
            rc = docker ? load_docker(l, a, err) : load_oci(l, a, err);
    }
    if (rc == 0)
        rc = load_commit(l, err);
    if (rc < 0 && ((*err)->kind == ERR_INVALID || (*err)->kind == ERR_NOT_FOUND)) {
        (*err)->kind = ERR_INVALID; /* a member the archive names but lacks */
        err_wrap(err, "invalid archive");
    }
    layer_archive_free(a); /* the files in dir go with dir */
    return rc;
}

static void load_work(uv_work_t *w)
{
    struct image_load *l = w->data;
    _cleanup_free_ char *dir = xasprintf("%s/tmp/load-XXXXXX", l->root);
    if (!mkdtemp(dir)) {
        err_set(&l->err, ERR_SYSTEM, errno, "create a scratch directory");
        unlink(l->spool);
        return;
    }
    if (load_read(l, dir, &l->err) < 0)
        load_rollback(l);
    struct err *e = NULL;
    if (fsu_rmtree(dir, &e) < 0)
        log_warn("load: %s", e->msg);
    err_free(e);
}

/* ---- making it visible (loop) ------------------------------------------------------------ */

static void load_refs_saved(const struct err *err, void *data)
{
    struct image_load *l = data;
    if (err)
        err_set(&l->err, err->kind, err->errnum, "%s", err->msg);
    load_done(l);
}

/* A layer the job relied on may have been removed (rmi) meanwhile: then nothing is published. */
static int load_check(const struct image_load *l, struct err **err)
{
    for (size_t i = 0; i < l->nimages; i++) {
        const struct image *img = l->images[i].img;
        for (size_t j = 0; j < img->nlayers; j++) {
            if (!image_layer_find(l->st, img->chain_ids[j]))
                return err_set(err, ERR_CONFLICT, 0, "layer %s was removed during the load",
                               img->chain_ids[j]);
        }
    }
    return 0;
}

static void load_publish_image(struct image_load *l, struct load_image *li)
{
    struct image_store *st = l->st;
    char id[DIGEST_STR_LEN + 1];
    snprintf(id, sizeof(id), "%s", li->img->id);
    if (!image_find_id(st, id))
        image_store_add(st, steal_ptr(&li->img));
    strv_push(&l->ids, &l->nids, xstrdup(id));
    for (size_t t = 0; t < li->ntags; t++) {
        image_ref_set(st, li->tags[t], id);
        _cleanup_free_ char *fam = image_ref_familiar(li->tags[t]);
        strv_push(&l->lines, &l->nlines, xasprintf("Loaded image: %s", fam));
    }
    if (li->ntags == 0)
        strv_push(&l->lines, &l->nlines, xasprintf("Loaded image ID: %s", id));
}

static void load_work_after(uv_work_t *w, int status)
{
    struct image_load *l = w->data;
    if (status < 0 && !l->err)
        err_set(&l->err, ERR_SYSTEM, -status, "load");
    if (l->err) {
        load_done(l);
        return;
    }
    for (size_t i = 0; i < l->nlayers; i++) {
        if (!image_layer_find(l->st, l->layers[i]->chain_id))
            image_store_add_layer(l->st, steal_ptr(&l->layers[i]));
    }
    if (load_check(l, &l->err) < 0) {
        load_done(l);
        return;
    }
    bool tagged = false;
    for (size_t i = 0; i < l->nimages; i++) {
        tagged |= l->images[i].ntags > 0;
        load_publish_image(l, &l->images[i]);
    }
    if (tagged)
        image_refs_save(l->st, load_refs_saved, l);
    else
        load_done(l);
}

static void load_start_job(struct image_load *l)
{
    struct image_store *st = l->st;
    l->root = xstrdup(st->root);
    for (size_t i = 0; i < st->nlayers; i++)
        strv_push(&l->have_chains, &l->nhave_chains, xstrdup(st->layers[i]->chain_id));
    l->work.data = l;
    uv_queue_work(st->loop, &l->work, load_work, load_work_after);
}

/* ---- spooling the body (loop) ------------------------------------------------------------ */

static void load_fs_cb(uv_fs_t *req);

static void load_fail(struct image_load *l, enum err_kind kind, int errnum, const char *what)
{
    if (!l->err)
        err_set(&l->err, kind, errnum, "%s", what);
}

/* Starts the next file operation, if any; one at a time, on l->req. */
static void load_step(struct image_load *l)
{
    uv_loop_t *loop = l->st->loop;
    if (l->busy || l->done_called || l->job_started)
        return;
    l->req.data = l;
    if (l->err) {
        /* Close and remove the spool; done runs from the last callback, never synchronously. */
        l->busy = true;
        if (l->opened && l->fd >= 0)
            uv_fs_close(loop, &l->req, l->fd, load_fs_cb);
        else if (!l->unlinked)
            uv_fs_unlink(loop, &l->req, l->spool, load_fs_cb);
        else
            l->busy = false;
        if (!l->busy)
            load_done(l);
        return;
    }
    if (!l->opened) {
        l->busy = l->opened = true;
        uv_fs_open(loop, &l->req, l->spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600,
                   load_fs_cb);
        return;
    }
    if (l->inflight_off == l->inflight.len && l->pending.len > 0) {
        struct sb t = l->inflight;
        l->inflight = l->pending;
        l->pending = t;
        sb_reset(&l->pending);
        l->inflight_off = 0;
    }
    if (l->inflight_off < l->inflight.len) {
        uv_buf_t b = uv_buf_init(l->inflight.buf + l->inflight_off,
                                 (unsigned int)(l->inflight.len - l->inflight_off));
        l->busy = true;
        uv_fs_write(loop, &l->req, l->fd, &b, 1, l->offset, load_fs_cb);
        return;
    }
    if (!l->body_ended)
        return;
    if (l->fd >= 0) {
        l->busy = true;
        uv_fs_close(loop, &l->req, l->fd, load_fs_cb);
        return;
    }
    l->job_started = true; /* the spool is the job's now */
    load_start_job(l);
}

static void load_fs_result(struct image_load *l, uv_fs_t *req)
{
    ssize_t r = req->result;
    switch (req->fs_type) {
    case UV_FS_STATFS:
        if (r == 0) {
            const uv_statfs_t *sf = req->ptr;
            int64_t half = (int64_t)(sf->f_bavail * sf->f_bsize / 2);
            if (half < l->max)
                l->max = half;
        }
        break;
    case UV_FS_OPEN:
        if (r < 0)
            load_fail(l, ERR_SYSTEM, (int)-r, "create the load spool file");
        else
            l->fd = (uv_file)r;
        break;
    case UV_FS_WRITE:
        if (r < 0) {
            load_fail(l, ERR_SYSTEM, (int)-r, "write the load spool file");
        } else {
            l->inflight_off += (size_t)r;
            l->offset += r;
        }
        break;
    case UV_FS_CLOSE:
        l->fd = -1;
        if (r < 0)
            load_fail(l, ERR_SYSTEM, (int)-r, "write the load spool file");
        break;
    case UV_FS_UNLINK:
        l->unlinked = true;
        break;
    default:
        break;
    }
}

static void load_fs_cb(uv_fs_t *req)
{
    struct image_load *l = req->data;
    l->busy = false;
    load_fs_result(l, req);
    uv_fs_req_cleanup(req);
    if (l->paused && !l->err && l->pending.len < LOAD_PAUSE_BYTES / 2) {
        l->paused = false;
        l->ops.resume(l->data);
    }
    load_step(l);
}

struct image_load *image_load_start(struct image_store *st, const struct image_load_ops *ops,
                                    void *data)
{
    struct image_load *l = xcalloc(1, sizeof(*l));
    l->st = st;
    l->ops = *ops;
    l->data = data;
    l->fd = -1;
    l->max = LOAD_MAX_BYTES;
    l->spool = image_tmp_path(st, "load");
    l->opened = false;
    /* The free space first: the body may use half of it (it is extracted next to itself). */
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", st->root);
    l->req.data = l;
    l->busy = true;
    uv_fs_statfs(st->loop, &l->req, tmp, load_fs_cb);
    return l;
}

int image_load_feed(struct image_load *l, const void *buf, size_t len)
{
    if (l->err || l->body_ended)
        return 0;
    l->total += (int64_t)len;
    if (l->total > l->max) {
        err_set(&l->err, ERR_TOO_LARGE, 0,
                "the archive is larger than %lld bytes, the most this daemon accepts now",
                (long long)l->max);
        load_step(l);
        return 0;
    }
    sb_add(&l->pending, buf, len);
    load_step(l);
    if (l->pending.len >= LOAD_PAUSE_BYTES) {
        l->paused = true;
        return 1;
    }
    return 0;
}

void image_load_finish(struct image_load *l, int error)
{
    if (l->body_ended)
        return;
    l->body_ended = true;
    if (error < 0)
        load_fail(l, ERR_INVALID, -error, "load: the request body ended early");
    load_step(l);
}
