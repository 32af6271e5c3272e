/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "common/common.h"
#include "daemon/layer/dirlist.h"

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void layer_names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int layer_dir_names(int fd, char ***out, size_t *nout, const char **failed)
{
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (d == NULL) {
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        *failed = "open directory";
        return -e;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[n++] = xstrdup(de->d_name);
    }
    int e = errno;
    closedir(d);
    if (e != 0) {
        layer_names_free(v, n);
        *failed = "read directory";
        return -e;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), name_cmp);
    *out = v;
    *nout = n;
    return 0;
}
