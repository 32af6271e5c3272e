/* SPDX-License-Identifier: Apache-2.0 */
/* api/timeparse.c: Go durations, GetTimestamp's RFC 3339 forms, Unix seconds, GetTimestamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "api/api.h"

static void assert_duration(const char *s, int64_t want)
{
    int64_t ns = 12345;
    assert_int_equal(api_duration_parse(s, &ns), 0);
    assert_int_equal(ns, want);
}

static void assert_not_duration(const char *s)
{
    int64_t ns = 12345;
    assert_int_equal(api_duration_parse(s, &ns), -1);
    assert_int_equal(ns, 12345);
}

static void test_duration(void **state)
{
    (void)state;
    assert_duration("10m", 600000000000LL);
    assert_duration("1h30m", 5400000000000LL);
    assert_duration("1.5h", 5400000000000LL);
    assert_duration("-2s", -2000000000LL);
    assert_duration("+2s", 2000000000LL);
    assert_duration("300ms", 300000000LL);
    assert_duration("1.5s", 1500000000LL);
    assert_duration("2.3s", 2300000000LL); /* exact: no binary rounding down */
    assert_duration(".5s", 500000000LL);
    assert_duration("5.s", 5000000000LL);
    assert_duration("1h2m3s4ms5us6ns", 3723004005006LL);
    assert_duration("7\xc2\xb5s", 7000); /* micro sign */
    assert_duration("7\xce\xbcs", 7000); /* Greek mu */
    assert_duration("0", 0);
    assert_duration("-0", 0);
    assert_duration("2562047h", 2562047LL * 3600 * 1000000000LL);
    assert_not_duration("");
    assert_not_duration("-");
    assert_not_duration("10"); /* no unit */
    assert_not_duration("m");
    assert_not_duration(".s");
    assert_not_duration("1.5.5s");
    assert_not_duration("5mx");
    assert_not_duration("5d");
    assert_not_duration("1h-30m");
    assert_not_duration("1e3s");
    assert_not_duration("0x10s");
    assert_not_duration(" 5s");
    assert_not_duration("2562048h"); /* past int64 nanoseconds */
    assert_not_duration("99999999999999999999s");
}

static void assert_rfc3339(const char *s, int64_t sec, long nsec)
{
    int64_t got_sec = 0;
    long got_nsec = -1;
    assert_int_equal(api_rfc3339_parse(s, &got_sec, &got_nsec), 0);
    assert_int_equal(got_sec, sec);
    assert_int_equal(got_nsec, nsec);
}

