/* SPDX-License-Identifier: Apache-2.0 */
/* Field decoders shared by the JSON forms of struct rt_spec and struct rt_exec_spec. */
#include "daemon/runtime/internal.h"

void rt_strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

int rt_json_str(const json_t *o, const char *what, const char *key, char **out, struct err **err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID, 0, "%s field %s: expected a string", what, key);
    *out = xstrdup(json_string_value(v));
    return 0;
}

int rt_json_bool(const json_t *o, const char *what, const char *key, bool *out, struct err **err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return err_set(err, ERR_INVALID, 0, "%s field %s: expected a boolean", what, key);
    *out = json_is_true(v);
    return 0;
}

int rt_json_int(const json_t *o, const char *what, const char *key, int64_t *out, struct err **err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return err_set(err, ERR_INVALID, 0, "%s field %s: expected an integer", what, key);
    *out = json_integer_value(v);
    return 0;
}

int rt_json_strv(const json_t *o, const char *what, const char *key, size_t max, char ***out,
                 struct err **err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    size_t n = json_array_size(v);
    if (!json_is_array(v) || (max && n > max))
        return err_set(err, ERR_INVALID, 0, "%s field %s: expected an array of strings", what, key);
    char **res = xcalloc(n + 1, sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        const char *e = json_string_value(json_array_get(v, i));
        if (!e) {
            rt_strv_free(res);
            return err_set(err, ERR_INVALID, 0, "%s field %s[%zu]: expected a string", what, key,
                           i);
        }
        res[i] = xstrdup(e);
    }
    *out = res;
    return 0;
}
