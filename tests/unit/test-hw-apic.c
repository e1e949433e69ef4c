/* Local APIC: registers through the memory address space, priorities (TPR,
 * PPR, ISR nesting, EOI order), spurious vector, software disable, the timer
 * (one-shot, periodic over warped virtual time, TSC-deadline, divide
 * configuration, current count, masking), IPIs through the ICR (self, other
 * APICs, NMI/INIT/SIPI, logical and lowest-priority), ESR, level-triggered
 * EOI broadcast, ExtINT pass-through and relocation through IA32_APIC_BASE. */
#include "tests/unit/harness.h"

#include <pthread.h>
#include <stdlib.h>
#include "cpu/x86/helpers.h"
#include "system/cpus.h"
#include "hw/apic.h"

#define BASE 0xfee00000ULL

enum {
    ID = 0x20, VERSION = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0,
    LDR = 0xd0, DFR = 0xe0, SVR = 0xf0, ISR = 0x100, TMR = 0x180, IRR = 0x200,
    ESR = 0x280, ICR_LO = 0x300, ICR_HI = 0x310, LVT_TIMER = 0x320,
    LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370, TIMER_INIT = 0x380,
    TIMER_CUR = 0x390, TIMER_DIV = 0x3e0,
};

/* Everything a test builds stays alive (timers may still be armed). */
static AddressSpace *mem;
static ApicBus *bus;
static CPUX86State *env0, *env1;
static ApicState *apic0, *apic1;
static int pic_vector, pic_acks;
static int eoi_vector, eoi_count;

static int fake_pic_ack(void *opaque)
{
    (void)opaque;
    pic_acks++;
    return pic_vector;
}

static void record_eoi(void *opaque, int vector)
{
    (void)opaque;
    eoi_vector = vector;
    eoi_count++;
}

static CPUX86State *new_env(void)
{
    CPUX86State *env = calloc(1, sizeof(*env));
    return env;
}

/* One APIC (id 0) mapped in a fresh address space, software-enabled. */
static void setup_n(int n)
{
    clock_virtual_pause();       /* guest time moves only when the test warps it */
    mem = address_space_new("memory", 1ULL << 40);
    bus = apic_bus_new(mem);
    apic_bus_set_pic(bus, fake_pic_ack, NULL);
    apic_bus_set_eoi_listener(bus, record_eoi, NULL);
    pic_vector = 0x08;
    pic_acks = eoi_count = 0;
    eoi_vector = -1;
    env0 = new_env();
    apic0 = apic_create(bus, env0, 0);
    apic1 = NULL;
    if (n > 1) {
        env1 = new_env();
        apic1 = apic_create(bus, env1, 1);
        apic_reg_write(apic1, SVR, 0x1ff);
    }
}

static void setup(void) { setup_n(1); }

static uint32_t rd(uint32_t off) { return (uint32_t)as_read(mem, BASE + off, 4); }
static void wr(uint32_t off, uint32_t v) { as_write(mem, BASE + off, v, 4); }
static void enable(void) { wr(SVR, 0x1ff); }

static bool hard(CPUX86State *env)
{
    return atomic_load(&env->interrupt_request) & CPU_INTERRUPT_HARD;
}

static bool bit_in(uint32_t reg_base, int vector)
{
    return rd(reg_base + (uint32_t)(vector / 32) * 0x10) & (1u << (vector % 32));
}

static void advance(int64_t ns)
{
    clock_virtual_warp(ns);
    timers_run_expired();
}

/* Accept every pending interrupt (EOI each); count those with this vector. */
static int drain(ApicState *s, int vector)
{
    int n = 0;
    while (apic_has_interrupt(s)) {
        int v = apic_get_interrupt(s);
        if (v == vector)
            n++;
        apic_reg_write(s, EOI, 0);
    }
    return n;
}

