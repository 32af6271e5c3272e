/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client: the berth CLI. The command table, flag parsing, usage text and the context every
 * command runs with. Single-threaded.
 */
#ifndef BERTH_CLIENT_CLI_H
#define BERTH_CLIENT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "client/http.h"
#include "common/common.h"

#define CLI_MAX_FLAGS 64

enum cli_flag_type {
    CLI_FLAG_BOOL,
    CLI_FLAG_STRING,
    CLI_FLAG_LIST, /* repeatable: every value is kept */
};

struct cli_flag {
    const char *name; /* long name without "--" */
    char shorthand;   /* 0 when none */
    enum cli_flag_type type;
    const char *arg;  /* the value's name in usage: "string", "list" */
    const char *help; /* may contain '\n' for continuation lines */
    const char *def;  /* default shown in usage, or NULL */
    bool hidden;
};

struct cli_flag_val {
    bool set;
    const char *str;   /* CLI_FLAG_STRING: the last value; CLI_FLAG_BOOL: "true"/"false" */
    const char **list; /* CLI_FLAG_LIST: every value, owned array of borrowed strings */
    size_t nlist;
};

enum cli_group {
    CLI_GROUP_COMMON = 0,
    CLI_GROUP_MANAGEMENT,
    CLI_GROUP_OTHER,
    CLI_GROUP_COUNT,
};

struct cli_ctx;
struct cli_args;

/*
 * A command. run returns 0, -1 with *err set (main prints err->msg, exits 1), or a positive
 * exit status after printing its own errors.
 */
struct cli_cmd {
    const char *name;
    const char *summary;     /* one line, in `berth --help` */
    const char *usage;       /* after "berth <name> ": "[OPTIONS]" */
    const char *description; /* shown by `berth <name> --help`; summary when NULL */
    const char *aliases;     /* "berth system info, berth info" or NULL */
    enum cli_group group;
    const struct cli_flag *flags; /* terminated by {.name = NULL} */
    int min_args, max_args;       /* max_args -1: unbounded */
    bool stop_at_args;            /* flags end at the first argument (run, exec) */
    bool hidden;
    int (*run)(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
};

struct cli_args {
    const struct cli_cmd *cmd;
    struct cli_flag_val vals[CLI_MAX_FLAGS]; /* parallel to cmd->flags */
    int argc;
    char **argv; /* positional arguments, borrowed */
};

struct cli_ctx {
    const char *host_flag; /* -H, or NULL */
    struct cli_client client;
    bool client_ready;
    bool debug; /* -D */
    FILE *out, *errf;
};

/* The command table (client/commands.c), terminated by {.name = NULL}. */
extern const struct cli_cmd cli_commands[];
const struct cli_cmd *cli_cmd_find(const char *name);
/* The root pseudo-command (client/args.c): the global flags, stopping at the command name. */
extern const struct cli_cmd cli_root_cmd;

/*
 * Parses argv (after the command name) into a. Returns 0 when the command should run, or 1
 * when parsing already finished the job (--help, a usage error) with *status the exit status.
 */
int cli_args_parse(struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc, char **argv,
                   struct cli_args *a, int *status);
void cli_args_release(struct cli_args *a);
const struct cli_flag_val *cli_flag(const struct cli_args *a, const char *name);
const char *cli_flag_str(const struct cli_args *a, const char *name); /* NULL when unset */
bool cli_flag_bool(const struct cli_args *a, const char *name);

/* `berth <cmd> --help` text, and `berth --help`. */
void cli_usage_cmd(FILE *out, const struct cli_cmd *cmd);

/* A prune's answer as docker prints it: "<title>:" and the names of reply[key] (when any),
 * then "Total reclaimed space: <size>". */
void cli_print_pruned(struct cli_ctx *ctx, const char *title, const json_t *reply, const char *key);

/* A management command's subcommands ("berth network ls"). */
struct cli_subcommands {
    const char *group;           /* "network" */
    const struct cli_cmd *table; /* "<group> <sub>" commands, NULL-name terminated */
    const char *const *aliases;  /* "list", "ls", ..., NULL: other names for them (may be NULL) */
    const char *unknown[2];      /* the message for an unknown one: before and after its name; NULL:
                                    berth's own */
};
/* Runs args->argv[0] of g with the rest; no argument prints the command's usage; an unknown
 * one prints g's message and returns 1. */
int cli_run_subcommand(struct cli_ctx *ctx, const struct cli_args *args,
                       const struct cli_subcommands *g, struct err **err);
void cli_usage_main(FILE *out);
/* The Options block of a flag table. */
void cli_usage_flags(FILE *out, const struct cli_flag *flags);
/* Prints "<msg>\n\nUsage:  berth <cmd> <usage>\n\nRun 'berth <cmd> --help' ..."; returns 125. */
int cli_usage_error(struct cli_ctx *ctx, const struct cli_cmd *cmd, int status, const char *msg);

/* The connected client, created on first use from -H / BERTH_HOST. */
int cli_ctx_client(struct cli_ctx *ctx, struct cli_client **out, struct err **err);

/* Commands (client/cmd_*.c). */
int cli_cmd_version(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_info(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_help(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
/* Image commands (client/cmd_images.c, client/cmd_pull.c, client/auth.c). */
int cli_cmd_pull(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_images(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_history(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_image_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_tag(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_rmi(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_save(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_load(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
/* Container files as tars (client/cmd_cp.c). */
int cli_cmd_export(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_import(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_cp(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_login(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_logout(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_image_prune(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
/* `berth image <sub>`: runs a row of cli_image_commands (named "image ls", ...). */
int cli_cmd_image(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
/* berth network <sub> (client/cmd_network.c). */
int cli_cmd_network(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
/* berth volume <sub> (client/cmd_volume.c). */
int cli_cmd_volume(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
/* berth diff and berth commit (client/cmd_commit.c). */
int cli_cmd_diff(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_commit(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
extern const struct cli_cmd cli_image_commands[];
/* berth events and berth system <sub> (client/cmd_events.c). */
int cli_cmd_events(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
int cli_cmd_system(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
extern const struct cli_flag cli_events_flags[];
extern const struct cli_cmd cli_system_commands[];

/* Facts about this client binary (client/cmd_system.c). */
const char *cli_compiler(void);
const char *cli_arch(void);        /* Go's GOARCH names: amd64, arm64, ... */
void cli_build_time(char out[64]); /* "Fri May 30 12:07:14 2025" */
/* 23.46GiB, as docker's units.BytesSize prints. */
void cli_human_bytes(double bytes, char out[32]);

#endif
