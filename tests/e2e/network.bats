#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# Networks (issue 7, the default bridge): an address per container from the bridge's subnet,
# reachable from the host and from other containers; NetworkSettings in inspect; /etc/hosts and
# /etc/resolv.conf; addresses never handed out twice, also across a daemon restart; nothing
# left after rm -f; --network none; --iptables=false; GET /networks for the built-in networks;
# 100 containers with 100 addresses. Runs inside run.sh's private network namespace, so the
# bridge, veths and iptables rules never touch the host.

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

# ip_of NAME: the container's address as docker inspect shows it.
ip_of() {
    docker_t inspect -f '{{.NetworkSettings.IPAddress}}' "$1"
}

# in_subnet IP CIDR: true when IP is inside CIDR (IPv4).
in_subnet() {
    "$PY" -c 'import ipaddress,sys; sys.exit(0 if ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network(sys.argv[2]) else 1)' "$1" "$2"
}

# host_ping IP: one ICMP echo from the test's namespace (the host side of the bridge).
host_ping() {
    if command -v ping >/dev/null; then
        ping -c 1 -W 2 "$1"
    else
        busybox ping -c 1 -W 2 "$1"
    fi
}

# veths: the veth links of this namespace (the host side of containers).
veths() {
    ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1
}

# ---------------------------------------------------------------------------------------------

@test "the seed: run -d, inspect shows an address in the bridge's subnet, ping from the host" {
    ctr_start
    docker_t run -d --name c1 busybox sleep 1000 >/dev/null
    local ip subnet
    ip="$(ip_of c1)"
    subnet="$(docker_t network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge)"
    [[ -n "$ip" ]] || fail "no IPAddress"
    in_subnet "$ip" "$subnet" || fail "$ip is not in $subnet"
    run host_ping "$ip"
    assert_status 0
    # the bridge carries the gateway address
    local gw
    gw="$(docker_t inspect -f "{{.NetworkSettings.Gateway}}" c1)"
    ip -o -4 addr show dev berth0 | grep -qF " $gw/" || fail "berth0 has no $gw: $(ip -o addr)"
}

@test "two containers on the bridge reach each other by address" {
    ctr_start
    docker_t run -d --name na busybox sleep 1000 >/dev/null
    docker_t run -d --name nb busybox sleep 1000 >/dev/null
    local a b
    a="$(ip_of na)"
    b="$(ip_of nb)"
    [[ -n "$a" && -n "$b" && "$a" != "$b" ]] || fail "addresses '$a' and '$b'"
    run docker_t exec na ping -c 1 -W 2 "$b"
    assert_status 0
    run docker_t exec nb ping -c 1 -W 2 "$a"
    assert_status 0
    # eth0 inside has the address, lo is up, the default route goes through the gateway
    run docker_t exec na ip -o -4 addr show dev eth0
    assert_match "$output" "inet $a/16"
    run docker_t exec na ip route
    assert_match "$output" "default via $(docker_t inspect -f '{{.NetworkSettings.Gateway}}' na) dev eth0"
    run docker_t exec na ping -c 1 -W 2 127.0.0.1
    assert_status 0
}