TEST(reset_state)
{
    setup();
    CHECK_EQ(rd(ID), 0);
    CHECK_EQ(rd(VERSION), 0x50014);
    CHECK_EQ(rd(SVR), 0xff);
    CHECK_EQ(rd(DFR), 0xffffffff);
    CHECK_EQ(rd(LVT_TIMER), 0x10000);
    CHECK_EQ(rd(LVT_LINT0), 0x700);       /* BSP: virtual wire, as firmware leaves it */
    CHECK_EQ(rd(LVT_LINT1), 0x10000);
    CHECK_EQ(rd(TPR), 0);
    CHECK_EQ(env0->apic_base, BASE | APIC_BASE_ENABLE | APIC_BASE_BSP);
    CHECK(env0->apic == apic0);
    CHECK(env0->intack == apic_intack);
    CHECK(!hard(env0));
    /* dword registers: a byte read gets its byte */
    CHECK_EQ(as_read(mem, BASE + VERSION, 1), 0x14);
    CHECK_EQ(as_read(mem, BASE + VERSION + 2, 1), 0x05);
}

TEST(priority_and_eoi_order)
{
    setup();
    enable();
    apic_set_irq(apic0, 0x40, 0);
    apic_set_irq(apic0, 0x80, 0);
    CHECK(hard(env0));
    CHECK(bit_in(IRR, 0x40) && bit_in(IRR, 0x80));
    CHECK_EQ(apic_get_interrupt(apic0), 0x80);
    CHECK(bit_in(ISR, 0x80) && !bit_in(IRR, 0x80));
    CHECK_EQ(rd(PPR), 0x80);
    CHECK(!hard(env0));                   /* 0x40 is below the PPR */
    CHECK(!apic_has_interrupt(apic0));
    wr(EOI, 0);
    CHECK(!bit_in(ISR, 0x80));
    CHECK(hard(env0));
    CHECK_EQ(apic_get_interrupt(apic0), 0x40);
    wr(EOI, 0);
    CHECK(!hard(env0));
    CHECK_EQ(rd(PPR), 0);
}

TEST(same_class_waits_for_eoi)
{
    setup();
    enable();
    apic_set_irq(apic0, 0x41, 0);
    CHECK_EQ(apic_get_interrupt(apic0), 0x41);
    apic_set_irq(apic0, 0x4f, 0);         /* same priority class as the one in service */
    CHECK(!apic_has_interrupt(apic0));
    wr(EOI, 0);
    CHECK_EQ(apic_get_interrupt(apic0), 0x4f);
}

TEST(isr_nesting)
{
    setup();
    enable();
    apic_set_irq(apic0, 0x40, 0);
    CHECK_EQ(apic_get_interrupt(apic0), 0x40);
    apic_set_irq(apic0, 0x90, 0);         /* higher class nests */
    CHECK(hard(env0));
    CHECK_EQ(apic_get_interrupt(apic0), 0x90);
    CHECK(bit_in(ISR, 0x40) && bit_in(ISR, 0x90));
    wr(EOI, 0);                           /* ends the highest in service first */
    CHECK(bit_in(ISR, 0x40) && !bit_in(ISR, 0x90));
    wr(EOI, 0);
    CHECK(!bit_in(ISR, 0x40));
    wr(EOI, 0);                           /* nothing in service: harmless */
    CHECK_EQ(eoi_count, 0);               /* edge-triggered: no EOI broadcast */
}

TEST(tpr_masks_and_cr8)
{
    setup();
    enable();
    wr(TPR, 0x50);
    CHECK_EQ(env0->cr8, 5);
    CHECK_EQ(rd(PPR), 0x50);
    apic_set_irq(apic0, 0x55, 0);
    CHECK(!hard(env0));                   /* class 5 is not above TPR class 5 */
    apic_set_tpr(apic0, 4);               /* MOV CR8, 4 */
    CHECK_EQ(rd(TPR), 0x40);
    CHECK_EQ(apic_get_tpr(apic0), 4);
    CHECK(hard(env0));
    CHECK_EQ(apic_get_interrupt(apic0), 0x55);
    CHECK_EQ(rd(PPR), 0x50);              /* ISR class above the TPR */
    apic_set_tpr(apic0, 0xf);
    CHECK_EQ(rd(PPR), 0xf0);
    CHECK_EQ(rd(APR), 0xf0);
}

