#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# Interactive use (issue 5, item 6): foreground `docker run` (exit codes, stdout/stderr, -i with
# binary stdin and EOF, -a, --rm), `run -it` in a terminal (line editing, ctrl-c, resize, exit
# code, the terminal restored), detach with ctrl-p ctrl-q and attach again, attach
# --sig-proxy=false, two attached clients, exec (exit codes, -e -w -u -i -d -it --privileged,
# confinement), start -ai, and the same through the berth CLI. Terminals are tmux panes (a
# private tmux server per test, tty_common.bash).

load helpers
load registry
load ctr_common
load tty_common

bats_require_minimum_version 1.5.0

DEFAULT_CAPS=00000000a80425fb

ctr_file_hooks

teardown() {
    tm_teardown
    ctr_teardown
}

# no_containers: the daemon has no container left (every --rm worked).
no_containers() {
    local left
    left="$(docker_t ps -aq)"
    [[ -z "$left" ]] || fail "containers left: $(docker_t ps -a)"
}

# outer_modes NAME: in session NAME's bash, print the terminal's icanon/echo/isig flags.
outer_modes() {
    tm_type "$1" 'echo "MODES $(stty -a | tr " ;" "\n\n" | grep -xE -- "-?(icanon|echo|isig)" | tr "\n" " ")"'
    tm_wait "$1" '^MODES ' 5
    tm_screen "$1" | grep -E '^MODES ' | tail -n1
}

# ---- foreground docker run --------------------------------------------------------------------

@test "docker run: echo, exit codes 3 and 0, stdout and stderr apart, -a stdout, --rm" {
    ctr_start
    run docker_t run --rm busybox /bin/echo Hello Docker
    assert_status 0
    assert_eq "$output" "Hello Docker"
    run docker_t run --rm busybox sh -c 'exit 3'
    assert_status 3
    run docker_t run --rm busybox true
    assert_status 0
    assert_eq "$output" ""
    # stdout and stderr reach the CLI's stdout and stderr.
    assert_eq "$(docker_t run --rm busybox sh -c 'echo out; echo err >&2' 2>/dev/null)" out
    assert_eq "$(docker_t run --rm busybox sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" err
    # -a stdout: stderr is not attached.
    run docker_t run --rm -a stdout busybox sh -c 'echo o; echo e >&2; exit 2'
    assert_status 2
    assert_eq "$output" o
    # Output right before a fast exit is not lost; many lines arrive in order.
    assert_eq "$(docker_t run --rm busybox seq 1 20000 | sha256sum)" "$(seq 1 20000 | sha256sum)"
    no_containers
    assert_fd_baseline
}

@test "docker run: 127 for a missing command, 126 for a directory; the message on stderr" {
    ctr_start
    run -127 docker_t run --rm busybox nosuchcmd
    assert_status 127
    assert_contains "$output" nosuchcmd
    run docker_t run --rm busybox /etc
    assert_status 126
    no_containers
    assert_fd_baseline
}

@test "docker run -i: stdin round trips, binary data (1 MiB) and EOF included, with --rm" {
    ctr_start
    run docker_t run -i --rm busybox cat <<<"data"
    assert_status 0
    assert_eq "$output" data
    # Without a Tty, stdin is not scanned for detach keys: ctrl-p ctrl-q are data.
    printf 'abc\x10\x11def\n' >"$T/keys"
    assert_eq "$(docker_t run -i --rm busybox cat <"$T/keys" | od -An -tx1 | tr -d ' \n')" \
        "$(od -An -tx1 <"$T/keys" | tr -d ' \n')"
    head -c 1M /dev/urandom >"$T/bin"
    assert_eq "$(docker_t run -i --rm busybox cat <"$T/bin" | sha256sum)" "$(sha256sum <"$T/bin")"
    # EOF reaches the process: cat ends, then the shell goes on.
    run docker_t run -i --rm busybox sh -c 'cat; echo EOF-seen'  < <(printf 'abc')
    assert_status 0
    assert_eq "$output" abcEOF-seen
    run docker_t run -i --rm busybox sh -c 'cat; echo EOF-seen' </dev/null
    assert_eq "$output" EOF-seen
    # The exit code after stdin: wc counts what arrived.
    run docker_t run -i --rm busybox sh -c 'n=$(wc -c); echo $n; exit 9' <"$T/bin"
    assert_status 9
    assert_eq "$output" 1048576
    no_containers
    assert_fd_baseline
}

