#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# HTTPS registries (issue 3): certificate verification and --certs-dir/<host[:port]>/ as
# docker's certs.d (*.crt CAs, *.cert + *.key client pairs), --insecure-registry for an HTTPS
# registry, and client certificates. Loopback registries are always insecure, so the registries
# here listen on a non-loopback address of an interface made in the suite's private network
# namespace.

load helpers
load registry

TLS_IP=10.123.0.1
TLS_PORT=5443  # server certificate only
MTLS_PORT=5444 # client certificate required
PROBE_PORT=5445 # tls_probe.py: records TLS versus plain-HTTP connections
TLS_REG="$TLS_IP:$TLS_PORT"
MTLS_REG="$TLS_IP:$MTLS_PORT"
IMG="$TLS_REG/library/busybox:latest"
MIMG="$MTLS_REG/library/busybox:latest"

# tls_iface_up: an interface holding $TLS_IP (a dummy one, or a veth pair without the dummy
# module). Only inside the suite's network namespace.
tls_iface_up() {
    ip link del tls0 2>/dev/null || true
    if ! ip link add tls0 type dummy 2>/dev/null; then
        ip link add tls0 type veth peer name tls1
        ip link set tls1 up
    fi
    ip addr add "$TLS_IP/24" dev tls0
    ip link set tls0 up
}

setup_file() {
    [[ "${BERTH_E2E_IN_NS:-}" == 1 ]] || skip "needs the e2e network namespace (tests/e2e/run.sh)"
    fixtures_build
    tls_iface_up
    PKI="$BATS_FILE_TMPDIR/pki"
    registry_gen_pki "$PKI" "$TLS_IP"
    # The first registry has no client CA; the second requires a client certificate.
    mkdir -p "$BATS_FILE_TMPDIR/pki-server" "$BATS_FILE_TMPDIR/pki-client"
    cp "$PKI/ca.crt" "$PKI/server.crt" "$PKI/server.key" "$BATS_FILE_TMPDIR/pki-server/"
    cp "$PKI/client.cert" "$PKI/client.key" "$BATS_FILE_TMPDIR/pki-client/"
    REGISTRY_HOST="$TLS_IP" registry_start "$BATS_FILE_TMPDIR/reg" "$TLS_PORT" tls \
        "$BATS_FILE_TMPDIR/pki-server"
    REGISTRY_HOST="$TLS_IP" registry_start "$BATS_FILE_TMPDIR/mreg" "$MTLS_PORT" tls "$PKI"
    registry_push "oci:$FIXTURES/busybox/oci:latest" "$IMG"
    registry_push "oci:$FIXTURES/busybox/oci:latest" "$MIMG" \
        --dest-cert-dir "$BATS_FILE_TMPDIR/pki-client"
    export PKI
}

teardown_file() {
    registry_stop "$BATS_FILE_TMPDIR/reg" || true
    registry_stop "$BATS_FILE_TMPDIR/mreg" || true
    ip link del tls0 2>/dev/null || true
}

setup() {
    berthd_dir
    CERTS="$T/certs.d"
    mkdir -p "$CERTS"
}

teardown() {
    berthd_teardown
}

# trust HOSTPORT FILE...: put FILEs from the PKI into $CERTS/HOSTPORT/.
trust() {
    local hp="$1" f
    shift
    mkdir -p "$CERTS/$hp"
    for f in "$@"; do
        cp "$PKI/$f" "$CERTS/$hp/"
    done
}

# wait_tcp HOST PORT: wait up to 10 s until something accepts connections there.
wait_tcp() {
    local i
    for ((i = 0; i < 200; i++)); do
        if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    fail "nothing listens on $1:$2"
}

# images: the repository:tag list of the store.
images() {
    docker_t images --format '{{.Repository}}:{{.Tag}}'
}

# log_lines DIR: how many lines the registry's log has now.
log_lines() {
    wc -l <"$1/registry.log"
}

# log_since DIR N: the registry's log after its first N lines.
log_since() {
    tail -n +"$(($2 + 1))" "$1/registry.log"
}

@test "tls: CA in certs.d: pull over HTTPS succeeds and the image runs" {
    trust "$TLS_REG" ca.crt
    berthd_start --certs-dir "$CERTS"
    local before
    before="$(log_lines "$BATS_FILE_TMPDIR/reg")"
    run docker_t pull "$IMG"
    assert_status 0
    assert_contains "$output" "Status: Downloaded newer image for $IMG"
    assert_contains "$output" "Digest: sha256:"
    run images
    assert_status 0
    assert_eq "$output" "$TLS_REG/library/busybox:latest"
    run docker_t run --rm "$IMG" echo ok
    assert_status 0
    assert_eq "$output" ok
    # The registry served the manifest to berthd over TLS (its access log names the request).
    log_since "$BATS_FILE_TMPDIR/reg" "$before" | grep -q 'GET /v2/library/busybox/manifests/latest' ||
        fail "the registry did not log berthd's manifest request"
}

