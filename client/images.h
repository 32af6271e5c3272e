/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client/images: the pieces behind the image commands that have no I/O of their own, so the
 * unit tests reach them: image references normalised as docker's CLI does, docker's durations,
 * the progress-stream renderer, Go's json.Indent, query escaping, the stored credentials and
 * the streamed API requests. Single-threaded like the rest of the client.
 */
#ifndef BERTH_CLIENT_IMAGES_H
#define BERTH_CLIENT_IMAGES_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "client/cli.h"
#include "common/common.h"

/* ---- references (client/ref.c) ---------------------------------------------------------- */

#define CLI_REF_DEFAULT_DOMAIN "docker.io"
#define CLI_REF_INDEX_SERVER   "https://index.docker.io/v1/" /* docker.io's credentials key */

/* A parsed, normalised reference: docker.io/library/busybox:latest. */
struct cli_ref {
    char *domain; /* "docker.io", "127.0.0.1:5000" */
    char *path;   /* "library/busybox" */
    char *tag;    /* NULL when none */
    char *digest; /* "sha256:<hex>" or NULL */
};

/*
 * distribution/reference's ParseNormalizedNamed: adds docker.io and library/, refuses upper
 * case in the repository and 64-hex names. Errors are ERR_INVALID with docker's wording
 * ("invalid reference format", "invalid reference format: repository name (x) must be
 * lowercase", ...). Release with cli_ref_release().
 */
int cli_ref_parse(const char *s, struct cli_ref *out, struct err **err);
void cli_ref_release(struct cli_ref *r);
/* The caller frees each result. */
char *cli_ref_name(const struct cli_ref *r);     /* docker.io/library/busybox */
char *cli_ref_string(const struct cli_ref *r);   /* name[:tag][@digest] */
char *cli_ref_familiar(const struct cli_ref *r); /* busybox, 127.0.0.1:5000/x */
/* True when s is 64 lowercase hex characters. */
bool cli_is_hex64(const char *s);

/* ---- rendering helpers (client/progress.c) ---------------------------------------------- */

/* go-units' HumanDuration of seconds: "Less than a second", "About a minute", "3 weeks". */
void cli_human_duration(int64_t seconds, char out[64]);
/* "<HumanDuration(now - t)> ago". */
void cli_created_since(int64_t t, int64_t now, char out[80]);
/* docker's TruncateID: drops an "algo:" prefix and keeps 12 characters. */
void cli_trunc_id(const char *id, char out[13]);
/* formatter.Ellipsis for ASCII and UTF-8 text (each code point one column). Caller frees. */
char *cli_ellipsis(const char *s, size_t max);
/* Go's json.Indent(dst, src, "", indent) of raw JSON text; -1 with err when src is not JSON. */
int cli_json_indent(const char *src, size_t len, const char *indent, struct sb *out,
                    struct err **err);
/* Go's url.QueryEscape of s appended to out ("a b/c" -> "a+b%2Fc"). */
void cli_query_escape(const char *s, struct sb *out);
/* A path segment: everything but unreserved characters and "/:@" escaped. */
void cli_path_escape(const char *s, struct sb *out);

/*
 * The display of a progress stream (pull, load), as docker's jsonmessage does it: on a terminal
 * one line per layer id redrawn in place with a bar; elsewhere "id: status" lines, messages
 * with numeric progress skipped. Bytes are fed as they arrive and split at newlines.
 */
#define CLI_JM_MAX_LINE (1024 * 1024)

struct cli_jm {
    FILE *out;
    bool tty;
    int width;  /* terminal columns (bars appear above 110) */
    char **ids; /* the layer lines on screen, top to bottom */
    size_t nids;
    struct sb pending; /* a message not yet ended by '\n' */
    char *error;       /* the first errorDetail message; display stops there */
    void (*aux_fn)(json_t *aux, void *ud);
    void *aux_ud;
};

