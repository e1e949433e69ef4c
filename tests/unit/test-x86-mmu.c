/* The page walker: 32-bit (4 KiB, 4 MiB PSE-36), PAE and 4-level paging
 * (2 MiB, 1 GiB), A/D bits, reserved bits, NX, WP, SMEP, SMAP, error codes
 * and CR2. */
#include "tests/unit/test-x86-fixture.h"

#define P  1ULL
#define RW 2ULL
#define US 4ULL
#define A  0x20ULL
#define D  0x40ULL
#define PS 0x80ULL
#define NX (1ULL << 63)

static int translate(uint64_t va, int access, int idx, uint64_t *pa, int *prot)
{
    uint64_t size;
    int dummy;
    return x86_mmu_translate(&env, va, access, idx, pa, prot ? prot : &dummy, &size);
}

static void paging32(void)
{
    fixture();
    env.cr[3] = 0x1000;
    x86_set_cr0(&env, env.cr[0] | CR0_PE | CR0_PG);
}

TEST(paging32_4k_and_ad_bits)
{
    uint64_t pa;
    int prot;
    paging32();
    w32(0x1000 + 0 * 4, 0x2000 | P | RW | US);
    w32(0x2000 + 5 * 4, 0x7000 | P | RW | US);
    CHECK_EQ(translate(0x5123, X86_ACCESS_READ, MMU_USER_IDX, &pa, &prot), 0);
    CHECK_EQ(pa, 0x7123);
    CHECK(r32(0x1000) & A);
    CHECK(r32(0x2014) & A);
    CHECK(!(r32(0x2014) & D));
    CHECK(!(prot & X86_PROT_WRITE));         /* D clear: first write must walk */
    CHECK_EQ(translate(0x5123, X86_ACCESS_WRITE, MMU_USER_IDX, &pa, &prot), 0);
    CHECK(r32(0x2014) & D);
    CHECK(!(r32(0x1000) & D));               /* D only on the leaf */
    CHECK(prot & X86_PROT_WRITE);
}

