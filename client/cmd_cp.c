/* SPDX-License-Identifier: Apache-2.0 */
/* berth export, import and cp: container files in and out as tar streams. */
#include "client/images.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>

#include "client/tar.h"

static int cp_jm_put(const char *data, size_t len, void *ud, struct err **err)
{
    return cli_jm_feed(ud, data, len, err);
}

/* A GET whose body goes to output (a temporary file renamed once complete) or stdout. */
static int cp_get_to(struct cli_ctx *ctx, const char *path, const char *output, struct err **err)
{
    return cli_api_get_to(ctx, path, output, "failed to export container", "write", err);
}

/* ---- export ---------------------------------------------------------------------------------- */

int cli_cmd_export(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *output = cli_flag_str(args, "output");
    if ((!output || !*output) && isatty(fileno(ctx->out)))
        return err_set(err, ERR_INVALID, 0,
                       "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    struct sb p = SB_INIT;
    sb_adds(&p, "/containers/");
    cli_path_escape(args->argv[0], &p);
    sb_adds(&p, "/export");
    _cleanup_free_ char *path = sb_steal(&p);
    return cp_get_to(ctx, path, output, err);
}

/* ---- import ---------------------------------------------------------------------------------- */

static bool cp_is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static char *cp_import_path(const struct cli_args *args, const char *src)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/images/create?fromSrc=");
    cli_query_escape(src, &p);
    if (args->argc > 1) {
        /* as the docker CLI: the tag travels inside repo */
        sb_adds(&p, "&repo=");
        cli_query_escape(args->argv[1], &p);
    }
    const char *msg = cli_flag_str(args, "message");
    if (msg && *msg) {
        sb_adds(&p, "&message=");
        cli_query_escape(msg, &p);
    }
    const struct cli_flag_val *ch = cli_flag(args, "change");
    for (size_t i = 0; ch && i < ch->nlist; i++) {
        sb_adds(&p, "&changes=");
        cli_query_escape(ch->list[i], &p);
    }
    return sb_steal(&p);
}

int cli_cmd_import(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *src = args->argv[0];
    _cleanup_close_ int fd = -1;
    int body = -1;
    if (cp_is_url(src)) {
        body = -1;
    } else if (strcmp(src, "-") == 0) {
        body = STDIN_FILENO;
    } else {
        fd = open(src, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return err_set(err, ERR_SYSTEM, errno, "open %s", src);
        body = fd;
    }
    _cleanup_free_ char *path = cp_import_path(args, cp_is_url(src) ? src : "-");
    struct cli_jm jm;
    cli_jm_init(&jm, ctx->out, isatty(fileno(ctx->out)), cli_term_width(fileno(ctx->out)));
    int r = cli_api_stream(ctx, "POST", path, body >= 0 ? "application/x-tar" : NULL, body, NULL,
                           cp_jm_put, &jm, NULL, err);
    if (r == 0)
        r = cli_jm_finish(&jm, err);
    if (jm.error) {
        fflush(ctx->out);
        fprintf(ctx->errf, "%s\n", jm.error);
        r = 1;
    }
    cli_jm_release(&jm);
    return r;
}

/* ---- cp -----------------------------------------------------------------------------------------
 */

/* Go's filepath.Clean, lexically. Caller frees. */
static char *cp_clean(const char *path)
{
    bool abs = path[0] == '/';
    _cleanup_free_ char *copy = xstrdup(path);
    char **parts = xcalloc(strlen(path) / 2 + 2, sizeof(char *));
    size_t n = 0;
    for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0 && n > 0 && strcmp(parts[n - 1], "..") != 0) {
            n--;
            continue;
        }
        if (strcmp(c, "..") == 0 && abs)
            continue;
        parts[n++] = c;
    }
    struct sb out = SB_INIT;
    if (abs)
        sb_addc(&out, '/');
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_addc(&out, '/');
        sb_adds(&out, parts[i]);
    }
    free(parts);
    if (out.len == 0)
        sb_addc(&out, '.');
    return sb_steal(&out);
}

