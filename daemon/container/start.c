/* SPDX-License-Identifier: Apache-2.0 */
/* Start: the runtime spec, the shim's bundle, the shim process and its first word. */
#include "daemon/container/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/logs/logs.h"
#include "daemon/runtime/runtime.h"
#include "daemon/shim/shim.h"

static char **strv_dup(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(v[i]);
    return out;
}

static bool mode_is_host(const char *m)
{
    return m && strcmp(m, "host") == 0;
}

bool ctr_wants_nnp(char *const *opts)
{
    for (char *const *o = opts; o && *o; o++) {
        if (strcmp(*o, "no-new-privileges") == 0 || strcmp(*o, "no-new-privileges:true") == 0 ||
            strcmp(*o, "no-new-privileges=true") == 0)
            return true;
    }
    return false;
}

/* The value of "seccomp=V" (or docker's older "seccomp:V") in opts; NULL when absent. */
const char *ctr_seccomp_opt(char *const *opts)
{
    for (char *const *o = opts; o && *o; o++) {
        if (strncmp(*o, "seccomp", 7) == 0 && ((*o)[7] == '=' || (*o)[7] == ':'))
            return *o + 8;
    }
    return NULL;
}

bool ctr_seccomp_unconfined(char *const *opts)
{
    const char *v = ctr_seccomp_opt(opts);
    return v && strcmp(v, "unconfined") == 0;
}

/* "10m", "1g", "512k", "100" into bytes; -1 when malformed. */
static int64_t parse_size(const char *s)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    int64_t mul = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = 1024;
        end++;
        break;
    case 'm':
    case 'M':
        mul = 1024 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        mul = 1024LL * 1024 * 1024;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    return *end ? -1 : (int64_t)(v * (double)mul);
}

/* The user's mounts (checked at create) into the spec. */
static void spec_mounts(const struct ctr *c, struct rt_spec *sp)
{
    if (ctr_user_mounts(c->st, &c->cfg.host, &sp->mounts, &sp->nmounts, NULL) < 0) {
        sp->mounts = NULL;
        sp->nmounts = 0;
    }
}

static int build_spec(const struct ctr *c, const struct image *img, struct rt_spec *sp,
                      struct err **err)
{
    const struct api_container_config *cfg = &c->cfg;
    const struct api_host_config *h = &cfg->host;
    memset(sp, 0, sizeof(*sp));
    if (img->nlayers == 0)
        return err_set(err, ERR_INVALID, 0, "image %s has no layers", img->id);
    sp->id = xstrdup(c->id);
    sp->lowerdirs = xcalloc(img->nlayers + 1, sizeof(char *));
    for (size_t i = 0; i < img->nlayers; i++)
        sp->lowerdirs[i] = image_layer_dir(c->st->images, img->chain_ids[img->nlayers - 1 - i]);
    sp->upperdir = ctr_path(c, "rootfs/upper");
    sp->workdir = ctr_path(c, "rootfs/work");
    sp->rootfs = ctr_path(c, "rootfs/merged");
    sp->readonly_rootfs = h->readonly_rootfs;
    sp->hostname_file = ctr_path(c, "hostname");
    sp->hosts_file = ctr_path(c, "hosts");
    sp->resolv_file = ctr_path(c, "resolv.conf");
    spec_mounts(c, sp);
    size_t na = 0;
    while (c->args && c->args[na])
        na++;
    sp->argv = xcalloc(na + 2, sizeof(char *));
    sp->argv[0] = xstrdup(c->path);
    for (size_t i = 0; i < na; i++)
        sp->argv[i + 1] = xstrdup(c->args[i]);
    sp->env = strv_dup(cfg->env);
    sp->cwd = xstrdup(cfg->working_dir && cfg->working_dir[0] ? cfg->working_dir : "/");
    sp->user = xstrdup(cfg->user ? cfg->user : "");
    sp->hostname = xstrdup(cfg->hostname ? cfg->hostname : "");
    sp->tty = cfg->tty;
    sp->namespaces = RT_NS_MOUNT;
    if (!mode_is_host(h->pid_mode))
        sp->namespaces |= RT_NS_PID;
    if (!mode_is_host(h->uts_mode))
        sp->namespaces |= RT_NS_UTS;
    if (!mode_is_host(h->ipc_mode))
        sp->namespaces |= RT_NS_IPC;
    if (!mode_is_host(h->network_mode))
        sp->namespaces |= RT_NS_NET;
    if (!mode_is_host(h->cgroupns_mode))
        sp->namespaces |= RT_NS_CGROUP;
    if (rt_caps_compute(h->cap_add, h->cap_drop, h->privileged, &sp->caps, err) < 0) {
        rt_spec_release(sp);
        return -1;
    }
    sp->no_new_privs = ctr_wants_nnp(h->security_opt);
    sp->seccomp_unconfined = ctr_seccomp_unconfined(h->security_opt);
    sp->privileged = h->privileged;
    sp->masked_paths = h->masked_paths ? strv_dup(h->masked_paths) : NULL;
    sp->readonly_paths = h->readonly_paths ? strv_dup(h->readonly_paths) : NULL;
    sp->cgroup_path = xasprintf("berth/%s", c->id);
    sp->resources.memory = h->memory;
    sp->resources.memory_swap = h->memory_swap;
    sp->resources.cpu_shares = h->cpu_shares;
    sp->resources.cpu_period = h->cpu_period;
    sp->resources.cpu_quota = h->cpu_quota;
    if (h->nano_cpus > 0) {
        sp->resources.cpu_period = 100000;
        sp->resources.cpu_quota = h->nano_cpus / 10000; /* nano cpus * 100000 us / 1e9 */
    }
    sp->resources.pids_limit = h->pids_limit;
    sp->shm_size = h->shm_size;
    return 0;
}

static void log_options(const struct ctr *c, struct shim_config *sc)
{
    sc->log_max_size = LOGS_DEFAULT_MAX_SIZE;
    sc->log_max_files = LOGS_DEFAULT_MAX_FILES;
    const json_t *opts = c->cfg.host.log_opts;
    const char *ms = json_string_value(json_object_get(opts, "max-size"));
    const char *mf = json_string_value(json_object_get(opts, "max-file"));
    if (ms) {
        int64_t v = parse_size(ms);
        if (v > 0)
            sc->log_max_size = v;
    }
    if (mf) {
        long v = strtol(mf, NULL, 10);
        if (v > 0 && v < 1000)
            sc->log_max_files = (int)v;
    }
}

/* ---- the bundle (threadpool) ------------------------------------------------------------- */

struct start_op {
    uv_work_t work;
    struct ctr *c;
    ctr_done_cb done;
    void *data;
    char *bundle;
    struct shim_config sc; /* encoded into config_text once the network is ready */
    bool extras_done;      /* the networks beyond the first are connected (networks.c) */
    char *config_text;
    char *exit_file;
    int log_fd;
    char *shim_path;
    int sync_fd; /* our end of the shim's fd 3 */
    pid_t shim_pid;
    int shim_pidfd;
    struct err *err;
    uv_pipe_t sync;
    struct sb line;
    bool answered;
};

static void bundle_work(uv_work_t *w)
{
    struct start_op *op = w->data;
    if (mkdir(op->bundle, 0700) < 0 && errno != EEXIST) {
        err_set(&op->err, ERR_SYSTEM, errno, "create %s", op->bundle);
        return;
    }
    _cleanup_free_ char *sock = xasprintf("%s/shim.sock", op->bundle);
    unlink(sock);
    unlink(op->exit_file);
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", op->bundle);
    if (fsu_write_atomic(cfg, op->config_text, strlen(op->config_text), 0600, &op->err) < 0)
        return;
    _cleanup_free_ char *logp = xasprintf("%s/shim.log", op->bundle);
    op->log_fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (op->log_fd < 0) {
        err_set(&op->err, ERR_SYSTEM, errno, "open %s", logp);
        return;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        err_set(&op->err, ERR_SYSTEM, errno, "pipe");
        return;
    }
    char *argv[] = {op->shim_path, op->bundle, NULL};
    if (ctr_spawn_shim(op->shim_path, argv, op->log_fd, p[1], &op->shim_pid, &op->shim_pidfd,
                       &op->err) < 0) {
        close(p[0]);
        p[0] = -1;
    }
    close(p[1]);
    op->sync_fd = p[0];
}

