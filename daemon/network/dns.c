/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded DNS server of user networks, as docker has it: 127.0.0.11:53 (UDP and TCP)
 * inside each container's network namespace. A threadpool thread enters the namespace, makes
 * and binds the sockets, and comes back; the loop owns them from then on. Names of the
 * containers sharing the asker's network (name, aliases, short id) are answered here; any other
 * question is relayed to the forwarders (--dns, else the host's resolv.conf, read from the
 * daemon's namespace so loopback resolvers work) over a socket of its own per query.
 */
#include "daemon/network/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    DNS_MAX_FWD = 3,
    DNS_MAX_INFLIGHT = 128,
    DNS_TIMEOUT_MS = 3000,
    DNS_MAX_MSG = 4096,
};

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* ---- the server -------------------------------------------------------------------------- */

struct dns_server {
    struct net_mgr *m;
    char ctr_id[65];
    char *netns;
    uv_work_t work;
    int udp_fd, tcp_fd;
    struct err *err;
    uv_udp_t udp;
    uv_tcp_t tcp;
    int handles; /* open handles; the server is freed when the last closes after stop */
    bool working, stopped;
    struct sockaddr_storage fwd[DNS_MAX_FWD];
    size_t nfwd;
    size_t inflight;
    char **dns;        /* --dns of the container, or NULL */
    char *resolv_path; /* the host's resolv.conf */
    struct dns_tcp_conn *conns;
};

/* Whom a relayed or local answer goes to: a UDP peer, or a TCP connection. */
struct dns_tcp_conn {
    uv_tcp_t h;
    struct dns_server *s;
    unsigned char buf[2 + DNS_MAX_MSG];
    size_t len;
    int refs; /* the handle, and each forward waiting to answer on it */
    bool closed;
    struct dns_tcp_conn *next;
};

struct dns_fwd {
    uv_udp_t sock;
    uv_timer_t timer;
    struct dns_server *s;
    struct sockaddr_storage peer; /* UDP asker */
    struct dns_tcp_conn *conn;    /* or TCP asker (a reference) */
    unsigned char *query;
    size_t qlen;
    size_t next_fwd;
    int closing;
};

static void server_unref_handle(uv_handle_t *h);
static void conn_unref(struct dns_tcp_conn *c);
static void conn_close(struct dns_tcp_conn *c);

static void server_maybe_free(struct dns_server *s)
{
    if (s->stopped && !s->working && s->handles == 0 && s->inflight == 0) {
        err_free(s->err);
        net_strv_free(s->dns);
        free(s->resolv_path);
        free(s->netns);
        free(s);
    }
}

static void server_unref_handle(uv_handle_t *h)
{
    struct dns_server *s = h->data;
    s->handles--;
    server_maybe_free(s);
}

/* The forwarders: --dns, else the nameservers of the host's resolv.conf. */
static void load_forwarders(struct dns_server *s, char *const *dns, const char *resolv_path)
{
    _cleanup_free_ char *text = NULL;
    if (!dns || !dns[0])
        (void)fsu_read_file(resolv_path, 1 << 20, &text, NULL);
    for (size_t i = 0; dns && dns[i] && s->nfwd < DNS_MAX_FWD; i++) {
        struct sockaddr_in *sa = (struct sockaddr_in *)&s->fwd[s->nfwd];
        sa->sin_family = AF_INET;
        sa->sin_port = htons(53);
        if (inet_pton(AF_INET, dns[i], &sa->sin_addr) == 1)
            s->nfwd++;
    }
    for (char *p = text, *save = NULL, *line; p && s->nfwd < DNS_MAX_FWD; p = NULL) {
        while ((line = strtok_r(p, "\n", &save)) && s->nfwd < DNS_MAX_FWD) {
            p = NULL;
            char addr[64];
            if (sscanf(line, " nameserver %63s", addr) != 1)
                continue;
            struct sockaddr_in *sa = (struct sockaddr_in *)&s->fwd[s->nfwd];
            sa->sin_family = AF_INET;
            sa->sin_port = htons(53);
            if (inet_pton(AF_INET, addr, &sa->sin_addr) == 1)
                s->nfwd++;
        }
        break;
    }
}

