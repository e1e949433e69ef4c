/* Code for ordinary blocks, guest programs on both backends: a byte or word
 * CMP then Jcc compares the CMP's own (zero-extended) operands, so the
 * x86-64 backend reuses the subtraction's flags; SETcc into a low byte
 * register becomes a setcc on that register. Each runs the guest code,
 * checks what hardware would leave, and (x86-64) that the shorter form was
 * taken. */
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