TEST(spurious_vector)
{
    setup();
    wr(SVR, 0x1ef);
    CHECK_EQ(apic_get_interrupt(apic0), 0xef);   /* nothing pending */
    CHECK_EQ(rd(ISR + 0x70), 0);                 /* no ISR bit for a spurious one */
    wr(TPR, 0xf0);
    apic_set_irq(apic0, 0x60, 0);
    CHECK_EQ(apic_get_interrupt(apic0), 0xef);   /* masked by the TPR */
}

TEST(software_disable)
{
    setup();
    enable();
    wr(LVT_TIMER, 0x30);
    CHECK_EQ(rd(LVT_TIMER), 0x30);
    apic_set_irq(apic0, 0x70, 0);
    CHECK(hard(env0));
    wr(SVR, 0xff);                        /* software disable */
    CHECK(!hard(env0));
    CHECK_EQ(rd(LVT_TIMER), 0x10030);     /* every LVT masked */
    wr(LVT_TIMER, 0x31);
    CHECK_EQ(rd(LVT_TIMER), 0x10031);     /* and cannot be unmasked */
    enable();
    CHECK(hard(env0));                    /* the held request comes back */
}

TEST(oneshot_timer)
{
    setup();
    enable();
    wr(TIMER_DIV, 0xb);                   /* divide by 1: a count per ns */
    wr(LVT_TIMER, 0x30);
    wr(TIMER_INIT, 1000);
    CHECK_EQ(rd(TIMER_INIT), 1000);
    CHECK_EQ(rd(TIMER_CUR), 1000);
    advance(400);
    CHECK_EQ(rd(TIMER_CUR), 600);
    CHECK(!bit_in(IRR, 0x30));
    advance(599);
    CHECK(!bit_in(IRR, 0x30));
    advance(1);
    CHECK(bit_in(IRR, 0x30));
    CHECK_EQ(rd(TIMER_CUR), 0);
    CHECK_EQ(drain(apic0, 0x30), 1);
    advance(100000);
    CHECK_EQ(drain(apic0, 0x30), 0);      /* one shot only */
    CHECK_EQ(rd(TIMER_CUR), 0);
    wr(TIMER_INIT, 10);                   /* a new initial count restarts it */
    advance(10);
    CHECK_EQ(drain(apic0, 0x30), 1);
    wr(TIMER_INIT, 10);
    wr(TIMER_INIT, 0);                    /* zero stops it */
    advance(100);
    CHECK_EQ(drain(apic0, 0x30), 0);
}

TEST(oneshot_coalesces_with_pending_request)
{
    setup();
    enable();
    wr(TIMER_DIV, 0xb);
    wr(LVT_TIMER, 0x30);
    apic_set_irq(apic0, 0x30, 0);         /* the previous expiry not taken yet */
    wr(TIMER_INIT, 100);
    advance(100);
    CHECK_EQ(drain(apic0, 0x30), 1);      /* one request, as on hardware */
}

