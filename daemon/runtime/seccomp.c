/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker's default seccomp confinement as a classic BPF filter, built on the stack in the
 * child just before it drops its privileges (no allocation). The calls of seccomp_table.h fail
 * with EPERM unless the container holds the capability named there; clone with a namespace
 * flag fails with EPERM and clone3 with ENOSYS (so libc falls back to clone) unless it holds
 * CAP_SYS_ADMIN. On x86_64, 32-bit programs get the same rules with i386 numbers; x32 calls and
 * other architectures fail with EPERM. Everything else is allowed: a deny list where docker
 * has an allow list, so a call docker also refuses but no table row names still gets through.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>

#include "daemon/runtime/internal.h"
#include "daemon/runtime/seccomp.h"

static const struct rt_sc_rule native[] = {
#include "daemon/runtime/seccomp_table.h"
};

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

#define NS_FLAGS                                                                                   \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |     \
     CLONE_NEWCGROUP)
#define X32_BIT  0x40000000u
#define MAX_INSN 512

struct prog {
    struct sock_filter f[MAX_INSN];
    unsigned int n;
};

static void put(struct prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
    if (p->n < MAX_INSN)
        p->f[p->n] = (struct sock_filter){code, jt, jf, k};
    p->n++;
}

static bool has(uint64_t caps, int cap)
{
    return cap >= 0 && cap < 64 && (caps & (1ULL << cap));
}

/* The rules of one architecture, with the syscall number loaded; ends by allowing the call. */
static void arch_block(struct prog *p, const struct rt_sc_rule *rules, size_t n, int clone_nr,
                       int clone3_nr, uint64_t caps)
{
    const uint32_t eperm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
    put(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
    for (size_t i = 0; i < n; i++) {
        if (has(caps, rules[i].cap))
            continue;
        put(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)rules[i].nr, 0, 1);
        put(p, BPF_RET | BPF_K, eperm, 0, 0);
    }
    if (!has(caps, CAP_SYS_ADMIN)) {
        put(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)clone3_nr, 0, 1);
        put(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA), 0, 0);
        /* clone's flags are its first argument here (x86, arm64); the low word holds them */
        put(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)clone_nr, 0, 3);
        put(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]), 0, 0);
        put(p, BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1);
        put(p, BPF_RET | BPF_K, eperm, 0, 0);
    }
    put(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
}

int rt_child_seccomp(uint64_t caps, struct rt_cerr *ce)
{
#ifndef NATIVE_ARCH
    (void)caps;
    return rt_cfail(ce, ERR_INVALID, 0, "seccomp: this architecture has no profile");
#else
    static struct prog p; /* the child is single-threaded; too big for its stack */
    const uint32_t eperm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
    memset(&p, 0, sizeof(p));
    /* dispatch on the architecture; a BPF_JA's k counts from the next instruction */
    put(&p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
    put(&p, BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 1);
    unsigned int to_native = p.n;
    put(&p, BPF_JMP | BPF_JA, 0, 0, 0);
#ifdef __x86_64__
    put(&p, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1);
    unsigned int to_i386 = p.n;
    put(&p, BPF_JMP | BPF_JA, 0, 0, 0);
#endif
    put(&p, BPF_RET | BPF_K, eperm, 0, 0); /* any other architecture */
    p.f[to_native].k = p.n - to_native - 1;
    /* x32 calls carry the x32 bit in their number */
    put(&p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
    put(&p, BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1);
    put(&p, BPF_RET | BPF_K, eperm, 0, 0);
    arch_block(&p, native, sizeof(native) / sizeof(native[0]), __NR_clone, __NR_clone3, caps);
#ifdef __x86_64__
    if (p.n <= MAX_INSN)
        p.f[to_i386].k = p.n - to_i386 - 1;
    arch_block(&p, rt_seccomp_i386, rt_seccomp_i386_n, rt_seccomp_i386_clone,
               rt_seccomp_i386_clone3, caps);
#endif
    if (p.n > MAX_INSN)
        return rt_cfail(ce, ERR_INTERNAL, 0, "seccomp: the filter has %u instructions", p.n);
    struct sock_fprog prog = {.len = (unsigned short)p.n, .filter = p.f};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
        return rt_cfail(ce, ERR_SYSTEM, errno, "seccomp: load the filter");
    return 0;
#endif
}