static void start_op_free(struct start_op *op)
{
    if (op->log_fd >= 0)
        close(op->log_fd);
    if (op->sync_fd >= 0)
        close(op->sync_fd);
    free(op->shim_path);
    sb_release(&op->line);
    shim_config_release(&op->sc);
    free(op->bundle);
    free(op->config_text);
    free(op->exit_file);
    err_free(op->err);
    ctr_unref(op->c);
    free(op);
}

static void on_sync_closed(uv_handle_t *h)
{
    start_op_free(h->data);
}

/* docker's exit codes for a process that never ran. */
static int start_failure_code(const char *msg)
{
    if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory"))
        return 127;
    if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
        return 126;
    return 128;
}

void ctr_mark_running(struct ctr *c, int pid)
{
    ctr_event(c, "start", NULL, NULL);
    c->starting = false;
    c->status = CTR_RUNNING;
    c->pid = pid;
    c->started_ns = ctr_now_ns();
    c->finished_ns = 0;
    c->exit_code = 0;
    c->oom_killed = false;
    c->has_been_started = true;
    c->manually_stopped = false;
    free(c->error);
    c->error = NULL;
    ctr_save_state(c);
}

void ctr_mark_start_failed(struct ctr *c, const char *msg, struct err **err)
{
    _cleanup_free_ char *text =
        xasprintf("failed to create task for container: %s",
                  msg ? msg : "berth-shim ended before starting the container (see its shim.log)");
    c->starting = false;
    ctr_shim_close(c);
    if (c->st->net)
        net_release(c->st->net, c->id, NULL, NULL);
    free(c->error);
    c->error = xstrdup(text);
    c->exit_code = start_failure_code(text);
    if (c->has_been_started)
        c->status = CTR_EXITED;
    ctr_save_state(c);
    ctr_sessions_fail_pending(c, text);
    err_set(err, ERR_INVALID, 0, "%s", text);
    /* as dockerd: a --rm container that could not start is removed (its waiters told) */
    if (c->cfg.host.auto_remove && !c->st->shutting_down)
        ctr_autoremove(c);
}

void ctr_start_answered(struct ctr *c, int pid, const char *error)
{
    ctr_done_cb cb = c->start_cb;
    void *data = c->start_data;
    if (!cb)
        return;
    c->start_cb = NULL;
    c->start_data = NULL;
    if (pid > 0 && !error) {
        ctr_mark_running(c, pid);
        cb(NULL, data);
    } else {
        struct err *err = NULL;
        ctr_mark_start_failed(c, error, &err);
        cb(err, data);
        err_free(err);
        ctr_notify_waiters(c, false);
    }
    ctr_unref(c);
}

void ctr_start_proceed(struct ctr *c)
{
    if (!c->start_cb || c->start_wait == 0 || --c->start_wait > 0)
        return;
    struct ctr_shim *sh = c->shim;
    struct api_shim_msg m = {.op = "start"};
    char *line = api_shim_encode(&m);
    uv_buf_t b = uv_buf_init(line, (unsigned int)strlen(line));
    int r = sh && sh->connected ? uv_try_write((uv_stream_t *)&sh->pipe, &b, 1) : -1;
    free(line);
    if (r != (int)b.len)
        ctr_start_answered(c, 0, "lost the connection to berth-shim before the start");
}

static void start_answer(struct start_op *op, const char *line, size_t len)
{
    struct ctr *c = op->c;
    op->answered = true;
    json_auto_t *j = json_loadb(line, len, 0, NULL);
    json_t *pid = json_object_get(j, "pid");
    const char *msg = json_string_value(json_object_get(j, "error"));
    const char *status = json_string_value(json_object_get(j, "status"));
    if (status && strcmp(status, "created") == 0) {
        /* wait_start: connect the attaches and the control connection, then "start". */
        c->start_cb = op->done;
        c->start_data = op->data;
        ctr_ref(c);
        c->start_wait = ctr_sessions_connect_pending(c) + 1;
        ctr_shim_attach_spawned(c);
        return;
    }
    if (json_is_integer(pid) && json_integer_value(pid) > 0) {
        ctr_mark_running(c, (int)json_integer_value(pid));
        ctr_shim_attach_spawned(c);
        op->done(NULL, op->data);
        return;
    }
    struct err *err = NULL;
    ctr_mark_start_failed(c, msg, &err);
    op->done(err, op->data);
    err_free(err);
    ctr_notify_waiters(c, false);
}

