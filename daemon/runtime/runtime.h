/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime: what happens between clone and exec — namespaces, the overlay root, pivot_root,
 * /proc, /sys, /dev, masked and read-only paths, the user, capabilities, no_new_privs, rlimits —
 * and the cgroups (v1 and v2, cgroupfs driver) a container runs in. Used by berth-shim (and by
 * berthd only for cgroup reads). Never uses libuv. Code that runs in the child between clone
 * and exec allocates nothing, logs nothing and returns -errno (STYLE rule 4); it reports a
 * failure to the parent through a close-on-exec pipe as one line of text.
 */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "common/common.h"

/* Namespaces a container gets; a cleared bit means "share the host's" (--pid host, ...). */
enum rt_ns {
    RT_NS_PID = 1 << 0,
    RT_NS_MOUNT = 1 << 1, /* always set */
    RT_NS_UTS = 1 << 2,
    RT_NS_IPC = 1 << 3,
    RT_NS_NET = 1 << 4,
    RT_NS_CGROUP = 1 << 5,
};

struct rt_resources {
    int64_t memory;      /* bytes, 0 = unlimited */
    int64_t memory_swap; /* bytes of memory+swap, 0 = default (2x memory), -1 = unlimited */
    int64_t cpu_shares;  /* 0 = default */
    int64_t cpu_quota;   /* microseconds per cpu_period, 0 = unlimited (--cpus) */
    int64_t cpu_period;  /* microseconds, 0 = 100000 */
    int64_t pids_limit;  /* 0 or -1 = unlimited */
};

/* A mount the user asked for: a host path bound in (docker run -v, --mount type=bind) or a
 * tmpfs (--tmpfs, --mount type=tmpfs). */
struct rt_mount {
    char *src; /* bind: absolute host path; NULL: a tmpfs */
    char *dst; /* absolute, resolved inside the container's root */
    bool ro;
    bool no_create;      /* bind: a missing source is an error (--mount), not created (-v) */
    bool copy_up;        /* volume: when its directory is empty, what the image has at dst is
                            copied in first (docker's nocopy unset) */
    char *data;          /* tmpfs: its options for the kernel (size=, mode=...); may be NULL */
    unsigned long flags; /* tmpfs: MS_NOSUID, MS_NODEV, MS_NOEXEC as asked */
};

/* Everything the runtime needs to create one container. Strings are owned by the spec. */
struct rt_spec {
    char *id; /* 64 hex */
    /* root file system: overlay of lowerdirs (top first) + upperdir/workdir, mounted at rootfs */
    char **lowerdirs; /* NULL-terminated */
    char *upperdir;
    char *workdir;
    char *rootfs; /* the merged mount point (exists) */
    bool readonly_rootfs;
    /* files bind-mounted into the container (host paths; may be NULL) */
    char *hostname_file;     /* -> /etc/hostname */
    char *hosts_file;        /* -> /etc/hosts */
    char *resolv_file;       /* -> /etc/resolv.conf */
    struct rt_mount *mounts; /* mounted in order: a parent before what lies below it */
    size_t nmounts;
    /* the process */
    char **argv; /* NULL-terminated, argv[0] looked up in PATH from env if it has no '/' */
    char **env;  /* NULL-terminated "K=V" */
    char *cwd;   /* absolute, inside the container; created if missing */
    char *user;  /* "", "uid", "uid:gid", "name", "name:group": resolved inside the root */
    char *hostname;
    bool tty; /* stdio on a pty from the container's devpts, its controlling terminal */
    int console_h, console_w; /* tty: initial size (0: the default); not in the JSON */
    /* namespaces */
    unsigned int namespaces; /* enum rt_ns bits */
    char *netns_path;        /* join this net namespace instead of a new one (may be NULL) */
    /* security */
    uint64_t caps; /* bounding = permitted = effective; inheritable and ambient empty */
    bool no_new_privs;
    bool privileged;         /* all caps, no masked/read-only paths, /sys read-write, all devices */
    bool seccomp_unconfined; /* no seccomp filter (--security-opt seccomp=unconfined) */
    char **masked_paths;     /* NULL-terminated; NULL means docker's defaults */
    char **readonly_paths;   /* NULL-terminated; NULL means docker's defaults */
    /* cgroup: "<parent>/<id>" relative to each hierarchy root, e.g. "berth/<id>" */
    char *cgroup_path;
    struct rt_resources resources;
    int64_t shm_size; /* bytes of /dev/shm, 0 = 64 MiB */
};

/* docker's default capabilities: CapEff 00000000a80425fb. */
#define RT_DEFAULT_CAPS 0x00000000a80425fbULL

void rt_spec_release(struct rt_spec *s);
/* JSON form of a spec, written by berthd and read by berth-shim (any thread). */
json_t *rt_spec_encode(const struct rt_spec *s);
int rt_spec_decode(const json_t *j, struct rt_spec *out, struct err **err);

/* Capability names ("NET_ADMIN", "CAP_NET_ADMIN", "ALL") to bits; ERR_INVALID when unknown. */
int rt_cap_parse(const char *name, uint64_t *bits, struct err **err);
/* Applies docker's --cap-add/--cap-drop rules to RT_DEFAULT_CAPS. */
int rt_caps_compute(char *const *add, char *const *drop, bool privileged, uint64_t *out,
                    struct err **err);

