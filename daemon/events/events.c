/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/events/events.h"

#include <string.h>
#include <time.h>

#include "common/common.h"

struct events_sub {
    events_cb cb;
    void (*end)(void *data);
    void *data;
    struct events_sub *next;
};

struct events {
    json_t *ring[EVENTS_KEEP];
    size_t head; /* the next slot written */
    size_t n;
    struct events_sub *subs;
};

struct events *events_new(void)
{
    return xcalloc(1, sizeof(struct events));
}

void events_free(struct events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < EVENTS_KEEP; i++)
        json_decref(ev->ring[i]);
    while (ev->subs) {
        struct events_sub *s = ev->subs;
        ev->subs = s->next;
        free(s);
    }
    free(ev);
}

void events_emit(struct events *ev, const char *type, const char *action, const char *id,
                 const char *const *attrs)
{
    if (!ev)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *a = json_object();
    for (const char *const *p = attrs; p && p[0]; p += 2) {
        if (p[1] && p[1][0])
            json_object_set_new(a, p[0], json_string(p[1]));
    }
    json_t *e = json_object();
    bool legacy = strcmp(type, "network") != 0;
    if (legacy) {
        const char *from = json_string_value(json_object_get(a, "image"));
        json_object_set_new(e, "status", json_string(action));
        json_object_set_new(e, "id", json_string(id));
        if (from && strcmp(type, "container") == 0)
            json_object_set_new(e, "from", json_string(from));
    }
    json_object_set_new(e, "Type", json_string(type));
    json_object_set_new(e, "Action", json_string(action));
    json_object_set_new(e, "Actor", json_pack("{s:s, s:o}", "ID", id, "Attributes", a));
    json_object_set_new(e, "scope", json_string("local"));
    json_object_set_new(e, "time", json_integer((json_int_t)ts.tv_sec));
    json_object_set_new(e, "timeNano",
                        json_integer((json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
    json_decref(ev->ring[ev->head]);
    ev->ring[ev->head] = e;
    ev->head = (ev->head + 1) % EVENTS_KEEP;
    if (ev->n < EVENTS_KEEP)
        ev->n++;
    for (struct events_sub *s = ev->subs, *next; s; s = next) {
        next = s->next; /* a callback may unsubscribe its own subscription */
        s->cb(e, s->data);
    }
}

struct events_sub *events_subscribe(struct events *ev, int64_t since_ns, events_cb cb,
                                    void (*end)(void *data), void *data)
{
    size_t first = (ev->head + EVENTS_KEEP - ev->n) % EVENTS_KEEP;
    for (size_t i = 0; i < ev->n; i++) {
        const json_t *e = ev->ring[(first + i) % EVENTS_KEEP];
        if (json_integer_value(json_object_get(e, "timeNano")) >= since_ns)
            cb(e, data);
    }
    struct events_sub *s = xcalloc(1, sizeof(*s));
    s->cb = cb;
    s->end = end;
    s->data = data;
    s->next = ev->subs;
    ev->subs = s;
    return s;
}

void events_end_all(struct events *ev)
{
    while (ev->subs) {
        struct events_sub *s = ev->subs;
        ev->subs = s->next;
        void (*end)(void *) = s->end;
        void *data = s->data;
        free(s);
        if (end)
            end(data);
    }
}

void events_unsubscribe(struct events *ev, struct events_sub *sub)
{
    for (struct events_sub **pp = &ev->subs; *pp; pp = &(*pp)->next) {
        if (*pp == sub) {
            *pp = sub->next;
            free(sub);
            return;
        }
    }
}
