#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# User-defined networks (issue 7): create/ls/inspect/rm/prune with docker's shapes and errors,
# an own bridge per network, --network/--network-alias/--ip, the embedded DNS server at
# 127.0.0.11 (names, aliases, short ids; other names forwarded to the host's resolvers), no
# name resolution on the default bridge, restore after kill -9, nothing left after removal;
# rename seen by the DNS, orphan veths swept at start, prune filters (until, label, label!),
# route dumps off the loop with no subnet handed out twice, published ports on a user network.
# Runs inside run.sh's private network namespace.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

# teardown: containers first (ctr_teardown), then the networks this test made, so no bridge or
# rule is left for the next test.
# shellcheck disable=SC2317 # called by bats
teardown() {
    local ids
    if [[ -n "${BERTHD_PID:-}" ]] && pid_running "$BERTHD_PID"; then
        ids="$(docker_t ps -aq --no-trunc 2>/dev/null)" || true
        # shellcheck disable=SC2086 # one id per word
        [[ -z "$ids" ]] || docker_t rm -f $ids >/dev/null 2>&1 || true
        docker_t network prune -f >/dev/null 2>&1 || true
    fi
    ctr_teardown
    local l
    for l in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | grep '^br-'); do
        ip link del "$l" 2>/dev/null || true
    done
}

# bridges: the br-* bridges of this namespace.
bridges() {
    ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | grep '^br-' || true
}

