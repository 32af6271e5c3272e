#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny registry for test_registry_live: plain HTTP on 127.0.0.1, a random port.

Prints one JSON line (port, digests, sizes) and serves until its parent goes away. Each
repository name selects a behaviour: t/x is honest, tamper/x flips a blob byte, long/x and
short/x lie about blob sizes, stall/x trickles, bearer/x wants a token, basic/x and redir/x
want Basic credentials (redir/x then redirects blobs to another origin), bad/x serves the
same manifest whatever digest is asked.
"""
import base64
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


LAYER = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(300 * 1024))
CONFIG = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": []}}).encode()
MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": MT_MANIFEST,
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
               "digest": sha(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "digest": sha(LAYER), "size": len(LAYER)}],
}, indent=3).encode()
OTHER = b'{"not":"this"}'
INDEX = json.dumps({
    "schemaVersion": 2, "mediaType": MT_INDEX,
    "manifests": [
        {"mediaType": MT_MANIFEST, "digest": sha(OTHER), "size": len(OTHER),
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": MT_MANIFEST, "digest": sha(MANIFEST), "size": len(MANIFEST),
         "platform": {"os": "linux", "architecture": "amd64"}},
    ]}).encode()
BIG = hashlib.sha256(b"seed").digest() * (48 * 1024 * 1024 // 32)
BLOBS = {sha(LAYER): LAYER, sha(CONFIG): CONFIG, sha(BIG): BIG}
MANIFESTS = {"1": (MANIFEST, MT_MANIFEST), sha(MANIFEST): (MANIFEST, MT_MANIFEST),
             "multi": (INDEX, MT_INDEX), sha(INDEX): (INDEX, MT_INDEX)}
BASIC = "Basic " + base64.b64encode(b"user:pa ss").decode()
TOKEN = "tok123"
STATS = {"token": 0, "storage_auth": 0, "storage": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, ecode, msg, headers=()):
        body = json.dumps({"errors": [{"code": ecode, "message": msg}]}).encode()
        self.send(code, body, headers=headers)

    def auth_ok(self, repo):
        got = self.headers.get("Authorization", "")
        port = self.server.server_address[1]
        if repo == "bearer/x":
            if got == "Bearer " + TOKEN:
                return True
            ch = ('Bearer realm="http://127.0.0.1:%d/token",service="fake",'
                  'scope="repository:bearer/x:pull"' % port)
            self.error(401, "UNAUTHORIZED", "authentication required",
                       [("WWW-Authenticate", ch)])
            return False
        if repo in ("basic/x", "redir/x", ""):
            if got == BASIC:
                return True
            self.error(401, "UNAUTHORIZED", "authentication required",
                       [("WWW-Authenticate", 'Basic realm="fake"')])
            return False
        return True

    def token(self):
        with LOCK:
            STATS["token"] += 1
        q = self.path.split("?", 1)[1] if "?" in self.path else ""
        params = dict(p.split("=", 1) for p in q.split("&") if "=" in p)
        if params.get("service") != "fake" or "bearer%2Fx" not in params.get("scope", ""):
            return self.send(400, b'{"details":"bad query"}')
        got = self.headers.get("Authorization")
        if got is not None and got != BASIC:
            return self.send(401, b'{"details":"incorrect username or password"}')
        self.send(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())

    def blob(self, repo, dg):
        data = BLOBS.get(dg)
        if data is None:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        if repo == "redir/x":
            port = self.server.server_address[1]
            return self.send(307, b"", headers=[
                ("Location", "http://localhost:%d/storage/%s" % (port, dg))])
        if repo == "tamper/x":
            data = bytes([data[0] ^ 1]) + data[1:]
        elif repo == "long/x":
            data = data + b"x" * 1000
        elif repo == "short/x":
            data = data[:-100]
        elif repo == "stall/x":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:1000])
            self.wfile.flush()
            time.sleep(30)
            return
        self.send(200, data, "application/octet-stream")

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/token":
            return self.token()
        if path == "/stats":
            return self.send(200, json.dumps(STATS).encode())
        if path.startswith("/storage/"):
            with LOCK:
                STATS["storage"] += 1
                if self.headers.get("Authorization"):
                    STATS["storage_auth"] += 1
            return self.send(200, BLOBS.get(path[9:], b""), "application/octet-stream")
        if path == "/v2/":
            if self.auth_ok(""):
                self.send(200, b"{}")
            return
        parts = path.split("/")
        if len(parts) < 6 or parts[1] != "v2":
            return self.send(404, b"")
        repo = "/".join(parts[2:-2])
        kind, ref = parts[-2], parts[-1]
        if not self.auth_ok(repo):
            return
        if kind == "blobs":
            return self.blob(repo, ref)
        if repo == "bad/x":
            return self.send(200, MANIFEST, MT_MANIFEST)
        if repo == "ctype/x":
            return self.send(200, MANIFEST, MT_INDEX)
        if ref not in MANIFESTS:
            return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        body, ct = MANIFESTS[ref]
        self.send(200, body, ct, [("Docker-Content-Digest", sha(body))])

    do_HEAD = do_GET

    def do_POST(self):
        self.send(404, b"")


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    parent = os.getppid()
    print(json.dumps({
        "pid": os.getpid(), "port": srv.server_address[1],
        "manifest": sha(MANIFEST), "index": sha(INDEX),
        "layer": sha(LAYER), "layer_size": len(LAYER),
        "config": sha(CONFIG), "config_size": len(CONFIG),
        "big": sha(BIG), "big_size": len(BIG)}), flush=True)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.3)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
