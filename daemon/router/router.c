/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/router/internal.h"

#include <ctype.h>
#include <string.h>

struct router {
    const struct route *const *tables;
    size_t ntables;
    void *ud;
};

struct router *route_new(const struct route *const *tables, size_t ntables, void *ud)
{
    struct router *r = xcalloc(1, sizeof(*r));
    r->tables = tables;
    r->ntables = ntables;
    r->ud = ud;
    return r;
}

void route_free(struct router *r)
{
    free(r);
}

char *route_default_headers(void)
{
    return xasprintf("Api-Version: %s\r\nDocker-Experimental: false\r\nOstype: %s\r\n"
                     "Server: %s/%s (%s)\r\n",
                     API_VERSION, API_OSTYPE, API_SERVER_PRODUCT, BERTH_VERSION, API_OSTYPE);
}

int route_split_version(const char *path, int *version, const char **rest)
{
    *rest = path;
    *version = api_version_parse(API_VERSION);
    if (strncmp(path, "/v", 2) != 0)
        return 0;
    size_t n = strspn(path + 2, "0123456789.");
    if (n == 0 || path[2 + n] != '/')
        return 0; /* not a version prefix: an ordinary path such as /volumes */
    char buf[16];
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, path + 2, n);
    buf[n] = '\0';
    int v = api_version_parse(buf);
    if (v < 0)
        return -1;
    *version = v;
    *rest = path + 2 + n;
    return 1;
}

/* Length of the segment starting at s (up to '/' or the end). */
static size_t seg_len(const char *s)
{
    return strcspn(s, "/");
}

/* Decodes [s, s+len) into storage; returns the decoded string or NULL if it does not fit or
 * holds a NUL byte (never a valid name). */
static const char *store_param(const char *s, size_t len, char **storage, size_t *left)
{
    _cleanup_free_ char *dec = route_pct_decode(s, len, false);
    size_t dlen = strlen(dec);
    for (size_t i = 0; i + 2 < len; i++) {
        if (s[i] == '%' && s[i + 1] == '0' && s[i + 2] == '0')
            return NULL;
    }
    if (dlen + 1 > *left || dlen == 0)
        return NULL;
    char *out = *storage;
    memcpy(out, dec, dlen + 1);
    *storage += dlen + 1;
    *left -= dlen + 1;
    return out;
}

static int match_from(const char *pat, const char *path, char *storage, size_t left,
                      const char **params, size_t nparams, size_t max_params);

/* A greedy "{x*}" parameter: try the longest run of segments first. */
static int match_greedy(const char *pat_rest, const char *path, char *storage, size_t left,
                        const char **params, size_t nparams, size_t max_params)
{
    size_t plen = strlen(path);
    for (size_t end = plen; end > 0; end--) {
        if (end != plen && path[end] != '/')
            continue;
        if (end == 0)
            break;
        char *st = storage;
        size_t lf = left;
        const char *v = store_param(path, end, &st, &lf);
        if (!v)
            continue;
        params[nparams] = v;
        int r = match_from(pat_rest, path + end, st, lf, params, nparams + 1, max_params);
        if (r >= 0)
            return r;
    }
    return -1;
}

static int match_from(const char *pat, const char *path, char *storage, size_t left,
                      const char **params, size_t nparams, size_t max_params)
{
    while (*pat) {
        if (*pat != '/' || *path != '/')
            return -1;
        pat++;
        path++;
        size_t pl = seg_len(pat);
        if (pat[0] == '{' && pl >= 2 && pat[pl - 1] == '}') {
            if (nparams >= max_params)
                return -1;
            if (pat[pl - 2] == '*')
                return match_greedy(pat + pl, path, storage, left, params, nparams, max_params);
            size_t sl = seg_len(path);
            if (sl == 0)
                return -1;
            const char *v = store_param(path, sl, &storage, &left);
            if (!v)
                return -1;
            params[nparams++] = v;
            path += sl;
        } else {
            size_t sl = seg_len(path);
            if (sl != pl || strncmp(pat, path, pl) != 0)
                return -1;
            path += sl;
        }
        pat += pl;
    }
    return *path == '\0' ? (int)nparams : -1;
}

