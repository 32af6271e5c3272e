/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client/containers: the pieces behind the container commands that have no I/O of their own,
 * so the unit tests reach them: the run/create flags turned into docker's create body (the
 * docker CLI's parsers for sizes, CPUs, restart policies, env files, ports and times), the
 * 8-byte stream demultiplexer and docker's ps columns. Single-threaded like the client.
 */
#ifndef BERTH_CLIENT_CONTAINERS_H
#define BERTH_CLIENT_CONTAINERS_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <jansson.h>

#include "api/api.h"
#include "client/cli.h"

/* ---- flag values (client/opts.c) -------------------------------------------------------- */

/* go-units RAMInBytes: "512", "64m", "1.5g", "2GiB" (binary units); "invalid size: 'x'". */
int cli_parse_bytes(const char *s, int64_t *out, struct err **err);
/* opts.ParseCPUs: a rational number of CPUs to nano CPUs ("1.5" -> 1500000000). */
int cli_parse_cpus(const char *s, int64_t *out, struct err **err);
/* opts.ParseRestartPolicy: "no", "always", "on-failure[:N]", "unless-stopped". name owned. */
int cli_parse_restart(const char *s, char **name, int64_t *max_retry, struct err **err);
/*
 * parseKeyValueFile: the lines of an --env-file or --label-file, comments and blank lines
 * dropped; with lookup, a bare NAME becomes NAME=value when set in the environment. Appends
 * to *v (a NULL-terminated vector, *n entries).
 */
int cli_kv_file_read(const char *path, bool lookup, char ***v, size_t *n, struct err **err);
/* nat.ParsePortSpec: adds "80/tcp":{} to exposed and the bindings to bindings. */
int cli_parse_port_spec(const char *spec, json_t *exposed, json_t *bindings, struct err **err);

/*
 * The create body from `berth run`/`berth create` flags: args->argv[0] is the image, the rest
 * the command. detach is -d (run only). console gives the terminal size for -t ([0,0] when
 * stdout is not a terminal). Errors are the docker CLI's words; release c afterwards.
 */
int cli_run_config(const struct cli_args *args, bool detach, const int console[2],
                   struct api_container_config *c, struct err **err);

/* ---- streams (client/ctr_stream.c) ------------------------------------------------------ */

/*
 * The 8-byte framed stream of logs and attach without a TTY: [stream, 0, 0, 0, size(be32)]
 * then the payload; stdout (and stdin) frames go to out, stderr frames to errf. raw passes
 * bytes through to out (TTY containers). Frames may be split anywhere across feeds.
 */
struct cli_demux {
    FILE *out, *errf;
    bool raw;
    unsigned char hdr[8];
    size_t hlen;
    uint32_t remain;
    int stream;
};

void cli_demux_init(struct cli_demux *d, FILE *out, FILE *errf, bool raw);
int cli_demux_feed(struct cli_demux *d, const char *data, size_t len, struct err **err);
/* True when a frame is cut short. */
bool cli_demux_partial(const struct cli_demux *d);

/* ---- ps (client/ctr_stream.c) ----------------------------------------------------------- */

/* Go's strconv.Quote of UTF-8 text. Caller frees. */
char *cli_go_quote(const char *s);
/* formatter.DisplayablePorts of a Ports array: "443/tcp, 0.0.0.0:8080->80/tcp". Caller frees. */
char *cli_ports_display(json_t *ports);
/*
 * One row of docker's container formatter from a GET /containers/json item: every field a
 * string (keys sorted, as {{json .}} prints them). with_label adds "Label" (an object) so that
 * {{.Label "k"}} works.
 */
json_t *cli_ps_row(json_t *item, bool trunc, int64_t now, bool with_label);

/* "/containers/<escaped name><suffix>". Caller frees. */
char *cli_ctr_path(const char *name, const char *suffix);

/* ---- commands (client/cmd_run.c, client/cmd_containers.c, client/ctr_commands.c) -------- */

extern const struct cli_flag cli_create_flags[], cli_run_flags[], cli_start_flags[],
    cli_stop_flags[], cli_kill_flags[], cli_rm_flags[], cli_ps_flags[], cli_logs_flags[],
    cli_container_prune_flags[], cli_container_inspect_flags[];
/* commit, cp and export: one table each for the top-level and the `container` rows */
extern const struct cli_flag cli_commit_flags[], cli_cp_flags[], cli_export_flags[];
extern const struct cli_cmd cli_container_commands[];

