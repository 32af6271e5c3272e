/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime unit tests that need no container: capability names and docker's add/drop rules,
 * the spec's JSON form, user resolution against a directory tree (FIFO and device passwd
 * files, id ranges, supplementary groups) and argv[0] lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "daemon/runtime/internal.h"

/* ---- capabilities ------------------------------------------------------------------------ */

static void test_cap_parse(void **state)
{
    (void)state;
    uint64_t b = 0;
    assert_int_equal(rt_cap_parse("NET_ADMIN", &b, NULL), 0);
    assert_int_equal(b, 1ULL << 12);
    assert_int_equal(rt_cap_parse("cap_net_admin", &b, NULL), 0);
    assert_int_equal(b, 1ULL << 12);
    assert_int_equal(rt_cap_parse("Cap_Chown", &b, NULL), 0);
    assert_int_equal(b, 1ULL);
    assert_int_equal(rt_cap_parse("CHECKPOINT_RESTORE", &b, NULL), 0);
    assert_int_equal(b, 1ULL << 40);
    assert_int_equal(rt_cap_parse("all", &b, NULL), 0);
    assert_int_equal(b, RT_ALL_CAPS);
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(rt_cap_parse("NET_NOPE", &b, &e), -1);
    assert_int_equal(e->kind, ERR_INVALID);
    assert_string_equal(e->msg, "unknown capability: \"NET_NOPE\"");
}

static void test_caps_compute(void **state)
{
    (void)state;
    uint64_t c = 0;
    char *add_admin[] = {"NET_ADMIN", NULL};
    char *drop_chown[] = {"CAP_CHOWN", NULL};
    char *all[] = {"ALL", NULL};
    char *add_bad[] = {"BOGUS", NULL};
    assert_int_equal(rt_caps_compute(NULL, NULL, false, &c, NULL), 0);
    assert_int_equal(c, RT_DEFAULT_CAPS);
    assert_int_equal(c, 0xa80425fbULL);
    assert_int_equal(rt_caps_compute(add_admin, drop_chown, false, &c, NULL), 0);
    assert_int_equal(c, (RT_DEFAULT_CAPS | (1ULL << 12)) & ~1ULL);
    assert_int_equal(rt_caps_compute(NULL, all, false, &c, NULL), 0);
    assert_int_equal(c, 0);
    assert_int_equal(rt_caps_compute(add_admin, all, false, &c, NULL), 0);
    assert_int_equal(c, 1ULL << 12);
    assert_int_equal(rt_caps_compute(all, drop_chown, false, &c, NULL), 0);
    assert_int_equal(c, RT_ALL_CAPS & ~1ULL);
    assert_int_equal(rt_caps_compute(NULL, all, true, &c, NULL), 0);
    assert_int_equal(c, RT_ALL_CAPS);
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(rt_caps_compute(add_bad, NULL, false, &c, &e), -1);
    assert_int_equal(e->kind, ERR_INVALID);
}

/* ---- spec JSON --------------------------------------------------------------------------- */

