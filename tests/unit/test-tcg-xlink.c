/* Transfer sites (tcg/x86_64/xlink.c, -accel tcg,xfer-sites=on): a
 * lookup_and_goto of 64-bit code jumps straight to the block it found last
 * time. The link must not outlive
 * what made it right: the target page remapped to other code (PTE write and
 * INVLPG, a CR3 write, a switch between PCIDs kept by CR3 bit 63), the target
 * rewritten by the guest, an indirect jump that goes elsewhere. Each runs
 * on both backends; the x86_64 runs also check (with the lookup counters of
 * -accel tcg,xfer-stats=on) that the sites serve the lookups. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "harness.h"
#include "harness-machine.h"
#include "system/cpus.h"
#include "system/machine.h"
#include "system/memory.h"

#define RAM_BASE 0x10000000ULL
#define RAM_SIZE (1ULL << 20)
#define MAIN 0x1000      /* offsets in RAM */
#define NPAGE 0x4000     /* the target page, remapped by the tests */
#define ALT 0x5000       /* what it is remapped to */
#define CR3_A 0xf0000
#define CR3_B 0xf4000
#define PTE_OF(cr3, off) ((cr3) + 0x3000 + 8 * ((off) >> 12))

static uint8_t *ram;

static CPUX86State *new_cpu(bool interp)
{
    ram = test_machine_ram(RAM_BASE, RAM_SIZE);
    tcg_return_stack = false;
    tcg_xfer_stats = !interp;
    tcg_xfer_sites = true;
    memset(ram, 0xf4, 0x10000);   /* HLT everywhere else */
    return test_cpu64_new(interp, 0);
}

static void free_cpu(CPUX86State *env)
{
    test_cpu_free(env);
    tcg_xfer_stats = false;
    tcg_xfer_sites = false;
}

static void put32(uint32_t at, uint32_t v)
{
    memcpy(ram + at, &v, 4);
}

/* RAM mapped 1:1 by the tables at pml4, but NPAGE to n_phys */
static void address_space(uint32_t pml4, uint32_t n_phys)
{
    uint32_t pt = test_page_tables(pml4, 3);
    st64(ram + pt + 8 * (NPAGE >> 12), (RAM_BASE + n_phys) | 3);
}

static void start(CPUX86State *env, uint32_t off)
{
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESP] = RAM_BASE + RAM_SIZE - 64;
    env->rip = RAM_BASE + off;
    env->halted = false;
    env->exception_index = -1;
    cc_set_all(env, 0);
    env->eflags = 2;
    tb_flush(tcg_cpu(env));
    memset(tcg_cpu(env)->stat_xfer, 0, sizeof(tcg_cpu(env)->stat_xfer));
    memset(tcg_cpu(env)->stat_xfer_probe, 0, sizeof(tcg_cpu(env)->stat_xfer_probe));
    tcg_cpu(env)->stat_xlink_misses = 0;
    tcg_run_until_exit(env);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
}

/* The target page's code (at off, run at NPAGE): mov eax, v; ret (call)
 * or jmp back (jump). */
static void put_target(uint32_t off, uint32_t v, bool call, uint32_t back)
{
    PUT(off, 0xb8, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0);
    put32(off + 1, v);
    if (call)
        ram[off + 5] = 0xc3;
    else
        put32(off + 6, back - (NPAGE + 10));
}

/* MAIN: mov ecx, 10; loop: call NPAGE (or jmp NPAGE, which jumps back);
 * add edx, eax; cmp ecx, 6; jne skip; <change>; skip: dec ecx; jnz loop;
 * hlt. The change (at MAIN + 0x40, ending with a jmp to skip) makes NPAGE
 * run other code: 5 rounds return 1, 5 the other value. */
#define CHANGE 0x40
static void put_loop(bool call)
{
    PUT(MAIN, 0xb9, 10, 0, 0, 0,                                /* mov ecx, 10 */
        0xe8, 0, 0, 0, 0,                                       /* loop: call/jmp NPAGE */
        0x01, 0xc2,                                             /* back: add edx, eax */
        0x83, 0xf9, 0x06,                                       /* cmp ecx, 6 */
        0x0f, 0x84, 0, 0, 0, 0,                                 /* je CHANGE */
        0xff, 0xc9, 0x75, 0xec, 0xf4);                          /* skip: dec ecx; jnz loop; hlt */
    if (!call)
        ram[MAIN + 5] = 0xe9;
    test_put_rel32(MAIN + 6, MAIN + 10, NPAGE);
    test_put_rel32(MAIN + 17, MAIN + 21, MAIN + CHANGE);
}

