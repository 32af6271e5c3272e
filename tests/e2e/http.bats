#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The HTTP/1.1 layer under hostile and busy clients (TEST-PLAN A3, A4, A6, A8, A12).

load helpers

setup() {
    berthd_start
}

teardown() {
    berthd_teardown
}

# alive: the daemon process is running and answers /_ping.
alive() {
    pid_running "$BERTHD_PID" || fail "berthd (pid $BERTHD_PID) died"
    assert_eq "$(curl_b http://x/_ping)" OK
}

# status_line TEXT: the first line, without CR.
status_line() {
    head -n1 <<<"$1" | tr -d '\r'
}

# statuses TEXT: the status codes of every response in a raw reply stream, space-separated.
statuses() {
    grep -ao 'HTTP/1\.[01] [0-9][0-9][0-9] ' <<<"$1" | awk '{printf "%s ", $2}'
}

# split_responses TEXT: the raw reply stream with each response starting on its own line.
split_responses() {
    tr -d '\r' <<<"$1" | sed 's,HTTP/1\.1 [0-9][0-9][0-9] ,\n&,g'
}

# body_of TEXT: what follows the first blank line, minus raw_http's '#rawhttp:' marker.
body_of() {
    tr -d '\r' <<<"$1" | sed '1,/^$/d' | grep -v '^#rawhttp:'
}

# expect_400_close REQUEST-PRINTF-FORMAT: the request gets 400 with a JSON message and the
# connection is closed.
expect_400_close() {
    run raw_http --mark < <(printf "$1")
    assert_status 0
    assert_match "$(status_line "$output")" "^HTTP/1\.1 400 "
    assert_eq "$(header Content-Type <<<"$output")" "application/json"
    local msg
    msg="$(body_of "$output" | json_get 'j["message"]')" || fail "no JSON message in: $output"
    [[ -n "$msg" ]] || fail "empty message in: $output"
    assert_match "$output" "^#rawhttp: (closed|reset)\$"
}

@test "malformed request lines get 400 JSON, the connection closes, the daemon lives" {
    expect_400_close 'GARBAGE\r\n\r\n'
    expect_400_close '\x00\x01\xfe\xff\x80junk\r\n\r\n'
    expect_400_close 'GET /_ping HTTP/x.1\r\nHost: x\r\n\r\n'
    expect_400_close 'G@T /_ping HTTP/1.1\r\nHost: x\r\n\r\n'
    expect_400_close 'GET /_ping HTTP/1.1\r\nNoColonHere\r\n\r\n'
    expect_400_close 'GET /_ping HTTP/1.1\r\nX-A\x01: b\r\n\r\n'
    alive
}

@test "whitespace in or before a header name gets 400 (RFC 9112 section 5.1, smuggling)" {
    expect_400_close 'GET /_ping HTTP/1.1\r\nHost : x\r\n\r\n'
    expect_400_close 'GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n'
    expect_400_close 'GET /_ping HTTP/1.1\r\nHo st: x\r\n\r\n'
    alive
}

@test "bad request framing (chunk size, Content-Length) gets 400 and the daemon lives" {
    expect_400_close 'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n'
    expect_400_close 'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}'
    expect_400_close 'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'
    # A Content-Length that overflows 64 bits: 400, or 413 as too large; never accepted.
    run raw_http --mark < <(printf 'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}')
    assert_match "$(status_line "$output")" "^HTTP/1\.1 (400|413) "
    alive
}

@test "a header section over 64 KiB gets 431; 32 KiB is fine" {
    run raw_http --mark < <("$PY" -c 'import sys; sys.stdout.write("GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 70000 + "\r\n\r\n")')
    assert_match "$(status_line "$output")" "^HTTP/1\.1 431 "
    # 10,000 small headers (about 150 KiB).
    run raw_http --mark < <("$PY" -c 'import sys; sys.stdout.write("GET /_ping HTTP/1.1\r\nHost: x\r\n" + "".join("X-H%05d: v\r\n" % i for i in range(10000)) + "\r\n")')
    assert_match "$(status_line "$output")" "^HTTP/1\.1 431 "
    # A 1 MiB header line, sent without its end.
    run raw_http --mark < <("$PY" -c 'import sys; sys.stdout.write("GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: " + "b" * (1 << 20))')
    assert_match "$(status_line "$output")" "^HTTP/1\.1 431 "
    # docker sends large X-Registry-Auth headers; 32 KiB must pass.
    run raw_http < <("$PY" -c 'import sys; sys.stdout.write("GET /_ping HTTP/1.1\r\nHost: x\r\nX-Registry-Auth: " + "c" * 32768 + "\r\n\r\n")')
    assert_match "$(status_line "$output")" "^HTTP/1\.1 200 "
    alive
}

