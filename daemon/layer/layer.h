/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer: turns layer tars into directory trees and back. Unpacking applies OCI whiteouts as
 * overlayfs whiteouts and confines every entry to the destination. Everything here is blocking
 * and runs on the libuv threadpool (uv_queue_work), never on the loop thread; it uses no
 * libuv itself. libarchive is used here and nowhere else.
 */
#ifndef BERTH_LAYER_H
#define BERTH_LAYER_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/common.h"

struct layer_unpack_result {
    char diff_id[DIGEST_STR_LEN + 1]; /* sha256 of the uncompressed tar stream */
    int64_t size;                     /* bytes of regular file content written */
};

/*
 * Unpacks the tar at blob_path (uncompressed, gzip or zstd — detected from the bytes; no
 * other filters, never an external program) into dest_dir, an existing empty directory.
 * Keeps owners, modes, times, xattrs, hardlinks, symlinks, device nodes and FIFOs. Whiteouts
 * (".wh.<name>") become overlayfs whiteouts (0:0 character devices); ".wh..wh..opq" marks the
 * directory opaque (trusted.overlay.opaque=y). Entries named with "..", absolute names, names
 * whose parents pass through a symlink, hardlinks to targets outside dest_dir, and whiteouts
 * of ".", ".." or "" fail the whole layer with ERR_INVALID naming the entry; the caller then
 * removes dest_dir. progress (may be NULL) is updated with compressed bytes consumed.
 * Also refused: an entry that would replace a directory with a non-directory, a whiteout that
 * is not a regular file, owners >= 2^32 - 1, damaged headers and nested compression. Only
 * user.* and security.capability xattrs are applied. A full disk is ERR_SYSTEM (ENOSPC).
 * Blocking; any thread; res is filled only on success.
 */
int layer_unpack(const char *blob_path, const char *dest_dir, _Atomic int64_t *progress,
                 struct layer_unpack_result *res, struct err **err);

/*
 * Streams the uncompressed tar of blob_path to out_fd and computes its diff-id (for save).
 */
int layer_decompress(const char *blob_path, int out_fd, char diff_id[DIGEST_STR_LEN + 1],
                     struct err **err);

/* ---- docker cp: paths inside a container's root and tars into it (extract.c) ------------ */

/*
 * Opens path (as the container sees it: absolute, or relative to its "/") below root_fd with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): every symlink met resolves inside the root,
 * ".." stops at it. The last component is followed when follow_last, or when path ends in "/"
 * or "/." (docker cp's rule); otherwise a final symlink is opened itself. *out is O_PATH,
 * close-on-exec, owned by the caller. ERR_NOT_FOUND when missing, ERR_INVALID when a
 * component is not a directory. Blocking; any thread.
 */
int layer_root_open(int root_fd, const char *path, bool follow_last, int *out, struct err **err);
/*
 * The absolute path inside the root that path names once every symlink in it (the last one
 * included) is followed inside the root; missing components are kept as named (docker's
 * linkTarget). *out is the caller's to free. Blocking; any thread.
 */
int layer_root_realpath(int root_fd, const char *path, char **out, struct err **err);

struct layer_extract_opts {
    bool no_overwrite_dir_non_dir; /* refuse a directory over a non-directory and vice versa;
                                      unset, each replaces the other (a whole tree goes) */
    int64_t uid, gid;              /* >= 0: every entry gets this owner; < 0: the tar's */
};
/*
 * PUT /containers/{id}/archive: reads a tar (plain, gzip or zstd, detected; never an external
 * program) from in_fd, which it takes over and closes, and unpacks it into the directory
 * dest_fd (borrowed; O_PATH is fine) with layer_unpack's confinement: cleaned names, no "..",
 * no absolute names, no parent through a symlink, hardlinks to entries below dest_fd only.
 * Whiteouts are ordinary files here, and a "./" entry leaves dest_fd's own metadata alone. A
 * directory is never replaced by a non-directory (ERR_INVALID). Blocking; threadpool.
 */
int layer_extract(int in_fd, int dest_fd, const struct layer_extract_opts *opts, struct err **err);

/* ---- pack: a tree to a tar (pack.c) ------------------------------------------------------- */

