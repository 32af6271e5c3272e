/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The networks a container joins beyond its first: `network connect` on a created or stopped
 * container is recorded in its NetworkingConfig (config.json rewritten on the threadpool), and
 * a start connects each recorded user network once the first one is ready, as dockerd does.
 */
#include "daemon/container/internal.h"

#include <string.h>

#include "daemon/network/network.h"

struct net_record_write {
    uv_work_t work;
    struct ctr *c;
    char *path, *text;
};

static void record_work(uv_work_t *w)
{
    struct net_record_write *op = w->data;
    struct err *err = NULL;
    if (fsu_write_atomic(op->path, op->text, strlen(op->text), 0600, &err) < 0) {
        log_error("%s", err->msg);
        err_free(err);
    }
}

static void record_after(uv_work_t *w, int status)
{
    struct net_record_write *op = w->data;
    (void)status;
    ctr_unref(op->c);
    free(op->path);
    free(op->text);
    free(op);
}

int ctr_network_record(struct ctr *c, const char *network, json_t *endpoint, struct err **err)
{
    const char *mode = c->cfg.host.network_mode;
    if (!endpoint && (!mode || strcmp(mode, network) == 0))
        return err_set(err, ERR_FORBIDDEN, 0,
                       "container %s is not connected to network %s (disconnecting its first "
                       "network while it is stopped is not supported)",
                       c->name, network);
    if (!c->cfg.networking_config)
        c->cfg.networking_config = json_pack("{s:{}}", "EndpointsConfig");
    json_t *eps = json_object_get(c->cfg.networking_config, "EndpointsConfig");
    if (!json_is_object(eps)) {
        eps = json_object();
        json_object_set_new(c->cfg.networking_config, "EndpointsConfig", eps);
    }
    bool have = json_object_get(eps, network) || (mode && strcmp(mode, network) == 0);
    if (endpoint && have)
        return err_set(err, ERR_FORBIDDEN, 0, "endpoint with name %s already exists in network %s",
                       c->name, network);
    if (!endpoint && !json_object_get(eps, network))
        return err_set(err, ERR_FORBIDDEN, 0, "container %s is not connected to network %s",
                       c->name, network);
    if (endpoint)
        json_object_set(eps, network, endpoint);
    else
        json_object_del(eps, network);
    struct net_record_write *op = xcalloc(1, sizeof(*op));
    op->c = c;
    ctr_ref(c);
    op->path = ctr_path(c, "config.json");
    json_auto_t *j = ctr_config_json(c);
    op->text = json_dumps(j, JSON_COMPACT);
    op->work.data = op;
    uv_queue_work(c->st->loop, &op->work, record_work, record_after);
    return 0;
}

/* ---- at start ---------------------------------------------------------------------------- */

struct extra_op {
    struct ctr *c;
    char **names; /* the networks still to connect */
    size_t next, n;
    ctr_done_cb done;
    void *data;
};

static void extra_free(struct extra_op *op)
{
    for (size_t i = 0; i < op->n; i++)
        free(op->names[i]);
    free(op->names);
    ctr_unref(op->c);
    free(op);
}

static void extra_next(const struct err *err, void *data)
{
    struct extra_op *op = data;
    struct ctr *c = op->c;
    if (err || op->next == op->n) {
        if (err) /* the start fails; the first network goes too */
            net_release(c->st->net, c->id, NULL, NULL);
        op->done(err, op->data);
        extra_free(op);
        return;
    }
    const char *name = op->names[op->next++];
    json_t *ep =
        json_object_get(json_object_get(c->cfg.networking_config, "EndpointsConfig"), name);
    json_t *a = json_object_get(ep, "Aliases");
    size_t na = json_array_size(a), k = 0;
    _cleanup_free_ char **aliases = xcalloc(na + 1, sizeof(char *));
    for (size_t i = 0; i < na; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s && *s)
            aliases[k++] = (char *)s;
    }
    struct net_connect_req req = {
        .ctr_id = c->id,
        .ctr_name = c->name,
        .network = name,
        .ip = json_string_value(json_object_get(json_object_get(ep, "IPAMConfig"), "IPv4Address")),
        .aliases = aliases};
    net_connect(c->st->net, &req, extra_next, op);
}

bool ctr_networks_extra(const struct ctr *c)
{
    const char *mode = c->cfg.host.network_mode;
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(c->cfg.networking_config, "EndpointsConfig"), key, v)
    {
        const struct net_network *n = c->st->net ? net_network_lookup(c->st->net, key, NULL) : NULL;
        if (n && n->user && (!mode || strcmp(mode, key) != 0) && strcmp(mode ? mode : "", n->id))
            return true;
    }
    return false;
}

void ctr_networks_connect(struct ctr *c, ctr_done_cb done, void *data)
{
    struct extra_op *op = xcalloc(1, sizeof(*op));
    op->c = c;
    ctr_ref(c);
    op->done = done;
    op->data = data;
    const char *mode = c->cfg.host.network_mode;
    json_t *eps = json_object_get(c->cfg.networking_config, "EndpointsConfig");
    op->names = xcalloc(json_object_size(eps) + 1, sizeof(char *));
    const char *key;
    json_t *v;
    json_object_foreach(eps, key, v)
    {
        const struct net_network *n = net_network_lookup(c->st->net, key, NULL);
        if (n && n->user && (!mode || strcmp(mode, key) != 0) && strcmp(mode ? mode : "", n->id))
            op->names[op->n++] = xstrdup(key);
    }
    extra_next(NULL, op);
}
