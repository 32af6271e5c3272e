/* SPDX-License-Identifier: Apache-2.0 */
/* The container store: lookups, names, persistence and loading at start-up. */
#include "daemon/container/internal.h"
#include "daemon/events/events.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const status_names[] = {
    [CTR_CREATED] = "created",   [CTR_RUNNING] = "running",
    [CTR_PAUSED] = "paused",     [CTR_RESTARTING] = "restarting",
    [CTR_REMOVING] = "removing", [CTR_EXITED] = "exited",
    [CTR_DEAD] = "dead",
};

const char *ctr_status_name(enum ctr_status s)
{
    return (size_t)s < ARRAY_SIZE(status_names) ? status_names[s] : "dead";
}

static int status_parse(const char *s)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(status_names); i++) {
        if (strcmp(s, status_names[i]) == 0)
            return (int)i;
    }
    return -1;
}

void ctr_event(struct ctr *c, const char *action, const char *key, const char *value)
{
    const char *extra[] = {key, value, NULL};
    ctr_event_attrs(c, action, key ? extra : NULL);
}

void ctr_event_attrs(struct ctr *c, const char *action, const char *const *extra)
{
    if (!c->st->events)
        return;
    size_t n = json_object_size(c->cfg.labels), m = 0;
    while (extra && extra[m])
        m += 2;
    const char **a = xcalloc(2 * n + m + 5, sizeof(*a));
    size_t k = 0;
    const char *lk;
    json_t *lv;
    json_object_foreach(c->cfg.labels, lk, lv)
    {
        a[k++] = lk;
        a[k++] = json_string_value(lv);
    }
    a[k++] = "image";
    a[k++] = c->cfg.image;
    a[k++] = "name";
    a[k++] = c->name;
    for (size_t i = 0; i < m; i++)
        a[k++] = extra[i];
    events_emit(c->st->events, "container", action, c->id, a);
    free(a);
}

int64_t ctr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void ctr_time_str(int64_t ns, char out[40])
{
    if (ns <= 0) {
        snprintf(out, 40, "0001-01-01T00:00:00Z");
        return;
    }
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    time_rfc3339nano(&ts, out);
}

int64_t ctr_time_parse(const char *s)
{
    struct tm tm = {0};
    const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!p || tm.tm_year < 70)
        return 0;
    int64_t ns = (int64_t)timegm(&tm) * 1000000000;
    if (*p == '.') {
        int64_t frac = 0, scale = 100000000;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
        ns += frac;
    }
    return ns;
}

/* ---- membership and lookups -------------------------------------------------------------- */

void ctr_store_insert(struct ctr_store *st, struct ctr *c)
{
    st->ctrs = xrealloc(st->ctrs, (st->n + 1) * sizeof(*st->ctrs));
    st->ctrs[st->n++] = c;
    c->st = st;
}

void ctr_store_drop(struct ctr_store *st, struct ctr *c)
{
    for (size_t i = 0; i < st->n; i++) {
        if (st->ctrs[i] == c) {
            memmove(&st->ctrs[i], &st->ctrs[i + 1], (st->n - i - 1) * sizeof(*st->ctrs));
            st->n--;
            return;
        }
    }
}

size_t ctr_count(const struct ctr_store *st)
{
    return st->n;
}

struct ctr *ctr_at(const struct ctr_store *st, size_t i)
{
    return i < st->n ? st->ctrs[i] : NULL;
}

struct ctr *ctr_find_name(const struct ctr_store *st, const char *name)
{
    if (name[0] == '/')
        name++;
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->ctrs[i]->name, name) == 0)
            return st->ctrs[i];
    }
    return NULL;
}

struct ctr *ctr_lookup(const struct ctr_store *st, const char *name, struct err **err)
{
    if (!name || !name[0])
        return err_set(err, ERR_NOT_FOUND, 0, "No such container: %s", name ? name : ""), NULL;
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->ctrs[i]->id, name) == 0)
            return st->ctrs[i];
    }
    struct ctr *c = ctr_find_name(st, name);
    if (c)
        return c;
    size_t len = strlen(name);
    struct ctr *found = NULL;
    for (size_t i = 0; len < DIGEST_HEX_LEN && i < st->n; i++) {
        if (strncmp(st->ctrs[i]->id, name, len) != 0)
            continue;
        if (found)
            return err_set(err, ERR_INVALID, 0,
                           "multiple containers found with provided prefix: %s", name),
                   NULL;
        found = st->ctrs[i];
    }
    if (!found)
        err_set(err, ERR_NOT_FOUND, 0, "No such container: %s", name);
    return found;
}

struct ctr *ctr_using_image(const struct ctr_store *st, const char *image_id)
{
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->ctrs[i]->image_id, image_id) == 0)
            return st->ctrs[i];
    }
    return NULL;
}

char *ctr_path(const struct ctr *c, const char *file)
{
    return xasprintf("%s/containers/%s/%s", c->st->data_root, c->id, file);
}

