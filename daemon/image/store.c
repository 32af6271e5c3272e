/* SPDX-License-Identifier: Apache-2.0 */
/* The store on disk and in memory: load at start-up, lookups, tags and removal. */
#include "daemon/image/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

/* ---- images and layers ------------------------------------------------------------------- */

void image_chain_id(const char *parent, const char *diff_id, char out[DIGEST_STR_LEN + 1])
{
    if (!parent || !parent[0]) {
        snprintf(out, DIGEST_STR_LEN + 1, "%s", diff_id);
        return;
    }
    _cleanup_free_ char *s = xasprintf("%s %s", parent, diff_id);
    digest_buf(s, strlen(s), out);
}

void image_free(struct image *img)
{
    if (!img)
        return;
    for (size_t i = 0; i < img->nlayers; i++) {
        free(img->diff_ids[i]);
        free(img->chain_ids[i]);
    }
    free(img->diff_ids);
    free(img->chain_ids);
    json_decref(img->config);
    free(img->created_str);
    free(img->last_tag_time);
    free(img);
}

/* Unix seconds of an RFC 3339 time; 0 when it does not parse. */
static int64_t parse_time(const char *s)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return 0;
    return (int64_t)timegm(&tm);
}

int image_from_config(const char *bytes, size_t len, struct image **out, struct err **err)
{
    json_t *cfg = NULL;
    if (api_json_parse(bytes, len, &cfg, err) < 0)
        return err_wrap(err, "image config");
    struct image *img = xcalloc(1, sizeof(*img));
    img->config = cfg;
    digest_buf(bytes, len, img->id);
    json_t *diffs = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
    if (!json_is_object(cfg) || !json_is_array(diffs) || json_array_size(diffs) > 1000) {
        image_free(img);
        return err_set(err, ERR_INVALID, 0, "image config: rootfs.diff_ids must be a list");
    }
    img->nlayers = json_array_size(diffs);
    img->diff_ids = xcalloc(img->nlayers + 1, sizeof(char *));
    img->chain_ids = xcalloc(img->nlayers + 1, sizeof(char *));
    for (size_t i = 0; i < img->nlayers; i++) {
        const char *d = json_string_value(json_array_get(diffs, i));
        if (!digest_valid(d)) {
            image_free(img);
            return err_set(err, ERR_INVALID, 0,
                           "image config: rootfs.diff_ids[%zu] is not a "
                           "sha256 digest",
                           i);
        }
        img->diff_ids[i] = xstrdup(d);
        char chain[DIGEST_STR_LEN + 1];
        image_chain_id(i ? img->chain_ids[i - 1] : "", d, chain);
        img->chain_ids[i] = xstrdup(chain);
    }
    const char *created = json_string_value(json_object_get(cfg, "created"));
    img->created_str = xstrdup(created ? created : "0001-01-01T00:00:00Z");
    img->created = parse_time(created);
    *out = img;
    return 0;
}

struct layer_rec *image_layer_find(const struct image_store *st, const char *chain_id)
{
    for (size_t i = 0; i < st->nlayers; i++) {
        if (strcmp(st->layers[i]->chain_id, chain_id) == 0)
            return st->layers[i];
    }
    return NULL;
}

struct image *image_find_id(const struct image_store *st, const char *id)
{
    for (size_t i = 0; i < st->nimages; i++) {
        if (strcmp(st->images[i]->id, id) == 0)
            return st->images[i];
    }
    return NULL;
}

void image_store_add_layer(struct image_store *st, struct layer_rec *l)
{
    st->layers = xrealloc(st->layers, (st->nlayers + 1) * sizeof(*st->layers));
    st->layers[st->nlayers++] = l;
}

void image_store_add(struct image_store *st, struct image *img)
{
    img->size = 0;
    for (size_t i = 0; i < img->nlayers; i++) {
        struct layer_rec *l = image_layer_find(st, img->chain_ids[i]);
        if (l) {
            l->users++;
            img->size += l->size;
        }
    }
    st->images = xrealloc(st->images, (st->nimages + 1) * sizeof(*st->images));
    st->images[st->nimages++] = img;
}

char *image_tmp_path(struct image_store *st, const char *what)
{
    return xasprintf("%s/tmp/%s-%d-%u", st->root, what, (int)getpid(), ++st->tmp_seq);
}

