#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016 # single-quoted container commands
# docker run -v /host/path:/container/path[:opts] (HostConfig.Binds), --mount type=bind|tmpfs
# (HostConfig.Mounts) and --tmpfs (HostConfig.Tmpfs), through the real docker CLI, the berth CLI
# and curl: read-write and read-only binds of directories and files, a missing source created
# (-v) or refused (--mount), tmpfs sizes and flags, inspect's Mounts, docker's refusals, and
# (TEST-PLAN R16) a bind whose destination is a symlink in the image lands inside the
# container's root, never on the host.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

@test "-v: a host directory read-write, a file read-only; inspect Mounts; exec sees them" {
    ctr_start
    mkdir -p "$T/data"
    echo "from host" >"$T/data/in"
    echo "motd" >"$T/motd"
    docker_t run -d --name b1 -v "$T/data:/data" -v "$T/motd:/etc/motd:ro" busybox sleep 300 \
        >/dev/null
    wait_state b1 running
    assert_eq "$(docker_t exec b1 cat /data/in)" "from host"
    assert_eq "$(docker_t exec b1 cat /etc/motd)" motd
    docker_t exec b1 sh -c 'echo "from container" >/data/out'
    assert_eq "$(cat "$T/data/out")" "from container"
    run docker_t exec b1 sh -c 'echo x >/etc/motd'
    assert_failed
    assert_contains "$output" "Read-only file system"
    assert_eq "$(cat "$T/motd")" motd
    run docker_t inspect -f '{{json .Mounts}}' b1
    assert_status 0
    "$PY" - "$output" "$T" <<'PY'
import json, sys
m = sorted(json.loads(sys.argv[1]), key=lambda x: x["Destination"])
t = sys.argv[2]
assert m == [
    {"Type": "bind", "Source": t + "/data", "Destination": "/data", "Mode": "",
     "RW": True, "Propagation": "rprivate"},
    {"Type": "bind", "Source": t + "/motd", "Destination": "/etc/motd", "Mode": "ro",
     "RW": False, "Propagation": "rprivate"},
], m
PY
    # docker ps shows the binds too
    # (the docker CLI sends -v in no fixed order)
    assert_eq "$(docker_t ps --no-trunc --filter name=b1 --format '{{.Mounts}}' | tr ',' '\n' |
        sort | paste -sd,)" "$T/data,$T/motd"
    # the bind is not in the container's layer: commit leaves it out
    docker_t commit b1 bimg:1 >/dev/null
    run docker_t run --rm bimg:1 ls /data
    assert_eq "$output" ""
    docker_t rm -f b1 >/dev/null
    # nothing is left mounted on the host side
    run grep -F "$T/data" /proc/self/mountinfo
    assert_failed
    assert_eq "$(cat "$T/data/in")" "from host"
}

@test "-v: a missing source is created as a directory; nested binds go parent first; berth run -v" {
    ctr_start
    mkdir -p "$T/outer" "$T/inner"
    echo inner >"$T/inner/f"
    # given child first: the parent is still mounted first, so both are visible
    docker_t run --rm -v "$T/inner:/o/i:ro" -v "$T/outer:/o" -v "$T/new/dir:/n" busybox \
        sh -c 'cat /o/i/f; touch /n/made; ls /o' >"$T/out"
    assert_eq "$(head -n1 "$T/out")" inner
    [[ -d "$T/new/dir" ]] || fail "the missing source was not created"
    [[ -e "$T/new/dir/made" ]] || fail "the created source is not the one bound"
    [[ -d "$T/outer/i" ]] || fail "the mount point for the inner bind was not made in the outer"
    # the berth CLI sends the same binds
    run "$BERTH" -H "unix://$SOCK" run --rm -v "$T/inner:/x:ro" busybox cat /x/f
    assert_status 0
    assert_eq "$output" inner
    run "$BERTH" -H "unix://$SOCK" run --rm -v "$T/inner:/x:ro" busybox touch /x/g
    assert_failed
    [[ ! -e "$T/inner/g" ]] || fail "a read-only bind was written"
}

@test "R16: a bind onto an image symlink lands inside the container's root, never on the host" {
    ctr_start
    local sum
    sum="$(sha256sum /etc/passwd /etc/hostname)"
    # an image whose /target -> /etc and /up -> ../../..
    docker_t run --name mk busybox sh -c 'ln -s /etc /target; ln -s ../../.. /up' >/dev/null
    docker_t commit mk symimg:1 >/dev/null
    docker_t rm mk >/dev/null
    mkdir -p "$T/h"
    echo bound >"$T/h/marker"
    run docker_t run --rm -v "$T/h:/target" symimg:1 sh -c \
        'cat /etc/marker; test ! -e /etc/passwd && echo hidden'
    assert_status 0
    assert_eq "$output" $'bound\nhidden'
    run docker_t run --rm -v "$T/h:/up/etc" symimg:1 sh -c 'cat /etc/marker'
    assert_status 0
    assert_eq "$output" bound
    # the host's /etc is untouched and nothing is mounted on it
    assert_eq "$(sha256sum /etc/passwd /etc/hostname)" "$sum"
    run grep -E ' /etc ' /proc/self/mountinfo
    assert_failed
}