char *ctr_log_path(const struct ctr *c)
{
    return xasprintf("%s/containers/%s/%s-json.log", c->st->data_root, c->id, c->id);
}

char *ctr_exec_path(const struct ctr *c, const char *file)
{
    return xasprintf("%s/%s/%s", c->st->exec_root, c->id, file);
}

void ctr_ref(struct ctr *c)
{
    c->refs++;
}

void ctr_unref(struct ctr *c)
{
    if (--c->refs == 0 && c->removed)
        ctr_free(c);
}

void ctr_free(struct ctr *c)
{
    free(c->name);
    api_container_config_release(&c->cfg);
    free(c->path);
    api_strv_free(c->args);
    free(c->error);
    free(c);
}

/* ---- persistence ------------------------------------------------------------------------- */

json_t *ctr_state_json(const struct ctr *c)
{
    return json_pack("{s:s, s:i, s:i, s:b, s:s, s:I, s:I, s:I, s:b, s:b}", "Status",
                     ctr_status_name(c->status), "Pid", c->pid, "ExitCode", c->exit_code,
                     "OOMKilled", c->oom_killed, "Error", c->error ? c->error : "", "StartedAt",
                     (json_int_t)c->started_ns, "FinishedAt", (json_int_t)c->finished_ns,
                     "RestartCount", (json_int_t)c->restart_count, "ManuallyStopped",
                     c->manually_stopped, "HasBeenStarted", c->has_been_started);
}

json_t *ctr_config_json(const struct ctr *c)
{
    json_t *cfg = api_container_config_encode(&c->cfg);
    json_object_set_new(cfg, "HostConfig", api_host_config_encode(&c->cfg.host));
    if (c->cfg.networking_config)
        json_object_set(cfg, "NetworkingConfig", c->cfg.networking_config);
    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:o}", "Id", c->id, "Name", c->name, "Created",
                     (json_int_t)c->created_ns, "Image", c->image_id, "Path",
                     c->path ? c->path : "", "Args", api_strv_json(c->args), "Config", cfg);
}

struct state_write {
    uv_work_t work;
    struct ctr *c;
    char *path;
    char *text;
    struct err *err;
};

static void state_write_work(uv_work_t *w)
{
    struct state_write *sw = w->data;
    (void)fsu_write_atomic(sw->path, sw->text, strlen(sw->text), 0600, &sw->err);
}

static void state_write_after(uv_work_t *w, int status)
{
    struct state_write *sw = w->data;
    (void)status;
    if (sw->err && !sw->c->removed && sw->c->status != CTR_REMOVING)
        log_error("saving state of container %.12s: %s", sw->c->id, sw->err->msg);
    sw->c->state_writing = false;
    if (sw->c->state_dirty) {
        sw->c->state_dirty = false;
        ctr_save_state(sw->c);
    }
    err_free(sw->err);
    ctr_unref(sw->c);
    free(sw->path);
    free(sw->text);
    free(sw);
}

/*
 * Each write is a whole snapshot renamed into place. One write per container is in flight at
 * a time (threadpool jobs may finish in any order): a change meanwhile marks the state dirty
 * and the latest snapshot is written when the current write is done.
 */
void ctr_save_state(struct ctr *c)
{
    if (c->removed || c->status == CTR_REMOVING)
        return;
    if (c->state_writing) {
        c->state_dirty = true;
        return;
    }
    c->state_writing = true;
    json_auto_t *j = ctr_state_json(c);
    struct state_write *sw = xcalloc(1, sizeof(*sw));
    sw->c = c;
    ctr_ref(c);
    sw->path = ctr_path(c, "state.json");
    sw->text = json_dumps(j, JSON_COMPACT);
    sw->work.data = sw;
    uv_queue_work(c->st->loop, &sw->work, state_write_work, state_write_after);
}

/* ---- loading (blocking, start-up) -------------------------------------------------------- */

static json_t *read_json(const char *path)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fsu_read_file(path, 16 << 20, &text, &len) < 0)
        return NULL;
    return json_loadb(text, len, 0, NULL);
}

