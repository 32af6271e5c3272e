/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry: talks to OCI / Docker registries. Reference parsing and normalisation, auth
 * (bearer-token challenge and basic), manifests and indexes, verified blob downloads. All
 * network I/O is libcurl's multi-socket interface driven by the libuv loop, so any number of
 * operations run at once without blocking it. Loop thread only, except the pure functions
 * marked "any thread".
 */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/common.h"

/* ---- references (any thread) ------------------------------------------------------------- */

/*
 * A normalised reference, as docker normalises them:
 *   busybox                      -> docker.io / library/busybox : latest
 *   127.0.0.1:5000/t/bb:1        -> 127.0.0.1:5000 / t/bb : 1
 *   name@sha256:<hex>            -> tag NULL, digest set
 */
struct reg_ref {
    char *domain; /* "docker.io", "127.0.0.1:5000", "localhost" */
    char *path;   /* "library/busybox" */
    char *tag;    /* NULL when absent (see reg_ref_parse's default_tag) */
    char *digest; /* "sha256:<64 hex>" or NULL */
};

/*
 * Parses s. When default_tag is true and s has neither tag nor digest, tag becomes "latest".
 * An invalid reference is ERR_INVALID with docker's wording ("invalid reference format",
 * "invalid reference format: repository name must be lowercase").
 */
int reg_ref_parse(const char *s, bool default_tag, struct reg_ref *out, struct err **err);
void reg_ref_release(struct reg_ref *r);
void reg_ref_copy(const struct reg_ref *src, struct reg_ref *dst);
/* "docker.io/library/busybox" (caller frees). */
char *reg_ref_repo(const struct reg_ref *r);
/* "busybox" for docker.io/library/busybox, "foo/bar" for docker.io/foo/bar, else the full repo. */
char *reg_ref_familiar_repo(const struct reg_ref *r);
/* repo[:tag][@digest], full or familiar (caller frees). */
char *reg_ref_string(const struct reg_ref *r);
char *reg_ref_familiar(const struct reg_ref *r);
/* True for a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}). */
bool reg_tag_valid(const char *tag);

/* ---- client ------------------------------------------------------------------------------ */

struct reg_config {
    char *const *insecure; /* NULL-terminated host[:port] or CIDRs; 127.0.0.0/8 always is */
    char *const *mirrors;  /* NULL-terminated mirror URLs for docker.io, tried first */
    const char *certs_dir; /* "/etc/berth/certs.d": <host[:port]>/ca.crt, client.cert/.key */
    const char *user_agent;
    unsigned low_speed_time; /* seconds under 1 KiB/s before a transfer is dropped; 0 = 30 */
};

struct reg_client;

/* Borrowed config is copied. */
struct reg_client *reg_client_new(uv_loop_t *loop, const struct reg_config *cfg);
/* Cancels every operation (their callbacks run with an error) and frees once handles close. */
void reg_client_free(struct reg_client *c);

/* Credentials for one request; from X-Registry-Auth. All fields may be NULL. */
struct reg_auth {
    char *username;
    char *password;
    char *identity_token; /* a refresh token (OAuth) */
    char *registry_token; /* a bearer token to use as is */
    char *server_address;
};

/*
 * Decodes an X-Registry-Auth header (base64url of docker's JSON auth config). Missing, empty,
 * undecodable or "{}" all mean anonymous: the result is zeroed. Never fails.
 */
void reg_auth_decode(const char *header, struct reg_auth *out);
void reg_auth_release(struct reg_auth *a);

/* A content descriptor from a manifest. */
struct reg_desc {
    char *media_type;
    char *digest; /* validated with digest_valid() */
    int64_t size; /* >= 0 */
};

struct reg_platform {
    const char *os;      /* "linux" */
    const char *arch;    /* "amd64" */
    const char *variant; /* NULL or "v8" */
};

/* An image manifest, after any index was resolved to one platform. */
struct reg_manifest {
    char *digest;          /* digest of the bytes that the reference names: the index's when the
                              reference named an index, else the manifest's ("Digest:" line) */
    char *manifest_digest; /* digest of the image manifest itself */
    char *media_type;
    struct reg_desc config;
    struct reg_desc *layers;
    size_t nlayers;
    char *raw; /* the image manifest bytes (kept for save and RepoDigests) */
    size_t raw_len;
};
void reg_manifest_free(struct reg_manifest *m);

