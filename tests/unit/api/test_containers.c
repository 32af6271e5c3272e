/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>
#include <cmocka.h>

#include "api/containers.h"
#include "tests/unit/testutil.h"

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    assert_non_null(s);
    return s;
}

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("bad JSON in test: %s", e.text);
    return j;
}

static const char body_dockerpy[] =
    "{\"Tty\": false, \"OpenStdin\": false, \"StdinOnce\": false, \"AttachStdin\": false, "
    "\"AttachStdout\": true, \"AttachStderr\": true, \"Cmd\": [\"echo\", \"hi\"], "
    "\"Image\": \"busybox\", \"NetworkDisabled\": false, "
    "\"HostConfig\": {\"NetworkMode\": \"default\"}}";

/* ---- create body ------------------------------------------------------------------------ */

static void test_create_body_round_trip(void **state)
{
    (void)state;
    assert_int_equal(strlen(tu_create_body_1734) + 1, 1734);
    json_auto_t *j = parse(tu_create_body_1734);
    struct api_container_config c;
    struct err *err = NULL;
    assert_int_equal(api_container_config_decode(j, &c, &err), 0);
    assert_true(c.tty && c.open_stdin && c.stdin_once && c.attach_stdin);
    assert_string_equal(c.image, "busybox");
    assert_string_equal(c.cmd[0], "/bin/sh");
    assert_null(c.cmd[1]);
    assert_null(c.env);
    assert_null(c.entrypoint);
    assert_null(c.host.binds);
    assert_non_null(c.host.dns);
    assert_null(c.host.dns[0]);
    assert_string_equal(c.host.network_mode, "default");
    assert_string_equal(c.host.restart_policy, "no");
    assert_int_equal(c.host.console_size[0], 40);
    assert_int_equal(c.host.console_size[1], 120);
    assert_int_equal(c.stop_timeout, -1);
    json_auto_t *again = api_container_create_encode(&c);
    char *txt = dump(again);
    assert_string_equal(txt, tu_create_body_1734);
    free(txt);
    api_container_config_release(&c);
}

static void test_create_body_dockerpy(void **state)
{
    (void)state;
    json_auto_t *j = parse(body_dockerpy);
    struct api_container_config c;
    struct err *err = NULL;
    assert_int_equal(api_container_config_decode(j, &c, &err), 0);
    assert_false(c.tty);
    assert_true(c.attach_stdout && c.attach_stderr);
    assert_string_equal(c.cmd[1], "hi");
    assert_string_equal(c.host.network_mode, "default");
    assert_null(c.host.restart_policy);
    assert_null(c.labels);
    assert_null(c.networking_config);
    assert_int_equal(c.host.pids_limit, 0);
    api_container_config_release(&c);
}

static void test_create_nulls_everywhere(void **state)
{
    (void)state;
    static const char *const keys[] = {"Hostname",     "User",
                                       "Env",          "Cmd",
                                       "Entrypoint",   "Image",
                                       "Labels",       "Volumes",
                                       "ExposedPorts", "StopSignal",
                                       "StopTimeout",  "Tty",
                                       "WorkingDir",   "NetworkingConfig",
                                       "HostConfig"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_auto_t *j = json_pack("{s:n, s:s}", keys[i], "Image", "busybox");
        if (strcmp(keys[i], "Image") == 0)
            json_object_set_new(j, "Image", json_null());
        struct api_container_config c;
        struct err *err = NULL;
        assert_int_equal(api_container_config_decode(j, &c, &err), 0);
        api_container_config_release(&c);
    }
    static const char *const hkeys[] = {
        "Binds",       "NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove",
        "CapAdd",      "CapDrop",     "Memory",       "MemorySwap",    "NanoCpus",
        "CpuShares",   "PidsLimit",   "ShmSize",      "Dns",           "ExtraHosts",
        "LogConfig",   "Sysctls",     "ConsoleSize",  "MaskedPaths",   "ReadonlyPaths",
        "SecurityOpt", "Init",        "OomScoreAdj",  "Privileged"};
    for (size_t i = 0; i < sizeof(hkeys) / sizeof(hkeys[0]); i++) {
        json_auto_t *j = json_pack("{s:s, s:{s:n}}", "Image", "busybox", "HostConfig", hkeys[i]);
        struct api_container_config c;
        struct err *err = NULL;
        if (api_container_config_decode(j, &c, &err) != 0)
            fail_msg("null %s refused: %s", hkeys[i], err->msg);
        api_container_config_release(&c);
    }
    json_auto_t *rp = parse("{\"HostConfig\":{\"RestartPolicy\":{\"Name\":null,"
                            "\"MaximumRetryCount\":null},\"LogConfig\":{\"Type\":null,"
                            "\"Config\":null}}}");
    struct api_container_config c;
    assert_int_equal(api_container_config_decode(rp, &c, NULL), 0);
    api_container_config_release(&c);
}

