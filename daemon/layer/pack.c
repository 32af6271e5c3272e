/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer pack: a directory tree (or one file or symlink) to an uncompressed tar, hashed on the
 * way out. Every object is reached from its parent's directory fd with O_NOFOLLOW (or with
 * fstatat/readlinkat on the name), so a symlink in the tree is archived as a symlink and never
 * followed, and nothing outside the tree is read. Names are sorted within each directory and
 * times are whole seconds, so the same tree always gives the same bytes (and diff-id).
 *
 * Diff mode reads an overlay upper directory: 0:0 character devices are whiteouts and become
 * ".wh.<name>" entries (time 0); a directory with trusted.overlay.opaque=y gets a ".wh..wh..opq"
 * entry right after its own. berth mounts overlay without redirect_dir and metacopy, so an upper
 * directory holds whole files and no redirects: packing it as it is gives the layer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>

#include "daemon/layer/dirlist.h"
#include "daemon/layer/layer.h"
#include "daemon/layer/stream.h"
#include "daemon/layer/unpack.h"

#define PACK_BUF     (256 * 1024)
#define HASH_NBUF    4 /* blocks in flight between the writer and the hashing thread */
#define OPAQUE_XATTR "trusted.overlay.opaque"
#define WH_PREFIX    ".wh."
#define WH_OPAQUE    ".wh..wh..opq"

struct pack_link {
    dev_t dev;
    ino_t ino;
    char *name; /* archive name of the first entry seen; NULL: empty slot */
};

/*
 * The sha256 of the stream runs on a thread of its own, a few blocks behind the writes: it
 * costs as much as reading and archiving the files together, so the two overlap.
 */
struct hasher {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct digest_ctx *dg;
    unsigned char *bufs[HASH_NBUF];
    size_t lens[HASH_NBUF];
    uint64_t head, tail; /* blocks handed over and blocks hashed */
    bool done, running;
};

struct pack {
    struct archive *a;
    int out_fd;
    struct hasher h;
    int io_errno; /* the write(2) failure behind a libarchive error */
    bool diff, one_fs;
    dev_t top_dev;
    const char *const *skip;
    int64_t size;
    unsigned char *buf;
    struct pack_link *links; /* open addressing, power-of-two capacity */
    size_t nlinks, caplinks;
};

static void *hasher_main(void *arg)
{
    struct hasher *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->tail == h->head && !h->done)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->tail == h->head)
            break;
        size_t i = h->tail % HASH_NBUF;
        pthread_mutex_unlock(&h->mu);
        digest_update(h->dg, h->bufs[i], h->lens[i]);
        pthread_mutex_lock(&h->mu);
        h->tail++;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Starts the thread; without one (it could not be made) the writer hashes inline. */
static void hasher_start(struct hasher *h)
{
    h->dg = digest_new();
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    for (size_t i = 0; i < HASH_NBUF; i++)
        h->bufs[i] = xmalloc(PACK_BUF);
    h->running = pthread_create(&h->thread, NULL, hasher_main, h) == 0;
}

static void hasher_feed(struct hasher *h, const void *buf, size_t len)
{
    if (!h->dg)
        return; /* nobody wants the diff-id */
    if (!h->running) {
        digest_update(h->dg, buf, len);
        return;
    }
    for (size_t off = 0; off < len;) {
        size_t n = len - off < PACK_BUF ? len - off : PACK_BUF;
        pthread_mutex_lock(&h->mu);
        while (h->head - h->tail == HASH_NBUF)
            pthread_cond_wait(&h->cv, &h->mu);
        size_t i = h->head % HASH_NBUF;
        pthread_mutex_unlock(&h->mu);
        memcpy(h->bufs[i], (const char *)buf + off,
               n); /* the slot is the writer's until head moves */
        h->lens[i] = n;
        pthread_mutex_lock(&h->mu);
        h->head++;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        off += n;
    }
}

/* Waits for every block to be hashed and ends the thread. */
static void hasher_stop(struct hasher *h)
{
    if (!h->running)
        return;
    pthread_mutex_lock(&h->mu);
    h->done = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    h->running = false;
}

static void hasher_release(struct hasher *h)
{
    if (!h->bufs[0])
        return; /* never started */
    hasher_stop(h);
    digest_free(h->dg);
    for (size_t i = 0; i < HASH_NBUF; i++)
        free(h->bufs[i]);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
}

