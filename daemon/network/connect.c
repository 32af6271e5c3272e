/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network connect and disconnect on running containers: one more veth per connected network,
 * named eth1, eth2... inside the container's sandbox (the lowest free), with an address from
 * the network's pool (persisted before it is used), no route. Disconnect removes the interface
 * and frees the address; the sandbox stays with the container. The embedded DNS server runs
 * once per sandbox, on one of its user-network endpoints.
 */
#include "daemon/network/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- blocking ---------------------------------------------------------------------------- */

/* A netlink socket inside the namespace file path (the thread enters it and comes back). */
static int rtnl_open_in(const char *path, struct err **err)
{
    _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int target = open(path, O_RDONLY | O_CLOEXEC);
    if (self < 0 || target < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", path);
    if (setns(target, CLONE_NEWNET) < 0)
        return err_set(err, ERR_SYSTEM, errno, "enter %s", path);
    int fd = rtnl_open(NULL);
    if (setns(self, CLONE_NEWNET) < 0) {
        /* this thread would run later work in the container's namespace: never go on */
        log_error("setns back to the daemon's network namespace: %s", strerror(errno));
        abort();
    }
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, EIO, "netlink socket in %s", path);
    return fd;
}

static int iface_configure(const struct net_iface_spec *sp, struct err **err)
{
    _cleanup_close_ int in = rtnl_open_in(sp->path, err);
    if (in < 0)
        return -1;
    int idx = rtnl_link_index(in, sp->ifname);
    if (idx <= 0)
        return err_set(err, ERR_SYSTEM, -idx, "find %s in the container's namespace", sp->ifname);
    struct rtnl_msg m;
    rtnl_build_addr(&m, idx, sp->addr, sp->prefix);
    if (rtnl_talk(in, &m, "set the address", err) < 0)
        return -1;
    rtnl_build_link_up(&m, idx);
    return rtnl_talk(in, &m, "bring the interface up", err);
}

