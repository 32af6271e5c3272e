/* SPDX-License-Identifier: Apache-2.0 */
#include "api/json_util.h"

int apij_str(const json_t *obj, const char *key, char **out, struct err **err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID, 0, "field %s: expected a string", key);
    *out = xstrdup(json_string_value(v));
    return 0;
}

int apij_bool(const json_t *obj, const char *key, bool *out, struct err **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return err_set(err, ERR_INVALID, 0, "field %s: expected a boolean", key);
    *out = json_is_true(v);
    return 0;
}

int apij_int(const json_t *obj, const char *key, int64_t *out, struct err **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return err_set(err, ERR_INVALID, 0, "field %s: expected an integer", key);
    *out = json_integer_value(v);
    return 0;
}

int apij_strv(const json_t *obj, const char *key, char ***out, struct err **err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v && !json_is_null(v) && !json_is_array(v))
        return err_set(err, ERR_INVALID, 0, "field %s: expected an array of strings", key);
    size_t n = v ? json_array_size(v) : 0;
    char **res = xcalloc(n + 1, sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            api_strv_free(res);
            return err_set(err, ERR_INVALID, 0, "field %s[%zu]: expected a string", key, i);
        }
        res[i] = xstrdup(json_string_value(s));
    }
    *out = res;
    return 0;
}

void apij_set_str(json_t *obj, const char *key, const char *s)
{
    json_object_set_new(obj, key, json_string(s ? s : ""));
}

json_t *apij_strv_encode(char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}
