/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's own mounts: HostConfig.Binds (-v, a host path or a volume's name), Mounts
 * (--mount: bind, volume, tmpfs) and Tmpfs (--tmpfs), and the volumes behind them: the named
 * ones made on first use, the anonymous ones made for Config.Volumes, inspect's Mounts, and
 * which containers use a volume.
 */
#include <string.h>

#include "daemon/container/internal.h"

/* Mounts a container may have (the runtime's spec takes as many); also bounds the scans. */
#define VOLUMES_MAX 256

/* Path components of an absolute path ("/a/b" has 2): a parent's mount goes first, as docker
 * sorts its mounts. */
static size_t path_depth(const char *p)
{
    size_t n = 0;
    for (; *p; p++)
        n += p[0] == '/' && p[1] && p[1] != '/';
    return n;
}

/* Whether path names the root once "." and ".." are taken as the kernel takes them ("/x/..",
 * "/../.."). */
static bool is_root(const char *path)
{
    size_t depth = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            depth = depth ? depth - 1 : 0;
        else if (len && !(len == 1 && p[0] == '.'))
            depth++;
        p += len;
    }
    return depth == 0;
}

/* "/a//b/" and "/a/b" name the same place. */
static bool same_path(const char *a, const char *b)
{
    for (;;) {
        while (a[0] == '/' && (a[1] == '/' || a[1] == '\0'))
            a++;
        while (b[0] == '/' && (b[1] == '/' || b[1] == '\0'))
            b++;
        if (*a != *b)
            return false;
        if (!*a)
            return true;
        a++;
        b++;
    }
}

void ctr_user_mounts_free(struct rt_mount *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].src);
        free(m[i].dst);
        free(m[i].data);
    }
    free(m);
}

/* Adds m to the list kept in mount order: a parent before what lies below it. */
static void mount_insert(struct rt_mount *list, size_t *n, struct rt_mount m)
{
    size_t k = (*n)++;
    while (k > 0 && path_depth(list[k - 1].dst) > path_depth(m.dst)) {
        list[k] = list[k - 1];
        k--;
    }
    list[k] = m;
}

/* A volume's directory; without a store (checks at create) the name stands for it. */
static char *volume_src(const struct ctr_store *st, const char *name, struct err **err)
{
    if (!st || !st->volumes)
        return xstrdup(name);
    if (!vol_find(st->volumes, name))
        return err_set(err, ERR_NOT_FOUND, 0, "get %s: no such volume", name), NULL;
    return vol_data_path(st->volumes, name);
}

int ctr_user_mounts(const struct ctr_store *st, const struct api_host_config *h,
                    struct rt_mount **out, size_t *n, struct err **err)
{
    struct api_mount *ms = NULL;
    size_t nms = 0, nb = 0;
    while (h->binds && h->binds[nb])
        nb++;
    if (nb + json_array_size(h->mounts) + json_object_size(h->tmpfs) > VOLUMES_MAX)
        return err_set(err, ERR_INVALID, 0, "a container has at most %d mounts", VOLUMES_MAX);
    if (api_mounts_parse(h->mounts, h->tmpfs, &ms, &nms, err) < 0)
        return -1;
    struct rt_mount *list = xcalloc(nb + nms + 1, sizeof(*list));
    size_t k = 0;
    for (size_t i = 0; i < nb; i++) {
        struct api_bind b;
        if (api_bind_parse(h->binds[i], &b, err) < 0)
            goto fail;
        struct rt_mount m = {.dst = steal_ptr(&b.dst), .ro = b.ro};
        if (b.volume) {
            m.src = volume_src(st, b.src, err);
            m.copy_up = !b.nocopy;
        } else {
            m.src = steal_ptr(&b.src);
        }
        api_bind_release(&b);
        if (!m.src) {
            free(m.dst);
            goto fail;
        }
        mount_insert(list, &k, m);
    }
    for (size_t i = 0; i < nms; i++) {
        struct api_mount *a = &ms[i];
        struct rt_mount m = {.dst = steal_ptr(&a->target),
                             .ro = a->ro,
                             .no_create = !a->tmpfs && !a->volume,
                             .data = a->tmpfs ? steal_ptr(&a->data) : NULL,
                             .flags = a->flags};
        if (a->volume && !*a->source && st) {
            free(m.dst);
            err_set(err, ERR_INTERNAL, 0, "an anonymous volume on %s was never made", a->target);
            goto fail;
        }
        if (a->volume) {
            m.src = volume_src(st, *a->source ? a->source : "anonymous", err);
            m.copy_up = !a->nocopy;
        } else if (!a->tmpfs) {
            m.src = steal_ptr(&a->source);
        }
        if (!a->tmpfs && !m.src) {
            free(m.dst);
            goto fail;
        }
        mount_insert(list, &k, m);
    }
    api_mounts_free(ms, nms);
    ms = NULL;
    nms = 0;
    for (size_t i = 0; i < k; i++) {
        const char *d = list[i].dst;
        if (is_root(d)) {
            err_set(err, ERR_INVALID, 0, "invalid mount config: destination can't be '/'");
            goto fail;
        }
        if (strcmp(d, "/proc") == 0 || strncmp(d, "/proc/", 6) == 0) {
            err_set(err, ERR_INVALID, 0, "invalid mount config: %s cannot be mounted over", d);
            goto fail;
        }
        for (size_t j = 0; j < i; j++) {
            if (same_path(list[j].dst, d)) {
                err_set(err, ERR_INVALID, 0, "Duplicate mount point: %s", d);
                goto fail;
            }
        }
    }
    *out = list;
    *n = k;
    return 0;
fail:
    api_mounts_free(ms, nms);
    ctr_user_mounts_free(list, k);
    return -1;
}

