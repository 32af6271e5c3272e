/* SPDX-License-Identifier: Apache-2.0 */
/* berthd's life: prepare the data root, listen, serve, stop cleanly. */
#include "daemon/engine/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <uv.h>

#include "daemon/container/container.h"
#include "daemon/httpd/httpd.h"
#include "daemon/image/image.h"
#include "daemon/network/network.h"
#include "daemon/registry/registry.h"
#include "daemon/router/router.h"

struct engine {
    uv_loop_t loop;
    const struct engine_config *cfg;
    struct handle_host host;
    struct handle_env env;
    struct router *router;
    struct reg_client *reg;
    struct image_store *images;
    struct ctr_store *ctrs;
    struct net_mgr *net;
    struct events *events;
    struct vol_store *volumes;
    char *shim_path;
    struct httpd *httpd;
    uv_signal_t sig_term, sig_int, sig_hup;
    int lock_fd;
    char **insecure; /* configured insecure registries plus 127.0.0.0/8, as dockerd has */
    char **sockets;  /* socket paths this daemon created and removes at exit; NULL-terminated */
    size_t nsockets;
    unsigned int signals_seen;
};

/* ---- data root and lock ------------------------------------------------------------------ */

static int prepare_dirs(struct engine *e, struct err **err)
{
    const struct engine_config *cfg = e->cfg;
    if (fsu_mkdir_p(cfg->data_root, 0710, err) < 0)
        return err_wrap(err, "data root");
    if (fsu_mkdir_p(cfg->exec_root, 0700, err) < 0)
        return err_wrap(err, "exec root");
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", cfg->data_root);
    if (fsu_mkdir_p(tmp, 0700, err) < 0)
        return err_wrap(err, "data root");
    return 0;
}

/* One berthd per data root: an exclusive flock held for the daemon's whole life. */
static int lock_data_root(struct engine *e, struct err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/berthd.lock", e->cfg->data_root);
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK)
            return err_set(err, ERR_SYSTEM, errno, "lock %s", path);
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return err_set(err, ERR_CONFLICT, 0,
                       "data root %s is in use by another berthd (pid %s); stop it or choose "
                       "another --data-root",
                       e->cfg->data_root, pid[0] ? pid : "unknown");
    }
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len)
        return err_set(err, ERR_SYSTEM, errno, "write %s", path);
    e->lock_fd = steal_fd(&fd);
    return 0;
}

/* ---- listeners --------------------------------------------------------------------------- */

/*
 * A socket path must be free: a symlink is refused (it could point anywhere), a live socket
 * means another daemon, a dead one is stale and removed, anything else is refused.
 */
static int check_socket_path(const char *path, struct err **err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_set(err, ERR_SYSTEM, errno, "socket %s", path);
    }
    if (S_ISLNK(st.st_mode))
        return err_set(err, ERR_INVALID, 0,
                       "socket path %s is a symbolic link; refusing to "
                       "follow it",
                       path);
    if (!S_ISSOCK(st.st_mode))
        return err_set(err, ERR_INVALID, 0, "socket path %s exists and is not a socket", path);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return err_set(err, ERR_INVALID, 0, "socket path %s is too long", path);
    strcpy(sa.sun_path, path);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return err_set(err, ERR_CONFLICT, 0, "another daemon is already listening on %s", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return err_set(err, ERR_SYSTEM, errno, "remove stale socket %s", path);
    log_info("removed stale socket %s", path);
    return 0;
}

static int socket_group(const struct engine_config *cfg, gid_t *gid, struct err **err)
{
    *gid = 0;
    struct group *g = getgrnam(cfg->group);
    if (g) {
        *gid = g->gr_gid;
        return 0;
    }
    if (cfg->group_explicit)
        return err_set(err, ERR_INVALID, 0, "--group: group %s not found", cfg->group);
    log_debug("group %s not found; the socket stays root-only", cfg->group);
    return 0;
}

static int listen_unix(struct engine *e, const char *path, gid_t gid, struct err **err)
{
    if (check_socket_path(path, err) < 0)
        return -1;
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (fsu_mkdir_p(dir, 0755, err) < 0)
            return -1;
    }
    if (httpd_listen_unix(e->httpd, path, err) < 0)
        return -1;
    e->sockets = xrealloc(e->sockets, (e->nsockets + 2) * sizeof(char *));
    e->sockets[e->nsockets++] = xstrdup(path);
    e->sockets[e->nsockets] = NULL;
    if (chown(path, 0, gid) < 0 || chmod(path, 0660) < 0)
        return err_set(err, ERR_SYSTEM, errno, "set owner and mode of %s", path);
    log_info("API listen on %s", path);
    return 0;
}

