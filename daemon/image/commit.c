/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker commit: a container's upper dir becomes one more layer on its image. The threadpool
 * copies the upper dir into a scratch directory under tmp/ as the layer's tar would unpack
 * (whiteouts and opaque dirs as ".wh." entries on the way; layer_pack_unpack: packed and
 * unpacked at once, hashed on the way for the diff-id, no tar stored), syncs it and renames it
 * to layers/<chain> (image_layer_commit_dir), so the image's own layers are shared, never
 * copied; then the config is written. docker save packs the layer's tree again (checked
 * against the diff-id). The loop thread publishes the layer and the image only after all of
 * that is on disk, and the tag last.
 */
#include "daemon/image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/layer/layer.h"

/* The diff-id of a tar with no entries (1024 zero bytes), as dockerd's layer.EmptyLayer. */
#define EMPTY_LAYER "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

struct image_commit {
    struct image_store *st;
    uv_work_t work;
    image_commit_cb done;
    void *data;
    /* inputs, owned, read by the job */
    char *root;
    char *upper;
    char **skip;
    char parent_chain[DIGEST_STR_LEN + 1]; /* "" when the parent has no layers */
    char **have_chains;                    /* the store's layers when the job started */
    size_t nhave;
    json_t *image; /* the new config without rootfs and history's last entry yet */
    char *repo, *tag;
    /* results */
    struct layer_rec *layer; /* committed by the job, for the loop to add */
    char *config;            /* the exact bytes; their sha256 is the id */
    size_t config_len;
    char id[DIGEST_STR_LEN + 1];
    struct err *err;
};

static void strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

void image_commit_free(struct image_commit *c)
{
    if (!c)
        return;
    free(c->root);
    free(c->upper);
    strv_free(c->skip);
    for (size_t i = 0; i < c->nhave; i++)
        free(c->have_chains[i]);
    free(c->have_chains);
    json_decref(c->image);
    free(c->repo);
    free(c->tag);
    free(c->layer);
    free(c->config);
    err_free(c->err);
    free(c);
}

/* ---- the new config (loop) --------------------------------------------------------------- */

static bool env_has_key(const json_t *env, const char *kv)
{
    size_t klen = strcspn(kv, "="), i;
    json_t *v;
    json_array_foreach(env, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strncmp(s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == '\0'))
            return true;
    }
    return false;
}

static bool empty_value(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)) ||
           (json_is_array(v) && !json_array_size(v)) || (json_is_object(v) && !json_object_size(v));
}

/* dockerd's merge(): what the new Config leaves unset comes from the container's. */
static void config_merge(json_t *cfg, const json_t *ctr)
{
    static const char *const plain[] = {"User", "WorkingDir", "StopSignal", "Healthcheck"};
    for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
        json_t *v = json_object_get(ctr, plain[i]);
        if (empty_value(json_object_get(cfg, plain[i])) && v)
            json_object_set_new(cfg, plain[i], json_deep_copy(v));
    }
    static const char *const maps[] = {"ExposedPorts", "Labels", "Volumes"};
    for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
        json_t *from = json_object_get(ctr, maps[i]);
        if (!json_is_object(from))
            continue;
        json_t *to = json_object_get(cfg, maps[i]);
        if (!json_is_object(to)) {
            to = json_object();
            json_object_set_new(cfg, maps[i], to);
        }
        const char *k;
        json_t *v;
        json_object_foreach(from, k, v)
        {
            if (!json_object_get(to, k))
                json_object_set_new(to, k, json_deep_copy(v));
        }
    }
    json_t *env = json_object_get(cfg, "Env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(cfg, "Env", env);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ctr, "Env"), i, v)
    {
        if (json_is_string(v) && !env_has_key(env, json_string_value(v)))
            json_array_append_new(env, json_deep_copy(v));
    }
    if (empty_value(json_object_get(cfg, "Entrypoint"))) {
        if (empty_value(json_object_get(cfg, "Cmd")) && json_object_get(ctr, "Cmd"))
            json_object_set_new(cfg, "Cmd", json_deep_copy(json_object_get(ctr, "Cmd")));
        if (!json_object_get(cfg, "Entrypoint") && json_object_get(ctr, "Entrypoint"))
            json_object_set_new(cfg, "Entrypoint",
                                json_deep_copy(json_object_get(ctr, "Entrypoint")));
    }
}