@test "tls: no CA: the pull fails on certificate verification, over HTTPS only, nothing stored" {
    berthd_start --certs-dir "$CERTS"
    local before
    before="$(log_lines "$BATS_FILE_TMPDIR/reg")"
    run docker_t pull "$IMG"
    assert_failed
    assert_one_line "$output"
    assert_match "$output" "^Error response from daemon: Get \"https://$TLS_REG/v2/[^\"]*\": tls: failed to verify certificate: .*certificate.* \(the registry's CA goes in $CERTS/$TLS_REG/\*\.crt\)$"
    run images
    assert_status 0
    assert_eq "$output" ""
    run docker_t run --rm "$IMG" echo ok
    assert_failed
    local log
    log="$(log_since "$BATS_FILE_TMPDIR/reg" "$before")"
    # berthd spoke TLS and gave up in the handshake (the registry saw it fail) and never
    # reached the API.
    assert_match "$log" "TLS handshake error from $TLS_IP:[0-9]+: "
    assert_not_contains "$log" "GET /v2/"
    # The registry does not log plain-HTTP requests on its TLS port; a probe that tells TLS
    # from plain HTTP (and would answer either) shows berthd never falls back to plain HTTP.
    aux_start "$PY" "$E2E_DIR/tls_probe.py" --host "$TLS_IP" --port "$PROBE_PORT" \
        --cert "$PKI/server.crt" --key "$PKI/server.key" --log "$T/probe.log"
    wait_tcp "$TLS_IP" "$PROBE_PORT"
    : >"$T/probe.log"
    run docker_t pull "$TLS_IP:$PROBE_PORT/library/busybox:latest"
    assert_failed
    assert_contains "$output" "tls: failed to verify certificate: "
    # ("empty": wait_tcp's own connection, which may be logged late.)
    assert_eq "$(grep -v '^empty$' "$T/probe.log" | sort -u)" tls
    # The probe does see plain HTTP (curl, not berthd).
    curl -sS --max-time 5 "http://$TLS_IP:$PROBE_PORT/v2/" >/dev/null
    assert_contains "$(cat "$T/probe.log")" "plain GET /v2/ HTTP/1.1"
    # The default certs directory is not this one: without --certs-dir the CA here is unused.
    trust "$TLS_REG" ca.crt
    berthd_stop
    berthd_start
    run docker_t pull "$IMG"
    assert_failed
    assert_contains "$output" "tls: failed to verify certificate: "
}

@test "tls: a CA for another host[:port] is not used" {
    trust "$TLS_IP" ca.crt # no port: docker's certs.d names host:port exactly
    trust "$TLS_IP:9999" ca.crt
    berthd_start --certs-dir "$CERTS"
    run docker_t pull "$IMG"
    assert_failed
    assert_contains "$output" "tls: failed to verify certificate: "
    run images
    assert_eq "$output" ""
}

@test "tls: daemon.json certs-dir is read, and --certs-dir wins over it" {
    trust "$TLS_REG" ca.crt
    mkdir -p "$T/empty.d"
    berthd_dir
    printf '{"certs-dir": "%s"}\n' "$CERTS" >"$CONF"
    berthd_start
    run docker_t pull "$IMG"
    assert_status 0
    assert_contains "$output" "Status: Downloaded newer image for $IMG"
    run images
    assert_eq "$output" "$IMG"
    berthd_stop
    rm -rf "$DATA"
    berthd_start --certs-dir "$T/empty.d"
    run docker_t pull "$IMG"
    assert_failed
    assert_contains "$output" "tls: failed to verify certificate: "
    run images
    assert_eq "$output" ""
}

@test "tls: --certs-dir must be absolute; daemon.json certs-dir must be a string" {
    berthd_dir
    run "$BERTHD" --config-file "$CONF" --certs-dir relative/dir -H "unix://$SOCK" \
        --data-root "$DATA" --exec-root "$EXEC" --pidfile "$PIDFILE"
    assert_failed
    assert_contains "$output" "--certs-dir must be an absolute path: relative/dir"
    echo '{"certs-dir": 5}' >"$CONF"
    run "$BERTHD" --config-file "$CONF" -H "unix://$SOCK" --data-root "$DATA" \
        --exec-root "$EXEC" --pidfile "$PIDFILE"
    assert_failed
    assert_contains "$output" '"certs-dir" must be a string'
    run "$BERTHD" --help
    assert_status 0
    assert_contains "$output" '--certs-dir string'
    assert_contains "$output" '/etc/berth/certs.d'
}

@test "tls: --insecure-registry: an HTTPS registry is pulled from without its CA" {
    berthd_start --certs-dir "$CERTS" --insecure-registry "$TLS_REG"
    local before
    before="$(log_lines "$BATS_FILE_TMPDIR/reg")"
    run docker_t pull "$IMG"
    assert_status 0
    assert_contains "$output" "Status: Downloaded newer image for $IMG"
    run images
    assert_eq "$output" "$IMG"
    run docker_t run --rm "$IMG" echo ok
    assert_status 0
    assert_eq "$output" ok
    # Served by the registry, which speaks only TLS: over HTTPS, skipping verification.
    local log
    log="$(log_since "$BATS_FILE_TMPDIR/reg" "$before")"
    assert_contains "$log" "GET /v2/library/busybox/manifests/latest"
}

@test "tls: client certificate: refused without client.cert/client.key, pulled with them" {
    trust "$MTLS_REG" ca.crt
    berthd_start --certs-dir "$CERTS"
    run docker_t pull "$MIMG"
    assert_failed
    assert_one_line "$output"
    assert_match "$output" "^Error response from daemon: Get \"https://$MTLS_REG/v2/[^\"]*\": tls: the registry requires a client certificate and $CERTS/$MTLS_REG has no \*\.cert and \*\.key pair "
    run images
    assert_eq "$output" ""
    berthd_stop
    # A certificate the registry's client CA did not sign is refused, and said so.
    cp "$PKI/server.crt" "$CERTS/$MTLS_REG/other.cert"
    cp "$PKI/server.key" "$CERTS/$MTLS_REG/other.key"
    berthd_start --certs-dir "$CERTS"
    run docker_t pull "$MIMG"
    assert_failed
    assert_one_line "$output"
    assert_contains "$output" "tls: the registry did not accept the client certificate in $CERTS/$MTLS_REG"
    run images
    assert_eq "$output" ""
    berthd_stop
    rm "$CERTS/$MTLS_REG/other.cert" "$CERTS/$MTLS_REG/other.key"
    # certs.d is read at start: the pair takes effect with the next daemon.
    trust "$MTLS_REG" client.cert client.key
    berthd_start --certs-dir "$CERTS"
    run docker_t pull "$MIMG"
    assert_status 0
    assert_contains "$output" "Status: Downloaded newer image for $MIMG"
    run images
    assert_eq "$output" "$MIMG"
    run docker_t run --rm "$MIMG" echo ok
    assert_status 0
    assert_eq "$output" ok
}

@test "tls: client pairs are matched by name, as docker: a lone .cert or .key fails the pull" {
    trust "$MTLS_REG" ca.crt
    cp "$PKI/client.cert" "$CERTS/$MTLS_REG/one.cert"
    cp "$PKI/client.key" "$CERTS/$MTLS_REG/two.key"
    berthd_start --certs-dir "$CERTS"
    run docker_t pull "$MIMG"
    assert_failed
    assert_one_line "$output"
    assert_contains "$output" "Error response from daemon: $CERTS/$MTLS_REG: missing key one.key for client certificate one.cert. CA certificates must use the extension .crt"
    run images
    assert_eq "$output" ""
    berthd_stop
    rm "$CERTS/$MTLS_REG/one.cert"
    berthd_start --certs-dir "$CERTS"
    run docker_t pull "$MIMG"
    assert_failed
    assert_contains "$output" "Error response from daemon: $CERTS/$MTLS_REG: missing client certificate two.cert for key two.key"
    berthd_stop
    # A complete pair under any name works; the CA file may have any *.crt name too.
    mv "$CERTS/$MTLS_REG/two.key" "$CERTS/$MTLS_REG/me.key"
    cp "$PKI/client.cert" "$CERTS/$MTLS_REG/me.cert"
    mv "$CERTS/$MTLS_REG/ca.crt" "$CERTS/$MTLS_REG/my-ca.crt"
    berthd_start --certs-dir "$CERTS"
    run docker_t pull "$MIMG"
    assert_status 0
    assert_contains "$output" "Status: Downloaded newer image for $MIMG"
    run images
    assert_eq "$output" "$MIMG"
}