@test "the default bridge and user networks, whatever their bridges' names, are isolated, as docker's" {
    ctr_start
    docker_t network create isonet >/dev/null
    docker_t network create -o com.docker.network.bridge.name=isocustom isonet2 >/dev/null
    docker_t run -d --name da busybox sleep 1000 >/dev/null
    docker_t run -d --name ua --network isonet busybox sleep 1000 >/dev/null
    docker_t run -d --name ca --network isonet2 busybox sleep 1000 >/dev/null
    docker_t run -d --name ca2 --network isonet2 busybox sleep 1000 >/dev/null
    local d u c c2 x y
    d="$(ip_of da)"
    u="$(docker_t inspect -f '{{(index .NetworkSettings.Networks "isonet").IPAddress}}' ua)"
    c="$(docker_t inspect -f '{{(index .NetworkSettings.Networks "isonet2").IPAddress}}' ca)"
    c2="$(docker_t inspect -f '{{(index .NetworkSettings.Networks "isonet2").IPAddress}}' ca2)"
    [[ -n "$d" && -n "$u" && -n "$c" ]] || fail "addresses '$d', '$u' and '$c'"
    ip link show isocustom >/dev/null || fail "no bridge named isocustom"
    # the host reaches all three: the routes are there, only forwarding between them is refused
    for x in "$d" "$u" "$c"; do
        run host_ping "$x"
        assert_status 0
    done
    for x in da:"$u" da:"$c" ua:"$d" ua:"$c" ca:"$d" ca:"$u"; do
        run docker_t exec "${x%%:*}" ping -c 1 -W 1 "${x#*:}"
        assert_failed
    done
    # within a network all is well
    run docker_t exec ca ping -c 1 -W 1 "$c2"
    assert_status 0
    run iptables -S FORWARD
    assert_match "$output" "-A FORWARD -j BERTH-ISOLATION-STAGE-1"
    run iptables -S BERTH-ISOLATION-STAGE-1
    assert_match "$output" "-A BERTH-ISOLATION-STAGE-1 -i berth0 ! -o berth0 -j BERTH-ISOLATION-STAGE-2"
    assert_match "$output" "-i isocustom ! -o isocustom -j BERTH-ISOLATION-STAGE-2"
    run iptables -S BERTH-ISOLATION-STAGE-2
    assert_match "$output" "-A BERTH-ISOLATION-STAGE-2 -o isocustom -j DROP"
    y="br-$(docker_t network inspect -f '{{.Id}}' isonet | cut -c1-12)"
    assert_match "$(iptables -S BERTH-ISOLATION-STAGE-2)" "-o $y -j DROP"
    docker_t rm -f da ua ca ca2 >/dev/null
    docker_t network rm isonet isonet2 >/dev/null
    # the removed networks' rules went with them; the default bridge's stay
    run iptables-save -t filter
    [[ $output != *isocustom* ]] || fail "rules left for isocustom"
    [[ $output != *"$y"* ]] || fail "rules left for $y"
    assert_contains "$output" "-A BERTH-ISOLATION-STAGE-2 -o berth0 -j DROP"
}

@test "network connect and disconnect of the default bridge on a running container" {
    ctr_start
    docker_t network create cbnet >/dev/null
    docker_t run -d --name cb1 --network cbnet busybox sleep 1000 >/dev/null
    docker_t network connect bridge cb1
    local b
    b="$(docker_t inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' cb1)"
    in_subnet "$b" "$(docker_t network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge)" ||
        fail "bridge address '$b'"
    run docker_t exec cb1 ip -o -4 addr show dev eth1
    assert_match "$output" "inet $b/"
    run host_ping "$b"
    assert_status 0
    # docker's refusals: --ip and aliases are for user networks; none and host never mix
    run docker_t network connect bridge cb1
    assert_failed
    docker_t network disconnect bridge cb1
    run docker_t exec cb1 ip -o -4 addr show dev eth1
    assert_failed
    assert_eq "$(docker_t inspect -f '{{len .NetworkSettings.Networks}}' cb1)" 1
    run docker_t network connect --ip 172.17.0.77 bridge cb1
    assert_failed
    assert_contains "$output" "user specified IP address is supported on user defined networks only"
    run docker_t network connect host cb1
    assert_failed
    assert_contains "$output" "container cannot be disconnected from host network or connected to host network"
    docker_t run -d --name cb2 --network none busybox sleep 1000 >/dev/null
    run docker_t network connect bridge cb2
    assert_failed
    assert_contains "$output" "one of the networks in private (none) mode"
    docker_t rm -f cb1 cb2 >/dev/null
    docker_t network rm cbnet >/dev/null
}

