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

    outb(PIC1_DATA, 0xff);
    outb(PIT_MODE, 0x30);                   /* channel 0 one-shot, stopped */
}
