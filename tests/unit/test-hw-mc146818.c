/* MC146818 RTC: time and formats, SET mode, update cycle and UIP, periodic
 * rates, update/alarm interrupts, register C, NMI mask, CMOS layout. */
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <time.h>
#include "hw/mc146818.h"

/* Devices of earlier tests stay alive (timers too): events carry the
 * generation of the test that created them. */
static intptr_t generation;
static int irq_level;

static void record_irq(void *opaque, int n, int level)
{
    if ((intptr_t)opaque != generation)
        return;
    (void)n;
    irq_level = level;
}

#define MAX_SETUPS 64
static AddressSpace *io, *spaces[MAX_SETUPS];
static IrqLine irq8[MAX_SETUPS];
static RtcState *rtc, *rtcs[MAX_SETUPS];

static uint8_t rd(uint8_t idx)
{
    as_write(io, 0x70, idx, 1);
    return (uint8_t)as_read(io, 0x71, 1);
}

static void wr(uint8_t idx, uint8_t v)
{
    as_write(io, 0x70, idx, 1);
    as_write(io, 0x71, v, 1);
}

static void advance(int64_t ns)
{
    clock_virtual_warp(ns);
    timers_run_expired();
}

/* 2024-02-29 23:59:58 UTC, a Thursday. */
#define LEAP_EVE 1709251198LL

static void setup(void)
{
    clock_virtual_pause();
    generation = (generation + 1) % MAX_SETUPS;
    io = spaces[generation] = address_space_new("io", 0x10000);
    irq_init(&irq8[generation], record_irq, (void *)generation, 8);
    irq_level = 0;
    rtc = rtcs[generation] = rtc_create(io, &irq8[generation]);
    rtc_set_time(rtc, LEAP_EVE);
}

TEST(bcd_24h_time)
{
    setup();
    CHECK_EQ(rd(0x0a), 0x26);
    CHECK_EQ(rd(0x0b), 0x02);
    CHECK_EQ(rd(0x0d), 0x80);
    CHECK_EQ(rd(0x00), 0x58);
    CHECK_EQ(rd(0x02), 0x59);
    CHECK_EQ(rd(0x04), 0x23);
    CHECK_EQ(rd(0x06), 5);
    CHECK_EQ(rd(0x07), 0x29);
    CHECK_EQ(rd(0x08), 0x02);
    CHECK_EQ(rd(0x09), 0x24);
    CHECK_EQ(rd(0x32), 0x20);
    advance(2 * NS_PER_SEC);
    CHECK_EQ(rd(0x00), 0x00);
    CHECK_EQ(rd(0x04), 0x00);
    CHECK_EQ(rd(0x07), 0x01);
    CHECK_EQ(rd(0x08), 0x03);
    CHECK_EQ(rd(0x06), 6);
}

TEST(binary_and_12h)
{
    setup();
    wr(0x0b, 0x06);                          /* binary, 24h */
    CHECK_EQ(rd(0x00), 58);
    CHECK_EQ(rd(0x04), 23);
    CHECK_EQ(rd(0x09), 24);
    wr(0x0b, 0x00);                          /* BCD, 12h */
    CHECK_EQ(rd(0x04), 0x91);                /* 11 PM */
    advance(2 * NS_PER_SEC);
    CHECK_EQ(rd(0x04), 0x12);                /* midnight is 12 AM */
    rtc_set_time(rtc, LEAP_EVE - 12 * 3600); /* noon */
    CHECK_EQ(rd(0x04), 0x11);                /* 11 AM */
    rtc_set_time(rtc, 1709208000LL);         /* 2024-02-29 12:00:00 */
    CHECK_EQ(rd(0x04), 0x92);                /* 12 PM */
}

TEST(set_mode_freezes_and_loads)
{
    setup();
    wr(0x0b, 0x82);                          /* SET */
    wr(0x00, 0x30);
    wr(0x02, 0x15);
    wr(0x04, 0x10);
    wr(0x07, 0x04);
    wr(0x08, 0x07);
    wr(0x09, 0x99);
    wr(0x32, 0x19);
    advance(5 * NS_PER_SEC);
    CHECK_EQ(rd(0x00), 0x30);                /* no updates while SET */
    CHECK_EQ(rd(0x0a) & 0x80, 0);            /* nor UIP */
    wr(0x0b, 0x02);
    CHECK_EQ(rtc_get_time(rtc), 931083330);  /* 1999-07-04 10:15:30 */
    advance(NS_PER_SEC);
    CHECK_EQ(rd(0x00), 0x31);
    CHECK_EQ(rd(0x06), 1);                   /* a Sunday */
}

