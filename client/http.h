/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client/http: a small blocking HTTP/1.1 client over a Unix socket, the API version negotiation
 * and the "Error response from daemon" mapping. Single-threaded: a struct cli_client belongs to
 * the thread that made it.
 */
#ifndef BERTH_CLIENT_HTTP_H
#define BERTH_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "common/common.h"

#define CLI_HTTP_MAX_HEADERS (64 * 1024)          /* the whole header section */
#define CLI_HTTP_MAX_BODY    (256u * 1024 * 1024) /* an accumulated (non-streamed) body */
#define CLI_DEFAULT_HOST     "unix:///run/berth.sock"

/* One connection and its read buffer. */
struct cli_conn {
    int fd;
    struct sb rbuf; /* bytes read but not consumed yet */
};

struct cli_http_header {
    char *name;
    char *value;
};

struct cli_http_resp {
    int status;
    char *reason;
    struct cli_http_header *headers;
    size_t nheaders;
    struct sb body; /* empty when the body went to a chunk callback */
};

/* Receives the body piece by piece (de-chunked); a non-zero return aborts with err set. */
typedef int (*cli_http_body_fn)(const char *data, size_t len, void *ud, struct err **err);

void cli_conn_init(struct cli_conn *c, int fd); /* takes ownership of fd */
void cli_conn_release(struct cli_conn *c);

/*
 * Reads one response from c. head: the request was HEAD (no body follows). With fn, body bytes
 * go to fn as they arrive and resp->body stays empty; without it they accumulate in resp->body
 * (at most CLI_HTTP_MAX_BODY). The caller releases resp with cli_http_resp_release().
 */
int cli_http_read_response(struct cli_conn *c, bool head, struct cli_http_resp *resp,
                           cli_http_body_fn fn, void *ud, struct err **err);
void cli_http_resp_release(struct cli_http_resp *resp);
/* Case-insensitive header lookup; NULL when absent. Borrowed from resp. */
const char *cli_http_resp_header(const struct cli_http_resp *resp, const char *name);

/* ---- host and connection ----------------------------------------------------------------- */

/*
 * Parses a --host value. Only unix:///path is supported. *path is the socket path; the caller
 * frees it.
 */
int cli_host_parse(const char *host, char **path, struct err **err);

struct cli_client {
    char *host;           /* as the user gave it, for messages */
    char *sock_path;      /* parsed */
    char api_version[16]; /* negotiated, "" until the first ping */
};

/* -H value, else $BERTH_HOST, else CLI_DEFAULT_HOST. */
int cli_client_init(struct cli_client *cl, const char *host_flag, struct err **err);
void cli_client_release(struct cli_client *cl);

/*
 * The negotiated version: min(API_VERSION, server), 1.24 when the header is missing, empty or
 * malformed. out gets "M.m".
 */
void cli_version_negotiate(const char *server_hdr, char out[16]);

/* Pings (HEAD, then GET when HEAD is not 200/500) and negotiates. Idempotent. */
int cli_client_negotiate(struct cli_client *cl, struct err **err);

/*
 * One request on a fresh connection. path is sent as is (no version prefix). body may be NULL.
 * extra_headers is a NULL-terminated list of "Name: value" lines or NULL. A connect failure is
 * ERR_UNAVAILABLE with the "Cannot connect to the berth daemon" message.
 */
int cli_client_raw(struct cli_client *cl, const char *method, const char *path,
                   const char *content_type, const void *body, size_t len,
                   const char *const *extra_headers, struct cli_http_resp *resp,
                   cli_http_body_fn fn, void *ud, struct err **err);

/*
 * Like cli_client_raw, but the request body is read from body_fd until EOF and sent as it is
 * read, chunked (Transfer-Encoding: chunked), for uploads of unknown size (berth load). Whatever
 * the daemon answers while the body is still going out is buffered (up to 1 MiB), and an early
 * close by the daemon ends the upload, so its error reply is still read and reported.
 */
int cli_client_upload(struct cli_client *cl, const char *method, const char *path,
                      const char *content_type, int body_fd, const char *const *extra_headers,
                      struct cli_http_resp *resp, cli_http_body_fn fn, void *ud, struct err **err);

/*
 * An API call: negotiates, prefixes /v<version>, sends req (a JSON body, may be NULL) and
 * decodes a JSON reply into *out (NULL when the reply is empty). A status >= 400 is an error
 * whose message is "Error response from daemon: <message>", its kind from the status.
 */
int cli_client_call(struct cli_client *cl, const char *method, const char *path, json_t *req,
                    json_t **out, struct err **err);

/* The error for an HTTP status >= 400 response, as docker words it. Returns -1. */
int cli_http_status_error(const struct cli_http_resp *resp, struct err **err);

/* A connected (close-on-exec) socket to the daemon at cl's unix socket, into *out; the
 * "Cannot connect ..." error docker prints otherwise. */
int cli_client_connect(const struct cli_client *cl, int *out, struct err **err);
/* send(2)s all of buf (no SIGPIPE). */
int cli_send_all(int fd, const char *buf, size_t len, struct err **err);

#endif