@test "docker run -it sh in a terminal: line editing, ctrl-c, resize, exit 5, terminal restored" {
    ctr_start
    tm_start it
    local before
    before="$(outer_modes it)"
    assert_contains "$before" "icanon"
    tm_type it 'D run -it --rm --name it1 busybox sh; printf "\nRC=%s\n" "$?"'
    tm_wait it '^/ # '
    tm_type it 'stty size'
    tm_wait it '^40 120$'
    # Line editing: BackSpace erases a character.
    tm_keys it -l 'echo ab'
    tm_keys it BSpace
    tm_keys it -l 'c'
    tm_keys it Enter
    tm_wait it '^ac$'
    # ctrl-c reaches the shell (a byte on the pty), not the CLI.
    tm_type it 'sleep 100'
    sleep 0.5
    tm_keys it C-c
    tm_type it 'echo ali""ve'
    tm_wait it '^alive$'
    wait_state it1 running
    # A resize of the terminal reaches the container's pty.
    tm resize-window -t it -x 100 -y 30
    sleep 0.5
    tm_type it 'stty size'
    tm_wait it '^30 100$'
    tm_type it 'exit 5'
    tm_wait it '^RC=5$'
    # The CLI put the terminal back.
    assert_eq "$(outer_modes it)" "$before"
    no_containers
    assert_fd_baseline
}

# ---- detach and attach ------------------------------------------------------------------------

@test "run -dit, attach, ctrl-p ctrl-q detaches (still running), attach again, exit 4" {
    ctr_start
    docker_t run -dit --name det1 busybox sh >/dev/null
    tm_start at
    tm_type at 'D attach det1; printf "\nRC1=%s\n" "$?"'
    sleep 0.5
    tm_type at 'echo hel""lo$((2+3))'
    tm_wait at '^hello5'
    tm_keys at C-p C-q
    tm_wait at 'read escape sequence'
    tm_wait at '^RC1=[0-9]+$'
    wait_state det1 running
    sleep 0.3
    wait_state det1 running
    tm_type at 'D attach det1; printf "\nRC2=%s\n" "$?"'
    sleep 0.5
    tm_type at 'echo seco""nd'
    tm_wait at '^second'
    tm_type at 'exit 4'
    tm_wait at '^RC2=4$'
    wait_state det1 exited
    assert_eq "$(docker_t inspect -f '{{.State.ExitCode}}' det1)" 4
    docker_t rm det1 >/dev/null
    assert_fd_baseline
}

@test "run -it: ctrl-p ctrl-q detaches the foreground run (exit 0), the shell keeps running" {
    ctr_start
    tm_start rd
    tm_type rd 'D run -it --name rd1 busybox sh; printf "\nRC=%s\n" "$?"'
    tm_wait rd '^/ # '
    tm_type rd 'echo ma""rk'
    tm_wait rd '^mark'
    tm_keys rd C-p C-q
    tm_wait rd '^RC=0$'
    wait_state rd1 running
    run docker_t exec rd1 echo inside
    assert_status 0
    assert_eq "$output" inside
    docker_t rm -f rd1 >/dev/null
    assert_fd_baseline
}

@test "attach --sig-proxy=false streams a -d container's output; killing the client leaves it running" {
    ctr_start
    docker_t run -d --name sp1 busybox sh -c 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done' >/dev/null
    docker_b attach --sig-proxy=false sp1 >"$T/att.out" 2>&1 &
    local pid=$!
    wait_file "$T/att.out" '^tick [0-9]+$' 10
    local n1 n2
    n1="$(grep -c '^tick' "$T/att.out")"
    sleep 0.5
    n2="$(grep -c '^tick' "$T/att.out")"
    [[ "$n2" -gt "$n1" ]] || fail "no new output while attached ($n1 then $n2 lines)"
    # The attached lines are consecutive.
    local first last
    first="$(grep -m1 '^tick' "$T/att.out" | cut -d' ' -f2)"
    last="$(grep '^tick' "$T/att.out" | tail -n1 | cut -d' ' -f2)"
    assert_eq "$(grep '^tick' "$T/att.out" | cut -d' ' -f2 | tr '\n' ' ')" "$(seq "$first" "$last" | tr '\n' ' ')"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    sleep 0.3
    wait_state sp1 running
    local l1
    l1="$(docker_t logs sp1 | tail -n1)"
    sleep 0.5
    [[ "$(docker_t logs sp1 | tail -n1)" != "$l1" ]] || fail "the container stopped writing"
    docker_t rm -f sp1 >/dev/null
    assert_fd_baseline
}

