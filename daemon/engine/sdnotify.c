/* SPDX-License-Identifier: Apache-2.0 */
/* systemd socket activation and readiness notification, without libsystemd. */
#include "daemon/engine/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define SD_LISTEN_FDS_START 3

int engine_listen_fds(int **fds)
{
    *fds = NULL;
    const char *pid_s = getenv("LISTEN_PID");
    const char *n_s = getenv("LISTEN_FDS");
    int n = 0;
    if (pid_s && n_s && strtol(pid_s, NULL, 10) == (long)getpid())
        n = (int)strtol(n_s, NULL, 10);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (n <= 0 || n > 64)
        return 0;
    *fds = xcalloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0)
            fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        (*fds)[i] = fd;
    }
    return n;
}

void engine_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !path[0])
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace */
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
        log_debug("sd_notify %s: %s", state, strerror(errno));
}
