/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container create body and HostConfig: decoded with the checks dockerd makes before it
 * creates anything (wrong types name the field; restart policies, memory and CPU limits as
 * moby's validators word them), and encoded in docker's struct order, either as the docker CLI
 * sends them (create) or as dockerd shows them (inspect, and the persisted config).
 */
#include "api/containers.h"

#include "api/json_util.h"

#include <string.h>
#include <sys/mount.h>

#define MIN_MEMORY (6 * 1024 * 1024) /* linuxMinMemory */

/* ---- typed field access, errors naming the field as "Prefix.Key" ------------------------ */

static int bad_type(struct err **err, const char *pfx, const char *key, const char *what)
{
    return err_set(err, ERR_INVALID, 0, "%s%s: expected %s", pfx, key, what);
}

static json_t *field(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

static int get_str(const json_t *obj, const char *pfx, const char *key, char **out,
                   struct err **err)
{
    json_t *v = field(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return bad_type(err, pfx, key, "a string");
    free(*out);
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int get_bool(const json_t *obj, const char *pfx, const char *key, bool *out,
                    struct err **err)
{
    json_t *v = field(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return bad_type(err, pfx, key, "a boolean");
    *out = json_is_true(v);
    return 0;
}

static int get_int(const json_t *obj, const char *pfx, const char *key, int64_t *out,
                   struct err **err)
{
    json_t *v = field(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v))
        return bad_type(err, pfx, key, "an integer");
    *out = json_integer_value(v);
    return 0;
}

static char **strv_from_array(const json_t *a, const char *pfx, const char *key, struct err **err)
{
    size_t n = json_array_size(a);
    char **res = xcalloc(n + 1, sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s)) {
            api_strv_free(res);
            err_set(err, ERR_INVALID, 0, "%s%s[%zu]: expected a string", pfx, key, i);
            return NULL;
        }
        res[i] = xstrdup(json_string_value(s));
    }
    return res;
}

/* []string: absent or null stays NULL, [] is an empty vector. */
static int get_strv(const json_t *obj, const char *pfx, const char *key, char ***out,
                    struct err **err)
{
    json_t *v = field(obj, key);
    if (!v)
        return 0;
    if (!json_is_array(v))
        return bad_type(err, pfx, key, "an array of strings");
    char **res = strv_from_array(v, pfx, key, err);
    if (!res)
        return -1;
    api_strv_free(*out);
    *out = res;
    return 0;
}

/* strslice.StrSlice: an array of strings, or one string. */
static int get_strslice(const json_t *obj, const char *pfx, const char *key, char ***out,
                        struct err **err)
{
    json_t *v = field(obj, key);
    if (v && json_is_string(v)) {
        api_strv_free(*out);
        *out = xcalloc(2, sizeof(**out));
        (*out)[0] = xstrdup(json_string_value(v));
        return 0;
    }
    if (v && !json_is_array(v))
        return bad_type(err, pfx, key, "a string or an array of strings");
    return get_strv(obj, pfx, key, out, err);
}

/* Any JSON object, kept as is (absent or null: NULL). */
static int get_obj(const json_t *obj, const char *pfx, const char *key, json_t **out,
                   struct err **err)
{
    json_t *v = field(obj, key);
    if (!v)
        return 0;
    if (!json_is_object(v))
        return bad_type(err, pfx, key, "an object");
    json_decref(*out);
    *out = json_incref(v);
    return 0;
}

/* map[string]string. */
static int get_strmap(const json_t *obj, const char *pfx, const char *key, json_t **out,
                      struct err **err)
{
    if (get_obj(obj, pfx, key, out, err) < 0)
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach(*out, k, v)
    {
        if (!json_is_string(v))
            return err_set(err, ERR_INVALID, 0, "%s%s.%s: expected a string", pfx, key, k);
    }
    return 0;
}

/* nat.PortMap: {"80/tcp":[{"HostIp":"","HostPort":"8080"}],"443/tcp":null}. */
static int get_port_map(const json_t *obj, const char *pfx, const char *key, json_t **out,
                        struct err **err)
{
    if (get_obj(obj, pfx, key, out, err) < 0)
        return -1;
    const char *port;
    json_t *list;
    json_object_foreach(*out, port, list)
    {
        if (json_is_null(list))
            continue;
        if (!json_is_array(list))
            return err_set(err, ERR_INVALID, 0, "%s%s.%s: expected an array", pfx, key, port);
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b)
        {
            if (!json_is_object(b) || (field(b, "HostIp") && !json_is_string(field(b, "HostIp"))) ||
                (field(b, "HostPort") && !json_is_string(field(b, "HostPort"))))
                return err_set(err, ERR_INVALID, 0,
                               "%s%s.%s[%zu]: expected {\"HostIp\":string,\"HostPort\":string}",
                               pfx, key, port, i);
        }
    }
    return 0;
}

/* ---- HostConfig ------------------------------------------------------------------------- */

static int decode_restart(const json_t *j, struct api_host_config *h, struct err **err)
{
    json_t *rp = field(j, "RestartPolicy");
    if (!rp)
        return 0;
    if (!json_is_object(rp))
        return bad_type(err, "HostConfig.", "RestartPolicy", "an object");
    if (get_str(rp, "HostConfig.RestartPolicy.", "Name", &h->restart_policy, err) < 0 ||
        get_int(rp, "HostConfig.RestartPolicy.", "MaximumRetryCount", &h->restart_max_retry, err) <
            0)
        return -1;
    return 0;
}

/* container.ValidateRestartPolicy, word for word. */
static int validate_restart(const struct api_host_config *h, struct err **err)
{
    const char *name = h->restart_policy ? h->restart_policy : "";
    int64_t n = h->restart_max_retry;
    if (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0 ||
        strcmp(name, "no") == 0) {
        if (n != 0)
            return err_set(err, ERR_INVALID, 0,
                           "invalid restart policy: maximum retry count can only be used with "
                           "'on-failure'%s",
                           n < 0 ? " and cannot be negative" : "");
        return 0;
    }
    if (strcmp(name, "on-failure") == 0) {
        if (n < 0)
            return err_set(err, ERR_INVALID, 0,
                           "invalid restart policy: maximum retry count cannot be negative");
        return 0;
    }
    if (!*name)
        return 0; /* engines before 25.0 sent "" as the default */
    return err_set(err, ERR_INVALID, 0,
                   "invalid restart policy: unknown policy '%s'; use one of 'no', 'always', "
                   "'on-failure', or 'unless-stopped'",
                   name);
}

/* The resource checks of dockerd's verifyPlatformContainerResources, in its words. */
static int validate_resources(const struct api_host_config *h, struct err **err)
{
    if (h->memory != 0 && h->memory < MIN_MEMORY)
        return err_set(err, ERR_INVALID, 0, "Minimum memory limit allowed is 6MB");
    if (h->memory > 0 && h->memory_swap > 0 && h->memory_swap < h->memory)
        return err_set(err, ERR_INVALID, 0,
                       "Minimum memoryswap limit should be larger than memory limit, see usage");
    if (h->memory == 0 && h->memory_swap > 0)
        return err_set(err, ERR_INVALID, 0,
                       "You should always set the Memory limit when using Memoryswap limit, see "
                       "usage");
    if (h->memory_swap < -1)
        return err_set(err, ERR_INVALID, 0, "HostConfig.MemorySwap: must be -1 or positive");
    if (h->memory_reservation != 0 && h->memory_reservation < MIN_MEMORY)
        return err_set(err, ERR_INVALID, 0, "Minimum memory reservation allowed is 6MB");
    if (h->memory > 0 && h->memory_reservation > 0 && h->memory < h->memory_reservation)
        return err_set(err, ERR_INVALID, 0,
                       "Minimum memory limit can not be less than memory reservation limit, see "
                       "usage");
    if (h->nano_cpus < 0)
        return err_set(err, ERR_INVALID, 0, "HostConfig.NanoCpus: must not be negative");
    if (h->nano_cpus > 0 && h->cpu_period > 0)
        return err_set(err, ERR_INVALID, 0,
                       "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    if (h->nano_cpus > 0 && h->cpu_quota > 0)
        return err_set(err, ERR_INVALID, 0,
                       "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    if (h->cpu_shares < 0)
        return err_set(err, ERR_INVALID, 0, "HostConfig.CpuShares: must not be negative");
    if (h->cpu_period < 0 || h->cpu_quota < -1)
        return err_set(err, ERR_INVALID, 0, "HostConfig.CpuPeriod/CpuQuota: out of range");
    if (h->shm_size < 0)
        return err_set(err, ERR_INVALID, 0, "SHM size can not be less than 0");
    if (h->oom_score_adj < -1000 || h->oom_score_adj > 1000)
        return err_set(err, ERR_INVALID, 0,
                       "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                       (long long)h->oom_score_adj);
    return 0;
}

static int validate_modes(const struct api_host_config *h, struct err **err)
{
    const char *c = h->cgroupns_mode ? h->cgroupns_mode : "";
    if (*c && strcmp(c, "private") != 0 && strcmp(c, "host") != 0)
        return err_set(err, ERR_INVALID, 0, "invalid cgroup namespace mode: %s", c);
    return validate_restart(h, err);
}

static int decode_console_size(const json_t *j, struct api_host_config *h, struct err **err)
{
    json_t *v = field(j, "ConsoleSize");
    if (!v)
        return 0;
    json_t *a = json_array_get(v, 0), *b = json_array_get(v, 1);
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(a) ||
        !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < 0 ||
        json_integer_value(a) > 65535 || json_integer_value(b) > 65535)
        return bad_type(err, "HostConfig.", "ConsoleSize", "[height,width] (unsigned integers)");
    h->console_size[0] = (int)json_integer_value(a);
    h->console_size[1] = (int)json_integer_value(b);
    return 0;
}

static int decode_log_config(const json_t *j, struct api_host_config *h, struct err **err)
{
    json_t *lc = field(j, "LogConfig");
    if (!lc)
        return 0;
    if (!json_is_object(lc))
        return bad_type(err, "HostConfig.", "LogConfig", "an object");
    if (get_str(lc, "HostConfig.LogConfig.", "Type", &h->log_type, err) < 0 ||
        get_strmap(lc, "HostConfig.LogConfig.", "Config", &h->log_opts, err) < 0)
        return -1;
    return 0;
}

static int decode_host_strings(const json_t *j, struct api_host_config *h, struct err **err)
{
    static const char p[] = "HostConfig.";
    json_t *mounts = json_object_get(j, "Mounts");
    if (mounts && !json_is_null(mounts) && !json_is_array(mounts))
        return bad_type(err, p, "Mounts", "an array");
    if (json_is_array(mounts)) {
        json_decref(h->mounts);
        h->mounts = json_incref(mounts);
    }
    if (get_strmap(j, p, "Tmpfs", &h->tmpfs, err) < 0)
        return -1;
    if (get_strv(j, p, "Binds", &h->binds, err) < 0 ||
        get_str(j, p, "NetworkMode", &h->network_mode, err) < 0 ||
        get_port_map(j, p, "PortBindings", &h->port_bindings, err) < 0 ||
        get_strslice(j, p, "CapAdd", &h->cap_add, err) < 0 ||
        get_strslice(j, p, "CapDrop", &h->cap_drop, err) < 0 ||
        get_strv(j, p, "SecurityOpt", &h->security_opt, err) < 0 ||
        get_str(j, p, "PidMode", &h->pid_mode, err) < 0 ||
        get_str(j, p, "IpcMode", &h->ipc_mode, err) < 0 ||
        get_str(j, p, "UTSMode", &h->uts_mode, err) < 0 ||
        get_str(j, p, "CgroupnsMode", &h->cgroupns_mode, err) < 0 ||
        get_strv(j, p, "Dns", &h->dns, err) < 0 ||
        get_strv(j, p, "DnsSearch", &h->dns_search, err) < 0 ||
        get_strv(j, p, "DnsOptions", &h->dns_options, err) < 0 ||
        get_strv(j, p, "ExtraHosts", &h->extra_hosts, err) < 0 ||
        get_strmap(j, p, "Sysctls", &h->sysctls, err) < 0 ||
        get_strv(j, p, "GroupAdd", &h->group_add, err) < 0 ||
        get_strv(j, p, "MaskedPaths", &h->masked_paths, err) < 0 ||
        get_strv(j, p, "ReadonlyPaths", &h->readonly_paths, err) < 0)
        return -1;
    return 0;
}

static int decode_host_scalars(const json_t *j, struct api_host_config *h, struct err **err)
{
    static const char p[] = "HostConfig.";
    if (get_bool(j, p, "PublishAllPorts", &h->publish_all_ports, err) < 0 ||
        get_bool(j, p, "AutoRemove", &h->auto_remove, err) < 0 ||
        get_bool(j, p, "Privileged", &h->privileged, err) < 0 ||
        get_bool(j, p, "ReadonlyRootfs", &h->readonly_rootfs, err) < 0 ||
        get_bool(j, p, "Init", &h->init, err) < 0 || get_int(j, p, "Memory", &h->memory, err) < 0 ||
        get_int(j, p, "MemorySwap", &h->memory_swap, err) < 0 ||
        get_int(j, p, "MemoryReservation", &h->memory_reservation, err) < 0 ||
        get_int(j, p, "NanoCpus", &h->nano_cpus, err) < 0 ||
        get_int(j, p, "CpuShares", &h->cpu_shares, err) < 0 ||
        get_int(j, p, "CpuPeriod", &h->cpu_period, err) < 0 ||
        get_int(j, p, "CpuQuota", &h->cpu_quota, err) < 0 ||
        get_int(j, p, "PidsLimit", &h->pids_limit, err) < 0 ||
        get_int(j, p, "ShmSize", &h->shm_size, err) < 0 ||
        get_int(j, p, "OomScoreAdj", &h->oom_score_adj, err) < 0)
        return -1;
    return 0;
}

int api_bind_parse(const char *s, struct api_bind *out, struct err **err)
{
    static const char *const props[] = {"rprivate", "private", "rshared",
                                        "shared",   "rslave",  "slave"};
    static const char *const others[] = {"rw",         "z",      "Z",        "nocopy",
                                         "consistent", "cached", "delegated"};
    memset(out, 0, sizeof(*out));
    out->propagation = "rprivate";
    const char *c1 = strchr(s, ':');
    if (!c1 || c1 == s)
        return err_set(err, ERR_INVALID, 0, "invalid volume specification: '%s'", s);
    out->volume = s[0] != '/';
    const char *c2 = strchr(c1 + 1, ':');
    out->src = xstrndup(s, (size_t)(c1 - s));
    out->dst = c2 ? xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)) : xstrdup(c1 + 1);
    out->mode = xstrdup(c2 ? c2 + 1 : "");
    if (out->dst[0] != '/') {
        err_set(err, ERR_INVALID, 0,
                "invalid volume specification: '%s': invalid mount config for type \"bind\": "
                "invalid mount path: '%s' mount path must be absolute",
                s, out->dst);
        goto fail;
    }
    if (strspn(out->dst, "/") == strlen(out->dst)) {
        err_set(err, ERR_INVALID, 0,
                "invalid volume specification: '%s': invalid mount config for type \"bind\": "
                "invalid specification: destination can't be '/'",
                s);
        goto fail;
    }
    {
        /* its own block: no goto jumps past the cleanup variable */
        _cleanup_free_ char *opts = xstrdup(out->mode);
        char *save = NULL;
        for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            bool known = strcmp(o, "ro") == 0;
            out->ro = out->ro || known;
            out->nocopy = out->nocopy || strcmp(o, "nocopy") == 0;
            for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
                if (strcmp(o, props[i]) == 0) {
                    out->propagation = props[i];
                    known = true;
                }
            }
            for (size_t i = 0; !known && i < ARRAY_SIZE(others); i++)
                known = strcmp(o, others[i]) == 0;
            if (!known) {
                err_set(err, ERR_INVALID, 0, "invalid mode: %s", out->mode);
                goto fail;
            }
        }
    }
    return 0;
