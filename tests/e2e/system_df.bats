#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# docker system df (GET /system/df) and docker system prune (containers, networks, images and
# the build cache berth does not have) through the real docker CLI and curl.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

@test "docker system df: counts, active ones and sizes of images, containers and volumes" {
    ctr_start
    docker_t run -d --name d1 -v dfvol:/v busybox sh -c \
        'head -c 100000 /dev/zero >/big; head -c 50000 /dev/zero >/v/half; sleep 300' >/dev/null
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -f "$DATA/volumes/dfvol/_data/half" ]] && break
        sleep 0.1
    done
    sleep 0.3
    run docker_t system df --format '{{.Type}}|{{.TotalCount}}|{{.Active}}'
    assert_status 0
    assert_eq "$output" "Images|1|1
Containers|1|1
Local Volumes|1|1
Build Cache|0|0"
    run curl_b http://x/system/df
    assert_status 0
    "$PY" - "$output" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["LayersSize"] > 0, d
assert d["BuildCache"] == [], d
(img,) = d["Images"]
assert img["Containers"] == 1 and img["Size"] > 0 and img["SharedSize"] == 0, img
(c,) = d["Containers"]
assert c["Names"] == ["/d1"] and c["State"] == "running", c
assert c["SizeRw"] >= 100000 and c["SizeRootFs"] == c["SizeRw"] + img["Size"], c
(v,) = d["Volumes"]
assert v["Name"] == "dfvol" and v["UsageData"] == {"Size": 50000, "RefCount": 1}, v
PY
    # the table docker prints has its four rows
    run docker_t system df
    assert_status 0
    assert_match "$(sed -n 1p <<<"$output")" "^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE"
    assert_eq "$(wc -l <<<"$output")" 5
}

@test "docker system prune: stopped containers, unused networks and images, and the volumes" {
    ctr_start
    docker_t run --name gone busybox true >/dev/null
    docker_t run -d --name live busybox sleep 300 >/dev/null
    docker_t network create prunenet >/dev/null
    docker_t tag busybox busy:2
    docker_t commit gone other:1 >/dev/null
    docker_t run --name anon -v /anon busybox true >/dev/null
    run docker_t system prune -f
    assert_status 0
    assert_contains "$output" "Deleted Containers:"
    assert_eq "$(docker_t ps -a --format '{{.Names}}')" live
    run docker_t network ls -q --filter name=prunenet
    assert_eq "$output" ""
    # an unused image goes with -a; the one the live container uses stays, with all its tags;
    # --volumes takes the anonymous volume left by the removed container
    assert_eq "$(docker_t volume ls -q | wc -l)" 1
    run docker_t system prune -af --volumes
    assert_status 0
    assert_eq "$(docker_t volume ls -q | wc -l)" 0
    assert_eq "$(docker_t images --format '{{.Repository}}:{{.Tag}}' | sort | paste -sd,)" \
        "busy:2,busybox:latest"
    assert_eq "$(curl_b -X POST http://x/build/prune)" '{"CachesDeleted":null,"SpaceReclaimed":0}'
}
