/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/containers.h"
#include "client/containers.h"
#include "tests/unit/testutil.h"

/* main.c's, which the library leaves out: these tests never reach a daemon. */
int cli_ctx_client(struct cli_ctx *ctx, struct cli_client **out, struct err **err)
{
    (void)ctx;
    (void)out;
    return err_set(err, ERR_UNAVAILABLE, 0, "no daemon in unit tests");
}

int cli_cmd_help(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    (void)ctx;
    (void)args;
    (void)err;
    return 0;
}

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("bad JSON in test: %s", e.text);
    return j;
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    assert_non_null(s);
    return s;
}

/* Parses argv as `berth <cmd> ...` and builds the create body. */
static json_t *body_for(const char *cmd, int argc, char **argv, bool detach, int rows, int cols)
{
    struct cli_ctx ctx = {.out = stdout, .errf = stderr};
    const struct cli_cmd *c = cli_cmd_find(cmd);
    assert_non_null(c);
    struct cli_args a;
    int status = 0;
    assert_int_equal(cli_args_parse(&ctx, c, argc, argv, &a, &status), 0);
    struct api_container_config cfg;
    struct err *err = NULL;
    int console[2] = {rows, cols};
    if (cli_run_config(&a, detach, console, &cfg, &err) < 0)
        fail_msg("%s", err->msg);
    json_t *body = api_container_create_encode(&cfg);
    api_container_config_release(&cfg);
    cli_args_release(&a);
    return body;
}

static void assert_json(json_t *got, const char *want)
{
    char *g = dump(got);
    json_auto_t *w = parse(want);
    char *ws = dump(w);
    if (strcmp(g, ws) != 0)
        fail_msg("got  %s\nwant %s", g, ws);
    free(g);
    free(ws);
}

/* ---- flags -> body ---------------------------------------------------------------------- */

static void test_body_it_matches_docker(void **state)
{
    (void)state;
    char *argv[] = {"-i", "-t", "--name", "x", "busybox", "/bin/sh"};
    json_auto_t *body = body_for("run", 6, argv, false, 40, 120);
    char *txt = dump(body);
    assert_string_equal(txt, tu_create_body_1734);
    free(txt);
}

static void test_body_detached(void **state)
{
    (void)state;
    char *argv[] = {"-d", "--name", "d1", "busybox", "sleep", "1000"};
    json_auto_t *body = body_for("run", 6, argv, true, 0, 0);
    json_auto_t *want = parse(tu_create_body_1734);
    json_object_set_new(want, "AttachStdin", json_false());
    json_object_set_new(want, "AttachStdout", json_false());
    json_object_set_new(want, "AttachStderr", json_false());
    json_object_set_new(want, "Tty", json_false());
    json_object_set_new(want, "OpenStdin", json_false());
    json_object_set_new(want, "StdinOnce", json_false());
    json_object_set_new(want, "Cmd", json_pack("[s, s]", "sleep", "1000"));
    json_object_set_new(json_object_get(want, "HostConfig"), "ConsoleSize",
                        json_pack("[i,i]", 0, 0));
    char *w = dump(want), *g = dump(body);
    assert_string_equal(g, w);
    free(w);
    free(g);

    /* create: attached to stdout and stderr, nothing else. */
    char *cargv[] = {"busybox"};
    json_auto_t *cb = body_for("create", 1, cargv, false, 0, 0);
    assert_true(json_is_true(json_object_get(cb, "AttachStdout")));
    assert_true(json_is_true(json_object_get(cb, "AttachStderr")));
    assert_true(json_is_false(json_object_get(cb, "AttachStdin")));
    assert_true(json_is_null(json_object_get(cb, "Cmd")));
}

