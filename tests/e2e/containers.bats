#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# Containers (issue 4, item 9): the lifecycle through the real docker CLI and the berth CLI:
# run -d, logs, wait, ps, inspect, stop, kill, restart, rename, pause, top, prune, rm, --rm,
# restart policies, process settings, the pull-then-run flow, 50 containers at once. Every test
# ends with the daemon's open fd count back to its baseline.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks
registry_file_hooks

# ---------------------------------------------------------------------------------------------

@test "run -d, logs keep stdout and stderr apart, wait returns the exit code" {
    ctr_start
    run docker_t run -d --name c1 busybox sh -c 'echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; exit 3'
    assert_status 0
    assert_match "$output" '^[0-9a-f]{64}$'
    local id="$output"
    run docker_t wait c1
    assert_status 0
    assert_eq "$output" 3
    run docker_t logs c1
    assert_status 0
    assert_eq "$output" $'out1\nerr1\nout2'
    assert_eq "$(docker_t logs c1 2>/dev/null)" $'out1\nout2'
    assert_eq "$(docker_t logs c1 2>&1 >/dev/null)" err1
    # By id and by unique id prefix too.
    assert_eq "$(docker_t logs "${id:0:7}" 2>/dev/null)" $'out1\nout2'
    run docker_t wait "$id"
    assert_eq "$output" 3
    # A killed container reports 128 + signal.
    docker_t run -d --name c2 busybox sleep 30 >/dev/null
    docker_t kill c2 >/dev/null
    run docker_t wait c2
    assert_status 0
    assert_eq "$output" 137
    docker_t rm c1 c2 >/dev/null
    assert_fd_baseline
}

@test "ps: columns, Status strings, -a, -q, filters, --format; ps -l" {
    ctr_start
    docker_t run -d --name up1 busybox sleep 30 >/dev/null
    docker_t run -d --name ex3 busybox sh -c 'exit 3' >/dev/null
    docker_t wait ex3 >/dev/null
    run docker_t ps
    assert_status 0
    assert_match "$(head -n1 <<<"$output")" '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$'
    assert_match "$output" '^[0-9a-f]{12} +busybox +"sleep 30" +.* ago +Up (Less than a second|[0-9]+ seconds?) +up1$'
    assert_not_contains "$output" ex3
    run docker_t ps -a
    assert_status 0
    assert_match "$output" ' +Exited \(3\) (Less than a second|[0-9]+ seconds?) ago +ex3$'
    assert_contains "$output" up1
    # Newest first.
    assert_eq "$(docker_t ps -a --format '{{.Names}}')" $'ex3\nup1'
    run docker_t ps -q
    assert_eq "$output" "$(docker_t inspect -f '{{.Id}}' up1 | cut -c1-12)"
    run docker_t ps -aq --no-trunc
    assert_contains "$output" "$(docker_t inspect -f '{{.Id}}' ex3)"
    run docker_t ps -a --filter status=exited --format '{{.Names}}'
    assert_eq "$output" ex3
    run docker_t ps -a --filter status=running --format '{{.Names}}'
    assert_eq "$output" up1
    run docker_t ps --filter status=exited --format '{{.Names}} {{.Status}}'
    assert_match "$output" '^ex3 Exited \(3\) '
    run docker_t ps -a --filter name=up --format '{{.Names}}'
    assert_eq "$output" up1
    run docker_t ps -a --filter exited=3 --format '{{.Names}}'
    assert_eq "$output" ex3
    run docker_t ps -a --filter name=nomatch -q
    assert_status 0
    assert_eq "$output" ""
    run docker_t ps -l --format '{{.Names}}'
    assert_eq "$output" ex3
    run docker_t ps -a --format '{{.Image}} {{.Command}} {{.State}}'
    assert_eq "$output" $'busybox "sh -c \'exit 3\'" exited\nbusybox "sleep 30" running'
    run docker_t ps -a --filter bogus=1
    assert_failed
    docker_t rm -f up1 ex3 >/dev/null
    assert_eq "$(docker_t ps -aq)" ""
    assert_fd_baseline
}

