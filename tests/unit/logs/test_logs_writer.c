/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "daemon/logs/logs.h"
#include "tests/unit/testutil.h"

static int setup(void **state)
{
    *state = tu_tmpfile_new("logs", "c-json.log");
    return 0;
}

static int teardown(void **state)
{
    tu_tmpfile_free(*state);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    char *s = NULL;
    size_t n = 0;
    int r = fsu_read_file(path, 1 << 28, &s, &n);
    assert_int_equal(r, 0);
    if (len)
        *len = n;
    return s;
}

/* Splits a file into lines; each must be a complete {"log":...,"stream":...,"time":...}. */
static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* The "log" value of line i, raw (still escaped). */
static char *raw_log(const char *text, size_t idx)
{
    const char *p = text;
    for (size_t i = 0; i < idx; i++)
        p = strchr(p, '\n') + 1;
    assert_true(strncmp(p, "{\"log\":\"", 8) == 0);
    p += 8;
    size_t n = 0;
    while (p[n] && strncmp(p + n, "\",\"stream\":\"", 12) != 0)
        n++;
    assert_true(p[n] != '\0');
    return strndup(p, n);
}

static void write_all(struct logs_writer *w, enum logs_stream s, const char *data, size_t len)
{
    struct err *err = NULL;
    assert_int_equal(logs_writer_write(w, s, data, len, &err), 0);
}

static void test_line_format(void **state)
{
    struct tu_tmpfile *f = *state;
    struct logs_writer *w = NULL;
    struct err *err = NULL;
    assert_int_equal(logs_writer_open(f->path, 0, 1, &w, &err), 0);
    write_all(w, LOGS_STDOUT, "hello\n", 6);
    write_all(w, LOGS_STDERR, "oops\n", 5);
    logs_writer_close(w);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    char *text = slurp(f->path, NULL);
    regex_t re;
    /* Go's RFC3339Nano: trailing zeros (and a lone dot) trimmed */
    assert_int_equal(
        regcomp(&re,
                "^\\{\"log\":\"hello\\\\n\",\"stream\":\"stdout\",\"time\":\"[0-9]{4}-"
                "[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*[1-9])?Z\"\\}\n"
                "\\{\"log\":\"oops\\\\n\",\"stream\":\"stderr\",\"time\":\"[^\"]+\"\\}\n$",
                REG_EXTENDED),
        0);
    assert_int_equal(regexec(&re, text, 0, NULL, 0), 0);
    regfree(&re);
    free(text);
}

static void test_escaping_like_go(void **state)
{
    struct tu_tmpfile *f = *state;
    struct logs_writer *w = NULL;
    assert_int_equal(logs_writer_open(f->path, 0, 1, &w, NULL), 0);
    static const char in[] = "<a>&\"q\"\\\t\r\x01\x1f\x7f"
                             "\xc3\xa9"         /* é: kept */
                             "\xe2\x80\xa8"     /* U+2028 */
                             "\xe2\x80\xa9"     /* U+2029 */
                             "\xff"             /* invalid */
                             "\xed\xa0\x80"     /* a surrogate: 3 invalid bytes */
                             "\xc0\xaf"         /* overlong: 2 invalid bytes */
                             "\xf0\x9f\x98\x80" /* emoji: kept */
                             "\xef\xbf\xbd"     /* a real U+FFFD: kept as is */
                             "\xe2\x82"         /* truncated */
                             "\n";
    write_all(w, LOGS_STDOUT, in, sizeof(in) - 1);
    logs_writer_close(w);
    char *text = slurp(f->path, NULL);
    char *log = raw_log(text, 0);
    assert_string_equal(log, "\\u003ca\\u003e\\u0026\\\"q\\\"\\\\\\u0009\\r\\u0001\\u001f\x7f"
                             "\xc3\xa9"
                             "\\u2028\\u2029\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
                             "\xf0\x9f\x98\x80"
                             "\xef\xbf\xbd"
                             "\\ufffd\\ufffd\\n");
    free(log);
    free(text);
}