static void expect_refusal(const char *body, const char *msg)
{
    json_auto_t *j = parse(body);
    struct api_container_config c;
    struct err *err = NULL;
    assert_int_equal(api_container_config_decode(j, &c, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->kind, ERR_INVALID);
    if (strcmp(err->msg, msg) != 0)
        fail_msg("got \"%s\", want \"%s\"", err->msg, msg);
    err_free(err);
}

static void test_create_refusals(void **state)
{
    (void)state;
    expect_refusal("[]", "container config: expected a JSON object");
    expect_refusal("{\"HostConfig\":{\"Memory\":\"1g\"}}",
                   "HostConfig.Memory: expected an integer");
    expect_refusal("{\"HostConfig\":{\"Memory\":-1}}", "Minimum memory limit allowed is 6MB");
    expect_refusal("{\"HostConfig\":{\"Memory\":1024}}", "Minimum memory limit allowed is 6MB");
    expect_refusal("{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"sometimes\"}}}",
                   "invalid restart policy: unknown policy 'sometimes'; use one of 'no', "
                   "'always', 'on-failure', or 'unless-stopped'");
    expect_refusal("{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"on-failure\","
                   "\"MaximumRetryCount\":-2}}}",
                   "invalid restart policy: maximum retry count cannot be negative");
    expect_refusal("{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\","
                   "\"MaximumRetryCount\":3}}}",
                   "invalid restart policy: maximum retry count can only be used with "
                   "'on-failure'");
    expect_refusal("{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"no\","
                   "\"MaximumRetryCount\":-1}}}",
                   "invalid restart policy: maximum retry count can only be used with "
                   "'on-failure' and cannot be negative");
    expect_refusal("{\"HostConfig\":{\"RestartPolicy\":\"always\"}}",
                   "HostConfig.RestartPolicy: expected an object");
    expect_refusal("{\"HostConfig\":{\"RestartPolicy\":{\"MaximumRetryCount\":\"2\"}}}",
                   "HostConfig.RestartPolicy.MaximumRetryCount: expected an integer");
    expect_refusal("{\"Cmd\":[\"sh\",1]}", "Cmd[1]: expected a string");
    expect_refusal("{\"Cmd\":{}}", "Cmd: expected a string or an array of strings");
    expect_refusal("{\"Env\":\"A=b\"}", "Env: expected an array of strings");
    expect_refusal("{\"Tty\":1}", "Tty: expected a boolean");
    expect_refusal("{\"Labels\":{\"a\":1}}", "Labels.a: expected a string");
    expect_refusal("{\"HostConfig\":[]}", "HostConfig: expected an object");
    expect_refusal("{\"HostConfig\":{\"Binds\":\"/a:/b\"}}",
                   "HostConfig.Binds: expected an array of strings");
    expect_refusal("{\"HostConfig\":{\"PortBindings\":{\"80/tcp\":{}}}}",
                   "HostConfig.PortBindings.80/tcp: expected an array");
    expect_refusal("{\"HostConfig\":{\"ShmSize\":-1}}", "SHM size can not be less than 0");
    expect_refusal("{\"HostConfig\":{\"NanoCpus\":-5}}",
                   "HostConfig.NanoCpus: must not be negative");
    expect_refusal("{\"HostConfig\":{\"NanoCpus\":1000000000,\"CpuPeriod\":100000}}",
                   "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    expect_refusal("{\"HostConfig\":{\"Memory\":0,\"MemorySwap\":100000000}}",
                   "You should always set the Memory limit when using Memoryswap limit, see "
                   "usage");
    expect_refusal("{\"HostConfig\":{\"Memory\":100000000,\"MemorySwap\":10000000}}",
                   "Minimum memoryswap limit should be larger than memory limit, see usage");
    expect_refusal("{\"HostConfig\":{\"ConsoleSize\":[1]}}",
                   "HostConfig.ConsoleSize: expected [height,width] (unsigned integers)");
    expect_refusal("{\"HostConfig\":{\"CgroupnsMode\":\"shared\"}}",
                   "invalid cgroup namespace mode: shared");
    expect_refusal("{\"HostConfig\":{\"OomScoreAdj\":1001}}",
                   "Invalid value 1001, range for oom score adj is [-1000, 1000]");
    expect_refusal("{\"StopSignal\":\"SIGNOPE\"}", "Invalid signal: SIGNOPE");
    expect_refusal("{\"HostConfig\":{\"LogConfig\":{\"Config\":{\"max-size\":10}}}}",
                   "HostConfig.LogConfig.Config.max-size: expected a string");
}

static void test_create_accepts(void **state)
{
    (void)state;
    json_auto_t *j = parse("{\"Image\":\"b\",\"Cmd\":\"echo hi\",\"Entrypoint\":[\"\"],"
                           "\"StopTimeout\":0,\"HostConfig\":{\"RestartPolicy\":{\"Name\":"
                           "\"on-failure\",\"MaximumRetryCount\":2},\"Memory\":6291456,"
                           "\"MemorySwap\":-1,\"PidsLimit\":-1,\"CapAdd\":\"NET_ADMIN\"}}");
    struct api_container_config c;
    assert_int_equal(api_container_config_decode(j, &c, NULL), 0);
    assert_string_equal(c.cmd[0], "echo hi");
    assert_non_null(c.entrypoint);
    assert_null(c.entrypoint[0]);
    assert_int_equal(c.stop_timeout, 0);
    assert_int_equal(c.host.restart_max_retry, 2);
    assert_string_equal(c.host.cap_add[0], "NET_ADMIN");
    /* Reset is [""] on the wire and null in what dockerd shows after merging. */
    json_auto_t *body = api_container_create_encode(&c);
    char *e = dump(json_object_get(body, "Entrypoint"));
    assert_string_equal(e, "[\"\"]");
    free(e);
    json_auto_t *cfg = api_container_config_encode(&c);
    assert_true(json_is_null(json_object_get(cfg, "Entrypoint")));
    assert_int_equal(json_integer_value(json_object_get(cfg, "StopTimeout")), 0);
    json_auto_t *hc = api_host_config_encode(&c.host);
    assert_true(json_is_null(json_object_get(hc, "PidsLimit")));
    assert_true(json_is_null(json_object_get(hc, "MemorySwappiness")));
    assert_string_equal(json_string_value(json_object_get(hc, "Runtime")), "runc");
    /* The persisted HostConfig decodes back to the same values. */
    struct api_host_config h2;
    assert_int_equal(api_host_config_decode(hc, &h2, NULL), 0);
    assert_int_equal(h2.memory, 6291456);
    assert_int_equal(h2.memory_swap, -1);
    assert_string_equal(h2.restart_policy, "on-failure");
    json_auto_t *hc2 = api_host_config_encode(&h2);
    assert_true(json_equal(hc, hc2));
    struct api_container_config wrap = {.host = h2, .stop_timeout = -1};
    api_container_config_release(&wrap);
    api_container_config_release(&c);
}

/* ---- inspect and ps --------------------------------------------------------------------- */

static const char *const inspect_keys[] = {
    "Id",           "Created",         "Path",           "Args",       "State",
    "Image",        "ResolvConfPath",  "HostnamePath",   "HostsPath",  "LogPath",
    "Name",         "RestartCount",    "Driver",         "Platform",   "MountLabel",
    "ProcessLabel", "AppArmorProfile", "ExecIDs",        "HostConfig", "GraphDriver",
    "Mounts",       "Config",          "NetworkSettings"};

static void assert_keys(json_t *j, const char *const *keys, size_t n)
{
    assert_int_equal(json_object_size(j), n);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (strcmp(k, keys[i]) != 0)
            fail_msg("key %zu is %s, want %s", i, k, keys[i]);
        i++;
    }
}

static void expect_bind_error(const char *spec, const char *text)
{
    struct api_bind b;
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(api_bind_parse(spec, &b, &e), -1);
    assert_int_equal(e->kind, ERR_INVALID);
    assert_non_null(strstr(e->msg, text));
}

static void test_bind_parse(void **state)
{
    (void)state;
    struct api_bind b;
    assert_int_equal(api_bind_parse("/h/d:/data:ro,rslave", &b, NULL), 0);
    assert_string_equal(b.src, "/h/d");
    assert_string_equal(b.dst, "/data");
    assert_string_equal(b.mode, "ro,rslave");
    assert_true(b.ro);
    assert_string_equal(b.propagation, "rslave");
    api_bind_release(&b);
    assert_int_equal(api_bind_parse("/h:/x", &b, NULL), 0);
    assert_false(b.ro);
    assert_string_equal(b.mode, "");
    assert_string_equal(b.propagation, "rprivate");
    api_bind_release(&b);
    assert_int_equal(api_bind_parse("vol:/v:ro,nocopy", &b, NULL), 0);
    assert_true(b.volume && b.ro && b.nocopy);
    assert_string_equal(b.src, "vol");
    api_bind_release(&b);
    expect_bind_error("/h:rel", "mount path must be absolute");
    expect_bind_error("/h://", "destination can't be '/'");
    expect_bind_error("/h:/x:rw,bogus", "invalid mode: rw,bogus");
    expect_bind_error("/h", "invalid volume specification");
}

static void expect_mounts_error(const char *mounts, const char *tmpfs, const char *text)
{
    json_auto_t *m = mounts ? json_loads(mounts, 0, NULL) : NULL;
    json_auto_t *t = tmpfs ? json_loads(tmpfs, 0, NULL) : NULL;
    struct api_mount *out = NULL;
    size_t n = 0;
    _cleanup_err_ struct err *e = NULL;
    assert_int_equal(api_mounts_parse(m, t, &out, &n, &e), -1);
    assert_null(out);
    assert_non_null(strstr(e->msg, text));
}

static void test_mounts_parse(void **state)
{
    (void)state;
    json_auto_t *m =
        json_loads("[{\"Type\":\"bind\",\"Source\":\"/h\",\"Target\":\"/c\",\"ReadOnly\":true,"
                   "\"BindOptions\":{\"Propagation\":\"rslave\"}},"
                   "{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":{\"SizeBytes\":4096,"
                   "\"Mode\":1023}}]",
                   0, NULL);
    json_auto_t *t = json_loads("{\"/run\":\"size=2m,exec,ro\"}", 0, NULL);
    struct api_mount *out = NULL;
    size_t n = 0;
    assert_int_equal(api_mounts_parse(m, t, &out, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_false(out[0].tmpfs);
    assert_string_equal(out[0].source, "/h");
    assert_string_equal(out[0].propagation, "rslave");
    assert_true(out[0].ro);
    assert_true(out[1].tmpfs && !out[1].from_tmpfs);
    assert_string_equal(out[1].data, "size=4096,mode=1777");
    assert_int_equal(out[1].flags, MS_NOEXEC | MS_NOSUID | MS_NODEV);
    assert_true(out[2].tmpfs && out[2].from_tmpfs && out[2].ro);
    assert_string_equal(out[2].target, "/run");
    assert_string_equal(out[2].data, "size=2m");
    assert_int_equal(out[2].flags, MS_NOSUID | MS_NODEV);
    api_mounts_free(out, n);
    api_mounts_free(NULL, 3); /* nothing to free */
    json_auto_t *vm = json_loads("[{\"Type\":\"volume\",\"Source\":\"v1\",\"Target\":\"/v\","
                                 "\"VolumeOptions\":{\"NoCopy\":true}}]",
                                 0, NULL);
    assert_int_equal(api_mounts_parse(vm, NULL, &out, &n, NULL), 0);
    assert_true(n == 1 && out[0].volume && out[0].nocopy && !out[0].tmpfs);
    assert_string_equal(out[0].source, "v1");
    api_mounts_free(out, n);
    expect_mounts_error("[{\"Type\":\"volume\",\"Target\":\"/v\",\"VolumeOptions\":"
                        "{\"DriverConfig\":{\"Name\":\"nfs\"}}}]",
                        NULL, "volume driver \"nfs\" is not supported");
    expect_mounts_error("[{\"Type\":\"bind\",\"Target\":\"/v\"}]", NULL,
                        "field Source must not be empty");
    expect_mounts_error("[{\"Type\":\"bind\",\"Source\":\"rel\",\"Target\":\"/v\"}]", NULL,
                        "mount path must be absolute");
    expect_mounts_error("[{\"Type\":\"bind\",\"Source\":\"/h\",\"Target\":\"v\"}]", NULL,
                        "mount path must be absolute");
    expect_mounts_error("[{\"Type\":\"tmpfs\",\"Source\":\"/h\",\"Target\":\"/t\"}]", NULL,
                        "field Source must not be specified");
    expect_mounts_error("[{\"Type\":\"npipe\",\"Target\":\"/t\"}]", NULL, "mount type unknown");
    expect_mounts_error("[3]", NULL, "expected an object with a Type");
    expect_mounts_error(NULL, "{\"/t\":\"size=1m,bogus\"}", "invalid tmpfs option \"bogus\"");
    expect_mounts_error(NULL, "{\"/t\":\"size=$(x)\"}", "invalid tmpfs option");
    expect_mounts_error(NULL, "{\"t\":\"\"}", "mount path must be absolute");
}

static void test_inspect_shape(void **state)
{
    (void)state;
    json_auto_t *body = parse("{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"9\"],"
                              "\"HostConfig\":{\"Binds\":[\"/tmp/h:/data:ro\",\"vol:/v\"],"
                              "\"NetworkMode\":\"none\"}}");
    struct api_container_config c;
    assert_int_equal(api_container_config_decode(body, &c, NULL), 0);
    char *args[] = {"9", NULL};
    struct api_container_inspect in = {
        .id = "abc",
        .created = "2024-01-02T03:04:05.000000001Z",
        .path = "sleep",
        .args = args,
        .state = {.status = "running",
                  .running = true,
                  .pid = 42,
                  .started_at = "2024-01-02T03:04:06.5Z"},
        .image_id = "sha256:1",
        .name = "/d1",
        .config = &c,
        .host_config = &c.host,
        .upper_dir = "/u",
    };
    json_auto_t *j = api_container_inspect_encode(&in, 1044);
    assert_keys(j, inspect_keys, sizeof(inspect_keys) / sizeof(inspect_keys[0]));
    static const char *const state_keys[] = {"Status",    "Running",   "Paused",    "Restarting",
                                             "OOMKilled", "Dead",      "Pid",       "ExitCode",
                                             "Error",     "StartedAt", "FinishedAt"};
    assert_keys(json_object_get(j, "State"), state_keys, 11);
    char *st = dump(json_object_get(j, "State"));
    assert_string_equal(st,
                        "{\"Status\":\"running\",\"Running\":true,\"Paused\":false,"
                        "\"Restarting\":false,\"OOMKilled\":false,\"Dead\":false,\"Pid\":42,"
                        "\"ExitCode\":0,\"Error\":\"\",\"StartedAt\":\"2024-01-02T03:04:06.5Z\","
                        "\"FinishedAt\":\"0001-01-01T00:00:00Z\"}");
    free(st);
    char *m = dump(json_object_get(j, "Mounts"));
    assert_string_equal(m, "[{\"Type\":\"bind\",\"Source\":\"/tmp/h\",\"Destination\":\"/data\","
                           "\"Mode\":\"ro\",\"RW\":false,\"Propagation\":\"rprivate\"}]");
    free(m);
    char *g = dump(json_object_get(j, "GraphDriver"));
    assert_string_equal(g, "{\"Data\":{\"UpperDir\":\"/u\"},\"Name\":\"overlay2\"}");
    free(g);
    assert_true(json_is_null(json_object_get(j, "ExecIDs")));
    json_t *cfg = json_object_get(j, "Config");
    static const char *const cfg_keys[] = {
        "Hostname", "Domainname", "User",       "AttachStdin", "AttachStdout", "AttachStderr",
        "Tty",      "OpenStdin",  "StdinOnce",  "Env",         "Cmd",          "Image",
        "Volumes",  "WorkingDir", "Entrypoint", "OnBuild",     "Labels"};
    assert_keys(cfg, cfg_keys, sizeof(cfg_keys) / sizeof(cfg_keys[0]));
    json_t *hc = json_object_get(j, "HostConfig");
    assert_string_equal(json_string_value(json_object_get(hc, "NetworkMode")), "none");
    assert_non_null(json_object_get(hc, "MaskedPaths"));
    assert_non_null(json_object_get(hc, "ShmSize"));
    json_t *ns = json_object_get(j, "NetworkSettings");
    assert_string_equal(json_string_value(json_object_get(ns, "IPAddress")), "");
    assert_true(json_is_object(json_object_get(ns, "Networks")));
    assert_true(json_is_object(json_object_get(ns, "Ports")));
    api_container_config_release(&c);

    /* No config at all still gives every key. */
    struct api_container_inspect bare = {.id = "x"};
    json_auto_t *b = api_container_inspect_encode(&bare, 1041);
    assert_keys(b, inspect_keys, sizeof(inspect_keys) / sizeof(inspect_keys[0]));
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "State"), "Status")),
                        "created");
}

