/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker commit -c / docker import -c: Dockerfile instructions applied to an image Config.
 * CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR and
 * HEALTHCHECK (NONE or CMD without options), in exec (JSON) or shell form, with dockerd's word
 * rules: quotes, backslash escapes and $VAR / ${VAR} from the Config's Env. Pure: no I/O.
 */
#include "daemon/image/internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

struct words {
    char **v;
    size_t n;
};

static void words_free(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    w->v = NULL;
    w->n = 0;
}

static void words_push(struct words *w, char *s)
{
    w->v = xrealloc(w->v, (w->n + 2) * sizeof(*w->v));
    w->v[w->n++] = s;
    w->v[w->n] = NULL;
}

/* The value of name in the Config's Env ("" when unset). */
static const char *env_get(const json_t *cfg, const char *name, size_t len)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cfg, "Env"), i, v)
    {
        const char *s = json_string_value(v);
        if (s && strncmp(s, name, len) == 0 && s[len] == '=')
            return s + len + 1;
    }
    return "";
}

/* $NAME or ${NAME} at *p (just past the '$'); appends the value and advances *p. */
static void expand_var(const json_t *cfg, const char **p, struct sb *out)
{
    const char *s = *p;
    bool brace = *s == '{';
    if (brace)
        s++;
    const char *start = s;
    while (isalnum((unsigned char)*s) || *s == '_')
        s++;
    size_t len = (size_t)(s - start);
    if (len == 0 || (brace && *s != '}')) {
        sb_addc(out, '$'); /* not a variable: literal */
        return;
    }
    sb_adds(out, env_get(cfg, start, len));
    *p = brace ? s + 1 : s;
}

/*
 * Splits s into words as dockerd's shell lexer does for ENV, LABEL and friends: whitespace
 * separates, '...' is literal, "..." and bare text take backslash escapes and variables.
 */
static int split_words(const json_t *cfg, const char *s, struct words *out, struct err **err)
{
    struct sb w = SB_INIT;
    bool have = false;
    for (const char *p = s;;) {
        char c = *p;
        if (c == '\0' || isspace((unsigned char)c)) {
            if (have)
                words_push(out, xstrdup(sb_str(&w)));
            sb_reset(&w);
            have = false;
            if (c == '\0')
                break;
            p++;
            continue;
        }
        have = true;
        if (c == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (!end) {
                sb_release(&w);
                return err_set(err, ERR_INVALID, 0,
                               "unexpected end of statement while "
                               "looking for matching single-quote");
            }
            sb_add(&w, p + 1, (size_t)(end - p - 1));
            p = end + 1;
        } else if (c == '"') {
            for (p++; *p && *p != '"';) {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$')) {
                    sb_addc(&w, p[1]);
                    p += 2;
                } else if (*p == '$') {
                    p++;
                    expand_var(cfg, &p, &w);
                } else {
                    sb_addc(&w, *p++);
                }
            }
            if (*p != '"') {
                sb_release(&w);
                return err_set(err, ERR_INVALID, 0,
                               "unexpected end of statement while "
                               "looking for matching double-quote");
            }
            p++;
        } else if (c == '\\' && p[1]) {
            sb_addc(&w, p[1]);
            p += 2;
        } else if (c == '$') {
            p++;
            expand_var(cfg, &p, &w);
        } else {
            sb_addc(&w, c);
            p++;
        }
    }
    sb_release(&w);
    return 0;
}

/* Exec form (a JSON array of strings) or shell form (/bin/sh -c "<rest>"). */
static json_t *command_form(const char *rest)
{
    if (rest[0] == '[') {
        json_t *j = json_loads(rest, 0, NULL);
        bool ok = json_is_array(j);
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) ok = ok && json_is_string(v);
        if (ok)
            return j;
        json_decref(j);
    }
    return json_pack("[s, s, s]", "/bin/sh", "-c", rest);
}

static void env_set(json_t *cfg, const char *key, const char *value)
{
    json_t *env = json_object_get(cfg, "Env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(cfg, "Env", env);
    }
    _cleanup_free_ char *kv = xasprintf("%s=%s", key, value);
    size_t klen = strlen(key), i;
    json_t *v;
    json_array_foreach(env, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strncmp(s, key, klen) == 0 && (s[klen] == '=' || s[klen] == '\0')) {
            json_array_set_new(env, i, json_string(kv));
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
}

static json_t *object_field(json_t *cfg, const char *name)
{
    json_t *o = json_object_get(cfg, name);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(cfg, name, o);
    }
    return o;
}

/* ENV and LABEL: "k=v k2=v2", or the legacy "k value with spaces". */
static int apply_pairs(json_t *cfg, const char *what, const char *rest, bool env, struct err **err)
{
    struct words w = {0};
    if (split_words(cfg, rest, &w, err) < 0)
        return -1;
    int r = 0;
    if (w.n == 0) {
        r = err_set(err, ERR_INVALID, 0, "%s requires at least one argument", what);
    } else if (!strchr(w.v[0], '=')) {
        struct sb value = SB_INIT; /* legacy form: the first word is the key */
        for (size_t i = 1; i < w.n; i++) {
            if (i > 1)
                sb_addc(&value, ' ');
            sb_adds(&value, w.v[i]);
        }
        if (w.n < 2)
            r = err_set(err, ERR_INVALID, 0, "%s must have two arguments", what);
        else if (env)
            env_set(cfg, w.v[0], sb_str(&value));
        else
            json_object_set_new(object_field(cfg, "Labels"), w.v[0], json_string(sb_str(&value)));
        sb_release(&value);
    } else {
        for (size_t i = 0; r == 0 && i < w.n; i++) {
            char *eq = strchr(w.v[i], '=');
            if (!eq || eq == w.v[i]) {
                r = err_set(err, ERR_INVALID, 0, "%s names can not be blank", what);
                break;
            }
            *eq = '\0';
            if (env)
                env_set(cfg, w.v[i], eq + 1);
            else
                json_object_set_new(object_field(cfg, "Labels"), w.v[i], json_string(eq + 1));
        }
    }
    words_free(&w);
    return r;
}

static int apply_expose(json_t *cfg, const char *rest, struct err **err)
{
    struct words w = {0};
    if (split_words(cfg, rest, &w, err) < 0)
        return -1;
    json_t *ports = object_field(cfg, "ExposedPorts");
    int r = 0;
    for (size_t i = 0; r == 0 && i < w.n; i++) {
        char *proto = strchr(w.v[i], '/');
        if (proto)
            *proto++ = '\0';
        char *end = NULL;
        unsigned long lo = strtoul(w.v[i], &end, 10), hi = lo;
        if (end && *end == '-')
            hi = strtoul(end + 1, &end, 10);
        if (!end || *end || end == w.v[i] || lo == 0 || hi > 65535 || hi < lo ||
            (proto && strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))) {
            r = err_set(err, ERR_INVALID, 0, "invalid containerPort: %s", w.v[i]);
            break;
        }
        for (unsigned long p = lo; p <= hi; p++) {
            _cleanup_free_ char *key = xasprintf("%lu/%s", p, proto ? proto : "tcp");
            json_object_set_new(ports, key, json_object());
        }
    }
    words_free(&w);
    return r;
}

static int apply_volume(json_t *cfg, const char *rest, struct err **err)
{
    json_t *vols = object_field(cfg, "Volumes");
    json_t *arr = rest[0] == '[' ? json_loads(rest, 0, NULL) : NULL;
    if (json_is_array(arr)) {
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            if (json_is_string(v) && json_string_length(v) > 0)
                json_object_set_new(vols, json_string_value(v), json_object());
        }
        json_decref(arr);
        return 0;
    }
    json_decref(arr);
    struct words w = {0};
    if (split_words(cfg, rest, &w, err) < 0)
        return -1;
    if (w.n == 0) {
        words_free(&w);
        return err_set(err, ERR_INVALID, 0, "VOLUME specified can not be an empty string");
    }
    for (size_t i = 0; i < w.n; i++)
        json_object_set_new(vols, w.v[i], json_object());
    words_free(&w);
    return 0;
}

/* Joins a WORKDIR to the current one and cleans it lexically. */
static void apply_workdir(json_t *cfg, const char *dir)
{
    const char *cur = json_string_value(json_object_get(cfg, "WorkingDir"));
    _cleanup_free_ char *joined =
        dir[0] == '/' ? xstrdup(dir) : xasprintf("%s/%s", cur && cur[0] ? cur : "/", dir);
    struct sb out = SB_INIT;
    for (const char *p = joined; *p;) {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = out.len ? memrchr(out.buf, '/', out.len) : NULL;
            out.len = slash ? (size_t)(slash - out.buf) : 0;
            if (out.cap)
                out.buf[out.len] = '\0';
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            sb_addc(&out, '/');
            sb_add(&out, p, n);
        }
        p = *end ? end + 1 : end;
    }
    json_object_set_new(cfg, "WorkingDir", json_string(out.len ? sb_str(&out) : "/"));
    sb_release(&out);
}

/* The first word of rest, as one string with variables expanded (USER, STOPSIGNAL, WORKDIR). */
static int single_word(const json_t *cfg, const char *what, const char *rest, char **out,
                       struct err **err)
{
    struct words w = {0};
    if (split_words(cfg, rest, &w, err) < 0)
        return -1;
    if (w.n == 0) {
        words_free(&w);
        return err_set(err, ERR_INVALID, 0, "%s requires exactly one argument", what);
    }
    struct sb s = SB_INIT; /* WORKDIR "a b" and friends keep their inner spaces */
    for (size_t i = 0; i < w.n; i++) {
        if (i)
            sb_addc(&s, ' ');
        sb_adds(&s, w.v[i]);
    }
    words_free(&w);
    *out = sb_steal(&s);
    return 0;
}