static void test_partial_lines(void **state)
{
    struct tu_tmpfile *f = *state;
    struct logs_writer *w = NULL;
    struct err *err = NULL;
    assert_int_equal(logs_writer_open(f->path, 0, 1, &w, NULL), 0);
    write_all(w, LOGS_STDOUT, "ab", 2);
    write_all(w, LOGS_STDERR, "E1\nE", 4); /* streams hold back separately */
    write_all(w, LOGS_STDOUT, "c\nd", 3);
    write_all(w, LOGS_STDOUT, "e\n\n", 3);
    write_all(w, LOGS_STDOUT, "tail", 4);
    assert_int_equal(logs_writer_flush(w, LOGS_STDOUT, &err), 0);
    assert_int_equal(logs_writer_flush(w, LOGS_STDERR, &err), 0);
    assert_int_equal(logs_writer_flush(w, LOGS_STDERR, &err), 0); /* nothing held: no-op */
    logs_writer_close(w);
    char *text = slurp(f->path, NULL);
    assert_int_equal(count_lines(text), 6);
    const char *want[] = {"E1\\n", "abc\\n", "de\\n", "\\n", "tail", "E"};
    for (size_t i = 0; i < 6; i++) {
        char *log = raw_log(text, i);
        assert_string_equal(log, want[i]);
        free(log);
    }
    assert_non_null(strstr(text, "\"log\":\"E\",\"stream\":\"stderr\""));
    free(text);
}

/* Lines are split at 16 KiB, whatever the read sizes were (moby's copier buffer). */
static void test_split_16k(void **state)
{
    struct tu_tmpfile *f = *state;
    struct logs_writer *w = NULL;
    assert_int_equal(logs_writer_open(f->path, 0, 1, &w, NULL), 0);
    size_t big = 40000;
    char *data = malloc(big + 1);
    memset(data, 'a', big);
    data[big] = '\n';
    /* fed in odd chunks */
    for (size_t off = 0; off < big + 1;) {
        size_t n = off % 3 == 0 ? 1000 : 777;
        if (n > big + 1 - off)
            n = big + 1 - off;
        write_all(w, LOGS_STDOUT, data + off, n);
        off += n;
    }
    /* exactly LOGS_LINE_MAX - 1 + '\n' fits one entry; LOGS_LINE_MAX + '\n' does not */
    memset(data, 'b', LOGS_LINE_MAX - 1);
    data[LOGS_LINE_MAX - 1] = '\n';
    write_all(w, LOGS_STDOUT, data, LOGS_LINE_MAX);
    memset(data, 'c', LOGS_LINE_MAX);
    data[LOGS_LINE_MAX] = '\n';
    write_all(w, LOGS_STDOUT, data, LOGS_LINE_MAX + 1);
    logs_writer_close(w);
    free(data);
    char *text = slurp(f->path, NULL);
    assert_int_equal(count_lines(text), 6);
    size_t want[] = {16384, 16384, 40000 - 32768 + 2, 16383 + 2, 16384, 2};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        char *log = raw_log(text, i);
        assert_int_equal(strlen(log), want[i]);
        free(log);
    }
    free(text);
}

static void test_rotation(void **state)
{
    struct tu_tmpfile *f = *state;
    struct logs_writer *w = NULL;
    assert_int_equal(logs_writer_open(f->path, 1000, 3, &w, NULL), 0);
    char line[64];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(line, sizeof(line), "line %03d\n", i);
        write_all(w, i % 2 ? LOGS_STDERR : LOGS_STDOUT, line, (size_t)n);
    }
    logs_writer_close(w);
    char p1[160], p2[160], p3[160];
    snprintf(p1, sizeof(p1), "%s.1", f->path);
    snprintf(p2, sizeof(p2), "%s.2", f->path);
    snprintf(p3, sizeof(p3), "%s.3", f->path);
    struct stat st;
    assert_int_equal(stat(p3, &st), -1);
    const char *files[] = {p2, p1, f->path};
    int expect = -1;
    for (size_t k = 0; k < 3; k++) {
        size_t len;
        char *text = slurp(files[k], &len);
        assert_true(len <= 1000);
        if (k < 2)
            assert_true(len > 800); /* rotated files are full, not one line each */
        assert_int_equal(text[len - 1], '\n');
        /* consecutive across files */
        for (size_t i = 0; i < count_lines(text); i++) {
            char *log = raw_log(text, i);
            int v = atoi(log + 5);
            if (expect >= 0)
                assert_int_equal(v, expect);
            expect = v + 1;
            free(log);
        }
        free(text);
    }
    assert_int_equal(expect, 100);
}

