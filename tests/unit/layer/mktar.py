#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Builds the layer tars of the layer unit tests: mktar.py <case> <out.tar>
# Names are written exactly as given (tarfile does not sanitise on write).
import io
import struct
import sys
import tarfile

REG, DIR, SYM, LNK = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
CHR, BLK, FIFO = tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE

# vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (13)
CAP = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)


def e(name, type=REG, data=b"", mode=None, uid=0, gid=0, mtime=1000000000, link="",
      major=0, minor=0, xattrs=None):
    if mode is None:
        mode = 0o755 if type == DIR else 0o644
    return dict(name=name, type=type, data=data, mode=mode, uid=uid, gid=gid, mtime=mtime,
                link=link, major=major, minor=minor, xattrs=xattrs or {})


def write(entries, out, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(out, "w", format=fmt) as t:
        for x in entries:
            ti = tarfile.TarInfo(x["name"])
            ti.type, ti.mode, ti.uid, ti.gid = x["type"], x["mode"], x["uid"], x["gid"]
            ti.mtime, ti.linkname = x["mtime"], x["link"]
            ti.devmajor, ti.devminor = x["major"], x["minor"]
            for k, v in x["xattrs"].items():
                if isinstance(v, bytes):
                    v = v.decode("utf-8", "surrogateescape")
                ti.pax_headers["SCHILY.xattr." + k] = v
            if x["type"] == REG:
                ti.size = len(x["data"])
                t.addfile(ti, io.BytesIO(x["data"]))
            else:
                t.addfile(ti)


LONG = "long/" + "a" * 200 + "/" + "b" * 100

CASES = {
    "basic": [
        e("./", DIR, mode=0o755, mtime=1111),
        e("etc/", DIR, mode=0o750, mtime=2222),
        e("etc/hello", data=b"hello\n", mode=0o4755, uid=1000, gid=1001, mtime=1234567890.5,
          xattrs={"user.foo": "bar", "security.selinux": "evil", "trusted.overlay.opaque": "y"}),
        e("etc/cap", data=b"#!/bin/true\n", mode=0o755, xattrs={"security.capability": CAP}),
        e("etc/link", SYM, link="/etc/shadow", uid=1000, gid=1000, mtime=7777),
        e("etc/hard", LNK, link="etc/hello"),
        e("fifo", FIFO, mode=0o640, uid=5, gid=6),
        e("dev/mem", CHR, mode=0o666, major=1, minor=1),
        e("dev/disk", BLK, mode=0o660, major=8, minor=0, gid=6),
        e("empty/", DIR, mode=0o700, mtime=3333),
        e("empty/sub/", DIR, mtime=4444),
        e("empty/sub/f", data=b"x", mtime=5555),
        e("./dot/./x//y", data=b"y"),
        e("utf8-\u00e9", data=b"u"),
        e(LONG, data=b"long"),
        e("bin/", DIR, mode=0o755),
        e("bin/sg", data=b"s", mode=0o2755, gid=42),
        e("ro/", DIR, mode=0o555, mtime=6666),
        e("ro/child", data=b"c", mode=0o400),
    ],
    "l1a": [e("../victim/evil", data=b"evil")],
    "l1b": [e("/tmp/berth-layer-evil2", data=b"evil")],
    "l1c": [e("/../victim/x", data=b"evil")],
    "l1d": [e("ok", data=b"ok"), e("../../tmp/berth-layer-evil", data=b"evil")],
    "l2": [e("etc/", DIR), e("localetc", SYM, link="/etc"), e("localetc/unbroken", data=b"x")],
    "l3a": [e("d1", SYM, link="../../../../etc"), e("d1/passwd", data=b"root::0:0::/:/bin/sh")],
    "l3b": [e("dummy/", DIR), e("dummy/../etc/x", data=b"x")],
    "l3c": [e("d2", SYM, link="../victim"), e("d2/x", data=b"x")],
    "l3d": [e("d3", SYM, link="../victim"), e("d3/", DIR)],
    "l4a": [e("x", LNK, link="/etc/shadow")],
    "l4b": [e("x", LNK, link="../../etc/shadow")],
    "l4c": [e("x", LNK, link="/../victim/hello")],
    "l4d": [e("x", LNK, link="nonexistent")],
    "l4e": [e("s", SYM, link="../victim"), e("x", LNK, link="s/hello")],
    "l4f": [e("s", SYM, link="../victim/hello"), e("x", LNK, link="s"), e("x", data=b"w")],
    "l5a": [e("loophole", LNK, link="../victim"), e("loophole/file", data=b"x")],
    "l5b": [e("d/", DIR), e("loophole", LNK, link="d"), e("loophole/file", data=b"x")],
    "l9a": [e(".wh..")],
    "l9b": [e(".wh...")],
    "l9c": [e(".wh.")],
    "l9d": [e("etc/", DIR), e("etc/.wh..")],
    "l10a": [e("localetc", SYM, link="/etc"), e("localetc/.wh.passwd")],
    "l10b": [e("localetc", SYM, link="../victim"), e(".wh.localetc")],
    "l10c": [e(".wh.localetc")],
    "l10d": [e("dead", SYM, link="../victim/nothing"), e("dead/.wh.x")],
    "l12a": [e(".wh..wh..opq"), e("a/", DIR), e("a/.wh..wh..opq"), e("a/keep", data=b"k")],
    "l12b": [e(".wh..wh..opq/", DIR)],
    "l12c": [e(".wh..wh..opq", SYM, link="/etc")],
    "l12d": [e("d/", DIR)] + [e("d/.wh..wh..opq") for _ in range(20000)] + [e("d/f")],
    "wh": [e("a/", DIR), e("a/.wh.foo"), e("a/bar", data=b"b"), e("a/.wh.bar"),
           e("d/", DIR), e(".wh.d"), e(".wh.e"), e("e/", DIR), e(".wh.f"), e("f", data=b"f"),
           e(".wh..wh.plnk/", DIR), e(".wh..wh.plnk/123", data=b"aufs")],
    "whdir": [e(".wh.x/", DIR)],
    "whlink": [e("t", data=b"t"), e(".wh.t2", LNK, link="t")],
    "uidneg": [e("f", uid=4294967295)],
    "uidbig": [e("f", uid=4294967296)],
    "dirrepl": [e("d/", DIR), e("d", data=b"x")],
    "dup": [e("f", data=b"one"), e("f", data=b"two"), e("d/", DIR, mode=0o700),
            e("d/", DIR, mode=0o711)],
    "parentfile": [e("f", data=b"x"), e("f/x", data=b"y")],
    "rootfile": [e(".", data=b"x")],
    "longcomp": [e("d/" + "c" * 300, data=b"x")],
    "selflink": [e("x", LNK, link="x")],
    "big": [e("big", data=b"\1" * (4 << 20))],
}


def main():
    case, out = sys.argv[1], sys.argv[2]
    fmt = tarfile.GNU_FORMAT if case == "l12d" else tarfile.PAX_FORMAT
    write(CASES[case], out, fmt)


if __name__ == "__main__":
    main()
