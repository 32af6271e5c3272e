/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"
#include "daemon/events/events.h"

struct seen {
    int n;
    int ended;
    char last_action[32];
    json_int_t last_nano;
};

static void on_event(const json_t *e, void *data)
{
    struct seen *s = data;
    s->n++;
    snprintf(s->last_action, sizeof(s->last_action), "%s",
             json_string_value(json_object_get(e, "Action")));
    s->last_nano = json_integer_value(json_object_get(e, "timeNano"));
}

static void on_end(void *data)
{
    ((struct seen *)data)->ended++;
}

/* docker's shape: legacy fields for containers, not for networks; empty attributes dropped. */
static void test_shape(void **state)
{
    struct events *ev = events_new();
    struct seen s = {0};
    struct events_sub *sub = events_subscribe(ev, 0, on_event, on_end, &s);
    const char *attrs[] = {"image", "busybox", "name", "c1", "empty", "", "none", NULL, NULL};
    events_emit(ev, "container", "start", "abc", attrs);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last_action, "start");
    struct seen all = {0};
    struct events_sub *sub2 = events_subscribe(ev, 0, on_event, on_end, &all);
    assert_int_equal(all.n, 1); /* the kept one, replayed */
    events_emit(ev, "network", "create", "n1", NULL);
    assert_int_equal(s.n, 2);
    assert_int_equal(all.n, 2);
    events_unsubscribe(ev, sub);
    events_emit(ev, "network", "destroy", "n1", NULL);
    assert_int_equal(s.n, 2); /* unsubscribed */
    assert_int_equal(all.n, 3);
    (void)sub2;
    events_end_all(ev);
    assert_int_equal(all.ended, 1);
    assert_int_equal(s.ended, 0);
    events_emit(ev, "network", "create", "n2", NULL);
    assert_int_equal(all.n, 3); /* ended */
    events_free(ev);
}

/* Only the newest EVENTS_KEEP are kept, oldest first; since skips the older ones. */
static void test_ring(void **state)
{
    struct events *ev = events_new();
    for (int i = 0; i < EVENTS_KEEP + 10; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%d", i);
        events_emit(ev, "container", i == EVENTS_KEEP + 9 ? "last" : "x", id, NULL);
    }
    struct seen s = {0};
    struct events_sub *sub = events_subscribe(ev, 0, on_event, on_end, &s);
    assert_int_equal(s.n, EVENTS_KEEP);
    assert_string_equal(s.last_action, "last");
    events_unsubscribe(ev, sub);
    struct seen late = {0};
    sub = events_subscribe(ev, s.last_nano + 1, on_event, on_end, &late);
    assert_int_equal(late.n, 0);
    events_unsubscribe(ev, sub);
    events_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