@test "inspect: NetworkSettings of a running and of a stopped container; network ls and inspect" {
    ctr_start
    docker_t run -d --name n1 busybox sleep 1000 >/dev/null
    local j netid
    j="$(docker_t inspect n1)"
    netid="$(docker_t network inspect -f '{{.Id}}' bridge)"
    assert_match "$netid" '^[0-9a-f]{64}$'
    local ip
    ip="$(json_get 'j[0]["NetworkSettings"]["IPAddress"]' <<<"$j")"
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["IPPrefixLen"]' <<<"$j")" 16
    # the MAC is derived from the address as docker does: 02:42 and the four bytes
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["MacAddress"]' <<<"$j")" \
        "$(printf '02:42:%02x:%02x:%02x:%02x' ${ip//./ })"
    local key
    key="$(json_get 'j[0]["NetworkSettings"]["SandboxKey"]' <<<"$j")"
    [[ -f "$key" ]] || fail "SandboxKey $key is not a file"
    assert_match "$(json_get 'j[0]["NetworkSettings"]["SandboxID"]' <<<"$j")" '^[0-9a-f]{64}$'
    assert_eq "$(json_get 'sorted(j[0]["NetworkSettings"]["Networks"]["bridge"].keys())' <<<"$j")" \
        '["Aliases", "DNSNames", "DriverOpts", "EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPAMConfig", "IPAddress", "IPPrefixLen", "IPv6Gateway", "Links", "MacAddress", "NetworkID"]'
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["Networks"]["bridge"]["NetworkID"]' <<<"$j")" "$netid"
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]' <<<"$j")" "$ip"
    assert_match "$(json_get 'j[0]["NetworkSettings"]["Networks"]["bridge"]["EndpointID"]' <<<"$j")" '^[0-9a-f]{64}$'
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["Ports"]' <<<"$j")" '{}'
    # ps is unaffected, and shows the network
    run docker_t ps --format '{{.Names}} {{.Networks}}'
    assert_eq "$output" "n1 bridge"
    # the network's view: ls, inspect with the container's endpoint
    run docker_t network ls --format '{{.Name}} {{.Driver}} {{.Scope}}'
    assert_status 0
    assert_eq "$(sort <<<"$output")" $'bridge bridge local\nhost host local\nnone null local'
    local nj
    nj="$(docker_t network inspect bridge)"
    assert_eq "$(json_get "j[0]['Containers']['$(docker_t inspect -f '{{.Id}}' n1)']['IPv4Address']" <<<"$nj")" "$ip/16"
    assert_eq "$(json_get 'j[0]["Options"]["com.docker.network.bridge.name"]' <<<"$nj")" berth0
    run docker_t network inspect nosuchnet
    assert_status 1
    assert_match "$output" 'network nosuchnet not found'
    # stopped: no address, no sandbox; the network is still named
    docker_t stop -t 0 n1 >/dev/null
    j="$(docker_t inspect n1)"
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["IPAddress"]' <<<"$j")" ""
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["SandboxKey"]' <<<"$j")" ""
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["Networks"]["bridge"]["NetworkID"]' <<<"$j")" "$netid"
    assert_eq "$(json_get 'j[0]["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]' <<<"$j")" ""
    [[ ! -e "$key" ]] || fail "the sandbox $key is left after stop"
    # started again: a working address again
    docker_t start n1 >/dev/null
    ip="$(ip_of n1)"
    run host_ping "$ip"
    assert_status 0
}

