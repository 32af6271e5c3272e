/* SPDX-License-Identifier: Apache-2.0 */
/* rtnetlink message builders: headers, fixed parts, attributes and nesting, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/network/internal.h"

/* The attribute of type in [p, p+len), or NULL; checks every length on the way. */
static const struct rtattr *find_attr(const void *p, size_t len, unsigned short type)
{
    const struct rtattr *a = p;
    int left = (int)len;
    for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
        assert_true(a->rta_len >= sizeof(struct rtattr));
        if (a->rta_type == type)
            return a;
    }
    assert_int_equal(left, 0); /* the attributes fill the space exactly */
    return NULL;
}

static const struct nlmsghdr *hdr_of(const struct rtnl_msg *m, unsigned short type)
{
    const struct nlmsghdr *h = (const void *)m->buf;
    assert_int_equal(h->nlmsg_len, m->len);
    assert_int_equal(m->len % 4, 0);
    assert_int_equal(h->nlmsg_type, type);
    assert_true(h->nlmsg_flags & NLM_F_REQUEST);
    return h;
}

static void test_veth(void **state)
{
    (void)state;
    struct rtnl_veth v = {.name = "veth1234567",
                          .master = 7,
                          .peer_name = "eth0",
                          .peer_netns_fd = 5,
                          .peer_has_mac = true,
                          .peer_mac = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02}};
    struct rtnl_msg m;
    rtnl_build_veth(&m, &v);
    const struct nlmsghdr *h = hdr_of(&m, RTM_NEWLINK);
    assert_int_equal(h->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK),
                     NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
    const struct rtattr *name = find_attr(IFLA_RTA(ifi), alen, IFLA_IFNAME);
    assert_non_null(name);
    assert_string_equal(RTA_DATA(name), "veth1234567");
    const struct rtattr *master = find_attr(IFLA_RTA(ifi), alen, IFLA_MASTER);
    assert_non_null(master);
    assert_int_equal(*(const uint32_t *)RTA_DATA(master), 7);
    const struct rtattr *info = find_attr(IFLA_RTA(ifi), alen, IFLA_LINKINFO);
    assert_non_null(info);
    const struct rtattr *kind = find_attr(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_KIND);
    assert_string_equal(RTA_DATA(kind), "veth");
    const struct rtattr *data = find_attr(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_DATA);
    assert_non_null(data);
    const struct rtattr *peer = find_attr(RTA_DATA(data), RTA_PAYLOAD(data), VETH_INFO_PEER);
    assert_non_null(peer);
    /* the peer: an ifinfomsg, then its own attributes */
    const char *pp = (const char *)RTA_DATA(peer) + sizeof(struct ifinfomsg);
    size_t plen = RTA_PAYLOAD(peer) - sizeof(struct ifinfomsg);
    assert_string_equal(RTA_DATA(find_attr(pp, plen, IFLA_IFNAME)), "eth0");
    assert_int_equal(*(const uint32_t *)RTA_DATA(find_attr(pp, plen, IFLA_NET_NS_FD)), 5);
    const struct rtattr *mac = find_attr(pp, plen, IFLA_ADDRESS);
    assert_int_equal(RTA_PAYLOAD(mac), 6);
    assert_memory_equal(RTA_DATA(mac), v.peer_mac, 6);
    rtnl_msg_release(&m);
}

static void test_bridge_and_link(void **state)
{
    (void)state;
    struct rtnl_msg m;
    rtnl_build_bridge(&m, "berth0");
    const struct nlmsghdr *h = hdr_of(&m, RTM_NEWLINK);
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
    assert_string_equal(RTA_DATA(find_attr(IFLA_RTA(ifi), alen, IFLA_IFNAME)), "berth0");
    const struct rtattr *info = find_attr(IFLA_RTA(ifi), alen, IFLA_LINKINFO);
    assert_string_equal(RTA_DATA(find_attr(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_KIND)),
                        "bridge");
    rtnl_msg_release(&m);

    rtnl_build_link_up(&m, 42);
    h = hdr_of(&m, RTM_NEWLINK);
    ifi = NLMSG_DATA(h);
    assert_int_equal(ifi->ifi_index, 42);
    assert_int_equal(ifi->ifi_flags, IFF_UP);
    assert_int_equal(ifi->ifi_change, IFF_UP);
    assert_false(h->nlmsg_flags & NLM_F_CREATE);
    rtnl_msg_release(&m);

    rtnl_build_link_del(&m, "vethabcdef0");
    h = hdr_of(&m, RTM_DELLINK);
    ifi = NLMSG_DATA(h);
    alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
    assert_string_equal(RTA_DATA(find_attr(IFLA_RTA(ifi), alen, IFLA_IFNAME)), "vethabcdef0");
    rtnl_msg_release(&m);
}