TEST(paging32_not_present_error_codes)
{
    uint64_t pa;
    paging32();
    CHECK_EQ(translate(0x400000, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL), X86_MMU_PF | 0);
    CHECK_EQ(translate(0x400000, X86_ACCESS_WRITE, MMU_USER_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_W | PF_ERR_U);
    /* I/D is 0 for fetches without NX/SMEP in 32-bit paging */
    CHECK_EQ(translate(0x400000, X86_ACCESS_FETCH, MMU_USER_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_U);
}

TEST(paging32_pse36_4m)
{
    uint64_t pa;
    paging32();
    x86_set_cr4(&env, CR4_PSE);
    /* 4 MiB page at physical 0x3_00800000: bits 39:32 in PDE bits 20:13 */
    w32(0x1000 + 1 * 4, 0x00800000 | (3u << 13) | P | RW | PS);
    CHECK_EQ(translate(0x00401234, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL), 0);
    CHECK_EQ(pa, 0x300801234ULL);
    /* bit 21 is reserved with MAXPHYADDR 40 */
    w32(0x1000 + 2 * 4, 0x00800000 | (1u << 21) | P | RW | PS);
    CHECK_EQ(translate(0x00801234, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_RSVD);
    /* without CR4.PSE the PS bit is ignored: the PDE points to a page table */
    x86_set_cr4(&env, 0);
    w32(0x1000 + 3 * 4, 0x3000 | P | RW | PS);
    w32(0x3000, 0x9000 | P);
    CHECK_EQ(translate(0x00c00010, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL), 0);
    CHECK_EQ(pa, 0x9010);
}

TEST(paging32_wp_and_user_checks)
{
    uint64_t pa;
    paging32();
    w32(0x1000, 0x2000 | P | RW | US);
    w32(0x2000, 0x8000 | P | US);            /* user read-only */
    w32(0x2004, 0x9000 | P | RW);            /* supervisor-only */
    /* WP=0: supervisor may write read-only pages */
    CHECK_EQ(translate(0x0, X86_ACCESS_WRITE, MMU_KERNEL_IDX, &pa, NULL), 0);
    x86_set_cr0(&env, env.cr[0] | CR0_WP);
    CHECK_EQ(translate(0x0, X86_ACCESS_WRITE, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_W);
    CHECK_EQ(translate(0x0, X86_ACCESS_WRITE, MMU_USER_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_W | PF_ERR_U);
    CHECK_EQ(translate(0x1000, X86_ACCESS_READ, MMU_USER_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_U);
    CHECK_EQ(translate(0x1000, X86_ACCESS_WRITE, MMU_KERNEL_IDX, &pa, NULL), 0);
}

static void paging_pae(void)
{
    fixture();
    env.cr[3] = 0x1000;
    x86_set_cr4(&env, CR4_PAE);
    x86_set_efer(&env, EFER_NXE);
    x86_set_cr0(&env, env.cr[0] | CR0_PE | CR0_PG);
}

TEST(pae_2m_nx_and_reserved)
{
    uint64_t pa;
    paging_pae();
    w64(0x1000 + 1 * 8, 0x2000 | P);                       /* PDPTE for 1-2 GiB */
    w64(0x2000 + 0, 0x00200000 | P | RW | US | PS | NX);   /* 2 MiB, no-execute */
    w64(0x2000 + 8, 0x3000 | P | RW | US);
    w64(0x3000 + 8, 0x5000 | P | RW | US);
    CHECK_EQ(translate(0x40012345, X86_ACCESS_READ, MMU_USER_IDX, &pa, NULL), 0);
    CHECK_EQ(pa, 0x212345);
    CHECK_EQ(translate(0x40012345, X86_ACCESS_FETCH, MMU_USER_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_U | PF_ERR_I);
    CHECK_EQ(translate(0x40201abc, X86_ACCESS_FETCH, MMU_KERNEL_IDX, &pa, NULL), 0);
    CHECK_EQ(pa, 0x5abc);
    /* the PDPTE has no A bit in legacy PAE */
    CHECK(!(r64(0x1008) & A));
    CHECK(r64(0x2000) & A);
    /* without NXE, bit 63 is reserved */
    x86_set_efer(&env, 0);
    CHECK_EQ(translate(0x40012345, X86_ACCESS_READ, MMU_USER_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_U | PF_ERR_RSVD);
    /* bits 20:13 of a 2 MiB PDE are reserved; bits above MAXPHYADDR too */
    x86_set_efer(&env, EFER_NXE);
    w64(0x2000 + 16, 0x00400000 | (1u << 13) | P | PS);
    CHECK_EQ(translate(0x40400000, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_RSVD);
    w64(0x2000 + 24, (1ULL << 45) | 0x6000 | P);
    CHECK_EQ(translate(0x40600000, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_RSVD);
    /* bits 62:52 are reserved in legacy PAE (not in 4-level paging) */
    w64(0x2000 + 32, (1ULL << 62) | 0x00800000 | P | PS);
    CHECK_EQ(translate(0x40800000, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_RSVD);
}

TEST(pae_pdpte_reserved_bits_gp_on_cr3_load)
{
    paging_pae();
    w64(0x4000, 0x2000 | P | RW);            /* RW is reserved in a PAE PDPTE */
    EXPECT_EXC(x86_write_cr(&env, 3, 0x4000, 0), EXCP_GP, 0);
    w64(0x4000, 0x2000 | P);
    EXPECT_OK(x86_write_cr(&env, 3, 0x4000, 0));
    CHECK_EQ(env.cr[3], 0x4000);
}

static void paging_long(void)
{
    fixture();
    env.cr[3] = 0x1000;
    x86_set_cr4(&env, CR4_PAE);
    x86_set_efer(&env, EFER_LME | EFER_NXE);
    x86_set_cr0(&env, env.cr[0] | CR0_PE | CR0_PG);
}

TEST(long_mode_levels_and_sizes)
{
    uint64_t pa, size;
    int prot;
    paging_long();
    CHECK(env.efer & EFER_LMA);
    CHECK(env.hflags & HF_LMA_MASK);
    /* PML4[0] -> PDPT 0x2000; PDPT[1] = 1 GiB page at 0x80000000 */
    w64(0x1000, 0x2000 | P | RW | US);
    w64(0x2000 + 8, 0x80000000ULL | P | RW | PS);
    CHECK_EQ(x86_mmu_translate(&env, 0x40123456, X86_ACCESS_WRITE, MMU_KERNEL_IDX, &pa, &prot, &size), 0);
    CHECK_EQ(pa, 0x80123456ULL);
    CHECK_EQ(size, 1 * GiB);
    CHECK(r64(0x2008) & D);
    CHECK(r64(0x1000) & A);
    /* a 1 GiB page with bit 13 set: reserved */
    w64(0x2000 + 16, 0x80000000ULL | (1u << 13) | P | PS);
    CHECK_EQ(translate(0x80000000, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_RSVD);
    /* bits 62:52 are ignored in 4-level paging */
    w64(0x2000 + 24, (1ULL << 62) | (1ULL << 55) | 0xc0000000ULL | P | PS);
    CHECK_EQ(translate(0xc0000000ULL, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL), 0);
    /* PS in a PML4E is reserved */
    w64(0x1000 + 8, 0x3000 | P | PS);
    CHECK_EQ(translate(0x8000000000ULL, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_RSVD);
    /* 4 KiB through all four levels, high half of the address space */
    w64(0x1000 + 511 * 8, 0x4000 | P | RW);
    w64(0x4000 + 511 * 8, 0x5000 | P | RW);
    w64(0x5000 + 511 * 8, 0x6000 | P | RW);
    w64(0x6000 + 511 * 8, 0xabc000 | P | RW);
    CHECK_EQ(x86_mmu_translate(&env, 0xfffffffffffff123ULL, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, &prot, &size), 0);
    CHECK_EQ(pa, 0xabc123);
    CHECK_EQ(size, 4 * KiB);
    CHECK_EQ(translate(0xfffffffffffff123ULL, X86_ACCESS_READ, MMU_USER_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_U);
    /* non-canonical */
    CHECK_EQ(translate(0x0000800000000000ULL, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL), X86_MMU_GP);
}

TEST(smep_smap)
{
    uint64_t pa;
    paging_long();
    w64(0x1000, 0x2000 | P | RW | US);
    w64(0x2000, 0x3000 | P | RW | US);
    w64(0x3000, 0x4000 | P | RW | US);
    w64(0x4000, 0x7000 | P | RW | US);       /* a user page at 0 */
    CHECK_EQ(translate(0x10, X86_ACCESS_FETCH, MMU_KERNEL_IDX, &pa, NULL), 0);
    x86_set_cr4(&env, CR4_PAE | CR4_SMEP | CR4_SMAP);
    CHECK_EQ(translate(0x10, X86_ACCESS_FETCH, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_I);
    CHECK_EQ(translate(0x10, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P);
    CHECK_EQ(translate(0x10, X86_ACCESS_WRITE, MMU_KERNEL_IDX, &pa, NULL),
             X86_MMU_PF | PF_ERR_P | PF_ERR_W);
    /* EFLAGS.AC: the translator uses the NOSMAP index */
    CHECK_EQ(translate(0x10, X86_ACCESS_READ, MMU_KERNEL_NOSMAP_IDX, &pa, NULL), 0);
    CHECK_EQ(translate(0x10, X86_ACCESS_FETCH, MMU_USER_IDX, &pa, NULL), 0);
    CHECK(env.hflags & HF_SMAP_MASK);
}

TEST(tlb_fill_sets_cr2_and_raises)
{
    int prot;
    uint64_t size;
    paging_long();
    EXPECT_EXC(x86_tlb_fill(&env, 0x123456789000ULL, X86_ACCESS_WRITE, MMU_USER_IDX, &prot, &size, 0),
               EXCP_PF, PF_ERR_W | PF_ERR_U);
    CHECK_EQ(env.cr[2], 0x123456789000ULL);
    EXPECT_EXC(x86_tlb_fill(&env, 0x8000000000000000ULL, X86_ACCESS_READ, MMU_USER_IDX, &prot, &size, 0),
               EXCP_GP, 0);
}

TEST(debug_translate_sets_no_bits)
{
    uint64_t pa;
    paging32();
    w32(0x1000, 0x2000 | P);
    w32(0x2000 + 4, 0x5000 | P);
    CHECK_EQ(x86_mmu_debug_translate(&env, 0x1004, &pa), 0);
    CHECK_EQ(pa, 0x5004);
    CHECK(!(r32(0x1000) & A));
    CHECK_EQ(x86_mmu_debug_translate(&env, 0x3000, &pa), -1);
}

TEST(paging_off_and_a20)
{
    uint64_t pa;
    fixture();
    CHECK_EQ(translate(0x123456, X86_ACCESS_READ, MMU_KERNEL_IDX, &pa, NULL), 0);
    CHECK_EQ(pa, 0x123456);
    env.a20_mask = ~(1ULL << 20);
    CHECK_EQ(translate(0x100010, X86_ACCESS_READ, MMU_PHYS_IDX, &pa, NULL), 0);
    CHECK_EQ(pa, 0x10);
}

TEST(linear_access_crosses_pages)
{
    paging32();
    w32(0x1000, 0x2000 | P | RW);
    w32(0x2000 + 0, 0x5000 | P | RW);
    w32(0x2000 + 4, 0x9000 | P | RW);
    EXPECT_OK(x86_st_linear(&env, 0xffe, 0x11223344, 4, MMU_KERNEL_IDX, 0));
    CHECK_EQ(r16(0x5ffe), 0x3344);
    CHECK_EQ(r16(0x9000), 0x1122);
    uint64_t v = 0;
    EXPECT_OK(v = x86_ld_linear(&env, 0xffe, 4, MMU_KERNEL_IDX, 0));
    CHECK_EQ(v, 0x11223344);
    /* second page not present: nothing is written */
    w32(0x2000 + 8, 0);
    w32(0x2000 + 4, 0x9000 | P | RW);
    w32(0x9ffe, 0);
    EXPECT_EXC(x86_st_linear(&env, 0x1ffe, 0xaabbccdd, 4, MMU_KERNEL_IDX, 0), EXCP_PF, PF_ERR_W);
    CHECK_EQ(env.cr[2], 0x2000);
    CHECK_EQ(r16(0x9ffe), 0);
}
