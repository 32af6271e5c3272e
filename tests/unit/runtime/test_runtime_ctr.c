/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime tests with real containers: busybox (tests/fixtures/build.sh) as the overlay's lower
 * layer, a fresh upper/work dir per test, output through a pipe. Needs root; skipped when the
 * fixture is missing. Cgroups live under "berth-test/" and are removed by every test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "tests/unit/runtime/rt_fixture.h"

static int fx_setup(void **state)
{
    rtf_require();
    struct rt_fixture *f = xcalloc(1, sizeof(*f));
    rtf_init(f, "rt", "rt-test");
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct rt_fixture *f = *state;
    if (!f)
        return 0;
    rtf_cleanup(f);
    free(f);
    return 0;
}

/* Reads fd until EOF (or until `until` shows up), at most 10 s. */
static char *read_output(int fd, const char *until)
{
    struct sb sb = SB_INIT;
    sb_adds(&sb, "");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left =
            10000 - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            fail_msg("container output timed out: %s", sb_str(&sb));
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        sb_add(&sb, buf, (size_t)n);
        if (until && strstr(sb_str(&sb), until))
            break;
    }
    return sb_steal(&sb);
}

/* Starts argv; *outfd is the read end of the container's stdout+stderr. */
static int start(struct rt_fixture *f, char **argv, pid_t *pid, int *outfd, struct err **err)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    f->spec.argv = argv;
    int r = rt_create(&f->spec, -1, p[1], p[1], pid, NULL, err);
    close(p[1]);
    if (r < 0) {
        close(p[0]);
        return -1;
    }
    *outfd = p[0];
    return 0;
}

static int wait_exit(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

/* Runs argv to completion: its output (caller frees) and wait status. */
static char *run(struct rt_fixture *f, char **argv, int *status)
{
    pid_t pid = 0;
    int fd = -1;
    _cleanup_err_ struct err *e = NULL;
    if (start(f, argv, &pid, &fd, &e) < 0)
        fail_msg("rt_create: %s", e->msg);
    char *out = read_output(fd, NULL);
    close(fd);
    int st = wait_exit(pid);
    if (status)
        *status = st;
    return out;
}

static char *sh(struct rt_fixture *f, const char *script, int *status)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    return run(f, argv, status);
}

