/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to daemon/network: the rtnetlink layer (rtnl_), IPAM (ipam_), the blocking sandbox
 * and bridge work (netns, veth, iptables) and the name files. Nothing here uses libuv; the
 * blocking functions run at start-up or on the threadpool.
 */
#ifndef BERTH_NETWORK_INTERNAL_H
#define BERTH_NETWORK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <linux/netlink.h>

#include "daemon/network/network.h"

/* ---- rtnetlink --------------------------------------------------------------------------- */

/* A request being built: the header, then fixed structs and attributes, 4-byte aligned. */
struct rtnl_msg {
    char *buf;
    size_t len, cap;
};

struct rtnl_prefix {
    uint32_t addr; /* host order */
    int prefix;
};

struct rtnl_veth {
    const char *name;      /* host side, enslaved to master (if > 0) */
    int master;            /* ifindex of the bridge */
    const char *peer_name; /* created in peer_netns_fd (if >= 0) under this name */
    int peer_netns_fd;
    bool peer_has_mac;
    unsigned char peer_mac[6];
};

void rtnl_msg_init(struct rtnl_msg *m, uint16_t type, uint16_t flags);
void rtnl_msg_release(struct rtnl_msg *m);
void *rtnl_msg_put(struct rtnl_msg *m, const void *data, size_t len);
void rtnl_attr_put(struct rtnl_msg *m, uint16_t type, const void *data, size_t len);
void rtnl_attr_put_str(struct rtnl_msg *m, uint16_t type, const char *s);
void rtnl_attr_put_u32(struct rtnl_msg *m, uint16_t type, uint32_t v);
size_t rtnl_nest_begin(struct rtnl_msg *m, uint16_t type);
void rtnl_nest_end(struct rtnl_msg *m, size_t off);

/* Builders: m is initialised by them (release with rtnl_msg_release). Addresses host order. */
void rtnl_build_bridge(struct rtnl_msg *m, const char *name);
void rtnl_build_veth(struct rtnl_msg *m, const struct rtnl_veth *v);
void rtnl_build_link_up(struct rtnl_msg *m, int index);
void rtnl_build_link_del(struct rtnl_msg *m, const char *name);
void rtnl_build_link_get(struct rtnl_msg *m, const char *name);
void rtnl_build_addr(struct rtnl_msg *m, int index, uint32_t addr, int prefix);
void rtnl_build_addr_del(struct rtnl_msg *m, int index, uint32_t addr, int prefix);
void rtnl_build_default_route(struct rtnl_msg *m, int index, uint32_t gateway);

/* A NETLINK_ROUTE socket in the calling thread's network namespace (close-on-exec). */
int rtnl_open(struct err **err);
typedef void (*rtnl_each_cb)(const struct nlmsghdr *h, void *data);
/* Sends m, hands every answer to each_cb, returns 0 or the kernel's -errno. Blocking. */
int rtnl_exchange(int fd, struct rtnl_msg *m, rtnl_each_cb each_cb, void *data);
/* rtnl_exchange for an acked request; releases m; err names what. */
int rtnl_talk(int fd, struct rtnl_msg *m, const char *what, struct err **err);
/* ifindex of a link by name in fd's namespace, or -errno (-ENODEV when missing). */
int rtnl_link_index(int fd, const char *name);
/* The main table's IPv4 routes with a destination (not the default), except those through
 * skip_index. Caller frees *out. */
int rtnl_routes4(int fd, int skip_index, struct rtnl_prefix **out, size_t *n, struct err **err);
/* The first IPv4 address of a link: 1 found, 0 none, -errno. */
int rtnl_link_addr4(int fd, int index, struct rtnl_prefix *out);
/* Names of the veth* links enslaved to master (NULL-terminated, caller frees). */
int rtnl_bridge_veths(int fd, int master, char ***out, struct err **err);

/* ---- IPAM -------------------------------------------------------------------------------- */

struct ipam_alloc {
    uint32_t addr;
    char *owner; /* container id */
};

struct ipam_pool {
    uint32_t subnet; /* host order, masked */
    int prefix;
    uint32_t gateway;
    struct ipam_alloc *v; /* sorted by addr */
    size_t n;
};

