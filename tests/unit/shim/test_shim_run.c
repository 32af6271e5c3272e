/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real berth-shim binary, started the way berthd starts it, running the busybox fixture
 * in real namespaces and cgroups. Needs root and build/fixtures (tests/fixtures/build.sh);
 * skips otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "api/api.h"
#include "daemon/logs/logs.h"
#include "daemon/shim/shim.h"

struct env {
    char dir[64];
    char bundle[128];
    char log[160];
    char exit_file[160];
    char id[65];
    char cgroup[128];
    pid_t shim;
    int pid; /* the container's */
    bool pid_gone;
    /* shim_config extras for the next write_config */
    bool open_stdin, stdin_once, wait_start;
    int console_h, console_w;
};

/* BERTH_FIXTURES in the environment overrides the build's (a sanitizer build has none). */
static const char *rootfs(void)
{
    static char path[512];
    const char *dir = getenv("BERTH_FIXTURES");
    snprintf(path, sizeof(path), "%s/busybox/rootfs", dir ? dir : BERTH_FIXTURES);
    return path;
}

#ifdef __SANITIZE_ADDRESS__
#define SHIM_MEM_MAX_KB (1L << 30) /* ASan's shadow memory: nothing to measure */
#else
#define SHIM_MEM_MAX_KB 1024L /* the target: under 1 MiB private */
#endif

static char *path_in(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        abort();
    return p;
}

static void mkdir_in(const char *dir, const char *name)
{
    char *p = path_in(dir, name);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
}

static int setup(void **state)
{
    struct stat st;
    if (geteuid() != 0 || stat(rootfs(), &st) < 0 || stat(BERTH_SHIM_BIN, &st) < 0) {
        fprintf(stderr, "skipped: needs root, %s and %s\n", rootfs(), BERTH_SHIM_BIN);
        *state = NULL;
        return 0;
    }
    struct env *e = calloc(1, sizeof(*e));
    strcpy(e->dir, "/tmp/berth-shimt-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->bundle, sizeof(e->bundle), "%s/bundle", e->dir);
    snprintf(e->log, sizeof(e->log), "%s/data/c-json.log", e->dir);
    snprintf(e->exit_file, sizeof(e->exit_file), "%s/data/exit.json", e->dir);
    mkdir_in(e->dir, "bundle");
    mkdir_in(e->dir, "data");
    mkdir_in(e->dir, "upper");
    mkdir_in(e->dir, "work");
    mkdir_in(e->dir, "merged");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(e->id, sizeof(e->id), "%016llx%016llx%016llx%016llx", (long long)getpid(),
             (long long)ts.tv_nsec, (long long)ts.tv_sec, 0xbe27ULL);
    snprintf(e->cgroup, sizeof(e->cgroup), "berth-test/%s", e->id);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    if (!e)
        return 0;
    if (e->shim > 0) {
        kill(e->shim, SIGKILL);
        waitpid(e->shim, NULL, 0);
    }
    if (e->pid > 0 && !e->pid_gone)
        kill(e->pid, SIGKILL);
    rt_cgroup_destroy(e->cgroup, NULL);
    char *merged = path_in(e->dir, "merged");
    umount2(merged, MNT_DETACH);
    free(merged);
    fsu_rmtree(e->dir, NULL);
    free(e);
    return 0;
}

#define SKIP_UNLESS_READY(e)                                                                       \
    do {                                                                                           \
        if (!(e))                                                                                  \
            skip();                                                                                \
    } while (0)

static char **strv3(const char *a, const char *b, const char *c)
{
    char **v = calloc(4, sizeof(*v));
    v[0] = strdup(a);
    v[1] = b ? strdup(b) : NULL;
    v[2] = b && c ? strdup(c) : NULL;
    return v;
}

/* Writes <bundle>/config.json for `sh -c script`. */
static void write_config_ns(struct env *e, const char *script, bool tty, int64_t max_size,
                            unsigned ns)
{
    struct shim_config c = {0};
    c.spec.id = strdup(e->id);
    c.spec.lowerdirs = strv3(rootfs(), NULL, NULL);
    c.spec.upperdir = path_in(e->dir, "upper");
    c.spec.workdir = path_in(e->dir, "work");
    c.spec.rootfs = path_in(e->dir, "merged");
    c.spec.argv = strv3("sh", "-c", script);
    c.spec.env = strv3("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "HOME=/root", NULL);
    c.spec.cwd = strdup("/");
    c.spec.user = strdup("");
    c.spec.hostname = strdup("shimtest");
    c.spec.tty = tty;
    c.spec.namespaces = ns;
    c.spec.caps = RT_DEFAULT_CAPS;
    c.spec.cgroup_path = strdup(e->cgroup);
    c.log_path = strdup(e->log);
    c.log_max_size = max_size;
    c.log_max_files = LOGS_DEFAULT_MAX_FILES;
    c.exit_file = strdup(e->exit_file);
    c.open_stdin = e->open_stdin;
    c.stdin_once = e->stdin_once;
    c.wait_start = e->wait_start;
    c.console_h = e->console_h;
    c.console_w = e->console_w;
    json_auto_t *j = shim_config_encode(&c);
    char *text = json_dumps(j, JSON_COMPACT);
    char *path = path_in(e->bundle, "config.json");
    assert_int_equal(fsu_write_atomic(path, text, strlen(text), 0600, NULL), 0);
    free(path);
    free(text);
    shim_config_release(&c);
}

static void write_config(struct env *e, const char *script, bool tty, int64_t max_size)
{
    write_config_ns(e, script, tty, max_size,
                    RT_NS_PID | RT_NS_MOUNT | RT_NS_UTS | RT_NS_IPC | RT_NS_NET | RT_NS_CGROUP);
}

/* Reads until '\n' or EOF within timeout_ms; returns the length or -1. */
static ssize_t read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0)
            return -1;
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            break;
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Starts berth-shim as berthd does: fds 0-2 /dev/null + shim.log, fd 3 the sync pipe. */
static void start_shim(struct env *e, char *line, size_t cap)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char *log = path_in(e->bundle, "shim.log");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int sync = fcntl(p[1], F_DUPFD, 10);
        dup2(nul, 0);
        dup2(lfd, 1);
        dup2(lfd, 2);
        dup2(sync, 3);
        close(sync);
        close(nul);
        close(lfd);
        setsid();
        execl(BERTH_SHIM_BIN, "berth-shim", e->bundle, (char *)NULL);
        _exit(127);
    }
    free(log);
    close(p[1]);
    e->shim = pid;
    assert_true(read_line(p[0], line, cap, 20000) > 0);
    char rest[8];
    assert_int_equal(read(p[0], rest, sizeof(rest)), 0); /* then the shim closes it */
    close(p[0]);
}

