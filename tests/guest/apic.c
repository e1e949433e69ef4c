/* The local APIC and the I/O APIC as a guest sees them: CPUID and
 * IA32_APIC_BASE, the register page at 0xfee00000, a self-IPI, TPR masking,
 * the APIC timer (one-shot with HLT, periodic, the current count), and the
 * 8254 routed through I/O APIC pin 2 with the 8259 masked.
 *
 * Handlers do not return with IRET (see irq.c): they count, write the
 * APIC's EOI register and resume a known point on a saved stack. */
#include "runtime.h"

#define APIC_BASE_MSR 0x1b
#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u

enum {
    APIC_ID = 0x20, APIC_VERSION = 0x30, APIC_TPR = 0x80, APIC_EOI = 0xb0,
    APIC_SVR = 0xf0, APIC_ISR = 0x100, APIC_IRR = 0x200, APIC_ICR_LO = 0x300,
    APIC_LVT_TIMER = 0x320, APIC_LVT_LINT0 = 0x350, APIC_TIMER_INIT = 0x380,
    APIC_TIMER_CUR = 0x390, APIC_TIMER_DIV = 0x3e0,
};

#define IPI_VECTOR 0x40
#define TIMER_VECTOR 0x41
#define GSI2_VECTOR 0x42
#define LOW_VECTOR 0x45

static uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC + reg) = v; }

static uint32_t ioapic_read(uint8_t reg)
{
    *(volatile uint32_t *)IOAPIC = reg;
    return *(volatile uint32_t *)(IOAPIC + 0x10);
}

