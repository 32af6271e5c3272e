#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# Isolation (issue 4, items 2-4 and 9; TEST-PLAN R2, R3, R5, R6, R7, R11, R13): what a process
# inside a container sees and may do: pid 1, no host processes or mounts, the hostname, masked
# and read-only /proc and /sys, docker's capability set, no_new_privs, only fds 0-2, /dev,
# the device cgroup, memory and pids limits, --network none|host, --pid host, and images whose
# /proc or /dev is a symlink.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

# Docker's default capability set (moby oci/caps/defaults.go).
DEFAULT_CAPS=00000000a80425fb

setup_file() {
    fixtures_build
    # Images whose /proc (or /dev) is a symlink: the busybox rootfs with the directory replaced.
    local d
    for d in proc dev; do
        mkdir -p "$BATS_FILE_TMPDIR/bad$d"
        cp -a "$FIXTURES/busybox/rootfs" "$BATS_FILE_TMPDIR/bad$d/rootfs"
        rm -rf "$BATS_FILE_TMPDIR/bad$d/rootfs/$d"
        ln -s "/bad-$d" "$BATS_FILE_TMPDIR/bad$d/rootfs/$d"
        "${PY:-python3}" "$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/contrib/images/mkimage.py" \
            --layer-dir "$BATS_FILE_TMPDIR/bad$d/rootfs" --cmd '["true"]' \
            --docker-archive "$BATS_FILE_TMPDIR/bad$d.tar" --repo-tag "bad$d:latest" >/dev/null
    done
}

teardown() {
    if [[ -n "${DUMMY_LINK:-}" ]]; then
        ip link del "$DUMMY_LINK" 2>/dev/null || true
    fi
    ctr_teardown
}

# ---------------------------------------------------------------------------------------------

@test "pid namespace: the process is pid 1 and sees only the container's processes" {
    ctr_start
    ctr_run busybox sh -c 'echo $$'
    assert_eq "$CRC" 0
    assert_eq "$COUT" 1
    ctr_run busybox sh -c 'sleep 5 & ps -o pid,comm; kill %1'
    assert_eq "$CRC" 0
    assert_match "$(head -n1 <<<"$COUT")" 'PID +COMMAND'
    assert_match "$COUT" '^ +1 sh$'
    assert_not_contains "$COUT" berthd
    assert_not_contains "$COUT" berth-shim
    assert_not_contains "$COUT" bats
    [[ "$(grep -c . <<<"$COUT")" -le 4 ]] || fail "too many processes: $COUT"
    # The container's pid 1 has a real pid on the host, and its parent is not berthd.
    docker_t run -d --name p1 busybox sleep 30 >/dev/null
    local hp
    hp="$(docker_t inspect -f '{{.State.Pid}}' p1)"
    [[ "$(readlink "/proc/$hp/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]] || fail "same pid namespace as the host"
    [[ "$(readlink "/proc/$hp/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]] || fail "same mount namespace"
    [[ "$(readlink "/proc/$hp/ns/uts")" != "$(readlink /proc/self/ns/uts)" ]] || fail "same uts namespace"
    [[ "$(readlink "/proc/$hp/ns/ipc")" != "$(readlink /proc/self/ns/ipc)" ]] || fail "same ipc namespace"
    [[ "$(readlink "/proc/$hp/ns/net")" != "$(readlink /proc/self/ns/net)" ]] || fail "same net namespace"
    docker_t rm -f p1 >/dev/null
    assert_fd_baseline
}

@test "mount namespace: host mounts and paths are invisible; pivot_root, not chroot" {
    ctr_start
    ctr_run busybox cat /proc/mounts
    assert_eq "$CRC" 0
    assert_match "$COUT" '^overlay / overlay '
    assert_match "$COUT" '^proc /proc proc '
    # The mount points (the options of the overlay name host paths, as with docker).
    local points
    points="$(awk '{print $2}' <<<"$COUT")"
    assert_not_contains "$points" /work
    assert_not_contains "$points" "$T"
    assert_not_contains "$points" "$EXEC"
    assert_not_contains "$points" /tmp
    assert_not_contains "$points" /sys/fs/cgroup
    assert_not_contains "$points" /run
    [[ "$(grep -c . <<<"$points")" -lt 30 ]] || fail "too many mounts: $points"
    # Nothing of the host file system: the host's /work is not reachable, not even via '..'.
    ctr_run busybox sh -c 'ls /work >/dev/null 2>&1 || echo no-such; cd /; cd ../../..; pwd; ls'
    assert_eq "$(head -n2 <<<"$COUT")" $'no-such\n/'
    assert_not_contains "$COUT" work
    # pivot_root: the old root is gone (the mount namespace's root is the container's).
    ctr_run busybox sh -c 'cat /proc/self/mountinfo | awk "\$5 == \"/\" {print \$4}"'
    assert_eq "$COUT" /
    assert_fd_baseline
}

