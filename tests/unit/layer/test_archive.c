/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image archive unit tests (daemon/layer/archive.c): the save writer, read back with our own
 * reader and with GNU tar; the load reader's refusals (names, formats, size) and its in-archive
 * link resolution. Test tars come from python3's tarfile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "daemon/layer/layer.h"
#include "tests/unit/testutil.h"

struct fx {
    char base[64];
    char tar[96];
    char out[96];
};

static int setup(void **state)
{
    struct fx *fx = xcalloc(1, sizeof(*fx));
    tu_mkdtemp(fx->base, sizeof(fx->base), "archive");
    tu_path(fx->tar, sizeof(fx->tar), fx->base, "a.tar", 0);
    tu_path(fx->out, sizeof(fx->out), fx->base, "out", 0700);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    tu_run("rm -rf '%s'", fx->base);
    free(fx);
    return 0;
}

/* Writes fx->tar with python3: body is Python code using t (an open tarfile) and add(). */
static void mktar(const struct fx *fx, const char *mode, const char *body)
{
    _cleanup_free_ char *py = xasprintf("%s/mk.py", fx->base);
    FILE *f = fopen(py, "w");
    assert_non_null(f);
    fprintf(f,
            "import io, tarfile\n"
            "def add(t, name, data=b'', kind=tarfile.REGTYPE, link=''):\n"
            "    ti = tarfile.TarInfo(name); ti.type = kind; ti.linkname = link\n"
            "    ti.size = len(data) if kind == tarfile.REGTYPE else 0\n"
            "    t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)\n"
            "with tarfile.open('%s', '%s') as t:\n"
            "%s\n",
            fx->tar, mode, body);
    fclose(f);
    tu_run("python3 '%s'", py);
}

static int extract(const struct fx *fx, int64_t max, struct layer_archive **a, struct err **err)
{
    tu_run("rm -rf '%s' && mkdir '%s'", fx->out, fx->out); /* the caller's job after a failure */
    return layer_archive_extract(fx->tar, fx->out, max, a, err);
}

/* ---- names ------------------------------------------------------------------------------- */

static void test_path_join(void **state)
{
    (void)state;
    char out[64];
    assert_null(layer_archive_path_join("", "a/./b//c/", out, sizeof(out)));
    assert_string_equal(out, "a/b/c");
    assert_null(layer_archive_path_join("x/y", "../blobs/sha256/z", out, sizeof(out)));
    assert_string_equal(out, "x/blobs/sha256/z");
    assert_null(layer_archive_path_join("x/y", "/abs/z", out, sizeof(out)));
    assert_string_equal(out, "abs/z");
    assert_null(layer_archive_path_join("x", "..", out, sizeof(out)));
    assert_string_equal(out, "");
    assert_string_equal(layer_archive_path_join("x", "../..", out, sizeof(out)),
                        "leaves the archive");
    assert_string_equal(layer_archive_path_join("", "/../etc", out, sizeof(out)),
                        "leaves the archive");
    assert_string_equal(layer_archive_path_join("", "0123456789/0123456789", out, 8),
                        "name too long");
}

/* ---- writer ------------------------------------------------------------------------------ */

