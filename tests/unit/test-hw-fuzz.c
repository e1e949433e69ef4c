/* The legacy PC devices under a hostile guest: random port accesses mixed
 * with time passing, interrupt acknowledges and host input. Nothing may
 * crash, hang or trip the sanitizers; a few invariants are checked. */
#include "tests/unit/harness.h"

#include "hw/i8042.h"
#include "hw/i8254.h"
#include "hw/i8259.h"
#include "hw/ioport80.h"
#include "hw/mc146818.h"
#include "hw/port92.h"
#include "hw/serial.h"
#include "system/machine.h"

static int cpu_int;

static void record_int(void *opaque, int n, int level)
{
    (void)opaque;
    (void)n;
    cpu_int = level;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static const uint16_t ports[] = {
    0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1,
    0x40, 0x41, 0x42, 0x43, 0x61,
    0x60, 0x64, 0x92, 0x80,
    0x70, 0x71,
    0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
};

TEST(random_port_storm)
{
    static AddressSpace *io;
    static IrqLine cpu;
    static PicState *pic;
    static PitState *pit;
    static RtcState *rtc;
    static I8042State *kbc;
    static SerialState *com1;
    clock_virtual_pause();
    io = address_space_new("io", 0x10000);
    irq_init(&cpu, record_int, NULL, 0);
    pic = pic_create(io, &cpu);
    pit = pit_create(io, &pic->in[0]);
    rtc = rtc_create(io, &pic->in[8]);
    kbc = i8042_create(io, &pic->in[1], &pic->in[12]);
    com1 = serial_create(io, 0x3f8, &pic->in[4], NULL);
    port92_create(io);
    ioport80_create(io);
    REQUIRE(pit && rtc);

    for (int i = 0; i < 300000; i++) {
        uint32_t r = rng();
        uint16_t port = ports[r % ARRAY_SIZE(ports)];
        switch ((r >> 8) % 16) {
        case 0: case 1: case 2: case 3: case 4: case 5:
            as_write(io, port, rng() & 0xff, 1);
            break;
        case 6: case 7: case 8: case 9:
            as_read(io, port, 1);
            break;
        case 10:
            clock_virtual_warp(rng() % 2000000);
            timers_run_expired();
            break;
        case 11:
            if (cpu_int) {
                int v = pic_intack(pic);
                CHECK(v >= 0 && v <= 0xff);
            }
            break;
        case 12:
            kbd_put_keycode(kbc, (int)(rng() & 0x1ff), rng() & 1);
            break;
        case 13:
            kbd_put_mouse_event(kbc, (int)(rng() % 2001) - 1000, (int)(rng() % 2001) - 1000,
                                (int)(rng() % 21) - 10, (int)(rng() & 0x1f));
            break;
        case 14: {
            uint8_t buf[20];
            int n = serial_can_receive(com1);
            CHECK(n >= 0 && n <= 16);
            for (int j = 0; j < n; j++)
                buf[j] = (uint8_t)rng();
            serial_receive(com1, buf, n);
            break;
        }
        default:
            if (rng() % 64 == 0)
                serial_receive_break(com1);
            break;
        }
        CHECK(com1->rx.count <= SERIAL_FIFO_SIZE);
        CHECK(kbc->kbd.q.count <= PS2_QUEUE_SIZE && kbc->mouse.q.count <= PS2_QUEUE_SIZE);
        if (test_failed())
            return;
    }
    /* Whatever the guest did, a machine reset brings everything back. */
    machine_set_a20(true);
    pic_reset(pic);
    pit_reset(pit);
    rtc_reset(rtc);
    i8042_reset(kbc);
    serial_reset(com1);
    CHECK_EQ(as_read(io, 0x3fd, 1), 0x60);
    CHECK_EQ(as_read(io, 0x21, 1), 0x00);
}
