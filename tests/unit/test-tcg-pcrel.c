/* PC-relative translation blocks (64-bit user code): the same physical code
 * mapped at two virtual addresses is translated once and runs right at both
 * (RIP-relative operands, CALL return addresses, faults report the virtual
 * RIP); a store into the shared physical page invalidates both. */
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
#define CODE_PHYS (RAM_BASE + 0x6000)      /* the shared code page */
#define WRITER_PHYS (RAM_BASE + 0x7000)
#define V1 (RAM_BASE + 0xc0000)            /* two user mappings of CODE_PHYS */
#define V2 (RAM_BASE + 0xd0000)
#define V_WRITER (RAM_BASE + 0xe0000)
#define HOLE (RAM_BASE + 0x80000)          /* not mapped */
#define STACK_TOP (RAM_BASE + RAM_SIZE - 64)
#define DATA (RAM_BASE + 0x9000)

static uint8_t *ram;

static void setup_machine(void)
{
    ram = test_machine_ram(RAM_BASE, RAM_SIZE);
}

/* User-accessible 4-level tables: RAM 1:1 except HOLE, V1 and V2 -> the
 * code page, V_WRITER -> the writer's page. */
static void map_pages(CPUX86State *env)
{
    uint64_t pml4 = 0xf0000, pdpt = 0xf1000, pd = 0xf2000, pt = 0xf3000;
    memset(ram + pml4, 0, 0x4000);
    st64(ram + pml4, (RAM_BASE + pdpt) | 7);
    st64(ram + pdpt, (RAM_BASE + pd) | 7);
    st64(ram + pd + 8 * (RAM_BASE >> 21), (RAM_BASE + pt) | 7);
    for (int i = 0; i < 256; i++) {
        uint64_t va = RAM_BASE + 4096ULL * i, pa = va;
        if (va == HOLE)
            continue;
        if (va == V1 || va == V2)
            pa = CODE_PHYS;
        else if (va == V_WRITER)
            pa = WRITER_PHYS;
        st64(ram + pt + 8 * i, pa | 7);
    }
    env->cr[3] = RAM_BASE + pml4;
}

/* A 64-bit CPU at CPL 3 with paging on. */
static CPUX86State *new_user_cpu(bool interp)
{
    setup_machine();
    CPUX86State *env = test_cpu64_new(interp, 3);
    env->cr[0] |= CR0_PG;
    env->hflags |= HF_PG_MASK;
    map_pages(env);
    tlb_flush(env);
    return env;
}

/* Run from rip until the CPU stops (an exception here: HLT at CPL 3 is #GP). */
static void run_from(CPUX86State *env, uint64_t rip, uint64_t rsi)
{
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESP] = STACK_TOP;
    env->regs[R_ESI] = rsi;
    env->rip = rip;
    env->halted = false;
    env->exception_index = -1;
    cc_set_all(env, 0);
    env->eflags = 2;
    tcg_run_until_exit(env);
}

/* The shared code: RIP-relative LEA and load, CALL's return address, an
 * immediate the writer changes, a load through RSI that can fault. */
enum { OFF_AFTER_LEA = 7, OFF_RET = 12, OFF_IMM = 14, OFF_LOAD_RSI = 18, OFF_HLT = 27, OFF_DATA = 36 };
static const uint8_t shared_code[] = {
    0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00,   /*  0: lea rax, [rip]        */
    0xe8, 0x00, 0x00, 0x00, 0x00,               /*  7: call 12               */
    0x5b,                                       /* 12: pop rbx               */
    0xba, 0x11, 0x11, 0x11, 0x11,               /* 13: mov edx, 0x11111111   */
    0x48, 0x8b, 0x36,                           /* 18: mov rsi, [rsi]        */
    0x8b, 0x0d, 0x09, 0x00, 0x00, 0x00,         /* 21: mov ecx, [rip + 9]    */
    0xf4,                                       /* 27: hlt (#GP at CPL 3)    */
    0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    0xef, 0xbe, 0xad, 0xde,                     /* 36: data                  */
};

