#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/api/run.sh: berthd vs dockerd, side by side in one run. For each daemon: idle RSS of its
# process tree after it settles, then requests per second for GET /_ping and GET /v1.41/version
# with 1 and 32 keep-alive connections (bench/api/apiload.c). Then the same GET /_ping load
# against bench/api/floor.c, a server that does no work and never sleeps: its rate is the most
# any server can reach with this client on this machine, so the table can tell a slow berthd
# from a target the machine puts out of reach. Prints a table with the targets of issue 2 and
# saves it to bench/results/api-<date>.txt.
#
# Run as root. The whole measurement runs inside `unshare --net --mount --fork` with private
# tmpfs mounts over /run, /etc/docker and /opt, so neither daemon touches the host; only the
# daemons this script started are stopped, by PID.
#
# Environment:
#   BENCH_SECONDS  seconds per load run (default 5)
#   BENCH_SETTLE   seconds a daemon idles before its RSS is read (default 5)
#   BENCH_WARMUP   seconds of unrecorded load before the first measured run (default 1)
#   BENCH_CONNS    connection counts to measure (default "1 32"); a count ending in p (e.g.
#                  "1p") runs the client in polling mode (apiload -p: it never sleeps in
#                  epoll_wait), so the client's own wake-up latency is left out: informational
#                  only (no target), as the polling client takes a CPU the daemon may want
#   BERTHD         berthd binary (default build/bin/berthd, built with cmake Release if missing)
#   DOCKERD        dockerd binary (default /usr/sbin/dockerd)
#   BENCH_ONLY     "berthd" or "dockerd" to measure one daemon only (the floor is measured
#                  either way)
#
# Exit status: 0 when every target is met, 1 when one is missed or a daemon failed to start,
# 2 on a setup error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${BENCH_SECONDS:-5}
settle=${BENCH_SETTLE:-5}
warmup=${BENCH_WARMUP:-1}
conns_list=${BENCH_CONNS:-1 32}
berthd_bin=${BERTHD:-$root/build/bin/berthd}
dockerd_bin=${DOCKERD:-/usr/sbin/dockerd}
only=${BENCH_ONLY:-}
paths=(/_ping /v1.41/version)
bench_tag=bench/api
# shellcheck source=bench/lib.sh
. "$here/../lib.sh"

# ---- outside the namespace: checks and builds -------------------------------------------------

if [[ ${BENCH_API_INNER:-} != 1 ]]; then
    [[ $EUID -eq 0 ]] || die "must run as root (it starts dockerd in a private namespace)"
    command -v unshare >/dev/null || die "unshare (util-linux) is missing"
    command -v curl >/dev/null || die "curl is missing"
    command -v cc >/dev/null || die "cc is missing"
    mkdir -p "$root/build/bench"
    cc -O2 -Wall -Wextra -o "$root/build/bench/apiload" "$here/apiload.c"
    cc -O2 -Wall -Wextra -o "$root/build/bench/floor" "$here/floor.c"
    if [[ $only != dockerd && ! -x $berthd_bin ]]; then
        [[ -z ${BERTHD:-} ]] || die "BERTHD=$BERTHD is not executable"
        echo "bench/api: building berthd (cmake Release)" >&2
        cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build "$root/build" -j2 --target berthd
    fi
    if [[ $only != berthd ]]; then
        [[ -x $dockerd_bin ]] || die "$dockerd_bin is missing (apt-get install docker.io)"
        command -v containerd >/dev/null || die "containerd is missing (apt-get install containerd)"
    fi
    export BENCH_API_INNER=1
    exec unshare --net --mount --fork "$here/run.sh" "$@"
fi

# ---- inside the namespace ---------------------------------------------------------------------

apiload=$root/build/bench/apiload
floor=$root/build/bench/floor
started_at=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
dir=$(mktemp -d /tmp/berth-bench.XXXXXX)
declare -A started=() # pid -> name, for the processes this script started
declare -A comm_of=() # pid -> /proc/PID/comm when started, so a reused PID is never signalled
declare -A result=()  # key -> value
failed_start=0

bench_ns_setup

bench_trap_cleanup

# load NAME SOCKET PATH...: warm up, then one apiload run per path and connection count.
load()
{
    local name=$1 sock=$2 path c line
    shift 2
    if [[ $warmup != 0 ]]; then
        "$apiload" "$sock" /_ping 32 "$warmup" >/dev/null || true
    fi
    for path in "$@"; do
        for c in $conns_list; do
            if [[ $c == *p ]]; then
                line=$("$apiload" -p "$sock" "$path" "${c%p}" "$seconds" || true)
            else
                line=$("$apiload" "$sock" "$path" "$c" "$seconds" || true)
            fi
            echo "  $name: $line" >&2
            result[$name.$path.$c]=$line
        done
    done
}

