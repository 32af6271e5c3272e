/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "daemon/logs/logs.h"
#include "tests/unit/testutil.h"

#define T0 1704164645LL /* 2024-01-02T03:04:05Z */

static int setup(void **state)
{
    *state = tu_tmpfile_new("logr", "c-json.log");
    return 0;
}

static int teardown(void **state)
{
    tu_tmpfile_free(*state);
    return 0;
}

static void append(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    assert_true(fd >= 0);
    assert_int_equal(fdu_write_all(fd, text, strlen(text)), 0);
    close(fd);
}

/* A line for entry i: second T0+i, stream stdout for even i. */
static void append_entry(const char *path, int i)
{
    char line[200];
    snprintf(line, sizeof(line),
             "{\"log\":\"m%d\\n\",\"stream\":\"%s\",\"time\":\"2024-01-02T03:%02d:%02d.5Z\"}\n", i,
             i % 2 ? "stderr" : "stdout", 4 + (5 + i) / 60, (5 + i) % 60);
    append(path, line);
}

struct got {
    int n;
    char data[64][64];
    enum logs_stream stream[64];
    int64_t ns[64];
    int stop_after;
};

static int collect(const struct logs_entry *e, void *data)
{
    struct got *g = data;
    if (g->n < 64) {
        size_t len = e->len < 63 ? e->len : 63;
        memcpy(g->data[g->n], e->data, len);
        g->data[g->n][len] = '\0';
        g->stream[g->n] = e->stream;
        g->ns[g->n] = (int64_t)e->time.tv_sec * 1000000000 + e->time.tv_nsec;
    }
    g->n++;
    return g->stop_after && g->n >= g->stop_after ? -1 : 0;
}

static const struct logs_query ALL = {.out = true, .err = true, .tail = -1};

static void test_read_all_and_times(void **state)
{
    struct tu_tmpfile *f = *state;
    for (int i = 0; i < 10; i++)
        append_entry(f->path, i);
    struct got g = {0};
    struct logs_pos end = {0};
    assert_int_equal(logs_read(f->path, &ALL, collect, &g, &end, NULL), 0);
    assert_int_equal(g.n, 10);
    assert_string_equal(g.data[0], "m0\n");
    assert_string_equal(g.data[9], "m9\n");
    assert_int_equal(g.stream[0], LOGS_STDOUT);
    assert_int_equal(g.stream[1], LOGS_STDERR);
    assert_true(g.ns[0] == T0 * 1000000000LL + 500000000LL);
    struct stat st;
    stat(f->path, &st);
    assert_int_equal(end.offset, st.st_size);
    assert_int_equal(end.inode, st.st_ino);
}

static void test_tail_since_until_streams(void **state)
{
    struct tu_tmpfile *f = *state;
    for (int i = 0; i < 20; i++)
        append_entry(f->path, i);
    struct got g = {0};
    struct logs_query q = ALL;
    q.tail = 3;
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.data[0], "m17\n");
    assert_string_equal(g.data[2], "m19\n");

    memset(&g, 0, sizeof(g));
    q.tail = 0;
    struct logs_pos end = {0};
    assert_int_equal(logs_read(f->path, &q, collect, &g, &end, NULL), 0);
    assert_int_equal(g.n, 0);
    assert_true(end.offset > 0);

    memset(&g, 0, sizeof(g));
    q.tail = 2;
    q.err = false; /* the last 2 stdout entries */
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.data[0], "m16\n");
    assert_string_equal(g.data[1], "m18\n");

    memset(&g, 0, sizeof(g));
    q = ALL;
    q.since_ns = (T0 + 5) * 1000000000LL;               /* m5 is at T0+5.5 */
    q.until_ns = (T0 + 8) * 1000000000LL + 500000000LL; /* inclusive */
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.data[0], "m5\n");
    assert_string_equal(g.data[3], "m8\n");

    memset(&g, 0, sizeof(g));
    q.tail = 2; /* tail applies to the matching entries */
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.data[0], "m7\n");

    memset(&g, 0, sizeof(g));
    q = ALL;
    q.tail = 1000; /* more than there is */
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 20);
    assert_string_equal(g.data[0], "m0\n");

    memset(&g, 0, sizeof(g));
    q = ALL;
    g.stop_after = 2; /* the callback stops the read */
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 2);
}

