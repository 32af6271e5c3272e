/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What dockerd sends about containers: inspect (ContainerJSONBase, then Mounts, Config and
 * NetworkSettings, every key present even when empty), the ps rows, the human status text, the
 * wait and create replies.
 */
#include "api/containers.h"

#include "api/json_util.h"

#include <stdio.h>
#include <string.h>

static const char go_zero_time[] = "0001-01-01T00:00:00Z";

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- GET /containers/{id}/json ---------------------------------------------------------- */

static json_t *state_encode(const struct api_container_state *st)
{
    json_t *j = json_object();
    apij_set_str(j, "Status", st->status ? st->status : "created");
    json_object_set_new(j, "Running", json_boolean(st->running));
    json_object_set_new(j, "Paused", json_boolean(st->paused));
    json_object_set_new(j, "Restarting", json_boolean(st->restarting));
    json_object_set_new(j, "OOMKilled", json_boolean(st->oom_killed));
    json_object_set_new(j, "Dead", json_boolean(st->dead));
    json_object_set_new(j, "Pid", json_integer(st->pid));
    json_object_set_new(j, "ExitCode", json_integer(st->exit_code));
    apij_set_str(j, "Error", st->error);
    apij_set_str(j, "StartedAt", st->started_at ? st->started_at : go_zero_time);
    apij_set_str(j, "FinishedAt", st->finished_at ? st->finished_at : go_zero_time);
    return j;
}

static json_t *graph_driver_encode(const struct api_container_inspect *in)
{
    /* Data is a Go map: keys sorted. */
    json_t *data = json_object();
    if (in->lower_dir)
        apij_set_str(data, "LowerDir", in->lower_dir);
    if (in->merged_dir)
        apij_set_str(data, "MergedDir", in->merged_dir);
    if (in->upper_dir)
        apij_set_str(data, "UpperDir", in->upper_dir);
    if (in->work_dir)
        apij_set_str(data, "WorkDir", in->work_dir);
    if (json_object_size(data) == 0) {
        json_decref(data);
        data = json_null();
    }
    return json_pack("{s:o, s:s}", "Data", data, "Name", "overlay2");
}

/* A bind "/src:/dst[:opts]" as a MountPoint; NULL for one that does not parse. */
static json_t *bind_mount(const char *bind)
{
    struct api_bind b;
    if (api_bind_parse(bind, &b, NULL) < 0)
        return NULL;
    if (b.volume) { /* the daemon resolves volumes (in->mounts) */
        api_bind_release(&b);
        return NULL;
    }
    json_t *m =
        json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source", b.src, "Destination",
                  b.dst, "Mode", b.mode, "RW", !b.ro, "Propagation", b.propagation);
    api_bind_release(&b);
    return m;
}

static json_t *mounts_encode(const struct api_host_config *h)
{
    json_t *a = json_array();
    for (char **b = h ? h->binds : NULL; b && *b; b++) {
        json_t *m = bind_mount(*b);
        if (m)
            json_array_append_new(a, m);
    }
    struct api_mount *ms = NULL;
    size_t n = 0;
    if (h && h->mounts && api_mounts_parse(h->mounts, NULL, &ms, &n, NULL) == 0) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type",
                                               ms[i].tmpfs ? "tmpfs" : "bind", "Source",
                                               ms[i].source ? ms[i].source : "", "Destination",
                                               ms[i].target, "Mode", "", "RW", !ms[i].ro,
                                               "Propagation",
                                               ms[i].propagation ? ms[i].propagation : ""));
        api_mounts_free(ms, n);
    }
    return a;
}

/* NetworkSettings with every key, as dockerd shows a container without a network. */
static json_t *network_settings_empty(void)
{
    json_t *j = json_object();
    static const char *const strs[] = {"Bridge", "SandboxID", "SandboxKey"};
    for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
        apij_set_str(j, strs[i], "");
    json_object_set_new(j, "Ports", json_object());
    json_object_set_new(j, "HairpinMode", json_false());
    apij_set_str(j, "LinkLocalIPv6Address", "");
    json_object_set_new(j, "LinkLocalIPv6PrefixLen", json_integer(0));
    json_object_set_new(j, "SecondaryIPAddresses", json_null());
    json_object_set_new(j, "SecondaryIPv6Addresses", json_null());
    apij_set_str(j, "EndpointID", "");
    apij_set_str(j, "Gateway", "");
    apij_set_str(j, "GlobalIPv6Address", "");
    json_object_set_new(j, "GlobalIPv6PrefixLen", json_integer(0));
    apij_set_str(j, "IPAddress", "");
    json_object_set_new(j, "IPPrefixLen", json_integer(0));
    apij_set_str(j, "IPv6Gateway", "");
    apij_set_str(j, "MacAddress", "");
    json_object_set_new(j, "Networks", json_object());
    return j;
}

