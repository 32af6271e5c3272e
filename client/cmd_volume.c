/* SPDX-License-Identifier: Apache-2.0 */
/* berth volume create|ls|inspect|rm|prune, as docker's CLI (28) has them. */
#include "client/cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/units.h"
#include "client/format.h"
#include "client/http.h"
#include "client/images.h"

/* docker's help text, wrapped where docker wraps it on an 80-column terminal. */
#define VOL_FORMAT_HELP_TAIL                                                                       \
    "'json':             Print in JSON format\n"                                                   \
    "'TEMPLATE':         Print output using the given\n"                                           \
    "Go template.\n"                                                                               \
    "Refer to https://docs.docker.com/go/formatting/\n"                                            \
    "for more information about formatting output with\n"                                          \
    "templates"

static const struct cli_flag create_flags[] = {
    {.name = "driver",
     .shorthand = 'd',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Specify volume driver name",
     .def = "\"local\""},
    {.name = "label", .type = CLI_FLAG_LIST, .arg = "list", .help = "Set metadata for a volume"},
    {.name = "name",
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Specify volume name",
     .hidden = true},
    {.name = "opt",
     .shorthand = 'o',
     .type = CLI_FLAG_LIST,
     .arg = "map",
     .help = "Set driver specific options",
     .def = "map[]"},
    {.name = NULL},
};

static const struct cli_flag ls_flags[] = {
    {.name = "filter",
     .shorthand = 'f',
     .type = CLI_FLAG_LIST,
     .arg = "filter",
     .help = "Provide filter values (e.g. \"dangling=true\")"},
    {.name = "format",
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Format output using a custom template:\n"
             "'table':            Print output in table format\n"
             "with column headers (default)\n"
             "'table TEMPLATE':   Print output in table format\n"
             "using the given Go template\n" VOL_FORMAT_HELP_TAIL},
    {.name = "quiet", .shorthand = 'q', .type = CLI_FLAG_BOOL, .help = "Only display volume names"},
    {.name = NULL},
};

