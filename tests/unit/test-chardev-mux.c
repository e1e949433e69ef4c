/* The stdio chardev's Ctrl-A escape and mux, fed through pipes in place of
 * the terminal. */
#include "tests/unit/harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/mainloop.h"
#include "system/util.h"

typedef struct Recorder {
    char data[1024];
    int len;
    int limit;             /* -1: unlimited; 0: takes nothing */
    int focus_events, break_events;
} Recorder;

static int rec_can_receive(void *opaque)
{
    Recorder *r = opaque;
    return r->limit < 0 ? (int)sizeof(r->data) - 1 - r->len : r->limit;
}

static void rec_receive(void *opaque, const uint8_t *buf, int len)
{
    Recorder *r = opaque;
    memcpy(r->data + r->len, buf, (size_t)len);
    r->len += len;
    r->data[r->len] = '\0';
}

static void rec_event(void *opaque, int event)
{
    Recorder *r = opaque;
    r->focus_events += event == CHR_EVENT_FOCUS;
    r->break_events += event == CHR_EVENT_BREAK;
}

typedef struct Term {
    int in_w, out_r;       /* the test's ends */
    int in_r, out_w;
    Chardev *chr;
    char out[4096];
    int out_len;
} Term;

static void term_open(Term *t)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        abort();
    t->in_r = in[0];
    t->in_w = in[1];
    t->out_r = out[0];
    t->out_w = out[1];
    fcntl(t->out_r, F_SETFL, O_NONBLOCK);
    t->chr = chardev_stdio_new_fds(t->in_r, t->out_w, true);
    t->out_len = 0;
}

static void term_close(Term *t)
{
    chardev_free(t->chr);
    close(t->in_r);
    close(t->in_w);
    close(t->out_r);
    close(t->out_w);
}

/* Type bytes and let the main loop deliver them. */
static void term_type(Term *t, const char *s, size_t len)
{
    if (write(t->in_w, s, len) != (ssize_t)len)
        abort();
    for (int i = 0; i < 5; i++)
        main_loop_iterate(5);
}
#define TYPE(t, lit) term_type(t, lit, sizeof(lit) - 1)

/* Everything written to the terminal so far. */
static const char *term_output(Term *t)
{
    ssize_t n;
    while ((n = read(t->out_r, t->out + t->out_len, sizeof(t->out) - 1 - (size_t)t->out_len)) > 0)
        t->out_len += (int)n;
    t->out[t->out_len] = '\0';
    return t->out;
}

static void attach(Term *t, Recorder *r)
{
    ChardevFrontend fe = { rec_can_receive, rec_receive, rec_event, r };
    r->limit = -1;
    chardev_attach(t->chr, &fe);
}

TEST(plain_bytes_go_to_the_first_frontend)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 }, b = { 0 };
    attach(&t, &a);
    attach(&t, &b);
    CHECK_EQ(a.focus_events, 1);
    CHECK_EQ(b.focus_events, 0);
    TYPE(&t, "hello");
    CHECK(strcmp(a.data, "hello") == 0);
    CHECK_EQ(b.len, 0);
    term_close(&t);
}

TEST(ctrl_a_c_switches_focus)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 }, b = { 0 };
    attach(&t, &a);
    attach(&t, &b);
    TYPE(&t, "ab\x01" "cxy");
    CHECK(strcmp(a.data, "ab") == 0);
    CHECK(strcmp(b.data, "xy") == 0);
    CHECK_EQ(b.focus_events, 1);
    TYPE(&t, "\x01" "c" "z");
    CHECK(strcmp(a.data, "abz") == 0);
    CHECK_EQ(a.focus_events, 2);
    term_close(&t);
}