static void check_run(CPUX86State *env, uint64_t base, uint32_t edx)
{
    run_from(env, base, DATA);
    CHECK_EQ(env->exception_index, EXCP_GP);
    CHECK_EQ(env->rip, base + OFF_HLT);
    CHECK_EQ(env->regs[R_EAX], base + OFF_AFTER_LEA);
    CHECK_EQ(env->regs[R_EBX], base + OFF_RET);
    CHECK_EQ(env->regs[R_ECX], 0xdeadbeef);
    CHECK_EQ(env->regs[R_EDX], edx);
    CHECK_EQ(env->regs[R_ESI], 0x1234);
}

static void shared_code_at_two_addresses(bool interp)
{
    CPUX86State *env = new_user_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    memcpy(ram + (CODE_PHYS - RAM_BASE), shared_code, sizeof(shared_code));
    st64(ram + (DATA - RAM_BASE), 0x1234);
    /* writer: mov rdi, V1 + OFF_IMM; mov byte [rdi], 0x22; hlt */
    uint8_t writer[] = { 0x48, 0xbf, 0, 0, 0, 0, 0, 0, 0, 0, 0xc6, 0x07, 0x22, 0xf4 };
    uint64_t imm_at = V1 + OFF_IMM;
    memcpy(writer + 2, &imm_at, 8);
    memcpy(ram + (WRITER_PHYS - RAM_BASE), writer, sizeof(writer));

    check_run(env, V1, 0x11111111);
    uint64_t translated = t->stat_translated, shared = t->stat_shared;
    check_run(env, V2, 0x11111111);
    CHECK_EQ(t->stat_translated, translated);   /* V2 reused V1's translations */
    CHECK(t->stat_shared > shared);
    check_run(env, V1, 0x11111111);              /* and V1 still runs its own */
    CHECK_EQ(t->stat_translated, translated);

    /* A fault inside a shared block: the virtual RIP of this mapping, the
     * instructions before it done. */
    run_from(env, V2, HOLE + 8);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE + 8);
    CHECK_EQ(env->rip, V2 + OFF_LOAD_RSI);
    CHECK_EQ(env->regs[R_EBX], V2 + OFF_RET);
    CHECK_EQ(env->regs[R_EDX], 0x11111111);
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(t->stat_translated, translated);

    /* Self-modifying code through one mapping: both see the new immediate. */
    run_from(env, V_WRITER, DATA);
    CHECK_EQ(env->exception_index, EXCP_GP);
    CHECK_EQ(env->rip, V_WRITER + 13);
    CHECK_EQ(ram[CODE_PHYS - RAM_BASE + OFF_IMM], 0x22);
    check_run(env, V2, 0x11111122);
    check_run(env, V1, 0x11111122);
    tcg_cpu_destroy(env);
    free(env);
}

/* Shared code whose direct CALL goes to another page: the translation
 * knows the target RIP only for the address it was translated at (the
 * backend looks that one up first); at the other mapping the CALL goes to
 * that mapping's next page, with other code. */
static void direct_call_to_other_page(bool interp)
{
    CPUX86State *env = new_user_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    static const uint8_t caller[] = { 0xe8, 0xfb, 0x0f, 0, 0, 0xf4 };   /* call +0x1000; hlt */
    memcpy(ram + (CODE_PHYS - RAM_BASE), caller, sizeof(caller));
    memcpy(ram + (V1 + 0x1000 - RAM_BASE), (uint8_t[]){ 0xb8, 1, 0, 0, 0, 0xc3 }, 6);   /* mov eax, 1; ret */
    memcpy(ram + (V2 + 0x1000 - RAM_BASE), (uint8_t[]){ 0xb8, 2, 0, 0, 0, 0xc3 }, 6);   /* mov eax, 2; ret */
    for (int i = 0; i < 3; i++) {
        for (uint64_t base = V1; base <= V2; base += V2 - V1) {
            run_from(env, base, 0);
            CHECK_EQ(env->exception_index, EXCP_GP);
            CHECK_EQ(env->rip, base + 5);
            CHECK_EQ(env->regs[R_EAX], (uint64_t)(base == V1 ? 1 : 2));
        }
    }
    if (!interp)
        CHECK(t->stat_shared > 0);
    tcg_cpu_destroy(env);
    free(env);
}

