/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's root file system as a directory fd, for cp and export. Nothing from the
 * container is ever executed and berthd never chroots (CVE-2019-14271): callers resolve every
 * path below the fd with openat2(RESOLVE_IN_ROOT). A running or paused container gives the
 * root of its init (/proc/<pid>/root: its mount namespace, binds included); a created or
 * stopped one gets its overlay mounted detached on the threadpool (rt_rootfs_open_detached),
 * shared by every holder. While any holder has the root the container cannot start (overlayfs
 * must not mount one upper dir twice): ctr_start answers 409.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "daemon/container/internal.h"
#include "daemon/runtime/runtime.h"

struct rootfs_waiter {
    ctr_rootfs_cb done;
    void *data;
    struct rootfs_waiter *next;
};

struct ctr_rootfs {
    struct ctr *c; /* referenced while the object lives */
    int fd;        /* O_PATH directory; -1 while mounting */
    unsigned int holds;
    struct rootfs_waiter *waiters;
    uv_work_t work;
    char **lowerdirs; /* the mount job's input */
    char *upper, *workdir, *tmp;
    struct err *err; /* the mount job's failure */
};

static void rootfs_free(struct ctr_rootfs *r)
{
    for (char **l = r->lowerdirs; l && *l; l++)
        free(*l);
    free(r->lowerdirs);
    free(r->upper);
    free(r->workdir);
    free(r->tmp);
    err_free(r->err);
    if (r->fd >= 0)
        close(r->fd);
    if (r->c->rootfs == r)
        r->c->rootfs = NULL;
    ctr_unref(r->c);
    free(r);
}

/* A dup of the shared fd for one holder (the holder closes it). */
static int rootfs_dup(struct ctr_rootfs *r, int *out, struct err **err)
{
    int fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "dup the container's root");
    *out = fd;
    return 0;
}

static void rootfs_mount_work(uv_work_t *w)
{
    struct ctr_rootfs *r = w->data;
    int fd = -1;
    if (rt_rootfs_open_detached(r->lowerdirs, r->upper, r->workdir, r->tmp, &fd, &r->err) == 0)
        r->fd = fd;
}

static void rootfs_mount_after(uv_work_t *w, int status)
{
    struct ctr_rootfs *r = w->data;
    struct rootfs_waiter *ws = r->waiters;
    r->waiters = NULL;
    if (status != 0 && !r->err)
        err_set(&r->err, ERR_SYSTEM, 0, "mount the container's root: cancelled");
    while (ws) {
        struct rootfs_waiter *next = ws->next;
        struct err *err = NULL;
        int fd = -1;
        if (r->err)
            ws->done(r->err, -1, ws->data);
        else if (rootfs_dup(r, &fd, &err) < 0)
            ws->done(err, -1, ws->data);
        else
            ws->done(NULL, fd, ws->data);
        if (r->err || err)
            r->holds--; /* a failed get is not balanced by a put */
        err_free(err);
        free(ws);
        ws = next;
    }
    if (r->holds == 0)
        rootfs_free(r);
}

/* The overlay of a container that is not running: lower layers top first, upper, work. */
static int rootfs_prepare_mount(struct ctr_store *st, struct ctr *c, struct ctr_rootfs *r,
                                struct err **err)
{
    _cleanup_free_ char *ref = xstrdup(c->image_id);
    const struct image *img = image_lookup(st->images, ref, err);
    if (!img)
        return -1;
    r->lowerdirs = xcalloc(img->nlayers + 1, sizeof(char *));
    for (size_t i = 0; i < img->nlayers; i++)
        r->lowerdirs[i] = image_layer_dir(st->images, img->chain_ids[img->nlayers - 1 - i]);
    r->upper = ctr_path(c, "rootfs/upper");
    r->workdir = ctr_path(c, "rootfs/work");
    r->tmp = xasprintf("%s/tmp", st->data_root);
    return 0;
}

static struct ctr_rootfs *rootfs_new(struct ctr *c)
{
    struct ctr_rootfs *r = xcalloc(1, sizeof(*r));
    r->c = c;
    r->fd = -1;
    ctr_ref(c);
    return r;
}

