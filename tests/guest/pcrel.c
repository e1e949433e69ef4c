/* One physical code page mapped at two virtual addresses in 64-bit user
 * mode (as a shared library is in two processes): a function on it called
 * through each mapping sees its own RIP (RIP-relative LEA, CALL's return
 * address); a fault inside it reports the RIP of the mapping it ran
 * through; after a store through one mapping changes the code, both run the
 * new code. (The translator shares one translation between the mappings.) */
#include "runtime.h"

#include "longmode.h"

#define P 1ull
#define W 2ull
#define U 4ull
#define PS 0x80ull

#define V1 0x40000000u              /* two mappings of code_frame */
#define V2 0x40005000u
#define V_HOLE 0x40010000u          /* not mapped */

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_win[512] __attribute__((aligned(4096)));
static uint64_t pt_win[512] __attribute__((aligned(4096)));
static uint8_t code_frame[4096] __attribute__((aligned(4096)));

/* The shared function: RAX = its RIP-relative address, R8 = a return
 * address pushed on the page, RCX = [RSI], EDX = an immediate. */
enum { OFF_AFTER_LEA = 7, OFF_LOAD = 7, OFF_IMM = 11, OFF_RET_ADDR = 20 };
static const uint8_t shared_fn[] = {
    0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00,   /*  0: lea rax, [rip]        */
    0x48, 0x8b, 0x0e,                           /*  7: mov rcx, [rsi]        */
    0xba, 0x11, 0x11, 0x11, 0x11,               /* 10: mov edx, 0x11111111   */
    0xe8, 0x00, 0x00, 0x00, 0x00,               /* 15: call 20               */
    0x41, 0x58,                                 /* 20: pop r8                */
    0xc3,                                       /* 22: ret                   */
};

uint64_t r_rax[4], r_r8[4], r_rdx[4], r_rcx[4];
uint64_t r_fault_rip, r_fault_vec, r_fault_cr2, r_cpl;
uint64_t pcrel_data = 0x5a5a;

asm(".text\n.code64\n"
    /* #PF: note RIP and CR2, resume at pcrel_resume (same CPL) */
    "pcrel_pf:\n\t"
    "push %rax\n\t"
    "mov 16(%rsp), %rax\n\tmov %rax, r_fault_rip(%rip)\n\t"
    "mov %cr2, %rax\n\tmov %rax, r_fault_cr2(%rip)\n\t"
    "movq $14, r_fault_vec(%rip)\n\t"
    "lea pcrel_resume(%rip), %rax\n\tmov %rax, 16(%rsp)\n\t"
    "pop %rax\n\t"
    "add $8, %rsp\n\t"
    "iretq\n"
    /* CPL 3: call the function through both mappings, patch it, again */
    "pcrel_user:\n\t"
    "mov %cs, %ax\n\tand $3, %eax\n\tmov %rax, r_cpl(%rip)\n\t"
    "lea pcrel_data(%rip), %rsi\n\t"
    "mov $0x40000000, %ebx\n\tcall *%rbx\n\t"
    "mov %rax, r_rax+0(%rip)\n\tmov %r8, r_r8+0(%rip)\n\tmov %rdx, r_rdx+0(%rip)\n\tmov %rcx, r_rcx+0(%rip)\n\t"
    "mov $0x40005000, %ebx\n\tcall *%rbx\n\t"
    "mov %rax, r_rax+8(%rip)\n\tmov %r8, r_r8+8(%rip)\n\tmov %rdx, r_rdx+8(%rip)\n\tmov %rcx, r_rcx+8(%rip)\n\t"
    "movb $0x22, 0x4000000b\n\t"           /* V1 + OFF_IMM */
    "mov $0x40005000, %ebx\n\tcall *%rbx\n\t"
    "mov %rax, r_rax+16(%rip)\n\tmov %r8, r_r8+16(%rip)\n\tmov %rdx, r_rdx+16(%rip)\n\t"
    "mov $0x40000000, %ebx\n\tcall *%rbx\n\t"
    "mov %rax, r_rax+24(%rip)\n\tmov %r8, r_r8+24(%rip)\n\tmov %rdx, r_rdx+24(%rip)\n\t"
    /* a fault inside the function, called through V2 */
    "mov $0x40010000, %esi\n\t"
    "mov $0x40005000, %ebx\n\tcall *%rbx\n\t"
    "pcrel_resume:\n\t"
    "int $0x81\n"
    "pcrel_kernel:\n\t"
    "mov %rsp, lm_kernel_rsp(%rip)\n\t"
    "pushq $0x43\n\t"                       /* USER_DS64 | 3 */
    "lea user64_stack_top(%rip), %rax\n\tpush %rax\n\t"
    "pushq $2\n\t"
    "pushq $0x4b\n\t"                       /* USER_CS64 | 3 */
    "lea pcrel_user(%rip), %rax\n\tpush %rax\n\t"
    "iretq\n"
    ".code32\n");
