/* SPDX-License-Identifier: Apache-2.0 */
/* Volumes: GET /volumes, POST /volumes/create, GET and DELETE /volumes/{name}, POST
 * /volumes/prune, with their create and destroy events. */
#include "daemon/handlers/handlers.h"

#include <string.h>

static void reply_err(struct route_req *rr, struct err *err)
{
    route_reply_err(rr, err);
    err_free(err);
}

static void volume_event(const struct handle_env *env, const char *action, const char *name)
{
    const char *attrs[] = {"driver", "local", NULL};
    events_emit(env->events, "volume", action, name, attrs);
}

/* The filters dockerd takes for a list: name (a substring), label, driver, dangling. */
static bool volume_matches(const struct handle_env *env, const struct vol *v, const json_t *f)
{
    const char *key;
    json_t *vals;
    json_object_foreach((json_t *)f, key, vals)
    {
        if (strcmp(key, "label") == 0) {
            if (!handle_labels_match(v->labels, vals))
                return false;
            continue;
        }
        bool any = false;
        size_t i;
        json_t *e;
        json_array_foreach(vals, i, e)
        {
            const char *s = json_string_value(e);
            if (!s)
                continue;
            if (strcmp(key, "name") == 0) {
                any |= strstr(v->name, s) != NULL;
            } else if (strcmp(key, "driver") == 0) {
                any |= strcmp(s, "local") == 0;
            } else if (strcmp(key, "dangling") == 0) {
                _cleanup_free_ char *users = ctr_volume_users(env->ctrs, v->name);
                bool want = strcmp(s, "true") == 0 || strcmp(s, "1") == 0;
                any |= want == (users == NULL);
            }
        }
        if (!any)
            return false;
    }
    return true;
}

/* The filters query with only the allowed keys; NULL (answered) otherwise. */
static json_t *filters(struct route_req *rr, const char *const *allowed)
{
    json_t *f = NULL;
    struct err *err = NULL;
    if (api_filters_parse(route_query(rr, "filters"), &f, &err) < 0) {
        reply_err(rr, err);
        return NULL;
    }
    const char *key;
    json_t *vals;
    json_object_foreach(f, key, vals)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            route_reply_errf(rr, ERR_INVALID, "invalid filter '%s'", key);
            json_decref(f);
            return NULL;
        }
    }
    return f ? f : json_object();
}

static void handle_volumes_list(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    static const char *const allowed[] = {"name", "label", "driver", "dangling", NULL};
    json_auto_t *f = filters(rr, allowed);
    if (!f)
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < vol_count(env->volumes); i++) {
        const struct vol *v = vol_at(env->volumes, i);
        if (volume_matches(env, v, f))
            json_array_append_new(list, vol_encode(env->volumes, v));
    }
    route_reply_json(rr, 200, json_pack("{s:o, s:n}", "Volumes", list, "Warnings"));
}

static void handle_volume_inspect(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    const struct vol *v = vol_find(env->volumes, rr->params[0]);
    if (!v) {
        route_reply_errf(rr, ERR_NOT_FOUND, "get %s: no such volume", rr->params[0]);
        return;
    }
    route_reply_json(rr, 200, vol_encode(env->volumes, v));
}

struct vol_op {
    struct httpd_req *req;
    const struct handle_env *env;
    char *name;
    json_t *names; /* prune: what went */
};

static void vol_op_free(struct vol_op *op)
{
    free(op->name);
    json_decref(op->names);
    free(op);
}

static void created(const struct err *err, void *data)
{
    struct vol_op *op = data;
    const struct vol *v = vol_find(op->env->volumes, op->name);
    if (err) {
        route_send_err(op->req, err);
    } else if (!v) {
        struct err *gone = NULL;
        err_set(&gone, ERR_CONFLICT, 0, "volume %s was removed while it was made", op->name);
        route_send_err(op->req, gone);
        err_free(gone);
    } else {
        volume_event(op->env, "create", v->name);
        json_auto_t *j = vol_encode(op->env->volumes, v);
        _cleanup_free_ char *body = json_dumps(j, JSON_COMPACT);
        httpd_resp_send(op->req, 201, "application/json", body, strlen(body));
    }
    vol_op_free(op);
}

