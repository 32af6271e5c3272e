/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull: resolve the manifest, fetch and check the config, then fetch (at most 3 at a time) and
 * unpack every layer that is not in the store yet, and only then record the image and its refs.
 * Blob downloads and layer unpacks are shared between concurrent pulls, keyed by blob digest and
 * by chain id, so two pulls that need one layer fetch and unpack it once.
 */
#include "daemon/image/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/layer/layer.h"

#define PULL_MAX_FETCHES 3
#define PULL_TICK_MS     150

enum pl_state { PL_NEW, PL_WAITING, PL_FETCHING, PL_UNPACKING, PL_DONE };

struct pull_layer {
    struct image_pull *p;
    size_t idx;
    struct reg_desc desc;
    char short_id[13];
    char chain[DIGEST_STR_LEN + 1];
    char diff[DIGEST_STR_LEN + 1];
    enum pl_state state;
    struct blob_fetch *fetch;
    struct layer_job *job;
    bool held; /* counted in the layer's users */
    int64_t shown_current;
};

struct waiter {
    struct pull_layer *pl;
    struct waiter *next;
};

struct blob_fetch {
    struct image_store *st;
    char digest[DIGEST_STR_LEN + 1];
    char *path;
    struct reg_op *op;
    int64_t current, total;
    struct waiter *waiters;
    struct blob_fetch *next;
};

struct layer_job {
    uv_work_t work;
    struct image_store *st;
    char chain[DIGEST_STR_LEN + 1];
    char diff[DIGEST_STR_LEN + 1];
    char parent[DIGEST_STR_LEN + 1];
    char blob[DIGEST_STR_LEN + 1];
    char *blob_tmp;
    _Atomic int64_t progress;
    int64_t total;
    struct layer_rec *result;
    struct err *err;
    struct waiter *waiters;
    struct layer_job *next;
};

struct image_pull {
    struct image_store *st;
    struct reg_ref ref;
    struct reg_auth auth;
    char *os, *arch, *variant;
    struct image_pull_ops ops;
    void *data;
    bool detached;        /* done already ran (cancel or end): nothing more reaches the caller */
    unsigned int pending; /* callbacks still to come back */
    struct reg_op *resolve_op;
    struct reg_manifest *m;
    char *config_tmp;
    struct image *img;
    struct pull_layer *layers;
    size_t nlayers;
    size_t fetching;
    size_t remaining;
    uv_timer_t tick;
    bool tick_open;
    char *previous_id;                 /* what the tag pointed at before */
    char final_id[DIGEST_STR_LEN + 1]; /* the image the refs now point at */
    bool failed;
    struct image_pull *next; /* in st->pulls until detached */
};

static void pull_fail(struct image_pull *p, const struct err *err);
static void pull_schedule(struct image_pull *p);
static void layer_fetched(struct pull_layer *pl, const struct err *err, char **blob_path);
static void layer_unpacked(struct pull_layer *pl, const struct err *err);

/* ---- lifetime ---------------------------------------------------------------------------- */

static void pull_free(struct image_pull *p)
{
    reg_ref_release(&p->ref);
    reg_auth_release(&p->auth);
    free(p->os);
    free(p->arch);
    free(p->variant);
    if (p->m)
        reg_manifest_free(p->m);
    if (p->config_tmp) {
        unlink(p->config_tmp);
        free(p->config_tmp);
    }
    image_free(p->img);
    for (size_t i = 0; i < p->nlayers; i++) {
        struct pull_layer *pl = &p->layers[i];
        struct layer_rec *l = image_layer_find(p->st, pl->chain);
        if (l && pl->held && l->users > 0)
            l->users--;
        /* A failed pull leaves no layer behind that no image uses. */
        if (l && l->users == 0 && p->failed)
            image_layer_discard(p->st, l);
        free(pl->desc.digest);
        free(pl->desc.media_type);
    }
    free(p->layers);
    free(p->previous_id);
    free(p);
}

static void on_tick_closed(uv_handle_t *h)
{
    struct image_pull *p = h->data;
    p->tick_open = false;
    if (p->pending == 0)
        pull_free(p);
}

/* Frees p once it is detached and nothing is pending. */
static void pull_maybe_free(struct image_pull *p)
{
    if (!p->detached || p->pending > 0)
        return;
    if (p->tick_open) {
        if (!uv_is_closing((uv_handle_t *)&p->tick))
            uv_close((uv_handle_t *)&p->tick, on_tick_closed);
        return;
    }
    pull_free(p);
}