/* The container's Cmd joined by spaces: dockerd's created_by for a commit. */
static char *created_by(const json_t *ctr_config)
{
    struct sb sb = SB_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ctr_config, "Cmd"), i, v)
    {
        if (i)
            sb_addc(&sb, ' ');
        sb_adds(&sb, json_string_value(v) ? json_string_value(v) : "");
    }
    return sb_steal(&sb);
}

static void set_str(json_t *o, const char *key, const char *s)
{
    if (s && s[0])
        json_object_set_new(o, key, json_string(s));
}

/* The image config as NewChildImage makes it, less the new layer (added by the job). */
static json_t *image_json(const struct image *parent, const struct image_commit_opts *o,
                          json_t *config)
{
    const json_t *pc = parent ? parent->config : NULL;
    struct timespec now;
    char created[40];
    clock_gettime(CLOCK_REALTIME, &now);
    time_rfc3339nano(&now, created);
    const char *arch = json_string_value(json_object_get(pc, "architecture"));
    const char *os = json_string_value(json_object_get(pc, "os"));
    json_t *img =
        json_pack("{s:s, s:o, s:s, s:o, s:s, s:s, s:s}", "architecture", arch ? arch : "amd64",
                  "config", config, "container", o->container_id ? o->container_id : "",
                  "container_config", json_deep_copy(o->container_config), "created", created,
                  "docker_version", BERTH_VERSION, "os", os ? os : "linux");
    static const char *const kept[] = {"variant", "os.version", "os.features"};
    for (size_t i = 0; pc && i < ARRAY_SIZE(kept); i++) {
        json_t *v = json_object_get(pc, kept[i]);
        if (v)
            json_object_set_new(img, kept[i], json_deep_copy(v));
    }
    set_str(img, "author", o->author);
    set_str(img, "comment", o->comment); /* docker inspect's Comment */
    set_str(img, "parent", parent ? parent->id : NULL);
    json_t *hist = json_deep_copy(json_object_get(pc, "history"));
    if (!json_is_array(hist)) {
        json_decref(hist);
        hist = json_array();
    }
    _cleanup_free_ char *by = created_by(o->container_config);
    json_t *h = json_pack("{s:s}", "created", created);
    set_str(h, "author", o->author);
    set_str(h, "created_by", by);
    set_str(h, "comment", o->comment);
    json_array_append_new(hist, h);
    json_object_set_new(img, "history", hist);
    json_t *diffs = json_array();
    for (size_t i = 0; parent && i < parent->nlayers; i++)
        json_array_append_new(diffs, json_string(parent->diff_ids[i]));
    json_object_set_new(img, "rootfs",
                        json_pack("{s:s, s:o}", "type", "layers", "diff_ids", diffs));
    return img;
}

/* repo (a full or familiar name, no digest) and tag, normalised and checked. */
static int check_ref(const char *repo, const char *tag, struct err **err)
{
    if (tag && tag[0] && !reg_tag_valid(tag))
        return err_set(err, ERR_INVALID, 0, "invalid tag format");
    _cleanup_free_ char *s = xasprintf("%s:%s", repo, tag && tag[0] ? tag : "latest");
    struct reg_ref ref;
    if (reg_ref_parse(s, true, &ref, err) < 0)
        return -1;
    bool digest = ref.digest != NULL;
    reg_ref_release(&ref);
    if (digest)
        return err_set(err, ERR_INVALID, 0, "cannot commit to a digest reference");
    return 0;
}