static void start_ok(struct env *e)
{
    char line[4096];
    start_shim(e, line, sizeof(line));
    int pid = 0;
    if (sscanf(line, "{\"pid\":%d}", &pid) != 1) {
        char *log = path_in(e->bundle, "shim.log");
        char *text = NULL;
        fsu_read_file(log, 1 << 20, &text, NULL);
        fprintf(stderr, "sync: %s\nshim.log: %s\n", line, text ? text : "");
        free(text);
        free(log);
        fail();
    }
    assert_true(pid > 0);
    e->pid = pid;
}

static int shim_connect(struct env *e)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(e->bundle) + 11 < sizeof(sa.sun_path));
    memcpy(sa.sun_path, e->bundle, strlen(e->bundle));
    memcpy(sa.sun_path + strlen(e->bundle), "/shim.sock", 11);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_req(int fd, const char *op, int sig)
{
    struct api_shim_msg m = {.op = (char *)op, .signal = sig};
    char *s = api_shim_encode(&m);
    assert_int_equal(fdu_write_all(fd, s, strlen(s)), 0);
    free(s);
}

static void recv_msg(int fd, struct api_shim_msg *m, int timeout_ms)
{
    char line[4096];
    ssize_t n = read_line(fd, line, sizeof(line), timeout_ms);
    assert_true(n > 0);
    struct err *err = NULL;
    assert_int_equal(api_shim_decode(line, (size_t)n - 1, m, &err), 0);
}

/* The shim exits 0 on its own, and leaves no socket, pid file or cgroup behind. */
static void assert_shim_gone(struct env *e)
{
    int st = 0;
    for (int i = 0; i < 200; i++) {
        pid_t r = waitpid(e->shim, &st, WNOHANG);
        if (r == e->shim)
            break;
        assert_int_equal(r, 0);
        usleep(50000);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char *log = path_in(e->bundle, "shim.log");
        char *text = NULL;
        fsu_read_file(log, 1 << 20, &text, NULL);
        fprintf(stderr, "shim status %#x, shim.log:\n%s\n", st, text ? text : "");
        free(text);
        free(log);
    }
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    e->shim = 0;
    struct stat sb;
    char *sock = path_in(e->bundle, "shim.sock");
    char *pidf = path_in(e->bundle, "shim.pid");
    assert_int_equal(stat(sock, &sb), -1);
    assert_int_equal(stat(pidf, &sb), -1);
    free(sock);
    free(pidf);
    char cg[256];
    if (rt_cgroup_version() == 2)
        snprintf(cg, sizeof(cg), "/sys/fs/cgroup/%s", e->cgroup);
    else
        snprintf(cg, sizeof(cg), "/sys/fs/cgroup/pids/%s", e->cgroup);
    assert_int_equal(stat(cg, &sb), -1);
    assert_int_equal(kill(e->pid, 0), -1);
    e->pid_gone = true;
}