static bool cp_is_current_dir(const char *path)
{
    size_t n = strlen(path);
    return strcmp(path, ".") == 0 || (n >= 2 && strcmp(path + n - 2, "/.") == 0);
}

static bool cp_asserts_dir(const char *path)
{
    size_t n = strlen(path);
    return (n > 0 && path[n - 1] == '/') || cp_is_current_dir(path);
}

/* docker's archive.SplitPathDirEntry: "/a/b/" -> ("/a", "b"), "/a/." -> ("/a", "."). */
static void cp_split(const char *path, char **dir, char **base)
{
    _cleanup_free_ char *clean = cp_clean(path);
    if (cp_is_current_dir(path) && strcmp(clean, ".") != 0) {
        char *c2 = xasprintf("%s/.", clean);
        free(clean);
        clean = c2;
    }
    char *slash = strrchr(clean, '/');
    if (!slash) {
        *dir = xstrdup(".");
        *base = xstrdup(clean);
    } else if (slash == clean) {
        *dir = xstrdup("/");
        *base = xstrdup(slash[1] ? slash + 1 : "/");
    } else {
        *dir = xstrndup(clean, (size_t)(slash - clean));
        *base = xstrdup(slash + 1);
    }
}

struct cp_stat {
    bool exists, is_dir, is_link;
    char *link_target;
};

static void cp_stat_release(struct cp_stat *s)
{
    free(s->link_target);
    memset(s, 0, sizeof(*s));
}

static char *cp_archive_path(const char *ctr, const char *path, const char *extra)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/containers/");
    cli_path_escape(ctr, &p);
    sb_adds(&p, "/archive?path=");
    cli_query_escape(path, &p);
    if (extra)
        sb_adds(&p, extra);
    return sb_steal(&p);
}

/* HEAD archive: the container path's stat. A missing path is exists = false (not an error). */
static int cp_container_stat(struct cli_ctx *ctx, const char *ctr, const char *path,
                             struct cp_stat *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 || cli_client_negotiate(cl, err) < 0)
        return -1;
    _cleanup_free_ char *p = cp_archive_path(ctr, path, NULL);
    _cleanup_free_ char *vpath = xasprintf("/v%s%s", cl->api_version, p);
    struct cli_http_resp resp;
    if (cli_client_raw(cl, "HEAD", vpath, NULL, NULL, 0, NULL, &resp, NULL, NULL, err) < 0)
        return -1;
    int r = 0;
    if (resp.status == 404 && ctr) {
        /* the container or the path: ask for the container to tell them apart */
        _cleanup_free_ char *cpath = xasprintf("/containers/%s/json", ctr);
        json_t *j = NULL;
        r = cli_client_call(cl, "GET", cpath, NULL, &j, err);
        json_decref(j);
    } else if (resp.status >= 400) {
        r = cli_http_status_error(&resp, err);
    } else {
        const char *h = cli_http_resp_header(&resp, "X-Docker-Container-Path-Stat");
        _cleanup_free_ char *text = h ? b64_decode(h, NULL) : NULL;
        json_auto_t *j = text ? json_loads(text, 0, NULL) : NULL;
        uint64_t mode = (uint64_t)json_integer_value(json_object_get(j, "mode"));
        const char *lt = json_string_value(json_object_get(j, "linkTarget"));
        out->exists = true;
        out->is_dir = (mode >> 31) & 1;
        out->is_link = (mode >> 27) & 1;
        out->link_target = lt && *lt ? xstrdup(lt) : NULL;
    }
    cli_http_resp_release(&resp);
    return r;
}

/* An unlinked scratch file for a tar on its way in or out. */
static int cp_scratch(struct err **err)
{
    const char *tmp = getenv("TMPDIR");
    int fd = open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    return fd < 0 ? err_set(err, ERR_SYSTEM, errno, "create a scratch file") : fd;
}

