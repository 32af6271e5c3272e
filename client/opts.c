/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The docker CLI's value parsers (go-units sizes, CPUs as rationals, restart policies, env
 * files, port specs; durations and timestamps are api_duration_parse/api_timestamp_get) and the
 * run/create flags turned into the create body the docker CLI 28 sends.
 */
#include "client/containers.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "api/containers.h"

/* ---- sizes, CPUs, restart policies ------------------------------------------------------ */

int cli_parse_bytes(const char *s, int64_t *out, struct err **err)
{
    /* ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$ */
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return err_set(err, ERR_INVALID, 0, "invalid size: '%s'", s);
    while (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])))
        p++;
    _cleanup_free_ char *num = xstrndup(s, (size_t)(p - s));
    if (*p == ' ')
        p++;
    static const char units[] = "kmgtp";
    double mult = 1;
    const char *u = *p ? strchr(units, tolower((unsigned char)*p)) : NULL;
    if (u) {
        for (long i = 0; i <= u - units; i++)
            mult *= 1024;
        p++;
    }
    if (*p == 'i' || *p == 'I')
        p++;
    if (*p == 'b' || *p == 'B')
        p++;
    char *end = NULL;
    errno = 0;
    double v = strtod(num, &end);
    if (*p || *end || errno)
        return err_set(err, ERR_INVALID, 0, "invalid size: '%s'", s);
    v *= mult;
    if (v >= 9.2e18)
        return err_set(err, ERR_INVALID, 0, "invalid size: '%s'", s);
    *out = (int64_t)v;
    return 0;
}

/* "a/b" or a decimal with an optional exponent, as big.Rat's SetString reads them. */
int cli_parse_cpus(const char *s, int64_t *out, struct err **err)
{
    const char *slash = strchr(s, '/');
    if (slash) {
        char *e1 = NULL, *e2 = NULL;
        errno = 0;
        long long a = strtoll(s, &e1, 10), b = strtoll(slash + 1, &e2, 10);
        if (e1 != slash || *e2 || slash[1] == '\0' || errno || b == 0)
            return err_set(err, ERR_INVALID, 0, "failed to parse %s as a rational number", s);
        if ((a * 1000000000LL) % b != 0)
            return err_set(err, ERR_INVALID, 0, "value is too precise");
        *out = a * 1000000000LL / b;
        return 0;
    }
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    int64_t whole = 0, frac = 0;
    int fdigits = 0;
    bool any = false, precise = true;
    for (; isdigit((unsigned char)*p); p++, any = true) {
        if (whole > INT64_MAX / 10 / 1000000000LL)
            return err_set(err, ERR_INVALID, 0, "value is too big");
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++, any = true) {
            if (fdigits < 9) {
                frac = frac * 10 + (*p - '0');
                fdigits++;
            } else if (*p != '0') {
                precise = false;
            }
        }
    }
    if (!any || *p)
        return err_set(err, ERR_INVALID, 0, "failed to parse %s as a rational number", s);
    if (!precise)
        return err_set(err, ERR_INVALID, 0, "value is too precise");
    for (; fdigits < 9; fdigits++)
        frac *= 10;
    int64_t nano = whole * 1000000000LL + frac;
    *out = neg ? -nano : nano;
    return 0;
}

int cli_parse_restart(const char *s, char **name, int64_t *max_retry, struct err **err)
{
    *name = NULL;
    *max_retry = 0;
    if (!*s)
        return 0; /* older engines take "" for the default */
    const char *colon = strchr(s, ':');
    if (colon == s)
        return err_set(err, ERR_INVALID, 0,
                       "invalid restart policy format: no policy provided before colon");
    if (colon && colon[1]) {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(colon + 1, &end, 10);
        if (*end || errno || n < INT_MIN || n > INT_MAX)
            return err_set(err, ERR_INVALID, 0,
                           "invalid restart policy format: maximum retry count must be an "
                           "integer");
        *max_retry = n;
    }
    *name = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
    return 0;
}

