#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# Published ports (issue 7): -p with an address, a random host port, -P with exposed ports, UDP
# through the userland proxy, a taken port refused with docker's message, --iptables=false (the
# proxy alone, no rule), nothing left after stop and rm, the port back after kill -9 of the
# daemon with live restore, inspect / ps / docker port / berth port. Runs inside run.sh's private
# network namespace: every address is the namespace's own.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

setup_file() {
    fixtures_build
    gcc -O2 -static -o "$BATS_FILE_TMPDIR/udpecho" "$E2E_DIR/udpecho.c"
}

# httpd NAME PUBLISH...: busybox httpd on port 80 serving "hello NAME" at /.
httpd() {
    local name="$1"
    shift
    docker_t run -d --name "$name" "$@" busybox sh -c \
        "mkdir -p /www && echo hello $name >/www/index.html && exec httpd -f -p 80 -h /www"
}

# listening PORT: true when something listens on TCP PORT in this namespace.
listening() {
    ss -Hltn "sport = :$1" | grep -q .
}

# udp_ask PORT TEXT: send TEXT to 127.0.0.1:PORT over UDP, print the answer (2 s timeout, 3 tries).
udp_ask() {
    "$PY" - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for _ in range(10):
    s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(2048).decode())
        sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
EOF
}

# ---------------------------------------------------------------------------------------------

@test "-p 127.0.0.1:8080:80 reaches busybox httpd; inspect, ps, docker port and berth port show it" {
    ctr_start
    httpd web -p 127.0.0.1:8080:80 >/dev/null
    run get http://127.0.0.1:8080/
    assert_status 0
    assert_eq "$output" "hello web"
    assert_eq "$(docker_t inspect -f '{{json .NetworkSettings.Ports}}' web)" \
        '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]}'
    assert_eq "$(docker_t inspect -f '{{json .HostConfig.PortBindings}}' web)" \
        '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]}'
    assert_eq "$(docker_t ps --format '{{.Ports}}' -f name=web)" "127.0.0.1:8080->80/tcp"
    assert_eq "$(docker_t port web)" "80/tcp -> 127.0.0.1:8080"
    assert_eq "$(docker_t port web 80)" "127.0.0.1:8080"
    assert_eq "$(berth_t port web)" "80/tcp -> 127.0.0.1:8080"
    assert_eq "$(berth_t port web 80/tcp)" "127.0.0.1:8080"
    run berth_t port web 81
    assert_failed
    assert_contains "$output" "No public port '81/tcp' published for web"
    # the raw API: the ps Ports array
    run curl_b 'http://x/containers/json?filters=%7B%22name%22%3A%5B%22web%22%5D%7D'
    assert_eq "$(json_get 'j[0]["Ports"]' <<<"$output")" \
        '[{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]'
    # many connections, sequential and parallel
    local i pids=()
    for ((i = 0; i < 20; i++)); do
        curl -sS --max-time 3 -o /dev/null http://127.0.0.1:8080/ &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || fail "a parallel request failed"
    done
    assert_eq "$(curl -sS --max-time 3 http://127.0.0.1:8080/)" "hello web"
    # the berth CLI's -p
    berth_t run -d --name bweb -p 127.0.0.1:8081:80/tcp busybox sh -c \
        "mkdir -p /www && echo hello bweb >/www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
    run get http://127.0.0.1:8081/
    assert_eq "$output" "hello bweb"
    assert_eq "$(berth_t port bweb)" "80/tcp -> 127.0.0.1:8081"
}

