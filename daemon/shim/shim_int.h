/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the berth-shim executable: its one state object, shared by main.c and monitor.c. */
#ifndef BERTH_SHIM_INT_H
#define BERTH_SHIM_INT_H

#include "daemon/logs/logs.h"
#include "api/api.h"
#include "daemon/shim/shim.h"

#define SHIM_IO_BUF          (64 * 1024)   /* one read of container output */
#define SHIM_CLIENT_IN       (256 * 1024)  /* longest request line (an exec carries its env) */
#define SHIM_CLIENT_OUT      (64 * 1024)   /* a control client this far behind is dropped */
#define SHIM_STREAM_OUT      (1024 * 1024) /* an attach session this far behind pauses the output */
#define SHIM_STREAM_STALL_MS 2000          /* ...and is dropped if it has not caught up by then */
#define SHIM_STREAM_HARD     (4 * SHIM_STREAM_OUT) /* queued past this (final drain): dropped */
#define SHIM_STDIN_MAX       (1024 * 1024) /* stdin queued for a process (before it reads) */
#define SHIM_MAX_CLIENTS     64
#define SHIM_DRAIN_MS        2000 /* how long output is drained after the container exits */
#define SHIM_LINGER_IDLE_MS  50   /* after the exit: leave when clients are this quiet... */
#define SHIM_LINGER_MAX_MS   1000 /* ...or after this long in any case */

/* Stream frame types (the 8-byte header docker uses: [type,0,0,0,len BE32]). */
#define SHIM_FRAME_STDOUT 1
#define SHIM_FRAME_STDERR 2
#define SHIM_FRAME_EXIT   3 /* API_SHIM_FRAME_EXIT */

enum shim_watch_kind {
    W_SIGNAL,
    W_LISTEN,
    W_STDOUT,
    W_STDERR,
    W_CLIENT,
    W_SINK,
    W_EXEC_OUT,
    W_EXEC_ERR,
};

/* The epoll cookie: first member of everything registered. */
struct shim_watch {
    enum shim_watch_kind kind;
    int fd;
};

/* Bytes waiting for a non-blocking fd; consumed from the front without a memmove per write. */
struct shim_queue {
    struct sb b;
    size_t off;
};

/*
 * A process's stdin: the write end of its pipe (or a dup of its pty master). Bytes from stdin
 * sessions queue here (whole chunks, in arrival order) and are written when the fd takes them
 * and the process exists (active).
 */
struct shim_sink {
    struct shim_watch w; /* W_SINK; fd -1 once closed */
    struct shim_queue q;
    bool active;             /* the process exists: write */
    bool close_when_drained; /* stdin finished: close the fd once q is written */
    bool armed;              /* registered for EPOLLOUT */
};

enum shim_client_mode { CM_CONTROL, CM_ATTACH, CM_EXEC };

struct shim_exec;

struct shim_client {
    struct shim_watch w;
    enum shim_client_mode mode;
    struct sb in; /* a partial request line (control mode) */
    struct shim_queue out;
    uint32_t events; /* epoll interest now registered */
    bool waiting;    /* asked `wait`: gets the exit message */
    /* attach and exec streams */
    bool want_stdout, want_stderr;
    bool has_stdin;  /* asked for stdin */
    bool stdin_open; /* still reading stdin from this connection */
    bool closing;    /* the exit frame is queued: close once flushed */
    /* attach: CLOCK_MONOTONIC ms since when over SHIM_STREAM_OUT (0: it is not) */
    int64_t behind_since_ms;
    struct shim_exec *exec;
    struct shim_client *next;
};

/* A process started by the exec op; its output goes to its one session, not to the log. */
struct shim_exec {
    struct shim_watch out, err; /* W_EXEC_OUT/ERR; fd -1 at EOF (err is -1 with a tty) */
    struct shim_sink sink;      /* fd -1 without stdin */
    int pty;                    /* the pty master for resize, or -1 */
    char *id;
    pid_t pid;
    bool exited;
    int exit_code;
    bool throttled; /* output not read while the session is SHIM_STREAM_OUT behind */
    int64_t drain_until_ms;
    struct shim_client *client; /* NULL once the session is gone */
    struct shim_exec *next;
};

