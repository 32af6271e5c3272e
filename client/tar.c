/* SPDX-License-Identifier: Apache-2.0 */
/* berth cp's tar writer and reader (see tar.h). */
#include "client/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define BLOCK 512

/* ---- writer ---------------------------------------------------------------------------------- */

struct tar_link {
    dev_t dev;
    ino_t ino;
    char *name;
};

struct tar_w {
    int fd;
    struct tar_link *links;
    size_t nlinks;
};

static int tw_write(struct tar_w *w, const void *buf, size_t len, struct err **err)
{
    int r = fdu_write_all(w->fd, buf, len);
    return r < 0 ? err_set(err, ERR_SYSTEM, -r, "write the archive") : 0;
}

static int tw_pad(struct tar_w *w, uint64_t size, struct err **err)
{
    static const char zero[BLOCK];
    size_t pad = (size_t)((BLOCK - size % BLOCK) % BLOCK);
    return pad ? tw_write(w, zero, pad, err) : 0;
}

/* Octal into a field of n bytes (n - 1 digits and a NUL); false when it does not fit. */
static bool tw_oct(char *dst, size_t n, uint64_t v)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof(tmp), "%0*llo", (int)(n - 1), (unsigned long long)v);
    if (len < 0 || (size_t)len > n - 1)
        return false;
    memcpy(dst, tmp, n - 1);
    dst[n - 1] = '\0';
    return true;
}

static void tw_checksum(char *h)
{
    unsigned int sum = 0;
    memset(h + 148, ' ', 8);
    for (int i = 0; i < BLOCK; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
}

static void tw_pax_record(struct sb *pax, const char *key, const char *value)
{
    size_t base = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
    size_t len = base + 1;
    while (snprintf(NULL, 0, "%zu", len) + base != len)
        len++;
    sb_addf(pax, "%zu %s=%s\n", len, key, value);
}

struct tw_entry {
    const char *name;
    const char *link; /* symlink or hardlink target, or NULL */
    char type;
    const struct stat *st;
    uint64_t size;
};

static int tw_header(struct tar_w *w, const struct tw_entry *e, struct err **err)
{
    char h[BLOCK] = {0};
    struct sb pax = SB_INIT;
    const struct stat *st = e->st;
    if (strlen(e->name) > 100)
        tw_pax_record(&pax, "path", e->name);
    if (e->link && strlen(e->link) > 100)
        tw_pax_record(&pax, "linkpath", e->link);
    if (!tw_oct(h + 124, 12, e->size)) {
        char num[32];
        snprintf(num, sizeof(num), "%llu", (unsigned long long)e->size);
        tw_pax_record(&pax, "size", num);
        tw_oct(h + 124, 12, 0);
    }
    if (!tw_oct(h + 108, 8, st->st_uid) || !tw_oct(h + 116, 8, st->st_gid)) {
        char num[32];
        snprintf(num, sizeof(num), "%u", (unsigned)st->st_uid);
        tw_pax_record(&pax, "uid", num);
        snprintf(num, sizeof(num), "%u", (unsigned)st->st_gid);
        tw_pax_record(&pax, "gid", num);
        tw_oct(h + 108, 8, 0);
        tw_oct(h + 116, 8, 0);
    }
    if (pax.len) {
        char ph[BLOCK] = {0};
        snprintf(ph, 100, "PaxHeaders.0/%.80s", e->name);
        tw_oct(ph + 100, 8, 0644);
        tw_oct(ph + 108, 8, 0);
        tw_oct(ph + 116, 8, 0);
        tw_oct(ph + 124, 12, pax.len);
        tw_oct(ph + 136, 12, (uint64_t)st->st_mtime);
        ph[156] = 'x';
        memcpy(ph + 257,
               "ustar\0"
               "00",
               8);
        tw_checksum(ph);
        int r = tw_write(w, ph, BLOCK, err);
        if (r == 0)
            r = tw_write(w, pax.buf, pax.len, err);
        if (r == 0)
            r = tw_pad(w, pax.len, err);
        sb_release(&pax);
        if (r < 0)
            return -1;
    }
    strncpy(h, e->name, 100);
    tw_oct(h + 100, 8, st->st_mode & 07777);
    tw_oct(h + 136, 12, st->st_mtime > 0 ? (uint64_t)st->st_mtime : 0);
    h[156] = e->type;
    if (e->link)
        strncpy(h + 157, e->link, 100);
    memcpy(h + 257,
           "ustar\0"
           "00",
           8);
    if (e->type == '3' || e->type == '4') {
        tw_oct(h + 329, 8, major(st->st_rdev));
        tw_oct(h + 337, 8, minor(st->st_rdev));
    }
    tw_checksum(h);
    return tw_write(w, h, BLOCK, err);
}

static int tw_file(struct tar_w *w, int dirfd, const char *base, const char *name,
                   const struct stat *st, struct err **err)
{
    _cleanup_close_ int fd = openat(dirfd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", name);
    struct tw_entry e = {.name = name, .type = '0', .st = st, .size = (uint64_t)st->st_size};
    if (tw_header(w, &e, err) < 0)
        return -1;
    char buf[65536];
    uint64_t left = e.size;
    while (left > 0) {
        ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "read %s", name);
        if (n == 0) /* it shrank: pad with zeros so the archive stays well-formed */
            memset(buf, 0, sizeof(buf)), n = (ssize_t)(left < sizeof(buf) ? left : sizeof(buf));
        if (tw_write(w, buf, (size_t)n, err) < 0)
            return -1;
        left -= (uint64_t)n;
    }
    return tw_pad(w, e.size, err);
}

static int tw_tree(struct tar_w *w, int dirfd, const char *base, const char *name,
                   const struct stat *st, int depth, struct err **err);

static int tw_cmp(const void *a, const void *b)
{
    const struct dirent *const *x = a;
    const struct dirent *const *y = b;
    return strcmp((*x)->d_name, (*y)->d_name);
}

static int tw_dir(struct tar_w *w, int dirfd, const char *base, const char *name,
                  const struct stat *st, int depth, struct err **err)
{
    _cleanup_free_ char *dname = xasprintf("%s/", name);
    struct tw_entry e = {.name = dname, .type = '5', .st = st};
    if (tw_header(w, &e, err) < 0)
        return -1;
    int fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", name);
    struct dirent **list = NULL;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return err_set(err, ERR_SYSTEM, errno, "open %s", name);
    }
    /* sorted, so the same tree gives the same archive */
    int n = 0, cap = 0, r = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            list = xrealloc(list, (size_t)cap * sizeof(*list));
        }
        size_t sz = sizeof(struct dirent);
        list[n] = xmalloc(sz);
        memcpy(list[n++], de, sz);
    }
    if (n > 1)
        qsort(list, (size_t)n, sizeof(*list), tw_cmp);
    for (int i = 0; i < n; i++) {
        struct stat cst;
        const char *cn = list[i]->d_name;
        _cleanup_free_ char *child =
            strcmp(name, ".") == 0 ? xasprintf("./%s", cn) : xasprintf("%s/%s", name, cn);
        if (r == 0 && fstatat(fd, cn, &cst, AT_SYMLINK_NOFOLLOW) < 0)
            r = errno == ENOENT ? 0 : err_set(err, ERR_SYSTEM, errno, "stat %s", child);
        else if (r == 0)
            r = tw_tree(w, fd, cn, child, &cst, depth + 1, err);
        free(list[i]);
    }
    free(list);
    closedir(d);
    return r;
}

