/* 16550A UART: the probes Linux's 8250 driver runs, FIFO, IIR priorities,
 * THRE interrupt behaviour, receive timeout, break, modem status. */
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hw/serial.h"
#include "system/chardev.h"
#include "system/mainloop.h"
#include "system/timer.h"

#define COM1 0x3f8
enum { RBR = 0, THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

/* Devices of earlier tests stay alive (timers too): events carry the
 * generation of the test that created them. */
static intptr_t generation;
static int irq_level, irq_edges;

static void record_irq(void *opaque, int n, int level)
{
    if ((intptr_t)opaque != generation)
        return;                 /* a device left over from an earlier test */
    (void)n;
    if (level && !irq_level)
        irq_edges++;
    irq_level = level;
}

typedef struct Fixture {
    AddressSpace *io;
    IrqLine irq;
    SerialState *s;
} Fixture;

#define MAX_SETUPS 64
static Fixture fixtures[MAX_SETUPS];

static Fixture *fixture(Chardev *chr)
{
    clock_virtual_pause();   /* guest time moves only when the test warps it */
    generation = (generation + 1) % MAX_SETUPS;
    Fixture *f = &fixtures[generation];
    f->io = address_space_new("io", 0x10000);
    irq_init(&f->irq, record_irq, (void *)generation, 4);
    irq_level = irq_edges = 0;
    f->s = serial_create(f->io, COM1, &f->irq, chr);
    return f;
}

static Fixture *F;
static uint8_t in(int reg) { return (uint8_t)as_read(F->io, COM1 + reg, 1); }
static void out(int reg, uint8_t v) { as_write(F->io, COM1 + reg, v, 1); }

TEST(reset_state)
{
    F = fixture(NULL);
    CHECK_EQ(in(IER), 0);
    CHECK_EQ(in(IIR), 0x01);
    CHECK_EQ(in(LCR), 0);
    CHECK_EQ(in(MCR), 0);
    CHECK_EQ(in(LSR), 0x60);
    CHECK_EQ(irq_level, 0);
}

/* autoconfig(): IER must hold its four low bits and nothing else. */
TEST(linux_ier_probe)
{
    F = fixture(NULL);
    out(IER, 0);
    CHECK_EQ(in(IER) & 0x0f, 0);
    out(IER, 0x0f);
    CHECK_EQ(in(IER) & 0x0f, 0x0f);
    out(IER, 0xff);
    CHECK_EQ(in(IER), 0x0f);   /* bit 6 (XScale UUE) must not stick */
    out(IER, 0);
}

/* autoconfig(): loopback with RTS|OUT2 must read back CTS|DCD. */
TEST(linux_loopback_probe)
{
    F = fixture(NULL);
    out(MCR, 0x10 | 0x0a);
    CHECK_EQ(in(MSR) & 0xf0, 0x90);
    out(MCR, 0x10 | 0x05);
    CHECK_EQ(in(MSR) & 0xf0, 0x60);
    out(MCR, 0);
    CHECK_EQ(in(MSR) & 0xf0, 0xb0);   /* back to the outside lines */
}

/* autoconfig(): FIFO presence and the 16550A-variant tests. */
TEST(linux_fifo_probe)
{
    F = fixture(NULL);
    out(LCR, 0xbf);
    out(2, 0);                 /* EFR on 16650s, FCR here */
    out(LCR, 0);
    out(FCR, 0x01);
    CHECK_EQ(in(IIR) >> 6, 3);
    /* No EFR with DLAB set: the IIR must read nonzero. */
    out(LCR, 0x80);
    CHECK(in(2) != 0);
    out(LCR, 0xbf);
    CHECK(in(2) != 0);
    /* Not a 16750: bit 5 of IIR never set. */
    out(LCR, 0);
    out(FCR, 0x21);
    CHECK_EQ(in(IIR) >> 5, 6);
    out(LCR, 0x80);
    out(FCR, 0x21);
    CHECK_EQ(in(IIR) >> 5, 6);
    out(LCR, 0);
    out(FCR, 0);
    CHECK_EQ(in(IIR), 0x01);
}

TEST(divisor_latch)
{
    F = fixture(NULL);
    out(LCR, 0x83);
    out(0, 0x01);
    out(1, 0x02);
    CHECK_EQ(in(0), 0x01);
    CHECK_EQ(in(1), 0x02);
    out(LCR, 0x03);
    CHECK_EQ(in(IER), 0);
    CHECK_EQ(F->s->divisor, 0x0201);
    out(SCR, 0x5a);
    CHECK_EQ(in(SCR), 0x5a);
}

TEST(loopback_fifo_order_and_overrun)
{
    F = fixture(NULL);
    out(FCR, 0x07);
    out(MCR, 0x10);
    for (int i = 0; i < 16; i++)
        out(THR, (uint8_t)(0x40 + i));
    CHECK_EQ(in(LSR) & 0x03, 0x01);
    out(THR, 0xee);                        /* 17th: overrun, FIFO kept */
    CHECK_EQ(in(LSR) & 0x03, 0x03);
    CHECK_EQ(in(LSR) & 0x02, 0);           /* OE cleared by the read */
    for (int i = 0; i < 16; i++)
        CHECK_EQ(in(RBR), 0x40 + i);
    CHECK_EQ(in(LSR) & 0x01, 0);
    CHECK_EQ(in(LSR) & 0x60, 0x60);
}

TEST(non_fifo_holding_register_overrun)
{
    F = fixture(NULL);
    out(MCR, 0x10);
    out(THR, 'a');
    out(THR, 'b');
    CHECK_EQ(in(LSR) & 0x03, 0x03);
    CHECK_EQ(in(RBR), 'b');
    CHECK_EQ(in(LSR) & 0x01, 0);
}

/* serial8250_do_startup's THRE test: enabling THRI with an empty transmitter
 * raises it, and it is raised again after IER is rewritten. */
TEST(thre_interrupt_reasserts)
{
    F = fixture(NULL);
    out(MCR, 0x08);                        /* OUT2: interrupts reach the bus */
    out(IER, 0x02);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in(IIR), 0x02);
    CHECK_EQ(irq_level, 0);                /* the IIR read acknowledged it */
    CHECK_EQ(in(IIR), 0x01);
    out(IER, 0);
    out(IER, 0x02);
    CHECK_EQ(in(IIR), 0x02);
    out(IER, 0);
    /* The TXEN test: IER=THRI, LSR shows TEMT, IIR shows THRI. */
    out(IER, 0x02);
    CHECK(in(LSR) & 0x40);
    CHECK_EQ(in(IIR) & 0x01, 0);
    out(IER, 0);
}

