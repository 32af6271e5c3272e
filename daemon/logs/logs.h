/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs: the json-file log driver. The writer is used by berth-shim; the reader by berthd, on
 * the threadpool (it reads files). Lines look like docker's:
 *   {"log":"hello\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}
 * A line longer than 16 KiB is split into partial entries (no trailing '\n' in "log"). No libuv.
 */
#ifndef BERTH_LOGS_H
#define BERTH_LOGS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/common.h"

#define LOGS_LINE_MAX          (16 * 1024)
#define LOGS_DEFAULT_MAX_SIZE  (20 * 1024 * 1024) /* rotation is on by default */
#define LOGS_DEFAULT_MAX_FILES 5

enum logs_stream { LOGS_STDOUT = 1, LOGS_STDERR = 2 };

/* ---- writer (berth-shim) ----------------------------------------------------------------- */

struct logs_writer;
/*
 * Opens (appending) path, rotating to path.1 .. path.<max_files-1> when it would exceed
 * max_size bytes (max_size 0: never rotate). The file is created 0640.
 */
int logs_writer_open(const char *path, int64_t max_size, int max_files, struct logs_writer **out,
                     struct err **err);
/* Appends output of one stream; complete lines are written at once, a tail is held back until
 * its newline arrives or it reaches LOGS_LINE_MAX (then written as a partial entry). */
int logs_writer_write(struct logs_writer *w, enum logs_stream s, const char *buf, size_t len,
                      struct err **err);
/* Writes what is held back for s (its stream ended). */
int logs_writer_flush(struct logs_writer *w, enum logs_stream s, struct err **err);
void logs_writer_close(struct logs_writer *w);

/* ---- reader (berthd, threadpool) --------------------------------------------------------- */

struct logs_entry {
    enum logs_stream stream;
    struct timespec time;
    const char *data; /* decoded "log" bytes (not NUL-terminated) */
    size_t len;
};

struct logs_query {
    bool out, err;    /* which streams */
    int64_t since_ns; /* 0 = from the start */
    int64_t until_ns; /* 0 = no end */
    long tail;        /* -1 = all, else the last N entries that match */
};

/* Where a reader stopped: the file (by inode) and offset, for following. */
struct logs_pos {
    uint64_t inode;
    int64_t offset;
};

/*
 * Calls cb for every entry of path and its rotated files that matches q, oldest first; *end
 * is where the live file ends, for logs_follow. cb returns 0 to go on, -1 to stop.
 */
typedef int (*logs_cb)(const struct logs_entry *e, void *data);
int logs_read(const char *path, const struct logs_query *q, logs_cb cb, void *data,
              struct logs_pos *end, struct err **err);
/*
 * Entries appended since pos (following a rotation to the new file when the inode changed);
 * updates pos. A partially written last line is left for the next call.
 */
int logs_read_from(const char *path, const struct logs_query *q, struct logs_pos *pos, logs_cb cb,
                   void *data, struct err **err);

/* The docker CLI's 8-byte stream header for a non-tty frame (stream 1 or 2, length). */
void logs_frame_header(enum logs_stream s, uint32_t len, unsigned char out[8]);

#endif
