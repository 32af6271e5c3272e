/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixture shared by the runtime tests with real containers: the busybox rootfs
 * (tests/fixtures/build.sh) as the overlay's lower layer, fresh upper/work/merged dirs under a
 * private /tmp directory and a cgroup path under "berth-test/", and an rt_spec using them.
 */
#pragma once

#include "daemon/runtime/internal.h"

#define RTF_CG_PARENT "berth-test"

struct rt_fixture {
    char dir[64];
    char upper[96], work[96], merged[96];
    char cgroup[64];
    char *lowers[2];
    char *env[3];
    struct rt_spec spec;
};

/* $BERTH_BUSYBOX_ROOTFS, else the fixture of the build tree. */
const char *rtf_busybox_rootfs(void);
/* mkdir(path, 0755), which must succeed. */
void rtf_mkdir(const char *path);
/* Skips the test unless it runs as root and the fixture is there. */
void rtf_require(void);
/*
 * Makes the directories of /tmp/berth-<name>-XXXXXX and fills f. The spec runs nothing (argv NULL)
 * in new pid, mount, uts, ipc, net and cgroup namespaces with docker's default capabilities and
 * hostname; f->cgroup is set but not in the spec.
 */
void rtf_init(struct rt_fixture *f, const char *name, const char *hostname);
/* Removes f's cgroup and directories. */
void rtf_cleanup(struct rt_fixture *f);
