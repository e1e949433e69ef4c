/* The x86-64 backend's reuse of an ALU instruction's host flags for the
 * compare after it (tcg/x86_64/flags.c): a subtraction's for the compare of
 * its operands, any add/sub/and/or/xor's for its result against 0. The
 * compare is left out only when nothing between the two can have changed
 * the flags or the values, and the branch, cmov or setcc then decides as
 * the interpreter does. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/translate-helpers.h"
#include "cpu/x86/translate.h"
#include "harness.h"
#include "harness-machine.h"

#if defined(__x86_64__)

/* What goes between `sub d, a, b` and the compare of a with b. */
enum Between {
    NOTHING,         /* the guest CMP shape: moves and a store of cc_op */
    XOR_ZERO,        /* a zero put in a register: xor, flags gone */
    LABEL,           /* a join: the flags may come from a branch over the sub */
    A_CHANGED,       /* a given a new value by a move */
    ALU_OP,          /* an add: flags gone */
};

enum Consumer { BRCOND, SETCOND, MOVCOND };

static CPUX86State *make_cpu(bool interp)
{
    CPUX86State *env = calloc(1, sizeof(*env));
    tcg_select_backend(interp);
    tcg_cpu_create(env, NULL);
    return env;
}

static void free_cpu(CPUX86State *env)
{
    tcg_cpu_destroy(env);
    free(env);
}

/* regs[0] = a, regs[1] = b; the program leaves the condition's outcome
 * (1, or 0 or 2) in regs[2], a - b in regs[3] (the lazy cc_dst's shape),
 * and what the between step wrote in regs[4]. */
static void gen_case(TCGCond c, unsigned w, enum Between between, enum Consumer use, bool b_const, uint64_t bval)
{
    tcg_func_start(tcg_ctx);
    TCGv a = cpu_regs[0], b = cpu_regs[1];
    if (b_const) {
        b = tcg_temp_new();
        tcg_gen_movi(b, bval);
    }
    int join = gen_new_label();
    if (between == LABEL)   /* regs[6] != 0: the sub is jumped over */
        tcg_gen_brcondi(TCG_COND_NE, 0, cpu_regs[6], 0, join);
    TCGv d = tcg_temp_new();
    tcg_gen_op3(INDEX_op_sub, w, d, a, b);
    tcg_gen_mov(cpu_regs[3], d);
    tcg_gen_st(tcg_const(15), tcg_env, (int64_t)offsetof(CPUX86State, mtrr_var), MO_32);
    switch (between) {
    case NOTHING:
        break;
    case XOR_ZERO:   /* a byte store of a constant goes through a register */
        tcg_gen_st(tcg_const(0), tcg_env, (int64_t)offsetof(CPUX86State, mtrr_var) + 8, MO_8);
        break;
    case LABEL:
        tcg_gen_set_label(join);
        break;
    case A_CHANGED:
        tcg_gen_mov(a, cpu_regs[5]);
        break;
    case ALU_OP:
        tcg_gen_op3(INDEX_op_add, 0, cpu_regs[4], cpu_regs[5], cpu_regs[6]);
        break;
    }
    switch (use) {
    case BRCOND: {
        int taken = gen_new_label(), done = gen_new_label();
        tcg_gen_brcond(c, w, a, b, taken);
        tcg_gen_movi(cpu_regs[2], 0);
        tcg_gen_brcondi(TCG_COND_ALWAYS, 0, a, 0, done);
        tcg_gen_set_label(taken);
        tcg_gen_movi(cpu_regs[2], 1);
        tcg_gen_set_label(done);
        break;
    }
    case SETCOND:
        tcg_gen_setcond(c, w, cpu_regs[2], a, b);
        break;
    case MOVCOND:
        tcg_gen_movcond(c, w, cpu_regs[2], a, b, tcg_const(1), tcg_const(2));
        break;
    }
    tcg_gen_exit_tb(0);
}

/* A case's IR goes into an empty code buffer. */
static void begin_case(CPUX86State *env)
{
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_current_cpu = t;
    tb_flush(t);
}

/* The case's IR optimised, compiled by the CPU's backend and run from init. */
static void finish_and_run(CPUX86State *env, const uint64_t *init)
{
    TCGCPU *t = tcg_cpu(env);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    static TranslationBlock tb;
    if (!test_gen_ir(t, &tb)) {
        test_fail(__FILE__, __LINE__, "gen_code failed");
        return;
    }
    memset(env->regs, 0, sizeof(env->regs));
    for (int i = 0; i < 16; i++)
        env->regs[i] = init[i];
    t->backend->exec(env, &tb);
}

static void run_case(CPUX86State *env, TCGCond c, unsigned w, enum Between between, enum Consumer use,
                     bool b_const, const uint64_t *init)
{
    begin_case(env);
    gen_case(c, w, between, use, b_const, init[1]);
    finish_and_run(env, init);
}

static const uint64_t operands[][2] = {
    { 5, 5 }, { 5, 7 }, { 7, 5 }, { 0, 1 }, { 1, 0 }, { 0x80000000, 1 }, { 0x7fffffff, 0xffffffff },
    { 0x8000000000000000ULL, 1 }, { 0xffffffffffffffffULL, 0 }, { 0x123456789ULL, 0x223456789ULL },
    { 0xffffffff00000001ULL, 0x1 },
};

/* Every condition, width, operand pair and consumer: the x86-64 code
 * decides as the interpreter; returns how many compares it left out. */
static uint64_t agree(enum Between between, bool b_const)
{
    CPUX86State *ref = make_cpu(true), *x86 = make_cpu(false);
    uint64_t before = tcg_cpu(x86)->ctx->stat_flags_reused;
    for (int c = TCG_COND_EQ; c <= TCG_COND_GTU; c++) {
        for (unsigned k = 0; k < ARRAY_SIZE(operands); k++) {
            for (int wi = 0; wi < 2; wi++) {
                for (int use = BRCOND; use <= MOVCOND; use++) {
                    uint64_t init[16];
                    for (int i = 0; i < 16; i++)
                        init[i] = 0x1111 * (uint64_t)(i + 1);
                    init[0] = operands[k][0];
                    init[1] = operands[k][1];
                    unsigned w = wi ? TCG_W32 : 0;
                    run_case(ref, (TCGCond)c, w, between, (enum Consumer)use, b_const, init);
                    run_case(x86, (TCGCond)c, w, between, (enum Consumer)use, b_const, init);
                    for (int i = 0; i < 16; i++) {
                        if (x86->regs[i] != ref->regs[i]) {
                            char m[200];
                            snprintf(m, sizeof(m), "cond %d w32 %d use %d between %d a %#" PRIx64 " b %#" PRIx64
                                     ": reg %d = %#" PRIx64 ", interpreter %#" PRIx64, c, wi, use, between,
                                     init[0], init[1], i, x86->regs[i], ref->regs[i]);
                            test_fail(__FILE__, __LINE__, m);
                            goto out;
                        }
                    }
                }
            }
        }
    }
out:;
    uint64_t reused = tcg_cpu(x86)->ctx->stat_flags_reused - before;
    free_cpu(ref);
    free_cpu(x86);
    return reused;
}

/* cases agree() runs for each consumer */
#define CASES ((TCG_COND_GTU - TCG_COND_EQ + 1) * ARRAY_SIZE(operands) * 2)

TEST(compare_after_sub_uses_its_flags)
{
    CHECK_EQ(agree(NOTHING, false), (uint64_t)(3 * CASES));   /* brcond, setcond, movcond */
}

TEST(compare_with_constant_after_sub_uses_its_flags)
{
    CHECK(agree(NOTHING, true) > 0);
}

TEST(xor_zeroing_between_forces_compare)
{
    CHECK_EQ(agree(XOR_ZERO, false), 0);
}

TEST(label_between_forces_compare)
{
    CHECK_EQ(agree(LABEL, false), 0);
}

TEST(operand_changed_between_forces_compare)
{
    CHECK_EQ(agree(A_CHANGED, false), 0);
}

TEST(alu_op_between_forces_compare)
{
    CHECK_EQ(agree(ALU_OP, false), 0);
}

/* d = a op b, a copy of d in regs[3], then cond(d or the copy, 0) at
 * width wc into regs[2] (a branch or a cmov). */
static void gen_zero_case(TCGOpcode opc, unsigned w, TCGCond c, unsigned wc, bool copy, enum Consumer use)
{
    tcg_func_start(tcg_ctx);
    TCGv d = tcg_temp_new();
    tcg_gen_op3(opc, w, d, cpu_regs[0], cpu_regs[1]);
    tcg_gen_mov(cpu_regs[3], d);
    tcg_gen_st(tcg_const(15), tcg_env, (int64_t)offsetof(CPUX86State, mtrr_var), MO_32);
    TCGv x = copy ? cpu_regs[3] : d;
    if (use == MOVCOND) {
        tcg_gen_movcond(c, wc, cpu_regs[2], x, tcg_const(0), tcg_const(1), tcg_const(2));
    } else {
        int taken = gen_new_label(), done = gen_new_label();
        tcg_gen_brcondi(c, wc, x, 0, taken);
        tcg_gen_movi(cpu_regs[2], 0);
        tcg_gen_brcondi(TCG_COND_ALWAYS, 0, x, 0, done);
        tcg_gen_set_label(taken);
        tcg_gen_movi(cpu_regs[2], 1);
        tcg_gen_set_label(done);
    }
    tcg_gen_exit_tb(0);
}

static void run_zero_case(CPUX86State *env, TCGOpcode opc, unsigned w, TCGCond c, unsigned wc, bool copy,
                          enum Consumer use, const uint64_t *init)
{
    begin_case(env);
    gen_zero_case(opc, w, c, wc, copy, use);
    finish_and_run(env, init);
}

/* Every condition against 0, both widths of op and compare, the result or
 * its copy, branch and cmov: x86-64 decides as the interpreter. Counts
 * the compares left out: [0] for EQ/NE, [1] for the other conditions,
 * [2] for EQ/NE of a 64-bit result at 32 bits. */
static void zero_agree(TCGOpcode opc, uint64_t *reused)
{
    static const uint64_t vals[][2] = {
        { 5, 5 }, { 5, 7 }, { 0, 0 }, { 0x80000000, 0 }, { 0x100000000ULL, 0 }, { 0x80000000, 0x80000000 },
        { 0xffffffffffffffffULL, 1 }, { 0x8000000000000000ULL, 0 }, { 0xff, 0xff00 }, { 3, 0xfffffffffffffffdULL },
    };
    CPUX86State *ref = make_cpu(true), *x86 = make_cpu(false);
    uint64_t *stat = &tcg_cpu(x86)->ctx->stat_flags_reused;
    for (int c = TCG_COND_EQ; c <= TCG_COND_GTU; c++)
        for (unsigned k = 0; k < ARRAY_SIZE(vals); k++)
            for (int m = 0; m < 16; m++) {
                unsigned w = m & 1 ? TCG_W32 : 0, wc = m & 2 ? TCG_W32 : 0;
                bool copy = m & 4;
                enum Consumer use = m & 8 ? MOVCOND : BRCOND;
                uint64_t init[16];
                for (int i = 0; i < 16; i++)
                    init[i] = 0x2222 * (uint64_t)(i + 1);
                init[0] = vals[k][0];
                init[1] = vals[k][1];
                run_zero_case(ref, opc, w, (TCGCond)c, wc, copy, use, init);
                uint64_t before = *stat;
                run_zero_case(x86, opc, w, (TCGCond)c, wc, copy, use, init);
                int kind = c > TCG_COND_NE ? 1 : !w && wc ? 2 : 0;
                reused[kind] += *stat - before;
                for (int i = 0; i < 16; i++) {
                    if (x86->regs[i] != ref->regs[i]) {
                        char msg[200];
                        snprintf(msg, sizeof(msg), "op %d w32 %d cond %d cmp32 %d copy %d use %d a %#" PRIx64
                                 " b %#" PRIx64 ": reg %d = %#" PRIx64 ", interpreter %#" PRIx64, opc, !!w, c, !!wc,
                                 copy, use, init[0], init[1], i, x86->regs[i], ref->regs[i]);
                        test_fail(__FILE__, __LINE__, msg);
                        goto out;
                    }
                }
            }
out:
    free_cpu(ref);
    free_cpu(x86);
}

