/* SPDX-License-Identifier: Apache-2.0 */
#include "common/common.h"

#include <string.h>

int err_set(struct err **err, enum err_kind kind, int errnum, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    struct err *e = xcalloc(1, sizeof(*e));
    e->kind = kind;
    e->errnum = errnum;
    e->msg = errnum ? xasprintf("%s: %s", msg, strerror(errnum)) : steal_ptr(&msg);
    err_free(*err);
    *err = e;
    return -1;
}

int err_wrap(struct err **err, const char *fmt, ...)
{
    if (!err || !*err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *ctx = xvasprintf(fmt, ap);
    va_end(ap);
    char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
    free((*err)->msg);
    (*err)->msg = msg;
    return -1;
}

void err_free(struct err *e)
{
    if (!e)
        return;
    free(e->msg);
    free(e);
}

void err_freep(struct err **e)
{
    err_free(*e);
    *e = NULL;
}

const char *err_kind_name(enum err_kind kind)
{
    static const char *const names[] = {
        [ERR_INTERNAL] = "internal",         [ERR_INVALID] = "invalid",
        [ERR_NOT_FOUND] = "not found",       [ERR_CONFLICT] = "conflict",
        [ERR_UNAUTHORIZED] = "unauthorized", [ERR_FORBIDDEN] = "forbidden",
        [ERR_NOT_MODIFIED] = "not modified", [ERR_TOO_LARGE] = "too large",
        [ERR_UNAVAILABLE] = "unavailable",   [ERR_SYSTEM] = "system",
    };
    if ((size_t)kind >= ARRAY_SIZE(names) || !names[kind])
        return "unknown";
    return names[kind];
}
