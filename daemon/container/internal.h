/* SPDX-License-Identifier: Apache-2.0 */
/* Private to daemon/container. */
#ifndef BERTH_CONTAINER_INTERNAL_H
#define BERTH_CONTAINER_INTERNAL_H

#include "daemon/container/container.h"
#include "daemon/network/network.h"
#include "daemon/runtime/runtime.h"

struct ctr_store {
    uv_loop_t *loop;
    char *data_root;
    char *exec_root;
    char *shim_path;
    bool live_restore;
    bool shutting_down;
    struct image_store *images;
    struct net_mgr *net;
    struct events *events;
    struct vol_store *volumes;
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
    bool for_remove; /* rm -f: no "stop" event, as docker */
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
/* A berth-shim berthd started and has not reaped yet (spawn.c). */
struct shim_proc {
    uv_poll_t poll; /* on pidfd: readable once the process ended */
    int pidfd;
    pid_t pid;
    struct ctr_store *st;
    struct shim_proc *next;
};
/*
 * Starts berth-shim (path, argv) with stdin /dev/null, stdout and stderr log_fd, fd 3 sync_w,
 * in a session of its own with default signal handling. Blocking until the exec: threadpool.
 */
int ctr_spawn_shim(const char *path, char *const argv[], int log_fd, int sync_w, pid_t *pid,
                   int *pidfd, struct err **err);
/* Loop thread: reaps pid when its pidfd says it ended (takes pidfd over). */
void ctr_shim_proc_watch(struct ctr_store *st, pid_t pid, int pidfd);
/* Shutdown: stops watching (shims outlive berthd). */
void ctr_shim_procs_close(struct ctr_store *st);

int64_t ctr_now_ns(void);
/* The same with extra attributes: key, value, ..., NULL (a NULL value skips its pair). */
void ctr_event_attrs(struct ctr *c, const char *action, const char *const *extra);
/*
 * The user's mounts, in mount order (a parent before what lies below it): HostConfig.Binds
 * (-v), Mounts (--mount: bind or tmpfs) and Tmpfs (--tmpfs), checked as docker does: absolute
 * paths, not / nor under /proc, no destination twice. Free with ctr_user_mounts_free.
 */
int ctr_user_mounts(const struct ctr_store *st, const struct api_host_config *h,
                    struct rt_mount **out, size_t *n, struct err **err);
void ctr_user_mounts_free(struct rt_mount *m, size_t n);
/*
 * At create, after the image's config is merged: the named volumes c's mounts name and do not
 * exist yet are recorded, and so is an anonymous volume for each --mount type=volume without a
 * source and for each Config.Volumes path nothing else is mounted on (recorded in
 * HostConfig.Mounts with its name). *made gets the new ones (caller frees the array), whose
 * directories the creation makes (vol_materialize).
 */
int ctr_volumes_prepare(struct ctr_store *st, struct ctr *c, struct vol ***made, size_t *nmade,
                        struct err **err);
/* The anonymous volumes c mounts that no other container does, for rm -v and --rm. */
size_t ctr_volumes_anonymous(const struct ctr_store *st, const struct ctr *c, struct vol ***out);
/* HostConfig.SecurityOpt: no-new-privileges, and seccomp=V (its value; NULL when absent). */
bool ctr_wants_nnp(char *const *opts);
const char *ctr_seccomp_opt(char *const *opts);
bool ctr_seccomp_unconfined(char *const *opts);
/* Starts c for docker restart: a "restart" event follows a successful start. */
void ctr_start_restart(struct ctr *c, ctr_done_cb done, void *data);
void ctr_time_str(int64_t ns, char out[40]);
int64_t ctr_time_parse(const char *s);

/* store.c */
void ctr_store_insert(struct ctr_store *st, struct ctr *c);
void ctr_store_drop(struct ctr_store *st, struct ctr *c);
struct ctr *ctr_find_name(const struct ctr_store *st, const char *name);
void ctr_free(struct ctr *c);
/* Persists state.json (serialised per container, asynchronous, errors logged). */
void ctr_save_state(struct ctr *c);
/* networks.c: whether the start has user networks to connect beyond the first, and their
 * connection (done runs on the loop; on failure every network of c is released). */
bool ctr_networks_extra(const struct ctr *c);
void ctr_networks_connect(struct ctr *c, ctr_done_cb done, void *data);
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