static int listen_activated(struct engine *e, const char *host, struct err **err)
{
    _cleanup_free_ int *fds = NULL;
    int n = engine_listen_fds(&fds);
    if (n == 0)
        return err_set(err, ERR_INVALID, 0,
                       "%s: no sockets found via socket activation: make "
                       "sure the service was started by systemd",
                       host);
    long want = host[5] ? strtol(host + 5, NULL, 10) : -1;
    int used = 0;
    for (int i = 0; i < n; i++) {
        if (want >= 0 && fds[i] != want)
            continue;
        if (httpd_listen_fd(e->httpd, fds[i], err) < 0)
            return -1;
        used++;
        log_info("API listen on systemd socket fd %d", fds[i]);
    }
    if (used == 0)
        return err_set(err, ERR_INVALID, 0, "%s: that fd was not passed by socket activation",
                       host);
    return 0;
}

static int start_listeners(struct engine *e, struct err **err)
{
    gid_t gid;
    if (socket_group(e->cfg, &gid, err) < 0)
        return -1;
    for (char **h = e->cfg->hosts; *h; h++) {
        int r;
        if (strncmp(*h, "fd://", 5) == 0)
            r = listen_activated(e, *h, err);
        else
            r = listen_unix(e, strncmp(*h, "unix://", 7) == 0 ? *h + 7 : *h, gid, err);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* ---- signals and shutdown ----------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_httpd_closed(void *ud)
{
    struct engine *e = ud;
    e->httpd = NULL;

    uv_close((uv_handle_t *)&e->sig_term, on_handle_closed);
    uv_close((uv_handle_t *)&e->sig_int, on_handle_closed);
    uv_close((uv_handle_t *)&e->sig_hup, on_handle_closed);
}

static void on_containers_down(void *data)
{
    struct engine *e = data;
    handle_env_shutdown(&e->env); /* attach/exec sessions end now, not at the grace's end */
    ctr_store_detach(e->ctrs);
    httpd_shutdown(e->httpd, e->cfg->shutdown_timeout_s * 1000, on_httpd_closed, e);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct engine *e = s->data;
    if (signum == SIGHUP) {
        log_info("SIGHUP received: configuration reload is not supported; ignoring");
        return;
    }
    if (e->signals_seen++ > 0) {
        log_info("%s received again: still shutting down", strsignal(signum));
        return;
    }
    log_info("Processing signal '%s': shutting down", strsignal(signum));
    engine_sd_notify("STOPPING=1");
    /* Pulls end (with an error for their clients) before the registry client goes away. */
    image_store_cancel_all(e->images);
    reg_client_free(e->reg);
    e->reg = NULL;
    e->env.reg = NULL;
    /* With live restore containers keep running; without it they are stopped first. */
    ctr_store_shutdown(e->ctrs, on_containers_down, e);
}

static void init_signals(struct engine *e)
{
    uv_signal_t *sigs[] = {&e->sig_term, &e->sig_int, &e->sig_hup};
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        uv_signal_init(&e->loop, sigs[i]);
        sigs[i]->data = e;
    }
}

static int start_signals(struct engine *e)
{
    uv_signal_t *sigs[] = {&e->sig_term, &e->sig_int, &e->sig_hup};
    int nums[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        int r = uv_signal_start(sigs[i], on_signal, nums[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int write_pidfile(const struct engine_config *cfg, struct err **err)
{
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%d", (int)getpid());
    return fsu_write_atomic(cfg->pidfile, buf, (size_t)len, 0644, err);
}

static void engine_cleanup(struct engine *e)
{
    for (size_t i = 0; i < e->nsockets; i++) {
        unlink(e->sockets[i]);
        free(e->sockets[i]);
    }
    free(e->sockets);
    for (char **p = e->insecure; p && *p; p++)
        free(*p);
    free(e->insecure);
    if (e->router)
        route_free(e->router);
    ctr_store_free(e->ctrs);
    vol_store_free(e->volumes);
    net_mgr_free(e->net);
    events_free(e->events);
    image_store_free(e->images);
    free(e->shim_path);
    handle_env_release(&e->env);
    engine_host_release(&e->host);
    if (e->lock_fd >= 0)
        close(e->lock_fd);
}

/* Loopback registries are always reachable over plain HTTP, as with dockerd. */
static char **insecure_registries(const struct engine_config *cfg)
{
    size_t n = 0;
    bool has_loopback = false;
    for (char **p = cfg->insecure_registries; p && *p; p++, n++)
        has_loopback |= strcmp(*p, "127.0.0.0/8") == 0;
    char **v = xcalloc(n + 2, sizeof(*v));
    size_t i = 0;
    if (!has_loopback)
        v[i++] = xstrdup("127.0.0.0/8");
    for (char **p = cfg->insecure_registries; p && *p; p++)
        v[i++] = xstrdup(*p);
    return v;
}

/* berth-shim is installed beside berthd. */
static char *find_shim(struct err **err)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return err_set(err, ERR_SYSTEM, errno, "readlink /proc/self/exe"), NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    char *path = xasprintf("%s/berth-shim", self);
    if (access(path, X_OK) < 0) {
        err_set(err, ERR_SYSTEM, errno, "berth-shim not found beside berthd at %s", path);
        free(path);
        return NULL;
    }
    return path;
}

static int engine_start(struct engine *e, struct err **err)
{
    if (prepare_dirs(e, err) < 0 || lock_data_root(e, err) < 0)
        return -1;
    e->shim_path = find_shim(err);
    if (!e->shim_path)
        return -1;
    engine_host_gather(&e->host, e->cfg->data_root);
    e->env.host = &e->host;
    e->env.data_root = e->cfg->data_root;
    e->env.live_restore = e->cfg->live_restore;
    e->insecure = insecure_registries(e->cfg);
    e->env.insecure_registries = e->insecure;
    e->env.registry_mirrors = e->cfg->registry_mirrors;
    e->env.loop = &e->loop;
    /* The sockets first: a refusal (live socket, symlink, unknown group, no LISTEN_FDS) comes
     * before anything changes on the host (bridge, iptables, shims reattached). Requests wait
     * in the backlog until the loop runs, after everything below is open. */
    handle_env_init(&e->env);
    size_t ntables = 0;
    const struct route *const *tables = handle_route_tables(&ntables);
    e->router = route_new(tables, ntables, &e->env);
    struct httpd_limits limits;
    httpd_limits_default(&limits);
    e->httpd = httpd_new(&e->loop, &limits, &route_httpd_ops, e->router);
    _cleanup_free_ char *headers = route_default_headers();
    httpd_set_default_headers(e->httpd, headers);
    if (start_listeners(e, err) < 0)
        return -1;
    struct reg_config rc = {.insecure = e->insecure,
                            .mirrors = e->cfg->registry_mirrors,
                            .certs_dir = e->cfg->certs_dir,
                            .user_agent = "berth/" BERTH_VERSION};
    e->reg = reg_client_new(&e->loop, &rc);
    e->env.reg = e->reg;
    if (image_store_open(&e->loop, e->cfg->data_root, e->reg, &e->images, err) < 0)
        return -1;
    e->env.images = e->images;
    struct net_config nc = {.data_root = e->cfg->data_root,
                            .exec_root = e->cfg->exec_root,
                            .bip = e->cfg->bip,
                            .bridge = e->cfg->bridge,
                            .iptables = e->cfg->iptables,
                            .ip_forward = e->cfg->ip_forward};
    if (net_mgr_open(&e->loop, &nc, &e->net, err) < 0)
        return err_wrap(err, "networks");
    e->env.net = e->net;
    e->events = events_new();
    e->env.events = e->events;
    if (vol_store_open(&e->loop, e->cfg->data_root, &e->volumes, err) < 0)
        return err_wrap(err, "volumes");
    e->env.volumes = e->volumes;
    struct ctr_store_config cc = {.data_root = e->cfg->data_root,
                                  .exec_root = e->cfg->exec_root,
                                  .shim_path = e->shim_path,
                                  .live_restore = e->cfg->live_restore,
                                  .images = e->images,
                                  .net = e->net,
                                  .events = e->events,
                                  .volumes = e->volumes};
    if (ctr_store_open(&e->loop, &cc, &e->ctrs, err) < 0)
        return err_wrap(err, "containers");
    e->env.ctrs = e->ctrs;
    if (write_pidfile(e->cfg, err) < 0)
        return -1;
    int r = start_signals(e);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "signal handlers");
    return 0;
}

int engine_run(const struct engine_config *cfg)
{
    struct engine e = {.cfg = cfg, .lock_fd = -1};
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&e.loop);
    init_signals(&e);
    struct err *err = NULL;
    int status = 0;
    if (engine_start(&e, &err) < 0) {
        fprintf(stderr, "berthd: %s\n", err->msg);
        err_free(err);
        status = 1;
        if (e.ctrs)
            ctr_store_detach(e.ctrs);
        if (e.reg)
            reg_client_free(e.reg);
        e.reg = NULL;
        if (e.httpd)
            httpd_shutdown(e.httpd, 0, on_httpd_closed, &e);
        else
            on_httpd_closed(&e);
        uv_run(&e.loop, UV_RUN_DEFAULT);
    } else {
        log_info("berthd %s (api %s) started; data root %s", BERTH_VERSION, API_VERSION,
                 cfg->data_root);
        engine_sd_notify("READY=1\nSTATUS=Serving the API");
        uv_run(&e.loop, UV_RUN_DEFAULT);
        unlink(cfg->pidfile);
        log_info("berthd stopped");
    }
    engine_cleanup(&e);
    if (uv_loop_close(&e.loop) != 0)
        log_warn("loop closed with handles still open");
    return status;
}
