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
    /* The archive ended: err NULL when it is complete, with the ids of the images it holds
     * (borrowed, NULL-terminated). Runs exactly once, from a later turn. */
    void (*done)(const struct err *err, char *const *ids, void *data);
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
     * sha256:...") and the ids of the images loaded (both borrowed, NULL-terminated) on
     * success. Runs exactly once, from a later turn; l is freed after it returns.
     */
    void (*done)(const struct err *err, char *const *lines, char *const *ids, void *data);
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

/* ---- import (import.c) -------------------------------------------------------------------- */

struct image_import_opts {
    const char *src;      /* "-" or the URL, for the history comment */
    const char *src_path; /* a downloaded file to import instead of a body (NULL: the body) */
    const char *repo;     /* may hold ":tag"; NULL or "" for an untagged image */
    const char *tag;
    const char *message; /* the history comment ("" or NULL: "Imported from <src>") */
    char *const *changes;
    const char *os, *arch; /* the config's platform (Go names) */
};
struct image_import_ops {
    /* image_import_feed returned 1 and the body may flow again. */
    void (*resume)(void *data);
    /* The import ended: the new image's id, or err. Runs exactly once, from a later turn. */
    void (*done)(const struct err *err, const char *id, void *data);
};
struct image_import;
/*
 * docker import: the tarball (plain, gzip or zstd; nothing else, never an external program)
 * becomes a one-layer image with the changes applied, tagged repo:tag. The body is fed with
 * image_import_feed and ended with image_import_finish (not used with src_path). A bad
 * reference or change is refused now (NULL, ERR_INVALID).
 */
struct image_import *image_import_start(struct image_store *st, const struct image_import_opts *o,
                                        const struct image_import_ops *ops, void *data,
                                        struct err **err);
/* The next bytes of the body; returns 1 when the caller should pause until ops->resume. */
int image_import_feed(struct image_import *im, const void *buf, size_t len);
/* The body ended (error 0) or broke (error < 0: nothing is imported; done still runs). */
void image_import_finish(struct image_import *im, int error);

/* ---- commit (commit.c, changes.c) --------------------------------------------------------- */

/*
 * Applies Dockerfile instructions to an image Config object (Cmd, Env, ... keys): CMD,
 * ENTRYPOINT (which drops a Cmd not set by an earlier CMD, as dockerd does), ENV (replacing a
 * key already there), EXPOSE (ports and ranges), LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,
 * WORKDIR (relative to the previous one) and HEALTHCHECK NONE / CMD; exec (JSON) or shell
 * form; quotes, escapes and $VAR / ${VAR} from Env as dockerd's word rules. One instruction
 * per line (a string may hold several). Anything else is ERR_INVALID "<X> is not a valid
 * change command". Pure; any thread.
 */
int image_config_apply_changes(json_t *cfg, const char *const *changes, struct err **err);

struct image_commit_opts {
    const char *upper_dir;          /* the container's overlay upper dir */
    const char *const *skip;        /* paths below it that are the runtime's mount points */
    const char *parent_id;          /* the container's image id ("" for none) */
    const char *container_id;       /* the config's "container" */
    const json_t *container_config; /* the container's Config (borrowed; copied) */
    const json_t *user_config;      /* a Config from the request body to start from, or NULL */
    const char *const *changes;     /* Dockerfile instructions, NULL-terminated, or NULL */
    const char *author, *comment;
    const char *repo, *tag; /* repo NULL or "": untagged, as dockerd */
};
struct image_commit;
typedef void (*image_commit_cb)(const struct err *err, const char *id, void *data);
/*
 * docker commit, step one: checks the parent (ERR_NOT_FOUND), the repository and tag and the
 * changes (ERR_INVALID) and builds the new config: the container's Config (or user_config)
 * with the changes applied and dockerd's merge, "container", "container_config", author,
 * comment, the parent's history plus an entry whose created_by is the container's Cmd.
 * Nothing is written; free with image_commit_free unless it is started.
 */
int image_commit_prepare(struct image_store *st, const struct image_commit_opts *o,
                         struct image_commit **out, struct err **err);
/*
 * Step two: packs the upper dir on the threadpool, stores the tar as the layer's blob and
 * unpacks it as layers/<chain> on top of the parent's layers (shared), writes the config, then
 * publishes layer, image and tag on the loop. done gets the id ("sha256:...") or err, once,
 * from a later turn; c is freed after it returns. An empty change adds no layer (the history
 * entry says empty_layer), as dockerd. The caller pauses the container around it.
 */
void image_commit_start(struct image_commit *c, image_commit_cb done, void *data);
void image_commit_free(struct image_commit *c);

#endif
