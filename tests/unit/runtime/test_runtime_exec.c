/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rt_exec on a real container: busybox (tests/fixtures/build.sh) running `sleep`, created with
 * rt_create in its own namespaces and cgroup; each test execs into it and checks what the
 * process sees. Needs root; skipped when the fixture is missing.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "tests/unit/runtime/rt_fixture.h"

struct fx {
    struct rt_fixture rt;
    pid_t init;
    struct rt_exec_spec ex;
};

static int fx_setup(void **state)
{
    rtf_require();
    struct fx *f = xcalloc(1, sizeof(*f));
    rtf_init(&f->rt, "rtx", "rtx-test");
    static char *argv[] = {"sleep", "1000", NULL};
    f->rt.spec.argv = argv;
    f->rt.spec.cgroup_path = f->rt.cgroup;
    struct err *e = NULL;
    if (rt_create(&f->rt.spec, -1, -1, -1, &f->init, NULL, &e) < 0)
        fail_msg("rt_create: %s", e->msg);
    f->ex = (struct rt_exec_spec){
        .env = f->rt.env,
        .cwd = "",
        .user = "",
        .caps = RT_DEFAULT_CAPS,
        .cgroup_path = f->rt.cgroup,
    };
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    if (f->init > 0) {
        kill(f->init, SIGKILL);
        waitpid(f->init, NULL, 0);
    }
    rtf_cleanup(&f->rt);
    free(f);
    return 0;
}

static char *read_all(int fd)
{
    struct sb sb = SB_INIT;
    sb_adds(&sb, "");
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            fail_msg("exec output timed out: %s", sb_str(&sb));
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        sb_add(&sb, buf, (size_t)n);
    }
    return sb_steal(&sb);
}

/* Runs argv in the container: its output (caller frees) and wait status, or fails. */
static char *xrun(struct fx *f, char **argv, int *status, pid_t *pidp)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    f->ex.argv = argv;
    pid_t pid = 0;
    struct err *e = NULL;
    int r = rt_exec(&f->ex, f->init, -1, p[1], p[1], &pid, NULL, &e);
    close(p[1]);
    if (r < 0) {
        close(p[0]);
        fail_msg("rt_exec: %s", e->msg);
    }
    if (pidp)
        *pidp = pid;
    char *out = read_all(p[0]);
    close(p[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (status)
        *status = st;
    return out;
}

static char *xsh(struct fx *f, const char *script, int *status)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    return xrun(f, argv, status, NULL);
}

/* rt_exec must fail: the message (caller frees). */
static char *xfail(struct fx *f, char **argv)
{
    f->ex.argv = argv;
    pid_t pid = 0;
    struct err *e = NULL;
    if (rt_exec(&f->ex, f->init, -1, -1, -1, &pid, NULL, &e) == 0) {
        waitpid(pid, NULL, 0);
        fail_msg("exec started");
    }
    char *msg = xstrdup(e->msg);
    err_free(e);
    return msg;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

static void test_namespaces(void **state)
{
    struct fx *f = *state;
    int st = 0;
    char script[512];
    snprintf(script, sizeof(script),
             "hostname; echo pid=$$; ps -o pid,args | grep -c '^ *1 sleep 1000$'; "
             "test -x /bin/busybox && test ! -e %s && echo root=container; "
             "pwd; grep ':pids:' /proc/self/cgroup; exit 7",
             f->rt.dir);
    _cleanup_free_ char *out = xsh(f, script, &st);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 7);
    assert_contains(out, "rtx-test\n");
    assert_null(strstr(out, "pid=1\n"));
    assert_contains(out, "pid=");
    assert_contains(out, "\n1\n"); /* the container's init is pid 1 in the exec's view */
    assert_contains(out, "root=container\n");
    assert_contains(out, "\n/\n");
    assert_contains(out, ":pids:/\n"); /* in the container's cgroup namespace and cgroup */
    /* the exec is in the container's cgroup on the host side */
    char procs[256];
    if (rt_cgroup_version() == 2)
        snprintf(procs, sizeof(procs), "/sys/fs/cgroup/%s/cgroup.procs", f->rt.cgroup);
    else
        snprintf(procs, sizeof(procs), "/sys/fs/cgroup/pids/%s/cgroup.procs", f->rt.cgroup);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char *argv[] = {"sleep", "5", NULL};
    f->ex.argv = argv;
    pid_t pid = 0;
    assert_int_equal(rt_exec(&f->ex, f->init, -1, p[1], p[1], &pid, NULL, NULL), 0);
    close(p[1]);
    _cleanup_free_ char *list = NULL;
    assert_int_equal(fsu_read_file(procs, 65536, &list, NULL), 0);
    char want[32];
    snprintf(want, sizeof(want), "%d\n", (int)pid);
    assert_contains(list, want);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(p[0]);
}

static void test_confinement_and_fds(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *out =
        xsh(f,
            "grep -E '^(Cap|NoNewPrivs)' /proc/self/status; ls /proc/self/fd | tr '\\n' ' '; "
            "echo; cat /proc/keys | wc -c",
            NULL);
    assert_contains(out, "CapEff:\t00000000a80425fb");
    assert_contains(out, "CapBnd:\t00000000a80425fb");
    assert_contains(out, "CapInh:\t0000000000000000");
    assert_contains(out, "CapAmb:\t0000000000000000");
    assert_contains(out, "NoNewPrivs:\t0");
    assert_contains(out, "\n0 1 2 3 \n"); /* 3: ls's own directory */
    assert_contains(out, "\n0\n");        /* /proc/keys masked, as in the container */

    f->ex.caps = 0;
    f->ex.no_new_privs = true;
    _cleanup_free_ char *out2 = xsh(f, "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status", NULL);
    assert_contains(out2, "CapEff:\t0000000000000000");
    assert_contains(out2, "NoNewPrivs:\t1");

    f->ex.privileged = true;
    f->ex.no_new_privs = false;
    _cleanup_free_ char *out3 = xsh(f, "grep -E '^CapEff' /proc/self/status", NULL);
    assert_null(strstr(out3, "CapEff:\t0000000000000000"));
    assert_null(strstr(out3, "CapEff:\t00000000a80425fb"));
}

