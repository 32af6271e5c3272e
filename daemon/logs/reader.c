/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The json-file reader, used by berthd on the threadpool. Lines are parsed by a small
 * hand-written parser (three known keys; anything else is skipped) into a per-call decode
 * buffer, so memory is bounded by READ_LINE_MAX whatever the file holds. Corrupt lines, NUL
 * runs left by a crash and a torn last line are skipped. `tail` scans backwards in blocks and
 * remembers only offsets, then reads the chosen lines forwards.
 */
#include "daemon/logs/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The longest line read: a full 16 KiB entry fully escaped, with room for extra keys. */
#define READ_LINE_MAX (LOGS_LINE_MAX * 6 + 32 * 1024)
#define READ_BLOCK    (64 * 1024)
#define MAX_ROTATED   1000

/* ---- parsing one line -------------------------------------------------------------------- */

struct parser {
    const char *p, *end;
};

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n' || *ps->p == 0))
        ps->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A \u escape (after the backslash-u), surrogate pairs joined; lone surrogates are U+FFFD. */
static int decode_u(struct parser *ps, char *o, size_t *olen)
{
    unsigned cp, lo;
    if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0)
        return -1;
    ps->p += 4;
    if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
        ps->p[1] == 'u' && hex4(ps->p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xd800 && cp < 0xe000) {
        cp = 0xfffd;
    }
    *olen = put_utf8(o, cp);
    return 0;
}

/* Parses a JSON string at ps->p; decoded bytes go to out (when non-NULL; never longer). */
static int parse_string(struct parser *ps, char *out, size_t *outlen)
{
    size_t n = 0;
    if (ps->p >= ps->end || *ps->p != '"')
        return -1;
    ps->p++;
    while (ps->p < ps->end) {
        char c = *ps->p++;
        if (c == '"') {
            if (outlen)
                *outlen = n;
            return 0;
        }
        if ((unsigned char)c < 0x20)
            return -1;
        if (c != '\\') {
            if (out)
                out[n] = c;
            n++;
            continue;
        }
        if (ps->p >= ps->end)
            return -1;
        char e = *ps->p++;
        char tmp[4];
        size_t k = 1;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            tmp[0] = e;
            break;
        case 'b':
            tmp[0] = '\b';
            break;
        case 'f':
            tmp[0] = '\f';
            break;
        case 'n':
            tmp[0] = '\n';
            break;
        case 'r':
            tmp[0] = '\r';
            break;
        case 't':
            tmp[0] = '\t';
            break;
        case 'u':
            if (decode_u(ps, tmp, &k) < 0)
                return -1;
            break;
        default:
            return -1;
        }
        if (out)
            memcpy(out + n, tmp, k);
        n += k;
    }
    return -1;
}

/* Skips any JSON value (for keys we do not know, such as "attrs"). */
static int skip_value(struct parser *ps, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end || depth > 32)
        return -1;
    char c = *ps->p;
    if (c == '"')
        return parse_string(ps, NULL, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                skip_ws(ps);
                if (parse_string(ps, NULL, NULL) < 0)
                    return -1;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p++ != ':')
                    return -1;
            }
            if (skip_value(ps, depth + 1) < 0)
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end)
                return -1;
            char d = *ps->p++;
            if (d == close)
                return 0;
            if (d != ',')
                return -1;
        }
    }
    const char *start = ps->p;
    while (ps->p < ps->end && strchr(",}] \t\r\n", *ps->p) == NULL)
        ps->p++;
    return ps->p > start ? 0 : -1;
}

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* RFC 3339 with an optional fraction and a Z or +hh:mm offset. */
static int parse_time(const char *s, size_t len, struct timespec *out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec;
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return -1;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
        return -1;
    size_t i = 19;
    long ns = 0;
    if (i < len && s[i] == '.') {
        int n = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++)
            if (n < 9)
                ns = ns * 10 + (s[i] - '0');
        if (n == 0)
            return -1;
        for (; n < 9; n++)
            ns *= 10;
    }
    long off = 0;
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        off = 0;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om))
            return -1;
        off = (oh * 3600L + om * 60L) * (s[i] == '-' ? -1 : 1);
    } else {
        return -1;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    out->tv_sec = timegm(&tm) - off;
    out->tv_nsec = ns;
    return 0;
}