static void test_summary_shape(void **state)
{
    (void)state;
    char *names[] = {"/web", NULL};
    json_auto_t *labels = parse("{\"a\":\"b\"}");
    struct api_container_summary s = {.id = "abc",
                                      .names = names,
                                      .image = "busybox",
                                      .image_id = "sha256:1",
                                      .command = "sleep 9",
                                      .created = 1700000000,
                                      .state = "running",
                                      .status = "Up 3 minutes",
                                      .labels = labels,
                                      .network_mode = "default",
                                      .size_rw = -1,
                                      .size_root_fs = -1};
    json_auto_t *j = api_container_summary_encode(&s);
    char *txt = dump(j);
    assert_string_equal(txt, "{\"Id\":\"abc\",\"Names\":[\"/web\"],\"Image\":\"busybox\","
                             "\"ImageID\":\"sha256:1\",\"Command\":\"sleep 9\","
                             "\"Created\":1700000000,\"Ports\":[],\"Labels\":{\"a\":\"b\"},"
                             "\"State\":\"running\",\"Status\":\"Up 3 minutes\","
                             "\"HostConfig\":{\"NetworkMode\":\"default\"},"
                             "\"NetworkSettings\":{\"Networks\":{}},\"Mounts\":[]}");
    free(txt);
    s.size_rw = 0;
    s.size_root_fs = 4096;
    json_auto_t *k = api_container_summary_encode(&s);
    assert_null(json_object_get(k, "SizeRw"));
    assert_int_equal(json_integer_value(json_object_get(k, "SizeRootFs")), 4096);
}

