/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The http-parser adapter. http-parser calls back with pieces of the request line and the
 * headers as they arrive; we assemble them, count them against the header limit, and pause the
 * parser at "headers complete" and "message complete" so h1_feed() returns one event at a time.
 * A paused parser resumes exactly at the byte it stopped on (http_parser_pause contract).
 * A streamed body is never paused for: its bytes collect in sbody for the caller to take after
 * each h1_feed(), so the caller bounds them by how much input it feeds at once.
 */
#include "daemon/httpd/http1.h"

#include <http_parser.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

/* Bytes of the request line and each header line not passed to the callbacks. */
#define H1_LINE_OVERHEAD   12
#define H1_HEADER_OVERHEAD 4

struct h1 {
    http_parser parser;
    size_t max_header_bytes;
    size_t max_body_bytes;
    size_t max_headers;
    enum h1_phase phase;
    enum h1_event event; /* set by the callback that paused the parser */
    size_t header_bytes;
    struct h1_msg *msg; /* being parsed, or complete and not yet taken; NULL once streamed */
    bool stream;        /* the current body is streamed: its bytes go to sbody, unbounded */
    bool cl_over;       /* Content-Length is over max_body_bytes (an error unless streamed) */
    struct sb sbody;    /* streamed body bytes parsed and not yet taken */
    struct sb url;
    struct sb field;
    struct sb value;
    bool in_value;
    int status; /* an error decided by a callback: 413 or 431 */
    char *errmsg;
};

static struct h1 *h1_of(http_parser *hp)
{
    return hp->data;
}

static int h1_fail(struct h1 *p, int status, const char *msg)
{
    p->status = status;
    free(p->errmsg);
    p->errmsg = xstrdup(msg);
    return -1;
}

static int h1_count(struct h1 *p, size_t len)
{
    p->header_bytes += len;
    if (p->header_bytes > p->max_header_bytes)
        return h1_fail(p, 431, "request header fields too large");
    return 0;
}

static int on_message_begin(http_parser *hp)
{
    struct h1 *p = h1_of(hp);
    h1_msg_free(p->msg);
    p->msg = xcalloc(1, sizeof(*p->msg));
    sb_init(&p->msg->body);
    sb_add(&p->msg->body, "", 0);
    sb_reset(&p->url);
    sb_reset(&p->field);
    sb_reset(&p->value);
    p->in_value = false;
    p->stream = false;
    p->cl_over = false;
    sb_reset(&p->sbody);
    p->header_bytes = H1_LINE_OVERHEAD;
    p->phase = H1_PHASE_HEADERS;
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
    struct h1 *p = h1_of(hp);
    if (h1_count(p, len) < 0)
        return -1;
    sb_add(&p->url, at, len);
    return 0;
}

static int h1_push_header(struct h1 *p)
{
    struct h1_msg *m = p->msg;
    if (m->nhdrs >= p->max_headers)
        return h1_fail(p, 431, "request header fields too large: too many headers");
    if (h1_count(p, H1_HEADER_OVERHEAD) < 0)
        return -1;
    m->hdrs = xrealloc(m->hdrs, (m->nhdrs + 1) * sizeof(*m->hdrs));
    m->hdrs[m->nhdrs].name = sb_steal(&p->field);
    m->hdrs[m->nhdrs].value = sb_steal(&p->value);
    m->nhdrs++;
    p->in_value = false;
    return 0;
}

/* RFC 9110 token characters. The lenient parser build accepts more (spaces before the colon
 * among them, a request-smuggling pattern), so names are checked here. */
static bool h1_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    struct h1 *p = h1_of(hp);
    if (p->in_value && h1_push_header(p) < 0)
        return -1;
    if (h1_count(p, len) < 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!h1_tchar((unsigned char)at[i]))
            return h1_fail(p, 400, "malformed request: invalid character in header name");
    }
    sb_add(&p->field, at, len);
    return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    struct h1 *p = h1_of(hp);
    if (h1_count(p, len) < 0)
        return -1;
    sb_add(&p->value, at, len);
    p->in_value = true;
    return 0;
}

static const char *h1_msg_header(const struct h1_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (strcasecmp(m->hdrs[i].name, name) == 0)
            return m->hdrs[i].value;
    }
    return NULL;
}

/* Splits the target into path and query; absolute-form targets keep only their path. */
static void h1_split_url(struct h1_msg *m)
{
    const char *u = m->url;
    struct http_parser_url pu;
    if (u[0] != '/' && http_parser_parse_url(u, strlen(u), 0, &pu) == 0 &&
        (pu.field_set & (1 << UF_PATH))) {
        m->path = xstrndup(u + pu.field_data[UF_PATH].off, pu.field_data[UF_PATH].len);
        if (pu.field_set & (1 << UF_QUERY))
            m->query = xstrndup(u + pu.field_data[UF_QUERY].off, pu.field_data[UF_QUERY].len);
        else
            m->query = xstrdup("");
        return;
    }
    size_t plen = strcspn(u, "?#");
    m->path = xstrndup(u, plen);
    if (u[plen] == '?')
        m->query = xstrndup(u + plen + 1, strcspn(u + plen + 1, "#"));
    else
        m->query = xstrdup("");
}