TEST(pcrel_direct_call_to_other_page_interp) { direct_call_to_other_page(true); }
TEST(pcrel_direct_call_to_other_page_x86_64) { direct_call_to_other_page(false); }

TEST(pcrel_shared_code_interp) { shared_code_at_two_addresses(true); }
TEST(pcrel_shared_code_x86_64) { shared_code_at_two_addresses(false); }

/* A shared block that went on through a JMP over a gap, a CALL and a JZ
 * (not taken, then taken): RIP-relative values, the CALL's return address
 * and the JZ's side exit right at either mapping, one translation. */
#define FOLLOW_OFF 0x200
static void followed_code_at_two_addresses(bool interp)
{
    CPUX86State *env = new_user_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    static const uint8_t code[] = {
        0xeb, 0x10,                                 /*  0: jmp 18              */
        [18] = 0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00,   /* 18: lea rax, [rip] */
        0xe8, 0x10, 0x00, 0x00, 0x00,               /* 25: call 46             */
        0x85, 0xf6,                                 /* 30: test esi, esi       */
        0x74, 0x01,                                 /* 32: jz 35               */
        0xf4,                                       /* 34: hlt (#GP)           */
        0x48, 0x8d, 0x15, 0x00, 0x00, 0x00, 0x00,   /* 35: lea rdx, [rip]      */
        0xf4,                                       /* 42: hlt (#GP)           */
        [46] = 0x5b, 0x53, 0xc3,                    /* 46: pop rbx; push rbx; ret */
    };
    memcpy(ram + (CODE_PHYS - RAM_BASE) + FOLLOW_OFF, code, sizeof(code));
    uint64_t translated = 0;
    for (int round = 0; round < 4; round++) {
        uint64_t base = (round & 1 ? V2 : V1) + FOLLOW_OFF;
        uint64_t rsi = round < 2 ? 1 : 0;   /* JZ not taken, then taken */
        run_from(env, base, rsi);
        CHECK_EQ(env->exception_index, EXCP_GP);
        CHECK_EQ(env->regs[R_EAX], base + 25);
        CHECK_EQ(env->regs[R_EBX], base + 30);
        CHECK_EQ(env->regs[R_ESP], STACK_TOP);
        CHECK_EQ(env->rip, base + (rsi ? 34 : 42));
        CHECK_EQ(env->regs[R_EDX], rsi ? 0 : base + 42);
        if (round == 0)
            translated = t->stat_translated;
        else if (round == 1)
            CHECK_EQ(t->stat_translated, translated);   /* V2 reused V1's */
    }
    CHECK(t->ctx->stat_follow_jmp > 0);
    tcg_cpu_destroy(env);
    free(env);
}

TEST(pcrel_followed_code_interp) { followed_code_at_two_addresses(true); }
TEST(pcrel_followed_code_x86_64) { followed_code_at_two_addresses(false); }

/* Kernel code (CPL 0) keeps absolute PCs: the same physical code at another
 * address is translated again. */
static void kernel_code_not_shared(bool interp)
{
    CPUX86State *env = new_user_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    env->hflags &= ~(uint32_t)HF_CPL_MASK;
    env->segs[R_CS].selector = 0x10;
    memcpy(ram + (CODE_PHYS - RAM_BASE), shared_code, sizeof(shared_code));
    st64(ram + (DATA - RAM_BASE), 0x1234);
    run_from(env, V1, DATA);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EAX], V1 + OFF_AFTER_LEA);
    uint64_t translated = t->stat_translated;
    run_from(env, V2, DATA);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EAX], V2 + OFF_AFTER_LEA);
    CHECK_EQ(env->regs[R_EBX], V2 + OFF_RET);
    CHECK(t->stat_translated > translated);
    CHECK_EQ(t->stat_shared, 0);
    tcg_cpu_destroy(env);
    free(env);
}

