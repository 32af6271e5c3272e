/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/router/router.h"

static int match(const char *pattern, const char *path, const char **params)
{
    static char storage[1024];
    return route_match(pattern, path, storage, sizeof(storage), params, ROUTE_MAX_PARAMS);
}

static void test_literal(void **state)
{
    const char *p[ROUTE_MAX_PARAMS];
    assert_int_equal(match("/_ping", "/_ping", p), 0);
    assert_int_equal(match("/_ping", "/_pingx", p), -1);
    assert_int_equal(match("/_ping", "/_ping/", p), -1);
    assert_int_equal(match("/containers/json", "/containers", p), -1);
    assert_int_equal(match("/info", "/", p), -1);
}

static void test_param(void **state)
{
    const char *p[ROUTE_MAX_PARAMS];
    assert_int_equal(match("/containers/{id}/json", "/containers/abc/json", p), 1);
    assert_string_equal(p[0], "abc");
    assert_int_equal(match("/containers/{id}/json", "/containers//json", p), -1);
    assert_int_equal(match("/containers/{id}/json", "/containers/a/b/json", p), -1);
    assert_int_equal(match("/exec/{id}/start", "/exec/f00/start", p), 1);
    assert_string_equal(p[0], "f00");
}

static void test_greedy_image_names(void **state)
{
    const char *p[ROUTE_MAX_PARAMS];
    assert_int_equal(
        match("/images/{name*}/json", "/images/127.0.0.1:5000/test/busybox:latest/json", p), 1);
    assert_string_equal(p[0], "127.0.0.1:5000/test/busybox:latest");
    /* A repository whose last path component is literally "json". */
    assert_int_equal(match("/images/{name*}/json", "/images/a/json/json", p), 1);
    assert_string_equal(p[0], "a/json");
    assert_int_equal(match("/images/{name*}", "/images/busybox", p), 1);
    assert_string_equal(p[0], "busybox");
    assert_int_equal(match("/images/{name*}/tag", "/images/tag", p), -1);
}

static void test_percent_decoding(void **state)
{
    const char *p[ROUTE_MAX_PARAMS];
    assert_int_equal(match("/images/{name*}/json", "/images/busybox%40sha256%3Aabc/json", p), 1);
    assert_string_equal(p[0], "busybox@sha256:abc");
    /* A NUL byte is never part of a name. */
    assert_int_equal(match("/containers/{id}/json", "/containers/a%00b/json", p), -1);
}

static void test_version_prefix(void **state)
{
    int v = 0;
    const char *rest = NULL;
    assert_int_equal(route_split_version("/v1.41/containers/json", &v, &rest), 1);
    assert_int_equal(v, 1041);
    assert_string_equal(rest, "/containers/json");
    assert_int_equal(route_split_version("/_ping", &v, &rest), 0);
    assert_int_equal(v, api_version_parse(API_VERSION));
    assert_string_equal(rest, "/_ping");
    /* /volumes is a path, not a version. */
    assert_int_equal(route_split_version("/volumes", &v, &rest), 0);
    assert_string_equal(rest, "/volumes");
    assert_int_equal(route_split_version("/v1..2/info", &v, &rest), -1);
    assert_int_equal(route_split_version("/v1.99/info", &v, &rest), 1);
    assert_int_equal(v, 1099);
}

static void test_api_version_parse(void **state)
{
    assert_int_equal(api_version_parse("1.44"), 1044);
    assert_int_equal(api_version_parse("1.9"), 1009);
    assert_true(api_version_parse("1.10") > api_version_parse("1.9"));
    assert_int_equal(api_version_parse("1."), -1);
    assert_int_equal(api_version_parse(".1"), -1);
    assert_int_equal(api_version_parse("1.2.3"), -1);
    assert_int_equal(api_version_parse("x"), -1);
}

