/* SPDX-License-Identifier: Apache-2.0 */
/* POST /containers/create: name, image, merged config, files on disk. */
#include "daemon/container/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

static bool name_valid(const char *name)
{
    const char *p = name[0] == '/' ? name + 1 : name;
    size_t len = strlen(p);
    if (len < 2 || len > 255)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || !strchr("_.-", ch)))
            return false;
    }
    return true;
}

/* docker-style generated names: adjective_noun. */
static char *generate_name(const struct ctr_store *st)
{
    static const char *const adj[] = {"admiring", "brave",   "clever",   "dazzling", "eager",
                                      "festive",  "gallant", "happy",    "jolly",    "keen",
                                      "lucid",    "modest",  "nifty",    "quirky",   "serene",
                                      "tender",   "upbeat",  "vigilant", "wizardly", "zealous"};
    static const char *const noun[] = {"babbage",  "curie",   "darwin",  "euler",   "fermi",
                                       "galileo",  "hopper",  "joliot",  "kepler",  "lovelace",
                                       "meitner",  "noether", "pasteur", "ritchie", "shannon",
                                       "thompson", "turing",  "volta",   "wozniak", "yalow"};
    for (int attempt = 0; attempt < 64; attempt++) {
        unsigned int r[3] = {0};
        if (getrandom(r, sizeof(r), 0) != sizeof(r))
            r[0] = (unsigned int)ctr_now_ns();
        char *n = attempt < 8 ? xasprintf("%s_%s", adj[r[0] % ARRAY_SIZE(adj)],
                                          noun[r[1] % ARRAY_SIZE(noun)])
                              : xasprintf("%s_%s%u", adj[r[0] % ARRAY_SIZE(adj)],
                                          noun[r[1] % ARRAY_SIZE(noun)], r[2] % 100);
        if (!ctr_find_name(st, n))
            return n;
        free(n);
    }
    return NULL;
}

static void new_id(char out[DIGEST_HEX_LEN + 1])
{
    unsigned char b[32];
    if (getrandom(b, sizeof(b), 0) != sizeof(b))
        abort();
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static char **strv_from_json(const json_t *a)
{
    if (!json_is_array(a))
        return NULL;
    size_t n = json_array_size(a);
    char **v = xcalloc(n + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s)
            v[k++] = xstrdup(s);
    }
    return v;
}

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* Image Env first, then the container's, a later KEY replacing an earlier one. */
static char **merge_env(char **image_env, char **ctr_env)
{
    size_t n = strv_len(image_env) + strv_len(ctr_env);
    char **out = xcalloc(n + 1, sizeof(char *));
    size_t k = 0;
    char **lists[] = {image_env, ctr_env};
    for (size_t l = 0; l < 2; l++) {
        for (char **e = lists[l]; e && *e; e++) {
            size_t klen = strcspn(*e, "=");
            size_t j = 0;
            for (; j < k; j++) {
                if (strncmp(out[j], *e, klen) == 0 && (out[j][klen] == '=' || !out[j][klen]))
                    break;
            }
            if (j < k) {
                free(out[j]);
                out[j] = xstrdup(*e);
            } else {
                out[k++] = xstrdup(*e);
            }
        }
    }
    return out;
}

