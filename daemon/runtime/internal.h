/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to daemon/runtime. Everything declared under "child" runs between clone and exec:
 * it allocates nothing, logs nothing, returns -errno and writes what went wrong into a
 * struct rt_cerr (a stack buffer) that rt_create's child sends to the parent as one message.
 */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include <limits.h>
#include <stdarg.h>

#include "daemon/runtime/runtime.h"

#define RT_CAP_LAST      40 /* CAP_CHECKPOINT_RESTORE */
#define RT_ALL_CAPS      ((1ULL << (RT_CAP_LAST + 1)) - 1)
#define RT_MAX_GROUPS    64
#define RT_ID_MAX        2147483647LL /* uids and gids above this are refused */
#define RT_DEFAULT_PATH  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RT_DEFAULT_SHM   (64LL * 1024 * 1024)
#define RT_PASSWD_MAX    (16 * 1024 * 1024) /* bytes scanned in /etc/passwd or /etc/group */
#define RT_CERR_MSG_SIZE 768

/* ---- child-side error (stack only) ------------------------------------------------------ */

struct rt_cerr {
    enum err_kind kind;
    int errnum; /* appended as strerror by the parent when non-zero */
    char msg[RT_CERR_MSG_SIZE];
};

/* Fills ce and returns -errnum (or -EINVAL when errnum is 0). Allocation-free. */
int rt_cfail(struct rt_cerr *ce, enum err_kind kind, int errnum, const char *fmt, ...)
    _printf_(4, 5);
/* "no such file or directory": Go's spelling of an errno, as docker prints it. */
const char *rt_errno_text(int errnum, char *buf, size_t len);

/* ---- in-root path resolution (child, and tests) ----------------------------------------- */

/* openat2(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra): fd or -errno. */
int rt_in_root_open(int rootfd, const char *path, int flags, unsigned long long extra_resolve);
/*
 * mkdir -p of path inside rootfd: every component is resolved in the root, so a symlink in the
 * image can never make it create outside. Created directories get mode (and uid:gid when
 * chown_to is true). 0 or -errno.
 */
int rt_in_root_mkdir_p(int rootfd, const char *path, mode_t mode, bool chown_to, uid_t uid,
                       gid_t gid);
/* "/proc/self/fd/N" into buf (at least 32 bytes). */
const char *rt_fd_path(int fd, char *buf, size_t len);

/* ---- child: the container's mounts ------------------------------------------------------- */

struct rt_child {
    const struct rt_spec *spec;
    int sync_fd;              /* child's end of the socketpair; close-on-exec */
    int netns_fd;             /* -1 unless spec->netns_path */
    int stdio[3];             /* -1 means /dev/null */
    const char *overlay_opts; /* NULL: use the fd-based mount API (lowerdir+) */
    char **envp;              /* spec->env, one free slot for HOME, NULL */
    size_t envn;              /* entries used in envp */
    const char *path_env;     /* PATH used to look argv[0] up */
    int cgroup_version;
    int clone_flags;
    const int *cg_fds; /* cgroup v1 "tasks" files the child writes "0" to (rt_cgroup_join_open) */
    size_t cg_nfds;
};

/* Mounts the overlay root and everything in it; returns an O_PATH fd of the new root. */
int rt_child_mount_rootfs(const struct rt_child *c, struct rt_cerr *ce);
/* pivot_root into rootfd, old root detached; cwd is then "/". */
int rt_child_pivot(int rootfd, struct rt_cerr *ce);
/* After pivot_root: binds the pty slave (a /dev/pts path) over a new /dev/console. */
int rt_child_dev_console(const char *slave, struct rt_cerr *ce);
/* After pivot_root: masked and read-only paths, read-only root. */
int rt_child_finish_mounts(const struct rt_child *c, struct rt_cerr *ce);

/* ---- child: users ------------------------------------------------------------------------ */

struct rt_user {
    uid_t uid;
    gid_t gid;
    gid_t groups[RT_MAX_GROUPS]; /* supplementary groups */
    size_t ngroups;
    char home[PATH_MAX];
};

/*
 * Resolves "", "uid", "uid:gid", "name", "name:group" against rootfd's /etc/passwd and
 * /etc/group as docker does (moby/sys/user GetExecUser). The files must be regular (a FIFO or
 * a device refuses) and are read through a small stack buffer, at most RT_PASSWD_MAX bytes.
 */
