/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer unit tests: tars come from mktar.py (python3 tarfile) and GNU tar; every unpack runs
 * into <base>/dest beside a sentinel <base>/victim that must never change. Runs as root
 * (devices, owners, trusted.* xattrs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <cmocka.h>

#include "daemon/layer/layer.h"
#include "tests/unit/testutil.h"

struct fx {
    char base[64];
    char dest[96];
    char victim[96];
    char tar[96];
    nlink_t shadow_nlink;
};

static int setup(void **state)
{
    struct fx *fx = xcalloc(1, sizeof(*fx));
    struct stat st;
    tu_mkdtemp(fx->base, sizeof(fx->base), "layer");
    tu_path(fx->dest, sizeof(fx->dest), fx->base, "dest", 0755);
    tu_path(fx->victim, sizeof(fx->victim), fx->base, "victim", 0755);
    tu_path(fx->tar, sizeof(fx->tar), fx->base, "layer.tar", 0);
    tu_run("printf 'victim\\n' > %s/hello", fx->victim);
    assert_int_equal(stat("/etc/shadow", &st), 0);
    fx->shadow_nlink = st.st_nlink;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    tu_run("rm -rf %s", fx->base);
    free(fx);
    return 0;
}

/* Nothing outside dest changed: the sentinel, the base dir, and the host paths the cases aim at. */
static void assert_confined(struct fx *fx)
{
    struct stat st;
    char buf[64] = {0};
    _cleanup_free_ char *hello = xasprintf("%s/hello", fx->victim);
    int fd = open(hello, O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), 7);
    close(fd);
    assert_string_equal(buf, "victim\n");
    assert_int_equal(stat(hello, &st), 0);
    assert_int_equal(st.st_nlink, 1);
    DIR *d = opendir(fx->victim);
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 1);
    d = opendir(fx->base);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        if (strcmp(de->d_name, "dest") != 0 && strcmp(de->d_name, "victim") != 0 &&
            strncmp(de->d_name, "layer", 5) != 0 && strcmp(de->d_name, "small") != 0)
            fail_msg("unexpected %s/%s", fx->base, de->d_name);
    }
    closedir(d);
    assert_int_equal(stat("/etc/shadow", &st), 0);
    assert_int_equal(st.st_nlink, fx->shadow_nlink);
    assert_int_equal(access("/etc/unbroken", F_OK), -1);
    assert_int_equal(access("/tmp/berth-layer-evil", F_OK), -1);
    assert_int_equal(access("/tmp/berth-layer-evil2", F_OK), -1);
}

static void reset_dest(struct fx *fx)
{
    tu_run("rm -rf %s && mkdir %s", fx->dest, fx->dest);
}

static void make_case(struct fx *fx, const char *name)
{
    tu_run("python3 %s %s %s", MKTAR, name, fx->tar);
}

static int unpack_case(struct fx *fx, const char *name, struct layer_unpack_result *res,
                       struct err **err)
{
    reset_dest(fx);
    make_case(fx, name);
    return layer_unpack(fx->tar, fx->dest, NULL, res, err);
}

static bool exists(struct fx *fx, const char *rel)
{
    struct stat st;
    _cleanup_free_ char *p = xasprintf("%s/%s", fx->dest, rel);
    return lstat(p, &st) == 0;
}

static struct stat lst(struct fx *fx, const char *rel)
{
    struct stat st;
    _cleanup_free_ char *p = xasprintf("%s/%s", fx->dest, rel);
    if (lstat(p, &st) < 0)
        fail_msg("lstat %s: %s", p, strerror(errno));
    return st;
}

static char *slurp(struct fx *fx, const char *rel)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", fx->dest, rel);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(fsu_read_file(p, 1 << 20, &text, &len), 0);
    return text;
}

static ssize_t xattr_of(struct fx *fx, const char *rel, const char *name, char *buf, size_t sz)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", fx->dest, rel);
    return lgetxattr(p, name, buf, sz);
}

