/* SPDX-License-Identifier: Apache-2.0 */
/* Networks and NetworkSettings as dockerd (API 1.44) sends them, every key present. */
#include "api/networks.h"

#include "api/json_util.h"

#include <string.h>

json_t *api_endpoint_settings_encode(const struct api_endpoint_settings *e)
{
    json_t *j = json_object();
    json_object_set_new(j, "IPAMConfig", json_null());
    json_object_set_new(j, "Links", json_null());
    json_object_set_new(j, "Aliases", e->aliases ? apij_strv_encode(e->aliases) : json_null());
    apij_set_str(j, "MacAddress", e->mac_address);
    json_object_set_new(j, "DriverOpts", json_null());
    apij_set_str(j, "NetworkID", e->network_id);
    apij_set_str(j, "EndpointID", e->endpoint_id);
    apij_set_str(j, "Gateway", e->gateway);
    apij_set_str(j, "IPAddress", e->ip_address);
    json_object_set_new(j, "IPPrefixLen", json_integer(e->ip_prefix_len));
    apij_set_str(j, "IPv6Gateway", "");
    apij_set_str(j, "GlobalIPv6Address", "");
    json_object_set_new(j, "GlobalIPv6PrefixLen", json_integer(0));
    json_object_set_new(j, "DNSNames", e->dns_names ? apij_strv_encode(e->dns_names) : json_null());
    return j;
}

static json_t *networks_encode(const struct api_network_settings *s)
{
    json_t *nets = json_object();
    for (size_t i = 0; i < s->nnets; i++)
        json_object_set_new(nets, s->names[i], api_endpoint_settings_encode(&s->nets[i]));
    return nets;
}

json_t *api_network_settings_encode(const struct api_network_settings *s)
{
    const struct api_endpoint_settings none = {0}, *b = &none;
    for (size_t i = 0; i < s->nnets; i++) {
        if (strcmp(s->names[i], "bridge") == 0)
            b = &s->nets[i];
    }
    json_t *j = json_object();
    apij_set_str(j, "Bridge", "");
    apij_set_str(j, "SandboxID", s->sandbox_id);
    apij_set_str(j, "SandboxKey", s->sandbox_key);
    json_object_set_new(j, "Ports",
                        json_is_object(s->ports) ? json_incref(s->ports) : json_object());
    json_object_set_new(j, "HairpinMode", json_false());
    apij_set_str(j, "LinkLocalIPv6Address", "");
    json_object_set_new(j, "LinkLocalIPv6PrefixLen", json_integer(0));
    json_object_set_new(j, "SecondaryIPAddresses", json_null());
    json_object_set_new(j, "SecondaryIPv6Addresses", json_null());
    apij_set_str(j, "EndpointID", b->endpoint_id);
    apij_set_str(j, "Gateway", b->gateway);
    apij_set_str(j, "GlobalIPv6Address", "");
    json_object_set_new(j, "GlobalIPv6PrefixLen", json_integer(0));
    apij_set_str(j, "IPAddress", b->ip_address);
    json_object_set_new(j, "IPPrefixLen", json_integer(b->ip_prefix_len));
    apij_set_str(j, "IPv6Gateway", "");
    apij_set_str(j, "MacAddress", b->mac_address);
    json_object_set_new(j, "Networks", networks_encode(s));
    return j;
}

json_t *api_network_summary_encode(const struct api_network_settings *s)
{
    return networks_encode(s);
}