@test "uts: the hostname is the short id by default, --hostname sets it" {
    ctr_start
    ctr_run busybox hostname
    assert_eq "$COUT" "${CID:0:12}"
    ctr_run busybox cat /etc/hostname
    assert_eq "$COUT" "${CID:0:12}"
    ctr_run busybox grep -c localhost /etc/hosts
    [[ "$COUT" -ge 1 ]] || fail "/etc/hosts lacks localhost: $COUT"
    ctr_run --hostname box1 busybox sh -c 'hostname; cat /etc/hostname'
    assert_eq "$COUT" $'box1\nbox1'
    # Setting the hostname inside does not change the host's.
    local before
    before="$(hostname)"
    ctr_run --cap-add SYS_ADMIN busybox hostname changed-inside
    assert_eq "$(hostname)" "$before"
    assert_fd_baseline
}

@test "/proc: masked paths are empty, /proc/sys and friends read-only; /sys read-only (R6)" {
    ctr_start
    # Docker's masked files (those this kernel has): char 1:3, empty.
    local f masked=()
    for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats /proc/timer_stats; do
        [[ -e "$f" ]] && masked+=("$f")
    done
    [[ "${#masked[@]}" -gt 0 ]] || skip "no maskable /proc file on this kernel"
    ctr_run busybox sh -c 'for f; do echo "$f $(stat -c %F:%t:%T $f) $(head -c 16 $f | wc -c)"; done' sh "${masked[@]}"
    assert_eq "$CRC" 0
    assert_eq "$(grep -c . <<<"$COUT")" "${#masked[@]}"
    while read -r f kind; do
        assert_eq "$f $kind" "$f character special file:1:3 0"
    done <<<"$COUT"
    # Masked directories: empty.
    ctr_run busybox sh -c 'for d in /proc/acpi /proc/scsi /sys/firmware; do [ -d $d ] && ls -A $d; done; true'
    assert_eq "$COUT" ""
    ctr_run busybox sh -c 'echo x > /proc/sys/kernel/domainname'
    [[ "$CRC" -ne 0 ]] || fail "wrote /proc/sys/kernel/domainname"
    assert_contains "$COUT" "Read-only file system"
    ctr_run busybox sh -c 'echo h > /proc/sysrq-trigger'
    [[ "$CRC" -ne 0 ]] || fail "wrote /proc/sysrq-trigger"
    ctr_run busybox sh -c 'echo "|/tmp/x" > /proc/sys/kernel/core_pattern'
    [[ "$CRC" -ne 0 ]] || fail "wrote /proc/sys/kernel/core_pattern"
    assert_not_contains "$(cat /proc/sys/kernel/core_pattern)" /tmp/x
    ctr_run busybox sh -c 'touch /sys/berth-x; mkdir /sys/fs/cgroup/berth-x'
    [[ "$CRC" -ne 0 ]] || fail "/sys is writable"
    assert_contains "$COUT" "Read-only file system"
    ctr_run busybox sh -c 'grep " /sys " /proc/mounts'
    assert_match "$COUT" '^sysfs /sys sysfs ro[,]'
    # The mask cannot be lifted: umount fails (no CAP_SYS_ADMIN).
    ctr_run busybox umount /proc/kcore
    [[ "$CRC" -ne 0 ]] || fail "umount /proc/kcore worked"
    assert_fd_baseline
}

@test "capabilities: docker's default set, --cap-drop ALL, --cap-add, --privileged (R3)" {
    ctr_start
    ctr_run busybox grep Cap /proc/self/status
    assert_eq "$CRC" 0
    assert_contains "$COUT" "CapInh:	0000000000000000"
    assert_contains "$COUT" "CapPrm:	$DEFAULT_CAPS"
    assert_contains "$COUT" "CapEff:	$DEFAULT_CAPS"
    assert_contains "$COUT" "CapBnd:	$DEFAULT_CAPS"
    assert_contains "$COUT" "CapAmb:	0000000000000000"
    ctr_run --cap-drop ALL busybox grep Cap /proc/self/status
    assert_contains "$COUT" "CapEff:	0000000000000000"
    assert_contains "$COUT" "CapPrm:	0000000000000000"
    assert_contains "$COUT" "CapBnd:	0000000000000000"
    ctr_run --cap-add NET_ADMIN busybox grep CapEff /proc/self/status
    assert_eq "$COUT" "CapEff:	00000000a80435fb"
    ctr_run --cap-add CAP_SYS_ADMIN --cap-drop CHOWN busybox grep CapEff /proc/self/status
    assert_eq "$COUT" "CapEff:	00000000a82425fa"
    ctr_run --cap-drop ALL --cap-add KILL busybox grep CapEff /proc/self/status
    assert_eq "$COUT" "CapEff:	0000000000000020"
    local full
    full="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
    ctr_run --privileged busybox grep CapEff /proc/self/status
    assert_eq "$COUT" "CapEff:	$full"
    run docker_t run -d --cap-add NOPE busybox true
    assert_failed
    assert_fd_baseline
}

