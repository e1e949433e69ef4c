/* One IDT stub per vector: push a dummy error code where the CPU pushes none,
 * push the vector, save the registers and call interrupt_dispatch(frame). */
#include "desc.h"

    .text
    .code32
    .globl isr_common
isr_common:
    pusha
    push %es
    push %ds
    mov $KERNEL_DS, %ax
    mov %ax, %ds
    mov %ax, %es
    cld
    push %esp
    call interrupt_dispatch
    add $4, %esp
    pop %ds
    pop %es
    popa
    add $8, %esp                    /* vector and error code */
    iret

/* Stubs are 16 bytes apart: stub(v) = isr_stubs + 16 * v. The CPU pushes an
 * error code for vectors 8, 10-14, 17, 21, 29 and 30. */
    .align 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .align 16
    .if !((vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
    pushl $0
    .endif
    pushl $vec
    jmp isr_common
    .set vec, vec + 1
    .endr
