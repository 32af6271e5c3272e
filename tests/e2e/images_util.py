#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for the image e2e tests (images.bats, pull_security.bats, pull_crash.bats).

    images_util.py chain-ids DIFFID...
        print the chain id (hex) of each prefix of the diff id list, one per line
    images_util.py verify-blobs DATA
        print every DATA/blobs/sha256/<hex> whose content does not hash to <hex>
    images_util.py check-store DATA
        print every inconsistency of the store, one per line (nothing when it is sound):
        layer dirs without layer.json or diff/, layers whose parent is missing, blobs whose
        content does not match their name, images whose layers are missing, refs naming a
        missing image, anything left in tmp/
    images_util.py proxy LISTEN_PORT UPSTREAM_PORT RULES READY
        TCP proxy 127.0.0.1:LISTEN_PORT -> 127.0.0.1:UPSTREAM_PORT; writes READY when listening.
        RULES (a JSON file, re-read continuously) maps a blob digest, or "*", to a byte count:
        a response to GET .../blobs/<digest> is held after that many bytes while the rule
        stays; "rate" (bytes/s) throttles every blob response. Removing the file (or the
        rule) releases every held transfer.
    images_util.py pull-kill SOCK FROMIMAGE TAG PID WHEN OUT
        POST /images/create on SOCK and stream the progress into OUT; when WHEN is met send
        SIGKILL to PID. WHEN: "downloading" (the first Downloading message),
        "bytes:N" (a Downloading message with current >= N), "status:S" (the first message
        with status S), "complete:N" (the N-th "Pull complete"). With PID 0 the client just
        hangs up instead. Prints "killed" or "not-killed: <reason>".
    images_util.py inroot ROOT REL
        the type of ROOT/REL without following any symlink on the way: file, dir, link, block,
        char, fifo, socket, absent, or "through-symlink:<component>" when a parent is a link
    images_util.py sdk SOCK REPO TAG
        docker-py: client.images.pull(REPO, tag=TAG), then client.images.list(); prints JSON
        {"id": ..., "tags": [...], "list": [[id, tags], ...]}.