struct layer_pack_opts {
    bool diff;           /* root is an overlay upper dir: whiteouts (0:0 char devices) become
                            ".wh.<name>" entries, trusted.overlay.opaque=y dirs get ".wh..wh..opq" */
    bool one_filesystem; /* entries on another device than the top (mounts) are written as an
                            empty dir / empty file of the same name and mode, never their content */
    const char *name;    /* archive name of the top entry: NULL or "" writes the top dir's
                            CONTENTS at the archive root (layers, export); otherwise the top
                            entry (file, dir or symlink) is written as `name` and a dir's content
                            under `name/` (docker cp GET) */
};
/*
 * Writes an uncompressed tar of the tree at top_fd (an O_PATH or O_RDONLY fd of a directory,
 * file or symlink opened by the caller, e.g. with openat2 RESOLVE_IN_ROOT) to out_fd. Never
 * follows a symlink (symlinks are archived as symlinks), never leaves the tree (every open is
 * relative to a parent dirfd with O_NOFOLLOW). Keeps owners, modes, times (mtime), xattrs
 * (user.*, security.capability; never trusted.*), hardlinks within the tree, device nodes,
 * FIFOs. Entries sorted by name within each directory so the same tree gives the same bytes.
 * diff_id (may be NULL) gets "sha256:<hex of the tar stream>", size (may be NULL) the bytes
 * of regular file content. EPIPE on out_fd is ERR_SYSTEM. Blocking; any thread.
 */
int layer_pack(int top_fd, int out_fd, const struct layer_pack_opts *opts,
               char diff_id[DIGEST_STR_LEN + 1], int64_t *size, struct err **err);
/*
 * layer_pack that leaves out the entries whose path below the top is in skip (NULL-terminated,
 * e.g. "etc/hostname"; a skipped directory goes with its content): the mount points the
 * runtime makes in a container's upper dir are not the container's changes.
 */
int layer_pack_filtered(int top_fd, int out_fd, const struct layer_pack_opts *opts,
                        const char *const *skip, char diff_id[DIGEST_STR_LEN + 1], int64_t *size,
                        struct err **err);

/*
 * layer_pack_filtered of top_fd streamed straight into layer_unpack's engine writing into the
 * directory dest_fd (borrowed, empty): the tree is copied as the layer its tar would make,
 * without the tar ever being stored. A thread of its own packs into a pipe; the caller's
 * thread unpacks and hashes, so res->diff_id is the diff-id of the tar layer_pack writes.
 * On failure dest_fd holds a partial tree for the caller to remove. Blocking; any thread.
 */
int layer_pack_unpack(int top_fd, const struct layer_pack_opts *opts, const char *const *skip,
                      int dest_fd, struct layer_unpack_result *res, struct err **err);

/* ---- changes: what a container changed (changes.c) ---------------------------------------- */

enum layer_change_kind {
    LAYER_CHANGE_MODIFY = 0, /* docker diff's "C" */
    LAYER_CHANGE_ADD = 1,    /* "A" */
    LAYER_CHANGE_DELETE = 2, /* "D" */
};
struct layer_change {
    char *path; /* absolute inside the container ("/root/x"), owned */
    enum layer_change_kind kind;
};
/*
 * docker diff from an overlay upper dir and its lower dirs (lowers[0] is the top image layer):
 * a whiteout is a deletion; an opaque directory that the lowers have is a deletion (its new
 * content then shows as added); a directory whose owner, mode, size and mtime equal the lower
 * one is left out, but the parent of an added or deleted entry always shows as modified; an
 * entry is added when the lowers (with their own whiteouts and opaque dirs) do not have it.
 * Order: dockerd's walk (names sorted within each directory, depth first). Paths in skip
 * (relative, as for layer_pack_filtered) are left out, and a lower directory whose only upper
 * content is skipped entries counts as unchanged. *out (caller frees with layer_changes_free)
 * may be NULL when *n is 0. A missing upper dir is no change. Blocking; any thread.
 */
int layer_changes(const char *upper, const char *const *lowers, size_t nlowers,
                  const char *const *skip, struct layer_change **out, size_t *n, struct err **err);
void layer_changes_free(struct layer_change *c, size_t n);

/* ---- pure helpers (no I/O, thread-safe; exposed for the unpacker, its tests and the fuzzer) -- */