static void pull_detach(struct image_pull *p, const struct err *err)
{
    if (p->detached)
        return;
    p->detached = true;
    p->failed = err != NULL;
    for (struct image_pull **pp = &p->st->pulls; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->tick_open)
        uv_timer_stop(&p->tick);
    p->ops.done(err, p->data);
    pull_maybe_free(p);
}

/*
 * The start of a completion callback: one operation less is pending. False when the pull goes
 * no further: it is detached (and freed once nothing is pending any more), or err ends it
 * through on_err (pull_fail or pull_detach).
 */
static bool pull_resume(struct image_pull *p, const struct err *err,
                        void (*on_err)(struct image_pull *p, const struct err *err))
{
    p->pending--;
    if (p->detached) {
        pull_maybe_free(p);
        return false;
    }
    if (err) {
        on_err(p, err);
        return false;
    }
    return true;
}

/* ---- progress ---------------------------------------------------------------------------- */

static void emit(struct image_pull *p, const char *id, const char *status, bool detail, int64_t cur,
                 int64_t total)
{
    if (p->detached)
        return;
    struct api_progress msg = {.id = (char *)id,
                               .status = (char *)status,
                               .has_detail = detail,
                               .current = cur,
                               .total = total};
    p->ops.progress(&msg, p->data);
}

static void on_tick(uv_timer_t *t)
{
    struct image_pull *p = t->data;
    for (size_t i = 0; i < p->nlayers; i++) {
        struct pull_layer *pl = &p->layers[i];
        if (pl->state == PL_FETCHING && pl->fetch && pl->fetch->current != pl->shown_current) {
            pl->shown_current = pl->fetch->current;
            emit(p, pl->short_id, "Downloading", true, pl->fetch->current, pl->desc.size);
        } else if (pl->state == PL_UNPACKING && pl->job) {
            int64_t cur = atomic_load(&pl->job->progress);
            if (cur != pl->shown_current && cur > 0) {
                pl->shown_current = cur;
                emit(p, pl->short_id, "Extracting", true, cur, pl->desc.size);
            }
        }
    }
}

/* ---- shared blob downloads --------------------------------------------------------------- */

static struct blob_fetch *fetch_find(struct image_store *st, const char *digest)
{
    for (struct blob_fetch *f = st->fetches; f; f = f->next) {
        if (strcmp(f->digest, digest) == 0)
            return f;
    }
    return NULL;
}

static void fetch_unlink(struct blob_fetch *f)
{
    for (struct blob_fetch **pp = &f->st->fetches; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            return;
        }
    }
}

static void fetch_progress(int64_t current, int64_t total, void *data)
{
    struct blob_fetch *f = data;
    f->current = current;
    f->total = total;
}

static void fetch_done(const struct err *err, void *data)
{
    struct blob_fetch *f = data;
    fetch_unlink(f);
    struct waiter *w = f->waiters;
    while (w) {
        struct waiter *next = w->next;
        w->pl->fetch = NULL;
        /* The first waiter that starts an unpack takes the file over (clearing f->path). */
        layer_fetched(w->pl, err, &f->path);
        free(w);
        w = next;
    }
    /* Unless an unpack job took the file (it clears f->path), it is not needed any more. */
    if (f->path) {
        unlink(f->path);
        free(f->path);
    }
    free(f);
}

static struct blob_fetch *fetch_start(struct image_pull *p, struct pull_layer *pl)
{
    struct image_store *st = p->st;
    struct blob_fetch *f = fetch_find(st, pl->desc.digest);
    if (!f) {
        f = xcalloc(1, sizeof(*f));
        f->st = st;
        snprintf(f->digest, sizeof(f->digest), "%s", pl->desc.digest);
        f->path = image_tmp_path(st, "blob");
        f->total = pl->desc.size;
        f->next = st->fetches;
        st->fetches = f;
        static const struct reg_blob_ops ops = {.progress = fetch_progress, .done = fetch_done};
        f->op = reg_fetch_blob(st->reg, &p->ref, &p->auth, &pl->desc, f->path, &ops, f);
    }
    struct waiter *w = xcalloc(1, sizeof(*w));
    w->pl = pl;
    w->next = f->waiters;
    f->waiters = w;
    return f;
}