TEST(thre_after_transmit)
{
    F = fixture(NULL);
    out(MCR, 0x08);
    out(IER, 0x02);
    CHECK_EQ(in(IIR), 0x02);
    int edges = irq_edges;
    out(THR, 'x');
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(irq_edges, edges + 1);
    CHECK_EQ(in(IIR), 0x02);
    CHECK_EQ(irq_level, 0);
}

TEST(out2_gates_the_irq)
{
    F = fixture(NULL);
    out(IER, 0x02);
    CHECK_EQ(irq_level, 0);
    out(MCR, 0x08);
    CHECK_EQ(irq_level, 1);
    out(MCR, 0x18);                        /* loopback forces OUT2 off the pin */
    CHECK_EQ(irq_level, 0);
    out(MCR, 0x00);
    CHECK_EQ(irq_level, 0);
}

TEST(iir_priorities)
{
    F = fixture(NULL);
    out(FCR, 0x07);                        /* trigger level 1 */
    out(MCR, 0x18);                        /* loopback */
    in(MSR);
    out(IER, 0x0f);
    out(MCR, 0x19);                        /* DTR -> DSR delta */
    for (int i = 0; i < 17; i++)           /* data plus an overrun */
        out(THR, (uint8_t)i);
    CHECK_EQ(in(IIR), 0xc6);               /* line status first */
    CHECK_EQ(in(LSR) & 0x03, 0x03);
    CHECK_EQ(in(IIR), 0xc4);               /* then received data */
    while (in(LSR) & 1)
        in(RBR);
    CHECK_EQ(in(IIR), 0xc2);               /* then THRE, acknowledged by the read */
    CHECK_EQ(in(IIR), 0xc0);               /* then modem status */
    CHECK_EQ(in(MSR) & 0x0f, 0x02);
    CHECK_EQ(in(IIR), 0xc1);
}