@test "-p 80 gets a random port from the ephemeral range; -P publishes --expose'd ports; ranges" {
    ctr_start
    httpd rnd -p 80 >/dev/null
    local hp lo hi
    hp="$(docker_t port rnd 80 | head -n1 | sed 's/.*://')"
    read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
    [[ "$hp" =~ ^[0-9]+$ && "$hp" -ge "$lo" && "$hp" -le "$hi" ]] ||
        fail "host port '$hp' not in $lo-$hi"
    assert_eq "$(docker_t port rnd 80)" "0.0.0.0:$hp"
    run get "http://127.0.0.1:$hp/"
    assert_eq "$output" "hello rnd"
    # -P with --expose: both exposed ports get a random port, 80 answers
    httpd all -P --expose 80 --expose 81 >/dev/null
    local p80 p81
    p80="$(docker_t port all 80/tcp | sed 's/.*://')"
    p81="$(docker_t port all 81/tcp | sed 's/.*://')"
    [[ -n "$p80" && -n "$p81" && "$p80" != "$p81" ]] || fail "ports '$p80' '$p81'"
    run get "http://127.0.0.1:$p80/"
    assert_eq "$output" "hello all"
    # -P with the image's EXPOSE (a committed image with --change)
    docker_t create --name base busybox true >/dev/null
    docker_t commit --change 'EXPOSE 80' base bb-expose >/dev/null
    docker_t run -d --name img -P bb-expose sh -c \
        "mkdir -p /www && echo hello img >/www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
    local pimg
    pimg="$(docker_t port img 80 | sed 's/.*://')"
    [[ -n "$pimg" ]] || fail "no port for the image's EXPOSE 80: $(docker_t port img)"
    run get "http://127.0.0.1:$pimg/"
    assert_eq "$output" "hello img"
    # exposed but not published: null in inspect, bare in ps
    httpd expo --expose 90 -p 127.0.0.1:8091:80 >/dev/null
    assert_eq "$(docker_t inspect -f '{{json .NetworkSettings.Ports}}' expo)" \
        '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8091"}],"90/tcp":null}'
    assert_match "$(docker_t ps --format '{{.Ports}}' -f name=expo)" '90/tcp'
    # a range: 8081-8082:80-81
    httpd rng -p 127.0.0.1:8081-8082:80-81 >/dev/null
    assert_eq "$(docker_t port rng | sort)" $'80/tcp -> 127.0.0.1:8081\n81/tcp -> 127.0.0.1:8082'
    run get http://127.0.0.1:8081/
    assert_eq "$output" "hello rng"
}

@test "UDP: datagrams relayed both ways per client" {
    ctr_start
    docker_t create --name u1 -p 127.0.0.1:5353:53/udp busybox /udpecho 53 >/dev/null
    docker_t cp "$BATS_FILE_TMPDIR/udpecho" u1:/udpecho
    docker_t start u1 >/dev/null
    wait_log u1 'udpecho ready'
    assert_eq "$(docker_t port u1 53/udp)" "127.0.0.1:5353"
    run udp_ask 5353 one
    assert_status 0
    assert_eq "$output" "echo:one"
    run udp_ask 5353 two
    assert_eq "$output" "echo:two"
}

@test "a taken host port is refused with docker's message; a malformed spec is a 400 at create" {
    ctr_start
    httpd t1 -p 127.0.0.1:8080:80 >/dev/null
    run docker_t run -d --name t2 -p 127.0.0.1:8080:80 busybox sleep 100
    assert_failed
    assert_contains "$output" "Bind for 127.0.0.1:8080 failed: port is already allocated"
    # the first one still serves; the second did not start
    assert_eq "$(get http://127.0.0.1:8080/)" "hello t1"
    assert_eq "$(docker_t inspect -f '{{.State.Running}}' t2)" "false"
    run curl_b -X POST -H 'Content-Type: application/json' \
        -d '{"Image":"busybox","Cmd":["true"],"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"abc"}]}}}' \
        -w '\n%{http_code}' http://x/containers/create
    assert_eq "$(tail -n1 <<<"$output")" 400
    assert_contains "$output" 'invalid port specification: \"abc\"'
}

@test "--iptables=false: the proxy alone serves, no rule appears" {
    # A subnet no other file uses: the suite shares one network namespace, and a bridge another
    # file left behind with the same subnet (network.bats's berthipt, 10.124.0.0/24, kept by
    # live restore) owns the older route, so the proxy's connects went there and never completed.
    ip link del berthpnoipt 2>/dev/null || true
    local nat route
    nat="$(iptables -t nat -S)"
    ctr_start --iptables=false --bip 10.125.0.1/24 --bridge berthpnoipt
    httpd np -p 127.0.0.1:8080:80 >/dev/null
    route="$(ip route get "$(docker_t inspect -f '{{.NetworkSettings.IPAddress}}' np)")"
    [[ "$route" == *" dev berthpnoipt "* ]] ||
        fail "the container is not routed through berthpnoipt: $route; $(ip route)"
    run get http://127.0.0.1:8080/
    assert_eq "$output" "hello np"
    assert_eq "$(iptables -t nat -S)" "$nat"
    docker_t rm -f np >/dev/null
    berthd_stop "$BERTHD_PID"
    ip link del berthpnoipt
}