TEST(divide_configuration)
{
    setup();
    enable();
    static const struct { uint32_t dcr; unsigned divisor; } table[] = {
        { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
        { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
    };
    wr(LVT_TIMER, 0x30);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        wr(TIMER_DIV, table[i].dcr);
        CHECK_EQ(rd(TIMER_DIV), table[i].dcr);
        wr(TIMER_INIT, 100);
        advance(10 * table[i].divisor);
        CHECK_EQ(rd(TIMER_CUR), 90);
        advance(90 * (int64_t)table[i].divisor - 1);
        CHECK(!bit_in(IRR, 0x30));
        advance(1);
        CHECK(bit_in(IRR, 0x30));
        drain(apic0, 0x30);
    }
    /* changing the divider mid-count keeps the current count */
    wr(TIMER_DIV, 0xb);
    wr(TIMER_INIT, 1000);
    advance(500);
    wr(TIMER_DIV, 0x0);                   /* now 2 ns per count */
    CHECK_EQ(rd(TIMER_CUR), 500);
    advance(998);
    CHECK(!bit_in(IRR, 0x30));
    advance(2);
    CHECK(bit_in(IRR, 0x30));
}

TEST(periodic_timer_counts_every_tick)
{
    setup();
    enable();
    wr(TIMER_DIV, 0xb);
    wr(LVT_TIMER, 0x20000 | 0x31);        /* periodic */
    wr(TIMER_INIT, 100000);               /* 100 us */
    int ticks = 0;
    /* 10 ms in steps that do not divide the period: 100 ticks, no drift */
    for (int i = 0; i < 300; i++) {
        advance(33333);
        ticks += drain(apic0, 0x31);
    }
    advance(10000000 - 300 * 33333);
    ticks += drain(apic0, 0x31);
    CHECK_EQ(ticks, 100);
    /* current count follows the period */
    advance(25000);
    CHECK_EQ(rd(TIMER_CUR), 75000);
    /* a long stretch without accepting interrupts: the ticks are kept */
    advance(75000 + 10 * 100000);
    CHECK_EQ(drain(apic0, 0x31), 11);
    advance(99999);
    CHECK_EQ(drain(apic0, 0x31), 0);
    advance(1);
    CHECK_EQ(drain(apic0, 0x31), 1);
}

TEST(periodic_timer_is_rate_limited_not_lost)
{
    setup();
    enable();
    wr(TIMER_DIV, 0xb);
    wr(LVT_TIMER, 0x20000 | 0x31);
    wr(TIMER_INIT, 10);                   /* 10 ns: far faster than the host limit */
    advance(APIC_TIMER_MIN_PERIOD_NS - 1);
    CHECK_EQ(drain(apic0, 0x31), 0);      /* the host timer waits for the limit */
    advance(1);
    CHECK_EQ(drain(apic0, 0x31), APIC_TIMER_MIN_PERIOD_NS / 10);
    CHECK_EQ(rd(TIMER_CUR), 10);
}

TEST(oneshot_to_periodic_has_no_burst)
{
    setup();
    enable();
    wr(TIMER_DIV, 0xb);
    wr(LVT_TIMER, 0x34);
    wr(TIMER_INIT, 100000);
    advance(1000000);                     /* the one-shot fired long ago */
    CHECK_EQ(drain(apic0, 0x34), 1);
    wr(LVT_TIMER, 0x20000 | 0x34);        /* now periodic: ticks from here on */
    advance(50000);
    CHECK_EQ(drain(apic0, 0x34), 0);
    advance(50000);                       /* the period boundary at 1.1 ms */
    CHECK_EQ(drain(apic0, 0x34), 1);
    advance(100000);
    CHECK_EQ(drain(apic0, 0x34), 1);
}

TEST(masked_timer_counts_silently)
{
    setup();
    enable();
    wr(TIMER_DIV, 0xb);
    wr(LVT_TIMER, 0x10000 | 0x20000 | 0x32);
    wr(TIMER_INIT, 100000);
    advance(250000);
    CHECK_EQ(rd(TIMER_CUR), 50000);
    CHECK(!bit_in(IRR, 0x32));
    wr(LVT_TIMER, 0x20000 | 0x32);        /* unmask: from the next period on */
    advance(50000);
    CHECK_EQ(drain(apic0, 0x32), 1);
}

static uint64_t guest_tsc(CPUX86State *env)
{
    return (uint64_t)clock_get_ns(CLOCK_VIRTUAL) * (X86_TSC_HZ / NS_PER_SEC) + env->tsc_offset;
}

TEST(tsc_deadline_timer)
{
    setup();
    enable();
    env0->tsc_offset = 123456789;
    apic_set_tsc_deadline(apic0, guest_tsc(env0) + 1000);
    CHECK_EQ(env0->tsc_deadline, 0);      /* ignored outside TSC-deadline mode */
    wr(LVT_TIMER, 0x40000 | 0x33);
    wr(TIMER_INIT, 5);                    /* ignored in TSC-deadline mode */
    CHECK_EQ(rd(TIMER_INIT), 0);
    CHECK_EQ(rd(TIMER_CUR), 0);
    uint64_t ticks_per_ns = X86_TSC_HZ / NS_PER_SEC;
    apic_set_tsc_deadline(apic0, guest_tsc(env0) + 1000 * ticks_per_ns);
    CHECK(env0->tsc_deadline != 0);
    advance(999);
    CHECK(!bit_in(IRR, 0x33));
    advance(1);
    CHECK(bit_in(IRR, 0x33));
    CHECK_EQ(env0->tsc_deadline, 0);      /* disarmed once fired */
    CHECK_EQ(drain(apic0, 0x33), 1);
    advance(1000000);
    CHECK_EQ(drain(apic0, 0x33), 0);
    /* a deadline already passed fires at once */
    apic_set_tsc_deadline(apic0, guest_tsc(env0) - 5);
    CHECK(bit_in(IRR, 0x33));
    CHECK_EQ(drain(apic0, 0x33), 1);
    /* writing 0 disarms */
    apic_set_tsc_deadline(apic0, guest_tsc(env0) + 100);
    apic_set_tsc_deadline(apic0, 0);
    advance(1000);
    CHECK_EQ(drain(apic0, 0x33), 0);
    /* leaving the mode disarms too */
    apic_set_tsc_deadline(apic0, guest_tsc(env0) + 100);
    wr(LVT_TIMER, 0x33);
    CHECK_EQ(env0->tsc_deadline, 0);
    advance(1000);
    CHECK_EQ(drain(apic0, 0x33), 0);
}

TEST(self_ipi)
{
    setup();
    enable();
    wr(ICR_LO, (1u << 18) | 0x55);        /* shorthand self, fixed */
    CHECK(bit_in(IRR, 0x55));
    CHECK_EQ(rd(ICR_LO) & (1u << 12), 0); /* delivery status idle */
    CHECK_EQ(apic_get_interrupt(apic0), 0x55);
    wr(EOI, 0);
    wr(ICR_HI, 0);                        /* physical destination 0 = us */
    wr(ICR_LO, 0x56);
    CHECK_EQ(apic_get_interrupt(apic0), 0x56);
    wr(EOI, 0);
    wr(ICR_LO, (3u << 18) | 0x57);        /* all excluding self: nobody */
    CHECK(!apic_has_interrupt(apic0));
    wr(ICR_LO, (2u << 18) | 0x58);        /* all including self */
    CHECK_EQ(apic_get_interrupt(apic0), 0x58);
    wr(ICR_LO, (1u << 18) | (APIC_DM_NMI << 8));
    CHECK(atomic_load(&env0->interrupt_request) & CPU_INTERRUPT_NMI);
}

TEST(ipi_to_other_cpu)
{
    setup_n(2);
    enable();
    wr(ICR_HI, 1u << 24);
    wr(ICR_LO, 0x61);                     /* fixed to APIC 1 (physical) */
    CHECK(!hard(env0));
    CHECK(hard(env1));
    CHECK_EQ(apic_get_interrupt(apic1), 0x61);
    /* INIT then SIPI (the AP start-up sequence) */
    apic_reg_write(apic1, TPR, 0x20);
    wr(ICR_LO, (APIC_DM_INIT << 8) | (1u << 14));
    CHECK(atomic_load(&env1->interrupt_request) & CPU_INTERRUPT_INIT);
    CHECK_EQ(apic_reg_read(apic1, TPR), 0);        /* INIT resets the APIC */
    CHECK_EQ(apic_reg_read(apic1, 0x20), 1u << 24); /* but keeps its ID */
    wr(ICR_LO, (APIC_DM_INIT << 8) | (1u << 15)); /* level de-assert: no effect */
    wr(ICR_LO, (APIC_DM_SIPI << 8) | 0x9a);
    CHECK(atomic_load(&env1->interrupt_request) & CPU_INTERRUPT_SIPI);
    CHECK_EQ(env1->sipi_vector, 0x9a);
    /* broadcast excluding self reaches only the other one */
    apic_reg_write(apic1, SVR, 0x1ff);
    wr(ICR_LO, (3u << 18) | 0x62);
    CHECK(!apic_has_interrupt(apic0));
    CHECK_EQ(apic_get_interrupt(apic1), 0x62);
}

TEST(logical_and_lowest_priority)
{
    setup_n(2);
    enable();
    wr(LDR, 0x01000000);                  /* flat model: APIC 0 is bit 0 */
    apic_reg_write(apic1, LDR, 0x02000000);
    wr(ICR_HI, 0x02000000);
    wr(ICR_LO, (1u << 11) | 0x63);        /* logical, MDA 0x02 */
    CHECK(!hard(env0));
    CHECK_EQ(apic_get_interrupt(apic1), 0x63);
    apic_reg_write(apic1, EOI, 0);
    /* lowest priority among both: the one with the lower TPR */
    wr(TPR, 0x80);
    wr(ICR_HI, 0x03000000);
    wr(ICR_LO, (1u << 11) | (APIC_DM_LOWEST << 8) | 0x64);
    CHECK(!bit_in(IRR, 0x64));
    CHECK(apic_reg_read(apic1, IRR + 0x30) & (1u << 4));
    /* cluster model: cluster 1, member bit 1 */
    wr(DFR, 0x0fffffff);
    CHECK_EQ(rd(DFR), 0x0fffffff);
    wr(LDR, 0x11000000);
    wr(TPR, 0);
    wr(ICR_HI, 0x11000000);
    wr(ICR_LO, (1u << 11) | 0x65);
    CHECK(bit_in(IRR, 0x65));
}

TEST(error_status_register)
{
    setup();
    enable();
    wr(LVT_ERROR, 0xfe);
    wr(ICR_LO, (1u << 18) | 0x05);        /* illegal vector to self */
    CHECK_EQ(rd(ESR), 0);                 /* not visible before an ESR write */
    wr(ESR, 0);
    CHECK_EQ(rd(ESR), 0x60);              /* send and receive illegal vector */
    CHECK_EQ(apic_get_interrupt(apic0), 0xfe);  /* the error LVT fired */
    wr(EOI, 0);
    wr(ESR, 0);
    CHECK_EQ(rd(ESR), 0);
}

TEST(level_triggered_eoi_broadcast)
{
    setup();
    enable();
    apic_set_irq(apic0, 0x60, 1);
    CHECK(bit_in(TMR, 0x60));
    apic_set_irq(apic0, 0x70, 0);
    CHECK(!bit_in(TMR, 0x70));
    CHECK_EQ(apic_get_interrupt(apic0), 0x70);
    wr(EOI, 0);
    CHECK_EQ(eoi_count, 0);
    CHECK_EQ(apic_get_interrupt(apic0), 0x60);
    wr(EOI, 0);
    CHECK_EQ(eoi_count, 1);
    CHECK_EQ(eoi_vector, 0x60);
}

TEST(extint_passthrough)
{
    setup();
    pic_vector = 0x20;
    apic_deliver_pic_intr(apic0, 1);      /* LINT0 ExtINT from reset, SVR still disabled */
    CHECK(hard(env0));
    CHECK_EQ(env0->intack(env0), 0x20);
    CHECK_EQ(pic_acks, 1);
    CHECK_EQ(rd(ISR + 0x10), 0);          /* bypasses the ISR */
    apic_deliver_pic_intr(apic0, 0);
    CHECK(!hard(env0));
    /* ExtINT ignores the TPR */
    enable();
    wr(TPR, 0xf0);
    apic_deliver_pic_intr(apic0, 1);
    CHECK(hard(env0));
    CHECK_EQ(apic_get_interrupt(apic0), 0x20);
    /* masked LINT0: the PIC does not get through */
    wr(LVT_LINT0, 0x10700);
    CHECK(!hard(env0));
    apic_deliver_pic_intr(apic0, 0);
    /* LINT1 as NMI (Linux's virtual wire setup) */
    wr(LVT_LINT1, APIC_DM_NMI << 8);
    apic_set_lint(apic0, 1, 1);
    CHECK(atomic_load(&env0->interrupt_request) & CPU_INTERRUPT_NMI);
    /* an ExtINT message (I/O APIC pin in ExtINT mode) also asks the PIC */
    ApicMessage m = { .delivery_mode = APIC_DM_EXTINT, .dest = 0 };
    apic_bus_deliver(bus, &m);
    CHECK(hard(env0));
    CHECK_EQ(apic_get_interrupt(apic0), 0x20);
    CHECK(!hard(env0));
}

TEST(global_disable_and_relocation)
{
    setup();
    enable();
    apic_set_base(apic0, 0xfed00000ULL | APIC_BASE_ENABLE | APIC_BASE_BSP);
    CHECK_EQ(env0->apic_base, 0xfed00000ULL | APIC_BASE_ENABLE | APIC_BASE_BSP);
    CHECK_EQ(as_read(mem, 0xfed00000ULL + VERSION, 4), 0x50014);
    CHECK_EQ(rd(VERSION), 0xffffffff);    /* nothing at the old address */
    apic_set_base(apic0, 0xfee00000ULL | APIC_BASE_BSP);   /* globally disabled */
    CHECK_EQ(rd(VERSION), 0xffffffff);
    CHECK(!apic_hw_enabled(apic0));
    pic_vector = 0x24;
    apic_deliver_pic_intr(apic0, 1);      /* the 8259 goes straight to the CPU */
    CHECK(hard(env0));
    CHECK_EQ(apic_get_interrupt(apic0), 0x24);
    apic_deliver_pic_intr(apic0, 0);
    CHECK(!hard(env0));
    apic_set_base(apic0, 0xfee00000ULL | APIC_BASE_ENABLE | APIC_BASE_BSP);
    CHECK_EQ(rd(SVR), 0xff);              /* back in the power-up state */
}

TEST(reserved_registers_and_odd_accesses)
{
    setup();
    enable();
    CHECK_EQ(rd(0x40), 0);                /* reserved: reads 0, flags an error */
    wr(ESR, 0);
    CHECK_EQ(rd(ESR), 0x80);
    wr(VERSION, 0);                       /* read-only */
    CHECK_EQ(rd(VERSION), 0x50014);
    as_write(mem, BASE + TPR, 0x30, 1);   /* sub-dword writes are ignored */
    CHECK_EQ(rd(TPR), 0);
    CHECK_EQ(as_read(mem, BASE + VERSION, 8), 0x50014); /* 8-byte: upper dword 0 */
    /* hostile values never crash: every offset read and written */
    for (uint32_t off = 0; off < 0x1000; off += 4)
        (void)rd(off);
    for (uint32_t off = 0x400; off < 0x1000; off += 0x10)
        wr(off, 0xffffffff);
    CHECK_EQ(rd(VERSION), 0x50014);
}

TEST(machine_reset_restores)
{
    setup();
    enable();
    wr(TPR, 0x30);
    wr(LVT_TIMER, 0x20000 | 0x31);
    wr(TIMER_INIT, 100);
    apic_reset(apic0);
    CHECK_EQ(rd(TPR), 0);
    CHECK_EQ(rd(SVR), 0xff);
    CHECK_EQ(rd(TIMER_INIT), 0);
    advance(1000);
    CHECK(!apic_has_interrupt(apic0));
}

/* ---- SMP: each vCPU thread sees its own APIC at 0xfee00000 -------------------- */

static uint32_t id_seen_by_thread;
static atomic_int thread_go;

static void *read_id_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&thread_go))
        ;                        /* until the test has recorded our thread id */
    id_seen_by_thread = rd(ID);
    return NULL;
}