static const struct cli_flag inspect_flags[] = {
    {.name = "format",
     .shorthand = 'f',
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Format output using a custom template:\n" VOL_FORMAT_HELP_TAIL},
    {.name = NULL},
};

static const struct cli_flag rm_flags[] = {
    {.name = "force",
     .shorthand = 'f',
     .type = CLI_FLAG_BOOL,
     .help = "Force the removal of one or more volumes"},
    {.name = NULL},
};

static const struct cli_flag prune_flags[] = {
    {.name = "all",
     .shorthand = 'a',
     .type = CLI_FLAG_BOOL,
     .help = "Remove all unused volumes, not just anonymous ones"},
    {.name = "filter",
     .type = CLI_FLAG_LIST,
     .arg = "filter",
     .help = "Provide filter values (e.g. \"label=<label>\")"},
    {.name = "force",
     .shorthand = 'f',
     .type = CLI_FLAG_BOOL,
     .help = "Do not prompt for confirmation"},
    {.name = NULL},
};

static int vol_create(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int vol_ls(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int vol_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int vol_rm(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);
static int vol_prune(struct cli_ctx *ctx, const struct cli_args *args, struct err **err);

static const struct cli_cmd volume_commands[] = {
    {.name = "volume create",
     .summary = "Create a volume",
     .usage = "[OPTIONS] [VOLUME]",
     .flags = create_flags,
     .max_args = 1,
     .run = vol_create},
    {.name = "volume inspect",
     .summary = "Display detailed information on one or more volumes",
     .usage = "[OPTIONS] VOLUME [VOLUME...]",
     .flags = inspect_flags,
     .min_args = 1,
     .max_args = -1,
     .run = vol_inspect},
    {.name = "volume ls",
     .summary = "List volumes",
     .usage = "[OPTIONS]",
     .aliases = "berth volume ls, berth volume list",
     .flags = ls_flags,
     .max_args = 0,
     .run = vol_ls},
    {.name = "volume prune",
     .summary = "Remove unused local volumes",
     .usage = "[OPTIONS]",
     .flags = prune_flags,
     .max_args = 0,
     .run = vol_prune},
    {.name = "volume rm",
     .summary = "Remove one or more volumes",
     .usage = "[OPTIONS] VOLUME [VOLUME...]",
     .description = "Remove one or more volumes. You cannot remove a volume that is in use by a "
                    "container.",
     .aliases = "berth volume rm, berth volume remove",
     .flags = rm_flags,
     .min_args = 1,
     .max_args = -1,
     .run = vol_rm},
    {.name = NULL},
};

/* "/volumes<suffix>" with "?filters=<json>" when there are any. Caller frees. */
static char *filtered_path(const char *suffix, json_t *filters)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/volumes");
    sb_adds(&p, suffix);
    if (json_object_size(filters)) {
        _cleanup_free_ char *js = json_dumps(filters, JSON_COMPACT);
        sb_adds(&p, "?filters=");
        cli_query_escape(js ? js : "{}", &p);
    }
    return sb_steal(&p);
}

/* ---- create ----------------------------------------------------------------------------- */

/* "k=v" items of a list flag into an object ("k" alone maps to ""), as docker's MapOpts. */
static json_t *kv_object(const struct cli_args *args, const char *flag)
{
    json_t *o = json_object();
    const struct cli_flag_val *v = cli_flag(args, flag);
    for (size_t i = 0; v && i < v->nlist; i++) {
        const char *eq = strchr(v->list[i], '=');
        _cleanup_free_ char *k =
            eq ? xstrndup(v->list[i], (size_t)(eq - v->list[i])) : xstrdup(v->list[i]);
        json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
    }
    return o;
}

/* docker's ValidateLabel: the name before '=' must not be blank. Returns the bad value. */
static const char *bad_label(const struct cli_args *args)
{
    const struct cli_flag_val *v = cli_flag(args, "label");
    for (size_t i = 0; v && i < v->nlist; i++) {
        const char *s = v->list[i];
        const char *end = strchr(s, '=');
        bool blank = true;
        for (const char *p = s; p < (end ? end : s + strlen(s)); p++)
            blank = blank && isspace((unsigned char)*p);
        if (blank)
            return s;
    }
    return NULL;
}

static int vol_create(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *name = cli_flag_str(args, "name");
    if (args->argc == 1) {
        if (name && *name)
            return err_set(err, ERR_INVALID, 0,
                           "conflicting options: cannot specify a volume-name through both "
                           "--name and as a positional arg");
        name = args->argv[0];
    }
    const char *bad = bad_label(args);
    if (bad) {
        _cleanup_free_ char *msg = xasprintf(
            "invalid argument \"%s\" for \"--label\" flag: invalid label '%s': empty name", bad,
            bad);
        return cli_usage_error(ctx, args->cmd, 125, msg);
    }
    const char *drv = cli_flag_str(args, "driver");
    json_auto_t *body = json_pack("{s:s, s:o, s:o, s:s}", "Driver", drv ? drv : "local",
                                  "DriverOpts", kv_object(args, "opt"), "Labels",
                                  kv_object(args, "label"), "Name", name ? name : "");
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "POST", "/volumes/create", body, &reply, err) < 0)
        return -1;
    const char *created = json_string_value(json_object_get(reply, "Name"));
    fprintf(ctx->out, "%s\n", created ? created : "");
    return 0;
}

/*
 * Prints JSON text as Go's json.Marshal spells it: <, > and & as \u003c, \u003e, \u0026, and
 * U+2028/U+2029 escaped. Outside strings JSON has none of these bytes, so a plain scan does.
 */
static void print_go_json(FILE *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '<' || c == '>' || c == '&') {
            fprintf(out, "\\u00%02x", c);
        } else if (c == 0xe2 && (unsigned char)p[1] == 0x80 &&
                   ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9)) {
            fprintf(out, "\\u202%c", (unsigned char)p[2] == 0xa8 ? '8' : '9');
            p += 2;
        } else {
            fputc(c, out);
        }
    }
    fputc('\n', out);
}

/* ---- ls --------------------------------------------------------------------------------- */