static void test_names(void **state)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: refused */
    } cases[] = {
        {"a/b", "a/b"},     {"./a//b/", "a/b"},
        {"./", ""},         {".", ""},
        {"", ""},           {"a/./b/.", "a/b"},
        {"/a", NULL},       {"../a", NULL},
        {"a/../b", NULL},   {"a/..", NULL},
        {"..", NULL},       {"//a", NULL},
        {"a/...", "a/..."}, {".wh..wh..opq", ".wh..wh..opq"},
    };
    char out[PATH_MAX];
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *why = layer_name_clean(cases[i].in, out, sizeof(out));
        if (cases[i].out == NULL) {
            assert_non_null(why);
        } else {
            assert_null(why);
            assert_string_equal(out, cases[i].out);
        }
    }
    assert_non_null(layer_name_clean("abc", out, 3));
    _cleanup_free_ char *longc = xmalloc(300);
    memset(longc, 'x', 299);
    longc[299] = '\0';
    assert_string_equal(layer_name_clean(longc, out, sizeof(out)), "component too long");

    const char *t = NULL;
    assert_int_equal(layer_whiteout_kind("foo", &t), LAYER_WH_NONE);
    assert_int_equal(layer_whiteout_kind(".wh.foo", &t), LAYER_WH_FILE);
    assert_string_equal(t, "foo");
    assert_int_equal(layer_whiteout_kind(".wh..wh..opq", &t), LAYER_WH_OPAQUE);
    assert_int_equal(layer_whiteout_kind(".wh..wh.plnk", &t), LAYER_WH_META);
    assert_int_equal(layer_whiteout_kind(".wh.", &t), LAYER_WH_INVALID);
    assert_int_equal(layer_whiteout_kind(".wh..", &t), LAYER_WH_INVALID);
    assert_int_equal(layer_whiteout_kind(".wh...", &t), LAYER_WH_INVALID);
    assert_int_equal(layer_whiteout_kind(".wh....", &t), LAYER_WH_FILE);
}

static void test_basic(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    struct err *err = NULL;
    struct stat st;
    char buf[64];
    int fds = tu_count_fds();

    if (unpack_case(fx, "basic", &res, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    assert_int_equal(tu_count_fds(), fds);
    char want[DIGEST_STR_LEN + 1];
    tu_sha256sum(fx->tar, want);
    assert_string_equal(res.diff_id, want);
    assert_int_equal(res.size, 6 + 12 + 1 + 1 + 1 + 4 + 1 + 1);

    st = lst(fx, ".");
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(st.st_mtime, 1111);
    st = lst(fx, "etc");
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(st.st_mtime, 2222);
    st = lst(fx, "etc/hello");
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 04755);
    assert_int_equal(st.st_uid, 1000);
    assert_int_equal(st.st_gid, 1001);
    assert_int_equal(st.st_mtim.tv_sec, 1234567890);
    assert_int_equal(st.st_mtim.tv_nsec, 500000000);
    assert_int_equal(st.st_nlink, 2);
    _cleanup_free_ char *hello = slurp(fx, "etc/hard");
    assert_string_equal(hello, "hello\n");
    assert_int_equal(xattr_of(fx, "etc/hello", "user.foo", buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "bar", 3);
    assert_int_equal(xattr_of(fx, "etc/hello", "security.selinux", buf, sizeof(buf)), -1);
    assert_int_equal(xattr_of(fx, "etc/hello", "trusted.overlay.opaque", buf, sizeof(buf)), -1);
    assert_int_equal(xattr_of(fx, "etc/cap", "security.capability", buf, sizeof(buf)), 20);
    assert_int_equal(buf[4], 0); /* CAP_NET_RAW = bit 13 of permitted */
    assert_int_equal((unsigned char)buf[5], 0x20);
    assert_int_equal(lst(fx, "etc/cap").st_mode & 07777, 0755);

    st = lst(fx, "etc/link");
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(st.st_uid, 1000);
    assert_int_equal(st.st_mtime, 7777);
    _cleanup_free_ char *lp = xasprintf("%s/etc/link", fx->dest);
    ssize_t n = readlink(lp, buf, sizeof(buf));
    assert_int_equal(n, 11);
    assert_memory_equal(buf, "/etc/shadow", 11);

    st = lst(fx, "fifo");
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_uid, 5);
    assert_int_equal(st.st_gid, 6);
    st = lst(fx, "dev/mem");
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(1, 1));
    assert_int_equal(st.st_mode & 07777, 0666);
    st = lst(fx, "dev/disk");
    assert_true(S_ISBLK(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(8, 0));
    assert_int_equal(st.st_gid, 6);
    assert_int_equal(lst(fx, "dev").st_mode & 07777, 0755); /* implicit parent */

    assert_int_equal(lst(fx, "empty").st_mtime, 3333);
    assert_int_equal(lst(fx, "empty").st_mode & 07777, 0700);
    assert_int_equal(lst(fx, "empty/sub").st_mtime, 4444);
    assert_int_equal(lst(fx, "empty/sub/f").st_mtime, 5555);
    assert_true(S_ISREG(lst(fx, "dot/x/y").st_mode));
    assert_true(S_ISREG(lst(fx, "utf8-\xc3\xa9").st_mode));
    char longname[400];
    snprintf(longname, sizeof(longname), "long/%0200d/%0100d", 0, 0);
    memset(longname + 5, 'a', 200);
    memset(longname + 206, 'b', 100);
    assert_true(S_ISREG(lst(fx, longname).st_mode));
    st = lst(fx, "bin/sg");
    assert_int_equal(st.st_mode & 07777, 02755);
    assert_int_equal(st.st_gid, 42);
    assert_int_equal(lst(fx, "ro").st_mode & 07777, 0555);
    assert_int_equal(lst(fx, "ro").st_mtime, 6666);
    assert_int_equal(lst(fx, "ro/child").st_mode & 07777, 0400);
    assert_confined(fx);
}

/* gzip, zstd and plain give one diff-id, sha256 of the whole uncompressed stream */
static void test_compression(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    struct err *err = NULL;
    char want[DIGEST_STR_LEN + 1];
    static const char *const variants[] = {"", ".gz", ".zst"};
    _Atomic int64_t progress = 0;

    make_case(fx, "basic");
    /* trailing bytes after the end-of-archive blocks belong to the stream and to its diff-id */
    tu_run("head -c 3000 /dev/urandom >> %s", fx->tar);
    tu_sha256sum(fx->tar, want);
    tu_run("gzip -9 -c %s > %s.gz && zstd -q -19 -c %s > %s.zst", fx->tar, fx->tar, fx->tar,
           fx->tar);
    for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
        _cleanup_free_ char *blob = xasprintf("%s%s", fx->tar, variants[i]);
        struct stat st;
        reset_dest(fx);
        if (layer_unpack(blob, fx->dest, &progress, &res, &err) < 0)
            fail_msg("unpack %s: %s", blob, err->msg);
        assert_string_equal(res.diff_id, want);
        assert_int_equal(stat(blob, &st), 0);
        assert_int_equal(atomic_load(&progress), st.st_size);

        _cleanup_free_ char *out = xasprintf("%s.out", fx->tar);
        char got[DIGEST_STR_LEN + 1] = {0};
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        if (layer_decompress(blob, fd, got, &err) < 0)
            fail_msg("decompress %s: %s", blob, err->msg);
        close(fd);
        assert_string_equal(got, want);
        tu_run("cmp -s %s %s", out, fx->tar);
    }
    assert_confined(fx);
}

