/* SPDX-License-Identifier: Apache-2.0 */
/* argv[0] lookup as Go's exec.LookPath does it (runc), so the errors read like docker's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/runtime/internal.h"

/* 0 when file is an executable non-directory, else -errno (EISDIR for a directory). */
static int find_executable(const char *file, int *stat_errno)
{
    struct stat st;
    *stat_errno = 0;
    if (stat(file, &st) < 0) {
        *stat_errno = errno;
        return -errno;
    }
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (faccessat(AT_FDCWD, file, X_OK, AT_EACCESS) == 0)
        return 0;
    if (errno != ENOSYS && errno != EPERM)
        return -errno;
    return (st.st_mode & 0111) ? 0 : -EACCES;
}

int rt_lookup_exec(const char *argv0, const char *path, char *out, size_t outlen,
                   struct rt_cerr *ce)
{
    char eb[128];
    int serr = 0;
    if (strchr(argv0, '/')) {
        int r = find_executable(argv0, &serr);
        if (r == 0) {
            if ((size_t)snprintf(out, outlen, "%s", argv0) >= outlen)
                return rt_cfail(ce, ERR_INVALID, 0, "exec: \"%.200s\": file name too long", argv0);
            return 0;
        }
        if (serr)
            return rt_cfail(ce, ERR_INVALID, 0, "exec: \"%.200s\": stat %.200s: %s", argv0, argv0,
                            rt_errno_text(-r, eb, sizeof(eb)));
        return rt_cfail(ce, ERR_INVALID, 0, "exec: \"%.200s\": %s", argv0,
                        rt_errno_text(-r, eb, sizeof(eb)));
    }
    const char *p = path ? path : "";
    for (;;) {
        size_t n = strcspn(p, ":");
        const char *dir = n ? p : ".";
        int dlen = n ? (int)n : 1;
        if ((size_t)snprintf(out, outlen, "%.*s/%s", dlen, dir, argv0) < outlen &&
            find_executable(out, &serr) == 0)
            return 0;
        if (!p[n])
            break;
        p += n + 1;
    }
    return rt_cfail(ce, ERR_INVALID, 0, "exec: \"%.200s\": executable file not found in $PATH",
                    argv0);
}
