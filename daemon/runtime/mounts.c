/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's mounts, between clone and exec (no allocation, no logging). Every target
 * inside the new root is opened with openat2(RESOLVE_IN_ROOT) and mounted through
 * /proc/self/fd/N, so a symlink in the image can never send a mount to the host (CVE-2015-3629,
 * CVE-2021-30465 class). /proc, /sys and /dev must be ordinary directories (CVE-2019-16884).
 *
 * /sys/fs/cgroup: on cgroup v2 the container gets a read-only cgroup2 mount of its cgroup
 * namespace; on v1 nothing is mounted there (sysfs's empty directory), as berth does not expose
 * the v1 hierarchies to containers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <linux/magic.h>

#include "daemon/runtime/internal.h"

static const char *const default_masked[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    NULL,
};

static const char *const default_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const struct {
    const char *name;
    unsigned int major, minor;
} dev_nodes[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
    const char *name, *target;
} dev_links[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

#define FDP_LEN 32

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* mount(2) onto the object fd refers to. */
static int mount_on_fd(const char *src, int fd, const char *fstype, unsigned long flags,
                       const char *data)
{
    char p[FDP_LEN];
    return mount(src, rt_fd_path(fd, p, sizeof(p)), fstype, flags, data) < 0 ? -errno : 0;
}

/*
 * A directory to mount on, inside rootfd; created when missing. strict: the last component
 * must be an ordinary directory, not a symlink (/proc, /sys, /dev).
 */
static int target_dir(int rootfd, const char *path, bool strict, struct rt_cerr *ce)
{
    int flags = O_PATH | (strict ? O_NOFOLLOW : O_DIRECTORY);
    int fd = rt_in_root_open(rootfd, path, flags, 0);
    if (fd == -ENOENT) {
        int r = rt_in_root_mkdir_p(rootfd, path, 0755, false, 0, 0);
        if (r < 0)
            return rt_cfail(ce, ERR_SYSTEM, -r, "mkdir %s in the container", path);
        fd = rt_in_root_open(rootfd, path, flags, 0);
    }
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, -fd, "mount destination %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
        close(fd);
        return rt_cfail(ce, ERR_INVALID, 0,
                        "mount destination %s: must be mounted on ordinary directory", path);
    }
    return fd;
}

/* A regular file to bind-mount on, inside rootfd; created (empty) when missing. */
static int target_file(int rootfd, const char *path, struct rt_cerr *ce)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        int r = rt_in_root_mkdir_p(rootfd, dir, 0755, false, 0, 0);
        if (r < 0)
            return rt_cfail(ce, ERR_SYSTEM, -r, "mkdir %s in the container", dir);
    }
    int fd = rt_in_root_open(rootfd, path, O_PATH, 0);
    if (fd == -ENOENT) {
        int wfd = rt_in_root_open(rootfd, path, O_CREAT | O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);
        if (wfd < 0)
            return rt_cfail(ce, ERR_SYSTEM, -wfd, "create %s in the container", path);
        close(wfd);
        fd = rt_in_root_open(rootfd, path, O_PATH, 0);
    }
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, -fd, "mount destination %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rt_cfail(ce, ERR_INVALID, 0, "mount destination %s: not a regular file", path);
    }
    return fd;
}

/* ---- the overlay root -------------------------------------------------------------------- */

