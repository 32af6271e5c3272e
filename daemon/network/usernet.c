/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User-defined bridge networks: each has its own bridge (br-<12 hex of its id>), address pool
 * and rules, and is kept in <data-root>/network/networks.json (snapshots written on the
 * threadpool, the newest generation wins). The addresses its endpoints hold are persisted with
 * the endpoints (ipam.json, mgr.c) and put back into the pool at start.
 */
#include "daemon/network/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct unet {
    struct net_network n; /* first: unet_pool() finds the pool from it */
    struct ipam_pool pool;
    char *name;
    char bridge[16];
    uint32_t range; /* IPRange (0: the whole subnet) */
    int range_prefix;
    bool busy; /* being created or removed */
};

struct unet_set {
    uv_loop_t *loop;
    char *path;
    struct unet **v;
    size_t n;
    uv_mutex_t save_lock; /* the snapshot writes, from threadpool threads */
    uint64_t gen, written_gen;
};

static void unet_release(struct unet *u)
{
    if (!u)
        return;
    ipam_pool_release(&u->pool);
    json_decref(u->n.labels);
    free(u->name);
    free(u);
}

size_t unet_count(const struct unet_set *s)
{
    return s ? s->n : 0;
}

struct net_network *unet_at(const struct unet_set *s, size_t i)
{
    return s && i < s->n ? &s->v[i]->n : NULL;
}

struct net_network *unet_find(const struct unet_set *s, const char *name)
{
    size_t len = name ? strlen(name) : 0, matches = 0;
    struct net_network *found = NULL;
    for (size_t i = 0; len && s && i < s->n; i++) {
        if (strcmp(s->v[i]->name, name) == 0 || strcmp(s->v[i]->n.id, name) == 0)
            return &s->v[i]->n;
    }
    for (size_t i = 0; len && s && i < s->n; i++) {
        if (strncmp(s->v[i]->n.id, name, len) == 0) {
            found = &s->v[i]->n;
            matches++;
        }
    }
    return matches == 1 ? found : NULL;
}

struct ipam_pool *unet_pool(const struct net_network *n)
{
    return n && n->user ? &((struct unet *)n)->pool : NULL;
}

int unet_alloc(struct net_network *n, const char *owner, const char *want, uint32_t *out,
               struct err **err)
{
    struct unet *u = (struct unet *)n;
    if (want && *want) {
        uint32_t a;
        if (ipam_parse_addr(want, &a) < 0)
            return err_set(err, ERR_INVALID, 0, "invalid IPv4 address: %s", want);
        if (ipam_reserve(&u->pool, a, owner, err) < 0)
            return -1;
        *out = a;
        return 0;
    }
    if (!u->range)
        return ipam_alloc(&u->pool, owner, out, err);
    uint32_t first = u->range, last = u->range | ipam_host_mask(u->range_prefix);
    for (uint32_t a = first; a <= last && a >= first; a++) {
        if (ipam_owner(&u->pool, a) || ipam_reserve(&u->pool, a, owner, NULL) < 0)
            continue;
        *out = a;
        return 0;
    }
    return err_set(err, ERR_UNAVAILABLE, 0,
                   "no available IPv4 addresses on this network's "
                   "address pools: %s",
                   n->name);
}

/* ---- persistence ------------------------------------------------------------------------- */

static json_t *unet_encode(const struct unet *u)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:O, s:s}", "Id", u->n.id, "Name",
                     u->name, "Created", u->n.created, "Driver", "bridge", "Subnet", u->n.subnet,
                     "Gateway", u->n.gateway, "IPRange", u->n.ip_range, "Internal", u->n.internal,
                     "Labels", u->n.labels ? u->n.labels : json_object(), "Bridge", u->bridge);
}

static char *set_snapshot(const struct unet_set *s)
{
    json_auto_t *arr = json_array();
    for (size_t i = 0; i < s->n; i++) {
        if (!s->v[i]->busy || s->v[i]->n.id[0])
            json_array_append_new(arr, unet_encode(s->v[i]));
    }
    json_auto_t *j = json_pack("{s:O}", "Networks", arr);
    return json_dumps(j, JSON_COMPACT);
}

