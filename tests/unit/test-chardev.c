/* Chardev backends: file, null, spec errors, unix and tcp sockets (server and
 * client, real connections on loopback), input back-pressure. */
#include "tests/unit/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/mainloop.h"
#include "system/util.h"

/* A frontend that records what it gets and takes at most `limit` bytes at a
 * time (-1: everything). */
typedef struct Recorder {
    uint8_t data[8192];
    int len;
    int limit;
    int events[8];
    int nr_events;
} Recorder;

static int rec_can_receive(void *opaque)
{
    Recorder *r = opaque;
    int room = (int)sizeof(r->data) - r->len;
    return r->limit >= 0 ? MIN(r->limit, room) : room;
}

static void rec_receive(void *opaque, const uint8_t *buf, int len)
{
    Recorder *r = opaque;
    memcpy(r->data + r->len, buf, (size_t)len);
    r->len += len;
    if (r->limit > 0)
        r->limit -= len;
}

static void rec_event(void *opaque, int event)
{
    Recorder *r = opaque;
    if (r->nr_events < 8)
        r->events[r->nr_events++] = event;
}

static bool rec_has_event(const Recorder *r, int event)
{
    for (int i = 0; i < r->nr_events; i++)
        if (r->events[i] == event)
            return true;
    return false;
}

static void rec_attach(Chardev *chr, Recorder *r)
{
    ChardevFrontend fe = { rec_can_receive, rec_receive, rec_event, r };
    r->limit = -1;
    chardev_attach(chr, &fe);
}

/* Run the main loop until cond holds or about 5 s of polling passed. */
#define SPIN_UNTIL(cond)                                    \
    do {                                                    \
        for (int spin_ = 0; spin_ < 500 && !(cond); spin_++) \
            main_loop_iterate(10);                          \
    } while (0)

static char *read_file(const char *path, size_t *len)
{
    static char buf[8192];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    *len = n > 0 ? (size_t)n : 0;
    buf[*len] = '\0';
    return buf;
}

/* Read what the peer sent, waiting up to ~5 s for want bytes. */
static int read_exact(int fd, char *buf, int want)
{
    int got = 0;
    for (int spin = 0; spin < 500 && got < want; spin++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10) > 0) {
            ssize_t n = read(fd, buf + got, (size_t)(want - got));
            if (n <= 0)
                break;
            got += (int)n;
        }
    }
    return got;
}

TEST(file_output_truncates)
{
    char path[512], spec[600], err[256];
    snprintf(path, sizeof(path), "%s/serial.log", test_tmpdir());
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "old contents that must go\n", 26) == 26);
    close(fd);
    snprintf(spec, sizeof(spec), "file:%s", path);
    Chardev *chr = chardev_new(spec, err, sizeof(err));
    REQUIRE(chr);
    CHECK(strcmp(chardev_spec(chr), spec) == 0);
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"hello ", 6), 6);
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"world\n", 6), 6);
    chardev_free(chr);
    size_t len;
    const char *text = read_file(path, &len);
    REQUIRE(text);
    CHECK(strcmp(text, "hello world\n") == 0);
}

TEST(file_cannot_open)
{
    char err[256];
    CHECK(chardev_new("file:/nonexistent-dir/x/serial.log", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "/nonexistent-dir/x/serial.log") != NULL);
    CHECK(chardev_new("file:", err, sizeof(err)) == NULL);
    CHECK(err[0] != '\0');
}

TEST(null_and_none)
{
    char err[256] = "x";
    Chardev *chr = chardev_new("null", err, sizeof(err));
    REQUIRE(chr);
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"abc", 3), 3);
    chardev_free(chr);
    CHECK(chardev_new("none", err, sizeof(err)) == NULL);
    CHECK_EQ(err[0], 0);
    /* writing to "none" (NULL) is harmless */
    CHECK_EQ(chardev_write(NULL, (const uint8_t *)"abc", 3), 3);
}

