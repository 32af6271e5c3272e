#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016 # Go templates in single quotes
# `berth events` (and `berth system events`) against the real docker CLI on the same berthd and
# the same events: the default lines byte for byte in two time zones, --since/--until in
# docker's forms, --filter and --format, a live stream flushed line by line, SIGINT/SIGTERM and
# the error paths with docker's texts and exit statuses.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

# ev_make: a container run (--rm), a tag and a network create; sets T0 (before) and UNTIL (a
# second after the last one, so a replay ends by itself).
ev_make() {
    T0="$(date +%s.%N)"
    docker_t run --rm --name evrun -l 'tier=db x' busybox true
    docker_t tag busybox evimg:1
    docker_t network create evnet >/dev/null
    UNTIL=$(($(date +%s) + 1))
    sleep 1.1
}

# ev_same ARGS...: `docker events ARGS` and `berth events ARGS` exit 0 and print the same bytes
# (compared as files, so trailing newlines count); leaves the output in $T/docker.out.
ev_same() {
    local drc=0 brc=0
    timeout 10 env DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" events "$@" \
        >"$T/docker.out" 2>&1 || drc=$?
    timeout 10 "$BERTH" -H "unix://$SOCK" events "$@" >"$T/berth.out" 2>&1 || brc=$?
    assert_eq "$brc" 0 || { cat "$T/berth.out" >&2; return 1; }
    assert_eq "$drc" 0 || { cat "$T/docker.out" >&2; return 1; }
    if ! cmp -s "$T/docker.out" "$T/berth.out"; then
        diff "$T/docker.out" "$T/berth.out" >&2
        fail "berth events $* differs from docker's"
    fi
}

@test "berth events --since --until: docker's lines byte for byte, in two time zones, and ends" {
    ctr_start
    ev_make
    local tz
    for tz in UTC Asia/Kolkata America/St_Johns; do
        TZ="$tz" ev_same --since "$T0" --until "$UNTIL"
    done
    # all three kinds are there, in docker's shape (fixed nine digits of nanoseconds)
    local out id
    out="$(cat "$T/docker.out")"
    id="$(docker_t network inspect -f '{{.Id}}' evnet)"
    assert_match "$out" '^[0-9-]{10}T[0-9:]{8}\.[0-9]{9}-03:30 container create [0-9a-f]{64} \(image=busybox, name=evrun, tier=db x\)$'
    assert_match "$out" ' container die [0-9a-f]{64} \(exitCode=0, image=busybox, name=evrun, tier=db x\)$'
    assert_match "$out" ' container destroy [0-9a-f]{64} '
    assert_match "$out" ' image tag sha256:[0-9a-f]{64} \(name=evimg:1\)$'
    assert_match "$out" " network create $id \\(name=evnet, type=bridge\\)$"
    assert_eq "$(wc -l <"$T/docker.out")" 7
    # berth system events is the same command
    run timeout 10 "$BERTH" -H "unix://$SOCK" system events --since "$T0" --until "$UNTIL"
    assert_status 0
    TZ=UTC ev_same --since "$T0" --until "$UNTIL"
    TZ=UTC run timeout 10 "$BERTH" -H "unix://$SOCK" system events --since "$T0" --until "$UNTIL"
    assert_eq "$output" "$(cat "$T/berth.out")"
    # the other forms of --since/--until docker accepts: a duration ago, an RFC 3339 date
    # (with the image load of ctr_start before T0)
    ev_same --since 10m --until "$UNTIL"
    assert_eq "$(wc -l <"$T/docker.out")" 8
    ev_same --since "$(date -u -d "@${T0%.*}" +%Y-%m-%dT%H:%M:%SZ)" --until "$UNTIL"
    [[ "$(wc -l <"$T/docker.out")" -ge 7 ]]
    ev_same --since "$(date -d "@${T0%.*}" +%Y-%m-%dT%H:%M:%S)" --until "$UNTIL"
    [[ "$(wc -l <"$T/docker.out")" -ge 7 ]]
    # "1s" is a whole second before now (Go's Time.Unix()): wait until that is past T0
    while (($(date +%s) < ${T0%.*} + 2)); do sleep 0.1; done
    ev_same --since 10m --until 1s
    [[ "$(wc -l <"$T/docker.out")" -ge 1 ]]
    ev_same --since "$UNTIL" --until "$UNTIL"
    assert_eq "$(wc -c <"$T/docker.out")" 0
}