/* rt_create must fail; returns the message (caller frees). */
static char *run_fail(struct rt_fixture *f, char **argv)
{
    pid_t pid = 0;
    int fd = -1;
    _cleanup_err_ struct err *e = NULL;
    if (start(f, argv, &pid, &fd, &e) == 0) {
        char *out = read_output(fd, NULL);
        close(fd);
        wait_exit(pid);
        fail_msg("container started, output: %s", out);
    }
    return xstrdup(e->msg);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

/* Does /sys/fs/cgroup/<ctrl>/<path> exist? */
static bool cg_exists(const char *ctrl, const char *path)
{
    char p[256];
    snprintf(p, sizeof(p), "/sys/fs/cgroup/%s/%s", ctrl, path);
    struct stat st;
    return stat(p, &st) == 0;
}

/* ---- isolation ----------------------------------------------------------------------------- */

static void test_caps_and_status(void **state)
{
    struct rt_fixture *f = *state;
    _cleanup_free_ char *out = sh(f, "grep -E '^(Cap|NoNewPrivs)' /proc/self/status", NULL);
    assert_contains(out, "CapEff:\t00000000a80425fb");
    assert_contains(out, "CapPrm:\t00000000a80425fb");
    assert_contains(out, "CapBnd:\t00000000a80425fb");
    assert_contains(out, "CapInh:\t0000000000000000");
    assert_contains(out, "CapAmb:\t0000000000000000");
    assert_contains(out, "NoNewPrivs:\t0");

    f->spec.no_new_privs = true;
    f->spec.caps = 0;
    _cleanup_free_ char *out2 = sh(f, "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status", NULL);
    assert_contains(out2, "CapEff:\t0000000000000000");
    assert_contains(out2, "NoNewPrivs:\t1");
}

static void test_pid1_hostname_fds(void **state)
{
    struct rt_fixture *f = *state;
    _cleanup_free_ char *out = sh(f,
                                  "echo pid=$$; hostname; ls /proc/self/fd | tr '\\n' ' '; "
                                  "echo; ls /proc | grep -c '^[0-9]'",
                                  NULL);
    assert_contains(out, "pid=1\n");
    assert_contains(out, "rt-test\n");
    assert_contains(out, "\n0 1 2 3 \n"); /* 3: ls's own directory */
    assert_contains(out, "\n3\n");        /* sh, ls|grep: host processes invisible */
}

static void test_proc_sys_masks(void **state)
{
    struct rt_fixture *f = *state;
    _cleanup_free_ char *out =
        sh(f,
           "echo keys=$(wc -c < /proc/keys); echo timers=$(wc -c < /proc/timer_list); "
           "stat -c 'keysdev=%t:%T' /proc/keys; echo acpi=$(ls /proc/acpi | wc -l); "
           "echo x > /proc/sys/kernel/domainname; echo firmware=$(ls /sys/firmware | wc -l); "
           "grep -E ' /sys | /proc/sys | /proc/acpi ' /proc/mounts; "
           "mount -o remount,rw / 2>&1; echo remount=$?; umount /proc/keys; echo umount=$?",
           NULL);
    assert_contains(out, "keys=0\n");
    assert_contains(out, "timers=0\n");
    assert_contains(out, "keysdev=1:3\n");
    assert_contains(out, "/proc/sys/kernel/domainname: Read-only file system");
    assert_contains(out, "acpi=0\n");
    assert_contains(out, "firmware=0\n");
    assert_contains(out, "sysfs /sys sysfs ro,");
    assert_contains(out, "proc /proc/sys proc ro,");
    assert_contains(out, "tmpfs /proc/acpi tmpfs ro,");
    assert_null(strstr(out, "remount=0"));
    assert_null(strstr(out, "umount=0"));
}

static void test_dev(void **state)
{
    struct rt_fixture *f = *state;
    f->spec.cgroup_path = f->cgroup;
    _cleanup_free_ char *out =
        sh(f,
           "ls /dev | tr '\\n' ' '; echo; stat -c '%n %t:%T %a' /dev/null /dev/tty; "
           "grep -E ' /dev(/pts|/shm|/mqueue)? ' /proc/mounts; mknod /tmp/sda b 8 0 && "
           "head -c1 /tmp/sda; echo > /dev/null && echo devnull-ok; grep -E ':(memory|pids):' "
           "/proc/self/cgroup",
           NULL);
    assert_contains(out, "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty "
                         "urandom zero \n");
    assert_contains(out, "/dev/null 1:3 666\n");
    assert_contains(out, "/dev/tty 5:0 666\n");
    assert_contains(out, "devpts /dev/pts devpts rw,nosuid,noexec");
    assert_contains(out, "shm /dev/shm tmpfs rw,nosuid,nodev,noexec");
    assert_contains(out, "tmpfs /dev tmpfs rw,nosuid,size=65536k,mode=755");
    assert_contains(out, "size=65536k");
    assert_contains(out, "mqueue /dev/mqueue mqueue");
    /* device cgroup (R11): the node exists, opening it is refused */
    assert_contains(out, "/tmp/sda: Operation not permitted");
    assert_contains(out, "devnull-ok");
    /* its own cgroup namespace: the container's cgroup is its root */
    assert_contains(out, ":pids:/\n");
    assert_contains(out, ":memory:/\n");
}

static void test_user_cwd(void **state)
{
    struct rt_fixture *f = *state;
    f->spec.user = "nobody";
    f->spec.cwd = "/work/new";
    _cleanup_free_ char *out = sh(f,
                                  "id; pwd; stat -c 'owner=%u:%g' /work/new; echo home=$HOME; "
                                  "grep CapEff /proc/self/status",
                                  NULL);
    assert_contains(out, "uid=65534(nobody) gid=65534(nobody)");
    assert_contains(out, "/work/new\n");
    assert_contains(out, "owner=65534:65534\n");
    assert_contains(out, "home=/home\n");
    assert_contains(out, "CapEff:\t0000000000000000");

    f->spec.user = "1234:5678";
    f->spec.cwd = "/";
    _cleanup_free_ char *out2 = sh(f, "id -u; id -g; id -G", NULL);
    assert_string_equal(out2, "1234\n5678\n5678\n");

    f->spec.user = "ghost";
    char *argv[] = {"true", NULL};
    _cleanup_free_ char *msg = run_fail(f, argv);
    assert_string_equal(msg, "unable to find user ghost: no matching entries in passwd file");
}

static void test_cwd_escape(void **state)
{
    struct rt_fixture *f = *state;
    char *argv[] = {"pwd", NULL};
    f->spec.cwd = "/proc/self/fd/3";
    _cleanup_free_ char *msg = run_fail(f, argv);
    assert_contains(msg, "chdir to cwd \"/proc/self/fd/3\"");
    f->spec.cwd = "/proc/self/cwd";
    _cleanup_free_ char *msg2 = run_fail(f, argv);
    assert_contains(msg2, "chdir to cwd");
    /* a relative cwd is refused before anything starts */
    f->spec.cwd = "tmp";
    _cleanup_free_ char *msg3 = run_fail(f, argv);
    assert_contains(msg3, "needs to be an absolute path");
    /* an image symlink as cwd resolves inside the root */
    char link[128];
    snprintf(link, sizeof(link), "%s/hostetc", f->upper);
    assert_int_equal(symlink("../../../../../../usr", link), 0);
    f->spec.cwd = "/hostetc";
    _cleanup_free_ char *out = run(f, argv, NULL);
    assert_string_equal(out, "/usr\n");
}

static void test_exec_errors(void **state)
{
    struct rt_fixture *f = *state;
    char *a1[] = {"/nonexistent", NULL};
    char *a2[] = {"nonexistent", NULL};
    char *a3[] = {"/etc", NULL};
    char *a4[] = {"/etc/passwd", NULL};
    _cleanup_free_ char *m1 = run_fail(f, a1);
    assert_string_equal(m1, "exec: \"/nonexistent\": stat /nonexistent: no such file or directory");
    _cleanup_free_ char *m2 = run_fail(f, a2);
    assert_string_equal(m2, "exec: \"nonexistent\": executable file not found in $PATH");
    _cleanup_free_ char *m3 = run_fail(f, a3);
    assert_string_equal(m3, "exec: \"/etc\": is a directory");
    _cleanup_free_ char *m4 = run_fail(f, a4);
    assert_string_equal(m4, "exec: \"/etc/passwd\": permission denied");
}

static void test_proc_symlink_refused(void **state)
{
    struct rt_fixture *f = *state;
    char p[128];
    snprintf(p, sizeof(p), "%s/proc", f->upper);
    assert_int_equal(symlink("/tmp", p), 0);
    char *argv[] = {"true", NULL};
    _cleanup_free_ char *msg = run_fail(f, argv);
    assert_string_equal(msg, "mount destination /proc: must be mounted on ordinary directory");
    unlink(p);
    snprintf(p, sizeof(p), "%s/dev", f->upper);
    assert_int_equal(symlink("/", p), 0);
    _cleanup_free_ char *msg2 = run_fail(f, argv);
    assert_string_equal(msg2, "mount destination /dev: must be mounted on ordinary directory");
}

static void test_passwd_fifo(void **state)
{
    struct rt_fixture *f = *state;
    char p[128];
    snprintf(p, sizeof(p), "%s/etc", f->upper);
    rtf_mkdir(p);
    snprintf(p, sizeof(p), "%s/etc/passwd", f->upper);
    assert_int_equal(mkfifo(p, 0644), 0);
    f->spec.user = "nobody";
    char *argv[] = {"true", NULL};
    _cleanup_free_ char *msg = run_fail(f, argv);
    assert_string_equal(msg, "unable to find user nobody: open /etc/passwd: not a regular file");
}

static void test_files_and_readonly_root(void **state)
{
    struct rt_fixture *f = *state;
    char hosts[128], hn[128];
    snprintf(hosts, sizeof(hosts), "%s/hosts", f->dir);
    snprintf(hn, sizeof(hn), "%s/hostname", f->dir);
    FILE *fp = fopen(hosts, "w");
    fputs("127.0.0.1 localhost rt-test\n", fp);
    fclose(fp);
    fp = fopen(hn, "w");
    fputs("rt-test\n", fp);
    fclose(fp);
    /* the image's /etc/hosts is a dangling absolute symlink: the target is created inside */
    char link[128];
    snprintf(link, sizeof(link), "%s/etc", f->upper);
    rtf_mkdir(link);
    snprintf(link, sizeof(link), "%s/etc/hosts", f->upper);
    assert_int_equal(symlink("/berth-rt-hosts-target", link), 0);
    f->spec.hosts_file = hosts;
    f->spec.hostname_file = hn;
    f->spec.readonly_rootfs = true;
    _cleanup_free_ char *out = sh(f,
                                  "cat /etc/hosts /etc/hostname /berth-rt-hosts-target; "
                                  "touch /x 2>&1; echo x >> /etc/hosts && echo rw-ok",
                                  NULL);
    assert_int_equal(access("/berth-rt-hosts-target", F_OK), -1);
    assert_contains(out, "127.0.0.1 localhost rt-test\nrt-test\n127.0.0.1 localhost rt-test\n");
    assert_contains(out, "Read-only file system");
    assert_contains(out, "rw-ok");
}

static void test_many_layers(void **state)
{
    struct rt_fixture *f = *state;
    enum { N = 120 };
    char **lowers = xcalloc(N + 2, sizeof(*lowers));
    for (int i = 0; i < N; i++) {
        lowers[i] = xasprintf("%s/layer-with-a-rather-long-directory-name-%03d", f->dir, i);
        rtf_mkdir(lowers[i]);
    }
    char *marker = xasprintf("%s/marker", lowers[7]);
    FILE *fp = fopen(marker, "w");
    fputs("from layer 7\n", fp);
    fclose(fp);
    lowers[N] = (char *)rtf_busybox_rootfs();
    f->spec.lowerdirs = lowers;
    _cleanup_free_ char *out = sh(f, "cat /marker", NULL);
    assert_string_equal(out, "from layer 7\n");
    for (int i = 0; i < N; i++)
        free(lowers[i]);
    free(lowers);
    free(marker);
}

static void test_privileged(void **state)
{
    struct rt_fixture *f = *state;
    f->spec.privileged = true;
    f->spec.cgroup_path = f->cgroup;
    _cleanup_free_ char *out = sh(f,
                                  "grep -E '^CapBnd' /proc/self/status; "
                                  "grep -E ' /sys ' /proc/mounts; echo acpi=$(ls /proc/acpi); "
                                  "echo keys=$(wc -c < /proc/keys); ls /dev/vda /dev/loop0",
                                  NULL);
    /* everything this machine's bounding set has (no CAP_SYS_RESOURCE here) */
    uint64_t want = 0;
    for (int i = 0; i <= RT_CAP_LAST; i++)
        if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
            want |= 1ULL << i;
    char line[64];
    snprintf(line, sizeof(line), "CapBnd:\t%016llx", (unsigned long long)want);
    assert_contains(out, line);
    assert_contains(out, "sysfs /sys sysfs rw,");
    assert_null(strstr(out, "keys=0\n"));
    assert_contains(out, "/dev/loop0");
}

static void test_host_namespaces(void **state)
{
    struct rt_fixture *f = *state;
    char host[256] = "";
    gethostname(host, sizeof(host));
    f->spec.namespaces = RT_NS_MOUNT;
    f->spec.hostname = "must-not-change-the-host";
    _cleanup_free_ char *out = sh(f, "echo pid=$$; hostname; ls /sys/class/net | grep -c .", NULL);
    assert_null(strstr(out, "pid=1\n"));
    assert_contains(out, host);
    char now[256] = "";
    gethostname(now, sizeof(now));
    assert_string_equal(now, host);
    /* joining a network namespace by path: the host's own, seen through /proc */
    f->spec.namespaces = RT_NS_PID | RT_NS_MOUNT | RT_NS_NET;
    f->spec.netns_path = "/proc/self/ns/net";
    _cleanup_free_ char *out2 = sh(f, "ls /sys/class/net | grep -c .", NULL);
    f->spec.netns_path = NULL;
    _cleanup_free_ char *out3 = sh(f, "ls /sys/class/net | tr '\\n' ' '", NULL);
    assert_string_equal(out3, "lo ");
    assert_true(atoi(out2) >= 2);
}

static void test_tty(void **state)
{
    struct rt_fixture *f = *state;
    f->spec.tty = true;
    f->spec.console_h = 33;
    f->spec.console_w = 111;
    /* the pty comes from the container's devpts: tty names it; /dev/console is bound to it */
    char *argv[] = {"sh", "-c",
                    "tty; stty size; stat -c '%t' /dev/console; : < /dev/tty && echo done", NULL};
    pid_t pid = 0;
    int master = -1;
    _cleanup_err_ struct err *e = NULL;
    f->spec.argv = argv;
    if (rt_create(&f->spec, -1, -1, -1, &pid, &master, &e) < 0)
        fail_msg("rt_create: %s", e->msg);
    assert_true(master >= 0);
    _cleanup_free_ char *out = read_output(master, "done");
    close(master);
    wait_exit(pid);
    assert_contains(out, "/dev/pts/0\r\n"); /* as with docker run -t */
    assert_contains(out, "33 111\r\n");
    assert_contains(out, "88\r\n"); /* the pty slave (major 136 = 0x88) on /dev/console */
}

/* ---- cgroups ----------------------------------------------------------------------------- */

static void test_cgroup_files(void **state)
{
    struct rt_fixture *f = *state;
    assert_int_equal(rt_cgroup_version(), 1);
    struct rt_resources res = {
        .memory = 64 << 20, .cpu_shares = 512, .cpu_quota = 50000, .pids_limit = 100};
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(rt_cgroup_create(f->cgroup, &res, false, &e), 0);
    char p[256];
    const struct {
        const char *ctrl, *file, *want;
    } checks[] = {
        {"memory", "memory.limit_in_bytes", "67108864\n"},
        {"memory", "memory.memsw.limit_in_bytes", "134217728\n"},
        {"cpu", "cpu.shares", "512\n"},
        {"cpu", "cpu.cfs_quota_us", "50000\n"},
        {"cpu", "cpu.cfs_period_us", "100000\n"},
        {"pids", "pids.max", "100\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
        snprintf(p, sizeof(p), "/sys/fs/cgroup/%s/%s/%s", checks[i].ctrl, f->cgroup,
                 checks[i].file);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        assert_int_equal(fsu_read_file(p, 4096, &data, &len), 0);
        assert_string_equal(data, checks[i].want);
    }
    snprintf(p, sizeof(p), "/sys/fs/cgroup/devices/%s/devices.list", f->cgroup);
    _cleanup_free_ char *devs = NULL;
    size_t len = 0;
    assert_int_equal(fsu_read_file(p, 65536, &devs, &len), 0);
    assert_contains(devs, "c 1:3 rwm\n");
    assert_contains(devs, "c 136:* rwm\n");
    assert_null(strstr(devs, "a *:* rwm"));
    assert_int_equal(rt_cgroup_destroy(f->cgroup, &e), 0);
    assert_false(cg_exists("memory", f->cgroup));
    assert_false(cg_exists("cpuset", f->cgroup));
}

static void test_oom(void **state)
{
    struct rt_fixture *f = *state;
    f->spec.cgroup_path = f->cgroup;
    f->spec.resources.memory = 32 << 20;
    int st = 0;
    _cleanup_free_ char *out = sh(f, "head -c 300m /dev/zero | tail >/dev/null", &st);
    /* The kernel picks the victim: the pipeline's tail (sh then exits non-zero) or the
     * shell itself (killed by SIGKILL). Either way the cgroup records the OOM kill. */
    bool tail_killed = WIFEXITED(st) && WEXITSTATUS(st) != 0;
    bool sh_killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
    if (!tail_killed && !sh_killed)
        fail_msg("status %#x, output: %s", st, out);
    assert_true(rt_cgroup_oom_killed(f->cgroup));
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(rt_cgroup_destroy(f->cgroup, &e), 0);
}

static void test_pids_limit(void **state)
{
    struct rt_fixture *f = *state;
    f->spec.cgroup_path = f->cgroup;
    f->spec.resources.pids_limit = 20;
    char *argv[] = {"sh", "-c",
                    "(i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done); echo spawned; "
                    "sleep 30",
                    NULL};
    pid_t pid = 0;
    int fd = -1;
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(start(f, argv, &pid, &fd, &e), 0);
    _cleanup_free_ char *out = read_output(fd, "spawned");
    assert_contains(out, "can't fork");
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    assert_int_equal(rt_cgroup_pids(f->cgroup, &pids, &n, &e), 0);
    if (n < 2 || n > 20)
        fail_msg("%zu processes in a cgroup limited to 20", n);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= pids[i] == pid;
    assert_true(found);
    assert_int_equal(rt_cgroup_destroy(f->cgroup, &e), 0);
    int st = wait_exit(pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    close(fd);
    assert_false(cg_exists("pids", f->cgroup));
}

static void test_freeze(void **state)
{
    struct rt_fixture *f = *state;
    f->spec.cgroup_path = f->cgroup;
    char *argv[] = {"sh", "-c", "echo up; while :; do sleep 0.01; done", NULL};
    pid_t pid = 0;
    int fd = -1;
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(start(f, argv, &pid, &fd, &e), 0);
    _cleanup_free_ char *out = read_output(fd, "up");
    assert_int_equal(rt_cgroup_freeze(f->cgroup, true, &e), 0);
    char p[256];
    snprintf(p, sizeof(p), "/sys/fs/cgroup/freezer/%s/freezer.state", f->cgroup);
    _cleanup_free_ char *st1 = NULL;
    size_t len = 0;
    assert_int_equal(fsu_read_file(p, 64, &st1, &len), 0);
    assert_string_equal(st1, "FROZEN\n");
    assert_int_equal(rt_cgroup_freeze(f->cgroup, false, &e), 0);
    _cleanup_free_ char *st2 = NULL;
    assert_int_equal(fsu_read_file(p, 64, &st2, &len), 0);
    assert_string_equal(st2, "THAWED\n");
    /* destroy kills a frozen container too */
    assert_int_equal(rt_cgroup_freeze(f->cgroup, true, &e), 0);
    assert_int_equal(rt_cgroup_destroy(f->cgroup, &e), 0);
    int st = wait_exit(pid);
    assert_true(WIFSIGNALED(st));
    close(fd);
    const char *ctrls[] = {"memory", "freezer", "devices", "cpu", "cpuset", "pids"};
    for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++)
        assert_false(cg_exists(ctrls[i], f->cgroup));
}

static void test_failed_create_cleans_cgroup(void **state)
{
    struct rt_fixture *f = *state;
    f->spec.cgroup_path = f->cgroup;
    char *argv[] = {"/nonexistent", NULL};
    _cleanup_free_ char *msg = run_fail(f, argv);
    assert_false(cg_exists("memory", f->cgroup));
    assert_false(cg_exists("pids", f->cgroup));
}

/*
 * cgroup v2 code paths on this v1 host: in a private mount namespace the unified hierarchy
 * (no controllers: they are bound to v1) is mounted on /sys/fs/cgroup. Covers create, enter,
 * freeze/thaw through cgroup.freeze, pids, cgroup.kill and rmdir, and a container's read-only
 * cgroup2 mount. Runs in a forked process; the exit code says which step failed.
 */
static int v2_steps(struct rt_fixture *f)
{
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
        return 10;
    if (rt_cgroup_version() != 2)
        return 11;
    const char *cg = "berth-test-v2/x";
    if (rt_cgroup_create(cg, NULL, false, NULL) < 0)
        return 12;
    pid_t sleeper = fork();
    if (sleeper == 0) {
        execl("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit(1);
    }
    if (rt_cgroup_enter(cg, sleeper, NULL) < 0)
        return 13;
    if (rt_cgroup_freeze(cg, true, NULL) < 0)
        return 14;
    _cleanup_free_ char *ev = NULL;
    size_t len = 0;
    if (fsu_read_file("/sys/fs/cgroup/berth-test-v2/x/cgroup.events", 4096, &ev, &len) < 0 ||
        !strstr(ev, "frozen 1"))
        return 15;
    if (rt_cgroup_freeze(cg, false, NULL) < 0)
        return 16;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    if (rt_cgroup_pids(cg, &pids, &n, NULL) < 0 || n != 1 || pids[0] != sleeper)
        return 17;
    if (rt_cgroup_destroy(cg, NULL) < 0)
        return 18;
    int st = 0;
    if (waitpid(sleeper, &st, 0) != sleeper || !WIFSIGNALED(st))
        return 19;
    if (access("/sys/fs/cgroup/berth-test-v2/x", F_OK) == 0)
        return 20;
    /* a container on v2: its cgroup namespace's cgroup2, read-only */
    f->spec.cgroup_path = (char *)cg;
    f->spec.argv =
        (char *[]){"sh", "-c", "grep ' /sys/fs/cgroup ' /proc/mounts; cat /proc/self/cgroup", NULL};
    int p[2];
    pid_t pid = 0;
    if (pipe2(p, O_CLOEXEC) < 0 || rt_create(&f->spec, -1, p[1], p[1], &pid, NULL, NULL) < 0)
        return 21;
    close(p[1]);
    char buf[1024];
    ssize_t got = 0, r;
    while ((r = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
        got += r;
    buf[got] = 0;
    waitpid(pid, NULL, 0);
    if (!strstr(buf, "cgroup2 /sys/fs/cgroup cgroup2 ro,") || !strstr(buf, "0::/\n"))
        return 22;
    if (rt_cgroup_destroy(cg, NULL) < 0 || rmdir("/sys/fs/cgroup/berth-test-v2") < 0)
        return 23;
    return 0;
}

static void test_cgroup_v2_paths(void **state)
{
    struct rt_fixture *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(v2_steps(f));
    int st = wait_exit(pid);
    rmdir("/sys/fs/cgroup/unified/berth-test-v2/x");
    rmdir("/sys/fs/cgroup/unified/berth-test-v2");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("v2 step %d failed", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int group_teardown(void **state)
{
    (void)state;
    const char *ctrls[] = {"memory",  "cpu",     "cpuacct", "pids",
                           "freezer", "devices", "cpuset",  "blkio"};
    for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
        char p[128];
        snprintf(p, sizeof(p), "/sys/fs/cgroup/%s/" RTF_CG_PARENT, ctrls[i]);
        rmdir(p);
    }
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_caps_and_status),
        T(test_pid1_hostname_fds),
        T(test_proc_sys_masks),
        T(test_dev),
        T(test_user_cwd),
        T(test_cwd_escape),
        T(test_exec_errors),
        T(test_proc_symlink_refused),
        T(test_passwd_fifo),
        T(test_files_and_readonly_root),
        T(test_many_layers),
        T(test_privileged),
        T(test_host_namespaces),
        T(test_tty),
        T(test_cgroup_files),
        T(test_oom),
        T(test_pids_limit),
        T(test_freeze),
        T(test_failed_create_cleans_cgroup),
        T(test_cgroup_v2_paths),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
