/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth events (also `berth system events`): GET /events streamed and printed as docker's CLI
 * prints it, one flushed line per event, until the stream ends (until passed) or SIGINT/SIGTERM.
 * Also the `berth system <sub>` dispatcher.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "client/cli.h"
#include "client/format.h"
#include "client/images.h"

/* An event object is a few hundred bytes; anything this big without its end is not one. */
#define EV_MAX_PENDING (1024 * 1024)

const struct cli_flag cli_events_flags[] = {
    {.name = "filter",
     .shorthand = 'f',
     .type = CLI_FLAG_LIST,
     .arg = "filter",
     .help = "Filter output based on conditions provided"},
    {.name = "format",
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Format output using a custom template:\n"
             "'json':             Print in JSON format\n"
             "'TEMPLATE':         Print output using the given\n"
             "Go template.\n"
             "Refer to https://docs.docker.com/go/formatting/\n"
             "for more information about formatting output with\n"
             "templates"},
    {.name = "since",
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Show all events created since timestamp"},
    {.name = "until",
     .type = CLI_FLAG_STRING,
     .arg = "string",
     .help = "Stream events until this timestamp"},
    {.name = NULL},
};

/* The reader's state: bytes not yet forming a whole JSON object and where the scan stopped. */
struct ev_reader {
    struct sb buf;
    size_t scan;                  /* bytes of buf already scanned */
    int depth;                    /* object nesting at scan */
    bool in_str;                  /* scan is inside a JSON string */
    bool esc;                     /* ... right after a backslash */
    bool sparse;                  /* the template uses json: keep omitempty fields out of dot */
    const struct cli_format *fmt; /* NULL: docker's default line */
    FILE *out;
};

static const char *obj_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Go's Time.Format("2006-01-02T15:04:05.000000000Z07:00") in the local time zone. */
static void ev_time(struct sb *out, int64_t sec, long nsec)
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    sb_addf(out, "%s.%09ld", date, nsec);
    long off = tm.tm_gmtoff;
    if (off == 0) {
        sb_addc(out, 'Z');
        return;
    }
    char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    sb_addf(out, "%c%02ld:%02ld", sign, off / 3600, off / 60 % 60);
}

