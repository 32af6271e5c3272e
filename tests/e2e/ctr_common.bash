# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2154,SC2034 # $status/$output come from `run`; CRC, COUT, CID are for callers.
# Helpers shared by containers.bats, isolation.bats, restore.bats, ports*.bats and the other
# container test files. Load after helpers and registry.

# fd_count: the daemon's open fds now.
fd_count() {
    find "/proc/$BERTHD_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# ctr_dir: berthd_dir (the exec root is $T/exec: longer than a unix socket path allows once
# <id>/shim.sock is appended, which the daemon must cope with).
ctr_dir() {
    berthd_dir
}

# ctr_file_hooks: define the usual hooks of a container test file: setup_file builds the
# fixtures, setup makes the test's daemon directories (ctr_dir), teardown is ctr_teardown. Call
# it at the top level after the loads; a file that needs more redefines that hook after the call.
# shellcheck disable=SC2317 # the hooks are called by bats
ctr_file_hooks() {
    setup_file() {
        fixtures_build
    }
    setup() {
        ctr_dir
    }
    teardown() {
        ctr_teardown
    }
}

# get URL: the body, retrying for up to 10 s in all while the server starts (a connection that
# never completes costs its 2 s --max-time, never more than the deadline).
get() {
    local end=$((SECONDS + 10))
    while ((SECONDS < end)); do
        curl -sS --max-time 2 "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    curl -sS --max-time 2 "$1"
}

# ctr_start [BERTHD ARGS...]: start the daemon, load the busybox fixture as busybox:latest and
# record the fd baseline in FD_BASE.
ctr_start() {
    berthd_start "$@"
    docker_t load -i "$FIXTURES/busybox/busybox.tar" >/dev/null || fail "docker load failed"
    docker_t image inspect busybox >/dev/null || fail "busybox not loaded"
    fd_settle_base
}

# fd_settle_base: wait a moment for the CLI's connections to close, then set FD_BASE.
fd_settle_base() {
    sleep 0.2
    FD_BASE="$(fd_count)"
}

# wait_fds_above N: wait up to 5 s until the daemon has FD_BASE + N fds open or more (e.g. once
# N/2 attach clients are connected); no failure when it does not.
wait_fds_above() {
    local i
    for ((i = 0; i < 50; i++)); do
        [[ "$(fd_count)" -ge $((FD_BASE + $1)) ]] && return 0
        sleep 0.1
    done
    return 0
}

# assert_fd_baseline: the daemon's fd count comes back to FD_BASE within 5 s.
assert_fd_baseline() {
    local i n
    for ((i = 0; i < 100; i++)); do
        n="$(fd_count)"
        if [[ "$n" -le "$FD_BASE" ]]; then
            return 0
        fi
        sleep 0.05
    done
    ls -l "/proc/$BERTHD_PID/fd" >&2
    ss -anp 2>/dev/null | grep -F "pid=$BERTHD_PID," >&2
    fail "daemon has $n open fds, baseline $FD_BASE"
}

# ctr_run [docker run options...] IMAGE CMD...: `docker run -d`, wait for the exit, then set
# CID, CRC (the exit code from docker wait) and COUT (stdout and stderr from docker logs).
# The container is removed afterwards.
ctr_run() {
    CID="$(docker_t run -d "$@")" || fail "docker run -d $* failed: $CID"
    CRC="$(docker_t wait "$CID")" || fail "docker wait $CID failed"
    COUT="$(docker_t logs "$CID" 2>&1)"
    docker_t rm "$CID" >/dev/null || fail "docker rm $CID failed"
}

# wait_state NAME STATUS [SECONDS]: wait until State.Status of NAME is STATUS.
wait_state() {
    local i s=""
    for ((i = 0; i < ${3:-10} * 10; i++)); do
        s="$(docker_t inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" || true
        [[ "$s" == "$2" ]] && return 0
        sleep 0.1
    done
    fail "container $1: State.Status is '$s', want '$2'"
}

# wait_log NAME ERE [SECONDS]: wait until docker logs NAME has a line matching ERE.
wait_log() {
    local i
    for ((i = 0; i < ${3:-10} * 10; i++)); do
        docker_t logs "$1" 2>&1 | grep -qE -- "$2" && return 0
        sleep 0.1
    done
    fail "no /$2/ in the logs of $1: $(docker_t logs "$1" 2>&1 | tail -n5)"
}

# shim_pids: PIDs of berth-shim processes serving this test's exec root.
shim_pids() {
    pgrep -f "berth-shim $EXEC/" || true
}

# ctr_cgroups_left IDS...: the cgroup dirs berth/<id> that still exist, for any of IDS.
ctr_cgroups_left() {
    local id d
    for id in "$@"; do
        for d in /sys/fs/cgroup/*/berth/"$id" /sys/fs/cgroup/berth/"$id"; do
            [[ -d "$d" ]] && echo "$d"
        done
    done
    return 0
}

# ctr_teardown: remove every container of this test's daemon (live restore would keep them
# running after the daemon stops), kill any shim of this test that is left (by PID), unmount
# what is left under $T, then the usual teardown.
ctr_teardown() {
    local p ids d
    if [[ -n "${BERTHD_PID:-}" ]] && pid_running "$BERTHD_PID"; then
        ids="$(docker_t ps -aq --no-trunc 2>/dev/null)" || true
        if [[ -n "$ids" ]]; then
            # shellcheck disable=SC2086 # one id per word
            docker_t rm -f $ids >/dev/null 2>&1 || true
        fi
        # user networks outlive the daemon (their bridges stay for a live restore): remove
        # the ones this test left, so no later test meets its bridge or rules
        ids="$(docker_t network ls -q --filter type=custom 2>/dev/null)" || true
        if [[ -n "$ids" ]]; then
            # shellcheck disable=SC2086 # one id per word
            docker_t network rm $ids >/dev/null 2>&1 || true
        fi
    fi
    if [[ -n "${EXEC:-}" && -d "${EXEC:-}" ]]; then
        for p in $(shim_pids); do
            kill -KILL "$p" 2>/dev/null || true
        done
    fi
    # Processes of this test's containers that are still alive (a daemon bug may leave some
    # behind, e.g. after a shim died): kill them by PID from their cgroup, remove the cgroups.
    if [[ -n "${DATA:-}" ]]; then
        ids="$ids $(find "$DATA/containers" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null)"
        # shellcheck disable=SC2086 # one id per word
        for p in $(for d in $(ctr_cgroups_left $ids); do cat "$d/cgroup.procs"; done 2>/dev/null | sort -un); do
            echo "teardown: killing leftover container process $p" >&2
            kill -KILL "$p" 2>/dev/null || true
        done
        sleep 0.1
        # shellcheck disable=SC2086 # one id per word
        for d in $(ctr_cgroups_left $ids); do
            rmdir "$d" 2>/dev/null || true
        done
    fi
    if [[ -n "${T:-}" ]]; then
        grep -o " $T/[^ ]*" /proc/mounts | sort -r | while read -r p; do
            umount -l "$p" 2>/dev/null || true
        done
    fi
    berthd_teardown
}
