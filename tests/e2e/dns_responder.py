#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny DNS responder for network_user.bats: answers A queries for example.test with
10.1.2.3 and every other question with NXDOMAIN, on UDP ADDR:53 (argv[1], default 127.0.0.1).
Stands in for the host's resolver that berthd's embedded DNS forwards to."""
import socket
import struct
import sys

ANSWERS = {"example.test": "10.1.2.3"}


def answer(q):
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    if qd != 1:
        return None
    off, labels = 12, []
    while off < len(q) and q[off] != 0:
        n = q[off]
        labels.append(q[off + 1:off + 1 + n].decode("ascii", "replace").lower())
        off += 1 + n
    off += 1
    qtype = struct.unpack(">H", q[off:off + 2])[0]
    question = q[12:off + 4]
    name = ".".join(labels)
    ip = ANSWERS.get(name)
    rd = flags & 0x0100
    if ip is None:
        return struct.pack(">HHHHHH", qid, 0x8083 | rd, 1, 0, 0, 0) + question
    if qtype != 1:
        return struct.pack(">HHHHHH", qid, 0x8080 | rd, 1, 0, 0, 0) + question
    rr = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(ip)
    return struct.pack(">HHHHHH", qid, 0x8080 | rd, 1, 1, 0, 0) + question + rr


def main():
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        q, peer = s.recvfrom(4096)
        a = answer(q)
        if a:
            s.sendto(a, peer)


if __name__ == "__main__":
    main()