TEST(per_cpu_register_view)
{
    clock_virtual_pause();
    mem = address_space_new("memory", 1ULL << 40);
    bus = apic_bus_new(mem);
    env0 = new_env();
    env1 = new_env();
    static VCPU vcpu0, vcpu1;
    vcpu0.index = 0;
    vcpu1.index = 1;
    pthread_mutex_init(&vcpu1.wait_lock, NULL);
    pthread_cond_init(&vcpu1.wait_cond, NULL);
    pthread_mutex_init(&vcpu0.wait_lock, NULL);
    pthread_cond_init(&vcpu0.wait_cond, NULL);
    env0->vcpu = &vcpu0;
    env1->vcpu = &vcpu1;
    apic0 = apic_create(bus, env0, 0);
    apic1 = apic_create(bus, env1, 1);
    CHECK_EQ(env1->apic_base, BASE | APIC_BASE_ENABLE);     /* not the BSP */
    CHECK_EQ(apic_reg_read(apic1, LVT_LINT0), 0x10000);     /* no virtual wire on APs */
    /* vCPU 1's thread reads its own ID; other threads see the BSP's */
    vcpu0.thread = pthread_self();
    pthread_t t;
    atomic_store(&thread_go, 0);
    REQUIRE(pthread_create(&t, NULL, read_id_thread, NULL) == 0);
    vcpu1.thread = t;
    atomic_store(&thread_go, 1);
    pthread_join(t, NULL);
    CHECK_EQ(id_seen_by_thread, 1u << 24);
    CHECK_EQ(rd(ID), 0);
    vcpu0.thread = t;                           /* now we are vCPU 1 */
    vcpu1.thread = pthread_self();
    CHECK_EQ(rd(ID), 1u << 24);
    env0->vcpu = NULL;                          /* leave no thread ids behind */
    env1->vcpu = NULL;
}

