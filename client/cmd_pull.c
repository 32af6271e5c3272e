/* SPDX-License-Identifier: Apache-2.0 */
/* berth pull, save, load: the image commands whose data streams. */
#include "client/images.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int jm_put(const char *data, size_t len, void *ud, struct err **err)
{
    return cli_jm_feed(ud, data, len, err);
}

/*
 * Runs a progress-stream request and renders it to out. Returns 0, -1 with err (the request
 * failed), or 1 after printing an in-stream error (the bare message, as docker prints it).
 */
static int run_progress(struct cli_ctx *ctx, FILE *out, const char *method, const char *path,
                        const char *content_type, int body_fd, const char *const *headers,
                        struct err **err)
{
    struct cli_jm jm;
    cli_jm_init(&jm, out, isatty(fileno(out)), cli_term_width(fileno(out)));
    int r =
        cli_api_stream(ctx, method, path, content_type, body_fd, headers, jm_put, &jm, NULL, err);
    if (r == 0)
        r = cli_jm_finish(&jm, err);
    if (jm.error) {
        fflush(out);
        fprintf(ctx->errf, "%s\n", jm.error);
        r = 1;
    }
    cli_jm_release(&jm);
    return r;
}

/* ---- pull ------------------------------------------------------------------------------- */

static char *pull_path(const struct cli_ref *ref, const char *platform, bool all)
{
    _cleanup_free_ char *name = cli_ref_name(ref);
    struct sb p = SB_INIT;
    sb_adds(&p, "/images/create?fromImage=");
    cli_query_escape(name, &p);
    if (platform && *platform) {
        /* Lower-cased, as the docker client sends it. */
        _cleanup_free_ char *lower = xstrdup(platform);
        for (char *c = lower; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        sb_adds(&p, "&platform=");
        cli_query_escape(lower, &p);
    }
    if (!all) {
        /* A digest wins over a tag, as in the docker client. */
        sb_adds(&p, "&tag=");
        cli_query_escape(ref->digest ? ref->digest : ref->tag, &p);
    }
    return sb_steal(&p);
}

int cli_cmd_pull(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    bool quiet = cli_flag_bool(args, "quiet");
    bool all = cli_flag_bool(args, "all-tags");
    struct cli_ref ref;
    if (cli_ref_parse(args->argv[0], &ref, err) < 0)
        return -1;
    if (all && (ref.tag || ref.digest)) {
        cli_ref_release(&ref);
        return err_set(err, ERR_INVALID, 0, "tag can't be used with --all-tags/-a");
    }
    if (!all && !ref.tag && !ref.digest) {
        ref.tag = xstrdup("latest");
        if (!quiet)
            fprintf(ctx->out, "Using default tag: %s\n", ref.tag);
    }
    _cleanup_free_ char *path = pull_path(&ref, cli_flag_str(args, "platform"), all);
    _cleanup_free_ char *cfg = cli_config_path();
    _cleanup_free_ char *auth = cli_registry_auth(cfg, ref.domain);
    _cleanup_free_ char *hdr = xasprintf("X-Registry-Auth: %s", auth);
    const char *headers[] = {hdr, NULL};
    FILE *out = quiet ? fopen("/dev/null", "we") : ctx->out;
    int r = out ? run_progress(ctx, out, "POST", path, NULL, -1, headers, err)
                : err_set(err, ERR_SYSTEM, errno, "/dev/null");
    if (quiet && out)
        fclose(out);
    if (r == 0) {
        _cleanup_free_ char *full = all ? cli_ref_name(&ref) : cli_ref_string(&ref);
        fprintf(ctx->out, "%s\n", full);
    }
    cli_ref_release(&ref);
    return r;
}

int cli_pull_image(struct cli_ctx *ctx, FILE *out, const char *image, const char *platform,
                   struct err **err)
{
    struct cli_ref ref;
    if (cli_ref_parse(image, &ref, err) < 0)
        return -1;
    if (!ref.tag && !ref.digest)
        ref.tag = xstrdup("latest");
    _cleanup_free_ char *path = pull_path(&ref, platform, false);
    _cleanup_free_ char *cfg = cli_config_path();
    _cleanup_free_ char *auth = cli_registry_auth(cfg, ref.domain);
    _cleanup_free_ char *hdr = xasprintf("X-Registry-Auth: %s", auth);
    const char *headers[] = {hdr, NULL};
    cli_ref_release(&ref);
    return run_progress(ctx, out, "POST", path, NULL, -1, headers, err);
}

/* ---- save ------------------------------------------------------------------------------- */

static char *save_path(const struct cli_args *args)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/images/get");
    for (int i = 0; i < args->argc; i++) {
        sb_adds(&p, i ? "&names=" : "?names=");
        cli_query_escape(args->argv[i], &p);
    }
    return sb_steal(&p);
}

int cli_cmd_save(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *output = cli_flag_str(args, "output");
    if ((!output || !*output) && isatty(fileno(ctx->out)))
        return err_set(err, ERR_INVALID, 0,
                       "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    _cleanup_free_ char *path = save_path(args);
    return cli_api_get_to(ctx, path, output, "failed to save image", "writing the image archive",
                          err);
}

/* ---- load ------------------------------------------------------------------------------- */

int cli_cmd_load(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *input = cli_flag_str(args, "input");
    _cleanup_close_ int fd = -1;
    if (input && *input) {
        fd = open(input, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return err_set(err, ERR_SYSTEM, errno, "open %s", input);
    } else if (isatty(STDIN_FILENO)) {
        return err_set(err, ERR_INVALID, 0, "requested load from stdin, but stdin is empty");
    }
    /* Off a terminal the daemon is asked for the quiet form, like the docker CLI does. */
    bool quiet = cli_flag_bool(args, "quiet") || !isatty(fileno(ctx->out));
    const char *path = quiet ? "/images/load?quiet=1" : "/images/load?quiet=0";
    return run_progress(ctx, ctx->out, "POST", path, "application/x-tar",
                        fd >= 0 ? fd : STDIN_FILENO, NULL, err);
}
