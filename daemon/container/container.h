/* SPDX-License-Identifier: Apache-2.0 */
/*
 * container: container objects and their state machine, the id/name store, persistence,
 * lifecycle (create, start, stop, kill, restart, wait, remove, rename, pause), restart
 * policies and talking to each container's berth-shim. One loop thread owns all of it; disk
 * work goes to the threadpool. Loop thread only.
 */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api/api.h"
#include "common/common.h"
#include "daemon/image/image.h"
#include "daemon/volume/volume.h"

enum ctr_status {
    CTR_CREATED = 0,
    CTR_RUNNING,
    CTR_PAUSED,
    CTR_RESTARTING,
    CTR_REMOVING,
    CTR_EXITED,
    CTR_DEAD,
};
const char *ctr_status_name(enum ctr_status s);

struct ctr_shim;
struct ctr_waiter;
struct ctr_session;

typedef void (*ctr_done_cb)(const struct err *err, void *data);

/* One container. Handlers read these fields; only container/ changes them. */
struct ctr {
    char id[DIGEST_HEX_LEN + 1];
    char *name;                      /* without the leading '/' */
    struct api_container_config cfg; /* as created, merged with the image's defaults */
    char image_id[DIGEST_STR_LEN + 1];
    char *path; /* the process: path and args, merged from entrypoint and cmd */
    char **args;
    int64_t created_ns;
    /* state */
    enum ctr_status status;
    int pid;
    int exit_code;
    bool oom_killed;
    char *error;
    int64_t started_ns, finished_ns; /* 0 = never */
    int64_t restart_count;
    bool manually_stopped;
    bool has_been_started;
    /* private */
    struct ctr_store *st;
    struct ctr_shim *shim;
    struct ctr_waiter *waiters;
    unsigned int refs;
    bool removed;
    bool remove_volumes; /* its anonymous volumes go with it (rm -v, --rm) */
    bool starting;
    bool state_writing, state_dirty;
    struct ctr_session *sessions; /* attaches waiting for the next start */
    ctr_done_cb start_cb;         /* a start waiting for its sessions and the shim's answer */
    void *start_data;
    unsigned int start_wait;
    uv_timer_t *restart_timer;
    uv_timer_t *stop_timer;
    struct ctr_op *stops;      /* stop/restart requests waiting for the exit */
    struct ctr_rootfs *rootfs; /* the root held by cp/export (rootfs.c); blocks a start */
};

struct net_mgr;

struct ctr_store_config {
    const char *data_root;
    const char *exec_root;
    const char *shim_path; /* the berth-shim executable */
    bool live_restore;
    struct image_store *images;
    struct net_mgr *net;   /* networks (daemon/network); NULL: containers get no network setup */
    struct events *events; /* where create, start, die, destroy... are recorded (may be NULL) */
    struct vol_store *volumes; /* named and anonymous volumes (daemon/volume; may be NULL) */
};

/*
 * Loads containers/<id>/ under the data root (blocking: start-up only) and reconnects to the
 * shims of running ones (asynchronously); containers whose shim is gone show the exit code it
 * recorded, or 255. Restart policies are applied to containers that should be running.
 */
int ctr_store_open(uv_loop_t *loop, const struct ctr_store_config *cfg, struct ctr_store **out,
                   struct err **err);
/*
 * Shutdown: with live restore, leaves containers running (disconnects from shims); without it,
 * stops every running container (bounded). done runs when finished.
 */
void ctr_store_shutdown(struct ctr_store *st, void (*done)(void *data), void *data);
/* Then, before the loop ends: closes shim connections, timers and handles; ends waits. */
void ctr_store_detach(struct ctr_store *st);
void ctr_store_free(struct ctr_store *st);

size_t ctr_count(const struct ctr_store *st);
struct ctr *ctr_at(const struct ctr_store *st, size_t i);
/* By full id, name (with or without '/'), or unique id prefix; ERR_NOT_FOUND "No such
 * container: <name>". */
struct ctr *ctr_lookup(const struct ctr_store *st, const char *name, struct err **err);
/* True when a container (any state) uses image id. */
struct ctr *ctr_using_image(const struct ctr_store *st, const char *image_id);

