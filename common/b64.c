/* SPDX-License-Identifier: Apache-2.0 */
/* base64 as docker's auth headers and config files use it. */
#include "common/common.h"

#include <string.h>

char *b64_encode(const void *data, size_t len, bool url)
{
    const char *tab = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    struct sb out = SB_INIT;
    sb_grow(&out, (len + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        sb_addc(&out, tab[(v >> 18) & 63]);
        sb_addc(&out, tab[(v >> 12) & 63]);
        sb_addc(&out, i + 1 < len ? tab[(v >> 6) & 63] : '=');
        sb_addc(&out, i + 2 < len ? tab[v & 63] : '=');
    }
    return sb_steal(&out);
}

static int b64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

char *b64_decode(const char *s, size_t *outlen)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '=')
        n--;
    struct sb out = SB_INIT;
    sb_grow(&out, n * 3 / 4 + 1);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(s[i]);
        if (v < 0) {
            sb_release(&out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb_addc(&out, (char)((acc >> bits) & 0xff));
        }
    }
    if (bits >= 6) { /* a lone trailing character is not base64 */
        sb_release(&out);
        return NULL;
    }
    if (outlen)
        *outlen = out.len;
    return sb_steal(&out);
}
