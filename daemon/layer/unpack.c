/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer unpack: reads the tar from the one-pass stream (stream.c) and creates every entry
 * itself with *at() calls on directory fds below the destination; libarchive never touches the
 * filesystem (no archive_write_disk).
 *
 * Confinement policy: entry names and hardlink targets are cleaned (layer_name_clean);
 * absolute names and ".." components are refused. Parents are opened one component at a time
 * with O_NOFOLLOW|O_DIRECTORY from the root's fd, so a parent that is a symlink (or anything but
 * a directory) fails the layer rather than being resolved: nothing is ever written through a
 * symlink, and symlink targets are stored as plain strings. Missing parents are created 0755
 * root-owned. A directory is never removed or replaced during an unpack (an entry that would
 * replace one fails the layer), which is what makes the cached parent fd safe to reuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>

#include "daemon/layer/unpack.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define DIR_OPEN     (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* memory for delayed directory times: beyond this a layer is refused (a bomb of dir entries) */
#define DIRTIME_MAX_BYTES (64u << 20)

struct dirtime {
    char *path;
    size_t depth;
    size_t seq;
    struct timespec ts[2];
};

struct unpack {
    int root; /* dest_dir */
    const struct unpack_opts *o;
    struct archive *tar;
    struct lstream *stream;
    struct err *stream_err; /* raised inside the tar reader's read callback */
    char *cache_path;       /* the last parent directory opened, and its fd */
    size_t cache_len;
    int cache_fd;
    struct dirtime *dirs; /* directory times, applied at the end, deepest first */
    size_t ndirs;
    size_t capdirs;
    size_t dir_bytes;
    bool no_openat2; /* kernel without openat2: component walk only */
    int64_t size;
    const char *name; /* current entry, as named in the tar (for messages) */
    char path[PATH_MAX];
};

static _printf_(3, 4) int unpack_bad(struct unpack *u, struct err **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    return err_set(err, ERR_INVALID, 0, "invalid tar entry \"%.512s\": %s", u->name, msg);
}

static int unpack_sys(struct unpack *u, struct err **err, int errnum, const char *what)
{
    return err_set(err, ERR_SYSTEM, errnum, "unpack \"%.512s\": %s", u->name, what);
}

/* A failure reported by the tar reader: an I/O or decompression error, or a bad tar. */
static int unpack_tar_fail(struct unpack *u, struct err **err)
{
    if (u->stream_err != NULL) {
        if (err != NULL)
            *err = steal_ptr(&u->stream_err);
        return -1;
    }
    const char *msg = archive_error_string(u->tar);
    return err_set(err, ERR_INVALID, 0, "invalid layer tar: %s", msg ? msg : "unreadable");
}

static ssize_t unpack_read_cb(struct archive *a, void *data, const void **buf)
{
    struct unpack *u = data;
    size_t len = 0;

    if (lstream_next(u->stream, buf, &len, &u->stream_err) < 0) {
        archive_set_error(a, EIO, "%s", u->stream_err->msg);
        return -1;
    }
    return (ssize_t)len;
}

/* ---- in-root directory walk -------------------------------------------------------------- */

/* Opens (or, with create, makes) directory comp in dfd; path[0..upto) names it for messages. */
static int unpack_open_dir(struct unpack *u, int dfd, const char *comp, bool create,
                           const char *path, size_t upto, int *out, struct err **err)
{
    struct stat st;
    int fd = openat(dfd, comp, DIR_OPEN);

    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST)
            return unpack_sys(u, err, errno, "create parent directory");
        fd = openat(dfd, comp, DIR_OPEN);
        if (fd >= 0 && fchmod(fd, 0755) < 0) {
            int e = errno;
            close(fd);
            return unpack_sys(u, err, e, "chmod parent directory");
        }
    }
    if (fd >= 0) {
        *out = fd;
        return 0;
    }
    if (errno == ELOOP || errno == ENOTDIR) {
        if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            return unpack_bad(u, err, "\"%.*s\" is a symlink", (int)upto, path);
        return unpack_bad(u, err, "\"%.*s\" is not a directory", (int)upto, path);
    }
    if (errno == ENOENT)
        return unpack_bad(u, err, "\"%.*s\" does not exist", (int)upto, path);
    return unpack_sys(u, err, errno, "open parent directory");
}