@test "ps filters network, publish, expose, health and is-task as docker's" {
    ctr_start
    docker_t network create fnet >/dev/null
    docker_t run -d --name f1 --network fnet -p 127.0.0.1:18080:80 busybox sleep 300 >/dev/null
    docker_t run -d --name f2 --expose 9000/udp busybox sleep 300 >/dev/null
    local id
    id="$(docker_t network inspect -f '{{.Id}}' fnet)"
    ps_names() { docker_t ps --format '{{.Names}}' "$@" | sort | paste -sd,; }
    assert_eq "$(ps_names --filter network=fnet)" f1
    assert_eq "$(ps_names --filter network="${id:0:12}")" f1
    assert_eq "$(ps_names --filter network=bridge)" f2
    assert_eq "$(ps_names --filter network=nonet)" ""
    assert_eq "$(ps_names --filter publish=18080)" f1
    assert_eq "$(ps_names --filter publish=18000-18100/tcp)" f1
    assert_eq "$(ps_names --filter publish=18080/udp)" ""
    assert_eq "$(ps_names --filter expose=80)" f1
    assert_eq "$(ps_names --filter expose=9000/udp)" f2
    assert_eq "$(ps_names --filter expose=9000/tcp)" ""
    # berth runs no health checks: every container's health is none
    assert_eq "$(ps_names --filter health=none)" f1,f2
    assert_eq "$(ps_names --filter health=healthy)" ""
    run docker -H "unix://$SOCK" ps --filter health=bogus
    assert_failed
    assert_contains "$output" "Unrecognised filter value for health: bogus"
    assert_eq "$(ps_names --filter is-task=false)" f1,f2
    assert_eq "$(ps_names --filter is-task=true)" ""
    docker_t rm -f f1 f2 >/dev/null
    docker_t network rm fnet >/dev/null
}

@test "inspect: State, Config, Name, HostConfig while running and after exit" {
    ctr_start
    docker_t run -d --name insp --rm=false -e FOO=bar busybox sleep 30 >/dev/null
    run docker_t inspect -f '{{.State.Status}} {{.State.Running}} {{.Name}} {{json .Config.Cmd}} {{.Config.Image}} {{.HostConfig.AutoRemove}} {{.Path}} {{json .Args}}' insp
    assert_status 0
    assert_eq "$output" 'running true /insp ["sleep","30"] busybox false sleep ["30"]'
    local pid
    pid="$(docker_t inspect -f '{{.State.Pid}}' insp)"
    [[ "$pid" -gt 0 ]] || fail "State.Pid is $pid while running"
    # The Pid is a real host process running sleep.
    assert_contains "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 30"
    run docker_t inspect -f '{{json .Config.Env}}' insp
    assert_contains "$output" '"PATH='
    assert_contains "$output" '"FOO=bar"'
    run docker_t inspect -f '{{.Image}} {{.Driver}} {{.Platform}} {{.RestartCount}}' insp
    assert_match "$output" '^sha256:[0-9a-f]{64} overlay2 linux 0$'
    run docker_t inspect -f '{{.Config.Hostname}}' insp
    assert_eq "$output" "$(docker_t inspect -f '{{.Id}}' insp | cut -c1-12)"
    run docker_t inspect insp
    assert_status 0
    assert_eq "$(json_get 'j[0]["State"]["StartedAt"][:2]' <<<"$output")" 20
    assert_eq "$(json_get 'j[0]["State"]["FinishedAt"]' <<<"$output")" 0001-01-01T00:00:00Z
    assert_match "$(json_get 'j[0]["Created"]' <<<"$output")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]+Z$'
    docker_t kill -s TERM insp >/dev/null || true
    docker_t kill insp >/dev/null 2>&1 || true
    docker_t wait insp >/dev/null
    run docker_t inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}' insp
    assert_eq "$output" "exited false 0 137"
    run docker_t inspect -f '{{.State.FinishedAt}}' insp
    assert_not_contains "$output" 0001-01-01
    docker_t run -d --rm --name insp2 busybox sleep 30 >/dev/null
    assert_eq "$(docker_t inspect -f '{{.HostConfig.AutoRemove}}' insp2)" true
    run docker_t inspect nosuch
    assert_failed
    assert_contains "$output" "No such"
    docker_t rm -f insp insp2 >/dev/null
    assert_fd_baseline
}