/* Parses one line into e; the decoded "log" bytes go to dec (at least len bytes). */
static int parse_line(const char *line, size_t len, char *dec, struct logs_entry *e)
{
    struct parser ps = {line, line + len};
    bool have_time = false;
    e->stream = 0;
    e->data = dec;
    e->len = 0;
    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p++ != '{')
        return -1;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}')
        return -1;
    for (;;) {
        const char *key;
        size_t klen;
        skip_ws(&ps);
        key = ps.p + 1;
        if (parse_string(&ps, NULL, &klen) < 0)
            return -1;
        skip_ws(&ps);
        if (ps.p >= ps.end || *ps.p++ != ':')
            return -1;
        skip_ws(&ps);
        if (klen == 3 && memcmp(key, "log", 3) == 0) {
            if (parse_string(&ps, dec, &e->len) < 0)
                return -1;
        } else if (klen == 6 && memcmp(key, "stream", 6) == 0) {
            const char *v = ps.p + 1;
            size_t vlen;
            if (parse_string(&ps, NULL, &vlen) < 0)
                return -1;
            if (vlen == 6 && memcmp(v, "stdout", 6) == 0)
                e->stream = LOGS_STDOUT;
            else if (vlen == 6 && memcmp(v, "stderr", 6) == 0)
                e->stream = LOGS_STDERR;
        } else if (klen == 4 && memcmp(key, "time", 4) == 0) {
            const char *v = ps.p + 1;
            size_t vlen;
            if (parse_string(&ps, NULL, &vlen) < 0 || parse_time(v, vlen, &e->time) < 0)
                return -1;
            have_time = true;
        } else if (skip_value(&ps, 0) < 0) {
            return -1;
        }
        skip_ws(&ps);
        if (ps.p >= ps.end)
            return -1;
        char c = *ps.p++;
        if (c == '}')
            break;
        if (c != ',')
            return -1;
    }
    skip_ws(&ps);
    return have_time && e->stream != 0 && ps.p == ps.end ? 0 : -1;
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static bool entry_matches(const struct logs_entry *e, const struct logs_query *q)
{
    if (e->stream == LOGS_STDOUT && !q->out)
        return false;
    if (e->stream == LOGS_STDERR && !q->err)
        return false;
    int64_t t = ts_ns(&e->time);
    if (q->since_ns > 0 && t < q->since_ns)
        return false;
    if (q->until_ns > 0 && t > q->until_ns)
        return false;
    return true;
}

/* ---- reading forwards -------------------------------------------------------------------- */

struct fwd {
    int fd;
    char *buf; /* READ_LINE_MAX + READ_BLOCK */
    size_t len, pos;
    int64_t base; /* file offset of buf[0] */
    bool skipping;
};