struct shim {
    char *bundle;
    struct shim_config cfg;
    int epfd;
    int sync_fd;                             /* fd 3 from berthd until the first reply, else -1 */
    struct shim_watch sig, listen, out, err; /* out/err fd is -1 once at EOF */
    struct shim_sink in;                     /* the container's stdin (fd -1: /dev/null) */
    int pty;                                 /* the container's pty master, or -1 */
    int child_stdio[3];                      /* the container's ends until it is created */
    struct logs_writer *log;
    pid_t pid;         /* 0 until created */
    bool start_failed; /* {"op":"start"} failed: leave */
    /* the exit, set when the container is reaped */
    bool exited;
    bool finalized; /* exit file written: `wait` answers go out */
    int exit_code;
    bool oom_killed;
    char finished_at[40];
    int64_t drain_until_ms; /* CLOCK_MONOTONIC ms: give up on lingering writers then */
    bool out_paused;        /* an attach session is behind: out/err are not read meanwhile */
    /* log write failures: counted, reported once when they start and once when they end */
    uint64_t log_failures;
    struct shim_client *clients;
    size_t nclients;
    struct shim_exec *execs;
    char iobuf[SHIM_IO_BUF];
};

/* main.c: creates the container on the prepared stdio (rt_create) and writes shim.pid. */
int shim_create(struct shim *s, struct err **err);

/* monitor.c: runs the event loop until the container has exited and everything is flushed. */
int shim_monitor_run(struct shim *s, struct err **err);
/* The status message for s, '\n'-terminated (caller frees). */
char *shim_status_line(const struct shim *s);
char *shim_error_line(const char *msg);
int64_t shim_mono_ms(void);
int shim_ep_ctl(struct shim *s, int op, struct shim_watch *w, uint32_t events);
/* Queues line (taking it) for a control client. */
void shim_client_send(struct shim *s, struct shim_client *c, char *line);
void shim_client_drop(struct shim *s, struct shim_client *c);

/* stream.c: byte queues */
size_t shim_queue_len(const struct shim_queue *q);
const char *shim_queue_data(const struct shim_queue *q);
void shim_queue_add(struct shim_queue *q, const void *data, size_t len);
void shim_queue_consume(struct shim_queue *q, size_t n);
void shim_queue_release(struct shim_queue *q);

/* stream.c: attach sessions, stdin sinks and the fan-out of output. */
void shim_sink_init(struct shim_sink *k, int fd);
void shim_sink_pump(struct shim *s, struct shim_sink *k);
void shim_sink_close(struct shim *s, struct shim_sink *k);
/* Recomputes c's epoll interest (stdin read unless its sink is full; EPOLLOUT when behind). */
void shim_client_update(struct shim *s, struct shim_client *c);
/* Sends what c has queued; a closing session is dropped once everything went out. */
void shim_client_flush(struct shim *s, struct shim_client *c);
/* The op attach: c becomes an attach session; rest is stdin that came with the request. */
void shim_attach_begin(struct shim *s, struct shim_client *c, const struct api_shim_msg *m);
/* Stream sessions: stdin bytes or EOF from the connection. */
void shim_stream_readable(struct shim *s, struct shim_client *c);
void shim_stream_input(struct shim *s, struct shim_client *c, const char *data, size_t len);
/* A session is going away (drop): its stdin ends. */
void shim_stream_gone(struct shim *s, struct shim_client *c);
/* Queues one frame; false when c went over its limit (attach: dropped). */
bool shim_stream_frame(struct shim *s, struct shim_client *c, int type, const void *data,
                       size_t len);
/* Container output to every attach session that wants it. */
void shim_attach_output(struct shim *s, int type, const char *data, size_t len);
/* The exit frame (BE32 code); c is closed once it is flushed. */
void shim_stream_exit(struct shim *s, struct shim_client *c, int code);
/* The container finished: the exit frame to every attach session, closed once flushed. */
void shim_attach_exit(struct shim *s);
/*
 * Drops the attach sessions that have been behind for SHIM_STREAM_STALL_MS; returns the
 * earliest deadline of those still behind (or -1).
 */
int64_t shim_attach_tick(struct shim *s);
/* TIOCSWINSZ; 0 or -errno. */
int shim_resize(int fd, int h, int w);

/* exec.c */
void shim_exec_begin(struct shim *s, struct shim_client *c, const struct api_shim_msg *m);
void shim_exec_resize(struct shim *s, struct shim_client *c, const struct api_shim_msg *m);
void shim_exec_readable(struct shim *s, struct shim_watch *w);
/* The session c of exec e caught up (or went): read its output again. */
void shim_exec_unthrottle(struct shim *s, struct shim_exec *e);
/* Routes a reaped pid: true when it was an exec. */
bool shim_exec_reaped(struct shim *s, pid_t pid, int status);
/* Finishes execs whose output is drained; returns the earliest pending drain deadline (or -1). */
int64_t shim_exec_tick(struct shim *s);
/* The container exited: kill what is left of its execs. */
void shim_exec_kill_all(struct shim *s);
/* Finish every exec now (the shim leaves). */
void shim_exec_finish_all(struct shim *s);
bool shim_exec_any(const struct shim *s);

#endif