@test "names: conflict is 409 'is already in use', invalid names 400, no file from a name" {
    ctr_start
    docker_t run -d --name dup busybox sleep 30 >/dev/null
    run docker_t run -d --name dup busybox true
    assert_status 125
    assert_contains "$output" 'is already in use'
    assert_contains "$output" '"/dup"'
    run curl_b -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -d '{"Image":"busybox","Cmd":["true"]}' 'http://x/containers/create?name=dup'
    assert_eq "$output" 409
    local n
    for n in x '../x' 'a/b' '-ab' 'a b'; do
        run curl_b -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            -d '{"Image":"busybox","Cmd":["true"]}' "http://x/containers/create?name=$(printf %s "$n" | "$PY" -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.stdin.read(),safe=""))')"
        [[ "$output" == 400 ]] || fail "name '$n': status $output, want 400"
    done
    run docker_t create --name x busybox true
    assert_failed
    assert_contains "$output" "Invalid container name"
    [[ ! -e "$T/x" && ! -e "$DATA/x" ]] || fail "a file was created from a name"
    assert_eq "$(docker_t ps -aq | wc -l)" 1
    docker_t rm -f dup >/dev/null
    # The name is free again.
    run docker_t run -d --name dup busybox true
    assert_status 0
    docker_t wait dup >/dev/null
    docker_t rm dup >/dev/null
    assert_fd_baseline
}

@test "rm of a running container fails, rm -f kills and removes; rm of unknown is 404" {
    ctr_start
    docker_t run -d --name r1 busybox sleep 30 >/dev/null
    local id
    id="$(docker_t inspect -f '{{.Id}}' r1)"
    run docker_t rm r1
    assert_failed
    # docker 25+ and 20.10 word it differently; both say this.
    assert_match "$output" '[Ss]top the container before (attempting removal or )?force remove|before removing or force remove'
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' r1)" running
    run docker_t rm -f r1
    assert_status 0
    assert_eq "$output" r1
    run docker_t inspect r1
    assert_failed
    [[ ! -e "$DATA/containers/$id" ]] || fail "$DATA/containers/$id still exists"
    assert_eq "$(ctr_cgroups_left "$id")" ""
    assert_eq "$(shim_pids)" ""
    grep -q "$id" /proc/mounts && fail "a mount of $id is left"
    run docker_t rm nosuch
    assert_failed
    assert_contains "$output" "No such container: nosuch"
    assert_fd_baseline
}

@test "--rm: the container is removed when it exits" {
    ctr_start
    run docker_t run -d --rm --name gone busybox true
    assert_status 0
    local id="$output" i
    for ((i = 0; i < 100; i++)); do
        [[ -z "$(docker_t ps -aq --filter name=gone)" ]] && break
        sleep 0.1
    done
    assert_eq "$(docker_t ps -aq)" ""
    [[ ! -e "$DATA/containers/$id" ]] || fail "$DATA/containers/$id still exists"
    # docker wait -condition removed on a --rm container that exits later.
    docker_t run -d --rm --name gone2 busybox sleep 1 >/dev/null
    run curl_b -X POST 'http://x/containers/gone2/wait?condition=removed'
    assert_status 0
    assert_contains "$output" '"StatusCode":0'
    run docker_t inspect gone2
    assert_failed
    assert_fd_baseline
}

@test "stop: timeout then SIGKILL (137), a TERM trap exits cleanly; stop of stopped succeeds" {
    ctr_start
    docker_t run -d --name ign busybox sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null
    docker_t run -d --name trp busybox sh -c 'trap "echo got TERM; exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
    wait_state ign running
    sleep 0.3
    local t0 t1
    t0="$(date +%s%N)"
    run docker_t stop -t 1 ign
    t1="$(date +%s%N)"
    assert_status 0
    assert_eq "$output" ign
    assert_eq "$(docker_t inspect -f '{{.State.ExitCode}}' ign)" 137
    (((t1 - t0) / 1000000 >= 900)) || fail "stop -t 1 took $(((t1 - t0) / 1000000)) ms"
    (((t1 - t0) / 1000000 < 5000)) || fail "stop -t 1 took $(((t1 - t0) / 1000000)) ms"
    run docker_t stop -t 10 trp
    assert_status 0
    assert_eq "$(docker_t inspect -f '{{.State.ExitCode}}' trp)" 0
    assert_eq "$(docker_t logs trp)" "got TERM"
    # Already stopped: 304, the CLI still prints the name and succeeds.
    run docker_t stop trp
    assert_status 0
    assert_eq "$output" trp
    run http_status 'http://x/containers/trp/stop' -X POST
    assert_eq "$output" 304
    run docker_t stop nosuch
    assert_failed
    docker_t rm ign trp >/dev/null
    assert_fd_baseline
}

