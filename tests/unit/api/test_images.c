/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/units.h"

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    assert_non_null(s);
    return s;
}

#define ID "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- image summary ---------------------------------------------------------------------- */

static void test_summary_encode_144(void **state)
{
    char *tags[] = {"busybox:latest", NULL};
    char *digests[] = {"busybox@sha256:abc", NULL};
    struct api_image_summary s = {.id = ID,
                                  .parent_id = "",
                                  .repo_tags = tags,
                                  .repo_digests = digests,
                                  .created = 1700000000,
                                  .size = 4261550,
                                  .shared_size = -1,
                                  .containers = -1};
    json_auto_t *j = api_image_summary_encode(&s, 1044);
    char *txt = dump(j);
    assert_string_equal(txt, "{\"Containers\":-1,\"Created\":1700000000,\"Id\":\"" ID "\","
                             "\"Labels\":null,\"ParentId\":\"\","
                             "\"RepoDigests\":[\"busybox@sha256:abc\"],"
                             "\"RepoTags\":[\"busybox:latest\"],\"SharedSize\":-1,"
                             "\"Size\":4261550}");
    free(txt);
}

static void test_summary_untagged_by_version(void **state)
{
    struct api_image_summary s = {.id = ID, .size = 10, .containers = -1};
    json_auto_t *j44 = api_image_summary_encode(&s, 1044);
    assert_int_equal(json_array_size(json_object_get(j44, "RepoTags")), 0);
    assert_int_equal(json_array_size(json_object_get(j44, "RepoDigests")), 0);
    assert_null(json_object_get(j44, "VirtualSize"));
    assert_string_equal(json_string_value(json_object_get(j44, "ParentId")), "");

    json_auto_t *j43 = api_image_summary_encode(&s, 1043);
    assert_int_equal(json_array_size(json_object_get(j43, "RepoTags")), 0);
    assert_int_equal(json_integer_value(json_object_get(j43, "VirtualSize")), 10);

    json_auto_t *j41 = api_image_summary_encode(&s, 1041);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j41, "RepoTags"), 0)),
                        "<none>:<none>");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j41, "RepoDigests"), 0)),
                        "<none>@<none>");
    assert_int_equal(json_integer_value(json_object_get(j41, "VirtualSize")), 10);
}

static void test_summary_roundtrip(void **state)
{
    char *tags[] = {"a:1", "a:2", NULL};
    json_t *labels = json_pack("{s:s}", "maintainer", "me");
    struct api_image_summary s = {.id = ID,
                                  .parent_id = "sha256:p",
                                  .repo_tags = tags,
                                  .created = 5,
                                  .size = 7,
                                  .containers = 2,
                                  .labels = labels};
    json_auto_t *j = api_image_summary_encode(&s, 1044);
    json_decref(labels);
    struct api_image_summary out;
    struct err *err = NULL;
    assert_int_equal(api_image_summary_decode(j, &out, &err), 0);
    assert_string_equal(out.id, ID);
    assert_string_equal(out.parent_id, "sha256:p");
    assert_string_equal(out.repo_tags[1], "a:2");
    assert_null(out.repo_tags[2]);
    assert_null(out.repo_digests[0]);
    assert_int_equal(out.created, 5);
    assert_int_equal(out.size, 7);
    assert_int_equal(out.containers, 2);
    assert_string_equal(json_string_value(json_object_get(out.labels, "maintainer")), "me");
    api_image_summary_release(&out);
}

static void test_summary_decode_errors(void **state)
{
    struct api_image_summary out;
    struct err *err = NULL;
    json_auto_t *notags = json_pack("{s:s, s:s}", "Id", ID, "RepoTags", "x");
    assert_int_equal(api_image_summary_decode(notags, &out, &err), -1);
    assert_non_null(strstr(err->msg, "RepoTags"));
    err_freep(&err);
    json_auto_t *noid = json_pack("{s:i}", "Size", 1);
    assert_int_equal(api_image_summary_decode(noid, &out, &err), -1);
    assert_non_null(strstr(err->msg, "Id"));
    err_freep(&err);
    json_auto_t *badlabel = json_pack("{s:s, s:{s:i}}", "Id", ID, "Labels", "a", 1);
    assert_int_equal(api_image_summary_decode(badlabel, &out, &err), -1);
    assert_non_null(strstr(err->msg, "Labels.a"));
    err_freep(&err);
    /* A docker 1.41 reply with nulls decodes. */
    json_auto_t *nulls =
        json_pack("{s:s, s:n, s:n, s:n}", "Id", ID, "RepoTags", "RepoDigests", "Labels");
    assert_int_equal(api_image_summary_decode(nulls, &out, &err), 0);
    assert_null(out.repo_tags[0]);
    assert_null(out.labels);
    assert_int_equal(out.containers, -1);
    api_image_summary_release(&out);
}