@test "with iptables: DNAT to the container; listener and rules gone after stop and rm" {
    ctr_start
    httpd d1 -p 8080:80 >/dev/null
    local ip
    ip="$(docker_t inspect -f '{{.NetworkSettings.IPAddress}}' d1)"
    run get http://127.0.0.1:8080/
    assert_eq "$output" "hello d1"
    # the DNAT rule (for non-loopback traffic) and the proxy's listener (for loopback)
    local i
    for ((i = 0; i < 50; i++)); do
        iptables -t nat -S BERTH 2>/dev/null | grep -q -- "--to-destination $ip:80" && break
        sleep 0.1
    done
    iptables -t nat -S BERTH | grep -q -- "--dport 8080 -j DNAT --to-destination $ip:80" ||
        fail "no DNAT rule: $(iptables -t nat -S)"
    iptables -t nat -S PREROUTING | grep -q -- "-j BERTH" || fail "no jump from PREROUTING"
    listening 8080 || fail "no listener on 8080"
    docker_t stop -t 1 d1 >/dev/null
    for ((i = 0; i < 50; i++)); do
        iptables -t nat -S | grep -q -- "--dport 8080 " || break
        sleep 0.1
    done
    ! listening 8080 || fail "8080 still listens after stop: $(ss -ltn)"
    ! iptables -t nat -S | grep -q -- "--dport 8080 " || fail "rule left: $(iptables -t nat -S)"
    run curl -sS --max-time 2 http://127.0.0.1:8080/
    assert_failed
    # started again: back; removed: gone
    docker_t start d1 >/dev/null
    run get http://127.0.0.1:8080/
    assert_eq "$output" "hello d1"
    docker_t rm -f d1 >/dev/null
    for ((i = 0; i < 50; i++)); do
        iptables -t nat -S | grep -q -- "--dport 8080 " || break
        sleep 0.1
    done
    ! listening 8080 || fail "8080 still listens after rm"
    ! iptables -t nat -S | grep -q -- "DNAT" || fail "rule left: $(iptables -t nat -S)"
}

@test "live restore: the port is served again after kill -9 and restart of the daemon" {
    ctr_start
    httpd lr -p 127.0.0.1:8080:80 >/dev/null
    assert_eq "$(get http://127.0.0.1:8080/)" "hello lr"
    kill -KILL "$BERTHD_PID"
    berthd_wait_exit "$BERTHD_PID" 10 || true
    berthd_forget "$BERTHD_PID"
    berthd_start
    run get http://127.0.0.1:8080/
    assert_status 0
    assert_eq "$output" "hello lr"
    assert_eq "$(docker_t port lr)" "80/tcp -> 127.0.0.1:8080"
    # a clean stop with live restore closes berthd's listeners; the next start re-binds them
    berthd_stop "$BERTHD_PID"
    ! listening 8080 || fail "8080 still listens with the daemon down"
    berthd_start
    assert_eq "$(get http://127.0.0.1:8080/)" "hello lr"
    # the restored rule goes with the container
    docker_t rm -f lr >/dev/null
    local i
    for ((i = 0; i < 50; i++)); do
        iptables -t nat -S | grep -q -- "--dport 8080 " || break
        sleep 0.1
    done
    ! iptables -t nat -S | grep -q -- "--dport 8080 " || fail "rule left: $(iptables -t nat -S)"
    ! listening 8080 || fail "8080 still listens after rm"
}

@test "TCP half-close and a large upload: the reply comes after the client's shutdown" {
    ctr_start
    # wc reads the connection to its EOF (the client's half-close), then answers the count
    docker_t run -d --name hc -p 127.0.0.1:8090:7000 busybox nc -ll -p 7000 -e wc -c >/dev/null
    run "$PY" - <<'PYEOF'
import socket, time
# until nc listens inside: the proxy accepts at once, then drops a connection it cannot relay
for _ in range(50):
    try:
        s = socket.create_connection(("127.0.0.1", 8090), timeout=10)
        s.sendall(b"x" * (8 << 20))
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        got = b""
    if got:
        break
    time.sleep(0.1)
print(got.decode().strip())
PYEOF
    assert_status 0
    assert_eq "$output" "$((8 << 20))"
}

@test "without live restore, a daemon shutdown removes the listener and the rules" {
    ctr_start --live-restore=false
    httpd sd -p 8080:80 >/dev/null
    assert_eq "$(get http://127.0.0.1:8080/)" "hello sd"
    local i
    for ((i = 0; i < 50; i++)); do
        iptables -t nat -S | grep -q -- "--dport 8080 " && break
        sleep 0.1
    done
    iptables -t nat -S | grep -q -- "--dport 8080 " || fail "no DNAT rule: $(iptables -t nat -S)"
    berthd_stop "$BERTHD_PID"
    ! listening 8080 || fail "8080 still listens after the shutdown"
    ! iptables -t nat -S | grep -q -- "--dport 8080 " || fail "rule left: $(iptables -t nat -S)"
}
