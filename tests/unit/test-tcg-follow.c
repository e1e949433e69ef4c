/* Translations that go on through direct JMPs and CALLs to a later address
 * on their page (cpu/x86/translate.c: gen_follow), on both backends: the
 * followed code runs in one block, a CALL still pushes its return address,
 * a fault in the followed part restores the exact RIP, registers and
 * flags, and a write to any followed byte invalidates the block. */
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
#define CODE 0x1000       /* offsets in RAM */
#define WRITER 0x3000
#define STACK_TOP (RAM_BASE + RAM_SIZE - 64)

static uint8_t *ram;

static CPUX86State *new_cpu(bool interp)
{
    ram = test_machine_ram(RAM_BASE, RAM_SIZE);
    memset(ram, 0xf4, 0x10000);   /* HLT wherever the code does not say otherwise */
    return test_cpu64_new(interp, 0);
}



static void run_at(CPUX86State *env, uint64_t rip)
{
    tb_flush(tcg_cpu(env));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESP] = STACK_TOP;
    cc_set_all(env, 0);
    env->eflags = 2;
    test_run_from(env, rip);
}

/* The block translated at pc (NULL if none). */
static TranslationBlock *block_at(CPUX86State *env, uint64_t pc)
{
    uint64_t rip = env->rip;
    env->rip = pc;
    atomic_store(&tcg_cpu(env)->exit_flag, 0);   /* else the lookup declines */
    TranslationBlock *tb = tb_lookup_fast(env);
    env->rip = rip;
    return tb && !tb->invalid ? tb : NULL;
}

/* inc eax; jmp J (over HLTs); J: inc ebx; call F (over HLTs); R: inc edx;
 * hlt. F: inc ecx; ret. The block from CODE runs through the JMP and the
 * CALL into F, up to its RET. */
enum { J = CODE + 0x20, F = CODE + 0x60, R = J + 7 };
static void put_jmp_call(void)
{
    PUT(CODE, 0xff, 0xc0, 0xeb, J - (CODE + 4));                     /* inc eax; jmp J */
    PUT(J, 0xff, 0xc3, 0xe8, F - R, 0, 0, 0, 0xff, 0xc2, 0xf4);       /* inc ebx; call F; inc edx; hlt */
    PUT(F, 0xff, 0xc1, 0xc3);                                          /* inc ecx; ret */
}

static void follows_jmp_and_call(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    put_jmp_call();
    run_at(env, RAM_BASE + CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EAX], 1);
    CHECK_EQ(env->regs[R_EBX], 1);
    CHECK_EQ(env->regs[R_ECX], 1);
    CHECK_EQ(env->regs[R_EDX], 1);
    CHECK_EQ(env->regs[R_ESP], STACK_TOP);
    CHECK_EQ(ld64(ram + (STACK_TOP - 8 - RAM_BASE)), RAM_BASE + R);   /* what the CALL pushed */
    CHECK_EQ(env->rip, RAM_BASE + R + 3);
    TranslationBlock *tb = block_at(env, RAM_BASE + CODE);
    CHECK(tb != NULL);
    if (tb) {
        CHECK_EQ(tb->nb_follow, 2);
        CHECK_EQ(tb->icount, 6);   /* inc, jmp, inc, call, inc, ret */
        CHECK_EQ(tb->size, F + 3 - CODE);
    }
    CHECK(block_at(env, RAM_BASE + J) == NULL);   /* never a block of its own */
    CHECK(block_at(env, RAM_BASE + F) == NULL);
    test_cpu_free(env);
}

TEST(follows_jmp_and_call_interp) { follows_jmp_and_call(true); }
TEST(follows_jmp_and_call_x86_64) { follows_jmp_and_call(false); }

