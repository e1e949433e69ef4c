/* realmode_run(): from 32-bit protected mode down to real mode and back,
 * BIOS-less. The 16-bit code is copied to RM_BASE (real-mode code must sit
 * below 1 MiB); it runs a few real-mode checks and leaves its results in
 * rm_results (read back through realmode_results()).
 *
 * Way down: far jump to a 16-bit code segment, 16-bit data segments, clear
 * CR0.PE, far jump to RM_SEG:offset. Way up: set CR0.PE, 32-bit far jump to
 * KERNEL_CS. The caller restores the IDT. */
#include "desc.h"

#define RM_BASE 0x6000
#define RM_SEG  (RM_BASE >> 4)
#define OFF(x)  ((x) - rm_start)

    .text
    .code32
    .globl realmode_run
realmode_run:
    push %ebp
    push %ebx
    push %esi
    push %edi
    cli
    /* Copy the 16-bit blob down. */
    mov $rm_start, %esi
    mov $RM_BASE, %edi
    mov $(rm_end - rm_start), %ecx
    cld
    rep movsb
    mov %esp, RM_BASE + OFF(rm_saved_esp)
    ljmp $CODE16_SEL, $(RM_BASE + OFF(rm_pm16))

pm_back:
    mov $KERNEL_DS, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov RM_BASE + OFF(rm_saved_esp), %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

    .globl realmode_results
realmode_results:
    mov $(RM_BASE + OFF(rm_results)), %eax
    ret

    .code16
rm_start:
rm_pm16:                                /* 16-bit protected mode */
    mov $DATA16_SEL, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov %cr0, %eax
    and $~1, %eax
    mov %eax, %cr0
    ljmp $RM_SEG, $OFF(rm_real)

rm_real:                                /* real mode */
    xor %ax, %ax
    mov %ax, %ss
    mov $(RM_BASE - 16), %sp
    mov $RM_SEG, %ax
    mov %ax, %ds
    lidt OFF(rm_idtr)

    /* 0: CR0.PE reads back 0. */
    smsw %ax
    and $1, %ax
    mov %ax, OFF(rm_results)

    /* 1: segment arithmetic: ES = 0x7f0 reaches 0x7f10 at offset 0x10. */
    mov $0x7f0, %ax
    mov %ax, %es
    movw $0x1234, %es:0x10
    xor %ax, %ax
    mov %ax, %es
    mov %es:0x7f10, %ax
    mov %ax, OFF(rm_results) + 2

    /* 2: INT through the real-mode IVT at 0 (vector 0x30), IRET back. */
    xor %ax, %ax
    mov %ax, %es
    movw $OFF(rm_isr), %es:0x30 * 4
    movw $RM_SEG, %es:0x30 * 4 + 2
    movw $0, OFF(rm_results) + 4
    int $0x30
    /* 3: the handler saw IF clear and our flags pushed (IF was clear too). */

    /* 4: a real-mode far jump to another segment:offset of the same code. */
    ljmp $(RM_SEG - 0x10), $(OFF(rm_far_target) + 0x100)
rm_far_target:
    mov %cs, %ax
    mov %ax, OFF(rm_results) + 8

    /* 5: 32-bit operand and address sizes in real mode. */
    mov $0x12345678, %eax
    mov $OFF(rm_results) + 10, %ebx
    mov %eax, (%ebx)

    /* 7: 16-bit address wraparound of the stack pointer is not exercised;
     * instead the 8086-style PUSH SP pushes the new... value: check it. */
    mov %sp, %bx
    push %sp
    pop %ax
    sub %ax, %bx
    mov %bx, OFF(rm_results) + 14

    /* Back up to protected mode. */
    cli
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $KERNEL_CS, $pm_back

rm_isr:
    incw %ds:OFF(rm_results) + 4
    pushf
    pop %ax
    and $0x200, %ax
    mov %ax, %ds:OFF(rm_results) + 6
    iret

    .align 4
rm_idtr:
    .word 0x3ff
    .long 0
rm_saved_esp:
    .long 0
rm_results:
    .space 16
rm_end:
    .code32
