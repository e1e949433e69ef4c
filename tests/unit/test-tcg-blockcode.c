/* Code for ordinary blocks, guest programs on both backends: a byte or word
 * CMP then Jcc compares the CMP's own (zero-extended) operands, so the
 * x86-64 backend reuses the subtraction's flags; SETcc into a low byte
 * register becomes a setcc on that register; the cc_op store before a
 * followed Jcc moves onto the side exit when the fall-through sets another
 * cc_op first. Each runs the guest code, checks what hardware would leave,
 * and (x86-64) that the shorter form was taken. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "harness.h"
#include "harness-machine.h"

#define RAM_BASE 0x10000000ULL
#define RAM_SIZE (1ULL << 20)
#define CODE 0x1000       /* offsets in RAM */
#define DATA 0x8000
#define STACK_TOP (RAM_BASE + RAM_SIZE - 64)
#define HOLE (RAM_BASE + 0x80000)   /* not mapped once paging is on */

static uint8_t *ram;

static CPUX86State *new_cpu(bool interp)
{
    ram = test_machine_ram(RAM_BASE, RAM_SIZE);
    memset(ram, 0xf4, 0x10000);   /* HLT wherever the code does not say otherwise */
    return test_cpu64_new(interp, 0);
}

/* Registers from regs (RSP set), flags clear, run from CODE until HLT. */
static void run(CPUX86State *env, const uint64_t *regs)
{
    memcpy(env->regs, regs, sizeof(env->regs));
    env->regs[R_ESP] = STACK_TOP;
    cc_set_all(env, 0);
    env->eflags = 2;
    test_run_from(env, RAM_BASE + CODE);
}

/* ---- byte and word CMP, then Jcc ---------------------------------------------- */
/* cmp byte [rsi], r14b; jne N; cmp r15w, [rsi + 2]; jbe N; mov eax, 1; hlt;
 * N: mov eax, 2; hlt. The registers' upper bits differ from the memory's. */
static void put_narrow_cmp(void)
{
    enum { N = CODE + 0x40 };
    PUT(CODE, 0x44, 0x38, 0x36,                    /* cmp [rsi], r14b */
        0x75, N - (CODE + 5),                      /* jne N */
        0x66, 0x44, 0x3b, 0x7e, 0x02,              /* cmp r15w, [rsi + 2] */
        0x76, N - (CODE + 12),                     /* jbe N */
        0xb8, 1, 0, 0, 0, 0xf4);                   /* mov eax, 1; hlt */
    PUT(N, 0xb8, 2, 0, 0, 0, 0xf4);                /* N: mov eax, 2; hlt */
}

static void narrow_cmp_case(CPUX86State *env, uint64_t r14, uint64_t r15, uint8_t m0, uint16_t m2, uint64_t want)
{
    uint64_t regs[16] = { 0 };
    regs[R_ESI] = RAM_BASE + DATA;
    regs[14] = r14;
    regs[15] = r15;
    ram[DATA] = m0;
    memcpy(ram + DATA + 2, &m2, 2);
    tb_flush(tcg_cpu(env));
    run(env, regs);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], want);
}

static void narrow_cmp(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    put_narrow_cmp();
    uint64_t before = tcg_cpu(env)->ctx->stat_flags_reused;
    narrow_cmp_case(env, 0x1ff, 0xffff0100, 0xff, 0x00ff, 1);   /* equal bytes; 0x100 > 0xff */
    narrow_cmp_case(env, 0x1fe, 0xffff0100, 0xff, 0x00ff, 2);   /* bytes differ */
    narrow_cmp_case(env, 0x7f, 0x100ff, 0x7f, 0x00ff, 2);       /* equal words: jbe taken */
    narrow_cmp_case(env, 0x80, 0x10000, 0x80, 0xffff, 2);       /* 0 below 0xffff */
    narrow_cmp_case(env, 0x180, 0x1fffe, 0x80, 0x8000, 1);      /* 0xfffe above 0x8000 */
    if (!interp)   /* the compares of both Jccs, in every run */
        CHECK_EQ(tcg_cpu(env)->ctx->stat_flags_reused - before, 2 * 5);
    test_cpu_free(env);
}

TEST(narrow_cmp_jcc_interp) { narrow_cmp(true); }
TEST(narrow_cmp_jcc_x86_64) { narrow_cmp(false); }

/* ---- SETcc into a low byte register ---------------------------------------------- */
/* test ecx, ecx; sete dil; cmp edx, r10d; setae r8b; setb ah; or dil, r8b; hlt */
static void setcc_into_byte(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    PUT(CODE, 0x85, 0xc9,                          /* test ecx, ecx */
        0x40, 0x0f, 0x94, 0xc7,                    /* sete dil */
        0x44, 0x39, 0xd2,                          /* cmp edx, r10d */
        0x41, 0x0f, 0x93, 0xc0,                    /* setae r8b */
        0x0f, 0x92, 0xc4,                          /* setb ah (a high byte: not this form) */
        0x44, 0x08, 0xc7,                          /* or dil, r8b */
        0xf4);
    uint64_t before = tcg_cpu(env)->ctx->stat_setcc_into_byte;
    static const struct { uint64_t rcx, rdx, r10, rdi, want_rdi, want_r8, want_rax; } cases[] = {
        { 0, 5, 3, 0x1234567890abcdffULL, 0x1234567890abcd01ULL, 0x8877665544332201ULL, 0xaaaaaaaaaaaa00aaULL },
        { 7, 3, 5, 0xffffffffffffff01ULL, 0xffffffffffffff00ULL, 0x8877665544332200ULL, 0xaaaaaaaaaaaa01aaULL },
        { 0x100000000ULL, 5, 5, 0, 0x01, 0x8877665544332201ULL, 0xaaaaaaaaaaaa00aaULL },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t regs[16] = { 0 };
        regs[R_EAX] = 0xaaaaaaaaaaaaaaaaULL;
        regs[R_ECX] = cases[i].rcx;
        regs[R_EDX] = cases[i].rdx;
        regs[10] = cases[i].r10;
        regs[R_EDI] = cases[i].rdi;
        regs[8] = 0x88776655443322ffULL;
        tb_flush(tcg_cpu(env));
        run(env, regs);
        CHECK_EQ(env->exception_index, -1);
        CHECK_EQ(env->regs[R_EDI], cases[i].want_rdi);
        CHECK_EQ(env->regs[8], cases[i].want_r8);
        CHECK_EQ(env->regs[R_EAX], cases[i].want_rax);
    }
    if (!interp)
        CHECK_EQ(tcg_cpu(env)->ctx->stat_setcc_into_byte - before, 2 * ARRAY_SIZE(cases));
    test_cpu_free(env);
}