json_t *api_network_encode(const struct api_network *n)
{
    json_t *j = json_object();
    apij_set_str(j, "Name", n->name);
    apij_set_str(j, "Id", n->id);
    apij_set_str(j, "Created", n->created);
    apij_set_str(j, "Scope", "local");
    apij_set_str(j, "Driver", n->driver);
    json_object_set_new(j, "EnableIPv6", json_false());
    json_t *cfg = json_array();
    if (n->subnet && *n->subnet) {
        json_t *c = json_object();
        apij_set_str(c, "Subnet", n->subnet);
        if (n->ip_range && *n->ip_range)
            apij_set_str(c, "IPRange", n->ip_range);
        if (n->gateway && *n->gateway)
            apij_set_str(c, "Gateway", n->gateway);
        json_array_append_new(cfg, c);
    }
    json_object_set_new(
        j, "IPAM", json_pack("{s:s, s:n, s:o}", "Driver", "default", "Options", "Config", cfg));
    json_object_set_new(j, "Internal", json_boolean(n->internal));
    json_object_set_new(j, "Attachable", json_false());
    json_object_set_new(j, "Ingress", json_false());
    json_object_set_new(j, "ConfigFrom", json_pack("{s:s}", "Network", ""));
    json_object_set_new(j, "ConfigOnly", json_false());
    json_t *ctrs = json_object();
    for (size_t i = 0; i < n->ncontainers; i++) {
        const struct api_network_container *c = &n->containers[i];
        json_t *o = json_object();
        apij_set_str(o, "Name", c->name);
        apij_set_str(o, "EndpointID", c->endpoint_id);
        apij_set_str(o, "MacAddress", c->mac_address);
        apij_set_str(o, "IPv4Address", c->ipv4_address);
        apij_set_str(o, "IPv6Address", "");
        json_object_set_new(ctrs, c->id, o);
    }
    json_object_set_new(j, "Containers", ctrs);
    json_object_set_new(j, "Options",
                        json_is_object(n->options) ? json_incref(n->options) : json_object());
    json_object_set_new(j, "Labels",
                        json_is_object(n->labels) ? json_incref(n->labels) : json_object());
    return j;
}

static int opt_str(json_t *o, const char *key, const char *field, const char **out,
                   struct err **err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID, 0, "%s: want a string", field);
    *out = json_string_value(v);
    return 0;
}

static int opt_obj(json_t *o, const char *key, json_t **out, struct err **err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return err_set(err, ERR_INVALID, 0, "%s: want an object", key);
    *out = v;
    return 0;
}

int api_network_create_decode(json_t *body, struct api_network_create *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(body))
        return err_set(err, ERR_INVALID, 0, "the body must be a JSON object");
    json_t *ipam = json_object_get(body, "IPAM");
    json_t *cfg = json_object_get(ipam, "Config");
    if (opt_str(body, "Name", "Name", &out->name, err) < 0 ||
        opt_str(body, "Driver", "Driver", &out->driver, err) < 0 ||
        opt_obj(body, "Labels", &out->labels, err) < 0 ||
        opt_obj(body, "Options", &out->options, err) < 0)
        return -1;
    if (cfg && !json_is_null(cfg) && !json_is_array(cfg))
        return err_set(err, ERR_INVALID, 0, "IPAM.Config: want an array");
    if (json_array_size(cfg) > 1)
        return err_set(err, ERR_INVALID, 0, "IPAM.Config: only one IPv4 pool is supported");
    json_t *c = json_array_get(cfg, 0);
    if (c && (opt_str(c, "Subnet", "IPAM.Config.Subnet", &out->subnet, err) < 0 ||
              opt_str(c, "Gateway", "IPAM.Config.Gateway", &out->gateway, err) < 0 ||
              opt_str(c, "IPRange", "IPAM.Config.IPRange", &out->ip_range, err) < 0))
        return -1;
    json_t *internal = json_object_get(body, "Internal");
    if (internal && !json_is_boolean(internal) && !json_is_null(internal))
        return err_set(err, ERR_INVALID, 0, "Internal: want a boolean");
    out->internal = json_is_true(internal);
    out->check_duplicate = json_is_true(json_object_get(body, "CheckDuplicate"));
    if (!out->name || !*out->name)
        return err_set(err, ERR_INVALID, 0, "network name must not be empty");
    return 0;
}

int api_network_connect_decode(json_t *body, struct api_network_connect *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(body))
        return err_set(err, ERR_INVALID, 0, "the body must be a JSON object");
    if (opt_str(body, "Container", "Container", &out->container, err) < 0 ||
        opt_obj(body, "EndpointConfig", &out->endpoint_config, err) < 0)
        return -1;
    if (!out->container || !*out->container)
        return err_set(err, ERR_INVALID, 0, "Container: must not be empty");
    json_t *ipam = json_object_get(out->endpoint_config, "IPAMConfig");
    if (ipam && json_is_object(ipam) &&
        opt_str(ipam, "IPv4Address", "EndpointConfig.IPAMConfig.IPv4Address", &out->ipv4_address,
                err) < 0)
        return -1;
    out->force = json_is_true(json_object_get(body, "Force"));
    return 0;
}