TEST(kernel_code_not_shared_interp) { kernel_code_not_shared(true); }
TEST(kernel_code_not_shared_x86_64) { kernel_code_not_shared(false); }

/* A self-looping block in shared code: registers kept in host registers
 * around the back edge, RIP-relative values and faults right at either
 * mapping. */
#define LOOP_OFF 0x100
static void loop_in_shared_code(bool interp)
{
    CPUX86State *env = new_user_cpu(interp);
    static const uint8_t code[] = {
        0x03, 0x06,                                 /*  0: L: add eax, [rsi]  */
        0x48, 0x8d, 0x0d, 0x00, 0x00, 0x00, 0x00,   /*  2: lea rcx, [rip]     */
        0x48, 0x83, 0xc6, 0x08,                     /*  9: add rsi, 8         */
        0xff, 0xca,                                 /* 13: dec edx            */
        0x75, 0xef,                                 /* 15: jnz L              */
        0xf4,                                       /* 17: hlt (#GP)          */
    };
    memcpy(ram + (CODE_PHYS - RAM_BASE) + LOOP_OFF, code, sizeof(code));
    const unsigned k = 50;
    for (unsigned i = 0; i < k; i++) {
        st32(ram + (DATA - RAM_BASE) + 8 * i, i + 1);
        st32(ram + (HOLE - RAM_BASE) - 8 * (k - i), i + 1);
    }
    for (int m = 0; m < 2; m++) {
        uint64_t base = (m ? V2 : V1) + LOOP_OFF;
        memset(env->regs, 0, sizeof(env->regs));
        run_from(env, base, DATA);   /* clears the registers: EDX = 0 counts 2^32 */
        CHECK_EQ(env->exception_index, EXCP_PF);
        CHECK_EQ(env->rip, base);
        CHECK_EQ(env->regs[R_ECX], base + 9);

        env->regs[R_EDX] = k;
        env->regs[R_EAX] = 0;
        env->regs[R_ESI] = DATA;
        env->rip = base;
        env->exception_index = -1;
        tcg_run_until_exit(env);
        CHECK_EQ(env->exception_index, EXCP_GP);
        CHECK_EQ(env->rip, base + 17);
        CHECK_EQ(env->regs[R_EAX], k * (k + 1) / 2);

        env->regs[R_EDX] = 1000;
        env->regs[R_EAX] = 0;
        env->regs[R_ESI] = HOLE - 8 * k;
        env->regs[R_ECX] = 0;
        env->rip = base;
        env->exception_index = -1;
        tcg_run_until_exit(env);
        CHECK_EQ(env->exception_index, EXCP_PF);
        CHECK_EQ(env->cr[2], HOLE);
        CHECK_EQ(env->rip, base);
        CHECK_EQ(env->regs[R_EAX], k * (k + 1) / 2);
        CHECK_EQ(env->regs[R_EDX], 1000 - k);
        CHECK_EQ(env->regs[R_ECX], base + 9);
    }
    tcg_cpu_destroy(env);
    free(env);
}

/* Blocks of shared code chained to each other (forward, then back to a
 * block before): chained entries keep the page base of the mapping they
 * run at, so RIP-relative values and a fault's RIP are those of the
 * mapping, on first runs (unchained) and later ones (chained). */
