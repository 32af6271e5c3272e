/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The json-file writer, used by berth-shim. Every entry is encoded the way moby's jsonlog does
 * it (Go's encoding/json escapes, RFC3339Nano time with trailing zeros trimmed) into one
 * bounded batch buffer that goes out with one write(). A write that fails half way (ENOSPC,
 * EFBIG) is cut back to the last complete line with ftruncate, so the file never holds a torn
 * line in the middle; the entries that did not fit are dropped and reported as an error (the
 * shim counts them and keeps draining the container, it never blocks it). Memory is fixed at
 * open: two 16 KiB hold-back buffers and one batch buffer.
 */
#include "daemon/logs/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The largest encoded entry: every byte of a full line as a 6-byte \u00XX, plus the frame. */
#define ENTRY_MAX (LOGS_LINE_MAX * 6 + 128)
#define BATCH_CAP (ENTRY_MAX + 16 * 1024)

struct logs_hold {
    char buf[LOGS_LINE_MAX];
    size_t len;
};

struct logs_writer {
    int fd;
    char *path;
    int64_t max_size;
    int max_files;
    int64_t size; /* bytes in the live file */
    struct logs_hold hold[2];
    char *batch; /* BATCH_CAP bytes */
    size_t batch_len;
    size_t dropped; /* entries lost by the current call */
    int drop_errno;
};

/* ---- encoding ------------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (as Go's utf8.DecodeRune accepts it), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t need;
    if (c < 0x80)
        return 1;
    if (c < 0xc2)
        return 0;
    if (c < 0xe0) {
        need = 2;
    } else if (c < 0xf0) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c < 0xf5) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return need;
}

/* Appends s as a JSON string exactly as moby's ffjsonWriteJSONBytesAsString; returns bytes. */
static size_t encode_string(char *out, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned char b = s[i];
        if (b < 0x80) {
            if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
                *o++ = (char)b;
            } else if (b == '\\' || b == '"') {
                *o++ = '\\';
                *o++ = (char)b;
            } else if (b == '\n') {
                *o++ = '\\';
                *o++ = 'n';
            } else if (b == '\r') {
                *o++ = '\\';
                *o++ = 'r';
            } else {
                memcpy(o, "\\u00", 4);
                o += 4;
                *o++ = hex[b >> 4];
                *o++ = hex[b & 15];
            }
            i++;
            continue;
        }
        size_t k = utf8_seq_len(s + i, n - i);
        if (k == 0) {
            memcpy(o, "\\ufffd", 6);
            o += 6;
            i++;
        } else if (k == 3 && b == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8) {
            memcpy(o, "\\u202", 5);
            o += 5;
            *o++ = s[i + 2] == 0xa8 ? '8' : '9';
            i += 3;
        } else {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        }
    }
    *o++ = '"';
    return (size_t)(o - out);
}

/* Go's time.RFC3339Nano in UTC: the fraction loses its trailing zeros (and its dot if 0). */
static size_t format_time(const struct timespec *ts, char out[40])
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    if (ts->tv_nsec > 0) {
        char frac[24];
        snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
        size_t f = strlen(frac);
        while (frac[f - 1] == '0')
            f--;
        memcpy(out + n, frac, f);
        n += f;
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return n;
}

/* ---- the file --------------------------------------------------------------------------- */

static int open_live(struct logs_writer *w, bool truncate, struct err **err)
{
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | (truncate ? O_TRUNC : 0);
    int fd = open(w->path, flags, 0640);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", w->path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return err_set(err, ERR_SYSTEM, e, "stat %s", w->path);
    }
    if (w->fd >= 0)
        close(w->fd);
    w->fd = fd;
    w->size = st.st_size;
    return 0;
}

/*
 * A file left by a crash may end with a torn line or a run of NULs (moby #29511): cut it back
 * to its last newline so the next entry starts a line of its own.
 */
static void cut_torn_tail(struct logs_writer *w)
{
    char buf[4096];
    int64_t end = w->size;
    while (end > 0) {
        int64_t start = end > (int64_t)sizeof(buf) ? end - (int64_t)sizeof(buf) : 0;
        int rfd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (rfd < 0)
            return;
        ssize_t n = pread(rfd, buf, (size_t)(end - start), start);
        close(rfd);
        if (n != end - start)
            return;
        for (ssize_t i = n; i > 0; i--) {
            if (buf[i - 1] == '\n') {
                int64_t keep = start + i;
                if (keep != w->size && ftruncate(w->fd, keep) == 0)
                    w->size = keep;
                return;
            }
        }
        end = start;
    }
    if (w->size > 0 && ftruncate(w->fd, 0) == 0)
        w->size = 0;
}

/* path -> path.1 -> ... -> path.<max_files-1>; max_files 1 truncates in place. */
static int rotate(struct logs_writer *w, struct err **err)
{
    if (w->max_files > 1) {
        for (int i = w->max_files - 1; i > 1; i--) {
            _cleanup_free_ char *from = xasprintf("%s.%d", w->path, i - 1);
            _cleanup_free_ char *to = xasprintf("%s.%d", w->path, i);
            if (rename(from, to) < 0 && errno != ENOENT)
                return err_set(err, ERR_SYSTEM, errno, "rotate %s", from);
        }
        _cleanup_free_ char *to = xasprintf("%s.1", w->path);
        if (rename(w->path, to) < 0 && errno != ENOENT)
            return err_set(err, ERR_SYSTEM, errno, "rotate %s", w->path);
        return open_live(w, false, err);
    }
    if (ftruncate(w->fd, 0) < 0)
        return err_set(err, ERR_SYSTEM, errno, "truncate %s", w->path);
    w->size = 0;
    return 0;
}