/* The next complete line; 0 at the end (a tail without '\n' is left unread), -1 on error. */
static int fwd_next(struct fwd *f, const char **line, size_t *len)
{
    const size_t cap = READ_LINE_MAX + READ_BLOCK;
    for (;;) {
        char *nl = memchr(f->buf + f->pos, '\n', f->len - f->pos);
        if (nl) {
            *line = f->buf + f->pos;
            *len = (size_t)(nl - *line);
            f->pos = (size_t)(nl - f->buf) + 1;
            if (f->skipping) {
                f->skipping = false;
                continue;
            }
            return 1;
        }
        if (f->len - f->pos > READ_LINE_MAX) {
            f->skipping = true; /* too long to be ours: skip to its end */
            f->base += (int64_t)f->len;
            f->len = f->pos = 0;
        }
        memmove(f->buf, f->buf + f->pos, f->len - f->pos);
        f->base += (int64_t)f->pos;
        f->len -= f->pos;
        f->pos = 0;
        ssize_t n = pread(f->fd, f->buf + f->len, cap - f->len, f->base + (int64_t)f->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        f->len += (size_t)n;
    }
}

/* Where the complete lines end (the offset after the last '\n' seen). */
static int64_t fwd_end(const struct fwd *f)
{
    return f->base + (int64_t)f->pos;
}

struct scratch {
    char *buf; /* for struct fwd and load_line */
    char *dec; /* decoded "log" */
    char *blk; /* for struct bwd */
};

/* Reads fd from offset, calling cb for matches; *end gets the complete-line end. */
static int read_forward(int fd, int64_t offset, const struct logs_query *q, logs_cb cb, void *data,
                        struct scratch *s, int64_t *end, bool *stopped)
{
    struct fwd f = {.fd = fd, .buf = s->buf, .base = offset};
    const char *line = NULL;
    size_t len = 0;
    int r;
    while ((r = fwd_next(&f, &line, &len)) > 0) {
        struct logs_entry e;
        if (parse_line(line, len, s->dec, &e) < 0 || !entry_matches(&e, q))
            continue;
        if (cb(&e, data) < 0) {
            *stopped = true;
            break;
        }
    }
    if (end)
        *end = fwd_end(&f);
    return r < 0 ? r : 0;
}

/* ---- the files --------------------------------------------------------------------------- */

struct file_set {
    int fds[MAX_ROTATED + 1]; /* [0] the live file, [i] path.i */
    int n;
};

static void file_set_close(struct file_set *fs)
{
    for (int i = 0; i < fs->n; i++)
        if (fs->fds[i] >= 0)
            close(fs->fds[i]);
    fs->n = 0;
}

static int open_ro(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

/* Opens the live file first (it must exist), then path.1, path.2, ... while they exist. */
static int file_set_open(const char *path, struct file_set *fs, struct err **err)
{
    fs->n = 0;
    fs->fds[0] = open_ro(path);
    if (fs->fds[0] < 0)
        return err_set(err, errno == ENOENT ? ERR_NOT_FOUND : ERR_SYSTEM, errno, "open %s", path);
    fs->n = 1;
    for (int i = 1; i <= MAX_ROTATED; i++) {
        _cleanup_free_ char *p = xasprintf("%s.%d", path, i);
        int fd = open_ro(p);
        if (fd < 0)
            break;
        fs->fds[fs->n++] = fd;
    }
    return 0;
}

static uint64_t fd_inode(int fd, int64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return 0;
    if (size)
        *size = st.st_size;
    return st.st_ino;
}

/* ---- tail: backwards in blocks ----------------------------------------------------------- */

struct bwd {
    int fd;
    char *blk; /* READ_BLOCK */
    int64_t blk_off;
    size_t blk_len;
};

/* The offset of the last '\n' before `before`, or -1. */
static int64_t bwd_prev_nl(struct bwd *b, int64_t before)
{
    for (;;) {
        if (before > b->blk_off && before <= b->blk_off + (int64_t)b->blk_len) {
            char *nl = memrchr(b->blk, '\n', (size_t)(before - b->blk_off));
            if (nl)
                return b->blk_off + (nl - b->blk);
            before = b->blk_off;
        }
        if (before <= 0)
            return -1;
        int64_t start = before > READ_BLOCK ? before - READ_BLOCK : 0;
        ssize_t n = pread(b->fd, b->blk, (size_t)(before - start), start);
        if (n != before - start)
            return -1;
        b->blk_off = start;
        b->blk_len = (size_t)n;
    }
}

struct tail_ref {
    int file;
    int64_t off;
    size_t len;
};

/* Reads the line at [off, off+len) of fd into buf and parses it. */
static int load_line(int fd, int64_t off, size_t len, struct scratch *s, struct logs_entry *e)
{
    if (len > READ_LINE_MAX)
        return -1;
    ssize_t n = pread(fd, s->buf, len, off);
    if (n != (ssize_t)len)
        return -1;
    return parse_line(s->buf, len, s->dec, e);
}

struct tail_refs {
    struct tail_ref *v; /* newest first */
    size_t n, cap;
};

static void tail_refs_add(struct tail_refs *t, struct tail_ref r)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    t->v[t->n++] = r;
}

/*
 * Collects up to q->tail matching lines, newest first. Only offsets are kept, so memory grows
 * with the number of lines asked for and present, never with their size.
 */
static void tail_collect(struct file_set *fs, const struct logs_query *q, struct scratch *s,
                         struct tail_refs *refs, int64_t *live_end)
{
    struct bwd b = {.blk = s->blk};
    for (int i = 0; i < fs->n && refs->n < (size_t)q->tail; i++) {
        int64_t size = 0;
        fd_inode(fs->fds[i], &size);
        b.fd = fs->fds[i];
        b.blk_off = 0;
        b.blk_len = 0;
        /* only complete lines count: start at the last '\n' */
        int64_t nl = bwd_prev_nl(&b, size);
        if (i == 0)
            *live_end = nl + 1;
        while (nl >= 0 && refs->n < (size_t)q->tail) {
            int64_t start = bwd_prev_nl(&b, nl) + 1;
            struct logs_entry e;
            if (load_line(fs->fds[i], start, (size_t)(nl - start), s, &e) == 0 &&
                entry_matches(&e, q))
                tail_refs_add(refs, (struct tail_ref){i, start, (size_t)(nl - start)});
            nl = start - 1;
        }
    }
}

static void read_tail(struct file_set *fs, const struct logs_query *q, logs_cb cb, void *data,
                      struct scratch *s, int64_t *live_end)
{
    struct tail_refs refs = {0};
    tail_collect(fs, q, s, &refs, live_end);
    for (size_t k = refs.n; k > 0; k--) {
        struct tail_ref *r = &refs.v[k - 1];
        struct logs_entry e;
        if (load_line(fs->fds[r->file], r->off, r->len, s, &e) < 0)
            continue;
        if (cb(&e, data) < 0)
            break;
    }
    free(refs.v);
}

/* ---- public ------------------------------------------------------------------------------ */

static void scratch_init(struct scratch *s)
{
    s->buf = xmalloc(READ_LINE_MAX + READ_BLOCK);
    s->dec = xmalloc(READ_LINE_MAX + READ_BLOCK);
    s->blk = xmalloc(READ_BLOCK);
}

static void scratch_release(struct scratch *s)
{
    free(s->buf);
    free(s->dec);
    free(s->blk);
}

int logs_read(const char *path, const struct logs_query *q, logs_cb cb, void *data,
              struct logs_pos *end, struct err **err)
{
    struct file_set fs;
    if (file_set_open(path, &fs, err) < 0)
        return -1;
    struct scratch s;
    scratch_init(&s);
    int64_t live_end = 0;
    int r = 0;
    if (q->tail > 0) {
        read_tail(&fs, q, cb, data, &s, &live_end);
    } else if (q->tail == 0) {
        struct fwd f = {.fd = fs.fds[0], .buf = s.buf};
        const char *line;
        size_t len;
        while ((r = fwd_next(&f, &line, &len)) > 0)
            ;
        live_end = fwd_end(&f);
    } else {
        bool stopped = false;
        for (int i = fs.n - 1; i >= 0 && !stopped && r == 0; i--)
            r = read_forward(fs.fds[i], 0, q, cb, data, &s, i == 0 ? &live_end : NULL, &stopped);
    }
    if (end) {
        end->inode = fd_inode(fs.fds[0], NULL);
        end->offset = live_end;
    }
    file_set_close(&fs);
    scratch_release(&s);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "read %s", path);
    return 0;
}

