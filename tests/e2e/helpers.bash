# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2154 # $status and $output are set by bats' `run`.
# Shared helpers for the berth e2e tests. Load with `load helpers` from a .bats file.
#
# Every test gets a private directory ($T) holding the daemon's data root, exec root, socket,
# pidfile, log and a DOCKER_CONFIG. Daemons are started in the background, recorded by PID, and
# teardown stops exactly those PIDs (SIGTERM, then SIGKILL after 10 s) and nothing else.

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BERTH_BIN="${BERTH_BIN:-$(cd "$E2E_DIR/../.." && pwd)/build/bin}"
BERTHD="$BERTH_BIN/berthd"
BERTH="$BERTH_BIN/berth"
PY="${BERTH_E2E_PYTHON:-python3}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=67}"

# PIDs of every daemon this test started (teardown stops them) and their log files.
BERTHD_PIDS=()
declare -gA BERTHD_LOGS=()
# PIDs of helper processes (listeners, lingering clients) this test started in the background.
AUX_PIDS=()

# aux_start CMD...: run an external command (not a shell function: its PID must be the
# command's own) in the background; sets AUX_LAST_PID. teardown kills it by PID.
aux_start() {
    "$@" </dev/null >/dev/null 2>&1 3>&- &
    AUX_LAST_PID=$!
    AUX_PIDS+=("$AUX_LAST_PID")
}

# wait_file FILE PATTERN [SECONDS]: wait until FILE contains a line matching PATTERN.
wait_file() {
    local f="$1" pat="$2" secs="${3:-10}" i
    for ((i = 0; i < secs * 20; i++)); do
        if [[ -f "$f" ]] && grep -qE -- "$pat" "$f"; then
            return 0
        fi
        sleep 0.05
    done
    echo "timed out waiting for /$pat/ in $f: $(cat "$f" 2>/dev/null)" >&2
    return 1
}

# berthd_dir: create the per-test directory and set T, SOCK, DATA, EXEC, PIDFILE, LOG, CONF.
berthd_dir() {
    if [[ -n "${T:-}" ]]; then
        return 0
    fi
    local base="${BERTH_E2E_TMP:-${BATS_TMPDIR:-/tmp}}"
    T="$(mktemp -d "$base/t.XXXXXX")"
    SOCK="$T/berth.sock"
    DATA="$T/data"
    EXEC="$T/exec"
    PIDFILE="$T/berthd.pid"
    LOG="$T/berthd.log"
    CONF="$T/daemon.json"
    echo '{}' >"$CONF"
    mkdir -p "$T/docker-config"
    export DOCKER_CONFIG="$T/docker-config"
}

# berthd_spawn LOGFILE ARGS...: start berthd with exactly ARGS in the background, stderr and
# stdout to LOGFILE; sets BERTHD_LAST_PID. Does not wait for readiness. With BERTHD_NOFILE set,
# the daemon runs with that open-files limit.
berthd_spawn() {
    local log="$1"
    shift
    if [[ -n "${BERTHD_NOFILE:-}" ]]; then
        (
            ulimit -n "$BERTHD_NOFILE"
            exec "$BERTHD" "$@"
        ) >"$log" 2>&1 </dev/null 3>&- &
    else
        "$BERTHD" "$@" >"$log" 2>&1 </dev/null 3>&- &
    fi
    BERTHD_LAST_PID=$!
    BERTHD_PIDS+=("$BERTHD_LAST_PID")
    BERTHD_LOGS[$BERTHD_LAST_PID]="$log"
}