static int overlay_fsopen(const struct rt_spec *s, struct rt_cerr *ce)
{
    int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "overlay: fsopen");
    int r = 0;
    for (char **l = s->lowerdirs; r == 0 && *l; l++)
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", *l, 0) < 0)
            r = rt_cfail(ce, ERR_SYSTEM, errno,
                         "overlay: too many layers for the mount options, and lowerdir+ failed "
                         "for %.300s",
                         *l);
    if (r == 0 && s->upperdir &&
        (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", s->upperdir, 0) < 0 ||
         fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", s->workdir, 0) < 0))
        r = rt_cfail(ce, ERR_SYSTEM, errno, "overlay: upperdir/workdir");
    if (r == 0 && fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        r = rt_cfail(ce, ERR_SYSTEM, errno, "overlay: create");
    int mfd = r == 0 ? fsmount(fsfd, FSMOUNT_CLOEXEC, 0) : -1;
    if (r == 0 && mfd < 0)
        r = rt_cfail(ce, ERR_SYSTEM, errno, "overlay: fsmount");
    if (r == 0 && move_mount(mfd, "", AT_FDCWD, s->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        r = rt_cfail(ce, ERR_SYSTEM, errno, "overlay: move_mount to %.300s", s->rootfs);
    close_fd(&mfd);
    close_fd(&fsfd);
    return r;
}

static int mount_overlay(const struct rt_child *c, struct rt_cerr *ce)
{
    const struct rt_spec *s = c->spec;
    if (!s->upperdir && s->lowerdirs[1] == NULL) {
        /* one read-only layer: overlay needs two lowerdirs without an upperdir */
        if (mount(s->lowerdirs[0], s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0 ||
            mount(NULL, s->rootfs, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
            return rt_cfail(ce, ERR_SYSTEM, errno, "bind %.300s", s->lowerdirs[0]);
        return 0;
    }
    if (!c->overlay_opts)
        return overlay_fsopen(s, ce);
    if (mount("overlay", s->rootfs, "overlay", 0, c->overlay_opts) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "mount overlay on %.300s", s->rootfs);
    return 0;
}

/* ---- /proc, /sys ------------------------------------------------------------------------- */

static int mount_proc_sys(const struct rt_child *c, int rootfd, struct rt_cerr *ce)
{
    const unsigned long common = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    int fd = target_dir(rootfd, "/proc", true, ce);
    if (fd < 0)
        return fd;
    int r = mount_on_fd("proc", fd, "proc", common, NULL);
    close(fd);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "mount proc on /proc");

    fd = target_dir(rootfd, "/sys", true, ce);
    if (fd < 0)
        return fd;
    unsigned long ro = c->spec->privileged ? 0 : MS_RDONLY;
    r = mount_on_fd("sysfs", fd, "sysfs", common | ro, NULL);
    close(fd);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "mount sysfs on /sys");
    if (c->cgroup_version != 2)
        return 0;
    fd = rt_in_root_open(rootfd, "/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, -fd, "open /sys/fs/cgroup");
    r = mount_on_fd("cgroup2", fd, "cgroup2", common | ro, NULL);
    close(fd);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "mount cgroup2 on /sys/fs/cgroup");
    return 0;
}

/* ---- /dev -------------------------------------------------------------------------------- */

/* mknod, or when that is refused, an empty file with the host's node bound over it. */
static int dev_node(int devfd, const char *name, unsigned int major, unsigned int minor,
                    struct rt_cerr *ce)
{
    if (mknodat(devfd, name, S_IFCHR | 0666, makedev(major, minor)) == 0)
        return 0;
    if (errno != EPERM)
        return rt_cfail(ce, ERR_SYSTEM, errno, "mknod /dev/%s", name);
    int wfd = openat(devfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (wfd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "create /dev/%s", name);
    close(wfd);
    int fd = openat(devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open /dev/%s", name);
    char host[64];
    snprintf(host, sizeof(host), "/dev/%s", name);
    int r = mount_on_fd(host, fd, NULL, MS_BIND, NULL);
    close(fd);
    return r < 0 ? rt_cfail(ce, ERR_SYSTEM, -r, "bind %s", host) : 0;
}

/* A directory in /dev (created unless create is false) with a file system mounted on it. */
static int dev_mount(int devfd, const char *name, bool create, const char *src, const char *fstype,
                     unsigned long flags, const char *data, struct rt_cerr *ce)
{
    if (create && mkdirat(devfd, name, 0755) < 0 && errno != EEXIST)
        return rt_cfail(ce, ERR_SYSTEM, errno, "mkdir /dev/%s", name);
    int fd = openat(devfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && !create && errno == ENOENT)
        return 0;
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open /dev/%s", name);
    int r = mount_on_fd(src, fd, fstype, flags, data);
    close(fd);
    return r < 0 ? rt_cfail(ce, ERR_SYSTEM, -r, "mount %s on /dev/%s", fstype, name) : 0;
}

/* With a tty, the pty slave is bound over /dev/console (as runc does); after pivot_root. */
int rt_child_dev_console(const char *slave, struct rt_cerr *ce)
{
    int devfd = open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (devfd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open /dev");
    int wfd = openat(devfd, "console", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (wfd < 0) {
        int e = errno;
        close(devfd);
        return rt_cfail(ce, ERR_SYSTEM, e, "create /dev/console");
    }
    close(wfd);
    int fd = openat(devfd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(devfd);
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, e, "open /dev/console");
    int r = mount_on_fd(slave, fd, NULL, MS_BIND, NULL);
    close(fd);
    return r < 0 ? rt_cfail(ce, ERR_SYSTEM, -r, "bind %.300s on /dev/console", slave) : 0;
}

static int dev_populate(const struct rt_child *c, int devfd, struct rt_cerr *ce)
{
    char shm[64];
    long long size = c->spec->shm_size > 0 ? c->spec->shm_size : RT_DEFAULT_SHM;
    snprintf(shm, sizeof(shm), "mode=1777,size=%lld", size);
    bool create = !c->spec->privileged; /* never create in the host's /dev */
    int r = 0;
    for (size_t i = 0; create && r == 0 && i < ARRAY_SIZE(dev_nodes); i++)
        r = dev_node(devfd, dev_nodes[i].name, dev_nodes[i].major, dev_nodes[i].minor, ce);
    for (size_t i = 0; create && r == 0 && i < ARRAY_SIZE(dev_links); i++)
        if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0)
            r = rt_cfail(ce, ERR_SYSTEM, errno, "symlink /dev/%s", dev_links[i].name);
    if (r == 0)
        r = dev_mount(devfd, "pts", create, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                      "newinstance,ptmxmode=0666,mode=0620,gid=5", ce);
    if (r == 0)
        r = dev_mount(devfd, "shm", create, "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm,
                      ce);
    if (r == 0)
        r = dev_mount(devfd, "mqueue", create, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      NULL, ce);
    return r;
}

static int mount_dev(const struct rt_child *c, int rootfd, struct rt_cerr *ce)
{
    int fd = target_dir(rootfd, "/dev", true, ce);
    if (fd < 0)
        return fd;
    int r;
    if (c->spec->privileged)
        r = mount_on_fd("/dev", fd, NULL, MS_BIND | MS_REC, NULL);
    else
        r = mount_on_fd("tmpfs", fd, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    close(fd);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "mount /dev");
    /* reopen: the fd above is the directory under the new mount */
    int devfd = rt_in_root_open(rootfd, "/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
    if (devfd < 0)
        return rt_cfail(ce, ERR_SYSTEM, -devfd, "open /dev");
    r = dev_populate(c, devfd, ce);
    close(devfd);
    return r;
}

/* ---- files from the container's directory ------------------------------------------------ */

static int mount_etc_files(const struct rt_spec *s, int rootfd, struct rt_cerr *ce)
{
    const struct {
        const char *src, *dst;
    } files[] = {
        {s->hostname_file, "/etc/hostname"},
        {s->hosts_file, "/etc/hosts"},
        {s->resolv_file, "/etc/resolv.conf"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        if (!files[i].src || !*files[i].src)
            continue;
        int fd = target_file(rootfd, files[i].dst, ce);
        if (fd < 0)
            return fd;
        int r = mount_on_fd(files[i].src, fd, NULL, MS_BIND, NULL);
        close(fd);
        if (r < 0)
            return rt_cfail(ce, ERR_SYSTEM, -r, "bind %.300s on %s", files[i].src, files[i].dst);
    }
    return 0;
}

/* ---- the user's mounts: binds from the host and tmpfs --------------------------------- */

static unsigned long kept_flags(int fd);

/* The host side, before pivot_root: opened (following the host's symlinks, as docker does);
 * for -v created as a directory when missing, for --mount an error as docker's. */
static int bind_source(const struct rt_mount *m, struct rt_cerr *ce)
{
    int fd = open(m->src, O_PATH | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && m->no_create)
        return rt_cfail(ce, ERR_INVALID, 0,
                        "invalid mount config for type \"bind\": bind source path does not "
                        "exist: %.300s",
                        m->src);
    if (fd < 0 && errno == ENOENT) {
        int hostfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (hostfd < 0)
            return rt_cfail(ce, ERR_SYSTEM, errno, "open /");
        int r = rt_in_root_mkdir_p(hostfd, m->src, 0755, false, 0, 0);
        close(hostfd);
        if (r < 0)
            return rt_cfail(ce, ERR_SYSTEM, -r, "create bind source %.300s", m->src);
        fd = open(m->src, O_PATH | O_CLOEXEC);
    }
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "bind source %.300s", m->src);
    return fd;
}

/* ---- a new volume gets what the image has where it is mounted (docker's copy-up) ---------- */

#define COPY_MAX_DEPTH 256

/* Owner, mode and times of st onto name in dirfd (a symlink: owner and times only). */
static int copy_meta(int dirfd, const char *name, const struct stat *st)
{
    bool link = S_ISLNK(st->st_mode);
    if (fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    /* after the chown, which clears the set-id bits */
    if (!link && fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
        return -errno;
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    return 0;
}

static int copy_file(int from, int to, const char *name, const struct stat *st)
{
    int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = errno;
        close(in);
        return -e;
    }
    int r = 0;
    for (off_t left = st->st_size; left > 0 && r == 0;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
            char buf[8192];
            n = read(in, buf, sizeof(buf));
            if (n > 0 && write(out, buf, (size_t)n) != n)
                n = -1;
        }
        if (n < 0)
            r = -errno;
        else if (n == 0)
            break; /* the file shrank meanwhile */
        else
            left -= n;
    }
    close(in);
    close(out);
    return r;
}

/* Copies what directory from holds into directory to (by descriptors: nothing is followed,
 * no mount below from is entered: dev is from's file system). */
static int copy_tree(int from, int to, dev_t dev, int depth)
{
    if (depth > COPY_MAX_DEPTH)
        return -ELOOP;
    char buf[4096];
    int r = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, from, buf, sizeof(buf));
        if (n < 0)
            return -errno;
        if (n == 0)
            return r;
        for (long off = 0; off < n && r == 0;) {
            struct linux_dirent64 {
                uint64_t d_ino;
                int64_t d_off;
                unsigned short d_reclen;
                unsigned char d_type;
                char d_name[];
            } *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            const char *name = d->d_name;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                continue;
            struct stat st;
            if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                break;
            }
            if (st.st_dev != dev && S_ISDIR(st.st_mode))
                continue; /* another file system mounted here (/proc, /dev...) */
            if (S_ISDIR(st.st_mode)) {
                if (mkdirat(to, name, 0700) < 0) {
                    r = -errno;
                    break;
                }
                int f = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int t = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = f < 0 || t < 0 ? -errno : copy_tree(f, t, dev, depth + 1);
                if (f >= 0)
                    close(f);
                if (t >= 0)
                    close(t);
            } else if (S_ISREG(st.st_mode)) {
                r = copy_file(from, to, name, &st);
            } else if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t len = readlinkat(from, name, target, sizeof(target) - 1);
                if (len < 0) {
                    r = -errno;
                    break;
                }
                target[len] = '\0';
                r = symlinkat(target, to, name) < 0 ? -errno : 0;
            } else {
                r = mknodat(to, name, st.st_mode, st.st_rdev) < 0 ? -errno : 0;
            }
            if (r == 0)
                r = copy_meta(to, name, &st);
        }
        if (r < 0)
            return r;
    }
}

/* True when the directory holds nothing but . and .. */
static bool dir_empty(int fd)
{
    char buf[512];
    long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
    for (long off = 0; off < n;) {
        const char *name = buf + off + 19; /* d_ino, d_off, d_reclen, d_type */
        unsigned short reclen;
        memcpy(&reclen, buf + off + 16, sizeof(reclen));
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
            return false;
        off += reclen;
    }
    return n >= 0;
}

/*
 * An empty volume mounted where the image has a directory gets that directory's content,
 * owner and mode first, as docker copies it (the volume's nocopy unset).
 */
static int copy_up(const struct rt_mount *m, int rootfd, struct rt_cerr *ce)
{
    int vol = open(m->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (vol < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open volume %.300s", m->src);
    int img = -1, r = 0;
    if (dir_empty(vol))
        img = rt_in_root_open(rootfd, m->dst, O_RDONLY | O_DIRECTORY, 0);
    struct stat st, root;
    if (img >= 0 && (fstat(img, &st) < 0 || fstat(rootfd, &root) < 0 ||
                     (st.st_dev == root.st_dev && st.st_ino == root.st_ino))) {
        close(img); /* the root itself: refused by the mount that follows */
        img = -1;
    }
    if (img >= 0) {
        r = copy_tree(img, vol, st.st_dev, 0);
        if (r == 0 && fstat(img, &st) == 0 &&
            (fchown(vol, st.st_uid, st.st_gid) < 0 || fchmod(vol, st.st_mode & 07777) < 0))
            r = -errno;
        close(img);
    }
    close(vol);
    return r < 0 ? rt_cfail(ce, ERR_SYSTEM, -r, "copy the image's %.300s into its volume", m->dst)
                 : 0;
}

/* Mounts m on the open target dst: a bind of the host source or a new tmpfs. */
/* A user's mount never lands on the root itself (a symlink or ".." in the image can resolve a
 * destination there): that would hide the container's whole file system. */
static int not_root(int rootfd, int fd, const char *dst, struct rt_cerr *ce)
{
    struct stat a, b;
    if (fstat(rootfd, &a) < 0 || fstat(fd, &b) < 0) {
        close(fd);
        return rt_cfail(ce, ERR_SYSTEM, errno, "stat %.300s", dst);
    }
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        close(fd);
        return rt_cfail(ce, ERR_INVALID, 0,
                        "invalid mount config: %.300s resolves to the container's root", dst);
    }
    return fd;
}

static int user_mount_on(const struct rt_mount *m, int rootfd, struct rt_cerr *ce)
{
    int dst, r;
    if (!m->src) {
        dst = target_dir(rootfd, m->dst, false, ce);
        if (dst >= 0)
            dst = not_root(rootfd, dst, m->dst, ce);
        if (dst < 0)
            return dst;
        r = mount_on_fd("tmpfs", dst, "tmpfs", m->flags | (m->ro ? MS_RDONLY : 0), m->data);
        close(dst);
        return r < 0 ? rt_cfail(ce, ERR_SYSTEM, -r, "mount tmpfs on %.300s", m->dst) : 0;
    }
    if (m->copy_up && (r = copy_up(m, rootfd, ce)) < 0)
        return r;
    int src = bind_source(m, ce);
    if (src < 0)
        return src;
    struct stat st;
    if (fstat(src, &st) < 0) {
        close(src);
        return rt_cfail(ce, ERR_SYSTEM, errno, "bind source %.300s", m->src);
    }
    dst = S_ISDIR(st.st_mode) ? target_dir(rootfd, m->dst, false, ce)
                              : target_file(rootfd, m->dst, ce);
    if (dst >= 0)
        dst = not_root(rootfd, dst, m->dst, ce);
    if (dst < 0) {
        close(src);
        return dst;
    }
    char sp[FDP_LEN];
    r = mount_on_fd(rt_fd_path(src, sp, sizeof(sp)), dst, NULL, MS_BIND | MS_REC, NULL);
    close(src);
    close(dst);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "bind %.300s on %.300s", m->src, m->dst);
    /* reopen: the fd above is what lies under the new mount */
    dst = rt_in_root_open(rootfd, m->dst, O_PATH, 0);
    if (dst < 0)
        return rt_cfail(ce, ERR_SYSTEM, -dst, "open %.300s", m->dst);
    r = mount_on_fd(NULL, dst, NULL, MS_REC | MS_PRIVATE, NULL);
    if (r == 0 && m->ro)
        r = mount_on_fd(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(dst), NULL);
    close(dst);
    return r < 0 ? rt_cfail(ce, ERR_SYSTEM, -r, "bind %.300s: %s", m->dst,
                            m->ro ? "remount read-only" : "make private")
                 : 0;
}

/*
 * Each mount lands where its destination resolves inside the root (a symlink in the image at
 * /target -> /etc means the container's /etc, never the host's: CVE-2015-3629), parents first.
 */
static int mount_user(const struct rt_spec *s, int rootfd, struct rt_cerr *ce)
{
    for (size_t i = 0; i < s->nmounts; i++) {
        int r = user_mount_on(&s->mounts[i], rootfd, ce);
        if (r < 0)
            return r;
    }
    return 0;
}

int rt_child_mount_rootfs(const struct rt_child *c, struct rt_cerr *ce)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "make / rslave");
    int r = mount_overlay(c, ce);
    if (r < 0)
        return r;
    int rootfd = open(c->spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open %.300s", c->spec->rootfs);
    r = mount_proc_sys(c, rootfd, ce);
    if (r == 0)
        r = mount_dev(c, rootfd, ce);
    if (r == 0)
        r = mount_etc_files(c->spec, rootfd, ce);
    if (r == 0)
        r = mount_user(c->spec, rootfd, ce);
    if (r < 0) {
        close(rootfd);
        return r;
    }
    return rootfd;
}

int rt_child_pivot(int rootfd, struct rt_cerr *ce)
{
    if (fchdir(rootfd) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "chdir to the new root");
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "pivot_root");
    /* the old root is stacked on "."; keep its unmount from propagating anywhere */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "make the old root rslave");
    if (umount2(".", MNT_DETACH) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "unmount the old root");
    if (chdir("/") < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "chdir /");
    return 0;
}

/* ---- after pivot_root -------------------------------------------------------------------- */

static unsigned long kept_flags(int fd)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (fstatvfs(fd, &sv) < 0)
        return 0;
    f |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
    f |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
    f |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
    f |= (sv.f_flag & ST_NOATIME) ? MS_NOATIME : 0;
    f |= (sv.f_flag & ST_NODIRATIME) ? MS_NODIRATIME : 0;
    f |= (sv.f_flag & ST_RELATIME) ? MS_RELATIME : 0;
    return f;
}

/* /dev/null of the new /dev, checked to be the 1:3 node before it is bound anywhere. */
static int open_devnull(int rootfd, struct rt_cerr *ce)
{
    int fd = rt_in_root_open(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
        if (fd >= 0)
            close(fd);
        return rt_cfail(ce, ERR_SYSTEM, 0, "/dev/null is not the null device");
    }
    return fd;
}

static int mask_path(int rootfd, int nullfd, const char *path, struct rt_cerr *ce)
{
    int fd = rt_in_root_open(rootfd, path, O_PATH, 0);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, -fd, "mask %.300s", path);
    struct stat st;
    int r = fstat(fd, &st) < 0 ? -errno : 0;
    if (r == 0 && S_ISDIR(st.st_mode)) {
        r = mount_on_fd("tmpfs", fd, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "size=0");
    } else if (r == 0) {
        char src[FDP_LEN];
        r = mount_on_fd(rt_fd_path(nullfd, src, sizeof(src)), fd, NULL, MS_BIND, NULL);
    }
    close(fd);
    return r < 0 ? rt_cfail(ce, ERR_SYSTEM, -r, "mask %.300s", path) : 0;
}

