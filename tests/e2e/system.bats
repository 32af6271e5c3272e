#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# _ping, /version, /info and API version handling, through docker, berth, curl and docker-py.

load helpers

setup() {
    berthd_start
}

teardown() {
    berthd_teardown
}

@test "docker version shows berthd as the server at API 1.44" {
    local ver
    ver="$(berth_version)"
    [[ -n "$ver" ]] || fail "berthd --version printed no version"
    run docker_b version
    assert_status 0
    local server
    server="$(sed -n '/^Server:/,$p' <<<"$output")"
    [[ -n "$server" ]] || fail "no Server: section in: $output"
    assert_match "$server" "API version:[[:space:]]+1\.44 \(minimum version 1\.24\)"
    assert_match "$server" "^[[:space:]]+Version:[[:space:]]+${ver//./\\.}\$"
    assert_match "$output" "^Client:"
}

@test "docker version --format reads the server fields" {
    run docker_b version --format '{{.Server.APIVersion}}|{{.Server.MinAPIVersion}}|{{.Server.Version}}|{{.Server.Os}}|{{.Server.KernelVersion}}'
    assert_status 0
    assert_eq "$output" "1.44|1.24|$(berth_version)|linux|$(uname -r)"
}

@test "docker info shows the real host and daemon values" {
    run docker_b info
    assert_status 0
    assert_match "$output" "Docker Root Dir: ${DATA}\$"
    assert_match "$output" "CPUs: $(nproc)\$"
    assert_match "$output" "Cgroup Version: $(host_cgroup_version)\$"
    assert_match "$output" "Cgroup Driver: cgroupfs\$"
    assert_match "$output" "Kernel Version: $(uname -r)\$"
    assert_match "$output" "Server Version: $(berth_version)\$"
    assert_match "$output" "Containers: 0\$"
    assert_match "$output" "Images: 0\$"
    assert_not_contains "$output" "ERROR"
}

@test "docker info --format reads NCPU, MemTotal, root dir and cgroup fields" {
    local memkb
    memkb="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
    run docker_b info --format '{{.NCPU}}|{{.MemTotal}}|{{.DockerRootDir}}|{{.CgroupVersion}}|{{.CgroupDriver}}|{{.OSType}}|{{.KernelVersion}}|{{.Containers}}|{{.Images}}'
    assert_status 0
    assert_eq "$output" "$(nproc)|$((memkb * 1024))|$DATA|$(host_cgroup_version)|cgroupfs|linux|$(uname -r)|0|0"
}

@test "berth version prints client and server sections" {
    run berth_b version
    assert_status 0
    assert_match "$output" "^Client:"
    local server
    server="$(sed -n '/^Server:/,$p' <<<"$output")"
    [[ -n "$server" ]] || fail "no Server: section in: $output"
    assert_contains "$server" "1.44"
    assert_contains "$server" "$(berth_version)"
}

@test "berth --version prints the client version" {
    run "$BERTH" --version
    assert_status 0
    assert_contains "$output" "$(berth_version)"
}

@test "berth info shows the data root and CPU count" {
    run berth_b info
    assert_status 0
    assert_contains "$output" "$DATA"
    assert_match "$output" "CPUs:[[:space:]]*$(nproc)\$"
}

@test "BERTH_HOST selects the daemon and -H overrides it" {
    run env BERTH_HOST="unix://$SOCK" "$BERTH" version
    assert_status 0
    assert_match "$output" "^Server:"
    run env BERTH_HOST="unix://$T/nonexistent.sock" "$BERTH" -H "unix://$SOCK" version
    assert_status 0
    assert_match "$output" "^Server:"
    run env BERTH_HOST="unix://$T/nonexistent.sock" "$BERTH" info
    assert_status 1
    assert_contains "$output" "Cannot connect to the berth daemon"
}

@test "curl GET /_ping answers OK with the API headers" {
    local hdr body
    body="$(curl_b -D "$T/h" http://x/_ping)"
    hdr="$(cat "$T/h")"
    assert_eq "$body" "OK"
    assert_match "$(head -n1 <<<"$hdr" | tr -d '\r')" "^HTTP/1\.1 200"
    assert_eq "$(header Api-Version <<<"$hdr")" "1.44"
    assert_eq "$(header Ostype <<<"$hdr")" "linux"
    assert_eq "$(header Docker-Experimental <<<"$hdr")" "false"
    assert_eq "$(header Server <<<"$hdr")" "Berth/$(berth_version) (linux)"
    assert_eq "$(header Content-Length <<<"$hdr")" "2"
    [[ -n "$(header Date <<<"$hdr")" ]] || fail "no Date header: $hdr"
}