static void test_escapes_decoded(void **state)
{
    struct tu_tmpfile *f = *state;
    append(f->path,
           "{\"log\":\"\\u003cb\\u003e \\u0026 \\\"\\\\\\/\\t\\r\\n\\u00e9\\ud83d\\ude00"
           "\\ufffd\\u2028\\ud800x\",\"stream\":\"stdout\",\"time\":"
           "\"2024-01-02T04:04:05.000000001+01:00\",\"attrs\":{\"a\":[1,{\"b\":null}]}}\n");
    struct got g = {0};
    assert_int_equal(logs_read(f->path, &ALL, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.data[0], "<b> & \"\\/\t\r\n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd"
                                   "\xe2\x80\xa8\xef\xbf\xbdx");
    assert_true(g.ns[0] == T0 * 1000000000LL + 1);
}

static void test_corrupt_and_torn_lines(void **state)
{
    struct tu_tmpfile *f = *state;
    append_entry(f->path, 0);
    append(f->path, "garbage\n");
    append(f->path, "{\"log\":\"no time\\n\",\"stream\":\"stdout\"}\n");
    append(f->path,
           "{\"log\":\"bad stream\\n\",\"stream\":\"x\",\"time\":\"2024-01-02T03:04:05Z\"}\n");
    append(f->path, "{\"log\":\"bad time\\n\",\"stream\":\"stdout\",\"time\":\"yesterday\"}\n");
    append(f->path,
           "{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\"} junk\n");
    append(f->path, "\n");
    int fd = open(f->path, O_WRONLY | O_APPEND);
    char zeros[300] = {0};
    assert_int_equal(fdu_write_all(fd, zeros, sizeof(zeros)), 0); /* NULs before a good line */
    close(fd);
    append_entry(f->path, 1);
    struct stat st;
    stat(f->path, &st);
    append(f->path, "{\"log\":\"torn"); /* a crash mid-line */
    struct got g = {0};
    struct logs_pos end = {0};
    assert_int_equal(logs_read(f->path, &ALL, collect, &g, &end, NULL), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.data[0], "m0\n");
    assert_string_equal(g.data[1], "m1\n");
    assert_int_equal(end.offset, st.st_size); /* stops before the torn line */

    memset(&g, 0, sizeof(g));
    struct logs_query q = ALL;
    q.tail = 1;
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.data[0], "m1\n");
}

static void test_rotated_files(void **state)
{
    struct tu_tmpfile *f = *state;
    char p1[160], p2[160];
    snprintf(p1, sizeof(p1), "%s.1", f->path);
    snprintf(p2, sizeof(p2), "%s.2", f->path);
    for (int i = 0; i < 4; i++)
        append_entry(p2, i);
    for (int i = 4; i < 8; i++)
        append_entry(p1, i);
    for (int i = 8; i < 10; i++)
        append_entry(f->path, i);
    struct got g = {0};
    assert_int_equal(logs_read(f->path, &ALL, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 10);
    for (int i = 0; i < 10; i++) {
        char want[16];
        snprintf(want, sizeof(want), "m%d\n", i);
        assert_string_equal(g.data[i], want);
    }
    memset(&g, 0, sizeof(g));
    struct logs_query q = ALL;
    q.tail = 7; /* spans all three files */
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 7);
    assert_string_equal(g.data[0], "m3\n");
    assert_string_equal(g.data[6], "m9\n");
}