/*
 * Creates the container's process: clone into new namespaces, join the cgroup, mount the root
 * and everything in it, pivot_root, drop to the user and capabilities, and exec argv with
 * stdio on the given fds (only they survive; every other fd is closed). Returns once the
 * child has exec'd (its pid in *pid) or failed before exec: then ERR_INVALID/ERR_SYSTEM with
 * docker-like text, e.g. `exec: "/nonexistent": stat /nonexistent: no such file or
 * directory` or `exec: "x": executable file not found in $PATH`. Blocking; berth-shim only.
 * With spec->tty the stdio fds are ignored: the child opens /dev/ptmx inside the container
 * (after the root change, so `tty` names /dev/pts/N there), makes the slave its stdio and
 * controlling terminal and hands the master over; it lands in *pty_master (close-on-exec,
 * non-blocking; the caller owns it). *pty_master is -1 without a tty; it may be NULL then.
 */
int rt_create(const struct rt_spec *spec, int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid,
              int *pty_master, struct err **err);

/* ---- exec: a process in a running container -------------------------------------------- */

struct rt_exec_spec {
    char **argv; /* NULL-terminated; argv[0] looked up in PATH from env */
    char **env;  /* the container's env merged with the exec's */
    char *cwd;   /* inside the container; "" = the container's working dir or / */
    char *user;  /* as for rt_spec */
    bool tty;
    int console_h, console_w; /* tty: initial size (0: the default); not in the JSON */
    uint64_t caps;
    bool no_new_privs;
    bool privileged;
    bool seccomp_unconfined;
    char *cgroup_path; /* the container's */
};
void rt_exec_spec_release(struct rt_exec_spec *s);
json_t *rt_exec_spec_encode(const struct rt_exec_spec *s);
int rt_exec_spec_decode(const json_t *j, struct rt_exec_spec *out, struct err **err);

/*
 * Starts spec's process inside the namespaces of container init pid (setns on every namespace
 * the container has, the mount namespace's root and cwd resolved inside it), in its cgroup,
 * with the same confinement as the container (capabilities, no_new_privs, masked paths come
 * with the mount namespace), stdio on the fds, no other fd, not dumpable until it is inside.
 * Returns once it exec'd (its pid in *pid) or failed with docker's texts (see rt_create).
 * With spec->tty the pty comes from the container's devpts as in rt_create: the master in
 * *pty_master, the stdio fds ignored. Blocking; berth-shim only.
 */
int rt_exec(const struct rt_exec_spec *spec, pid_t init_pid, int stdin_fd, int stdout_fd,
            int stderr_fd, pid_t *pid, int *pty_master, struct err **err);

/* ---- a stopped container's root, for berthd (rootfs.c) ----------------------------------- */

/*
 * Mounts the overlay of lowerdirs (top first, NULL-terminated) + upper/work on a new directory
 * under tmp_dir, opens it (O_PATH, close-on-exec: *out, owned by the caller) and detaches the
 * mount at once: nothing stays mounted on the host, the fd keeps the root usable until closed.
 * Never mount the same upper twice at once (overlayfs' rule). Blocking: threadpool.
 */
int rt_rootfs_open_detached(char *const *lowerdirs, const char *upper, const char *work,
                            const char *tmp_dir, int *out, struct err **err);

/* ---- cgroups (cgroupfs driver, v1 hybrid or v2 unified) ---------------------------------- */

/* 1 or 2: the hierarchy this host uses for containers. */
int rt_cgroup_version(void);
/* Creates the cgroup for path with the resources applied. */
int rt_cgroup_create(const char *path, const struct rt_resources *res, bool privileged,
                     struct err **err);
/* Moves pid into the cgroup. */
int rt_cgroup_enter(const char *path, pid_t pid, struct err **err);
/*
 * cgroup v1: opens each hierarchy's "tasks" file of path (O_WRONLY, close-on-exec) into fds
 * (at most max), for a freshly cloned single-threaded child to move itself in with
 * rt_cgroup_join_self. Writing "0" (the writer itself) to "tasks" moves one thread without the
 * kernel's global thread-group lock, whose first writer waits a whole RCU grace period (about
 * 10 ms here); writing a pid to cgroup.procs takes it. v2: *n = 0 (use rt_cgroup_enter).
 */
int rt_cgroup_join_open(const char *path, int *fds, size_t max, size_t *n, struct err **err);
/* In the child: writes "0" to each fd; returns 0 or -errno. Async-signal-safe. */
int rt_cgroup_join_self(const int *fds, size_t n);
/* True when the memory controller recorded an OOM kill in this cgroup. */
bool rt_cgroup_oom_killed(const char *path);
/* Freezes or thaws every process of the cgroup (pause/unpause). */
int rt_cgroup_freeze(const char *path, bool frozen, struct err **err);
/* The pids in the cgroup (for top); caller frees. */
int rt_cgroup_pids(const char *path, pid_t **pids, size_t *n, struct err **err);
/* Kills what is left and removes the cgroup directories. */
int rt_cgroup_destroy(const char *path, struct err **err);

#endif