@test "a non-root user (-u nobody, -u 1000) can use the root file system" {
    ctr_start
    ctr_run busybox stat -c %a /
    assert_eq "$COUT" 755
    ctr_run -u nobody busybox ls /
    assert_eq "$CRC" 0
    assert_contains "$COUT" etc
    ctr_run -u 1000 busybox cat /etc/hostname
    assert_eq "$CRC" 0
    assert_eq "$COUT" "${CID:0:12}"
    # A user other than root has no effective capabilities.
    ctr_run -u 1000 busybox grep CapEff /proc/self/status
    assert_eq "$COUT" "CapEff:	0000000000000000"
    assert_fd_baseline
}

@test "no_new_privs: off by default, on with --security-opt no-new-privileges (R5)" {
    ctr_start
    ctr_run busybox grep NoNewPrivs /proc/self/status
    assert_eq "$COUT" "NoNewPrivs:	0"
    ctr_run --security-opt no-new-privileges busybox grep NoNewPrivs /proc/self/status
    assert_eq "$COUT" "NoNewPrivs:	1"
    ctr_run --security-opt no-new-privileges=true busybox grep NoNewPrivs /proc/self/status
    assert_eq "$COUT" "NoNewPrivs:	1"
    assert_fd_baseline
}

@test "only fds 0, 1 and 2 reach the process; -w /proc/self/fd/N stays inside (R2)" {
    ctr_start
    ctr_run busybox ls /proc/self/fd
    assert_eq "$CRC" 0
    assert_eq "$COUT" $'0\n1\n2\n3'
    # The container's pid 1, seen from the host: 0 (/dev/null) and the two log pipes.
    docker_t run -d --name fds busybox sleep 30 >/dev/null
    local hp
    hp="$(docker_t inspect -f '{{.State.Pid}}' fds)"
    assert_eq "$(find "/proc/$hp/fd" -mindepth 1 -printf '%f\n' | sort -n | tr '\n' ' ')" "0 1 2 "
    assert_match "$(readlink "/proc/$hp/fd/1")" '^pipe:'
    assert_match "$(readlink "/proc/$hp/fd/2")" '^pipe:'
    docker_t rm -f fds >/dev/null
    # The working directory through a leaked fd (CVE-2024-21626): the start fails, or the
    # directory is inside the container (same file system as its root, no host entries).
    local n
    for n in 3 4 5 6 7 8; do
        run docker_t run -d --name "wfd$n" -w "/proc/self/fd/$n" busybox sh -c 'stat -c %d . /; ls -a ../../..'
        if [[ "$status" -eq 0 ]]; then
            docker_t wait "wfd$n" >/dev/null
            COUT="$(docker_t logs "wfd$n" 2>&1)"
            assert_not_contains "$COUT" work
            assert_not_contains "$COUT" berthd
            local d1 d2
            d1="$(sed -n 1p <<<"$COUT")"
            d2="$(sed -n 2p <<<"$COUT")"
            [[ "$d1" == "$d2" ]] || fail "-w /proc/self/fd/$n: cwd on device $d1, root on $d2: $COUT"
        fi
        docker_t rm -f "wfd$n" >/dev/null 2>&1 || true
    done
    assert_fd_baseline
}

@test "/dev holds docker's devices only; mknod'ed block and char devices cannot be opened (R11)" {
    ctr_start
    ctr_run busybox sh -c 'ls /dev | sort | tr "\n" " "'
    assert_eq "$CRC" 0
    local want
    for want in full null random tty urandom zero ptmx pts shm mqueue fd stdin stdout stderr; do
        [[ " $COUT " == *" $want "* ]] || fail "/dev lacks $want: $COUT"
    done
    ctr_run busybox sh -c 'find /dev -type b; ls /dev/mem /dev/kmsg /dev/sda 2>/dev/null; true'
    assert_eq "$COUT" ""
    ctr_run busybox sh -c 'echo hi > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c'
    assert_eq "$COUT" $'4\n4'
    ctr_run busybox sh -c 'grep -E " /dev(/pts|/shm|/mqueue)? " /proc/mounts | cut -d" " -f2,3 | sort'
    assert_eq "$COUT" $'/dev tmpfs\n/dev/mqueue mqueue\n/dev/pts devpts\n/dev/shm tmpfs'
    ctr_run busybox sh -c 'mknod /x b 8 0 && echo made; head -c1 /x; echo rc=$?'
    assert_contains "$COUT" made
    assert_contains "$COUT" "Operation not permitted"
    assert_contains "$COUT" "rc=1"
    ctr_run busybox sh -c 'mknod /m c 1 1 && echo made; head -c1 /m; echo rc=$?'
    assert_contains "$COUT" "Operation not permitted"
    assert_contains "$COUT" "rc=1"
    assert_fd_baseline
}