/* ---- env and label files ---------------------------------------------------------------- */

static void strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(**v));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* One line of an env file; NULL when it adds nothing. */
static int kv_line(const char *path, char *line, bool lookup, char **out, struct err **err)
{
    *out = NULL;
    while (isspace((unsigned char)*line))
        line++;
    if (!*line || *line == '#')
        return 0;
    char *eq = strchr(line, '=');
    _cleanup_free_ char *var = eq ? xstrndup(line, (size_t)(eq - line)) : xstrdup(line);
    for (char *p = var; *p; p++) {
        if (is_ws(*p))
            return err_set(err, ERR_INVALID, 0,
                           "poorly formatted environment: variable '%s' contains whitespaces", var);
    }
    if (!*var)
        return err_set(err, ERR_INVALID, 0,
                       "poorly formatted environment: no variable name on line '%s'", line);
    (void)path;
    if (eq) {
        *out = xasprintf("%s=%s", var, eq + 1);
        return 0;
    }
    size_t l = strlen(line);
    while (l > 0 && isspace((unsigned char)line[l - 1]))
        l--;
    line[l] = '\0';
    const char *val = lookup ? getenv(line) : NULL;
    *out = val ? xasprintf("%s=%s", line, val) : xstrdup(line);
    return 0;
}

int cli_kv_file_read(const char *path, bool lookup, char ***v, size_t *n, struct err **err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return err_set(err, ERR_INVALID, errno, "open %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int r = 0;
    for (int no = 0; r == 0 && (len = getline(&line, &cap, f)) >= 0; no++) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        char *start = line;
        if (no == 0 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
            start += 3;
        char *entry = NULL;
        r = kv_line(path, start, lookup, &entry, err);
        if (entry)
            strv_push(v, n, entry);
    }
    free(line);
    fclose(f);
    return r;
}

/* ---- ports ------------------------------------------------------------------------------ */

/* "80" or "8000-8010" into [lo, hi]. */
static int port_range(const char *s, int *lo, int *hi)
{
    char *end = NULL;
    errno = 0;
    long a = strtol(s, &end, 10);
    long b = a;
    if (end == s || errno || a < 0 || a > 65535)
        return -1;
    if (*end == '-') {
        const char *s2 = end + 1;
        b = strtol(s2, &end, 10);
        if (end == s2 || b < a || b > 65535)
            return -1;
    }
    if (*end)
        return -1;
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

/* splitParts: [ip:]host:container. The parts are owned by the caller. */
static void port_split(const char *raw, char **ip, char **host, char **ctr)
{
    const char *last = strrchr(raw, ':');
    *ip = *host = NULL;
    if (!last) {
        *ctr = xstrdup(raw);
        return;
    }
    *ctr = xstrdup(last + 1);
    const char *prev = NULL;
    for (const char *p = raw; p < last; p++) {
        if (*p == ':')
            prev = p;
    }
    if (!prev) {
        *host = xstrndup(raw, (size_t)(last - raw));
        return;
    }
    *host = xstrndup(prev + 1, (size_t)(last - prev - 1));
    *ip = xstrndup(raw, (size_t)(prev - raw));
    size_t l = strlen(*ip);
    if (l >= 2 && (*ip)[0] == '[' && (*ip)[l - 1] == ']') {
        memmove(*ip, *ip + 1, l - 2);
        (*ip)[l - 2] = '\0';
    }
}

static int port_validate(const char *spec, const char *ip, const char *proto, struct err **err)
{
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
        return err_set(err, ERR_INVALID, 0, "invalid proto: %s", proto);
    for (const char *p = ip; p && *p; p++) {
        if (!isxdigit((unsigned char)*p) && *p != '.' && *p != ':')
            return err_set(err, ERR_INVALID, 0, "invalid IP address: %s", ip);
    }
    (void)spec;
    return 0;
}

static void port_add(json_t *exposed, json_t *bindings, int port, const char *proto, const char *ip,
                     const char *host_port)
{
    _cleanup_free_ char *key = xasprintf("%d/%s", port, proto);
    json_object_set_new(exposed, key, json_object());
    if (!bindings)
        return;
    json_t *list = json_object_get(bindings, key);
    if (!list) {
        list = json_array();
        json_object_set_new(bindings, key, list);
    }
    json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip ? ip : "", "HostPort",
                                          host_port ? host_port : ""));
}

