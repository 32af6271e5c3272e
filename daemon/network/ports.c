/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Published ports: parsing and validation of HostConfig.PortBindings, host port allocation
 * (random ports from the kernel's ephemeral range, as dockerd's port allocator), the proxies,
 * the DNAT rules (nat BERTH chain, jumped to from PREROUTING and OUTPUT, loopback included: the
 * bridges route it, see loopback_rules in sandbox.c, so with iptables on no connection from the
 * host passes through a proxy; the proxies serve when iptables is off), and the inspect / ps
 * views.
 */
#include "daemon/network/ports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/random.h>

#include "daemon/network/internal.h"

#define PORTS_CHAIN "BERTH"

/* "80" or "80-81" (hi = lo for one); -1 when malformed. */
static int port_range(const char *s, int *lo, int *hi)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10), b;
    if (end == s || errno || a < 0 || a > 65535)
        return -1;
    if (*end == '-') {
        const char *r = end + 1;
        b = strtol(r, &end, 10);
        if (end == r || errno || b < a || b > 65535)
            return -1;
    } else {
        b = a;
    }
    if (*end)
        return -1;
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

/* "80/tcp" -> 80, "tcp" (a range is refused here: the API's keys are single ports). */
static int split_key(const char *key, int *port, char proto[8])
{
    const char *slash = strchr(key, '/');
    char num[16];
    size_t l = slash ? (size_t)(slash - key) : strlen(key);
    if (l == 0 || l >= sizeof(num))
        return -1;
    memcpy(num, key, l);
    num[l] = '\0';
    int lo, hi;
    if (port_range(num, &lo, &hi) < 0 || lo != hi || lo == 0)
        return -1;
    *port = lo;
    snprintf(proto, 8, "%s", slash && slash[1] ? slash + 1 : "tcp");
    return 0;
}

int net_ports_validate(const json_t *bindings, struct err **err)
{
    const char *key;
    json_t *list;
    json_object_foreach((json_t *)bindings, key, list)
    {
        int port;
        char proto[8];
        if (split_key(key, &port, proto) < 0) {
            const char *slash = strchr(key, '/');
            _cleanup_free_ char *num = slash ? xstrndup(key, (size_t)(slash - key)) : xstrdup(key);
            return err_set(err, ERR_INVALID, 0, "invalid port specification: \"%s\"", num);
        }
        if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
            return err_set(err, ERR_INVALID, 0, "invalid proto: %s", proto);
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b)
        {
            const char *hp = json_string_value(json_object_get(b, "HostPort"));
            const char *ip = json_string_value(json_object_get(b, "HostIp"));
            int lo, hi;
            if (hp && *hp && port_range(hp, &lo, &hi) < 0)
                return err_set(err, ERR_INVALID, 0, "invalid port specification: \"%s\"", hp);
            if (ip && *ip) {
                unsigned char a[16];
                if (inet_pton(AF_INET, ip, a) != 1 && inet_pton(AF_INET6, ip, a) != 1)
                    return err_set(err, ERR_INVALID, 0, "invalid IP address: %s", ip);
            }
        }
    }
    return 0;
}

static struct port_map *add_map(struct net_ports *p, int port, const char *proto)
{
    p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
    struct port_map *m = &p->v[p->n++];
    memset(m, 0, sizeof(*m));
    m->ctr_port = port;
    snprintf(m->proto, sizeof(m->proto), "%.*s", (int)sizeof(m->proto) - 1, proto);
    return m;
}

static bool has_key(const struct net_ports *p, int port, const char *proto)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].ctr_port == port && strcmp(p->v[i].proto, proto) == 0)
            return true;
    }
    return false;
}

