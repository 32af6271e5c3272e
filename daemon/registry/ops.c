/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Operations: resolve, blob fetch and login, each a small state machine over registry
 * requests. One request = endpoint fallback (mirrors, https -> http for insecure registries),
 * our own redirect handling (credentials go only to the registry's own origin), and one retry
 * after a 401 challenge (Bearer: token endpoint; Basic: credentials).
 */
#include "daemon/registry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define WRITE_CHUNK  (1u << 20)
#define INFLIGHT_MAX (8u << 20)
#define PROGRESS_MS  100

#define ACCEPT_ALL MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST

struct wreq {
    uv_fs_t req;
    struct reg_op *op;
    char *buf;
    size_t len;
};

/* The blob op's fs request for fsync / close / unlink, one at a time. */
struct fsreq {
    uv_fs_t req;
    struct reg_op *op;
};

static void op_send(struct reg_op *op, const char *url, bool to_registry);
static void blob_maybe_finish(struct reg_op *op);
static void op_finish(struct reg_op *op, struct reg_manifest *m);

/* ---- life cycle ------------------------------------------------------------------------ */

static void endpoints_free(struct reg_op *op)
{
    for (size_t i = 0; i < op->neps; i++)
        free(op->eps[i].base);
    free(op->eps);
    op->eps = NULL;
    op->neps = 0;
}

static void op_free(struct reg_op *op)
{
    reg_xfer_free(op->x);
    reg_xfer_free(op->tx);
    reg_ref_release(&op->ref);
    reg_auth_release(&op->auth);
    free(op->scope);
    free(op->credkey);
    endpoints_free(op);
    free(op->req_path);
    free(op->cur_url);
    free(op->bearer);
    free(op->os);
    free(op->arch);
    free(op->variant);
    free(op->top_digest);
    free(op->child_digest);
    free(op->desc.media_type);
    free(op->desc.digest);
    free(op->dest);
    digest_free(op->dg);
    free(op->wbuf);
    free(op->identity_out);
    err_free(op->err);
    free(op);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void auth_copy(const struct reg_auth *src, struct reg_auth *dst)
{
    memset(dst, 0, sizeof(*dst));
    if (!src)
        return;
    dst->username = dup_or_null(src->username);
    dst->password = dup_or_null(src->password);
    dst->identity_token = dup_or_null(src->identity_token);
    dst->registry_token = dup_or_null(src->registry_token);
    dst->server_address = dup_or_null(src->server_address);
}

static char *cred_key(const struct reg_auth *a)
{
    if (!a->username && !a->password && !a->identity_token && !a->registry_token)
        return xstrdup("anon");
    struct sb sb = SB_INIT;
    const char *parts[] = {a->username, a->password, a->identity_token, a->registry_token};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        sb_adds(&sb, parts[i] ? parts[i] : "");
        sb_addc(&sb, '\n');
    }
    char d[DIGEST_STR_LEN + 1];
    digest_buf(sb.buf, sb.len, d);
    sb_release(&sb);
    return xstrdup(d);
}

static struct reg_op *op_new(struct reg_client *c, enum reg_op_kind kind,
                             const struct reg_auth *auth, void *data)
{
    struct reg_op *op = xcalloc(1, sizeof(*op));
    op->c = c;
    op->kind = kind;
    op->data = data;
    op->fd = -1;
    auth_copy(auth, &op->auth);
    op->credkey = cred_key(&op->auth);
    op->next = c->ops;
    if (c->ops)
        c->ops->prev = op;
    c->ops = op;
    if (c->closing)
        op->cancelled = true;
    reg_client_defer(c);
    return op;
}

static void add_ep(struct reg_op *op, char *base, bool mirror, bool verify, bool creds)
{
    op->eps = xrealloc(op->eps, (op->neps + 1) * sizeof(*op->eps));
    op->eps[op->neps++] = (struct reg_endpoint){
        .base = base, .mirror = mirror, .tls_verify = verify, .send_creds = creds};
}

static void build_endpoints(struct reg_op *op, const char *domain, bool use_mirrors)
{
    struct reg_client *c = op->c;
    if (strcmp(domain, "docker.io") == 0) {
        for (size_t i = 0; use_mirrors && c->mirrors[i]; i++) {
            const char *m = c->mirrors[i];
            char *base = strstr(m, "://") ? xstrdup(m) : xasprintf("https://%s", m);
            size_t n = strlen(base);
            while (n > 0 && base[n - 1] == '/')
                base[--n] = '\0';
            const char *hp = strstr(base, "://") + 3;
            add_ep(op, base, true, !reg_client_insecure(c, hp), false);
        }
        add_ep(op, xstrdup("https://registry-1.docker.io"), false, true, true);
        return;
    }
    if (!reg_client_insecure(c, domain)) {
        add_ep(op, xasprintf("https://%s", domain), false, true, true);
        return;
    }
    /* As docker: an insecure registry is tried over https without verification, then http. */
    if (!reg_client_plain(c, domain))
        add_ep(op, xasprintf("https://%s", domain), false, false, true);
    add_ep(op, xasprintf("http://%s", domain), false, false, true);
}

static void op_unlink(struct reg_op *op)
{
    struct reg_client *c = op->c;
    if (op->prev)
        op->prev->next = op->next;
    else
        c->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
}

/* Runs the callback exactly once and frees op. m is handed to the callback (resolve). */
static void op_finish(struct reg_op *op, struct reg_manifest *m)
{
    struct reg_client *c = op->c;
    op_unlink(op);
    reg_xfer_free(op->x);
    reg_xfer_free(op->tx);
    op->x = op->tx = NULL;
    switch (op->kind) {
    case REG_OP_RESOLVE:
        if (op->err) {
            reg_manifest_free(m);
            m = NULL;
        }
        op->mdone(m, op->err, op->data);
        break;
    case REG_OP_BLOB:
        op->bops.done(op->err, op->data);
        break;
    case REG_OP_LOGIN:
        op->ldone(op->err, op->err ? NULL : op->identity_out, op->data);
        break;
    }
    op_free(op);
    reg_client_maybe_free(c);
}

/* Records the failure (the first one wins) and winds op down. */
static void op_fail(struct reg_op *op, enum err_kind kind, const char *fmt, ...) _printf_(3, 4);
static void op_fail(struct reg_op *op, enum err_kind kind, const char *fmt, ...)
{
    if (!op->err && !(op->kind == REG_OP_BLOB && op->finishing)) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        err_set(&op->err, kind, 0, "%s", msg);
    }
    reg_xfer_free(op->x);
    reg_xfer_free(op->tx);
    op->x = op->tx = NULL;
    if (op->kind == REG_OP_BLOB && op->created)
        blob_maybe_finish(op);
    else
        op_finish(op, NULL);
}