int cli_parse_port_spec(const char *spec, json_t *exposed, json_t *bindings, struct err **err)
{
    const char *slash = strrchr(spec, '/');
    _cleanup_free_ char *raw = slash ? xstrndup(spec, (size_t)(slash - spec)) : xstrdup(spec);
    const char *proto = slash ? slash + 1 : "tcp";
    _cleanup_free_ char *ip = NULL, *host = NULL, *ctr = NULL;
    port_split(raw, &ip, &host, &ctr);
    if (port_validate(spec, ip, proto, err) < 0)
        return -1;
    if (!*ctr)
        return err_set(err, ERR_INVALID, 0, "no port specified: %s<empty>", spec);
    int clo, chi, hlo = 0, hhi = 0;
    if (port_range(ctr, &clo, &chi) < 0)
        return err_set(err, ERR_INVALID, 0, "invalid containerPort: %s", ctr);
    bool has_host = host && *host;
    if (has_host && port_range(host, &hlo, &hhi) < 0)
        return err_set(err, ERR_INVALID, 0, "invalid hostPort: %s", host);
    if (has_host && chi - clo != hhi - hlo && clo != chi)
        return err_set(err, ERR_INVALID, 0,
                       "invalid ranges specified for container and host Ports: %s and %s", ctr,
                       host);
    for (int i = 0; i <= chi - clo; i++) {
        _cleanup_free_ char *hp = NULL;
        if (has_host && clo == chi)
            hp = xstrdup(host); /* one container port: the host range stays a range */
        else if (has_host)
            hp = xasprintf("%d", hlo + i);
        port_add(exposed, bindings, clo + i, proto, ip, hp);
    }
    return 0;
}

/* ---- run / create ----------------------------------------------------------------------- */

static char **list_dup(const struct cli_args *args, const char *name)
{
    const struct cli_flag_val *v = cli_flag(args, name);
    if (!v || v->nlist == 0)
        return NULL;
    char **res = xcalloc(v->nlist + 1, sizeof(*res));
    for (size_t i = 0; i < v->nlist; i++)
        res[i] = xstrdup(v->list[i]);
    return res;
}

/* An empty vector rather than NULL: the docker CLI sends [] for these. */
static char **list_dup_empty(const struct cli_args *args, const char *name)
{
    char **v = list_dup(args, name);
    return v ? v : xcalloc(1, sizeof(char *));
}

static const struct cli_flag_val *list_of(const struct cli_args *args, const char *name)
{
    static const struct cli_flag_val none = {0};
    const struct cli_flag_val *v = cli_flag(args, name);
    return v ? v : &none;
}

/* ConvertKVStringsToMap: "k=v" -> k:v, "k" -> k:"". */
static void kv_into(json_t *map, const char *kv)
{
    const char *eq = strchr(kv, '=');
    _cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
    json_object_set_new(map, k, json_string(eq ? eq + 1 : ""));
}

static int flag_error(struct err **err, const struct cli_args *args, const char *name,
                      const char *value, struct err *inner)
{
    char shorthand = 0;
    for (const struct cli_flag *f = args->cmd->flags; f && f->name; f++) {
        if (strcmp(f->name, name) == 0)
            shorthand = f->shorthand;
    }
    _cleanup_free_ char *shown =
        shorthand ? xasprintf("-%c, --%s", shorthand, name) : xasprintf("--%s", name);
    int r = err_set(err, ERR_INVALID, 0, "invalid argument \"%s\" for \"%s\" flag: %s", value,
                    shown, inner ? inner->msg : "invalid value");
    err_free(inner);
    return r;
}

static int int_flag(const struct cli_args *args, const char *name, int64_t *out, struct err **err)
{
    const char *s = cli_flag_str(args, name);
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) {
        struct err *inner = NULL;
        err_set(&inner, ERR_INVALID, 0, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
        return flag_error(err, args, name, s, inner);
    }
    *out = v;
    return 0;
}

static int bytes_flag(const struct cli_args *args, const char *name, int64_t *out, struct err **err)
{
    const char *s = cli_flag_str(args, name);
    if (!s)
        return 0;
    if (strcmp(name, "memory-swap") == 0 && strcmp(s, "-1") == 0) {
        *out = -1;
        return 0;
    }
    struct err *inner = NULL;
    if (cli_parse_bytes(s, out, &inner) < 0)
        return flag_error(err, args, name, s, inner);
    return 0;
}

static char *str_dup(const struct cli_args *args, const char *name)
{
    const char *s = cli_flag_str(args, name);
    return xstrdup(s ? s : "");
}

/* -e and --env-file: files first, then the flags; bare names take the CLI's environment. */
static int build_env(const struct cli_args *args, struct api_container_config *c, struct err **err)
{
    char **v = NULL;
    size_t n = 0;
    const struct cli_flag_val *files = list_of(args, "env-file");
    for (size_t i = 0; i < files->nlist; i++) {
        if (cli_kv_file_read(files->list[i], true, &v, &n, err) < 0) {
            api_strv_free(v);
            return -1;
        }
    }
    const struct cli_flag_val *env = list_of(args, "env");
    for (size_t i = 0; i < env->nlist; i++) {
        const char *e = env->list[i];
        const char *eq = strchr(e, '=');
        if (eq == e || !*e) {
            api_strv_free(v);
            return err_set(err, ERR_INVALID, 0,
                           "invalid argument \"%s\" for \"-e, --env\" flag: invalid environment "
                           "variable: %s",
                           e, e);
        }
        const char *val = eq ? NULL : getenv(e);
        strv_push(&v, &n, val ? xasprintf("%s=%s", e, val) : xstrdup(e));
    }
    c->env = v;
    return 0;
}

static int build_labels(const struct cli_args *args, struct api_container_config *c,
                        struct err **err)
{
    c->labels = json_object();
    char **v = NULL;
    size_t n = 0;
    const struct cli_flag_val *files = list_of(args, "label-file");
    for (size_t i = 0; i < files->nlist; i++) {
        if (cli_kv_file_read(files->list[i], false, &v, &n, err) < 0) {
            api_strv_free(v);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++)
        kv_into(c->labels, v[i]);
    api_strv_free(v);
    const struct cli_flag_val *l = list_of(args, "label");
    for (size_t i = 0; i < l->nlist; i++)
        kv_into(c->labels, l->list[i]);
    return 0;
}

static int build_ports(const struct cli_args *args, struct api_container_config *c,
                       struct err **err)
{
    json_t *exposed = json_object();
    c->exposed_ports = exposed;
    c->host.port_bindings = json_object();
    const struct cli_flag_val *p = list_of(args, "publish");
    for (size_t i = 0; i < p->nlist; i++) {
        if (cli_parse_port_spec(p->list[i], exposed, c->host.port_bindings, err) < 0)
            return -1;
    }
    const struct cli_flag_val *e = list_of(args, "expose");
    for (size_t i = 0; i < e->nlist; i++) {
        _cleanup_free_ char *spec = xstrdup(e->list[i]);
        char *colon = strchr(spec, ':');
        if (colon && !strchr(spec, '/'))
            return err_set(err, ERR_INVALID, 0, "invalid port format for --expose: %s", spec);
        if (cli_parse_port_spec(spec, exposed, NULL, err) < 0)
            return -1;
    }
    return 0;
}

/* -v: "src:dst[:opts]" is a bind (or named volume); a lone path is an anonymous volume. */
static int build_volumes(const struct cli_args *args, struct api_container_config *c,
                         struct err **err)
{
    const struct cli_flag_val *v = list_of(args, "volume");
    char **binds = NULL;
    size_t n = 0;
    c->volumes = json_object();
    for (size_t i = 0; i < v->nlist; i++) {
        const char *spec = v->list[i];
        size_t colons = 0;
        for (const char *p = spec; *p; p++)
            colons += *p == ':';
        if (!*spec || colons > 2 || spec[0] == ':') {
            api_strv_free(binds);
            return err_set(err, ERR_INVALID, 0, "invalid spec: %s: empty section between colons",
                           spec);
        }
        if (colons == 0)
            json_object_set_new(c->volumes, spec, json_object());
        else
            strv_push(&binds, &n, xstrdup(spec));
    }
    c->host.binds = binds;
    return 0;
}

/* A --mount value's true/false ("readonly", "readonly=true", "ro=0"). */
static int mount_bool(const char *key, const char *val, bool *out, struct err **err)
{
    if (!val || strcmp(val, "1") == 0 || strcmp(val, "true") == 0)
        *out = true;
    else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0)
        *out = false;
    else
        return err_set(err, ERR_INVALID, 0, "invalid value for %s: %s", key, val);
    return 0;
}

