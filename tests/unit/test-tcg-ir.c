/* The IR, its optimiser and the two backends: hand-written checks of
 * folding and dead-code removal, and random IR programs (arithmetic,
 * comparisons, branches, host loads/stores on env) that must leave the same
 * CPU state whether interpreted without optimisation, interpreted after
 * optimisation, or compiled to x86-64 code. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/translate-helpers.h"
#include "cpu/x86/translate.h"
#include "harness.h"
#include "harness-machine.h"

void *tb_arena_alloc(TCGCPU *t, size_t n);

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

static int count_ops(TCGContext *s, TCGOpcode opc)
{
    int n = 0;
    for (int i = 0; i < s->nb_ops; i++)
        n += s->ops[i].opc == opc;
    return n;
}

TEST(fold_constants)
{
    CPUX86State *env = make_cpu(true);
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_func_start(tcg_ctx);
    TCGv a = tcg_const(40), b = tcg_const(2), c = tcg_temp_new();
    tcg_gen_add(c, a, b);
    tcg_gen_shli(c, c, 1);
    tcg_gen_mov(cpu_regs[R_EAX], c);
    tcg_gen_exit_tb(0);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_add), 0);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_shl), 0);
    /* the only surviving computation is rax = 84 */
    bool found = false;
    for (int i = 0; i < tcg_ctx->nb_ops; i++) {
        TCGOp *op = &tcg_ctx->ops[i];
        if (op->opc == INDEX_op_movi && (int)op->args[0] == cpu_regs[R_EAX])
            found = op->args[1] == 84;
    }
    CHECK(found);
    free_cpu(env);
}

TEST(dead_flag_writes_removed)
{
    CPUX86State *env = make_cpu(true);
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_func_start(tcg_ctx);
    /* two flag-setting results in a row: the first write to cc_dst is dead */
    tcg_gen_add(cpu_cc_dst, cpu_regs[R_EAX], cpu_regs[R_EBX]);
    tcg_gen_sub(cpu_cc_dst, cpu_regs[R_ECX], cpu_regs[R_EDX]);
    tcg_gen_exit_tb(0);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_add), 0);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_sub), 1);
    free_cpu(env);
}

TEST(identities)
{
    CPUX86State *env = make_cpu(true);
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_func_start(tcg_ctx);
    TCGv x = tcg_temp_new();
    tcg_gen_xor(x, cpu_regs[R_EAX], cpu_regs[R_EAX]);          /* 0 */
    tcg_gen_addi(cpu_regs[R_EBX], cpu_regs[R_EBX], 0);         /* no-op */
    tcg_gen_andi(cpu_regs[R_ECX], cpu_regs[R_ECX], ~0ULL);     /* no-op */
    tcg_gen_mov(cpu_regs[R_EDX], x);
    tcg_gen_exit_tb(0);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_xor), 0);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_add), 0);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_and), 0);
    free_cpu(env);
}

/* movsxd after a 32-bit move reads the move's source; test r, r (x & x)
 * is a copy, zero-extended in its 32-bit form. */
TEST(extension_and_self_and_fold)
{
    CPUX86State *env = make_cpu(true);
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_func_start(tcg_ctx);
    TCGv lo = tcg_temp_new();
    tcg_gen_op2(INDEX_op_ext32u, 0, lo, cpu_regs[R_ECX]);
    tcg_gen_op2(INDEX_op_ext32s, 0, cpu_regs[R_EAX], lo);
    tcg_gen_op3(INDEX_op_and, TCG_W32, cpu_cc_dst, cpu_regs[R_EDX], cpu_regs[R_EDX]);
    tcg_gen_op3(INDEX_op_or, 0, cpu_regs[R_EBX], cpu_regs[R_ESI], cpu_regs[R_ESI]);
    tcg_gen_exit_tb(0);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_and), 0);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_or), 0);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_ext32u), 1);   /* cc_dst = edx zero-extended */
    for (int i = 0; i < tcg_ctx->nb_ops; i++) {
        TCGOp *op = &tcg_ctx->ops[i];
        if (op->opc == INDEX_op_ext32s)
            CHECK_EQ((int)op->args[1], cpu_regs[R_ECX]);
    }
    free_cpu(env);
}

