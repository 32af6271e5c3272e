#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berthd as a process: flags, config file, locking, socket ownership, signals, systemd (A1).

load helpers

setup() {
    berthd_dir
}

teardown() {
    berthd_teardown
}

# refuse ARGS...: run berthd with ARGS in the foreground (killed after 15 s if it wrongly starts
# serving); it must fail cleanly with exactly one line of output.
refuse() {
    run timeout 15 "$BERTHD" "$@"
    assert_failed
    assert_one_line "$output"
}

@test "SIGTERM: exit 0, socket and pidfile removed" {
    berthd_start
    [[ -S "$SOCK" ]] || fail "no socket at $SOCK"
    assert_eq "$(tr -d '[:space:]' <"$PIDFILE")" "$BERTHD_PID"
    berthd_stop
    [[ ! -e "$SOCK" ]] || fail "socket $SOCK left behind"
    [[ ! -e "$PIDFILE" ]] || fail "pidfile $PIDFILE left behind"
}

@test "SIGINT: exit 0, socket and pidfile removed" {
    berthd_start
    berthd_stop "$BERTHD_PID" INT
    [[ ! -e "$SOCK" ]] || fail "socket $SOCK left behind"
    [[ ! -e "$PIDFILE" ]] || fail "pidfile $PIDFILE left behind"
}

@test "SIGTERM with idle, half-sent and mid-body clients still exits 0 within 10 s" {
    berthd_start
    aux_start "$PY" "$E2E_DIR/e2e.py" linger "$SOCK" "$T/linger.ready" 60
    wait_file "$T/linger.ready" ready 10
    berthd_stop
    [[ ! -e "$SOCK" ]] || fail "socket $SOCK left behind"
}

@test "a second daemon on the same data root is refused; the first keeps serving" {
    berthd_start
    local pid_before
    pid_before="$(cat "$PIDFILE")"
    refuse -H "unix://$T/second.sock" --data-root "$DATA" --exec-root "$T/exec2" \
        --pidfile "$T/second.pid" --config-file "$CONF"
    assert_contains "$output" "in use"
    [[ ! -e "$T/second.sock" ]] || fail "the refused daemon left $T/second.sock"
    assert_eq "$(curl_b http://x/_ping)" OK
    assert_eq "$(cat "$PIDFILE")" "$pid_before"
    run docker_b version --format '{{.Server.APIVersion}}'
    assert_status 0
    assert_eq "$output" 1.44
}

@test "a second daemon on a live socket is refused and does not steal it" {
    berthd_start
    refuse -H "unix://$SOCK" --data-root "$T/data2" --exec-root "$T/exec2" \
        --pidfile "$T/second.pid" --config-file "$CONF"
    assert_match "$output" "already listening|in use"
    [[ -S "$SOCK" ]] || fail "the refused daemon removed $SOCK"
    assert_eq "$(curl_b http://x/_ping)" OK
    assert_eq "$(curl_b http://x/info | json_get 'j["DockerRootDir"]')" "$DATA"
}

@test "unknown flags and bad values are refused, naming the flag" {
    refuse --bogus-flag -H "unix://$SOCK" --data-root "$DATA" --exec-root "$EXEC" --config-file "$CONF"
    assert_contains "$output" "bogus-flag"
    refuse --log-level verbose -H "unix://$SOCK" --data-root "$DATA" --exec-root "$EXEC" --config-file "$CONF"
    assert_contains "$output" "log-level"
    refuse -H "unix://$SOCK" --data-root "$DATA" --exec-root "$EXEC" --config-file "$CONF" --data-root
    assert_contains "$output" "data-root"
    [[ ! -e "$SOCK" ]] || fail "a refused daemon created $SOCK"
    [[ ! -e "$DATA" ]] || fail "a refused daemon created $DATA"
    refuse -H "bogus://$SOCK" --data-root "$DATA" --exec-root "$EXEC" --config-file "$CONF"
    assert_contains "$output" "bogus://"
    [[ ! -e "$SOCK" ]] || fail "a refused daemon created $SOCK"
}

@test "--config-file with an unknown key is refused, naming the key" {
    echo '{"data-root": "'"$DATA"'", "bogus-key": 1}' >"$T/bad.json"
    refuse -H "unix://$SOCK" --exec-root "$EXEC" --config-file "$T/bad.json"
    assert_contains "$output" "bogus-key"
    echo '{"data-root": ' >"$T/broken.json"
    refuse -H "unix://$SOCK" --data-root "$DATA" --exec-root "$EXEC" --config-file "$T/broken.json"
    [[ ! -e "$SOCK" ]] || fail "a refused daemon created $SOCK"
}

