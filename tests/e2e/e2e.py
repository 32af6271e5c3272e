#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Socket-level helpers for the bats e2e tests (raw HTTP, many connections, sd_notify).

Usage: e2e.py <command> [args...]; see each cmd_* function. Everything talks to a Unix socket
path given on the command line and never touches anything else.
"""

import argparse
import os
import resource
import select
import socket
import sys
import time

PING = b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def read_reply(s, first_timeout, idle):
    """Read until the peer closes, or until `idle` seconds pass without data once something has
    arrived (or `first_timeout` before anything arrives). Returns (bytes, how) where how is
    'closed', 'reset' or 'open'."""
    data = bytearray()
    deadline = time.monotonic() + first_timeout
    while True:
        wait = (deadline - time.monotonic()) if not data else idle
        if wait <= 0:
            return bytes(data), "open"
        r, _, _ = select.select([s], [], [], wait)
        if not r:
            return bytes(data), "open"
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "closed"
        data += chunk


def cmd_raw(a):
    """raw SOCK: send stdin to the socket, print the reply bytes; with --mark, append a line
    '#rawhttp: closed|reset|open' telling whether the server closed the connection."""
    req = sys.stdin.buffer.read()
    s = connect(a.sock)
    try:
        if a.split:
            # Fragmented write: one byte at a time.
            for i in range(len(req)):
                s.sendall(req[i : i + 1])
        else:
            s.sendall(req)
        if a.shut:
            s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, how = read_reply(s, a.timeout, a.idle)
    s.close()
    sys.stdout.buffer.write(data)
    if a.mark:
        sys.stdout.buffer.write(b"\n#rawhttp: " + how.encode() + b"\n")
    sys.stdout.flush()


def status_of(reply):
    line = reply.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/1."):
        try:
            return int(parts[1])
        except ValueError:
            pass
    return 0


def cmd_burst(a):
    """burst SOCK N: connect N sockets at once, then send a ping on each and read every reply;
    prints 'answered=<count of 200 OK with body OK> of N'."""
    raise_nofile(a.n + 64)
    socks = []
    for _ in range(a.n):
        socks.append(connect(a.sock, a.timeout))
    for s in socks:
        s.sendall(PING)
    ok = 0
    deadline = time.monotonic() + a.timeout
    pending = {s.fileno(): [s, bytearray()] for s in socks}
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            s, buf = pending[fd]
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            buf += chunk
            done = not chunk or (b"\r\n\r\n" in buf and buf.endswith(b"OK"))
            if done:
                if status_of(bytes(buf)) == 200 and buf.endswith(b"OK"):
                    ok += 1
                poller.unregister(fd)
                del pending[fd]
    for s in socks:
        s.close()
    print("answered=%d of %d" % (ok, a.n))


def timed_ping(path, timeout):
    """Connect, ping, wait for the full 'OK' reply; returns (status, seconds)."""
    t0 = time.monotonic()
    s = connect(path, timeout)
    s.sendall(PING)
    data = bytearray()
    while time.monotonic() - t0 < timeout:
        r, _, _ = select.select([s], [], [], timeout - (time.monotonic() - t0))
        if not r:
            break
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data and data.endswith(b"OK"):
            break
    s.close()
    st = status_of(bytes(data)) if data.endswith(b"OK") else -status_of(bytes(data)) or -1
    return st, time.monotonic() - t0


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def cmd_hold(a):
    """hold SOCK N MODE: open N connections that stay open; MODE 'idle' sends nothing, 'partial'
    sends an unfinished request header, 'slow' sends one header byte per second. Then a fresh
    client pings; prints 'ping=<status> secs=<elapsed> held=<still open count>' and, with --pid,
    'fds_during=<count>'."""
    raise_nofile(a.n + 64)
    socks = []
    for _ in range(a.n):
        s = connect(a.sock, a.timeout)
        if a.mode in ("partial", "slow"):
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        socks.append(s)
    time.sleep(0.2)
    if a.mode == "slow":
        for s in socks:
            try:
                s.sendall(b"b")
            except OSError:
                pass
    status, secs = timed_ping(a.sock, a.timeout)
    held = 0
    for s in socks:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            held += 1
    line = "ping=%d secs=%.3f held=%d" % (status, secs, held)
    if a.pid:
        line += " fds_during=%d" % fd_count(a.pid)
    print(line)
    for s in socks:
        s.close()


def cmd_flood(a):
    """flood SOCK N SECS: open up to N connections (non-blocking connects; a full backlog just
    stops the flood), each sending a ping, hold them SECS seconds, close them all. Prints
    'opened=<n> answered=<replies with 200> refused=<503 replies>'."""
    raise_nofile(a.n + 64)
    socks = []
    for _ in range(a.n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(a.sock)
        except (BlockingIOError, ConnectionRefusedError, OSError):
            s.close()
            break
        try:
            s.send(PING)
        except OSError:
            pass
        socks.append(s)
    time.sleep(a.secs)
    answered = refused = 0
    for s in socks:
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        st = status_of(data)
        answered += st == 200
        refused += st == 503
        s.close()
    print("opened=%d answered=%d refused=%d" % (len(socks), answered, refused))


def cmd_linger(a):
    """linger SOCK READYFILE SECS: hold open connections for SECS seconds (or until killed): 5
    idle, 5 with a partial header, 5 with headers done and half a body. Writes 'ready' to
    READYFILE once they are all connected and sent."""
    socks = []
    for _ in range(5):
        socks.append(connect(a.sock, 10))
    for _ in range(5):
        s = connect(a.sock, 10)
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        socks.append(s)
    for _ in range(5):
        s = connect(a.sock, 10)
        s.sendall(b"POST /nosuch HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        socks.append(s)
    with open(a.readyfile, "w") as f:
        f.write("ready\n")
    time.sleep(a.secs)
    for s in socks:
        s.close()


def cmd_bigbody(a):
    """bigbody SOCK PATH MIB: POST a chunked JSON body of MIB MiB, stop sending as soon as the
    server answers; prints 'status=<code> sent=<bytes>'."""
    s = connect(a.sock, a.timeout)
    s.sendall(
        (
            "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" % a.path
        ).encode()
    )
    chunk = b"[" + b" " * (1024 * 1024 - 2) + b"]"
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sent = 0
    s.setblocking(False)
    reply = bytearray()
    deadline = time.monotonic() + a.timeout
    for _ in range(a.mib):
        view = memoryview(frame)
        while view and time.monotonic() < deadline:
            r, w, _ = select.select([s], [s], [], 0.5)
            if r:
                try:
                    got = s.recv(65536)
                except ConnectionResetError:
                    got = b""
                reply += got
                if not got or b"\r\n\r\n" in reply:
                    view = None
                    break
            if w:
                try:
                    n = s.send(view)
                except (BrokenPipeError, ConnectionResetError):
                    view = None
                    break
                sent += n
                view = view[n:]
        if view is None or reply:
            break
    else:
        try:
            s.send(b"0\r\n\r\n")
        except OSError:
            pass
    s.setblocking(True)
    s.settimeout(a.timeout)
    if b"\r\n\r\n" not in reply:
        more, _ = read_reply(s, a.timeout, 0.3)
        reply += more
    s.close()
    print("status=%d sent=%d" % (status_of(bytes(reply)), sent))


def cmd_disconnects(a):
    """disconnects SOCK ROUNDS: clients that vanish mid-request in various ways."""
    partials = [
        b"GET /_ping HTTP/1.1\r\nHo",
        b"POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{\"Image\":",
        b"POST /containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab",
        b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n" * 50,
        b"GET /info HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n" * 200,
    ]
    for _ in range(a.rounds):
        for p in partials:
            s = connect(a.sock, a.timeout)
            # SO_LINGER 0: close with RST, the harshest way to vanish.
            if a.rst:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            try:
                s.sendall(p)
            except OSError:
                pass
            s.close()
    status, secs = timed_ping(a.sock, a.timeout)
    print("ping=%d secs=%.3f" % (status, secs))


def cmd_notify(a):
    """notify PATH SOCK: bind a datagram socket at PATH (abstract if it starts with '@'), record
    every sd_notify message to stdout, one per line. When READY=1 arrives, ping SOCK at once and
    record 'ping-at-ready=<status>'. Exits after STOPPING=1 plus 0.5 s, or after --timeout."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    addr = "\0" + a.path[1:] if a.path.startswith("@") else a.path
    s.bind(addr)
    print("listening", flush=True)
    deadline = time.monotonic() + a.timeout
    stop_at = None
    while time.monotonic() < deadline and (stop_at is None or time.monotonic() < stop_at):
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            continue
        msg = s.recv(4096).decode(errors="replace")
        for line in msg.split("\n"):
            if line:
                print("msg " + line, flush=True)
            if line == "READY=1":
                try:
                    st, _ = timed_ping(a.sock, 5)
                except OSError as e:
                    st = -1
                    print("ping-error " + str(e), flush=True)
                print("ping-at-ready=%d" % st, flush=True)
            if line == "STOPPING=1":
                stop_at = time.monotonic() + 0.5
    print("done", flush=True)


