/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroupfs driver for v1 (one hierarchy per controller under /sys/fs/cgroup/<ctrl>, as on a
 * hybrid host) and v2 (unified /sys/fs/cgroup). Paths are relative to each hierarchy's root.
 * On v2 the device allow list is not enforced: that needs an eBPF program (BPF_CGROUP_DEVICE),
 * which berth does not load yet. Blocking calls: berth-shim, or berthd's threadpool.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "daemon/runtime/internal.h"

#define CG_ROOT       "/sys/fs/cgroup"
#define CG_FILE_MAX   (4 * 1024 * 1024)
#define CG_KILL_TRIES 500 /* x 10 ms */

/* v1 controllers berth manages; missing ones are skipped. */
static const char *const v1_ctrls[] = {"memory",  "cpu",     "cpuacct", "pids",
                                       "freezer", "devices", "cpuset",  "blkio"};

/* docker's default device allow list (moby oci/defaults.go), after "a" is denied. */
static const char *const v1_dev_allow[] = {
    "c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
    "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
};

static const char *const v2_ctrls[] = {"cpuset", "cpu", "io", "memory", "pids"};

int rt_cgroup_version(void)
{
    struct statfs st;
    if (statfs(CG_ROOT, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
        return 2;
    return 1;
}

int rt_cgroup_path_check(const char *path, struct err **err)
{
    if (!path || !*path)
        return err_set(err, ERR_INVALID, 0, "cgroup path is empty");
    if (strchr(path, '\n'))
        return err_set(err, ERR_INVALID, 0, "cgroup path %s: invalid character", path);
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return err_set(err, ERR_INVALID, 0, "cgroup path %s: \".\" or \"..\" component", path);
        p += n;
    }
    return 0;
}

static const char *rel(const char *path)
{
    while (*path == '/')
        path++;
    return path;
}

static bool is_cgroup_dir(const char *dir)
{
    struct statfs st;
    return statfs(dir, &st) == 0 &&
           (st.f_type == CGROUP_SUPER_MAGIC || st.f_type == CGROUP2_SUPER_MAGIC);
}

/* ---- small file helpers (errors name the file) ------------------------------------------- */

static int cg_write(const char *dir, const char *file, const char *value, struct err **err)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", p);
    int r = fdu_write_all(fd, value, strlen(value));
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "write %s to %s", value, p);
    return 0;
}

static int cg_writef(const char *dir, const char *file, struct err **err, const char *fmt, ...)
    _printf_(4, 5);
static int cg_writef(const char *dir, const char *file, struct err **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *v = xvasprintf(fmt, ap);
    va_end(ap);
    return cg_write(dir, file, v, err);
}

static bool cg_has(const char *dir, const char *file)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

/* Reads dir/file (small) into a heap string; NULL when it cannot be read. */
static char *cg_read(const char *dir, const char *file)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    char *data = NULL;
    size_t len = 0;
    if (fsu_read_file(p, CG_FILE_MAX, &data, &len) < 0)
        return NULL;
    return data;
}

