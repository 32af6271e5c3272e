/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "common/common.h"

static void test_err_wrap(void **state)
{
    struct err *err = NULL;
    assert_int_equal(err_set(&err, ERR_NOT_FOUND, 0, "No such container: %s", "x"), -1);
    assert_int_equal(err_wrap(&err, "inspect"), -1);
    assert_string_equal(err->msg, "inspect: No such container: x");
    assert_int_equal(err->kind, ERR_NOT_FOUND);
    err_freep(&err);
    assert_int_equal(err_set(&err, ERR_SYSTEM, 2, "open %s", "/x"), -1);
    assert_string_equal(err->msg, "open /x: No such file or directory");
    err_freep(&err);
    assert_int_equal(err_set(NULL, ERR_SYSTEM, 0, "ignored"), -1);
}

static void test_sb(void **state)
{
    struct sb sb = SB_INIT;
    assert_string_equal(sb_str(&sb), "");
    sb_adds(&sb, "hello");
    sb_addc(&sb, ' ');
    sb_addf(&sb, "%d %s", 42, "x");
    assert_string_equal(sb_str(&sb), "hello 42 x");
    char big[1000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sb_addf(&sb, "%s", big);
    assert_int_equal(sb.len, 10 + 999);
    sb_consume(&sb, 6);
    assert_true(strncmp(sb_str(&sb), "42 x", 4) == 0);
    char *s = sb_steal(&sb);
    assert_int_equal(sb.len, 0);
    free(s);
    sb_release(&sb);
}

/* Both writers: replace twice, the mode kept, no temp file left, a missing directory refused
 * with the path named. */
static void check_writer(int (*write)(const char *, const void *, size_t, mode_t, struct err **),
                         mode_t mode)
{
    char dir[] = "/tmp/berth-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    _cleanup_free_ char *path = xasprintf("%s/state.json", dir);
    struct err *err = NULL;
    assert_int_equal(write(path, "{\"a\":1}", 7, mode, &err), 0);
    assert_int_equal(write(path, "{}", 2, mode, &err), 0);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(fsu_read_file(path, 100, &text, &len), 0);
    assert_string_equal(text, "{}");
    free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, mode);
    assert_int_equal(fsu_read_file(path, 1, &text, &len), -EFBIG);
    /* No temp file is left behind. */
    _cleanup_free_ char *cmd = xasprintf("test $(ls %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    _cleanup_free_ char *bad = xasprintf("%s/missing/state.json", dir);
    assert_int_equal(write(bad, "x", 1, mode, &err), -1);
    assert_non_null(strstr(err->msg, "missing/state.json"));
    err_free(err);
    unlink(path);
    rmdir(dir);
}

static void test_write_atomic(void **state)
{
    check_writer(fsu_write_atomic, 0600);
}

static void test_write_replace(void **state)
{
    check_writer(fsu_write_replace, 0644);
}

/* lazy_sym and LAZY_FN against libc itself: the symbol found is the function. */
static struct lazy_lib lib_c = LAZY_LIB_INIT("libc.so.6");

static size_t lazy_strlen(const char *s)
{
    LAZY_FN(&lib_c, strlen);
    return lazy_f_(s);
}

static void test_lazy(void **state)
{
    assert_int_equal(lazy_strlen("berth"), 5);
    assert_int_equal(lazy_strlen("containers"), 10); /* the cached pointer */
    void *p = lazy_sym(&lib_c, "strlen");
    size_t (*fn)(const char *);
    memcpy(&fn, &p, sizeof(fn));
    assert_int_equal(fn("abc"), 3);
    assert_non_null(lib_c.handle);
}

static void test_mkdir_p(void **state)
{
    char dir[] = "/tmp/berth-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    _cleanup_free_ char *deep = xasprintf("%s/a/b/c", dir);
    struct err *err = NULL;
    assert_int_equal(fsu_mkdir_p(deep, 0700, &err), 0);
    assert_int_equal(fsu_mkdir_p(deep, 0700, &err), 0);
    _cleanup_free_ char *file = xasprintf("%s/f", dir);
    assert_int_equal(fsu_write_atomic(file, "x", 1, 0600, &err), 0);
    _cleanup_free_ char *under = xasprintf("%s/f/g", dir);
    assert_int_equal(fsu_mkdir_p(under, 0700, &err), -1);
    err_freep(&err);
    _cleanup_free_ char *cmd = xasprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* fsu_rmtree_at: the tree goes, a symlink in it goes without its target, depth is bounded. */
static void test_rmtree_at(void **state)
{
    char dir[] = "/tmp/berth-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    _cleanup_free_ char *cmd =
        xasprintf("set -e; cd %s; mkdir -p keep/inner t/a/b t/c; echo k >keep/inner/f; "
                  "echo x >t/a/b/f; ln -s ../../keep t/a/link; ln -s %s/keep/inner t/c/abs; "
                  "mkdir -p deep; cd deep; for i in $(seq 1 520); do mkdir d; cd d; done",
                  dir, dir);
    assert_int_equal(system(cmd), 0);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct err *err = NULL;
    assert_int_equal(fsu_rmtree_at(fd, "t", &err), 0);
    struct stat st;
    assert_int_equal(fstatat(fd, "t", &st, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(fstatat(fd, "keep/inner/f", &st, 0), 0); /* the links' targets stay */
    assert_int_equal(fsu_rmtree_at(fd, "t", &err), 0);        /* missing is success */
    assert_int_equal(fsu_rmtree_at(fd, "deep", &err), -1);
    assert_non_null(err);
    assert_int_equal(err->kind, ERR_INVALID);
    err_freep(&err);
    assert_int_equal(fsu_rmtree_at(fd, "keep", &err), 0);
    assert_int_equal(fstatat(fd, "keep", &st, AT_SYMLINK_NOFOLLOW), -1);
    close(fd);
    _cleanup_free_ char *rm = xasprintf("rm -rf %s", dir);
    assert_int_equal(system(rm), 0);
}

static void test_log_level_parse(void **state)
{
    enum log_level l;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_LVL_DEBUG);
    assert_int_equal(log_level_parse("WARN", &l), 0);
    assert_int_equal(l, LOG_LVL_WARN);
    assert_int_equal(log_level_parse("warning", &l), 0);
    assert_int_equal(log_level_parse("loud", &l), -1);
}

static void test_times(void **state)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 5};
    char out[40];
    time_rfc3339nano(&ts, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000005Z");
    time_http_date(784111777, out);
    assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
}

static void test_digest(void **state)
{
    char out[DIGEST_STR_LEN + 1];
    digest_buf("abc", 3, out);
    assert_string_equal(out,
                        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    struct digest_ctx *d = digest_new();
    digest_update(d, "a", 1);
    digest_update(d, "bc", 2);
    digest_final(d, out);
    assert_string_equal(out,
                        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(digest_valid(out));
    assert_string_equal(digest_hex(out), out + 7);
    assert_false(digest_valid("sha256:../../../../tmp/x"));
    assert_false(
        digest_valid("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    assert_false(
        digest_valid("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"));
    assert_false(digest_valid("md5:ba7816bf8f01cfea414140de5dae2223"));
    assert_false(digest_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_wrap),      cmocka_unit_test(test_sb),
        cmocka_unit_test(test_write_atomic),  cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_rmtree_at),     cmocka_unit_test(test_log_level_parse),
        cmocka_unit_test(test_times),         cmocka_unit_test(test_digest),
        cmocka_unit_test(test_write_replace), cmocka_unit_test(test_lazy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
