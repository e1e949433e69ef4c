/* 64-bit system features an x86-64 kernel relies on: the interrupt stack
 * table (IST) of the 64-bit TSS, SWAPGS with the GS base MSRs, SYSCALL
 * refused without EFER.SCE, CPL 3 faults taken from 64-bit user code, and
 * SYSRET's #GP on a non-canonical return address (vendors differ on the
 * CPL it is taken at: Intel 0, AMD 3; both are accepted).
 * The SYSRET case goes last but one: on AMD it leaves the recovery at CPL 3. */
#include "runtime.h"

#include "longmode.h"

#define P 1ull
#define W 2ull
#define U 4ull
#define PS 0x80ull

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint8_t ist_stack[4096] __attribute__((aligned(16)));

uint64_t r_ist_rsp, r_gs_base, r_kgs_base, r_ud_vec, r_user_vec, r_user_err, r_user_cs;
uint64_t r_sysret_vec, r_sysret_err, r_sysret_cs;
uint64_t nc_rip = 0x0000800000000000ull;

asm(".text\n.code64\n"
    "ist_handler:\n\t"
    "mov %rsp, r_ist_rsp(%rip)\n\t"
    "iretq\n"
    /* CPL 3: HLT faults (#GP(0)); the recovery keeps us at CPL 3, then leave. */
    "user64_fault:\n\t"
    "lea 1f(%rip), %rax\n\tmov %rax, lm_recover(%rip)\n\t"
    "hlt\n"
    "1:\n\t"
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_user_vec(%rip)\n\t"
    "mov lm_fault_error(%rip), %rax\n\tmov %rax, r_user_err(%rip)\n\t"
    "mov %cs, %ax\n\tmovzwl %ax, %eax\n\tmov %rax, r_user_cs(%rip)\n\t"
    "int $0x81\n"
    "lm_system_checks:\n\t"
    "push %rbx\n\t"
    /* IST: vector 0x90 uses IST1 even without a privilege change */
    "int $0x90\n\t"
    /* SWAPGS exchanges GS.base and IA32_KERNEL_GS_BASE */
    "mov $0xc0000101, %ecx\n\tmov $0x1111, %eax\n\txor %edx, %edx\n\twrmsr\n\t"
    "mov $0xc0000102, %ecx\n\tmov $0x2222, %eax\n\twrmsr\n\t"
    "swapgs\n\t"
    "mov $0xc0000101, %ecx\n\trdmsr\n\tmov %rax, r_gs_base(%rip)\n\t"
    "mov $0xc0000102, %ecx\n\trdmsr\n\tmov %rax, r_kgs_base(%rip)\n\t"
    "swapgs\n\t"
    /* SYSCALL with EFER.SCE clear: #UD */
    "mov $0xc0000080, %ecx\n\trdmsr\n\tand $~1, %eax\n\twrmsr\n\t"
    "lea 2f(%rip), %rax\n\tmov %rax, lm_recover(%rip)\n\t"
    "syscall\n"
    "2:\n\t"
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_ud_vec(%rip)\n\t"
    "mov $0xc0000080, %ecx\n\trdmsr\n\tor $1, %eax\n\twrmsr\n\t"
    /* SYSRET to a non-canonical RCX: #GP(0) at CPL 0 */
    "mov $0xc0000081, %ecx\n\txor %eax, %eax\n\tmov $0x00380028, %edx\n\twrmsr\n\t"
    "lea 3f(%rip), %rax\n\tmov %rax, lm_recover(%rip)\n\t"
    "mov nc_rip(%rip), %rcx\n\tmov $2, %r11\n\t"
    "sysretq\n"
    "3:\n\t"
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_sysret_vec(%rip)\n\t"
    "mov lm_fault_error(%rip), %rax\n\tmov %rax, r_sysret_err(%rip)\n\t"
    "mov %cs, %ax\n\tmovzwl %ax, %eax\n\tmov %rax, r_sysret_cs(%rip)\n\t"
    /* CPL 3 fault from 64-bit user code; back through INT 0x81 */
    "mov %rsp, lm_kernel_rsp(%rip)\n\t"
    "pushq $0x43\n\t"                       /* USER_DS64 | 3 */
    "lea user64_stack_top(%rip), %rax\n\tpush %rax\n\t"
    "pushq $2\n\t"
    "pushq $0x4b\n\t"                       /* USER_CS64 | 3 */
    "lea user64_fault(%rip), %rax\n\tpush %rax\n\t"
    "iretq\n"
    ".code32\n");
extern char ist_handler[], lm_system_checks[];

/* A 64-bit interrupt gate (16 bytes) for a handler below 4 GiB. */
static void gate64(unsigned vec, void *handler, unsigned dpl, unsigned ist)
{
    uint32_t *g = (uint32_t *)(idt64 + 16 * vec);
    uint32_t off = (uint32_t)handler;
    g[0] = (off & 0xffff) | (KERNEL_CS64 << 16);
    g[1] = (off & 0xffff0000) | 0x8e00 | (dpl << 13) | (ist & 7);
    g[2] = 0;
    g[3] = 0;
}

void test_main(void)
{
    for (int i = 0; i < 8; i++)
        pd_low[i] = ((uint64_t)i << 21) | PS | U | W | P;
    pdpt[0] = (uint32_t)pd_low | U | W | P;
    pml4[0] = (uint32_t)pdpt | U | W | P;
    idt64_init();
    gate64(0x90, ist_handler, 0, 1);
    *(uint64_t *)(tss64 + 0x24) = (uint32_t)(ist_stack + sizeof(ist_stack));   /* IST1 */
    gdt_set(TSS64_SEL, make_desc((uint32_t)tss64, 103, ACC_TSS32, 0));
    gdt_set(TSS64_SEL + 8, 0);
    longmode_call(pml4, (void (*)(void))lm_system_checks);
    idt_reload();
    tss_reload();

    TEST_EQ("no unexpected exception in long mode", lm_unexpected, 0);
    TEST_EQ("IST1: the handler runs on the IST stack", r_ist_rsp,
            (uint32_t)(ist_stack + sizeof(ist_stack)) - 40);
    TEST_EQ("SWAPGS: GS.base takes KERNEL_GS_BASE", r_gs_base, 0x2222);
    TEST_EQ("SWAPGS: KERNEL_GS_BASE takes GS.base", r_kgs_base, 0x1111);
    TEST_EQ("SYSCALL without EFER.SCE: #UD", r_ud_vec, EXCP_UD);
    TEST_EQ("SYSRET to a non-canonical RIP: #GP", r_sysret_vec, EXCP_GP);
    TEST_EQ("SYSRET to a non-canonical RIP: error code 0", r_sysret_err, 0);
    /* Intel raises it at CPL 0, AMD after the return, at CPL 3: either. */
    TEST_TRUE("SYSRET #GP at CPL 0 (Intel) or 3 (AMD)",
              r_sysret_cs == KERNEL_CS64 || r_sysret_cs == (USER_CS64 | 3));
    TEST_EQ("HLT at CPL 3 in 64-bit mode: #GP", r_user_vec, EXCP_GP);
    TEST_EQ("HLT at CPL 3: error code 0", r_user_err, 0);
    TEST_EQ("the fault returned to 64-bit CPL 3", r_user_cs, USER_CS64 | 3);
}
