/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references as the docker CLI normalises them before it calls the API (pull sends the
 * fully-qualified repository, tag sends repo=docker.io/library/foo). The grammar is
 * distribution/reference's:
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] component ( "/" component )*
 *   domain    := host-component ( "." host-component )* [ ":" port ]  |  "[" ipv6 "]" [ ":" port ]
 *   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 */
#include "client/images.h"

#include <ctype.h>
#include <string.h>

#define NAME_MAX_LEN 255

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

bool cli_is_hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    }
    return n == 64;
}

/* One path component over s[0..len). */
static bool valid_component(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !is_lower_alnum(s[0]))
        return false;
    while (i < len) {
        while (i < len && is_lower_alnum(s[i]))
            i++;
        if (i == len)
            return true;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i += i + 1 < len && s[i + 1] == '_' ? 2 : 1;
        } else if (s[i] == '-') {
            while (i < len && s[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i == len || !is_lower_alnum(s[i]))
            return false;
    }
    return true;
}

static bool valid_path(const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/') {
            if (!valid_component(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

static bool valid_host_component(const char *s, size_t len)
{
    if (len == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

static bool valid_port(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static bool valid_domain(const char *s, size_t len)
{
    size_t host_end = len;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close || close == s + 1)
            return false;
        for (const char *p = s + 1; p < close; p++) {
            if (!isxdigit((unsigned char)*p) && *p != ':')
                return false;
        }
        host_end = (size_t)(close - s) + 1;
    } else {
        const char *colon = memchr(s, ':', len);
        host_end = colon ? (size_t)(colon - s) : len;
        size_t start = 0;
        for (size_t i = 0; i <= host_end; i++) {
            if (i == host_end || s[i] == '.') {
                if (!valid_host_component(s + start, i - start))
                    return false;
                start = i + 1;
            }
        }
    }
    if (host_end == len)
        return true;
    return s[host_end] == ':' && valid_port(s + host_end + 1, len - host_end - 1);
}

static bool valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128 || !is_word(s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    }
    return true;
}

/* The digest grammar first (a mismatch is a format error), then go-digest's checks. */
static int check_digest(const char *s, struct err **err)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || !isalpha((unsigned char)s[0]))
        return err_set(err, ERR_INVALID, 0, "invalid reference format");
    for (const char *p = s; p < colon; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("-_+.", *p))
            return err_set(err, ERR_INVALID, 0, "invalid reference format");
    }
    size_t hexlen = strlen(colon + 1);
    for (const char *p = colon + 1; *p; p++) {
        if (!isxdigit((unsigned char)*p))
            return err_set(err, ERR_INVALID, 0, "invalid reference format");
    }
    if (hexlen < 32)
        return err_set(err, ERR_INVALID, 0, "invalid reference format");
    if ((size_t)(colon - s) != 6 || strncmp(s, "sha256", 6) != 0)
        return err_set(err, ERR_INVALID, 0, "unsupported digest algorithm");
    if (hexlen != 64)
        return err_set(err, ERR_INVALID, 0, "invalid checksum digest length");
    if (!cli_is_hex64(colon + 1))
        return err_set(err, ERR_INVALID, 0, "invalid checksum digest format");
    return 0;
}

/* Splits "domain/remainder" the way splitDockerDomain does. */
static void split_domain(const char *s, char **domain, char **remainder)
{
    const char *slash = strchr(s, '/');
    bool hub = !slash;
    if (slash) {
        size_t n = (size_t)(slash - s);
        bool upper = false;
        for (size_t i = 0; i < n; i++)
            upper = upper || isupper((unsigned char)s[i]);
        hub = !memchr(s, '.', n) && !memchr(s, ':', n) &&
              !(n == 9 && strncmp(s, "localhost", 9) == 0) && !upper;
    }
    if (hub) {
        *domain = xstrdup(CLI_REF_DEFAULT_DOMAIN);
        *remainder = xstrdup(s);
    } else {
        *domain = xstrndup(s, (size_t)(slash - s));
        *remainder = xstrdup(slash + 1);
    }
    if (strcmp(*domain, "index.docker.io") == 0) {
        free(*domain);
        *domain = xstrdup(CLI_REF_DEFAULT_DOMAIN);
    }
    if (strcmp(*domain, CLI_REF_DEFAULT_DOMAIN) == 0 && !strchr(*remainder, '/')) {
        char *r = xasprintf("library/%s", *remainder);
        free(*remainder);
        *remainder = r;
    }
}

/* Parses remainder ("path[:tag][@digest]") under domain into out (domain not yet set). */
static bool parse_remainder(const char *domain, const char *rem, struct cli_ref *out)
{
    const char *at = strchr(rem, '@');
    size_t nt_len = at ? (size_t)(at - rem) : strlen(rem);
    const char *last_slash = NULL;
    const char *colon = NULL;
    for (const char *p = rem; p < rem + nt_len; p++) {
        if (*p == '/')
            last_slash = p;
        else if (*p == ':')
            colon = p;
    }
    if (colon && last_slash && colon < last_slash)
        colon = NULL;
    size_t path_len = colon ? (size_t)(colon - rem) : nt_len;
    if (!valid_domain(domain, strlen(domain)) || !valid_path(rem, path_len))
        return false;
    char *tag = colon ? xstrndup(colon + 1, nt_len - path_len - 1) : NULL;
    if (tag && !valid_tag(tag)) {
        free(tag);
        return false;
    }
    out->path = xstrndup(rem, path_len);
    out->tag = tag;
    return true;
}

static int parse_error(const char *domain, const char *rem, struct err **err)
{
    /* The lower-case spelling parses: the name has upper case in it. */
    _cleanup_free_ char *lower = xstrdup(rem);
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    struct cli_ref probe = {0};
    bool ok = parse_remainder(domain, lower, &probe);
    cli_ref_release(&probe);
    if (ok)
        return err_set(err, ERR_INVALID, 0,
                       "invalid reference format: repository name must be lowercase");
    return err_set(err, ERR_INVALID, 0, "invalid reference format");
}

int cli_ref_parse(const char *s, struct cli_ref *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (cli_is_hex64(s))
        return err_set(err, ERR_INVALID, 0,
                       "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
                       s);
    _cleanup_free_ char *domain = NULL;
    _cleanup_free_ char *rem = NULL;
    split_domain(s, &domain, &rem);
    size_t remote_len = strcspn(rem, ":");
    for (size_t i = 0; i < remote_len; i++) {
        if (isupper((unsigned char)rem[i]))
            return err_set(err, ERR_INVALID, 0,
                           "invalid reference format: repository name (%.*s) must be lowercase",
                           (int)remote_len, rem);
    }
    if (!parse_remainder(domain, rem, out))
        return parse_error(domain, rem, err);
    const char *at = strchr(rem, '@');
    if (at && check_digest(at + 1, err) < 0) {
        cli_ref_release(out);
        return -1;
    }
    if (strlen(domain) + 1 + strlen(out->path) > NAME_MAX_LEN) {
        cli_ref_release(out);
        return err_set(err, ERR_INVALID, 0, "repository name must not be more than %d characters",
                       NAME_MAX_LEN);
    }
    out->digest = at ? xstrdup(at + 1) : NULL;
    out->domain = steal_ptr(&domain);
    return 0;
}

void cli_ref_release(struct cli_ref *r)
{
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

char *cli_ref_name(const struct cli_ref *r)
{
    return xasprintf("%s/%s", r->domain, r->path);
}

char *cli_ref_string(const struct cli_ref *r)
{
    return xasprintf("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "",
                     r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *cli_ref_familiar(const struct cli_ref *r)
{
    if (strcmp(r->domain, CLI_REF_DEFAULT_DOMAIN) != 0)
        return cli_ref_name(r);
    const char *p = r->path;
    if (strncmp(p, "library/", 8) == 0 && !strchr(p + 8, '/'))
        p += 8;
    return xstrdup(p);
}
