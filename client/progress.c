/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the docker CLI prints around images: go-units durations, truncated ids, Go's
 * json.Indent, URL escaping, and jsonmessage's progress-stream display.
 */
#include "client/images.h"

#include <string.h>
#include <sys/ioctl.h>

#include "api/api.h"
#include "api/units.h"

void cli_human_duration(int64_t seconds, char out[64])
{
    if (seconds < 1) {
        snprintf(out, 64, "Less than a second");
        return;
    }
    if (seconds == 1) {
        snprintf(out, 64, "1 second");
        return;
    }
    if (seconds < 60) {
        snprintf(out, 64, "%lld seconds", (long long)seconds);
        return;
    }
    int64_t minutes = seconds / 60;
    if (minutes == 1) {
        snprintf(out, 64, "About a minute");
        return;
    }
    if (minutes < 60) {
        snprintf(out, 64, "%lld minutes", (long long)minutes);
        return;
    }
    int64_t hours = (seconds + 1800) / 3600; /* math.Round of the hours */
    if (hours == 1)
        snprintf(out, 64, "About an hour");
    else if (hours < 48)
        snprintf(out, 64, "%lld hours", (long long)hours);
    else if (hours < 24 * 7 * 2)
        snprintf(out, 64, "%lld days", (long long)(hours / 24));
    else if (hours < 24 * 30 * 2)
        snprintf(out, 64, "%lld weeks", (long long)(hours / 24 / 7));
    else if (hours < 24 * 365 * 2)
        snprintf(out, 64, "%lld months", (long long)(hours / 24 / 30));
    else
        snprintf(out, 64, "%lld years", (long long)(seconds / 3600 / 24 / 365));
}

void cli_created_since(int64_t t, int64_t now, char out[80])
{
    char d[64];
    cli_human_duration(now - t, d);
    snprintf(out, 80, "%s ago", d);
}

void cli_trunc_id(const char *id, char out[13])
{
    const char *colon = strchr(id, ':');
    if (colon)
        id = colon + 1;
    snprintf(out, 13, "%s", id);
}

char *cli_ellipsis(const char *s, size_t max)
{
    size_t width = 0;
    for (const char *p = s; *p; p++)
        width += ((unsigned char)*p & 0xc0) != 0x80;
    if (width <= max || max == 0)
        return xstrdup(max ? s : "");
    /* Keep max-1 code points, then U+2026. */
    size_t keep = 0, cps = 0;
    for (const char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80 && cps++ == max - 1)
            break;
        keep++;
    }
    return xasprintf("%.*s\xe2\x80\xa6", (int)keep, s);
}

/* ---- Go's json.Indent ------------------------------------------------------------------- */

static void indent_newline(struct sb *out, const char *indent, int depth)
{
    sb_addc(out, '\n');
    for (int i = 0; i < depth; i++)
        sb_adds(out, indent);
}

int cli_json_indent(const char *src, size_t len, const char *indent, struct sb *out,
                    struct err **err)
{
    json_error_t je;
    json_t *probe = json_loadb(src, len, JSON_DECODE_ANY, &je);
    if (!probe)
        return err_set(err, ERR_INVALID, 0, "invalid JSON: %s", je.text);
    json_decref(probe);
    bool need_indent = false, in_str = false, esc = false;
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (in_str) {
            sb_addc(out, c);
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (need_indent && c != ']' && c != '}') {
            need_indent = false;
            indent_newline(out, indent, ++depth);
        }
        switch (c) {
        case '"':
            in_str = true;
            sb_addc(out, c);
            break;
        case '{':
        case '[':
            need_indent = true;
            sb_addc(out, c);
            break;
        case ',':
            sb_addc(out, c);
            indent_newline(out, indent, depth);
            break;
        case ':':
            sb_adds(out, ": ");
            break;
        case '}':
        case ']':
            if (need_indent)
                need_indent = false;
            else
                indent_newline(out, indent, --depth);
            sb_addc(out, c);
            break;
        default:
            sb_addc(out, c);
        }
    }
    return 0;
}

/* ---- URL escaping ----------------------------------------------------------------------- */

static bool unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

void cli_query_escape(const char *s, struct sb *out)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved((char)*p))
            sb_addc(out, (char)*p);
        else if (*p == ' ')
            sb_addc(out, '+');
        else
            sb_addf(out, "%%%02X", *p);
    }
}

void cli_path_escape(const char *s, struct sb *out)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved((char)*p) || strchr("$&+,/:;=@", *p))
            sb_addc(out, (char)*p);
        else
            sb_addf(out, "%%%02X", *p);
    }
}