static void put_change_end(uint32_t at)
{
    PUT(at, 0xe9, 0, 0, 0, 0);
    test_put_rel32(at + 1, at + 5, MAIN + 21);
}

/* x86_64: the lookups of a kind were counted, and at most max_slow of all
 * lookups took a site's miss path or the probe. */
static void check_sites_served(CPUX86State *env, bool interp, unsigned kind, uint64_t lookups, uint64_t max_slow)
{
    if (interp)
        return;
    TCGCPU *t = tcg_cpu(env);
    CHECK_EQ(t->stat_xfer[kind], lookups);
    uint64_t probed = 0;
    for (int k = 0; k < XFER_KINDS; k++)
        probed += t->stat_xfer_probe[k];
    CHECK(t->stat_xlink_misses + probed <= max_slow);
}

/* The PTE of NPAGE is rewritten to map ALT, then INVLPG. */
static void remap_invlpg(bool interp, bool call)
{
    CPUX86State *env = new_cpu(interp);
    address_space(CR3_A, NPAGE);
    put_loop(call);
    put_target(NPAGE, 1, call, MAIN + 10);
    put_target(ALT, 2, call, MAIN + 10);
    uint32_t c = MAIN + CHANGE;
    PUT(c, 0xc7, 0x04, 0x25, 0, 0, 0, 0, 0, 0, 0, 0,            /* mov dword [pte], ALT | 3 */
        0x0f, 0x01, 0x3c, 0x25, 0, 0, 0, 0);                    /* invlpg [NPAGE] */
    put32(c + 3, (uint32_t)(RAM_BASE + PTE_OF(CR3_A, NPAGE)));
    put32(c + 7, (uint32_t)(RAM_BASE + ALT) | 3);
    put32(c + 15, (uint32_t)(RAM_BASE + NPAGE));
    put_change_end(c + 19);
    test_paging_on(env, RAM_BASE + CR3_A);
    start(env, MAIN);
    CHECK_EQ(env->regs[R_EDX], 5 * 1 + 5 * 2);
    /* 20 lookups (there and back); the sites link on the second round
     * (the first translates) and again after the INVLPG */
    check_sites_served(env, interp, call ? XFER_DIRECT_CALL : XFER_DIRECT_JMP, call ? 10 : 20, 8);
    free_cpu(env);
}

TEST(xlink_call_remap_invlpg_interp) { remap_invlpg(true, true); }
TEST(xlink_call_remap_invlpg_x86_64) { remap_invlpg(false, true); }
TEST(xlink_jmp_remap_invlpg_interp) { remap_invlpg(true, false); }
TEST(xlink_jmp_remap_invlpg_x86_64) { remap_invlpg(false, false); }

/* A CR3 write to another address space, where NPAGE maps ALT. */
static void remap_cr3(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    address_space(CR3_A, NPAGE);
    address_space(CR3_B, ALT);
    put_loop(true);
    put_target(NPAGE, 1, true, 0);
    put_target(ALT, 2, true, 0);
    uint32_t c = MAIN + CHANGE;
    PUT(c, 0xb8, 0, 0, 0, 0, 0x0f, 0x22, 0xd8);                 /* mov eax, CR3_B; mov cr3, rax */
    put32(c + 1, (uint32_t)(RAM_BASE + CR3_B));
    put_change_end(c + 8);
    test_paging_on(env, RAM_BASE + CR3_A);
    start(env, MAIN);
    CHECK_EQ(env->regs[R_EDX], 5 * 1 + 5 * 2);
    check_sites_served(env, interp, XFER_DIRECT_CALL, 10, 8);
    free_cpu(env);
}

TEST(xlink_remap_cr3_interp) { remap_cr3(true); }
TEST(xlink_remap_cr3_x86_64) { remap_cr3(false); }

/* CR4.PCIDE: the loop switches between PCID 1 (NPAGE -> NPAGE) and PCID 2
 * (NPAGE -> ALT), keeping each one's entries (bit 63), and calls NPAGE from
 * one site: the link made in one space must not serve the other. */
