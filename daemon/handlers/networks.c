/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /networks: list and inspect (built-in and user-defined networks), create, remove, prune,
 * connect and disconnect (user-defined bridge networks, daemon/network/usernet.c).
 */
#include "daemon/handlers/handlers.h"

#include <string.h>
#include <time.h>

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
        const struct net_endpoint *e = net_endpoint_next(env->net, c->id, NULL);
        while (e && (e->net != n || e->joined))
            e = net_endpoint_next(env->net, c->id, e);
        if (!e)
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
    json_auto_t *opts =
        strcmp(n->driver, "bridge") == 0 && !n->user ? bridge_options(n) : json_object();
    struct api_network an = {.name = n->name,
                             .id = n->id,
                             .created = n->created,
                             .driver = n->driver,
                             .subnet = n->subnet,
                             .gateway = n->gateway,
                             .ip_range = n->ip_range,
                             .internal = n->internal,
                             .labels = n->labels,
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

/* label=key or label=key=value against a network's labels. */
static bool label_matches(const json_t *labels, const char *f)
{
    const char *eq = strchr(f, '=');
    _cleanup_free_ char *key = eq ? xstrndup(f, (size_t)(eq - f)) : xstrdup(f);
    const char *have = json_string_value(json_object_get(labels, key));
    return have && (!eq || strcmp(have, eq + 1) == 0);
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
                any |= strcmp(s, n->user ? "custom" : "builtin") == 0;
            else if (strcmp(key, "label") == 0)
                any |= label_matches(n->labels, s);
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

static void reply_now(struct route_req *rr, struct err *err)
{
    route_reply_err(rr, err);
    err_free(err);
}

/* A network call's answer and what its event needs. */
struct net_op {
    struct httpd_req *req;
    struct events *events;
    char *id, *name;
    const char *action; /* connect, disconnect */
    char ctr[65];
};

static struct net_op *net_op_new(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct net_op *op = xcalloc(1, sizeof(*op));
    op->events = env->events;
    return op;
}

static void net_op_free(struct net_op *op)
{
    free(op->id);
    free(op->name);
    free(op);
}

static void created(const struct err *err, const struct net_network *n, void *data)
{
    struct net_op *op = data;
    if (err) {
        route_send_err(op->req, err);
    } else {
        const char *attrs[] = {"name", n->name, "type", "bridge", NULL};
        events_emit(op->events, "network", "create", n->id, attrs);
        json_auto_t *j = json_pack("{s:s, s:s}", "Id", n->id, "Warning", "");
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
        httpd_resp_send(op->req, 201, "application/json", s, strlen(s));
    }
    net_op_free(op);
}

static void handle_network_create(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_auto_t *body = NULL;
    struct api_network_create in;
    if (route_body_json(rr, false, &body, &err) < 0 ||
        api_network_create_decode(body, &in, &err) < 0) {
        reply_now(rr, err);
        return;
    }
    struct net_create_req req = {.name = in.name,
                                 .driver = in.driver,
                                 .subnet = in.subnet,
                                 .gateway = in.gateway,
                                 .ip_range = in.ip_range,
                                 .internal = in.internal,
                                 .check_duplicate = in.check_duplicate,
                                 .labels = in.labels,
                                 .options = in.options};
    struct net_op *op = net_op_new(rr);
    op->req = route_detach(rr);
    net_network_create(env->net, &req, created, op);
}

static void removed(const struct err *err, void *data)
{
    struct net_op *op = data;
    if (err) {
        route_send_err(op->req, err);
    } else {
        const char *attrs[] = {"name", op->name, "type", "bridge", NULL};
        events_emit(op->events, "network", "destroy", op->id, attrs);
        httpd_resp_send(op->req, 204, NULL, NULL, 0);
    }
    net_op_free(op);
}

static void handle_network_remove(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    _cleanup_free_ char *name = xstrdup(rr->params[0]);
    struct net_op *op = net_op_new(rr);
    const struct net_network *n = net_network_lookup(env->net, name, NULL);
    op->id = xstrdup(n ? n->id : name);
    op->name = xstrdup(n ? n->name : name);
    op->req = route_detach(rr);
    net_network_remove(env->net, name, removed, op);
}

static void pruned(char **names, void *data)
{
    struct route_req *rr = data;
    json_t *a = json_array();
    for (char **p = names; p && *p; p++) {
        json_array_append_new(a, json_string(*p));
        free(*p);
    }
    free(names);
    route_reply_json(rr, 200, json_pack("{s:o}", "NetworksDeleted", a));
}

/* ---- prune filters: label, label!, until (docker's GetTimestamp forms) ------------------- */

/* until's value, as dockerd reads it: GetTimestamp's forms, then ParseTimestamps. */
static int until_parse(const char *v, int64_t *out, struct err **err)
{
    _cleanup_free_ char *ts = NULL;
    int64_t sec;
    long nsec;
    if (api_timestamp_get(v, (int64_t)time(NULL), &ts, err) < 0)
        return -1;
    if (api_unix_time_parse(ts, &sec, &nsec) < 0)
        return err_set(err, ERR_INVALID, 0, "failed to parse value as time or duration: \"%s\"", v);
    *out = sec * 1000000000 + nsec;
    return 0;
}

struct prune_filter {
    const json_t *f;
    bool until_set;
    int64_t until_ns;
};

/* moby's matchLabels: every label= matches, and not every label!= does. */
static bool prune_match(const struct net_network *n, void *arg)
{
    const struct prune_filter *pf = arg;
    const json_t *not = json_object_get(pf->f, "label!");
    bool all_not = json_array_size(not ) > 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(pf->f, "label"), i, v)
    {
        if (json_string_value(v) && !label_matches(n->labels, json_string_value(v)))
            return false;
    }
    json_array_foreach(not, i, v)
    {
        const char *l = json_string_value(v);
        all_not &= !l || label_matches(n->labels, l);
    }
    if (all_not)
        return false;
    int64_t sec;
    long nsec;
    return !pf->until_set || (api_rfc3339_parse(n->created, &sec, &nsec) == 0 &&
                              sec * 1000000000 + nsec <= pf->until_ns);
}

static int prune_filter_init(struct prune_filter *pf, const json_t *f, struct err **err)
{
    const char *key;
    json_t *vals;
    json_object_foreach((json_t *)f, key, vals)
    {
        if (strcmp(key, "label") != 0 && strcmp(key, "label!") != 0 && strcmp(key, "until") != 0)
            return err_set(err, ERR_INVALID, 0, "invalid filter '%s'", key);
    }
    pf->f = f;
    const json_t *until = json_object_get(f, "until");
    if (json_array_size(until) > 1)
        return err_set(err, ERR_INVALID, 0, "more than one until filter specified");
    if (json_array_size(until) == 0)
        return 0;
    pf->until_set = true;
    return until_parse(json_string_value(json_array_get(until, 0)), &pf->until_ns, err);
}

static void handle_network_prune(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    json_auto_t *f = NULL;
    struct err *err = NULL;
    struct prune_filter pf = {0};
    if (api_filters_parse(route_query(rr, "filters"), &f, &err) < 0 ||
        prune_filter_init(&pf, f, &err) < 0) {
        reply_now(rr, err);
        return;
    }
    net_network_prune(env->net, prune_match, &pf, pruned, rr);
}

/* connect and disconnect answer 200 with no body, as dockerd. */
static void connected(const struct err *err, void *data)
{
    struct net_op *op = data;
    if (err) {
        route_send_err(op->req, err);
    } else {
        const char *attrs[] = {"container", op->ctr, "name", op->name, "type", "bridge", NULL};
        events_emit(op->events, "network", op->action, op->id, attrs);
        httpd_resp_send(op->req, 200, NULL, NULL, 0);
    }
    net_op_free(op);
}

/* The event context of a connect or disconnect of container c to the network named. */
static struct net_op *connect_op(struct route_req *rr, const struct ctr *c, const char *network,
                                 const char *action)
{
    const struct handle_env *env = rr->ud;
    struct net_op *op = net_op_new(rr);
    const struct net_network *n = net_network_lookup(env->net, network, NULL);
    op->id = xstrdup(n ? n->id : network);
    op->name = xstrdup(n ? n->name : network);
    op->action = action;
    snprintf(op->ctr, sizeof(op->ctr), "%s", c->id);
    op->req = route_detach(rr);
    return op;
}

/*
 * The first half of connect and disconnect: the body and the container it names. A stopped
 * container's change is only recorded in its config (connected at its next start), and
 * answered here, as is an error; otherwise the running container to act on.
 */
static struct ctr *connect_target(struct route_req *rr, bool connect, json_t **body,
                                  struct api_network_connect *in)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct ctr *c = NULL;
    if (route_body_json(rr, false, body, &err) < 0 ||
        api_network_connect_decode(*body, in, &err) < 0 ||
        !(c = ctr_lookup(env->ctrs, in->container, &err))) {
        reply_now(rr, err);
        return NULL;
    }
    if (c->status == CTR_RUNNING || c->status == CTR_PAUSED)
        return c;
    const struct net_network *n = net_network_lookup(env->net, rr->params[0], &err);
    json_auto_t *ep = NULL;
    if (connect)
        ep = in->endpoint_config ? json_incref(in->endpoint_config) : json_object();
    if (!n || ctr_network_record(c, n->name, ep, &err) < 0)
        reply_now(rr, err);
    else
        route_reply_status(rr, 200);
    return NULL;
}

