#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Raw attach clients for attach_stress.bats (issue 5): hijacked POST /containers/{id}/attach
over a Unix socket, without the docker CLI.

  attach_client.py cycles SOCK CONTAINER N
      N times: connect, POST attach (stream, stdout, stderr; stdin=1 every other time) with
      Connection: Upgrade, read the reply head, require "101", close. Prints the seconds taken.
  attach_client.py noread SOCK CONTAINER READYFILE
      attach (stdout, stderr, stream) with a small receive buffer, read the 101 only, create
      READYFILE, then never read again; sleeps until killed.
  attach_client.py count SOCK CONTAINER [EVERY SECS]
      attach (stdout, stream) and count the payload bytes of the multiplexed frames until the
      daemon closes; prints the count. With EVERY and SECS, a slow reader: after each EVERY
      bytes it stops reading for SECS seconds.
"""

import socket
import sys
import time


def attach(path, cid, query, rcvbuf=0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(path)
    req = (
        f"POST /v1.41/containers/{cid}/attach?{query} HTTP/1.1\r\n"
        "Host: api.moby.localhost\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n"
        "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    ).encode()
    s.sendall(req)
    head = b""
    while b"\r\n\r\n" not in head:
        # One byte at a time: nothing of the stream is consumed with the head.
        b = s.recv(1)
        if not b:
            raise SystemExit(f"attach_client: connection closed in the reply head: {head!r}")
        head += b
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status + b" ":
        raise SystemExit(f"attach_client: expected 101, got {status!r}")
    return s


def cmd_cycles(path, cid, n):
    t0 = time.monotonic()
    for i in range(n):
        q = "stream=1&stdout=1&stderr=1" + ("&stdin=1" if i % 2 else "")
        s = attach(path, cid, q)
        s.close()
    print(f"{time.monotonic() - t0:.3f}")


def cmd_noread(path, cid, ready):
    s = attach(path, cid, "stream=1&stdout=1&stderr=1", rcvbuf=4096)
    with open(ready, "w") as f:
        f.write("attached\n")
    while True:
        time.sleep(3600)
    s.close()


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            return None
        buf += b
    return bytes(buf)


def cmd_count(path, cid, every=0, secs=0.0):
    s = attach(path, cid, "stream=1&stdout=1")
    s.settimeout(120)
    total = 0
    next_pause = every
    while True:
        if every and total >= next_pause:
            time.sleep(secs)
            next_pause += every
        h = recv_exact(s, 8)
        if h is None:
            break
        n = int.from_bytes(h[4:8], "big")
        if recv_exact(s, n) is None:
            raise SystemExit("attach_client: stream ended inside a frame")
        total += n
    print(total)


def main(argv):
    if len(argv) == 5 and argv[1] == "cycles":
        cmd_cycles(argv[2], argv[3], int(argv[4]))
    elif len(argv) == 5 and argv[1] == "noread":
        cmd_noread(argv[2], argv[3], argv[4])
    elif len(argv) == 4 and argv[1] == "count":
        cmd_count(argv[2], argv[3])
    elif len(argv) == 6 and argv[1] == "count":
        cmd_count(argv[2], argv[3], int(argv[4]), float(argv[5]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