uint32_t ipam_host_mask(int prefix);
uint32_t ipam_net_mask(int prefix);
void ipam_addr_str(uint32_t a, char out[16]);
int ipam_parse_addr(const char *s, uint32_t *out);
/* "a.b.c.d/n" (n from 1 to 30). */
int ipam_parse_cidr(const char *s, uint32_t *addr, int *prefix);
bool ipam_overlaps(uint32_t a, int pa, uint32_t b, int pb);
/* The first of docker's default pools that overlaps none of routes; -1 when all do. */
int ipam_pick_subnet(const struct rtnl_prefix *routes, size_t n, uint32_t *subnet, int *prefix);

void ipam_pool_init(struct ipam_pool *p, uint32_t subnet, int prefix, uint32_t gateway);
void ipam_pool_release(struct ipam_pool *p);
/* The lowest free address (never the gateway, network or broadcast); ERR_UNAVAILABLE. */
int ipam_alloc(struct ipam_pool *p, const char *owner, uint32_t *out, struct err **err);
/* A given address: ERR_CONFLICT when held, ERR_INVALID when outside or reserved. */
int ipam_reserve(struct ipam_pool *p, uint32_t addr, const char *owner, struct err **err);
bool ipam_free(struct ipam_pool *p, uint32_t addr);
const char *ipam_owner(const struct ipam_pool *p, uint32_t addr);
json_t *ipam_pool_encode(const struct ipam_pool *p);
int ipam_pool_decode(const json_t *j, struct ipam_pool *p, struct err **err);

/* ---- blocking work (start-up or threadpool) ------------------------------------------------ */

/* The bridge: created if missing, address set (replacing none it has), up. */
int net_bridge_ensure(const char *name, uint32_t gateway, int prefix, int *index, struct err **err);
/* What the bridge already has (1) or not (0), so a restart keeps its subnet. */
int net_bridge_current(const char *name, uint32_t *addr, int *prefix);
/* The host's routes (except via the bridge), to pick a subnet that clashes with none. */
int net_host_routes(const char *bridge, struct rtnl_prefix **out, size_t *n, struct err **err);

/* One container's network namespace and its interface. */
struct net_sandbox_spec {
    const char *path;   /* the namespace file to create (bind mount of the new netns) */
    const char *veth;   /* host side name; NULL: only lo (--network none) */
    const char *bridge; /* master of the host side */
    uint32_t addr;      /* eth0's address, prefix, gateway (host order) */
    int prefix;
    uint32_t gateway;
    unsigned char mac[6];
};
int net_sandbox_create(const struct net_sandbox_spec *sp, struct err **err);
/* Deletes the veth (gone already is fine), unmounts and removes the namespace file (path NULL:
 * only the veth). */
void net_sandbox_destroy(const char *path, const char *veth);

/* iptables: FORWARD accept for the bridge, MASQUERADE for its subnet. */
int net_iptables_setup(const char *bridge, const char *subnet_cidr, struct err **err);
/* The filter chains of net_iptables_isolation. */
#define NET_ISOLATION_1 "BERTH-ISOLATION-STAGE-1"
#define NET_ISOLATION_2 "BERTH-ISOLATION-STAGE-2"
/* The bridge forwards nothing to any other bridge's (the default one and user networks', any
 * name) nor they to it: add (ensure) or delete its rules. */
int net_iptables_isolation(bool add, const char *bridge, struct err **err);
int net_ip_forward_enable(struct err **err);
/* A rule in table: ensured (-C, then -A) when add, else deleted (-D, missing is fine). */
int net_iptables_rule(const char *table, bool add, char *const *rule, size_t n, struct err **err);
/* -N chain (an existing one is fine). */
void net_iptables_chain(const char *table, const char *chain);
/* A user network's rules: add (ensure) or delete them. internal: no MASQUERADE, forwarding only
 * within the bridge. Deleting ignores missing rules. */
int net_iptables_user(bool add, const char *bridge, const char *subnet_cidr, bool internal,
                      struct err **err);
/* Deletes a link by name (gone already is fine). */
void net_link_delete(const char *name);

/* Name files. */
char *net_hosts_build(const char *addr, const char *hostname, char *const *extra_hosts,
                      const char *host_gateway);
/* host_text: the host's resolv.conf (may be NULL). */
char *net_resolv_build(const char *host_text, char *const *dns, char *const *search,
                       char *const *options);

/* ---- mgr.c accessors for usernet.c and dns.c (loop thread) --------------------------------- */

struct unet_set;
struct dns_server;
uv_loop_t *net_mgr_loop(struct net_mgr *m);
struct unet_set *net_mgr_unets(struct net_mgr *m);
struct net_endpoint *net_mgr_endpoints(struct net_mgr *m);
struct net_endpoint **net_mgr_endpoints_head(struct net_mgr *m);
void net_mgr_save(struct net_mgr *m, void (*cb)(struct net_mgr *, void *, const struct err *),
                  void *arg);
