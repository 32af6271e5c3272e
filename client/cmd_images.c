/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth images, history, image inspect / inspect, tag, rmi, image prune, and the `berth image`
 * management command. Tables and --format follow docker's formatter package: the same default
 * templates, headers and {{json .}} keys.
 */
#include "client/images.h"

#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/units.h"
#include "client/format.h"

static const char image_table[] = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince "
                                  "}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
static const char image_table_digest[] =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince "
    "}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
static const char history_table[] =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
static const char history_table_raw[] =
    "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

static const char *image_label(const char *path, void *ud)
{
    (void)ud;
    static const char *const map[][2] = {
        {"ID", "IMAGE ID"},
        {"Repository", "REPOSITORY"},
        {"Tag", "TAG"},
        {"Digest", "DIGEST"},
        {"CreatedSince", "CREATED"},
        {"CreatedAt", "CREATED AT"},
        {"Size", "SIZE"},
        {"Containers", "CONTAINERS"},
        {"VirtualSize", "SIZE"},
        {"SharedSize", "SHARED SIZE"},
        {"UniqueSize", "UNIQUE SIZE"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (strcmp(path, map[i][0]) == 0)
            return map[i][1];
    }
    return NULL;
}

static const char *history_label(const char *path, void *ud)
{
    (void)ud;
    static const char *const map[][2] = {
        {"ID", "IMAGE"},
        {"CreatedSince", "CREATED"},
        {"CreatedAt", "CREATED AT"},
        {"CreatedBy", "CREATED BY"},
        {"Size", "SIZE"},
        {"Comment", "COMMENT"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (strcmp(path, map[i][0]) == 0)
            return map[i][1];
    }
    return NULL;
}

/* Go's time.Time.String() in local time: "2024-01-02 03:04:05 +0000 UTC". */
void cli_go_time_string(int64_t t, char out[80])
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    if (strftime(out, 80, "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
        out[0] = '\0';
}

static char *image_path(const char *name, const char *suffix)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/images/");
    cli_path_escape(name, &p);
    sb_adds(&p, suffix);
    return sb_steal(&p);
}

/* --filter k=v (repeated) into docker's map form; *bad gets the offending value. */
json_t *cli_filters_from_flags(const struct cli_args *args, const char **bad)
{
    json_t *f = json_object();
    const struct cli_flag_val *v = cli_flag(args, "filter");
    for (size_t i = 0; v && i < v->nlist; i++) {
        const char *kv = v->list[i];
        const char *eq = strchr(kv, '=');
        if (!eq) {
            *bad = kv;
            json_decref(f);
            return NULL;
        }
        /* filters.ParseFlag: the name lower-cased, both sides trimmed. */
        size_t s = 0, e = (size_t)(eq - kv);
        while (s < e && kv[s] == ' ')
            s++;
        while (e > s && kv[e - 1] == ' ')
            e--;
        _cleanup_free_ char *name = xstrndup(kv + s, e - s);
        for (char *p = name; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        const char *val = eq + 1;
        while (*val == ' ')
            val++;
        size_t vl = strlen(val);
        while (vl > 0 && val[vl - 1] == ' ')
            vl--;
        _cleanup_free_ char *value = xstrndup(val, vl);
        json_t *set = json_object_get(f, name);
        if (!set) {
            set = json_object();
            json_object_set_new(f, name, set);
        }
        json_object_set_new(set, value, json_true());
    }
    return f;
}

int cli_bad_filter(struct cli_ctx *ctx, const struct cli_args *args, const char *bad)
{
    bool shorthand = false;
    for (const struct cli_flag *f = args->cmd->flags; f && f->name; f++)
        shorthand = shorthand || (strcmp(f->name, "filter") == 0 && f->shorthand == 'f');
    _cleanup_free_ char *msg =
        xasprintf("invalid argument \"%s\" for \"%s\" flag: bad format of filter (expected "
                  "name=value)",
                  bad, shorthand ? "-f, --filter" : "--filter");
    return cli_usage_error(ctx, args->cmd, 125, msg);
}

static void add_filters_query(struct sb *p, json_t *filters, bool *first)
{
    if (json_object_size(filters) == 0)
        return;
    _cleanup_free_ char *js = json_dumps(filters, JSON_COMPACT);
    sb_adds(p, *first ? "?filters=" : "&filters=");
    cli_query_escape(js ? js : "{}", p);
    *first = false;
}

/* ---- berth images ----------------------------------------------------------------------- */

struct image_row_ctx {
    bool trunc;
    int64_t now;
    json_t *rows;
};

static const char *sizes_na(int64_t v, char buf[32], int precision)
{
    if (v == -1)
        return "N/A";
    api_human_size((double)v, precision, buf);
    return buf;
}

/* One row as docker's imageContext marshals it: every field a string, keys sorted. */
static void image_row(struct image_row_ctx *c, const struct api_image_summary *s, int64_t shared,
                      const char *repo, const char *tag, const char *digest)
{
    char created_at[80], since[80], id[13], size[32], vsize[32], ssize[32], usize[32];
    cli_go_time_string(s->created, created_at);
    cli_created_since(s->created, c->now, since);
    cli_trunc_id(s->id, id);
    api_human_size((double)s->size, 3, size);
    api_human_size((double)s->size, 4, vsize);
    _cleanup_free_ char *containers =
        s->containers == -1 ? xstrdup("N/A") : xasprintf("%lld", (long long)s->containers);
    json_t *r = json_object();
    json_object_set_new(r, "Containers", json_string(containers));
    json_object_set_new(r, "CreatedAt", json_string(created_at));
    json_object_set_new(r, "CreatedSince", json_string(since));
    json_object_set_new(r, "Digest", json_string(digest));
    json_object_set_new(r, "ID", json_string(c->trunc ? id : s->id));
    json_object_set_new(r, "Repository", json_string(repo));
    json_object_set_new(r, "SharedSize", json_string(sizes_na(shared, ssize, 4)));
    json_object_set_new(r, "Size", json_string(size));
    json_object_set_new(r, "Tag", json_string(tag));
    json_object_set_new(
        r, "UniqueSize",
        json_string(s->size == -1 || shared == -1 ? "N/A" : sizes_na(s->size - shared, usize, 4)));
    json_object_set_new(r, "VirtualSize", json_string(vsize));
    json_array_append_new(c->rows, r);
}

static bool is_dangling(const struct api_image_summary *s)
{
    char **t = s->repo_tags, **d = s->repo_digests;
    if ((!t || !t[0]) && (!d || !d[0]))
        return true;
    return t && t[0] && !t[1] && strcmp(t[0], "<none>:<none>") == 0 && d && d[0] && !d[1] &&
           strcmp(d[0], "<none>@<none>") == 0;
}

/* A repository seen in RepoTags or RepoDigests, in order of first appearance. */
struct repo_refs {
    char *repo;
    char **tags, **digests;
    size_t ntags, ndigests;
    bool digests_used;
};

static struct repo_refs *repo_get(struct repo_refs **v, size_t *n, const char *repo)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*v)[i].repo, repo) == 0)
            return &(*v)[i];
    }
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    struct repo_refs *r = &(*v)[(*n)++];
    memset(r, 0, sizeof(*r));
    r->repo = xstrdup(repo);
    return r;
}

