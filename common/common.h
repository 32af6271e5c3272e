/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common: the error object, cleanup attributes, OOM-aborting allocation, the string buffer,
 * fd/fs helpers and logging. Everything here is thread-safe except where a prototype says
 * otherwise, and nothing here uses libuv.
 */
#ifndef BERTH_COMMON_H
#define BERTH_COMMON_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#include <sys/types.h>

/* ---- cleanup attributes ------------------------------------------------------------------ */

#define _cleanup_(fn)   __attribute__((cleanup(fn)))
#define _cleanup_free_  _cleanup_(cleanup_freep)
#define _cleanup_close_ _cleanup_(cleanup_closep)
#define _cleanup_err_   _cleanup_(err_freep)
#define _unused_        __attribute__((unused))
#define _printf_(a, b)  __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))

void cleanup_freep(void *p);
void cleanup_closep(int *fd);

/* Hand ownership of a pointer or an fd out of a cleanup-owned local. */
static inline void *steal_ptr_impl(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}
#define steal_ptr(pp) steal_ptr_impl(pp)
static inline int steal_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

/* ---- allocation: aborts on OOM, never returns NULL --------------------------------------- */

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* ---- the error object -------------------------------------------------------------------- */

/*
 * Kinds are what callers act on; the router maps each to one HTTP status and the CLI maps it to
 * an exit code. errnum is the errno behind the failure, or 0.
 */
enum err_kind {
    ERR_INTERNAL = 0,
    ERR_INVALID,      /* the request or input is wrong: 400 */
    ERR_NOT_FOUND,    /* 404 */
    ERR_CONFLICT,     /* 409 */
    ERR_UNAUTHORIZED, /* 401 */
    ERR_FORBIDDEN,    /* 403 */
    ERR_NOT_MODIFIED, /* 304: success with nothing to do */
    ERR_TOO_LARGE,    /* 413 */
    ERR_UNAVAILABLE,  /* 503 */
    ERR_SYSTEM,       /* 500, an OS call failed */
};

struct err {
    enum err_kind kind;
    int errnum;
    char *msg; /* owned */
};

/*
 * err_set: fills *err (when err is non-NULL) and returns -1, so `return err_set(...)` reads as
 * "fail with". When errnum is non-zero, ": strerror(errnum)" is appended.
 */
int err_set(struct err **err, enum err_kind kind, int errnum, const char *fmt, ...) _printf_(4, 5);
/* err_wrap: prefixes "<context>: " to an existing error; returns -1. */
int err_wrap(struct err **err, const char *fmt, ...) _printf_(2, 3);
void err_free(struct err *e);
void err_freep(struct err **e);
const char *err_kind_name(enum err_kind kind);

/* ---- string buffer ----------------------------------------------------------------------- */

struct sb {
    char *buf; /* always NUL-terminated when cap > 0 */
    size_t len;
    size_t cap;
};

#define SB_INIT                                                                                    \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }
void sb_init(struct sb *sb);
void sb_release(struct sb *sb);
void sb_reset(struct sb *sb);
void sb_grow(struct sb *sb, size_t extra);
void sb_add(struct sb *sb, const void *data, size_t len);
void sb_adds(struct sb *sb, const char *s);
void sb_addc(struct sb *sb, char c);
void sb_addf(struct sb *sb, const char *fmt, ...) _printf_(2, 3);
void sb_consume(struct sb *sb, size_t n); /* drop the first n bytes */
char *sb_steal(struct sb *sb);            /* caller frees; sb is left empty */
const char *sb_str(struct sb *sb);        /* "" when empty */

/* ---- logging (the log sink is the one global; set it once at start-up) ------------------ */

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR, LOG_LVL_FATAL };

int log_level_parse(const char *s, enum log_level *out);
void log_setup(enum log_level level, int fd);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

/* ---- fd and filesystem helpers (blocking: call from start-up or the threadpool) ---------- */

/* Writes all of buf, retrying on EINTR and short writes. Returns 0 or -errno. */
int fdu_write_all(int fd, const void *buf, size_t len);
/* Reads the whole file at path (at most max bytes, else -EFBIG). Returns 0 or -errno. */
int fsu_read_file(const char *path, size_t max, char **out, size_t *outlen);
/*
 * Atomically replaces path with data: writes <path>.tmp-XXXXXX, fsyncs it, renames it over path
 * and fsyncs the directory. Never leaves a half-written file at path.
 */
int fsu_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err **err);
/*
 * For files rebuilt before every use while nothing reads them (a container's hosts and
 * resolv.conf, written at each of its starts): written in place (O_TRUNC, no symlink
 * followed), no temp file, no fsync. The inode is kept, which spares the filesystem an
 * allocation per start; a crash may leave the file torn, and the next start rewrites it.
 */
