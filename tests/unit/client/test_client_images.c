/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "client/images.h"

/* ---- references ------------------------------------------------------------------------- */

static void check_ref(const char *in, const char *full, const char *name, const char *familiar)
{
    struct cli_ref r;
    struct err *err = NULL;
    assert_int_equal(cli_ref_parse(in, &r, &err), 0);
    char *s = cli_ref_string(&r), *n = cli_ref_name(&r), *f = cli_ref_familiar(&r);
    assert_string_equal(s, full);
    assert_string_equal(n, name);
    assert_string_equal(f, familiar);
    free(s);
    free(n);
    free(f);
    cli_ref_release(&r);
}

static void check_ref_error(const char *in, const char *msg)
{
    struct cli_ref r;
    struct err *err = NULL;
    assert_int_equal(cli_ref_parse(in, &r, &err), -1);
    assert_int_equal(err->kind, ERR_INVALID);
    assert_string_equal(err->msg, msg);
    err_free(err);
}

#define D64 "e1aff5b59b1d1d66985153ec8619d90183527595c688c7c9eaf0c45c9433c363"

static void test_ref_normalise(void **state)
{
    check_ref("busybox", "docker.io/library/busybox", "docker.io/library/busybox", "busybox");
    check_ref("busybox:1.36", "docker.io/library/busybox:1.36", "docker.io/library/busybox",
              "busybox");
    check_ref("myrepo/bb:v1", "docker.io/myrepo/bb:v1", "docker.io/myrepo/bb", "myrepo/bb");
    check_ref("index.docker.io/library/alpine", "docker.io/library/alpine",
              "docker.io/library/alpine", "alpine");
    check_ref("docker.io/library/a/b", "docker.io/library/a/b", "docker.io/library/a/b",
              "library/a/b");
    check_ref("127.0.0.1:5000/test/busybox:latest", "127.0.0.1:5000/test/busybox:latest",
              "127.0.0.1:5000/test/busybox", "127.0.0.1:5000/test/busybox");
    check_ref("localhost/x", "localhost/x", "localhost/x", "localhost/x");
    check_ref("Registry.Example.com/a__b-c.d--e/f:T_a.g-1",
              "Registry.Example.com/a__b-c.d--e/f:T_a.g-1", "Registry.Example.com/a__b-c.d--e/f",
              "Registry.Example.com/a__b-c.d--e/f");
    check_ref("busybox@sha256:" D64, "docker.io/library/busybox@sha256:" D64,
              "docker.io/library/busybox", "busybox");
    check_ref("busybox:1@sha256:" D64, "docker.io/library/busybox:1@sha256:" D64,
              "docker.io/library/busybox", "busybox");
    check_ref("[::1]:5000/x:y", "[::1]:5000/x:y", "[::1]:5000/x", "[::1]:5000/x");
}

static void test_ref_errors(void **state)
{
    check_ref_error("Busybox", "invalid reference format: repository name (library/Busybox) must "
                               "be lowercase");
    check_ref_error("", "invalid reference format");
    check_ref_error("a b", "invalid reference format");
    check_ref_error("busybox:", "invalid reference format");
    check_ref_error("busybox:-x", "invalid reference format");
    check_ref_error("a//b", "invalid reference format");
    check_ref_error("a_-b", "invalid reference format");
    check_ref_error("x@sha256:abc", "invalid reference format");
    check_ref_error("x@sha256:" D64 "00", "invalid checksum digest length");
    check_ref_error("x@md5:" D64, "unsupported digest algorithm");
    check_ref_error(D64, "invalid repository name (" D64
                         "), cannot specify 64-byte hexadecimal strings");
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    check_ref_error(longname, "repository name must not be more than 255 characters");
}

/* ---- rendering helpers ------------------------------------------------------------------ */

static void check_dur(int64_t s, const char *want)
{
    char out[64];
    cli_human_duration(s, out);
    assert_string_equal(out, want);
}

static void test_durations(void **state)
{
    int64_t h = 3600, d = 24 * h;
    check_dur(0, "Less than a second");
    check_dur(-5, "Less than a second");
    check_dur(1, "1 second");
    check_dur(59, "59 seconds");
    check_dur(60, "About a minute");
    check_dur(119, "About a minute");
    check_dur(35 * 60 + 40, "35 minutes");
    check_dur(h, "About an hour");
    check_dur(h + 29 * 60, "About an hour");
    check_dur(h + 31 * 60, "2 hours");
    check_dur(3 * h + 60 * 60, "4 hours");
    check_dur(d + 12 * h, "36 hours");
    check_dur(2 * d, "2 days");
    check_dur(13 * d + 5 * h, "13 days");
    check_dur(14 * d, "2 weeks");
    check_dur(30 * d, "4 weeks");
    check_dur(30 * d + 14 * d, "6 weeks");
    check_dur(60 * d, "2 months");
    check_dur(24 * 30 * d, "24 months");
    check_dur(24 * 30 * d + 14 * d, "2 years");
    check_dur(3 * 365 * d + 60 * d, "3 years");
    char since[80];
    cli_created_since(1000, 1000 + 3 * 60, since);
    assert_string_equal(since, "3 minutes ago");
}

