/* Hardware interrupts: the 8254 timer through the 8259 PIC, HLT woken by
 * an interrupt, an interrupt held pending while IF=0 and taken right after
 * STI, and IRR/ISR as the PIC reports them.
 *
 * The timer handler does not return with IRET: it resumes a known point on
 * a saved stack, so that this test also runs on KVMs whose instruction
 * emulator lacks protected-mode IRET (kvm_pvm). */
#include "runtime.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIT_CH0 0x40
#define PIT_MODE 0x43
#define IRQ0_VECTOR 0x20

volatile uint32_t ticks;
volatile uint32_t after_enable;   /* set by the instruction after the one enabling interrupts */
uint32_t irq_saved_esp, irq_resume;

asm(".text\n"
    "irq0_raw:\n\t"
    "incl ticks\n\t"
    "movb $0x20, %al\n\toutb %al, $0x20\n\t"     /* non-specific EOI */
    "mov irq_saved_esp, %esp\n\t"
    "jmp *irq_resume\n");
extern char irq0_raw[];

/* HLT with interrupts on until the handler has run once. */
static void wait_one_tick(void)
{
    asm volatile("mov %%esp, irq_saved_esp\n\t"
                 "movl $1f, irq_resume\n\t"
                 "sti\n\t"
                 "2: hlt\n\t"
                 "jmp 2b\n"
                 "1: cli"
                 ::: "memory", "eax");
}

static uint8_t pic_read_irr(void)
{
    outb(PIC1_CMD, 0x0a);
    return inb(PIC1_CMD);
}

/* With IF=0: until the timer's request waits in the PIC. */
static void wait_irr_pending(void)
{
    for (uint32_t spins = 0; !(pic_read_irr() & 1) && spins < 100000000; spins++)
        ;
}

/* With IF=0, wait for the timer's request (unless warm_up: IRQ 0 masked,
 * nothing comes), then enable interrupts with STI + NOP (use_popf = 0) or
 * POPF: 1 when the next instruction ran before the interrupt was taken.
 * Not inlined or cloned: the warm-up must run the very same code. */
__attribute__((noipa)) static uint32_t enable_with_request_pending(int use_popf, int warm_up)
{
    if (!warm_up)
        wait_irr_pending();
    after_enable = 0;
    if (use_popf)
        asm volatile("mov %%esp, irq_saved_esp\n\t"
                     "movl $1f, irq_resume\n\t"
                     "pushf\n\t"
                     "orl $0x200, (%%esp)\n\t"
                     "popf\n\t"
                     "movl $1, after_enable\n\t"
                     "mov $100000, %%ecx\n\t"
                     "2: loop 2b\n"
                     "1: cli"
                     ::: "memory", "eax", "ecx");
    else
        asm volatile("mov %%esp, irq_saved_esp\n\t"
                     "movl $1f, irq_resume\n\t"
                     "sti\n\t"
                     "nop\n\t"
                     "movl $1, after_enable\n\t"
                     "mov $100000, %%ecx\n\t"
                     "2: loop 2b\n"
                     "1: cli"
                     ::: "memory", "eax", "ecx");
    return after_enable;
}

static uint8_t pic_read_isr(void)
{
    outb(PIC1_CMD, 0x0b);
    return inb(PIC1_CMD);
}

void test_main(void)
{
    idt_set(IRQ0_VECTOR, make_gate(KERNEL_CS, (uint32_t)irq0_raw, 0xe, 0, 0));
    /* Channel 0, lobyte/hibyte, mode 2, about 1 kHz. */
    outb(PIT_MODE, 0x34);
    outb(PIT_CH0, 1193 & 0xff);
    outb(PIT_CH0, 1193 >> 8);
    outb(PIC1_DATA, 0xfe);                  /* unmask IRQ 0 only */

    for (int i = 0; i < 5; i++)
        wait_one_tick();
    TEST_EQ("HLT woken by five timer interrupts", ticks, 5);

    /* With IF=0 the interrupt stays pending in the PIC's IRR... */
    uint32_t spins = 0;
    while (!(pic_read_irr() & 1) && spins < 100000000)
        spins++;
    TEST_EQ("timer request pending in IRR while IF=0", pic_read_irr() & 1, 1);
    TEST_EQ("no interrupt taken while IF=0", ticks, 5);
    TEST_EQ("ISR empty before acknowledge", pic_read_isr() & 1, 0);
    /* ...and is taken as soon as STI's shadow ends. */
    asm volatile("mov %%esp, irq_saved_esp\n\t"
                 "movl $1f, irq_resume\n\t"
                 "sti\n\t"
                 "nop\n\t"
                 "2: jmp 2b\n"
                 "1: cli"
                 ::: "memory", "eax");
    TEST_EQ("pending interrupt taken after STI", ticks, 6);

    /* The pending interrupt comes right after the instruction in STI's
     * shadow, and right after a POPF that sets IF: the next instruction
     * does not run first. A warm-up round with IRQ 0 masked runs that code,
     * so the rounds after find it translated (reached by lookup, not by the
     * main loop, which would take the interrupt anyway). */
    outb(PIC1_DATA, 0xff);
    enable_with_request_pending(0, 1);
    enable_with_request_pending(1, 1);
    outb(PIC1_DATA, 0xfe);
    uint32_t late = 0;
    for (int i = 0; i < 3; i++)
        late += enable_with_request_pending(0, 0);
    TEST_EQ("interrupt taken before the instruction after STI's shadow", late, 0);
    late = 0;
    for (int i = 0; i < 3; i++)
        late += enable_with_request_pending(1, 0);
    TEST_EQ("interrupt taken right after POPF sets IF", late, 0);
    TEST_EQ("every one of them taken", ticks, 12);

    outb(PIC1_DATA, 0xff);
    outb(PIT_MODE, 0x30);                   /* channel 0 one-shot, stopped */
}
