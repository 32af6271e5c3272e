/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "client/attach.h"

static char fake_sock[256];

/* main.c's, which the library leaves out: the client talks to the fake below. */
int cli_ctx_client(struct cli_ctx *ctx, struct cli_client **out, struct err **err)
{
    if (!ctx->client_ready) {
        _cleanup_free_ char *host = xasprintf("unix://%s", fake_sock);
        if (cli_client_init(&ctx->client, host, err) < 0)
            return -1;
        ctx->client_ready = true;
    }
    *out = &ctx->client;
    return 0;
}

/* main.c's too; the command table names it. */
int cli_cmd_help(struct cli_ctx *ctx, const struct cli_args *args, struct err **err)
{
    (void)ctx;
    (void)args;
    (void)err;
    return 0;
}

/* ---- detach keys ------------------------------------------------------------------------ */

static void test_detach_keys(void **state)
{
    (void)state;
    unsigned char k[CLI_DETACH_KEYS_MAX];
    size_t n = 0;
    struct err *e = NULL;
    assert_int_equal(cli_detach_keys_parse("ctrl-p,ctrl-q", k, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(k[0], 0x10);
    assert_int_equal(k[1], 0x11);
    assert_int_equal(cli_detach_keys_parse("ctrl-a,x", k, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(k[0], 1);
    assert_int_equal(k[1], 'x');
    assert_int_equal(cli_detach_keys_parse("ctrl-@,ctrl-_,DEL,ctrl-\\", k, &n, &e), 0);
    assert_int_equal(n, 4);
    assert_int_equal(k[0], 0);
    assert_int_equal(k[1], 0x1f);
    assert_int_equal(k[2], 127);
    assert_int_equal(k[3], 0x1c);

    static const char *const bad[][2] = {
        {"ctrl-P", "unknown character: 'ctrl-P'"},
        {"ab", "unknown character: 'ab'"},
        {"", "unknown character: ''"},
        {"ctrl-p,", "unknown character: ''"},
        {"ctrl-p,,x", "unknown character: ''"},
        {"del", "unknown character: 'del'"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(cli_detach_keys_parse(bad[i][0], k, &n, &e), -1);
        assert_string_equal(e->msg, bad[i][1]);
        err_freep(&e);
    }
}

/* ---- the escape proxy ------------------------------------------------------------------- */

static void feed_bytes(struct cli_escape *esc, const char *in, size_t len, struct sb *out,
                       int *detached_at)
{
    *detached_at = -1;
    for (size_t i = 0; i < len; i++) {
        if (cli_escape_feed(esc, in + i, 1, out)) {
            *detached_at = (int)i;
            return;
        }
    }
}

static void test_escape(void **state)
{
    (void)state;
    const unsigned char keys[] = {0x10, 0x11};
    struct cli_escape esc;
    struct sb out = SB_INIT;
    int at;

    /* A partial sequence then another byte: everything goes through, in order. */
    cli_escape_init(&esc, keys, 2);
    feed_bytes(&esc,
               "a\x10"
               "b",
               3, &out, &at);
    assert_int_equal(at, -1);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.buf,
                        "a\x10"
                        "b",
                        3);

    /* The held byte is not sent until the sequence breaks. */
    sb_reset(&out);
    feed_bytes(&esc, "\x10", 1, &out, &at);
    assert_int_equal(out.len, 0);
    feed_bytes(&esc, "\x11", 1, &out, &at);
    assert_int_equal(at, 0);
    assert_int_equal(out.len, 0);

    /* In one chunk: the bytes before the sequence are sent, the keys never. */
    cli_escape_init(&esc, keys, 2);
    sb_reset(&out);
    assert_true(cli_escape_feed(&esc, "xy\x10\x11z", 5, &out));
    assert_int_equal(out.len, 2);
    assert_memory_equal(out.buf, "xy", 2);

    /* ctrl-p ctrl-p ctrl-q: the second ctrl-p breaks the first and is not matched again. */
    cli_escape_init(&esc, keys, 2);
    sb_reset(&out);
    feed_bytes(&esc, "\x10\x10\x11", 3, &out, &at);
    assert_int_equal(at, -1);
    assert_int_equal(out.len, 3);

    /* At EOF the held bytes are sent. */
    cli_escape_init(&esc, keys, 2);
    sb_reset(&out);
    feed_bytes(&esc, "q\x10", 2, &out, &at);
    assert_int_equal(out.len, 1);
    cli_escape_flush(&esc, &out);
    assert_int_equal(out.len, 2);
    assert_memory_equal(out.buf, "q\x10", 2);

    /* Three keys, custom: ctrl-a,x,y. */
    unsigned char k3[CLI_DETACH_KEYS_MAX];
    size_t n3 = 0;
    assert_int_equal(cli_detach_keys_parse("ctrl-a,x,y", k3, &n3, NULL), 0);
    cli_escape_init(&esc, k3, n3);
    sb_reset(&out);
    feed_bytes(&esc, "\x01xz\x01xy", 6, &out, &at);
    assert_int_equal(at, 5);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.buf, "\x01xz", 3);

    /* No keys: everything passes. */
    cli_escape_init(&esc, NULL, 0);
    sb_reset(&out);
    assert_false(cli_escape_feed(&esc, "\x10\x11", 2, &out));
    assert_int_equal(out.len, 2);
    sb_release(&out);
}

/* ---- frames ----------------------------------------------------------------------------- */

static void test_demux_splits(void **state)
{
    (void)state;
    const char stream[] = "\x01\0\0\0\0\0\0\x04out\n"
                          "\x02\0\0\0\0\0\0\x04"
                          "err\n"
                          "\x01\0\0\0\0\0\0\x00"
                          "\x01\0\0\0\0\0\0\x02ok";
    size_t len = sizeof(stream) - 1;
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b += 3) {
            char *obuf = NULL, *ebuf = NULL;
            size_t olen = 0, elen = 0;
            FILE *o = open_memstream(&obuf, &olen), *er = open_memstream(&ebuf, &elen);
            struct cli_demux d;
            cli_demux_init(&d, o, er, false);
            assert_int_equal(cli_demux_feed(&d, stream, a, NULL), 0);
            assert_int_equal(cli_demux_feed(&d, stream + a, b - a, NULL), 0);
            assert_int_equal(cli_demux_feed(&d, stream + b, len - b, NULL), 0);
            assert_false(cli_demux_partial(&d));
            fclose(o);
            fclose(er);
            assert_string_equal(obuf, "out\nok");
            assert_string_equal(ebuf, "err\n");
            free(obuf);
            free(ebuf);
        }
    }
}

/* ---- the 101 ---------------------------------------------------------------------------- */

static int head_result_n(const char *reply, size_t len, char **rest, struct err **err)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(write(sv[1], reply, len), (ssize_t)len);
    shutdown(sv[1], SHUT_WR);
    struct cli_conn c;
    cli_conn_init(&c, sv[0]);
    int r = cli_hijack_response(&c, err);
    if (rest) {
        *rest = xmalloc(c.rbuf.len + 1);
        memcpy(*rest, c.rbuf.buf ? c.rbuf.buf : "", c.rbuf.len);
    }
    cli_conn_release(&c);
    close(sv[1]);
    return r;
}

