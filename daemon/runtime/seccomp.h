/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the runtime: the seccomp tables of seccomp_table.h, one per architecture. */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <stddef.h>

struct rt_sc_rule {
    int nr;
    int cap; /* the capability that lets it through; -1: none */
};

#ifdef __x86_64__
extern const struct rt_sc_rule rt_seccomp_i386[];
extern const size_t rt_seccomp_i386_n;
extern const int rt_seccomp_i386_clone, rt_seccomp_i386_clone3;
#endif

#endif
