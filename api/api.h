/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: the wire contract shared by berthd and the berth CLI. Version constants, the structs
 * each endpoint sends or receives, and their JSON codecs. Nothing else in the project builds or
 * reads Docker API JSON by hand. Pure functions: any thread.
 */
#ifndef BERTH_API_H
#define BERTH_API_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "common/common.h"

/* ---- versions ---------------------------------------------------------------------------- */

#define API_VERSION        "1.44" /* the highest API version served */
#define API_MIN_VERSION    "1.24" /* the lowest */
#define API_OSTYPE         "linux"
#define API_SERVER_PRODUCT "Berth"

/* Parses "1.44" into 1044 (major*1000+minor). -1 when s is not digits '.' digits. */
int api_version_parse(const char *s);

/* ---- errors ------------------------------------------------------------------------------ */

/* {"message":"..."}; the caller frees the result. */
char *api_error_encode(const char *message);
/*
 * The human text of an error response: "message" when body is JSON with one, else the body
 * itself, trimmed. The caller frees the result.
 */
char *api_error_decode(const char *body, size_t len);

/* ---- GET /version ------------------------------------------------------------------------ */

struct api_version {
    char *platform_name;
    char *version;
    char *api_version;
    char *min_api_version;
    char *git_commit;
    char *go_version; /* docker clients print it; berth reports its C compiler */
    char *os;
    char *arch;
    char *kernel_version;
    char *build_time;
    bool experimental;
};

json_t *api_version_encode(const struct api_version *v);
int api_version_decode(const json_t *j, struct api_version *out, struct err **err);
void api_version_release(struct api_version *v);

/* ---- GET /info --------------------------------------------------------------------------- */

struct api_info {
    char *id;
    int64_t containers, containers_running, containers_paused, containers_stopped;
    int64_t images;
    char *driver;     /* storage driver: "overlay2" */
    char *backing_fs; /* for DriverStatus */
    char *logging_driver;
    char *cgroup_driver;  /* "cgroupfs" */
    char *cgroup_version; /* "1" or "2" */
    bool memory_limit, swap_limit, cpu_cfs_quota, cpu_shares, pids_limit, oom_kill_disable;
    char *kernel_version;
    char *operating_system;
    char *os_version;
    char *os_type;
    char *architecture;
    int64_t ncpu;
    int64_t mem_total;
    char *docker_root_dir;
    char *name; /* host name */
    char *server_version;
    char *default_runtime;
    char *runtime_path;
    bool live_restore_enabled;
    bool experimental_build;
    char *index_server_address;
    char **security_options;    /* NULL-terminated */
    char **warnings;            /* NULL-terminated */
    char **insecure_registries; /* NULL-terminated; CIDRs and host[:port] */
    char **registry_mirrors;    /* NULL-terminated */
    char *http_proxy, *https_proxy, *no_proxy;
};

json_t *api_info_encode(const struct api_info *info);
int api_info_decode(const json_t *j, struct api_info *out, struct err **err);
void api_info_release(struct api_info *info);

/* ---- images (api/images.c) -------------------------------------------------------------- */

/* One row of GET /images/json. */
struct api_image_summary {
    char *id;            /* "sha256:<hex>" */
    char *parent_id;     /* "" when none */
    char **repo_tags;    /* NULL-terminated, familiar "busybox:latest"; empty for none */
    char **repo_digests; /* NULL-terminated "busybox@sha256:..." */
    int64_t created;     /* Unix seconds */
    int64_t size;
    int64_t shared_size; /* -1 when not computed */
    int64_t containers;  /* -1 when not computed */
    json_t *labels;      /* object or NULL; owned */
};
/*
 * version is the request's API version: below 1.43 untagged images carry
 * RepoTags ["<none>:<none>"] and RepoDigests ["<none>@<none>"]; below 1.44 VirtualSize is present.
 */
json_t *api_image_summary_encode(const struct api_image_summary *s, int version);
int api_image_summary_decode(const json_t *j, struct api_image_summary *out, struct err **err);
void api_image_summary_release(struct api_image_summary *s);