/* test al, 2: (al zero-extended) & 2 is rax & 2, no extension left; a
 * mask wider than the extension keeps it. */
TEST(and_of_zero_extension_folds)
{
    CPUX86State *env = make_cpu(true);
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_func_start(tcg_ctx);
    TCGv lo = tcg_temp_new(), wide = tcg_temp_new();
    tcg_gen_op2(INDEX_op_ext8u, 0, lo, cpu_regs[R_EAX]);
    tcg_gen_andi(cpu_cc_dst, lo, 2);
    tcg_gen_op2(INDEX_op_ext8u, 0, wide, cpu_regs[R_EBX]);
    tcg_gen_andi(cpu_regs[R_ECX], wide, 0x1ff);
    tcg_gen_exit_tb(0);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_ext8u), 1);   /* only ebx's */
    for (int i = 0; i < tcg_ctx->nb_ops; i++) {
        TCGOp *op = &tcg_ctx->ops[i];
        if (op->opc == INDEX_op_and && (int)op->args[0] == cpu_cc_dst)
            CHECK_EQ((int)op->args[1], cpu_regs[R_EAX]);
    }
    free_cpu(env);
}

/* A byte or word write into a register: constants fold, a deposit into a
 * value with nothing above the field becomes a zero-extension, and the
 * front end's partial register store is one deposit op. */
TEST(deposit_folds)
{
    CPUX86State *env = make_cpu(true);
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_func_start(tcg_ctx);
    TCGv k = tcg_const(0x1122334455667788ULL), z = tcg_temp_new();
    tcg_gen_deposit_low(cpu_regs[R_EAX], k, tcg_const(0xabcd), 1);
    tcg_gen_op2(INDEX_op_ext8u, 0, z, cpu_regs[R_EBX]);
    tcg_gen_deposit_low(cpu_regs[R_ECX], z, cpu_regs[R_EDX], 2);
    tcg_gen_exit_tb(0);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_deposit), 0);
    CHECK_EQ(count_ops(tcg_ctx, INDEX_op_ext16u), 1);
    bool found = false;
    for (int i = 0; i < tcg_ctx->nb_ops; i++) {
        TCGOp *op = &tcg_ctx->ops[i];
        if (op->opc == INDEX_op_movi && (int)op->args[0] == cpu_regs[R_EAX])
            found = op->args[1] == 0x11223344556677cdULL;
    }
    CHECK(found);
    free_cpu(env);
}

/* A flag result only the next access's fault reads (replaced right after
 * it) is marked cold and moved next to the access, with the temp that only
 * it reads; one an exit reads is left alone. */
static int cold_ops(TCGContext *s, TCGOpcode opc)
{
    int n = 0;
    for (int i = 0; i < s->nb_ops; i++)
        n += s->ops[i].opc == opc && (s->ops[i].flags & TCG_COLD);
    return n;
}

static void gen_shr_then_load(bool replace_after)
{
    TCGv cf = tcg_temp_new(), v = tcg_temp_new();
    tcg_gen_shri(cf, cpu_regs[R_ECX], 7);          /* SHR's carry source */
    tcg_gen_mov(cpu_cc_src, cf);
    tcg_gen_addi(cpu_regs[R_EAX], cpu_regs[R_EAX], 1);
    tcg_gen_qemu_ld(v, cpu_regs[R_EDI], MO_32, 0);
    if (replace_after)
        tcg_gen_mov(cpu_cc_src, cpu_regs[R_EDX]);  /* the next producer */
    tcg_gen_mov(cpu_regs[R_EBX], v);
    tcg_gen_exit_tb(0);
}

