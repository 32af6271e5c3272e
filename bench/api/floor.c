/* SPDX-License-Identifier: Apache-2.0 */
/*
 * floor: the fastest answer a one-threaded server can give on this machine, for bench/api's
 * "floor" rows. It listens on a Unix socket and answers every request (anything ending in an
 * empty line) with the bytes berthd sends for GET /_ping, without parsing, routing or
 * allocating. It never sleeps: one thread calls epoll_wait with a zero timeout in a loop, so the
 * wake-up of a sleeping server is never paid. Whatever rate apiload reaches against it is an
 * upper bound for any server, berthd included, with the same client on the same machine.
 *
 * This is a benchmark tool, not part of berthd: it uses only libc and links nothing else.
 *
 * Usage: floor SOCKET   (runs until SIGTERM or SIGINT; removes SOCKET when it exits)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FLOOR_BUF 16384

/* The request terminator, tracked across reads: how many of "\r\n\r\n" were seen last. */
struct floor_conn {
    int fd;
    int matched;
};

static volatile sig_atomic_t floor_stop;

static void floor_on_signal(int sig)
{
    (void)sig;
    floor_stop = 1;
}

/* berthd's answer to GET /_ping, with a Date refreshed once a second. */
static char floor_resp[512];
static size_t floor_resp_len;
static time_t floor_resp_at;

static void floor_resp_update(void)
{
    time_t now = time(NULL);
    char date[64];
    struct tm tm;
    int n;

    if (now == floor_resp_at)
        return;
    floor_resp_at = now;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    n = snprintf(floor_resp, sizeof(floor_resp),
                 "HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\nDocker-Experimental: false\r\n"
                 "Ostype: linux\r\nServer: Berth/0.1.0 (linux)\r\nDate: %s\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Cache-Control: no-cache, no-store, must-revalidate\r\nPragma: no-cache\r\n"
                 "Swarm: inactive\r\nContent-Length: 2\r\n\r\nOK",
                 date);
    floor_resp_len = (size_t)n;
}

/* Counts the requests that end in buf (given what the connection had matched before). */
static int floor_count(struct floor_conn *c, const char *buf, size_t len)
{
    static const char end[] = "\r\n\r\n";
    int done = 0;

    for (size_t i = 0; i < len; i++) {
        if (buf[i] == end[c->matched])
            c->matched++;
        else
            c->matched = buf[i] == '\r' ? 1 : 0;
        if (c->matched == 4) {
            done++;
            c->matched = 0;
        }
    }
    return done;
}

static void floor_close(int ep, struct floor_conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Reads what the client sent and answers each complete request; false when it hung up. */
static bool floor_serve(struct floor_conn *c)
{
    char buf[FLOOR_BUF];

    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        int reqs;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return true;
        if (n <= 0)
            return false;
        reqs = floor_count(c, buf, (size_t)n);
        if (reqs)
            floor_resp_update();
        while (reqs-- > 0) {
            /* A response is a few hundred bytes: the socket buffer takes it whole unless the
             * client stops reading, and apiload never does. */
            if (write(c->fd, floor_resp, floor_resp_len) != (ssize_t)floor_resp_len)
                return false;
        }
        if ((size_t)n < sizeof(buf))
            return true;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct epoll_event ev = {.events = EPOLLIN}, evs[64];
    struct sigaction sa = {.sa_handler = floor_on_signal};
    int lfd, ep;

    if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "usage: floor SOCKET\n");
        return 2;
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    strcpy(addr.sun_path, argv[1]);
    unlink(argv[1]);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 1024) < 0) {
        fprintf(stderr, "floor: listen on %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    ev.data.ptr = NULL; /* the listener */
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
        fprintf(stderr, "floor: epoll: %s\n", strerror(errno));
        return 1;
    }
    while (!floor_stop) {
        int n = epoll_wait(ep, evs, 64, 0);

        for (int i = 0; i < n; i++) {
            struct floor_conn *c = evs[i].data.ptr;

            if (!c) {
                int fd;

                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    c = calloc(1, sizeof(*c));
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    ev.data.ptr = c;
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        close(fd);
                        free(c);
                    }
                }
                continue;
            }
            if (!floor_serve(c))
                floor_close(ep, c);
        }
    }
    unlink(argv[1]);
    return 0;
}