TEST(zero_test_after_logic_op_uses_its_flags)
{
    static const TCGOpcode ops[] = { INDEX_op_and, INDEX_op_or, INDEX_op_xor };
    for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
        uint64_t reused[3] = { 0 };
        zero_agree(ops[i], reused);
        CHECK(reused[0] > 0);
        CHECK(reused[1] > 0);   /* signed and unsigned conditions too */
        CHECK_EQ(reused[2], 0);
    }
}

TEST(zero_test_after_add_sub_uses_only_zf)
{
    static const TCGOpcode ops[] = { INDEX_op_add, INDEX_op_sub };
    for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
        uint64_t reused[3] = { 0 };
        zero_agree(ops[i], reused);
        if (ops[i] == INDEX_op_sub)   /* (add into a third register is a lea: no flags) */
            CHECK(reused[0] > 0);
        CHECK_EQ(reused[1], 0);   /* CF and OF are not test's */
        CHECK_EQ(reused[2], 0);
    }
}

/* x = copy of a (mov or ext32u), a = a - b in place, then cond(x, b): the
 * front end's SUB/DEC then Jcc. With a join between copy and sub (regs[6]
 * != 0 jumps over the copy), x is not a's old value. */
static void gen_inplace_case(bool ext, unsigned w, TCGCond c, bool join, enum Consumer use)
{
    tcg_func_start(tcg_ctx);
    /* x a global: normal temps do not live across the join */
    TCGv a = cpu_regs[0], b = cpu_regs[1], x = join ? cpu_regs[7] : tcg_temp_new();
    int l = gen_new_label();
    if (join)
        tcg_gen_brcondi(TCG_COND_NE, 0, cpu_regs[6], 0, l);
    tcg_gen_op2(ext ? INDEX_op_ext32u : INDEX_op_mov, 0, x, a);
    if (join)
        tcg_gen_set_label(l);
    tcg_gen_op3(INDEX_op_sub, w, a, a, b);
    tcg_gen_mov(cpu_regs[3], a);
    tcg_gen_st(tcg_const(14), tcg_env, (int64_t)offsetof(CPUX86State, mtrr_var), MO_32);
    if (use == MOVCOND) {
        tcg_gen_movcond(c, w, cpu_regs[2], x, b, tcg_const(1), tcg_const(2));
    } else {
        int taken = gen_new_label(), done = gen_new_label();
        tcg_gen_brcond(c, w, x, b, taken);
        tcg_gen_movi(cpu_regs[2], 0);
        tcg_gen_brcondi(TCG_COND_ALWAYS, 0, x, 0, done);
        tcg_gen_set_label(taken);
        tcg_gen_movi(cpu_regs[2], 1);
        tcg_gen_set_label(done);
    }
    tcg_gen_exit_tb(0);
}

static void run_inplace_case(CPUX86State *env, bool ext, unsigned w, TCGCond c, bool join, enum Consumer use,
                             const uint64_t *init)
{
    begin_case(env);
    gen_inplace_case(ext, w, c, join, use);
    finish_and_run(env, init);
}

/* Counts the compares left out: [ext32u copy][32-bit]. */
static void inplace_agree(bool join, uint64_t reused[2][2])
{
    CPUX86State *ref = make_cpu(true), *x86 = make_cpu(false);
    uint64_t *stat = &tcg_cpu(x86)->ctx->stat_flags_reused;
    for (int c = TCG_COND_EQ; c <= TCG_COND_GTU; c++)
        for (unsigned k = 0; k < ARRAY_SIZE(operands); k++)
            for (int m = 0; m < 8; m++) {
                bool ext = m & 1;
                unsigned w = m & 2 ? TCG_W32 : 0;
                enum Consumer use = m & 4 ? MOVCOND : BRCOND;
                uint64_t init[16];
                for (int i = 0; i < 16; i++)
                    init[i] = 0x3333 * (uint64_t)(i + 1);
                init[0] = operands[k][0];
                init[1] = operands[k][1];
                init[7] = operands[k][0] ^ 0x100000001ULL;   /* x's value when the copy is jumped over */
                run_inplace_case(ref, ext, w, (TCGCond)c, join, use, init);
                uint64_t before = *stat;
                run_inplace_case(x86, ext, w, (TCGCond)c, join, use, init);
                reused[ext][!!w] += *stat - before;
                for (int i = 0; i < 16; i++) {
                    if (x86->regs[i] != ref->regs[i]) {
                        char msg[200];
                        snprintf(msg, sizeof(msg), "ext %d w32 %d cond %d join %d use %d a %#" PRIx64 " b %#" PRIx64
                                 ": reg %d = %#" PRIx64 ", interpreter %#" PRIx64, ext, !!w, c, join, use,
                                 init[0], init[1], i, x86->regs[i], ref->regs[i]);
                        test_fail(__FILE__, __LINE__, msg);
                        goto out;
                    }
                }
            }
out:
    free_cpu(ref);
    free_cpu(x86);
}

TEST(compare_of_old_value_after_sub_in_place_uses_its_flags)
{
    uint64_t reused[2][2] = { { 0 } };
    inplace_agree(false, reused);
    CHECK(reused[0][0] > 0);
    CHECK(reused[0][1] > 0);
    CHECK(reused[1][1] > 0);
    CHECK_EQ(reused[1][0], 0);   /* a zero-extended copy is not a's 64-bit value */
}

TEST(join_between_copy_and_sub_in_place_forces_compare)
{
    uint64_t reused[2][2] = { { 0 } };
    inplace_agree(true, reused);
    CHECK_EQ(reused[0][0] + reused[0][1] + reused[1][0] + reused[1][1], 0);
}

/* sub d, a, b; a = cond(a, b) ? c : a (the guest CMP then CMOV into its
 * operand); then the same compare again, of the new a: the cmov reads the
 * sub's flags, the second compare must be emitted. */
static void gen_cmov_into_operand(TCGCond c, unsigned w)
{
    tcg_func_start(tcg_ctx);
    TCGv a = cpu_regs[0], b = cpu_regs[1], d = tcg_temp_new();
    tcg_gen_op3(INDEX_op_sub, w, d, a, b);
    tcg_gen_mov(cpu_regs[3], d);
    tcg_gen_movcond(c, w, a, a, b, cpu_regs[5], a);
    tcg_gen_setcond(c, w, cpu_regs[2], a, b);
    tcg_gen_exit_tb(0);
}