/* ---- image inspect ---------------------------------------------------------------------- */

static void test_inspect_encode_shape(void **state)
{
    char *tags[] = {"busybox:latest", NULL};
    char *none[] = {NULL};
    char *layers[] = {"sha256:l1", "sha256:l2", NULL};
    json_auto_t *cfg =
        json_pack("{s:[s], s:[s], s:s, s:b, s:{s:{}}, s:i}", "Env", "PATH=/bin", "Cmd", "sh",
                  "WorkingDir", "/", "ArgsEscaped", 1, "ExposedPorts", "80/tcp", "NotDocker", 1);
    struct api_image_inspect in = {.id = ID,
                                   .repo_tags = tags,
                                   .repo_digests = none,
                                   .parent = "",
                                   .comment = "",
                                   .created = "2024-01-02T03:04:05.123456789Z",
                                   .docker_version = "",
                                   .author = "",
                                   .config = cfg,
                                   .architecture = "amd64",
                                   .os = "linux",
                                   .size = 4261550,
                                   .layers = layers,
                                   .merged_dir = "/m",
                                   .upper_dir = "/u",
                                   .work_dir = "/w",
                                   .lower_dir = "/l"};
    json_auto_t *j = api_image_inspect_encode(&in, 1044);
    /* Top-level keys in docker's order. */
    static const char *const keys[] = {"Id",      "RepoTags",    "RepoDigests",     "Parent",
                                       "Comment", "Created",     "ContainerConfig", "DockerVersion",
                                       "Author",  "Config",      "Architecture",    "Os",
                                       "Size",    "GraphDriver", "RootFS",          "Metadata"};
    void *it = json_object_iter(j);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        assert_non_null(it);
        assert_string_equal(json_object_iter_key(it), keys[i]);
        it = json_object_iter_next(j, it);
    }
    assert_null(it);
    json_t *c = json_object_get(j, "Config");
    char *ctxt = dump(c);
    assert_string_equal(ctxt, "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\","
                              "\"AttachStdin\":false,\"AttachStdout\":false,"
                              "\"AttachStderr\":false,\"ExposedPorts\":{\"80/tcp\":{}},"
                              "\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,"
                              "\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"ArgsEscaped\":true,"
                              "\"Image\":\"\",\"Volumes\":null,\"WorkingDir\":\"/\","
                              "\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":null}");
    free(ctxt);
    char *gd = dump(json_object_get(j, "GraphDriver"));
    assert_string_equal(gd, "{\"Data\":{\"LowerDir\":\"/l\",\"MergedDir\":\"/m\","
                            "\"UpperDir\":\"/u\",\"WorkDir\":\"/w\"},\"Name\":\"overlay2\"}");
    free(gd);
    char *rf = dump(json_object_get(j, "RootFS"));
    assert_string_equal(rf, "{\"Type\":\"layers\",\"Layers\":[\"sha256:l1\",\"sha256:l2\"]}");
    free(rf);
    char *md = dump(json_object_get(j, "Metadata"));
    assert_string_equal(md, "{\"LastTagTime\":\"0001-01-01T00:00:00Z\"}");
    free(md);
    /* omitempty fields: an empty map or slice is left out. */
    json_auto_t *cfg2 = json_pack("{s:{}, s:[], s:b}", "ExposedPorts", "Shell", "ArgsEscaped", 0);
    in.config = cfg2;
    json_auto_t *j2 = api_image_inspect_encode(&in, 1044);
    json_t *c2 = json_object_get(j2, "Config");
    assert_null(json_object_get(c2, "ExposedPorts"));
    assert_null(json_object_get(c2, "Shell"));
    assert_null(json_object_get(c2, "ArgsEscaped"));
    json_t *cc = json_object_get(j, "ContainerConfig");
    assert_string_equal(json_string_value(json_object_get(cc, "Hostname")), "");
    assert_true(json_is_null(json_object_get(cc, "Cmd")));
    assert_int_equal(json_array_size(json_object_get(j, "RepoDigests")), 0);
}