static void strv_push(char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = xstrdup(s);
}

static void collect_refs(char **list, bool digests, struct repo_refs **v, size_t *n)
{
    for (char **p = list; p && *p; p++) {
        struct cli_ref ref;
        if (cli_ref_parse(*p, &ref, NULL) < 0)
            continue;
        if (digests ? ref.digest != NULL : (ref.tag != NULL && !ref.digest)) {
            _cleanup_free_ char *fam = cli_ref_familiar(&ref);
            struct repo_refs *r = repo_get(v, n, fam);
            if (digests)
                strv_push(&r->digests, &r->ndigests, ref.digest);
            else
                strv_push(&r->tags, &r->ntags, ref.tag);
        }
        cli_ref_release(&ref);
    }
}

/* imageFormatTaggedAndDigest: one row per tag (per digest too when digests are wanted). */
static void image_rows(struct image_row_ctx *c, const struct api_image_summary *s, int64_t shared,
                       bool need_digest, bool show_digests)
{
    if (is_dangling(s)) {
        image_row(c, s, shared, "<none>", "<none>", "<none>");
        return;
    }
    struct repo_refs *v = NULL;
    size_t n = 0;
    collect_refs(s->repo_tags, false, &v, &n);
    collect_refs(s->repo_digests, true, &v, &n);
    for (size_t i = 0; i < n; i++) {
        struct repo_refs *r = &v[i];
        if (r->ntags == 0)
            continue;
        r->digests_used = true;
        for (size_t t = 0; t < r->ntags; t++) {
            if (!need_digest || r->ndigests == 0)
                image_row(c, s, shared, r->repo, r->tags[t], "<none>");
            for (size_t d = 0; need_digest && d < r->ndigests; d++)
                image_row(c, s, shared, r->repo, r->tags[t], r->digests[d]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct repo_refs *r = &v[i];
        if (!r->digests_used && show_digests) {
            for (size_t d = 0; d < r->ndigests; d++)
                image_row(c, s, shared, r->repo, "<none>", r->digests[d]);
        } else if (!r->digests_used) {
            image_row(c, s, shared, r->repo, "<none>", "");
        }
        for (size_t k = 0; k < r->ntags; k++)
            free(r->tags[k]);
        for (size_t k = 0; k < r->ndigests; k++)
            free(r->digests[k]);
        free(r->tags);
        free(r->digests);
        free(r->repo);
    }
    free(v);
}

struct summary_item {
    struct api_image_summary s;
    int64_t shared;
    size_t order;
};

static int by_created_desc(const void *a, const void *b)
{
    const struct summary_item *x = a, *y = b;
    if (x->s.created != y->s.created)
        return x->s.created > y->s.created ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Decodes the list reply and sorts it newest first (stable). */
static int decode_summaries(json_t *reply, struct summary_item **out, size_t *n, struct err **err)
{
    size_t count = json_array_size(reply);
    struct summary_item *v = xcalloc(count ? count : 1, sizeof(*v));
    for (size_t i = 0; i < count; i++) {
        json_t *j = json_array_get(reply, i);
        if (api_image_summary_decode(j, &v[i].s, err) < 0) {
            for (size_t k = 0; k < i; k++)
                api_image_summary_release(&v[k].s);
            free(v);
            return err_wrap(err, "decoding the image list");
        }
        json_t *sh = json_object_get(j, "SharedSize");
        v[i].shared = json_is_integer(sh) ? json_integer_value(sh) : -1;
        v[i].order = i;
    }
    qsort(v, count, sizeof(*v), by_created_desc);
    *out = v;
    *n = count;
    return 0;
}

/* NewImageFormat: the user's template, or docker's defaults for "table" and -q. */
static char *images_format(const char *user, bool quiet, bool digests)
{
    if (!user || !*user || strcmp(user, "table") == 0) {
        if (quiet)
            return xstrdup("{{.ID}}");
        return xstrdup(digests ? image_table_digest : image_table);
    }
    if (strncmp(user, "table", 5) == 0 && digests && !strstr(user, "{{.Digest}}"))
        return xasprintf("%s\t{{.Digest}}", user);
    return xstrdup(user);
}

static char *images_query(const struct cli_args *args, json_t *filters)
{
    struct sb p = SB_INIT;
    bool first = true;
    sb_adds(&p, "/images/json");
    if (cli_flag_bool(args, "all")) {
        sb_adds(&p, "?all=1");
        first = false;
    }
    add_filters_query(&p, filters, &first);
    return sb_steal(&p);
}

int cli_cmd_images(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    if (args->argc > 0) {
        json_t *set = json_object_get(filters, "reference");
        if (!set) {
            set = json_object();
            json_object_set_new(filters, "reference", set);
        }
        json_object_set_new(set, args->argv[0], json_true());
    }
    bool digests = cli_flag_bool(args, "digests");
    _cleanup_free_ char *fmt =
        images_format(cli_flag_str(args, "format"), cli_flag_bool(args, "quiet"), digests);
    struct cli_format *probe = NULL;
    if (cli_format_parse(fmt, &probe, err) < 0)
        return -1;
    cli_format_free(probe);

    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    _cleanup_free_ char *path = images_query(args, filters);
    json_auto_t *reply = NULL;
    if (cli_client_call(cl, "GET", path, NULL, &reply, err) < 0)
        return -1;
    struct summary_item *items = NULL;
    size_t n = 0;
    if (decode_summaries(reply, &items, &n, err) < 0)
        return -1;
    json_auto_t *rows = json_array();
    struct image_row_ctx c = {
        .trunc = !cli_flag_bool(args, "no-trunc"), .now = (int64_t)time(NULL), .rows = rows};
    bool need_digest = digests || strstr(fmt, "{{.Digest}}");
    for (size_t i = 0; i < n; i++) {
        image_rows(&c, &items[i].s, items[i].shared, need_digest, digests);
        api_image_summary_release(&items[i].s);
    }
    free(items);
    return cli_format_list(fmt, rows, image_label, NULL, ctx->out, err);
}

/* ---- berth history ---------------------------------------------------------------------- */

static json_t *history_row(const struct api_history_item *h, bool trunc, bool human, int64_t now)
{
    char at[40], since[80], id[13], size[32];
    time_t t = (time_t)h->created;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (h->created > 0)
        cli_created_since(h->created, now, since);
    else
        snprintf(since, sizeof(since), "N/A"); /* docker shows no age for a zero time */
    cli_trunc_id(h->id, id);
    if (human)
        api_human_size((double)h->size, 3, size);
    else
        snprintf(size, sizeof(size), "%lld", (long long)h->size);
    _cleanup_free_ char *by = xstrdup(h->created_by);
    for (char *p = by; *p; p++)
        *p = *p == '\t' ? ' ' : *p;
    _cleanup_free_ char *shown = trunc ? cli_ellipsis(by, 45) : xstrdup(by);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment", h->comment, "CreatedAt", at,
                     "CreatedBy", shown, "CreatedSince", human ? since : at, "ID",
                     trunc ? id : h->id, "Size", size);
}

int cli_cmd_history(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *hv = cli_flag_str(args, "human");
    bool human = !hv || strcmp(hv, "true") == 0;
    bool trunc = !cli_flag_bool(args, "no-trunc");
    const char *user = cli_flag_str(args, "format");
    const char *fmt = user && *user && strcmp(user, "table") != 0 ? user
                      : cli_flag_bool(args, "quiet")              ? "{{.ID}}"
                      : human                                     ? history_table
                                                                  : history_table_raw;
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    _cleanup_free_ char *path = image_path(args->argv[0], "/history");
    json_auto_t *reply = NULL;
    if (cli_client_call(cl, "GET", path, NULL, &reply, err) < 0)
        return -1;
    struct api_history_item *items = NULL;
    size_t n = 0;
    if (api_history_decode(reply, &items, &n, err) < 0)
        return err_wrap(err, "decoding the image history");
    json_auto_t *rows = json_array();
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        json_t *row = history_row(&items[i], trunc, human, now);
        if (row)
            json_array_append_new(rows, row);
    }
    api_history_free(items, n);
    return cli_format_list(fmt, rows, history_label, NULL, ctx->out, err);
}

/* ---- inspect ---------------------------------------------------------------------------- */

struct raw_sink {
    struct sb body;
};

static int raw_put(const char *data, size_t len, void *ud, struct err **err)
{
    struct raw_sink *s = ud;
    if (s->body.len + len > CLI_HTTP_MAX_BODY)
        return err_set(err, ERR_TOO_LARGE, 0, "the daemon's response exceeds %u bytes",
                       CLI_HTTP_MAX_BODY);
    sb_add(&s->body, data, len);
    return 0;
}

/* GET an object's JSON as the raw bytes the daemon sent. */
static int fetch_raw(struct cli_ctx *ctx, const char *path, char **out, size_t *len,
                     struct err **err)
{
    struct raw_sink s = {.body = SB_INIT};
    if (cli_api_stream(ctx, "GET", path, NULL, -1, NULL, raw_put, &s, NULL, err) < 0) {
        sb_release(&s.body);
        return -1;
    }
    *len = s.body.len;
    *out = s.body.buf ? sb_steal(&s.body) : xstrdup("");
    return 0;
}

/* The inspector: raw elements indented as one array, or a template per element. */
struct inspector {
    const char *fmt;
    struct cli_format *tmpl;
    struct sb raw;  /* "[a,b" so far */
    struct sb text; /* template output */
    size_t count;
    struct sb errors;
};

static int inspector_add(struct inspector *in, const char *raw, size_t len, struct err **err)
{
    if (!in->tmpl) {
        sb_adds(&in->raw, in->count ? "," : "[");
        sb_add(&in->raw, raw, len);
        in->count++;
        return 0;
    }
    json_t *j = NULL;
    if (api_json_parse(raw, len, &j, err) < 0)
        return err_wrap(err, "decoding the daemon's reply");
    int r = cli_format_exec(in->tmpl, j, &in->text, err);
    json_decref(j);
    if (r == 0) {
        sb_addc(&in->text, '\n');
        in->count++;
    }
    return r;
}

static void inspector_error(struct inspector *in, const char *msg)
{
    if (in->errors.len)
        sb_addc(&in->errors, '\n');
    sb_adds(&in->errors, msg);
}

/* Prints the result and the errors; the exit status. */
static int inspector_flush(struct cli_ctx *ctx, struct inspector *in, struct err **err)
{
    int r = 0;
    if (in->tmpl) {
        fputs(in->count ? sb_str(&in->text) : "\n", ctx->out);
    } else if (in->count == 0) {
        fputs("[]\n", ctx->out);
    } else {
        sb_addc(&in->raw, ']');
        struct sb out = SB_INIT;
        r = cli_json_indent(in->raw.buf, in->raw.len, "    ", &out, err);
        if (r == 0)
            fprintf(ctx->out, "%s\n", sb_str(&out));
        sb_release(&out);
    }
    if (r < 0)
        return err_wrap(err, "decoding the daemon's reply");
    if (in->errors.len) {
        fflush(ctx->out);
        fprintf(ctx->errf, "%s\n", in->errors.buf);
        return 1;
    }
    return 0;
}

static void inspector_release(struct inspector *in)
{
    cli_format_free(in->tmpl);
    sb_release(&in->raw);
    sb_release(&in->text);
    sb_release(&in->errors);
}

static int inspector_init(struct inspector *in, const char *fmt, struct err **err)
{
    memset(in, 0, sizeof(*in));
    in->fmt = fmt;
    if (fmt && *fmt && strcmp(fmt, "json") != 0 && cli_format_parse(fmt, &in->tmpl, err) < 0)
        return -1;
    return 0;
}

/* Tries one object kind; 1 when it does not exist (404), so the next kind is tried. */
static int inspect_try(struct cli_ctx *ctx, struct inspector *in, const char *kind,
                       const char *name, bool size, struct err **err)
{
    struct sb p = SB_INIT;
    sb_addf(&p, "/%s/", kind);
    cli_path_escape(name, &p);
    sb_adds(&p, "/json");
    if (size && strcmp(kind, "containers") == 0)
        sb_adds(&p, "?size=1");
    char *raw = NULL;
    size_t len = 0;
    int r = fetch_raw(ctx, p.buf, &raw, &len, err);
    sb_release(&p);
    if (r < 0)
        return (*err)->kind == ERR_NOT_FOUND ? 1 : -1;
    r = inspector_add(in, raw, len, err);
    free(raw);
    return r;
}

static int inspect_run(struct cli_ctx *ctx, const struct cli_args *args, const char *type,
                       struct err **err)
{
    struct inspector in;
    if (inspector_init(&in, cli_flag_str(args, "format"), err) < 0)
        return -1;
    static const char *const kinds[][2] = {{"container", "containers"}, {"image", "images"}};
    for (int i = 0; i < args->argc; i++) {
        int r = 1;
        _cleanup_err_ struct err *e = NULL;
        for (size_t k = 0; k < ARRAY_SIZE(kinds) && r == 1; k++) {
            if (type && strcmp(type, kinds[k][0]) != 0)
                continue;
            err_freep(&e);
            r = inspect_try(ctx, &in, kinds[k][1], args->argv[i], cli_flag_bool(args, "size"), &e);
        }
        if (r == 1 && !type) {
            _cleanup_free_ char *msg = xasprintf("Error: No such object: %s", args->argv[i]);
            inspector_error(&in, msg);
        } else if (r != 0) {
            inspector_error(&in, e ? e->msg : "unknown error");
        }
    }
    int status = inspector_flush(ctx, &in, err);
    inspector_release(&in);
    return status;
}

int cli_cmd_image_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    return inspect_run(ctx, args, "image", err);
}

