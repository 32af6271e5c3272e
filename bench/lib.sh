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

# ---- the scripts' common frame (they set bench_tag, root, dir, only, berthd_bin, dockerd_bin
# and a failures array before using these) -------------------------------------------------------

# die MESSAGE: a setup error: say so and exit 2.
die()
{
    echo "$bench_tag: $*" >&2
    exit 2
}

# say MESSAGE: progress, on stderr.
say()
{
    echo "$bench_tag: $*" >&2
}

# fail MESSAGE: something failed (kept in failures); the verdict will be FAIL.
fail()
{
    echo "$bench_tag: $*" >&2
    failures+=("$*")
}

# want NAME: NAME is measured (BENCH_ONLY, in $only, is empty or NAME).
want()
{
    [[ -z $only || $only == "$1" ]]
}

# bench_only_check NAME...: die unless $only is empty or one of the NAMEs.
bench_only_check()
{
    local c list
    [[ -n $only ]] || return 0
    for c in "$@"; do
        [[ $only != "$c" ]] || return 0
    done
    list=$(printf '%s, ' "$@")
    list=${list%, }
    die "BENCH_ONLY must be ${list%, *} or ${list##*, }"
}

# bench_build_berthd TARGET...: unless BERTHD is set (or berthd is not measured), a Release
# build of the cmake TARGETs in $root/build-bench, made or brought up to date.
bench_build_berthd()
{
    if want berthd && [[ -z ${BERTHD:-} ]]; then
        say "building $* (cmake Release, $root/build-bench)"
        cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
            die "cmake configure failed"
        cmake --build "$root/build-bench" -j2 --target "$@" >/dev/null || die "build failed"
    fi
}

# bench_check_berthd [BINARY...]: when berthd is measured, $berthd_bin and each BINARY beside it
# are executable.
# shellcheck disable=SC2120 # the arguments are optional
bench_check_berthd()
{
    local b
    want berthd || return 0
    [[ -x $berthd_bin ]] || die "$berthd_bin is not executable"
    for b in "$@"; do
        [[ -x $(dirname "$berthd_bin")/$b ]] || die "no $b beside $berthd_bin"
    done
}

# bench_check_dockerd [TOOL...]: when dockerd is measured, $dockerd_bin, containerd and each
# TOOL (a Debian package of that name) are installed.
# shellcheck disable=SC2120 # the arguments are optional
bench_check_dockerd()
{
    local t
    want dockerd || return 0
    [[ -x $dockerd_bin ]] || die "$dockerd_bin is missing (apt-get install docker.io)"
    for t in containerd "$@"; do
        command -v "$t" >/dev/null || die "$t is missing (apt-get install $t)"
    done
}

# bench_trap_cleanup: bench_cleanup "$dir" on exit, and an exit on INT or TERM.
bench_trap_cleanup()
{
    trap 'bench_cleanup "$dir"' EXIT
    trap 'exit 130' INT TERM
}

# bench_docker_config: the docker CLI gets a private config under $dir and no inherited endpoint.
bench_docker_config()
{
    export DOCKER_CONFIG=$dir/docker-config
    mkdir -p "$DOCKER_CONFIG"
    echo '{}' >"$DOCKER_CONFIG/config.json"
    unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
}

# bench_print_failures: the failures, under a heading, when there are any (for a report).
bench_print_failures()
{
    local t
    if ((${#failures[@]})); then
        echo
        echo "failures:"
        for t in "${failures[@]}"; do
            echo "  $t"
        done
    fi
}

# bench_save_report NAME: the caller's report function into bench/results/NAME.txt (path in
# out), and shown.
bench_save_report()
{
    mkdir -p "$root/bench/results"
    out=$root/bench/results/$1.txt
    report >"$out"
    cat "$out"
    echo
    echo "saved to $out"
}

# bench_ratio_row LABEL A B DIGITS OP LIMIT: a row of the caller's ratio_row for the target
# "A / B OP LIMIT" (OP is >= or <=): A / B to DIGITS decimals, the target and its verdict; "-"
# and n/a when A or B was not measured.
bench_ratio_row()
{
    local v=- ok=-
    if [[ -n $2 && -n $3 ]]; then
        v=$(awk -v a="$2" -v b="$3" -v p="$4" 'BEGIN {printf "%." p "fx", a / b}')
        ok=$(awk -v a="$2" -v b="$3" -v op="$5" -v l="$6" 'BEGIN {
            if (op == ">=") ok = a >= l * b; else ok = a <= l * b
            print ok ? 1 : 0 }')
    fi
    ratio_row "$1" "$v" "$5 $6x" "$(verdict_of "$ok")"
}

# bench_need TOOL...: running as root, with every TOOL on PATH (outside the namespace).
bench_need()
{
    local t
    [[ $EUID -eq 0 ]] || die "must run as root (it starts daemons in a private namespace)"
    for t in "$@"; do
        command -v "$t" >/dev/null || die "$t is missing"
    done
}

# bench_inner_init NAME: the start inside the namespace: started_at, load_at_start and stamp;
# dir, a new /tmp/berth-bench-NAME.XXXXXX; the empty started, comm_of, result and failures; then
# bench_ns_setup.
bench_inner_init()
{
    started_at=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
    load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
    stamp=$(date -u +%Y%m%d-%H%M%S)
    dir=$(mktemp -d "/tmp/berth-bench-$1.XXXXXX")
    declare -gA started=() # pid -> name, for the processes this script started
    declare -gA comm_of=() # pid -> /proc/PID/comm when started, so a reused PID is never signalled
    declare -gA result=()  # key -> value
    failures=()
    bench_ns_setup
}