TEST(setcc_into_byte_register_interp) { setcc_into_byte(true); }
TEST(setcc_into_byte_register_x86_64) { setcc_into_byte(false); }

/* ---- a followed Jcc's cc_op store on its side exit --------------------------------- */
/* cmp eax, ebx; jb T; mov rcx, [rdx]; add esi, edi; hlt.
 * T (another block): setb cl; sbb r9, r9; hlt: the CMP's flags, read
 * through env's cc_op. The fall-through sets ADD's cc_op, so the CMP's is
 * stored on the side exit only; a fault in between restores it. */
enum { T = CODE + 0x40 };
static void put_side_exit_code(void)
{
    PUT(CODE, 0x39, 0xd8,                          /* cmp eax, ebx */
        0x72, T - (CODE + 4),                      /* jb T */
        0x48, 0x8b, 0x0a,                          /* mov rcx, [rdx] */
        0x01, 0xfe,                                /* add esi, edi */
        0xf4);
    PUT(T, 0x0f, 0x92, 0xc1,                       /* T: setb cl */
        0x4d, 0x19, 0xc9,                          /* sbb r9, r9 */
        0xf4);
}

static void side_exit_cc_op(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    put_side_exit_code();
    uint64_t before = tcg_cpu(env)->ctx->stat_side_cc_op_stores;
    for (int round = 0; round < 2; round++) {   /* translated, then cached and chained */
        uint64_t regs[16] = { 0 };
        regs[R_EAX] = 1;
        regs[R_EBX] = 2;
        regs[R_ECX] = 0x5500;
        regs[R_EDX] = RAM_BASE + DATA;
        run(env, regs);   /* taken: 1 < 2 */
        CHECK_EQ(env->exception_index, -1);
        CHECK_EQ(env->rip, RAM_BASE + T + 7);
        CHECK_EQ(env->regs[R_ECX], 0x5501);
        CHECK_EQ(env->regs[9], ~0ULL);
        regs[R_EAX] = 3;
        regs[R_ESI] = 0xffffffff;
        regs[R_EDI] = 1;
        run(env, regs);   /* not taken: the ADD's flags at the end */
        CHECK_EQ(env->rip, RAM_BASE + CODE + 10);
        CHECK_EQ(env->regs[R_ESI], 0);
        uint32_t f = cc_compute_all(env);
        CHECK_EQ(f & (CC_C | CC_Z), CC_C | CC_Z);
    }
    /* a fault after the branch: the CMP's flags (3 - 2: no carry, not zero) */
    test_enable_paging(env, HOLE);
    for (int round = 0; round < 2; round++) {
        uint64_t regs[16] = { 0 };
        regs[R_EAX] = 3;
        regs[R_EBX] = 2;
        regs[R_EDX] = HOLE;
        regs[R_ESI] = 0xffffffff;
        regs[R_EDI] = 1;
        tb_flush(tcg_cpu(env));
        run(env, regs);
        CHECK_EQ(env->exception_index, EXCP_PF);
        CHECK_EQ(env->rip, RAM_BASE + CODE + 4);
        CHECK_EQ(env->regs[R_ESI], 0xffffffff);
        uint32_t f = cc_compute_all(env);
        CHECK_EQ(f & (CC_C | CC_Z), 0);
    }
    if (!interp)
        CHECK(tcg_cpu(env)->ctx->stat_side_cc_op_stores - before >= 1);
    test_cpu_free(env);
}

TEST(side_exit_stores_cc_op_interp) { side_exit_cc_op(true); }
TEST(side_exit_stores_cc_op_x86_64) { side_exit_cc_op(false); }

/* The fall-through may read env's cc_op before it sets another (CPUID's
 * helper call): the store stays before the branch. */
static void side_exit_store_kept(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    PUT(CODE, 0x39, 0xd8,                          /* cmp eax, ebx */
        0x72, T - (CODE + 4),                      /* jb T */
        0x0f, 0xa2,                                /* cpuid (a helper call) */
        0x01, 0xfe,                                /* add esi, edi */
        0xf4);
    PUT(T, 0xf4);
    uint64_t before = tcg_cpu(env)->ctx->stat_side_cc_op_stores;
    uint64_t regs[16] = { 0 };
    regs[R_EAX] = 3;
    regs[R_EBX] = 2;
    run(env, regs);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->rip, RAM_BASE + CODE + 9);
    CHECK_EQ(tcg_cpu(env)->ctx->stat_side_cc_op_stores - before, 0);
    test_cpu_free(env);
}

TEST(side_exit_store_kept_before_reader_interp) { side_exit_store_kept(true); }
TEST(side_exit_store_kept_before_reader_x86_64) { side_exit_store_kept(false); }
