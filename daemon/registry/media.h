/* SPDX-License-Identifier: Apache-2.0 */
/* Media types and size limits shared by the parser, the client and the fuzzer (any thread). */
#ifndef BERTH_REGISTRY_MEDIA_H
#define BERTH_REGISTRY_MEDIA_H

#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_V1       "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_JWS   "application/vnd.docker.distribution.manifest.v1+prettyjws"

#define REG_MANIFEST_MAX   (4u << 20) /* manifests and indexes */
#define REG_SMALL_BODY_MAX (1u << 20) /* tokens and error bodies */
#define REG_MAX_LAYERS     1000
#define REG_MAX_ENTRIES    1000

#endif