/*
 * Parses manifest bytes (any thread; exposed for tests and the fuzzer). content_type is the
 * response's Content-Type and must agree with the body's mediaType. Fills *m for an image
 * manifest (Docker schema 2 or OCI), or *idx for an index / manifest list, exactly one of them.
 * Schema 1, ambiguous documents (both "manifests" and "layers"), bad digests, negative sizes,
 * over 1000 layers, or wrong types are ERR_INVALID with a message saying which.
 */
struct reg_index_entry {
    struct reg_desc desc;
    char *os, *arch, *variant;
};
struct reg_index {
    struct reg_index_entry *entries;
    size_t n;
};
void reg_index_free(struct reg_index *idx);
int reg_manifest_parse(const char *body, size_t len, const char *content_type,
                       struct reg_manifest **m, struct reg_index **idx, struct err **err);
/* The entry for platform, or NULL (any thread). */
const struct reg_index_entry *reg_index_find(const struct reg_index *idx,
                                             const struct reg_platform *p);

struct reg_op; /* one operation in flight; valid until its callback has run */

/*
 * Resolves ref (tag or digest) to an image manifest for platform, following an index. When
 * ref has a digest, the fetched bytes must hash to it ("manifest verification failed for
 * digest ..."). done runs exactly once, with m (callee owns: free with reg_manifest_free) or
 * err (borrowed for the callback's duration).
 */
typedef void (*reg_manifest_cb)(struct reg_manifest *m, const struct err *err, void *data);
struct reg_op *reg_resolve(struct reg_client *c, const struct reg_ref *ref,
                           const struct reg_auth *auth, const struct reg_platform *platform,
                           reg_manifest_cb done, void *data);

/*
 * Downloads blob desc of ref's repository into the new file dest_path (created 0600, exclusive).
 * sha256 and size are checked while streaming; more bytes than desc->size, fewer, or another
 * digest are errors ("filesystem layer verification failed for digest ..."), and then
 * dest_path is removed. On success the file is complete and fsynced. progress (may be NULL)
 * reports bytes received. Stalled transfers time out. Disk writes are asynchronous.
 */
struct reg_blob_ops {
    void (*progress)(int64_t current, int64_t total, void *data);
    void (*done)(const struct err *err, void *data);
};
struct reg_op *reg_fetch_blob(struct reg_client *c, const struct reg_ref *ref,
                              const struct reg_auth *auth, const struct reg_desc *desc,
                              const char *dest_path, const struct reg_blob_ops *ops, void *data);

/* Checks credentials against server (POST /auth): done gets NULL on success. */
typedef void (*reg_login_cb)(const struct err *err, const char *identity_token, void *data);
struct reg_op *reg_login(struct reg_client *c, const struct reg_auth *auth, reg_login_cb done,
                         void *data);

/* Stops op; its callback runs with an error ("cancelled") before this returns or soon after. */
void reg_op_cancel(struct reg_op *op);

/* ---- a plain URL (fetch.c): docker import fromSrc=<URL> ----------------------------------- */

struct reg_fetch_ops {
    /* The next bytes of a 2xx body (borrowed); return 1 to pause until reg_fetch_resume. */
    int (*data)(const char *buf, size_t len, void *data);
    /* The transfer ended: err NULL when the whole body arrived. Runs once, never from inside
       reg_fetch_url. */
    void (*done)(const struct err *err, void *data);
};
struct reg_fetch;
/*
 * GET url (http or https only, redirects followed up to REG_MAX_REDIRECTS, TLS verified, no
 * credentials) on the client's loop. NULL with ERR_INVALID for another scheme.
 */
struct reg_fetch *reg_fetch_url(struct reg_client *c, const char *url,
                                const struct reg_fetch_ops *ops, void *data, struct err **err);
void reg_fetch_resume(struct reg_fetch *f);
/* The caller went away: the transfer ends soon and done still runs. */
void reg_fetch_cancel(struct reg_fetch *f);

#endif
