/* SPDX-License-Identifier: Apache-2.0 */
/* berth version, berth info. */
#include "client/cli.h"

#include <string.h>
#include <time.h>

#include "api/api.h"
#include "client/format.h"

const char *cli_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "cc";
#endif
}

const char *cli_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "386";
#elif defined(__arm__)
    return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#else
    return "unknown";
#endif
}

/* Go's time.ANSIC of a struct tm: "Mon Jan _2 15:04:05 2006". */
static void ansic(const struct tm *tm, char out[64])
{
    if (strftime(out, 64, "%a %b %e %H:%M:%S %Y", tm) == 0)
        out[0] = '\0';
}

void cli_build_time(char out[64])
{
    struct tm tm = {0};
    if (!strptime(__DATE__ " " __TIME__, "%b %d %Y %H:%M:%S", &tm)) {
        snprintf(out, 64, "%s %s", __DATE__, __TIME__);
        return;
    }
    tm.tm_isdst = -1;
    time_t t = timegm(&tm); /* fills tm_wday */
    gmtime_r(&t, &tm);
    ansic(&tm, out);
}

/* A server's RFC 3339 build time in ANSIC, as docker shows it; other text is kept. */
static void server_time(const char *s, char out[64])
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end) {
        snprintf(out, 64, "%s", s ? s : "");
        return;
    }
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    ansic(&tm, out);
}

void cli_human_bytes(double bytes, char out[32])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    size_t i = 0;
    while (bytes >= 1024 && i + 1 < ARRAY_SIZE(units)) {
        bytes /= 1024;
        i++;
    }
    snprintf(out, 32, "%.4g%s", bytes, units[i]);
}

static const char *s_or(const char *s)
{
    return s ? s : "";
}

/* ---- version ----------------------------------------------------------------------------- */

static json_t *client_version_json(const struct cli_client *cl)
{
    char built[64];
    cli_build_time(built);
    const char *api = cl && cl->api_version[0] ? cl->api_version : API_VERSION;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Version", BERTH_VERSION,
                     "ApiVersion", api, "DefaultAPIVersion", API_VERSION, "GitCommit",
                     BERTH_GIT_COMMIT, "GoVersion", cli_compiler(), "Os", "linux", "Arch",
                     cli_arch(), "BuildTime", built);
}

static void print_client_version(struct cli_table *t, json_t *c)
{
    const char *api = json_string_value(json_object_get(c, "ApiVersion"));
    cli_table_addf(t, "Client:\n Version:\t%s\n API version:\t%s%s%s%s\n", BERTH_VERSION, api,
                   strcmp(api, API_VERSION) != 0 ? " (downgraded from " : "",
                   strcmp(api, API_VERSION) != 0 ? API_VERSION : "",
                   strcmp(api, API_VERSION) != 0 ? ")" : "");
    cli_table_addf(t, " C compiler:\t%s\n Git commit:\t%s\n Built:\t%s\n OS/Arch:\t%s/%s\n",
                   cli_compiler(), BERTH_GIT_COMMIT,
                   json_string_value(json_object_get(c, "BuildTime")), "linux", cli_arch());
}

static void print_component(struct cli_table *t, json_t *comp)
{
    cli_table_addf(t, " %s:\n  Version:\t%s\n",
                   s_or(json_string_value(json_object_get(comp, "Name"))),
                   s_or(json_string_value(json_object_get(comp, "Version"))));
    json_t *details = json_object_get(comp, "Details");
    const char *k;
    json_t *v;
    json_object_foreach(details, k, v)
    {
        struct sb sb = SB_INIT;
        cli_format_value(v, &sb);
        cli_table_addf(t, "  %s:\t%s\n", k, sb_str(&sb));
        sb_release(&sb);
    }
}

static int print_server_version(struct cli_table *t, json_t *raw, struct err **err)
{
    struct api_version v;
    if (api_version_decode(raw, &v, err) < 0)
        return err_wrap(err, "decoding the daemon's version");
    char built[64];
    server_time(v.build_time, built);
    cli_table_addf(t, "\nServer:%s%s\n Engine:\n  Version:\t%s\n", v.platform_name ? " " : "",
                   s_or(v.platform_name), s_or(v.version));
    cli_table_addf(t, "  API version:\t%s (minimum version %s)\n", s_or(v.api_version),
                   s_or(v.min_api_version));
    cli_table_addf(t, "  C compiler:\t%s\n  Git commit:\t%s\n  Built:\t%s\n", s_or(v.go_version),
                   s_or(v.git_commit), built);
    cli_table_addf(t, "  OS/Arch:\t%s/%s\n  Experimental:\t%s\n", s_or(v.os), s_or(v.arch),
                   v.experimental ? "true" : "false");
    size_t i;
    json_t *comp;
    json_array_foreach(json_object_get(raw, "Components"), i, comp)
    {
        const char *name = json_string_value(json_object_get(comp, "Name"));
        if (name && strcmp(name, "Engine") != 0)
            print_component(t, comp);
    }
    api_version_release(&v);
    return 0;
}

