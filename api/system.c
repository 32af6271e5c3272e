/* SPDX-License-Identifier: Apache-2.0 */
#include "api/json_util.h"

#include <string.h>

static json_t *info_registry_config(const struct api_info *info)
{
    json_t *cidrs = json_array();
    json_t *indexes = json_object();
    for (char **p = info->insecure_registries; p && *p; p++) {
        if (strchr(*p, '/')) {
            json_array_append_new(cidrs, json_string(*p));
            continue;
        }
        json_object_set_new(
            indexes, *p,
            json_pack("{s:s, s:[], s:b, s:b}", "Name", *p, "Mirrors", "Secure", 0, "Official", 0));
    }
    json_object_set_new(indexes, "docker.io",
                        json_pack("{s:s, s:o, s:b, s:b}", "Name", "docker.io", "Mirrors",
                                  apij_strv_encode(info->registry_mirrors), "Secure", 1, "Official",
                                  1));
    return json_pack("{s:[], s:o, s:o, s:o}", "AllowNondistributableArtifactsCIDRs",
                     "InsecureRegistryCIDRs", cidrs, "IndexConfigs", indexes, "Mirrors",
                     apij_strv_encode(info->registry_mirrors));
}

static json_t *info_driver_status(const struct api_info *info)
{
    return json_pack("[[s,s],[s,s],[s,s],[s,s]]", "Backing Filesystem",
                     info->backing_fs ? info->backing_fs : "", "Supports d_type", "true",
                     "Using metacopy", "false", "Native Overlay Diff", "true");
}

json_t *api_info_encode(const struct api_info *info)
{
    json_t *j = json_object();
    apij_set_str(j, "ID", info->id);
    json_object_set_new(j, "Containers", json_integer(info->containers));
    json_object_set_new(j, "ContainersRunning", json_integer(info->containers_running));
    json_object_set_new(j, "ContainersPaused", json_integer(info->containers_paused));
    json_object_set_new(j, "ContainersStopped", json_integer(info->containers_stopped));
    json_object_set_new(j, "Images", json_integer(info->images));
    apij_set_str(j, "Driver", info->driver);
    json_object_set_new(j, "DriverStatus", info_driver_status(info));
    json_object_set_new(j, "Plugins",
                        json_pack("{s:[s], s:[s,s,s,s], s:n, s:[s]}", "Volume", "local", "Network",
                                  "bridge", "host", "none", "null", "Authorization", "Log",
                                  "json-file"));
    json_object_set_new(j, "MemoryLimit", json_boolean(info->memory_limit));
    json_object_set_new(j, "SwapLimit", json_boolean(info->swap_limit));
    json_object_set_new(j, "CpuCfsPeriod", json_boolean(info->cpu_cfs_quota));
    json_object_set_new(j, "CpuCfsQuota", json_boolean(info->cpu_cfs_quota));
    json_object_set_new(j, "CPUShares", json_boolean(info->cpu_shares));
    json_object_set_new(j, "CPUSet", json_false());
    json_object_set_new(j, "PidsLimit", json_boolean(info->pids_limit));
    json_object_set_new(j, "OomKillDisable", json_boolean(info->oom_kill_disable));
    json_object_set_new(j, "IPv4Forwarding", json_true());
    json_object_set_new(j, "Debug", json_false());
    json_object_set_new(j, "NFd", json_integer(0));
    json_object_set_new(j, "NGoroutines", json_integer(0));
    apij_set_str(j, "SystemTime", "");
    apij_set_str(j, "LoggingDriver", info->logging_driver);
    apij_set_str(j, "CgroupDriver", info->cgroup_driver);
    apij_set_str(j, "CgroupVersion", info->cgroup_version);
    json_object_set_new(j, "NEventsListener", json_integer(0));
    apij_set_str(j, "KernelVersion", info->kernel_version);
    apij_set_str(j, "OperatingSystem", info->operating_system);
    apij_set_str(j, "OSVersion", info->os_version);
    apij_set_str(j, "OSType", info->os_type);
    apij_set_str(j, "Architecture", info->architecture);
    apij_set_str(j, "IndexServerAddress", info->index_server_address);
    json_object_set_new(j, "RegistryConfig", info_registry_config(info));
    json_object_set_new(j, "NCPU", json_integer(info->ncpu));
    json_object_set_new(j, "MemTotal", json_integer(info->mem_total));
    json_object_set_new(j, "GenericResources", json_null());
    apij_set_str(j, "DockerRootDir", info->docker_root_dir);
    apij_set_str(j, "HttpProxy", info->http_proxy);
    apij_set_str(j, "HttpsProxy", info->https_proxy);
    apij_set_str(j, "NoProxy", info->no_proxy);
    apij_set_str(j, "Name", info->name);
    json_object_set_new(j, "Labels", json_array());
    json_object_set_new(j, "ExperimentalBuild", json_boolean(info->experimental_build));
    apij_set_str(j, "ServerVersion", info->server_version);
    json_object_set_new(j, "Runtimes",
                        json_pack("{s:{s:s}}", info->default_runtime ? info->default_runtime : "",
                                  "path", info->runtime_path ? info->runtime_path : ""));
    apij_set_str(j, "DefaultRuntime", info->default_runtime);
    json_object_set_new(j, "Swarm",
                        json_pack("{s:s, s:s, s:s, s:s, s:b, s:n}", "NodeID", "", "NodeAddr", "",
                                  "LocalNodeState", "inactive", "Error", "", "ControlAvailable", 0,
                                  "RemoteManagers"));
    json_object_set_new(j, "LiveRestoreEnabled", json_boolean(info->live_restore_enabled));
    apij_set_str(j, "Isolation", "");
    apij_set_str(j, "InitBinary", "");
    json_object_set_new(j, "ContainerdCommit", json_pack("{s:s, s:s}", "ID", "", "Expected", ""));
    json_object_set_new(j, "RuncCommit", json_pack("{s:s, s:s}", "ID", "", "Expected", ""));
    json_object_set_new(j, "InitCommit", json_pack("{s:s, s:s}", "ID", "", "Expected", ""));
    json_object_set_new(j, "SecurityOptions", apij_strv_encode(info->security_options));
    json_object_set_new(j, "Warnings", apij_strv_encode(info->warnings));
    return j;
}