TEST(cold_sink_moves_fault_only_flags)
{
    CPUX86State *env = make_cpu(true);
    tcg_ctx = tcg_cpu(env)->ctx;
    tcg_func_start(tcg_ctx);
    gen_shr_then_load(true);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    /* the shift (and the copy into cc_src, unless coalesced into it) */
    CHECK_EQ(cold_ops(tcg_ctx, INDEX_op_shr), 1);
    CHECK_EQ(cold_ops(tcg_ctx, INDEX_op_add), 0);   /* RAX is read at the exit */
    int ld = -1, shr = -1;
    for (int i = 0; i < tcg_ctx->nb_ops; i++) {
        if (tcg_ctx->ops[i].opc == INDEX_op_qemu_ld)
            ld = i;
        if (tcg_ctx->ops[i].opc == INDEX_op_shr)
            shr = i;
    }
    CHECK(ld >= 1 && shr >= 0 && shr < ld);
    for (int i = shr; i < ld; i++)   /* moved right before the access, in order */
        CHECK(tcg_ctx->ops[i].flags & TCG_COLD);
    free_cpu(env);
}

TEST(cold_sink_keeps_results_read_later)
{
    CPUX86State *env = make_cpu(true);
    tcg_ctx = tcg_cpu(env)->ctx;
    tcg_func_start(tcg_ctx);
    gen_shr_then_load(false);   /* cc_src reaches the exit */
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    CHECK_EQ(cold_ops(tcg_ctx, INDEX_op_shr), 0);
    CHECK_EQ(cold_ops(tcg_ctx, INDEX_op_mov), 0);
    free_cpu(env);
}

/* d = rbx + rbp; rax = d; `filler` ops on rcx; (rax = rdx when clobber);
 * rsi = d; exit: the last read of d is far from the copy (tcg/coalesce.c
 * stops its scans at a temp's last read). */
static void gen_far_read(int filler, bool clobber)
{
    tcg_func_start(tcg_ctx);
    TCGv d = tcg_temp_new();
    tcg_gen_add(d, cpu_regs[R_EBX], cpu_regs[R_EBP]);
    tcg_gen_mov(cpu_regs[R_EAX], d);
    for (int i = 0; i < filler; i++)
        tcg_gen_add(cpu_regs[R_ECX], cpu_regs[R_ECX], cpu_regs[R_EBX]);
    if (clobber)
        tcg_gen_mov(cpu_regs[R_EAX], cpu_regs[R_EDX]);
    tcg_gen_mov(cpu_regs[R_ESI], d);
    tcg_gen_exit_tb(0);
    tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
}

/* The op that writes global g from an add (-1: none). */
static int add_into(TCGContext *s, TCGv g)
{
    for (int i = 0; i < s->nb_ops; i++)
        if (s->ops[i].opc == INDEX_op_add && (int)s->ops[i].args[0] == g &&
            (int)s->ops[i].args[1] == cpu_regs[R_EBX])
            return i;
    return -1;
}

TEST(coalesce_renames_far_reads)
{
    CPUX86State *env = make_cpu(true);
    tcg_ctx = tcg_cpu(env)->ctx;
    gen_far_read(200, false);
    CHECK(add_into(tcg_ctx, cpu_regs[R_EAX]) >= 0);   /* computed straight into rax */
    bool rsi_from_rax = false;
    for (int i = 0; i < tcg_ctx->nb_ops; i++)
        if (tcg_ctx->ops[i].opc == INDEX_op_mov && (int)tcg_ctx->ops[i].args[0] == cpu_regs[R_ESI])
            rsi_from_rax = (int)tcg_ctx->ops[i].args[1] == cpu_regs[R_EAX];
    CHECK(rsi_from_rax);
    free_cpu(env);
}

TEST(coalesce_refuses_when_global_changes_before_far_read)
{
    CPUX86State *env = make_cpu(true);
    tcg_ctx = tcg_cpu(env)->ctx;
    gen_far_read(200, true);
    CHECK_EQ(add_into(tcg_ctx, cpu_regs[R_EAX]), -1);
    /* past the scan limit the reads are not followed: no coalescing either */
    gen_far_read(600, false);
    CHECK_EQ(add_into(tcg_ctx, cpu_regs[R_EAX]), -1);
    free_cpu(env);
}

/* ---- random programs --------------------------------------------------------------------- */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t rnd_const(void)
{
    static const uint64_t v[] = { 0, 1, 2, 31, 32, 63, 64, 0x80, 0xff, 0xffffffff, 0x80000000,
                                  0x7fffffffffffffffULL, ~0ULL, 0x100000000ULL };
    return rnd() % 3 ? v[rnd() % (sizeof(v) / sizeof(v[0]))] : rnd();
}

#define NVARS 8

/* Emit one random program into tcg_ctx (same seed -> same program). */
static void gen_program(uint64_t seed)
{
    rng = seed;
    tcg_func_start(tcg_ctx);
    TCGv v[NVARS];
    for (int i = 0; i < NVARS; i++)
        v[i] = cpu_regs[i == R_ESP ? R_R8 : i];
    int pending_label = -1, pending_at = 0;
    /* a normal temp that was copied to a global and may be read again (the
     * front end's `t = f(..); mov reg, t; mov cc_dst, t` shape, for
     * tcg/coalesce.c); forgotten at the end of its basic block */
    TCGv recent = -1;
    int n = 10 + (int)(rnd() % 60);
    for (int k = 0; k < n; k++) {
        if (pending_label >= 0 && k >= pending_at) {
            tcg_gen_set_label(pending_label);
            pending_label = -1;
            recent = -1;
        }
        TCGv d = v[rnd() % NVARS], a = v[rnd() % NVARS], b = v[rnd() % NVARS];
        unsigned w = rnd() % 3 == 0 ? TCG_W32 : 0;
        if (recent >= 0 && rnd() % 3 == 0)
            a = recent;
        if (rnd() % 4 == 0) {
            b = tcg_temp_new();
            tcg_gen_movi(b, rnd_const());
        } else if (rnd() % 5 == 0) {
            TCGv tmp = tcg_temp_new();   /* zero-extended: 32-bit ops may read its source */
            tcg_gen_op2(INDEX_op_ext32u, 0, tmp, b);
            b = tmp;
        }
        if (rnd() % 5 == 0) {
            TCGv tmp = tcg_temp_new();
            tcg_gen_op2(rnd() % 2 ? INDEX_op_ext32u : INDEX_op_mov, 0, tmp, a);
            a = tmp;
        }
        TCGv global_d = -1;
        if (rnd() % 3 == 0) {
            global_d = d;
            d = tcg_temp_new();
        }
        switch (rnd() % 23) {
        case 0: tcg_gen_op3(INDEX_op_add, w, d, a, b); break;
        case 1: tcg_gen_op3(INDEX_op_sub, w, d, a, b); break;
        case 2: tcg_gen_op3(INDEX_op_mul, w, d, a, b); break;
        case 3: tcg_gen_op3(INDEX_op_and, w, d, a, b); break;
        case 4: tcg_gen_op3(INDEX_op_or, w, d, a, b); break;
        case 5: tcg_gen_op3(INDEX_op_xor, w, d, a, b); break;
        case 6: tcg_gen_op3(INDEX_op_shl, w, d, a, b); break;
        case 7: tcg_gen_op3(INDEX_op_shr, w, d, a, b); break;
        case 8: tcg_gen_op3(INDEX_op_sar, w, d, a, b); break;
        case 9: tcg_gen_op3(rnd() % 2 ? INDEX_op_rotl : INDEX_op_rotr, w, d, a, b); break;
        case 10: tcg_gen_op2(rnd() % 2 ? INDEX_op_neg : INDEX_op_not, w, d, a); break;
        case 11: {
            static const TCGOpcode ext[] = { INDEX_op_ext8s, INDEX_op_ext8u, INDEX_op_ext16s,
                                             INDEX_op_ext16u, INDEX_op_ext32s, INDEX_op_ext32u };
            tcg_gen_op2(ext[rnd() % 6], 0, d, a);
            break;
        }
        case 12: tcg_gen_op2(INDEX_op_bswap, w, d, a); break;
        case 13: tcg_gen_setcond((TCGCond)(2 + rnd() % 12), w, d, a, b); break;
        case 14: {
            TCGv c = v[rnd() % NVARS];
            tcg_gen_movcond((TCGCond)(2 + rnd() % 12), w, d, a, b, c, v[rnd() % NVARS]);
            break;
        }
        case 15: {
            TCGv hi = v[rnd() % NVARS];
            if (hi == d)
                hi = tcg_temp_new();
            if (rnd() % 2)
                tcg_gen_mulu2(d, hi, a, b);
            else
                tcg_gen_muls2(d, hi, a, b);
            break;
        }
        case 16:
            global_d = -1;   /* d is not written */
            if (pending_label < 0) {
                pending_label = gen_new_label();
                pending_at = k + 1 + (int)(rnd() % 6);
                tcg_gen_brcond((TCGCond)(2 + rnd() % 12), w, a, b, pending_label);
                recent = -1;
            }
            break;
        case 17: {
            /* store to and load back from an env scratch field */
            int64_t off = (int64_t)offsetof(CPUX86State, mtrr_var) + 8 * (int64_t)(rnd() % 8);
            static const unsigned memops[] = { MO_8, MO_16, MO_32, MO_64, MO_8S, MO_16S, MO_32S };
            tcg_gen_st(a, tcg_env, off, memops[rnd() % 4]);
            tcg_gen_ld(d, tcg_env, off, memops[rnd() % 7]);
            break;
        }
        case 18: tcg_gen_movi(d, rnd_const()); break;
        case 19: {
            /* a 64-bit op whose result only a zero-extension reads */
            static const TCGOpcode ops[] = { INDEX_op_add, INDEX_op_sub, INDEX_op_mul, INDEX_op_and, INDEX_op_or,
                                             INDEX_op_xor, INDEX_op_shl, INDEX_op_sar, INDEX_op_shr };
            TCGv t = tcg_temp_new();
            tcg_gen_op3(ops[rnd() % 9], 0, t, a, b);
            tcg_gen_op2(INDEX_op_ext32u, 0, d, t);
            break;
        }
        case 20: {
            /* the same on a sign-extended input, and one-input ops */
            TCGv x = tcg_temp_new(), t = tcg_temp_new();
            tcg_gen_op2(rnd() % 2 ? INDEX_op_ext32s : INDEX_op_ext32u, 0, x, a);
            switch (rnd() % 4) {
            case 0: tcg_gen_op2(INDEX_op_not, 0, t, x); break;
            case 1: tcg_gen_op2(INDEX_op_neg, 0, t, x); break;
            default: tcg_gen_op3(rnd() % 2 ? INDEX_op_sar : INDEX_op_shl, 0, t, x, b); break;
            }
            tcg_gen_op2(INDEX_op_ext32u, 0, d, t);
            break;
        }
        case 21: tcg_gen_deposit_low(d, a, b, rnd() % 2 ? 1 : 2); break;
        default: tcg_gen_mov(d, a); break;
        }
        if (global_d >= 0) {
            tcg_gen_mov(global_d, d);
            if (rnd() % 2)
                tcg_gen_mov(v[rnd() % NVARS], d);
            recent = d;
        }
    }
    if (pending_label >= 0)
        tcg_gen_set_label(pending_label);
    tcg_gen_exit_tb(0);
}

