/* 8259A pair: Linux's init sequence, priorities, EOI, cascade, ELCR level
 * behaviour, spurious IRQs, poll mode, auto-EOI and rotation. */
#include "tests/unit/harness.h"

#include "hw/i8259.h"

/* Devices of earlier tests stay alive: events carry the generation of the
 * test that created them. */
static intptr_t generation;
static int int_level;

static void record_int(void *opaque, int n, int level)
{
    if ((intptr_t)opaque != generation)
        return;                 /* a device left over from an earlier test */
    (void)n;
    int_level = level;
}

#define MAX_SETUPS 64
static AddressSpace *io, *spaces[MAX_SETUPS];
static IrqLine cpu_int[MAX_SETUPS];
static PicState *pic, *pics[MAX_SETUPS];

static void create(void)
{
    generation = (generation + 1) % MAX_SETUPS;
    io = spaces[generation] = address_space_new("io", 0x10000);
    irq_init(&cpu_int[generation], record_int, (void *)generation, 0);
    int_level = 0;
    pic = pics[generation] = pic_create(io, &cpu_int[generation]);
}

static uint8_t in(uint16_t port) { return (uint8_t)as_read(io, port, 1); }
static void out(uint16_t port, uint8_t v) { as_write(io, port, v, 1); }

/* init_8259A() in arch/x86/kernel/i8259.c. */
static void linux_init(bool auto_eoi)
{
    out(0x21, 0xff);
    out(0xa1, 0xff);
    out(0x20, 0x11);
    out(0x21, 0x30);
    out(0x21, 1u << 2);
    out(0x21, auto_eoi ? 0x03 : 0x01);
    out(0xa0, 0x11);
    out(0xa1, 0x38);
    out(0xa1, 2);
    out(0xa1, 0x01);
    out(0x21, 0x00);
    out(0xa1, 0x00);
}

static void setup(void)
{
    create();
    linux_init(false);
}

static void eoi_master(int irq) { out(0x20, (uint8_t)(0x60 | irq)); }
static void eoi_slave(int irq) { out(0xa0, (uint8_t)(0x60 | irq)); }

TEST(imr_readback)
{
    setup();
    out(0x21, 0xa5);
    CHECK_EQ(in(0x21), 0xa5);
    out(0xa1, 0x5a);
    CHECK_EQ(in(0xa1), 0x5a);
}

TEST(edge_request_and_specific_eoi)
{
    setup();
    irq_pulse(&pic->in[1]);
    CHECK_EQ(int_level, 1);
    out(0x20, 0x0a);
    CHECK_EQ(in(0x20), 0x02);               /* IRR */
    CHECK_EQ(pic_intack(pic), 0x31);
    CHECK_EQ(int_level, 0);
    out(0x20, 0x0b);
    CHECK_EQ(in(0x20), 0x02);               /* ISR */
    out(0x20, 0x0a);
    CHECK_EQ(in(0x20), 0x00);
    eoi_master(1);
    out(0x20, 0x0b);
    CHECK_EQ(in(0x20), 0x00);
}

TEST(priority_and_nesting)
{
    setup();
    irq_pulse(&pic->in[4]);
    CHECK_EQ(pic_intack(pic), 0x34);
    irq_pulse(&pic->in[6]);
    CHECK_EQ(int_level, 0);                 /* lower priority than IRQ 4 in service */
    irq_pulse(&pic->in[3]);
    CHECK_EQ(int_level, 1);                 /* higher priority nests */
    CHECK_EQ(pic_intack(pic), 0x33);
    out(0x20, 0x20);                        /* non-specific EOI ends IRQ 3 */
    CHECK_EQ(int_level, 0);
    out(0x20, 0x20);                        /* ... then IRQ 4 */
    CHECK_EQ(int_level, 1);
    CHECK_EQ(pic_intack(pic), 0x36);
}

TEST(mask_holds_request)
{
    setup();
    out(0x21, 0x01);
    irq_pulse(&pic->in[0]);
    CHECK_EQ(int_level, 0);
    out(0x21, 0x00);
    CHECK_EQ(int_level, 1);
    CHECK_EQ(pic_intack(pic), 0x30);
}

TEST(cascade)
{
    setup();
    irq_raise(&pic->in[12]);
    CHECK_EQ(int_level, 1);
    CHECK_EQ(pic_intack(pic), 0x3c);
    out(0x20, 0x0b);
    CHECK_EQ(in(0x20), 0x04);
    out(0xa0, 0x0b);
    CHECK_EQ(in(0xa0), 0x10);
    irq_lower(&pic->in[12]);
    irq_pulse(&pic->in[8]);                 /* higher than 12 but master IR2 in service */
    CHECK_EQ(int_level, 0);
    eoi_slave(4);
    eoi_master(2);
    CHECK_EQ(int_level, 1);
    CHECK_EQ(pic_intack(pic), 0x38);
}

TEST(special_fully_nested)
{
    create();
    out(0x20, 0x11); out(0x21, 0x30); out(0x21, 0x04); out(0x21, 0x11);
    out(0xa0, 0x11); out(0xa1, 0x38); out(0xa1, 0x02); out(0xa1, 0x01);
    out(0x21, 0); out(0xa1, 0);
    irq_pulse(&pic->in[12]);
    CHECK_EQ(pic_intack(pic), 0x3c);
    irq_pulse(&pic->in[9]);                 /* higher on the slave: nests through IR2 */
    CHECK_EQ(int_level, 1);
    CHECK_EQ(pic_intack(pic), 0x39);
}