/* ---- status text ------------------------------------------------------------------------ */

#define S 1000000000LL
#define M (60 * S)
#define H (60 * M)
#define D (24 * H)

static void expect_duration(int64_t ns, const char *want)
{
    char *got = api_human_duration(ns);
    if (strcmp(got, want) != 0)
        fail_msg("%lld ns: got \"%s\", want \"%s\"", (long long)ns, got, want);
    free(got);
}

static void test_human_duration(void **state)
{
    (void)state;
    expect_duration(-5 * S, "Less than a second");
    expect_duration(999999999, "Less than a second");
    expect_duration(S, "1 second");
    expect_duration(2 * S, "2 seconds");
    expect_duration(59 * S + 999, "59 seconds");
    expect_duration(60 * S, "About a minute");
    expect_duration(119 * S, "About a minute");
    expect_duration(2 * M, "2 minutes");
    expect_duration(59 * M + 59 * S, "59 minutes");
    expect_duration(60 * M, "About an hour");
    expect_duration(H + 29 * M, "About an hour");
    expect_duration(H + 30 * M, "2 hours");
    expect_duration(47 * H + 29 * M, "47 hours");
    expect_duration(47 * H + 30 * M, "2 days");
    expect_duration(13 * D + 11 * H, "13 days");
    expect_duration(13 * D + 12 * H, "14 days");
    expect_duration(14 * D, "2 weeks");
    expect_duration(59 * D, "8 weeks");
    expect_duration(60 * D, "2 months");
    expect_duration(729 * D, "24 months");
    expect_duration(730 * D, "2 years");
    expect_duration(365 * 5 * D, "5 years");
}

