#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# By hand, not from ctest: runs berth's registry client against Debian's real docker-registry.
#   apt-get install -y docker-registry skopeo
#   tests/unit/registry/live_registry.sh build/tests/test_registry_live
#
# Starts /usr/bin/docker-registry on 127.0.0.1:<free port> with filesystem storage in a temp
# dir, builds a tiny OCI layout with python3 (two platforms, one gzip layer each), pushes it
# with skopeo (single image and the whole index), then drives test_registry_live's
# test_real_registry case: resolve by tag, by digest, through the index for amd64 and arm64,
# fetch and verify config and layers; then tampers with a layer in the registry's storage and
# a manifest digest and expects the verification errors.
set -eu

bin=${1:?usage: live_registry.sh path/to/test_registry_live}
bin=$(readlink -f "$bin")
work=$(mktemp -d /tmp/berth-live-registry.XXXXXX)
regpid=
cleanup() {
    [ -n "$regpid" ] && kill "$regpid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: 127.0.0.1:$port
EOF
/usr/bin/docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
regpid=$!
for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
    sleep 0.1
done

# A two-platform OCI layout: index.json -> manifests (amd64, arm64) -> config + one layer.
python3 - "$work/layout" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
os.makedirs(root + "/blobs/sha256")
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open("%s/blobs/sha256/%s" % (root, d), "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
manifests = []
for arch in ("amd64", "arm64"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        payload = ("hello from %s\n" % arch).encode() * 2000
        info = tarfile.TarInfo("hello.txt"); info.size = len(payload); info.mtime = 0
        t.addfile(info, io.BytesIO(payload))
    tar = buf.getvalue()
    layer = gzip.compress(tar, mtime=0)
    cfg = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["sh"]},
                      "rootfs": {"type": "layers",
                                 "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}).encode()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": dict(blob(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
                      "layers": [dict(blob(layer), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode()
    manifests.append(dict(blob(man), mediaType="application/vnd.oci.image.manifest.v1+json",
                          platform={"os": "linux", "architecture": arch}))
open(root + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
       "manifests": [dict(manifests[0], annotations={"org.opencontainers.image.ref.name": "single"})]}
idx2 = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests}
multi = json.dumps(idx2).encode()
d = blob(multi)
idx["manifests"].append(dict(d, mediaType="application/vnd.oci.image.index.v1+json",
                             annotations={"org.opencontainers.image.ref.name": "multi"}))
open(root + "/index.json", "w").write(json.dumps(idx))
EOF

sk="skopeo --insecure-policy"
$sk copy -q --dest-tls-verify=false "oci:$work/layout:single" "docker://127.0.0.1:$port/t/x:1"
$sk copy -q --all --dest-tls-verify=false "oci:$work/layout:multi" "docker://127.0.0.1:$port/t/x:multi"
$sk copy -q --format v2s2 --dest-tls-verify=false "oci:$work/layout:single" \
    "docker://127.0.0.1:$port/t/docker:1"

run() {
    echo "== $*"
    env BERTH_TEST_REGISTRY=127.0.0.1:$port "$@" "$bin" 2>&1 | grep -E 'resolved|fetched|expected|OK|FAIL|ERROR|SKIP|error' | grep -v RUN
}
digest=$(skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$port/t/x:1" | sha256sum | cut -d' ' -f1)
run BERTH_TEST_REF=t/x:1
run BERTH_TEST_REF=t/docker:1
run BERTH_TEST_REF=t/x@sha256:$digest
run BERTH_TEST_REF=t/x:multi
run BERTH_TEST_REF=t/x:multi BERTH_TEST_ARCH=arm64
run BERTH_TEST_REF=t/x:multi BERTH_TEST_ARCH=s390x BERTH_TEST_EXPECT="no matching manifest for linux/s390x"
run BERTH_TEST_REF=t/x@sha256:0000000000000000000000000000000000000000000000000000000000000000 \
    BERTH_TEST_EXPECT="manifest unknown"

# D1: overwrite the amd64 layer's data in the registry's storage.
layer=$(skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$port/t/x:1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"][7:])')
data="$work/data/docker/registry/v2/blobs/sha256/$(echo "$layer" | cut -c1-2)/$layer/data"
python3 - "$data" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read()); b[100] ^= 1
open(p, "wb").write(bytes(b))
EOF
run BERTH_TEST_REF=t/x:1 BERTH_TEST_EXPECT="filesystem layer verification failed for digest"
echo "== done"
