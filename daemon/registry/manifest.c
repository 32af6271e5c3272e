/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifest and index parsing. Everything that comes from a registry is checked here before
 * any of it is used: types, digests, sizes, counts, and that the body's mediaType agrees with
 * the response's Content-Type and with the document's shape (CVE-2021-41190).
 */
#include "daemon/registry/media.h"
#include "daemon/registry/registry.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

void reg_manifest_free(struct reg_manifest *m)
{
    if (!m)
        return;
    free(m->digest);
    free(m->manifest_digest);
    free(m->media_type);
    free(m->config.media_type);
    free(m->config.digest);
    for (size_t i = 0; i < m->nlayers; i++) {
        free(m->layers[i].media_type);
        free(m->layers[i].digest);
    }
    free(m->layers);
    free(m->raw);
    free(m);
}

void reg_index_free(struct reg_index *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->n; i++) {
        struct reg_index_entry *e = &idx->entries[i];
        free(e->desc.media_type);
        free(e->desc.digest);
        free(e->os);
        free(e->arch);
        free(e->variant);
    }
    free(idx->entries);
    free(idx);
}

static bool is_index_type(const char *t)
{
    return strcmp(t, MT_OCI_INDEX) == 0 || strcmp(t, MT_DOCKER_LIST) == 0;
}

static bool is_manifest_type(const char *t)
{
    return strcmp(t, MT_OCI_MANIFEST) == 0 || strcmp(t, MT_DOCKER_MANIFEST) == 0;
}

static bool is_schema1_type(const char *t)
{
    return strcmp(t, MT_DOCKER_V1) == 0 || strcmp(t, MT_DOCKER_V1_JWS) == 0;
}

static const char *const layer_types[] = {
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
};

static bool is_layer_type(const char *t)
{
    for (size_t i = 0; i < ARRAY_SIZE(layer_types); i++) {
        if (strcmp(t, layer_types[i]) == 0)
            return true;
    }
    return false;
}

static bool is_config_type(const char *t)
{
    return strcmp(t, "application/vnd.docker.container.image.v1+json") == 0 ||
           strcmp(t, "application/vnd.oci.image.config.v1+json") == 0;
}

static char *content_type_base(const char *ct)
{
    if (!ct)
        return xstrdup("");
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    char *s = xstrndup(ct, n);
    for (char *p = s; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    return s;
}

/* A string field: absent is NULL (when optional), anything but a non-empty string is refused. */
static int get_str(json_t *obj, const char *key, bool required, const char *what, const char **out,
                   struct err **err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) {
        if (required)
            return err_set(err, ERR_INVALID, 0, "invalid manifest: %s: missing %s", what, key);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 1024)
        return err_set(err, ERR_INVALID, 0, "invalid manifest: %s: %s must be a non-empty string",
                       what, key);
    *out = json_string_value(v);
    return 0;
}

static int parse_desc(json_t *j, const char *what, struct reg_desc *d, struct err **err)
{
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "invalid manifest: %s must be an object", what);
    const char *mt = NULL, *dg = NULL;
    if (get_str(j, "mediaType", true, what, &mt, err) < 0 ||
        get_str(j, "digest", true, what, &dg, err) < 0)
        return -1;
    if (!digest_valid(dg))
        return err_set(err, ERR_INVALID, 0, "invalid manifest: %s: invalid digest", what);
    json_t *size = json_object_get(j, "size");
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return err_set(err, ERR_INVALID, 0,
                       "invalid manifest: %s: size must be a non-negative integer", what);
    d->media_type = xstrdup(mt);
    d->digest = xstrdup(dg);
    d->size = json_integer_value(size);
    return 0;
}

static int parse_image(json_t *root, const char *media_type, struct reg_manifest **out,
                       struct err **err)
{
    json_t *layers = json_object_get(root, "layers");
    if (!json_is_array(layers))
        return err_set(err, ERR_INVALID, 0, "invalid manifest: layers must be an array");
    size_t n = json_array_size(layers);
    if (n > REG_MAX_LAYERS)
        return err_set(err, ERR_INVALID, 0, "invalid manifest: more than %d layers",
                       REG_MAX_LAYERS);
    struct reg_manifest *m = xcalloc(1, sizeof(*m));
    m->media_type = xstrdup(media_type);
    m->layers = xcalloc(n ? n : 1, sizeof(*m->layers));
    if (parse_desc(json_object_get(root, "config"), "config", &m->config, err) < 0)
        goto fail;
    if (!is_config_type(m->config.media_type)) {
        err_set(err, ERR_INVALID, 0, "unsupported image config media type %s",
                m->config.media_type);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof(what), "layers[%zu]", i);
        if (parse_desc(json_array_get(layers, i), what, &m->layers[i], err) < 0)
            goto fail;
        m->nlayers++;
        if (!is_layer_type(m->layers[i].media_type)) {
            err_set(err, ERR_INVALID, 0, "unsupported layer media type %s",
                    m->layers[i].media_type);
            goto fail;
        }
    }
    *out = m;
    return 0;
fail:
    reg_manifest_free(m);
    return -1;
}

static int parse_platform(json_t *p, struct reg_index_entry *e, struct err **err)
{
    if (!p)
        return 0;
    if (!json_is_object(p))
        return err_set(err, ERR_INVALID, 0, "invalid manifest list: platform must be an object");
    const char *os = NULL, *arch = NULL, *variant = NULL;
    if (get_str(p, "os", false, "platform", &os, err) < 0 ||
        get_str(p, "architecture", false, "platform", &arch, err) < 0 ||
        get_str(p, "variant", false, "platform", &variant, err) < 0)
        return -1;
    e->os = os ? xstrdup(os) : NULL;
    e->arch = arch ? xstrdup(arch) : NULL;
    e->variant = variant ? xstrdup(variant) : NULL;
    return 0;
}

static int parse_index(json_t *root, struct reg_index **out, struct err **err)
{
    json_t *arr = json_object_get(root, "manifests");
    if (!json_is_array(arr))
        return err_set(err, ERR_INVALID, 0, "invalid manifest list: manifests must be an array");
    size_t n = json_array_size(arr);
    if (n > REG_MAX_ENTRIES)
        return err_set(err, ERR_INVALID, 0, "invalid manifest list: more than %d entries",
                       REG_MAX_ENTRIES);
    struct reg_index *idx = xcalloc(1, sizeof(*idx));
    idx->entries = xcalloc(n ? n : 1, sizeof(*idx->entries));
    for (size_t i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof(what), "manifests[%zu]", i);
        json_t *ej = json_array_get(arr, i);
        struct reg_index_entry *e = &idx->entries[i];
        if (parse_desc(ej, what, &e->desc, err) < 0)
            goto fail;
        idx->n++;
        if (parse_platform(json_object_get(ej, "platform"), e, err) < 0)
            goto fail;
    }
    *out = idx;
    return 0;
fail:
    reg_index_free(idx);
    return -1;
}

/* Works out the document's media type from its shape, its mediaType and the Content-Type. */
static int effective_type(json_t *root, const char *ct, bool is_index, const char **out,
                          struct err **err)
{
    const char *body_mt = NULL;
    json_t *v = json_object_get(root, "mediaType");
    if (v && !json_is_string(v))
        return err_set(err, ERR_INVALID, 0, "invalid manifest: mediaType must be a string");
    body_mt = v ? json_string_value(v) : NULL;
    if ((body_mt && is_schema1_type(body_mt)) || is_schema1_type(ct))
        return err_set(err, ERR_INVALID, 0,
                       "schema 1 manifests are not supported; the image must be re-pushed in a "
                       "newer format");
    bool ct_known = is_index_type(ct) || is_manifest_type(ct);
    if (body_mt) {
        if (!is_index_type(body_mt) && !is_manifest_type(body_mt))
            return err_set(err, ERR_INVALID, 0, "unsupported manifest media type %s", body_mt);
        if (is_index_type(body_mt) != is_index)
            return err_set(err, ERR_INVALID, 0,
                           "invalid manifest: mediaType %s does not match the document", body_mt);
        if (ct_known && strcmp(ct, body_mt) != 0)
            return err_set(err, ERR_INVALID, 0,
                           "invalid manifest: Content-Type %s does not match mediaType %s", ct,
                           body_mt);
        *out = body_mt;
        return 0;
    }
    if (ct_known) {
        if (is_index_type(ct) != is_index)
            return err_set(err, ERR_INVALID, 0,
                           "invalid manifest: Content-Type %s does not match the document", ct);
        if (strcmp(ct, MT_DOCKER_MANIFEST) == 0 || strcmp(ct, MT_DOCKER_LIST) == 0)
            return err_set(err, ERR_INVALID, 0, "invalid manifest: mediaType missing for %s", ct);
        *out = ct;
        return 0;
    }
    *out = is_index ? MT_OCI_INDEX : MT_OCI_MANIFEST;
    return 0;
}

int reg_manifest_parse(const char *body, size_t len, const char *content_type,
                       struct reg_manifest **m, struct reg_index **idx, struct err **err)
{
    *m = NULL;
    *idx = NULL;
    if (len > REG_MANIFEST_MAX)
        return err_set(err, ERR_TOO_LARGE, 0, "manifest too large");
    json_error_t jerr;
    json_auto_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return err_set(err, ERR_INVALID, 0, "invalid manifest: %s", jerr.text);
    if (!json_is_object(root))
        return err_set(err, ERR_INVALID, 0, "invalid manifest: not a JSON object");
    _cleanup_free_ char *ct = content_type_base(content_type);
    json_t *sv = json_object_get(root, "schemaVersion");
    if (json_is_integer(sv) && json_integer_value(sv) == 1)
        return err_set(err, ERR_INVALID, 0,
                       "schema 1 manifests are not supported; the image must be re-pushed in a "
                       "newer format");
    if (!json_is_integer(sv) || json_integer_value(sv) != 2)
        return err_set(err, ERR_INVALID, 0, "invalid manifest: schemaVersion must be 2");
    bool has_manifests = json_object_get(root, "manifests") != NULL;
    bool has_layers =
        json_object_get(root, "layers") != NULL || json_object_get(root, "config") != NULL;
    if (has_manifests && has_layers)
        return err_set(err, ERR_INVALID, 0,
                       "invalid manifest: ambiguous document with both manifests and layers");
    if (!has_manifests && !has_layers)
        return err_set(err, ERR_INVALID, 0, "invalid manifest: neither manifests nor layers");
    const char *mt = NULL;
    if (effective_type(root, ct, has_manifests, &mt, err) < 0)
        return -1;
    if (has_manifests)
        return parse_index(root, idx, err);
    if (parse_image(root, mt, m, err) < 0)
        return -1;
    (*m)->raw = xmalloc(len + 1);
    memcpy((*m)->raw, body, len);
    (*m)->raw[len] = '\0';
    (*m)->raw_len = len;
    char d[DIGEST_STR_LEN + 1];
    digest_buf(body, len, d);
    (*m)->digest = xstrdup(d);
    (*m)->manifest_digest = xstrdup(d);
    return 0;
}

static const char *norm_arch(const char *a)
{
    if (!a)
        return "";
    if (strcmp(a, "x86_64") == 0 || strcmp(a, "x86-64") == 0)
        return "amd64";
    if (strcmp(a, "aarch64") == 0)
        return "arm64";
    return a;
}

/* The variant an entry without one stands for (containerd's normalisation). */
static const char *norm_variant(const char *arch, const char *v)
{
    if (v && *v)
        return v;
    if (strcmp(arch, "arm64") == 0)
        return "v8";
    if (strcmp(arch, "arm") == 0)
        return "v7";
    return "";
}

const struct reg_index_entry *reg_index_find(const struct reg_index *idx,
                                             const struct reg_platform *p)
{
    const char *os = p && p->os ? p->os : "linux";
    const char *arch = norm_arch(p && p->arch ? p->arch : "amd64");
    const char *want_v = p && p->variant && *p->variant ? norm_variant(arch, p->variant) : NULL;
    for (size_t i = 0; i < idx->n; i++) {
        const struct reg_index_entry *e = &idx->entries[i];
        if (!e->os || !e->arch || strcmp(e->os, os) != 0 || strcmp(norm_arch(e->arch), arch) != 0)
            continue;
        if (want_v && strcmp(norm_variant(arch, e->variant), want_v) != 0)
            continue;
        return e;
    }
    return NULL;
}
