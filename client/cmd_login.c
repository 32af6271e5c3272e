/* SPDX-License-Identifier: Apache-2.0 */
/* berth login and logout: credentials checked by the daemon (POST /auth), kept in config.json. */
#include "client/images.h"

#include <errno.h>
#include <string.h>
#include <termios.h>

/* One line from stdin, without its newline; echo off when hidden and stdin is a terminal. */
static char *prompt_line(struct cli_ctx *ctx, const char *prompt, bool hidden)
{
    fputs(prompt, ctx->out);
    fflush(ctx->out);
    struct termios old, raw;
    bool restore = hidden && tcgetattr(STDIN_FILENO, &old) == 0;
    if (restore) {
        raw = old;
        raw.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', ctx->out);
    }
    if (n < 0) {
        free(line);
        return xstrdup("");
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static char *read_all_stdin(void)
{
    struct sb sb = SB_INIT;
    char buf[4096];
    ssize_t n;
    while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0)
            sb_add(&sb, buf, (size_t)n);
    }
    while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
        sb.buf[--sb.len] = '\0';
    return sb.buf ? sb_steal(&sb) : xstrdup("");
}

/* The credentials to try: flags, --password-stdin, then prompts on a terminal. */
static int login_credentials(struct cli_ctx *ctx, const struct cli_args *args, char **user,
                             char **pass, struct err **err)
{
    const char *u = cli_flag_str(args, "username");
    const char *p = cli_flag_str(args, "password");
    bool from_stdin = cli_flag_bool(args, "password-stdin");
    if (p && from_stdin)
        return err_set(err, ERR_INVALID, 0,
                       "--password and --password-stdin are mutually exclusive");
    if (from_stdin && !(u && *u))
        return err_set(err, ERR_INVALID, 0, "Must provide --username with --password-stdin");
    if (p)
        fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
              ctx->errf);
    *user = xstrdup(u ? u : "");
    *pass = from_stdin ? read_all_stdin() : xstrdup(p ? p : "");
    if ((!**user || !**pass) && !isatty(STDIN_FILENO))
        return err_set(err, ERR_INVALID, 0,
                       "Error: Cannot perform an interactive login from a non TTY device");
    if (!**user) {
        free(*user);
        *user = prompt_line(ctx, "Username: ", false);
    }
    if (!**user)
        return err_set(err, ERR_INVALID, 0, "Error: Non-null Username Required");
    if (!**pass) {
        free(*pass);
        *pass = prompt_line(ctx, "Password: ", true);
    }
    if (!**pass)
        return err_set(err, ERR_INVALID, 0, "Error: Password Required");
    return 0;
}

int cli_cmd_login(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *arg = args->argc ? args->argv[0] : NULL;
    _cleanup_free_ char *server = NULL;
    if (!arg || strcmp(arg, CLI_REF_DEFAULT_DOMAIN) == 0 || strcmp(arg, CLI_REF_INDEX_SERVER) == 0)
        server = xstrdup(CLI_REF_INDEX_SERVER);
    else
        server = cli_auth_hostname(arg);
    _cleanup_free_ char *user = NULL;
    _cleanup_free_ char *pass = NULL;
    if (login_credentials(ctx, args, &user, &pass, err) < 0)
        return -1;
    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    json_auto_t *req =
        json_pack("{s:s, s:s, s:s}", "username", user, "password", pass, "serveraddress", server);
    if (!req)
        return err_set(err, ERR_INVALID, 0, "the username and password must be UTF-8");
    json_auto_t *reply = NULL;
    if (cli_client_call(cl, "POST", "/auth", req, &reply, err) < 0)
        return -1;
    const char *token = json_string_value(json_object_get(reply, "IdentityToken"));
    if (cli_auth_store(server, user, pass, token, err) < 0)
        return -1;
    const char *status = json_string_value(json_object_get(reply, "Status"));
    fprintf(ctx->out, "%s\n", status && *status ? status : "Login Succeeded");
    return 0;
}

int cli_cmd_logout(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *arg = args->argc ? args->argv[0] : NULL;
    bool is_default =
        !arg || strcmp(arg, CLI_REF_DEFAULT_DOMAIN) == 0 || strcmp(arg, CLI_REF_INDEX_SERVER) == 0;
    _cleanup_free_ char *host = is_default ? xstrdup(CLI_REF_INDEX_SERVER) : cli_auth_hostname(arg);
    /* Older clients saved a registry with a scheme; remove every spelling. */
    _cleanup_free_ char *http = xasprintf("http://%s", host);
    _cleanup_free_ char *https = xasprintf("https://%s", host);
    const char *keys[] = {arg && !is_default ? arg : host, host, http, https};
    size_t nkeys = is_default ? 1 : ARRAY_SIZE(keys);
    bool found = false;
    if (cli_auth_erase(keys, nkeys, &found, err) < 0)
        return -1;
    if (!found) {
        fprintf(ctx->out, "Not logged in to %s\n", host);
        return 0;
    }
    fprintf(ctx->out, "Removing login credentials for %s\n", host);
    return 0;
}
