/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth stop, restart, kill, wait, rm, rename, pause, unpause, top, ps, logs and container
 * prune. The commands over several containers print each name as given, each failure on
 * stderr as "Error response from daemon: ...", and exit 1 when any failed, as docker does.
 */
#include "client/containers.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "client/format.h"
#include "client/images.h"

/* ---- one request per container ---------------------------------------------------------- */

struct each {
    const char *method;
    const char *suffix;  /* "/stop?t=3" */
    bool print_status;   /* wait: print StatusCode instead of the name */
    bool ignore_missing; /* rm -f */
};

static int each_container(struct cli_ctx *ctx, const struct cli_args *args, const struct each *op,
                          struct err **err)
{
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    int status = 0;
    for (int i = 0; i < args->argc; i++) {
        _cleanup_free_ char *path = cli_ctr_path(args->argv[i], op->suffix);
        _cleanup_err_ struct err *e = NULL;
        json_auto_t *reply = NULL;
        if (cli_client_call(cl, op->method, path, NULL, op->print_status ? &reply : NULL, &e) < 0) {
            if (op->ignore_missing && e->kind == ERR_NOT_FOUND)
                continue;
            fflush(ctx->out);
            fprintf(ctx->errf, "%s\n", e->msg);
            status = 1;
            continue;
        }
        if (op->print_status)
            fprintf(ctx->out, "%lld\n",
                    (long long)json_integer_value(json_object_get(reply, "StatusCode")));
        else
            fprintf(ctx->out, "%s\n", args->argv[i]);
    }
    return status;
}

/* "?signal=X&t=N" from -s and -t (or the hidden --time), in Go's sorted key order. */
static int stop_query(const struct cli_args *args, const char *verb, char **out, struct err **err)
{
    const char *sig = cli_flag_str(args, "signal");
    const char *t = cli_flag_str(args, "timeout");
    if (!t)
        t = cli_flag_str(args, "time");
    if (t) {
        char *end = NULL;
        errno = 0;
        long v = strtol(t, &end, 10);
        if (!*t || *end || errno || v < -1)
            return err_set(err, ERR_INVALID, 0,
                           "invalid argument \"%s\" for \"-t, --timeout\" flag: strconv.ParseInt: "
                           "parsing \"%s\": invalid syntax",
                           t, t);
    }
    struct sb q = SB_INIT;
    sb_adds(&q, verb);
    if (sig) {
        sb_adds(&q, "?signal=");
        cli_query_escape(sig, &q);
    }
    if (t)
        sb_addf(&q, "%st=%s", sig ? "&" : "?", t);
    *out = sb_steal(&q);
    return 0;
}

int cli_cmd_stop(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    _cleanup_free_ char *suffix = NULL;
    if (stop_query(args, "/stop", &suffix, err) < 0)
        return -1;
    struct each op = {.method = "POST", .suffix = suffix};
    return each_container(ctx, args, &op, err);
}

int cli_cmd_restart(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    _cleanup_free_ char *suffix = NULL;
    if (stop_query(args, "/restart", &suffix, err) < 0)
        return -1;
    struct each op = {.method = "POST", .suffix = suffix};
    return each_container(ctx, args, &op, err);
}

int cli_cmd_kill(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *sig = cli_flag_str(args, "signal");
    struct sb q = SB_INIT;
    sb_adds(&q, "/kill");
    if (sig && *sig) {
        sb_adds(&q, "?signal=");
        cli_query_escape(sig, &q);
    }
    struct each op = {.method = "POST", .suffix = q.buf};
    int r = each_container(ctx, args, &op, err);
    sb_release(&q);
    return r;
}

int cli_cmd_wait(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct each op = {.method = "POST", .suffix = "/wait", .print_status = true};
    return each_container(ctx, args, &op, err);
}

int cli_cmd_rm(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    bool force = cli_flag_bool(args, "force");
    struct sb q = SB_INIT;
    if (force)
        sb_adds(&q, "?force=1");
    if (cli_flag_bool(args, "link"))
        sb_adds(&q, q.len ? "&link=1" : "?link=1");
    if (cli_flag_bool(args, "volumes"))
        sb_adds(&q, q.len ? "&v=1" : "?v=1");
    struct each op = {.method = "DELETE", .suffix = sb_str(&q), .ignore_missing = force};
    int r = each_container(ctx, args, &op, err);
    sb_release(&q);
    return r;
}

int cli_cmd_pause(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct each op = {.method = "POST", .suffix = "/pause"};
    return each_container(ctx, args, &op, err);
}

int cli_cmd_unpause(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct each op = {.method = "POST", .suffix = "/unpause"};
    return each_container(ctx, args, &op, err);
}