/* Paths of a container's files (caller frees). */
char *ctr_path(const struct ctr *c, const char *file); /* containers/<id>/<file> */
char *ctr_log_path(const struct ctr *c);

/*
 * Creates a container from cfg (taken over: cfg is zeroed) named name (NULL: generated).
 * Validates the name (400) and its uniqueness (409), finds the image (404 "No such image"),
 * writes the container's files. done gets the id.
 */
typedef void (*ctr_create_cb)(const struct err *err, const char *id, void *data);
void ctr_create(struct ctr_store *st, struct api_container_config *cfg, const char *name,
                ctr_create_cb done, void *data);

/* Start: ERR_NOT_MODIFIED when running; the runtime's error otherwise. */
void ctr_start(struct ctr_store *st, struct ctr *c, ctr_done_cb done, void *data);
/* Stop: signal (NULL: StopSignal or SIGTERM), then SIGKILL after timeout seconds (-1: the
 * container's StopTimeout or 10). ERR_NOT_MODIFIED when not running. */
void ctr_stop(struct ctr_store *st, struct ctr *c, int timeout, const char *signal,
              ctr_done_cb done, void *data);
void ctr_restart(struct ctr_store *st, struct ctr *c, int timeout, const char *signal,
                 ctr_done_cb done, void *data);
/* Kill: ERR_CONFLICT when not running. */
int ctr_kill(struct ctr_store *st, struct ctr *c, int signal, struct err **err);
/* Remove: ERR_CONFLICT when running and not force (force kills first). */
/* volumes: its anonymous volumes that no other container uses go too (rm -v, --rm). */
void ctr_remove(struct ctr_store *st, struct ctr *c, bool force, bool volumes, ctr_done_cb done,
                void *data);
int ctr_rename(struct ctr_store *st, struct ctr *c, const char *new_name, struct err **err);
void ctr_pause(struct ctr_store *st, struct ctr *c, bool pause, ctr_done_cb done, void *data);

enum ctr_wait_cond { CTR_WAIT_NOT_RUNNING, CTR_WAIT_NEXT_EXIT, CTR_WAIT_REMOVED };
/* exit_code and error (NULL when none) of the exit that ended the wait. */
typedef void (*ctr_wait_cb)(int exit_code, const char *error, void *data);
struct ctr_waiter *ctr_wait(struct ctr_store *st, struct ctr *c, enum ctr_wait_cond cond,
                            ctr_wait_cb cb, void *data);
/* The client went away: cb will not run. */
void ctr_wait_cancel(struct ctr_waiter *w);

/* A container reference that keeps the object alive across asynchronous work. */
/* network connect (endpoint: the EndpointConfig, borrowed) or disconnect (NULL) of a created
 * or stopped container: recorded in its NetworkingConfig and config.json; applied at start. */
int ctr_network_record(struct ctr *c, const char *network, json_t *endpoint, struct err **err);
void ctr_ref(struct ctr *c);
void ctr_unref(struct ctr *c);

/* Storage for the strings an inspect or ps view borrows; release with ctr_view_release. */
struct ctr_view {
    char created[40], started[40], finished[40];
    char *strs[12];
    char *names[2];
    json_t *json[3]; /* owned documents (NetworkSettings, Networks, Mounts) */
};
void ctr_view_release(struct ctr_view *v);
/* GET /containers/{id}/json: fills out with pointers into c and v. */
void ctr_inspect(const struct ctr *c, struct api_container_inspect *out, struct ctr_view *v);
/* ps: fills s with pointers into c and v. */
void ctr_summary(const struct ctr *c, struct api_container_summary *s, struct ctr_view *v);

/* ---- attach and exec (the shim side of a session) ---------------------------------------- */

struct ctr_session;
/*
 * ready: the shim accepted the session; shim is a connected pipe the callee now owns (hand it
 * to stream_relay_start), pre/prelen are shim bytes already read (first frames). Or err.
 */
typedef void (*ctr_session_cb)(const struct err *err, uv_pipe_t *shim, const char *pre,
                               size_t prelen, void *data);
/*
 * Attach to c's stdio: at once when it runs; when it is created or stopped, at its next start
 * (which then waits for the session before the process starts, so no output is missed).
 */
struct ctr_session *ctr_attach(struct ctr_store *st, struct ctr *c, bool stdin, bool stdout,
                               bool stderr, ctr_session_cb cb, void *data);
