/* SPDX-License-Identifier: Apache-2.0 */
/* struct rt_exec_spec: release and its JSON form (berthd -> berth-shim in the exec op). */
#include <string.h>

#include "daemon/runtime/internal.h"

#define EXEC_STRV_MAX 65536 /* argv or env entries */

void rt_exec_spec_release(struct rt_exec_spec *s)
{
    if (!s)
        return;
    rt_strv_free(s->argv);
    rt_strv_free(s->env);
    free(s->cwd);
    free(s->user);
    free(s->cgroup_path);
    memset(s, 0, sizeof(*s));
}

static json_t *strv_encode(char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

json_t *rt_exec_spec_encode(const struct rt_exec_spec *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "argv", strv_encode(s->argv));
    json_object_set_new(o, "env", strv_encode(s->env));
    json_object_set_new(o, "cwd", json_string(s->cwd ? s->cwd : ""));
    json_object_set_new(o, "user", json_string(s->user ? s->user : ""));
    json_object_set_new(o, "tty", json_boolean(s->tty));
    json_object_set_new(o, "caps", json_integer((json_int_t)s->caps));
    json_object_set_new(o, "no_new_privs", json_boolean(s->no_new_privs));
    json_object_set_new(o, "privileged", json_boolean(s->privileged));
    json_object_set_new(o, "seccomp_unconfined", json_boolean(s->seccomp_unconfined));
    json_object_set_new(o, "cgroup_path", json_string(s->cgroup_path ? s->cgroup_path : ""));
    return o;
}

#define WHAT "exec spec"

/* A missing string is "". */
static int get_str(const json_t *o, const char *key, char **out, struct err **err)
{
    if (rt_json_str(o, WHAT, key, out, err) < 0)
        return -1;
    if (!*out)
        *out = xstrdup("");
    return 0;
}

static int get_bool(const json_t *o, const char *key, bool *out, struct err **err)
{
    return rt_json_bool(o, WHAT, key, out, err);
}

/* A missing vector is empty. */
static int get_strv(const json_t *o, const char *key, char ***out, struct err **err)
{
    if (rt_json_strv(o, WHAT, key, EXEC_STRV_MAX, out, err) < 0)
        return -1;
    if (!*out)
        *out = xcalloc(1, sizeof(**out));
    return 0;
}

static int decode_fields(const json_t *j, struct rt_exec_spec *s, struct err **err)
{
    json_t *caps = json_object_get(j, "caps");
    if (get_strv(j, "argv", &s->argv, err) < 0 || get_strv(j, "env", &s->env, err) < 0 ||
        get_str(j, "cwd", &s->cwd, err) < 0 || get_str(j, "user", &s->user, err) < 0 ||
        get_bool(j, "tty", &s->tty, err) < 0 ||
        get_bool(j, "no_new_privs", &s->no_new_privs, err) < 0 ||
        get_bool(j, "privileged", &s->privileged, err) < 0 ||
        get_bool(j, "seccomp_unconfined", &s->seccomp_unconfined, err) < 0 ||
        get_str(j, "cgroup_path", &s->cgroup_path, err) < 0)
        return -1;
    if (caps && !json_is_null(caps)) {
        if (!json_is_integer(caps) || json_integer_value(caps) < 0 ||
            (uint64_t)json_integer_value(caps) & ~RT_ALL_CAPS)
            return err_set(err, ERR_INVALID, 0, "exec spec field caps: unknown capability bits");
        s->caps = (uint64_t)json_integer_value(caps);
    }
    if (!s->argv[0])
        return err_set(err, ERR_INVALID, 0, "No exec command specified");
    if (s->cwd[0] && s->cwd[0] != '/')
        return err_set(err, ERR_INVALID, 0,
                       "the working directory '%s' is invalid, it needs to be an absolute path",
                       s->cwd);
    if (strlen(s->cwd) >= PATH_MAX)
        return err_set(err, ERR_INVALID, 0, "the working directory is too long");
    if (s->cgroup_path[0] && rt_cgroup_path_check(s->cgroup_path, err) < 0)
        return -1;
    return 0;
}

int rt_exec_spec_decode(const json_t *j, struct rt_exec_spec *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "exec spec: expected an object");
    if (decode_fields(j, out, err) < 0) {
        rt_exec_spec_release(out);
        return -1;
    }
    return 0;
}