static void expect_status(struct api_container_state st, int64_t started, int64_t finished,
                          int64_t now, const char *want)
{
    char *got = api_container_status_text(&st, started, finished, now);
    if (strcmp(got, want) != 0)
        fail_msg("got \"%s\", want \"%s\"", got, want);
    free(got);
}

static void test_status_text(void **state)
{
    (void)state;
    int64_t now = 1700000000 * S;
    expect_status((struct api_container_state){.status = "running", .running = true}, now - 3 * M,
                  0, now, "Up 3 minutes");
    expect_status((struct api_container_state){.status = "running", .running = true}, now - 10, 0,
                  now, "Up Less than a second");
    expect_status((struct api_container_state){.status = "paused", .running = true, .paused = true},
                  now - 5 * S, 0, now, "Up 5 seconds (Paused)");
    expect_status(
        (struct api_container_state){
            .status = "restarting", .running = true, .restarting = true, .exit_code = 1},
        now - H, now - 3 * S, now, "Restarting (1) 3 seconds ago");
    expect_status((struct api_container_state){.status = "exited", .exit_code = 3}, now - 3 * H,
                  now - 2 * H, now, "Exited (3) 2 hours ago");
    expect_status((struct api_container_state){.status = "exited", .exit_code = 137}, now - 3 * H,
                  now - 2 * S, now, "Exited (137) 2 seconds ago");
    expect_status((struct api_container_state){.status = "created"}, 0, 0, now, "Created");
    expect_status((struct api_container_state){.status = "removing"}, now - H, now, now,
                  "Removal In Progress");
    expect_status((struct api_container_state){.status = "dead", .dead = true}, now - H, now, now,
                  "Dead");
}