int route_match(const char *pattern, const char *path, char *storage, size_t storage_len,
                const char **params, size_t max_params)
{
    return match_from(pattern, path, storage, storage_len, params, 0, max_params);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

struct route_req_priv {
    struct route_req pub;
    char storage[]; /* decoded path parameters */
};

static void route_req_free(struct route_req *rr)
{
    route_query_free(rr->query);
    free(rr);
}

static void reply_not_found(struct httpd_req *req)
{
    _cleanup_free_ char *body = api_error_encode("page not found");
    httpd_resp_send(req, 404, "application/json", body, strlen(body));
}

/* dockerd answers too-old versions in plain text, too-new ones in JSON. */
static bool check_version(struct httpd_req *req, int version, const char *path)
{
    if (version > api_version_parse(API_VERSION)) {
        char v[16];
        snprintf(v, sizeof(v), "%d.%d", version / 1000, version % 1000);
        _cleanup_free_ char *msg = xasprintf(
            "client version %s is too new. Maximum supported API version is %s", v, API_VERSION);
        _cleanup_free_ char *body = api_error_encode(msg);
        httpd_resp_send(req, 400, "application/json", body, strlen(body));
        return false;
    }
    if (version < api_version_parse(API_MIN_VERSION)) {
        _cleanup_free_ char *msg =
            xasprintf("client version %d.%d is too old. Minimum supported API version is %s, "
                      "please upgrade your client to a newer version\n",
                      version / 1000, version % 1000, API_MIN_VERSION);
        httpd_resp_send(req, 400, "text/plain; charset=utf-8", msg, strlen(msg));
        return false;
    }
    (void)path;
    return true;
}

static const struct route *find_route(const struct router *r, const char *method, const char *path,
                                      struct route_req_priv **out)
{
    size_t cap = strlen(path) + ROUTE_MAX_PARAMS + 1;
    struct route_req_priv *p = xcalloc(1, sizeof(*p) + cap);
    for (size_t t = 0; t < r->ntables; t++) {
        for (const struct route *rt = r->tables[t]; rt->method; rt++) {
            if (strcmp(rt->method, method) != 0)
                continue;
            int n =
                route_match(rt->pattern, path, p->storage, cap, p->pub.params, ROUTE_MAX_PARAMS);
            if (n >= 0) {
                p->pub.nparams = (size_t)n;
                *out = p;
                return rt;
            }
        }
    }
    free(p);
    return NULL;
}

static void route_dispatch(struct httpd_req *req, void *ud)
{
    struct router *r = ud;
    const char *rest = NULL;
    int version = 0;
    int pv = route_split_version(httpd_req_path(req), &version, &rest);
    if (pv < 0) {
        reply_not_found(req);
        return;
    }
    if (pv > 0 && !check_version(req, version, rest))
        return;
    const char *method = httpd_req_method(req);
    struct route_req_priv *p = NULL;
    const struct route *rt = find_route(r, method, rest, &p);
    if (!rt) {
        reply_not_found(req);
        return;
    }
    p->pub.http = req;
    p->pub.ud = r->ud;
    p->pub.version = version;
    p->pub.query = route_query_parse(httpd_req_query(req));
    if (log_enabled(LOG_LVL_DEBUG))
        log_debug("Calling %s %s", method, httpd_req_path(req));
    rt->fn(&p->pub);
}

/* httpd's stream_body: the matched route's flag, found as route_dispatch() finds it. */
static bool route_stream_body(struct httpd_req *req, void *ud)
{
    const char *rest = NULL;
    int version = 0;
    int pv = route_split_version(httpd_req_path(req), &version, &rest);
    if (pv < 0 || version > api_version_parse(API_VERSION) ||
        version < api_version_parse(API_MIN_VERSION))
        return false;
    struct route_req_priv *p = NULL;
    const struct route *rt = find_route(ud, httpd_req_method(req), rest, &p);
    free(p);
    return rt != NULL && rt->stream_body;
}

static const char *route_error_body(int status, const char *message, struct sb *out, void *ud)
{
    (void)status;
    (void)ud;
    _cleanup_free_ char *body = api_error_encode(message);
    sb_adds(out, body);
    return "application/json";
}

const struct httpd_ops route_httpd_ops = {
    .request = route_dispatch,
    .stream_body = route_stream_body,
    .error_body = route_error_body,
};

/* ---- replies ------------------------------------------------------------------------------ */

int route_err_status(enum err_kind kind)
{
    switch (kind) {
    case ERR_INVALID:
        return 400;
    case ERR_UNAUTHORIZED:
        return 401;
    case ERR_FORBIDDEN:
        return 403;
    case ERR_NOT_FOUND:
        return 404;
    case ERR_CONFLICT:
        return 409;
    case ERR_NOT_MODIFIED:
        return 304;
    case ERR_TOO_LARGE:
        return 413;
    case ERR_UNAVAILABLE:
        return 503;
    case ERR_INTERNAL:
    case ERR_SYSTEM:
        return 500;
    }
    return 500;
}

void route_reply_json(struct route_req *rr, int status, json_t *body)
{
    struct httpd_req *req = rr->http;
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    route_req_free(rr);
    size_t len = strlen(s);
    s = xrealloc(s, len + 2);
    s[len++] = '\n'; /* dockerd ends JSON bodies with a newline */
    s[len] = '\0';
    httpd_resp_send(req, status, "application/json", s, len);
    free(s);
}

void route_reply_err(struct route_req *rr, const struct err *e)
{
    int status = route_err_status(e->kind);
    if (status == 304) {
        route_reply_status(rr, 304);
        return;
    }
    if (status >= 500)
        log_error("Handler for %s %s returned error: %s", httpd_req_method(rr->http),
                  httpd_req_path(rr->http), e->msg);
    else
        log_debug("Handler for %s %s returned error: %s", httpd_req_method(rr->http),
                  httpd_req_path(rr->http), e->msg);
    struct httpd_req *req = rr->http;
    route_req_free(rr);
    _cleanup_free_ char *body = api_error_encode(e->msg);
    httpd_resp_send(req, status, "application/json", body, strlen(body));
}

void route_reply_errf(struct route_req *rr, enum err_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    struct err e = {.kind = kind, .errnum = 0, .msg = msg};
    route_reply_err(rr, &e);
}

void route_send_err(struct httpd_req *req, const struct err *e)
{
    int status = route_err_status(e->kind);
    if (status == 304) {
        httpd_resp_send(req, 304, NULL, NULL, 0);
        return;
    }
    if (status >= 500)
        log_error("Handler for %s %s returned error: %s", httpd_req_method(req),
                  httpd_req_path(req), e->msg);
    _cleanup_free_ char *body = api_error_encode(e->msg);
    httpd_resp_send(req, status, "application/json", body, strlen(body));
}

struct httpd_req *route_detach(struct route_req *rr)
{
    struct httpd_req *req = rr->http;
    route_req_free(rr);
    return req;
}

void route_reply_status(struct route_req *rr, int status)
{
    route_reply_raw(rr, status, NULL, NULL, 0);
}

void route_reply_raw(struct route_req *rr, int status, const char *content_type, const void *body,
                     size_t len)
{
    struct httpd_req *req = rr->http;
    route_req_free(rr);
    httpd_resp_send(req, status, content_type, body, len);
}

int route_body_json(const struct route_req *rr, bool allow_empty, json_t **out, struct err **err)
{
    size_t len = 0;
    const char *body = httpd_req_body(rr->http, &len);
    if (len == 0) {
        if (!allow_empty)
            return err_set(err, ERR_INVALID, 0,
                           "request body is empty: a JSON object is "
                           "required");
        *out = json_object();
        return 0;
    }
    const char *ct = httpd_req_header(rr->http, "Content-Type");
    if (ct && strncmp(ct, "application/json", 16) != 0)
        return err_set(err, ERR_INVALID, 0,
                       "unsupported Content-Type header (%s): must be "
                       "'application/json'",
                       ct);
    return api_json_parse(body, len, out, err);
}