static void test_ids_and_ellipsis(void **state)
{
    char id[13];
    cli_trunc_id("sha256:" D64, id);
    assert_string_equal(id, "e1aff5b59b1d");
    cli_trunc_id("<missing>", id);
    assert_string_equal(id, "<missing>");
    char *e = cli_ellipsis("short", 45);
    assert_string_equal(e, "short");
    free(e);
    e = cli_ellipsis("/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aa in /", 45);
    assert_string_equal(e, "/bin/sh -c #(nop) ADD file:7e9002edaafd4e457\xe2\x80\xa6");
    free(e);
    e = cli_ellipsis("\xc3\xa9\xc3\xa9\xc3\xa9", 2);
    assert_string_equal(e, "\xc3\xa9\xe2\x80\xa6");
    free(e);
}

static void test_json_indent(void **state)
{
    const char *src = " {\"a\":[1, 2,{}],\"b\":{\"c\":\"x,:{\\\"\"},\"d\":[],\"e\":null}";
    struct sb out = SB_INIT;
    struct err *err = NULL;
    assert_int_equal(cli_json_indent(src, strlen(src), "    ", &out, &err), 0);
    assert_string_equal(sb_str(&out),
                        "{\n    \"a\": [\n        1,\n        2,\n        {}\n    ],\n"
                        "    \"b\": {\n        \"c\": \"x,:{\\\"\"\n    },\n"
                        "    \"d\": [],\n    \"e\": null\n}");
    sb_release(&out);
    assert_int_equal(cli_json_indent("{x", 2, "    ", &out, &err), -1);
    err_freep(&err);
    sb_release(&out);
}

static void test_escapes(void **state)
{
    struct sb sb = SB_INIT;
    cli_query_escape("docker.io/library/alpine", &sb);
    assert_string_equal(sb_str(&sb), "docker.io%2Flibrary%2Falpine");
    sb_reset(&sb);
    cli_query_escape("a b~c_d-e.f:g{\"h\":true}", &sb);
    assert_string_equal(sb_str(&sb), "a+b~c_d-e.f%3Ag%7B%22h%22%3Atrue%7D");
    sb_reset(&sb);
    cli_path_escape("127.0.0.1:5000/x/y:z@sha256:1 ?#%", &sb);
    assert_string_equal(sb_str(&sb), "127.0.0.1:5000/x/y:z@sha256:1%20%3F%23%25");
    sb_release(&sb);
}

/* ---- the progress stream ---------------------------------------------------------------- */

static const char pull_stream[] =
    "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\n"
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"aaa\"}\n"
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"bbb\"}\n"
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":50,\"total\":100},"
    "\"progress\":\"ignored\",\"id\":\"aaa\"}\n"
    "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"aaa\"}\n"
    "{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"bbb\"}\n"
    "\n"
    "{\"status\":\"Digest: sha256:x\"}\n"
    "{\"status\":\"Status: Downloaded newer image for busybox:latest\"}";

/* Feeds the stream in pieces of step bytes and returns what was printed. */
static char *render(const char *stream, size_t step, bool tty, int width, char **error)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cli_jm jm;
    struct err *err = NULL;
    cli_jm_init(&jm, f, tty, width);
    size_t n = strlen(stream);
    for (size_t off = 0; off < n; off += step)
        assert_int_equal(cli_jm_feed(&jm, stream + off, off + step > n ? n - off : step, &err), 0);
    assert_int_equal(cli_jm_finish(&jm, &err), 0);
    *error = jm.error ? xstrdup(jm.error) : NULL;
    cli_jm_release(&jm);
    fclose(f);
    return buf;
}

static void test_jm_plain_across_chunks(void **state)
{
    const char *want = "latest: Pulling from library/busybox\n"
                       "aaa: Pulling fs layer\n"
                       "bbb: Pulling fs layer\n"
                       "aaa: Download complete\n"
                       "bbb: Already exists\n"
                       "Digest: sha256:x\n"
                       "Status: Downloaded newer image for busybox:latest\n";
    for (size_t step = 1; step < 40; step += 7) {
        char *error = NULL;
        char *out = render(pull_stream, step, false, 200, &error);
        assert_string_equal(out, want);
        assert_null(error);
        free(out);
    }
}