static void test_inspect_encode_versions(void **state)
{
    struct api_image_inspect in = {.id = ID, .size = 3};
    json_auto_t *j41 = api_image_inspect_encode(&in, 1041);
    assert_int_equal(json_integer_value(json_object_get(j41, "VirtualSize")), 3);
    assert_string_equal(json_string_value(json_object_get(j41, "Created")), "0001-01-01T00:00:00Z");
    assert_non_null(json_object_get(j41, "Container"));
    assert_true(json_is_null(json_object_get(j41, "Config")));
    assert_true(json_is_null(json_object_get(json_object_get(j41, "GraphDriver"), "Data")));
    assert_null(json_object_get(json_object_get(j41, "RootFS"), "Layers"));
    json_auto_t *j44 = api_image_inspect_encode(&in, 1044);
    assert_null(json_object_get(j44, "VirtualSize"));
    assert_null(json_object_get(j44, "Created"));
    assert_null(json_object_get(j44, "Container"));
    assert_non_null(json_object_get(j44, "ContainerConfig"));
    json_auto_t *j45 = api_image_inspect_encode(&in, 1045);
    assert_null(json_object_get(j45, "ContainerConfig"));
}

/* ---- history and delete ----------------------------------------------------------------- */

static void test_history_roundtrip(void **state)
{
    char *tags[] = {"busybox:latest", NULL};
    struct api_history_item items[] = {
        {.id = ID,
         .created = 10,
         .created_by = "CMD [\"sh\"]",
         .tags = tags,
         .size = 0,
         .comment = ""},
        {.id = "<missing>", .created = 9, .created_by = "ADD x /", .size = 42, .comment = "c"},
    };
    json_auto_t *j = api_history_encode(items, 2);
    char *txt = dump(j);
    assert_string_equal(txt, "[{\"Comment\":\"\",\"Created\":10,\"CreatedBy\":\"CMD [\\\"sh\\\"]\","
                             "\"Id\":\"" ID "\",\"Size\":0,\"Tags\":[\"busybox:latest\"]},"
                             "{\"Comment\":\"c\",\"Created\":9,\"CreatedBy\":\"ADD x /\","
                             "\"Id\":\"<missing>\",\"Size\":42,\"Tags\":null}]");
    free(txt);
    struct api_history_item *out = NULL;
    size_t n = 0;
    struct err *err = NULL;
    assert_int_equal(api_history_decode(j, &out, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].tags[0], "busybox:latest");
    assert_null(out[1].tags[0]);
    assert_string_equal(out[1].id, "<missing>");
    assert_int_equal(out[1].size, 42);
    assert_string_equal(out[1].comment, "c");
    api_history_free(out, n);

    json_auto_t *bad = json_pack("[{s:s}]", "Size", "big");
    assert_int_equal(api_history_decode(bad, &out, &n, &err), -1);
    assert_non_null(strstr(err->msg, "history[0]"));
    assert_non_null(strstr(err->msg, "Size"));
    err_freep(&err);
}

static void test_delete_roundtrip(void **state)
{
    struct api_delete_item items[] = {{.untagged = "busybox:latest"}, {.deleted = ID}};
    json_auto_t *j = api_delete_encode(items, 2);
    char *txt = dump(j);
    assert_string_equal(txt, "[{\"Untagged\":\"busybox:latest\"},{\"Deleted\":\"" ID "\"}]");
    free(txt);
    struct api_delete_item *out = NULL;
    size_t n = 0;
    struct err *err = NULL;
    assert_int_equal(api_delete_decode(j, &out, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].untagged, "busybox:latest");
    assert_null(out[0].deleted);
    assert_string_equal(out[1].deleted, ID);
    api_delete_free(out, n);
    /* null (prune with nothing deleted) is an empty list. */
    assert_int_equal(api_delete_decode(json_null(), &out, &n, &err), 0);
    assert_int_equal(n, 0);
    api_delete_free(out, n);
    json_auto_t *both = json_pack("[{s:s, s:s}]", "Untagged", "a", "Deleted", "b");
    assert_int_equal(api_delete_decode(both, &out, &n, &err), -1);
    err_freep(&err);
    json_auto_t *obj = json_object();
    assert_int_equal(api_delete_decode(obj, &out, &n, &err), -1);
    err_freep(&err);
}

