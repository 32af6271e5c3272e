/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream: the bytes of an attach or exec session between a client (a hijacked HTTP
 * connection) and the container's berth-shim. Frames from the shim ([type,0,0,0,len BE32])
 * go to the client as they are without a tty, as bare payload with one; the shim's exit frame
 * (type 3) ends the session with its code. Client bytes go to the shim as stdin; detach keys
 * end the session; every direction has a bounded queue with back-pressure. Loop thread only.
 */
#ifndef BERTH_STREAM_H
#define BERTH_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common/common.h"

#define STREAM_QUEUE_MAX  (1 << 20)
#define STREAM_DETACH_MAX 16

struct stream_relay;

struct stream_relay_ops {
    /* The shim's exit frame arrived (before done). */
    void (*exit_code)(int code, void *data);
    /* The session is over and both streams are released (closed). */
    void (*done)(void *data);
    /*
     * Releases the client stream (it belongs to httpd: httpd_hijack_close). The relay never
     * uv_closes it itself.
     */
    void (*release_client)(uv_stream_t *client, void *data);
};

/*
 * Parses docker's detach-key spec ("ctrl-p,ctrl-q", "a,ctrl-z"...) into bytes; ERR_INVALID
 * naming the bad key. An empty spec gives no keys.
 */
int stream_detach_keys_parse(const char *spec, unsigned char *out, size_t *n, struct err **err);

/*
 * Starts relaying. client: the hijacked connection (reading stopped); shim: a connected pipe
 * whose JSON handshake is done (owned by the relay from now on, closed by it). pre/prelen:
 * client bytes already received (stdin written before the session began). stdin: forward the
 * client's bytes; tty: strip frame headers for the client. detach/ndetach: keys that end the
 * session (not forwarded); 0 keys disables detaching. eof_ends: the client's half-close ends
 * the session (a tty's or a reusable stdin's), instead of only ending its stdin.
 */
struct stream_relay *stream_relay_start(uv_stream_t *client, uv_pipe_t *shim, const char *pre,
                                        size_t prelen, bool client_eof, bool stdin, bool tty,
                                        bool eof_ends, const unsigned char *detach, size_t ndetach,
                                        const struct stream_relay_ops *ops, void *data);
/* Shim bytes read along with its handshake, to be handled as the first frames. */
void stream_relay_shim_input(struct stream_relay *r, const char *data, size_t len);
/* Ends a session from outside (daemon shutdown) at once, dropping what is queued; done runs
 * when everything is released. */
void stream_relay_stop(struct stream_relay *r);

#endif
