/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layer_pack and layer_changes: trees made with shell commands under a private /tmp directory,
 * packed, unpacked again with layer_unpack and compared entry by entry. Runs as root (owners,
 * device nodes, trusted.* xattrs, a tmpfs in a private mount namespace).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <cmocka.h>

#include "daemon/layer/layer.h"
#include "tests/unit/testutil.h"

struct fx {
    char base[64];
    char src[96];
    char dest[96];
    char tar[96];
};

static int setup(void **state)
{
    struct fx *fx = xcalloc(1, sizeof(*fx));
    tu_mkdtemp(fx->base, sizeof(fx->base), "pack");
    tu_path(fx->src, sizeof(fx->src), fx->base, "src", 0755);
    tu_path(fx->dest, sizeof(fx->dest), fx->base, "dest", 0755);
    tu_path(fx->tar, sizeof(fx->tar), fx->base, "layer.tar", 0);
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

/* Packs dir (or anything) at path into fx->tar; returns the diff-id through out. */
static int pack_path(struct fx *fx, const char *path, const struct layer_pack_opts *o,
                     char out[DIGEST_STR_LEN + 1], int64_t *size, struct err **err)
{
    int top = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    assert_true(top >= 0);
    int fd = open(fx->tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    int r = layer_pack(top, fd, o, out, size, err);
    close(fd);
    close(top);
    return r;
}

/* The tar's member list as "tar -tv" would not show it: name and type letter per line. */
static char *listing(struct fx *fx)
{
    _cleanup_free_ char *cmd = xasprintf(
        "python3 -c 'import tarfile,sys\n"
        "for m in tarfile.open(sys.argv[1]): print(m.name, m.type.decode(), m.linkname)' %s",
        fx->tar);
    FILE *p = popen(cmd, "r");
    struct sb sb = SB_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        sb_add(&sb, buf, n);
    assert_int_equal(pclose(p), 0);
    return sb_steal(&sb);
}

/* ---- tree comparison --------------------------------------------------------------------- */

static void cmp_xattrs(const char *a, const char *b)
{
    static const char *const names[] = {"user.one", "user.two", "security.capability"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        char va[256], vb[256];
        ssize_t la = lgetxattr(a, names[i], va, sizeof(va));
        ssize_t lb = lgetxattr(b, names[i], vb, sizeof(vb));
        if (la != lb || (la > 0 && memcmp(va, vb, (size_t)la) != 0))
            fail_msg("xattr %s differs: %s vs %s", names[i], a, b);
    }
    char v[8];
    assert_int_equal(lgetxattr(b, "trusted.overlay.opaque", v, sizeof(v)) >= 0,
                     lgetxattr(a, "trusted.overlay.opaque", v, sizeof(v)) >= 0);
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static size_t dir_names(const char *dir, char **v, size_t max)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && n < max)
            v[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof(*v), name_cmp);
    return n;
}

static void cmp_tree_at(const char *a, const char *b, bool top);

static void cmp_tree_dir(const char *a, const char *b)
{
    char *na[64], *nb[64];
    size_t n = dir_names(a, na, 64), m = dir_names(b, nb, 64);
    assert_int_equal(n, m);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(na[i], nb[i]);
        _cleanup_free_ char *ca = xasprintf("%s/%s", a, na[i]);
        _cleanup_free_ char *cb = xasprintf("%s/%s", b, nb[i]);
        cmp_tree_at(ca, cb, false);
        free(na[i]);
        free(nb[i]);
    }
}

