/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libarchive, loaded at the first call (see lazy_sym in common/common.h): one wrapper per
 * function the layer module uses, with libarchive's own prototypes, so the compiler checks
 * each one. A function not listed here is a link error: add its wrapper.
 */
#include "common/common.h"

#include <stdio.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

static struct lazy_lib lib_archive = LAZY_LIB_INIT(BERTH_ARCHIVE_SONAME);

/* variadic: formatted here, passed on as one string */
void archive_set_error(struct archive *a, int errnum, const char *fmt, ...)
{
    LAZY_FN(&lib_archive, archive_set_error);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lazy_f_(a, errnum, "%s", msg);
}

time_t archive_entry_atime(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_atime);
    return lazy_f_(a0);
}

int archive_entry_atime_is_set(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_atime_is_set);
    return lazy_f_(a0);
}

long archive_entry_atime_nsec(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_atime_nsec);
    return lazy_f_(a0);
}

mode_t archive_entry_filetype(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_filetype);
    return lazy_f_(a0);
}

void archive_entry_free(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_free);
    lazy_f_(a0);
}

la_int64_t archive_entry_gid(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_gid);
    return lazy_f_(a0);
}

const char *archive_entry_hardlink(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_hardlink);
    return lazy_f_(a0);
}

time_t archive_entry_mtime(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_mtime);
    return lazy_f_(a0);
}

long archive_entry_mtime_nsec(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_mtime_nsec);
    return lazy_f_(a0);
}

struct archive_entry *archive_entry_new(void)
{
    LAZY_FN(&lib_archive, archive_entry_new);
    return lazy_f_();
}

const char *archive_entry_pathname(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_pathname);
    return lazy_f_(a0);
}

mode_t archive_entry_perm(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_perm);
    return lazy_f_(a0);
}

dev_t archive_entry_rdevmajor(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_rdevmajor);
    return lazy_f_(a0);
}

dev_t archive_entry_rdevminor(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_rdevminor);
    return lazy_f_(a0);
}

void archive_entry_set_filetype(struct archive_entry *a0, unsigned int a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_filetype);
    lazy_f_(a0, a1);
}

void archive_entry_set_gid(struct archive_entry *a0, la_int64_t a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_gid);
    lazy_f_(a0, a1);
}

void archive_entry_set_hardlink(struct archive_entry *a0, const char *a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_hardlink);
    lazy_f_(a0, a1);
}

void archive_entry_set_mtime(struct archive_entry *a0, time_t a1, long a2)
{
    LAZY_FN(&lib_archive, archive_entry_set_mtime);
    lazy_f_(a0, a1, a2);
}

void archive_entry_set_pathname(struct archive_entry *a0, const char *a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_pathname);
    lazy_f_(a0, a1);
}

void archive_entry_set_perm(struct archive_entry *a0, mode_t a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_perm);
    lazy_f_(a0, a1);
}

void archive_entry_set_rdevmajor(struct archive_entry *a0, dev_t a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_rdevmajor);
    lazy_f_(a0, a1);
}

void archive_entry_set_rdevminor(struct archive_entry *a0, dev_t a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_rdevminor);
    lazy_f_(a0, a1);
}

void archive_entry_set_size(struct archive_entry *a0, la_int64_t a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_size);
    lazy_f_(a0, a1);
}

void archive_entry_set_symlink(struct archive_entry *a0, const char *a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_symlink);
    lazy_f_(a0, a1);
}

void archive_entry_set_uid(struct archive_entry *a0, la_int64_t a1)
{
    LAZY_FN(&lib_archive, archive_entry_set_uid);
    lazy_f_(a0, a1);
}

la_int64_t archive_entry_size(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_size);
    return lazy_f_(a0);
}

int archive_entry_size_is_set(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_size_is_set);
    return lazy_f_(a0);
}

const char *archive_entry_symlink(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_symlink);
    return lazy_f_(a0);
}

la_int64_t archive_entry_uid(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_uid);
    return lazy_f_(a0);
}

void archive_entry_xattr_add_entry(struct archive_entry *a0, const char *a1, const void *a2,
                                   size_t a3)
{
    LAZY_FN(&lib_archive, archive_entry_xattr_add_entry);
    lazy_f_(a0, a1, a2, a3);
}

