/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking work on the host's network: the bridge, one network namespace per container with
 * its veth, iptables rules and ip_forward. Start-up or threadpool only; never libuv.
 */
#include "daemon/network/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- the bridge -------------------------------------------------------------------------- */

int net_bridge_current(const char *name, uint32_t *addr, int *prefix)
{
    _cleanup_close_ int fd = rtnl_open(NULL);
    if (fd < 0)
        return 0;
    int index = rtnl_link_index(fd, name);
    if (index <= 0)
        return 0;
    struct rtnl_prefix p;
    if (rtnl_link_addr4(fd, index, &p) <= 0)
        return 0;
    *addr = p.addr;
    *prefix = p.prefix;
    return 1;
}

int net_host_routes(const char *bridge, struct rtnl_prefix **out, size_t *n, struct err **err)
{
    /* test only: a slow dump (a host with a huge routing table), to show it is off the loop */
    const char *delay = getenv("BERTH_TEST_ROUTES_DELAY_MS");
    long ms = delay ? strtol(delay, NULL, 10) : 0;
    if (ms > 0 && ms < 60000) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    _cleanup_close_ int fd = rtnl_open(err);
    if (fd < 0)
        return -1;
    int index = rtnl_link_index(fd, bridge);
    return rtnl_routes4(fd, index > 0 ? index : 0, out, n, err);
}

int net_bridge_ensure(const char *name, uint32_t gateway, int prefix, int *index, struct err **err)
{
    _cleanup_close_ int fd = rtnl_open(err);
    if (fd < 0)
        return -1;
    int idx = rtnl_link_index(fd, name);
    if (idx == -ENODEV) {
        struct rtnl_msg m;
        rtnl_build_bridge(&m, name);
        if (rtnl_talk(fd, &m, "create bridge", err) < 0)
            return err_wrap(err, "%s", name);
        idx = rtnl_link_index(fd, name);
    }
    if (idx <= 0)
        return err_set(err, ERR_SYSTEM, -idx, "bridge %s", name);
    struct rtnl_prefix cur;
    int have = rtnl_link_addr4(fd, idx, &cur);
    if (have <= 0 || cur.addr != gateway || cur.prefix != prefix) {
        struct rtnl_msg m;
        if (have > 0) { /* --bip changed: the old address goes */
            rtnl_build_addr_del(&m, idx, cur.addr, cur.prefix);
            if (rtnl_talk(fd, &m, "remove the bridge's old address", err) < 0)
                return err_wrap(err, "%s", name);
        }
        rtnl_build_addr(&m, idx, gateway, prefix);
        if (rtnl_talk(fd, &m, "set the bridge's address", err) < 0)
            return err_wrap(err, "%s", name);
    }
    struct rtnl_msg m;
    rtnl_build_link_up(&m, idx);
    if (rtnl_talk(fd, &m, "bring the bridge up", err) < 0)
        return err_wrap(err, "%s", name);
    *index = idx;
    return 0;
}

/* ---- sandboxes --------------------------------------------------------------------------- */

/*
 * Creates a network namespace bound to sp->path and returns a netlink socket inside it (and
 * an fd on it): the calling thread unshares, the namespace is bind-mounted, the socket opened,
 * and the thread goes back to its own namespace before anything else runs on it.
 */
static int netns_new(const char *path, int *nsfd, struct err **err)
{
    _cleanup_close_ int file = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (file < 0)
        return err_set(err, ERR_SYSTEM, errno, "create %s", path);
    _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return err_set(err, ERR_SYSTEM, errno, "open /proc/thread-self/ns/net");
    if (unshare(CLONE_NEWNET) < 0)
        return err_set(err, ERR_SYSTEM, errno, "unshare the network namespace");
    int r = 0, saved = 0;
    if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0) {
        r = -1;
        saved = errno;
    }
    int sock = r == 0 ? rtnl_open(NULL) : -1;
    if (r == 0 && sock < 0) {
        r = -1;
        saved = EIO;
    }
    if (setns(self, CLONE_NEWNET) < 0) {
        /* this thread would run later work in the container's namespace: never go on */
        log_error("setns back to the daemon's network namespace: %s", strerror(errno));
        abort();
    }
    if (r < 0)
        return err_set(err, ERR_SYSTEM, saved, "bind the network namespace to %s", path);
    *nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (*nsfd < 0) {
        int e = errno;
        close(sock);
        return err_set(err, ERR_SYSTEM, e, "open %s", path);
    }
    return sock;
}

