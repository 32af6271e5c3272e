/* SPDX-License-Identifier: Apache-2.0 */
/* /containers/...: create, list, inspect, start, stop, restart, kill, wait, remove, rename,
 * pause, unpause, top, prune. Logs are in logs.c. */
#include "daemon/handlers/handlers.h"

#include <signal.h>
#include <string.h>

static struct ctr *find(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct ctr *c = ctr_lookup(env->ctrs, rr->params[0], &err);
    if (!c) {
        route_reply_err(rr, err);
        err_free(err);
    }
    return c;
}

/* A reply for an asynchronous container operation: 204, 304 for "nothing to do", or the error. */
static void done_204(const struct err *err, void *data)
{
    struct httpd_req *req = data;
    if (err)
        route_send_err(req, err);
    else
        httpd_resp_send(req, 204, NULL, NULL, 0);
}

/* ---- create ------------------------------------------------------------------------------ */

static void create_done(const struct err *err, const char *id, void *data)
{
    struct httpd_req *req = data;
    if (err) {
        _cleanup_free_ char *body = api_error_encode(err->msg);
        httpd_resp_send(req, route_err_status(err->kind), "application/json", body, strlen(body));
        return;
    }
    json_auto_t *j = api_create_response_encode(id, NULL);
    _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
    httpd_resp_send(req, 201, "application/json", s, strlen(s));
}

