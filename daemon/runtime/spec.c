/* SPDX-License-Identifier: Apache-2.0 */
/* struct rt_spec: release and its JSON form (written by berthd, read by berth-shim). */
#include <string.h>
#include <sys/mount.h>

#include "daemon/runtime/internal.h"

void rt_spec_release(struct rt_spec *s)
{
    if (!s)
        return;
    free(s->id);
    rt_strv_free(s->lowerdirs);
    free(s->upperdir);
    free(s->workdir);
    free(s->rootfs);
    free(s->hostname_file);
    free(s->hosts_file);
    free(s->resolv_file);
    for (size_t i = 0; i < s->nmounts; i++) {
        free(s->mounts[i].src);
        free(s->mounts[i].dst);
        free(s->mounts[i].data);
    }
    free(s->mounts);
    rt_strv_free(s->argv);
    rt_strv_free(s->env);
    free(s->cwd);
    free(s->user);
    free(s->hostname);
    free(s->netns_path);
    rt_strv_free(s->masked_paths);
    rt_strv_free(s->readonly_paths);
    free(s->cgroup_path);
    memset(s, 0, sizeof(*s));
}

static const struct {
    unsigned int bit;
    const char *name;
} ns_names[] = {
    {RT_NS_PID, "pid"}, {RT_NS_MOUNT, "mount"}, {RT_NS_UTS, "uts"},
    {RT_NS_IPC, "ipc"}, {RT_NS_NET, "net"},     {RT_NS_CGROUP, "cgroup"},
};

/* ---- encode ------------------------------------------------------------------------------ */

static void set_str(json_t *o, const char *key, const char *s)
{
    json_object_set_new(o, key, s ? json_string(s) : json_null());
}

/* NULL stays null: for masked_paths/readonly_paths it means "docker's defaults". */
static void set_strv(json_t *o, const char *key, char *const *v)
{
    if (!v) {
        json_object_set_new(o, key, json_null());
        return;
    }
    json_t *a = json_array();
    for (; *v; v++)
        json_array_append_new(a, json_string(*v));
    json_object_set_new(o, key, a);
}

static json_t *resources_encode(const struct rt_resources *r)
{
    return json_pack("{sI sI sI sI sI sI}", "memory", (json_int_t)r->memory, "memory_swap",
                     (json_int_t)r->memory_swap, "cpu_shares", (json_int_t)r->cpu_shares,
                     "cpu_quota", (json_int_t)r->cpu_quota, "cpu_period", (json_int_t)r->cpu_period,
                     "pids_limit", (json_int_t)r->pids_limit);
}

json_t *rt_spec_encode(const struct rt_spec *s)
{
    json_t *o = json_object();
    set_str(o, "id", s->id);
    set_strv(o, "lowerdirs", s->lowerdirs);
    set_str(o, "upperdir", s->upperdir);
    set_str(o, "workdir", s->workdir);
    set_str(o, "rootfs", s->rootfs);
    json_object_set_new(o, "readonly_rootfs", json_boolean(s->readonly_rootfs));
    set_str(o, "hostname_file", s->hostname_file);
    set_str(o, "hosts_file", s->hosts_file);
    set_str(o, "resolv_file", s->resolv_file);
    json_t *mounts = json_array();
    for (size_t i = 0; i < s->nmounts; i++) {
        const struct rt_mount *m = &s->mounts[i];
        json_t *e = json_pack("{s:s, s:b, s:b, s:b, s:I}", "dst", m->dst, "ro", m->ro, "no_create",
                              m->no_create, "copy_up", m->copy_up, "flags", (json_int_t)m->flags);
        set_str(e, "src", m->src);
        set_str(e, "data", m->data);
        json_array_append_new(mounts, e);
    }
    json_object_set_new(o, "mounts", mounts);
    set_strv(o, "argv", s->argv);
    set_strv(o, "env", s->env);
    set_str(o, "cwd", s->cwd);
    set_str(o, "user", s->user);
    set_str(o, "hostname", s->hostname);
    json_object_set_new(o, "tty", json_boolean(s->tty));
    json_t *ns = json_array();
    for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
        if (s->namespaces & ns_names[i].bit)
            json_array_append_new(ns, json_string(ns_names[i].name));
    json_object_set_new(o, "namespaces", ns);
    set_str(o, "netns_path", s->netns_path);
    json_object_set_new(o, "caps", json_integer((json_int_t)s->caps));
    json_object_set_new(o, "no_new_privs", json_boolean(s->no_new_privs));
    json_object_set_new(o, "privileged", json_boolean(s->privileged));
    json_object_set_new(o, "seccomp_unconfined", json_boolean(s->seccomp_unconfined));
    set_strv(o, "masked_paths", s->masked_paths);
    set_strv(o, "readonly_paths", s->readonly_paths);
    set_str(o, "cgroup_path", s->cgroup_path);
    json_object_set_new(o, "resources", resources_encode(&s->resources));
    json_object_set_new(o, "shm_size", json_integer((json_int_t)s->shm_size));
    return o;
}

