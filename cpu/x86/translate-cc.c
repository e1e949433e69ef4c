/* x86 -> IR translator: lazy flags. Instructions record their flag
 * producer (cc_op and operands); consumers (ADC/SBB, Jcc, SETcc, CMOVcc,
 * PUSHF...) compute just the bits they need, inline for the common
 * producers, through helper_cc_* otherwise. See cc.h for the encoding. */
#include "cpu/x86/translate.h"
#include "cpu/x86/translate-helpers.h"

void set_cc_op(DisasContext *s, uint32_t op)
{
    s->label_guess = CC_OP_DYNAMIC;
    if (s->dyn_cc.st >= 0 && s->cc_op == CC_OP_DYNAMIC && op != CC_OP_DYNAMIC)
        s->dyn_cc.replaced = true;
    if (s->cc_op != op) {
        s->cc_op = op;
        s->cc_op_dirty = true;
    }
}

void gen_update_cc_op(DisasContext *s)
{
    if (s->cc_op_dirty && s->cc_op != CC_OP_DYNAMIC) {
        gen_env_st(tcg_const(s->cc_op), ENV_OFF(cc_op), MO_32);
        s->cc_op_dirty = false;
    }
}

static void cc_src_replaced(DisasContext *s);

/* ---- dead run-time cc_op stores ------------------------------------------------ *
 * A shift by CL stores its cc_op, chosen at run time, to env. When a later
 * instruction of the straight-line code sets a static cc_op and nothing in
 * between could read env->cc_op (a fault, which restores only static
 * cc_ops; a call; a branch, label or exit; an env access to it), the store
 * is dead: the static cc_op is stored where it is needed, and faults from
 * then on restore it. Checked at the next instruction boundary, so that a
 * fault anywhere in the replacing instruction counts as a read. */
void gen_note_dynamic_cc_op_store(DisasContext *s)
{
    s->dyn_cc.st = tcg_ctx->nb_ops - 1;
    s->dyn_cc.replaced = false;
}

static bool op_may_read_env_cc_op(const TCGOp *op)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    switch (op->opc) {
    case INDEX_op_call:
        return true;
    case INDEX_op_ld: case INDEX_op_st:
        return (int64_t)op->args[def->nb_oargs + def->nb_iargs] == ENV_OFF(cc_op);
    case INDEX_op_discard: case INDEX_op_insn_start:
        return false;
    default:
        /* may fault, or a branch, label or exit */
        return tcg_op_is_guest_mem(op->opc) || op->opc == INDEX_op_brcond || def->nb_oargs + def->nb_iargs == 0;
    }
}

static void dynamic_cc_op_store_check(DisasContext *s)
{
    int st = s->dyn_cc.st;
    if (st < 0 || !s->dyn_cc.replaced)
        return;
    s->dyn_cc.st = -1;
    for (int i = st + 1; i < tcg_ctx->nb_ops; i++)
        if (op_may_read_env_cc_op(&tcg_ctx->ops[i]))
            return;
    TCGOp *op = &tcg_ctx->ops[st];
    op->opc = INDEX_op_discard;
    op->args[0] = (TCGArg)(int64_t)TCG_NO_TEMP;
    tcg_ctx->stat_dead_cc_op_stores++;
}

void gen_cc_result(DisasContext *s, unsigned kind, unsigned size, TCGv dst, TCGv src, TCGv src2)
{
    bool guarded_inc = s->cc_pre.guard_first >= 0 && s->cc_pre.insn == s->insn_count;
    if (src != TCG_NO_TEMP && !guarded_inc)
        cc_src_replaced(s);
    tcg_gen_extu(cpu_cc_dst, dst, size);
    if (src != TCG_NO_TEMP)
        tcg_gen_extu(cpu_cc_src, src, size);
    if (guarded_inc)
        s->cc_pre.src_written = tcg_ctx->nb_ops;
    if (src2 != TCG_NO_TEMP)
        tcg_gen_mov(cpu_cc_src2, src2);
    set_cc_op(s, CC_OP(kind, size_log2(size)));
}

/* The lazy-flag globals a static cc_op does not read are dead: saying so
 * lets the liveness pass drop the computations that last wrote them (e.g. a
 * rotate's merged flags before a memory access, when a logic op has since
 * replaced them). Only at instruction boundaries and block exits: inside an
 * instruction, a fault restores the cc_op of the instruction's start. */