json_t *api_container_inspect_encode(const struct api_container_inspect *in, int version)
{
    (void)version; /* the shape is the same from 1.24 to 1.44 */
    json_t *j = json_object();
    apij_set_str(j, "Id", in->id);
    apij_set_str(j, "Created", in->created ? in->created : go_zero_time);
    apij_set_str(j, "Path", in->path);
    json_object_set_new(j, "Args", apij_strv_encode(in->args));
    json_object_set_new(j, "State", state_encode(&in->state));
    apij_set_str(j, "Image", in->image_id);
    apij_set_str(j, "ResolvConfPath", in->resolv_conf_path);
    apij_set_str(j, "HostnamePath", in->hostname_path);
    apij_set_str(j, "HostsPath", in->hosts_path);
    apij_set_str(j, "LogPath", in->log_path);
    apij_set_str(j, "Name", in->name);
    json_object_set_new(j, "RestartCount", json_integer(in->restart_count));
    apij_set_str(j, "Driver", "overlay2");
    apij_set_str(j, "Platform", "linux");
    apij_set_str(j, "MountLabel", "");
    apij_set_str(j, "ProcessLabel", "");
    apij_set_str(j, "AppArmorProfile", "");
    json_object_set_new(j, "ExecIDs",
                        in->exec_ids && in->exec_ids[0] ? apij_strv_encode(in->exec_ids)
                                                        : json_null());
    struct api_host_config none = {0};
    const struct api_host_config *h = in->host_config ? in->host_config : &none;
    json_object_set_new(j, "HostConfig", api_host_config_encode(h));
    json_object_set_new(j, "GraphDriver", graph_driver_encode(in));
    json_object_set_new(j, "Mounts", in->mounts ? json_incref(in->mounts) : mounts_encode(h));
    struct api_container_config empty = {.stop_timeout = -1};
    json_object_set_new(j, "Config", api_container_config_encode(in->config ? in->config : &empty));
    json_object_set_new(j, "NetworkSettings",
                        in->network_settings ? json_incref(in->network_settings)
                                             : network_settings_empty());
    return j;
}

/* ---- GET /containers/json --------------------------------------------------------------- */

json_t *api_container_summary_encode(const struct api_container_summary *s)
{
    json_t *j = json_object();
    apij_set_str(j, "Id", s->id);
    json_object_set_new(j, "Names", apij_strv_encode(s->names));
    apij_set_str(j, "Image", s->image);
    apij_set_str(j, "ImageID", s->image_id);
    apij_set_str(j, "Command", s->command);
    json_object_set_new(j, "Created", json_integer(s->created));
    json_object_set_new(j, "Ports", json_is_array(s->ports) ? json_incref(s->ports) : json_array());
    if (s->size_rw > 0) /* omitempty */
        json_object_set_new(j, "SizeRw", json_integer(s->size_rw));
    if (s->size_root_fs > 0)
        json_object_set_new(j, "SizeRootFs", json_integer(s->size_root_fs));
    json_object_set_new(j, "Labels",
                        json_is_object(s->labels) ? json_incref(s->labels) : json_object());
    apij_set_str(j, "State", s->state);
    apij_set_str(j, "Status", s->status);
    json_t *hc = json_object();
    if (s->network_mode && *s->network_mode)
        apij_set_str(hc, "NetworkMode", s->network_mode);
    json_object_set_new(j, "HostConfig", hc);
    json_object_set_new(
        j, "NetworkSettings",
        json_pack("{s:o}", "Networks",
                  json_is_object(s->networks) ? json_incref(s->networks) : json_object()));
    json_object_set_new(j, "Mounts", s->mounts ? json_incref(s->mounts) : json_array());
    return j;
}