int image_commit_prepare(struct image_store *st, const struct image_commit_opts *o,
                         struct image_commit **out, struct err **err)
{
    const struct image *parent = NULL;
    if (o->parent_id && o->parent_id[0] && !(parent = image_lookup(st, o->parent_id, err)))
        return -1;
    if (o->repo && o->repo[0] && check_ref(o->repo, o->tag, err) < 0)
        return -1;
    json_t *config = o->user_config && json_is_object(o->user_config)
                         ? json_deep_copy(o->user_config)
                         : json_deep_copy(o->container_config);
    if (!config)
        config = json_object();
    if (image_config_apply_changes(config, o->changes, err) < 0) {
        json_decref(config);
        return -1;
    }
    config_merge(config, o->container_config);
    struct image_commit *c = xcalloc(1, sizeof(*c));
    c->st = st;
    c->root = xstrdup(st->root);
    c->upper = xstrdup(o->upper_dir);
    size_t n = 0;
    while (o->skip && o->skip[n])
        n++;
    c->skip = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        c->skip[i] = xstrdup(o->skip[i]);
    if (parent && parent->nlayers)
        snprintf(c->parent_chain, sizeof(c->parent_chain), "%s",
                 parent->chain_ids[parent->nlayers - 1]);
    c->image = image_json(parent, o, config);
    c->repo = o->repo && o->repo[0] ? xstrdup(o->repo) : NULL;
    c->tag = c->repo && o->tag ? xstrdup(o->tag) : NULL;
    *out = c;
    return 0;
}

/* ---- the job (threadpool) ---------------------------------------------------------------- */

/* Removes a scratch directory; what cannot be removed goes with tmp/ at the next start. */
static void commit_remove(const char *dir)
{
    struct err *ignored = NULL;
    (void)fsu_rmtree(dir, &ignored);
    err_free(ignored);
}

static bool have_chain(const struct image_commit *c, const char *chain)
{
    for (size_t i = 0; i < c->nhave; i++) {
        if (strcmp(c->have_chains[i], chain) == 0)
            return true;
    }
    return false;
}

/*
 * Copies the upper dir into tmp/commit-XXXXXX/diff as the layer its tar makes (whiteouts and
 * opaque dirs as an unpacked layer has them), packing and unpacking at once through a pipe:
 * the layer's files are written once and no tar is stored. *dir gets the scratch directory.
 */