def cmd_stale(a):
    """stale PATH: leave a Unix socket file with no listener at PATH."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(a.path)
    s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("raw")
    r.add_argument("sock")
    r.add_argument("--timeout", type=float, default=10.0)
    r.add_argument("--idle", type=float, default=0.5)
    r.add_argument("--shut", action="store_true", help="half-close after sending")
    r.add_argument("--split", action="store_true", help="send one byte per write")
    r.add_argument("--mark", action="store_true")
    r.set_defaults(fn=cmd_raw)

    b = sub.add_parser("burst")
    b.add_argument("sock")
    b.add_argument("n", type=int)
    b.add_argument("--timeout", type=float, default=30.0)
    b.set_defaults(fn=cmd_burst)

    h = sub.add_parser("hold")
    h.add_argument("sock")
    h.add_argument("n", type=int)
    h.add_argument("mode", choices=["idle", "partial", "slow"])
    h.add_argument("--pid", type=int, default=0)
    h.add_argument("--timeout", type=float, default=10.0)
    h.set_defaults(fn=cmd_hold)

    g = sub.add_parser("bigbody")
    g.add_argument("sock")
    g.add_argument("path")
    g.add_argument("mib", type=int)
    g.add_argument("--timeout", type=float, default=20.0)
    g.set_defaults(fn=cmd_bigbody)

    fl = sub.add_parser("flood")
    fl.add_argument("sock")
    fl.add_argument("n", type=int)
    fl.add_argument("secs", type=float)
    fl.set_defaults(fn=cmd_flood)

    lg = sub.add_parser("linger")
    lg.add_argument("sock")
    lg.add_argument("readyfile")
    lg.add_argument("secs", type=float)
    lg.set_defaults(fn=cmd_linger)

    d = sub.add_parser("disconnects")
    d.add_argument("sock")
    d.add_argument("rounds", type=int)
    d.add_argument("--rst", action="store_true")
    d.add_argument("--timeout", type=float, default=10.0)
    d.set_defaults(fn=cmd_disconnects)

    n = sub.add_parser("notify")
    n.add_argument("path")
    n.add_argument("sock")
    n.add_argument("--timeout", type=float, default=30.0)
    n.set_defaults(fn=cmd_notify)

    st = sub.add_parser("stale")
    st.add_argument("path")
    st.set_defaults(fn=cmd_stale)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
