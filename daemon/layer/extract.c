/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker cp's side of the layer module: paths resolved inside a container's root with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the root's fd (never a path string
 * joined onto a host path, so a symlink swapped in by the container at any time resolves inside
 * it: CVE-2018-15664, CVE-2021-41089), and a tar unpacked into a directory there with the layer
 * rules (unpack.c): no absolute names, no "..", no parent through a symlink, hardlinks inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "daemon/layer/unpack.h"

/* The most symlinks followed while computing a link target, as the kernel's 40. */
#define ROOT_MAX_LINKS 40

static int root_openat2(int root_fd, const char *path, int flags, int *out)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    long fd;

    do {
        fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    } while (fd < 0 && errno == EAGAIN);
    if (fd < 0)
        return -errno;
    *out = (int)fd;
    return 0;
}

static bool root_follows_last(const char *path)
{
    size_t n = strlen(path);
    return n == 0 || path[n - 1] == '/' || (n >= 2 && strcmp(path + n - 2, "/.") == 0) ||
           strcmp(path, ".") == 0;
}

int layer_root_open(int root_fd, const char *path, bool follow_last, int *out, struct err **err)
{
    int flags = O_PATH;
    int r;

    if (strlen(path) >= PATH_MAX)
        return err_set(err, ERR_INVALID, 0, "path too long");
    if (!follow_last && !root_follows_last(path))
        flags |= O_NOFOLLOW;
    r = root_openat2(root_fd, path[0] != '\0' ? path : "/", flags, out);
    if (r == -ENOENT)
        return err_set(err, ERR_NOT_FOUND, 0, "no such file or directory: %.512s", path);
    if (r == -ENOTDIR)
        return err_set(err, ERR_INVALID, 0, "%.512s: not a directory", path);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "open %.512s in the container", path);
    return 0;
}

/* Splits the first component off *rest (which advances); "" at the end. */
static size_t root_next_comp(const char **rest)
{
    while (**rest == '/')
        (*rest)++;
    const char *slash = strchr(*rest, '/');
    return slash ? (size_t)(slash - *rest) : strlen(*rest);
}

/* One step of layer_root_realpath: comp appended to resolved, following a symlink into rest. */
static int root_step(int root_fd, struct sb *resolved, const char *comp, size_t len, char **rest,
                     int *links, struct err **err)
{
    size_t keep = resolved->len;
    _cleanup_close_ int fd = -1;
    struct stat st;
    char target[PATH_MAX];

    sb_addc(resolved, '/');
    sb_add(resolved, comp, len);
    if (root_openat2(root_fd, resolved->buf, O_PATH | O_NOFOLLOW, &fd) < 0)
        return 0; /* missing (or not searchable): kept as a name, as docker does */
    if (fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode))
        return 0;
    if (++*links > ROOT_MAX_LINKS)
        return err_set(err, ERR_INVALID, 0, "too many levels of symbolic links");
    ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
    if (n < 0)
        return err_set(err, ERR_SYSTEM, errno, "readlink");
    target[n] = '\0';
    _cleanup_free_ char *next = xasprintf("%s/%s", target, *rest);
    free(*rest);
    *rest = steal_ptr(&next);
    /* an absolute target starts again at the root; a relative one from the link's directory */
    resolved->len = target[0] == '/' ? 0 : keep;
    resolved->buf[resolved->len] = '\0';
    return 0;
}

int layer_root_realpath(int root_fd, const char *path, char **out, struct err **err)
{
    struct sb resolved = SB_INIT;
    _cleanup_free_ char *rest = xstrdup(path);
    int links = 0;

    sb_grow(&resolved, 1);
    resolved.buf[0] = '\0';
    for (;;) {
        const char *p = rest;
        size_t len = root_next_comp(&p);
        if (len == 0)
            break;
        _cleanup_free_ char *comp = xstrndup(p, len);
        char *tail = xstrdup(p + len);
        free(rest);
        rest = tail;
        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) {
            char *slash = strrchr(sb_str(&resolved), '/');
            if (slash) {
                resolved.len = (size_t)(slash - resolved.buf);
                resolved.buf[resolved.len] = '\0';
            }
            continue;
        }
        if (resolved.len + len + 2 >= PATH_MAX) {
            sb_release(&resolved);
            return err_set(err, ERR_INVALID, 0, "path too long");
        }
        if (root_step(root_fd, &resolved, comp, len, &rest, &links, err) < 0) {
            sb_release(&resolved);
            return -1;
        }
    }
    *out = resolved.len ? sb_steal(&resolved) : xstrdup("/");
    sb_release(&resolved);
    return 0;
}

int layer_extract(int in_fd, int dest_fd, const struct layer_extract_opts *opts, struct err **err)
{
    struct unpack_opts o = {
        .cp_conflicts = opts->no_overwrite_dir_non_dir,
        .replace_dirs = !opts->no_overwrite_dir_non_dir,
        .uid = opts->uid,
        .gid = opts->gid,
    };
    struct layer_unpack_result res;
    struct lstream *s = NULL;
    int r;

    if (lstream_open_fd(in_fd, NULL, &s, err) < 0)
        return -1;
    r = unpack_tar(dest_fd, s, &o, &res, err);
    lstream_free(s);
    return r;
}
