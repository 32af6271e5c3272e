/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry internals shared by the files of daemon/registry: the client, one HTTP transfer on
 * curl's multi handle (xfer), operations (reg_op) and the auth helpers. Loop thread only,
 * except the pure helpers marked "any thread".
 */
#ifndef BERTH_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_INTERNAL_H

#include <curl/curl.h>

#include "daemon/registry/media.h"
#include "daemon/registry/registry.h"

#define REG_MAX_REDIRECTS 10

/* ---- TLS material from certs.d, read once at reg_client_new ---------------------------- */

struct reg_host_tls {
    char *host;    /* "host[:port]", the directory name */
    struct sb ca;  /* every *.crt concatenated (PEM) */
    struct sb crt; /* client certificate (PEM) */
    struct sb key; /* client key (PEM) */
    char *error;   /* a *.cert without its *.key or the reverse: pulls from host fail */
};

/* ---- the token cache ------------------------------------------------------------------- */

struct reg_token {
    struct reg_token *next;
    char *key; /* host, scope and a hash of the credentials */
    char *token;
    uint64_t expires; /* uv_now() milliseconds */
};

/* ---- one HTTP exchange on the multi handle --------------------------------------------- */

struct reg_xfer;
typedef void (*reg_xfer_done_fn)(struct reg_xfer *x, CURLcode rc);
/* Receives a 2xx body; returns n, 0 to abort, or CURL_WRITEFUNC_PAUSE. */
typedef size_t (*reg_xfer_sink_fn)(struct reg_xfer *x, const char *p, size_t n);

struct reg_xfer {
    struct reg_client *c;
    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    bool in_multi;
    long status;           /* of the last response head seen */
    char *www_bearer;      /* the Bearer challenge's parameters, if any */
    bool www_basic;        /* a Basic challenge was offered */
    char *content_type;    /* without parameters, lowercased */
    char *location;        /* redirect target, as sent */
    struct sb body;        /* non-streamed body, up to body_max */
    size_t body_max;       /* for 2xx; error bodies are capped at REG_SMALL_BODY_MAX */
    bool overflow;         /* body went past its cap: transfer aborted */
    reg_xfer_sink_fn sink; /* streams 2xx bodies when set */
    reg_xfer_done_fn done;
    void *owner;
    char *post;          /* form body for POST, or NULL */
    bool cert_requested; /* this transfer's TLS handshake carried a CertificateRequest */
    char errbuf[CURL_ERROR_SIZE];
};

struct reg_xfer *reg_xfer_new(struct reg_client *c, const char *url, void *owner);
/* verify: TLS peer and host verification (off only for an insecure registry's https try). */
void reg_xfer_setup(struct reg_xfer *x, bool verify);
void reg_xfer_header(struct reg_xfer *x, const char *fmt, ...) _printf_(2, 3);
void reg_xfer_start(struct reg_xfer *x);
/* Removes x from the multi handle if it is there (never from inside a curl callback). */
void reg_xfer_stop(struct reg_xfer *x);
void reg_xfer_free(struct reg_xfer *x);
/* What failed, for a message after "Get URL: ": curl's words, and when the registry asked for
 * a client certificate before the connection died, which one (none, or refused). Caller frees. */
char *reg_xfer_strerror(struct reg_xfer *x, CURLcode rc);
/* Pauses or resumes the receiving side. */
void reg_xfer_resume(struct reg_xfer *x);

/* ---- endpoints ------------------------------------------------------------------------- */

struct reg_endpoint {
    char *base;      /* "https://host:port", no trailing slash */
    bool mirror;     /* any failure falls through to the next endpoint */
    bool tls_verify; /* false only for an insecure registry's https try */
    bool send_creds; /* the user's credentials may go to this endpoint */
};

/* ---- operations ------------------------------------------------------------------------ */

enum reg_op_kind { REG_OP_RESOLVE, REG_OP_BLOB, REG_OP_LOGIN };

struct reg_op {
    struct reg_client *c;
    struct reg_op *prev, *next;
    enum reg_op_kind kind;
    bool started, cancelled, cancel_seen, finishing;
    struct err *err; /* the first failure (blob: kept until the file is cleaned up) */

    struct reg_ref ref;
    struct reg_auth auth;
    char *scope;   /* "repository:<path>:pull", or NULL for login */
    char *credkey; /* hash of the credentials for the token cache */
    struct reg_endpoint *eps;
    size_t neps, ep;

    /* the registry request in flight */
    struct reg_xfer *x;  /* registry or redirect target */
    struct reg_xfer *tx; /* token endpoint */
    char *req_path;      /* relative to the endpoint's base */
    bool req_stream;
    bool req_redirects;
    size_t req_max;
    char *cur_url;
    bool cur_to_registry;
    int auth_tries;
    int redirects;
    char *bearer;   /* token to send to the registry */
    bool use_basic; /* the registry asked for Basic */
    bool body_seen; /* a 2xx body reached the sink: no more fallback */
    void (*on_ok)(struct reg_op *op);

    /* resolve */
    reg_manifest_cb mdone;
    char *os, *arch, *variant;
    char *top_digest;
    char *child_digest;
    int64_t child_size;

    /* blob */
    struct reg_blob_ops bops;
    struct reg_desc desc;
    char *dest;
    int fd;
    bool created;
    struct digest_ctx *dg;
    int64_t received;
    char *wbuf;
    size_t wlen;
    size_t inflight;
    int fs_pending;
    bool paused;
    bool xfer_complete;
    uint64_t last_progress;

    /* login */
    reg_login_cb ldone;
    char *identity_out;
    bool login_offline;

    void *data;
};

/* ---- the client ------------------------------------------------------------------------ */

struct reg_sock;

struct reg_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer; /* curl's timeout */
    uv_timer_t defer; /* starts and cancels operations outside of curl's callbacks */
    char **insecure;
    char **mirrors;
    char *user_agent;
    char *certs_dir; /* named in messages about client certificates; may be NULL */
    long low_speed_time;
    struct reg_host_tls *tls;
    size_t ntls;
    struct reg_token *tokens;
    char **plain; /* insecure hosts seen to answer only plain HTTP */
    size_t nplain;
    struct reg_op *ops;
    struct reg_sock *socks;
    int handles; /* libuv handles not yet closed */
    int dispatching;
    bool closing, torn_down;
};

void reg_client_defer(struct reg_client *c);
void reg_client_maybe_free(struct reg_client *c);
const struct reg_host_tls *reg_client_tls(struct reg_client *c, const char *hostport);
/* Why certs.d makes url's host unusable (docker's message), or NULL; https URLs only. */
const char *reg_client_tls_error(struct reg_client *c, const char *url);
bool reg_client_insecure(struct reg_client *c, const char *hostport);
bool reg_client_plain(struct reg_client *c, const char *hostport);
void reg_client_set_plain(struct reg_client *c, const char *hostport);

/* ops.c */
void reg_op_run_deferred(struct reg_client *c);

/* auth.c (any thread) */
/* Parses a WWW-Authenticate value's auth-params (realm="x", service="y"). */
char *reg_challenge_param(const char *challenge, const char *name);
/* Extracts "token" or "access_token" (and "refresh_token", "expires_in") from a token body. */
int reg_token_parse(const char *body, size_t len, char **token, char **refresh, long *expires_in,
                    struct err **err);
/* The registry's error body as docker prints it ("manifest unknown: manifest unknown"). */
char *reg_errors_message(const char *body, size_t len);
char *reg_url_escape(const char *s);

/* token cache (loop thread) */
const char *reg_token_get(struct reg_client *c, const char *key, uint64_t now);
void reg_token_put(struct reg_client *c, const char *key, const char *token, uint64_t expires,
                   uint64_t now);
void reg_token_drop(struct reg_client *c, const char *key);

#endif