static void test_rfc3339(void **state)
{
    (void)state;
    assert_rfc3339("2023-11-14T22:13:20Z", 1700000000, 0);
    assert_rfc3339("2023-11-14T22:13:20z", 1700000000, 0);
    assert_rfc3339("2023-11-14T22:13:20.25+01:00", 1699996400, 250000000);
    assert_rfc3339("2023-11-14T22:13:20-02:30", 1700009000, 0);
    assert_rfc3339("2023-11-14T22:13:20.123456789Z", 1700000000, 123456789);
    assert_rfc3339("2023-11-14T22:13:20.1234567899Z", 1700000000, 123456789);
    assert_rfc3339("2023-11-14T22Z", 1699999200, 0);
    assert_rfc3339("2023-11-14T22:13Z", 1699999980, 0);
    /* no zone: local time */
    setenv("TZ", "UTC", 1);
    tzset();
    assert_rfc3339("2023-11-14", 1699920000, 0);
    assert_rfc3339("2023-11-14T22:13", 1699999980, 0);
    assert_rfc3339("2023-11-14T22:13:20.5", 1700000000, 500000000);
    setenv("TZ", "EST5", 1);
    tzset();
    assert_rfc3339("2023-11-14T17:13:20", 1700000000, 0);
    setenv("TZ", "UTC", 1);
    tzset();

    static const char *const bad[] = {"",
                                      "2023",
                                      "2023-11",
                                      "23-11-14",
                                      "2023-13-01",
                                      "2023-00-01",
                                      "2023-11-32",
                                      "2023-11-14T24:00Z",
                                      "2023-11-14T22:60Z",
                                      "2023-11-14T22:13:61Z",
                                      "2023-11-14T2Z",
                                      "2023-11-14T22:13:20.Z",
                                      "2023-11-14.5",
                                      "2023-11-14:30",
                                      "2023-11-14T22:13:20+0100",
                                      "2023-11-14T22:13:20+01:00x",
                                      "2023-11-14T22:13:20ZZ",
                                      "2023-11-14 22:13:20",
                                      "yesterday"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t sec = 7;
        long nsec = 7;
        if (api_rfc3339_parse(bad[i], &sec, &nsec) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(sec, 7);
    }
}

static void test_unix_time(void **state)
{
    (void)state;
    int64_t sec = 0;
    long nsec = -1;
    assert_int_equal(api_unix_time_parse("1699990000", &sec, &nsec), 0);
    assert_int_equal(sec, 1699990000);
    assert_int_equal(nsec, 0);
    assert_int_equal(api_unix_time_parse("1699990000.5", &sec, &nsec), 0);
    assert_int_equal(sec, 1699990000);
    assert_int_equal(nsec, 500000000);
    assert_int_equal(api_unix_time_parse("1.000000001", &sec, &nsec), 0);
    assert_int_equal(nsec, 1);
    assert_int_equal(api_unix_time_parse("1.1234567891", &sec, &nsec), 0);
    assert_int_equal(nsec, 123456789);
    assert_int_equal(api_unix_time_parse("-5.5", &sec, &nsec), 0);
    assert_int_equal(sec, -5);
    assert_int_equal(nsec, 500000000);
    assert_int_equal(api_unix_time_parse("0", &sec, &nsec), 0);
    assert_int_equal(sec, 0);
    static const char *const bad[] = {
        "",     ".5",    "5.",  "1e9", "+5",  " 5", "5 ",
        "0x10", "1.2.3", "12a", "-",   "--5", "1h", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sec = 7;
        if (api_unix_time_parse(bad[i], &sec, &nsec) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(sec, 7);
    }
}

static void assert_timestamp(const char *value, const char *want)
{
    char *out = NULL;
    struct err *err = NULL;
    assert_int_equal(api_timestamp_get(value, 1700000000, &out, &err), 0);
    assert_null(err);
    assert_string_equal(out, want);
    free(out);
}

static void assert_timestamp_err(const char *value, const char *msg)
{
    char *out = NULL;
    struct err *err = NULL;
    assert_int_equal(api_timestamp_get(value, 1700000000, &out, &err), -1);
    assert_null(out);
    assert_non_null(err);
    assert_int_equal(err->kind, ERR_INVALID);
    assert_string_equal(err->msg, msg);
    err_free(err);
}

static void test_timestamp_get(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    assert_timestamp("10m", "1699999400");
    assert_timestamp("0s", "1700000000");
    assert_timestamp("1.5s", "1699999998"); /* 1699999998.5 rounded down, as Time.Unix() */
    assert_timestamp("-1.5s", "1700000001");
    assert_timestamp("1699990000", "1699990000");
    assert_timestamp("1699990000.5", "1699990000.5");
    assert_timestamp("0", "0");
    assert_timestamp("2023-11-14T22:13:20Z", "1700000000.000000000");
    assert_timestamp("2023-11-14T22:13:20.25+01:00", "1699996400.250000000");
    assert_timestamp("2023-11-14", "1699920000.000000000");
    assert_timestamp("2023-11-14T22:13", "1699999980.000000000");
    assert_timestamp_err("yesterday", "failed to parse value as time or duration: \"yesterday\"");
    assert_timestamp("10", "10"); /* Unix seconds, not a duration without a unit */
    assert_timestamp_err("10x", "failed to parse value as time or duration: \"10x\"");
    assert_timestamp_err("", "failed to parse value as time or duration: \"\"");
    assert_timestamp_err("2023-13-01", "parsing time \"2023-13-01\": invalid RFC 3339 time");
    assert_timestamp_err("-5", "parsing time \"-5\": invalid RFC 3339 time");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_unix_time),
        cmocka_unit_test(test_timestamp_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
