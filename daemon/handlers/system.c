/* SPDX-License-Identifier: Apache-2.0 */
/* GET|HEAD /_ping, GET /version, GET /info. */
#include "daemon/handlers/handlers.h"

#include <string.h>

static void handle_ping(struct route_req *rr)
{
    struct httpd_req *req = rr->http;
    httpd_resp_header(req, "Cache-Control", "no-cache, no-store, must-revalidate");
    httpd_resp_header(req, "Pragma", "no-cache");
    httpd_resp_header(req, "Swarm", "inactive");
    /* HEAD gets the same headers with Content-Length 2 and no body; httpd drops the body. */
    route_reply_raw(rr, 200, "text/plain; charset=utf-8", "OK", 2);
}

bool handle_labels_match(const json_t *labels, const json_t *want)
{
    size_t i;
    json_t *v;
    json_array_foreach(want, i, v)
    {
        const char *kv = json_string_value(v);
        if (!kv)
            return false;
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *key = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
        const char *have = json_string_value(json_object_get(labels, key));
        if (!have || (eq && strcmp(have, eq + 1) != 0))
            return false;
    }
    return true;
}

void handle_env_init(struct handle_env *env)
{
    struct api_version v = {
        .platform_name = "Berth Engine",
        .version = BERTH_VERSION,
        .api_version = API_VERSION,
        .min_api_version = API_MIN_VERSION,
        .git_commit = BERTH_GIT_COMMIT,
        .go_version = "gcc " __VERSION__,
        .os = API_OSTYPE,
        .arch = env->host->arch,
        .kernel_version = env->host->kernel_version,
        .build_time = BERTH_BUILD_TIME,
        .experimental = false,
    };
    env->sessions = xcalloc(1, sizeof(*env->sessions));
    json_auto_t *j = api_version_encode(&v);
    char *s = json_dumps(j, JSON_COMPACT);
    env->version_body = xasprintf("%s\n", s);
    free(s);
}

void handle_env_release(struct handle_env *env)
{
    free(env->sessions);
    env->sessions = NULL;
    free(env->version_body);
    env->version_body = NULL;
}

static void handle_version(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    route_reply_raw(rr, 200, "application/json", env->version_body, strlen(env->version_body));
}

static void handle_info(struct route_req *rr)
{
    const struct handle_env *env = rr->ud;
    const struct handle_host *h = env->host;
    static char *security[] = {"name=cgroupns", NULL};
    struct api_info info = {
        .id = h->engine_id,
        .driver = "overlay2",
        .backing_fs = h->backing_fs,
        .logging_driver = "json-file",
        .cgroup_driver = "cgroupfs",
        .cgroup_version = h->cgroup_version,
        .memory_limit = h->memory_limit,
        .swap_limit = h->swap_limit,
        .cpu_cfs_quota = h->cpu_cfs,
        .cpu_shares = h->cpu_shares,
        .pids_limit = h->pids_limit,
        .kernel_version = h->kernel_version,
        .operating_system = h->operating_system,
        .os_version = h->os_version,
        .os_type = API_OSTYPE,
        .architecture = h->machine,
        .ncpu = h->ncpu,
        .mem_total = h->mem_total,
        .docker_root_dir = (char *)env->data_root,
        .name = h->hostname,
        .server_version = BERTH_VERSION,
        .images = env->images ? (int64_t)image_count(env->images) : 0,
        .default_runtime = "berth",
        .runtime_path = "berth-shim",
        .live_restore_enabled = env->live_restore,
        .index_server_address = "https://index.docker.io/v1/",
        .security_options = security,
        .warnings = h->warnings,
        .insecure_registries = (char **)env->insecure_registries,
        .registry_mirrors = (char **)env->registry_mirrors,
    };
    for (size_t i = 0; env->ctrs && i < ctr_count(env->ctrs); i++) {
        const struct ctr *c = ctr_at(env->ctrs, i);
        if (c->status == CTR_PAUSED)
            info.containers_paused++;
        else if (c->status == CTR_RUNNING || c->status == CTR_RESTARTING)
            info.containers_running++;
        else
            info.containers_stopped++;
    }
    info.containers = env->ctrs ? (int64_t)ctr_count(env->ctrs) : 0;
    route_reply_json(rr, 200, api_info_encode(&info));
}

const struct route handle_system_routes[] = {
    {.method = "GET", .pattern = "/_ping", .fn = handle_ping},
    {.method = "HEAD", .pattern = "/_ping", .fn = handle_ping},
    {.method = "GET", .pattern = "/version", .fn = handle_version},
    {.method = "GET", .pattern = "/info", .fn = handle_info},
    {.method = NULL},
};

const struct route *const *handle_route_tables(size_t *n)
{
    static const struct route *const tables[] = {
        handle_system_routes, handle_image_routes,  handle_archive_routes, handle_container_routes,
        handle_attach_routes, handle_copy_routes,   handle_network_routes, handle_commit_routes,
        handle_event_routes,  handle_volume_routes, handle_df_routes};
    *n = ARRAY_SIZE(tables);
    return tables;
}