/* ---- replies and signals ---------------------------------------------------------------- */

static void test_small_replies(void **state)
{
    (void)state;
    char *w = api_wait_encode(3, NULL);
    assert_string_equal(w, "{\"Error\":null,\"StatusCode\":3}\n");
    free(w);
    w = api_wait_encode(-1, "context canceled");
    assert_string_equal(w, "{\"Error\":{\"Message\":\"context canceled\"},\"StatusCode\":-1}\n");
    free(w);
    json_auto_t *c = api_create_response_encode("abc", NULL);
    char *t = dump(c);
    assert_string_equal(t, "{\"Id\":\"abc\",\"Warnings\":[]}");
    free(t);
    char *warn[] = {"Your kernel does not support swap limit capabilities.", NULL};
    json_auto_t *c2 = api_create_response_encode("abc", warn);
    assert_int_equal(json_array_size(json_object_get(c2, "Warnings")), 1);
    json_auto_t *p = api_container_prune_encode(NULL, 0);
    t = dump(p);
    assert_string_equal(t, "{\"ContainersDeleted\":null,\"SpaceReclaimed\":0}");
    free(t);
}

static void test_signals(void **state)
{
    (void)state;
    assert_int_equal(api_signal_parse("KILL"), 9);
    assert_int_equal(api_signal_parse("SIGKILL"), 9);
    assert_int_equal(api_signal_parse("sigkill"), 9);
    assert_int_equal(api_signal_parse("kill"), 9);
    assert_int_equal(api_signal_parse("9"), 9);
    assert_int_equal(api_signal_parse("TERM"), 15);
    assert_int_equal(api_signal_parse("WINCH"), 28);
    assert_int_equal(api_signal_parse("INT"), 2);
    assert_int_equal(api_signal_parse("USR1"), 10);
    assert_int_equal(api_signal_parse("SIGCHLD"), 17);
    assert_int_equal(api_signal_parse("CLD"), 17);
    assert_int_equal(api_signal_parse("1"), 1);
    assert_int_equal(api_signal_parse("64"), 64);
    assert_int_equal(api_signal_parse("RTMIN"), 34);
    assert_int_equal(api_signal_parse("SIGRTMIN+3"), 37);
    assert_int_equal(api_signal_parse("rtmax-1"), 63);
    assert_int_equal(api_signal_parse("RTMAX"), 64);
    assert_int_equal(api_signal_parse("0"), -1);
    assert_int_equal(api_signal_parse("65"), -1);
    assert_int_equal(api_signal_parse("-9"), -1);
    assert_int_equal(api_signal_parse("9x"), -1);
    assert_int_equal(api_signal_parse(""), -1);
    assert_int_equal(api_signal_parse(NULL), -1);
    assert_int_equal(api_signal_parse("SIG"), -1);
    assert_int_equal(api_signal_parse("NOPE"), -1);
    assert_int_equal(api_signal_parse("RTMIN+31"), -1);
    assert_int_equal(api_signal_parse("RTMIN+"), -1);
    assert_int_equal(api_signal_parse("RTMAX+1"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_body_round_trip),
        cmocka_unit_test(test_create_body_dockerpy),
        cmocka_unit_test(test_create_nulls_everywhere),
        cmocka_unit_test(test_create_refusals),
        cmocka_unit_test(test_create_accepts),
        cmocka_unit_test(test_bind_parse),
        cmocka_unit_test(test_mounts_parse),
        cmocka_unit_test(test_inspect_shape),
        cmocka_unit_test(test_summary_shape),
        cmocka_unit_test(test_human_duration),
        cmocka_unit_test(test_status_text),
        cmocka_unit_test(test_small_replies),
        cmocka_unit_test(test_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
