/* SPDX-License-Identifier: Apache-2.0 */
/* A UDP echo server for ports.bats (busybox has no UDP server): udpecho PORT answers every
 * datagram with "echo:" and the datagram. Built static and bind-mounted into a container. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(atoi(argc > 1 ? argv[1] : "53"))};
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("udpecho");
        return 1;
    }
    puts("udpecho ready");
    fflush(stdout);
    for (;;) {
        char buf[2048] = "echo:";
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(fd, buf + 5, sizeof(buf) - 5, 0, (struct sockaddr *)&from, &fl);
        if (n >= 0)
            sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, fl);
    }
}
