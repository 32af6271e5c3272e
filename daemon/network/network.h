/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network: the built-in networks (bridge, host, none), the default bridge (berth0) with IPAM,
 * one network namespace ("sandbox") per container with a veth into the bridge, the name files
 * (hosts, resolv.conf), NAT and forwarding through iptables. The netlink, IPAM and sandbox
 * code is blocking and libuv-free (internal.h); this header is the loop-facing service: every
 * function here runs on the loop thread and sends blocking work to the threadpool.
 *
 * Next steps plug in here: user-defined networks are more struct net_network entries (each
 * with its own bridge and pool), published ports hang off struct net_endpoint, and the DNS
 * server is one more loop-side object owned by struct net_mgr.
 */
#ifndef BERTH_NETWORK_H
#define BERTH_NETWORK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/common.h"

#define NET_DEFAULT_BRIDGE "berth0"

struct net_config {
    const char *data_root; /* network/ipam.json lives below it */
    const char *exec_root; /* netns/<sandbox> files live below it */
    const char *bip;       /* "172.20.0.1/16" or NULL */
    const char *bridge;    /* NULL: berth0; "none": no default bridge */
    bool iptables;
    bool ip_forward;
};

/* A network as GET /networks shows it. */
struct net_network {
    char id[65];
    const char *name;   /* bridge, host, none */
    const char *driver; /* bridge, host, null */
    char created[40];
    char subnet[20];  /* "" without IPAM config */
    char gateway[16]; /* "" without IPAM config */
    const char *bridge_name;
};

/* A container's attachment: its sandbox and (on the bridge) its endpoint. */
struct net_endpoint {
    char ctr_id[65];
    const struct net_network *net;
    char sandbox_id[65];
    char *sandbox_key; /* the netns file */
    char endpoint_id[65];
    char veth[16]; /* "" for none */
    char ip[16];   /* "" for none */
    int prefix;
    char gateway[16];
    char mac[18];
    uint32_t addr;  /* host order, 0 for none */
    bool ready;     /* the sandbox exists */
    bool releasing; /* its teardown is under way (or will follow its attach) */
    struct net_endpoint *next;
    struct net_waiter *waiters; /* releases waiting for this one's teardown */
};

struct net_mgr;

/*
 * Start-up (blocking): reads network/ipam.json, creates the bridge (address from cfg->bip, the
 * stored subnet, the bridge's current address, or the first free default pool), applies the
 * iptables rules and ip_forward, removes namespace files and veths no endpoint owns.
 */
int net_mgr_open(uv_loop_t *loop, const struct net_config *cfg, struct net_mgr **out,
                 struct err **err);
void net_mgr_free(struct net_mgr *m);
/* After the containers are loaded: releases the endpoints of containers keep() says are not
 * running (or gone). */
void net_mgr_sweep(struct net_mgr *m, bool (*keep)(const char *ctr_id, void *data), void *data);

/* The networks (borrowed, live as long as m). */
size_t net_network_count(const struct net_mgr *m);
const struct net_network *net_network_at(const struct net_mgr *m, size_t i);
/* By name, full id or unique id prefix: ERR_NOT_FOUND "network <name> not found". */
const struct net_network *net_network_lookup(const struct net_mgr *m, const char *name,
                                             struct err **err);

/* The live (ready, not releasing) attachment of a container, or NULL. Borrowed: valid on the
 * loop thread until the next net_release or net_mgr_free. */
const struct net_endpoint *net_endpoint_find(const struct net_mgr *m, const char *ctr_id);

/* What a container asks for at start. Borrowed for the call. */
struct net_attach_req {
    const char *ctr_id;
    const char *mode; /* HostConfig.NetworkMode: "", default, bridge, none, host */
    bool disabled;    /* Config.NetworkDisabled */
    const char *hostname;
    char *const *extra_hosts;
    char *const *dns, *const *dns_search, *const *dns_options;
    const char *hosts_path;  /* containers/<id>/hosts, rewritten */
    const char *resolv_path; /* containers/<id>/resolv.conf, rewritten */
};

typedef void (*net_done_cb)(const struct err *err, void *data);
/*
 * Prepares a container's network before its process exists: allocates its address (persisted
 * first), creates the namespace and the veth, writes the name files. done runs on the loop;
 * then net_endpoint_find gives the sandbox key the runtime joins (NULL for host mode).
 */
void net_attach(struct net_mgr *m, const struct net_attach_req *req, net_done_cb done, void *data);
/*
 * Releases a container's attachment (after it stopped, or at removal): the veth and the
 * namespace go, then the address is freed. done (may be NULL) runs when the teardown is over;
 * at once when there is nothing to release.
 */
void net_release(struct net_mgr *m, const char *ctr_id, net_done_cb done, void *data);

#endif
