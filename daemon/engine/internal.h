/* SPDX-License-Identifier: Apache-2.0 */
/* Private to daemon/engine. */
#ifndef BERTH_ENGINE_INTERNAL_H
#define BERTH_ENGINE_INTERNAL_H

#include "daemon/engine/engine.h"
#include "daemon/handlers/handlers.h"

/*
 * systemd: the listening fds passed by socket activation (LISTEN_PID/LISTEN_FDS, from fd 3),
 * marked close-on-exec, with the variables removed from the environment. Returns the count.
 */
int engine_listen_fds(int **fds);
/* Sends state ("READY=1", "STOPPING=1") to $NOTIFY_SOCKET when set; errors are ignored. */
void engine_sd_notify(const char *state);

/* Gathers the host facts for /info and /version; blocking, start-up only. */
void engine_host_gather(struct handle_host *h, const char *data_root);
void engine_host_release(struct handle_host *h);

#endif