@test "/etc/hosts and /etc/resolv.conf: the address, --add-host, --dns, --dns-search, --dns-option" {
    ctr_start
    docker_t run -d --name h1 --hostname box1 --add-host foo.example:10.1.2.3 \
        --add-host bar=10.1.2.4 --dns 192.0.2.53 --dns-search example.com \
        --dns-option ndots:2 busybox sleep 1000 >/dev/null
    local ip
    ip="$(ip_of h1)"
    run docker_t exec h1 cat /etc/hosts
    assert_status 0
    assert_match "$output" $'127\\.0\\.0\\.1\tlocalhost'
    assert_match "$output" $'::1\tlocalhost ip6-localhost ip6-loopback'
    assert_match "$output" $'10\\.1\\.2\\.3\tfoo\\.example'
    assert_match "$output" $'10\\.1\\.2\\.4\tbar'
    assert_match "$output" "$ip"$'\tbox1'
    run docker_t exec h1 cat /etc/resolv.conf
    assert_status 0
    assert_eq "$(grep '^nameserver' <<<"$output")" "nameserver 192.0.2.53"
    assert_eq "$(grep '^search' <<<"$output")" "search example.com"
    assert_eq "$(grep '^options' <<<"$output")" "options ndots:2"
    # without --dns: the host's servers minus loopback ones (or docker's defaults)
    docker_t run -d --name h2 busybox sleep 1000 >/dev/null
    run docker_t exec h2 cat /etc/resolv.conf
    assert_status 0
    grep -q '^nameserver ' <<<"$output" || fail "no nameserver in: $output"
    if grep -qE '^nameserver (127\.|::1)' <<<"$output"; then
        fail "a loopback nameserver was kept: $output"
    fi
    local want
    want="$(grep -E '^nameserver ' /etc/resolv.conf 2>/dev/null | grep -vE ' (127\.|::1)' || true)"
    if [[ -z "$want" ]]; then
        want=$'nameserver 8.8.8.8\nnameserver 8.8.4.4'
    fi
    assert_eq "$(grep '^nameserver' <<<"$output")" "$want"
}

@test "addresses are never handed out twice, also after kill -9 of the daemon; live restore keeps them" {
    ctr_start
    docker_t run -d --name r1 busybox sleep 1000 >/dev/null
    docker_t run -d --name r2 busybox sleep 1000 >/dev/null
    local a b
    a="$(ip_of r1)"
    b="$(ip_of r2)"
    [[ "$a" != "$b" ]] || fail "same address $a twice"
    kill -KILL "$BERTHD_PID"
    berthd_wait_exit "$BERTHD_PID" 10 || true
    berthd_forget "$BERTHD_PID"
    # the containers keep their network while the daemon is away
    run host_ping "$a"
    assert_status 0
    berthd_start
    assert_eq "$(ip_of r1)" "$a"
    assert_eq "$(ip_of r2)" "$b"
    docker_t run -d --name r3 busybox sleep 1000 >/dev/null
    local c
    c="$(ip_of r3)"
    [[ -n "$c" && "$c" != "$a" && "$c" != "$b" ]] || fail "r3 got $c (r1 $a, r2 $b)"
    run docker_t exec r3 ping -c 1 -W 2 "$a"
    assert_status 0
    # a released address is free again: r1's goes to the next container
    docker_t rm -f r1 >/dev/null
    docker_t run -d --name r4 busybox sleep 1000 >/dev/null
    assert_eq "$(ip_of r4)" "$a"
}

@test "rm -f of everything leaves no veth, no namespace file and no address held" {
    ctr_start
    local before
    before="$(veths | sort)"
    local i
    for i in 1 2 3; do
        docker_t run -d --name x$i busybox sleep 1000 >/dev/null
    done
    docker_t create --name x4 busybox true >/dev/null
    [[ "$(veths | wc -l)" -ge 3 ]] || fail "no veths while running: $(ip -o link)"
    [[ "$(find "$EXEC/netns" -type f | wc -l)" -eq 3 ]] || fail "netns files: $(ls -l "$EXEC/netns")"
    # shellcheck disable=SC2046 # one id per word
    docker_t rm -f $(docker_t ps -aq) >/dev/null
    assert_eq "$(veths | sort)" "$before"
    assert_eq "$(find "$EXEC/netns" -mindepth 1 | wc -l)" 0
    assert_eq "$(json_get 'j["Networks"]["bridge"]["IPAM"]["Allocated"]' <"$DATA/network/ipam.json")" '{}'
    assert_eq "$(json_get 'j["Endpoints"]' <"$DATA/network/ipam.json")" '{}'
    # the bridge stays, as docker0 does
    ip link show berth0 >/dev/null
}

@test "--network none has only lo; --network host shares the host's" {
    ctr_start
    run docker_t run --rm --network none busybox cat /proc/net/dev
    assert_status 0
    assert_eq "$(tail -n +3 <<<"$output" | awk -F: '{gsub(/ /, "", $1); print $1}')" lo
    docker_t run -d --name nn --network none busybox sleep 1000 >/dev/null
    assert_eq "$(ip_of nn)" ""
    run docker_t exec nn ping -c 1 -W 1 127.0.0.1
    assert_status 0
    run docker_t run --rm --network host busybox cat /proc/net/dev
    assert_status 0
    assert_match "$output" 'berth0:'
}