fail:
    api_bind_release(out);
    return -1;
}

void api_bind_release(struct api_bind *b)
{
    free(b->src);
    free(b->dst);
    free(b->mode);
    memset(b, 0, sizeof(*b));
}

void api_mounts_free(struct api_mount *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].source);
        free(m[i].target);
        free(m[i].propagation);
        free(m[i].data);
        json_decref(m[i].labels);
    }
    free(m);
}

/* tmpfs options as --tmpfs takes them: flags toggle, key=value goes to the kernel. */
static int tmpfs_options(const char *opts, struct api_mount *m, struct err **err)
{
    static const struct {
        const char *name;
        unsigned long set, clear;
        bool ro, rw;
    } flags[] = {
        {"noexec", MS_NOEXEC, 0, false, false},
        {"exec", 0, MS_NOEXEC, false, false},
        {"nosuid", MS_NOSUID, 0, false, false},
        {"suid", 0, MS_NOSUID, false, false},
        {"nodev", MS_NODEV, 0, false, false},
        {"dev", 0, MS_NODEV, false, false},
        {"ro", 0, 0, true, false},
        {"rw", 0, 0, false, true},
    };
    static const char *const keys[] = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"};
    struct sb data = SB_INIT;
    _cleanup_free_ char *copy = xstrdup(opts);
    char *save = NULL;
    for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(flags) && !known; i++) {
            if (strcmp(o, flags[i].name) == 0) {
                m->flags = (m->flags | flags[i].set) & ~flags[i].clear;
                m->ro = flags[i].ro || (m->ro && !flags[i].rw);
                known = true;
            }
        }
        const char *eq = strchr(o, '=');
        for (size_t i = 0; i < ARRAY_SIZE(keys) && !known && eq; i++) {
            known = strlen(keys[i]) == (size_t)(eq - o) &&
                    strncmp(o, keys[i], (size_t)(eq - o)) == 0 && eq[1] &&
                    strspn(eq + 1, "0123456789kmgKMG%") == strlen(eq + 1);
            if (known)
                sb_addf(&data, "%s%s", data.len ? "," : "", o);
        }
        if (!known) {
            sb_release(&data);
            return err_set(err, ERR_INVALID, 0, "invalid tmpfs option \"%s\"", o);
        }
    }
    m->data = xstrdup(sb_str(&data));
    sb_release(&data);
    return 0;
}

