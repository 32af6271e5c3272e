/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The 8-byte frame demultiplexer (stdcopy.StdCopy) and docker's container formatter: quoted
 * commands, displayable ports and the ps row every --format template sees.
 */
#include "client/containers.h"

#include <string.h>

#include "api/units.h"
#include "client/images.h"

/* ---- frames ----------------------------------------------------------------------------- */

void cli_demux_init(struct cli_demux *d, FILE *out, FILE *errf, bool raw)
{
    memset(d, 0, sizeof(*d));
    d->out = out;
    d->errf = errf;
    d->raw = raw;
}

static int demux_write(struct cli_demux *d, const char *data, size_t len, struct err **err)
{
    FILE *f = d->stream == 2 ? d->errf : d->out;
    /* flushed per frame: stdout and stderr keep the container's interleaving */
    if (fwrite(data, 1, len, f) != len || fflush(f) != 0)
        return err_set(err, ERR_SYSTEM, 0, "writing the container's output");
    return 0;
}

int cli_demux_feed(struct cli_demux *d, const char *data, size_t len, struct err **err)
{
    if (d->raw) {
        d->stream = 1;
        int r = demux_write(d, data, len, err);
        fflush(d->out);
        return r;
    }
    while (len > 0) {
        if (d->remain == 0) {
            size_t take = 8 - d->hlen < len ? 8 - d->hlen : len;
            memcpy(d->hdr + d->hlen, data, take);
            d->hlen += take;
            data += take;
            len -= take;
            if (d->hlen < 8)
                break;
            d->hlen = 0;
            if (d->hdr[0] > 2)
                return err_set(err, ERR_INVALID, 0, "Unrecognized input header: %d", d->hdr[0]);
            d->stream = d->hdr[0];
            d->remain = (uint32_t)d->hdr[4] << 24 | (uint32_t)d->hdr[5] << 16 |
                        (uint32_t)d->hdr[6] << 8 | d->hdr[7];
            continue;
        }
        size_t take = d->remain < len ? d->remain : len;
        if (demux_write(d, data, take, err) < 0)
            return -1;
        d->remain -= (uint32_t)take;
        data += take;
        len -= take;
    }
    fflush(d->out);
    fflush(d->errf);
    return 0;
}

bool cli_demux_partial(const struct cli_demux *d)
{
    return d->hlen > 0 || d->remain > 0;
}

/* ---- the container formatter ------------------------------------------------------------ */

char *cli_go_quote(const char *s)
{
    struct sb q = SB_INIT;
    sb_addc(&q, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            sb_adds(&q, "\\\"");
            break;
        case '\\':
            sb_adds(&q, "\\\\");
            break;
        case '\a':
            sb_adds(&q, "\\a");
            break;
        case '\b':
            sb_adds(&q, "\\b");
            break;
        case '\f':
            sb_adds(&q, "\\f");
            break;
        case '\n':
            sb_adds(&q, "\\n");
            break;
        case '\r':
            sb_adds(&q, "\\r");
            break;
        case '\t':
            sb_adds(&q, "\\t");
            break;
        case '\v':
            sb_adds(&q, "\\v");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                sb_addf(&q, "\\x%02x", *p);
            else
                sb_addc(&q, (char)*p);
        }
    }
    sb_addc(&q, '"');
    return sb_steal(&q);
}

struct port {
    const char *ip, *type;
    int private_port, public_port;
};

static int port_cmp(const void *a, const void *b)
{
    const struct port *x = a, *y = b;
    if (x->private_port != y->private_port)
        return x->private_port < y->private_port ? -1 : 1;
    int c = strcmp(x->ip, y->ip);
    if (c)
        return c;
    if (x->public_port != y->public_port)
        return x->public_port < y->public_port ? -1 : 1;
    return strcmp(x->type, y->type);
}

struct port_group {
    char *key; /* "tcp" or "ip/tcp" */
    int first, last;
};