static void test_follow(void **state)
{
    struct tu_tmpfile *f = *state;
    append_entry(f->path, 0);
    struct got g = {0};
    struct logs_pos pos = {0};
    assert_int_equal(logs_read(f->path, &ALL, collect, &g, &pos, NULL), 0);
    assert_int_equal(g.n, 1);

    /* nothing new */
    memset(&g, 0, sizeof(g));
    assert_int_equal(logs_read_from(f->path, &ALL, &pos, collect, &g, NULL), 0);
    assert_int_equal(g.n, 0);

    /* a line in progress is left for the next call */
    append_entry(f->path, 1);
    append(f->path, "{\"log\":\"m2\\n\",\"stream\":\"stdout\",");
    assert_int_equal(logs_read_from(f->path, &ALL, &pos, collect, &g, NULL), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.data[0], "m1\n");
    append(f->path, "\"time\":\"2024-01-02T03:04:07Z\"}\n");
    assert_int_equal(logs_read_from(f->path, &ALL, &pos, collect, &g, NULL), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.data[1], "m2\n");

    /* rotation: the rest of the old file, then the new one */
    append_entry(f->path, 3);
    char p1[160], p2[160];
    snprintf(p1, sizeof(p1), "%s.1", f->path);
    snprintf(p2, sizeof(p2), "%s.2", f->path);
    assert_int_equal(rename(f->path, p1), 0);
    append_entry(f->path, 4);
    assert_int_equal(logs_read_from(f->path, &ALL, &pos, collect, &g, NULL), 0);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.data[2], "m3\n");
    assert_string_equal(g.data[3], "m4\n");

    /* two rotations between calls */
    append_entry(f->path, 5);
    assert_int_equal(rename(p1, p2), 0);
    assert_int_equal(rename(f->path, p1), 0);
    append_entry(f->path, 6);
    assert_int_equal(logs_read_from(f->path, &ALL, &pos, collect, &g, NULL), 0);
    assert_int_equal(g.n, 6);
    assert_string_equal(g.data[4], "m5\n");
    assert_string_equal(g.data[5], "m6\n");

    /* truncated in place (max-file 1) */
    assert_int_equal(truncate(f->path, 0), 0);
    append(f->path, "{\"log\":\"m7\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\"}\n");
    assert_int_equal(logs_read_from(f->path, &ALL, &pos, collect, &g, NULL), 0);
    assert_int_equal(g.n, 7);
    assert_string_equal(g.data[6], "m7");
    /* truncated and refilled past the old offset: the offset no longer follows a newline */
    assert_int_equal(truncate(f->path, 0), 0);
    for (int i = 8; i < 12; i++)
        append_entry(f->path, i);
    assert_int_equal(logs_read_from(f->path, &ALL, &pos, collect, &g, NULL), 0);
    assert_int_equal(g.n, 11);
    assert_string_equal(g.data[7], "m8\n");
}

struct count {
    long n;
    size_t bytes;
};

static int count_cb(const struct logs_entry *e, void *data)
{
    struct count *c = data;
    c->n++;
    c->bytes += e->len;
    return 0;
}

/* Writer to reader: bytes survive (invalid UTF-8 as U+FFFD); long lines come back split. */
static void test_round_trip_and_big(void **state)
{
    struct tu_tmpfile *f = *state;
    struct logs_writer *w = NULL;
    assert_int_equal(logs_writer_open(f->path, 0, 1, &w, NULL), 0);
    const char in[] = "a<b>\t\xc3\xa9\xff\n";
    assert_int_equal(logs_writer_write(w, LOGS_STDERR, in, sizeof(in) - 1, NULL), 0);
    char *big = malloc(100000);
    memset(big, '"', 100000); /* every byte escaped */
    assert_int_equal(logs_writer_write(w, LOGS_STDOUT, big, 100000, NULL), 0);
    assert_int_equal(logs_writer_flush(w, LOGS_STDOUT, NULL), 0);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(logs_writer_write(w, LOGS_STDOUT, "line\n", 5, NULL), 0);
    logs_writer_close(w);
    free(big);
    struct got g = {0};
    struct logs_query q = ALL;
    q.out = false;
    assert_int_equal(logs_read(f->path, &q, collect, &g, NULL, NULL), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.data[0], "a<b>\t\xc3\xa9\xef\xbf\xbd\n");
    struct count c = {0};
    assert_int_equal(logs_read(f->path, &ALL, count_cb, &c, NULL, NULL), 0);
    assert_int_equal(c.n, 1 + 7 + 20000); /* 100000 = 6 x 16384 + 1696 */
    assert_int_equal(c.bytes, sizeof(in) - 1 + 2 + 100000 + 20000 * 5);
    c = (struct count){0};
    q = ALL;
    q.tail = 10;
    assert_int_equal(logs_read(f->path, &q, count_cb, &c, NULL, NULL), 0);
    assert_int_equal(c.n, 10);
}

static void test_missing_file(void **state)
{
    struct tu_tmpfile *f = *state;
    struct err *err = NULL;
    assert_int_equal(logs_read(f->path, &ALL, count_cb, NULL, NULL, &err), -1);
    assert_int_equal(err->kind, ERR_NOT_FOUND);
    err_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_all_and_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_since_until_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_torn_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotated_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_and_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
