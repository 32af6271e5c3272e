/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth create, run and start. run pulls a missing image as docker run does; without -d it
 * starts the container, follows its logs until it stops and exits with its status (attaching
 * for real comes with the attach endpoint).
 */
#include "client/containers.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "api/containers.h"
#include "client/images.h"

char *cli_ctr_path(const char *name, const char *suffix)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/containers/");
    cli_path_escape(name, &p);
    sb_adds(&p, suffix);
    return sb_steal(&p);
}

/* docker's reportError: "berth: <msg>" and the help hint; the status docker would exit with. */
static int run_report(struct cli_ctx *ctx, const struct cli_args *args, const char *msg, int status)
{
    fflush(ctx->out);
    fprintf(ctx->errf, "berth: %s\n\nRun 'berth %s --help' for more information\n", msg,
            args->cmd->name);
    return status;
}

/* runStartContainerErr: 127 for a missing executable, 126 for one that cannot run. */
static int start_status(const char *msg)
{
    if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory") ||
        strstr(msg, "system cannot find the file specified"))
        return 127;
    if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
        return 126;
    return 125;
}

static void console_size(int out[2])
{
    struct winsize ws;
    out[0] = out[1] = 0;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
        out[0] = ws.ws_row;
        out[1] = ws.ws_col;
    }
}

static char *create_path(const struct cli_args *args)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/containers/create");
    const char *name = cli_flag_str(args, "name");
    const char *platform = cli_flag_str(args, "platform");
    if (name) {
        sb_adds(&p, "?name=");
        cli_query_escape(name, &p);
    }
    if (platform && *platform) {
        sb_adds(&p, name ? "&platform=" : "?platform=");
        cli_query_escape(platform, &p);
    }
    return sb_steal(&p);
}

static char *familiar_tagged(const char *image)
{
    struct cli_ref ref;
    if (cli_ref_parse(image, &ref, NULL) < 0)
        return xstrdup(image);
    if (!ref.tag && !ref.digest)
        ref.tag = xstrdup("latest");
    _cleanup_free_ char *fam = cli_ref_familiar(&ref);
    char *s = ref.digest ? xasprintf("%s@%s", fam, ref.digest)
              : ref.tag  ? xasprintf("%s:%s", fam, ref.tag)
                         : xstrdup(fam);
    cli_ref_release(&ref);
    return s;
}

/* POST /containers/create, pulling the image once when the daemon lacks it. */
static int create_container(struct cli_ctx *ctx, const struct cli_args *args, json_t *body,
                            json_t **reply, struct err **err)
{
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    _cleanup_free_ char *path = create_path(args);
    if (cli_client_call(cl, "POST", path, body, reply, err) == 0)
        return 0;
    if ((*err)->kind != ERR_NOT_FOUND || !strstr((*err)->msg, "No such image"))
        return -1;
    err_freep(err);
    const char *image = args->argv[0];
    _cleanup_free_ char *shown = familiar_tagged(image);
    fprintf(ctx->errf, "Unable to find image '%s' locally\n", shown);
    int r = cli_pull_image(ctx, ctx->errf, image, cli_flag_str(args, "platform"), err);
    if (r != 0)
        return r;
    return cli_client_call(cl, "POST", path, body, reply, err);
}

/* Builds the body and creates the container; *id is its ID. Returns 0 or an exit status. */
static int do_create(struct cli_ctx *ctx, const struct cli_args *args, bool detach, char **id)
{
    int console[2];
    console_size(console);
    struct api_container_config c;
    _cleanup_err_ struct err *e = NULL;
    if (cli_run_config(args, detach, console, &c, &e) < 0)
        return run_report(ctx, args, e->msg, 125);
    json_auto_t *body = api_container_create_encode(&c);
    api_container_config_release(&c);
    json_auto_t *reply = NULL;
    int r = create_container(ctx, args, body, &reply, &e);
    if (r == 1)
        return 125; /* the pull's own error is printed */
    if (r < 0)
        return run_report(ctx, args, e->msg, 125);
    const char *cid = json_string_value(json_object_get(reply, "Id"));
    if (!cid)
        return run_report(ctx, args, "the daemon's create reply has no Id", 125);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(reply, "Warnings"), i, w)
    {
        if (json_is_string(w))
            fprintf(ctx->errf, "WARNING: %s\n", json_string_value(w));
    }
    *id = xstrdup(cid);
    return 0;
}

int cli_cmd_create(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    (void)err;
    _cleanup_free_ char *id = NULL;
    int r = do_create(ctx, args, false, &id);
    if (r == 0)
        fprintf(ctx->out, "%s\n", id);
    return r;
}

/* ---- following a container until it stops ---------------------------------------------- */

/* A request sent now whose reply is read later (wait, opened before start as docker does). */
struct pending {
    struct cli_conn conn;
    bool open;
};

static int pending_send(struct cli_ctx *ctx, struct pending *p, const char *path, struct err **err)
{
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 || cli_client_negotiate(cl, err) < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(cl->sock_path) >= sizeof(sa.sun_path))
        return err_set(err, ERR_INVALID, 0, "socket path too long: %s", cl->sock_path);
    strcpy(sa.sun_path, cl->sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return err_set(err, ERR_UNAVAILABLE, e, "connecting to %s", cl->host);
    }
    cli_conn_init(&p->conn, fd);
    p->open = true;
    _cleanup_free_ char *req =
        xasprintf("POST /v%s%s HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli/%s\r\n"
                  "Content-Length: 0\r\nConnection: close\r\n\r\n",
                  cl->api_version, path, BERTH_VERSION);
    int r = fdu_write_all(fd, req, strlen(req));
    return r < 0 ? err_set(err, ERR_SYSTEM, -r, "sending %s", path) : 0;
}

/* The wait reply's StatusCode, or -1 with err. */
static int pending_wait_status(struct pending *p, int *code, struct err **err)
{
    struct cli_http_resp resp;
    int r = cli_http_read_response(&p->conn, false, &resp, NULL, NULL, err);
    if (r == 0 && resp.status >= 400)
        r = cli_http_status_error(&resp, err);
    json_auto_t *j = NULL;
    if (r == 0)
        r = api_json_parse(resp.body.buf ? resp.body.buf : "", resp.body.len, &j, err);
    if (r == 0) {
        json_t *e = json_object_get(j, "Error");
        const char *msg = json_string_value(json_object_get(e, "Message"));
        if (msg)
            r = err_set(err, ERR_INTERNAL, 0, "%s", msg);
        else
            *code = (int)json_integer_value(json_object_get(j, "StatusCode"));
    }
    cli_http_resp_release(&resp);
    return r;
}

static void pending_release(struct pending *p)
{
    if (p->open)
        cli_conn_release(&p->conn);
    p->open = false;
}

static int demux_put(const char *data, size_t len, void *ud, struct err **err)
{
    return cli_demux_feed(ud, data, len, err);
}

/* Streams the container's output until it stops (logs?follow=1, since the given time). */
static int follow_output(struct cli_ctx *ctx, const char *id, bool tty, const char *since,
                         struct err **err)
{
    _cleanup_free_ char *base = cli_ctr_path(id, "/logs?follow=1");
    _cleanup_free_ char *path = since ? xasprintf("%s&since=%s&stderr=1&stdout=1", base, since)
                                      : xasprintf("%s&stderr=1&stdout=1", base);
    struct cli_demux d;
    cli_demux_init(&d, ctx->out, ctx->errf, tty);
    return cli_api_stream(ctx, "GET", path, NULL, -1, NULL, demux_put, &d, NULL, err);
}

/*
 * Starts id (unless already started), shows its output until it stops, and returns its exit
 * status; wait_cond is docker's condition for the wait opened before start.
 */
