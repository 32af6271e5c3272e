#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# kill -9 of berthd in the middle of a pull (TEST-PLAN.md §7 F1): after a restart on the same
# data root no partial image, layer, blob or ref is visible, tmp/ has been swept, and the pull
# then succeeds. The ~100 MB bench image is pulled through images_util.py's proxy, which holds
# chosen blob transfers part-way so each crash lands at a known moment.

load helpers
load registry

registry_file_hooks --bench

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
    for d in "$DATA"/layers/*; do
        [[ ! -e "$d" || -f "$d/layer.json" ]] || fail "$d has no layer.json"
    done

    run docker_t pull "$PREG/test/bench"
    assert_status 0
    assert_contains "$output" "Digest: $(fx 'j["bench"]["manifest"]')"
    assert_contains "$output" "Status: Downloaded newer image for $PREG/test/bench:latest"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$PREG/test/bench")" "$(fx 'j["bench"]["config"]')"
    # shellcheck disable=SC2046 # one diff id per word
    assert_eq "$(find "$DATA/layers" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)" \
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

@test "kill -9 with the top layers pulled and the bottom one still downloading: no orphan layer after restart" {
    berthd_start
    proxy_start "{\"$(fx 'j["bench"]["layers"][0]')\": 20000000}"
    crash_pull complete:2
    restart_and_check
}

@test "kill -9 while a layer is being extracted: restart is clean, pull succeeds" {
    berthd_start
    proxy_start '{}'
    crash_pull status:Extracting
    restart_and_check
}

# proxy_conns PORT: how many established TCP connections go to the proxy on PORT.
proxy_conns() {
    ss -Htn state established "( dport = :$1 )" | wc -l
}

# assert_cancelled PORT: after the client left, berthd closes its registry transfers, sweeps its
# tmp files and does not finish the pull on its own once the proxy lets the data through.
assert_cancelled() {
    local port="$1" i
    # The held transfers stay open for as long as berthd keeps them: they must go.
    for ((i = 0; i < 100; i++)); do
        [[ "$(proxy_conns "$port")" -eq 0 ]] && break
        sleep 0.1
    done
    [[ "$(proxy_conns "$port")" -eq 0 ]] ||
        fail "berthd still holds $(proxy_conns "$port") registry connections 10 s after the client left"
    for ((i = 0; i < 50; i++)); do
        [[ -z "$(ls -A "$DATA/tmp")" ]] && break
        sleep 0.1
    done
    assert_eq "$(ls -A "$DATA/tmp")" ""
    rm -f "$RULES"
    sleep 1
    assert_eq "$(docker_t images -aq)" ""
    run "$PY" "$E2E_DIR/images_util.py" check-store "$DATA"
    [[ "$status" -eq 0 ]] || fail "store problems: $output"
    assert_eq "$(curl_b http://x/_ping)" OK
    run docker_t pull -q "$PREG/test/bench"
    assert_status 0
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$PREG/test/bench")" "$(fx 'j["bench"]["config"]')"
}

@test "the client hangs up while progress flows: the pull stops, its transfers close, nothing is kept" {
    berthd_start
    proxy_start '{"*": 4194304, "rate": 8000000}'
    run "$PY" "$E2E_DIR/images_util.py" pull-kill "$SOCK" "$PREG/test/bench" latest 0 downloading "$T/stream.log"
    assert_eq "$output" killed
    assert_cancelled "${PREG##*:}"
}

@test "the client hangs up while every transfer is stalled: the pull stops, its transfers close" {
    berthd_start
    proxy_start '{"*": 1048576}'
    local port="${PREG##*:}" i
    aux_start curl -sS -N --max-time 60 --unix-socket "$SOCK" -o "$T/stream.log" -X POST \
        "http://x/images/create?fromImage=$PREG/test/bench&tag=latest"
    for ((i = 0; i < 100; i++)); do
        [[ "$(proxy_conns "$port")" -ge 3 ]] && break
        sleep 0.1
    done
    [[ "$(proxy_conns "$port")" -ge 3 ]] || fail "the three blob transfers did not start"
    sleep 0.5 # every transfer is held now; no progress flows to the client
    kill -TERM "$AUX_LAST_PID"
    wait "$AUX_LAST_PID" || true
    assert_cancelled "$port"
}
