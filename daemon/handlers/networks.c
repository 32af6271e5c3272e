/* SPDX-License-Identifier: Apache-2.0 */
/* GET /networks, GET /networks/{id}: the built-in networks (bridge, host, none). */
#include "daemon/handlers/handlers.h"

#include <string.h>

#include "api/networks.h"
#include "daemon/network/network.h"

static json_t *bridge_options(const struct net_network *n)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "com.docker.network.bridge.default_bridge",
                     "true", "com.docker.network.bridge.enable_icc", "true",
                     "com.docker.network.bridge.enable_ip_masquerade", "true",
                     "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0",
                     "com.docker.network.bridge.name", n->bridge_name ? n->bridge_name : "",
                     "com.docker.network.driver.mtu", "1500");
}

/* with_containers: inspect lists the running containers' endpoints; the list does not. */
static json_t *network_json(const struct handle_env *env, const struct net_network *n,
                            bool with_containers)
{
    size_t nc = 0, cap = with_containers ? ctr_count(env->ctrs) : 0;
    struct api_network_container *cs = xcalloc(cap + 1, sizeof(*cs));
    char **names = xcalloc(cap + 1, sizeof(char *));
    char **cidrs = xcalloc(cap + 1, sizeof(char *));
    for (size_t i = 0; i < cap; i++) {
        const struct ctr *c = ctr_at(env->ctrs, i);
        const struct net_endpoint *e = net_endpoint_find(env->net, c->id);
        if (!e || e->net != n)
            continue;
        names[nc] = xstrdup(c->name);
        cidrs[nc] = e->ip[0] ? xasprintf("%s/%d", e->ip, e->prefix) : xstrdup("");
        cs[nc] = (struct api_network_container){.id = c->id,
                                                .name = names[nc],
                                                .endpoint_id = e->endpoint_id,
                                                .mac_address = e->mac,
                                                .ipv4_address = cidrs[nc]};
        nc++;
    }
    json_auto_t *opts = strcmp(n->driver, "bridge") == 0 ? bridge_options(n) : json_object();
    struct api_network an = {.name = n->name,
                             .id = n->id,
                             .created = n->created,
                             .driver = n->driver,
                             .subnet = n->subnet,
                             .gateway = n->gateway,
                             .options = opts,
                             .containers = cs,
                             .ncontainers = nc};
    json_t *j = api_network_encode(&an);
    for (size_t i = 0; i < nc; i++) {
        free(names[i]);
        free(cidrs[i]);
    }
    free(names);
    free(cidrs);
    free(cs);
    return j;
}

/* The filters docker's CLI sends: name (substring), id (prefix), driver, type. */
static bool network_matches(const struct net_network *n, const json_t *f)
{
    const char *key;
    json_t *vals;
    json_object_foreach((json_t *)f, key, vals)
    {
        bool any = false;
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v)
        {
            const char *s = json_string_value(v);
            if (!s)
                continue;
            if (strcmp(key, "name") == 0)
                any |= strstr(n->name, s) != NULL;
            else if (strcmp(key, "id") == 0)
                any |= strncmp(n->id, s, strlen(s)) == 0;
            else if (strcmp(key, "driver") == 0)
                any |= strcmp(n->driver, s) == 0;
            else if (strcmp(key, "type") == 0)
                any |= strcmp(s, "builtin") == 0;
            else
                any = true;
        }
        if (!any)
            return false;
    }
    return true;
}

static void handle_networks_list(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    json_auto_t *f = NULL;
    struct err *err = NULL;
    if (api_filters_parse(route_query(rr, "filters"), &f, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < net_network_count(env->net); i++) {
        const struct net_network *n = net_network_at(env->net, i);
        if (network_matches(n, f))
            json_array_append_new(list, network_json(env, n, false));
    }
    route_reply_json(rr, 200, list);
}

static void handle_network_inspect(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    const struct net_network *n = net_network_lookup(env->net, rr->params[0], &err);
    if (!n) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_reply_json(rr, 200, network_json(env, n, true));
}

const struct route handle_network_routes[] = {
    {.method = "GET", .pattern = "/networks", .fn = handle_networks_list},
    {.method = "GET", .pattern = "/networks/{id}", .fn = handle_network_inspect},
    {.method = NULL},
};