static void assert_exit_file(struct env *e, int code)
{
    char *text = NULL;
    /* The shim writes it just after it reports the exit: allow it a moment. */
    for (int i = 0; i < 500 && access(e->exit_file, F_OK) < 0; i++)
        usleep(10000);
    if (fsu_read_file(e->exit_file, 4096, &text, NULL) < 0) {
        char *log = path_in(e->bundle, "shim.log");
        fsu_read_file(log, 1 << 20, &text, NULL);
        fail_msg("no exit file %s; shim.log: %s", e->exit_file, text ? text : "");
    }
    json_auto_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), code);
    assert_true(json_is_false(json_object_get(j, "oom_killed")));
    assert_int_equal(json_integer_value(json_object_get(j, "pid")), e->pid);
    assert_non_null(json_string_value(json_object_get(j, "finished_at")));
    free(text);
}

struct collected {
    struct sb out, err;
    long entries, big;
    size_t bytes, max_len;
};

static int collect(const struct logs_entry *en, void *data)
{
    struct collected *c = data;
    c->entries++;
    c->bytes += en->len;
    if (en->len > c->max_len)
        c->max_len = en->len;
    c->big += en->len == LOGS_LINE_MAX;
    if (c->out.len + c->err.len < 4096)
        sb_add(en->stream == LOGS_STDOUT ? &c->out : &c->err, en->data, en->len);
    return 0;
}

static void read_log(struct env *e, struct collected *c)
{
    struct logs_query q = {.out = true, .err = true, .tail = -1};
    memset(c, 0, sizeof(*c));
    assert_int_equal(logs_read(e->log, &q, collect, c, NULL, NULL), 0);
}

/* What the container wrote to stdout, as its log file has it, is want. */
static void assert_log_out(struct env *e, const char *want)
{
    struct collected c;
    read_log(e, &c);
    assert_string_equal(sb_str(&c.out), want);
    sb_release(&c.out);
    sb_release(&c.err);
}

/* A "state" request on fd answers status. */
static void assert_state(int fd, const char *status)
{
    struct api_shim_msg m;
    send_req(fd, "state", 0);
    recv_msg(fd, &m, 5000);
    assert_string_equal(m.status, status);
    api_shim_release(&m);
}

static void test_exit_code_logs_and_cleanup(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "echo out $$; echo err >&2; sleep 1; exit 3", false, 0);
    start_ok(e);
    char *pidf = path_in(e->bundle, "shim.pid");
    char *text = NULL;
    assert_int_equal(fsu_read_file(pidf, 64, &text, NULL), 0);
    assert_int_equal(atoi(text), e->shim);
    free(text);
    free(pidf);
    struct stat st;
    char *sock = path_in(e->bundle, "shim.sock");
    assert_int_equal(stat(sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(sock);

    char cg[256];
    if (rt_cgroup_version() == 2)
        snprintf(cg, sizeof(cg), "/sys/fs/cgroup/%s", e->cgroup);
    else
        snprintf(cg, sizeof(cg), "/sys/fs/cgroup/pids/%s", e->cgroup);
    assert_int_equal(stat(cg, &st), 0); /* the container runs in its cgroup */

    int fd = shim_connect(e);
    struct api_shim_msg m;
    send_req(fd, "state", 0);
    recv_msg(fd, &m, 5000);
    assert_string_equal(m.status, "running");
    assert_int_equal(m.pid, e->pid);
    api_shim_release(&m);
    send_req(fd, "bogus", 0);
    recv_msg(fd, &m, 5000);
    assert_non_null(m.error);
    api_shim_release(&m);
    send_req(fd, "wait", 0);
    recv_msg(fd, &m, 10000);
    assert_string_equal(m.status, "exited");
    assert_int_equal(m.exit_code, 3);
    assert_false(m.oom_killed);
    assert_non_null(m.finished_at);
    api_shim_release(&m);
    close(fd);

    assert_exit_file(e, 3);
    assert_shim_gone(e);
    struct collected c;
    read_log(e, &c);
    assert_int_equal(c.entries, 2);
    assert_string_equal(sb_str(&c.out), "out 1\n"); /* pid 1 in its own pid namespace */
    assert_string_equal(sb_str(&c.err), "err\n");
    sb_release(&c.out);
    sb_release(&c.err);
}

static long private_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long total = 0, v;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "Private_Clean: %ld kB", &v) == 1 ||
            sscanf(line, "Private_Dirty: %ld kB", &v) == 1)
            total += v;
    }
    fclose(f);
    return total;
}

