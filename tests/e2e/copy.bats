#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# docker cp, export and import (issue 6, items 3 and 4; TEST-PLAN C1, C2, C4, C5): through the
# real docker CLI, the berth CLI and curl. Every path is resolved inside the container's root:
# symlinks in the container that point at / or /etc stay inside, and the host is never touched.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

# host_marker: a file on the host whose content and checksum the tests compare before and after.
host_marker() {
    MARK_DIR="$T/host"
    mkdir -p "$MARK_DIR"
    echo "host secret" >"$MARK_DIR/secret"
    HOST_SUM="$(sha256sum /etc/passwd /etc/hostname "$MARK_DIR/secret" 2>/dev/null)"
}

assert_host_untouched() {
    assert_eq "$(sha256sum /etc/passwd /etc/hostname "$MARK_DIR/secret" 2>/dev/null)" "$HOST_SUM"
    [[ ! -e /pwned && ! -e /etc/pwned && ! -e /tmp/pwned ]] || fail "a file was written on the host"
}

# ---------------------------------------------------------------------------------------------

# cp_suite CLI: the cp flows of the first test with CLI (docker_t or berth_t).
cp_suite() {
    local cli="$1"
    # $2: the container name
    docker_t run -d --name "$2" busybox sh -c 'mkdir -p /d/sub; echo in-ctr >/d/sub/f; echo top >/d/t; sleep 300' >/dev/null
    wait_state "$2" running
    local src="$T/src"
    mkdir -p "$src/dir/inner"
    echo hello >"$src/file"
    echo deep >"$src/dir/inner/x"
    # a file into an existing directory, and under a new name
    "$cli" cp "$src/file" "$2":/tmp/
    "$cli" cp "$src/file" "$2":/tmp/renamed
    assert_eq "$(docker_t exec "$2" cat /tmp/file)" hello
    assert_eq "$(docker_t exec "$2" cat /tmp/renamed)" hello
    # a directory: as a new name, into an existing directory, and its content with /.
    "$cli" cp "$src/dir" "$2":/newdir
    assert_eq "$(docker_t exec "$2" cat /newdir/inner/x)" deep
    "$cli" cp "$src/dir" "$2":/tmp
    assert_eq "$(docker_t exec "$2" cat /tmp/dir/inner/x)" deep
    docker_t exec "$2" mkdir /into
    "$cli" cp "$src/dir/." "$2":/into
    assert_eq "$(docker_t exec "$2" cat /into/inner/x)" deep
    # out: a file, a directory, a directory's content
    local out="$T/out"
    mkdir -p "$out"
    "$cli" cp "$2":/d/t "$out/t"
    assert_eq "$(cat "$out/t")" top
    "$cli" cp "$2":/d "$out/"
    assert_eq "$(cat "$out/d/sub/f")" in-ctr
    mkdir "$out/content"
    "$cli" cp "$2":/d/. "$out/content"
    assert_eq "$(cat "$out/content/sub/f")" in-ctr
    [[ ! -e "$out/content/d" ]] || fail "/. copied the directory itself"
    "$cli" cp "$2":/d/ "$out/slash"
    assert_eq "$(cat "$out/slash/t")" top
    # missing paths
    run "$cli" cp "$2":/nonexistent "$out/x"
    assert_failed
    assert_contains "$output" "Could not find the file /nonexistent in container $2"
    run "$cli" cp "$src/file" "$2":/nonexistent/dir/
    assert_failed
    # a file as the extraction point of a directory
    run "$cli" cp "$src/dir" "$2":/d/t
    assert_failed
    assert_contains "$output" "cannot copy directory"
    # every root fd, pipe and thread of the copies is gone
    docker_t rm -f "$2" >/dev/null
    assert_fd_baseline
}

@test "cp into and out of a running container: files, directories, trailing / and /." {
    ctr_start
    cp_suite docker_t c1
}

