/* SPDX-License-Identifier: Apache-2.0 */
/* Volumes of the local driver (volume.h). */
#include "daemon/volume/volume.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#define VOL_META     "volume.json"
#define VOL_META_MAX (1024 * 1024)

struct vol_store {
    uv_loop_t *loop;
    char *root; /* <data_root>/volumes */
    struct vol **v;
    size_t n, cap;
};

static void vol_free(struct vol *v)
{
    if (!v)
        return;
    free(v->name);
    free(v->created);
    json_decref(v->labels);
    json_decref(v->options);
    free(v);
}

static void store_push(struct vol_store *st, struct vol *v)
{
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 16;
        st->v = xrealloc(st->v, st->cap * sizeof(*st->v));
    }
    st->v[st->n++] = v;
}

bool vol_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 2 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
    }
    return true;
}

static char *now_rfc3339(void)
{
    time_t t = time(NULL);
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(buf);
}

/* A volume found on disk: its volume.json when readable, else what the directory tells. */
static struct vol *vol_load(const char *root, const char *name)
{
    _cleanup_free_ char *meta = xasprintf("%s/%s/" VOL_META, root, name);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct vol *v = xcalloc(1, sizeof(*v));
    v->name = xstrdup(name);
    json_auto_t *j = NULL;
    if (fsu_read_file(meta, VOL_META_MAX, &text, &len) == 0)
        j = json_loadb(text, len, 0, NULL);
    const char *created = json_string_value(json_object_get(j, "CreatedAt"));
    json_t *labels = json_object_get(j, "Labels");
    json_t *options = json_object_get(j, "Options");
    v->created = created ? xstrdup(created) : now_rfc3339();
    v->labels = json_is_object(labels) ? json_incref(labels) : NULL;
    v->options = json_is_object(options) ? json_incref(options) : NULL;
    v->anonymous = json_is_true(json_object_get(j, "Anonymous"));
    return v;
}

int vol_store_open(uv_loop_t *loop, const char *data_root, struct vol_store **out, struct err **err)
{
    struct vol_store *st = xcalloc(1, sizeof(*st));
    st->loop = loop;
    st->root = xasprintf("%s/volumes", data_root);
    if (fsu_mkdir_p(st->root, 0701, err) < 0) {
        vol_store_free(st);
        return -1;
    }
    DIR *d = opendir(st->root);
    if (!d) {
        err_set(err, ERR_SYSTEM, errno, "open %s", st->root);
        vol_store_free(st);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !vol_name_valid(de->d_name))
            continue;
        _cleanup_free_ char *data = xasprintf("%s/%s/_data", st->root, de->d_name);
        struct stat sb;
        if (stat(data, &sb) < 0 || !S_ISDIR(sb.st_mode))
            continue; /* half made: its creation never finished */
        store_push(st, vol_load(st->root, de->d_name));
    }
    closedir(d);
    *out = st;
    return 0;
}

void vol_store_free(struct vol_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        vol_free(st->v[i]);
    free(st->v);
    free(st->root);
    free(st);
}

size_t vol_count(const struct vol_store *st)
{
    return st->n;
}

struct vol *vol_at(const struct vol_store *st, size_t i)
{
    return i < st->n ? st->v[i] : NULL;
}

struct vol *vol_find(const struct vol_store *st, const char *name)
{
    for (size_t i = 0; name && i < st->n; i++) {
        if (strcmp(st->v[i]->name, name) == 0)
            return st->v[i];
    }
    return NULL;
}

char *vol_data_path(const struct vol_store *st, const char *name)
{
    return xasprintf("%s/%s/_data", st->root, name);
}

struct vol *vol_add(struct vol_store *st, const char *name, const json_t *labels,
                    const json_t *options, bool anonymous, struct err **err)
{
    char hex[65];
    if (!name || !*name) {
        unsigned char b[32];
        if (getrandom(b, sizeof(b), 0) != sizeof(b))
            abort();
        for (size_t i = 0; i < sizeof(b); i++)
            snprintf(hex + 2 * i, 3, "%02x", b[i]);
        name = hex;
    } else if (!vol_name_valid(name)) {
        return err_set(err, ERR_INVALID, 0,
                       "create %s: \"%s\" includes invalid characters for a local volume name, "
                       "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass "
                       "a host directory, use absolute path",
                       name, name),
               NULL;
    }
    if (vol_find(st, name))
        return err_set(err, ERR_CONFLICT, 0, "volume %s already exists", name), NULL;
    struct vol *v = xcalloc(1, sizeof(*v));
    v->name = xstrdup(name);
    v->created = now_rfc3339();
    v->labels = json_is_object(labels) ? json_deep_copy(labels) : NULL;
    v->options = json_is_object(options) ? json_deep_copy(options) : NULL;
    v->anonymous = anonymous;
    if (anonymous) {
        /* as docker 23+: what prune takes without --all */
        if (!v->labels)
            v->labels = json_object();
        json_object_set_new(v->labels, "com.docker.volume.anonymous", json_string(""));
    }
    store_push(st, v);
    return v;
}