static int mount_target(const char *type, const char *target, struct api_mount *m, struct err **err)
{
    if (!target || !*target)
        return err_set(err, ERR_INVALID, 0,
                       "invalid mount config for type \"%s\": field Target must not be empty",
                       type);
    if (target[0] != '/')
        return err_set(err, ERR_INVALID, 0,
                       "invalid mount config for type \"%s\": invalid mount path: '%s' mount "
                       "path must be absolute",
                       type, target);
    m->target = xstrdup(target);
    return 0;
}

/* One HostConfig.Mounts entry (mount.Mount). */
static int mount_entry(const json_t *e, size_t i, struct api_mount *m, struct err **err)
{
    const char *type = json_string_value(json_object_get(e, "Type"));
    const char *source = json_string_value(json_object_get(e, "Source"));
    const char *target = json_string_value(json_object_get(e, "Target"));
    if (!json_is_object(e) || !type)
        return err_set(err, ERR_INVALID, 0,
                       "HostConfig.Mounts[%zu]: expected an object with a Type", i);
    m->ro = json_is_true(json_object_get(e, "ReadOnly"));
    if (strcmp(type, "volume") == 0) {
        json_t *vo = json_object_get(e, "VolumeOptions");
        json_t *labels = json_object_get(vo, "Labels");
        const char *driver =
            json_string_value(json_object_get(json_object_get(vo, "DriverConfig"), "Name"));
        if (driver && *driver && strcmp(driver, "local") != 0)
            return err_set(err, ERR_INVALID, 0,
                           "volume driver \"%s\" is not supported: berth has only the local "
                           "driver",
                           driver);
        if (json_object_get(e, "BindOptions") || json_object_get(e, "TmpfsOptions"))
            return err_set(err, ERR_INVALID, 0,
                           "invalid mount config for type \"volume\": only VolumeOptions may be "
                           "specified");
        m->volume = true;
        m->source = xstrdup(source ? source : "");
        m->nocopy = json_is_true(json_object_get(vo, "NoCopy"));
        m->labels = json_is_object(labels) ? json_incref(labels) : NULL;
        return mount_target(type, target, m, err);
    }
    if (strcmp(type, "bind") == 0) {
        if (!source || !*source)
            return err_set(err, ERR_INVALID, 0,
                           "invalid mount config for type \"bind\": field Source must not be "
                           "empty");
        if (source[0] != '/')
            return err_set(err, ERR_INVALID, 0,
                           "invalid mount config for type \"bind\": invalid mount path: '%s' "
                           "mount path must be absolute",
                           source);
        if (json_object_get(e, "TmpfsOptions"))
            return err_set(err, ERR_INVALID, 0,
                           "invalid mount config for type \"bind\": field TmpfsOptions must not "
                           "be specified");
        const char *prop =
            json_string_value(json_object_get(json_object_get(e, "BindOptions"), "Propagation"));
        m->source = xstrdup(source);
        m->propagation = xstrdup(prop && *prop ? prop : "rprivate");
        return mount_target(type, target, m, err);
    }
    if (strcmp(type, "tmpfs") == 0) {
        if (source && *source)
            return err_set(err, ERR_INVALID, 0,
                           "invalid mount config for type \"tmpfs\": field Source must not be "
                           "specified");
        m->tmpfs = true;
        m->flags = MS_NOEXEC | MS_NOSUID | MS_NODEV;
        json_t *o = json_object_get(e, "TmpfsOptions");
        json_int_t size = json_integer_value(json_object_get(o, "SizeBytes"));
        json_int_t mode = json_integer_value(json_object_get(o, "Mode"));
        if (size < 0)
            return err_set(err, ERR_INVALID, 0, "invalid tmpfs size %lld", (long long)size);
        struct sb data = SB_INIT;
        if (size > 0)
            sb_addf(&data, "size=%lld", (long long)size);
        if (mode > 0)
            sb_addf(&data, "%smode=%o", data.len ? "," : "", (unsigned)(mode & 07777));
        m->data = xstrdup(sb_str(&data));
        sb_release(&data);
        return mount_target(type, target, m, err);
    }
    return err_set(err, ERR_INVALID, 0, "mount type unknown: %s", type);
}

