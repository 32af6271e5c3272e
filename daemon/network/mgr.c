/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loop-facing network service: built-in networks, endpoints, persistence of IPAM and
 * endpoints in <data-root>/network/ipam.json (one snapshot write in flight at a time; an
 * address is used only after the snapshot holding it is on disk), attach and release with the
 * blocking parts on the threadpool.
 */
#include "daemon/network/internal.h"
#include "daemon/network/ports.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

enum { NET_BRIDGE = 0, NET_HOST, NET_NONE, NET_BUILTIN };

struct net_waiter {
    net_done_cb done;
    void *data;
    struct net_waiter *next;
};

/* Something waiting until the snapshot of generation gen is on disk. */
struct save_wait {
    uint64_t gen;
    void (*cb)(struct net_mgr *m, void *arg, const struct err *err);
    void *arg;
    struct save_wait *next;
};

struct net_mgr {
    uv_loop_t *loop;
    char *state_path;
    char *netns_dir;
    struct net_network nets[NET_BUILTIN];
    bool bridge_on;
    char *bridge_name;
    struct ipam_pool pool;
    struct net_endpoint *eps;
    uint64_t gen, saved_gen;
    bool saving;
    struct save_wait *save_waits;
    struct unet_set *unets; /* user-defined networks (usernet.c) */
    bool iptables;
    char *resolv_path; /* the host's resolv.conf (BERTH_RESOLV_CONF, test only) */
};

static void random_hex(char out[65])
{
    unsigned char b[32];
    if (getrandom(b, sizeof(b), 0) != sizeof(b))
        abort();
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void now_str(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_rfc3339nano(&ts, out);
}

uv_loop_t *net_mgr_loop(struct net_mgr *m)
{
    return m->loop;
}

struct unet_set *net_mgr_unets(struct net_mgr *m)
{
    return m->unets;
}

struct net_endpoint *net_mgr_endpoints(struct net_mgr *m)
{
    return m->eps;
}

struct net_endpoint **net_mgr_endpoints_head(struct net_mgr *m)
{
    return &m->eps;
}

bool net_mgr_iptables(const struct net_mgr *m)
{
    return m->iptables;
}

const char *net_mgr_resolv_path(const struct net_mgr *m)
{
    return m->resolv_path;
}

/* ---- lookups ----------------------------------------------------------------------------- */

size_t net_network_count(const struct net_mgr *m)
{
    return NET_BUILTIN + unet_count(m->unets);
}

const struct net_network *net_network_at(const struct net_mgr *m, size_t i)
{
    return i < NET_BUILTIN ? &m->nets[i] : unet_at(m->unets, i - NET_BUILTIN);
}

const struct net_network *net_network_lookup(const struct net_mgr *m, const char *name,
                                             struct err **err)
{
    const struct net_network *found = NULL;
    size_t len = name ? strlen(name) : 0, matches = 0;
    for (size_t i = 0; len && i < net_network_count(m); i++) {
        const struct net_network *n = net_network_at(m, i);
        if (strcmp(n->name, name) == 0 || strcmp(n->id, name) == 0)
            return n;
    }
    for (size_t i = 0; len && i < net_network_count(m); i++) {
        const struct net_network *n = net_network_at(m, i);
        if (strncmp(n->id, name, len) == 0) {
            found = n;
            matches++;
        }
    }
    if (matches > 1)
        return err_set(err, ERR_INVALID, 0,
                       "network %s is ambiguous (%zu matches found based on ID prefix)", name,
                       matches),
               NULL;
    if (!found)
        err_set(err, ERR_NOT_FOUND, 0, "network %s not found", name ? name : "");
    return found;
}

const struct net_endpoint *net_endpoint_find(const struct net_mgr *m, const char *ctr_id)
{
    for (struct net_endpoint *e = m ? m->eps : NULL; e; e = e->next) {
        if (!e->releasing && e->ready && !e->secondary && strcmp(e->ctr_id, ctr_id) == 0)
            return e;
    }
    return NULL;
}

const struct net_endpoint *net_endpoint_next(const struct net_mgr *m, const char *ctr_id,
                                             const struct net_endpoint *prev)
{
    for (struct net_endpoint *e = prev ? prev->next : m ? m->eps : NULL; e; e = e->next) {
        if (!e->releasing && e->ready && strcmp(e->ctr_id, ctr_id) == 0)
            return e;
    }
    return NULL;
}

/* ---- persistence ------------------------------------------------------------------------- */

static json_t *state_encode(const struct net_mgr *m)
{
    json_t *nets = json_object();
    for (size_t i = 0; i < NET_BUILTIN; i++) {
        json_t *n = json_pack("{s:s, s:s}", "Id", m->nets[i].id, "Created", m->nets[i].created);
        if (i == NET_BRIDGE && m->bridge_on)
            json_object_set_new(n, "IPAM", ipam_pool_encode(&m->pool));
        json_object_set_new(nets, m->nets[i].name, n);
    }
    json_t *eps = json_object();
    for (const struct net_endpoint *e = m->eps; e; e = e->next) {
        json_t *ej =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Network", e->net->name, "SandboxID",
                      e->sandbox_id, "SandboxKey", e->sandbox_key, "EndpointID", e->endpoint_id,
                      "Veth", e->veth, "IPAddress", e->ip, "MacAddress", e->mac);
        net_endpoint_encode_extra(e, ej);
        if (e->ports)
            json_object_set_new(ej, "Ports", ports_encode(e->ports));
        /* a connected network's endpoint: <container id>/<endpoint id> */
        _cleanup_free_ char *key =
            e->secondary ? xasprintf("%s/%.12s", e->ctr_id, e->endpoint_id) : xstrdup(e->ctr_id);
        json_object_set_new(eps, key, ej);
    }
    return json_pack("{s:o, s:o}", "Networks", nets, "Endpoints", eps);
}

