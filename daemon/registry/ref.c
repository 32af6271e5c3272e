/* SPDX-License-Identifier: Apache-2.0 */
/*
 * References, normalised as docker's distribution/reference does (ParseNormalizedNamed): the
 * grammar is written out by hand instead of with regular expressions.
 */
#include "daemon/registry/registry.h"

#include <ctype.h>
#include <string.h>

#define NAME_TOTAL_MAX 255

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
    return is_alnum(c) || c == '_';
}

bool reg_tag_valid(const char *tag)
{
    size_t n = tag ? strlen(tag) : 0;
    if (n == 0 || n > 128 || !is_word(tag[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
            return false;
    }
    return true;
}

/* path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static bool path_component_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_lower_alnum(s[0]))
        return false;
    while (i < n) {
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == n)
            return true;
        size_t sep = i;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i == n || !is_lower_alnum(s[i]) || i == sep)
            return false;
    }
    return true;
}

static bool path_valid(const char *s)
{
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (!path_component_valid(s, n))
            return false;
        if (!slash)
            return true;
        s = slash + 1;
    }
}

/* domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool domain_component_valid(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

/* host [":" port] with host := domain-name | "[" ipv6 "]" */
static bool domain_valid(const char *s)
{
    const char *end;
    if (s[0] == '[') {
        end = strchr(s, ']');
        if (!end || end == s + 1)
            return false;
        for (const char *p = s + 1; p < end; p++) {
            if (!isxdigit((unsigned char)*p) && *p != ':')
                return false;
        }
        end++;
    } else {
        const char *p = s;
        for (;;) {
            size_t n = strcspn(p, ".:");
            if (!domain_component_valid(p, n))
                return false;
            p += n;
            if (*p != '.')
                break;
            p++;
        }
        end = p;
    }
    if (*end == '\0')
        return true;
    if (*end != ':' || end[1] == '\0')
        return false;
    for (const char *p = end + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
    }
    return true;
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    }
    return true;
}

static bool has_upper(const char *s)
{
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z')
            return true;
    }
    return false;
}

/* docker's splitDockerDomain on a name without tag or digest. */
static void split_domain(const char *name, char **domain, char **path)
{
    const char *slash = strchr(name, '/');
    if (!slash) {
        *domain = xstrdup("docker.io");
        *path = xasprintf("library/%s", name);
        return;
    }
    _cleanup_free_ char *first = xstrndup(name, (size_t)(slash - name));
    const char *rest = slash + 1;
    if (strcmp(first, "localhost") == 0 || strpbrk(first, ".:") || has_upper(first)) {
        *domain = strcmp(first, "index.docker.io") == 0 ? xstrdup("docker.io") : steal_ptr(&first);
        *path = xstrdup(rest);
    } else {
        *domain = xstrdup("docker.io");
        *path = xstrdup(name);
    }
    if (strcmp(*domain, "docker.io") == 0 && !strchr(*path, '/')) {
        char *p = xasprintf("library/%s", *path);
        free(*path);
        *path = p;
    }
}

static int bad_format(struct err **err)
{
    return err_set(err, ERR_INVALID, 0, "invalid reference format");
}

int reg_ref_parse(const char *s, bool default_tag, struct reg_ref *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s)
        return bad_format(err);
    if (is_hex64(s))
        return err_set(err, ERR_INVALID, 0,
                       "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
                       s);
    _cleanup_free_ char *name = xstrdup(s);
    _cleanup_free_ char *digest = NULL, *tag = NULL;
    char *at = strchr(name, '@');
    if (at) {
        *at = '\0';
        if (!digest_valid(at + 1))
            return bad_format(err);
        digest = xstrdup(at + 1);
    }
    char *colon = strrchr(name, ':');
    if (colon && !strchr(colon, '/')) {
        *colon = '\0';
        if (!reg_tag_valid(colon + 1))
            return bad_format(err);
        tag = xstrdup(colon + 1);
    }
    if (!*name)
        return bad_format(err);
    _cleanup_free_ char *domain = NULL, *path = NULL;
    split_domain(name, &domain, &path);
    if (has_upper(path))
        return err_set(err, ERR_INVALID, 0,
                       "invalid reference format: repository name must be lowercase");
    if (!domain_valid(domain) || !path_valid(path))
        return bad_format(err);
    if (strlen(domain) + 1 + strlen(path) > NAME_TOTAL_MAX)
        return err_set(err, ERR_INVALID, 0,
                       "invalid reference format: repository name must not be more than %d "
                       "characters",
                       NAME_TOTAL_MAX);
    if (!tag && !digest && default_tag)
        tag = xstrdup("latest");
    out->domain = steal_ptr(&domain);
    out->path = steal_ptr(&path);
    out->tag = steal_ptr(&tag);
    out->digest = steal_ptr(&digest);
    return 0;
}

void reg_ref_release(struct reg_ref *r)
{
    if (!r)
        return;
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void reg_ref_copy(const struct reg_ref *src, struct reg_ref *dst)
{
    dst->domain = dup_or_null(src->domain);
    dst->path = dup_or_null(src->path);
    dst->tag = dup_or_null(src->tag);
    dst->digest = dup_or_null(src->digest);
}

char *reg_ref_repo(const struct reg_ref *r)
{
    return xasprintf("%s/%s", r->domain, r->path);
}

char *reg_ref_familiar_repo(const struct reg_ref *r)
{
    if (strcmp(r->domain, "docker.io") != 0)
        return reg_ref_repo(r);
    const char *p = r->path;
    if (strncmp(p, "library/", 8) == 0 && !strchr(p + 8, '/'))
        p += 8;
    return xstrdup(p);
}

static char *with_suffixes(char *repo, const struct reg_ref *r)
{
    struct sb sb = SB_INIT;
    sb_adds(&sb, repo);
    free(repo);
    if (r->tag)
        sb_addf(&sb, ":%s", r->tag);
    if (r->digest)
        sb_addf(&sb, "@%s", r->digest);
    return sb_steal(&sb);
}

char *reg_ref_string(const struct reg_ref *r)
{
    return with_suffixes(reg_ref_repo(r), r);
}

char *reg_ref_familiar(const struct reg_ref *r)
{
    return with_suffixes(reg_ref_familiar_repo(r), r);
}