static char *trim_dup(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    size_t l = strlen(s);
    while (l > 0 && strchr(" \t\n", s[l - 1]))
        l--;
    return xstrndup(s, l);
}

int cli_cmd_rename(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    _cleanup_free_ char *old = trim_dup(args->argv[0]);
    _cleanup_free_ char *new_name = trim_dup(args->argv[1]);
    if (!*old || !*new_name)
        return err_set(err, ERR_INVALID, 0, "Error: Neither old nor new names may be empty");
    struct sb q = SB_INIT;
    sb_adds(&q, "/rename?name=");
    cli_query_escape(new_name, &q);
    _cleanup_free_ char *path = cli_ctr_path(old, q.buf);
    sb_release(&q);
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    return cli_client_call(cl, "POST", path, NULL, NULL, err);
}

/* ---- top -------------------------------------------------------------------------------- */

static void add_row(struct cli_table *t, json_t *cells)
{
    size_t i;
    json_t *c;
    json_array_foreach(cells, i, c)
    {
        const char *s = json_string_value(c);
        cli_table_addf(t, "%s%s", i ? "\t" : "", s ? s : "");
    }
    cli_table_add(t, "\n", 1);
}

int cli_cmd_top(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct sb q = SB_INIT;
    sb_adds(&q, "/top");
    for (int i = 1; i < args->argc; i++) {
        sb_adds(&q, i == 1 ? "?ps_args=" : "+");
        cli_query_escape(args->argv[i], &q);
    }
    _cleanup_free_ char *path = cli_ctr_path(args->argv[0], q.buf);
    sb_release(&q);
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "GET", path, NULL, &reply, err) < 0)
        return -1;
    struct cli_table t;
    cli_table_init(&t, 20, 3);
    add_row(&t, json_object_get(reply, "Titles"));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(reply, "Processes"), i, p)
    {
        add_row(&t, p);
    }
    struct sb out = SB_INIT;
    cli_table_render(&t, &out);
    fputs(sb_str(&out), ctx->out);
    sb_release(&out);
    cli_table_release(&t);
    return 0;
}

/* ---- ps --------------------------------------------------------------------------------- */

static const char ps_table[] = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t"
                               "{{.Status}}\t{{.Ports}}\t{{.Names}}";

static const char *ps_label(const char *path, void *ud)
{
    (void)ud;
    static const char *const map[][2] = {
        {"ID", "CONTAINER ID"},      {"Image", "IMAGE"},        {"Command", "COMMAND"},
        {"CreatedAt", "CREATED AT"}, {"RunningFor", "CREATED"}, {"Ports", "PORTS"},
        {"State", "STATE"},          {"Status", "STATUS"},      {"Size", "SIZE"},
        {"Names", "NAMES"},          {"Labels", "LABELS"},      {"Label", "LABEL"},
        {"Mounts", "MOUNTS"},        {"Networks", "NETWORKS"},  {"LocalVolumes", "LOCAL VOLUMES"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (strcmp(path, map[i][0]) == 0)
            return map[i][1];
    }
    return NULL;
}

static char *ps_format(const struct cli_args *args)
{
    const char *user = cli_flag_str(args, "format");
    bool size = cli_flag_bool(args, "size");
    if (cli_flag_bool(args, "quiet") && (!user || !*user || strcmp(user, "table") == 0))
        return xstrdup("{{.ID}}");
    if (!user || !*user || strcmp(user, "table") == 0)
        return size ? xasprintf("%s\t{{.Size}}", ps_table) : xstrdup(ps_table);
    return xstrdup(user);
}

static int ps_query(const struct cli_args *args, const char *fmt, json_t *filters, char **out,
                    struct err **err)
{
    long last = -1;
    const char *n = cli_flag_str(args, "last");
    if (n) {
        char *end = NULL;
        errno = 0;
        last = strtol(n, &end, 10);
        if (!*n || *end || errno)
            return err_set(err, ERR_INVALID, 0,
                           "invalid argument \"%s\" for \"-n, --last\" flag: strconv.ParseInt: "
                           "parsing \"%s\": invalid syntax",
                           n, n);
    }
    if (cli_flag_bool(args, "latest") && last == -1)
        last = 1;
    struct sb p = SB_INIT;
    sb_adds(&p, "/containers/json");
    char sep = '?';
    if (cli_flag_bool(args, "all")) {
        sb_addf(&p, "%call=1", sep);
        sep = '&';
    }
    if (json_object_size(filters)) {
        _cleanup_free_ char *js = json_dumps(filters, JSON_COMPACT);
        sb_addf(&p, "%cfilters=", sep);
        cli_query_escape(js ? js : "{}", &p);
        sep = '&';
    }
    if (last > 0) {
        sb_addf(&p, "%climit=%ld", sep, last);
        sep = '&';
    }
    if (cli_flag_bool(args, "size") || strstr(fmt, ".Size"))
        sb_addf(&p, "%csize=1", sep);
    *out = sb_steal(&p);
    return 0;
}

int cli_cmd_ps(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    _cleanup_free_ char *fmt = ps_format(args);
    struct cli_format *probe = NULL;
    if (cli_format_parse(fmt, &probe, err) < 0)
        return -1;
    cli_format_free(probe);
    _cleanup_free_ char *path = NULL;
    if (ps_query(args, fmt, filters, &path, err) < 0)
        return -1;
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "GET", path, NULL, &reply, err) < 0)
        return -1;
    if (!json_is_array(reply))
        return err_set(err, ERR_INTERNAL, 0, "decoding the container list: expected an array");
    bool trunc = !cli_flag_bool(args, "no-trunc");
    bool with_label = strstr(fmt, ".Label ") != NULL;
    int64_t now = (int64_t)time(NULL);
    json_auto_t *rows = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(reply, i, item)
    {
        json_t *row = json_is_object(item) ? cli_ps_row(item, trunc, now, with_label) : NULL;
        if (row)
            json_array_append_new(rows, row);
    }
    return cli_format_list(fmt, rows, ps_label, NULL, ctx->out, err);
}

