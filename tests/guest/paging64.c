/* 4-level paging in long mode: accessed/dirty bits at every level, NX with
 * EFER.NXE, write protection, 1 GiB pages (when the CPU has them), INVLPG,
 * and #GP rather than #PF for non-canonical addresses. The 64-bit checks
 * are small assembly functions called through longmode_call(). */
#include "runtime.h"

#include "longmode.h"
extern uint64_t lm_recover, lm_fault_vector, lm_fault_error, lm_fault_cr2;

#define P 1ull
#define W 2ull
#define U 4ull
#define A 0x20ull
#define D 0x40ull
#define PS 0x80ull
#define XD (1ull << 63)
#define WIN 0x40000000ull            /* 4 KiB pages of the window */

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_win[512] __attribute__((aligned(4096)));
static uint64_t pt_win[512] __attribute__((aligned(4096)));
static uint64_t pdpt_hi[512] __attribute__((aligned(4096)));
static uint8_t pages[4][4096] __attribute__((aligned(4096)));

/* Results written by the 64-bit code. */
uint64_t r_read, r_ad_pte, r_ad_pde, r_ad_pdpte, r_ad_pml4e, r_dirty;
uint64_t r_nx_vec, r_nx_err, r_nx_cr2, r_exec_ok;
uint64_t r_wp_vec, r_wp_err, r_nc_vec, r_nc_err, r_1g_read, r_invlpg;
uint64_t win_va = WIN, nc_va = 0x0000800000000000ull, hi_va = 0x0000008000000000ull;

/* One 64-bit "TRY": lea the recovery label, then the access. */
#define RECOVER(label) "lea " label "(%rip), %rax\n\tmov %rax, lm_recover(%rip)\n\t"

asm(".text\n.code64\n"
    "lm_checks:\n\t"
    "push %rbx\n\t"
    /* accessed/dirty bits */
    "mov win_va(%rip), %rbx\n\t"
    "mov (%rbx), %rax\n\tmov %rax, r_read(%rip)\n\t"
    "mov pt_win(%rip), %rax\n\tmov %rax, r_ad_pte(%rip)\n\t"
    "mov pd_win(%rip), %rax\n\tmov %rax, r_ad_pde(%rip)\n\t"
    "mov pdpt+8(%rip), %rax\n\tmov %rax, r_ad_pdpte(%rip)\n\t"
    "mov pml4(%rip), %rax\n\tmov %rax, r_ad_pml4e(%rip)\n\t"
    "movq $1, 8(%rbx)\n\t"
    "mov pt_win(%rip), %rax\n\tmov %rax, r_dirty(%rip)\n\t"
    /* NX: executing page 1 (XD) faults; page 2 (a RET) runs */
    "lea 0x2000(%rbx), %rax\n\tcall *%rax\n\tmovq $1, r_exec_ok(%rip)\n\t"
    RECOVER("1f")
    "lea 0x1000(%rbx), %rax\n\tjmp *%rax\n"
    "1:\n\t"
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_nx_vec(%rip)\n\t"
    "mov lm_fault_error(%rip), %rax\n\tmov %rax, r_nx_err(%rip)\n\t"
    "mov lm_fault_cr2(%rip), %rax\n\tmov %rax, r_nx_cr2(%rip)\n\t"
    /* WP: page 3 is read-only */
    "mov %cr0, %rax\n\tbts $16, %rax\n\tmov %rax, %cr0\n\t"
    RECOVER("2f")
    "movq $5, 0x3000(%rbx)\n"
    "2:\n\t"
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_wp_vec(%rip)\n\t"
    "mov lm_fault_error(%rip), %rax\n\tmov %rax, r_wp_err(%rip)\n\t"
    /* non-canonical: #GP(0), not #PF */
    "movq $0, lm_fault_vector(%rip)\n\t"
    RECOVER("3f")
    "mov nc_va(%rip), %rbx\n\tmov (%rbx), %rax\n"
    "3:\n\t"
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_nc_vec(%rip)\n\t"
    "mov lm_fault_error(%rip), %rax\n\tmov %rax, r_nc_err(%rip)\n\t"
    /* 1 GiB page at 512 GiB (when mapped) */
    "cmpq $0, pml4+8(%rip)\n\tje 4f\n\t"
    "mov hi_va(%rip), %rbx\n\tmov 0x1008(%rbx), %rax\n\tmov %rax, r_1g_read(%rip)\n"
    "4:\n\t"
    /* INVLPG: remap the window's page 0 to page 3 */
    "mov win_va(%rip), %rbx\n\t"
    "lea pages+0x3000(%rip), %rax\n\tor $3, %rax\n\tmov %rax, pt_win(%rip)\n\t"
    "invlpg (%rbx)\n\t"
    "mov (%rbx), %rax\n\tmov %rax, r_invlpg(%rip)\n\t"
    "pop %rbx\n\t"
    "ret\n"
    ".code32\n");
