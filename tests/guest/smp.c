/* Multiprocessor start-up: the boot CPU wakes the others with INIT and two
 * start-up IPIs through its local APIC; each AP runs a real-mode trampoline
 * at 0x8000, switches to protected mode, reports its APIC ID, and all CPUs
 * increment a shared counter with LOCK at the same time.
 * test-args: -smp 2
 */
#include "runtime.h"

#define LAPIC 0xfee00000u
#define APIC_ID 0x20
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define TRAMPOLINE 0x8000
#define MAX_APS 7
#define ROUNDS 100000

volatile uint32_t aps_arrived, ap_ids[MAX_APS], go, done_count, shared_counter;
uint32_t ap_stack_next;
static uint8_t ap_stacks[MAX_APS][4096] __attribute__((aligned(16)));

void ap_main(void);

/* Real mode at 0x8000 (SIPI vector 8), then 32-bit protected mode. */
asm(".code16\n"
    ".globl ap_tramp_start, ap_tramp_end\n"
    "ap_tramp_start:\n\t"
    "cli\n\t"
    "xor %ax, %ax\n\tmov %ax, %ds\n\t"
    "lgdtl 0x8000 + ap_gdtr - ap_tramp_start\n\t"
    "mov %cr0, %eax\n\tor $1, %eax\n\tmov %eax, %cr0\n\t"
    "ljmpl $0x08, $ap_entry32\n"
    ".align 4\n"
    "ap_gdtr: .word 0\n\t.long 0\n"
    "ap_tramp_end:\n"
    ".code32\n"
    "ap_entry32:\n\t"
    "mov $0x10, %ax\n\tmov %ax, %ds\n\tmov %ax, %es\n\tmov %ax, %ss\n\t"
    "mov %ax, %fs\n\tmov %ax, %gs\n\t"
    "mov $4096, %eax\n\tlock xadd %eax, ap_stack_next\n\t"
    "lea 4096(%eax), %esp\n\t"
    "call ap_main\n"
    "1: cli\n\thlt\n\tjmp 1b\n");
extern char ap_tramp_start[], ap_tramp_end[], ap_gdtr[];

static uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC + reg) = v; }

static void count(void)
{
    for (int i = 0; i < ROUNDS; i++)
        asm volatile("lock incl %0" : "+m"(shared_counter));
    asm volatile("lock incl %0" : "+m"(done_count));
}

void ap_main(void)
{
    uint32_t slot = __atomic_fetch_add(&aps_arrived, 1, __ATOMIC_SEQ_CST);
    if (slot < MAX_APS)
        ap_ids[slot] = lapic_read(APIC_ID) >> 24;
    while (!go)
        asm volatile("pause");
    count();
}

static void send_ipi(uint32_t icr)
{
    lapic_write(APIC_ICR_HI, 0);
    lapic_write(APIC_ICR_LO, icr);
    for (int spins = 0; (lapic_read(APIC_ICR_LO) & (1u << 12)) && spins < 1000000; spins++)
        asm volatile("pause");
}

static void delay(void)
{
    for (volatile int i = 0; i < 100000; i++)
        ;
}

void test_main(void)
{
    memcpy((void *)TRAMPOLINE, ap_tramp_start, ap_tramp_end - ap_tramp_start);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = {
        GDT_ENTRIES * 8 - 1, (uint32_t)gdt };
    memcpy((void *)(TRAMPOLINE + (ap_gdtr - ap_tramp_start)), &gdtr, sizeof(gdtr));
    ap_stack_next = (uint32_t)ap_stacks;

    /* INIT, then SIPI twice, to all but self. */
    send_ipi(0x000c4500);
    delay();
    send_ipi(0x000c4600 | (TRAMPOLINE >> 12));
    delay();
    send_ipi(0x000c4600 | (TRAMPOLINE >> 12));
    for (uint32_t spins = 0; aps_arrived < 1 && spins < 500000000; spins++)
        asm volatile("pause");
    TEST_EQ("one AP started (-smp 2)", aps_arrived, 1);
    TEST_EQ("the AP's APIC ID", ap_ids[0], 1);
    TEST_EQ("the BSP's APIC ID", lapic_read(APIC_ID) >> 24, 0);

    go = 1;
    count();
    for (uint32_t spins = 0; done_count < 2 && spins < 500000000; spins++)
        asm volatile("pause");
    TEST_EQ("both CPUs finished counting", done_count, 2);
    TEST_EQ("LOCK INC from two CPUs loses nothing", shared_counter, 2 * ROUNDS);
}