/* -accel tcg,follow=jmp: the CALL ends the block; follow=off: the JMP too. */
static void follow_policies(bool interp)
{
    static const unsigned policy[] = { FOLLOW_JMP, FOLLOW_NONE };
    static const unsigned follows[] = { 1, 0 };
    unsigned saved_follow = x86_translate_follow;
    for (unsigned i = 0; i < 2; i++) {
        x86_translate_follow = policy[i];
        CPUX86State *env = new_cpu(interp);
        put_jmp_call();
        run_at(env, RAM_BASE + CODE);
        CHECK_EQ(env->regs[R_ECX], 1);
        CHECK_EQ(env->regs[R_EDX], 1);
        TranslationBlock *tb = block_at(env, RAM_BASE + CODE);
        CHECK(tb != NULL);
        if (tb)
            CHECK_EQ(tb->nb_follow, follows[i]);
        CHECK(block_at(env, RAM_BASE + F) != NULL);
        test_cpu_free(env);
    }
    x86_translate_follow = saved_follow;
}

TEST(follow_policies_interp) { follow_policies(true); }
TEST(follow_policies_x86_64) { follow_policies(false); }

/* Back edges and targets behind are not followed: a JMP back to the
 * block's start stays a loop, one before it an exit. */
static void no_follow_backwards(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    /* B: inc ecx; hlt. CODE: dec eax; jz OUT; jmp CODE ... OUT: jmp B */
    enum { B = CODE - 0x10, OUT = CODE + 0x10 };
    PUT(B, 0xff, 0xc1, 0xf4);
    PUT(CODE, 0xff, 0xc8, 0x74, OUT - (CODE + 4), 0xeb, (uint8_t)(CODE - (CODE + 6)));
    PUT(OUT, 0xeb, (uint8_t)(B - (OUT + 2)));
    run_at(env, RAM_BASE + 0);   /* hlt at 0: translate nothing yet */
    env->regs[R_EAX] = 5;
    test_run_from(env, RAM_BASE + CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 0);
    CHECK_EQ(env->regs[R_ECX], 1);
    CHECK_EQ(env->rip, RAM_BASE + B + 3);
    TranslationBlock *out = block_at(env, RAM_BASE + OUT);
    CHECK(out != NULL);
    if (out)
        CHECK_EQ(out->nb_follow, 0);
    test_cpu_free(env);
}

TEST(no_follow_backwards_interp) { no_follow_backwards(true); }
TEST(no_follow_backwards_x86_64) { no_follow_backwards(false); }

/* RAM mapped 1:1 by 4 KiB pages, except one page */
#define HOLE (RAM_BASE + 0x80000)
static void enable_paging(CPUX86State *env)
{
    test_enable_paging(env, HOLE);
}

/* A fault after a followed JMP and CALL: the RIP of the faulting
 * instruction in the callee, the registers and flags of the instructions
 * before it (in every run), the return address pushed, nothing after. */
static void fault_in_followed_code(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enum { T = CODE + 0x30, G = CODE + 0x80, RET = T + 7 };
    PUT(CODE, 0x01, 0xd8, 0xeb, T - (CODE + 4));             /* add eax, ebx; jmp T */
    PUT(T, 0xff, 0xc6, 0xe8, G - RET, 0, 0, 0, 0xf4);         /* inc esi; call G; hlt */
    PUT(G, 0x01, 0xd8,                                        /* add eax, ebx (carry) */
        0x48, 0x8b, 0x0a,                                     /* mov rcx, [rdx] (#PF) */
        0xff, 0xc7, 0xc3);                                    /* inc edi; ret */
    run_at(env, RAM_BASE + 0);
    enable_paging(env);
    for (int round = 0; round < 2; round++) {   /* translated, then cached */
        memset(env->regs, 0, sizeof(env->regs));
        env->regs[R_ESP] = STACK_TOP;
        env->regs[R_EAX] = 0xfffffffe;
        env->regs[R_EBX] = 1;
        env->regs[R_EDX] = HOLE + 8;
        cc_set_all(env, 0);
        test_run_from(env, RAM_BASE + CODE);
        CHECK_EQ(env->exception_index, EXCP_PF);
        CHECK_EQ(env->cr[2], HOLE + 8);
        CHECK_EQ(env->rip, RAM_BASE + G + 2);
        CHECK_EQ(env->regs[R_EAX], 0);
        CHECK_EQ(env->regs[R_ESI], 1);
        CHECK_EQ(env->regs[R_EDI], 0);
        CHECK_EQ(env->regs[R_ESP], STACK_TOP - 8);
        CHECK_EQ(ld64(ram + (STACK_TOP - 8 - RAM_BASE)), RAM_BASE + RET);
        uint32_t f = cc_compute_all(env);
        CHECK_EQ(f & CC_C, CC_C);   /* the second ADD carried into zero */
        CHECK_EQ(f & CC_Z, CC_Z);
    }
    TranslationBlock *tb = block_at(env, RAM_BASE + CODE);
    CHECK(tb != NULL);
    if (tb)
        CHECK_EQ(tb->nb_follow, 2);
    test_cpu_free(env);
}

