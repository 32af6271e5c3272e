/* SPDX-License-Identifier: Apache-2.0 */
/* IPAM: allocation order, reserved addresses, release, exhaustion, persistence, subnets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/network/internal.h"

static uint32_t A(const char *s)
{
    uint32_t a = 0;
    assert_int_equal(ipam_parse_addr(s, &a), 0);
    return a;
}

static void assert_addr(uint32_t a, const char *want)
{
    char s[16];
    ipam_addr_str(a, s);
    assert_string_equal(s, want);
}

static void test_alloc_skips_network_and_gateway(void **state)
{
    (void)state;
    struct ipam_pool p;
    ipam_pool_init(&p, A("172.17.0.0"), 16, A("172.17.0.1"));
    uint32_t a = 0, b = 0;
    assert_int_equal(ipam_alloc(&p, "c1", &a, NULL), 0);
    assert_int_equal(ipam_alloc(&p, "c2", &b, NULL), 0);
    assert_addr(a, "172.17.0.2");
    assert_addr(b, "172.17.0.3");
    assert_string_equal(ipam_owner(&p, a), "c1");
    ipam_pool_release(&p);
    /* a gateway in the middle is skipped too */
    ipam_pool_init(&p, A("10.0.0.0"), 24, A("10.0.0.3"));
    uint32_t v[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(ipam_alloc(&p, "x", &v[i], NULL), 0);
    assert_addr(v[0], "10.0.0.1");
    assert_addr(v[1], "10.0.0.2");
    assert_addr(v[2], "10.0.0.4");
    ipam_pool_release(&p);
}

static void test_release_and_reuse(void **state)
{
    (void)state;
    struct ipam_pool p;
    ipam_pool_init(&p, A("172.17.0.0"), 16, A("172.17.0.1"));
    uint32_t a, b, c;
    assert_int_equal(ipam_alloc(&p, "a", &a, NULL), 0);
    assert_int_equal(ipam_alloc(&p, "b", &b, NULL), 0);
    assert_true(ipam_free(&p, a));
    assert_false(ipam_free(&p, a)); /* not held any more */
    assert_null(ipam_owner(&p, a));
    /* the lowest free address comes back; the held one is never handed out again */
    assert_int_equal(ipam_alloc(&p, "c", &c, NULL), 0);
    assert_int_equal(c, a);
    uint32_t d;
    assert_int_equal(ipam_alloc(&p, "d", &d, NULL), 0);
    assert_true(d != b && d != c);
    assert_addr(d, "172.17.0.4");
    ipam_pool_release(&p);
}