@test "two attached clients both receive all of the output" {
    ctr_start
    docker_t run -d --name two1 busybox sh -c 'while [ ! -e /go ]; do sleep 0.05; done; seq 1 5000; echo fin' >/dev/null
    docker_b attach --no-stdin two1 >"$T/a.out" 2>"$T/a.err" &
    local pa=$!
    docker_b attach --no-stdin two1 >"$T/b.out" 2>"$T/b.err" &
    local pb=$!
    # Both clients are attached once the daemon holds two more connections than at rest.
    wait_fds_above 4
    sleep 0.5
    docker_t exec two1 touch /go
    local rc=0
    wait "$pa" || rc=$?
    assert_eq "$rc" 0
    rc=0
    wait "$pb" || rc=$?
    assert_eq "$rc" 0
    local want
    want="$( (seq 1 5000; echo fin) | sha256sum)"
    assert_eq "$(sha256sum <"$T/a.out")" "$want"
    assert_eq "$(sha256sum <"$T/b.out")" "$want"
    docker_t rm two1 >/dev/null
    assert_fd_baseline
}

# ---- exec -------------------------------------------------------------------------------------

@test "docker exec: ls /, exit codes 7 and 127, -e -w -u, -i stdin, -d, exec json" {
    ctr_start
    docker_t run -d --name ex1 busybox sleep 1000 >/dev/null
    run docker_t exec ex1 ls /
    assert_status 0
    assert_match "$output" '^bin$'
    assert_match "$output" '^proc$'
    run docker_t exec ex1 sh -c 'echo out; echo err >&2; exit 7'
    assert_status 7
    assert_eq "$(docker_t exec ex1 sh -c 'echo out; echo err >&2' 2>/dev/null)" out
    assert_eq "$(docker_t exec ex1 sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" err
    run -127 docker_t exec ex1 nosuch
    assert_status 127
    run docker_t exec -e FOO=bar -w /tmp -u nobody ex1 sh -c 'echo "$FOO $(pwd) $(id -u)"'
    assert_status 0
    assert_eq "$output" "bar /tmp 65534"
    run docker_t exec -u 1234:5678 ex1 id
    assert_contains "$output" "uid=1234 gid=5678"
    run docker_t exec -i ex1 cat <<<"piped"
    assert_status 0
    assert_eq "$output" piped
    printf 'abc\x10\x11def\n' >"$T/keys"
    assert_eq "$(docker_t exec -i ex1 cat <"$T/keys" | od -An -tx1 | tr -d ' \n')" \
        "$(od -An -tx1 <"$T/keys" | tr -d ' \n')"
    head -c 1M /dev/urandom >"$T/bin"
    assert_eq "$(docker_t exec -i ex1 cat <"$T/bin" | sha256sum)" "$(sha256sum <"$T/bin")"
    # -d: the command runs in the background.
    run docker_t exec -d ex1 sh -c 'sleep 0.2; echo d >/tmp/dmark'
    assert_status 0
    assert_eq "$output" ""
    local i
    for ((i = 0; i < 50; i++)); do
        [[ "$(docker_t exec ex1 cat /tmp/dmark 2>/dev/null)" == d ]] && break
        sleep 0.1
    done
    assert_eq "$(docker_t exec ex1 cat /tmp/dmark)" d
    # The API: create, detached start, GET /exec/{id}/json.
    local eid js
    eid="$(curl_b -X POST -H 'Content-Type: application/json' \
        -d '{"Cmd":["sh","-c","exit 6"],"AttachStdout":false,"AttachStderr":false}' \
        http://x/containers/ex1/exec | json_get 'j["Id"]')"
    assert_match "$eid" '^[0-9a-f]{64}$'
    assert_eq "$(http_status "http://x/exec/$eid/start" -X POST -H 'Content-Type: application/json' -d '{"Detach":true}')" 200
    for ((i = 0; i < 50; i++)); do
        js="$(curl_b "http://x/exec/$eid/json")"
        [[ "$(json_get 'j["Running"]' <<<"$js")" == False ]] && break
        sleep 0.1
    done
    assert_eq "$(json_get 'j["ID"]' <<<"$js")" "$eid"
    assert_eq "$(json_get 'j["ExitCode"]' <<<"$js")" 6
    assert_match "$(json_get 'j["Pid"]' <<<"$js")" '^[1-9][0-9]*$'
    docker_t rm -f ex1 >/dev/null
    assert_fd_baseline
}

