/* SPDX-License-Identifier: Apache-2.0 */
#include "common/common.h"

#include <stdio.h>
#include <string.h>

void sb_init(struct sb *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void sb_release(struct sb *sb)
{
    free(sb->buf);
    sb_init(sb);
}

void sb_reset(struct sb *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

void sb_grow(struct sb *sb, size_t extra)
{
    if (extra > SIZE_MAX / 2 - sb->len - 1)
        abort(); /* callers bound sizes before growing; this is a programming error */
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    sb->buf = xrealloc(sb->buf, cap);
    sb->cap = cap;
    sb->buf[sb->len] = '\0';
}

void sb_add(struct sb *sb, const void *data, size_t len)
{
    sb_grow(sb, len);
    if (len)
        memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void sb_adds(struct sb *sb, const char *s)
{
    sb_add(sb, s, strlen(s));
}

void sb_addc(struct sb *sb, char c)
{
    sb_add(sb, &c, 1);
}

void sb_addf(struct sb *sb, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        sb_add(sb, tmp, (size_t)n);
    } else {
        sb_grow(sb, (size_t)n);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
        sb->len += (size_t)n;
    }
    va_end(ap2);
}

void sb_consume(struct sb *sb, size_t n)
{
    if (n >= sb->len) {
        sb_reset(sb);
        return;
    }
    memmove(sb->buf, sb->buf + n, sb->len - n);
    sb->len -= n;
    sb->buf[sb->len] = '\0';
}

char *sb_steal(struct sb *sb)
{
    char *p = sb->buf ? sb->buf : xstrdup("");
    sb_init(sb);
    return p;
}

const char *sb_str(struct sb *sb)
{
    return sb->buf ? sb->buf : "";
}
