/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User resolution inside the container's root, between clone and exec: no allocation, bounded
 * reads from stack buffers. The rules are docker's (moby/sys/user GetExecUser): a numeric user
 * without an entry is accepted, a name must exist; supplementary groups come from /etc/group
 * only in the implicit form (no ":group"); ids above 2^31-1 are refused (CVE-2024-40635); a
 * passwd or group file that is not a regular file is refused (CVE-2024-9676).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "daemon/runtime/internal.h"

#define LINE_MAX_LEN 4096

struct lines {
    int fd;
    size_t len;   /* bytes in buf */
    size_t total; /* bytes read so far */
    bool eof;
    char buf[LINE_MAX_LEN + 1];
};

/* Opens path in the root for line reading. 0, -ENOENT when absent, or -errno with ce set. */
static int lines_open(struct lines *l, int rootfd, const char *path, struct rt_cerr *ce)
{
    l->len = l->total = 0;
    l->eof = false;
    l->fd = rt_in_root_open(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    if (l->fd == -ENOENT)
        return -ENOENT;
    if (l->fd < 0)
        return rt_cfail(ce, ERR_SYSTEM, -l->fd, "open %s", path);
    struct stat st;
    struct statfs sf;
    if (fstat(l->fd, &st) < 0 || !S_ISREG(st.st_mode) || fstatfs(l->fd, &sf) < 0 ||
        sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC) {
        close(l->fd);
        l->fd = -1;
        return rt_cfail(ce, ERR_INVALID, 0, "open %s: not a regular file", path);
    }
    return 0;
}

/*
 * Next line (NUL-terminated, without '\n') in *line: 1, 0 at the end, or -errno. Lines longer
 * than LINE_MAX_LEN are skipped whole.
 */
static int lines_next(struct lines *l, char **line, size_t *consumed)
{
    bool skipping = false;
    /* drop the line handed out last time */
    if (*consumed) {
        memmove(l->buf, l->buf + *consumed, l->len - *consumed);
        l->len -= *consumed;
        *consumed = 0;
    }
    for (;;) {
        char *nl = memchr(l->buf, '\n', l->len);
        if (nl) {
            size_t n = (size_t)(nl - l->buf) + 1;
            if (skipping) {
                memmove(l->buf, l->buf + n, l->len - n);
                l->len -= n;
                skipping = false;
                continue;
            }
            *nl = 0;
            *line = l->buf;
            *consumed = n;
            return 1;
        }
        if (l->eof) {
            if (l->len == 0 || skipping)
                return 0;
            l->buf[l->len] = 0;
            *line = l->buf;
            *consumed = l->len;
            return 1;
        }
        if (l->len == LINE_MAX_LEN) {
            l->len = 0;
            skipping = true;
        }
        if (l->total >= RT_PASSWD_MAX)
            return -EFBIG;
        ssize_t r = read(l->fd, l->buf + l->len, LINE_MAX_LEN - l->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            l->eof = true;
        l->len += (size_t)r;
        l->total += (size_t)r;
    }
}

/* Splits s at ':' into at most n fields (the last keeps the rest). Returns the field count. */
static size_t split_fields(char *s, char **f, size_t n)
{
    size_t k = 0;
    f[k++] = s;
    for (char *p = s; *p && k < n; p++) {
        if (*p == ':') {
            *p = 0;
            f[k++] = p + 1;
        }
    }
    return k;
}

/* 0 and *id for "123"; -ERANGE for a number outside 0..2^31-1; -EINVAL when not a number. */
static int parse_id(const char *s, long long *id)
{
    const char *p = s;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (!*p)
        return -EINVAL;
    long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        if (v <= RT_ID_MAX)
            v = v * 10 + (*p - '0');
    }
    if (neg || v > RT_ID_MAX)
        return -ERANGE;
    *id = v;
    return 0;
}

struct user_query {
    const char *user; /* "" for the default (uid 0) */
    const char *group;
    long long uid_arg, gid_arg;
    int uid_err, gid_err;
};

static int range_fail(struct rt_cerr *ce)
{
    return rt_cfail(ce, ERR_INVALID, 0, "uids and gids must be in range 0-%lld", RT_ID_MAX);
}

/* Scans /etc/passwd for the first matching entry: fills out (uid, gid, home) and name. */
static int passwd_scan(int rootfd, const struct user_query *q, struct rt_user *out, char *name,
                       size_t namelen, struct rt_cerr *ce)
{
    struct lines l;
    int r = lines_open(&l, rootfd, "/etc/passwd", ce);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    char *line = NULL;
    size_t consumed = 0;
    while ((r = lines_next(&l, &line, &consumed)) > 0) {
        char *f[7] = {0};
        long long uid = 0, gid = 0;
        if (line[0] == '#' || split_fields(line, f, 7) < 4 || parse_id(f[2], &uid) < 0 ||
            parse_id(f[3], &gid) < 0)
            continue;
        bool match;
        if (!*q->user)
            match = uid == (long long)out->uid;
        else if (q->uid_err == 0)
            match = uid == q->uid_arg;
        else
            match = strcmp(f[0], q->user) == 0;
        if (!match)
            continue;
        snprintf(name, namelen, "%s", f[0]);
        out->uid = (uid_t)uid;
        out->gid = (gid_t)gid;
        if (f[5] && *f[5])
            snprintf(out->home, sizeof(out->home), "%s", f[5]);
        break;
    }
    close(l.fd);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "read /etc/passwd");
    return 0;
}

