#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/pull/run.sh: cold pull of the ~100 MB, 3-layer bench image from a local registry, by
# berthd and by dockerd, side by side in one run, against the floor of fetching, hashing and
# unpacking the same blobs with curl, sha256sum and tar in parallel. Prints a table with the
# targets of issue 3 and saves it to bench/results/pull-<date>.txt.
#
# Run as root. Everything runs inside `unshare --net --mount --fork` with private tmpfs mounts
# over /run, /etc/docker and /opt; the registry (Debian's docker-registry, tests/fixtures/
# registry.sh) listens on the namespace's own loopback. Only processes this script started are
# stopped, by PID.
#
# Environment:
#   BENCH_RUNS   pulls per contender (default 3); median and minimum are reported
#   BENCH_PORT   registry port inside the namespace (default 5000)
#   BENCH_PERF   1: after the timed runs, one more berthd pull under `perf record -g`; the
#                profile summary goes to bench/results/pull-perf-<date>.txt (default 0)
#   BENCH_SYNC   0: no `sync` before each timed run (default 1)
#   BENCH_ONLY   "berthd", "dockerd" or "floor" to measure one contender only
#   BERTHD       berthd binary (default build-bench/bin/berthd, a Release build made or
#                brought up to date by this script)
#   DOCKERD      dockerd binary (default /usr/sbin/dockerd)
#   FIXTURES     fixture directory (default build/fixtures; built with --bench when needed)
#
# Exit status: 0 when both targets are met, 1 when one is missed or a daemon or pull failed,
# 2 on a setup error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${BENCH_RUNS:-3}
port=${BENCH_PORT:-5000}
perf_on=${BENCH_PERF:-0}
sync_on=${BENCH_SYNC:-1}
only=${BENCH_ONLY:-}
berthd_bin=${BERTHD:-$root/build-bench/bin/berthd}
dockerd_bin=${DOCKERD:-/usr/sbin/dockerd}
fixtures=${FIXTURES:-$root/build/fixtures}
bench_tag=bench/pull
# shellcheck source=bench/lib.sh
. "$here/../lib.sh"

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ $port =~ ^[1-9][0-9]*$ ]] || die "BENCH_PORT must be a port number"
bench_only_check berthd dockerd floor

# ---- outside the namespace: checks and builds -------------------------------------------------

if [[ ${BENCH_PULL_INNER:-} != 1 ]]; then
    bench_need unshare curl docker docker-registry skopeo python3 sha256sum tar mkfifo
    bench_build_berthd berthd
    bench_check_berthd
    bench_check_dockerd
    if [[ $perf_on == 1 ]]; then
        command -v perf >/dev/null || die "BENCH_PERF=1 needs perf (apt-get install linux-perf)"
    fi
    "$root/tests/fixtures/build.sh" --bench "$fixtures" >/dev/null || die "fixture build failed"
    [[ -d $fixtures/oci/bench ]] || die "$fixtures/oci/bench is missing after the fixture build"
    export BENCH_PULL_INNER=1
    exec unshare --net --mount --fork "$here/run.sh" "$@"
fi

# ---- inside the namespace ---------------------------------------------------------------------

bench_inner_init pull
declare -A times=() # contender -> space-separated seconds of the successful runs
declare -A cpu=()   # contender -> space-separated CPU seconds (user + system) of those runs

bench_trap_cleanup

image=127.0.0.1:$port/test/bench:latest
fx() # fx KEY: a field of FIXTURES.json's bench entry, lists space-separated
{
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))["bench"][sys.argv[2]]
print(" ".join(map(str, v)) if isinstance(v, list) else v)' "$fixtures/FIXTURES.json" "$1"
}
image_id=$(fx config)
manifest_digest=$(fx manifest)
read -r -a layers <<<"$(fx layers)"
read -r -a sizes <<<"$(fx sizes)"

# The client: the docker CLI on PATH, with a private config and no inherited endpoint.
bench_docker_config

# ---- registry ---------------------------------------------------------------------------------

"$root/tests/fixtures/registry.sh" start "$dir/registry" "$port" >/dev/null ||
    die "the registry did not start"
reg_pid=$(cat "$dir/registry/registry.pid")
comm_of[$reg_pid]=$(cat /proc/"$reg_pid"/comm 2>/dev/null || true)
started[$reg_pid]=docker-registry
"$root/tests/fixtures/registry.sh" push "oci:$fixtures/oci/bench:latest" "$image" ||
    die "pushing the bench image failed"

# ---- helpers ----------------------------------------------------------------------------------

now()
{
    echo "$EPOCHREALTIME"
}

since() # since T0: seconds from T0 to now, 3 decimals
{
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}'
}