static struct ctr *load_one(struct ctr_store *st, const char *id)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers/%s", st->data_root, id);
    _cleanup_free_ char *cpath = xasprintf("%s/config.json", dir);
    _cleanup_free_ char *spath = xasprintf("%s/state.json", dir);
    json_auto_t *cj = read_json(cpath);
    if (!cj)
        return NULL;
    /* The state written at create is not synced (create.c): after a crash it may be empty,
     * which can only mean the container was never started. */
    json_auto_t *sj = read_json(spath);
    if (!sj)
        sj = json_pack("{s:s}", "Status", "created");
    struct ctr *c = xcalloc(1, sizeof(*c));
    struct err *err = NULL;
    if (api_container_config_decode(json_object_get(cj, "Config"), &c->cfg, &err) < 0) {
        log_warn("container %.12s: %s", id, err->msg);
        err_free(err);
        free(c);
        return NULL;
    }
    snprintf(c->id, sizeof(c->id), "%s", id);
    const char *name = json_string_value(json_object_get(cj, "Name"));
    const char *image = json_string_value(json_object_get(cj, "Image"));
    const char *path = json_string_value(json_object_get(cj, "Path"));
    c->name = xstrdup(name ? name : id);
    snprintf(c->image_id, sizeof(c->image_id), "%s", image ? image : "");
    c->path = xstrdup(path ? path : "");
    json_t *args = json_object_get(cj, "Args");
    size_t na = json_array_size(args);
    c->args = xcalloc(na + 1, sizeof(char *));
    for (size_t i = 0; i < na; i++) {
        const char *a = json_string_value(json_array_get(args, i));
        c->args[i] = xstrdup(a ? a : "");
    }
    c->created_ns = json_integer_value(json_object_get(cj, "Created"));
    int s = status_parse(json_string_value(json_object_get(sj, "Status")));
    c->status = s < 0 ? CTR_DEAD : (enum ctr_status)s;
    c->pid = (int)json_integer_value(json_object_get(sj, "Pid"));
    c->exit_code = (int)json_integer_value(json_object_get(sj, "ExitCode"));
    c->oom_killed = json_is_true(json_object_get(sj, "OOMKilled"));
    const char *error = json_string_value(json_object_get(sj, "Error"));
    c->error = error && error[0] ? xstrdup(error) : NULL;
    c->started_ns = json_integer_value(json_object_get(sj, "StartedAt"));
    c->finished_ns = json_integer_value(json_object_get(sj, "FinishedAt"));
    c->restart_count = json_integer_value(json_object_get(sj, "RestartCount"));
    c->manually_stopped = json_is_true(json_object_get(sj, "ManuallyStopped"));
    c->has_been_started = json_is_true(json_object_get(sj, "HasBeenStarted"));
    return c;
}

static bool is_id(const char *s)
{
    if (strlen(s) != DIGEST_HEX_LEN)
        return false;
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    }
    return true;
}

static int load_all(struct ctr_store *st, struct err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", st->data_root);
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, ERR_SYSTEM, errno, "open %s", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 9 && strcmp(de->d_name + len - 9, ".removing") == 0) {
            /* an interrupted removal: finish it */
            _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
            struct err *e = NULL;
            if (fsu_rmtree(p, &e) < 0) {
                log_warn("finishing removal: %s", e->msg);
                err_free(e);
            }
            continue;
        }
        if (!is_id(de->d_name))
            continue;
        struct ctr *c = load_one(st, de->d_name);
        if (!c) {
            log_warn("ignoring unreadable container %s", de->d_name);
            continue;
        }
        ctr_store_insert(st, c);
    }
    closedir(d);
    return 0;
}

static bool keeps_network(const char *ctr_id, void *data)
{
    const struct ctr_store *st = data;
    for (size_t i = 0; i < st->n; i++) {
        const struct ctr *c = st->ctrs[i];
        if (strcmp(c->id, ctr_id) == 0)
            return c->status == CTR_RUNNING || c->status == CTR_PAUSED ||
                   c->status == CTR_RESTARTING;
    }
    return false;
}

int ctr_store_open(uv_loop_t *loop, const struct ctr_store_config *cfg, struct ctr_store **out,
                   struct err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", cfg->data_root);
    if (fsu_mkdir_p(dir, 0710, err) < 0)
        return -1;
    struct ctr_store *st = xcalloc(1, sizeof(*st));
    st->loop = loop;
    st->data_root = xstrdup(cfg->data_root);
    st->exec_root = xstrdup(cfg->exec_root);
    st->shim_path = xstrdup(cfg->shim_path);
    st->live_restore = cfg->live_restore;
    st->images = cfg->images;
    st->net = cfg->net;
    st->events = cfg->events;
    st->volumes = cfg->volumes;
    if (load_all(st, err) < 0) {
        ctr_store_free(st);
        return -1;
    }
    /* Networks of containers that are not running (or gone) are released; running ones keep
     * theirs (a shim found dead later releases it through ctr_exited). */
    if (st->net)
        net_mgr_sweep(st->net, keeps_network, st);
    for (size_t i = 0; i < st->n; i++) {
        struct ctr *c = st->ctrs[i];
        if (c->status == CTR_RUNNING || c->status == CTR_PAUSED || c->status == CTR_RESTARTING)
            ctr_shim_attach(c); /* reconnect, or learn how it exited */
        else
            ctr_apply_restart_policy(c, true);
    }
    *out = st;
    return 0;
}

void ctr_store_free(struct ctr_store *st)
{
    if (!st)
        return;
    ctr_execs_drop(st, NULL);
    for (size_t i = 0; i < st->n; i++)
        ctr_free(st->ctrs[i]);
    free(st->ctrs);
    free(st->data_root);
    free(st->exec_root);
    free(st->shim_path);
    free(st);
}
