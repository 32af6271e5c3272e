/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attach and exec sessions, shim side: a connection to shim.sock, one JSON request, one JSON
 * answer, then the connection is handed to the caller as a frame stream. Attaches to a
 * container that is not running wait for its next start, which then holds the process until
 * they are connected (shim_config.wait_start).
 */
#include "daemon/container/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/runtime/runtime.h"

#define HANDSHAKE_MAX 4096

struct ctr_session {
    struct ctr *c;
    struct ctr_exec *x; /* exec sessions */
    char *request;      /* the JSON line */
    ctr_session_cb cb;
    void *data;
    uv_pipe_t *pipe;
    int dirfd;
    struct sb in;
    bool cancelled;
    bool pending;   /* in c->sessions, waiting for the start */
    bool for_start; /* counted in the start's wait */
    struct ctr_session *next;
};

static void session_free(struct ctr_session *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    sb_release(&s->in);
    free(s->request);
    ctr_unref(s->c);
    free(s);
}

static void on_pipe_closed(uv_handle_t *h)
{
    free(h);
}

static void session_fail(struct ctr_session *s, const char *msg)
{
    if (s->pipe) {
        uv_close((uv_handle_t *)s->pipe, on_pipe_closed);
        s->pipe = NULL;
    }
    if (!s->cancelled) {
        struct err *err = NULL;
        err_set(&err, ERR_INVALID, 0, "%s", msg);
        s->cb(err, NULL, NULL, 0, s->data);
        err_free(err);
    }
    struct ctr *c = s->c;
    bool for_start = s->for_start;
    ctr_ref(c);
    session_free(s);
    if (for_start)
        ctr_start_proceed(c);
    ctr_unref(c);
}

static void on_hs_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = xmalloc(HANDSHAKE_MAX);
    buf->len = HANDSHAKE_MAX;
}

static void on_hs_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct ctr_session *s = st->data;
    if (n > 0)
        sb_add(&s->in, buf->base, (size_t)n);
    free(buf->base);
    if (n < 0) {
        session_fail(s, "the container's monitor closed the session");
        return;
    }
    char *nl = s->in.len ? memchr(s->in.buf, '\n', s->in.len) : NULL;
    if (!nl) {
        if (s->in.len > HANDSHAKE_MAX)
            session_fail(s, "bad answer from the container's monitor");
        return;
    }
    uv_read_stop(st);
    struct api_shim_msg m = {0};
    struct err *err = NULL;
    size_t len = (size_t)(nl - s->in.buf);
    if (api_shim_decode(s->in.buf, len, &m, &err) < 0 || !m.ok) {
        _cleanup_free_ char *msg = xstrdup(m.error ? m.error : err ? err->msg : "refused");
        err_free(err);
        api_shim_release(&m);
        session_fail(s, msg);
        return;
    }
    if (s->x && m.pid > 0) {
        s->x->pid = m.pid;
        s->x->running = true;
    }
    api_shim_release(&m);
    uv_pipe_t *pipe = s->pipe;
    s->pipe = NULL;
    if (s->cancelled) {
        uv_close((uv_handle_t *)pipe, on_pipe_closed);
    } else {
        pipe->data = NULL;
        s->cb(NULL, pipe, nl + 1, s->in.len - len - 1, s->data);
    }
    struct ctr *c = s->c;
    bool for_start = s->for_start;
    ctr_ref(c);
    session_free(s);
    if (for_start)
        ctr_start_proceed(c);
    ctr_unref(c);
}

static void on_hs_written(uv_write_t *w, int status)
{
    struct ctr_session *s = w->data;
    free(w);
    if (status < 0)
        session_fail(s, "the container's monitor closed the session");
}

