#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/run/lifecycle.py: the API client of bench/run/run.sh. It speaks HTTP/1.1 over a
daemon's Unix socket with keep-alive connections (http.client), the same way to berthd and to
dockerd, and prints one JSON object on stdout.

  lifecycle.py SOCK ping N
      N sequential GET /_ping on one connection: the client's own cost per request
  lifecycle.py SOCK loop N IMAGE
      N times, sequentially on one connection: POST /containers/create (IMAGE, Cmd ["true"],
      NetworkMode none), POST .../start, POST .../wait, DELETE /containers/{id}; the seconds of
      each call and of the four together, per container
  lifecycle.py SOCK create-many N IMAGE IDFILE
      create N containers running `sleep 60` (not started); their ids go to IDFILE
  lifecycle.py SOCK start-many IDFILE CONC
      start every container of IDFILE, CONC requests in flight on CONC connections; the wall
      time from the first request to the last answer, then a GET /containers/json to count the
      running ones
  lifecycle.py SOCK rm-many IDFILE CONC
      DELETE ?force=1 every container of IDFILE, CONC at a time

  lifecycle.py stats FILE KEY
      "median p90 n" in milliseconds of the list KEY of FILE (one of the JSON objects above), or
      of FILE's lines (seconds, one a line) when KEY is "-"; p90 is the nearest-rank percentile

Every unexpected status ends the program with status 1 and a message on stderr.
"""
import http.client
import json
import math
import socket
import sys
import threading
import time

API = "/v1.41"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Client:
    def __init__(self, path):
        self.conn = UnixConnection(path)

    def call(self, method, url, body=None, want=(200,)):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, url, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        if resp.status not in want:
            sys.exit(f"lifecycle.py: {method} {url}: HTTP {resp.status}: {payload[:300]!r}")
        return payload


def create_body(image, cmd):
    return {
        "Image": image,
        "Cmd": cmd,
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "Tty": False,
        "HostConfig": {"NetworkMode": "none"},
    }


def cmd_ping(sock, n):
    c = Client(sock)
    c.call("GET", "/_ping")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.call("GET", "/_ping")
        times.append(time.perf_counter() - t0)
    return {"ping": times}


def cmd_loop(sock, n, image):
    c = Client(sock)
    c.call("GET", "/_ping")
    out = {"create": [], "start": [], "wait": [], "rm": [], "total": []}
    for _ in range(n):
        t0 = time.perf_counter()
        cid = json.loads(c.call("POST", API + "/containers/create",
                                create_body(image, ["true"]), want=(201,)))["Id"]
        t1 = time.perf_counter()
        c.call("POST", f"{API}/containers/{cid}/start", want=(204,))
        t2 = time.perf_counter()
        status = json.loads(c.call("POST", f"{API}/containers/{cid}/wait"))
        t3 = time.perf_counter()
        if status.get("StatusCode") != 0:
            sys.exit(f"lifecycle.py: container {cid} exited with {status}")
        c.call("DELETE", f"{API}/containers/{cid}", want=(204,))
        t4 = time.perf_counter()
        for k, a, b in (("create", t0, t1), ("start", t1, t2), ("wait", t2, t3), ("rm", t3, t4),
                        ("total", t0, t4)):
            out[k].append(b - a)
    return out


def cmd_create_many(sock, n, image, idfile):
    c = Client(sock)
    ids = []
    t0 = time.perf_counter()
    for _ in range(n):
        ids.append(json.loads(c.call("POST", API + "/containers/create",
                                     create_body(image, ["sleep", "60"]), want=(201,)))["Id"])
    secs = time.perf_counter() - t0
    with open(idfile, "w") as f:
        f.write("\n".join(ids) + "\n")
    return {"created": len(ids), "seconds": secs}


def fan_out(sock, ids, conc, method, fmt, want):
    """Send one request per id, conc connections at once; the wall time of the whole."""
    lock = threading.Lock()
    queue = list(ids)
    errors = []

    def worker():
        c = Client(sock)
        c.conn.connect()
        ready.wait()
        while True:
            with lock:
                if not queue or errors:
                    return
                cid = queue.pop()
            try:
                c.call(method, fmt.format(cid), want=want)
            except SystemExit as e:  # Client.call's verdict, kept for the main thread
                with lock:
                    errors.append(str(e))
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append(f"{method} {cid[:12]}: {e}")

    # Every worker connects first; the timed part is the requests only.
    threads = [threading.Thread(target=worker) for _ in range(min(conc, len(ids)))]
    ready = threading.Barrier(len(threads) + 1)
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    if errors:
        sys.exit(f"lifecycle.py: {len(errors)} request(s) failed, first: {errors[0]}")
    return secs


def read_ids(idfile):
    with open(idfile) as f:
        return [line.strip() for line in f if line.strip()]


def cmd_start_many(sock, idfile, conc):
    ids = read_ids(idfile)
    secs = fan_out(sock, ids, conc, "POST", API + "/containers/{}/start", (204,))
    listed = json.loads(Client(sock).call("GET", API + "/containers/json"))
    running = {x["Id"] for x in listed if x.get("State") == "running"}
    return {"started": len(ids), "seconds": secs, "running": len(running & set(ids))}


def cmd_rm_many(sock, idfile, conc):
    ids = read_ids(idfile)
    secs = fan_out(sock, ids, conc, "DELETE", API + "/containers/{}?force=1", (204,))
    return {"removed": len(ids), "seconds": secs}


def cmd_stats(path, key):
    with open(path) as f:
        if key == "-":
            values = [float(line) for line in f if line.strip()]
        else:
            values = json.load(f)[key]
    if not values:
        sys.exit(f"lifecycle.py: no values for {key} in {path}")
    v = sorted(values)
    n = len(v)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    p90 = v[max(0, math.ceil(0.9 * n) - 1)]
    print(f"{median * 1e3:.2f} {p90 * 1e3:.2f} {n}")


def main(argv):
    if len(argv) == 4 and argv[1] == "stats":
        cmd_stats(argv[2], argv[3])
        return
    if len(argv) < 3:
        sys.exit(__doc__)
    sock, what, args = argv[1], argv[2], argv[3:]
    if what == "ping" and len(args) == 1:
        out = cmd_ping(sock, int(args[0]))
    elif what == "loop" and len(args) == 2:
        out = cmd_loop(sock, int(args[0]), args[1])
    elif what == "create-many" and len(args) == 3:
        out = cmd_create_many(sock, int(args[0]), args[1], args[2])
    elif what == "start-many" and len(args) == 2:
        out = cmd_start_many(sock, args[0], int(args[1]))
    elif what == "rm-many" and len(args) == 2:
        out = cmd_rm_many(sock, args[0], int(args[1]))
    else:
        sys.exit(__doc__)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