@test "a memory limit OOM-kills the container: exit 137, OOMKilled true (R13)" {
    ctr_start
    docker_t run -d --name oom -m 32m busybox sh -c 'x=$(head -c 100m /dev/zero | tr "\0" a); echo ${#x}' >/dev/null
    run docker_t wait oom
    assert_status 0
    assert_eq "$output" 137
    assert_eq "$(docker_t inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}' oom)" "true 137 33554432"
    # Without the limit the same program finishes and OOMKilled stays false.
    docker_t run -d --name nooom busybox sh -c 'x=$(head -c 10m /dev/zero | tr "\0" a); echo ${#x}' >/dev/null
    assert_eq "$(docker_t wait nooom)" 0
    assert_eq "$(docker_t logs nooom)" 10485760
    assert_eq "$(docker_t inspect -f '{{.State.OOMKilled}}' nooom)" false
    pid_running "$BERTHD_PID" || fail "berthd died"
    docker_t rm oom nooom >/dev/null
    assert_fd_baseline
}

@test "a pids limit stops a fork bomb; the host and the daemon are fine (R13)" {
    ctr_start
    docker_t run -d --name fb --pids-limit 20 busybox sh -c 'for i in $(seq 100); do sleep 2 & done; wait; echo done' >/dev/null
    run docker_t wait fb
    assert_status 0
    local logs
    logs="$(docker_t logs fb 2>&1)"
    assert_contains "$logs" "can't fork"
    assert_eq "$(docker_t inspect -f '{{.HostConfig.PidsLimit}}' fb)" 20
    pid_running "$BERTHD_PID" || fail "berthd died"
    # The host can still fork, and the daemon still runs containers.
    run true
    assert_status 0
    ctr_run busybox echo still-ok
    assert_eq "$COUT" still-ok
    docker_t rm fb >/dev/null
    assert_fd_baseline
}

@test "network: a new namespace with lo and eth0 by default, only lo with none; host shares the host's" {
    ctr_start
    DUMMY_LINK="berthdm$$"
    ip link add "$DUMMY_LINK" type dummy 2>/dev/null ||
        ip link add "$DUMMY_LINK" type veth peer name "${DUMMY_LINK}p" ||
        skip "cannot create a test interface"
    ctr_run busybox sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort'
    assert_eq "$COUT" $'eth0\nlo'
    ctr_run --network none busybox sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
    assert_eq "$COUT" lo
    ctr_run --network host busybox sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
    assert_contains "$COUT" lo
    assert_contains "$COUT" "$DUMMY_LINK"
    docker_t run -d --name nh --network host busybox sleep 30 >/dev/null
    local hp
    hp="$(docker_t inspect -f '{{.State.Pid}}' nh)"
    assert_eq "$(readlink "/proc/$hp/ns/net")" "$(readlink /proc/self/ns/net)"
    assert_eq "$(docker_t inspect -f '{{.HostConfig.NetworkMode}}' nh)" host
    docker_t rm -f nh >/dev/null
    assert_fd_baseline
}

@test "--pid host sees the host's processes" {
    ctr_start
    ctr_run --pid host busybox sh -c 'echo $$; ps -o pid,comm | grep -w berthd'
    assert_eq "$CRC" 0
    [[ "$(head -n1 <<<"$COUT")" != 1 ]] || fail "pid 1 with --pid host"
    assert_match "$COUT" "^ *$BERTHD_PID berthd$"
    assert_fd_baseline
}

@test "an image whose /proc or /dev is a symlink is refused at start (R7)" {
    ctr_start
    docker_t load -i "$BATS_FILE_TMPDIR/badproc.tar" >/dev/null
    docker_t load -i "$BATS_FILE_TMPDIR/baddev.tar" >/dev/null
    run docker_t run -d --name bp badproc true
    assert_failed
    assert_contains "$output" "proc"
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' bp)" created
    run docker_t run -d --name bd baddev true
    assert_failed
    assert_contains "$output" "dev"
    # Nothing was mounted at the symlinks' targets on the host.
    [[ ! -e /bad-proc && ! -e /bad-dev ]] || fail "/bad-proc or /bad-dev exists on the host"
    grep -qE ' /bad-(proc|dev) ' /proc/mounts && fail "a mount landed on the host"
    docker_t rm -f bp bd >/dev/null
    assert_eq "$(shim_pids)" ""
    assert_fd_baseline
}