int cli_cmd_version(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *fmt = cli_flag_str(args, "format");
    struct cli_format *f = NULL;
    if (fmt && cli_format_parse(fmt, &f, err) < 0)
        return -1;
    cli_format_free(f);

    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    json_auto_t *server = NULL;
    _cleanup_err_ struct err *serr = NULL;
    int sr = cli_client_call(cl, "GET", "/version", NULL, &server, &serr);
    json_auto_t *client = client_version_json(cl);
    int r = 0;
    if (fmt) {
        json_auto_t *all =
            json_pack("{s:O, s:O}", "Client", client, "Server", server ? server : json_null());
        r = cli_format_print(fmt, all, ctx->out, err);
    } else {
        struct cli_table t;
        cli_table_init(&t, 20, 1);
        print_client_version(&t, client);
        if (sr == 0 && server)
            r = print_server_version(&t, server, err);
        struct sb out = SB_INIT;
        cli_table_render(&t, &out);
        fwrite(out.buf, 1, out.len, ctx->out);
        sb_release(&out);
        cli_table_release(&t);
    }
    if (r < 0)
        return -1;
    if (sr < 0) {
        fflush(ctx->out);
        fprintf(ctx->errf, "%s\n", serr->msg);
        return 1;
    }
    return 0;
}

/* ---- info -------------------------------------------------------------------------------- */

static json_t *client_info_json(const struct cli_ctx *ctx)
{
    char built[64];
    cli_build_time(built);
    return json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:n}", "Debug", ctx->debug,
                     "Version", BERTH_VERSION, "GitCommit", BERTH_GIT_COMMIT, "GoVersion",
                     cli_compiler(), "Os", "linux", "Arch", cli_arch(), "BuildTime", built,
                     "Plugins", "Warnings");
}

static void print_strv(FILE *out, const char *title, char **v, bool always)
{
    if (!always && (!v || !*v))
        return;
    fprintf(out, " %s:\n", title);
    for (char **p = v; p && *p; p++)
        fprintf(out, "  %s\n", *p);
}

static void print_security_options(FILE *out, json_t *raw)
{
    json_t *opts = json_object_get(raw, "SecurityOptions");
    if (json_array_size(opts) == 0)
        return;
    fputs(" Security Options:\n", out);
    size_t i;
    json_t *o;
    json_array_foreach(opts, i, o)
    {
        /* "name=seccomp,profile=default" prints as "seccomp" and "Profile: default" */
        _cleanup_free_ char *s = xstrdup(s_or(json_string_value(o)));
        char *save = NULL;
        for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq) {
                fprintf(out, "  %s\n", kv);
            } else if (strncmp(kv, "name=", 5) == 0) {
                fprintf(out, "  %s\n", eq + 1);
            } else {
                *eq = '\0';
                fprintf(out, "   %c%s: %s\n", (char)(kv[0] & ~0x20), kv + 1, eq + 1);
            }
        }
    }
}

static void print_plugins_runtimes(FILE *out, json_t *raw)
{
    json_t *plugins = json_object_get(raw, "Plugins");
    if (json_is_object(plugins)) {
        fputs(" Plugins:\n", out);
        static const char *const kinds[] = {"Volume", "Network", "Authorization", "Log"};
        for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
            json_t *list = json_object_get(plugins, kinds[k]);
            if (json_array_size(list) == 0)
                continue;
            struct sb sb = SB_INIT;
            size_t i;
            json_t *e;
            json_array_foreach(list, i, e)
            {
                sb_addf(&sb, "%s%s", i ? " " : "", s_or(json_string_value(e)));
            }
            fprintf(out, "  %s: %s\n", kinds[k], sb_str(&sb));
            sb_release(&sb);
        }
    }
    json_t *swarm = json_object_get(raw, "Swarm");
    const char *state = json_string_value(json_object_get(swarm, "LocalNodeState"));
    fprintf(out, " Swarm: %s\n", state ? state : "inactive");
    json_t *runtimes = json_object_get(raw, "Runtimes");
    if (json_object_size(runtimes) > 0) {
        fputs(" Runtimes:", out);
        const char *name;
        json_t *e;
        json_object_foreach(runtimes, name, e)
        {
            fprintf(out, " %s", name);
        }
        fputc('\n', out);
    }
}