/* One --mount "type=bind,source=/a,target=/b,readonly" into a mount.Mount object, as docker. */
static json_t *mount_spec(const char *spec, struct err **err)
{
    json_auto_t *m = json_object();
    json_t *bind = NULL, *tmpfs = NULL;
    bool ro = false;
    _cleanup_free_ char *copy = xstrdup(spec);
    char *save = NULL;
    json_object_set_new(m, "Type", json_string("volume"));
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *val = strchr(kv, '=');
        if (val)
            *val++ = '\0';
        if (strcmp(kv, "type") == 0 && val) {
            json_object_set_new(m, "Type", json_string(val));
        } else if ((strcmp(kv, "source") == 0 || strcmp(kv, "src") == 0) && val) {
            json_object_set_new(m, "Source", json_string(val));
        } else if ((strcmp(kv, "target") == 0 || strcmp(kv, "destination") == 0 ||
                    strcmp(kv, "dst") == 0) &&
                   val) {
            json_object_set_new(m, "Target", json_string(val));
        } else if (strcmp(kv, "readonly") == 0 || strcmp(kv, "ro") == 0) {
            if (mount_bool(kv, val, &ro, err) < 0)
                return NULL;
        } else if (strcmp(kv, "bind-propagation") == 0 && val) {
            if (!bind)
                bind = json_object();
            json_object_set_new(bind, "Propagation", json_string(val));
            json_object_set_new(m, "BindOptions", bind);
        } else if (strcmp(kv, "tmpfs-size") == 0 && val) {
            int64_t size;
            if (cli_parse_bytes(val, &size, err) < 0)
                return NULL;
            if (!tmpfs)
                json_object_set_new(m, "TmpfsOptions", tmpfs = json_object());
            json_object_set_new(tmpfs, "SizeBytes", json_integer(size));
        } else if (strcmp(kv, "tmpfs-mode") == 0 && val) {
            char *end = NULL;
            long mode = strtol(val, &end, 8);
            if (!*val || *end || mode < 0 || mode > 07777)
                return err_set(err, ERR_INVALID, 0, "invalid value for tmpfs-mode: %s", val), NULL;
            if (!tmpfs)
                json_object_set_new(m, "TmpfsOptions", tmpfs = json_object());
            json_object_set_new(tmpfs, "Mode", json_integer(mode));
        } else {
            return err_set(err, ERR_INVALID, 0, "invalid field '%s' must be a key=value pair", kv),
                   NULL;
        }
    }
    if (ro)
        json_object_set_new(m, "ReadOnly", json_true());
    return json_incref(m);
}