/* ---- progress --------------------------------------------------------------------------- */

static void check_encode(const struct api_progress *p, const char *want)
{
    char *s = api_progress_encode(p);
    assert_string_equal(s, want);
    free(s);
}

static void test_progress_encode_exact(void **state)
{
    check_encode(&(struct api_progress){.status = "Pulling from library/busybox", .id = "latest"},
                 "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\n");
    check_encode(
        &(struct api_progress){.status = "Pulling fs layer", .id = "e0f42780763d", .has_detail = 1},
        "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"e0f42780763d\"}\n");
    check_encode(&(struct api_progress){.status = "Downloading",
                                        .id = "e0f42780763d",
                                        .has_detail = 1,
                                        .current = 32768,
                                        .total = 2537375},
                 "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":32768,"
                 "\"total\":2537375},\"progress\":\"[\\u003e                                  "
                 "                ]  32.77kB/2.537MB\",\"id\":\"e0f42780763d\"}\n");
    check_encode(&(struct api_progress){.error = "unknown blob"},
                 "{\"errorDetail\":{\"message\":\"unknown blob\"},\"error\":\"unknown blob\"}\n");
    check_encode(&(struct api_progress){.stream = "Loaded image: busybox:latest\n"},
                 "{\"stream\":\"Loaded image: busybox:latest\\n\"}\n");
    check_encode(&(struct api_progress){.status = "Status: Image is up to date for a<b>&c"},
                 "{\"status\":\"Status: Image is up to date for a\\u003cb\\u003e\\u0026c\"}\n");
    check_encode(&(struct api_progress){.status = "x\x1b\b"}, "{\"status\":\"x\\u001b\\u0008\"}\n");
    json_t *aux = json_pack("{s:s}", "ID", "sha256:x");
    check_encode(&(struct api_progress){.aux = aux}, "{\"aux\":{\"ID\":\"sha256:x\"}}\n");
    json_decref(aux);
}

static void test_progress_decode(void **state)
{
    struct api_progress p;
    struct err *err = NULL;
    json_auto_t *j = json_loads("{\"status\":\"Downloading\",\"progressDetail\":{\"current\":5,"
                                "\"total\":10},\"id\":\"abc\"}",
                                0, NULL);
    assert_int_equal(api_progress_decode(j, &p, &err), 0);
    assert_string_equal(p.status, "Downloading");
    assert_string_equal(p.id, "abc");
    assert_true(p.has_detail);
    assert_int_equal(p.current, 5);
    assert_int_equal(p.total, 10);
    assert_null(p.error);
    api_progress_release(&p);

    /* Round trip of an error line. */
    char *line = api_progress_encode(&(struct api_progress){.error = "boom"});
    json_auto_t *e = json_loads(line, 0, NULL);
    free(line);
    assert_int_equal(api_progress_decode(e, &p, &err), 0);
    assert_string_equal(p.error, "boom");
    assert_null(p.status);
    api_progress_release(&p);

    /* A bare "error" is not an error for the docker CLI. */
    json_auto_t *bare = json_pack("{s:s}", "error", "x");
    assert_int_equal(api_progress_decode(bare, &p, &err), 0);
    assert_null(p.error);
    api_progress_release(&p);

    json_auto_t *e401 = json_pack("{s:{s:i, s:s}}", "errorDetail", "code", 401, "message", "x");
    assert_int_equal(api_progress_decode(e401, &p, &err), 0);
    assert_string_equal(p.error, "authentication is required");
    api_progress_release(&p);

    json_auto_t *aux = json_pack("{s:{s:s}}", "aux", "ID", "y");
    assert_int_equal(api_progress_decode(aux, &p, &err), 0);
    assert_non_null(p.aux);
    api_progress_release(&p);

    json_auto_t *bad = json_pack("{s:s}", "progressDetail", "x");
    assert_int_equal(api_progress_decode(bad, &p, &err), -1);
    assert_non_null(strstr(err->msg, "progressDetail"));
    err_freep(&err);
    json_auto_t *badn = json_pack("{s:{s:s}}", "progressDetail", "current", "x");
    assert_int_equal(api_progress_decode(badn, &p, &err), -1);
    assert_non_null(strstr(err->msg, "current"));
    err_freep(&err);
}