@test "berth cp: the same flows, and - for a tar on stdin and stdout" {
    ctr_start
    cp_suite berth_t c2
    # - : the raw tar both ways
    docker_t run -d --name c2 busybox sh -c 'mkdir -p /d/sub; echo in-ctr >/d/sub/f; sleep 300' >/dev/null
    wait_state c2 running
    berth_t cp c2:/d - >"$T/d.tar"
    tar -tf "$T/d.tar" | grep -qx 'd/sub/f' || fail "berth cp to -: $(tar -tf "$T/d.tar")"
    docker_t cp c2:/d - | tar -tf - | grep -qx 'd/sub/f' || fail "docker cp to -"
    mkdir -p "$T/stdin/x"
    echo viastdin >"$T/stdin/x/y"
    tar -C "$T/stdin" -cf - x | berth_t cp - c2:/tmp
    assert_eq "$(docker_t exec c2 cat /tmp/x/y)" viastdin
    tar -C "$T/stdin" -cf - x | docker_t cp - c2:/
    assert_eq "$(docker_t exec c2 cat /x/y)" viastdin
    run berth_t cp "$T/stdin" "$T/other"
    assert_failed
    assert_contains "$output" "must specify at least one container source"
}

@test "cp into a created and a stopped container; start then sees it; start waits for the copy" {
    ctr_start
    echo made-before-start >"$T/f"
    docker_t create --name c1 busybox cat /etc/from-cp >/dev/null
    docker_t cp "$T/f" c1:/etc/from-cp
    docker_t start -a c1 >"$T/out1"
    assert_eq "$(cat "$T/out1")" made-before-start
    # stopped now: copy again (over the file), and out
    echo second >"$T/f"
    docker_t cp "$T/f" c1:/etc/from-cp
    docker_t cp c1:/etc/from-cp "$T/back"
    assert_eq "$(cat "$T/back")" second
    docker_t cp c1:/etc "$T/etc-out"
    [[ -f "$T/etc-out/passwd" ]] || fail "no passwd in the copied /etc"
    docker_t start -a c1 >"$T/out2"
    assert_eq "$(cat "$T/out2")" second
    # nothing of the copies stays mounted on the host
    run grep -c "$DATA/tmp" /proc/mounts
    assert_eq "$output" 0
    assert_eq "$(find "$DATA/tmp" -mindepth 1 | wc -l)" 0
    # HEAD stat of a stopped container: the header docker cp reads
    run curl_b -I "http://x/containers/c1/archive?path=/etc/from-cp"
    assert_contains "$output" "200"
    local stat
    stat="$(curl_b -I "http://x/containers/c1/archive?path=/etc/from-cp" | header X-Docker-Container-Path-Stat | base64 -d)"
    assert_eq "$(echo "$stat" | json_get 'j["name"], j["size"], j["mode"], j["linkTarget"]')" "('from-cp', 7, 420, '')"
    stat="$(curl_b -I "http://x/containers/c1/archive?path=/etc" | header X-Docker-Container-Path-Stat | base64 -d)"
    assert_eq "$(echo "$stat" | json_get 'j["mode"] & (1 << 31) != 0')" True
    assert_eq "$(http_status "http://x/containers/c1/archive?path=/nope" -I)" 404
    assert_eq "$(http_status "http://x/containers/nope/archive?path=/etc" -I)" 404
    # while a copy holds the stopped container's root, a start is refused (overlayfs must not
    # mount its upper dir twice); once the copy ends, the start works
    tar -C "$T" -cf "$T/slow.tar" f
    (sleep 2; cat "$T/slow.tar") | curl -sS --max-time 20 --unix-socket "$SOCK" -o "$T/slow.out" \
        -w '%{http_code}' -X PUT -H 'Content-Type: application/x-tar' -T - \
        "http://x/containers/c1/archive?path=/tmp" >"$T/slow.status" &
    local cpid=$!
    sleep 0.5
    run docker_t start c1
    assert_failed
    assert_contains "$output" "being copied"
    wait "$cpid"
    assert_eq "$(cat "$T/slow.status")" 200
    docker_t start -a c1 >/dev/null
    assert_eq "$(docker_t inspect -f '{{.State.ExitCode}}' c1)" 0
}