static void test_body_every_flag(void **state)
{
    (void)state;
    char envfile[] = "/tmp/berth-envfile-XXXXXX";
    int fd = mkstemp(envfile);
    assert_true(fd >= 0);
    const char *content = "\xEF\xBB\xBF# comment\n\n  FROMFILE=a b \nPASSED\nUNSETVAR\n";
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    setenv("PASSED", "yes", 1);
    setenv("BAZ", "baz-value", 1);
    unsetenv("UNSETVAR");
    unsetenv("NOPE");
    char *argv[] = {"-d",
                    "--rm",
                    "--name",
                    "web",
                    "-e",
                    "FOO=bar",
                    "-e",
                    "BAZ",
                    "-e",
                    "NOPE",
                    "--env-file",
                    envfile,
                    "-w",
                    "/work",
                    "-u",
                    "1000:1000",
                    "-h",
                    "myhost",
                    "--entrypoint",
                    "",
                    "-l",
                    "a=b",
                    "-l",
                    "c",
                    "-m",
                    "64m",
                    "--memory-swap",
                    "-1",
                    "--cpus",
                    "1.5",
                    "-c",
                    "512",
                    "--pids-limit",
                    "100",
                    "--restart",
                    "on-failure:3",
                    "--cap-add",
                    "NET_ADMIN",
                    "--cap-drop",
                    "ALL",
                    "--privileged",
                    "--network",
                    "none",
                    "--read-only",
                    "--security-opt",
                    "no-new-privileges",
                    "--shm-size",
                    "128m",
                    "--stop-signal",
                    "SIGINT",
                    "--stop-timeout",
                    "5",
                    "-t",
                    "-i",
                    "--log-opt",
                    "max-size=1m",
                    "-p",
                    "8080:80",
                    "-p",
                    "127.0.0.1:9000:9000/udp",
                    "-P",
                    "-v",
                    "/tmp/hostdir:/data:ro",
                    "-v",
                    "namedvol:/vol",
                    "-v",
                    "/anon",
                    "--dns",
                    "1.1.1.1",
                    "--add-host",
                    "db:10.0.0.2",
                    "busybox",
                    "sh",
                    "-c",
                    "echo hi"};
    json_auto_t *b = body_for("run", (int)(sizeof(argv) / sizeof(argv[0])), argv, true, 0, 0);
    unlink(envfile);
    /* What docker's CLI 28 puts in each changed field. */
    assert_json(json_object_get(b, "Env"),
                "[\"FROMFILE=a b \",\"PASSED=yes\",\"UNSETVAR\",\"FOO=bar\",\"BAZ=baz-value\","
                "\"NOPE\"]");
    assert_string_equal(json_string_value(json_object_get(b, "WorkingDir")), "/work");
    assert_string_equal(json_string_value(json_object_get(b, "User")), "1000:1000");
    assert_string_equal(json_string_value(json_object_get(b, "Hostname")), "myhost");
    assert_json(json_object_get(b, "Entrypoint"), "[\"\"]");
    assert_json(json_object_get(b, "Cmd"), "[\"sh\",\"-c\",\"echo hi\"]");
    assert_json(json_object_get(b, "Labels"), "{\"a\":\"b\",\"c\":\"\"}");
    assert_json(json_object_get(b, "ExposedPorts"), "{\"80/tcp\":{},\"9000/udp\":{}}");
    assert_json(json_object_get(b, "Volumes"), "{\"/anon\":{}}");
    assert_string_equal(json_string_value(json_object_get(b, "StopSignal")), "SIGINT");
    assert_int_equal(json_integer_value(json_object_get(b, "StopTimeout")), 5);
    assert_true(json_is_true(json_object_get(b, "Tty")));
    assert_true(json_is_true(json_object_get(b, "OpenStdin")));
    assert_true(json_is_false(json_object_get(b, "AttachStdin")));
    assert_true(json_is_false(json_object_get(b, "StdinOnce")));
    json_t *h = json_object_get(b, "HostConfig");
    assert_json(json_object_get(h, "Binds"), "[\"/tmp/hostdir:/data:ro\",\"namedvol:/vol\"]");
    assert_json(json_object_get(h, "LogConfig"),
                "{\"Type\":\"\",\"Config\":{\"max-size\":\"1m\"}}");
    assert_string_equal(json_string_value(json_object_get(h, "NetworkMode")), "none");
    assert_json(json_object_get(h, "PortBindings"),
                "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}],"
                "\"9000/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9000\"}]}");
    assert_json(json_object_get(h, "RestartPolicy"),
                "{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}");
    assert_true(json_is_true(json_object_get(h, "AutoRemove")));
    assert_json(json_object_get(h, "CapAdd"), "[\"NET_ADMIN\"]");
    assert_json(json_object_get(h, "CapDrop"), "[\"ALL\"]");
    assert_json(json_object_get(h, "Dns"), "[\"1.1.1.1\"]");
    assert_json(json_object_get(h, "ExtraHosts"), "[\"db:10.0.0.2\"]");
    assert_true(json_is_true(json_object_get(h, "Privileged")));
    assert_true(json_is_true(json_object_get(h, "PublishAllPorts")));
    assert_true(json_is_true(json_object_get(h, "ReadonlyRootfs")));
    assert_json(json_object_get(h, "SecurityOpt"), "[\"no-new-privileges\"]");
    assert_int_equal(json_integer_value(json_object_get(h, "ShmSize")), 128 * 1024 * 1024);
    assert_int_equal(json_integer_value(json_object_get(h, "Memory")), 64 * 1024 * 1024);
    assert_int_equal(json_integer_value(json_object_get(h, "MemorySwap")), -1);
    assert_int_equal(json_integer_value(json_object_get(h, "NanoCpus")), 1500000000);
    assert_int_equal(json_integer_value(json_object_get(h, "CpuShares")), 512);
    assert_int_equal(json_integer_value(json_object_get(h, "PidsLimit")), 100);
    assert_json(json_object_get(b, "NetworkingConfig"), "{\"EndpointsConfig\":{}}");
    /* The body decodes cleanly on the daemon side. */
    struct api_container_config back;
    struct err *err = NULL;
    if (api_container_config_decode(b, &back, &err) < 0)
        fail_msg("%s", err->msg);
    api_container_config_release(&back);
}