/* Threadpool: the sockets, made inside the container's namespace. */
static void start_work(uv_work_t *w)
{
    struct dns_server *s = w->data;
    load_forwarders(s, s->dns, s->resolv_path);
    _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int target = open(s->netns, O_RDONLY | O_CLOEXEC);
    if (self < 0 || target < 0) {
        err_set(&s->err, ERR_SYSTEM, errno, "open %s", s->netns);
        return;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
        err_set(&s->err, ERR_SYSTEM, errno, "enter %s", s->netns);
        return;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
    sa.sin_addr.s_addr = htonl(0x7f00000b); /* 127.0.0.11 */
    int one = 1, saved = 0;
    s->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    s->tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->udp_fd < 0 || s->tcp_fd < 0 ||
        setsockopt(s->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(s->udp_fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
        setsockopt(s->tcp_fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
        bind(s->udp_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        bind(s->tcp_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->tcp_fd, 64) < 0)
        saved = errno ? errno : EIO;
    if (setns(self, CLONE_NEWNET) < 0) {
        /* this thread would run later work in the container's namespace: never go on */
        log_error("setns back to the daemon's network namespace: %s", strerror(errno));
        abort();
    }
    if (saved) {
        err_set(&s->err, ERR_SYSTEM, saved, "listen on 127.0.0.11:53 in %s", s->netns);
        if (s->udp_fd >= 0)
            close(s->udp_fd);
        if (s->tcp_fd >= 0)
            close(s->tcp_fd);
        s->udp_fd = s->tcp_fd = -1;
    }
}

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_udp_query(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                         unsigned flags);
static void on_tcp_conn(uv_stream_t *server, int status);

static void start_after(uv_work_t *w, int status)
{
    struct dns_server *s = w->data;
    s->working = false;
    if (status < 0 && !s->err)
        err_set(&s->err, ERR_SYSTEM, -status, "DNS server");
    if (s->stopped || s->err) {
        if (s->err && !s->stopped)
            log_warn("embedded DNS of %.12s: %s", s->ctr_id, s->err->msg);
        if (s->udp_fd >= 0)
            close(s->udp_fd);
        if (s->tcp_fd >= 0)
            close(s->tcp_fd);
        s->udp_fd = s->tcp_fd = -1;
        server_maybe_free(s); /* when stopped; else dns_stop frees it */
        return;
    }
    uv_loop_t *loop = net_mgr_loop(s->m);
    uv_udp_init(loop, &s->udp);
    s->udp.data = s;
    s->handles++;
    uv_udp_open(&s->udp, s->udp_fd);
    uv_udp_recv_start(&s->udp, on_udp_alloc, on_udp_query);
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    s->handles++;
    uv_tcp_open(&s->tcp, s->tcp_fd);
    uv_listen((uv_stream_t *)&s->tcp, 64, on_tcp_conn);
    s->udp_fd = s->tcp_fd = -1;
}

/* ---- answering ---------------------------------------------------------------------------- */

static bool name_is(const char *q, const char *name)
{
    return name && *name && strcasecmp(q, name) == 0;
}

/* Whether the asking container has a live endpoint on net. */
static bool asker_on(const struct dns_server *s, const struct net_network *net)
{
    for (struct net_endpoint *e = net_mgr_endpoints(s->m); e; e = e->next) {
        if (!e->releasing && e->net == net && strcmp(e->ctr_id, s->ctr_id) == 0)
            return true;
    }
    return false;
}

/* The addresses (network order) name has on the asker's network; *known when it names one of
 * its containers. */
static size_t resolve(const struct dns_server *s, const char *qname, uint32_t *out, size_t cap,
                      bool *known)
{
    *known = false;
    size_t n = 0;
    for (struct net_endpoint *e = net_mgr_endpoints(s->m); e; e = e->next) {
        if (e->releasing || !e->addr || !e->net->user || !asker_on(s, e->net))
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%s", qname);
        size_t nl = strlen(name), netl = strlen(e->net->name);
        if (nl > netl + 1 && name[nl - netl - 1] == '.' &&
            strcasecmp(name + nl - netl, e->net->name) == 0)
            name[nl - netl - 1] = '\0'; /* name.network */
        bool match =
            name_is(name, e->name) || (strlen(name) == 12 && strncmp(name, e->ctr_id, 12) == 0);
        for (char **a = e->aliases; a && *a && !match; a++)
            match = name_is(name, *a);
        if (!match)
            continue;
        *known = true;
        if (n < cap)
            out[n++] = htonl(e->addr);
    }
    return n;
}

/* Where an answer goes. */
struct dns_peer {
    const struct sockaddr *udp;
    struct dns_tcp_conn *conn;
};

struct tcp_write {
    uv_write_t req;
    unsigned char data[];
};

static void on_tcp_written(uv_write_t *req, int status)
{
    (void)status;
    free(req->data);
}

static void reply(struct dns_server *s, const struct dns_peer *to, const unsigned char *msg,
                  size_t len)
{
    if (s->stopped || len > DNS_MAX_MSG)
        return;
    if (to->udp) {
        uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
        (void)uv_udp_try_send(&s->udp, &b, 1, to->udp);
        return;
    }
    if (!to->conn || to->conn->closed)
        return;
    struct tcp_write *w = xmalloc(sizeof(*w) + 2 + len);
    w->req.data = w;
    wr16(w->data, (uint16_t)len);
    memcpy(w->data + 2, msg, len);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(len + 2));
    if (uv_write(&w->req, (uv_stream_t *)&to->conn->h, &b, 1, on_tcp_written) < 0)
        free(w);
}

static void fwd_send(struct dns_fwd *f);

static void fwd_closed(uv_handle_t *h)
{
    struct dns_fwd *f = h->data;
    if (--f->closing > 0)
        return;
    struct dns_server *s = f->s;
    if (f->conn)
        conn_unref(f->conn);
    free(f->query);
    free(f);
    s->inflight--;
    server_maybe_free(s);
}

static void fwd_end(struct dns_fwd *f)
{
    if (f->closing)
        return;
    f->closing = 2;
    uv_close((uv_handle_t *)&f->sock, fwd_closed);
    uv_close((uv_handle_t *)&f->timer, fwd_closed);
}

static void fwd_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = xmalloc(DNS_MAX_MSG);
    buf->len = DNS_MAX_MSG;
}

static void fwd_answer(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                       unsigned flags)
{
    struct dns_fwd *f = h->data;
    (void)flags;
    /* only an answer to this query (same id) ends it */
    if (n >= 12 && from && !f->closing && rd16((unsigned char *)buf->base) == rd16(f->query)) {
        struct dns_peer to = {.udp = f->conn ? NULL : (struct sockaddr *)&f->peer, .conn = f->conn};
        reply(f->s, &to, (unsigned char *)buf->base, (size_t)n);
        fwd_end(f);
    }
    free(buf->base);
}

static void fwd_timeout(uv_timer_t *t)
{
    struct dns_fwd *f = t->data;
    if (f->next_fwd < f->s->nfwd) {
        fwd_send(f);
        return;
    }
    struct dns_question q;
    unsigned char out[512];
    size_t len = 0;
    if (dns_parse_query(f->query, f->qlen, &q) == 0)
        len = dns_build_answer(&q, f->query, 2 /* SERVFAIL */, NULL, 0, out, sizeof(out));
    struct dns_peer to = {.udp = f->conn ? NULL : (struct sockaddr *)&f->peer, .conn = f->conn};
    if (len)
        reply(f->s, &to, out, len);
    fwd_end(f);
}

static void fwd_send(struct dns_fwd *f)
{
    const struct sockaddr *dst = (struct sockaddr *)&f->s->fwd[f->next_fwd++];
    uv_buf_t b = uv_buf_init((char *)f->query, (unsigned)f->qlen);
    (void)uv_udp_try_send(&f->sock, &b, 1, dst);
    uv_timer_start(&f->timer, fwd_timeout, DNS_TIMEOUT_MS, 0);
}

static void forward(struct dns_server *s, const struct dns_peer *to, const unsigned char *msg,
                    size_t len)
{
    struct dns_fwd *f = xcalloc(1, sizeof(*f));
    f->s = s;
    if (to->udp)
        memcpy(&f->peer, to->udp,
               to->udp->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in));
    f->conn = to->conn;
    if (f->conn)
        f->conn->refs++;
    f->query = xmalloc(len);
    memcpy(f->query, msg, len);
    f->qlen = len;
    uv_loop_t *loop = net_mgr_loop(s->m);
    uv_udp_init(loop, &f->sock);
    uv_timer_init(loop, &f->timer);
    f->sock.data = f->timer.data = f;
    s->inflight++;
    struct sockaddr_in any = {.sin_family = AF_INET};
    if (uv_udp_bind(&f->sock, (struct sockaddr *)&any, 0) < 0 ||
        uv_udp_recv_start(&f->sock, fwd_alloc, fwd_answer) < 0) {
        fwd_end(f);
        return;
    }
    fwd_send(f);
}

/* One question from a container: answered here, forwarded, or dropped when malformed. */
static void handle_query(struct dns_server *s, const struct dns_peer *to, const unsigned char *msg,
                         size_t len)
{
    struct dns_question q;
    if (s->stopped || dns_parse_query(msg, len, &q) < 0)
        return;
    uint32_t addrs[16];
    bool known = false;
    size_t n = resolve(s, q.name, addrs, ARRAY_SIZE(addrs), &known);
    unsigned char out[512];
    if (known) {
        /* A records for A; NOERROR with no data for AAAA and the rest */
        size_t alen = dns_build_answer(&q, msg, 0, addrs, q.qtype == 1 ? n : 0, out, sizeof(out));
        if (alen)
            reply(s, to, out, alen);
        return;
    }
    if (!s->nfwd || s->inflight >= DNS_MAX_INFLIGHT) {
        size_t alen = dns_build_answer(&q, msg, s->nfwd ? 2 : 3, NULL, 0, out, sizeof(out));
        if (alen)
            reply(s, to, out, alen);
        return;
    }
    forward(s, to, msg, len);
}

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = xmalloc(DNS_MAX_MSG);
    buf->len = DNS_MAX_MSG;
}

