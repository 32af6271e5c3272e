/* SPDX-License-Identifier: Apache-2.0 */
#include "common/common.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The log sink: the one piece of global state, set once by main before any thread starts. */
static struct {
    enum log_level level;
    int fd;
} sink = {LOG_LVL_INFO, 2};

static const char *const level_names[] = {
    [LOG_LVL_DEBUG] = "debug", [LOG_LVL_INFO] = "info",   [LOG_LVL_WARN] = "warn",
    [LOG_LVL_ERROR] = "error", [LOG_LVL_FATAL] = "fatal",
};

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOG_LVL_WARN;
        return 0;
    }
    return -1;
}

void log_setup(enum log_level level, int fd)
{
    sink.level = level;
    sink.fd = fd;
}

bool log_enabled(enum log_level level)
{
    return level >= sink.level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    time_rfc3339nano(&ts, when);
    char line[4096];
    int n = snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"", when, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 2, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 3)
        len = sizeof(line) - 3;
    line[len++] = '"';
    line[len++] = '\n';
    (void)fdu_write_all(sink.fd, line, len);
}