@test "a 100 MB Content-Length gets 413 before the body is sent" {
    local t0 t1
    t0="$(date +%s%N)"
    run raw_http --mark --timeout 5 < <(printf 'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n')
    t1="$(date +%s%N)"
    assert_match "$(status_line "$output")" "^HTTP/1\.1 413 "
    assert_eq "$(header Content-Type <<<"$output")" "application/json"
    body_of "$output" | json_get 'j["message"]' >/dev/null || fail "no JSON message: $output"
    [[ $(((t1 - t0) / 1000000)) -lt 5000 ]] || fail "413 took more than 5 s"
    alive
}

@test "a chunked JSON body over 8 MiB gets 413 and the daemon stops reading it" {
    run e2e_py bigbody "$SOCK" /containers/create 64
    assert_status 0
    assert_match "$output" "^status=413 "
    local sent
    sent="$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$output")"
    # It must not have swallowed all 64 MiB before answering.
    [[ "$sent" -lt $((32 * 1024 * 1024)) ]] || fail "daemon read $sent bytes before answering 413"
    alive
}

@test "a body under the limit is read, not refused" {
    # 1 MiB to a route that does not exist: 404, not 413.
    run raw_http < <("$PY" -c '
import sys
body = "[" + " " * (1024 * 1024 - 2) + "]"
sys.stdout.write("POST /nosuch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))')
    assert_match "$(status_line "$output")" "^HTTP/1\.1 404 "
    # 100 KiB then a pipelined ping: the body is consumed and the connection stays usable.
    run raw_http < <("$PY" -c '
import sys
body = "[" + " " * (100 * 1024 - 2) + "]"
sys.stdout.write("POST /nosuch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%sGET /_ping HTTP/1.1\r\nHost: x\r\n\r\n" % (len(body), body))')
    assert_eq "$(statuses "$output")" "404 200 "
    [[ "$output" == *OK ]] || fail "ping after the body was not answered: $output"
}

@test "pipelined requests on one connection are answered in order" {
    run raw_http < <(printf 'GET /version HTTP/1.1\r\nHost: x\r\n\r\nGET /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /nosuch HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.44/_ping HTTP/1.1\r\nHost: x\r\n\r\n')
    assert_status 0
    assert_eq "$(statuses "$output")" "200 200 404 200 "
    # Bodies in order: version JSON, OK, page not found, OK.
    local bodies
    bodies="$(split_responses "$output" | awk '
        /^HTTP\/1\.1 / { n++; inbody = 0; next }
        /^$/ && !inbody { inbody = 1; next }
        inbody && n > 0 { b[n] = b[n] $0 }
        END { for (i = 1; i <= n; i++) printf "%s|", (b[i] ~ /ApiVersion/ ? "V" : b[i] ~ /page not found/ ? "NF" : b[i]) }')"
    assert_eq "$bodies" "V|OK|NF|OK|"
    [[ "$output" == *OK ]] || fail "last response is not the ping: $output"
}

@test "a request sent one byte per write is parsed" {
    run raw_http --split < <(printf 'GET /v1.44/version HTTP/1.1\r\nHost: x\r\n\r\n')
    assert_match "$(status_line "$output")" "^HTTP/1\.1 200 "
    assert_contains "$output" '"ApiVersion"'
}

@test "keep-alive: curl reuses the connection" {
    run curl -sS -v --max-time 10 --unix-socket "$SOCK" http://x/_ping http://x/version http://x/_ping
    assert_status 0
    assert_contains "$output" "Re-using existing connection"
    assert_contains "$output" '"ApiVersion"'
}

@test "HTTP/1.0 and Connection: close get one answer and a closed connection" {
    run raw_http --mark --timeout 5 < <(printf 'GET /_ping HTTP/1.0\r\n\r\n')
    assert_match "$(status_line "$output")" "^HTTP/1\.[01] 200 "
    assert_match "$output" "^#rawhttp: closed\$"
    run raw_http --mark --timeout 5 < <(printf 'GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
    assert_match "$(status_line "$output")" "^HTTP/1\.1 200 "
    assert_eq "$(grep -c '^HTTP/1.1' <<<"$output")" 1
    assert_match "$output" "^#rawhttp: closed\$"
}

@test "a half-closed request connection does not hang the daemon" {
    run raw_http --mark --shut --timeout 5 < <(printf 'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
    assert_status 0
    assert_match "$output" "^#rawhttp: (closed|reset)\$"
    alive
}

@test "500 concurrent connections are all answered" {
    run e2e_py burst "$SOCK" 500
    assert_status 0
    assert_eq "$output" "answered=500 of 500"
    alive
}

@test "1000 idle connections do not block a new client, and their fds are released" {
    local before after i
    before="$(ls "/proc/$BERTHD_PID/fd" | wc -l)"
    run e2e_py hold "$SOCK" 1000 idle --pid "$BERTHD_PID"
    assert_status 0
    assert_match "$output" "^ping=200 "
    local secs
    secs="$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' <<<"$output")"
    awk -v s="$secs" 'BEGIN { exit !(s < 2.0) }' || fail "new client took ${secs}s: $output"
    # After the clients close, the daemon's fd count returns to its baseline.
    for ((i = 0; i < 40; i++)); do
        after="$(ls "/proc/$BERTHD_PID/fd" | wc -l)"
        [[ "$after" -le $((before + 2)) ]] && break
        sleep 0.1
    done
    [[ "$after" -le $((before + 2)) ]] || fail "fds: $before before, $after after closing 1000 clients"
    alive
}

@test "slowloris: 50 partial requests do not delay a new client" {
    run e2e_py hold "$SOCK" 50 partial
    assert_status 0
    assert_match "$output" "^ping=200 "
    local secs
    secs="$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' <<<"$output")"
    awk -v s="$secs" 'BEGIN { exit !(s < 2.0) }' || fail "new client took ${secs}s: $output"
    run e2e_py hold "$SOCK" 500 slow
    assert_status 0
    assert_match "$output" "^ping=200 "
    secs="$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' <<<"$output")"
    awk -v s="$secs" 'BEGIN { exit !(s < 2.0) }' || fail "new client took ${secs}s: $output"
    alive
}

@test "clients vanishing mid-request or mid-response do not kill the daemon" {
    run e2e_py disconnects "$SOCK" 20
    assert_status 0
    assert_match "$output" "^ping=200 "
    run e2e_py disconnects "$SOCK" 20 --rst
    assert_status 0
    assert_match "$output" "^ping=200 "
    alive
}

@test "odd paths never reach a real route by accident" {
    local p code
    # A NUL or an encoded slash must not be cut or decoded into /_ping.
    for p in '/_ping%00' '/_ping%00x' '/v1.44%2F_ping' '/v1.4a/_ping' '/v/_ping' '/v1.44/v1.44/_ping' '/vx/_ping'; do
        code="$(http_status "http://x$p" --path-as-is)"
        [[ "$code" == 404 || "$code" == 400 ]] || fail "GET $p -> $code, expected 404 or 400"
    done
    # A 100 KiB path: refused with a 4xx, never a crash.
    code="$(http_status "http://x/$(head -c 102400 /dev/zero | tr '\0' a)")"
    [[ "$code" =~ ^4[0-9][0-9]$ ]] || fail "100 KiB path -> $code"
    alive
}

@test "running out of file descriptors: no busy loop, and service resumes" {
    berthd_stop
    BERTHD_NOFILE=128 berthd_start
    assert_match "$(grep 'Max open files' "/proc/$BERTHD_PID/limits")" "[[:space:]]128[[:space:]]"
    local t0 t1
    t0="$(awk '{print $14 + $15}' "/proc/$BERTHD_PID/stat")"
    run e2e_py flood "$SOCK" 300 3
    assert_status 0
    t1="$(awk '{print $14 + $15}' "/proc/$BERTHD_PID/stat")"
    # Less than 1 s of CPU (100 ticks) in the 3 s the daemon sat at its fd limit.
    [[ $((t1 - t0)) -lt 100 ]] || fail "daemon burnt $((t1 - t0)) ticks at EMFILE ($output)"
    echo "# flood: $output" >&3
    wait_ping "$SOCK" 5 "$BERTHD_PID"
    alive
}