static int start_and_follow(struct cli_ctx *ctx, const struct cli_args *args, const char *id,
                            bool tty, const char *wait_cond, bool from_run)
{
    struct pending wait = {.open = false};
    _cleanup_err_ struct err *e = NULL;
    _cleanup_free_ char *wpath = cli_ctr_path(id, wait_cond);
    if (pending_send(ctx, &wait, wpath, &e) < 0) {
        fprintf(ctx->errf, "%s\n", e->msg);
        return 125;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    _cleanup_free_ char *since =
        from_run ? NULL : xasprintf("%lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
    struct cli_client *cl = NULL;
    _cleanup_free_ char *spath = cli_ctr_path(id, "/start");
    if (cli_ctx_client(ctx, &cl, &e) < 0 ||
        cli_client_call(cl, "POST", spath, NULL, NULL, &e) < 0) {
        pending_release(&wait);
        if (from_run)
            return run_report(ctx, args, e->msg, start_status(e->msg));
        fprintf(ctx->errf, "%s\n", e->msg);
        return 1;
    }
    if (follow_output(ctx, id, tty, since, &e) < 0 && e->kind != ERR_NOT_FOUND)
        fprintf(ctx->errf, "%s\n", e->msg);
    err_freep(&e);
    fflush(ctx->out);
    int code = 0;
    int r = pending_wait_status(&wait, &code, &e);
    pending_release(&wait);
    if (r < 0) {
        fprintf(ctx->errf, "Error waiting for container: %s\n", e->msg);
        return 125;
    }
    return code;
}

int cli_cmd_run(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    (void)err;
    bool detach = cli_flag_bool(args, "detach");
    _cleanup_free_ char *id = NULL;
    int r = do_create(ctx, args, detach, &id);
    if (r != 0)
        return r;
    if (!detach) {
        const char *cond =
            cli_flag_bool(args, "rm") ? "/wait?condition=removed" : "/wait?condition=next-exit";
        return start_and_follow(ctx, args, id, cli_flag_bool(args, "tty"), cond, true);
    }
    struct cli_client *cl = NULL;
    _cleanup_err_ struct err *e = NULL;
    _cleanup_free_ char *path = cli_ctr_path(id, "/start");
    if (cli_ctx_client(ctx, &cl, &e) < 0 || cli_client_call(cl, "POST", path, NULL, NULL, &e) < 0)
        return run_report(ctx, args, e->msg, start_status(e->msg));
    fprintf(ctx->out, "%s\n", id);
    return 0;
}

/* ---- start ------------------------------------------------------------------------------ */

static int start_attached(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    if (args->argc > 1)
        return err_set(err, ERR_INVALID, 0,
                       "you cannot start and attach multiple containers at "
                       "once");
    struct cli_client *cl = NULL;
    json_auto_t *info = NULL;
    _cleanup_free_ char *path = cli_ctr_path(args->argv[0], "/json");
    if (cli_ctx_client(ctx, &cl, err) < 0 || cli_client_call(cl, "GET", path, NULL, &info, err) < 0)
        return -1;
    const char *id = json_string_value(json_object_get(info, "Id"));
    json_t *cfg = json_object_get(info, "Config");
    if (!id)
        return err_set(err, ERR_INTERNAL, 0, "the daemon's inspect reply has no Id");
    return start_and_follow(ctx, args, id, json_is_true(json_object_get(cfg, "Tty")),
                            "/wait?condition=next-exit", false);
}

int cli_cmd_start(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    if (cli_flag_bool(args, "attach"))
        return start_attached(ctx, args, err);
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    struct sb failed = SB_INIT;
    for (int i = 0; i < args->argc; i++) {
        _cleanup_free_ char *path = cli_ctr_path(args->argv[i], "/start");
        _cleanup_err_ struct err *e = NULL;
        if (cli_client_call(cl, "POST", path, NULL, NULL, &e) < 0) {
            fflush(ctx->out);
            fprintf(ctx->errf, "%s\n", e->msg);
            sb_addf(&failed, "%s%s", failed.len ? ", " : "", args->argv[i]);
            continue;
        }
        fprintf(ctx->out, "%s\n", args->argv[i]);
    }
    if (!failed.len)
        return 0;
    fflush(ctx->out);
    fprintf(ctx->errf, "Error: failed to start containers: %s\n", failed.buf);
    sb_release(&failed);
    return 1;
}