static void test_kill_through_protocol(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "echo started; exec sleep 1000", false, 0);
    start_ok(e);
    usleep(100000);
    long kb = private_kb(e->shim);
    fprintf(stderr, "berth-shim private memory (idle): %ld KiB\n", kb);
    assert_true(kb > 0 && kb < SHIM_MEM_MAX_KB);
    int fd = shim_connect(e);
    struct api_shim_msg m;
    send_req(fd, "kill", 0);
    recv_msg(fd, &m, 5000);
    assert_non_null(m.error); /* invalid signal */
    api_shim_release(&m);
    send_req(fd, "kill", SIGKILL);
    recv_msg(fd, &m, 5000);
    assert_string_equal(m.status, "running");
    api_shim_release(&m);
    send_req(fd, "wait", 0);
    recv_msg(fd, &m, 10000);
    assert_string_equal(m.status, "exited");
    assert_int_equal(m.exit_code, 128 + SIGKILL);
    api_shim_release(&m);
    close(fd);
    assert_exit_file(e, 137);
    assert_shim_gone(e);
}

/* A client that goes away mid-wait is dropped; the others are served. */
static void test_client_disconnects_mid_wait(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "exec sleep 1000", false, 0);
    start_ok(e);
    for (int i = 0; i < 20; i++) {
        int fd = shim_connect(e);
        send_req(fd, "wait", 0);
        if (i % 2)
            send_req(fd, "state", 0);
        close(fd);
    }
    int silent = shim_connect(e); /* never reads: must not block the shim */
    for (int i = 0; i < 100; i++)
        send_req(silent, "state", 0);
    int fd = shim_connect(e);
    struct api_shim_msg m;
    assert_state(fd, "running");
    int waiter = shim_connect(e);
    send_req(waiter, "wait", 0);
    send_req(fd, "kill", SIGKILL);
    recv_msg(fd, &m, 5000);
    api_shim_release(&m);
    recv_msg(waiter, &m, 10000);
    assert_string_equal(m.status, "exited");
    assert_int_equal(m.exit_code, 137);
    api_shim_release(&m);
    close(fd);
    close(waiter);
    close(silent);
    assert_shim_gone(e);
}

/* 50 MB without a newline: 16 KiB entries, nothing lost, and the shim stays small. */
static void test_unbounded_output(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | tr -d '\\n' | head -c 50000000", false,
                 LOGS_DEFAULT_MAX_SIZE);
    start_ok(e);
    int fd = shim_connect(e);
    send_req(fd, "wait", 0);
    long max_kb = 0;
    char line[4096];
    for (;;) {
        long kb = private_kb(e->shim);
        if (kb > max_kb)
            max_kb = kb;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) == 1)
            break;
    }
    ssize_t n = read_line(fd, line, sizeof(line), 1000);
    assert_true(n > 0);
    assert_non_null(strstr(line, "\"exit_code\":0"));
    close(fd);
    fprintf(stderr, "berth-shim private memory (max while logging 50 MB): %ld KiB\n", max_kb);
    assert_true(max_kb > 0 && max_kb < SHIM_MEM_MAX_KB);
    assert_shim_gone(e);
    struct collected c;
    read_log(e, &c);
    assert_int_equal(c.bytes, 50000000);
    assert_int_equal(c.max_len, LOGS_LINE_MAX);
    assert_int_equal(c.big, 50000000 / LOGS_LINE_MAX);
    assert_int_equal(c.entries, 50000000 / LOGS_LINE_MAX + 1);
    char *p1 = NULL;
    assert_true(asprintf(&p1, "%s.1", e->log) > 0);
    struct stat st;
    assert_int_equal(stat(p1, &st), 0); /* rotated at the default 20 MB */
    assert_true(st.st_size <= LOGS_DEFAULT_MAX_SIZE);
    free(p1);
    sb_release(&c.out);
    sb_release(&c.err);
}

