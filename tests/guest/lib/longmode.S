/* longmode_run(pml4): from 32-bit protected mode into 64-bit long mode and
 * back. In long mode it checks 64-bit arithmetic, takes a page fault whose
 * handler maps the page and lets the access restart, enters CPL 3 with
 * IRETQ, makes system calls with SYSCALL (back with SYSRETQ) and INT 0x80
 * (TSS RSP0 stack switch), comes back to CPL 0 with INT 0x81, then returns
 * to 32-bit code through compatibility mode and turns long mode off.
 * Results go to lm_results[] (see modes.c). The caller sets up the page
 * tables (identity map, user-accessible), lm_pf_pte/lm_pf_slot, and restores
 * the IDT and TR afterwards. */
#include "desc.h"

#define MSR_EFER  0xc0000080
#define MSR_STAR  0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084

    .text
    .code32
/* longmode_call(pml4, fn): the same trip, but in long mode call the 64-bit
 * function fn (below 4 GiB) instead of the built-in tour; exceptions with
 * lm_recover set resume there (see exc64). */
    .globl longmode_call
longmode_call:
    mov 8(%esp), %eax
    mov %eax, lm_fn
    jmp 1f
    .globl longmode_run
longmode_run:
    movl $0, lm_fn
1:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov 20(%esp), %eax                  /* pml4 */
    cli
    mov %esp, lm_saved_esp
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax                      /* PAE */
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $0x101, %eax                     /* LME, SCE */
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax                /* PG: long mode becomes active */
    mov %eax, %cr0
    ljmp $KERNEL_CS64, $lm64

    .code64
lm64:
    mov $KERNEL_DS64, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    lidt idt64_desc(%rip)
    mov $TSS64_SEL, %ax
    ltr %ax
    mov %rsp, lm_kernel_rsp(%rip)
    mov lm_fn(%rip), %eax
    test %eax, %eax
    jz 2f
    call *%rax
    jmp lm_after_user
2:

    /* 0: EFER.LMA */
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, lm_results + 0 * 8(%rip)

    /* 1: 64-bit arithmetic. */
    movabs $0x123456789abcdef0, %rax
    mov $0x10, %rcx
    mul %rcx
    add %rdx, %rax
    mov %rax, lm_results + 1 * 8(%rip)

    /* 2: a page fault that the handler fixes; the load restarts. */
    mov lm_pf_va(%rip), %rbx
    mov (%rbx), %rax
    mov %rax, lm_results + 2 * 8(%rip)

    /* CPL 3: SYSCALL and INT 0x80, then INT 0x81 back here. */
    mov $MSR_STAR, %ecx
    xor %eax, %eax
    mov $((USER_CS32_LM << 16) | KERNEL_CS64), %edx
    wrmsr
    mov $MSR_LSTAR, %ecx
    lea syscall64(%rip), %rax
    xor %edx, %edx
    wrmsr
    mov $MSR_FMASK, %ecx
    mov $0x200, %eax
    wrmsr
    mov %rsp, lm_kernel_rsp(%rip)
    pushq $(USER_DS64 | 3)
    lea user64_stack_top(%rip), %rax
    push %rax
    pushq $0x2
    pushq $(USER_CS64 | 3)
    lea user64(%rip), %rax
    push %rax
    iretq
lm_after_user:

    /* Back to 32-bit code through compatibility mode. */
    pushq $KERNEL_CS
    lea lm_compat(%rip), %rax
    push %rax
    lretq

user64:
    mov %cs, %ax
    and $3, %eax
    mov %rax, lm_results + 3 * 8(%rip)
    mov $20, %edi
    mov $22, %esi
    syscall                             /* RAX = RDI + RSI */
    mov %rax, lm_results + 4 * 8(%rip)
    mov %r11, lm_results + 5 * 8(%rip)        /* RFLAGS as SYSCALL saved them */
    movabs $0x0000111122223333, %rax
    int $0x80                           /* RAX doubled */
    mov %rax, lm_results + 6 * 8(%rip)
    int $0x81

syscall64:                              /* CPL 0, still on the user stack */
    mov %cs, %ax
    mov %ax, lm_results + 7 * 8(%rip)
    lea (%rdi, %rsi), %rax
    sysretq

int80_64:
    add %rax, %rax
    mov %rsp, lm_results + 8 * 8(%rip)        /* on the TSS RSP0 stack */
    iretq

int81_64:
    mov lm_kernel_rsp(%rip), %rsp
    jmp lm_after_user

/* Exceptions with an error code (#GP, #PF) or without (#DE, #UD, #BP: a
 * zero is pushed): when lm_recover is set, note vector, error code and CR2,
 * and resume at lm_recover; a #PF without it goes to the demand pager. */
exc64_de:
    pushq $0
    pushq $0
    jmp exc64
exc64_bp:
    pushq $0
    pushq $3
    jmp exc64
exc64_ud:
    pushq $0
    pushq $6
    jmp exc64
exc64_gp:
    pushq $13
    jmp exc64