/* Threadpool: writes text unless a newer snapshot is already on disk. */
static int set_write(struct unet_set *s, const char *text, uint64_t gen, struct err **err)
{
    int r = 0;
    uv_mutex_lock(&s->save_lock);
    if (gen > s->written_gen) {
        r = fsu_write_atomic(s->path, text, strlen(text), 0600, err);
        if (r == 0)
            s->written_gen = gen;
    }
    uv_mutex_unlock(&s->save_lock);
    return r;
}

/* Fills u from its decoded fields; -1 when they do not make a network. */
static int unet_setup(struct unet *u, const char *subnet, const char *gateway, const char *range,
                      struct err **err)
{
    uint32_t sub, gw = 0;
    int prefix;
    if (ipam_parse_cidr(subnet, &sub, &prefix) < 0)
        return err_set(err, ERR_INVALID, 0, "invalid subnet %s", subnet);
    sub &= ipam_net_mask(prefix);
    if (prefix > 30)
        return err_set(err, ERR_INVALID, 0, "subnet %s is too small", subnet);
    if (gateway && *gateway) {
        if (ipam_parse_addr(gateway, &gw) < 0)
            return err_set(err, ERR_INVALID, 0, "invalid gateway %s", gateway);
        if ((gw & ipam_net_mask(prefix)) != sub || gw == sub ||
            gw == (sub | ipam_host_mask(prefix)))
            return err_set(err, ERR_INVALID, 0,
                           "Invalid address %s: It does not belong to any of this network's "
                           "subnets",
                           gateway);
    } else {
        gw = sub + 1;
    }
    if (range && *range) {
        if (ipam_parse_cidr(range, &u->range, &u->range_prefix) < 0)
            return err_set(err, ERR_INVALID, 0, "invalid ip-range %s", range);
        u->range &= ipam_net_mask(u->range_prefix);
        if (u->range_prefix < prefix || (u->range & ipam_net_mask(prefix)) != sub)
            return err_set(err, ERR_INVALID, 0, "ip-range %s is not within subnet %s", range,
                           subnet);
        snprintf(u->n.ip_range, sizeof(u->n.ip_range), "%s", range);
    }
    ipam_pool_init(&u->pool, sub, prefix, gw);
    char a[16];
    ipam_addr_str(sub, a);
    snprintf(u->n.subnet, sizeof(u->n.subnet), "%s/%d", a, prefix);
    ipam_addr_str(gw, u->n.gateway);
    return 0;
}

static struct unet *unet_new(const char *name, const char *id, const char *created)
{
    struct unet *u = xcalloc(1, sizeof(*u));
    u->name = xstrdup(name);
    u->n.name = u->name;
    u->n.driver = "bridge";
    u->n.user = true;
    u->n.bridge_name = u->bridge;
    snprintf(u->n.id, sizeof(u->n.id), "%s", id);
    snprintf(u->n.created, sizeof(u->n.created), "%s", created);
    return u;
}

static void set_add(struct unet_set *s, struct unet *u)
{
    s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->v[s->n++] = u;
}

static void set_remove(struct unet_set *s, struct unet *u)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i] == u) {
            memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
            s->n--;
            return;
        }
    }
}

