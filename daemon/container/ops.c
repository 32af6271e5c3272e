/* SPDX-License-Identifier: Apache-2.0 */
/* stop, kill, restart, remove, rename, pause, top, shutdown. */
#include "daemon/container/internal.h"
#include "daemon/events/events.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/runtime/runtime.h"

static bool is_live(const struct ctr *c)
{
    return c->status == CTR_RUNNING || c->status == CTR_PAUSED;
}

static void send_signal(struct ctr *c, int sig)
{
    char num[16];
    snprintf(num, sizeof(num), "%d", sig);
    ctr_event(c, "kill", "signal", num);
    struct ctr_shim *s = c->shim;
    if (s && s->connected) {
        struct api_shim_msg m = {.op = "kill", .signal = sig};
        char *line = api_shim_encode(&m);
        uv_buf_t buf = uv_buf_init(line, (unsigned int)strlen(line));
        int r = uv_try_write((uv_stream_t *)&s->pipe, &buf, 1);
        free(line);
        if (r == (int)buf.len)
            return;
    }
    /* No connection to the shim (yet): signal the container's init directly. */
    if (c->pid > 0 && kill(c->pid, sig) < 0)
        log_warn("signal %d to container %.12s: %s", sig, c->id, strerror(errno));
}

int ctr_kill(struct ctr_store *st, struct ctr *c, int sig, struct err **err)
{
    (void)st;
    if (!is_live(c))
        return err_set(err, ERR_CONFLICT, 0,
                       "Cannot kill container: %s: Container %s is not running", c->name, c->id);
    if (sig <= 0 || sig > 64)
        return err_set(err, ERR_INVALID, 0, "Invalid signal: %d", sig);
    send_signal(c, sig);
    return 0;
}

/* ---- pause (freezer, on the threadpool) -------------------------------------------------- */

struct pause_op {
    uv_work_t work;
    struct ctr *c;
    bool pause;
    char *cgroup;
    ctr_done_cb done;
    void *data;
    struct err *err;
};

static void pause_work(uv_work_t *w)
{
    struct pause_op *op = w->data;
    (void)rt_cgroup_freeze(op->cgroup, op->pause, &op->err);
}

static void pause_after(uv_work_t *w, int status)
{
    struct pause_op *op = w->data;
    struct ctr *c = op->c;
    (void)status;
    if (!op->err && is_live(c)) {
        c->status = op->pause ? CTR_PAUSED : CTR_RUNNING;
        ctr_save_state(c);
        ctr_event(c, op->pause ? "pause" : "unpause", NULL, NULL);
    }
    op->done(op->err, op->data);
    err_free(op->err);
    free(op->cgroup);
    free(op);
    ctr_unref(c);
}

void ctr_pause(struct ctr_store *st, struct ctr *c, bool pause, ctr_done_cb done, void *data)
{
    struct err *err = NULL;
    if (!is_live(c))
        err_set(&err, ERR_CONFLICT, 0, "Container %s is not running", c->id);
    else if (pause && c->status == CTR_PAUSED)
        err_set(&err, ERR_CONFLICT, 0, "Container %s is already paused", c->id);
    else if (!pause && c->status != CTR_PAUSED)
        err_set(&err, ERR_CONFLICT, 0, "Container %s is not paused", c->id);
    if (err) {
        done(err, data);
        err_free(err);
        return;
    }
    struct pause_op *op = xcalloc(1, sizeof(*op));
    op->c = c;
    ctr_ref(c);
    op->pause = pause;
    op->cgroup = xasprintf("berth/%s", c->id);
    op->done = done;
    op->data = data;
    op->work.data = op;
    uv_queue_work(st->loop, &op->work, pause_work, pause_after);
}

/* ---- stop and restart -------------------------------------------------------------------- */

static void on_stop_timeout(uv_timer_t *t)
{
    struct ctr *c = t->data;
    if (is_live(c)) {
        log_debug("container %.12s did not stop in time: killing it", c->id);
        send_signal(c, SIGKILL);
    }
}

static void stop_timer_closed(uv_handle_t *h)
{
    struct ctr *c = h->data;
    free(h);
    ctr_unref(c);
}

static void stop_timer_release(struct ctr *c)
{
    if (!c->stop_timer)
        return;
    uv_timer_stop(c->stop_timer);
    uv_close((uv_handle_t *)c->stop_timer, stop_timer_closed);
    c->stop_timer = NULL;
}

static int stop_signal(const struct ctr *c, const char *signal)
{
    const char *name = signal && signal[0]                           ? signal
                       : c->cfg.stop_signal && c->cfg.stop_signal[0] ? c->cfg.stop_signal
                                                                     : "SIGTERM";
    int sig = api_signal_parse(name);
    return sig > 0 ? sig : SIGTERM;
}