static void on_udp_query(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                         unsigned flags)
{
    struct dns_server *s = h->data;
    (void)flags;
    if (n > 0 && from) {
        struct dns_peer to = {.udp = from};
        handle_query(s, &to, (unsigned char *)buf->base, (size_t)n);
    }
    free(buf->base);
}

/* ---- TCP --------------------------------------------------------------------------------- */

static void conn_freed(uv_handle_t *h)
{
    struct dns_tcp_conn *c = h->data;
    conn_unref(c);
}

static void conn_unref(struct dns_tcp_conn *c)
{
    if (--c->refs > 0)
        return;
    struct dns_server *s = c->s;
    s->handles--;
    free(c);
    server_maybe_free(s);
}

static void conn_close(struct dns_tcp_conn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    for (struct dns_tcp_conn **pp = &c->s->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    uv_close((uv_handle_t *)&c->h, conn_freed);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct dns_tcp_conn *c = h->data;
    (void)hint;
    buf->base = (char *)c->buf + c->len;
    buf->len = sizeof(c->buf) - c->len;
}

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct dns_tcp_conn *c = st->data;
    (void)buf;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    while (c->len >= 2) {
        size_t mlen = rd16(c->buf);
        if (mlen == 0 || mlen > DNS_MAX_MSG) {
            conn_close(c);
            return;
        }
        if (c->len < 2 + mlen)
            return;
        struct dns_peer to = {.conn = c};
        handle_query(c->s, &to, c->buf + 2, mlen);
        if (c->closed)
            return;
        memmove(c->buf, c->buf + 2 + mlen, c->len - 2 - mlen);
        c->len -= 2 + mlen;
    }
}

