/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /system/df (docker system df): images, containers and volumes with what they take on
 * disk, the containers' and volumes' sizes measured on the threadpool. POST /build/prune
 * (docker system prune asks for it): berth has no build cache, so nothing is pruned.
 */
#include "daemon/handlers/handlers.h"

#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

struct df_job {
    uv_work_t work;
    struct httpd_req *req;
    json_t *body;         /* the answer, sizes filled in by du_after */
    char **paths;         /* the containers' upper dirs, then the volumes' directories */
    int64_t *sizes;       /* one per path */
    size_t nctr, n;       /* the first nctr paths are containers' */
    int64_t *image_sizes; /* SizeRootFs = SizeRw + the image's size, per container */
};

/* nftw has no argument for its callback: the sum is per thread. */
static _Thread_local int64_t du_total;

static int du_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode))
        du_total += st->st_size;
    return 0;
}

/* Apparent bytes of the regular files below path, as docker counts them; nothing followed,
 * no other file system entered. */
static int64_t du(const char *path)
{
    du_total = 0;
    (void)nftw(path, du_one, 16, FTW_PHYS | FTW_MOUNT);
    return du_total;
}

static void du_work(uv_work_t *w)
{
    struct df_job *j = w->data;
    for (size_t i = 0; i < j->n; i++)
        j->sizes[i] = du(j->paths[i]);
}

static void du_after(uv_work_t *w, int status)
{
    struct df_job *j = w->data;
    (void)status;
    json_t *ctrs = json_object_get(j->body, "Containers");
    json_t *vols = json_object_get(j->body, "Volumes");
    for (size_t i = 0; i < j->nctr; i++) {
        json_t *c = json_array_get(ctrs, i);
        json_object_set_new(c, "SizeRw", json_integer(j->sizes[i]));
        json_object_set_new(c, "SizeRootFs", json_integer(j->sizes[i] + j->image_sizes[i]));
    }
    for (size_t i = j->nctr; i < j->n; i++) {
        json_t *usage = json_object_get(json_array_get(vols, i - j->nctr), "UsageData");
        json_object_set_new(usage, "Size", json_integer(j->sizes[i]));
    }
    _cleanup_free_ char *text = json_dumps(j->body, JSON_COMPACT);
    httpd_resp_send(j->req, 200, "application/json", text, strlen(text));
    json_decref(j->body);
    for (size_t i = 0; i < j->n; i++)
        free(j->paths[i]);
    free(j->paths);
    free(j->sizes);
    free(j->image_sizes);
    free(j);
}

/* Images with their container counts and shared sizes; LayersSize counts each layer once. */
static json_t *df_images(const struct handle_env *env, int version, int64_t *layers_size)
{
    size_t n = image_count(env->images);
    json_t *out = json_array();
    json_auto_t *seen = json_object(); /* chain id -> images using it */
    for (size_t i = 0; i < n; i++) {
        const struct image *img = image_at(env->images, i);
        for (size_t l = 0; l < img->nlayers; l++) {
            json_t *c = json_object_get(seen, img->chain_ids[l]);
            json_object_set_new(seen, img->chain_ids[l],
                                json_integer(c ? json_integer_value(c) + 1 : 1));
        }
    }
    *layers_size = 0;
    const char *chain;
    json_t *count;
    json_object_foreach(seen, chain, count)
    {
        (void)count;
        *layers_size += image_layer_size(env->images, chain);
    }
    for (size_t i = 0; i < n; i++) {
        const struct image *img = image_at(env->images, i);
        int64_t shared = 0, users = 0;
        for (size_t l = 0; l < img->nlayers; l++) {
            if (json_integer_value(json_object_get(seen, img->chain_ids[l])) > 1)
                shared += image_layer_size(env->images, img->chain_ids[l]);
        }
        for (size_t k = 0; k < ctr_count(env->ctrs); k++)
            users += strcmp(ctr_at(env->ctrs, k)->image_id, img->id) == 0;
        char **tags = image_repo_tags(env->images, img);
        char **digests = image_repo_digests(env->images, img);
        json_array_append_new(out,
                              handle_image_summary(img, tags, digests, shared, users, version));
        api_strv_free(tags);
        api_strv_free(digests);
    }
    return out;
}

static void handle_system_df(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct df_job *j = xcalloc(1, sizeof(*j));
    int64_t layers = 0;
    json_t *images = df_images(env, rr->version, &layers);
    json_t *ctrs = json_array(), *vols = json_array();
    size_t nc = ctr_count(env->ctrs), nv = env->volumes ? vol_count(env->volumes) : 0;
    j->paths = xcalloc(nc + nv + 1, sizeof(char *));
    j->sizes = xcalloc(nc + nv + 1, sizeof(int64_t));
    j->image_sizes = xcalloc(nc + 1, sizeof(int64_t));
    for (size_t i = 0; i < nc; i++) {
        const struct ctr *c = ctr_at(env->ctrs, i);
        struct ctr_view view = {0};
        struct api_container_summary s;
        ctr_summary(c, &s, &view);
        json_array_append_new(ctrs, api_container_summary_encode(&s));
        ctr_view_release(&view);
        const struct image *img = image_lookup(env->images, c->image_id, NULL);
        j->image_sizes[j->nctr] = img ? img->size : 0;
        j->paths[j->nctr++] = ctr_path(c, "rootfs/upper");
    }
    j->n = j->nctr;
    for (size_t i = 0; i < nv; i++) {
        const struct vol *v = vol_at(env->volumes, i);
        _cleanup_free_ char *users = ctr_volume_users(env->ctrs, v->name);
        size_t refs = 0;
        for (const char *p = users; p && *p; p = strchr(p, ','), p = p ? p + 1 : NULL)
            refs++;
        json_t *e = vol_encode(env->volumes, v);
        json_object_set_new(
            e, "UsageData",
            json_pack("{s:I, s:I}", "Size", (json_int_t)-1, "RefCount", (json_int_t)refs));
        json_array_append_new(vols, e);
        j->paths[j->n++] = vol_data_path(env->volumes, v->name);
    }
    j->body = json_pack("{s:I, s:o, s:o, s:o, s:[]}", "LayersSize", (json_int_t)layers, "Images",
                        images, "Containers", ctrs, "Volumes", vols, "BuildCache");
    j->req = route_detach(rr);
    j->work.data = j;
    uv_queue_work(env->loop, &j->work, du_work, du_after);
}

static void handle_build_prune(struct route_req *rr)
{
    route_reply_json(rr, 200, json_pack("{s:n, s:i}", "CachesDeleted", "SpaceReclaimed", 0));
}

const struct route handle_df_routes[] = {
    {.method = "GET", .pattern = "/system/df", .fn = handle_system_df},
    {.method = "POST", .pattern = "/build/prune", .fn = handle_build_prune},
    {.method = NULL},
};
