/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rt_exec: a new process inside a running container (docker exec). The parent opens the
 * container's namespaces from /proc/<init>/ns/ (only those that differ from its own), points
 * its pid_for_children at the container's pid namespace just for one clone and restores it at
 * once, so the child is born in the container's pid namespace without a second fork. The
 * child is not dumpable from its first instruction (no one in the container can ptrace it or
 * open its /proc/<pid>/exe or fds while it still holds host fds, CVE-2016-9962), waits until
 * the parent has put it into the container's cgroup, joins ipc, uts, net, cgroup and finally
 * the mount namespace (which makes the container's root its root and cwd), then resolves the
 * user and cwd inside that root, drops to the container's confinement, closes every fd but
 * 0-2 and execs. Errors travel back on a close-on-exec socket, as in rt_create.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "daemon/runtime/internal.h"

/* Joined by the child in this order (runc's nsexec order; the pid namespace is the parent's
 * business, the mount namespace comes last because it changes root and cwd). */
static const struct {
    const char *name;
    int flag;
} enter_ns[] = {
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
    {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};

#define ENTER_NNS ARRAY_SIZE(enter_ns)

struct enter {
    const struct rt_exec_spec *spec;
    int nsfd[ENTER_NNS]; /* -1: the same as ours, nothing to join */
    int pidns_fd;        /* the container's pid namespace, -1 when it is ours */
    int self_pidns_fd;   /* ours, to restore after the clone */
    int sv[2];
    int stdio[3];
    int cg_fds[16]; /* cgroup v1 "tasks" files (rt_cgroup_join_open) */
    size_t cg_nfds;
    char **envp; /* spec->env, one free slot for HOME, NULL */
    size_t envn;
    const char *path_env;
};

static void enter_release(struct enter *e)
{
    free(e->envp);
    int *fds[] = {&e->pidns_fd, &e->self_pidns_fd, &e->sv[0], &e->sv[1]};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    for (size_t i = 0; i < ENTER_NNS; i++)
        if (e->nsfd[i] >= 0)
            close(e->nsfd[i]);
    while (e->cg_nfds > 0)
        close(e->cg_fds[--e->cg_nfds]);
}

/* ---- child ------------------------------------------------------------------------------- */

static int enter_namespaces(const struct enter *e, struct rt_cerr *ce)
{
    for (size_t i = 0; i < ENTER_NNS; i++)
        if (e->nsfd[i] >= 0 && setns(e->nsfd[i], enter_ns[i].flag) < 0)
            return rt_cfail(ce, ERR_SYSTEM, errno, "join the container's %s namespace",
                            enter_ns[i].name);
    return 0;
}

/* The cwd resolved inside the container's root; never created, never through a magic link. */
static int enter_cwd(int rootfd, const char *cwd, struct rt_cerr *ce)
{
    const char *dir = cwd && *cwd ? cwd : "/";
    int fd = rt_in_root_open(rootfd, dir, O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        return rt_cfail(ce, ERR_INVALID, -fd, "chdir to cwd \"%.300s\" set in config.json failed",
                        dir);
    int r = fchdir(fd);
    int saved = errno;
    close(fd);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, saved, "chdir to cwd \"%.300s\"", dir);
    return 0;
}

static int enter_run(struct enter *e, int sync_fd, struct rt_cerr *ce)
{
    const struct rt_exec_spec *s = e->spec;
    char go = 0;
    ssize_t n;
    while ((n = read(sync_fd, &go, 1)) < 0 && errno == EINTR)
        ;
    if (n != 1)
        return rt_cfail(ce, ERR_SYSTEM, 0, "parent went away");
    int r = rt_cgroup_join_self(e->cg_fds, e->cg_nfds);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "join the container's cgroup");
    r = enter_namespaces(e, ce);
    if (r < 0)
        return r;
    /* after setns(mnt), "/" and the cwd are the container's root */
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open /");
    struct rt_user u;
    r = rt_user_resolve(rootfd, s->user, &u, ce);
    if (r == 0)
        r = enter_cwd(rootfd, s->cwd, ce);
    close(rootfd);
    if (r < 0)
        return r;
    rt_child_rlimits();
    char home[PATH_MAX + 8];
    rt_child_set_home(e->envp, e->envn, &u, home, sizeof(home));
    /* after setns(mnt), /dev/ptmx is the container's: the slave shows in its /dev/pts */
    char pts[32];
    if (s->tty && (r = rt_child_open_pty(sync_fd, s->console_h, s->console_w, e->stdio, pts,
                                         sizeof(pts), ce)) < 0)
        return r;
    return rt_child_exec(e->stdio, sync_fd, s->tty, s->privileged ? RT_ALL_CAPS : s->caps,
                         s->no_new_privs, !s->privileged && !s->seccomp_unconfined, &u, s->argv,
                         e->path_env, e->envp, ce);
}

static _Noreturn void enter_main(struct enter *e)
{
    /* first: nothing in the container may ptrace us or open our /proc entries */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct rt_cerr ce;
    memset(&ce, 0, sizeof(ce));
    rt_child_reset_signals();
    int sync_fd = e->sv[1];
    if (sync_fd < 3) {
        sync_fd = fcntl(sync_fd, F_DUPFD_CLOEXEC, 3);
        if (sync_fd < 0)
            _exit(127);
    }
    enter_run(e, sync_fd, &ce);
    rt_child_fail(sync_fd, &ce);
}

/* ---- parent ------------------------------------------------------------------------------ */

/* The container's namespace fd, or -1 when it is the same namespace as ours. */
static int open_ns(pid_t pid, const char *name, int *out, struct err **err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
    *out = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return err_set(err, ERR_CONFLICT, 0, "container is not running");
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", path);
    char self[64];
    snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
    struct stat a, b;
    if (fstat(fd, &a) < 0 || stat(self, &b) < 0) {
        int e = errno;
        close(fd);
        return err_set(err, ERR_SYSTEM, e, "stat the %s namespace", name);
    }
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        close(fd);
    else
        *out = fd;
    return 0;
}

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static int prepare(const struct rt_exec_spec *s, pid_t init_pid, struct enter *e, struct err **err)
{
    if (strv_len(s->argv) == 0)
        return err_set(err, ERR_INVALID, 0, "No exec command specified");
    if (init_pid <= 0)
        return err_set(err, ERR_CONFLICT, 0, "container is not running");
    e->envn = strv_len(s->env);
    e->envp = xcalloc(e->envn + 2, sizeof(*e->envp));
    e->path_env = RT_DEFAULT_PATH;
    for (size_t i = 0; i < e->envn; i++) {
        e->envp[i] = s->env[i];
        if (strncmp(s->env[i], "PATH=", 5) == 0)
            e->path_env = s->env[i] + 5;
    }
    for (size_t i = 0; i < ENTER_NNS; i++)
        if (open_ns(init_pid, enter_ns[i].name, &e->nsfd[i], err) < 0)
            return -1;
    if (open_ns(init_pid, "pid", &e->pidns_fd, err) < 0)
        return -1;
    if (e->pidns_fd >= 0) {
        e->self_pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (e->self_pidns_fd < 0)
            return err_set(err, ERR_SYSTEM, errno, "open /proc/self/ns/pid");
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, e->sv) < 0)
        return err_set(err, ERR_SYSTEM, errno, "socketpair");
    return 0;
}