void gen_discard_dead_cc(DisasContext *s)
{
    dynamic_cc_op_store_check(s);
    if (s->cc_op == CC_OP_DYNAMIC)
        return;
    unsigned kind = CC_OP_KIND(s->cc_op);
    if (kind == CC_K_EFLAGS)
        tcg_gen_discard(cpu_cc_dst);
    if (kind == CC_K_LOGIC) {
        cc_src_replaced(s);
        tcg_gen_discard(cpu_cc_src);
    }
    if (kind != CC_K_ADC && kind != CC_K_SBB)
        tcg_gen_discard(cpu_cc_src2);
}

static TCGv cc_op_value(DisasContext *s)
{
    if (s->cc_op == CC_OP_DYNAMIC)
        return gen_env_ld(ENV_OFF(cc_op), MO_32);
    return tcg_const(s->cc_op);
}

/* ---- single flags from a static cc_op, as 0/1 ------------------------------------ *
 * Each mirrors cc.c (cc_carry, cc_flags) for one flag. cc_dst and cc_src are
 * zero-extended to the operand size by gen_cc_result. The generators write
 * into t, with x as their only scratch temp: the optimiser and the liveness
 * pass do work per temp at every label and memory access, so a computation
 * of all the flags must not leave dozens of temps behind. */
typedef struct FlagTemps {
    TCGv t, x, zero;
} FlagTemps;

static FlagTemps flag_temps(void)
{
    return (FlagTemps){ tcg_temp_new(), tcg_temp_new(), tcg_const(0) };
}

static unsigned cc_bits(DisasContext *s) { return 8u << CC_OP_SIZE_LOG2(s->cc_op); }

/* t = bit of v */
static void gen_bit_into(TCGv t, TCGv v, unsigned bit)
{
    tcg_gen_shri(t, v, bit);
    tcg_gen_andi(t, t, 1);
}

static void gen_cf_into(DisasContext *s, const FlagTemps *f)
{
    TCGv t = f->t, x = f->x;
    unsigned size = cc_bits(s) / 8;
    switch (CC_OP_KIND(s->cc_op)) {
    case CC_K_EFLAGS: case CC_K_INC: case CC_K_DEC: case CC_K_SHR: case CC_K_SAR:
        tcg_gen_andi(t, cpu_cc_src, 1);
        break;
    case CC_K_LOGIC:
        tcg_gen_movi(t, 0);
        break;
    case CC_K_ADD:   /* carry = (dst < src) on the truncated values */
        tcg_gen_setcond(TCG_COND_LTU, 0, t, cpu_cc_dst, cpu_cc_src);
        break;
    case CC_K_SUB:   /* borrow = (dst + src) < src */
        tcg_gen_add(x, cpu_cc_dst, cpu_cc_src);
        tcg_gen_extu(x, x, size);
        tcg_gen_setcond(TCG_COND_LTU, 0, t, x, cpu_cc_src);
        break;
    case CC_K_ADC:   /* carry-in ? dst <= src : dst < src */
        tcg_gen_setcond(TCG_COND_LEU, 0, t, cpu_cc_dst, cpu_cc_src);
        tcg_gen_setcond(TCG_COND_LTU, 0, x, cpu_cc_dst, cpu_cc_src);
        tcg_gen_movcond(TCG_COND_NE, 0, t, cpu_cc_src2, f->zero, t, x);
        break;
    case CC_K_SBB:   /* a = dst + src + borrow-in; borrow-in ? a <= src : a < src */
        tcg_gen_add(x, cpu_cc_dst, cpu_cc_src);
        tcg_gen_add(x, x, cpu_cc_src2);
        tcg_gen_extu(x, x, size);
        tcg_gen_setcond(TCG_COND_LEU, 0, t, x, cpu_cc_src);
        tcg_gen_setcond(TCG_COND_LTU, 0, x, x, cpu_cc_src);
        tcg_gen_movcond(TCG_COND_NE, 0, t, cpu_cc_src2, f->zero, t, x);
        break;
    case CC_K_SHL:   /* the last bit shifted out: top bit of src */
        gen_bit_into(t, cpu_cc_src, size * 8 - 1);
        break;
    default:         /* CC_K_MUL */
        tcg_gen_setcond(TCG_COND_NE, 0, t, cpu_cc_src, f->zero);
        break;
    }
}

