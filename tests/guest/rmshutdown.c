/* Real mode: an interrupt whose own delivery overflows the stack shuts the
 * processor down. INT n at SP = 1 pushes FLAGS as a word at 0xffff: #SS;
 * delivering that #SS pushes at the same place (#SS while delivering #SS is
 * #DF), and delivering #DF faults again: triple fault, reset. The first boot
 * leaves a mark in RAM and goes down to real mode; the second boot finds it.
 * Every vector involved points at a way back to protected mode, so an INT
 * that is delivered after all reports a failure instead of running away.
 * test-allow-reboot
 */
#include "runtime.h"

#define MARK_ADDR 0x7ff0                 /* kept across the reset (reset.c) */
#define MARK      0x5d0e1b00u
#define BLOB_BASE 0x7000                 /* the 16-bit code, below the mark */
#define BLOB_SEG  (BLOB_BASE >> 4)
#define SOFT_VEC  0x40
#define STR_(x) #x
#define STR(x) STR_(x)

/* Point IVT entry vec at the blob's way back. */
#define TO_BACK(vec) \
    "movw $(rsd_back16 - rsd_blob), " STR(vec) " * 4\n\tmovw $" STR(BLOB_SEG) ", " STR(vec) " * 4 + 2\n\t"

void rsd_blob(void);
extern char rsd_blob_end[];
uint32_t rsd_saved_esp;

asm(".code32\n"
    ".globl rsd_run\n"
    "rsd_run:\n\t"
    "push %ebp\n\tpush %ebx\n\tpush %esi\n\tpush %edi\n\tcli\n\t"
    "mov $rsd_blob, %esi\n\tmov $" STR(BLOB_BASE) ", %edi\n\t"
    "mov $(rsd_blob_end - rsd_blob), %ecx\n\tcld\n\trep movsb\n\t"
    "mov %esp, rsd_saved_esp\n\t"
    "ljmp $" STR(CODE16_SEL) ", $(" STR(BLOB_BASE) " + rsd_blob - rsd_blob)\n"
    "rsd_back32:\n\t"
    "mov $" STR(KERNEL_DS) ", %ax\n\t"
    "mov %ax, %ds\n\tmov %ax, %es\n\tmov %ax, %fs\n\tmov %ax, %gs\n\tmov %ax, %ss\n\t"
    "mov rsd_saved_esp, %esp\n\t"
    "pop %edi\n\tpop %esi\n\tpop %ebx\n\tpop %ebp\n\tret\n"

    ".code16\n"
    ".globl rsd_blob, rsd_blob_end\n"
    "rsd_blob:\n\t"                      /* 16-bit protected mode, then real mode */
    "mov $" STR(DATA16_SEL) ", %ax\n\t"
    "mov %ax, %ds\n\tmov %ax, %es\n\tmov %ax, %ss\n\t"
    "mov %cr0, %eax\n\tand $~1, %eax\n\tmov %eax, %cr0\n\t"
    "ljmp $" STR(BLOB_SEG) ", $(rsd_real - rsd_blob)\n"
    "rsd_real:\n\t"
    "xor %ax, %ax\n\tmov %ax, %ds\n\tmov %ax, %es\n\tmov %ax, %ss\n\t"
    "lidt %cs:(rsd_idtr - rsd_blob)\n\t"
    TO_BACK(8) TO_BACK(12) TO_BACK(13) TO_BACK(SOFT_VEC)
    "mov $1, %sp\n\t"
    "int $" STR(SOFT_VEC) "\n"
    "rsd_back16:\n\t"
    "cli\n\t"
    "mov %cr0, %eax\n\tor $1, %eax\n\tmov %eax, %cr0\n\t"
    "ljmpl $" STR(KERNEL_CS) ", $rsd_back32\n"
    ".align 4\n"
    "rsd_idtr: .word 0x3ff\n\t.long 0\n"
    "rsd_blob_end:\n"
    ".code32\n");

void rsd_run(void);

void test_main(void)
{
    volatile uint32_t *mark = (volatile uint32_t *)MARK_ADDR;
    if (*mark != MARK) {
        printf("first boot: INT n at SP = 1 in real mode\n");
        *mark = MARK;
        rsd_run();
        idt_reload();
        *mark = 0;
        printf("the interrupt was delivered\n");
        TEST_EQ("real mode: INT n at SP = 1 shuts down", 0, 1);
        return;
    }
    *mark = 0;
    printf("second boot\n");
    TEST_EQ("real mode: INT n at SP = 1 shuts down", 1, 1);
}