struct save_op {
    uv_work_t work;
    struct net_mgr *m;
    char *path;
    char *text;
    uint64_t gen;
    struct err *err;
};

static void save_start(struct net_mgr *m);

static void save_work(uv_work_t *w)
{
    struct save_op *op = w->data;
    (void)fsu_write_atomic(op->path, op->text, strlen(op->text), 0600, &op->err);
}

static void save_after(uv_work_t *w, int status)
{
    struct save_op *op = w->data;
    struct net_mgr *m = op->m;
    (void)status;
    m->saving = false;
    if (!op->err)
        m->saved_gen = op->gen;
    else
        log_error("saving %s: %s", op->path, op->err->msg);
    struct save_wait **pp = &m->save_waits, *ready = NULL;
    while (*pp) {
        struct save_wait *sw = *pp;
        if (sw->gen <= op->gen) {
            *pp = sw->next;
            sw->next = ready;
            ready = sw;
        } else {
            pp = &sw->next;
        }
    }
    while (ready) {
        struct save_wait *sw = ready;
        ready = sw->next;
        sw->cb(m, sw->arg, op->err);
        free(sw);
    }
    if (m->gen > op->gen && !m->saving)
        save_start(m);
    err_free(op->err);
    free(op->path);
    free(op->text);
    free(op);
}

static void save_start(struct net_mgr *m)
{
    json_auto_t *j = state_encode(m);
    struct save_op *op = xcalloc(1, sizeof(*op));
    op->m = m;
    op->path = xstrdup(m->state_path);
    op->text = json_dumps(j, JSON_COMPACT);
    op->gen = m->gen;
    op->work.data = op;
    m->saving = true;
    uv_queue_work(m->loop, &op->work, save_work, save_after);
}

/* Persists the current state; cb (may be NULL) runs once a snapshot including it is on disk. */
static void save(struct net_mgr *m, void (*cb)(struct net_mgr *, void *, const struct err *),
                 void *arg)
{
    m->gen++;
    if (cb) {
        struct save_wait *sw = xcalloc(1, sizeof(*sw));
        sw->gen = m->gen;
        sw->cb = cb;
        sw->arg = arg;
        sw->next = m->save_waits;
        m->save_waits = sw;
    }
    if (!m->saving)
        save_start(m);
}

/*
 * A change no restart depends on (a `none` endpoint: no address, no interface outside the
 * container): recorded by the next save, or by net_mgr_free at shutdown. Saving each would
 * cost two journal commits per container for nothing a crash could lose but the namespace
 * file of a `none` container, which the next start then sweeps.
 */
static void save_lazy(struct net_mgr *m)
{
    m->gen++;
}

/* ---- endpoints --------------------------------------------------------------------------- */

static void ep_free(struct net_endpoint *e)
{
    dns_stop(e);
    free(e->name);
    net_strv_free(e->aliases);
    net_strv_free(e->dns_fwd);
    net_strv_free(e->dns_names);
    ports_free(e->ports);
    free(e->sandbox_key);
    free(e);
}

static void ep_unlink(struct net_mgr *m, struct net_endpoint *e)
{
    for (struct net_endpoint **pp = &m->eps; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            return;
        }
    }
}

static void mac_from_ip(uint32_t a, char out[18])
{
    snprintf(out, 18, "02:42:%02x:%02x:%02x:%02x", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
             a & 0xff);
}