# fresh DIR: a new empty directory for one run. Runs never reuse or delete a directory until
# the script exits: ext4 skips recently freed inodes when it allocates new ones (for 60 s or
# more), so deleting the previous run's ~2000 files would slow down every file the next run
# creates.
fresh()
{
    [[ ! -e $1 ]] || die "$1 already exists"
    mkdir -p "$1"
}

# Write back what earlier runs left dirty so it does not land inside the next timed pull.
settle_io()
{
    [[ $sync_on == 0 ]] || sync
}

record() # record CONTENDER SECONDS [CPU-SECONDS]
{
    times[$1]="${times[$1]:-} $2"
    [[ -z ${3:-} ]] || cpu[$1]="${cpu[$1]:-} $3"
    echo "  $1: ${2}s${3:+, CPU ${3}s}" >&2
}

# pull_once NAME PID SOCKET LOG: time `docker pull` against the daemon and check the image it
# made; also the CPU time the daemon's process tree used meanwhile.
pull_once()
{
    local name=$1 pid=$2 sock=$3 log=$4 t0 secs id c0
    settle_io
    c0=$(cpu_ticks "$pid")
    t0=$(now)
    if ! docker -H "unix://$sock" pull "$image" >>"$log" 2>&1; then
        fail "$name: docker pull failed (see below)"
        tail -n 5 "$log" >&2
        return 1
    fi
    secs=$(since "$t0")
    c0=$(ticks_s $(($(cpu_ticks "$pid") - c0)))
    id=$(docker -H "unix://$sock" image inspect --format '{{.Id}}' "$image" 2>>"$log" || true)
    if [[ $id != "$image_id" ]]; then
        fail "$name: pulled image id '$id', expected $image_id"
        return 1
    fi
    record "$name" "$secs" "$c0"
}

# ---- berthd -----------------------------------------------------------------------------------

# start_berthd I: a berthd with an empty data root; sets berthd_pid, berthd_sock.
start_berthd()
{
    local i=$1 d
    d=$dir/berthd-$i
    fresh "$d"
    echo '{}' >"$d/daemon.json"
    berthd_sock=$d/berthd.sock
    if ! start_daemon berthd "$berthd_sock" "$d/berthd.log" "$berthd_bin" \
        -H "unix://$berthd_sock" --data-root "$d/root" --exec-root "$d/exec" \
        --pidfile "$d/berthd.pid" --config-file "$d/daemon.json"; then
        fail "berthd did not start"
        return 1
    fi
    berthd_pid=${result[berthd.pid]}
}

stop_berthd()
{
    stop_pid "$berthd_pid" berthd
    forget_tree "$berthd_pid"
}

run_berthd()
{
    local i=$1
    start_berthd "$i" || return 0
    pull_once berthd "$berthd_pid" "$berthd_sock" "$dir/berthd-$i/berthd.log" || true
    stop_berthd
}

# ---- dockerd ----------------------------------------------------------------------------------

run_dockerd()
{
    local i=$1 d pid
    d=$dir/dockerd-$i
    fresh "$d"
    echo '{}' >"$d/daemon.json"
    # A fresh --data-root each run: dockerd's image and layer store and its managed containerd's
    # root (data-root/containerd) start empty; the start-up is not timed.
    if ! start_daemon dockerd "$d/docker.sock" "$d/dockerd.log" "$dockerd_bin" \
        --iptables=false --bridge=none -H "unix://$d/docker.sock" --data-root "$d/root" \
        --exec-root "$d/exec" --pidfile "$d/docker.pid" --config-file "$d/daemon.json"; then
        fail "dockerd did not start"
        return 0
    fi
    pid=${result[dockerd.pid]}
    adopt_children "$pid" dockerd
    if [[ -z ${result[dockerd.driver]:-} ]]; then
        result[dockerd.driver]=$(docker -H "unix://$d/docker.sock" info \
            --format '{{.Driver}}' 2>/dev/null || echo '?')
    fi
    pull_once dockerd "$pid" "$d/docker.sock" "$d/dockerd.log" || true
    stop_pid "$pid" dockerd
    forget_tree "$pid"
}

# ---- the floor --------------------------------------------------------------------------------

# children_cpu: set children_s to the user + system seconds of this shell's waited-for
# children so far. Bash's `times` must run in this very shell: in a command substitution it
# would report the subshell's own zeros.
children_cpu()
{
    times >"$dir/times.txt"
    children_s=$(awk 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] }
        printf "%.3f", t }' "$dir/times.txt")
}