static int head_result(const char *reply, char **rest, struct err **err)
{
    return head_result_n(reply, strlen(reply), rest, err);
}

static void test_hijack_head(void **state)
{
    (void)state;
    struct err *e = NULL;
    char *rest = NULL;
    static const char up[] = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/"
                             "vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: "
                             "tcp\r\n\r\n\x01\0\0\0\0\0\0\x02hi";
    assert_int_equal(head_result_n(up, sizeof(up) - 1, &rest, &e), 0);
    assert_memory_equal(rest, "\x01\0\0\0\0\0\0\x02hi", 10);
    free(rest);
    assert_int_equal(head_result("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", NULL, &e), -1);
    assert_string_equal(e->msg, "unable to upgrade to tcp, received 200");
    err_freep(&e);
    assert_int_equal(
        head_result("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                    "Content-Length: 35\r\n\r\n{\"message\":\"No such container: x\"}\n",
                    NULL, &e),
        -1);
    assert_string_equal(e->msg, "Error response from daemon: No such container: x");
    err_freep(&e);
    /* An error written raw after the hijack (dockerd's), ended by the close. */
    assert_int_equal(head_result("HTTP/1.1 409 Conflict\r\nContent-Type: application/"
                                 "vnd.docker.raw-stream\r\n\r\ncontainer is paused\r\n",
                                 NULL, &e),
                     -1);
    assert_string_equal(e->msg, "Error response from daemon: container is paused");
    err_freep(&e);
}

/* ---- the terminal ----------------------------------------------------------------------- */

static void test_term(void **state)
{
    (void)state;
    int master, slave;
    struct winsize ws = {.ws_row = 33, .ws_col = 77};
    assert_int_equal(openpty(&master, &slave, NULL, NULL, &ws), 0);
    unsigned h = 0, w = 0;
    assert_int_equal(cli_term_size(slave, &h, &w), 0);
    assert_int_equal(h, 33);
    assert_int_equal(w, 77);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(cli_term_size(p[0], &h, &w), -1);
    assert_int_equal(cli_term_raw(p[0], NULL), 0); /* not a terminal: nothing to do */

    struct termios before, raw, after;
    tcgetattr(slave, &before);
    assert_true(before.c_lflag & ICANON);
    assert_int_equal(cli_term_raw(slave, NULL), 0);
    tcgetattr(slave, &raw);
    assert_false(raw.c_lflag & (ICANON | ECHO | ISIG | IEXTEN));
    assert_false(raw.c_iflag & (ICRNL | IXON));
    assert_false(raw.c_oflag & OPOST);
    assert_int_equal(raw.c_cc[VMIN], 1);
    cli_term_restore();
    tcgetattr(slave, &after);
    assert_int_equal(after.c_lflag, before.c_lflag);
    assert_int_equal(after.c_iflag, before.c_iflag);
    assert_int_equal(after.c_oflag, before.c_oflag);
    close(p[0]);
    close(p[1]);
    close(master);
    close(slave);
}

static void test_signal_names(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(cli_signal_name(SIGINT, buf), "INT");
    assert_string_equal(cli_signal_name(SIGWINCH, buf), "WINCH");
    assert_string_equal(cli_signal_name(SIGRTMIN, buf), "RTMIN");
    assert_string_equal(cli_signal_name(SIGRTMIN + 3, buf), "RTMIN+3");
    assert_string_equal(cli_signal_name(SIGRTMAX - 1, buf), "RTMAX-1");
    assert_string_equal(cli_signal_name(SIGRTMAX, buf), "RTMAX");
}

/* ---- the run sequence against a fake daemon --------------------------------------------- */

static char fake_dir[128];

static void fake_log(const char *line)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/log", fake_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    dprintf(fd, "%s\n", line);
    close(fd);
}