/* sortorder.NaturalLess: runs of digits compare by value, digits before anything else. */
static int natural_cmp(const char *a, const char *b)
{
    size_t i = 0, j = 0, la = strlen(a), lb = strlen(b);
    while (i < la && j < lb) {
        bool da = isdigit((unsigned char)a[i]), db = isdigit((unsigned char)b[j]);
        if (da != db)
            return da ? -1 : 1;
        if (!da) {
            if (a[i] != b[j])
                return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
            i++, j++;
            continue;
        }
        while (i < la && a[i] == '0')
            i++;
        while (j < lb && b[j] == '0')
            j++;
        size_t si = i, sj = j;
        while (i < la && isdigit((unsigned char)a[i]))
            i++;
        while (j < lb && isdigit((unsigned char)b[j]))
            j++;
        if (i - si != j - sj)
            return i - si < j - sj ? -1 : 1;
        int c = strncmp(a + si, b + sj, i - si);
        if (c != 0)
            return c;
        if (si != sj) /* the same number: fewer leading zeros first */
            return si < sj ? -1 : 1;
    }
    return la - i < lb - j ? -1 : (la - i > lb - j ? 1 : 0);
}

static int row_cmp(const void *x, const void *y)
{
    const char *a = json_string_value(json_object_get(*(json_t *const *)x, "Name"));
    const char *b = json_string_value(json_object_get(*(json_t *const *)y, "Name"));
    return natural_cmp(a ? a : "", b ? b : "");
}

static int key_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Labels as "k=v,k2=v2" (sorted: Go's map order is random, so any order is docker's). */
static char *labels_str(json_t *labels)
{
    size_t n = json_object_size(labels), k = 0;
    if (n == 0)
        return xstrdup("");
    const char **keys = xmalloc(n * sizeof(*keys));
    const char *key;
    json_t *v;
    json_object_foreach(labels, key, v) keys[k++] = key;
    qsort(keys, n, sizeof(*keys), key_cmp);
    struct sb sb = SB_INIT;
    for (size_t i = 0; i < n; i++) {
        const char *val = json_string_value(json_object_get(labels, keys[i]));
        sb_addf(&sb, "%s%s=%s", i ? "," : "", keys[i], val ? val : "");
    }
    free(keys);
    sb_str(&sb);
    return sb_steal(&sb);
}

static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* One row as docker's volumeContext marshals it: every method a string, keys sorted. */
static json_t *ls_row(json_t *v, bool with_label)
{
    json_t *labels = json_object_get(v, "Labels");
    json_t *usage = json_object_get(v, "UsageData");
    _cleanup_free_ char *ls = labels_str(labels);
    _cleanup_free_ char *links = NULL;
    char size[32] = "N/A";
    if (json_is_object(usage)) {
        links = xasprintf("%" JSON_INTEGER_FORMAT,
                          json_integer_value(json_object_get(usage, "RefCount")));
        api_human_size((double)json_integer_value(json_object_get(usage, "Size")), 4, size);
    }
    json_t *r =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Availability", "N/A",
                  "Driver", str_of(v, "Driver"), "Group", "N/A", "Labels", ls, "Links",
                  links ? links : "N/A", "Mountpoint", str_of(v, "Mountpoint"), "Name",
                  str_of(v, "Name"), "Scope", str_of(v, "Scope"), "Size", size, "Status", "N/A");
    if (r && with_label)
        json_object_set_new(r, "Label",
                            json_is_object(labels) ? json_incref(labels) : json_object());
    return r;
}

static const char *ls_label(const char *path, void *ud)
{
    (void)ud;
    static const char *const map[][2] = {
        {"Name", "VOLUME NAME"},
        {"Mountpoint", "MOUNTPOINT"},
        {"Links", "LINKS"},
        {"Group", "GROUP"},
        {"Availability", "AVAILABILITY"},
        {"Status", "STATUS"},
        {"Driver", "DRIVER"},
        {"Scope", "SCOPE"},
        {"Labels", "LABELS"},
        {"Size", "SIZE"},
        {"ID", "ID"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (strcmp(path, map[i][0]) == 0)
            return map[i][1];
    }
    return NULL;
}

/* formatter.NewVolumeFormat: table (and -q) defaults, "raw", or the user's template. */
static const char *ls_format(const struct cli_args *args)
{
    const char *fmt = cli_flag_str(args, "format");
    bool quiet = cli_flag_bool(args, "quiet");
    if (!fmt || !*fmt || strcmp(fmt, "table") == 0)
        return quiet ? "{{.Name}}" : "table {{.Driver}}\t{{.Name}}";
    if (strcmp(fmt, "raw") == 0)
        return quiet ? "name: {{.Name}}" : "name: {{.Name}}\\ndriver: {{.Driver}}\\n";
    return fmt;
}

static int vol_ls(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    _cleanup_free_ char *path = filtered_path("", filters);
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "GET", path, NULL, &reply, err) < 0)
        return -1;
    json_t *vols = json_object_get(reply, "Volumes");
    const char *fmt = ls_format(args);
    bool with_label = strstr(fmt, ".Label ") != NULL;
    size_t n = json_array_size(vols);
    json_t **sorted = xcalloc(n ? n : 1, sizeof(*sorted));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_is_object(json_array_get(vols, i))
                          ? ls_row(json_array_get(vols, i), with_label)
                          : NULL;
        if (row)
            sorted[k++] = row;
    }
    qsort(sorted, k, sizeof(*sorted), row_cmp);
    json_auto_t *rows = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(rows, sorted[i]);
    free(sorted);
    if (strcmp(fmt, "json") == 0) {
        /* docker marshals each row itself (MarshalJSON), with Go's HTML-safe escapes. */
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            _cleanup_free_ char *s = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
            print_go_json(ctx->out, s ? s : "{}");
        }
        return 0;
    }
    return cli_format_list(fmt, rows, ls_label, NULL, ctx->out, err) < 0 ? -1 : 0;
}

/* ---- inspect ---------------------------------------------------------------------------- */

/* A deep copy of v with every object's keys in sorted order, as Go marshals a map. */
static json_t *sorted_copy(json_t *v)
{
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) json_array_append_new(a, sorted_copy(e));
        return a;
    }
    if (!json_is_object(v))
        return json_incref(v);
    size_t n = json_object_size(v), k = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
    const char *key;
    json_t *e;
    json_object_foreach(v, key, e) keys[k++] = key;
    qsort(keys, n, sizeof(*keys), key_cmp);
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, keys[i], sorted_copy(json_object_get(v, keys[i])));
    free(keys);
    return o;
}

/*
 * The volume as docker's CLI re-encodes its volume.Volume: the struct's field order, map keys
 * sorted, CreatedAt, Status and UsageData left out when empty, Labels and Options null when
 * absent. A template (nil_maps false) sees absent maps as empty ones, as Go's template prints a
 * nil map "map[]".
 */
static json_t *inspect_view(json_t *v, bool nil_maps)
{
    json_t *o = json_object();
    const char *created = str_of(v, "CreatedAt");
    if (*created)
        json_object_set_new(o, "CreatedAt", json_string(created));
    json_object_set_new(o, "Driver", json_string(str_of(v, "Driver")));
    static const char *const fields[] = {"Labels", "Mountpoint", "Name", "Options", "Scope"};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        json_t *f = json_object_get(v, fields[i]);
        bool map = fields[i][0] == 'L' || fields[i][0] == 'O';
        if (map && !json_is_object(f))
            json_object_set_new(o, fields[i], nil_maps ? json_null() : json_object());
        else if (map)
            json_object_set_new(o, fields[i], sorted_copy(f));
        else
            json_object_set_new(o, fields[i], json_string(str_of(v, fields[i])));
    }
    json_t *status = json_object_get(v, "Status");
    if (json_object_size(status))
        json_object_set_new(o, "Status", sorted_copy(status));
    json_t *usage = json_object_get(v, "UsageData");
    if (json_is_object(usage))
        json_object_set_new(o, "UsageData", sorted_copy(usage));
    return o;
}

/* Prints the volumes gathered by vol_inspect: indented, compact ("json") or per template. */
static void inspect_flush(struct cli_ctx *ctx, const char *fmt, json_t *all, struct sb *lines)
{
    if (fmt && *fmt && strcmp(fmt, "json") != 0) {
        if (lines->len == 0)
            sb_addc(lines, '\n');
        fwrite(lines->buf, 1, lines->len, ctx->out);
        return;
    }
    size_t flags = fmt && *fmt ? JSON_COMPACT : JSON_INDENT(4);
    _cleanup_free_ char *s = json_dumps(all, flags | JSON_PRESERVE_ORDER);
    print_go_json(ctx->out, s ? s : "[]");
}

/* What was printed goes out first, then every failure together, as docker; 1 if any. */
static int flush_errors(struct cli_ctx *ctx, struct sb *errs)
{
    fflush(ctx->out);
    int status = errs->len ? 1 : 0;
    if (errs->len)
        fwrite(errs->buf, 1, errs->len, ctx->errf);
    sb_release(errs);
    return status;
}

static int vol_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *fmt = cli_flag_str(args, "format");
    bool tmpl = fmt && *fmt && strcmp(fmt, "json") != 0;
    struct cli_format *f = NULL;
    _cleanup_err_ struct err *perr = NULL;
    if (tmpl && cli_format_parse(fmt, &f, &perr) < 0) {
        fprintf(ctx->errf, "%s\n", perr->msg);
        return 64;
    }
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0) {
        cli_format_free(f);
        return -1;
    }
    json_auto_t *all = json_array();
    struct sb lines = SB_INIT, errs = SB_INIT;
    for (int i = 0; i < args->argc; i++) {
        struct sb p = SB_INIT;
        sb_adds(&p, "/volumes/");
        cli_path_escape(args->argv[i], &p);
        json_auto_t *reply = NULL;
        _cleanup_err_ struct err *e = NULL;
        int r = cli_client_call(cl, "GET", p.buf, NULL, &reply, &e);
        sb_release(&p);
        if (r == 0 && !tmpl) {
            json_array_append_new(all, inspect_view(reply, true));
            continue;
        }
        if (r == 0) {
            json_auto_t *view = inspect_view(reply, strstr(fmt, "json") != NULL);
            struct sb out = SB_INIT;
            r = cli_format_exec(f, view, &out, &e);
            if (r == 0) {
                sb_add(&lines, out.buf, out.len);
                sb_addc(&lines, '\n');
            }
            sb_release(&out);
        }
        if (r < 0)
            sb_addf(&errs, "%s\n", e->msg);
    }
    cli_format_free(f);
    inspect_flush(ctx, fmt, all, &lines);
    sb_release(&lines);
    return flush_errors(ctx, &errs);
}

/* ---- rm --------------------------------------------------------------------------------- */

static int vol_rm(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    bool force = cli_flag_bool(args, "force");
    struct sb errs = SB_INIT;
    for (int i = 0; i < args->argc; i++) {
        struct sb p = SB_INIT;
        sb_adds(&p, "/volumes/");
        cli_path_escape(args->argv[i], &p);
        if (force)
            sb_adds(&p, "?force=1");
        _cleanup_err_ struct err *e = NULL;
        int r = cli_client_call(cl, "DELETE", p.buf, NULL, NULL, &e);
        sb_release(&p);
        if (r < 0)
            sb_addf(&errs, "%s\n", e->msg);
        else
            fprintf(ctx->out, "%s\n", args->argv[i]);
    }
    /* docker prints every failure together, after the names it removed. */
    return flush_errors(ctx, &errs);
}

/* ---- prune ------------------------------------------------------------------------------ */

static int vol_prune(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    bool all = cli_flag_bool(args, "all");
    if (all) {
        if (json_object_get(filters, "all"))
            return err_set(err, ERR_INVALID, 0,
                           "conflicting options: cannot specify both --all and --filter all=1");
        json_object_set_new(filters, "all", json_pack("{s:b}", "true", 1));
    }
    /* docker 28: a "no" cancels quietly, exit status 0 and nothing after the prompt. */
    if (!cli_flag_bool(args, "force") &&
        !cli_confirm(ctx, all ? "WARNING! This will remove all local volumes not used by at least "
                                "one container.\nAre you sure you want to continue?"
                              : "WARNING! This will remove anonymous local volumes not used by "
                                "at least one container.\nAre you sure you want to continue?"))
        return 0;
    _cleanup_free_ char *path = filtered_path("/prune", filters);
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "POST", path, NULL, &reply, err) < 0)
        return -1;
    cli_print_pruned(ctx, "Deleted Volumes", reply, "VolumesDeleted");
    return 0;
}

int cli_cmd_volume(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    static const char *const aliases[] = {"list", "ls", "remove", "rm", NULL};
    /* docker 28's wording for this group */
    static const struct cli_subcommands g = {
        .group = "volume",
        .table = volume_commands,
        .aliases = aliases,
        .unknown = {"berth: unknown command: berth volume ",
                    "\n\nUsage:  berth volume COMMAND\n\nRun 'berth volume --help' for more "
                    "information\n"}};
    return cli_run_subcommand(ctx, args, &g, err);
}