static void test_writer_round_trip(void **state)
{
    struct fx *fx = *state;
    struct err *err = NULL;
    _cleanup_close_ int fd = open(fx->tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    _cleanup_free_ char *src = xasprintf("%s/src", fx->base);
    size_t big = 300 * 1024 + 7; /* more than one copy buffer */
    _cleanup_free_ char *data = xmalloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i * 31 + 7);
    {
        _cleanup_close_ int s = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_int_equal(fdu_write_all(s, data, big), 0);
    }
    _cleanup_close_ int sfd = open(src, O_RDONLY | O_CLOEXEC);
    struct layer_tar_writer *w = NULL;
    assert_int_equal(layer_tar_writer_new(fd, &w, &err), 0);
    assert_int_equal(layer_tar_write_dir(w, "blobs/", &err), 0);
    assert_int_equal(layer_tar_write_bytes(w, "blobs/small", "hello\n", 6, &err), 0);
    assert_int_equal(layer_tar_write_bytes(w, "empty", "", 0, &err), 0);
    assert_int_equal(layer_tar_write_fd(w, "blobs/big", sfd, (int64_t)big, &err), 0);
    assert_int_equal(layer_tar_writer_finish(w, &err), 0);
    layer_tar_writer_free(w);

    /* GNU tar agrees on order, owners, times and modes */
    _cleanup_free_ char *list = xasprintf("%s/list", fx->base);
    tu_run("tar --numeric-owner --full-time -tvf '%s' | awk '{print $1, $2, $3, $4, $6}' > '%s'",
           fx->tar, list);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    assert_int_equal(fsu_read_file(list, 4096, &text, &len), 0);
    _cleanup_free_ char *want = xasprintf("drwxr-xr-x 0/0 0 1970-01-01 blobs/\n"
                                          "-rw-r--r-- 0/0 6 1970-01-01 blobs/small\n"
                                          "-rw-r--r-- 0/0 0 1970-01-01 empty\n"
                                          "-rw-r--r-- 0/0 %zu 1970-01-01 blobs/big\n",
                                          big);
    assert_string_equal(text, want);

    /* and so does our reader, digests included */
    struct layer_archive *a = NULL;
    assert_int_equal(extract(fx, 1 << 30, &a, &err), 0);
    const struct layer_archive_file *f = NULL;
    assert_int_equal(layer_archive_lookup(a, "blobs/big", &f, &err), 0);
    assert_int_equal(f->size, (int64_t)big);
    char want_digest[DIGEST_STR_LEN + 1];
    digest_buf(data, big, want_digest);
    assert_string_equal(f->digest, want_digest);
    assert_int_equal(layer_archive_lookup(a, "./blobs//small", &f, &err), 0);
    assert_int_equal(f->size, 6);
    layer_archive_free(a);
}

static void test_writer_short_file(void **state)
{
    struct fx *fx = *state;
    struct err *err = NULL;
    _cleanup_close_ int fd = open(fx->tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    _cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct layer_tar_writer *w = NULL;
    assert_int_equal(layer_tar_writer_new(fd, &w, &err), 0);
    assert_int_equal(layer_tar_write_fd(w, "x", devnull, 10, &err), -1);
    assert_int_equal(err->kind, ERR_SYSTEM);
    assert_non_null(strstr(err->msg, "shorter"));
    err_free(err);
    layer_tar_writer_free(w);
}

/* The reader of a save went away: the writer ends with EPIPE instead of blocking forever. */
static void test_writer_epipe(void **state)
{
    (void)state;
    struct err *err = NULL;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    struct layer_tar_writer *w = NULL;
    assert_int_equal(layer_tar_writer_new(p[1], &w, &err), 0);
    static char buf[64 * 1024];
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++)
        rc = layer_tar_write_bytes(w, "x", buf, sizeof(buf), &err);
    if (rc == 0)
        rc = layer_tar_writer_finish(w, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err->kind, ERR_SYSTEM);
    assert_int_equal(err->errnum, EPIPE);
    err_free(err);
    layer_tar_writer_free(w);
    close(p[1]);
}

/* ---- reader ------------------------------------------------------------------------------ */

static void expect_refused(struct fx *fx, enum err_kind kind, const char *words)
{
    struct layer_archive *a = NULL;
    struct err *err = NULL;
    assert_int_equal(extract(fx, 1 << 20, &a, &err), -1);
    assert_null(a);
    if (err->kind != kind || !strstr(err->msg, words))
        fail_msg("expected kind %d with \"%s\", got %d: %s", kind, words, err->kind, err->msg);
    err_free(err);
}

static void test_reader_refuses(void **state)
{
    struct fx *fx = *state;
    mktar(fx, "w", "    add(t, 'ok', b'1')\n    add(t, '../evil', b'x')");
    expect_refused(fx, ERR_INVALID, "\"..\" component");
    mktar(fx, "w", "    add(t, 'a/../../evil', b'x')");
    expect_refused(fx, ERR_INVALID, "\"..\" component");
    mktar(fx, "w", "    add(t, '/etc/evil', b'x')");
    expect_refused(fx, ERR_INVALID, "absolute path");
    mktar(fx, "w", "    add(t, 'h', kind=tarfile.LNKTYPE, link='../../etc/shadow')");
    expect_refused(fx, ERR_INVALID, "hardlink");
    mktar(fx, "w:bz2", "    add(t, 'x', b'1')");
    expect_refused(fx, ERR_INVALID, "");
    mktar(fx, "w:xz", "    add(t, 'x', b'1')");
    expect_refused(fx, ERR_INVALID, "");
    tu_run("head -c 4096 /dev/urandom > '%s'", fx->tar);
    expect_refused(fx, ERR_INVALID, "");
    mktar(fx, "w", "    add(t, 'big', b'x' * 2000000)");
    expect_refused(fx, ERR_TOO_LARGE, "more than");
    /* nothing is ever written under its archive name */
    _cleanup_free_ char *probe = xasprintf("%s/evil", fx->base);
    assert_int_not_equal(access(probe, F_OK), 0);
}