# run_floor NAME I HASH...: every layer blob fetched with curl, hashed by HASH (reading stdin,
# printing the hex digest first) and unpacked by tar (tar -z: gzip -d), all three layers at
# once; timed from the first fetch to the last unpack.
run_floor()
{
    local name=$1 i=$2 d n t0 secs ok=1 pids=() sum c0 children_s
    shift 2
    d=$dir/$name-$i
    fresh "$d"
    for n in "${!layers[@]}"; do
        mkdir -p "$d/layer$n"
        mkfifo "$d/fifo$n"
    done
    settle_io
    children_cpu
    c0=$children_s
    t0=$(now)
    for n in "${!layers[@]}"; do
        curl -sSf "http://127.0.0.1:$port/v2/test/bench/blobs/${layers[$n]}" |
            tee "$d/fifo$n" | "$@" >"$d/sum$n" &
        pids+=($!)
        tar -xzf - -C "$d/layer$n" <"$d/fifo$n" &
        pids+=($!)
    done
    for n in "${pids[@]}"; do
        wait "$n" || ok=0
    done
    secs=$(since "$t0")
    children_cpu
    c0=$(awk -v a="$c0" -v b="$children_s" 'BEGIN {printf "%.3f", b - a}')
    for n in "${!layers[@]}"; do
        sum=$(awk '{print $1}' "$d/sum$n")
        [[ sha256:$sum == "${layers[$n]}" ]] || ok=0
    done
    if [[ $ok != 1 ]]; then
        fail "$name: a fetch, hash or unpack failed"
        return 0
    fi
    record "$name" "$secs" "$c0"
}

# ---- profile (BENCH_PERF=1) -------------------------------------------------------------------

