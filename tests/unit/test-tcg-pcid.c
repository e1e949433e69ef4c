/* PCIDs in the translator's TLB and jump cache (accel/tcg-pcid.c): each
 * PCID's entries survive CR3 writes to other PCIDs and come back with CR3
 * bit 63; without it they are dropped; INVLPG and INVPCID drop what the SDM
 * says (INVLPG: the current PCID and global pages only). A page-table entry
 * changed without invalidation shows which translation the TLB kept: the
 * old one while it is cached, the new one once it is not. Both backends. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "harness.h"
#include "harness-machine.h"

#define R 0x10000000ULL              /* guest RAM base */
#define PML4 0xf0000
#define PDPT 0xf1000
#define PD 0xf2000
#define PT 0xf3000
#define LIN 0x40000000ULL            /* PT maps LIN + 4 KiB * k */
#define D1 0x10000                   /* data pages (physical offsets) */
#define D2 0x11000
#define CODE1 0x20000                /* mov eax, 1; hlt */
#define CODE2 0x21000                /* mov eax, 2; hlt */
#define CODE3 0x22000                /* lea rax, [rip + 2]; jmp rax; mov eax, 3; hlt */
#define P 1ULL
#define W 2ULL
#define G 0x100ULL

static uint8_t *ram;
static CPUX86State *env;

static void map(unsigned k, uint64_t page, uint64_t flags)
{
    st64(ram + PT + 8 * k, (R + page) | P | W | flags);
}

static uint64_t rd(unsigned k)
{
    return cpu_ld(env, LIN + 4096ULL * k, 8, x86_mmu_index(env), 0);
}

static void cr3(unsigned pcid, bool keep)
{
    x86_write_cr(env, 3, (R + PML4) | pcid | (keep ? 1ULL << 63 : 0), 0);
}

static void invpcid(unsigned type, unsigned pcid, unsigned k)
{
    x86_invpcid(env, type, pcid, LIN + 4096ULL * k, 0);
}

/* 64-bit ring 0 with 4-level paging, CR4.PGE and CR4.PCIDE, PCID 0. */
static void setup(bool interp)
{
    ram = test_machine_ram(R, 1 << 20);
    memset(ram + PML4, 0, 0x4000);
    st64(ram + PML4, (R + PDPT) | P | W);
    st64(ram + PDPT + 8, (R + PD) | P | W);
    st64(ram + PD, (R + PT) | P | W);
    st64(ram + D1, 0x1111);
    st64(ram + D2, 0x2222);
    memcpy(ram + CODE1, (uint8_t[]){ 0xb8, 1, 0, 0, 0, 0xf4 }, 6);
    memcpy(ram + CODE2, (uint8_t[]){ 0xb8, 2, 0, 0, 0, 0xf4 }, 6);
    memcpy(ram + CODE3, (uint8_t[]){ 0x48, 0x8d, 0x05, 2, 0, 0, 0, 0xff, 0xe0, 0xb8, 3, 0, 0, 0, 0xf4 }, 15);
    env = test_cpu64_new(interp, 0);
    env->cr[3] = R + PML4;
    env->cr[0] |= CR0_PG;
    env->hflags |= HF_PG_MASK;
    tlb_flush(env);
    x86_write_cr(env, 4, CR4_PAE | CR4_PGE | CR4_PCIDE, 0);
}

static void teardown(void)
{
    tcg_cpu_destroy(env);
    free(env);
}

/* EAX after running the code mapped at page k. */
static uint64_t run(unsigned k)
{
    env->rip = LIN + 4096ULL * k;
    env->regs[R_EAX] = 0;
    env->halted = false;
    env->exception_index = -1;
    tcg_run_until_exit(env);
    CHECK_EQ(env->exception_index, -1);
    return env->regs[R_EAX];
}

TEST(cr3_keeps_each_pcid)
{
    setup(false);
    map(0, D1, 0);
    cr3(1, false);
    CHECK_EQ(rd(0), 0x1111);
    map(0, D2, 0);                  /* not invalidated: PCID 1 may keep D1 */
    cr3(2, false);
    CHECK_EQ(rd(0), 0x2222);        /* PCID 2 walks */
    cr3(1, true);
    CHECK_EQ(rd(0), 0x1111);        /* PCID 1's entry came back */
    cr3(1, true);
    CHECK_EQ(rd(0), 0x1111);
    cr3(1, false);                  /* bit 63 clear: PCID 1 flushed */
    CHECK_EQ(rd(0), 0x2222);
    cr3(2, true);
    CHECK_EQ(rd(0), 0x2222);
    teardown();
}

