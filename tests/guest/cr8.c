/* CR8 is the local APIC's task priority (TPR[7:4]) in 64-bit mode: a MOV to
 * CR8 shows in the APIC's TPR register, and a TPR written through the APIC
 * page reads back from CR8. */
#include "runtime.h"

#include "longmode.h"

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_apic[512] __attribute__((aligned(4096)));

uint64_t r_tpr_after_cr8, r_cr8_after_tpr;

asm(".text\n.code64\n"
    "cr8_checks:\n\t"
    "mov $5, %eax\n\tmov %rax, %cr8\n\t"
    "mov $0xfee00080, %eax\n\tmov (%rax), %edx\n\tmov %rdx, r_tpr_after_cr8(%rip)\n\t"
    "movl $0x90, (%rax)\n\t"
    "mov %cr8, %rdx\n\tmov %rdx, r_cr8_after_tpr(%rip)\n\t"
    "xor %edx, %edx\n\tmov %rdx, %cr8\n\t"
    "ret\n"
    ".code32\n");
extern char cr8_checks[];

void test_main(void)
{
    for (int i = 0; i < 8; i++)
        pd_low[i] = ((uint64_t)i << 21) | 0x83;
    pd_apic[0x1f7] = 0xfee00000ull | 0x9b;        /* the APIC page, uncached 2 MiB */
    pdpt[0] = (uint32_t)pd_low | 3;
    pdpt[3] = (uint32_t)pd_apic | 3;
    pml4[0] = (uint32_t)pdpt | 3;
    idt64_init();
    gdt_set(TSS64_SEL, make_desc((uint32_t)tss64, 103, ACC_TSS32, 0));
    gdt_set(TSS64_SEL + 8, 0);
    longmode_call(pml4, (void (*)(void))cr8_checks);
    idt_reload();
    tss_reload();
    TEST_EQ("no unexpected exception in long mode", lm_unexpected, 0);
    TEST_EQ("MOV to CR8 sets the APIC TPR", r_tpr_after_cr8 & 0xff, 0x50);
    TEST_EQ("the APIC TPR reads back from CR8", r_cr8_after_tpr, 9);
}