static int configure_inside(int in, const struct net_sandbox_spec *sp, struct err **err)
{
    struct rtnl_msg m;
    rtnl_build_link_up(&m, 1); /* lo is ifindex 1 in every new namespace */
    if (rtnl_talk(in, &m, "bring lo up", err) < 0)
        return -1;
    if (!sp->veth)
        return 0;
    int eth0 = rtnl_link_index(in, "eth0");
    if (eth0 <= 0)
        return err_set(err, ERR_SYSTEM, -eth0, "find eth0 in the container's namespace");
    rtnl_build_addr(&m, eth0, sp->addr, sp->prefix);
    if (rtnl_talk(in, &m, "set eth0's address", err) < 0)
        return -1;
    rtnl_build_link_up(&m, eth0);
    if (rtnl_talk(in, &m, "bring eth0 up", err) < 0)
        return -1;
    rtnl_build_default_route(&m, eth0, sp->gateway);
    return rtnl_talk(in, &m, "add the default route", err);
}

static int make_veth(const struct net_sandbox_spec *sp, int nsfd, struct err **err)
{
    _cleanup_close_ int out = rtnl_open(err);
    if (out < 0)
        return -1;
    int master = rtnl_link_index(out, sp->bridge);
    if (master <= 0)
        return err_set(err, ERR_SYSTEM, -master, "bridge %s", sp->bridge);
    struct rtnl_veth v = {.name = sp->veth,
                          .master = master,
                          .peer_name = "eth0",
                          .peer_netns_fd = nsfd,
                          .peer_has_mac = true};
    memcpy(v.peer_mac, sp->mac, 6);
    struct rtnl_msg m;
    rtnl_build_veth(&m, &v);
    if (rtnl_talk(out, &m, "create veth", err) < 0)
        return err_wrap(err, "%s", sp->veth);
    int idx = rtnl_link_index(out, sp->veth);
    if (idx <= 0)
        return err_set(err, ERR_SYSTEM, -idx, "find %s", sp->veth);
    rtnl_build_link_up(&m, idx);
    return rtnl_talk(out, &m, "bring the veth up", err);
}

int net_sandbox_create(const struct net_sandbox_spec *sp, struct err **err)
{
    int nsfd = -1;
    _cleanup_close_ int in = netns_new(sp->path, &nsfd, err);
    if (in < 0) {
        net_sandbox_destroy(sp->path, NULL);
        return -1;
    }
    _cleanup_close_ int ns = nsfd;
    if ((sp->veth && make_veth(sp, ns, err) < 0) || configure_inside(in, sp, err) < 0) {
        net_sandbox_destroy(sp->path, sp->veth);
        return -1;
    }
    return 0;
}

void net_sandbox_destroy(const char *path, const char *veth)
{
    if (veth && *veth) {
        _cleanup_close_ int fd = rtnl_open(NULL);
        struct rtnl_msg m;
        rtnl_build_link_del(&m, veth);
        int r = fd >= 0 ? rtnl_exchange(fd, &m, NULL, NULL) : -EIO;
        rtnl_msg_release(&m);
        if (r < 0 && r != -ENODEV)
            log_warn("delete %s: %s", veth, strerror(-r));
    }
    if (!path)
        return;
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        log_warn("unmount %s: %s", path, strerror(errno));
    if (unlink(path) < 0 && errno != ENOENT)
        log_warn("remove %s: %s", path, strerror(errno));
}

/* ---- iptables and forwarding ------------------------------------------------------------- */