TEST(rx_trigger_level_and_timeout)
{
    F = fixture(NULL);
    out(LCR, 0x83);
    out(0, 1);                             /* 115200 baud */
    out(1, 0);
    out(LCR, 0x03);
    out(FCR, 0x81);                        /* trigger at 8 */
    out(IER, 0x01);
    out(MCR, 0x08);
    uint8_t data[4] = { 1, 2, 3, 4 };
    CHECK_EQ(serial_can_receive(F->s), 16);
    serial_receive(F->s, data, 4);
    CHECK_EQ(serial_can_receive(F->s), 12);
    CHECK_EQ(in(IIR), 0xc1);               /* below the trigger level */
    CHECK_EQ(irq_level, 0);
    clock_virtual_warp(4 * 87000 + 1000);  /* four character times at 115200 8N1 */
    timers_run_expired();
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in(IIR), 0xcc);
    CHECK_EQ(in(RBR), 1);                  /* a read clears the timeout */
    CHECK_EQ(in(IIR), 0xc1);
    CHECK_EQ(irq_level, 0);
    serial_receive(F->s, data, 4);
    serial_receive(F->s, data, 1);         /* 3 + 5 = 8: at the trigger */
    CHECK_EQ(in(IIR), 0xc4);
    CHECK_EQ(irq_level, 1);
    for (int i = 0; i < 8; i++)
        in(RBR);
    CHECK_EQ(in(IIR), 0xc1);
    CHECK_EQ(irq_level, 0);
    clock_virtual_warp(NS_PER_SEC);
    timers_run_expired();
    CHECK_EQ(in(IIR), 0xc1);               /* empty FIFO: no timeout */
}

TEST(receive_without_fifo)
{
    F = fixture(NULL);
    out(IER, 0x01);
    out(MCR, 0x0b);
    CHECK_EQ(serial_can_receive(F->s), 1);
    uint8_t c = 'k';
    serial_receive(F->s, &c, 1);
    CHECK_EQ(serial_can_receive(F->s), 0);
    CHECK_EQ(in(IIR), 0x04);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in(LSR) & 1, 1);
    CHECK_EQ(in(RBR), 'k');
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(serial_can_receive(F->s), 1);
    out(MCR, 0x1b);                        /* loopback: outside input disconnected */
    CHECK_EQ(serial_can_receive(F->s), 0);
}

TEST(break_sets_bi)
{
    F = fixture(NULL);
    out(FCR, 0x01);
    out(IER, 0x05);
    out(MCR, 0x08);
    uint8_t c = 'q';
    serial_receive(F->s, &c, 1);
    serial_receive_break(F->s);
    CHECK_EQ(in(IIR), 0xc4);               /* the break char is not on top yet */
    CHECK_EQ(in(LSR) & 0x91, 0x81);        /* but the FIFO holds an error */
    CHECK_EQ(in(RBR), 'q');
    CHECK_EQ(in(IIR), 0xc6);
    CHECK_EQ(in(LSR) & 0x91, 0x91);
    CHECK_EQ(in(LSR) & 0x10, 0);           /* cleared by reading LSR */
    CHECK_EQ(in(RBR), 0);
    CHECK_EQ(in(LSR) & 0x81, 0);
}

TEST(loopback_break)
{
    F = fixture(NULL);
    out(MCR, 0x10);
    out(LCR, 0x43);
    CHECK_EQ(in(LSR) & 0x11, 0x11);
    CHECK_EQ(in(RBR), 0);
    out(LCR, 0x03);
    CHECK_EQ(in(LSR) & 0x11, 0x00);
}

TEST(modem_status_deltas)
{
    F = fixture(NULL);
    out(MCR, 0x10);
    in(MSR);
    out(IER, 0x08);
    out(MCR, 0x17);                        /* DTR, RTS, OUT1 */
    CHECK_EQ(in(IIR), 0x00);
    CHECK_EQ(in(MSR), 0x70 | 0x03);        /* DCTS, DDSR; RI rising is no delta */
    out(MCR, 0x13);                        /* OUT1 off: RI trailing edge */
    CHECK_EQ(in(MSR), 0x30 | 0x04);
    CHECK_EQ(in(MSR), 0x30);
    CHECK_EQ(in(IIR), 0x01);
}

