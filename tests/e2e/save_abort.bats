#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# docker save failing after the response began (issue 3): the chunked response is aborted (no
# terminating chunk, the connection closes), so clients report a truncated transfer instead of
# receiving a well-ended but incomplete archive.

load helpers
load registry

setup_file() {
    fixtures_build
}

setup() {
    berthd_dir
    BUSYBOX_TAR="$FIXTURES/busybox/busybox.tar"
    BUSYBOX_ID="$(fixture_get 'j["busybox"]["config"]')"
}

teardown() {
    berthd_teardown
}

# drop_layer_blobs: remove every stored blob but the image config, so a save can start (the
# image and its config are there) and fails when it reaches the first layer.
drop_layer_blobs() {
    local f n=0
    for f in "$DATA"/blobs/sha256/*; do
        if [[ "$(basename "$f")" != "${BUSYBOX_ID#sha256:}" ]]; then
            rm -f "$f"
            n=$((n + 1))
        fi
    done
    ((n > 0)) || fail "no layer blob found in $DATA/blobs/sha256"
}

@test "save: a complete archive ends with the terminating chunk (curl exits 0)" {
    berthd_start
    run docker_t load -i "$BUSYBOX_TAR"
    assert_status 0
    run curl -sS --max-time 30 --unix-socket "$SOCK" -o "$T/ok.tar" http://x/images/busybox:latest/get
    assert_status 0
    tar -tf "$T/ok.tar" >/dev/null
}

@test "save: a failure after the status line aborts the stream: truncated, never a clean end" {
    berthd_start
    run docker_t load -i "$BUSYBOX_TAR"
    assert_status 0
    drop_layer_blobs
    run curl -sS --max-time 30 --unix-socket "$SOCK" -D "$T/head" -o "$T/bad.tar" \
        http://x/images/busybox:latest/get
    # 18: CURLE_PARTIAL_FILE, the chunked body never reached its terminating chunk.
    assert_status 18
    assert_contains "$output" "transfer closed with outstanding read data remaining"
    assert_contains "$(cat "$T/head")" "HTTP/1.1 200 OK"
    run docker_t save -o "$T/bad2.tar" busybox:latest
    assert_failed
    assert_contains "$output" "unexpected EOF"
    # The daemon is fine afterwards and logged why.
    run curl -sS --max-time 5 --unix-socket "$SOCK" http://x/_ping
    assert_eq "$output" OK
    grep -q "layer" "$LOG" || fail "berthd did not log the save failure"
}
