/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The system calls docker's default seccomp profile refuses to a container, each with the
 * capability that lets it through (-1: none does), as { __NR_x, cap } rows. Included by
 * seccomp.c and seccomp_i386.c after the architecture's <asm/unistd_*.h>, so each row is there
 * only when that architecture has the call. clone (namespace flags) and clone3 (ENOSYS) are
 * handled by the filter itself.
 */
/* clang-format off */
/* keys: never */
#ifdef __NR_add_key
{__NR_add_key, -1},
#endif
#ifdef __NR_keyctl
{__NR_keyctl, -1},
#endif
#ifdef __NR_request_key
{__NR_request_key, -1},
#endif
/* io_uring: never (its operations bypass this filter) */
#ifdef __NR_io_uring_setup
{__NR_io_uring_setup, -1},
#endif
#ifdef __NR_io_uring_enter
{__NR_io_uring_enter, -1},
#endif
#ifdef __NR_io_uring_register
{__NR_io_uring_register, -1},
#endif
/* obsolete or kernel-internal: never */
#ifdef __NR_create_module
{__NR_create_module, -1},
#endif
#ifdef __NR_get_kernel_syms
{__NR_get_kernel_syms, -1},
#endif
#ifdef __NR_query_module
{__NR_query_module, -1},
#endif
#ifdef __NR_nfsservctl
{__NR_nfsservctl, -1},
#endif
#ifdef __NR_uselib
{__NR_uselib, -1},
#endif
#ifdef __NR_ustat
{__NR_ustat, -1},
#endif
#ifdef __NR_sysfs
{__NR_sysfs, -1},
#endif
#ifdef __NR__sysctl
{__NR__sysctl, -1},
#endif
#ifdef __NR_vm86
{__NR_vm86, -1},
#endif
#ifdef __NR_vm86old
{__NR_vm86old, -1},
#endif
/* mounts and namespaces: CAP_SYS_ADMIN */
#ifdef __NR_mount
{__NR_mount, CAP_SYS_ADMIN},
#endif
#ifdef __NR_umount
{__NR_umount, CAP_SYS_ADMIN},
#endif
#ifdef __NR_umount2
{__NR_umount2, CAP_SYS_ADMIN},
#endif
#ifdef __NR_pivot_root
{__NR_pivot_root, CAP_SYS_ADMIN},
#endif
#ifdef __NR_setns
{__NR_setns, CAP_SYS_ADMIN},
#endif
#ifdef __NR_unshare
{__NR_unshare, CAP_SYS_ADMIN},
#endif
#ifdef __NR_fsopen
{__NR_fsopen, CAP_SYS_ADMIN},
#endif
#ifdef __NR_fsconfig
{__NR_fsconfig, CAP_SYS_ADMIN},
#endif
#ifdef __NR_fsmount
{__NR_fsmount, CAP_SYS_ADMIN},
#endif
#ifdef __NR_fspick
{__NR_fspick, CAP_SYS_ADMIN},
#endif
#ifdef __NR_move_mount
{__NR_move_mount, CAP_SYS_ADMIN},
#endif
#ifdef __NR_open_tree
{__NR_open_tree, CAP_SYS_ADMIN},
#endif
#ifdef __NR_mount_setattr
{__NR_mount_setattr, CAP_SYS_ADMIN},
#endif
#ifdef __NR_quotactl
{__NR_quotactl, CAP_SYS_ADMIN},
#endif
#ifdef __NR_quotactl_fd
{__NR_quotactl_fd, CAP_SYS_ADMIN},
#endif
#ifdef __NR_swapon
{__NR_swapon, CAP_SYS_ADMIN},
#endif
#ifdef __NR_swapoff
{__NR_swapoff, CAP_SYS_ADMIN},
#endif
#ifdef __NR_bpf
{__NR_bpf, CAP_SYS_ADMIN},
#endif
#ifdef __NR_perf_event_open
{__NR_perf_event_open, CAP_SYS_ADMIN},
#endif
#ifdef __NR_fanotify_init
{__NR_fanotify_init, CAP_SYS_ADMIN},
#endif
#ifdef __NR_lookup_dcookie
{__NR_lookup_dcookie, CAP_SYS_ADMIN},
#endif
/* the rest, each behind its own capability */
#ifdef __NR_acct
{__NR_acct, CAP_SYS_PACCT},
#endif
#ifdef __NR_init_module
{__NR_init_module, CAP_SYS_MODULE},
#endif
#ifdef __NR_finit_module
{__NR_finit_module, CAP_SYS_MODULE},
#endif
#ifdef __NR_delete_module
{__NR_delete_module, CAP_SYS_MODULE},
#endif
#ifdef __NR_kexec_load
{__NR_kexec_load, CAP_SYS_BOOT},
#endif
#ifdef __NR_kexec_file_load
{__NR_kexec_file_load, CAP_SYS_BOOT},
#endif
#ifdef __NR_reboot
{__NR_reboot, CAP_SYS_BOOT},
#endif
#ifdef __NR_iopl
{__NR_iopl, CAP_SYS_RAWIO},
#endif
#ifdef __NR_ioperm
{__NR_ioperm, CAP_SYS_RAWIO},
#endif
#ifdef __NR_settimeofday
{__NR_settimeofday, CAP_SYS_TIME},
#endif
#ifdef __NR_stime
{__NR_stime, CAP_SYS_TIME},
#endif
#ifdef __NR_clock_settime
{__NR_clock_settime, CAP_SYS_TIME},
#endif
#ifdef __NR_clock_settime64
{__NR_clock_settime64, CAP_SYS_TIME},
#endif
#ifdef __NR_clock_adjtime
{__NR_clock_adjtime, CAP_SYS_TIME},
#endif
#ifdef __NR_clock_adjtime64
{__NR_clock_adjtime64, CAP_SYS_TIME},
#endif
#ifdef __NR_get_mempolicy
{__NR_get_mempolicy, CAP_SYS_NICE},
#endif
#ifdef __NR_set_mempolicy
{__NR_set_mempolicy, CAP_SYS_NICE},
#endif
#ifdef __NR_mbind
{__NR_mbind, CAP_SYS_NICE},
#endif
#ifdef __NR_move_pages
{__NR_move_pages, CAP_SYS_NICE},
#endif
#ifdef __NR_kcmp
{__NR_kcmp, CAP_SYS_PTRACE},
#endif
#ifdef __NR_userfaultfd
{__NR_userfaultfd, CAP_SYS_PTRACE},
#endif
#ifdef __NR_pidfd_getfd
{__NR_pidfd_getfd, CAP_SYS_PTRACE},
#endif
#ifdef __NR_open_by_handle_at
{__NR_open_by_handle_at, CAP_DAC_READ_SEARCH},
#endif
#ifdef __NR_syslog
{__NR_syslog, CAP_SYSLOG},
#endif
#ifdef __NR_vhangup
{__NR_vhangup, CAP_SYS_TTY_CONFIG},
#endif
    /* clang-format on */
