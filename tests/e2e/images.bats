#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Images (issue 3, item 10): pulls through the real docker CLI, docker-py and curl against the
# local registries (plain and token-protected), and the image store they leave behind:
# images, inspect, history, tag, rmi, prune, filters, login, mirrors, parallel pulls.

load helpers
load registry

setup_file() {
    registry_file_start
    TREG_PORT="$(free_port)"
    TOKEN_PORT="$(free_port)"
    while [[ "$TOKEN_PORT" == "$TREG_PORT" ]]; do TOKEN_PORT="$(free_port)"; done
    registry_start "$BATS_FILE_TMPDIR/treg" "$TREG_PORT" token "$TOKEN_PORT"
    TREG="$REG_ADDR"
    TREGD="$REG_DIR"
    registry_push_fixtures "$TREG" "$TOKEN_USER:$TOKEN_PASSWORD" >/dev/null
    export REG REGD TREG TREGD
}

teardown_file() {
    registry_file_stop
    registry_stop "$BATS_FILE_TMPDIR/treg" || true
}

setup() {
    berthd_dir
}

teardown() {
    berthd_teardown
}

# fx EXPR: a FIXTURES.json value.
fx() {
    fixture_get "$1"
}

# hex DIGEST: the hex part of sha256:<hex>.
hex() {
    echo "${1#sha256:}"
}