/*
 * layer_name_clean: normalises a tar entry name into out (outsz >= strlen(name) + 1): drops "."
 * components, a leading "./", repeated and trailing slashes; the layer root itself becomes "".
 * Returns NULL on success, else a static reason ("absolute path", "\"..\" component", "name too
 * long", "component too long") and out is unspecified. A cleaned name never starts with "/",
 * never holds an empty, "." or ".." component and is at most PATH_MAX - 1 bytes.
 */
const char *layer_name_clean(const char *name, char *out, size_t outsz);

enum layer_whiteout {
    LAYER_WH_NONE = 0, /* ordinary content */
    LAYER_WH_FILE,     /* ".wh.<name>": *target points at <name> inside base */
    LAYER_WH_OPAQUE,   /* ".wh..wh..opq" */
    LAYER_WH_META,     /* other ".wh..wh.*" (aufs metadata): skipped */
    LAYER_WH_INVALID,  /* ".wh.", ".wh..", ".wh...": names "", "." or "..": refused */
};

/* Classifies the last component of a cleaned entry name (base holds no "/"). */
enum layer_whiteout layer_whiteout_kind(const char *base, const char **target);

/* ---- image archives (docker save / load): the outer tar, not a layer (archive.c) --------- */

/*
 * A tar writer for docker save: ustar entries (pax only when a size or name needs it), owner
 * 0:0, fixed time 0, written to fd (a pipe or a file; EPIPE ends the write with ERR_SYSTEM).
 * Blocking; any thread. Free with layer_tar_writer_free (also after an error).
 */
struct layer_tar_writer;
int layer_tar_writer_new(int fd, struct layer_tar_writer **out, struct err **err);
/* A directory entry (mode 0755); name ends with '/'. */
int layer_tar_write_dir(struct layer_tar_writer *w, const char *name, struct err **err);
/* A regular file (mode 0644) holding len bytes of data. */
int layer_tar_write_bytes(struct layer_tar_writer *w, const char *name, const void *data,
                          size_t len, struct err **err);
/* A regular file copied from src_fd's current offset: exactly size bytes, or an error. */
int layer_tar_write_fd(struct layer_tar_writer *w, const char *name, int src_fd, int64_t size,
                       struct err **err);
/* Writes the end-of-archive blocks. The fd stays open (the caller owns it). */
int layer_tar_writer_finish(struct layer_tar_writer *w, struct err **err);
void layer_tar_writer_free(struct layer_tar_writer *w);

/*
 * An image archive read for docker load: layer_archive_extract reads the tar (plain or gzip;
 * anything else, or nested compression, is ERR_INVALID) at archive_path and copies each
 * regular file into dir (an existing empty directory) under a flat generated name, hashing it
 * on the way. Entry names are cleaned with layer_name_clean: absolute names and ".." refuse
 * the whole archive. Symlinks and hardlinks are recorded, never created; layer_archive_lookup
 * follows them inside the archive only. More than max_bytes of file content is ERR_TOO_LARGE.
 * Blocking; any thread. Free with layer_archive_free (which leaves dir's files in place).
 */
struct layer_archive;
struct layer_archive_file {
    const char *path;                /* the extracted copy, inside dir */
    int64_t size;                    /* bytes */
    char digest[DIGEST_STR_LEN + 1]; /* sha256 of the content */
};
int layer_archive_extract(const char *archive_path, const char *dir, int64_t max_bytes,
                          struct layer_archive **out, struct err **err);
/*
 * The regular file called name in the archive, following the archive's symlinks (relative to
 * their directory; absolute targets from the archive root) and hardlinks, never outside the
 * archive. *out is borrowed from a. ERR_NOT_FOUND when there is no such file, ERR_INVALID for
 * a name or link that leaves the archive or loops.
 */
int layer_archive_lookup(const struct layer_archive *a, const char *name,
                         const struct layer_archive_file **out, struct err **err);
void layer_archive_free(struct layer_archive *a);

/*
 * Pure helper (exposed for tests): joins rel to the directory base ("" for the root; ignored
 * when rel is absolute) and resolves ".", ".." and repeated slashes lexically into out.
 * Returns NULL, or a static reason ("leaves the archive", "name too long").
 */
const char *layer_archive_path_join(const char *base, const char *rel, char *out, size_t outsz);

#endif