/* ---- logs ------------------------------------------------------------------------------- */

static int demux_put(const char *data, size_t len, void *ud, struct err **err)
{
    return cli_demux_feed(ud, data, len, err);
}

static int logs_time(const struct cli_args *args, const char *flag, struct sb *q, struct err **err)
{
    const char *v = cli_flag_str(args, flag);
    if (!v || !*v)
        return 0;
    _cleanup_free_ char *ts = NULL;
    if (api_timestamp_get(v, (int64_t)time(NULL), &ts, err) < 0)
        return -1;
    sb_addf(q, "&%s=", flag);
    cli_query_escape(ts, q);
    return 0;
}

static int logs_query(const struct cli_args *args, const char *id, char **out, struct err **err)
{
    struct sb q = SB_INIT;
    sb_adds(&q, "/logs?");
    if (cli_flag_bool(args, "details"))
        sb_adds(&q, "details=1&");
    if (cli_flag_bool(args, "follow"))
        sb_adds(&q, "follow=1&");
    sb_adds(&q, "stderr=1&stdout=1&tail=");
    const char *tail = cli_flag_str(args, "tail");
    cli_query_escape(tail && *tail ? tail : "all", &q);
    if (cli_flag_bool(args, "timestamps"))
        sb_adds(&q, "&timestamps=1");
    if (logs_time(args, "since", &q, err) < 0 || logs_time(args, "until", &q, err) < 0) {
        sb_release(&q);
        return -1;
    }
    *out = cli_ctr_path(id, q.buf);
    sb_release(&q);
    return 0;
}

int cli_cmd_logs(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct cli_client *cl = NULL;
    json_auto_t *info = NULL;
    _cleanup_free_ char *ipath = cli_ctr_path(args->argv[0], "/json");
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "GET", ipath, NULL, &info, err) < 0)
        return -1;
    const char *id = json_string_value(json_object_get(info, "Id"));
    if (!id)
        return err_set(err, ERR_INTERNAL, 0, "the daemon's inspect reply has no Id");
    bool tty = json_is_true(json_object_get(json_object_get(info, "Config"), "Tty"));
    _cleanup_free_ char *path = NULL;
    if (logs_query(args, id, &path, err) < 0)
        return -1;
    struct cli_demux d;
    cli_demux_init(&d, ctx->out, ctx->errf, tty);
    return cli_api_stream(ctx, "GET", path, NULL, -1, NULL, demux_put, &d, NULL, err);
}

/* ---- container prune -------------------------------------------------------------------- */

int cli_cmd_container_prune(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    if (!cli_flag_bool(args, "force") &&
        !cli_confirm(ctx, "WARNING! This will remove all stopped containers.\nAre you sure you "
                          "want to continue?")) {
        fputs("Total reclaimed space: 0B\n", ctx->out);
        return 0;
    }
    struct sb p = SB_INIT;
    sb_adds(&p, "/containers/prune");
    if (json_object_size(filters)) {
        _cleanup_free_ char *js = json_dumps(filters, JSON_COMPACT);
        sb_adds(&p, "?filters=");
        cli_query_escape(js ? js : "{}", &p);
    }
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    int r = cli_ctx_client(ctx, &cl, err);
    if (r == 0)
        r = cli_client_call(cl, "POST", p.buf, NULL, &reply, err);
    sb_release(&p);
    if (r < 0)
        return -1;
    cli_print_pruned(ctx, "Deleted Containers", reply, "ContainersDeleted");
    return 0;
}