int cli_cmd_container_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    return inspect_run(ctx, args, "container", err);
}

int cli_cmd_inspect(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *type = cli_flag_str(args, "type");
    if (type && *type && strcmp(type, "container") != 0 && strcmp(type, "image") != 0)
        return err_set(err, ERR_INVALID, 0, "\"%s\" is not a valid value for --type", type);
    return inspect_run(ctx, args, type && *type ? type : NULL, err);
}

/* ---- berth tag -------------------------------------------------------------------------- */

static bool is_id_ref(const char *s)
{
    return cli_is_hex64(s) || (strncmp(s, "sha256:", 7) == 0 && cli_is_hex64(s + 7));
}

int cli_cmd_tag(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *source = args->argv[0], *target = args->argv[1];
    struct cli_ref ref;
    if (!is_id_ref(source)) {
        if (cli_ref_parse(source, &ref, err) < 0)
            return err_wrap(err, "Error parsing reference: \"%s\" is not a valid repository/tag",
                            source);
        cli_ref_release(&ref);
    }
    if (cli_ref_parse(target, &ref, err) < 0)
        return err_wrap(err, "Error parsing reference: \"%s\" is not a valid repository/tag",
                        target);
    if (ref.digest) {
        cli_ref_release(&ref);
        return err_set(err, ERR_INVALID, 0, "refusing to create a tag with a digest reference");
    }
    _cleanup_free_ char *name = cli_ref_name(&ref);
    struct sb p = SB_INIT;
    sb_adds(&p, "/images/");
    cli_path_escape(source, &p);
    sb_adds(&p, "/tag?repo=");
    cli_query_escape(name, &p);
    sb_adds(&p, "&tag=");
    cli_query_escape(ref.tag ? ref.tag : "latest", &p);
    cli_ref_release(&ref);
    struct cli_client *cl = NULL;
    int r = cli_ctx_client(ctx, &cl, err);
    if (r == 0)
        r = cli_client_call(cl, "POST", p.buf, NULL, NULL, err);
    sb_release(&p);
    return r;
}