static struct net_endpoint *ep_new(struct net_mgr *m, const char *ctr_id, size_t net)
{
    struct net_endpoint *e = xcalloc(1, sizeof(*e));
    snprintf(e->ctr_id, sizeof(e->ctr_id), "%s", ctr_id);
    e->net = &m->nets[net];
    random_hex(e->sandbox_id);
    random_hex(e->endpoint_id);
    e->sandbox_key = xasprintf("%s/%.12s", m->netns_dir, e->sandbox_id);
    e->next = m->eps;
    m->eps = e;
    return e;
}

/* ---- release ----------------------------------------------------------------------------- */

struct teardown_op {
    uv_work_t work;
    struct net_mgr *m;
    struct net_endpoint *e;
};

static void teardown_work(uv_work_t *w)
{
    struct teardown_op *op = w->data;
    /* a joined or connected endpoint's sandbox is another endpoint's */
    bool own = !op->e->joined && !op->e->secondary;
    net_sandbox_destroy(own ? op->e->sandbox_key : NULL, op->e->veth[0] ? op->e->veth : NULL);
}

/* The pool an endpoint's address comes from. */
static struct ipam_pool *ep_pool(struct net_mgr *m, const struct net_endpoint *e)
{
    return e->net->user ? unet_pool(e->net) : &m->pool;
}

static void teardown_after(uv_work_t *w, int status)
{
    struct teardown_op *op = w->data;
    struct net_mgr *m = op->m;
    struct net_endpoint *e = op->e;
    (void)status;
    if (e->addr)
        ipam_free(ep_pool(m, e), e->addr);
    bool none = e->net == &m->nets[NET_NONE];
    ep_unlink(m, e);
    if (none)
        save_lazy(m);
    else
        save(m, NULL, NULL);
    struct net_waiter *wt = e->waiters;
    while (wt) {
        struct net_waiter *next = wt->next;
        if (wt->done)
            wt->done(NULL, wt->data);
        free(wt);
        wt = next;
    }
    ep_free(e);
    free(op);
}

static void teardown_start(struct net_mgr *m, struct net_endpoint *e)
{
    ports_close(e->ports, m->loop);
    e->ports = NULL;
    struct teardown_op *op = xcalloc(1, sizeof(*op));
    dns_stop(e);
    op->m = m;
    op->e = e;
    op->work.data = op;
    uv_queue_work(m->loop, &op->work, teardown_work, teardown_after);
}

static void add_waiter(struct net_endpoint *e, net_done_cb done, void *data)
{
    if (!done)
        return;
    struct net_waiter *w = xcalloc(1, sizeof(*w));
    w->done = done;
    w->data = data;
    w->next = e->waiters;
    e->waiters = w;
}

void net_endpoint_teardown(struct net_mgr *m, struct net_endpoint *e)
{
    e->releasing = true;
    teardown_start(m, e);
}

void net_mgr_save(struct net_mgr *m, void (*cb)(struct net_mgr *, void *, const struct err *),
                  void *arg)
{
    save(m, cb, arg);
}

struct net_endpoint *net_endpoint_alloc(struct net_mgr *m, const char *ctr_id)
{
    return ep_new(m, ctr_id, NET_NONE);
}

void net_endpoint_discard(struct net_mgr *m, struct net_endpoint *e)
{
    if (e->addr)
        ipam_free(ep_pool(m, e), e->addr);
    ep_unlink(m, e);
    save(m, NULL, NULL);
    ep_free(e);
}

void net_release(struct net_mgr *m, const char *ctr_id, net_done_cb done, void *data)
{
    struct net_endpoint *busy = NULL;
    for (struct net_endpoint *e = m->eps; e; e = e->next) {
        /* the connected networks' interfaces go first, the sandbox with the main one */
        if (e->secondary && e->ready && !e->releasing && strcmp(e->ctr_id, ctr_id) == 0)
            net_endpoint_teardown(m, e);
    }
    for (struct net_endpoint *e = m->eps; e; e = e->next) {
        if (strcmp(e->ctr_id, ctr_id) != 0 || e->secondary)
            continue;
        if (!e->releasing) {
            e->releasing = true;
            add_waiter(e, done, data);
            if (e->ready) /* an attach in progress tears down when it ends */
                teardown_start(m, e);
            return;
        }
        busy = e;
    }
    if (busy) {
        add_waiter(busy, done, data);
        return;
    }
    if (done)
        done(NULL, data);
}

void net_mgr_sweep(struct net_mgr *m, bool (*keep)(const char *ctr_id, void *data), void *data)
{
    for (struct net_endpoint *e = m->eps, *next; e; e = next) {
        next = e->next;
        if (!e->releasing && !keep(e->ctr_id, data))
            net_release(m, e->ctr_id, NULL, NULL);
    }
}

/* ---- attach ------------------------------------------------------------------------------ */

