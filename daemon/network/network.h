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
#include <jansson.h>
#include <jansson.h>
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
    bool user;     /* user-defined (usernet.c): own bridge, pool and DNS */
    bool internal; /* no NAT, no forwarding outside the bridge */
    char ip_range[20];
    json_t *labels; /* user networks: owned object; NULL for built-ins */
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
    struct net_ports *ports;    /* published and exposed ports (ports.c), or NULL */
    char *name;                 /* the container's name (DNS), may be NULL */
    char **aliases;             /* --network-alias (DNS), NULL-terminated or NULL */
    char **dns_fwd;             /* --dns: forwarders for this container's DNS, or NULL */
    char **dns_names;           /* name, aliases, short id (user networks), or NULL */
    bool joined;                /* --network container:<id>: the other's sandbox, not ours */
    bool secondary;             /* network connect: one more interface in the container's sandbox */
    char ifname[16];            /* its name inside (secondary), "" for eth0 */
    struct dns_server *dns;     /* the embedded DNS server in its sandbox (user networks) */
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
/* Every live endpoint of a container (the one above and those of `network connect`): the one
 * after prev (NULL: the first), or NULL. Borrowed as above. */
const struct net_endpoint *net_endpoint_next(const struct net_mgr *m, const char *ctr_id,
                                             const struct net_endpoint *prev);

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
    const char *name;        /* the container's name, for DNS */
    const json_t *endpoints; /* NetworkingConfig.EndpointsConfig (Aliases, IPAMConfig) or NULL */
    /* --network container:<x>: the running container x resolved by the caller, and its name
     * files (copied) */
    const char *join_ctr_id, *join_hosts_path, *join_resolv_path;
    const json_t *port_bindings; /* HostConfig.PortBindings (may be NULL) */
    const json_t *exposed_ports; /* Config.ExposedPorts (may be NULL) */
    bool publish_all;            /* HostConfig.PublishAllPorts */
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

/* ---- user-defined networks (usernet.c) ----------------------------------------------------- */

/* docker rename: the container's endpoints answer to name in the embedded DNS (and show it in
 * DNSNames) instead of the old one; persisted. Loop thread; m may be NULL. */
void net_rename(struct net_mgr *m, const char *ctr_id, const char *name);

/* POST /networks/create, decoded. Borrowed for the call. */
struct net_create_req {
    const char *name, *driver;
    const char *subnet, *gateway, *ip_range; /* NULL: automatic */
    bool internal, check_duplicate;
    const json_t *labels, *options; /* objects or NULL */
};
/* At container create, as docker: a named network must exist (404), --ip and aliases only on
 * user networks (400). */
int net_mode_check(const struct net_mgr *m, const char *mode, const json_t *endpoints,
                   struct err **err);
/* Validation without side effects (ERR_INVALID naming the field); exposed for tests. */
int net_create_validate(const struct net_create_req *req, struct err **err);

typedef void (*net_create_cb)(const struct err *err, const struct net_network *n, void *data);
/* Creates the network: its bridge and rules on the threadpool, persisted; done on the loop. */
void net_network_create(struct net_mgr *m, const struct net_create_req *req, net_create_cb done,
                        void *data);
/* Removes a user network (409 while an endpoint uses it, 403 for built-ins). */
void net_network_remove(struct net_mgr *m, const char *name, net_done_cb done, void *data);
/* Removes every unused user network match (may be NULL: all) accepts, called during the call;
 * done gets the names of the removed ones (caller frees the vector). */
typedef void (*net_prune_cb)(char **removed, void *data);
typedef bool (*net_prune_match)(const struct net_network *n, void *arg);
void net_network_prune(struct net_mgr *m, net_prune_match match, void *match_arg, net_prune_cb done,
                       void *data);

/* ---- published ports (ports.c) ---------------------------------------------------------- */

struct net_ports;
/* HostConfig.PortBindings at create: ERR_INVALID "invalid port specification: ..." */
int net_ports_validate(const json_t *bindings, struct err **err);
/* NetworkSettings.Ports ({"80/tcp":[{"HostIp","HostPort"}]}, null for exposed only) and the
 * ps Ports array of a live endpoint (e may be NULL: {} and []). New references. */
json_t *net_endpoint_ports_inspect(const struct net_endpoint *e);
json_t *net_endpoint_ports_summary(const struct net_endpoint *e);
/* At shutdown: closes the proxies (berthd's listeners) so the loop can end; the rules and the
 * endpoints stay for live restore. */
void net_mgr_detach(struct net_mgr *m);

/* POST /networks/{id}/connect on a running container: one more interface (eth1...) in its
 * sandbox. ip and aliases may be NULL. */
struct net_connect_req {
    const char *ctr_id, *ctr_name, *network, *ip;
    char *const *aliases;
};
void net_connect(struct net_mgr *m, const struct net_connect_req *req, net_done_cb done,
                 void *data);
/* POST /networks/{id}/disconnect of a running container: its interface on the network goes. */
void net_disconnect(struct net_mgr *m, const char *ctr_id, const char *network, net_done_cb done,
                    void *data);

#endif
