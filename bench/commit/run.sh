#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/commit/run.sh: docker commit of a container that wrote 50 MB in 1000 files, berthd and
# dockerd side by side in one run. For each daemon: load the busybox fixture, then BENCH_N
# rounds of: run a container (--network none) that writes 1000 files of 52,429 random bytes
# under /data and exits, `sync`, then time POST /commit (curl over the socket, the same client
# for both) until its answer. Prints the median and the spread of each, the ratio, and the
# target (berthd at least 2x faster than dockerd); saves the table to
# bench/results/commit-<date>.txt.
#
# Run as root. Everything runs inside `unshare --net --mount --fork` with private tmpfs mounts
# over /run, /etc/docker and /opt (bench/lib.sh). Only processes this script started are
# stopped, by PID.
#
# Environment:
#   BENCH_N       commits per daemon (default 5)
#   BENCH_FILES   files the container writes (default 1000)
#   BENCH_BYTES   bytes per file (default 52429: 50 MiB in all)
#   BENCH_ONLY    "berthd" or "dockerd" to measure one side only
#   BERTHD        berthd binary, berth-shim beside it (default build-bench/bin/berthd, a Release
#                 build made or brought up to date by this script)
#   DOCKERD       dockerd binary (default /usr/sbin/dockerd)
#   FIXTURES      fixture directory (default build/fixtures; built when needed)
#
# Exit status: 0 when the target is met, 1 when it is missed or something failed, 2 on a setup
# error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${BENCH_N:-5}
files=${BENCH_FILES:-1000}
bytes=${BENCH_BYTES:-52429}
only=${BENCH_ONLY:-}
berthd_bin=${BERTHD:-$root/build-bench/bin/berthd}
dockerd_bin=${DOCKERD:-/usr/sbin/dockerd}
fixtures=${FIXTURES:-$root/build/fixtures}
bench_tag=bench/commit
# shellcheck source=bench/lib.sh
. "$here/../lib.sh"

