/* SPDX-License-Identifier: Apache-2.0 */
/* The seccomp table with i386 numbers, for 32-bit programs on an x86_64 host (seccomp.c). */
#include "daemon/runtime/seccomp.h"

#ifdef __x86_64__
#include <asm/unistd_32.h>
#include <linux/capability.h>

const struct rt_sc_rule rt_seccomp_i386[] = {
#include "daemon/runtime/seccomp_table.h"
};
const size_t rt_seccomp_i386_n = sizeof(rt_seccomp_i386) / sizeof(rt_seccomp_i386[0]);
const int rt_seccomp_i386_clone = __NR_clone;
const int rt_seccomp_i386_clone3 = __NR_clone3;
#endif