static void test_user_cwd_env(void **state)
{
    struct fx *f = *state;
    f->ex.user = "nobody";
    f->ex.cwd = "/etc";
    _cleanup_free_ char *out = xsh(f, "id; pwd; echo home=$HOME term=$TERM", NULL);
    assert_contains(out, "uid=65534(nobody) gid=65534(nobody)");
    assert_contains(out, "\n/etc\n");
    assert_contains(out, "home=/home term=xterm\n");

    f->ex.user = "1234:5678";
    f->ex.cwd = "";
    _cleanup_free_ char *out2 = xsh(f, "id -u; id -g; pwd", NULL);
    assert_string_equal(out2, "1234\n5678\n/\n");
}

static void test_errors(void **state)
{
    struct fx *f = *state;
    char *a1[] = {"nosuch", NULL};
    _cleanup_free_ char *m1 = xfail(f, a1);
    assert_string_equal(m1, "exec: \"nosuch\": executable file not found in $PATH");
    char *a2[] = {"/nonexistent", NULL};
    _cleanup_free_ char *m2 = xfail(f, a2);
    assert_string_equal(m2, "exec: \"/nonexistent\": stat /nonexistent: no such file or directory");
    char *a3[] = {"pwd", NULL};
    f->ex.cwd = "/nonexistent";
    _cleanup_free_ char *m3 = xfail(f, a3);
    assert_contains(m3, "chdir to cwd \"/nonexistent\" set in config.json failed");
    f->ex.cwd = "/proc/self/fd/3";
    _cleanup_free_ char *m4 = xfail(f, a3);
    assert_contains(m4, "chdir to cwd \"/proc/self/fd/3\"");
    f->ex.cwd = "";
    f->ex.user = "ghost";
    _cleanup_free_ char *m5 = xfail(f, a3);
    assert_string_equal(m5, "unable to find user ghost: no matching entries in passwd file");
    /* a container that is gone */
    f->ex.user = "";
    kill(f->init, SIGKILL);
    waitpid(f->init, NULL, 0);
    pid_t gone = f->init;
    f->init = 0;
    f->ex.argv = a3;
    pid_t pid = 0;
    struct err *e = NULL;
    assert_int_equal(rt_exec(&f->ex, gone, -1, -1, -1, &pid, NULL, &e), -1);
    assert_int_equal(e->kind, ERR_CONFLICT);
    err_free(e);
}

static void test_exec_spec_codec(void **state)
{
    (void)state;
    char *argv[] = {"sh", "-c", "exit 7", NULL};
    char *env[] = {"A=1", NULL};
    struct rt_exec_spec in = {.argv = argv,
                              .env = env,
                              .cwd = "/tmp",
                              .user = "nobody",
                              .tty = true,
                              .caps = RT_DEFAULT_CAPS,
                              .no_new_privs = true,
                              .privileged = false,
                              .cgroup_path = "berth/abc"};
    json_auto_t *j = rt_exec_spec_encode(&in);
    struct rt_exec_spec out;
    struct err *e = NULL;
    assert_int_equal(rt_exec_spec_decode(j, &out, &e), 0);
    assert_string_equal(out.argv[2], "exit 7");
    assert_null(out.argv[3]);
    assert_string_equal(out.env[0], "A=1");
    assert_string_equal(out.cwd, "/tmp");
    assert_string_equal(out.user, "nobody");
    assert_true(out.tty && out.no_new_privs && !out.privileged);
    assert_int_equal(out.caps, RT_DEFAULT_CAPS);
    assert_string_equal(out.cgroup_path, "berth/abc");
    rt_exec_spec_release(&out);

    json_auto_t *bad = json_pack("{s:[]}", "argv");
    assert_int_equal(rt_exec_spec_decode(bad, &out, &e), -1);
    err_freep(&e);
    json_auto_t *bad2 = json_pack("{s:[s], s:s}", "argv", "x", "cwd", "rel");
    assert_int_equal(rt_exec_spec_decode(bad2, &out, &e), -1);
    assert_non_null(strstr(e->msg, "absolute"));
    err_freep(&e);
    json_auto_t *bad3 = json_pack("{s:[s], s:s}", "argv", "x", "cgroup_path", "../x");
    assert_int_equal(rt_exec_spec_decode(bad3, &out, &e), -1);
    err_freep(&e);
    json_auto_t *min = json_pack("{s:[s]}", "argv", "x");
    assert_int_equal(rt_exec_spec_decode(min, &out, &e), 0);
    assert_string_equal(out.cwd, "");
    assert_non_null(out.env);
    assert_null(out.env[0]);
    rt_exec_spec_release(&out);
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
    rmdir("/sys/fs/cgroup/" RTF_CG_PARENT);
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_spec_codec),
        T(test_namespaces),
        T(test_confinement_and_fds),
        T(test_user_cwd_env),
        T(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