int api_info_decode(const json_t *j, struct api_info *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "info: expected a JSON object");
    int r = 0;
    r |= apij_str(j, "ID", &out->id, err);
    r |= apij_int(j, "Containers", &out->containers, err);
    r |= apij_int(j, "ContainersRunning", &out->containers_running, err);
    r |= apij_int(j, "ContainersPaused", &out->containers_paused, err);
    r |= apij_int(j, "ContainersStopped", &out->containers_stopped, err);
    r |= apij_int(j, "Images", &out->images, err);
    r |= apij_str(j, "Driver", &out->driver, err);
    r |= apij_str(j, "LoggingDriver", &out->logging_driver, err);
    r |= apij_str(j, "CgroupDriver", &out->cgroup_driver, err);
    r |= apij_str(j, "CgroupVersion", &out->cgroup_version, err);
    r |= apij_bool(j, "MemoryLimit", &out->memory_limit, err);
    r |= apij_bool(j, "SwapLimit", &out->swap_limit, err);
    r |= apij_bool(j, "CpuCfsQuota", &out->cpu_cfs_quota, err);
    r |= apij_bool(j, "CPUShares", &out->cpu_shares, err);
    r |= apij_bool(j, "PidsLimit", &out->pids_limit, err);
    r |= apij_str(j, "KernelVersion", &out->kernel_version, err);
    r |= apij_str(j, "OperatingSystem", &out->operating_system, err);
    r |= apij_str(j, "OSVersion", &out->os_version, err);
    r |= apij_str(j, "OSType", &out->os_type, err);
    r |= apij_str(j, "Architecture", &out->architecture, err);
    r |= apij_int(j, "NCPU", &out->ncpu, err);
    r |= apij_int(j, "MemTotal", &out->mem_total, err);
    r |= apij_str(j, "DockerRootDir", &out->docker_root_dir, err);
    r |= apij_str(j, "Name", &out->name, err);
    r |= apij_str(j, "ServerVersion", &out->server_version, err);
    r |= apij_str(j, "DefaultRuntime", &out->default_runtime, err);
    r |= apij_bool(j, "LiveRestoreEnabled", &out->live_restore_enabled, err);
    r |= apij_bool(j, "ExperimentalBuild", &out->experimental_build, err);
    r |= apij_str(j, "IndexServerAddress", &out->index_server_address, err);
    r |= apij_strv(j, "SecurityOptions", &out->security_options, err);
    r |= apij_strv(j, "Warnings", &out->warnings, err);
    json_t *rc = json_object_get(j, "RegistryConfig");
    if (json_is_object(rc)) {
        r |= apij_strv(rc, "InsecureRegistryCIDRs", &out->insecure_registries, err);
        r |= apij_strv(rc, "Mirrors", &out->registry_mirrors, err);
    }
    json_t *runtimes = json_object_get(j, "Runtimes");
    json_t *rt = out->default_runtime ? json_object_get(runtimes, out->default_runtime) : NULL;
    if (json_is_object(rt))
        r |= apij_str(rt, "path", &out->runtime_path, err);
    r |= apij_str(j, "HttpProxy", &out->http_proxy, err);
    r |= apij_str(j, "HttpsProxy", &out->https_proxy, err);
    r |= apij_str(j, "NoProxy", &out->no_proxy, err);
    if (r != 0) {
        api_info_release(out);
        return -1;
    }
    return 0;
}

void api_info_release(struct api_info *info)
{
    char **strs[] = {&info->id,
                     &info->driver,
                     &info->backing_fs,
                     &info->logging_driver,
                     &info->cgroup_driver,
                     &info->cgroup_version,
                     &info->kernel_version,
                     &info->operating_system,
                     &info->os_version,
                     &info->os_type,
                     &info->architecture,
                     &info->docker_root_dir,
                     &info->name,
                     &info->server_version,
                     &info->default_runtime,
                     &info->runtime_path,
                     &info->index_server_address,
                     &info->http_proxy,
                     &info->https_proxy,
                     &info->no_proxy};
    for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
        free(*strs[i]);
    api_strv_free(info->security_options);
    api_strv_free(info->warnings);
    api_strv_free(info->insecure_registries);
    api_strv_free(info->registry_mirrors);
    memset(info, 0, sizeof(*info));
}