/* ---- volumes behind the mounts -------------------------------------------------------------- */

/* The volume named name, made when missing; added to made when it is new. */
static int volume_need(struct ctr_store *st, const char *name, const json_t *labels, bool anonymous,
                       struct vol ***made, size_t *nmade, const char **out, struct err **err)
{
    struct vol *v = name && *name ? vol_find(st->volumes, name) : NULL;
    if (!v) {
        v = vol_add(st->volumes, name, labels, NULL, anonymous, err);
        if (!v)
            return -1;
        *made = xrealloc(*made, (*nmade + 1) * sizeof(**made));
        (*made)[(*nmade)++] = v;
    }
    *out = v->name;
    return 0;
}

/* Whether a bind, a mount or a tmpfs of h is on path. */
static bool mounted_on(const struct api_host_config *h, const char *path)
{
    for (size_t i = 0; h->binds && h->binds[i]; i++) {
        struct api_bind b;
        if (api_bind_parse(h->binds[i], &b, NULL) == 0) {
            bool same = same_path(b.dst, path);
            api_bind_release(&b);
            if (same)
                return true;
        }
    }
    size_t i;
    json_t *e;
    json_array_foreach(h->mounts, i, e)
    {
        const char *t = json_string_value(json_object_get(e, "Target"));
        if (t && same_path(t, path))
            return true;
    }
    const char *k;
    json_t *v;
    json_object_foreach(h->tmpfs, k, v)
    {
        if (same_path(k, path))
            return true;
    }
    return false;
}

int ctr_volumes_prepare(struct ctr_store *st, struct ctr *c, struct vol ***made, size_t *nmade,
                        struct err **err)
{
    struct api_host_config *h = &c->cfg.host;
    const char *name;
    *made = NULL;
    *nmade = 0;
    if (!st->volumes)
        return 0;
    for (size_t i = 0; h->binds && h->binds[i]; i++) {
        struct api_bind b;
        if (api_bind_parse(h->binds[i], &b, err) < 0)
            return -1;
        int r = b.volume ? volume_need(st, b.src, NULL, false, made, nmade, &name, err) : 0;
        api_bind_release(&b);
        if (r < 0)
            return -1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(h->mounts, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "Type")) ?: "", "volume") != 0)
            continue;
        const char *src = json_string_value(json_object_get(e, "Source"));
        json_t *labels = json_object_get(json_object_get(e, "VolumeOptions"), "Labels");
        bool anonymous = !src || !*src;
        if (volume_need(st, src, labels, anonymous, made, nmade, &name, err) < 0)
            return -1;
        if (anonymous)
            json_object_set_new(e, "Source", json_string(name));
    }
    const char *path;
    json_t *v;
    json_object_foreach(c->cfg.volumes, path, v)
    {
        if (path[0] != '/' || mounted_on(h, path))
            continue;
        if (is_root(path))
            return err_set(err, ERR_INVALID, 0, "invalid volume %s: it is the root", path);
        if (volume_need(st, NULL, NULL, true, made, nmade, &name, err) < 0)
            return -1;
        if (!h->mounts)
            h->mounts = json_array();
        json_array_append_new(h->mounts, json_pack("{s:s, s:s, s:s}", "Type", "volume", "Source",
                                                   name, "Target", path));
    }
    return 0;
}

