#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2317 # cleanup and the memory functions are called indirectly
#
# bench/run/run.sh: container lifecycle latency of berthd and of dockerd, side by side in one
# run, against the floor of `unshare ... chroot ROOTFS /bin/true`. Per container: POST create,
# start, wait and DELETE of busybox `true` through the API, sequentially; then 100 containers
# started at once; then the memory of each daemon and of one shim with the 100 running. Then the
# end-to-end cases of issue 5, through the CLIs: `docker run --rm busybox true` with the same
# docker CLI against both daemons, `docker exec CTR true` on a running container against both,
# and `berth run --rm busybox true` against berthd. Prints a table with the targets of issues 4
# and 5 and saves it to bench/results/run-<date>.txt.
#
# Run as root. Everything runs inside `unshare --net --mount --fork` with private tmpfs mounts
# over /run, /etc/docker and /opt (bench/lib.sh). Both daemons are driven by the same client,
# bench/run/lifecycle.py (HTTP/1.1 over the Unix socket, keep-alive). Only processes this
# script started are stopped, by PID.
#
# Environment:
#   BENCH_N       containers in the sequential loop, and runs of the floor (default 30)
#   BENCH_CLI_N   runs of each CLI case per daemon: `docker run --rm`, `docker exec`, `berth run
#                 --rm`, each after 3 unrecorded runs (default 20; 0 skips them)
#   BENCH_BURST   containers started at once (default 100)
#   BENCH_CONC    connections the burst's start requests use (default 32)
#   BENCH_PERF    1: after the measurements, three more berthd loops of BENCH_N containers:
#                 under `strace -f -c -w`, under `perf record -a -g`, and with a second berthd
#                 whose data root is a tmpfs; the summary goes to
#                 bench/results/run-perf-<date>.txt (default 0)
#   BENCH_ONLY    "berthd", "dockerd" or "floor" to measure one contender only
#   BERTHD        berthd binary, with berth-shim and the berth CLI beside it (default
#                 build-bench/bin/berthd, a Release build made or brought up to date by this
#                 script)
#   DOCKERD       dockerd binary (default /usr/sbin/dockerd)
#   FIXTURES      fixture directory (default build/fixtures; built when needed)
#
# Runs should be some minutes apart: ext4 does not hand out again the inodes of files deleted
# in the last 1-5 minutes and scans past them, so each run's 100+ removed containers make file
# creation in the next one slower (berthd's create went 1.3 -> 5 ms over three runs back to
# back); a fresh filesystem on a loop device avoids it but doubles every fsync's cost.
#
# Exit status: 0 when every target is met, 1 when one is missed or a daemon or a request
# failed, 2 on a setup error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${BENCH_N:-30}
cli_n=${BENCH_CLI_N:-20}
burst=${BENCH_BURST:-100}
conc=${BENCH_CONC:-32}
perf_on=${BENCH_PERF:-0}
only=${BENCH_ONLY:-}
berthd_bin=${BERTHD:-$root/build-bench/bin/berthd}
dockerd_bin=${DOCKERD:-/usr/sbin/dockerd}
fixtures=${FIXTURES:-$root/build/fixtures}
client=$here/lifecycle.py
berth_cli=$(dirname "$berthd_bin")/berth
bench_tag=bench/run
# shellcheck source=bench/lib.sh
. "$here/../lib.sh"