static void test_query(void **state)
{
    struct route_query *q = route_query_parse("a=1&comment=my+msg&b=%2Fx%20y&c&changes=A&"
                                              "changes=B");
    assert_string_equal(route_query_get(q, "a"), "1");
    assert_string_equal(route_query_get(q, "comment"), "my msg");
    assert_string_equal(route_query_get(q, "b"), "/x y");
    assert_string_equal(route_query_get(q, "c"), "");
    assert_null(route_query_get(q, "d"));
    struct route_req rr = {.query = q};
    const char *const *all = route_query_all(&rr, "changes");
    assert_string_equal(all[0], "A");
    assert_string_equal(all[1], "B");
    assert_null(all[2]);
    route_query_free(q);
}

static void test_query_bool(void **state)
{
    struct route_query *q =
        route_query_parse("t1=1&t2=True&t3=yes&f1=0&f2=False&f3=no&f4=&f5=none&f6=+false+");
    struct route_req rr = {.query = q};
    assert_true(route_query_bool(&rr, "t1", false));
    assert_true(route_query_bool(&rr, "t2", false));
    assert_true(route_query_bool(&rr, "t3", false));
    assert_false(route_query_bool(&rr, "f1", true));
    assert_false(route_query_bool(&rr, "f2", true));
    assert_false(route_query_bool(&rr, "f3", true));
    assert_false(route_query_bool(&rr, "f4", true));
    assert_false(route_query_bool(&rr, "f5", true));
    assert_false(route_query_bool(&rr, "f6", true));
    assert_true(route_query_bool(&rr, "absent", true));
    assert_false(route_query_bool(&rr, "absent", false));
    route_query_free(q);
}

static void test_query_int(void **state)
{
    struct route_query *q = route_query_parse("t=10&bad=1x&neg=-1");
    struct route_req rr = {.query = q};
    struct err *err = NULL;
    long long v = 5;
    assert_int_equal(route_query_int(&rr, "absent", &v, &err), 0);
    assert_int_equal(v, 5);
    assert_int_equal(route_query_int(&rr, "t", &v, &err), 0);
    assert_int_equal(v, 10);
    assert_int_equal(route_query_int(&rr, "neg", &v, &err), 0);
    assert_int_equal(v, -1);
    assert_int_equal(route_query_int(&rr, "bad", &v, &err), -1);
    assert_int_equal(err->kind, ERR_INVALID);
    assert_non_null(strstr(err->msg, "bad"));
    err_free(err);
    route_query_free(q);
}

static void test_err_status_map(void **state)
{
    assert_int_equal(route_err_status(ERR_INVALID), 400);
    assert_int_equal(route_err_status(ERR_UNAUTHORIZED), 401);
    assert_int_equal(route_err_status(ERR_FORBIDDEN), 403);
    assert_int_equal(route_err_status(ERR_NOT_FOUND), 404);
    assert_int_equal(route_err_status(ERR_CONFLICT), 409);
    assert_int_equal(route_err_status(ERR_NOT_MODIFIED), 304);
    assert_int_equal(route_err_status(ERR_TOO_LARGE), 413);
    assert_int_equal(route_err_status(ERR_UNAVAILABLE), 503);
    assert_int_equal(route_err_status(ERR_INTERNAL), 500);
    assert_int_equal(route_err_status(ERR_SYSTEM), 500);
}

static void test_default_headers(void **state)
{
    char *h = route_default_headers();
    assert_non_null(strstr(h, "Api-Version: " API_VERSION "\r\n"));
    assert_non_null(strstr(h, "Ostype: linux\r\n"));
    assert_non_null(strstr(h, "Docker-Experimental: false\r\n"));
    assert_non_null(strstr(h, "Server: "));
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_param),
        cmocka_unit_test(test_greedy_image_names),
        cmocka_unit_test(test_percent_decoding),
        cmocka_unit_test(test_version_prefix),
        cmocka_unit_test(test_api_version_parse),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_query_bool),
        cmocka_unit_test(test_query_int),
        cmocka_unit_test(test_err_status_map),
        cmocka_unit_test(test_default_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
