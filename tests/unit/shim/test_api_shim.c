/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"

static void test_encode_requests(void **state)
{
    struct api_shim_msg m = {.op = "state"};
    char *s = api_shim_encode(&m);
    assert_string_equal(s, "{\"op\":\"state\"}\n");
    free(s);
    m = (struct api_shim_msg){.op = "kill", .signal = 9};
    s = api_shim_encode(&m);
    assert_string_equal(s, "{\"op\":\"kill\",\"signal\":9}\n");
    free(s);
}

static void test_encode_answers(void **state)
{
    struct api_shim_msg m = {.status = "running", .pid = 42};
    char *s = api_shim_encode(&m);
    assert_string_equal(s, "{\"status\":\"running\",\"pid\":42}\n");
    free(s);
    m = (struct api_shim_msg){.status = "exited",
                              .pid = 42,
                              .exit_code = 137,
                              .oom_killed = true,
                              .finished_at = "2024-01-02T03:04:05.000000001Z"};
    s = api_shim_encode(&m);
    assert_string_equal(s, "{\"status\":\"exited\",\"pid\":42,\"exit_code\":137,\"oom_killed\":"
                           "true,\"finished_at\":\"2024-01-02T03:04:05.000000001Z\"}\n");
    free(s);
    m = (struct api_shim_msg){.error = "container is not running"};
    s = api_shim_encode(&m);
    assert_string_equal(s, "{\"error\":\"container is not running\"}\n");
    free(s);
    m = (struct api_shim_msg){.error = "bad \xff utf-8"};
    s = api_shim_encode(&m);
    assert_non_null(strstr(s, "\"error\":"));
    free(s);
}

static void test_round_trip(void **state)
{
    struct api_shim_msg in = {
        .status = "exited", .pid = 7, .exit_code = 3, .finished_at = "2024-01-02T03:04:05Z"};
    char *s = api_shim_encode(&in);
    struct api_shim_msg out;
    struct err *err = NULL;
    assert_int_equal(api_shim_decode(s, strlen(s) - 1, &out, &err), 0);
    assert_string_equal(out.status, "exited");
    assert_int_equal(out.pid, 7);
    assert_int_equal(out.exit_code, 3);
    assert_false(out.oom_killed);
    assert_string_equal(out.finished_at, "2024-01-02T03:04:05Z");
    assert_null(out.op);
    api_shim_release(&out);
    free(s);
    const char *req = "{\"op\":\"kill\",\"signal\":15}";
    assert_int_equal(api_shim_decode(req, strlen(req), &out, &err), 0);
    assert_string_equal(out.op, "kill");
    assert_int_equal(out.signal, 15);
    api_shim_release(&out);
}

static struct api_shim_msg round_trip(const struct api_shim_msg *in, const char *want)
{
    char *s = api_shim_encode(in);
    if (want)
        assert_string_equal(s, want);
    struct api_shim_msg out;
    struct err *err = NULL;
    assert_int_equal(api_shim_decode(s, strlen(s) - 1, &out, &err), 0);
    free(s);
    return out;
}

static void test_interactive_ops(void **state)
{
    struct api_shim_msg m = {.op = "attach", .stdin_ = true, .stderr_ = true};
    struct api_shim_msg out =
        round_trip(&m, "{\"op\":\"attach\",\"stdin\":true,\"stdout\":false,\"stderr\":true}\n");
    assert_true(out.stdin_ && !out.stdout_ && out.stderr_);
    api_shim_release(&out);

    m = (struct api_shim_msg){.op = "resize", .h = 40, .w = 120};
    out = round_trip(&m, "{\"op\":\"resize\",\"h\":40,\"w\":120}\n");
    assert_int_equal(out.h, 40);
    assert_int_equal(out.w, 120);
    api_shim_release(&out);

    m = (struct api_shim_msg){.op = "start"};
    out = round_trip(&m, "{\"op\":\"start\"}\n");
    api_shim_release(&out);

    json_auto_t *spec = json_pack("{s:[s,s]}", "argv", "sh", "-i");
    m = (struct api_shim_msg){.op = "exec", .id = "abc", .exec = spec, .stdout_ = true};
    out = round_trip(&m, NULL);
    assert_string_equal(out.op, "exec");
    assert_string_equal(out.id, "abc");
    assert_true(json_equal(out.exec, spec));
    assert_true(!out.stdin_ && out.stdout_ && !out.stderr_);
    api_shim_release(&out);

    m = (struct api_shim_msg){.op = "exec_resize", .id = "abc", .h = 10, .w = 20};
    out = round_trip(&m, "{\"op\":\"exec_resize\",\"id\":\"abc\",\"h\":10,\"w\":20}\n");
    assert_string_equal(out.id, "abc");
    assert_int_equal(out.w, 20);
    api_shim_release(&out);

    /* answers */
    m = (struct api_shim_msg){.ok = true, .pid = 42};
    out = round_trip(&m, "{\"ok\":true,\"pid\":42}\n");
    assert_true(out.ok);
    assert_int_equal(out.pid, 42);
    api_shim_release(&out);
    m = (struct api_shim_msg){.ok = true};
    out = round_trip(&m, "{\"ok\":true}\n");
    api_shim_release(&out);
    m = (struct api_shim_msg){.status = "created"};
    out = round_trip(&m, "{\"status\":\"created\",\"pid\":0}\n");
    assert_string_equal(out.status, "created");
    api_shim_release(&out);
}

static void test_decode_errors(void **state)
{
    const char *bad[] = {
        "",
        "not json",
        "[1]",
        "{}",
        "{\"op\":1}",
        "{\"op\":\"kill\",\"signal\":\"TERM\"}",
        "{\"op\":\"kill\",\"signal\":99999999999}",
        "{\"status\":\"exited\",\"oom_killed\":1}",
        "{\"op\":\"state\",\"op\":\"wait\"}",
        "{\"op\":\"resize\",\"h\":-1,\"w\":80}",
        "{\"op\":\"resize\",\"h\":24,\"w\":65536}",
        "{\"op\":\"attach\",\"stdin\":1}",
        "{\"op\":\"exec\",\"exec\":[]}",
        "{\"op\":\"exec\",\"id\":7}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct api_shim_msg out;
        struct err *err = NULL;
        assert_int_equal(api_shim_decode(bad[i], strlen(bad[i]), &out, &err), -1);
        assert_int_equal(err->kind, ERR_INVALID);
        assert_null(out.op);
        err_free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_requests), cmocka_unit_test(test_encode_answers),
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_interactive_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
