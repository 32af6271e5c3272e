/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /containers/{id}/changes (docker diff) and POST /commit (docker commit). Both read the
 * container's overlay upper dir against its image's layers; the walk and the pack run on the
 * threadpool. Commit pauses a running container through the freezer (unless pause=0) and
 * resumes it before it answers, whatever happened.
 */
#include "daemon/handlers/handlers.h"

#include <string.h>

#include "daemon/layer/layer.h"

/*
 * What the runtime itself puts in a container's upper dir: mount points for /proc, /sys, /dev
 * and the files it binds over /etc/hostname, /etc/hosts and /etc/resolv.conf. dockerd keeps
 * these in an init layer, so they are never a container's change and never in a commit.
 */
static const char *const runtime_paths[] = {
    "proc", "sys", "dev", "etc/hostname", "etc/hosts", "etc/resolv.conf", NULL,
};

/* ---- GET /containers/{id}/changes -------------------------------------------------------- */

struct diff_job {
    uv_work_t work;
    struct httpd_req *req;
    char *upper;
    char **lowers;
    size_t nlowers;
    struct layer_change *changes;
    size_t n;
    struct err *err;
};

static void diff_work(uv_work_t *w)
{
    struct diff_job *j = w->data;
    (void)layer_changes(j->upper, (const char *const *)j->lowers, j->nlowers, runtime_paths,
                        &j->changes, &j->n, &j->err);
}

static void diff_after(uv_work_t *w, int status)
{
    struct diff_job *j = w->data;
    if (status < 0 && !j->err)
        err_set(&j->err, ERR_SYSTEM, -status, "diff");
    if (j->err) {
        log_error("diff: %s", j->err->msg);
        route_send_err(j->req, j->err);
    } else {
        json_auto_t *arr = json_array();
        for (size_t i = 0; i < j->n; i++)
            json_array_append_new(arr, json_pack("{s:s, s:i}", "Path", j->changes[i].path, "Kind",
                                                 (int)j->changes[i].kind));
        _cleanup_free_ char *s = json_dumps(arr, JSON_COMPACT);
        httpd_resp_send(j->req, 200, "application/json", s, strlen(s));
    }
    layer_changes_free(j->changes, j->n);
    for (size_t i = 0; i < j->nlowers; i++)
        free(j->lowers[i]);
    free(j->lowers);
    free(j->upper);
    err_free(j->err);
    free(j);
}

static void handle_changes(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    struct ctr *c = ctr_lookup(env->ctrs, rr->params[0], &err);
    const struct image *img = c ? image_lookup(env->images, c->image_id, &err) : NULL;
    if (!img) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    struct diff_job *j = xcalloc(1, sizeof(*j));
    j->upper = ctr_path(c, "rootfs/upper");
    j->nlowers = img->nlayers;
    j->lowers = xcalloc(img->nlayers + 1, sizeof(char *));
    for (size_t i = 0; i < img->nlayers; i++) /* the top layer first */
        j->lowers[i] = image_layer_dir(env->images, img->chain_ids[img->nlayers - 1 - i]);
    j->req = route_detach(rr);
    j->work.data = j;
    uv_queue_work(env->loop, &j->work, diff_work, diff_after);
}

/* ---- POST /commit ------------------------------------------------------------------------ */

struct commit_ctx {
    const struct handle_env *env;
    struct httpd_req *req;
    struct ctr *c; /* referenced */
    struct image_commit *commit;
    bool paused;  /* by this commit: resumed before the answer */
    char *tagged; /* repo[:tag] as docker names it, for the "image tag" event; NULL: none */
    struct err *err;
    char id[DIGEST_STR_LEN + 1];
};

static void commit_reply(struct commit_ctx *x)
{
    if (x->err) {
        route_send_err(x->req, x->err);
    } else {
        if (x->tagged) {
            const char *tattrs[] = {"name", x->tagged, NULL};
            events_emit(x->env->events, "image", "tag", x->id, tattrs);
        }
        const char *attrs[] = {"image", x->c->cfg.image, "imageID", x->id,
                               "name",  x->c->name,      NULL};
        events_emit(x->env->events, "container", "commit", x->c->id, attrs);
        json_auto_t *j = json_pack("{s:s}", "Id", x->id);
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
        httpd_resp_send(x->req, 201, "application/json", s, strlen(s));
    }
    ctr_unref(x->c);
    err_free(x->err);
    free(x->tagged);
    free(x);
}

