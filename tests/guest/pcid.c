/* Process-context identifiers (CPUID.1:ECX.PCID, CR4.PCIDE) and INVPCID:
 * CR4.PCIDE only in long mode and only while CR3[11:0] is 0; CR3 bit 63
 * (no flush) is not stored and is reserved without PCIDE; the invalidations
 * the SDM requires: a CR3 write without bit 63 drops the new PCID's entries,
 * INVLPG the current PCID's, INVPCID type 0 one address of a PCID, type 1 a
 * PCID (also one left: it stays dropped when CR3 returns with bit 63), type
 * 2 everything with the global pages, type 3 everything else; INVPCID #GP
 * cases (type above 3, PCID field above 4095, non-canonical address).
 *
 * Only invalidations are checked, never that a translation was kept (a TLB
 * may always forget). Without the features the same lines are printed, so
 * that runs on CPUs with and without them compare equal. */
#include "runtime.h"

#include "longmode.h"
extern uint64_t lm_recover, lm_fault_vector, lm_fault_error;

#define P 1ull
#define W 2ull
#define PS 0x80ull
#define G 0x100ull
#define WIN 0x40000000ull            /* two 4 KiB test pages */
#define CR4_PCIDE (1u << 17)

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_win[512] __attribute__((aligned(4096)));
uint64_t pt_win[512] __attribute__((aligned(4096)));
static uint64_t frames[2][512] __attribute__((aligned(4096)));

/* Inputs and results of the 64-bit code. */
uint64_t pte_a, pte_b, pte_a_g, pte_b_g, cr3_base, has_invpcid, win_va = WIN;
uint64_t desc[2] __attribute__((aligned(16)));
uint64_t r_pcide_nz, r_pcide_nz_err, r_pcide_on, r_cr3_read, r_cr3_flush, r_invlpg;
uint64_t r_pcid2, r_invpcid1, r_invpcid0, r_invpcid3, r_invpcid2;
uint64_t r_type4, r_type4_err, r_bigpcid, r_noncanon, r_bit63;

#define RECOVER(label) "lea " label "(%rip), %rax\n\tmov %rax, lm_recover(%rip)\n\t" \
                       "movq $-1, lm_fault_vector(%rip)\n\t"
#define LANDED "movq $0, lm_recover(%rip)\n\t"
#define FLIP(pte, slot) "mov " pte "(%rip), %rax\n\tmov %rax, pt_win+" slot "(%rip)\n\t"
#define SET_CR3(v) "movabs $" v ", %rax\n\tor cr3_base(%rip), %rax\n\tmov %rax, %cr3\n\t"
#define INVPCID(type) "mov $" type ", %eax\n\tinvpcid desc(%rip), %rax\n\t"