# usr1_count N: wait until k1 has logged "usr1" N times; fail if it is not exactly N.
usr1_count() {
    local i
    for ((i = 0; i < 50; i++)); do
        [[ "$(docker_t logs k1 | grep -c usr1)" -ge "$1" ]] && break
        sleep 0.1
    done
    assert_eq "$(docker_t logs k1 | grep -c usr1)" "$1"
}

@test "kill -s USR1 reaches a trap; kill of a stopped container fails; bad signal 400" {
    ctr_start
    docker_t run -d --name k1 busybox sh -c 'trap "echo usr1" USR1; echo ready; while :; do sleep 0.1; done' >/dev/null
    wait_log k1 '^ready$'
    run docker_t kill -s USR1 k1
    assert_status 0
    assert_eq "$output" k1
    wait_log k1 '^usr1$'
    # One signal at a time: signals sent while the trap is pending would merge.
    run docker_t kill -s SIGUSR1 k1
    assert_status 0
    usr1_count 2
    run http_status 'http://x/containers/k1/kill?signal=10' -X POST
    assert_eq "$output" 204
    usr1_count 3
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' k1)" running
    run http_status 'http://x/containers/k1/kill?signal=NOPE' -X POST
    assert_eq "$output" 400
    run docker_t kill k1
    assert_status 0
    assert_eq "$(docker_t wait k1)" 137
    run docker_t kill k1
    assert_failed
    assert_contains "$output" "is not running"
    docker_t rm k1 >/dev/null
    assert_fd_baseline
}

@test "restart, rename, pause/unpause, top, container prune" {
    ctr_start
    docker_t run -d --name rs busybox sh -c 'echo started; sleep 30' >/dev/null
    local pid1 pid2
    pid1="$(docker_t inspect -f '{{.State.Pid}}' rs)"
    run docker_t restart -t 1 rs
    assert_status 0
    assert_eq "$output" rs
    wait_state rs running
    pid2="$(docker_t inspect -f '{{.State.Pid}}' rs)"
    [[ "$pid2" -gt 0 && "$pid2" != "$pid1" ]] || fail "Pid before $pid1, after restart $pid2"
    wait_log rs 'started'
    assert_eq "$(docker_t logs rs | grep -c started)" 2
    # rename
    run docker_t rename rs rs2
    assert_status 0
    assert_eq "$(docker_t inspect -f '{{.Name}}' rs2)" /rs2
    run docker_t inspect rs
    assert_failed
    docker_t run -d --name other busybox sleep 30 >/dev/null
    run docker_t rename rs2 other
    assert_failed
    assert_contains "$output" "is already in use"
    # pause / unpause
    run docker_t pause rs2
    assert_status 0
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.Paused}}' rs2)" "paused true"
    assert_match "$(docker_t ps --filter name=rs2 --format '{{.Status}}')" '^Up .* \(Paused\)$'
    assert_eq "$(docker_t ps -a --filter status=paused --format '{{.Names}}')" rs2
    run docker_t unpause rs2
    assert_status 0
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.State.Paused}}' rs2)" "running false"
    run docker_t unpause rs2
    assert_failed
    # top
    run docker_t top rs2
    assert_status 0
    assert_match "$(head -n1 <<<"$output")" '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$'
    assert_contains "$output" "sleep 30"
    assert_contains "$output" "$(docker_t inspect -f '{{.State.Pid}}' rs2)"
    run docker_t top other -o pid,comm
    assert_status 0
    assert_contains "$output" sleep
    # prune removes only stopped containers
    docker_t run -d --name dead1 busybox true >/dev/null
    docker_t run -d --name dead2 busybox sh -c 'exit 2' >/dev/null
    docker_t wait dead1 dead2 >/dev/null
    local d1
    d1="$(docker_t inspect -f '{{.Id}}' dead1)"
    run docker_t container prune -f
    assert_status 0
    assert_contains "$output" "Deleted Containers:"
    assert_contains "$output" "$d1"
    assert_match "$output" 'Total reclaimed space: '
    assert_eq "$(docker_t ps -a --format '{{.Names}}' | sort | tr '\n' ' ')" "other rs2 "
    docker_t rm -f rs2 other >/dev/null
    assert_fd_baseline
}

