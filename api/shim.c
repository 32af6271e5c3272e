/* SPDX-License-Identifier: Apache-2.0 */
/* The berthd <-> berth-shim control protocol: one JSON object per line. */
#include "api/json_util.h"

#include <string.h>

static bool op_is(const struct api_shim_msg *m, const char *op)
{
    return m->op && strcmp(m->op, op) == 0;
}

static void encode_request(json_t *j, const struct api_shim_msg *m)
{
    json_object_set_new(j, "op", json_string(m->op));
    if (m->signal || op_is(m, "kill"))
        json_object_set_new(j, "signal", json_integer(m->signal));
    if (m->id)
        apij_set_str(j, "id", m->id);
    if (op_is(m, "attach") || op_is(m, "exec")) {
        json_object_set_new(j, "stdin", json_boolean(m->stdin_));
        json_object_set_new(j, "stdout", json_boolean(m->stdout_));
        json_object_set_new(j, "stderr", json_boolean(m->stderr_));
    }
    if (op_is(m, "resize") || op_is(m, "exec_resize") || m->h || m->w) {
        json_object_set_new(j, "h", json_integer(m->h));
        json_object_set_new(j, "w", json_integer(m->w));
    }
    if (m->exec)
        json_object_set(j, "exec", m->exec);
}

char *api_shim_encode(const struct api_shim_msg *m)
{
    json_auto_t *j = json_object();
    if (m->op)
        encode_request(j, m);
    if (m->status) {
        json_object_set_new(j, "status", json_string(m->status));
        json_object_set_new(j, "pid", json_integer(m->pid));
        if (strcmp(m->status, "exited") == 0) {
            json_object_set_new(j, "exit_code", json_integer(m->exit_code));
            json_object_set_new(j, "oom_killed", json_boolean(m->oom_killed));
            apij_set_str(j, "finished_at", m->finished_at);
        }
    } else if (m->ok) {
        json_object_set_new(j, "ok", json_true());
        if (m->pid)
            json_object_set_new(j, "pid", json_integer(m->pid));
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

/* A window size: 0 (unset) to 65535, what struct winsize holds. */
static int get_size(const json_t *j, const char *key, int *out, struct err **err)
{
    if (get_int(j, key, out, err) < 0)
        return -1;
    if (*out < 0 || *out > 65535)
        return err_set(err, ERR_INVALID, 0, "field %s: out of range", key);
    return 0;
}

static int decode_fields(const json_t *j, struct api_shim_msg *out, struct err **err)
{
    json_t *exec = json_object_get(j, "exec");
    if (apij_str(j, "op", &out->op, err) < 0 || get_int(j, "signal", &out->signal, err) < 0 ||
        apij_str(j, "status", &out->status, err) < 0 || get_int(j, "pid", &out->pid, err) < 0 ||
        get_int(j, "exit_code", &out->exit_code, err) < 0 ||
        apij_bool(j, "oom_killed", &out->oom_killed, err) < 0 ||
        apij_str(j, "finished_at", &out->finished_at, err) < 0 ||
        apij_str(j, "error", &out->error, err) < 0 || apij_bool(j, "ok", &out->ok, err) < 0 ||
        apij_bool(j, "stdin", &out->stdin_, err) < 0 ||
        apij_bool(j, "stdout", &out->stdout_, err) < 0 ||
        apij_bool(j, "stderr", &out->stderr_, err) < 0 || get_size(j, "h", &out->h, err) < 0 ||
        get_size(j, "w", &out->w, err) < 0 || apij_str(j, "id", &out->id, err) < 0)
        return -1;
    if (exec && !json_is_null(exec)) {
        if (!json_is_object(exec))
            return err_set(err, ERR_INVALID, 0, "field exec: expected an object");
        out->exec = json_incref(exec);
    }
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
    if (decode_fields(j, out, err) < 0) {
        api_shim_release(out);
        return err_wrap(err, "shim message");
    }
    if (!out->op && !out->status && !out->error && !out->ok) {
        api_shim_release(out);
        return err_set(err, ERR_INVALID, 0, "shim message: no op, status, ok or error");
    }
    return 0;
}

void api_shim_release(struct api_shim_msg *m)
{
    free(m->op);
    free(m->status);
    free(m->finished_at);
    free(m->error);
    free(m->id);
    json_decref(m->exec);
    memset(m, 0, sizeof(*m));
}
