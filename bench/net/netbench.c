/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/net/netbench: the server and the clients of bench/net/run.sh, one static binary.
 *
 *   netbench serve PORT WORKERS      HTTP/1.0 server: GET /big answers BIG_MB MiB of zeros,
 *                                    anything else a 100-byte body; one connection per request
 *   netbench get IP PORT             GET /big: prints "bytes seconds MB/s"
 *   netbench rate IP PORT CONNS SEC  CONNS processes, each connect, GET /small, read to EOF,
 *                                    close in a loop for SEC seconds: prints "requests/s errors"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { BIG_MB = 200 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void serve_one(int c, const char *zeros, size_t zlen)
{
    char req[2048];
    size_t got = 0;
    while (got < sizeof(req) - 1) {
        ssize_t r = read(c, req + got, sizeof(req) - 1 - got);
        if (r <= 0)
            return;
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    if (strncmp(req, "GET /big", 8) == 0) {
        char hdr[128];
        size_t total = (size_t)BIG_MB << 20;
        int n = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n", total);
        if (write_all(c, hdr, (size_t)n) < 0)
            return;
        for (size_t sent = 0; sent < total; sent += zlen) {
            if (write_all(c, zeros, total - sent < zlen ? total - sent : zlen) < 0)
                return;
        }
        return;
    }
    static const char small[] = "HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n"
                                "0123456789012345678901234567890123456789012345678901234567890123"
                                "45678901234567890123456789012345678\n";
    (void)write_all(c, small, sizeof(small) - 1);
}

static int serve(int port, int workers)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1024) < 0) {
        perror("netbench serve");
        return 1;
    }
    printf("netbench serving on %d\n", port);
    fflush(stdout);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN);
    size_t zlen = 256 << 10;
    char *zeros = calloc(1, zlen);
    for (int i = 1; i < workers; i++) {
        if (fork() == 0)
            break;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        serve_one(c, zeros, zlen);
        close(c);
    }
}

static int dial(const char *ip, int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    return s;
}

static int get(const char *ip, int port)
{
    static char buf[1 << 20];
    double t0 = now_s();
    int s = dial(ip, port);
    if (s < 0) {
        perror("netbench get: connect");
        return 1;
    }
    static const char req[] = "GET /big HTTP/1.0\r\n\r\n";
    write_all(s, req, sizeof(req) - 1);
    size_t total = 0;
    ssize_t r;
    while ((r = read(s, buf, sizeof(buf))) > 0)
        total += (size_t)r;
    double dt = now_s() - t0;
    close(s);
    if (total < ((size_t)BIG_MB << 20)) {
        fprintf(stderr, "netbench get: short transfer (%zu bytes)\n", total);
        return 1;
    }
    printf("%zu %.3f %.1f\n", total, dt, (double)total / dt / 1e6);
    return 0;
}

static int rate(const char *ip, int port, int conns, double secs)
{
    long *counts = mmap(NULL, sizeof(long) * 2 * (size_t)conns, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    double t_end = now_s() + secs;
    for (int i = 0; i < conns; i++) {
        if (fork() != 0)
            continue;
        long ok = 0, bad = 0;
        char buf[4096];
        static const char req[] = "GET /small HTTP/1.0\r\n\r\n";
        while (now_s() < t_end) {
            int s = dial(ip, port);
            if (s < 0) {
                bad++;
                continue;
            }
            size_t got = 0;
            ssize_t r;
            if (write_all(s, req, sizeof(req) - 1) == 0) {
                while ((r = read(s, buf, sizeof(buf))) > 0)
                    got += (size_t)r;
            }
            close(s);
            if (got >= 100)
                ok++;
            else
                bad++;
        }
        counts[2 * i] = ok;
        counts[2 * i + 1] = bad;
        _exit(0);
    }
    while (wait(NULL) > 0)
        ;
    long ok = 0, bad = 0;
    for (int i = 0; i < conns; i++) {
        ok += counts[2 * i];
        bad += counts[2 * i + 1];
    }
    printf("%.0f %ld\n", (double)ok / secs, bad);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "serve") == 0)
        return serve(atoi(argv[2]), atoi(argv[3]));
    if (argc == 4 && strcmp(argv[1], "get") == 0)
        return get(argv[2], atoi(argv[3]));
    if (argc == 6 && strcmp(argv[1], "rate") == 0)
        return rate(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
    fprintf(stderr, "usage: netbench serve PORT WORKERS | get IP PORT | rate IP PORT CONNS SEC\n");
    return 2;
}
