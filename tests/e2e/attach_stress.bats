#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# Attach under stress (issue 5, items 1 and 6): 1000 attach/detach cycles leave the daemon's fds
# and RSS where they were; clients that stop reading while the container writes 100 MB hold the
# container and the log only until they are dropped (2 s) and never grow the daemon's memory
# without bound; a slow reader gets everything; a client killed mid-stream harms nothing. Raw
# clients: attach_client.py.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

setup() {
    ctr_dir
    STOPPED_PIDS=()
}

teardown() {
    local p
    for p in "${STOPPED_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    ctr_teardown
}

attach_client() {
    "$PY" "$E2E_DIR/attach_client.py" "$@"
}

# rss_kib: the daemon's VmRSS now.
rss_kib() {
    awk '$1 == "VmRSS:" {print $2}' "/proc/$BERTHD_PID/status"
}

@test "1000 attach/detach cycles on one container: daemon fds and RSS back to baseline" {
    # Under ASan, freed chunks sit in its quarantine and would count as growth.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=1"
    ctr_start
    docker_t run -d -i --name cyc1 busybox sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
    wait_state cyc1 running
    # Warm-up: allocator pools and the container's attach state exist before the baseline.
    attach_client cycles "$SOCK" cyc1 100
    fd_settle_base
    local rss0 rss1 secs
    rss0="$(rss_kib)"
    secs="$(attach_client cycles "$SOCK" cyc1 1000)"
    echo "# 1000 cycles in ${secs}s" >&3
    assert_fd_baseline
    sleep 0.3
    rss1="$(rss_kib)"
    echo "# daemon VmRSS ${rss0} KiB -> ${rss1} KiB" >&3
    # ASan's allocator keeps per-size caches and shadow pages of its own: a wider margin there
    # (a real leak is caught anyway: LeakSanitizer fails the daemon's exit at teardown).
    local margin=1024
    ldd "$BERTH_BIN/berthd" 2>/dev/null | grep -q libasan && margin=8192
    [[ "$rss1" -le $((rss0 + margin)) ]] || fail "daemon RSS grew from $rss0 KiB to $rss1 KiB"
    # The container and the daemon are unharmed: output still flows, exec works.
    wait_state cyc1 running
    assert_eq "$(docker_t exec cyc1 echo ok)" ok
    assert_eq "$(curl_b http://x/_ping)" OK
    docker_t rm -f cyc1 >/dev/null
    assert_fd_baseline
}

@test "clients that stop reading while the container writes 100 MB: RSS bounded, log complete" {
    ctr_start
    # 100 MiB in lines of 1000 bytes, once /go exists. The log's rotation (by default berthd caps
    # it, unlike dockerd's json-file) is set well above what is written.
    docker_t run -d --name big1 --log-opt max-size=1g busybox sh -c \
        'while [ ! -e /go ]; do sleep 0.05; done; yes "$(head -c 999 /dev/zero | tr "\0" x)" | head -c 104857600' >/dev/null
    wait_state big1 running
    # A raw client that never reads past the 101 ...
    aux_start "$PY" "$E2E_DIR/attach_client.py" noread "$SOCK" big1 "$T/noread.ready"
    wait_file "$T/noread.ready" attached 10
    # ... and a docker attach that is stopped once attached.
    docker -H "unix://$SOCK" attach --no-stdin --sig-proxy=false big1 >/dev/null 2>&1 &
    local dpid=$!
    STOPPED_PIDS+=("$dpid")
    wait_fds_above 4
    sleep 0.5
    kill -STOP "$dpid"
    local rss0 peak r t0 st=""
    rss0="$(rss_kib)"
    peak="$rss0"
    docker_t exec big1 touch /go
    t0=$SECONDS
    while ((SECONDS - t0 < 90)); do
        r="$(rss_kib)"
        ((r > peak)) && peak=$r
        st="$(docker_t inspect -f '{{.State.Status}}' big1)"
        [[ "$st" == exited ]] && break
        sleep 0.2
    done
    echo "# 100 MiB written in $((SECONDS - t0))s; daemon VmRSS ${rss0} KiB, peak ${peak} KiB" >&3
    assert_eq "$st" exited
    [[ "$peak" -le $((rss0 + 65536)) ]] || fail "daemon RSS grew from $rss0 KiB to $peak KiB"
    # The log is complete.
    assert_eq "$(docker_t logs big1 | wc -c)" 104857600
    # The daemon still answers; the stopped CLI goes, the container is removed.
    assert_eq "$(curl_b http://x/_ping)" OK
    kill -KILL "$dpid"
    wait "$dpid" 2>/dev/null || true
    STOPPED_PIDS=()
    docker_t rm -f big1 >/dev/null
    # The raw client still holds its connection and still reads nothing: the daemon must not let
    # it delay its shutdown (berthd_stop allows 10 s).
    local t1=$EPOCHREALTIME
    berthd_stop || fail "berthd did not stop cleanly with a non-reading attach client connected"
    echo "# berthd stopped in $(awk -v a="$t1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')s" >&3
}

