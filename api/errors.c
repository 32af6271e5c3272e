/* SPDX-License-Identifier: Apache-2.0 */
#include "api/api.h"

#include <ctype.h>
#include <string.h>

char *api_error_encode(const char *message)
{
    json_auto_t *j = json_pack("{s:s}", "message", message ? message : "");
    if (!j) /* message was not valid UTF-8 */
        j = json_pack("{s:s}", "message", "invalid error message");
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        abort();
    return s;
}

char *api_error_decode(const char *body, size_t len)
{
    json_auto_t *j = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, NULL);
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    if (msg)
        return xstrdup(msg);
    while (len > 0 && isspace((unsigned char)*body)) {
        body++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)body[len - 1]))
        len--;
    return xstrndup(body, len);
}

int api_json_parse(const char *buf, size_t len, json_t **out, struct err **err)
{
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (len == 0)
            return err_set(err, ERR_INVALID, 0, "empty request body");
        return err_set(err, ERR_INVALID, 0, "invalid JSON: %s at line %d column %d", je.text,
                       je.line, je.column);
    }
    *out = j;
    return 0;
}

void api_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

json_t *api_strv_json(char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

void api_strv_freep(char ***v)
{
    api_strv_free(*v);
    *v = NULL;
}