static void flag_refused(const char *flag, const char *value, const char *msg)
{
    struct cli_ctx ctx = {.out = stdout, .errf = stderr};
    char *argv[] = {(char *)flag, (char *)value, "busybox"};
    struct cli_args a;
    int status = 0;
    assert_int_equal(cli_args_parse(&ctx, cli_cmd_find("run"), 3, argv, &a, &status), 0);
    struct api_container_config cfg;
    struct err *err = NULL;
    int console[2] = {0, 0};
    assert_int_equal(cli_run_config(&a, true, console, &cfg, &err), -1);
    if (strcmp(err->msg, msg) != 0)
        fail_msg("got \"%s\", want \"%s\"", err->msg, msg);
    err_free(err);
    cli_args_release(&a);
}

static void test_flag_errors(void **state)
{
    (void)state;
    flag_refused("-m", "lots",
                 "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: "
                 "'lots'");
    flag_refused("--cpus", "x",
                 "invalid argument \"x\" for \"--cpus\" flag: failed to parse x as a "
                 "rational number");
    flag_refused("--pids-limit", "ten",
                 "invalid argument \"ten\" for \"--pids-limit\" flag: strconv.ParseInt: parsing "
                 "\"ten\": invalid syntax");
    flag_refused("--restart", ":3",
                 "invalid restart policy format: no policy provided before colon");
    flag_refused("--restart", "on-failure:x",
                 "invalid restart policy format: maximum retry count must be an integer");
    flag_refused("-p", "80:80/xyz", "invalid proto: xyz");
    flag_refused("-p", "a:80", "invalid hostPort: a");
    flag_refused("-e", "=x",
                 "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment "
                 "variable: =x");
    flag_refused("--env-file", "/nonexistent/env",
                 "open /nonexistent/env: No such file or directory");
}

