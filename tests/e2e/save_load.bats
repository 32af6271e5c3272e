#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# docker save / docker load (issue 3, items 7 and 10): the fixture archive loads; berth's save
# output is read by docker load, skopeo's docker-archive: and oci-archive: transports and berth
# itself; bad archives are refused without leaving anything behind; a ~100 MB save streams
# with back-pressure (bounded daemon memory).

load helpers
load registry

registry_file_hooks --bench

setup() {
    berthd_dir
    BUSYBOX_TAR="$FIXTURES/busybox/busybox.tar"
    BUSYBOX_ID="$(fixture_get 'j["busybox"]["config"]')"
}

teardown() {
    if [[ -n "${TMPFS:-}" ]]; then
        umount -l "$TMPFS" || true
    fi
    berthd_teardown
}

# store_state: what the store holds on disk (images, layers, blobs, refs) and tmp/'s content.
store_state() {
    (cd "$DATA" && find images layers blobs tmp -mindepth 1 -maxdepth 2 | sort && { cat refs.json 2>/dev/null || true; })
}

# mkbad KIND OUT: a broken archive made from the busybox fixture (see the python below).
mkbad() {
    "$PY" - "$1" "$2" "$BUSYBOX_TAR" <<'EOF'
import io, json, sys, tarfile
kind, out, src = sys.argv[1], sys.argv[2], tarfile.open(sys.argv[3])
LAYER = "blobs/sha256/5e1befca91e523f4f16ca63cbf0d9c09aa078f0eb45d0519968b187b8d1ff275"
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
with tarfile.open(out, "w") as t:
    if kind == "dotdot":
        add(t, "../berth-evil-load", b"x")
    for ti in src.getmembers():
        f = src.extractfile(ti) if ti.isfile() else None
        if ti.name == LAYER and kind == "missing":
            continue
        if ti.name == LAYER and kind == "mismatch":
            data = bytearray(f.read()); data[700] ^= 1; f = io.BytesIO(bytes(data))
        t.addfile(ti, f)
EOF
}

@test "docker load of the fixture archive: Loaded image, id = the config digest" {
    berthd_start
    run docker_t load -i "$BUSYBOX_TAR"
    assert_status 0
    assert_eq "$output" "Loaded image: busybox:latest"
    assert_eq "$(docker_t images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}')" \
        "busybox:latest $BUSYBOX_ID"
    # the layer is stored uncompressed, as given, under its digest
    [[ -f "$DATA/blobs/sha256/$(fixture_get 'j["busybox"]["diff_ids"][0]' | cut -d: -f2)" ]]
    assert_eq "$(ls -A "$DATA/tmp")" ""
    # the raw API: chunked JSON lines; quiet gives the same line
    run curl_b -sS -X POST -H 'Content-Type: application/x-tar' -T "$BUSYBOX_TAR" \
        'http://x/images/load?quiet=0'
    assert_status 0
    assert_eq "$output" '{"stream":"Loaded image: busybox:latest\n"}'
}

@test "docker save: readable by skopeo (docker-archive and oci-archive) and by tar" {
    berthd_start
    docker_t load -i "$BUSYBOX_TAR"
    run docker_t save busybox -o "$T/x.tar"
    assert_status 0
    run skopeo inspect "docker-archive:$T/x.tar"
    assert_status 0
    assert_contains "$output" "$(fixture_get 'j["busybox"]["diff_ids"][0]')"
    run skopeo inspect "oci-archive:$T/x.tar"
    assert_status 0
    assert_contains "$output" "$(fixture_get 'j["busybox"]["diff_ids"][0]')"
    run skopeo copy "oci-archive:$T/x.tar" "oci:$T/layout:copy"
    assert_status 0
    # docker 25's layout, in a fixed order; same blobs and JSON as the fixture's
    run tar tf "$T/x.tar"
    assert_eq "$(head -n2 <<<"$output" | tr '\n' ' ')" "blobs/ blobs/sha256/ "
    assert_eq "$(tail -n4 <<<"$output" | tr '\n' ' ')" "index.json manifest.json oci-layout repositories "
    for f in manifest.json index.json repositories oci-layout; do
        assert_eq "$(tar xOf "$T/x.tar" "$f")" "$(tar xOf "$BUSYBOX_TAR" "$f")"
    done
    # deterministic: a second save is the same bytes
    docker_t save busybox >"$T/y.tar"
    cmp "$T/x.tar" "$T/y.tar"
    # by id: no RepoTags, no name annotation
    docker_t save "${BUSYBOX_ID:7:12}" -o "$T/id.tar"
    assert_eq "$(tar xOf "$T/id.tar" manifest.json | json_get 'j[0]["RepoTags"]')" "None"
}

