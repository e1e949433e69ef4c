/* The chardev with its main user, the 16550A: bytes typed on a (pipe)
 * terminal reach the guest through the 16-byte receive FIFO in order and
 * none is lost, however slowly the guest reads; guest output reaches the
 * terminal; Ctrl-A b becomes a break the guest sees in LSR. */
#include "tests/unit/harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/serial.h"
#include "system/chardev-internal.h"
#include "system/mainloop.h"
#include "system/util.h"

#define COM1 0x3f8
#define RBR 0
#define LSR 5
#define LSR_DR 0x01
#define LSR_BI 0x10

typedef struct Rig {
    int in_w, out_r, in_r, out_w;
    Chardev *chr;
    AddressSpace *io;
    SerialState *uart;
} Rig;

static void rig_open(Rig *r)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        abort();
    r->in_r = in[0];
    r->in_w = in[1];
    r->out_r = out[0];
    r->out_w = out[1];
    fcntl(r->out_r, F_SETFL, O_NONBLOCK);
    fcntl(r->in_w, F_SETFL, O_NONBLOCK);
    r->chr = chardev_stdio_new_fds(r->in_r, r->out_w, true);
    r->io = address_space_new("io", 0x10000);
    r->uart = serial_create(r->io, COM1, NULL, r->chr);
}

static void rig_close(Rig *r)
{
    chardev_free(r->chr);
    close(r->in_r);
    close(r->in_w);
    close(r->out_r);
    close(r->out_w);
}

static void spin(int n)
{
    for (int i = 0; i < n; i++)
        main_loop_iterate(2);
}

TEST(typed_bytes_reach_the_guest_in_order)
{
    Rig r;
    rig_open(&r);
    /* more than the FIFO and more than one read() worth, with a Ctrl-A Ctrl-A */
    static char text[3000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (char)('a' + i % 26);
    text[100] = 0x01;
    text[101] = 0x01;
    REQUIRE(write(r.in_w, text, sizeof(text)) == (ssize_t)sizeof(text));
    static char got[sizeof(text)];
    size_t n = 0;
    for (int rounds = 0; rounds < 20000 && n < sizeof(text) - 1; rounds++) {
        spin(1);
        /* the guest reads a few bytes each time it looks */
        for (int k = 0; k < 5 && (as_read(r.io, COM1 + LSR, 1) & LSR_DR); k++)
            got[n++] = (char)as_read(r.io, COM1 + RBR, 1);
    }
    /* Ctrl-A Ctrl-A arrives as one Ctrl-A */
    CHECK_EQ(n, sizeof(text) - 1);
    CHECK(memcmp(got, text, 101) == 0);
    CHECK(memcmp(got + 101, text + 102, sizeof(text) - 102) == 0);
    rig_close(&r);
}

TEST(guest_output_reaches_the_terminal)
{
    Rig r;
    rig_open(&r);
    const char *msg = "hello from the guest\n";
    for (const char *p = msg; *p; p++)
        as_write(r.io, COM1 + RBR, (uint8_t)*p, 1);
    char buf[64] = "";
    ssize_t n = read(r.out_r, buf, sizeof(buf) - 1);
    CHECK(n == (ssize_t)strlen(msg));
    CHECK(strncmp(buf, msg, strlen(msg)) == 0);
    rig_close(&r);
}

TEST(ctrl_a_b_is_a_break_in_lsr)
{
    Rig r;
    rig_open(&r);
    REQUIRE(write(r.in_w, "\x01" "b", 2) == 2);
    spin(5);
    CHECK(as_read(r.io, COM1 + LSR, 1) & LSR_BI);
    rig_close(&r);
}
