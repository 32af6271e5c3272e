/* SPDX-License-Identifier: Apache-2.0 */
/* What handlers show: inspect, ps rows, top. */
#include "daemon/container/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/networks.h"
#include "daemon/runtime/runtime.h"

static void state_of(const struct ctr *c, struct api_container_state *s, char started[40],
                     char finished[40])
{
    ctr_time_str(c->started_ns, started);
    ctr_time_str(c->finished_ns, finished);
    s->status = (char *)ctr_status_name(c->status);
    s->running = c->status == CTR_RUNNING || c->status == CTR_PAUSED;
    s->paused = c->status == CTR_PAUSED;
    s->restarting = c->status == CTR_RESTARTING;
    s->oom_killed = c->oom_killed;
    s->dead = c->status == CTR_DEAD;
    s->pid = s->running ? c->pid : 0;
    s->exit_code = c->exit_code;
    s->error = c->error ? c->error : "";
    s->started_at = started;
    s->finished_at = finished;
}

void ctr_view_release(struct ctr_view *v)
{
    for (size_t i = 0; i < ARRAY_SIZE(v->strs); i++) {
        free(v->strs[i]);
        v->strs[i] = NULL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(v->json); i++) {
        json_decref(v->json[i]);
        v->json[i] = NULL;
    }
}

static char *lower_dirs(const struct ctr *c)
{
    const struct image *img = image_lookup(c->st->images, c->image_id, NULL);
    if (!img)
        return NULL;
    struct sb sb = SB_INIT;
    for (size_t i = img->nlayers; i-- > 0;) {
        _cleanup_free_ char *d = image_layer_dir(c->st->images, img->chain_ids[i]);
        if (sb.len)
            sb_addc(&sb, ':');
        sb_adds(&sb, d);
    }
    return sb_steal(&sb);
}

/*
 * The network a container is on and its endpoint there while it runs; a stopped container
 * shows the network with empty addresses, as dockerd does.
 */
/* One endpoint's settings. */
static void endpoint_settings(const struct net_endpoint *e, struct api_endpoint_settings *es)
{
    es->network_id = e->net->id;
    es->endpoint_id = e->endpoint_id;
    es->gateway = e->gateway;
    es->ip_address = e->ip;
    es->ip_prefix_len = e->prefix;
    es->mac_address = e->mac;
    if (e->net->user) { /* as docker 28: the given aliases, and every name DNS answers */
        es->aliases = e->aliases;
        es->dns_names = e->dns_names;
    }
}

enum { NETS_SHOWN = 16 };

/* The networks `network connect` added to a running container, after the first. */
static void connected_settings(const struct ctr *c, struct api_network_settings *ns,
                               struct api_endpoint_settings *es, const char **names)
{
    for (const struct net_endpoint *e = net_endpoint_next(c->st->net, c->id, NULL);
         e && ns->nnets < NETS_SHOWN; e = net_endpoint_next(c->st->net, c->id, e)) {
        if (!e->secondary)
            continue;
        names[ns->nnets] = e->net->name;
        endpoint_settings(e, &es[ns->nnets++]);
    }
}

/* A stopped container: the user networks `network connect` recorded, without addresses. */
static void recorded_settings(const struct ctr *c, const struct net_network *first,
                              struct api_network_settings *ns, struct api_endpoint_settings *es,
                              const char **names)
{
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(c->cfg.networking_config, "EndpointsConfig"), key, v)
    {
        const struct net_network *n = net_network_lookup(c->st->net, key, NULL);
        if (!n || !n->user || n == first || ns->nnets >= NETS_SHOWN)
            continue;
        names[ns->nnets] = n->name;
        es[ns->nnets++].network_id = n->id;
    }
}

static void network_settings(const struct ctr *c, struct api_network_settings *ns,
                             struct api_endpoint_settings *es, const char **name)
{
    memset(ns, 0, sizeof(*ns));
    memset(es, 0, sizeof(*es) * NETS_SHOWN);
    const char *mode = c->cfg.host.network_mode;
    *name = !mode || !*mode || strcmp(mode, "default") == 0 ? "bridge" : mode;
    if (c->cfg.network_disabled)
        *name = "none";
    const struct net_network *n = c->st->net ? net_network_lookup(c->st->net, *name, NULL) : NULL;
    if (!n)
        return;
    *name = n->name;
    ns->names = name;
    ns->nets = es;
    ns->nnets = 1;
    es->network_id = n->id;
    bool live = c->status == CTR_RUNNING || c->status == CTR_PAUSED;
    const struct net_endpoint *e = live ? net_endpoint_find(c->st->net, c->id) : NULL;
    if (!e) {
        recorded_settings(c, n, ns, es, name);
        return;
    }
    ns->sandbox_id = e->sandbox_id;
    ns->sandbox_key = e->sandbox_key;
    if (e->net == n)
        endpoint_settings(e, es);
    else /* its first network was disconnected */
        ns->nnets = 0;
    connected_settings(c, ns, es, name);
}