@test "--config-file is honoured and flags override it" {
    cat >"$T/cfg.json" <<EOF
{
  "hosts": ["unix://$T/cfg.sock"],
  "data-root": "$T/cfgdata",
  "exec-root": "$T/cfgexec",
  "pidfile": "$T/cfg.pid",
  "log-level": "debug",
  "debug": true,
  "group": "root",
  "insecure-registries": ["127.0.0.1:5000"],
  "registry-mirrors": [],
  "live-restore": false
}
EOF
    berthd_spawn "$T/cfg.log" --config-file "$T/cfg.json"
    local pid=$BERTHD_LAST_PID
    wait_ping "$T/cfg.sock" 10 "$pid" || { berthd_dump_log "$pid"; false; }
    assert_eq "$(curl -sS --unix-socket "$T/cfg.sock" http://x/info | json_get 'j["DockerRootDir"]')" "$T/cfgdata"
    assert_eq "$(tr -d '[:space:]' <"$T/cfg.pid")" "$pid"
    berthd_stop "$pid"
    [[ ! -e "$T/cfg.sock" ]] || fail "cfg.sock left behind"

    # Flags win: data root and host from the command line, the rest from the file.
    berthd_spawn "$T/flag.log" --config-file "$T/cfg.json" --data-root "$T/flagdata" -H "unix://$SOCK"
    pid=$BERTHD_LAST_PID
    wait_ping "$SOCK" 10 "$pid" || { berthd_dump_log "$pid"; false; }
    assert_eq "$(curl_b http://x/info | json_get 'j["DockerRootDir"]')" "$T/flagdata"
    [[ ! -e "$T/cfg.sock" ]] || fail "-H did not override hosts from the config file"
    berthd_stop "$pid"
}

@test "without --config-file a missing /etc/berth/daemon.json is fine" {
    [[ ! -e /etc/berth/daemon.json ]] || skip "/etc/berth/daemon.json exists on this host"
    berthd_spawn "$LOG" -H "unix://$SOCK" --data-root "$DATA" --exec-root "$EXEC" --pidfile "$PIDFILE"
    BERTHD_PID=$BERTHD_LAST_PID
    wait_ping "$SOCK" 10 "$BERTHD_PID"
    berthd_stop
}

@test "--group: socket is 0660 root:group and only group members can connect" {
    groupadd -f berthtest
    local gid
    gid="$(getent group berthtest | cut -d: -f3)"
    # Let other uids reach the socket's directory so only the socket's own mode decides.
    chmod 0755 "$T" "$(dirname "$T")"
    berthd_start --group berthtest
    assert_eq "$(stat -c '%a %U %G' "$SOCK")" "660 root berthtest"
    run setpriv --reuid 65534 --regid 65534 --clear-groups \
        curl -sS --max-time 5 --unix-socket "$SOCK" http://x/_ping
    [[ "$status" -ne 0 && "$output" != OK ]] || fail "uid 65534 outside the group connected: $output"
    run setpriv --reuid 65534 --regid 65534 --groups "$gid" \
        curl -sS --max-time 5 --unix-socket "$SOCK" http://x/_ping
    assert_status 0
    assert_eq "$output" OK
}

@test "--group with a group that does not exist is refused" {
    refuse -H "unix://$SOCK" --data-root "$DATA" --exec-root "$EXEC" --config-file "$CONF" \
        --group nosuchgroup-e2e
    assert_contains "$output" "nosuchgroup-e2e"
}

@test "no TCP listener by default" {
    berthd_start
    run awk '$4 == "0A"' /proc/net/tcp /proc/net/tcp6
    assert_status 0
    assert_eq "$output" ""
}

@test "a socket path that is a symlink is refused and not followed" {
    ln -s "$T/target.sock" "$T/link.sock"
    refuse -H "unix://$T/link.sock" --data-root "$DATA" --exec-root "$EXEC" --config-file "$CONF"
    assert_match "$output" "link\.sock|symlink|symbolic"
    [[ -L "$T/link.sock" ]] || fail "the symlink was removed or replaced"
    [[ ! -e "$T/target.sock" ]] || fail "the daemon followed the symlink"
}