static void test_max_files_1_truncates(void **state)
{
    struct tu_tmpfile *f = *state;
    struct logs_writer *w = NULL;
    assert_int_equal(logs_writer_open(f->path, 500, 1, &w, NULL), 0);
    for (int i = 0; i < 50; i++)
        write_all(w, LOGS_STDOUT, "0123456789\n", 11);
    logs_writer_close(w);
    size_t len;
    char *text = slurp(f->path, &len);
    assert_true(len <= 500 && len > 0);
    char *log = raw_log(text, 0);
    assert_string_equal(log, "0123456789\\n");
    free(log);
    free(text);
    char p1[160];
    snprintf(p1, sizeof(p1), "%s.1", f->path);
    struct stat st;
    assert_int_equal(stat(p1, &st), -1);
}

static void test_torn_tail_cut_at_open(void **state)
{
    struct tu_tmpfile *f = *state;
    const char *old =
        "{\"log\":\"ok\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\"}\n"
        "{\"log\":\"tor";
    assert_int_equal(fsu_write_atomic(f->path, old, strlen(old), 0640, NULL), 0);
    struct logs_writer *w = NULL;
    assert_int_equal(logs_writer_open(f->path, 0, 1, &w, NULL), 0);
    write_all(w, LOGS_STDOUT, "next\n", 5);
    logs_writer_close(w);
    char *text = slurp(f->path, NULL);
    assert_int_equal(count_lines(text), 2);
    char *log = raw_log(text, 1);
    assert_string_equal(log, "next\\n");
    free(log);
    free(text);

    /* a file of NULs only (crash after the size was extended) */
    char zeros[100] = {0};
    assert_int_equal(fsu_write_atomic(f->path, zeros, sizeof(zeros), 0640, NULL), 0);
    assert_int_equal(logs_writer_open(f->path, 0, 1, &w, NULL), 0);
    write_all(w, LOGS_STDOUT, "x\n", 2);
    logs_writer_close(w);
    text = slurp(f->path, NULL);
    assert_memory_equal(text, "{\"log\":\"x\\n\"", 12);
    free(text);
}

/*
 * A full disk (simulated with RLIMIT_FSIZE, which makes write() short then EFBIG, as ENOSPC
 * does): the writer reports drops, and the file only ever holds complete lines.
 */
static void test_full_disk_no_torn_lines(void **state)
{
    struct tu_tmpfile *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {10000, RLIM_INFINITY};
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(10);
        struct logs_writer *w = NULL;
        if (logs_writer_open(f->path, 0, 1, &w, NULL) < 0)
            _exit(11);
        int failures = 0;
        char line[200];
        memset(line, 'z', sizeof(line));
        line[sizeof(line) - 1] = '\n';
        for (int i = 0; i < 200; i++) {
            struct err *err = NULL;
            if (logs_writer_write(w, LOGS_STDOUT, line, sizeof(line), &err) < 0) {
                failures++;
                if (!strstr(err->msg, "dropped"))
                    _exit(12);
                err_free(err);
            }
        }
        if (failures == 0)
            _exit(13);
        rl.rlim_cur = RLIM_INFINITY; /* space comes back */
        setrlimit(RLIMIT_FSIZE, &rl);
        struct err *err = NULL;
        if (logs_writer_write(w, LOGS_STDOUT, "back\n", 5, &err) < 0)
            _exit(14);
        logs_writer_close(w);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    size_t len;
    char *text = slurp(f->path, &len);
    assert_true(len > 9000);
    assert_int_equal(text[len - 1], '\n');
    size_t n = count_lines(text);
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        const char *nl = strchr(p, '\n');
        assert_memory_equal(p, "{\"log\":\"", 8);
        assert_memory_equal(nl - 2, "\"}", 2);
        p = nl + 1;
    }
    char *last = raw_log(text, n - 1);
    assert_string_equal(last, "back\\n");
    free(last);
    free(text);
}

static void test_frame_header(void **state)
{
    unsigned char h[8];
    logs_frame_header(LOGS_STDERR, 0x01020304, h);
    unsigned char want[8] = {2, 0, 0, 0, 1, 2, 3, 4};
    assert_memory_equal(h, want, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping_like_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_16k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_files_1_truncates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_cut_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_no_torn_lines, setup, teardown),
        cmocka_unit_test(test_frame_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
