/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth create, run and start. run pulls a missing image as docker run does; without -d it
 * attaches, waits, starts and streams as docker run does (client/cmd_attach.c).
 */
#include "client/attach.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <strings.h>
#include <unistd.h>

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

/*
 * -a/--attach: which streams are attached (docker's parse). Without -a, stdout and stderr; -i
 * adds stdin either way.
 */
static int attach_streams(const struct cli_args *args, struct cli_run_io *io, struct err **err)
{
    const struct cli_flag_val *a = cli_flag(args, "attach");
    io->in = cli_flag_bool(args, "interactive");
    io->tty = cli_flag_bool(args, "tty");
    if (!a || a->nlist == 0) {
        io->out = io->err = true;
        return 0;
    }
    io->out = io->err = false;
    for (size_t i = 0; i < a->nlist; i++) {
        if (strcasecmp(a->list[i], "stdin") == 0)
            io->in = true;
        else if (strcasecmp(a->list[i], "stdout") == 0)
            io->out = true;
        else if (strcasecmp(a->list[i], "stderr") == 0)
            io->err = true;
        else
            return err_set(err, ERR_INVALID, 0,
                           "invalid argument \"%s\" for \"-a, --attach\" flag: valid streams "
                           "are STDIN, STDOUT and STDERR",
                           a->list[i]);
    }
    return 0;
}

/*
 * Builds the body and creates the container; *id is its ID, *io what is attached. Returns 0 or
 * an exit status.
 */
static int do_create(struct cli_ctx *ctx, const struct cli_args *args, bool detach, char **id,
                     struct cli_run_io *io)
{
    int console[2];
    console_size(console);
    struct api_container_config c;
    _cleanup_err_ struct err *e = NULL;
    if (attach_streams(args, io, &e) < 0)
        return run_report(ctx, args, e->msg, 125);
    if (cli_run_config(args, detach, console, &c, &e) < 0)
        return run_report(ctx, args, e->msg, 125);
    if (!detach) {
        c.attach_stdin = io->in;
        c.attach_stdout = io->out;
        c.attach_stderr = io->err;
    }
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
    struct cli_run_io io;
    int r = do_create(ctx, args, false, &id, &io);
    if (r == 0)
        fprintf(ctx->out, "%s\n", id);
    return r;
}

int cli_cmd_run(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    bool detach = cli_flag_bool(args, "detach");
    const struct cli_flag_val *a = cli_flag(args, "attach");
    if (detach && a && a->nlist)
        return err_set(err, ERR_INVALID, 0, "Conflicting options: -a and -d");
    /* docker's CheckTty, before anything is created. */
    struct cli_run_io io = {.in = false};
    if (!detach && attach_streams(args, &io, err) == 0 && io.tty && io.in && !isatty(STDIN_FILENO))
        return err_set(err, ERR_INVALID, 0, "the input device is not a TTY");
    err_freep(err);
    _cleanup_free_ char *id = NULL;
    int r = do_create(ctx, args, detach, &id, &io);
    if (r != 0)
        return r;
    if (!detach)
        return cli_run_attached(ctx, args, id, &io, cli_flag_bool(args, "rm"));
    struct cli_client *cl = NULL;
    _cleanup_err_ struct err *e = NULL;
    _cleanup_free_ char *path = cli_ctr_path(id, "/start");
    if (cli_ctx_client(ctx, &cl, &e) < 0 || cli_client_call(cl, "POST", path, NULL, NULL, &e) < 0)
        return run_report(ctx, args, e->msg, start_status(e->msg));
    fprintf(ctx->out, "%s\n", id);
    return 0;
}

/* ---- start ------------------------------------------------------------------------------ */

int cli_cmd_start(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    if (cli_flag_bool(args, "attach") || cli_flag_bool(args, "interactive"))
        return cli_start_attached(ctx, args, err);
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