TEST(bad_specs_are_clear_errors)
{
    static const struct { const char *spec, *needle; } cases[] = {
        { "bogus", "unknown chardev 'bogus'" },
        { "stdio:foo", "takes no options" },
        { "null:x", "takes no options" },
        { "tcp:nohostport", "tcp:[HOST]:PORT" },
        { "tcp:127.0.0.1:12ab,server,nowait", "bad port" },
        { "tcp:127.0.0.1:0,server,reconnect=1", "'reconnect' is not implemented" },
        { "telnet:127.0.0.1:0,server,telnet=perhaps", "telnet=perhaps" },
        { "tcp:127.0.0.1:0,server=maybe", "server=maybe" },
        { "tcp:127.0.0.1:0,frobnicate", "frobnicate" },
        { "unix:,server,nowait", "unix socket path" },
        { "mon:none", "monitor" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        Chardev *chr = chardev_new(cases[i].spec, err, sizeof(err));
        CHECK(chr == NULL);
        if (!strstr(err, cases[i].needle)) {
            printf("  spec '%s' gave '%s'\n", cases[i].spec, err);
            CHECK(strstr(err, cases[i].needle) != NULL);
        }
        if (chr)
            chardev_free(chr);
    }
}

static int unix_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Common part of the server tests: one client talks both ways, leaves, and a
 * second one is served after it. */
static void exercise_server(Chardev *chr, int (*connect_client)(const void *), const void *arg)
{
    Recorder r = { 0 };
    rec_attach(chr, &r);
    /* no client: output dropped but counted as taken */
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"lost", 4), 4);
    CHECK(!chardev_socket_connected(chr));

    int c = connect_client(arg);
    REQUIRE(c >= 0);
    SPIN_UNTIL(chardev_socket_connected(chr));
    CHECK(chardev_socket_connected(chr));
    CHECK(rec_has_event(&r, CHR_EVENT_OPENED));

    /* a second client waits in the backlog while the first is served */
    int c2 = connect_client(arg);

    REQUIRE(write(c, "ping", 4) == 4);
    SPIN_UNTIL(r.len >= 4);
    CHECK_EQ(r.len, 4);
    CHECK(memcmp(r.data, "ping", 4) == 0);

    CHECK_EQ(chardev_write(chr, (const uint8_t *)"pong", 4), 4);
    char buf[16] = "";
    CHECK_EQ(read_exact(c, buf, 4), 4);
    CHECK(memcmp(buf, "pong", 4) == 0);

    close(c);
    SPIN_UNTIL(!chardev_socket_connected(chr));
    CHECK(!chardev_socket_connected(chr));
    CHECK(rec_has_event(&r, CHR_EVENT_CLOSED));

    /* now the waiting client gets in */
    REQUIRE(c2 >= 0);
    SPIN_UNTIL(chardev_socket_connected(chr));
    CHECK(chardev_socket_connected(chr));
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"second", 6), 6);
    CHECK_EQ(read_exact(c2, buf, 6), 6);
    CHECK(memcmp(buf, "second", 6) == 0);
    close(c2);
    SPIN_UNTIL(!chardev_socket_connected(chr));
}

static int connect_unix_arg(const void *arg) { return unix_connect(arg); }
static int connect_tcp_arg(const void *arg) { return tcp_connect(*(const int *)arg); }

TEST(unix_server)
{
    char path[512], spec[600], err[256];
    snprintf(path, sizeof(path), "%s/mon.sock", test_tmpdir());
    snprintf(spec, sizeof(spec), "unix:%s,server,nowait", path);
    Chardev *chr = chardev_new(spec, err, sizeof(err));
    if (!chr)
        printf("  %s\n", err);
    REQUIRE(chr);
    exercise_server(chr, connect_unix_arg, path);
    chardev_free(chr);
    CHECK(access(path, F_OK) != 0);    /* the socket file is removed */
}