measure()
{
    local name=$1 sock=$2 pid=$3
    sleep "$settle"
    result[$name.rss]=$(tree_rss_kib "$pid")
    result[$name.nprocs]=$(tree_pids "$pid" | wc -l)
    load "$name" "$sock" "${paths[@]}"
    result[$name.rss_after]=$(tree_rss_kib "$pid")
}

bench_berthd()
{
    local sock=$dir/berth.sock pid
    if ! start_daemon berthd "$sock" "$dir/berthd.log" "$berthd_bin" -H "unix://$sock" \
        --data-root "$dir/b-root" --exec-root "$dir/b-exec" --pidfile "$dir/b.pid" \
        --config-file "$dir/b-daemon.json"; then
        failed_start=1
        return 0
    fi
    pid=${result[berthd.pid]}
    result[berthd.version]=$("$berthd_bin" --version 2>/dev/null | head -n 1 || true)
    measure berthd "$sock" "$pid"
    stop_pid "$pid" berthd
    unset "started[$pid]"
}

bench_dockerd()
{
    local sock=$dir/docker.sock pid
    if ! start_daemon dockerd "$sock" "$dir/dockerd.log" "$dockerd_bin" --iptables=false \
        --bridge=none -H "unix://$sock" --data-root "$dir/d-root" --exec-root "$dir/d-exec" \
        --pidfile "$dir/d.pid" --config-file "$dir/d-daemon.json"; then
        failed_start=1
        return 0
    fi
    pid=${result[dockerd.pid]}
    adopt_children "$pid" dockerd
    result[dockerd.version]=$("$dockerd_bin" --version 2>/dev/null || true)
    measure dockerd "$sock" "$pid"
    # dockerd stops its managed containerd; anything left is stopped by cleanup.
    stop_pid "$pid" dockerd
    unset "started[$pid]"
}

bench_floor()
{
    local sock=$dir/floor.sock pid
    start_daemon floor "$sock" "$dir/floor.log" "$floor" "$sock" || return 0
    pid=${result[floor.pid]}
    load floor "$sock" /_ping
    stop_pid "$pid" floor
    unset "started[$pid]"
}

# Both daemons read a config file; give each an empty one so no host config applies.
echo '{}' >"$dir/b-daemon.json"
echo '{}' >"$dir/d-daemon.json"

[[ $only == dockerd ]] || bench_berthd
[[ $only == berthd ]] || bench_dockerd
bench_floor

# ---- report -----------------------------------------------------------------------------------

# field LINE KEY: the value of KEY=... in an apiload line.
field()
{
    local kv
    for kv in $1; do
        if [[ $kv == "$2="* ]]; then
            echo "${kv#*=}"
            return
        fi
    done
}

conn_label() # conn_label C: "1 conn" or, for a polling client (C ends in p), "1 conn, poll"
{
    if [[ $1 == *p ]]; then
        echo "${1%p} conn, poll"
    else
        echo "$1 conn"
    fi
}

fmt_row()
{
    printf '%-42s | %10s | %10s | %7s | %7s | %s\n' "$@"
}

floor_row()
{
    printf '%-42s | %10s | %12s | %13s\n' "$@"
}

info_row()
{
    printf '%-42s | %16s | %16s\n' "$@"
}

mib()
{
    [[ -n $1 ]] && awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}' || echo -
}

