/* SPDX-License-Identifier: Apache-2.0 */
#include "api/json_util.h"

#include <ctype.h>
#include <string.h>

int api_version_parse(const char *s)
{
    long major = 0, minor = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        major = major * 10 + (*p - '0');
        if (major > 999)
            return -1;
    }
    if (*p++ != '.' || !isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        minor = minor * 10 + (*p - '0');
        if (minor > 999)
            return -1;
    }
    if (*p != '\0')
        return -1;
    return (int)(major * 1000 + minor);
}

json_t *api_version_encode(const struct api_version *v)
{
    json_t *details = json_object();
    apij_set_str(details, "ApiVersion", v->api_version);
    apij_set_str(details, "Arch", v->arch);
    apij_set_str(details, "BuildTime", v->build_time);
    apij_set_str(details, "Experimental", v->experimental ? "true" : "false");
    apij_set_str(details, "GitCommit", v->git_commit);
    apij_set_str(details, "GoVersion", v->go_version);
    apij_set_str(details, "KernelVersion", v->kernel_version);
    apij_set_str(details, "MinAPIVersion", v->min_api_version);
    apij_set_str(details, "Os", v->os);

    json_t *engine = json_object();
    json_object_set_new(engine, "Name", json_string("Engine"));
    apij_set_str(engine, "Version", v->version);
    json_object_set_new(engine, "Details", details);

    json_t *j = json_object();
    json_t *platform = json_object();
    apij_set_str(platform, "Name", v->platform_name);
    json_object_set_new(j, "Platform", platform);
    json_object_set_new(j, "Components", json_pack("[o]", engine));
    apij_set_str(j, "Version", v->version);
    apij_set_str(j, "ApiVersion", v->api_version);
    apij_set_str(j, "MinAPIVersion", v->min_api_version);
    apij_set_str(j, "GitCommit", v->git_commit);
    apij_set_str(j, "GoVersion", v->go_version);
    apij_set_str(j, "Os", v->os);
    apij_set_str(j, "Arch", v->arch);
    apij_set_str(j, "KernelVersion", v->kernel_version);
    if (v->experimental)
        json_object_set_new(j, "Experimental", json_true());
    apij_set_str(j, "BuildTime", v->build_time);
    return j;
}

int api_version_decode(const json_t *j, struct api_version *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, 0, "version: expected a JSON object");
    json_t *platform = json_object_get(j, "Platform");
    int r = 0;
    if (json_is_object(platform))
        r |= apij_str(platform, "Name", &out->platform_name, err);
    r |= apij_str(j, "Version", &out->version, err);
    r |= apij_str(j, "ApiVersion", &out->api_version, err);
    r |= apij_str(j, "MinAPIVersion", &out->min_api_version, err);
    r |= apij_str(j, "GitCommit", &out->git_commit, err);
    r |= apij_str(j, "GoVersion", &out->go_version, err);
    r |= apij_str(j, "Os", &out->os, err);
    r |= apij_str(j, "Arch", &out->arch, err);
    r |= apij_str(j, "KernelVersion", &out->kernel_version, err);
    r |= apij_str(j, "BuildTime", &out->build_time, err);
    r |= apij_bool(j, "Experimental", &out->experimental, err);
    if (r == 0 && !out->api_version)
        r = err_set(err, ERR_INVALID, 0, "version: key \"ApiVersion\" is missing");
    if (r < 0) {
        api_version_release(out);
        return -1;
    }
    return 0;
}

void api_version_release(struct api_version *v)
{
    free(v->platform_name);
    free(v->version);
    free(v->api_version);
    free(v->min_api_version);
    free(v->git_commit);
    free(v->go_version);
    free(v->os);
    free(v->arch);
    free(v->kernel_version);
    free(v->build_time);
    memset(v, 0, sizeof(*v));
}