/* Takes pl off a shared download; the download stops when nobody else waits for it. */
static void fetch_leave(struct blob_fetch *f, struct pull_layer *pl)
{
    for (struct waiter **pp = &f->waiters; *pp; pp = &(*pp)->next) {
        if ((*pp)->pl == pl) {
            struct waiter *w = *pp;
            *pp = w->next;
            free(w);
            break;
        }
    }
    pl->fetch = NULL;
    pl->p->pending--; /* its fetch_done will not reach this layer any more */
    pl->p->fetching--;
    if (!f->waiters && f->op)
        reg_op_cancel(f->op); /* fetch_done frees f */
}

/* ---- shared unpack jobs (threadpool) ----------------------------------------------------- */

static void job_work(uv_work_t *w)
{
    struct layer_job *j = w->data;
    struct image_layer_spec spec = {.chain = j->chain,
                                    .parent = j->parent,
                                    .diff = j->diff,
                                    .blob = j->blob,
                                    .blob_tmp = j->blob_tmp};
    (void)image_layer_unpack_commit(j->st->root, &spec, &j->progress, &j->result, &j->err);
}

static void job_after(uv_work_t *w, int status)
{
    struct layer_job *j = w->data;
    struct image_store *st = j->st;
    for (struct layer_job **pp = &st->jobs; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    }
    if (status < 0 && !j->err)
        err_set(&j->err, ERR_SYSTEM, -status, "unpack layer %s", j->chain);
    if (j->result && !image_layer_find(st, j->chain))
        image_store_add_layer(st, j->result);
    else
        free(j->result);
    if (j->err)
        log_error("layer %s: %s", j->chain, j->err->msg);
    struct waiter *w2 = j->waiters;
    while (w2) {
        struct waiter *next = w2->next;
        w2->pl->job = NULL;
        layer_unpacked(w2->pl, j->err);
        free(w2);
        w2 = next;
    }
    free(j->blob_tmp);
    err_free(j->err);
    free(j);
}

static struct layer_job *job_find(struct image_store *st, const char *chain)
{
    for (struct layer_job *j = st->jobs; j; j = j->next) {
        if (strcmp(j->chain, chain) == 0)
            return j;
    }
    return NULL;
}

/* Joins or starts the unpack of pl's layer; blob_tmp (taken) is the downloaded file. */
static void job_join(struct pull_layer *pl, char *blob_tmp)
{
    struct image_store *st = pl->p->st;
    struct layer_job *j = job_find(st, pl->chain);
    if (!j) {
        j = xcalloc(1, sizeof(*j));
        j->st = st;
        snprintf(j->chain, sizeof(j->chain), "%s", pl->chain);
        snprintf(j->diff, sizeof(j->diff), "%s", pl->diff);
        snprintf(j->parent, sizeof(j->parent), "%s",
                 pl->idx ? pl->p->layers[pl->idx - 1].chain : "");
        snprintf(j->blob, sizeof(j->blob), "%s", pl->desc.digest);
        j->blob_tmp = blob_tmp;
        blob_tmp = NULL;
        j->total = pl->desc.size;
        j->work.data = j;
        j->next = st->jobs;
        st->jobs = j;
        uv_queue_work(st->loop, &j->work, job_work, job_after);
    }
    if (blob_tmp) {
        unlink(blob_tmp);
        free(blob_tmp);
    }
    struct waiter *w = xcalloc(1, sizeof(*w));
    w->pl = pl;
    w->next = j->waiters;
    j->waiters = w;
    pl->job = j;
}

/* ---- the layer pipeline ------------------------------------------------------------------ */

static void hold_layer(struct pull_layer *pl)
{
    struct layer_rec *l = image_layer_find(pl->p->st, pl->chain);
    if (l && !pl->held) {
        l->users++;
        pl->held = true;
    }
}

static void pull_commit(struct image_pull *p);

static void layer_finished(struct pull_layer *pl)
{
    struct image_pull *p = pl->p;
    pl->state = PL_DONE;
    if (--p->remaining == 0)
        pull_commit(p);
}

static void layer_unpacked(struct pull_layer *pl, const struct err *err)
{
    struct image_pull *p = pl->p;
    if (!pull_resume(p, err, pull_fail))
        return;
    hold_layer(pl);
    emit(p, pl->short_id, "Pull complete", true, 0, 0);
    layer_finished(pl);
}

