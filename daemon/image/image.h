/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image: the content-addressed image store (blobs, layers by chain id, image configs by image
 * id, refs) and what changes it: pull, tag, remove. Disk work runs on the threadpool; the
 * in-memory view changes only on the loop thread and only after the disk is updated, so a
 * crash leaves either the old store or the new one. Loop thread only unless noted.
 */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "api/api.h"
#include "common/common.h"
#include "daemon/registry/registry.h"

struct image_store;

struct image {
    char id[DIGEST_STR_LEN + 1]; /* sha256 of the config bytes */
    json_t *config;              /* the parsed config (owned) */
    char **diff_ids;             /* nlayers entries */
    char **chain_ids;            /* nlayers entries */
    size_t nlayers;
    int64_t size;    /* unpacked bytes of all layers */
    int64_t created; /* Unix seconds from config.created */
    char *created_str;
    char *last_tag_time; /* RFC 3339 nano, or NULL */
};

/*
 * Opens (creating when needed) the store under data_root: blobs/, layers/, images/, refs.json,
 * and sweeps leftovers from tmp/. Blocking: start-up only. reg is borrowed.
 */
int image_store_open(uv_loop_t *loop, const char *data_root, struct reg_client *reg,
                     struct image_store **out, struct err **err);
/* Frees the store; pulls in flight must have ended (the engine stops the loop first). */
void image_store_free(struct image_store *st);

size_t image_count(const struct image_store *st);
const struct image *image_at(const struct image_store *st, size_t i);

/*
 * Finds an image by name:tag, name@digest, full or short id (at least 1 hex char, unique),
 * "sha256:" id. Not found: ERR_NOT_FOUND "No such image: <name as normalised>".
 */
const struct image *image_lookup(const struct image_store *st, const char *name, struct err **err);
/* NULL-terminated familiar tags ("busybox:latest") and digests ("busybox@sha256:..."). */
char **image_repo_tags(const struct image_store *st, const struct image *img);
char **image_repo_digests(const struct image_store *st, const struct image *img);
/* Unpacked bytes of a layer, 0 when unknown. */
int64_t image_layer_size(const struct image_store *st, const char *chain_id);
/* A layer's unpacked directory (layers/<chain>/diff), caller frees. */
char *image_layer_dir(const struct image_store *st, const char *chain_id);

/* Completion of an asynchronous store change: err NULL on success (borrowed). */
typedef void (*image_done_cb)(const struct err *err, void *data);

/* Points repo:tag (normalised) at img; repo must not carry a digest. */
int image_tag(struct image_store *st, const struct image *img, const char *repo, const char *tag,
              image_done_cb done, void *data, struct err **err);

/*
 * docker rmi: untags name, and deletes the image when no reference is left (or with force).
 * items gets the [{"Untagged"}, {"Deleted"}] list (caller frees with api_delete_free) when done
 * runs with no error.
 */
typedef void (*image_remove_cb)(const struct err *err, struct api_delete_item *items, size_t n,
                                void *data);
int image_remove(struct image_store *st, const char *name, bool force, bool noprune,
                 image_remove_cb done, void *data, struct err **err);

/* ---- pull -------------------------------------------------------------------------------- */

struct image_pull_ops {
    /* One progress message for the client (borrowed for the call). */
    void (*progress)(const struct api_progress *p, void *data);
    /* The pull ended: err NULL on success. Runs exactly once. */
    void (*done)(const struct err *err, void *data);
};

struct image_pull;
/*
 * Pulls ref (which has a tag or a digest) for platform. The first progress message is sent
 * once the manifest is resolved; errors before that reach done only.
 */
struct image_pull *image_pull_start(struct image_store *st, const struct reg_ref *ref,
                                    const struct reg_auth *auth,
                                    const struct reg_platform *platform,
                                    const struct image_pull_ops *ops, void *data);
/* The client went away: stop what only this pull needs; done still runs once. */
void image_pull_cancel(struct image_pull *p);
/* Shutdown: cancels every pull in flight (before the registry client is freed). */
void image_store_cancel_all(struct image_store *st);

/* ---- save and load (archive.c) ----------------------------------------------------------- */

struct image_save_ops {
    /* A piece of the tar, borrowed for the call. Return 1 to pause until image_save_resume(). */
    int (*data)(const char *buf, size_t len, void *data);
    /* The archive ended: err NULL when it is complete. Runs exactly once, from a later turn. */
    void (*done)(const struct err *err, void *data);
};

struct image_save;
/*
 * docker save: names are resolved now (a tag, a repository name for all of its tags, a digest
 * reference or an id); an unknown one is ERR_NOT_FOUND "No such image: <name>" and NULL is
 * returned before anything starts. A writer thread (its own: it blocks while the client is
 * slow) then writes the docker 25 layout (blobs/sha256/ with configs, uncompressed layers and
 * OCI manifests; index.json, oci-layout, manifest.json, repositories; fixed order and times)
 * into a pipe the loop reads, and the images' layers stay held until done.
 */
struct image_save *image_save_start(struct image_store *st, const char *const *names, size_t n,
                                    const struct image_save_ops *ops, void *data, struct err **err);
/* Resumes reading after data returned 1. */
void image_save_resume(struct image_save *s);
/* The client went away: stop reading (the writer then fails with EPIPE); done still runs. */
void image_save_cancel(struct image_save *s);

struct image_load_ops {
    /* The body was paused by image_load_feed returning 1 and may flow again. */
    void (*resume)(void *data);
    /*
     * The load ended: err NULL and lines ("Loaded image: busybox:latest", "Loaded image ID:
     * sha256:...", borrowed, NULL-terminated) on success. Runs exactly once, from a later turn;
     * l is freed after it returns.
     */
    void (*done)(const struct err *err, char *const *lines, void *data);
};

struct image_load;
/*
 * docker load: the request body is spooled to a file under tmp/ with asynchronous writes
 * (bounded by the free space and a fixed maximum: ERR_TOO_LARGE); then a threadpool job reads
 * it (tar or tar.gz; manifest.json, else an OCI index.json), verifies every config and layer
 * and commits them; only then do the images and their RepoTags appear. A bad archive
 * (ERR_INVALID "invalid archive: ...") leaves no image, layer, ref or tmp file.
 */
struct image_load *image_load_start(struct image_store *st, const struct image_load_ops *ops,
                                    void *data);
/* The next bytes of the body; returns 1 when the caller should pause until ops->resume. */
int image_load_feed(struct image_load *l, const void *buf, size_t len);
/* The body ended (error 0) or failed (error < 0: the load is abandoned; done still runs). */
void image_load_finish(struct image_load *l, int error);

#endif