TEST(tcp_server_ephemeral_port)
{
    char err[256];
    Chardev *chr = chardev_new("tcp:127.0.0.1:0,server=on,wait=off", err, sizeof(err));
    if (!chr)
        printf("  %s\n", err);
    REQUIRE(chr);
    int port = chardev_socket_port(chr);
    CHECK(port > 0);
    exercise_server(chr, connect_tcp_arg, &port);
    chardev_free(chr);
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

TEST(telnet_server)
{
    char err[256];
    Chardev *chr = chardev_new("telnet:127.0.0.1:0,server,nowait", err, sizeof(err));
    REQUIRE(chr);
    Recorder r = { 0 };
    rec_attach(chr, &r);
    int c = tcp_connect(chardev_socket_port(chr));
    REQUIRE(c >= 0);
    SPIN_UNTIL(chardev_socket_connected(chr));
    /* the negotiation comes first: IAC WILL ECHO ... */
    uint8_t greet[12];
    CHECK_EQ(read_exact(c, (char *)greet, 12), 12);
    CHECK(greet[0] == 0xff && greet[1] == 0xfb && greet[2] == 0x01);
    /* commands are dropped, IAC IAC is 0xff, CR NUL is CR, IAC BRK is a break */
    static const uint8_t in[] = { 'a', 0xff, 0xff, 'b', 0xff, 0xfd, 0x01, 'c', 0xff, 0xfa,
                                  0x18, 0x00, 'x', 0xff, 0xf0, '\r', 0, 'd', 0xff, 0xf3 };
    REQUIRE(write(c, in, sizeof(in)) == (ssize_t)sizeof(in));
    SPIN_UNTIL(rec_has_event(&r, CHR_EVENT_BREAK));
    CHECK_EQ(r.len, 6);
    CHECK(memcmp(r.data, "a\xff" "bc\rd", 6) == 0);
    CHECK(rec_has_event(&r, CHR_EVENT_BREAK));
    /* output: 0xff doubled */
    chardev_write(chr, (const uint8_t *)"x\xffy", 3);
    char buf[8];
    CHECK_EQ(read_exact(c, buf, 4), 4);
    CHECK(memcmp(buf, "x\xff\xffy", 4) == 0);
    close(c);
    SPIN_UNTIL(!chardev_socket_connected(chr));
    chardev_free(chr);
}

TEST(tcp_client)
{
    int port;
    int lfd = listen_loopback(&port);
    REQUIRE(lfd >= 0);
    char spec[64], err[256];
    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", port);
    Chardev *chr = chardev_new(spec, err, sizeof(err));
    REQUIRE(chr);
    int c = accept(lfd, NULL, NULL);
    REQUIRE(c >= 0);
    Recorder r = { 0 };
    rec_attach(chr, &r);
    CHECK(rec_has_event(&r, CHR_EVENT_OPENED));
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"hi", 2), 2);
    char buf[8];
    CHECK_EQ(read_exact(c, buf, 2), 2);
    CHECK(memcmp(buf, "hi", 2) == 0);
    REQUIRE(write(c, "yo", 2) == 2);
    SPIN_UNTIL(r.len >= 2);
    CHECK(r.len == 2 && memcmp(r.data, "yo", 2) == 0);
    close(c);
    SPIN_UNTIL(rec_has_event(&r, CHR_EVENT_CLOSED));
    CHECK(rec_has_event(&r, CHR_EVENT_CLOSED));
    /* output after the server left is dropped, not an error */
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"gone", 4), 4);
    chardev_free(chr);
    close(lfd);
}

TEST(tcp_client_refused)
{
    int port;
    int lfd = listen_loopback(&port);
    REQUIRE(lfd >= 0);
    close(lfd);     /* nobody listens on that port now */
    char spec[64], err[256];
    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", port);
    CHECK(chardev_new(spec, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "cannot connect") != NULL);
}

TEST(unix_client_refused)
{
    char spec[600], err[256];
    snprintf(spec, sizeof(spec), "unix:%s/nobody.sock", test_tmpdir());
    CHECK(chardev_new(spec, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "cannot connect") != NULL);
}

TEST(tcp_server_blocks_until_client)
{
    /* Without nowait, chardev_new returns only once a client is there: the
     * client connects from a child process. */
    int port;
    int lfd = listen_loopback(&port);
    REQUIRE(lfd >= 0);
    close(lfd);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 500; i++) {
            int c = tcp_connect(port);
            if (c >= 0) {
                if (write(c, "x", 1) != 1)
                    _exit(1);
                char b;
                if (read(c, &b, 1) != 1)
                    _exit(1);
                _exit(0);
            }
            usleep(10000);
        }
        _exit(1);
    }
    char spec[64], err[256];
    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d,server", port);
    Chardev *chr = chardev_new(spec, err, sizeof(err));
    REQUIRE(chr);
    CHECK(chardev_socket_connected(chr));
    chardev_write(chr, (const uint8_t *)"y", 1);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    chardev_free(chr);
}

