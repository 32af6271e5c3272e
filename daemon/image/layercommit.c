/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A layer from a blob (or, for commit, a tree already copied under tmp/) to layers/<chain>:
 * unpack, verify the diff-id, sync, then make it visible.
 */
#include "daemon/image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/layer/layer.h"

int image_layer_commit_dir(const char *root, const struct image_layer_spec *spec, const char *dest,
                           int64_t size, struct layer_rec **out, struct err **err)
{
    json_auto_t *meta = json_pack("{s:s, s:s, s:s, s:I}", "diff_id", spec->diff, "parent",
                                  spec->parent, "blob", spec->blob, "size", (json_int_t)size);
    _cleanup_free_ char *text = json_dumps(meta, JSON_COMPACT);
    _cleanup_free_ char *meta_path = xasprintf("%s/layer.json", dest);
    if (fsu_write_atomic(meta_path, text, strlen(text), 0600, err) < 0)
        return -1;
    /* Everything unpacked reaches the disk before the layer becomes visible. */
    _cleanup_close_ int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || syncfs(dfd) < 0)
        return err_set(err, ERR_SYSTEM, errno, "sync layer %s", spec->chain);
    _cleanup_free_ char *final = xasprintf("%s/layers/%s", root, digest_hex(spec->chain));
    if (rename(dest, final) < 0) {
        if (errno != EEXIST && errno != ENOTEMPTY)
            return err_set(err, ERR_SYSTEM, errno, "commit layer %s", spec->chain);
        struct err *ignored = NULL;
        (void)fsu_rmtree(dest, &ignored); /* committed by someone else meanwhile */
        err_free(ignored);
    }
    _cleanup_free_ char *layers = xasprintf("%s/layers", root);
    _cleanup_close_ int lfd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lfd >= 0)
        (void)fsync(lfd);
    struct layer_rec *l = xcalloc(1, sizeof(*l));
    snprintf(l->chain_id, sizeof(l->chain_id), "%s", spec->chain);
    snprintf(l->diff_id, sizeof(l->diff_id), "%s", spec->diff);
    snprintf(l->parent, sizeof(l->parent), "%s", spec->parent);
    snprintf(l->blob, sizeof(l->blob), "%s", spec->blob);
    l->size = size;
    *out = l;
    return 0;
}

int image_layer_unpack_commit(const char *root, const struct image_layer_spec *spec,
                              _Atomic int64_t *progress, struct layer_rec **out, struct err **err)
{
    _cleanup_free_ char *blob = xasprintf("%s/blobs/sha256/%s", root, digest_hex(spec->blob));
    if (spec->blob_tmp && rename(spec->blob_tmp, blob) < 0)
        return err_set(err, ERR_SYSTEM, errno, "store blob %s", spec->blob);
    /* A unique scratch name: the chain and this call's stack address. */
    _cleanup_free_ char *dest =
        xasprintf("%s/tmp/unpack-%s-%p", root, digest_hex(spec->chain), (void *)&blob);
    _cleanup_free_ char *diff = xasprintf("%s/diff", dest);
    if (mkdir(dest, 0700) < 0 || mkdir(diff, 0755) < 0)
        return err_set(err, ERR_SYSTEM, errno, "create %s", dest);
    struct layer_unpack_result r = {0};
    int rc = layer_unpack(blob, diff, progress, &r, err);
    if (rc == 0 && strcmp(r.diff_id, spec->diff) != 0)
        rc = err_set(err, ERR_INVALID, 0,
                     "filesystem layer verification failed for digest %s: its content hashes "
                     "to %s, the image config says %s",
                     spec->blob, r.diff_id, spec->diff);
    if (rc == 0)
        rc = image_layer_commit_dir(root, spec, dest, r.size, out, err);
    if (rc < 0) {
        struct err *ignored = NULL;
        (void)fsu_rmtree(dest, &ignored);
        err_free(ignored);
    }
    return rc;
}