@test "symlinks in the container resolve inside it both ways (C2, C4)" {
    ctr_start
    host_marker
    docker_t run -d --name c1 busybox sh -c "ln -s /etc /cetc; ln -s / /root-link; ln -s /etc/passwd /plink; ln -s ../../../../../etc/passwd /tmp/rel; ln -s $MARK_DIR /hostdir; sleep 300" >/dev/null
    wait_state c1 running
    local ctr_passwd
    ctr_passwd="$(docker_t exec c1 cat /etc/passwd)"
    [[ "$ctr_passwd" != "$(cat /etc/passwd)" ]] || fail "the container's passwd equals the host's: no test"
    # out: through a directory link, and -L through absolute and relative links (C4)
    docker_t cp c1:/cetc/passwd "$T/p1"
    assert_eq "$(cat "$T/p1")" "$ctr_passwd"
    docker_t cp -L c1:/plink "$T/p2"
    assert_eq "$(cat "$T/p2")" "$ctr_passwd"
    docker_t cp -L c1:/tmp/rel "$T/p3"
    assert_eq "$(cat "$T/p3")" "$ctr_passwd"
    berth_t cp -L c1:/tmp/rel "$T/p3b"
    assert_eq "$(cat "$T/p3b")" "$ctr_passwd"
    berth_t cp c1:/cetc/passwd "$T/p1b"
    assert_eq "$(cat "$T/p1b")" "$ctr_passwd"
    # without -L the link itself
    docker_t cp c1:/plink "$T/p4"
    [[ -L "$T/p4" ]] || fail "cp without -L did not copy the link"
    assert_eq "$(readlink "$T/p4")" /etc/passwd
    # the stat's linkTarget is resolved inside the container
    local stat
    stat="$(curl_b -I "http://x/containers/c1/archive?path=/tmp/rel" | header X-Docker-Container-Path-Stat | base64 -d)"
    assert_eq "$(echo "$stat" | json_get 'j["linkTarget"]')" /etc/passwd
    # a host path the container names does not exist in it
    run docker_t cp c1:/hostdir/secret "$T/p5"
    assert_failed
    [[ ! -e "$T/p5" ]] || fail "host file copied out"
    # in: a destination whose parents are links to /etc and / (C2)
    echo planted >"$T/pwned"
    docker_t cp "$T/pwned" c1:/cetc/
    docker_t cp "$T/pwned" c1:/root-link/tmp/
    mkdir -p "$T/tree/a/b"
    echo t >"$T/tree/a/b/f"
    docker_t cp "$T/tree" c1:/root-link/etc/
    assert_eq "$(docker_t exec c1 cat /etc/pwned)" planted
    assert_eq "$(docker_t exec c1 cat /tmp/pwned)" planted
    assert_eq "$(docker_t exec c1 cat /etc/tree/a/b/f)" t
    echo berth-planted >"$T/bpwned"
    berth_t cp "$T/bpwned" c1:/cetc/
    assert_eq "$(docker_t exec c1 cat /etc/bpwned)" berth-planted
    run berth_t cp "$T/bpwned" c1:/hostdir/
    run docker_t cp "$T/pwned" c1:/hostdir/
    [[ ! -e "$MARK_DIR/pwned" && ! -e "$MARK_DIR/bpwned" ]] || fail "written through a link into the host"
    assert_host_untouched
    [[ ! -e /etc/tree ]] || fail "a tree was created in the host's /etc"
}

@test "the symlink-exchange race cannot reach the host (C1, CVE-2018-15664)" {
    ctr_start
    host_marker
    # /w flips between a directory and a link to / as fast as the container can
    docker_t run -d --name c1 busybox sh -c "mkdir -p /w$MARK_DIR; while :; do rm -rf /w; ln -s / /w; rm -f /w; mkdir -p /w$MARK_DIR; done" >/dev/null
    wait_state c1 running
    echo from-host >"$T/in"
    local i got=0
    for ((i = 0; i < 60; i++)); do
        if docker_t cp "c1:/w$MARK_DIR/secret" "$T/got" 2>/dev/null; then
            got=$((got + 1))
            [[ "$(cat "$T/got")" != "host secret" ]] || fail "host content copied out"
        fi
        docker_t cp "$T/in" "c1:/w$MARK_DIR/" 2>/dev/null || true
    done
    [[ ! -e "$MARK_DIR/in" ]] || fail "a file was written into the host"
    assert_host_untouched
}

# put_tar CTR PATH TARFILE: PUT the tar to the container's path with curl; prints the status.
put_tar() {
    curl_b -o "$T/put.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/x-tar' \
        --data-binary "@$3" "http://x/containers/$1/archive?path=$2&noOverwriteDirNonDir=true"
}

