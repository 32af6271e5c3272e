/* SPDX-License-Identifier: Apache-2.0 */
/* Flag parsing and usage text, worded like docker's (cobra and pflag). */
#include "client/cli.h"

#include <string.h>

const struct cli_cmd *cli_cmd_find(const char *name)
{
    for (const struct cli_cmd *c = cli_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

int cli_usage_error(struct cli_ctx *ctx, const struct cli_cmd *cmd, int status, const char *msg)
{
    if (cmd && cmd->name[0])
        fprintf(ctx->errf,
                "%s\n\nUsage:  berth %s %s\n\nRun 'berth %s --help' for more information\n", msg,
                cmd->name, cmd->usage, cmd->name);
    else
        fprintf(ctx->errf,
                "%s\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more "
                "information\n",
                msg);
    return status;
}

static int flag_index(const struct cli_flag *flags, const char *name, size_t len, char shorthand)
{
    for (int i = 0; flags && flags[i].name; i++) {
        if (shorthand ? flags[i].shorthand == shorthand
                      : strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
            return i;
    }
    return -1;
}

static int flag_store(struct cli_ctx *ctx, const struct cli_cmd *cmd, struct cli_args *a, int i,
                      const char *value, const char *shown)
{
    const struct cli_flag *f = &cmd->flags[i];
    struct cli_flag_val *v = &a->vals[i];
    if (f->type == CLI_FLAG_BOOL) {
        if (value && strcmp(value, "true") != 0 && strcmp(value, "false") != 0 &&
            strcmp(value, "1") != 0 && strcmp(value, "0") != 0) {
            _cleanup_free_ char *msg = xasprintf(
                "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing \"%s\": "
                "invalid syntax",
                value, shown, value);
            return cli_usage_error(ctx, cmd, 125, msg);
        }
        bool on = !value || strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
        v->str = on ? "true" : "false";
    } else if (f->type == CLI_FLAG_LIST) {
        v->list = xrealloc(v->list, (v->nlist + 2) * sizeof(*v->list));
        v->list[v->nlist++] = value;
        v->list[v->nlist] = NULL;
        v->str = value;
    } else {
        v->str = value;
    }
    v->set = true;
    return 0;
}

/* "--name", "--name=value"; *i advances past a consumed value. */
static int parse_long(struct cli_ctx *ctx, const struct cli_cmd *cmd, struct cli_args *a, int argc,
                      char **argv, int *i, bool *help)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len == 4 && strncmp(arg, "help", 4) == 0) {
        *help = true;
        return 0;
    }
    int fi = flag_index(cmd->flags, arg, len, 0);
    if (fi < 0) {
        _cleanup_free_ char *msg = xasprintf("unknown flag: --%.*s", (int)len, arg);
        return cli_usage_error(ctx, cmd, 125, msg);
    }
    _cleanup_free_ char *shown = xasprintf("--%s", cmd->flags[fi].name);
    if (cmd->flags[fi].type == CLI_FLAG_BOOL || eq)
        return flag_store(ctx, cmd, a, fi, eq ? eq + 1 : NULL, shown);
    if (*i + 1 >= argc) {
        _cleanup_free_ char *msg = xasprintf("flag needs an argument: --%s", cmd->flags[fi].name);
        return cli_usage_error(ctx, cmd, 125, msg);
    }
    return flag_store(ctx, cmd, a, fi, argv[++*i], shown);
}

/* "-abc", "-fVALUE", "-f VALUE", "-f=VALUE". */
static int parse_short(struct cli_ctx *ctx, const struct cli_cmd *cmd, struct cli_args *a, int argc,
                       char **argv, int *i, bool *help)
{
    const char *group = argv[*i];
    for (const char *p = group + 1; *p; p++) {
        if (*p == 'h' && flag_index(cmd->flags, NULL, 0, 'h') < 0) {
            *help = true;
            return 0;
        }
        int fi = flag_index(cmd->flags, NULL, 0, *p);
        if (fi < 0) {
            _cleanup_free_ char *msg = xasprintf("unknown shorthand flag: '%c' in %s", *p, group);
            return cli_usage_error(ctx, cmd, 125, msg);
        }
        _cleanup_free_ char *shown =
            xasprintf("-%c, --%s", cmd->flags[fi].shorthand, cmd->flags[fi].name);
        if (cmd->flags[fi].type == CLI_FLAG_BOOL) {
            if (p[1] == '=')
                return flag_store(ctx, cmd, a, fi, p + 2, shown);
            int r = flag_store(ctx, cmd, a, fi, NULL, shown);
            if (r)
                return r;
            continue;
        }
        if (p[1])
            return flag_store(ctx, cmd, a, fi, p[1] == '=' ? p + 2 : p + 1, shown);
        if (*i + 1 >= argc) {
            _cleanup_free_ char *msg = xasprintf("flag needs an argument: '%c' in %s", *p, group);
            return cli_usage_error(ctx, cmd, 125, msg);
        }
        return flag_store(ctx, cmd, a, fi, argv[++*i], shown);
    }
    return 0;
}

static int check_arg_count(struct cli_ctx *ctx, const struct cli_cmd *cmd, int n)
{
    _cleanup_free_ char *msg = NULL;
    if (cmd->max_args == 0 && n > 0)
        msg = xasprintf("berth: 'berth %s' accepts no arguments", cmd->name);
    else if (cmd->min_args == cmd->max_args && n != cmd->min_args)
        msg = xasprintf("berth: 'berth %s' requires exactly %d argument%s", cmd->name,
                        cmd->min_args, cmd->min_args == 1 ? "" : "s");
    else if (n < cmd->min_args)
        msg = xasprintf("berth: 'berth %s' requires at least %d argument%s", cmd->name,
                        cmd->min_args, cmd->min_args == 1 ? "" : "s");
    else if (cmd->max_args >= 0 && n > cmd->max_args)
        msg = xasprintf("berth: 'berth %s' requires at most %d argument%s", cmd->name,
                        cmd->max_args, cmd->max_args == 1 ? "" : "s");
    return msg ? cli_usage_error(ctx, cmd, 1, msg) : 0;
}

int cli_args_parse(struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc, char **argv,
                   struct cli_args *a, int *status)
{
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->argv = xcalloc((size_t)argc + 1, sizeof(*a->argv));
    bool help = false, flags_done = false;
    for (int i = 0; i < argc && !help; i++) {
        const char *s = argv[i];
        int r = 0;
        if (flags_done || s[0] != '-' || s[1] == '\0') {
            a->argv[a->argc++] = argv[i];
            flags_done = flags_done || cmd->stop_at_args;
        } else if (strcmp(s, "--") == 0) {
            flags_done = true;
        } else if (s[1] == '-') {
            r = parse_long(ctx, cmd, a, argc, argv, &i, &help);
        } else {
            r = parse_short(ctx, cmd, a, argc, argv, &i, &help);
        }
        if (r) {
            *status = r;
            return 1;
        }
    }
    if (help) {
        cli_usage_cmd(ctx->out, cmd);
        *status = 0;
        return 1;
    }
    *status = check_arg_count(ctx, cmd, a->argc);
    return *status ? 1 : 0;
}

void cli_args_release(struct cli_args *a)
{
    for (size_t i = 0; i < CLI_MAX_FLAGS; i++)
        free(a->vals[i].list);
    free(a->argv);
    memset(a, 0, sizeof(*a));
}

const struct cli_flag_val *cli_flag(const struct cli_args *a, const char *name)
{
    int i = flag_index(a->cmd->flags, name, strlen(name), 0);
    return i < 0 ? NULL : &a->vals[i];
}

const char *cli_flag_str(const struct cli_args *a, const char *name)
{
    const struct cli_flag_val *v = cli_flag(a, name);
    return v && v->set ? v->str : NULL;
}

bool cli_flag_bool(const struct cli_args *a, const char *name)
{
    const char *s = cli_flag_str(a, name);
    return s && strcmp(s, "true") == 0;
}

/* ---- usage ------------------------------------------------------------------------------- */

static char *flag_left(const struct cli_flag *f)
{
    if (f->shorthand)
        return xasprintf("  -%c, --%s%s%s", f->shorthand, f->name, f->arg ? " " : "",
                         f->arg ? f->arg : "");
    return xasprintf("      --%s%s%s", f->name, f->arg ? " " : "", f->arg ? f->arg : "");
}

void cli_usage_flags(FILE *out, const struct cli_flag *flags)
{
    size_t width = 0;
    for (const struct cli_flag *f = flags; f && f->name; f++) {
        _cleanup_free_ char *left = flag_left(f);
        if (!f->hidden && strlen(left) > width)
            width = strlen(left);
    }
    for (const struct cli_flag *f = flags; f && f->name; f++) {
        if (f->hidden)
            continue;
        _cleanup_free_ char *left = flag_left(f);
        fprintf(out, "%-*s   ", (int)width, left);
        for (const char *h = f->help; *h; h++) {
            fputc(*h, out);
            if (*h == '\n')
                fprintf(out, "%-*s   ", (int)width, "");
        }
        if (f->def)
            fprintf(out, " (default %s)", f->def);
        fputc('\n', out);
    }
}

void cli_usage_cmd(FILE *out, const struct cli_cmd *cmd)
{
    if (!cmd->name[0]) {
        cli_usage_main(out);
        return;
    }
    fprintf(out, "Usage:  berth %s %s\n\n%s\n", cmd->name, cmd->usage,
            cmd->description ? cmd->description : cmd->summary);
    if (cmd->aliases)
        fprintf(out, "\nAliases:\n  %s\n", cmd->aliases);
    if (cmd->flags && cmd->flags[0].name) {
        fputs("\nOptions:\n", out);
        cli_usage_flags(out, cmd->flags);
    }
}

static const struct cli_flag global_flags[] = {
    {.name = "debug", .shorthand = 'D', .type = CLI_FLAG_BOOL, .help = "Enable debug mode"},
    {.name = "host",
     .shorthand = 'H',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Daemon socket to connect to (default \"" CLI_DEFAULT_HOST "\",\nor $BERTH_HOST)"},
    {.name = "version",
     .shorthand = 'v',
     .type = CLI_FLAG_BOOL,
     .help = "Print version information and quit"},
    {.name = NULL},
};

void cli_usage_main(FILE *out)
{
    static const char *const titles[CLI_GROUP_COUNT] = {
        [CLI_GROUP_COMMON] = "Common Commands",
        [CLI_GROUP_MANAGEMENT] = "Management Commands",
        [CLI_GROUP_OTHER] = "Commands",
    };
    fputs("Usage:  berth [OPTIONS] COMMAND\n\nA container engine that speaks the Docker API\n",
          out);
    size_t width = 11;
    for (const struct cli_cmd *c = cli_commands; c->name; c++)
        width = strlen(c->name) > width ? strlen(c->name) : width;
    for (int g = 0; g < CLI_GROUP_COUNT; g++) {
        bool any = false;
        for (const struct cli_cmd *c = cli_commands; c->name; c++) {
            if (c->hidden || (int)c->group != g)
                continue;
            if (!any)
                fprintf(out, "\n%s:\n", titles[g]);
            any = true;
            fprintf(out, "  %-*s %s\n", (int)width, c->name, c->summary);
        }
    }
    fputs("\nGlobal Options:\n", out);
    cli_usage_flags(out, global_flags);
    fputs("\nRun 'berth COMMAND --help' for more information on a command.\n", out);
}

/* The root pseudo-command: global flags, which end at the command name. */
const struct cli_cmd cli_root_cmd = {
    .name = "",
    .summary = "A container engine that speaks the Docker API",
    .usage = "[OPTIONS] COMMAND [ARG...]",
    .flags = global_flags,
    .min_args = 0,
    .max_args = -1,
    .stop_at_args = true,
};