int api_mounts_parse(const json_t *mounts, const json_t *tmpfs, struct api_mount **out, size_t *n,
                     struct err **err)
{
    size_t cap = json_array_size(mounts) + json_object_size(tmpfs);
    struct api_mount *m = xcalloc(cap + 1, sizeof(*m));
    size_t k = 0, i;
    json_t *e;
    json_array_foreach(mounts, i, e)
    {
        if (mount_entry(e, i, &m[k++], err) < 0)
            goto fail;
    }
    const char *path;
    json_object_foreach((json_t *)tmpfs, path, e)
    {
        struct api_mount *t = &m[k++];
        t->tmpfs = t->from_tmpfs = true;
        t->flags = MS_NOEXEC | MS_NOSUID | MS_NODEV;
        if (mount_target("tmpfs", path, t, err) < 0 ||
            tmpfs_options(json_string_value(e), t, err) < 0)
            goto fail;
    }
    *out = m;
    *n = k;
    return 0;
fail:
    api_mounts_free(m, k);
    return -1;
}

static void host_config_release(struct api_host_config *h)
{
    api_strv_free(h->binds);
    json_decref(h->mounts);
    json_decref(h->tmpfs);
    free(h->network_mode);
    json_decref(h->port_bindings);
    free(h->restart_policy);
    api_strv_free(h->cap_add);
    api_strv_free(h->cap_drop);
    api_strv_free(h->security_opt);
    free(h->pid_mode);
    free(h->ipc_mode);
    free(h->uts_mode);
    free(h->cgroupns_mode);
    api_strv_free(h->dns);
    api_strv_free(h->dns_search);
    api_strv_free(h->dns_options);
    api_strv_free(h->extra_hosts);
    free(h->log_type);
    json_decref(h->log_opts);
    json_decref(h->sysctls);
    api_strv_free(h->group_add);
    api_strv_free(h->masked_paths);
    api_strv_free(h->readonly_paths);
    memset(h, 0, sizeof(*h));
}