/* top: the roots themselves, whose times and modes the archive does not carry */
static void cmp_tree_at(const char *a, const char *b, bool top)
{
    struct stat sa, sb;
    assert_int_equal(lstat(a, &sa), 0);
    if (lstat(b, &sb) < 0)
        fail_msg("missing after the round trip: %s", b);
    bool whiteout = S_ISCHR(sa.st_mode) && sa.st_rdev == makedev(0, 0);
    if (top)
        return cmp_tree_dir(a, b);
    if (sa.st_mode != sb.st_mode || sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)
        fail_msg("%s: mode/owner %o %u:%u vs %o %u:%u", b, sa.st_mode, sa.st_uid, sa.st_gid,
                 sb.st_mode, sb.st_uid, sb.st_gid);
    if (!S_ISLNK(sa.st_mode) && !whiteout && sa.st_mtim.tv_sec != sb.st_mtim.tv_sec)
        fail_msg("%s: mtime %ld vs %ld", b, (long)sa.st_mtim.tv_sec, (long)sb.st_mtim.tv_sec);
    if (!S_ISLNK(sa.st_mode))
        cmp_xattrs(a, b);
    if (S_ISREG(sa.st_mode)) {
        assert_int_equal(sa.st_size, sb.st_size);
        tu_run("cmp -s '%s' '%s'", a, b);
    } else if (S_ISLNK(sa.st_mode)) {
        char ta[256] = {0}, tb[256] = {0};
        assert_true(readlink(a, ta, sizeof(ta) - 1) > 0);
        assert_true(readlink(b, tb, sizeof(tb) - 1) > 0);
        assert_string_equal(ta, tb);
    } else if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) {
        assert_int_equal(sa.st_rdev, sb.st_rdev);
    } else if (S_ISDIR(sa.st_mode)) {
        cmp_tree_dir(a, b);
    }
}

static void cmp_tree(const char *a, const char *b)
{
    cmp_tree_at(a, b, true);
}

/* A tree with every kind of entry, owners, modes, xattrs and fixed times. */
static void setx(const char *dir, const char *rel, const char *name, const char *value)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
    if (lsetxattr(p, name, value, strlen(value), 0) < 0)
        fail_msg("setxattr %s %s: %s", p, name, strerror(errno));
}

static void make_tree(const char *d)
{
    tu_run("cd %s && mkdir -p a/b 'sp ace' && printf hello > a/b/f && printf x > 'sp ace/ü' && "
           "chown 1000:2000 a/b/f && chmod 4750 a/b/f && "
           "dd if=/dev/urandom of=big bs=64k count=20 status=none && "
           "printf link > h1 && ln h1 a/h2 && ln -s ../h1 a/sym && ln -s /etc/passwd esc && "
           "mknod a/null c 1 3 && mkfifo a/fifo && chmod 0600 a/fifo && chown 5:6 a && "
           "chmod 0700 'sp ace'",
           d);
    setx(d, "a/b/f", "user.one", "v1");
    setx(d, "a", "user.two", "v2");
    setx(d, "a/b/f", "trusted.secret", "no");
    tu_run("cd %s && find . -exec touch -h -d @1000000000 {} +", d);
}

static void test_round_trip(void **state)
{
    struct fx *fx = *state;
    char diff[DIGEST_STR_LEN + 1], file_hash[DIGEST_STR_LEN + 1];
    int64_t size = 0;
    struct err *err = NULL;
    make_tree(fx->src);
    struct layer_pack_opts o = {0};
    assert_int_equal(pack_path(fx, fx->src, &o, diff, &size, &err), 0);
    tu_sha256sum(fx->tar, file_hash);
    assert_string_equal(diff, file_hash);
    assert_int_equal(size, 5 + 1 + 20 * 65536 + 4); /* h1 and a/h2 counted once */
    struct layer_unpack_result res;
    assert_int_equal(layer_unpack(fx->tar, fx->dest, NULL, &res, &err), 0);
    assert_string_equal(res.diff_id, diff);
    cmp_tree(fx->src, fx->dest);
    /* hardlinks stay hardlinks; trusted.* never leaves; the symlink is not followed */
    struct stat h1, h2;
    _cleanup_free_ char *p1 = xasprintf("%s/h1", fx->dest);
    _cleanup_free_ char *p2 = xasprintf("%s/a/h2", fx->dest);
    _cleanup_free_ char *pf = xasprintf("%s/a/b/f", fx->dest);
    assert_int_equal(stat(p1, &h1), 0);
    assert_int_equal(stat(p2, &h2), 0);
    assert_int_equal(h1.st_ino, h2.st_ino);
    char v[8];
    assert_int_equal(lgetxattr(pf, "trusted.secret", v, sizeof(v)), -1);
    _cleanup_free_ char *list = listing(fx);
    assert_non_null(strstr(list, "esc 2 /etc/passwd\n"));
    assert_null(strstr(list, "root:"));
    /* entries are sorted and the root itself is not an entry */
    assert_true(strncmp(list, "a 5", 3) == 0);
}