@test "--iptables=false adds no rules; the default adds NAT and forwarding for the bridge" {
    local nat filter
    nat="$(iptables -t nat -S)"
    filter="$(iptables -S)"
    ctr_start --iptables=false --bip 10.123.0.1/24 --bridge berthnoipt
    docker_t run -d --name i1 busybox sleep 1000 >/dev/null
    local ip
    ip="$(ip_of i1)"
    in_subnet "$ip" 10.123.0.0/24 || fail "$ip is not in --bip's subnet"
    run host_ping "$ip"
    assert_status 0
    assert_eq "$(iptables -t nat -S)" "$nat"
    assert_eq "$(iptables -S)" "$filter"
    docker_t rm -f i1 >/dev/null
    berthd_stop "$BERTHD_PID"
    ip link del berthnoipt
    # with iptables (the default): MASQUERADE for the subnet, FORWARD accepts for the bridge
    ctr_start --bip 10.124.0.1/24 --bridge berthipt
    run iptables -t nat -S POSTROUTING
    assert_match "$output" '-A POSTROUTING -s 10\.124\.0\.0/24 ! -o berthipt -j MASQUERADE'
    run iptables -S FORWARD
    assert_match "$output" '-A FORWARD -o berthipt -j ACCEPT'
    assert_match "$output" '-A FORWARD -i berthipt -j ACCEPT'
    assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" 1
    # loopback DNAT (ports_loopback.bats): 127/8 routed and masqueraded, and guarded
    assert_eq "$(cat /proc/sys/net/ipv4/conf/berthipt/route_localnet)" 1
    run iptables -t raw -S PREROUTING
    assert_match "$output" '-A PREROUTING -d 127\.0\.0\.0/8 -i berthipt -j DROP'
    # live restore keeps the bridge: it must not outlive this test, or its route shadows any
    # later bridge on the same subnet
    berthd_stop "$BERTHD_PID"
    ip link del berthipt
}

@test "without live restore the network goes at shutdown; --bridge none gives containers only lo" {
    ctr_start --live-restore=false
    docker_t run -d --name l1 busybox sleep 1000 >/dev/null
    local key veth_before
    key="$(docker_t inspect -f '{{.NetworkSettings.SandboxKey}}' l1)"
    [[ -f "$key" ]] || fail "no sandbox $key"
    veth_before="$(veths | wc -l)"
    [[ "$veth_before" -ge 1 ]] || fail "no veth"
    berthd_stop "$BERTHD_PID"
    [[ ! -e "$key" ]] || fail "sandbox $key left after shutdown"
    assert_eq "$(veths | wc -l)" 0
    berthd_start --bridge none
    docker_t start l1 >/dev/null
    assert_eq "$(ip_of l1)" ""
    run docker_t exec l1 cat /proc/net/dev
    assert_eq "$(tail -n +3 <<<"$output" | awk -F: '{gsub(/ /, "", $1); print $1}')" lo
}

@test "100 containers on the bridge, each with its own address" {
    ctr_start
    local i ids=()
    for ((i = 0; i < 100; i++)); do
        ids+=("$(docker_t run -d busybox sleep 1000)") || fail "run $i failed"
    done
    local ips
    ips="$(docker_t inspect -f '{{.NetworkSettings.IPAddress}}' "${ids[@]}")"
    assert_eq "$(grep -c . <<<"$ips")" 100
    assert_eq "$(sort -u <<<"$ips" | grep -c .)" 100
    # the first and the last answer
    run host_ping "$(head -n1 <<<"$ips")"
    assert_status 0
    run host_ping "$(tail -n1 <<<"$ips")"
    assert_status 0
    docker_t rm -f "${ids[@]}" >/dev/null
    assert_eq "$(veths | wc -l)" 0
}