static void gen_zf_into(DisasContext *s, const FlagTemps *f)
{
    if (CC_OP_KIND(s->cc_op) == CC_K_EFLAGS)
        gen_bit_into(f->t, cpu_cc_src, 6);
    else
        tcg_gen_setcond(TCG_COND_EQ, 0, f->t, cpu_cc_dst, f->zero);
}

static void gen_sf_into(DisasContext *s, const FlagTemps *f)
{
    if (CC_OP_KIND(s->cc_op) == CC_K_EFLAGS)
        gen_bit_into(f->t, cpu_cc_src, 7);
    else
        gen_bit_into(f->t, cpu_cc_dst, cc_bits(s) - 1);
}

/* PF: the low byte of the result has an even number of set bits. 0x9669
 * has bit n set for the even-parity nibbles n. */
static void gen_pf_into(DisasContext *s, const FlagTemps *f)
{
    TCGv t = f->t;
    if (CC_OP_KIND(s->cc_op) == CC_K_EFLAGS) {
        gen_bit_into(t, cpu_cc_src, 2);
        return;
    }
    tcg_gen_shri(t, cpu_cc_dst, 4);
    tcg_gen_xor(t, t, cpu_cc_dst);
    tcg_gen_andi(t, t, 15);
    tcg_gen_shr(t, tcg_const(0x9669), t);
    tcg_gen_andi(t, t, 1);
}

static bool kind_is_arith(unsigned kind)
{
    return kind == CC_K_ADD || kind == CC_K_ADC || kind == CC_K_SUB || kind == CC_K_SBB;
}

/* a = the first operand of ADD/ADC/SUB/SBB, rebuilt from result and second operand. */
static void gen_first_operand_into(DisasContext *s, TCGv a)
{
    switch (CC_OP_KIND(s->cc_op)) {
    case CC_K_ADD: tcg_gen_sub(a, cpu_cc_dst, cpu_cc_src); break;
    case CC_K_ADC: tcg_gen_sub(a, cpu_cc_dst, cpu_cc_src); tcg_gen_sub(a, a, cpu_cc_src2); break;
    case CC_K_SUB: tcg_gen_add(a, cpu_cc_dst, cpu_cc_src); break;
    default:       tcg_gen_add(a, cpu_cc_dst, cpu_cc_src); tcg_gen_add(a, a, cpu_cc_src2); break;
    }
}

/* AF as the CC_A bit (0x10), not 0/1. */
static void gen_af_into(DisasContext *s, const FlagTemps *f)
{
    unsigned kind = CC_OP_KIND(s->cc_op);
    TCGv t = f->t;
    if (kind == CC_K_EFLAGS) {
        tcg_gen_andi(t, cpu_cc_src, CC_A);
    } else if (kind_is_arith(kind)) {
        gen_first_operand_into(s, f->x);
        tcg_gen_xor(t, f->x, cpu_cc_src);
        tcg_gen_xor(t, t, cpu_cc_dst);
        tcg_gen_andi(t, t, CC_A);
    } else if (kind == CC_K_INC || kind == CC_K_DEC) {
        tcg_gen_andi(t, cpu_cc_dst, 15);
        tcg_gen_setcond(TCG_COND_EQ, 0, t, t, kind == CC_K_INC ? f->zero : tcg_const(15));
        tcg_gen_shli(t, t, 4);
    } else {
        tcg_gen_movi(t, 0);
    }
}

static void gen_of_into(DisasContext *s, const FlagTemps *f)
{
    unsigned kind = CC_OP_KIND(s->cc_op), bits = cc_bits(s);
    uint64_t minint = 1ULL << (bits - 1);
    TCGv t = f->t, x = f->x;
    switch (kind) {
    case CC_K_EFLAGS:
        gen_bit_into(t, cpu_cc_src, 11);
        break;
    case CC_K_ADD: case CC_K_ADC:   /* operands of one sign, result of the other */
        gen_first_operand_into(s, x);
        tcg_gen_xor(x, x, cpu_cc_dst);
        tcg_gen_xor(t, cpu_cc_src, cpu_cc_dst);
        tcg_gen_and(t, t, x);
        gen_bit_into(t, t, bits - 1);
        break;
    case CC_K_SUB: case CC_K_SBB:   /* operands of different signs, result of the second's */
        gen_first_operand_into(s, x);
        tcg_gen_xor(t, x, cpu_cc_src);
        tcg_gen_xor(x, x, cpu_cc_dst);
        tcg_gen_and(t, t, x);
        gen_bit_into(t, t, bits - 1);
        break;
    case CC_K_INC: case CC_K_DEC:
        tcg_gen_setcond(TCG_COND_EQ, 0, t, cpu_cc_dst,
                        tcg_const(kind == CC_K_INC ? minint : minint - 1));
        break;
    case CC_K_SHL:   /* top bit of the result xor CF */
        gen_bit_into(t, cpu_cc_dst, bits - 1);
        gen_bit_into(x, cpu_cc_src, bits - 1);
        tcg_gen_xor(t, t, x);
        break;
    case CC_K_SHR:
        gen_bit_into(t, cpu_cc_src, bits - 1);
        break;
    case CC_K_MUL:
        tcg_gen_setcond(TCG_COND_NE, 0, t, cpu_cc_src, f->zero);
        break;
    default:         /* LOGIC, SAR */
        tcg_gen_movi(t, 0);
        break;
    }
}