static void test_determinism(void **state)
{
    struct fx *fx = *state;
    char d1[DIGEST_STR_LEN + 1], d2[DIGEST_STR_LEN + 1];
    struct err *err = NULL;
    make_tree(fx->src);
    struct layer_pack_opts o = {0};
    assert_int_equal(pack_path(fx, fx->src, &o, d1, NULL, &err), 0);
    /* reading the files and a new inode order (same content) change nothing */
    tu_run("cat %s/big > /dev/null && cd %s && cp -a big big2 && rm big && mv big2 big && "
           "touch -d @1000000000 .",
           fx->src, fx->src);
    assert_int_equal(pack_path(fx, fx->src, &o, d2, NULL, &err), 0);
    assert_string_equal(d1, d2);
    tu_run("echo more >> %s/a/b/f", fx->src);
    assert_int_equal(pack_path(fx, fx->src, &o, d2, NULL, &err), 0);
    assert_string_not_equal(d1, d2);
}

static void test_diff_whiteouts(void **state)
{
    struct fx *fx = *state;
    char diff[DIGEST_STR_LEN + 1];
    struct err *err = NULL;
    tu_run("cd %s && mkdir -p opq/keep etc && printf n > opq/new && mknod -m 000 etc/gone c 0 0 && "
           "mknod -m 000 gone2 c 0 0 && printf s > etc/kept",
           fx->src);
    setx(fx->src, "opq", "trusted.overlay.opaque", "y");
    struct layer_pack_opts o = {.diff = true};
    assert_int_equal(pack_path(fx, fx->src, &o, diff, NULL, &err), 0);
    _cleanup_free_ char *list = listing(fx);
    assert_non_null(strstr(list, "etc/.wh.gone 0 \n"));
    assert_non_null(strstr(list, ".wh.gone2 0 \n"));
    assert_non_null(strstr(list, "opq 5 \nopq/.wh..wh..opq 0 \nopq/keep 5 \nopq/new 0 \n"));
    assert_null(strstr(list, "3 \n")); /* no character device left in the layer */
    struct layer_unpack_result res;
    assert_int_equal(layer_unpack(fx->tar, fx->dest, NULL, &res, &err), 0);
    /* unpacking gives the overlay form back: the same tree */
    cmp_tree(fx->src, fx->dest);
    /* without diff the devices are devices */
    o.diff = false;
    assert_int_equal(pack_path(fx, fx->src, &o, diff, NULL, &err), 0);
    free(list);
    list = listing(fx);
    assert_non_null(strstr(list, "etc/gone 3 \n"));
    assert_null(strstr(list, ".wh."));
}

static void test_name_rebase(void **state)
{
    struct fx *fx = *state;
    char diff[DIGEST_STR_LEN + 1];
    struct err *err = NULL;
    tu_run("cd %s && mkdir -p d/e && printf 1 > d/e/f && printf 2 > file && ln -s d/e lnk",
           fx->src);
    _cleanup_free_ char *d = xasprintf("%s/d", fx->src);
    struct layer_pack_opts o = {.name = "copied"};
    assert_int_equal(pack_path(fx, d, &o, diff, NULL, &err), 0);
    _cleanup_free_ char *l1 = listing(fx);
    assert_string_equal(l1, "copied 5 \ncopied/e 5 \ncopied/e/f 0 \n");
    _cleanup_free_ char *f = xasprintf("%s/file", fx->src);
    o.name = "renamed";
    assert_int_equal(pack_path(fx, f, &o, diff, NULL, &err), 0);
    _cleanup_free_ char *l2 = listing(fx);
    assert_string_equal(l2, "renamed 0 \n");
    _cleanup_free_ char *l = xasprintf("%s/lnk", fx->src);
    o.name = "lnk";
    assert_int_equal(pack_path(fx, l, &o, diff, NULL, &err), 0);
    _cleanup_free_ char *l3 = listing(fx);
    assert_string_equal(l3, "lnk 2 d/e\n");
    /* a file cannot be packed as the archive root */
    o.name = NULL;
    assert_int_equal(pack_path(fx, f, &o, diff, NULL, &err), -1);
    assert_int_equal(err->kind, ERR_INVALID);
    err_free(err);
}