struct attach_op {
    uv_work_t work;
    struct net_mgr *m;
    struct net_endpoint *e; /* NULL for host mode */
    struct net_sandbox_spec spec;
    char *hosts_path, *resolv_path, *hostname;
    char **extra_hosts, **dns, **dns_search, **dns_options;
    bool host_mode;
    bool embedded_dns; /* a user network: resolv.conf points at 127.0.0.11 */
    char *host_resolv_path;
    char *join_hosts_path, *join_resolv_path; /* container: mode */
    struct net_ports *ports;                  /* to publish once the endpoint is ready */
    net_done_cb done;
    void *data;
    struct err *err;
};

static char **strv_copy(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(v[i]);
    return out;
}

static void strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

static void write_name_files(struct attach_op *op)
{
    _cleanup_free_ char *host_resolv = NULL;
    _cleanup_free_ char *host_hosts = NULL;
    (void)fsu_read_file(op->host_resolv_path, 1 << 20, &host_resolv, NULL);
    _cleanup_free_ char *hosts = NULL, *resolv = NULL;
    if (op->host_mode) {
        /* the host's own files, as docker gives a --network host container */
        (void)fsu_read_file("/etc/hosts", 1 << 20, &host_hosts, NULL);
        hosts = xstrdup(host_hosts ? host_hosts : "127.0.0.1\tlocalhost\n");
        resolv = xstrdup(host_resolv ? host_resolv : "");
    } else {
        char addr[16] = "", gw[16] = "";
        if (op->spec.veth) {
            ipam_addr_str(op->spec.addr, addr);
            ipam_addr_str(op->spec.gateway, gw);
        }
        hosts = net_hosts_build(addr, op->hostname, op->extra_hosts, gw);
        char *embedded[] = {"127.0.0.11", NULL};
        resolv = net_resolv_build(host_resolv, op->embedded_dns ? embedded : op->dns,
                                  op->dns_search, op->dns_options);
    }
    /* rebuilt at every start, before the container reads them (fsu_write_replace) */
    if (fsu_write_replace(op->hosts_path, hosts, strlen(hosts), 0644, &op->err) < 0 ||
        fsu_write_replace(op->resolv_path, resolv, strlen(resolv), 0644, &op->err) < 0)
        return;
}

static void attach_work(uv_work_t *w)
{
    struct attach_op *op = w->data;
    if (op->join_hosts_path) {
        net_join_copy_files(op->join_hosts_path, op->join_resolv_path, op->hosts_path,
                            op->resolv_path, &op->err);
        return;
    }
    if (!op->host_mode && net_sandbox_create(&op->spec, &op->err) < 0)
        return;
    write_name_files(op);
    if (op->err && !op->host_mode)
        net_sandbox_destroy(op->spec.path, op->spec.veth);
}

static void attach_op_free(struct attach_op *op)
{
    free(op->hosts_path);
    free(op->resolv_path);
    free(op->host_resolv_path);
    free(op->join_hosts_path);
    free(op->join_resolv_path);
    free(op->hostname);
    strv_free(op->extra_hosts);
    strv_free(op->dns);
    strv_free(op->dns_search);
    strv_free(op->dns_options);
    ports_free(op->ports);
    err_free(op->err);
    free(op);
}

static void attach_after(uv_work_t *w, int status)
{
    struct attach_op *op = w->data;
    struct net_mgr *m = op->m;
    struct net_endpoint *e = op->e;
    if (status < 0 && !op->err)
        err_set(&op->err, ERR_SYSTEM, -status, "network setup");
    if (e && op->err) {
        if (e->addr)
            ipam_free(ep_pool(m, e), e->addr);
        ep_unlink(m, e);
        save(m, NULL, NULL);
        for (struct net_waiter *wt = e->waiters, *next; wt; wt = next) {
            next = wt->next;
            if (wt->done)
                wt->done(NULL, wt->data);
            free(wt);
        }
        ep_free(e);
    } else if (e) {
        if (e->addr)
            mac_from_ip(e->addr, e->mac);
        e->ready = true;
        if (e->net->user && !e->releasing)
            dns_start(m, e);
        if (!e->releasing && op->ports) {
            const char *br = e->net->bridge_name ? e->net->bridge_name : m->bridge_name;
            if (ports_open(op->ports, m->loop, e->ip, br, m->iptables, &op->err) < 0) {
                err_wrap(&op->err,
                         "driver failed programming external connectivity on endpoint %.12s (%s)",
                         e->ctr_id, e->endpoint_id);
                op->err->kind = ERR_SYSTEM; /* a 500, as dockerd answers it */
                e->releasing = true;
            } else {
                e->ports = op->ports;
                op->ports = NULL;
                save(m, NULL, NULL);
            }
        }
        if (e->releasing) { /* released while it was being made */
            teardown_start(m, e);
            if (!op->err)
                err_set(&op->err, ERR_CONFLICT, 0, "the container is being removed");
        }
    }
    op->done(op->err, op->data);
    attach_op_free(op);
}

