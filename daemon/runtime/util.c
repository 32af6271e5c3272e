/* SPDX-License-Identifier: Apache-2.0 */
/* Child-safe helpers: error text in a stack buffer, in-root resolution, mkdir -p in the root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include "daemon/runtime/internal.h"

int rt_cfail(struct rt_cerr *ce, enum err_kind kind, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ce->msg, sizeof(ce->msg), fmt, ap);
    va_end(ap);
    ce->kind = kind;
    ce->errnum = errnum;
    return errnum > 0 ? -errnum : -EINVAL;
}

const char *rt_errno_text(int errnum, char *buf, size_t len)
{
    const char *s = strerrordesc_np(errnum);
    if (!s) {
        snprintf(buf, len, "errno %d", errnum);
        return buf;
    }
    snprintf(buf, len, "%s", s);
    if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

int rt_in_root_open(int rootfd, const char *path, int flags, unsigned long long extra_resolve)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .mode = (flags & O_CREAT) ? 0644 : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve,
    };
    const char *p = path;
    while (*p == '/')
        p++;
    long fd = syscall(SYS_openat2, rootfd, *p ? p : ".", &how, sizeof(how));
    return fd < 0 ? -errno : (int)fd;
}

const char *rt_fd_path(int fd, char *buf, size_t len)
{
    snprintf(buf, len, "/proc/self/fd/%d", fd);
    return buf;
}

/* Creates the last component of buf[0..end) in its parent, resolved inside the root. */
static int mkdir_last(int rootfd, char *buf, size_t end, mode_t mode, bool chown_to, uid_t uid,
                      gid_t gid)
{
    size_t slash = end;
    while (slash > 0 && buf[slash - 1] != '/')
        slash--;
    const char *name = buf + slash;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return -ENOENT;
    int pfd;
    if (slash == 0) {
        pfd = rt_in_root_open(rootfd, "/", O_PATH | O_DIRECTORY, 0);
    } else {
        buf[slash - 1] = 0;
        pfd = rt_in_root_open(rootfd, buf, O_PATH | O_DIRECTORY, 0);
        buf[slash - 1] = '/';
    }
    if (pfd < 0)
        return pfd;
    int r = 0;
    if (mkdirat(pfd, name, mode) < 0)
        r = errno == EEXIST ? 0 : -errno;
    else if (chown_to && fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        r = -errno;
    close(pfd);
    return r;
}

int rt_in_root_mkdir_p(int rootfd, const char *path, mode_t mode, bool chown_to, uid_t uid,
                       gid_t gid)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    size_t i = 0;
    while (i < len) {
        while (i < len && buf[i] == '/')
            i++;
        if (i == len)
            break;
        while (i < len && buf[i] != '/')
            i++;
        char saved = buf[i];
        buf[i] = 0;
        int fd = rt_in_root_open(rootfd, buf, O_PATH | O_DIRECTORY, 0);
        if (fd == -ENOENT) {
            int r = mkdir_last(rootfd, buf, i, mode, chown_to, uid, gid);
            if (r < 0)
                return r;
            fd = rt_in_root_open(rootfd, buf, O_PATH | O_DIRECTORY, 0);
        }
        buf[i] = saved;
        if (fd < 0)
            return fd;
        close(fd);
    }
    return 0;
}
