/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network service end to end inside a private network and mount namespace (skipped when
 * they cannot be made): attach gives distinct addresses with a namespace and a veth each; a
 * "restart" (free without release, open again) keeps what was held and hands out only new
 * addresses; sweep and release remove veths and namespace files and free the addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/network/internal.h"

static char dir[64];
static bool can_run;

struct done {
    int calls;
    bool failed;
};

static void on_done(const struct err *err, void *data)
{
    struct done *d = data;
    d->calls++;
    if (err) {
        d->failed = true;
        fprintf(stderr, "net: %s\n", err->msg);
    }
}

static struct net_mgr *open_mgr(uv_loop_t *loop)
{
    char data[128], exec[128];
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(exec, sizeof(exec), "%s/exec", dir);
    struct net_config cfg = {.data_root = data, .exec_root = exec};
    struct net_mgr *m = NULL;
    struct err *err = NULL;
    if (net_mgr_open(loop, &cfg, &m, &err) < 0)
        fail_msg("net_mgr_open: %s", err->msg);
    return m;
}

static const struct net_endpoint *attach(uv_loop_t *loop, struct net_mgr *m, char c)
{
    char id[65], hosts[128], resolv[128];
    memset(id, c, 64);
    id[64] = '\0';
    snprintf(hosts, sizeof(hosts), "%s/hosts-%c", dir, c);
    snprintf(resolv, sizeof(resolv), "%s/resolv-%c", dir, c);
    struct net_attach_req req = {
        .ctr_id = id, .mode = "", .hostname = "box", .hosts_path = hosts, .resolv_path = resolv};
    struct done d = {0};
    net_attach(m, &req, on_done, &d);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(d.calls, 1);
    assert_false(d.failed);
    const struct net_endpoint *e = net_endpoint_find(m, id);
    assert_non_null(e);
    struct stat st;
    assert_int_equal(stat(e->sandbox_key, &st), 0);
    assert_true(if_nametoindex(e->veth) > 0);
    return e;
}

static bool keep_c(const char *id, void *data)
{
    (void)data;
    return id[0] == 'c';
}

static void test_attach_restart_release(void **state)
{
    (void)state;
    if (!can_run)
        skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct net_mgr *m = open_mgr(&loop);
    const struct net_endpoint *a = attach(&loop, m, 'a');
    const struct net_endpoint *b = attach(&loop, m, 'b');
    assert_string_equal(a->ip, "172.17.0.2");
    assert_string_equal(b->ip, "172.17.0.3");
    assert_string_equal(a->mac, "02:42:ac:11:00:02");
    assert_string_equal(a->gateway, "172.17.0.1");
    char *a_key = xstrdup(a->sandbox_key), *a_veth = xstrdup(a->veth);
    /* the daemon goes away without releasing anything (kill -9, live restore) */
    net_mgr_free(m);
    m = open_mgr(&loop);
    char id[65];
    memset(id, 'a', 64);
    id[64] = '\0';
    const struct net_endpoint *a2 = net_endpoint_find(m, id);
    assert_non_null(a2);
    assert_string_equal(a2->ip, "172.17.0.2");
    assert_true(if_nametoindex(a_veth) > 0); /* owned: not swept */
    const struct net_endpoint *c = attach(&loop, m, 'c');
    assert_string_equal(c->ip, "172.17.0.4"); /* .2 and .3 are still held */
    /* a and b are not running any more: released */
    net_mgr_sweep(m, keep_c, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_null(net_endpoint_find(m, id));
    assert_int_equal(if_nametoindex(a_veth), 0);
    struct stat st;
    assert_int_equal(stat(a_key, &st), -1);
    const struct net_endpoint *d = attach(&loop, m, 'd');
    assert_string_equal(d->ip, "172.17.0.2");
    /* release c and d: nothing held */
    struct done dn = {0};
    memset(id, 'c', 64);
    net_release(m, id, on_done, &dn);
    memset(id, 'd', 64);
    net_release(m, id, on_done, &dn);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(dn.calls, 2);
    net_mgr_free(m);
    char path[128];
    snprintf(path, sizeof(path), "%s/data/network/ipam.json", dir);
    char *text = NULL;
    assert_int_equal(fsu_read_file(path, 1 << 20, &text, NULL), 0);
    assert_non_null(strstr(text, "\"Allocated\":{}"));
    assert_non_null(strstr(text, "\"Endpoints\":{}"));
    free(text);
    free(a_key);
    free(a_veth);
    uv_loop_close(&loop);
}

int main(void)
{
    strcpy(dir, "/tmp/berth-net-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    /* before any thread exists: the whole test lives in its own namespaces */
    can_run = geteuid() == 0 && unshare(CLONE_NEWNET | CLONE_NEWNS) == 0 &&
              mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attach_restart_release),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    struct err *err = NULL;
    (void)fsu_rmtree(dir, &err);
    err_free(err);
    return r;
}