/* GET /images/{name}/json. config is the image config's "config" object (borrowed). */
struct api_image_inspect {
    char *id;
    char **repo_tags;
    char **repo_digests;
    char *parent;
    char *comment;
    char *created; /* RFC 3339 nano, as in the image config */
    char *docker_version;
    char *author;
    const json_t *config; /* may be NULL */
    char *architecture;
    char *variant;
    char *os;
    int64_t size;
    char **layers;                                       /* diff ids, NULL-terminated */
    char *merged_dir, *upper_dir, *work_dir, *lower_dir; /* GraphDriver.Data; may be NULL */
    char *last_tag_time;                                 /* RFC 3339 nano or NULL */
    char *container;                /* committed from (API < 1.45); may be NULL */
    const json_t *container_config; /* its config then (API < 1.45); may be NULL */
};
json_t *api_image_inspect_encode(const struct api_image_inspect *in, int version);

/* One row of GET /images/{name}/history. */
struct api_history_item {
    char *id;        /* "sha256:..." for the row that is the image itself, else "<missing>" */
    int64_t created; /* Unix seconds */
    char *created_by;
    char **tags; /* NULL-terminated */
    int64_t size;
    char *comment;
};
json_t *api_history_encode(const struct api_history_item *items, size_t n);
int api_history_decode(const json_t *j, struct api_history_item **items, size_t *n,
                       struct err **err);
void api_history_free(struct api_history_item *items, size_t n);

/* DELETE /images/{name}: [{"Untagged": ...}, {"Deleted": ...}]. */
struct api_delete_item {
    char *untagged; /* exactly one of the two is set */
    char *deleted;
};
json_t *api_delete_encode(const struct api_delete_item *items, size_t n);
int api_delete_decode(const json_t *j, struct api_delete_item **items, size_t *n, struct err **err);
void api_delete_free(struct api_delete_item *items, size_t n);

/* ---- progress streams (api/progress.c): pull, load, import, push ------------------------ */

/*
 * One JSON message of a progress stream, as docker's jsonmessage. An error message carries
 * both errorDetail.message and error (the docker CLI reads only errorDetail).
 */
struct api_progress {
    char *id;        /* layer short id, tag, or NULL */
    char *status;    /* NULL for an error */
    bool has_detail; /* progressDetail present ({} when current and total are 0) */
    int64_t current, total;
    char *error;  /* non-NULL for an error message */
    char *stream; /* raw text (load's "Loaded image: ..."), or NULL */
    json_t *aux;  /* owned, or NULL */
};
/* One line, '\n'-terminated, for a chunked stream (caller frees). */
char *api_progress_encode(const struct api_progress *p);
int api_progress_decode(const json_t *j, struct api_progress *out, struct err **err);
void api_progress_release(struct api_progress *p);

/* ---- containers (api/containers.c) ------------------------------------------------------ */

/*
 * HostConfig as POST /containers/create sends it; the fields berth acts on. Absent vectors are
 * NULL; JSON objects are kept as json_t (owned) where berth only stores and shows them.
 */
/* One HostConfig.Binds entry, "/src:/dst[:opts]": a host directory or file bound in. */
struct api_bind {
    char *src, *dst;
    char *mode; /* the options as given ("" when none), as inspect's Mode */
    bool ro;
    const char *propagation; /* "rprivate" unless an option names another */
    bool volume;             /* src is a volume's name, not a host path */
    bool nocopy;             /* volume: the image's content is not copied in */
};
/*
 * Parses a bind as docker validates it: both paths absolute, the destination not "/", options
 * among ro, rw, z, Z, nocopy, consistent, cached, delegated and the propagation modes. A source
 * that is not absolute names a volume (volume set; the name is checked where it is created).
 */
int api_bind_parse(const char *s, struct api_bind *out, struct err **err);
void api_bind_release(struct api_bind *b);