/* ---- value parsers ---------------------------------------------------------------------- */

static int64_t bytes(const char *s)
{
    int64_t v = -7;
    struct err *err = NULL;
    if (cli_parse_bytes(s, &v, &err) < 0) {
        err_free(err);
        return -7;
    }
    return v;
}

static void test_parse_bytes(void **state)
{
    (void)state;
    assert_int_equal(bytes("512"), 512);
    assert_int_equal(bytes("1k"), 1024);
    assert_int_equal(bytes("64m"), 64 << 20);
    assert_int_equal(bytes("64M"), 64 << 20);
    assert_int_equal(bytes("1g"), 1 << 30);
    assert_int_equal(bytes("1.5g"), 3 << 29);
    assert_int_equal(bytes("2GiB"), 2LL << 30);
    assert_int_equal(bytes("2gb"), 2LL << 30);
    assert_int_equal(bytes("3 mb"), 3 << 20);
    assert_int_equal(bytes("1t"), 1LL << 40);
    assert_int_equal(bytes("10b"), 10);
    assert_int_equal(bytes(""), -7);
    assert_int_equal(bytes("m"), -7);
    assert_int_equal(bytes("-1"), -7);
    assert_int_equal(bytes("1x"), -7);
    assert_int_equal(bytes("1.2.3m"), -7);
    assert_int_equal(bytes("1mm"), -7);
}

static int64_t cpus(const char *s)
{
    int64_t v = -7;
    struct err *err = NULL;
    if (cli_parse_cpus(s, &v, &err) < 0) {
        err_free(err);
        return -7;
    }
    return v;
}

static void test_parse_cpus(void **state)
{
    (void)state;
    assert_int_equal(cpus("1"), 1000000000);
    assert_int_equal(cpus("1.5"), 1500000000);
    assert_int_equal(cpus("0.25"), 250000000);
    assert_int_equal(cpus(".5"), 500000000);
    assert_int_equal(cpus("0.000000001"), 1);
    assert_int_equal(cpus("2.0000000000"), 2000000000);
    assert_int_equal(cpus("1/2"), 500000000);
    assert_int_equal(cpus("0.0000000001"), -7);
    assert_int_equal(cpus("abc"), -7);
    assert_int_equal(cpus(""), -7);
    assert_int_equal(cpus("1/0"), -7);
    struct err *err = NULL;
    int64_t v;
    assert_int_equal(cli_parse_cpus("0.0000000001", &v, &err), -1);
    assert_string_equal(err->msg, "value is too precise");
    err_free(err);
}

