/* SPDX-License-Identifier: Apache-2.0 */
/* The berthd <-> berth-shim control protocol: one JSON object per line. */
#include "api/json_util.h"

#include <string.h>

char *api_shim_encode(const struct api_shim_msg *m)
{
    json_auto_t *j = json_object();
    if (m->op) {
        json_object_set_new(j, "op", json_string(m->op));
        if (m->signal || strcmp(m->op, "kill") == 0)
            json_object_set_new(j, "signal", json_integer(m->signal));
    }
    if (m->status) {
        json_object_set_new(j, "status", json_string(m->status));
        json_object_set_new(j, "pid", json_integer(m->pid));
        if (strcmp(m->status, "exited") == 0) {
            json_object_set_new(j, "exit_code", json_integer(m->exit_code));
            json_object_set_new(j, "oom_killed", json_boolean(m->oom_killed));
            apij_set_str(j, "finished_at", m->finished_at);
        }
    }
    if (m->error) {
        json_t *e = json_string(m->error);
        json_object_set_new(j, "error", e ? e : json_string("invalid error message"));
    }
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        abort();
    char *line = xasprintf("%s\n", s);
    free(s);
    return line;
}

static int get_int(const json_t *j, const char *key, int *out, struct err **err)
{
    int64_t v = 0;
    if (apij_int(j, key, &v, err) < 0)
        return -1;
    if (v < -2147483647 - 1 || v > 2147483647)
        return err_set(err, ERR_INVALID, 0, "field %s: out of range", key);
    *out = (int)v;
    return 0;
}

int api_shim_decode(const char *line, size_t len, struct api_shim_msg *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_auto_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return err_set(err, ERR_INVALID, 0, "shim message: invalid JSON: %s", je.text);
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "shim message: expected an object");
    if (apij_str(j, "op", &out->op, err) < 0 || get_int(j, "signal", &out->signal, err) < 0 ||
        apij_str(j, "status", &out->status, err) < 0 || get_int(j, "pid", &out->pid, err) < 0 ||
        get_int(j, "exit_code", &out->exit_code, err) < 0 ||
        apij_bool(j, "oom_killed", &out->oom_killed, err) < 0 ||
        apij_str(j, "finished_at", &out->finished_at, err) < 0 ||
        apij_str(j, "error", &out->error, err) < 0) {
        api_shim_release(out);
        return err_wrap(err, "shim message");
    }
    if (!out->op && !out->status && !out->error) {
        api_shim_release(out);
        return err_set(err, ERR_INVALID, 0, "shim message: no op, status or error");
    }
    return 0;
}

void api_shim_release(struct api_shim_msg *m)
{
    free(m->op);
    free(m->status);
    free(m->finished_at);
    free(m->error);
    memset(m, 0, sizeof(*m));
}
