/* SPDX-License-Identifier: Apache-2.0 */
/* /images/...: pull, list, inspect, history, tag, remove, prune; and POST /auth. */
#include "daemon/handlers/handlers.h"

#include <fnmatch.h>
#include <string.h>

/* ---- pull: POST /images/create?fromImage=&tag=&platform= --------------------------------- */

struct pull_ctx {
    struct httpd_req *req;
    struct image_pull *pull;
    struct events *events;
    char *ref; /* familiar, for the "pull" event */
    bool streaming;
    char *os, *arch, *variant;
};

static void pull_ctx_free(struct pull_ctx *c)
{
    free(c->ref);
    free(c->os);
    free(c->arch);
    free(c->variant);
    free(c);
}

static void pull_write(struct pull_ctx *c, const struct api_progress *p)
{
    if (!c->streaming) {
        httpd_resp_begin_chunked(c->req, 200, "application/json");
        c->streaming = true;
    }
    _cleanup_free_ char *line = api_progress_encode(p);
    httpd_resp_chunk(c->req, line, strlen(line));
}

static void pull_progress(const struct api_progress *p, void *data)
{
    pull_write(data, p);
}

static void pull_done(const struct err *err, void *data)
{
    struct pull_ctx *c = data;
    if (err && !c->streaming) {
        /* Nothing was streamed yet: a plain HTTP error the CLI prints as such. */
        int status = err->kind == ERR_NOT_FOUND      ? 404
                     : err->kind == ERR_UNAUTHORIZED ? 401
                     : err->kind == ERR_INVALID      ? 400
                                                     : 500;
        _cleanup_free_ char *body = api_error_encode(err->msg);
        if (!httpd_req_aborted(c->req))
            httpd_resp_send(c->req, status, "application/json", body, strlen(body));
        else
            httpd_resp_send(c->req, 500, NULL, NULL, 0);
        pull_ctx_free(c);
        return;
    }
    if (err) {
        struct api_progress e = {.error = err->msg};
        pull_write(c, &e);
    } else {
        const char *attrs[] = {"name", c->ref, NULL};
        events_emit(c->events, "image", "pull", c->ref, attrs);
    }
    if (!c->streaming)
        httpd_resp_begin_chunked(c->req, 200, "application/json");
    httpd_resp_end(c->req);
    pull_ctx_free(c);
}

static void pull_aborted(struct httpd_req *req, void *data)
{
    (void)req;
    struct pull_ctx *c = data;
    if (c->pull)
        image_pull_cancel(c->pull); /* pull_done runs and ends the request */
}

/* "linux/amd64[/v8]" or "" into c; ERR_INVALID otherwise. */
static int parse_platform(const char *s, struct pull_ctx *c, struct err **err)
{
    if (!s || !s[0])
        return 0;
    _cleanup_free_ char *copy = xstrdup(s);
    char *save = NULL;
    char *os = strtok_r(copy, "/", &save);
    char *arch = strtok_r(NULL, "/", &save);
    char *variant = strtok_r(NULL, "/", &save);
    if (!os || !arch || strtok_r(NULL, "/", &save))
        return err_set(err, ERR_INVALID, 0, "invalid platform \"%s\": expected os/arch[/variant]",
                       s);
    c->os = xstrdup(os);
    c->arch = xstrdup(arch);
    c->variant = variant ? xstrdup(variant) : NULL;
    return 0;
}

/* fromImage plus tag (a tag, or a digest) into one normalised reference. */
static int pull_reference(struct route_req *rr, struct reg_ref *ref, struct err **err)
{
    const char *from = route_query(rr, "fromImage");
    if (!from || !from[0])
        return err_set(err, ERR_INVALID, 0, "fromImage or fromSrc is required");
    const char *tag = route_query(rr, "tag");
    _cleanup_free_ char *name = xstrdup(from);
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == ':')
        name[n - 1] = '\0';
    _cleanup_free_ char *full = NULL;
    if (tag && tag[0])
        full = xasprintf("%s%s%s", name, strchr(tag, ':') ? "@" : ":", tag);
    else
        full = xstrdup(name);
    return reg_ref_parse(full, true, ref, err);
}

static int pull_body_data(struct httpd_req *req, const char *buf, size_t len, void *data)
{
    (void)req, (void)buf, (void)len, (void)data;
    return 0; /* a pull's body, if a client sends one, means nothing */
}

static void pull_body_end(struct httpd_req *req, int error, void *data)
{
    (void)req, (void)error, (void)data; /* a client that left is pull_aborted's to handle */
}