# pid_running PID: true while PID exists and is not a zombie (an exited child we have not
# reaped yet still shows up in /proc).
pid_running() {
    local state
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# wait_ping SOCK [SECONDS] [PID]: wait until GET /_ping on SOCK answers OK. Fails early if PID
# (when given) exits.
wait_ping() {
    local sock="$1" secs="${2:-10}" pid="${3:-}" i
    for ((i = 0; i < secs * 20; i++)); do
        if [[ "$(curl -sS --max-time 2 --unix-socket "$sock" http://x/_ping 2>/dev/null)" == OK ]]; then
            return 0
        fi
        if [[ -n "$pid" ]] && ! pid_running "$pid"; then
            echo "berthd (pid $pid) exited before serving on $sock" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "berthd did not answer /_ping on $sock within ${secs}s" >&2
    return 1
}

# berthd_start [EXTRA ARGS...]: start the test's daemon on $SOCK with a private data root,
# exec root, pidfile and an empty config file (so no host /etc/berth/daemon.json is read);
# waits up to 10 s for /_ping. Sets BERTHD_PID.
berthd_start() {
    berthd_dir
    berthd_spawn "$LOG" -H "unix://$SOCK" --data-root "$DATA" --exec-root "$EXEC" \
        --pidfile "$PIDFILE" --config-file "$CONF" --log-level debug "$@"
    BERTHD_PID=$BERTHD_LAST_PID
    if ! wait_ping "$SOCK" 10 "$BERTHD_PID"; then
        berthd_dump_log "$BERTHD_PID"
        return 1
    fi
}

berthd_dump_log() {
    local pid="${1:-${BERTHD_PID:-}}" log
    log="${BERTHD_LOGS[$pid]:-${LOG:-}}"
    if [[ -n "$log" && -f "$log" ]]; then
        echo "----- berthd log ($log, last 80 lines) -----" >&2
        tail -n 80 "$log" >&2
        echo "----- end of berthd log -----" >&2
    fi
}

# berthd_wait_exit PID [SECONDS]: wait for PID (a child of this shell) to exit and reap it;
# sets BERTHD_RC. Returns 1 if it is still running after SECONDS (default 10).
berthd_wait_exit() {
    local pid="$1" secs="${2:-10}" i
    for ((i = 0; i < secs * 20; i++)); do
        pid_running "$pid" || break
        sleep 0.05
    done
    if pid_running "$pid"; then
        return 1
    fi
    BERTHD_RC=0
    wait "$pid" || BERTHD_RC=$?
    berthd_forget "$pid"
    return 0
}

berthd_forget() {
    local p keep=()
    for p in "${BERTHD_PIDS[@]}"; do
        [[ "$p" == "$1" ]] || keep+=("$p")
    done
    BERTHD_PIDS=("${keep[@]}")
}

# berthd_stop [PID] [SIGNAL]: signal the daemon (default: the test's daemon, SIGTERM), wait up
# to 10 s and require exit status 0. Under ASan a leak or error turns into a non-zero status.
berthd_stop() {
    local pid="${1:-${BERTHD_PID:-}}" sig="${2:-TERM}"
    if [[ -z "$pid" ]]; then
        echo "berthd_stop: no daemon" >&2
        return 1
    fi
    kill -s "$sig" "$pid"
    if ! berthd_wait_exit "$pid" 10; then
        echo "berthd (pid $pid) did not exit within 10 s of SIG$sig" >&2
        berthd_dump_log "$pid"
        kill -KILL "$pid" 2>/dev/null || true
        berthd_wait_exit "$pid" 5 || true
        return 1
    fi
    if [[ "$BERTHD_RC" -ne 0 ]]; then
        echo "berthd (pid $pid) exited with status $BERTHD_RC after SIG$sig" >&2
        berthd_dump_log "$pid"
        return 1
    fi
    [[ "$pid" != "${BERTHD_PID:-}" ]] || BERTHD_PID=
    return 0
}

# berthd_teardown: stop every daemon this test started; the test's main daemon must exit 0.
# Removes the per-test directory. Call from teardown().
berthd_teardown() {
    local rc=0 p
    if [[ -z "${BATS_TEST_COMPLETED:-}" && -n "${BERTHD_PID:-}" ]]; then
        berthd_dump_log "$BERTHD_PID"
    fi
    if [[ -n "${BERTHD_PID:-}" ]] && pid_running "$BERTHD_PID"; then
        berthd_stop "$BERTHD_PID" || rc=1
    fi
    for p in "${BERTHD_PIDS[@]}"; do
        if pid_running "$p"; then
            kill -TERM "$p" 2>/dev/null || true
            if ! berthd_wait_exit "$p" 10; then
                kill -KILL "$p" 2>/dev/null || true
                berthd_wait_exit "$p" 5 || true
            fi
        else
            wait "$p" 2>/dev/null || true
        fi
    done
    BERTHD_PIDS=()
    for p in "${AUX_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    AUX_PIDS=()
    if [[ -n "${T:-}" ]]; then
        rm -rf "$T"
    fi
    return "$rc"
}

# docker_b ARGS...: the real docker CLI against the test's daemon, with no host config.
docker_b() {
    DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" "$@"
}

# berth_b ARGS...: the berth CLI against the test's daemon.
berth_b() {
    "$BERTH" -H "unix://$SOCK" "$@"
}

# docker_t ARGS...: docker_b under a timeout, so nothing (a CLI prompt) can hang the test.
docker_t() {
    timeout 60 env DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" "$@"
}

# berth_t ARGS...: berth_b under a timeout.
berth_t() {
    timeout 60 "$BERTH" -H "unix://$SOCK" "$@"
}

# raw_http [e2e.py raw options...] < request: send raw bytes to $SOCK (or $RAW_SOCK), print the
# reply. `--mark` appends '#rawhttp: closed|reset|open'.
raw_http() {
    "$PY" "$E2E_DIR/e2e.py" raw "${RAW_SOCK:-$SOCK}" "$@"
}

# e2e_py SUBCOMMAND ARGS...: the other socket helpers in e2e.py.
e2e_py() {
    "$PY" "$E2E_DIR/e2e.py" "$@"
}

# curl_b ARGS...: curl over the test's socket; URLs are http://x/...
curl_b() {
    curl -sS --max-time 10 --unix-socket "$SOCK" "$@"
}

# http_status URL [curl args]: print only the status code.
http_status() {
    local url="$1"
    shift
    curl_b -o /dev/null -w '%{http_code}' "$@" "$url"
}

# json_get EXPR: evaluate a Python expression over the JSON on stdin (bound to `j`).
json_get() {
    "$PY" -c 'import json,sys; j=json.load(sys.stdin); v=eval(sys.argv[1]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1"
}

# header NAME: from a header dump on stdin (curl -D - / -i), print the value of NAME (last one).
header() {
    tr -d '\r' | awk -v n="$(echo "$1" | tr '[:upper:]' '[:lower:]')" '
        { i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); r = v } }
        END { print r }'
}