/* Many values live at once: the x86-64 allocator must spill and reload. */
static void gen_pressure_program(uint64_t seed)
{
    rng = seed;
    tcg_func_start(tcg_ctx);
    enum { N = 40 };
    TCGv v[N];
    for (int i = 0; i < N; i++) {
        v[i] = tcg_temp_new();
        tcg_gen_op3(INDEX_op_add, 0, v[i], cpu_regs[i % 16], tcg_const(rnd_const()));
    }
    for (int k = 0; k < 60; k++) {
        int d = (int)(rnd() % N), a = (int)(rnd() % N), b = (int)(rnd() % N);
        static const TCGOpcode ops[] = { INDEX_op_add, INDEX_op_sub, INDEX_op_xor, INDEX_op_mul,
                                         INDEX_op_shl, INDEX_op_sar, INDEX_op_and };
        TCGv nd = tcg_temp_new();
        tcg_gen_op3(ops[rnd() % 7], rnd() % 2 ? TCG_W32 : 0, nd, v[a], v[b]);
        v[d] = nd;
        if (rnd() % 8 == 0) {
            /* a helper call in the middle: caller-saved registers are lost */
            TCGv r = tcg_temp_new();
            tcg_gen_call((void *)helper_cc_flags, "cc_flags", TCG_CALL_PURE, r, 4,
                         tcg_const(CC_OP(CC_K_ADD, 2)), v[a], v[b], v[d]);
            v[(d + 1) % N] = r;
        }
    }
    for (int i = 0; i < N; i++)
        tcg_gen_op3(INDEX_op_add, 0, cpu_regs[i % 16], cpu_regs[i % 16], v[i]);
    tcg_gen_exit_tb(0);
}

