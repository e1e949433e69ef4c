/* Entry of every guest test program: the multiboot v1 header, a stack, and
 * the call sequence runtime_init -> test_main -> test_finish. */
#include "desc.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003            /* page-aligned modules, memory info */

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov $boot_stack_top, %esp
    mov %eax, mb_magic
    mov %ebx, mb_info
    pushf
    popl mb_entry_eflags
    /* The loader leaves EFLAGS undefined apart from IF/VM: make it known. */
    pushl $2
    popf
    call runtime_init
    call test_main
    call test_finish
1:  cli
    hlt
    jmp 1b

    .bss
    .align 16
    .globl boot_stack_top
boot_stack:
    .space 16384
boot_stack_top:
