/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/logs/logs.h"
#include "daemon/shim/shim.h"

static char **strv(const char *a, const char *b)
{
    char **v = calloc(3, sizeof(*v));
    v[0] = strdup(a);
    v[1] = b ? strdup(b) : NULL;
    return v;
}

static void fill(struct shim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->spec.id = strdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    c->spec.lowerdirs = strv("/l1", "/l2");
    c->spec.upperdir = strdup("/u");
    c->spec.workdir = strdup("/w");
    c->spec.rootfs = strdup("/m");
    c->spec.argv = strv("sh", "-c");
    c->spec.env = strv("PATH=/bin", NULL);
    c->spec.cwd = strdup("/");
    c->spec.user = strdup("");
    c->spec.hostname = strdup("h");
    c->spec.tty = true;
    c->spec.namespaces = RT_NS_PID | RT_NS_MOUNT;
    c->spec.caps = RT_DEFAULT_CAPS;
    c->spec.cgroup_path = strdup("berth/x");
    c->spec.resources.memory = 1 << 20;
    c->log_path = strdup("/data/c/c-json.log");
    c->log_max_size = 1000;
    c->log_max_files = 3;
    c->exit_file = strdup("/data/c/exit.json");
    c->open_stdin = true;
    c->stdin_once = true;
    c->wait_start = true;
    c->console_h = 40;
    c->console_w = 120;
}

static void test_round_trip(void **state)
{
    struct shim_config c;
    fill(&c);
    json_auto_t *j = shim_config_encode(&c);
    char *text = json_dumps(j, JSON_COMPACT);
    json_auto_t *back = json_loads(text, 0, NULL);
    free(text);
    struct shim_config d;
    struct err *err = NULL;
    assert_int_equal(shim_config_decode(back, &d, &err), 0);
    assert_string_equal(d.log_path, "/data/c/c-json.log");
    assert_string_equal(d.exit_file, "/data/c/exit.json");
    assert_int_equal(d.log_max_size, 1000);
    assert_int_equal(d.log_max_files, 3);
    assert_true(d.open_stdin);
    assert_true(d.stdin_once);
    assert_true(d.wait_start);
    assert_int_equal(d.console_h, 40);
    assert_int_equal(d.console_w, 120);
    assert_true(d.spec.tty);
    assert_string_equal(d.spec.argv[1], "-c");
    assert_string_equal(d.spec.lowerdirs[1], "/l2");
    assert_string_equal(d.spec.cgroup_path, "berth/x");
    assert_int_equal(d.spec.resources.memory, 1 << 20);
    assert_int_equal(d.spec.caps, RT_DEFAULT_CAPS);
    shim_config_release(&d);
    shim_config_release(&c);
}

static void test_defaults_and_errors(void **state)
{
    struct shim_config c;
    fill(&c);
    json_auto_t *j = shim_config_encode(&c);
    shim_config_release(&c);
    json_object_del(j, "log_max_size");
    json_object_del(j, "log_max_files");
    const char *added[] = {"open_stdin", "stdin_once", "wait_start", "console_h", "console_w"};
    for (size_t i = 0; i < ARRAY_SIZE(added); i++) /* a config from before they existed */
        json_object_del(j, added[i]);
    struct shim_config d;
    struct err *err = NULL;
    assert_int_equal(shim_config_decode(j, &d, &err), 0);
    assert_int_equal(d.log_max_size, LOGS_DEFAULT_MAX_SIZE);
    assert_int_equal(d.log_max_files, LOGS_DEFAULT_MAX_FILES);
    assert_false(d.open_stdin);
    assert_false(d.stdin_once);
    assert_false(d.wait_start);
    assert_int_equal(d.console_h, 0);
    assert_int_equal(d.console_w, 0);
    shim_config_release(&d);

    const char *keys[] = {"log_path",   "exit_file",  "log_max_files", "open_stdin", "spec",
                          "stdin_once", "wait_start", "console_h",     "console_w"};
    json_t *vals[] = {json_string("relative"), json_integer(1),  json_integer(0),
                      json_string("yes"),      json_string("x"), json_integer(1),
                      json_string("no"),       json_integer(-1), json_integer(70000)};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        json_auto_t *k = json_deep_copy(j);
        json_object_set_new(k, keys[i], vals[i]);
        assert_int_equal(shim_config_decode(k, &d, &err), -1);
        assert_int_equal(err->kind, ERR_INVALID);
        assert_non_null(strstr(err->msg, keys[i]));
        err_freep(&err);
    }
    json_auto_t *arr = json_array();
    assert_int_equal(shim_config_decode(arr, &d, &err), -1);
    err_freep(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_defaults_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
