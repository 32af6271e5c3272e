/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "filters" query parameter as dockerd's filters.FromJSON reads it: the map-of-sets form
 * {"name":{"value":true}} first, then the legacy {"name":["value"]} that docker-py sends.
 */
#include "api/json_util.h"

#include <string.h>

/* {"value":true,...} -> ["value",...]; NULL when v is not that shape. */
static json_t *set_values(json_t *v)
{
    if (json_is_null(v))
        return json_array();
    if (!json_is_object(v))
        return NULL;
    json_t *a = json_array();
    const char *k;
    json_t *b;
    json_object_foreach(v, k, b)
    {
        if (!json_is_boolean(b)) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_string(k));
    }
    return a;
}

/* ["value",...] -> a copy; NULL when v is not an array of strings. */
static json_t *list_values(json_t *v)
{
    if (json_is_null(v))
        return json_array();
    if (!json_is_array(v))
        return NULL;
    json_t *a = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        if (!json_is_string(s)) {
            json_decref(a);
            return NULL;
        }
        /* The legacy form is a list; values are a set, as in the map form. */
        bool dup = false;
        size_t k;
        json_t *e;
        json_array_foreach(a, k, e)
        {
            dup = dup || strcmp(json_string_value(e), json_string_value(s)) == 0;
        }
        if (!dup)
            json_array_append(a, s);
    }
    return a;
}

/* Converts every member with conv; NULL (and nothing allocated) when one does not fit. */
static json_t *convert(json_t *in, json_t *(*conv)(json_t *))
{
    json_t *out = json_object();
    const char *name;
    json_t *v;
    json_object_foreach(in, name, v)
    {
        json_t *vals = conv(v);
        if (!vals) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, name, vals);
    }
    return out;
}

int api_filters_parse(const char *raw, json_t **out, struct err **err)
{
    *out = NULL;
    if (!raw || !*raw) {
        *out = json_object();
        return 0;
    }
    json_error_t je;
    json_auto_t *j = json_loads(raw, JSON_DECODE_ANY, &je);
    if (!j)
        return err_set(err, ERR_INVALID, 0, "invalid filter: %s", je.text);
    if (json_is_null(j)) {
        *out = json_object();
        return 0;
    }
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0,
                       "invalid filter: expected a JSON object of filter names, got %s", raw);
    json_t *res = convert(j, set_values);
    if (!res)
        res = convert(j, list_values);
    if (!res)
        return err_set(err, ERR_INVALID, 0,
                       "invalid filter: each filter must map to an object of booleans or a list "
                       "of strings: %s",
                       raw);
    *out = res;
    return 0;
}
