/* I/O APIC: registers through IOREGSEL/IOWIN in the memory address space,
 * edge and level inputs delivered to a local APIC, remote IRR and the EOI
 * broadcast, re-delivery of a line still high, masking, destinations,
 * NMI and ExtINT delivery modes. */
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <string.h>
#include "hw/ioapic.h"

#define IOBASE 0xfec00000ULL
#define LAPIC  0xfee00000ULL

static AddressSpace *mem;
static ApicBus *bus;
static CPUX86State *env0, *env1;
static ApicState *apic0, *apic1;
static IoApicState *io;
static int pic_acks;

static int fake_pic_ack(void *opaque)
{
    (void)opaque;
    pic_acks++;
    return 0x30;
}

static void setup_n(int ncpus)
{
    clock_virtual_pause();
    mem = address_space_new("memory", 1ULL << 40);
    bus = apic_bus_new(mem);
    apic_bus_set_pic(bus, fake_pic_ack, NULL);
    pic_acks = 0;
    env0 = calloc(1, sizeof(*env0));
    apic0 = apic_create(bus, env0, 0);
    apic_reg_write(apic0, 0xf0, 0x1ff);       /* software-enable */
    apic1 = NULL;
    if (ncpus > 1) {
        env1 = calloc(1, sizeof(*env1));
        apic1 = apic_create(bus, env1, 1);
        apic_reg_write(apic1, 0xf0, 0x1ff);
    }
    io = ioapic_create(mem, bus, IOBASE, 2);
}

static void setup(void) { setup_n(1); }

static uint32_t io_read(uint8_t reg)
{
    as_write(mem, IOBASE, reg, 4);
    return (uint32_t)as_read(mem, IOBASE + 0x10, 4);
}

static void io_write(uint8_t reg, uint32_t v)
{
    as_write(mem, IOBASE, reg, 4);
    as_write(mem, IOBASE + 0x10, v, 4);
}

static void set_entry(int pin, uint64_t rte)
{
    io_write((uint8_t)(0x11 + 2 * pin), (uint32_t)(rte >> 32));
    io_write((uint8_t)(0x10 + 2 * pin), (uint32_t)rte);
}

static uint64_t get_entry(int pin)
{
    return io_read((uint8_t)(0x10 + 2 * pin)) |
           (uint64_t)io_read((uint8_t)(0x11 + 2 * pin)) << 32;
}

static bool irr_has(ApicState *s, int vector)
{
    return apic_reg_read(s, 0x200 + (uint32_t)(vector / 32) * 0x10) & (1u << (vector % 32));
}

static void lapic_eoi(ApicState *s) { apic_reg_write(s, 0xb0, 0); }

TEST(identification_and_reset)
{
    setup();
    CHECK_EQ(io_read(0x00), 2u << 24);
    CHECK_EQ(io_read(0x01), 0x00170011);
    CHECK_EQ(io_read(0x02), 2u << 24);
    io_write(0x00, 5u << 24);
    CHECK_EQ(io_read(0x00), 5u << 24);
    io_write(0x01, 0);                        /* version is read-only */
    CHECK_EQ(io_read(0x01), 0x00170011);
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++)
        CHECK_EQ(get_entry(pin), IOAPIC_RTE_MASKED);
    CHECK_EQ(io_read(0x10 + 48), 0xffffffff); /* beyond entry 23 */
    /* IOREGSEL takes byte writes and reads back */
    as_write(mem, IOBASE, 0x12, 1);
    CHECK_EQ(as_read(mem, IOBASE, 4), 0x12);
    set_entry(3, 0x0300000000000045ULL);
    ioapic_reset(io);
    CHECK_EQ(get_entry(3), IOAPIC_RTE_MASKED);
    CHECK_EQ(io_read(0x00), 2u << 24);
}

TEST(edge_delivery)
{
    setup();
    set_entry(1, 0x41);                       /* fixed, physical dest 0, edge, unmasked */
    irq_raise(&io->in[1]);
    CHECK(irr_has(apic0, 0x41));
    CHECK_EQ(apic_get_interrupt(apic0), 0x41);
    lapic_eoi(apic0);
    irq_raise(&io->in[1]);                    /* still high: no new edge */
    CHECK(!irr_has(apic0, 0x41));
    irq_lower(&io->in[1]);
    irq_raise(&io->in[1]);
    CHECK(irr_has(apic0, 0x41));
    CHECK_EQ(get_entry(1) & IOAPIC_RTE_REMOTE_IRR, 0);
}

