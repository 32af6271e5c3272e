/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apiload: a small HTTP/1.1 load generator for a daemon listening on a Unix socket.
 *
 * One thread, one epoll set, N keep-alive connections with exactly one request in flight on
 * each. A response is framed by Content-Length or by chunked transfer coding (or, for HEAD and
 * 1xx/204/304, by having no body). Responses with status 200 count as ok; any other status, a
 * malformed response, or a connection that drops with a request in flight counts as an error
 * and the connection is re-opened. Latency is the time from the request's first byte written
 * to the response's last byte read, kept in a log-linear histogram (64 buckets per power of two:
 * within 1.6%).
 *
 * This is a benchmark tool, not part of berthd: it uses only libc and links nothing else.
 *
 * Output, one line on stdout:
 *   apiload method=GET path=/_ping conns=32 seconds=5.002 ok=123456 errors=0 non200=0
 *   rps=24681.2 p50_us=1234.0 p99_us=2345.0 max_us=3456.0
 * Exit status: 0 when at least one response was ok, 1 when none was, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#define LOAD_MAX_CONNS    4096
#define LOAD_MAX_RESPONSE (4 * 1024 * 1024)
#define LOAD_RETRY_NS     (100 * 1000 * 1000LL)

/* Histogram: values below 2^HIST_SUB_BITS ns are exact; above, 2^HIST_SUB_BITS sub-buckets per
 * power of two. */
#define HIST_SUB_BITS 7
#define HIST_SUB      (1 << HIST_SUB_BITS)
#define HIST_BUCKETS  ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
    uint64_t count[HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
};

enum conn_state {
    CONN_DOWN,    /* no socket; reconnect at retry_at */
    CONN_WRITING, /* request partly written */
    CONN_READING, /* request written, waiting for the full response */
};

struct conn {
    int fd;
    enum conn_state state;
    uint32_t watching; /* the epoll events registered for fd */
    size_t wrote;
    int64_t sent_at;
    int64_t retry_at;
    char *buf;
    size_t len;
    size_t cap;
};

struct load {
    const char *sock_path;
    const char *method;
    const char *path;
    int nconns;
    double seconds;
    bool is_head;
    bool poll; /* -p: never sleep in epoll_wait */
    char *request;
    size_t request_len;
    int epfd;
    struct conn *conns;
    struct hist hist;
    uint64_t ok;
    uint64_t errors;
    uint64_t non200;
    uint64_t reconnects;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "apiload: out of memory\n");
        exit(1);
    }
    return q;
}

/* ---- latency histogram -------------------------------------------------------------------- */

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63 - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (HIST_SUB_BITS - 1);
    /* v >> shift is in [HIST_SUB/2 .. HIST_SUB), ie the top HIST_SUB_BITS bits of v. */
    return (shift + 1) * (HIST_SUB / 2) + (unsigned)(v >> shift);
}

/* The upper bound of bucket i's range; the inverse of hist_index. */
static uint64_t hist_value(unsigned i)
{
    if (i < HIST_SUB)
        return i;
    /* hist_index gives (shift + 1) * HIST_SUB / 2 + top with top in [HIST_SUB / 2, HIST_SUB). */
    unsigned shift = i / (HIST_SUB / 2) - 2;
    uint64_t top = i - (uint64_t)(shift + 1) * (HIST_SUB / 2);
    return ((top + 1) << shift) - 1;
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->count[hist_index(v)]++;
    h->total++;
    if (v > h->max)
        h->max = v;
}

static uint64_t hist_quantile(const struct hist *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->total);
    if (rank >= h->total)
        rank = h->total - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen > rank)
            return hist_value(i) < h->max ? hist_value(i) : h->max;
    }
    return h->max;
}

/* ---- response framing --------------------------------------------------------------------- */

/* Find "\r\n\r\n" in buf; return the offset just past it, or 0 when not there yet. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* Case-insensitive search for header NAME at a line start within [buf, buf+hlen); returns a
 * pointer to its value (leading blanks skipped) or NULL. */