extern char lm_checks[];

static bool has_feature_ext(unsigned bit)
{
    uint32_t r[4];
    cpuid(0x80000000, 0, r);
    if (r[0] < 0x80000001)
        return false;
    cpuid(0x80000001, 0, r);
    return r[3] & (1u << bit);
}

void test_main(void)
{
    bool nx = has_feature_ext(20), gb = has_feature_ext(26);
    for (int i = 0; i < 8; i++)
        pd_low[i] = ((uint64_t)i << 21) | PS | W | P;
    pdpt[0] = (uint32_t)pd_low | W | P;
    pdpt[1] = (uint32_t)pd_win | W | P;
    pd_win[0] = (uint32_t)pt_win | W | P;
    pt_win[0] = (uint32_t)pages[0] | W | P;
    pt_win[1] = (uint32_t)pages[1] | W | P | (nx ? XD : 0);
    pt_win[2] = (uint32_t)pages[2] | W | P;
    pt_win[3] = (uint32_t)pages[3] | P;                 /* read-only */
    pml4[0] = (uint32_t)pdpt | W | P;
    if (gb) {
        pml4[1] = (uint32_t)pdpt_hi | W | P;             /* 512 GiB */
        pdpt_hi[0] = 0 | PS | W | P;                     /* -> physical 0, 1 GiB */
    }
    *(uint64_t *)pages[0] = 0x1122334455667788ull;
    pages[1][0] = 0xc3;
    pages[2][0] = 0xc3;
    *(uint64_t *)pages[3] = 0x3333333333333333ull;
    *(volatile uint64_t *)0x1008 = 0x1616161616161616ull;

    idt64_init();
    gdt_set(TSS64_SEL, make_desc((uint32_t)tss64, 103, ACC_TSS32, 0));
    gdt_set(TSS64_SEL + 8, 0);
    if (nx)
        wrmsr(0xc0000080, rdmsr(0xc0000080) | (1u << 11));
    longmode_call(pml4, (void (*)(void))lm_checks);
    write_cr0(read_cr0() & ~(1u << 16));
    wrmsr(0xc0000080, rdmsr(0xc0000080) & ~(1u << 11));
    idt_reload();
    tss_reload();

    TEST_EQ("no unexpected exception in long mode", lm_unexpected, 0);
    TEST_EQ("read through 4-level paging", r_read, 0x1122334455667788ull);
    TEST_EQ("accessed bit in the PTE", r_ad_pte & A, A);
    TEST_EQ("accessed bit in the PDE", r_ad_pde & A, A);
    TEST_EQ("accessed bit in the PDPTE", r_ad_pdpte & A, A);
    TEST_EQ("accessed bit in the PML4E", r_ad_pml4e & A, A);
    TEST_EQ("read leaves the dirty bit clear", r_ad_pte & D, 0);
    TEST_EQ("write sets the dirty bit", r_dirty & D, D);
    TEST_EQ("executing a page without XD", r_exec_ok, 1);
    /* Feature-dependent checks print the same lines either way, so that
     * runs on CPU models with and without the feature compare equal. */
    TEST_EQ("NX (if available): fetch from an XD page: #PF", nx ? r_nx_vec : EXCP_PF, EXCP_PF);
    TEST_EQ("NX (if available): error code P|I/D", nx ? r_nx_err : 0x11, 0x11);
    TEST_EQ("NX (if available): CR2", nx ? r_nx_cr2 : WIN + 0x1000, WIN + 0x1000);
    TEST_EQ("WP: supervisor write to a read-only page: #PF", r_wp_vec, EXCP_PF);
    TEST_EQ("WP: error code P|W", r_wp_err, 0x3);
    TEST_EQ("non-canonical address: #GP", r_nc_vec, EXCP_GP);
    TEST_EQ("non-canonical address: error code 0", r_nc_err, 0);
    TEST_EQ("1 GiB page (if available)", gb ? r_1g_read : 0x1616161616161616ull,
            0x1616161616161616ull);
    TEST_EQ("INVLPG makes the remapped page visible", r_invlpg, 0x3333333333333333ull);
}
