/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Progress stream messages (docker's jsonmessage), human sizes and the progress bar. Encoding
 * follows Go's encoding/json byte for byte: docker's field order, omitted empty fields, and the
 * HTML-safe escapes (\u003c, \u003e, \u0026) Go writes.
 */
#include "api/json_util.h"
#include "api/units.h"

#include <stdio.h>
#include <string.h>

void api_human_size(double size, int precision, char out[32])
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    size_t i = 0;
    while (size >= 1000.0 && i + 1 < ARRAY_SIZE(units)) {
        size /= 1000.0;
        i++;
    }
    snprintf(out, 32, "%.*g%s", precision, size, units[i]);
}

/* Go's fmt "%8v" of a string: right-aligned in 8 columns. */
static void add_padded8(struct sb *out, const char *s)
{
    for (size_t n = strlen(s); n < 8; n++)
        sb_addc(out, ' ');
    sb_adds(out, s);
}

void api_progress_bar(int64_t current, int64_t total, int width, struct sb *out)
{
    char cur[32], tot[32];
    if (current <= 0 && total <= 0)
        return;
    api_human_size((double)current, 4, cur);
    if (total <= 0) {
        add_padded8(out, cur);
        return;
    }
    int pct = (int)((double)current / (double)total * 100) / 2;
    if (pct > 50)
        pct = 50;
    if (width > 110) {
        sb_addc(out, '[');
        for (int i = 0; i < pct; i++)
            sb_addc(out, '=');
        sb_addc(out, '>');
        for (int i = pct; i < 50; i++)
            sb_addc(out, ' ');
        sb_adds(out, "] ");
    }
    add_padded8(out, cur);
    if (current <= total) {
        api_human_size((double)total, 4, tot);
        sb_addf(out, "/%s", tot);
    }
}

/*
 * Rewrites jansson's compact output the way Go's encoder spells it: <, > and & as \u003c,
 * \u003e, \u0026; U+2028 and U+2029 escaped; \b and \f as \u0008 and \u000c; lowercase hex in
 * \u escapes. Outside strings JSON has none of these bytes, so a plain scan is enough.
 */
static void go_escape(const char *s, struct sb *out)
{
    static const char hex[] = "0123456789abcdef";
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '<' || c == '>' || c == '&') {
            sb_addf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
        } else if (c == 0xe2 && (unsigned char)p[1] == 0x80 &&
                   ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9)) {
            sb_addf(out, "\\u202%c", (unsigned char)p[2] == 0xa8 ? '8' : '9');
            p += 2;
        } else if (c == '\\' && p[1] == 'b') {
            sb_adds(out, "\\u0008");
            p++;
        } else if (c == '\\' && p[1] == 'f') {
            sb_adds(out, "\\u000c");
            p++;
        } else if (c == '\\' && p[1] == 'u') {
            sb_adds(out, "\\u");
            p += 2;
            for (int i = 0; i < 4 && *p; i++, p++)
                sb_addc(out, (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p));
            p--;
        } else if (c == '\\' && p[1]) {
            sb_add(out, p, 2);
            p++;
        } else {
            sb_addc(out, (char)c);
        }
    }
}

/* A string value; invalid UTF-8 (which jansson refuses) becomes U+FFFD like Go's encoder. */
static json_t *str_value(const char *s)
{
    json_t *v = json_string(s);
    if (v)
        return v;
    struct sb fixed = SB_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80)
            sb_addc(&fixed, (char)*p);
        else
            sb_adds(&fixed, "\xef\xbf\xbd");
    }
    v = json_string(sb_str(&fixed));
    sb_release(&fixed);
    return v;
}

static json_t *progress_detail(const struct api_progress *p)
{
    json_t *d = json_object();
    if (p->current)
        json_object_set_new(d, "current", json_integer(p->current));
    if (p->total)
        json_object_set_new(d, "total", json_integer(p->total));
    return d;
}

char *api_progress_encode(const struct api_progress *p)
{
    json_auto_t *j = json_object();
    if (p->stream && *p->stream)
        json_object_set_new(j, "stream", str_value(p->stream));
    if (p->status && *p->status)
        json_object_set_new(j, "status", str_value(p->status));
    if (p->has_detail) {
        json_object_set_new(j, "progressDetail", progress_detail(p));
        struct sb bar = SB_INIT;
        /* What dockerd renders without a terminal: 200 columns, so with the bar. */
        api_progress_bar(p->current, p->total, 200, &bar);
        if (bar.len)
            json_object_set_new(j, "progress", json_string(bar.buf));
        sb_release(&bar);
    }
    if (p->id && *p->id)
        json_object_set_new(j, "id", str_value(p->id));
    if (p->error) {
        json_object_set_new(j, "errorDetail", json_pack("{s:o}", "message", str_value(p->error)));
        json_object_set_new(j, "error", str_value(p->error));
    }
    if (p->aux)
        json_object_set(j, "aux", p->aux);
    char *raw = json_dumps(j, JSON_COMPACT);
    if (!raw)
        abort(); /* only on OOM: every value above is valid */
    struct sb out = SB_INIT;
    go_escape(raw, &out);
    free(raw);
    sb_addc(&out, '\n');
    return sb_steal(&out);
}

static int decode_detail(const json_t *j, struct api_progress *out, struct err **err)
{
    json_t *d = json_object_get(j, "progressDetail");
    if (!d || json_is_null(d))
        return 0;
    if (!json_is_object(d))
        return err_set(err, ERR_INVALID, 0, "field progressDetail: expected an object");
    out->has_detail = true;
    if (apij_int(d, "current", &out->current, err) < 0 ||
        apij_int(d, "total", &out->total, err) < 0)
        return err_wrap(err, "field progressDetail");
    return 0;
}

/*
 * Only errorDetail makes a message an error, as for the docker CLI; a bare "error" string is
 * ignored. errorDetail.code 401 reads "authentication is required" like the CLI shows it.
 */
static int decode_error(const json_t *j, struct api_progress *out, struct err **err)
{
    json_t *e = json_object_get(j, "errorDetail");
    if (!e || json_is_null(e))
        return 0;
    if (!json_is_object(e))
        return err_set(err, ERR_INVALID, 0, "field errorDetail: expected an object");
    int64_t code = 0;
    if (apij_int(e, "code", &code, err) < 0 || apij_str(e, "message", &out->error, err) < 0)
        return err_wrap(err, "field errorDetail");
    if (code == 401) {
        free(out->error);
        out->error = xstrdup("authentication is required");
    }
    if (!out->error)
        out->error = xstrdup("");
    return 0;
}

int api_progress_decode(const json_t *j, struct api_progress *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "progress message: expected an object");
    if (apij_str(j, "id", &out->id, err) < 0 || apij_str(j, "status", &out->status, err) < 0 ||
        apij_str(j, "stream", &out->stream, err) < 0 || decode_detail(j, out, err) < 0 ||
        decode_error(j, out, err) < 0) {
        api_progress_release(out);
        return -1;
    }
    json_t *aux = json_object_get(j, "aux");
    if (aux && !json_is_null(aux))
        out->aux = json_incref(aux);
    return 0;
}

void api_progress_release(struct api_progress *p)
{
    free(p->id);
    free(p->status);
    free(p->error);
    free(p->stream);
    json_decref(p->aux);
    memset(p, 0, sizeof(*p));
}