/* The endpoint of a running container (its published ports), or NULL. */
static const struct net_endpoint *live_endpoint(const struct ctr *c)
{
    bool live = c->status == CTR_RUNNING || c->status == CTR_PAUSED;
    return live && c->st->net ? net_endpoint_find(c->st->net, c->id) : NULL;
}

void ctr_inspect(const struct ctr *c, struct api_container_inspect *out, struct ctr_view *v)
{
    memset(out, 0, sizeof(*out));
    memset(v, 0, sizeof(*v));
    ctr_time_str(c->created_ns, v->created);
    out->id = (char *)c->id;
    out->created = v->created;
    out->path = c->path;
    out->args = c->args;
    state_of(c, &out->state, v->started, v->finished);
    out->image_id = (char *)c->image_id;
    out->resolv_conf_path = v->strs[0] = ctr_path(c, "resolv.conf");
    out->hostname_path = v->strs[1] = ctr_path(c, "hostname");
    out->hosts_path = v->strs[2] = ctr_path(c, "hosts");
    out->log_path = v->strs[3] = ctr_log_path(c);
    out->name = v->strs[4] = xasprintf("/%s", c->name);
    out->restart_count = c->restart_count;
    out->config = &c->cfg;
    out->host_config = &c->cfg.host;
    out->upper_dir = v->strs[5] = ctr_path(c, "rootfs/upper");
    out->work_dir = v->strs[6] = ctr_path(c, "rootfs/work");
    out->merged_dir = v->strs[7] = ctr_path(c, "rootfs/merged");
    out->lower_dir = v->strs[8] = lower_dirs(c);
    struct api_network_settings ns;
    struct api_endpoint_settings es[NETS_SHOWN];
    const char *name[NETS_SHOWN] = {NULL};
    network_settings(c, &ns, es, name);
    ns.ports = v->json[1] = net_endpoint_ports_inspect(live_endpoint(c));
    out->network_settings = v->json[0] = api_network_settings_encode(&ns);
    out->mounts = v->json[2] = ctr_mounts_json(c->st, c);
}

void ctr_summary(const struct ctr *c, struct api_container_summary *s, struct ctr_view *v)
{
    memset(s, 0, sizeof(*s));
    memset(v, 0, sizeof(*v));
    v->names[0] = v->strs[0] = xasprintf("/%s", c->name);
    v->names[1] = NULL;
    struct sb command = SB_INIT;
    sb_adds(&command, c->path ? c->path : "");
    for (char **a = c->args; a && *a; a++) {
        /* as dockerd shows it: an argument with a space in single quotes */
        sb_addf(&command, strchr(*a, ' ') ? " '%s'" : " %s", *a);
    }
    s->command = v->strs[1] = sb_steal(&command);
    s->id = (char *)c->id;
    s->names = v->names;
    s->image = c->cfg.image;
    s->image_id = (char *)c->image_id;
    s->created = c->created_ns / 1000000000;
    s->state = (char *)ctr_status_name(c->status);
    struct api_container_state st;
    state_of(c, &st, v->started, v->finished);
    s->status = v->strs[2] =
        api_container_status_text(&st, c->started_ns, c->finished_ns, ctr_now_ns());
    s->labels = c->cfg.labels;
    s->network_mode = c->cfg.host.network_mode && c->cfg.host.network_mode[0]
                          ? c->cfg.host.network_mode
                          : "default";
    struct api_network_settings ns;
    struct api_endpoint_settings es[NETS_SHOWN];
    const char *name[NETS_SHOWN] = {NULL};
    network_settings(c, &ns, es, name);
    s->networks = v->json[1] = api_network_summary_encode(&ns);
    s->ports = v->json[0] = net_endpoint_ports_summary(live_endpoint(c));
    s->mounts = v->json[2] = ctr_mounts_json(c->st, c);
    s->size_rw = -1;
    s->size_root_fs = -1;
}