@test "docker save of an unknown image: 404 No such image, nothing streamed" {
    berthd_start
    run docker_t save nosuch:thing -o "$T/n.tar"
    assert_failed
    assert_contains "$output" "No such image: nosuch:thing"
    [[ ! -e "$T/n.tar" ]]
    assert_eq "$(http_status 'http://x/images/get?names=busybox')" 404
    assert_eq "$(http_status 'http://x/images/nosuch/get')" 404
}

@test "save, rmi, load round-trips to the same id; save a b | load" {
    berthd_start
    docker_t load -i "$BUSYBOX_TAR"
    docker_t pull "$REG/test/hello"
    hello_id="$(docker_t image inspect -f '{{.Id}}' "$REG/test/hello")"
    docker_t save busybox "$REG/test/hello" -o "$T/x.tar"
    assert_eq "$(tar xOf "$T/x.tar" manifest.json | json_get 'len(j)')" 2
    docker_t rmi busybox "$REG/test/hello"
    assert_eq "$(docker_t images -q)" ""
    run docker_t load -i "$T/x.tar"
    assert_status 0
    assert_contains "$output" "Loaded image: busybox:latest"
    assert_contains "$output" "Loaded image: $REG/test/hello:latest"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' busybox)" "$BUSYBOX_ID"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$REG/test/hello")" "$hello_id"
    docker_t tag busybox mine:v1
    # a pipe: docker save a b | docker load; a repository name saves all of its tags
    docker_t tag busybox mine:v2
    run bash -c "timeout 60 docker -H unix://$SOCK save mine $REG/test/hello | timeout 60 docker -H unix://$SOCK load"
    assert_status 0
    assert_contains "$output" "Loaded image: mine:v1"
    assert_contains "$output" "Loaded image: mine:v2"
    assert_contains "$output" "Loaded image: $REG/test/hello:latest"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' mine:v2)" "$BUSYBOX_ID"
    assert_eq "$(ls -A "$DATA/tmp")" ""
}

@test "berth save -o / berth load -i round trip" {
    berthd_start
    berth_t load -i "$BUSYBOX_TAR"
    run berth_t save -o "$T/b.tar" busybox
    assert_status 0
    run skopeo inspect "docker-archive:$T/b.tar"
    assert_status 0
    berth_t rmi busybox
    run berth_t load -i "$T/b.tar"
    assert_status 0
    assert_contains "$output" "Loaded image: busybox:latest"
    assert_eq "$(berth_t images -q --no-trunc)" "$BUSYBOX_ID"
}

@test "docker load of an OCI archive (no manifest.json) with gzip layers" {
    berthd_start
    skopeo copy "oci:$FIXTURES/oci/hello:latest" "oci-archive:$T/h.tar:oci/hello:v1" >/dev/null
    run docker_t load -i "$T/h.tar"
    assert_status 0
    assert_eq "$output" "Loaded image: oci/hello:v1"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' oci/hello:v1)" \
        "$(fixture_get 'j["hello"]["config"]')"
    # and a gzip'd docker archive
    gzip -c "$BUSYBOX_TAR" >"$T/bb.tar.gz"
    run docker_t load -i "$T/bb.tar.gz"
    assert_status 0
    assert_eq "$output" "Loaded image: busybox:latest"
}

@test "docker load refuses garbage, ../ names, a missing layer and a wrong layer digest" {
    berthd_start
    before="$(store_state)"
    head -c 100000 /dev/urandom >"$T/garbage"
    bzip2 -c "$BUSYBOX_TAR" >"$T/bb.tar.bz2"
    mkbad dotdot "$T/dotdot.tar"
    mkbad missing "$T/missing.tar"
    mkbad mismatch "$T/mismatch.tar"
    declare -A want=(
        [garbage]="invalid archive: read archive: Unrecognized archive format"
        [bb.tar.bz2]="invalid archive: read archive"
        [dotdot.tar]='invalid archive: entry "../berth-evil-load": ".." component'
        [missing.tar]="invalid archive: \"blobs/sha256/5e1befca91e523f4f16ca63cbf0d9c09aa078f0eb45d0519968b187b8d1ff275\" is not in the archive"
        [mismatch.tar]="its content hashes to sha256:"
    )
    for f in garbage bb.tar.bz2 dotdot.tar missing.tar mismatch.tar; do
        run docker_t load -i "$T/$f"
        assert_failed
        assert_contains "$output" "${want[$f]}"
        assert_eq "$(http_status "http://x/images/load" -X POST -T "$T/$f")" 400
        assert_eq "$(store_state)" "$before"
    done
    [[ ! -e "$DATA/berth-evil-load" && ! -e "$DATA/tmp/berth-evil-load" ]]
    assert_eq "$(curl_b http://x/_ping)" OK
    assert_eq "$(docker_t images -q)" ""
}

