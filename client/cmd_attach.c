/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attached commands, in the docker CLI's order of calls: run in the foreground (attach,
 * wait, start, resize), start -a/-i, attach and exec.
 */
#include "client/attach.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/images.h"

/* ---- the pieces every session has ------------------------------------------------------- */

/* The detach keys: the flag, else ctrl-p,ctrl-q; an invalid one warns and uses the default. */
static void session_keys(struct cli_ctx *ctx, const char *flag, unsigned char *keys, size_t *n)
{
    _cleanup_err_ struct err *e = NULL;
    if (flag && *flag && cli_detach_keys_parse(flag, keys, n, &e) == 0)
        return;
    if (e)
        fprintf(ctx->errf, "WARN[0000] invalid detach escape keys, using default: %s\n", e->msg);
    err_freep(&e);
    cli_detach_keys_parse(CLI_DEFAULT_DETACH_KEYS, keys, n, &e);
}

/* docker's CheckTty. */
static int check_tty(bool attach_stdin, bool tty, struct err **err)
{
    if (tty && attach_stdin && !isatty(STDIN_FILENO))
        return err_set(err, ERR_INVALID, 0, "the input device is not a TTY");
    return 0;
}

static char *attach_path(const char *id, bool in, bool out, bool errs, const char *keys)
{
    struct sb p = SB_INIT;
    sb_adds(&p, "/containers/");
    cli_path_escape(id, &p);
    sb_adds(&p, "/attach?");
    if (keys && *keys) { /* url.Values.Encode: keys sorted */
        sb_adds(&p, "detachKeys=");
        cli_query_escape(keys, &p);
        sb_adds(&p, "&");
    }
    if (errs)
        sb_adds(&p, "stderr=1&");
    if (in)
        sb_adds(&p, "stdin=1&");
    if (out)
        sb_adds(&p, "stdout=1&");
    sb_adds(&p, "stream=1");
    return sb_steal(&p);
}

/* One attached session: the hijacked socket, the copy loop and the signals around it. */
struct session {
    struct cli_session sig;
    struct cli_conn conn;
    bool conn_open;
    struct cli_pump pump;
    bool pump_ready;
    int sig_fd;
};

static int session_signals(struct session *s, struct cli_ctx *ctx, const char *id, bool exec,
                           bool proxy, bool resize, struct err **err)
{
    memset(s, 0, sizeof(*s));
    s->sig_fd = -1;
    s->sig =
        (struct cli_session){.ctx = ctx, .id = id, .exec = exec, .proxy = proxy, .resize = resize};
    int fd = cli_signals_start(proxy, resize, err);
    if (fd < 0)
        return -1;
    s->sig_fd = fd;
    return 0;
}

/*
 * After the 101: the terminal goes raw when a TTY's stdin is attached, and whatever stdin
 * already holds is sent (with its EOF) before anything else happens.
 */
static int session_begin(struct session *s, struct cli_ctx *ctx, bool tty, bool in, bool want_out,
                         const char *keys_flag, struct err **err)
{
    unsigned char keys[CLI_DETACH_KEYS_MAX];
    size_t nkeys = 0;
    if (in && tty)
        session_keys(ctx, keys_flag, keys, &nkeys);
    if (in && tty && cli_term_raw(STDIN_FILENO, err) < 0)
        return -1;
    cli_pump_init(&s->pump, &s->conn, in ? STDIN_FILENO : -1, ctx->out, ctx->errf, want_out, tty,
                  keys, nkeys);
    s->pump_ready = true;
    s->pump.sig_fd = s->sig_fd;
    s->pump.on_signal = cli_session_signal;
    s->pump.ud = &s->sig;
    return cli_pump_prime(&s->pump, err);
}

static enum cli_pump_end session_run(struct session *s, struct err **err)
{
    enum cli_pump_end end = cli_pump_run(&s->pump, err);
    /* Restored as soon as the stream ends, so what follows prints normally. */
    cli_term_restore();
    fflush(s->sig.ctx->out);
    return end;
}

static void session_end(struct session *s)
{
    cli_term_restore();
    cli_signals_stop();
    if (s->pump_ready)
        cli_pump_release(&s->pump);
    if (s->conn_open)
        cli_conn_release(&s->conn);
    s->pump_ready = s->conn_open = false;
}

/*
 * session_run, then session_end once the stream ended. A detach is the error docker's attach
 * and exec -it report ("read escape sequence").
 */