void ctr_rootfs_get(struct ctr_store *st, struct ctr *c, ctr_rootfs_cb done, void *data)
{
    struct err *err = NULL;
    struct ctr_rootfs *r = c->rootfs;
    int fd = -1;
    if (!r && (c->status == CTR_REMOVING || c->removed)) {
        err_set(&err, ERR_CONFLICT, 0, "container %s is being removed", c->name);
    } else if (!r && (c->status == CTR_RUNNING || c->status == CTR_PAUSED) && c->pid > 0) {
        /* the running container's own view, binds and all; never a path under it joined */
        _cleanup_free_ char *proc = xasprintf("/proc/%d/root", c->pid);
        fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            err_set(&err, ERR_SYSTEM, errno, "open the root of container %s", c->name);
        } else {
            r = c->rootfs = rootfs_new(c);
            r->fd = fd;
        }
    } else if (!r) {
        r = rootfs_new(c);
        if (rootfs_prepare_mount(st, c, r, &err) < 0) {
            rootfs_free(r);
            r = NULL;
        } else {
            c->rootfs = r;
            r->work.data = r;
            uv_queue_work(st->loop, &r->work, rootfs_mount_work, rootfs_mount_after);
        }
    }
    if (err) {
        done(err, -1, data);
        err_free(err);
        return;
    }
    r->holds++;
    if (r->fd < 0) {
        struct rootfs_waiter *w = xcalloc(1, sizeof(*w));
        w->done = done;
        w->data = data;
        w->next = r->waiters;
        r->waiters = w;
        return;
    }
    if (rootfs_dup(r, &fd, &err) < 0) {
        if (--r->holds == 0)
            rootfs_free(r);
        done(err, -1, data);
        err_free(err);
        return;
    }
    done(NULL, fd, data);
}

void ctr_rootfs_put(struct ctr *c)
{
    struct ctr_rootfs *r = c->rootfs;
    if (r && r->holds > 0 && --r->holds == 0 && r->fd >= 0)
        rootfs_free(r);
}

/* ---- the container's user, read from its own /etc/passwd and /etc/group ------------------- */

/* The file at path inside the root (at most 4 MiB), via openat2(RESOLVE_IN_ROOT). */
static int rootfs_read(int root_fd, const char *path, char **out, struct err **err)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    if (fd < 0) {
        *out = NULL;
        return errno == ENOENT ? 0 : err_set(err, ERR_SYSTEM, errno, "open %s", path);
    }
    _cleanup_close_ int f = (int)fd;
    struct stat st;
    if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (4 << 20))
        return err_set(err, ERR_INVALID, 0, "%s in the container is not a small regular file",
                       path);
    struct sb sb = SB_INIT;
    char buf[8192];
    ssize_t n;
    while ((n = read(f, buf, sizeof(buf))) > 0 && sb.len < (4u << 20))
        sb_add(&sb, buf, (size_t)n);
    if (n < 0) {
        sb_release(&sb);
        return err_set(err, ERR_SYSTEM, errno, "read %s", path);
    }
    sb_addc(&sb, '\0');
    *out = sb_steal(&sb);
    return 0;
}

static bool rootfs_number(const char *s, int64_t *out)
{
    char *end = NULL;
    if (!*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v >= UINT32_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/* In a passwd or group file, the line whose field 0 (name) or field 2 (id) is key: fields. */
static bool rootfs_find(char *text, const char *key, bool by_id, char *fields[4])
{
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {0};
        char *p = line;
        for (int i = 0; i < 4 && p; i++) {
            f[i] = p;
            p = strchr(p, ':');
            if (p)
                *p++ = '\0';
        }
        if (!f[2] || !f[0])
            continue;
        if (strcmp(by_id ? f[2] : f[0], key) == 0) {
            memcpy(fields, f, sizeof(f));
            return true;
        }
    }
    return false;
}

int ctr_rootfs_user(int root_fd, const char *user, int64_t *uid, int64_t *gid, struct err **err)
{
    _cleanup_free_ char *u = xstrdup(user);
    char *group = strchr(u, ':');
    if (group)
        *group++ = '\0';
    _cleanup_free_ char *passwd = NULL;
    _cleanup_free_ char *groups = NULL;
    char *f[4] = {0};
    *gid = 0;
    if (rootfs_read(root_fd, "/etc/passwd", &passwd, err) < 0)
        return -1;
    bool numeric = rootfs_number(u, uid);
    if (passwd && rootfs_find(passwd, u, numeric, f)) {
        if (!numeric && !rootfs_number(f[2], uid))
            return err_set(err, ERR_INVALID, 0, "invalid uid for user %s", u);
        if (f[3])
            (void)rootfs_number(f[3], gid);
    } else if (!numeric) {
        return err_set(err, ERR_INVALID, 0,
                       "unable to find user %s: no matching entries in passwd file", u);
    }
    if (!group || !*group)
        return 0;
    if (rootfs_number(group, gid))
        return 0;
    if (rootfs_read(root_fd, "/etc/group", &groups, err) < 0)
        return -1;
    if (!groups || !rootfs_find(groups, group, false, f) || !rootfs_number(f[2], gid))
        return err_set(err, ERR_INVALID, 0,
                       "unable to find group %s: no matching entries in group file", group);
    return 0;
}