# berth_version: the version string from `berthd --version` ("berthd version X, build Y").
berth_version() {
    "$BERTHD" --version | sed -n 's/^berthd version \([^,]*\),.*/\1/p' | head -n1
}

# host_cgroup_version: 2 on a unified hierarchy, else 1.
host_cgroup_version() {
    if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then echo 2; else echo 1; fi
}

# fail MESSAGE: fail the test with a message.
fail() {
    echo "$*" >&2
    return 1
}

# assert_contains HAYSTACK NEEDLE
assert_contains() {
    if [[ "$1" != *"$2"* ]]; then
        printf 'expected to find: %s\nin:\n%s\n' "$2" "$1" >&2
        return 1
    fi
}

# assert_not_contains HAYSTACK NEEDLE
assert_not_contains() {
    if [[ "$1" == *"$2"* ]]; then
        printf 'did not expect: %s\nin:\n%s\n' "$2" "$1" >&2
        return 1
    fi
}

# assert_eq ACTUAL EXPECTED
assert_eq() {
    if [[ "$1" != "$2" ]]; then
        printf 'expected: %q\n     got: %q\n' "$2" "$1" >&2
        return 1
    fi
}

# assert_match STRING ERE
assert_match() {
    if ! grep -qE -- "$2" <<<"$1"; then
        printf 'expected a match for /%s/ in:\n%s\n' "$2" "$1" >&2
        return 1
    fi
}

# assert_status STATUS: check the $status left by `run`, printing $output on mismatch.
assert_status() {
    if [[ "$status" -ne "$1" ]]; then
        printf 'expected exit status %s, got %s; output:\n%s\n' "$1" "$status" "$output" >&2
        return 1
    fi
}

# assert_failed: $status from `run` is non-zero and not a timeout(1) kill.
assert_failed() {
    if [[ "$status" -eq 0 || "$status" -eq 124 || "$status" -eq 137 ]]; then
        printf 'expected a clean failure, got exit status %s; output:\n%s\n' "$status" "$output" >&2
        return 1
    fi
}

# assert_one_line TEXT: TEXT has exactly one non-empty line.
assert_one_line() {
    local n
    n="$(grep -c . <<<"$1" || true)"
    if [[ "$n" -ne 1 ]]; then
        printf 'expected exactly one line, got %s:\n%s\n' "$n" "$1" >&2
        return 1
    fi
}