static void test_jm_tty(void **state)
{
    char *error = NULL;
    char *out = render(pull_stream, 5, true, 80, &error);
    const char *want = "latest: Pulling from library/busybox\n"
                       "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B"
                       "\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B"
                       "\x1b[2A\x1b[2K\raaa: Downloading      50B/100B\r\x1b[2B"
                       "\x1b[2A\x1b[2K\raaa: Download complete \r\x1b[2B"
                       "\x1b[1A\x1b[2K\rbbb: Already exists \r\x1b[1B"
                       "Digest: sha256:x\n"
                       "Status: Downloaded newer image for busybox:latest\n";
    assert_string_equal(out, want);
    free(out);
    /* A wide terminal gets the bar. */
    out = render(pull_stream, 64, true, 150, &error);
    assert_non_null(strstr(out, "aaa: Downloading [=========================>"
                                "                         ]      50B/100B\r"));
    free(out);
}

static void test_jm_error_and_stream(void **state)
{
    char *error = NULL;
    char *out = render("{\"status\":\"a\"}\n{\"errorDetail\":{\"message\":\"unknown blob\"},"
                       "\"error\":\"unknown blob\"}\n{\"status\":\"after\"}\n",
                       3, false, 200, &error);
    assert_string_equal(out, "a\n");
    assert_string_equal(error, "unknown blob");
    free(out);
    free(error);
    out = render("{\"stream\":\"Loaded image: busybox:latest\\n\"}\r\n", 100, false, 200, &error);
    assert_string_equal(out, "Loaded image: busybox:latest\n");
    assert_null(error);
    free(out);

    /* Malformed JSON and over-long lines are errors. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cli_jm jm;
    struct err *err = NULL;
    cli_jm_init(&jm, f, false, 200);
    assert_int_equal(cli_jm_feed(&jm, "{nope}\n", 7, &err), -1);
    err_freep(&err);
    cli_jm_release(&jm);
    cli_jm_init(&jm, f, false, 200);
    char *big = xmalloc(CLI_JM_MAX_LINE + 2);
    memset(big, 'x', CLI_JM_MAX_LINE + 1);
    assert_int_equal(cli_jm_feed(&jm, big, CLI_JM_MAX_LINE + 1, &err), -1);
    assert_int_equal(err->kind, ERR_TOO_LARGE);
    err_freep(&err);
    free(big);
    cli_jm_release(&jm);
    fclose(f);
    free(buf);
}

/* ---- credentials ------------------------------------------------------------------------ */

static void test_base64(void **state)
{
    char *s = b64_encode("{}", 2, true);
    assert_string_equal(s, "e30=");
    free(s);
    s = b64_encode("user:pass", 9, false);
    assert_string_equal(s, "dXNlcjpwYXNz");
    free(s);
    s = b64_encode("\xfb\xff", 2, true);
    assert_string_equal(s, "-_8=");
    free(s);
    size_t n = 0;
    s = b64_decode("dXNlcjpwYXNz", &n);
    assert_int_equal(n, 9);
    assert_memory_equal(s, "user:pass", 9);
    free(s);
    assert_null(b64_decode("a", &n));
    assert_null(b64_decode("a*bc", &n));
}

static void test_registry_auth(void **state)
{
    char dir[] = "/tmp/berth-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/config.json", dir);
    char *a = cli_registry_auth(path, "docker.io");
    assert_string_equal(a, "e30="); /* no file */
    free(a);
    FILE *f = fopen(path, "w");
    fputs("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dXNlcjpwYXNz\"},"
          "\"http://reg:5000/\":{\"auth\":\"YTpi\"}}}",
          f);
    fclose(f);
    a = cli_registry_auth(path, "docker.io");
    size_t n = 0;
    char *plain = b64_decode(a, &n);
    assert_string_equal(plain, "{\"username\":\"user\",\"password\":\"pass\",\"serveraddress\":"
                               "\"https://index.docker.io/v1/\"}");
    free(plain);
    free(a);
    a = cli_registry_auth(path, "reg:5000");
    plain = b64_decode(a, &n);
    assert_string_equal(
        plain, "{\"username\":\"a\",\"password\":\"b\",\"serveraddress\":\"http://reg:5000/\"}");
    free(plain);
    free(a);
    a = cli_registry_auth(path, "other:1");
    assert_string_equal(a, "e30=");
    free(a);
    assert_string_equal(cli_auth_key("docker.io"), "https://index.docker.io/v1/");
    assert_string_equal(cli_auth_key("reg:5000"), "reg:5000");
    char *h = cli_auth_hostname("https://reg:5000/v2/");
    assert_string_equal(h, "reg:5000");
    free(h);
    unlink(path);
    rmdir(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_normalise),
        cmocka_unit_test(test_ref_errors),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_ids_and_ellipsis),
        cmocka_unit_test(test_json_indent),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_jm_plain_across_chunks),
        cmocka_unit_test(test_jm_tty),
        cmocka_unit_test(test_jm_error_and_stream),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_registry_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