/* Runs iptables with args; its exit status, or -1 when it could not run (ENOENT: missing). */
static int run_iptables(char *const *args, int *spawn_err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int r = posix_spawnp(&pid, "iptables", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0) {
        *spawn_err = r;
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* -C (check) first, -A (append) when missing: rules are added once across restarts. */
static int ensure_rule(const char *table, char *const *rule, size_t n, struct err **err)
{
    char *args[24] = {"iptables", "--wait", "-t", (char *)table, "-C"};
    size_t k = 5;
    for (size_t i = 0; i < n && k < ARRAY_SIZE(args) - 1; i++)
        args[k++] = rule[i];
    args[k] = NULL;
    int spawn_err = 0;
    int r = run_iptables(args, &spawn_err);
    if (r == 0)
        return 0;
    if (r < 0)
        return err_set(err, ERR_UNAVAILABLE, spawn_err, "iptables");
    args[4] = "-A";
    r = run_iptables(args, &spawn_err);
    if (r != 0)
        return err_set(err, ERR_SYSTEM, spawn_err, "iptables -t %s -A %s failed (status %d)", table,
                       rule[0], r);
    return 0;
}

static void drop_rule(const char *table, char *const *rule, size_t n);

/* The bridge's route_localnet: 1 lets DNATed loopback connections out through it. */
static int route_localnet(const char *bridge, bool on, struct err **err)
{
    _cleanup_free_ char *path = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, on ? "1\n" : "0\n", 2) != 2) {
        if (!on)
            return 0; /* the bridge is gone already */
        return err_set(err, ERR_SYSTEM, errno, "write %s", path);
    }
    return 0;
}

/*
 * Published ports reached on the host's loopback are DNATed like any other (ports.c), so no
 * proxy sits in their way: the bridge routes 127/8 sources (route_localnet), which are
 * masqueraded to the bridge's address; and nothing a container sends to 127/8 is accepted,
 * so route_localnet opens no way in to the host's loopback services.
 */
static int loopback_rules(bool add, const char *bridge, struct err **err)
{
    char *br = (char *)bridge;
    char *masq[] = {"POSTROUTING", "-s", "127.0.0.0/8", "-o", br, "-j", "MASQUERADE"};
    char *guard[] = {"PREROUTING", "-i", br, "-d", "127.0.0.0/8", "-j", "DROP"};
    if (!add) {
        drop_rule("nat", masq, ARRAY_SIZE(masq));
        drop_rule("raw", guard, ARRAY_SIZE(guard));
        return route_localnet(bridge, false, err);
    }
    if (ensure_rule("raw", guard, ARRAY_SIZE(guard), err) < 0 ||
        ensure_rule("nat", masq, ARRAY_SIZE(masq), err) < 0)
        return -1;
    return route_localnet(bridge, true, err);
}

int net_iptables_setup(const char *bridge, const char *subnet_cidr, struct err **err)
{
    char *masq[] = {"POSTROUTING",  "-s", (char *)subnet_cidr, "!", "-o",
                    (char *)bridge, "-j", "MASQUERADE"};
    char *fwd_out[] = {"FORWARD", "-o", (char *)bridge, "-j", "ACCEPT"};
    char *fwd_in[] = {"FORWARD", "-i", (char *)bridge, "-j", "ACCEPT"};
    if (ensure_rule("nat", masq, ARRAY_SIZE(masq), err) < 0 ||
        ensure_rule("filter", fwd_out, ARRAY_SIZE(fwd_out), err) < 0 ||
        ensure_rule("filter", fwd_in, ARRAY_SIZE(fwd_in), err) < 0)
        return -1;
    return loopback_rules(true, bridge, err);
}

static void drop_rule(const char *table, char *const *rule, size_t n)
{
    char *args[24] = {"iptables", "--wait", "-t", (char *)table, "-D"};
    size_t k = 5;
    for (size_t i = 0; i < n && k < ARRAY_SIZE(args) - 1; i++)
        args[k++] = rule[i];
    args[k] = NULL;
    int spawn_err = 0;
    (void)run_iptables(args, &spawn_err);
}

/* -C (check) first, -I (insert at the top) when missing. */
static int ensure_first(char *const *rule, size_t n, struct err **err)
{
    char *args[24] = {"iptables", "--wait", "-t", "filter", "-C"};
    size_t k = 5;
    for (size_t i = 0; i < n && k < ARRAY_SIZE(args) - 1; i++)
        args[k++] = rule[i];
    args[k] = NULL;
    int spawn_err = 0;
    if (run_iptables(args, &spawn_err) == 0)
        return 0;
    args[4] = "-I";
    int r = run_iptables(args, &spawn_err);
    if (r != 0)
        return err_set(err, ERR_SYSTEM, spawn_err, "iptables -I %s failed (status %d)", rule[0], r);
    return 0;
}