static void on_connected(uv_connect_t *req, int status)
{
    struct ctr_session *s = req->data;
    free(req);
    if (s->dirfd >= 0) {
        close(s->dirfd);
        s->dirfd = -1;
    }
    if (status < 0) {
        _cleanup_free_ char *msg =
            xasprintf("cannot reach the container's monitor: %s", uv_strerror(status));
        session_fail(s, msg);
        return;
    }
    uv_write_t *w = xcalloc(1, sizeof(*w));
    w->data = s;
    uv_buf_t b = uv_buf_init(s->request, (unsigned int)strlen(s->request));
    if (uv_write(w, (uv_stream_t *)s->pipe, &b, 1, on_hs_written) < 0) {
        free(w);
        session_fail(s, "cannot write to the container's monitor");
        return;
    }
    uv_read_start((uv_stream_t *)s->pipe, on_hs_alloc, on_hs_read);
}

static void session_connect(struct ctr_session *s)
{
    struct ctr *c = s->c;
    s->pipe = xcalloc(1, sizeof(*s->pipe));
    uv_pipe_init(c->st->loop, s->pipe, 0);
    s->pipe->data = s;
    /* Through an fd on the bundle: <exec-root>/<id>/shim.sock may not fit in sun_path. */
    _cleanup_free_ char *dir = ctr_exec_path(c, "");
    s->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    char sock[64];
    snprintf(sock, sizeof(sock), "/proc/self/fd/%d/shim.sock", s->dirfd);
    uv_connect_t *req = xcalloc(1, sizeof(*req));
    req->data = s;
    uv_pipe_connect(req, s->pipe, sock, on_connected);
}

static struct ctr_session *session_new(struct ctr *c, char *request, ctr_session_cb cb, void *data)
{
    struct ctr_session *s = xcalloc(1, sizeof(*s));
    s->c = c;
    ctr_ref(c);
    s->request = request;
    s->cb = cb;
    s->data = data;
    s->dirfd = -1;
    sb_init(&s->in);
    return s;
}

struct ctr_session *ctr_attach(struct ctr_store *st, struct ctr *c, bool stdin, bool stdout,
                               bool stderr, ctr_session_cb cb, void *data)
{
    (void)st;
    struct api_shim_msg m = {.op = "attach", .stdin_ = stdin, .stdout_ = stdout, .stderr_ = stderr};
    struct ctr_session *s = session_new(c, api_shim_encode(&m), cb, data);
    bool live = (c->status == CTR_RUNNING || c->status == CTR_PAUSED) && !c->starting;
    ctr_event(c, "attach", NULL, NULL);
    if (live) {
        session_connect(s);
        return s;
    }
    /* Connected by the next start, before the process runs. */
    s->pending = true;
    s->next = c->sessions;
    c->sessions = s;
    return s;
}

void ctr_session_cancel(struct ctr_session *s)
{
    if (!s)
        return;
    if (s->pending) {
        struct ctr *c = s->c;
        for (struct ctr_session **pp = &c->sessions; *pp; pp = &(*pp)->next) {
            if (*pp == s) {
                *pp = s->next;
                break;
            }
        }
        session_free(s);
        return;
    }
    s->cancelled = true; /* the handshake finishes, then the pipe is closed */
}

/* Called by the start of a container that has pending attaches: connect them all. */
unsigned int ctr_sessions_connect_pending(struct ctr *c)
{
    unsigned int n = 0;
    struct ctr_session *s = c->sessions;
    c->sessions = NULL;
    while (s) {
        struct ctr_session *next = s->next;
        s->pending = false;
        s->for_start = true;
        n++;
        session_connect(s);
        s = next;
    }
    return n;
}

/* Ends pending attaches of a container that will not start now (its start failed). */
void ctr_sessions_fail_pending(struct ctr *c, const char *msg)
{
    struct ctr_session *s = c->sessions;
    c->sessions = NULL;
    while (s) {
        struct ctr_session *next = s->next;
        s->pending = false;
        session_fail(s, msg);
        s = next;
    }
}