static int apply_healthcheck(json_t *cfg, const char *rest, struct err **err)
{
    if (strcasecmp(rest, "NONE") == 0) {
        json_object_set_new(cfg, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
        return 0;
    }
    if (strncasecmp(rest, "CMD", 3) != 0 || !isspace((unsigned char)rest[3]))
        return err_set(err, ERR_INVALID, 0, "HEALTHCHECK: only NONE and CMD are supported");
    const char *cmd = rest + 4;
    while (isspace((unsigned char)*cmd))
        cmd++;
    json_t *form = command_form(cmd);
    json_t *test = json_array();
    if (cmd[0] == '[' && json_array_size(form) &&
        strcmp(json_string_value(json_array_get(form, 0)), "/bin/sh") != 0) {
        json_array_append_new(test, json_string("CMD"));
        json_array_extend(test, form);
    } else {
        json_array_append_new(test, json_string("CMD-SHELL"));
        json_array_append_new(test, json_string(cmd));
    }
    json_decref(form);
    json_object_set_new(cfg, "Healthcheck", json_pack("{s:o}", "Test", test));
    return 0;
}

static int apply_one(json_t *cfg, const char *line, bool *cmd_set, struct err **err)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t klen = 0;
    while (line[klen] && !isspace((unsigned char)line[klen]))
        klen++;
    _cleanup_free_ char *key = xstrndup(line, klen);
    _cleanup_free_ char *rest = xstrdup(line + klen + strspn(line + klen, " \t\r\n"));
    for (size_t n = strlen(rest); n > 0 && isspace((unsigned char)rest[n - 1]); n--)
        rest[n - 1] = '\0';
    for (char *k = key; *k; k++)
        *k = (char)toupper((unsigned char)*k);
    _cleanup_free_ char *word = NULL;
    if (strcmp(key, "CMD") == 0) {
        json_object_set_new(cfg, "Cmd", command_form(rest));
        *cmd_set = true;
    } else if (strcmp(key, "ENTRYPOINT") == 0) {
        json_object_set_new(cfg, "Entrypoint", command_form(rest));
        if (!*cmd_set) /* dockerd: a new ENTRYPOINT drops the CMD unless one was given */
            json_object_set_new(cfg, "Cmd", json_null());
    } else if (strcmp(key, "ENV") == 0 || strcmp(key, "LABEL") == 0) {
        return apply_pairs(cfg, key, rest, key[0] == 'E', err);
    } else if (strcmp(key, "EXPOSE") == 0) {
        return apply_expose(cfg, rest, err);
    } else if (strcmp(key, "VOLUME") == 0) {
        return apply_volume(cfg, rest, err);
    } else if (strcmp(key, "USER") == 0 || strcmp(key, "WORKDIR") == 0 ||
               strcmp(key, "STOPSIGNAL") == 0) {
        if (single_word(cfg, key, rest, &word, err) < 0)
            return -1;
        if (key[0] == 'W')
            apply_workdir(cfg, word);
        else
            json_object_set_new(cfg, key[0] == 'U' ? "User" : "StopSignal", json_string(word));
    } else if (strcmp(key, "ONBUILD") == 0) {
        if (!rest[0] || strncasecmp(rest, "ONBUILD", 7) == 0 || strncasecmp(rest, "FROM", 4) == 0)
            return err_set(err, ERR_INVALID, 0, "invalid ONBUILD trigger: %s", rest);
        json_t *ob = json_object_get(cfg, "OnBuild");
        if (!json_is_array(ob)) {
            ob = json_array();
            json_object_set_new(cfg, "OnBuild", ob);
        }
        json_array_append_new(ob, json_string(rest));
    } else if (strcmp(key, "HEALTHCHECK") == 0) {
        return apply_healthcheck(cfg, rest, err);
    } else {
        return err_set(err, ERR_INVALID, 0, "%s is not a valid change command", key);
    }
    return 0;
}

int image_config_apply_changes(json_t *cfg, const char *const *changes, struct err **err)
{
    bool cmd_set = false;
    for (const char *const *c = changes; c && *c; c++) {
        /* the docker CLI sends one instruction per value; a value may hold several lines */
        _cleanup_free_ char *copy = xstrdup(*c);
        for (char *save = NULL, *line = strtok_r(copy, "\r\n", &save); line;
             line = strtok_r(NULL, "\r\n", &save)) {
            if (line[strspn(line, " \t")] != '\0' && apply_one(cfg, line, &cmd_set, err) < 0)
                return -1;
        }
    }
    return 0;
}