int api_host_config_decode(const json_t *j, struct api_host_config *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "HostConfig: expected an object");
    if (decode_host_strings(j, out, err) < 0 || decode_host_scalars(j, out, err) < 0 ||
        decode_restart(j, out, err) < 0 || decode_console_size(j, out, err) < 0 ||
        decode_log_config(j, out, err) < 0 || validate_modes(out, err) < 0 ||
        validate_resources(out, err) < 0) {
        host_config_release(out);
        return -1;
    }
    return 0;
}

/* ---- Config ----------------------------------------------------------------------------- */

static int decode_config_fields(const json_t *b, struct api_container_config *c, struct err **err)
{
    static const char p[] = "";
    if (get_str(b, p, "Hostname", &c->hostname, err) < 0 ||
        get_str(b, p, "Domainname", &c->domainname, err) < 0 ||
        get_str(b, p, "User", &c->user, err) < 0 ||
        get_bool(b, p, "AttachStdin", &c->attach_stdin, err) < 0 ||
        get_bool(b, p, "AttachStdout", &c->attach_stdout, err) < 0 ||
        get_bool(b, p, "AttachStderr", &c->attach_stderr, err) < 0 ||
        get_bool(b, p, "Tty", &c->tty, err) < 0 ||
        get_bool(b, p, "OpenStdin", &c->open_stdin, err) < 0 ||
        get_bool(b, p, "StdinOnce", &c->stdin_once, err) < 0 ||
        get_strv(b, p, "Env", &c->env, err) < 0 || get_strslice(b, p, "Cmd", &c->cmd, err) < 0 ||
        get_strslice(b, p, "Entrypoint", &c->entrypoint, err) < 0 ||
        get_str(b, p, "Image", &c->image, err) < 0 ||
        get_str(b, p, "WorkingDir", &c->working_dir, err) < 0 ||
        get_strmap(b, p, "Labels", &c->labels, err) < 0 ||
        get_obj(b, p, "ExposedPorts", &c->exposed_ports, err) < 0 ||
        get_obj(b, p, "Volumes", &c->volumes, err) < 0 ||
        get_str(b, p, "StopSignal", &c->stop_signal, err) < 0 ||
        get_int(b, p, "StopTimeout", &c->stop_timeout, err) < 0 ||
        get_bool(b, p, "NetworkDisabled", &c->network_disabled, err) < 0 ||
        get_obj(b, p, "NetworkingConfig", &c->networking_config, err) < 0)
        return -1;
    return 0;
}

