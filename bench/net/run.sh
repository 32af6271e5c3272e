#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/net/run.sh: published-port and container-to-container networking of berthd and of
# dockerd (with its docker-proxy), side by side in one run. The server is bench/net/netbench.c
# (static, copied into a busybox container with docker cp; 2 accepting processes): GET /big
# answers 200 MiB, anything else a 100-byte body, one request per connection. Measured per
# daemon, one after the other:
#   - throughput: one GET /big through the published port on 127.0.0.1 (each daemon's default
#     path: berthd DNATs loopback in the kernel, see loopback_rules in
#     daemon/network/sandbox.c; dockerd sends it through docker-proxy), MB/s, median of
#     BENCH_RUNS;
#   - connection rate: BENCH_CONNS client processes, each connect + GET /small + read to EOF +
#     close in a loop for BENCH_SECS seconds through the same port, connections/s, median of
#     BENCH_RUNS;
#   - container to container: GET /big from a second container to the server's address, MB/s;
#   - the same GET /big from the host straight to the container's address (no proxy), for
#     reference.
# Targets (issue 7): throughput >= dockerd's, connection rate >= 2x dockerd's. Prints a table
# and saves it to bench/results/net-<date>.txt.
#
# Run as root. Everything runs inside `unshare --net --mount --fork` with private tmpfs mounts
# over /run, /etc/docker and /opt (bench/lib.sh); both daemons keep their default iptables
# setting (on), so dockerd adds its DNAT rules and runs docker-proxy for loopback, berthd adds
# its DNAT rules, loopback included (its proxy listens too, but with iptables on the kernel
# DNATs every connection before it would reach the proxy). Only processes this script started are stopped,
# by PID.
#
# Environment:
#   BENCH_RUNS    runs of each measurement (default 3)
#   BENCH_CONNS   parallel clients of the connection-rate test (default 32)
#   BENCH_SECS    seconds of each connection-rate run (default 5)
#   BENCH_ONLY    "berthd" or "dockerd" to measure one daemon only
#   BENCH_PERF    1: one more berthd connection-rate run under `perf record -g` of berthd; the
#                 top of the report goes to bench/results/net-perf-<date>.txt (default 0)
#   BERTHD        berthd binary, with berth-shim beside it (default build-bench/bin/berthd, a
#                 Release build made or brought up to date by this script)
#   DOCKERD       dockerd binary (default /usr/sbin/dockerd)
#   FIXTURES      fixture directory (default build/fixtures; built when needed)
#
# Exit status: 0 when every target is met, 1 when one is missed or something failed, 2 on a
# setup error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${BENCH_RUNS:-3}
conns=${BENCH_CONNS:-32}
secs=${BENCH_SECS:-5}
perf_on=${BENCH_PERF:-0}
only=${BENCH_ONLY:-}
berthd_bin=${BERTHD:-$root/build-bench/bin/berthd}
dockerd_bin=${DOCKERD:-/usr/sbin/dockerd}
fixtures=${FIXTURES:-$root/build/fixtures}
bench_tag=bench/net
# shellcheck source=bench/lib.sh
. "$here/../lib.sh"

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ $conns =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNS must be a positive integer"
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECS must be a positive integer"
bench_only_check berthd dockerd

# ---- outside the namespace: checks and builds -------------------------------------------------

if [[ ${BENCH_NET_INNER:-} != 1 ]]; then
    [[ $EUID -eq 0 ]] || die "must run as root (it starts daemons in a private namespace)"
    for tool in unshare curl docker gcc iptables findmnt; do
        command -v "$tool" >/dev/null || die "$tool is missing"
    done
    bench_build_berthd berthd berth-shim
    bench_check_berthd berth-shim
    bench_check_dockerd runc
    if want dockerd; then
        [[ -x $(dirname "$dockerd_bin")/docker-proxy ]] || command -v docker-proxy >/dev/null ||
            die "docker-proxy is missing (apt-get install docker.io)"
    fi
    "$root/tests/fixtures/build.sh" "$fixtures" >/dev/null || die "fixture build failed"
    [[ -f $fixtures/busybox/busybox.tar ]] || die "$fixtures/busybox/busybox.tar is missing"
    export BENCH_NET_INNER=1
    exec unshare --net --mount --fork "$here/run.sh" "$@"