report()
{
    local b d f path c bl dl fl ok ratio name
    echo "berth API benchmark, started $started_at"
    echo "host: $(uname -r), $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "berthd: ${result[berthd.version]:-not run} ($berthd_bin)"
    echo "dockerd: ${result[dockerd.version]:-not run} (+ its managed containerd)"
    echo "load: apiload, keep-alive, one request in flight per connection, ${seconds}s per run," \
        "same machine as the daemon; idle RSS = sum of VmRSS over the daemon's process tree" \
        "after ${settle}s idle"
    echo
    fmt_row metric berthd dockerd ratio target verdict
    fmt_row ------------------------------------------ ---------- ---------- ------- ------- -------

    b=${result[berthd.rss]:-}
    d=${result[dockerd.rss]:-}
    ratio=-
    ok=-
    if [[ -n $b && -n $d ]]; then
        ratio=$(awk -v b="$b" -v d="$d" 'BEGIN {printf "%.3f", b / d}')
        ok=$(awk -v b="$b" -v d="$d" 'BEGIN {print (b * 10 < d) ? 1 : 0}')
    fi
    fmt_row "idle RSS, MiB" "$(mib "$b")" "$(mib "$d")" "$ratio" "< 0.10" "$(verdict_of "$ok")"

    for path in "${paths[@]}"; do
        for c in $conns_list; do
            bl=${result[berthd.$path.$c]:-}
            dl=${result[dockerd.$path.$c]:-}
            b=-
            d=-
            [[ -z $bl ]] || b=$(field "$bl" rps)
            [[ -z $dl ]] || d=$(field "$dl" rps)
            ratio=-
            ok=-
            if [[ $b != - && $d != - ]]; then
                ratio=$(awk -v b="$b" -v d="$d" 'BEGIN {if (d > 0) printf "%.2fx", b / d; else print "-"}')
                ok=$(awk -v b="$b" -v d="$d" -v e="$(field "$bl" errors)" \
                    'BEGIN {print (d > 0 && b >= 3 * d && e == 0) ? 1 : 0}')
            fi
            if [[ $c == *p ]]; then
                fmt_row "GET $path, $(conn_label "$c"), req/s" "$b" "$d" "$ratio" info -
            else
                fmt_row "GET $path, $(conn_label "$c"), req/s" "$b" "$d" "$ratio" ">= 3x" \
                    "$(verdict_of "$ok")"
            fi
        done
    done

    echo
    echo "floor: the same GET /_ping load against bench/api/floor.c, a server that does no work"
    echo "and never sleeps; no server reaches more than it with this client on this machine"
    floor_row metric floor berthd/floor floor/dockerd
    floor_row ------------------------------------------ ---------- ------------ -------------
    for c in $conns_list; do
        fl=${result[floor./_ping.$c]:-}
        bl=${result[berthd./_ping.$c]:-}
        dl=${result[dockerd./_ping.$c]:-}
        f=-
        b=-
        d=-
        [[ -z $fl ]] || f=$(field "$fl" rps)
        [[ -z $bl || $f == - ]] || b=$(awk -v b="$(field "$bl" rps)" -v f="$f" \
            'BEGIN {if (f > 0) printf "%.2f", b / f; else print "-"}')
        [[ -z $dl || $f == - ]] || d=$(awk -v d="$(field "$dl" rps)" -v f="$f" \
            'BEGIN {if (d > 0) printf "%.2fx", f / d; else print "-"}')
        floor_row "GET /_ping, $(conn_label "$c"), req/s" "$f" "$b" "$d"
        if [[ $c != *p && $d != - ]] && awk -v d="${d%x}" 'BEGIN {exit !(d < 3)}'; then
            echo "  -> with $(conn_label "$c"), even the floor is only $d dockerd: a 3x target" \
                "is out of reach on this machine for any server"
        fi
    done

    echo
    echo "informational:"
    info_row metric berthd dockerd
    info_row ------------------------------------------ ---------------- ----------------
    info_row "processes in tree" "${result[berthd.nprocs]:--}" "${result[dockerd.nprocs]:--}"
    info_row "RSS after load, MiB" "$(mib "${result[berthd.rss_after]:-}")" \
        "$(mib "${result[dockerd.rss_after]:-}")"
    for path in "${paths[@]}"; do
        for c in $conns_list; do
            bl=${result[berthd.$path.$c]:-}
            dl=${result[dockerd.$path.$c]:-}
            b=-
            d=-
            [[ -z $bl ]] || b="$(field "$bl" p50_us) / $(field "$bl" p99_us)"
            [[ -z $dl ]] || d="$(field "$dl" p50_us) / $(field "$dl" p99_us)"
            info_row "GET $path, $(conn_label "$c"), p50 / p99 us" "$b" "$d"
            b=-
            d=-
            [[ -z $bl ]] || b="$(field "$bl" errors)"
            [[ -z $dl ]] || d="$(field "$dl" errors)"
            info_row "GET $path, $(conn_label "$c"), errors" "$b" "$d"
        done
    done
    echo
    echo "raw apiload lines:"
    for name in berthd dockerd floor; do
        for path in "${paths[@]}"; do
            for c in $conns_list; do
                [[ -z ${result[$name.$path.$c]:-} ]] || echo "  $name: ${result[$name.$path.$c]}"
            done
        done
    done
}

bench_save_report "api-$(date -u +%Y%m%d-%H%M%S)"
if [[ $failed_start == 1 ]] || grep -q '| FAIL$' "$out"; then
    exit 1
fi
exit 0