int api_container_config_decode(const json_t *body, struct api_container_config *out,
                                struct err **err)
{
    memset(out, 0, sizeof(*out));
    out->stop_timeout = -1;
    if (!json_is_object(body))
        return err_set(err, ERR_INVALID, 0, "container config: expected a JSON object");
    if (decode_config_fields(body, out, err) < 0)
        goto fail;
    /* [""] is how the docker CLI says --entrypoint "": both it and [] reset the image's. */
    if (out->entrypoint && out->entrypoint[0] && !out->entrypoint[0][0] && !out->entrypoint[1]) {
        free(out->entrypoint[0]);
        out->entrypoint[0] = NULL;
    }
    if (out->stop_signal && *out->stop_signal && api_signal_parse(out->stop_signal) < 0) {
        err_set(err, ERR_INVALID, 0, "Invalid signal: %s", out->stop_signal);
        goto fail;
    }
    if (api_host_config_decode(json_object_get(body, "HostConfig"), &out->host, err) < 0)
        goto fail;
    return 0;
fail:
    api_container_config_release(out);
    return -1;
}

void api_container_config_release(struct api_container_config *c)
{
    free(c->hostname);
    free(c->domainname);
    free(c->user);
    api_strv_free(c->env);
    api_strv_free(c->cmd);
    api_strv_free(c->entrypoint);
    free(c->image);
    free(c->working_dir);
    json_decref(c->labels);
    json_decref(c->exposed_ports);
    json_decref(c->volumes);
    free(c->stop_signal);
    json_decref(c->networking_config);
    host_config_release(&c->host);
    memset(c, 0, sizeof(*c));
    c->stop_timeout = -1;
}