static bool pressure_mode;

static void run_program(CPUX86State *env, uint64_t seed, bool optimise, const uint64_t *init)
{
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_current_cpu = t;
    tb_flush(t);
    if (pressure_mode)
        gen_pressure_program(seed);
    else
        gen_program(seed);
    if (optimise)
        tcg_optimize(tcg_ctx);
    tcg_liveness(tcg_ctx);
    static TranslationBlock tb;
    if (!test_gen_ir(t, &tb)) {
        test_fail(__FILE__, __LINE__, "gen_code failed");
        return;
    }
    memset(env->regs, 0, sizeof(env->regs));
    memset(env->mtrr_var, 0, sizeof(env->mtrr_var));
    for (int i = 0; i < 16; i++)
        env->regs[i] = init[i];
    t->backend->exec(env, &tb);
}

static void random_programs(int count, int min_changed);

TEST(random_programs_agree)
{
    pressure_mode = false;
    random_programs(3000, 2500);
}

TEST(register_pressure_programs_agree)
{
    pressure_mode = true;
    random_programs(400, 300);
}

static void random_programs(int count, int min_changed)
{
    CPUX86State *ref = make_cpu(true), *opt = make_cpu(true);
#if defined(__x86_64__)
    CPUX86State *x86 = make_cpu(false);
#endif
    int failures = 0, changed = 0;
    for (int p = 0; p < count && failures < 3; p++) {
        uint64_t seed = 0x1234567 + (uint64_t)p * 7919;
        uint64_t init[16];
        rng = seed ^ 0xabcdef;
        for (int i = 0; i < 16; i++)
            init[i] = rnd_const();
        run_program(ref, seed, false, init);
        run_program(opt, seed, true, init);
        for (int i = 0; i < 16; i++) {
            if (ref->regs[i] != init[i]) {
                changed++;
                break;
            }
        }
        CPUX86State *cmp[2] = { opt, NULL };
#if defined(__x86_64__)
        run_program(x86, seed, true, init);
        cmp[1] = x86;
#endif
        for (int c = 0; c < 2; c++) {
            if (!cmp[c])
                continue;
            for (int i = 0; i < 16; i++) {
                if (cmp[c]->regs[i] != ref->regs[i]) {
                    char m[200];
                    snprintf(m, sizeof(m), "program %d (%s): reg %d = %#" PRIx64 ", reference %#" PRIx64,
                             p, c ? "x86_64" : "optimised interp", i, cmp[c]->regs[i], ref->regs[i]);
                    test_fail(__FILE__, __LINE__, m);
                    failures++;
                    break;
                }
            }
        }
    }
    CHECK_EQ(failures, 0);
    CHECK(changed > min_changed);   /* the programs do compute something */
    free_cpu(ref);
    free_cpu(opt);
#if defined(__x86_64__)
    free_cpu(x86);
#endif
}