/* Fills unset fields of cfg from the image config, as docker does at create. */
static void merge_image_config(struct api_container_config *cfg, const json_t *icfg)
{
    _cleanup_(api_strv_freep) char **ienv = strv_from_json(json_object_get(icfg, "Env"));
    char **env = merge_env(ienv, cfg->env);
    bool has_path = false;
    for (char **e = env; *e; e++)
        has_path |= strncmp(*e, "PATH=", 5) == 0;
    if (!has_path) {
        size_t n = strv_len(env);
        env = xrealloc(env, (n + 2) * sizeof(char *));
        env[n] = xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env[n + 1] = NULL;
    }
    api_strv_free(cfg->env);
    cfg->env = env;
    /* An entrypoint given at create (even empty) replaces the image's, and then the image's
     * Cmd is not used either. */
    if (!cfg->entrypoint) {
        cfg->entrypoint = strv_from_json(json_object_get(icfg, "Entrypoint"));
        if (!cfg->cmd)
            cfg->cmd = strv_from_json(json_object_get(icfg, "Cmd"));
    }
    const char *wd = json_string_value(json_object_get(icfg, "WorkingDir"));
    if ((!cfg->working_dir || !cfg->working_dir[0]) && wd) {
        free(cfg->working_dir);
        cfg->working_dir = xstrdup(wd);
    }
    const char *user = json_string_value(json_object_get(icfg, "User"));
    if ((!cfg->user || !cfg->user[0]) && user) {
        free(cfg->user);
        cfg->user = xstrdup(user);
    }
    const char *sig = json_string_value(json_object_get(icfg, "StopSignal"));
    if ((!cfg->stop_signal || !cfg->stop_signal[0]) && sig) {
        free(cfg->stop_signal);
        cfg->stop_signal = xstrdup(sig);
    }
    json_t *vols = json_object_get(icfg, "Volumes");
    if (json_is_object(vols)) { /* the image's VOLUME, as dockerd merges it */
        if (!cfg->volumes)
            cfg->volumes = json_object();
        json_object_update_missing(cfg->volumes, vols);
    }
    json_t *labels = json_object_get(icfg, "Labels");
    if (json_is_object(labels)) {
        if (!cfg->labels)
            cfg->labels = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
        {
            if (!json_object_get(cfg->labels, k))
                json_object_set(cfg->labels, k, v);
        }
    }
}

/* path and args: the first word of entrypoint+cmd and the rest. */
static int split_command(struct ctr *c, struct err **err)
{
    size_t ne = strv_len(c->cfg.entrypoint), nc = strv_len(c->cfg.cmd);
    if (ne + nc == 0)
        return err_set(err, ERR_INVALID, 0, "no command specified");
    char **all = xcalloc(ne + nc + 1, sizeof(char *));
    for (size_t i = 0; i < ne; i++)
        all[i] = c->cfg.entrypoint[i];
    for (size_t i = 0; i < nc; i++)
        all[ne + i] = c->cfg.cmd[i];
    c->path = xstrdup(all[0]);
    c->args = xcalloc(ne + nc, sizeof(char *));
    for (size_t i = 1; i < ne + nc; i++)
        c->args[i - 1] = xstrdup(all[i]);
    free(all);
    return 0;
}

/* ---- files (threadpool) ------------------------------------------------------------------ */

struct create_op {
    uv_work_t work;
    struct ctr *c;
    char *dir;
    char *config_text;
    char *state_text;
    char *hostname;
    /* the volumes this creation made: their directories (made first), names for a rollback */
    char **vol_paths, **vol_metas, **vol_names;
    size_t nvols;
    ctr_create_cb done;
    void *data;
    struct err *err;
};

/* Forgets (and removes the directories of) the volumes a failed creation made. */
static void volumes_rollback(struct ctr_store *st, char *const *names, size_t n)
{
    struct vol **vs = xcalloc(n + 1, sizeof(*vs));
    size_t k = 0;
    for (size_t i = 0; st->volumes && i < n; i++) {
        struct vol *v = vol_find(st->volumes, names[i]);
        _cleanup_free_ char *users = v ? ctr_volume_users(st, v->name) : NULL;
        if (v && !users)
            vs[k++] = v;
    }
    if (k)
        vol_remove(st->volumes, vs, k, NULL, NULL);
    free(vs);
}

/* Files of a directory that is renamed into place once complete: written directly. The
 * metadata is synced; the name files are rebuilt from it and need no sync of their own. */
static int write_file(const char *dir, const char *name, const char *text, mode_t mode, bool sync,
                      struct err **err)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
    return fsu_write_new(p, text, strlen(text), mode, sync, err);
}

/* After the rename: the new name reaches the disk (a failure is reported, not undone). */
static void sync_parent(struct create_op *op)
{
    _cleanup_free_ char *parent = xstrdup(op->dir);
    *strrchr(parent, '/') = '\0';
    struct err *err = NULL;
    if (fsu_sync_dir(parent, &err) < 0) {
        log_warn("%s", err->msg);
        err_free(err);
    }
}

