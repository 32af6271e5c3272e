#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016 # single-quoted container commands
# Volumes of the local driver through the real docker CLI and curl: docker volume create, ls,
# inspect, rm, prune; named volumes made on first use by -v and --mount, shared and kept;
# docker's copy of the image's content into a new volume (and nocopy); anonymous volumes for
# -v /path, the image's VOLUME and --mount type=volume, removed by rm -v and --rm; in-use
# refusals, events, and a daemon restart.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

@test "docker volume create, ls, inspect, rm: docker's shapes, errors and events" {
    ctr_start
    local t0
    t0="$(date +%s.%N)"
    assert_eq "$(docker_t volume create --label tier=db v1)" v1
    run docker_t volume inspect v1
    assert_status 0
    "$PY" - "$output" "$DATA" <<'PY'
import json, sys
v = json.loads(sys.argv[1])
assert len(v) == 1, v
v = v[0]
assert v["Name"] == "v1" and v["Driver"] == "local" and v["Scope"] == "local", v
assert v["Labels"] == {"tier": "db"}, v
assert v["Mountpoint"] == sys.argv[2] + "/volumes/v1/_data", v
assert v["CreatedAt"].endswith("Z") and "T" in v["CreatedAt"], v
PY
    [[ -d "$DATA/volumes/v1/_data" ]] || fail "no directory for v1"
    # creating it again returns it, as dockerd
    assert_eq "$(docker_t volume create v1)" v1
    docker_t volume create v2 >/dev/null
    assert_eq "$(docker_t volume ls -q | sort | paste -sd,)" "v1,v2"
    assert_eq "$(docker_t volume ls -q --filter label=tier=db)" v1
    assert_eq "$(docker_t volume ls -q --filter name=2)" v2
    assert_eq "$(docker_t volume ls --format '{{.Driver}} {{.Name}}' --filter dangling=true | sort | paste -sd,)" \
        "local v1,local v2"
    run docker -H "unix://$SOCK" volume ls --filter bogus=1
    assert_failed
    assert_contains "$output" "invalid filter 'bogus'"
    # a name docker refuses, and a driver berth does not have
    run docker -H "unix://$SOCK" volume create 'bad/name'
    assert_failed
    assert_contains "$output" "includes invalid characters for a local volume name"
    run docker -H "unix://$SOCK" volume create -d nfs v3
    assert_failed
    assert_contains "$output" 'volume driver "nfs" is not supported'
    docker_t volume rm v2 >/dev/null
    [[ ! -e "$DATA/volumes/v2" ]] || fail "v2's directory is left"
    run docker -H "unix://$SOCK" volume inspect v2
    assert_status 1
    assert_contains "$output" "get v2: no such volume"
    run docker -H "unix://$SOCK" volume rm v2
    assert_status 1
    assert_contains "$output" "no such volume"
    assert_eq "$(curl_b -o /dev/null -w '%{http_code}' -X DELETE 'http://x/volumes/v2?force=1')" 204
    local until=$(($(date +%s) + 1))
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter type=volume --format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}'
    assert_eq "$output" $'create v1 local\ncreate v2 local\ndestroy v2 local'
}

@test "-v NAME:/path: made on first use, shared, kept; copied from the image unless nocopy; in use" {
    ctr_start
    docker_t run --rm -v data:/data busybox sh -c 'echo kept >/data/f'
    assert_eq "$(docker_t volume ls -q)" data
    assert_eq "$(docker_t run --rm -v data:/data:ro busybox cat /data/f)" kept
    run docker_t run --rm -v data:/data:ro busybox touch /data/g
    assert_failed
    # a new volume gets what the image has there: content, owner and mode (docker's copy)
    run docker_t run --rm -v etcvol:/etc busybox sh -c 'ls /etc | grep -c passwd'
    assert_eq "$output" 1
    [[ -f "$DATA/volumes/etcvol/_data/passwd" ]] || fail "the image's /etc was not copied"
    assert_eq "$(docker_t run --rm -v tmpvol:/tmp busybox stat -c %a /tmp)" 1777
    assert_eq "$(stat -c %a "$DATA/volumes/tmpvol/_data")" 1777
    # ... but not into a volume that already has content, nor with nocopy
    assert_eq "$(docker_t run --rm -v data:/etc busybox ls /etc)" f
    assert_eq "$(docker_t run --rm -v nocp:/etc:nocopy busybox ls /etc | wc -l)" 0
    # --mount type=volume names one too
    assert_eq "$(docker_t run --rm --mount type=volume,src=data,dst=/d,readonly busybox cat /d/f)" kept
    # in use: not removed, not pruned; inspect shows it
    docker_t run -d --name u1 -v data:/data busybox sleep 300 >/dev/null
    local id
    id="$(docker_t inspect -f '{{.Id}}' u1)"
    run docker -H "unix://$SOCK" volume rm data
    assert_status 1
    assert_contains "$output" "remove data: volume is in use - [$id]"
    docker_t volume prune -af >/dev/null
    assert_contains "$(docker_t volume ls -q)" data
    run docker_t inspect -f '{{json .Mounts}}' u1
    "$PY" - "$output" "$DATA" <<'PY'
import json, sys
m = json.loads(sys.argv[1])
assert m == [{"Type": "volume", "Name": "data", "Source": sys.argv[2] + "/volumes/data/_data",
              "Destination": "/data", "Driver": "local", "Mode": "z", "RW": True,
              "Propagation": ""}], m
PY
    assert_eq "$(docker_t ps --filter name=u1 --format '{{.Mounts}}')" data
    # ps --filter volume= by name or by where it lands
    docker_t run -d --name u2 busybox sleep 300 >/dev/null
    assert_eq "$(docker_t ps -q --filter volume=data | wc -l)" 1
    assert_eq "$(docker_t ps --filter volume=/data --format '{{.Names}}')" u1
    assert_eq "$(docker_t ps -q --filter volume=nope | wc -l)" 0
    docker_t rm -f u2 >/dev/null
    # kept across a daemon restart, content and all
    docker_t rm -f u1 >/dev/null
    berthd_stop
    berthd_start
    assert_contains "$(docker_t volume ls -q)" data
    assert_eq "$(docker_t run --rm -v data:/data busybox cat /data/f)" kept
}