static void test_addr_and_route(void **state)
{
    (void)state;
    uint32_t addr, gw;
    assert_int_equal(ipam_parse_addr("172.17.0.2", &addr), 0);
    assert_int_equal(ipam_parse_addr("172.17.0.1", &gw), 0);
    struct rtnl_msg m;
    rtnl_build_addr(&m, 3, addr, 16);
    const struct nlmsghdr *h = hdr_of(&m, RTM_NEWADDR);
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    assert_int_equal(ifa->ifa_family, AF_INET);
    assert_int_equal(ifa->ifa_prefixlen, 16);
    assert_int_equal(ifa->ifa_index, 3);
    size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
    const struct rtattr *local = find_attr(IFA_RTA(ifa), alen, IFA_LOCAL);
    assert_int_equal(*(const uint32_t *)RTA_DATA(local), inet_addr("172.17.0.2"));
    const struct rtattr *bc = find_attr(IFA_RTA(ifa), alen, IFA_BROADCAST);
    assert_int_equal(*(const uint32_t *)RTA_DATA(bc), inet_addr("172.17.255.255"));
    rtnl_msg_release(&m);

    rtnl_build_default_route(&m, 9, gw);
    h = hdr_of(&m, RTM_NEWROUTE);
    const struct rtmsg *rt = NLMSG_DATA(h);
    assert_int_equal(rt->rtm_family, AF_INET);
    assert_int_equal(rt->rtm_dst_len, 0);
    assert_int_equal(rt->rtm_table, RT_TABLE_MAIN);
    alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*rt));
    assert_int_equal(*(const uint32_t *)RTA_DATA(find_attr(RTM_RTA(rt), alen, RTA_GATEWAY)),
                     inet_addr("172.17.0.1"));
    assert_int_equal(*(const uint32_t *)RTA_DATA(find_attr(RTM_RTA(rt), alen, RTA_OIF)), 9);
    assert_null(find_attr(RTM_RTA(rt), alen, RTA_DST));
    rtnl_msg_release(&m);
}

/* Attribute payloads of odd sizes are padded so the next starts aligned. */
static void test_alignment(void **state)
{
    (void)state;
    struct rtnl_msg m;
    rtnl_msg_init(&m, RTM_NEWLINK, 0);
    rtnl_attr_put(&m, 1, "abc", 3);
    rtnl_attr_put_u32(&m, 2, 0xdeadbeef);
    size_t nest = rtnl_nest_begin(&m, 3);
    rtnl_attr_put_str(&m, 4, "x");
    rtnl_nest_end(&m, nest);
    const struct nlmsghdr *h = hdr_of(&m, RTM_NEWLINK);
    const char *attrs = (const char *)h + NLMSG_HDRLEN;
    size_t alen = h->nlmsg_len - NLMSG_HDRLEN;
    const struct rtattr *a1 = find_attr(attrs, alen, 1);
    assert_int_equal(a1->rta_len, 7);
    assert_memory_equal(RTA_DATA(a1), "abc", 3);
    assert_int_equal(*(const uint32_t *)RTA_DATA(find_attr(attrs, alen, 2)), 0xdeadbeef);
    const struct rtattr *n = find_attr(attrs, alen, 3);
    assert_int_equal(n->rta_len, RTA_LENGTH(RTA_SPACE(2)));
    assert_string_equal(RTA_DATA(find_attr(RTA_DATA(n), RTA_PAYLOAD(n), 4)), "x");
    rtnl_msg_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_veth),
        cmocka_unit_test(test_bridge_and_link),
        cmocka_unit_test(test_addr_and_route),
        cmocka_unit_test(test_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
