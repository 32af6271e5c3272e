/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signal names as moby's signal.ParseSignal reads them on Linux: a number, or a name with or
 * without "SIG" in any case, including the real-time forms RTMIN, RTMIN+n, RTMAX-n and RTMAX.
 */
#include "api/containers.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int num;
} signal_names[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

/* Decimal digits only, value in [lo, hi]; -1 otherwise. */
static int parse_small(const char *s, int lo, int hi)
{
    if (!*s || strlen(s) > 3)
        return -1;
    int v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

static int parse_rt(const char *s)
{
    if (strncasecmp(s, "RTMIN", 5) == 0) {
        if (!s[5])
            return API_SIGRTMIN;
        int n = s[5] == '+' ? parse_small(s + 6, 1, API_SIGRTMAX - API_SIGRTMIN) : -1;
        return n < 0 ? -1 : API_SIGRTMIN + n;
    }
    if (strncasecmp(s, "RTMAX", 5) == 0) {
        if (!s[5])
            return API_SIGRTMAX;
        int n = s[5] == '-' ? parse_small(s + 6, 1, API_SIGRTMAX - API_SIGRTMIN) : -1;
        return n < 0 ? -1 : API_SIGRTMAX - n;
    }
    return -1;
}

int api_signal_parse(const char *s)
{
    if (!s || !*s)
        return -1;
    if (*s >= '0' && *s <= '9')
        return parse_small(s, 1, API_SIGRTMAX);
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++) {
        if (strcasecmp(s, signal_names[i].name) == 0)
            return signal_names[i].num;
    }
    return parse_rt(s);
}
