/* SPDX-License-Identifier: Apache-2.0 */
/* The name files a container sees as /etc/hosts and /etc/resolv.conf (pure functions). */
#include "daemon/network/internal.h"

#include <string.h>

static const char hosts_defaults[] =
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n";

/* As docker: the defaults, then --add-host entries ("name:ip" or "name=ip", the address
 * "host-gateway" meaning the bridge's), then the container's address and hostname. */
char *net_hosts_build(const char *addr, const char *hostname, char *const *extra_hosts,
                      const char *host_gateway)
{
    struct sb sb = SB_INIT;
    sb_adds(&sb, hosts_defaults);
    for (char *const *e = extra_hosts; e && *e; e++) {
        size_t cut = strcspn(*e, "=");
        if (!(*e)[cut])
            cut = strcspn(*e, ":");
        if (!(*e)[cut] || cut == 0)
            continue;
        const char *ip = *e + cut + 1;
        if (strcmp(ip, "host-gateway") == 0)
            ip = host_gateway && *host_gateway ? host_gateway : NULL;
        if (ip && *ip)
            sb_addf(&sb, "%s\t%.*s\n", ip, (int)cut, *e);
    }
    if (addr && *addr && hostname && *hostname)
        sb_addf(&sb, "%s\t%s\n", addr, hostname);
    return sb_steal(&sb);
}

static bool is_loopback(const char *ns)
{
    return strncmp(ns, "127.", 4) == 0 || strcmp(ns, "::1") == 0 ||
           strcmp(ns, "0:0:0:0:0:0:0:1") == 0;
}

static bool line_is(const char *line, size_t len, const char *word)
{
    size_t wl = strlen(word);
    return len > wl && strncmp(line, word, wl) == 0 && (line[wl] == ' ' || line[wl] == '\t');
}

static void add_joined(struct sb *sb, const char *key, char *const *v)
{
    sb_adds(sb, key);
    for (; *v; v++)
        sb_addf(sb, " %s", *v);
    sb_addc(sb, '\n');
}

/*
 * The host's resolv.conf without loopback nameservers (they cannot answer inside the
 * container's namespace); docker's public defaults when none is left. --dns replaces the
 * nameservers, --dns-search the search/domain lines, --dns-option the options lines.
 */
char *net_resolv_build(const char *host_text, char *const *dns, char *const *search,
                       char *const *options)
{
    bool own_dns = dns && dns[0], own_search = search && search[0];
    bool own_opts = options && options[0];
    struct sb kept = SB_INIT, servers = SB_INIT;
    for (const char *p = host_text ? host_text : ""; *p;) {
        size_t len = strcspn(p, "\n");
        if (line_is(p, len, "nameserver")) {
            const char *v = p + 10;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = strcspn(v, " \t\n#;");
            _cleanup_free_ char *ns = xstrndup(v, vl);
            if (!own_dns && vl && !is_loopback(ns))
                sb_addf(&servers, "nameserver %s\n", ns);
        } else if (!((own_search && (line_is(p, len, "search") || line_is(p, len, "domain"))) ||
                     (own_opts && line_is(p, len, "options")))) {
            sb_add(&kept, p, len);
            sb_addc(&kept, '\n');
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    struct sb out = SB_INIT;
    sb_adds(&out, sb_str(&kept));
    if (own_dns) {
        for (char *const *d = dns; *d; d++)
            sb_addf(&out, "nameserver %s\n", *d);
    } else if (servers.len) {
        sb_adds(&out, sb_str(&servers));
    } else {
        sb_adds(&out, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    if (own_search)
        add_joined(&out, "search", search);
    if (own_opts)
        add_joined(&out, "options", options);
    sb_release(&kept);
    sb_release(&servers);
    return sb_steal(&out);
}