static int tw_tree(struct tar_w *w, int dirfd, const char *base, const char *name,
                   const struct stat *st, int depth, struct err **err)
{
    struct tw_entry e = {.name = name, .st = st};
    char target[PATH_MAX];
    if (depth > 256)
        return err_set(err, ERR_INVALID, 0, "%s: too deep", name);
    if (S_ISDIR(st->st_mode))
        return tw_dir(w, dirfd, base, name, st, depth, err);
    if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
        for (size_t i = 0; i < w->nlinks; i++) {
            if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino) {
                e.type = '1';
                e.link = w->links[i].name;
                return tw_header(w, &e, err);
            }
        }
        w->links = xrealloc(w->links, (w->nlinks + 1) * sizeof(*w->links));
        w->links[w->nlinks++] = (struct tar_link){st->st_dev, st->st_ino, xstrdup(name)};
    }
    if (S_ISREG(st->st_mode))
        return tw_file(w, dirfd, base, name, st, err);
    if (S_ISLNK(st->st_mode)) {
        ssize_t n = readlinkat(dirfd, base, target, sizeof(target) - 1);
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "readlink %s", name);
        target[n] = '\0';
        e.type = '2';
        e.link = target;
        return tw_header(w, &e, err);
    }
    if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode)) {
        e.type = S_ISCHR(st->st_mode) ? '3' : S_ISBLK(st->st_mode) ? '4' : '6';
        return tw_header(w, &e, err);
    }
    return 0; /* sockets are not archived */
}

int cli_tar_write(int fd, const char *path, const char *name, bool follow, struct err **err)
{
    struct tar_w w = {.fd = fd};
    struct stat st;
    if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
        return err_set(err, ERR_NOT_FOUND, errno, "stat %s", path);
    _cleanup_free_ char *copy = xstrdup(path);
    _cleanup_free_ char *copy2 = xstrdup(path);
    const char *dir = dirname(copy);
    const char *base = basename(copy2);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", dir);
    /* a followed top is opened through its link once, then walked without following */
    _cleanup_free_ char *real = follow ? realpath(path, NULL) : NULL;
    if (real) {
        _cleanup_free_ char *rcopy = xstrdup(real);
        close(dfd);
        dfd = open(dirname(rcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return err_set(err, ERR_SYSTEM, errno, "open %s", real);
        free(copy2);
        copy2 = xstrdup(real);
        base = basename(copy2);
    }
    if (strcmp(base, "/") == 0)
        base = ".";
    int r = tw_tree(&w, dfd, base, name, &st, 0, err);
    static const char end[2 * BLOCK];
    if (r == 0)
        r = tw_write(&w, end, sizeof(end), err);
    for (size_t i = 0; i < w.nlinks; i++)
        free(w.links[i].name);
    free(w.links);
    return r;
}

/* ---- reader ---------------------------------------------------------------------------------- */

struct tar_r {
    int fd;
    int root;
    const char *old_base, *new_base;
    char *next_name, *next_link; /* from pax or GNU long-name entries */
    int64_t next_size;
};

static int tr_read(struct tar_r *r, void *buf, size_t len, struct err **err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(r->fd, (char *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "read the archive");
        if (n == 0)
            return err_set(err, ERR_INVALID, 0, "unexpected end of the archive");
        done += (size_t)n;
    }
    return 0;
}

static int tr_skip(struct tar_r *r, uint64_t size, struct err **err)
{
    char buf[BLOCK];
    uint64_t left = (size + BLOCK - 1) / BLOCK * BLOCK;
    for (; left > 0; left -= BLOCK)
        if (tr_read(r, buf, BLOCK, err) < 0)
            return -1;
    return 0;
}

static bool tr_num(const char *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if ((unsigned char)f[0] & 0x80) { /* base-256 */
        for (size_t i = 0; i < n; i++)
            v = (v << 8) | (unsigned char)(i == 0 ? f[i] & 0x7f : f[i]);
        *out = v;
        return true;
    }
    size_t i = 0;
    while (i < n && (f[i] == ' ' || f[i] == '\0'))
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++)
        v = v * 8 + (uint64_t)(f[i] - '0');
    *out = v;
    return true;
}

static char *tr_str(const char *f, size_t n)
{
    size_t len = strnlen(f, n);
    return xstrndup(f, len);
}

/* Reads a pax or GNU long-name payload of size bytes (at most 1 MiB). */
static int tr_payload(struct tar_r *r, uint64_t size, char **out, struct err **err)
{
    if (size > (1u << 20))
        return err_set(err, ERR_INVALID, 0, "archive header too large");
    size_t padded = (size_t)((size + BLOCK - 1) / BLOCK * BLOCK);
    char *buf = xmalloc(padded + 1);
    if (tr_read(r, buf, padded, err) < 0) {
        free(buf);
        return -1;
    }
    buf[size] = '\0';
    *out = buf;
    return 0;
}

static void tr_pax(struct tar_r *r, char *data)
{
    for (char *p = data; *p;) {
        char *end = NULL;
        unsigned long len = strtoul(p, &end, 10);
        if (!end || *end != ' ' || len == 0 || len > strlen(p))
            return;
        char *rec = end + 1;
        char *eq = memchr(rec, '=', len - (size_t)(rec - p));
        char *nl = p + len - 1;
        if (!eq || *nl != '\n')
            return;
        *nl = '\0';
        *eq = '\0';
        if (strcmp(rec, "path") == 0) {
            free(r->next_name);
            r->next_name = xstrdup(eq + 1);
        } else if (strcmp(rec, "linkpath") == 0) {
            free(r->next_link);
            r->next_link = xstrdup(eq + 1);
        } else if (strcmp(rec, "size") == 0) {
            r->next_size = strtoll(eq + 1, NULL, 10);
        }
        p = nl + 1;
    }
}

/* Cleans an entry name and applies the rebase; NULL (and err) for a name that leaves dest. */
static char *tr_clean(struct tar_r *r, const char *name, struct err **err)
{
    if (name[0] == '/') {
        err_set(err, ERR_INVALID, 0, "archive entry %s: absolute name", name);
        return NULL;
    }
    struct sb out = SB_INIT;
    _cleanup_free_ char *copy = xstrdup(name);
    for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            sb_release(&out);
            err_set(err, ERR_INVALID, 0, "archive entry %s: \"..\" component", name);
            return NULL;
        }
        if (out.len)
            sb_addc(&out, '/');
        sb_adds(&out, c);
    }
    char *clean = out.len ? sb_steal(&out) : xstrdup("");
    sb_release(&out);
    const char *ob = r->old_base;
    if (!ob || !r->new_base)
        return clean;
    size_t n = strcmp(ob, ".") == 0 ? 0 : strlen(ob);
    char *re = NULL;
    if (n == 0) /* "dir/." archived as "." and "./x": everything moves under new_base */
        re = *clean ? xasprintf("%s/%s", r->new_base, clean) : xstrdup(r->new_base);
    else if (strncmp(clean, ob, n) == 0 && (clean[n] == '\0' || clean[n] == '/'))
        re = xasprintf("%s%s", r->new_base, clean + n);
    if (re) {
        free(clean);
        clean = re;
    }
    return clean;
}