@test "a malicious tar sent to PUT archive stays inside the container (C5)" {
    ctr_start
    host_marker
    docker_t run -d --name c1 busybox sleep 300 >/dev/null
    wait_state c1 running
    "$PY" - "$T" <<'PY'
import io, sys, tarfile
t = sys.argv[1]
def tar(name, entries):
    with tarfile.open(f"{t}/{name}.tar", "w", format=tarfile.GNU_FORMAT) as tf:
        for kind, n, arg in entries:
            ti = tarfile.TarInfo(n)
            if kind == "file":
                ti.size = len(arg)
                tf.addfile(ti, io.BytesIO(arg))
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, arg
                tf.addfile(ti)
            elif kind == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
                tf.addfile(ti)
tar("dotdot", [("file", "ok", b"x"), ("file", "../../../../../tmp/pwned", b"x")])
tar("absolute", [("file", "/tmp/pwned", b"x")])
tar("symwrite", [("sym", "link", "/"), ("file", "link/tmp/pwned", b"x")])
tar("symrel", [("sym", "up", "../../../../../../tmp"), ("file", "up/pwned", b"x")])
tar("hardout", [("hard", "h", "/etc/passwd")])
tar("hardup", [("hard", "h", "../../../etc/passwd")])
# refused at its first entry, then 8 MB more: the answer still reaches the client
tar("bigbad", [("file", "../../x", b"x"), ("file", "big", bytes(8 << 20))])
PY
    docker_t exec c1 mkdir /tmp/dest
    local c
    for c in dotdot absolute symwrite symrel hardout hardup bigbad; do
        assert_eq "$c: $(put_tar c1 /tmp/dest "$T/$c.tar")" "$c: 400"
        assert_contains "$(cat "$T/put.out")" "invalid tar entry"
    done
    assert_host_untouched
    # nothing escaped into the container's own / either
    run docker_t exec c1 sh -c 'ls /tmp/pwned /pwned /etc/pwned /tmp/dest/up/pwned 2>/dev/null'
    assert_eq "$output" ""
    # the layer fixtures of issue 3 (L1-L11): refused or confined, never outside the root
    local tarf k st
    for k in $(evil_cases); do
        docker_t exec c1 mkdir -p "/tmp/evil-$k"
        for tarf in $(fixture_get "' '.join(j['evil']['$k']['tars'])"); do
            st="$(put_tar c1 "/tmp/evil-$k" "$FIXTURES/$tarf")"
            [[ "$st" == 200 || "$st" == 400 ]] || fail "$k: status $st: $(cat "$T/put.out")"
        done
        if [[ "$(fixture_get "j['evil']['$k']['expect']")" == refuse && "$k" != l9-* ]]; then
            assert_eq "$k $st" "$k 400"
        fi
    done
    run bash -c 'ls -d /tmp/berth-evil-* /etc/berth-evil-* /victim 2>/dev/null'
    assert_eq "$output" ""
    assert_host_untouched
    # a gzip body is accepted; a bzip2 one is refused without running any program
    "$PY" -c 'import io,sys,tarfile,gzip; b=io.BytesIO(); tf=tarfile.open(fileobj=b,mode="w"); ti=tarfile.TarInfo("gz-ok"); ti.size=2; tf.addfile(ti,io.BytesIO(b"hi")); tf.close(); open(sys.argv[1]+"/gz.tar.gz","wb").write(gzip.compress(b.getvalue()))' "$T"
    assert_eq "$(put_tar c1 /tmp "$T/gz.tar.gz")" 200
    assert_eq "$(docker_t exec c1 cat /tmp/gz-ok)" hi
    bzip2 -c "$T/gz.tar.gz" >"$T/x.bz2" 2>/dev/null || "$PY" -c 'import bz2,sys; open(sys.argv[1],"wb").write(bz2.compress(b"x"*100))' "$T/x.bz2"
    assert_eq "$(put_tar c1 /tmp "$T/x.bz2")" 400
}

