/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plain HTTP(S) GET of any URL on the client's multi handle, streamed to the caller with
 * back-pressure: docker import's fromSrc=<URL>. No registry auth, no credentials sent.
 */
#include "daemon/registry/internal.h"

#include <string.h>

struct reg_fetch {
    struct reg_xfer *x;
    struct reg_fetch_ops ops;
    void *data;
    bool cancelled;
};

static size_t fetch_sink(struct reg_xfer *x, const char *p, size_t n)
{
    struct reg_fetch *f = x->owner;
    if (f->cancelled)
        return 0; /* curl ends the transfer with a write error */
    /* the bytes are taken either way; a full consumer pauses the receiving side */
    if (f->ops.data(p, n, f->data) == 1)
        curl_easy_pause(x->easy, CURLPAUSE_RECV);
    return n;
}

static void fetch_done(struct reg_xfer *x, CURLcode rc)
{
    struct reg_fetch *f = x->owner;
    struct err *err = NULL;
    if (f->cancelled) {
        err_set(&err, ERR_INTERNAL, 0, "cancelled");
    } else if (rc != CURLE_OK) {
        _cleanup_free_ char *why = reg_xfer_strerror(x, rc);
        err_set(&err, ERR_UNAVAILABLE, 0, "Get \"%s\": %s", x->url, why);
    } else if (x->status < 200 || x->status >= 300) {
        err_set(&err, x->status == 404 ? ERR_NOT_FOUND : ERR_UNAVAILABLE, 0,
                "Get \"%s\": unexpected status %ld", x->url, x->status);
    }
    f->ops.done(err, f->data);
    err_free(err);
    reg_xfer_free(x);
    free(f);
}

struct reg_fetch *reg_fetch_url(struct reg_client *c, const char *url,
                                const struct reg_fetch_ops *ops, void *data, struct err **err)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        err_set(err, ERR_INVALID, 0, "unsupported URL %s: only http and https", url);
        return NULL;
    }
    struct reg_fetch *f = xcalloc(1, sizeof(*f));
    f->ops = *ops;
    f->data = data;
    f->x = reg_xfer_new(c, url, f);
    reg_xfer_setup(f->x, true);
    f->x->sink = fetch_sink;
    f->x->done = fetch_done;
    curl_easy_setopt(f->x->easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(f->x->easy, CURLOPT_MAXREDIRS, (long)REG_MAX_REDIRECTS);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
    curl_easy_setopt(f->x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(f->x->easy, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    reg_xfer_start(f->x);
    return f;
}

void reg_fetch_resume(struct reg_fetch *f)
{
    reg_xfer_resume(f->x);
}

void reg_fetch_cancel(struct reg_fetch *f)
{
    f->cancelled = true;
    reg_xfer_resume(f->x); /* a paused transfer reaches the sink, which ends it */
}
