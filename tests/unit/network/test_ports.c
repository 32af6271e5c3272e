/* SPDX-License-Identifier: Apache-2.0 */
/* Published ports: PortBindings validation and parsing, the inspect and ps views, the saved
 * form, and a TCP relay through the proxy on loopback (with a half-close). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/network/network.h"
#include "daemon/network/ports.h"

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

static void test_validate(void **state)
{
    (void)state;
    struct err *err = NULL;
    json_t *ok = json_loads("{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080-8081\"}],"
                            "\"53/udp\":[{\"HostPort\":\"\"}],\"90/tcp\":null}",
                            0, NULL);
    assert_int_equal(net_ports_validate(ok, &err), 0);
    json_decref(ok);
    static const char *const bad[][2] = {
        {"{\"80/tcp\":[{\"HostPort\":\"abc\"}]}", "invalid port specification: \"abc\""},
        {"{\"x/tcp\":[]}", "invalid port specification: \"x\""},
        {"{\"80/tcp\":[{\"HostPort\":\"70000\"}]}", "invalid port specification: \"70000\""},
        {"{\"80/tcp\":[{\"HostIp\":\"1.2.3\",\"HostPort\":\"1\"}]}", "invalid IP address: 1.2.3"},
        {"{\"80/icmp\":[]}", "invalid proto: icmp"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i][0], 0, NULL);
        assert_int_equal(net_ports_validate(j, &err), -1);
        assert_int_equal(err->kind, ERR_INVALID);
        assert_string_equal(err->msg, bad[i][1]);
        err_free(err);
        err = NULL;
        json_decref(j);
    }
}

static void test_parse_views(void **state)
{
    (void)state;
    struct err *err = NULL;
    json_t *b =
        json_loads("{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"}]}", 0, NULL);
    json_t *x = json_loads("{\"80/tcp\":{},\"90/tcp\":{},\"53/udp\":{}}", 0, NULL);
    struct net_ports *p = NULL;
    assert_int_equal(ports_parse(b, x, false, &p, &err), 0);
    assert_non_null(p);
    assert_int_equal(p->n, 3);
    p->v[0].host_port = 8080; /* as bound */
    char *s = dump(ports_inspect_json(p));
    assert_string_equal(s, "{\"53/udp\":null,\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":"
                           "\"8080\"}],\"90/tcp\":null}");
    free(s);
    s = dump(ports_summary_json(p));
    assert_string_equal(s, "[{\"IP\":\"127.0.0.1\",\"PrivatePort\":80,\"PublicPort\":8080,"
                           "\"Type\":\"tcp\"},{\"PrivatePort\":90,\"Type\":\"tcp\"},"
                           "{\"PrivatePort\":53,\"Type\":\"udp\"}]");
    free(s);
    /* saved and read back */
    json_t *saved = ports_encode(p);
    struct net_ports *q = ports_decode(saved);
    json_decref(saved);
    assert_non_null(q);
    assert_int_equal(q->n, 3);
    assert_int_equal(q->v[0].host_port, 8080);
    assert_string_equal(q->v[0].host_ip, "127.0.0.1");
    assert_true(q->v[0].published);
    assert_false(q->v[1].published);
    ports_free(q);
    ports_free(p);
    /* -P: every exposed port is published on a random port */
    assert_int_equal(ports_parse(NULL, x, true, &p, &err), 0);
    for (size_t i = 0; i < p->n; i++) {
        assert_true(p->v[i].published);
        assert_int_equal(p->v[i].host_lo, 0);
    }
    ports_free(p);
    /* nothing: NULL */
    assert_int_equal(ports_parse(NULL, NULL, true, &p, &err), 0);
    assert_null(p);
    json_decref(b);
    json_decref(x);
}

/* ---- a relay through the proxy ----------------------------------------------------------- */

struct relay {
    uv_loop_t loop;
    uv_tcp_t server, backend, client;
    uv_connect_t creq;
    uv_write_t w1, w2;
    uv_shutdown_t sreq, sreq2;
    size_t backend_got, client_got;
    bool backend_eof, client_eof;
    char reply[64];
    struct proxy *px;
};

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(n);
    b->len = n;
}

