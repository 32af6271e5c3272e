/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The userland proxy on the loop. TCP: accept on the host address, connect to the container,
 * relay both ways; a side stops reading while the other's write queue is over PROXY_HIGH and
 * resumes under PROXY_LOW; an EOF is passed on as a shutdown (half-close); at most
 * PROXY_MAX_CONNS connections per port. UDP: a flow (a connected socket towards the container)
 * per client address, dropped after PROXY_UDP_IDLE_MS without traffic.
 */
#include "daemon/network/ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
    PROXY_BUF = 64 * 1024,
    PROXY_HIGH = 1024 * 1024,
    PROXY_LOW = 256 * 1024,
    PROXY_MAX_CONNS = 4096,
    PROXY_MAX_FLOWS = 1024,
    PROXY_UDP_IDLE_MS = 90 * 1000,
};

struct tcp_conn;
struct udp_flow;

struct proxy {
    bool udp;
    bool closing;
    int pending_closes; /* handles whose close callback has not run */
    struct sockaddr_in target;
    union {
        uv_tcp_t tcp;
        uv_udp_t udp;
    } h;
    uv_timer_t sweep; /* udp */
    struct tcp_conn *conns;
    struct udp_flow *flows;
    size_t nconns, nflows;
    char udp_buf[PROXY_BUF];
};

/* ---- TCP --------------------------------------------------------------------------------- */

struct tcp_side {
    uv_tcp_t h;
    bool eof;    /* read its EOF */
    bool shut;   /* shutdown sent to it */
    bool paused; /* reading stopped for back-pressure */
    bool reading;
};

struct tcp_conn {
    struct proxy *px;
    struct tcp_side s[2]; /* 0: client, 1: container */
    uv_connect_t creq;
    uv_shutdown_t sreq[2];
    bool connected, closing;
    int open_handles;
    struct tcp_conn *prev, *next;
};

struct wreq {
    uv_write_t w;
    struct tcp_conn *c;
    int to;
    char *buf;
};

static void proxy_maybe_free(struct proxy *px)
{
    if (px->closing && px->pending_closes == 0 && !px->conns && !px->flows)
        free(px);
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct tcp_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct proxy *px = c->px;
    if (c->prev)
        c->prev->next = c->next;
    else
        px->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    px->nconns--;
    free(c);
    proxy_maybe_free(px);
}

static void conn_close(struct tcp_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&c->s[i].h, conn_handle_closed);
}

static void side_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = xmalloc(PROXY_BUF);
    buf->len = PROXY_BUF;
}

static void side_start(struct tcp_conn *c, int i)
{
    struct tcp_side *s = &c->s[i];
    if (s->reading || s->eof || c->closing)
        return;
    if (uv_read_start((uv_stream_t *)&s->h, on_alloc, side_read) == 0)
        s->reading = true;
}

static void side_stop(struct tcp_conn *c, int i)
{
    if (!c->s[i].reading)
        return;
    uv_read_stop((uv_stream_t *)&c->s[i].h);
    c->s[i].reading = false;
}

static void maybe_done(struct tcp_conn *c)
{
    if (c->s[0].shut && c->s[1].shut && c->s[0].eof && c->s[1].eof)
        conn_close(c);
}

static void on_shutdown(uv_shutdown_t *r, int status)
{
    struct tcp_conn *c = r->data;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    maybe_done(c);
}

static void on_write(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)w;
    struct tcp_conn *c = r->c;
    int to = r->to, from = 1 - to;
    free(r->buf);
    free(r);
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->s[from].paused && c->s[to].h.write_queue_size <= PROXY_LOW) {
        c->s[from].paused = false;
        side_start(c, from);
    }
}