/* Writes the batch with one write(); a short or failed write is cut back to whole lines. */
static void batch_flush(struct logs_writer *w)
{
    size_t done = 0;
    while (done < w->batch_len) {
        ssize_t n = write(w->fd, w->batch + done, w->batch_len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        w->drop_errno = n < 0 ? errno : ENOSPC;
        break;
    }
    if (done < w->batch_len) {
        size_t keep = done;
        while (keep > 0 && w->batch[keep - 1] != '\n')
            keep--;
        if (keep < done && ftruncate(w->fd, w->size + (int64_t)keep) < 0)
            keep = done; /* cannot cut: the reader skips the torn line */
        for (size_t i = keep; i < w->batch_len; i++)
            w->dropped += w->batch[i] == '\n';
        done = keep;
    }
    w->size += (int64_t)done;
    w->batch_len = 0;
}

static void emit(struct logs_writer *w, enum logs_stream s, const char *data, size_t len,
                 const char *when, size_t when_len)
{
    if (w->batch_len + 6 * len + 128 + when_len > BATCH_CAP)
        batch_flush(w);
    char *o = w->batch + w->batch_len;
    char *start = o;
    memcpy(o, "{\"log\":", 7);
    o += 7;
    o += encode_string(o, (const unsigned char *)data, len);
    const char *st = s == LOGS_STDERR ? ",\"stream\":\"stderr\",\"time\":\""
                                      : ",\"stream\":\"stdout\",\"time\":\"";
    size_t stlen = strlen(st);
    memcpy(o, st, stlen);
    o += stlen;
    memcpy(o, when, when_len);
    o += when_len;
    memcpy(o, "\"}\n", 3);
    o += 3;
    size_t entry = (size_t)(o - start);
    int64_t before = w->size + (int64_t)w->batch_len;
    if (w->max_size > 0 && before > 0 && before + (int64_t)entry > w->max_size) {
        /* the entry belongs to the next file: write what precedes it, rotate, start over */
        char *tmp = xmalloc(entry);
        memcpy(tmp, start, entry);
        batch_flush(w);
        struct err *e = NULL;
        if (rotate(w, &e) < 0) {
            log_warn("log rotation failed: %s", e->msg);
            err_free(e);
        }
        memcpy(w->batch, tmp, entry);
        free(tmp);
    }
    w->batch_len += entry;
}

/* ---- public ------------------------------------------------------------------------------ */

int logs_writer_open(const char *path, int64_t max_size, int max_files, struct logs_writer **out,
                     struct err **err)
{
    struct logs_writer *w = xcalloc(1, sizeof(*w));
    w->fd = -1;
    w->path = xstrdup(path);
    w->max_size = max_size < 0 ? 0 : max_size;
    w->max_files = max_files < 1 ? 1 : max_files;
    w->batch = xmalloc(BATCH_CAP);
    if (open_live(w, false, err) < 0) {
        logs_writer_close(w);
        return -1;
    }
    cut_torn_tail(w);
    *out = w;
    return 0;
}

static int finish(struct logs_writer *w, struct err **err)
{
    if (w->batch_len > 0)
        batch_flush(w);
    if (w->dropped == 0)
        return 0;
    size_t n = w->dropped;
    int e = w->drop_errno;
    w->dropped = 0;
    w->drop_errno = 0;
    return err_set(err, ERR_SYSTEM, e, "write %s: %zu log entries dropped", w->path, n);
}

int logs_writer_write(struct logs_writer *w, enum logs_stream s, const char *buf, size_t len,
                      struct err **err)
{
    struct logs_hold *h = &w->hold[s == LOGS_STDERR];
    struct timespec now;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &now);
    size_t when_len = format_time(&now, when);
    while (len > 0) {
        const char *nl = memchr(buf, '\n', len);
        size_t seg = nl ? (size_t)(nl - buf) + 1 : len;
        size_t room = LOGS_LINE_MAX - h->len;
        if (seg > room)
            seg = room; /* the line outgrows the buffer: this piece ends a partial entry */
        bool whole = (nl && seg == (size_t)(nl - buf) + 1) || h->len + seg == LOGS_LINE_MAX;
        if (!whole) {
            memcpy(h->buf + h->len, buf, seg);
            h->len += seg;
        } else if (h->len == 0) {
            emit(w, s, buf, seg, when, when_len);
        } else {
            memcpy(h->buf + h->len, buf, seg);
            emit(w, s, h->buf, h->len + seg, when, when_len);
            h->len = 0;
        }
        buf += seg;
        len -= seg;
    }
    return finish(w, err);
}

int logs_writer_flush(struct logs_writer *w, enum logs_stream s, struct err **err)
{
    struct logs_hold *h = &w->hold[s == LOGS_STDERR];
    if (h->len > 0) {
        struct timespec now;
        char when[40];
        clock_gettime(CLOCK_REALTIME, &now);
        size_t when_len = format_time(&now, when);
        emit(w, s, h->buf, h->len, when, when_len);
        h->len = 0;
    }
    return finish(w, err);
}

void logs_writer_close(struct logs_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        struct err *e = NULL;
        if (finish(w, &e) < 0) {
            log_warn("%s", e->msg);
            err_free(e);
        }
        close(w->fd);
    }
    free(w->batch);
    free(w->path);
    free(w);
}

void logs_frame_header(enum logs_stream s, uint32_t len, unsigned char out[8])
{
    out[0] = (unsigned char)s;
    out[1] = out[2] = out[3] = 0;
    out[4] = (unsigned char)(len >> 24);
    out[5] = (unsigned char)(len >> 16);
    out[6] = (unsigned char)(len >> 8);
    out[7] = (unsigned char)len;
}
