/* SPDX-License-Identifier: Apache-2.0 */
/* API calls whose bodies stream: pull and load progress, save's tar, inspect's raw JSON. */
#include "client/images.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ERROR_BODY_MAX (64 * 1024)

struct stream_sink {
    struct cli_http_resp *resp;
    cli_http_body_fn fn;
    void *ud;
};

/* The status line is parsed before any body byte arrives: error bodies are kept for the message. */
static int sink_put(const char *data, size_t len, void *ud, struct err **err)
{
    struct stream_sink *s = ud;
    if (s->resp->status >= 400) {
        if (s->resp->body.len < ERROR_BODY_MAX)
            sb_add(&s->resp->body, data, len);
        return 0;
    }
    return s->fn ? s->fn(data, len, s->ud, err) : 0;
}

int cli_api_stream(struct cli_ctx *ctx, const char *method, const char *path,
                   const char *content_type, int body_fd, const char *const *headers,
                   cli_http_body_fn fn, void *ud, int *status, struct err **err)
{
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 || cli_client_negotiate(cl, err) < 0)
        return -1;
    _cleanup_free_ char *vpath = xasprintf("/v%s%s", cl->api_version, path);
    struct cli_http_resp resp;
    struct stream_sink s = {.resp = &resp, .fn = fn, .ud = ud};
    int r = body_fd >= 0 ? cli_client_upload(cl, method, vpath, content_type, body_fd, headers,
                                             &resp, sink_put, &s, err)
                         : cli_client_raw(cl, method, vpath, content_type, NULL, 0, headers, &resp,
                                          sink_put, &s, err);
    if (r == 0 && status)
        *status = resp.status;
    if (r == 0 && resp.status >= 400)
        r = cli_http_status_error(&resp, err);
    cli_http_resp_release(&resp);
    return r;
}

int cli_fd_put(const char *data, size_t len, void *ud, struct err **err)
{
    const struct cli_fd_sink *s = ud;
    int r = fdu_write_all(s->fd, data, len);
    return r < 0 ? err_set(err, ERR_SYSTEM, -r, "%s", s->what) : 0;
}

int cli_api_get_to(struct cli_ctx *ctx, const char *path, const char *output, const char *failed,
                   const char *writing, struct err **err)
{
    if (!output || !*output) {
        fflush(ctx->out);
        struct cli_fd_sink s = {.fd = fileno(ctx->out), .what = writing};
        return cli_api_stream(ctx, "GET", path, NULL, -1, NULL, cli_fd_put, &s, NULL, err);
    }
    _cleanup_free_ char *copy = xstrdup(output);
    _cleanup_free_ char *tmp = xasprintf("%s/.berth_temp_XXXXXX", dirname(copy));
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "%s: invalid output path %s", failed, output);
    struct cli_fd_sink s = {.fd = fd, .what = writing};
    int r = cli_api_stream(ctx, "GET", path, NULL, -1, NULL, cli_fd_put, &s, NULL, err);
    if (close(fd) < 0 && r == 0)
        r = err_set(err, ERR_SYSTEM, errno, "writing %s", output);
    if (r == 0 && rename(tmp, output) < 0)
        r = err_set(err, ERR_SYSTEM, errno, "renaming %s to %s", tmp, output);
    if (r < 0)
        unlink(tmp);
    return r;
}