static void side_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct tcp_conn *c = st->data;
    int from = st == (uv_stream_t *)&c->s[0].h ? 0 : 1, to = 1 - from;
    if (n == 0) {
        free(buf->base);
        return;
    }
    if (n < 0) {
        free(buf->base);
        if (n != UV_EOF) {
            conn_close(c);
            return;
        }
        c->s[from].eof = true;
        side_stop(c, from);
        if (c->s[to].eof && c->s[from].shut && c->s[to].h.write_queue_size == 0 &&
            c->s[from].h.write_queue_size == 0) {
            conn_close(c); /* both ways done and flushed: close() sends the last FIN */
            return;
        }
        c->s[to].shut = true;
        c->sreq[to].data = c;
        if (uv_shutdown(&c->sreq[to], (uv_stream_t *)&c->s[to].h, on_shutdown) < 0)
            conn_close(c);
        return;
    }
    struct wreq *r = xmalloc(sizeof(*r));
    r->c = c;
    r->to = to;
    r->buf = buf->base;
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
    if (uv_write(&r->w, (uv_stream_t *)&c->s[to].h, &b, 1, on_write) < 0) {
        free(r->buf);
        free(r);
        conn_close(c);
        return;
    }
    if (c->s[to].h.write_queue_size > PROXY_HIGH) {
        c->s[from].paused = true;
        side_stop(c, from);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct tcp_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    c->connected = true;
    uv_tcp_nodelay(&c->s[1].h, 1);
    side_start(c, 0);
    side_start(c, 1);
}

static void on_accept(uv_stream_t *server, int status)
{
    struct proxy *px = server->data;
    if (status < 0 || px->closing)
        return;
    struct tcp_conn *c = xcalloc(1, sizeof(*c));
    c->px = px;
    for (int i = 0; i < 2; i++) {
        uv_tcp_init(server->loop, &c->s[i].h);
        c->s[i].h.data = c;
    }
    c->open_handles = 2;
    c->next = px->conns;
    if (px->conns)
        px->conns->prev = c;
    px->conns = c;
    px->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->s[0].h) < 0 || px->nconns > PROXY_MAX_CONNS) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->s[0].h, 1);
    c->creq.data = c;
    if (uv_tcp_connect(&c->creq, &c->s[1].h, (const struct sockaddr *)&px->target, on_connect) < 0)
        conn_close(c);
}

/* ---- UDP --------------------------------------------------------------------------------- */

struct udp_flow {
    struct proxy *px;
    uv_udp_t h; /* connected to the container */
    struct sockaddr_storage client;
    uint64_t last_ms;
    bool closing;
    struct udp_flow *prev, *next;
};

static void flow_closed(uv_handle_t *h)
{
    struct udp_flow *f = h->data;
    struct proxy *px = f->px;
    if (f->prev)
        f->prev->next = f->next;
    else
        px->flows = f->next;
    if (f->next)
        f->next->prev = f->prev;
    px->nflows--;
    free(f);
    proxy_maybe_free(px);
}

static void flow_close(struct udp_flow *f)
{
    if (f->closing)
        return;
    f->closing = true;
    uv_close((uv_handle_t *)&f->h, flow_closed);
}

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct proxy *px = h->data;
    (void)hint;
    buf->base = px->udp_buf;
    buf->len = sizeof(px->udp_buf);
}

static void flow_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct udp_flow *f = h->data;
    udp_alloc((uv_handle_t *)&f->px->h.udp, hint, buf);
}

/* From the container: back to the client through the host socket. */
static void flow_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                      unsigned flags)
{
    struct udp_flow *f = h->data;
    (void)addr;
    (void)flags;
    if (n <= 0 || f->closing || f->px->closing)
        return;
    f->last_ms = uv_now(h->loop);
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
    (void)uv_udp_try_send(&f->px->h.udp, &b, 1, (const struct sockaddr *)&f->client);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const void *)b;
    return b->sa_family == AF_INET && x->sin_port == y->sin_port &&
           x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* From a client: through its flow (made on its first datagram). */