static int send_control(struct ctr *c, const struct api_shim_msg *m, struct err **err)
{
    struct ctr_shim *sh = c->shim;
    if (!sh || !sh->connected)
        return err_set(err, ERR_CONFLICT, 0, "Container %s is not running", c->id);
    char *line = api_shim_encode(m);
    uv_buf_t b = uv_buf_init(line, (unsigned int)strlen(line));
    int r = uv_try_write((uv_stream_t *)&sh->pipe, &b, 1);
    free(line);
    if (r != (int)b.len)
        return err_set(err, ERR_SYSTEM, r < 0 ? -r : EAGAIN, "write to the container's monitor");
    return 0;
}

int ctr_resize(struct ctr_store *st, struct ctr *c, int h, int w, struct err **err)
{
    (void)st;
    if (c->status != CTR_RUNNING && c->status != CTR_PAUSED)
        return err_set(err, ERR_CONFLICT, 0, "Container %s is not running", c->id);
    struct api_shim_msg m = {.op = "resize", .h = h, .w = w};
    if (send_control(c, &m, err) < 0)
        return -1;
    char hs[16], ws[16];
    snprintf(hs, sizeof(hs), "%d", h);
    snprintf(ws, sizeof(ws), "%d", w);
    const char *attrs[] = {"height", hs, "width", ws, NULL};
    ctr_event_attrs(c, "resize", attrs);
    return 0;
}

/* ---- exec -------------------------------------------------------------------------------- */

/* docker's exec_create and exec_start events name the command: "exec_start: ls -l /", with a
 * space after the first word even when no argument follows. */
static void exec_event(struct ctr_exec *x, const char *what)
{
    struct sb action = SB_INIT;
    sb_addf(&action, "%s: %s ", what, x->argv[0]);
    for (char **a = x->argv + 1; *a; a++)
        sb_addf(&action, "%s%s", a == x->argv + 1 ? "" : " ", *a);
    const char *attrs[] = {"execID", x->id, NULL};
    ctr_event_attrs(x->c, sb_str(&action), attrs);
    sb_release(&action);
}

static char **json_strv(const json_t *a)
{
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    char **v = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0, k = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s)
            v[k++] = xstrdup(s);
    }
    return v;
}

static int check_types(const json_t *body, struct err **err)
{
    static const struct {
        const char *key;
        json_type type;
    } fields[] = {{"AttachStdin", JSON_TRUE},  {"AttachStdout", JSON_TRUE},
                  {"AttachStderr", JSON_TRUE}, {"Tty", JSON_TRUE},
                  {"Privileged", JSON_TRUE},   {"Cmd", JSON_ARRAY},
                  {"Env", JSON_ARRAY},         {"WorkingDir", JSON_STRING},
                  {"User", JSON_STRING},       {"DetachKeys", JSON_STRING}};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        json_t *v = json_object_get(body, fields[i].key);
        if (!v || json_is_null(v))
            continue;
        bool ok =
            fields[i].type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == fields[i].type;
        if (!ok)
            return err_set(err, ERR_INVALID, 0, "%s: wrong type", fields[i].key);
    }
    return 0;
}

int ctr_exec_console_size(struct ctr_exec *x, const json_t *body, struct err **err)
{
    json_t *v = json_object_get(body, "ConsoleSize");
    if (!v || json_is_null(v))
        return 0;
    json_t *h = json_array_get(v, 0), *w = json_array_get(v, 1);
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(h) ||
        !json_is_integer(w) || json_integer_value(h) < 0 || json_integer_value(h) > 65535 ||
        json_integer_value(w) < 0 || json_integer_value(w) > 65535)
        return err_set(err, ERR_INVALID, 0,
                       "ConsoleSize must be [height, width], two integers from 0 to 65535");
    x->console_h = (int)json_integer_value(h);
    x->console_w = (int)json_integer_value(w);
    return 0;
}

