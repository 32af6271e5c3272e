/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stopped container's root for berthd (cp, export): its overlay mounted on a private
 * directory, opened, and detached at once, so nothing stays mounted on the host even if berthd
 * dies while the fd is in use; the fd keeps the detached mount alive until it is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "daemon/runtime/runtime.h"

/* "lowerdir=a:b,upperdir=u,workdir=w" (caller frees); ERR_INVALID when it cannot be written. */
static int rootfs_opts(char *const *lowerdirs, const char *upper, const char *work, char **out,
                       struct err **err)
{
    struct sb sb = SB_INIT;
    sb_adds(&sb, "lowerdir=");
    for (char *const *l = lowerdirs; *l; l++) {
        if (strpbrk(*l, ",:\\\n")) {
            sb_release(&sb);
            return err_set(err, ERR_INVALID, 0, "layer path %s: unsupported character", *l);
        }
        if (l != lowerdirs)
            sb_addc(&sb, ':');
        sb_adds(&sb, *l);
    }
    if (strpbrk(upper, ",:\\\n") || strpbrk(work, ",:\\\n")) {
        sb_release(&sb);
        return err_set(err, ERR_INVALID, 0, "upperdir/workdir: unsupported character");
    }
    sb_addf(&sb, ",upperdir=%s,workdir=%s", upper, work);
    long page = sysconf(_SC_PAGESIZE);
    if (sb.len + 1 > (size_t)(page > 0 ? page : 4096)) {
        sb_release(&sb);
        return err_set(err, ERR_INVALID, 0, "too many layers to mount the container's root");
    }
    *out = sb_steal(&sb);
    return 0;
}

int rt_rootfs_open_detached(char *const *lowerdirs, const char *upper, const char *work,
                            const char *tmp_dir, int *out, struct err **err)
{
    _cleanup_free_ char *opts = NULL;
    if (!lowerdirs || !lowerdirs[0])
        return err_set(err, ERR_INVALID, 0, "the container's image has no layers");
    if (rootfs_opts(lowerdirs, upper, work, &opts, err) < 0)
        return -1;
    _cleanup_free_ char *dir = xasprintf("%s/rootfs-XXXXXX", tmp_dir);
    if (!mkdtemp(dir))
        return err_set(err, ERR_SYSTEM, errno, "create %s", dir);
    int r = 0;
    /* nosuid/nodev: nothing here is ever executed, and no device node is opened through it */
    if (mount("overlay", dir, "overlay", MS_NOSUID | MS_NODEV, opts) < 0) {
        r = err_set(err, ERR_SYSTEM, errno, "mount the container's root");
    } else {
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int e = errno;
        if (umount2(dir, MNT_DETACH) < 0 && fd >= 0)
            log_warn("detach %s: %s", dir, strerror(errno));
        if (fd < 0)
            r = err_set(err, ERR_SYSTEM, e, "open the container's root");
        else
            *out = fd;
    }
    (void)rmdir(dir);
    return r;
}
