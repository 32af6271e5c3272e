#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# Live restore and daemon restarts (issue 4, items 5 and 7; TEST-PLAN F2, F3, F15): containers
# keep running and logging while berthd is killed with -9 or stopped, and are reconnected when
# it starts again on the same data root; exits during the downtime are recorded; with
# --live-restore=false a SIGTERM stops them; restart policies apply on daemon start; the death
# of a shim marks its container exited.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

# A container that prints 1, 2, 3, ... every 0.2 s.
COUNTER='i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done'

ctr_file_hooks

# daemon_kill9: SIGKILL the test's daemon (by its PID) and reap it.
daemon_kill9() {
    kill -KILL "$BERTHD_PID"
    berthd_wait_exit "$BERTHD_PID" 10 || fail "berthd $BERTHD_PID survived SIGKILL"
    BERTHD_PID=
}

# daemon_again [ARGS...]: start berthd again on the same data root, exec root and socket.
daemon_again() {
    berthd_start "$@"
}

# last_line NAME: the last line of NAME's logs.
last_line() {
    docker_t logs "$1" 2>/dev/null | tail -n1
}

# assert_counter_complete NAME: NAME's stdout is exactly 1, 2, ..., N (no line lost or doubled).
assert_counter_complete() {
    local logs n
    logs="$(docker_t logs "$1" 2>/dev/null)"
    n="$(tail -n1 <<<"$logs")"
    [[ "$n" =~ ^[0-9]+$ ]] || fail "last line of $1: '$n'"
    if [[ "$logs" != "$(seq 1 "$n")" ]]; then
        diff <(seq 1 "$n") <(echo "$logs") >&2 || true
        fail "the logs of $1 are not 1..$n"
    fi
}

# ---------------------------------------------------------------------------------------------

@test "kill -9 of berthd: the container keeps running and logging; after restart ps, logs, stop, wait work" {
    ctr_start
    docker_t run -d --name cnt busybox sh -c "$COUNTER" >/dev/null
    wait_log cnt '^3$'
    local pid shim before after
    pid="$(docker_t inspect -f '{{.State.Pid}}' cnt)"
    shim="$(shim_pids)"
    [[ -n "$shim" ]] || fail "no berth-shim process for $EXEC"
    daemon_kill9
    before="$(grep -c . "$(ls "$DATA"/containers/*/*-json.log)")"
    sleep 2
    pid_running "$pid" || fail "the container's process $pid died with the daemon"
    pid_running "$shim" || fail "the shim $shim died with the daemon"
    # The shim kept writing the log while nobody was there to read it.
    after="$(grep -c . "$(ls "$DATA"/containers/*/*-json.log)")"
    ((after >= before + 5)) || fail "only $((after - before)) lines logged in 2 s of downtime"
    daemon_again
    run docker_t ps --format '{{.Names}} {{.State}}'
    assert_status 0
    assert_eq "$output" "cnt running"
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.Pid}}' cnt)" "running $pid"
    assert_eq "$(shim_pids)" "$shim"
    # Lines keep coming after the restart, and none is missing.
    local n
    n="$(last_line cnt)"
    wait_log cnt "^$((n + 3))\$"
    assert_counter_complete cnt
    # logs -f of the restored container ends when it is stopped.
    timeout 20 env DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" logs -f --tail 0 cnt >"$T/follow" 2>&1 &
    local fpid=$!
    sleep 0.5
    run docker_t stop -t 1 cnt
    assert_status 0
    assert_eq "$output" cnt
    run docker_t wait cnt
    assert_status 0
    assert_eq "$output" 137
    wait "$fpid" || fail "logs -f ended with $?: $(cat "$T/follow")"
    [[ -s "$T/follow" ]] || fail "logs -f printed nothing"
    assert_counter_complete cnt
    pid_running "$pid" && fail "the container's process is still running"
    run docker_t rm cnt
    assert_status 0
    assert_eq "$(shim_pids)" ""
    assert_fd_baseline
}