#define CHAIN_OFF 0x300
static void chained_shared_blocks(bool interp)
{
    CPUX86State *env = new_user_cpu(interp);
    static const uint8_t code[] = {
        0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00,   /*  0: lea rax, [rip]     */
        0xeb, 0x0f,                                 /*  7: jmp 24 (C)         */
        0x48, 0x8d, 0x15, 0x00, 0x00, 0x00, 0x00,   /*  9: B: lea rdx, [rip]  */
        0x48, 0x8b, 0x36,                           /* 16: mov rsi, [rsi]     */
        0xf4,                                       /* 19: hlt (#GP)          */
        0x90, 0x90, 0x90, 0x90,
        0x48, 0x8d, 0x0d, 0x00, 0x00, 0x00, 0x00,   /* 24: C: lea rcx, [rip]  */
        0xeb, 0xe8,                                 /* 31: jmp 9 (B)          */
    };
    memcpy(ram + (CODE_PHYS - RAM_BASE) + CHAIN_OFF, code, sizeof(code));
    st64(ram + (DATA - RAM_BASE), 0x1234);
    x86_translate_loops = false;   /* blocks, not one region */
    for (int i = 0; i < 6; i++) {
        uint64_t base = (i == 2 || i == 3 || i == 5 ? V2 : V1) + CHAIN_OFF;
        bool fault = i >= 4;
        run_from(env, base, fault ? HOLE : DATA);
        CHECK_EQ(env->exception_index, fault ? EXCP_PF : EXCP_GP);
        CHECK_EQ(env->rip, base + (fault ? 16 : 19));
        CHECK_EQ(env->regs[R_EAX], base + 7);
        CHECK_EQ(env->regs[R_ECX], base + 31);
        CHECK_EQ(env->regs[R_EDX], base + 16);
        CHECK_EQ(env->regs[R_ESI], fault ? HOLE : 0x1234);
    }
    x86_translate_loops = true;
    tcg_cpu_destroy(env);
    free(env);
}

TEST(pcrel_chained_blocks_interp) { chained_shared_blocks(true); }
TEST(pcrel_chained_blocks_x86_64) { chained_shared_blocks(false); }

TEST(pcrel_loop_interp) { loop_in_shared_code(true); }
TEST(pcrel_loop_x86_64) { loop_in_shared_code(false); }

/* A shared block's direct jump to a block on two pages (which it may not
 * chain to: another mapping of its page may have another page after it)
 * goes through the jump cache, not back to the loop at every pass; and
 * when the second page is mapped elsewhere, the jump finds the new code. */
#define TWO_PAGE_OFF 0xf00
#define OTHER_SECOND_PAGE (RAM_BASE + 0xa000)
static void jump_to_two_page_block(bool interp)
{
    CPUX86State *env = new_user_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    uint8_t *page = ram + (CODE_PHYS - RAM_BASE);
    static const uint8_t head[] = {
        0xb9, 0xc8, 0x00, 0x00, 0x00,               /* f00: mov ecx, 200      */
        0x85, 0xc9,                                 /* f05: test ecx, ecx     */
        0x0f, 0x85, 0xef, 0x00, 0x00, 0x00,         /* f07: jnz ffc           */
        0xf4,                                       /* f0d: hlt (#GP)         */
    };
    /* ffc: dec ecx; ffe: mov edx, imm32 (on both pages); 1003: jmp f05 */
    static const uint8_t tail[] = { 0xff, 0xc9, 0xba, 0x34 };
    static const uint8_t second1[] = { 0x00, 0x00, 0x00, 0xe9, 0xfd, 0xfe, 0xff, 0xff };
    static const uint8_t second2[] = { 0x12, 0x00, 0x00, 0xe9, 0xfd, 0xfe, 0xff, 0xff };
    memcpy(page + TWO_PAGE_OFF, head, sizeof(head));
    memcpy(page + 0xffc, tail, sizeof(tail));
    memcpy(ram + (V1 + 0x1000 - RAM_BASE), second1, sizeof(second1));
    memcpy(ram + (OTHER_SECOND_PAGE - RAM_BASE), second2, sizeof(second2));

    uint64_t passes = t->stat_loop_passes;
    run_from(env, V1 + TWO_PAGE_OFF, 0);
    CHECK_EQ(env->exception_index, EXCP_GP);
    CHECK_EQ(env->rip, V1 + 0xf0d);
    CHECK_EQ(env->regs[R_EDX], 0x34);
    if (!interp)
        CHECK(t->stat_loop_passes - passes < 50);   /* not one per pass */

    /* the page after V1's: now the other one */
    uint64_t pt = 0xf3000;
    st64(ram + pt + 8 * ((V1 + 0x1000 - RAM_BASE) >> 12), OTHER_SECOND_PAGE | 7);
    tlb_flush_page(env, V1 + 0x1000);
    run_from(env, V1 + TWO_PAGE_OFF, 0);
    CHECK_EQ(env->exception_index, EXCP_GP);
    CHECK_EQ(env->rip, V1 + 0xf0d);
    CHECK_EQ(env->regs[R_EDX], 0x1234);
    tcg_cpu_destroy(env);
    free(env);
}