static void handle_create(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_t *body = NULL;
    struct api_container_config cfg = {0};
    if (route_body_json(rr, false, &body, &err) < 0 ||
        api_container_config_decode(body, &cfg, &err) < 0) {
        json_decref(body);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    json_decref(body);
    const char *name = route_query(rr, "name");
    _cleanup_free_ char *name_copy = name ? xstrdup(name) : NULL;
    struct httpd_req *req = route_detach(rr);
    ctr_create(env->ctrs, &cfg, name_copy, create_done, req);
    api_container_config_release(&cfg);
}

/* ---- list -------------------------------------------------------------------------------- */

static bool any_equal(const json_t *values, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (json_string_value(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

static bool any_match(json_t *values, const char *s, bool prefix)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        const char *want = json_string_value(v);
        if (!want)
            continue;
        if (prefix ? strncmp(s, want, strlen(want)) == 0 : strstr(s, want) != NULL)
            return true;
    }
    return false;
}

static bool ctr_matches(const struct handle_env *env, const struct ctr *c, json_t *f,
                        const struct ctr *before, const struct ctr *since)
{
    json_t *v;
    if ((v = json_object_get(f, "status")) && !any_match(v, ctr_status_name(c->status), true))
        return false;
    if ((v = json_object_get(f, "name")) && !any_match(v, c->name, false))
        return false;
    if ((v = json_object_get(f, "id")) && !any_match(v, c->id, true))
        return false;
    if ((v = json_object_get(f, "label")) && !handle_labels_match(c->cfg.labels, v))
        return false;
    if ((v = json_object_get(f, "exited"))) {
        char code[16];
        snprintf(code, sizeof(code), "%d", c->exit_code);
        if (c->status != CTR_EXITED || !any_match(v, code, true) ||
            strlen(json_string_value(json_array_get(v, 0))) != strlen(code))
            return false;
    }
    if ((v = json_object_get(f, "ancestor"))) {
        bool ok = false;
        size_t i;
        json_t *a;
        json_array_foreach(v, i, a)
        {
            const struct image *img = image_lookup(env->images, json_string_value(a), NULL);
            ok |= img && strcmp(img->id, c->image_id) == 0;
            ok |= c->cfg.image && strcmp(c->cfg.image, json_string_value(a)) == 0;
        }
        if (!ok)
            return false;
    }
    if ((v = json_object_get(f, "volume"))) {
        /* docker's: a volume's name, or where a mount lands, or its source */
        json_auto_t *mounts = ctr_mounts_json(env->ctrs, c);
        bool ok = false;
        size_t i, k;
        json_t *a, *m;
        json_array_foreach(v, i, a)
        {
            json_array_foreach(mounts, k, m)
            {
                static const char *const keys[] = {"Name", "Destination", "Source"};
                for (size_t j = 0; j < ARRAY_SIZE(keys); j++) {
                    const char *s = json_string_value(json_object_get(m, keys[j]));
                    ok |= s && *s && strcmp(s, json_string_value(a)) == 0;
                }
            }
        }
        if (!ok)
            return false;
    }
    if (before && c->created_ns >= before->created_ns)
        return false;
    if (since && c->created_ns <= since->created_ns)
        return false;
    return true;
}

/* "80", "80/udp" or "8000-8080/tcp" against a port and its protocol, as docker's publish and
 * expose filters take them. */
static bool port_match(const char *want, long port, const char *proto)
{
    char *end = NULL;
    long lo = strtol(want, &end, 10), hi = lo;
    if (end == want)
        return false;
    if (*end == '-') {
        const char *h = end + 1;
        hi = strtol(h, &end, 10);
        if (end == h)
            return false;
    }
    if (*end == '/' && strcmp(end + 1, proto) != 0)
        return false;
    if (*end && *end != '/')
        return false;
    return port >= lo && port <= hi;
}

/* The filters a summary answers: network (a name, or an id or its prefix), publish and
 * expose (ports), health (berth runs no health checks: every container's is "none"), is-task
 * (berth has no swarm tasks). */
static bool summary_matches(const struct ctr *c, const json_t *s, json_t *f)
{
    json_t *v, *e;
    size_t i, k;
    if ((v = json_object_get(f, "network"))) {
        json_t *nets = json_object_get(json_object_get(s, "NetworkSettings"), "Networks");
        bool ok = false;
        json_array_foreach(v, i, e)
        {
            const char *want = json_string_value(e);
            const char *name;
            json_t *ep;
            json_object_foreach(nets, name, ep)
            {
                const char *id = json_string_value(json_object_get(ep, "NetworkID"));
                ok |= strcmp(name, want) == 0 ||
                      (id && *want && strncmp(id, want, strlen(want)) == 0);
            }
        }
        if (!ok)
            return false;
    }
    const char *keys[] = {"publish", "expose"};
    for (size_t q = 0; q < ARRAY_SIZE(keys); q++) {
        if (!(v = json_object_get(f, keys[q])))
            continue;
        bool ok = false;
        json_t *p;
        json_array_foreach(v, i, e)
        {
            json_array_foreach(json_object_get(s, "Ports"), k, p)
            {
                json_t *port = json_object_get(p, q == 0 ? "PublicPort" : "PrivatePort");
                const char *proto = json_string_value(json_object_get(p, "Type"));
                ok |= port && port_match(json_string_value(e), (long)json_integer_value(port),
                                         proto ? proto : "tcp");
            }
            const char *spec;
            json_t *unused;
            json_object_foreach(q == 1 ? c->cfg.exposed_ports : NULL, spec, unused)
            {
                const char *slash = strchr(spec, '/');
                ok |= port_match(json_string_value(e), strtol(spec, NULL, 10),
                                 slash ? slash + 1 : "tcp");
            }
        }
        if (!ok)
            return false;
    }
    if ((v = json_object_get(f, "health")) && !any_equal(v, "none"))
        return false;
    if ((v = json_object_get(f, "is-task")) && !any_equal(v, "false"))
        return false;
    return true;
}

static int cmp_created_desc(const void *a, const void *b)
{
    const struct ctr *x = *(const struct ctr *const *)a, *y = *(const struct ctr *const *)b;
    return x->created_ns < y->created_ns ? 1 : x->created_ns > y->created_ns ? -1 : 0;
}

static void handle_list(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_t *f = NULL;
    long long limit = -1;
    if (api_filters_parse(route_query(rr, "filters"), &f, &err) < 0 ||
        route_query_int(rr, "limit", &limit, &err) < 0) {
        json_decref(f);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    static const char *const known[] = {"status", "name",      "id",      "label",   "ancestor",
                                        "exited", "before",    "since",   "network", "volume",
                                        "health", "isolation", "is-task", "publish", "expose"};
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok) {
            route_reply_errf(rr, ERR_INVALID, "invalid filter '%s'", key); /* key is in f */
            json_decref(f);
            return;
        }
    }
    size_t hi;
    json_t *hv;
    json_array_foreach(json_object_get(f, "health"), hi, hv)
    {
        const char *h = json_string_value(hv);
        if (!h || (strcmp(h, "starting") != 0 && strcmp(h, "healthy") != 0 &&
                   strcmp(h, "unhealthy") != 0 && strcmp(h, "none") != 0)) {
            route_reply_errf(rr, ERR_INVALID, "Unrecognised filter value for health: %s",
                             h ? h : "");
            json_decref(f);
            return;
        }
    }
    const struct ctr *before = NULL, *since = NULL;
    if ((v = json_object_get(f, "before")) &&
        !(before = ctr_lookup(env->ctrs, json_string_value(json_array_get(v, 0)), &err)))
        goto fail;
    if ((v = json_object_get(f, "since")) &&
        !(since = ctr_lookup(env->ctrs, json_string_value(json_array_get(v, 0)), &err)))
        goto fail;
    bool all = route_query_bool(rr, "all", false) || limit > 0 || before || since ||
               json_object_get(f, "status") || json_object_get(f, "exited");
    size_t n = ctr_count(env->ctrs);
    struct ctr **sorted = xcalloc(n + 1, sizeof(*sorted));
    for (size_t i = 0; i < n; i++)
        sorted[i] = ctr_at(env->ctrs, i);
    qsort(sorted, n, sizeof(*sorted), cmp_created_desc);
    json_t *out = json_array();
    for (size_t i = 0; i < n && (limit <= 0 || (long long)json_array_size(out) < limit); i++) {
        struct ctr *c = sorted[i];
        bool running =
            c->status == CTR_RUNNING || c->status == CTR_PAUSED || c->status == CTR_RESTARTING;
        if (!all && !running)
            continue;
        if (!ctr_matches(env, c, f, before, since))
            continue;
        struct api_container_summary s;
        struct ctr_view view;
        ctr_summary(c, &s, &view);
        json_t *j = api_container_summary_encode(&s);
        ctr_view_release(&view);
        if (summary_matches(c, j, f))
            json_array_append_new(out, j);
        else
            json_decref(j);
    }
    free(sorted);
    json_decref(f);
    route_reply_json(rr, 200, out);
    return;
fail:
    json_decref(f);
    route_reply_err(rr, err);
    err_free(err);
}

/* ---- inspect ----------------------------------------------------------------------------- */

static void handle_inspect(struct route_req *rr)
{
    struct ctr *c = find(rr);
    if (!c)
        return;
    struct api_container_inspect in;
    struct ctr_view view;
    ctr_inspect(c, &in, &view);
    json_t *j = api_container_inspect_encode(&in, rr->version);
    ctr_view_release(&view);
    route_reply_json(rr, 200, j);
}

/* ---- start, stop, restart, kill, pause --------------------------------------------------- */

static void handle_start(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    if (!c)
        return;
    ctr_start(env->ctrs, c, done_204, route_detach(rr));
}

static int stop_params(struct route_req *rr, int *timeout, char **signal)
{
    struct err *err = NULL;
    long long t = -1;
    if (route_query_int(rr, "t", &t, &err) < 0 || t < -1 || t > 24 * 3600) {
        if (!err)
            err_set(&err, ERR_INVALID, 0, "invalid value for t: %lld", t);
        route_reply_err(rr, err);
        err_free(err);
        return -1;
    }
    const char *sig = route_query(rr, "signal");
    if (sig && sig[0] && api_signal_parse(sig) <= 0) {
        route_reply_errf(rr, ERR_INVALID, "Invalid signal: %s", sig);
        return -1;
    }
    *timeout = (int)t;
    *signal = sig && sig[0] ? xstrdup(sig) : NULL;
    return 0;
}

typedef void (*stop_fn)(struct ctr_store *st, struct ctr *c, int timeout, const char *signal,
                        ctr_done_cb done, void *data);

static void stop_or_restart(struct route_req *rr, stop_fn fn)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    int t;
    char *sig = NULL;
    if (!c || stop_params(rr, &t, &sig) < 0)
        return;
    fn(env->ctrs, c, t, sig, done_204, route_detach(rr));
    free(sig);
}