static void op_fail_cancelled(struct reg_op *op)
{
    op_fail(op, ERR_INTERNAL, "cancelled");
}

/* ---- requests -------------------------------------------------------------------------- */

static char *token_key(struct reg_op *op)
{
    const struct reg_endpoint *ep = &op->eps[op->ep];
    return xasprintf("%s|%s|%s", ep->base, op->scope ? op->scope : "",
                     ep->send_creds ? op->credkey : "anon");
}

static void add_auth_header(struct reg_op *op, struct reg_xfer *x)
{
    const struct reg_endpoint *ep = &op->eps[op->ep];
    const struct reg_auth *a = &op->auth;
    if (op->bearer) {
        reg_xfer_header(x, "Authorization: Bearer %s", op->bearer);
        return;
    }
    if (ep->send_creds && a->registry_token) {
        reg_xfer_header(x, "Authorization: Bearer %s", a->registry_token);
        return;
    }
    if (op->use_basic && ep->send_creds && a->username) {
        _cleanup_free_ char *up = xasprintf("%s:%s", a->username, a->password ? a->password : "");
        _cleanup_free_ char *b = b64_encode(up, strlen(up), false);
        reg_xfer_header(x, "Authorization: Basic %s", b);
        return;
    }
    _cleanup_free_ char *key = token_key(op);
    const char *t = reg_token_get(op->c, key, uv_now(op->c->loop));
    if (t)
        reg_xfer_header(x, "Authorization: Bearer %s", t);
}

static size_t blob_sink(struct reg_xfer *x, const char *p, size_t n);
static void on_req_done(struct reg_xfer *x, CURLcode rc);

static void op_send(struct reg_op *op, const char *url, bool to_registry)
{
    reg_xfer_free(op->x);
    if (url != op->cur_url) {
        free(op->cur_url);
        op->cur_url = xstrdup(url);
    }
    op->cur_to_registry = to_registry;
    const char *tls_err = reg_client_tls_error(op->c, op->cur_url);
    if (tls_err)
        return op_fail(op, ERR_INVALID, "%s", tls_err);
    struct reg_xfer *x = reg_xfer_new(op->c, op->cur_url, op);
    op->x = x;
    x->body_max = op->req_max;
    x->done = on_req_done;
    if (op->req_stream)
        x->sink = blob_sink;
    if (op->kind == REG_OP_RESOLVE)
        reg_xfer_header(x, "Accept: " ACCEPT_ALL);
    if (to_registry)
        add_auth_header(op, x);
    reg_xfer_setup(x, to_registry ? op->eps[op->ep].tls_verify : true);
    reg_xfer_start(x);
}