/* pos always follows a '\n': anything else means the file was truncated and refilled. */
static bool at_line_start(int fd, int64_t offset)
{
    char c;
    return offset == 0 || (pread(fd, &c, 1, offset - 1) == 1 && c == '\n');
}

int logs_read_from(const char *path, const struct logs_query *q, struct logs_pos *pos, logs_cb cb,
                   void *data, struct err **err)
{
    struct file_set fs;
    if (file_set_open(path, &fs, err) < 0)
        return -1;
    int64_t live_size = 0;
    uint64_t live_ino = fd_inode(fs.fds[0], &live_size);
    /* which file pos points into: the live one, a rotated one, or none left (start over) */
    int from = 0;
    int64_t offset = pos->offset;
    if (live_ino != pos->inode) {
        from = -1;
        for (int i = 1; i < fs.n && from < 0; i++)
            if (fd_inode(fs.fds[i], NULL) == pos->inode)
                from = i;
        if (from < 0) {
            from = 0;
            offset = 0;
        }
    } else if (live_size < offset || !at_line_start(fs.fds[0], offset)) {
        offset = 0; /* truncated in place (max-file 1) */
    }
    struct scratch s;
    scratch_init(&s);
    int r = 0;
    bool stopped = false;
    int64_t live_end = offset;
    for (int i = from; i >= 0 && !stopped && r == 0; i--) {
        r = read_forward(fs.fds[i], i == from ? offset : 0, q, cb, data, &s,
                         i == 0 ? &live_end : NULL, &stopped);
    }
    if (!stopped) {
        pos->inode = live_ino;
        pos->offset = live_end;
    }
    file_set_close(&fs);
    scratch_release(&s);
    if (r < 0)
        return err_set(err, ERR_SYSTEM, -r, "read %s", path);
    return 0;
}
