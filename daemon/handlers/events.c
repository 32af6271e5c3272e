/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /events: docker's event stream, one JSON object per chunk. The kept events from `since`
 * on, then new ones as they happen, until `until` passes or the client goes. Without `since`
 * only new events; with an `until` already past, the kept ones and the end. Filters as
 * dockerd's: type, event, container, image, network (an actor's id, id prefix or name), label.
 */
#include "daemon/handlers/handlers.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "daemon/events/events.h"

struct ev_stream {
    struct httpd_req *req;
    struct events *ev;
    struct events_sub *sub;
    json_t *filters;  /* name -> array of strings (owned) */
    int64_t until_ns; /* 0: none */
    uv_timer_t timer;
    bool ended;
};

static bool any_equal(const json_t *want, const char *v)
{
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w)
    {
        if (v && strcmp(json_string_value(w), v) == 0)
            return true;
    }
    return false;
}

/* An actor filter (container, image, network): the event is of that type and its actor's id,
 * an id prefix or its name attribute is wanted; a container event also matches an image
 * filter by its image attribute. */
static bool actor_match(const json_t *want, const char *type, const json_t *ev)
{
    const json_t *actor = json_object_get(ev, "Actor");
    const json_t *attrs = json_object_get(actor, "Attributes");
    const char *id = json_string_value(json_object_get(actor, "ID"));
    const char *ev_type = json_string_value(json_object_get(ev, "Type"));
    bool same = ev_type && strcmp(ev_type, type) == 0;
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w)
    {
        const char *v = json_string_value(w);
        if (same && id && v[0] && strncmp(id, v, strlen(v)) == 0)
            return true;
        const char *name = json_string_value(json_object_get(attrs, "name"));
        if (same && name && strcmp(name, v) == 0)
            return true;
        const char *image = json_string_value(json_object_get(attrs, "image"));
        if (strcmp(type, "image") == 0 && ev_type && strcmp(ev_type, "container") == 0 && image &&
            strcmp(image, v) == 0)
            return true;
    }
    return false;
}

static bool event_match(const json_t *f, const json_t *ev)
{
    const json_t *want;
    if ((want = json_object_get(f, "type")) &&
        !any_equal(want, json_string_value(json_object_get(ev, "Type"))))
        return false;
    if ((want = json_object_get(f, "event")) &&
        !any_equal(want, json_string_value(json_object_get(ev, "Action"))))
        return false;
    static const char *const actors[] = {"container", "image", "network"};
    for (size_t i = 0; i < ARRAY_SIZE(actors); i++) {
        if ((want = json_object_get(f, actors[i])) && !actor_match(want, actors[i], ev))
            return false;
    }
    if ((want = json_object_get(f, "label")) &&
        !handle_labels_match(json_object_get(json_object_get(ev, "Actor"), "Attributes"), want))
        return false;
    return true;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct ev_stream *s = h->data;
    json_decref(s->filters);
    free(s);
}

static void stream_end(struct ev_stream *s)
{
    if (s->ended)
        return;
    s->ended = true;
    if (s->sub)
        events_unsubscribe(s->ev, s->sub);
    s->sub = NULL;
    uv_timer_stop(&s->timer);
    httpd_resp_end(s->req);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

static void on_event(const json_t *ev, void *data)
{
    struct ev_stream *s = data;
    if (s->ended || httpd_req_aborted(s->req) || !event_match(s->filters, ev))
        return;
    int64_t t = json_integer_value(json_object_get(ev, "timeNano"));
    if (s->until_ns && t > s->until_ns)
        return;
    char *text = json_dumps(ev, JSON_COMPACT);
    if (!text)
        return;
    struct sb line = SB_INIT;
    sb_adds(&line, text);
    sb_add(&line, "\n", 1);
    free(text);
    httpd_resp_chunk(s->req, line.buf, line.len);
    sb_release(&line);
}

static void on_until(uv_timer_t *t)
{
    stream_end(t->data);
}

static void on_abort(struct httpd_req *req, void *data)
{
    (void)req;
    stream_end(data);
}

static void on_events_end(void *data)
{
    struct ev_stream *s = data;
    s->sub = NULL; /* gone already */
    stream_end(s);
}

/* A since/until value: Unix seconds with an optional fraction, or RFC 3339; 0 when absent. */
static int time_param(struct route_req *rr, const char *key, int64_t *ns, struct err **err)
{
    const char *v = route_query(rr, key);
    *ns = 0;
    if (!v || !*v)
        return 0;
    int64_t sec = 0;
    long nsec = 0;
    if (api_unix_time_parse(v, &sec, &nsec) < 0 && api_rfc3339_parse(v, &sec, &nsec) < 0)
        return err_set(err, ERR_INVALID, 0, "invalid value for %s: %s", key, v);
    *ns = sec * 1000000000 + nsec;
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void handle_events(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_t *f = NULL;
    int64_t since = 0, until = 0;
    if (!env->events) {
        route_reply_errf(rr, ERR_UNAVAILABLE, "events are not recorded");
        return;
    }
    if (api_filters_parse(route_query(rr, "filters"), &f, &err) < 0 ||
        time_param(rr, "since", &since, &err) < 0 || time_param(rr, "until", &until, &err) < 0) {
        json_decref(f);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    struct ev_stream *s = xcalloc(1, sizeof(*s));
    s->ev = env->events;
    s->filters = f;
    s->until_ns = until;
    s->req = route_detach(rr);
    uv_timer_init(env->loop, &s->timer);
    s->timer.data = s;
    httpd_resp_begin_chunked(s->req, 200, "application/json");
    httpd_req_on_abort(s->req, on_abort, s);
    int64_t now = now_ns();
    s->sub = events_subscribe(s->ev, since ? since : now, on_event, on_events_end, s);
    if (until) {
        int64_t left_ms = until > now ? (until - now + 999999) / 1000000 : 0;
        uv_timer_start(&s->timer, on_until, (uint64_t)left_ms, 0);
    }
}

const struct route handle_event_routes[] = {
    {.method = "GET", .pattern = "/events", .fn = handle_events},
    {.method = NULL},
};