typedef void FlagGen(DisasContext *s, const FlagTemps *f);

/* A fresh temp with one flag (0/1). */
static TCGv gen_flag(DisasContext *s, FlagGen *gen)
{
    FlagTemps f = flag_temps();
    gen(s, &f);
    return f.t;
}

static TCGv gen_cf_static(DisasContext *s) { return gen_flag(s, gen_cf_into); }
static TCGv gen_zf_static(DisasContext *s) { return gen_flag(s, gen_zf_into); }

/* The flags of need (CC_MASK bits) from a static cc_op, inline; other bits 0. */
static TCGv gen_eflags_static(DisasContext *s, uint32_t need)
{
    TCGv r = tcg_temp_new();
    if (CC_OP_KIND(s->cc_op) == CC_K_EFLAGS) {
        tcg_gen_andi(r, cpu_cc_src, need & CC_MASK);
        return r;
    }
    static const struct { uint32_t bit; unsigned shift; FlagGen *gen; } parts[] = {
        { CC_C, 0, gen_cf_into }, { CC_P, 2, gen_pf_into }, { CC_A, 0, gen_af_into },
        { CC_Z, 6, gen_zf_into }, { CC_S, 7, gen_sf_into }, { CC_O, 11, gen_of_into },
    };
    FlagTemps f = flag_temps();
    tcg_gen_movi(r, 0);
    for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (!(need & parts[i].bit))
            continue;
        parts[i].gen(s, &f);
        if (parts[i].shift)
            tcg_gen_shli(f.t, f.t, parts[i].shift);
        tcg_gen_or(r, r, f.t);
    }
    return r;
}

/* ---- a dynamic cc_op, guessed ------------------------------------------------ *
 * When a block reads flags its predecessor set (INC at a loop head keeping
 * CF, Jcc or ADC first in a block), cc_op is only known at run time. The
 * value env holds while the block is translated is the one its first
 * execution starts with, and usually the one every later entry brings (the
 * same producer at the end of the same predecessor): the code checks it and
 * computes inline for it, with the helper for any other value. The check
 * branches, and normal temps die at branches: so the value is computed at
 * the start of the instruction (gen_cc_prefetch), before it has any. After
 * a label inside a region, env's value says nothing of the edges: the guess
 * is the cc_op the label's first forward edge brings (s->label_guess). */
static uint32_t cc_op_guess(DisasContext *s)
{
    uint32_t op = s->label_guess != CC_OP_DYNAMIC ? s->label_guess : s->env->cc_op;
    return CC_OP_KIND(op) < CC_K_COUNT ? op : CC_OP_DYNAMIC;
}

enum { CC_PRE_CF = 16 };    /* beside conditions 0-15 */

/* What the instruction reads first of the flags: a condition (0-15),
 * CC_PRE_CF, or -1 (nothing the guess would speed up). */
static int flags_read_first(DisasContext *s)
{
    switch (s->d.mnemonic) {
    case I_JCC: case I_SETCC: case I_CMOV:
        return s->d.e->aux & 15;
    case I_ADC: case I_SBB: case I_INC: case I_DEC: case I_SALC:
        return CC_PRE_CF;
    default:
        return -1;
    }
}

static TCGv gen_cond_value(DisasContext *s, unsigned jcc);

/* what's value, computed with s->cc_op as it is. */
static TCGv gen_cc_what(DisasContext *s, int what)
{
    if (what == CC_PRE_CF)
        return s->cc_op == CC_OP_DYNAMIC ? TCG_NO_TEMP : gen_cf_static(s);
    return gen_cond_value(s, (unsigned)what);
}