static void on_sync_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = xmalloc(4096);
    buf->len = 4096;
}

static void on_sync_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct start_op *op = s->data;
    if (n > 0 && op->line.len < 65536)
        sb_add(&op->line, buf->base, (size_t)n);
    free(buf->base);
    char *nl = op->line.len ? memchr(op->line.buf, '\n', op->line.len) : NULL;
    if (!op->answered && (nl || n < 0))
        start_answer(op, sb_str(&op->line), nl ? (size_t)(nl - op->line.buf) : op->line.len);
    if (op->answered || n < 0) {
        uv_read_stop(s);
        if (!uv_is_closing((uv_handle_t *)s))
            uv_close((uv_handle_t *)s, on_sync_closed);
    }
}

static void bundle_after(uv_work_t *w, int status)
{
    struct start_op *op = w->data;
    struct ctr *c = op->c;
    if (status < 0 && !op->err)
        err_set(&op->err, ERR_SYSTEM, -status, "prepare start");
    if (op->err) {
        c->starting = false;
        if (c->st->net)
            net_release(c->st->net, c->id, NULL, NULL);
        op->done(op->err, op->data);
        start_op_free(op);
        return;
    }
    ctr_shim_new(c);
    ctr_shim_proc_watch(c->st, op->shim_pid, op->shim_pidfd);
    uv_pipe_init(c->st->loop, &op->sync, 0);
    op->sync.data = op;
    int r = uv_pipe_open(&op->sync, op->sync_fd);
    if (r < 0) {
        ctr_shim_close(c);
        c->starting = false;
        if (c->st->net)
            net_release(c->st->net, c->id, NULL, NULL);
        kill(op->shim_pid, SIGKILL);
        struct err *err = NULL;
        err_set(&err, ERR_SYSTEM, -r, "the pipe to %s", c->st->shim_path);
        op->done(err, op->data);
        err_free(err);
        uv_close((uv_handle_t *)&op->sync, on_sync_closed);
        return;
    }
    op->sync_fd = -1; /* the pipe handle owns it */
    uv_read_start((uv_stream_t *)&op->sync, on_sync_alloc, on_sync_read);
}

/* The network is ready (its namespace exists, the name files are written): the runtime joins
 * the namespace, then the bundle is written and the shim started. */
static void start_net_ready(const struct err *err, void *data)
{
    struct start_op *op = data;
    struct ctr *c = op->c;
    if (err) {
        c->starting = false;
        op->done(err, op->data);
        start_op_free(op);
        return;
    }
    if (!op->extras_done && c->st->net && ctr_networks_extra(c)) {
        op->extras_done = true;
        ctr_networks_connect(c, start_net_ready, op);
        return;
    }
    const struct net_endpoint *e = c->st->net ? net_endpoint_find(c->st->net, c->id) : NULL;
    if (e) {
        free(op->sc.spec.netns_path);
        op->sc.spec.netns_path = xstrdup(e->sandbox_key);
    }
    json_auto_t *j = shim_config_encode(&op->sc);
    op->config_text = json_dumps(j, JSON_COMPACT);
    shim_config_release(&op->sc);
    uv_queue_work(c->st->loop, &op->work, bundle_work, bundle_after);
}