int cli_cmd_create(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_run(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_start(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_stop(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_restart(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_kill(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_wait(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_rm(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_rename(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_pause(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_unpause(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_top(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
/* berth port (client/cmd_port.c). */
int cli_cmd_port(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_ps(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_logs(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_container_prune(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_container_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_container(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);

/* The rows shared by `berth <cmd>` and `berth container <sub>`. */
#define CTR_CREATE_ROW(n)                                                                          \
    .name = n, .summary = "Create a new container", .usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]", \
    .flags = cli_create_flags, .min_args = 1, .max_args = -1, .stop_at_args = true,                \
    .run = cli_cmd_create
#define CTR_RUN_ROW(n)                                                                             \
    .name = n, .summary = "Create and run a new container from an image",                          \
    .usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]", .flags = cli_run_flags, .min_args = 1,          \
    .max_args = -1, .stop_at_args = true, .run = cli_cmd_run
#define CTR_START_ROW(n)                                                                           \
    .name = n, .summary = "Start one or more stopped containers",                                  \
    .usage = "[OPTIONS] CONTAINER [CONTAINER...]", .flags = cli_start_flags, .min_args = 1,        \
    .max_args = -1, .run = cli_cmd_start
#define CTR_STOP_ROW(n)                                                                            \
    .name = n, .summary = "Stop one or more running containers",                                   \
    .usage = "[OPTIONS] CONTAINER [CONTAINER...]", .flags = cli_stop_flags, .min_args = 1,         \
    .max_args = -1, .run = cli_cmd_stop
#define CTR_RESTART_ROW(n)                                                                         \
    .name = n, .summary = "Restart one or more containers",                                        \
    .usage = "[OPTIONS] CONTAINER [CONTAINER...]", .flags = cli_stop_flags, .min_args = 1,         \
    .max_args = -1, .run = cli_cmd_restart
#define CTR_KILL_ROW(n)                                                                            \
    .name = n, .summary = "Kill one or more running containers",                                   \
    .usage = "[OPTIONS] CONTAINER [CONTAINER...]", .flags = cli_kill_flags, .min_args = 1,         \
    .max_args = -1, .run = cli_cmd_kill
#define CTR_WAIT_ROW(n)                                                                            \
    .name = n, .summary = "Block until one or more containers stop, then print their exit codes",  \
    .usage = "CONTAINER [CONTAINER...]", .min_args = 1, .max_args = -1, .run = cli_cmd_wait
#define CTR_RM_ROW(n)                                                                              \
    .name = n, .summary = "Remove one or more containers",                                         \
    .usage = "[OPTIONS] CONTAINER [CONTAINER...]", .flags = cli_rm_flags, .min_args = 1,           \
    .max_args = -1, .run = cli_cmd_rm
#define CTR_RENAME_ROW(n)                                                                          \
    .name = n, .summary = "Rename a container", .usage = "CONTAINER NEW_NAME", .min_args = 2,      \
    .max_args = 2, .run = cli_cmd_rename
#define CTR_PAUSE_ROW(n)                                                                           \
    .name = n, .summary = "Pause all processes within one or more containers",                     \
    .usage = "CONTAINER [CONTAINER...]", .min_args = 1, .max_args = -1, .run = cli_cmd_pause
#define CTR_UNPAUSE_ROW(n)                                                                         \
    .name = n, .summary = "Unpause all processes within one or more containers",                   \
    .usage = "CONTAINER [CONTAINER...]", .min_args = 1, .max_args = -1, .run = cli_cmd_unpause
#define CTR_PORT_ROW(n)                                                                            \
    .name = n, .summary = "List port mappings or a specific mapping for the container",            \
    .usage = "CONTAINER [PRIVATE_PORT[/PROTO]]", .min_args = 1, .max_args = 2, .run = cli_cmd_port
#define CTR_TOP_ROW(n)                                                                             \
    .name = n, .summary = "Display the running processes of a container",                          \
    .usage = "CONTAINER [ps OPTIONS]", .min_args = 1, .max_args = -1, .stop_at_args = true,        \
    .run = cli_cmd_top
#define CTR_PS_ROW(n)                                                                              \
    .name = n, .summary = "List containers", .usage = "[OPTIONS]", .flags = cli_ps_flags,          \
    .max_args = 0, .run = cli_cmd_ps
#define CTR_LOGS_ROW(n)                                                                            \
    .name = n, .summary = "Fetch the logs of a container", .usage = "[OPTIONS] CONTAINER",         \
    .flags = cli_logs_flags, .min_args = 1, .max_args = 1, .run = cli_cmd_logs

#endif
