/* x86 -> IR translator: lazy flags. Instructions record their flag
 * producer (cc_op and operands); consumers (ADC/SBB, Jcc, SETcc, CMOVcc,
 * PUSHF...) compute just the bits they need, inline for the common
 * producers, through helper_cc_* otherwise. See cc.h for the encoding. */
#include "cpu/x86/translate.h"
#include "cpu/x86/translate-helpers.h"

void set_cc_op(DisasContext *s, uint32_t op)
{
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

void gen_cc_result(DisasContext *s, unsigned kind, unsigned size, TCGv dst, TCGv src, TCGv src2)
{
    tcg_gen_extu(cpu_cc_dst, dst, size);
    if (src != TCG_NO_TEMP)
        tcg_gen_extu(cpu_cc_src, src, size);
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
    if (s->cc_op == CC_OP_DYNAMIC)
        return;
    unsigned kind = CC_OP_KIND(s->cc_op);
    if (kind == CC_K_EFLAGS)
        tcg_gen_discard(cpu_cc_dst);
    if (kind == CC_K_LOGIC)
        tcg_gen_discard(cpu_cc_src);
    if (kind != CC_K_ADC && kind != CC_K_SBB)
        tcg_gen_discard(cpu_cc_src2);
}

static TCGv cc_op_value(DisasContext *s)
{
    if (s->cc_op == CC_OP_DYNAMIC)
        return gen_env_ld(ENV_OFF(cc_op), MO_32);
    return tcg_const(s->cc_op);
}

TCGv gen_compute_eflags(DisasContext *s)
{
    TCGv t = tcg_temp_new();
    if (s->cc_op == CC_OP_EFLAGS) {
        tcg_gen_mov(t, cpu_cc_src);
        return t;
    }
    gen_helper_pure(helper_cc_flags, t, 4, cc_op_value(s), cpu_cc_dst, cpu_cc_src, cpu_cc_src2);
    return t;
}

TCGv gen_compute_cf(DisasContext *s)
{
    TCGv t = tcg_temp_new();
    if (s->cc_op != CC_OP_DYNAMIC) {
        unsigned kind = CC_OP_KIND(s->cc_op), size = 1u << CC_OP_SIZE_LOG2(s->cc_op);
        switch (kind) {
        case CC_K_EFLAGS: case CC_K_INC: case CC_K_DEC:
            tcg_gen_andi(t, cpu_cc_src, 1);
            return t;
        case CC_K_LOGIC:
            tcg_gen_movi(t, 0);
            return t;
        case CC_K_ADD:   /* carry = (dst < src) on the truncated values */
            tcg_gen_setcond(TCG_COND_LTU, 0, t, cpu_cc_dst, cpu_cc_src);
            return t;
        case CC_K_SUB: { /* borrow = (dst + src) < src */
            TCGv a = tcg_temp_new();
            tcg_gen_add(a, cpu_cc_dst, cpu_cc_src);
            tcg_gen_extu(a, a, size);
            tcg_gen_setcond(TCG_COND_LTU, 0, t, a, cpu_cc_src);
            return t;
        }
        case CC_K_ADC: { /* carry-in ? dst <= src : dst < src */
            TCGv le = tcg_temp_new(), lt = tcg_temp_new();
            tcg_gen_setcond(TCG_COND_LEU, 0, le, cpu_cc_dst, cpu_cc_src);
            tcg_gen_setcond(TCG_COND_LTU, 0, lt, cpu_cc_dst, cpu_cc_src);
            tcg_gen_movcond(TCG_COND_NE, 0, t, cpu_cc_src2, tcg_const(0), le, lt);
            return t;
        }
        case CC_K_SBB: { /* a = dst + src + borrow-in; borrow-in ? a <= src : a < src */
            TCGv a = tcg_temp_new(), le = tcg_temp_new(), lt = tcg_temp_new();
            tcg_gen_add(a, cpu_cc_dst, cpu_cc_src);
            tcg_gen_add(a, a, cpu_cc_src2);
            tcg_gen_extu(a, a, size);
            tcg_gen_setcond(TCG_COND_LEU, 0, le, a, cpu_cc_src);
            tcg_gen_setcond(TCG_COND_LTU, 0, lt, a, cpu_cc_src);
            tcg_gen_movcond(TCG_COND_NE, 0, t, cpu_cc_src2, tcg_const(0), le, lt);
            return t;
        }
        case CC_K_SHL: { /* the last bit shifted out: top bit of src */
            tcg_gen_shri(t, cpu_cc_src, size * 8 - 1);
            tcg_gen_andi(t, t, 1);
            return t;
        }
        case CC_K_SHR: case CC_K_SAR:
            tcg_gen_andi(t, cpu_cc_src, 1);
            return t;
        case CC_K_MUL:
            tcg_gen_setcond(TCG_COND_NE, 0, t, cpu_cc_src, tcg_const(0));
            return t;
        default:
            break;
        }
    }
    gen_helper_pure(helper_cc_carry, t, 4, cc_op_value(s), cpu_cc_dst, cpu_cc_src, cpu_cc_src2);
    return t;
}

void gen_set_eflags_cc(DisasContext *s, TCGv flags)
{
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
    if (base == 1 || base == 2 || base == 3) {
        p->cond = unsigned_conds[base];
        if (size >= 4) {
            p->a = a;
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

static CCPrepare prepare_cc(DisasContext *s, unsigned jcc)
{
    CCPrepare p;
    unsigned base = jcc >> 1;
    if (prepare_cc_from_cmp(s, jcc, &p))
        return p;
    if (s->cc_op == CC_OP_DYNAMIC || CC_OP_KIND(s->cc_op) == CC_K_EFLAGS)
        goto generic;
    unsigned kind = CC_OP_KIND(s->cc_op), size = 1u << CC_OP_SIZE_LOG2(s->cc_op);
    uint64_t sign = 1ULL << (size * 8 - 1);
    /* ZF and SF come straight from the (zero-extended) result for every kind. */
    if (base == 2) {
        p = (CCPrepare){ TCG_COND_EQ, cpu_cc_dst, tcg_const(0) };
        goto done;
    }
    if (base == 4) {
        p = (CCPrepare){ TCG_COND_TSTNE, cpu_cc_dst, tcg_const(sign) };
        goto done;
    }
    if (kind == CC_K_SUB) {
        TCGv a = tcg_temp_new();
        tcg_gen_add(a, cpu_cc_dst, cpu_cc_src);
        tcg_gen_extu(a, a, size);
        switch (base) {
        case 1: p = (CCPrepare){ TCG_COND_LTU, a, cpu_cc_src }; goto done;
        case 3: p = (CCPrepare){ TCG_COND_LEU, a, cpu_cc_src }; goto done;
        case 6: case 7:
            p = (CCPrepare){ base == 6 ? TCG_COND_LT : TCG_COND_LE,
                             gen_sext(a, size), gen_sext(cpu_cc_src, size) };
            goto done;
        default:
            break;
        }
    } else if (kind == CC_K_LOGIC) {
        switch (base) {
        case 0: case 1:
            p = (CCPrepare){ TCG_COND_NEVER, cpu_cc_dst, cpu_cc_dst };
            goto done;
        case 3:
            p = (CCPrepare){ TCG_COND_EQ, cpu_cc_dst, tcg_const(0) };
            goto done;
        case 6:
            p = (CCPrepare){ TCG_COND_TSTNE, cpu_cc_dst, tcg_const(sign) };
            goto done;
        case 7:
            p = (CCPrepare){ TCG_COND_LE, gen_sext(cpu_cc_dst, size), tcg_const(0) };
            goto done;
        default:
            break;
        }
    } else if (kind == CC_K_ADD && base == 1) {
        p = (CCPrepare){ TCG_COND_LTU, cpu_cc_dst, cpu_cc_src };
        goto done;
    }
generic:
    p = prepare_cc_generic(s, jcc);
    if (jcc & 1)
        p.cond = invert_cond(p.cond);
    return p;
done:
    if (jcc & 1)
        p.cond = invert_cond(p.cond);
    return p;
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