TEST(pcrel_jump_to_two_page_block_interp) { jump_to_two_page_block(true); }
TEST(pcrel_jump_to_two_page_block_x86_64) { jump_to_two_page_block(false); }

/* PC-relative blocks chain past their set-up (backward) and past the exit
 * check too (forward): when a store invalidates B alone, the jumps from A
 * (forward) and C (backward), both still valid, must leave for the loop
 * with B's virtual RIP and find its new code. */
#define WRITER_OFF 0x800
static void chained_into_invalidated_shared_block(bool interp)
{
    unsigned saved_follow = x86_translate_follow;
    x86_translate_follow = FOLLOW_NONE;   /* A, B and C stay apart */
    CPUX86State *env = new_user_cpu(interp);
    uint8_t *page = ram + (CODE_PHYS - RAM_BASE);
    static const uint8_t a[] = { 0xff, 0xc0, 0xe9, 0, 0, 0, 0 };   /* A: inc eax; jmp B */
    static const uint8_t b[] = { 0xba, 0x11, 0, 0, 0, 0xf4 };      /* B: mov edx, 0x11; hlt (#GP) */
    static const uint8_t c[] = { 0xff, 0xc1, 0xe9, 0, 0, 0, 0 };   /* C: inc ecx; jmp B */
    static const uint8_t writer[] = { 0x88, 0x0b, 0xf4 };           /* mov [rbx], cl; hlt */
    uint32_t pa = 0x10, pb = 0x200, pc = 0x400;
    memcpy(page + pa, a, sizeof(a));
    int32_t rel = (int32_t)(pb - (pa + 7));
    memcpy(page + pa + 3, &rel, 4);
    memcpy(page + pb, b, sizeof(b));
    memcpy(page + pc, c, sizeof(c));
    rel = (int32_t)(pb - (pc + 7));
    memcpy(page + pc + 3, &rel, 4);
    memcpy(ram + (WRITER_PHYS - RAM_BASE) + WRITER_OFF, writer, sizeof(writer));
    for (int i = 0; i < 3; i++) {   /* chained from the second run on */
        run_from(env, V1 + pa, 0);
        CHECK_EQ(env->exception_index, EXCP_GP);
        CHECK_EQ(env->regs[R_EDX], 0x11);
        run_from(env, V1 + pc, 0);
        CHECK_EQ(env->regs[R_EDX], 0x11);
    }
    static const uint8_t values[2] = { 0x33, 0x44 };
    for (int i = 0; i < 2; i++) {
        memset(env->regs, 0, sizeof(env->regs));
        env->regs[R_EBX] = V1 + pb + 1;
        env->regs[R_ECX] = values[i];
        env->regs[R_ESP] = STACK_TOP;
        env->rip = V_WRITER + WRITER_OFF;
        env->exception_index = -1;
        tcg_run_until_exit(env);
        CHECK_EQ(env->rip, V_WRITER + WRITER_OFF + 2);   /* at the HLT: #GP */
        CHECK_EQ(page[pb + 1], values[i]);
        run_from(env, i == 0 ? V1 + pa : V1 + pc, 0);
        CHECK_EQ(env->exception_index, EXCP_GP);
        CHECK_EQ(env->rip, V1 + pb + 5);
        CHECK_EQ(env->regs[R_EDX], values[i]);
    }
    tcg_cpu_destroy(env);
    free(env);
    x86_translate_follow = saved_follow;
}

TEST(pcrel_chained_into_invalidated_interp) { chained_into_invalidated_shared_block(true); }
TEST(pcrel_chained_into_invalidated_x86_64) { chained_into_invalidated_shared_block(false); }