@test "berth events --filter and --format give docker's output" {
    ctr_start
    ev_make
    local f
    for f in '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' '{{json .}}' json \
        '{{.Status}}|{{.ID}}|{{.From}}|{{.Scope}}|{{.Time}}|{{.TimeNano}}|{{.Actor.ID}}' \
        '{{.Actor.Attributes}} {{.Actor.Attributes.exitCode}}' \
        '{{range .Actor.Attributes}}{{.}};{{end}}' \
        '{{if eq .Type "container"}}{{upper .Actor.Attributes.name}}{{else}}-{{end}}'; do
        ev_same --since "$T0" --until "$UNTIL" --format "$f"
        assert_eq "$(wc -l <"$T/docker.out")" 7
    done
    ev_same --since "$T0" --until "$UNTIL" --filter type=network --format json
    assert_match "$(cat "$T/docker.out")" '^\{"Type":"network","Action":"create","Actor":\{"ID":"[0-9a-f]{64}","Attributes":\{"name":"evnet","type":"bridge"\}\},"scope":"local","time":[0-9]+,"timeNano":[0-9]+\}$'
    ev_same --since "$T0" --until "$UNTIL" -f event=die -f event=tag
    assert_eq "$(wc -l <"$T/docker.out")" 2
    ev_same --since "$T0" --until "$UNTIL" -f container=evrun -f event=start --format '{{.Action}}'
    assert_eq "$(cat "$T/berth.out")" start
    ev_same --since "$T0" --until "$UNTIL" --filter 'label=tier=db x' --format '{{.Action}}'
    assert_eq "$(cat "$T/berth.out")" $'create\nattach\nstart\ndie\ndestroy'
    ev_same --since "$T0" --until "$UNTIL" --filter type=image --filter image=evimg:1
    assert_match "$(cat "$T/berth.out")" ' image tag sha256:[0-9a-f]{64} \(name=evimg:1\)$'
}

# ev_live SIGNAL: a live `berth events` into a file shows a network create within a second of
# it, then SIGNAL ends it; prints the exit status. Same for docker, as a reference.
ev_live() {
    local cli="$1" sig="$2" name="$3" pid rc=0
    if [[ "$cli" == berth ]]; then
        "$BERTH" -H "unix://$SOCK" events --filter type=network >"$T/live.$name" 2>&1 &
    else
        docker -H "unix://$SOCK" events --filter type=network >"$T/live.$name" 2>&1 &
    fi
    pid=$!
    sleep 0.5
    docker_t network create "$name" >/dev/null
    wait_file "$T/live.$name" " network create [0-9a-f]{64} \\(name=$name, type=bridge\\)$" 1 ||
        { kill -KILL "$pid"; return 1; }
    kill -s "$sig" "$pid"
    wait "$pid" || rc=$?
    echo "$rc"
}

@test "a live berth events is flushed line by line; SIGINT and SIGTERM end it as they end docker's" {
    ctr_start
    local d b
    d="$(ev_live docker INT dint)"
    b="$(ev_live berth INT bint)"
    assert_eq "$b" "$d"
    assert_eq "$b" 130
    d="$(ev_live docker TERM dterm)"
    b="$(ev_live berth TERM bterm)"
    assert_eq "$b" "$d"
    assert_eq "$b" 143
    # nothing but the one event line each
    assert_eq "$(wc -l <"$T/live.bint")" 1
    assert_eq "$(wc -l <"$T/live.bterm")" 1
    # a --format stream is flushed too
    "$BERTH" -H "unix://$SOCK" events --format '{{.Action}} {{.Actor.Attributes.name}}' \
        >"$T/live.fmt" 2>&1 &
    local pid=$!
    sleep 0.5
    docker_t run --rm --name evlive busybox true
    wait_file "$T/live.fmt" '^destroy evlive$' 1
    kill -INT "$pid"
    local rc=0
    wait "$pid" || rc=$?
    assert_eq "$rc" 130
    assert_eq "$(cat "$T/live.fmt")" $'create evlive\nattach evlive\nstart evlive\ndie evlive\ndestroy evlive'
}

# ev_err ARGS...: docker events ARGS and berth events ARGS fail with the same status and the
# same text (docker's name replaced by berth's); sets output to berth's.
ev_err() {
    local dout bout drc=0 brc=0
    dout="$(timeout 10 docker -H "unix://$SOCK" events "$@" 2>&1)" || drc=$?
    bout="$(timeout 10 "$BERTH" -H "unix://$SOCK" events "$@" 2>&1)" || brc=$?
    assert_eq "$brc" "$drc"
    assert_eq "$bout" "${dout//docker/berth}"
    status=$brc
    output=$bout
}

@test "berth events: a bad --filter, --since or --format and no daemon, with docker's texts and statuses" {
    berthd_start
    ev_err --filter bad
    assert_status 125
    assert_eq "$(head -n1 <<<"$output")" 'invalid argument "bad" for "-f, --filter" flag: bad format of filter (expected name=value)'
    ev_err --since bad
    assert_status 1
    assert_one_line "$output"
    assert_eq "$output" 'failed to parse value as time or duration: "bad"'
    ev_err --until 12x
    assert_status 1
    assert_one_line "$output"
    run timeout 10 "$BERTH" -H "unix://$SOCK" events --format '{{.Action'
    assert_status 64
    assert_one_line "$output"
    assert_match "$output" '^Error parsing format: '
    run timeout 10 "$BERTH" -H "unix://$T/nothing.sock" events
    assert_status 1
    assert_one_line "$output"
    assert_eq "$output" "Cannot connect to the berth daemon at unix://$T/nothing.sock. Is the berth daemon running?"
    run timeout 10 docker -H "unix://$T/nothing.sock" events
    assert_status 1
    # help in the other commands' style
    run "$BERTH" help events
    assert_status 0
    assert_eq "$output" "$(docker events --help | sed 's/docker \(system \)\{0,1\}events/berth \1events/g')"
    run "$BERTH" system events --help
    assert_status 0
    assert_contains "$output" "Usage:  berth system events [OPTIONS]"
}