static TCGv gen_cf_dynamic(DisasContext *s)
{
    TCGv t = tcg_temp_new();
    gen_helper_pure(helper_cc_carry, t, 4, cc_op_value(s), cpu_cc_dst, cpu_cc_src, cpu_cc_src2);
    return t;
}

void gen_cc_prefetch(DisasContext *s)
{
    if (s->cc_op != CC_OP_DYNAMIC)
        return;
    int what = flags_read_first(s);
    uint32_t guess = cc_op_guess(s);
    if (what < 0 || guess == CC_OP_DYNAMIC)
        return;
    TCGv out = tcg_temp_local_new();
    int other = gen_new_label(), done = gen_new_label(), first = tcg_ctx->nb_ops;
    tcg_gen_brcondi(TCG_COND_NE, TCG_W32, gen_env_ld(ENV_OFF(cc_op), MO_32), guess, other);
    if (s->insn_count == 1) {   /* the first instruction: a self-loop's back edge may come in here */
        s->loop_entry.label = gen_new_label();
        s->loop_entry.cc_op = guess;
        tcg_gen_set_label(s->loop_entry.label);
    }
    s->cc_op = guess;
    tcg_gen_mov(out, gen_cc_what(s, what));
    s->cc_op = CC_OP_DYNAMIC;
    tcg_gen_br(done);
    tcg_gen_set_label(other);
    tcg_gen_mov(out, what == CC_PRE_CF ? gen_cf_dynamic(s) : gen_cc_what(s, what));
    tcg_gen_set_label(done);
    s->cc_pre.insn = s->insn_count;
    s->cc_pre.what = what;
    s->cc_pre.value = out;
    bool incdec = s->d.mnemonic == I_INC || s->d.mnemonic == I_DEC;
    s->cc_pre.guard_first = incdec ? first : -1;
    s->cc_pre.guard_end = tcg_ctx->nb_ops;
    s->cc_pre.src_written = -1;
}

/* ---- dead guards ------------------------------------------------------------- *
 * INC and DEC only keep CF: through a guard, into cc_src. When a later
 * instruction of the block replaces cc_src before anything could read it
 * (no read, guest memory access, call or branch in between: as the liveness
 * pass decides for the pure helper call the guard replaces), the guard is
 * dead and its ops are removed. */
static bool op_may_read_cc_src(const TCGOp *op)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    switch (op->opc) {
    case INDEX_op_call:
        if (!op->call || !(op->call->flags & TCG_CALL_PURE))
            return op->call != NULL;
        for (int i = 0; i < op->call->nargs; i++)
            if (op->call->args[i] == cpu_cc_src)
                return true;
        return false;
    case INDEX_op_ld: case INDEX_op_st:   /* env->cc_src itself */
        return (int64_t)op->args[def->nb_oargs + def->nb_iargs] == ENV_OFF(cc_src);
    case INDEX_op_discard: case INDEX_op_insn_start:
        return false;
    default:
        if (tcg_op_is_guest_mem(op->opc) || def->nb_oargs + def->nb_iargs == 0)
            return true;   /* may fault (env observed), or a branch, label or exit */
        for (int i = 0; i < def->nb_iargs; i++)
            if ((TCGv)op->args[def->nb_oargs + i] == cpu_cc_src)
                return true;
        return op->opc == INDEX_op_brcond;
    }
}

static void cc_src_replaced(DisasContext *s)
{
    int from = s->cc_pre.src_written, first = s->cc_pre.guard_first;
    if (first < 0 || from < 0 || s->cc_pre.insn == s->insn_count)
        return;
    s->cc_pre.guard_first = -1;
    for (int i = from; i < tcg_ctx->nb_ops; i++)
        if (op_may_read_cc_src(&tcg_ctx->ops[i]))
            return;
    if (s->loop_entry.label >= 0 && s->cc_pre.insn == 1)
        s->loop_entry.label = -1;   /* its label goes with the guard */
    for (int i = first; i < s->cc_pre.guard_end; i++) {
        TCGOp *op = &tcg_ctx->ops[i];
        op->opc = INDEX_op_discard;
        op->args[0] = (TCGArg)(int64_t)TCG_NO_TEMP;
        op->call = NULL;
    }
    TCGOp *op = &tcg_ctx->ops[first];   /* the value stays defined */
    op->opc = INDEX_op_movi;
    op->flags = 0;
    op->args[0] = (TCGArg)s->cc_pre.value;
    op->args[1] = 0;
}

