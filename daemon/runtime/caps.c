/* SPDX-License-Identifier: Apache-2.0 */
/* Capability names and docker's --cap-add / --cap-drop / --privileged rules. */
#include <strings.h>

#include "daemon/runtime/internal.h"

/* Index = capability number, as in <linux/capability.h>. */
static const char *const cap_names[RT_CAP_LAST + 1] = {
    [0] = "CHOWN",
    [1] = "DAC_OVERRIDE",
    [2] = "DAC_READ_SEARCH",
    [3] = "FOWNER",
    [4] = "FSETID",
    [5] = "KILL",
    [6] = "SETGID",
    [7] = "SETUID",
    [8] = "SETPCAP",
    [9] = "LINUX_IMMUTABLE",
    [10] = "NET_BIND_SERVICE",
    [11] = "NET_BROADCAST",
    [12] = "NET_ADMIN",
    [13] = "NET_RAW",
    [14] = "IPC_LOCK",
    [15] = "IPC_OWNER",
    [16] = "SYS_MODULE",
    [17] = "SYS_RAWIO",
    [18] = "SYS_CHROOT",
    [19] = "SYS_PTRACE",
    [20] = "SYS_PACCT",
    [21] = "SYS_ADMIN",
    [22] = "SYS_BOOT",
    [23] = "SYS_NICE",
    [24] = "SYS_RESOURCE",
    [25] = "SYS_TIME",
    [26] = "SYS_TTY_CONFIG",
    [27] = "MKNOD",
    [28] = "LEASE",
    [29] = "AUDIT_WRITE",
    [30] = "AUDIT_CONTROL",
    [31] = "SETFCAP",
    [32] = "MAC_OVERRIDE",
    [33] = "MAC_ADMIN",
    [34] = "SYSLOG",
    [35] = "WAKE_ALARM",
    [36] = "BLOCK_SUSPEND",
    [37] = "AUDIT_READ",
    [38] = "PERFMON",
    [39] = "BPF",
    [40] = "CHECKPOINT_RESTORE",
};

int rt_cap_parse(const char *name, uint64_t *bits, struct err **err)
{
    const char *n = name ? name : "";
    if (strncasecmp(n, "CAP_", 4) == 0)
        n += 4;
    if (strcasecmp(n, "ALL") == 0) {
        *bits = RT_ALL_CAPS;
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++) {
        if (strcasecmp(n, cap_names[i]) == 0) {
            *bits = 1ULL << i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, 0, "unknown capability: \"%s\"", name ? name : "");
}

static bool list_has_all(char *const *v)
{
    for (; v && *v; v++) {
        const char *n = *v;
        if (strncasecmp(n, "CAP_", 4) == 0)
            n += 4;
        if (strcasecmp(n, "ALL") == 0)
            return true;
    }
    return false;
}

/* OR of every capability named in v ("ALL" excluded); ERR_INVALID on an unknown name. */
static int list_bits(char *const *v, uint64_t *out, struct err **err)
{
    *out = 0;
    for (; v && *v; v++) {
        uint64_t b = 0;
        if (rt_cap_parse(*v, &b, err) < 0)
            return -1;
        if (b != RT_ALL_CAPS)
            *out |= b;
    }
    return 0;
}

/*
 * moby's TweakCapabilities: privileged gets everything; "ALL" in add means everything but the
 * dropped ones; "ALL" in drop means only the added ones; otherwise defaults - drop + add.
 */
int rt_caps_compute(char *const *add, char *const *drop, bool privileged, uint64_t *out,
                    struct err **err)
{
    uint64_t addb = 0, dropb = 0;
    if (list_bits(add, &addb, err) < 0 || list_bits(drop, &dropb, err) < 0)
        return -1;
    if (privileged)
        *out = RT_ALL_CAPS;
    else if (list_has_all(add))
        *out = RT_ALL_CAPS & ~dropb;
    else if (list_has_all(drop))
        *out = addb;
    else
        *out = (RT_DEFAULT_CAPS & ~dropb) | addb;
    return 0;
}