static void test_parse_restart(void **state)
{
    (void)state;
    char *name = NULL;
    int64_t n = -1;
    assert_int_equal(cli_parse_restart("no", &name, &n, NULL), 0);
    assert_string_equal(name, "no");
    assert_int_equal(n, 0);
    free(name);
    assert_int_equal(cli_parse_restart("on-failure:5", &name, &n, NULL), 0);
    assert_string_equal(name, "on-failure");
    assert_int_equal(n, 5);
    free(name);
    assert_int_equal(cli_parse_restart("on-failure", &name, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(name);
    assert_int_equal(cli_parse_restart("unless-stopped", &name, &n, NULL), 0);
    assert_string_equal(name, "unless-stopped");
    free(name);
    assert_int_equal(cli_parse_restart("always:", &name, &n, NULL), 0);
    assert_string_equal(name, "always");
    free(name);
    assert_int_equal(cli_parse_restart("", &name, &n, NULL), 0);
    assert_null(name);
    assert_int_equal(cli_parse_restart(":1", &name, &n, NULL), -1);
    assert_int_equal(cli_parse_restart("on-failure:1x", &name, &n, NULL), -1);
}

static void test_env_file(void **state)
{
    (void)state;
    char path[] = "/tmp/berth-kv-XXXXXX";
    int fd = mkstemp(path);
    const char *content = "A=1\r\n\t# c\nB = 2\n";
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    char **v = NULL;
    size_t n = 0;
    struct err *err = NULL;
    assert_int_equal(cli_kv_file_read(path, true, &v, &n, &err), -1);
    assert_string_equal(err->msg,
                        "poorly formatted environment: variable 'B ' contains whitespaces");
    err_free(err);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "A=1");
    api_strv_free(v);
    unlink(path);
}

static void test_port_specs(void **state)
{
    (void)state;
    json_auto_t *e = json_object();
    json_auto_t *b = json_object();
    assert_int_equal(cli_parse_port_spec("80", e, b, NULL), 0);
    assert_int_equal(cli_parse_port_spec("[::1]:8443:443", e, b, NULL), 0);
    assert_int_equal(cli_parse_port_spec("127.0.0.1::53/udp", e, b, NULL), 0);
    assert_int_equal(cli_parse_port_spec("7000-7001:8000-8001", e, b, NULL), 0);
    assert_json(e, "{\"80/tcp\":{},\"443/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},\"8001/tcp\":{}}");
    assert_json(b, "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}],"
                   "\"443/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"8443\"}],"
                   "\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}],"
                   "\"8000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"7000\"}],"
                   "\"8001/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"7001\"}]}");
    struct err *err = NULL;
    assert_int_equal(cli_parse_port_spec("7000-7002:8000-8001", e, b, &err), -1);
    assert_string_equal(err->msg, "invalid ranges specified for container and host Ports: "
                                  "8000-8001 and 7000-7002");
    err_free(err);
    err = NULL;
    assert_int_equal(cli_parse_port_spec("8080:", e, b, &err), -1);
    assert_string_equal(err->msg, "no port specified: 8080:<empty>");
    err_free(err);
}

/* ---- frames ----------------------------------------------------------------------------- */

static void test_demux(void **state)
{
    (void)state;
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *o = open_memstream(&obuf, &olen), *e = open_memstream(&ebuf, &elen);
    struct cli_demux d;
    cli_demux_init(&d, o, e, false);
    static const char frames[] = "\x01\0\0\0\0\0\0\x04out\n"
                                 "\x02\0\0\0\0\0\0\x04"
                                 "err\n"
                                 "\x01\0\0\0\0\0\0\x00"
                                 "\x01\0\0\0\0\0\0\x03"
                                 "abc";
    size_t total = sizeof(frames) - 1;
    /* Fed one byte at a time: headers and payloads split anywhere. */
    for (size_t i = 0; i < total; i++)
        assert_int_equal(cli_demux_feed(&d, frames + i, 1, NULL), 0);
    assert_false(cli_demux_partial(&d));
    fclose(o);
    fclose(e);
    assert_string_equal(obuf, "out\nabc");
    assert_string_equal(ebuf, "err\n");
    free(obuf);
    free(ebuf);

    o = open_memstream(&obuf, &olen);
    e = open_memstream(&ebuf, &elen);
    cli_demux_init(&d, o, e, false);
    assert_int_equal(cli_demux_feed(&d, "\x01\0\0\0\0\0\0\x09par", 11, NULL), 0);
    assert_true(cli_demux_partial(&d));
    struct err *err = NULL;
    assert_int_equal(cli_demux_feed(&d, "tial--\x07\0\0\0\0\0\0\0", 14, &err), -1);
    assert_string_equal(err->msg, "Unrecognized input header: 7");
    err_free(err);
    cli_demux_init(&d, o, e, true);
    assert_int_equal(cli_demux_feed(&d, "\x01raw\r\n", 6, NULL), 0);
    fclose(o);
    fclose(e);
    assert_int_equal(olen, 9 + 6);
    assert_memory_equal(obuf, "partial--\x01raw\r\n", 15);
    free(obuf);
    free(ebuf);
}

/* ---- ps --------------------------------------------------------------------------------- */

static void test_quote_and_ports(void **state)
{
    (void)state;
    char *q = cli_go_quote("sh -c \"echo\\x\"\t\n\x01é");
    assert_string_equal(q, "\"sh -c \\\"echo\\\\x\\\"\\t\\n\\x01é\"");
    free(q);
    json_auto_t *ports =
        parse("[{\"IP\":\"0.0.0.0\",\"PrivatePort\":80,\"PublicPort\":8080,\"Type\":\"tcp\"},"
              "{\"IP\":\"::\",\"PrivatePort\":80,\"PublicPort\":8080,\"Type\":\"tcp\"},"
              "{\"PrivatePort\":443,\"Type\":\"tcp\"},{\"PrivatePort\":444,\"Type\":\"tcp\"},"
              "{\"PrivatePort\":53,\"Type\":\"udp\"},"
              "{\"IP\":\"0.0.0.0\",\"PrivatePort\":9000,\"PublicPort\":9000,\"Type\":\"tcp\"}]");
    char *s = cli_ports_display(ports);
    assert_string_equal(s, "53/udp, 443-444/tcp, 0.0.0.0:9000->9000/tcp, "
                           "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp");
    free(s);
    json_auto_t *none = json_array();
    s = cli_ports_display(none);
    assert_string_equal(s, "");
    free(s);
}

static void test_ps_row(void **state)
{
    (void)state;
    json_auto_t *item =
        parse("{\"Id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
              "\"Names\":[\"/web\"],\"Image\":\"busybox:latest\",\"ImageID\":\"sha256:ff\","
              "\"Command\":\"sh -c 'while true; do sleep 1; done'\",\"Created\":1699999820,"
              "\"Ports\":[],\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"State\":\"running\","
              "\"Status\":\"Up 3 minutes\",\"HostConfig\":{\"NetworkMode\":\"default\"},"
              "\"NetworkSettings\":{\"Networks\":{\"bridge\":{}}},\"Mounts\":[]}");
    json_auto_t *row = cli_ps_row(item, true, 1700000000, false);
    assert_string_equal(json_string_value(json_object_get(row, "ID")), "0123456789ab");
    assert_string_equal(json_string_value(json_object_get(row, "Command")),
                        "\"sh -c 'while true; …\"");
    assert_string_equal(json_string_value(json_object_get(row, "RunningFor")), "3 minutes ago");
    assert_string_equal(json_string_value(json_object_get(row, "Names")), "web");
    assert_string_equal(json_string_value(json_object_get(row, "Image")), "busybox:latest");
    assert_string_equal(json_string_value(json_object_get(row, "Labels")), "a=1,b=2");
    assert_string_equal(json_string_value(json_object_get(row, "Networks")), "bridge");
    assert_string_equal(json_string_value(json_object_get(row, "Size")), "0B");
    assert_string_equal(json_string_value(json_object_get(row, "LocalVolumes")), "0");
    assert_null(json_object_get(row, "Label"));
    json_auto_t *full = cli_ps_row(item, false, 1700000000, true);
    assert_int_equal(strlen(json_string_value(json_object_get(full, "ID"))), 64);
    assert_string_equal(json_string_value(json_object_get(full, "Command")),
                        "\"sh -c 'while true; do sleep 1; done'\"");
    assert_string_equal(json_string_value(json_object_get(json_object_get(full, "Label"), "a")),
                        "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_it_matches_docker),
        cmocka_unit_test(test_body_detached),
        cmocka_unit_test(test_body_every_flag),
        cmocka_unit_test(test_flag_errors),
        cmocka_unit_test(test_parse_bytes),
        cmocka_unit_test(test_parse_cpus),
        cmocka_unit_test(test_parse_restart),
        cmocka_unit_test(test_env_file),
        cmocka_unit_test(test_port_specs),
        cmocka_unit_test(test_demux),
        cmocka_unit_test(test_quote_and_ports),
        cmocka_unit_test(test_ps_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
