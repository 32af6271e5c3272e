/* SPDX-License-Identifier: Apache-2.0 */
/* The attach/exec relay between a hijacked client connection and a shim stream. */
#include "daemon/stream/stream.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

struct stream_relay {
    uv_stream_t *client;
    uv_pipe_t *shim;
    bool stdin, tty, eof_ends;
    unsigned char detach[STREAM_DETACH_MAX];
    size_t ndetach, matched;
    struct sb fin; /* shim bytes not yet parsed into frames */
    size_t client_pending, shim_pending;
    bool shim_reading, client_reading;
    bool finishing, shim_closed, client_released, shutting_client;
    bool forced;          /* stopped from outside: no draining */
    unsigned int nwrites; /* write requests not yet called back (they point at r) */
    struct stream_relay_ops ops;
    void *data;
};

struct relay_write {
    uv_write_t w;
    struct stream_relay *r;
    bool to_client;
    size_t len;
    char buf[];
};

static void relay_finish(struct stream_relay *r);

/* ---- detach keys ------------------------------------------------------------------------- */

int stream_detach_keys_parse(const char *spec, unsigned char *out, size_t *n, struct err **err)
{
    *n = 0;
    if (!spec || !spec[0])
        return 0;
    _cleanup_free_ char *copy = xstrdup(spec);
    char *save = NULL;
    for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        if (*n >= STREAM_DETACH_MAX)
            return err_set(err, ERR_INVALID, 0, "Invalid detach keys (%s): too many keys", spec);
        size_t len = strlen(k);
        if (len == 1) {
            out[(*n)++] = (unsigned char)k[0];
        } else if (len == 6 && strncasecmp(k, "ctrl-", 5) == 0) {
            unsigned char ch = (unsigned char)tolower((unsigned char)k[5]);
            if (ch >= 'a' && ch <= 'z')
                out[(*n)++] = (unsigned char)(ch - 'a' + 1);
            else if (ch == '@')
                out[(*n)++] = 0;
            else if (ch == '[' || ch == '\\' || ch == ']' || ch == '^' || ch == '_')
                out[(*n)++] = (unsigned char)(ch - '@');
            else
                return err_set(err, ERR_INVALID, 0,
                               "Invalid detach keys (%s): unknown character '%s'", spec, k);
        } else {
            return err_set(err, ERR_INVALID, 0, "Invalid detach keys (%s): unknown character '%s'",
                           spec, k);
        }
    }
    return 0;
}

/* ---- writes ------------------------------------------------------------------------------ */

static void relay_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = xmalloc(65536);
    buf->len = 65536;
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void on_shim_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void reading(struct stream_relay *r, bool shim_side, bool on)
{
    bool *flag = shim_side ? &r->shim_reading : &r->client_reading;
    uv_stream_t *s = shim_side ? (uv_stream_t *)r->shim : r->client;
    if (*flag == on || r->finishing)
        return;
    if (on)
        uv_read_start(s, relay_alloc, shim_side ? on_shim_read : on_client_read);
    else
        uv_read_stop(s);
    *flag = on;
}

static void on_written(uv_write_t *w, int status)
{
    struct relay_write *rw = (struct relay_write *)w;
    struct stream_relay *r = rw->r;
    r->nwrites--;
    if (rw->to_client) {
        r->client_pending -= rw->len;
        if (r->client_pending < STREAM_QUEUE_MAX / 2)
            reading(r, true, true); /* the client caught up: more output */
    } else {
        r->shim_pending -= rw->len;
        if (r->shim_pending < STREAM_QUEUE_MAX / 2)
            reading(r, false, true);
    }
    free(rw);
    if (status < 0 && !r->finishing) {
        relay_finish(r); /* a side went away */
        return;
    }
    if (r->finishing)
        relay_finish(r); /* maybe now drained, or the last callback of a forced stop */
}