static bool fake_flag(const char *name, int wait_ms)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", fake_dir, name);
    for (int i = 0;; i += 5) {
        if (access(path, F_OK) == 0)
            return true;
        if (i >= wait_ms)
            return false;
        struct timespec ts = {.tv_nsec = 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void fake_set(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", fake_dir, name);
    close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
}

static void fake_send(int fd, const char *s, size_t len)
{
    if (write(fd, s, len) != (ssize_t)len)
        _exit(3);
}
#define SEND(fd, s) fake_send(fd, s, sizeof(s) - 1)

/* One connection of the fake, in its own process. */
static void fake_conn(int fd)
{
    char req[8192];
    size_t len = 0;
    while (!memmem(req, len, "\r\n\r\n", 4) && len < sizeof(req)) {
        ssize_t n = read(fd, req + len, sizeof(req) - len);
        if (n <= 0)
            _exit(0);
        len += (size_t)n;
    }
    char *sp1 = memchr(req, ' ', len), *sp2 = sp1 ? memchr(sp1 + 1, ' ', len) : NULL;
    if (!sp2)
        _exit(2);
    *sp2 = '\0';
    char *path = sp1 + 1;
    if (strncmp(path, "/v1.", 4) == 0)
        path = strchr(path + 1, '/');
    if (strcmp(path, "/_ping") == 0) {
        SEND(fd, "HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\nContent-Length: 0\r\n\r\n");
        _exit(0);
    }
    char line[512];
    snprintf(line, sizeof(line), "%.5s %s", req, path);
    if (strstr(path, "/create")) {
        fake_log(strstr(path, "create") - 1);
        SEND(fd, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: "
                 "13\r\n\r\n{\"Id\":\"c0ff\"}");
    } else if (strstr(path, "/attach")) {
        fake_log(strstr(path, "/attach"));
        SEND(fd, "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
        /* stdin until the half-close */
        char in[256];
        size_t got = 0;
        for (ssize_t n; (n = read(fd, in + got, sizeof(in) - got - 1)) > 0;)
            got += (size_t)n;
        in[got] = '\0';
        char l2[300];
        snprintf(l2, sizeof(l2), "stdin [%s] eof", in);
        fake_log(l2);
        fake_set("stdin-done");
        fake_flag("started", 5000);
        SEND(fd, "\x01\0\0\0\0\0\0\x06hello\n\x02\0\0\0\0\0\0\x04oops");
        shutdown(fd, SHUT_WR);
        fake_set("exited");
    } else if (strstr(path, "/wait")) {
        fake_log(strstr(path, "/wait"));
        SEND(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                 "chunked\r\n\r\n");
        fake_flag("exited", 5000);
        SEND(fd, "1e\r\n{\"Error\":null,\"StatusCode\":3}\r\n0\r\n\r\n");
    } else if (strstr(path, "/start")) {
        /* Was stdin (and its EOF) already through before start? */
        fake_log(fake_flag("stdin-done", 300) ? "/start (stdin done)" : "/start");
        SEND(fd, "HTTP/1.1 204 No Content\r\n\r\n");
        fake_set("started");
    } else if (strstr(path, "/resize")) {
        fake_log(strstr(path, "/resize"));
        SEND(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    } else {
        fake_log(line);
        SEND(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    }
    /* Let the client close first. */
    char drain[64];
    while (read(fd, drain, sizeof(drain)) > 0) {
    }
    _exit(0);
}

static pid_t fake_start(void)
{
    strcpy(fake_dir, "/tmp/berth-attach-test-XXXXXX");
    assert_non_null(mkdtemp(fake_dir));
    snprintf(fake_sock, sizeof(fake_sock), "%s/s.sock", fake_dir);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, fake_sock);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(ls, 16), 0);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGCHLD, SIG_IGN);
        for (;;) {
            int c = accept(ls, NULL, NULL);
            if (c < 0)
                continue;
            if (fork() == 0)
                fake_conn(c);
            close(c);
        }
    }
    close(ls);
    return pid;
}

static void fake_stop(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fake_dir);
    assert_int_equal(system(cmd), 0);
}

