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

/* run_vm86(cs_ip, ss_sp, eflags): enter virtual-8086 mode at cs:ip with the
 * stack at ss:sp (segment in the high half); data segments start at 0.
 * Comes back like run_user, through INT USER_EXIT_VECTOR (or a #GP handler
 * that sends the frame to user_exit when IOPL < 3). */
    .globl run_vm86
run_vm86:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov %esp, kernel_saved_esp
    mov 20(%esp), %eax              /* cs:ip */
    mov 24(%esp), %ebx              /* ss:sp */
    mov 28(%esp), %ecx              /* eflags */
    pushl $0                        /* GS */
    pushl $0                        /* FS */
    pushl $0                        /* DS */
    pushl $0                        /* ES */
    mov %ebx, %edx
    shr $16, %edx
    push %edx                       /* SS */
    movzwl %bx, %edx
    push %edx                       /* SP */
    or $0x20002, %ecx               /* VM */
    push %ecx
    mov %eax, %edx
    shr $16, %edx
    push %edx                       /* CS */
    movzwl %ax, %edx
    push %edx                       /* IP */
    iret

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
