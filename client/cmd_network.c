/* SPDX-License-Identifier: Apache-2.0 */
/* berth network create|ls|inspect|rm|connect|disconnect|prune, as docker's CLI has them. */
#include "client/cli.h"

#include <string.h>

#include "client/format.h"
#include "client/http.h"
#include "client/images.h"

static const struct cli_flag create_flags[] = {
    {.name = "driver",
     .shorthand = 'd',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Driver to manage the Network",
     .def = "bridge"},
    {.name = "gateway",
     .type = CLI_FLAG_LIST,
     .arg = "strings",
     .help = "IPv4 or IPv6 Gateway for the master subnet"},
    {.name = "internal", .type = CLI_FLAG_BOOL, .help = "Restrict external access to the network"},
    {.name = "ip-range",
     .type = CLI_FLAG_LIST,
     .arg = "strings",
     .help = "Allocate container ip from a sub-range"},
    {.name = "label", .type = CLI_FLAG_LIST, .arg = "list", .help = "Set metadata on a network"},
    {.name = "opt",
     .shorthand = 'o',
     .type = CLI_FLAG_LIST,
     .arg = "map",
     .help = "Set driver specific options"},
    {.name = "subnet",
     .type = CLI_FLAG_LIST,
     .arg = "strings",
     .help = "Subnet in CIDR format that represents a network segment"},
    {.name = NULL},
};

static const struct cli_flag ls_flags[] = {
    {.name = "filter",
     .shorthand = 'f',
     .type = CLI_FLAG_LIST,
     .arg = "filter",
     .help = "Provide filter values (e.g. \"driver=bridge\")"},
    {.name = "format", .type = CLI_FLAG_STRING, .arg = "string", .help = "Format output"},
    {.name = "no-trunc", .type = CLI_FLAG_BOOL, .help = "Do not truncate the output"},
    {.name = "quiet", .shorthand = 'q', .type = CLI_FLAG_BOOL, .help = "Only display network IDs"},
    {.name = NULL},
};