TEST(masked_edge_is_dropped)
{
    setup();
    set_entry(4, IOAPIC_RTE_MASKED | 0x44);
    irq_pulse(&io->in[4]);
    CHECK(!irr_has(apic0, 0x44));
    set_entry(4, 0x44);                       /* unmasking does not bring it back */
    CHECK(!irr_has(apic0, 0x44));
    irq_pulse(&io->in[4]);
    CHECK(irr_has(apic0, 0x44));
}

TEST(level_remote_irr_and_eoi)
{
    setup();
    set_entry(16, IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY_LOW | 0x51);
    irq_raise(&io->in[16]);
    CHECK(irr_has(apic0, 0x51));
    CHECK(get_entry(16) & IOAPIC_RTE_REMOTE_IRR);
    CHECK_EQ(apic_get_interrupt(apic0), 0x51);
    irq_raise(&io->in[16]);                   /* waits for the EOI */
    CHECK(!irr_has(apic0, 0x51));
    lapic_eoi(apic0);                         /* line still high: delivered again */
    CHECK(irr_has(apic0, 0x51));
    CHECK(get_entry(16) & IOAPIC_RTE_REMOTE_IRR);
    CHECK_EQ(apic_get_interrupt(apic0), 0x51);
    irq_lower(&io->in[16]);                   /* the handler quietened the device */
    lapic_eoi(apic0);
    CHECK_EQ(get_entry(16) & IOAPIC_RTE_REMOTE_IRR, 0);
    CHECK(!irr_has(apic0, 0x51));
    CHECK(!apic_has_interrupt(apic0));
}

TEST(remote_irr_is_read_only)
{
    setup();
    set_entry(9, IOAPIC_RTE_LEVEL | 0x59);
    irq_raise(&io->in[9]);
    CHECK(get_entry(9) & IOAPIC_RTE_REMOTE_IRR);
    set_entry(9, IOAPIC_RTE_LEVEL | 0x59);    /* rewriting does not clear it */
    CHECK(get_entry(9) & IOAPIC_RTE_REMOTE_IRR);
    set_entry(9, IOAPIC_RTE_DELIVERY_STATUS | IOAPIC_RTE_LEVEL | 0x59);
    CHECK_EQ(get_entry(9) & IOAPIC_RTE_DELIVERY_STATUS, 0);
    /* an EOI for another vector leaves it alone */
    ioapic_eoi(io, 0x60);
    CHECK(get_entry(9) & IOAPIC_RTE_REMOTE_IRR);
    irq_lower(&io->in[9]);
    ioapic_eoi(io, 0x59);
    CHECK_EQ(get_entry(9) & IOAPIC_RTE_REMOTE_IRR, 0);
}

TEST(unmask_delivers_pending_level)
{
    setup();
    set_entry(10, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | 0x5a);
    irq_raise(&io->in[10]);
    CHECK(!irr_has(apic0, 0x5a));
    CHECK_EQ(get_entry(10) & IOAPIC_RTE_REMOTE_IRR, 0);
    set_entry(10, IOAPIC_RTE_LEVEL | 0x5a);
    CHECK(irr_has(apic0, 0x5a));
    CHECK(apic_reg_read(apic0, 0x180 + 0x20) & (1u << (0x5a % 32)));   /* TMR: level */
}

TEST(destinations)
{
    setup_n(2);
    set_entry(5, 0x0100000000000045ULL);      /* physical APIC 1 */
    irq_pulse(&io->in[5]);
    CHECK(!irr_has(apic0, 0x45));
    CHECK(irr_has(apic1, 0x45));
    apic_reg_write(apic0, 0xd0, 0x01000000);  /* logical flat: bit 0 */
    apic_reg_write(apic1, 0xd0, 0x02000000);
    set_entry(6, 0x0300000000000800ULL | 0x46);   /* logical MDA 3: both */
    irq_pulse(&io->in[6]);
    CHECK(irr_has(apic0, 0x46) && irr_has(apic1, 0x46));
    set_entry(7, 0xff00000000000000ULL | 0x47);   /* physical broadcast */
    irq_pulse(&io->in[7]);
    CHECK(irr_has(apic0, 0x47) && irr_has(apic1, 0x47));
    /* lowest priority: APIC 0 busy at a high TPR, APIC 1 gets it */
    apic_reg_write(apic0, 0x80, 0xe0);
    set_entry(8, 0x0300000000000900ULL | 0x48);
    irq_pulse(&io->in[8]);
    CHECK(!irr_has(apic0, 0x48) && irr_has(apic1, 0x48));
    set_entry(11, 0x0800000000000000ULL | 0x4b);  /* nobody has ID 8 */
    irq_pulse(&io->in[11]);
    CHECK(!irr_has(apic0, 0x4b) && !irr_has(apic1, 0x4b));
}