int64_t image_layer_size(const struct image_store *st, const char *chain_id)
{
    const struct layer_rec *l = image_layer_find(st, chain_id);
    return l ? l->size : 0;
}

char *image_layer_dir(const struct image_store *st, const char *chain_id)
{
    return xasprintf("%s/layers/%s/diff", st->root, digest_hex(chain_id));
}

/* ---- loading at start-up (blocking) ------------------------------------------------------ */

static struct layer_rec *load_layer(const char *root, const char *hex)
{
    _cleanup_free_ char *path = xasprintf("%s/layers/%s/layer.json", root, hex);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fsu_read_file(path, 1 << 16, &text, &len) < 0)
        return NULL;
    json_auto_t *j = json_loadb(text, len, 0, NULL);
    const char *diff = json_string_value(json_object_get(j, "diff_id"));
    const char *parent = json_string_value(json_object_get(j, "parent"));
    const char *blob = json_string_value(json_object_get(j, "blob"));
    json_t *size = json_object_get(j, "size");
    if (!digest_valid(diff) || (parent && parent[0] && !digest_valid(parent)) ||
        !json_is_integer(size))
        return NULL;
    struct layer_rec *l = xcalloc(1, sizeof(*l));
    snprintf(l->chain_id, sizeof(l->chain_id), "sha256:%.64s", hex);
    snprintf(l->diff_id, sizeof(l->diff_id), "%s", diff);
    snprintf(l->parent, sizeof(l->parent), "%s", parent ? parent : "");
    snprintf(l->blob, sizeof(l->blob), "%s", digest_valid(blob) ? blob : "");
    l->size = json_integer_value(size);
    char check[DIGEST_STR_LEN + 1];
    image_chain_id(l->parent, l->diff_id, check);
    if (strcmp(check, l->chain_id) != 0) {
        free(l);
        return NULL;
    }
    return l;
}

static int load_layers(struct image_store *st, struct err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/layers", st->root);
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, ERR_SYSTEM, errno, "open %s", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        char probe[DIGEST_STR_LEN + 1];
        if (strlen(de->d_name) != DIGEST_HEX_LEN)
            continue;
        snprintf(probe, sizeof(probe), "sha256:%.64s", de->d_name);
        if (!digest_valid(probe))
            continue;
        struct layer_rec *l = load_layer(st->root, de->d_name);
        if (l)
            image_store_add_layer(st, l);
        else
            log_warn("ignoring unreadable layer %s", de->d_name);
    }
    closedir(d);
    return 0;
}

static void load_image(struct image_store *st, const char *dir, const char *name)
{
    size_t nlen = strlen(name);
    if (nlen != DIGEST_HEX_LEN + 5 || strcmp(name + DIGEST_HEX_LEN, ".json") != 0)
        return;
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct image *img = NULL;
    struct err *err = NULL;
    if (fsu_read_file(path, 8 << 20, &text, &len) < 0 ||
        image_from_config(text, len, &img, &err) < 0) {
        log_warn("ignoring unreadable image %s: %s", name, err ? err->msg : "read failed");
        err_free(err);
        return;
    }
    if (strncmp(digest_hex(img->id), name, DIGEST_HEX_LEN) != 0) {
        log_warn("ignoring image %s: its content does not match its id", name);
        image_free(img);
        return;
    }
    for (size_t i = 0; i < img->nlayers; i++) {
        if (!image_layer_find(st, img->chain_ids[i])) {
            log_warn("ignoring image %s: layer %s is missing", name, img->chain_ids[i]);
            image_free(img);
            return;
        }
    }
    image_store_add(st, img);
}

static int load_images(struct image_store *st, struct err **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/images", st->root);
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, ERR_SYSTEM, errno, "open %s", dir);
    struct dirent *de;
    while ((de = readdir(d)))
        load_image(st, dir, de->d_name);
    closedir(d);
    return 0;
}

/* Layers no image uses are what a crash between a layer and its image leaves: remove them. */
static void gc_layers(struct image_store *st)
{
    for (size_t i = 0; i < st->nlayers;) {
        struct layer_rec *l = st->layers[i];
        if (l->users > 0) {
            i++;
            continue;
        }
        _cleanup_free_ char *dir = xasprintf("%s/layers/%s", st->root, digest_hex(l->chain_id));
        struct err *err = NULL;
        if (fsu_rmtree(dir, &err) < 0) {
            log_warn("removing unused layer: %s", err->msg);
            err_free(err);
        }
        if (l->blob[0]) {
            _cleanup_free_ char *blob =
                xasprintf("%s/blobs/sha256/%s", st->root, digest_hex(l->blob));
            unlink(blob);
        }
        free(l);
        st->layers[i] = st->layers[--st->nlayers];
    }
}

