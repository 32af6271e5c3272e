#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2153 # REG and REGD come from registry_file_start
# Pull security (TEST-PLAN.md §2 L1-L12, §3 D1-D3, D6): tampered blobs and manifests in the
# registry's storage, malicious layers (tests/fixtures/evil_layers.py), and names that try to
# leave the data root. Every refusal must leave no image, no layer and nothing in tmp/, and
# nothing may ever be written outside the data root.

load helpers
load registry

registry_file_hooks

setup() {
    berthd_dir
}

teardown() {
    if [[ -n "${MERGED:-}" ]] && mountpoint -q "$MERGED"; then
        umount "$MERGED" || true
    fi
    berthd_teardown
}

fx() {
    fixture_get "$1"
}

hex() {
    echo "${1#sha256:}"
}

# chain_ids KEY: the chain ids (hex) of fixture KEY's layers, bottom first.
chain_ids() {
    # shellcheck disable=SC2046 # one diff id per word
    "$PY" "$E2E_DIR/images_util.py" chain-ids $(fixture_get "' '.join($1['diff_ids'])")
}

layer_dirs() {
    if [[ -d "$DATA/layers" ]]; then
        find "$DATA/layers" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort
    fi
}

# store_problems: print every inconsistency of the store (images_util.py check-store):
# incomplete or orphan layers, unverified blobs, images missing layers, dangling refs, tmp/.
store_problems() {
    "$PY" "$E2E_DIR/images_util.py" check-store "$DATA" || true
}

# assert_store_clean: fail listing the store's inconsistencies, if any.
assert_store_clean() {
    local p
    p="$(store_problems)"
    [[ -z "$p" ]] || fail "store problems: $p"
}

# own_registry: a private registry for this test (so tampering cannot affect other tests),
# holding test/hello; sets OREG (host:port) and OREGD.
own_registry() {
    registry_start "$T/reg" "$(free_port)"
    OREG="$REG_ADDR"
    OREGD="$REG_DIR"
    registry_push "oci:$FIXTURES/oci/hello:latest" "$OREG/test/hello:latest" >/dev/null
}

# assert_nothing_stored: no image, no layer, no blob, no ref, an empty tmp/.
assert_nothing_stored() {
    assert_eq "$(docker_t images -aq)" ""
    assert_eq "$(layer_dirs)" ""
    assert_eq "$(ls -A "$DATA/images" 2>/dev/null)" ""
    assert_eq "$(ls -A "$DATA/blobs/sha256" 2>/dev/null)" ""
    assert_eq "$(ls -A "$DATA/tmp" 2>/dev/null)" ""
    if [[ -f "$DATA/refs.json" ]]; then
        assert_eq "$(json_get 'len(j.get("Refs") or {})' <"$DATA/refs.json")" 0
    fi
}

# ---------------------------------------------------------------------------------------------

@test "D1: a tampered layer blob fails 'filesystem layer verification failed'; by tag and by digest; nothing kept" {
    own_registry
    local layer chains manifest
    layer="$(fx 'j["hello"]["layers"][1]')"
    manifest="$(fx 'j["hello"]["manifest"]')"
    chains="$(chain_ids 'j["hello"]')"
    registry_tamper "$OREGD" "$layer"
    berthd_start
    run docker_t pull "$OREG/test/hello"
    assert_status 1
    assert_contains "$output" "filesystem layer verification failed for digest $layer"
    assert_not_contains "$output" "Status: Downloaded"
    assert_eq "$(docker_t images -aq)" ""
    [[ ! -e "$DATA/layers/$(tail -n1 <<<"$chains")" ]] || fail "the tampered layer's dir exists"
    [[ ! -e "$DATA/blobs/sha256/$(hex "$layer")" ]] || fail "the tampered blob was stored"
    [[ ! -e "$DATA/images/$(hex "$(fx 'j["hello"]["config"]')").json" ]] || fail "the image config was stored"
    assert_store_clean

    run docker_t pull "$OREG/test/hello@$manifest"
    assert_status 1
    assert_contains "$output" "filesystem layer verification failed for digest $layer"
    assert_eq "$(docker_t images -aq)" ""
    [[ ! -e "$DATA/layers/$(tail -n1 <<<"$chains")" ]] || fail "the tampered layer's dir exists"
    [[ ! -e "$DATA/blobs/sha256/$(hex "$layer")" ]] || fail "the tampered blob was stored"
    assert_store_clean
    # The daemon is fine and pulls a good image afterwards.
    run docker_t pull -q "$REG/test/hello"
    assert_status 0
    assert_store_clean
}

