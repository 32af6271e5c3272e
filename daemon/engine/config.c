/* SPDX-License-Identifier: Apache-2.0 */
/* berthd's flags and daemon.json: defaults, then the file, then flags (flags win). */
#include "daemon/engine/engine.h"

#define NET_DEFAULT_BRIDGE_NAME "berth0"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* One bit per setting a flag can set, so the file does not override it. */
enum {
    SET_HOSTS = 1u << 0,
    SET_DATA_ROOT = 1u << 1,
    SET_EXEC_ROOT = 1u << 2,
    SET_PIDFILE = 1u << 3,
    SET_LOG_LEVEL = 1u << 4,
    SET_GROUP = 1u << 5,
    SET_LIVE_RESTORE = 1u << 6,
    SET_INSECURE = 1u << 7,
    SET_MIRRORS = 1u << 8,
    SET_SHUTDOWN_TIMEOUT = 1u << 9,
    SET_BIP = 1u << 16,
    SET_BRIDGE = 1u << 17,
    SET_IPTABLES = 1u << 18,
    SET_IP_FORWARD = 1u << 19,
    SET_CERTS_DIR = 1u << 10,
};

static const char usage_text[] =
    "Usage:\tberthd [OPTIONS]\n"
    "\n"
    "A container engine serving the Docker Engine API\n"
    "\n"
    "Options:\n"
    "  -b, --bridge string               Attach containers to a network bridge (default "
    "\"" NET_DEFAULT_BRIDGE_NAME "\"; \"none\" disables it)\n"
    "      --bip string                  Network bridge IP (CIDR, e.g. 172.20.0.1/16)\n"
    "      --certs-dir string            Per-registry TLS certificates (default "
    "\"" ENGINE_DEFAULT_CERTS_DIR "\")\n"
    "      --config-file string          Daemon configuration file (default "
    "\"" ENGINE_DEFAULT_CONFIG_FILE "\")\n"
    "      --data-root string            Root directory of persistent state (default "
    "\"" ENGINE_DEFAULT_DATA_ROOT "\")\n"
    "  -D, --debug                       Enable debug mode\n"
    "      --exec-root string            Root directory for execution state files (default "
    "\"" ENGINE_DEFAULT_EXEC_ROOT "\")\n"
    "  -G, --group string                Group for the unix socket (default "
    "\"" ENGINE_DEFAULT_GROUP "\")\n"
    "  -h, --help                        Print usage\n"
    "  -H, --host list                   Daemon socket(s) to listen on (unix:///path, fd://)\n"
    "      --insecure-registry list      Registries reachable over plain HTTP\n"
    "      --ip-forward[=true|false]     Enable net.ipv4.ip_forward (default true)\n"
    "      --iptables[=true|false]       Enable addition of iptables rules (default true)\n"
    "      --live-restore[=true|false]   Keep containers running while the daemon is down "
    "(default true)\n"
    "  -l, --log-level string            Logging level (\"debug\"|\"info\"|\"warn\"|\"error\"|"
    "\"fatal\") (default \"info\")\n"
    "  -p, --pidfile string              Path to use for daemon PID file (default "
    "\"" ENGINE_DEFAULT_PIDFILE "\")\n"
    "      --registry-mirror list        Preferred registry mirror\n"
    "      --shutdown-timeout int        Seconds to let requests finish at shutdown "
    "(default 15)\n"
    "  -v, --version                     Print version information and quit\n";

static void strv_push(char ***v, const char *s)
{
    size_t n = 0;
    while (*v && (*v)[n])
        n++;
    *v = xrealloc(*v, (n + 2) * sizeof(**v));
    (*v)[n] = xstrdup(s);
    (*v)[n + 1] = NULL;
}

static void strv_clear(char ***v)
{
    for (char **p = *v; p && *p; p++)
        free(*p);
    free(*v);
    *v = NULL;
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = xstrdup(s);
}