enum stop_kind { STOP_PLAIN, STOP_RESTART, STOP_REMOVE };

struct stop_req {
    struct ctr *c;
    int timeout;
    int sig;
    ctr_done_cb done;
    void *data;
    enum stop_kind kind;
};

static void stop_send(struct stop_req *r)
{
    struct ctr *c = r->c;
    struct ctr_op *op = xcalloc(1, sizeof(*op));
    op->done = r->done;
    op->data = r->data;
    op->restart = r->kind == STOP_RESTART;
    op->for_remove = r->kind == STOP_REMOVE;
    op->next = c->stops;
    c->stops = op;
    ctr_ref(c);
    if (!c->stop_timer) {
        c->stop_timer = xcalloc(1, sizeof(*c->stop_timer));
        uv_timer_init(c->st->loop, c->stop_timer);
        c->stop_timer->data = c;
        ctr_ref(c);
    }
    send_signal(c, r->sig);
    /* After SIGKILL there is nothing stronger to send: no second kill (and no second event). */
    if (r->sig != SIGKILL)
        uv_timer_start(c->stop_timer, on_stop_timeout, (uint64_t)r->timeout * 1000, 0);
}

static void stop_thawed(const struct err *err, void *data)
{
    struct stop_req *r = data;
    (void)err; /* a failed thaw still gets SIGKILL after the timeout */
    if (is_live(r->c))
        stop_send(r);
    else
        r->done(NULL, r->data);
    ctr_unref(r->c);
    free(r);
}

static void stop_request(struct ctr_store *st, struct ctr *c, int timeout, const char *signal,
                         ctr_done_cb done, void *data, enum stop_kind kind)
{
    struct stop_req *r = xcalloc(1, sizeof(*r));
    r->c = c;
    ctr_ref(c);
    r->timeout = timeout >= 0 ? timeout : c->cfg.stop_timeout >= 0 ? (int)c->cfg.stop_timeout : 10;
    r->sig = stop_signal(c, signal);
    r->done = done;
    r->data = data;
    r->kind = kind;
    if (c->status == CTR_PAUSED) {
        /* A frozen process cannot act on a signal: thaw it first. */
        ctr_pause(st, c, false, stop_thawed, r);
        return;
    }
    stop_send(r);
    ctr_unref(c);
    free(r);
}

void ctr_stop(struct ctr_store *st, struct ctr *c, int timeout, const char *signal,
              ctr_done_cb done, void *data)
{
    c->manually_stopped = true;
    if (c->status == CTR_RESTARTING) {
        ctr_cancel_restart(c);
        ctr_save_state(c);
        done(NULL, data);
        return;
    }
    if (!is_live(c)) {
        struct err *err = NULL;
        err_set(&err, ERR_NOT_MODIFIED, 0, "container %s is not running", c->id);
        done(err, data);
        err_free(err);
        return;
    }
    ctr_save_state(c);
    stop_request(st, c, timeout, signal, done, data, STOP_PLAIN);
}

struct restart_op {
    struct ctr *c;
    ctr_done_cb done;
    void *data;
};

static void restart_started(const struct err *err, void *data)
{
    struct restart_op *op = data;
    if (!err)
        ctr_event(op->c, "restart", NULL, NULL);
    op->done(err, op->data);
    ctr_unref(op->c);
    free(op);
}

void ctr_start_restart(struct ctr *c, ctr_done_cb done, void *data)
{
    struct restart_op *op = xcalloc(1, sizeof(*op));
    op->c = c;
    ctr_ref(c);
    op->done = done;
    op->data = data;
    ctr_start(c->st, c, restart_started, op);
}

void ctr_restart(struct ctr_store *st, struct ctr *c, int timeout, const char *signal,
                 ctr_done_cb done, void *data)
{
    ctr_cancel_restart(c);
    if (!is_live(c)) {
        ctr_start_restart(c, done, data);
        return;
    }
    c->manually_stopped = false;
    stop_request(st, c, timeout, signal, done, data, STOP_RESTART);
}

/* ---- remove ------------------------------------------------------------------------------ */

struct remove_op {
    uv_work_t work;
    struct ctr *c;
    char *dir;
    char *bundle;
    ctr_done_cb done;
    void *data;
    struct err *err;
};

/* The files of a removed container, deleted after the answer (they are out of view). */
struct purge_op {
    uv_work_t work;
    char *gone;
    char *bundle;
    char *cgroup;
};

