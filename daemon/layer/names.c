/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer names: the pure rules for tar entry names and OCI whiteout markers. No I/O; shared by
 * the unpacker and the fuzzer.
 */
#include <limits.h>
#include <string.h>

#include "daemon/layer/layer.h"

#define WH_PREFIX      ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE      ".wh..wh..opq"

const char *layer_name_clean(const char *name, char *out, size_t outsz)
{
    size_t len = 0;
    const char *p = name;

    if (name[0] == '/')
        return "absolute path";
    while (*p != '\0') {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);

        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* empty or "." component: dropped */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            return "\"..\" component";
        } else if (n > NAME_MAX) {
            return "component too long";
        } else {
            size_t need = len + (len > 0 ? 1 : 0) + n;
            if (need >= PATH_MAX || need >= outsz)
                return "name too long";
            if (len > 0)
                out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
        }
        p = *end == '/' ? end + 1 : end;
    }
    if (outsz == 0)
        return "name too long";
    out[len] = '\0';
    return NULL;
}

enum layer_whiteout layer_whiteout_kind(const char *base, const char **target)
{
    const char *name;

    *target = NULL;
    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
        return LAYER_WH_NONE;
    if (strcmp(base, WH_OPAQUE) == 0)
        return LAYER_WH_OPAQUE;
    if (strncmp(base, WH_META_PREFIX, strlen(WH_META_PREFIX)) == 0)
        return LAYER_WH_META;
    name = base + strlen(WH_PREFIX);
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strchr(name, '/') != NULL)
        return LAYER_WH_INVALID;
    *target = name;
    return LAYER_WH_FILE;
}