static void unet_load_one(struct unet_set *s, const json_t *j, bool iptables)
{
    const char *id = json_string_value(json_object_get(j, "Id"));
    const char *name = json_string_value(json_object_get(j, "Name"));
    const char *created = json_string_value(json_object_get(j, "Created"));
    const char *subnet = json_string_value(json_object_get(j, "Subnet"));
    const char *bridge = json_string_value(json_object_get(j, "Bridge"));
    if (!id || strlen(id) != 64 || !name || !subnet || !bridge || strlen(bridge) > 15)
        return;
    struct unet *u = unet_new(name, id, created ? created : "");
    snprintf(u->bridge, sizeof(u->bridge), "%s", bridge);
    u->n.internal = json_is_true(json_object_get(j, "Internal"));
    json_t *labels = json_object_get(j, "Labels");
    u->n.labels = json_is_object(labels) ? json_incref(labels) : json_object();
    struct err *err = NULL;
    int idx = 0;
    if (unet_setup(u, subnet, json_string_value(json_object_get(j, "Gateway")),
                   json_string_value(json_object_get(j, "IPRange")), &err) < 0 ||
        net_bridge_ensure(u->bridge, u->pool.gateway, u->pool.prefix, &idx, &err) < 0) {
        log_warn("network %s not restored: %s", name, err->msg);
        err_free(err);
        unet_release(u);
        return;
    }
    if (iptables && net_iptables_user(true, u->bridge, u->n.subnet, u->n.internal, &err) < 0) {
        log_warn("iptables rules for %s not set: %s", u->bridge, err->msg);
        err_free(err);
    }
    set_add(s, u);
}

int unet_open(uv_loop_t *loop, const char *dir, bool iptables, struct unet_set **out,
              struct err **err)
{
    struct unet_set *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->path = xasprintf("%s/networks.json", dir);
    uv_mutex_init(&s->save_lock);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fsu_read_file(s->path, 16 << 20, &text, &len) == 0) {
        json_auto_t *j = json_loadb(text, len, 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(j, "Networks"), i, v) unet_load_one(s, v, iptables);
    } else if (errno != ENOENT) {
        log_warn("reading %s: %s", s->path, strerror(errno));
    }
    (void)err;
    *out = s;
    return 0;
}

void unet_free(struct unet_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        unet_release(s->v[i]);
    free(s->v);
    uv_mutex_destroy(&s->save_lock);
    free(s->path);
    free(s);
}

/* ---- create ------------------------------------------------------------------------------ */

static bool label_values_ok(const json_t *o, const char *field, struct err **err)
{
    const char *k;
    json_t *v;
    if (o && !json_is_object(o))
        return err_set(err, ERR_INVALID, 0, "%s: want an object", field), false;
    json_object_foreach((json_t *)o, k, v)
    {
        if (!json_is_string(v))
            return err_set(err, ERR_INVALID, 0, "%s.%s: want a string", field, k), false;
    }
    return true;
}

int net_create_validate(const struct net_create_req *req, struct err **err)
{
    if (!req->name || !*req->name)
        return err_set(err, ERR_INVALID, 0, "network name must not be empty");
    for (const char *p = req->name; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || (p != req->name && strchr("_.-", *p));
        if (!ok || p - req->name > 128)
            return err_set(err, ERR_INVALID, 0, "invalid network name \"%s\"", req->name);
    }
    const char *drv = req->driver && *req->driver ? req->driver : "bridge";
    if (strcmp(drv, "bridge") != 0)
        return err_set(err, ERR_INVALID, 0, "plugin \"%s\" not found", drv);
    if (!label_values_ok(req->labels, "Labels", err) ||
        !label_values_ok(req->options, "Options", err))
        return -1;
    const char *br =
        json_string_value(json_object_get(req->options, "com.docker.network.bridge.name"));
    if (br && (strlen(br) == 0 || strlen(br) > 15 || strchr(br, '/')))
        return err_set(err, ERR_INVALID, 0, "invalid bridge name %s", br);
    if ((req->gateway && *req->gateway) && !(req->subnet && *req->subnet))
        return err_set(err, ERR_INVALID, 0, "gateway %s requires a subnet", req->gateway);
    if ((req->ip_range && *req->ip_range) && !(req->subnet && *req->subnet))
        return err_set(err, ERR_INVALID, 0, "ip-range %s requires a subnet", req->ip_range);
    struct unet tmp = {0};
    if (req->subnet && *req->subnet &&
        unet_setup(&tmp, req->subnet, req->gateway, req->ip_range, err) < 0)
        return -1;
    ipam_pool_release(&tmp.pool);
    return 0;
}