/* ---- encoders --------------------------------------------------------------------------- */

static json_t *strv_or_null(char *const *v)
{
    return v ? apij_strv_encode(v) : json_null();
}

static json_t *obj_or_null(json_t *o)
{
    return o ? json_incref(o) : json_null();
}

static json_t *obj_or_empty(json_t *o)
{
    return o ? json_incref(o) : json_object();
}

static bool obj_empty(const json_t *o)
{
    return !o || json_object_size(o) == 0;
}

/* request: the docker CLI's create body; otherwise dockerd's inspect/persisted shape. */
static void config_encode_into(json_t *j, const struct api_container_config *c, bool request)
{
    apij_set_str(j, "Hostname", c->hostname);
    apij_set_str(j, "Domainname", c->domainname);
    apij_set_str(j, "User", c->user);
    json_object_set_new(j, "AttachStdin", json_boolean(c->attach_stdin));
    json_object_set_new(j, "AttachStdout", json_boolean(c->attach_stdout));
    json_object_set_new(j, "AttachStderr", json_boolean(c->attach_stderr));
    if (!obj_empty(c->exposed_ports)) /* omitempty */
        json_object_set(j, "ExposedPorts", c->exposed_ports);
    json_object_set_new(j, "Tty", json_boolean(c->tty));
    json_object_set_new(j, "OpenStdin", json_boolean(c->open_stdin));
    json_object_set_new(j, "StdinOnce", json_boolean(c->stdin_once));
    json_object_set_new(j, "Env", strv_or_null(c->env));
    json_object_set_new(j, "Cmd", strv_or_null(c->cmd));
    apij_set_str(j, "Image", c->image);
    json_object_set_new(j, "Volumes", obj_or_null(c->volumes));
    apij_set_str(j, "WorkingDir", c->working_dir);
    if (c->entrypoint && !c->entrypoint[0])
        json_object_set_new(j, "Entrypoint", request ? json_pack("[s]", "") : json_null());
    else
        json_object_set_new(j, "Entrypoint", strv_or_null(c->entrypoint));
    if (c->network_disabled)
        json_object_set_new(j, "NetworkDisabled", json_true());
    json_object_set_new(j, "OnBuild", json_null());
    json_object_set_new(j, "Labels", obj_or_null(c->labels));
    if (c->stop_signal && *c->stop_signal)
        json_object_set_new(j, "StopSignal", json_string(c->stop_signal));
    if (c->stop_timeout >= 0)
        json_object_set_new(j, "StopTimeout", json_integer(c->stop_timeout));
}

json_t *api_container_config_encode(const struct api_container_config *c)
{
    json_t *j = json_object();
    config_encode_into(j, c, false);
    return j;
}

static json_t *empty_array(void)
{
    return json_array();
}

static void host_encode_namespaces(json_t *j, const struct api_host_config *h, bool request)
{
    json_object_set_new(j, "CapAdd", strv_or_null(h->cap_add));
    json_object_set_new(j, "CapDrop", strv_or_null(h->cap_drop));
    apij_set_str(j, "CgroupnsMode", h->cgroupns_mode);
    json_object_set_new(j, "Dns", strv_or_null(h->dns));
    json_object_set_new(j, "DnsOptions", strv_or_null(h->dns_options));
    json_object_set_new(j, "DnsSearch", strv_or_null(h->dns_search));
    json_object_set_new(j, "ExtraHosts", strv_or_null(h->extra_hosts));
    json_object_set_new(j, "GroupAdd", strv_or_null(h->group_add));
    apij_set_str(j, "IpcMode", h->ipc_mode);
    apij_set_str(j, "Cgroup", "");
    json_object_set_new(j, "Links", json_null());
    json_object_set_new(j, "OomScoreAdj", json_integer(h->oom_score_adj));
    apij_set_str(j, "PidMode", h->pid_mode);
    json_object_set_new(j, "Privileged", json_boolean(h->privileged));
    json_object_set_new(j, "PublishAllPorts", json_boolean(h->publish_all_ports));
    json_object_set_new(j, "ReadonlyRootfs", json_boolean(h->readonly_rootfs));
    json_object_set_new(j, "SecurityOpt", strv_or_null(h->security_opt));
    apij_set_str(j, "UTSMode", h->uts_mode);
    apij_set_str(j, "UsernsMode", "");
    json_object_set_new(j, "ShmSize", json_integer(h->shm_size));
    if (!obj_empty(h->sysctls))
        json_object_set(j, "Sysctls", h->sysctls);
    if (!request) /* dockerd fills in its runtime; the CLI leaves it out (omitempty) */
        json_object_set_new(j, "Runtime", json_string("runc"));
    apij_set_str(j, "Isolation", "");
}