static void print_driver(FILE *out, const struct api_info *in, json_t *raw)
{
    fprintf(out, " Storage Driver: %s\n", s_or(in->driver));
    size_t i;
    json_t *pair;
    json_array_foreach(json_object_get(raw, "DriverStatus"), i, pair)
    {
        fprintf(out, "  %s: %s\n", s_or(json_string_value(json_array_get(pair, 0))),
                s_or(json_string_value(json_array_get(pair, 1))));
    }
}

static void print_server_info(FILE *out, const struct api_info *in, json_t *raw)
{
    fprintf(out, " Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n",
            (long long)in->containers, (long long)in->containers_running,
            (long long)in->containers_paused, (long long)in->containers_stopped);
    fprintf(out, " Images: %lld\n Server Version: %s\n", (long long)in->images,
            s_or(in->server_version));
    print_driver(out, in, raw);
    fprintf(out, " Logging Driver: %s\n Cgroup Driver: %s\n Cgroup Version: %s\n",
            s_or(in->logging_driver), s_or(in->cgroup_driver), s_or(in->cgroup_version));
    print_plugins_runtimes(out, raw);
    if (in->default_runtime)
        fprintf(out, " Default Runtime: %s\n", in->default_runtime);
    print_security_options(out, raw);
    char mem[32];
    cli_human_bytes((double)in->mem_total, mem);
    fprintf(out, " Kernel Version: %s\n Operating System: %s\n OSType: %s\n",
            s_or(in->kernel_version), s_or(in->operating_system), s_or(in->os_type));
    fprintf(out, " Architecture: %s\n CPUs: %lld\n Total Memory: %s\n Name: %s\n ID: %s\n",
            s_or(in->architecture), (long long)in->ncpu, mem, s_or(in->name), s_or(in->id));
    fprintf(out, " Root Dir: %s\n Debug Mode: %s\n Experimental: %s\n", s_or(in->docker_root_dir),
            json_is_true(json_object_get(raw, "Debug")) ? "true" : "false",
            in->experimental_build ? "true" : "false");
    if (in->http_proxy && *in->http_proxy)
        fprintf(out, " HTTP Proxy: %s\n", in->http_proxy);
    if (in->https_proxy && *in->https_proxy)
        fprintf(out, " HTTPS Proxy: %s\n", in->https_proxy);
    if (in->no_proxy && *in->no_proxy)
        fprintf(out, " No Proxy: %s\n", in->no_proxy);
    print_strv(out, "Insecure Registries", in->insecure_registries, true);
    print_strv(out, "Registry Mirrors", in->registry_mirrors, false);
    fprintf(out, " Live Restore Enabled: %s\n", in->live_restore_enabled ? "true" : "false");
}

int cli_cmd_info(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    const char *fmt = cli_flag_str(args, "format");
    struct cli_format *f = NULL;
    if (fmt && cli_format_parse(fmt, &f, err) < 0)
        return -1;
    cli_format_free(f);

    struct cli_client *cl = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0)
        return -1;
    json_auto_t *raw = NULL;
    _cleanup_err_ struct err *serr = NULL;
    int sr = cli_client_call(cl, "GET", "/info", NULL, &raw, &serr);
    if (fmt) {
        if (sr < 0) {
            fprintf(ctx->errf, "%s\n", serr->msg);
            return 1;
        }
        json_auto_t *all = json_deep_copy(raw ? raw : json_object());
        json_object_set_new(all, "ClientInfo", client_info_json(ctx));
        return cli_format_print(fmt, all, ctx->out, err);
    }
    fprintf(ctx->out, "Client:\n Version:    %s\n Debug Mode: %s\n\nServer:\n", BERTH_VERSION,
            ctx->debug ? "true" : "false");
    if (sr < 0) {
        fflush(ctx->out);
        fprintf(ctx->errf, "%s\n", serr->msg);
        return 1;
    }
    struct api_info in;
    if (api_info_decode(raw ? raw : json_object(), &in, err) < 0)
        return err_wrap(err, "decoding the daemon's info");
    print_server_info(ctx->out, &in, raw);
    fflush(ctx->out);
    for (char **w = in.warnings; w && *w; w++)
        fprintf(ctx->errf, "%s\n", *w);
    api_info_release(&in);
    return 0;
}