TEST(fault_in_followed_code_interp) { fault_in_followed_code(true); }
TEST(fault_in_followed_code_x86_64) { fault_in_followed_code(false); }

/* The block rewrites an immediate in the code it followed to, before
 * running it: the new value is used. */
static void smc_in_running_followed_code(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enum { T = CODE + 0x40 };
    PUT(CODE, 0xc7, 0x03, 0x05, 0x00, 0x00, 0x00,   /* mov dword [rbx], 5 */
        0xeb, T - (CODE + 8));                       /* jmp T */
    PUT(T, 0x05, 0x01, 0x00, 0x00, 0x00, 0xf4);      /* add eax, 1; hlt */
    tb_flush(tcg_cpu(env));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESP] = STACK_TOP;
    env->regs[R_EBX] = RAM_BASE + T + 1;
    test_run_from(env, RAM_BASE + CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 5);
    CHECK(tcg_cpu(env)->ctx->stat_follow_jmp > 0);
    test_cpu_free(env);
}

TEST(smc_in_running_followed_code_interp) { smc_in_running_followed_code(true); }
TEST(smc_in_running_followed_code_x86_64) { smc_in_running_followed_code(false); }

/* Another block writes a byte of the followed part (once the page has a
 * code bitmap, so only writes to translated bytes invalidate): the
 * followed block runs the new code. */
static void smc_on_followed_part(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    enum { T = CODE + 0x40, DATA_NEAR = CODE + 0x800 };
    PUT(CODE, 0xff, 0xc1, 0xeb, T - (CODE + 4));    /* inc ecx; jmp T */
    PUT(T, 0x05, 0x01, 0x00, 0x00, 0x00, 0xf4);      /* add eax, 1; hlt */
    /* writer: mov dword [rbx], edx; hlt */
    PUT(WRITER, 0x89, 0x13, 0xf4);
    run_at(env, RAM_BASE + CODE);
    CHECK_EQ(env->regs[R_EAX], 1);
    TranslationBlock *tb = block_at(env, RAM_BASE + CODE);
    CHECK(tb != NULL);
    if (!tb) {
        test_cpu_free(env);
        return;
    }
    CHECK_EQ(tb->nb_follow, 1);
    /* data writes on the page make it keep a bitmap of its code bytes */
    for (int i = 0; i < 8; i++)
        tb_write_hits_code(t, RAM_BASE + DATA_NEAR, 4);
    CHECK(!tb_write_hits_code(t, RAM_BASE + DATA_NEAR, 4));
    CHECK(tb_write_hits_code(t, RAM_BASE + T + 1, 1));
    CHECK(tb_write_hits_code(t, RAM_BASE + T + 5, 1));   /* the HLT */
    CHECK(!tb_write_hits_code(t, RAM_BASE + T + 6, 1));
    /* the guest writes the followed ADD's immediate from another block */
    env->regs[R_EBX] = RAM_BASE + T + 1;
    env->regs[R_EDX] = 7;
    test_run_from(env, RAM_BASE + WRITER);
    CHECK(block_at(env, RAM_BASE + CODE) == NULL);
    test_run_from(env, RAM_BASE + CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 1 + 7);
    CHECK_EQ(env->regs[R_ECX], 2);
    test_cpu_free(env);
}