int archive_entry_xattr_next(struct archive_entry *a0, const char **a1, const void **a2, size_t *a3)
{
    LAZY_FN(&lib_archive, archive_entry_xattr_next);
    return lazy_f_(a0, a1, a2, a3);
}

int archive_entry_xattr_reset(struct archive_entry *a0)
{
    LAZY_FN(&lib_archive, archive_entry_xattr_reset);
    return lazy_f_(a0);
}

int archive_errno(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_errno);
    return lazy_f_(a0);
}

const char *archive_error_string(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_error_string);
    return lazy_f_(a0);
}

int archive_filter_count(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_filter_count);
    return lazy_f_(a0);
}

const char *archive_filter_name(struct archive *a0, int a1)
{
    LAZY_FN(&lib_archive, archive_filter_name);
    return lazy_f_(a0, a1);
}

la_ssize_t archive_read_data(struct archive *a0, void *a1, size_t a2)
{
    LAZY_FN(&lib_archive, archive_read_data);
    return lazy_f_(a0, a1, a2);
}

int archive_read_data_block(struct archive *a0, const void **a1, size_t *a2, la_int64_t *a3)
{
    LAZY_FN(&lib_archive, archive_read_data_block);
    return lazy_f_(a0, a1, a2, a3);
}

int archive_read_free(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_read_free);
    return lazy_f_(a0);
}

struct archive *archive_read_new(void)
{
    LAZY_FN(&lib_archive, archive_read_new);
    return lazy_f_();
}

int archive_read_next_header(struct archive *a0, struct archive_entry **a1)
{
    LAZY_FN(&lib_archive, archive_read_next_header);
    return lazy_f_(a0, a1);
}

int archive_read_open(struct archive *a0, void *a1, archive_open_callback *a2,
                      archive_read_callback *a3, archive_close_callback *a4)
{
    LAZY_FN(&lib_archive, archive_read_open);
    return lazy_f_(a0, a1, a2, a3, a4);
}

int archive_read_open_fd(struct archive *a0, int a1, size_t a2)
{
    LAZY_FN(&lib_archive, archive_read_open_fd);
    return lazy_f_(a0, a1, a2);
}

int archive_read_support_filter_gzip(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_read_support_filter_gzip);
    return lazy_f_(a0);
}

int archive_read_support_filter_none(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_read_support_filter_none);
    return lazy_f_(a0);
}

int archive_read_support_filter_zstd(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_read_support_filter_zstd);
    return lazy_f_(a0);
}

int archive_read_support_format_raw(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_read_support_format_raw);
    return lazy_f_(a0);
}

int archive_read_support_format_tar(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_read_support_format_tar);
    return lazy_f_(a0);
}

int archive_write_close(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_write_close);
    return lazy_f_(a0);
}

la_ssize_t archive_write_data(struct archive *a0, const void *a1, size_t a2)
{
    LAZY_FN(&lib_archive, archive_write_data);
    return lazy_f_(a0, a1, a2);
}

int archive_write_free(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_write_free);
    return lazy_f_(a0);
}

int archive_write_header(struct archive *a0, struct archive_entry *a1)
{
    LAZY_FN(&lib_archive, archive_write_header);
    return lazy_f_(a0, a1);
}

struct archive *archive_write_new(void)
{
    LAZY_FN(&lib_archive, archive_write_new);
    return lazy_f_();
}

int archive_write_open(struct archive *a0, void *a1, archive_open_callback *a2,
                       archive_write_callback *a3, archive_close_callback *a4)
{
    LAZY_FN(&lib_archive, archive_write_open);
    return lazy_f_(a0, a1, a2, a3, a4);
}

int archive_write_set_bytes_in_last_block(struct archive *a0, int a1)
{
    LAZY_FN(&lib_archive, archive_write_set_bytes_in_last_block);
    return lazy_f_(a0, a1);
}

int archive_write_set_bytes_per_block(struct archive *a0, int a1)
{
    LAZY_FN(&lib_archive, archive_write_set_bytes_per_block);
    return lazy_f_(a0, a1);
}

int archive_write_set_format_pax_restricted(struct archive *a0)
{
    LAZY_FN(&lib_archive, archive_write_set_format_pax_restricted);
    return lazy_f_(a0);
}