/* nested or foreign compression, empty and truncated blobs: ERR_INVALID, no program spawned */
static void test_bad_blobs(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    static const char *const recipes[] = {
        "gzip -c $T.plain | gzip -c > $T",
        "bzip2 -c $T.plain > $T",
        "xz -c $T.plain > $T",
        ": > $T",
        "gzip -c $T.plain | head -c 200 > $T",
        "head -c 700 $T.plain > $T",
        "head -c 1000 /dev/urandom > $T",
        /* a damaged header mid-archive (libarchive's ARCHIVE_RETRY) is never acted upon */
        "python3 -c 'import sys; d = bytearray(open(sys.argv[1], \"rb\").read()); "
        "i = d.find(b\"etc/cap\\0\"); d[i - i % 512 + 1] ^= 1; "
        "open(sys.argv[2], \"wb\").write(d)' $T.plain $T",
    };
    _cleanup_free_ char *plain = xasprintf("%s.plain", fx->tar);
    tu_run("python3 %s basic %s", MKTAR, plain);
    for (size_t i = 0; i < ARRAY_SIZE(recipes); i++) {
        struct err *err = NULL;
        const char *cmd = recipes[i];
        if (strstr(cmd, "xz") != NULL && system("command -v xz >/dev/null") != 0)
            continue;
        tu_run("T=%s; %s", fx->tar, cmd);
        reset_dest(fx);
        assert_int_equal(layer_unpack(fx->tar, fx->dest, NULL, &res, &err), -1);
        if (err->kind != ERR_INVALID)
            fail_msg("%s: kind %d: %s", cmd, err->kind, err->msg);
        err_freep(&err);
        char id[DIGEST_STR_LEN + 1];
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (i == 0 || i == 3 || i == 4) { /* the others are not compressed: passed through */
            assert_int_equal(layer_decompress(fx->tar, fd, id, &err), -1);
            err_freep(&err);
        }
        close(fd);
    }
    assert_confined(fx);
}