static int cp_from_container(struct cli_ctx *ctx, const struct cli_args *args, const char *ctr,
                             const char *src, const char *dst, struct err **err)
{
    _cleanup_free_ char *src_path = xstrdup(src);
    _cleanup_free_ char *rebase = NULL;
    struct cp_stat st;
    if (cli_flag_bool(args, "follow-link")) {
        if (cp_container_stat(ctx, ctr, src, &st, err) < 0)
            return -1;
        if (st.exists && st.is_link && st.link_target) {
            _cleanup_free_ char *d = NULL, *b = NULL, *tb = NULL, *td = NULL;
            cp_split(src, &d, &b);
            cp_split(st.link_target, &td, &tb);
            if (strcmp(b, tb) != 0)
                rebase = xstrdup(b);
            free(src_path);
            src_path = xstrdup(st.link_target);
        }
        cp_stat_release(&st);
    }
    if (cp_container_stat(ctx, ctr, src_path, &st, err) < 0)
        return -1;
    if (!st.exists) {
        cp_stat_release(&st);
        return err_set(err, ERR_NOT_FOUND, 0,
                       "Error response from daemon: Could not find the file %s in container %s",
                       src_path, ctr);
    }
    bool src_dir = st.is_dir;
    cp_stat_release(&st);
    _cleanup_free_ char *apath = cp_archive_path(ctr, src_path, NULL);
    if (strcmp(dst, "-") == 0)
        return cp_get_to(ctx, apath, NULL, err);
    /* where it lands: docker's CopyInfoDestinationPath and PrepareArchiveCopy */
    _cleanup_free_ char *sdir = NULL, *sbase = NULL;
    cp_split(src_path, &sdir, &sbase);
    _cleanup_free_ char *dpath = xstrdup(dst);
    struct stat ds;
    bool dexists = false;
    for (int i = 0; i < 10 && lstat(dpath, &ds) == 0; i++) {
        dexists = true;
        if (!S_ISLNK(ds.st_mode))
            break;
        char target[PATH_MAX];
        ssize_t n = readlink(dpath, target, sizeof(target) - 1);
        if (n < 0)
            return err_set(err, ERR_SYSTEM, errno, "readlink %s", dpath);
        target[n] = '\0';
        _cleanup_free_ char *dd = NULL, *db = NULL;
        cp_split(dpath, &dd, &db);
        char *next = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", dd, target);
        free(dpath);
        dpath = next;
        dexists = false;
    }
    if (dexists && S_ISLNK(ds.st_mode))
        dexists = false;
    _cleanup_free_ char *ddir = NULL, *dbase = NULL;
    cp_split(dpath, &ddir, &dbase);
    if (!dexists) {
        struct stat ps;
        if (stat(ddir, &ps) < 0)
            return err_set(err, ERR_NOT_FOUND, errno, "stat %s", ddir);
        if (!S_ISDIR(ps.st_mode))
            return err_set(err, ERR_INVALID, 0, "not a directory");
    }
    const char *extract_dir = ddir, *new_base = dbase;
    if (dexists && S_ISDIR(ds.st_mode)) {
        extract_dir = dpath;
        new_base = rebase;
    } else if (dexists && src_dir) {
        return err_set(err, ERR_INVALID, 0, "cannot copy directory");
    } else if (!dexists && !src_dir && cp_asserts_dir(dpath)) {
        return err_set(err, ERR_NOT_FOUND, 0, "no such directory");
    }
    _cleanup_close_ int fd = cp_scratch(err);
    if (fd < 0)
        return -1;
    struct cli_fd_sink s = {.fd = fd, .what = "write"};
    if (cli_api_stream(ctx, "GET", apath, NULL, -1, NULL, cli_fd_put, &s, NULL, err) < 0)
        return -1;
    if (lseek(fd, 0, SEEK_SET) < 0)
        return err_set(err, ERR_SYSTEM, errno, "seek");
    return cli_tar_extract(fd, extract_dir, new_base ? sbase : NULL, new_base, err);
}