#if defined(__x86_64__)
extern bool host_has_bmi2;

/* Shifts by a count in a register, 64- and 32-bit, counts past the width
 * (taken modulo it): on a host with BMI2 the backend emits SHLX/SHRX/SARX
 * (VEX C4 .. .. F7, the count in any register), so RCX keeps its value in
 * place; the results agree with the interpreter's either way. */
TEST(variable_shifts_bmi2)
{
    static const TCGOpcode opc[3] = { INDEX_op_shl, INDEX_op_shr, INDEX_op_sar };
    static const uint64_t counts[] = { 0, 1, 31, 32, 33, 63, 64, 65, 200 };
    CPUX86State *ref = make_cpu(true), *x86 = make_cpu(false);
    for (unsigned k = 0; k < 6; k++) {
        for (unsigned c = 0; c < ARRAY_SIZE(counts); c++) {
            uint64_t init[16] = { 0 };
            init[R_EAX] = 0x8123456789abcdefULL;
            init[R_ECX] = 0x5555;
            init[R_EDX] = counts[c];
            CPUX86State *envs[2] = { ref, x86 };
            bool vex = false;
            for (int e = 0; e < 2; e++) {
                TCGCPU *t = tcg_cpu(envs[e]);
                tcg_ctx = t->ctx;
                tcg_current_cpu = t;
                tb_flush(t);
                tcg_func_start(tcg_ctx);
                /* rcx stays live across the shift: rbx = rax OP rdx; rsi = rcx + rbx */
                tcg_gen_op3(opc[k % 3], k >= 3 ? TCG_W32 : 0, cpu_regs[R_EBX], cpu_regs[R_EAX], cpu_regs[R_EDX]);
                tcg_gen_add(cpu_regs[R_ESI], cpu_regs[R_ECX], cpu_regs[R_EBX]);
                tcg_gen_exit_tb(0);
                tcg_optimize(tcg_ctx);
                tcg_liveness(tcg_ctx);
                static TranslationBlock tb;
                CHECK(test_gen_ir(t, &tb));
                if (e == 1) {
                    const uint8_t *code = tb.code;
                    for (uint32_t i = 0; i + 3 < tb.code_size; i++)
                        vex |= code[i] == 0xc4 && code[i + 3] == 0xf7;
                }
                memset(envs[e]->regs, 0, sizeof(envs[e]->regs));
                memcpy(envs[e]->regs, init, sizeof(init));
                t->backend->exec(envs[e], &tb);
            }
            CHECK_EQ(x86->regs[R_EBX], ref->regs[R_EBX]);
            CHECK_EQ(x86->regs[R_ESI], ref->regs[R_ESI]);
            CHECK_EQ(x86->regs[R_ECX], 0x5555);
            if (host_has_bmi2)
                CHECK(vex);
        }
    }
    free_cpu(ref);
    free_cpu(x86);
}

/* A block with two chainable exits (the fall-through, and a label's):
 * their unchained ways out (RIP store, exit) come after all of the block's
 * jumps, out of the code that runs once the exits are chained; unchained,
 * each leaves with RIP set to its successor. */
