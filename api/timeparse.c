/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Times as docker's command line and daemon read them: Go durations, the RFC 3339 forms of
 * GetTimestamp, Unix "seconds[.nanos]" (ParseTimestamps), and GetTimestamp itself, which
 * picks one of the three. Shared by the client (--since/--until) and the daemon (prune's
 * until, logs' since/until).
 */
#include "api/api.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC 1000000000LL

/* Leading digits at *p into *v; -1 on overflow. Sets *any when there was at least one. */
static int leading_int(const char **p, uint64_t *v, bool *any)
{
    uint64_t x = 0;
    const char *s = *p;
    for (; isdigit((unsigned char)*s); s++) {
        if (x > (UINT64_C(1) << 63) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
        if (x > UINT64_C(1) << 63)
            return -1;
    }
    *any = s != *p;
    *p = s;
    *v = x;
    return 0;
}

/* Leading fraction digits at *p as f / scale; digits past int64's precision are dropped. */
static void leading_fraction(const char **p, uint64_t *f, double *scale, bool *any)
{
    uint64_t x = 0;
    double sc = 1;
    bool overflow = false;
    const char *s = *p;
    for (; isdigit((unsigned char)*s); s++) {
        if (overflow || x > (uint64_t)INT64_MAX / 10) {
            overflow = true;
            continue;
        }
        x = x * 10 + (uint64_t)(*s - '0');
        sc *= 10;
    }
    *any = s != *p;
    *p = s;
    *f = x;
    *scale = sc;
}

/* The unit at *p: everything up to the next digit or '.'; 0 when unknown. */
static uint64_t duration_unit(const char **p)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},           {"us", 1000},      {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
        {"\xce\xbcs", 1000},                                         /* U+03BC Greek mu */
        {"ms", 1000000},     {"s", NS_PER_SEC}, {"m", 60 * NS_PER_SEC}, {"h", 3600 * NS_PER_SEC}};
    const char *s = *p;
    size_t len = 0;
    while (s[len] && s[len] != '.' && !isdigit((unsigned char)s[len]))
        len++;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
        if (strlen(units[i].name) == len && strncmp(s, units[i].name, len) == 0) {
            *p = s + len;
            return units[i].ns;
        }
    }
    return 0;
}

int api_duration_parse(const char *s, int64_t *ns)
{
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (strcmp(p, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*p)
        return -1;
    uint64_t d = 0;
    while (*p) {
        uint64_t v, f = 0;
        double scale = 1;
        bool pre, post = false;
        if (leading_int(&p, &v, &pre) < 0)
            return -1;
        if (*p == '.') {
            p++;
            leading_fraction(&p, &f, &scale, &post);
        }
        if (!pre && !post)
            return -1;
        uint64_t unit = duration_unit(&p);
        if (unit == 0 || v > (UINT64_C(1) << 63) / unit)
            return -1;
        v *= unit;
        if (f > 0)
            v += (uint64_t)((double)f * ((double)unit / scale));
        if (v > UINT64_C(1) << 63)
            return -1;
        d += v;
        if (d > UINT64_C(1) << 63)
            return -1;
    }
    if (neg) {
        *ns = d == UINT64_C(1) << 63 ? INT64_MIN : -(int64_t)d;
        return 0;
    }
    if (d > (uint64_t)INT64_MAX)
        return -1;
    *ns = (int64_t)d;
    return 0;
}

/* Exactly n digits at *p. */
static int fixed_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

/* A fraction's digits after the '.' at *p as nanoseconds (the first nine count); -1 with no
 * digit. */
static int nanos(const char **p, long *out)
{
    const char *s = *p;
    long v = 0;
    int n = 0;
    for (; isdigit((unsigned char)*s); s++, n++)
        v = n < 9 ? v * 10 + (*s - '0') : v;
    if (n == 0)
        return -1;
    for (; n < 9; n++)
        v *= 10;
    *p = s;
    *out = v;
    return 0;
}

int api_rfc3339_parse(const char *s, int64_t *sec, long *nsec)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0;
    long frac = 0;
    if (fixed_digits(&p, 4, &y) < 0 || *p++ != '-' || fixed_digits(&p, 2, &mo) < 0 || *p++ != '-' ||
        fixed_digits(&p, 2, &d) < 0)
        return -1;
    if (*p == 'T') {
        p++;
        if (fixed_digits(&p, 2, &h) < 0)
            return -1;
        if (*p == ':' && (p++, fixed_digits(&p, 2, &mi) < 0))
            return -1;
        if (*p == ':' && (p++, fixed_digits(&p, 2, &se) < 0))
            return -1;
        if (*p == '.' && (p++, nanos(&p, &frac) < 0))
            return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se,
                    .tm_isdst = -1};
    int64_t t;
    if (!*p) {
        t = (int64_t)mktime(&tm);
    } else if ((*p == 'Z' || *p == 'z') && !p[1]) {
        t = (int64_t)timegm(&tm);
    } else if (*p == '+' || *p == '-') {
        int oh, om, sign = *p++ == '-' ? -1 : 1;
        if (fixed_digits(&p, 2, &oh) < 0 || *p++ != ':' || fixed_digits(&p, 2, &om) < 0 || *p)
            return -1;
        t = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    *sec = t;
    *nsec = frac;
    return 0;
}

int api_unix_time_parse(const char *s, int64_t *sec, long *nsec)
{
    const char *p = s;
    bool neg = *p == '-';
    uint64_t v;
    bool any;
    long frac = 0;
    if (neg)
        p++;
    if (leading_int(&p, &v, &any) < 0 || !any || v > (uint64_t)INT64_MAX)
        return -1;
    if (*p == '.' && (p++, nanos(&p, &frac) < 0))
        return -1;
    if (*p)
        return -1;
    *sec = neg ? -(int64_t)v : (int64_t)v;
    *nsec = frac;
    return 0;
}

int api_timestamp_get(const char *value, int64_t now, char **out, struct err **err)
{
    int64_t d, sec;
    long nsec;
    if (strcmp(value, "0") != 0 && api_duration_parse(value, &d) == 0) {
        /* now - d in whole seconds, rounded down as Go's Time.Unix() */
        sec = now - d / NS_PER_SEC - (d % NS_PER_SEC > 0 ? 1 : 0);
        *out = xasprintf("%lld", (long long)sec);
        return 0;
    }
    if (api_rfc3339_parse(value, &sec, &nsec) == 0) {
        *out = xasprintf("%lld.%09ld", (long long)sec, nsec);
        return 0;
    }
    if (strchr(value, '-'))
        return err_set(err, ERR_INVALID, 0, "parsing time \"%s\": invalid RFC 3339 time", value);
    if (api_unix_time_parse(value, &sec, &nsec) < 0)
        return err_set(err, ERR_INVALID, 0, "failed to parse value as time or duration: \"%s\"",
                       value);
    *out = xstrdup(value);
    return 0;
}