static int session_run_to_end(struct session *s, struct err **err)
{
    enum cli_pump_end end = session_run(s, err);
    if (end == CLI_PUMP_DETACHED)
        return err_set(err, ERR_INTERNAL, 0, "read escape sequence");
    if (end == CLI_PUMP_ERROR)
        return -1;
    session_end(s);
    return 0;
}

static int session_attach(struct session *s, struct cli_client *cl, const char *path,
                          struct err **err)
{
    if (cli_hijack_open(cl, "POST", path, NULL, &s->conn, err) < 0)
        return -1;
    s->conn_open = true;
    return 0;
}

static char *wait_path(const char *id, const char *cond)
{
    char *base = cli_ctr_path(id, "/wait");
    if (!cond)
        return base;
    char *p = xasprintf("%s?condition=%s", base, cond);
    free(base);
    return p;
}

/* ---- run -------------------------------------------------------------------------------- */

static bool flag_default_true(const struct cli_args *args, const char *name)
{
    const struct cli_flag_val *v = cli_flag(args, name);
    return !v || !v->set || strcmp(v->str, "true") == 0;
}

/* The start error as docker's reportError words it (no help hint) and its exit status. */
static int run_start_error(struct cli_ctx *ctx, const char *msg)
{
    size_t len = strlen(msg);
    if (len && msg[len - 1] == '.')
        len--;
    fflush(ctx->out);
    fprintf(ctx->errf, "berth: %.*s.\n", (int)len, msg);
    const char *m = strncmp(msg, "Error response from daemon: ", 28) == 0 ? msg + 28 : msg;
    if (strstr(m, "executable file not found") || strstr(m, "no such file or directory") ||
        strstr(m, "system cannot find the file specified"))
        return 127;
    if (strstr(m, "permission denied") || strstr(m, "is a directory"))
        return 126;
    return 125;
}

static int wait_exit(struct cli_ctx *ctx, struct cli_pending *wait)
{
    int code = 0;
    _cleanup_err_ struct err *e = NULL;
    if (cli_pending_wait_status(wait, &code, &e) < 0) {
        fprintf(ctx->errf, "Error waiting for container: %s\n", e->msg);
        return 125;
    }
    return code;
}

/* attach, wait, start, resize; the stream. Returns the exit status. */
static int run_session(struct cli_ctx *ctx, const struct cli_args *args, const char *id,
                       const struct cli_run_io *io, bool autoremove, struct session *s,
                       struct cli_pending *wait)
{
    struct cli_client *cl = NULL;
    _cleanup_err_ struct err *e = NULL;
    const char *keys = cli_flag_str(args, "detach-keys");
    bool attach = io->in || io->out || io->err;
    if (cli_ctx_client(ctx, &cl, &e) < 0)
        goto fail;
    if (attach) {
        _cleanup_free_ char *path = attach_path(id, io->in, io->out, io->err, keys);
        if (session_attach(s, cl, path, &e) < 0 ||
            session_begin(s, ctx, io->tty, io->in, io->out || io->err, keys, &e) < 0)
            goto fail;
    }
    _cleanup_free_ char *wpath = wait_path(id, autoremove ? "removed" : "next-exit");
    if (cli_pending_post(cl, wait, wpath, &e) < 0)
        goto fail;
    _cleanup_free_ char *spath = cli_ctr_path(id, "/start");
    if (cli_client_call(cl, "POST", spath, NULL, NULL, &e) < 0) {
        session_end(s);
        int status = run_start_error(ctx, e->msg);
        if (autoremove)
            wait_exit(ctx, wait); /* until the container is gone */
        return status;
    }
    if (attach && io->tty && isatty(STDOUT_FILENO))
        cli_resize_init(ctx, id, false);
    if (attach) {
        enum cli_pump_end end = session_run(s, &e);
        if (end == CLI_PUMP_DETACHED)
            return 0;
        if (end == CLI_PUMP_ERROR)
            goto fail;
    }
    if (!io->out && !io->err)
        return 0;
    session_end(s);
    return wait_exit(ctx, wait);
fail:
    session_end(s);
    fflush(ctx->out);
    fprintf(ctx->errf, "%s\n", e->msg);
    return 1;
}