@test "D1: a tampered 1 MB first layer (slowed so the small top layer lands first): nothing kept" {
    own_registry
    local layer port
    layer="$(fx 'j["hello"]["layers"][0]')"
    registry_tamper "$OREGD" "$layer"
    # Through a proxy at 2 MB/s, so the 130-byte top layer is complete long before the bottom
    # one fails its verification.
    port="$(free_port)"
    echo '{"rate": 2000000}' >"$T/rules.json"
    aux_start "$PY" "$E2E_DIR/images_util.py" proxy "$port" "${OREG##*:}" "$T/rules.json" "$T/proxy.ready"
    wait_file "$T/proxy.ready" ready 10
    berthd_start
    run docker_t pull "127.0.0.1:$port/test/hello"
    assert_status 1
    assert_contains "$output" "filesystem layer verification failed for digest $layer"
    assert_eq "$(docker_t images -aq)" ""
    [[ ! -e "$DATA/blobs/sha256/$(hex "$layer")" ]] || fail "the tampered blob was stored"
    assert_store_clean
    # No layer can be kept: the bottom one failed, and the top one sits on it.
    assert_eq "$(layer_dirs)" ""
}

@test "D3: a tampered config blob fails the pull; nothing kept" {
    own_registry
    registry_tamper "$OREGD" "$(fx 'j["hello"]["config"]')"
    berthd_start
    run docker_t pull "$OREG/test/hello"
    assert_status 1
    assert_match "$output" "verification failed|digest|did not match"
    assert_contains "$output" "$(fx 'j["hello"]["config"]')"
    assert_eq "$(docker_t images -aq)" ""
    [[ ! -e "$DATA/images/$(hex "$(fx 'j["hello"]["config"]')").json" ]] || fail "the config was stored"
    assert_store_clean
}

@test "D2: a tampered manifest pulled by digest fails 'manifest verification failed' before any layer is fetched" {
    own_registry
    local manifest bb_layer
    manifest="$(fx 'j["hello"]["manifest"]')"
    bb_layer="$(fx 'j["busybox"]["layers"][0]')"
    # A valid manifest of another image (busybox's) served under hello's digest. (A flipped
    # byte would not do: distribution parses a manifest before serving it and answers 500.)
    local hexm
    hexm="$(hex "$(fx 'j["busybox"]["manifest"]')")"
    registry_tamper "$OREGD" "$manifest" "$FIXTURES/busybox/oci/blobs/sha256/$hexm"
    berthd_start
    run curl -sS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        "http://$OREG/v2/test/hello/manifests/$manifest"
    assert_eq "$output" "$(cat "$FIXTURES/busybox/oci/blobs/sha256/$hexm")"
    run docker_t pull "$OREG/test/hello@$manifest"
    assert_status 1
    assert_contains "$output" "manifest verification failed for digest $manifest"
    assert_nothing_stored
    assert_eq "$(registry_blob_gets "$OREGD" "$bb_layer")" 0
    # By tag the registry serves the same bytes; the pull must not record them under the
    # tampered digest either (a by-tag pull has no digest to verify against, so it may succeed
    # as busybox, but never as test/hello@<hello's digest>).
    run docker_t pull "$OREG/test/hello:latest"
    if [[ "$status" -eq 0 ]]; then
        run docker_t image inspect -f '{{.Id}} {{json .RepoDigests}}' "$OREG/test/hello:latest"
        assert_not_contains "$output" "$manifest"
    fi
}

