/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "tests/unit/testutil.h"

void tu_run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *cmd = xvasprintf(fmt, ap);
    va_end(ap);
    int r = system(cmd);
    if (r != 0)
        fail_msg("command failed (%d): %s", r, cmd);
}

void tu_mkdtemp(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "/tmp/berth-%s-XXXXXX", name);
    assert_true(n > 0 && (size_t)n < size);
    assert_non_null(mkdtemp(buf));
}

void tu_sha256sum(const char *path, char out[DIGEST_STR_LEN + 1])
{
    _cleanup_free_ char *cmd = xasprintf("sha256sum %s", path);
    FILE *p = popen(cmd, "r");
    char hex[DIGEST_HEX_LEN + 1] = {0};
    assert_non_null(p);
    assert_int_equal(fread(hex, 1, DIGEST_HEX_LEN, p), DIGEST_HEX_LEN);
    pclose(p);
    snprintf(out, DIGEST_STR_LEN + 1, "sha256:%s", hex);
}

int tu_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

struct tu_tmpfile *tu_tmpfile_new(const char *name, const char *file)
{
    struct tu_tmpfile *t = xcalloc(1, sizeof(*t));
    tu_mkdtemp(t->dir, sizeof(t->dir), name);
    int n = snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, file);
    assert_true(n > 0 && (size_t)n < sizeof(t->path));
    return t;
}

void tu_tmpfile_free(struct tu_tmpfile *t)
{
    if (!t)
        return;
    fsu_rmtree(t->dir, NULL);
    free(t);
}

void tu_path(char *buf, size_t size, const char *base, const char *name, unsigned mode)
{
    int n = snprintf(buf, size, "%s/%s", base, name);
    assert_true(n > 0 && (size_t)n < size);
    if (mode)
        assert_int_equal(mkdir(buf, (mode_t)mode), 0);
}