@test "logs: --tail, -t timestamps, --since/--until, -f follows and ends when the container exits" {
    ctr_start
    docker_t run -d --name lg busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done; echo e >&2' >/dev/null
    docker_t wait lg >/dev/null
    run docker_t logs --tail 2 lg
    assert_status 0
    assert_eq "$output" $'line5\ne'
    run docker_t logs -n 0 lg
    assert_eq "$output" ""
    run docker_t logs -t lg
    assert_status 0
    assert_eq "$(grep -c . <<<"$output")" 6
    while read -r l; do
        assert_match "$l" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z (line[1-5]|e)$'
    done <<<"$output"
    run docker_t logs --since 1h lg
    assert_eq "$(grep -c . <<<"$output")" 6
    run docker_t logs --since "$(($(date +%s) + 5))" lg
    assert_eq "$output" ""
    run docker_t logs --until 1h lg
    assert_eq "$output" ""
    # Follow: the backlog, then live lines, then the stream ends when the container exits.
    docker_t run -d --name fl busybox sh -c 'echo a; sleep 1; echo b; sleep 1; echo c' >/dev/null
    local t0 t1
    t0="$(date +%s)"
    run timeout 20 env DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" logs -f fl
    t1="$(date +%s)"
    assert_status 0
    assert_eq "$output" $'a\nb\nc'
    ((t1 - t0 < 10)) || fail "logs -f took $((t1 - t0)) s to end"
    # Follow on a stopped container: the backlog, then the end.
    run timeout 10 env DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" logs -f lg
    assert_status 0
    assert_eq "$(grep -c . <<<"$output")" 6
    # A follower that goes away is cleaned up.
    docker_t run -d --name fl2 busybox sh -c 'while :; do echo x; sleep 0.2; done' >/dev/null
    timeout -s INT 1 env DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" logs -f fl2 >/dev/null 2>&1 || true
    # Neither stdout nor stderr chosen: 400.
    assert_eq "$(http_status 'http://x/containers/lg/logs')" 400
    docker_t rm -f lg fl fl2 >/dev/null
    assert_fd_baseline
}

@test "--restart on-failure:2 restarts exactly twice; --restart always keeps restarting" {
    ctr_start
    docker_t run -d --name of --restart on-failure:2 busybox sh -c 'echo run; exit 1' >/dev/null
    local i s
    for ((i = 0; i < 100; i++)); do
        s="$(docker_t inspect -f '{{.State.Status}} {{.RestartCount}}' of)"
        [[ "$s" == "exited 2" ]] && break
        sleep 0.1
    done
    assert_eq "$s" "exited 2"
    sleep 1.5
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' of)" "exited 2 1"
    assert_eq "$(docker_t logs of | grep -c run)" 3
    assert_eq "$(docker_t inspect -f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' of)" on-failure:2
    # on-failure does not restart a clean exit.
    docker_t run -d --name of0 --restart on-failure busybox true >/dev/null
    docker_t wait of0 >/dev/null
    sleep 0.5
    assert_eq "$(docker_t inspect -f '{{.State.Status}} {{.RestartCount}}' of0)" "exited 0"
    # always restarts after a clean exit.
    docker_t run -d --name al --restart always busybox sh -c 'echo run; sleep 0.2' >/dev/null
    for ((i = 0; i < 100; i++)); do
        [[ "$(docker_t inspect -f '{{.RestartCount}}' al)" -ge 2 ]] && break
        sleep 0.1
    done
    [[ "$(docker_t inspect -f '{{.RestartCount}}' al)" -ge 2 ]] || fail "always: RestartCount $(docker_t inspect -f '{{.RestartCount}}' al)"
    [[ "$(docker_t logs al | grep -c run)" -ge 3 ]] || fail "always: $(docker_t logs al)"
    # A manual stop ends the restarts.
    run docker_t stop -t 1 al
    assert_status 0
    sleep 1
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' al)" exited
    docker_t rm -f of of0 al >/dev/null
    assert_fd_baseline
}