static void relay_write(struct stream_relay *r, bool to_client, const void *data, size_t len)
{
    if (len == 0)
        return;
    struct relay_write *rw = xmalloc(sizeof(*rw) + len);
    rw->r = r;
    rw->to_client = to_client;
    rw->len = len;
    memcpy(rw->buf, data, len);
    uv_buf_t b = uv_buf_init(rw->buf, (unsigned int)len);
    uv_stream_t *s = to_client ? r->client : (uv_stream_t *)r->shim;
    if (uv_write(&rw->w, s, &b, 1, on_written) < 0) {
        free(rw);
        relay_finish(r);
        return;
    }
    r->nwrites++;
    if (to_client) {
        r->client_pending += len;
        if (r->client_pending > STREAM_QUEUE_MAX)
            reading(r, true, false); /* back-pressure onto the shim (it drops a stuck client) */
    } else {
        r->shim_pending += len;
        if (r->shim_pending > STREAM_QUEUE_MAX)
            reading(r, false, false);
    }
}

/* ---- client to shim ---------------------------------------------------------------------- */

static void on_shim_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    free(req);
}

/* Forwards stdin, holding back a partial detach sequence; true when the keys were typed. */
static bool forward_stdin(struct stream_relay *r, const char *p, size_t n)
{
    struct sb out = SB_INIT;
    bool detached = false;
    for (size_t i = 0; i < n && !detached; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (r->ndetach && ch == r->detach[r->matched]) {
            detached = ++r->matched == r->ndetach;
            continue;
        }
        if (r->matched) {
            /* not the sequence after all: what was held back goes through */
            sb_add(&out, r->detach, r->matched);
            r->matched = 0;
            if (ch == r->detach[0]) {
                r->matched = 1;
                continue;
            }
        }
        sb_addc(&out, (char)ch);
    }
    relay_write(r, false, out.buf, out.len);
    sb_release(&out);
    return detached;
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct stream_relay *r = s->data;
    if (n > 0 && r->stdin) {
        if (forward_stdin(r, buf->base, (size_t)n)) {
            free(buf->base);
            relay_finish(r); /* detached: the container goes on */
            return;
        }
    }
    free(buf->base);
    if (n == UV_EOF) {
        if (r->eof_ends) {
            relay_finish(r); /* a tty session's end (detach keys typed on the client side) */
            return;
        }
        /* The client has no more stdin; it still reads output. */
        reading(r, false, false);
        if (r->stdin) {
            uv_shutdown_t *req = xcalloc(1, sizeof(*req));
            if (uv_shutdown(req, (uv_stream_t *)r->shim, on_shim_shutdown) < 0)
                free(req);
        }
        return;
    }
    if (n < 0)
        relay_finish(r);
}

/* ---- shim to client ---------------------------------------------------------------------- */

static void parse_frames(struct stream_relay *r)
{
    while (r->fin.len >= 8) {
        const unsigned char *h = (const unsigned char *)r->fin.buf;
        size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
        if (r->fin.len < 8 + len)
            return;
        if (h[0] == 3) {
            int code = 0;
            if (len == 4)
                code = (int)((uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 |
                             h[11]);
            if (r->ops.exit_code)
                r->ops.exit_code(code, r->data);
        } else if (r->tty) {
            relay_write(r, true, r->fin.buf + 8, len);
        } else {
            relay_write(r, true, r->fin.buf, 8 + len);
        }
        sb_consume(&r->fin, 8 + len);
        if (r->finishing)
            return;
    }
}

static void on_shim_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct stream_relay *r = s->data;
    if (n > 0) {
        if (r->fin.len + (size_t)n > STREAM_QUEUE_MAX + 65536) {
            free(buf->base);
            relay_finish(r); /* a frame larger than anything the shim sends */
            return;
        }
        sb_add(&r->fin, buf->base, (size_t)n);
    }
    free(buf->base);
    if (n > 0) {
        parse_frames(r);
        return;
    }
    if (n < 0)
        relay_finish(r); /* the session is over (the container or exec ended) */
}

