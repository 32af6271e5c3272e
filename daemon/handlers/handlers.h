/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handlers: one file per API resource. Each decodes the request through api/, calls the
 * service that owns the resource and encodes the answer. Loop thread only.
 */
#ifndef BERTH_HANDLERS_H
#define BERTH_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/container/container.h"
#include "daemon/events/events.h"
#include "daemon/image/image.h"
#include "daemon/registry/registry.h"
#include "daemon/router/router.h"

/* The live attach/exec sessions (attach.c), for shutdown. */
struct hijack;
struct handle_sessions {
    struct hijack *head;
};

/* Facts about the host and the daemon's configuration, gathered once at start-up. */
struct handle_host {
    char *engine_id;
    char *hostname;
    char *kernel_version;
    char *operating_system;
    char *os_version;
    char *arch;    /* as Go names it (amd64), for /version */
    char *machine; /* as the kernel names it (x86_64), for /info */
    int64_t ncpu;
    int64_t mem_total;
    char *cgroup_version; /* "1" or "2" */
    bool memory_limit, swap_limit, cpu_cfs, cpu_shares, pids_limit;
    char *backing_fs;
    char **warnings; /* NULL-terminated */
};

/*
 * What handlers may reach. The engine owns everything it points to; it outlives the router.
 * Later resources add their services (containers, images, networks) here.
 */
struct handle_env {
    const struct handle_host *host;
    const char *data_root;
    bool live_restore;
    char *const *insecure_registries; /* NULL-terminated */
    char *const *registry_mirrors;    /* NULL-terminated */
    uv_loop_t *loop;
    struct image_store *images;
    struct reg_client *reg;
    struct ctr_store *ctrs;
    struct net_mgr *net;              /* networks (networks.c) */
    struct events *events;            /* GET /events (events.c) and what handlers record */
    struct vol_store *volumes;        /* volumes (volumes.c) */
    char *version_body;               /* GET /version never changes: encoded once (owned) */
    struct handle_sessions *sessions; /* live attach/exec sessions (owned) */
};

/* The image a commit was made from ("" for pulled, loaded and imported ones), as docker. */
char *handle_image_parent(const struct image *img);
/* An image as GET /images/json lists it (shared, containers: -1 when not computed). */
json_t *handle_image_summary(const struct image *img, char **tags, char **digests, int64_t shared,
                             int64_t containers, int version);

/* The "label" filter: every "key" or "key=value" of want (a JSON array) is in labels. */
bool handle_labels_match(const json_t *labels, const json_t *want);

/* Fills what the handlers precompute from env (the /version body). */
void handle_env_init(struct handle_env *env);
void handle_env_release(struct handle_env *env);
/* Shutdown: ends every attach and exec session at once (their clients see the end). */
void handle_env_shutdown(struct handle_env *env);

/* The route tables of every resource, for route_new(). */
extern const struct route handle_system_routes[];
extern const struct route handle_image_routes[];
extern const struct route handle_container_routes[];
extern const struct route handle_attach_routes[];
extern const struct route handle_network_routes[];
extern const struct route handle_event_routes[];
extern const struct route handle_volume_routes[];
extern const struct route handle_df_routes[];
/* One log entry as the logs and attach streams carry it: an 8-byte frame unless tty. */
struct logs_entry;
void handle_logs_frame(const struct logs_entry *e, bool tty, bool timestamps, struct sb *out);
/* GET /containers/{id}/logs (logs.c), listed in handle_container_routes. */
void handle_container_logs(struct route_req *rr);
extern const struct route handle_archive_routes[];
/* GET /containers/{id}/changes and POST /commit (commit.c). */
extern const struct route handle_commit_routes[];
/* HEAD/GET/PUT /containers/{id}/archive and GET /containers/{id}/export (copy.c). */
extern const struct route handle_copy_routes[];
/* POST /images/create?fromSrc= (import.c), called by images.c's create handler. */
void handle_images_import(struct route_req *rr);

const struct route *const *handle_route_tables(size_t *n);

#endif
