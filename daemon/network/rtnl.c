/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink over a raw NETLINK_ROUTE socket: message builders (pure) and the blocking
 * request/answer exchange. No libuv here: berthd calls these on the threadpool or at start-up.
 */
#include "daemon/network/internal.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RTNL_ALIGN(n) (((n) + 3u) & ~3u)

static void msg_reserve(struct rtnl_msg *m, size_t extra)
{
    if (m->len + extra <= m->cap)
        return;
    size_t cap = m->cap ? m->cap : 256;
    while (cap < m->len + extra)
        cap *= 2;
    m->buf = xrealloc(m->buf, cap);
    memset(m->buf + m->cap, 0, cap - m->cap);
    m->cap = cap;
}

static struct nlmsghdr *msg_hdr(const struct rtnl_msg *m)
{
    return (struct nlmsghdr *)(void *)m->buf;
}

void rtnl_msg_init(struct rtnl_msg *m, uint16_t type, uint16_t flags)
{
    memset(m, 0, sizeof(*m));
    msg_reserve(m, NLMSG_HDRLEN);
    m->len = NLMSG_HDRLEN;
    struct nlmsghdr *h = msg_hdr(m);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | flags;
    h->nlmsg_len = (uint32_t)m->len;
}

void rtnl_msg_release(struct rtnl_msg *m)
{
    free(m->buf);
    memset(m, 0, sizeof(*m));
}

void *rtnl_msg_put(struct rtnl_msg *m, const void *data, size_t len)
{
    size_t alen = RTNL_ALIGN(len);
    msg_reserve(m, alen);
    void *p = m->buf + m->len;
    memset(p, 0, alen);
    if (data)
        memcpy(p, data, len);
    m->len += alen;
    msg_hdr(m)->nlmsg_len = (uint32_t)m->len;
    return p;
}

void rtnl_attr_put(struct rtnl_msg *m, uint16_t type, const void *data, size_t len)
{
    struct rtattr a = {.rta_len = (unsigned short)RTA_LENGTH(len), .rta_type = type};
    msg_reserve(m, RTA_SPACE(len));
    memcpy(m->buf + m->len, &a, sizeof(a));
    m->len += RTA_LENGTH(0);
    rtnl_msg_put(m, data, len);
}

void rtnl_attr_put_str(struct rtnl_msg *m, uint16_t type, const char *s)
{
    rtnl_attr_put(m, type, s, strlen(s) + 1);
}

void rtnl_attr_put_u32(struct rtnl_msg *m, uint16_t type, uint32_t v)
{
    rtnl_attr_put(m, type, &v, sizeof(v));
}

size_t rtnl_nest_begin(struct rtnl_msg *m, uint16_t type)
{
    size_t off = m->len;
    rtnl_attr_put(m, type, NULL, 0);
    return off;
}

void rtnl_nest_end(struct rtnl_msg *m, size_t off)
{
    struct rtattr *a = (struct rtattr *)(void *)(m->buf + off);
    a->rta_len = (unsigned short)(m->len - off);
}

/* ---- builders ---------------------------------------------------------------------------- */

static void put_ifinfo(struct rtnl_msg *m, int index, unsigned int flags, unsigned int change)
{
    struct ifinfomsg ifi = {
        .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = flags, .ifi_change = change};
    rtnl_msg_put(m, &ifi, sizeof(ifi));
}

