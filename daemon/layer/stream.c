/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer stream: libarchive's "raw" format over the gzip/zstd filters yields the decompressed
 * bytes of a blob; we hash them as they pass. The tar reader (unpack.c) and layer_decompress
 * both consume these blocks, so the blob is read and decompressed exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "daemon/layer/layer.h"
#include "daemon/layer/stream.h"

#define LSTREAM_INBUF (128 * 1024)

struct lstream {
    int fd;
    _Atomic int64_t *progress;
    int64_t consumed; /* compressed bytes read from fd */
    int io_errno;     /* set when read(2) on the blob failed */
    bool eof;
    struct archive *raw;
    struct digest_ctx *digest;
    unsigned char *inbuf;
};

static ssize_t lstream_read_cb(struct archive *a, void *data, const void **buf)
{
    struct lstream *s = data;
    ssize_t n;

    do {
        n = read(s->fd, s->inbuf, LSTREAM_INBUF);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        s->io_errno = errno;
        archive_set_error(a, errno, "read layer blob");
        return -1;
    }
    s->consumed += n;
    if (s->progress != NULL)
        atomic_store(s->progress, s->consumed);
    *buf = s->inbuf;
    return n;
}

/* Fails with the I/O error behind a libarchive failure, or ERR_INVALID for bad data. */
static int lstream_fail(struct lstream *s, const char *what, struct err **err)
{
    if (s->io_errno != 0)
        return err_set(err, ERR_SYSTEM, s->io_errno, "%s", what);
    return err_set(err, ERR_INVALID, 0, "%s: %s", what,
                   archive_error_string(s->raw) ? archive_error_string(s->raw) : "invalid data");
}

/*
 * Only these filters, and each must be built in: libarchive answers ARCHIVE_WARN when it would
 * fall back to spawning an external program, which we refuse.
 */
static int lstream_support(struct archive *a, struct err **err)
{
    if (archive_read_support_format_raw(a) != ARCHIVE_OK ||
        archive_read_support_filter_none(a) != ARCHIVE_OK)
        return err_set(err, ERR_INTERNAL, 0, "libarchive: raw format unavailable");
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK)
        return err_set(err, ERR_INTERNAL, 0, "libarchive: built-in gzip unavailable");
    if (archive_read_support_filter_zstd(a) != ARCHIVE_OK)
        return err_set(err, ERR_INTERNAL, 0, "libarchive: built-in zstd unavailable");
    return 0;
}

int lstream_open(const char *blob_path, _Atomic int64_t *progress, struct lstream **out,
                 struct err **err)
{
    int fd = open(blob_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", blob_path);
    return lstream_open_fd(fd, progress, out, err);
}

int lstream_open_fd(int fd, _Atomic int64_t *progress, struct lstream **out, struct err **err)
{
    _cleanup_(lstream_freep) struct lstream *s = xcalloc(1, sizeof(*s));
    struct archive_entry *entry = NULL;

    s->progress = progress;
    s->fd = fd;
    s->inbuf = xmalloc(LSTREAM_INBUF);
    s->digest = digest_new();
    s->raw = archive_read_new();
    if (s->raw == NULL)
        return err_set(err, ERR_SYSTEM, ENOMEM, "archive_read_new");
    if (lstream_support(s->raw, err) < 0)
        return -1;
    if (archive_read_open(s->raw, s, NULL, lstream_read_cb, NULL) != ARCHIVE_OK)
        return lstream_fail(s, "invalid layer blob", err);
    /* the client reader counts as one filter; a second is the decompressor; more is nesting */
    if (archive_filter_count(s->raw) > 2)
        return err_set(err, ERR_INVALID, 0, "invalid layer blob: nested compression (%s)",
                       archive_filter_name(s->raw, 0));
    if (archive_read_next_header(s->raw, &entry) != ARCHIVE_OK)
        return lstream_fail(s, "invalid layer blob", err);
    *out = steal_ptr(&s);
    return 0;
}

int lstream_next(struct lstream *s, const void **buf, size_t *len, struct err **err)
{
    la_int64_t offset = 0;
    int r;

    *len = 0;
    if (s->eof)
        return 0;
    do {
        r = archive_read_data_block(s->raw, buf, len, &offset);
    } while (r == ARCHIVE_OK && *len == 0);
    if (r == ARCHIVE_EOF) {
        s->eof = true;
        *len = 0;
        return 0;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return lstream_fail(s, "decompress layer", err);
    digest_update(s->digest, *buf, *len);
    return 0;
}

int lstream_finish(struct lstream *s, char diff_id[DIGEST_STR_LEN + 1], struct err **err)
{
    const void *buf = NULL;
    size_t len = 0;

    do {
        if (lstream_next(s, &buf, &len, err) < 0)
            return -1;
    } while (len > 0);
    digest_final(s->digest, diff_id);
    s->digest = NULL;
    return 0;
}

void lstream_free(struct lstream *s)
{
    if (s == NULL)
        return;
    if (s->raw != NULL)
        archive_read_free(s->raw);
    if (s->digest != NULL)
        digest_free(s->digest);
    if (s->fd >= 0)
        close(s->fd);
    free(s->inbuf);
    free(s);
}

void lstream_freep(struct lstream **s)
{
    lstream_free(*s);
    *s = NULL;
}

int layer_decompress(const char *blob_path, int out_fd, char diff_id[DIGEST_STR_LEN + 1],
                     struct err **err)
{
    _cleanup_(lstream_freep) struct lstream *s = NULL;
    const void *buf = NULL;
    size_t len = 0;

    if (lstream_open(blob_path, NULL, &s, err) < 0)
        return -1;
    for (;;) {
        if (lstream_next(s, &buf, &len, err) < 0)
            return -1;
        if (len == 0)
            break;
        int r = fdu_write_all(out_fd, buf, len);
        if (r < 0)
            return err_set(err, ERR_SYSTEM, -r, "write uncompressed layer");
    }
    return lstream_finish(s, diff_id, err);
}
