/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/router/internal.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#define QUERY_MAX_PAIRS 256

struct query_pair {
    char *key;
    char *value;
};

struct route_query {
    struct query_pair *pairs;
    size_t n;
    const char **scratch; /* the last route_query_all answer */
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* %XX escapes decoded (and '+' as a space for forms); a broken escape stays literal. */
char *route_pct_decode(const char *s, size_t len, bool plus_is_space)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+' && plus_is_space) {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

struct route_query *route_query_parse(const char *raw)
{
    struct route_query *q = xcalloc(1, sizeof(*q));
    const char *p = raw ? raw : "";
    while (*p && q->n < QUERY_MAX_PAIRS) {
        size_t len = strcspn(p, "&");
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            q->pairs = xrealloc(q->pairs, (q->n + 1) * sizeof(*q->pairs));
            q->pairs[q->n].key = route_pct_decode(p, klen, true);
            q->pairs[q->n].value =
                eq ? route_pct_decode(eq + 1, len - klen - 1, true) : xstrdup("");
            q->n++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return q;
}

void route_query_free(struct route_query *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++) {
        free(q->pairs[i].key);
        free(q->pairs[i].value);
    }
    free(q->pairs);
    free(q->scratch);
    free(q);
}

const char *route_query_get(const struct route_query *q, const char *key)
{
    for (size_t i = 0; q && i < q->n; i++) {
        if (strcmp(q->pairs[i].key, key) == 0)
            return q->pairs[i].value;
    }
    return NULL;
}

const char *route_query(const struct route_req *rr, const char *key)
{
    return route_query_get(rr->query, key);
}

const char *const *route_query_all(const struct route_req *rr, const char *key)
{
    struct route_query *q = rr->query;
    free(q->scratch);
    q->scratch = xcalloc(q->n + 1, sizeof(*q->scratch));
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->pairs[i].key, key) == 0)
            q->scratch[n++] = q->pairs[i].value;
    }
    return q->scratch;
}

bool route_query_bool(const struct route_req *rr, const char *key, bool def)
{
    const char *v = route_query(rr, key);
    if (!v)
        return def;
    while (isspace((unsigned char)*v))
        v++;
    size_t len = strlen(v);
    while (len > 0 && isspace((unsigned char)v[len - 1]))
        len--;
    static const char *const falses[] = {"", "0", "no", "false", "none"};
    for (size_t i = 0; i < ARRAY_SIZE(falses); i++) {
        if (strlen(falses[i]) == len && strncasecmp(v, falses[i], len) == 0)
            return false;
    }
    return true;
}

int route_query_int(const struct route_req *rr, const char *key, long long *out, struct err **err)
{
    const char *v = route_query(rr, key);
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0')
        return err_set(err, ERR_INVALID, 0, "invalid value for %s: \"%s\" is not an integer", key,
                       v);
    *out = n;
    return 0;
}