static void layer_fetched(struct pull_layer *pl, const struct err *err, char **blob_path)
{
    struct image_pull *p = pl->p;
    p->fetching--;
    if (!pull_resume(p, err, pull_fail))
        return;
    emit(p, pl->short_id, "Verifying Checksum", true, 0, 0);
    emit(p, pl->short_id, "Download complete", true, 0, 0);
    /* Another pull may have committed this layer meanwhile. */
    if (image_layer_find(p->st, pl->chain)) {
        hold_layer(pl);
        emit(p, pl->short_id, "Pull complete", true, 0, 0);
        layer_finished(pl);
        pull_schedule(p);
        return;
    }
    pl->state = PL_UNPACKING;
    pl->shown_current = 0;
    p->pending++;
    emit(p, pl->short_id, "Extracting", true, 0, pl->desc.size);
    job_join(pl, steal_ptr(blob_path));
    pull_schedule(p);
}

/* Marks layers the store has; starts downloads up to the cap; the rest wait. */
static void pull_schedule(struct image_pull *p)
{
    for (size_t i = 0; i < p->nlayers; i++) {
        struct pull_layer *pl = &p->layers[i];
        if ((pl->state == PL_NEW || pl->state == PL_WAITING) &&
            image_layer_find(p->st, pl->chain)) {
            hold_layer(pl);
            emit(p, pl->short_id, "Already exists", true, 0, 0);
            layer_finished(pl);
            if (p->detached || p->remaining == 0)
                return;
        }
    }
    for (size_t i = 0; i < p->nlayers && p->fetching < PULL_MAX_FETCHES; i++) {
        struct pull_layer *pl = &p->layers[i];
        if (pl->state != PL_NEW && pl->state != PL_WAITING)
            continue;
        if (job_find(p->st, pl->chain)) { /* another pull is unpacking it: wait for that */
            pl->state = PL_UNPACKING;
            p->pending++;
            job_join(pl, NULL);
            continue;
        }
        if (pl->state == PL_NEW)
            emit(p, pl->short_id, "Pulling fs layer", true, 0, 0);
        pl->state = PL_FETCHING;
        p->fetching++;
        p->pending++;
        pl->fetch = fetch_start(p, pl);
    }
    for (size_t i = 0; i < p->nlayers; i++) {
        struct pull_layer *pl = &p->layers[i];
        if (pl->state == PL_NEW) {
            pl->state = PL_WAITING;
            emit(p, pl->short_id, "Pulling fs layer", true, 0, 0);
            emit(p, pl->short_id, "Waiting", true, 0, 0);
        }
    }
}

static void pull_fail(struct image_pull *p, const struct err *err)
{
    if (p->detached)
        return;
    /* Stop the downloads only this pull wanted; shared unpacks finish on their own. */
    for (size_t i = 0; i < p->nlayers; i++) {
        struct pull_layer *pl = &p->layers[i];
        if (pl->fetch)
            fetch_leave(pl->fetch, pl);
    }
    pull_detach(p, err);
}

/* ---- commit ------------------------------------------------------------------------------ */

struct commit_op {
    uv_work_t work;
    struct image_pull *p;
    char *path;
    char *tmp;
    struct err *err;
};

static void commit_work(uv_work_t *w)
{
    struct commit_op *c = w->data;
    /* The config was verified against its digest; it becomes images/<id>.json. */
    if (rename(c->tmp, c->path) < 0) {
        err_set(&c->err, ERR_SYSTEM, errno, "store image config");
        return;
    }
    _cleanup_free_ char *dir = xstrdup(c->path);
    *strrchr(dir, '/') = '\0';
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0)
        err_set(&c->err, ERR_SYSTEM, errno, "sync %s", dir);
}

static void refs_saved(const struct err *err, void *data)
{
    struct image_pull *p = data;
    if (!pull_resume(p, err, pull_detach))
        return;
    _cleanup_free_ char *digest = xasprintf("Digest: %s", p->m->digest);
    emit(p, NULL, digest, false, 0, 0);
    _cleanup_free_ char *fam = reg_ref_familiar(&p->ref);
    bool same = p->previous_id && strcmp(p->previous_id, p->final_id) == 0;
    _cleanup_free_ char *status = xasprintf(
        "Status: %s for %s", same ? "Image is up to date" : "Downloaded newer image", fam);
    emit(p, NULL, status, false, 0, 0);
    pull_detach(p, NULL);
}