/* ---- decode ------------------------------------------------------------------------------ */

#define WHAT "spec" /* in errors: "spec field <key>: ..." */

static int get_namespaces(const json_t *o, unsigned int *out, struct err **err)
{
    json_t *v = json_object_get(o, "namespaces");
    *out = RT_NS_MOUNT;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return err_set(err, ERR_INVALID, 0, "spec field namespaces: expected an array");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *name = json_string_value(e);
        size_t k = 0;
        while (name && k < ARRAY_SIZE(ns_names) && strcmp(name, ns_names[k].name) != 0)
            k++;
        if (!name || k == ARRAY_SIZE(ns_names))
            return err_set(err, ERR_INVALID, 0,
                           "spec field namespaces[%zu]: expected one of pid, mount, uts, ipc, "
                           "net, cgroup",
                           i);
        *out |= ns_names[k].bit;
    }
    return 0;
}

static int get_resources(const json_t *o, struct rt_resources *r, struct err **err)
{
    json_t *v = json_object_get(o, "resources");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return err_set(err, ERR_INVALID, 0, "spec field resources: expected an object");
    if (rt_json_int(v, WHAT, "memory", &r->memory, err) < 0 ||
        rt_json_int(v, WHAT, "memory_swap", &r->memory_swap, err) < 0 ||
        rt_json_int(v, WHAT, "cpu_shares", &r->cpu_shares, err) < 0 ||
        rt_json_int(v, WHAT, "cpu_quota", &r->cpu_quota, err) < 0 ||
        rt_json_int(v, WHAT, "cpu_period", &r->cpu_period, err) < 0 ||
        rt_json_int(v, WHAT, "pids_limit", &r->pids_limit, err) < 0)
        return err_wrap(err, "resources");
    return 0;
}

/* A spec holds at most this many mounts (docker has no limit; this one keeps the child's
 * work bounded). */
#define RT_MAX_MOUNTS 256

static int get_mounts(const json_t *o, struct rt_spec *s, struct err **err)
{
    json_t *v = json_object_get(o, "mounts");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > RT_MAX_MOUNTS)
        return err_set(err, ERR_INVALID, 0,
                       "spec field mounts: expected an array of at most %d objects", RT_MAX_MOUNTS);
    s->mounts = xcalloc(json_array_size(v) + 1, sizeof(*s->mounts));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        struct rt_mount *m = &s->mounts[s->nmounts++];
        int64_t flags = 0;
        if (rt_json_str(e, WHAT, "src", &m->src, err) < 0 ||
            rt_json_str(e, WHAT, "dst", &m->dst, err) < 0 ||
            rt_json_bool(e, WHAT, "ro", &m->ro, err) < 0 ||
            rt_json_bool(e, WHAT, "no_create", &m->no_create, err) < 0 ||
            rt_json_bool(e, WHAT, "copy_up", &m->copy_up, err) < 0 ||
            rt_json_str(e, WHAT, "data", &m->data, err) < 0 ||
            rt_json_int(e, WHAT, "flags", &flags, err) < 0)
            return err_wrap(err, "mounts[%zu]", i);
        if ((m->src && m->src[0] != '/') || !m->dst || m->dst[0] != '/')
            return err_set(err, ERR_INVALID, 0, "spec field mounts[%zu]: paths must be absolute",
                           i);
        if (flags & ~(int64_t)(MS_NOSUID | MS_NODEV | MS_NOEXEC))
            return err_set(err, ERR_INVALID, 0, "spec field mounts[%zu]: unknown flags", i);
        m->flags = (unsigned long)flags;
    }
    return 0;
}