TEST(ctrl_a_ctrl_a_sends_one_ctrl_a)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 };
    attach(&t, &a);
    TYPE(&t, "1\x01\x01" "2");
    CHECK_EQ(a.len, 3);
    CHECK(memcmp(a.data, "1\x01" "2", 3) == 0);
    /* split across two reads */
    TYPE(&t, "\x01");
    TYPE(&t, "\x01");
    CHECK_EQ(a.len, 4);
    CHECK_EQ(a.data[3], 1);
    term_close(&t);
}

TEST(ctrl_a_b_sends_break_to_the_focused_frontend)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 }, b = { 0 };
    attach(&t, &a);
    attach(&t, &b);
    TYPE(&t, "\x01" "b");
    CHECK_EQ(a.break_events, 1);
    CHECK_EQ(b.break_events, 0);
    CHECK_EQ(a.len, 0);
    term_close(&t);
}

TEST(ctrl_a_h_prints_help_and_unknown_keys_are_swallowed)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 };
    attach(&t, &a);
    TYPE(&t, "\x01" "h");
    const char *out = term_output(&t);
    CHECK(strstr(out, "C-a x") != NULL);
    CHECK(strstr(out, "C-a c") != NULL);
    CHECK(strstr(out, "C-a h") != NULL);
    TYPE(&t, "\x01" "q" "k");
    CHECK(strcmp(a.data, "k") == 0);
    term_close(&t);
}

TEST(bytes_typed_before_a_switch_stay_with_their_frontend)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 }, b = { 0 };
    attach(&t, &a);
    attach(&t, &b);
    a.limit = 0;                 /* the serial port is busy */
    TYPE(&t, "12\x01" "c34");
    CHECK_EQ(a.len, 0);
    CHECK_EQ(b.len, 0);          /* the switch waits behind "12" */
    a.limit = -1;
    chardev_accept_input(t.chr);
    for (int i = 0; i < 5; i++)
        main_loop_iterate(5);
    CHECK(strcmp(a.data, "12") == 0);
    CHECK(strcmp(b.data, "34") == 0);
    term_close(&t);
}

TEST(single_frontend_switch_is_harmless)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 };
    attach(&t, &a);
    TYPE(&t, "\x01" "cA");
    CHECK(strcmp(a.data, "A") == 0);
    term_close(&t);
}

TEST(input_without_frontend_is_dropped)
{
    Term t;
    term_open(&t);
    /* nothing attached: the fd is not even polled; attach later reads it */
    TYPE(&t, "early");
    Recorder a = { 0 };
    attach(&t, &a);
    for (int i = 0; i < 5; i++)
        main_loop_iterate(5);
    CHECK(strcmp(a.data, "early") == 0);
    term_close(&t);
}

TEST(ctrl_a_t_toggles_timestamps)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 };
    attach(&t, &a);
    TYPE(&t, "\x01t");
    chardev_write(t.chr, (const uint8_t *)"one\ntw", 6);
    chardev_write(t.chr, (const uint8_t *)"o\n", 2);
    const char *out = term_output(&t);
    CHECK(strncmp(out, "[00:00:0", 8) == 0);
    const char *second = strstr(out, "] one\n[00:00:0");
    CHECK(second != NULL);
    CHECK(second && strstr(second + 6, "] two\n") != NULL);
    TYPE(&t, "\x01t");
    chardev_write(t.chr, (const uint8_t *)"three\n", 6);
    CHECK(strstr(term_output(&t), "] two\nthree\n") != NULL);
    CHECK_EQ(a.len, 0);
    term_close(&t);
}

/* Must stay last: quitting is sticky for the process. */
TEST(z_ctrl_a_x_quits)
{
    Term t;
    term_open(&t);
    Recorder a = { 0 };
    attach(&t, &a);
    CHECK(!main_loop_should_quit());
    TYPE(&t, "\x01" "x");
    CHECK(main_loop_should_quit());
    CHECK_EQ(main_loop_exit_status(), 0);
    CHECK(strstr(term_output(&t), "kestrel: terminated") != NULL);
    term_close(&t);
}
