/* SPDX-License-Identifier: Apache-2.0 */
/* refs.json: repository:tag and repository@digest -> image id, written by one writer at a time. */
#include "daemon/image/internal.h"

#include <errno.h>
#include <string.h>

struct refs_waiter {
    uint64_t gen;
    image_done_cb done;
    void *data;
    struct refs_waiter *next;
};

struct refs_write {
    uv_work_t work;
    struct image_store *st;
    char *path;
    char *text;
    uint64_t gen;
    struct err *err;
};

int image_refs_load(struct image_store *st, struct err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/refs.json", st->root);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = fsu_read_file(path, 64 << 20, &text, &len);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "read %s", path);
    json_error_t je;
    json_auto_t *j = json_loadb(text, len, 0, &je);
    json_t *refs = json_object_get(j, "Refs");
    if (!json_is_object(refs))
        return err_set(err, ERR_SYSTEM, 0, "%s is corrupt: %s", path, j ? "no Refs" : je.text);
    const char *name;
    json_t *v;
    json_object_foreach(refs, name, v)
    {
        const char *id = json_string_value(v);
        if (!id || !digest_valid(id) || !image_find_id(st, id)) {
            log_warn("dropping reference %s to a missing image", name);
            continue;
        }
        image_ref_set(st, name, id);
    }
    return 0;
}

const char *image_ref_get(const struct image_store *st, const char *name)
{
    for (size_t i = 0; i < st->nrefs; i++) {
        if (strcmp(st->refs[i].name, name) == 0)
            return st->refs[i].id;
    }
    return NULL;
}

bool image_ref_set(struct image_store *st, const char *name, const char *id)
{
    for (size_t i = 0; i < st->nrefs; i++) {
        if (strcmp(st->refs[i].name, name) != 0)
            continue;
        if (id && strcmp(st->refs[i].id, id) == 0)
            return false;
        if (id) {
            snprintf(st->refs[i].id, sizeof(st->refs[i].id), "%s", id);
        } else {
            free(st->refs[i].name);
            st->refs[i] = st->refs[--st->nrefs];
        }
        return true;
    }
    if (!id)
        return false;
    st->refs = xrealloc(st->refs, (st->nrefs + 1) * sizeof(*st->refs));
    st->refs[st->nrefs].name = xstrdup(name);
    snprintf(st->refs[st->nrefs].id, sizeof(st->refs[st->nrefs].id), "%s", id);
    st->nrefs++;
    return true;
}

static void refs_write_work(uv_work_t *w)
{
    struct refs_write *rw = w->data;
    (void)fsu_write_atomic(rw->path, rw->text, strlen(rw->text), 0600, &rw->err);
}

static void refs_start_write(struct image_store *st);

static void refs_write_after(uv_work_t *w, int status)
{
    struct refs_write *rw = w->data;
    struct image_store *st = rw->st;
    st->refs_writing = false;
    if (status < 0 && !rw->err)
        err_set(&rw->err, ERR_SYSTEM, -status, "write refs");
    if (!rw->err)
        st->refs_saved_gen = rw->gen;
    /* Answer every waiter this write covered (or failed for). */
    struct refs_waiter **pp = &st->waiters;
    while (*pp) {
        struct refs_waiter *wt = *pp;
        if (wt->gen > rw->gen) {
            pp = &wt->next;
            continue;
        }
        *pp = wt->next;
        wt->done(rw->err, wt->data);
        free(wt);
    }
    if (rw->err)
        log_error("saving image references: %s", rw->err->msg);
    err_free(rw->err);
    free(rw->path);
    free(rw->text);
    free(rw);
    if (st->refs_gen > st->refs_saved_gen && st->waiters)
        refs_start_write(st);
}

static void refs_start_write(struct image_store *st)
{
    json_auto_t *refs = json_object();
    for (size_t i = 0; i < st->nrefs; i++)
        json_object_set_new(refs, st->refs[i].name, json_string(st->refs[i].id));
    json_auto_t *doc = json_pack("{s:O}", "Refs", refs);
    struct refs_write *rw = xcalloc(1, sizeof(*rw));
    rw->st = st;
    rw->path = xasprintf("%s/refs.json", st->root);
    rw->text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    rw->gen = st->refs_gen;
    rw->work.data = rw;
    st->refs_writing = true;
    uv_queue_work(st->loop, &rw->work, refs_write_work, refs_write_after);
}

void image_refs_save(struct image_store *st, image_done_cb done, void *data)
{
    struct refs_waiter *w = xcalloc(1, sizeof(*w));
    w->gen = ++st->refs_gen;
    w->done = done;
    w->data = data;
    w->next = st->waiters;
    st->waiters = w;
    if (!st->refs_writing)
        refs_start_write(st);
}

char *image_ref_familiar(const char *name)
{
    struct reg_ref r;
    if (reg_ref_parse(name, false, &r, NULL) < 0)
        return xstrdup(name);
    char *s = reg_ref_familiar(&r);
    reg_ref_release(&r);
    return s;
}