void vol_materialize_args(const struct vol_store *st, const struct vol *v, char **data_path,
                          char **meta_json)
{
    *data_path = vol_data_path(st, v->name);
    json_auto_t *j =
        json_pack("{s:s, s:s, s:O?, s:O?, s:b}", "Name", v->name, "CreatedAt", v->created, "Labels",
                  v->labels, "Options", v->options, "Anonymous", v->anonymous);
    *meta_json = json_dumps(j, JSON_COMPACT);
}

int vol_materialize(const char *data_path, const char *meta_json, struct err **err)
{
    _cleanup_free_ char *dir = xstrdup(data_path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return err_set(err, ERR_INTERNAL, 0, "volume path %s", data_path);
    *slash = '\0';
    if (mkdir(dir, 0701) < 0 && errno != EEXIST)
        return err_set(err, ERR_SYSTEM, errno, "create %s", dir);
    if (mkdir(data_path, 0755) < 0 && errno != EEXIST)
        return err_set(err, ERR_SYSTEM, errno, "create %s", data_path);
    _cleanup_free_ char *meta = xasprintf("%s/" VOL_META, dir);
    return fsu_write_atomic(meta, meta_json, strlen(meta_json), 0600, err);
}

/* ---- on the threadpool ------------------------------------------------------------------ */

struct vol_job {
    uv_work_t work;
    char **paths; /* create: [data path]; remove: the volumes' directories */
    size_t n;
    char *meta;
    bool create;
    struct err *err;
    vol_done_cb done;
    void *data;
};

static void job_work(uv_work_t *w)
{
    struct vol_job *j = w->data;
    if (j->create) {
        (void)vol_materialize(j->paths[0], j->meta, &j->err);
        return;
    }
    for (size_t i = 0; i < j->n; i++) {
        struct err *e = NULL;
        if (fsu_rmtree(j->paths[i], &e) < 0 && !j->err)
            j->err = e;
        else
            err_free(e);
    }
}

static void job_after(uv_work_t *w, int status)
{
    struct vol_job *j = w->data;
    if (status < 0 && !j->err)
        err_set(&j->err, ERR_SYSTEM, -status, "volume work");
    if (j->done)
        j->done(j->err, j->data);
    else if (j->err)
        log_warn("volumes: %s", j->err->msg);
    for (size_t i = 0; i < j->n; i++)
        free(j->paths[i]);
    free(j->paths);
    free(j->meta);
    err_free(j->err);
    free(j);
}

void vol_create(struct vol_store *st, const struct vol *v, vol_done_cb done, void *data)
{
    struct vol_job *j = xcalloc(1, sizeof(*j));
    j->paths = xcalloc(1, sizeof(char *));
    j->n = 1;
    j->create = true;
    vol_materialize_args(st, v, &j->paths[0], &j->meta);
    j->done = done;
    j->data = data;
    j->work.data = j;
    uv_queue_work(st->loop, &j->work, job_work, job_after);
}

void vol_remove(struct vol_store *st, struct vol *const *vs, size_t n, vol_done_cb done, void *data)
{
    struct vol_job *j = xcalloc(1, sizeof(*j));
    j->paths = xcalloc(n + 1, sizeof(char *));
    for (size_t k = 0; k < n; k++) {
        j->paths[j->n++] = xasprintf("%s/%s", st->root, vs[k]->name);
        for (size_t i = 0; i < st->n; i++) {
            if (st->v[i] == vs[k]) {
                memmove(&st->v[i], &st->v[i + 1], (st->n - i - 1) * sizeof(*st->v));
                st->n--;
                break;
            }
        }
        vol_free(vs[k]);
    }
    j->done = done;
    j->data = data;
    j->work.data = j;
    uv_queue_work(st->loop, &j->work, job_work, job_after);
}

json_t *vol_encode(const struct vol_store *st, const struct vol *v)
{
    _cleanup_free_ char *mp = vol_data_path(st, v->name);
    return json_pack("{s:s, s:s, s:O?, s:s, s:s, s:O?, s:s}", "CreatedAt", v->created, "Driver",
                     "local", "Labels", v->labels, "Mountpoint", mp, "Name", v->name, "Options",
                     v->options, "Scope", "local");
}