TEST(cr3_without_pcide_flushes)
{
    setup(false);
    x86_write_cr(env, 4, CR4_PAE | CR4_PGE, 0);
    map(0, D1, 0);
    CHECK_EQ(rd(0), 0x1111);
    map(0, D2, 0);
    cr3(0, false);
    CHECK_EQ(rd(0), 0x2222);
    teardown();
}

TEST(invlpg_current_pcid_and_globals)
{
    setup(false);
    map(0, D1, 0);
    map(1, D1, G);
    cr3(1, false);
    CHECK_EQ(rd(0), 0x1111);
    cr3(2, false);
    CHECK_EQ(rd(0), 0x1111);
    CHECK_EQ(rd(1), 0x1111);
    map(0, D2, 0);
    map(1, D2, G);
    cr3(3, false);
    CHECK_EQ(rd(1), 0x1111);        /* global: kept across CR3 writes */
    cr3(2, true);
    x86_invlpg(env, LIN);
    x86_invlpg(env, LIN + 4096);
    CHECK_EQ(rd(0), 0x2222);
    CHECK_EQ(rd(1), 0x2222);        /* global translations go too */
    cr3(1, true);
    CHECK_EQ(rd(0), 0x1111);        /* INVLPG in PCID 2 left PCID 1 alone */
    teardown();
}

TEST(invpcid_types)
{
    setup(false);
    map(0, D1, 0);
    map(1, D1, G);
    cr3(1, false);
    CHECK_EQ(rd(0), 0x1111);
    CHECK_EQ(rd(1), 0x1111);
    map(0, D2, 0);
    map(1, D2, G);
    /* type 1 for another PCID */
    cr3(2, false);
    CHECK_EQ(rd(0), 0x2222);
    invpcid(1, 1, 0);
    cr3(1, true);
    CHECK_EQ(rd(0), 0x2222);
    /* type 0 for another PCID, then for the current one */
    map(0, D1, 0);
    cr3(2, true);
    CHECK_EQ(rd(0), 0x2222);
    invpcid(0, 1, 0);
    invpcid(0, 2, 2);               /* another address: PCID 2's entry stays */
    CHECK_EQ(rd(0), 0x2222);
    invpcid(0, 2, 0);
    CHECK_EQ(rd(0), 0x1111);
    cr3(1, true);
    CHECK_EQ(rd(0), 0x1111);
    /* type 1 for the current PCID */
    map(0, D2, 0);
    invpcid(1, 1, 0);
    CHECK_EQ(rd(0), 0x2222);
    /* type 3: every PCID, globals kept */
    map(0, D1, 0);
    cr3(2, false);
    CHECK_EQ(rd(0), 0x1111);
    invpcid(3, 0, 0);
    map(0, D2, 0);
    cr3(1, true);
    CHECK_EQ(rd(0), 0x2222);
    CHECK_EQ(rd(1), 0x1111);        /* the global entry (D2 in memory) stays */
    /* type 2: globals too */
    invpcid(2, 0, 0);
    CHECK_EQ(rd(1), 0x2222);
    teardown();
}

/* The jump cache follows the TLB: code of a PCID comes back with it; a
 * flushed PCID or an INVLPG'd page runs what the page tables say now. */