static void test_one_filesystem(void **state)
{
    struct fx *fx = *state;
    char diff[DIGEST_STR_LEN + 1];
    struct err *err = NULL;
    if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        skip(); /* needs root for a private mount namespace */
        return;
    }
    tu_run("mkdir -p %s/mnt %s/keep && printf k > %s/keep/k && printf host > %s/hostfile", fx->src,
           fx->src, fx->src, fx->base);
    _cleanup_free_ char *mnt = xasprintf("%s/mnt", fx->src);
    assert_int_equal(mount("tmpfs", mnt, "tmpfs", 0, "mode=0751"), 0);
    tu_run("printf secret > %s/secret && touch %s/keep/bound", mnt, fx->src);
    _cleanup_free_ char *hostfile = xasprintf("%s/hostfile", fx->base);
    _cleanup_free_ char *bound = xasprintf("%s/keep/bound", fx->src);
    assert_int_equal(mount(hostfile, bound, NULL, MS_BIND, NULL), 0);
    struct layer_pack_opts o = {.one_filesystem = true};
    assert_int_equal(pack_path(fx, fx->src, &o, diff, NULL, &err), 0);
    _cleanup_free_ char *l1 = listing(fx);
    assert_string_equal(l1, "keep 5 \nkeep/bound 0 \nkeep/k 0 \nmnt 5 \n");
    tu_run("python3 -c 'import tarfile,sys\n"
           "t=tarfile.open(sys.argv[1]); m=t.getmember(\"mnt\"); b=t.getmember(\"keep/bound\")\n"
           "assert m.mode == 0o751 and b.size == 0, (oct(m.mode), b.size)' %s",
           fx->tar);
    o.one_filesystem = false;
    assert_int_equal(pack_path(fx, fx->src, &o, diff, NULL, &err), 0);
    _cleanup_free_ char *l2 = listing(fx);
    assert_non_null(strstr(l2, "mnt/secret 0 \n"));
    umount2(bound, MNT_DETACH);
    umount2(mnt, MNT_DETACH);
}

static void test_epipe(void **state)
{
    struct fx *fx = *state;
    char diff[DIGEST_STR_LEN + 1];
    struct err *err = NULL;
    int p[2];
    tu_run("dd if=/dev/zero of=%s/z bs=1M count=2 status=none", fx->src);
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    close(p[0]);
    int top = open(fx->src, O_PATH | O_CLOEXEC);
    struct layer_pack_opts o = {0};
    assert_int_equal(layer_pack(top, p[1], &o, diff, NULL, &err), -1);
    assert_int_equal(err->kind, ERR_SYSTEM);
    assert_int_equal(err->errnum, EPIPE);
    err_free(err);
    close(top);
    close(p[1]);
}