/* The names of the volumes c's mounts use (borrowed from c, or from the store). */
static size_t volumes_of(const struct ctr_store *st, const struct ctr *c, const char **out,
                         size_t max)
{
    const struct api_host_config *h = &c->cfg.host;
    size_t n = 0;
    for (size_t i = 0; h->binds && h->binds[i] && n < max; i++) {
        struct api_bind b;
        if (api_bind_parse(h->binds[i], &b, NULL) == 0) {
            struct vol *v = b.volume && st->volumes ? vol_find(st->volumes, b.src) : NULL;
            if (v)
                out[n++] = v->name;
            api_bind_release(&b);
        }
    }
    size_t i;
    json_t *e;
    json_array_foreach(h->mounts, i, e)
    {
        const char *src = json_string_value(json_object_get(e, "Source"));
        if (n < max && src &&
            strcmp(json_string_value(json_object_get(e, "Type")) ?: "", "volume") == 0)
            out[n++] = src;
    }
    return n;
}

static bool uses(const struct ctr_store *st, const struct ctr *c, const char *name)
{
    const char *names[VOLUMES_MAX];
    size_t n = volumes_of(st, c, names, VOLUMES_MAX);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0)
            return true;
    }
    return false;
}

char *ctr_volume_users(const struct ctr_store *st, const char *name)
{
    struct sb ids = SB_INIT;
    for (size_t i = 0; i < st->n; i++) {
        if (!st->ctrs[i]->removed && uses(st, st->ctrs[i], name))
            sb_addf(&ids, "%s%s", ids.len ? ", " : "", st->ctrs[i]->id);
    }
    if (!ids.len) {
        sb_release(&ids);
        return NULL;
    }
    return sb_steal(&ids);
}

size_t ctr_volumes_anonymous(const struct ctr_store *st, const struct ctr *c, struct vol ***out)
{
    const char *names[VOLUMES_MAX];
    size_t n = volumes_of(st, c, names, VOLUMES_MAX), k = 0;
    *out = xcalloc(n + 1, sizeof(**out));
    for (size_t i = 0; i < n && st->volumes; i++) {
        struct vol *v = vol_find(st->volumes, names[i]);
        bool shared = false;
        for (size_t j = 0; v && j < st->n && !shared; j++)
            shared = st->ctrs[j] != c && !st->ctrs[j]->removed && uses(st, st->ctrs[j], v->name);
        bool dup = false;
        for (size_t j = 0; v && j < k && !dup; j++)
            dup = (*out)[j] == v;
        if (v && v->anonymous && !shared && !dup)
            (*out)[k++] = v;
    }
    return k;
}

json_t *ctr_mounts_json(const struct ctr_store *st, const struct ctr *c)
{
    const struct api_host_config *h = &c->cfg.host;
    json_t *a = json_array();
    for (size_t i = 0; h->binds && h->binds[i]; i++) {
        struct api_bind b;
        if (api_bind_parse(h->binds[i], &b, NULL) < 0)
            continue;
        if (b.volume) {
            _cleanup_free_ char *src = st->volumes ? vol_data_path(st->volumes, b.src) : NULL;
            json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type",
                                               "volume", "Name", b.src, "Source", src ? src : "",
                                               "Destination", b.dst, "Driver", "local", "Mode",
                                               *b.mode ? b.mode : "z", "RW", !b.ro, "Propagation",
                                               ""));
        } else {
            json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind",
                                               "Source", b.src, "Destination", b.dst, "Mode",
                                               b.mode, "RW", !b.ro, "Propagation", b.propagation));
        }
        api_bind_release(&b);
    }
    struct api_mount *ms = NULL;
    size_t n = 0;
    if (api_mounts_parse(h->mounts, NULL, &ms, &n, NULL) < 0)
        return a;
    for (size_t i = 0; i < n; i++) {
        const struct api_mount *m = &ms[i];
        if (m->volume) {
            _cleanup_free_ char *src = st->volumes ? vol_data_path(st->volumes, m->source) : NULL;
            json_array_append_new(
                a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume", "Name",
                             m->source, "Source", src ? src : "", "Destination", m->target,
                             "Driver", "local", "Mode", "", "RW", !m->ro, "Propagation", ""));
        } else {
            json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type",
                                               m->tmpfs ? "tmpfs" : "bind", "Source",
                                               m->source ? m->source : "", "Destination", m->target,
                                               "Mode", "", "RW", !m->ro, "Propagation",
                                               m->propagation ? m->propagation : ""));
        }
    }
    api_mounts_free(ms, n);
    return a;
}