int net_iface_add(const struct net_iface_spec *sp, struct err **err)
{
    _cleanup_close_ int nsfd = open(sp->path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", sp->path);
    _cleanup_close_ int out = rtnl_open(err);
    if (out < 0)
        return -1;
    int master = rtnl_link_index(out, sp->bridge);
    if (master <= 0)
        return err_set(err, ERR_SYSTEM, -master, "bridge %s", sp->bridge);
    struct rtnl_veth v = {.name = sp->veth,
                          .master = master,
                          .peer_name = sp->ifname,
                          .peer_netns_fd = nsfd,
                          .peer_has_mac = true};
    memcpy(v.peer_mac, sp->mac, 6);
    struct rtnl_msg m;
    rtnl_build_veth(&m, &v);
    if (rtnl_talk(out, &m, "create veth", err) < 0)
        return err_wrap(err, "%s", sp->veth);
    int idx = rtnl_link_index(out, sp->veth);
    if (idx > 0) {
        rtnl_build_link_up(&m, idx);
        if (rtnl_talk(out, &m, "bring the veth up", err) < 0) {
            net_link_delete(sp->veth);
            return -1;
        }
    }
    if (iface_configure(sp, err) < 0) {
        net_link_delete(sp->veth);
        return -1;
    }
    return 0;
}

/* ---- connect ----------------------------------------------------------------------------- */

static void mac_str(const unsigned char mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

static bool ctr_has_dns(struct net_mgr *m, const char *ctr_id)
{
    for (struct net_endpoint *e = net_mgr_endpoints(m); e; e = e->next) {
        if (e->dns && strcmp(e->ctr_id, ctr_id) == 0)
            return true;
    }
    return false;
}

/* The lowest ethN no live endpoint of the container uses. */
static void pick_ifname(struct net_mgr *m, const char *ctr_id, char out[16])
{
    for (int i = 0;; i++) {
        snprintf(out, 16, "eth%d", i);
        bool used = false;
        for (struct net_endpoint *e = net_mgr_endpoints(m); e && !used; e = e->next) {
            const char *name = e->ifname[0] ? e->ifname : e->veth[0] ? "eth0" : "";
            used = strcmp(e->ctr_id, ctr_id) == 0 && !e->releasing && strcmp(name, out) == 0;
        }
        if (!used)
            return;
    }
}

struct connect_op {
    uv_work_t work;
    struct net_mgr *m;
    struct net_endpoint *e;
    struct net_iface_spec spec;
    net_done_cb done;
    void *data;
    struct err *err;
};

static void connect_work(uv_work_t *w)
{
    struct connect_op *op = w->data;
    (void)net_iface_add(&op->spec, &op->err);
}

static void connect_after(uv_work_t *w, int status)
{
    struct connect_op *op = w->data;
    struct net_endpoint *e = op->e;
    if (status < 0 && !op->err)
        err_set(&op->err, ERR_SYSTEM, -status, "network connect");
    if (op->err) {
        net_endpoint_discard(op->m, e);
    } else {
        e->ready = true;
        if (e->releasing) /* the container stopped meanwhile */
            net_endpoint_teardown(op->m, e);
        else if (!ctr_has_dns(op->m, e->ctr_id))
            dns_start(op->m, e);
    }
    op->done(op->err, op->data);
    err_free(op->err);
    free(op);
}

static void connect_saved(struct net_mgr *m, void *arg, const struct err *err)
{
    struct connect_op *op = arg;
    if (err) {
        err_set(&op->err, err->kind, err->errnum, "%s", err->msg);
        connect_after(&op->work, 0);
        return;
    }
    uv_queue_work(net_mgr_loop(m), &op->work, connect_work, connect_after);
}

static int connect_check(struct net_mgr *m, const struct net_connect_req *req,
                         const struct net_endpoint **primary, struct net_network **net,
                         struct err **err)
{
    *primary = net_endpoint_find(m, req->ctr_id);
    if (!*primary)
        return err_set(err, ERR_CONFLICT, 0, "container %s is not running", req->ctr_name);
    const struct net_network *n = net_network_lookup(m, req->network, err);
    if (!n)
        return -1;
    if ((*primary)->joined || strcmp((*primary)->net->name, "host") == 0)
        return err_set(err, ERR_INVALID, 0,
                       "container sharing network namespace with another container or host "
                       "cannot be connected to any other network");
    bool bridge = net_is_default_bridge(m, n);
    if (strcmp((*primary)->net->name, "none") == 0 || strcmp(n->name, "none") == 0)
        return err_set(err, ERR_INVALID, 0,
                       "container cannot be connected to multiple networks with one of the "
                       "networks in private (none) mode");
    if (!n->user && !bridge)
        return err_set(err, ERR_INVALID, 0,
                       "container cannot be disconnected from host network or connected to host "
                       "network");
    if (bridge && req->ip && *req->ip)
        return err_set(err, ERR_INVALID, 0,
                       "user specified IP address is supported on user defined networks only");
    if (bridge && req->aliases && req->aliases[0])
        return err_set(err, ERR_INVALID, 0,
                       "network-scoped alias is supported only for containers in user defined "
                       "networks");
    for (const struct net_endpoint *e = net_endpoint_next(m, req->ctr_id, NULL); e;
         e = net_endpoint_next(m, req->ctr_id, e)) {
        if (e->net == n)
            return err_set(err, ERR_FORBIDDEN, 0,
                           "endpoint with name %s already exists in network %s", req->ctr_name,
                           n->name);
    }
    *net = bridge ? (struct net_network *)n : unet_find(net_mgr_unets(m), n->id);
    return 0;
}

void net_connect(struct net_mgr *m, const struct net_connect_req *req, net_done_cb done, void *data)
{
    struct err *err = NULL;
    const struct net_endpoint *primary = NULL;
    struct net_network *n = NULL;
    if (connect_check(m, req, &primary, &n, &err) < 0) {
        done(err, data);
        err_free(err);
        return;
    }
    struct net_endpoint *e = net_endpoint_alloc(m, req->ctr_id);
    e->secondary = true;
    e->net = n;
    free(e->sandbox_key);
    e->sandbox_key = xstrdup(primary->sandbox_key);
    snprintf(e->sandbox_id, sizeof(e->sandbox_id), "%s", primary->sandbox_id);
    char ifname[16];
    pick_ifname(m, req->ctr_id, ifname); /* before e has a name of its own */
    snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
    struct net_attach_req ar = {.ctr_id = req->ctr_id, .name = req->ctr_name};
    json_auto_t *ep = json_object();
    if (req->aliases && req->aliases[0]) {
        json_t *a = json_array();
        for (char *const *p = req->aliases; *p; p++)
            json_array_append_new(a, json_string(*p));
        json_object_set_new(ep, "Aliases", a);
    }
    if (req->ip && *req->ip)
        json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", req->ip));
    json_auto_t *eps = json_pack("{s:O}", n->name, ep);
    ar.endpoints = eps;
    ar.mode = n->name;
    struct net_sandbox_spec spec = {0};
    int r = n->user ? net_user_attach_prepare(m, &ar, e, &spec, &err)
                    : net_bridge_connect_prepare(m, req->ctr_id, e, &spec, &err);
    if (r < 0) {
        net_endpoint_discard(m, e);
        done(err, data);
        err_free(err);
        return;
    }
    struct connect_op *op = xcalloc(1, sizeof(*op));
    op->m = m;
    op->e = e;
    op->spec = (struct net_iface_spec){.path = e->sandbox_key,
                                       .veth = e->veth,
                                       .bridge = spec.bridge,
                                       .ifname = e->ifname,
                                       .addr = spec.addr,
                                       .prefix = spec.prefix};
    memcpy(op->spec.mac, spec.mac, 6);
    mac_str(spec.mac, e->mac);
    op->done = done;
    op->data = data;
    op->work.data = op;
    net_mgr_save(m, connect_saved, op);
}

/* ---- disconnect -------------------------------------------------------------------------- */

struct disconnect_op {
    uv_work_t work;
    struct net_mgr *m;
    struct net_endpoint *e;
    char veth[16];
    bool had_dns;
    net_done_cb done;
    void *data;
};

static void disconnect_work(uv_work_t *w)
{
    struct disconnect_op *op = w->data;
    net_link_delete(op->veth);
}

/* The first network's endpoint stays as the holder of the sandbox, on "none". */
static void primary_detach(struct net_mgr *m, struct net_endpoint *e)
{
    struct ipam_pool *p = e->net->user ? unet_pool(e->net) : NULL;
    if (p && e->addr)
        ipam_free(p, e->addr);
    e->addr = 0;
    e->ip[0] = e->gateway[0] = e->mac[0] = e->veth[0] = '\0';
    e->prefix = 0;
    e->net = net_network_lookup(m, "none", NULL);
    net_mgr_save(m, NULL, NULL);
}

static void disconnect_after(uv_work_t *w, int status)
{
    struct disconnect_op *op = w->data;
    struct net_mgr *m = op->m;
    (void)status;
    char ctr_id[65];
    snprintf(ctr_id, sizeof(ctr_id), "%s", op->e->ctr_id);
    if (op->e->secondary)
        net_endpoint_discard(m, op->e);
    else
        primary_detach(m, op->e);
    if (op->had_dns) { /* the server moves to another user network of the container */
        for (struct net_endpoint *e = net_mgr_endpoints(m); e; e = e->next) {
            if (e->ready && !e->releasing && e->net->user && strcmp(e->ctr_id, ctr_id) == 0) {
                dns_start(m, e);
                break;
            }
        }
    }
    op->done(NULL, op->data);
    free(op);
}

void net_disconnect(struct net_mgr *m, const char *ctr_id, const char *network, net_done_cb done,
                    void *data)
{
    struct err *err = NULL;
    const struct net_network *n = net_network_lookup(m, network, &err);
    struct net_endpoint *found = NULL;
    for (struct net_endpoint *e = net_mgr_endpoints(m); n && e && !found; e = e->next) {
        if (e->ready && !e->releasing && e->net == n && strcmp(e->ctr_id, ctr_id) == 0)
            found = e;
    }
    if (n && !found)
        err_set(&err, ERR_FORBIDDEN, 0, "container %s is not connected to network %s", ctr_id,
                network);
    else if (found && !found->veth[0])
        err_set(&err, ERR_FORBIDDEN, 0,
                "container cannot be disconnected from host network or connected to host "
                "network");
    if (err) {
        done(err, data);
        err_free(err);
        return;
    }
    struct disconnect_op *op = xcalloc(1, sizeof(*op));
    op->m = m;
    op->e = found;
    snprintf(op->veth, sizeof(op->veth), "%s", found->veth);
    op->had_dns = found->dns != NULL;
    dns_stop(found);
    /* a connected endpoint goes; the first one stays (it holds the sandbox) */
    found->releasing = found->secondary;
    op->done = done;
    op->data = data;
    op->work.data = op;
    uv_queue_work(net_mgr_loop(m), &op->work, disconnect_work, disconnect_after);
}