static void host_encode_resources(json_t *j, const struct api_host_config *h, bool request)
{
    json_object_set_new(j, "CpuShares", json_integer(h->cpu_shares));
    json_object_set_new(j, "Memory", json_integer(h->memory));
    json_object_set_new(j, "NanoCpus", json_integer(h->nano_cpus));
    apij_set_str(j, "CgroupParent", "");
    json_object_set_new(j, "BlkioWeight", json_integer(0));
    static const char *const blkio[] = {"BlkioWeightDevice", "BlkioDeviceReadBps",
                                        "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                                        "BlkioDeviceWriteIOps"};
    for (size_t i = 0; i < ARRAY_SIZE(blkio); i++)
        json_object_set_new(j, blkio[i], empty_array());
    json_object_set_new(j, "CpuPeriod", json_integer(h->cpu_period));
    json_object_set_new(j, "CpuQuota", json_integer(h->cpu_quota));
    json_object_set_new(j, "CpuRealtimePeriod", json_integer(0));
    json_object_set_new(j, "CpuRealtimeRuntime", json_integer(0));
    apij_set_str(j, "CpusetCpus", "");
    apij_set_str(j, "CpusetMems", "");
    json_object_set_new(j, "Devices", empty_array());
    json_object_set_new(j, "DeviceCgroupRules", json_null());
    json_object_set_new(j, "DeviceRequests", json_null());
    json_object_set_new(j, "MemoryReservation", json_integer(h->memory_reservation));
    json_object_set_new(j, "MemorySwap", json_integer(h->memory_swap));
    /* The CLI sends its -1 default; dockerd stores and shows nil. */
    json_object_set_new(j, "MemorySwappiness", request ? json_integer(-1) : json_null());
    json_object_set_new(j, "OomKillDisable", json_false());
    /* dockerd normalises 0 and -1 (unlimited) to nil. */
    json_object_set_new(j, "PidsLimit",
                        request || h->pids_limit > 0 ? json_integer(h->pids_limit) : json_null());
    json_object_set_new(j, "Ulimits", empty_array());
    json_object_set_new(j, "CpuCount", json_integer(0));
    json_object_set_new(j, "CpuPercent", json_integer(0));
    json_object_set_new(j, "IOMaximumIOps", json_integer(0));
    json_object_set_new(j, "IOMaximumBandwidth", json_integer(0));
}

static json_t *host_encode(const struct api_host_config *h, bool request)
{
    json_t *j = json_object();
    json_object_set_new(j, "Binds", strv_or_null(h->binds));
    if (h->mounts)
        json_object_set_new(j, "Mounts", json_incref(h->mounts));
    if (h->tmpfs)
        json_object_set_new(j, "Tmpfs", json_incref(h->tmpfs));
    apij_set_str(j, "ContainerIDFile", "");
    json_object_set_new(j, "LogConfig",
                        json_pack("{s:s, s:o}", "Type", h->log_type ? h->log_type : "", "Config",
                                  obj_or_empty(h->log_opts)));
    apij_set_str(j, "NetworkMode", h->network_mode);
    json_object_set_new(j, "PortBindings", obj_or_empty(h->port_bindings));
    json_object_set_new(j, "RestartPolicy",
                        json_pack("{s:s, s:I}", "Name", h->restart_policy ? h->restart_policy : "",
                                  "MaximumRetryCount", (json_int_t)h->restart_max_retry));
    json_object_set_new(j, "AutoRemove", json_boolean(h->auto_remove));
    apij_set_str(j, "VolumeDriver", "");
    json_object_set_new(j, "VolumesFrom", json_null());
    json_object_set_new(j, "ConsoleSize",
                        json_pack("[i, i]", h->console_size[0], h->console_size[1]));
    host_encode_namespaces(j, h, request);
    host_encode_resources(j, h, request);
    json_object_set_new(j, "MaskedPaths", strv_or_null(h->masked_paths));
    json_object_set_new(j, "ReadonlyPaths", strv_or_null(h->readonly_paths));
    if (h->init)
        json_object_set_new(j, "Init", json_true());
    return j;
}

json_t *api_host_config_encode(const struct api_host_config *h)
{
    return host_encode(h, false);
}

json_t *api_container_create_encode(const struct api_container_config *c)
{
    json_t *j = json_object();
    config_encode_into(j, c, true);
    json_object_set_new(j, "HostConfig", host_encode(&c->host, true));
    json_object_set_new(j, "NetworkingConfig",
                        c->networking_config ? json_incref(c->networking_config)
                                             : json_pack("{s:{}}", "EndpointsConfig"));
    return j;
}
