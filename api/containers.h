/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api/containers: additions to the "containers" section of api/api.h that the CLI needs to speak
 * the same wire shapes (kept here until api.h takes them). Pure functions: any thread.
 */
#ifndef BERTH_API_CONTAINERS_H
#define BERTH_API_CONTAINERS_H

#include "api/api.h"

/*
 * The POST /containers/create body exactly as the docker CLI 28 sends it: the Config keys at top
 * level in docker's order, every HostConfig key (with the CLI's defaults for the fields berth
 * does not model: MemorySwappiness -1, empty device lists, ...), then NetworkingConfig as stored
 * (or {"EndpointsConfig":{}} when NULL). An empty Entrypoint vector ("reset") is sent as [""].
 * Decoding the docker CLI's body and encoding it again gives the same bytes. Caller owns.
 */
json_t *api_container_create_encode(const struct api_container_config *c);

/* The "ContainersDeleted"/"SpaceReclaimed" reply of POST /containers/prune. */
json_t *api_container_prune_encode(char *const *deleted, int64_t space_reclaimed);

/* Go's signal numbers for the real-time range on Linux (SIGRTMIN is 34 there). */
#define API_SIGRTMIN 34
#define API_SIGRTMAX 64

#endif