int rt_user_resolve(int rootfd, const char *spec, struct rt_user *out, struct rt_cerr *ce);

/* ---- child: exec ------------------------------------------------------------------------- */

/*
 * Go's exec.LookPath: argv0 with a '/' is checked as is, otherwise searched in path. Writes
 * the result into out (PATH_MAX) or fails with docker's text.
 */
int rt_lookup_exec(const char *argv0, const char *path, char *out, size_t outlen,
                   struct rt_cerr *ce);

/* ---- child: shared by rt_create and rt_exec (create.c) ----------------------------------- */

/* Default handlers for every signal, empty mask. */
void rt_child_reset_signals(void);
/* stdio onto 0-2 (-1: /dev/null); every other fd but keep_fd is closed. */
int rt_child_setup_fds(const int stdio[3], int keep_fd, struct rt_cerr *ce);
/*
 * tty: opens /dev/ptmx (the container's devpts, so this runs after the root change), sets the
 * size when h and w > 0, sends the master on sync_fd (one byte 'P' with SCM_RIGHTS) and puts
 * the slave into stdio[0-2] (rt_child_setup_fds dups it onto 0-2 and closes it) and its
 * path ("/dev/pts/N") into name.
 */
int rt_child_open_pty(int sync_fd, int h, int w, int stdio[3], char *name, size_t len,
                      struct rt_cerr *ce);
/* Bounding set, user and groups, then effective = permitted = caps; inheritable, ambient 0. */
int rt_child_drop_privs(uint64_t caps, bool no_new_privs, const struct rt_user *u,
                        struct rt_cerr *ce);
/* RLIMIT_NOFILE raised to docker's default (bounded by the hard limit). */
void rt_child_rlimits(void);
/* docker's default seccomp filter for a process holding caps (seccomp.c). */
int rt_child_seccomp(uint64_t caps, struct rt_cerr *ce);
/*
 * The last steps of rt_create's init and of rt_exec's process: rt_child_setup_fds, a new
 * session (with tty, the pty slave on 0 as its controlling terminal), the seccomp filter when
 * seccomp is set (while the process may still load one), rt_child_drop_privs, then argv[0]
 * looked up in path_env and exec'd with envp. Returns only on failure.
 */
int rt_child_exec(const int stdio[3], int keep_fd, bool tty, uint64_t caps, bool no_new_privs,
                  bool seccomp, const struct rt_user *u, char *const argv[], const char *path_env,
                  char *const envp[], struct rt_cerr *ce);
/* HOME=<u->home> into envp[envn] unless envp has HOME (envp has a free slot; buf holds it). */
void rt_child_set_home(char **envp, size_t envn, const struct rt_user *u, char *buf, size_t len);
/* Sends ce as "<kind> <errno> <msg>" on the sync socket and exits 127. */
_Noreturn void rt_child_fail(int sync_fd, const struct rt_cerr *ce);

/* ---- parent side of a child (create.c) --------------------------------------------------- */

/* clone3 (or clone) with flags and SIGCHLD; like fork otherwise. */
pid_t rt_clone(int flags);
/* Waits on the close-on-exec sync socket: 0 on EOF (exec'd), or the child's error in *err. */
int rt_await_exec(int fd, const char *who, struct err **err);

/* Receives the child's pty master (close-on-exec, non-blocking) or its error. */
int rt_await_pty(int fd, const char *who, int *master, struct err **err);

/* ---- cgroups ----------------------------------------------------------------------------- */

/* Validates a cgroup path relative to the hierarchy roots ("berth/<id>"): no "..", not empty. */
int rt_cgroup_path_check(const char *path, struct err **err);

/* ---- the specs' JSON form (spec.c, exec_spec.c) ------------------------------------------ */

/* Frees a NULL-terminated string vector (NULL is fine). */
void rt_strv_free(char **v);
/*
 * Field decoders: what names the object in errors ("spec", "exec spec"). A missing or null
 * field leaves *out alone and returns 0; a field of another type is ERR_INVALID. rt_json_strv
 * refuses arrays of more than max entries (0: no limit).
 */
int rt_json_str(const json_t *o, const char *what, const char *key, char **out, struct err **err);
int rt_json_bool(const json_t *o, const char *what, const char *key, bool *out, struct err **err);
int rt_json_int(const json_t *o, const char *what, const char *key, int64_t *out, struct err **err);
int rt_json_strv(const json_t *o, const char *what, const char *key, size_t max, char ***out,
                 struct err **err);

#endif