/*
 * Marks tmp/ (where layers are unpacked or copied before they are renamed into layers/) as
 * the top of a directory hierarchy (chattr +T): ext4 then places each new directory made in
 * it, and so its files, in a block group with room rather than beside the container
 * directories that were just deleted, whose freed inodes a journal-less ext4 scans past one
 * by one on every create. A filesystem without the flag refuses it: nothing changes.
 */
static void tmp_spread_dirs(const char *tmp)
{
    _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int flags = 0;
    if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 || (flags & FS_TOPDIR_FL))
        return;
    flags |= FS_TOPDIR_FL;
    (void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
}

static int prepare_dirs(const char *root, struct err **err)
{
    const char *subdirs[] = {"blobs/sha256", "layers", "images", "tmp"};
    for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", root, subdirs[i]);
        if (fsu_mkdir_p(p, 0700, err) < 0)
            return -1;
    }
    /* tmp/ holds only what an interrupted operation left: start empty. */
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", root);
    if (fsu_rmtree(tmp, err) < 0 || fsu_mkdir_p(tmp, 0700, err) < 0)
        return -1;
    tmp_spread_dirs(tmp);
    return 0;
}

int image_store_open(uv_loop_t *loop, const char *data_root, struct reg_client *reg,
                     struct image_store **out, struct err **err)
{
    if (prepare_dirs(data_root, err) < 0)
        return err_wrap(err, "image store");
    struct image_store *st = xcalloc(1, sizeof(*st));
    st->loop = loop;
    st->reg = reg;
    st->root = xstrdup(data_root);
    if (load_layers(st, err) < 0 || load_images(st, err) < 0 || image_refs_load(st, err) < 0) {
        image_store_free(st);
        return err_wrap(err, "image store");
    }
    gc_layers(st);
    *out = st;
    return 0;
}

void image_store_free(struct image_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->nimages; i++)
        image_free(st->images[i]);
    free(st->images);
    for (size_t i = 0; i < st->nlayers; i++)
        free(st->layers[i]);
    free(st->layers);
    for (size_t i = 0; i < st->nrefs; i++)
        free(st->refs[i].name);
    free(st->refs);
    free(st->root);
    free(st);
}

size_t image_count(const struct image_store *st)
{
    return st->nimages;
}

const struct image *image_at(const struct image_store *st, size_t i)
{
    return i < st->nimages ? st->images[i] : NULL;
}

/* ---- lookups ----------------------------------------------------------------------------- */

static bool all_hex(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    }
    return true;
}

static const struct image *lookup_id_prefix(const struct image_store *st, const char *hex,
                                            bool *ambiguous)
{
    const struct image *found = NULL;
    size_t n = strlen(hex);
    *ambiguous = false;
    for (size_t i = 0; i < st->nimages; i++) {
        if (strncmp(digest_hex(st->images[i]->id), hex, n) != 0)
            continue;
        if (found) {
            *ambiguous = true;
            return NULL;
        }
        found = st->images[i];
    }
    return found;
}