/* ---- the progress stream ---------------------------------------------------------------- */

int cli_term_width(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 200;
}

void cli_jm_init(struct cli_jm *d, FILE *out, bool tty, int width)
{
    memset(d, 0, sizeof(*d));
    d->out = out;
    d->tty = tty;
    d->width = width;
    sb_init(&d->pending);
}

static void jm_forget_ids(struct cli_jm *d)
{
    for (size_t i = 0; i < d->nids; i++)
        free(d->ids[i]);
    free(d->ids);
    d->ids = NULL;
    d->nids = 0;
}

void cli_jm_release(struct cli_jm *d)
{
    jm_forget_ids(d);
    sb_release(&d->pending);
    free(d->error);
    d->error = NULL;
}

static const char *s_or(const char *s)
{
    return s ? s : "";
}

/* jsonmessage's Display of one message. */
static void jm_display(struct cli_jm *d, const struct api_progress *m)
{
    struct sb bar = SB_INIT;
    const char *endl = "";
    if (m->has_detail)
        api_progress_bar(m->current, m->total, d->width, &bar);
    if (d->tty && !(m->stream && *m->stream) && m->has_detail) {
        fputs("\x1b[2K\r", d->out);
        endl = "\r";
    } else if (m->has_detail && bar.len > 0) {
        sb_release(&bar); /* no bars off a terminal */
        return;
    }
    if (m->id && *m->id)
        fprintf(d->out, "%s: ", m->id);
    if (m->has_detail && d->tty)
        fprintf(d->out, "%s %s%s", s_or(m->status), sb_str(&bar), endl);
    else if (m->stream && *m->stream)
        fprintf(d->out, "%s%s", m->stream, endl);
    else
        fprintf(d->out, "%s%s\n", s_or(m->status), endl);
    sb_release(&bar);
}

/* The cursor bookkeeping of DisplayJSONMessagesStream around one message. */
static void jm_message(struct cli_jm *d, const struct api_progress *m)
{
    if (m->error) {
        d->error = xstrdup(m->error);
        return;
    }
    if (m->aux) {
        if (d->aux_fn)
            d->aux_fn(m->aux, d->aux_ud);
        return;
    }
    size_t diff = 0;
    bool has_id = m->id && *m->id;
    if (has_id && m->has_detail) {
        size_t line = 0;
        while (line < d->nids && strcmp(d->ids[line], m->id) != 0)
            line++;
        if (line == d->nids) {
            d->ids = xrealloc(d->ids, (d->nids + 1) * sizeof(*d->ids));
            d->ids[d->nids++] = xstrdup(m->id);
            if (d->tty)
                fputc('\n', d->out);
        }
        diff = d->nids - line;
        if (d->tty && diff)
            fprintf(d->out, "\x1b[%zuA", diff);
    } else {
        /* Something else printed: earlier layer lines are no longer redrawn. */
        jm_forget_ids(d);
    }
    jm_display(d, m);
    if (has_id && d->tty && diff)
        fprintf(d->out, "\x1b[%zuB", diff);
}

static int jm_line(struct cli_jm *d, const char *line, size_t len, struct err **err)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    while (len > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    if (len == 0 || d->error)
        return 0;
    json_t *j = NULL;
    if (api_json_parse(line, len, &j, err) < 0)
        return err_wrap(err, "reading the daemon's progress stream");
    struct api_progress m;
    int r = api_progress_decode(j, &m, err);
    json_decref(j);
    if (r < 0)
        return err_wrap(err, "reading the daemon's progress stream");
    jm_message(d, &m);
    api_progress_release(&m);
    return 0;
}

int cli_jm_feed(struct cli_jm *d, const char *data, size_t len, struct err **err)
{
    sb_add(&d->pending, data, len);
    size_t start = 0;
    for (;;) {
        char *nl = memchr(d->pending.buf + start, '\n', d->pending.len - start);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (d->pending.buf + start));
        if (jm_line(d, d->pending.buf + start, n, err) < 0)
            return -1;
        start += n + 1;
    }
    sb_consume(&d->pending, start);
    if (d->pending.len > CLI_JM_MAX_LINE)
        return err_set(err, ERR_TOO_LARGE, 0,
                       "a message in the daemon's progress stream exceeds %d bytes",
                       CLI_JM_MAX_LINE);
    fflush(d->out);
    return 0;
}

int cli_jm_finish(struct cli_jm *d, struct err **err)
{
    int r = jm_line(d, d->pending.buf ? d->pending.buf : "", d->pending.len, err);
    sb_reset(&d->pending);
    fflush(d->out);
    return r;
}