@test "docker exec: confinement as the container's (caps, no_new_privs, fds, pids, cgroup); --privileged" {
    ctr_start
    docker_t run -d --name cf1 busybox sleep 1000 >/dev/null
    run docker_t exec cf1 grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status
    assert_status 0
    assert_contains "$output" "CapEff:	$DEFAULT_CAPS"
    assert_eq "$output" "$(docker_t exec cf1 grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/1/status)"
    # With no-new-privileges on the container, the exec has it too.
    docker_t run -d --name cf2 --security-opt no-new-privileges busybox sleep 1000 >/dev/null
    assert_eq "$(docker_t exec cf2 grep NoNewPrivs /proc/self/status)" "NoNewPrivs:	1"
    # Only fds 0-2 (and the one ls opens to read the directory).
    run docker_t exec cf1 ls /proc/self/fd
    assert_status 0
    assert_match "$(tr '\n' ' ' <<<"$output")" '^0 1 2 ([0-9]+ )?$'
    # The container's pid namespace: sleep is pid 1, no host process is visible.
    run docker_t exec cf1 ps -o pid,comm
    assert_status 0
    assert_match "$output" '^ *1 +sleep$'
    assert_not_contains "$output" berthd
    assert_not_contains "$output" berth-shim
    [[ "$(grep -c . <<<"$output")" -le 4 ]] || fail "too many processes: $output"
    # Same cgroup, hostname, mount namespace as pid 1.
    assert_eq "$(docker_t exec cf1 cat /proc/self/cgroup)" "$(docker_t exec cf1 cat /proc/1/cgroup)"
    assert_eq "$(docker_t exec cf1 hostname)" "$(docker_t inspect -f '{{.Config.Hostname}}' cf1)"
    run docker_t exec cf1 sh -c 'for n in mnt pid net uts ipc cgroup; do printf "%s " "$(readlink /proc/self/ns/$n)"; done; echo; for n in mnt pid net uts ipc cgroup; do printf "%s " "$(readlink /proc/1/ns/$n)"; done'
    assert_status 0
    assert_eq "$(sed -n 1p <<<"$output")" "$(sed -n 2p <<<"$output")"
    # Masked /proc paths stay masked for the exec.
    if [[ -e /proc/kcore ]]; then
        assert_eq "$(docker_t exec cf1 sh -c 'head -c 16 /proc/kcore | wc -c')" 0
    fi
    # --privileged: every capability the host has.
    local host
    host="$(grep CapEff /proc/self/status)"
    assert_eq "$(docker_t exec --privileged cf1 grep CapEff /proc/self/status)" "$host"
    docker_t rm -f cf1 cf2 >/dev/null
    assert_fd_baseline
}

@test "docker exec in a stopped container fails with 'is not running' (exit 1)" {
    ctr_start
    docker_t run -d --name st1 busybox sh -c 'exit 0' >/dev/null
    docker_t wait st1 >/dev/null
    run docker_t exec st1 true
    assert_status 1
    assert_contains "$output" "is not running"
    docker_t create --name st2 busybox sleep 10 >/dev/null
    run docker_t exec st2 true
    assert_status 1
    assert_contains "$output" "is not running"
    docker_t rm st1 st2 >/dev/null
    assert_fd_baseline
}