static void attach_saved(struct net_mgr *m, void *arg, const struct err *err)
{
    struct attach_op *op = arg;
    if (err) {
        err_set(&op->err, err->kind, err->errnum, "%s", err->msg);
        attach_after(&op->work, 0);
        return;
    }
    uv_queue_work(m->loop, &op->work, attach_work, attach_after);
}

/* An address on the default bridge for e, and the interface spec to match. */
static int bridge_prepare(struct net_mgr *m, const char *ctr_id, struct net_endpoint *e,
                          struct net_sandbox_spec *spec, struct err **err)
{
    if (ipam_alloc(&m->pool, ctr_id, &e->addr, err) < 0)
        return -1;
    e->net = &m->nets[NET_BRIDGE];
    snprintf(e->veth, sizeof(e->veth), "veth%.7s", e->endpoint_id);
    ipam_addr_str(e->addr, e->ip);
    ipam_addr_str(m->pool.gateway, e->gateway);
    e->prefix = m->pool.prefix;
    spec->veth = e->veth;
    spec->bridge = m->bridge_name;
    spec->addr = e->addr;
    spec->prefix = m->pool.prefix;
    spec->gateway = m->pool.gateway;
    uint32_t a = e->addr;
    unsigned char mac[6] = {0x02, 0x42, a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff};
    memcpy(spec->mac, mac, 6);
    return 0;
}

int net_bridge_connect_prepare(struct net_mgr *m, const char *ctr_id, struct net_endpoint *e,
                               struct net_sandbox_spec *spec, struct err **err)
{
    if (!m->bridge_on)
        return err_set(err, ERR_NOT_FOUND, 0, "network bridge not found");
    return bridge_prepare(m, ctr_id, e, spec, err);
}

bool net_is_default_bridge(const struct net_mgr *m, const struct net_network *n)
{
    return n == &m->nets[NET_BRIDGE];
}

/* Which built-in network a NetworkMode means; -1 with err when it is not one. */
static int mode_network(const struct net_mgr *m, const struct net_attach_req *req, struct err **err)
{
    const char *mode = req->mode ? req->mode : "";
    if (req->disabled || strcmp(mode, "none") == 0)
        return NET_NONE;
    if (strcmp(mode, "host") == 0)
        return NET_HOST;
    if (!*mode || strcmp(mode, "default") == 0 || strcmp(mode, "bridge") == 0)
        return m->bridge_on ? NET_BRIDGE : NET_NONE;
    if (strncmp(mode, "container:", 10) == 0)
        return err_set(err, ERR_INVALID, 0, "network mode %s is not supported yet", mode);
    const struct net_network *n = net_network_lookup(m, mode, err);
    if (!n)
        return -1;
    if (n->user)
        return NET_BUILTIN; /* the caller finds it again */
    return (int)(n - m->nets);
}

void net_attach(struct net_mgr *m, const struct net_attach_req *req, net_done_cb done, void *data)
{
    struct err *err = NULL;
    int net = mode_network(m, req, &err);
    struct attach_op *op = xcalloc(1, sizeof(*op));
    op->m = m;
    op->done = done;
    op->data = data;
    op->work.data = op;
    op->hosts_path = xstrdup(req->hosts_path);
    op->resolv_path = xstrdup(req->resolv_path);
    op->hostname = xstrdup(req->hostname ? req->hostname : "");
    op->extra_hosts = strv_copy(req->extra_hosts);
    op->dns = strv_copy(req->dns);
    op->dns_search = strv_copy(req->dns_search);
    op->dns_options = strv_copy(req->dns_options);
    op->host_resolv_path = xstrdup(m->resolv_path);
    if (req->join_ctr_id) {
        err_free(err); /* mode_network does not know container: */
        err = NULL;
        if (net_join_prepare(m, req, &err) < 0) {
            op->err = err;
            attach_after(&op->work, 0);
            return;
        }
        op->join_hosts_path = xstrdup(req->join_hosts_path);
        op->join_resolv_path = xstrdup(req->join_resolv_path);
        op->e = m->eps; /* net_join_prepare put it first */
        save(m, attach_saved, op);
        return;
    }
    if (net >= 0 && net != NET_HOST && net != NET_NONE &&
        ports_parse(req->port_bindings, req->exposed_ports, req->publish_all, &op->ports,
                    &op->err) < 0) {
        err_free(err);
        attach_after(&op->work, 0);
        return;
    }
    if (net == NET_BUILTIN) {
        struct net_endpoint *e = ep_new(m, req->ctr_id, NET_NONE);
        op->e = e;
        op->spec.path = e->sandbox_key;
        op->embedded_dns = true;
        if (net_user_attach_prepare(m, req, e, &op->spec, &op->err) < 0) {
            attach_after(&op->work, 0);
            return;
        }
        save(m, attach_saved, op);
        return;
    }
    if (net >= 0 && net_user_opts_refuse(req, &err) < 0)
        net = -1;
    if (net < 0) {
        op->err = err;
        attach_after(&op->work, 0);
        return;
    }
    if (net == NET_HOST) {
        op->host_mode = true;
        uv_queue_work(m->loop, &op->work, attach_work, attach_after);
        return;
    }
    struct net_endpoint *e = ep_new(m, req->ctr_id, (size_t)net);
    op->e = e;
    op->spec.path = e->sandbox_key;
    if (net == NET_BRIDGE && bridge_prepare(m, req->ctr_id, e, &op->spec, &op->err) < 0) {
        attach_after(&op->work, 0);
        return;
    }
    if (net == NET_NONE) {
        /* no address to hand out twice: no snapshot needs to be on disk first */
        save_lazy(m);
        uv_queue_work(m->loop, &op->work, attach_work, attach_after);
        return;
    }
    /* the address is used only once a snapshot holding it is on disk */
    save(m, attach_saved, op);
}