/* TEST-PLAN §2: every one is refused, naming the entry, with nothing written outside dest */
static void test_refused(void **state)
{
    struct fx *fx = *state;
    static const struct {
        const char *tcase;
        const char *msg;
    } cases[] = {
        {"l1a", "invalid tar entry \"../victim/evil\": \"..\" component"},
        {"l1b", "invalid tar entry \"/tmp/berth-layer-evil2\": absolute path"},
        {"l1c", "invalid tar entry \"/../victim/x\": absolute path"},
        {"l1d", "invalid tar entry \"../../tmp/berth-layer-evil\""},
        {"l2", "invalid tar entry \"localetc/unbroken\": \"localetc\" is a symlink"},
        {"l3a", "invalid tar entry \"d1/passwd\": \"d1\" is a symlink"},
        {"l3b", "invalid tar entry \"dummy/../etc/x\": \"..\" component"},
        {"l3c", "invalid tar entry \"d2/x\": \"d2\" is a symlink"},
        {"l4a", "invalid tar entry \"x\": hardlink target \"/etc/shadow\": absolute path"},
        {"l4b", "hardlink target \"../../etc/shadow\": \"..\" component"},
        {"l4c", "hardlink target \"/../victim/hello\": absolute path"},
        {"l4d", "hardlink target \"nonexistent\" does not exist"},
        {"l4e", "\"s\" is a symlink"},
        {"l5a", "hardlink target \"../victim\": \"..\" component"},
        {"l5b", "hardlink target \"d\" is a directory"},
        {"l9a", "invalid tar entry \".wh..\": invalid whiteout"},
        {"l9b", "invalid tar entry \".wh...\": invalid whiteout"},
        {"l9c", "invalid tar entry \".wh.\": invalid whiteout"},
        {"l9d", "invalid tar entry \"etc/.wh..\": invalid whiteout"},
        {"l10a", "invalid tar entry \"localetc/.wh.passwd\": \"localetc\" is a symlink"},
        {"l10d", "\"dead\" is a symlink"},
        {"l12b", "invalid tar entry \".wh..wh..opq/\": whiteout is not a regular file"},
        {"l12c", "invalid tar entry \".wh..wh..opq\": whiteout is not a regular file"},
        {"whdir", "whiteout is not a regular file"},
        {"whlink", "invalid tar entry \".wh.t2\": whiteout is not a regular file"},
        {"uidneg", "owner 4294967295:0 out of range"},
        {"uidbig", "owner 4294967296:0 out of range"},
        {"dirrepl", "invalid tar entry \"d\": replaces a directory"},
        {"parentfile", "invalid tar entry \"f/x\": \"f\" is not a directory"},
        {"rootfile", "the layer root must be a directory"},
        {"longcomp", "component too long"},
        {"selflink", "hardlink to itself"},
    };
    int fds = tu_count_fds();

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct layer_unpack_result res = {0};
        struct err *err = NULL;
        if (unpack_case(fx, cases[i].tcase, &res, &err) == 0)
            fail_msg("%s: unpacked", cases[i].tcase);
        if (err->kind != ERR_INVALID || strstr(err->msg, cases[i].msg) == NULL)
            fail_msg("%s: kind %d: %s", cases[i].tcase, err->kind, err->msg);
        err_freep(&err);
        assert_confined(fx);
    }
    assert_int_equal(tu_count_fds(), fds);
}

