/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client/attach: the interactive half of the CLI. Hijacked connections (attach, exec start),
 * the terminal in raw mode, the detach-key recognizer, signal forwarding and the copy loop
 * between the user's stdio and a hijacked socket. Single-threaded like the rest of the client.
 */
#ifndef BERTH_CLIENT_ATTACH_H
#define BERTH_CLIENT_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "client/cli.h"
#include "client/containers.h"

#define CLI_DETACH_KEYS_MAX     32
#define CLI_DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"

/* ---- detach keys (client/term.c) -------------------------------------------------------- */

/*
 * moby's term.ToBytes: "ctrl-p,ctrl-q" -> 0x10 0x11. Each comma-separated key is one literal
 * character, "ctrl-@".."ctrl-_" (0x00..0x1f) or "DEL" (0x7f); anything else fails with
 * "unknown character: '<key>'". *n gets the count.
 */
int cli_detach_keys_parse(const char *s, unsigned char out[CLI_DETACH_KEYS_MAX], size_t *n,
                          struct err **err);

/*
 * The escape proxy: input bytes are fed as they are read; bytes that may start the detach
 * sequence are held back until the sequence completes (detach: they are never sent) or breaks
 * (they are sent, followed by the byte that broke it, which is not matched again, as moby's
 * proxy does).
 */
struct cli_escape {
    unsigned char keys[CLI_DETACH_KEYS_MAX];
    size_t nkeys; /* 0: no detach keys, everything passes */
    size_t pos;   /* how many keys have matched so far (held back) */
};

void cli_escape_init(struct cli_escape *e, const unsigned char *keys, size_t nkeys);
/* Appends what may be sent now to out; true when the full sequence was read (stop reading). */
bool cli_escape_feed(struct cli_escape *e, const char *in, size_t len, struct sb *out);
/* At the end of input: the held-back bytes, which were not a detach after all. */
void cli_escape_flush(struct cli_escape *e, struct sb *out);

/* ---- the terminal and signals (client/term.c) ------------------------------------------- */

/* TIOCGWINSZ of fd; 0 with rows/cols, -1 when fd is not a terminal. */
int cli_term_size(int fd, unsigned *rows, unsigned *cols);

/*
 * Puts the terminal fd in raw mode (moby's term.MakeRaw: cfmakeraw with VMIN 1, VTIME 0) and
 * registers its restore with atexit() and with the fatal-signal handlers. $NORAW set skips it.
 */
int cli_term_raw(int fd, struct err **err);
/* Restores the saved terminal state; harmless when nothing is saved. Async-signal-safe. */
void cli_term_restore(void);

/*
 * Signal plumbing for the session. Every forwardable signal (all but CHLD, PIPE, URG and the
 * synchronous ones) is caught into a self-pipe when proxy is set; WINCH always is when winch.
 * Without proxy, HUP INT QUIT TERM restore the terminal and kill the CLI with the same signal;
 * so do PIPE and ABRT always. Returns the pipe's read end (non-blocking) or -1 with err.
 */
int cli_signals_start(bool proxy, bool winch, struct err **err);
/* Reads one caught signal from the pipe, 0 when none is pending. */
int cli_signals_next(int fd);
/* Restores the default dispositions and closes the pipe. */
void cli_signals_stop(void);
/* moby's SignalMap name of sig without "SIG" ("INT", "RTMIN+3"); NULL when unnamed. */
const char *cli_signal_name(int sig, char buf[16]);

/* ---- hijacked connections (client/hijack.c) --------------------------------------------- */

/*
 * Sends method path (unversioned: /v<api> is prefixed) with Connection: Upgrade, Upgrade: tcp
 * and reads the reply head into c. 101 leaves c open for raw use (c->rbuf may already hold
 * stream bytes); anything else is an error: the daemon's message for a status >= 400, else
 * "unable to upgrade to tcp, received <code>".
 */
int cli_hijack_open(struct cli_client *cl, const char *method, const char *path, json_t *body,
                    struct cli_conn *c, struct err **err);
/* Reads a hijack reply head from c (exposed for the tests). */
int cli_hijack_response(struct cli_conn *c, struct err **err);

/* A request whose reply head is read now and whose body is read later (wait). */
struct cli_pending {
    struct cli_conn conn;
    bool open;
    int status; /* of the head, 0 until read */
};

/* Sends POST path (unversioned) and reads the reply's head; a status >= 400 is kept for later. */
int cli_pending_post(struct cli_client *cl, struct cli_pending *p, const char *path,
                     struct err **err);
