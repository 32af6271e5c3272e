/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers private to api/: typed field access with errors that name the field. */
#ifndef BERTH_API_JSON_UTIL_H
#define BERTH_API_JSON_UTIL_H

#include "api/api.h"

/* Optional string field: absent or null leaves *out NULL; another type is an error. */
int apij_str(const json_t *obj, const char *key, char **out, struct err **err);
int apij_bool(const json_t *obj, const char *key, bool *out, struct err **err);
int apij_int(const json_t *obj, const char *key, int64_t *out, struct err **err);
/* Optional array of strings into a NULL-terminated vector (empty vector when absent). */
int apij_strv(const json_t *obj, const char *key, char ***out, struct err **err);
/* Sets key to s, or to "" when s is NULL. */
void apij_set_str(json_t *obj, const char *key, const char *s);
json_t *apij_strv_encode(char *const *v);

#endif
