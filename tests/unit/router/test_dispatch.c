/* SPDX-License-Identifier: Apache-2.0 */
/* The router and the system handlers behind a real httpd, over a socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "daemon/handlers/handlers.h"

struct fixture {
    uv_loop_t loop;
    struct httpd *httpd;
    struct router *router;
    struct handle_host host;
    struct handle_env env;
    int client;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    uv_loop_init(&f->loop);
    static char *none[] = {NULL};
    f->host = (struct handle_host){.engine_id = "id",
                                   .hostname = "h",
                                   .kernel_version = "6.1.0",
                                   .operating_system = "os",
                                   .os_version = "12",
                                   .arch = "amd64",
                                   .machine = "x86_64",
                                   .ncpu = 7,
                                   .mem_total = 1024,
                                   .cgroup_version = "1",
                                   .backing_fs = "extfs",
                                   .warnings = none};
    f->env = (struct handle_env){.host = &f->host,
                                 .data_root = "/data/root",
                                 .insecure_registries = none,
                                 .registry_mirrors = none};
    handle_env_init(&f->env);
    size_t n = 0;
    const struct route *const *tables = handle_route_tables(&n);
    f->router = route_new(tables, n, &f->env);
    struct httpd_limits lim;
    httpd_limits_default(&lim);
    f->httpd = httpd_new(&f->loop, &lim, &route_httpd_ops, f->router);
    char *hdrs = route_default_headers();
    httpd_set_default_headers(f->httpd, hdrs);
    free(hdrs);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(httpd_serve_fd(f->httpd, sv[0], NULL), 0);
    f->client = sv[1];
    fcntl(f->client, F_SETFL, O_NONBLOCK);
    *state = f;
    return 0;
}

static void on_done(void *ud)
{
    (void)ud;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close(f->client);
    httpd_shutdown(f->httpd, 0, on_done, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    route_free(f->router);
    handle_env_release(&f->env);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

/* Sends raw and runs the loop until one whole response (by Content-Length) has arrived. */
static char *roundtrip(struct fixture *f, const char *raw, bool head)
{
    assert_int_equal(write(f->client, raw, strlen(raw)), (ssize_t)strlen(raw));
    struct sb in = SB_INIT;
    for (int i = 0; i < 2000; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        char buf[4096];
        ssize_t n = read(f->client, buf, sizeof(buf));
        if (n > 0)
            sb_add(&in, buf, (size_t)n);
        const char *end = in.buf ? strstr(in.buf, "\r\n\r\n") : NULL;
        if (end) {
            const char *cl = strcasestr(in.buf, "\r\nContent-Length: ");
            size_t want = (size_t)(end + 4 - in.buf);
            if (cl && cl < end && !head)
                want += strtoul(cl + 18, NULL, 10);
            if (in.len >= want)
                return sb_steal(&in);
        }
        if (n == 0)
            break;
        usleep(500);
    }
    return sb_steal(&in);
}

static const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : "";
}

static void test_ping(void **state)
{
    struct fixture *f = *state;
    _cleanup_free_ char *r = roundtrip(f, "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n", false);
    assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strcasestr(r, "\r\nApi-Version: " API_VERSION "\r\n"));
    assert_non_null(strcasestr(r, "\r\nOstype: linux\r\n"));
    assert_non_null(strcasestr(r, "\r\nDocker-Experimental: false\r\n"));
    assert_string_equal(body_of(r), "OK");
}

static void test_head_ping_has_no_body(void **state)
{
    struct fixture *f = *state;
    _cleanup_free_ char *r = roundtrip(f, "HEAD /_ping HTTP/1.1\r\n\r\n", true);
    assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strcasestr(r, "\r\nContent-Length: 2\r\n"));
    assert_non_null(strcasestr(r, "\r\nApi-Version: "));
    /* The next response on the connection must start cleanly: no stray "OK". */
    _cleanup_free_ char *r2 = roundtrip(f, "GET /v1.41/_ping HTTP/1.1\r\n\r\n", false);
    assert_true(strncmp(r2, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_string_equal(body_of(r2), "OK");
}

static void test_version(void **state)
{
    struct fixture *f = *state;
    _cleanup_free_ char *r = roundtrip(f, "GET /version HTTP/1.1\r\n\r\n", false);
    assert_non_null(strcasestr(r, "\r\nContent-Type: application/json\r\n"));
    json_auto_t *j = json_loads(body_of(r), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "ApiVersion")), API_VERSION);
    assert_string_equal(json_string_value(json_object_get(j, "MinAPIVersion")), API_MIN_VERSION);
    assert_string_equal(json_string_value(json_object_get(j, "KernelVersion")), "6.1.0");
    json_t *c = json_array_get(json_object_get(j, "Components"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "Name")), "Engine");
}