static void ioapic_write(uint8_t reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC = reg;
    *(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

volatile uint32_t interrupts[256];
uint32_t irq_saved_esp, irq_resume;

#define HANDLER(vec)                                               \
    asm(".text\n"                                                  \
        "apic_handler_" #vec ":\n\t"                               \
        "incl interrupts + 4 * " #vec "\n\t"                       \
        "movl $0, 0xfee000b0\n\t"                                  \
        "mov irq_saved_esp, %esp\n\t"                              \
        "jmp *irq_resume\n");                                      \
    extern char apic_handler_##vec[];

HANDLER(0x40)
HANDLER(0x41)
HANDLER(0x42)
HANDLER(0x45)

/* HLT with interrupts on until some handler has run. */
static void wait_interrupt(void)
{
    asm volatile("mov %%esp, irq_saved_esp\n\t"
                 "movl $1f, irq_resume\n\t"
                 "sti\n\t"
                 "2: hlt\n\t"
                 "jmp 2b\n"
                 "1: cli"
                 ::: "memory", "eax");
}

/* Enable interrupts and spin until a handler has run (a KVM may need a
 * while to open the interrupt window). */
static void take_pending(void)
{
    asm volatile("mov %%esp, irq_saved_esp\n\t"
                 "movl $1f, irq_resume\n\t"
                 "sti\n\t"
                 "nop\n\t"
                 "2: jmp 2b\n"
                 "1: cli"
                 ::: "memory", "eax");
}

/* Interrupts on for a while: whatever can be taken is. */
static void spin_with_interrupts(uint32_t loops)
{
    asm volatile("mov %%esp, irq_saved_esp\n\t"
                 "movl $1f, irq_resume\n\t"
                 "sti\n\t"
                 "2: dec %%ecx\n\t"
                 "jnz 2b\n"
                 "1: cli"
                 : "+c"(loops) :: "memory", "eax");
}

/* HLT until this vector's handler has run `count` times in all. */
static void wait_for(int vector, uint32_t count)
{
    for (int guard = 0; interrupts[vector] < count && guard < 1000; guard++)
        wait_interrupt();
}

static void install(int vector, char *handler)
{
    idt_set(vector, make_gate(KERNEL_CS, (uint32_t)handler, 0xe, 0, 0));
}

static void test_identification(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    TEST_TRUE("CPUID reports an APIC", r[3] & (1u << 9));
    TEST_EQ("IA32_APIC_BASE: 0xfee00000, enabled, BSP", rdmsr(APIC_BASE_MSR), 0xfee00900);
    TEST_EQ("APIC ID of the BSP", lapic_read(APIC_ID), 0);
    TEST_EQ("APIC version", lapic_read(APIC_VERSION), 0x50014);
    TEST_EQ("I/O APIC version", ioapic_read(1), 0x170011);
}

static void test_self_ipi_and_tpr(void)
{
    lapic_write(APIC_ICR_LO, (1u << 18) | IPI_VECTOR);      /* self, fixed */
    take_pending();
    TEST_EQ("self-IPI taken", interrupts[IPI_VECTOR], 1);
    TEST_EQ("ISR empty after EOI", lapic_read(APIC_ISR + 0x20), 0);

    lapic_write(APIC_TPR, 0x50);
    lapic_write(APIC_ICR_LO, (1u << 18) | LOW_VECTOR);
    spin_with_interrupts(100000);
    TEST_EQ("vector at the TPR class held back", interrupts[LOW_VECTOR], 0);
    TEST_TRUE("... and pending in IRR", lapic_read(APIC_IRR + 0x20) & (1u << (LOW_VECTOR & 31)));
    lapic_write(APIC_TPR, 0);
    take_pending();
    TEST_EQ("taken once the TPR drops", interrupts[LOW_VECTOR], 1);
}

static void test_timer(void)
{
    /* A count that lasts minutes (divide by 128): it only goes down. */
    lapic_write(APIC_TIMER_DIV, 0xa);
    lapic_write(APIC_LVT_TIMER, (1u << 16) | TIMER_VECTOR);
    lapic_write(APIC_TIMER_INIT, 0xffffffff);
    uint32_t c1 = lapic_read(APIC_TIMER_CUR);
    uint32_t c2 = lapic_read(APIC_TIMER_CUR);
    TEST_TRUE("current count counts down", c1 > 0 && c2 <= c1);

    lapic_write(APIC_TIMER_DIV, 0x3);                       /* divide by 16 */
    lapic_write(APIC_LVT_TIMER, TIMER_VECTOR);              /* one-shot */
    lapic_write(APIC_TIMER_INIT, 100000);                   /* 1.6 ms */
    wait_for(TIMER_VECTOR, 1);
    TEST_EQ("one-shot timer woke HLT", interrupts[TIMER_VECTOR], 1);
    TEST_EQ("current count 0 after one-shot", lapic_read(APIC_TIMER_CUR), 0);

    lapic_write(APIC_LVT_TIMER, (1u << 17) | TIMER_VECTOR); /* periodic */
    lapic_write(APIC_TIMER_INIT, 10000);
    wait_for(TIMER_VECTOR, 6);
    TEST_EQ("periodic timer: five more ticks", interrupts[TIMER_VECTOR], 6);
    lapic_write(APIC_LVT_TIMER, (1u << 16) | TIMER_VECTOR);
    lapic_write(APIC_TIMER_INIT, 0);
}

static void test_ioapic_pit(void)
{
    outb(0x21, 0xff);                                       /* 8259 fully masked */
    lapic_write(APIC_LVT_LINT0, 1u << 16);
    ioapic_write(0x10 + 2 * 2 + 1, 0);                      /* pin 2 -> APIC 0 */
    ioapic_write(0x10 + 2 * 2, GSI2_VECTOR);                /* fixed, edge, unmasked */
    TEST_EQ("redirection entry reads back", ioapic_read(0x14), GSI2_VECTOR);
    outb(0x43, 0x34);                                       /* PIT mode 2, ~1 kHz */
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
    wait_for(GSI2_VECTOR, 3);
    TEST_EQ("PIT through I/O APIC pin 2", interrupts[GSI2_VECTOR], 3);
    ioapic_write(0x14, (1u << 16) | GSI2_VECTOR);
    outb(0x43, 0x30);
}

void test_main(void)
{
    install(IPI_VECTOR, apic_handler_0x40);
    install(TIMER_VECTOR, apic_handler_0x41);
    install(GSI2_VECTOR, apic_handler_0x42);
    install(LOW_VECTOR, apic_handler_0x45);
    test_identification();
    lapic_write(APIC_SVR, 0x1ff);                           /* software-enable */
    test_self_ipi_and_tpr();
    test_timer();
    test_ioapic_pit();
}