int cli_run_attached(struct cli_ctx *ctx, const struct cli_args *args, const char *id,
                     const struct cli_run_io *io, bool autoremove)
{
    if (!io->out && !io->err) {
        fprintf(ctx->out, "%s\n", id);
        fflush(ctx->out);
    }
    bool proxy = flag_default_true(args, "sig-proxy");
    bool resize = io->tty && (io->in || io->out || io->err) && isatty(STDOUT_FILENO);
    struct session s;
    _cleanup_err_ struct err *e = NULL;
    if (session_signals(&s, ctx, id, false, proxy, resize, &e) < 0) {
        fprintf(ctx->errf, "%s\n", e->msg);
        return 1;
    }
    struct cli_pending wait = {.open = false};
    int status = run_session(ctx, args, id, io, autoremove, &s, &wait);
    session_end(&s);
    cli_pending_release(&wait);
    return status;
}

/* ---- inspect ---------------------------------------------------------------------------- */

struct ctr_facts {
    char *id;
    bool tty, open_stdin, autoremove, running, paused, restarting;
};

static void facts_release(struct ctr_facts *f)
{
    free(f->id);
    f->id = NULL;
}

static int ctr_inspect(struct cli_ctx *ctx, const char *name, struct ctr_facts *f, struct err **err)
{
    memset(f, 0, sizeof(*f));
    struct cli_client *cl = NULL;
    json_auto_t *info = NULL;
    _cleanup_free_ char *path = cli_ctr_path(name, "/json");
    if (cli_ctx_client(ctx, &cl, err) < 0 || cli_client_call(cl, "GET", path, NULL, &info, err) < 0)
        return -1;
    const char *id = json_string_value(json_object_get(info, "Id"));
    if (!id)
        return err_set(err, ERR_INTERNAL, 0, "the daemon's inspect reply has no Id");
    json_t *cfg = json_object_get(info, "Config");
    json_t *st = json_object_get(info, "State");
    f->id = xstrdup(id);
    f->tty = json_is_true(json_object_get(cfg, "Tty"));
    f->open_stdin = json_is_true(json_object_get(cfg, "OpenStdin"));
    f->autoremove =
        json_is_true(json_object_get(json_object_get(info, "HostConfig"), "AutoRemove"));
    f->running = json_is_true(json_object_get(st, "Running"));
    f->paused = json_is_true(json_object_get(st, "Paused"));
    f->restarting = json_is_true(json_object_get(st, "Restarting"));
    return 0;
}

/* docker attach's client-side state checks (CLI 28's words). */
static int check_state(const struct ctr_facts *f, struct err **err)
{
    if (!f->running)
        return err_set(err, ERR_CONFLICT, 0,
                       "You cannot attach to a stopped container, start it first");
    if (f->paused)
        return err_set(err, ERR_CONFLICT, 0,
                       "You cannot attach to a paused container, unpause "
                       "it first");
    if (f->restarting)
        return err_set(err, ERR_CONFLICT, 0,
                       "You cannot attach to a restarting container, wait until it is running");
    return 0;
}

/* ---- start -a --------------------------------------------------------------------------- */

static int start_session(struct cli_ctx *ctx, const struct cli_args *args,
                         const struct ctr_facts *f, struct session *s, struct cli_pending *wait,
                         struct err **err)
{
    struct cli_client *cl = NULL;
    const char *keys = cli_flag_str(args, "detach-keys");
    bool in = cli_flag_bool(args, "interactive") && f->open_stdin;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    _cleanup_free_ char *path = attach_path(f->id, in, true, true, keys);
    if (session_attach(s, cl, path, err) < 0 || session_begin(s, ctx, f->tty, in, true, keys, err))
        return -1;
    _cleanup_free_ char *wpath = wait_path(f->id, f->autoremove ? "removed" : "next-exit");
    if (cli_pending_post(cl, wait, wpath, err) < 0)
        return -1;
    _cleanup_free_ char *spath = cli_ctr_path(f->id, "/start");
    if (cli_client_call(cl, "POST", spath, NULL, NULL, err) < 0) {
        session_end(s);
        if (f->autoremove) {
            int code;
            _cleanup_err_ struct err *e = NULL;
            cli_pending_wait_status(wait, &code, &e);
        }
        return -1;
    }
    if (f->tty && isatty(STDOUT_FILENO))
        cli_resize_init(ctx, f->id, false);
    enum cli_pump_end end = session_run(s, err);
    if (end == CLI_PUMP_DETACHED)
        return 0;
    if (end == CLI_PUMP_ERROR)
        return -1;
    session_end(s);
    return wait_exit(ctx, wait);
}