static void form_group(struct sb *out, const struct port_group *g)
{
    const char *slash = strrchr(g->key, '/');
    _cleanup_free_ char *ip = slash ? xstrndup(g->key, (size_t)(slash - g->key)) : NULL;
    const char *type = slash ? slash + 1 : g->key;
    _cleanup_free_ char *range =
        g->first == g->last ? xasprintf("%d", g->first) : xasprintf("%d-%d", g->first, g->last);
    if (out->len)
        sb_adds(out, ", ");
    if (ip)
        sb_addf(out, "%s:%s->%s/%s", ip, range, range, type);
    else
        sb_addf(out, "%s/%s", range, type);
}

static struct port *ports_collect(json_t *ports, size_t *n)
{
    size_t count = json_array_size(ports);
    struct port *v = xcalloc(count ? count : 1, sizeof(*v));
    for (size_t i = 0; i < count; i++) {
        json_t *p = json_array_get(ports, i);
        const char *ip = json_string_value(json_object_get(p, "IP"));
        const char *type = json_string_value(json_object_get(p, "Type"));
        v[i].ip = ip ? ip : "";
        v[i].type = type ? type : "";
        v[i].private_port = (int)json_integer_value(json_object_get(p, "PrivatePort"));
        v[i].public_port = (int)json_integer_value(json_object_get(p, "PublicPort"));
    }
    qsort(v, count, sizeof(*v), port_cmp);
    *n = count;
    return v;
}

/* formatter.DisplayablePorts. */
char *cli_ports_display(json_t *ports)
{
    size_t n = 0;
    struct port *v = ports_collect(ports, &n);
    struct port_group *groups = xcalloc(n ? n : 1, sizeof(*groups));
    size_t ng = 0;
    struct sb result = SB_INIT, mappings = SB_INIT;
    for (size_t i = 0; i < n; i++) {
        const struct port *p = &v[i];
        _cleanup_free_ char *key = NULL;
        if (*p->ip) {
            if (p->public_port != p->private_port) {
                bool v6 = strchr(p->ip, ':') != NULL;
                sb_addf(&mappings, "%s%s%s%s:%d->%d/%s", mappings.len ? ", " : "", v6 ? "[" : "",
                        p->ip, v6 ? "]" : "", p->public_port, p->private_port, p->type);
                continue;
            }
            key = xasprintf("%s/%s", p->ip, p->type);
        } else {
            key = xstrdup(p->type);
        }
        struct port_group *g = NULL;
        for (size_t k = 0; k < ng && !g; k++)
            g = strcmp(groups[k].key, key) == 0 ? &groups[k] : NULL;
        if (!g) {
            groups[ng++] = (struct port_group){
                .key = steal_ptr(&key), .first = p->private_port, .last = p->private_port};
            continue;
        }
        if (p->private_port == g->last + 1) {
            g->last = p->private_port;
            continue;
        }
        form_group(&result, g);
        g->first = g->last = p->private_port;
    }
    for (size_t k = 0; k < ng; k++) {
        form_group(&result, &groups[k]);
        free(groups[k].key);
    }
    if (mappings.len)
        sb_addf(&result, "%s%s", result.len ? ", " : "", mappings.buf);
    free(groups);
    free(v);
    sb_release(&mappings);
    return result.buf ? sb_steal(&result) : xstrdup("");
}

static const char *str_of(json_t *item, const char *key)
{
    const char *s = json_string_value(json_object_get(item, key));
    return s ? s : "";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of an object, sorted, joined by sep as "k" or "k=v". */
static char *join_keys(json_t *obj, bool with_values)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    struct sb out = SB_INIT;
    for (i = 0; i < n; i++) {
        sb_adds(&out, i ? "," : "");
        sb_adds(&out, keys[i]);
        if (with_values)
            sb_addf(&out, "=%s",
                    json_string_value(json_object_get(obj, keys[i]))
                        ? json_string_value(json_object_get(obj, keys[i]))
                        : "");
    }
    free(keys);
    return out.buf ? sb_steal(&out) : xstrdup("");
}

/* Names without the leading '/'; with trunc, the first name that is not a link. */
static char *names_of(json_t *names, bool trunc)
{
    struct sb out = SB_INIT;
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        const char *s = json_string_value(n);
        s = s && *s ? s + 1 : "";
        if (trunc && !strchr(s, '/')) {
            sb_reset(&out);
            sb_adds(&out, s);
            break;
        }
        sb_addf(&out, "%s%s", out.len ? "," : "", s);
    }
    return out.buf ? sb_steal(&out) : xstrdup("");
}

