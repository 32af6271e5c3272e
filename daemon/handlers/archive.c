/* SPDX-License-Identifier: Apache-2.0 */
/* GET /images/get, GET /images/{name}/get (docker save) and POST /images/load (docker load). */
#include "daemon/handlers/handlers.h"

#include <string.h>

/* Output queued for the client beyond which the archive stops being read (back-pressure). */
#define SAVE_HIGH_WATER (1024 * 1024)
#define SAVE_LOW_WATER  (256 * 1024)

/* ---- save -------------------------------------------------------------------------------- */

struct save_ctx {
    struct httpd_req *req;
    struct image_save *save; /* NULL once done ran */
    struct events *events;
    bool paused;
};

/* docker's image save and load events: the image id is both the actor and its name. */
static void image_id_events(struct events *ev, const char *action, char *const *ids)
{
    for (size_t i = 0; ids[i]; i++) {
        const char *attrs[] = {"name", ids[i], NULL};
        events_emit(ev, "image", action, ids[i], attrs);
    }
}

static int save_data(const char *buf, size_t len, void *data)
{
    struct save_ctx *c = data;
    if (httpd_resp_chunk(c->req, buf, len) < 0)
        return 1; /* the client is gone; the abort callback cancels the save */
    if (httpd_resp_pending(c->req) > SAVE_HIGH_WATER) {
        c->paused = true;
        return 1;
    }
    return 0;
}

static void save_drained(struct httpd_req *req, void *data)
{
    (void)req;
    struct save_ctx *c = data;
    if (c->paused && c->save) {
        c->paused = false;
        image_save_resume(c->save);
    }
}

static void save_aborted(struct httpd_req *req, void *data)
{
    (void)req;
    struct save_ctx *c = data;
    if (c->save)
        image_save_cancel(c->save); /* save_done follows and ends the request */
}

/*
 * A failure after the status went out cannot change it any more: the response is aborted (no
 * terminating chunk, the connection closes), so the client sees a truncated transfer rather
 * than a well-ended archive that merely lacks its end-of-archive blocks.
 */
static void save_done(const struct err *err, char *const *ids, void *data)
{
    struct save_ctx *c = data;
    c->save = NULL;
    httpd_resp_on_drain(c->req, 0, NULL, NULL);
    if (err) {
        httpd_resp_abort(c->req); /* the error itself is logged by the image store */
    } else {
        image_id_events(c->events, "save", ids);
        httpd_resp_end(c->req);
    }
    free(c);
}

static void save_names(struct route_req *rr, const char *const *names, size_t n)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct save_ctx *c = xcalloc(1, sizeof(*c));
    c->events = env->events;
    static const struct image_save_ops ops = {.data = save_data, .done = save_done};
    c->save = image_save_start(env->images, names, n, &ops, c, &err);
    if (!c->save) {
        free(c);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    c->req = route_detach(rr);
    httpd_req_on_abort(c->req, save_aborted, c);
    httpd_resp_on_drain(c->req, SAVE_LOW_WATER, save_drained, c);
    httpd_resp_begin_chunked(c->req, 200, "application/x-tar");
}

static void handle_images_get(struct route_req *rr)
{
    const char *const *names = route_query_all(rr, "names");
    size_t n = 0;
    while (names && names[n])
        n++;
    if (n == 0) {
        route_reply_errf(rr, ERR_INVALID, "no image names given (names=)");
        return;
    }
    save_names(rr, names, n);
}

static void handle_image_get(struct route_req *rr)
{
    const char *names[] = {rr->params[0]};
    save_names(rr, names, 1);
}

/* ---- load -------------------------------------------------------------------------------- */

/* Freed once both the body's end and the load's done have run. */
struct load_ctx {
    struct httpd_req *req;
    struct image_load *load; /* NULL once done ran */
    struct events *events;
    bool body_ended;
};

static int load_body_data(struct httpd_req *req, const char *buf, size_t len, void *data)
{
    (void)req;
    struct load_ctx *c = data;
    return c->load ? image_load_feed(c->load, buf, len) : 0;
}

static void load_body_end(struct httpd_req *req, int error, void *data)
{
    (void)req;
    struct load_ctx *c = data;
    c->body_ended = true;
    if (c->load)
        image_load_finish(c->load, error);
    else
        free(c);
}

static void load_resume(void *data)
{
    struct load_ctx *c = data;
    if (!c->body_ended)
        httpd_req_body_resume(c->req);
}

static void load_reply(struct httpd_req *req, const struct err *err, char *const *lines)
{
    if (err) {
        _cleanup_free_ char *body = api_error_encode(err->msg);
        httpd_resp_send(req, route_err_status(err->kind), "application/json", body, strlen(body));
        return;
    }
    httpd_resp_begin_chunked(req, 200, "application/json");
    for (size_t i = 0; lines[i]; i++) {
        _cleanup_free_ char *text = xasprintf("%s\n", lines[i]);
        struct api_progress p = {.stream = text};
        _cleanup_free_ char *line = api_progress_encode(&p);
        httpd_resp_chunk(req, line, strlen(line));
    }
    httpd_resp_end(req);
}

static void load_done(const struct err *err, char *const *lines, char *const *ids, void *data)
{
    struct load_ctx *c = data;
    c->load = NULL;
    image_id_events(c->events, "load", ids);
    load_reply(c->req, err, lines);
    if (c->body_ended)
        free(c);
}

/* quiet only hides progress in docker; berth has none to hide, so both answer alike. */
static void handle_images_load(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct load_ctx *c = xcalloc(1, sizeof(*c));
    c->events = env->events;
    static const struct image_load_ops ops = {.resume = load_resume, .done = load_done};
    c->load = image_load_start(env->images, &ops, c);
    c->req = route_detach(rr);
    static const struct httpd_body_ops body = {.data = load_body_data, .end = load_body_end};
    httpd_req_body_read(c->req, &body, c);
}

const struct route handle_archive_routes[] = {
    {.method = "GET", .pattern = "/images/get", .fn = handle_images_get},
    {.method = "GET", .pattern = "/images/{name*}/get", .fn = handle_image_get},
    {.method = "POST", .pattern = "/images/load", .fn = handle_images_load, .stream_body = true},
    {.method = NULL},
};
