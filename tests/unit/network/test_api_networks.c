/* SPDX-License-Identifier: Apache-2.0 */
/* The wire shapes of NetworkSettings and of a network, key for key as API 1.44 has them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/networks.h"

static void assert_json(json_t *j, const char *want)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, want);
    free(s);
    json_decref(j);
}

static void test_settings_running(void **state)
{
    (void)state;
    const char *names[] = {"bridge"};
    struct api_endpoint_settings es = {.network_id = "nid",
                                       .endpoint_id = "eid",
                                       .gateway = "172.17.0.1",
                                       .ip_address = "172.17.0.2",
                                       .mac_address = "02:42:ac:11:00:02",
                                       .ip_prefix_len = 16};
    struct api_network_settings ns = {.sandbox_id = "sid",
                                      .sandbox_key = "/run/berth/netns/sid",
                                      .names = names,
                                      .nets = &es,
                                      .nnets = 1};
    assert_json(api_network_settings_encode(&ns),
                "{\"Bridge\":\"\",\"SandboxID\":\"sid\",\"SandboxKey\":\"/run/berth/netns/sid\","
                "\"Ports\":{},\"HairpinMode\":false,\"LinkLocalIPv6Address\":\"\","
                "\"LinkLocalIPv6PrefixLen\":0,\"SecondaryIPAddresses\":null,"
                "\"SecondaryIPv6Addresses\":null,\"EndpointID\":\"eid\",\"Gateway\":\"172.17.0.1\","
                "\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"IPAddress\":\"172.17.0.2\","
                "\"IPPrefixLen\":16,\"IPv6Gateway\":\"\",\"MacAddress\":\"02:42:ac:11:00:02\","
                "\"Networks\":{\"bridge\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,"
                "\"MacAddress\":\"02:42:ac:11:00:02\",\"DriverOpts\":null,\"NetworkID\":\"nid\","
                "\"EndpointID\":\"eid\",\"Gateway\":\"172.17.0.1\",\"IPAddress\":\"172.17.0.2\","
                "\"IPPrefixLen\":16,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\","
                "\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}");
}

/* Only the default bridge fills the top-level address fields; a stopped one has none. */
static void test_settings_other_networks(void **state)
{
    (void)state;
    const char *names[] = {"none"};
    struct api_endpoint_settings es = {.network_id = "nid", .endpoint_id = "eid"};
    struct api_network_settings ns = {.names = names, .nets = &es, .nnets = 1};
    json_t *j = api_network_settings_encode(&ns);
    assert_string_equal(json_string_value(json_object_get(j, "EndpointID")), "");
    assert_string_equal(json_string_value(json_object_get(j, "SandboxKey")), "");
    json_t *none = json_object_get(json_object_get(j, "Networks"), "none");
    assert_string_equal(json_string_value(json_object_get(none, "EndpointID")), "eid");
    json_decref(j);
    struct api_network_settings empty = {0};
    assert_json(api_network_summary_encode(&empty), "{}");
}

static void test_network(void **state)
{
    (void)state;
    struct api_network_container c = {.id = "cid",
                                      .name = "web",
                                      .endpoint_id = "eid",
                                      .mac_address = "02:42:ac:11:00:02",
                                      .ipv4_address = "172.17.0.2/16"};
    json_t *opts = json_pack("{s:s}", "com.docker.network.bridge.name", "berth0");
    struct api_network n = {.name = "bridge",
                            .id = "nid",
                            .created = "2026-01-01T00:00:00Z",
                            .driver = "bridge",
                            .subnet = "172.17.0.0/16",
                            .gateway = "172.17.0.1",
                            .options = opts,
                            .containers = &c,
                            .ncontainers = 1};
    assert_json(api_network_encode(&n),
                "{\"Name\":\"bridge\",\"Id\":\"nid\",\"Created\":\"2026-01-01T00:00:00Z\","
                "\"Scope\":\"local\",\"Driver\":\"bridge\",\"EnableIPv6\":false,"
                "\"IPAM\":{\"Driver\":\"default\",\"Options\":null,\"Config\":[{\"Subnet\":"
                "\"172.17.0.0/16\",\"Gateway\":\"172.17.0.1\"}]},\"Internal\":false,"
                "\"Attachable\":false,\"Ingress\":false,\"ConfigFrom\":{\"Network\":\"\"},"
                "\"ConfigOnly\":false,\"Containers\":{\"cid\":{\"Name\":\"web\",\"EndpointID\":"
                "\"eid\",\"MacAddress\":\"02:42:ac:11:00:02\",\"IPv4Address\":\"172.17.0.2/16\","
                "\"IPv6Address\":\"\"}},\"Options\":{\"com.docker.network.bridge.name\":"
                "\"berth0\"},\"Labels\":{}}");
    json_decref(opts);
    struct api_network host = {.name = "host", .id = "hid", .created = "x", .driver = "host"};
    json_t *j = api_network_encode(&host);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "IPAM"), "Config")), 0);
    assert_int_equal(json_object_size(json_object_get(j, "Containers")), 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_running),
        cmocka_unit_test(test_settings_other_networks),
        cmocka_unit_test(test_network),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