static void on_tcp_conn(uv_stream_t *server, int status)
{
    struct dns_server *s = server->data;
    if (status < 0 || s->stopped)
        return;
    struct dns_tcp_conn *c = xcalloc(1, sizeof(*c));
    c->s = s;
    c->refs = 1;
    uv_tcp_init(net_mgr_loop(s->m), &c->h);
    c->h.data = c;
    s->handles++;
    c->next = s->conns;
    s->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->h) < 0 ||
        uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read) < 0)
        conn_close(c);
}

/* ---- start and stop ---------------------------------------------------------------------- */

void dns_start(struct net_mgr *m, struct net_endpoint *e)
{
    if (e->dns)
        return;
    struct dns_server *s = xcalloc(1, sizeof(*s));
    s->m = m;
    snprintf(s->ctr_id, sizeof(s->ctr_id), "%s", e->ctr_id);
    s->netns = xstrdup(e->sandbox_key);
    s->udp_fd = s->tcp_fd = -1;
    s->working = true;
    s->work.data = s;
    s->dns = e->dns_fwd ? net_strv_copy(e->dns_fwd) : NULL;
    s->resolv_path = xstrdup(net_mgr_resolv_path(m));
    e->dns = s;
    uv_queue_work(net_mgr_loop(m), &s->work, start_work, start_after);
}

void dns_stop(struct net_endpoint *e)
{
    struct dns_server *s = e->dns;
    if (!s)
        return;
    e->dns = NULL;
    s->stopped = true;
    if (s->working)
        return; /* start_after frees it */
    if (s->handles) {
        for (struct dns_tcp_conn *c = s->conns; c; c = c->next)
            conn_close(c);
        uv_close((uv_handle_t *)&s->udp, server_unref_handle);
        uv_close((uv_handle_t *)&s->tcp, server_unref_handle);
        return;
    }
    server_maybe_free(s);
}