@test "docker exec -it sh in a terminal: size, resize, exit 4" {
    ctr_start
    docker_t run -d --name xi1 busybox sleep 1000 >/dev/null
    tm_start xi
    tm_type xi 'D exec -it xi1 sh; printf "\nRC=%s\n" "$?"'
    tm_wait xi '^/ # '
    tm_type xi 'stty size'
    tm_wait xi '^40 120$'
    tm_keys xi -l 'echo xy'
    tm_keys xi BSpace
    tm_keys xi -l 'z'
    tm_keys xi Enter
    tm_wait xi '^xz$'
    tm resize-window -t xi -x 90 -y 25
    sleep 0.5
    tm_type xi 'stty size'
    tm_wait xi '^25 90$'
    tm_type xi 'exit 4'
    tm_wait xi '^RC=4$'
    wait_state xi1 running
    docker_t rm -f xi1 >/dev/null
    assert_fd_baseline
}

@test "docker create -it, then start -ai in a terminal" {
    ctr_start
    docker_t create -it --name sa1 busybox sh >/dev/null
    tm_start sa
    tm_type sa 'D start -ai sa1; printf "\nRC=%s\n" "$?"'
    sleep 0.5
    tm_type sa 'echo hi$((1+1))'
    tm_wait sa '^hi2'
    tm_type sa 'exit 6'
    tm_wait sa '^RC=6$'
    assert_eq "$(docker_t inspect -f '{{.State.ExitCode}}' sa1)" 6
    docker_t rm sa1 >/dev/null
    assert_fd_baseline
}

# ---- berth CLI --------------------------------------------------------------------------------

@test "berth run: echo, exit codes 3, 127, 126; -i stdin with binary data; --rm" {
    ctr_start
    run berth_t run --rm busybox echo Hello berth
    assert_status 0
    assert_eq "$output" "Hello berth"
    run berth_t run --rm busybox sh -c 'exit 3'
    assert_status 3
    assert_eq "$(berth_t run --rm busybox sh -c 'echo out; echo err >&2' 2>/dev/null)" out
    assert_eq "$(berth_t run --rm busybox sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" err
    run berth_t run --rm -a stdout busybox sh -c 'echo o; echo e >&2'
    assert_eq "$output" o
    run -127 berth_t run --rm busybox nosuchcmd
    assert_status 127
    run berth_t run --rm busybox /etc
    assert_status 126
    run berth_t run -i --rm busybox cat <<<"x"
    assert_status 0
    assert_eq "$output" x
    head -c 1M /dev/urandom >"$T/bin"
    assert_eq "$(berth_t run -i --rm busybox cat <"$T/bin" | sha256sum)" "$(sha256sum <"$T/bin")"
    no_containers
    assert_fd_baseline
}

@test "berth exec: output, exit codes, -e -w -u, -i, -d; a stopped container fails" {
    ctr_start
    docker_t run -d --name be1 busybox sleep 1000 >/dev/null
    run berth_t exec be1 ls /
    assert_status 0
    assert_match "$output" '^etc$'
    run berth_t exec be1 sh -c 'exit 7'
    assert_status 7
    run -127 berth_t exec be1 nosuch
    assert_status 127
    run berth_t exec -e FOO=bar -w /tmp -u nobody be1 sh -c 'echo "$FOO $(pwd) $(id -u)"'
    assert_status 0
    assert_eq "$output" "bar /tmp 65534"
    run berth_t exec -i be1 cat <<<"piped"
    assert_eq "$output" piped
    run berth_t exec -d be1 touch /tmp/bmark
    assert_status 0
    local i
    for ((i = 0; i < 50; i++)); do
        berth_t exec be1 test -e /tmp/bmark && break
        sleep 0.1
    done
    berth_t exec be1 test -e /tmp/bmark || fail "exec -d did not run"
    docker_t stop -t 0 be1 >/dev/null
    run berth_t exec be1 true
    assert_failed
    assert_contains "$output" "is not running"
    docker_t rm be1 >/dev/null
    assert_fd_baseline
}