TEST(write_while_running)
{
    setup();
    advance(NS_PER_SEC / 2);
    wr(0x09, 0x25);                          /* year 2025, no SET */
    CHECK_EQ(rd(0x09), 0x25);
    CHECK_EQ(rd(0x00), 0x58);
    advance(NS_PER_SEC / 2);
    CHECK_EQ(rd(0x00), 0x59);                /* the second's phase was kept */
}

TEST(update_in_progress_window)
{
    setup();
    advance(NS_PER_SEC - 300000);
    CHECK_EQ(rd(0x0a) & 0x80, 0);
    advance(100000);
    CHECK_EQ(rd(0x0a) & 0x80, 0x80);         /* 244 us before the update */
    CHECK_EQ(rd(0x0a) & 0x7f, 0x26);
    advance(200000);
    CHECK_EQ(rd(0x0a) & 0x80, 0);
    CHECK_EQ(rd(0x00), 0x59);
}

TEST(update_ended_interrupt)
{
    setup();
    rd(0x0c);
    wr(0x0b, 0x12);                          /* UIE */
    CHECK_EQ(irq_level, 0);
    advance(NS_PER_SEC);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(0x0c) & 0xb0, 0x90);         /* PF runs too, without PIE */
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(rd(0x0c) & 0xb0, 0x00);         /* cleared by the read */
    wr(0x0b, 0x92);                          /* SET clears UIE */
    CHECK_EQ(rd(0x0b), 0x82);
}

static int count_periodic(int64_t step_ns, int64_t total_ns)
{
    int n = 0;
    for (int64_t t = 0; t < total_ns; t += step_ns) {
        advance(step_ns);
        if (irq_level) {
            CHECK_EQ(rd(0x0c) & 0xc0, 0xc0);
            n++;
        }
    }
    return n;
}

TEST(periodic_rates)
{
    setup();
    rd(0x0c);
    wr(0x0b, 0x42);                          /* PIE */
    int n = count_periodic(100000, NS_PER_SEC);
    CHECK(n >= 1023 && n <= 1025);           /* rate 6: 1024 Hz */
    wr(0x0a, 0x2f);                          /* 2 Hz */
    n = count_periodic(1000000, NS_PER_SEC);
    CHECK(n >= 1 && n <= 3);
    CHECK_EQ(count_periodic(1000000, 4 * NS_PER_SEC), 8);
    wr(0x0a, 0x21);                          /* rate 1: 256 Hz */
    n = count_periodic(1000000, NS_PER_SEC);
    CHECK(n >= 255 && n <= 257);
    wr(0x0a, 0x23);                          /* rate 3: 8192 Hz */
    n = count_periodic(50000, NS_PER_SEC / 4);
    CHECK(n >= 2047 && n <= 2049);
    wr(0x0a, 0x20);                          /* rate 0: off */
    CHECK_EQ(count_periodic(1000000, NS_PER_SEC / 10), 0);
}

TEST(pf_without_pie)
{
    setup();
    wr(0x0a, 0x2f);
    rd(0x0c);
    advance(NS_PER_SEC * 6 / 10);
    CHECK_EQ(irq_level, 0);
    uint8_t c = rd(0x0c);
    CHECK_EQ(c & 0x40, 0x40);                /* PF even without PIE */
    CHECK_EQ(c & 0x80, 0);                   /* but no IRQF */
    CHECK_EQ(rd(0x0c) & 0x40, 0);
}

TEST(alarm)
{
    setup();
    wr(0x0b, 0x06);                          /* binary */
    wr(0x01, 0);                             /* 00:00:00 */
    wr(0x03, 0);
    wr(0x05, 0);
    rd(0x0c);
    wr(0x0b, 0x26);                          /* AIE */
    advance(NS_PER_SEC);
    CHECK_EQ(irq_level, 0);
    advance(NS_PER_SEC);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(0x0c) & 0xa0, 0xa0);
    wr(0x01, 0xc0);                          /* every second */
    wr(0x03, 0xff);
    wr(0x05, 0xc5);
    advance(NS_PER_SEC);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(0x0c) & 0xa0, 0xa0);
}

TEST(nmi_mask_and_ram)
{
    setup();
    as_write(io, 0x70, 0x8f, 1);
    CHECK(rtc_nmi_disabled(rtc));
    as_write(io, 0x71, 0x5a, 1);
    as_write(io, 0x70, 0x0f, 1);
    CHECK(!rtc_nmi_disabled(rtc));
    CHECK_EQ(as_read(io, 0x71, 1), 0x5a);
    wr(0x7f, 0xa5);
    CHECK_EQ(rd(0x7f), 0xa5);
    wr(0x0d, 0x00);                          /* read-only */
    CHECK_EQ(rd(0x0d), 0x80);
    rtc_set_cmos(rtc, 0x00, 0x11);           /* clock registers are refused */
    CHECK_EQ(rd(0x00), 0x58);
}