static int on_headers_complete(http_parser *hp)
{
    struct h1 *p = h1_of(hp);
    struct h1_msg *m = p->msg;
    if (p->in_value || p->field.len > 0) {
        if (h1_push_header(p) < 0)
            return -1;
    }
    m->method = http_method_str((enum http_method)hp->method);
    m->url = sb_steal(&p->url);
    if (m->url == NULL)
        m->url = xstrdup("");
    h1_split_url(m);
    m->http_major = hp->http_major;
    m->http_minor = hp->http_minor;
    bool chunked = (hp->flags & F_CHUNKED) != 0;
    bool has_len = hp->content_length != ULLONG_MAX;
    /* Decided by h1_body_mode(): a streamed body has no limit here. */
    p->cl_over = !chunked && has_len && hp->content_length > p->max_body_bytes;
    /* Both are known now (for a request, keep-alive never depends on the body), and a streamed
     * request is handed over before its message completes. */
    m->keep_alive = http_should_keep_alive(hp) != 0;
    m->upgrade = hp->upgrade != 0;
    const char *expect = h1_msg_header(m, "Expect");
    bool has_body = chunked || (has_len && hp->content_length > 0);
    m->expect_continue = expect && strcasecmp(expect, "100-continue") == 0 && has_body &&
                         (hp->http_major > 1 || hp->http_minor >= 1);
    p->phase = H1_PHASE_BODY;
    p->event = H1_HEADERS;
    http_parser_pause(hp, 1);
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    struct h1 *p = h1_of(hp);
    if (p->stream) {
        sb_add(&p->sbody, at, len);
        return 0;
    }
    if (p->msg->body.len + len > p->max_body_bytes)
        return h1_fail(p, 413, "request body too large");
    sb_add(&p->msg->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    struct h1 *p = h1_of(hp);
    if (p->msg) {
        p->msg->keep_alive = http_should_keep_alive(hp) != 0;
        p->msg->upgrade = hp->upgrade != 0;
    }
    p->phase = H1_PHASE_IDLE;
    p->event = H1_REQUEST;
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings h1_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

struct h1 *h1_new(size_t max_header_bytes, size_t max_body_bytes, size_t max_headers)
{
    struct h1 *p = xcalloc(1, sizeof(*p));
    http_parser_init(&p->parser, HTTP_REQUEST);
    p->parser.data = p;
    p->max_header_bytes = max_header_bytes;
    p->max_body_bytes = max_body_bytes;
    p->max_headers = max_headers;
    p->phase = H1_PHASE_IDLE;
    sb_init(&p->url);
    sb_init(&p->field);
    sb_init(&p->value);
    sb_init(&p->sbody);
    return p;
}

void h1_msg_free(struct h1_msg *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nhdrs; i++) {
        free(m->hdrs[i].name);
        free(m->hdrs[i].value);
    }
    free(m->hdrs);
    free(m->url);
    free(m->path);
    free(m->query);
    sb_release(&m->body);
    free(m);
}

void h1_free(struct h1 *p)
{
    if (p == NULL)
        return;
    h1_msg_free(p->msg);
    sb_release(&p->url);
    sb_release(&p->field);
    sb_release(&p->value);
    sb_release(&p->sbody);
    free(p->errmsg);
    free(p);
}

static enum h1_event h1_parse_error(struct h1 *p, enum http_errno e)
{
    if (p->status != 0)
        return H1_ERROR;
    if (e == HPE_HEADER_OVERFLOW) {
        h1_fail(p, 431, "request header fields too large");
        return H1_ERROR;
    }
    char *msg = xasprintf("malformed HTTP request: %s", http_errno_description(e));
    h1_fail(p, 400, msg);
    free(msg);
    return H1_ERROR;
}

enum h1_event h1_feed(struct h1 *p, const char *data, size_t len, size_t *used)
{
    *used = 0;
    if (p->status != 0)
        return H1_ERROR;
    if (len == 0) /* zero length would tell http-parser the stream ended */
        return H1_MORE;
    if (p->phase == H1_PHASE_BODY && p->cl_over && !p->stream) {
        h1_body_mode(p, false); /* the caller did not choose: buffered, and over the limit */
        return H1_ERROR;
    }
    if (HTTP_PARSER_ERRNO(&p->parser) == HPE_PAUSED)
        http_parser_pause(&p->parser, 0);
    p->event = H1_MORE;
    size_t n = http_parser_execute(&p->parser, &h1_settings, data, len);
    *used = n;
    enum http_errno e = HTTP_PARSER_ERRNO(&p->parser);
    if (e == HPE_PAUSED)
        return p->event;
    if (e != HPE_OK)
        return h1_parse_error(p, e);
    if (p->event != H1_MORE) /* upgrade: the parser stopped after message complete */
        return p->event;
    if (n != len)
        return h1_parse_error(p, HPE_UNKNOWN);
    return H1_MORE;
}

int h1_body_mode(struct h1 *p, bool stream)
{
    if (stream) {
        p->stream = true;
        return 0;
    }
    if (p->cl_over)
        return h1_fail(p, 413, "request body too large");
    return 0;
}

void h1_body_take(struct h1 *p, struct sb *out)
{
    *out = p->sbody;
    sb_init(&p->sbody);
}

const struct h1_msg *h1_current(const struct h1 *p)
{
    return p->msg;
}

struct h1_msg *h1_take(struct h1 *p)
{
    struct h1_msg *m = p->msg;
    p->msg = NULL;
    return m;
}

int h1_error(const struct h1 *p, const char **message)
{
    *message = p->errmsg ? p->errmsg : "bad request";
    return p->status ? p->status : 400;
}

enum h1_phase h1_phase(const struct h1 *p)
{
    return p->phase;
}