void rtnl_build_bridge(struct rtnl_msg *m, const char *name)
{
    rtnl_msg_init(m, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    put_ifinfo(m, 0, 0, 0);
    rtnl_attr_put_str(m, IFLA_IFNAME, name);
    size_t info = rtnl_nest_begin(m, IFLA_LINKINFO);
    rtnl_attr_put_str(m, IFLA_INFO_KIND, "bridge");
    rtnl_nest_end(m, info);
}

void rtnl_build_veth(struct rtnl_msg *m, const struct rtnl_veth *v)
{
    rtnl_msg_init(m, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    put_ifinfo(m, 0, 0, 0);
    rtnl_attr_put_str(m, IFLA_IFNAME, v->name);
    if (v->master > 0)
        rtnl_attr_put_u32(m, IFLA_MASTER, (uint32_t)v->master);
    size_t info = rtnl_nest_begin(m, IFLA_LINKINFO);
    rtnl_attr_put_str(m, IFLA_INFO_KIND, "veth");
    size_t data = rtnl_nest_begin(m, IFLA_INFO_DATA);
    size_t peer = rtnl_nest_begin(m, VETH_INFO_PEER);
    put_ifinfo(m, 0, 0, 0);
    rtnl_attr_put_str(m, IFLA_IFNAME, v->peer_name);
    if (v->peer_netns_fd >= 0)
        rtnl_attr_put_u32(m, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
    if (v->peer_has_mac)
        rtnl_attr_put(m, IFLA_ADDRESS, v->peer_mac, 6);
    rtnl_nest_end(m, peer);
    rtnl_nest_end(m, data);
    rtnl_nest_end(m, info);
}

void rtnl_build_link_up(struct rtnl_msg *m, int index)
{
    rtnl_msg_init(m, RTM_NEWLINK, NLM_F_ACK);
    put_ifinfo(m, index, IFF_UP, IFF_UP);
}

void rtnl_build_link_del(struct rtnl_msg *m, const char *name)
{
    rtnl_msg_init(m, RTM_DELLINK, NLM_F_ACK);
    put_ifinfo(m, 0, 0, 0);
    rtnl_attr_put_str(m, IFLA_IFNAME, name);
}

void rtnl_build_link_get(struct rtnl_msg *m, const char *name)
{
    rtnl_msg_init(m, RTM_GETLINK, 0);
    put_ifinfo(m, 0, 0, 0);
    rtnl_attr_put_str(m, IFLA_IFNAME, name);
}

void rtnl_build_addr(struct rtnl_msg *m, int index, uint32_t addr, int prefix)
{
    rtnl_msg_init(m, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
    struct ifaddrmsg ifa = {.ifa_family = AF_INET,
                            .ifa_prefixlen = (unsigned char)prefix,
                            .ifa_scope = RT_SCOPE_UNIVERSE,
                            .ifa_index = (unsigned int)index};
    rtnl_msg_put(m, &ifa, sizeof(ifa));
    uint32_t a = htonl(addr);
    uint32_t bcast = htonl(addr | ipam_host_mask(prefix));
    rtnl_attr_put(m, IFA_LOCAL, &a, 4);
    rtnl_attr_put(m, IFA_ADDRESS, &a, 4);
    if (prefix < 31)
        rtnl_attr_put(m, IFA_BROADCAST, &bcast, 4);
}

void rtnl_build_addr_del(struct rtnl_msg *m, int index, uint32_t addr, int prefix)
{
    rtnl_msg_init(m, RTM_DELADDR, NLM_F_ACK);
    struct ifaddrmsg ifa = {.ifa_family = AF_INET,
                            .ifa_prefixlen = (unsigned char)prefix,
                            .ifa_index = (unsigned int)index};
    rtnl_msg_put(m, &ifa, sizeof(ifa));
    uint32_t a = htonl(addr);
    rtnl_attr_put(m, IFA_LOCAL, &a, 4);
}

void rtnl_build_default_route(struct rtnl_msg *m, int index, uint32_t gateway)
{
    rtnl_msg_init(m, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg rt = {.rtm_family = AF_INET,
                       .rtm_table = RT_TABLE_MAIN,
                       .rtm_protocol = RTPROT_BOOT,
                       .rtm_scope = RT_SCOPE_UNIVERSE,
                       .rtm_type = RTN_UNICAST};
    rtnl_msg_put(m, &rt, sizeof(rt));
    uint32_t gw = htonl(gateway);
    rtnl_attr_put(m, RTA_GATEWAY, &gw, 4);
    rtnl_attr_put_u32(m, RTA_OIF, (uint32_t)index);
}

/* ---- the socket -------------------------------------------------------------------------- */

int rtnl_open(struct err **err)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "netlink socket");
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return err_set(err, ERR_SYSTEM, e, "netlink bind");
    }
    return fd;
}

static int msg_send(int fd, struct rtnl_msg *m, uint32_t seq)
{
    struct nlmsghdr *h = msg_hdr(m);
    h->nlmsg_seq = seq;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    ssize_t n = sendto(fd, m->buf, m->len, 0, (struct sockaddr *)&sa, sizeof(sa));
    if (n < 0)
        return -errno;
    return n == (ssize_t)m->len ? 0 : -EIO;
}

/*
 * Sends m and reads answers until the ack (or error) for it, or NLMSG_DONE for a dump. Each
 * data message is handed to each_cb. Returns 0 or -errno (the kernel's error for the request).
 */
int rtnl_exchange(int fd, struct rtnl_msg *m, rtnl_each_cb each_cb, void *data)
{
    static const uint32_t seq = 1;
    int r = msg_send(fd, m, seq);
    if (r < 0)
        return r;
    char buf[32768] __attribute__((aligned(4)));
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        for (struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_seq != seq)
                continue;
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error;
            }
            if (each_cb)
                each_cb(h, data);
            if (!(h->nlmsg_flags & NLM_F_MULTI) && !(msg_hdr(m)->nlmsg_flags & NLM_F_ACK))
                return 0;
        }
    }
}

int rtnl_talk(int fd, struct rtnl_msg *m, const char *what, struct err **err)
{
    int r = rtnl_exchange(fd, m, NULL, NULL);
    rtnl_msg_release(m);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "%s", what);
    return 0;
}

static void on_link(const struct nlmsghdr *h, void *data)
{
    int *index = data;
    if (h->nlmsg_type == RTM_NEWLINK) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        *index = ifi->ifi_index;
    }
}