TEST(cmov_into_operand_reuses_flags_then_forgets_them)
{
    CPUX86State *ref = make_cpu(true), *x86 = make_cpu(false);
    uint64_t *stat = &tcg_cpu(x86)->ctx->stat_flags_reused, reused = 0;
    for (int c = TCG_COND_EQ; c <= TCG_COND_GTU; c++)
        for (unsigned k = 0; k < ARRAY_SIZE(operands); k++)
            for (int wi = 0; wi < 2; wi++) {
                uint64_t init[16];
                for (int i = 0; i < 16; i++)
                    init[i] = 0x4444 * (uint64_t)(i + 1);
                init[0] = operands[k][0];
                init[1] = operands[k][1];
                init[5] = operands[k][1] + 1;   /* the moved value: a compare of it differs */
                CPUX86State *envs[2] = { ref, x86 };
                for (int e = 0; e < 2; e++) {
                    TCGCPU *t = tcg_cpu(envs[e]);
                    tcg_ctx = t->ctx;
                    tcg_current_cpu = t;
                    tb_flush(t);
                    gen_cmov_into_operand((TCGCond)c, wi ? TCG_W32 : 0);
                    tcg_optimize(tcg_ctx);
                    tcg_liveness(tcg_ctx);
                    static TranslationBlock tb;
                    uint64_t before = *stat;
                    CHECK(test_gen_ir(t, &tb));
                    if (e)
                        reused += *stat - before;
                    memset(envs[e]->regs, 0, sizeof(envs[e]->regs));
                    memcpy(envs[e]->regs, init, sizeof(init));
                    t->backend->exec(envs[e], &tb);
                }
                for (int i = 0; i < 16; i++)
                    if (x86->regs[i] != ref->regs[i]) {
                        char msg[160];
                        snprintf(msg, sizeof(msg), "cond %d w32 %d a %#" PRIx64 " b %#" PRIx64 ": reg %d", c, wi,
                                 init[0], init[1], i);
                        test_fail(__FILE__, __LINE__, msg);
                        goto out;
                    }
            }
out:
    CHECK_EQ(reused, (uint64_t)CASES);   /* the cmov's compare only */
    free_cpu(ref);
    free_cpu(x86);
}

/* Guest SUB r, imm then JNZ (cpu/x86/translate-cc.c): the branch tests
 * the SUB's result against 0, which the backend reads from the sub's flags,
 * rather than the old value against the immediate (a copy of it kept). */
#define RAM_BASE 0x10000000ULL
#define CODE 0x1000

static void dump_if_asked(void)
{
    if (getenv("TEST_DUMP_OPS"))
        tcg_dump_ops(tcg_ctx, stderr);
}

TEST(guest_sub_then_jnz_tests_result)
{
    uint8_t *ram = test_machine_ram(RAM_BASE, 1 << 20);
    memset(ram, 0xf4, 0x10000);   /* hlt */
    /* add eax, 3; sub ecx, 1; jnz T; hlt; T: hlt (one block: translation
     * goes on through the JNZ) */
    PUT(CODE, 0x83, 0xc0, 0x03, 0x83, 0xe9, 0x01, 0x75, 0x01, 0xf4, 0xf4);
    for (int interp = 0; interp < 2; interp++) {
        CPUX86State *env = test_cpu64_new(interp, 0);
        memset(env->regs, 0, sizeof(env->regs));
        env->regs[R_ECX] = 1;
        test_run_from(env, RAM_BASE + CODE);
        CHECK_EQ(env->regs[R_EAX], 3);
        CHECK_EQ(env->regs[R_ECX], 0);
        CHECK_EQ(env->rip, RAM_BASE + CODE + 9);   /* fell through to the first hlt */
        /* the block's IR is the last translated: no brcond against 1 */
        tcg_ctx = tcg_cpu(env)->ctx;
        dump_if_asked();
        int brconds = 0, against_one = 0;
        for (int n = 0; n < tcg_ctx->nb_ops; n++) {
            const TCGOp *op = &tcg_ctx->ops[n];
            if (op->opc != INDEX_op_brcond || (TCGCond)op->args[2] == TCG_COND_ALWAYS)
                continue;
            brconds++;
            for (int k = 0; k < n; k++)
                if (tcg_ctx->ops[k].opc == INDEX_op_movi && tcg_ctx->ops[k].args[0] == op->args[1] &&
                    tcg_ctx->ops[k].args[1] == 1)
                    against_one++;
        }
        CHECK(brconds > 0);
        CHECK_EQ(against_one, 0);
        test_cpu_free(env);
    }
}

#endif