static const char *header_value(const char *buf, size_t hlen, const char *name)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i + nlen + 1 < hlen; i++) {
        if (i != 0 && buf[i - 1] != '\n')
            continue;
        if (strncasecmp(buf + i, name, nlen) != 0 || buf[i + nlen] != ':')
            continue;
        const char *v = buf + i + nlen + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        return v;
    }
    return NULL;
}

/* Decode the chunked body starting at buf[off]. Return the offset just past the last chunk's
 * trailer, 0 when incomplete, or (size_t)-1 when malformed. */
static size_t chunked_end(const char *buf, size_t len, size_t off)
{
    for (;;) {
        size_t size = 0;
        size_t i = off;
        int digits = 0;
        for (; i < len; i++) {
            char c = buf[i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                break;
            if (++digits > 8)
                return (size_t)-1;
            size = size * 16 + (size_t)d;
        }
        if (i >= len)
            return 0;
        if (digits == 0)
            return (size_t)-1;
        /* Skip chunk extensions up to CRLF. */
        const char *nl = memchr(buf + i, '\n', len - i);
        if (nl == NULL)
            return 0;
        off = (size_t)(nl - buf) + 1;
        if (size == 0) {
            /* Trailer section: lines until an empty one. */
            for (;;) {
                nl = memchr(buf + off, '\n', len - off);
                if (nl == NULL)
                    return 0;
                size_t line = (size_t)(nl - (buf + off));
                off = (size_t)(nl - buf) + 1;
                if (line == 0 || (line == 1 && buf[off - 2] == '\r'))
                    return off;
            }
        }
        if (len - off < size + 2)
            return 0;
        off += size;
        if (buf[off] != '\r' || buf[off + 1] != '\n')
            return (size_t)-1;
        off += 2;
    }
}

/* Try to frame one response at the start of buf. Return its total length, 0 when more bytes
 * are needed, or (size_t)-1 when it is malformed. *status gets the status code. */
static size_t response_frame(const char *buf, size_t len, bool is_head, int *status)
{
    size_t hlen = head_end(buf, len);
    if (hlen == 0)
        return len > 65536 ? (size_t)-1 : 0;
    if (hlen < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return (size_t)-1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return (size_t)-1;
        code = code * 10 + (buf[i] - '0');
    }
    *status = code;
    if (is_head || (code >= 100 && code < 200) || code == 204 || code == 304)
        return hlen;
    const char *te = header_value(buf, hlen, "Transfer-Encoding");
    if (te != NULL && strncasecmp(te, "chunked", 7) == 0)
        return chunked_end(buf, len, hlen);
    const char *cl = header_value(buf, hlen, "Content-Length");
    if (cl == NULL)
        return (size_t)-1; /* read-until-close bodies are not supported on keep-alive */
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    if (end == cl || n > LOAD_MAX_RESPONSE)
        return (size_t)-1;
    return len - hlen >= n ? hlen + (size_t)n : 0;
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct load *l, struct conn *c, int64_t now)
{
    if (c->fd >= 0) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = CONN_DOWN;
    c->len = 0;
    c->retry_at = now;
}

static void conn_fail(struct load *l, struct conn *c, int64_t now)
{
    l->errors++;
    conn_close(l, c, now);
    c->retry_at = now + LOAD_RETRY_NS;
}

/* Register interest in EVENTS, skipping the syscall when nothing changes. */
static void conn_watch(struct load *l, struct conn *c, uint32_t events, int op)
{
    if (op == EPOLL_CTL_MOD && c->watching == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(l->epfd, op, c->fd, &ev) < 0) {
        perror("apiload: epoll_ctl");
        exit(1);
    }
    c->watching = events;
}

/* Write (the rest of) the request. Return -1 when the connection failed. */
static int conn_send(struct load *l, struct conn *c, int64_t now)
{
    if (c->state != CONN_WRITING) {
        c->state = CONN_WRITING;
        c->wrote = 0;
        c->sent_at = now;
    }
    while (c->wrote < l->request_len) {
        ssize_t n = send(c->fd, l->request + c->wrote, l->request_len - c->wrote, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            conn_watch(l, c, EPOLLOUT, EPOLL_CTL_MOD);
            return 0;
        }
        if (n <= 0)
            return -1;
        c->wrote += (size_t)n;
    }
    c->state = CONN_READING;
    conn_watch(l, c, EPOLLIN, EPOLL_CTL_MOD);
    return 0;
}

static int conn_open(struct load *l, struct conn *c, int64_t now)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->sock_path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("apiload: socket");
        exit(1);
    }
    /* Connect blocking (a Unix connect completes or fails at once), then go non-blocking. */
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        conn_fail(l, c, now);
        return -1;
    }
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->len = 0;
    c->state = CONN_DOWN;
    conn_watch(l, c, EPOLLIN, EPOLL_CTL_ADD);
    if (conn_send(l, c, now) < 0) {
        conn_fail(l, c, now);
        return -1;
    }
    return 0;
}