static void kill_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Clones the child into the container's pid namespace; ours is restored before returning. */
static pid_t clone_in_pidns(struct enter *e, struct err **err)
{
    if (e->pidns_fd >= 0 && setns(e->pidns_fd, CLONE_NEWPID) < 0)
        return err_set(err, ERR_SYSTEM, errno, "join the container's pid namespace");
    pid_t child = rt_clone(0);
    int clone_errno = errno;
    if (child == 0)
        enter_main(e);
    if (e->pidns_fd >= 0 && setns(e->self_pidns_fd, CLONE_NEWPID) < 0) {
        int saved = errno;
        if (child > 0)
            kill_reap(child);
        return err_set(err, ERR_SYSTEM, saved, "restore the pid namespace");
    }
    if (child < 0)
        return err_set(err, ERR_SYSTEM, clone_errno, "clone");
    return child;
}

int rt_exec(const struct rt_exec_spec *spec, pid_t init_pid, int stdin_fd, int stdout_fd,
            int stderr_fd, pid_t *pid, int *pty_master, struct err **err)
{
    int master = -1;
    if (pty_master)
        *pty_master = -1;
    if (spec->tty && !pty_master)
        return err_set(err, ERR_INVALID, 0, "exec: tty needs somewhere for the pty");
    struct enter e = {
        .spec = spec,
        .pidns_fd = -1,
        .self_pidns_fd = -1,
        .sv = {-1, -1},
        .stdio = {stdin_fd, stdout_fd, stderr_fd},
    };
    for (size_t i = 0; i < ENTER_NNS; i++)
        e.nsfd[i] = -1;
    bool cg = spec->cgroup_path && *spec->cgroup_path;
    if (prepare(spec, init_pid, &e, err) < 0 ||
        (cg && rt_cgroup_join_open(spec->cgroup_path, e.cg_fds, ARRAY_SIZE(e.cg_fds), &e.cg_nfds,
                                   err) < 0)) {
        enter_release(&e);
        return -1;
    }
    pid_t child = clone_in_pidns(&e, err);
    if (child < 0) {
        enter_release(&e);
        return -1;
    }
    close(e.sv[1]);
    e.sv[1] = -1;
    char go = 1;
    if ((cg && e.cg_nfds == 0 && rt_cgroup_enter(spec->cgroup_path, child, err) < 0) ||
        send(e.sv[0], &go, 1, MSG_NOSIGNAL) != 1 ||
        (spec->tty && rt_await_pty(e.sv[0], "the exec process", &master, err) < 0) ||
        rt_await_exec(e.sv[0], "the exec process", err) < 0) {
        if (err && !*err)
            err_set(err, ERR_SYSTEM, errno, "start the exec process");
        if (master >= 0)
            close(master);
        kill_reap(child);
        enter_release(&e);
        return -1;
    }
    enter_release(&e);
    *pid = child;
    if (pty_master)
        *pty_master = master;
    return 0;
}