static void backend_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct relay *r = s->data;
    free(b->base);
    if (n > 0)
        r->backend_got += (size_t)n;
    if (n != UV_EOF)
        return;
    /* the client's half-close arrived: answer with the count, then close our side */
    r->backend_eof = true;
    int len = snprintf(r->reply, sizeof(r->reply), "%zu", r->backend_got);
    uv_buf_t out = uv_buf_init(r->reply, (unsigned)len);
    uv_write(&r->w2, s, &out, 1, NULL);
    uv_shutdown(&r->sreq2, s, NULL);
}

static void on_backend(uv_stream_t *srv, int status)
{
    struct relay *r = srv->data;
    assert_int_equal(status, 0);
    uv_tcp_init(&r->loop, &r->backend);
    r->backend.data = r;
    assert_int_equal(uv_accept(srv, (uv_stream_t *)&r->backend), 0);
    uv_read_start((uv_stream_t *)&r->backend, on_alloc, backend_read);
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct relay *r = s->data;
    if (n > 0) {
        memcpy(r->reply, b->base, (size_t)n < sizeof(r->reply) - 1 ? (size_t)n : 0);
        r->client_got += (size_t)n;
    }
    free(b->base);
    if (n == UV_EOF) {
        r->client_eof = true;
        uv_close((uv_handle_t *)&r->client, NULL);
        uv_close((uv_handle_t *)&r->backend, NULL);
        uv_close((uv_handle_t *)&r->server, NULL);
        proxy_close(r->px);
    }
}

static char big[4 << 20];

static void on_client(uv_connect_t *c, int status)
{
    struct relay *r = c->data;
    assert_int_equal(status, 0);
    uv_buf_t b = uv_buf_init(big, sizeof(big));
    uv_write(&r->w1, (uv_stream_t *)&r->client, &b, 1, NULL);
    uv_shutdown(&r->sreq, (uv_stream_t *)&r->client, NULL);
    uv_read_start((uv_stream_t *)&r->client, on_alloc, client_read);
}

static void test_tcp_relay(void **state)
{
    (void)state;
    struct relay r = {0};
    struct err *err = NULL;
    uv_loop_init(&r.loop);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&r.loop, &r.server);
    r.server.data = &r;
    assert_int_equal(uv_tcp_bind(&r.server, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&r.server, 16, on_backend), 0);
    struct sockaddr_in got;
    int len = sizeof(got);
    uv_tcp_getsockname(&r.server, (struct sockaddr *)&got, &len);
    int backend_port = ntohs(got.sin_port);
    /* a free port for the proxy: the kernel's choice for a throwaway socket */
    int front = 0;
    for (int port = 40000 + (int)(uv_hrtime() % 20000); !front; port++) {
        if (proxy_open(&r.loop, "tcp", "127.0.0.1", port, "127.0.0.1", backend_port, &r.px, &err) ==
            0)
            front = port;
        else {
            assert_int_equal(err->kind, ERR_CONFLICT);
            assert_non_null(strstr(err->msg, "port is already allocated"));
            err_free(err);
            err = NULL;
        }
    }
    /* the same port again: taken */
    struct proxy *again = NULL;
    assert_int_equal(
        proxy_open(&r.loop, "tcp", "127.0.0.1", front, "127.0.0.1", backend_port, &again, &err),
        -1);
    char want[80];
    snprintf(want, sizeof(want), "Bind for 127.0.0.1:%d failed: port is already allocated", front);
    assert_string_equal(err->msg, want);
    err_free(err);
    uv_tcp_init(&r.loop, &r.client);
    r.client.data = &r;
    r.creq.data = &r;
    uv_ip4_addr("127.0.0.1", front, &a);
    uv_tcp_connect(&r.creq, &r.client, (struct sockaddr *)&a, on_client);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    assert_true(r.backend_eof);
    assert_true(r.client_eof);
    assert_int_equal(r.backend_got, sizeof(big));
    char num[32];
    snprintf(num, sizeof(num), "%zu", sizeof(big));
    assert_int_equal(r.client_got, strlen(num));
    assert_memory_equal(r.reply, num, strlen(num));
    assert_int_equal(uv_loop_close(&r.loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_parse_views),
        cmocka_unit_test(test_tcp_relay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
