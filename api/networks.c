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
    json_object_set_new(j, "DNSNames", json_null());
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