/* One entry of HostConfig.Mounts or HostConfig.Tmpfs. */
struct api_mount {
    bool tmpfs;      /* else a bind or a volume */
    bool volume;     /* source: the volume's name; "" for a new anonymous one */
    bool nocopy;     /* volume: VolumeOptions.NoCopy */
    json_t *labels;  /* volume: VolumeOptions.Labels for a volume made for it, or NULL */
    bool from_tmpfs; /* HostConfig.Tmpfs: not one of inspect's Mounts */
    char *source;    /* bind: absolute host path */
    char *target;    /* absolute */
    bool ro;
    char *propagation;   /* bind: "rprivate" unless given */
    char *data;          /* tmpfs: options for the kernel (size=..., mode=...), "" when none */
    unsigned long flags; /* tmpfs: MS_NOSUID, MS_NODEV, MS_NOEXEC (docker's defaults) */
};
/*
 * HostConfig.Mounts (type bind, volume of the local driver, or tmpfs) and
 * HostConfig.Tmpfs, checked as docker checks them, into *out (n entries; free with
 * api_mounts_free).
 */
int api_mounts_parse(const json_t *mounts, const json_t *tmpfs, struct api_mount **out, size_t *n,
                     struct err **err);
void api_mounts_free(struct api_mount *m, size_t n);

struct api_host_config {
    char **binds;
    json_t *mounts;        /* HostConfig.Mounts (--mount) as given: an array or NULL */
    json_t *tmpfs;         /* HostConfig.Tmpfs (--tmpfs): {"/path": "options"} or NULL */
    char *network_mode;    /* "" / "default" mean bridge */
    json_t *port_bindings; /* object or NULL */
    bool publish_all_ports;
    char *restart_policy; /* "", "no", "always", "on-failure", "unless-stopped" */
    int64_t restart_max_retry;
    bool auto_remove;
    char **cap_add;
    char **cap_drop;
    bool privileged;
    bool readonly_rootfs;
    char **security_opt;
    char *pid_mode, *ipc_mode, *uts_mode, *cgroupns_mode;
    int64_t memory, memory_swap, memory_reservation;
    int64_t nano_cpus, cpu_shares, cpu_period, cpu_quota;
    int64_t pids_limit; /* 0 or -1: unlimited */
    int64_t shm_size;
    int64_t oom_score_adj;
    char **dns, **dns_search, **dns_options, **extra_hosts;
    char *log_type;   /* "" = json-file */
    json_t *log_opts; /* object of strings, or NULL */
    json_t *sysctls;  /* object of strings, or NULL */
    char **group_add;
    char **masked_paths;   /* NULL = defaults */
    char **readonly_paths; /* NULL = defaults */
    int console_size[2];
    bool init;
};

/* The create body: Config flattened at top level plus HostConfig and NetworkingConfig. */
struct api_container_config {
    char *hostname, *domainname, *user;
    bool attach_stdin, attach_stdout, attach_stderr;
    bool tty, open_stdin, stdin_once;
    char **env;
    char **cmd;        /* NULL when absent or null */
    char **entrypoint; /* NULL when absent or null; an empty vector means "reset" */
    char *image;       /* as given */
    char *working_dir;
    json_t *labels;        /* object or NULL */
    json_t *exposed_ports; /* object or NULL */
    json_t *volumes;       /* object or NULL */
    char *stop_signal;
    int64_t stop_timeout; /* -1 = not set */
    bool network_disabled;
    struct api_host_config host;
    json_t *networking_config; /* object or NULL */
};

/*
 * Decodes and validates a create body: wrong types, negative limits, unknown restart policies
 * and the like are ERR_INVALID naming the field ("invalid restart policy ..."). Unknown keys
 * are ignored as dockerd does.
 */
int api_container_config_decode(const json_t *body, struct api_container_config *out,
                                struct err **err);
/* Config (without HostConfig) and HostConfig as inspect shows them; also used to persist. */
json_t *api_container_config_encode(const struct api_container_config *c);
json_t *api_host_config_encode(const struct api_host_config *h);
int api_host_config_decode(const json_t *j, struct api_host_config *out, struct err **err);
void api_container_config_release(struct api_container_config *c);