exc64_pf:
    cmpq $0, lm_recover(%rip)
    je pf64
    pushq $14
exc64:                                  /* vector, error code, frame */
    cmpq $0, lm_recover(%rip)
    je unexpected64
    push %rax
    mov 8(%rsp), %rax
    mov %rax, lm_fault_vector(%rip)
    mov 16(%rsp), %rax
    mov %rax, lm_fault_error(%rip)
    mov %cr2, %rax
    mov %rax, lm_fault_cr2(%rip)
    mov lm_recover(%rip), %rax
    mov %rax, 24(%rsp)                  /* the frame's RIP */
    movq $0, lm_recover(%rip)
    pop %rax
    add $16, %rsp
    iretq

pf64:                                   /* error code on the stack */
    push %rax
    mov 8(%rsp), %rax
    mov %rax, lm_pf_error(%rip)
    mov %cr2, %rax
    mov %rax, lm_pf_cr2(%rip)
    incl lm_pf_count(%rip)
    mov lm_pf_pte(%rip), %rax
    push %rbx
    mov lm_pf_slot(%rip), %rbx
    mov %rax, (%rbx)
    pop %rbx
    mov %cr2, %rax
    invlpg (%rax)
    pop %rax
    add $8, %rsp
    iretq

unexpected64:                           /* any other vector: give up, report */
    movl $1, lm_unexpected(%rip)
    mov lm_kernel_rsp(%rip), %rsp
    jmp lm_after_user

    .code32
lm_compat:                              /* compatibility mode, CPL 0 */
    mov %cr0, %eax
    and $~0x80000000, %eax              /* paging off: long mode off */
    mov %eax, %cr0
    mov $MSR_EFER, %ecx
    rdmsr
    and $~0x100, %eax
    wrmsr
    mov %cr4, %eax
    and $~0x20, %eax
    mov %eax, %cr4
    mov $KERNEL_DS, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov lm_saved_esp, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

/* idt64_init(): the 64-bit IDT (16-byte gates) and the 64-bit TSS. */
    .globl idt64_init
idt64_init:
    push %edi
    mov $idt64, %edi
    mov $256, %ecx
1:  mov $unexpected64, %eax
    call set_gate64
    add $16, %edi
    loop 1b
    mov $(idt64 + 14 * 16), %edi
    mov $exc64_pf, %eax
    call set_gate64
    mov $(idt64 + 13 * 16), %edi
    mov $exc64_gp, %eax
    call set_gate64
    mov $(idt64 + 0 * 16), %edi
    mov $exc64_de, %eax
    call set_gate64
    mov $(idt64 + 3 * 16), %edi
    mov $exc64_bp, %eax
    call set_gate64
    mov $(idt64 + 6 * 16), %edi
    mov $exc64_ud, %eax
    call set_gate64
    mov $(idt64 + 0x80 * 16), %edi
    mov $int80_64, %eax
    call set_gate64
    orb $0x60, 5(%edi)                  /* DPL 3 */
    mov $(idt64 + 0x81 * 16), %edi
    mov $int81_64, %eax
    call set_gate64
    orb $0x60, 5(%edi)
    /* TSS64: RSP0 at offset 4. */
    movl $tss64_stack_top, tss64 + 4
    movl $0, tss64 + 8
    movw $104, tss64 + 102
    pop %edi
    ret

/* EAX = handler (below 4 GiB), EDI = gate: 64-bit interrupt gate, DPL 0. */
set_gate64:
    mov %ax, (%edi)
    movw $KERNEL_CS64, 2(%edi)
    movw $0x8e00, 4(%edi)
    shr $16, %eax
    mov %ax, 6(%edi)
    movl $0, 8(%edi)
    movl $0, 12(%edi)
    ret

    .data
    .align 8
idt64_desc:
    .word 256 * 16 - 1
    .long idt64, 0
    .globl lm_results, lm_pf_pte, lm_pf_slot, lm_pf_va, lm_pf_error, lm_pf_cr2, lm_pf_count
    .globl lm_unexpected, tss64, idt64, lm_recover, lm_kernel_rsp, user64_stack_top, lm_fault_vector, lm_fault_error, lm_fault_cr2
lm_results:     .space 16 * 8
lm_pf_pte:      .quad 0
lm_pf_slot:     .quad 0
lm_pf_va:       .quad 0
lm_pf_error:    .quad 0
lm_pf_cr2:      .quad 0
lm_pf_count:    .long 0
lm_unexpected:  .long 0
lm_saved_esp:   .long 0
lm_kernel_rsp:  .quad 0
lm_fn:          .long 0
lm_recover:     .quad 0
lm_fault_vector: .quad 0
lm_fault_error: .quad 0
lm_fault_cr2:   .quad 0

    .bss
    .align 16
idt64:          .space 256 * 16
tss64:          .space 104
    .align 16
                .space 4096
    .globl tss64_stack_top
tss64_stack_top:
                .space 4096
user64_stack_top:
