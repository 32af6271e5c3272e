/* SPDX-License-Identifier: Apache-2.0 */
/* docker import: POST /images/create?fromSrc=-|URL (routed from images.c). */
#include "daemon/handlers/handlers.h"

#include <errno.h>
#include <string.h>

/* Freed once both the body's end and the import's done have run. */
struct import_ctx {
    struct httpd_req *req;
    struct image_import *im; /* NULL once done ran */
    bool body_ended;
    struct err *early;       /* refused before the body: answered once the body is read */
    struct reg_fetch *fetch; /* fromSrc=URL: the download, until its done ran */
    struct err *fetch_err;   /* why the download failed: the answer instead of "cut short" */
    bool done;               /* the import ended: the answer waits for the body's end */
    struct err *result_err;
    char *result_id;
    struct events *events;
    char *tag_name; /* the image's new tag, as docker names it in its tag event */
};

/* As dockerd: the stream's one line is the new image's id ({"status":"sha256:..."}). */
static void import_reply(struct import_ctx *c)
{
    if (c->result_err) {
        route_send_err(c->req, c->result_err);
        return;
    }
    struct api_progress p = {.status = c->result_id};
    _cleanup_free_ char *line = api_progress_encode(&p);
    httpd_resp_begin_chunked(c->req, 200, "application/json");
    httpd_resp_chunk(c->req, line, strlen(line));
    httpd_resp_end(c->req);
}

static void import_ctx_free(struct import_ctx *c)
{
    err_free(c->fetch_err);
    err_free(c->result_err);
    free(c->result_id);
    free(c->tag_name);
    free(c);
}

static int import_body_data(struct httpd_req *req, const char *buf, size_t len, void *data)
{
    (void)req;
    struct import_ctx *c = data;
    return c->im ? image_import_feed(c->im, buf, len) : 0;
}

static void import_body_end(struct httpd_req *req, int error, void *data)
{
    (void)req;
    struct import_ctx *c = data;
    c->body_ended = true;
    if (c->early) {
        /* the client gets the answer only if it could send its whole body (a closed socket
           with unread data is a reset that hides the answer) */
        route_send_err(c->req, c->early);
        err_free(c->early);
        free(c);
    } else if (c->im) {
        image_import_finish(c->im, error);
    } else {
        import_reply(c);
        import_ctx_free(c);
    }
}

static void import_resume(void *data)
{
    struct import_ctx *c = data;
    if (c->fetch)
        reg_fetch_resume(c->fetch);
    else if (!c->body_ended)
        httpd_req_body_resume(c->req);
}

/* ---- fromSrc=URL: the download feeds the import as a body would ---------------------------- */

static int import_fetch_data(const char *buf, size_t len, void *data)
{
    struct import_ctx *c = data;
    return c->im ? image_import_feed(c->im, buf, len) : 0;
}

static void import_fetch_done(const struct err *err, void *data)
{
    struct import_ctx *c = data;
    c->fetch = NULL;
    if (err && c->im)
        err_set(&c->fetch_err, err->kind, 0, "%s", err->msg);
    import_body_end(c->req, err ? -EIO : 0, c);
}

static void import_aborted(struct httpd_req *req, void *data)
{
    (void)req;
    struct import_ctx *c = data;
    if (c->fetch)
        reg_fetch_cancel(c->fetch);
}

static void import_done(const struct err *err, const char *id, void *data)
{
    struct import_ctx *c = data;
    c->im = NULL;
    if (c->fetch)
        reg_fetch_cancel(c->fetch);
    if (err) {
        const struct err *e = c->fetch_err ? c->fetch_err : err;
        err_set(&c->result_err, e->kind, 0, "%s", e->msg);
    } else {
        c->result_id = xstrdup(id);
        if (c->tag_name) {
            const char *tattrs[] = {"name", c->tag_name, NULL};
            events_emit(c->events, "image", "tag", id, tattrs);
        }
        const char *attrs[] = {"name", id, NULL};
        events_emit(c->events, "image", "import", id, attrs);
    }
    /* a body still coming is read (and dropped) first: a reset would hide the answer */
    if (c->body_ended) {
        import_reply(c);
        import_ctx_free(c);
    }
}

void handle_images_import(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    const char *src = route_query(rr, "fromSrc");
    bool url = strcmp(src, "-") != 0;
    if (url && strncmp(src, "http://", 7) != 0 && strncmp(src, "https://", 8) != 0) {
        /* docker also takes a bare host/path as http://; berth wants the scheme */
        route_reply_errf(rr, ERR_INVALID, "fromSrc must be - or an http(s) URL, not %s", src);
        return;
    }
    struct image_import_opts o = {
        .src = src,
        .repo = route_query(rr, "repo"),
        .tag = route_query(rr, "tag"),
        .message = route_query(rr, "message"),
        .changes = (char *const *)route_query_all(rr, "changes"),
        .os = "linux",
        .arch = env->host ? env->host->arch : NULL,
    };
    struct import_ctx *c = xcalloc(1, sizeof(*c));
    static const struct image_import_ops ops = {.resume = import_resume, .done = import_done};
    c->im = image_import_start(env->images, &o, &ops, c, &err);
    c->early = c->im ? NULL : err;
    c->events = env->events;
    if (c->im && o.repo && o.repo[0]) {
        _cleanup_free_ char *name =
            o.tag && o.tag[0] ? xasprintf("%s:%s", o.repo, o.tag) : xstrdup(o.repo);
        struct reg_ref parsed;
        if (reg_ref_parse(name, true, &parsed, NULL) == 0) {
            c->tag_name = reg_ref_familiar(&parsed);
            reg_ref_release(&parsed);
        } else {
            c->tag_name = xstrdup(name);
        }
    }
    _cleanup_free_ char *url_copy = xstrdup(src); /* the query goes with route_detach */
    c->req = route_detach(rr);
    if (url && c->im) {
        static const struct reg_fetch_ops fops = {.data = import_fetch_data,
                                                  .done = import_fetch_done};
        c->fetch = reg_fetch_url(env->reg, url_copy, &fops, c, &err);
        if (!c->fetch) {
            image_import_finish(c->im, -EINVAL);
            c->body_ended = true;
            err_free(err);
            return;
        }
        httpd_req_on_abort(c->req, import_aborted, c);
        return;
    }
    static const struct httpd_body_ops body = {.data = import_body_data, .end = import_body_end};
    httpd_req_body_read(c->req, &body, c);
}
