/* 8254 PIT: periodic IRQ 0 in modes 2 and 3 by warping guest time, one-shot
 * mode 0, latch and read-back, access modes, BCD, port 0x61 and counter 2. */
#include "tests/unit/harness.h"

#include "hw/i8254.h"

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

#define MAX_SETUPS 64
static AddressSpace *io, *spaces[MAX_SETUPS];
static IrqLine irq0[MAX_SETUPS];
static PitState *pit, *pits[MAX_SETUPS];

static uint8_t in(uint16_t port) { return (uint8_t)as_read(io, port, 1); }
static void out(uint16_t port, uint8_t v) { as_write(io, port, v, 1); }

static void setup(void)
{
    clock_virtual_pause();      /* guest time moves only when the test warps it */
    generation = (generation + 1) % MAX_SETUPS;
    io = spaces[generation] = address_space_new("io", 0x10000);
    irq_init(&irq0[generation], record_irq, (void *)generation, 0);
    irq_level = irq_edges = 0;
    pit = pits[generation] = pit_create(io, &irq0[generation]);
}

/* Guest time for n input clocks (rounded up to land on the clock). */
static int64_t ticks_ns(uint64_t n)
{
    return (int64_t)(((unsigned __int128)n * NS_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ);
}

static void advance(int64_t ns)
{
    clock_virtual_warp(ns);
    timers_run_expired();
}

static void program(int ch, uint8_t mode_bits, uint16_t count)
{
    out(0x43, (uint8_t)(ch << 6 | 0x30 | mode_bits));
    out((uint16_t)(0x40 + ch), (uint8_t)count);
    out((uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

static uint16_t latch_read(int ch)
{
    out(0x43, (uint8_t)(ch << 6));
    uint16_t lo = in((uint16_t)(0x40 + ch));
    return (uint16_t)(lo | in((uint16_t)(0x40 + ch)) << 8);
}

TEST(reset_runs_18hz)
{
    setup();
    CHECK_EQ(irq_level, 1);                 /* mode 3, OUT high */
    int start = irq_edges;
    for (int i = 0; i < 1000; i++)
        advance(NS_PER_SEC / 1000);
    CHECK_EQ(irq_edges - start, 18);        /* 1193182 / 65536 = 18.2 */
}

TEST(mode2_periodic_1000hz)
{
    setup();
    program(0, 0x04, 1193);                 /* Linux's LATCH for HZ=1000 */
    CHECK_EQ(irq_level, 1);
    int start = irq_edges;
    for (int i = 0; i < 100; i++)
        advance(NS_PER_SEC / 1000);
    CHECK_EQ(irq_edges - start, 100);
}

TEST(mode2_late_timer_keeps_pulses)
{
    setup();
    program(0, 0x04, 1193);
    int start = irq_edges;
    advance(10 * NS_PER_SEC / 1000);        /* one late run: every pulse still seen */
    CHECK_EQ(irq_edges - start, 10);
}

TEST(mode3_square_wave)
{
    setup();
    program(0, 0x06, 2386);
    CHECK_EQ(irq_level, 1);
    advance(ticks_ns(1193));
    CHECK_EQ(irq_level, 0);                 /* low half */
    advance(ticks_ns(1193));
    CHECK_EQ(irq_level, 1);
    int start = irq_edges;
    for (int i = 0; i < 50; i++)
        advance(ticks_ns(2386));
    CHECK_EQ(irq_edges - start, 50);
}

TEST(mode0_one_shot)
{
    setup();
    out(0x43, 0x30);
    CHECK_EQ(irq_level, 0);                 /* the control word drops OUT */
    out(0x40, 0xe8);
    out(0x40, 0x03);                        /* 1000 */
    advance(ticks_ns(999));
    CHECK_EQ(irq_level, 0);
    int start = irq_edges;
    advance(ticks_ns(2));
    CHECK_EQ(irq_level, 1);
    advance(ticks_ns(200000));
    CHECK_EQ(irq_level, 1);                 /* stays high after terminal count */
    CHECK_EQ(irq_edges - start, 1);
}

/* The i8253 clockevent in oneshot mode: mode 4, a count per event. */
TEST(mode4_linux_oneshot)
{
    setup();
    out(0x43, 0x38);
    CHECK_EQ(irq_level, 1);
    int start = irq_edges;
    out(0x40, 0xe8);
    out(0x40, 0x03);                        /* 1000 clocks */
    advance(ticks_ns(999));
    CHECK_EQ(irq_edges - start, 0);
    advance(ticks_ns(1));
    CHECK_EQ(irq_level, 0);                 /* the strobe */
    advance(ticks_ns(1));
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(irq_edges - start, 1);
    advance(ticks_ns(100000));
    CHECK_EQ(irq_edges - start, 1);         /* one event per count */
    out(0x40, 100);
    out(0x40, 0);
    advance(10 * ticks_ns(100));            /* a late timer still strobes once */
    CHECK_EQ(irq_edges - start, 2);
}

/* A count written while mode 2 counts takes over at the end of the cycle. */
TEST(mode2_new_count_at_cycle_end)
{
    setup();
    program(0, 0x04, 1000);
    int start = irq_edges;
    advance(ticks_ns(300));
    out(0x40, 500 & 0xff);
    out(0x40, 500 >> 8);
    out(0x43, 0xe2);
    CHECK_EQ(in(0x40) & 0x40, 0x40);        /* null count: not loaded yet */
    advance(ticks_ns(300));
    CHECK_EQ(latch_read(0), 400);           /* still the old cycle */
    advance(ticks_ns(400));
    CHECK_EQ(irq_edges - start, 1);         /* the old cycle ended */
    advance(ticks_ns(100));
    CHECK_EQ(latch_read(0), 400);           /* 500 - 100 */
    out(0x43, 0xe2);
    CHECK_EQ(in(0x40) & 0x40, 0);
    advance(ticks_ns(400));
    CHECK_EQ(irq_edges - start, 2);
    for (int i = 0; i < 10; i++)
        advance(ticks_ns(500));
    CHECK_EQ(irq_edges - start, 12);
}

/* Mode 1: a new count waits for the next trigger. */
TEST(mode1_new_count_at_retrigger)
{
    setup();
    out(0x43, 0xb2);
    out(0x42, 50);
    out(0x42, 0);
    out(0x61, 0x01);                        /* trigger */
    advance(ticks_ns(20));
    out(0x42, 200);
    out(0x42, 0);
    CHECK_EQ(in(0x61) & 0x20, 0);           /* the one-shot goes on */
    advance(ticks_ns(31));
    CHECK_EQ(in(0x61) & 0x20, 0x20);        /* ended after the old 50 */
    out(0x61, 0x00);
    out(0x61, 0x01);                        /* retrigger: 200 now */
    advance(ticks_ns(150));
    CHECK_EQ(in(0x61) & 0x20, 0);
    advance(ticks_ns(51));
    CHECK_EQ(in(0x61) & 0x20, 0x20);
}

TEST(latch_and_count)
{
    setup();
    program(0, 0x00, 1000);
    advance(ticks_ns(500));
    out(0x43, 0x00);                        /* counter latch */
    advance(ticks_ns(100));
    out(0x43, 0x00);                        /* a second latch is ignored until read */
    CHECK_EQ(in(0x40), 500 & 0xff);
    CHECK_EQ(in(0x40), 500 >> 8);
    CHECK_EQ(latch_read(0), 400);
}

TEST(read_back_status_and_count)
{
    setup();
    out(0x43, 0x30);
    out(0x43, 0xe2);       /* read-back: status of counter 0 */
    CHECK_EQ(in(0x40), 0x70);               /* null count, LSB/MSB, mode 0, OUT low */
    out(0x40, 100);
    out(0x40, 0);
    advance(ticks_ns(10));
    out(0x43, 0xc2);                        /* status and count */
    CHECK_EQ(in(0x40), 0x30);
    CHECK_EQ(in(0x40), 90);
    CHECK_EQ(in(0x40), 0);
    advance(ticks_ns(100));
    out(0x43, 0xe2);
    CHECK_EQ(in(0x40), 0xb0);               /* OUT high after terminal count */
}

TEST(access_modes)
{
    setup();
    out(0x43, 0x10);                        /* LSB only, mode 0 */
    out(0x40, 50);
    advance(ticks_ns(5));
    CHECK_EQ(in(0x40), 45);
    CHECK_EQ(in(0x40), 45);
    out(0x43, 0x20);                        /* MSB only */
    out(0x40, 0x02);                        /* 512 */
    advance(ticks_ns(256));
    CHECK_EQ(in(0x40), 0x01);
    out(0x43, 0x30);
    out(0x40, 0x34);
    out(0x40, 0x12);
    CHECK_EQ(in(0x40), 0x34);               /* live reads alternate LSB, MSB */
    CHECK_EQ(in(0x40), 0x12);
}

TEST(bcd)
{
    setup();
    out(0x43, 0x31);                        /* mode 0, BCD */
    out(0x40, 0x00);
    out(0x40, 0x10);                        /* 1000 decimal */
    advance(ticks_ns(1));
    CHECK_EQ(latch_read(0), 0x0999);
    out(0x43, 0x31);
    out(0x40, 0x00);
    out(0x40, 0x00);                        /* 0 means 10000 */
    advance(ticks_ns(2));
    CHECK_EQ(latch_read(0), 0x9998);
}

/* pit_calibrate_tsc(): counter 2 in mode 0 gated by port 0x61, polled on bit 5. */
TEST(port61_counter2_calibration)
{
    setup();
    out(0x61, (uint8_t)((in(0x61) & ~0x02) | 0x01));
    out(0x43, 0xb0);
    out(0x42, 0x2e);
    out(0x42, 0x9b);                        /* 39726: 33 ms */
    CHECK_EQ(in(0x61) & 0x20, 0);
    advance(ticks_ns(39000));
    CHECK_EQ(in(0x61) & 0x20, 0);
    advance(ticks_ns(1000));
    CHECK_EQ(in(0x61) & 0x20, 0x20);
    CHECK_EQ(in(0x61) & 0x0f, 0x01);
}

TEST(gate_suspends_mode0)
{
    setup();
    out(0x61, 0x00);
    out(0x43, 0xb0);
    out(0x42, 100);
    out(0x42, 0);
    advance(ticks_ns(500));
    CHECK_EQ(latch_read(2), 100);           /* gate low: not counting */
    out(0x61, 0x01);
    advance(ticks_ns(30));
    CHECK_EQ(latch_read(2), 70);
    out(0x61, 0x00);
    advance(ticks_ns(30));
    CHECK_EQ(latch_read(2), 70);
}

TEST(mode1_gate_trigger)
{
    setup();
    out(0x43, 0xb2);                        /* counter 2, mode 1 */
    out(0x42, 50);
    out(0x42, 0);
    CHECK_EQ(in(0x61) & 0x20, 0x20);        /* high until triggered */
    out(0x61, 0x01);
    CHECK_EQ(in(0x61) & 0x20, 0);
    advance(ticks_ns(51));
    CHECK_EQ(in(0x61) & 0x20, 0x20);
}

TEST(refresh_toggle)
{
    setup();
    uint8_t a = in(0x61) & 0x10;
    advance(15085);
    uint8_t b = in(0x61) & 0x10;
    CHECK(a != b);
}

TEST(hostile_counts)
{
    setup();
    program(0, 0x04, 1);                    /* illegal count 1 in mode 2 */
    advance(ticks_ns(100));
    out(0x43, 0x31);
    out(0x40, 0xff);
    out(0x40, 0xff);                        /* not BCD digits */
    advance(ticks_ns(10));
    latch_read(0);
    out(0x43, 0xfe);                        /* read-back of nothing */
    in(0x43);
    CHECK(1);
}