static void test_exhaustion(void **state)
{
    (void)state;
    struct ipam_pool p;
    /* a /29 has 6 host addresses; one is the gateway */
    ipam_pool_init(&p, A("192.168.5.8"), 29, A("192.168.5.9"));
    uint32_t got[5];
    for (int i = 0; i < 5; i++)
        assert_int_equal(ipam_alloc(&p, "x", &got[i], NULL), 0);
    assert_addr(got[4], "192.168.5.14"); /* never .15, the broadcast */
    struct err *err = NULL;
    uint32_t extra = 0;
    assert_int_equal(ipam_alloc(&p, "y", &extra, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->kind, ERR_UNAVAILABLE);
    assert_non_null(strstr(err->msg, "no available IPv4 addresses"));
    err_free(err);
    /* a release makes room for exactly one */
    assert_true(ipam_free(&p, got[2]));
    assert_int_equal(ipam_alloc(&p, "y", &extra, NULL), 0);
    assert_int_equal(extra, got[2]);
    assert_int_equal(ipam_alloc(&p, "z", &extra, NULL), -1);
    ipam_pool_release(&p);
}

static void test_reserve(void **state)
{
    (void)state;
    struct ipam_pool p;
    ipam_pool_init(&p, A("172.18.0.0"), 16, A("172.18.0.1"));
    struct err *err = NULL;
    assert_int_equal(ipam_reserve(&p, A("172.18.0.1"), "x", &err), -1); /* the gateway */
    assert_int_equal(err->kind, ERR_INVALID);
    err_free(err);
    err = NULL;
    assert_int_equal(ipam_reserve(&p, A("172.19.0.5"), "x", &err), -1); /* outside */
    err_free(err);
    err = NULL;
    assert_int_equal(ipam_reserve(&p, A("172.18.255.255"), "x", NULL), -1); /* broadcast */
    assert_int_equal(ipam_reserve(&p, A("172.18.0.2"), "x", NULL), 0);
    assert_int_equal(ipam_reserve(&p, A("172.18.0.2"), "y", &err), -1);
    assert_int_equal(err->kind, ERR_CONFLICT);
    err_free(err);
    uint32_t a;
    assert_int_equal(ipam_alloc(&p, "z", &a, NULL), 0);
    assert_addr(a, "172.18.0.3");
    ipam_pool_release(&p);
}

/* What was allocated before a restart stays allocated after it (encode, decode). */
static void test_persistence(void **state)
{
    (void)state;
    struct ipam_pool p;
    ipam_pool_init(&p, A("172.17.0.0"), 16, A("172.17.0.1"));
    uint32_t a, b, c;
    assert_int_equal(ipam_alloc(&p, "one", &a, NULL), 0);
    assert_int_equal(ipam_alloc(&p, "two", &b, NULL), 0);
    assert_int_equal(ipam_alloc(&p, "three", &c, NULL), 0);
    assert_true(ipam_free(&p, b));
    json_t *j = ipam_pool_encode(&p);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"Allocated\":{\"172.17.0.2\":\"one\",\"172.17.0.4\":\"three\"},"
                              "\"Gateway\":\"172.17.0.1\",\"Subnet\":\"172.17.0.0/16\"}");
    free(text);
    ipam_pool_release(&p);
    struct ipam_pool q;
    assert_int_equal(ipam_pool_decode(j, &q, NULL), 0);
    json_decref(j);
    assert_int_equal(q.prefix, 16);
    assert_string_equal(ipam_owner(&q, a), "one");
    assert_string_equal(ipam_owner(&q, c), "three");
    uint32_t n1, n2;
    assert_int_equal(ipam_alloc(&q, "four", &n1, NULL), 0);
    assert_int_equal(ipam_alloc(&q, "five", &n2, NULL), 0);
    assert_int_equal(n1, b); /* the freed one */
    assert_addr(n2, "172.17.0.5");
    ipam_pool_release(&q);
    /* broken documents are refused */
    json_t *bad = json_pack("{s:s, s:s, s:{s:s}}", "Subnet", "172.17.0.0/16", "Gateway",
                            "172.17.0.1", "Allocated", "172.17.0.1", "gw");
    struct err *err = NULL;
    assert_int_equal(ipam_pool_decode(bad, &q, &err), -1);
    err_free(err);
    json_decref(bad);
}

static void test_cidr_and_subnet_choice(void **state)
{
    (void)state;
    uint32_t a;
    int prefix;
    assert_int_equal(ipam_parse_cidr("172.20.0.1/16", &a, &prefix), 0);
    assert_addr(a, "172.20.0.1");
    assert_int_equal(prefix, 16);
    assert_int_equal(ipam_parse_cidr("172.20.0.1", &a, &prefix), -1);
    assert_int_equal(ipam_parse_cidr("172.20.0.1/33", &a, &prefix), -1);
    assert_int_equal(ipam_parse_cidr("300.1.1.1/8", &a, &prefix), -1);
    uint32_t subnet;
    /* no routes: docker's first pool */
    assert_int_equal(ipam_pick_subnet(NULL, 0, &subnet, &prefix), 0);
    assert_addr(subnet, "172.17.0.0");
    assert_int_equal(prefix, 16);
    /* a host route inside 172.17/16 and one covering 172.18/16 push it further */
    struct rtnl_prefix r[] = {{A("172.17.3.0"), 24}, {A("172.18.0.0"), 15}};
    assert_int_equal(ipam_pick_subnet(r, 2, &subnet, &prefix), 0);
    assert_addr(subnet, "172.20.0.0");
    /* all of 172.16/12 taken: 192.168.0.0/20 */
    struct rtnl_prefix all[] = {{A("172.16.0.0"), 12}, {A("10.0.0.0"), 8}};
    assert_int_equal(ipam_pick_subnet(all, 2, &subnet, &prefix), 0);
    assert_addr(subnet, "192.168.0.0");
    assert_int_equal(prefix, 20);
    /* everything taken */
    struct rtnl_prefix every[] = {{A("172.16.0.0"), 12}, {A("192.168.0.0"), 16}};
    assert_int_equal(ipam_pick_subnet(every, 2, &subnet, &prefix), -1);
    assert_true(ipam_overlaps(A("10.1.0.0"), 16, A("10.0.0.0"), 8));
    assert_false(ipam_overlaps(A("10.1.0.0"), 16, A("10.2.0.0"), 16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_skips_network_and_gateway),
        cmocka_unit_test(test_release_and_reuse),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_cidr_and_subnet_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
