/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-shim: one small monitor process per container. berthd starts it (detached, in its own
 * session) as
 *     berth-shim <bundle>
 * with fd 0 = /dev/null, fds 1 and 2 = <bundle>/shim.log, and fd 3 = the write end of a sync
 * pipe. <bundle> is <exec-root>/<id>/ and holds config.json (struct shim_config, written by
 * berthd). The shim:
 *   1. listens on <bundle>/shim.sock (api_shim_msg protocol, see api/api.h),
 *   2. creates the container's cgroup and process (rt_create) with stdio on pipes (or a pty),
 *   3. writes <bundle>/shim.pid, then one line to fd 3 — {"pid":N} or {"error":"..."} — and
 *      closes it,
 *   4. copies the container's output into the json-file log, serves control connections,
 *   5. when the container exits: reaps it, drains its output, writes exit_file atomically
 *      ({"exit_code":N,"oom_killed":b,"finished_at":"..."}), tells connected clients, removes
 *      the cgroup and exits.
 * It keeps running when berthd stops; berthd reconnects to shim.sock when it starts again.
 * Details of the contract:
 *   - the output pipes are always read, so the container never blocks on them while the shim
 *     lives; when the log cannot be written (ENOSPC) the output is dropped, never half-written
 *     (shim.log says when dropping starts and ends), as docker's json-file driver does;
 *   - after the container's exit, output is drained until EOF or for at most 2 s (a --pid host
 *     orphan may hold the pipe); `state` answers "exited" from the reap on, `kill` then fails;
 *   - `wait` is answered once the exit file is written; clients that sent `wait` get the
 *     "exited" message, others only answers to their requests;
 *   - SIGTERM, SIGINT and SIGHUP are ignored; the shim is a child subreaper;
 *   - before it exits, shim.sock is removed first (new connections fail: read the exit file)
 *     and connected clients are still answered for up to 1 s.
 * Interactive ops (api.h has the protocol):
 *   - with wait_start, step 2 stops after the stdio pipes exist (a tty is made by the
 *     container's init in its own devpts at start, and its master passed back): fd 3 gets
 *     {"status":"created"} and the process is created on the first {"op":"start"}, whose
 *     client gets the state message, or {"error":...} after which the shim leaves (exit 1,
 *     no exit file);
 *   - stdin sent by attach sessions before the start is queued (up to 1 MiB, then the
 *     sessions are not read) and written once the process exists;
 *   - attach sessions more than 1 MiB behind are disconnected; exec sessions that far behind
 *     pause the exec's output instead (back-pressure, nothing is logged for an exec);
 *   - exec processes are the shim's children: reaped here, killed when the container exits.
 * This header also carries the shim config codec that berthd and the shim share (any thread).
 */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"
#include "daemon/runtime/runtime.h"

struct shim_config {
    struct rt_spec spec;
    char *log_path; /* json-file log */
    int64_t log_max_size;
    int log_max_files;
    char *exit_file; /* written when the container exits (in the data root: survives reboots) */
    bool open_stdin; /* keep a stdin pipe (attach) */
    bool stdin_once; /* close the container's stdin when the first stdin session ends */
    bool wait_start; /* answer {"status":"created"} on fd 3 and start on {"op":"start"} */
    int console_h, console_w; /* initial pty size when spec.tty (0: leave the default) */
};

json_t *shim_config_encode(const struct shim_config *c);
int shim_config_decode(const json_t *j, struct shim_config *out, struct err **err);
void shim_config_release(struct shim_config *c);

#endif