/* ---- berth rmi -------------------------------------------------------------------------- */

static void print_deleted(FILE *out, const struct api_delete_item *items, size_t n, bool prune)
{
    for (size_t i = 0; i < n; i++) {
        if (items[i].deleted)
            fprintf(out, prune ? "deleted: %s\n" : "Deleted: %s\n", items[i].deleted);
        else
            fprintf(out, prune ? "untagged: %s\n" : "Untagged: %s\n", items[i].untagged);
    }
}

int cli_cmd_rmi(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    bool force = cli_flag_bool(args, "force");
    bool noprune = cli_flag_bool(args, "no-prune");
    const char *query = force && noprune ? "?force=1&noprune=1"
                        : force          ? "?force=1"
                        : noprune        ? "?noprune=1"
                                         : "";
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    struct sb errors = SB_INIT;
    bool fatal = false;
    for (int i = 0; i < args->argc; i++) {
        _cleanup_free_ char *base = image_path(args->argv[i], "");
        _cleanup_free_ char *path = xasprintf("%s%s", base, query);
        json_auto_t *reply = NULL;
        _cleanup_err_ struct err *e = NULL;
        struct api_delete_item *items = NULL;
        size_t n = 0;
        if (cli_client_call(cl, "DELETE", path, NULL, &reply, &e) < 0 ||
            api_delete_decode(reply, &items, &n, &e) < 0) {
            fatal = fatal || e->kind != ERR_NOT_FOUND;
            sb_addf(&errors, "%s%s", errors.len ? "\n" : "", e->msg);
            continue;
        }
        print_deleted(ctx->out, items, n, false);
        api_delete_free(items, n);
    }
    int status = 0;
    if (errors.len) {
        fflush(ctx->out);
        fprintf(ctx->errf, "%s\n", errors.buf);
        /* With -f a missing image is reported but is not a failure, as in docker. */
        status = !force || fatal ? 1 : 0;
    }
    sb_release(&errors);
    return status;
}

