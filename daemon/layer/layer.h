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

#endif