static char *fake_read_log(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/log", fake_dir);
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    struct sb s = SB_INIT;
    char buf[512];
    while (fgets(buf, sizeof(buf), f))
        sb_adds(&s, buf);
    fclose(f);
    return sb_steal(&s);
}

/* Runs `berth run <argv>` with stdin from in_fd and stdout on out_fd; returns the status. */
static int run_cmd(int argc, char **argv, int in_fd, int out_fd, char **out, char **errs)
{
    size_t olen = 0, elen = 0;
    struct cli_ctx ctx = {.out = open_memstream(out, &olen), .errf = open_memstream(errs, &elen)};
    int save_in = dup(STDIN_FILENO), save_out = dup(STDOUT_FILENO);
    dup2(in_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    const struct cli_cmd *cmd = cli_cmd_find("run");
    struct cli_args a;
    int status = 0;
    assert_int_equal(cli_args_parse(&ctx, cmd, argc, argv, &a, &status), 0);
    struct err *e = NULL;
    status = cmd->run(&ctx, &a, &e);
    dup2(save_in, STDIN_FILENO);
    dup2(save_out, STDOUT_FILENO);
    close(save_in);
    close(save_out);
    if (e)
        fprintf(ctx.errf, "%s", e->msg);
    err_freep(&e);
    cli_args_release(&a);
    cli_client_release(&ctx.client);
    fclose(ctx.out);
    fclose(ctx.errf);
    return status;
}

/*
 * The log equals want, but for the order of the stdin record and the /wait request that
 * follows it: they arrive on two connections, served by two processes of the fake daemon, so
 * their order in the log is the fake's, not something the client decides.
 */
static void assert_log(const char *log, const char *want)
{
    if (strcmp(log, want) == 0)
        return;
    const char *in = strstr(want, "stdin [");
    const char *in_end = in ? strchr(in, '\n') : NULL;
    const char *wait_end =
        in_end && strncmp(in_end + 1, "/wait?", 6) == 0 ? strchr(in_end + 1, '\n') : NULL;
    if (!wait_end) {
        assert_string_equal(log, want);
        return;
    }
    struct sb swapped = SB_INIT;
    sb_add(&swapped, want, (size_t)(in - want));
    sb_add(&swapped, in_end + 1, (size_t)(wait_end - in_end));
    sb_add(&swapped, in, (size_t)(in_end - in + 1));
    sb_adds(&swapped, wait_end + 1);
    assert_string_equal(log, sb_str(&swapped));
    sb_release(&swapped);
}

static void test_run_sequence(void **state)
{
    (void)state;
    pid_t fake = fake_start();
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    char *out = NULL, *errs = NULL;
    char *argv[] = {"busybox", "sh", NULL};
    int st = run_cmd(2, argv, devnull, devnull, &out, &errs);
    assert_int_equal(st, 3);
    assert_string_equal(out, "hello\n");
    assert_string_equal(errs, "oops");
    char *log = fake_read_log();
    assert_log(log, "/create\n"
                    "/attach?stderr=1&stdout=1&stream=1\n"
                    "stdin [] eof\n"
                    "/wait?condition=next-exit\n"
                    "/start (stdin done)\n");
    free(log);
    free(out);
    free(errs);
    fake_stop(fake);
    close(devnull);
}

static void test_run_piped_stdin(void **state)
{
    (void)state;
    pid_t fake = fake_start();
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(write(p[1], "data\0x\n", 7), 7);
    close(p[1]);
    char *out = NULL, *errs = NULL;
    char *argv[] = {"-i", "--rm", "busybox", "cat", NULL};
    int st = run_cmd(4, argv, p[0], devnull, &out, &errs);
    assert_int_equal(st, 3);
    char *log = fake_read_log();
    /* The NUL cuts the logged text: "data" is what reached the daemon before it. */
    assert_log(log, "/create\n"
                    "/attach?stderr=1&stdin=1&stdout=1&stream=1\n"
                    "stdin [data] eof\n"
                    "/wait?condition=removed\n"
                    "/start (stdin done)\n");
    free(log);
    free(out);
    free(errs);
    close(p[0]);
    fake_stop(fake);
    close(devnull);
}

static void test_run_tty_resize(void **state)
{
    (void)state;
    pid_t fake = fake_start();
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int master, slave;
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    assert_int_equal(openpty(&master, &slave, NULL, NULL, &ws), 0);
    char *out = NULL, *errs = NULL;
    char *argv[] = {"-t", "busybox", "sh", NULL};
    int st = run_cmd(3, argv, devnull, slave, &out, &errs);
    assert_int_equal(st, 3);
    char *log = fake_read_log();
    assert_log(log, "/create\n"
                    "/attach?stderr=1&stdout=1&stream=1\n"
                    "stdin [] eof\n"
                    "/wait?condition=next-exit\n"
                    "/start (stdin done)\n"
                    "/resize?h=24&w=80\n");
    free(log);
    free(out);
    free(errs);
    close(master);
    close(slave);
    fake_stop(fake);
    close(devnull);
}

static void test_run_not_a_tty(void **state)
{
    (void)state;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    char *out = NULL, *errs = NULL;
    char *argv[] = {"-i", "-t", "busybox", "sh", NULL};
    int st = run_cmd(4, argv, devnull, devnull, &out, &errs);
    assert_int_equal(st, -1);
    assert_string_equal(errs, "the input device is not a TTY");
    free(out);
    free(errs);
    close(devnull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detach_keys),    cmocka_unit_test(test_escape),
        cmocka_unit_test(test_demux_splits),   cmocka_unit_test(test_hijack_head),
        cmocka_unit_test(test_term),           cmocka_unit_test(test_signal_names),
        cmocka_unit_test(test_run_sequence),   cmocka_unit_test(test_run_piped_stdin),
        cmocka_unit_test(test_run_tty_resize), cmocka_unit_test(test_run_not_a_tty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