struct ctr_exec *ctr_exec_create(struct ctr_store *st, struct ctr *c, const json_t *body,
                                 struct err **err)
{
    if (c->status != CTR_RUNNING)
        return err_set(err, ERR_CONFLICT, 0,
                       c->status == CTR_PAUSED ? "Container %s is paused, unpause the container "
                                                 "before exec"
                                               : "Container %s is not running",
                       c->id),
               NULL;
    if (check_types(body, err) < 0)
        return NULL;
    json_t *cmd = json_object_get(body, "Cmd");
    if (!json_is_array(cmd) || json_array_size(cmd) == 0)
        return err_set(err, ERR_INVALID, 0, "No exec command specified"), NULL;
    struct ctr_exec size = {0};
    if (ctr_exec_console_size(&size, body, err) < 0)
        return NULL;
    struct ctr_exec *x = xcalloc(1, sizeof(*x));
    unsigned char b[32];
    if (getrandom(b, sizeof(b), 0) != sizeof(b))
        abort();
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(x->id + 2 * i, 3, "%02x", b[i]);
    x->c = c;
    ctr_ref(c);
    x->argv = json_strv(cmd);
    x->env = json_strv(json_object_get(body, "Env"));
    const char *wd = json_string_value(json_object_get(body, "WorkingDir"));
    const char *user = json_string_value(json_object_get(body, "User"));
    const char *keys = json_string_value(json_object_get(body, "DetachKeys"));
    x->cwd = xstrdup(wd ? wd : "");
    x->user = xstrdup(user ? user : "");
    x->detach_keys = xstrdup(keys ? keys : "");
    x->tty = json_is_true(json_object_get(body, "Tty"));
    x->privileged = json_is_true(json_object_get(body, "Privileged"));
    x->attach_stdin = json_is_true(json_object_get(body, "AttachStdin"));
    x->attach_stdout = json_is_true(json_object_get(body, "AttachStdout"));
    x->attach_stderr = json_is_true(json_object_get(body, "AttachStderr"));
    x->exit_code = -1;
    x->console_h = size.console_h;
    x->console_w = size.console_w;
    x->next = st->execs;
    st->execs = x;
    exec_event(x, "exec_create");
    return x;
}

struct ctr_exec *ctr_exec_lookup(struct ctr_store *st, const char *id, struct err **err)
{
    for (struct ctr_exec *x = st->execs; x; x = x->next) {
        if (strcmp(x->id, id) == 0)
            return x;
    }
    return err_set(err, ERR_NOT_FOUND, 0, "No such exec instance: %s", id), NULL;
}

static char **merge_env(char **base, char **extra)
{
    size_t n = 0, m = 0;
    while (base && base[n])
        n++;
    while (extra && extra[m])
        m++;
    char **out = xcalloc(n + m + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t klen = strcspn(base[i], "=");
        bool overridden = false;
        for (size_t j = 0; j < m && !overridden; j++)
            overridden = strncmp(extra[j], base[i], klen) == 0 && extra[j][klen] == '=';
        if (!overridden)
            out[k++] = xstrdup(base[i]);
    }
    for (size_t j = 0; j < m; j++)
        out[k++] = xstrdup(extra[j]);
    return out;
}

static json_t *exec_spec_json(const struct ctr_exec *x, struct err **err)
{
    const struct ctr *c = x->c;
    struct rt_exec_spec sp = {0};
    const struct api_host_config *h = &c->cfg.host;
    if (rt_caps_compute(h->cap_add, h->cap_drop, h->privileged || x->privileged, &sp.caps, err) < 0)
        return NULL;
    sp.argv = x->argv;
    sp.env = merge_env(c->cfg.env, x->env);
    sp.cwd = x->cwd[0]                                     ? x->cwd
             : c->cfg.working_dir && c->cfg.working_dir[0] ? c->cfg.working_dir
                                                           : "/";
    sp.user = x->user[0] ? x->user : c->cfg.user ? c->cfg.user : "";
    sp.tty = x->tty;
    sp.privileged = x->privileged || h->privileged;
    sp.no_new_privs = ctr_wants_nnp(h->security_opt);
    sp.seccomp_unconfined = ctr_seccomp_unconfined(h->security_opt);
    _cleanup_free_ char *cg = xasprintf("berth/%s", c->id);
    sp.cgroup_path = cg;
    json_t *j = rt_exec_spec_encode(&sp);
    api_strv_free(sp.env);
    return j;
}

void ctr_exec_start(struct ctr_store *st, struct ctr_exec *x, bool detach, ctr_session_cb cb,
                    void *data)
{
    (void)st;
    struct err *err = NULL;
    if (x->started)
        err_set(&err, ERR_CONFLICT, 0, "Error: Exec command %s has already run", x->id);
    else if (x->c->status != CTR_RUNNING)
        err_set(&err, ERR_CONFLICT, 0, "Container %s is not running", x->c->id);
    json_t *spec = err ? NULL : exec_spec_json(x, &err);
    if (err) {
        cb(err, NULL, NULL, 0, data);
        err_free(err);
        return;
    }
    x->started = true;
    exec_event(x, "exec_start");
    struct api_shim_msg m = {.op = "exec",
                             .id = x->id,
                             .exec = spec,
                             .h = x->tty ? x->console_h : 0,
                             .w = x->tty ? x->console_w : 0,
                             .stdin_ = !detach && x->attach_stdin,
                             .stdout_ = !detach && x->attach_stdout,
                             .stderr_ = !detach && x->attach_stderr};
    char *line = api_shim_encode(&m);
    json_decref(spec);
    struct ctr_session *s = session_new(x->c, line, cb, data);
    s->x = x;
    session_connect(s);
}

void ctr_exec_exited(struct ctr_exec *x, int code)
{
    bool first = x->exit_code < 0;
    ctr_exec_failed(x, code);
    if (!first)
        return;
    char cs[16];
    snprintf(cs, sizeof(cs), "%d", code);
    const char *attrs[] = {"execID", x->id, "exitCode", cs, NULL};
    ctr_event_attrs(x->c, "exec_die", attrs);
}

void ctr_exec_failed(struct ctr_exec *x, int code)
{
    x->running = false;
    x->exit_code = code;
}

int ctr_exec_resize(struct ctr_store *st, struct ctr_exec *x, int h, int w, struct err **err)
{
    (void)st;
    struct api_shim_msg m = {.op = "exec_resize", .id = x->id, .h = h, .w = w};
    return send_control(x->c, &m, err);
}

json_t *ctr_exec_inspect(const struct ctr_exec *x)
{
    json_t *args = json_array();
    for (char **a = x->argv + 1; *x->argv && *a; a++)
        json_array_append_new(args, json_string(*a));
    json_t *j = json_pack(
        "{s:s, s:b, s:o, s:i, s:{s:b, s:s, s:o, s:b, s:s}, s:b, s:b, s:b, s:b, "
        "s:s, s:s}",
        "ID", x->id, "Running", x->running, "ExitCode",
        x->started && !x->running ? json_integer(x->exit_code) : json_null(), "Pid", x->pid,
        "ProcessConfig", "tty", x->tty, "entrypoint", x->argv[0] ? x->argv[0] : "", "arguments",
        args, "privileged", x->privileged, "user", x->user, "OpenStdin", x->attach_stdin,
        "OpenStderr", x->attach_stderr, "OpenStdout", x->attach_stdout, "CanRemove", false,
        "ContainerID", x->c->id, "DetachKeys", x->detach_keys);
    return j;
}

static void exec_free(struct ctr_exec *x)
{
    api_strv_free(x->argv);
    api_strv_free(x->env);
    free(x->cwd);
    free(x->user);
    free(x->detach_keys);
    ctr_unref(x->c);
    free(x);
}

void ctr_execs_drop(struct ctr_store *st, struct ctr *c)
{
    struct ctr_exec **pp = &st->execs;
    while (*pp) {
        struct ctr_exec *x = *pp;
        if (c && x->c != c) {
            pp = &x->next;
            continue;
        }
        *pp = x->next;
        exec_free(x);
    }
}
