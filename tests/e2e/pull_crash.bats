#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# kill -9 of berthd in the middle of a pull (TEST-PLAN.md §7 F1): after a restart on the same
# data root no partial image, layer, blob or ref is visible, tmp/ has been swept, and the pull
# then succeeds. The ~100 MB bench image is pulled through images_util.py's proxy, which holds
# chosen blob transfers part-way so each crash lands at a known moment.

load helpers
load registry

setup_file() {
    fixtures_build --bench
    REG_PORT="$(free_port)"
    registry_start "$BATS_FILE_TMPDIR/reg" "$REG_PORT"
    REGD="$REG_DIR"
    registry_push_fixtures "$REG_ADDR" >/dev/null
    export REG_PORT REGD
}

teardown_file() {
    registry_stop "$BATS_FILE_TMPDIR/reg" || true
}

setup() {
    berthd_dir
    [[ -n "$(fixture_get 'j.get("bench", {}).get("config", "")')" ]] || fail "no bench fixture"
}

teardown() {
    berthd_teardown
}

fx() {
    fixture_get "$1"
}

docker_t() {
    timeout 60 env DOCKER_CONFIG="$T/docker-config" docker -H "unix://$SOCK" "$@"
}

# proxy_start RULES_JSON: a proxy to the registry holding transfers as RULES_JSON says (see
# images_util.py); sets PREG (host:port through the proxy) and RULES (the rules file).
proxy_start() {
    local port
    port="$(free_port)"
    RULES="$T/rules.json"
    printf '%s\n' "$1" >"$RULES"
    aux_start "$PY" "$E2E_DIR/images_util.py" proxy "$port" "$REG_PORT" "$RULES" "$T/proxy.ready"
    wait_file "$T/proxy.ready" ready 10
    PREG="127.0.0.1:$port"
}

# crash_pull WHEN: pull the bench image through the proxy with the API and kill -9 berthd when
# WHEN happens in the progress stream (images_util.py pull-kill); reaps it.
crash_pull() {
    run "$PY" "$E2E_DIR/images_util.py" pull-kill "$SOCK" "$PREG/test/bench" latest "$BERTHD_PID" \
        "$1" "$T/stream.log"
    if [[ "$output" != killed ]]; then
        cat "$T/stream.log" >&2
        fail "the crash point '$1' was not reached: $output"
    fi
    berthd_wait_exit "$BERTHD_PID" 10 || fail "berthd survived SIGKILL"
    assert_eq "$BERTHD_RC" 137
    BERTHD_PID=
    echo "# stream before the kill:" >&2
    sed 's/^/#   /' "$T/stream.log" | grep -v '"Downloading"' | tail -n 12 >&2
}

# restart_and_check: start berthd again on the same data root and check that no trace of the
# interrupted pull is visible; then release the proxy and pull again.
restart_and_check() {
    rm -f "$RULES"
    berthd_start
    assert_eq "$(ls -A "$DATA/tmp" 2>/dev/null)" ""
    run docker_t images -aq
    assert_status 0
    assert_eq "$output" ""
    run docker_t image inspect "$PREG/test/bench"
    assert_status 1
    [[ ! -e "$DATA/images/$(fx 'j["bench"]["config"]' | cut -d: -f2).json" ]] ||
        fail "the bench image's config is stored though the pull never finished"
    run "$PY" "$E2E_DIR/images_util.py" check-store "$DATA"
    if [[ "$status" -ne 0 ]]; then
        fail "store problems after the restart: $output"
    fi
    local d
    for d in $(ls "$DATA/layers" 2>/dev/null); do
        [[ -f "$DATA/layers/$d/layer.json" ]] || fail "layers/$d has no layer.json"
    done

    run docker_t pull "$PREG/test/bench"
    assert_status 0
    assert_contains "$output" "Digest: $(fx 'j["bench"]["manifest"]')"
    assert_contains "$output" "Status: Downloaded newer image for $PREG/test/bench:latest"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$PREG/test/bench")" "$(fx 'j["bench"]["config"]')"
    # shellcheck disable=SC2046 # one diff id per word
    assert_eq "$(ls "$DATA/layers" | sort)" \
        "$("$PY" "$E2E_DIR/images_util.py" chain-ids $(fx "' '.join(j['bench']['diff_ids'])") | sort)"
    run "$PY" "$E2E_DIR/images_util.py" check-store "$DATA"
    if [[ "$status" -ne 0 ]]; then
        fail "store problems after the second pull: $output"
    fi
    assert_eq "$(ls -A "$DATA/tmp")" ""
}

@test "kill -9 early in the download (first Downloading message): restart is clean, pull succeeds" {
    berthd_start
    proxy_start '{"*": 262144}'
    crash_pull downloading
    restart_and_check
}

@test "kill -9 mid download (10 MB of 33 MB layers in): restart is clean, pull succeeds" {
    berthd_start
    proxy_start '{"*": 20000000, "rate": 20000000}'
    crash_pull bytes:10000000
    restart_and_check
}

@test "kill -9 late (two of three layers committed, the third downloading): restart is clean, pull succeeds" {
    berthd_start
    proxy_start "{\"$(fx 'j["bench"]["layers"][2]')\": 20000000}"
    crash_pull complete:2
    restart_and_check
}

@test "kill -9 while a layer is being extracted: restart is clean, pull succeeds" {
    berthd_start
    proxy_start '{}'
    crash_pull status:Extracting
    restart_and_check
}