/* ---- start-up ---------------------------------------------------------------------------- */

static void builtin_init(struct net_mgr *m, const json_t *saved)
{
    static const char *const names[] = {"bridge", "host", "none"};
    static const char *const drivers[] = {"bridge", "host", "null"};
    for (size_t i = 0; i < NET_BUILTIN; i++) {
        struct net_network *n = &m->nets[i];
        n->name = names[i];
        n->driver = drivers[i];
        const json_t *j = json_object_get(json_object_get(saved, "Networks"), names[i]);
        const char *id = json_string_value(json_object_get(j, "Id"));
        const char *created = json_string_value(json_object_get(j, "Created"));
        if (id && strlen(id) == 64)
            snprintf(n->id, sizeof(n->id), "%s", id);
        else
            random_hex(n->id);
        if (created)
            snprintf(n->created, sizeof(n->created), "%s", created);
        else
            now_str(n->created);
    }
}

static void endpoints_load(struct net_mgr *m, const json_t *saved)
{
    const char *id;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(saved, "Endpoints"), id, v)
    {
        const char *net = json_string_value(json_object_get(v, "Network"));
        struct net_network *user = net ? unet_find(m->unets, net) : NULL;
        const char *key = json_string_value(json_object_get(v, "SandboxKey"));
        const char *sid = json_string_value(json_object_get(v, "SandboxID"));
        const char *eid = json_string_value(json_object_get(v, "EndpointID"));
        const char *veth = json_string_value(json_object_get(v, "Veth"));
        const char *ip = json_string_value(json_object_get(v, "IPAddress"));
        const char *mac = json_string_value(json_object_get(v, "MacAddress"));
        if (!net || !key || !sid || !eid || !veth || !ip || !mac || strlen(id) < 64 ||
            (id[64] && id[64] != '/'))
            continue;
        size_t n = strcmp(net, "bridge") == 0 ? NET_BRIDGE : NET_NONE;
        struct net_endpoint *e = xcalloc(1, sizeof(*e));
        snprintf(e->ctr_id, sizeof(e->ctr_id), "%.64s", id);
        e->secondary = id[64] == '/';
        e->net = &m->nets[n];
        snprintf(e->sandbox_id, sizeof(e->sandbox_id), "%s", sid);
        snprintf(e->endpoint_id, sizeof(e->endpoint_id), "%s", eid);
        snprintf(e->veth, sizeof(e->veth), "%s", veth);
        snprintf(e->ip, sizeof(e->ip), "%s", ip);
        snprintf(e->mac, sizeof(e->mac), "%s", mac);
        e->sandbox_key = xstrdup(key);
        e->ready = true;
        e->joined = json_is_true(json_object_get(v, "Joined"));
        if (user) {
            net_endpoint_load_extra(e, user, v);
        } else if (n == NET_BRIDGE && m->bridge_on && ipam_parse_addr(ip, &e->addr) == 0 &&
                   ipam_owner(&m->pool, e->addr)) {
            ipam_addr_str(m->pool.gateway, e->gateway);
            e->prefix = m->pool.prefix;
        } else {
            e->addr = 0;
        }
        e->ports = ports_decode(json_object_get(v, "Ports"));
        struct err *perr = NULL;
        if (e->ports &&
            ports_open(e->ports, m->loop, e->ip, e->ports->bridge, e->ports->rules, &perr) < 0) {
            log_warn("container %.12s: published ports not restored: %s", e->ctr_id, perr->msg);
            err_free(perr);
        }
        e->next = m->eps;
        m->eps = e;
    }
}