static void create_work(uv_work_t *w)
{
    struct create_op *op = w->data;
    for (size_t i = 0; i < op->nvols; i++) {
        if (vol_materialize(op->vol_paths[i], op->vol_metas[i], &op->err) < 0)
            return;
    }
    _cleanup_free_ char *tmpdir = xasprintf("%s.creating", op->dir);
    _cleanup_free_ char *hostname = xasprintf("%s\n", op->hostname);
    static const char hosts[] =
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
        "ff02::2\tip6-allrouters\n";
    const char *sub[] = {"", "/rootfs", "/rootfs/upper", "/rootfs/work", "/rootfs/merged"};
    for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
        _cleanup_free_ char *p = xasprintf("%s%s", tmpdir, sub[i]);
        /* upper is the container's "/": it gets the mode a root directory has */
        if (mkdir(p, i == 0 ? 0710 : i == 2 ? 0755 : 0700) < 0) {
            err_set(&op->err, ERR_SYSTEM, errno, "create %s", p);
            goto fail;
        }
    }
    /* Only config.json is synced: the state of a new container is what the loader assumes when
     * state.json is unreadable (every later state is written atomically), and the name files
     * are rebuilt. config.json goes last, so its sync commits the other entries too and the
     * directory's sync finds little left to do. */
    if (write_file(tmpdir, "hostname", hostname, 0644, false, &op->err) < 0 ||
        write_file(tmpdir, "hosts", hosts, 0644, false, &op->err) < 0 ||
        write_file(tmpdir, "resolv.conf", "", 0644, false, &op->err) < 0 ||
        write_file(tmpdir, "state.json", op->state_text, 0600, false, &op->err) < 0 ||
        write_file(tmpdir, "config.json", op->config_text, 0600, true, &op->err) < 0 ||
        fsu_sync_dir(tmpdir, &op->err) < 0)
        goto fail;
    /* The container appears on disk whole, or not at all. */
    if (rename(tmpdir, op->dir) < 0) {
        err_set(&op->err, ERR_SYSTEM, errno, "create %s", op->dir);
        goto fail;
    }
    sync_parent(op);
    return;
fail:;
    struct err *ignored = NULL;
    (void)fsu_rmtree(tmpdir, &ignored);
    err_free(ignored);
}

static void create_after(uv_work_t *w, int status)
{
    struct create_op *op = w->data;
    struct ctr *c = op->c;
    if (status < 0 && !op->err)
        err_set(&op->err, ERR_SYSTEM, -status, "create container");
    c->starting = false;
    if (op->err) {
        ctr_store_drop(c->st, c);
        volumes_rollback(c->st, op->vol_names, op->nvols);
        op->done(op->err, NULL, op->data);
        ctr_free(c);
    } else {
        ctr_event(c, "create", NULL, NULL);
        op->done(NULL, c->id, op->data);
    }
    err_free(op->err);
    free(op->dir);
    free(op->config_text);
    free(op->state_text);
    free(op->hostname);
    for (size_t i = 0; i < op->nvols; i++) {
        free(op->vol_paths[i]);
        free(op->vol_metas[i]);
        free(op->vol_names[i]);
    }
    free(op->vol_paths);
    free(op->vol_metas);
    free(op->vol_names);
    free(op);
}

static void create_submit(struct ctr_store *st, struct ctr *c, struct vol **made, size_t nmade,
                          ctr_create_cb done, void *data)
{
    struct create_op *op = xcalloc(1, sizeof(*op));
    op->c = c;
    op->vol_paths = xcalloc(nmade + 1, sizeof(char *));
    op->vol_metas = xcalloc(nmade + 1, sizeof(char *));
    op->vol_names = xcalloc(nmade + 1, sizeof(char *));
    for (size_t i = 0; i < nmade; i++) {
        vol_materialize_args(st->volumes, made[i], &op->vol_paths[i], &op->vol_metas[i]);
        op->vol_names[i] = xstrdup(made[i]->name);
    }
    op->nvols = nmade;
    op->dir = xasprintf("%s/containers/%s", st->data_root, c->id);
    json_auto_t *cj = ctr_config_json(c);
    json_auto_t *sj = ctr_state_json(c);
    op->config_text = json_dumps(cj, JSON_COMPACT);
    op->state_text = json_dumps(sj, JSON_COMPACT);
    op->hostname = xstrdup(c->cfg.hostname);
    op->done = done;
    op->data = data;
    op->work.data = op;
    uv_queue_work(st->loop, &op->work, create_work, create_after);
}

