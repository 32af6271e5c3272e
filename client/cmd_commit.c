/* SPDX-License-Identifier: Apache-2.0 */
/* berth diff and berth commit: a container's changes, and a new image from them. */
#include <string.h>

#include "client/cli.h"
#include "client/images.h"

/* ---- berth diff -------------------------------------------------------------------------- */

int cli_cmd_diff(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/containers/");
    cli_path_escape(args->argv[0], &p);
    sb_adds(&p, "/changes");
    struct cli_client *cl = NULL;
    json_t *out = NULL;
    int r = cli_ctx_client(ctx, &cl, err);
    if (r == 0)
        r = cli_client_call(cl, "GET", p.buf, NULL, &out, err);
    sb_release(&p);
    size_t i;
    json_t *v;
    json_array_foreach(out, i, v) /* null (an old daemon's "no change") prints nothing too */
    {
        json_int_t kind = json_integer_value(json_object_get(v, "Kind"));
        const char *path = json_string_value(json_object_get(v, "Path"));
        fprintf(ctx->out, "%s %s\n", kind == 1 ? "A" : kind == 2 ? "D" : "C", path ? path : "");
    }
    json_decref(out);
    return r;
}

/* ---- berth commit ------------------------------------------------------------------------ */

static void add_param(struct sb *p, const char *key, const char *value)
{
    sb_addc(p, p->buf && strchr(p->buf, '?') ? '&' : '?');
    sb_adds(p, key);
    sb_addc(p, '=');
    cli_query_escape(value ? value : "", p);
}

int cli_cmd_commit(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *container = args->argv[0];
    _cleanup_free_ char *repo = NULL;
    _cleanup_free_ char *tag = NULL;
    if (args->argc > 1) {
        struct cli_ref ref;
        if (cli_ref_parse(args->argv[1], &ref, err) < 0)
            return err_wrap(err, "invalid reference format");
        if (ref.digest) {
            cli_ref_release(&ref);
            return err_set(err, ERR_INVALID, 0, "refusing to create a tag with a digest reference");
        }
        repo = cli_ref_name(&ref);
        tag = xstrdup(ref.tag ? ref.tag : "");
        cli_ref_release(&ref);
    }
    /* the order dockerd's CLI uses: author, comment, container, repo, tag, then changes */
    struct sb p = SB_INIT;
    sb_adds(&p, "/commit");
    add_param(&p, "author", cli_flag_str(args, "author"));
    add_param(&p, "comment", cli_flag_str(args, "message"));
    add_param(&p, "container", container);
    add_param(&p, "repo", repo);
    add_param(&p, "tag", tag);
    const struct cli_flag_val *changes = cli_flag(args, "change");
    for (size_t i = 0; changes && i < changes->nlist; i++)
        add_param(&p, "changes", changes->list[i]);
    if (!cli_flag_bool(args, "pause"))
        add_param(&p, "pause", "0");
    struct cli_client *cl = NULL;
    json_t *out = NULL;
    int r = cli_ctx_client(ctx, &cl, err);
    if (r == 0)
        r = cli_client_call(cl, "POST", p.buf, NULL, &out, err);
    sb_release(&p);
    if (r == 0) {
        const char *id = json_string_value(json_object_get(out, "Id"));
        fprintf(ctx->out, "%s\n", id ? id : "");
    }
    json_decref(out);
    return r;
}
