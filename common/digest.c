/* SPDX-License-Identifier: Apache-2.0 */
#include "common/common.h"

#include <string.h>
#include <openssl/evp.h>

struct digest_ctx {
    EVP_MD_CTX *md;
};

struct digest_ctx *digest_new(void)
{
    struct digest_ctx *d = xmalloc(sizeof(*d));
    d->md = EVP_MD_CTX_new();
    if (!d->md || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
        abort();
    return d;
}

void digest_update(struct digest_ctx *d, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(d->md, data, len) != 1)
        abort();
}

void digest_final(struct digest_ctx *d, char out[DIGEST_STR_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(d->md, md, &n) != 1 || n != 32)
        abort();
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < n; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
    out[DIGEST_STR_LEN] = '\0';
    digest_free(d);
}

void digest_free(struct digest_ctx *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->md);
    free(d);
}

void digest_buf(const void *data, size_t len, char out[DIGEST_STR_LEN + 1])
{
    struct digest_ctx *d = digest_new();
    digest_update(d, data, len);
    digest_final(d, out);
}

bool digest_valid(const char *s)
{
    if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != DIGEST_STR_LEN)
        return false;
    for (const char *p = s + 7; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    }
    return true;
}

const char *digest_hex(const char *s)
{
    return s + 7;
}
