/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for reg_manifest_parse and reg_index_find, then reg_ref_parse. The first
 * byte picks the Content-Type the parser is told about; the rest is the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/registry/media.h"
#include "daemon/registry/registry.h"

static const char *const content_types[] = {
    NULL,
    "",
    "application/json",
    MT_OCI_INDEX,
    MT_DOCKER_LIST,
    MT_OCI_MANIFEST,
    MT_DOCKER_MANIFEST,
    MT_DOCKER_V1_JWS,
    "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *ct = content_types[data[0] % ARRAY_SIZE(content_types)];
    struct reg_manifest *m = NULL;
    struct reg_index *idx = NULL;
    struct err *e = NULL;
    if (reg_manifest_parse((const char *)data + 1, size - 1, ct, &m, &idx, &e) == 0) {
        if ((m == NULL) == (idx == NULL))
            __builtin_trap(); /* exactly one of them */
        if (m && (!digest_valid(m->config.digest) || m->nlayers > 1000))
            __builtin_trap();
        for (size_t i = 0; m && i < m->nlayers; i++) {
            if (!digest_valid(m->layers[i].digest) || m->layers[i].size < 0)
                __builtin_trap();
        }
        if (idx) {
            struct reg_platform p = {.os = "linux", .arch = "arm", .variant = "v7"};
            reg_index_find(idx, &p);
            reg_index_find(idx, NULL);
        }
    } else if (!e || !e->msg) {
        __builtin_trap();
    }
    reg_manifest_free(m);
    reg_index_free(idx);
    err_free(e);

    /* The same bytes as a reference string. */
    char s[300];
    size_t n = size - 1 < sizeof(s) - 1 ? size - 1 : sizeof(s) - 1;
    memcpy(s, data + 1, n);
    s[n] = '\0';
    struct reg_ref r;
    struct err *re = NULL;
    if (reg_ref_parse(s, data[0] & 1, &r, &re) == 0) {
        char *full = reg_ref_string(&r), *fam = reg_ref_familiar(&r);
        struct reg_ref again;
        struct err *ae = NULL;
        if (reg_ref_parse(full, false, &again, &ae) < 0 || strcmp(again.path, r.path) != 0)
            __builtin_trap(); /* the canonical string parses back to the same reference */
        reg_ref_release(&again);
        free(full);
        free(fam);
        reg_ref_release(&r);
    }
    err_free(re);
    return 0;
}
