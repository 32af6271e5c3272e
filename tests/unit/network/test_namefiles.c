/* SPDX-License-Identifier: Apache-2.0 */
/* /etc/hosts and /etc/resolv.conf as docker writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/network/internal.h"

static const char defaults[] =
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n";

static void test_hosts(void **state)
{
    (void)state;
    char *extra[] = {"db:10.0.0.5", "cache=10.0.0.6", "gw:host-gateway",
                     "v6:fd00::1",  "broken",         NULL};
    char *h = net_hosts_build("172.17.0.2", "abc123", extra, "172.17.0.1");
    char want[1024];
    snprintf(want, sizeof(want),
             "%s10.0.0.5\tdb\n10.0.0.6\tcache\n172.17.0.1\tgw\nfd00::1\tv6\n"
             "172.17.0.2\tabc123\n",
             defaults);
    assert_string_equal(h, want);
    free(h);
    /* --network none: no address line */
    h = net_hosts_build("", "abc123", NULL, NULL);
    assert_string_equal(h, defaults);
    free(h);
}

static void test_resolv_filters_loopback(void **state)
{
    (void)state;
    const char host[] = "# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n"
                        "nameserver ::1\nsearch corp.example\noptions edns0\n";
    char *r = net_resolv_build(host, NULL, NULL, NULL);
    assert_string_equal(r, "# comment\nsearch corp.example\noptions edns0\nnameserver 10.0.0.2\n");
    free(r);
    /* only loopback servers: docker's defaults */
    r = net_resolv_build("nameserver 127.0.0.53\nsearch x\n", NULL, NULL, NULL);
    assert_string_equal(r, "search x\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    free(r);
    r = net_resolv_build(NULL, NULL, NULL, NULL);
    assert_string_equal(r, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    free(r);
}

static void test_resolv_overrides(void **state)
{
    (void)state;
    const char host[] = "nameserver 10.0.0.2\nsearch corp.example\ndomain corp.example\n"
                        "options edns0\n";
    char *dns[] = {"1.1.1.1", "9.9.9.9", NULL};
    char *search[] = {"a.example", "b.example", NULL};
    char *opts[] = {"ndots:2", "timeout:1", NULL};
    char *r = net_resolv_build(host, dns, search, opts);
    assert_string_equal(r, "nameserver 1.1.1.1\nnameserver 9.9.9.9\n"
                           "search a.example b.example\noptions ndots:2 timeout:1\n");
    free(r);
    /* only --dns: the host's search and options stay */
    r = net_resolv_build(host, dns, NULL, NULL);
    assert_string_equal(r, "search corp.example\ndomain corp.example\noptions edns0\n"
                           "nameserver 1.1.1.1\nnameserver 9.9.9.9\n");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_resolv_filters_loopback),
        cmocka_unit_test(test_resolv_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
