/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "daemon/volume/volume.h"
#include "tests/unit/testutil.h"

static void test_names(void **state)
{
    (void)state;
    assert_true(vol_name_valid("v1"));
    assert_true(vol_name_valid("my_vol.2-x"));
    assert_false(vol_name_valid("v"));   /* two at least, as docker's rule */
    assert_false(vol_name_valid("_v1")); /* first: a letter or digit */
    assert_false(vol_name_valid("a/b")); /* never a path */
    assert_false(vol_name_valid(".."));  /* never a path */
    assert_false(vol_name_valid("a b")); /* no space */
    assert_false(vol_name_valid(NULL));
}

static void done_cb(const struct err *err, void *data)
{
    *(int *)data = err ? -1 : 1;
}

/* add, materialize, reopen from disk, encode, remove. */
static void test_store(void **state)
{
    (void)state;
    char root[256];
    tu_mkdtemp(root, sizeof(root), "vol");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct vol_store *st = NULL;
    assert_int_equal(vol_store_open(&loop, root, &st, NULL), 0);
    json_auto_t *labels = json_pack("{s:s}", "k", "v");
    struct err *err = NULL;
    const struct vol *v = vol_add(st, "v1", labels, NULL, false, &err);
    assert_non_null(v);
    assert_null(vol_add(st, "v1", NULL, NULL, false, &err));
    assert_int_equal(err->kind, ERR_CONFLICT);
    err_freep(&err);
    assert_null(vol_add(st, "a/b", NULL, NULL, false, &err));
    assert_int_equal(err->kind, ERR_INVALID);
    err_freep(&err);
    const struct vol *a = vol_add(st, NULL, NULL, NULL, true, &err);
    assert_non_null(a);
    assert_int_equal(strlen(a->name), 64);
    assert_non_null(json_object_get(a->labels, "com.docker.volume.anonymous"));
    int done = 0;
    vol_create(st, v, done_cb, &done);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(done, 1);
    char *data = vol_data_path(st, "v1");
    struct stat sb;
    assert_int_equal(stat(data, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    free(data);
    vol_store_free(st);

    /* reopened: v1 is there with its labels; the anonymous one never got its directory */
    assert_int_equal(vol_store_open(&loop, root, &st, NULL), 0);
    assert_int_equal(vol_count(st), 1);
    struct vol *back = vol_find(st, "v1");
    assert_non_null(back);
    assert_string_equal(json_string_value(json_object_get(back->labels, "k")), "v");
    json_auto_t *j = vol_encode(st, back);
    assert_string_equal(json_string_value(json_object_get(j, "Driver")), "local");
    assert_string_equal(json_string_value(json_object_get(j, "Scope")), "local");
    assert_true(json_is_null(json_object_get(j, "Options")));
    done = 0;
    vol_remove(st, &back, 1, done_cb, &done);
    assert_int_equal(vol_count(st), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(done, 1);
    char path[512];
    snprintf(path, sizeof(path), "%s/volumes/v1", root);
    assert_int_equal(stat(path, &sb), -1);
    vol_store_free(st);
    uv_loop_close(&loop);
    tu_run("rm -rf %s", root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