@test "L1-L12: malicious layers are refused naming the entry, or confined; nothing escapes" {
    # Expected words in the error of each refused case (the offending entry or link target).
    declare -A entry=(
        [l1-absolute]="/tmp/berth-evil-l1-absolute"
        [l1-dotdot]="../../tmp/berth-evil-l1-dotdot"
        [l1-inner-dotdot]="etc/../../tmp/berth-evil-l1-inner-dotdot"
        [l1-rootdotdot]="/../victim/x"
        [l4-hardlink-abs]="/etc/shadow"
        [l4-hardlink-rel]="../../etc/shadow"
        [l4-hardlink-rootdotdot]="/../victim/hello"
        [l4-hardlink-via-symlink]="s/shadow"
        [l5-loophole]="loophole"
        [l9-wh-dotdot]=".wh.."
        [l9-wh-dotdotdot]=".wh..."
        [l9-wh-empty]=".wh."
        [l9-wh-etc-dotdot]="etc/.wh.."
    )
    local passwd_sum shadow_links
    passwd_sum="$(sha256sum /etc/passwd)"
    shadow_links="$(stat -c %h /etc/shadow)"
    berthd_start
    MERGED="$T/merged"
    mkdir -p "$MERGED" "$T/empty"
    local c expect problems=() out rc chains last inside kind n=0
    for c in $(evil_cases); do
        n=$((n + 1))
        expect="$(fx "j['evil']['$c']['expect']")"
        rc=0
        out="$(docker_t pull "$REG/test/evil:$c" 2>&1)" || rc=$?
        chains="$(chain_ids "j['evil']['$c']")"
        last="$(tail -n1 <<<"$chains")"
        case "$expect" in
        refuse)
            if [[ "$rc" -eq 0 ]]; then
                problems+=("$c: pulled, expected a refusal")
            else
                [[ "$out" == *"${entry[$c]}"* ]] ||
                    problems+=("$c: the error does not name '${entry[$c]}': $out")
                [[ ! -e "$DATA/layers/$last" ]] || problems+=("$c: refused layer stored as layers/$last")
                if docker_t image inspect "$REG/test/evil:$c" >/dev/null 2>&1; then
                    problems+=("$c: refused, but the image is listed")
                fi
            fi
            ;;
        ok | confine)
            if [[ "$rc" -ne 0 ]]; then
                [[ "$expect" == confine ]] || problems+=("$c: refused, expected success: $out")
                [[ ! -e "$DATA/layers/$last" ]] || problems+=("$c: refused layer stored as layers/$last")
            else
                local lower="" ch
                for ch in $chains; do
                    if [[ ! -f "$DATA/layers/$ch/layer.json" ]]; then
                        problems+=("$c: pulled but layers/$ch is missing or incomplete")
                    fi
                    lower="$DATA/layers/$ch/diff${lower:+:$lower}"
                done
                [[ "$(wc -l <<<"$chains")" -gt 1 ]] || lower="$lower:$T/empty"
                if ! mount -t overlay overlay -o "ro,lowerdir=$lower" "$MERGED" 2>"$T/mount.err"; then
                    problems+=("$c: cannot mount the image's layers: $(cat "$T/mount.err")")
                    continue
                fi
                m() { "$PY" "$E2E_DIR/images_util.py" inroot "$MERGED" "$1"; }
                inside="$(fx "j['evil']['$c'].get('inside', '')")"
                if [[ -n "$inside" ]]; then
                    kind="$(m "$inside")"
                    [[ "$kind" != absent && "$kind" != through-symlink* ]] ||
                        problems+=("$c: accepted but $inside is not inside the rootfs ($kind)")
                fi
                case "$c" in
                l10-wh-symlink-itself)
                    [[ "$(m localetc)" == absent ]] || problems+=("$c: localetc still there ($(m localetc))")
                    [[ "$(m etc/passwd)" == file ]] || problems+=("$c: etc/passwd gone ($(m etc/passwd))")
                    ;;
                l12-opaque)
                    [[ "$(m a/upper)" == file ]] || problems+=("$c: a/upper missing ($(m a/upper))")
                    [[ "$(m a/lower)" == absent ]] || problems+=("$c: a/lower not hidden ($(m a/lower))")
                    [[ "$(m a/.wh..wh..opq)" == absent ]] || problems+=("$c: the marker is visible")
                    ;;
                l12-opaque-first-layer)
                    [[ "$(m a/f)" == file ]] || problems+=("$c: a/f missing ($(m a/f))")
                    [[ "$(m a/.wh..wh..opq)" == absent ]] || problems+=("$c: the marker is visible")
                    ;;
                l12-opaque-as-dir | l12-opaque-as-symlink)
                    [[ "$(m a/lower)" == file ]] || problems+=("$c: a/lower hidden by a non-regular marker")
                    ;;
                l7-devices)
                    [[ "$(m disk)" == block && "$(m mem)" == char && "$(m fifo)" == fifo ]] ||
                        problems+=("$c: device nodes not in the rootfs: disk=$(m disk) mem=$(m mem) fifo=$(m fifo)")
                    ;;
                esac
                umount "$MERGED"
            fi
            ;;
        *)
            problems+=("$c: unknown expectation '$expect'")
            ;;
        esac
        # Whatever happened: nothing outside the data root, a clean store, a live daemon.
        local esc
        esc="$(ls -d /tmp/berth-evil-* /etc/berth-evil-* "$T"/victim "$DATA"/victim "$DATA"/*/victim \
            "$DATA"/layers/*/victim 2>/dev/null || true)"
        [[ -z "$esc" ]] || problems+=("$c: written outside the rootfs: $esc")
        [[ "$(sha256sum /etc/passwd)" == "$passwd_sum" ]] || problems+=("$c: /etc/passwd changed")
        [[ "$(stat -c %h /etc/shadow)" == "$shadow_links" ]] || problems+=("$c: /etc/shadow link count changed")
        esc="$(find "$T" -path "$DATA/layers/*/diff" -prune -o -name 'victim*' -print 2>/dev/null)"
        [[ -z "$esc" ]] || problems+=("$c: victim paths outside any layer: $esc")
        esc="$(store_problems)"
        [[ -z "$esc" ]] || problems+=("$c: store: $esc")
        [[ "$(curl_b http://x/_ping)" == OK ]] || problems+=("$c: daemon not answering after the pull")
    done
    ((n >= 20)) || problems+=("only $n evil cases found in FIXTURES.json")
    if ((${#problems[@]})); then
        printf 'evil case failure: %s\n' "${problems[@]}" >&2
        return 1
    fi
}

@test "D6: names that try to leave the data root are 404/400 and read nothing" {
    berthd_start
    docker_t pull -q "$REG/test/hello" >/dev/null
    local id rec
    id="$(hex "$(fx 'j["hello"]["config"]')")"
    rec="$DATA/images/$id.json"
    # Valid-looking image records where a path built from the name would land.
    cp "$rec" "$T/evil.json"
    cp "$rec" "$DATA/evil.json"
    cp "$rec" "$DATA/blobs/evil.json"
    local p code
    for p in '..%2F..%2Fetc' '..%2Fevil' '..%2F..%2Fevil' '..%2Fblobs%2Fevil' 'sha256:..%2Fevil' \
        "sha256:..%2F..%2F..%2Fetc%2Fpasswd" '%2E%2E%2Fevil' "..%2Fimages%2F$id"; do
        code="$(http_status "http://x/images/$p/json")"
        [[ "$code" == 404 || "$code" == 400 ]] || fail "GET /images/$p/json answered $code"
        code="$(http_status "http://x/images/$p/history")"
        [[ "$code" == 404 || "$code" == 400 ]] || fail "GET /images/$p/history answered $code"
        code="$(http_status "http://x/images/$p" -X DELETE)"
        [[ "$code" == 404 || "$code" == 400 ]] || fail "DELETE /images/$p answered $code"
        code="$(http_status "http://x/images/$p/tag?repo=x&tag=1" -X POST)"
        [[ "$code" == 404 || "$code" == 400 ]] || fail "POST /images/$p/tag answered $code"
    done
    run curl_b 'http://x/images/..%2F..%2Fetc/json'
    assert_contains "$output" "No such image"
    assert_not_contains "$output" "root:"
    # Nothing was removed or tagged by those requests.
    [[ -f "$T/evil.json" && -f "$DATA/evil.json" && -f "$DATA/blobs/evil.json" && -f "$rec" ]] ||
        fail "a file was removed"
    assert_eq "$(docker_t images --format '{{.Repository}}:{{.Tag}}')" "$REG/test/hello:latest"
}

@test "D6: malformed digests in a pull are refused before any path is built" {
    berthd_start
    local t code
    for t in 'sha256:..%2F..%2F..%2F..%2Ftmp%2Fberth-evil-d6' \
        "sha256:$(printf 'A%.0s' {1..64})" "sha256:$(printf 'a%.0s' {1..63})" \
        "md5:d41d8cd98f00b204e9800998ecf8427e" "sha256:$(printf 'g%.0s' {1..64})"; do
        run curl_b -w '\n%{http_code}' -X POST "http://x/images/create?fromImage=$REG/test/hello&tag=$t"
        code="$(tail -n1 <<<"$output")"
        [[ "$code" == 400 ]] || fail "tag=$t answered $code: $output"
    done
    [[ ! -e /tmp/berth-evil-d6 ]] || fail "/tmp/berth-evil-d6 was created"
    assert_eq "$(find "$DATA" -name '*berth-evil*')" ""
    run docker_t pull "$REG/test/hello@sha256:$(printf '0%.0s' {1..64})"
    assert_status 1
    assert_contains "$output" "manifest unknown"
    assert_eq "$(docker_t images -aq)" ""
}