static int check_host(const char *h, struct err **err)
{
    if (strncmp(h, "unix://", 7) == 0) {
        if (h[7] != '/')
            return err_set(err, ERR_INVALID, 0,
                           "invalid host %s: the socket path must be "
                           "absolute",
                           h);
        return 0;
    }
    if (strncmp(h, "fd://", 5) == 0)
        return 0;
    if (h[0] == '/')
        return 0;
    return err_set(err, ERR_INVALID, 0,
                   "invalid host %s: only unix:///path and fd:// are "
                   "supported",
                   h);
}

static int check_abs(const char *what, const char *path, struct err **err)
{
    if (path[0] != '/')
        return err_set(err, ERR_INVALID, 0, "%s must be an absolute path: %s", what, path);
    return 0;
}

static int json_strv(json_t *v, const char *key, char ***out, struct err **err)
{
    if (!json_is_array(v))
        return err_set(err, ERR_INVALID, 0, "\"%s\" must be a list of strings", key);
    strv_clear(out);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) {
            strv_clear(out);
            return err_set(err, ERR_INVALID, 0, "\"%s\" must be a list of strings", key);
        }
        strv_push(out, json_string_value(e));
    }
    return 0;
}

static int json_str(json_t *v, const char *key, char **out, struct err **err)
{
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID, 0, "\"%s\" must be a string", key);
    set_str(out, json_string_value(v));
    return 0;
}

static int apply_key(struct engine_config *cfg, const char *key, json_t *v, unsigned int set,
                     struct err **err)
{
    if (strcmp(key, "hosts") == 0)
        return (set & SET_HOSTS) ? 0 : json_strv(v, key, &cfg->hosts, err);
    if (strcmp(key, "data-root") == 0)
        return (set & SET_DATA_ROOT) ? 0 : json_str(v, key, &cfg->data_root, err);
    if (strcmp(key, "exec-root") == 0)
        return (set & SET_EXEC_ROOT) ? 0 : json_str(v, key, &cfg->exec_root, err);
    if (strcmp(key, "pidfile") == 0)
        return (set & SET_PIDFILE) ? 0 : json_str(v, key, &cfg->pidfile, err);
    if (strcmp(key, "group") == 0) {
        if (set & SET_GROUP)
            return 0;
        cfg->group_explicit = true;
        return json_str(v, key, &cfg->group, err);
    }
    if (strcmp(key, "insecure-registries") == 0)
        return (set & SET_INSECURE) ? 0 : json_strv(v, key, &cfg->insecure_registries, err);
    if (strcmp(key, "certs-dir") == 0)
        return (set & SET_CERTS_DIR) ? 0 : json_str(v, key, &cfg->certs_dir, err);
    if (strcmp(key, "registry-mirrors") == 0)
        return (set & SET_MIRRORS) ? 0 : json_strv(v, key, &cfg->registry_mirrors, err);
    if (strcmp(key, "log-level") == 0 || strcmp(key, "debug") == 0) {
        if (set & SET_LOG_LEVEL)
            return 0;
        if (strcmp(key, "debug") == 0) {
            if (!json_is_boolean(v))
                return err_set(err, ERR_INVALID, 0, "\"debug\" must be true or false");
            if (json_is_true(v))
                cfg->log_level = LOG_LVL_DEBUG;
            return 0;
        }
        if (!json_is_string(v) || log_level_parse(json_string_value(v), &cfg->log_level) < 0)
            return err_set(err, ERR_INVALID, 0,
                           "\"log-level\" must be one of debug, info, "
                           "warn, error, fatal");
        return 0;
    }
    if (strcmp(key, "bip") == 0)
        return (set & SET_BIP) ? 0 : json_str(v, key, &cfg->bip, err);
    if (strcmp(key, "bridge") == 0)
        return (set & SET_BRIDGE) ? 0 : json_str(v, key, &cfg->bridge, err);
    if (strcmp(key, "iptables") == 0 || strcmp(key, "ip-forward") == 0) {
        if (!json_is_boolean(v))
            return err_set(err, ERR_INVALID, 0, "\"%s\" must be true or false", key);
        if (key[2] == 't' && !(set & SET_IPTABLES))
            cfg->iptables = json_is_true(v);
        else if (key[2] == '-' && !(set & SET_IP_FORWARD))
            cfg->ip_forward = json_is_true(v);
        return 0;
    }
    if (strcmp(key, "live-restore") == 0) {
        if (!json_is_boolean(v))
            return err_set(err, ERR_INVALID, 0, "\"live-restore\" must be true or false");
        if (!(set & SET_LIVE_RESTORE))
            cfg->live_restore = json_is_true(v);
        return 0;
    }
    if (strcmp(key, "shutdown-timeout") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 3600)
            return err_set(err, ERR_INVALID, 0,
                           "\"shutdown-timeout\" must be an integer "
                           "from 0 to 3600");
        if (!(set & SET_SHUTDOWN_TIMEOUT))
            cfg->shutdown_timeout_s = (unsigned int)json_integer_value(v);
        return 0;
    }
    return 1; /* unknown */
}