/* ContainerContext.Image: familiar, without a digest, or the short id. */
static char *image_of(json_t *item, bool trunc)
{
    const char *image = str_of(item, "Image");
    if (!*image)
        return xstrdup("<no image>");
    if (!trunc)
        return xstrdup(image);
    char a[13], b[13];
    cli_trunc_id(str_of(item, "ImageID"), a);
    cli_trunc_id(image, b);
    if (strcmp(a, b) == 0)
        return xstrdup(a);
    struct cli_ref ref;
    if (cli_ref_parse(image, &ref, NULL) < 0)
        return xstrdup(image);
    free(ref.digest);
    ref.digest = NULL;
    char *fam = cli_ref_familiar(&ref);
    if (ref.tag) {
        char *t = xasprintf("%s:%s", fam, ref.tag);
        free(fam);
        fam = t;
    }
    cli_ref_release(&ref);
    return fam;
}

static char *mounts_of(json_t *mounts, bool trunc, int *local)
{
    struct sb out = SB_INIT;
    size_t i;
    json_t *m;
    *local = 0;
    json_array_foreach(mounts, i, m)
    {
        const char *name = str_of(m, "Name");
        if (!*name)
            name = str_of(m, "Source");
        _cleanup_free_ char *shown = trunc ? cli_ellipsis(name, 15) : xstrdup(name);
        sb_addf(&out, "%s%s", out.len ? "," : "", shown);
        *local += strcmp(str_of(m, "Driver"), "local") == 0;
    }
    return out.buf ? sb_steal(&out) : xstrdup("");
}

static char *size_of(json_t *item)
{
    char rw[32], root[32];
    api_human_size((double)json_integer_value(json_object_get(item, "SizeRw")), 3, rw);
    int64_t rootfs = json_integer_value(json_object_get(item, "SizeRootFs"));
    if (rootfs <= 0)
        return xstrdup(rw);
    api_human_size((double)rootfs, 3, root);
    return xasprintf("%s (virtual %s)", rw, root);
}

json_t *cli_ps_row(json_t *item, bool trunc, int64_t now, bool with_label)
{
    int64_t created = json_integer_value(json_object_get(item, "Created"));
    char id[13], created_at[80], since[80];
    cli_trunc_id(str_of(item, "Id"), id);
    cli_go_time_string(created, created_at);
    char *d = api_human_duration((now - created) * 1000000000LL);
    snprintf(since, sizeof(since), "%s ago", d);
    free(d);
    _cleanup_free_ char *cmd_cut =
        trunc ? cli_ellipsis(str_of(item, "Command"), 20) : xstrdup(str_of(item, "Command"));
    _cleanup_free_ char *command = cli_go_quote(cmd_cut);
    json_t *labels = json_object_get(item, "Labels");
    _cleanup_free_ char *label_s = join_keys(labels, true);
    int local = 0;
    _cleanup_free_ char *mounts = mounts_of(json_object_get(item, "Mounts"), trunc, &local);
    _cleanup_free_ char *names = names_of(json_object_get(item, "Names"), trunc);
    json_t *nets = json_object_get(json_object_get(item, "NetworkSettings"), "Networks");
    _cleanup_free_ char *networks = join_keys(nets, false);
    _cleanup_free_ char *ports = cli_ports_display(json_object_get(item, "Ports"));
    _cleanup_free_ char *image = image_of(item, trunc);
    _cleanup_free_ char *size = size_of(item);
    _cleanup_free_ char *nlocal = xasprintf("%d", local);
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "Command", command, "CreatedAt", created_at, "ID",
                          trunc ? id : str_of(item, "Id"), "Image", image, "Labels", label_s,
                          "LocalVolumes", nlocal, "Mounts", mounts, "Names", names, "Networks",
                          networks, "Ports", ports, "RunningFor", since, "Size", size, "State",
                          str_of(item, "State"), "Status", str_of(item, "Status"));
    if (r && with_label)
        json_object_set_new(r, "Label",
                            json_is_object(labels) ? json_incref(labels) : json_object());
    return r;
}
