#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016 # Go templates in single quotes
# GET /events (API.md 3.20) through the docker CLI and curl: a live stream of container
# events in docker's order and shape (life cycle, attach, exec, resize, restart, top, cp,
# export), since/until replay, filters, image (save, load, import too) and network events, and
# a client that goes away cleaned up.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

@test "docker events: a live stream of a container's life, in docker's order and shape" {
    ctr_start
    docker -H "unix://$SOCK" events --filter type=container \
        --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}' \
        >"$T/live.txt" 2>&1 &
    local ev=$!
    sleep 0.5
    docker_t run --rm --name ev1 -l app=web busybox sh -c 'exit 3' || true
    docker_t run -d --name ev2 busybox sleep 100 >/dev/null
    docker_t rename ev2 ev3
    docker_t pause ev3 >/dev/null
    docker_t unpause ev3 >/dev/null
    docker_t stop -t 1 ev3 >/dev/null
    docker_t rm ev3 >/dev/null
    local i
    for ((i = 0; i < 50; i++)); do
        grep -q "destroy ev3" "$T/live.txt" && break
        sleep 0.1
    done
    kill "$ev"
    wait "$ev" 2>/dev/null || true
    local want
    want="container create ev1 <no value>
container attach ev1 <no value>
container start ev1 <no value>
container die ev1 3
container destroy ev1 <no value>
container create ev2 <no value>
container start ev2 <no value>
container rename ev3 <no value>
container pause ev3 <no value>
container unpause ev3 <no value>
container kill ev3 <no value>
container kill ev3 <no value>
container die ev3 137
container stop ev3 <no value>
container destroy ev3 <no value>"
    assert_eq "$(cat "$T/live.txt")" "$want"
}

@test "since/until replay the kept events and end; filters by container, event, label; the JSON shape" {
    ctr_start
    local t0
    t0="$(date +%s.%N)"
    docker_t run --name r1 -l tier=db busybox true >/dev/null
    docker_t run --name r2 busybox true >/dev/null
    local until=$(($(date +%s) + 1))
    # ends by itself once until has passed
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter container=r1 --format '{{.Action}}'
    assert_status 0
    assert_eq "$output" $'create\nattach\nstart\ndie'
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter event=die --format '{{.Actor.Attributes.name}}'
    assert_eq "$output" $'r1\nr2'
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter label=tier=db --filter event=start --format '{{.Actor.Attributes.name}}'
    assert_eq "$output" r1
    run timeout 10 curl -sS --unix-socket "$SOCK" \
        "http://x/v1.44/events?since=$t0&until=$until&filters=%7B%22event%22%3A%7B%22die%22%3Atrue%7D%2C%22container%22%3A%7B%22r2%22%3Atrue%7D%7D"
    assert_status 0
    local id
    id="$(docker_t inspect -f '{{.Id}}' r2)"
    "$PY" - "$output" "$id" <<'EOF'
import json, sys
e = json.loads(sys.argv[1])
assert e["Type"] == "container" and e["Action"] == "die" and e["status"] == "die", e
assert e["id"] == sys.argv[2] and e["Actor"]["ID"] == sys.argv[2], e
assert e["from"] == "busybox" and e["scope"] == "local", e
assert e["Actor"]["Attributes"] == {"exitCode": "0", "image": "busybox", "name": "r2"}, e
assert e["timeNano"] // 10**9 == e["time"], e
EOF
    run curl -sS --unix-socket "$SOCK" -w '\n%{http_code}' "http://x/events?since=yesterday"
    assert_eq "$(tail -n1 <<<"$output")" 400
    assert_contains "$output" "invalid value for since"
}

@test "image, network and commit events: tag, untag, network create, connect, disconnect, destroy" {
    ctr_start
    local t0 cid
    t0="$(date +%s.%N)"
    docker_t tag busybox evimg:1
    docker_t rmi evimg:1 >/dev/null
    docker_t network create evnet >/dev/null
    cid="$(docker_t run -d --name evc busybox sleep 100)"
    docker_t network connect evnet evc
    docker_t network disconnect evnet evc
    docker_t commit evc evcommit:1 >/dev/null
    docker_t rm -f evc >/dev/null
    docker_t network rm evnet >/dev/null
    local until=$(($(date +%s) + 1))
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter type=image --filter type=network \
        --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}'
    assert_status 0
    assert_eq "$output" "image tag evimg:1 <no value>
image untag evimg:1 <no value>
network create evnet <no value>
network connect evnet $cid
network disconnect evnet $cid
image tag evcommit:1 <no value>
network destroy evnet <no value>"
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter event=commit --format '{{.Actor.ID}} {{.Actor.Attributes.name}}'
    assert_eq "$output" "$cid evc"
}