static int commit_copy(struct image_commit *c, char **dir, struct layer_unpack_result *r,
                       struct err **err)
{
    _cleanup_free_ char *tmpdir = xasprintf("%s/tmp/commit-XXXXXX", c->root);
    if (!mkdtemp(tmpdir))
        return err_set(err, ERR_SYSTEM, errno, "create %s", tmpdir);
    _cleanup_free_ char *diff = xasprintf("%s/diff", tmpdir);
    _cleanup_close_ int top = open(c->upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int dfd = -1;
    struct layer_pack_opts opts = {.diff = true};
    int rc = 0;
    if (top < 0)
        rc = err_set(err, errno == ENOENT ? ERR_CONFLICT : ERR_SYSTEM, errno,
                     "the container's filesystem %s", c->upper);
    else if (mkdir(diff, 0755) < 0 ||
             (dfd = open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        rc = err_set(err, ERR_SYSTEM, errno, "create %s", diff);
    else
        rc = layer_pack_unpack(top, &opts, (const char *const *)c->skip, dfd, r, err);
    if (rc < 0) {
        commit_remove(tmpdir);
        return -1;
    }
    *dir = steal_ptr(&tmpdir);
    return 0;
}

/* Makes the copied tree the layer <parent chain> + diff (unless the store has it already). */
static int commit_layer(struct image_commit *c, const char *dir, const char *diff, int64_t size,
                        struct err **err)
{
    char chain[DIGEST_STR_LEN + 1];
    image_chain_id(c->parent_chain, diff, chain);
    if (have_chain(c, chain)) {
        commit_remove(dir); /* the same change committed before: same bytes, same layer */
        return 0;
    }
    struct image_layer_spec spec = {
        .chain = chain,
        .parent = c->parent_chain,
        .diff = diff,
        .blob = "", /* none stored: docker save packs layers/<chain>/diff again */
    };
    if (image_layer_commit_dir(c->root, &spec, dir, size, &c->layer, err) < 0) {
        commit_remove(dir);
        return -1;
    }
    return 0;
}

static int commit_config(struct image_commit *c, const char *diff, struct err **err)
{
    json_t *hist = json_object_get(c->image, "history");
    json_t *last = json_array_get(hist, json_array_size(hist) - 1);
    if (strcmp(diff, EMPTY_LAYER) == 0)
        json_object_set_new(last, "empty_layer", json_true());
    else
        json_array_append_new(json_object_get(json_object_get(c->image, "rootfs"), "diff_ids"),
                              json_string(diff));
    c->config = json_dumps(c->image, JSON_COMPACT | JSON_SORT_KEYS);
    c->config_len = strlen(c->config);
    digest_buf(c->config, c->config_len, c->id);
    _cleanup_free_ char *path = xasprintf("%s/images/%s.json", c->root, digest_hex(c->id));
    return fsu_write_atomic(path, c->config, c->config_len, 0600, err);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void commit_work(uv_work_t *w)
{
    struct image_commit *c = w->data;
    struct layer_unpack_result r = {0};
    _cleanup_free_ char *dir = NULL;
    double t0 = now_ms();
    if (commit_copy(c, &dir, &r, &c->err) < 0) {
        err_wrap(&c->err, "commit");
        return;
    }
    double t1 = now_ms();
    if (strcmp(r.diff_id, EMPTY_LAYER) == 0)
        commit_remove(dir);
    else if (commit_layer(c, dir, r.diff_id, r.size, &c->err) < 0)
        return;
    double t2 = now_ms();
    (void)commit_config(c, r.diff_id, &c->err);
    /* pack: the upper dir copied into the layer-to-be; layer: layer.json, sync, rename */
    log_debug("commit %.12s: pack %.0f ms, layer %.0f ms, config %.0f ms", digest_hex(r.diff_id),
              t1 - t0, t2 - t1, now_ms() - t2);
}

/* ---- publishing (loop) ------------------------------------------------------------------- */

static void commit_finish(struct image_commit *c)
{
    if (c->err && c->err->kind != ERR_INVALID && c->err->kind != ERR_NOT_FOUND)
        log_error("commit: %s", c->err->msg);
    c->done(c->err, c->err ? NULL : c->id, c->data);
    image_commit_free(c);
}

static void commit_tagged(const struct err *err, void *data)
{
    struct image_commit *c = data;
    if (err)
        err_set(&c->err, err->kind, err->errnum, "%s", err->msg);
    commit_finish(c);
}

static void commit_after(uv_work_t *w, int status)
{
    struct image_commit *c = w->data;
    struct image_store *st = c->st;
    if (status < 0 && !c->err)
        err_set(&c->err, ERR_SYSTEM, -status, "commit");
    if (c->err) {
        commit_finish(c);
        return;
    }
    if (c->layer && !image_layer_find(st, c->layer->chain_id))
        image_store_add_layer(st, steal_ptr(&c->layer));
    struct image *img = NULL;
    if (image_from_config(c->config, c->config_len, &img, &c->err) < 0) {
        commit_finish(c);
        return;
    }
    for (size_t i = 0; i < img->nlayers; i++) {
        if (!image_layer_find(st, img->chain_ids[i])) {
            err_set(&c->err, ERR_CONFLICT, 0, "layer %s was removed during the commit",
                    img->chain_ids[i]);
            image_free(img);
            commit_finish(c);
            return;
        }
    }
    if (!image_find_id(st, img->id))
        image_store_add(st, img);
    else
        image_free(img);
    const struct image *added = image_find_id(st, c->id);
    if (c->repo && image_tag(st, added, c->repo, c->tag, commit_tagged, c, &c->err) == 0)
        return;
    commit_finish(c);
}

void image_commit_start(struct image_commit *c, image_commit_cb done, void *data)
{
    struct image_store *st = c->st;
    c->done = done;
    c->data = data;
    c->have_chains = xcalloc(st->nlayers + 1, sizeof(char *));
    for (size_t i = 0; i < st->nlayers; i++)
        c->have_chains[c->nhave++] = xstrdup(st->layers[i]->chain_id);
    c->work.data = c;
    uv_queue_work(st->loop, &c->work, commit_work, commit_after);
}