int engine_config_apply_json(struct engine_config *cfg, const char *text, size_t len,
                             unsigned int flags_set, struct err **err)
{
    json_error_t je;
    json_auto_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return err_set(err, ERR_INVALID, 0, "invalid JSON at line %d column %d: %s", je.line,
                       je.column, je.text);
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "the configuration must be a JSON object");
    struct sb unknown = SB_INIT;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        int r = apply_key(cfg, key, v, flags_set, err);
        if (r < 0) {
            sb_release(&unknown);
            return -1;
        }
        if (r > 0) {
            if (unknown.len)
                sb_adds(&unknown, ", ");
            sb_adds(&unknown, key);
        }
    }
    if (unknown.len) {
        err_set(err, ERR_INVALID, 0,
                "the following directives don't match any configuration option: %s",
                sb_str(&unknown));
        sb_release(&unknown);
        return -1;
    }
    return 0;
}

static void config_defaults(struct engine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->data_root = xstrdup(ENGINE_DEFAULT_DATA_ROOT);
    cfg->exec_root = xstrdup(ENGINE_DEFAULT_EXEC_ROOT);
    cfg->pidfile = xstrdup(ENGINE_DEFAULT_PIDFILE);
    cfg->config_file = xstrdup(ENGINE_DEFAULT_CONFIG_FILE);
    cfg->group = xstrdup(ENGINE_DEFAULT_GROUP);
    cfg->certs_dir = xstrdup(ENGINE_DEFAULT_CERTS_DIR);
    cfg->log_level = LOG_LVL_INFO;
    cfg->live_restore = true; /* containers outlive the daemon unless told otherwise */
    cfg->iptables = true;
    cfg->ip_forward = true;
    cfg->shutdown_timeout_s = 15;
}

enum {
    OPT_CONFIG_FILE = 256,
    OPT_DATA_ROOT,
    OPT_EXEC_ROOT,
    OPT_INSECURE,
    OPT_MIRROR,
    OPT_LIVE_RESTORE,
    OPT_SHUTDOWN_TIMEOUT,
    OPT_BIP,
    OPT_IPTABLES,
    OPT_IP_FORWARD,
    OPT_CERTS_DIR,
};