/* ---- the end ----------------------------------------------------------------------------- */

static void maybe_done(struct stream_relay *r)
{
    if (!r->shim_closed || !r->client_released || r->nwrites > 0)
        return;
    sb_release(&r->fin);
    void (*done)(void *) = r->ops.done;
    void *data = r->data;
    free(r);
    if (done)
        done(data);
}

static void on_shim_closed(uv_handle_t *h)
{
    struct stream_relay *r = h->data;
    free(h);
    r->shim_closed = true;
    maybe_done(r);
}

static void on_client_shutdown(uv_shutdown_t *req, int status)
{
    struct stream_relay *r = req->data;
    (void)status;
    free(req);
    r->client_released = true;
    r->ops.release_client(r->client, r->data);
    maybe_done(r);
}

static void relay_finish(struct stream_relay *r)
{
    if (!r->finishing) {
        r->finishing = true;
        if (r->shim_reading)
            uv_read_stop((uv_stream_t *)r->shim);
        if (r->client_reading)
            uv_read_stop(r->client);
        r->shim_reading = r->client_reading = false;
    }
    if (r->forced) {
        /* closing cancels what is queued; the write callbacks still come (nwrites) */
        if (!r->shim_closed && !uv_is_closing((uv_handle_t *)r->shim))
            uv_close((uv_handle_t *)r->shim, on_shim_closed);
        if (!r->client_released && !r->shutting_client) {
            r->shutting_client = true;
            r->client_released = true;
            r->ops.release_client(r->client, r->data);
        }
        maybe_done(r);
        return;
    }
    /* the client gets what is queued for it, then a half-close (as dockerd does) */
    if (r->client_pending > 0 || r->shim_pending > 0)
        return;
    if (!r->shim_closed && !uv_is_closing((uv_handle_t *)r->shim))
        uv_close((uv_handle_t *)r->shim, on_shim_closed);
    if (!r->shutting_client) {
        r->shutting_client = true;
        uv_shutdown_t *req = xcalloc(1, sizeof(*req));
        req->data = r;
        if (uv_shutdown(req, r->client, on_client_shutdown) < 0)
            on_client_shutdown(req, -1);
    }
}

struct stream_relay *stream_relay_start(uv_stream_t *client, uv_pipe_t *shim, const char *pre,
                                        size_t prelen, bool client_eof, bool stdin, bool tty,
                                        bool eof_ends, const unsigned char *detach, size_t ndetach,
                                        const struct stream_relay_ops *ops, void *data)
{
    struct stream_relay *r = xcalloc(1, sizeof(*r));
    r->client = client;
    r->shim = shim;
    r->stdin = stdin;
    r->tty = tty;
    r->eof_ends = stdin && eof_ends;
    r->ndetach = ndetach > STREAM_DETACH_MAX ? STREAM_DETACH_MAX : ndetach;
    memcpy(r->detach, detach, r->ndetach);
    sb_init(&r->fin);
    r->ops = *ops;
    r->data = data;
    client->data = r;
    shim->data = r;
    if (pre && prelen && stdin && forward_stdin(r, pre, prelen)) {
        relay_finish(r);
        return r;
    }
    reading(r, true, true);
    if (client_eof && r->eof_ends) {
        relay_finish(r);
        return r;
    }
    if (client_eof) {
        if (stdin) {
            uv_shutdown_t *req = xcalloc(1, sizeof(*req));
            if (uv_shutdown(req, (uv_stream_t *)shim, on_shim_shutdown) < 0)
                free(req);
        }
    } else {
        reading(r, false, true);
    }
    return r;
}

void stream_relay_stop(struct stream_relay *r)
{
    r->forced = true;
    relay_finish(r);
}

void stream_relay_shim_input(struct stream_relay *r, const char *data, size_t len)
{
    if (!len || r->finishing)
        return;
    sb_add(&r->fin, data, len);
    parse_frames(r);
}