TEST(exit_stubs_after_the_block)
{
    CPUX86State *x86 = make_cpu(false);
    TCGCPU *t = tcg_cpu(x86);
    for (int taken = 0; taken < 2; taken++) {
        tcg_ctx = t->ctx;
        tcg_current_cpu = t;
        tb_flush(t);
        tcg_func_start(tcg_ctx);
        int l = gen_new_label();
        tcg_gen_brcondi(TCG_COND_EQ, 0, cpu_regs[R_EAX], 0, l);
        tcg_gen_addi(cpu_regs[R_EBX], cpu_regs[R_EBX], 1);
        tcg_gen_goto_tb(0, 0x1000);
        tcg_gen_set_label(l);
        tcg_gen_addi(cpu_regs[R_ECX], cpu_regs[R_ECX], 1);
        tcg_gen_goto_tb(1, 0x2000);
        tcg_optimize(tcg_ctx);
        tcg_liveness(tcg_ctx);
        static TranslationBlock tb;
        CHECK(test_gen_ir(t, &tb));
        uint32_t last_jump = MAX(tb.jmp_patch_ofs[0], tb.jmp_patch_ofs[1]) + 4;
        CHECK(tb.jmp_reset_ofs[0] >= last_jump);
        CHECK(tb.jmp_reset_ofs[1] >= last_jump);
        memset(x86->regs, 0, sizeof(x86->regs));
        x86->regs[R_EAX] = taken ? 0 : 5;
        t->backend->exec(x86, &tb);
        CHECK_EQ(x86->rip, taken ? 0x2000 : 0x1000);
        CHECK_EQ(x86->regs[R_EBX], taken ? 0 : 1);
        CHECK_EQ(x86->regs[R_ECX], taken ? 1 : 0);
    }
    free_cpu(x86);
}

/* Does code hold a 64-bit register-to-register mov (REX.W 89/8B, mod 11)? */
static bool has_mov_rr64(const uint8_t *code, uint32_t size)
{
    for (uint32_t i = 0; i + 2 < size; i++)
        if ((code[i] & 0xf8) == 0x48 && (code[i + 1] == 0x89 || code[i + 1] == 0x8b) && (code[i + 2] & 0xc0) == 0xc0)
            return true;
    return false;
}

/* movcond d, a, b, v1, constant: the constant goes straight into d's
 * register (no register of its own, no copy); the results agree with the
 * interpreter's. */
TEST(movcond_constant_into_output)
{
    CPUX86State *ref = make_cpu(true), *x86 = make_cpu(false);
    for (int k = 0; k < 4; k++) {
        uint64_t init[16] = { 0 };
        init[R_EAX] = 5;
        init[R_EDX] = k & 1 ? 5 : 6;
        init[R_ECX] = 0x1234;
        CPUX86State *envs[2] = { ref, x86 };
        bool copies = false;
        for (int e = 0; e < 2; e++) {
            TCGCPU *t = tcg_cpu(envs[e]);
            tcg_ctx = t->ctx;
            tcg_current_cpu = t;
            tb_flush(t);
            tcg_func_start(tcg_ctx);
            TCGv c = tcg_temp_new();
            tcg_gen_movi(c, k & 2 ? 0 : 7);
            tcg_gen_movcond(TCG_COND_EQ, 0, cpu_regs[R_EBX], cpu_regs[R_EAX], cpu_regs[R_EDX], cpu_regs[R_ECX], c);
            tcg_gen_exit_tb(0);
            tcg_optimize(tcg_ctx);
            tcg_liveness(tcg_ctx);
            static TranslationBlock tb;
            CHECK(test_gen_ir(t, &tb));
            if (e == 1)
                copies = has_mov_rr64(tb.code, tb.code_size);
            memset(envs[e]->regs, 0, sizeof(envs[e]->regs));
            memcpy(envs[e]->regs, init, sizeof(init));
            t->backend->exec(envs[e], &tb);
        }
        CHECK_EQ(x86->regs[R_EBX], ref->regs[R_EBX]);
        CHECK_EQ(ref->regs[R_EBX], k & 1 ? 0x1234 : k & 2 ? 0 : 7);
        CHECK(!copies);
    }
    free_cpu(ref);
    free_cpu(x86);
}
#endif