int rtnl_link_index(int fd, const char *name)
{
    struct rtnl_msg m;
    rtnl_build_link_get(&m, name);
    int index = 0;
    int r = rtnl_exchange(fd, &m, on_link, &index);
    rtnl_msg_release(&m);
    return r < 0 ? r : index;
}

/* ---- dumps ------------------------------------------------------------------------------- */

struct route_dump {
    struct rtnl_prefix *v;
    size_t n;
    int skip_index;
};

static void on_route(const struct nlmsghdr *h, void *data)
{
    struct route_dump *d = data;
    if (h->nlmsg_type != RTM_NEWROUTE)
        return;
    const struct rtmsg *rt = NLMSG_DATA(h);
    if (rt->rtm_family != AF_INET || rt->rtm_dst_len == 0)
        return;
    uint32_t table = rt->rtm_table, dst = 0;
    int oif = 0;
    int len = (int)RTM_PAYLOAD(h);
    for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == RTA_TABLE)
            memcpy(&table, RTA_DATA(a), 4);
        else if (a->rta_type == RTA_DST)
            memcpy(&dst, RTA_DATA(a), 4);
        else if (a->rta_type == RTA_OIF)
            memcpy(&oif, RTA_DATA(a), 4);
    }
    if (table != RT_TABLE_MAIN || (d->skip_index > 0 && oif == d->skip_index))
        return;
    d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
    d->v[d->n].addr = ntohl(dst);
    d->v[d->n].prefix = rt->rtm_dst_len;
    d->n++;
}

int rtnl_routes4(int fd, int skip_index, struct rtnl_prefix **out, size_t *n, struct err **err)
{
    struct rtnl_msg m;
    rtnl_msg_init(&m, RTM_GETROUTE, NLM_F_DUMP);
    struct rtmsg rt = {.rtm_family = AF_INET};
    rtnl_msg_put(&m, &rt, sizeof(rt));
    struct route_dump d = {.skip_index = skip_index};
    int r = rtnl_exchange(fd, &m, on_route, &d);
    rtnl_msg_release(&m);
    if (r < 0) {
        free(d.v);
        return err_set(err, ERR_SYSTEM, -r, "list routes");
    }
    *out = d.v;
    *n = d.n;
    return 0;
}

struct addr_dump {
    int index;
    struct rtnl_prefix found;
    bool have;
};

static void on_addr(const struct nlmsghdr *h, void *data)
{
    struct addr_dump *d = data;
    if (h->nlmsg_type != RTM_NEWADDR || d->have)
        return;
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != d->index)
        return;
    int len = (int)IFA_PAYLOAD(h);
    for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFA_LOCAL || a->rta_type == IFA_ADDRESS) {
            uint32_t v;
            memcpy(&v, RTA_DATA(a), 4);
            d->found.addr = ntohl(v);
            d->found.prefix = ifa->ifa_prefixlen;
            d->have = true;
            return;
        }
    }
}

int rtnl_link_addr4(int fd, int index, struct rtnl_prefix *out)
{
    struct rtnl_msg m;
    rtnl_msg_init(&m, RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg ifa = {.ifa_family = AF_INET};
    rtnl_msg_put(&m, &ifa, sizeof(ifa));
    struct addr_dump d = {.index = index};
    int r = rtnl_exchange(fd, &m, on_addr, &d);
    rtnl_msg_release(&m);
    if (r < 0)
        return r;
    if (!d.have)
        return 0;
    *out = d.found;
    return 1;
}

struct link_dump {
    int master;
    char **names;
    size_t n;
};

static void on_slave(const struct nlmsghdr *h, void *data)
{
    struct link_dump *d = data;
    if (h->nlmsg_type != RTM_NEWLINK)
        return;
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    int len = (int)IFLA_PAYLOAD(h);
    const char *name = NULL;
    int master = 0;
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME)
            name = RTA_DATA(a);
        else if (a->rta_type == IFLA_MASTER)
            memcpy(&master, RTA_DATA(a), 4);
    }
    if (!name || master != d->master || strncmp(name, "veth", 4) != 0)
        return;
    d->names = xrealloc(d->names, (d->n + 2) * sizeof(char *));
    d->names[d->n++] = xstrdup(name);
    d->names[d->n] = NULL;
}

int rtnl_bridge_veths(int fd, int master, char ***out, struct err **err)
{
    struct rtnl_msg m;
    rtnl_msg_init(&m, RTM_GETLINK, NLM_F_DUMP);
    put_ifinfo(&m, 0, 0, 0);
    struct link_dump d = {.master = master};
    int r = rtnl_exchange(fd, &m, on_slave, &d);
    rtnl_msg_release(&m);
    if (r < 0) {
        for (size_t i = 0; i < d.n; i++)
            free(d.names[i]);
        free(d.names);
        return err_set(err, ERR_SYSTEM, -r, "list links");
    }
    *out = d.names;
    return 0;
}
