/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rt_create: the parent prepares everything that needs memory (overlay options, envp), creates
 * the cgroup and clones the child into new namespaces. The child waits on a socketpair until
 * the parent has put it into the cgroup, then sets itself up and execs. The socket is
 * close-on-exec: the parent reads EOF when exec succeeded, or one message with the error.
 * The child uses raw syscalls for setgroups/setresuid/setresgid: glibc's versions broadcast to
 * the parent's threads, which do not exist in the child.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sys/uio.h>

#include "daemon/runtime/internal.h"

#define NOFILE_DEFAULT 1048576

/* ---- child ------------------------------------------------------------------------------- */

void rt_child_reset_signals(void)
{
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &sa, NULL);
}

int rt_child_setup_fds(const int stdio[3], int keep_fd, struct rt_cerr *ce)
{
    int fds[3];
    for (int i = 0; i < 3; i++) {
        int src = stdio[i];
        int tmp = -1;
        if (src < 0) {
            tmp = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (tmp < 0)
                return rt_cfail(ce, ERR_SYSTEM, errno, "open /dev/null");
            src = tmp;
        }
        fds[i] = fcntl(src, F_DUPFD_CLOEXEC, 3);
        if (fds[i] < 0)
            return rt_cfail(ce, ERR_SYSTEM, errno, "dup stdio");
        if (tmp >= 0)
            close(tmp);
    }
    for (int i = 0; i < 3; i++) {
        if (dup2(fds[i], i) < 0)
            return rt_cfail(ce, ERR_SYSTEM, errno, "dup2 stdio");
        close(fds[i]);
    }
    /* only 0-2 reach the process; the sync socket is close-on-exec */
    unsigned int s = (unsigned int)keep_fd;
    if ((s > 3 && close_range(3, s - 1, 0) < 0) || close_range(s + 1, ~0U, 0) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "close_range");
    return 0;
}

int rt_child_drop_privs(uint64_t caps, bool no_new_privs, const struct rt_user *u,
                        struct rt_cerr *ce)
{
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "keepcaps");
    for (int i = 0; i < 64; i++) {
        int have = prctl(PR_CAPBSET_READ, i, 0, 0, 0);
        if (have < 0)
            break;
        if (have == 1 && !(caps & (1ULL << i)) && prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0)
            return rt_cfail(ce, ERR_SYSTEM, errno, "drop capability %d from the bounding set", i);
    }
    if (syscall(SYS_setgroups, u->ngroups, u->groups) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "setgroups");
    if (syscall(SYS_setresgid, u->gid, u->gid, u->gid) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "setgid %u", (unsigned)u->gid);
    if (syscall(SYS_setresuid, u->uid, u->uid, u->uid) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "setuid %u", (unsigned)u->uid);

    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "capget");
    uint64_t have = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    uint64_t want = caps & have;
    memset(data, 0, sizeof(data));
    data[0].effective = data[0].permitted = (uint32_t)want;
    data[1].effective = data[1].permitted = (uint32_t)(want >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "capset");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "clear ambient capabilities");
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "no_new_privs");
    return 0;
}

int rt_child_open_pty(int sync_fd, int h, int w, int stdio[3], char *name, size_t len,
                      struct rt_cerr *ce)
{
    /* after pivot_root, /dev/ptmx is the container's pts/ptmx: the slave shows in its /dev/pts */
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open /dev/ptmx in the container");
    int unlock = 0;
    if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
        int e = errno;
        close(m);
        return rt_cfail(ce, ERR_SYSTEM, e, "unlock the pty");
    }
    unsigned int ptn = 0;
    if (ioctl(m, TIOCGPTN, &ptn) < 0) {
        int e = errno;
        close(m);
        return rt_cfail(ce, ERR_SYSTEM, e, "get the pty number");
    }
    snprintf(name, len, "/dev/pts/%u", ptn);
    int sl = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (sl < 0) /* kernels before 4.13: open it by name */
        sl = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (sl < 0) {
        int e = errno;
        close(m);
        return rt_cfail(ce, ERR_SYSTEM, e, "open the pty slave");
    }
    if (h > 0 && w > 0) {
        struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
        (void)ioctl(m, TIOCSWINSZ, &ws);
    }
    char tag = 'P';
    struct iovec iov = {.iov_base = &tag, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &m, sizeof(int));
    ssize_t r;
    while ((r = sendmsg(sync_fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    int e = errno;
    close(m);
    if (r != 1) {
        close(sl);
        return rt_cfail(ce, ERR_SYSTEM, e, "send the pty master");
    }
    stdio[0] = stdio[1] = stdio[2] = sl;
    return 0;
}

/*
 * The working directory, resolved in the new root (never through a magic link, so
 * /proc/self/fd/N cannot lead outside, CVE-2024-21626); created for the user when missing.
 */
static int child_open_cwd(const struct rt_child *c, const struct rt_user *u, struct rt_cerr *ce)
{
    const char *cwd = c->spec->cwd && *c->spec->cwd ? c->spec->cwd : "/";
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "open /");
    int fd = rt_in_root_open(rootfd, cwd, O_PATH | O_DIRECTORY, 0);
    if (fd == -ENOENT) {
        int r = rt_in_root_mkdir_p(rootfd, cwd, 0755, true, u->uid, u->gid);
        fd = r < 0 ? r : rt_in_root_open(rootfd, cwd, O_PATH | O_DIRECTORY, 0);
    }
    close(rootfd);
    if (fd < 0)
        return rt_cfail(ce, ERR_INVALID, -fd, "chdir to cwd \"%.300s\" set in config.json failed",
                        cwd);
    return fd;
}

int rt_child_exec(const int stdio[3], int keep_fd, bool tty, uint64_t caps, bool no_new_privs,
                  bool seccomp, const struct rt_user *u, char *const argv[], const char *path_env,
                  char *const envp[], struct rt_cerr *ce)
{
    int r;
    if ((r = rt_child_setup_fds(stdio, keep_fd, ce)) < 0)
        return r;
    if (setsid() < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "setsid");
    if (tty && ioctl(0, TIOCSCTTY, 0) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "set the controlling terminal");
    if (seccomp && (r = rt_child_seccomp(caps, ce)) < 0)
        return r;
    if ((r = rt_child_drop_privs(caps, no_new_privs, u, ce)) < 0)
        return r;
    char path[PATH_MAX];
    if ((r = rt_lookup_exec(argv[0], path_env, path, sizeof(path), ce)) < 0)
        return r;
    umask(022);
    execve(path, argv, envp);
    char eb[128];
    return rt_cfail(ce, ERR_INVALID, 0, "exec %.300s: %s", path,
                    rt_errno_text(errno, eb, sizeof(eb)));
}

void rt_child_set_home(char **envp, size_t envn, const struct rt_user *u, char *buf, size_t len)
{
    for (size_t i = 0; i < envn; i++)
        if (strncmp(envp[i], "HOME=", 5) == 0)
            return;
    snprintf(buf, len, "HOME=%s", u->home);
    envp[envn] = buf;
    envp[envn + 1] = NULL;
}

void rt_child_rlimits(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = rl.rlim_max < NOFILE_DEFAULT ? rl.rlim_max : NOFILE_DEFAULT;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
}

/* Namespaces joined or created after the parent moved us into the cgroup. */
static int child_namespaces(const struct rt_child *c, struct rt_cerr *ce)
{
    if (c->netns_fd >= 0 && setns(c->netns_fd, CLONE_NEWNET) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "join network namespace %.300s",
                        c->spec->netns_path);
    if ((c->spec->namespaces & RT_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "new cgroup namespace");
    return 0;
}

static int child_run(struct rt_child *c, struct rt_cerr *ce)
{
    const struct rt_spec *s = c->spec;
    char go = 0;
    ssize_t n;
    while ((n = read(c->sync_fd, &go, 1)) < 0 && errno == EINTR)
        ;
    if (n != 1)
        return rt_cfail(ce, ERR_SYSTEM, 0, "parent went away");
    int r = rt_cgroup_join_self(c->cg_fds, c->cg_nfds);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "join the container's cgroup");
    r = child_namespaces(c, ce);
    if (r < 0)
        return r;
    int rootfd = rt_child_mount_rootfs(c, ce);
    if (rootfd < 0)
        return rootfd;
    r = rt_child_pivot(rootfd, ce);
    close(rootfd);
    if (r < 0)
        return r;
    struct rt_user u;
    r = rt_user_resolve(AT_FDCWD, s->user, &u, ce);
    if (r < 0)
        return r;
    int cwdfd = child_open_cwd(c, &u, ce);
    if (cwdfd < 0)
        return cwdfd;
    r = rt_child_finish_mounts(c, ce);
    if (r < 0)
        return r;
    if (fchdir(cwdfd) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "chdir to cwd");
    close(cwdfd);
    if ((s->namespaces & RT_NS_UTS) && s->hostname && *s->hostname &&
        sethostname(s->hostname, strlen(s->hostname)) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "sethostname");
    rt_child_rlimits();
    char home[PATH_MAX + 8];
    rt_child_set_home(c->envp, c->envn, &u, home, sizeof(home));
    int stdio[3] = {c->stdio[0], c->stdio[1], c->stdio[2]};
    char pts[32];
    if (s->tty) {
        r = rt_child_open_pty(c->sync_fd, s->console_h, s->console_w, stdio, pts, sizeof(pts), ce);
        if (r < 0 || (!s->privileged && (r = rt_child_dev_console(pts, ce)) < 0))
            return r;
    }
    return rt_child_exec(stdio, c->sync_fd, s->tty, s->privileged ? RT_ALL_CAPS : s->caps,
                         s->no_new_privs, !s->privileged && !s->seccomp_unconfined, &u, s->argv,
                         c->path_env, c->envp, ce);
}

static _Noreturn void child_main(struct rt_child *c)
{
    struct rt_cerr ce;
    memset(&ce, 0, sizeof(ce));
    rt_child_reset_signals();
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    umask(0);
    if (c->sync_fd < 3) {
        int fd = fcntl(c->sync_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            _exit(127);
        c->sync_fd = fd;
    }
    child_run(c, &ce);
    rt_child_fail(c->sync_fd, &ce);
}

_Noreturn void rt_child_fail(int sync_fd, const struct rt_cerr *ce)
{
    char msg[RT_CERR_MSG_SIZE + 32];
    int n = snprintf(msg, sizeof(msg), "%d %d %s", (int)ce->kind, ce->errnum, ce->msg);
    if (n > 0)
        send(sync_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1, MSG_NOSIGNAL);
    _exit(127);
}

/* ---- parent ------------------------------------------------------------------------------ */

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static int spec_check(const struct rt_spec *s, struct err **err)
{
    if (!s->rootfs || !*s->rootfs)
        return err_set(err, ERR_INVALID, 0, "runtime spec: rootfs is required");
    if (strv_len(s->lowerdirs) == 0)
        return err_set(err, ERR_INVALID, 0, "runtime spec: no image layers (lowerdirs)");
    if (!s->upperdir != !s->workdir)
        return err_set(err, ERR_INVALID, 0, "runtime spec: upperdir and workdir go together");
    if (strv_len(s->argv) == 0)
        return err_set(err, ERR_INVALID, 0, "No command specified");
    if (s->cwd && *s->cwd && s->cwd[0] != '/')
        return err_set(err, ERR_INVALID, 0,
                       "the working directory '%s' is invalid, it needs to be an absolute path",
                       s->cwd);
    if (s->cwd && strlen(s->cwd) >= PATH_MAX)
        return err_set(err, ERR_INVALID, 0, "the working directory is too long");
    if (s->hostname && strlen(s->hostname) > 64)
        return err_set(err, ERR_INVALID, 0, "invalid hostname %s: too long", s->hostname);
    return 0;
}

/* "lowerdir=a:b,upperdir=u,workdir=w", or NULL when it does not fit in a page (lowerdir+). */
static int overlay_opts(const struct rt_spec *s, char **out, struct err **err)
{
    struct sb sb = SB_INIT;
    *out = NULL;
    sb_adds(&sb, "lowerdir=");
    for (char **l = s->lowerdirs; *l; l++) {
        if (strpbrk(*l, ",:\\\n")) {
            sb_release(&sb);
            return err_set(err, ERR_INVALID, 0, "layer path %s: unsupported character", *l);
        }
        if (l != s->lowerdirs)
            sb_addc(&sb, ':');
        sb_adds(&sb, *l);
    }
    if (s->upperdir) {
        if (strpbrk(s->upperdir, ",:\\\n") || strpbrk(s->workdir, ",:\\\n")) {
            sb_release(&sb);
            return err_set(err, ERR_INVALID, 0, "upperdir/workdir: unsupported character");
        }
        sb_addf(&sb, ",upperdir=%s,workdir=%s", s->upperdir, s->workdir);
    }
    long page = sysconf(_SC_PAGESIZE);
    if (sb.len + 1 <= (size_t)(page > 0 ? page : 4096))
        *out = sb_steal(&sb);
    sb_release(&sb);
    return 0;
}

struct prep {
    struct rt_child c;
    char *opts;
    char **envp;
    int netns_fd;
    int sv[2];
    int cg_fds[16];
    size_t cg_nfds;
};

static void prep_release(struct prep *p)
{
    free(p->opts);
    free(p->envp);
    if (p->netns_fd >= 0)
        close(p->netns_fd);
    for (int i = 0; i < 2; i++)
        if (p->sv[i] >= 0)
            close(p->sv[i]);
    while (p->cg_nfds > 0)
        close(p->cg_fds[--p->cg_nfds]);
}

static int prepare(const struct rt_spec *s, int in, int out, int errfd, struct prep *p,
                   struct err **err)
{
    if (overlay_opts(s, &p->opts, err) < 0)
        return -1;
    size_t n = strv_len(s->env);
    p->envp = xcalloc(n + 2, sizeof(*p->envp));
    const char *path_env = RT_DEFAULT_PATH;
    for (size_t i = 0; i < n; i++) {
        p->envp[i] = s->env[i];
        if (strncmp(s->env[i], "PATH=", 5) == 0)
            path_env = s->env[i] + 5;
    }
    if (s->netns_path && *s->netns_path) {
        p->netns_fd = open(s->netns_path, O_RDONLY | O_CLOEXEC);
        if (p->netns_fd < 0)
            return err_set(err, ERR_SYSTEM, errno, "open network namespace %s", s->netns_path);
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->sv) < 0)
        return err_set(err, ERR_SYSTEM, errno, "socketpair");
    int flags = CLONE_NEWNS;
    flags |= (s->namespaces & RT_NS_PID) ? CLONE_NEWPID : 0;
    flags |= (s->namespaces & RT_NS_UTS) ? CLONE_NEWUTS : 0;
    flags |= (s->namespaces & RT_NS_IPC) ? CLONE_NEWIPC : 0;
    flags |= ((s->namespaces & RT_NS_NET) && p->netns_fd < 0) ? CLONE_NEWNET : 0;
    p->c = (struct rt_child){
        .spec = s,
        .sync_fd = p->sv[1],
        .netns_fd = p->netns_fd,
        .stdio = {in, out, errfd},
        .overlay_opts = p->opts,
        .envp = p->envp,
        .envn = n,
        .path_env = path_env,
        .cgroup_version = rt_cgroup_version(),
        .clone_flags = flags,
    };
    return 0;
}

pid_t rt_clone(int flags)
{
    struct clone_args a;
    memset(&a, 0, sizeof(a));
    a.flags = (uint64_t)flags;
    a.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &a, sizeof(a));
    if (r < 0 && errno == ENOSYS)
        r = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
    return (pid_t)r;
}

/* The child's "<kind> <errno> <msg>" (n bytes in buf, which has room for a NUL) as *err. */
static int cerr_parse(char *buf, size_t n, const char *who, struct err **err)
{
    buf[n] = 0;
    int kind = ERR_SYSTEM, errnum = 0, off = 0;
    if (sscanf(buf, "%d %d %n", &kind, &errnum, &off) < 2 || kind < 0 || kind > ERR_SYSTEM)
        return err_set(err, ERR_SYSTEM, 0, "%s: %s", who, buf);
    return err_set(err, (enum err_kind)kind, errnum, "%s", buf + off);
}

int rt_await_exec(int fd, const char *who, struct err **err)
{
    char buf[RT_CERR_MSG_SIZE + 64];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return err_set(err, ERR_SYSTEM, errno, "read from %s", who);
    if (n == 0)
        return 0;
    return cerr_parse(buf, (size_t)n, who, err);
}

int rt_await_pty(int fd, const char *who, int *master, struct err **err)
{
    char buf[RT_CERR_MSG_SIZE + 64];
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return err_set(err, ERR_SYSTEM, errno, "read from %s", who);
    int got = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int f;
            memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (got < 0)
                got = f;
            else
                close(f);
        }
    }
    if (got >= 0 && n == 1 && buf[0] == 'P' && !(msg.msg_flags & MSG_CTRUNC)) {
        int fl = fcntl(got, F_GETFL);
        if (fl >= 0)
            (void)fcntl(got, F_SETFL, fl | O_NONBLOCK);
        *master = got;
        return 0;
    }
    if (got >= 0)
        close(got);
    if (n == 0)
        return err_set(err, ERR_SYSTEM, 0, "%s exited before sending its pty", who);
    if (got >= 0)
        return err_set(err, ERR_SYSTEM, 0, "%s: bad pty message", who);
    return cerr_parse(buf, (size_t)n, who, err);
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int rt_create(const struct rt_spec *spec, int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid,
              int *pty_master, struct err **err)
{
    struct prep p = {.netns_fd = -1, .sv = {-1, -1}};
    int master = -1;
    if (pty_master)
        *pty_master = -1;
    if (spec->tty && !pty_master)
        return err_set(err, ERR_INVALID, 0, "runtime spec: tty needs somewhere for the pty");
    bool cg = spec->cgroup_path && *spec->cgroup_path;
    if (spec_check(spec, err) < 0 || prepare(spec, stdin_fd, stdout_fd, stderr_fd, &p, err) < 0)
        goto fail;
    if (cg && rt_cgroup_create(spec->cgroup_path, &spec->resources, spec->privileged, err) < 0)
        goto fail;
    if (cg &&
        rt_cgroup_join_open(spec->cgroup_path, p.cg_fds, ARRAY_SIZE(p.cg_fds), &p.cg_nfds, err) < 0)
        goto fail_cg;
    p.c.cg_fds = p.cg_fds;
    p.c.cg_nfds = p.cg_nfds;
    pid_t child = rt_clone(p.c.clone_flags);
    if (child < 0) {
        err_set(err, ERR_SYSTEM, errno, "clone");
        goto fail_cg;
    }
    if (child == 0) {
        close(p.sv[0]);
        child_main(&p.c);
    }
    close(p.sv[1]);
    p.sv[1] = -1;
    /* v1: the child moves itself (cheaper, see rt_cgroup_join_open); v2: moved from here. */
    if (cg && p.cg_nfds == 0 && rt_cgroup_enter(spec->cgroup_path, child, err) < 0) {
        reap(child);
        goto fail_cg;
    }
    char go = 1;
    if (send(p.sv[0], &go, 1, MSG_NOSIGNAL) != 1 ||
        (spec->tty && rt_await_pty(p.sv[0], "the container's init", &master, err) < 0) ||
        rt_await_exec(p.sv[0], "the container's init", err) < 0) {
        if (err && !*err)
            err_set(err, ERR_SYSTEM, errno, "start the container's init");
        if (master >= 0)
            close(master);
        reap(child);
        goto fail_cg;
    }
    prep_release(&p);
    *pid = child;
    if (pty_master)
        *pty_master = master;
    return 0;
fail_cg:
    if (cg)
        rt_cgroup_destroy(spec->cgroup_path, NULL);
fail:
    prep_release(&p);
    return -1;
}