/* Consume complete responses from c->buf. Return 1 to keep the connection, 0 when the server
 * asked to close it, -1 on a protocol error. */
static int conn_parse(struct load *l, struct conn *c, int64_t now, bool *done)
{
    int status = 0;
    size_t n = response_frame(c->buf, c->len, l->is_head, &status);
    if (n == (size_t)-1)
        return -1;
    if (n == 0)
        return 1;
    if (status >= 100 && status < 200) {
        /* An interim response; the final one follows on the same request. */
        memmove(c->buf, c->buf + n, c->len - n);
        c->len -= n;
        return conn_parse(l, c, now, done);
    }
    size_t hlen = head_end(c->buf, c->len);
    const char *conn_hdr = header_value(c->buf, hlen, "Connection");
    bool keep = conn_hdr == NULL || strncasecmp(conn_hdr, "close", 5) != 0;
    hist_add(&l->hist, (uint64_t)(now - c->sent_at));
    if (status == 200) {
        l->ok++;
    } else {
        l->non200++;
        l->errors++;
    }
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    *done = true;
    return keep ? 1 : 0;
}

static void conn_readable(struct load *l, struct conn *c, int64_t deadline)
{
    for (;;) {
        if (c->cap - c->len < 4096) {
            if (c->cap >= LOAD_MAX_RESPONSE + 65536) {
                conn_fail(l, c, now_ns());
                return;
            }
            c->cap = c->cap ? c->cap * 2 : 16384;
            c->buf = xrealloc(c->buf, c->cap);
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        int64_t now = now_ns();
        if (n <= 0) {
            conn_fail(l, c, now);
            return;
        }
        c->len += (size_t)n;
        bool done = false;
        int r = conn_parse(l, c, now, &done);
        if (r < 0) {
            conn_fail(l, c, now);
            return;
        }
        if (!done)
            continue;
        if (r == 0) {
            l->reconnects++;
            conn_close(l, c, now);
            return;
        }
        if (now >= deadline) {
            c->state = CONN_DOWN; /* finished: send nothing more */
            return;
        }
        if (conn_send(l, c, now) < 0)
            conn_fail(l, c, now);
        return;
    }
}

/* ---- driver ------------------------------------------------------------------------------- */

static void load_run(struct load *l)
{
    int64_t start = now_ns();
    int64_t deadline = start + (int64_t)(l->seconds * 1e9);
    struct epoll_event events[256];

    for (int i = 0; i < l->nconns; i++)
        conn_open(l, &l->conns[i], start);

    for (;;) {
        int64_t now = now_ns();
        if (now >= deadline)
            break;
        int64_t wake = deadline;
        for (int i = 0; i < l->nconns; i++) {
            struct conn *c = &l->conns[i];
            if (c->state != CONN_DOWN || c->fd >= 0)
                continue;
            if (c->retry_at <= now)
                conn_open(l, c, now);
            if (c->state == CONN_DOWN && c->retry_at < wake)
                wake = c->retry_at;
        }
        int timeout_ms = (int)((wake - now + 999999) / 1000000);
        int n = epoll_wait(l->epfd, events, (int)(sizeof(events) / sizeof(events[0])),
                           (timeout_ms < 0 || l->poll) ? 0 : timeout_ms);
        if (n < 0 && errno != EINTR) {
            perror("apiload: epoll_wait");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (c->state == CONN_WRITING) {
                if (conn_send(l, c, now_ns()) < 0)
                    conn_fail(l, c, now_ns());
            } else if (c->state == CONN_READING) {
                conn_readable(l, c, deadline);
            } else if (events[i].events & (EPOLLHUP | EPOLLERR)) {
                conn_close(l, c, now_ns());
            }
        }
    }
    l->seconds = (double)(now_ns() - start) / 1e9;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: apiload [-p] [-m METHOD] SOCKET PATH CONNECTIONS SECONDS\n"
               "  Sends METHOD PATH (default GET) over CONNECTIONS keep-alive connections to the\n"
               "  Unix socket SOCKET for SECONDS and prints one line of key=value results.\n"
               "  -p: poll (epoll_wait with a zero timeout) instead of sleeping between events,\n"
               "      so the client's own wake-up latency is not part of what is measured.\n");
}

