/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The user's terminal during an attached session: detach keys and their recognizer, raw mode
 * and its restore on every way out, window sizes and the signals the CLI catches.
 *
 * The saved terminal state and the signal self-pipe are the one piece of file-scope mutable
 * state in the client: a signal handler can reach nothing else. Only the handlers and the
 * functions below touch it.
 */
#include "client/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* ---- detach keys ------------------------------------------------------------------------ */

/* moby's term.ASCII: index = the byte. */
static const char *const ctrl_names[] = {
    "ctrl-@", "ctrl-a", "ctrl-b", "ctrl-c", "ctrl-d",  "ctrl-e", "ctrl-f", "ctrl-g",
    "ctrl-h", "ctrl-i", "ctrl-j", "ctrl-k", "ctrl-l",  "ctrl-m", "ctrl-n", "ctrl-o",
    "ctrl-p", "ctrl-q", "ctrl-r", "ctrl-s", "ctrl-t",  "ctrl-u", "ctrl-v", "ctrl-w",
    "ctrl-x", "ctrl-y", "ctrl-z", "ctrl-[", "ctrl-\\", "ctrl-]", "ctrl-^", "ctrl-_",
};

static int key_byte(const char *key, size_t len, unsigned char *out, struct err **err)
{
    if (len == 1) {
        *out = (unsigned char)key[0];
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(ctrl_names); i++) {
        if (strlen(ctrl_names[i]) == len && strncmp(ctrl_names[i], key, len) == 0) {
            *out = (unsigned char)i;
            return 0;
        }
    }
    if (len == 3 && strncmp(key, "DEL", 3) == 0) {
        *out = 127;
        return 0;
    }
    return err_set(err, ERR_INVALID, 0, "unknown character: '%.*s'", (int)len, key);
}

int cli_detach_keys_parse(const char *s, unsigned char out[CLI_DETACH_KEYS_MAX], size_t *n,
                          struct err **err)
{
    *n = 0;
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (*n == CLI_DETACH_KEYS_MAX)
            return err_set(err, ERR_INVALID, 0, "too many detach keys (at most %d)",
                           CLI_DETACH_KEYS_MAX);
        if (key_byte(p, len, &out[*n], err) < 0)
            return -1;
        (*n)++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

void cli_escape_init(struct cli_escape *e, const unsigned char *keys, size_t nkeys)
{
    memset(e, 0, sizeof(*e));
    if (nkeys > CLI_DETACH_KEYS_MAX)
        nkeys = CLI_DETACH_KEYS_MAX;
    if (nkeys)
        memcpy(e->keys, keys, nkeys);
    e->nkeys = nkeys;
}

bool cli_escape_feed(struct cli_escape *e, const char *in, size_t len, struct sb *out)
{
    if (e->nkeys == 0) {
        sb_add(out, in, len);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)in[i];
        if (b == e->keys[e->pos]) {
            if (++e->pos == e->nkeys)
                return true;
            continue;
        }
        /* A broken sequence: what was held goes out, then this byte, unmatched. */
        cli_escape_flush(e, out);
        sb_addc(out, (char)b);
    }
    return false;
}

void cli_escape_flush(struct cli_escape *e, struct sb *out)
{
    if (e->pos)
        sb_add(out, e->keys, e->pos);
    e->pos = 0;
}

/* ---- terminal --------------------------------------------------------------------------- */

static struct {
    volatile sig_atomic_t raw; /* saved holds the state to restore */
    int fd;
    struct termios saved;
    bool atexit_done;
    int pipe[2];
    bool proxy;
    struct sigaction old[NSIG];
    bool installed[NSIG];
} term = {.fd = -1, .pipe = {-1, -1}};

int cli_term_size(int fd, unsigned *rows, unsigned *cols)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
        return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

void cli_term_restore(void)
{
    if (!term.raw)
        return;
    term.raw = 0;
    tcsetattr(term.fd, TCSANOW, &term.saved);
}

static void term_restore_atexit(void)
{
    cli_term_restore();
}

int cli_term_raw(int fd, struct err **err)
{
    const char *noraw = getenv("NORAW");
    if ((noraw && *noraw) || term.raw || !isatty(fd))
        return 0;
    struct termios t;
    if (tcgetattr(fd, &t) < 0)
        return err_set(err, ERR_SYSTEM, errno, "unable to set IO streams as raw terminal");
    term.saved = t;
    term.fd = fd;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (!term.atexit_done) {
        atexit(term_restore_atexit);
        term.atexit_done = true;
    }
    term.raw = 1; /* before the change: a signal in between restores what was saved */
    if (tcsetattr(fd, TCSANOW, &t) < 0) {
        term.raw = 0;
        return err_set(err, ERR_SYSTEM, errno, "unable to set IO streams as raw terminal");
    }
    return 0;
}