@test "PUT archive: noOverwriteDirNonDir, not a directory, copyUIDGID (-a) and owners" {
    ctr_start
    docker_t run -d --name c1 --user 1234:2345 busybox sleep 300 >/dev/null
    wait_state c1 running
    docker_t exec -u 0 c1 sh -c 'mkdir -p /x/adir; echo f >/x/afile'
    "$PY" - "$T" <<'PY'
import io, sys, tarfile
t = sys.argv[1]
def tar(name, entries):
    with tarfile.open(f"{t}/{name}.tar", "w") as tf:
        for n, isdir in entries:
            ti = tarfile.TarInfo(n)
            ti.uid, ti.gid = 4242, 4343
            if isdir:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                ti.size = 1
                tf.addfile(ti, io.BytesIO(b"z"))
tar("file-over-dir", [("adir", False)])
tar("dir-over-file", [("afile", True)])
tar("owned", [("owned", False)])
PY
    assert_eq "$(put_tar c1 /x "$T/file-over-dir.tar")" 400
    assert_contains "$(cat "$T/put.out")" "cannot overwrite directory"
    assert_eq "$(put_tar c1 /x "$T/dir-over-file.tar")" 400
    assert_contains "$(cat "$T/put.out")" "cannot overwrite non-directory"
    assert_eq "$(put_tar c1 /x/afile "$T/owned.tar")" 400
    assert_contains "$(cat "$T/put.out")" "extraction point is not a directory"
    assert_eq "$(put_tar c1 /nope "$T/owned.tar")" 404
    # without copyUIDGID the tar's owners stay; with it, the container's user owns everything
    assert_eq "$(put_tar c1 /x "$T/owned.tar")" 200
    assert_eq "$(docker_t exec c1 stat -c %u:%g /x/owned)" 4242:4343
    assert_eq "$(curl_b -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$T/owned.tar" "http://x/containers/c1/archive?path=/x&copyUIDGID=1")" 200
    assert_eq "$(docker_t exec c1 stat -c %u:%g /x/owned)" 1234:2345
    # docker cp -a through the CLI
    echo a >"$T/byhost"
    chown 777:888 "$T/byhost"
    docker_t cp -a "$T/byhost" c1:/x/
    assert_eq "$(docker_t exec c1 stat -c %u:%g /x/byhost)" 1234:2345
    docker_t cp "$T/byhost" c1:/x/plain
    assert_eq "$(docker_t exec c1 stat -c %u:%g /x/plain)" 777:888
}

@test "PUT archive without noOverwriteDirNonDir (docker-py put_archive): each kind replaces the other" {
    ctr_start
    docker_t run -d --name c1 busybox sleep 300 >/dev/null
    wait_state c1 running
    # a tree to be replaced, with a symlink out of it that must not be followed, and a file
    docker_t exec c1 sh -c 'mkdir -p /x/adir/sub /keep; echo k >/keep/f; echo f >/x/adir/sub/f;
        ln -s /keep /x/adir/sub/link; echo f >/x/afile'
    run "$PY" - "$SOCK" <<'PY'
import io, sys, tarfile, docker
def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for n, isdir in entries:
            ti = tarfile.TarInfo(n)
            if isdir:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                data = ("new " + n + "\n").encode()
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()
c = docker.DockerClient(base_url="unix://" + sys.argv[1]).containers.get("c1")
print(c.put_archive("/x", tar([("adir", False), ("afile", True), ("afile/in", False)])))
PY
    assert_status 0
    assert_eq "$output" True
    assert_eq "$(docker_t exec c1 cat /x/adir)" "new adir"
    assert_eq "$(docker_t exec c1 cat /x/afile/in)" "new afile/in"
    # the symlink inside the replaced tree went; what it pointed at did not
    assert_eq "$(docker_t exec c1 cat /keep/f)" k
    docker_t rm -f c1 >/dev/null
    # a mount point inside the tree is not removed: a clear error, the bound files untouched
    mkdir -p "$T/vol"
    echo v >"$T/vol/v"
    docker_t run -d --name c2 -v "$T/vol:/y/d/m" busybox sleep 300 >/dev/null
    wait_state c2 running
    "$PY" - "$T" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1] + "/d.tar", "w") as tf:
    ti = tarfile.TarInfo("d")
    ti.size = 1
    tf.addfile(ti, io.BytesIO(b"z"))
PY
    run curl_b -o "$T/put.out" -w '%{http_code}' -X PUT --data-binary "@$T/d.tar" \
        "http://x/containers/c2/archive?path=/y"
    assert_eq "$output" 409
    assert_contains "$(cat "$T/put.out")" "mount point"
    assert_eq "$(cat "$T/vol/v")" v
    assert_eq "$(docker_t exec c2 cat /y/d/m/v)" v
}