static const struct cli_flag inspect_flags[] = {
    {.name = "format",
     .shorthand = 'f',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Format output using a custom template"},
    {.name = NULL},
};

static const struct cli_flag rm_flags[] = {
    {.name = "force",
     .shorthand = 'f',
     .type = CLI_FLAG_BOOL,
     .help = "Do not error if the network does not exist"},
    {.name = NULL},
};

static const struct cli_flag connect_flags[] = {
    {.name = "alias", .type = CLI_FLAG_LIST, .arg = "strings", .help = "Add network-scoped alias"},
    {.name = "ip", .type = CLI_FLAG_STRING, .arg = "string", .help = "IPv4 address"},
    {.name = NULL},
};

static const struct cli_flag disconnect_flags[] = {
    {.name = "force",
     .shorthand = 'f',
     .type = CLI_FLAG_BOOL,
     .help = "Force the container to disconnect from a network"},
    {.name = NULL},
};

static const struct cli_flag prune_flags[] = {
    {.name = "filter", .type = CLI_FLAG_LIST, .arg = "filter", .help = "Provide filter values"},
    {.name = "force", .shorthand = 'f', .type = CLI_FLAG_BOOL, .help = "Do not prompt"},
    {.name = NULL},
};

static int net_create(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int net_ls(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int net_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int net_rm(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int net_connect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int net_disconnect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int net_prune(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);

static const struct cli_cmd network_commands[] = {
    {.name = "network connect",
     .summary = "Connect a container to a network",
     .usage = "[OPTIONS] NETWORK CONTAINER",
     .flags = connect_flags,
     .min_args = 2,
     .max_args = 2,
     .run = net_connect},
    {.name = "network create",
     .summary = "Create a network",
     .usage = "[OPTIONS] NETWORK",
     .flags = create_flags,
     .min_args = 1,
     .max_args = 1,
     .run = net_create},
    {.name = "network disconnect",
     .summary = "Disconnect a container from a network",
     .usage = "[OPTIONS] NETWORK CONTAINER",
     .flags = disconnect_flags,
     .min_args = 2,
     .max_args = 2,
     .run = net_disconnect},
    {.name = "network inspect",
     .summary = "Display detailed information on one or more networks",
     .usage = "[OPTIONS] NETWORK [NETWORK...]",
     .flags = inspect_flags,
     .min_args = 1,
     .max_args = -1,
     .run = net_inspect},
    {.name = "network ls",
     .summary = "List networks",
     .usage = "[OPTIONS]",
     .flags = ls_flags,
     .max_args = 0,
     .run = net_ls},
    {.name = "network prune",
     .summary = "Remove all unused networks",
     .usage = "[OPTIONS]",
     .flags = prune_flags,
     .max_args = 0,
     .run = net_prune},
    {.name = "network rm",
     .summary = "Remove one or more networks",
     .usage = "NETWORK [NETWORK...]",
     .flags = rm_flags,
     .min_args = 1,
     .max_args = -1,
     .run = net_rm},
    {.name = NULL},
};

static char *net_path(const char *name, const char *suffix)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/networks/");
    cli_path_escape(name, &p);
    sb_adds(&p, suffix);
    return sb_steal(&p);
}

/* The values of a list flag (*n of them). */
static const char **list_of(const struct cli_args *args, const char *flag, size_t *n)
{
    const struct cli_flag_val *v = cli_flag(args, flag);
    *n = v ? v->nlist : 0;
    return v ? v->list : NULL;
}

/* The first value of a list flag, or NULL. */
static const char *first_of(const struct cli_args *args, const char *flag)
{
    size_t n;
    const char **v = list_of(args, flag, &n);
    return n ? v[0] : NULL;
}

/* "k=v" items of a list flag into an object. */
static json_t *kv_object(const struct cli_args *args, const char *flag)
{
    json_t *o = json_object();
    size_t n;
    const char **v = list_of(args, flag, &n);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(v[i], '=');
        _cleanup_free_ char *k = eq ? xstrndup(v[i], (size_t)(eq - v[i])) : xstrdup(v[i]);
        json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
    }
    return o;
}

static int net_create(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *drv = cli_flag_str(args, "driver");
    json_t *cfg = json_array();
    const char *subnet = first_of(args, "subnet"), *gw = first_of(args, "gateway");
    const char *range = first_of(args, "ip-range");
    if (subnet) {
        json_t *c = json_pack("{s:s}", "Subnet", subnet);
        if (gw)
            json_object_set_new(c, "Gateway", json_string(gw));
        if (range)
            json_object_set_new(c, "IPRange", json_string(range));
        json_array_append_new(cfg, c);
    } else if (gw || range) {
        json_decref(cfg);
        return err_set(err, ERR_INVALID, 0,
                       "every ip-range or gateway must have a "
                       "corresponding subnet");
    }
    json_auto_t *body =
        json_pack("{s:s, s:s, s:{s:s, s:o, s:{}}, s:b, s:o, s:o, s:b}", "Name", args->argv[0],
                  "Driver", drv && *drv ? drv : "bridge", "IPAM", "Driver", "default", "Config",
                  cfg, "Options", "Internal", cli_flag_bool(args, "internal"), "Options",
                  kv_object(args, "opt"), "Labels", kv_object(args, "label"), "CheckDuplicate", 1);
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "POST", "/networks/create", body, &reply, err) < 0)
        return -1;
    fprintf(ctx->out, "%s\n", json_string_value(json_object_get(reply, "Id")));
    return 0;
}

static json_t *ls_row(json_t *n, bool trunc)
{
    const char *id = json_string_value(json_object_get(n, "Id"));
    _cleanup_free_ char *sid = xstrndup(id ? id : "", trunc ? 12 : 64);
    return json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O}", "ID", sid, "Name",
                     json_object_get(n, "Name"), "Driver", json_object_get(n, "Driver"), "Scope",
                     json_object_get(n, "Scope"), "Internal", json_object_get(n, "Internal"),
                     "CreatedAt", json_object_get(n, "Created"), "Labels",
                     json_object_get(n, "Labels"));
}

static int net_ls(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    struct sb p = SB_INIT;
    sb_adds(&p, "/networks");
    if (json_object_size(filters)) {
        _cleanup_free_ char *js = json_dumps(filters, JSON_COMPACT);
        sb_adds(&p, "?filters=");
        cli_query_escape(js, &p);
    }
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    int r = cli_ctx_client(ctx, &cl, err);
    if (r == 0)
        r = cli_client_call(cl, "GET", p.buf, NULL, &reply, err);
    sb_release(&p);
    if (r < 0)
        return -1;
    bool trunc = !cli_flag_bool(args, "no-trunc");
    json_auto_t *rows = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(reply, i, n) json_array_append_new(rows, ls_row(n, trunc));
    const char *fmt = cli_flag_str(args, "format");
    if (cli_flag_bool(args, "quiet"))
        fmt = "{{.ID}}";
    else if (!fmt || !*fmt)
        fmt = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
    return cli_format_list(fmt, rows, NULL, NULL, ctx->out, err) < 0 ? -1 : 0;
}

