/* GDT, IDT, TSS set-up and the C side of interrupt dispatch. */
#include "runtime.h"

uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t idt[256] __attribute__((aligned(8)));
struct tss32 tss __attribute__((aligned(128)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));
uint8_t *const kernel_stack_end = kernel_stack + sizeof(kernel_stack);
static irq_handler_t handlers[256];
extern char isr_stubs[];

volatile uint32_t fault_recover;
volatile int fault_vector = -1;
volatile uint32_t fault_error, fault_cr2, fault_eip, fault_cs;

void gdt_set(unsigned sel, uint64_t desc) { gdt[sel >> 3] = desc; }
void idt_set(unsigned vector, uint64_t gate) { idt[vector & 255] = gate; }

void idt_set_default(unsigned vector, unsigned dpl, unsigned type)
{
    idt_set(vector, make_gate(KERNEL_CS, (uint32_t)(isr_stubs + 16 * (vector & 255)), type, dpl, 0));
}

void set_handler(unsigned vector, irq_handler_t fn) { handlers[vector & 255] = fn; }

void load_segments(void)
{
    asm volatile("ljmp %0, $1f\n1:\n\t"
                 "mov %1, %%ds\n\tmov %1, %%es\n\tmov %1, %%fs\n\tmov %1, %%gs\n\tmov %1, %%ss"
                 :: "i"(KERNEL_CS), "r"(KERNEL_DS) : "memory");
}

static void gdt_init(void)
{
    gdt[0] = 0;
    gdt_set(KERNEL_CS, make_desc(0, 0xfffff, ACC_CODE, FL_G | FL_DB));
    gdt_set(KERNEL_DS, make_desc(0, 0xfffff, ACC_DATA, FL_G | FL_DB));
    gdt_set(USER_CS, make_desc(0, 0xfffff, ACC_CODE | ACC_DPL(3), FL_G | FL_DB));
    gdt_set(USER_DS, make_desc(0, 0xfffff, ACC_DATA | ACC_DPL(3), FL_G | FL_DB));
    gdt_set(KERNEL_CS64, make_desc(0, 0xfffff, ACC_CODE, FL_G | FL_L));
    gdt_set(KERNEL_DS64, make_desc(0, 0xfffff, ACC_DATA, FL_G | FL_DB));
    gdt_set(USER_CS32_LM, make_desc(0, 0xfffff, ACC_CODE | ACC_DPL(3), FL_G | FL_DB));
    gdt_set(USER_DS64, make_desc(0, 0xfffff, ACC_DATA | ACC_DPL(3), FL_G | FL_DB));
    gdt_set(USER_CS64, make_desc(0, 0xfffff, ACC_CODE | ACC_DPL(3), FL_G | FL_L));
    gdt_set(TSS_SEL, make_desc((uint32_t)&tss, sizeof(tss) - 1, ACC_TSS32, 0));
    gdt_set(CODE16_SEL, make_desc(0, 0xffff, ACC_CODE, 0));
    gdt_set(DATA16_SEL, make_desc(0, 0xffff, ACC_DATA, 0));
    lgdt(gdt, sizeof(gdt) - 1);
    load_segments();
}

static void idt_init(void)
{
    extern char user_exit[];
    for (unsigned v = 0; v < 256; v++)
        idt_set_default(v, 0, 0xe);
    idt_set(USER_EXIT_VECTOR, make_gate(KERNEL_CS, (uint32_t)user_exit, 0xe, 3, 0));
    lidt(idt, sizeof(idt) - 1);
}

static void tss_init(void)
{
    tss.esp0 = (uint32_t)kernel_stack_end;
    tss.ss0 = KERNEL_DS;
    tss.iomap_base = sizeof(tss);     /* no I/O bitmap */
    ltr(TSS_SEL);
}

void idt_reload(void)
{
    lidt(idt, sizeof(idt) - 1);
}

void tss_reload(void)
{
    gdt[TSS_SEL >> 3] &= ~(2ull << 40);       /* clear the busy bit */
    ltr(TSS_SEL);
}

void desc_init(void)
{
    gdt_init();
    idt_init();
    tss_init();
}

static uint32_t read_cr2(void)
{
    uint32_t v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

void interrupt_dispatch(struct frame *f)
{
    if (handlers[f->vector]) {
        handlers[f->vector](f);
        return;
    }
    if (f->vector < 32 && fault_recover) {
        fault_vector = f->vector;
        fault_error = f->error;
        fault_eip = f->eip;
        fault_cs = f->cs;
        fault_cr2 = f->vector == 14 ? read_cr2() : 0;
        f->eip = fault_recover;
        fault_recover = 0;
        return;
    }
    printf("unexpected exception %u at %04x:%08x error %x cr2 %08x\n",
           f->vector, f->cs, f->eip, f->error, f->vector == 14 ? read_cr2() : 0);
    test_abort();
}