/* ---- berth image prune ------------------------------------------------------------------ */

bool cli_confirm(struct cli_ctx *ctx, const char *warning)
{
    fprintf(ctx->out, "%s [y/N] ", warning);
    fflush(ctx->out);
    char *line = NULL;
    size_t cap = 0;
    bool yes = false;
    if (getline(&line, &cap, stdin) >= 0) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        yes = (p[0] == 'y' || p[0] == 'Y') && (p[1] == '\0' || strchr(" \t\r\n", p[1]));
    }
    free(line);
    return yes;
}

static int prune_print(struct cli_ctx *ctx, json_t *reply, struct err **err)
{
    struct api_delete_item *items = NULL;
    size_t n = 0;
    if (api_delete_decode(json_object_get(reply, "ImagesDeleted"), &items, &n, err) < 0)
        return err_wrap(err, "decoding the prune report");
    if (n) {
        fputs("Deleted Images:\n", ctx->out);
        print_deleted(ctx->out, items, n, true);
        fputc('\n', ctx->out);
    }
    api_delete_free(items, n);
    char size[32];
    json_t *sr = json_object_get(reply, "SpaceReclaimed");
    api_human_size(json_is_integer(sr) ? (double)json_integer_value(sr) : 0, 4, size);
    fprintf(ctx->out, "Total reclaimed space: %s\n", size);
    return 0;
}