@test "export then import round trip; export of a running container has no /proc content" {
    ctr_start
    docker_t run --name c1 busybox sh -c 'echo exported >/file; mkdir -p /d/e; echo deep >/d/e/f' >/dev/null
    docker_t export c1 >"$T/c1.tar"
    tar -tf "$T/c1.tar" >"$T/list"
    grep -qx 'file' "$T/list" || grep -qx './file' "$T/list" || fail "no /file in the export: $(head "$T/list")"
    grep -q 'bin/busybox' "$T/list" || fail "no bin/busybox in the export"
    # import from stdin with a tag, a message and changes
    run docker_t import -m "my message" -c 'ENV FOO=bar' -c 'CMD ["cat", "/file"]' - imp:x <"$T/c1.tar"
    assert_status 0
    assert_match "$output" '^sha256:[0-9a-f]{64}$'
    local id="$output"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' imp:x)" "$id"
    assert_eq "$(docker_t run --rm imp:x)" exported
    assert_eq "$(docker_t run --rm imp:x cat /d/e/f)" deep
    assert_eq "$(docker_t run --rm imp:x sh -c 'echo $FOO')" bar
    assert_eq "$(docker_t image inspect -f '{{.Os}}/{{.Architecture}} {{len .RootFS.Layers}} {{.Comment}}' imp:x)" "linux/$(docker_t version -f '{{.Server.Arch}}') 1 my message"
    run docker_t history --format '{{.Comment}}' imp:x
    assert_eq "$output" "my message"
    # the berth CLI: export -o, import of a file with a default message
    docker_t run -d --name c2 busybox sleep 300 >/dev/null
    wait_state c2 running
    berth_t export -o "$T/c2.tar" c2
    tar -tf "$T/c2.tar" >"$T/list2"
    grep -q 'bin/busybox' "$T/list2" || fail "berth export: no bin/busybox"
    # /proc, /sys and /dev of the running container are only their mount points
    run grep -E '^(\./)?(proc|sys)/.' "$T/list2"
    assert_eq "$output" ""
    run berth_t import "$T/c2.tar" imp:y
    assert_status 0
    assert_eq "$(docker_t run --rm imp:y cat /bin/busybox | sha256sum)" "$(docker_t run --rm busybox cat /bin/busybox | sha256sum)"
    assert_eq "$(docker_t image inspect -f '{{.Comment}}' imp:y)" "Imported from -"
    berth_t image import -m via-image-import - imp:z <"$T/c2.tar" >/dev/null
    assert_eq "$(docker_t image inspect -f '{{.Comment}}' imp:z)" via-image-import
    # not a tarball: refused, no image
    echo garbage >"$T/garbage"
    run docker_t import "$T/garbage" bad:x
    assert_failed
    run docker_t image inspect bad:x
    assert_failed
    # 8 MB that are no tarball: the error reaches the client (the body is read to its end)
    head -c 8000000 /dev/urandom >"$T/noise"
    run docker_t import "$T/noise" bad:z
    assert_failed
    assert_contains "$output" "Error response from daemon"
    # an unknown change is a 400 before anything is read
    run docker_t import -c 'FROM x' "$T/c1.tar" bad:y
    assert_failed
    assert_contains "$output" "FROM is not a valid change command"
    docker_t rm -f c1 c2 >/dev/null
    assert_fd_baseline
}

@test "import from a URL served on 127.0.0.1, and a URL that is not there" {
    ctr_start
    docker_t run --name c1 busybox sh -c 'echo from-url >/u' >/dev/null
    mkdir -p "$T/www"
    docker_t export c1 | gzip >"$T/www/rootfs.tar.gz"
    local port
    port="$(free_port)"
    aux_start "$PY" -m http.server --bind 127.0.0.1 --directory "$T/www" "$port"
    local i
    for ((i = 0; i < 50; i++)); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    run docker_t import "http://127.0.0.1:$port/rootfs.tar.gz" url:x
    assert_status 0
    assert_match "$output" 'sha256:[0-9a-f]{64}'
    assert_eq "$(docker_t run --rm url:x cat /u)" from-url
    assert_eq "$(docker_t image inspect -f '{{.Comment}}' url:x)" "Imported from http://127.0.0.1:$port/rootfs.tar.gz"
    run berth_t import -c 'WORKDIR /tmp' "http://127.0.0.1:$port/rootfs.tar.gz" url:y
    assert_status 0
    assert_eq "$(docker_t run --rm url:y pwd)" /tmp
    run docker_t import "http://127.0.0.1:$port/missing.tar" url:z
    assert_failed
    assert_contains "$output" "missing.tar"
    run docker_t image inspect url:z
    assert_failed
}