struct api_container_state {
    char *status; /* created, running, paused, restarting, removing, exited, dead */
    bool running, paused, restarting, oom_killed, dead;
    int pid;
    int exit_code;
    char *error;
    char *started_at, *finished_at; /* RFC 3339 nano; "0001-01-01T00:00:00Z" when never */
};

/* GET /containers/{id}/json. Borrowed pointers; the encoder copies. */
struct api_container_inspect {
    char *id;
    char *created;
    char *path;
    char **args;
    struct api_container_state state;
    char *image_id;
    char *resolv_conf_path, *hostname_path, *hosts_path, *log_path;
    char *name; /* with the leading '/' */
    int64_t restart_count;
    const struct api_container_config *config; /* as merged with the image (Config) */
    const struct api_host_config *host_config;
    json_t *mounts; /* borrowed: Mounts as the daemon resolved them; NULL: from host_config */
    char *lower_dir, *upper_dir, *work_dir, *merged_dir; /* GraphDriver.Data */
    json_t *network_settings;                            /* borrowed; NULL gives an empty shape */
    char **exec_ids;
};
json_t *api_container_inspect_encode(const struct api_container_inspect *in, int version);

/* One row of GET /containers/json. */
struct api_container_summary {
    char *id;
    char **names; /* "/name" */
    char *image;  /* as given at create */
    char *image_id;
    char *command;   /* path and args joined with spaces */
    int64_t created; /* Unix seconds */
    char *state;     /* running, exited, ... */
    char *status;    /* "Up 3 minutes", "Exited (0) 2 seconds ago", "Created" */
    json_t *labels;  /* borrowed, object or NULL */
    json_t *ports;   /* borrowed, array or NULL */
    char *network_mode;
    json_t *networks;              /* borrowed, object or NULL */
    int64_t size_rw, size_root_fs; /* -1 = not computed */
    json_t *mounts;                /* borrowed: Mounts, or NULL for none */
};
json_t *api_container_summary_encode(const struct api_container_summary *s);

/* docker's human status for ps: "Up 3 minutes", "Up Less than a second", "Exited (3) 2 hours
 * ago", "Created", "Up 5 seconds (Paused)", "Restarting (1) 3 seconds ago". now and the times
 * are Unix nanoseconds. Caller frees. */
char *api_container_status_text(const struct api_container_state *st, int64_t started_ns,
                                int64_t finished_ns, int64_t now_ns);
/* docker's HumanDuration ("3 minutes", "About an hour", "Less than a second"); caller frees. */
char *api_human_duration(int64_t ns);

/* POST /containers/{id}/wait: {"StatusCode":N,"Error":null} or with {"Message":...}. */
char *api_wait_encode(int status_code, const char *error);
/* POST /containers/create: {"Id":...,"Warnings":[...]}. */
json_t *api_create_response_encode(const char *id, char *const *warnings);
/* Signal names with or without SIG, or numbers, as docker accepts them; -1 when unknown. */
int api_signal_parse(const char *s);

/* ---- the berthd <-> berth-shim control protocol ----------------------------------------- */

/*
 * Over the shim's Unix socket (<exec-root>/<id>/shim.sock): newline-terminated JSON messages.
 * Requests: {"op":"state"}, {"op":"kill","signal":N}, {"op":"wait"} (the answer comes when the
 * container has exited; the connection may stay open). Answers and events:
 * {"status":"running","pid":N} or
 * {"status":"exited","pid":N,"exit_code":N,"oom_killed":b,"finished_at":"RFC3339nano"} or
 * {"error":"..."}.
 *
 * Interactive ops (issue 5):
 * - {"op":"start"}: only for a shim started with shim_config.wait_start — the shim has set up
 *   everything, answered {"status":"created"} on its sync fd, and creates the container's
 *   process only now (so attach streams connected before it miss no output). Answer as state.
 * - {"op":"attach","stdin":b,"stdout":b,"stderr":b}: answer {"ok":true}, then the connection
 *   is a stream (no more JSON). shim -> berthd: frames, 8-byte header [type,0,0,0,len BE32]
 *   then len bytes, type 1 stdout, 2 stderr (a tty's output is type 1), 3 "exited": a 4-byte
 *   BE exit code, sent last, after all output. berthd -> shim: raw stdin bytes; a half-close
 *   ends this session's stdin, and closes the container's stdin when the container has
 *   StdinOnce and no tty. A client that cannot keep up (over 1 MiB queued) is disconnected; it
 *   never slows the container, the log or other clients.
 * - {"op":"resize","h":N,"w":N}: the pty's window size (TIOCSWINSZ). Answer {"ok":true}.
 * - {"op":"exec","id":"<hex>","exec":<rt_exec_spec JSON>,"stdin":b,"stdout":b,"stderr":b}:
 *   starts a process in the container's namespaces and cgroup; answer {"ok":true,"pid":N} (or
 *   {"error":...} with docker's text for a missing executable), then the connection is a
 *   stream as for attach, ending with the type 3 frame carrying the exec's exit code.
 * - {"op":"exec_resize","id":..,"h":N,"w":N}: resize an exec's pty.
 */