int ports_parse(const json_t *bindings, const json_t *exposed, bool publish_all,
                struct net_ports **out, struct err **err)
{
    *out = NULL;
    if (net_ports_validate(bindings, err) < 0)
        return -1;
    struct net_ports *p = xcalloc(1, sizeof(*p));
    const char *key;
    json_t *list;
    json_object_foreach((json_t *)bindings, key, list)
    {
        int port;
        char proto[8];
        (void)split_key(key, &port, proto);
        if (strcmp(proto, "sctp") == 0)
            continue; /* not proxied */
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b)
        {
            const char *hp = json_string_value(json_object_get(b, "HostPort"));
            const char *ip = json_string_value(json_object_get(b, "HostIp"));
            if (ip && strchr(ip, ':'))
                continue; /* IPv6 host addresses: not published (no IPv6 on the bridge) */
            struct port_map *m = add_map(p, port, proto);
            m->published = true;
            snprintf(m->host_ip, sizeof(m->host_ip), "%s",
                     ip && strcmp(ip, "0.0.0.0") != 0 ? ip : "");
            if (hp && *hp)
                (void)port_range(hp, &m->host_lo, &m->host_hi);
        }
        if (!json_array_size(list) && !has_key(p, port, proto)) {
            struct port_map *m = add_map(p, port, proto);
            m->published = publish_all;
        }
    }
    json_t *v;
    json_object_foreach((json_t *)exposed, key, v)
    {
        int port;
        char proto[8];
        if (split_key(key, &port, proto) < 0 || strcmp(proto, "sctp") == 0 ||
            (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) || has_key(p, port, proto))
            continue;
        struct port_map *m = add_map(p, port, proto);
        m->published = publish_all;
    }
    if (!p->n) {
        ports_free(p);
        return 0;
    }
    *out = p;
    return 0;
}

/* ---- binding ----------------------------------------------------------------------------- */

static void ephemeral_range(int *lo, int *hi)
{
    *lo = 49153;
    *hi = 65535;
    _cleanup_free_ char *text = NULL;
    int a, b;
    if (fsu_read_file("/proc/sys/net/ipv4/ip_local_port_range", 4096, &text, NULL) == 0 &&
        sscanf(text, "%d %d", &a, &b) == 2 && a > 0 && b >= a && b <= 65535) {
        *lo = a;
        *hi = b;
    }
}