static int parse_args(struct load *l, int argc, char **argv)
{
    int opt;
    l->method = "GET";
    while ((opt = getopt(argc, argv, "pm:h")) != -1) {
        if (opt == 'm') {
            l->method = optarg;
        } else if (opt == 'p') {
            l->poll = true;
        } else {
            usage(opt == 'h' ? stdout : stderr);
            exit(opt == 'h' ? 0 : 2);
        }
    }
    if (argc - optind != 4)
        return -1;
    l->sock_path = argv[optind];
    l->path = argv[optind + 1];
    char *end = NULL;
    long conns = strtol(argv[optind + 2], &end, 10);
    if (*end != '\0' || conns < 1 || conns > LOAD_MAX_CONNS)
        return -1;
    l->nconns = (int)conns;
    l->seconds = strtod(argv[optind + 3], &end);
    if (*end != '\0' || !(l->seconds > 0) || l->seconds > 3600)
        return -1;
    if (strlen(l->sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) || l->path[0] != '/')
        return -1;
    l->is_head = strcmp(l->method, "HEAD") == 0;
    return 0;
}

int main(int argc, char **argv)
{
    struct load *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return 1;
    if (parse_args(l, argc, argv) < 0) {
        usage(stderr);
        return 2;
    }
    int len = asprintf(&l->request, "%s %s HTTP/1.1\r\nHost: api\r\nUser-Agent: apiload\r\n\r\n",
                       l->method, l->path);
    if (len < 0)
        return 1;
    l->request_len = (size_t)len;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        perror("apiload: epoll_create1");
        return 1;
    }
    l->conns = calloc((size_t)l->nconns, sizeof(*l->conns));
    if (l->conns == NULL)
        return 1;
    for (int i = 0; i < l->nconns; i++)
        l->conns[i].fd = -1;

    load_run(l);

    printf("apiload method=%s path=%s conns=%d client=%s seconds=%.3f ok=%" PRIu64
           " errors=%" PRIu64 " non200=%" PRIu64 " rps=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
           l->method, l->path, l->nconns, l->poll ? "poll" : "sleep", l->seconds, l->ok, l->errors,
           l->non200, (double)l->ok / l->seconds, (double)hist_quantile(&l->hist, 0.50) / 1000.0,
           (double)hist_quantile(&l->hist, 0.99) / 1000.0, (double)l->hist.max / 1000.0);
    for (int i = 0; i < l->nconns; i++) {
        if (l->conns[i].fd >= 0)
            close(l->conns[i].fd);
        free(l->conns[i].buf);
    }
    free(l->conns);
    int rc = l->ok > 0 ? 0 : 1;
    free(l->request);
    close(l->epfd);
    free(l);
    return rc;
}