static void purge_work(uv_work_t *w)
{
    struct purge_op *p = w->data;
    struct err *e = NULL;
    if (fsu_rmtree(p->gone, &e) < 0 || fsu_rmtree(p->bundle, &e) < 0) {
        log_warn("removing container files: %s", e->msg);
        err_free(e);
        e = NULL;
    }
    (void)rt_cgroup_destroy(p->cgroup, &e);
    err_free(e);
}

static void purge_after(uv_work_t *w, int status)
{
    struct purge_op *p = w->data;
    (void)status;
    free(p->gone);
    free(p->bundle);
    free(p->cgroup);
    free(p);
}

static void remove_work(uv_work_t *w)
{
    struct remove_op *op = w->data;
    _cleanup_free_ char *gone = xasprintf("%s.removing", op->dir);
    /* Renamed out of view: a crash before the purge leaves a .removing dir that the next
     * start deletes. */
    if (rename(op->dir, gone) < 0 && errno != ENOENT)
        err_set(&op->err, ERR_SYSTEM, errno, "remove %s", op->dir);
}

static void purge_start(struct ctr_store *st, const struct remove_op *op, const char *id)
{
    struct purge_op *p = xcalloc(1, sizeof(*p));
    p->gone = xasprintf("%s.removing", op->dir);
    p->bundle = xstrdup(op->bundle);
    p->cgroup = xasprintf("berth/%s", id);
    p->work.data = p;
    uv_queue_work(st->loop, &p->work, purge_work, purge_after);
}

static void remove_after(uv_work_t *w, int status)
{
    struct remove_op *op = w->data;
    struct ctr *c = op->c;
    (void)status;
    if (op->err) {
        c->status = CTR_DEAD;
        op->done(op->err, op->data);
    } else {
        purge_start(c->st, op, c->id);
        struct vol **anon = NULL;
        size_t nanon = c->remove_volumes ? ctr_volumes_anonymous(c->st, c, &anon) : 0;
        ctr_store_drop(c->st, c);
        ctr_execs_drop(c->st, c);
        c->removed = true;
        ctr_event(c, "destroy", NULL, NULL);
        for (size_t i = 0; i < nanon && c->st->events; i++) {
            const char *attrs[] = {"driver", "local", NULL};
            events_emit(c->st->events, "volume", "destroy", anon[i]->name, attrs);
        }
        if (nanon)
            vol_remove(c->st->volumes, anon, nanon, NULL, NULL);
        free(anon);
        ctr_notify_waiters(c, true);
        stop_timer_release(c);
        op->done(NULL, op->data);
    }
    err_free(op->err);
    free(op->dir);
    free(op->bundle);
    free(op);
    ctr_unref(c);
}

static void remove_net_released(const struct err *err, void *data)
{
    struct remove_op *op = data;
    (void)err;
    uv_queue_work(op->c->st->loop, &op->work, remove_work, remove_after);
}

static void remove_now(struct ctr *c, ctr_done_cb done, void *data)
{
    ctr_cancel_restart(c);
    ctr_shim_close(c);
    c->status = CTR_REMOVING;
    struct remove_op *op = xcalloc(1, sizeof(*op));
    op->c = c;
    ctr_ref(c);
    op->dir = xasprintf("%s/containers/%s", c->st->data_root, c->id);
    op->bundle = xasprintf("%s/%s", c->st->exec_root, c->id);
    op->done = done;
    op->data = data;
    op->work.data = op;
    /* nothing of the container's network (veth, namespace, address) outlives its removal */
    if (c->st->net)
        net_release(c->st->net, c->id, remove_net_released, op);
    else
        uv_queue_work(c->st->loop, &op->work, remove_work, remove_after);
}

struct kill_then_remove {
    struct ctr *c;
    ctr_done_cb done;
    void *data;
};

static void killed_for_remove(const struct err *err, void *data)
{
    struct kill_then_remove *k = data;
    (void)err;
    struct ctr *c = k->c;
    if (!c->removed && c->status != CTR_REMOVING)
        remove_now(c, k->done, k->data);
    else
        k->done(NULL, k->data);
    ctr_unref(c);
    free(k);
}

void ctr_remove(struct ctr_store *st, struct ctr *c, bool force, bool volumes, ctr_done_cb done,
                void *data)
{
    struct err *err = NULL;
    if (c->status == CTR_REMOVING || c->removed) {
        err_set(&err, ERR_CONFLICT, 0, "removal of container %s is already in progress", c->name);
    } else if ((is_live(c) || c->starting) && !force) {
        err_set(&err, ERR_CONFLICT, 0,
                "You cannot remove a %s container %s. Stop the container before attempting "
                "removal or force remove",
                c->status == CTR_PAUSED ? "paused" : "running", c->id);
    }
    if (err) {
        done(err, data);
        err_free(err);
        return;
    }
    c->remove_volumes = c->remove_volumes || volumes;
    if (is_live(c)) {
        struct kill_then_remove *k = xcalloc(1, sizeof(*k));
        k->c = c;
        ctr_ref(c);
        k->done = done;
        k->data = data;
        c->manually_stopped = true;
        stop_request(st, c, 0, "SIGKILL", killed_for_remove, k, STOP_REMOVE);
        return;
    }
    remove_now(c, done, data);
}