/* The prefetched value of what for this instruction, or TCG_NO_TEMP. */
static TCGv cc_prefetched(DisasContext *s, int what)
{
    if (s->cc_op != CC_OP_DYNAMIC || s->cc_pre.insn != s->insn_count || s->cc_pre.what != what)
        return TCG_NO_TEMP;
    TCGv t = tcg_temp_new();
    tcg_gen_mov(t, s->cc_pre.value);
    return t;
}

/* ---- what the instructions call ------------------------------------------------ */
TCGv gen_compute_eflags(DisasContext *s)
{
    if (s->cc_op != CC_OP_DYNAMIC)
        return gen_eflags_static(s, CC_MASK);
    TCGv t = tcg_temp_new();
    gen_helper_pure(helper_cc_flags, t, 4, cc_op_value(s), cpu_cc_dst, cpu_cc_src, cpu_cc_src2);
    return t;
}

/* ZF needs no helper even when cc_op is dynamic: every kind but EFLAGS
 * keeps the zero-extended result in cc_dst. */
TCGv gen_compute_zf(DisasContext *s)
{
    if (s->cc_op != CC_OP_DYNAMIC)
        return gen_zf_static(s);
    TCGv z = tcg_temp_new(), zf_in_src = tcg_temp_new();
    gen_bit_into(zf_in_src, cpu_cc_src, 6);
    tcg_gen_setcond(TCG_COND_EQ, 0, z, cpu_cc_dst, tcg_const(0));
    tcg_gen_movcond(TCG_COND_LTU, TCG_W32, z, gen_env_ld(ENV_OFF(cc_op), MO_32),
                    tcg_const(CC_OP(CC_K_EFLAGS + 1, 0)), zf_in_src, z);
    return z;
}

TCGv gen_compute_cf(DisasContext *s)
{
    if (s->cc_op != CC_OP_DYNAMIC)
        return gen_cf_static(s);
    TCGv t = cc_prefetched(s, CC_PRE_CF);
    return t != TCG_NO_TEMP ? t : gen_cf_dynamic(s);
}

void gen_set_eflags_cc(DisasContext *s, TCGv flags)
{
    cc_src_replaced(s);
    tcg_gen_andi(cpu_cc_src, flags, CC_MASK);
    set_cc_op(s, CC_OP_EFLAGS);
}

/* A condition as (cond, a, b) on IR values, fast for the common cc_ops. */
typedef struct CCPrepare {
    TCGCond cond;
    TCGv a, b;
    unsigned flags;     /* TCG_W32: compare the low halves */
} CCPrepare;

static CCPrepare prepare_cc_generic(DisasContext *s, unsigned jcc)
{
    TCGv f = gen_compute_eflags(s);
    CCPrepare p = { TCG_COND_TSTNE, f, TCG_NO_TEMP, 0 };
    switch (jcc >> 1) {
    case 0: p.b = tcg_const(CC_O); break;
    case 1: p.b = tcg_const(CC_C); break;
    case 2: p.b = tcg_const(CC_Z); break;
    case 3: p.b = tcg_const(CC_C | CC_Z); break;
    case 4: p.b = tcg_const(CC_S); break;
    case 5: p.b = tcg_const(CC_P); break;
    case 6: case 7: {
        /* SF != OF: bit 7 of (f ^ (f >> 4)); LE adds ZF (bit 6). */
        TCGv x = tcg_temp_new();
        tcg_gen_shri(x, f, 4);
        tcg_gen_xor(x, x, f);   /* bit 6 stays ZF: bit 10 of f is 0 */
        p.a = x;
        p.b = tcg_const((jcc >> 1) == 7 ? 0xc0 : 0x80);
        break;
    }
    }
    return p;
}

static TCGCond invert_cond(TCGCond c)
{
    static const TCGCond inv[] = {
        [TCG_COND_NEVER] = TCG_COND_ALWAYS, [TCG_COND_ALWAYS] = TCG_COND_NEVER,
        [TCG_COND_EQ] = TCG_COND_NE, [TCG_COND_NE] = TCG_COND_EQ,
        [TCG_COND_LT] = TCG_COND_GE, [TCG_COND_GE] = TCG_COND_LT,
        [TCG_COND_LE] = TCG_COND_GT, [TCG_COND_GT] = TCG_COND_LE,
        [TCG_COND_LTU] = TCG_COND_GEU, [TCG_COND_GEU] = TCG_COND_LTU,
        [TCG_COND_LEU] = TCG_COND_GTU, [TCG_COND_GTU] = TCG_COND_LEU,
        [TCG_COND_TSTEQ] = TCG_COND_TSTNE, [TCG_COND_TSTNE] = TCG_COND_TSTEQ,
    };
    return inv[c];
}