/* ---- top (threadpool) -------------------------------------------------------------------- */

struct top_op {
    uv_work_t work;
    struct ctr *c;
    char *cgroup;
    ctr_top_cb done;
    void *data;
    json_t *result;
    struct err *err;
};

static void proc_row(pid_t pid, json_t *rows, long hz, time_t boot)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_free_ char *pstat = NULL;
    if (fsu_read_file(path, sizeof(buf), &pstat, NULL) < 0)
        return;
    char *rp = strrchr(pstat, ')');
    if (!rp)
        return;
    int ppid = 0, tty = 0;
    unsigned long utime = 0, stime = 0;
    unsigned long long start = 0;
    sscanf(rp + 2, "%*c %d %*d %*d %d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %llu",
           &ppid, &tty, &utime, &stime, &start);
    struct stat st;
    snprintf(path, sizeof(path), "/proc/%d", (int)pid);
    uid_t uid = stat(path, &st) == 0 ? st.st_uid : 0;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    _cleanup_free_ char *cmd = NULL;
    size_t clen = 0;
    if (fsu_read_file(path, 4096, &cmd, &clen) < 0 || clen == 0) {
        free(cmd);
        cmd = NULL;
        char *lp = strchr(pstat, '(');
        cmd = lp ? xasprintf("[%.*s]", (int)(rp - lp - 1), lp + 1) : xstrdup("?");
    } else {
        for (size_t i = 0; i + 1 < clen; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
    }
    time_t started = boot + (time_t)(start / (unsigned long long)hz);
    struct tm tm;
    localtime_r(&started, &tm);
    char stime_s[16], time_s[48];
    strftime(stime_s, sizeof(stime_s), "%H:%M", &tm);
    unsigned long secs = (utime + stime) / (unsigned long)hz;
    snprintf(time_s, sizeof(time_s), "%02lu:%02lu:%02lu", secs / 3600, secs / 60 % 60, secs % 60);
    char uid_s[16], pid_s[16], ppid_s[16];
    snprintf(uid_s, sizeof(uid_s), "%u", (unsigned)uid);
    snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
    snprintf(ppid_s, sizeof(ppid_s), "%d", ppid);
    json_array_append_new(rows, json_pack("[s,s,s,s,s,s,s,s]", uid_s, pid_s, ppid_s, "0", stime_s,
                                          tty ? "pts" : "?", time_s, cmd));
}

static void top_work(uv_work_t *w)
{
    struct top_op *op = w->data;
    pid_t *pids = NULL;
    size_t n = 0;
    if (rt_cgroup_pids(op->cgroup, &pids, &n, &op->err) < 0)
        return;
    long hz = sysconf(_SC_CLK_TCK);
    _cleanup_free_ char *uptime = NULL;
    double up = 0;
    if (fsu_read_file("/proc/uptime", 256, &uptime, NULL) == 0)
        up = strtod(uptime, NULL);
    time_t boot = time(NULL) - (time_t)up;
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        proc_row(pids[i], rows, hz > 0 ? hz : 100, boot);
    free(pids);
    op->result = json_pack("{s:[s,s,s,s,s,s,s,s], s:o}", "Titles", "UID", "PID", "PPID", "C",
                           "STIME", "TTY", "TIME", "CMD", "Processes", rows);
}

static void top_after(uv_work_t *w, int status)
{
    struct top_op *op = w->data;
    (void)status;
    if (!op->err)
        ctr_event(op->c, "top", NULL, NULL);
    op->done(op->err, op->result, op->data);
    json_decref(op->result);
    err_free(op->err);
    free(op->cgroup);
    ctr_unref(op->c);
    free(op);
}

void ctr_top(struct ctr_store *st, struct ctr *c, ctr_top_cb done, void *data)
{
    if (c->status != CTR_RUNNING && c->status != CTR_PAUSED) {
        struct err *err = NULL;
        err_set(&err, ERR_CONFLICT, 0, "Container %s is not running", c->id);
        done(err, NULL, data);
        err_free(err);
        return;
    }
    struct top_op *op = xcalloc(1, sizeof(*op));
    op->c = c;
    ctr_ref(c);
    op->cgroup = xasprintf("berth/%s", c->id);
    op->done = done;
    op->data = data;
    op->work.data = op;
    uv_queue_work(st->loop, &op->work, top_work, top_after);
}