static void random_id(char out[65])
{
    unsigned char b[32];
    if (getrandom(b, sizeof(b), 0) != sizeof(b))
        abort();
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* A subnet clashing with none in use: the host's routes (*routes, n of them, dumped on the
 * threadpool; grown here) and the networks' (those being created included). Loop thread, so
 * that the pick and the reservation that follows it are one step. */
static int pick_subnet(struct net_mgr *m, struct rtnl_prefix **routes, size_t n, char out[20],
                       struct err **err)
{
    size_t total = n + net_network_count(m);
    struct rtnl_prefix *r = *routes = xrealloc(*routes, (total + 1) * sizeof(*r));
    for (size_t i = 0; i < net_network_count(m); i++) {
        const struct net_network *nw = net_network_at(m, i);
        if (nw->subnet[0] && ipam_parse_cidr(nw->subnet, &r[n].addr, &r[n].prefix) == 0)
            n++;
    }
    uint32_t sub;
    int prefix;
    if (ipam_pick_subnet(r, n, &sub, &prefix) < 0)
        return err_set(err, ERR_UNAVAILABLE, 0,
                       "all predefined address pools have been fully subnetted");
    char a[16];
    ipam_addr_str(sub, a);
    snprintf(out, 20, "%s/%d", a, prefix);
    return 0;
}

static bool clashes(struct net_mgr *m, const struct unet *u)
{
    for (size_t i = 0; i < net_network_count(m); i++) {
        const struct net_network *nw = net_network_at(m, i);
        uint32_t a;
        int p;
        if (&u->n != nw && nw->subnet[0] && ipam_parse_cidr(nw->subnet, &a, &p) == 0 &&
            ipam_overlaps(a, p, u->pool.subnet, u->pool.prefix))
            return true;
    }
    return false;
}

struct unet_op {
    uv_work_t work;
    struct net_mgr *m;
    struct unet *u;
    bool iptables;
    char *snapshot;
    uint64_t gen;
    net_create_cb created;
    net_done_cb removed;
    void *data;
    struct err *err;
};

static void create_work(uv_work_t *w)
{
    struct unet_op *op = w->data;
    struct unet *u = op->u;
    struct unet_set *s = net_mgr_unets(op->m);
    int idx = 0;
    if (net_bridge_ensure(u->bridge, u->pool.gateway, u->pool.prefix, &idx, &op->err) < 0)
        return;
    if (op->iptables &&
        net_iptables_user(true, u->bridge, u->n.subnet, u->n.internal, &op->err) < 0) {
        log_warn("iptables rules for %s: %s", u->bridge, op->err->msg);
        err_free(op->err);
        op->err = NULL;
    }
    if (set_write(s, op->snapshot, op->gen, &op->err) < 0) {
        net_iptables_user(false, u->bridge, u->n.subnet, u->n.internal, NULL);
        net_link_delete(u->bridge);
    }
}

/* A threadpool job on u carrying the set as it is now (the snapshot to write and its
 * generation); the caller sets the callback and queues it. Loop thread. */
static struct unet_op *op_new(struct net_mgr *m, struct unet *u, void *data)
{
    struct unet_set *s = net_mgr_unets(m);
    struct unet_op *op = xcalloc(1, sizeof(*op));
    op->m = m;
    op->u = u;
    op->iptables = net_mgr_iptables(m);
    op->snapshot = set_snapshot(s);
    op->gen = ++s->gen;
    op->data = data;
    op->work.data = op;
    return op;
}

static void op_free(struct unet_op *op)
{
    err_free(op->err);
    free(op->snapshot);
    free(op);
}

