/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stored registry credentials, in docker's config.json shape ({"auths":{"<server>":{"auth":
 * base64("user:pass")}}}) and the X-Registry-Auth header built from them.
 */
#include "client/images.h"

#include <errno.h>
#include <string.h>

#include "api/api.h"

#define CONFIG_MAX (1024 * 1024)

/* ---- config.json ------------------------------------------------------------------------ */

char *cli_config_path(void)
{
    const char *dir = getenv("BERTH_CONFIG");
    if (dir && *dir)
        return xasprintf("%s/config.json", dir);
    const char *home = getenv("HOME");
    return xasprintf("%s/.berth/config.json", home && *home ? home : "/root");
}

const char *cli_auth_key(const char *domain)
{
    return strcmp(domain, CLI_REF_DEFAULT_DOMAIN) == 0 || strcmp(domain, "index.docker.io") == 0
               ? CLI_REF_INDEX_SERVER
               : domain;
}

char *cli_auth_hostname(const char *server)
{
    const char *s = server;
    if (strncmp(s, "http://", 7) == 0)
        s += 7;
    else if (strncmp(s, "https://", 8) == 0)
        s += 8;
    return xstrndup(s, strcspn(s, "/"));
}

/* The whole config file; an empty object when it does not exist. */
static int config_load(const char *path, json_t **out, struct err **err)
{
    char *buf = NULL;
    size_t len = 0;
    int r = fsu_read_file(path, CONFIG_MAX, &buf, &len);
    if (r == -ENOENT) {
        *out = json_object();
        return 0;
    }
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "loading %s", path);
    r = api_json_parse(buf, len, out, err);
    free(buf);
    if (r < 0)
        return err_wrap(err, "loading %s", path);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return err_set(err, ERR_INVALID, 0, "loading %s: expected a JSON object", path);
    }
    return 0;
}

/* Writes the config with tab indentation (as docker does), mode 0600 in a 0700 directory. */
static int config_save(const char *path, json_t *cfg, struct err **err)
{
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (fsu_mkdir_p(dir, 0700, err) < 0)
            return err_wrap(err, "saving credentials");
    }
    _cleanup_free_ char *raw = json_dumps(cfg, JSON_INDENT(1));
    if (!raw)
        return err_set(err, ERR_INTERNAL, 0, "saving credentials: cannot encode %s", path);
    struct sb text = SB_INIT;
    bool line_start = true;
    for (const char *p = raw; *p; p++) {
        line_start = line_start && *p == ' ';
        sb_addc(&text, line_start ? '\t' : *p);
        line_start = line_start || *p == '\n';
    }
    sb_addc(&text, '\n');
    int r = fsu_write_atomic(path, text.buf, text.len, 0600, err);
    sb_release(&text);
    return r < 0 ? err_wrap(err, "Error saving credentials") : 0;
}

/* The auths entry for key, also found under a spelling with a scheme or path. Borrowed. */
static json_t *auths_lookup(json_t *auths, const char *key, const char **found)
{
    json_t *e = json_object_get(auths, key);
    if (e) {
        *found = key;
        return e;
    }
    _cleanup_free_ char *want = cli_auth_hostname(key);
    const char *k;
    json_t *v;
    json_object_foreach(auths, k, v)
    {
        _cleanup_free_ char *host = cli_auth_hostname(k);
        if (strcmp(host, want) == 0) {
            *found = k;
            return v;
        }
    }
    return NULL;
}

char *cli_registry_auth(const char *config_path, const char *domain)
{
    json_auto_t *cfg = NULL;
    _cleanup_err_ struct err *err = NULL;
    if (config_load(config_path, &cfg, &err) < 0)
        return xstrdup("e30=");
    const char *key = cli_auth_key(domain), *found = NULL;
    json_t *entry = auths_lookup(json_object_get(cfg, "auths"), key, &found);
    const char *auth = json_string_value(json_object_get(entry, "auth"));
    const char *token = json_string_value(json_object_get(entry, "identitytoken"));
    size_t len = 0;
    _cleanup_free_ char *plain = auth ? b64_decode(auth, &len) : NULL;
    char *colon = plain ? memchr(plain, ':', len) : NULL;
    if (!colon && !token)
        return xstrdup("e30=");
    json_auto_t *ac = json_object();
    if (colon) {
        *colon = '\0';
        json_object_set_new(ac, "username", json_string(plain));
        json_object_set_new(ac, "password", json_string(colon + 1));
    }
    json_object_set_new(ac, "serveraddress", json_string(found));
    if (token && *token)
        json_object_set_new(ac, "identitytoken", json_string(token));
    _cleanup_free_ char *js = json_dumps(ac, JSON_COMPACT);
    if (!js) /* a username or password that is not UTF-8 */
        return xstrdup("e30=");
    return b64_encode(js, strlen(js), true);
}

int cli_auth_store(const char *server, const char *user, const char *pass, const char *token,
                   struct err **err)
{
    _cleanup_free_ char *path = cli_config_path();
    json_auto_t *cfg = NULL;
    if (config_load(path, &cfg, err) < 0)
        return -1;
    json_t *auths = json_object_get(cfg, "auths");
    if (!json_is_object(auths)) {
        auths = json_object();
        json_object_set_new(cfg, "auths", auths);
    }
    _cleanup_free_ char *up = xasprintf("%s:%s", user, token && *token ? "" : pass);
    _cleanup_free_ char *b64 = b64_encode(up, strlen(up), false);
    json_t *entry = json_pack("{s:s}", "auth", b64);
    if (token && *token)
        json_object_set_new(entry, "identitytoken", json_string(token));
    json_object_set_new(auths, server, entry);
    return config_save(path, cfg, err);
}

int cli_auth_erase(const char *const *keys, size_t n, bool *found, struct err **err)
{
    _cleanup_free_ char *path = cli_config_path();
    json_auto_t *cfg = NULL;
    *found = false;
    if (config_load(path, &cfg, err) < 0)
        return -1;
    json_t *auths = json_object_get(cfg, "auths");
    for (size_t i = 0; i < n; i++)
        *found = *found || json_object_get(auths, keys[i]);
    if (!*found)
        return 0;
    for (size_t i = 0; i < n; i++)
        json_object_del(auths, keys[i]);
    return config_save(path, cfg, err);
}
