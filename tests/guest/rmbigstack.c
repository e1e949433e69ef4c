/* Real mode with a "big" stack: SS keeps the B=1 attribute it had cached in
 * protected mode, so interrupt delivery through the IVT pushes its frame at
 * SS:ESP - 6 (32-bit stack pointer), not at SS:(SP - 6) & 0xffff, and IRET
 * pops it from there. */
#include "runtime.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define RM_BASE   0x7000
#define RM_SEG    (RM_BASE >> 4)
#define BIG_SEL   (FREE_SEL + 0x00)    /* data, base 0, 4 GiB, B=1 */
#define BIG_ESP   0x12000              /* above 64 KiB */
#define VECTOR    0x40

asm(".code32\n"
    ".globl bs_run\n"
    "bs_run:\n\t"
    "push %ebp\n\tpush %ebx\n\tpush %esi\n\tpush %edi\n\tcli\n\t"
    "mov $bs_blob, %esi\n\tmov $" STR(RM_BASE) ", %edi\n\t"
    "mov $(bs_blob_end - bs_blob), %ecx\n\tcld\n\trep movsb\n\t"
    "mov %esp, bs_saved_esp\n\t"
    "ljmp $" STR(CODE16_SEL) ", $(" STR(RM_BASE) " + bs_pm16 - bs_blob)\n"
    "bs_back:\n\t"
    "mov $" STR(KERNEL_DS) ", %ax\n\t"
    "mov %ax, %ds\n\tmov %ax, %es\n\tmov %ax, %fs\n\tmov %ax, %gs\n\tmov %ax, %ss\n\t"
    "mov bs_saved_esp, %esp\n\t"
    "pop %edi\n\tpop %esi\n\tpop %ebx\n\tpop %ebp\n\tret\n"

    ".code16\n"
    ".globl bs_blob, bs_blob_end, bs_blob_ret, bs_isr_esp, bs_after_esp\n"
    "bs_blob:\n"
    "bs_pm16:\n\t"
    "mov $" STR(DATA16_SEL) ", %ax\n\tmov %ax, %ds\n\tmov %ax, %es\n\t"
    "mov $" STR(BIG_SEL) ", %ax\n\tmov %ax, %ss\n\t"
    "mov %cr0, %eax\n\tand $~1, %eax\n\tmov %eax, %cr0\n\t"
    "ljmp $" STR(RM_SEG) ", $(bs_real - bs_blob)\n"
    "bs_real:\n\t"
    "xor %ax, %ax\n\tmov %ax, %ds\n\tmov %ax, %ss\n\t"   /* base 0, B stays 1 */
    "mov $" STR(BIG_ESP) ", %esp\n\t"
    "lidt %cs:(bs_idtr - bs_blob)\n\t"
    "movw $(bs_isr - bs_blob), " STR(VECTOR) " * 4\n\t"
    "movw $" STR(RM_SEG) ", " STR(VECTOR) " * 4 + 2\n\t"
    "stc\n\t"                                 /* CF marks the pushed FLAGS */
    "int $" STR(VECTOR) "\n"
    "bs_blob_ret:\n\t"
    "mov %esp, %cs:(bs_after_esp - bs_blob)\n\t"
    "mov %cr0, %eax\n\tor $1, %eax\n\tmov %eax, %cr0\n\t"
    "ljmpl $" STR(KERNEL_CS) ", $bs_back\n"
    "bs_isr:\n\t"
    "mov %esp, %cs:(bs_isr_esp - bs_blob)\n\t"
    "iret\n"
    ".align 4\n"
    "bs_idtr: .word 0x3ff\n\t.long 0\n"
    "bs_isr_esp: .long 0\n"
    "bs_after_esp: .long 0\n"
    "bs_blob_end:\n"
    ".code32\n");

void bs_run(void);
void bs_blob(void);
extern char bs_blob_end[], bs_blob_ret[], bs_isr_esp[], bs_after_esp[];
uint32_t bs_saved_esp;

static uint32_t blob_u32(const char *label)
{
    return *(volatile uint32_t *)(RM_BASE + (label - (char *)bs_blob));
}

void test_main(void)
{
    volatile uint16_t *frame = (volatile uint16_t *)(BIG_ESP - 6);
    volatile uint16_t *wrapped = (volatile uint16_t *)((BIG_ESP - 6) & 0xffff);
    uint16_t ret_ip = (uint16_t)(bs_blob_ret - (char *)bs_blob);

    /* Both places hold a frame back to bs_blob_ret, so that a push to the
     * wrong place still returns; FLAGS without CF tells them apart. */
    frame[0] = wrapped[0] = ret_ip;
    frame[1] = wrapped[1] = RM_SEG;
    frame[2] = wrapped[2] = 0x0002;
    gdt_set(BIG_SEL, make_desc(0, 0xfffff, ACC_DATA, FL_G | FL_DB));
    bs_run();
    idt_reload();

    TEST_EQ("big real-mode stack: the handler's ESP", blob_u32(bs_isr_esp), BIG_ESP - 6);
    TEST_EQ("frame at SS:ESP - 6: IP", frame[0], ret_ip);
    TEST_EQ("frame at SS:ESP - 6: CS", frame[1], RM_SEG);
    TEST_EQ("frame at SS:ESP - 6: FLAGS with CF", frame[2] & 1, 1);
    TEST_EQ("nothing pushed at SS:(SP - 6) & 0xffff", wrapped[2] & 1, 0);
    TEST_EQ("ESP after IRET", blob_u32(bs_after_esp), BIG_ESP);
}
