/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http1: the request parser adapter. It turns bytes into request events and is the only code
 * that sees http-parser. It stops after each event (headers complete, request complete) so the
 * connection can act before more input is parsed. Loop thread only, like the rest of httpd.
 */
#ifndef BERTH_HTTPD_HTTP1_H
#define BERTH_HTTPD_HTTP1_H

#include <stdbool.h>
#include <stddef.h>

#include "common/common.h"

struct h1_header {
    char *name;  /* owned */
    char *value; /* owned */
};

/* A parsed request; owned by whoever took it from the parser, freed with h1_msg_free(). */
struct h1_msg {
    const char *method; /* static string */
    char *url;          /* the raw request target */
    char *path;         /* target up to '?' */
    char *query;        /* after '?', "" if none */
    struct h1_header *hdrs;
    size_t nhdrs;
    struct sb body; /* decoded (de-chunked) body, always NUL-terminated */
    unsigned short http_major, http_minor;
    bool keep_alive;      /* per the version and the Connection header */
    bool upgrade;         /* Connection: upgrade + Upgrade, or CONNECT: no HTTP follows */
    bool expect_continue; /* Expect: 100-continue and a body follows */
};

enum h1_event {
    H1_MORE,    /* all input consumed, no event: feed more */
    H1_HEADERS, /* the headers of a request are complete (see h1_current()) */
    H1_REQUEST, /* a request is complete: take it with h1_take() */
    H1_ERROR,   /* the input is bad or over a limit: see h1_error(); the parser is dead */
};

enum h1_phase {
    H1_PHASE_IDLE,    /* between requests */
    H1_PHASE_HEADERS, /* a request began, its headers are not complete */
    H1_PHASE_BODY,    /* headers complete, body not complete */
};

struct h1;

/* max_headers bounds the number of header lines. Free with h1_free(). */
struct h1 *h1_new(size_t max_header_bytes, size_t max_body_bytes, size_t max_headers);
void h1_free(struct h1 *p);

/*
 * Parses from data (len > 0) until an event; *used is set to the bytes consumed. Bytes after
 * *used were not looked at and must be fed again.
 */
enum h1_event h1_feed(struct h1 *p, const char *data, size_t len, size_t *used);

/*
 * After H1_HEADERS: how the body is read. Buffered (stream false, the default): it is kept in
 * the message within max_body_bytes; returns -1 (see h1_error(): 413) when Content-Length is
 * already over that. Streamed: no limit applies; the caller takes the message at once with
 * h1_take() and collects the decoded body with h1_body_take() after each h1_feed(); the
 * H1_REQUEST that ends this request then has no message to take (h1_take() gives NULL).
 */
int h1_body_mode(struct h1 *p, bool stream);
/* Streamed body bytes parsed since the last call, moved into out (which must be empty). */
void h1_body_take(struct h1 *p, struct sb *out);

/* The request whose headers are complete (after H1_HEADERS); owned by the parser. */
const struct h1_msg *h1_current(const struct h1 *p);
/*
 * After H1_REQUEST (or H1_HEADERS of a streamed request): hands the request over; the caller
 * frees it with h1_msg_free(). keep_alive and upgrade are already set after H1_HEADERS.
 */
struct h1_msg *h1_take(struct h1 *p);
void h1_msg_free(struct h1_msg *m);
/* After H1_ERROR: the HTTP status to answer (400, 413, 431) and a message for the client. */
int h1_error(const struct h1 *p, const char **message);
enum h1_phase h1_phase(const struct h1 *p);

#endif