@test "a stale socket file with no listener is replaced" {
    e2e_py stale "$SOCK"
    [[ -S "$SOCK" ]] || fail "could not create a stale socket"
    berthd_start
    assert_eq "$(curl_b http://x/_ping)" OK
}

@test "several -H sockets all serve and are all removed at exit" {
    berthd_start -H "unix://$T/second.sock"
    assert_eq "$(curl_b http://x/_ping)" OK
    assert_eq "$(curl -sS --max-time 5 --unix-socket "$T/second.sock" http://x/_ping)" OK
    berthd_stop
    [[ ! -e "$SOCK" && ! -e "$T/second.sock" ]] || fail "a socket was left behind"
}

@test "socket activation: -H fd:// serves the socket systemd passes" {
    systemd-socket-activate -l "$SOCK" -E ASAN_OPTIONS -E UBSAN_OPTIONS \
        "$BERTHD" -H fd:// --data-root "$DATA" --exec-root "$EXEC" --pidfile "$PIDFILE" \
        --config-file "$CONF" >"$LOG" 2>&1 </dev/null 3>&- &
    BERTHD_PID=$!
    BERTHD_PIDS+=("$BERTHD_PID")
    BERTHD_LOGS[$BERTHD_PID]="$LOG"
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -S "$SOCK" ]] && break
        sleep 0.05
    done
    # The first connection makes systemd-socket-activate exec berthd (same PID).
    assert_eq "$(curl -sS --max-time 10 --unix-socket "$SOCK" http://x/_ping)" OK
    run docker_b version --format '{{.Server.APIVersion}}'
    assert_status 0
    assert_eq "$output" 1.44
    assert_eq "$(tr -d '\0' <"/proc/$BERTHD_PID/cmdline")" \
        "$(printf '%s' "$BERTHD" -H fd:// --data-root "$DATA" --exec-root "$EXEC" --pidfile "$PIDFILE" --config-file "$CONF")"
    berthd_stop
}

@test "-H fd:// without LISTEN_FDS is refused" {
    refuse -H fd:// --data-root "$DATA" --exec-root "$EXEC" --config-file "$CONF"
}

# notify_case ADDR: sd_notify to ADDR (a path, or @name for the abstract namespace).
notify_case() {
    local addr="$1"
    aux_start bash -c 'exec "$0" "$1" notify "$2" "$3" >"$4" 2>&1' \
        "$PY" "$E2E_DIR/e2e.py" "$addr" "$SOCK" "$T/notify.out"
    local npid=$AUX_LAST_PID
    wait_file "$T/notify.out" '^listening' 10
    export NOTIFY_SOCKET="$addr"
    berthd_start
    unset NOTIFY_SOCKET
    wait_file "$T/notify.out" '^ping-at-ready=' 5
    assert_contains "$(cat "$T/notify.out")" "msg READY=1"
    # READY=1 was sent only once the socket answered.
    assert_contains "$(cat "$T/notify.out")" "ping-at-ready=200"
    berthd_stop
    wait_file "$T/notify.out" '^done' 10
    local out
    out="$(cat "$T/notify.out")"
    assert_contains "$out" "msg STOPPING=1"
    local lr ls
    lr="$(grep -n '^msg READY=1' <<<"$out" | head -n1 | cut -d: -f1)"
    ls="$(grep -n '^msg STOPPING=1' <<<"$out" | head -n1 | cut -d: -f1)"
    [[ "$lr" -lt "$ls" ]] || fail "STOPPING=1 before READY=1: $out"
    wait "$npid" || true
}

@test "sd_notify: READY=1 once serving, STOPPING=1 at SIGTERM (path socket)" {
    notify_case "$T/notify.sock"
}

@test "sd_notify: abstract NOTIFY_SOCKET" {
    notify_case "@berth-e2e-notify-$$-$RANDOM"
}

@test "berthd --version and --help" {
    run "$BERTHD" --version
    assert_status 0
    assert_match "$output" "^berthd version [0-9]+\.[0-9]+\.[0-9]+[^,]*, build [0-9a-zA-Z]+\$"
    run "$BERTHD" --help
    assert_status 0
    local f
    for f in --host --data-root --exec-root --pidfile --log-level --config-file --group --version; do
        assert_contains "$output" "$f"
    done
}