static int readonly_path(int rootfd, const char *path, struct rt_cerr *ce)
{
    int fd = rt_in_root_open(rootfd, path, O_PATH, 0);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, -fd, "read-only %.300s", path);
    char src[FDP_LEN];
    int r = mount_on_fd(rt_fd_path(fd, src, sizeof(src)), fd, NULL, MS_BIND | MS_REC, NULL);
    close(fd);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "bind %.300s", path);
    fd = rt_in_root_open(rootfd, path, O_PATH, 0);
    if (fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, -fd, "read-only %.300s", path);
    r = mount_on_fd(NULL, fd, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(fd), NULL);
    close(fd);
    return r < 0 ? rt_cfail(ce, ERR_SYSTEM, -r, "remount %.300s read-only", path) : 0;
}

static int finish_paths(const struct rt_child *c, int rootfd, struct rt_cerr *ce)
{
    const struct rt_spec *s = c->spec;
    if (s->privileged)
        return 0;
    const char *const *masked =
        s->masked_paths ? (const char *const *)s->masked_paths : default_masked;
    const char *const *ro =
        s->readonly_paths ? (const char *const *)s->readonly_paths : default_readonly;
    int nullfd = open_devnull(rootfd, ce);
    if (nullfd < 0)
        return nullfd;
    int r = 0;
    for (size_t i = 0; r == 0 && masked[i]; i++)
        r = mask_path(rootfd, nullfd, masked[i], ce);
    close(nullfd);
    for (size_t i = 0; r == 0 && ro[i]; i++)
        r = readonly_path(rootfd, ro[i], ce);
    return r;
}

int rt_child_finish_mounts(const struct rt_child *c, struct rt_cerr *ce)
{
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open /");
    int r = finish_paths(c, rootfd, ce);
    if (r == 0 && c->spec->readonly_rootfs &&
        mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(rootfd), NULL) < 0)
        r = rt_cfail(ce, ERR_SYSTEM, errno, "remount / read-only");
    close(rootfd);
    return r;
}
