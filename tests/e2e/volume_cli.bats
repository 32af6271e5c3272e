#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031,SC2154 # single-quoted templates; bats subshells;
# $output, $lines and $stderr come from `run`.
# `berth volume` create/ls/inspect/rm/prune: the same stdout, stderr and exit status as the
# docker CLI (28) against the same berthd, byte for byte where the output is deterministic;
# -q, --format and filters; the errors for a missing volume and a volume in use; prune with and
# without --all, its prompt, and the usage text of `berth volume`.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

# both CMD...: run CMD through docker and through berth (stdin from $IN, empty by default);
# sets D_OUT/D_ERR/D_RC and B_OUT/B_ERR/B_RC. docker's "docker" in stderr reads "berth".
both() {
    D_RC=0
    B_RC=0
    D_OUT="$(printf '%s' "${IN:-}" | docker_t "$@" 2>"$T/d.err")" || D_RC=$?
    B_OUT="$(printf '%s' "${IN:-}" | berth_t "$@" 2>"$T/b.err")" || B_RC=$?
    D_ERR="$(sed 's/docker/berth/g' "$T/d.err")"
    B_ERR="$(cat "$T/b.err")"
}

# same CMD...: berth prints what docker prints, on both streams, with the same exit status.
same() {
    both "$@"
    assert_eq "$B_OUT" "$D_OUT" || fail "stdout of: $*"
    assert_eq "$B_ERR" "$D_ERR" || fail "stderr of: $*"
    assert_eq "$B_RC" "$D_RC" || fail "exit status of: $*"
}

# same_help CMD...: as same, with "docker volume" in stdout reading "berth volume" (usage text).
same_help() {
    both "$@"
    assert_eq "$B_OUT" "${D_OUT//docker volume/berth volume}" || fail "stdout of: $*"
    assert_eq "$B_ERR" "$D_ERR" || fail "stderr of: $*"
    assert_eq "$B_RC" "$D_RC" || fail "exit status of: $*"
}

# names CMD...: berth's stdout for CMD, one name a line, sorted (a set to compare).
names() {
    berth_t "$@" | sort | tr '\n' ' '
}

@test "berth volume create, ls and inspect print what docker prints" {
    berthd_start
    run berth_t volume create --label env=dev --label tier=db v1
    assert_status 0
    assert_eq "$output" v1
    run berth_t volume create --name v2
    assert_status 0
    assert_eq "$output" v2
    docker_t volume create --label env=prod v10 >/dev/null
    run berth_t volume create
    assert_status 0
    assert_match "$output" '^[0-9a-f]{64}$'
    local anon="$output"
    # the daemon has them, as docker sees them
    assert_eq "$(docker_t volume inspect -f '{{.Name}} {{.Driver}} {{json .Labels}}' v1)" \
        'v1 local {"env":"dev","tier":"db"}'

    # the table: docker's header and alignment, natural order (v2 before v10)
    run berth_t volume ls
    assert_status 0
    assert_eq "${lines[0]}" "DRIVER    VOLUME NAME"
    assert_eq "${lines[1]}" "local     $anon"
    assert_eq "${lines[2]}" "local     v1"
    assert_eq "${lines[3]}" "local     v2"
    assert_eq "${lines[4]}" "local     v10"
    same volume ls
    same volume ls -q
    # json: each volume but v1 (docker joins v1's two labels in Go's random map order)
    same volume list --format json --filter name=v2
    same volume list --format json --filter label=env=prod
    same volume list --format json --filter "name=$anon"
    run berth_t volume ls --format json --filter label=tier
    assert_contains "$output" '"Labels":"env=dev,tier=db"'
    same volume ls --format '{{.Name}} {{.Driver}} {{.Mountpoint}} {{.Scope}}'
    # .Labels: docker joins them in Go's random map order, berth sorts them
    same volume ls --format '{{.Name}} {{.Labels}}' --filter name=v10
    run berth_t volume ls --format '{{.Labels}}' --filter name=v1 --filter label=tier
    assert_eq "$output" "env=dev,tier=db"
    same volume ls --format 'table {{.Name}}\t{{.Mountpoint}}\t{{.Scope}}'
    same volume ls --format '{{.Name}}={{.Label "env"}}'
    same volume ls -q --format table
    run berth_t volume ls --format '{{.Name}}:{{.Mountpoint}}' --filter name=v10
    assert_eq "$output" "v10:$(docker_t volume inspect -f '{{.Mountpoint}}' v10)"

    # inspect: docker's indentation and field order, compact json, templates
    same volume inspect v1
    same volume inspect v2 v10 "$anon"
    same volume inspect -f json v1 v2
    same volume inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Options}}' v1 v2
    same volume inspect -f '{{json .}}' v1
    same volume inspect --format '{{json .Labels}}' v1 v2
    run berth_t volume inspect -f '{{.Labels.tier}}' v1
    assert_eq "$output" db
}