struct api_shim_msg {
    char *op; /* requests */
    int signal;
    char *status; /* answers: "running", "exited" or "created" */
    int pid;
    int exit_code;
    bool oom_killed;
    char *finished_at;
    char *error;
    bool ok;
    bool stdin_, stdout_, stderr_; /* attach / exec streams wanted */
    int h, w;                      /* resize */
    char *id;                      /* exec id */
    json_t *exec;                  /* exec spec (owned) */
};

#define API_SHIM_FRAME_EXIT 3

/* One '\n'-terminated line (caller frees). */
char *api_shim_encode(const struct api_shim_msg *m);
int api_shim_decode(const char *line, size_t len, struct api_shim_msg *out, struct err **err);
void api_shim_release(struct api_shim_msg *m);

/* ---- filters ----------------------------------------------------------------------------- */

/*
 * The "filters" query parameter: {"name":{"value":true}} or the legacy {"name":["value"]}.
 * Returns an object mapping each name to an array of strings (caller owns), or ERR_INVALID.
 * An empty or absent parameter gives an empty object.
 */
int api_filters_parse(const char *raw, json_t **out, struct err **err);

/* ---- times (timeparse.c) ----------------------------------------------------------------- */

/*
 * Go's time.ParseDuration: "10m", "1h30m", "1.5h", "-2s", "300ms", "0"; units ns, us (µs, μs),
 * ms, s, m, h. 0 with *ns set, or -1 when s is not one (no unit, an unknown unit, overflow).
 */
int api_duration_parse(const char *s, int64_t *ns);
/*
 * The RFC 3339 forms docker's GetTimestamp accepts: 2006-01-02[T15[:04[:05[.frac]]]] then
 * nothing (local time), Z, or +hh:mm/-hh:mm. 0 with the Unix time in *sec and *nsec (the
 * fraction's first nine digits), or -1.
 */
int api_rfc3339_parse(const char *s, int64_t *sec, long *nsec);
/*
 * Unix "[-]seconds[.fraction]", as docker's ParseTimestamps: the fraction's first nine digits
 * as *nsec, added to *sec whatever its sign ("-5.5" is -5 s + 0.5 s, as dockerd). 0 or -1.
 */
int api_unix_time_parse(const char *s, int64_t *sec, long *nsec);
/*
 * docker's GetTimestamp, for --since/--until and the until filter: a duration before now
 * (Unix seconds, "%lld"), an RFC 3339 time ("%lld.%09ld"), or Unix seconds[.fraction] (value
 * itself). now is Unix seconds; the caller frees *out. ERR_INVALID otherwise.
 */
int api_timestamp_get(const char *value, int64_t now, char **out, struct err **err);

/* ---- helpers for decoders ---------------------------------------------------------------- */

/* A NULL-terminated string vector as a JSON array (NULL gives []). */
json_t *api_strv_json(char *const *v);
/* Frees a NULL-terminated string vector. */
void api_strv_free(char **v);
void api_strv_freep(char ***v); /* for _cleanup_ */
/* Parses bytes as one JSON document; trailing data is an error naming its position. */
int api_json_parse(const char *buf, size_t len, json_t **out, struct err **err);

#endif