/* Right after CMP/SUB a, b: the condition on a and b themselves. */
static bool prepare_cc_from_cmp(DisasContext *s, unsigned jcc, CCPrepare *p)
{
    if (s->last_cmp.insn != s->insn_count - 1 || s->last_cmp.cc_op != s->cc_op || s->cc_op == CC_OP_DYNAMIC)
        return false;
    unsigned size = s->last_cmp.size;
    TCGv a = s->last_cmp.a, b = s->last_cmp.b;
    static const TCGCond unsigned_conds[8] = {
        [1] = TCG_COND_LTU, [2] = TCG_COND_EQ, [3] = TCG_COND_LEU,
    };
    unsigned base = jcc >> 1;
    /* ZF after SUB r, b (32/64-bit): r == 0, r in a register already (the
     * backend reuses the sub's flags); a compare of the old r with b would
     * need a copy of it kept */
    if (base == 2 && s->last_cmp.sub && size >= 4)
        return false;
    if (base == 1 || base == 2 || base == 3) {
        p->cond = unsigned_conds[base];
        if (size >= 4 || s->last_cmp.zext) {
            p->a = a;   /* the sub's own operands: the backend reuses its flags */
            p->b = b;
        } else {
            p->a = gen_zext(a, size);
            p->b = gen_zext(b, size);
        }
    } else if (base == 6 || base == 7) {
        p->cond = base == 6 ? TCG_COND_LT : TCG_COND_LE;
        p->a = size == 4 || size == 8 ? a : gen_sext(a, size);
        p->b = size == 4 || size == 8 ? b : gen_sext(b, size);
    } else {
        return false;
    }
    p->flags = size == 4 ? TCG_W32 : 0;
    if (jcc & 1)
        p->cond = invert_cond(p->cond);
    return true;
}

/* The condition's base (jcc >> 1) from single flags: the kinds without a
 * shorter form below. */
static TCGv gen_cond_from_flags(DisasContext *s, unsigned base)
{
    static FlagGen *const single[8] = {
        [0] = gen_of_into, [1] = gen_cf_into, [2] = gen_zf_into, [4] = gen_sf_into, [5] = gen_pf_into,
    };
    FlagTemps f = flag_temps();
    if (single[base]) {
        single[base](s, &f);
        return f.t;
    }
    TCGv r = tcg_temp_new();
    if (base == 3) {            /* CF | ZF */
        gen_cf_into(s, &f);
        tcg_gen_mov(r, f.t);
        gen_zf_into(s, &f);
        tcg_gen_or(r, r, f.t);
        return r;
    }
    gen_sf_into(s, &f);         /* L: SF ^ OF; LE: ... | ZF */
    tcg_gen_mov(r, f.t);
    gen_of_into(s, &f);
    tcg_gen_xor(r, r, f.t);
    if (base == 7) {
        gen_zf_into(s, &f);
        tcg_gen_or(r, r, f.t);
    }
    return r;
}

/* SF of a zero-extended result: its top bit; for 32 and 64 bits a signed
 * compare with 0 (the host's test r, r), no mask constant to load. */
static CCPrepare prepare_sign(TCGv v, unsigned size)
{
    if (size >= 4)
        return (CCPrepare){ TCG_COND_LT, v, tcg_const(0), size == 4 ? TCG_W32 : 0 };
    return (CCPrepare){ TCG_COND_TSTNE, v, tcg_const(1ULL << (size * 8 - 1)), 0 };
}

/* Signed cond on two zero-extended size-byte values: 32-bit ones compare
 * their low halves (no sign extensions). */
static CCPrepare prepare_signed(TCGCond cond, TCGv a, TCGv b, unsigned size)
{
    if (size == 4)
        return (CCPrepare){ cond, a, b, TCG_W32 };
    return (CCPrepare){ cond, gen_sext(a, size), gen_sext(b, size), 0 };
}