/* Opens (creating) the parent directories of name below the root; *base is the last part. */
static int tr_parent(struct tar_r *r, char *name, const char **base, int *out, struct err **err)
{
    int cur = fcntl(r->root, F_DUPFD_CLOEXEC, 3);
    char *p = name;
    char *slash;
    while ((slash = strchr(p, '/'))) {
        *slash = '\0';
        int fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && mkdirat(cur, p, 0755) == 0)
            fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            close(cur);
            *slash = '/';
            return err_set(err, ERR_INVALID, e, "%s: a parent is not a directory", name);
        }
        close(cur);
        cur = fd;
        *slash = '/';
        p = slash + 1;
    }
    *base = p;
    *out = cur;
    return 0;
}

static int tr_write_file(struct tar_r *r, int dfd, const char *base, const char *name,
                         uint64_t size, mode_t mode, struct err **err)
{
    _cleanup_close_ int fd =
        openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "create %s", name);
    char buf[65536];
    uint64_t left = (size + BLOCK - 1) / BLOCK * BLOCK;
    uint64_t data = size;
    while (left > 0) {
        size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
        if (tr_read(r, buf, n, err) < 0)
            return -1;
        size_t w = data < n ? (size_t)data : n;
        int rc = fdu_write_all(fd, buf, w);
        if (rc < 0)
            return err_set(err, ERR_SYSTEM, -rc, "write %s", name);
        data -= w;
        left -= n;
    }
    if (fchmod(fd, mode & 07777) < 0)
        return err_set(err, ERR_SYSTEM, errno, "chmod %s", name);
    return 0;
}

struct tr_hdr {
    char *name, *link;
    char type;
    uint64_t size, mtime, mode, devmaj, devmin;
};