/* --mount and --tmpfs into HostConfig.Mounts and Tmpfs. */
static int build_mounts(const struct cli_args *args, struct api_host_config *h, struct err **err)
{
    const struct cli_flag_val *v = list_of(args, "mount");
    for (size_t i = 0; i < v->nlist; i++) {
        json_t *m = mount_spec(v->list[i], err);
        if (!m)
            return err_wrap(err, "invalid argument \"%s\" for \"--mount\" flag", v->list[i]);
        if (!h->mounts)
            h->mounts = json_array();
        json_array_append_new(h->mounts, m);
    }
    const struct cli_flag_val *t = list_of(args, "tmpfs");
    for (size_t i = 0; i < t->nlist; i++) {
        const char *colon = strchr(t->list[i], ':');
        _cleanup_free_ char *path =
            colon ? xstrndup(t->list[i], (size_t)(colon - t->list[i])) : xstrdup(t->list[i]);
        if (!h->tmpfs)
            h->tmpfs = json_object();
        json_object_set_new(h->tmpfs, path, json_string(colon ? colon + 1 : ""));
    }
    return 0;
}

/* The endpoint the docker CLI sends for the "default" network: every field zero. */
static json_t *zero_endpoint(void)
{
    return json_pack("{s:n, s:n, s:n, s:s, s:n, s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:n}",
                     "IPAMConfig", "Links", "Aliases", "MacAddress", "", "DriverOpts", "GwPriority",
                     0, "NetworkID", "", "EndpointID", "", "Gateway", "", "IPAddress", "",
                     "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address", "",
                     "GlobalIPv6PrefixLen", 0, "DNSNames");
}

static void build_network(const struct cli_args *args, struct api_container_config *c)
{
    const char *net = cli_flag_str(args, "network");
    const struct cli_flag_val *aliases = cli_flag(args, "network-alias");
    const char *ip = cli_flag_str(args, "ip");
    if (net && *net) {
        c->host.network_mode = xstrdup(net);
        c->networking_config = json_pack("{s:{}}", "EndpointsConfig");
        /* as docker's CLI: the endpoint for the named network carries --ip and the aliases */
        json_t *ep = json_object();
        if (ip && *ip)
            json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", ip));
        if (aliases && aliases->nlist) {
            json_t *a = json_array();
            for (size_t i = 0; i < aliases->nlist; i++)
                json_array_append_new(a, json_string(aliases->list[i]));
            json_object_set_new(ep, "Aliases", a);
        }
        if (json_object_size(ep))
            json_object_set(json_object_get(c->networking_config, "EndpointsConfig"), net, ep);
        json_decref(ep);
    } else {
        c->host.network_mode = xstrdup("default");
        json_t *ep = zero_endpoint();
        if (ip && *ip)
            json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", ip));
        c->networking_config = json_pack("{s:{s:o}}", "EndpointsConfig", "default", ep);
    }
}

static int build_resources(const struct cli_args *args, struct api_host_config *h, struct err **err)
{
    if (bytes_flag(args, "memory", &h->memory, err) < 0 ||
        bytes_flag(args, "memory-swap", &h->memory_swap, err) < 0 ||
        bytes_flag(args, "memory-reservation", &h->memory_reservation, err) < 0 ||
        bytes_flag(args, "shm-size", &h->shm_size, err) < 0 ||
        int_flag(args, "cpu-shares", &h->cpu_shares, err) < 0 ||
        int_flag(args, "cpu-period", &h->cpu_period, err) < 0 ||
        int_flag(args, "cpu-quota", &h->cpu_quota, err) < 0 ||
        int_flag(args, "pids-limit", &h->pids_limit, err) < 0 ||
        int_flag(args, "oom-score-adj", &h->oom_score_adj, err) < 0)
        return -1;
    const char *cpus = cli_flag_str(args, "cpus");
    struct err *inner = NULL;
    if (cpus && cli_parse_cpus(cpus, &h->nano_cpus, &inner) < 0)
        return flag_error(err, args, "cpus", cpus, inner);
    const char *restart = cli_flag_str(args, "restart");
    if (cli_parse_restart(restart ? restart : "no", &h->restart_policy, &h->restart_max_retry,
                          err) < 0)
        return -1;
    return 0;
}