@test "berth volume ls filters by name, label, dangling and driver" {
    ctr_start
    berth_t volume create --label env=dev fa >/dev/null
    berth_t volume create --label env=prod fb >/dev/null
    berth_t volume create --label solo fused >/dev/null
    docker_t run -d --name holder -v fused:/data busybox sleep 100 >/dev/null

    assert_eq "$(names volume ls -q --filter name=fa)" "fa "
    assert_eq "$(names volume ls -q -f name=f)" "fa fb fused "
    assert_eq "$(names volume ls -q -f label=env)" "fa fb "
    assert_eq "$(names volume ls -q -f label=env=dev)" "fa "
    assert_eq "$(names volume ls -q -f label=solo)" "fused "
    assert_eq "$(names volume ls -q -f dangling=true)" "fa fb "
    assert_eq "$(names volume ls -q -f dangling=false)" "fused "
    assert_eq "$(names volume ls -q -f driver=local -f label=env=prod)" "fb "
    same volume ls -f name=f -f dangling=true
    same volume ls --filter label=env=dev
    # a malformed filter is a usage error before anything is asked
    same volume ls -f foo
    run berth_t volume ls -f foo
    assert_status 125
    assert_contains "$output" 'invalid argument "foo" for "-f, --filter" flag'
}

@test "berth volume inspect and rm of a missing volume fail like docker's" {
    berthd_start
    berth_t volume create keep >/dev/null
    # inspect: the found ones printed, one error line each for the rest, exit status 1
    run --separate-stderr berth_t volume inspect v9
    assert_status 1
    assert_eq "$output" "[]"
    assert_eq "$stderr" "Error response from daemon: get v9: no such volume"
    same volume inspect v9
    same volume inspect keep v9
    same volume inspect -f '{{.Name}}' v9 keep
    run --separate-stderr berth_t volume inspect -f '{{.Name}}' keep v9
    assert_status 1
    assert_eq "$output" keep
    # a template that does not parse: exit status 64, nothing asked of the daemon
    same volume inspect -f '{{' keep
    run berth_t volume inspect -f '{{' keep
    assert_status 64

    # rm: each removed name printed, the failures after, exit status 1 if any failed
    same volume rm v9
    berth_t volume create gone >/dev/null
    run --separate-stderr berth_t volume rm gone v9 keep
    assert_status 1
    assert_eq "$output" "gone
keep"
    assert_contains "$stderr" "Error response from daemon:"
    assert_contains "$stderr" v9
    run berth_t volume ls -q
    assert_eq "$output" ""
    # -f: a missing volume is no error
    same volume rm -f v9
    run berth_t volume rm -f v9
    assert_status 0
}

@test "berth volume rm of a volume a container uses is refused with docker's error" {
    ctr_start
    berth_t volume create v1 >/dev/null
    docker_t run -d --name user -v v1:/data busybox sleep 100 >/dev/null
    run --separate-stderr berth_t volume rm v1
    assert_status 1
    assert_eq "$output" ""
    assert_contains "$stderr" "Error response from daemon:"
    assert_contains "$stderr" "in use"
    same volume rm v1
    same volume rm -f v1
    assert_eq "$(berth_t volume ls -q)" v1
    # once the container is gone the volume goes
    docker_t rm -f user >/dev/null
    run berth_t volume rm v1
    assert_status 0
    assert_eq "$output" v1
    assert_eq "$(berth_t volume ls -q)" ""
}