[[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer"
[[ $files =~ ^[1-9][0-9]*$ && $bytes =~ ^[1-9][0-9]*$ ]] || die "BENCH_FILES/BYTES: numbers"
bench_only_check berthd dockerd

# ---- outside the namespace: checks and builds -------------------------------------------------

if [[ ${BENCH_COMMIT_INNER:-} != 1 ]]; then
    bench_need unshare curl docker python3 findmnt
    bench_build_berthd berthd berth-shim
    bench_check_berthd berth-shim
    bench_check_dockerd
    "$root/tests/fixtures/build.sh" "$fixtures" >/dev/null || die "fixture build failed"
    [[ -f $fixtures/busybox/busybox.tar ]] || die "$fixtures/busybox/busybox.tar is missing"
    export BENCH_COMMIT_INNER=1
    exec unshare --net --mount --fork "$here/run.sh" "$@"
fi

# ---- inside the namespace ---------------------------------------------------------------------

bench_inner_init commit


# Each data root starts in a block group of its own (chattr +T on their parent: ext4's Orlov
# allocator spreads the directories made in it), so neither daemon starts among the inodes
# that earlier runs on this machine freed.
roots=$dir/roots
mkdir -p "$roots"
chattr +T "$roots" 2>/dev/null || true

bench_trap_cleanup

bench_docker_config

# stats FILE KEY: median, min and max of the numbers in FILE (seconds) into result[KEY.*].
stats()
{
    local file=$1 key=$2 line
    line=$(sort -n "$file" | awk '{v[NR] = $1} END {
        if (NR == 0) exit 1
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3f %.3f %.3f %d", m, v[1], v[NR], NR }') || return 1
    read -r "result[$key.median]" "result[$key.min]" "result[$key.max]" "result[$key.n]" <<<"$line"
}

# measure NAME SOCK: BENCH_N rounds of write-then-commit; times in $dir/NAME-commit.txt.
measure()
{
    local name=$1 sock=$2 i cid t0 out
    if ! docker -H "unix://$sock" load -q -i "$fixtures/busybox/busybox.tar" \
        >"$dir/$name-load.txt" 2>&1; then
        fail "$name: docker load failed: $(head -c 300 "$dir/$name-load.txt")"
        return 1
    fi
    local script="mkdir /data && i=0 && while [ \$i -lt $files ]; do "
    script+="head -c $bytes /dev/urandom > /data/f\$i; i=\$((i + 1)); done"
    : >"$dir/$name-commit.txt"
    for ((i = 0; i <= n; i++)); do
        cid=$(docker -H "unix://$sock" run -d --network none busybox sh -c "$script") || {
            fail "$name: docker run failed"
            return 1
        }
        docker -H "unix://$sock" wait "$cid" >/dev/null
        sync # what the container wrote reaches the disk before the clock starts
        t0=$EPOCHREALTIME
        out=$(curl -sS --max-time 300 --unix-socket "$sock" -X POST \
            "http://x/v1.41/commit?container=$cid&repo=bench-commit&tag=r$i") || {
            fail "$name: POST /commit failed"
            return 1
        }
        local t
        t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.4f", b - a}')
        [[ $out == *'"Id":"sha256:'* ]] || {
            fail "$name: commit answered $out"
            return 1
        }
        # Round 0 warms the caches and the code paths: not recorded.
        ((i == 0)) || echo "$t" >>"$dir/$name-commit.txt"
        say "$name: commit $i: ${t}s"
        docker -H "unix://$sock" rm "$cid" >/dev/null
    done
    stats "$dir/$name-commit.txt" "$name.commit" || fail "$name: no commit measured"
}

run_berthd()
{
    local d=$dir/berthd pid
    mkdir -p "$d"
    echo '{}' >"$d/daemon.json"
    if ! start_daemon berthd "$d/berthd.sock" "$d/berthd.log" "$berthd_bin" \
        -H "unix://$d/berthd.sock" --data-root "$roots/berthd" --exec-root /run/berth \
        --pidfile "$d/berthd.pid" --config-file "$d/daemon.json" --live-restore=false \
        --log-level debug; then
        fail "berthd did not start"
        return 0
    fi
    pid=${result[berthd.pid]}
    measure berthd "$d/berthd.sock" || true
    # berthd's own breakdown of each commit (its debug line): pack, then layer (unpack + sync)
    result[berthd.phases]=$(grep -oE 'pack [0-9]+ ms, layer [0-9]+ ms' "$d/berthd.log" |
        tail -n "$n" | tr '\n' ';' || true)
    stop_pid "$pid" berthd
    forget_tree "$pid"
}

run_dockerd()
{
    local d=$dir/dockerd pid
    mkdir -p "$d"
    echo '{}' >"$d/daemon.json"
    if ! start_daemon dockerd "$d/docker.sock" "$d/dockerd.log" "$dockerd_bin" \
        --iptables=false --bridge=none -H "unix://$d/docker.sock" --data-root "$roots/dockerd" \
        --exec-root "$d/exec" --pidfile "$d/docker.pid" --config-file "$d/daemon.json"; then
        fail "dockerd did not start"
        return 0
    fi
    pid=${result[dockerd.pid]}
    adopt_children "$pid" dockerd
    result[dockerd.driver]=$(docker -H "unix://$d/docker.sock" info --format '{{.Driver}}' \
        2>/dev/null || echo '?')
    measure dockerd "$d/docker.sock" || true
    stop_pid "$pid" dockerd
    forget_tree "$pid"
}

# dockerd first: whatever the first run leaves behind on the filesystem (freed inodes that a
# journal-less ext4 scans past when it allocates) then weighs on berthd, not on dockerd.
if want dockerd; then
    result[dockerd.version]=$("$dockerd_bin" --version 2>/dev/null || true)
    run_dockerd
fi
if want berthd; then
    result[berthd.version]=$("$berthd_bin" --version 2>/dev/null | head -n 1 || true)
    run_berthd
fi

# ---- report -----------------------------------------------------------------------------------

b=${result[berthd.commit.median]:-}
k=${result[dockerd.commit.median]:-}
ratio=n/a
ok=-
if [[ -n $b && -n $k ]]; then
    ratio=$(awk -v b="$b" -v k="$k" 'BEGIN {printf "%.2f", (b > 0 ? k / b : 0)}')
    ok=$(awk -v r="$ratio" 'BEGIN {print (r >= 2) ? 1 : 0}')
fi
line()
{
    local name=$1
    if [[ -n ${result[$name.commit.median]:-} ]]; then
        printf '%-8s median %7ss  min %7ss  max %7ss  (%s commits)\n' "$name" \
            "${result[$name.commit.median]}" "${result[$name.commit.min]}" \
            "${result[$name.commit.max]}" "${result[$name.commit.n]}"
    else
        printf '%-8s not measured\n' "$name"
    fi
}
report=$(
    echo "bench/commit: $started_at, load average at start $load_at_start"
    echo "commit of a container that wrote $((files * bytes)) bytes in $files files"
    echo "berthd: ${result[berthd.version]:-n/a}"
    echo "dockerd: ${result[dockerd.version]:-n/a} (${result[dockerd.driver]:-?})"
    line berthd
    echo "         phases: ${result[berthd.phases]:-n/a}"
    line dockerd
    echo "dockerd / berthd: $ratio  (target >= 2.00: $(verdict_of "$ok"))"
    for f in "${failures[@]}"; do
        echo "failure: $f"
    done
)
echo "$report"
mkdir -p "$root/bench/results"
echo "$report" >"$root/bench/results/commit-$stamp.txt"
((${#failures[@]} == 0)) || exit 1
[[ $ok != 0 ]] || exit 1
exit 0
