/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixtures shared by the unit tests (cmocka): shell commands that must succeed, private
 * temporary directories, file digests and fd counts. Every helper fails the running test
 * (fail_msg / assert_*) instead of returning an error.
 */
#pragma once

#include <stddef.h>

#include "common/common.h"

/* Runs the printf-formatted shell command with system(3); fails the test unless it exits 0. */
void tu_run(const char *fmt, ...) _printf_(1, 2);

/* Creates the directory /tmp/berth-<name>-XXXXXX into buf (size bytes); fails the test when it
 * cannot. */
void tu_mkdtemp(char *buf, size_t size, const char *name);

/* The sha256sum(1) of the file at path as "sha256:<hex>" into out. */
void tu_sha256sum(const char *path, char out[DIGEST_STR_LEN + 1]);

/* The number of fds this process has open now. */
int tu_count_fds(void);

/* POST /containers/create from docker run -i -t --name x busybox /bin/sh, as docker CLI 28.2.2
 * sent it (1734 bytes with its '\n'; testdata.c). */
extern const char tu_create_body_1734[];

/* A private directory with the path of a file in it (the file is not created). */
struct tu_tmpfile {
    char dir[64];
    char path[128];
};
/* A new /tmp/berth-<name>-XXXXXX with path <dir>/<file>; free with tu_tmpfile_free. */
struct tu_tmpfile *tu_tmpfile_new(const char *name, const char *file);
/* Removes the directory and everything in it, frees t (NULL is fine). */
void tu_tmpfile_free(struct tu_tmpfile *t);

/* <base>/<name> into buf (size bytes), made as a directory with mode unless mode is 0. */
void tu_path(char *buf, size_t size, const char *base, const char *name, unsigned mode);