static void start_network(struct start_op *op)
{
    struct ctr *c = op->c;
    if (!c->st->net) {
        start_net_ready(NULL, op);
        return;
    }
    const struct api_host_config *h = &c->cfg.host;
    _cleanup_free_ char *hosts = ctr_path(c, "hosts");
    _cleanup_free_ char *resolv = ctr_path(c, "resolv.conf");
    struct ctr *other = NULL; /* --network container:<x> joins x's namespace */
    if (h->network_mode && strncmp(h->network_mode, "container:", 10) == 0) {
        struct err *err = NULL;
        other = ctr_lookup(c->st, h->network_mode + 10, &err);
        if (other && other->status != CTR_RUNNING && other->status != CTR_PAUSED) {
            err_set(&err, ERR_CONFLICT, 0, "cannot join network of a non running container: %s",
                    other->id);
            other = NULL;
        }
        if (!other) {
            start_net_ready(err, op);
            err_free(err);
            return;
        }
    }
    _cleanup_free_ char *join_hosts = other ? ctr_path(other, "hosts") : NULL;
    _cleanup_free_ char *join_resolv = other ? ctr_path(other, "resolv.conf") : NULL;
    struct net_attach_req req = {.ctr_id = c->id,
                                 .mode = h->network_mode,
                                 .disabled = c->cfg.network_disabled,
                                 .hostname = c->cfg.hostname,
                                 .extra_hosts = h->extra_hosts,
                                 .dns = h->dns,
                                 .dns_search = h->dns_search,
                                 .dns_options = h->dns_options,
                                 .hosts_path = hosts,
                                 .resolv_path = resolv,
                                 .name = c->name,
                                 .join_ctr_id = other ? other->id : NULL,
                                 .join_hosts_path = join_hosts,
                                 .join_resolv_path = join_resolv,
                                 .endpoints =
                                     json_object_get(c->cfg.networking_config, "EndpointsConfig"),
                                 .port_bindings = h->port_bindings,
                                 .exposed_ports = c->cfg.exposed_ports,
                                 .publish_all = h->publish_all_ports};
    net_attach(c->st->net, &req, start_net_ready, op);
}

void ctr_start(struct ctr_store *st, struct ctr *c, ctr_done_cb done, void *data)
{
    struct err *err = NULL;
    if (c->status == CTR_RUNNING || c->starting) {
        err_set(&err, ERR_NOT_MODIFIED, 0, "container already started");
    } else if (c->status == CTR_PAUSED) {
        err_set(&err, ERR_CONFLICT, 0, "cannot start a paused container, try unpause instead");
    } else if (c->status == CTR_REMOVING || c->removed) {
        err_set(&err, ERR_CONFLICT, 0, "container is marked for removal and cannot be started");
    } else if (st->shutting_down) {
        err_set(&err, ERR_UNAVAILABLE, 0, "the daemon is shutting down");
    } else if (c->rootfs) {
        err_set(&err, ERR_CONFLICT, 0,
                "container %s: its files are being copied (cp or export); start it when that ends",
                c->name);
    }
    _cleanup_free_ char *img_ref = xstrdup(c->image_id);
    const struct image *img = err ? NULL : image_lookup(st->images, img_ref, &err);
    struct shim_config sc = {0};
    if (!err && build_spec(c, img, &sc.spec, &err) == 0) {
        sc.log_path = ctr_log_path(c);
        sc.exit_file = ctr_path(c, "exit.json");
        sc.open_stdin = c->cfg.open_stdin;
        sc.stdin_once = c->cfg.stdin_once;
        sc.wait_start = c->sessions != NULL;
        sc.console_h = c->cfg.host.console_size[0];
        sc.console_w = c->cfg.host.console_size[1];
        log_options(c, &sc);
    }
    if (err) {
        shim_config_release(&sc);
        done(err, data);
        err_free(err);
        return;
    }
    if (c->restart_timer) {
        uv_timer_stop(c->restart_timer);
    }
    struct start_op *op = xcalloc(1, sizeof(*op));
    op->c = c;
    ctr_ref(c);
    op->done = done;
    op->data = data;
    op->log_fd = -1;
    op->sync_fd = -1;
    op->shim_pidfd = -1;
    op->shim_path = xstrdup(c->st->shim_path);
    op->bundle = ctr_exec_path(c, "");
    op->bundle[strlen(op->bundle) - 1] = '\0'; /* no trailing '/' */
    op->exit_file = xstrdup(sc.exit_file);
    op->sc = sc;
    sb_init(&op->line);
    op->work.data = op;
    c->starting = true;
    start_network(op);
}