# cpu_ticks PID: user + system clock ticks used so far by PID's process tree (all threads).
cpu_ticks()
{
    local total=0 pid t
    for pid in $(tree_pids "$1"); do
        t=$(awk '{print $14 + $15}' /proc/"$pid"/stat 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}

ticks_s() # ticks_s TICKS: as seconds
{
    awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", t / hz}'
}

# perf_section TITLE PERF-REPORT-ARGS...: one block of the profile summary.
perf_section()
{
    local title=$1
    shift
    echo "== $title =="
    perf report -i "$dir/perf.data" --stdio "$@" 2>/dev/null | grep -v '^#' | grep -v '^$' |
        head -n 40 || true
    echo
}

# profiled_pull LABEL TOOL ARGS...: a cold berthd pull while `TOOL ARGS -p <berthd>` runs
# (output in $dir/LABEL.out); sets prof_secs (wall) and prof_cpu (berthd's CPU seconds).
profiled_pull()
{
    local label=$1 perf_pid t0 c0
    shift
    start_berthd "$label" || return 1
    settle_io
    "$@" -p "$berthd_pid" >"$dir/$label.out" 2>&1 &
    perf_pid=$!
    started[$perf_pid]=$1
    sleep 0.5 # let the tool attach to every thread
    c0=$(cpu_ticks "$berthd_pid")
    t0=$(now)
    docker -H "unix://$berthd_sock" pull "$image" >>"$dir/berthd-$label/berthd.log" 2>&1 ||
        fail "berthd: docker pull under $1 failed"
    prof_secs=$(since "$t0")
    prof_cpu=$(ticks_s $(($(cpu_ticks "$berthd_pid") - c0)))
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    unset "started[$perf_pid]"
    stop_berthd
}

profile_berthd()
{
    local out=$root/bench/results/pull-perf-$stamp.txt sym pat prof_secs prof_cpu
    local trace_secs trace_cpu
    # perf trace -p misses the threads libuv starts later; strace -f follows them.
    profiled_pull trace strace -f -c -w -o "$dir/trace.out" || return 0
    trace_secs=$prof_secs
    trace_cpu=$prof_cpu
    profiled_pull record perf record -q -F 4000 -g -o "$dir/perf.data" || return 0
    {
        echo "berthd pull profile, $started_at"
        echo "pull under perf record: ${prof_secs}s wall, berthd used ${prof_cpu}s CPU" \
            "(user + system, all threads)"
        echo "perf record -F 4000 -g -p <berthd>: on-CPU samples of every berthd thread" \
            "(cpu-clock); libcrypto has no symbols here: its hot code is the SHA-NI sha256" \
            "block loop"
        echo
        echo "== selected call-graph totals (% of berthd's samples, children included) =="
        perf report -i "$dir/perf.data" --stdio --children --sort sym -g none 2>/dev/null |
            grep -v '^#' >"$dir/perf-children.txt" || true
        for sym in __libc_pwrite __libc_write __libc_recv tcp_recvmsg do_symlinkat do_mkdirat \
            do_sys_openat2 do_renameat2 do_linkat __x64_sys_fsync __x64_sys_fdatasync \
            __x64_sys_syncfs __x64_sys_sync_file_range epoll_wait uv_run uv__io_poll \
            inflate archive_read_next_header archive_write_data_block sha256_block_data_order \
            SHA256_Update EVP_DigestUpdate curl_multi_perform; do
            pat="[[:space:]]\\[[.k]\\][[:space:]]+$sym\$"
            grep -E "$pat" "$dir/perf-children.txt" | head -n 1 |
                awk -v s="$sym" '{printf "  %-30s %7s\n", s, $1}' || true
        done
        echo
        perf_section "by thread" --no-children --sort pid -g none
        perf_section "by shared object" --no-children --sort dso -g none
        perf_section "by symbol (self)" --no-children --sort dso,sym -g none --percent-limit 0.5
        perf_section "by symbol (children included)" --children --sort sym -g none \
            --percent-limit 2
        echo "== system calls of all threads: strace -f -c -w, another cold pull" \
            "(${trace_secs}s wall under strace, ${trace_cpu}s CPU); seconds = wall time inside" \
            "each call, summed over threads (strace inflates every call) =="
        head -n 22 "$dir/trace.out" || true
    } >"$out"
    echo "bench/pull: profile saved to $out" >&2
}

# ---- measure ----------------------------------------------------------------------------------

if want berthd; then
    result[berthd.version]=$("$berthd_bin" --version 2>/dev/null | head -n 1 || true)
fi
if want dockerd; then
    result[dockerd.version]=$("$dockerd_bin" --version 2>/dev/null || true)
fi

for ((i = 1; i <= runs; i++)); do
    echo "bench/pull: round $i of $runs" >&2
    if want berthd; then run_berthd "$i"; fi
    if want dockerd; then run_dockerd "$i"; fi
    if want floor; then
        run_floor floor "$i" sha256sum
        run_floor floor-openssl "$i" openssl dgst -sha256 -r
    fi
done
if [[ $perf_on == 1 ]] && want berthd; then
    profile_berthd
fi

# ---- report -----------------------------------------------------------------------------------

median() # median SECONDS...
{
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1}
        END {if (NR == 0) print "-"; else if (NR % 2) printf "%.3f", v[(NR + 1) / 2];
             else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

minimum()
{
    printf '%s\n' "$@" | sort -g | awk 'NR == 1 {printf "%.3f", $1}'
}

row()
{
    printf '%-26s | %9s | %9s | %9s | %-25s\n' "$@"
}

ratio_row()
{
    printf '%-26s | %9s | %9s | %7s\n' "$@"
}

report()
{
    local name t total=0 s b d f
    for s in "${sizes[@]}"; do
        total=$((total + s))
    done
    echo "berth pull benchmark, started $started_at"
    echo "host: $(uname -r), $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "image: $image, ${#layers[@]} gzip layers, $(awk -v t="$total" \
        'BEGIN {printf "%.1f MB", t / 1e6}') compressed, manifest $manifest_digest"
    echo "berthd: ${result[berthd.version]:-not run} ($berthd_bin)"
    echo "dockerd: ${result[dockerd.version]:-not run}, storage driver" \
        "${result[dockerd.driver]:-?} (+ its managed containerd)"
    echo "client: $(docker --version)"
    echo "method: $runs cold pulls each; every pull starts from an empty data root with the" \
        "daemon just started (start-up not timed); time = wall time of \`docker pull\`, checked" \
        "by the image id afterwards; floor = curl | tee | sha256sum plus tar -xz of the 3 blobs," \
        "all in parallel (floor-openssl: \`openssl dgst -sha256\` instead of sha256sum," \
        "informational); CPU s = median user + system time of the daemon's process tree (dockerd:" \
        "with containerd) or of the floor's processes during the pull; data roots on $(findmnt -n -o FSTYPE -T "$dir"); \`sync\` before" \
        "each timed run"
    echo
    row contender "median s" "min s" "CPU s" "runs (s)"
    row -------------------------- --------- --------- --------- -------------------------
    for name in berthd dockerd floor floor-openssl; do
        # shellcheck disable=SC2086 # the lists are space-separated numbers
        if [[ -n ${times[$name]:-} ]]; then
            result[$name.median]=$(median ${times[$name]})
            row "$name" "${result[$name.median]}" "$(minimum ${times[$name]})" \
                "$(median ${cpu[$name]:-})" "${times[$name]# }"
        else
            row "$name" - - - "not measured"
        fi
    done
    echo
    ratio_row ratio "median" target verdict
    ratio_row -------------------------- --------- --------- -------
    b=${result[berthd.median]:-}
    d=${result[dockerd.median]:-}
    f=${result[floor.median]:-}
    bench_ratio_row "dockerd / berthd" "$d" "$b" 2 ">=" 1.5
    bench_ratio_row "berthd / floor" "$b" "$f" 2 "<=" 1.3
    bench_print_failures
}

bench_save_report "pull-$stamp"
if ((${#failures[@]})) || grep -Eq '[|] +FAIL$' "$out"; then
    exit 1
fi
exit 0
