/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "api/api.h"
#include "client/http.h"

/*
 * Feeds data to a connection through a socketpair, from a child process that writes it in
 * pieces of `step` bytes (0: all at once) and then closes its end.
 */
static pid_t feed(const char *data, size_t len, size_t step, struct cli_conn *c)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        size_t off = 0;
        while (off < len) {
            size_t n = step && len - off > step ? step : len - off;
            if (write(sv[1], data + off, n) < 0)
                _exit(1);
            off += n;
            if (step)
                usleep(200);
        }
        _exit(0);
    }
    close(sv[1]);
    cli_conn_init(c, sv[0]);
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int read_one(const char *data, size_t step, bool head, struct cli_http_resp *resp,
                    char **errmsg)
{
    struct cli_conn c;
    struct err *err = NULL;
    pid_t pid = feed(data, strlen(data), step, &c);
    int r = cli_http_read_response(&c, head, resp, NULL, NULL, &err);
    cli_conn_release(&c);
    reap(pid);
    *errmsg = err ? xstrdup(err->msg) : NULL;
    err_free(err);
    return r;
}

static void test_content_length(void **state)
{
    static const char *const raw = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Content-Length: 11\r\n\r\n{\"a\":\"bc\"}\nEXTRA";
    size_t steps[] = {0, 1, 7};
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        struct cli_http_resp resp;
        char *msg = NULL;
        assert_int_equal(read_one(raw, steps[i], false, &resp, &msg), 0);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.reason, "OK");
        assert_string_equal(cli_http_resp_header(&resp, "api-version"), "1.41");
        assert_int_equal(resp.body.len, 11);
        assert_memory_equal(resp.body.buf, "{\"a\":\"bc\"}\n", 11);
        cli_http_resp_release(&resp);
    }
}

static void test_chunked(void **state)
{
    static const char *const raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n"
                                   "0\r\nX-Trailer: t\r\n\r\n";
    size_t steps[] = {0, 1, 3};
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        struct cli_http_resp resp;
        char *msg = NULL;
        assert_int_equal(read_one(raw, steps[i], false, &resp, &msg), 0);
        assert_string_equal(resp.body.buf, "hello 0123456789");
        cli_http_resp_release(&resp);
    }
}

struct pieces {
    int n;
    struct sb all;
};

static int on_chunk(const char *data, size_t len, void *ud, struct err **err)
{
    struct pieces *p = ud;
    p->n++;
    sb_add(&p->all, data, len);
    return 0;
}

static void test_chunk_callback(void **state)
{
    static const char *const raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
    struct cli_conn c;
    struct err *err = NULL;
    struct cli_http_resp resp;
    struct pieces p = {0, SB_INIT};
    pid_t pid = feed(raw, strlen(raw), 0, &c);
    assert_int_equal(cli_http_read_response(&c, false, &resp, on_chunk, &p, &err), 0);
    assert_string_equal(p.all.buf, "abcdef");
    assert_true(p.n >= 2);
    assert_int_equal(resp.body.len, 0);
    cli_http_resp_release(&resp);
    sb_release(&p.all);
    cli_conn_release(&c);
    reap(pid);
}

static void test_until_eof_and_head(void **state)
{
    struct cli_http_resp resp;
    char *msg = NULL;
    assert_int_equal(
        read_one("HTTP/1.0 500 Oops\r\nX: y\r\n\r\nbody to eof", 4, false, &resp, &msg), 0);
    assert_int_equal(resp.status, 500);
    assert_string_equal(resp.body.buf, "body to eof");
    cli_http_resp_release(&resp);

    /* HEAD: Content-Length describes a body that is not sent. */
    assert_int_equal(read_one("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", 0, true, &resp, &msg),
                     0);
    assert_int_equal(resp.body.len, 0);
    cli_http_resp_release(&resp);

    /* 100 Continue is skipped */
    assert_int_equal(read_one("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 0,
                              false, &resp, &msg),
                     0);
    assert_int_equal(resp.status, 204);
    cli_http_resp_release(&resp);
}