fi

# ---- inside the namespace ---------------------------------------------------------------------

started_at=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
stamp=$(date -u +%Y%m%d-%H%M%S)
dir=$(mktemp -d /tmp/berth-bench-net.XXXXXX)
declare -A started=() # pid -> name, for the processes this script started
declare -A comm_of=() # pid -> /proc/PID/comm when started, so a reused PID is never signalled
declare -A result=()  # key -> value
failures=()
image=busybox:latest
port=18080

bench_ns_setup
bench_trap_cleanup
bench_docker_config

# Short connections from one client address: a wide ephemeral range and TIME_WAIT reuse (this
# namespace's own settings).
sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1 || true
gcc -O2 -static -o "$dir/netbench" "$here/netbench.c" || die "netbench build failed"
nb=$dir/netbench

# ---- helpers ----------------------------------------------------------------------------------

r() # r KEY: result[KEY] or "-"
{
    echo "${result[$1]:--}"
}

median() # median < numbers: the median
{
    sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'
}

# wait_http URL: until it answers (10 s).
wait_http()
{
    local _
    for _ in $(seq 1 100); do
        curl -sf --max-time 2 -o /dev/null "$1" && return 0
        sleep 0.1
    done
    return 1
}

# proxy_ticks NAME: CPU ticks (user + system) used so far by the proxy: berthd itself, or every
# docker-proxy process under dockerd.
proxy_ticks()
{
    local pid=${result[$1.pid]} p t=0
    if [[ $1 == berthd ]]; then
        awk '{print $14 + $15}' /proc/"$pid"/stat
        return 0
    fi
    for p in $(tree_pids "$pid"); do
        [[ $(cat /proc/"$p"/comm 2>/dev/null) == docker-proxy ]] || continue
        t=$((t + $(awk '{print $14 + $15}' /proc/"$p"/stat)))
    done
    echo "$t"
}

# measure NAME SOCK: the four measurements against the daemon on SOCK.
measure()
{
    local name=$1 sock=$2 i ip out
    local -a D=(docker -H "unix://$sock")
    "${D[@]}" load -i "$fixtures/busybox/busybox.tar" >/dev/null || {
        fail "$name: docker load failed"
        return 1
    }
    if ! { "${D[@]}" create --name srv -p "127.0.0.1:$port:8000" "$image" \
        /netbench serve 8000 2 >/dev/null && "${D[@]}" cp "$nb" srv:/netbench &&
        "${D[@]}" start srv >/dev/null; }; then
        fail "$name: the server container did not start"
        return 1
    fi
    wait_http "http://127.0.0.1:$port/small" || {
        "${D[@]}" ps -a >&2 || true
        "${D[@]}" logs srv >&2 || true
        fail "$name: no answer on 127.0.0.1:$port"
        return 1
    }
    ip=$("${D[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' srv)
    say "$name: throughput through 127.0.0.1:$port, $runs x GET /big"
    for ((i = 0; i < runs; i++)); do
        "$nb" get 127.0.0.1 "$port" | awk '{print $3}'
    done >"$dir/$name-tput.txt" || fail "$name: GET /big through the port failed"
    result[$name.tput]=$(median <"$dir/$name-tput.txt")
    say "$name: connection rate, $conns clients x ${secs}s, $runs runs"
    local c0 c1 total=0
    c0=$(proxy_ticks "$name")
    for ((i = 0; i < runs; i++)); do
        out=$("$nb" rate 127.0.0.1 "$port" "$conns" "$secs") || fail "$name: rate run failed"
        echo "$out" | awk '{print $1}' >>"$dir/$name-rate.txt"
        total=$((total + $(awk -v s="$secs" '{printf "%d", $1 * s}' <<<"$out")))
        result[$name.rate_errors]=$((${result[$name.rate_errors]:-0} + $(awk '{print $2}' <<<"$out")))
    done
    c1=$(proxy_ticks "$name")
    result[$name.rate]=$(median <"$dir/$name-rate.txt")
    result[$name.us_per_conn]=$(awk -v a="$c0" -v b="$c1" -v n="$total" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {if (n) printf "%.0f", (b - a) / hz * 1e6 / n}')
    say "$name: connection rate straight to $ip:8000 (no proxy), 1 run"
    result[$name.rate_direct]=$("$nb" rate "$ip" 8000 "$conns" "$secs" | awk '{print $1}')
    if [[ $perf_on == 1 && $name == berthd ]]; then
        say "$name: one more rate run under perf record -g -p ${result[berthd.pid]}"
        perf record -q -g -o "$dir/perf.data" -p "${result[berthd.pid]}" -- sleep "$secs" \
            2>/dev/null &
        "$nb" rate 127.0.0.1 "$port" "$conns" "$secs" >"$dir/perf-rate.txt" || true
        wait $! || true
        {
            echo "berthd under perf during a rate run: $(cat "$dir/perf-rate.txt") (conn/s, errors)"
            echo "self time, by symbol:"
            perf report -i "$dir/perf.data" --no-children --percent-limit 1.5 --stdio \
                -g none --sort dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 25
            echo "inclusive time of the system calls and of berthd's functions:"
            perf report -i "$dir/perf.data" --children --percent-limit 2 --stdio -g none \
                --sort sym 2>/dev/null | grep -E '__x64_sys_|__sys_|uv__|proxy|on_|side_|conn_' |
                head -n 40
        } >"$root/bench/results/net-perf-$stamp.txt"
    fi
    say "$name: direct to $ip:8000 (no proxy)"
    for ((i = 0; i < runs; i++)); do
        "$nb" get "$ip" 8000 | awk '{print $3}'
    done >"$dir/$name-direct.txt" || fail "$name: GET /big to $ip failed"
    result[$name.direct]=$(median <"$dir/$name-direct.txt")
    say "$name: container to container, $runs x GET /big"
    if "${D[@]}" create --name cli "$image" /netbench get "$ip" 8000 >/dev/null &&
        "${D[@]}" cp "$nb" cli:/netbench; then
        for ((i = 0; i < runs; i++)); do
            "${D[@]}" start -a cli | awk '{print $3}'
        done >"$dir/$name-c2c.txt" || fail "$name: container to container failed"
        result[$name.c2c]=$(median <"$dir/$name-c2c.txt")
    else
        fail "$name: the client container could not be made"
    fi
    "${D[@]}" rm -f srv cli >/dev/null 2>&1 || fail "$name: rm -f failed"
}

run_berthd()
{
    local d=$dir/berthd pid
    mkdir -p "$d"
    echo '{}' >"$d/daemon.json"
    if ! start_daemon berthd "$d/berthd.sock" "$d/berthd.log" "$berthd_bin" \
        -H "unix://$d/berthd.sock" --data-root "$d/root" --exec-root /run/berth \
        --pidfile "$d/berthd.pid" --config-file "$d/daemon.json" --live-restore=false; then
        fail "berthd did not start"
        return 0
    fi
    pid=${result[berthd.pid]}
    measure berthd "$d/berthd.sock" || true
    stop_pid "$pid" berthd
    forget_tree "$pid"
}

run_dockerd()
{
    local d=$dir/dockerd pid
    mkdir -p "$d"
    echo '{}' >"$d/daemon.json"
    if ! start_daemon dockerd "$d/docker.sock" "$d/dockerd.log" "$dockerd_bin" \
        -H "unix://$d/docker.sock" --data-root "$d/root" --exec-root "$d/exec" \
        --pidfile "$d/docker.pid" --config-file "$d/daemon.json"; then
        fail "dockerd did not start"
        return 0
    fi
    pid=${result[dockerd.pid]}
    adopt_children "$pid" dockerd
    measure dockerd "$d/docker.sock" || true
    adopt_children "$pid" dockerd
    stop_pid "$pid" dockerd
    forget_tree "$pid"
}

# ---- measure ----------------------------------------------------------------------------------

if want berthd; then
    result[berthd.version]=$("$berthd_bin" --version 2>/dev/null | head -n 1 || true)
    run_berthd
fi
if want dockerd; then
    result[dockerd.version]=$("$dockerd_bin" --version 2>/dev/null || true)
    run_dockerd
fi

# ---- report -----------------------------------------------------------------------------------

row()
{
    printf '%-40s | %10s | %10s | %8s | %7s\n' "$@"
}

# ratio_ok KEY FACTOR: "ratio verdict" of berthd / dockerd against FACTOR.
ratio_ok()
{
    local b=${result[berthd.$1]:-} d=${result[dockerd.$1]:-}
    if [[ -z $b || -z $d ]]; then
        echo "- n/a"
        return 0
    fi
    awk -v b="$b" -v d="$d" -v f="$2" \
        'BEGIN {printf "%.2fx %s\n", b / d, (b >= f * d) ? "PASS" : "FAIL"}'
}

report()
{
    local t c
    echo "berth net benchmark, started $started_at"
    echo "host: $(uname -r), $(nproc) CPUs," \
        "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "load average: $load_at_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end" \
        "(anything above 0.5 means other work shared the CPUs: re-run when the machine is idle)"
    echo "berthd: $(r berthd.version) ($berthd_bin), DNAT rules for loopback too (defaults)"
    echo "dockerd: $(r dockerd.version), docker-proxy + DNAT rules (defaults)"
    echo "method: bench/net/netbench.c as server (2 processes) in a busybox container published" \
        "on 127.0.0.1:$port; $runs runs each, medians; rate: $conns client processes x ${secs}s," \
        "one HTTP/1.0 request of 100 bytes per connection"
    echo
    row "" berthd dockerd ratio target
    row ---------------------------------------- ---------- ---------- -------- -------
    read -r t tv < <(ratio_ok tput 1)
    row "throughput via 127.0.0.1 port (MB/s)" "$(r berthd.tput)" "$(r dockerd.tput)" "$t" ">= 1x"
    read -r c cv < <(ratio_ok rate 2)
    row "connection rate via port (conn/s)" "$(r berthd.rate)" "$(r dockerd.rate)" "$c" ">= 2x"
    row "  same, straight to the container" "$(r berthd.rate_direct)" "$(r dockerd.rate_direct)" \
        "" "ceiling"
    row "  proxy CPU per connection (us)" "$(r berthd.us_per_conn)" "$(r dockerd.us_per_conn)" \
        "" info
    row "container to container (MB/s)" "$(r berthd.c2c)" "$(r dockerd.c2c)" \
        "$(ratio_ok c2c 0 | cut -d' ' -f1)" info
    row "host to container, no proxy (MB/s)" "$(r berthd.direct)" "$(r dockerd.direct)" \
        "$(ratio_ok direct 0 | cut -d' ' -f1)" info
    echo "(proxy CPU: user + system time of berthd, or of dockerd's docker-proxy processes, over" \
        "the rate runs, per connection (berthd's: near 0, the kernel forwards); the ceiling: the" \
        "rate without any proxy on this machine, measured right after the rate runs: the" \
        "container's sockets still in TIME_WAIT from them (the same addresses: DNATed loopback" \
        "and docker-proxy both come from the gateway) lower it, the more the faster they ran)"
    echo "(failed connections in the rate runs: berthd $(r berthd.rate_errors), dockerd" \
        "$(r dockerd.rate_errors))"
    echo
    echo "throughput target: $tv; connection rate target: $cv"
    bench_print_failures
}

bench_save_report "net-$stamp"
read -r _ tv < <(ratio_ok tput 1)
read -r _ cv < <(ratio_ok rate 2)
if ((${#failures[@]})) || [[ $tv == FAIL || $cv == FAIL ]]; then
    exit 1
fi
exit 0
