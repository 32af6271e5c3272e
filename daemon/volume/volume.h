/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named and anonymous volumes of the local driver: <data-root>/volumes/<name>/_data, with the
 * volume's metadata beside it in volume.json. The list lives on the loop; directories are made
 * and removed on the threadpool. Which containers use a volume is the container module's to
 * say (ctr_using_volume), not recorded here.
 */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "common/common.h"

struct vol {
    char *name;
    char *created;   /* RFC 3339, UTC */
    json_t *labels;  /* object */
    json_t *options; /* object (DriverOpts) */
    bool anonymous;  /* named by the daemon for a container's VOLUME or --mount type=volume */
};

struct vol_store;

/* Loads <data_root>/volumes (created when missing). Blocking: start-up only. */
int vol_store_open(uv_loop_t *loop, const char *data_root, struct vol_store **out,
                   struct err **err);
void vol_store_free(struct vol_store *st);

size_t vol_count(const struct vol_store *st);
struct vol *vol_at(const struct vol_store *st, size_t i);
struct vol *vol_find(const struct vol_store *st, const char *name);
/* docker's rule for a local volume's name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool vol_name_valid(const char *name);
/* The directory a container sees: <data_root>/volumes/<name>/_data (caller frees). */
char *vol_data_path(const struct vol_store *st, const char *name);

/*
 * Records a new volume on the loop (name NULL or "": 64 random hex, anonymous as given);
 * ERR_INVALID for a bad name, ERR_CONFLICT when it exists. Its directory is made by
 * vol_materialize (blocking) or vol_create (the threadpool), before anything mounts it.
 */
struct vol *vol_add(struct vol_store *st, const char *name, const json_t *labels,
                    const json_t *options, bool anonymous, struct err **err);
/* Blocking (threadpool): makes the volume's directories (missing ones) and its volume.json
 * (written whole). */
int vol_materialize(const char *data_path, const char *meta_json, struct err **err);
/* What vol_materialize needs, taken on the loop: *data_path and *meta_json (caller frees). */
void vol_materialize_args(const struct vol_store *st, const struct vol *v, char **data_path,
                          char **meta_json);

typedef void (*vol_done_cb)(const struct err *err, void *data);
/* vol_materialize on the threadpool; done on the loop. */
void vol_create(struct vol_store *st, const struct vol *v, vol_done_cb done, void *data);
/* Forgets the volumes now and removes their directories on the threadpool; done on the loop
 * (NULL: a failure is logged). */
void vol_remove(struct vol_store *st, struct vol *const *vs, size_t n, vol_done_cb done,
                void *data);

/* docker's Volume object. */
json_t *vol_encode(const struct vol_store *st, const struct vol *v);

#endif