@test "exec, resize, save, load and import events, named as docker names them" {
    ctr_start
    local t0 xid bid iid
    t0="$(date +%s.%N)"
    docker_t run -d --name evx busybox sleep 100 >/dev/null
    run docker -H "unix://$SOCK" exec evx sh -c 'exit 5'
    assert_status 5
    docker_t exec evx true
    # an exec that never runs: no exec_die, as docker
    run -127 docker -H "unix://$SOCK" exec evx /no/such/binary
    docker_t run -dt --name evt busybox sleep 100 >/dev/null
    assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST \
        "http://x/containers/evt/resize?h=30&w=100")" 200
    docker_t save busybox -o "$T/bb.tar"
    docker_t load -i "$T/bb.tar" >/dev/null
    docker_t export evx -o "$T/evx.tar"
    iid="$(docker_t import "$T/evx.tar" evimp:1)"
    docker_t rm -f evx evt >/dev/null
    local until=$(($(date +%s) + 1))
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter event=resize --filter container=evt \
        --format '{{.Action}} {{.Actor.Attributes.height}}x{{.Actor.Attributes.width}}'
    assert_eq "$output" "resize 30x100"
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter container=evx \
        --format '{{.Action}}|{{or .Actor.Attributes.exitCode "-"}}|{{.Actor.Attributes.name}}'
    assert_eq "$output" "create|-|evx
start|-|evx
exec_create: sh -c exit 5|-|evx
exec_start: sh -c exit 5|-|evx
exec_die|5|evx
exec_create: true |-|evx
exec_start: true |-|evx
exec_die|0|evx
exec_create: /no/such/binary |-|evx
exec_start: /no/such/binary |-|evx
export|-|evx
kill|-|evx
die|137|evx
destroy|-|evx"
    # rm -f is one SIGKILL, as docker: no second kill, no stop
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter container=evx --filter event=kill --format '{{.Actor.Attributes.signal}}'
    assert_eq "$output" 9
    # every exec event of one exec carries its id
    xid="$(docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter event=exec_die --format '{{.Actor.Attributes.execID}}' | head -n1)"
    [[ $xid =~ ^[0-9a-f]{64}$ ]] || fail "exec_die has execID '$xid'"
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter "container=evx" --format '{{.Actor.Attributes.execID}}'
    assert_eq "$(grep -c "^$xid\$" <<<"$output")" 3
    bid="$(docker_t inspect -f '{{.Id}}' busybox)"
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter type=image --format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'
    assert_eq "$output" "save $bid $bid
load $bid $bid
tag $iid evimp:1
import $iid $iid"
}

@test "restart, top, cp and export events, in docker's order" {
    ctr_start
    local t0
    t0="$(date +%s.%N)"
    docker_t run -d --name evr busybox sleep 100 >/dev/null
    # sleep as PID 1 ignores SIGTERM: the restart's stop ends with SIGKILL
    docker_t restart -t 1 evr >/dev/null
    docker_t top evr >/dev/null
    docker_t cp evr:/etc/hostname "$T/hostname"
    docker_t cp "$T/hostname" evr:/tmp/
    docker_t export evr -o "$T/evr.tar"
    docker_t rm -f evr >/dev/null
    local until=$(($(date +%s) + 1))
    run timeout 10 docker -H "unix://$SOCK" events --since "$t0" --until "$until" \
        --filter container=evr --format '{{.Action}} {{.Actor.Attributes.signal}}'
    assert_eq "$output" "create <no value>
start <no value>
kill 15
kill 9
die <no value>
stop <no value>
start <no value>
restart <no value>
top <no value>
archive-path <no value>
extract-to-dir <no value>
export <no value>
kill 9
die <no value>
destroy <no value>"
}

@test "a client that goes away mid-stream leaves nothing behind" {
    ctr_start
    local i pid
    for ((i = 0; i < 5; i++)); do
        curl -sS -N --unix-socket "$SOCK" http://x/events >/dev/null 2>&1 &
        pid=$!
        sleep 0.2
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    done
    docker_t run --rm busybox true
    assert_eq "$(curl_b http://x/_ping)" OK
    assert_fd_baseline
}

@test "SIGTERM ends a live events stream at once: the daemon does not wait out its grace" {
    ctr_start
    docker -H "unix://$SOCK" events >"$T/ev.txt" 2>&1 &
    local ev=$! t0
    sleep 0.5
    t0=$SECONDS
    berthd_stop
    ((SECONDS - t0 < 5)) || fail "berthd took $((SECONDS - t0)) s to stop"
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$ev" 2>/dev/null || break
        sleep 0.1
    done
    ! kill -0 "$ev" 2>/dev/null || fail "docker events still runs after the daemon stopped"
    wait "$ev" 2>/dev/null || true
}