TEST(spurious_irq7)
{
    setup();
    out(0xa1, 0xff);
    out(0x21, 0xfb);
    /* A level line that drops before the acknowledge. */
    out(0x4d0, 0x20);
    out(0x21, 0x00);
    irq_raise(&pic->in[5]);
    CHECK_EQ(int_level, 1);
    irq_lower(&pic->in[5]);
    CHECK_EQ(int_level, 0);
    CHECK_EQ(pic_intack(pic), 0x37);
    out(0x20, 0x0b);
    CHECK_EQ(in(0x20), 0x00);               /* no ISR bit for a spurious IRQ */
}

TEST(spurious_irq15)
{
    setup();
    out(0x4d1, 0x20);                       /* IRQ 13 can't be level: stays edge */
    CHECK_EQ(in(0x4d1), 0x00);
    out(0x4d1, 0x08);                       /* IRQ 11 level */
    CHECK_EQ(in(0x4d1), 0x08);
    irq_raise(&pic->in[11]);
    CHECK_EQ(int_level, 1);
    irq_lower(&pic->in[11]);                /* gone; master IR2 stays latched */
    CHECK_EQ(pic_intack(pic), 0x3f);
    out(0xa0, 0x0b);
    CHECK_EQ(in(0xa0), 0x00);
    out(0x20, 0x0b);
    CHECK_EQ(in(0x20), 0x04);               /* the master did see IR2 */
}

TEST(elcr_level_reasserts_after_eoi)
{
    setup();
    out(0x4d0, 0x07);                       /* IRQ 0-2 can't be level */
    CHECK_EQ(in(0x4d0), 0x00);
    out(0x4d1, 0x02);                       /* IRQ 9 level */
    irq_raise(&pic->in[9]);
    CHECK_EQ(pic_intack(pic), 0x39);
    CHECK_EQ(int_level, 0);
    eoi_slave(1);
    eoi_master(2);
    CHECK_EQ(int_level, 1);                 /* still high: requests again */
    CHECK_EQ(pic_intack(pic), 0x39);
    irq_lower(&pic->in[9]);
    eoi_slave(1);
    eoi_master(2);
    CHECK_EQ(int_level, 0);
}

TEST(edge_needs_new_edge)
{
    setup();
    irq_raise(&pic->in[3]);
    CHECK_EQ(pic_intack(pic), 0x33);
    eoi_master(3);
    CHECK_EQ(int_level, 0);                 /* still high, but no new edge */
    irq_lower(&pic->in[3]);
    irq_raise(&pic->in[3]);
    CHECK_EQ(int_level, 1);
}

TEST(auto_eoi)
{
    create();
    linux_init(true);
    irq_pulse(&pic->in[1]);
    CHECK_EQ(pic_intack(pic), 0x31);
    out(0x20, 0x0b);
    CHECK_EQ(in(0x20), 0x00);
    irq_pulse(&pic->in[1]);
    CHECK_EQ(int_level, 1);
}

TEST(poll_mode)
{
    setup();
    out(0x20, 0x0c);
    CHECK_EQ(in(0x20), 0x00);               /* nothing pending */
    irq_pulse(&pic->in[6]);
    out(0x20, 0x0c);
    CHECK_EQ(in(0x20), 0x86);
    out(0x20, 0x0b);
    CHECK_EQ(in(0x20), 0x40);               /* the poll acknowledged it */
    CHECK_EQ(int_level, 0);
}

TEST(rotation)
{
    setup();
    out(0x20, 0xc4);                        /* set priority: IR4 lowest, IR5 highest */
    irq_pulse(&pic->in[1]);
    irq_pulse(&pic->in[6]);
    CHECK_EQ(pic_intack(pic), 0x36);
    out(0x20, 0xe6);                        /* specific EOI 6 and rotate: IR7 highest */
    irq_pulse(&pic->in[7]);
    CHECK_EQ(pic_intack(pic), 0x37);
    out(0x20, 0xa0);                        /* rotate on non-specific EOI */
    CHECK_EQ(pic_intack(pic), 0x31);
}

TEST(special_mask_mode)
{
    setup();
    irq_pulse(&pic->in[3]);
    CHECK_EQ(pic_intack(pic), 0x33);
    out(0x21, 0x08);                        /* mask the level in service */
    out(0x20, 0x68);                        /* set special mask mode */
    irq_pulse(&pic->in[5]);                 /* lower priority: allowed now */
    CHECK_EQ(int_level, 1);
    CHECK_EQ(pic_intack(pic), 0x35);
    out(0x20, 0x48);                        /* reset special mask mode */
}

TEST(reinit_clears_state)
{
    setup();
    irq_pulse(&pic->in[4]);
    CHECK_EQ(pic_intack(pic), 0x34);
    linux_init(false);
    out(0x20, 0x0b);
    CHECK_EQ(in(0x20), 0x00);
    CHECK_EQ(in(0x21), 0x00);
}

TEST(cascade_input_ignores_devices)
{
    setup();
    irq_raise(&pic->in[2]);
    CHECK_EQ(int_level, 0);
    out(0x20, 0x0a);
    CHECK_EQ(in(0x20), 0x00);
}

TEST(machine_reset)
{
    setup();
    irq_pulse(&pic->in[4]);
    CHECK_EQ(int_level, 1);
    pic_reset(pic);
    CHECK_EQ(int_level, 0);
    CHECK_EQ(in(0x21), 0x00);
}