static void test_spec_roundtrip(void **state)
{
    (void)state;
    char *lowers[] = {"/l/2", "/l/1", NULL};
    char *argv[] = {"sh", "-c", "echo hi", NULL};
    char *env[] = {"PATH=/bin", "A=b", NULL};
    char *masked[] = {NULL};
    struct rt_mount binds[] = {{.src = "/h/a", .dst = "/a"},
                               {.src = "/h/f", .dst = "/etc/f", .ro = true}};
    struct rt_spec s = {
        .id = "abc",
        .lowerdirs = lowers,
        .upperdir = "/u",
        .workdir = "/w",
        .rootfs = "/m",
        .readonly_rootfs = true,
        .hosts_file = "/c/hosts",
        .mounts = binds,
        .nmounts = 2,
        .argv = argv,
        .env = env,
        .cwd = "/x",
        .user = "nobody:nogroup",
        .hostname = "h",
        .tty = true,
        .namespaces = RT_NS_PID | RT_NS_MOUNT | RT_NS_NET | RT_NS_CGROUP,
        .netns_path = "/run/netns/x",
        .caps = RT_DEFAULT_CAPS,
        .no_new_privs = true,
        .seccomp_unconfined = true,
        .masked_paths = masked, /* empty: nothing masked (not the defaults) */
        .cgroup_path = "berth/abc",
        .resources = {.memory = 1 << 26, .memory_swap = -1, .cpu_quota = 50000, .pids_limit = 9},
        .shm_size = 1 << 20,
    };
    json_auto_t *j = rt_spec_encode(&s);
    struct rt_spec d;
    assert_int_equal(rt_spec_decode(j, &d, NULL), 0);
    assert_string_equal(d.id, "abc");
    assert_string_equal(d.lowerdirs[1], "/l/1");
    assert_null(d.lowerdirs[2]);
    assert_string_equal(d.argv[2], "echo hi");
    assert_string_equal(d.env[1], "A=b");
    assert_string_equal(d.user, "nobody:nogroup");
    assert_null(d.hostname_file);
    assert_string_equal(d.hosts_file, "/c/hosts");
    assert_int_equal(d.nmounts, 2);
    assert_string_equal(d.mounts[1].src, "/h/f");
    assert_string_equal(d.mounts[1].dst, "/etc/f");
    assert_true(d.mounts[1].ro && !d.mounts[0].ro);
    assert_true(d.readonly_rootfs && d.tty && d.no_new_privs && !d.privileged);
    assert_true(d.seccomp_unconfined);
    assert_int_equal(d.namespaces, s.namespaces);
    assert_int_equal(d.caps, RT_DEFAULT_CAPS);
    assert_non_null(d.masked_paths);
    assert_null(d.masked_paths[0]);
    assert_null(d.readonly_paths); /* absent: defaults */
    assert_int_equal(d.resources.memory, 1 << 26);
    assert_int_equal(d.resources.memory_swap, -1);
    assert_int_equal(d.resources.cpu_quota, 50000);
    assert_int_equal(d.resources.pids_limit, 9);
    assert_int_equal(d.shm_size, 1 << 20);
    rt_spec_release(&d);
}

static void expect_decode_error(const char *text, const char *field)
{
    json_auto_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    struct rt_spec d;
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(rt_spec_decode(j, &d, &e), -1);
    assert_int_equal(e->kind, ERR_INVALID);
    assert_non_null(strstr(e->msg, field));
}

static void test_spec_decode_errors(void **state)
{
    (void)state;
    expect_decode_error("{\"argv\": \"sh\"}", "argv");
    expect_decode_error("{\"env\": [\"A=b\", 3]}", "env[1]");
    expect_decode_error("{\"tty\": 1}", "tty");
    expect_decode_error("{\"mounts\": [{\"src\": \"rel\", \"dst\": \"/a\"}]}", "mounts[0]");
    expect_decode_error("{\"mounts\": {}}", "mounts");
    expect_decode_error("{\"resources\": {\"memory\": \"1g\"}}", "memory");
    expect_decode_error("{\"namespaces\": [\"pid\", \"time\"]}", "namespaces[1]");
    expect_decode_error("{\"caps\": -1}", "caps");
    expect_decode_error("[]", "object");
}

/* ---- users ------------------------------------------------------------------------------- */