TEST(input_backpressure)
{
    /* A frontend that takes 3 bytes and then nothing until it asks again. */
    int p[2];
    REQUIRE(pipe(p) == 0);
    int out = open("/dev/null", O_WRONLY);
    Chardev *chr = chardev_stdio_new_fds(p[0], out, false);
    Recorder r = { 0 };
    rec_attach(chr, &r);
    r.limit = 3;
    REQUIRE(write(p[1], "abcdefgh", 8) == 8);
    SPIN_UNTIL(r.len >= 3);
    main_loop_iterate(10);
    CHECK_EQ(r.len, 3);
    CHECK(memcmp(r.data, "abc", 3) == 0);
    r.limit = 4;
    chardev_accept_input(chr);
    SPIN_UNTIL(r.len >= 7);
    CHECK_EQ(r.len, 7);
    r.limit = -1;
    chardev_accept_input(chr);
    SPIN_UNTIL(r.len >= 8);
    CHECK_EQ(r.len, 8);
    CHECK(memcmp(r.data, "abcdefgh", 8) == 0);
    chardev_free(chr);
    close(p[0]);
    close(p[1]);
    close(out);
}

TEST(input_buffer_full_stops_reading)
{
    /* With a frontend that takes nothing, Kestrel reads at most its buffer
     * and leaves the rest in the pipe; everything arrives in order later. */
    int p[2];
    REQUIRE(pipe(p) == 0);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    int out = open("/dev/null", O_WRONLY);
    Chardev *chr = chardev_stdio_new_fds(p[0], out, false);
    Recorder r = { 0 };
    rec_attach(chr, &r);
    r.limit = 0;
    static uint8_t big[CHR_INBUF_SIZE * 2];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 1);
    REQUIRE(write(p[1], big, sizeof(big)) == (ssize_t)sizeof(big));
    for (int i = 0; i < 20; i++)
        main_loop_iterate(5);
    CHECK_EQ(r.len, 0);
    CHECK_EQ(chr->in_len, CHR_INBUF_SIZE);
    r.limit = -1;
    chardev_accept_input(chr);
    SPIN_UNTIL(r.len >= (int)sizeof(big));
    CHECK_EQ(r.len, sizeof(big));
    CHECK(memcmp(r.data, big, sizeof(big)) == 0);
    chardev_free(chr);
    close(p[0]);
    close(p[1]);
    close(out);
}

TEST(eof_on_input_is_not_an_error)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    int out = open("/dev/null", O_WRONLY);
    Chardev *chr = chardev_stdio_new_fds(p[0], out, false);
    Recorder r = { 0 };
    rec_attach(chr, &r);
    REQUIRE(write(p[1], "z", 1) == 1);
    close(p[1]);
    SPIN_UNTIL(chr->input_eof);
    CHECK(chr->input_eof);
    CHECK_EQ(r.len, 1);
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"still", 5), 5);
    chardev_free(chr);
    close(p[0]);
    close(out);
}

TEST(pty)
{
    char err[256];
    Chardev *chr = chardev_new("pty", err, sizeof(err));
    if (!chr)
        SKIP("no pseudo-terminals here");
    CHECK_EQ(chardev_write(chr, (const uint8_t *)"to the pty\n", 11), 11);
    chardev_free(chr);
}

TEST(named_chardevs)
{
    char path[512], log[512], opts[1200], err[256];
    snprintf(path, sizeof(path), "%s/named.txt", test_tmpdir());
    snprintf(log, sizeof(log), "%s/named.log", test_tmpdir());
    snprintf(opts, sizeof(opts), "file,id=f0,path=%s,logfile=%s", path, log);
    CHECK_EQ(chardev_add(opts, err, sizeof(err)), 0);
    Chardev *chr = chardev_new("chardev:f0", err, sizeof(err));
    REQUIRE(chr);
    chardev_write(chr, (const uint8_t *)"named\n", 6);
    size_t len;
    CHECK(strcmp(read_file(path, &len), "named\n") == 0);
    CHECK(strcmp(read_file(log, &len), "named\n") == 0);
    /* the same object again */
    Chardev *again = chardev_new("chardev:f0", err, sizeof(err));
    CHECK(again == chr);
    chardev_free(again);
    chardev_free(chr);
    /* append=on keeps what is there */
    snprintf(opts, sizeof(opts), "file,id=f1,path=%s,append=on", path);
    CHECK_EQ(chardev_add(opts, err, sizeof(err)), 0);
    chr = chardev_new("chardev:f1", err, sizeof(err));
    REQUIRE(chr);
    chardev_write(chr, (const uint8_t *)"more\n", 5);
    CHECK(strcmp(read_file(path, &len), "named\nmore\n") == 0);
    chardev_free(chr);
}