/* The runtime's mount points stay out of a commit, and so does a directory holding only them. */
static void test_skip(void **state)
{
    struct fx *fx = *state;
    char diff[DIGEST_STR_LEN + 1];
    struct err *err = NULL;
    tu_run("cd %s && mkdir -p etc proc keep && touch etc/hostname etc/hosts keep/hosts && "
           "printf x > keep/x",
           fx->src);
    static const char *const skip[] = {"etc/hostname", "etc/hosts", "proc", NULL};
    int top = open(fx->src, O_PATH | O_CLOEXEC);
    int fd = open(fx->tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct layer_pack_opts o = {.diff = true};
    assert_int_equal(layer_pack_filtered(top, fd, &o, skip, diff, NULL, &err), 0);
    close(fd);
    _cleanup_free_ char *l1 = listing(fx);
    assert_string_equal(l1, "keep 5 \nkeep/hosts 0 \nkeep/x 0 \n");
    /* with something else in it, the directory is a change again */
    tu_run("printf p > %s/etc/passwd", fx->src);
    fd = open(fx->tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_int_equal(layer_pack_filtered(top, fd, &o, skip, diff, NULL, &err), 0);
    close(fd);
    close(top);
    _cleanup_free_ char *l2 = listing(fx);
    assert_string_equal(l2, "etc 5 \netc/passwd 0 \nkeep 5 \nkeep/hosts 0 \nkeep/x 0 \n");
    /* an empty diff is the 1024-byte empty tar dockerd knows as the empty layer */
    tu_run("rm -rf %s/etc/passwd %s/keep", fx->src, fx->src);
    top = open(fx->src, O_PATH | O_CLOEXEC);
    fd = open(fx->tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_int_equal(layer_pack_filtered(top, fd, &o, skip, diff, NULL, &err), 0);
    close(fd);
    close(top);
    assert_string_equal(diff,
                        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
}

/*
 * layer_pack_unpack (docker commit): the tree it writes is the tree the packed tar unpacks to,
 * its diff-id is the packed tar's, and packing the result again gives the same bytes (what
 * docker save of a committed layer relies on).
 */
static void test_pack_unpack(void **state)
{
    struct fx *fx = *state;
    char diff[DIGEST_STR_LEN + 1], again[DIGEST_STR_LEN + 1];
    struct err *err = NULL;
    make_tree(fx->src);
    tu_run("cd %s && mkdir -p opq/keep && printf n > opq/new && mknod -m 000 a/gone c 0 0 && "
           "find . -exec touch -h -d @1000000000 {} +",
           fx->src);
    setx(fx->src, "opq", "trusted.overlay.opaque", "y");
    struct layer_pack_opts o = {.diff = true};
    assert_int_equal(pack_path(fx, fx->src, &o, diff, NULL, &err), 0);
    int top = open(fx->src, O_PATH | O_CLOEXEC);
    int dest = open(fx->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct layer_unpack_result res = {0};
    assert_int_equal(layer_pack_unpack(top, &o, NULL, dest, &res, &err), 0);
    assert_string_equal(res.diff_id, diff);
    assert_int_equal(res.size, 5 + 1 + 20 * 65536 + 4 + 1);
    cmp_tree(fx->src, fx->dest); /* whiteouts and the opaque dir in overlay form again */
    assert_int_equal(pack_path(fx, fx->dest, &o, again, NULL, &err), 0);
    assert_string_equal(again, diff);
    /* skipped entries stay out, and the diff-id is layer_pack_filtered's */
    static const char *const skip[] = {"sp ace", "a/b", NULL};
    int fd = open(fx->tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_int_equal(layer_pack_filtered(top, fd, &o, skip, diff, NULL, &err), 0);
    close(fd);
    tu_run("rm -rf %s && mkdir %s", fx->dest, fx->dest);
    close(dest);
    dest = open(fx->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_int_equal(layer_pack_unpack(top, &o, skip, dest, &res, &err), 0);
    assert_string_equal(res.diff_id, diff);
    _cleanup_free_ char *gone = xasprintf("%s/a/b", fx->dest);
    struct stat st;
    assert_int_equal(lstat(gone, &st), -1);
    close(dest);
    close(top);
}

/* Either side failing fails the whole copy with the cause, and nothing hangs. */
static void test_pack_unpack_errors(void **state)
{
    struct fx *fx = *state;
    struct err *err = NULL;
    struct layer_unpack_result res = {0};
    struct layer_pack_opts o = {.diff = true};
    /* the packer fails: its message, not the unpacker's view of a cut stream */
    tu_run("printf x > %s/file", fx->src);
    _cleanup_free_ char *file = xasprintf("%s/file", fx->src);
    int top = open(file, O_PATH | O_CLOEXEC);
    int dest = open(fx->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_int_equal(layer_pack_unpack(top, &o, NULL, dest, &res, &err), -1);
    assert_non_null(strstr(err->msg, "only a directory can be packed without a name"));
    err_free(err);
    err = NULL;
    close(top);
    /* the unpacker fails (a directory is never replaced by a file) while the packer still
     * has megabytes to write: the unpacker's error, and the packer ends on EPIPE */
    tu_run("dd if=/dev/zero of=%s/a bs=1M count=8 status=none && mkdir %s/a", fx->src, fx->dest);
    top = open(fx->src, O_PATH | O_CLOEXEC);
    assert_int_equal(layer_pack_unpack(top, &o, NULL, dest, &res, &err), -1);
    assert_int_equal(err->kind, ERR_INVALID);
    assert_null(strstr(err->msg, "pipe"));
    err_free(err);
    close(top);
    close(dest);
}

/* ---- changes ----------------------------------------------------------------------------- */

static char *changes_text(const char *upper, const char *const *lowers, size_t n,
                          const char *const *skip)
{
    struct layer_change *v = NULL;
    size_t nv = 0;
    struct err *err = NULL;
    assert_int_equal(layer_changes(upper, lowers, n, skip, &v, &nv, &err), 0);
    struct sb sb = SB_INIT;
    for (size_t i = 0; i < nv; i++)
        sb_addf(&sb, "%c %s\n", "CAD"[v[i].kind], v[i].path);
    layer_changes_free(v, nv);
    return sb_steal(&sb);
}

static void test_changes(void **state)
{
    struct fx *fx = *state;
    /* lower1 below lower0 (top); upper is what a container wrote */
    tu_run("cd %s && mkdir -p l1/bin l1/etc l1/root l1/old/sub l1/same l1/gone-dir l0/etc "
           "l0/newdir up && printf sh > l1/bin/sh && printf vi > l1/bin/vi && "
           "printf p > l1/etc/passwd && printf o > l1/old/sub/x && printf z > l1/same/z && "
           "mknod l0/gone-dir c 0 0 && "
           "touch -d @1000 l1/bin l1/etc l1/root l1/old l1/same l0/etc",
           fx->base);
    /* the container: rm /bin/vi, echo > /root/new, rm -rf /old && mkdir /old && touch
     * /old/y, touch /same/z (a copy-up), a new /gone-dir (the lower deleted it), /etc only
     * has the runtime's mount point, and the dir-sorted walk order of "a-b" and "a/" */
    tu_run("cd %s/up && mkdir -p bin root old same gone-dir etc a a-b && mknod bin/vi c 0 0 && "
           "printf n > root/new && printf y > old/y && printf zz > same/z && touch etc/hostname && "
           "printf 1 > a/x && "
           "printf 2 > a-b/x && touch -d @1000 same && touch -d @2000 bin root etc",
           fx->base);
    _cleanup_free_ char *up = xasprintf("%s/up", fx->base);
    setx(up, "old", "trusted.overlay.opaque", "y");
    _cleanup_free_ char *l0 = xasprintf("%s/l0", fx->base);
    _cleanup_free_ char *l1 = xasprintf("%s/l1", fx->base);
    const char *lowers[] = {l0, l1};
    const char *skip[] = {"etc/hostname", NULL};
    _cleanup_free_ char *text = changes_text(up, lowers, 2, skip);
    assert_string_equal(text, "A /a\n"
                              "A /a/x\n"
                              "A /a-b\n"
                              "A /a-b/x\n"
                              "C /bin\n"
                              "D /bin/vi\n"
                              "A /gone-dir\n"
                              "D /old\n"
                              "A /old/y\n"
                              "C /root\n"
                              "A /root/new\n"
                              "C /same/z\n");
    /* without the skip list, the mount point is a change like any other */
    _cleanup_free_ char *all = changes_text(up, lowers, 2, NULL);
    assert_non_null(strstr(all, "C /etc\nA /etc/hostname\n"));
    /* an unchanged parent is listed before an added child; a missing upper dir is no change */
    tu_run("cd %s && touch -d @1000 up/root", fx->base);
    _cleanup_free_ char *again = changes_text(up, lowers, 2, skip);
    assert_non_null(strstr(again, "C /root\nA /root/new\n"));
    _cleanup_free_ char *missing = xasprintf("%s/nope", fx->base);
    _cleanup_free_ char *none = changes_text(missing, lowers, 2, NULL);
    assert_string_equal(none, "");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_determinism, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_whiteouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_rebase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_unpack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_unpack_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        /* last: it moves the test into its own mount namespace */
        cmocka_unit_test_setup_teardown(test_one_filesystem, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