struct root {
    char dir[64];
    int fd;
};

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int root_setup(void **state)
{
    struct root *r = xcalloc(1, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/berth-rt-user-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    char etc[96];
    snprintf(etc, sizeof(etc), "%s/etc", r->dir);
    assert_int_equal(mkdir(etc, 0755), 0);
    write_file(etc, "passwd",
               "root:x:0:0:root:/root:/bin/sh\n"
               "# comment\n"
               "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
               "app:x:1000:1000::/home/app:/bin/sh\n"
               "broken line\n");
    write_file(etc, "group",
               "root:x:0:\n"
               "wheel:x:10:root,app\n"
               "audio:x:29:app\n"
               "nogroup:x:65534:\n"
               "app:x:1000:\n");
    r->fd = open(r->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(r->fd >= 0);
    *state = r;
    return 0;
}

static int root_teardown(void **state)
{
    struct root *r = *state;
    close(r->fd);
    fsu_rmtree(r->dir, NULL);
    free(r);
    return 0;
}

static void test_user_resolve(void **state)
{
    struct root *r = *state;
    struct rt_user u;
    struct rt_cerr ce;

    assert_int_equal(rt_user_resolve(r->fd, "", &u, &ce), 0);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 0);
    assert_string_equal(u.home, "/root");
    assert_int_equal(u.ngroups, 1); /* root is a member of wheel */
    assert_int_equal(u.groups[0], 10);

    assert_int_equal(rt_user_resolve(r->fd, "app", &u, &ce), 0);
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 1000);
    assert_string_equal(u.home, "/home/app");
    assert_int_equal(u.ngroups, 2);
    assert_int_equal(u.groups[0], 10);
    assert_int_equal(u.groups[1], 29);

    /* explicit group: primary gid, no supplementary groups */
    assert_int_equal(rt_user_resolve(r->fd, "app:nogroup", &u, &ce), 0);
    assert_int_equal(u.gid, 65534);
    assert_int_equal(u.ngroups, 0);

    assert_int_equal(rt_user_resolve(r->fd, "65534", &u, &ce), 0);
    assert_int_equal(u.uid, 65534);
    assert_string_equal(u.home, "/nonexistent");

    /* numeric ids without entries are accepted */
    assert_int_equal(rt_user_resolve(r->fd, "4242:4343", &u, &ce), 0);
    assert_int_equal(u.uid, 4242);
    assert_int_equal(u.gid, 4343);
    assert_string_equal(u.home, "/");
    assert_int_equal(u.ngroups, 0);

    assert_true(rt_user_resolve(r->fd, "ghost", &u, &ce) < 0);
    assert_string_equal(ce.msg, "unable to find user ghost: no matching entries in passwd file");
    assert_true(rt_user_resolve(r->fd, "app:ghosts", &u, &ce) < 0);
    assert_string_equal(ce.msg, "unable to find group ghosts: no matching entries in group file");
    /* CVE-2024-40635: ids above 2^31-1 */
    assert_true(rt_user_resolve(r->fd, "4294967296", &u, &ce) < 0);
    assert_string_equal(ce.msg, "uids and gids must be in range 0-2147483647");
    assert_true(rt_user_resolve(r->fd, "2147483648", &u, &ce) < 0);
    assert_true(rt_user_resolve(r->fd, "0:2147483648", &u, &ce) < 0);
    assert_true(rt_user_resolve(r->fd, "-1", &u, &ce) < 0);
    assert_int_equal(rt_user_resolve(r->fd, "2147483647", &u, &ce), 0);
}

static void alarm_handler(int sig)
{
    (void)sig;
    fail_msg("user resolution hung");
}

