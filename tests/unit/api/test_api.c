/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"

static void test_error_encode_escapes(void **state)
{
    char *s = api_error_encode("No such container: \"x\"\n");
    assert_string_equal(s, "{\"message\":\"No such container: \\\"x\\\"\\n\"}");
    free(s);
    /* Invalid UTF-8 never yields invalid JSON. */
    s = api_error_encode("bad \xff byte");
    json_auto_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    free(s);
}

static void test_error_decode(void **state)
{
    const char *json = "{\"message\":\"No such image: x:latest\"}\n";
    char *m = api_error_decode(json, strlen(json));
    assert_string_equal(m, "No such image: x:latest");
    free(m);
    const char *plain = "  client version 1.12 is too old\n";
    m = api_error_decode(plain, strlen(plain));
    assert_string_equal(m, "client version 1.12 is too old");
    free(m);
    m = api_error_decode("", 0);
    assert_string_equal(m, "");
    free(m);
}

static void test_json_parse(void **state)
{
    json_t *j = NULL;
    struct err *err = NULL;
    assert_int_equal(api_json_parse("{\"a\":1}", 7, &j, &err), 0);
    json_decref(j);
    assert_int_equal(api_json_parse("{invalid", 8, &j, &err), -1);
    assert_int_equal(err->kind, ERR_INVALID);
    assert_non_null(strstr(err->msg, "invalid JSON"));
    err_freep(&err);
    assert_int_equal(api_json_parse("{} trailing", 11, &j, &err), -1);
    err_freep(&err);
    assert_int_equal(api_json_parse("", 0, &j, &err), -1);
    assert_non_null(strstr(err->msg, "empty"));
    err_freep(&err);
    assert_int_equal(api_json_parse("{\"a\":1,\"a\":2}", 13, &j, &err), -1);
    err_freep(&err);
}

static void test_version_roundtrip(void **state)
{
    struct api_version v = {.platform_name = "Berth Engine",
                            .version = "0.1.0",
                            .api_version = API_VERSION,
                            .min_api_version = API_MIN_VERSION,
                            .git_commit = "abc",
                            .go_version = "gcc",
                            .os = "linux",
                            .arch = "amd64",
                            .kernel_version = "6.1",
                            .build_time = "t"};
    json_auto_t *j = api_version_encode(&v);
    /* The docker CLI reads the Engine component's details. */
    json_t *eng = json_array_get(json_object_get(j, "Components"), 0);
    json_t *d = json_object_get(eng, "Details");
    assert_string_equal(json_string_value(json_object_get(d, "ApiVersion")), API_VERSION);
    assert_string_equal(json_string_value(json_object_get(d, "Experimental")), "false");
    struct api_version out;
    struct err *err = NULL;
    assert_int_equal(api_version_decode(j, &out, &err), 0);
    assert_string_equal(out.api_version, API_VERSION);
    assert_string_equal(out.platform_name, "Berth Engine");
    assert_string_equal(out.kernel_version, "6.1");
    api_version_release(&out);
}

static void test_version_decode_requires_api_version(void **state)
{
    json_auto_t *j = json_pack("{s:s}", "Version", "1");
    struct api_version out;
    struct err *err = NULL;
    assert_int_equal(api_version_decode(j, &out, &err), -1);
    assert_non_null(strstr(err->msg, "ApiVersion"));
    err_free(err);
    json_auto_t *bad = json_pack("{s:i}", "ApiVersion", 1);
    err = NULL;
    assert_int_equal(api_version_decode(bad, &out, &err), -1);
    assert_non_null(strstr(err->msg, "ApiVersion"));
    err_free(err);
}

static void test_info_roundtrip(void **state)
{
    char *warn[] = {"WARNING: No swap limit support", NULL};
    char *insecure[] = {"127.0.0.0/8", "myreg:5000", NULL};
    char *none[] = {NULL};
    struct api_info in = {.id = "id",
                          .containers = 3,
                          .containers_running = 1,
                          .images = 2,
                          .driver = "overlay2",
                          .cgroup_version = "1",
                          .ncpu = 2,
                          .mem_total = 1 << 30,
                          .docker_root_dir = "/var/lib/berth",
                          .warnings = warn,
                          .insecure_registries = insecure,
                          .registry_mirrors = none,
                          .security_options = none,
                          .default_runtime = "berth",
                          .runtime_path = "berth-shim"};
    json_auto_t *j = api_info_encode(&in);
    json_t *rc = json_object_get(j, "RegistryConfig");
    assert_int_equal(json_array_size(json_object_get(rc, "InsecureRegistryCIDRs")), 1);
    assert_non_null(json_object_get(json_object_get(rc, "IndexConfigs"), "myreg:5000"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "Swarm"), "LocalNodeState")),
        "inactive");
    struct api_info out;
    struct err *err = NULL;
    assert_int_equal(api_info_decode(j, &out, &err), 0);
    assert_int_equal(out.containers, 3);
    assert_int_equal(out.containers_running, 1);
    assert_int_equal(out.images, 2);
    assert_int_equal(out.ncpu, 2);
    assert_string_equal(out.docker_root_dir, "/var/lib/berth");
    assert_string_equal(out.warnings[0], "WARNING: No swap limit support");
    assert_null(out.warnings[1]);
    assert_string_equal(out.runtime_path, "berth-shim");
    api_info_release(&out);
}

static void test_info_decode_wrong_type_names_field(void **state)
{
    json_auto_t *j = json_pack("{s:s}", "NCPU", "two");
    struct api_info out;
    struct err *err = NULL;
    assert_int_equal(api_info_decode(j, &out, &err), -1);
    assert_non_null(strstr(err->msg, "NCPU"));
    err_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_encode_escapes),
        cmocka_unit_test(test_error_decode),
        cmocka_unit_test(test_json_parse),
        cmocka_unit_test(test_version_roundtrip),
        cmocka_unit_test(test_version_decode_requires_api_version),
        cmocka_unit_test(test_info_roundtrip),
        cmocka_unit_test(test_info_decode_wrong_type_names_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