static void test_tty(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "test -t 0 && test -t 1 && echo tty; tty", true, 0);
    start_ok(e);
    int fd = shim_connect(e);
    struct api_shim_msg m;
    send_req(fd, "wait", 0);
    recv_msg(fd, &m, 10000);
    assert_int_equal(m.exit_code, 0);
    api_shim_release(&m);
    close(fd);
    assert_shim_gone(e);
    /* the pty's onlcr, as docker logs it; the pty is the container's own devpts's */
    assert_log_out(e, "tty\r\n/dev/pts/0\r\n");
}

/* Nobody connected (berthd away): the exit is still recorded, and the shim goes. */
static void test_exit_with_nobody_listening(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "echo bye; exit 7", false, 0);
    start_ok(e);
    assert_shim_gone(e);
    assert_exit_file(e, 7);
    assert_log_out(e, "bye\n");
}

/*
 * --pid host: a background child outlives the main process and keeps the stdout pipe open.
 * The shim reports the exit once the drain times out (about 2 s), not when the child ends.
 */
static void test_lingering_writer_pid_host(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config_ns(e, "sleep 30 & echo main done", false, 0,
                    RT_NS_MOUNT | RT_NS_UTS | RT_NS_IPC | RT_NS_NET);
    start_ok(e);
    int fd = shim_connect(e);
    struct api_shim_msg m;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    send_req(fd, "wait", 0);
    recv_msg(fd, &m, 10000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(m.exit_code, 0);
    api_shim_release(&m);
    close(fd);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "exit reported after %.2f s\n", secs);
    assert_true(secs > 1.5 && secs < 5);
    assert_shim_gone(e); /* and the cgroup, with the sleep in it, is gone */
    assert_log_out(e, "main done\n");
}

static void test_start_failure(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "true", false, 0);
    /* replace argv with a missing binary */
    char *path = path_in(e->bundle, "config.json");
    json_auto_t *j = json_load_file(path, 0, NULL);
    json_t *argv = json_object_get(json_object_get(j, "spec"), "argv");
    json_array_clear(argv);
    json_array_append_new(argv, json_string("/nonexistent"));
    assert_int_equal(json_dump_file(j, path, 0), 0);
    free(path);
    char line[4096];
    start_shim(e, line, sizeof(line));
    assert_non_null(strstr(line, "{\"error\":"));
    assert_non_null(strstr(line, "/nonexistent"));
    int st;
    assert_int_equal(waitpid(e->shim, &st, 0), e->shim);
    e->shim = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    struct stat sb;
    char *sock = path_in(e->bundle, "shim.sock");
    assert_int_equal(stat(sock, &sb), -1);
    free(sock);
}

/* ---- interactive ops: start, attach, resize, exec ---------------------------------------- */

static void send_msg(int fd, const struct api_shim_msg *m)
{
    char *s = api_shim_encode(m);
    assert_int_equal(fdu_write_all(fd, s, strlen(s)), 0);
    free(s);
}

/* wait_start: the sync line is {"status":"created"}; the container runs after `start`. */
static void start_created(struct env *e)
{
    char line[4096];
    start_shim(e, line, sizeof(line));
    assert_string_equal(line, "{\"status\":\"created\"}\n");
}

static void op_start_ok(struct env *e)
{
    int fd = shim_connect(e);
    struct api_shim_msg m;
    assert_state(fd, "created");
    send_req(fd, "kill", SIGKILL);
    recv_msg(fd, &m, 5000);
    assert_non_null(m.error); /* nothing to kill yet */
    api_shim_release(&m);
    send_req(fd, "start", 0);
    recv_msg(fd, &m, 20000);
    if (!m.status)
        fail_msg("start: %s", m.error ? m.error : "?");
    assert_string_equal(m.status, "running");
    assert_true(m.pid > 0);
    e->pid = m.pid;
    api_shim_release(&m);
    send_req(fd, "start", 0);
    recv_msg(fd, &m, 5000);
    assert_non_null(m.error); /* once only */
    api_shim_release(&m);
    close(fd);
}

/* A stream connection: the answer line is read byte by byte, so no frame byte is lost. */
static int attach(struct env *e, bool in, bool out, bool err)
{
    int fd = shim_connect(e);
    struct api_shim_msg m = {.op = "attach", .stdin_ = in, .stdout_ = out, .stderr_ = err};
    send_msg(fd, &m);
    struct api_shim_msg a;
    recv_msg(fd, &a, 5000);
    assert_true(a.ok);
    api_shim_release(&a);
    return fd;
}

struct frames {
    struct sb out, err;
    int exit_code; /* -1 until the exit frame */
    bool eof;
};

static bool read_full(int fd, void *buf, size_t len, int timeout_ms)
{
    size_t n = 0;
    while (n < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0)
            fail_msg("stream timed out");
        ssize_t r = read(fd, (char *)buf + n, len - n);
        if (r <= 0)
            return false;
        n += (size_t)r;
    }
    return true;
}

/* Reads frames until the exit frame and EOF (or until `until` shows in stdout). */
static void read_frames(int fd, struct frames *f, const char *until)
{
    for (;;) {
        unsigned char h[8];
        if (!read_full(fd, h, sizeof(h), 20000)) {
            f->eof = true;
            return;
        }
        assert_int_equal(f->exit_code, -1); /* nothing after the exit frame */
        assert_true(h[1] == 0 && h[2] == 0 && h[3] == 0);
        size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
        char *buf = malloc(len + 1);
        assert_true(read_full(fd, buf, len, 20000));
        if (h[0] == 1 || h[0] == 2) {
            sb_add(h[0] == 1 ? &f->out : &f->err, buf, len);
        } else {
            assert_int_equal(h[0], API_SHIM_FRAME_EXIT);
            assert_int_equal(len, 4);
            unsigned char *b = (unsigned char *)buf;
            f->exit_code =
                (int)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
        }
        free(buf);
        if (until && strstr(sb_str(&f->out), until))
            return;
    }
}

static void frames_init(struct frames *f)
{
    memset(f, 0, sizeof(*f));
    f->exit_code = -1;
}

static void frames_release(struct frames *f)
{
    sb_release(&f->out);
    sb_release(&f->err);
}

/*
 * `echo data | docker run -i busybox cat`: berthd attaches, writes stdin and half-closes
 * before `start`; the container gets all of it (more than a pipe holds) and then EOF.
 */
static void test_wait_start_attach_stdin(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    e->open_stdin = e->stdin_once = e->wait_start = true;
    write_config(e, "cat; echo done >&2", false, 0);
    start_created(e);
    int a = attach(e, true, true, true);
    int b = attach(e, false, true, false); /* a second session, stdout only */
    enum { N = 300000 };
    char *data = malloc(N);
    for (int i = 0; i < N; i++)
        data[i] = (char)(i * 7 + (i >> 9)); /* binary, NULs included */
    assert_int_equal(fdu_write_all(a, data, N), 0);
    assert_int_equal(shutdown(a, SHUT_WR), 0);
    shutdown(b, SHUT_WR); /* no stdin: the CLI half-closes at once */
    usleep(100000);
    op_start_ok(e);
    struct frames fa, fb;
    frames_init(&fa);
    frames_init(&fb);
    read_frames(a, &fa, NULL);
    read_frames(b, &fb, NULL);
    assert_true(fa.eof && fb.eof);
    assert_int_equal(fa.exit_code, 0);
    assert_int_equal(fb.exit_code, 0);
    assert_int_equal(fa.out.len, N);
    assert_memory_equal(fa.out.buf, data, N);
    assert_string_equal(sb_str(&fa.err), "done\n");
    assert_int_equal(fb.out.len, N);
    assert_int_equal(fb.err.len, 0);
    frames_release(&fa);
    frames_release(&fb);
    free(data);
    close(a);
    close(b);
    assert_shim_gone(e);
    assert_exit_file(e, 0);
}

/* docker run without -i: stdout and stderr frames, then the exit frame, then EOF. */
static void test_attach_frames_and_exit(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "sleep 0.5; echo out; echo err >&2; exit 3", false, 0);
    start_ok(e);
    int a = attach(e, false, true, true);
    shutdown(a, SHUT_WR);
    int b = attach(e, false, false, true);
    struct frames fa, fb;
    frames_init(&fa);
    frames_init(&fb);
    read_frames(a, &fa, NULL);
    read_frames(b, &fb, NULL);
    assert_string_equal(sb_str(&fa.out), "out\n");
    assert_string_equal(sb_str(&fa.err), "err\n");
    assert_int_equal(fa.exit_code, 3);
    assert_int_equal(fb.out.len, 0);
    assert_string_equal(sb_str(&fb.err), "err\n");
    assert_int_equal(fb.exit_code, 3);
    frames_release(&fa);
    frames_release(&fb);
    close(a);
    close(b);
    assert_shim_gone(e);
    assert_exit_file(e, 3);
}