void ctr_create(struct ctr_store *st, struct api_container_config *cfg, const char *name,
                ctr_create_cb done, void *data)
{
    struct err *err = NULL;
    _cleanup_free_ char *gen = NULL;
    if (name && name[0] && !name_valid(name)) {
        err_set(&err, ERR_INVALID, 0,
                "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
        goto fail;
    }
    if (name && name[0] == '/')
        name++;
    struct ctr *other = name && name[0] ? ctr_find_name(st, name) : NULL;
    if (other) {
        err_set(&err, ERR_CONFLICT, 0,
                "Conflict. The container name \"/%s\" is already in use by container \"%s\". "
                "You have to remove (or rename) that container to be able to reuse that name.",
                name, other->id);
        goto fail;
    }
    if (!cfg->image || !cfg->image[0]) {
        err_set(&err, ERR_INVALID, 0, "config cannot be empty in order to create a container");
        goto fail;
    }
    struct rt_mount *mounts = NULL;
    size_t nmounts = 0;
    if (ctr_user_mounts(NULL, &cfg->host, &mounts, &nmounts, &err) < 0)
        goto fail;
    ctr_user_mounts_free(mounts, nmounts);
    const char *sc = ctr_seccomp_opt(cfg->host.security_opt);
    if (sc && strcmp(sc, "unconfined") != 0 && strcmp(sc, "builtin") != 0) {
        /* the docker CLI sends a profile file's JSON here */
        err_set(&err, ERR_INVALID, 0,
                "custom seccomp profiles are not supported by berth yet: use the default "
                "profile or --security-opt seccomp=unconfined");
        goto fail;
    }
    if (net_ports_validate(cfg->host.port_bindings, &err) < 0)
        goto fail;
    if (st->net &&
        net_mode_check(st->net, cfg->host.network_mode,
                       json_object_get(cfg->networking_config, "EndpointsConfig"), &err) < 0)
        goto fail;
    const struct image *img = image_lookup(st->images, cfg->image, &err);
    if (!img)
        goto fail;
    if (!name || !name[0]) {
        gen = generate_name(st);
        name = gen;
    }
    struct ctr *c = xcalloc(1, sizeof(*c));
    new_id(c->id);
    c->name = xstrdup(name);
    c->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    snprintf(c->image_id, sizeof(c->image_id), "%s", img->id);
    merge_image_config(&c->cfg, json_object_get(img->config, "config"));
    json_t *iexp = json_object_get(json_object_get(img->config, "config"), "ExposedPorts");
    if (json_is_object(iexp)) { /* the image's EXPOSE, as dockerd merges it (for -P) */
        if (!c->cfg.exposed_ports)
            c->cfg.exposed_ports = json_object();
        json_object_update_missing(c->cfg.exposed_ports, iexp);
    }
    if (!c->cfg.host.log_type || !c->cfg.host.log_type[0]) {
        /* the daemon's default log driver, as inspect shows it (docker-py reads it) */
        free(c->cfg.host.log_type);
        c->cfg.host.log_type = xstrdup("json-file");
    }
    if (!c->cfg.hostname || !c->cfg.hostname[0]) {
        free(c->cfg.hostname);
        c->cfg.hostname = xstrndup(c->id, 12);
    }
    if (split_command(c, &err) < 0) {
        ctr_free(c);
        goto fail;
    }
    struct vol **made = NULL;
    size_t nmade = 0;
    if (ctr_volumes_prepare(st, c, &made, &nmade, &err) < 0) {
        char **names = xcalloc(nmade + 1, sizeof(char *));
        for (size_t i = 0; i < nmade; i++)
            names[i] = made[i]->name;
        volumes_rollback(st, names, nmade);
        free(names);
        free(made);
        ctr_free(c);
        goto fail;
    }
    c->created_ns = ctr_now_ns();
    c->status = CTR_CREATED;
    c->starting = true;      /* not startable until its files exist */
    ctr_store_insert(st, c); /* reserves the name at once */
    create_submit(st, c, made, nmade, done, data);
    free(made);
    return;
fail:
    done(err, NULL, data);
    err_free(err);
}