static void pcid_switches(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    address_space(CR3_A, NPAGE);
    address_space(CR3_B, ALT);
    put_target(NPAGE, 1, true, 0);
    put_target(ALT, 2, true, 0);
    uint64_t a = RAM_BASE + CR3_A + 1 + (1ULL << 63), b = RAM_BASE + CR3_B + 2 + (1ULL << 63);
    PUT(MAIN, 0xb9, 40, 0, 0, 0,                                /* mov ecx, 40 */
        0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,                     /* loop: mov rax, A */
        0xf6, 0xc1, 0x01, 0x74, 0x0a,                           /* test cl, 1; jz 1f */
        0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,                     /* mov rax, B */
        0x0f, 0x22, 0xd8,                                       /* 1: mov cr3, rax */
        0xe8, 0, 0, 0, 0, 0x01, 0xc2,                           /* call NPAGE; add edx, eax */
        0xff, 0xc9, 0x75, 0xd9, 0xf4);                          /* dec ecx; jnz loop; hlt */
    memcpy(ram + MAIN + 7, &a, 8);
    memcpy(ram + MAIN + 22, &b, 8);
    test_put_rel32(MAIN + 34, MAIN + 38, NPAGE);
    env->cr[4] |= CR4_PCIDE;
    test_paging_on(env, RAM_BASE + CR3_A + 1);
    start(env, MAIN);
    CHECK_EQ(env->regs[R_EDX], 20 * (1 + 2));
    free_cpu(env);
}

TEST(xlink_pcid_switches_interp) { pcid_switches(true); }
TEST(xlink_pcid_switches_x86_64) { pcid_switches(false); }

/* The guest rewrites the target's immediate (self-modifying code): the
 * block the site links to is invalidated, the new code runs. */
static void target_rewritten(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    put_loop(true);
    put_target(NPAGE, 1, true, 0);
    uint32_t c = MAIN + CHANGE;
    PUT(c, 0xc7, 0x04, 0x25, 0, 0, 0, 0, 7, 0, 0, 0);           /* mov dword [NPAGE + 1], 7 */
    put32(c + 3, (uint32_t)(RAM_BASE + NPAGE + 1));
    put_change_end(c + 11);
    start(env, MAIN);
    CHECK_EQ(env->regs[R_EDX], 5 * 1 + 5 * 7);
    check_sites_served(env, interp, XFER_DIRECT_CALL, 10, 8);
    free_cpu(env);
}

TEST(xlink_target_rewritten_interp) { target_rewritten(true); }
TEST(xlink_target_rewritten_x86_64) { target_rewritten(false); }

/* An indirect call (call rax) to one target and then, from round 6, to
 * another page: the RIP check must send it to the new one. */
static void indirect_retarget(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    put_target(NPAGE, 1, true, 0);
    put_target(ALT, 2, true, 0);
    uint32_t n = (uint32_t)(RAM_BASE + NPAGE), alt = (uint32_t)(RAM_BASE + ALT);
    PUT(MAIN, 0xb9, 10, 0, 0, 0,                                /* mov ecx, 10 */
        0xbe, 0, 0, 0, 0,                                       /* mov esi, NPAGE */
        0xff, 0xd6, 0x01, 0xc2,                                 /* loop: call rsi; add edx, eax */
        0x83, 0xf9, 0x06, 0x75, 0x05,                           /* cmp ecx, 6; jne skip */
        0xbe, 0, 0, 0, 0,                                       /* mov esi, ALT */
        0xff, 0xc9, 0x75, 0xee, 0xf4);                          /* skip: dec ecx; jnz loop; hlt */
    put32(MAIN + 6, n);
    put32(MAIN + 20, alt);
    start(env, MAIN);
    CHECK_EQ(env->regs[R_EDX], 5 * 1 + 5 * 2);
    check_sites_served(env, interp, XFER_INDIRECT_CALL, 10, 8);
    free_cpu(env);
}

TEST(xlink_indirect_retarget_interp) { indirect_retarget(true); }
TEST(xlink_indirect_retarget_x86_64) { indirect_retarget(false); }

/* An indirect jump through a table of 8 targets on 8 pages, each jumping
 * back: the site gives up (the probe serves it) and every target runs. */