net_ip_of() { # NAME NETWORK
    docker_t inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

# ---------------------------------------------------------------------------------------------

@test "network create, ls, inspect, rm: docker's shapes and its own bridge" {
    ctr_start
    run docker_t network create --label team=a net1
    assert_status 0
    local id="$output"
    [[ "$id" =~ ^[0-9a-f]{64}$ ]] || fail "id: $id"
    bridges | grep -qx "br-${id:0:12}" || fail "no bridge br-${id:0:12}: $(bridges)"
    assert_eq "$(docker_t network inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}}' net1)" \
        "net1 bridge local false"
    assert_eq "$(docker_t network inspect -f '{{.Labels.team}}' net1)" a
    local subnet gw
    subnet="$(docker_t network inspect -f '{{(index .IPAM.Config 0).Subnet}}' net1)"
    gw="$(docker_t network inspect -f '{{(index .IPAM.Config 0).Gateway}}' net1)"
    [[ -n "$subnet" && "$subnet" != "$(docker_t network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge)" ]] ||
        fail "subnet $subnet"
    ip -o -4 addr show dev "br-${id:0:12}" | grep -qF " $gw/" || fail "bridge lacks $gw"
    run docker_t network ls --format '{{.Name}}'
    assert_contains "$output" net1
    run docker_t network ls -q --filter label=team=a
    assert_eq "$output" "${id:0:12}"
    run docker_t network ls -q --filter type=custom
    assert_eq "$output" "${id:0:12}"
    # duplicate name
    run docker_t network create net1
    assert_failed
    assert_contains "$output" "network with name net1 already exists"
    # an unknown driver
    run docker_t network create -d overlay net2
    assert_failed
    assert_contains "$output" overlay
    docker_t network rm net1 >/dev/null
    run docker_t network inspect net1
    assert_failed
    assert_contains "$output" "network net1 not found"
    [[ -z "$(bridges)" ]] || fail "bridge left: $(bridges)"
}

@test "network create with subnet, gateway, ip-range; --ip honoured and refused when taken" {
    ctr_start
    docker_t network create --subnet 10.77.0.0/24 --gateway 10.77.0.254 --ip-range 10.77.0.128/25 n2 >/dev/null
    assert_eq "$(docker_t network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}}' n2)" \
        "10.77.0.0/24 10.77.0.254 10.77.0.128/25"
    docker_t run -d --name ca --network n2 busybox sleep 1000 >/dev/null
    assert_eq "$(net_ip_of ca n2)" 10.77.0.128
    docker_t run -d --name cb --network n2 --ip 10.77.0.7 busybox sleep 1000 >/dev/null
    assert_eq "$(net_ip_of cb n2)" 10.77.0.7
    run docker_t exec cb ip -o -4 addr show dev eth0
    assert_contains "$output" "10.77.0.7/24"
    run docker_t run -d --name cc --network n2 --ip 10.77.0.7 busybox sleep 1000
    assert_failed
    assert_contains "$output" "10.77.0.7"
    # --ip on the default bridge: docker's refusal
    run docker_t run -d --name cd --ip 172.17.0.50 busybox sleep 1000
    assert_failed
    assert_contains "$output" "user specified IP address is supported on user defined networks only"
    # in use: 409 with docker's message
    run docker_t network rm n2
    assert_failed
    assert_contains "$output" "has active endpoints"
    # predefined: refused
    run docker_t network rm bridge
    assert_failed
    assert_contains "$output" "bridge is a pre-defined network and cannot be removed"
    run http_status http://x/networks/bridge -X DELETE
    assert_eq "$output" 403
    run http_status http://x/networks/nosuch -X DELETE
    assert_eq "$output" 404
    # an unknown network: as dockerd, create succeeds and start answers 404
    docker_t create --name ce --network nosuch busybox true >/dev/null
    run docker_t start ce
    assert_failed
    assert_contains "$output" "network nosuch not found"
}

@test "containers on a user network resolve each other by name, alias and short id" {
    ctr_start
    docker_t network create dnsnet >/dev/null
    docker_t run -d --name ca --network dnsnet busybox sleep 1000 >/dev/null
    docker_t run -d --name cb --network dnsnet --network-alias bee busybox sleep 1000 >/dev/null
    run docker_t exec ca cat /etc/resolv.conf
    assert_contains "$output" "nameserver 127.0.0.11"
    run docker_t exec ca ping -c1 -W2 cb
    assert_status 0
    assert_contains "$output" "$(net_ip_of cb dnsnet)"
    run docker_t exec ca ping -c1 -W2 bee
    assert_status 0
    local bid
    bid="$(docker_t inspect -f '{{.Id}}' cb)"
    run docker_t exec ca nslookup "${bid:0:12}" 127.0.0.11
    assert_status 0
    assert_contains "$output" "$(net_ip_of cb dnsnet)"
    run docker_t exec ca nslookup nosuch 127.0.0.11
    assert_failed
    # TCP as well: a length-prefixed query from inside ca's namespace
    local key
    key="$(docker_t inspect -f '{{.NetworkSettings.SandboxKey}}' ca)"
    run nsenter --net="$key" "$PY" -c '
import socket, struct, sys
name = sys.argv[1].encode()
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + bytes([len(name)]) + name + b"\0" + struct.pack(">HH", 1, 1)
s = socket.create_connection(("127.0.0.11", 53), timeout=3)
s.sendall(struct.pack(">H", len(q)) + q)
n = struct.unpack(">H", s.recv(2))[0]
a = b""
while len(a) < n:
    a += s.recv(n - len(a))
print(socket.inet_ntoa(a[-4:]) if struct.unpack(">H", a[6:8])[0] else "none")' cb
    assert_status 0
    assert_eq "$output" "$(net_ip_of cb dnsnet)"
    assert_eq "$(docker_t inspect -f '{{json (index .NetworkSettings.Networks "dnsnet").Aliases}}' cb)" '["bee"]'
    assert_eq "$(docker_t inspect -f '{{json (index .NetworkSettings.Networks "dnsnet").DNSNames}}' cb)" \
        "[\"cb\",\"bee\",\"${bid:0:12}\"]"
    run docker_t ps --format '{{.Names}} {{.Networks}}'
    assert_contains "$output" "cb dnsnet"
    # the network lists its containers
    run docker_t network inspect -f '{{range .Containers}}{{.Name}} {{end}}' dnsnet
    assert_contains "$output" "ca "
    assert_contains "$output" "cb "
}

@test "no name resolution on the default bridge" {
    ctr_start
    docker_t run -d --name cx busybox sleep 1000 >/dev/null
    docker_t run -d --name cy busybox sleep 1000 >/dev/null
    run docker_t exec cx cat /etc/resolv.conf
    assert_not_contains "$output" "127.0.0.11"
    run docker_t exec cx ping -c1 -W2 cy
    assert_failed
    assert_contains "$output" "bad address"
}

@test "other names are forwarded to the host's resolvers (BERTH_RESOLV_CONF) through 127.0.0.11" {
    berthd_dir
    printf 'nameserver 127.0.0.1\nsearch example\noptions ndots:1\n' >"$T/resolv.conf"
    aux_start "$PY" "$E2E_DIR/dns_responder.py" 127.0.0.1
    export BERTH_RESOLV_CONF="$T/resolv.conf" # test only: the host resolv.conf berthd reads
    ctr_start
    docker_t network create fwd >/dev/null
    docker_t run -d --name cf --network fwd busybox sleep 1000 >/dev/null
    run docker_t exec cf cat /etc/resolv.conf
    assert_contains "$output" "nameserver 127.0.0.11"
    assert_contains "$output" "search example"
    assert_contains "$output" "options ndots:1"
    assert_not_contains "$output" "127.0.0.1
"
    run docker_t exec cf nslookup example.test 127.0.0.11
    assert_status 0
    assert_contains "$output" "10.1.2.3"
    run docker_t exec cf nslookup nothing.test 127.0.0.11
    assert_failed
    assert_contains "$output" "NXDOMAIN"
}

@test "connect and disconnect a running container: eth1 appears and goes, reachability follows" {
    ctr_start
    docker_t network create --subnet 10.88.0.0/24 n1 >/dev/null
    docker_t network create --subnet 10.89.0.0/24 n2 >/dev/null
    docker_t run -d --name c1 --network n1 busybox sleep 1000 >/dev/null
    docker_t run -d --name c2 --network n2 busybox sleep 1000 >/dev/null
    local ip2
    ip2="$(net_ip_of c2 n2)"
    run docker_t exec c1 ping -c1 -W1 "$ip2"
    assert_failed
    docker_t network connect --alias one n2 c1
    run docker_t exec c1 ip -o -4 addr show dev eth1
    assert_status 0
    assert_contains "$output" "10.89.0."
    run docker_t exec c1 ping -c1 -W2 "$ip2"
    assert_status 0
    # c2 (only on n2) resolves c1 by its name and its alias there
    run docker_t exec c2 ping -c1 -W2 one
    assert_status 0
    assert_contains "$output" "$(net_ip_of c1 n2)"
    assert_eq "$(docker_t inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' c1)" "n1 n2 "
    run docker_t network inspect -f '{{range .Containers}}{{.Name}} {{end}}' n2
    assert_contains "$output" "c1 "
    # twice is refused
    run docker_t network connect n2 c1
    assert_failed
    assert_contains "$output" "already exists in network n2"
    docker_t network disconnect n2 c1
    run docker_t exec c1 ip -o link show dev eth1
    assert_failed
    run docker_t exec c1 ping -c1 -W1 "$ip2"
    assert_failed
    run docker_t exec c2 nslookup one 127.0.0.11
    assert_failed
    # the network is free again
    docker_t rm -f c2 >/dev/null
    docker_t network rm n2 >/dev/null
}

@test "--network container: shares the other's interfaces and name files" {
    ctr_start
    docker_t network create shared >/dev/null
    docker_t run -d --name owner --network shared busybox sleep 1000 >/dev/null
    docker_t run -d --name guest --network container:owner busybox sleep 1000 >/dev/null
    assert_eq "$(docker_t exec guest ip -o -4 addr show dev eth0 | awk '{print $4}')" \
        "$(docker_t exec owner ip -o -4 addr show dev eth0 | awk '{print $4}')"
    run docker_t exec guest cat /etc/resolv.conf
    assert_contains "$output" "nameserver 127.0.0.11"
    run docker_t exec guest nslookup owner 127.0.0.11
    assert_status 0
    docker_t create --name stopped1 busybox true >/dev/null
    docker_t create --name joiner --network container:stopped1 busybox sleep 1 >/dev/null
    run docker_t start joiner
    assert_failed
    assert_contains "$output" "cannot join network of a non running container"
    # the guest going leaves the owner's network alone
    docker_t rm -f guest >/dev/null
    run docker_t exec owner ip -o link show dev eth0
    assert_status 0
}

@test "a user network and its containers survive kill -9 of the daemon; DNS answers again" {
    ctr_start
    docker_t network create --label keep=1 persist >/dev/null
    docker_t run -d --name p1 --network persist busybox sleep 1000 >/dev/null
    docker_t run -d --name p2 --network persist --network-alias pee busybox sleep 1000 >/dev/null
    local ip2 id
    ip2="$(net_ip_of p2 persist)"
    id="$(docker_t network inspect -f '{{.Id}}' persist)"
    kill -KILL "$BERTHD_PID"
    berthd_wait_exit "$BERTHD_PID" 10 || true
    berthd_forget "$BERTHD_PID"
    berthd_start
    assert_eq "$(docker_t network inspect -f '{{.Id}} {{.Labels.keep}}' persist)" "$id 1"
    assert_eq "$(net_ip_of p2 persist)" "$ip2"
    run docker_t exec p1 nslookup pee 127.0.0.11
    assert_status 0
    assert_contains "$output" "$ip2"
    run docker_t exec p1 ping -c1 -W2 p2
    assert_status 0
    # a new container gets another address
    docker_t run -d --name p3 --network persist busybox sleep 1000 >/dev/null
    [[ "$(net_ip_of p3 persist)" != "$ip2" && "$(net_ip_of p3 persist)" != "$(net_ip_of p1 persist)" ]] ||
        fail "address reused"
    run docker_t network rm persist
    assert_failed
    assert_contains "$output" "has active endpoints"
}

@test "rm -f of everything, then network rm and prune leave no bridge, veth or iptables rule" {
    ctr_start
    docker_t network create gone1 >/dev/null
    docker_t network create --internal gone2 >/dev/null
    docker_t run -d --name g1 --network gone1 busybox sleep 1000 >/dev/null
    docker_t run -d --name g2 --network gone2 busybox sleep 1000 >/dev/null
    local b1 b2
    b1="br-$(docker_t network inspect -f '{{.Id}}' gone1 | cut -c1-12)"
    b2="br-$(docker_t network inspect -f '{{.Id}}' gone2 | cut -c1-12)"
    assert_eq "$(docker_t network inspect -f '{{.Internal}}' gone2)" true
    if command -v iptables >/dev/null; then
        iptables -S FORWARD | grep -qF "$b1" || fail "no FORWARD rule for $b1"
        iptables -t nat -S POSTROUTING | grep -qF "$b1" || fail "no MASQUERADE for $b1"
        # internal: no NAT
        if iptables -t nat -S POSTROUTING | grep -qF "$b2"; then
            fail "internal network has NAT"
        fi
    fi
    docker_t rm -f g1 g2 >/dev/null
    docker_t network rm gone1 >/dev/null
    run docker_t network prune -f
    assert_status 0
    assert_contains "$output" gone2
    [[ -z "$(bridges)" ]] || fail "bridges left: $(bridges)"
    run ip -o link show type veth
    assert_eq "$output" ""
    if command -v iptables >/dev/null; then
        if iptables-save | grep -E "$b1|$b2"; then
            fail "iptables rules left"
        fi
    fi
    run docker_t network ls -q --filter type=custom
    assert_eq "$output" ""
}

@test "berth network CLI: create, ls, inspect, connect, disconnect, rm, prune" {
    ctr_start
    run berth_t network create --subnet 10.66.0.0/24 --label a=b bnet
    assert_status 0
    local id="$output"
    run berth_t network ls --filter name=bnet --format '{{.ID}} {{.Name}} {{.Driver}}'
    assert_eq "$output" "${id:0:12} bnet bridge"
    run berth_t network ls -q --no-trunc --filter label=a=b
    assert_eq "$output" "$id"
    run berth_t network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' bnet
    assert_eq "$output" 10.66.0.0/24
    run berth_t network inspect bnet
    assert_contains "$output" '"Name": "bnet"'
    berth_t run -d --name bc1 --network bnet --ip 10.66.0.9 --network-alias bee busybox sleep 1000 >/dev/null
    assert_eq "$(net_ip_of bc1 bnet)" 10.66.0.9
    berth_t run -d --name bc2 busybox sleep 1000 >/dev/null
    run berth_t network connect --alias two --ip 10.66.0.20 bnet bc2
    assert_status 0
    assert_eq "$(net_ip_of bc2 bnet)" 10.66.0.20
    run docker_t exec bc1 ping -c1 -W2 two
    assert_status 0
    run berth_t network disconnect bnet bc2
    assert_status 0
    run berth_t network rm bnet
    assert_failed
    assert_contains "$output" "has active endpoints"
    berth_t rm -f bc1 >/dev/null
    run berth_t network rm bnet
    assert_status 0
    assert_eq "$output" bnet
    berth_t network create p1 >/dev/null
    run berth_t network prune -f
    assert_contains "$output" "Deleted Networks:"
    assert_contains "$output" p1
}

@test "connect and disconnect on a created container are recorded and applied at start" {
    ctr_start
    docker_t network create --subnet 10.91.0.0/24 first >/dev/null
    docker_t network create --subnet 10.92.0.0/24 second >/dev/null
    docker_t create --name cr --network first busybox sleep 1000 >/dev/null
    docker_t network connect --ip 10.92.0.50 --alias sec second cr
    assert_eq "$(docker_t inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' cr)" "first second "
    run docker_t network connect second cr
    assert_failed
    assert_contains "$output" "already exists in network second"
    docker_t start cr >/dev/null
    run docker_t exec cr ip -o -4 addr show dev eth1
    assert_status 0
    assert_contains "$output" "10.92.0.50/24"
    docker_t run -d --name peer --network second busybox sleep 1000 >/dev/null
    run docker_t exec peer ping -c1 -W2 sec
    assert_status 0
    assert_contains "$output" 10.92.0.50
    # recorded disconnect: gone after a restart
    docker_t stop -t 0 cr >/dev/null
    docker_t network disconnect second cr
    docker_t start cr >/dev/null
    run docker_t exec cr ip -o link show dev eth1
    assert_failed
}

@test "-p 127.0.0.1:PORT:80 on a user network reaches busybox httpd; the port goes with the container" {
    ctr_start
    docker_t network create pubnet >/dev/null
    docker_t run -d --name pweb --network pubnet -p 127.0.0.1:18080:80 busybox sh -c \
        'mkdir -p /www && echo hello pweb >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
    local body="" end=$((SECONDS + 10))
    while ((SECONDS < end)); do
        body="$(curl -sS --max-time 2 http://127.0.0.1:18080/ 2>/dev/null)" && break
        sleep 0.1
    done
    assert_eq "$body" "hello pweb"
    assert_eq "$(docker_t port pweb 80)" "127.0.0.1:18080"
    assert_eq "$(docker_t inspect -f '{{json .NetworkSettings.Ports}}' pweb)" \
        '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"18080"}]}'
    # kept across kill -9 of the daemon (the listener re-bound at start)
    kill -KILL "$BERTHD_PID"
    berthd_wait_exit "$BERTHD_PID" 10 || true
    berthd_forget "$BERTHD_PID"
    berthd_start
    run curl -sS --max-time 2 http://127.0.0.1:18080/
    assert_status 0
    assert_eq "$output" "hello pweb"
    # reached from another container on the network by name, and through the host's port on
    # the network's gateway (a port published on every address)
    docker_t run -d --name pcli --network pubnet -p 18081:80 busybox sh -c \
        'mkdir -p /www && echo hello pcli >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
    run docker_t exec pcli timeout 5 wget -O- http://pweb/
    assert_status 0
    assert_contains "$output" "hello pweb"
    local gw
    gw="$(docker_t network inspect -f '{{(index .IPAM.Config 0).Gateway}}' pubnet)"
    run docker_t exec pweb timeout 5 wget -O- "http://$gw:18081/"
    assert_status 0
    assert_contains "$output" "hello pcli"
    run curl -sS --max-time 2 http://127.0.0.1:18081/
    assert_status 0
    assert_eq "$output" "hello pcli"
    docker_t rm -f pweb >/dev/null
    run curl -sS --max-time 2 http://127.0.0.1:18080/
    assert_failed
    if command -v iptables >/dev/null; then
        if iptables-save | grep -F 18080; then
            fail "iptables rules left for 18080"
        fi
    fi
}

@test "rename: the embedded DNS answers to the new name, not the old one, also after a restart" {
    ctr_start
    docker_t network create rnet >/dev/null
    docker_t run -d --name olda --network rnet busybox sleep 1000 >/dev/null
    docker_t run -d --name asker --network rnet busybox sleep 1000 >/dev/null
    local ip id
    ip="$(net_ip_of olda rnet)"
    id="$(docker_t inspect -f '{{.Id}}' olda)"
    run docker_t exec asker nslookup olda 127.0.0.11
    assert_status 0
    docker_t rename olda newb
    run docker_t exec asker nslookup newb 127.0.0.11
    assert_status 0
    assert_contains "$output" "$ip"
    run docker_t exec asker ping -c1 -W2 newb
    assert_status 0
    run docker_t exec asker nslookup olda 127.0.0.11
    assert_failed
    assert_eq "$(docker_t inspect -f '{{json (index .NetworkSettings.Networks "rnet").DNSNames}}' newb)" \
        "[\"newb\",\"${id:0:12}\"]"
    # persisted: the restarted daemon's DNS knows the new name only
    kill -KILL "$BERTHD_PID"
    berthd_wait_exit "$BERTHD_PID" 10 || true
    berthd_forget "$BERTHD_PID"
    berthd_start
    run docker_t exec asker nslookup newb 127.0.0.11
    assert_status 0
    assert_contains "$output" "$ip"
    run docker_t exec asker nslookup olda 127.0.0.11
    assert_failed
}

@test "orphan veths on a user network's bridge are swept at start; live containers' are kept" {
    ctr_start
    docker_t network create onet >/dev/null
    docker_t run -d --name live1 --network onet busybox sleep 1000 >/dev/null
    docker_t run -d --name live2 --network onet busybox sleep 1000 >/dev/null
    local br
    br="br-$(docker_t network inspect -f '{{.Id}}' onet | cut -c1-12)"
    kill -KILL "$BERTHD_PID"
    berthd_wait_exit "$BERTHD_PID" 10 || true
    berthd_forget "$BERTHD_PID"
    # while the daemon is away: a veth left on the bridge by an attach that never finished
    ip link add veth0rphan1 type veth peer name orphpeer1
    ip link set veth0rphan1 master "$br"
    [[ "$(ip -o link show master "$br" | grep -c veth)" -eq 3 ]] || fail "$(ip -o link show master "$br")"
    berthd_start
    run ip link show veth0rphan1
    assert_failed
    # the running containers keep theirs, and still reach each other
    [[ "$(ip -o link show master "$br" | grep -c veth)" -eq 2 ]] || fail "$(ip -o link show master "$br")"
    run docker_t exec live1 ping -c1 -W2 live2
    assert_status 0
    docker_t rm -f live2 >/dev/null
    [[ "$(ip -o link show master "$br" | grep -c veth)" -eq 1 ]] || fail "$(ip -o link show master "$br")"
}

@test "network prune honours until (timestamp, duration, Unix time), label and label!" {
    ctr_start
    docker_t network create --label keep=no pa >/dev/null
    docker_t network create --label keep=yes pb >/dev/null
    sleep 1.1
    local cut
    cut="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    sleep 1.1
    docker_t network create pc >/dev/null
    # pc is newer than the cut, pb is kept by label!
    run docker_t network prune -f --filter "until=$cut" --filter 'label!=keep=yes'
    assert_status 0
    assert_contains "$output" pa
    assert_not_contains "$output" pb
    assert_not_contains "$output" pc
    # all are younger than an hour
    run docker_t network prune -f --filter until=1h
    assert_status 0
    assert_eq "$(docker_t network ls -q --filter type=custom | wc -l)" 2
    run docker_t network prune -f --filter label=keep=yes
    assert_status 0
    assert_contains "$output" pb
    assert_not_contains "$output" pc
    run docker_t network prune -f --filter until=1h30m --filter label=keep
    assert_eq "$(docker_t network ls -q --filter type=custom | wc -l)" 1
    run docker_t network prune -f --filter "until=$(($(date +%s) + 1))"
    assert_status 0
    assert_contains "$output" pc
    assert_eq "$(docker_t network ls -q --filter type=custom | wc -l)" 0
    run docker_t network prune -f --filter until=soon
    assert_failed
    assert_contains "$output" "failed to parse value as time or duration"
    run docker_t network prune -f --filter foo=bar
    assert_failed
    assert_contains "$output" "invalid filter 'foo'"
}

@test "network create dumps the routes off the loop; concurrent creates never share a subnet" {
    # test only: every route dump takes 2 s, as on a host with a huge routing table
    export BERTH_TEST_ROUTES_DELAY_MS=2000
    ctr_start
    docker_t network create auto1 >/dev/null &
    local p1=$!
    docker_t network create auto2 >/dev/null &
    local p2=$!
    sleep 0.3
    # the loop answers while the dumps run, and an explicit subnet is reserved at once
    local t0=$SECONDS
    docker_t network create --subnet 172.18.0.0/16 fixed >/dev/null
    docker_t network ls >/dev/null
    ((SECONDS - t0 <= 1)) || fail "the API waited $((SECONDS - t0)) s for a route dump"
    wait "$p1" || fail "create auto1 failed"
    wait "$p2" || fail "create auto2 failed"
    local s1 s2
    s1="$(docker_t network inspect -f '{{(index .IPAM.Config 0).Subnet}}' auto1)"
    s2="$(docker_t network inspect -f '{{(index .IPAM.Config 0).Subnet}}' auto2)"
    [[ -n "$s1" && -n "$s2" && "$s1" != "$s2" ]] || fail "auto1 $s1, auto2 $s2"
    [[ "$s1" != 172.18.0.0/16 && "$s2" != 172.18.0.0/16 ]] || fail "fixed's subnet handed out: $s1 $s2"
    # the same name twice at once: one wins, the other is told it exists
    docker_t network create twin >/dev/null 2>"$T/twin1" &
    p1=$!
    docker_t network create twin >/dev/null 2>"$T/twin2" &
    p2=$!
    local r1=0 r2=0
    wait "$p1" || r1=$?
    wait "$p2" || r2=$?
    ((r1 == 0 && r2 != 0 || r1 != 0 && r2 == 0)) || fail "twin: $r1 $r2"
    grep -h "already exists" "$T/twin1" "$T/twin2" || fail "$(cat "$T/twin1" "$T/twin2")"
}