@test "docker load: a compressed layer with the wrong content is refused and rolled back" {
    berthd_start
    "$PY" - "$BUSYBOX_TAR" "$T/gzbad.tar" <<'EOF'
import gzip, io, json, sys, tarfile
src = tarfile.open(sys.argv[1])
m = json.loads(src.extractfile("manifest.json").read())
layer = bytearray(src.extractfile(m[0]["Layers"][0]).read())
layer[5000] ^= 1  # file content, not a header: the tar stays valid, its digest changes
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
with tarfile.open(sys.argv[2], "w") as t:
    add(t, "c.json", src.extractfile(m[0]["Config"]).read())
    add(t, "l/layer.tar", gzip.compress(bytes(layer), mtime=0))
    add(t, "manifest.json", json.dumps([{"Config": "c.json", "RepoTags": ["gz:bad"],
                                         "Layers": ["l/layer.tar"]}]).encode())
EOF
    before="$(store_state)"
    run docker_t load -i "$T/gzbad.tar"
    assert_failed
    assert_contains "$output" "verification failed"
    assert_eq "$(store_state)" "$before"
    # the same with the layer already stored: still verified, still refused
    docker_t load -i "$BUSYBOX_TAR"
    before="$(store_state)"
    run docker_t load -i "$T/gzbad.tar"
    assert_failed
    assert_contains "$output" "its content hashes to"
    assert_eq "$(store_state)" "$before"
}

@test "docker load: a body larger than the free space is refused with 413" {
    berthd_dir
    mkdir -p "$DATA"
    mount -t tmpfs -o size=8m tmpfs "$DATA"
    TMPFS="$DATA"
    berthd_start
    run curl_b -sS -o /dev/null -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' \
        --data-binary @<(head -c 20000000 /dev/zero) 'http://x/images/load'
    assert_eq "$output" 413
    assert_eq "$(ls -A "$DATA/tmp")" ""
    run docker_t load -i "$BUSYBOX_TAR"
    assert_status 0
}

# hwm_mib PID: the peak resident set (VmHWM) of PID in MiB.
hwm_mib() {
    awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"
}

@test "saving a ~100 MB image to a slow reader keeps berthd's memory bounded" {
    # Under ASan, freed chunks sit in its quarantine and would count as growth.
    export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=1"
    berthd_start
    docker_t pull "$REG/test/bench" >/dev/null
    echo 5 >"/proc/$BERTHD_PID/clear_refs" # resets VmHWM to the current RSS
    base="$(hwm_mib "$BERTHD_PID")"
    run "$PY" - "$SOCK" "$REG/test/bench:latest" "$T/bench.tar" <<'EOF'
import socket, sys, time, urllib.parse
sock, name, out = sys.argv[1:]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
s.sendall(b"GET /images/get?names=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          % urllib.parse.quote(name).encode())
time.sleep(3)  # a stalled client: without back-pressure the whole image would queue up
with open(out, "wb") as f:
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        f.write(b)
        if b.endswith(b"\r\n0\r\n\r\n"):
            break
EOF
    assert_status 0
    peak="$(hwm_mib "$BERTHD_PID")"
    echo "berthd VmHWM: $base MiB before, $peak MiB during the save" >&3
    ((peak - base < 32)) || fail "berthd grew by $((peak - base)) MiB while saving"
    # the stream is complete: all three layers, uncompressed
    docker_t save "$REG/test/bench" -o "$T/b.tar"
    run skopeo inspect "docker-archive:$T/b.tar"
    assert_status 0
    for d in $(fixture_get '" ".join(j["bench"]["diff_ids"])'); do
        assert_contains "$output" "$d"
    done
    assert_eq "$(ls -A "$DATA/tmp")" ""
}

@test "a save whose client goes away mid-stream ends cleanly" {
    berthd_start
    docker_t pull "$REG/test/bench" >/dev/null
    for n in 1000 3000000 40000000; do
        timeout 20 curl -sS --unix-socket "$SOCK" "http://x/images/get?names=$REG/test/bench" |
            head -c "$n" >/dev/null || true
    done
    sleep 1
    assert_eq "$(curl_b http://x/_ping)" OK
    assert_eq "$(ls -A "$DATA/tmp")" ""
    # layers stay usable afterwards
    docker_t save "$REG/test/bench" >/dev/null
    docker_t rmi "$REG/test/bench"
}
