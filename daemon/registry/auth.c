/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials: X-Registry-Auth decoding, WWW-Authenticate challenges, token responses, the
 * token cache, and the registry's error bodies.
 */
#include "daemon/registry/internal.h"

#include <jansson.h>
#include <string.h>

#define AUTH_HEADER_MAX (64u << 10)

/* Standard or URL-safe alphabet, padding optional, whitespace refused. -1 if invalid. */
static char *json_str_dup(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? xstrdup(s) : NULL;
}

void reg_auth_decode(const char *header, struct reg_auth *out)
{
    memset(out, 0, sizeof(*out));
    if (!header || !*header || strlen(header) > AUTH_HEADER_MAX)
        return;
    size_t raw_len = 0;
    _cleanup_free_ char *raw = b64_decode(header, &raw_len);
    if (!raw)
        return;
    json_auto_t *j = json_loadb(raw, raw_len, 0, NULL);
    if (!json_is_object(j))
        return;
    out->username = json_str_dup(j, "username");
    out->password = json_str_dup(j, "password");
    out->identity_token = json_str_dup(j, "identitytoken");
    out->registry_token = json_str_dup(j, "registrytoken");
    out->server_address = json_str_dup(j, "serveraddress");
    const char *a = json_string_value(json_object_get(j, "auth"));
    if (!out->username && a && *a) {
        size_t n = 0;
        _cleanup_free_ char *up = b64_decode(a, &n);
        char *colon = up ? memchr(up, ':', n) : NULL;
        if (colon) {
            out->username = xstrndup(up, (size_t)(colon - up));
            out->password = xstrndup(colon + 1, n - (size_t)(colon - up) - 1);
        }
    }
}

void reg_auth_release(struct reg_auth *a)
{
    if (!a)
        return;
    free(a->username);
    free(a->password);
    free(a->identity_token);
    free(a->registry_token);
    free(a->server_address);
    memset(a, 0, sizeof(*a));
}

/* Finds name="value" or name=value among the challenge's comma-separated auth-params. */
char *reg_challenge_param(const char *ch, const char *name)
{
    size_t nl = strlen(name);
    const char *p = ch;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *key = p;
        while (*p && *p != '=' && *p != ',' && *p != ' ')
            p++;
        size_t kl = (size_t)(p - key);
        if (*p != '=') {
            continue;
        }
        p++;
        struct sb v = SB_INIT;
        sb_grow(&v, 1);
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                sb_addc(&v, *p++);
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',' && *p != ' ')
                sb_addc(&v, *p++);
        }
        if (kl == nl && strncasecmp(key, name, nl) == 0)
            return sb_steal(&v);
        sb_release(&v);
    }
    return NULL;
}

int reg_token_parse(const char *body, size_t len, char **token, char **refresh, long *expires_in,
                    struct err **err)
{
    *token = NULL;
    *refresh = NULL;
    *expires_in = 60;
    json_auto_t *j = json_loadb(body, len, 0, NULL);
    if (!json_is_object(j))
        return err_set(err, ERR_UNAVAILABLE, 0, "invalid token response: not a JSON object");
    const char *t = json_string_value(json_object_get(j, "token"));
    if (!t || !*t)
        t = json_string_value(json_object_get(j, "access_token"));
    if (!t || !*t)
        return err_set(err, ERR_UNAVAILABLE, 0, "invalid token response: no token");
    for (const char *p = t; *p; p++) {
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return err_set(err, ERR_UNAVAILABLE, 0, "invalid token response: bad token");
    }
    json_t *e = json_object_get(j, "expires_in");
    if (json_is_integer(e) && json_integer_value(e) > 60 && json_integer_value(e) < 86400 * 30)
        *expires_in = (long)json_integer_value(e);
    *token = xstrdup(t);
    *refresh = json_str_dup(j, "refresh_token");
    return 0;
}

/* "MANIFEST_UNKNOWN" -> "manifest unknown", as distribution's errcode prints codes. */
static void add_code(struct sb *sb, const char *code)
{
    for (const char *p = code; *p; p++) {
        char ch = *p == '_' ? ' ' : *p;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        sb_addc(sb, ch);
    }
}

char *reg_errors_message(const char *body, size_t len)
{
    json_auto_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *errs = json_object_get(j, "errors");
    if (!json_is_array(errs) || json_array_size(errs) == 0)
        return NULL;
    struct sb sb = SB_INIT;
    for (size_t i = 0; i < json_array_size(errs) && i < 8; i++) {
        json_t *e = json_array_get(errs, i);
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!code && !msg)
            continue;
        if (sb.len)
            sb_adds(&sb, "; ");
        if (code)
            add_code(&sb, code);
        if (code && msg)
            sb_adds(&sb, ": ");
        if (msg)
            sb_add(&sb, msg, strnlen(msg, 1024));
    }
    return sb.len ? sb_steal(&sb) : (sb_release(&sb), NULL);
}

char *reg_url_escape(const char *s)
{
    struct sb sb = SB_INIT;
    sb_grow(&sb, strlen(s) + 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            sb_addc(&sb, (char)*p);
        else
            sb_addf(&sb, "%%%02X", *p);
    }
    return sb_steal(&sb);
}

const char *reg_token_get(struct reg_client *c, const char *key, uint64_t now)
{
    for (struct reg_token *t = c->tokens; t; t = t->next) {
        if (strcmp(t->key, key) == 0)
            return t->expires > now ? t->token : NULL;
    }
    return NULL;
}

void reg_token_drop(struct reg_client *c, const char *key)
{
    for (struct reg_token **pp = &c->tokens; *pp; pp = &(*pp)->next) {
        struct reg_token *t = *pp;
        if (strcmp(t->key, key) == 0) {
            *pp = t->next;
            free(t->key);
            free(t->token);
            free(t);
            return;
        }
    }
}

void reg_token_put(struct reg_client *c, const char *key, const char *token, uint64_t expires,
                   uint64_t now)
{
    reg_token_drop(c, key);
    /* Expired entries go when a new one comes, so the list stays as small as the live set. */
    struct reg_token *t = xcalloc(1, sizeof(*t));
    t->key = xstrdup(key);
    t->token = xstrdup(token);
    t->expires = expires;
    t->next = c->tokens;
    c->tokens = t;
    for (struct reg_token **pp = &t->next; *pp;) {
        struct reg_token *o = *pp;
        if (o->expires <= now) {
            *pp = o->next;
            free(o->key);
            free(o->token);
            free(o);
        } else {
            pp = &o->next;
        }
    }
}
