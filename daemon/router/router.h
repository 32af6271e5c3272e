/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: matches a request's method and path against route tables, strips and checks the
 * /vX.YY version prefix, decodes path and query parameters, and owns the one map from error
 * kinds to HTTP statuses. Handlers answer through the route_reply_* helpers so every response
 * is shaped the same way. Loop thread only.
 */
#ifndef BERTH_ROUTER_H
#define BERTH_ROUTER_H

#include <jansson.h>

#include "api/api.h"
#include "common/common.h"
#include "daemon/httpd/httpd.h"

#define ROUTE_MAX_PARAMS 4

struct route_req;
typedef void (*route_fn)(struct route_req *rr);

/*
 * One route. pattern is a path without the version prefix, made of literal segments and
 * parameters: "{id}" matches one segment, "{name*}" one or more (greedy, so image names with
 * '/' and ':' fit, e.g. "/images/{name*}/json").
 */
struct route {
    const char *method;
    const char *pattern;
    route_fn fn;
    /*
     * The body is not buffered: the handler reads it with httpd_req_body_read() on rr->http
     * (archives of any size: image load and import, PUT archive). Last, so that
     * {method, pattern, fn} initialisers leave it false.
     */
    bool stream_body;
};

/* The request as handlers see it. Owned by the router; valid until the handler replies. */
struct route_req {
    struct httpd_req *http;
    void *ud;    /* the router's user data (the handlers' environment) */
    int version; /* negotiated API version as api_version_parse() returns it */
    const char *params[ROUTE_MAX_PARAMS]; /* decoded path parameters, in pattern order */
    size_t nparams;
    struct route_query *query;
};

struct router;

/* tables: route arrays, each ended by an entry with a NULL method. Both are borrowed. */
struct router *route_new(const struct route *const *tables, size_t ntables, void *ud);
void route_free(struct router *r);
/*
 * The httpd callbacks that dispatch to the router (pass r as their ud). Its stream_body
 * answers a route's stream_body flag (false when no route matches or the version is bad).
 */
extern const struct httpd_ops route_httpd_ops;
/* The header lines every response carries: Api-Version, Docker-Experimental, Ostype, Server. */
char *route_default_headers(void);

/*
 * Matches path (no version prefix, no query) against pattern. On a match fills params with
 * pointers into storage (percent-decoded) and returns the count; -1 when it does not match.
 * Exposed for tests.
 */
int route_match(const char *pattern, const char *path, char *storage, size_t storage_len,
                const char **params, size_t max_params);
/*
 * Splits "/v1.41/containers/json" into version 1041 and rest "/containers/json". Returns 0
 * when there is no prefix (version = API max), 1 when there is one, -1 when the prefix is not a
 * valid version. Exposed for tests.
 */
int route_split_version(const char *path, int *version, const char **rest);

/* ---- query parameters -------------------------------------------------------------------- */

/* The first value of key, percent- and '+'-decoded; NULL when absent. */
const char *route_query(const struct route_req *rr, const char *key);
/* Every value of key (repeated keys), NULL-terminated; borrowed. */
const char *const *route_query_all(const struct route_req *rr, const char *key);
/* dockerd's boolean rule: "", 0, no, false, none (any case) are false; absent is def. */
bool route_query_bool(const struct route_req *rr, const char *key, bool def);
/* An integer parameter; absent leaves *out as is; malformed is an ERR_INVALID naming key. */
int route_query_int(const struct route_req *rr, const char *key, long long *out, struct err **err);
/* Parses a raw query string (exposed for tests); free with route_query_free. */
struct route_query *route_query_parse(const char *raw);
void route_query_free(struct route_query *q);
const char *route_query_get(const struct route_query *q, const char *key);

/* ---- replies (each ends the request) ----------------------------------------------------- */

/* The one map from error kinds to HTTP statuses. */
int route_err_status(enum err_kind kind);
void route_reply_json(struct route_req *rr, int status, json_t *body); /* steals body */
void route_reply_err(struct route_req *rr, const struct err *e);
void route_reply_errf(struct route_req *rr, enum err_kind kind, const char *fmt, ...)
    _printf_(3, 4);
void route_reply_status(struct route_req *rr, int status); /* no body */
void route_reply_raw(struct route_req *rr, int status, const char *content_type, const void *body,
                     size_t len);
/*
 * For handlers that answer later, from a callback, after route_detach(): the error as JSON with
 * its status from the map (304 with no body for ERR_NOT_MODIFIED).
 */
void route_send_err(struct httpd_req *req, const struct err *e);

/*
 * Ends the router's part for a handler that answers through httpd itself (streams, hijack):
 * frees rr (params and query become invalid) and returns the HTTP request.
 */
struct httpd_req *route_detach(struct route_req *rr);

/*
 * Decodes the request body as a JSON document. A missing or empty body gives an empty object
 * when allow_empty; a wrong Content-Type, invalid JSON or trailing data is ERR_INVALID.
 */
int route_body_json(const struct route_req *rr, bool allow_empty, json_t **out, struct err **err);

#endif