static const struct option long_opts[] = {
    {"bip", required_argument, NULL, OPT_BIP},
    {"bridge", required_argument, NULL, 'b'},
    {"ip-forward", optional_argument, NULL, OPT_IP_FORWARD},
    {"iptables", optional_argument, NULL, OPT_IPTABLES},
    {"certs-dir", required_argument, NULL, OPT_CERTS_DIR},
    {"config-file", required_argument, NULL, OPT_CONFIG_FILE},
    {"data-root", required_argument, NULL, OPT_DATA_ROOT},
    {"debug", no_argument, NULL, 'D'},
    {"exec-root", required_argument, NULL, OPT_EXEC_ROOT},
    {"group", required_argument, NULL, 'G'},
    {"help", no_argument, NULL, 'h'},
    {"host", required_argument, NULL, 'H'},
    {"insecure-registry", required_argument, NULL, OPT_INSECURE},
    {"live-restore", optional_argument, NULL, OPT_LIVE_RESTORE},
    {"log-level", required_argument, NULL, 'l'},
    {"pidfile", required_argument, NULL, 'p'},
    {"registry-mirror", required_argument, NULL, OPT_MIRROR},
    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"version", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

/* Names the flag getopt stopped at, for "unknown flag" and "needs an argument" messages. */
static const char *bad_flag(char **argv, int idx)
{
    return argv[idx > 0 ? idx - 1 : 0];
}

/* --flag, --flag=true|1, --flag=false|0 */
static int parse_bool(const char *flag, const char *arg, bool *out, struct err **err)
{
    if (!arg || strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0)
        *out = true;
    else if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0)
        *out = false;
    else
        return err_set(err, ERR_INVALID, 0, "%s: invalid value \"%s\" (use true or false)", flag,
                       arg);
    return 0;
}

static int parse_one(struct engine_config *cfg, int c, const char *arg, unsigned int *set,
                     bool *config_given, struct err **err)
{
    switch (c) {
    case OPT_BIP:
        *set |= SET_BIP;
        set_str(&cfg->bip, arg);
        return 0;
    case 'b':
        *set |= SET_BRIDGE;
        set_str(&cfg->bridge, arg);
        return 0;
    case OPT_IPTABLES:
        *set |= SET_IPTABLES;
        return parse_bool("--iptables", arg, &cfg->iptables, err);
    case OPT_IP_FORWARD:
        *set |= SET_IP_FORWARD;
        return parse_bool("--ip-forward", arg, &cfg->ip_forward, err);
    case 'H':
        if (!(*set & SET_HOSTS))
            strv_clear(&cfg->hosts);
        *set |= SET_HOSTS;
        if (check_host(arg, err) < 0)
            return err_wrap(err, "--host");
        strv_push(&cfg->hosts, arg);
        return 0;
    case OPT_DATA_ROOT:
        *set |= SET_DATA_ROOT;
        set_str(&cfg->data_root, arg);
        return 0;
    case OPT_CERTS_DIR:
        *set |= SET_CERTS_DIR;
        set_str(&cfg->certs_dir, arg);
        return 0;
    case OPT_EXEC_ROOT:
        *set |= SET_EXEC_ROOT;
        set_str(&cfg->exec_root, arg);
        return 0;
    case 'p':
        *set |= SET_PIDFILE;
        set_str(&cfg->pidfile, arg);
        return 0;
    case OPT_CONFIG_FILE:
        *config_given = true;
        set_str(&cfg->config_file, arg);
        return 0;
    case 'G':
        *set |= SET_GROUP;
        cfg->group_explicit = true;
        set_str(&cfg->group, arg);
        return 0;
    case 'D':
        *set |= SET_LOG_LEVEL;
        cfg->log_level = LOG_LVL_DEBUG;
        return 0;
    case 'l':
        *set |= SET_LOG_LEVEL;
        if (log_level_parse(arg, &cfg->log_level) < 0)
            return err_set(err, ERR_INVALID, 0,
                           "--log-level: invalid level \"%s\" (use "
                           "debug, info, warn, error or fatal)",
                           arg);
        return 0;
    case OPT_INSECURE:
        if (!(*set & SET_INSECURE))
            strv_clear(&cfg->insecure_registries);
        *set |= SET_INSECURE;
        strv_push(&cfg->insecure_registries, arg);
        return 0;
    case OPT_MIRROR:
        if (!(*set & SET_MIRRORS))
            strv_clear(&cfg->registry_mirrors);
        *set |= SET_MIRRORS;
        strv_push(&cfg->registry_mirrors, arg);
        return 0;
    case OPT_LIVE_RESTORE:
        *set |= SET_LIVE_RESTORE;
        if (!arg || strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0)
            cfg->live_restore = true;
        else if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0)
            cfg->live_restore = false;
        else
            return err_set(err, ERR_INVALID, 0,
                           "--live-restore: invalid value \"%s\" (use "
                           "true or false)",
                           arg);
        return 0;
    case OPT_SHUTDOWN_TIMEOUT: {
        char *end = NULL;
        errno = 0;
        long v = strtol(arg, &end, 10);
        if (errno || end == arg || *end || v < 0 || v > 3600)
            return err_set(err, ERR_INVALID, 0,
                           "--shutdown-timeout: \"%s\" is not a number "
                           "of seconds from 0 to 3600",
                           arg);
        *set |= SET_SHUTDOWN_TIMEOUT;
        cfg->shutdown_timeout_s = (unsigned int)v;
        return 0;
    }
    }
    return err_set(err, ERR_INVALID, 0, "unexpected option");
}