/*
 * Isolation between bridges, whatever their names, in two stages as docker's: FORWARD sends
 * everything to stage 1 first; there, what leaves a bridge for anything but itself goes on to
 * stage 2, which drops what would enter any other bridge. What leaves for another interface
 * returns and meets the bridge's accept rules.
 */
int net_iptables_isolation(bool add, const char *bridge, struct err **err)
{
    char *br = (char *)bridge;
    char *jump[] = {"FORWARD", "-j", NET_ISOLATION_1};
    char *stage1[] = {NET_ISOLATION_1, "-i", br, "!", "-o", br, "-j", NET_ISOLATION_2};
    char *stage2[] = {NET_ISOLATION_2, "-o", br, "-j", "DROP"};
    if (!add) {
        drop_rule("filter", stage1, ARRAY_SIZE(stage1));
        drop_rule("filter", stage2, ARRAY_SIZE(stage2));
        return 0;
    }
    net_iptables_chain("filter", NET_ISOLATION_1);
    net_iptables_chain("filter", NET_ISOLATION_2);
    if (ensure_first(jump, ARRAY_SIZE(jump), err) < 0 ||
        ensure_rule("filter", stage1, ARRAY_SIZE(stage1), err) < 0 ||
        ensure_rule("filter", stage2, ARRAY_SIZE(stage2), err) < 0)
        return -1;
    return 0;
}

int net_iptables_user(bool add, const char *bridge, const char *subnet_cidr, bool internal,
                      struct err **err)
{
    if (net_iptables_isolation(add, bridge, err) < 0)
        return -1;
    char *br = (char *)bridge;
    char *masq[] = {"POSTROUTING", "-s", (char *)subnet_cidr, "!", "-o", br, "-j", "MASQUERADE"};
    char *fwd_out[] = {"FORWARD", "-o", br, "-j", "ACCEPT"};
    char *fwd_in[] = {"FORWARD", "-i", br, "-j", "ACCEPT"};
    char *self[] = {"FORWARD", "-i", br, "-o", br, "-j", "ACCEPT"};
    char *drop_in[] = {"FORWARD", "-i", br, "!", "-o", br, "-j", "DROP"};
    char *drop_out[] = {"FORWARD", "!", "-i", br, "-o", br, "-j", "DROP"};
    if (!add) {
        drop_rule("nat", masq, ARRAY_SIZE(masq));
        drop_rule("filter", fwd_out, ARRAY_SIZE(fwd_out));
        drop_rule("filter", fwd_in, ARRAY_SIZE(fwd_in));
        drop_rule("filter", self, ARRAY_SIZE(self));
        drop_rule("filter", drop_in, ARRAY_SIZE(drop_in));
        drop_rule("filter", drop_out, ARRAY_SIZE(drop_out));
        return loopback_rules(false, bridge, err);
    }
    if (internal)
        return ensure_rule("filter", self, ARRAY_SIZE(self), err) < 0 ||
                       ensure_rule("filter", drop_in, ARRAY_SIZE(drop_in), err) < 0 ||
                       ensure_rule("filter", drop_out, ARRAY_SIZE(drop_out), err) < 0
                   ? -1
                   : 0;
    return net_iptables_setup(bridge, subnet_cidr, err);
}

void net_link_delete(const char *name)
{
    net_sandbox_destroy(NULL, name);
}

int net_ip_forward_enable(struct err **err)
{
    static const char path[] = "/proc/sys/net/ipv4/ip_forward";
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, ERR_SYSTEM, errno, "open %s", path);
    char c = 0;
    if (read(fd, &c, 1) == 1 && c == '1')
        return 0;
    if (pwrite(fd, "1\n", 2, 0) != 2)
        return err_set(err, ERR_SYSTEM, errno, "enable %s", path);
    return 0;
}

/* For the published ports' rules (ports.c): -C then -A when add, -D when not. */
int net_iptables_rule(const char *table, bool add, char *const *rule, size_t n, struct err **err)
{
    if (!add) {
        drop_rule(table, rule, n);
        return 0;
    }
    return ensure_rule(table, rule, n, err);
}

void net_iptables_chain(const char *table, const char *chain)
{
    char *args[] = {"iptables", "--wait", "-t", (char *)table, "-N", (char *)chain, NULL};
    int spawn_err = 0;
    (void)run_iptables(args, &spawn_err); /* exists already: fine */
}