/*
 * Reads the wait body: *code is StatusCode. An Error in the body or an HTTP error is -1 with
 * err holding the daemon's message.
 */
int cli_pending_wait_status(struct cli_pending *p, int *code, struct err **err);
void cli_pending_release(struct cli_pending *p);

/* How a session ended. */
enum cli_pump_end {
    CLI_PUMP_EOF,      /* the daemon closed the output (or there was no output and stdin ended) */
    CLI_PUMP_DETACHED, /* the user typed the detach keys */
    CLI_PUMP_ERROR,
};

/* The copy loop between the user's stdio and a hijacked socket. */
struct cli_pump {
    struct cli_conn *conn;
    int in_fd;     /* -1: no stdin attached (the socket is half-closed at once) */
    bool want_out; /* stdout or stderr attached: keep reading after stdin ends */
    bool tty;      /* raw output; escape keys active on the input */
    struct cli_demux demux;
    struct cli_escape esc;
    int sig_fd; /* cli_signals_start's pipe, or -1 */
    /* Called for each caught signal (forwarding, resize); may be NULL. */
    void (*on_signal)(int sig, void *ud);
    void *ud;
    /* state */
    bool in_done;      /* stdin ended (or was never attached) */
    bool half_closed;  /* shutdown(SHUT_WR) done */
    bool detached;     /* the detach keys were read */
    struct sb pending; /* stdin bytes not yet written to the socket */
};

void cli_pump_init(struct cli_pump *p, struct cli_conn *conn, int in_fd, FILE *out, FILE *errf,
                   bool want_out, bool tty, const unsigned char *keys, size_t nkeys);
void cli_pump_release(struct cli_pump *p);
/*
 * Before start: sends whatever stdin already holds without blocking (piped stdin reaches the
 * daemon, and its EOF too, before the container starts, as docker run does).
 */
int cli_pump_prime(struct cli_pump *p, struct err **err);
/* Runs until the session ends. */
enum cli_pump_end cli_pump_run(struct cli_pump *p, struct err **err);

/* ---- sessions (client/hijack.c) --------------------------------------------------------- */

/*
 * POST /containers/<id>/resize or /exec/<id>/resize with h and w. Failures are returned, not
 * printed.
 */
int cli_resize(struct cli_client *cl, const char *id, bool exec, unsigned h, unsigned w,
               struct err **err);
/*
 * docker's initTtySize: the terminal's size (of stdout) to the container; the first failure is
 * retried up to 10 times ((n+1)*10 ms apart), then "failed to resize tty, using default size".
 */
void cli_resize_init(struct cli_ctx *ctx, const char *id, bool exec);

/* The state shared by a session's signal callback. */
struct cli_session {
    struct cli_ctx *ctx;
    const char *id; /* container or exec id */
    bool exec;
    bool proxy;     /* forward signals as kill?signal=NAME */
    bool resize;    /* WINCH resizes */
    int interrupts; /* INT and TERM seen: the third ends the CLI, as docker's */
};
void cli_session_signal(int sig, void *ud);

/* ---- commands (client/cmd_attach.c) ----------------------------------------------------- */

extern const struct cli_flag cli_attach_flags[], cli_exec_flags[];

/*
 * The attached part of `berth run` after create: attach, wait, start, resize, stream; returns
 * the exit status. autoremove picks wait?condition=removed.
 */
struct cli_run_io {
    bool tty, in, out, err; /* Config.Tty and AttachStdin/Stdout/Stderr as created */
};
int cli_run_attached(struct cli_ctx *ctx, const struct cli_args *args, const char *id,
                     const struct cli_run_io *io, bool autoremove);
/* `berth start -a/-i CONTAINER`. */
int cli_start_attached(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_attach(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_exec(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);

#define CTR_ATTACH_ROW(n)                                                                          \
    .name = n,                                                                                     \
    .summary = "Attach local standard input, output, and error streams to a running container",    \
    .usage = "[OPTIONS] CONTAINER", .flags = cli_attach_flags, .min_args = 1, .max_args = 1,       \
    .run = cli_cmd_attach
#define CTR_EXEC_ROW(n)                                                                            \
    .name = n, .summary = "Execute a command in a running container",                              \
    .usage = "[OPTIONS] CONTAINER COMMAND [ARG...]", .flags = cli_exec_flags, .min_args = 2,       \
    .max_args = -1, .stop_at_args = true, .run = cli_cmd_exec

#endif