/* A session that never reads is disconnected; the other one, the log and the container go on. */
static void test_slow_session_dropped(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    /* 20 MB in 1 MB bursts: the reading session keeps up (even under ASan); the other one
     * never reads */
    write_config(e,
                 "sleep 0.3; for i in $(seq 20); do head -c 1000000 /dev/zero | tr '\\0' a; "
                 "sleep 0.05; done; echo; echo end",
                 false, 0);
    start_ok(e);
    int slow = attach(e, false, true, true);
    int small = 4096;
    setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    int a = attach(e, false, true, true);
    int big = 4 * 1024 * 1024;
    setsockopt(a, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    struct frames fa;
    frames_init(&fa);
    read_frames(a, &fa, NULL);
    assert_int_equal(fa.exit_code, 0);
    assert_int_equal(fa.out.len, 20000000 + 5);
    frames_release(&fa);
    /* the slow one got at most its queue, then EOF (it was disconnected) */
    size_t got = 0;
    char buf[65536];
    ssize_t n;
    while ((n = read(slow, buf, sizeof(buf))) > 0)
        got += (size_t)n;
    assert_true(got < 4 * 1024 * 1024);
    close(a);
    close(slow);
    assert_shim_gone(e);
    struct collected c;
    read_log(e, &c);
    assert_int_equal(c.bytes, 20000000 + 5);
    sb_release(&c.out);
    sb_release(&c.err);
}

/* docker run -it: the pty's initial size, resize, stdin and output through one session. */
static void test_tty_attach_resize(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    e->open_stdin = e->wait_start = true;
    e->console_h = 30;
    e->console_w = 100;
    write_config(e, "tty; stty size; read x; stty size; echo got=$x", true, 0);
    start_created(e);
    int a = attach(e, true, true, true);
    op_start_ok(e);
    struct frames fa;
    frames_init(&fa);
    read_frames(a, &fa, "30 100\r\n");
    assert_non_null(strstr(sb_str(&fa.out), "/dev/pts/0\r\n30 100\r\n"));
    int fd = shim_connect(e);
    struct api_shim_msg m = {.op = "resize", .h = 50, .w = 132};
    send_msg(fd, &m);
    struct api_shim_msg r;
    recv_msg(fd, &r, 5000);
    assert_true(r.ok);
    api_shim_release(&r);
    assert_int_equal(fdu_write_all(a, "hi\n", 3), 0);
    read_frames(a, &fa, NULL);
    assert_non_null(strstr(sb_str(&fa.out), "50 132\r\n"));
    assert_non_null(strstr(sb_str(&fa.out), "got=hi\r\n"));
    assert_int_equal(fa.exit_code, 0);
    frames_release(&fa);
    close(fd);
    close(a);
    assert_shim_gone(e);
}

static int exec_op(struct env *e, const char *id, char **argv, bool tty, bool in, int h, int w,
                   struct api_shim_msg *answer)
{
    char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    struct rt_exec_spec spec = {.argv = argv,
                                .env = env,
                                .cwd = "",
                                .user = "",
                                .tty = tty,
                                .caps = RT_DEFAULT_CAPS,
                                .cgroup_path = e->cgroup};
    json_auto_t *j = rt_exec_spec_encode(&spec);
    int fd = shim_connect(e);
    struct api_shim_msg m = {.op = "exec",
                             .id = (char *)id,
                             .exec = j,
                             .stdin_ = in,
                             .stdout_ = true,
                             .stderr_ = true,
                             .h = h,
                             .w = w};
    send_msg(fd, &m);
    recv_msg(fd, answer, 10000);
    return fd;
}

static void kill_and_wait(struct env *e)
{
    int fd = shim_connect(e);
    struct api_shim_msg m;
    send_req(fd, "wait", 0);
    send_req(fd, "kill", SIGKILL);
    recv_msg(fd, &m, 5000);
    api_shim_release(&m);
    recv_msg(fd, &m, 10000);
    assert_string_equal(m.status, "exited");
    api_shim_release(&m);
    close(fd);
    assert_shim_gone(e);
}

static void test_exec(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "exec sleep 1000", false, 0);
    start_ok(e);
    struct api_shim_msg m;
    struct frames f;

    char *a1[] = {"sh", "-c", "echo out $$; echo err >&2; exit 7", NULL};
    int fd = exec_op(e, "e1", a1, false, false, 0, 0, &m);
    assert_true(m.ok);
    assert_true(m.pid > 0);
    api_shim_release(&m);
    frames_init(&f);
    read_frames(fd, &f, NULL);
    assert_non_null(strstr(sb_str(&f.out), "out "));
    assert_null(strstr(sb_str(&f.out), "out 1\n")); /* not the container's init */
    assert_string_equal(sb_str(&f.err), "err\n");
    assert_int_equal(f.exit_code, 7);
    frames_release(&f);
    close(fd);

    char *a2[] = {"nosuch", NULL};
    fd = exec_op(e, "e2", a2, false, false, 0, 0, &m);
    assert_string_equal(m.error, "exec: \"nosuch\": executable file not found in $PATH");
    api_shim_release(&m);
    close(fd);

    /* stdin, then a half-close: the exec reads EOF */
    char *a3[] = {"cat", NULL};
    fd = exec_op(e, "e3", a3, false, true, 0, 0, &m);
    assert_true(m.ok);
    api_shim_release(&m);
    assert_int_equal(fdu_write_all(fd, "abc\0def", 7), 0);
    shutdown(fd, SHUT_WR);
    frames_init(&f);
    read_frames(fd, &f, NULL);
    assert_int_equal(f.out.len, 7);
    assert_memory_equal(f.out.buf, "abc\0def", 7);
    assert_int_equal(f.exit_code, 0);
    frames_release(&f);
    close(fd);

    /* an exec still running when the container dies gets its exit frame too */
    char *a4[] = {"sleep", "1000", NULL};
    fd = exec_op(e, "e4", a4, false, false, 0, 0, &m);
    assert_true(m.ok);
    api_shim_release(&m);
    kill_and_wait(e);
    frames_init(&f);
    read_frames(fd, &f, NULL);
    assert_int_equal(f.exit_code, 128 + SIGKILL);
    frames_release(&f);
    close(fd);
}