int cli_start_attached(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    if (args->argc > 1)
        return err_set(err, ERR_INVALID, 0,
                       "you cannot start and attach multiple containers at once");
    struct ctr_facts f;
    if (ctr_inspect(ctx, args->argv[0], &f, err) < 0)
        return -1;
    struct session s;
    struct cli_pending wait = {.open = false};
    bool resize = f.tty && isatty(STDOUT_FILENO);
    int r = session_signals(&s, ctx, f.id, false, !f.tty, resize, err);
    if (r == 0)
        r = start_session(ctx, args, &f, &s, &wait, err);
    session_end(&s);
    cli_pending_release(&wait);
    facts_release(&f);
    return r;
}

/* ---- attach ----------------------------------------------------------------------------- */

static int attach_session(struct cli_ctx *ctx, const struct cli_args *args, const char *name,
                          struct session *s, struct cli_pending *wait, struct err **err)
{
    struct cli_client *cl = NULL;
    struct ctr_facts f;
    const char *keys = cli_flag_str(args, "detach-keys");
    bool no_stdin = cli_flag_bool(args, "no-stdin");
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    _cleanup_free_ char *wpath = wait_path(name, NULL);
    if (cli_pending_post(cl, wait, wpath, err) < 0)
        return -1;
    if (ctr_inspect(ctx, name, &f, err) < 0)
        return -1;
    int r = check_state(&f, err);
    bool tty = f.tty, in = !no_stdin && f.open_stdin;
    facts_release(&f);
    if (r < 0 || check_tty(!no_stdin, tty, err) < 0)
        return -1;
    bool resize = tty && isatty(STDOUT_FILENO);
    if (session_signals(s, ctx, name, false, flag_default_true(args, "sig-proxy") && !tty, resize,
                        err) < 0)
        return -1;
    _cleanup_free_ char *path = attach_path(name, in, true, true, keys);
    if (session_attach(s, cl, path, err) < 0)
        return -1;
    /* The container may have stopped in between: re-check, as docker does. */
    r = ctr_inspect(ctx, name, &f, err);
    if (r == 0)
        r = check_state(&f, err);
    facts_release(&f);
    if (r < 0 || session_begin(s, ctx, tty, in, true, keys, err) < 0)
        return -1;
    unsigned h = 0, w = 0;
    if (resize && cli_term_size(STDOUT_FILENO, &h, &w) == 0 && (h || w)) {
        _cleanup_err_ struct err *e = NULL;
        cli_resize(cl, name, false, h + 1, w + 1, &e); /* forces a redraw */
        cli_resize_init(ctx, name, false);
    }
    if (session_run_to_end(s, err) < 0)
        return -1;
    int code = 0;
    if (cli_pending_wait_status(wait, &code, err) < 0)
        return -1;
    return code;
}

int cli_cmd_attach(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct session s = {.sig_fd = -1};
    struct cli_pending wait = {.open = false};
    int r = attach_session(ctx, args, args->argv[0], &s, &wait, err);
    session_end(&s);
    cli_pending_release(&wait);
    return r;
}

/* ---- exec ------------------------------------------------------------------------------- */

/* opts.ValidateEnv: a bare NAME takes its value from the environment when set. */
static void env_add(json_t *env, const char *kv)
{
    const char *v = strchr(kv, '=') ? NULL : getenv(kv);
    json_array_append_new(env, v ? json_sprintf("%s=%s", kv, v) : json_string(kv));
}

static int exec_body(const struct cli_args *args, json_t **out, struct err **err)
{
    bool detach = cli_flag_bool(args, "detach"), tty = cli_flag_bool(args, "tty");
    const char *user = cli_flag_str(args, "user"), *wd = cli_flag_str(args, "workdir");
    const char *keys = cli_flag_str(args, "detach-keys");
    json_t *env = json_array();
    const struct cli_flag_val *files = cli_flag(args, "env-file");
    for (size_t i = 0; files && i < files->nlist; i++) {
        char **v = NULL;
        size_t n = 0;
        int r = cli_kv_file_read(files->list[i], true, &v, &n, err);
        for (size_t j = 0; j < n; j++) {
            json_array_append_new(env, json_string(v[j]));
            free(v[j]);
        }
        free(v);
        if (r < 0) {
            json_decref(env);
            return -1;
        }
    }
    const struct cli_flag_val *e = cli_flag(args, "env");
    for (size_t i = 0; e && i < e->nlist; i++)
        env_add(env, e->list[i]);
    json_t *cmd = json_array();
    for (int i = 1; i < args->argc; i++)
        json_array_append_new(cmd, json_string(args->argv[i]));
    json_t *b = json_pack(
        "{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:o, s:s, s:o}", "User", user ? user : "",
        "Privileged", cli_flag_bool(args, "privileged"), "Tty", tty, "AttachStdin",
        !detach && cli_flag_bool(args, "interactive"), "AttachStderr", !detach, "AttachStdout",
        !detach, "Detach", false, "DetachKeys", keys ? keys : "", "Env",
        json_array_size(env) ? env : json_null(), "WorkingDir", wd ? wd : "", "Cmd", cmd);
    if (!json_array_size(env))
        json_decref(env);
    unsigned h = 0, w = 0;
    if (tty) {
        cli_term_size(STDOUT_FILENO, &h, &w);
        json_object_set_new(b, "ConsoleSize", json_pack("[I,I]", (json_int_t)h, (json_int_t)w));
    }
    *out = b;
    return 0;
}

