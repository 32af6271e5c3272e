/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPAM: IPv4 addresses of one subnet, handed out lowest first, never twice while held. The
 * gateway, the network address and the broadcast address are never handed out. Pure: the
 * caller persists the pool (ipam_pool_encode) before it uses an address.
 */
#include "daemon/network/internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

uint32_t ipam_host_mask(int prefix)
{
    return prefix <= 0 ? 0xffffffffu : prefix >= 32 ? 0 : (0xffffffffu >> prefix);
}

uint32_t ipam_net_mask(int prefix)
{
    return ~ipam_host_mask(prefix);
}

void ipam_addr_str(uint32_t a, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

int ipam_parse_addr(const char *s, uint32_t *out)
{
    struct in_addr in;
    if (inet_pton(AF_INET, s, &in) != 1)
        return -1;
    *out = ntohl(in.s_addr);
    return 0;
}

int ipam_parse_cidr(const char *s, uint32_t *addr, int *prefix)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash - s > 15)
        return -1;
    char a[16];
    memcpy(a, s, (size_t)(slash - s));
    a[slash - s] = '\0';
    char *end = NULL;
    long p = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end || p < 1 || p > 30 || ipam_parse_addr(a, addr) < 0)
        return -1;
    *prefix = (int)p;
    return 0;
}

bool ipam_overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
    int p = pa < pb ? pa : pb;
    return (a & ipam_net_mask(p)) == (b & ipam_net_mask(p));
}

/* docker's default pools: 172.17-31.0.0/16, then 192.168.0-240.0/20. */
int ipam_pick_subnet(const struct rtnl_prefix *routes, size_t n, uint32_t *subnet, int *prefix)
{
    for (unsigned int i = 0; i < 15 + 16; i++) {
        uint32_t cand = i < 15 ? (172u << 24 | (17u + i) << 16)
                               : (192u << 24 | 168u << 16 | ((i - 15) * 16u) << 8);
        int cp = i < 15 ? 16 : 20;
        bool clash = false;
        for (size_t k = 0; k < n && !clash; k++)
            clash = ipam_overlaps(cand, cp, routes[k].addr, routes[k].prefix);
        if (!clash) {
            *subnet = cand;
            *prefix = cp;
            return 0;
        }
    }
    return -1;
}

void ipam_pool_init(struct ipam_pool *p, uint32_t subnet, int prefix, uint32_t gateway)
{
    memset(p, 0, sizeof(*p));
    p->prefix = prefix;
    p->subnet = subnet & ipam_net_mask(prefix);
    p->gateway = gateway;
}

void ipam_pool_release(struct ipam_pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].owner);
    free(p->v);
    memset(p, 0, sizeof(*p));
}

static void insert_at(struct ipam_pool *p, size_t i, uint32_t addr, const char *owner)
{
    p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
    memmove(&p->v[i + 1], &p->v[i], (p->n - i) * sizeof(*p->v));
    p->v[i].addr = addr;
    p->v[i].owner = xstrdup(owner);
    p->n++;
}

int ipam_reserve(struct ipam_pool *p, uint32_t addr, const char *owner, struct err **err)
{
    char s[16];
    ipam_addr_str(addr, s);
    if ((addr & ipam_net_mask(p->prefix)) != p->subnet || addr == p->gateway || addr == p->subnet ||
        addr == (p->subnet | ipam_host_mask(p->prefix)))
        return err_set(err, ERR_INVALID, 0, "address %s is not available in the subnet", s);
    size_t i = 0;
    while (i < p->n && p->v[i].addr < addr)
        i++;
    if (i < p->n && p->v[i].addr == addr)
        return err_set(err, ERR_CONFLICT, 0, "Address already in use: %s", s);
    insert_at(p, i, addr, owner);
    return 0;
}

int ipam_alloc(struct ipam_pool *p, const char *owner, uint32_t *out, struct err **err)
{
    uint32_t last = p->subnet | ipam_host_mask(p->prefix); /* broadcast */
    uint32_t cand = p->subnet + 1;
    size_t i = 0;
    while (cand < last) {
        while (i < p->n && p->v[i].addr < cand)
            i++;
        if (cand != p->gateway && (i == p->n || p->v[i].addr != cand)) {
            insert_at(p, i, cand, owner);
            *out = cand;
            return 0;
        }
        cand++;
    }
    char s[16];
    ipam_addr_str(p->subnet, s);
    return err_set(err, ERR_UNAVAILABLE, 0,
                   "no available IPv4 addresses on this network's "
                   "address pools: bridge (%s/%d)",
                   s, p->prefix);
}

bool ipam_free(struct ipam_pool *p, uint32_t addr)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].addr == addr) {
            free(p->v[i].owner);
            memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof(*p->v));
            p->n--;
            return true;
        }
    }
    return false;
}

const char *ipam_owner(const struct ipam_pool *p, uint32_t addr)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].addr == addr)
            return p->v[i].owner;
    }
    return NULL;
}

json_t *ipam_pool_encode(const struct ipam_pool *p)
{
    char sub[16], gw[16];
    ipam_addr_str(p->subnet, sub);
    ipam_addr_str(p->gateway, gw);
    json_t *alloc = json_object();
    for (size_t i = 0; i < p->n; i++) {
        char a[16];
        ipam_addr_str(p->v[i].addr, a);
        json_object_set_new(alloc, a, json_string(p->v[i].owner));
    }
    _cleanup_free_ char *cidr = xasprintf("%s/%d", sub, p->prefix);
    return json_pack("{s:s, s:s, s:o}", "Subnet", cidr, "Gateway", gw, "Allocated", alloc);
}

int ipam_pool_decode(const json_t *j, struct ipam_pool *p, struct err **err)
{
    const char *cidr = json_string_value(json_object_get(j, "Subnet"));
    const char *gw = json_string_value(json_object_get(j, "Gateway"));
    uint32_t subnet, gateway;
    int prefix;
    if (!cidr || !gw || ipam_parse_cidr(cidr, &subnet, &prefix) < 0 ||
        ipam_parse_addr(gw, &gateway) < 0)
        return err_set(err, ERR_INVALID, 0, "ipam: bad Subnet or Gateway");
    ipam_pool_init(p, subnet, prefix, gateway);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(j, "Allocated"), k, v)
    {
        uint32_t a;
        if (ipam_parse_addr(k, &a) < 0 || !json_is_string(v) ||
            ipam_reserve(p, a, json_string_value(v), NULL) < 0) {
            ipam_pool_release(p);
            return err_set(err, ERR_INVALID, 0, "ipam: bad allocation %s", k);
        }
    }
    return 0;
}