static void test_exec_tty(void **state)
{
    struct env *e = *state;
    SKIP_UNLESS_READY(e);
    write_config(e, "exec sleep 1000", false, 0);
    start_ok(e);
    struct api_shim_msg m;
    struct frames f;
    char *a1[] = {"sh", "-c", "stty size; test -t 0 && echo tty; tty", NULL};
    int fd = exec_op(e, "t1", a1, true, false, 20, 70, &m);
    assert_true(m.ok);
    api_shim_release(&m);
    frames_init(&f);
    read_frames(fd, &f, NULL);
    assert_string_equal(sb_str(&f.out), "20 70\r\ntty\r\n/dev/pts/0\r\n");
    assert_int_equal(f.exit_code, 0);
    frames_release(&f);
    close(fd);

    char *a2[] = {"sh", "-c", "echo ready; read x; stty size; exit 4", NULL};
    fd = exec_op(e, "t2", a2, true, true, 0, 0, &m);
    assert_true(m.ok);
    api_shim_release(&m);
    frames_init(&f);
    read_frames(fd, &f, "ready\r\n");
    int c = shim_connect(e);
    struct api_shim_msg r = {.op = "exec_resize", .id = "t2", .h = 33, .w = 99};
    send_msg(c, &r);
    recv_msg(c, &m, 5000);
    assert_true(m.ok);
    api_shim_release(&m);
    r = (struct api_shim_msg){.op = "exec_resize", .id = "t1", .h = 33, .w = 99};
    send_msg(c, &r);
    recv_msg(c, &m, 5000);
    assert_non_null(m.error); /* t1 is gone */
    api_shim_release(&m);
    close(c);
    assert_int_equal(fdu_write_all(fd, "\n", 1), 0);
    read_frames(fd, &f, NULL);
    assert_non_null(strstr(sb_str(&f.out), "33 99\r\n"));
    assert_int_equal(f.exit_code, 4);
    frames_release(&f);
    close(fd);
    kill_and_wait(e);
}

/* The runtime removes the container's cgroup; the test's parent cgroup is ours to remove. */
static int group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir("/sys/fs/cgroup");
    struct dirent *de;
    char path[512];
    while (d && (de = readdir(d))) {
        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/berth-test", de->d_name);
        rmdir(path);
    }
    if (d)
        closedir(d);
    rmdir("/sys/fs/cgroup/berth-test");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_code_logs_and_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_through_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_disconnects_mid_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unbounded_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_with_nobody_listening, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lingering_writer_pid_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_start_attach_stdin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_frames_and_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_session_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tty_attach_resize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_tty, setup, teardown),
    };
    if (getenv("SHIM_TEST")) /* run one test: SHIM_TEST=test_tty */
        cmocka_set_test_filter(getenv("SHIM_TEST"));
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