static int cp_to_container(struct cli_ctx *ctx, const struct cli_args *args, const char *src,
                           const char *ctr, const char *dst, struct err **err)
{
    struct cp_stat ds;
    _cleanup_free_ char *dpath = xstrdup(dst);
    if (cp_container_stat(ctx, ctr, dpath, &ds, err) < 0)
        return -1;
    if (ds.exists && ds.is_link && ds.link_target) {
        free(dpath);
        dpath = xstrdup(ds.link_target);
        cp_stat_release(&ds);
        if (cp_container_stat(ctx, ctr, dpath, &ds, err) < 0)
            return -1;
    }
    bool dexists = ds.exists, ddir_is = ds.is_dir;
    cp_stat_release(&ds);
    const char *extra = cli_flag_bool(args, "archive")
                            ? "&noOverwriteDirNonDir=true&copyUIDGID=true"
                            : "&noOverwriteDirNonDir=true";
    if (strcmp(src, "-") == 0) {
        if (!ddir_is)
            return err_set(err, ERR_INVALID, 0, "destination \"%s:%s\" must be a directory", ctr,
                           dst);
        _cleanup_free_ char *apath = cp_archive_path(ctr, dpath, extra);
        return cli_api_stream(ctx, "PUT", apath, "application/x-tar", STDIN_FILENO, NULL, NULL,
                              NULL, NULL, err);
    }
    /* the local source: its directory's links resolved, the last one only with -L */
    bool follow = cli_flag_bool(args, "follow-link");
    struct stat ss;
    if ((follow ? stat(src, &ss) : lstat(src, &ss)) < 0)
        return err_set(err, ERR_NOT_FOUND, errno, "stat %s", src);
    _cleanup_free_ char *sdir = NULL, *sbase = NULL, *ddir = NULL, *dbase = NULL;
    cp_split(src, &sdir, &sbase);
    cp_split(dpath, &ddir, &dbase);
    bool src_dir = S_ISDIR(ss.st_mode);
    const char *put_dir = ddir, *name = dbase;
    if (dexists && ddir_is) {
        put_dir = dpath;
        name = sbase;
    } else if (dexists && src_dir) {
        return err_set(err, ERR_INVALID, 0, "cannot copy directory");
    } else if (!dexists && !src_dir && cp_asserts_dir(dpath)) {
        return err_set(err, ERR_NOT_FOUND, 0, "no such directory");
    }
    _cleanup_close_ int fd = cp_scratch(err);
    if (fd < 0 || cli_tar_write(fd, src, name, follow, err) < 0)
        return -1;
    if (lseek(fd, 0, SEEK_SET) < 0)
        return err_set(err, ERR_SYSTEM, errno, "seek");
    _cleanup_free_ char *apath = cp_archive_path(ctr, put_dir, extra);
    return cli_api_stream(ctx, "PUT", apath, "application/x-tar", fd, NULL, NULL, NULL, NULL, err);
}

/* docker's splitCpArg: an absolute path or one starting with "." is local. */
static char *cp_split_arg(const char *arg, const char **path)
{
    const char *colon = strchr(arg, ':');
    if (arg[0] == '/' || !colon || arg[0] == '.') {
        *path = arg;
        return NULL;
    }
    *path = colon + 1;
    return xstrndup(arg, (size_t)(colon - arg));
}

int cli_cmd_cp(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *src = NULL, *dst = NULL;
    _cleanup_free_ char *sctr = cp_split_arg(args->argv[0], &src);
    _cleanup_free_ char *dctr = cp_split_arg(args->argv[1], &dst);
    if (!*src || !*dst)
        return err_set(err, ERR_INVALID, 0, "filepath can not be empty");
    if (sctr && dctr)
        return err_set(err, ERR_INVALID, 0, "copying between containers is not supported");
    if (!sctr && !dctr)
        return err_set(err, ERR_INVALID, 0, "must specify at least one container source");
    if (sctr)
        return cp_from_container(ctx, args, sctr, src, dst, err);
    return cp_to_container(ctx, args, src, dctr, dst, err);
}
