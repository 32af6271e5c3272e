/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command table. A new command is one row here, its run function in a client/cmd_*.c file
 * and its prototype in cli.h.
 */
#include <string.h>

#include "api/units.h"
#include "client/cli.h"
#include "client/attach.h"
#include "client/containers.h"

static const struct cli_flag format_flags[] = {
    {.name = "format",
     .shorthand = 'f',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Format output using a custom template:\n"
             "'json':             Print in JSON format\n"
             "'TEMPLATE':         Print output using the given\n"
             "Go template."},
    {.name = NULL},
};

#define FORMAT_HELP_LIST                                                                           \
    "Format output using a custom template:\n"                                                     \
    "'table':            Print output in table format with column headers (default)\n"             \
    "'table TEMPLATE':   Print output in table format using the given Go template\n"               \
    "'json':             Print in JSON format\n"                                                   \
    "'TEMPLATE':         Print output using the given Go template.\n"                              \
    "Refer to https://docs.docker.com/go/formatting/ for more information about formatting\n"      \
    "output with templates"

static const struct cli_flag pull_flags[] = {
    {.name = "all-tags",
     .shorthand = 'a',
     .type = CLI_FLAG_BOOL,
     .help = "Download all tagged images in the repository"},
    {.name = "platform",
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Set platform if server is multi-platform capable"},
    {.name = "quiet", .shorthand = 'q', .type = CLI_FLAG_BOOL, .help = "Suppress verbose output"},
    {.name = NULL},
};

static const struct cli_flag images_flags[] = {
    {.name = "all",
     .shorthand = 'a',
     .type = CLI_FLAG_BOOL,
     .help = "Show all images (default hides intermediate images)"},
    {.name = "digests", .type = CLI_FLAG_BOOL, .help = "Show digests"},
    {.name = "filter",
     .shorthand = 'f',
     .type = CLI_FLAG_LIST,
     .arg = "filter",
     .help = "Filter output based on conditions provided"},
    {.name = "format", .type = CLI_FLAG_STRING, .arg = "string", .help = FORMAT_HELP_LIST},
    {.name = "no-trunc", .type = CLI_FLAG_BOOL, .help = "Don't truncate output"},
    {.name = "quiet", .shorthand = 'q', .type = CLI_FLAG_BOOL, .help = "Only show image IDs"},
    {.name = NULL},
};

static const struct cli_flag history_flags[] = {
    {.name = "format", .type = CLI_FLAG_STRING, .arg = "string", .help = FORMAT_HELP_LIST},
    {.name = "human",
     .shorthand = 'H',
     .type = CLI_FLAG_BOOL,
     .help = "Print sizes and dates in human readable format",
     .def = "true"},
    {.name = "no-trunc", .type = CLI_FLAG_BOOL, .help = "Don't truncate output"},
    {.name = "quiet", .shorthand = 'q', .type = CLI_FLAG_BOOL, .help = "Only show image IDs"},
    {.name = NULL},
};

static const struct cli_flag inspect_flags[] = {
    {.name = "format",
     .shorthand = 'f',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Format output using a custom template:\n"
             "'json':             Print in JSON format\n"
             "'TEMPLATE':         Print output using the given Go template."},
    {.name = "size",
     .shorthand = 's',
     .type = CLI_FLAG_BOOL,
     .help = "Display total file sizes if the type is container"},
    {.name = "type",
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Only inspect objects of the given type"},
    {.name = NULL},
};

static const struct cli_flag rmi_flags[] = {
    {.name = "force",
     .shorthand = 'f',
     .type = CLI_FLAG_BOOL,
     .help = "Force removal of the image"},
    {.name = "no-prune", .type = CLI_FLAG_BOOL, .help = "Do not delete untagged parents"},
    {.name = NULL},
};

static const struct cli_flag save_flags[] = {
    {.name = "output",
     .shorthand = 'o',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Write to a file, instead of STDOUT"},
    {.name = NULL},
};

static const struct cli_flag load_flags[] = {
    {.name = "input",
     .shorthand = 'i',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Read from tar archive file, instead of STDIN"},
    {.name = "quiet", .shorthand = 'q', .type = CLI_FLAG_BOOL, .help = "Suppress the load output"},
    {.name = NULL},
};

static const struct cli_flag import_flags[] = {
    {.name = "change",
     .shorthand = 'c',
     .type = CLI_FLAG_LIST,
     .arg = "list",
     .help = "Apply Dockerfile instruction to the created image"},
    {.name = "message",
     .shorthand = 'm',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Set commit message for imported image"},
    {.name = "platform",
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Set platform if server is multi-platform capable"},
    {.name = NULL},
};

static const struct cli_flag login_flags[] = {
    {.name = "password",
     .shorthand = 'p',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Password"},
    {.name = "password-stdin", .type = CLI_FLAG_BOOL, .help = "Take the password from stdin"},
    {.name = "username",
     .shorthand = 'u',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Username"},
    {.name = NULL},
};

static const struct cli_flag prune_flags[] = {
    {.name = "all",
     .shorthand = 'a',
     .type = CLI_FLAG_BOOL,
     .help = "Remove all unused images, not just dangling ones"},
    {.name = "filter",
     .type = CLI_FLAG_LIST,
     .arg = "filter",
     .help = "Provide filter values (e.g. \"until=<timestamp>\")"},
    {.name = "force",
     .shorthand = 'f',
     .type = CLI_FLAG_BOOL,
     .help = "Do not prompt for confirmation"},
    {.name = NULL},
};

/* The rows shared by `berth <cmd>` and `berth image <sub>`. */
#define PULL_ROW(n)                                                                                \
    .name = n, .summary = "Download an image from a registry",                                     \
    .usage = "[OPTIONS] NAME[:TAG|@DIGEST]", .flags = pull_flags, .min_args = 1, .max_args = 1,    \
    .run = cli_cmd_pull
#define IMAGES_ROW(n)                                                                              \
    .name = n, .summary = "List images", .usage = "[OPTIONS] [REPOSITORY[:TAG]]",                  \
    .flags = images_flags, .max_args = 1, .run = cli_cmd_images
#define HISTORY_ROW(n)                                                                             \
    .name = n, .summary = "Show the history of an image", .usage = "[OPTIONS] IMAGE",              \
    .flags = history_flags, .min_args = 1, .max_args = 1, .run = cli_cmd_history
#define TAG_ROW(n)                                                                                 \
    .name = n, .summary = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",                 \
    .usage = "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", .min_args = 2, .max_args = 2,                \
    .run = cli_cmd_tag
#define RMI_ROW(n)                                                                                 \
    .name = n, .summary = "Remove one or more images", .usage = "[OPTIONS] IMAGE [IMAGE...]",      \
    .flags = rmi_flags, .min_args = 1, .max_args = -1, .run = cli_cmd_rmi
#define SAVE_ROW(n)                                                                                \
    .name = n,                                                                                     \
    .summary = "Save one or more images to a tar archive (streamed to STDOUT by default)",         \
    .usage = "[OPTIONS] IMAGE [IMAGE...]", .flags = save_flags, .min_args = 1, .max_args = -1,     \
    .run = cli_cmd_save
#define LOAD_ROW(n)                                                                                \
    .name = n, .summary = "Load an image from a tar archive or STDIN", .usage = "[OPTIONS]",       \
    .flags = load_flags, .max_args = 0, .run = cli_cmd_load

const struct cli_cmd cli_image_commands[] = {
    {HISTORY_ROW("image history"), .aliases = "berth image history, berth history"},
    {.name = "image inspect",
     .summary = "Display detailed information on one or more images",
     .usage = "[OPTIONS] IMAGE [IMAGE...]",
     .flags = format_flags,
     .min_args = 1,
     .max_args = -1,
     .run = cli_cmd_image_inspect},
    {.name = "image import",
     .summary = "Import the contents from a tarball to create a filesystem image",
     .usage = "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
     .aliases = "berth image import, berth import",
     .flags = import_flags,
     .min_args = 1,
     .max_args = 2,
     .run = cli_cmd_import},
    {LOAD_ROW("image load"), .aliases = "berth image load, berth load"},
    {IMAGES_ROW("image ls"), .aliases = "berth image ls, berth image list, berth images"},
    {.name = "image prune",
     .summary = "Remove unused images",
     .usage = "[OPTIONS]",
     .flags = prune_flags,
     .max_args = 0,
     .run = cli_cmd_image_prune},
    {PULL_ROW("image pull"), .aliases = "berth image pull, berth pull"},
    {RMI_ROW("image rm"), .aliases = "berth image rm, berth image remove, berth rmi"},
    {SAVE_ROW("image save"), .aliases = "berth image save, berth save"},
    {TAG_ROW("image tag"), .aliases = "berth image tag, berth tag"},
    {.name = NULL},
};

const struct cli_cmd cli_commands[] = {
    {CTR_RUN_ROW("run"), .group = CLI_GROUP_COMMON, .aliases = "berth container run, berth run"},
    {CTR_EXEC_ROW("exec"), .group = CLI_GROUP_COMMON,
     .aliases = "berth container exec, berth exec"},
    {CTR_PS_ROW("ps"), .group = CLI_GROUP_COMMON,
     .aliases = "berth container ls, berth container list, berth container ps, berth ps"},
    {PULL_ROW("pull"), .group = CLI_GROUP_COMMON, .aliases = "berth image pull, berth pull"},
    {IMAGES_ROW("images"), .group = CLI_GROUP_COMMON,
     .aliases = "berth image ls, berth image list, berth images"},
    {.name = "login",
     .summary = "Authenticate to a registry",
     .usage = "[OPTIONS] [SERVER]",
     .description =
         "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.",
     .group = CLI_GROUP_COMMON,
     .flags = login_flags,
     .max_args = 1,
     .run = cli_cmd_login},
    {.name = "logout",
     .summary = "Log out from a registry",
     .usage = "[SERVER]",
     .description = "Log out from a registry.\nIf no server is specified, the default is defined "
                    "by the daemon.",
     .group = CLI_GROUP_COMMON,
     .max_args = 1,
     .run = cli_cmd_logout},
    {
        .name = "version",
        .summary = "Show the berth version information",
        .usage = "[OPTIONS]",
        .group = CLI_GROUP_COMMON,
        .flags = format_flags,
        .max_args = 0,
        .run = cli_cmd_version,
    },
    {
        .name = "info",
        .summary = "Display system-wide information",
        .usage = "[OPTIONS]",
        .group = CLI_GROUP_COMMON,
        .flags = format_flags,
        .max_args = 0,
        .run = cli_cmd_info,
    },
    {.name = "image",
     .summary = "Manage images",
     .usage = "COMMAND",
     .description =
         "Manage images\n\nCommands:\n"
         "  history     Show the history of an image\n"
         "  import      Import the contents from a tarball to create a filesystem image\n"
         "  inspect     Display detailed information on one or more images\n"
         "  load        Load an image from a tar archive or STDIN\n"
         "  ls          List images\n"
         "  prune       Remove unused images\n"
         "  pull        Download an image from a registry\n"
         "  rm          Remove one or more images\n"
         "  save        Save one or more images to a tar archive (streamed to STDOUT by default)\n"
         "  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n\n"
         "Run 'berth image COMMAND --help' for more information on a command.",
     .group = CLI_GROUP_MANAGEMENT,
     .max_args = -1,
     .stop_at_args = true,
     .run = cli_cmd_image},
    {.name = "network",
     .summary = "Manage networks",
     .usage = "COMMAND",
     .description = "Manage networks\n\nCommands:\n"
                    "  connect     Connect a container to a network\n"
                    "  create      Create a network\n"
                    "  disconnect  Disconnect a container from a network\n"
                    "  inspect     Display detailed information on one or more networks\n"
                    "  ls          List networks\n"
                    "  prune       Remove all unused networks\n"
                    "  rm          Remove one or more networks\n\n"
                    "Run 'berth network COMMAND --help' for more information on a command.",
     .group = CLI_GROUP_MANAGEMENT,
     .max_args = -1,
     .stop_at_args = true,
     .run = cli_cmd_network},
    {.name = "volume",
     .summary = "Manage volumes",
     .usage = "COMMAND",
     .description = "Manage volumes\n\nCommands:\n"
                    "  create      Create a volume\n"
                    "  inspect     Display detailed information on one or more volumes\n"
                    "  ls          List volumes\n"
                    "  prune       Remove unused local volumes\n"
                    "  rm          Remove one or more volumes\n\n"
                    "Run 'berth volume COMMAND --help' for more information on a command.",
     .group = CLI_GROUP_MANAGEMENT,
     .max_args = -1,
     .stop_at_args = true,
     .run = cli_cmd_volume},
    {.name = "system",
     .summary = "Manage berth",
     .usage = "COMMAND",
     .description = "Manage berth\n\nCommands:\n"
                    "  events      Get real time events from the server\n"
                    "  info        Display system-wide information\n\n"
                    "Run 'berth system COMMAND --help' for more information on a command.",
     .group = CLI_GROUP_MANAGEMENT,
     .max_args = -1,
     .stop_at_args = true,
     .run = cli_cmd_system},
    {.name = "container",
     .summary = "Manage containers",
     .usage = "COMMAND",
     .description =
         "Manage containers\n\nCommands:\n"
         "  attach      Attach local standard input, output, and error streams to a running "
         "container\n"
         "  commit      Create a new image from a container's changes\n"
         "  cp          Copy files/folders between a container and the local filesystem\n"
         "  create      Create a new container\n"
         "  diff        Inspect changes to files or directories on a container's filesystem\n"
         "  exec        Execute a command in a running container\n"
         "  export      Export a container's filesystem as a tar archive\n"
         "  inspect     Display detailed information on one or more containers\n"
         "  kill        Kill one or more running containers\n"
         "  logs        Fetch the logs of a container\n"
         "  ls          List containers\n"
         "  pause       Pause all processes within one or more containers\n"
         "  port        List port mappings or a specific mapping for the container\n"
         "  prune       Remove all stopped containers\n"
         "  rename      Rename a container\n"
         "  restart     Restart one or more containers\n"
         "  rm          Remove one or more containers\n"
         "  run         Create and run a new container from an image\n"
         "  start       Start one or more stopped containers\n"
         "  stop        Stop one or more running containers\n"
         "  top         Display the running processes of a container\n"
         "  unpause     Unpause all processes within one or more containers\n"
         "  wait        Block until one or more containers stop, then print their exit codes\n\n"
         "Run 'berth container COMMAND --help' for more information on a command.",
     .group = CLI_GROUP_MANAGEMENT,
     .max_args = -1,
     .stop_at_args = true,
     .run = cli_cmd_container},
    {CTR_ATTACH_ROW("attach"), .group = CLI_GROUP_OTHER,
     .aliases = "berth container attach, berth attach"},
    {.name = "commit",
     .summary = "Create a new image from a container's changes",
     .usage = "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
     .aliases = "berth container commit, berth commit",
     .group = CLI_GROUP_OTHER,
     .flags = cli_commit_flags,
     .min_args = 1,
     .max_args = 2,
     .run = cli_cmd_commit},
    {.name = "cp",
     .summary = "Copy files/folders between a container and the local filesystem",
     .usage = "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- "
              "CONTAINER:DEST_PATH",
     .group = CLI_GROUP_OTHER,
     .flags = cli_cp_flags,
     .min_args = 2,
     .max_args = 2,
     .run = cli_cmd_cp},
    {CTR_CREATE_ROW("create"), .group = CLI_GROUP_OTHER,
     .aliases = "berth container create, berth create"},
    {.name = "diff",
     .summary = "Inspect changes to files or directories on a container's filesystem",
     .usage = "CONTAINER",
     .aliases = "berth container diff, berth diff",
     .group = CLI_GROUP_OTHER,
     .min_args = 1,
     .max_args = 1,
     .run = cli_cmd_diff},
    {.name = "events",
     .summary = "Get real time events from the server",
     .usage = "[OPTIONS]",
     .aliases = "berth system events, berth events",
     .group = CLI_GROUP_OTHER,
     .flags = cli_events_flags,
     .max_args = 0,
     .run = cli_cmd_events},
    {.name = "export",
     .summary = "Export a container's filesystem as a tar archive",
     .usage = "[OPTIONS] CONTAINER",
     .group = CLI_GROUP_OTHER,
     .flags = cli_export_flags,
     .min_args = 1,
     .max_args = 1,
     .run = cli_cmd_export},
    {HISTORY_ROW("history"), .group = CLI_GROUP_OTHER,
     .aliases = "berth image history, berth history"},
    {.name = "import",
     .summary = "Import the contents from a tarball to create a filesystem image",
     .usage = "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
     .aliases = "berth image import, berth import",
     .group = CLI_GROUP_OTHER,
     .flags = import_flags,
     .min_args = 1,
     .max_args = 2,
     .run = cli_cmd_import},
    {.name = "inspect",
     .summary = "Return low-level information on berth objects",
     .usage = "[OPTIONS] NAME|ID [NAME|ID...]",
     .group = CLI_GROUP_OTHER,
     .flags = inspect_flags,
     .min_args = 1,
     .max_args = -1,
     .run = cli_cmd_inspect},
    {CTR_KILL_ROW("kill"), .group = CLI_GROUP_OTHER, .aliases = "berth container kill, berth kill"},
    {LOAD_ROW("load"), .group = CLI_GROUP_OTHER, .aliases = "berth image load, berth load"},
    {CTR_LOGS_ROW("logs"), .group = CLI_GROUP_OTHER, .aliases = "berth container logs, berth logs"},
    {CTR_PAUSE_ROW("pause"), .group = CLI_GROUP_OTHER,
     .aliases = "berth container pause, berth pause"},
    {CTR_PORT_ROW("port"), .group = CLI_GROUP_OTHER, .aliases = "berth container port, berth port"},
    {CTR_RENAME_ROW("rename"), .group = CLI_GROUP_OTHER,
     .aliases = "berth container rename, berth rename"},
    {CTR_RESTART_ROW("restart"), .group = CLI_GROUP_OTHER,
     .aliases = "berth container restart, berth restart"},
    {CTR_RM_ROW("rm"), .group = CLI_GROUP_OTHER,
     .aliases = "berth container rm, berth container remove, berth rm"},
    {RMI_ROW("rmi"), .group = CLI_GROUP_OTHER,
     .aliases = "berth image rm, berth image remove, berth rmi"},
    {SAVE_ROW("save"), .group = CLI_GROUP_OTHER, .aliases = "berth image save, berth save"},
    {CTR_START_ROW("start"), .group = CLI_GROUP_OTHER,
     .aliases = "berth container start, berth start"},
    {CTR_STOP_ROW("stop"), .group = CLI_GROUP_OTHER, .aliases = "berth container stop, berth stop"},
    {TAG_ROW("tag"), .group = CLI_GROUP_OTHER, .aliases = "berth image tag, berth tag"},
    {CTR_TOP_ROW("top"), .group = CLI_GROUP_OTHER, .aliases = "berth container top, berth top"},
    {CTR_UNPAUSE_ROW("unpause"), .group = CLI_GROUP_OTHER,
     .aliases = "berth container unpause, berth unpause"},
    {CTR_WAIT_ROW("wait"), .group = CLI_GROUP_OTHER, .aliases = "berth container wait, berth wait"},
    {
        .name = "help",
        .summary = "Help about any command",
        .usage = "[COMMAND]",
        .group = CLI_GROUP_OTHER,
        .max_args = 1,
        .hidden = true,
        .run = cli_cmd_help,
    },
    {.name = NULL},
};

int cli_run_subcommand(struct cli_ctx *ctx, const struct cli_args *args,
                       const struct cli_subcommands *g, struct err **err)
{
    if (args->argc == 0) {
        cli_usage_cmd(ctx->out, args->cmd);
        return 0;
    }
    const char *name = args->argv[0];
    for (const char *const *a = g->aliases; a && a[0]; a += 2) {
        if (strcmp(name, a[0]) == 0)
            name = a[1];
    }
    size_t plen = strlen(g->group);
    const struct cli_cmd *sub = NULL;
    for (const struct cli_cmd *c = g->table; c->name && !sub; c++) {
        if (strncmp(c->name, g->group, plen) == 0 && c->name[plen] == ' ' &&
            strcmp(c->name + plen + 1, name) == 0)
            sub = c;
    }
    if (!sub) {
        if (g->unknown[0])
            fprintf(ctx->errf, "%s%s%s", g->unknown[0], args->argv[0], g->unknown[1]);
        else
            fprintf(ctx->errf, "berth: '%s %s' is not a berth command.\nSee 'berth %s --help'\n",
                    g->group, args->argv[0], g->group);
        return 1;
    }
    struct cli_args sa;
    int status = 0;
    if (cli_args_parse(ctx, sub, args->argc - 1, args->argv + 1, &sa, &status) == 0)
        status = sub->run(ctx, &sa, err);
    cli_args_release(&sa);
    return status;
}

void cli_print_pruned(struct cli_ctx *ctx, const char *title, const json_t *reply, const char *key)
{
    json_t *names = json_object_get(reply, key);
    json_int_t space = 0;
    if (json_array_size(names)) {
        fprintf(ctx->out, "%s:\n", title);
        size_t i;
        json_t *v;
        json_array_foreach(names, i, v)
            fprintf(ctx->out, "%s\n", json_is_string(v) ? json_string_value(v) : "");
        fputc('\n', ctx->out);
        space = json_integer_value(json_object_get(reply, "SpaceReclaimed"));
    }
    char size[32];
    api_human_size((double)space, 4, size);
    fprintf(ctx->out, "Total reclaimed space: %s\n", size);
}