static void create_after(uv_work_t *w, int status)
{
    struct unet_op *op = w->data;
    struct unet_set *s = net_mgr_unets(op->m);
    if (status < 0 && !op->err)
        err_set(&op->err, ERR_SYSTEM, -status, "network create");
    op->u->busy = false;
    if (op->err) {
        set_remove(s, op->u);
        op->created(op->err, NULL, op->data);
        unet_release(op->u);
    } else {
        log_info("network %s: bridge %s, %s", op->u->name, op->u->bridge, op->u->n.subnet);
        op->created(NULL, &op->u->n, op->data);
    }
    op_free(op);
}

/* Reserves u's subnet (in the set, busy) and creates its bridge on the threadpool; on the loop
 * right after the subnet was picked, so that no other create gets it. Takes u. */
static void create_reserve(struct net_mgr *m, struct unet *u, const char *subnet,
                           const char *gateway, const char *ip_range, net_create_cb done,
                           void *data)
{
    struct err *err = NULL;
    struct unet_set *s = net_mgr_unets(m);
    if (unet_setup(u, subnet, gateway, ip_range, &err) < 0 || clashes(m, u)) {
        if (!err)
            err_set(&err, ERR_CONFLICT, 0,
                    "invalid pool request: Pool overlaps with other one on this address space");
        unet_release(u);
        done(err, NULL, data);
        err_free(err);
        return;
    }
    u->busy = true;
    set_add(s, u);
    struct unet_op *op = op_new(m, u, data);
    op->created = done;
    uv_queue_work(s->loop, &op->work, create_work, create_after);
}

static int name_taken(struct net_mgr *m, const char *name, struct err **err)
{
    for (size_t i = 0; i < net_network_count(m); i++) {
        if (strcmp(net_network_at(m, i)->name, name) == 0)
            return err_set(err, ERR_CONFLICT, 0, "network with name %s already exists", name);
    }
    return 0;
}

/* An automatic subnet: the host's routes are dumped on the threadpool (a large routing table
 * would hold the loop), the pick is made on the loop. */
struct pick_op {
    uv_work_t work;
    struct net_mgr *m;
    struct unet *u; /* not in the set yet */
    struct rtnl_prefix *routes;
    size_t n;
    net_create_cb done;
    void *data;
    struct err *err;
};

static void pick_work(uv_work_t *w)
{
    struct pick_op *op = w->data;
    (void)net_host_routes(NET_DEFAULT_BRIDGE, &op->routes, &op->n, &op->err);
}

static void pick_after(uv_work_t *w, int status)
{
    struct pick_op *op = w->data;
    char subnet[20];
    if (status < 0 && !op->err)
        err_set(&op->err, ERR_SYSTEM, -status, "network create");
    /* the same name may have been created while the routes were read */
    if (op->err || name_taken(op->m, op->u->name, &op->err) < 0 ||
        pick_subnet(op->m, &op->routes, op->n, subnet, &op->err) < 0) {
        op->done(op->err, NULL, op->data);
        unet_release(op->u);
    } else {
        create_reserve(op->m, op->u, subnet, NULL, NULL, op->done, op->data);
    }
    free(op->routes);
    err_free(op->err);
    free(op);
}

void net_network_create(struct net_mgr *m, const struct net_create_req *req, net_create_cb done,
                        void *data)
{
    struct err *err = NULL;
    if (net_create_validate(req, &err) < 0 || name_taken(m, req->name, &err) < 0) {
        done(err, NULL, data);
        err_free(err);
        return;
    }
    char id[65], now[40];
    random_id(id);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_rfc3339nano(&ts, now);
    struct unet *u = unet_new(req->name, id, now);
    const char *br =
        json_string_value(json_object_get(req->options, "com.docker.network.bridge.name"));
    snprintf(u->bridge, sizeof(u->bridge), br ? "%s" : "br-%.12s", br ? br : id);
    u->n.internal = req->internal;
    u->n.labels = req->labels ? json_deep_copy(req->labels) : json_object();
    if (req->subnet && *req->subnet) {
        create_reserve(m, u, req->subnet, req->gateway, req->ip_range, done, data);
        return;
    }
    /* gateway and ip-range need a subnet (validated): nothing else of req is kept */
    struct pick_op *op = xcalloc(1, sizeof(*op));
    op->m = m;
    op->u = u;
    op->done = done;
    op->data = data;
    op->work.data = op;
    uv_queue_work(net_mgr_loop(m), &op->work, pick_work, pick_after);
}