static void commit_resumed(const struct err *err, void *data)
{
    struct commit_ctx *x = data;
    if (err) /* it may have exited meanwhile: the commit itself stands */
        log_warn("commit: resuming container %.12s: %s", x->c->id, err->msg);
    commit_reply(x);
}

static void commit_done(const struct err *err, const char *id, void *data)
{
    struct commit_ctx *x = data;
    if (err)
        err_set(&x->err, err->kind, err->errnum, "%s", err->msg);
    else
        snprintf(x->id, sizeof(x->id), "%s", id);
    if (x->paused && x->c->status == CTR_PAUSED) {
        ctr_pause(x->env->ctrs, x->c, false, commit_resumed, x);
        return;
    }
    commit_reply(x);
}

static void commit_paused(const struct err *err, void *data)
{
    struct commit_ctx *x = data;
    if (err) /* exited meanwhile, or no freezer: commit what is there, as dockerd does */
        log_warn("commit: pausing container %.12s: %s", x->c->id, err->msg);
    else
        x->paused = true;
    image_commit_start(steal_ptr(&x->commit), commit_done, x);
}

/* The request's Config to start from: none without a body (the CLI), else the body (docker-py). */
static int commit_body(struct route_req *rr, json_t **out, struct err **err)
{
    size_t len = 0;
    const char *raw = httpd_req_body(rr->http, &len);
    *out = NULL;
    if (!raw || len == 0)
        return 0;
    if (route_body_json(rr, true, out, err) < 0)
        return -1;
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return err_set(err, ERR_INVALID, 0, "the commit body must be a container config object");
    }
    return 0;
}

static int commit_prepare(struct route_req *rr, struct ctr *c, struct image_commit **out,
                          struct err **err)
{
    const struct handle_env *env = rr->ud;
    if (c->status == CTR_DEAD || c->status == CTR_REMOVING)
        return err_set(err, ERR_CONFLICT, 0, "You cannot commit container %s which is %s", c->id,
                       c->status == CTR_DEAD ? "Dead" : "being removed");
    json_auto_t *body = NULL;
    if (commit_body(rr, &body, err) < 0)
        return -1;
    json_auto_t *ctr_config = api_container_config_encode(&c->cfg);
    _cleanup_free_ char *upper = ctr_path(c, "rootfs/upper");
    struct image_commit_opts o = {
        .upper_dir = upper,
        .skip = runtime_paths,
        .parent_id = c->image_id,
        .container_id = c->id,
        .container_config = ctr_config,
        .user_config = body,
        .changes = route_query_all(rr, "changes"),
        .author = route_query(rr, "author"),
        .comment = route_query(rr, "comment"),
        .repo = route_query(rr, "repo"),
        .tag = route_query(rr, "tag"),
    };
    return image_commit_prepare(env->images, &o, out, err);
}

static void handle_commit(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    const char *name = route_query(rr, "container");
    struct ctr *c = ctr_lookup(env->ctrs, name ? name : "", &err);
    struct image_commit *commit = NULL;
    if (!c || commit_prepare(rr, c, &commit, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    bool pause = route_query_bool(rr, "pause", true);
    struct commit_ctx *x = xcalloc(1, sizeof(*x));
    x->env = env;
    x->c = c;
    ctr_ref(c);
    x->commit = commit;
    const char *repo = route_query(rr, "repo"), *tag = route_query(rr, "tag");
    if (repo && *repo) {
        _cleanup_free_ char *full =
            tag && *tag ? xasprintf("%s:%s", repo, tag) : xasprintf("%s:latest", repo);
        struct reg_ref ref;
        if (reg_ref_parse(full, true, &ref, NULL) == 0) {
            x->tagged = reg_ref_familiar(&ref);
            reg_ref_release(&ref);
        }
    }
    x->req = route_detach(rr);
    if (pause && c->status == CTR_RUNNING) {
        ctr_pause(env->ctrs, c, true, commit_paused, x);
        return;
    }
    image_commit_start(steal_ptr(&x->commit), commit_done, x);
}

const struct route handle_commit_routes[] = {
    {.method = "GET", .pattern = "/containers/{id}/changes", .fn = handle_changes},
    {.method = "POST", .pattern = "/commit", .fn = handle_commit},
    {.method = NULL},
};