@test "a reading client gets everything while another one is stuck" {
    ctr_start
    docker_t run -d --name mix1 busybox sh -c \
        'while [ ! -e /go ]; do sleep 0.05; done; yes "$(head -c 99 /dev/zero | tr "\0" y)" | head -c 20971520' >/dev/null
    wait_state mix1 running
    aux_start "$PY" "$E2E_DIR/attach_client.py" noread "$SOCK" mix1 "$T/noread.ready"
    wait_file "$T/noread.ready" attached 10
    # One client reads flat out; the other pauses 0.4 s after every 4 MiB, so it falls far
    # behind the container (a reader that is slow, not stuck: it too gets everything).
    attach_client count "$SOCK" mix1 >"$T/count" &
    local cpid=$!
    attach_client count "$SOCK" mix1 4194304 0.4 >"$T/count.slow" &
    local spid=$!
    wait_fds_above 6
    sleep 0.3
    docker_t exec mix1 touch /go
    local rc=0 src=0
    wait "$cpid" || rc=$?
    wait "$spid" || src=$?
    assert_eq "$rc" 0
    assert_eq "$(cat "$T/count")" 20971520
    assert_eq "$src" 0
    assert_eq "$(cat "$T/count.slow")" 20971520
    assert_eq "$(docker_t logs mix1 | wc -c)" 20971520
    docker_t rm -f mix1 >/dev/null
    kill -TERM "$AUX_LAST_PID"
    wait "$AUX_LAST_PID" 2>/dev/null || true
    assert_fd_baseline
}

@test "a docker attach killed mid-stream leaves the container running and the daemon healthy" {
    ctr_start
    docker_t run -d -i --name kil1 busybox sh -c 'i=0; while true; do i=$((i+1)); echo "line $i"; [ $((i % 100)) -eq 0 ] && usleep 10000; done' >/dev/null
    wait_state kil1 running
    local round pid
    for round in 1 2 3; do
        docker -H "unix://$SOCK" attach --no-stdin kil1 >"$T/att$round.out" 2>&1 </dev/null &
        pid=$!
        wait_file "$T/att$round.out" '^line [0-9]+$' 10
        sleep 0.2
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null || true
    done
    # A raw client killed in the middle of a frame.
    aux_start "$PY" "$E2E_DIR/attach_client.py" noread "$SOCK" kil1 "$T/noread.ready"
    wait_file "$T/noread.ready" attached 10
    sleep 0.3
    kill -KILL "$AUX_LAST_PID"
    sleep 0.3
    wait_state kil1 running
    assert_eq "$(curl_b http://x/_ping)" OK
    # Output still flows to a new client and to the log.
    local l1
    l1="$(docker_t logs --tail 1 kil1)"
    sleep 0.3
    [[ "$(docker_t logs --tail 1 kil1)" != "$l1" ]] || fail "the container stopped writing"
    run timeout -s KILL 1.5 docker -H "unix://$SOCK" attach --no-stdin --sig-proxy=false kil1
    assert_match "$output" '^line [0-9]+$'
    assert_eq "$(docker_t exec kil1 echo ok)" ok
    docker_t rm -f kil1 >/dev/null
    assert_fd_baseline
}
