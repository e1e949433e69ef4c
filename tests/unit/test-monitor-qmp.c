/* The QMP monitor over a pipe terminal: greeting, negotiation, commands,
 * ids, errors, framing of split and batched input. */
#include "tests/unit/harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/mainloop.h"
#include "system/monitor.h"
#include "system/util.h"

typedef struct Conn {
    int in_w, out_r, in_r, out_w;
    Chardev *chr;
    QmpMonitor *q;
    char out[1 << 17];
} Conn;

static void conn_open(Conn *c)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        abort();
    c->in_r = in[0];
    c->in_w = in[1];
    c->out_r = out[0];
    c->out_w = out[1];
    fcntl(c->out_r, F_SETFL, O_NONBLOCK);
    c->chr = chardev_stdio_new_fds(c->in_r, c->out_w, true);
    c->q = qmp_monitor_new(c->chr);
}

static void conn_close(Conn *c)
{
    chardev_free(c->chr);
    qmp_monitor_free(c->q);
    close(c->in_r);
    close(c->in_w);
    close(c->out_r);
    close(c->out_w);
}

/* Send text, return everything printed in answer. */
static const char *send_text(Conn *c, const char *text)
{
    if (*text && write(c->in_w, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    for (int i = 0; i < 5; i++)
        main_loop_iterate(5);
    size_t len = 0;
    ssize_t n;
    while ((n = read(c->out_r, c->out + len, sizeof(c->out) - 1 - len)) > 0)
        len += (size_t)n;
    c->out[len] = '\0';
    return c->out;
}

static void negotiate(Conn *c)
{
    send_text(c, "");
    send_text(c, "{\"execute\": \"qmp_capabilities\"}");
}

TEST(greeting)
{
    Conn c;
    conn_open(&c);
    const char *out = send_text(&c, "");
    CHECK(strncmp(out, "{\"QMP\": {\"version\": {\"qemu\": {", 29) == 0);
    CHECK(strstr(out, "\"capabilities\": []}}\r\n") != NULL);
    conn_close(&c);
}

TEST(negotiation)
{
    Conn c;
    conn_open(&c);
    send_text(&c, "");
    const char *out = send_text(&c, "{\"execute\": \"query-status\"}");
    CHECK(strstr(out, "\"class\": \"CommandNotFound\"") != NULL);
    CHECK(strstr(out, "qmp_capabilities") != NULL);
    out = send_text(&c, "{\"execute\": \"qmp_capabilities\", \"id\": 1}");
    CHECK(strcmp(out, "{\"return\": {}, \"id\": 1}\r\n") == 0);
    out = send_text(&c, "{\"execute\": \"qmp_capabilities\"}");
    CHECK(strstr(out, "already complete") != NULL);
    conn_close(&c);
}

TEST(commands_and_ids)
{
    Conn c;
    conn_open(&c);
    negotiate(&c);
    const char *out = send_text(&c, "{\"execute\": \"query-status\", \"id\": \"abc\"}");
    CHECK(strstr(out, "\"return\": {\"status\": ") != NULL);
    CHECK(strstr(out, "\"id\": \"abc\"}") != NULL);
    out = send_text(&c, "{\"id\": {\"n\": [1, 2]}, \"execute\": \"query-version\"}");
    CHECK(strstr(out, "\"package\": \"Kestrel") != NULL);
    CHECK(strstr(out, "\"id\": {\"n\": [1, 2]}}") != NULL);
    out = send_text(&c, "{\"execute\": \"query-commands\"}");
    CHECK(strstr(out, "{\"name\": \"human-monitor-command\"}") != NULL);
    CHECK(strstr(out, "{\"name\": \"query-status\"}") != NULL);
    out = send_text(&c, "{\"execute\": \"stop\"}");
    CHECK(strstr(out, "{\"return\": {}}") != NULL);
    out = send_text(&c, "{\"execute\": \"query-kvm\"}");
    CHECK(strstr(out, "\"enabled\": false") != NULL);
    out = send_text(&c, "{\"execute\": \"query-cpus-fast\"}");
    CHECK(strstr(out, "{\"return\": [") != NULL);
    conn_close(&c);
}

TEST(human_monitor_command)
{
    Conn c;
    conn_open(&c);
    negotiate(&c);
    const char *out = send_text(&c, "{\"execute\": \"human-monitor-command\", "
                                    "\"arguments\": {\"command-line\": \"help\"}}");
    CHECK(strncmp(out, "{\"return\": \"", 12) == 0);
    CHECK(strstr(out, "system_reset") != NULL);
    CHECK(strstr(out, "\\n") != NULL);           /* newlines escaped */
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
    out = send_text(&c, "{\"execute\": \"human-monitor-command\", "
                        "\"arguments\": {\"command-line\": \"print 0x10 + 0x\\u0032\"}}");
    CHECK(strstr(out, "\"0x12\\n\"") != NULL);
    out = send_text(&c, "{\"execute\": \"human-monitor-command\", \"arguments\": {}}");
    CHECK(strstr(out, "command-line") != NULL && strstr(out, "GenericError") != NULL);
    conn_close(&c);
}

TEST(errors)
{
    Conn c;
    conn_open(&c);
    negotiate(&c);
    const char *out = send_text(&c, "{\"execute\": \"no-such-thing\", \"id\": 7}");
    CHECK(strstr(out, "The command no-such-thing has not been found") != NULL);
    CHECK(strstr(out, "\"id\": 7}") != NULL);
    out = send_text(&c, "{\"id\": 8}");
    CHECK(strstr(out, "lacks member 'execute'") != NULL);
    out = send_text(&c, "{\"execute\": \"stop\", \"arguments\": [1]}");
    CHECK(strstr(out, "must be an object") != NULL);
    out = send_text(&c, "{\"execute\": nonsense}");
    CHECK(strstr(out, "JSON parse error") != NULL);
    out = send_text(&c, "{\"execute\": 5}");
    CHECK(strstr(out, "lacks member 'execute'") != NULL);
    out = send_text(&c, "garbage");
    CHECK(strstr(out, "JSON parse error") != NULL);
    /* and it still works */
    out = send_text(&c, "{\"execute\": \"query-status\"}");
    CHECK(strstr(out, "\"return\"") != NULL);
    conn_close(&c);
}

TEST(framing)
{
    Conn c;
    conn_open(&c);
    negotiate(&c);
    /* split in pieces, braces and quotes inside strings */
    send_text(&c, "{\"exec");
    const char *out = send_text(&c, "ute\": \"query-status\", \"id\": \"}{\\\"\"}");
    CHECK(strstr(out, "\"id\": \"}{\\\"\"}") != NULL);
    /* two at once */
    out = send_text(&c, "{\"execute\": \"query-status\", \"id\": 1}\n"
                        "{\"execute\": \"query-status\", \"id\": 2}\n");
    CHECK(strstr(out, "\"id\": 1}") != NULL);
    CHECK(strstr(out, "\"id\": 2}") != NULL);
    /* too long: an error, then business as usual */
    size_t n = 70 * 1024;
    char *big = xmalloc(n + 64);
    strcpy(big, "{\"execute\": \"query-status\", \"id\": \"");
    size_t l = strlen(big);
    memset(big + l, 'a', n);
    strcpy(big + l + n, "\"}");
    size_t total = strlen(big), off = 0;
    while (off < total) {
        size_t chunk = MIN(total - off, (size_t)4096);
        if (write(c.in_w, big + off, chunk) != (ssize_t)chunk)
            abort();
        off += chunk;
        for (int i = 0; i < 3; i++)
            main_loop_iterate(2);
    }
    free(big);
    out = send_text(&c, "");
    CHECK(strstr(out, "too long") != NULL);
    out = send_text(&c, "{\"execute\": \"query-status\", \"id\": 3}");
    CHECK(strstr(out, "\"id\": 3}") != NULL);
    /* deep nesting is refused, not a stack overflow */
    char deep[400];
    size_t d = 0;
    d += (size_t)snprintf(deep, sizeof(deep), "{\"execute\": \"stop\", \"id\": ");
    for (int i = 0; i < 100; i++)
        deep[d++] = '[';
    for (int i = 0; i < 100; i++)
        deep[d++] = ']';
    deep[d++] = '}';
    deep[d] = '\0';
    out = send_text(&c, deep);
    CHECK(strstr(out, "JSON parse error") != NULL);
    conn_close(&c);
}

TEST(mon_option)
{
    char err[256];
    CHECK_EQ(chardev_add("null,id=qmpnull", err, sizeof(err)), 0);
    CHECK_EQ(chardev_add("null,id=hmpnull", err, sizeof(err)), 0);
    CHECK_EQ(monitor_add_from_opts("chardev=qmpnull,mode=control,pretty=on", err, sizeof(err)), 0);
    CHECK_EQ(monitor_add_from_opts("hmpnull", err, sizeof(err)), 0);
    CHECK(monitor_add_from_opts("chardev=nosuch", err, sizeof(err)) < 0);
    CHECK(strstr(err, "nosuch") != NULL);
    CHECK(monitor_add_from_opts("chardev=hmpnull,mode=fancy", err, sizeof(err)) < 0);
    CHECK(strstr(err, "fancy") != NULL);
    CHECK(monitor_add_from_opts("chardev=hmpnull,frob=1", err, sizeof(err)) < 0);
    CHECK(strstr(err, "frob") != NULL);
    CHECK(monitor_add_from_opts("mode=control", err, sizeof(err)) < 0);
}

TEST(z_quit)
{
    Conn c;
    conn_open(&c);
    negotiate(&c);
    CHECK(!main_loop_should_quit());
    const char *out = send_text(&c, "{\"execute\": \"quit\"}");
    CHECK(strstr(out, "{\"return\": {}}") != NULL);
    CHECK(main_loop_should_quit());
    conn_close(&c);
}