asm(".text\n.code64\n"
    "lm_pcid:\n\t"
    "push %rbx\n\t"
    "mov %cr3, %rax\n\tmov %rax, cr3_base(%rip)\n\t"
    "mov %cr4, %rax\n\tor $0x80, %rax\n\tmov %rax, %cr4\n\t"          /* PGE */
    "mov win_va(%rip), %rbx\n\t"
    /* PCIDE while CR3[11:0] = 1: #GP(0) */
    SET_CR3("1")
    RECOVER("1f")
    "mov %cr4, %rax\n\tbts $17, %rax\n\tmov %rax, %cr4\n"
    "1:\n\t" LANDED
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_pcide_nz(%rip)\n\t"
    "mov lm_fault_error(%rip), %rax\n\tmov %rax, r_pcide_nz_err(%rip)\n\t"
    /* with CR3[11:0] = 0 it is set; bit 63 of a CR3 write is not stored */
    SET_CR3("0")
    "mov %cr4, %rax\n\tbts $17, %rax\n\tmov %rax, %cr4\n\t"
    "mov %cr4, %rax\n\tshr $17, %rax\n\tand $1, %eax\n\tmov %rax, r_pcide_on(%rip)\n\t"
    SET_CR3("0x8000000000000001")
    "mov %cr3, %rax\n\txor cr3_base(%rip), %rax\n\tmov %rax, r_cr3_read(%rip)\n\t"
    /* CR3 write without bit 63 (same PCID): the page's new frame */
    "mov (%rbx), %rax\n\t"
    FLIP("pte_b", "0")
    SET_CR3("1")
    "mov (%rbx), %rax\n\tmov %rax, r_cr3_flush(%rip)\n\t"
    /* INVLPG in the current PCID */
    FLIP("pte_a", "0")
    "invlpg (%rbx)\n\t"
    "mov (%rbx), %rax\n\tmov %rax, r_invlpg(%rip)\n\t"
    "cmpq $0, has_invpcid(%rip)\n\tje 9f\n\t"
    /* PCID 2 fresh; INVPCID type 1 of PCID 1 (left); back to 1 with bit 63 */
    FLIP("pte_b", "0")
    SET_CR3("2")
    "mov (%rbx), %rax\n\tmov %rax, r_pcid2(%rip)\n\t"
    "movq $1, desc(%rip)\n\tmovq $0, desc+8(%rip)\n\t"
    INVPCID("1")
    SET_CR3("0x8000000000000001")
    "mov (%rbx), %rax\n\tmov %rax, r_invpcid1(%rip)\n\t"
    /* type 0: one address of the current PCID */
    FLIP("pte_a", "0")
    "mov %rbx, desc+8(%rip)\n\t"
    INVPCID("0")
    "mov (%rbx), %rax\n\tmov %rax, r_invpcid0(%rip)\n\t"
    /* type 3: all but global pages */
    FLIP("pte_b", "0")
    INVPCID("3")
    "mov (%rbx), %rax\n\tmov %rax, r_invpcid3(%rip)\n\t"
    /* type 2: a global page too */
    "mov 0x1000(%rbx), %rax\n\t"
    FLIP("pte_b_g", "8")
    INVPCID("2")
    "mov 0x1000(%rbx), %rax\n\tmov %rax, r_invpcid2(%rip)\n\t"
    /* #GP(0): type 4; PCID field 0x1000; type 0 with a non-canonical address */
    RECOVER("2f")
    INVPCID("4")
    "2:\n\t" LANDED
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_type4(%rip)\n\t"
    "mov lm_fault_error(%rip), %rax\n\tmov %rax, r_type4_err(%rip)\n\t"
    "movq $0x1000, desc(%rip)\n\t"
    RECOVER("3f")
    INVPCID("1")
    "3:\n\t" LANDED
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_bigpcid(%rip)\n\t"
    "movq $1, desc(%rip)\n\tmovabs $0x0000800000000000, %rcx\n\tmov %rcx, desc+8(%rip)\n\t"
    RECOVER("4f")
    INVPCID("0")
    "4:\n\t" LANDED
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_noncanon(%rip)\n"
    "9:\n\t"
    /* PCIDE off again (PCID 0 first): bit 63 is then reserved */
    SET_CR3("0")
    "mov %cr4, %rax\n\tbtr $17, %rax\n\tmov %rax, %cr4\n\t"
    RECOVER("5f")
    SET_CR3("0x8000000000000000")
    "5:\n\t" LANDED
    "mov lm_fault_vector(%rip), %rax\n\tmov %rax, r_bit63(%rip)\n\t"
    "mov %cr4, %rax\n\tbtr $7, %rax\n\tmov %rax, %cr4\n\t"
    "pop %rbx\n\t"
    "ret\n"
    ".code32\n");
extern char lm_pcid[];

static bool has_feature(uint32_t leaf, int reg, unsigned bit)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    if (r[0] < leaf)
        return false;
    cpuid(leaf, 0, r);
    return r[reg] & (1u << bit);
}