/* Points the pulled reference (and repo@digest) at the image, then saves refs.json. */
static void pull_set_refs(struct image_pull *p, const char *id)
{
    _cleanup_free_ char *full = reg_ref_string(&p->ref);
    const char *prev = image_ref_get(p->st, full);
    p->previous_id = prev ? xstrdup(prev) : NULL;
    snprintf(p->final_id, sizeof(p->final_id), "%s", id);
    image_ref_set(p->st, full, id);
    struct reg_ref dref;
    reg_ref_copy(&p->ref, &dref);
    free(dref.tag);
    dref.tag = NULL;
    free(dref.digest);
    dref.digest = xstrdup(p->m->digest);
    _cleanup_free_ char *dname = reg_ref_string(&dref);
    reg_ref_release(&dref);
    image_ref_set(p->st, dname, id);
    p->pending++;
    image_refs_save(p->st, refs_saved, p);
}

static void commit_after(uv_work_t *w, int status)
{
    struct commit_op *c = w->data;
    struct image_pull *p = c->p;
    p->pending--;
    if (status < 0 && !c->err)
        err_set(&c->err, ERR_SYSTEM, -status, "store image");
    if (!c->err) {
        free(p->config_tmp);
        p->config_tmp = NULL;
    }
    if (p->detached || c->err) {
        if (c->err && !p->detached)
            pull_detach(p, c->err);
        err_free(c->err);
        free(c->path);
        free(c->tmp);
        free(c);
        pull_maybe_free(p);
        return;
    }
    char id[DIGEST_STR_LEN + 1];
    snprintf(id, sizeof(id), "%s", p->img->id);
    if (!image_find_id(p->st, id))
        image_store_add(p->st, steal_ptr(&p->img));
    pull_set_refs(p, id);
    free(c->path);
    free(c->tmp);
    free(c);
}

static void pull_commit(struct image_pull *p)
{
    if (p->detached)
        return;
    struct image *stored = image_find_id(p->st, p->img->id);
    if (stored) {
        /* Stored meanwhile by another pull: only the refs change. */
        image_free(p->img);
        p->img = NULL;
        pull_set_refs(p, stored->id);
        return;
    }
    struct commit_op *c = xcalloc(1, sizeof(*c));
    c->p = p;
    c->path = xasprintf("%s/images/%s.json", p->st->root, digest_hex(p->img->id));
    c->tmp = xstrdup(p->config_tmp);
    c->work.data = c;
    p->pending++;
    uv_queue_work(p->st->loop, &c->work, commit_work, commit_after);
}

/* ---- config ------------------------------------------------------------------------------ */

struct config_read {
    uv_work_t work;
    struct image_pull *p;
    char *path;
    struct image *img;
    struct err *err;
};

static void config_read_work(uv_work_t *w)
{
    struct config_read *cr = w->data;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = fsu_read_file(cr->path, 8 << 20, &text, &len);
    if (r < 0) {
        err_set(&cr->err, ERR_SYSTEM, -r, "read image config");
        return;
    }
    (void)image_from_config(text, len, &cr->img, &cr->err);
}

static void pull_start_layers(struct image_pull *p)
{
    struct image *img = p->img;
    if (img->nlayers != p->m->nlayers) {
        struct err *err = NULL;
        err_set(&err, ERR_INVALID, 0, "the image config lists %zu layers but the manifest has %zu",
                img->nlayers, p->m->nlayers);
        pull_fail(p, err);
        err_free(err);
        return;
    }
    p->nlayers = img->nlayers;
    p->remaining = p->nlayers;
    p->layers = xcalloc(p->nlayers + 1, sizeof(*p->layers));
    for (size_t i = 0; i < p->nlayers; i++) {
        struct pull_layer *pl = &p->layers[i];
        pl->p = p;
        pl->idx = i;
        pl->desc.digest = xstrdup(p->m->layers[i].digest);
        pl->desc.media_type = xstrdup(p->m->layers[i].media_type ? p->m->layers[i].media_type : "");
        pl->desc.size = p->m->layers[i].size;
        snprintf(pl->short_id, sizeof(pl->short_id), "%s", digest_hex(pl->desc.digest));
        snprintf(pl->chain, sizeof(pl->chain), "%s", img->chain_ids[i]);
        snprintf(pl->diff, sizeof(pl->diff), "%s", img->diff_ids[i]);
    }
    if (p->nlayers == 0) {
        pull_commit(p);
        return;
    }
    pull_schedule(p);
}

static void config_read_after(uv_work_t *w, int status)
{
    struct config_read *cr = w->data;
    struct image_pull *p = cr->p;
    p->pending--;
    if (status < 0 && !cr->err)
        err_set(&cr->err, ERR_SYSTEM, -status, "read image config");
    if (!p->detached && cr->err)
        pull_fail(p, cr->err);
    else if (!p->detached) {
        p->img = cr->img;
        cr->img = NULL;
        pull_start_layers(p);
    }
    image_free(cr->img);
    err_free(cr->err);
    free(cr->path);
    free(cr);
    pull_maybe_free(p);
}

static void config_fetched(const struct err *err, void *data)
{
    struct image_pull *p = data;
    if (!pull_resume(p, err, pull_fail))
        return;
    struct config_read *cr = xcalloc(1, sizeof(*cr));
    cr->p = p;
    cr->path = xstrdup(p->config_tmp);
    cr->work.data = cr;
    p->pending++;
    uv_queue_work(p->st->loop, &cr->work, config_read_work, config_read_after);
}

static void config_progress(int64_t current, int64_t total, void *data)
{
    (void)current;
    (void)total;
    (void)data;
}

/* ---- resolve ----------------------------------------------------------------------------- */

static void resolved(struct reg_manifest *m, const struct err *err, void *data)
{
    struct image_pull *p = data;
    p->resolve_op = NULL;
    p->pending--;
    if (p->detached) {
        if (m)
            reg_manifest_free(m);
        pull_maybe_free(p);
        return;
    }
    if (err) {
        pull_detach(p, err);
        return;
    }
    p->m = m;
    _cleanup_free_ char *from = xasprintf("Pulling from %s", p->ref.path);
    emit(p, p->ref.tag ? p->ref.tag : p->ref.digest, from, false, 0, 0);
    uv_timer_init(p->st->loop, &p->tick);
    p->tick.data = p;
    p->tick_open = true;
    uv_timer_start(&p->tick, on_tick, PULL_TICK_MS, PULL_TICK_MS);
    struct image *have = image_find_id(p->st, m->config.digest);
    if (have) {
        /* The config names an image we have: nothing to download. */
        pull_set_refs(p, have->id);
        return;
    }
    p->config_tmp = image_tmp_path(p->st, "config");
    static const struct reg_blob_ops ops = {.progress = config_progress, .done = config_fetched};
    p->pending++;
    reg_fetch_blob(p->st->reg, &p->ref, &p->auth, &m->config, p->config_tmp, &ops, p);
}

struct image_pull *image_pull_start(struct image_store *st, const struct reg_ref *ref,
                                    const struct reg_auth *auth,
                                    const struct reg_platform *platform,
                                    const struct image_pull_ops *ops, void *data)
{
    struct image_pull *p = xcalloc(1, sizeof(*p));
    p->st = st;
    reg_ref_copy(ref, &p->ref);
    p->auth.username = auth && auth->username ? xstrdup(auth->username) : NULL;
    p->auth.password = auth && auth->password ? xstrdup(auth->password) : NULL;
    p->auth.identity_token = auth && auth->identity_token ? xstrdup(auth->identity_token) : NULL;
    p->auth.registry_token = auth && auth->registry_token ? xstrdup(auth->registry_token) : NULL;
    p->auth.server_address = auth && auth->server_address ? xstrdup(auth->server_address) : NULL;
    p->os = xstrdup(platform && platform->os ? platform->os : "linux");
    p->arch = xstrdup(platform && platform->arch ? platform->arch : "amd64");
    p->variant = platform && platform->variant ? xstrdup(platform->variant) : NULL;
    p->ops = *ops;
    p->data = data;
    struct reg_platform plat = {.os = p->os, .arch = p->arch, .variant = p->variant};
    p->next = st->pulls;
    st->pulls = p;
    p->pending++;
    p->resolve_op = reg_resolve(st->reg, &p->ref, &p->auth, &plat, resolved, p);
    return p;
}

void image_pull_cancel(struct image_pull *p)
{
    if (p->detached)
        return;
    if (p->resolve_op)
        reg_op_cancel(p->resolve_op);
    struct err *err = NULL;
    err_set(&err, ERR_INTERNAL, 0, "pull cancelled: the client went away");
    pull_fail(p, err);
    err_free(err);
}

void image_store_cancel_all(struct image_store *st)
{
    while (st->pulls)
        image_pull_cancel(st->pulls); /* detaching takes it off the list */
}