static json_t *exec_start_body(json_t *create, bool detach)
{
    json_t *b = json_pack("{s:b, s:O}", "Detach", detach, "Tty", json_object_get(create, "Tty"));
    json_t *cs = json_object_get(create, "ConsoleSize");
    if (cs)
        json_object_set(b, "ConsoleSize", cs);
    return b;
}

static int exec_session(struct cli_ctx *ctx, const struct cli_args *args, const char *exec_id,
                        json_t *create, struct session *s, struct err **err)
{
    struct cli_client *cl = NULL;
    bool tty = json_is_true(json_object_get(create, "Tty"));
    bool in = json_is_true(json_object_get(create, "AttachStdin"));
    bool resize = tty && isatty(STDIN_FILENO);
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        session_signals(s, ctx, exec_id, true, false, resize, err) < 0)
        return -1;
    json_auto_t *start = exec_start_body(create, false);
    struct sb path = SB_INIT;
    sb_adds(&path, "/exec/");
    cli_path_escape(exec_id, &path);
    sb_adds(&path, "/start");
    int r = cli_hijack_open(cl, "POST", path.buf, start, &s->conn, err);
    sb_release(&path);
    if (r < 0)
        return -1;
    s->conn_open = true;
    if (session_begin(s, ctx, tty, in, true, cli_flag_str(args, "detach-keys"), err) < 0)
        return -1;
    if (resize)
        cli_resize_init(ctx, exec_id, true);
    if (session_run_to_end(s, err) < 0)
        return -1;
    json_auto_t *info = NULL;
    struct sb ipath = SB_INIT;
    sb_adds(&ipath, "/exec/");
    cli_path_escape(exec_id, &ipath);
    sb_adds(&ipath, "/json");
    r = cli_client_call(cl, "GET", ipath.buf, NULL, &info, err);
    sb_release(&ipath);
    if (r < 0)
        return -1;
    return (int)json_integer_value(json_object_get(info, "ExitCode"));
}

int cli_cmd_exec(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    struct ctr_facts f;
    const char *name = args->argv[0];
    bool detach = cli_flag_bool(args, "detach");
    /* The inspect makes "No such container" come first, before any exec is created. */
    if (ctr_inspect(ctx, name, &f, err) < 0)
        return -1;
    facts_release(&f);
    if (!detach &&
        check_tty(cli_flag_bool(args, "interactive"), cli_flag_bool(args, "tty"), err) < 0)
        return -1;
    json_auto_t *body = NULL, *reply = NULL;
    struct cli_client *cl = NULL;
    _cleanup_free_ char *path = cli_ctr_path(name, "/exec");
    if (exec_body(args, &body, err) < 0 || cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "POST", path, body, &reply, err) < 0)
        return -1;
    const char *id = json_string_value(json_object_get(reply, "Id"));
    if (!id || !*id)
        return err_set(err, ERR_INTERNAL, 0, "exec ID empty");
    if (detach) {
        json_auto_t *start = exec_start_body(body, true);
        struct sb spath = SB_INIT;
        sb_adds(&spath, "/exec/");
        cli_path_escape(id, &spath);
        sb_adds(&spath, "/start");
        int r = cli_client_call(cl, "POST", spath.buf, start, NULL, err);
        sb_release(&spath);
        return r;
    }
    struct session s = {.sig_fd = -1};
    int r = exec_session(ctx, args, id, body, &s, err);
    session_end(&s);
    return r;
}