@test "exits while berthd is down are recorded: exit code 3, and 137 for a SIGKILLed one (F3)" {
    ctr_start
    docker_t run -d --name ex3 busybox sh -c 'sleep 1.5; exit 3' >/dev/null
    docker_t run -d --name kil busybox sleep 60 >/dev/null
    docker_t run -d --name stay busybox sleep 60 >/dev/null
    local kpid
    kpid="$(docker_t inspect -f '{{.State.Pid}}' kil)"
    daemon_kill9
    kill -KILL "$kpid"
    sleep 2.5
    daemon_again
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}} {{.State.Pid}}' ex3)" "exited 3 false 0"
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.ExitCode}}' kil)" "exited 137"
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' stay)" running
    run docker_t inspect -f '{{.State.FinishedAt}}' ex3
    assert_not_contains "$output" 0001-01-01
    run docker_t wait ex3
    assert_eq "$output" 3
    run docker_t ps -a --filter status=exited --format '{{.Names}}'
    assert_eq "$(sort <<<"$output" | tr '\n' ' ')" "ex3 kil "
    run docker_t rm ex3 kil
    assert_status 0
    run docker_t rm -f stay
    assert_status 0
    assert_eq "$(shim_pids)" ""
    assert_fd_baseline
}

@test "a created container whose state.json a crash left empty loads as created and starts" {
    ctr_start
    local id
    id="$(docker_t create --name crt busybox echo started)"
    daemon_kill9
    # create does not sync state.json (only config.json): a crash may leave it empty
    : >"$DATA/containers/$id/state.json"
    daemon_again
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' crt)" created
    run docker_t start -a crt
    assert_status 0
    assert_eq "$output" started
    docker_t rm -f crt >/dev/null
}

@test "SIGTERM with --live-restore=false stops the containers and exits 0; they show exited after restart" {
    ctr_start --live-restore=false
    docker_t run -d --name trp busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
    docker_t run -d --name slp --stop-timeout 1 busybox sleep 60 >/dev/null
    local p1 p2
    p1="$(docker_t inspect -f '{{.State.Pid}}' trp)"
    p2="$(docker_t inspect -f '{{.State.Pid}}' slp)"
    sleep 0.3
    berthd_stop
    pid_running "$p1" && fail "trp ($p1) still runs after the daemon stopped"
    pid_running "$p2" && fail "slp ($p2) still runs after the daemon stopped"
    assert_eq "$(shim_pids)" ""
    daemon_again --live-restore=false
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.ExitCode}}' trp)" "exited 0"
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.ExitCode}}' slp)" "exited 137"
    assert_eq "$(docker_t ps -q)" ""
    # They start again.
    run docker_t start trp
    assert_status 0
    wait_state trp running
    docker_t rm -f trp slp >/dev/null
    assert_fd_baseline
}

@test "a --network none container keeps its namespace file across a daemon restart; container: joins it" {
    ctr_start
    docker_t run -d --name nn --network none busybox sleep 1000 >/dev/null
    local key
    key="$(docker_t inspect -f '{{.NetworkSettings.SandboxKey}}' nn)"
    [[ -n "$key" ]] || fail "no SandboxKey"
    findmnt -n "$key" >/dev/null || fail "$key is not a mounted namespace"
    # `none` endpoints are saved lazily (no address to protect): the shutdown writes them
    berthd_stop
    daemon_again
    assert_eq "$(docker_t inspect -f '{{.NetworkSettings.SandboxKey}}' nn)" "$key"
    findmnt -n "$key" >/dev/null || fail "$key was swept at the restart"
    run docker_t run --rm --network container:nn busybox cat /proc/net/dev
    assert_status 0
    [[ "$output" != *eth0* ]] || fail "joined a namespace with eth0: $output"
    docker_t rm -f nn >/dev/null
    [[ ! -e "$key" ]] || fail "$key left after rm"
}

@test "SIGTERM with live restore (the default) leaves the containers running" {
    ctr_start
    docker_t run -d --name lr busybox sh -c "$COUNTER" >/dev/null
    wait_log lr '^2$'
    local pid
    pid="$(docker_t inspect -f '{{.State.Pid}}' lr)"
    berthd_stop
    sleep 1
    pid_running "$pid" || fail "the container stopped with the daemon"
    daemon_again
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.Pid}}' lr)" "running $pid"
    local n
    n="$(last_line lr)"
    wait_log lr "^$((n + 2))\$"
    assert_counter_complete lr
    # A second restart in a row is fine too.
    berthd_stop
    daemon_again
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.Pid}}' lr)" "running $pid"
    run docker_t kill lr
    assert_status 0
    assert_eq "$(docker_t wait lr)" 137
    assert_counter_complete lr
    docker_t rm lr >/dev/null
    assert_fd_baseline
}