void test_main(void)
{
    bool pcid = has_feature(1, 2, 17), invpcid = pcid && has_feature(7, 1, 10);
    const uint64_t A = 0xaaaaaaaaaaaaaaaaull, B = 0xbbbbbbbbbbbbbbbbull;
    for (int i = 0; i < 8; i++)
        pd_low[i] = ((uint64_t)i << 21) | PS | W | P;
    pml4[0] = (uint32_t)pdpt | W | P;
    pdpt[0] = (uint32_t)pd_low | W | P;
    pdpt[1] = (uint32_t)pd_win | W | P;
    pd_win[0] = (uint32_t)pt_win | W | P;
    frames[0][0] = A;
    frames[1][0] = B;
    pte_a = (uint32_t)frames[0] | W | P;
    pte_b = (uint32_t)frames[1] | W | P;
    pte_a_g = pte_a | G;
    pte_b_g = pte_b | G;
    pt_win[0] = pte_a;
    pt_win[1] = pte_a_g;
    has_invpcid = invpcid;

    /* outside long mode PCIDE cannot be set */
    int v = pcid ? TRY("mov %0, %%cr4", :: "r"(read_cr4() | CR4_PCIDE) : "memory") : EXCP_GP;
    TEST_EQ("PCID (if available): CR4.PCIDE outside long mode: #GP", v, EXCP_GP);

    if (pcid) {
        idt64_init();
        gdt_set(TSS64_SEL, make_desc((uint32_t)tss64, 103, ACC_TSS32, 0));
        gdt_set(TSS64_SEL + 8, 0);
        longmode_call(pml4, (void (*)(void))lm_pcid);
        idt_reload();
        tss_reload();
    }
    if (!pcid) {
        r_pcide_nz = EXCP_GP;
        r_pcide_on = 1;
        r_cr3_read = 1;
        r_cr3_flush = B;
        r_invlpg = A;
        r_bit63 = EXCP_GP;
    }
    if (!invpcid) {
        r_pcid2 = B;
        r_invpcid1 = B;
        r_invpcid0 = A;
        r_invpcid3 = B;
        r_invpcid2 = B;
        r_type4 = r_bigpcid = r_noncanon = EXCP_GP;
    }
    TEST_EQ("no unexpected exception in long mode", lm_unexpected, 0);
    TEST_EQ("PCID (if available): CR4.PCIDE with CR3[11:0] = 1: #GP", r_pcide_nz, EXCP_GP);
    TEST_EQ("PCID (if available): ... error code 0", r_pcide_nz_err, 0);
    TEST_EQ("PCID (if available): CR4.PCIDE set with CR3[11:0] = 0", r_pcide_on, 1);
    TEST_EQ("PCID (if available): CR3 bit 63 is not stored", r_cr3_read, 1);
    TEST_EQ("PCID (if available): CR3 write without bit 63 drops the PCID's entries", r_cr3_flush, B);
    TEST_EQ("PCID (if available): INVLPG in the current PCID", r_invlpg, A);
    TEST_EQ("PCID (if available): CR3 bit 63 reserved without CR4.PCIDE: #GP", r_bit63, EXCP_GP);
    TEST_EQ("INVPCID (if available): a new PCID starts empty", r_pcid2, B);
    TEST_EQ("INVPCID (if available): type 1 of a PCID left, back with bit 63", r_invpcid1, B);
    TEST_EQ("INVPCID (if available): type 0, current PCID", r_invpcid0, A);
    TEST_EQ("INVPCID (if available): type 3", r_invpcid3, B);
    TEST_EQ("INVPCID (if available): type 2 drops global pages", r_invpcid2, B);
    TEST_EQ("INVPCID (if available): type 4: #GP", r_type4, EXCP_GP);
    TEST_EQ("INVPCID (if available): ... error code 0", r_type4_err, 0);
    TEST_EQ("INVPCID (if available): PCID field 0x1000: #GP", r_bigpcid, EXCP_GP);
    TEST_EQ("INVPCID (if available): type 0, non-canonical address: #GP", r_noncanon, EXCP_GP);
}