TEST(fcr_clears)
{
    F = fixture(NULL);
    out(FCR, 0x01);
    out(MCR, 0x10);
    out(THR, 1);
    out(THR, 2);
    out(FCR, 0x03);
    CHECK_EQ(in(LSR) & 1, 0);
    out(THR, 3);
    out(FCR, 0x00);                        /* disabling clears too */
    CHECK_EQ(in(LSR) & 1, 0);
    CHECK_EQ(in(IIR), 0x01);
}

TEST(reset_clears_everything)
{
    F = fixture(NULL);
    out(FCR, 0x01);
    out(IER, 0x0f);
    out(MCR, 0x1f);
    out(THR, 9);
    serial_reset(F->s);
    CHECK_EQ(in(IER), 0);
    CHECK_EQ(in(IIR), 0x01);
    CHECK_EQ(in(LSR), 0x60);
    CHECK_EQ(in(MCR), 0);
    CHECK_EQ(irq_level, 0);
}

TEST(transmit_to_chardev)
{
    char path[512], err[256] = "";
    snprintf(path, sizeof(path), "file:%s/com1.out", test_tmpdir());
    Chardev *chr = chardev_new(path, err, sizeof(err));
    if (!chr)
        SKIP("no file: chardev");
    F = fixture(chr);
    const char *msg = "hello\n";
    for (const char *p = msg; *p; p++) {
        while (!(in(LSR) & 0x20))
            ;
        out(THR, (uint8_t)*p);
    }
    chardev_free(chr);
    char buf[64] = "";
    FILE *f = fopen(path + 5, "r");
    REQUIRE(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    CHECK(strcmp(buf, msg) == 0);
}

static int unix_connect(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    size_t len = strlen(path);
    if (len >= sizeof(sun.sun_path))
        return -1;
    memcpy(sun.sun_path, path, len + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A socket chardev end to end: more input than the FIFO holds arrives in
 * order and without overrun (the UART holds the chardev back), and output
 * reaches the client. */
TEST(socket_input_backpressure_and_output)
{
    char path[512], spec[600], err[256] = "";
    snprintf(path, sizeof(path), "%s/com1.sock", test_tmpdir());
    snprintf(spec, sizeof(spec), "unix:%s,server,nowait", path);
    Chardev *chr = chardev_new(spec, err, sizeof(err));
    if (!chr)
        SKIP("no unix socket chardev");
    F = fixture(chr);
    out(FCR, 0x07);
    int c = unix_connect(path);
    REQUIRE(c >= 0);
    uint8_t msg[100];
    for (int i = 0; i < 100; i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    REQUIRE(write(c, msg, sizeof(msg)) == (ssize_t)sizeof(msg));
    uint8_t got[100];
    int n = 0;
    for (int spin = 0; spin < 2000 && n < 100; spin++) {
        main_loop_iterate(5);
        uint8_t lsr;
        while (((lsr = in(LSR)) & 1) && n < 100) {
            CHECK_EQ(lsr & 0x02, 0);       /* never an overrun */
            got[n++] = in(RBR);
        }
    }
    CHECK_EQ(n, 100);
    CHECK(memcmp(got, msg, (size_t)n) == 0);
    for (const char *p = "ok\n"; *p; p++)
        out(THR, (uint8_t)*p);
    char reply[8] = "";
    size_t r = 0;
    for (int spin = 0; spin < 200 && r < 3; spin++) {
        main_loop_iterate(5);
        ssize_t k = recv(c, reply + r, sizeof(reply) - 1 - r, MSG_DONTWAIT);
        if (k > 0)
            r += (size_t)k;
    }
    CHECK(strcmp(reply, "ok\n") == 0);
    close(c);
    for (int spin = 0; spin < 10; spin++)
        main_loop_iterate(5);
}

TEST(isa_resources)
{
    static AddressSpace *io;
    static IrqLine irqs[16];
    io = address_space_new("io", 0x10000);
    for (int i = 0; i < 16; i++)
        irq_init(&irqs[i], record_irq, (void *)-1, i);
    CHECK(serial_isa_create(io, 4, irqs, NULL) == NULL);
    SerialState *s = serial_isa_create(io, 1, irqs, NULL);
    REQUIRE(s);
    CHECK_EQ(s->base, 0x2f8);
    CHECK(s->irq == &irqs[3]);
    CHECK_EQ(as_read(io, 0x2fd, 1), 0x60);
}
