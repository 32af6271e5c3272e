/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container commands' flag tables and the `berth container <sub>` table, worded as the
 * docker CLI's.
 */
#include "client/attach.h"

#include <string.h>

#define LIST(n, s, a, h)                                                                           \
    {                                                                                              \
        .name = n, .shorthand = s, .type = CLI_FLAG_LIST, .arg = a, .help = h                      \
    }
#define STR(n, s, a, h)                                                                            \
    {                                                                                              \
        .name = n, .shorthand = s, .type = CLI_FLAG_STRING, .arg = a, .help = h                    \
    }
#define BOOL(n, s, h)                                                                              \
    {                                                                                              \
        .name = n, .shorthand = s, .type = CLI_FLAG_BOOL, .help = h                                \
    }

/* Shared by run and create; run adds -d. Alphabetical, as docker lists them. */
#define CREATE_FLAGS_1                                                                             \
    LIST("add-host", 0, "list", "Add a custom host-to-IP mapping (host:ip)"),                      \
        LIST("attach", 'a', "list", "Attach to STDIN, STDOUT or STDERR"),                          \
        LIST("cap-add", 0, "list", "Add Linux capabilities"),                                      \
        LIST("cap-drop", 0, "list", "Drop Linux capabilities"),                                    \
        STR("cgroupns", 0, "string", "Cgroup namespace to use (host|private)"),                    \
        STR("cpu-period", 0, "int", "Limit CPU CFS (Completely Fair Scheduler) period"),           \
        STR("cpu-quota", 0, "int", "Limit CPU CFS (Completely Fair Scheduler) quota"),             \
        STR("cpu-shares", 'c', "int", "CPU shares (relative weight)"),                             \
        STR("cpus", 0, "decimal", "Number of CPUs")
