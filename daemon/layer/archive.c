/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image archives (docker save / load): the outer tar that carries configs, manifests and layer
 * tars. The writer streams entries to a pipe; the reader copies the archive's regular files
 * into a scratch directory under flat generated names, so no name from the archive ever
 * reaches the filesystem, and resolves the archive's own symlinks lexically.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "daemon/layer/layer.h"

#define COPY_BUF          (256 * 1024)
#define ARCHIVE_MAX_ENTRY 100000 /* entries in one image archive */
#define ARCHIVE_MAX_HOPS  40     /* links followed by one lookup */

/* ---- writer ------------------------------------------------------------------------------ */

struct layer_tar_writer {
    struct archive *a;
    int fd;
    int io_errno; /* the write(2) failure behind a libarchive error */
    unsigned char *buf;
};

static la_ssize_t writer_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
    struct layer_tar_writer *w = data;
    int r = fdu_write_all(w->fd, buf, len);
    if (r < 0) {
        w->io_errno = -r;
        archive_set_error(a, -r, "write archive");
        return -1;
    }
    return (la_ssize_t)len;
}

static int writer_fail(struct layer_tar_writer *w, const char *name, struct err **err)
{
    if (w->io_errno != 0)
        return err_set(err, ERR_SYSTEM, w->io_errno, "write archive entry %s", name);
    const char *msg = archive_error_string(w->a);
    return err_set(err, ERR_INTERNAL, 0, "write archive entry %s: %s", name,
                   msg ? msg : "libarchive failed");
}

int layer_tar_writer_new(int fd, struct layer_tar_writer **out, struct err **err)
{
    struct layer_tar_writer *w = xcalloc(1, sizeof(*w));
    w->fd = fd;
    w->a = archive_write_new();
    if (!w->a) {
        free(w);
        return err_set(err, ERR_SYSTEM, ENOMEM, "archive_write_new");
    }
    /* A short last block, as Go's archive/tar writes: no 10 KiB padding. */
    if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
        archive_write_open(w->a, w, NULL, writer_write_cb, NULL) != ARCHIVE_OK) {
        int r = writer_fail(w, "(open)", err);
        layer_tar_writer_free(w);
        return r;
    }
    w->buf = xmalloc(COPY_BUF);
    *out = w;
    return 0;
}

static int writer_header(struct layer_tar_writer *w, const char *name, mode_t type, mode_t perm,
                         int64_t size, struct err **err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_size(e, size);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, 0, 0);
    int r = archive_write_header(w->a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK)
        return writer_fail(w, name, err);
    return 0;
}

int layer_tar_write_dir(struct layer_tar_writer *w, const char *name, struct err **err)
{
    return writer_header(w, name, AE_IFDIR, 0755, 0, err);
}

static int writer_data(struct layer_tar_writer *w, const char *name, const void *data, size_t len,
                       struct err **err)
{
    la_ssize_t n = archive_write_data(w->a, data, len);
    if (n < 0 || (size_t)n != len)
        return writer_fail(w, name, err);
    return 0;
}

int layer_tar_write_bytes(struct layer_tar_writer *w, const char *name, const void *data,
                          size_t len, struct err **err)
{
    if (writer_header(w, name, AE_IFREG, 0644, (int64_t)len, err) < 0)
        return -1;
    return len > 0 ? writer_data(w, name, data, len, err) : 0;
}

int layer_tar_write_fd(struct layer_tar_writer *w, const char *name, int src_fd, int64_t size,
                       struct err **err)
{
    if (writer_header(w, name, AE_IFREG, 0644, size, err) < 0)
        return -1;
    int64_t left = size;
    while (left > 0) {
        size_t want = left > COPY_BUF ? COPY_BUF : (size_t)left;
        ssize_t n = read(src_fd, w->buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "read %s", name);
        if (n == 0)
            return err_set(err, ERR_SYSTEM, 0, "read %s: the file is shorter than %lld bytes", name,
                           (long long)size);
        if (writer_data(w, name, w->buf, (size_t)n, err) < 0)
            return -1;
        left -= n;
    }
    return 0;
}

int layer_tar_writer_finish(struct layer_tar_writer *w, struct err **err)
{
    if (archive_write_close(w->a) != ARCHIVE_OK)
        return writer_fail(w, "(end of archive)", err);
    return 0;
}

void layer_tar_writer_free(struct layer_tar_writer *w)
{
    if (!w)
        return;
    archive_write_free(w->a); /* closes if still open; the fd is the caller's */
    free(w->buf);
    free(w);
}

/* ---- names ------------------------------------------------------------------------------- */