/* L4f: a hardlink to an in-root symlink that points out links the symlink itself */
static void test_hardlink_to_symlink(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    struct err *err = NULL;

    if (unpack_case(fx, "l4f", &res, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    assert_true(S_ISLNK(lst(fx, "s").st_mode));
    assert_true(S_ISREG(lst(fx, "x").st_mode)); /* replaced by the later file, link untouched */
    assert_confined(fx);

    /* a directory entry over this layer's own symlink replaces the link, never follows it */
    if (unpack_case(fx, "l3d", &res, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    assert_true(S_ISDIR(lst(fx, "d3").st_mode));
    assert_confined(fx);
}

static void assert_whiteout(struct fx *fx, const char *rel)
{
    struct stat st = lst(fx, rel);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(0, 0));
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_gid, 0);
}

static void assert_opaque(struct fx *fx, const char *rel, bool want)
{
    char v[4];
    ssize_t n = xattr_of(fx, rel, "trusted.overlay.opaque", v, sizeof(v));
    if (!want) {
        assert_int_equal(n, -1);
        return;
    }
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 'y');
}

static void test_whiteouts(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    struct err *err = NULL;

    if (unpack_case(fx, "wh", &res, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    assert_whiteout(fx, "a/foo");
    assert_false(exists(fx, "a/.wh.foo"));
    assert_true(S_ISREG(lst(fx, "a/bar").st_mode)); /* the layer's own file stays */
    assert_true(S_ISDIR(lst(fx, "d").st_mode));
    assert_opaque(fx, "d", true); /* its own dir stays, hiding the lower one */
    assert_true(S_ISDIR(lst(fx, "e").st_mode));
    assert_opaque(fx, "e", true);
    assert_opaque(fx, "a", false);
    _cleanup_free_ char *f = slurp(fx, "f");
    assert_string_equal(f, "f");
    assert_false(exists(fx, ".wh..wh.plnk"));

    /* L10: a whiteout of this layer's own symlink keeps the link; alone it is a 0:0 device */
    assert_int_equal(unpack_case(fx, "l10b", &res, &err), 0);
    assert_true(S_ISLNK(lst(fx, "localetc").st_mode));
    assert_confined(fx);
    assert_int_equal(unpack_case(fx, "l10c", &res, &err), 0);
    assert_whiteout(fx, "localetc");

    /* L12: an opaque marker at the root and in a dir; content after it stays */
    if (unpack_case(fx, "l12a", &res, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    assert_opaque(fx, ".", true);
    assert_opaque(fx, "a", true);
    assert_true(S_ISREG(lst(fx, "a/keep").st_mode));
    assert_false(exists(fx, ".wh..wh..opq"));
    assert_confined(fx);
}

/* CVE-2026-95838: 20000 opaque markers in one directory stay linear */
static void test_repeated_opaque(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    struct err *err = NULL;
    struct timespec t0, t1;

    reset_dest(fx);
    make_case(fx, "l12d");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (layer_unpack(fx->tar, fx->dest, NULL, &res, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    assert_opaque(fx, "d", true);
    assert_true(S_ISREG(lst(fx, "d/f").st_mode));
}

static void test_duplicates(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    struct err *err = NULL;

    if (unpack_case(fx, "dup", &res, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    _cleanup_free_ char *f = slurp(fx, "f");
    assert_string_equal(f, "two");
    assert_int_equal(lst(fx, "d").st_mode & 07777, 0711);
}

/* L13a: a 1 GiB sparse file unpacks as holes */
static void test_sparse(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    struct err *err = NULL;
    struct stat st;

    reset_dest(fx);
    tu_run("mkdir -p %1$s/layersrc && truncate -s 1G %1$s/layersrc/sp && "
           "printf data | dd of=%1$s/layersrc/sp bs=1 seek=5000000 conv=notrunc status=none && "
           "tar -C %1$s/layersrc --sparse -cf %2$s sp && rm -rf %1$s/layersrc",
           fx->base, fx->tar);
    if (layer_unpack(fx->tar, fx->dest, NULL, &res, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    st = lst(fx, "sp");
    assert_int_equal(st.st_size, 1LL << 30);
    assert_true(st.st_blocks * 512 < (1 << 20));
    assert_true(res.size < (1 << 20));
    char want[DIGEST_STR_LEN + 1];
    tu_sha256sum(fx->tar, want);
    assert_string_equal(res.diff_id, want);
}

/* L13b: a full disk is a clean ERR_SYSTEM/ENOSPC, fds released */
static void test_enospc(void **state)
{
    struct fx *fx = *state;
    struct layer_unpack_result res = {0};
    struct err *err = NULL;
    _cleanup_free_ char *small = xasprintf("%s/small", fx->base);

    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        skip();
    assert_int_equal(mkdir(small, 0755), 0);
    assert_int_equal(mount("tmpfs", small, "tmpfs", 0, "size=1m"), 0);
    make_case(fx, "big");
    int fds = tu_count_fds();
    assert_int_equal(layer_unpack(fx->tar, small, NULL, &res, &err), -1);
    assert_int_equal(err->kind, ERR_SYSTEM);
    assert_int_equal(err->errnum, ENOSPC);
    assert_non_null(strstr(err->msg, "\"big\""));
    err_freep(&err);
    assert_int_equal(tu_count_fds(), fds);
    assert_int_equal(umount(small), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_blobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hardlink_to_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_opaque, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
