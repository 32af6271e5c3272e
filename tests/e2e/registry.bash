# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2034 # variables here are for the .bats files that load this
# Registry and image-fixture helpers for the e2e tests. Load after helpers: `load helpers` then
# `load registry`. Wraps tests/fixtures/{build.sh,registry.sh} (see tests/fixtures/README.md).
#
# Typical use, once per .bats file:
#
#   setup_file() {
#       load helpers; load registry
#       fixtures_build                      # cached in $BERTH_FIXTURES (default build/fixtures)
#       registry_start "$BATS_FILE_TMPDIR/regA" 5000
#       registry_push_fixtures 127.0.0.1:5000
#       registry_start "$BATS_FILE_TMPDIR/regB" 5001 token 5002
#       registry_push_fixtures 127.0.0.1:5001 berth:secret
#   }
#   teardown_file() { load registry; registry_stop "$BATS_FILE_TMPDIR/regA"; ... }
#
# Inside a test, registry_start also puts the PIDs in AUX_PIDS so berthd_teardown stops them.
# The e2e suite runs in a private network namespace, so fixed loopback ports do not collide
# with the host; free_port gives an unused one when a file needs several.

REGISTRY_E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REGISTRY_REPO="$(cd "$REGISTRY_E2E_DIR/../.." && pwd)"
REGISTRY_SH="$REGISTRY_REPO/tests/fixtures/registry.sh"
# Where tests/fixtures/build.sh writes (and caches) the fixture images.
BERTH_FIXTURES="${BERTH_FIXTURES:-$REGISTRY_REPO/build/fixtures}"
# The token registry's fixed names and the credentials its issuer accepts.
TOKEN_SERVICE=berth-test-registry
TOKEN_ISSUER=berth-test-issuer
TOKEN_USER=berth
TOKEN_PASSWORD=secret

# fixtures_build [--bench]: build (or reuse) the fixtures in $BERTH_FIXTURES; sets FIXTURES.
fixtures_build() {
    FIXTURES="$("$REGISTRY_REPO/tests/fixtures/build.sh" "$@" "$BERTH_FIXTURES" | tail -n1)"
    export FIXTURES BERTH_FIXTURES
}

# fixture_get EXPR: evaluate a Python expression over FIXTURES.json (bound to `j`), e.g.
# fixture_get 'j["hello"]["layers"][1]' or fixture_get 'j["evil"]["l1-dotdot"]["expect"]'.
fixture_get() {
    "${PY:-python3}" -c 'import json,sys; j=json.load(open(sys.argv[2])); v=eval(sys.argv[1]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' \
        "$1" "${FIXTURES:-$BERTH_FIXTURES}/FIXTURES.json"
}

# evil_cases [EXPECT]: the evil case names (all, or those whose expectation is EXPECT:
# refuse, confine or ok), one per line.
evil_cases() {
    "${PY:-python3}" -c 'import json,sys; d=json.load(open(sys.argv[1]))["evil"]; print("\n".join(k for k in sorted(d) if len(sys.argv) < 3 or d[k]["expect"] == sys.argv[2]))' \
        "${FIXTURES:-$BERTH_FIXTURES}/FIXTURES.json" "$@"
}

# free_port: print a TCP port that is free on 127.0.0.1 right now.
free_port() {
    "${PY:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# registry_start DIR PORT [token TPORT | tls PKI]: start docker-registry on ${REGISTRY_HOST:-127.0.0.1}:PORT
# with storage in DIR (and the token issuer on TPORT). Sets REG_ADDR=host:port and REG_DIR.
registry_start() {
    local dir="$1" port="$2"
    "$REGISTRY_SH" start "$@" || return 1
    dir="$(cd "$dir" && pwd)"
    REG_DIR="$dir"
    REG_ADDR="${REGISTRY_HOST:-127.0.0.1}:$port"
    if [[ -n "${BATS_TEST_NAME:-}" ]] && declare -p AUX_PIDS >/dev/null 2>&1; then
        AUX_PIDS+=("$(cat "$dir/registry.pid")")
        [[ ! -f "$dir/token.pid" ]] || AUX_PIDS+=("$(cat "$dir/token.pid")")
    fi
}

# registry_file_start [fixtures_build ARGS...]: the usual setup_file of a file that pulls:
# build the fixtures, start a registry on a free port with storage in $BATS_FILE_TMPDIR/reg and
# push the fixtures to it. Sets and exports REG_PORT, REG (host:port) and REGD (its storage).
registry_file_start() {
    fixtures_build "$@"
    REG_PORT="$(free_port)"
    registry_start "$BATS_FILE_TMPDIR/reg" "$REG_PORT"
    REG="$REG_ADDR"
    REGD="$REG_DIR"
    registry_push_fixtures "$REG" >/dev/null
    export REG_PORT REG REGD
}

# registry_file_stop: the teardown_file matching registry_file_start.
registry_file_stop() {
    registry_stop "$BATS_FILE_TMPDIR/reg" || true
}

# registry_file_hooks [fixtures_build ARGS...]: define setup_file as registry_file_start ARGS
# and teardown_file as registry_file_stop. Call it at the top level after the loads.
# shellcheck disable=SC2317 # the hooks are called by bats
registry_file_hooks() {
    REG_FILE_ARGS=("$@")
    setup_file() {
        registry_file_start "${REG_FILE_ARGS[@]}"
    }
    teardown_file() {
        registry_file_stop
    }
}

# registry_gen_pki PKI IP: a test PKI for an HTTPS registry on IP (tests/fixtures/registry.sh
# gen-pki): ca.crt, server.crt/.key, clientca.crt, client.cert/.key. Start the registry with
# `REGISTRY_HOST=IP registry_start DIR PORT tls PKI` (clientca.crt in PKI: client certs
# required), push with `registry_push SRC IP:PORT/REPO:TAG --dest-cert-dir DIR` when it is.
registry_gen_pki() {
    "$REGISTRY_SH" gen-pki "$@"
}

# registry_stop DIR: stop the registry (and issuer) started with DIR, by their recorded PIDs.
registry_stop() {
    "$REGISTRY_SH" stop "$1"
}

# registry_push SRC HOST:PORT/REPO:TAG [skopeo copy options]: e.g.
# registry_push "oci:$FIXTURES/oci/hello:latest" 127.0.0.1:5000/x/hello:1 [--all] [--dest-creds u:p]
registry_push() {
    "$REGISTRY_SH" push "$@"
}

# registry_push_raw LAYOUT REF HOST:PORT/REPO:TAG: the layout's exact bytes (any media type).
registry_push_raw() {
    "$REGISTRY_SH" push-raw "$@"
}

# registry_push_fixtures HOST:PORT [USER:PASSWORD]: push the standard set (README "Registry
# names"): library/busybox:latest, test/hello, test/multi, and without credentials also
# test/hello-docker, test/multi-docker, test/evil:<case> and test/bench (when built).
registry_push_fixtures() {
    "$REGISTRY_SH" push-fixtures "${FIXTURES:-$BERTH_FIXTURES}" "$@"
}

# registry_blob_path DIR DIGEST: the data file of a blob in DIR's registry storage.
registry_blob_path() {
    "$REGISTRY_SH" blob-path "$@"
}

# registry_tamper DIR DIGEST [FILE]: corrupt a stored blob (first byte flipped, same size), or
# replace it with FILE's bytes. The registry keeps serving it under the old digest.
registry_tamper() {
    "$REGISTRY_SH" tamper "$@"
}

# registry_manifest_digest DIR REPO TAG: the digest TAG points at in DIR's storage.
registry_manifest_digest() {
    "$REGISTRY_SH" manifest-digest "$@"
}

# token_requests DIR: the JSON lines the token issuer recorded (one per request, all headers).
token_requests() {
    cat "$1/token-requests.jsonl"
}

# token_auth_headers DIR: the Authorization header of every recorded token request ("-" when
# a request had none), one per line.
token_auth_headers() {
    "${PY:-python3}" -c 'import json,sys
for l in open(sys.argv[1]):
    h = {k.lower(): v for k, v in json.loads(l)["headers"].items()}
    print(h.get("authorization", "-"))' "$1/token-requests.jsonl"
}

# registry_log_grep DIR PATTERN: true when the registry's log has a line matching PATTERN
# (e.g. count blob GETs: grep -c 'GET /v2/test/hello/blobs/sha256:...' "$DIR/registry.log").
registry_log_grep() {
    grep -qE -- "$2" "$1/registry.log"
}

# registry_blob_gets DIR DIGEST: how many times the registry served the blob (GET, 200).
registry_blob_gets() {
    grep -cE "\"GET /v2/[^ ]+/blobs/$2 HTTP/[0-9.]+\" 200 " "$1/registry.log" || true
}
