# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# shellcheck disable=SC2004,SC2034,SC2154 # started, comm_of, result and bench_tag are the caller's
#
# bench/lib.sh: shell functions shared by the benchmarks (sourced, not run). The caller sets
# bench_tag (the prefix of messages, e.g. "bench/api") and declares, before using anything that
# starts or stops a process:
#
#   declare -A started=() # pid -> name, for the processes the script started
#   declare -A comm_of=() # pid -> /proc/PID/comm when started, so a reused PID is never signalled
#   declare -A result=()  # key -> value; start_daemon sets result[NAME.pid]
#
# Processes are only ever stopped by the PIDs recorded here, never by name.

# bench_ns_setup: inside `unshare --net --mount --fork`, keep every mount private and put tmpfs
# over each place dockerd and its containerd write outside their --data-root/--exec-root:
# /run (the default containerd socket, /run/docker), /etc/docker (key.json) and /opt
# (/opt/containerd). Brings up the namespace's loopback.
bench_ns_setup()
{
    local m
    mount --make-rprivate /
    for m in /run /etc/docker /opt; do
        if [[ -d $m ]]; then
            mount -t tmpfs -o mode=0755 tmpfs "$m"
        fi
    done
    if [[ -d /var/run && ! -L /var/run ]]; then
        mount -t tmpfs -o mode=0755 tmpfs /var/run
    fi
    ip link set lo up 2>/dev/null || true
}

# tree_pids PID: the PIDs of PID and all its descendants.
tree_pids()
{
    local pid=$1 child
    echo "$pid"
    # shellcheck disable=SC2013 # the file is one line of PIDs
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        tree_pids "$child"
    done
}

# tree_rss_kib PID: the sum of VmRSS (KiB) over a process tree.
tree_rss_kib()
{
    local total=0 pid kib
    for pid in $(tree_pids "$1"); do
        kib=$(awk '/^VmRSS:/ {print $2}' /proc/"$pid"/status 2>/dev/null || true)
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}

# is_ours PID: it is alive, not a zombie, and still the process we recorded.
is_ours()
{
    local comm st
    comm=$(cat /proc/"$1"/comm 2>/dev/null) || return 1
    st=$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null) || return 1
    [[ $st != Z && $st != X ]] || return 1
    [[ -z ${comm_of[$1]:-} || $comm == "${comm_of[$1]}" ]]
}

# stop_pid PID NAME: SIGTERM, then SIGKILL after 15 s; returns when it is gone.
stop_pid()
{
    local pid=$1 name=$2 _
    is_ours "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
        is_ours "$pid" || break
        sleep 0.1
    done
    if is_ours "$pid"; then
        echo "$bench_tag: $name ($pid) ignored SIGTERM for 15s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # Reap it when it is our child, so the next daemon never sees its lock or socket.
    wait "$pid" 2>/dev/null || true
}

# bench_cleanup DIR: stop whatever was started and is still alive, then remove DIR (never
# crossing into a mount below it). For the EXIT trap.
bench_cleanup()
{
    local dir=$1 pid m
    for pid in "${!started[@]}"; do
        stop_pid "$pid" "${started[$pid]}"
    done
    [[ -n $dir && -d $dir ]] || return 0
    for m in $(findmnt -rn -o TARGET | grep "^$dir/" | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$dir"
}

# wait_ping SOCKET PID: wait up to 30 s until GET /_ping answers on SOCKET, or PID dies.
wait_ping()
{
    local sock=$1 pid=$2 _
    for _ in $(seq 1 300); do
        if curl -sf --max-time 2 --unix-socket "$sock" http://api/_ping >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# start_daemon NAME SOCKET LOG CMD...: start it, remember its PID in started[] and
# result[NAME.pid], wait for _ping. Returns 1 (after printing its log's tail) if it never
# answers.
start_daemon()
{
    local name=$1 sock=$2 log=$3
    shift 3
    "$@" >"$log" 2>&1 &
    local pid=$!
    started[$pid]=$name
    if ! wait_ping "$sock" "$pid"; then
        echo "$bench_tag: $name did not answer _ping; last lines of $log:" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    # Only now: right after the fork the child may still be bash, not yet the daemon.
    comm_of[$pid]=$(cat /proc/"$pid"/comm 2>/dev/null || true)
    result[$name.pid]=$pid
}

# adopt_children PID NAME: remember children that are not ours to signal directly (dockerd's
# containerd) so that cleanup can reach them if their parent dies without stopping them.
adopt_children()
{
    local pid=$1 name=$2 child
    for child in $(tree_pids "$pid"); do
        [[ $child == "$pid" ]] && continue
        comm_of[$child]=$(cat /proc/"$child"/comm 2>/dev/null || true)
        started[$child]="$name's child ${comm_of[$child]}"
    done
}

# forget_tree PID: drop PID and the children adopt_children recorded for it from started[]
# once they are known to be gone.
forget_tree()
{
    local pid
    for pid in "${!started[@]}"; do
        if [[ $pid == "$1" ]] || ! is_ours "$pid"; then
            unset "started[$pid]"
        fi
    done
}

# verdict_of OK: "PASS"/"FAIL" from awk's 1/0, or "n/a" when a side was not measured.
verdict_of()
{
    case $1 in
    1) echo PASS ;;
    0) echo FAIL ;;
    *) echo n/a ;;
    esac
}