static void test_units(void **state)
{
    char b[32];
    api_human_size(0, 3, b);
    assert_string_equal(b, "0B");
    api_human_size(999, 3, b);
    assert_string_equal(b, "999B");
    api_human_size(1000, 3, b);
    assert_string_equal(b, "1kB");
    api_human_size(1990000, 3, b);
    assert_string_equal(b, "1.99MB");
    api_human_size(4261550, 3, b);
    assert_string_equal(b, "4.26MB");
    api_human_size(2537375, 4, b);
    assert_string_equal(b, "2.537MB");
    api_human_size(999999, 3, b);
    assert_string_equal(b, "1e+03kB"); /* Go's %.3g does the same */
    api_human_size(123456789012.0, 3, b);
    assert_string_equal(b, "123GB");

    struct sb s = SB_INIT;
    api_progress_bar(0, 0, 200, &s);
    assert_string_equal(sb_str(&s), "");
    api_progress_bar(1000, 0, 200, &s);
    assert_string_equal(sb_str(&s), "     1kB");
    sb_reset(&s);
    api_progress_bar(50, 100, 200, &s);
    assert_string_equal(sb_str(&s), "[=========================>                         ]     "
                                    " 50B/100B");
    sb_reset(&s);
    api_progress_bar(50, 100, 80, &s);
    assert_string_equal(sb_str(&s), "     50B/100B");
    sb_reset(&s);
    api_progress_bar(200, 100, 80, &s);
    assert_string_equal(sb_str(&s), "    200B");
    sb_reset(&s);
    api_progress_bar(100, 100, 120, &s);
    assert_string_equal(sb_str(&s), "[==================================================>]     "
                                    "100B/100B");
    sb_release(&s);
}

/* ---- filters ---------------------------------------------------------------------------- */

static void test_filters(void **state)
{
    json_t *f = NULL;
    struct err *err = NULL;
    assert_int_equal(api_filters_parse(NULL, &f, &err), 0);
    assert_int_equal(json_object_size(f), 0);
    json_decref(f);
    assert_int_equal(api_filters_parse("", &f, &err), 0);
    json_decref(f);

    assert_int_equal(
        api_filters_parse("{\"reference\":{\"busybox\":true,\"alpine\":true},\"dangling\":"
                          "{\"false\":true}}",
                          &f, &err),
        0);
    char *s = dump(f);
    assert_string_equal(s, "{\"reference\":[\"busybox\",\"alpine\"],\"dangling\":[\"false\"]}");
    free(s);
    json_decref(f);

    /* docker-py's legacy list form, with spaces, duplicates collapse. */
    assert_int_equal(api_filters_parse("{\"label\": [\"dpy\", \"dpy\", \"a=b\"]}", &f, &err), 0);
    s = dump(f);
    assert_string_equal(s, "{\"label\":[\"dpy\",\"a=b\"]}");
    free(s);
    json_decref(f);

    assert_int_equal(api_filters_parse("{invalid", &f, &err), -1);
    assert_int_equal(err->kind, ERR_INVALID);
    assert_non_null(strstr(err->msg, "invalid filter"));
    err_freep(&err);
    assert_int_equal(api_filters_parse("[\"a\"]", &f, &err), -1);
    assert_non_null(strstr(err->msg, "invalid filter"));
    err_freep(&err);
    assert_int_equal(api_filters_parse("{\"a\":{\"b\":\"yes\"}}", &f, &err), -1);
    assert_non_null(strstr(err->msg, "invalid filter"));
    err_freep(&err);
    assert_int_equal(api_filters_parse("{\"a\":[1]}", &f, &err), -1);
    err_freep(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_encode_144),
        cmocka_unit_test(test_summary_untagged_by_version),
        cmocka_unit_test(test_summary_roundtrip),
        cmocka_unit_test(test_summary_decode_errors),
        cmocka_unit_test(test_inspect_encode_shape),
        cmocka_unit_test(test_inspect_encode_versions),
        cmocka_unit_test(test_history_roundtrip),
        cmocka_unit_test(test_delete_roundtrip),
        cmocka_unit_test(test_progress_encode_exact),
        cmocka_unit_test(test_progress_decode),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