static void code_follows_pcid(bool interp)
{
    setup(interp);
    map(16, CODE1, 0);
    cr3(1, false);
    CHECK_EQ(run(16), 1);
    map(16, CODE2, 0);
    cr3(1, false);
    CHECK_EQ(run(16), 2);           /* PCID 1 flushed */
    map(16, CODE1, 0);
    cr3(2, false);
    CHECK_EQ(run(16), 1);
    cr3(1, true);
    CHECK_EQ(run(16), 2);           /* PCID 1's translation came back */
    cr3(2, true);
    CHECK_EQ(run(16), 1);
    cr3(1, false);
    CHECK_EQ(run(16), 1);
    /* code on a global page: kept across CR3 writes until INVLPG */
    map(17, CODE1, G);
    CHECK_EQ(run(17), 1);
    map(17, CODE2, G);
    cr3(2, false);
    CHECK_EQ(run(17), 1);
    cr3(3, false);
    CHECK_EQ(run(17), 1);
    x86_invlpg(env, LIN + 17 * 4096);
    CHECK_EQ(run(17), 2);
    map(17, CODE1, G);
    cr3(1, true);
    CHECK_EQ(run(17), 2);
    invpcid(2, 0, 0);
    CHECK_EQ(run(17), 1);
    teardown();
}

TEST(code_follows_pcid_interp) { code_follows_pcid(true); }
TEST(code_follows_pcid_x86_64) { code_follows_pcid(false); }

/* INVLPG of a page with blocks on it whose entries are not global leaves
 * the global entries current (no revalidation, no C lookup); one of a page
 * with global blocks does not. */
TEST(invlpg_nonglobal_page_keeps_global_entries)
{
    setup(false);
    map(16, CODE1, 0);
    map(17, CODE3, G);
    cr3(1, false);
    CHECK_EQ(run(16), 1);
    CHECK_EQ(run(17), 3);
    TCGCPU *t = tcg_cpu(env);
    uint64_t lookups = t->stat_lookup_slow, revalidations = t->stat_jc_revalidations;
    for (int i = 0; i < 5; i++) {
        x86_invlpg(env, LIN + 16 * 4096);
        CHECK_EQ(run(17), 3);
    }
    CHECK_EQ(t->stat_lookup_slow, lookups);
    CHECK_EQ(t->stat_jc_revalidations, revalidations);
    x86_invlpg(env, LIN + 17 * 4096);
    CHECK_EQ(run(17), 3);
    CHECK(t->stat_jc_revalidations > revalidations);
    teardown();
}

/* A block whose entry went global when it was revalidated (its page was
 * made global): an INVLPG of its page still makes it stale. */
TEST(invlpg_page_that_became_global)
{
    setup(false);
    map(18, CODE1, 0);
    cr3(1, false);
    CHECK_EQ(run(18), 1);
    map(18, CODE1, G);
    x86_invlpg(env, LIN + 18 * 4096);
    CHECK_EQ(run(18), 1);            /* revalidated: now a global entry */
    map(18, CODE2, G);
    x86_invlpg(env, LIN + 18 * 4096);
    CHECK_EQ(run(18), 2);
    teardown();
}

/* Back in a PCID whose entries were kept, its jump-cache entries are
 * current as they were: an indirect jump of its code finds its target
 * inline, without a C lookup, after any number of round trips. */
TEST(round_trip_keeps_inline_hits)
{
    setup(false);
    map(16, CODE3, 0);
    cr3(1, false);
    CHECK_EQ(run(16), 3);
    TCGCPU *t = tcg_cpu(env);
    uint64_t lookups = t->stat_lookup_slow;
    for (int i = 0; i < 10; i++) {
        cr3(2, true);
        cr3(1, true);
        CHECK_EQ(run(16), 3);
    }
    CHECK_EQ(t->stat_lookup_slow, lookups);
    CHECK_EQ(t->stat_jc_revalidations, 0);
    /* a round trip without bit 63 drops them */
    cr3(2, true);
    cr3(1, false);
    CHECK_EQ(run(16), 3);
    CHECK(t->stat_lookup_slow > lookups);
    teardown();
}

/* More PCIDs than slots: the least recently left one is forgotten. */
TEST(many_pcids)
{
    setup(false);
    map(0, D1, 0);
    for (unsigned p = 1; p <= TLB_PCID_SLOTS + 2; p++) {
        cr3(p, false);
        CHECK_EQ(rd(0), 0x1111);
    }
    map(0, D2, 0);
    cr3(1, true);                   /* left first: no longer kept */
    CHECK_EQ(rd(0), 0x2222);
    cr3(TLB_PCID_SLOTS + 2, true);  /* left last: kept */
    CHECK_EQ(rd(0), 0x1111);
    teardown();
}
