/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/engine/engine.h"

/* Runs engine_config_parse on a NULL-terminated argument list. */
static int parse(struct engine_config *cfg, struct err **err, ...)
{
    char *argv[32] = {"berthd"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    return engine_config_parse(cfg, argc, argv, err);
}

static char *write_tmp(const char *text)
{
    char *path = xstrdup("/tmp/berth-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_defaults(void **state)
{
    struct engine_config cfg;
    struct err *err = NULL;
    assert_int_equal(parse(&cfg, &err, "--config-file", "/nonexistent/default-ok", NULL), -1);
    /* An explicitly named config file must exist. */
    assert_non_null(strstr(err->msg, "/nonexistent/default-ok"));
    err_freep(&err);
    engine_config_release(&cfg);
}

static void test_flags(void **state)
{
    _cleanup_free_ char *path = write_tmp("{}");
    struct engine_config cfg;
    struct err *err = NULL;
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "-H", "unix:///tmp/a.sock",
                           "--host=unix:///tmp/b.sock", "--data-root", "/d", "--exec-root=/e",
                           "--pidfile", "/p", "--log-level", "debug", "--group", "g", NULL),
                     ENGINE_PARSE_RUN);
    assert_string_equal(cfg.hosts[0], "unix:///tmp/a.sock");
    assert_string_equal(cfg.hosts[1], "unix:///tmp/b.sock");
    assert_null(cfg.hosts[2]);
    assert_string_equal(cfg.data_root, "/d");
    assert_string_equal(cfg.exec_root, "/e");
    assert_string_equal(cfg.pidfile, "/p");
    assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
    assert_string_equal(cfg.group, "g");
    assert_true(cfg.group_explicit);
    engine_config_release(&cfg);
    unlink(path);
}

static void test_bad_flags_are_named(void **state)
{
    _cleanup_free_ char *path = write_tmp("{}");
    struct engine_config cfg;
    struct err *err = NULL;
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--bogus", NULL), -1);
    assert_non_null(strstr(err->msg, "--bogus"));
    err_freep(&err);
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--log-level", "loud", NULL), -1);
    assert_non_null(strstr(err->msg, "--log-level"));
    err_freep(&err);
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "-H", "tcp://0.0.0.0:2375", NULL),
                     -1);
    assert_non_null(strstr(err->msg, "tcp://0.0.0.0:2375"));
    err_freep(&err);
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--data-root", "rel", NULL), -1);
    assert_non_null(strstr(err->msg, "--data-root"));
    err_freep(&err);
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--data-root", NULL), -1);
    assert_non_null(strstr(err->msg, "--data-root"));
    err_freep(&err);
    engine_config_release(&cfg);
    unlink(path);
}

static void test_file_and_flags_merge(void **state)
{
    _cleanup_free_ char *path =
        write_tmp("{\"data-root\": \"/from-file\", \"hosts\": [\"unix:///tmp/f.sock\"],"
                  " \"debug\": true, \"insecure-registries\": [\"r:5000\"],"
                  " \"live-restore\": true}");
    struct engine_config cfg;
    struct err *err = NULL;
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--data-root", "/from-flag", NULL),
                     ENGINE_PARSE_RUN);
    assert_string_equal(cfg.data_root, "/from-flag"); /* flags win */
    assert_string_equal(cfg.hosts[0], "unix:///tmp/f.sock");
    assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
    assert_string_equal(cfg.insecure_registries[0], "r:5000");
    assert_true(cfg.live_restore);
    engine_config_release(&cfg);
    unlink(path);
}

static void test_certs_dir(void **state)
{
    _cleanup_free_ char *empty = write_tmp("{}");
    _cleanup_free_ char *path = write_tmp("{\"certs-dir\": \"/from-file/certs.d\"}");
    struct engine_config cfg;
    struct err *err = NULL;
    assert_int_equal(parse(&cfg, &err, "--config-file", empty, NULL), ENGINE_PARSE_RUN);
    assert_string_equal(cfg.certs_dir, ENGINE_DEFAULT_CERTS_DIR);
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, NULL), ENGINE_PARSE_RUN);
    assert_string_equal(cfg.certs_dir, "/from-file/certs.d");
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--certs-dir=/flag", NULL),
                     ENGINE_PARSE_RUN);
    assert_string_equal(cfg.certs_dir, "/flag"); /* flags win */
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", empty, "--certs-dir", "certs", NULL), -1);
    assert_non_null(strstr(err->msg, "--certs-dir"));
    err_freep(&err);
    engine_config_release(&cfg);
    unlink(path);
    unlink(empty);
}

static void test_file_unknown_keys_are_named(void **state)
{
    _cleanup_free_ char *path = write_tmp("{\"data-root\": \"/x\", \"storage-drivr\": \"y\"}");
    struct engine_config cfg;
    struct err *err = NULL;
    assert_int_equal(parse(&cfg, &err, "--config-file", path, NULL), -1);
    assert_non_null(strstr(err->msg, "storage-drivr"));
    assert_non_null(strstr(err->msg, path));
    err_freep(&err);
    engine_config_release(&cfg);
    unlink(path);
}

static void test_file_type_errors(void **state)
{
    struct engine_config cfg = {0};
    struct err *err = NULL;
    const char *bad[] = {
        "{\"hosts\": \"unix:///x\"}", "{\"debug\": 1}", "{\"data-root\": 3}", "[]", "{",
        "{\"log-level\": \"loud\"}"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(engine_config_apply_json(&cfg, bad[i], strlen(bad[i]), 0, &err), -1);
        assert_non_null(err);
        err_freep(&err);
    }
    engine_config_release(&cfg);
}

static void test_live_restore(void **state)
{
    _cleanup_free_ char *path = write_tmp("{}");
    struct engine_config cfg;
    struct err *err = NULL;
    assert_int_equal(parse(&cfg, &err, "--config-file", path, NULL), ENGINE_PARSE_RUN);
    assert_true(cfg.live_restore); /* on by default */
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--live-restore=false", NULL),
                     ENGINE_PARSE_RUN);
    assert_false(cfg.live_restore);
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--live-restore", NULL),
                     ENGINE_PARSE_RUN);
    assert_true(cfg.live_restore);
    engine_config_release(&cfg);
    assert_int_equal(parse(&cfg, &err, "--config-file", path, "--live-restore=maybe", NULL), -1);
    assert_non_null(strstr(err->msg, "--live-restore"));
    err_freep(&err);
    engine_config_release(&cfg);
    unlink(path);
}

static void test_default_host(void **state)
{
    _cleanup_free_ char *path = write_tmp("{}");
    struct engine_config cfg;
    struct err *err = NULL;
    assert_int_equal(parse(&cfg, &err, "--config-file", path, NULL), ENGINE_PARSE_RUN);
    assert_string_equal(cfg.hosts[0], ENGINE_DEFAULT_HOST);
    assert_string_equal(cfg.data_root, ENGINE_DEFAULT_DATA_ROOT);
    assert_false(cfg.group_explicit);
    engine_config_release(&cfg);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_bad_flags_are_named),
        cmocka_unit_test(test_file_and_flags_merge),
        cmocka_unit_test(test_certs_dir),
        cmocka_unit_test(test_file_unknown_keys_are_named),
        cmocka_unit_test(test_file_type_errors),
        cmocka_unit_test(test_default_host),
        cmocka_unit_test(test_live_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