/* The integer after "key " on its own line of a flat-keyed file, or -1. */
static int64_t cg_read_key(const char *dir, const char *file, const char *key)
{
    _cleanup_free_ char *data = cg_read(dir, file);
    size_t klen = strlen(key);
    for (char *line = data; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return strtoll(line + klen + 1, NULL, 10);
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

/* ---- layout ------------------------------------------------------------------------------ */

/* The directories of path, one per hierarchy (v1: per mounted controller). NULL-terminated. */
static char **cg_dirs(const char *path)
{
    size_t n = 0;
    char **dirs = xcalloc(ARRAY_SIZE(v1_ctrls) + 1, sizeof(*dirs));
    if (rt_cgroup_version() == 2) {
        dirs[n++] = xasprintf(CG_ROOT "/%s", rel(path));
        return dirs;
    }
    for (size_t i = 0; i < ARRAY_SIZE(v1_ctrls); i++) {
        _cleanup_free_ char *root = xasprintf(CG_ROOT "/%s", v1_ctrls[i]);
        if (is_cgroup_dir(root))
            dirs[n++] = xasprintf("%s/%s", root, rel(path));
    }
    return dirs;
}

static void dirs_free(char ***dirs)
{
    for (char **p = *dirs; p && *p; p++)
        free(*p);
    free(*dirs);
}

/* v1 directory of one controller, or NULL when that controller is not mounted. */
static char *v1_dir(const char *ctrl, const char *path)
{
    _cleanup_free_ char *root = xasprintf(CG_ROOT "/%s", ctrl);
    if (!is_cgroup_dir(root))
        return NULL;
    return xasprintf("%s/%s", root, rel(path));
}

/* ---- validation -------------------------------------------------------------------------- */

static int resources_check(const struct rt_resources *r, struct err **err)
{
    if (r->memory < 0)
        return err_set(err, ERR_INVALID, 0, "invalid memory limit %lld", (long long)r->memory);
    if (r->memory > 0 && r->memory < 6 * 1024 * 1024)
        return err_set(err, ERR_INVALID, 0, "Minimum memory limit allowed is 6MB");
    if (r->memory_swap > 0 && r->memory == 0)
        return err_set(err, ERR_INVALID, 0,
                       "You should always set the Memory limit when using Memoryswap limit, "
                       "see usage");
    if (r->memory_swap > 0 && r->memory_swap < r->memory)
        return err_set(err, ERR_INVALID, 0,
                       "Minimum memoryswap limit should be larger than memory limit, see usage");
    if (r->memory_swap < -1)
        return err_set(err, ERR_INVALID, 0, "invalid memory swap limit");
    if (r->cpu_shares < 0)
        return err_set(err, ERR_INVALID, 0, "invalid cpu shares %lld", (long long)r->cpu_shares);
    if (r->cpu_quota > 0 && r->cpu_quota < 1000)
        return err_set(err, ERR_INVALID, 0, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
    if (r->cpu_period != 0 && (r->cpu_period < 1000 || r->cpu_period > 1000000))
        return err_set(err, ERR_INVALID, 0,
                       "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                       "(i.e. 1000000)");
    return 0;
}

/* memory+swap in bytes to write, 0 = leave alone, -1 = unlimited (docker's semantics). */
static int64_t memsw_total(const struct rt_resources *r)
{
    if (r->memory_swap == -1)
        return -1;
    if (r->memory_swap > 0)
        return r->memory_swap;
    return r->memory > 0 ? 2 * r->memory : 0;
}

/* ---- v1 ---------------------------------------------------------------------------------- */

/* mkdir -p for cpuset: each new level needs cpus and mems before a task can join. */
static int v1_cpuset_mkdir(const char *path, struct err **err)
{
    _cleanup_free_ char *dir = xstrdup(CG_ROOT "/cpuset");
    const char *p = rel(path);
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n > 0) {
            char *next = xasprintf("%s/%.*s", dir, (int)n, p);
            if (mkdir(next, 0755) < 0 && errno != EEXIST) {
                err_set(err, ERR_SYSTEM, errno, "mkdir %s", next);
                free(next);
                return -1;
            }
            const char *files[] = {"cpuset.cpus", "cpuset.mems"};
            for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *cur = cg_read(next, files[i]);
                _cleanup_free_ char *par = cg_read(dir, files[i]);
                if (cur && (cur[0] == '\n' || cur[0] == 0) && par &&
                    cg_write(next, files[i], par, err) < 0) {
                    free(next);
                    return -1;
                }
            }
            free(dir);
            dir = next;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

static int v1_memory(const char *path, const struct rt_resources *r, struct err **err)
{
    _cleanup_free_ char *dir = v1_dir("memory", path);
    if (!dir)
        return r->memory > 0 ? err_set(err, ERR_SYSTEM, 0, "memory cgroup controller missing") : 0;
    if (r->memory > 0 &&
        cg_writef(dir, "memory.limit_in_bytes", err, "%lld", (long long)r->memory) < 0)
        return -1;
    int64_t sw = memsw_total(r);
    if (sw != 0 && cg_has(dir, "memory.memsw.limit_in_bytes") &&
        cg_writef(dir, "memory.memsw.limit_in_bytes", err, "%lld", (long long)sw) < 0)
        return -1;
    return 0;
}

static int v1_cpu(const char *path, const struct rt_resources *r, struct err **err)
{
    _cleanup_free_ char *dir = v1_dir("cpu", path);
    if (!dir)
        return 0;
    if (r->cpu_shares > 0 && cg_writef(dir, "cpu.shares", err, "%lld", (long long)r->cpu_shares))
        return -1;
    if (r->cpu_quota > 0) {
        long long period = r->cpu_period > 0 ? r->cpu_period : 100000;
        if (cg_writef(dir, "cpu.cfs_period_us", err, "%lld", period) < 0 ||
            cg_writef(dir, "cpu.cfs_quota_us", err, "%lld", (long long)r->cpu_quota) < 0)
            return -1;
    }
    return 0;
}

static int v1_pids(const char *path, const struct rt_resources *r, struct err **err)
{
    _cleanup_free_ char *dir = v1_dir("pids", path);
    if (!dir)
        return r->pids_limit > 0 ? err_set(err, ERR_SYSTEM, 0, "pids cgroup controller missing")
                                 : 0;
    if (r->pids_limit > 0)
        return cg_writef(dir, "pids.max", err, "%lld", (long long)r->pids_limit);
    return cg_write(dir, "pids.max", "max", err);
}

static int v1_devices(const char *path, bool privileged, struct err **err)
{
    _cleanup_free_ char *dir = v1_dir("devices", path);
    if (!dir)
        return 0;
    if (privileged)
        return cg_write(dir, "devices.allow", "a", err);
    if (cg_write(dir, "devices.deny", "a", err) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(v1_dev_allow); i++)
        if (cg_write(dir, "devices.allow", v1_dev_allow[i], err) < 0)
            return -1;
    return 0;
}

static int v1_create(const char *path, const struct rt_resources *res, bool privileged,
                     struct err **err)
{
    for (size_t i = 0; i < ARRAY_SIZE(v1_ctrls); i++) {
        _cleanup_free_ char *dir = v1_dir(v1_ctrls[i], path);
        if (!dir)
            continue;
        if (strcmp(v1_ctrls[i], "cpuset") == 0) {
            if (v1_cpuset_mkdir(path, err) < 0)
                return -1;
        } else if (fsu_mkdir_p(dir, 0755, err) < 0) {
            return -1;
        }
    }
    if (v1_memory(path, res, err) < 0 || v1_cpu(path, res, err) < 0 ||
        v1_pids(path, res, err) < 0 || v1_devices(path, privileged, err) < 0)
        return -1;
    return 0;
}

/* ---- v2 ---------------------------------------------------------------------------------- */

/* Enables the controllers berth uses in dir's cgroup.subtree_control (those available). */
static int v2_enable(const char *dir, struct err **err)
{
    _cleanup_free_ char *avail = cg_read(dir, "cgroup.controllers");
    for (size_t i = 0; avail && i < ARRAY_SIZE(v2_ctrls); i++) {
        size_t n = strlen(v2_ctrls[i]);
        bool found = false;
        for (char *p = strstr(avail, v2_ctrls[i]); p; p = strstr(p + 1, v2_ctrls[i]))
            if ((p == avail || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == 0))
                found = true;
        if (found && cg_writef(dir, "cgroup.subtree_control", err, "+%s", v2_ctrls[i]) < 0)
            return -1;
    }
    return 0;
}

static int v2_mkdir(const char *path, struct err **err)
{
    _cleanup_free_ char *dir = xstrdup(CG_ROOT);
    const char *p = rel(path);
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n > 0) {
            if (v2_enable(dir, err) < 0)
                return -1;
            char *next = xasprintf("%s/%.*s", dir, (int)n, p);
            free(dir);
            dir = next;
            if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return err_set(err, ERR_SYSTEM, errno, "mkdir %s", dir);
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

static int v2_apply(const char *dir, const struct rt_resources *r, struct err **err)
{
    if (r->memory > 0 && cg_writef(dir, "memory.max", err, "%lld", (long long)r->memory) < 0)
        return -1;
    int64_t sw = memsw_total(r);
    if (sw != 0 && cg_has(dir, "memory.swap.max")) {
        if (sw < 0
                ? cg_write(dir, "memory.swap.max", "max", err)
                : cg_writef(dir, "memory.swap.max", err, "%lld", (long long)(sw - r->memory)) < 0)
            return -1;
    }
    if (r->cpu_shares > 0) {
        int64_t s = r->cpu_shares < 2 ? 2 : r->cpu_shares > 262144 ? 262144 : r->cpu_shares;
        if (cg_writef(dir, "cpu.weight", err, "%lld", (long long)(1 + ((s - 2) * 9999) / 262142)))
            return -1;
    }
    if (r->cpu_quota > 0 && cg_writef(dir, "cpu.max", err, "%lld %lld", (long long)r->cpu_quota,
                                      (long long)(r->cpu_period > 0 ? r->cpu_period : 100000)))
        return -1;
    if (cg_has(dir, "pids.max")) {
        if (r->pids_limit > 0 ? cg_writef(dir, "pids.max", err, "%lld", (long long)r->pids_limit)
                              : cg_write(dir, "pids.max", "max", err))
            return -1;
    } else if (r->pids_limit > 0) {
        return err_set(err, ERR_SYSTEM, 0, "pids cgroup controller missing in %s", dir);
    }
    return 0;
}

/* ---- public ------------------------------------------------------------------------------ */

int rt_cgroup_create(const char *path, const struct rt_resources *res, bool privileged,
                     struct err **err)
{
    static const struct rt_resources none;
    if (!res)
        res = &none;
    if (rt_cgroup_path_check(path, err) < 0 || resources_check(res, err) < 0)
        return -1;
    int r;
    if (rt_cgroup_version() == 2) {
        _cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s", rel(path));
        r = v2_mkdir(path, err) < 0 || v2_apply(dir, res, err) < 0 ? -1 : 0;
    } else {
        r = v1_create(path, res, privileged, err);
    }
    if (r < 0) {
        rt_cgroup_destroy(path, NULL);
        return err_wrap(err, "cgroup %s", path);
    }
    return 0;
}

int rt_cgroup_enter(const char *path, pid_t pid, struct err **err)
{
    if (rt_cgroup_path_check(path, err) < 0)
        return -1;
    _cleanup_(dirs_free) char **dirs = cg_dirs(path);
    for (char **d = dirs; *d; d++)
        if (cg_writef(*d, "cgroup.procs", err, "%d", (int)pid) < 0)
            return -1;
    return 0;
}

int rt_cgroup_join_open(const char *path, int *fds, size_t max, size_t *n, struct err **err)
{
    *n = 0;
    if (rt_cgroup_path_check(path, err) < 0)
        return -1;
    if (rt_cgroup_version() == 2)
        return 0;
    _cleanup_(dirs_free) char **dirs = cg_dirs(path);
    for (char **d = dirs; *d; d++) {
        if (*n == max) {
            err_set(err, ERR_SYSTEM, 0, "cgroup %s: too many hierarchies", path);
            goto fail;
        }
        _cleanup_free_ char *p = xasprintf("%s/tasks", *d);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            err_set(err, ERR_SYSTEM, errno, "open %s", p);
            goto fail;
        }
        fds[(*n)++] = fd;
    }
    return 0;
fail:
    while (*n > 0)
        close(fds[--*n]);
    return -1;
}

int rt_cgroup_join_self(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (write(fds[i], "0", 1) != 1)
            return -errno;
    return 0;
}

bool rt_cgroup_oom_killed(const char *path)
{
    if (rt_cgroup_path_check(path, NULL) < 0)
        return false;
    if (rt_cgroup_version() == 2) {
        _cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s", rel(path));
        return cg_read_key(dir, "memory.events", "oom_kill") > 0;
    }
    _cleanup_free_ char *dir = v1_dir("memory", path);
    return dir && cg_read_key(dir, "memory.oom_control", "oom_kill") > 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int v1_freeze(const char *dir, bool frozen, struct err **err)
{
    const char *want = frozen ? "FROZEN" : "THAWED";
    for (int i = 0; i < 1000; i++) {
        if (cg_write(dir, "freezer.state", want, err) < 0)
            return -1;
        _cleanup_free_ char *st = cg_read(dir, "freezer.state");
        if (st && strncmp(st, want, strlen(want)) == 0)
            return 0;
        sleep_ms(2);
    }
    return err_set(err, ERR_SYSTEM, 0, "%s/freezer.state: timed out waiting for %s", dir, want);
}

static int v2_freeze(const char *dir, bool frozen, struct err **err)
{
    if (cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
        return -1;
    for (int i = 0; i < 1000; i++) {
        if (cg_read_key(dir, "cgroup.events", "frozen") == (frozen ? 1 : 0))
            return 0;
        sleep_ms(2);
    }
    return err_set(err, ERR_SYSTEM, 0, "%s/cgroup.events: timed out waiting for frozen %d", dir,
                   frozen ? 1 : 0);
}

int rt_cgroup_freeze(const char *path, bool frozen, struct err **err)
{
    if (rt_cgroup_path_check(path, err) < 0)
        return -1;
    if (rt_cgroup_version() == 2) {
        _cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s", rel(path));
        return v2_freeze(dir, frozen, err);
    }
    _cleanup_free_ char *dir = v1_dir("freezer", path);
    if (!dir)
        return err_set(err, ERR_SYSTEM, 0, "freezer cgroup controller missing");
    return v1_freeze(dir, frozen, err);
}

/* Appends the pids listed in dir/cgroup.procs to *pids. -1 when the file cannot be read. */
static int procs_read(const char *dir, pid_t **pids, size_t *n)
{
    _cleanup_free_ char *data = cg_read(dir, "cgroup.procs");
    if (!data)
        return -1;
    for (char *p = data; *p;) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v > 0) {
            *pids = xrealloc(*pids, (*n + 1) * sizeof(**pids));
            (*pids)[(*n)++] = (pid_t)v;
        }
        p = end;
        while (*p == '\n')
            p++;
    }
    return 0;
}

int rt_cgroup_pids(const char *path, pid_t **pids, size_t *n, struct err **err)
{
    *pids = NULL;
    *n = 0;
    if (rt_cgroup_path_check(path, err) < 0)
        return -1;
    _cleanup_free_ char *dir = NULL;
    if (rt_cgroup_version() == 2) {
        dir = xasprintf(CG_ROOT "/%s", rel(path));
    } else {
        const char *pref[] = {"pids", "memory", "freezer", "cpu", "devices"};
        for (size_t i = 0; !dir && i < ARRAY_SIZE(pref); i++)
            dir = v1_dir(pref[i], path);
    }
    if (!dir || procs_read(dir, pids, n) < 0) {
        int e = errno;
        return err_set(err, ERR_SYSTEM, e, "read %s/cgroup.procs", dir ? dir : path);
    }
    return 0;
}

/* SIGKILLs whatever is left (thawing first: a frozen task cannot die). */
static int kill_all(const char *path, char **dirs, struct err **err)
{
    rt_cgroup_freeze(path, false, NULL);
    for (char **d = dirs; *d; d++)
        if (cg_has(*d, "cgroup.kill"))
            cg_write(*d, "cgroup.kill", "1", NULL);
    for (int i = 0; i < CG_KILL_TRIES; i++) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        for (char **d = dirs; *d; d++)
            procs_read(*d, &pids, &n);
        if (n == 0)
            return 0;
        for (size_t k = 0; k < n; k++)
            kill(pids[k], SIGKILL);
        sleep_ms(10);
    }
    return err_set(err, ERR_SYSTEM, 0, "cgroup %s: processes survive SIGKILL", path);
}

int rt_cgroup_destroy(const char *path, struct err **err)
{
    if (rt_cgroup_path_check(path, err) < 0)
        return -1;
    _cleanup_(dirs_free) char **dirs = cg_dirs(path);
    if (kill_all(path, dirs, err) < 0)
        return -1;
    for (char **d = dirs; *d; d++) {
        int tries = 0;
        while (rmdir(*d) < 0) {
            if (errno == ENOENT)
                break;
            if (errno != EBUSY || ++tries > 200)
                return err_set(err, ERR_SYSTEM, errno, "rmdir %s", *d);
            sleep_ms(10);
        }
    }
    return 0;
}