static void test_info(void **state)
{
    struct fixture *f = *state;
    _cleanup_free_ char *r = roundtrip(f, "GET /v1.44/info HTTP/1.1\r\n\r\n", false);
    json_auto_t *j = json_loads(body_of(r), 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "NCPU")), 7);
    assert_string_equal(json_string_value(json_object_get(j, "DockerRootDir")), "/data/root");
    assert_string_equal(json_string_value(json_object_get(j, "CgroupVersion")), "1");
    assert_string_equal(json_string_value(json_object_get(j, "Architecture")), "x86_64");
    assert_int_equal(json_integer_value(json_object_get(j, "Containers")), 0);
}

static void test_not_found(void **state)
{
    struct fixture *f = *state;
    const char *reqs[] = {
        "GET /nope HTTP/1.1\r\n\r\n",
        "GET /v1.41/nope HTTP/1.1\r\n\r\n",
        "POST /_ping HTTP/1.1\r\nContent-Length: 0\r\n\r\n", /* wrong method: 404 as dockerd */
        "DELETE /version HTTP/1.1\r\n\r\n",
        "GET /v1.x/info HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
        _cleanup_free_ char *r = roundtrip(f, reqs[i], false);
        assert_true(strncmp(r, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
        /* Exactly application/json, or the docker CLI prints the raw JSON. */
        assert_non_null(strcasestr(r, "\r\nContent-Type: application/json\r\n"));
        assert_string_equal(body_of(r), "{\"message\":\"page not found\"}");
    }
}

static void test_version_too_new(void **state)
{
    struct fixture *f = *state;
    _cleanup_free_ char *r = roundtrip(f, "GET /v1.99/version HTTP/1.1\r\n\r\n", false);
    assert_true(strncmp(r, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    assert_non_null(strcasestr(r, "\r\nContent-Type: application/json\r\n"));
    assert_string_equal(body_of(r), "{\"message\":\"client version 1.99 is too new. Maximum "
                                    "supported API version is " API_VERSION "\"}");
}

static void test_version_too_old(void **state)
{
    struct fixture *f = *state;
    _cleanup_free_ char *r = roundtrip(f, "GET /v1.12/version HTTP/1.1\r\n\r\n", false);
    assert_true(strncmp(r, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    assert_non_null(strcasestr(r, "\r\nContent-Type: text/plain"));
    assert_non_null(strstr(body_of(r), "client version 1.12 is too old. Minimum supported API "
                                       "version is " API_MIN_VERSION));
}

static void test_oldest_and_newest_versions_served(void **state)
{
    struct fixture *f = *state;
    _cleanup_free_ char *r1 = roundtrip(f, "GET /v1.24/_ping HTTP/1.1\r\n\r\n", false);
    assert_true(strncmp(r1, "HTTP/1.1 200 OK\r\n", 17) == 0);
    _cleanup_free_ char *r2 = roundtrip(f, "GET /v" API_VERSION "/_ping HTTP/1.1\r\n\r\n", false);
    assert_true(strncmp(r2, "HTTP/1.1 200 OK\r\n", 17) == 0);
}

static void test_malformed_gets_json_400(void **state)
{
    struct fixture *f = *state;
    _cleanup_free_ char *r = roundtrip(f, "GARBAGE\r\n\r\n", false);
    assert_true(strncmp(r, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    assert_non_null(strcasestr(r, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strcasestr(r, "\r\nApi-Version: "));
    json_auto_t *j = json_loads(body_of(r), 0, NULL);
    assert_non_null(j);
    assert_non_null(json_string_value(json_object_get(j, "message")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_ping_has_no_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_too_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_too_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_and_newest_versions_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_gets_json_400, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
