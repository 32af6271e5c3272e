/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api/networks: the wire shapes of networks (GET /networks, GET /networks/{id}) and of a
 * container's NetworkSettings, as API 1.44 has them. Borrowed pointers in; the encoders copy.
 * Pure functions: any thread.
 */
#ifndef BERTH_API_NETWORKS_H
#define BERTH_API_NETWORKS_H

#include "api/api.h"

/* One network's endpoint for a container (EndpointSettings). NULL strings encode as "". */
struct api_endpoint_settings {
    const char *network_id, *endpoint_id, *gateway, *ip_address, *mac_address;
    int ip_prefix_len;
    char *const *aliases;   /* NULL: null */
    char *const *dns_names; /* NULL: null */
};
json_t *api_endpoint_settings_encode(const struct api_endpoint_settings *e);

/* NetworkSettings of inspect: the sandbox, and the networks the container is on (name and
 * settings, nnets of them). The top-level address fields copy the "bridge" network's, as
 * docker keeps them for the default network only. */
struct api_network_settings {
    const char *sandbox_id, *sandbox_key;
    const char *const *names;
    const struct api_endpoint_settings *nets;
    size_t nnets;
    json_t *ports; /* borrowed, object or NULL ({}) */
};
json_t *api_network_settings_encode(const struct api_network_settings *s);
/* The Networks object of a ps row. */
json_t *api_network_summary_encode(const struct api_network_settings *s);

/* One container in a network's "Containers" (inspect only). */
struct api_network_container {
    const char *id, *name, *endpoint_id, *mac_address;
    const char *ipv4_address; /* "a.b.c.d/n" or "" */
};

struct api_network {
    const char *name, *id, *created, *driver;
    const char *subnet, *gateway; /* NULL or "": no IPAM config entry */
    const char *ip_range;         /* NULL or "": none */
    bool internal;
    json_t *options;                                /* borrowed object or NULL ({}) */
    json_t *labels;                                 /* borrowed object or NULL ({}) */
    const struct api_network_container *containers; /* ncontainers of them */
    size_t ncontainers;
};
json_t *api_network_encode(const struct api_network *n);

/* POST /networks/create. Strings borrowed from the decoded document (keep it alive). */
struct api_network_create {
    const char *name, *driver, *subnet, *gateway, *ip_range;
    bool internal, check_duplicate;
    json_t *labels, *options; /* borrowed objects or NULL */
};
int api_network_create_decode(json_t *body, struct api_network_create *out, struct err **err);

/* POST /networks/{id}/connect and /disconnect. Borrowed from body. */
struct api_network_connect {
    const char *container;
    const char *ipv4_address; /* EndpointConfig.IPAMConfig.IPv4Address or NULL */
    json_t *endpoint_config;  /* borrowed or NULL */
    bool force;
};
int api_network_connect_decode(json_t *body, struct api_network_connect *out, struct err **err);

#endif