static int tr_entry(struct tar_r *r, struct tr_hdr *h, struct err **err)
{
    _cleanup_free_ char *name = tr_clean(r, h->name, err);
    if (!name)
        return -1;
    if (!*name) /* the destination itself */
        return h->type == '0' || h->type == '\0' ? tr_skip(r, h->size, err) : 0;
    const char *base = NULL;
    _cleanup_close_ int dfd = -1;
    if (tr_parent(r, name, &base, &dfd, err) < 0)
        return -1;
    struct stat had;
    bool exists = fstatat(dfd, base, &had, AT_SYMLINK_NOFOLLOW) == 0;
    bool is_dir = h->type == '5';
    if (exists && S_ISDIR(had.st_mode) && !is_dir)
        return err_set(err, ERR_INVALID, 0, "cannot overwrite directory %s with non-directory",
                       name);
    if (exists && !S_ISDIR(had.st_mode) && is_dir)
        return err_set(err, ERR_INVALID, 0, "cannot overwrite non-directory %s with directory",
                       name);
    if (exists && !is_dir && unlinkat(dfd, base, 0) < 0)
        return err_set(err, ERR_SYSTEM, errno, "remove %s", name);
    struct timespec ts[2] = {{.tv_sec = (time_t)h->mtime}, {.tv_sec = (time_t)h->mtime}};
    switch (h->type) {
    case '0':
    case '\0':
    case '7':
        if (tr_write_file(r, dfd, base, name, h->size, (mode_t)h->mode, err) < 0)
            return -1;
        break;
    case '5':
        if (!exists && mkdirat(dfd, base, 0700) < 0)
            return err_set(err, ERR_SYSTEM, errno, "mkdir %s", name);
        if (fchmodat(dfd, base, (mode_t)h->mode & 07777, 0) < 0)
            return err_set(err, ERR_SYSTEM, errno, "chmod %s", name);
        return 0; /* directory times change as entries land in it */
    case '2':
        if (symlinkat(h->link, dfd, base) < 0)
            return err_set(err, ERR_SYSTEM, errno, "symlink %s", name);
        break;
    case '1': {
        _cleanup_free_ char *target = tr_clean(r, h->link, err);
        const char *tbase = NULL;
        _cleanup_close_ int tfd = -1;
        if (!target || !*target || tr_parent(r, target, &tbase, &tfd, err) < 0)
            return target && !*target ? err_set(err, ERR_INVALID, 0, "bad hardlink %s", name) : -1;
        if (linkat(tfd, tbase, dfd, base, 0) < 0)
            return err_set(err, ERR_SYSTEM, errno, "link %s", name);
        return 0;
    }
    case '3':
    case '4':
    case '6': {
        mode_t t = h->type == '3' ? S_IFCHR : h->type == '4' ? S_IFBLK : S_IFIFO;
        dev_t dev = makedev((unsigned)h->devmaj, (unsigned)h->devmin);
        if (mknodat(dfd, base, t | ((mode_t)h->mode & 07777), dev) < 0)
            return err_set(err, ERR_SYSTEM, errno, "mknod %s", name);
        break;
    }
    default:
        return tr_skip(r, h->size, err);
    }
    (void)utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

static bool tr_zero(const char *b)
{
    for (int i = 0; i < BLOCK; i++)
        if (b[i])
            return false;
    return true;
}

static int tr_header(struct tar_r *r, const char *b, struct tr_hdr *h, struct err **err)
{
    uint64_t sum = 0, want = 0;
    for (int i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)b[i];
    tr_num(b + 148, 8, &want);
    if (sum != want)
        return err_set(err, ERR_INVALID, 0, "invalid archive header (checksum)");
    memset(h, 0, sizeof(*h));
    h->type = b[156];
    tr_num(b + 124, 12, &h->size);
    tr_num(b + 136, 12, &h->mtime);
    tr_num(b + 100, 8, &h->mode);
    tr_num(b + 329, 8, &h->devmaj);
    tr_num(b + 337, 8, &h->devmin);
    _cleanup_free_ char *n = tr_str(b, 100);
    _cleanup_free_ char *prefix = memcmp(b + 257, "ustar", 5) == 0 ? tr_str(b + 345, 155) : NULL;
    h->name = r->next_name        ? steal_ptr(&r->next_name)
              : prefix && *prefix ? xasprintf("%s/%s", prefix, n)
                                  : xstrdup(n);
    h->link = r->next_link ? steal_ptr(&r->next_link) : tr_str(b + 157, 100);
    if (r->next_size >= 0) {
        h->size = (uint64_t)r->next_size;
        r->next_size = -1;
    }
    return 0;
}

int cli_tar_extract(int fd, const char *dest, const char *old_base, const char *new_base,
                    struct err **err)
{
    struct tar_r r = {.fd = fd, .old_base = old_base, .new_base = new_base, .next_size = -1};
    r.root = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.root < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", dest);
    int rc = 0;
    char b[BLOCK];
    while (rc == 0 && (rc = tr_read(&r, b, BLOCK, err)) == 0) {
        if (tr_zero(b))
            break;
        struct tr_hdr h = {0};
        if ((rc = tr_header(&r, b, &h, err)) < 0)
            break;
        char *payload = NULL;
        if (h.type == 'x' || h.type == 'g' || h.type == 'L' || h.type == 'K') {
            rc = tr_payload(&r, h.size, &payload, err);
            if (rc == 0 && h.type == 'x')
                tr_pax(&r, payload);
            else if (rc == 0 && h.type == 'L')
                r.next_name = xstrdup(payload);
            else if (rc == 0 && h.type == 'K')
                r.next_link = xstrdup(payload);
            free(payload);
        } else {
            rc = tr_entry(&r, &h, err);
        }
        free(h.name);
        free(h.link);
    }
    free(r.next_name);
    free(r.next_link);
    close(r.root);
    return rc;
}