static la_ssize_t pack_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
    struct pack *p = data;
    int r = fdu_write_all(p->out_fd, buf, len);
    if (r < 0) {
        p->io_errno = -r;
        archive_set_error(a, -r, "write layer");
        return -1;
    }
    hasher_feed(&p->h, buf, len);
    return (la_ssize_t)len;
}

static int pack_fail(struct pack *p, const char *name, struct err **err)
{
    if (p->io_errno != 0)
        return err_set(err, ERR_SYSTEM, p->io_errno, "pack \"%.512s\"", name);
    const char *msg = archive_error_string(p->a);
    return err_set(err, ERR_INTERNAL, 0, "pack \"%.512s\": %s", name,
                   msg ? msg : "libarchive failed");
}

static int pack_sys(const char *name, int errnum, const char *what, struct err **err)
{
    return err_set(err, ERR_SYSTEM, errnum, "pack \"%.512s\": %s", name, what);
}

/* ---- hardlinks --------------------------------------------------------------------------- */

static size_t link_slot(const struct pack_link *v, size_t cap, dev_t dev, ino_t ino)
{
    size_t h = ((size_t)ino * 0x9E3779B97F4A7C15ull ^ (size_t)dev) & (cap - 1);
    while (v[h].name && !(v[h].dev == dev && v[h].ino == ino))
        h = (h + 1) & (cap - 1);
    return h;
}

/* The archive name an earlier entry gave this inode, or NULL after recording name for it. */
static const char *pack_link_seen(struct pack *p, const struct stat *st, const char *name)
{
    if (p->nlinks * 2 >= p->caplinks) {
        size_t cap = p->caplinks ? p->caplinks * 2 : 64;
        struct pack_link *v = xcalloc(cap, sizeof(*v));
        for (size_t i = 0; i < p->caplinks; i++) {
            if (p->links[i].name)
                v[link_slot(v, cap, p->links[i].dev, p->links[i].ino)] = p->links[i];
        }
        free(p->links);
        p->links = v;
        p->caplinks = cap;
    }
    size_t h = link_slot(p->links, p->caplinks, st->st_dev, st->st_ino);
    if (p->links[h].name)
        return p->links[h].name;
    p->links[h] = (struct pack_link){.dev = st->st_dev, .ino = st->st_ino, .name = xstrdup(name)};
    p->nlinks++;
    return NULL;
}

/* ---- entries ----------------------------------------------------------------------------- */

static bool pack_xattr_wanted(const char *name)
{
    if (strncmp(name, "user.overlay.", 13) == 0) /* overlayfs' own, in userxattr mode */
        return false;
    return strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0;
}

static int pack_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Copies the wanted xattrs of fd (or, when fd < 0, of the path) into e, sorted by name. A
 * filesystem without xattrs has none.
 */
static int pack_xattrs(int fd, const char *path, struct archive_entry *e, const char *name,
                       struct err **err)
{
    ssize_t n = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(path, NULL, 0);
    if (n <= 0 && (n == 0 || errno == ENOTSUP || errno == EPERM))
        return 0; /* most files have none: one syscall */
    if (n < 0)
        return pack_sys(name, errno, "list xattrs", err);
    _cleanup_free_ char *list = xmalloc(XATTR_LIST_MAX);
    n = fd >= 0 ? flistxattr(fd, list, XATTR_LIST_MAX) : llistxattr(path, list, XATTR_LIST_MAX);
    if (n < 0)
        return pack_sys(name, errno, "list xattrs", err);
    const char *names[512];
    size_t count = 0;
    for (ssize_t off = 0; off < n && count < ARRAY_SIZE(names); off += strlen(list + off) + 1) {
        if (pack_xattr_wanted(list + off))
            names[count++] = list + off;
    }
    qsort(names, count, sizeof(names[0]), pack_name_cmp);
    _cleanup_free_ char *value = count ? xmalloc(XATTR_SIZE_MAX) : NULL;
    for (size_t i = 0; i < count; i++) {
        ssize_t len = fd >= 0 ? fgetxattr(fd, names[i], value, XATTR_SIZE_MAX)
                              : lgetxattr(path, names[i], value, XATTR_SIZE_MAX);
        if (len < 0 && errno == ENODATA)
            continue; /* removed meanwhile */
        if (len < 0)
            return pack_sys(name, errno, "read xattr", err);
        archive_entry_xattr_add_entry(e, names[i], value, (size_t)len);
    }
    return 0;
}

