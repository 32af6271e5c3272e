/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker diff: the changes an overlay upper dir makes over its lower dirs, with dockerd's kinds
 * and order (its overlay walk: names sorted within a directory, depth first, the parent of an
 * added or deleted entry listed as changed before it). The lowers are walked alongside the
 * upper dir with directory fds, so each lookup is one fstatat and nothing is followed; unlike
 * dockerd, the lowers' own whiteouts and opaque directories are honoured (an entry a lower
 * layer deleted and the container created again is "added").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "daemon/layer/dirlist.h"
#include "daemon/layer/layer.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define DIR_OPEN     (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct changes {
    const char *const *skip;
    size_t nlowers;
    struct layer_change *v;
    size_t n, cap;
};

/* One directory level of the lowers: fds[i] is this directory in lowers[i], or -1. */
struct lower_level {
    int *fds;
};

static void level_close(struct lower_level *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (l->fds[i] >= 0)
            close(l->fds[i]);
    }
    free(l->fds);
}

static void changes_add(struct changes *c, const char *path, enum layer_change_kind kind)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
    }
    c->v[c->n].path = xstrdup(path);
    c->v[c->n].kind = kind;
    c->n++;
}

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool dir_opaque(int fd)
{
    char v[4];
    ssize_t n = fgetxattr(fd, OPAQUE_XATTR, v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static bool skipped(const struct changes *c, const char *rel)
{
    for (const char *const *s = c->skip; s && *s; s++) {
        if (strcmp(*s, rel) == 0)
            return true;
    }
    return false;
}

/*
 * What the lowers show at name inside level l: *found gets its stat (false when absent or
 * whited out); next (may be NULL) gets the lowers' next level for a directory.
 */
static void lower_lookup(const struct changes *c, const struct lower_level *l, const char *name,
                         bool *found, struct stat *st, struct lower_level *next)
{
    bool stop = false;
    *found = false;
    if (next)
        next->fds = xmalloc((c->nlowers ? c->nlowers : 1) * sizeof(int));
    for (size_t i = 0; i < c->nlowers; i++) {
        struct stat s;
        int fd = -1;
        if (!stop && l->fds[i] >= 0 && fstatat(l->fds[i], name, &s, AT_SYMLINK_NOFOLLOW) == 0) {
            if (is_whiteout(&s)) {
                stop = true;
            } else {
                if (!*found) {
                    *found = true;
                    *st = s;
                }
                if (!S_ISDIR(s.st_mode)) {
                    stop = true; /* a file hides the lowers' directories of that name */
                } else if (next) {
                    fd = openat(l->fds[i], name, DIR_OPEN);
                    if (fd >= 0 && dir_opaque(fd))
                        stop = true;
                }
            }
        }
        if (next)
            next->fds[i] = fd;
    }
}

/* The sorted names in directory fd. */
static int list_names(int fd, char ***out, size_t *nout, struct err **err)
{
    const char *failed = NULL;
    int r = layer_dir_names(fd, out, nout, &failed);
    return r < 0 ? err_set(err, ERR_SYSTEM, -r, "diff: %s", failed) : 0;
}

/* dockerd's test for a directory that only holds changes: same type, mode, size and mtime. */
static bool same_dir(const struct stat *a, const struct stat *b)
{
    bool same_time = a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
                     (a->st_mtim.tv_nsec == b->st_mtim.tv_nsec || a->st_mtim.tv_nsec == 0 ||
                      b->st_mtim.tv_nsec == 0);
    return S_ISDIR(b->st_mode) && a->st_mode == b->st_mode && a->st_uid == b->st_uid &&
           a->st_gid == b->st_gid && a->st_size == b->st_size && same_time;
}

/* True when every entry of upper directory fd is a skipped one (and there is one). */
static bool only_skipped(const struct changes *c, int fd, const char *rel)
{
    char **names = NULL;
    size_t n = 0;
    if (list_names(fd, &names, &n, NULL) < 0)
        return false;
    bool only = n > 0;
    for (size_t i = 0; only && i < n; i++) {
        _cleanup_free_ char *crel = xasprintf("%s/%s", rel, names[i]);
        only = skipped(c, crel);
    }
    layer_names_free(names, n);
    return only;
}

static int walk_dir(struct changes *c, int ufd, const char *path, const char *rel,
                    struct lower_level *low, bool *recorded, struct err **err);

/* One entry of the upper dir: its change, then (for a directory) what is below it. */
static int walk_entry(struct changes *c, int ufd, const char *name, const char *path,
                      const char *rel, struct lower_level *low, bool *parent_recorded,
                      struct err **err)
{
    _cleanup_free_ char *cpath = xasprintf("%s/%s", path, name);
    _cleanup_free_ char *crel = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
    struct stat st, lst = {0};
    bool lfound = false;
    if (skipped(c, crel))
        return 0;
    if (fstatat(ufd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : err_set(err, ERR_SYSTEM, errno, "diff: stat %s", cpath);
    bool isdir = S_ISDIR(st.st_mode);
    struct lower_level next = {NULL};
    lower_lookup(c, low, name, &lfound, &lst, isdir ? &next : NULL);
    _cleanup_close_ int cfd = isdir ? openat(ufd, name, DIR_OPEN) : -1;
    if (isdir && cfd < 0) {
        level_close(&next, c->nlowers);
        return errno == ENOENT ? 0 : err_set(err, ERR_SYSTEM, errno, "diff: open %s", cpath);
    }
    enum layer_change_kind kind = LAYER_CHANGE_MODIFY;
    bool record = true;
    if (is_whiteout(&st)) {
        kind = LAYER_CHANGE_DELETE;
    } else if (isdir && lfound && dir_opaque(cfd)) {
        kind = LAYER_CHANGE_DELETE; /* removed and made again: what is inside is new */
        for (size_t i = 0; i < c->nlowers; i++) {
            if (next.fds[i] >= 0)
                close(next.fds[i]);
            next.fds[i] = -1;
        }
    } else if (!lfound) {
        kind = LAYER_CHANGE_ADD;
    } else if (isdir && S_ISDIR(lst.st_mode)) {
        record = !same_dir(&st, &lst) && !only_skipped(c, cfd, crel);
    }
    if (record) {
        if (kind != LAYER_CHANGE_MODIFY && !*parent_recorded && path[0] != '\0') {
            changes_add(c, path, LAYER_CHANGE_MODIFY);
            *parent_recorded = true;
        }
        changes_add(c, cpath, kind);
    }
    int r = 0;
    if (isdir) {
        bool rec = record;
        r = walk_dir(c, cfd, cpath, crel, &next, &rec, err);
        level_close(&next, c->nlowers);
    }
    return r;
}

static int walk_dir(struct changes *c, int ufd, const char *path, const char *rel,
                    struct lower_level *low, bool *recorded, struct err **err)
{
    char **names = NULL;
    size_t n = 0;
    if (list_names(ufd, &names, &n, err) < 0)
        return err_wrap(err, "%s", path[0] ? path : "/");
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = walk_entry(c, ufd, names[i], path, rel, low, recorded, err);
    layer_names_free(names, n);
    return r;
}

int layer_changes(const char *upper, const char *const *lowers, size_t nlowers,
                  const char *const *skip, struct layer_change **out, size_t *n, struct err **err)
{
    struct changes c = {.skip = skip, .nlowers = nlowers};
    struct lower_level root = {xmalloc((nlowers ? nlowers : 1) * sizeof(int))};
    *out = NULL;
    *n = 0;
    _cleanup_close_ int ufd = open(upper, DIR_OPEN);
    if (ufd < 0) {
        free(root.fds);
        if (errno == ENOENT)
            return 0;
        return err_set(err, ERR_SYSTEM, errno, "diff: open %s", upper);
    }
    for (size_t i = 0; i < nlowers; i++)
        root.fds[i] = open(lowers[i], DIR_OPEN);
    bool recorded = true; /* "/" itself never shows */
    int r = walk_dir(&c, ufd, "", "", &root, &recorded, err);
    level_close(&root, nlowers);
    if (r < 0) {
        layer_changes_free(c.v, c.n);
        return -1;
    }
    *out = c.v;
    *n = c.n;
    return 0;
}

void layer_changes_free(struct layer_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].path);
    free(c);
}