@test "HEAD /_ping answers 200 with headers and no body" {
    run curl_b -I http://x/_ping
    assert_status 0
    assert_match "$(head -n1 <<<"$output" | tr -d '\r')" "^HTTP/1\.1 200"
    assert_eq "$(header Api-Version <<<"$output")" "1.44"
    assert_eq "$(header Ostype <<<"$output")" "linux"
    # A HEAD reply must carry no body: pipeline HEAD then GET; the GET reply must follow the
    # HEAD headers immediately.
    run raw_http < <(printf 'HEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
    assert_status 0
    local n
    n="$(grep -c '^HTTP/1.1 200' <<<"$output")"
    assert_eq "$n" 2
    [[ "$output" == *OK ]] || fail "GET after HEAD did not end with OK: $output"
    # Exactly one OK: the HEAD reply had no body.
    assert_eq "$(grep -o 'OK$' <<<"$output" | wc -l)" 1
}

@test "versioned paths from 1.24 to 1.44 are served" {
    local v
    for v in 1.24 1.30 1.41 1.43 1.44; do
        assert_eq "$(curl_b "http://x/v$v/_ping")" OK
        assert_eq "$(curl_b "http://x/v$v/version" | json_get 'j["ApiVersion"]')" 1.44
    done
    assert_eq "$(http_status http://x/v1.41/info)" 200
}

@test "unversioned /version has docker's shape" {
    run curl_b -D "$T/h" http://x/version
    assert_status 0
    assert_eq "$(header Content-Type <"$T/h")" "application/json"
    assert_eq "$(json_get 'j["ApiVersion"]' <<<"$output")" 1.44
    assert_eq "$(json_get 'j["MinAPIVersion"]' <<<"$output")" 1.24
    assert_eq "$(json_get 'j["Version"]' <<<"$output")" "$(berth_version)"
    assert_eq "$(json_get 'j["Os"]' <<<"$output")" linux
    assert_eq "$(json_get 'j["KernelVersion"]' <<<"$output")" "$(uname -r)"
    [[ -n "$(json_get 'j["Arch"]' <<<"$output")" ]] || fail "no Arch: $output"
}

@test "a too-new API version gets 400 JSON naming the maximum" {
    local v
    for v in 1.99 1.45; do
        run curl_b -D "$T/h" "http://x/v$v/_ping"
        assert_status 0
        assert_match "$(head -n1 "$T/h" | tr -d '\r')" "^HTTP/1\.1 400"
        assert_eq "$(header Content-Type <"$T/h")" "application/json"
        assert_eq "$(json_get 'j["message"]' <<<"$output")" \
            "client version $v is too new. Maximum supported API version is 1.44"
    done
}

@test "a too-old API version gets 400 plain text naming the minimum" {
    local v
    for v in 1.12 1.23; do
        run curl_b -D "$T/h" "http://x/v$v/version"
        assert_status 0
        assert_match "$(head -n1 "$T/h" | tr -d '\r')" "^HTTP/1\.1 400"
        assert_match "$(header Content-Type <"$T/h")" "^text/plain"
        assert_eq "$(sed -e 's/[[:space:]]*$//' <<<"$output")" \
            "client version $v is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
    done
}

@test "an unknown path gets 404 page not found with Content-Type application/json" {
    local path
    for path in /nosuch /v1.44/nosuch /v1.24/containers/x/nosuch /_ping/extra; do
        run curl_b -D "$T/h" "http://x$path"
        assert_status 0
        assert_match "$(head -n1 "$T/h" | tr -d '\r')" "^HTTP/1\.1 404"
        assert_eq "$(header Content-Type <"$T/h")" "application/json"
        assert_eq "$(json_get 'j["message"]' <<<"$output")" "page not found"
        assert_eq "$(json_get 'len(j)' <<<"$output")" 1
    done
}

@test "a method the route does not serve gets 404" {
    local m path
    for m in POST DELETE PUT; do
        for path in /version /v1.44/info /_ping; do
            run curl_b -X "$m" -D "$T/h" "http://x$path"
            assert_status 0
            assert_match "$(head -n1 "$T/h" | tr -d '\r')" "^HTTP/1\.1 404"
            assert_eq "$(json_get 'j["message"]' <<<"$output")" "page not found"
        done
    done
}

@test "python docker SDK talks to berthd" {
    run "$PY" -c '
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
print(c.version()["ApiVersion"], c.ping(), c.info()["NCPU"], c.api.api_version)
' "$SOCK"
    assert_status 0
    assert_eq "$(tail -n1 <<<"$output")" "1.44 True $(nproc) 1.44"
}

@test "an unreachable daemon: docker and berth say so and exit 1" {
    berthd_stop
    run env DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" version
    assert_status 1
    assert_contains "$output" "Cannot connect to the Docker daemon at unix://$SOCK"
    local cmd
    for cmd in version info; do
        run "$BERTH" -H "unix://$SOCK" "$cmd"
        assert_status 1
        assert_contains "$output" "Cannot connect to the berth daemon"
        assert_eq "$(grep -c 'Cannot connect' <<<"$output")" 1
    done
}