static void handle_volume_create(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_auto_t *body = NULL;
    if (route_body_json(rr, true, &body, &err) < 0) {
        reply_err(rr, err);
        return;
    }
    if (body && !json_is_object(body)) {
        route_reply_errf(rr, ERR_INVALID, "the body must be a JSON object");
        return;
    }
    const char *name = json_string_value(json_object_get(body, "Name"));
    const char *driver = json_string_value(json_object_get(body, "Driver"));
    json_t *labels = json_object_get(body, "Labels");
    json_t *opts = json_object_get(body, "DriverOpts");
    if (driver && *driver && strcmp(driver, "local") != 0) {
        route_reply_errf(rr, ERR_INVALID,
                         "volume driver \"%s\" is not supported: berth has only the local driver",
                         driver);
        return;
    }
    if (json_object_size(opts) > 0) {
        route_reply_errf(rr, ERR_INVALID,
                         "options of the local driver (type, device, o) are not supported by "
                         "berth yet");
        return;
    }
    if ((labels && !json_is_null(labels) && !json_is_object(labels))) {
        route_reply_errf(rr, ERR_INVALID, "Labels: expected an object");
        return;
    }
    const struct vol *have = name && *name ? vol_find(env->volumes, name) : NULL;
    if (have) { /* as dockerd: the existing one */
        route_reply_json(rr, 201, vol_encode(env->volumes, have));
        return;
    }
    const struct vol *v = vol_add(env->volumes, name, labels, opts, false, &err);
    if (!v) {
        reply_err(rr, err);
        return;
    }
    struct vol_op *op = xcalloc(1, sizeof(*op));
    op->env = env;
    op->name = xstrdup(v->name);
    op->req = route_detach(rr);
    vol_create(env->volumes, v, created, op);
}

static void removed(const struct err *err, void *data)
{
    struct vol_op *op = data;
    if (err)
        route_send_err(op->req, err);
    else
        httpd_resp_send(op->req, 204, NULL, NULL, 0);
    vol_op_free(op);
}

static void handle_volume_delete(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct vol *v = vol_find(env->volumes, rr->params[0]);
    if (!v) {
        if (route_query_bool(rr, "force", false))
            httpd_resp_send(route_detach(rr), 204, NULL, NULL, 0);
        else
            route_reply_errf(rr, ERR_NOT_FOUND, "get %s: no such volume", rr->params[0]);
        return;
    }
    _cleanup_free_ char *users = ctr_volume_users(env->ctrs, v->name);
    if (users) {
        route_reply_errf(rr, ERR_CONFLICT, "remove %s: volume is in use - [%s]", v->name, users);
        return;
    }
    volume_event(env, "destroy", v->name);
    struct vol_op *op = xcalloc(1, sizeof(*op));
    op->env = env;
    op->req = route_detach(rr);
    vol_remove(env->volumes, &v, 1, removed, op);
}

static void pruned(const struct err *err, void *data)
{
    struct vol_op *op = data;
    if (err) {
        route_send_err(op->req, err);
    } else {
        json_auto_t *j =
            json_pack("{s:O, s:i}", "VolumesDeleted",
                      json_array_size(op->names) ? op->names : json_null(), "SpaceReclaimed", 0);
        _cleanup_free_ char *body = json_dumps(j, JSON_COMPACT);
        httpd_resp_send(op->req, 200, "application/json", body, strlen(body));
    }
    vol_op_free(op);
}

/* docker 23+: anonymous volumes only, unless all=true; label and label! as for networks. */
static void handle_volume_prune(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    static const char *const allowed[] = {"label", "label!", "all", NULL};
    json_auto_t *f = filters(rr, allowed);
    if (!f)
        return;
    const char *all = json_string_value(json_array_get(json_object_get(f, "all"), 0));
    bool every = all && (strcmp(all, "true") == 0 || strcmp(all, "1") == 0);
    json_t *not = json_object_get(f, "label!");
    struct vol **gone = xcalloc(vol_count(env->volumes) + 1, sizeof(*gone));
    size_t n = 0;
    struct vol_op *op = xcalloc(1, sizeof(*op));
    op->env = env;
    op->names = json_array();
    for (size_t i = 0; i < vol_count(env->volumes); i++) {
        struct vol *v = vol_at(env->volumes, i);
        _cleanup_free_ char *users = ctr_volume_users(env->ctrs, v->name);
        if (users || (!every && !v->anonymous) ||
            !handle_labels_match(v->labels, json_object_get(f, "label")))
            continue;
        bool excluded = false;
        size_t k;
        json_t *l;
        json_array_foreach(not, k, l)
        {
            json_auto_t *one = json_pack("[O]", l);
            excluded |= handle_labels_match(v->labels, one);
        }
        if (excluded)
            continue;
        volume_event(env, "destroy", v->name);
        json_array_append_new(op->names, json_string(v->name));
        gone[n++] = v;
    }
    op->req = route_detach(rr);
    vol_remove(env->volumes, gone, n, pruned, op);
    free(gone);
}

const struct route handle_volume_routes[] = {
    {.method = "GET", .pattern = "/volumes", .fn = handle_volumes_list},
    {.method = "POST", .pattern = "/volumes/create", .fn = handle_volume_create},
    {.method = "POST", .pattern = "/volumes/prune", .fn = handle_volume_prune},
    {.method = "GET", .pattern = "/volumes/{name}", .fn = handle_volume_inspect},
    {.method = "DELETE", .pattern = "/volumes/{name}", .fn = handle_volume_delete},
    {.method = NULL},
};