const char *layer_archive_path_join(const char *base, const char *rel, char *out, size_t outsz)
{
    size_t len = 0;
    if (outsz == 0)
        return "name too long";
    out[0] = '\0';
    for (int pass = rel[0] == '/' ? 1 : 0; pass < 2; pass++) {
        const char *p = pass == 0 ? base : rel;
        while (*p != '\0') {
            const char *end = strchrnul(p, '/');
            size_t n = (size_t)(end - p);
            if (n == 2 && p[0] == '.' && p[1] == '.') {
                if (len == 0)
                    return "leaves the archive";
                char *slash = memrchr(out, '/', len);
                len = slash ? (size_t)(slash - out) : 0;
            } else if (n > 0 && !(n == 1 && p[0] == '.')) {
                size_t need = len + (len > 0 ? 1 : 0) + n;
                if (need >= outsz || need >= PATH_MAX)
                    return "name too long";
                if (len > 0)
                    out[len++] = '/';
                memcpy(out + len, p, n);
                len += n;
            }
            out[len] = '\0';
            p = *end == '/' ? end + 1 : end;
        }
    }
    return NULL;
}

/* ---- reader ------------------------------------------------------------------------------ */

enum arch_kind { ARCH_FILE, ARCH_SYMLINK, ARCH_HARDLINK };

struct arch_entry {
    char *name; /* cleaned */
    enum arch_kind kind;
    char *target; /* symlink target as written, or the cleaned hardlink target */
    struct layer_archive_file file;
};

struct layer_archive {
    struct arch_entry *v;
    size_t n, cap;
};

void layer_archive_free(struct layer_archive *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].name);
        free(a->v[i].target);
        free((char *)a->v[i].file.path);
    }
    free(a->v);
    free(a);
}

static void layer_archive_freep(struct layer_archive **a)
{
    layer_archive_free(*a);
}

static void archive_readp(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

struct extract {
    struct archive *ar;
    struct layer_archive *out;
    const char *dir;
    int64_t max_bytes, total;
    unsigned char *buf;
};

/* The archive is our own spool file: a read error is the disk's; anything else is its content. */
static int extract_bad(struct archive *ar, const char *what, struct err **err)
{
    if (archive_errno(ar) == EIO || archive_errno(ar) == ENOMEM)
        return err_set(err, ERR_SYSTEM, archive_errno(ar), "%s", what);
    const char *msg = archive_error_string(ar);
    return err_set(err, ERR_INVALID, 0, "%s: %s", what, msg ? msg : "damaged tar");
}

static struct arch_entry *extract_add(struct extract *x, const char *name, enum arch_kind kind)
{
    struct layer_archive *a = x->out;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
    }
    struct arch_entry *e = &a->v[a->n++];
    memset(e, 0, sizeof(*e));
    e->name = xstrdup(name);
    e->kind = kind;
    return e;
}

/* Copies the current entry's data into a new file in dir, hashing it. */
static int extract_file(struct extract *x, struct arch_entry *e, struct err **err)
{
    char *path = xasprintf("%s/f%zu", x->dir, x->out->n);
    e->file.path = path;
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "create %s", path);
    struct digest_ctx *d = digest_new();
    int rc = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(x->ar, x->buf, COPY_BUF);
        if (n == 0)
            break;
        if (n < 0) {
            rc = extract_bad(x->ar, e->name, err);
            break;
        }
        x->total += n;
        e->file.size += n;
        if (x->total > x->max_bytes) {
            rc = err_set(err, ERR_TOO_LARGE, 0,
                         "the archive holds more than %lld bytes, the space available",
                         (long long)x->max_bytes);
            break;
        }
        digest_update(d, x->buf, (size_t)n);
        int r = fdu_write_all(fd, x->buf, (size_t)n);
        if (r < 0) {
            rc = err_set(err, ERR_SYSTEM, -r, "write %s", path);
            break;
        }
    }
    digest_final(d, e->file.digest);
    return rc;
}

static int extract_entry(struct extract *x, struct archive_entry *ae, struct err **err)
{
    const char *raw = archive_entry_pathname(ae);
    char name[PATH_MAX];
    const char *why = raw ? layer_name_clean(raw, name, sizeof(name)) : "no name";
    if (why)
        return err_set(err, ERR_INVALID, 0, "entry \"%.512s\": %s", raw ? raw : "", why);
    if (x->out->n >= ARCHIVE_MAX_ENTRY)
        return err_set(err, ERR_INVALID, 0, "more than %d entries", ARCHIVE_MAX_ENTRY);
    const char *hard = archive_entry_hardlink(ae);
    if (hard) {
        char target[PATH_MAX];
        why = layer_name_clean(hard, target, sizeof(target));
        if (why)
            return err_set(err, ERR_INVALID, 0, "hardlink \"%.512s\" to \"%.512s\": %s", raw, hard,
                           why);
        extract_add(x, name, ARCH_HARDLINK)->target = xstrdup(target);
        return 0;
    }
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
        return extract_file(x, extract_add(x, name, ARCH_FILE), err);
    case AE_IFLNK: {
        const char *target = archive_entry_symlink(ae);
        extract_add(x, name, ARCH_SYMLINK)->target = xstrdup(target ? target : "");
        return 0;
    }
    default:
        return 0; /* directories and anything else carry nothing an image needs */
    }
}