static int load_config_file(struct engine_config *cfg, bool given, unsigned int set,
                            struct err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = fsu_read_file(cfg->config_file, 1 << 20, &text, &len);
    if (r == -ENOENT && !given)
        return 0;
    if (r < 0)
        return err_set(err, ERR_INVALID, -r, "unable to read the configuration file %s",
                       cfg->config_file);
    if (engine_config_apply_json(cfg, text, len, set, err) < 0)
        return err_wrap(err, "unable to configure the daemon with file %s", cfg->config_file);
    return 0;
}

static int validate(struct engine_config *cfg, struct err **err)
{
    if (!cfg->hosts || !cfg->hosts[0]) {
        strv_clear(&cfg->hosts);
        strv_push(&cfg->hosts, ENGINE_DEFAULT_HOST);
    }
    for (char **h = cfg->hosts; *h; h++) {
        if (check_host(*h, err) < 0)
            return -1;
    }
    if (check_abs("--data-root", cfg->data_root, err) < 0 ||
        check_abs("--exec-root", cfg->exec_root, err) < 0 ||
        check_abs("--pidfile", cfg->pidfile, err) < 0 ||
        check_abs("--certs-dir", cfg->certs_dir, err) < 0)
        return -1;
    return 0;
}

int engine_config_parse(struct engine_config *cfg, int argc, char **argv, struct err **err)
{
    config_defaults(cfg);
    unsigned int set = 0;
    bool config_given = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":b:DG:hH:l:p:v", long_opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return ENGINE_PARSE_EXIT_OK;
        }
        if (c == 'v') {
            printf("berthd version %s, build %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
            return ENGINE_PARSE_EXIT_OK;
        }
        if (c == '?')
            return err_set(err, ERR_INVALID, 0, "unknown flag: %s (see 'berthd --help')",
                           bad_flag(argv, optind));
        if (c == ':')
            return err_set(err, ERR_INVALID, 0, "flag needs an argument: %s",
                           bad_flag(argv, optind));
        if (parse_one(cfg, c, optarg, &set, &config_given, err) < 0)
            return -1;
    }
    if (optind < argc)
        return err_set(err, ERR_INVALID, 0, "unexpected argument: %s (berthd takes only flags)",
                       argv[optind]);
    if (load_config_file(cfg, config_given, set, err) < 0)
        return -1;
    return validate(cfg, err) < 0 ? -1 : ENGINE_PARSE_RUN;
}

void engine_config_release(struct engine_config *cfg)
{
    strv_clear(&cfg->hosts);
    strv_clear(&cfg->insecure_registries);
    strv_clear(&cfg->registry_mirrors);
    free(cfg->data_root);
    free(cfg->exec_root);
    free(cfg->pidfile);
    free(cfg->config_file);
    free(cfg->group);
    free(cfg->bip);
    free(cfg->bridge);
    free(cfg->certs_dir);
    memset(cfg, 0, sizeof(*cfg));
}