/* ---- status text ------------------------------------------------------------------------ */

#define NS_PER_SEC  1000000000LL
#define NS_PER_HOUR (3600 * NS_PER_SEC)
#define NS_PER_DAY  (24 * NS_PER_HOUR)

/* go-units' roundDuration: int(float64(d)/float64(unit) + 0.5). */
static long long round_units(int64_t ns, int64_t unit)
{
    return (long long)((double)ns / (double)unit + 0.5);
}

char *api_human_duration(int64_t ns)
{
    int64_t seconds = ns / NS_PER_SEC;
    if (seconds < 1)
        return xstrdup("Less than a second");
    if (seconds == 1)
        return xstrdup("1 second");
    if (seconds < 60)
        return xasprintf("%lld seconds", (long long)seconds);
    int64_t minutes = seconds / 60;
    if (minutes == 1)
        return xstrdup("About a minute");
    if (minutes < 60)
        return xasprintf("%lld minutes", (long long)minutes);
    long long hours = round_units(ns, NS_PER_HOUR);
    if (hours == 1)
        return xstrdup("About an hour");
    if (hours < 48)
        return xasprintf("%lld hours", hours);
    if (ns < 14 * NS_PER_DAY)
        return xasprintf("%lld days", round_units(ns, NS_PER_DAY));
    if (ns < 60 * NS_PER_DAY)
        return xasprintf("%lld weeks", round_units(ns, 7 * NS_PER_DAY));
    if (ns < 730 * NS_PER_DAY)
        return xasprintf("%lld months", round_units(ns, 30 * NS_PER_DAY));
    return xasprintf("%lld years", round_units(ns, 365 * NS_PER_DAY));
}

/* moby's State.String(). */
char *api_container_status_text(const struct api_container_state *st, int64_t started_ns,
                                int64_t finished_ns, int64_t now_ns)
{
    const char *status = or_empty(st->status);
    bool running = st->running || strcmp(status, "running") == 0 || strcmp(status, "paused") == 0 ||
                   strcmp(status, "restarting") == 0;
    if (running) {
        bool restarting = st->restarting || strcmp(status, "restarting") == 0;
        bool paused = st->paused || strcmp(status, "paused") == 0;
        _cleanup_free_ char *up = api_human_duration(now_ns - started_ns);
        if (paused)
            return xasprintf("Up %s (Paused)", up);
        if (restarting) {
            _cleanup_free_ char *ago = api_human_duration(now_ns - finished_ns);
            return xasprintf("Restarting (%d) %s ago", st->exit_code, ago);
        }
        return xasprintf("Up %s", up);
    }
    if (strcmp(status, "removing") == 0)
        return xstrdup("Removal In Progress");
    if (st->dead || strcmp(status, "dead") == 0)
        return xstrdup("Dead");
    if (started_ns <= 0 || strcmp(status, "created") == 0)
        return xstrdup("Created");
    if (finished_ns <= 0)
        return xstrdup("");
    _cleanup_free_ char *ago = api_human_duration(now_ns - finished_ns);
    return xasprintf("Exited (%d) %s ago", st->exit_code, ago);
}

/* ---- small replies ---------------------------------------------------------------------- */

char *api_wait_encode(int status_code, const char *error)
{
    json_auto_t *j = json_object();
    json_object_set_new(j, "Error", error ? json_pack("{s:s}", "Message", error) : json_null());
    json_object_set_new(j, "StatusCode", json_integer(status_code));
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        abort();
    /* Go's json.Encoder ends every value with a newline. */
    char *line = xasprintf("%s\n", s);
    free(s);
    return line;
}

json_t *api_create_response_encode(const char *id, char *const *warnings)
{
    return json_pack("{s:s, s:o}", "Id", or_empty(id), "Warnings", apij_strv_encode(warnings));
}

json_t *api_container_prune_encode(char *const *deleted, int64_t space_reclaimed)
{
    return json_pack("{s:o, s:I}", "ContainersDeleted",
                     deleted && deleted[0] ? apij_strv_encode(deleted) : json_null(),
                     "SpaceReclaimed", (json_int_t)space_reclaimed);
}
