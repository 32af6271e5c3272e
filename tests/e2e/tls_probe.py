#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A listener that tells TLS from plain HTTP, for tests/e2e/registry_tls.bats.

For every connection it appends one line to --log: "tls" when the first byte is a TLS
handshake record (0x16), else "plain <request line>". It then serves the connection: TLS with
--cert/--key (the client decides whether to trust it), or plain HTTP; either way a request gets
a registry-like "200 {}", so a client that fell back to plain HTTP would be seen going on.

    tls_probe.py --host IP --port N --cert server.crt --key server.key --log FILE
"""
import argparse
import socket
import ssl
import threading

REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
         b"Docker-Distribution-Api-Version: registry/2.0\r\nConnection: close\r\n\r\n{}")


class Log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def add(self, line):
        with self.lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def serve(conn, ctx, log):
    try:
        conn.settimeout(10)
        first = conn.recv(1, socket.MSG_PEEK)
        if not first:
            log.add("empty")
            return
        if first[0] == 0x16:
            log.add("tls")
            try:
                s = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client refused the certificate, as expected without the CA
            conn = s
        data = conn.recv(65536)
        if first[0] != 0x16:
            log.add("plain " + data.split(b"\r\n", 1)[0].decode("latin-1"))
        conn.sendall(REPLY)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    log = Log(a.log)
    srv = socket.create_server((a.host, a.port))
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, ctx, log), daemon=True).start()


if __name__ == "__main__":
    main()