int fsu_write_replace(const char *path, const void *data, size_t len, mode_t mode,
                      struct err **err);
/*
 * Removes path and everything below it without following symlinks or crossing mounts; a
 * missing path is success. Blocking: start-up or the threadpool.
 */
int fsu_rmtree(const char *path, struct err **err);
/*
 * Removes name (one component) in dirfd and everything below it by descriptors alone, for trees
 * someone else may be changing (a container's root): each directory is opened O_NOFOLLOW and
 * entries are removed with unlinkat, so a symlink is removed, never followed; a mount point is
 * ERR_CONFLICT and a tree over 512 levels deep ERR_INVALID. Missing is success. Blocking.
 */
int fsu_rmtree_at(int dirfd, const char *name, struct err **err);
/*
 * Creates path (which must not exist) with data, for files in a directory nobody sees yet (it
 * is renamed into place afterwards): no temp file, and an fsync only when sync is set.
 */
int fsu_write_new(const char *path, const void *data, size_t len, mode_t mode, bool sync,
                  struct err **err);
/* fsync of a directory (after renames into it). */
int fsu_sync_dir(const char *path, struct err **err);
/* mkdir -p with mode for the directories it creates; 0 or -1 with err. */
int fsu_mkdir_p(const char *path, mode_t mode, struct err **err);

/* ---- digests (sha256 through OpenSSL's libcrypto) ---------------------------------------- */

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */

struct digest_ctx;
struct digest_ctx *digest_new(void);
void digest_update(struct digest_ctx *d, const void *data, size_t len);
/* Writes "sha256:<hex>" into out and frees d. */
void digest_final(struct digest_ctx *d, char out[DIGEST_STR_LEN + 1]);
void digest_free(struct digest_ctx *d);
/* One-shot: "sha256:<hex>" of data. */
void digest_buf(const void *data, size_t len, char out[DIGEST_STR_LEN + 1]);
/*
 * A well-formed digest is exactly "sha256:" and 64 lowercase hex characters; anything else is
 * refused before it is ever used to build a path.
 */
bool digest_valid(const char *s);
/* The hex part of a valid digest (points into s). */
const char *digest_hex(const char *s);

/* ---- libraries loaded at first use (any thread) ----------------------------------------- */

/*
 * libcurl and libarchive, with the libraries they pull in, are about 7 MiB of resident pages
 * once loaded, and an idle daemon needs neither. Their modules call them through wrappers
 * (daemon/registry/curl_lazy.c, daemon/layer/archive_lazy.c) that load the library with dlopen
 * at the first call. Calling a function of theirs that has no wrapper is a link error.
 */
struct lazy_lib {
    const char *soname;
    void *handle;
    pthread_mutex_t lock;
};
#define LAZY_LIB_INIT(so)                                                                          \
    {                                                                                              \
        .soname = (so), .handle = NULL, .lock = PTHREAD_MUTEX_INITIALIZER                          \
    }
/* The address of name in lib, loading lib first. A library or symbol that cannot be found is
 * an installation error: logged with its name, then abort(). */
void *lazy_sym(struct lazy_lib *lib, const char *name);
/* In a wrapper named f: declares lazy_f_, the real f (looked up once, then cached). */
#define LAZY_FN(lib, f)                                                                            \
    static __typeof__(&f) lazy_p_;                                                                 \
    __typeof__(&f) lazy_f_ = __atomic_load_n(&lazy_p_, __ATOMIC_ACQUIRE);                          \
    if (!lazy_f_) {                                                                                \
        void *lazy_s_ = lazy_sym((lib), #f);                                                       \
        memcpy(&lazy_f_, &lazy_s_, sizeof(lazy_f_));                                               \
        __atomic_store_n(&lazy_p_, lazy_f_, __ATOMIC_RELEASE);                                     \
    }

/* ---- base64 (any thread) ----------------------------------------------------------------- */

/* Padded base64; url selects the URL-safe alphabet. Caller frees. */
char *b64_encode(const void *data, size_t len, bool url);
/* Decodes either alphabet, padding optional; NULL when malformed. Caller frees (NUL-terminated);
 * outlen (may be NULL) gets the length. */
char *b64_decode(const char *s, size_t *outlen);

/* ---- time -------------------------------------------------------------------------------- */

/* RFC 3339 with nanoseconds in UTC, as docker prints times: 2024-01-02T03:04:05.123456789Z. */
void time_rfc3339nano(const struct timespec *ts, char out[40]);
/* RFC 1123 in GMT for the HTTP Date header. */
void time_http_date(time_t t, char out[40]);

#endif
