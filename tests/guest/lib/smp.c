/* AP start-up: a real-mode trampoline copied to AP_TRAMPOLINE, INIT and
 * start-up IPIs. See smp.h. */
#include "smp.h"
#include "runtime.h"

#define AP_STACKS 16
#define AP_STACK_SIZE 4096

static uint8_t ap_stacks[AP_STACKS][AP_STACK_SIZE] __attribute__((aligned(16)));
uint32_t ap_stack_next, ap_stack_end;
void (*ap_entry)(void);
struct { uint16_t limit; uint32_t base; } __attribute__((packed)) ap_idtr;

void ap_enter(void);

/* Real mode at AP_TRAMPOLINE, then 32-bit protected mode; a stack from the
 * pool (an AP that finds it empty stops). */
asm(".code16\n"
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
    "cmp ap_stack_end, %eax\n\tjae 1f\n\t"
    "lea 4096(%eax), %esp\n\t"
    "lidt ap_idtr\n\t"
    "call *ap_entry\n"
    "1: cli\n\thlt\n\tjmp 1b\n");
extern char ap_tramp_start[], ap_tramp_end[], ap_gdtr[];

static uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC_BASE + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }

void ap_send_ipi(uint32_t dest, uint32_t icr)
{
    lapic_write(0x310, dest << 24);
    lapic_write(0x300, icr);
    for (uint32_t spins = 0; (lapic_read(0x300) & (1u << 12)) && spins < 1000000; spins++)
        asm volatile("pause");   /* delivery status: Kestrel delivers at once */
}

static void install_trampoline(void (*entry)(void))
{
    memcpy((void *)AP_TRAMPOLINE, ap_tramp_start, ap_tramp_end - ap_tramp_start);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = {
        GDT_ENTRIES * 8 - 1, (uint32_t)gdt };
    memcpy((void *)(AP_TRAMPOLINE + (ap_gdtr - ap_tramp_start)), &gdtr, sizeof(gdtr));
    asm volatile("sidt %0" : "=m"(ap_idtr));
    ap_entry = entry;
    if (!ap_stack_next) {
        ap_stack_next = (uint32_t)ap_stacks;
        ap_stack_end = (uint32_t)ap_stacks + sizeof(ap_stacks);
    }
}

void ap_start_all(void (*entry)(void))
{
    install_trampoline(entry);
    ap_send_ipi(0, ICR_ALL_BUT_SELF | ICR_INIT | ICR_LEVEL | ICR_ASSERT);
    ap_send_ipi(0, ICR_ALL_BUT_SELF | ICR_INIT | ICR_LEVEL);          /* de-assert */
    ap_send_ipi(0, ICR_ALL_BUT_SELF | ICR_STARTUP | (AP_TRAMPOLINE >> 12));
    ap_send_ipi(0, ICR_ALL_BUT_SELF | ICR_STARTUP | (AP_TRAMPOLINE >> 12));   /* ignored once running */
}

void ap_restart(uint32_t apic_id)
{
    ap_send_ipi(apic_id, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
    ap_send_ipi(apic_id, ICR_STARTUP | (AP_TRAMPOLINE >> 12));
}