static int bind_map(struct port_map *m, uv_loop_t *loop, const char *ctr_ip, struct err **err)
{
    if (m->host_port) /* restored */
        return proxy_open(loop, m->proto, m->host_ip, m->host_port, ctr_ip, m->ctr_port, &m->proxy,
                          err);
    int lo = m->host_lo, hi = m->host_hi;
    bool random = lo == 0;
    if (random)
        ephemeral_range(&lo, &hi);
    unsigned r = 0;
    if (random && getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = 0;
    int span = hi - lo + 1;
    struct err *last = NULL;
    for (int i = 0; i < span; i++) {
        int port = lo + (int)((r + (unsigned)i) % (unsigned)span);
        err_free(last);
        last = NULL;
        if (proxy_open(loop, m->proto, m->host_ip, port, ctr_ip, m->ctr_port, &m->proxy, &last) ==
            0) {
            m->host_port = port;
            return 0;
        }
        if (last->kind != ERR_CONFLICT)
            break;
    }
    if (random && last && last->kind == ERR_CONFLICT) {
        err_free(last);
        return err_set(err, ERR_UNAVAILABLE, 0, "all ports are allocated");
    }
    *err = last;
    return -1;
}

/* ---- DNAT rules (threadpool) ------------------------------------------------------------- */

struct rules_op {
    uv_work_t work;
    uv_loop_t *loop;
    bool add;
    bool remove_after;       /* the ports were closed while this addition ran */
    struct net_ports *owner; /* the live set whose addition this is, or NULL */
    struct net_ports *p;     /* a copy, freed with the op */
};

static struct rules_op *rules_queue(uv_loop_t *loop, const struct net_ports *p, bool add);

static void rule_args(const struct net_ports *p, const struct port_map *m, char **out, size_t *n,
                      char bufs[4][64])
{
    size_t k = 0;
    out[k++] = PORTS_CHAIN;
    if (m->host_ip[0]) {
        snprintf(bufs[0], 64, "%s/32", m->host_ip);
        out[k++] = "-d";
        out[k++] = bufs[0];
    }
    out[k++] = "!";
    out[k++] = "-i";
    out[k++] = (char *)p->bridge;
    out[k++] = "-p";
    out[k++] = (char *)m->proto;
    out[k++] = "-m";
    out[k++] = (char *)m->proto;
    snprintf(bufs[1], 64, "%d", m->host_port);
    out[k++] = "--dport";
    out[k++] = bufs[1];
    out[k++] = "-j";
    out[k++] = "DNAT";
    snprintf(bufs[2], 64, "%s:%d", p->ctr_ip, m->ctr_port);
    out[k++] = "--to-destination";
    out[k++] = bufs[2];
    *n = k;
}

static void rules_work(uv_work_t *w)
{
    struct rules_op *op = w->data;
    struct net_ports *p = op->p;
    if (op->add) {
        char *pre[] = {"PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", PORTS_CHAIN};
        char *outr[] = {"OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", PORTS_CHAIN};
        struct err *err = NULL;
        net_iptables_chain("nat", PORTS_CHAIN);
        if (net_iptables_rule("nat", true, pre, ARRAY_SIZE(pre), &err) < 0 ||
            net_iptables_rule("nat", true, outr, ARRAY_SIZE(outr), &err) < 0) {
            log_warn("published ports: %s", err->msg);
            err_free(err);
            return;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct port_map *m = &p->v[i];
        if (!m->published || !m->host_port)
            continue;
        char *args[24], bufs[4][64];
        size_t n;
        rule_args(p, m, args, &n, bufs);
        struct err *err = NULL;
        if (net_iptables_rule("nat", op->add, args, n, &err) < 0) {
            log_warn("published port %d/%s: %s", m->ctr_port, m->proto, err->msg);
            err_free(err);
        }
    }
}

static void rules_after(uv_work_t *w, int status)
{
    struct rules_op *op = w->data;
    (void)status;
    if (op->owner)
        op->owner->adding = NULL;
    if (op->remove_after) /* in order: the removal after the addition, never before it */
        (void)rules_queue(op->loop, op->p, false);
    ports_free(op->p);
    free(op);
}

static struct net_ports *ports_copy(const struct net_ports *p)
{
    struct net_ports *c = xcalloc(1, sizeof(*c));
    *c = *p;
    c->adding = NULL;
    c->v = xcalloc(p->n ? p->n : 1, sizeof(*c->v));
    memcpy(c->v, p->v, p->n * sizeof(*c->v));
    for (size_t i = 0; i < c->n; i++)
        c->v[i].proxy = NULL;
    return c;
}

static struct rules_op *rules_queue(uv_loop_t *loop, const struct net_ports *p, bool add)
{
    struct rules_op *op = xcalloc(1, sizeof(*op));
    op->loop = loop;
    op->add = add;
    op->p = ports_copy(p);
    op->work.data = op;
    uv_queue_work(loop, &op->work, rules_work, rules_after);
    return op;
}

int ports_open(struct net_ports *p, uv_loop_t *loop, const char *ctr_ip, const char *bridge,
               bool iptables, struct err **err)
{
    char ip[sizeof(p->ctr_ip)], br[sizeof(p->bridge)]; /* the arguments may be p's own */
    snprintf(ip, sizeof(ip), "%s", ctr_ip);
    snprintf(br, sizeof(br), "%s", bridge ? bridge : "");
    memcpy(p->ctr_ip, ip, sizeof(ip));
    memcpy(p->bridge, br, sizeof(br));
    for (size_t i = 0; i < p->n; i++) {
        struct port_map *m = &p->v[i];
        if (!m->published)
            continue;
        if (bind_map(m, loop, p->ctr_ip, err) < 0) {
            ports_detach(p);
            return -1;
        }
    }
    if (iptables && bridge) {
        p->rules = true;
        p->adding = rules_queue(loop, p, true);
        p->adding->owner = p;
    }
    return 0;
}

void ports_detach(struct net_ports *p)
{
    for (size_t i = 0; p && i < p->n; i++) {
        proxy_close(p->v[i].proxy);
        p->v[i].proxy = NULL;
    }
}

void ports_close(struct net_ports *p, uv_loop_t *loop)
{
    if (!p)
        return;
    ports_detach(p);
    if (p->adding) {
        p->adding->remove_after = true;
    } else if (p->rules) {
        (void)rules_queue(loop, p, false);
    }
    ports_free(p);
}

void ports_free(struct net_ports *p)
{
    if (!p)
        return;
    if (p->adding)
        p->adding->owner = NULL;
    free(p->v);
    free(p);
}

/* ---- persistence and views --------------------------------------------------------------- */

json_t *ports_encode(const struct net_ports *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const struct port_map *m = &p->v[i];
        json_array_append_new(a, json_pack("{s:s, s:i, s:s, s:i, s:b}", "Proto", m->proto,
                                           "CtrPort", m->ctr_port, "HostIp", m->host_ip, "HostPort",
                                           m->host_port, "Published", m->published));
    }
    return json_pack("{s:o, s:s, s:s, s:b}", "Maps", a, "CtrIp", p->ctr_ip, "Bridge", p->bridge,
                     "Rules", p->rules);
}

struct net_ports *ports_decode(const json_t *j)
{
    const json_t *a = json_object_get(j, "Maps");
    if (!json_is_array(a) || !json_array_size(a))
        return NULL;
    struct net_ports *p = xcalloc(1, sizeof(*p));
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *proto = json_string_value(json_object_get(v, "Proto"));
        const char *ip = json_string_value(json_object_get(v, "HostIp"));
        if (!proto)
            continue;
        struct port_map *m =
            add_map(p, (int)json_integer_value(json_object_get(v, "CtrPort")), proto);
        snprintf(m->host_ip, sizeof(m->host_ip), "%s", ip ? ip : "");
        m->host_port = (int)json_integer_value(json_object_get(v, "HostPort"));
        m->published = json_is_true(json_object_get(v, "Published"));
    }
    const char *cip = json_string_value(json_object_get(j, "CtrIp"));
    const char *br = json_string_value(json_object_get(j, "Bridge"));
    snprintf(p->ctr_ip, sizeof(p->ctr_ip), "%s", cip ? cip : "");
    snprintf(p->bridge, sizeof(p->bridge), "%s", br ? br : "");
    p->rules = json_is_true(json_object_get(j, "Rules"));
    return p;
}