const struct image *image_lookup(const struct image_store *st, const char *name, struct err **err)
{
    bool ambiguous = false;
    if (strncmp(name, "sha256:", 7) == 0 && all_hex(name + 7) && strlen(name) <= DIGEST_STR_LEN) {
        const struct image *img = lookup_id_prefix(st, name + 7, &ambiguous);
        if (img)
            return img;
        return err_set(err, ERR_NOT_FOUND, 0, "No such image: %s", name), NULL;
    }
    struct reg_ref ref;
    if (reg_ref_parse(name, true, &ref, NULL) == 0) {
        _cleanup_free_ char *full = reg_ref_string(&ref);
        const char *id = image_ref_get(st, full);
        if (id) {
            reg_ref_release(&ref);
            return image_find_id(st, id);
        }
        if (all_hex(name) && strlen(name) <= DIGEST_HEX_LEN) {
            const struct image *img = lookup_id_prefix(st, name, &ambiguous);
            if (img) {
                reg_ref_release(&ref);
                return img;
            }
        }
        _cleanup_free_ char *fam = reg_ref_familiar(&ref);
        reg_ref_release(&ref);
        if (ambiguous)
            return err_set(err, ERR_INVALID, 0, "ambiguous image id %s", name), NULL;
        return err_set(err, ERR_NOT_FOUND, 0, "No such image: %s", fam), NULL;
    }
    if (all_hex(name) && strlen(name) <= DIGEST_HEX_LEN) {
        const struct image *img = lookup_id_prefix(st, name, &ambiguous);
        if (img)
            return img;
    }
    return err_set(err, ERR_NOT_FOUND, 0, "No such image: %s", name), NULL;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* In the lexical order of the full names, as dockerd's reference store gives them. */
static char **refs_of(const struct image_store *st, const struct image *img, bool digests)
{
    size_t n = 0;
    const char **names = xcalloc(st->nrefs + 1, sizeof(*names));
    for (size_t i = 0; i < st->nrefs; i++) {
        if (strcmp(st->refs[i].id, img->id) != 0)
            continue;
        bool is_digest = strchr(st->refs[i].name, '@') != NULL;
        if (is_digest == digests)
            names[n++] = st->refs[i].name;
    }
    qsort(names, n, sizeof(*names), cmp_names);
    char **v = xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = image_ref_familiar(names[i]);
    free(names);
    return v;
}

char **image_repo_tags(const struct image_store *st, const struct image *img)
{
    return refs_of(st, img, false);
}

char **image_repo_digests(const struct image_store *st, const struct image *img)
{
    return refs_of(st, img, true);
}

/* ---- tag --------------------------------------------------------------------------------- */

static void set_last_tag_time(const struct image *cimg)
{
    struct image *img = (struct image *)cimg; /* the store owns it; only metadata changes */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    time_rfc3339nano(&ts, when);
    free(img->last_tag_time);
    img->last_tag_time = xstrdup(when);
}

int image_tag(struct image_store *st, const struct image *img, const char *repo, const char *tag,
              image_done_cb done, void *data, struct err **err)
{
    _cleanup_free_ char *s = xasprintf("%s:%s", repo, tag && tag[0] ? tag : "latest");
    struct reg_ref ref;
    if (reg_ref_parse(s, true, &ref, err) < 0)
        return -1;
    if (ref.digest) {
        reg_ref_release(&ref);
        return err_set(err, ERR_INVALID, 0, "refusing to create a tag with a digest reference");
    }
    _cleanup_free_ char *full = reg_ref_string(&ref);
    reg_ref_release(&ref);
    image_ref_set(st, full, img->id);
    set_last_tag_time(img);
    image_refs_save(st, done, data);
    return 0;
}

/* ---- discarding an unused layer (a failed pull's) ----------------------------------------- */

struct discard_op {
    uv_work_t work;
    char *dir;
    char *tmp;
    char *blob;
};

static void discard_work(uv_work_t *w)
{
    struct discard_op *op = w->data;
    /* Out of layers/ first, so it is gone from view at once even if the delete is cut short. */
    const char *victim = rename(op->dir, op->tmp) == 0 ? op->tmp : op->dir;
    struct err *err = NULL;
    if (fsu_rmtree(victim, &err) < 0) {
        log_warn("discarding layer: %s", err->msg);
        err_free(err);
    }
    if (op->blob)
        unlink(op->blob);
}

static void discard_after(uv_work_t *w, int status)
{
    struct discard_op *op = w->data;
    (void)status;
    free(op->dir);
    free(op->tmp);
    free(op->blob);
    free(op);
}

void image_layer_discard(struct image_store *st, struct layer_rec *l)
{
    for (size_t i = 0; i < st->nlayers; i++) {
        if (st->layers[i] == l) {
            st->layers[i] = st->layers[--st->nlayers];
            break;
        }
    }
    struct discard_op *op = xcalloc(1, sizeof(*op));
    op->dir = xasprintf("%s/layers/%s", st->root, digest_hex(l->chain_id));
    op->tmp = image_tmp_path(st, "discard");
    op->blob = l->blob[0] ? xasprintf("%s/blobs/sha256/%s", st->root, digest_hex(l->blob)) : NULL;
    op->work.data = op;
    free(l);
    uv_queue_work(st->loop, &op->work, discard_work, discard_after);
}