#define CREATE_FLAGS_2                                                                             \
    LIST("dns", 0, "list", "Set custom DNS servers"),                                              \
        LIST("dns-option", 0, "list", "Set DNS options"),                                          \
        LIST("dns-search", 0, "list", "Set custom DNS search domains"),                            \
        STR("domainname", 0, "string", "Container NIS domain name"),                               \
        STR("entrypoint", 0, "string", "Overwrite the default ENTRYPOINT of the image"),           \
        LIST("env", 'e', "list", "Set environment variables"),                                     \
        LIST("env-file", 0, "list", "Read in a file of environment variables"),                    \
        LIST("expose", 0, "list", "Expose a port or a range of ports"),                            \
        LIST("group-add", 0, "list", "Add additional groups to join"),                             \
        STR("hostname", 'h', "string", "Container host name"),                                     \
        BOOL("init", 0,                                                                            \
             "Run an init inside the container that forwards signals and reaps processes"),        \
        BOOL("interactive", 'i', "Keep STDIN open even if not attached"),                          \
        STR("ipc", 0, "string", "IPC mode to use"),                                                \
        LIST("label", 'l', "list", "Set meta data on a container"),                                \
        LIST("label-file", 0, "list", "Read in a line delimited file of labels"),                  \
        STR("log-driver", 0, "string", "Logging driver for the container"),                        \
        LIST("log-opt", 0, "list", "Log driver options"),                                          \
        STR("memory", 'm', "bytes", "Memory limit"),                                               \
        STR("memory-reservation", 0, "bytes", "Memory soft limit"),                                \
        LIST("mount", 0, "mount", "Attach a filesystem mount to the container"),                   \
        STR("memory-swap", 0, "bytes",                                                             \
            "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),                \
        STR("name", 0, "string", "Assign a name to the container"),                                \
        STR("network", 0, "network", "Connect a container to a network"),                          \
        LIST("network-alias", 0, "list", "Add network-scoped alias for the container"),            \
        STR("ip", 0, "string", "IPv4 address (e.g., 172.30.100.104)"),                             \
        STR("oom-score-adj", 0, "int", "Tune host's OOM preferences (-1000 to 1000)"),             \
        STR("pid", 0, "string", "PID namespace to use"),                                           \
        STR("pids-limit", 0, "int", "Tune container pids limit (set -1 for unlimited)"),           \
        STR("platform", 0, "string", "Set platform if server is multi-platform capable"),          \
        BOOL("privileged", 0, "Give extended privileges to this container"),                       \
        LIST("publish", 'p', "list", "Publish a container's port(s) to the host"),                 \
        BOOL("publish-all", 'P', "Publish all exposed ports to random ports"),                     \
        BOOL("read-only", 0, "Mount the container's root filesystem as read only"),                \
        STR("restart", 0, "string", "Restart policy to apply when a container exits"),             \
        BOOL("rm", 0,                                                                              \
             "Automatically remove the container and its associated anonymous volumes\n"           \
             "when it exits"),                                                                     \
        LIST("security-opt", 0, "list", "Security Options")
#define CREATE_FLAGS_3                                                                             \
    STR("shm-size", 0, "bytes", "Size of /dev/shm"),                                               \
        STR("stop-signal", 0, "string", "Signal to stop the container"),                           \
        STR("stop-timeout", 0, "int", "Timeout (in seconds) to stop a container"),                 \
        LIST("tmpfs", 0, "list", "Mount a tmpfs directory"),                                       \
        LIST("sysctl", 0, "map", "Sysctl options"), BOOL("tty", 't', "Allocate a pseudo-TTY"),     \
        STR("user", 'u', "string", "Username or UID (format: <name|uid>[:<group|gid>])"),          \
        STR("uts", 0, "string", "UTS namespace to use"),                                           \
        LIST("volume", 'v', "list", "Bind mount a volume"),                                        \
        STR("workdir", 'w', "string", "Working directory inside the container")

const struct cli_flag cli_create_flags[] = {
    CREATE_FLAGS_1,
    CREATE_FLAGS_2,
    CREATE_FLAGS_3,
    {.name = NULL},
};

const struct cli_flag cli_run_flags[] = {
    CREATE_FLAGS_1,
    BOOL("detach", 'd', "Run container in background and print container ID"),
    STR("detach-keys", 0, "string", "Override the key sequence for detaching a container"),
    CREATE_FLAGS_2,
    {.name = "sig-proxy",
     .type = CLI_FLAG_BOOL,
     .help = "Proxy received signals to the process",
     .def = "true"},
    CREATE_FLAGS_3,
    {.name = NULL},
};

const struct cli_flag cli_start_flags[] = {
    BOOL("attach", 'a', "Attach STDOUT/STDERR and forward signals"),
    STR("detach-keys", 0, "string", "Override the key sequence for detaching a container"),
    BOOL("interactive", 'i', "Attach container's STDIN"),
    {.name = NULL},
};

const struct cli_flag cli_attach_flags[] = {
    STR("detach-keys", 0, "string", "Override the key sequence for detaching a container"),
    BOOL("no-stdin", 0, "Do not attach STDIN"),
    {.name = "sig-proxy",
     .type = CLI_FLAG_BOOL,
     .help = "Proxy all received signals to the process",
     .def = "true"},
    {.name = NULL},
};

const struct cli_flag cli_exec_flags[] = {
    BOOL("detach", 'd', "Detached mode: run command in the background"),
    STR("detach-keys", 0, "string", "Override the key sequence for detaching a container"),
    LIST("env", 'e', "list", "Set environment variables"),
    LIST("env-file", 0, "list", "Read in a file of environment variables"),
    BOOL("interactive", 'i', "Keep STDIN open even if not attached"),
    BOOL("privileged", 0, "Give extended privileges to the command"),
    BOOL("tty", 't', "Allocate a pseudo-TTY"),
    STR("user", 'u', "string", "Username or UID (format: \"<name|uid>[:<group|gid>]\")"),
    STR("workdir", 'w', "string", "Working directory inside the container"),
    {.name = NULL},
};

const struct cli_flag cli_stop_flags[] = {
    STR("signal", 's', "string", "Signal to send to the container"),
    STR("timeout", 't', "int", "Seconds to wait before killing the container"),
    {.name = "time", .type = CLI_FLAG_STRING, .arg = "int", .help = "", .hidden = true},
    {.name = NULL},
};

const struct cli_flag cli_kill_flags[] = {
    STR("signal", 's', "string", "Signal to send to the container"),
    {.name = NULL},
};

const struct cli_flag cli_rm_flags[] = {
    BOOL("force", 'f', "Force the removal of a running container (uses SIGKILL)"),
    BOOL("link", 'l', "Remove the specified link"),
    BOOL("volumes", 'v', "Remove anonymous volumes associated with the container"),
    {.name = NULL},
};

const struct cli_flag cli_ps_flags[] = {
    BOOL("all", 'a', "Show all containers (default shows just running)"),
    LIST("filter", 'f', "filter", "Filter output based on conditions provided"),
    STR("format", 0, "string",
        "Format output using a custom template:\n"
        "'table':            Print output in table format with column headers (default)\n"
        "'table TEMPLATE':   Print output in table format using the given Go template\n"
        "'json':             Print in JSON format\n"
        "'TEMPLATE':         Print output using the given Go template.\n"
        "Refer to https://docs.docker.com/go/formatting/ for more information about "
        "formatting\noutput with templates"),
    STR("last", 'n', "int", "Show n last created containers (includes all states)"),
    BOOL("latest", 'l', "Show the latest created container (includes all states)"),
    BOOL("no-trunc", 0, "Don't truncate output"),
    BOOL("quiet", 'q', "Only display container IDs"),
    BOOL("size", 's', "Display total file sizes"),
    {.name = NULL},
};

const struct cli_flag cli_logs_flags[] = {
    BOOL("details", 0, "Show extra details provided to logs"),
    BOOL("follow", 'f', "Follow log output"),
    STR("since", 0, "string",
        "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative\n"
        "(e.g. \"42m\" for 42 minutes)"),
    STR("tail", 'n', "string", "Number of lines to show from the end of the logs"),
    BOOL("timestamps", 't', "Show timestamps"),
    STR("until", 0, "string",
        "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative\n"
        "(e.g. \"42m\" for 42 minutes)"),
    {.name = NULL},
};

const struct cli_flag cli_container_prune_flags[] = {
    LIST("filter", 0, "filter", "Provide filter values (e.g. \"until=<timestamp>\")"),
    BOOL("force", 'f', "Do not prompt for confirmation"),
    {.name = NULL},
};

const struct cli_flag cli_container_inspect_flags[] = {
    STR("format", 'f', "string",
        "Format output using a custom template:\n"
        "'json':             Print in JSON format\n"
        "'TEMPLATE':         Print output using the given Go template."),
    BOOL("size", 's', "Display total file sizes"),
    {.name = NULL},
};

/* berth commit, cp and export: the same tables serve `berth container commit|cp|export`. */
const struct cli_flag cli_commit_flags[] = {
    STR("author", 'a', "string", "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"),
    LIST("change", 'c', "list", "Apply Dockerfile instruction to the created image"),
    STR("message", 'm', "string", "Commit message"),
    {.name = "pause",
     .shorthand = 'p',
     .type = CLI_FLAG_BOOL,
     .help = "Pause container during commit",
     .def = "true"},
    {.name = NULL},
};

const struct cli_flag cli_cp_flags[] = {
    BOOL("archive", 'a', "Archive mode (copy all uid/gid information)"),
    BOOL("follow-link", 'L', "Always follow symbol link in SRC_PATH"),
    BOOL("quiet", 'q',
         "Suppress progress output during copy. Progress output is automatically suppressed "
         "if no terminal is attached"),
    {.name = NULL},
};

const struct cli_flag cli_export_flags[] = {
    STR("output", 'o', "string", "Write to a file, instead of STDOUT"),
    {.name = NULL},
};

const struct cli_cmd cli_container_commands[] = {
    {CTR_ATTACH_ROW("container attach"), .aliases = "berth container attach, berth attach"},
    {.name = "container commit",
     .summary = "Create a new image from a container's changes",
     .usage = "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
     .aliases = "berth container commit, berth commit",
     .flags = cli_commit_flags,
     .min_args = 1,
     .max_args = 2,
     .run = cli_cmd_commit},
    {.name = "container cp",
     .summary = "Copy files/folders between a container and the local filesystem",
     .usage = "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth container cp [OPTIONS] "
              "SRC_PATH|- CONTAINER:DEST_PATH",
     .aliases = "berth container cp, berth cp",
     .flags = cli_cp_flags,
     .min_args = 2,
     .max_args = 2,
     .run = cli_cmd_cp},
    {CTR_CREATE_ROW("container create")},
    {.name = "container diff",
     .summary = "Inspect changes to files or directories on a container's filesystem",
     .usage = "CONTAINER",
     .aliases = "berth container diff, berth diff",
     .min_args = 1,
     .max_args = 1,
     .run = cli_cmd_diff},
    {CTR_EXEC_ROW("container exec"), .aliases = "berth container exec, berth exec"},
    {.name = "container export",
     .summary = "Export a container's filesystem as a tar archive",
     .usage = "[OPTIONS] CONTAINER",
     .aliases = "berth container export, berth export",
     .flags = cli_export_flags,
     .min_args = 1,
     .max_args = 1,
     .run = cli_cmd_export},
    {.name = "container inspect",
     .summary = "Display detailed information on one or more containers",
     .usage = "[OPTIONS] CONTAINER [CONTAINER...]",
     .flags = cli_container_inspect_flags,
     .min_args = 1,
     .max_args = -1,
     .run = cli_cmd_container_inspect},
    {CTR_KILL_ROW("container kill")},
    {CTR_LOGS_ROW("container logs")},
    {CTR_PS_ROW("container ls"), .aliases = "berth container ls, berth container list, berth "
                                            "container ps, berth ps"},
    {CTR_PAUSE_ROW("container pause")},
    {.name = "container prune",
     .summary = "Remove all stopped containers",
     .usage = "[OPTIONS]",
     .flags = cli_container_prune_flags,
     .max_args = 0,
     .run = cli_cmd_container_prune},
    {CTR_PORT_ROW("container port")},
    {CTR_RENAME_ROW("container rename")},
    {CTR_RESTART_ROW("container restart")},
    {CTR_RM_ROW("container rm"), .aliases = "berth container rm, berth container remove, berth "
                                            "rm"},
    {CTR_RUN_ROW("container run")},
    {CTR_START_ROW("container start")},
    {CTR_STOP_ROW("container stop")},
    {CTR_TOP_ROW("container top")},
    {CTR_UNPAUSE_ROW("container unpause")},
    {CTR_WAIT_ROW("container wait")},
    {.name = NULL},
};

int cli_cmd_container(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    static const char *const aliases[] = {"list", "ls", "ps", "ls", "remove", "rm", NULL};
    static const struct cli_subcommands g = {
        .group = "container", .table = cli_container_commands, .aliases = aliases};
    return cli_run_subcommand(ctx, args, &g, err);
}