extern char pcrel_pf[], pcrel_kernel[];

/* A 64-bit interrupt gate (16 bytes) for a handler below 4 GiB. */
static void gate64(unsigned vec, void *handler)
{
    uint32_t *g = (uint32_t *)(idt64 + 16 * vec);
    uint32_t off = (uint32_t)handler;
    g[0] = (off & 0xffff) | (KERNEL_CS64 << 16);
    g[1] = (off & 0xffff0000) | 0x8e00;
    g[2] = 0;
    g[3] = 0;
}

void test_main(void)
{
    for (int i = 0; i < 8; i++)
        pd_low[i] = ((uint64_t)i << 21) | PS | U | W | P;
    pt_win[(V1 >> 12) & 511] = (uint32_t)code_frame | U | W | P;
    pt_win[(V2 >> 12) & 511] = (uint32_t)code_frame | U | W | P;
    pd_win[0] = (uint32_t)pt_win | U | W | P;
    pdpt[0] = (uint32_t)pd_low | U | W | P;
    pdpt[1] = (uint32_t)pd_win | U | W | P;
    pml4[0] = (uint32_t)pdpt | U | W | P;
    for (unsigned i = 0; i < sizeof(shared_fn); i++)
        code_frame[i] = shared_fn[i];
    idt64_init();
    gate64(14, pcrel_pf);
    gdt_set(TSS64_SEL, make_desc((uint32_t)tss64, 103, ACC_TSS32, 0));
    gdt_set(TSS64_SEL + 8, 0);
    longmode_call(pml4, (void (*)(void))pcrel_kernel);
    idt_reload();
    tss_reload();

    TEST_EQ("no unexpected exception in long mode", lm_unexpected, 0);
    TEST_EQ("the calls ran at CPL 3", r_cpl, 3);
    static const uint32_t base[4] = { V1, V2, V2, V1 };
    static const char *const names[4] = { "V1", "V2", "V2 after the patch", "V1 after the patch" };
    for (int i = 0; i < 4; i++) {
        printf("# call through %s\n", names[i]);
        TEST_EQ("RIP-relative LEA gives this mapping's address", r_rax[i], base[i] + OFF_AFTER_LEA);
        TEST_EQ("CALL pushes this mapping's return address", r_r8[i], base[i] + OFF_RET_ADDR);
        TEST_EQ("the immediate", r_rdx[i], i < 2 ? 0x11111111u : 0x11111122u);
    }
    TEST_EQ("the load through RSI (V1)", r_rcx[0], 0x5a5a);
    TEST_EQ("the load through RSI (V2)", r_rcx[1], 0x5a5a);
    TEST_EQ("the patch reached the frame", code_frame[OFF_IMM], 0x22);
    TEST_EQ("#PF inside the function called through V2", r_fault_vec, 14);
    TEST_EQ("#PF: CR2", r_fault_cr2, V_HOLE);
    TEST_EQ("#PF: RIP is V2's", r_fault_rip, V2 + OFF_LOAD);
}