static void handle_images_create(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    if (!env->reg) {
        route_reply_errf(rr, ERR_UNAVAILABLE, "the daemon is shutting down");
        return;
    }
    if (route_query(rr, "fromSrc")) {
        handle_images_import(rr);
        return;
    }
    struct reg_ref ref;
    if (pull_reference(rr, &ref, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    struct pull_ctx *c = xcalloc(1, sizeof(*c));
    if (parse_platform(route_query(rr, "platform"), c, &err) < 0) {
        reg_ref_release(&ref);
        pull_ctx_free(c);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    struct reg_auth auth;
    reg_auth_decode(httpd_req_header(rr->http, "X-Registry-Auth"), &auth);
    c->events = env->events;
    c->ref = reg_ref_familiar(&ref);
    c->req = route_detach(rr);
    httpd_req_on_abort(c->req, pull_aborted, c);
    /* The route streams bodies (for imports): a pull has none, and reading its (empty) body
     * hands the connection back to httpd, which then notices a client that goes away. */
    static const struct httpd_body_ops no_body = {.data = pull_body_data, .end = pull_body_end};
    httpd_req_body_read(c->req, &no_body, c);
    struct reg_platform plat = {.os = c->os, .arch = c->arch, .variant = c->variant};
    static const struct image_pull_ops ops = {.progress = pull_progress, .done = pull_done};
    c->pull = image_pull_start(env->images, &ref, &auth, &plat, &ops, c);
    reg_ref_release(&ref);
    reg_auth_release(&auth);
}

/* ---- GET /images/json -------------------------------------------------------------------- */

static bool strv_has_prefix_match(char **v, const char *pattern)
{
    for (char **p = v; p && *p; p++) {
        if (fnmatch(pattern, *p, 0) == 0)
            return true;
        /* "busybox" matches "busybox:latest" too */
        _cleanup_free_ char *repo = xstrdup(*p);
        char *colon = strrchr(repo, ':');
        if (colon && !strchr(colon, '/'))
            *colon = '\0';
        if (fnmatch(pattern, repo, 0) == 0)
            return true;
    }
    return false;
}

static bool image_matches(const struct handle_env *env, const struct image *img, char **tags,
                          json_t *filters, struct err **err)
{
    json_t *refs = json_object_get(filters, "reference");
    if (refs) {
        bool any = false;
        size_t i;
        json_t *v;
        json_array_foreach(refs, i, v) any |= strv_has_prefix_match(tags, json_string_value(v));
        if (!any)
            return false;
    }
    json_t *dangling = json_object_get(filters, "dangling");
    if (dangling) {
        const char *d = json_string_value(json_array_get(dangling, 0));
        bool want = d && (strcmp(d, "true") == 0 || strcmp(d, "1") == 0);
        if (want != (tags[0] == NULL))
            return false;
    }
    json_t *labels = json_object_get(filters, "label");
    if (labels && !handle_labels_match(
                      json_object_get(json_object_get(img->config, "config"), "Labels"), labels))
        return false;
    const char *keys[] = {"before", "since"};
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
        json_t *f = json_object_get(filters, keys[k]);
        if (!f)
            continue;
        const struct image *ref =
            image_lookup(env->images, json_string_value(json_array_get(f, 0)), err);
        if (!ref)
            return false;
        if (k == 0 ? img->created >= ref->created : img->created <= ref->created)
            return false;
    }
    return true;
}

char *handle_image_parent(const struct image *img)
{
    const char *p = json_string_value(json_object_get(img->config, "parent"));
    return (char *)(p ? p : "");
}

json_t *handle_image_summary(const struct image *img, char **tags, char **digests, int64_t shared,
                             int64_t containers, int version)
{
    json_t *labels = json_object_get(json_object_get(img->config, "config"), "Labels");
    struct api_image_summary s = {.id = (char *)img->id,
                                  .parent_id = handle_image_parent(img),
                                  .repo_tags = tags,
                                  .repo_digests = digests,
                                  .created = img->created,
                                  .size = img->size,
                                  .shared_size = shared,
                                  .containers = containers,
                                  .labels = json_is_object(labels) ? labels : NULL};
    return api_image_summary_encode(&s, version);
}

static void handle_images_list(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_t *filters = NULL;
    if (api_filters_parse(route_query(rr, "filters"), &filters, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    static const char *const known[] = {"reference", "dangling", "label", "before", "since"};
    const char *key;
    json_t *v;
    json_object_foreach(filters, key, v)
    {
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok) {
            route_reply_errf(rr, ERR_INVALID, "invalid filter '%s'", key); /* key is in filters */
            json_decref(filters);
            return;
        }
    }
    json_t *out = json_array();
    for (size_t i = 0; i < image_count(env->images); i++) {
        const struct image *img = image_at(env->images, i);
        char **tags = image_repo_tags(env->images, img);
        char **digests = image_repo_digests(env->images, img);
        if (image_matches(env, img, tags, filters, &err))
            json_array_append_new(out,
                                  handle_image_summary(img, tags, digests, -1, -1, rr->version));
        api_strv_free(tags);
        api_strv_free(digests);
        if (err)
            break;
    }
    json_decref(filters);
    if (err) {
        json_decref(out);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_reply_json(rr, 200, out);
}

/* ---- GET /images/{name}/json ------------------------------------------------------------- */

static char *lower_dirs(const struct handle_env *env, const struct image *img)
{
    struct sb sb = SB_INIT;
    for (size_t i = img->nlayers - 1; i-- > 0;) {
        _cleanup_free_ char *d = image_layer_dir(env->images, img->chain_ids[i]);
        if (sb.len)
            sb_addc(&sb, ':');
        sb_adds(&sb, d);
    }
    return sb_steal(&sb);
}

static void handle_image_inspect(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    const struct image *img = image_lookup(env->images, rr->params[0], &err);
    if (!img) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    const json_t *cfg = img->config;
    char **tags = image_repo_tags(env->images, img);
    char **digests = image_repo_digests(env->images, img);
    _cleanup_free_ char *upper =
        img->nlayers ? image_layer_dir(env->images, img->chain_ids[img->nlayers - 1]) : NULL;
    _cleanup_free_ char *lower = img->nlayers > 1 ? lower_dirs(env, img) : NULL;
    struct api_image_inspect in = {
        .id = (char *)img->id,
        .repo_tags = tags,
        .repo_digests = digests,
        .parent = (char *)handle_image_parent(img),
        .comment = (char *)json_string_value(json_object_get(cfg, "comment")),
        .created = img->created_str,
        .docker_version = (char *)json_string_value(json_object_get(cfg, "docker_version")),
        .author = (char *)json_string_value(json_object_get(cfg, "author")),
        .config = json_object_get(cfg, "config"),
        .architecture = (char *)json_string_value(json_object_get(cfg, "architecture")),
        .variant = (char *)json_string_value(json_object_get(cfg, "variant")),
        .os = (char *)json_string_value(json_object_get(cfg, "os")),
        .size = img->size,
        .layers = img->diff_ids,
        .upper_dir = upper,
        .lower_dir = lower,
        .last_tag_time = img->last_tag_time,
        .container = (char *)json_string_value(json_object_get(cfg, "container")),
        .container_config = json_object_get(cfg, "container_config"),
    };
    json_t *j = api_image_inspect_encode(&in, rr->version);
    api_strv_free(tags);
    api_strv_free(digests);
    route_reply_json(rr, 200, j);
}

/* ---- GET /images/{name}/history ---------------------------------------------------------- */

static void handle_image_history(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    const struct image *img = image_lookup(env->images, rr->params[0], &err);
    if (!img) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    json_t *hist = json_object_get(img->config, "history");
    size_t n = json_array_size(hist);
    struct api_history_item *items = xcalloc(n + 1, sizeof(*items));
    char **tags = image_repo_tags(env->images, img);
    size_t layer = 0, nitems = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *h = json_array_get(hist, i);
        struct api_history_item *it = &items[n - 1 - i]; /* newest first */
        it->id = xstrdup("<missing>");
        const char *created = json_string_value(json_object_get(h, "created"));
        struct tm tm = {0};
        it->created = created && strptime(created, "%Y-%m-%dT%H:%M:%S", &tm) ? timegm(&tm) : 0;
        const char *by = json_string_value(json_object_get(h, "created_by"));
        it->created_by = xstrdup(by ? by : "");
        const char *comment = json_string_value(json_object_get(h, "comment"));
        it->comment = xstrdup(comment ? comment : "");
        it->tags = xcalloc(1, sizeof(char *));
        if (!json_is_true(json_object_get(h, "empty_layer")) && layer < img->nlayers)
            it->size = image_layer_size(env->images, img->chain_ids[layer++]);
        nitems++;
    }
    if (nitems > 0) {
        free(items[0].id);
        items[0].id = xstrdup(img->id);
        api_strv_free(items[0].tags);
        items[0].tags = tags;
        tags = NULL;
    }
    api_strv_free(tags);
    json_t *j = api_history_encode(items, nitems);
    api_history_free(items, nitems);
    route_reply_json(rr, 200, j);
}

/* ---- POST /images/{name}/tag ------------------------------------------------------------- */

/* An image call's answer and what its event needs. */
struct image_op {
    struct httpd_req *req;
    struct events *events;
    char *id;   /* the image's id (tag) */
    char *name; /* the new tag, familiar */
};

static struct image_op *image_op_new(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct image_op *op = xcalloc(1, sizeof(*op));
    op->req = rr->http;
    op->events = env->events;
    return op;
}

static void image_op_free(struct image_op *op)
{
    free(op->id);
    free(op->name);
    free(op);
}

static void tag_done(const struct err *err, void *data)
{
    struct image_op *op = data;
    if (err) {
        route_send_err(op->req, err);
    } else {
        const char *attrs[] = {"name", op->name, NULL};
        events_emit(op->events, "image", "tag", op->id, attrs);
        httpd_resp_send(op->req, 201, NULL, NULL, 0);
    }
    image_op_free(op);
}

static void handle_image_tag(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    const char *repo = route_query(rr, "repo");
    const struct image *img = image_lookup(env->images, rr->params[0], &err);
    if (img && (!repo || !repo[0]))
        err_set(&err, ERR_INVALID, 0, "repository name (repo) is required");
    _cleanup_free_ char *repo_copy = repo ? xstrdup(repo) : NULL;
    _cleanup_free_ char *tag = route_query(rr, "tag") ? xstrdup(route_query(rr, "tag")) : NULL;
    if (err) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    /* docker import packs the tag into repo ("name:tag") with no tag parameter. */
    if ((!tag || !tag[0]) && strrchr(repo_copy, ':') > strrchr(repo_copy, '/')) {
        char *colon = strrchr(repo_copy, ':');
        free(tag);
        tag = xstrdup(colon + 1);
        *colon = '\0';
    }
    if (tag && tag[0] && !reg_tag_valid(tag)) {
        route_reply_errf(rr, ERR_INVALID, "invalid tag format");
        return;
    }
    struct image_op *op = image_op_new(rr);
    op->id = xstrdup(img->id);
    op->name = tag && tag[0] ? xasprintf("%s:%s", repo_copy, tag) : xstrdup(repo_copy);
    struct reg_ref parsed;
    if (reg_ref_parse(op->name, true, &parsed, NULL) == 0) { /* named as docker shows it */
        free(op->name);
        op->name = reg_ref_familiar(&parsed);
        reg_ref_release(&parsed);
    }
    if (image_tag(env->images, img, repo_copy, tag, tag_done, op, &err) < 0) {
        image_op_free(op);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_detach(rr);
}

/* ---- DELETE /images/{name} --------------------------------------------------------------- */

static void remove_done(const struct err *err, struct api_delete_item *items, size_t n, void *data)
{
    struct image_op *op = data;
    struct httpd_req *req = op->req;
    if (err) {
        route_send_err(req, err);
        image_op_free(op);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *attrs[] = {"name", items[i].untagged, NULL};
        if (items[i].untagged)
            events_emit(op->events, "image", "untag", op->id ? op->id : op->name, attrs);
        else
            events_emit(op->events, "image", "delete", items[i].deleted, NULL);
    }
    image_op_free(op);
    json_auto_t *j = api_delete_encode(items, n);
    api_delete_free(items, n);
    _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
    httpd_resp_send(req, 200, "application/json", s, strlen(s));
}

static void handle_image_delete(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    bool force = route_query_bool(rr, "force", false);
    bool noprune = route_query_bool(rr, "noprune", false);
    struct image_op *op = image_op_new(rr);
    op->name = xstrdup(rr->params[0]);
    struct err *ignored = NULL;
    const struct image *img = image_lookup(env->images, rr->params[0], &ignored);
    err_free(ignored);
    op->id = img ? xstrdup(img->id) : NULL;
    if (image_remove(env->images, rr->params[0], force, noprune, remove_done, op, &err) < 0) {
        image_op_free(op);
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    route_detach(rr);
}

/* ---- POST /images/prune ------------------------------------------------------------------ */

struct prune_ctx {
    struct httpd_req *req;
    const struct handle_env *env;
    char **ids;
    size_t n, next;
    json_t *deleted;
    int64_t reclaimed;
};

static void prune_next(struct prune_ctx *c);

static void prune_removed(const struct err *err, struct api_delete_item *items, size_t n,
                          void *data)
{
    struct prune_ctx *c = data;
    if (!err) {
        json_t *j = api_delete_encode(items, n);
        json_array_extend(c->deleted, j);
        json_decref(j);
        api_delete_free(items, n);
    }
    prune_next(c);
}

static void prune_next(struct prune_ctx *c)
{
    while (c->next < c->n) {
        const char *id = c->ids[c->next++];
        const struct image *img = image_lookup(c->env->images, id, NULL);
        if (!img)
            continue;
        c->reclaimed += img->size;
        if (image_remove(c->env->images, id, true, false, prune_removed, c, NULL) == 0)
            return;
    }
    json_auto_t *j = json_pack("{s:O, s:I}", "ImagesDeleted", c->deleted, "SpaceReclaimed",
                               (json_int_t)c->reclaimed);
    _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
    httpd_resp_send(c->req, 200, "application/json", s, strlen(s));
    for (size_t i = 0; i < c->n; i++)
        free(c->ids[i]);
    free(c->ids);
    json_decref(c->deleted);
    free(c);
}

static void handle_images_prune(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_t *filters = NULL;
    if (api_filters_parse(route_query(rr, "filters"), &filters, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    const char *d = json_string_value(json_array_get(json_object_get(filters, "dangling"), 0));
    bool only_dangling = !d || strcmp(d, "true") == 0 || strcmp(d, "1") == 0;
    struct prune_ctx *c = xcalloc(1, sizeof(*c));
    c->env = env;
    c->deleted = json_array();
    c->ids = xcalloc(image_count(env->images) + 1, sizeof(char *));
    for (size_t i = 0; i < image_count(env->images); i++) {
        const struct image *img = image_at(env->images, i);
        char **tags = image_repo_tags(env->images, img);
        bool dangling = tags[0] == NULL;
        api_strv_free(tags);
        json_object_del(filters, "dangling");
        /* as docker: an image a container uses is never pruned, with all its tags */
        if ((!only_dangling || dangling) && !ctr_using_image(env->ctrs, img->id) &&
            image_matches(env, img, (char *[]){NULL}, filters, NULL))
            c->ids[c->n++] = xstrdup(img->id);
    }
    json_decref(filters);
    c->req = route_detach(rr);
    prune_next(c);
}

/* ---- POST /auth -------------------------------------------------------------------------- */

static void login_done(const struct err *err, const char *identity_token, void *data)
{
    struct httpd_req *req = data;
    if (err) {
        route_send_err(req, err);
        return;
    }
    json_auto_t *j = json_pack("{s:s, s:s}", "Status", "Login Succeeded", "IdentityToken",
                               identity_token ? identity_token : "");
    _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
    httpd_resp_send(req, 200, "application/json", s, strlen(s));
}

static void handle_auth(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    struct err *err = NULL;
    json_t *body = NULL;
    if (!env->reg) {
        route_reply_errf(rr, ERR_UNAVAILABLE, "the daemon is shutting down");
        return;
    }
    if (route_body_json(rr, false, &body, &err) < 0) {
        route_reply_err(rr, err);
        err_free(err);
        return;
    }
    const char *fields[] = {"username", "password", "serveraddress", "identitytoken"};
    const char *vals[4] = {NULL};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        json_t *v = json_object_get(body, fields[i]);
        if (v && !json_is_string(v)) {
            json_decref(body);
            route_reply_errf(rr, ERR_INVALID, "field %s: expected a string", fields[i]);
            return;
        }
        vals[i] = json_string_value(v);
    }
    struct reg_auth auth = {.username = (char *)vals[0],
                            .password = (char *)vals[1],
                            .server_address = (char *)vals[2],
                            .identity_token = (char *)vals[3]};
    struct httpd_req *req = route_detach(rr);
    reg_login(env->reg, &auth, login_done, req);
    json_decref(body);
}

const struct route handle_image_routes[] = {
    {.method = "POST",
     .pattern = "/images/create",
     .fn = handle_images_create,
     .stream_body = true}, /* the tarball of an import (fromSrc=-) */
    {.method = "GET", .pattern = "/images/json", .fn = handle_images_list},
    {.method = "POST", .pattern = "/images/prune", .fn = handle_images_prune},
    {.method = "GET", .pattern = "/images/{name*}/json", .fn = handle_image_inspect},
    {.method = "GET", .pattern = "/images/{name*}/history", .fn = handle_image_history},
    {.method = "POST", .pattern = "/images/{name*}/tag", .fn = handle_image_tag},
    {.method = "DELETE", .pattern = "/images/{name*}", .fn = handle_image_delete},
    {.method = "POST", .pattern = "/auth", .fn = handle_auth},
    {.method = NULL},
};