static int decode_fields(const json_t *j, struct rt_spec *s, struct err **err)
{
    int64_t caps = 0;
    if (rt_json_str(j, WHAT, "id", &s->id, err) < 0 ||
        rt_json_strv(j, WHAT, "lowerdirs", 0, &s->lowerdirs, err) < 0 ||
        rt_json_str(j, WHAT, "upperdir", &s->upperdir, err) < 0 ||
        rt_json_str(j, WHAT, "workdir", &s->workdir, err) < 0 ||
        rt_json_str(j, WHAT, "rootfs", &s->rootfs, err) < 0 ||
        rt_json_bool(j, WHAT, "readonly_rootfs", &s->readonly_rootfs, err) < 0 ||
        rt_json_str(j, WHAT, "hostname_file", &s->hostname_file, err) < 0 ||
        rt_json_str(j, WHAT, "hosts_file", &s->hosts_file, err) < 0 ||
        rt_json_str(j, WHAT, "resolv_file", &s->resolv_file, err) < 0 ||
        get_mounts(j, s, err) < 0 || rt_json_strv(j, WHAT, "argv", 0, &s->argv, err) < 0 ||
        rt_json_strv(j, WHAT, "env", 0, &s->env, err) < 0 ||
        rt_json_str(j, WHAT, "cwd", &s->cwd, err) < 0 ||
        rt_json_str(j, WHAT, "user", &s->user, err) < 0 ||
        rt_json_str(j, WHAT, "hostname", &s->hostname, err) < 0 ||
        rt_json_bool(j, WHAT, "tty", &s->tty, err) < 0 ||
        get_namespaces(j, &s->namespaces, err) < 0 ||
        rt_json_str(j, WHAT, "netns_path", &s->netns_path, err) < 0 ||
        rt_json_int(j, WHAT, "caps", &caps, err) < 0 ||
        rt_json_bool(j, WHAT, "no_new_privs", &s->no_new_privs, err) < 0 ||
        rt_json_bool(j, WHAT, "privileged", &s->privileged, err) < 0 ||
        rt_json_bool(j, WHAT, "seccomp_unconfined", &s->seccomp_unconfined, err) < 0 ||
        rt_json_strv(j, WHAT, "masked_paths", 0, &s->masked_paths, err) < 0 ||
        rt_json_strv(j, WHAT, "readonly_paths", 0, &s->readonly_paths, err) < 0 ||
        rt_json_str(j, WHAT, "cgroup_path", &s->cgroup_path, err) < 0 ||
        get_resources(j, &s->resources, err) < 0 ||
        rt_json_int(j, WHAT, "shm_size", &s->shm_size, err) < 0)
        return -1;
    if (caps < 0 || (uint64_t)caps & ~RT_ALL_CAPS)
        return err_set(err, ERR_INVALID, 0, "spec field caps: unknown capability bits");
    s->caps = (uint64_t)caps;
    return 0;
}

int rt_spec_decode(const json_t *j, struct rt_spec *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "runtime spec: expected an object");
    if (decode_fields(j, out, err) < 0) {
        rt_spec_release(out);
        return -1;
    }
    return 0;
}