# urlenc STRING: percent-encode for a query value.
urlenc() {
    "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

# chain_ids KEY: the chain ids (hex) of fixture KEY's layers.
chain_ids() {
    # shellcheck disable=SC2046 # one diff id per word
    "$PY" "$E2E_DIR/images_util.py" chain-ids $(fixture_get "' '.join($1['diff_ids'])")
}

# listed: "repo:tag id12" per image row, sorted, from docker images.
listed() {
    docker_t images --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort
}

# layer_dirs: the names under $DATA/layers, sorted, one per line.
layer_dirs() {
    if [[ -d "$DATA/layers" ]]; then
        find "$DATA/layers" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort
    fi
}

# assert_layers_complete: the store is sound (images_util.py check-store): every layer dir
# complete with its parent present, blobs verified, images' layers present, refs resolve.
assert_layers_complete() {
    run "$PY" "$E2E_DIR/images_util.py" check-store "$DATA"
    if [[ "$status" -ne 0 ]]; then
        fail "store problems: $output"
    fi
}

# ---------------------------------------------------------------------------------------------

@test "docker pull by tag: progress lines, Digest and Status; a second pull is up to date" {
    berthd_start
    local manifest l1 l2
    manifest="$(fx 'j["hello"]["manifest"]')"
    l1="$(hex "$(fx 'j["hello"]["layers"][0]')")"
    l2="$(hex "$(fx 'j["hello"]["layers"][1]')")"
    run docker_t pull "$REG/test/hello"
    assert_status 0
    assert_contains "$output" "Using default tag: latest"
    assert_contains "$output" "latest: Pulling from test/hello"
    assert_contains "$output" "${l1:0:12}: Pull complete"
    assert_contains "$output" "${l2:0:12}: Pull complete"
    assert_contains "$output" "Digest: $manifest"
    assert_contains "$output" "Status: Downloaded newer image for $REG/test/hello:latest"
    assert_eq "$(tail -n1 <<<"$output")" "$REG/test/hello:latest"

    run docker_t pull "$REG/test/hello:latest"
    assert_status 0
    assert_contains "$output" "Digest: $manifest"
    assert_contains "$output" "Status: Image is up to date for $REG/test/hello:latest"
    assert_not_contains "$output" "Pull complete"

    # On disk: the config under images/, both layers complete under layers/<chain id>/, the
    # blobs verified, tmp/ empty, and refs.json naming the tag and the digest.
    local config chains
    config="$(fx 'j["hello"]["config"]')"
    [[ -f "$DATA/images/$(hex "$config").json" ]] || fail "no $DATA/images/$(hex "$config").json"
    chains="$(chain_ids 'j["hello"]')"
    assert_eq "$(layer_dirs)" "$(sort <<<"$chains")"
    assert_layers_complete
    assert_eq "$(cat "$DATA/layers/$(tail -n1 <<<"$chains")/diff/hello.txt")" "hello from berth"
    run "$PY" "$E2E_DIR/images_util.py" verify-blobs "$DATA"
    assert_status 0
    assert_eq "$(ls -A "$DATA/tmp")" ""
    run json_get 'j["Refs"]' <"$DATA/refs.json"
    assert_contains "$output" "\"$REG/test/hello:latest\": \"$config\""
    assert_contains "$output" "\"$REG/test/hello@$manifest\": \"$config\""
}

@test "busybox then hello: the shared layer 'Already exists' and is fetched once; images lists both" {
    berthd_start
    local bb_layer bb_cfg hello_cfg before
    bb_layer="$(fx 'j["busybox"]["layers"][0]')"
    bb_cfg="$(fx 'j["busybox"]["config"]')"
    hello_cfg="$(fx 'j["hello"]["config"]')"
    before="$(registry_blob_gets "$REGD" "$bb_layer")"
    run docker_t pull "$REG/library/busybox"
    assert_status 0
    assert_contains "$output" "$(hex "$bb_layer" | cut -c1-12): Pull complete"
    run docker_t pull "$REG/test/hello"
    assert_status 0
    assert_contains "$output" "$(hex "$bb_layer" | cut -c1-12): Already exists"
    assert_eq "$(registry_blob_gets "$REGD" "$bb_layer")" "$((before + 1))"

    assert_eq "$(listed)" "$(printf '%s\n' "$REG/library/busybox:latest $(hex "$bb_cfg" | cut -c1-12)" \
        "$REG/test/hello:latest $(hex "$hello_cfg" | cut -c1-12)" | sort)"
    # The default table: IMAGE ID is the first 12 hex digits of the config digest.
    run docker_t images
    assert_status 0
    assert_match "$(head -n1 <<<"$output")" '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$'
    assert_match "$output" "$REG/test/hello +latest +$(hex "$hello_cfg" | cut -c1-12) "
    assert_match "$output" "$REG/library/busybox +latest +$(hex "$bb_cfg" | cut -c1-12) "
    run docker_t images -q --no-trunc
    assert_status 0
    assert_eq "$(sort <<<"$output")" "$(printf '%s\n' "$bb_cfg" "$hello_cfg" | sort)"
    run docker_t images --digests --format '{{.Repository}} {{.Digest}}'
    assert_contains "$output" "$REG/test/hello $(fx 'j["hello"]["manifest"]')"
    # Two layer dirs: busybox's (shared) and hello's second.
    assert_eq "$(layer_dirs | wc -l)" 2
    assert_layers_complete
}

@test "image inspect: Id, RepoTags, RepoDigests, RootFS, Config, Architecture; history rows" {
    berthd_start
    run docker_t pull -q "$REG/test/hello"
    assert_status 0
    assert_eq "$output" "$REG/test/hello:latest"
    local j
    j="$(docker_t image inspect "$REG/test/hello")"
    assert_eq "$(json_get 'len(j)' <<<"$j")" 1
    assert_eq "$(json_get 'j[0]["Id"]' <<<"$j")" "$(fx 'j["hello"]["config"]')"
    assert_eq "$(json_get 'j[0]["RepoTags"]' <<<"$j")" "[\"$REG/test/hello:latest\"]"
    assert_eq "$(json_get 'j[0]["RepoDigests"]' <<<"$j")" "[\"$REG/test/hello@$(fx 'j["hello"]["manifest"]')\"]"
    assert_eq "$(json_get 'j[0]["RootFS"]["Type"]' <<<"$j")" layers
    assert_eq "$(json_get 'j[0]["RootFS"]["Layers"]' <<<"$j")" "$(fx 'j["hello"]["diff_ids"]')"
    assert_eq "$(json_get 'j[0]["Architecture"]' <<<"$j")" amd64
    assert_eq "$(json_get 'j[0]["Os"]' <<<"$j")" linux
    assert_eq "$(json_get 'j[0]["Config"]["Labels"]["org.berth.test"]' <<<"$j")" hello
    assert_eq "$(json_get 'j[0]["Config"]["Cmd"]' <<<"$j")" '["sh"]'
    assert_eq "$(json_get 'j[0]["GraphDriver"]["Name"]' <<<"$j")" overlay2
    # Every name form resolves to the same image.
    local id name
    id="$(fx 'j["hello"]["config"]')"
    for name in "$REG/test/hello:latest" "$id" "$(hex "$id")" "$(hex "$id" | cut -c1-12)" \
        "$REG/test/hello@$(fx 'j["hello"]["manifest"]')"; do
        run docker_t image inspect -f '{{.Id}}' "$name"
        assert_status 0
        assert_eq "$output" "$id"
    done
    run docker_t image inspect "$REG/test/nosuch"
    assert_status 1
    assert_contains "$output" "No such image"

    # history: one row per layer (newest first), the top row carries the image ID.
    run docker_t history --format '{{.ID}}|{{.CreatedBy}}|{{.Size}}' "$REG/test/hello"
    assert_status 0
    assert_eq "$(wc -l <<<"$output")" 2
    assert_match "$(sed -n 1p <<<"$output")" "^$(hex "$id" | cut -c1-12)\|.*hello\.txt.*\|"
    assert_match "$(sed -n 2p <<<"$output")" '^<missing>\|.*busybox'
    run curl_b "http://x/images/$REG/test/hello/history"
    assert_status 0
    assert_eq "$(json_get 'len(j)' <<<"$output")" 2
    assert_eq "$(json_get 'j[0]["Id"]' <<<"$output")" "$id"
    assert_eq "$(json_get 'j[0]["Tags"]' <<<"$output")" "[\"$REG/test/hello:latest\"]"
}

@test "docker tag: the new name lists with the same ID; unknown source is 'No such image'" {
    berthd_start
    docker_t pull -q "$REG/test/hello" >/dev/null
    local id12
    id12="$(hex "$(fx 'j["hello"]["config"]')" | cut -c1-12)"
    run docker_t tag "$REG/test/hello" myrepo/bb:v1
    assert_status 0
    assert_eq "$output" ""
    run docker_t tag "$REG/test/hello:latest" plain
    assert_status 0
    assert_eq "$(listed)" "$(printf '%s\n' "$REG/test/hello:latest $id12" "myrepo/bb:v1 $id12" "plain:latest $id12" | sort)"
    assert_eq "$(docker_t image inspect -f '{{json .RepoTags}}' myrepo/bb:v1 | json_get 'sorted(j)')" \
        "$(printf '["%s", "%s", "%s"]' "$REG/test/hello:latest" myrepo/bb:v1 plain:latest)"
    # The API answers 201 with an empty body.
    run curl_b -o /dev/null -w '%{http_code}' -X POST "http://x/images/plain/tag?repo=docker.io%2Fother%2Frepo&tag=t2"
    assert_eq "$output" 201
    assert_contains "$(listed)" "other/repo:t2 $id12"
    run docker_t tag nosuch:latest x:1
    assert_status 1
    assert_contains "$output" "No such image"
    run docker_t tag plain 'Bad:Tag'
    assert_failed
}

@test "docker rmi: untag versus delete; a shared layer stays while another image uses it" {
    berthd_start
    docker_t pull -q "$REG/library/busybox" >/dev/null
    docker_t pull -q "$REG/test/hello" >/dev/null
    docker_t tag "$REG/library/busybox" bb:1
    local bb_cfg hello_cfg bb_chain hello_chains
    bb_cfg="$(fx 'j["busybox"]["config"]')"
    hello_cfg="$(fx 'j["hello"]["config"]')"
    bb_chain="$(chain_ids 'j["busybox"]')"
    hello_chains="$(chain_ids 'j["hello"]')"
    assert_eq "$(layer_dirs)" "$(sort <<<"$hello_chains")"

    # A second tag of busybox: only that tag goes.
    run docker_t rmi bb:1
    assert_status 0
    assert_eq "$output" "Untagged: bb:1"
    [[ -f "$DATA/images/$(hex "$bb_cfg").json" ]] || fail "busybox's config went with its second tag"

    # hello: its tag, its digest ref and the image go; its own layer goes, the shared one stays.
    run docker_t rmi "$REG/test/hello"
    assert_status 0
    assert_contains "$output" "Untagged: $REG/test/hello:latest"
    assert_contains "$output" "Untagged: $REG/test/hello@$(fx 'j["hello"]["manifest"]')"
    assert_contains "$output" "Deleted: $hello_cfg"
    [[ ! -e "$DATA/images/$(hex "$hello_cfg").json" ]] || fail "hello's config still stored"
    assert_eq "$(layer_dirs)" "$bb_chain"
    assert_layers_complete
    assert_eq "$(listed)" "$REG/library/busybox:latest $(hex "$bb_cfg" | cut -c1-12)"
    assert_not_contains "$(cat "$DATA/refs.json")" "test/hello"

    # The last user of the busybox layer goes: the layer goes too.
    run docker_t rmi "$REG/library/busybox:latest"
    assert_status 0
    assert_contains "$output" "Untagged: $REG/library/busybox:latest"
    assert_contains "$output" "Deleted: $bb_cfg"
    assert_eq "$(layer_dirs)" ""
    assert_eq "$(docker_t images -q)" ""
    assert_eq "$(ls -A "$DATA/images")" ""
}

@test "docker rmi: unknown is 'No such image' (exit 1); an ID with several names needs -f" {
    berthd_start
    run docker_t rmi nosuch
    assert_status 1
    assert_contains "$output" "No such image: nosuch:latest"
    run curl_b -o /dev/null -w '%{http_code}' -X DELETE http://x/images/nosuch
    assert_eq "$output" 404

    docker_t pull -q "$REG/test/hello" >/dev/null
    docker_t tag "$REG/test/hello" two:1
    local id
    id="$(fx 'j["hello"]["config"]')"
    run docker_t rmi "$(hex "$id" | cut -c1-12)"
    assert_status 1
    assert_contains "$output" "conflict: unable to delete $(hex "$id" | cut -c1-12) (must be forced) - image is referenced in multiple repositories"
    run curl_b -o /dev/null -w '%{http_code}' -X DELETE "http://x/images/$(hex "$id" | cut -c1-12)"
    assert_eq "$output" 409
    assert_eq "$(docker_t images -q | sort -u)" "$(hex "$id" | cut -c1-12)"

    run docker_t rmi -f "$(hex "$id" | cut -c1-12)"
    assert_status 0
    assert_contains "$output" "Untagged: two:1"
    assert_contains "$output" "Untagged: $REG/test/hello:latest"
    assert_contains "$output" "Deleted: $id"
    assert_eq "$(docker_t images -q)" ""
    assert_eq "$(layer_dirs)" ""
}

@test "docker pull by digest stores the digest ref, no tag" {
    berthd_start
    local manifest id
    manifest="$(fx 'j["hello"]["manifest"]')"
    id="$(fx 'j["hello"]["config"]')"
    run docker_t pull "$REG/test/hello@$manifest"
    assert_status 0
    assert_contains "$output" "$manifest: Pulling from test/hello"
    assert_contains "$output" "Digest: $manifest"
    assert_contains "$output" "Status: Downloaded newer image for $REG/test/hello@$manifest"
    run docker_t image inspect -f '{{.Id}} {{json .RepoTags}} {{json .RepoDigests}}' "$REG/test/hello@$manifest"
    assert_status 0
    assert_eq "$output" "$id [] [\"$REG/test/hello@$manifest\"]"
    run docker_t images --digests --format '{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}'
    assert_eq "$output" "$REG/test/hello <none> $manifest $(hex "$id" | cut -c1-12)"
    # The same image by tag afterwards: no download, the tag is added.
    run docker_t pull "$REG/test/hello:latest"
    assert_status 0
    assert_not_contains "$output" "Pull complete"
    assert_eq "$(docker_t image inspect -f '{{json .RepoTags}}' "$id")" "[\"$REG/test/hello:latest\"]"
}

@test "Docker schema 2 manifest: same config as the OCI one, its own digest" {
    berthd_start
    run docker_t pull "$REG/test/hello-docker"
    assert_status 0
    assert_contains "$output" "Digest: $(fx 'j["hello-docker"]["manifest"]')"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$REG/test/hello-docker")" "$(fx 'j["hello-docker"]["config"]')"
}

@test "multi-platform index: default amd64, --platform linux/arm64, missing platform refused" {
    berthd_start
    local amd arm idx
    amd="$(fx 'j["multi"]["platforms"]["linux/amd64"]["config"]')"
    arm="$(fx 'j["multi"]["platforms"]["linux/arm64/v8"]["config"]')"
    idx="$(fx 'j["multi"]["index"]')"
    run docker_t pull "$REG/test/multi"
    assert_status 0
    assert_contains "$output" "Digest: $idx"
    assert_eq "$(docker_t image inspect -f '{{.Id}} {{.Os}}/{{.Architecture}}' "$REG/test/multi")" "$amd linux/amd64"
    assert_eq "$(cat "$DATA/layers/$(chain_ids 'j["multi"]["platforms"]["linux/amd64"]' | tail -n1)/diff/platform.txt")" linux/amd64

    run docker_t pull --platform linux/arm64 "$REG/test/multi"
    assert_status 0
    assert_contains "$output" "Digest: $idx"
    assert_eq "$(docker_t image inspect -f '{{.Id}} {{.Os}}/{{.Architecture}}' "$REG/test/multi")" "$arm linux/arm64"
    assert_eq "$(docker_t image inspect -f '{{.Variant}}' "$REG/test/multi")" v8
    assert_eq "$(cat "$DATA/layers/$(chain_ids 'j["multi"]["platforms"]["linux/arm64/v8"]' | tail -n1)/diff/platform.txt")" linux/arm64/v8

    run docker_t pull --platform linux/s390x "$REG/test/multi"
    assert_status 1
    assert_contains "$output" "no matching manifest for linux/s390x"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$REG/test/multi")" "$arm"

    # The Docker manifest list resolves the same way.
    run docker_t pull --platform linux/arm64/v8 "$REG/test/multi-docker"
    assert_status 0
    assert_contains "$output" "Digest: $(fx 'j["multi-docker"]["index"]')"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$REG/test/multi-docker")" "$arm"
    run docker_t pull "$REG/test/multi-docker"
    assert_status 0
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$REG/test/multi-docker")" "$amd"
}

@test "token registry: an anonymous pull is refused as unauthorized and stores nothing" {
    berthd_start
    run curl_b -w '\n%{http_code}' -X POST "http://x/images/create?fromImage=$TREG/test/hello&tag=latest"
    assert_eq "$(tail -n1 <<<"$output")" 401
    assert_match "$(head -n1 <<<"$output")" 'unauthorized|authentication required'
    # The CLI turns the 401 into its "Login prior to pull" prompt, which fails without a TTY.
    run docker_t pull "$TREG/test/hello" < <(printf 'berth\n')
    assert_failed
    assert_contains "$output" "Login prior to pull"
    assert_eq "$(docker_t images -q)" ""
    assert_eq "$(layer_dirs)" ""
    # The issuer saw no credentials from berthd.
    run token_requests "$TREGD"
    assert_contains "$output" '"User-Agent": "berth/'
    run "$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l); h = {k.lower(): v for k, v in r["headers"].items()}
    if h.get("user-agent", "").startswith("berth/") and "authorization" in h: print(l)' "$TREGD/token-requests.jsonl"
    assert_eq "$output" ""
}

@test "token registry: docker login (wrong password fails, right one stored), then pull with the stored credentials" {
    berthd_start
    run docker_t login "$TREG" -u "$TOKEN_USER" -p wrong
    assert_status 1
    assert_match "$output" 'unauthorized|incorrect username or password|invalid username or password'
    [[ ! -s "$T/docker-config/config.json" ]] || assert_not_contains "$(cat "$T/docker-config/config.json")" "$TREG"

    run docker_t login "$TREG" -u "$TOKEN_USER" --password-stdin <<<"$TOKEN_PASSWORD"
    assert_status 0
    assert_contains "$output" "Login Succeeded"
    assert_contains "$(cat "$T/docker-config/config.json")" "$TREG"

    local basic n_before
    basic="Basic $(printf '%s:%s' "$TOKEN_USER" "$TOKEN_PASSWORD" | base64)"
    n_before="$(wc -l <"$TREGD/token-requests.jsonl")"
    run docker_t pull "$TREG/test/hello" </dev/null
    assert_status 0
    assert_contains "$output" "Status: Downloaded newer image for $TREG/test/hello:latest"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$TREG/test/hello")" "$(fx 'j["hello"]["config"]')"
    # The token request berthd made for this pull carried the credentials, for the pull scope.
    run "$PY" -c 'import json,sys
for l in list(open(sys.argv[1]))[int(sys.argv[2]):]:
    r = json.loads(l); h = {k.lower(): v for k, v in r["headers"].items()}
    print(h.get("authorization", "-"), " ".join(r["query"].get("scope", [])))' \
        "$TREGD/token-requests.jsonl" "$n_before"
    assert_contains "$output" "$basic repository:test/hello:pull"
    assert_not_contains "$output" "- repository:test/hello"
    # The registry itself never received the password.
    run grep -c "$(printf '%s:%s' "$TOKEN_USER" "$TOKEN_PASSWORD" | base64)" "$TREGD/registry.log"
    assert_eq "$output" 0
}

@test "X-Registry-Auth on POST /images/create: good credentials pull, bad or garbage ones do not" {
    berthd_start
    local good bad
    good="$(printf '{"username":"%s","password":"%s","serveraddress":"%s"}' "$TOKEN_USER" "$TOKEN_PASSWORD" "$TREG" | base64 -w0 | tr '+/' '-_')"
    bad="$(printf '{"username":"%s","password":"nope","serveraddress":"%s"}' "$TOKEN_USER" "$TREG" | base64 -w0 | tr '+/' '-_')"
    run curl_b -w '\n%{http_code}' -X POST -H "X-Registry-Auth: $bad" \
        "http://x/images/create?fromImage=$TREG/test/multi&tag=latest"
    assert_match "$(tail -n1 <<<"$output")" '^(401|200)$'
    assert_match "$output" 'unauthorized|authentication required|invalid username or password'
    assert_not_contains "$output" "Status: Downloaded"
    run curl_b -w '\n%{http_code}' -X POST -H 'X-Registry-Auth: %%%not-base64%%%' \
        "http://x/images/create?fromImage=$TREG/test/multi&tag=latest"
    assert_match "$(tail -n1 <<<"$output")" '^(401|200)$'
    assert_not_contains "$output" "Status: Downloaded"
    assert_eq "$(docker_t images -aq)" ""
    run curl_b -w '\n%{http_code}' -X POST -H "X-Registry-Auth: $good" \
        "http://x/images/create?fromImage=$TREG/test/multi&tag=latest"
    assert_eq "$(tail -n1 <<<"$output")" 200
    assert_contains "$output" "Status: Downloaded newer image for $TREG/test/multi:latest"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$TREG/test/multi")" \
        "$(fx 'j["multi"]["platforms"]["linux/amd64"]["config"]')"
}

@test "POST /auth: good credentials 200 'Login Succeeded', bad ones 401" {
    berthd_start
    run curl_b -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"$TOKEN_USER\",\"password\":\"$TOKEN_PASSWORD\",\"serveraddress\":\"$TREG\"}" http://x/auth
    assert_eq "$(tail -n1 <<<"$output")" 200
    assert_eq "$(head -n1 <<<"$output" | json_get 'j["Status"]')" "Login Succeeded"
    run curl_b -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"$TOKEN_USER\",\"password\":\"nope\",\"serveraddress\":\"$TREG\"}" http://x/auth
    assert_eq "$(tail -n1 <<<"$output")" 401
    assert_match "$(head -n1 <<<"$output" | json_get 'j["message"]')" 'unauthorized|invalid username or password'
    # The plain registry accepts any credentials (it has no auth).
    run curl_b -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"x\",\"password\":\"y\",\"serveraddress\":\"$REG\"}" http://x/auth
    assert_eq "$(tail -n1 <<<"$output")" 200
}

@test "--registry-mirror: docker pull busybox is served by the mirror" {
    berthd_start --registry-mirror "http://$REG"
    local before
    before="$(grep -c 'GET /v2/library/busybox/manifests/latest' "$REGD/registry.log" || true)"
    run docker_t pull busybox
    if [[ "$status" -ne 0 ]]; then
        fail "pull of busybox through --registry-mirror http://$REG failed (exit $status): $output"
    fi
    assert_contains "$output" "latest: Pulling from library/busybox"
    assert_contains "$output" "Digest: $(fx 'j["busybox"]["manifest"]')"
    assert_contains "$output" "Status: Downloaded newer image for busybox:latest"
    assert_eq "$(tail -n1 <<<"$output")" "docker.io/library/busybox:latest"
    assert_eq "$(listed)" "busybox:latest $(hex "$(fx 'j["busybox"]["config"]')" | cut -c1-12)"
    assert_eq "$(docker_t image inspect -f '{{.Id}}' docker.io/library/busybox:latest)" "$(fx 'j["busybox"]["config"]')"
    local after
    after="$(grep -c 'GET /v2/library/busybox/manifests/latest' "$REGD/registry.log" || true)"
    ((after > before)) || fail "the mirror's log shows no manifest GET for library/busybox"
}

@test "bad input: uppercase names 400, unknown manifest, nothing listening; the daemon stays up" {
    berthd_start
    local name
    for name in UPPER "$REG/Test/hello" "library/Busybox"; do
        run curl_b -w '\n%{http_code}' -X POST "http://x/images/create?fromImage=$(urlenc "$name")"
        assert_eq "$(tail -n1 <<<"$output")" 400
        assert_eq "$(head -n1 <<<"$output" | json_get 'j["message"]')" \
            "invalid reference format: repository name must be lowercase"
    done
    # docker's rule: an uppercase first component is a registry host (here unresolvable).
    run curl_b -w '\n%{http_code}' -X POST 'http://x/images/create?fromImage=UPPER/case'
    assert_match "$(tail -n1 <<<"$output")" '^[45][0-9][0-9]$'
    assert_contains "$output" UPPER
    for q in "fromImage=$REG/test/hello&tag=bad%20tag" "fromImage=$REG/test/hello&tag=sha256:abc" \
        "fromImage=$REG/test//hello" "fromImage=" "fromImage=$REG/test/hello&platform=linux/"; do
        run curl_b -w '\n%{http_code}' -X POST "http://x/images/create?$q"
        assert_eq "$(tail -n1 <<<"$output")" 400
    done

    run docker_t pull "$REG/test/nosuch"
    assert_status 1
    assert_contains "$output" "manifest unknown"
    run docker_t pull "$REG/test/hello:nosuchtag"
    assert_status 1
    assert_contains "$output" "manifest unknown"

    local dead
    dead="$(free_port)"
    run docker_t pull "127.0.0.1:$dead/test/hello"
    assert_status 1
    assert_contains "$output" "127.0.0.1:$dead"
    assert_match "$output" "[Cc]onnect|refused"
    assert_eq "$(curl_b http://x/_ping)" OK
    assert_eq "$(docker_t images -q)" ""
    assert_eq "$(ls -A "$DATA/tmp")" ""
}

@test "10 parallel docker pulls of hello and busybox all succeed; each layer blob fetched once" {
    berthd_start
    local l_bb l_hello b_bb b_hello i rc=0
    l_bb="$(fx 'j["busybox"]["layers"][0]')"
    l_hello="$(fx 'j["hello"]["layers"][1]')"
    b_bb="$(registry_blob_gets "$REGD" "$l_bb")"
    b_hello="$(registry_blob_gets "$REGD" "$l_hello")"
    local pids=()
    for i in 0 1 2 3 4 5 6 7 8 9; do
        if ((i % 2)); then
            docker_t pull "$REG/library/busybox" >"$T/pull.$i" 2>&1 &
        else
            docker_t pull "$REG/test/hello" >"$T/pull.$i" 2>&1 &
        fi
        pids+=($!)
    done
    for i in 0 1 2 3 4 5 6 7 8 9; do
        if ! wait "${pids[$i]}"; then
            echo "pull $i failed: $(cat "$T/pull.$i")" >&2
            rc=1
        fi
    done
    [[ "$rc" -eq 0 ]] || fail "some parallel pulls failed"
    for i in 0 2 4 6 8; do
        assert_contains "$(cat "$T/pull.$i")" "$REG/test/hello:latest"
    done
    sleep 0.3 # the registry writes its access log after the response
    assert_eq "$(registry_blob_gets "$REGD" "$l_bb")" "$((b_bb + 1))"
    assert_eq "$(registry_blob_gets "$REGD" "$l_hello")" "$((b_hello + 1))"
    assert_eq "$(listed | cut -d' ' -f1)" "$(printf '%s\n' "$REG/library/busybox:latest" "$REG/test/hello:latest" | sort)"
    assert_eq "$(layer_dirs)" "$(chain_ids 'j["hello"]' | sort)"
    assert_layers_complete
    assert_eq "$(ls -A "$DATA/tmp")" ""
}

@test "docker-py: images.pull returns the image, images.list shows it" {
    berthd_start
    run "$PY" "$E2E_DIR/images_util.py" sdk "$SOCK" "$REG/test/hello" latest
    assert_status 0
    assert_eq "$(json_get 'j["id"]' <<<"$output")" "$(fx 'j["hello"]["config"]')"
    assert_eq "$(json_get 'j["tags"]' <<<"$output")" "[\"$REG/test/hello:latest\"]"
    assert_eq "$(json_get 'j["list"]' <<<"$output")" "[[\"$(fx 'j["hello"]["config"]')\", [\"$REG/test/hello:latest\"]]]"
}

@test "docker images --filter: reference, label, dangling" {
    berthd_start
    docker_t pull -q "$REG/library/busybox" >/dev/null
    docker_t pull -q "$REG/test/hello" >/dev/null
    docker_t pull -q "$REG/test/multi" >/dev/null
    docker_t pull -q --platform linux/arm64 "$REG/test/multi" >/dev/null
    local amd
    amd="$(hex "$(fx 'j["multi"]["platforms"]["linux/amd64"]["config"]')" | cut -c1-12)"
    run docker_t images --filter label=org.berth.test=hello --format '{{.Repository}}'
    assert_eq "$output" "$REG/test/hello"
    run docker_t images --format '{{.Repository}}' "$REG/test/hello"
    assert_eq "$output" "$REG/test/hello"
    run docker_t images --filter "reference=$REG/test/*" --format '{{.Repository}}'
    assert_eq "$(sort <<<"$output")" "$(printf '%s\n' "$REG/test/hello" "$REG/test/multi" | sort)"
    run docker_t images --filter dangling=true --format '{{.Repository}}:{{.Tag}} {{.ID}}'
    assert_eq "$output" "<none>:<none> $amd"
    run docker_t images --filter dangling=false -q
    assert_not_contains "$output" "$amd"
    assert_eq "$(wc -l <<<"$output")" 3
}

@test "docker image prune: -f removes only dangling images, -a removes all unused" {
    berthd_start
    docker_t pull -q "$REG/library/busybox" >/dev/null
    docker_t pull -q "$REG/test/multi" >/dev/null
    # Re-pulling the tag for arm64 leaves the amd64 image untagged (dangling).
    docker_t pull -q --platform linux/arm64 "$REG/test/multi" >/dev/null
    local amd arm bb
    amd="$(fx 'j["multi"]["platforms"]["linux/amd64"]["config"]')"
    arm="$(fx 'j["multi"]["platforms"]["linux/arm64/v8"]["config"]')"
    bb="$(fx 'j["busybox"]["config"]')"
    assert_contains "$(docker_t images -a --format '{{.Repository}}:{{.Tag}} {{.ID}}')" "<none>:<none> $(hex "$amd" | cut -c1-12)"

    run docker_t image prune -f
    assert_status 0
    assert_contains "$output" "deleted: $amd"
    assert_not_contains "$output" "$arm"
    assert_not_contains "$output" "$bb"
    assert_match "$output" "Total reclaimed space: [1-9]"
    assert_eq "$(docker_t images -aq --no-trunc | sort)" "$(printf '%s\n' "$arm" "$bb" | sort)"
    [[ ! -e "$DATA/layers/$(chain_ids 'j["multi"]["platforms"]["linux/amd64"]' | tail -n1)" ]] ||
        fail "the pruned amd64 image's own layer is still stored"

    run docker_t image prune -f
    assert_status 0
    assert_not_contains "$output" "deleted:"

    run docker_t image prune -a -f
    assert_status 0
    assert_contains "$output" "untagged: $REG/test/multi:latest"
    assert_contains "$output" "deleted: $arm"
    assert_contains "$output" "deleted: $bb"
    assert_eq "$(docker_t images -aq)" ""
    assert_eq "$(layer_dirs)" ""
    assert_eq "$(ls -A "$DATA/images")" ""
}

# --- the berth CLI ---------------------------------------------------------------------------

@test "berth pull: plain progress lines off a TTY, Digest and Status; -q; up to date" {
    berthd_start
    local manifest l2
    manifest="$(fx 'j["hello"]["manifest"]')"
    l2="$(hex "$(fx 'j["hello"]["layers"][1]')")"
    run berth_t pull "$REG/test/hello"
    assert_status 0
    assert_contains "$output" "Using default tag: latest"
    assert_contains "$output" "latest: Pulling from test/hello"
    assert_contains "$output" "${l2:0:12}: Pull complete"
    assert_contains "$output" "Digest: $manifest"
    assert_contains "$output" "Status: Downloaded newer image for $REG/test/hello:latest"
    assert_eq "$(tail -n1 <<<"$output")" "$REG/test/hello:latest"
    # No terminal escapes off a TTY.
    assert_not_contains "$output" $'\e['
    run berth_t pull "$REG/test/hello"
    assert_status 0
    assert_contains "$output" "Status: Image is up to date for $REG/test/hello:latest"
    run berth_t pull -q "$REG/library/busybox"
    assert_status 0
    assert_eq "$output" "$REG/library/busybox:latest"
    run berth_t pull --platform linux/arm64 "$REG/test/multi"
    assert_status 0
    assert_eq "$(docker_t image inspect -f '{{.Id}}' "$REG/test/multi")" \
        "$(fx 'j["multi"]["platforms"]["linux/arm64/v8"]["config"]')"
    run berth_t pull "$REG/test/nosuch"
    assert_status 1
    assert_contains "$output" "manifest unknown"
    run berth_t pull "$REG/test/hello@$(fx 'j["hello"]["manifest"]')"
    assert_status 0
}

@test "berth images, tag, rmi, history, image inspect" {
    berthd_start
    berth_t pull -q "$REG/library/busybox" >/dev/null
    berth_t pull -q "$REG/test/hello" >/dev/null
    local hid bid
    hid="$(fx 'j["hello"]["config"]')"
    bid="$(fx 'j["busybox"]["config"]')"

    run berth_t images
    assert_status 0
    assert_match "$(head -n1 <<<"$output")" '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$'
    assert_match "$output" "$REG/test/hello +latest +$(hex "$hid" | cut -c1-12) +.* +1\.98MB"
    assert_match "$output" "$REG/library/busybox +latest +$(hex "$bid" | cut -c1-12) "
    run berth_t images -q --no-trunc
    assert_eq "$(sort <<<"$output")" "$(printf '%s\n' "$bid" "$hid" | sort)"
    run berth_t images --format '{{.Repository}}:{{.Tag}}' "$REG/test/hello"
    assert_eq "$output" "$REG/test/hello:latest"
    run berth_t images --digests --format '{{.Digest}}' "$REG/test/hello"
    assert_eq "$output" "$(fx 'j["hello"]["manifest"]')"
    run berth_t images --filter label=org.berth.test=hello -q
    assert_eq "$output" "$(hex "$hid" | cut -c1-12)"

    run berth_t tag "$REG/test/hello" mine/hello:v1
    assert_status 0
    assert_eq "$(docker_t image inspect -f '{{.Id}}' mine/hello:v1)" "$hid"
    run berth_t tag nosuch x:1
    assert_status 1
    assert_contains "$output" "No such image"

    run berth_t history "$REG/test/hello"
    assert_status 0
    assert_match "$(head -n1 <<<"$output")" '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$'
    assert_eq "$(wc -l <<<"$output")" 3
    assert_match "$(sed -n 2p <<<"$output")" "^$(hex "$hid" | cut -c1-12) .*hello\.txt"
    assert_match "$(sed -n 3p <<<"$output")" '^<missing> '
    run berth_t history -q "$REG/test/hello"
    assert_eq "$(head -n1 <<<"$output")" "$(hex "$hid" | cut -c1-12)"

    run berth_t image inspect "$REG/test/hello"
    assert_status 0
    assert_eq "$(json_get 'j[0]["Id"]' <<<"$output")" "$hid"
    assert_eq "$(json_get 'j[0]["RootFS"]["Layers"]' <<<"$output")" "$(fx 'j["hello"]["diff_ids"]')"
    run berth_t image inspect -f '{{.Id}} {{.Architecture}}' mine/hello:v1
    assert_eq "$output" "$hid amd64"
    run berth_t inspect -f '{{.Id}}' "$REG/library/busybox"
    assert_eq "$output" "$bid"
    run berth_t image inspect nosuch
    assert_status 1
    assert_contains "$output" "No such image"

    run berth_t rmi mine/hello:v1
    assert_status 0
    assert_eq "$output" "Untagged: mine/hello:v1"
    run berth_t rmi "$REG/test/hello"
    assert_status 0
    assert_contains "$output" "Untagged: $REG/test/hello:latest"
    assert_contains "$output" "Deleted: $hid"
    assert_eq "$(layer_dirs)" "$(chain_ids 'j["busybox"]')"
    run berth_t rmi nosuch
    assert_status 1
    assert_contains "$output" "No such image"
    berth_t tag "$REG/library/busybox" other:1
    run berth_t rmi "$(hex "$bid" | cut -c1-12)"
    assert_status 1
    assert_contains "$output" "must be forced"
    run berth_t rmi -f "$(hex "$bid" | cut -c1-12)"
    assert_status 0
    assert_contains "$output" "Deleted: $bid"
    assert_eq "$(berth_t images -q)" ""
}

@test "berth login stores docker-shaped credentials (0600) and berth pull uses them; logout removes them" {
    berthd_start
    export HOME="$T/home"
    mkdir -p "$HOME"
    run berth_t login "$TREG" -u "$TOKEN_USER" -p wrong
    assert_status 1
    assert_match "$output" 'unauthorized|invalid username or password'
    run berth_t login "$TREG" -u "$TOKEN_USER" --password-stdin <<<"$TOKEN_PASSWORD"
    assert_status 0
    assert_contains "$output" "Login Succeeded"
    [[ -f "$HOME/.berth/config.json" ]] || fail "no $HOME/.berth/config.json"
    assert_eq "$(stat -c %a "$HOME/.berth/config.json")" 600
    assert_eq "$(json_get "j['auths']['$TREG']['auth']" <"$HOME/.berth/config.json")" \
        "$(printf '%s:%s' "$TOKEN_USER" "$TOKEN_PASSWORD" | base64)"
    run berth_t pull "$TREG/test/hello" </dev/null
    assert_status 0
    assert_contains "$output" "Status: Downloaded newer image for $TREG/test/hello:latest"
    run berth_t logout "$TREG"
    assert_status 0
    assert_not_contains "$(cat "$HOME/.berth/config.json")" "$TREG"
    run berth_t pull "$TREG/test/multi" </dev/null
    assert_failed
    assert_match "$output" 'unauthorized|authentication required'
}

@test "berth image prune: -f dangling only, -a all" {
    berthd_start
    berth_t pull -q "$REG/library/busybox" >/dev/null
    berth_t pull -q "$REG/test/multi" >/dev/null
    berth_t pull -q --platform linux/arm64 "$REG/test/multi" >/dev/null
    run berth_t image prune -f
    assert_status 0
    assert_contains "$output" "deleted: $(fx 'j["multi"]["platforms"]["linux/amd64"]["config"]')"
    assert_eq "$(berth_t images -aq | wc -l)" 2
    run berth_t image prune -a -f
    assert_status 0
    assert_eq "$(berth_t images -aq)" ""
}

@test "berth's images, history and inspect output equals the docker CLI's for the same store" {
    berthd_start
    docker_t pull -q "$REG/library/busybox" >/dev/null
    docker_t pull -q "$REG/test/hello" >/dev/null
    docker_t pull -q "$REG/test/multi" >/dev/null
    docker_t pull -q --platform linux/arm64 "$REG/test/multi" >/dev/null
    docker_t tag "$REG/test/hello" mine:v1
    local args bad=0
    # The docker CLI prints the rows of one image's several tags in Go map order (it varies
    # from run to run), so image lists are compared with their rows sorted.
    rows() { if [[ "$1" == images* ]]; then awk 'NR == 1 { print; next } { print | "sort" }'; else cat; fi; }
    while IFS= read -r args; do
        # shellcheck disable=SC2086 # word splitting of the argument list is intended
        run diff <(docker_t $args 2>&1 | rows "$args") <(berth_t $args 2>&1 | rows "$args")
        if [[ "$status" -ne 0 ]]; then
            echo "'berth $args' differs from 'docker $args' (< docker, > berth):"$'\n'"$output" >&2
            bad=1
        fi
    done <<EOF2
images
images -a
images --digests
images --no-trunc
images -q
images $REG/test/hello
images --filter dangling=true
history $REG/test/hello
history --no-trunc mine:v1
history -H=false $REG/test/hello
image inspect $REG/test/hello
image inspect mine:v1 $REG/library/busybox
inspect $REG/test/multi
image inspect nosuch
rmi nosuch
EOF2
    [[ "$bad" -eq 0 ]]
}