static int build_host(const struct cli_args *args, struct api_container_config *c, struct err **err)
{
    struct api_host_config *h = &c->host;
    if (build_resources(args, h, err) < 0 || build_ports(args, c, err) < 0 ||
        build_volumes(args, c, err) < 0 || build_mounts(args, h, err) < 0)
        return -1;
    build_network(args, c);
    h->auto_remove = cli_flag_bool(args, "rm");
    h->privileged = cli_flag_bool(args, "privileged");
    h->readonly_rootfs = cli_flag_bool(args, "read-only");
    h->publish_all_ports = cli_flag_bool(args, "publish-all");
    h->init = cli_flag_bool(args, "init");
    h->cap_add = list_dup(args, "cap-add");
    h->cap_drop = list_dup(args, "cap-drop");
    h->security_opt = list_dup(args, "security-opt");
    h->extra_hosts = list_dup(args, "add-host");
    h->group_add = list_dup(args, "group-add");
    h->dns = list_dup_empty(args, "dns");
    h->dns_options = list_dup_empty(args, "dns-option");
    h->dns_search = list_dup_empty(args, "dns-search");
    h->pid_mode = str_dup(args, "pid");
    h->ipc_mode = str_dup(args, "ipc");
    h->uts_mode = str_dup(args, "uts");
    h->cgroupns_mode = str_dup(args, "cgroupns");
    h->log_type = str_dup(args, "log-driver");
    h->log_opts = json_object();
    const struct cli_flag_val *lo = list_of(args, "log-opt");
    for (size_t i = 0; i < lo->nlist; i++)
        kv_into(h->log_opts, lo->list[i]);
    const struct cli_flag_val *sc = list_of(args, "sysctl");
    if (sc->nlist)
        h->sysctls = json_object();
    for (size_t i = 0; i < sc->nlist; i++)
        kv_into(h->sysctls, sc->list[i]);
    return 0;
}

static void build_attach(const struct cli_args *args, bool detach, struct api_container_config *c)
{
    bool in = cli_flag_bool(args, "interactive");
    c->tty = cli_flag_bool(args, "tty");
    c->open_stdin = in;
    c->attach_stdin = in && !detach;
    c->attach_stdout = !detach;
    c->attach_stderr = !detach;
    c->stdin_once = in && !detach;
}

int cli_run_config(const struct cli_args *args, bool detach, const int console[2],
                   struct api_container_config *c, struct err **err)
{
    memset(c, 0, sizeof(*c));
    c->stop_timeout = -1;
    c->image = xstrdup(args->argv[0]);
    if (args->argc > 1) {
        c->cmd = xcalloc((size_t)args->argc, sizeof(char *));
        for (int i = 1; i < args->argc; i++)
            c->cmd[i - 1] = xstrdup(args->argv[i]);
    }
    const char *ep = cli_flag_str(args, "entrypoint");
    if (ep) {
        c->entrypoint = xcalloc(2, sizeof(char *));
        c->entrypoint[0] = *ep ? xstrdup(ep) : NULL; /* "" resets the image's */
    }
    c->hostname = str_dup(args, "hostname");
    c->domainname = str_dup(args, "domainname");
    c->user = str_dup(args, "user");
    c->working_dir = str_dup(args, "workdir");
    const char *sig = cli_flag_str(args, "stop-signal");
    c->stop_signal = sig ? xstrdup(sig) : NULL;
    build_attach(args, detach, c);
    /* The CLI sends its terminal's size whenever stdout is one, -t or not. */
    c->host.console_size[0] = console[0];
    c->host.console_size[1] = console[1];
    if (int_flag(args, "stop-timeout", &c->stop_timeout, err) < 0 || build_env(args, c, err) < 0 ||
        build_labels(args, c, err) < 0 || build_host(args, c, err) < 0) {
        api_container_config_release(c);
        return -1;
    }
    return 0;
}