static bool member_of(char *list, const char *name)
{
    for (char *m = list; m && *m;) {
        size_t n = strcspn(m, ",");
        if (n == strlen(name) && strncmp(m, name, n) == 0)
            return true;
        m += n;
        if (*m == ',')
            m++;
    }
    return false;
}

/*
 * Scans /etc/group: with an explicit group, the first match sets the primary gid; otherwise
 * every group listing name as a member becomes a supplementary group.
 */
static int group_scan(int rootfd, const struct user_query *q, const char *name, struct rt_user *out,
                      bool *found, struct rt_cerr *ce)
{
    struct lines l;
    *found = false;
    int r = lines_open(&l, rootfd, "/etc/group", ce);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    char *line = NULL;
    size_t consumed = 0;
    while ((r = lines_next(&l, &line, &consumed)) > 0) {
        char *f[4] = {0};
        long long gid = 0;
        if (line[0] == '#' || split_fields(line, f, 4) < 3 || parse_id(f[2], &gid) < 0)
            continue;
        if (*q->group) {
            bool match = q->gid_err == 0 ? gid == q->gid_arg : strcmp(f[0], q->group) == 0;
            if (match) {
                out->gid = (gid_t)gid;
                *found = true;
                break;
            }
        } else if (member_of(f[3], name) && out->ngroups < RT_MAX_GROUPS) {
            out->groups[out->ngroups++] = (gid_t)gid;
        }
    }
    close(l.fd);
    if (r < 0)
        return rt_cfail(ce, ERR_SYSTEM, -r, "read /etc/group");
    return 0;
}

/* Prefixes "unable to find <what> <who>: " to the error already in ce. */
static int wrap_fail(struct rt_cerr *ce, const char *what, const char *who)
{
    char inner[RT_CERR_MSG_SIZE];
    memcpy(inner, ce->msg, sizeof(inner));
    return rt_cfail(ce, ce->kind, ce->errnum, "unable to find %s %.200s: %.500s", what, who, inner);
}

int rt_user_resolve(int rootfd, const char *spec, struct rt_user *out, struct rt_cerr *ce)
{
    char ubuf[256], name[256] = "";
    const char *s = spec ? spec : "";
    if (strlen(s) >= sizeof(ubuf))
        return rt_cfail(ce, ERR_INVALID, 0, "user %s: too long", s);
    memcpy(ubuf, s, strlen(s) + 1);
    struct user_query q = {.user = ubuf, .group = ""};
    char *colon = strchr(ubuf, ':');
    if (colon) {
        *colon = 0;
        q.group = colon + 1;
    }
    q.uid_err = parse_id(q.user, &q.uid_arg);
    q.gid_err = parse_id(q.group, &q.gid_arg);
    memset(out, 0, sizeof(*out));
    snprintf(out->home, sizeof(out->home), "/");

    int r = passwd_scan(rootfd, &q, out, name, sizeof(name), ce);
    if (r < 0)
        return wrap_fail(ce, "user", *q.user ? q.user : "0");
    if (!*name && *q.user) {
        if (q.uid_err == -EINVAL)
            return rt_cfail(ce, ERR_INVALID, 0,
                            "unable to find user %s: no matching entries in passwd file", q.user);
        if (q.uid_err < 0)
            return range_fail(ce);
        out->uid = (uid_t)q.uid_arg;
    }
    if (!*q.group && !*name)
        return 0;
    bool found = false;
    r = group_scan(rootfd, &q, name, out, &found, ce);
    if (r < 0)
        return wrap_fail(ce, "group", *q.group ? q.group : name);
    if (*q.group && !found) {
        if (q.gid_err == -EINVAL)
            return rt_cfail(ce, ERR_INVALID, 0,
                            "unable to find group %s: no matching entries in group file", q.group);
        if (q.gid_err < 0)
            return range_fail(ce);
        out->gid = (gid_t)q.gid_arg;
    }
    return 0;
}
