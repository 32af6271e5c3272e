/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client on a real libuv loop against fake_registry.py on 127.0.0.1 (plain HTTP, which
 * also exercises the insecure https -> http fallback): resolve by tag, by digest, through an
 * index; blobs good and bad; bearer and basic auth; redirects without credentials; stalls,
 * cancellation and freeing the client mid-transfer.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>

#include "daemon/registry/internal.h"

struct srv {
    pid_t pid;
    FILE *pipe;
    int port;
    char manifest[80], index[80], layer[80], config[80], big[80];
    int64_t layer_size, config_size, big_size;
    char tmpdir[64];
};

static struct srv S;

static int setup(void **state)
{
    S.pipe = popen("exec python3 " FAKE_REGISTRY, "r");
    if (!S.pipe)
        return -1;
    char line[4096];
    if (!fgets(line, sizeof(line), S.pipe))
        return -1;
    json_auto_t *j = json_loads(line, 0, NULL);
    if (!j)
        return -1;
    S.pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
    S.port = (int)json_integer_value(json_object_get(j, "port"));
    snprintf(S.manifest, sizeof(S.manifest), "%s",
             json_string_value(json_object_get(j, "manifest")));
    snprintf(S.index, sizeof(S.index), "%s", json_string_value(json_object_get(j, "index")));
    snprintf(S.layer, sizeof(S.layer), "%s", json_string_value(json_object_get(j, "layer")));
    snprintf(S.config, sizeof(S.config), "%s", json_string_value(json_object_get(j, "config")));
    S.layer_size = json_integer_value(json_object_get(j, "layer_size"));
    S.config_size = json_integer_value(json_object_get(j, "config_size"));
    snprintf(S.big, sizeof(S.big), "%s", json_string_value(json_object_get(j, "big")));
    S.big_size = json_integer_value(json_object_get(j, "big_size"));
    snprintf(S.tmpdir, sizeof(S.tmpdir), "/tmp/berth-regtest-XXXXXX");
    if (!mkdtemp(S.tmpdir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    kill(S.pid, SIGTERM);
    pclose(S.pipe);
    rmdir(S.tmpdir);
    return 0;
}

/* ---- a loop per test ------------------------------------------------------------------- */

struct fx {
    uv_loop_t loop;
    struct reg_client *c;
    uv_timer_t guard;
    uv_timer_t later;
    struct reg_op *op;
    int ndone;
    struct reg_manifest *m;
    struct err *e;
    char *identity;
    int nprogress;
    int64_t last_progress;
    char path[128];
};

static void on_guard(uv_timer_t *t)
{
    fail_msg("test timed out");
}

static struct fx *fx_new(unsigned low_speed_time)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    uv_loop_init(&f->loop);
    struct reg_config cfg = {.user_agent = "berth-test", .low_speed_time = low_speed_time};
    f->c = reg_client_new(&f->loop, &cfg);
    uv_timer_init(&f->loop, &f->guard);
    uv_timer_init(&f->loop, &f->later);
    f->later.data = f;
    uv_timer_start(&f->guard, on_guard, 20000, 0);
    uv_unref((uv_handle_t *)&f->guard);
    static int n;
    snprintf(f->path, sizeof(f->path), "%s/blob-%d", S.tmpdir, n++);
    return f;
}

static void run_until_done(struct fx *f, int want)
{
    while (f->ndone < want)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static void fx_free(struct fx *f)
{
    reg_client_free(f->c);
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_close((uv_handle_t *)&f->later, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0); /* every handle closed */
    reg_manifest_free(f->m);
    err_free(f->e);
    free(f->identity);
    free(f);
}

static void keep_err(struct fx *f, const struct err *err)
{
    if (err) {
        f->e = xcalloc(1, sizeof(*f->e));
        f->e->kind = err->kind;
        f->e->msg = xstrdup(err->msg);
    }
}

static void on_manifest(struct reg_manifest *m, const struct err *err, void *data)
{
    struct fx *f = data;
    f->ndone++;
    f->m = m;
    keep_err(f, err);
}

static void on_progress(int64_t cur, int64_t total, void *data)
{
    struct fx *f = data;
    assert_true(cur >= f->last_progress);
    f->last_progress = cur;
    f->nprogress++;
}

static void on_blob(const struct err *err, void *data)
{
    struct fx *f = data;
    f->ndone++;
    keep_err(f, err);
}

static void on_login(const struct err *err, const char *identity, void *data)
{
    struct fx *f = data;
    f->ndone++;
    keep_err(f, err);
    f->identity = identity ? xstrdup(identity) : NULL;
}

static void parse_ref(const char *fmt, struct reg_ref *r, ...)
{
    va_list ap;
    va_start(ap, r);
    _cleanup_free_ char *s = xvasprintf(fmt, ap);
    va_end(ap);
    struct err *e = NULL;
    if (reg_ref_parse(s, true, r, &e) < 0)
        fail_msg("%s: %s", s, e->msg);
}

static struct fx *resolve(const char *repo_ref, const struct reg_auth *auth)
{
    struct fx *f = fx_new(0);
    struct reg_ref r;
    parse_ref("127.0.0.1:%d/%s", &r, S.port, repo_ref);
    struct reg_platform p = {.os = "linux", .arch = "amd64"};
    f->op = reg_resolve(f->c, &r, auth, &p, on_manifest, f);
    reg_ref_release(&r);
    run_until_done(f, 1);
    return f;
}

/* A formatted string that lives until the next call (tests only). */
static const char *sf(const char *fmt, ...) _printf_(1, 2);
static const char *sf(const char *fmt, ...)
{
    static char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

static void expect_err(struct fx *f, enum err_kind kind, const char *sub)
{
    if (!f->e)
        fail_msg("expected an error containing '%s'", sub);
    if (!strstr(f->e->msg, sub) || f->e->kind != kind)
        fail_msg("error '%s' (kind %d) is not '%s' (kind %d)", f->e->msg, f->e->kind, sub, kind);
}

static long stat_of(const char *key)
{
    FILE *p = popen(sf("python3 -c \"import urllib.request as u;"
                       "print(u.urlopen('http://127.0.0.1:%d/stats').read().decode())\"",
                       S.port),
                    "r");
    char line[512] = "";
    assert_non_null(fgets(line, sizeof(line), p));
    pclose(p);
    json_auto_t *j = json_loads(line, 0, NULL);
    return (long)json_integer_value(json_object_get(j, key));
}

/* ---- resolve --------------------------------------------------------------------------- */

static void test_resolve_tag(void **state)
{
    struct fx *f = resolve("t/x:1", NULL);
    if (f->e)
        fail_msg("%s", f->e->msg);
    assert_string_equal(f->m->digest, S.manifest);
    assert_string_equal(f->m->manifest_digest, S.manifest);
    assert_int_equal(f->m->nlayers, 1);
    assert_string_equal(f->m->layers[0].digest, S.layer);
    assert_string_equal(f->m->config.digest, S.config);
    assert_true(reg_client_plain(f->c, "127.0.0.1:0") == false);
    fx_free(f);
}

static void test_resolve_digest(void **state)
{
    struct fx *f = resolve(sf("t/x@%s", S.manifest), NULL);
    assert_null(f->e);
    assert_string_equal(f->m->digest, S.manifest);
    fx_free(f);
    /* bad/x serves the same bytes whatever is asked: another digest must not verify */
    f = resolve(sf("bad/x@%s", S.manifest), NULL);
    assert_null(f->e);
    fx_free(f);
    f = resolve(sf("bad/x@%s", S.config), NULL);
    expect_err(f, ERR_INVALID, "manifest verification failed for digest");
    assert_null(f->m);
    fx_free(f);
}

static void test_resolve_index(void **state)
{
    struct fx *f = resolve("t/x:multi", NULL);
    if (f->e)
        fail_msg("%s", f->e->msg);
    assert_string_equal(f->m->digest, S.index);
    assert_string_equal(f->m->manifest_digest, S.manifest);
    fx_free(f);

    /* arm64 entry's bytes do not match the index's digest */
    f = fx_new(0);
    struct reg_ref r;
    parse_ref("127.0.0.1:%d/t/x:multi", &r, S.port);
    struct reg_platform p = {.os = "linux", .arch = "arm64"};
    reg_resolve(f->c, &r, NULL, &p, on_manifest, f);
    run_until_done(f, 1);
    expect_err(f, ERR_NOT_FOUND, "manifest for"); /* the arm64 child is not in the registry */
    fx_free(f);

    f = fx_new(0);
    struct reg_platform q = {.os = "linux", .arch = "s390x"};
    reg_resolve(f->c, &r, NULL, &q, on_manifest, f);
    run_until_done(f, 1);
    expect_err(f, ERR_NOT_FOUND,
               "no matching manifest for linux/s390x in the manifest list entries");
    reg_ref_release(&r);
    fx_free(f);
}

static void test_resolve_errors(void **state)
{
    struct fx *f = resolve("t/x:nope", NULL);
    expect_err(f, ERR_NOT_FOUND, "manifest unknown");
    assert_non_null(strstr(f->e->msg, "not found"));
    fx_free(f);
    f = resolve("ctype/x:1", NULL); /* Content-Type says index, body is a manifest */
    expect_err(f, ERR_INVALID, "does not match");
    fx_free(f);
    f = resolve("basic/x:1", NULL); /* no credentials */
    expect_err(f, ERR_UNAUTHORIZED, "unauthorized: authentication required");
    fx_free(f);

    /* connection refused: a port nobody listens on */
    f = fx_new(0);
    struct reg_ref r;
    parse_ref("127.0.0.1:1/t/x:1", &r);
    reg_resolve(f->c, &r, NULL, NULL, on_manifest, f);
    reg_ref_release(&r);
    run_until_done(f, 1);
    expect_err(f, ERR_UNAVAILABLE, "Get \"http://127.0.0.1:1/v2/t/x/manifests/1\"");
    fx_free(f);
}

static void test_auth(void **state)
{
    struct reg_auth anon = {0};
    struct fx *f = resolve("bearer/x:1", &anon);
    if (f->e)
        fail_msg("%s", f->e->msg);
    /* a second resolve on the same client uses the cached token */
    struct reg_ref r;
    parse_ref("127.0.0.1:%d/bearer/x:1", &r, S.port);
    reg_resolve(f->c, &r, NULL, NULL, on_manifest, f);
    reg_manifest_free(f->m);
    f->m = NULL;
    run_until_done(f, 2);
    assert_null(f->e);
    assert_int_equal(stat_of("token"), 1);
    reg_ref_release(&r);
    fx_free(f);

    struct reg_auth good = {.username = "user", .password = "pa ss"};
    struct reg_auth bad = {.username = "user", .password = "nope"};
    f = resolve("bearer/x:1", &good);
    assert_null(f->e);
    fx_free(f);
    f = resolve("bearer/x:1", &bad);
    expect_err(f, ERR_UNAUTHORIZED, "incorrect username or password");
    fx_free(f);
    f = resolve("basic/x:1", &good);
    assert_null(f->e);
    fx_free(f);
    f = resolve("basic/x:1", &bad);
    expect_err(f, ERR_UNAUTHORIZED, "unauthorized: authentication required");
    fx_free(f);
}

static void test_login(void **state)
{
    struct fx *f = fx_new(0);
    _cleanup_free_ char *addr = xasprintf("127.0.0.1:%d", S.port);
    struct reg_auth good = {.username = "user", .password = "pa ss", .server_address = addr};
    reg_login(f->c, &good, on_login, f);
    run_until_done(f, 1);
    assert_null(f->e);
    assert_null(f->identity);
    struct reg_auth bad = {.username = "user", .password = "x", .server_address = addr};
    reg_login(f->c, &bad, on_login, f);
    run_until_done(f, 2);
    expect_err(f, ERR_UNAUTHORIZED, "login attempt to http://127.0.0.1");
    fx_free(f);
}

/* ---- blobs ----------------------------------------------------------------------------- */

static struct fx *fetch(const char *repo, unsigned low_speed, const struct reg_auth *auth)
{
    struct fx *f = fx_new(low_speed);
    struct reg_ref r;
    parse_ref("127.0.0.1:%d/%s", &r, S.port, repo);
    struct reg_desc d = {.media_type = "x", .digest = S.layer, .size = S.layer_size};
    struct reg_blob_ops ops = {.progress = on_progress, .done = on_blob};
    f->op = reg_fetch_blob(f->c, &r, auth, &d, f->path, &ops, f);
    reg_ref_release(&r);
    return f;
}

static void assert_gone(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_blob_good(void **state)
{
    struct fx *f = fetch("t/x", 0, NULL);
    run_until_done(f, 1);
    if (f->e)
        fail_msg("%s", f->e->msg);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(fsu_read_file(f->path, 1 << 20, &data, &len), 0);
    assert_int_equal(len, S.layer_size);
    char d[DIGEST_STR_LEN + 1];
    digest_buf(data, len, d);
    assert_string_equal(d, S.layer);
    free(data);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(f->nprogress >= 1);
    assert_int_equal(f->last_progress, S.layer_size);
    unlink(f->path);
    fx_free(f);

    /* the destination must be new */
    f = fetch("t/x", 0, NULL);
    int pre = open(f->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    close(pre);
    run_until_done(f, 1);
    expect_err(f, ERR_SYSTEM, "open");
    assert_int_equal(access(f->path, F_OK), 0); /* someone else's file stays */
    unlink(f->path);
    fx_free(f);
}

/* 48 MiB: several write chunks in flight, backpressure on the transfer. */
static void test_blob_big(void **state)
{
    struct fx *f = fx_new(0);
    struct reg_ref r;
    parse_ref("127.0.0.1:%d/t/x", &r, S.port);
    struct reg_desc d = {.media_type = "x", .digest = S.big, .size = S.big_size};
    struct reg_blob_ops ops = {.progress = on_progress, .done = on_blob};
    reg_fetch_blob(f->c, &r, NULL, &d, f->path, &ops, f);
    reg_ref_release(&r);
    run_until_done(f, 1);
    if (f->e)
        fail_msg("%s", f->e->msg);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(fsu_read_file(f->path, 64 << 20, &data, &len), 0);
    char dg[DIGEST_STR_LEN + 1];
    digest_buf(data, len, dg);
    assert_string_equal(dg, S.big);
    free(data);
    assert_int_equal(f->last_progress, S.big_size);
    assert_true(f->nprogress >= 2);
    unlink(f->path);
    fx_free(f);
}

static void test_blob_bad(void **state)
{
    const char *repos[] = {"tamper/x", "long/x", "short/x"};
    for (size_t i = 0; i < ARRAY_SIZE(repos); i++) {
        struct fx *f = fetch(repos[i], 0, NULL);
        run_until_done(f, 1);
        expect_err(f, ERR_INVALID, "filesystem layer verification failed for digest");
        assert_non_null(strstr(f->e->msg, S.layer));
        assert_gone(f->path);
        fx_free(f);
    }
    struct fx *f = fx_new(0);
    struct reg_ref r;
    parse_ref("127.0.0.1:%d/t/x", &r, S.port);
    struct reg_desc d = {.media_type = "x",
                         .digest = "sha256:00000000000000000000000000000000000000000000000000"
                                   "00000000000000",
                         .size = 3};
    struct reg_blob_ops ops = {.done = on_blob};
    reg_fetch_blob(f->c, &r, NULL, &d, f->path, &ops, f);
    reg_ref_release(&r);
    run_until_done(f, 1);
    expect_err(f, ERR_NOT_FOUND, "unknown blob");
    assert_gone(f->path);
    fx_free(f);
}

static void test_blob_redirect(void **state)
{
    struct reg_auth good = {.username = "user", .password = "pa ss"};
    struct fx *f = fetch("redir/x", 0, &good);
    run_until_done(f, 1);
    if (f->e)
        fail_msg("%s", f->e->msg);
    unlink(f->path);
    fx_free(f);
    /* the storage host saw no Authorization header */
    assert_true(stat_of("storage") >= 1);
    assert_int_equal(stat_of("storage_auth"), 0);
}

static void test_blob_stall(void **state)
{
    struct fx *f = fetch("stall/x", 2, NULL);
    uint64_t t0 = uv_hrtime();
    run_until_done(f, 1);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    assert_non_null(f->e);
    assert_int_equal(f->e->kind, ERR_UNAVAILABLE);
    assert_true(ms >= 1500 && ms < 10000);
    assert_gone(f->path);
    fx_free(f);
}

static void on_later_cancel(uv_timer_t *t)
{
    struct fx *f = t->data;
    reg_op_cancel(f->op);
}

static void test_blob_cancel(void **state)
{
    struct fx *f = fetch("stall/x", 0, NULL);
    uv_timer_start(&f->later, on_later_cancel, 300, 0);
    run_until_done(f, 1);
    expect_err(f, ERR_INTERNAL, "cancelled");
    assert_gone(f->path);
    fx_free(f);

    /* cancelled before it even started */
    f = fetch("t/x", 0, NULL);
    reg_op_cancel(f->op);
    run_until_done(f, 1);
    expect_err(f, ERR_INTERNAL, "cancelled");
    assert_gone(f->path);
    fx_free(f);
}

static void on_later_free(uv_timer_t *t)
{
    struct fx *f = t->data;
    reg_client_free(f->c);
    f->c = NULL;
}

static void test_client_free_midway(void **state)
{
    struct fx *f = fetch("stall/x", 0, NULL);
    struct reg_ref r;
    parse_ref("127.0.0.1:%d/t/x:1", &r, S.port);
    reg_resolve(f->c, &r, NULL, NULL, on_manifest, f);
    reg_ref_release(&r);
    uv_timer_start(&f->later, on_later_free, 300, 0);
    run_until_done(f, 2);
    assert_non_null(f->e);
    assert_gone(f->path);
    fx_free(f); /* reg_client_free(NULL) is a no-op; the loop must close cleanly */
}

static void test_parallel(void **state)
{
    struct fx *f = fx_new(0);
    struct reg_ref r;
    parse_ref("127.0.0.1:%d/t/x", &r, S.port);
    struct reg_desc d = {.media_type = "x", .digest = S.layer, .size = S.layer_size};
    struct reg_blob_ops ops = {.done = on_blob};
    char paths[8][160];
    for (int i = 0; i < 8; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s-%d", f->path, i);
        reg_fetch_blob(f->c, &r, NULL, &d, paths[i], &ops, f);
    }
    reg_ref_release(&r);
    run_until_done(f, 8);
    assert_null(f->e);
    for (int i = 0; i < 8; i++) {
        struct stat st;
        assert_int_equal(stat(paths[i], &st), 0);
        assert_int_equal(st.st_size, S.layer_size);
        unlink(paths[i]);
    }
    fx_free(f);
}

/*
 * Against a real registry (live_registry.sh sets BERTH_TEST_REGISTRY=host:port and
 * BERTH_TEST_REF=repo:tag): resolve, then fetch and verify the config and every layer. With
 * BERTH_TEST_EXPECT set, one of those steps must fail with that text instead.
 */
static void test_real_registry(void **state)
{
    const char *host = getenv("BERTH_TEST_REGISTRY"), *ref = getenv("BERTH_TEST_REF");
    const char *expect = getenv("BERTH_TEST_EXPECT");
    if (!host || !ref)
        skip();
    struct fx *f = fx_new(0);
    struct reg_ref r;
    parse_ref("%s/%s", &r, host, ref);
    struct reg_platform p = {.os = "linux", .arch = getenv("BERTH_TEST_ARCH")};
    reg_resolve(f->c, &r, NULL, &p, on_manifest, f);
    run_until_done(f, 1);
    if (f->e && expect && strstr(f->e->msg, expect)) {
        print_message("expected failure: %s\n", f->e->msg);
        reg_ref_release(&r);
        fx_free(f);
        return;
    }
    if (f->e)
        fail_msg("resolve: %s", f->e->msg);
    print_message("resolved %s: digest %s manifest %s, %zu layers\n", ref, f->m->digest,
                  f->m->manifest_digest, f->m->nlayers);
    struct reg_blob_ops ops = {.progress = on_progress, .done = on_blob};
    for (size_t i = 0; i <= f->m->nlayers; i++) {
        const struct reg_desc *d = i == 0 ? &f->m->config : &f->m->layers[i - 1];
        char path[200];
        snprintf(path, sizeof(path), "%s/real-%zu", S.tmpdir, i);
        f->ndone = 0;
        reg_fetch_blob(f->c, &r, NULL, d, path, &ops, f);
        run_until_done(f, 1);
        if (f->e && expect && strstr(f->e->msg, expect)) {
            print_message("expected failure: %s\n", f->e->msg);
            assert_gone(path);
            break;
        }
        if (f->e)
            fail_msg("blob %s: %s", d->digest, f->e->msg);
        print_message("fetched %s (%lld bytes)\n", d->digest, (long long)d->size);
        unlink(path);
    }
    if (expect && !f->e)
        fail_msg("expected a failure with '%s'", expect);
    reg_ref_release(&r);
    fx_free(f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_tag),
        cmocka_unit_test(test_resolve_digest),
        cmocka_unit_test(test_resolve_index),
        cmocka_unit_test(test_resolve_errors),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_blob_good),
        cmocka_unit_test(test_blob_big),
        cmocka_unit_test(test_blob_bad),
        cmocka_unit_test(test_blob_redirect),
        cmocka_unit_test(test_blob_stall),
        cmocka_unit_test(test_blob_cancel),
        cmocka_unit_test(test_client_free_midway),
        cmocka_unit_test(test_parallel),
        cmocka_unit_test(test_real_registry),
    };
    if (getenv("BERTH_TEST_REGISTRY")) { /* live_registry.sh: only the real-registry case */
        const struct CMUnitTest real[] = {cmocka_unit_test(test_real_registry)};
        return cmocka_run_group_tests(real, setup, teardown);
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