@test "berth volume prune: anonymous volumes only, --all for named ones, the prompt" {
    ctr_start
    berth_t volume create --label keep=1 named1 >/dev/null
    berth_t volume create named2 >/dev/null
    berth_t volume create busy >/dev/null
    docker_t run -d --name user -v busy:/data busybox sleep 100 >/dev/null
    # an anonymous volume: a container's -v /data, left behind by rm without -v
    docker_t create --name anon -v /data busybox true >/dev/null
    local anon
    anon="$(docker_t inspect -f '{{range .Mounts}}{{.Name}}{{end}}' anon)"
    assert_match "$anon" '^[0-9a-f]{64}$'
    docker_t rm anon >/dev/null

    # "no": docker 28 stops quietly after the prompt, exit status 0
    IN=n same volume prune
    IN=n same volume prune --all
    run bash -c "echo n | '$BERTH' -H 'unix://$SOCK' volume prune"
    assert_status 0
    assert_eq "$output" "WARNING! This will remove anonymous local volumes not used by at least one container.
Are you sure you want to continue? [y/N] "
    assert_eq "$(names volume ls -q)" "$(printf '%s\n' "$anon" busy named1 named2 | sort | tr '\n' ' ')"

    # without --all only the anonymous one goes
    run bash -c "echo y | '$BERTH' -H 'unix://$SOCK' volume prune"
    assert_status 0
    assert_eq "$output" "WARNING! This will remove anonymous local volumes not used by at least one container.
Are you sure you want to continue? [y/N] Deleted Volumes:
$anon

Total reclaimed space: 0B"
    assert_eq "$(names volume ls -q)" "busy named1 named2 "
    # nothing left to prune: no list, 0B
    run berth_t volume prune -f
    assert_eq "$output" "Total reclaimed space: 0B"

    # --all with a label filter, then --all: named ones go, the used one stays
    run berth_t volume prune -af --filter label=keep=1
    assert_status 0
    assert_eq "$output" "Deleted Volumes:
named1

Total reclaimed space: 0B"
    run berth_t volume prune -a -f
    assert_status 0
    assert_eq "$output" "Deleted Volumes:
named2

Total reclaimed space: 0B"
    assert_eq "$(names volume ls -q)" "busy "
    # docker's refusal of --all with the all filter
    same volume prune -a -f --filter all=1
    run berth_t volume prune -a -f --filter all=1
    assert_status 1
    assert_eq "$output" "conflicting options: cannot specify both --all and --filter all=1"
}

@test "berth volume prune -a prints what docker prints for the same state" {
    berthd_start
    docker_t volume create p1 >/dev/null
    both volume prune -a -f
    local dout="$D_OUT"
    assert_eq "$D_RC" 0
    berth_t volume create p1 >/dev/null
    run berth_t volume prune -a -f
    assert_status 0
    assert_eq "$output" "$dout"
    assert_eq "$(berth_t volume ls -q)" ""
}

@test "berth volume usage, help and argument errors" {
    berthd_start
    run berth_t volume
    assert_status 0
    assert_eq "${lines[0]}" "Usage:  berth volume COMMAND"
    assert_contains "$output" "  create      Create a volume"
    assert_contains "$output" "  prune       Remove unused local volumes"
    assert_contains "$output" "Run 'berth volume COMMAND --help' for more information on a command."
    assert_eq "$(berth_t help volume)" "$output"
    run berth_t --help
    assert_contains "$output" "  volume      Manage volumes"
    same volume foo
    run berth_t volume foo
    assert_status 1
    # too many arguments: a usage error, docker's first line and exit status
    both volume create a b
    assert_eq "$B_RC" "$D_RC"
    assert_eq "$(head -n1 <<<"$B_ERR")" "$(head -n1 <<<"$D_ERR")"
    assert_eq "$B_RC" 1
    same volume create --name x y
    same volume create --label =x v
    same volume prune x
    same_help volume rm --help
    same_help volume prune --help
    same_help volume inspect --help
    same volume ls x
}