TEST(pc_cmos_layout)
{
    setup();
    RtcPcLayout l = {
        .ram_below_4g = 3 * GiB, .ram_above_4g = 1 * GiB, .cpus = 4,
        .boot_order = "dcn", .floppies = 1,
    };
    rtc_fill_pc_cmos(rtc, &l);
    CHECK_EQ(rd(0x15) | rd(0x16) << 8, 640);
    CHECK_EQ(rd(0x17) | rd(0x18) << 8, 0xffff);
    CHECK_EQ(rd(0x30) | rd(0x31) << 8, 0xffff);
    CHECK_EQ(rd(0x34) | rd(0x35) << 8, (3 * GiB - 16 * MiB) / (64 * KiB));
    CHECK_EQ(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, GiB / (64 * KiB));
    CHECK_EQ(rd(0x5f), 3);
    CHECK_EQ(rd(0x3d), 0x23);                /* cdrom, then disk */
    CHECK_EQ(rd(0x38) >> 4, 4);              /* then network */
    CHECK_EQ(rd(0x14), 0x07);
    CHECK_EQ(rd(0x10), 0x40);
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum += rd((uint8_t)i);
    CHECK_EQ(rd(0x2e) << 8 | rd(0x2f), sum);
    l.ram_below_4g = 8 * MiB;
    l.ram_above_4g = 0;
    rtc_fill_pc_cmos(rtc, &l);
    CHECK_EQ(rd(0x17) | rd(0x18) << 8, 7 * 1024);
    CHECK_EQ(rd(0x34) | rd(0x35) << 8, 0);
}

TEST(rtc_base_option)
{
    setup();
    char err[200] = "";
    CHECK_EQ(rtc_set_base(rtc, "2006-06-17T16:01:21", err, sizeof(err)), 0);
    CHECK_EQ(rtc_get_time(rtc), 1150560081);
    CHECK_EQ(rtc_set_base(rtc, "2010-01-02", err, sizeof(err)), 0);
    CHECK_EQ(rtc_get_time(rtc), 1262390400);
    CHECK_EQ(rtc_set_base(rtc, "utc", err, sizeof(err)), 0);
    CHECK(llabs(rtc_get_time(rtc) - (long long)time(NULL)) < 120);  /* the host date, roughly */
    CHECK_EQ(rtc_set_base(rtc, "localtime", err, sizeof(err)), 0);
    CHECK_EQ(rtc_set_base(rtc, "2006-13-01", err, sizeof(err)), -1);
    CHECK(err[0]);
    CHECK_EQ(rtc_set_base(rtc, "2006-06-17T16:01", err, sizeof(err)), -1);
    CHECK_EQ(rtc_set_base(rtc, "2006-06-17x", err, sizeof(err)), -1);
    CHECK_EQ(rtc_set_base(rtc, "tomorrow", err, sizeof(err)), -1);
}

TEST(reset_clears_enables)
{
    setup();
    wr(0x0b, 0x72);
    advance(NS_PER_SEC);
    CHECK_EQ(irq_level, 1);
    rtc_reset(rtc);
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(rd(0x0b), 0x02);
    CHECK_EQ(rd(0x09), 0x24);                /* the time survives */
}

TEST(divider_reset_holds_time)
{
    setup();
    advance(5 * NS_PER_SEC);                 /* registers not read meanwhile */
    wr(0x0a, 0x76);                          /* divider chain held in reset */
    advance(10 * NS_PER_SEC);
    CHECK_EQ(rtc_get_time(rtc), LEAP_EVE + 5);
    wr(0x0a, 0x26);
    advance(NS_PER_SEC / 2);                 /* first update half a second later */
    CHECK_EQ(rtc_get_time(rtc), LEAP_EVE + 6);
}

TEST(hostile_values)
{
    setup();
    wr(0x0b, 0x82);
    wr(0x08, 0x99);
    wr(0x07, 0x00);
    wr(0x04, 0xff);
    wr(0x0b, 0x02);
    advance(3 * NS_PER_SEC);
    rd(0x00);
    wr(0x0a, 0x70);                          /* divider held in reset */
    advance(3 * NS_PER_SEC);
    wr(0x0a, 0x26);
    advance(NS_PER_SEC);
    rd(0x00);
    CHECK(1);
}
