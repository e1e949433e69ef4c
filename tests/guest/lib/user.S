/* run_user(fn): call fn at CPL 3 (flat user segments, its own stack) and
 * come back to CPL 0 when it returns, through INT USER_EXIT_VECTOR, whose
 * gate (DPL 3) lands on user_exit, which resumes run_user's caller. The
 * ring-0 stack of that trip comes from the TSS (esp0). */
#include "desc.h"

    .text
    .code32
    .globl run_user
run_user:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov 20(%esp), %eax              /* fn */
    mov %esp, kernel_saved_esp
    pushl $(USER_DS | 3)
    pushl $user_stack_top
    pushf
    andl $~0x3200, (%esp)           /* IF, IOPL and NT clear: no ports at CPL 3 */
    pushl $(USER_CS | 3)
    pushl $user_trampoline
    mov $(USER_DS | 3), %cx
    mov %cx, %ds
    mov %cx, %es
    mov %cx, %fs
    mov %cx, %gs
    iret
user_trampoline:
    call *%eax
    int $USER_EXIT_VECTOR

    .globl user_exit
user_exit:
    mov $KERNEL_DS, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov kernel_saved_esp, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

    .bss
    .align 16
kernel_saved_esp:
    .long 0
    .align 16
    .globl user_stack_top
user_stack:
    .space 8192
user_stack_top:
