/* SPDX-License-Identifier: Apache-2.0 */
/* berth: the command-line client of berthd. */
#include "client/cli.h"

#include <string.h>

int cli_ctx_client(struct cli_ctx *ctx, struct cli_client **out, struct err **err)
{
    if (!ctx->client_ready) {
        if (cli_client_init(&ctx->client, ctx->host_flag, err) < 0)
            return -1;
        ctx->client_ready = true;
    }
    *out = &ctx->client;
    return 0;
}

int cli_cmd_help(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    if (args->argc == 0) {
        cli_usage_main(ctx->out);
        return 0;
    }
    const struct cli_cmd *cmd = cli_cmd_find(args->argv[0]);
    if (!cmd || cmd->hidden) {
        fprintf(ctx->errf, "unknown help topic: %s\n", args->argv[0]);
        return 1;
    }
    cli_usage_cmd(ctx->out, cmd);
    return 0;
}

static int run_command(struct cli_ctx *ctx, int argc, char **argv)
{
    const struct cli_cmd *cmd = cli_cmd_find(argv[0]);
    if (!cmd) {
        fprintf(ctx->errf,
                "berth: unknown command: berth %s\n\nRun 'berth --help' for more information\n",
                argv[0]);
        return 1;
    }
    struct cli_args args;
    int status = 0;
    if (cli_args_parse(ctx, cmd, argc - 1, argv + 1, &args, &status) == 0) {
        _cleanup_err_ struct err *err = NULL;
        int r = cmd->run(ctx, &args, &err);
        if (r < 0) {
            fprintf(ctx->errf, "%s\n", err ? err->msg : "unknown error");
            r = 1;
        }
        status = r;
    }
    cli_args_release(&args);
    return status;
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx = {.out = stdout, .errf = stderr};
    struct cli_args global;
    int status = 0;
    if (cli_args_parse(&ctx, &cli_root_cmd, argc - 1, argv + 1, &global, &status) != 0) {
        cli_args_release(&global);
        return status;
    }
    ctx.host_flag = cli_flag_str(&global, "host");
    if (cli_flag_bool(&global, "version")) {
        printf("berth version %s, build %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
    } else if (global.argc == 0) {
        cli_usage_main(ctx.out);
    } else {
        /* A bad -H is reported by the first command that connects: help still works. */
        ctx.debug = cli_flag_bool(&global, "debug");
        status = run_command(&ctx, global.argc, global.argv);
    }
    if (ctx.client_ready)
        cli_client_release(&ctx.client);
    cli_args_release(&global);
    if (fflush(stdout) != 0 && status == 0)
        status = 1;
    return status;
}
