/* SPDX-License-Identifier: Apache-2.0 */
/* Private to daemon/image: the store's inside, shared by store.c, refs.c and pull.c. */
#ifndef BERTH_IMAGE_INTERNAL_H
#define BERTH_IMAGE_INTERNAL_H

#include <stdatomic.h>

#include "daemon/image/image.h"

struct layer_rec {
    char chain_id[DIGEST_STR_LEN + 1];
    char diff_id[DIGEST_STR_LEN + 1];
    char parent[DIGEST_STR_LEN + 1]; /* "" for a base layer */
    char blob[DIGEST_STR_LEN + 1];   /* compressed blob digest, "" when unknown */
    int64_t size;
    unsigned int users; /* images using it plus pulls holding it */
};

struct ref_rec {
    char *name;                  /* normalised: docker.io/library/busybox:latest or ...@sha256: */
    char id[DIGEST_STR_LEN + 1]; /* image id */
};

struct refs_waiter;
struct blob_fetch;
struct layer_job;

struct image_store {
    uv_loop_t *loop;
    struct reg_client *reg;
    char *root; /* data root */
    struct image **images;
    size_t nimages;
    struct layer_rec **layers;
    size_t nlayers;
    struct ref_rec *refs;
    size_t nrefs;
    /* serialised refs.json writer */
    uint64_t refs_gen, refs_saved_gen;
    bool refs_writing;
    struct refs_waiter *waiters;
    /* work shared between pulls */
    struct blob_fetch *fetches;
    struct layer_job *jobs;
    struct image_pull *pulls; /* in flight, for image_store_cancel_all */
    unsigned int tmp_seq;
};

/* "sha256:<hex>" chain id of parent + diff (parent "" for a base layer). */
void image_chain_id(const char *parent, const char *diff_id, char out[DIGEST_STR_LEN + 1]);
struct layer_rec *image_layer_find(const struct image_store *st, const char *chain_id);
struct image *image_find_id(const struct image_store *st, const char *id);
/* Parses config bytes into an image; ERR_INVALID naming what is wrong. */
int image_from_config(const char *bytes, size_t len, struct image **out, struct err **err);
void image_free(struct image *img);
/* Adds to the in-memory view (ownership passes) and counts the image's layers as used. */
void image_store_add(struct image_store *st, struct image *img);
void image_store_add_layer(struct image_store *st, struct layer_rec *l);
/* Removes a layer nobody uses from the view now and from the disk on the threadpool; frees l. */
void image_layer_discard(struct image_store *st, struct layer_rec *l);
/* A unique scratch path under tmp/ (caller frees). */
char *image_tmp_path(struct image_store *st, const char *what);

/* layercommit.c: one layer from a verified blob into layers/<chain> (threadpool). */
struct image_layer_spec {
    const char *chain;
    const char *parent;   /* "" for a base layer */
    const char *diff;     /* the diff-id the image config expects */
    const char *blob;     /* digest of the blob as stored under blobs/sha256/; "" for a
                             committed layer: none is stored, save packs layers/<chain>/diff */
    const char *blob_tmp; /* when set, moved to blobs/sha256/<blob> first */
};
/*
 * Unpacks the blob into a scratch dir under tmp/, checks its diff-id, writes layer.json, syncs
 * and renames it to layers/<chain>; *out is the new record for the loop thread to add. Touches
 * only the disk under root: safe on the threadpool.
 */
int image_layer_unpack_commit(const char *root, const struct image_layer_spec *spec,
                              _Atomic int64_t *progress, struct layer_rec **out, struct err **err);
/*
 * The second half of image_layer_unpack_commit: dest (a directory under tmp/ holding diff/,
 * the complete layer tree, size bytes of file content) gets layer.json, everything on the
 * data root's filesystem reaches the disk (one syncfs: measured faster than an fsync per file,
 * and it covers the directories too), then dest is renamed to layers/<chain>. On failure dest
 * is left for the caller to remove. Threadpool.
 */
int image_layer_commit_dir(const char *root, const struct image_layer_spec *spec, const char *dest,
                           int64_t size, struct layer_rec **out, struct err **err);

/* refs.c */
int image_refs_load(struct image_store *st, struct err **err);
const char *image_ref_get(const struct image_store *st, const char *name);
/* Sets (id non-NULL) or deletes a ref in memory; returns true when something changed. */
bool image_ref_set(struct image_store *st, const char *name, const char *id);
/* Persists the refs; done runs once a write including every change so far is on disk. */
void image_refs_save(struct image_store *st, image_done_cb done, void *data);
/* Familiar form of a normalised ref name (caller frees). */
char *image_ref_familiar(const char *name);

#endif