"""

import hashlib
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse


def chain_ids(diff_ids):
    out = []
    chain = None
    for d in diff_ids:
        chain = d if chain is None else "sha256:" + hashlib.sha256(
            (chain + " " + d).encode()).hexdigest()
        out.append(chain.split(":", 1)[1])
    return out


def verify_blobs(data):
    root = os.path.join(data, "blobs", "sha256")
    if not os.path.isdir(root):
        return 0
    bad = 0
    for name in sorted(os.listdir(root)):
        p = os.path.join(root, name)
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != name:
            print(p)
            bad += 1
    return bad


def check_store(data):
    problems = []
    layers = os.path.join(data, "layers")
    present = set(os.listdir(layers)) if os.path.isdir(layers) else set()
    for c in sorted(present):
        meta = os.path.join(layers, c, "layer.json")
        if not os.path.isfile(meta) or not os.path.isdir(os.path.join(layers, c, "diff")):
            problems.append("incomplete layer dir layers/%s: %s" % (c, sorted(os.listdir(os.path.join(layers, c)))))
            continue
        try:
            with open(meta) as f:
                parent = json.load(f).get("parent") or ""
        except ValueError as e:
            problems.append("unreadable layers/%s/layer.json: %s" % (c, e))
            continue
        if parent and parent.split(":", 1)[-1] not in present:
            problems.append("orphan layer layers/%s: parent %s is not stored" % (c, parent))
    root = os.path.join(data, "blobs", "sha256")
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            h = hashlib.sha256()
            with open(os.path.join(root, name), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != name:
                problems.append("unverified blob blobs/sha256/%s" % name)
    images = os.path.join(data, "images")
    ids = set()
    if os.path.isdir(images):
        for name in sorted(os.listdir(images)):
            p = os.path.join(images, name)
            with open(p, "rb") as f:
                raw = f.read()
            hexid = name[:-5] if name.endswith(".json") else name
            ids.add(hexid)
            try:
                cfg = json.loads(raw)
            except ValueError as e:
                problems.append("unreadable images/%s: %s" % (name, e))
                continue
            if hashlib.sha256(raw).hexdigest() != hexid:
                # The record may wrap the config; then only check the layers below.
                pass
            diff_ids = ((cfg.get("rootfs") or cfg.get("config", {}).get("rootfs") or {})
                        .get("diff_ids") or [])
            for c in chain_ids(diff_ids):
                if c not in present:
                    problems.append("image %s: layer %s is missing" % (hexid[:12], c))
    refs = os.path.join(data, "refs.json")
    if os.path.isfile(refs):
        try:
            with open(refs) as f:
                r = json.load(f).get("Refs") or {}
        except ValueError as e:
            problems.append("unreadable refs.json: %s" % e)
            r = {}
        for ref, target in sorted(r.items()):
            if target.split(":", 1)[-1] not in ids:
                problems.append("ref %s names missing image %s" % (ref, target))
    tmp = os.path.join(data, "tmp")
    if os.path.isdir(tmp) and os.listdir(tmp):
        problems.append("tmp/ not empty: %s" % " ".join(sorted(os.listdir(tmp))))
    for p in problems:
        print(p)
    return 1 if problems else 0


# --- throttling proxy ---------------------------------------------------------------------

BLOB_RE = re.compile(rb"GET /v2/\S+/blobs/(sha256:[0-9a-f]{64}) HTTP/1\.[01]")


class Rules:
    def __init__(self, path):
        self.path = path

    def _load(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def rate(self):
        return self._load().get("rate")

    def limit(self, digest):
        r = self._load()
        if digest in r:
            return r[digest]
        if digest is not None and "*" in r:
            return r["*"]
        return None


def proxy_conn(client, upstream_port, rules):
    try:
        server = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    state = {"digest": None, "sent": 0, "start": time.monotonic()}
    lock = threading.Lock()

    def c2s():
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                m = BLOB_RE.search(data)
                with lock:
                    if m:
                        state["digest"] = m.group(1).decode()
                        state["sent"] = 0
                        state["start"] = time.monotonic()
                    elif data.startswith((b"GET ", b"HEAD ", b"POST ", b"PUT ")):
                        state["digest"] = None
                        state["sent"] = 0
                server.sendall(data)
        except OSError:
            pass
        try:
            server.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=c2s, daemon=True)
    t.start()
    try:
        while True:
            data = server.recv(65536)
            if not data:
                break
            while data:
                with lock:
                    digest, sent = state["digest"], state["sent"]
                lim = rules.limit(digest)
                held = lim is not None and sent + len(data) > lim
                n = max(0, lim - sent) if held else len(data)
                rate = rules.rate() if digest is not None else None
                if n and rate:
                    n = min(n, 16384)
                    ahead = (sent + n) / rate - (time.monotonic() - state["start"])
                    if ahead > 0:
                        time.sleep(ahead)
                if n:
                    client.sendall(data[:n])
                    data = data[n:]
                    with lock:
                        state["sent"] += n
                elif held:
                    # Held: wait until the rule goes away, or the client does.
                    if not t.is_alive():
                        raise OSError("client gone")
                    time.sleep(0.05)
    except OSError:
        pass
    for s in (client, server):
        try:
            s.close()
        except OSError:
            pass


def proxy(listen_port, upstream_port, rules_path, ready):
    rules = Rules(rules_path)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(64)
    with open(ready, "w") as f:
        f.write("ready\n")
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        c, _ = ls.accept()
        threading.Thread(target=proxy_conn, args=(c, upstream_port, rules), daemon=True).start()


# --- pull and kill ------------------------------------------------------------------------


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def pull_kill(sock, from_image, tag, pid, when, out):
    q = urllib.parse.urlencode({"fromImage": from_image, "tag": tag})
    conn = UnixConn(sock)
    conn.request("POST", "/images/create?" + q, body=b"", headers={"X-Registry-Auth": "e30="})
    resp = conn.getresponse()
    completes = 0
    killed = False
    buf = b""
    deadline = time.monotonic() + 60
    with open(out, "w") as log:
        log.write("HTTP %d\n" % resp.status)
        while time.monotonic() < deadline:
            try:
                chunk = resp.read1(65536)
            except (OSError, http.client.HTTPException) as e:
                log.write("read error: %r\n" % (e,))
                break
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                log.write(line.decode(errors="replace") + "\n")
                log.flush()
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                status = msg.get("status", "")
                fire = False
                if when == "downloading":
                    fire = status == "Downloading"
                elif when.startswith("bytes:"):
                    cur = (msg.get("progressDetail") or {}).get("current") or 0
                    fire = status == "Downloading" and cur >= int(when[6:])
                elif when.startswith("status:"):
                    fire = status == when[7:]
                elif when.startswith("complete:"):
                    if status == "Pull complete":
                        completes += 1
                    fire = completes >= int(when[9:])
                if fire and not killed:
                    if pid > 0:
                        os.kill(pid, signal.SIGKILL)
                    else:
                        if conn.sock is not None:
                            conn.sock.shutdown(socket.SHUT_RDWR)
                        resp.close()
                        conn.close()
                    killed = True
                    log.write("#killed\n")
                    log.flush()
            if killed:
                break
    if killed:
        print("killed")
        return 0
    print("not-killed: condition %s never met (see %s)" % (when, out))
    return 1


def inroot(root, rel):
    import stat

    path = root
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    for i, part in enumerate(parts):
        if part == "..":
            return "through-symlink:.."
        path = os.path.join(path, part)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return "absent"
        if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            return "through-symlink:" + "/".join(parts[: i + 1]) if stat.S_ISLNK(
                st.st_mode) else "absent"
    if not parts:
        st = os.lstat(root)
    for test, name in ((stat.S_ISLNK, "link"), (stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"),
                       (stat.S_ISBLK, "block"), (stat.S_ISCHR, "char"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket")):
        if test(st.st_mode):
            return name
    return "other"


# --- docker SDK ---------------------------------------------------------------------------


def sdk(sock, repo, tag):
    import docker  # Debian's python3-docker

    client = docker.DockerClient(base_url="unix://" + sock, version="1.41", timeout=60)
    img = client.images.pull(repo, tag=tag)
    res = {"id": img.id, "tags": img.tags, "list": [[i.id, i.tags] for i in client.images.list()]}
    print(json.dumps(res))
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "chain-ids":
        print("\n".join(chain_ids(args)))
        return 0
    if cmd == "verify-blobs":
        return 1 if verify_blobs(args[0]) else 0
    if cmd == "check-store":
        return check_store(args[0])
    if cmd == "proxy":
        proxy(int(args[0]), int(args[1]), args[2], args[3])
        return 0
    if cmd == "pull-kill":
        return pull_kill(args[0], args[1], args[2], int(args[3]), args[4], args[5])
    if cmd == "inroot":
        print(inroot(args[0], args[1]))
        return 0
    if cmd == "sdk":
        return sdk(args[0], args[1], args[2])
    print("unknown command " + cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
