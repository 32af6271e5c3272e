/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "tests/unit/runtime/rt_fixture.h"
#include "tests/unit/testutil.h"

const char *rtf_busybox_rootfs(void)
{
    const char *e = getenv("BERTH_BUSYBOX_ROOTFS");
    return e && *e ? e : BUSYBOX_ROOTFS;
}

void rtf_mkdir(const char *path)
{
    assert_int_equal(mkdir(path, 0755), 0);
}

void rtf_require(void)
{
    if (geteuid() != 0 || access(rtf_busybox_rootfs(), F_OK) != 0) {
        print_message("skipped: needs root and %s (tests/fixtures/build.sh)\n",
                      rtf_busybox_rootfs());
        skip();
    }
}

void rtf_init(struct rt_fixture *f, const char *name, const char *hostname)
{
    tu_mkdtemp(f->dir, sizeof(f->dir), name);
    tu_path(f->upper, sizeof(f->upper), f->dir, "upper", 0755);
    tu_path(f->work, sizeof(f->work), f->dir, "work", 0755);
    tu_path(f->merged, sizeof(f->merged), f->dir, "merged", 0755);
    snprintf(f->cgroup, sizeof(f->cgroup), RTF_CG_PARENT "/%s", f->dir + strlen("/tmp/"));
    f->lowers[0] = (char *)rtf_busybox_rootfs();
    f->env[0] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    f->env[1] = "TERM=xterm";
    f->spec = (struct rt_spec){
        .id = "test",
        .lowerdirs = f->lowers,
        .upperdir = f->upper,
        .workdir = f->work,
        .rootfs = f->merged,
        .env = f->env,
        .cwd = "/",
        .user = "",
        .hostname = (char *)hostname,
        .namespaces = RT_NS_PID | RT_NS_MOUNT | RT_NS_UTS | RT_NS_IPC | RT_NS_NET | RT_NS_CGROUP,
        .caps = RT_DEFAULT_CAPS,
    };
}

void rtf_cleanup(struct rt_fixture *f)
{
    rt_cgroup_destroy(f->cgroup, NULL);
    fsu_rmtree(f->dir, NULL);
}
