/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker's event stream: what happened to containers, images and networks, shaped as
 * GET /events sends it. The newest EVENTS_KEEP are kept for `since`; subscribers get each new
 * one as it is recorded. Loop thread only.
 */
#ifndef BERTH_EVENTS_H
#define BERTH_EVENTS_H

#include <stdint.h>

#include <jansson.h>

#define EVENTS_KEEP 256

struct events;
struct events_sub;

struct events *events_new(void);
void events_free(struct events *ev);

/*
 * Records one event. type: "container", "image" or "network"; id: the actor's id; attrs:
 * key, value, key, value..., NULL (a NULL or empty value skips its pair). For containers and
 * images the legacy status/id/from fields are set too, from = the "image" attribute.
 */
void events_emit(struct events *ev, const char *type, const char *action, const char *id,
                 const char *const *attrs);

/* Each event (borrowed; its "timeNano" is an integer) from since_ns on: first the kept ones,
 * then the new ones as they come; end runs if events_end_all ends the subscription (which is
 * gone by then: no unsubscribe after it). */
typedef void (*events_cb)(const json_t *event, void *data);
struct events_sub *events_subscribe(struct events *ev, int64_t since_ns, events_cb cb,
                                    void (*end)(void *data), void *data);
void events_unsubscribe(struct events *ev, struct events_sub *sub);
/* Shutdown: ends every subscription. */
void events_end_all(struct events *ev);

#endif
