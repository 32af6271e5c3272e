/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "client/format.h"

static json_t *doc(void)
{
    return json_loads("{\"Name\":\"web\",\"Count\":3,\"Ratio\":0.5,\"On\":true,\"Nil\":null,"
                      "\"ApiVersion\":\"1.41\",\"Tags\":[\"a\",\"b\"],"
                      "\"State\":{\"Status\":\"running\",\"Pid\":42},"
                      "\"Labels\":{\"z\":\"1\",\"a\":\"2\"},\"Empty\":[]}",
                      0, NULL);
}

/* Renders fmt over the test document; returns the output or the error message. */
static char *render(const char *fmt, int *rc)
{
    json_auto_t *j = doc();
    struct cli_format *f = NULL;
    struct err *err = NULL;
    struct sb out = SB_INIT;
    *rc = cli_format_parse(fmt, &f, &err);
    if (*rc == 0)
        *rc = cli_format_exec(f, j, &out, &err);
    cli_format_free(f);
    if (*rc < 0) {
        char *m = xstrdup(err->msg);
        err_free(err);
        sb_release(&out);
        return m;
    }
    sb_str(&out);
    return sb_steal(&out);
}

static void expect(const char *fmt, const char *want)
{
    int rc = 0;
    char *got = render(fmt, &rc);
    if (rc != 0 || strcmp(got, want) != 0)
        print_error("format %s: got \"%s\" (rc %d), want \"%s\"\n", fmt, got, rc, want);
    assert_int_equal(rc, 0);
    assert_string_equal(got, want);
    free(got);
}

static void expect_error(const char *fmt, const char *needle)
{
    int rc = 0;
    char *got = render(fmt, &rc);
    assert_int_equal(rc, -1);
    if (!strstr(got, needle))
        print_error("format %s: error \"%s\" lacks \"%s\"\n", fmt, got, needle);
    assert_non_null(strstr(got, needle));
    free(got);
}

static void test_paths(void **state)
{
    expect("x{{.Name}}y", "xweby");
    expect("{{.State.Status}}/{{.State.Pid}}", "running/42");
    expect("{{ .Count }} {{.Ratio}} {{.On}}", "3 0.5 true");
    expect("{{.Missing}}", "<no value>");
    expect("{{.Nil}}", "<nil>");
    expect("{{.Tags}}", "[a b]");
    expect("{{.Labels}}", "map[a:2 z:1]");
    expect("{{.apiVERSION}} {{.APIVersion}}", "1.41 1.41"); /* case-insensitive fallback */
    expect("{{$.Name}}", "web");
    expect("plain text", "plain text");
}

static void test_json(void **state)
{
    expect("{{json .Tags}}", "[\"a\",\"b\"]");
    expect("{{json .Name}}", "\"web\"");
    expect("{{json .State}}", "{\"Status\":\"running\",\"Pid\":42}");
    expect("{{.State | json}}", "{\"Status\":\"running\",\"Pid\":42}");
    int rc = 0;
    char *all = render("json", &rc);
    assert_int_equal(rc, 0);
    const char *prefix = "{\"Name\":\"web\",\"Count\":3,";
    assert_true(strncmp(all, prefix, strlen(prefix)) == 0);
    free(all);
}

static void test_functions(void **state)
{
    expect("{{upper .Name}} {{lower \"AB\"}} {{title \"hello world\"}}", "WEB ab Hello World");
    expect("{{join .Tags \", \"}}", "a, b");
    expect("{{index .Labels \"a\"}} {{index .Tags 1}}", "2 b");
    expect("{{len .Tags}} {{len .Name}}", "2 3");
    expect("{{truncate .Name 2}}", "we");
    expect("{{println .Name .Count}}", "web 3\n");
    expect("{{if eq .Name \"web\"}}yes{{else}}no{{end}}", "yes");
    expect("{{if .Empty}}x{{else if .On}}on{{else}}z{{end}}", "on");
    expect("{{range .Tags}}<{{.}}>{{end}}", "<a><b>");
    expect("{{range .Labels}}{{.}}{{end}}", "21");
    expect("{{range .Empty}}x{{else}}none{{end}}", "none");
    expect("{{with .State}}{{.Pid}}{{end}}", "42");
    expect("{{len (index .Labels \"z\")}}", "1");
    expect("a  {{- .Name -}}  b", "awebb");
    expect("{{/* a comment */}}ok", "ok");
}

static void test_escapes(void **state)
{
    expect("{{.Name}}\\t{{.Count}}\\n", "web\t3\n");
}

static void test_errors(void **state)
{
    expect_error("{{bogus .}}",
                 "template parsing error: template: :1: function \"bogus\" not defined");
    expect_error("{{.Name", "template parsing error");
    expect_error("{{if .On}}x", "unexpected EOF");
    expect_error("{{end}}", "unexpected {{end}}");
    expect_error("{{.Name .Count}}", "can't give argument to non-function");
    expect_error("{{.Name.Foo}}", "can't evaluate field Foo in type string");
    expect_error("{{\"unterminated}}", "template parsing error");
}

static const char *label(const char *path, void *ud)
{
    return strcmp(path, "ID") == 0 ? "CONTAINER ID" : NULL;
}

static void test_table(void **state)
{
    json_auto_t *rows = json_loads("[{\"ID\":\"abc\",\"Name\":\"first-long-name\",\"N\":1},"
                                   "{\"ID\":\"defghi\",\"Name\":\"x\",\"N\":22}]",
                                   0, NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct err *err = NULL;
    assert_int_equal(
        cli_format_list("table {{.ID}}\\t{{.Name}}\\t{{.N}}", rows, label, NULL, f, &err), 0);
    fclose(f);
    assert_string_equal(buf, "CONTAINER ID   NAME              N\n"
                             "abc            first-long-name   1\n"
                             "defghi         x                 22\n");
    free(buf);

    f = open_memstream(&buf, &len);
    assert_int_equal(cli_format_list("{{.ID}}:{{.N}}", rows, NULL, NULL, f, &err), 0);
    fclose(f);
    assert_string_equal(buf, "abc:1\ndefghi:22\n");
    free(buf);

    struct cli_format *fm = NULL;
    assert_int_equal(cli_format_parse("table", &fm, &err), 0);
    assert_true(cli_format_is_table(fm));
    assert_true(cli_format_is_empty(fm));
    cli_format_free(fm);
}

static void test_tabwriter(void **state)
{
    struct cli_table t;
    struct sb out = SB_INIT;
    cli_table_init(&t, 20, 1);
    cli_table_addf(&t, "Client:\n Version:\t1\n API version:\t2\n\nServer:\n  Longer key:\tx\n");
    cli_table_render(&t, &out);
    assert_string_equal(out.buf, "Client:\n Version:           1\n API version:       2\n\n"
                                 "Server:\n  Longer key:       x\n");
    sb_release(&out);
    cli_table_release(&t);
}

static void test_values(void **state)
{
    struct sb sb = SB_INIT;
    json_auto_t *big = json_real(1e6);
    json_auto_t *small = json_real(1.25);
    cli_format_value(big, &sb);
    sb_addc(&sb, ' ');
    cli_format_value(small, &sb);
    assert_string_equal(sb.buf, "1e+06 1.25");
    sb_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),     cmocka_unit_test(test_json),
        cmocka_unit_test(test_functions), cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_errors),    cmocka_unit_test(test_table),
        cmocka_unit_test(test_tabwriter), cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