TEST(smc_on_followed_part_interp) { smc_on_followed_part(true); }
TEST(smc_on_followed_part_x86_64) { smc_on_followed_part(false); }

/* Single-stepping (TF) translates one instruction at a time: no following,
 * one #DB per instruction. */
static void single_step_no_follow(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    put_jmp_call();
    tb_flush(tcg_cpu(env));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESP] = STACK_TOP;
    cc_set_all(env, 0);
    env->eflags = 2 | TF_MASK;
    env->hflags |= HF_TF_MASK;
    uint64_t expect[] = { CODE + 2, J, J + 2, F, F + 2, R };
    for (unsigned i = 0; i < ARRAY_SIZE(expect); i++) {
        test_run_from(env, i ? env->rip : RAM_BASE + CODE);
        CHECK_EQ(env->exception_index, EXCP_DB);
        CHECK_EQ(env->rip, RAM_BASE + expect[i]);
    }
    CHECK_EQ(tcg_cpu(env)->ctx->stat_follow_jmp + tcg_cpu(env)->ctx->stat_follow_call, 0);
    test_cpu_free(env);
}

TEST(single_step_no_follow_interp) { single_step_no_follow(true); }
TEST(single_step_no_follow_x86_64) { single_step_no_follow(false); }

/* ---- conditional branches: the fall-through goes on, the taken way is a side exit */

/* A fault after a Jcc not taken: the exact RIP, and the flags of the CMP
 * before it (CF) with those of the INC after it. */
static void fault_after_jcc(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enum { T = CODE + 0x40 };
    PUT(CODE, 0x39, 0xd8,              /* cmp eax, ebx          */
        0x74, T - (CODE + 4),          /* jz T (not taken)      */
        0xff, 0xc6,                    /* inc esi               */
        0x48, 0x8b, 0x0a,              /* mov rcx, [rdx] (#PF)  */
        0xff, 0xc7, 0xf4);             /* inc edi; hlt          */
    run_at(env, RAM_BASE + 0);
    enable_paging(env);
    for (int round = 0; round < 2; round++) {
        memset(env->regs, 0, sizeof(env->regs));
        env->regs[R_ESP] = STACK_TOP;
        env->regs[R_EAX] = 1;
        env->regs[R_EBX] = 2;
        env->regs[R_EDX] = HOLE + 8;
        cc_set_all(env, 0);
        test_run_from(env, RAM_BASE + CODE);
        CHECK_EQ(env->exception_index, EXCP_PF);
        CHECK_EQ(env->rip, RAM_BASE + CODE + 6);
        CHECK_EQ(env->regs[R_ESI], 1);
        CHECK_EQ(env->regs[R_EDI], 0);
        uint32_t f = cc_compute_all(env);
        CHECK_EQ(f & CC_C, CC_C);   /* 1 - 2 borrowed; INC keeps CF */
        CHECK_EQ(f & CC_Z, 0);
    }
    CHECK(tcg_cpu(env)->ctx->stat_follow_jcc > 0);
    CHECK(block_at(env, RAM_BASE + CODE + 4) == NULL);   /* the fall-through is in CODE's block */
    test_cpu_free(env);
}

TEST(fault_after_jcc_interp) { fault_after_jcc(true); }
TEST(fault_after_jcc_x86_64) { fault_after_jcc(false); }