/* The client went away before the session was ready: cb will not run. */
void ctr_session_cancel(struct ctr_session *s);
/* Resize the container's tty (ERR_CONFLICT when not running). */
int ctr_resize(struct ctr_store *st, struct ctr *c, int h, int w, struct err **err);

/* An exec instance (POST /containers/{id}/exec). */
struct ctr_exec {
    char id[DIGEST_HEX_LEN + 1];
    struct ctr *c; /* referenced */
    char **argv;
    char **env;
    char *cwd, *user;
    bool tty, privileged, attach_stdin, attach_stdout, attach_stderr;
    int console_h, console_w; /* tty: initial size (ConsoleSize of create or start), 0: unset */
    char *detach_keys;
    bool running, started;
    int exit_code;
    int pid;
    struct ctr_exec *next;
};
/* Creates an exec instance from POST /containers/{id}/exec's body (ERR_CONFLICT when the
 * container is not running). */
struct ctr_exec *ctr_exec_create(struct ctr_store *st, struct ctr *c, const json_t *body,
                                 struct err **err);
struct ctr_exec *ctr_exec_lookup(struct ctr_store *st, const char *id, struct err **err);
/* Starts it: cb gets the shim stream (or the start error). detach: no streams. */
void ctr_exec_start(struct ctr_store *st, struct ctr_exec *x, bool detach, ctr_session_cb cb,
                    void *data);
/* ConsoleSize [height, width] of an exec create or start body into x (absent: unchanged). */
int ctr_exec_console_size(struct ctr_exec *x, const json_t *body, struct err **err);
/* The shim's exit frame for x arrived (the first one records an exec_die event). */
void ctr_exec_exited(struct ctr_exec *x, int code);
/* x never ran: its start failed with code (126 or 127); no event, as docker. */
void ctr_exec_failed(struct ctr_exec *x, int code);
int ctr_exec_resize(struct ctr_store *st, struct ctr_exec *x, int h, int w, struct err **err);
json_t *ctr_exec_inspect(const struct ctr_exec *x);

/* Records a container event (daemon/events): the container's labels, image and name as its
 * attributes, plus key=value when key is not NULL. The module records its own; handlers record
 * those of work they do themselves (cp, export). */
void ctr_event(struct ctr *c, const char *action, const char *key, const char *value);

/* inspect's Mounts for c (binds, volumes, tmpfs of --mount), as docker shows them. */
json_t *ctr_mounts_json(const struct ctr_store *st, const struct ctr *c);
/* The ids of the containers whose mounts name the volume, "id1, id2" (NULL: none; caller
 * frees): a volume in use is neither removed nor pruned. */
char *ctr_volume_users(const struct ctr_store *st, const char *name);

/* ---- the root file system for cp and export (rootfs.c) ----------------------------------- */

/* root_fd: an O_PATH directory fd of the container's "/", owned by the callee; or err. */
typedef void (*ctr_rootfs_cb)(const struct err *err, int root_fd, void *data);
/*
 * Gets c's root for reading or writing files in it: a running or paused container's is the
 * root of its init (/proc/<pid>/root); a created or stopped one's overlay is mounted detached
 * on the threadpool, once for all holders. Resolve paths below it with openat2(RESOLVE_IN_ROOT)
 * only. done may run before this returns. Each successful get is balanced by one
 * ctr_rootfs_put(c) once the fd is no longer used; meanwhile ctr_start answers ERR_CONFLICT.
 */
void ctr_rootfs_get(struct ctr_store *st, struct ctr *c, ctr_rootfs_cb done, void *data);
void ctr_rootfs_put(struct ctr *c);
/*
 * The uid and gid of user ("name", "uid", "name:group", "uid:gid") as the container's own
 * /etc/passwd and /etc/group (read below root_fd, in-root) define them. Blocking: threadpool.
 */
int ctr_rootfs_user(int root_fd, const char *user, int64_t *uid, int64_t *gid, struct err **err);

/* top: the container's processes as ps -ef shows them; done gets a JSON {"Titles","Processes"}. */
typedef void (*ctr_top_cb)(const struct err *err, json_t *result, void *data);
void ctr_top(struct ctr_store *st, struct ctr *c, ctr_top_cb done, void *data);

#endif