@test "anonymous volumes: -v /path, the image's VOLUME, --mount type=volume; rm -v, --rm, prune" {
    ctr_start
    # an image with a VOLUME (made by commit --change)
    docker_t run --name mk busybox sh -c 'mkdir -p /state; echo seed >/state/s' >/dev/null
    docker_t commit --change 'VOLUME /state' mk volimg:1 >/dev/null
    docker_t rm mk >/dev/null
    docker_t run -d --name a1 -v /anon volimg:1 sleep 300 >/dev/null
    run docker_t inspect -f '{{json .Mounts}}' a1
    "$PY" - "$output" <<'PY'
import json, re, sys
m = sorted(json.loads(sys.argv[1]), key=lambda x: x["Destination"])
assert [x["Destination"] for x in m] == ["/anon", "/state"], m
for x in m:
    assert x["Type"] == "volume" and re.fullmatch("[0-9a-f]{64}", x["Name"]), x
    assert x["Mode"] == "" and x["RW"] is True and x["Driver"] == "local", x
PY
    # the image's content was copied into its VOLUME's new volume
    assert_eq "$(docker_t exec a1 cat /state/s)" seed
    assert_eq "$(docker_t volume ls -q | wc -l)" 2
    assert_eq "$(docker_t volume ls -q --filter label=com.docker.volume.anonymous | wc -l)" 2
    # rm without -v keeps them; prune (anonymous only) takes them; named ones stay
    docker_t volume create named >/dev/null
    docker_t rm -f a1 >/dev/null
    assert_eq "$(docker_t volume ls -q | wc -l)" 3
    run docker_t volume prune -f
    assert_status 0
    assert_contains "$output" "Deleted Volumes:"
    assert_eq "$(docker_t volume ls -q)" named
    # rm -v and --rm take the anonymous ones, never a named one
    docker_t run -d --name a2 -v /anon -v named:/n --mount type=volume,dst=/m busybox sleep 300 \
        >/dev/null
    assert_eq "$(docker_t volume ls -q | wc -l)" 3
    docker_t rm -fv a2 >/dev/null
    assert_eq "$(docker_t volume ls -q)" named
    docker_t run --rm -v /anon busybox true
    assert_eq "$(docker_t volume ls -q)" named
    # prune -a takes unused named ones too
    docker_t volume prune -af >/dev/null
    assert_eq "$(docker_t volume ls -q | wc -l)" 0
    [[ -z "$(ls "$DATA/volumes")" ]] || fail "volume directories left: $(ls "$DATA/volumes")"
}

@test "R15: an image VOLUME that climbs out of the root stays inside it; none lands on the root" {
    ctr_start
    local sum
    sum="$(sha256sum /etc/passwd /etc/hostname)"
    docker_t run --name mk busybox ln -s / /link >/dev/null
    docker_t commit --change 'VOLUME /../../../../etc' mk trav:1 >/dev/null
    docker_t commit --change 'VOLUME /x/../../..' mk trav:2 >/dev/null
    docker_t rm mk >/dev/null
    # a VOLUME that is the root itself is refused; so is a mount an image symlink sends there
    run docker -H "unix://$SOCK" run --rm trav:2 true
    assert_status 125
    assert_contains "$output" "invalid volume /x/../../..: it is the root"
    mkdir -p "$T/h"
    run docker -H "unix://$SOCK" run --rm -v "$T/h:/link" trav:1 true
    assert_status 125
    assert_contains "$output" "/link resolves to the container's root"
    docker_t run -d --name tr trav:1 sleep 300 >/dev/null
    # the container's own /etc (busybox's passwd), copied into its volume, not the host's
    assert_eq "$(docker_t exec tr head -n1 /etc/passwd)" \
        "$(docker_t run --rm busybox head -n1 /etc/passwd)"
    local v n=0
    for v in $(docker_t volume ls -q); do
        if [[ -f "$DATA/volumes/$v/_data/passwd" ]]; then
            n=$((n + 1))
            cmp -s "$DATA/volumes/$v/_data/passwd" /etc/passwd &&
                fail "the host's /etc/passwd was copied into volume $v"
        fi
    done
    ((n >= 1)) || fail "no volume got the container's /etc"
    docker_t rm -fv tr >/dev/null
    assert_eq "$(sha256sum /etc/passwd /etc/hostname)" "$sum"
}