static void indirect_polymorphic(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    const uint32_t table = 0x9000;
    for (uint32_t k = 0; k < 8; k++) {
        uint32_t off = 0x10000 + k * 0x1000;
        PUT(off, 0x81, 0xc2, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0);      /* add edx, 1 << k; jmp back */
        put32(off + 2, 1u << k);
        test_put_rel32(off + 7, off + 11, MAIN + 17);
        st64(ram + table + 8 * k, RAM_BASE + off);
    }
    PUT(MAIN, 0xb9, 64, 0, 0, 0,                                /* mov ecx, 64 */
        0x89, 0xc8, 0x83, 0xe0, 0x07,                           /* loop: mov eax, ecx; and eax, 7 */
        0xff, 0x24, 0xc5, 0, 0, 0, 0,                           /* jmp [table + rax * 8] */
        0xff, 0xc9, 0x75, 0xf0, 0xf4);                          /* back: dec ecx; jnz loop; hlt */
    put32(MAIN + 13, (uint32_t)(RAM_BASE + table));
    start(env, MAIN);
    CHECK_EQ(env->regs[R_EDX], 8 * 255);
    if (!interp) {
        CHECK_EQ(tcg_cpu(env)->stat_xlink_mega, 1);
        CHECK_EQ(tcg_cpu(env)->stat_xfer[XFER_INDIRECT_JMP], 64);
    }
    free_cpu(env);
}

TEST(xlink_indirect_polymorphic_interp) { indirect_polymorphic(true); }
TEST(xlink_indirect_polymorphic_x86_64) { indirect_polymorphic(false); }

/* A function called from two places in turn: its RET's site holds both
 * return addresses (two ways), so no lookup after the first rounds misses. */
static void ret_two_callers(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    put_target(NPAGE, 1, true, 0);
    PUT(MAIN, 0xb9, 50, 0, 0, 0,                                /* mov ecx, 50 */
        0xe8, 0, 0, 0, 0, 0x01, 0xc2,                           /* loop: call NPAGE; add edx, eax */
        0xe8, 0, 0, 0, 0, 0x01, 0xc2,                           /* call NPAGE; add edx, eax */
        0xff, 0xc9, 0x75, 0xee, 0xf4);                          /* dec ecx; jnz loop; hlt */
    test_put_rel32(MAIN + 6, MAIN + 10, NPAGE);
    test_put_rel32(MAIN + 13, MAIN + 17, NPAGE);
    start(env, MAIN);
    CHECK_EQ(env->regs[R_EDX], 100);
    check_sites_served(env, interp, XFER_RET, 100, 8);
    if (!interp)
        CHECK_EQ(tcg_cpu(env)->stat_xlink_mega, 0);
    free_cpu(env);
}

TEST(xlink_ret_two_callers_interp) { ret_two_callers(true); }
TEST(xlink_ret_two_callers_x86_64) { ret_two_callers(false); }

/* Without sites (the default), -accel tcg,xfer-stats=on still counts the
 * lookups by kind: 100 cross-page CALLs, 100 RETs. */
TEST(xlink_off_counts_kinds_x86_64)
{
    CPUX86State *env = new_cpu(false);
    tcg_xfer_sites = false;
    put_target(NPAGE, 1, true, 0);
    PUT(MAIN, 0xb9, 50, 0, 0, 0,                                /* mov ecx, 50 */
        0xe8, 0, 0, 0, 0, 0x01, 0xc2,                           /* loop: call NPAGE; add edx, eax */
        0xe8, 0, 0, 0, 0, 0x01, 0xc2,                           /* call NPAGE; add edx, eax */
        0xff, 0xc9, 0x75, 0xee, 0xf4);                          /* dec ecx; jnz loop; hlt */
    test_put_rel32(MAIN + 6, MAIN + 10, NPAGE);
    test_put_rel32(MAIN + 13, MAIN + 17, NPAGE);
    start(env, MAIN);
    CHECK_EQ(env->regs[R_EDX], 100);
    TCGCPU *t = tcg_cpu(env);
    CHECK_EQ(t->stat_xfer[XFER_DIRECT_CALL], 100);
    CHECK_EQ(t->stat_xfer[XFER_RET], 100);
    CHECK_EQ(t->stat_xlink_misses, 0);
    CHECK_EQ(t->stat_xlink_links, 0);
    free_cpu(env);
}