TEST(named_socket_and_mux)
{
    char err[256];
    CHECK_EQ(chardev_add("socket,id=s0,host=127.0.0.1,port=0,server=on,wait=off,nodelay=on",
                         err, sizeof(err)), 0);
    Chardev *chr = chardev_new("chardev:s0", err, sizeof(err));
    REQUIRE(chr);
    int port = chardev_socket_port(chr);
    CHECK(port > 0);
    Recorder r = { 0 };
    rec_attach(chr, &r);
    int c = tcp_connect(port);
    REQUIRE(c >= 0);
    SPIN_UNTIL(chardev_socket_connected(chr));
    CHECK(chardev_socket_connected(chr));
    close(c);
    SPIN_UNTIL(!chardev_socket_connected(chr));
    CHECK_EQ(chardev_add("null,id=m0,mux=on", err, sizeof(err)), 0);
    Chardev *m = chardev_new("chardev:m0", err, sizeof(err));
    REQUIRE(m);
    CHECK(m->escapes);
    CHECK(strcmp(m->label, "m0") == 0);
}

TEST(named_errors)
{
    static const struct { const char *opts, *needle; } cases[] = {
        { "null", "id=" },
        { "null,id=", "id=" },
        { "null,id=dup", NULL },
        { "null,id=dup", "duplicate id 'dup'" },
        { "bogus,id=b", "unknown backend 'bogus'" },
        { "udp,id=u", "not implemented" },
        { "null,id=x1,frob=1", "unknown option 'frob'" },
        { "file,id=x2", "path=" },
        { "socket,id=x3", "path=" },
        { "socket,id=x4,port=0,server=maybe", "server" },
        { "null,id=x5,mux=perhaps", "mux" },
        { "null,id=x6,logfile=/nonexistent-dir/l.txt", "logfile" },
        { "socket,id=x7,path=/tmp/a,,b,server=on", "','" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        int rc = chardev_add(cases[i].opts, err, sizeof(err));
        if (!cases[i].needle) {
            CHECK_EQ(rc, 0);
            continue;
        }
        CHECK(rc < 0);
        if (!strstr(err, cases[i].needle)) {
            printf("  '%s' gave '%s'\n", cases[i].opts, err);
            CHECK(strstr(err, cases[i].needle) != NULL);
        }
    }
    char err[256];
    CHECK(chardev_new("chardev:nosuch", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "no chardev with id 'nosuch'") != NULL);
}

TEST(pipe_backend)
{
    char base[512], in[600], out[600], spec[600], err[256];
    snprintf(base, sizeof(base), "%s/fifo", test_tmpdir());
    snprintf(in, sizeof(in), "%s.in", base);
    snprintf(out, sizeof(out), "%s.out", base);
    REQUIRE(mkfifo(in, 0600) == 0 && mkfifo(out, 0600) == 0);
    snprintf(spec, sizeof(spec), "pipe:%s", base);
    Chardev *chr = chardev_new(spec, err, sizeof(err));
    if (!chr)
        printf("  %s\n", err);
    REQUIRE(chr);
    Recorder r = { 0 };
    rec_attach(chr, &r);
    int w = open(in, O_WRONLY);
    int rd = open(out, O_RDONLY | O_NONBLOCK);
    REQUIRE(w >= 0 && rd >= 0);
    REQUIRE(write(w, "in!", 3) == 3);
    SPIN_UNTIL(r.len >= 3);
    CHECK(r.len == 3 && memcmp(r.data, "in!", 3) == 0);
    chardev_write(chr, (const uint8_t *)"out", 3);
    char buf[8];
    CHECK_EQ(read_exact(rd, buf, 3), 3);
    CHECK(memcmp(buf, "out", 3) == 0);
    close(w);
    close(rd);
    chardev_free(chr);
    CHECK(chardev_new("pipe:/nonexistent-dir/p", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "cannot open") != NULL);
    CHECK(chardev_new("pipe:", err, sizeof(err)) == NULL);
}
