/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer stream (private to daemon/layer): one pass over a layer blob that yields the
 * uncompressed tar bytes and hashes every byte it yields, so the diff-id costs no second
 * decompression and no temporary copy. Only gzip and zstd (built into libarchive, never an
 * external program) and uncompressed input are accepted, and only one level of compression.
 */
#ifndef BERTH_LAYER_STREAM_H
#define BERTH_LAYER_STREAM_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/common.h"

struct lstream;

/* Opens blob_path and detects its compression. Caller frees with lstream_free. */
int lstream_open(const char *blob_path, _Atomic int64_t *progress, struct lstream **out,
                 struct err **err);
/* The same over fd (a file or a pipe), which the stream takes over (closed by lstream_free). */
int lstream_open_fd(int fd, _Atomic int64_t *progress, struct lstream **out, struct err **err);
/*
 * The next block of uncompressed bytes, already hashed; *buf stays valid until the next call.
 * *len == 0 means the end of the stream.
 */
int lstream_next(struct lstream *s, const void **buf, size_t *len, struct err **err);
/* Reads (and hashes) whatever is left, then writes the diff-id. */
int lstream_finish(struct lstream *s, char diff_id[DIGEST_STR_LEN + 1], struct err **err);
void lstream_free(struct lstream *s);
void lstream_freep(struct lstream **s);

#endif
