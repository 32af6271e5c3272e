/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth port CONTAINER [PRIVATE_PORT[/PROTO]]: the public ports of a container, from
 * NetworkSettings.Ports, printed as docker port does ("80/tcp -> 0.0.0.0:8080", or only
 * "0.0.0.0:8080" for one port).
 */
#include "client/containers.h"

#include <stdlib.h>
#include <string.h>

static int key_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    long px = strtol(x, NULL, 10), py = strtol(y, NULL, 10);
    if (px != py)
        return px < py ? -1 : 1;
    return strcmp(x, y);
}

static void print_bindings(FILE *out, const char *prefix, const json_t *list)
{
    size_t i;
    json_t *b;
    json_array_foreach(list, i, b)
    {
        const char *ip = json_string_value(json_object_get(b, "HostIp"));
        const char *hp = json_string_value(json_object_get(b, "HostPort"));
        bool v6 = ip && strchr(ip, ':');
        fprintf(out, "%s%s%s%s:%s\n", prefix, v6 ? "[" : "", ip ? ip : "", v6 ? "]" : "",
                hp ? hp : "");
    }
}

int cli_cmd_port(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    _cleanup_free_ char *path = cli_ctr_path(args->argv[0], "/json");
    struct cli_client *cl = NULL;
    json_auto_t *reply = NULL;
    if (cli_ctx_client(ctx, &cl, err) < 0 ||
        cli_client_call(cl, "GET", path, NULL, &reply, err) < 0)
        return -1;
    const json_t *ports = json_object_get(json_object_get(reply, "NetworkSettings"), "Ports");
    if (args->argc > 1) {
        const char *want = args->argv[1];
        _cleanup_free_ char *key = strchr(want, '/') ? xstrdup(want) : xasprintf("%s/tcp", want);
        const json_t *list = json_object_get(ports, key);
        if (json_array_size(list) == 0)
            return err_set(err, ERR_NOT_FOUND, 0, "Error: No public port '%s' published for %s",
                           key, args->argv[0]);
        print_bindings(ctx->out, "", list);
        return 0;
    }
    size_t n = json_object_size(ports), k = 0;
    _cleanup_free_ const char **keys = xcalloc(n ? n : 1, sizeof(char *));
    const char *key;
    json_t *list;
    json_object_foreach((json_t *)ports, key, list)
    {
        keys[k++] = key;
    }
    qsort(keys, k, sizeof(char *), key_cmp);
    for (size_t i = 0; i < k; i++) {
        _cleanup_free_ char *prefix = xasprintf("%s -> ", keys[i]);
        print_bindings(ctx->out, prefix, json_object_get(ports, keys[i]));
    }
    return 0;
}