/* A new entry with the owner, permissions and mtime (whole seconds) of st. */
static struct archive_entry *pack_entry_new(const char *name, const struct stat *st, mode_t type)
{
    struct archive_entry *e = archive_entry_new();
    if (e == NULL)
        abort();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, st->st_mode & 07777);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
    archive_entry_set_size(e, 0);
    return e;
}

static int pack_header(struct pack *p, struct archive_entry *e, struct err **err)
{
    int r = archive_write_header(p->a, e);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return pack_fail(p, archive_entry_pathname(e), err);
    return 0;
}

/* An empty regular file (whiteouts, the opaque marker, one_filesystem stand-ins). */
static int pack_empty_file(struct pack *p, const char *name, const struct stat *st, mode_t perm,
                           struct err **err)
{
    struct archive_entry *e = pack_entry_new(name, st, AE_IFREG);
    archive_entry_set_perm(e, perm);
    int r = pack_header(p, e, err);
    archive_entry_free(e);
    return r;
}

static int pack_data(struct pack *p, int fd, int64_t size, const char *name, struct err **err)
{
    int64_t left = size;
    while (left > 0) {
        size_t want = left > PACK_BUF ? PACK_BUF : (size_t)left;
        ssize_t n = read(fd, p->buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pack_sys(name, errno, "read", err);
        if (n == 0)
            break; /* shrank meanwhile: libarchive pads the entry with zeros */
        la_ssize_t w = archive_write_data(p->a, p->buf, (size_t)n);
        if (w < 0 || w != n)
            return pack_fail(p, name, err);
        left -= n;
    }
    p->size += size;
    return 0;
}

/* A regular file: fd is open on it (O_RDONLY), st its fstat. */
static int pack_regular(struct pack *p, int fd, const struct stat *st, const char *name,
                        struct err **err)
{
    struct archive_entry *e = pack_entry_new(name, st, AE_IFREG);
    const char *first = st->st_nlink > 1 ? pack_link_seen(p, st, name) : NULL;
    int r = 0;
    if (first) {
        archive_entry_set_hardlink(e, first);
        r = pack_header(p, e, err);
    } else {
        archive_entry_set_size(e, st->st_size);
        r = pack_xattrs(fd, NULL, e, name, err);
        if (r == 0)
            r = pack_header(p, e, err);
        if (r == 0)
            r = pack_data(p, fd, st->st_size, name, err);
    }
    archive_entry_free(e);
    return r;
}

static int pack_symlink(struct pack *p, int dirfd, const char *base, const struct stat *st,
                        const char *name, struct err **err)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd, base, target, sizeof(target) - 1);
    if (n < 0)
        return pack_sys(name, errno, "readlink", err);
    target[n] = '\0';
    struct archive_entry *e = pack_entry_new(name, st, AE_IFLNK);
    archive_entry_set_perm(e, 0777);
    archive_entry_set_symlink(e, target);
    int r = pack_header(p, e, err);
    archive_entry_free(e);
    return r;
}

/* Devices and FIFOs (never opened); hardlinked ones keep their links. */
static int pack_node(struct pack *p, int dirfd, const char *base, const struct stat *st,
                     const char *name, struct err **err)
{
    mode_t type = S_ISCHR(st->st_mode) ? AE_IFCHR : S_ISBLK(st->st_mode) ? AE_IFBLK : AE_IFIFO;
    struct archive_entry *e = pack_entry_new(name, st, type);
    const char *first = st->st_nlink > 1 ? pack_link_seen(p, st, name) : NULL;
    int r = 0;
    if (first) {
        archive_entry_set_hardlink(e, first);
    } else {
        if (type != AE_IFIFO) {
            archive_entry_set_rdevmajor(e, major(st->st_rdev));
            archive_entry_set_rdevminor(e, minor(st->st_rdev));
        }
        char path[64 + NAME_MAX];
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, base);
        r = pack_xattrs(-1, path, e, name, err);
    }
    if (r == 0)
        r = pack_header(p, e, err);
    archive_entry_free(e);
    return r;
}

