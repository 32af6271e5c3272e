/* SPDX-License-Identifier: Apache-2.0 */
/* Private to daemon/container. */
#ifndef BERTH_CONTAINER_INTERNAL_H
#define BERTH_CONTAINER_INTERNAL_H

#include "daemon/container/container.h"
#include "daemon/network/network.h"

struct ctr_store {
    uv_loop_t *loop;
    char *data_root;
    char *exec_root;
    char *shim_path;
    bool live_restore;
    bool shutting_down;
    struct image_store *images;
    struct net_mgr *net;
    struct ctr **ctrs;
    size_t n;
    unsigned int pending_shutdown;
    struct shim_proc *procs;
    struct ctr_exec *execs;
    void (*shutdown_done)(void *data);
    void *shutdown_data;
};

struct ctr_waiter {
    struct ctr *c;
    enum ctr_wait_cond cond;
    ctr_wait_cb cb;
    void *data;
    struct ctr_waiter *next;
};

/* A stop or restart in progress: completes when the container exits. */
struct ctr_op {
    ctr_done_cb done;
    void *data;
    bool restart;
    struct ctr_op *next;
};

/* The connection to a container's berth-shim. */
struct ctr_shim {
    struct ctr *c;
    uv_pipe_t pipe;
    bool pipe_open;
    bool connected;
    int dirfd; /* the bundle, while connecting */
    struct sb in;
};

/* A shim process berthd spawned: kept until it exits so that it is reaped. */
struct shim_proc {
    uv_process_t proc;
    struct ctr_store *st;
    struct shim_proc *next;
};

int64_t ctr_now_ns(void);
void ctr_time_str(int64_t ns, char out[40]);
int64_t ctr_time_parse(const char *s);

/* store.c */
void ctr_store_insert(struct ctr_store *st, struct ctr *c);
void ctr_store_drop(struct ctr_store *st, struct ctr *c);
struct ctr *ctr_find_name(const struct ctr_store *st, const char *name);
void ctr_free(struct ctr *c);
/* Persists state.json (serialised per container, asynchronous, errors logged). */
void ctr_save_state(struct ctr *c);
json_t *ctr_state_json(const struct ctr *c);
json_t *ctr_config_json(const struct ctr *c);
char *ctr_exec_path(const struct ctr *c, const char *file); /* exec-root/<id>/<file> */

/* lifecycle.c */
void ctr_shim_attach(struct ctr *c); /* connect to shim.sock of a running container */
struct ctr_shim *ctr_shim_new(struct ctr *c);
void ctr_shim_attach_spawned(struct ctr *c); /* connect the shim made by ctr_shim_new */
void ctr_exited(struct ctr *c, int exit_code, bool oom, int64_t finished_ns, const char *error);
void ctr_notify_waiters(struct ctr *c, bool removed);
void ctr_shim_close(struct ctr *c);
void ctr_apply_restart_policy(struct ctr *c, bool daemon_start);
void ctr_cancel_restart(struct ctr *c);
/* --rm: removes c (asynchronously) after it exited or failed to start. */
void ctr_autoremove(struct ctr *c);

/* start.c: the state changes of a start, and the delayed start of wait_start shims */
void ctr_mark_running(struct ctr *c, int pid);
void ctr_mark_start_failed(struct ctr *c, const char *msg, struct err **err);
/* One of the things a delayed start waits for is ready (or failed): the last sends "start". */
void ctr_start_proceed(struct ctr *c);
/* The shim answered the delayed start: {"status":"running","pid":N} or an error. */
void ctr_start_answered(struct ctr *c, int pid, const char *error);

/* session.c */
unsigned int ctr_sessions_connect_pending(struct ctr *c);
void ctr_sessions_fail_pending(struct ctr *c, const char *msg);
void ctr_execs_drop(struct ctr_store *st, struct ctr *c); /* the container is gone */

#endif
