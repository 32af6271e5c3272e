/* SPDX-License-Identifier: Apache-2.0 */
/* docker rmi: untag, and delete an image with its unused layers once nothing refers to it. */
#include "daemon/image/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct remove_op {
    uv_work_t work;
    struct image_store *st;
    struct image *img; /* to delete, or NULL when only untagging */
    char **paths;      /* what the worker removes: image config, layer dirs, blobs */
    size_t npaths;
    struct api_delete_item *items;
    size_t nitems;
    image_remove_cb done;
    void *data;
    struct err *err;
};

static void add_item(struct remove_op *op, const char *untagged, const char *deleted)
{
    op->items = xrealloc(op->items, (op->nitems + 1) * sizeof(*op->items));
    op->items[op->nitems].untagged = untagged ? xstrdup(untagged) : NULL;
    op->items[op->nitems].deleted = deleted ? xstrdup(deleted) : NULL;
    op->nitems++;
}

static void add_path(struct remove_op *op, char *path)
{
    op->paths = xrealloc(op->paths, (op->npaths + 1) * sizeof(char *));
    op->paths[op->npaths++] = path;
}

static size_t count_refs(const struct image_store *st, const char *id, bool tags_only)
{
    size_t n = 0;
    for (size_t i = 0; i < st->nrefs; i++) {
        if (strcmp(st->refs[i].id, id) == 0 && (!tags_only || !strchr(st->refs[i].name, '@')))
            n++;
    }
    return n;
}

/* Removes every ref of id from memory, recording each as untagged. */
static void untag_all(struct remove_op *op, const char *id)
{
    struct image_store *st = op->st;
    for (size_t i = 0; i < st->nrefs;) {
        if (strcmp(st->refs[i].id, id) != 0) {
            i++;
            continue;
        }
        _cleanup_free_ char *fam = image_ref_familiar(st->refs[i].name);
        add_item(op, fam, NULL);
        image_ref_set(st, st->refs[i].name, NULL);
    }
}

/* Takes img out of the in-memory view and queues its files and now-unused layers. */
static void detach_image(struct remove_op *op, struct image *img)
{
    struct image_store *st = op->st;
    for (size_t i = 0; i < st->nimages; i++) {
        if (st->images[i] == img) {
            st->images[i] = st->images[--st->nimages];
            break;
        }
    }
    add_path(op, xasprintf("%s/images/%s.json", st->root, digest_hex(img->id)));
    for (size_t i = 0; i < img->nlayers; i++) {
        struct layer_rec *l = image_layer_find(st, img->chain_ids[i]);
        if (!l || --l->users > 0)
            continue;
        /* Moved under tmp/ first, so a crash mid-delete leaves nothing half-visible. */
        add_path(op, xasprintf("%s/layers/%s", st->root, digest_hex(l->chain_id)));
        if (l->blob[0])
            add_path(op, xasprintf("%s/blobs/sha256/%s", st->root, digest_hex(l->blob)));
        for (size_t j = 0; j < st->nlayers; j++) {
            if (st->layers[j] == l) {
                st->layers[j] = st->layers[--st->nlayers];
                break;
            }
        }
        free(l);
    }
    add_item(op, NULL, img->id);
    op->img = img;
}

static void remove_work(uv_work_t *w)
{
    struct remove_op *op = w->data;
    for (size_t i = 0; i < op->npaths; i++) {
        const char *p = op->paths[i];
        if (strstr(p, "/layers/")) {
            _cleanup_free_ char *tmp = xasprintf("%s.removing", p);
            if (rename(p, tmp) == 0)
                p = tmp;
            struct err *err = NULL;
            if (fsu_rmtree(p, &err) < 0) {
                log_warn("removing layer: %s", err->msg);
                err_free(err);
            }
            continue;
        }
        if (unlink(p) < 0 && errno != ENOENT)
            log_warn("removing %s: %s", p, strerror(errno));
    }
}

static void remove_finish(struct remove_op *op)
{
    if (op->err)
        op->done(op->err, NULL, 0, op->data);
    else
        op->done(NULL, op->items, op->nitems, op->data);
    if (op->err)
        api_delete_free(op->items, op->nitems);
    for (size_t i = 0; i < op->npaths; i++)
        free(op->paths[i]);
    free(op->paths);
    image_free(op->img);
    err_free(op->err);
    free(op);
}

static void remove_work_after(uv_work_t *w, int status)
{
    (void)status;
    remove_finish(w->data);
}

static void remove_refs_saved(const struct err *err, void *data)
{
    struct remove_op *op = data;
    if (err) {
        op->err = xcalloc(1, sizeof(*op->err));
        op->err->kind = err->kind;
        op->err->msg = xstrdup(err->msg);
    }
    /* The image and layers leave the disk only after no reference to them is on disk. */
    if (err || op->npaths == 0) {
        remove_finish(op);
        return;
    }
    op->work.data = op;
    uv_queue_work(op->st->loop, &op->work, remove_work, remove_work_after);
}

static int plan_removal(struct remove_op *op, const char *name, struct image *img, bool force,
                        struct err **err)
{
    struct image_store *st = op->st;
    struct reg_ref ref;
    bool by_ref = reg_ref_parse(name, true, &ref, NULL) == 0;
    _cleanup_free_ char *full = by_ref ? reg_ref_string(&ref) : NULL;
    if (by_ref)
        reg_ref_release(&ref);
    if (by_ref && image_ref_get(st, full)) {
        /* By name: untag it; delete the image only when that was its last tag. */
        _cleanup_free_ char *fam = image_ref_familiar(full);
        image_ref_set(st, full, NULL);
        add_item(op, fam, NULL);
        if (count_refs(st, img->id, true) > 0)
            return 0;
        untag_all(op, img->id); /* digest refs go with the last tag */
        detach_image(op, img);
        return 0;
    }
    /* By id. */
    if (count_refs(st, img->id, true) > 1 && !force) {
        char shortid[13];
        snprintf(shortid, sizeof(shortid), "%s", digest_hex(img->id));
        return err_set(err, ERR_CONFLICT, 0,
                       "conflict: unable to delete %s (must be forced) - image is referenced "
                       "in multiple repositories",
                       shortid);
    }
    untag_all(op, img->id);
    detach_image(op, img);
    return 0;
}

int image_remove(struct image_store *st, const char *name, bool force, bool noprune,
                 image_remove_cb done, void *data, struct err **err)
{
    (void)noprune; /* pulled images have no parent images to prune */
    const struct image *cimg = image_lookup(st, name, err);
    if (!cimg)
        return -1;
    struct remove_op *op = xcalloc(1, sizeof(*op));
    op->st = st;
    op->done = done;
    op->data = data;
    if (plan_removal(op, name, (struct image *)cimg, force, err) < 0) {
        api_delete_free(op->items, op->nitems);
        free(op);
        return -1;
    }
    image_refs_save(st, remove_refs_saved, op);
    return 0;
}