static int net_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    const char *fmt = cli_flag_str(args, "format");
    json_auto_t *all = json_array();
    int status = 0;
    for (int i = 0; i < args->argc; i++) {
        _cleanup_free_ char *path = net_path(args->argv[i], "");
        json_t *reply = NULL;
        _cleanup_err_ struct err *e = NULL;
        if (cli_client_call(cl, "GET", path, NULL, &reply, &e) < 0) {
            fflush(ctx->out);
            fprintf(ctx->errf, "%s\n", e->msg);
            status = 1;
            continue;
        }
        if (fmt && *fmt) {
            if (cli_format_print(fmt, reply, ctx->out, &e) < 0) {
                json_decref(reply);
                return err_set(err, e->kind, 0, "%s", e->msg);
            }
            json_decref(reply);
        } else {
            json_array_append_new(all, reply);
        }
    }
    if (!fmt || !*fmt) {
        _cleanup_free_ char *s = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        fprintf(ctx->out, "%s\n", s);
    }
    return status;
}

static int net_rm(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    int status = 0;
    for (int i = 0; i < args->argc; i++) {
        _cleanup_free_ char *path = net_path(args->argv[i], "");
        _cleanup_err_ struct err *e = NULL;
        if (cli_client_call(cl, "DELETE", path, NULL, NULL, &e) < 0) {
            if (cli_flag_bool(args, "force") && e->kind == ERR_NOT_FOUND)
                continue;
            fflush(ctx->out);
            fprintf(ctx->errf, "%s\n", e->msg);
            status = 1;
            continue;
        }
        fprintf(ctx->out, "%s\n", args->argv[i]);
    }
    return status;
}

static int net_connect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    json_t *ec = json_object();
    const char *ip = cli_flag_str(args, "ip");
    if (ip && *ip)
        json_object_set_new(ec, "IPAMConfig", json_pack("{s:s}", "IPv4Address", ip));
    json_t *aliases = json_array();
    size_t n;
    const char **a = list_of(args, "alias", &n);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(aliases, json_string(a[i]));
    json_object_set_new(ec, "Aliases", aliases);
    json_auto_t *body = json_pack("{s:s, s:o}", "Container", args->argv[1], "EndpointConfig", ec);
    _cleanup_free_ char *path = net_path(args->argv[0], "/connect");
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 || cli_client_call(cl, "POST", path, body, NULL, err) < 0)
        return -1;
    return 0;
}

static int net_disconnect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    json_auto_t *body =
        json_pack("{s:s, s:b}", "Container", args->argv[1], "Force", cli_flag_bool(args, "force"));
    _cleanup_free_ char *path = net_path(args->argv[0], "/disconnect");
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 || cli_client_call(cl, "POST", path, body, NULL, err) < 0)
        return -1;
    return 0;
}

static int net_prune(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    if (!cli_flag_bool(args, "force") &&
        !cli_confirm(ctx, "WARNING! This will remove all custom networks not used by at least one "
                          "container.\nAre you sure you want to continue?"))
        return 0;
    struct sb p = SB_INIT;
    sb_adds(&p, "/networks/prune");
    if (json_object_size(filters)) {
        _cleanup_free_ char *js = json_dumps(filters, JSON_COMPACT);
        sb_adds(&p, "?filters=");
        cli_query_escape(js, &p);
    }
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    int r = cli_ctx_client(ctx, &cl, err);
    if (r == 0)
        r = cli_client_call(cl, "POST", p.buf, NULL, &reply, err);
    sb_release(&p);
    if (r < 0)
        return -1;
    json_t *names = json_object_get(reply, "NetworksDeleted");
    if (json_array_size(names)) {
        fputs("Deleted Networks:\n", ctx->out);
        size_t i;
        json_t *v;
        json_array_foreach(names, i, v) fprintf(ctx->out, "%s\n", json_string_value(v));
    }
    return 0;
}

int cli_cmd_network(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    static const char *const aliases[] = {"list", "ls", "remove", "rm", NULL};
    static const struct cli_subcommands g = {
        .group = "network", .table = network_commands, .aliases = aliases};
    return cli_run_subcommand(ctx, args, &g, err);
}