/* The condition's base from a static cc_op (not EFLAGS), inline. */
static CCPrepare prepare_cc_static(DisasContext *s, unsigned base)
{
    unsigned kind = CC_OP_KIND(s->cc_op), size = 1u << CC_OP_SIZE_LOG2(s->cc_op);
    /* ZF and SF come straight from the (zero-extended) result for every kind. */
    if (base == 2)
        return (CCPrepare){ TCG_COND_EQ, cpu_cc_dst, tcg_const(0), 0 };
    if (base == 4)
        return prepare_sign(cpu_cc_dst, size);
    if (kind == CC_K_SUB && (base == 1 || base == 3 || base == 6 || base == 7)) {
        TCGv a = tcg_temp_new();
        tcg_gen_add(a, cpu_cc_dst, cpu_cc_src);
        tcg_gen_extu(a, a, size);
        if (base == 1 || base == 3)
            return (CCPrepare){ base == 1 ? TCG_COND_LTU : TCG_COND_LEU, a, cpu_cc_src, 0 };
        return prepare_signed(base == 6 ? TCG_COND_LT : TCG_COND_LE, a, cpu_cc_src, size);
    }
    if (kind == CC_K_LOGIC) {
        switch (base) {
        case 0: case 1: return (CCPrepare){ TCG_COND_NEVER, cpu_cc_dst, cpu_cc_dst, 0 };
        case 3: return (CCPrepare){ TCG_COND_EQ, cpu_cc_dst, tcg_const(0), 0 };
        case 6: return prepare_sign(cpu_cc_dst, size);
        case 7: return prepare_signed(TCG_COND_LE, cpu_cc_dst, tcg_const(0), size);
        default: break;
        }
    }
    if (kind == CC_K_ADD && base == 1)
        return (CCPrepare){ TCG_COND_LTU, cpu_cc_dst, cpu_cc_src, 0 };
    return (CCPrepare){ TCG_COND_NE, gen_cond_from_flags(s, base), tcg_const(0), 0 };
}

static CCPrepare prepare_cc(DisasContext *s, unsigned jcc)
{
    CCPrepare p;
    if (prepare_cc_from_cmp(s, jcc, &p))
        return p;
    if (s->cc_op == CC_OP_DYNAMIC) {
        TCGv v = cc_prefetched(s, (int)jcc), nv = cc_prefetched(s, (int)(jcc ^ 1));
        if (v != TCG_NO_TEMP)   /* the prefetched value is the whole condition */
            return (CCPrepare){ TCG_COND_NE, v, tcg_const(0), 0 };
        if (nv != TCG_NO_TEMP)
            return (CCPrepare){ TCG_COND_EQ, nv, tcg_const(0), 0 };
        p = prepare_cc_generic(s, jcc);
    } else if (CC_OP_KIND(s->cc_op) == CC_K_EFLAGS) {
        p = prepare_cc_generic(s, jcc);
    } else {
        p = prepare_cc_static(s, jcc >> 1);
    }
    if (jcc & 1)
        p.cond = invert_cond(p.cond);
    return p;
}

/* The condition as 0/1. */
static TCGv gen_cond_value(DisasContext *s, unsigned jcc)
{
    return gen_setcc(s, jcc);
}

void gen_jcc(DisasContext *s, unsigned cond, int label)
{
    CCPrepare p = prepare_cc(s, cond);
    if (p.cond == TCG_COND_NEVER)
        return;
    if (p.cond == TCG_COND_ALWAYS) {
        tcg_gen_br(label);
        return;
    }
    tcg_gen_brcond(p.cond, p.flags, p.a, p.b, label);
}

TCGv gen_setcc(DisasContext *s, unsigned cond)
{
    CCPrepare p = prepare_cc(s, cond);
    TCGv t = tcg_temp_new();
    if (p.cond == TCG_COND_NEVER || p.cond == TCG_COND_ALWAYS)
        tcg_gen_movi(t, p.cond == TCG_COND_ALWAYS);
    else
        tcg_gen_setcond(p.cond, p.flags, t, p.a, p.b);
    return t;
}

void gen_movcond_cc(DisasContext *s, unsigned cond, TCGv d, TCGv v1, TCGv v2)
{
    CCPrepare p = prepare_cc(s, cond);
    if (p.cond == TCG_COND_NEVER || p.cond == TCG_COND_ALWAYS)
        tcg_gen_mov(d, p.cond == TCG_COND_ALWAYS ? v1 : v2);
    else
        tcg_gen_movcond(p.cond, p.flags, d, p.a, p.b, v1, v2);
}