/* The bridge's subnet: --bip, else the stored one, else what the bridge has, else a free
 * default pool. The stored allocations are kept when the subnet is unchanged. */
static int bridge_subnet(struct net_mgr *m, const struct net_config *cfg, const json_t *saved,
                         struct err **err)
{
    struct ipam_pool stored = {0};
    const json_t *ipam =
        json_object_get(json_object_get(json_object_get(saved, "Networks"), "bridge"), "IPAM");
    bool have_stored = ipam && ipam_pool_decode(ipam, &stored, NULL) == 0;
    uint32_t gw = 0, subnet = 0;
    int prefix = 0;
    if (cfg->bip && *cfg->bip) {
        if (ipam_parse_cidr(cfg->bip, &gw, &prefix) < 0)
            return err_set(err, ERR_INVALID, 0, "--bip: invalid address %s (want a.b.c.d/n)",
                           cfg->bip);
        subnet = gw & ipam_net_mask(prefix);
        if (gw == subnet || gw == (subnet | ipam_host_mask(prefix)))
            return err_set(err, ERR_INVALID, 0, "--bip: %s is not a host address", cfg->bip);
    } else if (have_stored) {
        subnet = stored.subnet;
        prefix = stored.prefix;
        gw = stored.gateway;
    } else if (net_bridge_current(m->bridge_name, &gw, &prefix) == 1) {
        subnet = gw & ipam_net_mask(prefix);
    } else {
        _cleanup_free_ struct rtnl_prefix *routes = NULL;
        size_t n = 0;
        if (net_host_routes(m->bridge_name, &routes, &n, err) < 0)
            return -1;
        if (ipam_pick_subnet(routes, n, &subnet, &prefix) < 0)
            return err_set(err, ERR_UNAVAILABLE, 0,
                           "no free subnet for the default bridge: use --bip");
        gw = subnet + 1;
    }
    if (have_stored && stored.subnet == subnet && stored.prefix == prefix && stored.gateway == gw) {
        m->pool = stored;
    } else {
        if (have_stored && stored.n)
            log_warn("the default bridge's subnet changed: addresses held in the old one are "
                     "dropped");
        ipam_pool_release(&stored);
        ipam_pool_init(&m->pool, subnet, prefix, gw);
    }
    return 0;
}

/* Addresses no endpoint holds (a container gone while the daemon was away) are free again. */
static void drop_unowned(struct net_mgr *m)
{
    for (size_t i = m->pool.n; i-- > 0;) {
        bool held = false;
        for (struct net_endpoint *e = m->eps; e && !held; e = e->next)
            held = e->addr == m->pool.v[i].addr;
        if (!held)
            ipam_free(&m->pool, m->pool.v[i].addr);
    }
}

/* Removes the veths enslaved to the bridge at index that no endpoint owns (those of live
 * containers are loaded endpoints, so live restore keeps them). */
static void sweep_veths(struct net_mgr *m, int fd, int index)
{
    char **veths = NULL;
    if (rtnl_bridge_veths(fd, index, &veths, NULL) < 0)
        return;
    for (char **v = veths; v && *v; v++) {
        bool owned = false;
        for (struct net_endpoint *e = m->eps; e && !owned; e = e->next)
            owned = strcmp(e->veth, *v) == 0;
        if (!owned) {
            log_info("removing orphan veth %s", *v);
            net_sandbox_destroy(NULL, *v);
        }
        free(*v);
    }
    free(veths);
}

static void sweep_orphans(struct net_mgr *m, int bridge_index)
{
    DIR *d = opendir(m->netns_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *p = xasprintf("%s/%s", m->netns_dir, de->d_name);
        bool owned = false;
        for (struct net_endpoint *e = m->eps; e && !owned; e = e->next)
            owned = strcmp(e->sandbox_key, p) == 0;
        if (!owned)
            net_sandbox_destroy(p, NULL);
    }
    if (d)
        closedir(d);
    _cleanup_close_ int fd = rtnl_open(NULL);
    if (fd < 0)
        return;
    if (bridge_index > 0)
        sweep_veths(m, fd, bridge_index);
    /* user networks' bridges as well: a crash mid-attach, or containers gone while the daemon
     * was away, leave veths there too */
    for (size_t i = 0; i < unet_count(m->unets); i++) {
        int index = rtnl_link_index(fd, unet_at(m->unets, i)->bridge_name);
        if (index > 0)
            sweep_veths(m, fd, index);
    }
}

