/* SPDX-License-Identifier: Apache-2.0 */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int fdu_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fsu_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct sb sb = SB_INIT;
    for (;;) {
        sb_grow(&sb, 4096);
        ssize_t n = read(fd, sb.buf + sb.len, sb.cap - sb.len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            sb_release(&sb);
            return -e;
        }
        if (n == 0)
            break;
        sb.len += (size_t)n;
        sb.buf[sb.len] = '\0';
        if (sb.len > max) {
            sb_release(&sb);
            return -EFBIG;
        }
    }
    if (outlen)
        *outlen = sb.len;
    *out = sb_steal(&sb);
    return 0;
}

static int fsync_dir_of(const char *path)
{
    _cleanup_free_ char *copy = xstrdup(path);
    _cleanup_close_ int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    if (fsync(dfd) < 0)
        return -errno;
    return 0;
}

int fsu_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err **err)
{
    /* A unique temp name: several writers (threadpool jobs) may replace the same file. */
    _cleanup_free_ char *tmp = xasprintf("%s.tmp-XXXXXX", path);
    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "create %s", tmp);
    int r = fchmod(fd, mode) < 0 ? -errno : 0;
    if (r == 0)
        r = fdu_write_all(fd, data, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return err_set(err, ERR_SYSTEM, -r, "write %s", tmp);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return err_set(err, ERR_SYSTEM, e, "rename %s", path);
    }
    r = fsync_dir_of(path);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "fsync directory of %s", path);
    return 0;
}

int fsu_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct err **err)
{
    _cleanup_close_ int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", path);
    int r = fdu_write_all(fd, data, len);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "write %s", path);
    return 0;
}

int fsu_write_new(const char *path, const void *data, size_t len, mode_t mode, bool sync,
                  struct err **err)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "create %s", path);
    int r = fdu_write_all(fd, data, len);
    if (r == 0 && sync && fsync(fd) < 0)
        r = -errno;
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "write %s", path);
    return 0;
}

int fsu_sync_dir(const char *path, struct err **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        return err_set(err, ERR_SYSTEM, errno, "sync %s", path);
    return 0;
}

int fsu_mkdir_p(const char *path, mode_t mode, struct err **err)
{
    _cleanup_free_ char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return err_set(err, ERR_SYSTEM, errno, "mkdir %s", p);
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return err_set(err, ERR_SYSTEM, errno, "mkdir %s", p);
    struct stat st;
    if (stat(p, &st) < 0)
        return err_set(err, ERR_SYSTEM, errno, "stat %s", p);
    if (!S_ISDIR(st.st_mode))
        return err_set(err, ERR_SYSTEM, ENOTDIR, "mkdir %s", p);
    return 0;
}

void time_rfc3339nano(const struct timespec *ts, char out[40])
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%09ldZ", ts->tv_nsec);
}

void time_http_date(time_t t, char out[40])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int rmtree_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = flag == FTW_DP ? rmdir(path) : unlink(path);
    return r < 0 && errno != ENOENT ? errno : 0;
}

/* A directory tree deeper than this is refused rather than holding one descriptor a level. */
#define RMTREE_AT_DEPTH 512

static int rmtree_dir(int parent, const char *name, dev_t dev, int depth, struct err **err)
{
    if (depth > RMTREE_AT_DEPTH)
        return err_set(err, ERR_INVALID, 0, "remove %s: more than %d directories deep", name,
                       RMTREE_AT_DEPTH);
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : err_set(err, ERR_SYSTEM, errno, "open %s", name);
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_dev != dev) {
        int e = errno;
        close(fd);
        return st.st_dev != dev ? err_set(err, ERR_CONFLICT, 0, "remove %s: a mount point", name)
                                : err_set(err, ERR_SYSTEM, e, "stat %s", name);
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return err_set(err, ERR_SYSTEM, e, "read %s", name);
    }
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat cst;
        if (fstatat(fd, de->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                r = err_set(err, ERR_SYSTEM, errno, "stat %s", de->d_name);
        } else if (S_ISDIR(cst.st_mode)) {
            r = rmtree_dir(fd, de->d_name, dev, depth + 1, err);
        } else if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
            r = err_set(err, ERR_SYSTEM, errno, "remove %s", de->d_name);
        }
    }
    closedir(d);
    if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        r = err_set(err, ERR_SYSTEM, errno, "remove %s", name);
    return r;
}

int fsu_rmtree_at(int dirfd, const char *name, struct err **err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : err_set(err, ERR_SYSTEM, errno, "stat %s", name);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return err_set(err, ERR_SYSTEM, errno, "remove %s", name);
        return 0;
    }
    return rmtree_dir(dirfd, name, st.st_dev, 0, err);
}

int fsu_rmtree(const char *path, struct err **err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : err_set(err, ERR_SYSTEM, errno, "remove %s", path);
    int r = nftw(path, rmtree_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, errno, "remove %s", path);
    if (r > 0)
        return err_set(err, ERR_SYSTEM, r, "remove %s", path);
    return 0;
}