@test "missing command: exit 127 with docker's message; bad workdir or user fails the start" {
    ctr_start
    run -127 docker_t run -d --name nc busybox nosuchcmd
    assert_status 127
    assert_contains "$output" 'exec: "nosuchcmd": executable file not found in $PATH'
    run -127 docker_t run -d --name nc2 busybox /nosuch/path
    assert_status 127
    assert_contains "$output" "no such file or directory"
    run docker_t run -d --name nc3 busybox /etc
    assert_status 126
    assert_match "$output" 'exec: "/etc": (permission denied|is a directory)'
    run docker_t run -d -u nosuchuser busybox true
    assert_failed
    assert_contains "$output" "nosuchuser"
    assert_eq "$(docker_t ps -q)" ""
    docker_t rm -f nc nc2 nc3 >/dev/null 2>&1 || true
    docker_t container prune -f >/dev/null
    assert_eq "$(shim_pids)" ""
    assert_fd_baseline
}

@test "process settings: -e, -w (created), -u nobody, --hostname, --entrypoint, -l labels" {
    ctr_start
    ctr_run -e FOO=bar -e 'SP=a b' busybox sh -c 'echo "$FOO|$SP|$PATH"'
    assert_eq "$CRC" 0
    assert_eq "$COUT" "bar|a b|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    ctr_run -w /newdir/sub busybox sh -c 'pwd; ls -ld /newdir/sub | cut -c1'
    assert_eq "$CRC" 0
    assert_eq "$COUT" $'/newdir/sub\nd'
    ctr_run -u nobody busybox sh -c 'id -u; id -g'
    assert_eq "$COUT" $'65534\n65534'
    ctr_run -u 1234:5678 busybox sh -c 'id -u; id -g'
    assert_eq "$COUT" $'1234\n5678'
    ctr_run --hostname myhost busybox hostname
    assert_eq "$COUT" myhost
    ctr_run --entrypoint /bin/echo busybox hello world
    assert_eq "$COUT" "hello world"
    ctr_run --entrypoint "" busybox echo plain
    assert_eq "$COUT" plain
    docker_t run -d --name lab -l a=1 -l org.x=y busybox true >/dev/null
    assert_eq "$(docker_t inspect -f '{{index .Config.Labels "a"}} {{index .Config.Labels "org.x"}}' lab)" "1 y"
    assert_eq "$(docker_t ps -a --filter label=org.x=y --format '{{.Names}}')" lab
    assert_eq "$(docker_t ps -a --filter label=a=2 --format '{{.Names}}')" ""
    docker_t rm -f lab >/dev/null
    assert_fd_baseline
}

@test "run -d of an image that is not present pulls it from the registry, then runs" {
    berthd_start
    # A first pull from the same registry: the daemon may keep idle connections to it.
    docker_t pull "$REG/library/busybox" >/dev/null
    fd_settle_base
    run docker_t run -d --name pulled "$REG/test/hello" cat /hello.txt
    assert_status 0
    assert_contains "$output" "Unable to find image '$REG/test/hello:latest' locally"
    assert_contains "$output" "Status: Downloaded newer image for $REG/test/hello:latest"
    assert_match "$(tail -n1 <<<"$output")" '^[0-9a-f]{64}$'
    assert_eq "$(docker_t wait pulled)" 0
    assert_eq "$(docker_t logs pulled)" "hello from berth"
    assert_eq "$(docker_t inspect -f '{{.Config.Image}}' pulled)" "$REG/test/hello"
    run docker_t ps -a --filter "ancestor=$REG/test/hello" --format '{{.Names}}'
    assert_eq "$output" pulled
    run docker_t run -d "$REG/test/nosuch" true
    assert_failed
    docker_t rm pulled >/dev/null
    assert_fd_baseline
}