/* ---- remove and prune -------------------------------------------------------------------- */

static bool in_use(struct net_mgr *m, const struct net_network *n)
{
    for (const struct net_endpoint *e = net_mgr_endpoints(m); e; e = e->next) {
        if (e->net == n)
            return true;
    }
    return false;
}

static void remove_work(uv_work_t *w)
{
    struct unet_op *op = w->data;
    struct unet *u = op->u;
    if (op->iptables)
        net_iptables_user(false, u->bridge, u->n.subnet, u->n.internal, NULL);
    net_link_delete(u->bridge);
    (void)set_write(net_mgr_unets(op->m), op->snapshot, op->gen, &op->err);
}

static void remove_after(uv_work_t *w, int status)
{
    struct unet_op *op = w->data;
    (void)status;
    if (op->err)
        log_warn("network %s removed, but %s", op->u->name, op->err->msg);
    if (op->removed)
        op->removed(NULL, op->data);
    unet_release(op->u);
    op_free(op);
}

static void remove_start(struct net_mgr *m, struct unet *u, net_done_cb done, void *data)
{
    struct unet_set *s = net_mgr_unets(m);
    set_remove(s, u);
    struct unet_op *op = op_new(m, u, data);
    op->removed = done;
    uv_queue_work(s->loop, &op->work, remove_work, remove_after);
}

void net_network_remove(struct net_mgr *m, const char *name, net_done_cb done, void *data)
{
    struct err *err = NULL;
    const struct net_network *n = net_network_lookup(m, name, &err);
    if (n && !n->user)
        err_set(&err, ERR_FORBIDDEN, 0, "%s is a pre-defined network and cannot be removed",
                n->name);
    else if (n && ((struct unet *)n)->busy)
        err_set(&err, ERR_CONFLICT, 0, "network %s is being created", n->name);
    else if (n && in_use(m, n))
        err_set(&err, ERR_CONFLICT, 0,
                "error while removing network: network %s id %s has active endpoints", n->name,
                n->id);
    if (err) {
        done(err, data);
        err_free(err);
        return;
    }
    remove_start(m, (struct unet *)n, done, data);
}

/* A prune answers once every bridge it removes is gone. */
struct prune_op {
    size_t pending;
    char **removed;
    net_prune_cb done;
    void *data;
};

static void prune_one_done(const struct err *err, void *data)
{
    struct prune_op *op = data;
    (void)err;
    if (--op->pending > 0)
        return;
    op->done(op->removed, op->data);
    free(op);
}

void net_network_prune(struct net_mgr *m, net_prune_match match, void *match_arg, net_prune_cb done,
                       void *data)
{
    struct unet_set *s = net_mgr_unets(m);
    size_t cap = unet_count(s), k = 0;
    struct prune_op *op = xcalloc(1, sizeof(*op));
    op->removed = xcalloc(cap + 1, sizeof(char *));
    op->done = done;
    op->data = data;
    op->pending = 1;
    for (size_t i = cap; i-- > 0;) {
        struct unet *u = s->v[i];
        if (u->busy || in_use(m, &u->n) || (match && !match(&u->n, match_arg)))
            continue;
        op->removed[k++] = xstrdup(u->name);
        op->pending++;
        remove_start(m, u, prune_one_done, op);
    }
    prune_one_done(NULL, op);
}

/* ---- endpoints on user networks (hooked from mgr.c) -------------------------------------- */

char **net_strv_copy(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(v[i]);
    return out;
}

void net_strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

static char **strv_from_json(const json_t *a)
{
    size_t n = json_array_size(a), k = 0;
    if (!n)
        return NULL;
    char **out = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s && *s)
            out[k++] = xstrdup(s);
    }
    return out;
}

static json_t *strv_to_json(char *const *v)
{
    json_t *a = json_array();
    for (char *const *p = v; p && *p; p++)
        json_array_append_new(a, json_string(*p));
    return a;
}

static void set_dns_names(struct net_endpoint *e)
{
    size_t n = 0;
    while (e->aliases && e->aliases[n])
        n++;
    char **v = xcalloc(n + 3, sizeof(char *));
    size_t k = 0;
    if (e->name)
        v[k++] = xstrdup(e->name);
    for (size_t i = 0; i < n; i++)
        v[k++] = xstrdup(e->aliases[i]);
    v[k++] = xstrndup(e->ctr_id, 12);
    e->dns_names = v;
}

void net_rename(struct net_mgr *m, const char *ctr_id, const char *name)
{
    bool changed = false;
    for (struct net_endpoint *e = m ? net_mgr_endpoints(m) : NULL; e; e = e->next) {
        if (!e->name || strcmp(e->ctr_id, ctr_id) != 0)
            continue; /* only user networks' endpoints carry a name */
        free(e->name);
        e->name = xstrdup(name);
        net_strv_free(e->dns_names);
        set_dns_names(e);
        changed = true;
    }
    if (changed)
        net_mgr_save(m, NULL, NULL);
}

void net_endpoint_encode_extra(const struct net_endpoint *e, json_t *ej)
{
    if (e->name)
        json_object_set_new(ej, "Name", json_string(e->name));
    if (e->aliases)
        json_object_set_new(ej, "Aliases", strv_to_json(e->aliases));
    if (e->dns_fwd)
        json_object_set_new(ej, "DNS", strv_to_json(e->dns_fwd));
    if (e->joined)
        json_object_set_new(ej, "Joined", json_true());
    if (e->ifname[0])
        json_object_set_new(ej, "Ifname", json_string(e->ifname));
}

void net_endpoint_load_extra(struct net_endpoint *e, struct net_network *user, const json_t *v)
{
    struct ipam_pool *p = unet_pool(user);
    e->net = user;
    const char *name = json_string_value(json_object_get(v, "Name"));
    e->name = name ? xstrdup(name) : NULL;
    e->aliases = strv_from_json(json_object_get(v, "Aliases"));
    e->dns_fwd = strv_from_json(json_object_get(v, "DNS"));
    const char *ifname = json_string_value(json_object_get(v, "Ifname"));
    snprintf(e->ifname, sizeof(e->ifname), "%s", ifname ? ifname : "");
    set_dns_names(e);
    if (ipam_parse_addr(e->ip, &e->addr) < 0 || ipam_reserve(p, e->addr, e->ctr_id, NULL) < 0) {
        e->addr = 0;
        return;
    }
    ipam_addr_str(p->gateway, e->gateway);
    e->prefix = p->prefix;
}

/* The EndpointsConfig entry for network n (keyed by the name the client used, or its id). */
static const json_t *endpoint_config(const struct net_attach_req *req, const struct net_network *n)
{
    const json_t *ec = json_object_get(req->endpoints, req->mode ? req->mode : "");
    if (!ec)
        ec = json_object_get(req->endpoints, n->name);
    if (!ec)
        ec = json_object_get(req->endpoints, n->id);
    return ec;
}

int net_user_opts_refuse(const struct net_attach_req *req, struct err **err)
{
    const json_t *ec = json_object_get(req->endpoints, req->mode ? req->mode : "");
    if (!ec) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)req->endpoints, k, v)
        {
            ec = v;
            break;
        }
    }
    const char *ip =
        json_string_value(json_object_get(json_object_get(ec, "IPAMConfig"), "IPv4Address"));
    if (ip && *ip)
        return err_set(err, ERR_INVALID, 0,
                       "user specified IP address is supported on user defined networks only");
    if (json_array_size(json_object_get(ec, "Aliases")))
        return err_set(err, ERR_INVALID, 0,
                       "network-scoped alias is supported only for containers in user defined "
                       "networks");
    return 0;
}