static void test_reader_gzip(void **state)
{
    struct fx *fx = *state;
    struct err *err = NULL;
    struct layer_archive *a = NULL;
    mktar(fx, "w:gz", "    add(t, 'manifest.json', b'[]')");
    assert_int_equal(extract(fx, 1 << 20, &a, &err), 0);
    const struct layer_archive_file *f = NULL;
    assert_int_equal(layer_archive_lookup(a, "manifest.json", &f, &err), 0);
    assert_int_equal(f->size, 2);
    layer_archive_free(a);
    /* gzip inside gzip is one level too many */
    tu_run("gzip -c '%s' > '%s.gz' && mv '%s.gz' '%s'", fx->tar, fx->tar, fx->tar, fx->tar);
    expect_refused(fx, ERR_INVALID, "");
}

static void test_reader_links(void **state)
{
    struct fx *fx = *state;
    struct err *err = NULL;
    struct layer_archive *a = NULL;
    /* docker 25's legacy links, a symlinked directory, a hardlink, escapes and a loop */
    mktar(fx, "w",
          "    add(t, 'blobs/sha256/aa', b'layer')\n"
          "    add(t, 'id1/layer.tar', kind=tarfile.SYMTYPE, link='../blobs/sha256/aa')\n"
          "    add(t, 'abs', kind=tarfile.SYMTYPE, link='/blobs/sha256/aa')\n"
          "    add(t, 'dir', kind=tarfile.SYMTYPE, link='blobs')\n"
          "    add(t, 'hard', kind=tarfile.LNKTYPE, link='blobs/sha256/aa')\n"
          "    add(t, 'out', kind=tarfile.SYMTYPE, link='../../etc/passwd')\n"
          "    add(t, 'loop1', kind=tarfile.SYMTYPE, link='loop2')\n"
          "    add(t, 'loop2', kind=tarfile.SYMTYPE, link='loop1')\n"
          "    add(t, 'dup', b'old')\n"
          "    add(t, 'dup', b'newer')");
    assert_int_equal(extract(fx, 1 << 20, &a, &err), 0);
    const char *same[] = {"blobs/sha256/aa", "id1/layer.tar", "abs",
                          "dir/sha256/aa",   "hard",          "id1/../blobs/sha256/aa"};
    for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
        const struct layer_archive_file *f = NULL;
        if (layer_archive_lookup(a, same[i], &f, &err) < 0)
            fail_msg("%s: %s", same[i], err->msg);
        assert_int_equal(f->size, 5);
    }
    const struct layer_archive_file *f = NULL;
    assert_int_equal(layer_archive_lookup(a, "dup", &f, &err), 0);
    assert_int_equal(f->size, 5); /* the later entry wins */
    const struct {
        const char *name;
        enum err_kind kind;
    } bad[] = {{"out", ERR_INVALID},
               {"loop1", ERR_INVALID},
               {"../x", ERR_INVALID},
               {"missing", ERR_NOT_FOUND},
               {"dir/nope", ERR_NOT_FOUND}};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        f = NULL;
        assert_int_equal(layer_archive_lookup(a, bad[i].name, &f, &err), -1);
        if (err->kind != bad[i].kind)
            fail_msg("%s: kind %d: %s", bad[i].name, err->kind, err->msg);
        err_free(err);
        err = NULL;
    }
    layer_archive_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_join),
        cmocka_unit_test_setup_teardown(test_writer_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_short_file, setup, teardown),
        cmocka_unit_test(test_writer_epipe),
        cmocka_unit_test_setup_teardown(test_reader_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_links, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