@test "kill -9 of a container's shim: the container shows exited and rm works (F15)" {
    ctr_start
    docker_t run -d --name sk busybox sh -c "$COUNTER" >/dev/null
    wait_log sk '^2$'
    local id pid shim i s
    id="$(docker_t inspect -f '{{.Id}}' sk)"
    pid="$(docker_t inspect -f '{{.State.Pid}}' sk)"
    shim="$(shim_pids)"
    assert_one_line "$shim"
    kill -KILL "$shim"
    for ((i = 0; i < 50; i++)); do
        s="$(docker_t inspect -f '{{.State.Status}}' sk)"
        [[ "$s" == exited ]] && break
        sleep 0.1
    done
    assert_eq "$s" exited
    assert_match "$(docker_t inspect -f '{{.State.ExitCode}}' sk)" '^(255|137)$'
    # No process of the container is left behind, and the shim is reaped (no zombie).
    for ((i = 0; i < 50; i++)); do
        pid_running "$pid" || break
        sleep 0.1
    done
    pid_running "$pid" && fail "the container's process $pid outlived its shim"
    [[ ! -e "/proc/$shim" ]] || fail "the shim $shim is still there: $(awk '{print $3}' "/proc/$shim/stat" 2>/dev/null)"
    run docker_t rm sk
    assert_status 0
    assert_eq "$(ctr_cgroups_left "$id")" ""
    # The daemon still runs containers.
    ctr_run busybox echo ok
    assert_eq "$COUT" ok
    assert_fd_baseline
}

@test "restart policies on daemon start: always comes back (even after a manual stop), no and a stopped unless-stopped do not" {
    ctr_start --live-restore=false
    docker_t run -d --name alw --restart always --stop-timeout 1 busybox sleep 60 >/dev/null
    docker_t run -d --name nop --stop-timeout 1 busybox sleep 60 >/dev/null
    docker_t run -d --name alwstop --restart always busybox sleep 60 >/dev/null
    docker_t run -d --name unl --restart unless-stopped busybox sleep 60 >/dev/null
    docker_t stop -t 0 alwstop unl >/dev/null
    berthd_stop
    daemon_again --live-restore=false
    wait_state alw running 5
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' nop)" exited
    # docker: a manually stopped "always" container starts again with the daemon, an
    # "unless-stopped" one does not.
    wait_state alwstop running 5
    sleep 0.5
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' unl)" exited
    # Live restore on, kill -9: a running "always" container is simply reconnected (same pid).
    local pid
    pid="$(docker_t inspect -f '{{.State.Pid}}' alw)"
    daemon_kill9
    daemon_again
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.Pid}}' alw)" "running $pid"
    docker_t rm -f alw nop alwstop unl >/dev/null
    assert_eq "$(shim_pids)" ""
    assert_fd_baseline
}

@test "berth CLI after a daemon restart: ps, logs, inspect -f, stop, rm -f" {
    ctr_start
    run berth_t run -d --name bcr busybox sh -c "$COUNTER"
    assert_status 0
    wait_log bcr '^2$'
    daemon_kill9
    sleep 1
    daemon_again
    run berth_t ps --format '{{.Names}} {{.Status}}'
    assert_status 0
    assert_match "$output" '^bcr Up '
    run berth_t inspect -f '{{.State.Running}}' bcr
    assert_eq "$output" true
    run berth_t logs bcr
    assert_status 0
    [[ "$(tail -n1 <<<"$output")" -ge 6 ]] || fail "berth logs: $output"
    run berth_t stop -t 1 bcr
    assert_status 0
    assert_eq "$(berth_t inspect -f '{{.State.ExitCode}}' bcr)" 137
    assert_counter_complete bcr
    run berth_t rm -f bcr
    assert_status 0
    assert_eq "$(berth_t ps -aq)" ""
    assert_fd_baseline
}
