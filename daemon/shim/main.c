/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-shim <bundle>: start-up. Reads <bundle>/config.json, listens on <bundle>/shim.sock,
 * opens the json-file log, creates the container with its stdio on pipes (or a pty), writes
 * shim.pid, answers berthd on the sync pipe (fd 3) and hands over to the monitor loop. See
 * shim.h for the whole contract.
 */
#include "daemon/shim/shim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define SYNC_FD    3
#define CONFIG_MAX (4 * 1024 * 1024)

/* SIGCHLD is the container's exit; the others are ignored (berthd stops containers through
 * the protocol, and a terminal hangup or ^C must never take the monitor down). */
static const int shim_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};

static char *bundle_path(const struct shim *s, const char *name)
{
    return xasprintf("%s/%s", s->bundle, name);
}

static int load_config(struct shim *s, struct err **err)
{
    _cleanup_free_ char *path = bundle_path(s, "config.json");
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = fsu_read_file(path, CONFIG_MAX, &text, &len);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "read %s", path);
    json_error_t je;
    json_auto_t *j = json_loadb(text, len, 0, &je);
    if (!j)
        return err_set(err, ERR_INVALID, 0, "%s: invalid JSON: %s", path, je.text);
    return shim_config_decode(j, &s->cfg, err);
}

/* shim.sock, 0600 from birth (umask), non-blocking. */
static int listen_socket(struct shim *s, struct err **err)
{
    _cleanup_free_ char *path = bundle_path(s, "shim.sock");
    /* sun_path holds 108 bytes; a long exec root would not fit, so the socket is named
     * through an fd on the bundle directory. */
    _cleanup_free_ char *dir = bundle_path(s, "");
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/shim.sock", dfd);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "socket");
    (void)unlink(path);
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, errno, "bind %s", path);
    if (listen(fd, 64) < 0)
        return err_set(err, ERR_SYSTEM, errno, "listen %s", path);
    s->listen.kind = W_LISTEN;
    s->listen.fd = steal_fd(&fd);
    return 0;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The container's ends (closed once it runs); -1 is /dev/null for the runtime. */
static void child_stdio_close(struct shim *s)
{
    int *c = s->child_stdio;
    for (int i = 0; i < 3; i++)
        if (c[i] >= 0 && (i == 0 || c[i] != c[i - 1]))
            close(c[i]);
    c[0] = c[1] = c[2] = -1;
}

/*
 * The pty comes from the container's devpts when it is created (shim_create). Until then
 * stdin's sink holds a /dev/null placeholder (the sink only writes once the process exists),
 * replaced by a dup of the master under the same number.
 */
static int open_pty(struct shim *s, struct err **err)
{
    s->in.w.fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (s->in.w.fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open /dev/null");
    return 0;
}

/* s->pty owns the master (resize); output and stdin use dups of it. */
static int take_pty(struct shim *s, int m, struct err **err)
{
    s->pty = m;
    s->out.fd = fcntl(m, F_DUPFD_CLOEXEC, 3); /* pty output is logged as stdout */
    if (s->out.fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "dup the pty");
    if (s->in.w.fd >= 0 && dup3(m, s->in.w.fd, O_CLOEXEC) < 0)
        return err_set(err, ERR_SYSTEM, errno, "dup the pty");
    if (s->epfd >= 0 && shim_ep_ctl(s, EPOLL_CTL_ADD, &s->out, EPOLLIN) < 0)
        return err_set(err, ERR_SYSTEM, errno, "epoll_ctl");
    return 0;
}

static int open_pipes(struct shim *s, struct err **err)
{
    int po[2], pe[2], pi[2];
    if (pipe2(po, O_CLOEXEC) < 0)
        return err_set(err, ERR_SYSTEM, errno, "pipe");
    s->out.fd = po[0];
    s->child_stdio[1] = po[1];
    if (pipe2(pe, O_CLOEXEC) < 0)
        return err_set(err, ERR_SYSTEM, errno, "pipe");
    s->err.fd = pe[0];
    s->child_stdio[2] = pe[1];
    set_nonblock(po[0]);
    set_nonblock(pe[0]);
    if (s->cfg.open_stdin) {
        if (pipe2(pi, O_CLOEXEC) < 0)
            return err_set(err, ERR_SYSTEM, errno, "pipe");
        s->child_stdio[0] = pi[0];
        s->in.w.fd = pi[1];
        set_nonblock(pi[1]);
    }
    return 0;
}

/*
 * From here on every signal the shim cares about arrives through the signalfd. The
 * container's process and exec processes start with default handlers and an empty mask (the
 * runtime resets them in the child).
 */
static int signals_shim(struct shim *s, struct err **err)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < ARRAY_SIZE(shim_signals); i++)
        sigaddset(&set, shim_signals[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "signalfd");
    s->sig.kind = W_SIGNAL;
    s->sig.fd = fd;
    return 0;
}

int shim_create(struct shim *s, struct err **err)
{
    int m = -1;
    s->cfg.spec.console_h = s->cfg.console_h;
    s->cfg.spec.console_w = s->cfg.console_w;
    int r = rt_create(&s->cfg.spec, s->child_stdio[0], s->child_stdio[1], s->child_stdio[2],
                      &s->pid, &m, err);
    child_stdio_close(s);
    if (r < 0)
        return -1;
    if (m >= 0 && take_pty(s, m, err) < 0)
        return -1;       /* the caller kills the process */
    s->in.active = true; /* stdin queued before the start goes in now */
    if (s->epfd >= 0)
        shim_sink_pump(s, &s->in);
    return 0;
}

static void sync_reply(struct shim *s, const char *line)
{
    if (s->sync_fd < 0)
        return; /* started by hand, without a sync pipe */
    (void)fdu_write_all(s->sync_fd, line, strlen(line));
    close(s->sync_fd);
    s->sync_fd = -1;
}

static void sync_error(struct shim *s, const char *msg)
{
    json_auto_t *j = json_pack("{s:s}", "error", msg);
    if (!j)
        j = json_pack("{s:s}", "error", "berth-shim failed (unprintable message)");
    _cleanup_free_ char *body = json_dumps(j, JSON_COMPACT);
    _cleanup_free_ char *line = xasprintf("%s\n", body ? body : "{\"error\":\"berth-shim\"}");
    sync_reply(s, line);
}

static int write_pid_file(struct shim *s, struct err **err)
{
    _cleanup_free_ char *path = bundle_path(s, "shim.pid");
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    return fsu_write_atomic(path, buf, (size_t)n, 0644, err);
}

/*
 * Detached and in charge of orphans: a --pid host container's daemons are reaped here. Whether
 * fd 3 is the sync pipe is decided now, before any other fd could take that number.
 */
static void become_monitor(struct shim *s)
{
    if (getsid(0) != getpid())
        (void)setsid();
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    s->sync_fd = fcntl(SYNC_FD, F_GETFD) >= 0 ? SYNC_FD : -1;
    if (s->sync_fd >= 0)
        (void)fcntl(s->sync_fd, F_SETFD, FD_CLOEXEC);
    /* a closed 0-2 would be reused by the log or a pipe, and shim.log lines would land there */
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
            _exit(1);
    if (chdir("/") < 0)
        log_warn("chdir /: %s", strerror(errno));
}

static void shim_cleanup_files(struct shim *s)
{
    _cleanup_free_ char *sock = bundle_path(s, "shim.sock");
    _cleanup_free_ char *pid = bundle_path(s, "shim.pid");
    (void)unlink(sock);
    (void)unlink(pid);
}

/* Everything but the container's process: socket, log, stdio, signals, shim.pid. */
static int prepare(struct shim *s, struct err **err)
{
    if (load_config(s, err) < 0 || listen_socket(s, err) < 0)
        return -1;
    if (logs_writer_open(s->cfg.log_path, s->cfg.log_max_size, s->cfg.log_max_files, &s->log, err) <
        0)
        return err_wrap(err, "open log");
    if ((s->cfg.spec.tty ? open_pty(s, err) : open_pipes(s, err)) < 0)
        return -1;
    if (signals_shim(s, err) < 0)
        return -1;
    return write_pid_file(s, err);
}

static int start(struct shim *s, struct err **err)
{
    if (prepare(s, err) < 0)
        return -1;
    return s->cfg.wait_start ? 0 : shim_create(s, err);
}

/* Nothing may outlive a failed start: a container created before the failure is killed. */
static void start_failed(struct shim *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (s->cfg.spec.cgroup_path && s->cfg.spec.cgroup_path[0])
        (void)rt_cgroup_destroy(s->cfg.spec.cgroup_path, NULL);
}

int main(int argc, char **argv)
{
    log_setup(LOG_LVL_INFO, STDERR_FILENO);
    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: berth-shim <absolute bundle dir>\n");
        return 2;
    }
    struct shim *s = xcalloc(1, sizeof(*s));
    become_monitor(s);
    s->bundle = argv[1];
    s->epfd = -1;
    s->listen.fd = s->sig.fd = s->pty = -1;
    s->child_stdio[0] = s->child_stdio[1] = s->child_stdio[2] = -1;
    shim_sink_init(&s->in, -1);
    s->out = (struct shim_watch){W_STDOUT, -1};
    s->err = (struct shim_watch){W_STDERR, -1};
    struct err *err = NULL;
    int r = start(s, &err);
    if (r < 0) {
        log_error("start: %s", err->msg);
        sync_error(s, err->msg);
        err_freep(&err);
        child_stdio_close(s);
        start_failed(s);
    } else {
        char line[48];
        if (s->cfg.wait_start)
            snprintf(line, sizeof(line), "{\"status\":\"created\"}\n");
        else
            snprintf(line, sizeof(line), "{\"pid\":%d}\n", (int)s->pid);
        sync_reply(s, line);
        r = shim_monitor_run(s, &err);
        child_stdio_close(s);
        if (r < 0) {
            log_error("%s", err->msg);
            err_free(err);
        }
    }
    shim_cleanup_files(s);
    logs_writer_close(s->log);
    shim_config_release(&s->cfg);
    free(s);
    return r < 0 ? 1 : 0;
}