/* ---- the walk ---------------------------------------------------------------------------- */

static int pack_dir(struct pack *p, int fd, const struct stat *st, const char *name,
                    const char *rel, struct err **err);

static bool pack_skipped(const struct pack *p, const char *rel)
{
    for (const char *const *s = p->skip; s && *s; s++) {
        if (strcmp(*s, rel) == 0)
            return true;
    }
    return false;
}

/* A mount point below the top: another device, or (where statx says so) a mount root. */
static bool pack_is_mount(const struct pack *p, int dirfd, const char *base, const struct stat *st)
{
    if (st->st_dev != p->top_dev && S_ISDIR(st->st_mode))
        return true;
    struct statx stx;
    if (statx(dirfd, base, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) == 0 &&
        (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
        return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    return st->st_dev != p->top_dev;
}

/* The entry base in dirfd, archived as name (rel: its path below the top, for skip). */
static int pack_child(struct pack *p, int dirfd, const char *base, const char *name,
                      const char *rel, struct err **err)
{
    struct stat st;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : pack_sys(name, errno, "stat", err); /* gone meanwhile */
    if (p->skip && pack_skipped(p, rel))
        return 0;
    if (p->one_fs && pack_is_mount(p, dirfd, base, &st)) {
        if (!S_ISDIR(st.st_mode))
            return pack_empty_file(p, name, &st, st.st_mode & 07777, err);
        struct archive_entry *e = pack_entry_new(name, &st, AE_IFDIR);
        int r = pack_header(p, e, err);
        archive_entry_free(e);
        return r;
    }
    if (S_ISLNK(st.st_mode))
        return pack_symlink(p, dirfd, base, &st, name, err);
    if (S_ISSOCK(st.st_mode))
        return 0; /* a tar cannot hold one; docker leaves them out too */
    if (p->diff && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        _cleanup_free_ char *wh = NULL;
        const char *slash = strrchr(name, '/');
        size_t plen = slash ? (size_t)(slash - name) + 1 : 0;
        wh = xasprintf("%.*s" WH_PREFIX "%s", (int)plen, name, name + plen);
        /*
         * Time 0, not the whiteout's: unpacking makes a new whiteout (its time is then), so
         * only a fixed time lets the unpacked layer pack to the same bytes (docker save of a
         * committed layer packs its tree again and checks the diff-id).
         */
        st.st_mtim = (struct timespec){0};
        return pack_empty_file(p, wh, &st, 0600, err);
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return pack_node(p, dirfd, base, &st, name, err);

    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
                (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
    _cleanup_close_ int fd = openat(dirfd, base, flags);
    if (fd < 0)
        return errno == ENOENT ? 0 : pack_sys(name, errno, "open", err);
    struct stat now;
    if (fstat(fd, &now) < 0)
        return pack_sys(name, errno, "stat", err);
    if (now.st_ino != st.st_ino || now.st_dev != st.st_dev ||
        (now.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
        return pack_sys(name, EAGAIN, "replaced while packing", err);
    if (S_ISDIR(now.st_mode))
        return pack_dir(p, fd, &now, name, rel, err);
    return pack_regular(p, fd, &now, name, err);
}

/* The sorted names in directory fd (fd stays open and is not moved). */
static int pack_list(int fd, const char *name, char ***out, size_t *nout, struct err **err)
{
    const char *failed = NULL;
    int r = layer_dir_names(fd, out, nout, &failed);
    return r < 0 ? pack_sys(name, -r, failed, err) : 0;
}

static bool pack_opaque(int fd)
{
    char v[4];
    ssize_t n = fgetxattr(fd, OPAQUE_XATTR, v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

/* True when every name in dir rel is skipped: the runtime's mount points and nothing else. */
static bool pack_only_skipped(const struct pack *p, const char *rel, char **names, size_t n)
{
    if (!p->skip || n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *crel = rel[0] ? xasprintf("%s/%s", rel, names[i]) : NULL;
        if (!pack_skipped(p, crel ? crel : names[i]))
            return false;
    }
    return true;
}

/* A directory's own entry (none for the archive root) and, in diff mode, its opaque marker. */
static int pack_dir_entries(struct pack *p, int fd, const struct stat *st, const char *name,
                            struct err **err)
{
    if (name[0] != '\0') {
        struct archive_entry *e = pack_entry_new(name, st, AE_IFDIR);
        int r = pack_xattrs(fd, NULL, e, name, err);
        if (r == 0)
            r = pack_header(p, e, err);
        archive_entry_free(e);
        if (r < 0)
            return -1;
    }
    if (p->diff && pack_opaque(fd)) {
        _cleanup_free_ char *wh = name[0] ? xasprintf("%s/" WH_OPAQUE, name) : xstrdup(WH_OPAQUE);
        if (pack_empty_file(p, wh, st, st->st_mode & 0777, err) < 0)
            return -1;
    }
    return 0;
}

/*
 * Directory fd: its entries, then its children, each as name/child. A directory holding only
 * skipped entries is left out whole (it was copied up for the runtime's mount points).
 */
static int pack_dir(struct pack *p, int fd, const struct stat *st, const char *name,
                    const char *rel, struct err **err)
{
    char **names = NULL;
    size_t n = 0;
    if (pack_list(fd, name, &names, &n, err) < 0)
        return -1;
    bool leave_out = name[0] != '\0' && pack_only_skipped(p, rel, names, n) && !pack_opaque(fd);
    int r = leave_out ? 0 : pack_dir_entries(p, fd, st, name, err);
    for (size_t i = 0; r == 0 && !leave_out && i < n; i++) {
        _cleanup_free_ char *child = name[0] ? xasprintf("%s/%s", name, names[i]) : NULL;
        _cleanup_free_ char *crel = rel[0] ? xasprintf("%s/%s", rel, names[i]) : NULL;
        r = pack_child(p, fd, names[i], child ? child : names[i], crel ? crel : names[i], err);
    }
    layer_names_free(names, n);
    return r;
}

/* The top object, reached through top_fd (O_PATH or not). */
static int pack_top(struct pack *p, int top_fd, const char *name, struct err **err)
{
    struct stat st;
    if (fstatat(top_fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
        return pack_sys(name, errno, "stat", err);
    p->top_dev = st.st_dev;
    if (name[0] == '\0' && !S_ISDIR(st.st_mode))
        return err_set(err, ERR_INVALID, 0, "pack: only a directory can be packed without a name");
    if (S_ISLNK(st.st_mode))
        return pack_symlink(p, top_fd, "", &st, name, err);
    if (S_ISDIR(st.st_mode)) {
        _cleanup_close_ int fd = openat(top_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return pack_sys(name, errno, "open directory", err);
        return pack_dir(p, fd, &st, name, "", err);
    }
    if (S_ISREG(st.st_mode)) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", top_fd);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            return pack_sys(name, errno, "open", err);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
            return pack_sys(name, EAGAIN, "replaced while packing", err);
        return pack_regular(p, fd, &st, name, err);
    }
    if (S_ISSOCK(st.st_mode))
        return err_set(err, ERR_INVALID, 0, "pack \"%.512s\": a socket cannot be archived", name);
    /* a device or FIFO on its own: no parent fd, so no xattrs */
    mode_t type = S_ISCHR(st.st_mode) ? AE_IFCHR : S_ISBLK(st.st_mode) ? AE_IFBLK : AE_IFIFO;
    struct archive_entry *e = pack_entry_new(name, &st, type);
    if (type != AE_IFIFO) {
        archive_entry_set_rdevmajor(e, major(st.st_rdev));
        archive_entry_set_rdevminor(e, minor(st.st_rdev));
    }
    int r = pack_header(p, e, err);
    archive_entry_free(e);
    return r;
}

static void pack_release(struct pack *p)
{
    if (p->a)
        archive_write_free(p->a); /* may still write (and hash) what it buffered */
    hasher_release(&p->h);
    for (size_t i = 0; i < p->caplinks; i++)
        free(p->links[i].name);
    free(p->links);
    free(p->buf);
}

int layer_pack_filtered(int top_fd, int out_fd, const struct layer_pack_opts *opts,
                        const char *const *skip, char diff_id[DIGEST_STR_LEN + 1], int64_t *size,
                        struct err **err)
{
    struct pack p = {
        .out_fd = out_fd,
        .diff = opts && opts->diff,
        .one_fs = opts && opts->one_filesystem,
        .skip = skip,
        .buf = xmalloc(PACK_BUF),
    };
    const char *name = opts && opts->name ? opts->name : "";
    int r = -1;
    if (diff_id)
        hasher_start(&p.h);
    p.a = archive_write_new();
    if (p.a == NULL) {
        pack_release(&p);
        return err_set(err, ERR_SYSTEM, ENOMEM, "archive_write_new");
    }
    /* pax only where ustar cannot say it (long names, xattrs); 256 KiB writes; a 1024-byte end
     * like Go's (the last block is not padded) */
    if (archive_write_set_format_pax_restricted(p.a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(p.a, PACK_BUF) != ARCHIVE_OK || /* few writes */
        archive_write_set_bytes_in_last_block(p.a, 1) != ARCHIVE_OK ||
        archive_write_open(p.a, &p, NULL, pack_write_cb, NULL) != ARCHIVE_OK)
        r = pack_fail(&p, "(open)", err);
    else if (pack_top(&p, top_fd, name, err) == 0)
        r = archive_write_close(p.a) == ARCHIVE_OK ? 0 : pack_fail(&p, "(end of archive)", err);
    if (r == 0) {
        hasher_stop(&p.h);
        if (diff_id)
            digest_final(p.h.dg, diff_id);
        p.h.dg = NULL;
        if (size)
            *size = p.size;
    }
    pack_release(&p);
    return r;
}

int layer_pack(int top_fd, int out_fd, const struct layer_pack_opts *opts,
               char diff_id[DIGEST_STR_LEN + 1], int64_t *size, struct err **err)
{
    return layer_pack_filtered(top_fd, out_fd, opts, NULL, diff_id, size, err);
}

/* ---- pack straight into a directory (docker commit) --------------------------------------- */

struct pack_feed {
    int top_fd;
    int out_fd; /* the pipe's write end, closed by the thread when it is done */
    const struct layer_pack_opts *opts;
    const char *const *skip;
    int rc;
    struct err *err;
};

static void *pack_feed_main(void *arg)
{
    struct pack_feed *f = arg;
    f->rc = layer_pack_filtered(f->top_fd, f->out_fd, f->opts, f->skip, NULL, NULL, &f->err);
    close(f->out_fd); /* the reader sees the end of the stream */
    return NULL;
}

/*
 * The packer's failure is the cause unless it only saw the reader go away (EPIPE): then the
 * unpacker's error says why.
 */
static int pack_unpack_result(int rc, struct pack_feed *f, struct err **err)
{
    if (f->rc == 0 || (rc < 0 && f->err && f->err->errnum == EPIPE)) {
        err_free(f->err);
        return rc;
    }
    if (rc < 0) {
        err_free(*err);
        *err = NULL;
    }
    *err = f->err;
    return -1;
}

int layer_pack_unpack(int top_fd, const struct layer_pack_opts *opts, const char *const *skip,
                      int dest_fd, struct layer_unpack_result *res, struct err **err)
{
    static const struct unpack_opts layer = {
        .whiteouts = true, .keep_root = true, .uid = -1, .gid = -1};
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return err_set(err, ERR_SYSTEM, errno, "pipe");
    /* a larger pipe: fewer switches between the two threads (best effort) */
    (void)fcntl(fds[1], F_SETPIPE_SZ, 1024 * 1024);
    struct pack_feed f = {.top_fd = top_fd, .out_fd = fds[1], .opts = opts, .skip = skip};
    pthread_t thread;
    int e = pthread_create(&thread, NULL, pack_feed_main, &f);
    if (e != 0) {
        close(fds[0]);
        close(fds[1]);
        return err_set(err, ERR_SYSTEM, e, "start the packing thread");
    }
    _cleanup_(lstream_freep) struct lstream *s = NULL;
    int rc = lstream_open_fd(fds[0], NULL, &s, err); /* takes fds[0] over */
    if (rc == 0)
        rc = unpack_tar(dest_fd, s, &layer, res, err);
    lstream_freep(&s); /* closes the read end: a packer still writing gets EPIPE */
    pthread_join(thread, NULL);
    return pack_unpack_result(rc, &f, err);
}