static void test_malformed(void **state)
{
    struct cli_http_resp resp;
    char *msg = NULL;
    assert_int_equal(read_one("garbage\r\n\r\n", 0, false, &resp, &msg), -1);
    free(msg);
    cli_http_resp_release(&resp);
    assert_int_equal(
        read_one("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, false, &resp, &msg), -1);
    assert_non_null(strstr(msg, "unexpected EOF"));
    free(msg);
    cli_http_resp_release(&resp);
    assert_int_equal(read_one("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
                              false, &resp, &msg),
                     -1);
    free(msg);
    cli_http_resp_release(&resp);
    assert_int_equal(
        read_one("HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\n", 0, false, &resp, &msg), -1);
    free(msg);
    cli_http_resp_release(&resp);
}

static void test_oversized_headers(void **state)
{
    struct sb raw = SB_INIT;
    sb_adds(&raw, "HTTP/1.1 200 OK\r\n");
    while (raw.len < 70 * 1024)
        sb_adds(&raw, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    sb_adds(&raw, "\r\n");
    struct cli_http_resp resp;
    char *msg = NULL;
    assert_int_equal(read_one(raw.buf, 0, false, &resp, &msg), -1);
    assert_non_null(strstr(msg, "exceed"));
    free(msg);
    cli_http_resp_release(&resp);
    sb_release(&raw);
}

static void test_host_parse(void **state)
{
    char *path = NULL;
    struct err *err = NULL;
    assert_int_equal(cli_host_parse("unix:///run/berth.sock", &path, &err), 0);
    assert_string_equal(path, "/run/berth.sock");
    free(path);
    assert_int_equal(cli_host_parse("tcp://1.2.3.4:2375", &path, &err), -1);
    assert_string_equal(err->msg, "unsupported protocol scheme 'tcp' in --host");
    err_freep(&err);
    assert_int_equal(cli_host_parse("/run/berth.sock", &path, &err), -1);
    err_freep(&err);
    assert_int_equal(cli_host_parse("unix://relative", &path, &err), -1);
    err_freep(&err);

    struct cli_client cl;
    setenv("BERTH_HOST", "unix:///tmp/env.sock", 1);
    assert_int_equal(cli_client_init(&cl, NULL, &err), 0);
    assert_string_equal(cl.sock_path, "/tmp/env.sock");
    cli_client_release(&cl);
    assert_int_equal(cli_client_init(&cl, "unix:///tmp/flag.sock", &err), 0);
    assert_string_equal(cl.sock_path, "/tmp/flag.sock");
    cli_client_release(&cl);
    unsetenv("BERTH_HOST");
    assert_int_equal(cli_client_init(&cl, NULL, &err), 0);
    assert_string_equal(cl.host, CLI_DEFAULT_HOST);
    cli_client_release(&cl);
}

static void test_negotiate(void **state)
{
    char v[16];
    cli_version_negotiate("1.41", v);
    assert_string_equal(v, "1.41");
    cli_version_negotiate("1.99", v);
    assert_string_equal(v, API_VERSION);
    cli_version_negotiate(NULL, v);
    assert_string_equal(v, "1.24");
    cli_version_negotiate("", v);
    assert_string_equal(v, "1.24");
    cli_version_negotiate("1.12", v);
    assert_string_equal(v, "1.12");
    cli_version_negotiate("bogus", v);
    assert_string_equal(v, "1.24");
}

static void test_unreachable(void **state)
{
    struct cli_client cl;
    struct err *err = NULL;
    assert_int_equal(cli_client_init(&cl, "unix:///nonexistent/berth.sock", &err), 0);
    json_t *out = NULL;
    assert_int_equal(cli_client_call(&cl, "GET", "/version", NULL, &out, &err), -1);
    assert_int_equal(err->kind, ERR_UNAVAILABLE);
    assert_string_equal(err->msg, "Cannot connect to the berth daemon at "
                                  "unix:///nonexistent/berth.sock. Is the berth daemon running?");
    err_freep(&err);
    cli_client_release(&cl);
}

static void test_status_error(void **state)
{
    struct cli_http_resp resp;
    char *msg = NULL;
    struct err *err = NULL;
    assert_int_equal(read_one("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                              "Content-Length: 35\r\n\r\n{\"message\":\"No such container: x\"}\n",
                              0, false, &resp, &msg),
                     0);
    assert_int_equal(cli_http_status_error(&resp, &err), -1);
    assert_int_equal(err->kind, ERR_NOT_FOUND);
    assert_string_equal(err->msg, "Error response from daemon: No such container: x");
    err_freep(&err);
    cli_http_resp_release(&resp);

    /* Not exactly application/json: the body is shown as text, like docker. */
    assert_int_equal(read_one("HTTP/1.1 409 Conflict\r\nContent-Type: text/plain\r\n"
                              "Content-Length: 9\r\n\r\n in use \n",
                              0, false, &resp, &msg),
                     0);
    assert_int_equal(cli_http_status_error(&resp, &err), -1);
    assert_int_equal(err->kind, ERR_CONFLICT);
    assert_string_equal(err->msg, "Error response from daemon: in use");
    err_freep(&err);
    cli_http_resp_release(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length), cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunk_callback), cmocka_unit_test(test_until_eof_and_head),
        cmocka_unit_test(test_malformed),      cmocka_unit_test(test_oversized_headers),
        cmocka_unit_test(test_host_parse),     cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_unreachable),    cmocka_unit_test(test_status_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
