/* SPDX-License-Identifier: Apache-2.0 */
/* The shim's config.json: the runtime spec plus where the log and the exit status go. */
#include "daemon/shim/shim.h"
#include "daemon/logs/logs.h"

#include <string.h>

json_t *shim_config_encode(const struct shim_config *c)
{
    json_t *j = json_object();
    json_object_set_new(j, "spec", rt_spec_encode(&c->spec));
    json_object_set_new(j, "log_path", json_string(c->log_path ? c->log_path : ""));
    json_object_set_new(j, "log_max_size", json_integer(c->log_max_size));
    json_object_set_new(j, "log_max_files", json_integer(c->log_max_files));
    json_object_set_new(j, "exit_file", json_string(c->exit_file ? c->exit_file : ""));
    json_object_set_new(j, "open_stdin", json_boolean(c->open_stdin));
    json_object_set_new(j, "stdin_once", json_boolean(c->stdin_once));
    json_object_set_new(j, "wait_start", json_boolean(c->wait_start));
    json_object_set_new(j, "console_h", json_integer(c->console_h));
    json_object_set_new(j, "console_w", json_integer(c->console_w));
    return j;
}

static int req_path(const json_t *j, const char *key, char **out, struct err **err)
{
    const char *s = json_string_value(json_object_get(j, key));
    if (!s || s[0] != '/')
        return err_set(err, ERR_INVALID, 0, "shim config: field %s: expected an absolute path",
                       key);
    *out = xstrdup(s);
    return 0;
}

static int opt_int(const json_t *j, const char *key, int64_t min, int64_t max, int64_t *out,
                   struct err **err)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return err_set(err, ERR_INVALID, 0, "shim config: field %s: expected an integer", key);
    *out = json_integer_value(v);
    return 0;
}

/* Absent or null is false, so configs written before the field existed still decode. */
static int opt_bool(const json_t *j, const char *key, bool *out, struct err **err)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return err_set(err, ERR_INVALID, 0, "shim config: field %s: expected a boolean", key);
    *out = json_is_true(v);
    return 0;
}

int shim_config_decode(const json_t *j, struct shim_config *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    out->log_max_size = LOGS_DEFAULT_MAX_SIZE;
    out->log_max_files = LOGS_DEFAULT_MAX_FILES;
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "shim config: expected an object");
    json_t *spec = json_object_get(j, "spec");
    if (!json_is_object(spec))
        return err_set(err, ERR_INVALID, 0, "shim config: field spec: expected an object");
    if (rt_spec_decode(spec, &out->spec, err) < 0)
        return err_wrap(err, "shim config");
    int64_t files = out->log_max_files, h = 0, w = 0;
    if (req_path(j, "log_path", &out->log_path, err) < 0 ||
        req_path(j, "exit_file", &out->exit_file, err) < 0 ||
        opt_int(j, "log_max_size", 0, INT64_MAX, &out->log_max_size, err) < 0 ||
        opt_int(j, "log_max_files", 1, 1000, &files, err) < 0 ||
        opt_bool(j, "open_stdin", &out->open_stdin, err) < 0 ||
        opt_bool(j, "stdin_once", &out->stdin_once, err) < 0 ||
        opt_bool(j, "wait_start", &out->wait_start, err) < 0 ||
        opt_int(j, "console_h", 0, 65535, &h, err) < 0 ||
        opt_int(j, "console_w", 0, 65535, &w, err) < 0)
        goto fail;
    out->log_max_files = (int)files;
    out->console_h = (int)h;
    out->console_w = (int)w;
    return 0;
fail:
    shim_config_release(out);
    return -1;
}

void shim_config_release(struct shim_config *c)
{
    rt_spec_release(&c->spec);
    free(c->log_path);
    free(c->exit_file);
    memset(c, 0, sizeof(*c));
}