@test "a long exec root (shim socket path over 107 bytes) still runs containers" {
    # berthd_dir's exec root, $T/exec, is already long; make it longer still.
    # shellcheck disable=SC2034 # read by berthd_start
    EXEC="$T/exec/$(printf 'x%.0s' $(seq 40))"
    ctr_start
    run docker_t run -d --name longexec busybox sh -c 'echo ok'
    assert_status 0
    assert_eq "$(docker_t wait longexec)" 0
    assert_eq "$(docker_t logs longexec)" ok
    docker_t rm longexec >/dev/null
    assert_fd_baseline
}

@test "50 containers started at once all run; rm -f of all leaves no fd, cgroup or shim" {
    ctr_start
    local i ids
    local pids=()
    for i in $(seq 50); do
        docker_t run -d --name "m$i" busybox sleep 60 >"$T/run.$i" 2>&1 &
        pids+=("$!")
    done
    wait "${pids[@]}"
    for i in $(seq 50); do
        grep -qE '^[0-9a-f]{64}$' "$T/run.$i" || fail "run $i: $(cat "$T/run.$i")"
    done
    assert_eq "$(docker_t ps -q | wc -l)" 50
    assert_eq "$(docker_t ps --filter status=running -q | wc -l)" 50
    assert_eq "$(shim_pids | wc -l)" 50
    ids="$(docker_t ps -aq --no-trunc)"
    # shellcheck disable=SC2046 # one id per word
    run docker_t rm -f $(docker_t ps -aq)
    assert_status 0
    assert_eq "$(grep -c . <<<"$output")" 50
    assert_eq "$(docker_t ps -aq)" ""
    for ((i = 0; i < 50; i++)); do
        [[ -z "$(shim_pids)" ]] && break
        sleep 0.1
    done
    assert_eq "$(shim_pids)" ""
    # shellcheck disable=SC2086 # one id per word
    assert_eq "$(ctr_cgroups_left $ids)" ""
    assert_eq "$(grep -c " $T/" /proc/mounts)" 0
    assert_eq "$(find "$DATA/containers" -mindepth 1 -maxdepth 1 | wc -l)" 0
    assert_fd_baseline
}

@test "berth CLI: run -d, ps, logs, inspect -f, stop, wait, rm -f" {
    ctr_start
    run berth_t run -d --name bc busybox sh -c 'echo hi-out; sleep 0.1; echo hi-err >&2; trap "exit 5" TERM; while :; do sleep 0.1; done'
    assert_status 0
    assert_match "$output" '^[0-9a-f]{64}$'
    local id="$output"
    run berth_t ps
    assert_status 0
    assert_match "$output" "^${id:0:12} +busybox +.* +Up .* +bc\$"
    run berth_t ps -q
    assert_eq "$output" "${id:0:12}"
    wait_log bc hi-err
    run berth_t logs bc
    assert_status 0
    assert_eq "$(sort <<<"$output")" $'hi-err\nhi-out'
    assert_eq "$(berth_t logs bc 2>/dev/null)" hi-out
    assert_eq "$(berth_t logs bc 2>&1 >/dev/null)" hi-err
    run berth_t inspect -f '{{.State.Status}} {{.Name}}' bc
    assert_status 0
    assert_eq "$output" "running /bc"
    run berth_t stop -t 5 bc
    assert_status 0
    assert_eq "$output" bc
    run berth_t wait bc
    assert_eq "$output" 5
    assert_eq "$(docker_t inspect -f '{{.State.ExitCode}}' bc)" 5
    run berth_t ps -a --filter status=exited --format '{{.Names}} {{.Status}}'
    assert_match "$output" '^bc Exited \(5\) '
    berth_t run -d --name bc2 busybox sleep 30 >/dev/null
    run berth_t rm bc2
    assert_failed
    run berth_t rm -f bc bc2
    assert_status 0
    assert_eq "$(berth_t ps -aq)" ""
    run -127 berth_t run -d --name bc3 busybox nosuchcmd
    assert_status 127
    berth_t rm -f bc3 >/dev/null 2>&1 || true
    assert_fd_baseline
}
