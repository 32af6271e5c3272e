/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Starting berth-shim: posix_spawn (vfork and exec: no copy of berthd's page tables, nothing
 * for berthd to fault back in) from the threadpool, so the loop never waits for the exec; its
 * end is watched with a pidfd on the loop and reaped there.
 */
#include "daemon/container/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int ctr_spawn_shim(const char *path, char *const argv[], int log_fd, int sync_w, pid_t *pid,
                   int *pidfd, struct err **err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    /* fds 0-2 and the sync pipe on 3; every other fd of berthd is close-on-exec */
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    posix_spawn_file_actions_adddup2(&fa, sync_w, 3);
    /* its own session (it outlives berthd), no blocked signals, every handler at default */
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    int r = posix_spawn(pid, path, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (r != 0)
        return err_set(err, ERR_SYSTEM, r, "start %s", path);
    *pidfd = (int)syscall(SYS_pidfd_open, *pid, 0);
    if (*pidfd < 0) {
        /* Without a pidfd it could not be reaped: end it now (it has not been told anything). */
        int e = errno;
        kill(*pid, SIGKILL);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return err_set(err, ERR_SYSTEM, e, "pidfd_open for %s", path);
    }
    return 0;
}

static void on_proc_closed(uv_handle_t *h)
{
    struct shim_proc *sp = h->data;
    close(sp->pidfd);
    free(sp);
}

static void proc_unlink(struct shim_proc *sp)
{
    for (struct shim_proc **pp = &sp->st->procs; *pp; pp = &(*pp)->next) {
        if (*pp == sp) {
            *pp = sp->next;
            break;
        }
    }
}

/* The connection (or its loss) tells what happened to the container; this only reaps. */
static void on_proc_exit(uv_poll_t *p, int status, int events)
{
    struct shim_proc *sp = p->data;
    (void)events;
    int st = 0;
    pid_t r;
    while ((r = waitpid(sp->pid, &st, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == 0 && status == 0)
        return; /* not yet (a spurious wake-up) */
    if (r == sp->pid && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        log_debug("berth-shim %d ended with status %#x", (int)sp->pid, st);
    proc_unlink(sp);
    uv_close((uv_handle_t *)p, on_proc_closed);
}

void ctr_shim_proc_watch(struct ctr_store *st, pid_t pid, int pidfd)
{
    struct shim_proc *sp = xcalloc(1, sizeof(*sp));
    sp->st = st;
    sp->pid = pid;
    sp->pidfd = pidfd;
    sp->poll.data = sp;
    uv_poll_init(st->loop, &sp->poll, pidfd);
    uv_poll_start(&sp->poll, UV_READABLE, on_proc_exit);
    sp->next = st->procs;
    st->procs = sp;
}

void ctr_shim_procs_close(struct ctr_store *st)
{
    while (st->procs) {
        struct shim_proc *sp = st->procs;
        st->procs = sp->next;
        uv_close((uv_handle_t *)&sp->poll, on_proc_closed);
    }
}