static void op_request(struct reg_op *op, char *path, bool stream, size_t max,
                       void (*on_ok)(struct reg_op *op))
{
    free(op->req_path);
    op->req_path = path;
    op->req_stream = stream;
    op->req_redirects = true;
    op->req_max = max;
    op->on_ok = on_ok;
    op->auth_tries = 0;
    op->redirects = 0;
    _cleanup_free_ char *url = xasprintf("%s%s", op->eps[op->ep].base, path);
    op_send(op, url, true);
}

static void next_endpoint(struct reg_op *op)
{
    op->ep++;
    free(op->bearer);
    op->bearer = NULL;
    op->use_basic = false;
    op->auth_tries = 0;
    op->redirects = 0;
    _cleanup_free_ char *url = xasprintf("%s%s", op->eps[op->ep].base, op->req_path);
    op_send(op, url, true);
}

/* scheme://host:port of url (default ports filled in), or NULL. */
static char *url_origin(const char *url, char **scheme_out, char **host_out)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        out = xasprintf("%s://%s:%s", scheme, host, port);
        if (scheme_out)
            *scheme_out = xstrdup(scheme);
        if (host_out)
            *host_out = xasprintf("%s", host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return out;
}

static char *url_resolve(const char *base, const char *rel)
{
    CURLU *u = curl_url();
    char *s = NULL, *out = NULL;
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, rel, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
        out = xstrdup(s);
    curl_free(s);
    curl_url_cleanup(u);
    return out;
}

static void follow_redirect(struct reg_op *op)
{
    struct reg_xfer *x = op->x;
    if (++op->redirects > REG_MAX_REDIRECTS)
        return op_fail(op, ERR_UNAVAILABLE, "Get \"%s\": stopped after %d redirects", op->cur_url,
                       REG_MAX_REDIRECTS);
    _cleanup_free_ char *next = url_resolve(op->cur_url, x->location);
    _cleanup_free_ char *scheme = NULL, *host = NULL, *old_scheme = NULL;
    _cleanup_free_ char *origin = next ? url_origin(next, &scheme, &host) : NULL;
    _cleanup_free_ char *old = url_origin(op->cur_url, &old_scheme, NULL);
    if (!origin || !old || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        return op_fail(op, ERR_UNAVAILABLE, "Get \"%s\": invalid redirect", op->cur_url);
    if (strcmp(old_scheme, "https") == 0 && strcmp(scheme, "http") == 0 &&
        !reg_client_insecure(op->c, host))
        return op_fail(op, ERR_UNAVAILABLE, "Get \"%s\": refusing redirect from https to http",
                       op->cur_url);
    _cleanup_free_ char *reg_origin = url_origin(op->eps[op->ep].base, NULL, NULL);
    bool to_registry = reg_origin && strcmp(reg_origin, origin) == 0;
    op_send(op, next, to_registry);
}

static void on_token_done(struct reg_xfer *tx, CURLcode rc);

/* Starts the token request of a Bearer challenge; the registry request is resent after. */
static void start_token(struct reg_op *op, const char *challenge)
{
    const struct reg_endpoint *ep = &op->eps[op->ep];
    const struct reg_auth *a = &op->auth;
    _cleanup_free_ char *realm = reg_challenge_param(challenge, "realm");
    _cleanup_free_ char *service = reg_challenge_param(challenge, "service");
    _cleanup_free_ char *scheme = NULL, *host = NULL;
    _cleanup_free_ char *origin = realm ? url_origin(realm, &scheme, &host) : NULL;
    if (!origin || (strcmp(scheme, "https") != 0 &&
                    !(strcmp(scheme, "http") == 0 && reg_client_insecure(op->c, host))))
        return op_fail(op, ERR_UNAVAILABLE, "invalid token realm in the registry's challenge");
    bool creds = ep->send_creds && (a->username || a->identity_token);
    struct sb q = SB_INIT;
    if (service) {
        _cleanup_free_ char *e = reg_url_escape(service);
        sb_addf(&q, "service=%s", e);
    }
    if (op->scope) {
        _cleanup_free_ char *e = reg_url_escape(op->scope);
        sb_addf(&q, "%sscope=%s", q.len ? "&" : "", e);
    }
    if (op->kind == REG_OP_LOGIN && creds)
        sb_addf(&q, "%soffline_token=true&client_id=berth", q.len ? "&" : "");
    char *post = NULL;
    _cleanup_free_ char *url = NULL;
    if (creds && a->identity_token) {
        _cleanup_free_ char *e = reg_url_escape(a->identity_token);
        post = xasprintf("grant_type=refresh_token&refresh_token=%s&client_id=berth%s%s", e,
                         q.len ? "&" : "", sb_str(&q));
        url = xstrdup(realm);
    } else {
        if (creds && a->username) {
            _cleanup_free_ char *e = reg_url_escape(a->username);
            sb_addf(&q, "%saccount=%s", q.len ? "&" : "", e);
        }
        url = q.len ? xasprintf("%s%c%s", realm, strchr(realm, '?') ? '&' : '?', sb_str(&q))
                    : xstrdup(realm);
    }
    sb_release(&q);
    reg_xfer_free(op->tx);
    struct reg_xfer *tx = reg_xfer_new(op->c, url, op);
    op->tx = tx;
    tx->post = post;
    tx->done = on_token_done;
    if (creds && !post) {
        _cleanup_free_ char *up = xasprintf("%s:%s", a->username, a->password ? a->password : "");
        _cleanup_free_ char *b = b64_encode(up, strlen(up), false);
        reg_xfer_header(tx, "Authorization: Basic %s", b);
    }
    reg_xfer_setup(tx, true);
    reg_xfer_start(tx);
}

static void on_token_done(struct reg_xfer *tx, CURLcode rc)
{
    struct reg_op *op = tx->owner;
    const struct reg_endpoint *ep = &op->eps[op->ep];
    bool creds = ep->send_creds && (op->auth.username || op->auth.identity_token);
    if (op->cancelled)
        return op_fail_cancelled(op);
    if (rc != CURLE_OK && !(tx->overflow && tx->status != 200)) {
        _cleanup_free_ char *why = reg_xfer_strerror(tx, rc);
        return op_fail(op, ERR_UNAVAILABLE, "Get \"%s\": %s", tx->url,
                       tx->overflow ? "token response too large" : why);
    }
    if (tx->status == 401 || tx->status == 403) {
        _cleanup_free_ char *msg = reg_errors_message(tx->body.buf, tx->body.len);
        return op_fail(op, ERR_UNAUTHORIZED, "%s",
                       msg     ? msg
                       : creds ? "unauthorized: incorrect username or password"
                               : "unauthorized: authentication required");
    }
    if (tx->status != 200)
        return op_fail(op, ERR_UNAVAILABLE, "token endpoint answered with status %ld", tx->status);
    _cleanup_free_ char *token = NULL, *refresh = NULL;
    long expires_in = 60;
    struct err *e = NULL;
    if (reg_token_parse(tx->body.buf, tx->body.len, &token, &refresh, &expires_in, &e) < 0) {
        op_fail(op, e->kind, "%s", e->msg);
        err_free(e);
        return;
    }
    reg_xfer_free(tx);
    op->tx = NULL;
    uint64_t now = uv_now(op->c->loop);
    _cleanup_free_ char *key = token_key(op);
    /* Keep a margin so a token is never sent in its last seconds. */
    reg_token_put(op->c, key, token, now + (uint64_t)(expires_in - 10) * 1000, now);
    free(op->bearer);
    op->bearer = steal_ptr(&token);
    if (refresh && op->kind == REG_OP_LOGIN) {
        free(op->identity_out);
        op->identity_out = steal_ptr(&refresh);
    }
    op_send(op, op->cur_url, true);
}

static void on_401(struct reg_op *op)
{
    struct reg_xfer *x = op->x;
    const struct reg_endpoint *ep = &op->eps[op->ep];
    _cleanup_free_ char *key = token_key(op);
    reg_token_drop(op->c, key);
    if (x->www_bearer && !op->auth.registry_token) {
        _cleanup_free_ char *ch = xstrdup(x->www_bearer);
        return start_token(op, ch);
    }
    if (x->www_basic && ep->send_creds && op->auth.username) {
        op->use_basic = true;
        return op_send(op, op->cur_url, true);
    }
    _cleanup_free_ char *msg = reg_errors_message(x->body.buf, x->body.len);
    op_fail(op, ERR_UNAUTHORIZED, "%s", msg ? msg : "unauthorized: authentication required");
}

static void fail_status(struct reg_op *op)
{
    struct reg_xfer *x = op->x;
    long st = x->status;
    _cleanup_free_ char *msg = reg_errors_message(x->body.buf, x->body.len);
    if (st == 404 && op->kind == REG_OP_RESOLVE) {
        _cleanup_free_ char *r = reg_ref_string(&op->ref);
        return op_fail(op, ERR_NOT_FOUND, "manifest for %s not found: %s", r,
                       msg ? msg : "manifest unknown: manifest unknown");
    }
    if (st == 404 && op->kind == REG_OP_BLOB)
        return op_fail(op, ERR_NOT_FOUND, "unknown blob");
    if (st == 401 && op->kind == REG_OP_LOGIN && !x->www_bearer)
        return op_fail(op, ERR_UNAUTHORIZED,
                       "login attempt to %s/v2/ failed with status: 401 "
                       "Unauthorized",
                       op->eps[op->ep].base);
    if (st == 401)
        return op_fail(op, ERR_UNAUTHORIZED, "%s",
                       msg ? msg : "unauthorized: authentication required");
    if (st == 403)
        return op_fail(op, ERR_FORBIDDEN, "%s",
                       msg ? msg : "denied: requested access to the resource is denied");
    if (msg)
        return op_fail(op, ERR_UNAVAILABLE, "%s", msg);
    op_fail(op, ERR_UNAVAILABLE, "received unexpected HTTP status: %ld", st);
}

static void note_plain_http(struct reg_op *op)
{
    const struct reg_endpoint *ep = &op->eps[op->ep];
    if (op->ep > 0 && op->cur_to_registry && strncmp(ep->base, "http://", 7) == 0 &&
        strncmp(op->eps[op->ep - 1].base, "https://", 8) == 0)
        reg_client_set_plain(op->c, ep->base + 7);
}

static void on_req_done(struct reg_xfer *x, CURLcode rc)
{
    struct reg_op *op = x->owner;
    bool ok = x->status >= 200 && x->status < 300;
    if (op->cancelled)
        return op_fail_cancelled(op);
    if (rc != CURLE_OK && !(x->overflow && !ok)) {
        if (op->err)
            return op_fail(op, op->err->kind, "%s", op->err->msg);
        if (x->overflow)
            return op_fail(op, ERR_TOO_LARGE, "Get \"%s\": response larger than %zu bytes", x->url,
                           x->body_max);
        _cleanup_free_ char *why = reg_xfer_strerror(x, rc);
        if (!op->body_seen && op->cur_to_registry && op->ep + 1 < op->neps) {
            log_debug("registry: %s: %s; trying the next endpoint", x->url, why);
            return next_endpoint(op);
        }
        return op_fail(op, ERR_UNAVAILABLE, "Get \"%s\": %s", x->url, why);
    }
    note_plain_http(op);
    if (x->status >= 300 && x->status < 400 && x->location && op->req_redirects)
        return follow_redirect(op);
    if (x->status == 401 && op->cur_to_registry && op->auth_tries++ == 0)
        return on_401(op);
    if (ok)
        return op->on_ok(op);
    if (op->eps[op->ep].mirror && op->ep + 1 < op->neps && !op->body_seen) {
        log_debug("registry: mirror %s answered %ld; trying the next endpoint", x->url, x->status);
        return next_endpoint(op);
    }
    fail_status(op);
}

/* ---- deferred start and cancellation --------------------------------------------------- */

static void resolve_start(struct reg_op *op);
static void blob_start(struct reg_op *op);
static void login_start(struct reg_op *op);

static void op_start(struct reg_op *op)
{
    switch (op->kind) {
    case REG_OP_RESOLVE:
        return resolve_start(op);
    case REG_OP_BLOB:
        return blob_start(op);
    case REG_OP_LOGIN:
        return login_start(op);
    }
}

static void op_on_cancel(struct reg_op *op)
{
    if (!op->started) {
        op->started = true;
        return op_fail_cancelled(op);
    }
    if ((op->x && op->x->in_multi) || (op->tx && op->tx->in_multi) || !op->created ||
        op->kind != REG_OP_BLOB)
        return op_fail_cancelled(op);
    /* A blob op between its transfer and its file work: it notices op->cancelled there. */
    if (!op->err && !op->finishing)
        err_set(&op->err, ERR_INTERNAL, 0, "cancelled");
}

void reg_op_run_deferred(struct reg_client *c)
{
    bool again = true;
    while (again) {
        again = false;
        for (struct reg_op *op = c->ops; op; op = op->next) {
            if (op->cancelled && !op->cancel_seen) {
                op->cancel_seen = true;
                op_on_cancel(op);
                again = true;
                break;
            }
            if (!op->started && !op->cancelled) {
                op->started = true;
                op_start(op);
                again = true;
                break;
            }
        }
    }
}

void reg_op_cancel(struct reg_op *op)
{
    if (!op || op->cancelled)
        return;
    op->cancelled = true;
    reg_client_defer(op->c);
}

/* ---- resolve --------------------------------------------------------------------------- */

static void platform_string(const struct reg_op *op, struct sb *sb)
{
    sb_addf(sb, "%s/%s", op->os, op->arch);
    if (op->variant)
        sb_addf(sb, "/%s", op->variant);
}

static void resolve_child_ok(struct reg_op *op)
{
    struct reg_xfer *x = op->x;
    char d[DIGEST_STR_LEN + 1];
    digest_buf(x->body.buf ? x->body.buf : "", x->body.len, d);
    if (strcmp(d, op->child_digest) != 0 || (int64_t)x->body.len != op->child_size)
        return op_fail(op, ERR_INVALID, "manifest verification failed for digest %s",
                       op->child_digest);
    struct reg_manifest *m = NULL;
    struct reg_index *idx = NULL;
    struct err *e = NULL;
    if (reg_manifest_parse(x->body.buf ? x->body.buf : "", x->body.len, x->content_type, &m, &idx,
                           &e) < 0) {
        op_fail(op, e->kind, "%s", e->msg);
        err_free(e);
        return;
    }
    if (idx) {
        reg_index_free(idx);
        return op_fail(op, ERR_INVALID, "manifest list entry %s is itself a manifest list",
                       op->child_digest);
    }
    free(m->digest);
    m->digest = xstrdup(op->top_digest);
    op_finish(op, m);
}

static void resolve_index(struct reg_op *op, struct reg_index *idx)
{
    struct reg_platform p = {.os = op->os, .arch = op->arch, .variant = op->variant};
    const struct reg_index_entry *e = reg_index_find(idx, &p);
    if (!e) {
        struct sb sb = SB_INIT;
        platform_string(op, &sb);
        op_fail(op, ERR_NOT_FOUND, "no matching manifest for %s in the manifest list entries",
                sb_str(&sb));
        sb_release(&sb);
        return;
    }
    if (strcmp(e->desc.media_type, MT_OCI_MANIFEST) != 0 &&
        strcmp(e->desc.media_type, MT_DOCKER_MANIFEST) != 0)
        return op_fail(op, ERR_INVALID, "unsupported manifest media type %s in the list",
                       e->desc.media_type);
    if (e->desc.size > (int64_t)REG_MANIFEST_MAX)
        return op_fail(op, ERR_TOO_LARGE, "manifest %s is larger than %u bytes", e->desc.digest,
                       REG_MANIFEST_MAX);
    op->child_digest = xstrdup(e->desc.digest);
    op->child_size = e->desc.size;
    op_request(op, xasprintf("/v2/%s/manifests/%s", op->ref.path, op->child_digest), false,
               REG_MANIFEST_MAX, resolve_child_ok);
}

static void resolve_top_ok(struct reg_op *op)
{
    struct reg_xfer *x = op->x;
    const char *body = x->body.buf ? x->body.buf : "";
    char d[DIGEST_STR_LEN + 1];
    digest_buf(body, x->body.len, d);
    if (op->ref.digest && strcmp(d, op->ref.digest) != 0)
        return op_fail(op, ERR_INVALID, "manifest verification failed for digest %s",
                       op->ref.digest);
    op->top_digest = xstrdup(d);
    struct reg_manifest *m = NULL;
    struct reg_index *idx = NULL;
    struct err *e = NULL;
    if (reg_manifest_parse(body, x->body.len, x->content_type, &m, &idx, &e) < 0) {
        op_fail(op, e->kind, "%s", e->msg);
        err_free(e);
        return;
    }
    if (m)
        return op_finish(op, m);
    resolve_index(op, idx);
    reg_index_free(idx);
}

static void resolve_start(struct reg_op *op)
{
    build_endpoints(op, op->ref.domain, true);
    const char *what = op->ref.digest ? op->ref.digest : op->ref.tag ? op->ref.tag : "latest";
    op_request(op, xasprintf("/v2/%s/manifests/%s", op->ref.path, what), false, REG_MANIFEST_MAX,
               resolve_top_ok);
}

struct reg_op *reg_resolve(struct reg_client *c, const struct reg_ref *ref,
                           const struct reg_auth *auth, const struct reg_platform *platform,
                           reg_manifest_cb done, void *data)
{
    struct reg_op *op = op_new(c, REG_OP_RESOLVE, auth, data);
    reg_ref_copy(ref, &op->ref);
    op->scope = xasprintf("repository:%s:pull", ref->path);
    op->mdone = done;
    op->os = xstrdup(platform && platform->os ? platform->os : "linux");
    op->arch = xstrdup(platform && platform->arch ? platform->arch : "amd64");
    op->variant =
        platform && platform->variant && *platform->variant ? xstrdup(platform->variant) : NULL;
    return op;
}

/* ---- blobs ----------------------------------------------------------------------------- */

static void blob_progress(struct reg_op *op, bool force)
{
    uint64_t now = uv_now(op->c->loop);
    if (!op->bops.progress || (!force && now - op->last_progress < PROGRESS_MS))
        return;
    op->last_progress = now;
    op->bops.progress(op->received, op->desc.size, op->data);
}

static void on_written(uv_fs_t *req)
{
    struct wreq *w = (struct wreq *)req;
    struct reg_op *op = w->op;
    ssize_t res = req->result;
    uv_fs_req_cleanup(req);
    op->inflight -= w->len;
    op->fs_pending--;
    size_t len = w->len;
    free(w->buf);
    free(w);
    if (res < 0 || (size_t)res != len) {
        if (!op->err)
            err_set(&op->err, ERR_SYSTEM, res < 0 ? (int)-res : ENOSPC, "write %s", op->dest);
        if (op->x && op->x->in_multi)
            return op_fail(op, op->err->kind, "%s", op->err->msg);
        return blob_maybe_finish(op);
    }
    if (op->paused && op->inflight < INFLIGHT_MAX / 2 && op->x && op->x->in_multi) {
        op->paused = false;
        return reg_xfer_resume(op->x); /* may run the sink, or even finish op */
    }
    blob_maybe_finish(op);
}

static void blob_submit(struct reg_op *op)
{
    if (op->wlen == 0)
        return;
    struct wreq *w = xcalloc(1, sizeof(*w));
    w->op = op;
    w->buf = steal_ptr(&op->wbuf);
    w->len = op->wlen;
    int64_t off = op->received - (int64_t)op->wlen;
    op->wlen = 0;
    uv_buf_t b = uv_buf_init(w->buf, (unsigned)w->len);
    int r = uv_fs_write(op->c->loop, &w->req, op->fd, &b, 1, off, on_written);
    if (r < 0) {
        if (!op->err)
            err_set(&op->err, ERR_SYSTEM, -r, "write %s", op->dest);
        free(w->buf);
        free(w);
        return;
    }
    op->inflight += w->len;
    op->fs_pending++;
}

static size_t blob_sink(struct reg_xfer *x, const char *p, size_t n)
{
    struct reg_op *op = x->owner;
    if (op->cancelled || op->err)
        return 0;
    if (op->inflight >= INFLIGHT_MAX) {
        op->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    op->body_seen = true;
    if (n > (uint64_t)(op->desc.size - op->received)) {
        err_set(&op->err, ERR_INVALID, 0, "filesystem layer verification failed for digest %s",
                op->desc.digest);
        return 0;
    }
    digest_update(op->dg, p, n);
    size_t left = n;
    while (left) {
        if (!op->wbuf)
            op->wbuf = xmalloc(WRITE_CHUNK);
        size_t k = WRITE_CHUNK - op->wlen < left ? WRITE_CHUNK - op->wlen : left;
        memcpy(op->wbuf + op->wlen, p, k);
        op->wlen += k;
        op->received += (int64_t)k;
        p += k;
        left -= k;
        if (op->wlen == WRITE_CHUNK)
            blob_submit(op);
    }
    blob_progress(op, false);
    return op->err ? 0 : n;
}

static void on_blob_done_fs(uv_fs_t *req)
{
    struct fsreq *f = (struct fsreq *)req;
    struct reg_op *op = f->op;
    uv_fs_req_cleanup(req);
    free(f);
    op_finish(op, NULL);
}

static void on_blob_closed_failed(uv_fs_t *req)
{
    struct fsreq *f = (struct fsreq *)req;
    struct reg_op *op = f->op;
    uv_fs_req_cleanup(req);
    if (uv_fs_unlink(op->c->loop, &f->req, op->dest, on_blob_done_fs) < 0) {
        free(f);
        op_finish(op, NULL);
    }
}

static void blob_fail_cleanup(struct reg_op *op)
{
    struct fsreq *f = xcalloc(1, sizeof(*f));
    f->op = op;
    int fd = op->fd;
    op->fd = -1;
    if (uv_fs_close(op->c->loop, &f->req, fd, on_blob_closed_failed) < 0) {
        free(f);
        op_finish(op, NULL);
    }
}

static void on_blob_fsynced(uv_fs_t *req)
{
    struct fsreq *f = (struct fsreq *)req;
    struct reg_op *op = f->op;
    ssize_t res = req->result;
    uv_fs_req_cleanup(req);
    free(f);
    if (res < 0) {
        err_set(&op->err, ERR_SYSTEM, (int)-res, "fsync %s", op->dest);
        return blob_fail_cleanup(op);
    }
    f = xcalloc(1, sizeof(*f));
    f->op = op;
    int fd = op->fd;
    op->fd = -1;
    if (uv_fs_close(op->c->loop, &f->req, fd, on_blob_done_fs) < 0) {
        free(f);
        op_finish(op, NULL);
    }
}

/* Once the transfer is over and no write is in flight: verify, fsync, close, or clean up. */
static void blob_maybe_finish(struct reg_op *op)
{
    if (op->fs_pending > 0 || op->finishing || (!op->err && !op->xfer_complete))
        return;
    op->finishing = true;
    if (!op->err) {
        char d[DIGEST_STR_LEN + 1];
        digest_final(op->dg, d);
        op->dg = NULL;
        if (op->received != op->desc.size || strcmp(d, op->desc.digest) != 0)
            err_set(&op->err, ERR_INVALID, 0, "filesystem layer verification failed for digest %s",
                    op->desc.digest);
    }
    if (op->err)
        return blob_fail_cleanup(op);
    struct fsreq *f = xcalloc(1, sizeof(*f));
    f->op = op;
    if (uv_fs_fsync(op->c->loop, &f->req, op->fd, on_blob_fsynced) < 0) {
        free(f);
        err_set(&op->err, ERR_SYSTEM, 0, "fsync %s", op->dest);
        blob_fail_cleanup(op);
    }
}

static void blob_xfer_ok(struct reg_op *op)
{
    reg_xfer_free(op->x);
    op->x = NULL;
    op->xfer_complete = true;
    blob_submit(op);
    blob_progress(op, true);
    blob_maybe_finish(op);
}

static void blob_start(struct reg_op *op)
{
    /* Opening the file is the one synchronous file call the loop allows itself. */
    op->fd = open(op->dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (op->fd < 0)
        return op_fail(op, ERR_SYSTEM, "open %s: %s", op->dest, strerror(errno));
    op->created = true;
    op->dg = digest_new();
    build_endpoints(op, op->ref.domain, true);
    op_request(op, xasprintf("/v2/%s/blobs/%s", op->ref.path, op->desc.digest), true, 0,
               blob_xfer_ok);
}

struct reg_op *reg_fetch_blob(struct reg_client *c, const struct reg_ref *ref,
                              const struct reg_auth *auth, const struct reg_desc *desc,
                              const char *dest_path, const struct reg_blob_ops *ops, void *data)
{
    struct reg_op *op = op_new(c, REG_OP_BLOB, auth, data);
    reg_ref_copy(ref, &op->ref);
    op->scope = xasprintf("repository:%s:pull", ref->path);
    op->bops = *ops;
    op->desc.media_type = dup_or_null(desc->media_type);
    op->desc.digest = xstrdup(desc->digest ? desc->digest : "");
    op->desc.size = desc->size;
    op->dest = xstrdup(dest_path);
    if (!digest_valid(op->desc.digest) || desc->size < 0) {
        op->started = true; /* never fetched: fails from the deferred pass */
        err_set(&op->err, ERR_INVALID, 0, "invalid blob descriptor");
        op->cancelled = true;
    }
    return op;
}

/* ---- login ----------------------------------------------------------------------------- */

static void login_ok(struct reg_op *op)
{
    op_finish(op, NULL);
}

/* "https://index.docker.io/v1/", "host:5000", "http://host" -> "docker.io", "host:5000". */
static char *server_domain(const char *addr)
{
    if (!addr || !*addr)
        return xstrdup("docker.io");
    const char *p = strstr(addr, "://");
    p = p ? p + 3 : addr;
    char *d = xstrndup(p, strcspn(p, "/"));
    if (strcmp(d, "index.docker.io") == 0 || strcmp(d, "registry-1.docker.io") == 0 ||
        strcmp(d, "docker.io") == 0) {
        free(d);
        d = xstrdup("docker.io");
    }
    return d;
}

static void login_start(struct reg_op *op)
{
    _cleanup_free_ char *d = server_domain(op->auth.server_address);
    build_endpoints(op, d, false);
    op_request(op, xstrdup("/v2/"), false, REG_SMALL_BODY_MAX, login_ok);
}

struct reg_op *reg_login(struct reg_client *c, const struct reg_auth *auth, reg_login_cb done,
                         void *data)
{
    struct reg_op *op = op_new(c, REG_OP_LOGIN, auth, data);
    op->ldone = done;
    return op;
}
