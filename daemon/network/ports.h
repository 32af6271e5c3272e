/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to daemon/network: a container's published ports (ports.c) and the userland proxy
 * that serves them on the loop (proxy.c). The port set is parsed from HostConfig.PortBindings
 * and Config.ExposedPorts at attach, host ports are bound when the endpoint is ready, DNAT
 * rules (when iptables is on) are added and removed on the threadpool.
 */
#ifndef BERTH_NETWORK_PORTS_H
#define BERTH_NETWORK_PORTS_H

#include <stdbool.h>
#include <jansson.h>
#include <uv.h>

#include "common/common.h"

struct proxy;
struct rules_op;

struct port_map {
    char proto[4]; /* tcp, udp */
    int ctr_port;
    char host_ip[16];     /* "" for 0.0.0.0 */
    int host_lo, host_hi; /* 0, 0: a random port */
    int host_port;        /* bound (0 while not, or exposed only) */
    bool published;
    struct proxy *proxy; /* NULL when closed */
};

struct net_ports {
    struct port_map *v;
    size_t n;
    char ctr_ip[16];
    char bridge[16];
    bool rules;              /* DNAT rules were added */
    struct rules_op *adding; /* the addition in flight: a removal waits for it */
};

/* Parses the bindings (every exposed port too; publish_all gives the exposed ones a random
 * host port). NULL *out when there is nothing. */
int ports_parse(const json_t *bindings, const json_t *exposed, bool publish_all,
                struct net_ports **out, struct err **err);
/* Binds the host side (proxies on loop) and queues the DNAT rules when iptables; fixed:
 * host_port already chosen (a restore). */
int ports_open(struct net_ports *p, uv_loop_t *loop, const char *ctr_ip, const char *bridge,
               bool iptables, struct err **err);
/* Closes the proxies (the rules stay: live restore). */
void ports_detach(struct net_ports *p);
/* Closes the proxies, queues the removal of the rules, frees p. */
void ports_close(struct net_ports *p, uv_loop_t *loop);
void ports_free(struct net_ports *p);
json_t *ports_encode(const struct net_ports *p);
struct net_ports *ports_decode(const json_t *j);
/* {"80/tcp":[{"HostIp","HostPort"}]} or the ps array. */
json_t *ports_inspect_json(const struct net_ports *p);
json_t *ports_summary_json(const struct net_ports *p);

/* proxy.c: bound to host_ip:host_port (0: *port_out gets a free one from the range). */
int proxy_open(uv_loop_t *loop, const char *proto, const char *host_ip, int host_port,
               const char *ctr_ip, int ctr_port, struct proxy **out, struct err **err);
void proxy_close(struct proxy *px);

#endif
