/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the berth-shim executable: its one state object, shared by main.c and monitor.c. */
#ifndef BERTH_SHIM_INT_H
#define BERTH_SHIM_INT_H

#include "daemon/logs/logs.h"
#include "daemon/shim/shim.h"

#define SHIM_IO_BUF         (64 * 1024) /* one read of container output */
#define SHIM_CLIENT_IN      4096        /* longest request line */
#define SHIM_CLIENT_OUT     (64 * 1024) /* a client this far behind is dropped */
#define SHIM_MAX_CLIENTS    64
#define SHIM_DRAIN_MS       2000 /* how long output is drained after the container exits */
#define SHIM_LINGER_IDLE_MS 50   /* after the exit: leave when clients are this quiet... */
#define SHIM_LINGER_MAX_MS  1000 /* ...or after this long in any case */

enum shim_watch_kind { W_SIGNAL, W_LISTEN, W_STDOUT, W_STDERR, W_CLIENT };

/* The epoll cookie: first member of everything registered. */
struct shim_watch {
    enum shim_watch_kind kind;
    int fd;
};

struct shim_client {
    struct shim_watch w;
    char in[SHIM_CLIENT_IN];
    size_t in_len;
    struct sb out;
    bool waiting; /* asked `wait`: gets the exit message */
    bool want_out;
    struct shim_client *next;
};

struct shim {
    char *bundle;
    struct shim_config cfg;
    int epfd;
    int sync_fd;                             /* fd 3 from berthd until the first reply, else -1 */
    struct shim_watch sig, listen, out, err; /* out/err fd is -1 once at EOF */
    int stdin_fd;                            /* write end kept for attach (or the pty master) */
    struct logs_writer *log;
    pid_t pid;
    /* the exit, set when the container is reaped */
    bool exited;
    bool finalized; /* exit file written: `wait` answers go out */
    int exit_code;
    bool oom_killed;
    char finished_at[40];
    int64_t drain_until_ms; /* CLOCK_MONOTONIC ms: give up on lingering writers then */
    /* log write failures: counted, reported once when they start and once when they end */
    uint64_t log_failures;
    struct shim_client *clients;
    size_t nclients;
    char iobuf[SHIM_IO_BUF];
};

/* monitor.c: runs the event loop until the container has exited and everything is flushed. */
int shim_monitor_run(struct shim *s, struct err **err);
/* The status message for s, '\n'-terminated (caller frees). */
char *shim_status_line(const struct shim *s);

#endif
