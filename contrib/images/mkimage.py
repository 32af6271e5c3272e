#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Deterministic container image writer: layers, configs, manifests, OCI layouts, docker-archives.

Same inputs, same bytes: tar entries are sorted, owned by 0:0, stamped with one fixed mtime
(SOURCE_DATE_EPOCH, default 0) and carry no PAX time records; gzip streams have mtime 0 and no
file name; JSON is written with sorted keys and no spaces.

Used as a library (tests/fixtures/*.py import it) and as a command:

  mkimage.py --layer-dir ROOTFS [--layer-dir ROOTFS2 | --layer-tar FILE.tar ...]
             [--layout DIR --tag TAG] [--docker-archive FILE --repo-tag NAME:TAG ...]
             [--cmd '["sh"]'] [--entrypoint '[...]'] [--env K=V ...] [--workdir DIR]
             [--label K=V ...] [--arch amd64] [--variant v8] [--os linux] [--comment TEXT]
             [--base-layout DIR --base-tag TAG]

Layers are stacked in the order given, after the base image's layers when --base-layout is set.
--layout adds the image to an OCI image layout directory (created if missing, existing refs
kept) with the annotation org.opencontainers.image.ref.name=TAG. --docker-archive writes a
`docker save` tarball (manifest.json + repositories + OCI index.json/oci-layout/blobs, as
docker 25+ writes it) with uncompressed layers.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

REF_NAME = "org.opencontainers.image.ref.name"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def epoch():
    """The fixed timestamp of every tar entry and of the config's `created`."""
    return int(os.environ.get("SOURCE_DATE_EPOCH", "0"))


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def jdump(obj):
    """Canonical JSON bytes: sorted keys, no whitespace."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def rfc3339(t):
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def gzip_bytes(data, level=6):
    """gzip with mtime 0 and no file name, so the output depends only on DATA."""
    return gzip.compress(data, compresslevel=level, mtime=0)


# --- tar ---------------------------------------------------------------------------------------


class TarWriter:
    """Deterministic tar writer over an in-memory buffer. Entries are written in call order; use
    add_tree() for a sorted directory walk. Owner 0:0 "root", mtime epoch() unless given."""

    def __init__(self, fmt=tarfile.PAX_FORMAT):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=fmt)

    def _info(self, name, typ, mode, mtime=None, uid=0, gid=0):
        ti = tarfile.TarInfo(name)
        ti.type = typ
        ti.mode = mode
        ti.mtime = int(epoch() if mtime is None else mtime)
        ti.uid, ti.gid = uid, gid
        ti.uname = "root" if uid == 0 else ""
        ti.gname = "root" if gid == 0 else ""
        return ti

    def add_dir(self, name, mode=0o755, **kw):
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode, **kw))

    def add_file(self, name, data=b"", mode=0o644, pax=None, **kw):
        if isinstance(data, str):
            data = data.encode()
        ti = self._info(name, tarfile.REGTYPE, mode, **kw)
        ti.size = len(data)
        if pax:
            ti.pax_headers = dict(pax)
        self.tar.addfile(ti, io.BytesIO(data))

    def add_symlink(self, name, target, **kw):
        ti = self._info(name, tarfile.SYMTYPE, 0o777, **kw)
        ti.linkname = target
        self.tar.addfile(ti)

    def add_hardlink(self, name, target, mode=0o644, **kw):
        ti = self._info(name, tarfile.LNKTYPE, mode, **kw)
        ti.linkname = target
        self.tar.addfile(ti)

    def add_device(self, name, kind, major, minor, mode=0o666, **kw):
        typ = {"c": tarfile.CHRTYPE, "b": tarfile.BLKTYPE}[kind]
        ti = self._info(name, typ, mode, **kw)
        ti.devmajor, ti.devminor = major, minor
        self.tar.addfile(ti)

    def add_fifo(self, name, mode=0o644, **kw):
        self.tar.addfile(self._info(name, tarfile.FIFOTYPE, mode, **kw))

    def add_raw(self, tarinfo, data=None):
        """Any hand-made TarInfo (its mtime/owner are taken as given)."""
        self.tar.addfile(tarinfo, io.BytesIO(data) if data is not None else None)

    def add_tree(self, root):
        """Every object under ROOT (not ROOT itself), sorted by path, names relative to ROOT.
        Modes come from the file system; owners and times are normalised; files with several
        links inside the tree become hard links to the first name."""
        seen = {}
        for rel in sorted(_walk(root)):
            path = os.path.join(root, rel)
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                self.add_dir(rel, mode)
            elif stat.S_ISLNK(st.st_mode):
                self.add_symlink(rel, os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in seen:
                    self.add_hardlink(rel, seen[key], mode)
                    continue
                seen[key] = rel
                with open(path, "rb") as f:
                    self.add_file(rel, f.read(), mode)
            elif stat.S_ISFIFO(st.st_mode):
                self.add_fifo(rel, mode)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                kind = "c" if stat.S_ISCHR(st.st_mode) else "b"
                self.add_device(rel, kind, os.major(st.st_rdev), os.minor(st.st_rdev), mode)
            else:
                raise ValueError(f"{path}: unsupported file type")

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def _walk(root):
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            yield os.path.relpath(os.path.join(dirpath, n), root)


def tar_tree(root):
    w = TarWriter()
    w.add_tree(root)
    return w.bytes()


# --- images ------------------------------------------------------------------------------------


class Layer:
    """One layer: the uncompressed tar (its sha256 is the diff id) and the gzip blob."""

    def __init__(self, tar, gz=None, level=6):
        self.tar = tar
        self.gz = gz if gz is not None else gzip_bytes(tar, level)
        self.diff_id = sha256(tar)
        self.digest = sha256(self.gz)


class Image:
    """A single-platform image: layers plus config fields. config_bytes()/manifest_bytes() are
    deterministic."""

    def __init__(self, layers, cmd=None, entrypoint=None, env=None, workdir="", labels=None,
                 arch="amd64", os_="linux", variant=None, comments=None, created=None,
                 extra_config=None):
        self.layers = list(layers)
        self.cmd = cmd
        self.entrypoint = entrypoint
        self.env = list(env) if env is not None else ["PATH=" + DEFAULT_PATH]
        self.workdir = workdir
        self.labels = dict(labels or {})
        self.arch, self.os, self.variant = arch, os_, variant
        self.comments = list(comments or [])
        self.created = rfc3339(epoch() if created is None else created)
        self.extra_config = extra_config or {}
        self._config = None

    def config(self):
        cfg = {"Env": self.env}
        if self.cmd is not None:
            cfg["Cmd"] = self.cmd
        if self.entrypoint is not None:
            cfg["Entrypoint"] = self.entrypoint
        if self.workdir:
            cfg["WorkingDir"] = self.workdir
        if self.labels:
            cfg["Labels"] = self.labels
        cfg.update(self.extra_config)
        history = []
        for i, _ in enumerate(self.layers):
            c = self.comments[i] if i < len(self.comments) else f"layer {i + 1}"
            history.append({"created": self.created, "created_by": c})
        doc = {
            "architecture": self.arch,
            "os": self.os,
            "created": self.created,
            "config": cfg,
            "rootfs": {"type": "layers", "diff_ids": [l.diff_id for l in self.layers]},
            "history": history,
        }
        if self.variant:
            doc["variant"] = self.variant
        return doc

    def config_bytes(self):
        if self._config is None:
            self._config = jdump(self.config())
        return self._config

    def config_digest(self):
        return sha256(self.config_bytes())

    def platform(self):
        p = {"architecture": self.arch, "os": self.os}
        if self.variant:
            p["variant"] = self.variant
        return p

    def manifest(self, docker=False):
        """The registry manifest (gzip layers). docker=True gives Docker schema 2 media types."""
        cfg = self.config_bytes()
        return {
            "schemaVersion": 2,
            "mediaType": MT_DOCKER_MANIFEST if docker else MT_OCI_MANIFEST,
            "config": {
                "mediaType": MT_DOCKER_CONFIG if docker else MT_OCI_CONFIG,
                "digest": sha256(cfg),
                "size": len(cfg),
            },
            "layers": [
                {
                    "mediaType": MT_DOCKER_LAYER_GZIP if docker else MT_OCI_LAYER_GZIP,
                    "digest": l.digest,
                    "size": len(l.gz),
                }
                for l in self.layers
            ],
        }

    def manifest_bytes(self, docker=False):
        return jdump(self.manifest(docker))


def index_bytes(entries, docker=False):
    """A multi-platform index. ENTRIES: (manifest_bytes, platform dict) pairs."""
    return jdump(
        {
            "schemaVersion": 2,
            "mediaType": MT_DOCKER_LIST if docker else MT_OCI_INDEX,
            "manifests": [
                {
                    "mediaType": json.loads(m)["mediaType"],
                    "digest": sha256(m),
                    "size": len(m),
                    "platform": p,
                }
                for m, p in entries
            ],
        }
    )


# --- OCI image layout --------------------------------------------------------------------------


class Layout:
    """An OCI image layout directory. Blobs are written once; index.json is rewritten sorted by
    ref name on every add so the result does not depend on call order."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "wb") as f:
            f.write(jdump({"imageLayoutVersion": "1.0.0"}))
        idx = os.path.join(path, "index.json")
        self.manifests = []
        if os.path.exists(idx):
            with open(idx, "rb") as f:
                self.manifests = json.load(f).get("manifests", [])

    def blob(self, data):
        digest = sha256(data)
        p = os.path.join(self.path, "blobs", "sha256", digest[7:])
        if not os.path.exists(p):
            tmp = p + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, p)
        return {"digest": digest, "size": len(data)}

    def add_image(self, img, tag=None, docker=False):
        """Write IMG's blobs and manifest; returns the manifest bytes. With TAG, also a ref."""
        for l in img.layers:
            self.blob(l.gz)
        self.blob(img.config_bytes())
        m = img.manifest_bytes(docker)
        self.blob(m)
        if tag is not None:
            self.ref(m, tag)
        return m

    def add_index(self, images, tag=None, docker=False):
        """Write a multi-platform index over IMAGES; returns the index bytes."""
        entries = [(self.add_image(i, docker=docker), i.platform()) for i in images]
        idx = index_bytes(entries, docker)
        self.blob(idx)
        if tag is not None:
            self.ref(idx, tag)
        return idx

    def ref(self, doc_bytes, tag):
        desc = {
            "mediaType": json.loads(doc_bytes)["mediaType"],
            "digest": sha256(doc_bytes),
            "size": len(doc_bytes),
            "annotations": {REF_NAME: tag},
        }
        self.manifests = [m for m in self.manifests
                          if m.get("annotations", {}).get(REF_NAME) != tag] + [desc]
        self.manifests.sort(key=lambda m: m.get("annotations", {}).get(REF_NAME, ""))
        with open(os.path.join(self.path, "index.json"), "wb") as f:
            f.write(jdump({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                           "manifests": self.manifests}))


def read_layout_image(path, tag):
    """Load the single-platform image tagged TAG from an OCI layout as an Image (gzip layers
    reused byte for byte)."""

    def blob(digest):
        with open(os.path.join(path, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
            data = f.read()
        if sha256(data) != digest:
            raise ValueError(f"{path}: blob {digest} does not match its digest")
        return data

    with open(os.path.join(path, "index.json"), "rb") as f:
        idx = json.load(f)
    desc = [m for m in idx["manifests"] if m.get("annotations", {}).get(REF_NAME) == tag]
    if not desc:
        raise KeyError(f"{path}: no ref {tag}")
    man = json.loads(blob(desc[0]["digest"]))
    cfg = json.loads(blob(man["config"]["digest"]))
    layers = []
    for d, diff_id in zip(man["layers"], cfg["rootfs"]["diff_ids"]):
        gz = blob(d["digest"])
        layer = Layer(gzip.decompress(gz), gz)
        if layer.diff_id != diff_id:
            raise ValueError(f"{path}: layer {d['digest']} does not match diff id {diff_id}")
        layers.append(layer)
    c = cfg.get("config", {})
    img = Image(layers, cmd=c.get("Cmd"), entrypoint=c.get("Entrypoint"), env=c.get("Env"),
                workdir=c.get("WorkingDir", ""), labels=c.get("Labels"),
                arch=cfg["architecture"], os_=cfg["os"], variant=cfg.get("variant"),
                comments=[h.get("created_by", "") for h in cfg.get("history", [])
                          if not h.get("empty_layer")])
    img.created = cfg.get("created", img.created)
    return img


# --- docker save archive -----------------------------------------------------------------------


def _normalise_repo_tag(rt):
    """busybox:latest -> docker.io/library/busybox:latest (for io.containerd.image.name)."""
    name, _, tag = rt.rpartition(":")
    if not name or "/" in tag:
        name, tag = rt, "latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    return f"{name}:{tag}"


def docker_archive_bytes(images):
    """`docker save` output for IMAGES: a list of (Image, [repo:tag, ...]). Layers are stored
    uncompressed under blobs/sha256/<diff id>, with manifest.json (docker's loader), index.json +
    oci-layout (OCI loaders) and the legacy repositories file."""
    w = TarWriter(fmt=tarfile.USTAR_FORMAT)
    blobs = {}
    manifest_json = []
    index = []
    repositories = {}
    for img, tags in images:
        for l in img.layers:
            blobs[l.diff_id] = l.tar
        cfg = img.config_bytes()
        blobs[sha256(cfg)] = cfg
        oci_manifest = jdump(
            {
                "schemaVersion": 2,
                "mediaType": MT_OCI_MANIFEST,
                "config": {"mediaType": MT_OCI_CONFIG, "digest": sha256(cfg), "size": len(cfg)},
                "layers": [
                    {"mediaType": MT_OCI_LAYER_TAR, "digest": l.diff_id, "size": len(l.tar)}
                    for l in img.layers
                ],
            }
        )
        blobs[sha256(oci_manifest)] = oci_manifest
        manifest_json.append(
            {
                "Config": "blobs/sha256/" + sha256(cfg)[7:],
                "RepoTags": list(tags) if tags else None,
                "Layers": ["blobs/sha256/" + l.diff_id[7:] for l in img.layers],
            }
        )
        descs = []
        for t in tags or [None]:
            d = {"mediaType": MT_OCI_MANIFEST, "digest": sha256(oci_manifest),
                 "size": len(oci_manifest)}
            if t:
                full = _normalise_repo_tag(t)
                d["annotations"] = {"io.containerd.image.name": full,
                                    REF_NAME: full.rpartition(":")[2]}
                repo, _, tag = t.rpartition(":")
                repositories.setdefault(repo, {})[tag] = img.layers[-1].diff_id[7:]
            descs.append(d)
        index.extend(descs)
    w.add_dir("blobs", 0o755)
    w.add_dir("blobs/sha256", 0o755)
    for d in sorted(blobs):
        w.add_file("blobs/sha256/" + d[7:], blobs[d], 0o644)
    w.add_file("index.json", jdump({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                                    "manifests": index}) + b"\n")
    w.add_file("manifest.json", json.dumps(manifest_json, separators=(",", ":")).encode() + b"\n")
    w.add_file("oci-layout", jdump({"imageLayoutVersion": "1.0.0"}) + b"\n")
    if repositories:
        w.add_file("repositories", jdump(repositories) + b"\n")
    return w.bytes()


def write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


# --- command line ------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--layer-dir", action="append", default=[], dest="layers",
                    type=lambda v: ("dir", v), help="add a layer made from a directory tree")
    ap.add_argument("--layer-tar", action="append", default=[], dest="layers",
                    type=lambda v: ("tar", v), help="add a layer from an uncompressed tar file")
    ap.add_argument("--base-layout", help="OCI layout holding the base image")
    ap.add_argument("--base-tag", default="latest")
    ap.add_argument("--layout", help="OCI layout directory to add the image to")
    ap.add_argument("--tag", default="latest", help="ref name in --layout")
    ap.add_argument("--docker-archive", help="write a docker save tarball here")
    ap.add_argument("--repo-tag", action="append", default=[], help="RepoTags entry")
    ap.add_argument("--cmd", type=json.loads)
    ap.add_argument("--entrypoint", type=json.loads)
    ap.add_argument("--env", action="append")
    ap.add_argument("--workdir", default="")
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("--variant")
    ap.add_argument("--os", default="linux")
    ap.add_argument("--comment", action="append", default=[], help="history created_by, per layer")
    ap.add_argument("--gzip-level", type=int, default=6)
    ap.add_argument("--print-digests", action="store_true",
                    help="print manifest and config digests")
    a = ap.parse_args(argv)

    layers, comments, env, cmd = [], [], a.env, a.cmd
    if a.base_layout:
        base = read_layout_image(a.base_layout, a.base_tag)
        layers, comments = list(base.layers), list(base.comments)
        env = env if env is not None else base.env
        cmd = cmd if cmd is not None else base.cmd
    for kind, src in a.layers:
        if kind == "dir":
            tar = tar_tree(src)
        else:
            with open(src, "rb") as f:
                tar = f.read()
        layers.append(Layer(tar, level=a.gzip_level))
    comments += a.comment
    if not layers:
        ap.error("no layers")
    img = Image(layers, cmd=cmd, entrypoint=a.entrypoint, env=env, workdir=a.workdir,
                labels=dict(kv.split("=", 1) for kv in a.label), arch=a.arch, os_=a.os,
                variant=a.variant, comments=comments)
    if a.layout:
        m = Layout(a.layout).add_image(img, a.tag)
        if a.print_digests:
            print(f"manifest {sha256(m)}")
    if a.docker_archive:
        write_file(a.docker_archive, docker_archive_bytes([(img, a.repo_tag)]))
    if a.print_digests:
        print(f"config {img.config_digest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
