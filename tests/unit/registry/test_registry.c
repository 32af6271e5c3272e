/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry module's pure parts: references (docker's normalisation table), manifests and
 * indexes (every malformed shape refused), platform selection, X-Registry-Auth decoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/registry/internal.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DG    "sha256:" HEX64

/* ---- references ------------------------------------------------------------------------ */

struct ref_case {
    const char *in;
    const char *domain, *path, *tag, *digest; /* domain NULL: must fail */
    const char *err;                          /* substring of the error */
};

static const struct ref_case ref_cases[] = {
    {"busybox", "docker.io", "library/busybox", "latest", NULL, NULL},
    {"busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, NULL},
    {"library/busybox", "docker.io", "library/busybox", "latest", NULL, NULL},
    {"docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, NULL},
    {"docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL, NULL},
    {"index.docker.io/foo/bar:x", "docker.io", "foo/bar", "x", NULL, NULL},
    {"index.docker.io/bar", "docker.io", "library/bar", "latest", NULL, NULL},
    {"foo/bar", "docker.io", "foo/bar", "latest", NULL, NULL},
    {"foo/bar/baz", "docker.io", "foo/bar/baz", "latest", NULL, NULL},
    {"127.0.0.1:5000/t/bb:1", "127.0.0.1:5000", "t/bb", "1", NULL, NULL},
    {"localhost/x", "localhost", "x", "latest", NULL, NULL},
    {"localhost:5000/x", "localhost:5000", "x", "latest", NULL, NULL},
    {"localhost:5000", "docker.io", "library/localhost", "5000", NULL, NULL},
    {"example.com/a/b/c", "example.com", "a/b/c", "latest", NULL, NULL},
    {"example.com:5000/foo:tag", "example.com:5000", "foo", "tag", NULL, NULL},
    {"[::1]:5000/foo", "[::1]:5000", "foo", "latest", NULL, NULL},
    {"Foo/bar", "Foo", "bar", "latest", NULL, NULL},
    {"foo--bar/a__b.c-d", "docker.io", "foo--bar/a__b.c-d", "latest", NULL, NULL},
    {"busybox:Tag_1.x-y", "docker.io", "library/busybox", "Tag_1.x-y", NULL, NULL},
    {"bb@" DG, "docker.io", "library/bb", NULL, DG, NULL},
    {"bb:1@" DG, "docker.io", "library/bb", "1", DG, NULL},
    {"127.0.0.1:5000/t/x@" DG, "127.0.0.1:5000", "t/x", NULL, DG, NULL},
    {"foo/Bar", NULL, NULL, NULL, NULL, "repository name must be lowercase"},
    {"Busybox", NULL, NULL, NULL, NULL, "repository name must be lowercase"},
    {"bb@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL, NULL, NULL,
     NULL, "invalid reference format"},
    {"bb@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", NULL, NULL, NULL,
     NULL, "invalid reference format"},
    {"bb@md5:0123456789abcdef0123456789abcdef", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"bb@sha256:../../../../tmp/x", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"", NULL, NULL, NULL, NULL, "invalid reference format"},
    {":tag", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"a b", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"-foo", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"foo-", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"foo___bar", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"foo..bar", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"foo:-tag", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"foo:", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"a/../b", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"a//b", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"foo/", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"example.com:/foo", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"-example.com/foo", NULL, NULL, NULL, NULL, "invalid reference format"},
    {"exa_mple.com/foo", NULL, NULL, NULL, NULL, "invalid reference format"},
    {HEX64, NULL, NULL, NULL, NULL, "cannot specify 64-byte hexadecimal strings"},
};

static void test_ref_table(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(ref_cases); i++) {
        const struct ref_case *tc = &ref_cases[i];
        struct reg_ref r;
        struct err *e = NULL;
        int rc = reg_ref_parse(tc->in, true, &r, &e);
        if (!tc->domain) {
            if (rc == 0)
                fail_msg("'%s' parsed but must fail", tc->in);
            assert_int_equal(e->kind, ERR_INVALID);
            if (!strstr(e->msg, tc->err))
                fail_msg("'%s': error '%s' lacks '%s'", tc->in, e->msg, tc->err);
            err_free(e);
            continue;
        }
        if (rc != 0)
            fail_msg("'%s' failed: %s", tc->in, e->msg);
        assert_string_equal(r.domain, tc->domain);
        assert_string_equal(r.path, tc->path);
        if (tc->tag)
            assert_string_equal(r.tag, tc->tag);
        else
            assert_null(r.tag);
        if (tc->digest)
            assert_string_equal(r.digest, tc->digest);
        else
            assert_null(r.digest);
        reg_ref_release(&r);
    }
}

static void test_ref_lengths(void **state)
{
    char tag[140], name[300];
    memset(tag, 'a', sizeof(tag));
    struct reg_ref r;
    struct err *e = NULL;
    /* a 128-character tag is fine, 129 is not */
    snprintf(name, sizeof(name), "bb:%.128s", tag);
    assert_int_equal(reg_ref_parse(name, true, &r, &e), 0);
    reg_ref_release(&r);
    snprintf(name, sizeof(name), "bb:%.129s", tag);
    assert_int_equal(reg_ref_parse(name, true, &r, &e), -1);
    err_free(e);
    e = NULL;
    /* docker.io/ + 245 = 255 is fine; one more is not */
    memset(name, 'a', sizeof(name));
    memcpy(name, "docker.io/x/", 12);
    name[255] = '\0';
    assert_int_equal(reg_ref_parse(name, true, &r, &e), 0);
    reg_ref_release(&r);
    name[255] = 'a';
    name[256] = '\0';
    assert_int_equal(reg_ref_parse(name, true, &r, &e), -1);
    assert_non_null(strstr(e->msg, "255"));
    err_free(e);
}

static void test_ref_strings(void **state)
{
    struct reg_ref r;
    struct err *e = NULL;
    assert_int_equal(reg_ref_parse("busybox", true, &r, &e), 0);
    char *s = reg_ref_string(&r), *f = reg_ref_familiar(&r), *fr = reg_ref_familiar_repo(&r);
    assert_string_equal(s, "docker.io/library/busybox:latest");
    assert_string_equal(f, "busybox:latest");
    assert_string_equal(fr, "busybox");
    free(s), free(f), free(fr);
    reg_ref_release(&r);

    assert_int_equal(reg_ref_parse("busybox", false, &r, &e), 0);
    assert_null(r.tag);
    reg_ref_release(&r);

    assert_int_equal(reg_ref_parse("foo/bar@" DG, true, &r, &e), 0);
    f = reg_ref_familiar(&r);
    assert_string_equal(f, "foo/bar@" DG);
    free(f);
    struct reg_ref c;
    reg_ref_copy(&r, &c);
    s = reg_ref_repo(&c);
    assert_string_equal(s, "docker.io/foo/bar");
    free(s);
    reg_ref_release(&c);
    reg_ref_release(&r);

    assert_int_equal(reg_ref_parse("docker.io/library/a/b", true, &r, &e), 0);
    f = reg_ref_familiar(&r);
    assert_string_equal(f, "library/a/b:latest");
    free(f);
    reg_ref_release(&r);

    assert_int_equal(reg_ref_parse("127.0.0.1:5000/t/bb:1", true, &r, &e), 0);
    f = reg_ref_familiar(&r);
    assert_string_equal(f, "127.0.0.1:5000/t/bb:1");
    free(f);
    reg_ref_release(&r);

    assert_true(reg_tag_valid("latest"));
    assert_true(reg_tag_valid("_x"));
    assert_false(reg_tag_valid(".x"));
    assert_false(reg_tag_valid(""));
    assert_false(reg_tag_valid(NULL));
}

/* ---- manifests ------------------------------------------------------------------------- */

#define CFG                                                                                        \
    "{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" DG           \
    "\",\"size\":10}"
#define LAYER                                                                                      \
    "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" DG        \
    "\",\"size\":20}"
#define OCFG                                                                                       \
    "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DG "\",\"size\":"  \
    "10}"
#define OLAYER                                                                                     \
    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" DG              \
    "\",\"size\":20}"

static const char schema2[] = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST
                              "\",\"config\":" CFG ",\"layers\":[" LAYER "," LAYER "]}";
static const char oci[] = "{\"schemaVersion\":2,\"config\":" OCFG ",\"layers\":[" OLAYER "]}";
static const char oci_index[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG "\",\"size\":5,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
static const char docker_list[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
    "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" DG "\",\"size\":5,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}";

static int parse(const char *body, const char *ct, struct reg_manifest **m, struct reg_index **idx,
                 struct err **e)
{
    return reg_manifest_parse(body, strlen(body), ct, m, idx, e);
}

static void test_manifest_good(void **state)
{
    struct reg_manifest *m;
    struct reg_index *idx;
    struct err *e = NULL;
    assert_int_equal(parse(schema2, MT_DOCKER_MANIFEST, &m, &idx, &e), 0);
    assert_null(idx);
    assert_string_equal(m->media_type, MT_DOCKER_MANIFEST);
    assert_int_equal(m->nlayers, 2);
    assert_int_equal(m->config.size, 10);
    assert_int_equal(m->layers[1].size, 20);
    assert_int_equal(m->raw_len, strlen(schema2));
    char d[DIGEST_STR_LEN + 1];
    digest_buf(schema2, strlen(schema2), d);
    assert_string_equal(m->digest, d);
    reg_manifest_free(m);

    /* Content-Type with parameters and odd case */
    assert_int_equal(
        parse(schema2, "Application/VND.docker.distribution.manifest.v2+json; x=y", &m, &idx, &e),
        0);
    reg_manifest_free(m);

    /* OCI without mediaType: from Content-Type, or the OCI default for generic types */
    assert_int_equal(parse(oci, MT_OCI_MANIFEST, &m, &idx, &e), 0);
    assert_string_equal(m->media_type, MT_OCI_MANIFEST);
    reg_manifest_free(m);
    assert_int_equal(parse(oci, "application/json", &m, &idx, &e), 0);
    assert_string_equal(m->media_type, MT_OCI_MANIFEST);
    reg_manifest_free(m);
    assert_int_equal(parse(oci, NULL, &m, &idx, &e), 0);
    reg_manifest_free(m);

    assert_int_equal(parse(oci_index, MT_OCI_INDEX, &m, &idx, &e), 0);
    assert_null(m);
    assert_int_equal(idx->n, 1);
    assert_string_equal(idx->entries[0].os, "linux");
    assert_string_equal(idx->entries[0].arch, "amd64");
    assert_null(idx->entries[0].variant);
    reg_index_free(idx);

    assert_int_equal(parse(docker_list, MT_DOCKER_LIST, &m, &idx, &e), 0);
    assert_string_equal(idx->entries[0].variant, "v8");
    reg_index_free(idx);
}

struct bad_case {
    const char *body;
    const char *ct;
    const char *err;
};

static const struct bad_case bad_cases[] = {
    {"{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", NULL, "schema 1"},
    {"{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", MT_DOCKER_V1_JWS, "schema 1"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[]}", MT_DOCKER_V1_JWS, "schema 1"},
    {"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[],\"layers\":[" LAYER
     "]}",
     NULL, "ambiguous"},
    {"{\"schemaVersion\":2,\"manifests\":[],\"config\":" CFG "}", NULL, "ambiguous"},
    {"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":" CFG
     ",\"layers\":[]}",
     MT_OCI_INDEX, "does not match"},
    {"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":" CFG
     ",\"layers\":[]}",
     MT_OCI_MANIFEST, "does not match"},
    {"{\"schemaVersion\":2,\"config\":" OCFG ",\"layers\":[]}", MT_OCI_INDEX, "does not match"},
    {"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"config\":" CFG ",\"layers\":[]}",
     NULL, "does not match"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[]}", MT_DOCKER_MANIFEST,
     "mediaType missing"},
    {"{\"schemaVersion\":2,\"mediaType\":\"text/html\",\"config\":" CFG ",\"layers\":[]}", NULL,
     "unsupported manifest media type"},
    {"{\"schemaVersion\":2,\"mediaType\":7,\"config\":" CFG ",\"layers\":[]}", NULL,
     "mediaType must be a string"},
    {"{\"schemaVersion\":3,\"config\":" CFG ",\"layers\":[]}", NULL, "schemaVersion"},
    {"{\"schemaVersion\":\"2\",\"config\":" CFG ",\"layers\":[]}", NULL, "schemaVersion"},
    {"{\"config\":" CFG ",\"layers\":[]}", NULL, "schemaVersion"},
    {"{\"schemaVersion\":2}", NULL, "neither"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":\"x\"}", NULL, "layers must be an array"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":null}", NULL, "layers must be an array"},
    {"{\"schemaVersion\":2,\"config\":null,\"layers\":[]}", NULL, "config must be an object"},
    {"{\"schemaVersion\":2,\"layers\":[]}", NULL, "config must be an object"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[null]}", NULL, "must be an object"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"application/"
     "vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:../../../../tmp/x\",\"size\":1}]}",
     NULL, "invalid digest"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"application/"
     "vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:0123456789ABCDEF0123456789abcdef0123456789"
     "abcdef0123456789abcdef\",\"size\":1}]}",
     NULL, "invalid digest"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"application/"
     "vnd.oci.image.layer.v1.tar\",\"digest\":\"md5:0123456789abcdef0123456789abcdef\","
     "\"size\":1}]}",
     NULL, "invalid digest"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"application/"
     "vnd.oci.image.layer.v1.tar\",\"digest\":\"" DG "\",\"size\":-1}]}",
     NULL, "size must be"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"application/"
     "vnd.oci.image.layer.v1.tar\",\"digest\":\"" DG "\",\"size\":\"1\"}]}",
     NULL, "size must be"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"application/"
     "vnd.oci.image.layer.v1.tar\",\"digest\":\"" DG "\",\"size\":1.5}]}",
     NULL, "size must be"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"application/"
     "vnd.oci.image.layer.v1.tar\",\"digest\":\"" DG "\",\"size\":9223372036854775808}]}",
     NULL, "invalid manifest"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"application/"
     "vnd.oci.image.layer.v1.tar\",\"digest\":\"" DG "\",\"size\":null}]}",
     NULL, "size must be"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":null,\"digest\":\"" DG
     "\",\"size\":1}]}",
     NULL, "mediaType must be a non-empty string"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"digest\":\"" DG "\",\"size\":1}]}",
     NULL, "missing mediaType"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[{\"mediaType\":\"text/plain\","
     "\"digest\":\"" DG "\",\"size\":1}]}",
     NULL, "unsupported layer media type"},
    {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\","
     "\"digest\":\"" DG "\",\"size\":1},\"layers\":[]}",
     NULL, "unsupported image config media type"},
    {"{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[]}", NULL,
     "invalid manifest"},
    {"[1,2]", NULL, "not a JSON object"},
    {"", NULL, "invalid manifest"},
    {"{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[]", NULL, "invalid manifest"},
    {"{\"schemaVersion\":2,\"manifests\":\"x\"}", NULL, "manifests must be an array"},
    {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG
     "\",\"size\":1,\"platform\":\"linux\"}]}",
     NULL, "platform must be an object"},
    {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG
     "\",\"size\":1,\"platform\":{\"os\":5}}]}",
     NULL, "os must be"},
    {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST
     "\",\"digest\":\"sha256:x\",\"size\":1}]}",
     NULL, "invalid digest"},
};

static void test_manifest_bad(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        const struct bad_case *tc = &bad_cases[i];
        struct reg_manifest *m = (void *)1;
        struct reg_index *idx = (void *)1;
        struct err *e = NULL;
        if (parse(tc->body, tc->ct, &m, &idx, &e) == 0)
            fail_msg("case %zu parsed: %s", i, tc->body);
        assert_null(m);
        assert_null(idx);
        assert_true(e->kind == ERR_INVALID);
        if (!strstr(e->msg, tc->err))
            fail_msg("case %zu: '%s' lacks '%s'", i, e->msg, tc->err);
        err_free(e);
    }
}

static void test_manifest_limits(void **state)
{
    struct sb sb = SB_INIT;
    sb_adds(&sb, "{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[");
    for (int i = 0; i < 1001; i++)
        sb_addf(&sb, "%s" LAYER, i ? "," : "");
    sb_adds(&sb, "]}");
    struct reg_manifest *m;
    struct reg_index *idx;
    struct err *e = NULL;
    assert_int_equal(reg_manifest_parse(sb.buf, sb.len, NULL, &m, &idx, &e), -1);
    assert_non_null(strstr(e->msg, "more than 1000 layers"));
    err_free(e);
    e = NULL;
    sb_release(&sb);

    /* invalid UTF-8 inside a string */
    static const char bad_utf8[] =
        "{\"schemaVersion\":2,\"config\":" CFG ",\"layers\":[],\"x\":\"\xff\xfe\"}";
    assert_int_equal(parse(bad_utf8, NULL, &m, &idx, &e), -1);
    err_free(e);
    e = NULL;

    /* over the 4 MiB cap */
    size_t big = (4u << 20) + 1;
    char *b = xmalloc(big);
    memset(b, ' ', big);
    assert_int_equal(reg_manifest_parse(b, big, NULL, &m, &idx, &e), -1);
    assert_int_equal(e->kind, ERR_TOO_LARGE);
    err_free(e);
    free(b);
}

static void test_index_find(void **state)
{
    static const char body[] =
        "{\"schemaVersion\":2,\"manifests\":["
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG "\",\"size\":1},"
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG "\",\"size\":2,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG "\",\"size\":3,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG "\",\"size\":4,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG "\",\"size\":5,"
        "\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG "\",\"size\":6,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DG "\",\"size\":7,"
        "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";
    struct reg_manifest *m;
    struct reg_index *idx;
    struct err *e = NULL;
    assert_int_equal(parse(body, MT_OCI_INDEX, &m, &idx, &e), 0);
    struct {
        struct reg_platform p;
        int64_t size; /* 0: no match */
    } cases[] = {
        {{"linux", "amd64", NULL}, 6},  {{NULL, NULL, NULL}, 6},
        {{"linux", "x86_64", NULL}, 6}, {{"linux", "arm64", NULL}, 2},
        {{"linux", "arm64", "v8"}, 2},  {{"linux", "aarch64", NULL}, 2},
        {{"linux", "arm", "v6"}, 4},    {{"linux", "arm", NULL}, 3},
        {{"linux", "arm", "v7"}, 3},    {{"linux", "arm", "v5"}, 0},
        {{"linux", "s390x", NULL}, 0},  {{"windows", "amd64", NULL}, 5},
        {{"linux", "arm64", "v9"}, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct reg_index_entry *en = reg_index_find(idx, &cases[i].p);
        if (!cases[i].size)
            assert_null(en);
        else if (!en || en->desc.size != cases[i].size)
            fail_msg("platform case %zu picked %lld", i, en ? (long long)en->desc.size : -1LL);
    }
    reg_index_free(idx);
}

/* ---- X-Registry-Auth and helpers -------------------------------------------------------- */

static char *b64url(const char *s, bool pad)
{
    char *b = b64_encode(s, strlen(s), false);
    for (char *p = b; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    if (!pad) {
        char *eq = strchr(b, '=');
        if (eq)
            *eq = '\0';
    }
    return b;
}

static void test_auth_decode(void **state)
{
    struct reg_auth a;
    const char *anon[] = {NULL, "", "e30=", "e30", "!!!!", "bm90IGpzb24=", "W10=", "a"};
    for (size_t i = 0; i < ARRAY_SIZE(anon); i++) {
        reg_auth_decode(anon[i], &a);
        assert_null(a.username);
        assert_null(a.password);
        assert_null(a.identity_token);
        assert_null(a.registry_token);
        assert_null(a.server_address);
        reg_auth_release(&a);
    }
    /* "??>" makes '/' and '+' in standard base64, so base64url differs */
    const char *json = "{\"username\":\"u?\?>\",\"password\":\"p>>?\","
                       "\"serveraddress\":\"127.0.0.1:5000\",\"email\":\"\"}";
    for (int pad = 0; pad < 2; pad++) {
        char *h = b64url(json, pad);
        reg_auth_decode(h, &a);
        assert_string_equal(a.username, "u?\?>");
        assert_string_equal(a.password, "p>>?");
        assert_string_equal(a.server_address, "127.0.0.1:5000");
        reg_auth_release(&a);
        free(h);
    }
    char *h = b64_encode(json, strlen(json), false); /* standard alphabet is accepted too */
    reg_auth_decode(h, &a);
    assert_string_equal(a.username, "u?\?>");
    reg_auth_release(&a);
    free(h);

    h = b64url("{\"auth\":\"dXNlcjpwYTpzcw==\"}", true); /* user:pa:ss */
    reg_auth_decode(h, &a);
    assert_string_equal(a.username, "user");
    assert_string_equal(a.password, "pa:ss");
    reg_auth_release(&a);
    free(h);

    h = b64url("{\"identitytoken\":\"rt\",\"registrytoken\":\"bt\",\"username\":5}", false);
    reg_auth_decode(h, &a);
    assert_null(a.username);
    assert_string_equal(a.identity_token, "rt");
    assert_string_equal(a.registry_token, "bt");
    reg_auth_release(&a);
    free(h);
}

static void test_helpers(void **state)
{
    char *v = reg_challenge_param("realm=\"https://auth.docker.io/token\",service=\"registry."
                                  "docker.io\",scope=\"repository:library/busybox:pull\"",
                                  "service");
    assert_string_equal(v, "registry.docker.io");
    free(v);
    v = reg_challenge_param("realm=\"https://a/t\", Scope=x,error=\"insufficient_scope\"", "scope");
    assert_string_equal(v, "x");
    free(v);
    assert_null(reg_challenge_param("realm=\"x\"", "service"));
    assert_null(reg_challenge_param("", "realm"));

    const char *eb =
        "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}";
    char *m = reg_errors_message(eb, strlen(eb));
    assert_string_equal(m, "manifest unknown: manifest unknown");
    free(m);
    assert_null(reg_errors_message("<html>", 6));
    assert_null(reg_errors_message("{\"errors\":[]}", 13));

    char *t = NULL, *r = NULL;
    long exp = 0;
    struct err *e = NULL;
    const char *tb = "{\"access_token\":\"abc\",\"expires_in\":300,\"refresh_token\":\"rr\"}";
    assert_int_equal(reg_token_parse(tb, strlen(tb), &t, &r, &exp, &e), 0);
    assert_string_equal(t, "abc");
    assert_string_equal(r, "rr");
    assert_int_equal(exp, 300);
    free(t), free(r);
    tb = "{\"token\":\"a b\"}";
    assert_int_equal(reg_token_parse(tb, strlen(tb), &t, &r, &exp, &e), -1);
    err_free(e);
    e = NULL;
    tb = "{\"token\":5}";
    assert_int_equal(reg_token_parse(tb, strlen(tb), &t, &r, &exp, &e), -1);
    err_free(e);

    char *esc = reg_url_escape("repository:a/b:pull");
    assert_string_equal(esc, "repository%3Aa%2Fb%3Apull");
    free(esc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_table),    cmocka_unit_test(test_ref_lengths),
        cmocka_unit_test(test_ref_strings),  cmocka_unit_test(test_manifest_good),
        cmocka_unit_test(test_manifest_bad), cmocka_unit_test(test_manifest_limits),
        cmocka_unit_test(test_index_find),   cmocka_unit_test(test_auth_decode),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
