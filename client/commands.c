/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command table. A new command is one row here, its run function in a client/cmd_*.c file
 * and its prototype in cli.h.
 */
#include "client/cli.h"

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

const struct cli_cmd cli_commands[] = {
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