void cli_jm_init(struct cli_jm *d, FILE *out, bool tty, int width);
void cli_jm_release(struct cli_jm *d);
/*
 * Feeds stream bytes. Returns 0; -1 with err for a malformed message or an over-long line. An
 * error message sets d->error (and later messages are ignored); the caller decides.
 */
int cli_jm_feed(struct cli_jm *d, const char *data, size_t len, struct err **err);
/* Handles a final message without a newline. */
int cli_jm_finish(struct cli_jm *d, struct err **err);
/* The width of the terminal on fd, or 200 as docker assumes when it cannot tell. */
int cli_term_width(int fd);

/* ---- credentials (client/auth.c) -------------------------------------------------------- */

/* $BERTH_CONFIG/config.json, else ~/.berth/config.json. Caller frees. */
char *cli_config_path(void);
/* docker's credentials key of a registry domain: the index URL for docker.io, else host[:port]. */
const char *cli_auth_key(const char *domain);
/* credentials.ConvertToHostname: drops the scheme and any path. Caller frees. */
char *cli_auth_hostname(const char *server);
/*
 * The X-Registry-Auth value for a registry: base64url of {"username","password",
 * "serveraddress"} from the stored credentials, or "e30=" ({}) when there are none. Caller
 * frees.
 */
char *cli_registry_auth(const char *config_path, const char *domain);
/*
 * Stores user:pass (or user and an identity token) for server in the config file, written
 * atomically with mode 0600 in a 0700 directory.
 */
int cli_auth_store(const char *server, const char *user, const char *pass, const char *token,
                   struct err **err);
/* Removes every key present; *found says whether any was. */
int cli_auth_erase(const char *const *keys, size_t n, bool *found, struct err **err);

/* ---- shared by the image and container commands (client/cmd_images.c, cmd_pull.c) ------- */

/* --filter k=v (repeated) into docker's map form; NULL with *bad the offending value. */
json_t *cli_filters_from_flags(const struct cli_args *args, const char **bad);
/* The usage error for a malformed --filter value; returns 125. */
int cli_bad_filter(struct cli_ctx *ctx, const struct cli_args *args, const char *bad);
/* Prints "<warning> [y/N] " and reads the answer from stdin. */
bool cli_confirm(struct cli_ctx *ctx, const char *warning);
/* Go's time.Time.String() of Unix seconds in local time: "2024-01-02 03:04:05 +0000 UTC". */
void cli_go_time_string(int64_t t, char out[80]);
/*
 * Pulls image (tag "latest" when none) with its progress rendered to out, as docker run does
 * when the image is missing. Returns 0, -1 with err, or 1 after printing an in-stream error.
 */
int cli_pull_image(struct cli_ctx *ctx, FILE *out, const char *image, const char *platform,
                   struct err **err);

/* ---- API requests with streamed bodies (client/apireq.c) -------------------------------- */

/*
 * An API call whose reply body goes to fn piece by piece (pull, load, save). Negotiates the
 * version and prefixes /v<version>. A status >= 400 is turned into the daemon's error (fn never
 * sees that body). body_fd >= 0 streams that fd as a chunked request body; headers is a
 * NULL-terminated list of "Name: value" or NULL. *status gets the HTTP status when non-NULL.
 */
int cli_api_stream(struct cli_ctx *ctx, const char *method, const char *path,
                   const char *content_type, int body_fd, const char *const *headers,
                   cli_http_body_fn fn, void *ud, int *status, struct err **err);

/* A cli_http_body_fn writing everything to fd; a failed write is ERR_SYSTEM with what as text. */
struct cli_fd_sink {
    int fd;
    const char *what;
};
int cli_fd_put(const char *data, size_t len, void *ud, struct err **err);

/*
 * GET path with the reply body written to output: into a temporary file next to it, renamed
 * over it once complete (docker's CopyToFile), or to ctx->out when output is NULL or "".
 * failed starts the error for an output path that cannot be written ("failed to save image");
 * writing is the text of a failed write ("writing the image archive").
 */
int cli_api_get_to(struct cli_ctx *ctx, const char *path, const char *output, const char *failed,
                   const char *writing, struct err **err);

#endif