json_t *ports_inspect_json(const struct net_ports *p)
{
    json_t *o = json_object();
    for (size_t i = 0; p && i < p->n; i++) {
        const struct port_map *m = &p->v[i];
        char key[24];
        snprintf(key, sizeof(key), "%d/%s", m->ctr_port, m->proto);
        json_t *list = json_object_get(o, key);
        if (!m->published || !m->host_port) {
            if (!list)
                json_object_set_new(o, key, json_null());
            continue;
        }
        if (!json_is_array(list)) {
            list = json_array();
            json_object_set_new(o, key, list);
        }
        char hp[8];
        snprintf(hp, sizeof(hp), "%d", m->host_port);
        json_array_append_new(list,
                              json_pack("{s:s, s:s}", "HostIp",
                                        m->host_ip[0] ? m->host_ip : "0.0.0.0", "HostPort", hp));
    }
    return o;
}

json_t *ports_summary_json(const struct net_ports *p)
{
    json_t *a = json_array();
    for (size_t i = 0; p && i < p->n; i++) {
        const struct port_map *m = &p->v[i];
        if (m->published && m->host_port)
            json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:s}", "IP",
                                               m->host_ip[0] ? m->host_ip : "0.0.0.0",
                                               "PrivatePort", m->ctr_port, "PublicPort",
                                               m->host_port, "Type", m->proto));
        else
            json_array_append_new(
                a, json_pack("{s:i, s:s}", "PrivatePort", m->ctr_port, "Type", m->proto));
    }
    return a;
}

json_t *net_endpoint_ports_inspect(const struct net_endpoint *e)
{
    return ports_inspect_json(e ? e->ports : NULL);
}

json_t *net_endpoint_ports_summary(const struct net_endpoint *e)
{
    return ports_summary_json(e ? e->ports : NULL);
}