@test "-v refusals: docker's messages, exit 125, and no container left" {
    ctr_start
    local spec
    run docker -H "unix://$SOCK" run --rm -v "$T:/" busybox true
    assert_status 125
    assert_contains "$output" "destination can't be '/'"
    run docker -H "unix://$SOCK" run --rm -v "$T:/proc/sys" busybox true
    assert_status 125
    assert_contains "$output" "/proc/sys cannot be mounted over"
    run docker -H "unix://$SOCK" run --rm -v "$T:/a" -v "$T/x:/a" busybox true
    assert_status 125
    assert_contains "$output" "Duplicate mount point: /a"
    run docker -H "unix://$SOCK" run --rm -v 'bad/name:/data' busybox true
    assert_status 125
    assert_contains "$output" "includes invalid characters for a local volume name"
    run docker -H "unix://$SOCK" run --rm -v "$T:/a:bogus" busybox true
    assert_status 125
    assert_contains "$output" "invalid mode: bogus"
    run docker -H "unix://$SOCK" run --rm --tmpfs "/t:size=1m,bogus" busybox true
    assert_status 125
    assert_contains "$output" 'invalid tmpfs option "bogus"'
    run docker -H "unix://$SOCK" run --rm -v "$T:/t" --tmpfs /t busybox true
    assert_status 125
    assert_contains "$output" "Duplicate mount point: /t"
    # through the API: a relative destination
    spec="$("$PY" -c 'import json,sys; print(json.dumps({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Binds": [sys.argv[1] + ":rel"]}}))' "$T")"
    run curl_b -o "$T/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -d "$spec" "http://x/containers/create"
    assert_eq "$output" 400
    assert_contains "$(cat "$T/out")" "mount path must be absolute"
    assert_eq "$(docker_t ps -aq | wc -l)" 0
    assert_eq "$(docker_t volume ls -q | wc -l)" 0
}

@test "--mount type=bind and type=tmpfs, --tmpfs: read-only, sizes, docker's flags, inspect" {
    ctr_start
    mkdir -p "$T/m"
    echo m >"$T/m/f"
    docker_t run -d --name mt1 --mount "type=bind,src=$T/m,dst=/m,readonly" \
        --mount "type=tmpfs,dst=/scratch,tmpfs-size=1048576" --tmpfs "/run/x:size=2m,exec" \
        busybox sleep 300 >/dev/null
    wait_state mt1 running
    assert_eq "$(docker_t exec mt1 cat /m/f)" m
    run docker_t exec mt1 touch /m/g
    assert_failed
    # the tmpfs mounts with docker's defaults (noexec, nosuid, nodev) unless told otherwise
    run docker_t exec mt1 grep -E ' /(scratch|run/x) ' /proc/self/mounts
    assert_status 0
    assert_match "$(grep ' /scratch ' <<<"$output")" "tmpfs rw,nosuid,nodev,noexec,.*size=1024k"
    assert_match "$(grep ' /run/x ' <<<"$output")" "tmpfs rw,nosuid,nodev,.*size=2048k"
    [[ "$(grep ' /run/x ' <<<"$output")" != *noexec* ]] || fail "exec was asked for /run/x"
    # a tmpfs is the container's own and goes with it
    docker_t exec mt1 sh -c 'echo t >/scratch/t'
    assert_eq "$(docker_t exec mt1 cat /scratch/t)" t
    run docker_t inspect -f '{{json .Mounts}}' mt1
    "$PY" - "$output" "$T" <<'PY'
import json, sys
m = sorted(json.loads(sys.argv[1]), key=lambda x: x["Destination"])
t = sys.argv[2]
assert m == [
    {"Type": "bind", "Source": t + "/m", "Destination": "/m", "Mode": "", "RW": False,
     "Propagation": "rprivate"},
    {"Type": "tmpfs", "Source": "", "Destination": "/scratch", "Mode": "", "RW": True,
     "Propagation": ""},
], m
PY
    assert_eq "$(docker_t inspect -f '{{json .HostConfig.Tmpfs}}' mt1)" '{"/run/x":"size=2m,exec"}'
    # kept across a daemon restart: a stopped container starts with the same mounts
    docker_t stop -t 1 mt1 >/dev/null
    berthd_stop
    berthd_start
    docker_t start mt1 >/dev/null
    assert_eq "$(docker_t exec mt1 cat /m/f)" m
    run docker_t exec mt1 grep -c ' /scratch tmpfs ' /proc/self/mounts
    assert_eq "$output" 1
    docker_t rm -f mt1 >/dev/null
    # the berth CLI sends the same Mounts and Tmpfs
    run "$BERTH" -H "unix://$SOCK" run --rm --mount "type=bind,source=$T/m,target=/m,readonly" \
        --mount type=tmpfs,dst=/s,tmpfs-size=1m,tmpfs-mode=700 --tmpfs /t:size=2m busybox \
        sh -c 'cat /m/f; touch /m/g 2>/dev/null || echo ro; stat -c %a /s; grep -c " /t tmpfs " /proc/self/mounts'
    assert_status 0
    assert_eq "$output" $'m\nro\n700\n1'
    run "$BERTH" -H "unix://$SOCK" run --rm --mount "type=bind,bogus=1" busybox true
    assert_status 125
    assert_contains "$output" "invalid field 'bogus'"
    # --mount never creates a missing source, as docker
    run docker -H "unix://$SOCK" run --rm --mount "type=bind,src=$T/nope,dst=/n" busybox true
    assert_status 125
    assert_contains "$output" "bind source path does not exist: $T/nope"
    [[ ! -e "$T/nope" ]] || fail "--mount created its source"
}