int cli_cmd_image_prune(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    bool all = cli_flag_bool(args, "all");
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    json_object_set_new(filters, "dangling", json_pack("{s:b}", all ? "false" : "true", 1));
    const char *warning =
        all ? "WARNING! This will remove all images without at least one container associated "
              "to them.\nAre you sure you want to continue?"
            : "WARNING! This will remove all dangling images.\nAre you sure you want to continue?";
    if (!cli_flag_bool(args, "force") && !cli_confirm(ctx, warning)) {
        fputs("Total reclaimed space: 0B\n", ctx->out);
        return 0;
    }
    struct sb p = SB_INIT;
    bool first = true;
    sb_adds(&p, "/images/prune");
    add_filters_query(&p, filters, &first);
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    int r = cli_ctx_client(ctx, &cl, err);
    if (r == 0)
        r = cli_client_call(cl, "POST", p.buf, NULL, &reply, err);
    sb_release(&p);
    return r < 0 ? -1 : prune_print(ctx, reply, err);
}

/* ---- berth image ------------------------------------------------------------------------ */

int cli_cmd_image(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    static const char *const aliases[] = {"list", "ls", "remove", "rm", "rmi", "rm", NULL};
    static const struct cli_subcommands g = {
        .group = "image", .table = cli_image_commands, .aliases = aliases};
    return cli_run_subcommand(ctx, args, &g, err);
}