static void handle_network_connect(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    json_auto_t *body = NULL;
    struct api_network_connect in;
    struct ctr *c = connect_target(rr, true, &body, &in);
    if (!c)
        return;
    json_t *a = json_object_get(in.endpoint_config, "Aliases");
    size_t na = json_array_size(a), k = 0;
    _cleanup_free_ char **aliases = xcalloc(na + 1, sizeof(char *));
    for (size_t i = 0; i < na; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s && *s)
            aliases[k++] = (char *)s;
    }
    _cleanup_free_ char *network = xstrdup(rr->params[0]);
    struct net_connect_req req = {.ctr_id = c->id,
                                  .ctr_name = c->name,
                                  .network = network,
                                  .ip = in.ipv4_address,
                                  .aliases = aliases};
    net_connect(env->net, &req, connected, connect_op(rr, c, network, "connect"));
}

static void handle_network_disconnect(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    json_auto_t *body = NULL;
    struct api_network_connect in;
    struct ctr *c = connect_target(rr, false, &body, &in);
    if (!c)
        return;
    _cleanup_free_ char *network = xstrdup(rr->params[0]);
    net_disconnect(env->net, c->id, network, connected, connect_op(rr, c, network, "disconnect"));
}

const struct route handle_network_routes[] = {
    {.method = "POST", .pattern = "/networks/{id}/connect", .fn = handle_network_connect},
    {.method = "POST", .pattern = "/networks/{id}/disconnect", .fn = handle_network_disconnect},
    {.method = "GET", .pattern = "/networks", .fn = handle_networks_list},
    {.method = "GET", .pattern = "/networks/{id}", .fn = handle_network_inspect},
    {.method = "POST", .pattern = "/networks/create", .fn = handle_network_create},
    {.method = "POST", .pattern = "/networks/prune", .fn = handle_network_prune},
    {.method = "DELETE", .pattern = "/networks/{id}", .fn = handle_network_remove},
    {.method = NULL},
};
