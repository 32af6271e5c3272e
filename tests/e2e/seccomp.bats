#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The default seccomp confinement (TEST-PLAN R4), through the real docker CLI: containers and
# their exec'd processes run under a filter (Seccomp: 2) that refuses docker's deny list with
# EPERM and clone3 with ENOSYS, lets CAP_SYS_ADMIN-gated calls through when that capability is
# added, and is off for --privileged and --security-opt seccomp=unconfined. A probe built here
# (sc_probe.c) makes the calls.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

CALLS="keyctl add_key userfaultfd io_uring_setup unshare clone_newuser clone3 kexec_load clone getpid"

setup_probe() {
    command -v cc >/dev/null || skip "cc is needed to build the probe"
    cc -static -O2 -o "$T/sc_probe" "$BATS_TEST_DIRNAME/sc_probe.c" ||
        fail "building sc_probe failed"
}

@test "the default filter: docker's deny list gets EPERM, clone3 ENOSYS, the rest works; exec too" {
    ctr_start
    setup_probe
    run docker_t run --rm busybox grep '^Seccomp:' /proc/self/status
    assert_eq "$output" $'Seccomp:\t2'
    local want
    want="keyctl EPERM
add_key EPERM
userfaultfd EPERM
io_uring_setup EPERM
unshare EPERM
clone_newuser EPERM
clone3 ENOSYS
kexec_load EPERM
clone ok
getpid ok"
    # shellcheck disable=SC2086 # the calls are words
    run docker_t run --rm -v "$T/sc_probe:/sc_probe:ro" busybox /sc_probe $CALLS
    assert_status 0
    assert_eq "$output" "$want"
    # a process docker exec starts is confined the same way
    docker_t run -d --name sc1 -v "$T/sc_probe:/sc_probe:ro" busybox sleep 300 >/dev/null
    # shellcheck disable=SC2086
    run docker_t exec sc1 /sc_probe $CALLS
    assert_eq "$output" "$want"
    run docker_t exec sc1 grep '^Seccomp:' /proc/self/status
    assert_eq "$output" $'Seccomp:\t2'
    docker_t rm -f sc1 >/dev/null
}

@test "--cap-add SYS_ADMIN lets its calls through; --privileged and seccomp=unconfined have no filter" {
    ctr_start
    setup_probe
    # with CAP_SYS_ADMIN, clone3 reaches the kernel (no ENOSYS) and so does unshare
    run docker_t run --rm --cap-add SYS_ADMIN -v "$T/sc_probe:/sc_probe:ro" busybox \
        /sc_probe clone3 keyctl
    assert_status 0
    assert_eq "$output" $'clone3 ok\nkeyctl EPERM'
    run docker_t run --rm --privileged busybox grep '^Seccomp:' /proc/self/status
    assert_eq "$output" $'Seccomp:\t0'
    run docker_t run --rm --security-opt seccomp=unconfined -v "$T/sc_probe:/sc_probe:ro" \
        busybox sh -c 'grep "^Seccomp:" /proc/self/status; /sc_probe clone3 keyctl'
    assert_eq "$(head -n2 <<<"$output")" $'Seccomp:\t0\nclone3 ok'
    # whatever the kernel answers, it is not the filter's EPERM
    [[ $(sed -n 3p <<<"$output") == keyctl\ * && $(sed -n 3p <<<"$output") != "keyctl EPERM" ]] ||
        fail "keyctl unconfined: $output"
    # a profile of one's own is refused, not ignored
    echo '{"defaultAction": "SCMP_ACT_ALLOW"}' >"$T/profile.json"
    run docker -H "unix://$SOCK" run --rm --security-opt "seccomp=$T/profile.json" busybox true
    assert_status 125
    assert_contains "$output" "custom seccomp profiles are not supported by berth yet"
}