static void host_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                      unsigned flags)
{
    struct proxy *px = h->data;
    (void)flags;
    if (n < 0 || !addr || px->closing || addr->sa_family != AF_INET)
        return;
    struct udp_flow *f = px->flows;
    while (f && (f->closing || !same_addr(&f->client, addr)))
        f = f->next;
    if (!f) {
        if (px->nflows >= PROXY_MAX_FLOWS)
            return;
        f = xcalloc(1, sizeof(*f));
        f->px = px;
        memcpy(&f->client, addr, sizeof(struct sockaddr_in));
        uv_udp_init(h->loop, &f->h);
        f->h.data = f;
        f->next = px->flows;
        if (px->flows)
            px->flows->prev = f;
        px->flows = f;
        px->nflows++;
        if (uv_udp_connect(&f->h, (const struct sockaddr *)&px->target) < 0 ||
            uv_udp_recv_start(&f->h, flow_alloc, flow_recv) < 0) {
            flow_close(f);
            return;
        }
    }
    f->last_ms = uv_now(h->loop);
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
    (void)uv_udp_try_send(&f->h, &b, 1, NULL);
}

static void on_sweep(uv_timer_t *t)
{
    struct proxy *px = t->data;
    uint64_t now = uv_now(t->loop);
    for (struct udp_flow *f = px->flows, *next; f; f = next) {
        next = f->next;
        if (now - f->last_ms >= PROXY_UDP_IDLE_MS)
            flow_close(f);
    }
}

/* ---- open and close ---------------------------------------------------------------------- */

static void px_handle_closed(uv_handle_t *h)
{
    struct proxy *px = h->data;
    px->pending_closes--;
    proxy_maybe_free(px);
}

int proxy_open(uv_loop_t *loop, const char *proto, const char *host_ip, int host_port,
               const char *ctr_ip, int ctr_port, struct proxy **out, struct err **err)
{
    struct sockaddr_in bind_addr;
    if (uv_ip4_addr(host_ip && *host_ip ? host_ip : "0.0.0.0", host_port, &bind_addr) < 0)
        return err_set(err, ERR_INVALID, 0, "invalid host IP address: %s", host_ip);
    struct proxy *px = xcalloc(1, sizeof(*px));
    px->udp = strcmp(proto, "udp") == 0;
    uv_ip4_addr(ctr_ip, ctr_port, &px->target);
    int r;
    if (px->udp) {
        uv_udp_init(loop, &px->h.udp);
        px->h.udp.data = px;
        r = uv_udp_bind(&px->h.udp, (const struct sockaddr *)&bind_addr, 0);
        if (r == 0)
            r = uv_udp_recv_start(&px->h.udp, udp_alloc, host_recv);
    } else {
        uv_tcp_init(loop, &px->h.tcp);
        px->h.tcp.data = px;
        r = uv_tcp_bind(&px->h.tcp, (const struct sockaddr *)&bind_addr, 0);
        if (r == 0)
            r = uv_listen((uv_stream_t *)&px->h.tcp, 511, on_accept);
    }
    if (r < 0) {
        px->closing = true;
        px->pending_closes = 1;
        uv_close((uv_handle_t *)&px->h, px_handle_closed);
        if (r == UV_EADDRINUSE)
            return err_set(err, ERR_CONFLICT, 0, "Bind for %s:%d failed: port is already allocated",
                           host_ip && *host_ip ? host_ip : "0.0.0.0", host_port);
        return err_set(err, ERR_SYSTEM, -r, "listen tcp4 %s:%d: %s",
                       host_ip && *host_ip ? host_ip : "0.0.0.0", host_port, uv_strerror(r));
    }
    if (px->udp) {
        uv_timer_init(loop, &px->sweep);
        px->sweep.data = px;
        uv_timer_start(&px->sweep, on_sweep, 5000, 5000);
        uv_unref((uv_handle_t *)&px->sweep);
    }
    *out = px;
    return 0;
}

void proxy_close(struct proxy *px)
{
    if (!px || px->closing)
        return;
    px->closing = true;
    px->pending_closes = 1;
    uv_close((uv_handle_t *)&px->h, px_handle_closed);
    if (px->udp) {
        px->pending_closes++;
        uv_close((uv_handle_t *)&px->sweep, px_handle_closed);
    }
    for (struct tcp_conn *c = px->conns; c; c = c->next)
        conn_close(c);
    for (struct udp_flow *f = px->flows; f; f = f->next)
        flow_close(f);
}