/* Only tar, plain or gzip'd: refusing to even detect other filters keeps the surface small. */
static int extract_open(int fd, struct archive **out, struct err **err)
{
    struct archive *ar = archive_read_new();
    if (!ar)
        return err_set(err, ERR_SYSTEM, ENOMEM, "archive_read_new");
    *out = ar;
    if (archive_read_support_format_tar(ar) != ARCHIVE_OK ||
        archive_read_support_filter_none(ar) != ARCHIVE_OK ||
        archive_read_support_filter_gzip(ar) != ARCHIVE_OK)
        return err_set(err, ERR_INTERNAL, 0, "libarchive: built-in tar or gzip unavailable");
    if (archive_read_open_fd(ar, fd, 64 * 1024) != ARCHIVE_OK)
        return extract_bad(ar, "read archive", err);
    return 0;
}

int layer_archive_extract(const char *archive_path, const char *dir, int64_t max_bytes,
                          struct layer_archive **out, struct err **err)
{
    /* Declared first so that it closes last: libarchive reads it until archive_read_free. */
    _cleanup_close_ int fd = open(archive_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", archive_path);
    _cleanup_(archive_readp) struct archive *ar = NULL;
    _cleanup_(layer_archive_freep) struct layer_archive *a = xcalloc(1, sizeof(*a));
    _cleanup_free_ unsigned char *buf = xmalloc(COPY_BUF);
    if (extract_open(fd, &ar, err) < 0)
        return -1;
    struct extract x = {.ar = ar, .out = a, .dir = dir, .max_bytes = max_bytes, .buf = buf};
    for (bool first = true;; first = false) {
        struct archive_entry *ae = NULL;
        int r = archive_read_next_header(ar, &ae);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return extract_bad(ar, "read archive", err);
        /* the reader itself is one filter; gzip is a second; more is nested compression */
        if (first && archive_filter_count(ar) > 2)
            return err_set(err, ERR_INVALID, 0, "nested compression is not supported");
        if (extract_entry(&x, ae, err) < 0)
            return -1;
    }
    *out = steal_ptr(&a);
    return 0;
}

/* The last entry called name (a later entry replaces an earlier one, as tar extraction does). */
static const struct arch_entry *archive_find(const struct layer_archive *a, const char *name)
{
    for (size_t i = a->n; i-- > 0;) {
        if (strcmp(a->v[i].name, name) == 0)
            return &a->v[i];
    }
    return NULL;
}

/* The link e (at cur) resolved one step into next. */
static const char *link_step(const struct arch_entry *e, const char *cur, char *next, size_t sz)
{
    if (e->kind == ARCH_HARDLINK)
        return layer_archive_path_join("", e->target, next, sz);
    char base[PATH_MAX];
    snprintf(base, sizeof(base), "%s", cur);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        base[0] = '\0';
    return layer_archive_path_join(base, e->target, next, sz);
}

/* When a parent of cur is a symlink: cur with that parent resolved, into next. */
static bool parent_step(const struct layer_archive *a, char *cur, char *next, size_t sz,
                        const char **why)
{
    for (char *slash = strchr(cur, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        const struct arch_entry *p = archive_find(a, cur);
        if (p && p->kind == ARCH_SYMLINK) {
            char dir[PATH_MAX];
            *why = link_step(p, cur, dir, sizeof(dir));
            *slash = '/';
            if (!*why)
                *why = layer_archive_path_join(dir, slash + 1, next, sz);
            return true;
        }
        *slash = '/';
    }
    return false;
}

int layer_archive_lookup(const struct layer_archive *a, const char *name,
                         const struct layer_archive_file **out, struct err **err)
{
    char cur[PATH_MAX], next[PATH_MAX];
    const char *why = layer_archive_path_join("", name, cur, sizeof(cur));
    if (why)
        return err_set(err, ERR_INVALID, 0, "\"%.512s\": %s", name, why);
    for (int hops = 0; hops <= ARCHIVE_MAX_HOPS; hops++) {
        const struct arch_entry *e = archive_find(a, cur);
        if (e && e->kind == ARCH_FILE) {
            *out = &e->file;
            return 0;
        }
        if (e)
            why = link_step(e, cur, next, sizeof(next));
        else if (!parent_step(a, cur, next, sizeof(next), &why))
            return err_set(err, ERR_NOT_FOUND, 0, "\"%.512s\" is not in the archive", name);
        if (why)
            return err_set(err, ERR_INVALID, 0, "\"%.512s\": a link %s", name, why);
        memcpy(cur, next, sizeof(cur));
    }
    return err_set(err, ERR_INVALID, 0, "\"%.512s\": too many levels of links", name);
}
