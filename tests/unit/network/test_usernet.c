/* SPDX-License-Identifier: Apache-2.0 */
/* POST /networks/create validation: names, drivers, subnets, gateways, ranges, options; and the
 * body decoder's field errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/networks.h"
#include "daemon/network/internal.h"

/* Validates req; returns the error message ("" when valid). */
static char *check(const struct net_create_req *req)
{
    struct err *err = NULL;
    if (net_create_validate(req, &err) == 0)
        return xstrdup("");
    assert_int_equal(err->kind, ERR_INVALID);
    char *msg = xstrdup(err->msg);
    err_free(err);
    return msg;
}

static void expect(const struct net_create_req *req, const char *want)
{
    char *msg = check(req);
    if (!*want)
        assert_string_equal(msg, "");
    else if (!strstr(msg, want))
        fail_msg("\"%s\" does not contain \"%s\"", msg, want);
    free(msg);
}

static void test_valid(void **state)
{
    (void)state;
    expect(&(struct net_create_req){.name = "net1"}, "");
    expect(&(struct net_create_req){.name = "a_b.c-d", .driver = "bridge"}, "");
    expect(&(struct net_create_req){.name = "n",
                                    .subnet = "10.1.0.0/16",
                                    .gateway = "10.1.0.254",
                                    .ip_range = "10.1.2.0/24"},
           "");
}

static void test_invalid(void **state)
{
    (void)state;
    expect(&(struct net_create_req){.name = ""}, "must not be empty");
    expect(&(struct net_create_req){.name = "-x"}, "invalid network name");
    expect(&(struct net_create_req){.name = "a/b"}, "invalid network name");
    expect(&(struct net_create_req){.name = "n", .driver = "overlay"}, "\"overlay\" not found");
    expect(&(struct net_create_req){.name = "n", .subnet = "10.1.0.0"}, "invalid subnet");
    expect(&(struct net_create_req){.name = "n", .subnet = "10.1.0.0/31"}, "invalid subnet");
    expect(&(struct net_create_req){.name = "n", .gateway = "10.1.0.1"}, "requires a subnet");
    expect(&(struct net_create_req){.name = "n", .ip_range = "10.1.0.0/24"}, "requires a subnet");
    expect(&(struct net_create_req){.name = "n", .subnet = "10.1.0.0/24", .gateway = "10.2.0.1"},
           "does not belong");
    expect(&(struct net_create_req){.name = "n", .subnet = "10.1.0.0/24", .gateway = "10.1.0.0"},
           "does not belong");
    expect(
        &(struct net_create_req){.name = "n", .subnet = "10.1.0.0/24", .ip_range = "10.1.0.0/16"},
        "not within subnet");
    json_t *labels = json_pack("{s:i}", "a", 1);
    expect(&(struct net_create_req){.name = "n", .labels = labels}, "Labels.a");
    json_decref(labels);
    json_t *opts = json_pack("{s:s}", "com.docker.network.bridge.name", "a-very-long-bridge-name");
    expect(&(struct net_create_req){.name = "n", .options = opts}, "invalid bridge name");
    json_decref(opts);
}

static void test_decode(void **state)
{
    (void)state;
    struct api_network_create in;
    struct err *err = NULL;
    json_t *b = json_loads("{\"Name\":\"n\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.0.0.0/24\","
                           "\"Gateway\":\"10.0.0.9\",\"IPRange\":\"10.0.0.128/25\"}]},"
                           "\"Internal\":true,\"Labels\":{\"k\":\"v\"}}",
                           0, NULL);
    assert_int_equal(api_network_create_decode(b, &in, &err), 0);
    assert_string_equal(in.name, "n");
    assert_string_equal(in.subnet, "10.0.0.0/24");
    assert_string_equal(in.gateway, "10.0.0.9");
    assert_string_equal(in.ip_range, "10.0.0.128/25");
    assert_true(in.internal);
    json_decref(b);
    b = json_loads("{\"Name\":\"n\",\"Internal\":\"yes\"}", 0, NULL);
    assert_int_equal(api_network_create_decode(b, &in, &err), -1);
    assert_non_null(strstr(err->msg, "Internal"));
    err_free(err);
    err = NULL;
    json_decref(b);
    b = json_loads("{\"Name\":\"n\",\"IPAM\":{\"Config\":[{\"Subnet\":5}]}}", 0, NULL);
    assert_int_equal(api_network_create_decode(b, &in, &err), -1);
    assert_non_null(strstr(err->msg, "IPAM.Config.Subnet"));
    err_free(err);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
