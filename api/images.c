/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image list rows, image inspect, history and delete replies, shaped as dockerd 25+ writes them
 * (encoding/json: struct field order, omitempty where docker has it, null for nil maps and
 * slices) and answered according to the request's API version.
 */
#include "api/json_util.h"

#include <string.h>

#define V1_43 1043
#define V1_44 1044
#define V1_45 1045

static const char go_zero_time[] = "0001-01-01T00:00:00Z";

static bool strv_empty(char *const *v)
{
    return !v || !v[0];
}

static json_t *labels_value(json_t *labels)
{
    return json_is_object(labels) ? json_incref(labels) : json_null();
}

/* ---- GET /images/json ------------------------------------------------------------------- */

json_t *api_image_summary_encode(const struct api_image_summary *s, int version)
{
    /* Below 1.43 an untagged image carries placeholders; from 1.43 on, empty arrays. */
    bool placeholders = version < V1_43 && strv_empty(s->repo_tags) && strv_empty(s->repo_digests);
    json_t *j = json_object();
    json_object_set_new(j, "Containers", json_integer(s->containers));
    json_object_set_new(j, "Created", json_integer(s->created));
    apij_set_str(j, "Id", s->id);
    json_object_set_new(j, "Labels", labels_value(s->labels));
    apij_set_str(j, "ParentId", s->parent_id);
    json_object_set_new(j, "RepoDigests",
                        placeholders ? json_pack("[s]", "<none>@<none>")
                                     : apij_strv_encode(s->repo_digests));
    json_object_set_new(j, "RepoTags",
                        placeholders ? json_pack("[s]", "<none>:<none>")
                                     : apij_strv_encode(s->repo_tags));
    json_object_set_new(j, "SharedSize", json_integer(s->shared_size));
    json_object_set_new(j, "Size", json_integer(s->size));
    if (version < V1_44 && s->size != 0) /* omitempty in docker's struct */
        json_object_set_new(j, "VirtualSize", json_integer(s->size));
    return j;
}

static int decode_labels(const json_t *j, json_t **out, struct err **err)
{
    json_t *l = json_object_get(j, "Labels");
    *out = NULL;
    if (!l || json_is_null(l))
        return 0;
    if (!json_is_object(l))
        return err_set(err, ERR_INVALID, 0, "field Labels: expected an object");
    const char *k;
    json_t *v;
    json_object_foreach(l, k, v)
    {
        if (!json_is_string(v))
            return err_set(err, ERR_INVALID, 0, "field Labels.%s: expected a string", k);
    }
    *out = json_incref(l);
    return 0;
}

int api_image_summary_decode(const json_t *j, struct api_image_summary *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    out->containers = -1;
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "image summary: expected an object");
    if (apij_str(j, "Id", &out->id, err) < 0 || apij_str(j, "ParentId", &out->parent_id, err) < 0 ||
        apij_strv(j, "RepoTags", &out->repo_tags, err) < 0 ||
        apij_strv(j, "RepoDigests", &out->repo_digests, err) < 0 ||
        apij_int(j, "Created", &out->created, err) < 0 ||
        apij_int(j, "Size", &out->size, err) < 0 ||
        apij_int(j, "Containers", &out->containers, err) < 0 ||
        decode_labels(j, &out->labels, err) < 0) {
        api_image_summary_release(out);
        return -1;
    }
    if (!out->id) {
        api_image_summary_release(out);
        return err_set(err, ERR_INVALID, 0, "image summary: field Id is missing");
    }
    if (!out->parent_id)
        out->parent_id = xstrdup("");
    return 0;
}

void api_image_summary_release(struct api_image_summary *s)
{
    free(s->id);
    free(s->parent_id);
    api_strv_free(s->repo_tags);
    api_strv_free(s->repo_digests);
    json_decref(s->labels);
    memset(s, 0, sizeof(*s));
}

/* ---- GET /images/{name}/json ------------------------------------------------------------ */

enum cfg_kind { CFG_STR, CFG_BOOL, CFG_NULL, CFG_OMIT, CFG_OMIT_TRUE };

/*
 * docker's container.Config, in its field order: what an absent key becomes (a zero value, null
 * for nil slices and maps, or left out where the struct says omitempty).
 */
static const struct {
    const char *key;
    enum cfg_kind kind;
} config_keys[] = {
    {"Hostname", CFG_STR},
    {"Domainname", CFG_STR},
    {"User", CFG_STR},
    {"AttachStdin", CFG_BOOL},
    {"AttachStdout", CFG_BOOL},
    {"AttachStderr", CFG_BOOL},
    {"ExposedPorts", CFG_OMIT},
    {"Tty", CFG_BOOL},
    {"OpenStdin", CFG_BOOL},
    {"StdinOnce", CFG_BOOL},
    {"Env", CFG_NULL},
    {"Cmd", CFG_NULL},
    {"Healthcheck", CFG_OMIT},
    {"ArgsEscaped", CFG_OMIT_TRUE},
    {"Image", CFG_STR},
    {"Volumes", CFG_NULL},
    {"WorkingDir", CFG_STR},
    {"Entrypoint", CFG_NULL},
    {"NetworkDisabled", CFG_OMIT_TRUE},
    {"MacAddress", CFG_OMIT},
    {"OnBuild", CFG_NULL},
    {"Labels", CFG_NULL},
    {"StopSignal", CFG_OMIT},
    {"StopTimeout", CFG_OMIT},
    {"Shell", CFG_OMIT},
};

/* The given config re-shaped as docker's container.Config; keys docker does not know go. */
static json_t *config_encode(const json_t *src)
{
    json_t *j = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
        const char *key = config_keys[i].key;
        json_t *v = src ? json_object_get(src, key) : NULL;
        /* omitempty: null, "", and empty maps and slices are left out. */
        bool empty = !v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) ||
                     (json_is_object(v) && json_object_size(v) == 0) ||
                     (json_is_array(v) && json_array_size(v) == 0);
        switch (config_keys[i].kind) {
        case CFG_STR:
            json_object_set_new(j, key, v && json_is_string(v) ? json_incref(v) : json_string(""));
            break;
        case CFG_BOOL:
            json_object_set_new(j, key, json_boolean(json_is_true(v)));
            break;
        case CFG_NULL:
            json_object_set_new(j, key, v ? json_incref(v) : json_null());
            break;
        case CFG_OMIT:
            if (!empty)
                json_object_set(j, key, v);
            break;
        case CFG_OMIT_TRUE:
            if (json_is_true(v))
                json_object_set(j, key, v);
            break;
        }
    }
    return j;
}

static json_t *graph_driver_encode(const struct api_image_inspect *in)
{
    /* Data is a Go map: keys sorted. */
    json_t *data = json_object();
    if (in->lower_dir)
        apij_set_str(data, "LowerDir", in->lower_dir);
    if (in->merged_dir)
        apij_set_str(data, "MergedDir", in->merged_dir);
    if (in->upper_dir)
        apij_set_str(data, "UpperDir", in->upper_dir);
    if (in->work_dir)
        apij_set_str(data, "WorkDir", in->work_dir);
    if (json_object_size(data) == 0) {
        json_decref(data);
        data = json_null();
    }
    return json_pack("{s:o, s:s}", "Data", data, "Name", "overlay2");
}

static json_t *rootfs_encode(char *const *layers)
{
    json_t *j = json_pack("{s:s}", "Type", "layers");
    if (!strv_empty(layers))
        json_object_set_new(j, "Layers", apij_strv_encode(layers));
    return j;
}

/* Id through Comment, Created, and the deprecated Container fields. */
static void inspect_head(json_t *j, const struct api_image_inspect *in, int version)
{
    apij_set_str(j, "Id", in->id);
    json_object_set_new(j, "RepoTags", apij_strv_encode(in->repo_tags));
    json_object_set_new(j, "RepoDigests", apij_strv_encode(in->repo_digests));
    apij_set_str(j, "Parent", in->parent);
    apij_set_str(j, "Comment", in->comment);
    if (in->created && *in->created)
        apij_set_str(j, "Created", in->created);
    else if (version < V1_44)
        apij_set_str(j, "Created", go_zero_time);
    /* omitempty since 1.44, gone since 1.45; a committed image names its container */
    if (version < V1_45 && in->container && *in->container)
        apij_set_str(j, "Container", in->container);
    else if (version < V1_44)
        apij_set_str(j, "Container", "");
    if (version < V1_45)
        json_object_set_new(j, "ContainerConfig", config_encode(in->container_config));
}

json_t *api_image_inspect_encode(const struct api_image_inspect *in, int version)
{
    json_t *j = json_object();
    inspect_head(j, in, version);
    apij_set_str(j, "DockerVersion", in->docker_version);
    apij_set_str(j, "Author", in->author);
    json_object_set_new(j, "Config", in->config ? config_encode(in->config) : json_null());
    apij_set_str(j, "Architecture", in->architecture);
    if (in->variant && *in->variant)
        apij_set_str(j, "Variant", in->variant);
    apij_set_str(j, "Os", in->os);
    json_object_set_new(j, "Size", json_integer(in->size));
    if (version < V1_44)
        json_object_set_new(j, "VirtualSize", json_integer(in->size));
    json_object_set_new(j, "GraphDriver", graph_driver_encode(in));
    json_object_set_new(j, "RootFS", rootfs_encode(in->layers));
    json_object_set_new(
        j, "Metadata",
        json_pack("{s:s}", "LastTagTime",
                  in->last_tag_time && *in->last_tag_time ? in->last_tag_time : go_zero_time));
    return j;
}

/* ---- GET /images/{name}/history --------------------------------------------------------- */

json_t *api_history_encode(const struct api_history_item *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct api_history_item *h = &items[i];
        json_t *j = json_object();
        apij_set_str(j, "Comment", h->comment);
        json_object_set_new(j, "Created", json_integer(h->created));
        apij_set_str(j, "CreatedBy", h->created_by);
        apij_set_str(j, "Id", h->id);
        json_object_set_new(j, "Size", json_integer(h->size));
        /* A nil slice in dockerd: null for the rows without tags. */
        json_object_set_new(j, "Tags",
                            strv_empty(h->tags) ? json_null() : apij_strv_encode(h->tags));
        json_array_append_new(a, j);
    }
    return a;
}

static int history_item_decode(const json_t *j, struct api_history_item *h, struct err **err)
{
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "expected an object");
    if (apij_str(j, "Id", &h->id, err) < 0 || apij_int(j, "Created", &h->created, err) < 0 ||
        apij_str(j, "CreatedBy", &h->created_by, err) < 0 ||
        apij_strv(j, "Tags", &h->tags, err) < 0 || apij_int(j, "Size", &h->size, err) < 0 ||
        apij_str(j, "Comment", &h->comment, err) < 0)
        return -1;
    if (!h->id)
        h->id = xstrdup("");
    if (!h->created_by)
        h->created_by = xstrdup("");
    if (!h->comment)
        h->comment = xstrdup("");
    return 0;
}

int api_history_decode(const json_t *j, struct api_history_item **items, size_t *n,
                       struct err **err)
{
    *items = NULL;
    *n = 0;
    if (!json_is_array(j))
        return err_set(err, ERR_INVALID, 0, "image history: expected an array");
    size_t count = json_array_size(j);
    struct api_history_item *v = xcalloc(count ? count : 1, sizeof(*v));
    for (size_t i = 0; i < count; i++) {
        if (history_item_decode(json_array_get(j, i), &v[i], err) < 0) {
            api_history_free(v, i + 1);
            return err_wrap(err, "image history[%zu]", i);
        }
    }
    *items = v;
    *n = count;
    return 0;
}

void api_history_free(struct api_history_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].id);
        free(items[i].created_by);
        api_strv_free(items[i].tags);
        free(items[i].comment);
    }
    free(items);
}

/* ---- DELETE /images/{name} -------------------------------------------------------------- */

json_t *api_delete_encode(const struct api_delete_item *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        if (items[i].untagged)
            json_array_append_new(a, json_pack("{s:s}", "Untagged", items[i].untagged));
        else
            json_array_append_new(
                a, json_pack("{s:s}", "Deleted", items[i].deleted ? items[i].deleted : ""));
    }
    return a;
}

static int delete_item_decode(const json_t *j, struct api_delete_item *d, struct err **err)
{
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "expected an object");
    if (apij_str(j, "Untagged", &d->untagged, err) < 0 ||
        apij_str(j, "Deleted", &d->deleted, err) < 0)
        return -1;
    /* dockerd marshals both with omitempty; an empty string counts as absent. */
    if (d->untagged && !*d->untagged) {
        free(d->untagged);
        d->untagged = NULL;
    }
    if (d->deleted && !*d->deleted) {
        free(d->deleted);
        d->deleted = NULL;
    }
    if (!d->untagged == !d->deleted)
        return err_set(err, ERR_INVALID, 0, "expected exactly one of Untagged and Deleted");
    return 0;
}

int api_delete_decode(const json_t *j, struct api_delete_item **items, size_t *n, struct err **err)
{
    *items = NULL;
    *n = 0;
    /* The prune report's ImagesDeleted is null when nothing was deleted. */
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_array(j))
        return err_set(err, ERR_INVALID, 0, "image delete reply: expected an array");
    size_t count = json_array_size(j);
    struct api_delete_item *v = xcalloc(count ? count : 1, sizeof(*v));
    for (size_t i = 0; i < count; i++) {
        if (delete_item_decode(json_array_get(j, i), &v[i], err) < 0) {
            api_delete_free(v, i + 1);
            return err_wrap(err, "image delete reply[%zu]", i);
        }
    }
    *items = v;
    *n = count;
    return 0;
}

void api_delete_free(struct api_delete_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].untagged);
        free(items[i].deleted);
    }
    free(items);
}