[[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer"
[[ $cli_n =~ ^[0-9]+$ ]] || die "BENCH_CLI_N must be a number"
[[ $burst =~ ^[1-9][0-9]*$ ]] || die "BENCH_BURST must be a positive integer"
[[ $conc =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONC must be a positive integer"
bench_only_check berthd dockerd floor

# ---- outside the namespace: checks and builds -------------------------------------------------

if [[ ${BENCH_RUN_INNER:-} != 1 ]]; then
    bench_need unshare chroot curl docker python3 findmnt
    bench_build_berthd berthd berth-shim berth
    bench_check_berthd berth-shim berth
    bench_check_dockerd runc
    if [[ $perf_on == 1 ]]; then
        command -v perf >/dev/null || die "BENCH_PERF=1 needs perf (apt-get install linux-perf)"
        command -v strace >/dev/null || die "BENCH_PERF=1 needs strace (apt-get install strace)"
    fi
    "$root/tests/fixtures/build.sh" "$fixtures" >/dev/null || die "fixture build failed"
    [[ -f $fixtures/busybox/busybox.tar ]] || die "$fixtures/busybox/busybox.tar is missing"
    [[ -x $fixtures/busybox/rootfs/bin/true ]] || die "$fixtures/busybox/rootfs is incomplete"
    export BENCH_RUN_INNER=1
    exec unshare --net --mount --fork "$here/run.sh" "$@"
fi

# ---- inside the namespace ---------------------------------------------------------------------

bench_inner_init run
image=busybox:latest
rootfs=$fixtures/busybox/rootfs


bench_trap_cleanup

# The docker CLI (image load, and the `docker run` reference): a private config and no
# inherited endpoint.
bench_docker_config

# ---- helpers ----------------------------------------------------------------------------------

since() # since T0: seconds from T0 to now
{
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.6f\n", b - a}'
}

# stats FILE KEY NAME: result[NAME.median], result[NAME.p90] (ms) of FILE's list KEY.
stats()
{
    local m p c
    read -r m p c < <(python3 "$client" stats "$1" "$2") || return 1
    result[$3.median]=$m
    result[$3.p90]=$p
    result[$3.n]=$c
}

r() # r KEY: result[KEY] or "-"
{
    echo "${result[$1]:--}"
}

jfield() # jfield FILE KEY: a top-level field of a JSON object file (numbers: 2 decimals)
{
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(f"{v:.2f}" if isinstance(v, float) else v)' "$1" "$2"
}

kib_of() # kib_of PID FIELD: a VmRSS-style field of /proc/PID/status, in KiB
{
    awk -v f="$2:" '$1 == f {print $2}' /proc/"$1"/status 2>/dev/null || true
}

private_kib() # private_kib PID: Private_Clean + Private_Dirty of /proc/PID/smaps_rollup
{
    awk '/^Private_(Clean|Dirty):/ {t += $2} END {print t + 0}' /proc/"$1"/smaps_rollup \
        2>/dev/null || echo 0
}

# shim_memory NAME PID...: result[NAME.shims], the median and the largest private memory and
# RSS (KiB) over the given shims.
shim_memory()
{
    local name=$1 pid
    shift
    result[$name.shims]=$#
    (($#)) || return 0
    for pid in "$@"; do
        echo "$(private_kib "$pid") $(kib_of "$pid" VmRSS)"
    done >"$dir/$name-shims.txt"
    result[$name.shim_priv]=$(sort -n -k1 "$dir/$name-shims.txt" |
        awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
    result[$name.shim_priv_max]=$(sort -n -k1 "$dir/$name-shims.txt" | tail -n 1 | cut -d' ' -f1)
    result[$name.shim_rss]=$(sort -n -k2 "$dir/$name-shims.txt" |
        awk '{v[NR] = $2} END {print v[int((NR + 1) / 2)]}')
}

# time_runs NAME KEY CMD...: CMD 3 times unrecorded, then cli_n times timed (wall time of the
# process); result[NAME.KEY.median|p90|n], or result[NAME.KEY_error] with the first failure.
time_runs()
{
    local name=$1 key=$2 i t0 out
    shift 2
    : >"$dir/$name-$key.txt"
    for ((i = -3; i < cli_n; i++)); do
        t0=$EPOCHREALTIME
        if ! out=$("$@" 2>&1 </dev/null); then
            result[$name.${key}_error]=$(head -n 1 <<<"$out" | cut -c 1-70)
            fail "$name: $* failed: $(head -c 300 <<<"$out")"
            return 1
        fi
        ((i < 0)) || since "$t0" >>"$dir/$name-$key.txt"
    done
    stats "$dir/$name-$key.txt" - "$name.$key"
}

# cli_cases NAME SOCK: the end-to-end cases through the CLIs (issue 5): docker run --rm, docker
# exec on a running container, and for berthd berth run --rm.
cli_cases()
{
    local name=$1 sock=$2 ctr=bench-exec
    say "$name: $cli_n x docker run --rm --network none $image true"
    time_runs "$name" cli docker -H "unix://$sock" run --rm --network none "$image" true || true
    say "$name: $cli_n x docker exec $ctr true"
    if docker -H "unix://$sock" run -d --name "$ctr" --network none "$image" sleep 600 \
        >"$dir/$name-exec-run.txt" 2>&1; then
        time_runs "$name" exec docker -H "unix://$sock" exec "$ctr" true || true
        docker -H "unix://$sock" rm -f "$ctr" >/dev/null 2>&1 || fail "$name: rm -f $ctr failed"
    else
        result[$name.exec_error]="docker run -d failed"
        fail "$name: docker run -d $ctr failed: $(head -c 300 "$dir/$name-exec-run.txt")"
    fi
    if [[ $name == berthd ]]; then
        say "$name: $cli_n x berth run --rm --network none $image true"
        time_runs "$name" berth "$berth_cli" -H "unix://$sock" run --rm --network none "$image" \
            true || true
        say "$name: $cli_n x berth run --rm $image true (the default network)"
        time_runs "$name" berthdef "$berth_cli" -H "unix://$sock" run --rm "$image" true || true
    fi
}

# ---- the API measurements, the same for both daemons -------------------------------------------

# measure NAME SOCK MEMFN: the client's cost, the sequential loop, the `docker run` reference
# and the burst; MEMFN NAME is called while the burst's containers run.
measure()
{
    local name=$1 sock=$2 memfn=$3 i t0 out
    if ! docker -H "unix://$sock" load -q -i "$fixtures/busybox/busybox.tar" \
        >"$dir/$name-load.txt" 2>&1; then
        fail "$name: docker load failed: $(head -c 300 "$dir/$name-load.txt")"
        return 1
    fi
    python3 "$client" "$sock" ping 500 >"$dir/$name-ping.json" || fail "$name: /_ping failed"
    stats "$dir/$name-ping.json" ping "$name.ping" || true

    say "$name: $n x create+start+wait+rm"
    # Three unrecorded containers first: the first start pays for page faults and cold caches.
    python3 "$client" "$sock" loop 3 "$image" >/dev/null || {
        fail "$name: the warm-up loop failed"
        return 1
    }
    sync # write back what the previous phase left dirty, so it does not land inside the loop
    if python3 "$client" "$sock" loop "$n" "$image" >"$dir/$name-loop.json"; then
        for i in total create start wait rm; do
            stats "$dir/$name-loop.json" "$i" "$name.$i" || true
        done
    else
        fail "$name: the loop failed"
    fi

    if ((cli_n > 0)); then
        cli_cases "$name" "$sock"
    fi

    say "$name: $burst containers (sleep 60) started at once, $conc connections"
    if ! python3 "$client" "$sock" create-many "$burst" "$image" "$dir/$name-ids" \
        >"$dir/$name-create.json"; then
        fail "$name: creating $burst containers failed"
        return 1
    fi
    result[$name.burst_create]=$(jfield "$dir/$name-create.json" seconds)
    if python3 "$client" "$sock" start-many "$dir/$name-ids" "$conc" >"$dir/$name-start.json"; then
        result[$name.burst_start]=$(jfield "$dir/$name-start.json" seconds)
        result[$name.burst_running]=$(jfield "$dir/$name-start.json" running)
        if [[ ${result[$name.burst_running]} != "$burst" ]]; then
            fail "$name: ${result[$name.burst_running]} of $burst containers running after start"
        fi
        sleep 1 # let every container's exec and the shims settle before memory is read
        "$memfn" "$name"
    else
        fail "$name: starting $burst containers failed"
    fi
    if python3 "$client" "$sock" rm-many "$dir/$name-ids" "$conc" >"$dir/$name-rm.json"; then
        result[$name.burst_rm]=$(jfield "$dir/$name-rm.json" seconds)
    else
        fail "$name: removing the $burst containers failed"
    fi
}

# ---- berthd -----------------------------------------------------------------------------------

berthd_memory()
{
    local pid=${result[berthd.pid]} shims=() child
    result[berthd.rss]=$(kib_of "$pid" VmRSS)
    result[berthd.tree_rss]=$(tree_rss_kib "$pid")
    # shellcheck disable=SC2013 # one line of PIDs
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        [[ $(cat /proc/"$child"/comm 2>/dev/null) == berth-shim ]] && shims+=("$child")
    done
    shim_memory berthd "${shims[@]}"
}

# profile_loop LABEL TOOL ARGS...: a loop of N containers while TOOL ARGS runs (its output in
# $dir/LABEL.out); sets prof_ms, the loop's median per container under the tool.
profile_loop()
{
    local label=$1 sock=$2 tool_pid
    shift 2
    "$@" >"$dir/$label.out" 2>&1 &
    tool_pid=$!
    started[$tool_pid]=$1
    sleep 0.5 # let the tool attach
    python3 "$client" "$sock" loop "$n" "$image" >"$dir/$label-loop.json" ||
        fail "berthd: the loop under $1 failed"
    kill -INT "$tool_pid" 2>/dev/null || true
    wait "$tool_pid" 2>/dev/null || true
    unset "started[$tool_pid]"
    prof_ms=$(python3 "$client" stats "$dir/$label-loop.json" total | cut -d' ' -f1)
}

perf_section() # perf_section TITLE PERF-REPORT-ARGS...
{
    local title=$1
    shift
    echo "== $title =="
    perf report -i "$dir/perf.data" --stdio "$@" 2>/dev/null | grep -v '^#' | grep -v '^$' |
        head -n 40 || true
    echo
}

# tmpfs_loop: sets tmpfs_line, the loop's medians with a second berthd whose data root is a
# tmpfs (started and stopped here; the image loaded again).
tmpfs_loop()
{
    local d=$dir/berthd-tmpfs pid k
    tmpfs_line="not measured"
    mkdir -p "$d/root"
    mount -t tmpfs -o mode=0700 tmpfs "$d/root"
    echo '{}' >"$d/daemon.json"
    start_daemon berthd-tmpfs "$d/berthd.sock" "$d/berthd.log" "$berthd_bin" \
        -H "unix://$d/berthd.sock" --data-root "$d/root" --exec-root /run/berth-tmpfs \
        --pidfile "$d/berthd.pid" --config-file "$d/daemon.json" --live-restore=false || return 0
    pid=${result[berthd-tmpfs.pid]}
    if docker -H "unix://$d/berthd.sock" load -q -i "$fixtures/busybox/busybox.tar" >/dev/null &&
        python3 "$client" "$d/berthd.sock" loop 3 "$image" >/dev/null &&
        python3 "$client" "$d/berthd.sock" loop "$n" "$image" >"$dir/tmpfs-loop.json"; then
        tmpfs_line=""
        for k in total create start wait rm; do
            tmpfs_line+="$k $(python3 "$client" stats "$dir/tmpfs-loop.json" "$k" |
                cut -d' ' -f1), "
        done
        tmpfs_line=${tmpfs_line%, }
    fi
    stop_pid "$pid" berthd-tmpfs
    forget_tree "$pid"
}

profile_berthd()
{
    local sock=$1 pid=$2 out=$root/bench/results/run-perf-$stamp.txt prof_ms trace_ms sym pat
    local tmpfs_line
    say "berthd: profiling $n more containers under strace, then $n under perf"
    # -f follows the shims and the containers' init processes berthd spawns while it runs.
    profile_loop trace "$sock" strace -f -c -w -o "$dir/trace.txt" -p "$pid" || return 0
    trace_ms=$prof_ms
    profile_loop record "$sock" perf record -q -a -g -F 2000 -o "$dir/perf.data" || return 0
    tmpfs_loop
    {
        echo "berthd per-container profile, $started_at"
        echo "perf record -a -g -F 2000 (every CPU, on-CPU samples, idle included) during a loop" \
            "of $n create+start+wait+rm: median ${prof_ms} ms per container under perf"
        echo
        echo "== selected call-graph totals (% of all samples, children included; berthd," \
            "berth-shim, true only) =="
        perf report -i "$dir/perf.data" --stdio --children --sort sym -g none \
            --comms berthd,berth-shim,true 2>/dev/null |
            grep -v '^#' >"$dir/perf-children.txt" || true
        for sym in do_idle __x64_sys_clone __x64_sys_clone3 kernel_clone __x64_sys_execve \
            __x64_sys_mount path_mount do_new_mount __x64_sys_umount2 __x64_sys_pivot_root \
            ovl_fill_super __x64_sys_mkdir __x64_sys_rmdir __x64_sys_unlinkat __x64_sys_fsync \
            __x64_sys_fdatasync __x64_sys_renameat2 do_exit exit_mmap __x64_sys_unshare \
            copy_namespaces put_mnt_ns cgroup_mkdir cgroup_rmdir synchronize_rcu \
            uv_spawn json_loadb json_dumpb do_sys_openat2; do
            pat="[[:space:]]\\[[.k]\\][[:space:]]+$sym\$"
            grep -E "$pat" "$dir/perf-children.txt" | head -n 1 |
                awk -v s="$sym" '{printf "  %-30s %7s\n", s, $1}' || true
        done
        echo
        perf_section "by command" --no-children --sort comm -g none
        perf_section "by command and shared object" --no-children --sort comm,dso -g none \
            --percent-limit 0.5
        perf_section "by symbol (self; berthd, berth-shim, true only)" --no-children \
            --sort comm,sym -g none --percent-limit 0.3 --comms berthd,berth-shim,true
        echo "== the same loop of $n with berthd's data root on a tmpfs (no disk: no fsync cost," \
            "no ext4 inode allocation), medians in ms =="
        echo "  ext4:  total $(r berthd.total.median), create $(r berthd.create.median), start" \
            "$(r berthd.start.median), wait $(r berthd.wait.median), rm $(r berthd.rm.median)"
        echo "  tmpfs: $tmpfs_line"
        echo
        echo "== system calls of berthd, its shims and the containers: strace -f -c -w," \
            "another loop of $n (median ${trace_ms} ms per container under strace); seconds =" \
            "wall time inside each call, summed over processes =="
        head -n 40 "$dir/trace.txt" || true
    } >"$out"
    say "profile saved to $out"
}

run_berthd()
{
    local d=$dir/berthd pid
    mkdir -p "$d"
    echo '{}' >"$d/daemon.json"
    # --live-restore=false: berthd stops whatever still runs when it exits. The exec root is
    # berthd's default, /run/berth (a private tmpfs here): a shim's socket path,
    # EXEC-ROOT/<64-hex id>/shim.sock, must fit in sun_path's 108 bytes.
    if ! start_daemon berthd "$d/berthd.sock" "$d/berthd.log" "$berthd_bin" \
        -H "unix://$d/berthd.sock" --data-root "$d/root" --exec-root /run/berth \
        --pidfile "$d/berthd.pid" --config-file "$d/daemon.json" --live-restore=false; then
        fail "berthd did not start"
        return 0
    fi
    pid=${result[berthd.pid]}
    measure berthd "$d/berthd.sock" berthd_memory || true
    if [[ $perf_on == 1 ]]; then
        profile_berthd "$d/berthd.sock" "$pid"
    fi
    stop_pid "$pid" berthd
    forget_tree "$pid"
}

# ---- dockerd ----------------------------------------------------------------------------------

dockerd_memory()
{
    local pid=${result[dockerd.pid]} shims=() p
    # dockerd and its managed containerd (the shims are reparented away from containerd).
    result[dockerd.rss]=$(tree_rss_kib "$pid")
    result[dockerd.own_rss]=$(kib_of "$pid" VmRSS)
    # The shims of this containerd: their command line names its socket, inside $dir.
    for p in /proc/[0-9]*; do
        [[ $(cat "$p/comm" 2>/dev/null) == containerd-shim* ]] || continue
        tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$dir/" || continue
        shims+=("${p#/proc/}")
    done
    shim_memory dockerd "${shims[@]}"
}

run_dockerd()
{
    local d=$dir/dockerd pid
    mkdir -p "$d"
    echo '{}' >"$d/daemon.json"
    if ! start_daemon dockerd "$d/docker.sock" "$d/dockerd.log" "$dockerd_bin" \
        --iptables=false --bridge=none -H "unix://$d/docker.sock" --data-root "$d/root" \
        --exec-root "$d/exec" --pidfile "$d/docker.pid" --config-file "$d/daemon.json"; then
        fail "dockerd did not start"
        return 0
    fi
    pid=${result[dockerd.pid]}
    adopt_children "$pid" dockerd
    result[dockerd.driver]=$(docker -H "unix://$d/docker.sock" info \
        --format '{{.Driver}}, cgroup {{.CgroupVersion}} {{.CgroupDriver}}, {{.DefaultRuntime}}' \
        2>/dev/null || echo '?')
    measure dockerd "$d/docker.sock" dockerd_memory || true
    stop_pid "$pid" dockerd
    forget_tree "$pid"
}

# ---- the floor --------------------------------------------------------------------------------

run_floor()
{
    local i t0
    say "floor: $n x unshare --fork --pid --mount --uts --ipc --net chroot ROOTFS /bin/true"
    for ((i = 0; i < 3; i++)); do
        unshare --fork --pid --mount --uts --ipc --net chroot "$rootfs" /bin/true ||
            die "the floor command failed"
    done
    : >"$dir/floor.txt"
    for ((i = 0; i < n; i++)); do
        t0=$EPOCHREALTIME
        unshare --fork --pid --mount --uts --ipc --net chroot "$rootfs" /bin/true
        since "$t0" >>"$dir/floor.txt"
    done
    stats "$dir/floor.txt" - floor.total
}

# ---- measure ----------------------------------------------------------------------------------

if want berthd; then
    result[berthd.version]=$("$berthd_bin" --version 2>/dev/null | head -n 1 || true)
fi
if want dockerd; then
    result[dockerd.version]=$("$dockerd_bin" --version 2>/dev/null || true)
fi
if want floor; then run_floor; fi
if want berthd; then run_berthd; fi
if want dockerd; then run_dockerd; fi

# ---- report -----------------------------------------------------------------------------------

mib() # mib KIB
{
    [[ $1 == - ]] && echo - && return
    awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'
}

lat_row()
{
    printf '%-34s | %8s | %8s | %7s | %7s | %7s | %7s\n' "$@"
}

burst_row()
{
    printf '%-34s | %8s | %8s | %8s | %8s\n' "$@"
}

mem_row()
{
    printf '%-34s | %12s | %12s | %12s | %12s\n' "$@"
}

cli_row() # cli_row NAME KEY LABEL
{
    if [[ -n ${result[$1.$2_error]:-} ]]; then
        echo "$3: n/a (${result[$1.$2_error]})"
    else
        lat_row "$3" "$(r "$1.$2.median")" "$(r "$1.$2.p90")" "" "" "" ""
    fi
}

ratio_row()
{
    printf '%-34s | %9s | %9s | %7s\n' "$@"
}

report()
{
    local name b d f ok v t
    echo "berth run benchmark, started $started_at"
    echo "host: $(uname -r), $(nproc) CPUs," \
        "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "load average: $load_at_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end" \
        "(anything above 0.5 means other work shared the CPUs: re-run when the machine is idle)"
    echo "berthd: $(r berthd.version) ($berthd_bin)"
    echo "dockerd: $(r dockerd.version); $(r dockerd.driver)"
    echo "client: bench/run/lifecycle.py (python3 http.client, one keep-alive connection);" \
        "its GET /_ping round trip: berthd $(r berthd.ping.median) ms, dockerd" \
        "$(r dockerd.ping.median) ms (median of 500)"
    echo "method: image $image (the busybox fixture, docker load); per container, sequentially:" \
        "POST /containers/create (Cmd [\"true\"], NetworkMode none), POST start, POST wait," \
        "DELETE; $n containers after 3 unrecorded; floor = \`unshare --fork --pid --mount" \
        "--uts --ipc --net chroot ROOTFS /bin/true\` from bash, $n runs after 3; data roots on" \
        "$(findmnt -n -o FSTYPE -T "$dir")"
    echo
    lat_row "per container (ms)" median p90 create start wait rm
    lat_row ---------------------------------- -------- -------- ------- ------- ------- -------
    for name in berthd dockerd; do
        lat_row "$name: create+start+wait+rm" "$(r "$name.total.median")" \
            "$(r "$name.total.p90")" "$(r "$name.create.median")" "$(r "$name.start.median")" \
            "$(r "$name.wait.median")" "$(r "$name.rm.median")"
    done
    lat_row "floor: unshare+chroot /bin/true" "$(r floor.total.median)" "$(r floor.total.p90)" \
        "" "" "" ""
    echo "(create/start/wait/rm: the median of each call)"
    echo
    lat_row "end to end, through a CLI (ms)" median p90 "" "" "" ""
    lat_row ---------------------------------- -------- -------- ------- ------- ------- -------
    cli_row berthd cli "berthd: docker run --rm true"
    cli_row dockerd cli "dockerd: docker run --rm true"
    cli_row berthd exec "berthd: docker exec CTR true"
    cli_row dockerd exec "dockerd: docker exec CTR true"
    cli_row berthd berth "berthd: berth run --rm true"
    cli_row berthd berthdef "berthd: berth run (default net)"
    echo "(wall time of the CLI process, $cli_n runs after 3 unrecorded; docker CLI" \
        "$(docker --version | sed -n 's/^Docker version \([^,]*\),.*/\1/p'); --network none" \
        "except the last row; exec: on a running \`sleep 600\` container)"
    echo
    burst_row "$burst containers at once (s)" create start running "rm -f"
    burst_row ---------------------------------- -------- -------- -------- --------
    for name in berthd dockerd; do
        burst_row "$name" "$(r "$name.burst_create")" "$(r "$name.burst_start")" \
            "$(r "$name.burst_running")" "$(r "$name.burst_rm")"
    done
    echo "(create: sequential, one connection; start and rm -f: $conc connections in parallel," \
        "wall time until the last answer; running: counted by GET /containers/json afterwards)"
    echo
    mem_row "memory, $burst running (KiB)" "daemon RSS" "shim private" "shim RSS" "shim priv max"
    mem_row ---------------------------------- ------------ ------------ ------------ ------------
    mem_row "berthd" "$(r berthd.rss)" "$(r berthd.shim_priv)" "$(r berthd.shim_rss)" \
        "$(r berthd.shim_priv_max)"
    mem_row "dockerd + containerd" "$(r dockerd.rss)" "$(r dockerd.shim_priv)" \
        "$(r dockerd.shim_rss)" "$(r dockerd.shim_priv_max)"
    echo "(daemon RSS: berthd alone, dockerd plus its containerd; shim: median over the" \
        "$(r berthd.shims) berth-shims / $(r dockerd.shims) containerd-shims," \
        "private = Private_Clean + Private_Dirty of smaps_rollup)"
    echo
    ratio_row target value target verdict
    ratio_row ---------------------------------- --------- --------- -------
    b=${result[berthd.total.median]:-}
    d=${result[dockerd.total.median]:-}
    f=${result[floor.total.median]:-}
    bench_ratio_row "dockerd / berthd (median)" "$d" "$b" 1 ">=" 10
    bench_ratio_row "berthd / floor (median)" "$b" "$f" 1 "<=" 3
    v=-
    ok=-
    if [[ -n ${result[berthd.shim_priv]:-} ]]; then
        v="$(mib "${result[berthd.shim_priv]}") MiB"
        ok=$(awk -v k="${result[berthd.shim_priv]}" 'BEGIN {print (k < 1024) ? 1 : 0}')
    fi
    ratio_row "berth-shim private memory" "$v" "< 1 MiB" "$(verdict_of "$ok")"
    if ((cli_n > 0)); then
        b=${result[berthd.cli.median]:-}
        d=${result[dockerd.cli.median]:-}
        bench_ratio_row "docker run --rm: dockerd / berthd" "$d" "$b" 1 ">=" 6
        b=${result[berthd.exec.median]:-}
        d=${result[dockerd.exec.median]:-}
        v=-
        if [[ -n $b && -n $d ]]; then
            v=$(awk -v b="$b" -v d="$d" 'BEGIN {printf "%.1fx", d / b}')
        fi
        ratio_row "docker exec: dockerd / berthd" "$v" "-" "info"
        b=${result[berthd.berth.median]:-}
        v=-
        ok=-
        if [[ -n $b ]]; then
            v="$b ms"
            ok=$(awk -v b="$b" 'BEGIN {print (b < 25) ? 1 : 0}')
        fi
        ratio_row "berth run --rm true (median)" "$v" "< 25 ms" "$(verdict_of "$ok")"
    fi
    bench_print_failures
}

bench_save_report "run-$stamp"
if ((${#failures[@]})) || grep -qE '[|] +FAIL$' "$out"; then
    exit 1
fi
exit 0
