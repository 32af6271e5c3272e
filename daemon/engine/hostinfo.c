/* SPDX-License-Identifier: Apache-2.0 */
/* Host facts for /info and /version, read once at start-up (blocking reads are fine here). */
#include "daemon/engine/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <linux/magic.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static bool path_exists(const char *p)
{
    return access(p, F_OK) == 0;
}

/* A value from /etc/os-release, unquoted; NULL when absent. */
static char *os_release_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
            const char *v = line + klen + 1;
            size_t vlen = len - klen - 1;
            if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
                v++;
                vlen -= 2;
            }
            return xstrndup(v, vlen);
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static const char *go_arch(const char *machine)
{
    static const struct {
        const char *uname, *go;
    } map[] = {{"x86_64", "amd64"},   {"aarch64", "arm64"},   {"i686", "386"},
               {"armv7l", "arm"},     {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
               {"riscv64", "riscv64"}};
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (strcmp(machine, map[i].uname) == 0)
            return map[i].go;
    }
    return machine;
}

static const char *fs_name(long type)
{
    switch ((unsigned long)type) {
    case EXT4_SUPER_MAGIC:
        return "extfs";
    case TMPFS_MAGIC:
        return "tmpfs";
    case BTRFS_SUPER_MAGIC:
        return "btrfs";
    case 0x58465342:
        return "xfs";
    case OVERLAYFS_SUPER_MAGIC:
        return "overlayfs";
    }
    return "unknown";
}

/* The engine ID persists in the data root so /info shows the same one across restarts. */
static char *engine_id(const char *data_root)
{
    _cleanup_free_ char *path = xasprintf("%s/engine-id", data_root);
    char *text = NULL;
    if (fsu_read_file(path, 128, &text, NULL) == 0 && strlen(text) >= 32) {
        text[strcspn(text, "\n")] = '\0';
        return text;
    }
    free(text);
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != sizeof(b))
        memset(b, 0, sizeof(b));
    char *id = xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                         b[12], b[13], b[14], b[15]);
    _cleanup_free_ char *line = xasprintf("%s\n", id);
    struct err *err = NULL;
    if (fsu_write_atomic(path, line, strlen(line), 0600, &err) < 0) {
        log_warn("engine id not saved: %s", err->msg);
        err_free(err);
    }
    return id;
}

static void strv_add(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(**v));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static void gather_cgroups(struct handle_host *h, char ***warn, size_t *nwarn)
{
    struct statfs sfs;
    bool v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
    h->cgroup_version = xstrdup(v2 ? "2" : "1");
    if (v2) {
        char *ctl = NULL;
        if (fsu_read_file("/sys/fs/cgroup/cgroup.controllers", 4096, &ctl, NULL) == 0) {
            h->memory_limit = strstr(ctl, "memory") != NULL;
            h->swap_limit = h->memory_limit;
            h->cpu_cfs = h->cpu_shares = strstr(ctl, "cpu") != NULL;
            h->pids_limit = strstr(ctl, "pids") != NULL;
            free(ctl);
        }
    } else {
        h->memory_limit = path_exists("/sys/fs/cgroup/memory/memory.limit_in_bytes");
        h->swap_limit = path_exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
        h->cpu_cfs = path_exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
        h->cpu_shares = path_exists("/sys/fs/cgroup/cpu/cpu.shares");
        h->pids_limit = path_exists("/sys/fs/cgroup/pids/pids.max");
    }
    if (!h->memory_limit)
        strv_add(warn, nwarn, xstrdup("WARNING: No memory limit support"));
    if (!h->swap_limit)
        strv_add(warn, nwarn, xstrdup("WARNING: No swap limit support"));
}

void engine_host_gather(struct handle_host *h, const char *data_root)
{
    memset(h, 0, sizeof(*h));
    struct utsname u;
    uname(&u);
    h->kernel_version = xstrdup(u.release);
    h->machine = xstrdup(u.machine);
    h->arch = xstrdup(go_arch(u.machine));
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    h->hostname = xstrdup(host);
    _cleanup_free_ char *osr = NULL;
    if (fsu_read_file("/etc/os-release", 64 * 1024, &osr, NULL) < 0)
        (void)fsu_read_file("/usr/lib/os-release", 64 * 1024, &osr, NULL);
    h->operating_system = osr ? os_release_value(osr, "PRETTY_NAME") : NULL;
    if (!h->operating_system)
        h->operating_system = xstrdup("Linux");
    h->os_version = osr ? os_release_value(osr, "VERSION_ID") : NULL;
    if (!h->os_version)
        h->os_version = xstrdup("");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    h->ncpu = n > 0 ? n : 1;
    struct sysinfo si;
    if (sysinfo(&si) == 0)
        h->mem_total = (int64_t)si.totalram * (int64_t)si.mem_unit;
    struct statfs sfs;
    h->backing_fs = xstrdup(statfs(data_root, &sfs) == 0 ? fs_name(sfs.f_type) : "unknown");
    h->engine_id = engine_id(data_root);
    size_t nwarn = 0;
    h->warnings = xcalloc(1, sizeof(char *));
    gather_cgroups(h, &h->warnings, &nwarn);
}

void engine_host_release(struct handle_host *h)
{
    free(h->engine_id);
    free(h->hostname);
    free(h->kernel_version);
    free(h->operating_system);
    free(h->os_version);
    free(h->arch);
    free(h->machine);
    free(h->cgroup_version);
    free(h->backing_fs);
    for (char **p = h->warnings; p && *p; p++)
        free(*p);
    free(h->warnings);
    memset(h, 0, sizeof(*h));
}
