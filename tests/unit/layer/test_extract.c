/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker cp's side of the layer module (extract.c): in-root path resolution, link targets and
 * tars unpacked into a directory of a container root. The "container root" is a temporary
 * directory with its own etc/passwd; the host's /etc/passwd must never be what a path reaches.
 * Tars are written by python3's tarfile. Runs as root (owners).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "daemon/layer/layer.h"
#include "tests/unit/testutil.h"

struct fx {
    char root[64];
    int root_fd;
};

static int setup(void **state)
{
    struct fx *fx = xcalloc(1, sizeof(*fx));
    tu_mkdtemp(fx->root, sizeof(fx->root), "extract");
    tu_run("cd %s && mkdir -p etc dest tmp && echo inroot > etc/passwd && ln -s /etc a && "
           "ln -s ../../../../.. up && ln -s a b && ln -s /etc/passwd plink && echo f > file",
           fx->root);
    fx->root_fd = open(fx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fx->root_fd >= 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    close(fx->root_fd);
    tu_run("rm -rf %s", fx->root);
    free(fx);
    return 0;
}

/* The content of what path names in the root (followed), "" when it cannot be opened. */
static char *read_in_root(struct fx *fx, const char *path)
{
    int fd = -1;
    struct err *err = NULL;
    if (layer_root_open(fx->root_fd, path, true, &fd, &err) < 0) {
        err_free(err);
        return xstrdup("");
    }
    _cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", fd);
    char buf[256] = {0};
    int rfd = open(proc, O_RDONLY | O_CLOEXEC);
    close(fd);
    if (rfd < 0)
        return xstrdup("");
    ssize_t n = read(rfd, buf, sizeof(buf) - 1);
    close(rfd);
    buf[n > 0 ? n : 0] = '\0';
    return xstrdup(buf);
}

static void test_root_open(void **state)
{
    struct fx *fx = *state;
    struct err *err = NULL;
    int fd = -1;
    struct stat st;
    /* absolute, relative-escaping and chained links all stay in the root */
    const char *paths[] = {"/a/passwd", "/up/etc/passwd",    "/b/passwd",
                           "plink",     "/../../etc/passwd", "/etc/../../../etc/passwd"};
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        _cleanup_free_ char *s = read_in_root(fx, paths[i]);
        assert_string_equal(s, "inroot\n");
    }
    /* the last link itself unless followed or asked with a trailing / or /. */
    assert_int_equal(layer_root_open(fx->root_fd, "/plink", false, &fd, &err), 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    close(fd);
    assert_int_equal(layer_root_open(fx->root_fd, "/a/.", false, &fd, &err), 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    close(fd);
    assert_int_equal(layer_root_open(fx->root_fd, "/nope", false, &fd, &err), -1);
    assert_int_equal(err->kind, ERR_NOT_FOUND);
    err_free(err);
    err = NULL;
    assert_int_equal(layer_root_open(fx->root_fd, "/file/", false, &fd, &err), -1);
    assert_int_equal(err->kind, ERR_INVALID);
    err_free(err);
}

static void test_realpath(void **state)
{
    struct fx *fx = *state;
    struct err *err = NULL;
    struct {
        const char *in, *want;
    } cases[] = {
        {"/plink", "/etc/passwd"},
        {"/up/etc/x", "/etc/x"},
        {"/b/passwd", "/etc/passwd"},
        {"/a", "/etc"},
        {"/", "/"},
        {"/missing/../file", "/file"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *out = NULL;
        assert_int_equal(layer_root_realpath(fx->root_fd, cases[i].in, &out, &err), 0);
        assert_string_equal(out, cases[i].want);
        free(out);
    }
    /* a loop is an error, not a hang */
    tu_run("cd %s && ln -s loop2 loop1 && ln -s loop1 loop2", fx->root);
    char *out = NULL;
    assert_int_equal(layer_root_realpath(fx->root_fd, "/loop1", &out, &err), -1);
    err_free(err);
}

/* Writes a tar with python: each spec is "kind:name[:arg]" (file, dir, sym, hard). */
static char *mktar(struct fx *fx, const char *name, const char *specs, const char *compress)
{
    char *path = xasprintf("%s/%s", fx->root, name);
    tu_run(
        "python3 - %s '%s' %s <<'EOF'\n"
        "import io, sys, tarfile, gzip, bz2\n"
        "out, specs, comp = sys.argv[1], sys.argv[2].split(), sys.argv[3]\n"
        "b = io.BytesIO()\n"
        "with tarfile.open(fileobj=b, mode='w', format=tarfile.PAX_FORMAT) as t:\n"
        "    for s in specs:\n"
        "        kind, n, *arg = s.split(':')\n"
        "        ti = tarfile.TarInfo(n); ti.uid, ti.gid, ti.mode = 4242, 4343, 0o777\n"
        "        if kind == 'file':\n"
        "            ti.size = 3; t.addfile(ti, io.BytesIO(b'new'))\n"
        "        else:\n"
        "            ti.type = {'dir': tarfile.DIRTYPE, 'sym': tarfile.SYMTYPE, 'hard': "
        "tarfile.LNKTYPE}[kind]\n"
        "            ti.linkname = arg[0] if arg else ''\n"
        "            t.addfile(ti)\n"
        "data = b.getvalue()\n"
        "data = gzip.compress(data) if comp == 'gz' else bz2.compress(data) if comp == 'bz2' else "
        "data\n"
        "open(out, 'wb').write(data)\n"
        "EOF",
        path, specs, compress);
    return path;
}

static int extract(struct fx *fx, const char *tar, const char *dest, bool no_overwrite, int64_t uid,
                   struct err **err)
{
    int in = open(tar, O_RDONLY | O_CLOEXEC);
    int dfd = -1;
    assert_true(in >= 0);
    assert_int_equal(layer_root_open(fx->root_fd, dest, true, &dfd, err), 0);
    struct layer_extract_opts o = {
        .no_overwrite_dir_non_dir = no_overwrite, .uid = uid, .gid = uid};
    int r = layer_extract(in, dfd, &o, err);
    close(dfd);
    return r;
}

static void test_extract(void **state)
{
    struct fx *fx = *state;
    struct err *err = NULL;
    struct stat st;
    char p[256];
    chmod(fx->root, 0755);
    tu_run("chmod 0700 %s/dest", fx->root);
    _cleanup_free_ char *ok = mktar(fx, "ok.tar", "dir:./ file:x/y file:.wh.z sym:l:/etc", "none");
    assert_int_equal(extract(fx, ok, "/dest", true, -1, &err), 0);
    snprintf(p, sizeof(p), "%s/dest/x/y", fx->root);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_uid, 4242);
    /* a whiteout is an ordinary file in docker cp */
    snprintf(p, sizeof(p), "%s/dest/.wh.z", fx->root);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    /* the "./" entry leaves the destination's own mode alone */
    snprintf(p, sizeof(p), "%s/dest", fx->root);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    /* owner override (copyUIDGID with the container's user) */
    _cleanup_free_ char *own = mktar(fx, "own.tar", "file:owned", "gz");
    assert_int_equal(extract(fx, own, "/dest", true, 77, &err), 0);
    snprintf(p, sizeof(p), "%s/dest/owned", fx->root);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_uid, 77);
    assert_int_equal(st.st_gid, 77);
    /* an extraction point through a link: "/a" means the root's etc */
    _cleanup_free_ char *viaetc = mktar(fx, "viaetc.tar", "file:planted", "none");
    assert_int_equal(extract(fx, viaetc, "/a", true, -1, &err), 0);
    snprintf(p, sizeof(p), "%s/etc/planted", fx->root);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(access("/etc/planted", F_OK), -1);
}

static void test_extract_refused(void **state)
{
    struct fx *fx = *state;
    struct {
        const char *specs, *compress, *msg;
    } cases[] = {
        {"file:../../../../tmp/berth-extract-escape", "none", "\"..\" component"},
        {"file:/tmp/berth-extract-escape", "none", "absolute"},
        {"sym:s:/ file:s/tmp/berth-extract-escape", "none", "is a symlink"},
        {"sym:s:/tmp file:s/berth-extract-escape", "none", "is a symlink"},
        {"hard:h:/etc/passwd", "none", "absolute"},
        {"hard:h:../etc/passwd", "none", "\"..\" component"},
        {"file:x", "bz2", "invalid"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct err *err = NULL;
        _cleanup_free_ char *name = xasprintf("bad%zu.tar", i);
        _cleanup_free_ char *tar = mktar(fx, name, cases[i].specs, cases[i].compress);
        assert_int_equal(extract(fx, tar, "/dest", true, -1, &err), -1);
        if (!strstr(err->msg, cases[i].msg))
            fail_msg("case %zu: %s: want \"%s\"", i, err->msg, cases[i].msg);
        err_free(err);
    }
    assert_int_equal(access("/tmp/berth-extract-escape", F_OK), -1);
    /* noOverwriteDirNonDir, both ways, with docker's words */
    tu_run("mkdir -p %s/dest/adir && echo f > %s/dest/afile", fx->root, fx->root);
    struct err *err = NULL;
    _cleanup_free_ char *f = mktar(fx, "fod.tar", "file:adir", "none");
    assert_int_equal(extract(fx, f, "/dest", true, -1, &err), -1);
    assert_non_null(strstr(err->msg, "cannot overwrite directory"));
    err_free(err);
    err = NULL;
    _cleanup_free_ char *d = mktar(fx, "dof.tar", "dir:afile", "none");
    assert_int_equal(extract(fx, d, "/dest", true, -1, &err), -1);
    assert_non_null(strstr(err->msg, "cannot overwrite non-directory"));
    err_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_root_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realpath, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extract, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extract_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