/* docker's prettyPrintEvent. */
static void ev_pretty(json_t *ev, struct sb *out)
{
    int64_t tn = json_integer_value(json_object_get(ev, "timeNano"));
    int64_t ts = json_integer_value(json_object_get(ev, "time"));
    if (tn != 0) {
        int64_t sec = tn / 1000000000, ns = tn % 1000000000;
        if (ns < 0) {
            sec--;
            ns += 1000000000;
        }
        ev_time(out, sec, (long)ns);
        sb_addc(out, ' ');
    } else if (ts != 0) {
        ev_time(out, ts, 0);
        sb_addc(out, ' ');
    }
    json_t *actor = json_object_get(ev, "Actor");
    sb_addf(out, "%s %s %s", obj_str(ev, "Type"), obj_str(ev, "Action"), obj_str(actor, "ID"));
    json_t *attrs = json_object_get(actor, "Attributes");
    if (json_object_size(attrs) > 0) {
        /* the attributes object was rebuilt with its keys sorted (ev_normalize) */
        const char *k;
        json_t *v;
        bool first = true;
        sb_adds(out, " (");
        json_object_foreach(attrs, k, v)
        {
            sb_addf(out, "%s%s=%s", first ? "" : ", ", k, json_string_value(v));
            first = false;
        }
        sb_addc(out, ')');
    }
    sb_addc(out, '\n');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A map[string]string as Go holds it: string values only, keys in sorted order. */
static json_t *ev_attrs(json_t *in)
{
    if (!json_is_object(in))
        return json_null();
    size_t n = json_object_size(in), i = 0;
    _cleanup_free_ const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    json_t *out = json_object();
    for (i = 0; i < n; i++) {
        const char *s = json_string_value(json_object_get(in, keys[i]));
        json_object_set_new(out, keys[i], json_string(s ? s : ""));
    }
    return out;
}

static void set_str(json_t *o, const char *key, json_t *src, const char *skey, bool omitempty)
{
    const char *s = obj_str(src, skey);
    if (!omitempty || *s)
        json_object_set_new(o, key, json_string(s));
}

static void set_int(json_t *o, const char *key, json_t *src, bool omitempty)
{
    json_int_t v = json_integer_value(json_object_get(src, key));
    if (!omitempty || v != 0)
        json_object_set_new(o, key, json_integer(v));
}

/*
 * The event as docker's events.Message: its fields in the struct's order. sparse leaves out the
 * omitempty fields that are empty, as {{json .}} prints them; otherwise they are there as "" or
 * 0, as a template's {{.From}} reads them.
 */
static json_t *ev_normalize(json_t *in, bool sparse)
{
    json_t *o = json_object();
    set_str(o, "status", in, "status", sparse);
    set_str(o, "id", in, "id", sparse);
    set_str(o, "from", in, "from", sparse);
    set_str(o, "Type", in, "Type", false);
    set_str(o, "Action", in, "Action", false);
    json_t *ain = json_object_get(in, "Actor");
    json_t *actor = json_object();
    set_str(actor, "ID", ain, "ID", false);
    json_object_set_new(actor, "Attributes", ev_attrs(json_object_get(ain, "Attributes")));
    json_object_set_new(o, "Actor", actor);
    set_str(o, "scope", in, "scope", sparse);
    set_int(o, "time", in, sparse);
    set_int(o, "timeNano", in, sparse);
    return o;
}

/* Prints one event and flushes it, with SIGINT/SIGTERM held off so a line is never cut. */
static int ev_emit(struct ev_reader *r, const char *text, size_t len, struct err **err)
{
    json_auto_t *raw = NULL;
    if (api_json_parse(text, len, &raw, err) < 0)
        return err_wrap(err, "decoding an event");
    if (!json_is_object(raw))
        return err_set(err, ERR_INTERNAL, 0, "decoding an event: not a JSON object");
    json_auto_t *ev = ev_normalize(raw, r->fmt && r->sparse);
    struct sb line = SB_INIT;
    int rc = 0;
    if (r->fmt) {
        rc = cli_format_exec(r->fmt, ev, &line, err);
        sb_addc(&line, '\n');
    } else {
        ev_pretty(ev, &line);
    }
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    fwrite(line.buf, 1, line.len, r->out);
    fflush(r->out);
    sigprocmask(SIG_SETMASK, &old, NULL);
    sb_release(&line);
    return rc;
}

/* Body bytes: complete top-level JSON objects are printed as they close. */
static int ev_feed(const char *data, size_t len, void *ud, struct err **err)
{
    struct ev_reader *r = ud;
    sb_add(&r->buf, data, len);
    size_t start = 0;
    for (size_t i = r->scan; i < r->buf.len; i++) {
        char c = r->buf.buf[i];
        if (r->in_str) {
            if (r->esc)
                r->esc = false;
            else if (c == '\\')
                r->esc = true;
            else if (c == '"')
                r->in_str = false;
        } else if (c == '"') {
            r->in_str = true;
        } else if (c == '{') {
            r->depth++;
        } else if (c == '}' && r->depth > 0) {
            if (--r->depth == 0 && ev_emit(r, r->buf.buf + start, i + 1 - start, err) < 0)
                return -1;
            if (r->depth == 0)
                start = i + 1;
        } else if (r->depth == 0 && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
            start = i + 1;
        } else if (r->depth == 0) {
            return err_set(err, ERR_INTERNAL, 0, "decoding an event: invalid character '%c'", c);
        }
    }
    sb_consume(&r->buf, start);
    r->scan = r->buf.len;
    if (r->buf.len > EV_MAX_PENDING)
        return err_set(err, ERR_INTERNAL, 0, "decoding an event: over %d bytes", EV_MAX_PENDING);
    return 0;
}

/*
 * SIGINT/SIGTERM end the stream as they end docker's CLI: a normal exit with status 128 + the
 * signal's number (130, 143), nothing printed. Every event line is already written and flushed.
 */
static void ev_on_signal(int sig)
{
    _exit(128 + sig);
}

static int ev_time_param(const struct cli_args *args, const char *flag, struct sb *q,
                         struct err **err)
{
    const char *v = cli_flag_str(args, flag);
    if (!v || !*v)
        return 0;
    _cleanup_free_ char *ts = NULL;
    if (api_timestamp_get(v, (int64_t)time(NULL), &ts, err) < 0)
        return -1;
    sb_addf(q, "%s%s=", q->len > strlen("/events") ? "&" : "?", flag);
    cli_query_escape(ts, q);
    return 0;
}

/* "/events?since=..&until=..&filters=..", as docker's client builds it. */
static int ev_path(const struct cli_args *args, json_t *filters, struct sb *q, struct err **err)
{
    sb_adds(q, "/events");
    if (ev_time_param(args, "since", q, err) < 0 || ev_time_param(args, "until", q, err) < 0)
        return -1;
    if (json_object_size(filters) > 0) {
        _cleanup_free_ char *js = json_dumps(filters, JSON_COMPACT);
        sb_adds(q, q->len > strlen("/events") ? "&filters=" : "?filters=");
        cli_query_escape(js ? js : "{}", q);
    }
    return 0;
}

/* makeTemplate: "" is the default line, "json" is {{json .}}; a bad template exits 64. */
static int ev_template(struct cli_ctx *ctx, const char *src, struct cli_format **out)
{
    *out = NULL;
    if (!src || !*src)
        return 0;
    _cleanup_err_ struct err *e = NULL;
    if (cli_format_parse(strcmp(src, "json") == 0 ? "{{json .}}" : src, out, &e) < 0) {
        fprintf(ctx->errf, "Error parsing format: %s\n", e ? e->msg : "unknown error");
        return 64;
    }
    return 0;
}

int cli_cmd_events(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *bad = NULL;
    json_auto_t *filters = cli_filters_from_flags(args, &bad);
    if (!filters)
        return cli_bad_filter(ctx, args, bad);
    const char *src = cli_flag_str(args, "format");
    struct ev_reader r = {.buf = SB_INIT, .out = ctx->out};
    struct cli_format *fmt = NULL;
    int status = ev_template(ctx, src, &fmt);
    if (status != 0)
        return status;
    r.fmt = fmt;
    r.sparse = src && strstr(src, "json") != NULL;
    struct sb path = SB_INIT;
    int rc = ev_path(args, filters, &path, err);
    if (rc == 0) {
        struct sigaction sa = {.sa_handler = ev_on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        fflush(ctx->out);
        rc = cli_api_stream(ctx, "GET", path.buf, NULL, -1, NULL, ev_feed, &r, NULL, err);
    }
    sb_release(&path);
    sb_release(&r.buf);
    cli_format_free(fmt);
    return rc;
}

/* ---- berth system <sub> ----------------------------------------------------------------- */

static const struct cli_flag info_flags[] = {
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

const struct cli_cmd cli_system_commands[] = {
    {.name = "system events",
     .summary = "Get real time events from the server",
     .usage = "[OPTIONS]",
     .aliases = "berth system events, berth events",
     .flags = cli_events_flags,
     .max_args = 0,
     .run = cli_cmd_events},
    {.name = "system info",
     .summary = "Display system-wide information",
     .usage = "[OPTIONS]",
     .aliases = "berth system info, berth info",
     .flags = info_flags,
     .max_args = 0,
     .run = cli_cmd_info},
    {.name = NULL},
};

int cli_cmd_system(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    static const struct cli_subcommands g = {.group = "system", .table = cli_system_commands};
    return cli_run_subcommand(ctx, args, &g, err);
}