TEST(msi_delivery)
{
    setup_n(2);
    apic_bus_msi(bus, 0xfee01000, 0x0061);              /* APIC 1, fixed, edge */
    CHECK(hard(env1));
    CHECK_EQ(apic_get_interrupt(apic1), 0x61);
    apic_bus_msi(bus, 0xfee00000, 0xc062);              /* APIC 0, level */
    CHECK(bit_in(TMR, 0x62));
    apic_bus_msi(bus, 0xfed00000, 0x0063);              /* not an MSI address */
    CHECK(!bit_in(IRR, 0x63));
    apic_bus_msi(bus, 0xfee00000, 0x0400);              /* NMI */
    CHECK(atomic_load(&env0->interrupt_request) & CPU_INTERRUPT_NMI);
}

/* ---- the CPU side: IA32_APIC_BASE, CR8 and IA32_TSC_DEADLINE through the
 * helpers of cpu/x86 (msr.c, cr.c) and the installed hooks ----------------------- */

TEST(cpu_hooks)
{
    setup();
    enable();
    apic_cpu_hooks_install();
    REQUIRE(x86_apic_hooks != NULL);
    /* relocation through WRMSR */
    CHECK_EQ(x86_msr_write(env0, 0x1b, 0xfed00000ULL | APIC_BASE_ENABLE | APIC_BASE_BSP), 0);
    CHECK_EQ(as_read(mem, 0xfed00000ULL + VERSION, 4), 0x50014);
    uint64_t v = 0;
    CHECK_EQ(x86_msr_read(env0, 0x1b, &v), 0);
    CHECK_EQ(v, 0xfed00900);
    CHECK_EQ(x86_msr_write(env0, 0x1b, 0xfee00000ULL | APIC_BASE_ENABLE | APIC_BASE_BSP), 0);
    CHECK_EQ(rd(VERSION), 0x50014);
    /* MOV CR8 <-> TPR */
    x86_write_cr(env0, 8, 5, 0);
    CHECK_EQ(rd(TPR), 0x50);
    wr(TPR, 0x30);
    CHECK_EQ(x86_read_cr(env0, 8, 0), 3);
    wr(TPR, 0);
    /* IA32_TSC_DEADLINE */
    CHECK_EQ(x86_msr_write(env0, 0x6e0, x86_get_tsc(env0) + 1000), 0);
    CHECK_EQ(x86_msr_read(env0, 0x6e0, &v), 0);
    CHECK_EQ(v, 0);                           /* ignored outside TSC-deadline mode */
    wr(LVT_TIMER, 0x40000 | 0x35);
    uint64_t deadline = x86_get_tsc(env0) + 1000;
    CHECK_EQ(x86_msr_write(env0, 0x6e0, deadline), 0);
    CHECK_EQ(x86_msr_read(env0, 0x6e0, &v), 0);
    CHECK_EQ(v, deadline);
    advance(1000 * NS_PER_SEC / (int64_t)X86_TSC_HZ);
    CHECK(bit_in(IRR, 0x35));
    CHECK_EQ(x86_msr_read(env0, 0x6e0, &v), 0);
    CHECK_EQ(v, 0);
}
