/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for tar entry handling. Each input is used twice:
 *  1. as an entry name: layer_name_clean and layer_whiteout_kind must keep their promises
 *     (a cleaned name is relative, has no empty, "." or ".." component, and cleaning is
 *     idempotent; a whiteout target is never "", "." or "..");
 *  2. as a layer blob: layer_unpack into <work>/dest must never touch <work>/victim or create
 *     anything else in <work>, and must not leak fds; then dest is removed.
 * Run as root in a throwaway machine or namespace (it creates device nodes inside dest).
 * Seeds: python3 tests/unit/layer/mktar.py <case> corpus/<case> for the cases listed there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "daemon/layer/layer.h"

struct fuzz_env {
    char work[64];
    char dest[96];
    char victim[96];
};

static struct fuzz_env env; /* fuzzer harness state: one per process */

static void die(const char *what)
{
    fprintf(stderr, "fuzz_tar: invariant broken: %s\n", what);
    abort();
}

static void check_component_rules(const char *clean)
{
    const char *p = clean;

    if (clean[0] == '/' || strlen(clean) >= PATH_MAX)
        die("cleaned name absolute or too long");
    while (*p != '\0') {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            die("cleaned name has an empty, . or .. component");
        if (n > NAME_MAX)
            die("cleaned name has an overlong component");
        p = *end == '/' ? end + 1 : end;
    }
}

static void fuzz_names(const uint8_t *data, size_t size)
{
    char name[8192];
    char clean[PATH_MAX];
    char again[PATH_MAX];
    const char *target = NULL;
    size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;

    memcpy(name, data, n);
    name[n] = '\0';
    if (layer_name_clean(name, clean, sizeof(clean)) != NULL)
        return;
    check_component_rules(clean);
    if (layer_name_clean(clean, again, sizeof(again)) != NULL || strcmp(clean, again) != 0)
        die("cleaning is not idempotent");
    const char *slash = strrchr(clean, '/');
    const char *base = slash != NULL ? slash + 1 : clean;
    if (layer_whiteout_kind(base, &target) == LAYER_WH_FILE) {
        if (target == NULL || target[0] == '\0' || strcmp(target, ".") == 0 ||
            strcmp(target, "..") == 0 || strchr(target, '/') != NULL)
            die("whiteout target names the directory or its parent");
    }
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    if (d == NULL)
        die("opendir");
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int count_fds(void)
{
    return count_entries("/proc/self/fd");
}

static void check_confined(void)
{
    char buf[16] = {0};
    char hello[128];
    struct stat st;

    snprintf(hello, sizeof(hello), "%s/hello", env.victim);
    int fd = open(hello, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != 7 || strcmp(buf, "victim\n") != 0)
        die("victim/hello changed");
    if (fstat(fd, &st) < 0 || st.st_nlink != 1)
        die("victim/hello gained a link");
    close(fd);
    if (count_entries(env.victim) != 1)
        die("something was created in victim");
    if (count_entries(env.work) != 2)
        die("something was created beside dest");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char hello[128];

    strcpy(env.work, "/tmp/berth-fuzz-tar-XXXXXX");
    if (mkdtemp(env.work) == NULL)
        die("mkdtemp");
    snprintf(env.dest, sizeof(env.dest), "%s/dest", env.work);
    snprintf(env.victim, sizeof(env.victim), "%s/victim", env.work);
    snprintf(hello, sizeof(hello), "%s/hello", env.victim);
    if (mkdir(env.victim, 0755) < 0)
        die("mkdir victim");
    int fd = open(hello, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "victim\n", 7) != 7)
        die("write victim");
    close(fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct layer_unpack_result res;
    struct err *err = NULL;
    char blob[64];
    int before = count_fds();

    fuzz_names(data, size);

    int mfd = memfd_create("fuzz-tar", MFD_CLOEXEC);
    if (mfd < 0 || fdu_write_all(mfd, data, size) < 0)
        die("memfd");
    snprintf(blob, sizeof(blob), "/proc/self/fd/%d", mfd);
    if (mkdir(env.dest, 0755) < 0)
        die("mkdir dest");
    if (layer_unpack(blob, env.dest, NULL, &res, &err) < 0) {
        if (err == NULL || err->msg == NULL)
            die("failure without an error");
        err_freep(&err);
    }
    close(mfd);
    if (count_fds() != before)
        die("fd leak");
    check_confined();
    if (fsu_rmtree(env.dest, &err) < 0)
        die("rmtree dest");
    return 0;
}