int net_user_attach_prepare(struct net_mgr *m, const struct net_attach_req *req,
                            struct net_endpoint *e, struct net_sandbox_spec *spec, struct err **err)
{
    struct net_network *n = unet_find(net_mgr_unets(m), req->mode);
    if (!n)
        return err_set(err, ERR_NOT_FOUND, 0, "network %s not found", req->mode);
    struct ipam_pool *p = unet_pool(n);
    const json_t *ec = endpoint_config(req, n);
    const char *ip =
        json_string_value(json_object_get(json_object_get(ec, "IPAMConfig"), "IPv4Address"));
    e->net = n;
    e->name = req->name ? xstrdup(req->name) : NULL;
    e->aliases = strv_from_json(json_object_get(ec, "Aliases"));
    e->dns_fwd = req->dns && req->dns[0] ? net_strv_copy(req->dns) : NULL;
    set_dns_names(e);
    if (unet_alloc(n, req->ctr_id, ip, &e->addr, err) < 0)
        return -1;
    snprintf(e->veth, sizeof(e->veth), "veth%.7s", e->endpoint_id);
    ipam_addr_str(e->addr, e->ip);
    ipam_addr_str(p->gateway, e->gateway);
    e->prefix = p->prefix;
    spec->veth = e->veth;
    spec->bridge = n->bridge_name;
    spec->addr = e->addr;
    spec->prefix = p->prefix;
    spec->gateway = p->gateway;
    uint32_t a = e->addr;
    unsigned char mac[6] = {0x02, 0x42, a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff};
    memcpy(spec->mac, mac, 6);
    return 0;
}

int net_mode_check(const struct net_mgr *m, const char *mode, const json_t *endpoints,
                   struct err **err)
{
    struct net_attach_req req = {.mode = mode, .endpoints = endpoints};
    if (!mode || !*mode || strcmp(mode, "default") == 0)
        return net_user_opts_refuse(&req, err);
    if (strcmp(mode, "none") == 0 || strcmp(mode, "host") == 0 ||
        strncmp(mode, "container:", 10) == 0)
        return 0;
    /* as dockerd: a missing network is found out at start (404 then), not here */
    const struct net_network *n = net_network_lookup(m, mode, NULL);
    return !n || n->user ? 0 : net_user_opts_refuse(&req, err);
}

int net_join_prepare(struct net_mgr *m, const struct net_attach_req *req, struct err **err)
{
    const struct net_endpoint *other = net_endpoint_find(m, req->join_ctr_id);
    if (!other)
        return err_set(err, ERR_CONFLICT, 0, "cannot join network of a non running container: %s",
                       req->join_ctr_id);
    struct net_endpoint *e = xcalloc(1, sizeof(*e));
    snprintf(e->ctr_id, sizeof(e->ctr_id), "%s", req->ctr_id);
    /* it shows no network of its own, as docker's container: mode */
    e->net = net_network_lookup(m, "none", NULL);
    snprintf(e->sandbox_id, sizeof(e->sandbox_id), "%s", other->sandbox_id);
    random_id(e->endpoint_id);
    e->sandbox_key = xstrdup(other->sandbox_key);
    e->joined = true;
    struct net_endpoint **head = net_mgr_endpoints_head(m);
    e->next = *head;
    *head = e;
    return 0;
}

void net_join_copy_files(const char *hosts_from, const char *resolv_from, const char *hosts_to,
                         const char *resolv_to, struct err **err)
{
    const char *from[] = {hosts_from, resolv_from}, *to[] = {hosts_to, resolv_to};
    for (size_t i = 0; i < 2; i++) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (fsu_read_file(from[i], 1 << 20, &text, &len) < 0) {
            free(text);
            text = xstrdup("");
            len = 0;
        }
        if (fsu_write_replace(to[i], text, len, 0644, err) < 0)
            return;
    }
}