/* A new endpoint (on "none", first in the list, not ready); discard undoes it (address freed). */
struct net_endpoint *net_endpoint_alloc(struct net_mgr *m, const char *ctr_id);
void net_endpoint_discard(struct net_mgr *m, struct net_endpoint *e);
/* Marks e releasing and removes its interface (and its sandbox unless joined or secondary). */
void net_endpoint_teardown(struct net_mgr *m, struct net_endpoint *e);
bool net_mgr_iptables(const struct net_mgr *m);
const char *net_mgr_resolv_path(const struct net_mgr *m);

/* ---- user networks (usernet.c) ------------------------------------------------------------- */

/* Start-up (blocking): <dir>/networks.json, bridges and rules ensured. */
int unet_open(uv_loop_t *loop, const char *dir, bool iptables, struct unet_set **out,
              struct err **err);
void unet_free(struct unet_set *s);
size_t unet_count(const struct unet_set *s);
struct net_network *unet_at(const struct unet_set *s, size_t i);
/* By exact name, full id, then unique id prefix; NULL when none (no error set). */
struct net_network *unet_find(const struct unet_set *s, const char *name);
struct ipam_pool *unet_pool(const struct net_network *n);
/* An address on n: want (NULL: the lowest free one in its IPRange or subnet). */
int unet_alloc(struct net_network *n, const char *owner, const char *want, uint32_t *out,
               struct err **err);

/* Endpoints on user networks: what mgr.c stores and loads beyond its own fields, the address
 * and interface of a new one, and the refusal of --ip/--network-alias elsewhere. */
char **net_strv_copy(char *const *v);
void net_strv_free(char **v);
void net_endpoint_encode_extra(const struct net_endpoint *e, json_t *ej);
void net_endpoint_load_extra(struct net_endpoint *e, struct net_network *user, const json_t *v);
int net_user_attach_prepare(struct net_mgr *m, const struct net_attach_req *req,
                            struct net_endpoint *e, struct net_sandbox_spec *spec,
                            struct err **err);
int net_user_opts_refuse(const struct net_attach_req *req, struct err **err);
/* network connect to the default bridge: an address from its pool and the interface spec. */
int net_bridge_connect_prepare(struct net_mgr *m, const char *ctr_id, struct net_endpoint *e,
                               struct net_sandbox_spec *spec, struct err **err);
bool net_is_default_bridge(const struct net_mgr *m, const struct net_network *n);
/* --network container:<x>: an endpoint (first in the list) sharing x's sandbox; ERR_CONFLICT
 * when x has none. */
int net_join_prepare(struct net_mgr *m, const struct net_attach_req *req, struct err **err);
/* One more interface in an existing sandbox (network connect): veth on bridge, ifname inside
 * with the address, up, no route. Blocking. */
struct net_iface_spec {
    const char *path, *veth, *bridge, *ifname;
    uint32_t addr;
    int prefix;
    unsigned char mac[6];
};
int net_iface_add(const struct net_iface_spec *sp, struct err **err);
/* Threadpool: the joined container's name files are copies of the other's. */
void net_join_copy_files(const char *hosts_from, const char *resolv_from, const char *hosts_to,
                         const char *resolv_to, struct err **err);

/* ---- embedded DNS (dns.c) ------------------------------------------------------------------ */

/* Starts the server at 127.0.0.11:53 (UDP and TCP) inside e's sandbox; loop thread. */
void dns_start(struct net_mgr *m, struct net_endpoint *e);
/* Stops it (handles closed, freed later); e->dns becomes NULL. */
void dns_stop(struct net_endpoint *e);

/* Packet code (pure, bounds-checked; exposed for tests). */
struct dns_question {
    uint16_t id, flags;
    char name[256]; /* lower case, no trailing dot */
    uint16_t qtype, qclass;
    size_t end; /* offset just after the question */
};
/* 0, or -1 when buf is not a single-question query. */
int dns_parse_query(const unsigned char *buf, size_t len, struct dns_question *q);
/* An answer to q (echoing the question) with n A records (network order addresses) and rcode;
 * at most cap bytes into out; its length, or 0 when it does not fit. */
size_t dns_build_answer(const struct dns_question *q, const unsigned char *query, int rcode,
                        const uint32_t *addrs, size_t n, unsigned char *out, size_t cap);

#endif
