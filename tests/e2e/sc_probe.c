/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sc_probe: calls the system calls seccomp.bats asks about and prints "<name> <errno name>"
 * ("ok" when the call succeeded). Built static by the test and bound into a container.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>

static void report(const char *name, long r)
{
    printf("%s %s\n", name, r < 0 ? strerrorname_np(errno) : "ok");
    fflush(stdout);
}

/* A call that may create a process: a child that got through exits at once. */
static void report_fork(const char *name, long r)
{
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    report(name, r);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *n = argv[i];
        if (strcmp(n, "keyctl") == 0)
            report(n, syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0, 0, 0));
        else if (strcmp(n, "add_key") == 0)
            report(n, syscall(SYS_add_key, "user", "berth", "x", 1, -3));
        else if (strcmp(n, "userfaultfd") == 0)
            report(n, syscall(SYS_userfaultfd, 0));
        else if (strcmp(n, "io_uring_setup") == 0)
            report(n, syscall(SYS_io_uring_setup, 1, NULL));
        else if (strcmp(n, "unshare") == 0)
            report(n, syscall(SYS_unshare, CLONE_NEWUSER));
        else if (strcmp(n, "clone_newuser") == 0)
            report_fork(n, syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
        else if (strcmp(n, "clone") == 0)
            report_fork(n, syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
        else if (strcmp(n, "clone3") == 0) {
            struct clone_args ca = {.exit_signal = SIGCHLD};
            report_fork(n, syscall(SYS_clone3, &ca, sizeof(ca)));
        } else if (strcmp(n, "kexec_load") == 0)
            report(n, syscall(SYS_kexec_load, 0, 0, NULL, 0));
        else if (strcmp(n, "getpid") == 0)
            report(n, syscall(SYS_getpid));
        else
            printf("%s unknown\n", n);
    }
    return 0;
}