static int bridge_setup(struct net_mgr *m, const struct net_config *cfg, const json_t *saved,
                        int *index, struct err **err)
{
    if (bridge_subnet(m, cfg, saved, err) < 0 ||
        net_bridge_ensure(m->bridge_name, m->pool.gateway, m->pool.prefix, index, err) < 0)
        return -1;
    struct net_network *b = &m->nets[NET_BRIDGE];
    char sub[16];
    ipam_addr_str(m->pool.subnet, sub);
    snprintf(b->subnet, sizeof(b->subnet), "%s/%d", sub, m->pool.prefix);
    ipam_addr_str(m->pool.gateway, b->gateway);
    b->bridge_name = m->bridge_name;
    if (cfg->iptables) {
        struct err *e = NULL;
        if (net_iptables_setup(m->bridge_name, b->subnet, &e) < 0 ||
            net_iptables_isolation(true, m->bridge_name, &e) < 0) {
            log_warn("iptables rules for %s not set (containers reach only the host): %s",
                     m->bridge_name, e->msg);
            err_free(e);
        }
    }
    if (cfg->ip_forward) {
        struct err *e = NULL;
        if (net_ip_forward_enable(&e) < 0) {
            log_warn("%s", e->msg);
            err_free(e);
        }
    }
    log_info("default bridge %s: %s, gateway %s", m->bridge_name, b->subnet, b->gateway);
    return 0;
}

int net_mgr_open(uv_loop_t *loop, const struct net_config *cfg, struct net_mgr **out,
                 struct err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/network", cfg->data_root);
    struct net_mgr *m = xcalloc(1, sizeof(*m));
    m->loop = loop;
    m->state_path = xasprintf("%s/ipam.json", dir);
    m->netns_dir = xasprintf("%s/netns", cfg->exec_root);
    m->bridge_on = !(cfg->bridge && strcmp(cfg->bridge, "none") == 0);
    m->bridge_name =
        xstrdup(cfg->bridge && *cfg->bridge && m->bridge_on ? cfg->bridge : NET_DEFAULT_BRIDGE);
    m->iptables = cfg->iptables;
    const char *resolv = getenv("BERTH_RESOLV_CONF"); /* test only: another host resolv.conf */
    m->resolv_path = xstrdup(resolv && *resolv ? resolv : "/etc/resolv.conf");
    if (fsu_mkdir_p(dir, 0700, err) < 0 || fsu_mkdir_p(m->netns_dir, 0700, err) < 0) {
        net_mgr_free(m);
        return -1;
    }
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    json_auto_t *saved = NULL;
    if (fsu_read_file(m->state_path, 64 << 20, &text, &len) == 0)
        saved = json_loadb(text, len, 0, NULL);
    builtin_init(m, saved);
    int index = 0;
    if (m->bridge_on && bridge_setup(m, cfg, saved, &index, err) < 0) {
        net_mgr_free(m);
        return err_wrap(err, "default bridge");
    }
    if (unet_open(loop, dir, cfg->iptables, &m->unets, err) < 0) {
        net_mgr_free(m);
        return -1;
    }
    endpoints_load(m, saved);
    drop_unowned(m);
    sweep_orphans(m, index);
    json_auto_t *j = state_encode(m);
    _cleanup_free_ char *out_text = json_dumps(j, JSON_COMPACT);
    if (fsu_write_atomic(m->state_path, out_text, strlen(out_text), 0600, err) < 0) {
        net_mgr_free(m);
        return -1;
    }
    for (struct net_endpoint *e = m->eps; e; e = e->next) {
        if (e->net->user)
            dns_start(m, e);
    }
    *out = m;
    return 0;
}

void net_mgr_detach(struct net_mgr *m)
{
    for (struct net_endpoint *e = m ? m->eps : NULL; e; e = e->next) {
        ports_detach(e->ports);
        dns_stop(e); /* its sockets close while the loop still runs */
    }
}

void net_mgr_free(struct net_mgr *m)
{
    if (!m)
        return;
    if (m->state_path && m->gen > m->saved_gen && !m->saving) { /* save_lazy's changes */
        json_auto_t *j = state_encode(m);
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
        struct err *err = NULL;
        if (!text || fsu_write_atomic(m->state_path, text, strlen(text), 0600, &err) < 0) {
            log_error("saving %s: %s", m->state_path, err ? err->msg : "encoding failed");
            err_free(err);
        }
    }
    while (m->eps) {
        struct net_endpoint *e = m->eps;
        m->eps = e->next;
        for (struct net_waiter *w = e->waiters, *next; w; w = next) {
            next = w->next;
            free(w);
        }
        ep_free(e);
    }
    while (m->save_waits) {
        struct save_wait *sw = m->save_waits;
        m->save_waits = sw->next;
        free(sw);
    }
    ipam_pool_release(&m->pool);
    unet_free(m->unets);
    free(m->resolv_path);
    free(m->state_path);
    free(m->netns_dir);
    free(m->bridge_name);
    free(m);
}