static void handle_stop(struct route_req *rr)
{
    stop_or_restart(rr, ctr_stop);
}

static void handle_restart(struct route_req *rr)
{
    stop_or_restart(rr, ctr_restart);
}

static void handle_kill(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    if (!c)
        return;
    const char *s = route_query(rr, "signal");
    int sig = s && s[0] ? api_signal_parse(s) : SIGKILL;
    if (sig <= 0) {
        route_reply_errf(rr, ERR_INVALID, "Invalid signal: %s", s);
        return;
    }
    struct err *err = NULL;
    if (ctr_kill(env->ctrs, c, sig, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_reply_status(rr, 204);
}

static void handle_pause(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    if (c)
        ctr_pause(env->ctrs, c, true, done_204, route_detach(rr));
}

static void handle_unpause(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    if (c)
        ctr_pause(env->ctrs, c, false, done_204, route_detach(rr));
}

/* ---- wait -------------------------------------------------------------------------------- */

struct wait_ctx {
    struct httpd_req *req;
    struct ctr_waiter *w;
    bool in_call; /* inside ctr_wait(): it may answer at once */
    bool done;
};

static void wait_fired(int exit_code, const char *error, void *data)
{
    struct wait_ctx *wc = data;
    wc->w = NULL;
    _cleanup_free_ char *body = api_wait_encode(exit_code, error);
    httpd_resp_chunk(wc->req, body, strlen(body));
    httpd_resp_end(wc->req);
    if (wc->in_call)
        wc->done = true;
    else
        free(wc);
}

static void wait_aborted(struct httpd_req *req, void *data)
{
    struct wait_ctx *wc = data;
    ctr_wait_cancel(wc->w);
    /* dockerd writes a cancellation body the client never reads */
    _cleanup_free_ char *body = api_wait_encode(-1, "context canceled");
    httpd_resp_chunk(req, body, strlen(body));
    httpd_resp_end(req);
    free(wc);
}

static void handle_wait(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    if (!c)
        return;
    const char *cond_s = route_query(rr, "condition");
    enum ctr_wait_cond cond = CTR_WAIT_NOT_RUNNING;
    if (cond_s && cond_s[0]) {
        if (strcmp(cond_s, "next-exit") == 0)
            cond = CTR_WAIT_NEXT_EXIT;
        else if (strcmp(cond_s, "removed") == 0)
            cond = CTR_WAIT_REMOVED;
        else if (strcmp(cond_s, "not-running") != 0) {
            route_reply_errf(rr, ERR_INVALID, "invalid condition: \"%s\"", cond_s);
            return;
        }
    }
    struct wait_ctx *wc = xcalloc(1, sizeof(*wc));
    wc->req = route_detach(rr);
    /* The headers go out at once: docker run waits for them before it starts the container. */
    httpd_resp_begin_chunked(wc->req, 200, "application/json");
    httpd_req_on_abort(wc->req, wait_aborted, wc);
    wc->in_call = true;
    struct ctr_waiter *w = ctr_wait(env->ctrs, c, cond, wait_fired, wc);
    wc->in_call = false;
    if (wc->done)
        free(wc);
    else
        wc->w = w;
}

/* ---- remove, rename, top, prune ---------------------------------------------------------- */

static void handle_delete(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    if (!c)
        return;
    bool force = route_query_bool(rr, "force", false);
    bool volumes = route_query_bool(rr, "v", false);
    ctr_remove(env->ctrs, c, force, volumes, done_204, route_detach(rr));
}

static void handle_rename(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    if (!c)
        return;
    struct err *err = NULL;
    if (ctr_rename(env->ctrs, c, route_query(rr, "name"), &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_reply_status(rr, 204);
}

static void top_done(const struct err *err, json_t *result, void *data)
{
    struct httpd_req *req = data;
    if (err) {
        _cleanup_free_ char *body = api_error_encode(err->msg);
        httpd_resp_send(req, route_err_status(err->kind), "application/json", body, strlen(body));
        return;
    }
    _cleanup_free_ char *s = json_dumps(result, JSON_COMPACT);
    httpd_resp_send(req, 200, "application/json", s, strlen(s));
}

static void handle_top(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct ctr *c = find(rr);
    if (c)
        ctr_top(env->ctrs, c, top_done, route_detach(rr));
}

struct prune_ctx {
    struct httpd_req *req;
    const struct handle_env *env;
    char **ids;
    size_t n, next;
    json_t *deleted;
};

static void prune_step(struct prune_ctx *p);

static void prune_removed(const struct err *err, void *data)
{
    struct prune_ctx *p = data;
    if (!err)
        json_array_append_new(p->deleted, json_string(p->ids[p->next - 1]));
    prune_step(p);
}

static void prune_step(struct prune_ctx *p)
{
    while (p->next < p->n) {
        struct ctr *c = ctr_lookup(p->env->ctrs, p->ids[p->next++], NULL);
        if (c) {
            ctr_remove(p->env->ctrs, c, false, false, prune_removed, p);
            return;
        }
    }
    json_auto_t *j = json_pack("{s:O, s:i}", "ContainersDeleted", p->deleted, "SpaceReclaimed", 0);
    _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
    httpd_resp_send(p->req, 200, "application/json", s, strlen(s));
    for (size_t i = 0; i < p->n; i++)
        free(p->ids[i]);
    free(p->ids);
    json_decref(p->deleted);
    free(p);
}

static void handle_prune(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_t *f = NULL;
    if (api_filters_parse(route_query(rr, "filters"), &f, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    struct prune_ctx *p = xcalloc(1, sizeof(*p));
    p->env = env;
    p->deleted = json_array();
    size_t n = ctr_count(env->ctrs);
    p->ids = xcalloc(n + 1, sizeof(char *));
    json_t *labels = json_object_get(f, "label");
    for (size_t i = 0; i < n; i++) {
        struct ctr *c = ctr_at(env->ctrs, i);
        if (c->status != CTR_EXITED && c->status != CTR_CREATED && c->status != CTR_DEAD)
            continue;
        if (labels && !handle_labels_match(c->cfg.labels, labels))
            continue;
        p->ids[p->n++] = xstrdup(c->id);
    }
    json_decref(f);
    p->req = route_detach(rr);
    prune_step(p);
}

const struct route handle_container_routes[] = {
    {.method = "POST", .pattern = "/containers/create", .fn = handle_create},
    {.method = "GET", .pattern = "/containers/json", .fn = handle_list},
    {.method = "POST", .pattern = "/containers/prune", .fn = handle_prune},
    {.method = "GET", .pattern = "/containers/{id}/json", .fn = handle_inspect},
    {.method = "POST", .pattern = "/containers/{id}/start", .fn = handle_start},
    {.method = "POST", .pattern = "/containers/{id}/stop", .fn = handle_stop},
    {.method = "POST", .pattern = "/containers/{id}/restart", .fn = handle_restart},
    {.method = "POST", .pattern = "/containers/{id}/kill", .fn = handle_kill},
    {.method = "POST", .pattern = "/containers/{id}/wait", .fn = handle_wait},
    {.method = "POST", .pattern = "/containers/{id}/pause", .fn = handle_pause},
    {.method = "POST", .pattern = "/containers/{id}/unpause", .fn = handle_unpause},
    {.method = "POST", .pattern = "/containers/{id}/rename", .fn = handle_rename},
    {.method = "GET", .pattern = "/containers/{id}/top", .fn = handle_top},
    {.method = "GET", .pattern = "/containers/{id}/logs", .fn = handle_container_logs},
    {.method = "DELETE", .pattern = "/containers/{id}", .fn = handle_delete},
    {.method = NULL},
};