TEST(nmi_and_extint_modes)
{
    setup();
    set_entry(2, (APIC_DM_NMI << 8));
    irq_pulse(&io->in[2]);
    CHECK(atomic_load(&env0->interrupt_request) & CPU_INTERRUPT_NMI);
    /* ExtINT: the local APIC asks the 8259 for the vector */
    apic_reg_write(apic0, 0x350, 0x10700);    /* LINT0 masked: only the I/O APIC path */
    set_entry(0, (APIC_DM_EXTINT << 8));
    irq_raise(&io->in[0]);
    CHECK(atomic_load(&env0->interrupt_request) & CPU_INTERRUPT_HARD);
    CHECK_EQ(apic_get_interrupt(apic0), 0x30);
    CHECK_EQ(pic_acks, 1);
    CHECK(!(atomic_load(&env0->interrupt_request) & CPU_INTERRUPT_HARD));
}

TEST(pit_to_gsi2_through_lapic)
{
    /* What Linux programs for the timer: GSI 2, edge, vector 0x30 (here 0xec). */
    setup();
    set_entry(2, 0xec);
    for (int i = 0; i < 5; i++) {
        irq_pulse(&io->in[2]);
        CHECK(atomic_load(&env0->interrupt_request) & CPU_INTERRUPT_HARD);
        CHECK_EQ(env0->intack(env0), 0xec);
        lapic_eoi(apic0);
    }
    CHECK(!apic_has_interrupt(apic0));
    (void)LAPIC;
}

TEST(hostile_accesses)
{
    setup();
    for (int reg = 0; reg < 256; reg++)
        io_write((uint8_t)reg, 0xffffffff);
    for (int reg = 0; reg < 256; reg++)
        (void)io_read((uint8_t)reg);
    for (uint64_t off = 0; off < 0x1000; off += 1)
        (void)as_read(mem, IOBASE + off, 1);
    as_write(mem, IOBASE + 0x11, 0xab, 1);    /* byte into IOWIN */
    irq_set_level(&io->in[0], 1);             /* an entry full of ones: logical to everyone */
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++)
        irq_set_level(&io->in[pin], 1);
    CHECK_EQ(io_read(0x01), 0x00170011);
}

static int pic_levels[16];
static void record_pic(void *opaque, int n, int level)
{
    (void)opaque;
    pic_levels[n] = level;
}

TEST(isa_fanout)
{
    setup();
    static IrqLine pic_in[16];
    static IoApicIsaFanout fan;
    for (int i = 0; i < 16; i++)
        irq_init(&pic_in[i], record_pic, NULL, i);
    ioapic_isa_fanout_init(&fan, pic_in, io->in);
    set_entry(2, 0x30);                       /* the PIT's GSI */
    set_entry(4, 0x34);
    irq_raise(&fan.isa_irq[0]);
    CHECK_EQ(pic_levels[0], 1);
    CHECK(irr_has(apic0, 0x30));              /* IRQ 0 is GSI 2 */
    irq_raise(&fan.isa_irq[4]);
    CHECK_EQ(pic_levels[4], 1);
    CHECK(irr_has(apic0, 0x34));
    irq_lower(&fan.isa_irq[4]);
    CHECK_EQ(pic_levels[4], 0);
}

TEST(info_dumps)
{
    setup();
    set_entry(16, IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY_LOW | 0x51);
    irq_raise(&io->in[16]);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    REQUIRE(f);
    ioapic_dump(io, f);
    apic_dump(apic0, f);
    fclose(f);
    CHECK(strstr(buf, "pin 16: ") && strstr(buf, "level active-low  remote-irr"));
    CHECK(strstr(buf, "APIC 0: base 0xfee00000 BSP, software-enabled"));
    CHECK(strstr(buf, "IRR: 0x51"));
    free(buf);
}