/* ---- rename ------------------------------------------------------------------------------ */

struct config_write {
    uv_work_t work;
    struct ctr *c;
    char *path;
    char *text;
    struct err *err;
};

static void config_write_work(uv_work_t *w)
{
    struct config_write *cw = w->data;
    (void)fsu_write_atomic(cw->path, cw->text, strlen(cw->text), 0600, &cw->err);
}

static void config_write_after(uv_work_t *w, int status)
{
    struct config_write *cw = w->data;
    (void)status;
    if (cw->err)
        log_error("saving container %.12s: %s", cw->c->id, cw->err->msg);
    err_free(cw->err);
    free(cw->path);
    free(cw->text);
    ctr_unref(cw->c);
    free(cw);
}

int ctr_rename(struct ctr_store *st, struct ctr *c, const char *new_name, struct err **err)
{
    const char *n = new_name && new_name[0] == '/' ? new_name + 1 : new_name;
    if (!n || !n[0])
        return err_set(err, ERR_INVALID, 0, "Neither old nor new names may be empty");
    size_t len = strlen(n);
    bool ok = len >= 2 && len <= 255;
    for (size_t i = 0; ok && i < len; i++) {
        char ch = n[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        ok = alnum || (i > 0 && strchr("_.-", ch));
    }
    if (!ok)
        return err_set(err, ERR_INVALID, 0,
                       "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                       n);
    if (strcmp(n, c->name) == 0)
        return err_set(err, ERR_INVALID, 0,
                       "Renaming a container with the same name as its "
                       "current name");
    struct ctr *other = ctr_find_name(st, n);
    if (other)
        return err_set(err, ERR_CONFLICT, 0,
                       "Conflict. The container name \"/%s\" is already in use by container "
                       "\"%s\". You have to remove (or rename) that container to be able to "
                       "reuse that name.",
                       n, other->id);
    _cleanup_free_ char *old = c->name;
    c->name = xstrdup(n);
    net_rename(st->net, c->id, c->name); /* the embedded DNS answers to the new name */
    _cleanup_free_ char *old_slash = xasprintf("/%s", old);
    ctr_event(c, "rename", "oldName", old_slash);
    struct config_write *cw = xcalloc(1, sizeof(*cw));
    cw->c = c;
    ctr_ref(c);
    cw->path = ctr_path(c, "config.json");
    json_auto_t *j = ctr_config_json(c);
    cw->text = json_dumps(j, JSON_COMPACT);
    cw->work.data = cw;
    uv_queue_work(st->loop, &cw->work, config_write_work, config_write_after);
    return 0;
}

/* ---- shutdown ---------------------------------------------------------------------------- */

static void shutdown_one_done(const struct err *err, void *data)
{
    struct ctr_store *st = data;
    (void)err;
    if (--st->pending_shutdown == 0 && st->shutdown_done)
        st->shutdown_done(st->shutdown_data);
}

void ctr_store_shutdown(struct ctr_store *st, void (*done)(void *data), void *data)
{
    st->shutting_down = true;
    st->shutdown_done = done;
    st->shutdown_data = data;
    st->pending_shutdown = 1;
    for (size_t i = 0; i < st->n; i++) {
        struct ctr *c = st->ctrs[i];
        ctr_cancel_restart(c);
        if (!st->live_restore && is_live(c)) {
            st->pending_shutdown++;
            ctr_stop(st, c, -1, NULL, shutdown_one_done, st);
            c->manually_stopped = false; /* a daemon stop is not a user's stop */
        }
    }
    shutdown_one_done(NULL, st);
}

/* After the stops: drop connections, timers and process handles (the shims run on). */
void ctr_store_detach(struct ctr_store *st)
{
    for (size_t i = 0; i < st->n; i++) {
        struct ctr *c = st->ctrs[i];
        ctr_shim_close(c);
        stop_timer_release(c);
        /* Waits end with the daemon: their clients see the connection close. */
        while (c->waiters) {
            struct ctr_waiter *w = c->waiters;
            c->waiters = w->next;
            w->cb(-1, "the daemon is shutting down", w->data);
            free(w);
            ctr_unref(c);
        }
    }
    if (st->net) /* the proxies' listeners close; rules and endpoints stay for live restore */
        net_mgr_detach(st->net);
    ctr_shim_procs_close(st);
}