/* CVE-2024-9676: a FIFO or a device as /etc/passwd must neither hang nor eat memory. */
static void test_user_hostile_files(void **state)
{
    struct root *r = *state;
    struct rt_user u;
    struct rt_cerr ce;
    char p[128];
    snprintf(p, sizeof(p), "%s/etc/passwd", r->dir);
    signal(SIGALRM, alarm_handler);
    alarm(5);

    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_true(rt_user_resolve(r->fd, "nobody", &u, &ce) < 0);
    assert_non_null(strstr(ce.msg, "not a regular file"));
    /* a numeric user still needs the file to be sane */
    assert_true(rt_user_resolve(r->fd, "0", &u, &ce) < 0);

    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink("/dev/zero", p), 0);
    assert_true(rt_user_resolve(r->fd, "nobody", &u, &ce) < 0);

    /* an absolute symlink resolves inside the root, never to the host's file */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink("/etc/shadow-inside", p), 0);
    write_file(r->dir, "etc/shadow-inside", "inside:x:7:7::/in:/bin/sh\n");
    assert_int_equal(rt_user_resolve(r->fd, "inside", &u, &ce), 0);
    assert_int_equal(u.uid, 7);
    assert_true(rt_user_resolve(r->fd, "root", &u, &ce) < 0);

    /* missing file: numeric ok, names not */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(rt_user_resolve(r->fd, "12", &u, &ce), 0);
    assert_true(rt_user_resolve(r->fd, "nobody", &u, &ce) < 0);

    /* an endless line is skipped, not buffered */
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 0; i < 100000; i++)
        fputs("xxxxxxxxxx", f);
    fputs("\nlate:x:5:5::/l:/bin/sh\n", f);
    fclose(f);
    assert_int_equal(rt_user_resolve(r->fd, "late", &u, &ce), 0);
    assert_int_equal(u.uid, 5);
    alarm(0);
}

/* ---- argv[0] lookup ---------------------------------------------------------------------- */

static void test_lookup(void **state)
{
    (void)state;
    char out[PATH_MAX];
    struct rt_cerr ce;
    assert_int_equal(rt_lookup_exec("sh", "/nonexistent-dir:/bin", out, sizeof(out), &ce), 0);
    assert_string_equal(out, "/bin/sh");
    assert_true(rt_lookup_exec("no-such-tool", "/bin:/usr/bin", out, sizeof(out), &ce) < 0);
    assert_string_equal(ce.msg, "exec: \"no-such-tool\": executable file not found in $PATH");
    assert_true(rt_lookup_exec("/nonexistent", "/bin", out, sizeof(out), &ce) < 0);
    assert_string_equal(ce.msg,
                        "exec: \"/nonexistent\": stat /nonexistent: no such file or directory");
    assert_true(rt_lookup_exec("/etc", "/bin", out, sizeof(out), &ce) < 0);
    assert_string_equal(ce.msg, "exec: \"/etc\": is a directory");
    write_file("/tmp", "berth-rt-noexec", "not a program\n");
    chmod("/tmp/berth-rt-noexec", 0644);
    assert_true(rt_lookup_exec("/tmp/berth-rt-noexec", "/bin", out, sizeof(out), &ce) < 0);
    assert_string_equal(ce.msg, "exec: \"/tmp/berth-rt-noexec\": permission denied");
    unlink("/tmp/berth-rt-noexec");
    assert_true(rt_lookup_exec("passwd", "/etc", out, sizeof(out), &ce) < 0);
}

static void test_cgroup_path_check(void **state)
{
    (void)state;
    assert_int_equal(rt_cgroup_path_check("berth/abc", NULL), 0);
    assert_int_equal(rt_cgroup_path_check("/berth/abc", NULL), 0);
    assert_int_equal(rt_cgroup_path_check("berth/../..", NULL), -1);
    assert_int_equal(rt_cgroup_path_check("..", NULL), -1);
    assert_int_equal(rt_cgroup_path_check("", NULL), -1);
    assert_int_equal(rt_cgroup_path_check(NULL, NULL), -1);
    /* no resource checks pass with nonsense values */
    struct rt_resources res = {.memory = 1024};
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(rt_cgroup_create("berth-test/never", &res, false, &e), -1);
    assert_string_equal(e->msg, "Minimum memory limit allowed is 6MB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_parse),
        cmocka_unit_test(test_caps_compute),
        cmocka_unit_test(test_spec_roundtrip),
        cmocka_unit_test(test_spec_decode_errors),
        cmocka_unit_test_setup_teardown(test_user_resolve, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(test_user_hostile_files, root_setup, root_teardown),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_cgroup_path_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
