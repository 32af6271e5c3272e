/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine: berthd itself. struct engine owns the loop, the configuration and every module;
 * it starts them, restores state, handles signals and systemd activation, and shuts down.
 */
#ifndef BERTH_ENGINE_H
#define BERTH_ENGINE_H

#include <stdbool.h>

#include "common/common.h"

#define ENGINE_DEFAULT_HOST        "unix:///run/berth.sock"
#define ENGINE_DEFAULT_DATA_ROOT   "/var/lib/berth"
#define ENGINE_DEFAULT_EXEC_ROOT   "/run/berth"
#define ENGINE_DEFAULT_PIDFILE     "/run/berth.pid"
#define ENGINE_DEFAULT_CONFIG_FILE "/etc/berth/daemon.json"
#define ENGINE_DEFAULT_GROUP       "berth"
#define ENGINE_DEFAULT_CERTS_DIR   "/etc/berth/certs.d"

/* What berthd was asked to do: flags merged over daemon.json over defaults. */
struct engine_config {
    char **hosts; /* NULL-terminated: unix:///path or fd:// or fd://N */
    char *data_root;
    char *exec_root;
    char *pidfile;
    char *config_file;
    char *group;
    bool group_explicit; /* a missing group is an error only when asked for */
    enum log_level log_level;
    bool live_restore;
    char **insecure_registries; /* NULL-terminated */
    char **registry_mirrors;    /* NULL-terminated */
    char *certs_dir;            /* <host[:port]>/ *.crt CAs, *.cert + *.key client pairs */
    unsigned int shutdown_timeout_s;
    /* the default bridge network (daemon/network) */
    char *bip;       /* --bip CIDR or NULL (the first free default pool) */
    char *bridge;    /* --bridge: NULL (berth0) or "none" */
    bool iptables;   /* --iptables (default true): NAT and forwarding rules */
    bool ip_forward; /* --ip-forward (default true) */
};

enum engine_parse_result { ENGINE_PARSE_RUN, ENGINE_PARSE_EXIT_OK };

/*
 * Parses argv and the configuration file into cfg. Returns -1 with err naming the bad flag or
 * key; ENGINE_PARSE_EXIT_OK after --help or --version were printed.
 */
int engine_config_parse(struct engine_config *cfg, int argc, char **argv, struct err **err);
void engine_config_release(struct engine_config *cfg);
/* Applies a daemon.json document to cfg, skipping keys whose flag was given (exposed for tests). */
int engine_config_apply_json(struct engine_config *cfg, const char *text, size_t len,
                             unsigned int flags_set, struct err **err);

/* Runs the daemon until it is told to stop. Returns the process exit status. */
int engine_run(const struct engine_config *cfg);

#endif