/* The side exit leaves the lazy flags of the CMP for the code it reaches. */
static void side_exit_keeps_flags(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enum { T = CODE + 0x20 };
    PUT(CODE, 0x39, 0xd8, 0x72, T - (CODE + 4), 0xff, 0xc6, 0xf4);   /* cmp eax, ebx; jb T; inc esi; hlt */
    PUT(T, 0x83, 0xd1, 0x00, 0xf4);                                   /* adc ecx, 0; hlt */
    for (int taken = 0; taken < 2; taken++) {
        tb_flush(tcg_cpu(env));
        memset(env->regs, 0, sizeof(env->regs));
        env->regs[R_ESP] = STACK_TOP;
        env->regs[R_EAX] = taken ? 1 : 3;
        env->regs[R_EBX] = 2;
        cc_set_all(env, 0);
        test_run_from(env, RAM_BASE + CODE);
        CHECK_EQ(env->exception_index, -1);
        CHECK_EQ(env->regs[R_ECX], (uint64_t)taken);
        CHECK_EQ(env->regs[R_ESI], (uint64_t)!taken);
        CHECK_EQ(env->rip, RAM_BASE + (taken ? T + 4 : CODE + 7));
    }
    test_cpu_free(env);
}

TEST(side_exit_keeps_flags_interp) { side_exit_keeps_flags(true); }
TEST(side_exit_keeps_flags_x86_64) { side_exit_keeps_flags(false); }

/* A block with two side exits and a last Jcc uses all four goto_tb slots:
 * 300 trips through it, each way chained, count the right paths (with and
 * without the loop becoming a region). */
static void four_way_block(bool interp, unsigned trips)
{
    CPUX86State *env = new_cpu(interp);
    enum { A = CODE + 0x20, B = CODE + 0x30, C = CODE + 0x40, NEXT = CODE + 0x50 };
    PUT(CODE, 0xf6, 0xc1, 0x01, 0x75, A - (CODE + 5),          /* test cl, 1; jnz A */
        0xf6, 0xc1, 0x02, 0x75, B - (CODE + 10),               /* test cl, 2; jnz B */
        0xf6, 0xc1, 0x04, 0x75, C - (CODE + 15),               /* test cl, 4; jnz C */
        0xff, 0xc2, 0xeb, NEXT - (CODE + 19));                 /* inc edx; jmp NEXT */
    PUT(A, 0x83, 0xc0, 0x01, 0xeb, NEXT - (A + 5));            /* add eax, 1; jmp NEXT */
    PUT(B, 0x83, 0xc3, 0x01, 0xeb, NEXT - (B + 5));
    PUT(C, 0x83, 0xc6, 0x01, 0xeb, NEXT - (C + 5));
    PUT(NEXT, 0xff, 0xc9, 0x75, (uint8_t)(CODE - (NEXT + 4)), 0xf4);   /* dec ecx; jnz L; hlt */
    unsigned saved = tcg_region_trips;
    tcg_region_trips = trips;
    const unsigned n = 300;
    uint32_t a = 0, b = 0, c = 0, d = 0;
    for (unsigned i = n; i > 0; i--) {
        if (i & 1)
            a++;
        else if (i & 2)
            b++;
        else if (i & 4)
            c++;
        else
            d++;
    }
    tb_flush(tcg_cpu(env));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESP] = STACK_TOP;
    env->regs[R_ECX] = n;
    test_run_from(env, RAM_BASE + CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->rip, RAM_BASE + NEXT + 5);
    CHECK_EQ(env->regs[R_EAX], a);
    CHECK_EQ(env->regs[R_EBX], b);
    CHECK_EQ(env->regs[R_ESI], c);
    CHECK_EQ(env->regs[R_EDX], d);
    CHECK(tcg_cpu(env)->ctx->stat_follow_jcc >= 2);
    TranslationBlock *tb = block_at(env, RAM_BASE + CODE);
    if (trips > n) {   /* still the plain block: every way chained */
        CHECK(tb != NULL);
        for (int k = 0; tb && k < TB_MAX_JMPS; k++)
            CHECK(tb->jmp_target[k] != NULL);
    }
    tcg_region_trips = saved;
    test_cpu_free(env);
}

TEST(four_way_block_interp) { four_way_block(true, 64); four_way_block(true, 60000); }
TEST(four_way_block_x86_64) { four_way_block(false, 64); four_way_block(false, 60000); }