/*
 * The fast path: one openat2 that refuses every symlink and anything leaving dfd; -errno when
 * it cannot (a missing directory, a symlink, an old kernel), and the walk then decides.
 */
static int unpack_openat2(int dfd, const char *path, size_t len)
{
    struct open_how how = {
        .flags = DIR_OPEN,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    char sub[PATH_MAX];
    long fd;

    memcpy(sub, path, len);
    sub[len] = '\0';
    fd = syscall(SYS_openat2, dfd, sub, &how, sizeof(how));
    return fd < 0 ? -errno : (int)fd;
}

/*
 * Opens directory path[0..plen) starting at dfd, which already is path[0..from) (from == 0:
 * the root); never follows a symlink. *out is owned by the caller.
 */
static int unpack_walk(struct unpack *u, int dfd, const char *path, size_t from, size_t plen,
                       bool create, int *out, struct err **err)
{
    _cleanup_close_ int cur = -1;
    size_t i = from;

    if (from < plen && !u->no_openat2) {
        int fd = unpack_openat2(dfd, path + from, plen - from);
        if (fd >= 0) {
            *out = fd;
            return 0;
        }
        u->no_openat2 = fd == -ENOSYS;
    }
    while (i < plen) {
        char comp[NAME_MAX + 1];
        const char *slash = memchr(path + i, '/', plen - i);
        size_t j = slash != NULL ? (size_t)(slash - path) : plen;
        int fd = -1;

        memcpy(comp, path + i, j - i); /* cleaned names keep components <= NAME_MAX */
        comp[j - i] = '\0';
        if (unpack_open_dir(u, cur >= 0 ? cur : dfd, comp, create, path, j, &fd, err) < 0)
            return -1;
        if (cur >= 0)
            close(cur);
        cur = fd;
        i = j + 1;
    }
    if (cur < 0) {
        cur = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
            return unpack_sys(u, err, errno, "dup directory fd");
    }
    *out = steal_fd(&cur);
    return 0;
}

/*
 * The directory holding path[0..plen) as a borrowed fd (the root or the cached parent),
 * creating missing directories. Reuses the cache when the parent is the cached directory or
 * below it.
 */
static int unpack_parent(struct unpack *u, const char *path, size_t plen, int *dirfd,
                         struct err **err)
{
    int start = u->root;
    size_t from = 0;
    int fd = -1;

    if (plen == 0) {
        *dirfd = u->root;
        return 0;
    }
    if (u->cache_fd >= 0 && u->cache_len <= plen &&
        memcmp(u->cache_path, path, u->cache_len) == 0) {
        if (u->cache_len == plen) {
            *dirfd = u->cache_fd;
            return 0;
        }
        if (path[u->cache_len] == '/') {
            start = u->cache_fd;
            from = u->cache_len + 1;
        }
    }
    if (unpack_walk(u, start, path, from, plen, true, &fd, err) < 0)
        return -1;
    if (u->cache_fd >= 0)
        close(u->cache_fd);
    free(u->cache_path);
    u->cache_fd = fd;
    u->cache_path = xstrndup(path, plen);
    u->cache_len = plen;
    *dirfd = fd;
    return 0;
}

/* Splits a cleaned, non-empty name into its parent's length and its base. */
static const char *unpack_split(const char *path, size_t *plen)
{
    const char *slash = strrchr(path, '/');

    *plen = slash != NULL ? (size_t)(slash - path) : 0;
    return slash != NULL ? slash + 1 : path;
}

/*
 * Makes room for a new entry at base: a non-directory already there (an earlier entry of this
 * layer) is removed; a directory stays when the new entry is one too, else the layer fails
 * (docker cp without noOverwriteDirNonDir: the directory tree is removed).
 * *had reports what was there (0 when nothing).
 */
static int unpack_clear(struct unpack *u, int dirfd, const char *base, bool new_is_dir,
                        struct stat *had, struct err **err)
{
    if (fstatat(dirfd, base, had, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            return unpack_sys(u, err, errno, "stat");
        had->st_mode = 0;
        return 0;
    }
    if (S_ISDIR(had->st_mode)) {
        if (new_is_dir)
            return 0;
        if (u->o->cp_conflicts)
            return err_set(err, ERR_INVALID, 0,
                           "cannot overwrite directory \"%.512s\" with non-directory", u->path);
        if (u->o->replace_dirs) {
            /* the cached parent may lie in the tree that goes */
            if (u->cache_fd >= 0 && u->cache_fd != dirfd) {
                close(u->cache_fd);
                u->cache_fd = -1;
                free(u->cache_path);
                u->cache_path = NULL;
                u->cache_len = 0;
            }
            return fsu_rmtree_at(dirfd, base, err);
        }
        return unpack_bad(u, err, "replaces a directory");
    }
    if (new_is_dir && u->o->cp_conflicts)
        return err_set(err, ERR_INVALID, 0,
                       "cannot overwrite non-directory \"%.512s\" with directory", u->path);
    if (unlinkat(dirfd, base, 0) < 0)
        return unpack_sys(u, err, errno, "remove existing entry");
    return 0;
}

/* ---- metadata ---------------------------------------------------------------------------- */

static int unpack_owner(struct unpack *u, struct archive_entry *e, uid_t *uid, gid_t *gid,
                        struct err **err)
{
    int64_t id_u = archive_entry_uid(e);
    int64_t id_g = archive_entry_gid(e);

    /* (uid_t)-1 means "leave unchanged" to chown, so it is refused along with overflow */
    if (id_u < 0 || id_u >= (int64_t)UINT32_MAX || id_g < 0 || id_g >= (int64_t)UINT32_MAX)
        return unpack_bad(u, err, "owner %lld:%lld out of range", (long long)id_u, (long long)id_g);
    if (u->o->uid >= 0 && u->o->gid >= 0) {
        id_u = u->o->uid;
        id_g = u->o->gid;
    }
    *uid = (uid_t)id_u;
    *gid = (gid_t)id_g;
    return 0;
}

static long unpack_nsec(long nsec)
{
    return nsec >= 0 && nsec < 1000000000L ? nsec : 0;
}

static void unpack_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_sec = archive_entry_mtime(e);
    ts[1].tv_nsec = unpack_nsec(archive_entry_mtime_nsec(e));
    ts[0] = ts[1];
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = unpack_nsec(archive_entry_atime_nsec(e));
    }
}

/*
 * Only user.* and security.capability are applied: trusted.* (overlayfs' own opaque, redirect
 * and metacopy attributes) and the other security.* (LSM labels) are never taken from a layer.
 */
static bool unpack_xattr_allowed(const char *name)
{
    return strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0;
}

static int unpack_xattrs(struct unpack *u, struct archive_entry *e, int fd, struct err **err)
{
    const char *name = NULL;
    const void *value = NULL;
    size_t size = 0;

    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (name == NULL || !unpack_xattr_allowed(name))
            continue;
        if (strlen(name) > XATTR_NAME_MAX || size > XATTR_SIZE_MAX)
            return unpack_bad(u, err, "xattr \"%.64s\" too large", name);
        /* a filesystem without user xattrs loses them, as with docker */
        if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP)
            return unpack_sys(u, err, errno, "set xattr");
    }
    return 0;
}

/* Owner, then xattrs (chown clears security.capability), then mode (and setuid bits) last. */
static int unpack_meta_fd(struct unpack *u, struct archive_entry *e, int fd, struct err **err)
{
    uid_t uid = 0;
    gid_t gid = 0;

    if (unpack_owner(u, e, &uid, &gid, err) < 0)
        return -1;
    if (fchown(fd, uid, gid) < 0)
        return unpack_sys(u, err, errno, "chown");
    if (unpack_xattrs(u, e, fd, err) < 0)
        return -1;
    if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
        return unpack_sys(u, err, errno, "chmod");
    return 0;
}

/* Owner, mode and times of something that cannot be opened (symlink, device, fifo). */
static int unpack_meta_at(struct unpack *u, struct archive_entry *e, int dirfd, const char *base,
                          bool is_link, struct err **err)
{
    struct timespec ts[2];
    uid_t uid = 0;
    gid_t gid = 0;

    if (unpack_owner(u, e, &uid, &gid, err) < 0)
        return -1;
    if (fchownat(dirfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return unpack_sys(u, err, errno, "chown");
    /* glibc does NOFOLLOW chmod through an O_PATH fd; symlinks have no mode of their own */
    if (!is_link && fchmodat(dirfd, base, archive_entry_perm(e) & 07777, AT_SYMLINK_NOFOLLOW) < 0)
        return unpack_sys(u, err, errno, "chmod");
    unpack_times(e, ts);
    if (utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return unpack_sys(u, err, errno, "set times");
    return 0;
}

/* ---- entries ----------------------------------------------------------------------------- */

static int unpack_write_data(struct unpack *u, struct archive_entry *e, int fd, struct err **err)
{
    int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
    int64_t end = 0;

    for (;;) {
        const void *buf = NULL;
        size_t len = 0;
        la_int64_t off = 0;
        int r = archive_read_data_block(u->tar, &buf, &len, &off);

        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return unpack_tar_fail(u, err);
        if (off < 0 || (declared >= 0 && (off > declared || (int64_t)len > declared - off)))
            return unpack_bad(u, err, "data beyond the entry's size");
        for (size_t done = 0; done < len;) {
            ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return unpack_sys(u, err, errno, "write");
            done += (size_t)n;
        }
        u->size += (int64_t)len;
        if (off + (int64_t)len > end)
            end = off + (int64_t)len;
    }
    /* sparse entries and trailing holes: extend without writing zeros */
    if (declared > end && ftruncate(fd, declared) < 0)
        return unpack_sys(u, err, errno, "extend");
    return 0;
}

static int unpack_regular(struct unpack *u, struct archive_entry *e, int dirfd, const char *base,
                          struct err **err)
{
    struct stat had;
    struct timespec ts[2];
    _cleanup_close_ int fd = -1;

    if (unpack_clear(u, dirfd, base, false, &had, err) < 0)
        return -1;
    fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return unpack_sys(u, err, errno, "create");
    if (unpack_write_data(u, e, fd, err) < 0 || unpack_meta_fd(u, e, fd, err) < 0)
        return -1;
    unpack_times(e, ts);
    if (futimens(fd, ts) < 0)
        return unpack_sys(u, err, errno, "set times");
    return 0;
}

static int unpack_set_opaque(struct unpack *u, int dirfd, struct err **err)
{
    if (fsetxattr(dirfd, OPAQUE_XATTR, "y", 1, 0) < 0)
        return unpack_sys(u, err, errno, "set " OPAQUE_XATTR);
    return 0;
}

static int unpack_add_dirtime(struct unpack *u, struct archive_entry *e, struct err **err)
{
    struct dirtime *d;

    /* the same directory again (repeated entries): its last times win, no new record */
    if (u->ndirs > 0 && strcmp(u->dirs[u->ndirs - 1].path, u->path) == 0) {
        unpack_times(e, u->dirs[u->ndirs - 1].ts);
        return 0;
    }
    u->dir_bytes += sizeof(*d) + strlen(u->path) + 1;
    if (u->dir_bytes > DIRTIME_MAX_BYTES)
        return unpack_bad(u, err, "too many directories in the layer");
    if (u->ndirs == u->capdirs) {
        u->capdirs = u->capdirs ? u->capdirs * 2 : 64;
        u->dirs = xrealloc(u->dirs, u->capdirs * sizeof(*u->dirs));
    }
    d = &u->dirs[u->ndirs];
    d->path = xstrdup(u->path);
    d->depth = 0;
    for (const char *p = u->path; *p != '\0'; p++)
        d->depth += *p == '/';
    d->seq = u->ndirs++;
    unpack_times(e, d->ts);
    return 0;
}

static int unpack_dir(struct unpack *u, struct archive_entry *e, int dirfd, const char *base,
                      struct err **err)
{
    struct stat had;
    _cleanup_close_ int fd = -1;

    if (base == NULL) {
        /* the layer root itself ("./"): keeps existing, takes the entry's metadata */
        fd = fcntl(u->root, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            return unpack_sys(u, err, errno, "dup root fd");
    } else {
        if (unpack_clear(u, dirfd, base, true, &had, err) < 0)
            return -1;
        if (!S_ISDIR(had.st_mode) && mkdirat(dirfd, base, 0700) < 0)
            return unpack_sys(u, err, errno, "mkdir");
        fd = openat(dirfd, base, DIR_OPEN);
        if (fd < 0)
            return unpack_sys(u, err, errno, "open directory");
        /* a directory replacing this layer's own whiteout still hides the lower directory */
        if (u->o->whiteouts && S_ISCHR(had.st_mode) && had.st_rdev == makedev(0, 0) &&
            unpack_set_opaque(u, fd, err) < 0)
            return -1;
    }
    if (unpack_meta_fd(u, e, fd, err) < 0)
        return -1;
    return unpack_add_dirtime(u, e, err);
}

static int unpack_symlink(struct unpack *u, struct archive_entry *e, int dirfd, const char *base,
                          struct err **err)
{
    const char *target = archive_entry_symlink(e);
    struct stat had;

    if (target == NULL || target[0] == '\0')
        return unpack_bad(u, err, "symlink without a target");
    if (strlen(target) >= PATH_MAX)
        return unpack_bad(u, err, "symlink target too long");
    if (unpack_clear(u, dirfd, base, false, &had, err) < 0)
        return -1;
    if (symlinkat(target, dirfd, base) < 0)
        return unpack_sys(u, err, errno, "symlink");
    return unpack_meta_at(u, e, dirfd, base, true, err);
}

static int unpack_node(struct unpack *u, struct archive_entry *e, int dirfd, const char *base,
                       struct err **err)
{
    mode_t type = archive_entry_filetype(e);
    dev_t dev = 0;
    struct stat had;

    if (type != AE_IFIFO)
        dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
    if (unpack_clear(u, dirfd, base, false, &had, err) < 0)
        return -1;
    if (mknodat(dirfd, base, type | 0600, dev) < 0)
        return unpack_sys(u, err, errno, "mknod");
    return unpack_meta_at(u, e, dirfd, base, false, err);
}

/* A hardlink's target must already exist inside this layer and not be a directory. */
static int unpack_hardlink(struct unpack *u, struct archive_entry *e, const char *linkname,
                           int dirfd, const char *base, struct err **err)
{
    char target[PATH_MAX];
    const char *why = layer_name_clean(linkname, target, sizeof(target));
    _cleanup_close_ int tfd = -1;
    const char *tbase;
    size_t tplen = 0;
    struct stat st;

    if (why != NULL)
        return unpack_bad(u, err, "hardlink target \"%.512s\": %s", linkname, why);
    if (target[0] == '\0')
        return unpack_bad(u, err, "hardlink to the layer root");
    if (strcmp(target, u->path) == 0)
        return unpack_bad(u, err, "hardlink to itself");
    tbase = unpack_split(target, &tplen);
    if (unpack_walk(u, u->root, target, 0, tplen, false, &tfd, err) < 0)
        return err_wrap(err, "hardlink target \"%.512s\"", linkname);
    if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return unpack_bad(u, err, "hardlink target \"%.512s\" does not exist", linkname);
        return unpack_sys(u, err, errno, "stat hardlink target");
    }
    if (S_ISDIR(st.st_mode))
        return unpack_bad(u, err, "hardlink target \"%.512s\" is a directory", linkname);
    if (unpack_clear(u, dirfd, base, false, &st, err) < 0)
        return -1;
    if (linkat(tfd, tbase, dirfd, base, 0) < 0)
        return unpack_sys(u, err, errno, "link");
    return 0;
}

/*
 * ".wh.<name>" hides <name> of the lower layers: a 0:0 character device. If this layer already
 * has <name>, that entry stays (whiteouts never remove the layer's own content); a directory
 * is then made opaque so the lower directory stays hidden.
 */
static int unpack_whiteout(struct unpack *u, int dirfd, const char *target, struct err **err)
{
    struct stat st;
    _cleanup_close_ int fd = -1;

    if (fstatat(dirfd, target, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISDIR(st.st_mode))
            return 0;
        fd = openat(dirfd, target, DIR_OPEN);
        if (fd < 0)
            return unpack_sys(u, err, errno, "open whited-out directory");
        return unpack_set_opaque(u, fd, err);
    }
    if (errno != ENOENT)
        return unpack_sys(u, err, errno, "stat whiteout target");
    if (mknodat(dirfd, target, S_IFCHR, makedev(0, 0)) < 0)
        return unpack_sys(u, err, errno, "create whiteout");
    if (fchownat(dirfd, target, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
        return unpack_sys(u, err, errno, "chown whiteout");
    return 0;
}

static bool unpack_is_plain_file(struct archive_entry *e)
{
    return archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == NULL;
}

/* Returns 1 when the entry was a whiteout marker (handled or skipped), 0 for content. */
static int unpack_marker(struct unpack *u, struct archive_entry *e, const char *base, size_t plen,
                         struct err **err)
{
    const char *target = NULL;
    enum layer_whiteout kind = layer_whiteout_kind(base, &target);
    int dirfd = -1;

    switch (kind) {
    case LAYER_WH_NONE:
        return 0;
    case LAYER_WH_META:
        return 1;
    case LAYER_WH_INVALID:
        return unpack_bad(u, err, "invalid whiteout");
    case LAYER_WH_OPAQUE:
    case LAYER_WH_FILE:
        break;
    }
    if (!unpack_is_plain_file(e))
        return unpack_bad(u, err, "whiteout is not a regular file");
    if (unpack_parent(u, u->path, plen, &dirfd, err) < 0)
        return -1;
    if (kind == LAYER_WH_OPAQUE)
        return unpack_set_opaque(u, dirfd, err) < 0 ? -1 : 1;
    return unpack_whiteout(u, dirfd, target, err) < 0 ? -1 : 1;
}

static int unpack_entry(struct unpack *u, struct archive_entry *e, struct err **err)
{
    const char *why;
    const char *base;
    const char *linkname = archive_entry_hardlink(e);
    size_t plen = 0;
    int dirfd = -1;
    int r;

    u->name = archive_entry_pathname(e);
    if (u->name == NULL) {
        u->name = "";
        return unpack_bad(u, err, "entry without a name");
    }
    why = layer_name_clean(u->name, u->path, sizeof(u->path));
    if (why != NULL)
        return unpack_bad(u, err, "%s", why);
    if (u->path[0] == '\0') {
        if (archive_entry_filetype(e) != AE_IFDIR || linkname != NULL)
            return unpack_bad(u, err, "the layer root must be a directory");
        /* docker cp leaves the directory it extracts into as it is */
        return u->o->keep_root ? unpack_dir(u, e, u->root, NULL, err) : 0;
    }
    /* aufs metadata (.wh..wh.plnk and friends) is never part of the image */
    if (strncmp(u->path, ".wh..wh.", 8) == 0 && strcmp(u->path, ".wh..wh..opq") != 0)
        return 0;
    base = unpack_split(u->path, &plen);
    r = u->o->whiteouts ? unpack_marker(u, e, base, plen, err) : 0;
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (unpack_parent(u, u->path, plen, &dirfd, err) < 0)
        return -1;
    if (linkname != NULL)
        return unpack_hardlink(u, e, linkname, dirfd, base, err);
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        return unpack_regular(u, e, dirfd, base, err);
    case AE_IFDIR:
        return unpack_dir(u, e, dirfd, base, err);
    case AE_IFLNK:
        return unpack_symlink(u, e, dirfd, base, err);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        return unpack_node(u, e, dirfd, base, err);
    default:
        return unpack_bad(u, err, "unsupported entry type 0%o",
                          (unsigned)archive_entry_filetype(e));
    }
}

/* ---- directory times --------------------------------------------------------------------- */

static int unpack_dirtime_cmp(const void *a, const void *b)
{
    const struct dirtime *x = a;
    const struct dirtime *y = b;
    int c;

    if (x->depth != y->depth)
        return x->depth > y->depth ? -1 : 1;
    c = strcmp(x->path, y->path);
    if (c != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Deepest first, so setting a directory's times never disturbs its parent's. */
static int unpack_apply_dirtimes(struct unpack *u, struct err **err)
{
    if (u->ndirs > 1)
        qsort(u->dirs, u->ndirs, sizeof(*u->dirs), unpack_dirtime_cmp);
    for (size_t i = 0; i < u->ndirs; i++) {
        struct dirtime *d = &u->dirs[i];
        size_t plen = 0;
        int dirfd = -1;

        u->name = d->path;
        if (d->path[0] == '\0') {
            if (futimens(u->root, d->ts) < 0)
                return unpack_sys(u, err, errno, "set times");
            continue;
        }
        const char *base = unpack_split(d->path, &plen);
        if (unpack_parent(u, d->path, plen, &dirfd, err) < 0)
            return -1;
        if (utimensat(dirfd, base, d->ts, AT_SYMLINK_NOFOLLOW) < 0)
            return unpack_sys(u, err, errno, "set times");
    }
    return 0;
}

/* ---- driver ------------------------------------------------------------------------------ */

static int unpack_run(struct unpack *u, struct layer_unpack_result *res, struct err **err)
{
    struct archive_entry *e = NULL;
    int r;

    u->tar = archive_read_new();
    if (u->tar == NULL)
        return err_set(err, ERR_SYSTEM, ENOMEM, "archive_read_new");
    /* tar covers ustar, pax and GNU tar; no filters: the stream has decompressed already */
    if (archive_read_support_format_tar(u->tar) != ARCHIVE_OK)
        return err_set(err, ERR_INTERNAL, 0, "libarchive: tar format unavailable");
    if (archive_read_open(u->tar, u, NULL, unpack_read_cb, NULL) != ARCHIVE_OK)
        return unpack_tar_fail(u, err);
    while ((r = archive_read_next_header(u->tar, &e)) != ARCHIVE_EOF) {
        /* ARCHIVE_RETRY (a damaged header) is a failure too: never act on a guessed entry */
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return unpack_tar_fail(u, err);
        if (unpack_entry(u, e, err) < 0)
            return -1;
    }
    if (unpack_apply_dirtimes(u, err) < 0)
        return -1;
    if (lstream_finish(u->stream, res->diff_id, err) < 0)
        return -1;
    res->size = u->size;
    return 0;
}

static void unpack_release(struct unpack *u)
{
    if (u->tar != NULL)
        archive_read_free(u->tar);
    err_free(u->stream_err);
    if (u->cache_fd >= 0)
        close(u->cache_fd);
    free(u->cache_path);
    for (size_t i = 0; i < u->ndirs; i++)
        free(u->dirs[i].path);
    free(u->dirs);
    if (u->root >= 0)
        close(u->root);
}

int unpack_tar(int root_fd, struct lstream *s, const struct unpack_opts *o,
               struct layer_unpack_result *res, struct err **err)
{
    struct unpack u = {.root = -1, .cache_fd = -1, .o = o, .stream = s};
    int r;

    /* a directory fd that can be read and changed (root_fd may be O_PATH) */
    u.root = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (u.root < 0)
        return err_set(err, ERR_SYSTEM, errno, "open the destination directory");
    r = unpack_run(&u, res, err);
    unpack_release(&u);
    return r;
}

int layer_unpack(const char *blob_path, const char *dest_dir, _Atomic int64_t *progress,
                 struct layer_unpack_result *res, struct err **err)
{
    static const struct unpack_opts layer = {
        .whiteouts = true, .keep_root = true, .uid = -1, .gid = -1};
    _cleanup_(lstream_freep) struct lstream *s = NULL;
    _cleanup_close_ int root = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (root < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", dest_dir);
    if (lstream_open(blob_path, progress, &s, err) < 0)
        return -1;
    return unpack_tar(root, s, &layer, res, err);
}