/* ---- signals ---------------------------------------------------------------------------- */

/* moby/sys/signal's SignalMap for Linux, by number. */
static const char *const sig_names[] = {
    [SIGABRT] = "ABRT",     [SIGALRM] = "ALRM", [SIGBUS] = "BUS",   [SIGCHLD] = "CHLD",
    [SIGCONT] = "CONT",     [SIGFPE] = "FPE",   [SIGHUP] = "HUP",   [SIGILL] = "ILL",
    [SIGINT] = "INT",       [SIGIO] = "IO",     [SIGKILL] = "KILL", [SIGPIPE] = "PIPE",
    [SIGPROF] = "PROF",     [SIGPWR] = "PWR",   [SIGQUIT] = "QUIT", [SIGSEGV] = "SEGV",
    [SIGSTKFLT] = "STKFLT", [SIGSTOP] = "STOP", [SIGSYS] = "SYS",   [SIGTERM] = "TERM",
    [SIGTRAP] = "TRAP",     [SIGTSTP] = "TSTP", [SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",
    [SIGURG] = "URG",       [SIGUSR1] = "USR1", [SIGUSR2] = "USR2", [SIGVTALRM] = "VTALRM",
    [SIGWINCH] = "WINCH",   [SIGXCPU] = "XCPU", [SIGXFSZ] = "XFSZ",
};

const char *cli_signal_name(int sig, char buf[16])
{
    if (sig > 0 && (size_t)sig < ARRAY_SIZE(sig_names) && sig_names[sig])
        return sig_names[sig];
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        unsigned up = (unsigned)(sig - SIGRTMIN) & 63, down = (unsigned)(SIGRTMAX - sig) & 63;
        if (up == 0)
            snprintf(buf, 16, "RTMIN");
        else if (down == 0)
            snprintf(buf, 16, "RTMAX");
        else if (up <= 15)
            snprintf(buf, 16, "RTMIN+%u", up);
        else
            snprintf(buf, 16, "RTMAX-%u", down);
        return buf;
    }
    return NULL;
}

/* Not forwarded: the CLI's own business, or raised synchronously by a fault. */
static bool sig_forwardable(int sig)
{
    switch (sig) {
    case SIGKILL:
    case SIGSTOP:
    case SIGCHLD:
    case SIGPIPE:
    case SIGURG:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGSEGV:
    case SIGSYS:
        return false;
    default:
        return true;
    }
}

static void catch_handler(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (term.pipe[1] >= 0 && write(term.pipe[1], &b, 1) < 0) {
        /* A full pipe drops the signal: 4096 of them are already queued. */
    }
    errno = saved;
}

static void fatal_handler(int sig)
{
    cli_term_restore();
    signal(sig, SIG_DFL);
    raise(sig); /* delivered when the handler returns: the CLI ends by this signal */
}

static void sig_install(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    if (sigaction(sig, &sa, &old) < 0)
        return; /* glibc's reserved real-time signals */
    if (!term.installed[sig])
        term.old[sig] = old;
    term.installed[sig] = true;
}

int cli_signals_start(bool proxy, bool winch, struct err **err)
{
    if (term.pipe[0] < 0 && pipe2(term.pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return err_set(err, ERR_SYSTEM, errno, "pipe");
    term.proxy = proxy;
    for (int sig = 1; sig <= SIGRTMAX && sig < NSIG; sig++) {
        if (proxy && sig_forwardable(sig))
            sig_install(sig, catch_handler);
    }
    if (winch)
        sig_install(SIGWINCH, catch_handler);
    static const int fatal_always[] = {SIGPIPE, SIGABRT};
    static const int fatal_unproxied[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    for (size_t i = 0; i < ARRAY_SIZE(fatal_always); i++)
        sig_install(fatal_always[i], fatal_handler);
    for (size_t i = 0; !proxy && i < ARRAY_SIZE(fatal_unproxied); i++)
        sig_install(fatal_unproxied[i], fatal_handler);
    return term.pipe[0];
}

int cli_signals_next(int fd)
{
    unsigned char b;
    ssize_t n;
    do {
        n = read(fd, &b, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1 ? b : 0;
}

void cli_signals_stop(void)
{
    for (int sig = 1; sig < NSIG; sig++) {
        if (term.installed[sig])
            sigaction(sig, &term.old[sig], NULL);
        term.installed[sig] = false;
    }
    for (int i = 0; i < 2; i++) {
        if (term.pipe[i] >= 0)
            close(term.pipe[i]);
        term.pipe[i] = -1;
    }
}