@test "berth run -it, detach with ctrl-p ctrl-q, berth attach, exec -it, start -ai; terminal restored" {
    ctr_start
    tm_start bt
    local before
    before="$(outer_modes bt)"
    tm_type bt 'B run -it --name bt1 busybox sh; printf "\nRC1=%s\n" "$?"'
    tm_wait bt '^/ # '
    tm_type bt 'stty size'
    tm_wait bt '^40 120$'
    tm_keys bt -l 'echo ab'
    tm_keys bt BSpace
    tm_keys bt -l 'c'
    tm_keys bt Enter
    tm_wait bt '^ac$'
    tm_type bt 'sleep 100'
    sleep 0.5
    tm_keys bt C-c
    tm_type bt 'echo ali""ve'
    tm_wait bt '^alive$'
    tm resize-window -t bt -x 100 -y 30
    sleep 0.5
    tm_type bt 'stty size'
    tm_wait bt '^30 100$'
    tm_keys bt C-p C-q
    tm_wait bt '^RC1=0$'
    wait_state bt1 running
    assert_eq "$(outer_modes bt)" "$before"
    # berth attach, then exit 5.
    tm_type bt 'B attach bt1; printf "\nRC2=%s\n" "$?"'
    sleep 0.5
    tm_type bt 'echo ag""ain'
    tm_wait bt '^again'
    tm_type bt 'exit 5'
    tm_wait bt '^RC2=5$'
    wait_state bt1 exited
    assert_eq "$(outer_modes bt)" "$before"
    # berth start -ai
    tm_type bt 'B start -ai bt1; printf "\nRC3=%s\n" "$?"'
    sleep 0.5
    tm_type bt 'echo st""arted'
    tm_wait bt '^started'
    tm_type bt 'exit 3'
    tm_wait bt '^RC3=3$'
    # berth exec -it
    docker_t run -d --name bt2 busybox sleep 1000 >/dev/null
    tm_type bt 'B exec -it bt2 sh; printf "\nRC4=%s\n" "$?"'
    tm_wait bt '^/ # '
    tm_type bt 'echo ex""ec'
    tm_wait bt '^exec$'
    tm_type bt 'exit 8'
    tm_wait bt '^RC4=8$'
    assert_eq "$(outer_modes bt)" "$before"
    # berth run -it --rm
    tm_type bt 'B run -it --rm busybox sh -c "stty size; exit 2"; printf "\nRC5=%s\n" "$?"'
    tm_wait bt '^RC5=2$'
    docker_t rm -f bt1 bt2 >/dev/null
    no_containers
    assert_fd_baseline
}

@test "exec: ConsoleSize of the start body sizes the exec's tty before it runs" {
    ctr_start
    docker_t run -d --name cs1 busybox sleep 1000 >/dev/null
    local eid out
    eid="$(curl_b -X POST -H 'Content-Type: application/json' \
        -d '{"Cmd":["stty","size"],"Tty":true,"AttachStdout":true}' \
        http://x/containers/cs1/exec | json_get 'j["Id"]')"
    out="$(curl_b --max-time 10 -X POST -H 'Content-Type: application/json' \
        -d '{"Detach":false,"Tty":true,"ConsoleSize":[33,111]}' "http://x/exec/$eid/start")"
    assert_eq "$(tr -d '\r' <<<"$out")" "33 111"
    # and from the create body, as API 1.42+ also allows
    eid="$(curl_b -X POST -H 'Content-Type: application/json' \
        -d '{"Cmd":["stty","size"],"Tty":true,"AttachStdout":true,"ConsoleSize":[21,77]}' \
        http://x/containers/cs1/exec | json_get 'j["Id"]')"
    out="$(curl_b --max-time 10 -X POST -H 'Content-Type: application/json' \
        -d '{"Detach":false,"Tty":true}' "http://x/exec/$eid/start")"
    assert_eq "$(tr -d '\r' <<<"$out")" "21 77"
    assert_eq "$(http_status "http://x/containers/cs1/exec" -X POST -H 'Content-Type: application/json' \
        -d '{"Cmd":["true"],"ConsoleSize":[1]}')" 400
    docker_t rm -f cs1 >/dev/null
}
