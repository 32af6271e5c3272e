#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016 # single-quoted container commands
# Published ports reached on the host's loopback with iptables on (issue 7): the connection is
# DNATed straight to the container, no proxy in its way (the bridge routes 127/8 sources:
# route_localnet); and route_localnet opens no way in to the host's own loopback services for
# whatever sits on the bridge. Runs inside run.sh's private network namespace, on a bridge and
# subnet no other file uses.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

BR=berthplo
GW=10.126.0.1

teardown() {
    ip netns del berthatk 2>/dev/null || true
    ctr_teardown
    ip link del "$BR" 2>/dev/null || true
    # the default bridge's rules outlive the daemon (as its bridge does): this file's go here
    iptables -t raw -D PREROUTING -i "$BR" -d 127.0.0.0/8 -j DROP 2>/dev/null || true
    iptables -t nat -D POSTROUTING -s 127.0.0.0/8 -o "$BR" -j MASQUERADE 2>/dev/null || true
}

start_on_own_bridge() {
    ip link del "$BR" 2>/dev/null || true
    ctr_start --bip "$GW/24" --bridge "$BR"
}

# dnat_packets PORT: the packet count of the BERTH chain's DNAT rule for host port PORT.
dnat_packets() {
    iptables -t nat -L BERTH -n -v -x | awk -v p="dpt:$1" '$0 ~ p" " || $0 ~ p"$" {print $1}'
}

@test "with iptables, a loopback connection to a published port is DNATed, not proxied" {
    start_on_own_bridge
    docker_t run -d --name lo1 -p 127.0.0.1:8090:80 busybox sh -c \
        'mkdir -p /www && echo hello lo1 >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
    run get http://127.0.0.1:8090/
    assert_eq "$output" "hello lo1"
    assert_eq "$(cat /proc/sys/net/ipv4/conf/$BR/route_localnet)" 1
    iptables -t nat -S OUTPUT | grep -qx -- "-A OUTPUT -m addrtype --dst-type LOCAL -j BERTH" ||
        fail "no jump from OUTPUT for every local destination: $(iptables -t nat -S OUTPUT)"
    local before after i
    before="$(dnat_packets 8090)"
    [[ -n "$before" ]] || fail "no DNAT rule for 8090: $(iptables -t nat -S BERTH)"
    for ((i = 0; i < 5; i++)); do
        assert_eq "$(curl -sS --max-time 2 http://127.0.0.1:8090/)" "hello lo1"
    done
    after="$(dnat_packets 8090)"
    # each connection's first packet went through the DNAT rule: the kernel carried it
    [[ "$after" -ge $((before + 5)) ]] || fail "DNAT counter went from $before to $after"
    docker_t rm -f lo1 >/dev/null
    for ((i = 0; i < 50; i++)); do
        iptables -t nat -S BERTH | grep -q -- "--dport 8090 " || break
        sleep 0.1
    done
    ! iptables -t nat -S BERTH | grep -q -- "--dport 8090 " || fail "rule left after rm"
    run curl -sS --max-time 2 http://127.0.0.1:8090/
    assert_failed
}

@test "route_localnet opens no way from the bridge to the host's loopback services" {
    start_on_own_bridge
    # a service only the host's loopback should reach
    "$PY" - <<'EOF' &
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9977))
s.listen(8)
s.settimeout(20)
try:
    while True:
        c, _ = s.accept()
        c.sendall(b"secret\n")
        c.close()
except socket.timeout:
    pass
EOF
    local srv=$!
    # something on the bridge that crafts packets to 127.0.0.1 (as a container with
    # CAP_NET_RAW could): 127.0.0.1 routed via the gateway
    ip netns add berthatk
    ip link add berthatk0 type veth peer name berthatk1
    ip link set berthatk1 netns berthatk
    ip link set berthatk0 master "$BR" up
    nsenter --net=/run/netns/berthatk sh -c "
        ip addr add 10.126.0.250/24 dev berthatk1 && ip link set berthatk1 up &&
        echo 1 >/proc/sys/net/ipv4/conf/berthatk1/route_localnet &&
        echo 1 >/proc/sys/net/ipv4/conf/all/route_localnet &&
        ip route add 127.0.0.1/32 via $GW dev berthatk1" || fail "attacker setup failed"
    # (its lo stays down: no local 127/8 routes there)
    local probe='import socket, sys
s = socket.create_connection(("127.0.0.1", 9977), timeout=2)
sys.stdout.write(s.recv(64).decode())'
    run nsenter --net=/run/netns/berthatk "$PY" -c "$probe"
    assert_failed
    [[ "$output" != *secret* ]] || fail "reached the host's loopback service: $output"
    # the guard is what stops it: without it the same probe gets through
    iptables -t raw -D PREROUTING -i "$BR" -d 127.0.0.0/8 -j DROP
    run nsenter --net=/run/netns/berthatk "$PY" -c "$probe"
    iptables -t raw -A PREROUTING -i "$BR" -d 127.0.0.0/8 -j DROP
    assert_eq "$output" "secret"
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
}
