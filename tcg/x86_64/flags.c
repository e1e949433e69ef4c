/* Host flags reused by a compare. A guest CMP becomes a subtraction (its
 * lazy-flag result, kept for a later fault or exit) and a compare of the
 * same operands (the branch, cmov or setcc that reads the flags); a guest
 * JZ after DEC, AND, ... compares the op's result with 0. The host ALU
 * instruction already set the flags such a compare would set, so the
 * compare is left out when nothing in between can have changed them or
 * the values: only ops that emit moves, loads and stores (no xor-zeroing:
 * the emitter counts those), no label, no cold code. */
#include "tcg/x86_64/backend.h"

/* Ops whose code leaves the host flags alone (their register moves, spills
 * and reloads included), and those that read them through emit_compare
 * (which forgets them when it emits a compare of its own). */
static bool keeps_flags(TCGOpcode opc)
{
    switch (opc) {
    case INDEX_op_discard: case INDEX_op_insn_start: case INDEX_op_mov: case INDEX_op_movi:
    case INDEX_op_st: case INDEX_op_ext8s: case INDEX_op_ext8u: case INDEX_op_ext16s:
    case INDEX_op_ext16u: case INDEX_op_ext32s: case INDEX_op_ext32u:
    case INDEX_op_brcond: case INDEX_op_movcond: case INDEX_op_setcond:
        return true;
    default:
        return false;
    }
}

static void forget(Gen *g, int t)
{
    if (t == g->fl.a || t == g->fl.b)
        g->fl.a = g->fl.b = -1;   /* a - b: no longer these values */
    if (t == g->fl.res)
        g->fl.res = -1;
    if (t == g->fl.copy)
        g->fl.copy = -1;
}

/* The last copy of a value (mov, or ext32u: the same low half) while both
 * keep their values: `sub a, a, b` then sets the flags of cmp copy, b, the
 * front end's shape for SUB/DEC then Jcc (the compare reads the old value). */
static void track_copy(Gen *g, const TCGOp *op, const TCGOpDef *def)
{
    g->fl.snap_dst = g->fl.copy_dst;   /* as they were before op */
    g->fl.snap_src = g->fl.copy_src;
    g->fl.snap_low = g->fl.copy_low;
    for (int i = 0; i < def->nb_oargs; i++)
        if ((int)op->args[i] == g->fl.copy_dst || (int)op->args[i] == g->fl.copy_src)
            g->fl.copy_dst = g->fl.copy_src = -1;
    if (op->opc == INDEX_op_set_label)   /* a join: other paths skipped the copy */
        g->fl.copy_dst = g->fl.copy_src = -1;
    if ((op->opc == INDEX_op_mov || op->opc == INDEX_op_ext32u) && !(op->flags & TCG_COLD)) {
        g->fl.copy_dst = (int)op->args[0];
        g->fl.copy_src = (int)op->args[1];
        g->fl.copy_low = op->opc == INDEX_op_ext32u;
    }
}

void flags_before_op(Gen *g, const TCGOp *op)
{
    track_copy(g, op, &tcg_op_defs[op->opc]);
    if (g->fl.late_forget >= 0)   /* the previous op's output, written after its compare */
        forget(g, g->fl.late_forget);
    g->fl.late_forget = -1;
    if (!g->fl.valid)
        return;
    if (!keeps_flags(op->opc) || g->nb_cold_pending) {
        g->fl.valid = false;
        return;
    }
    /* a value given a new value: the flags no longer describe it (setcond
     * and movcond write theirs after reading the flags) */
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    bool reads_first = op->opc == INDEX_op_setcond || op->opc == INDEX_op_movcond;
    for (int i = 0; i < def->nb_oargs; i++) {
        if (reads_first)
            g->fl.late_forget = (int)op->args[i];
        else
            forget(g, (int)op->args[i]);
    }
    /* a copy of the result (mov cc_dst, t), or its zero-extension when the
     * op was 32-bit: the same value */
    int in = def->nb_oargs ? (int)op->args[def->nb_oargs] : -1;
    if ((op->opc == INDEX_op_mov || (op->opc == INDEX_op_ext32u && g->fl.w32)) && in >= 0 &&
        (in == g->fl.res || in == g->fl.copy))
        g->fl.copy = (int)op->args[0];
}

/* The host instruction just emitted computed op's output d = a op b (width
 * w32) in a register and set the flags from it: for a sub, those of
 * cmp a, b too (unless d is a or b: a compare would read the new value);
 * for and/or/xor, those of test d, d. */
void flags_note_alu(Gen *g, const TCGOp *op, int d, int a, int b, bool w32)
{
    int64_t v = 0;
    bool sub = op->opc == INDEX_op_sub;
    g->fl.valid = true;
    g->fl.a = sub && d != a && d != b ? a : -1;
    if (sub && d == a && d != b && g->fl.snap_src == a && g->fl.snap_dst != b && (w32 || !g->fl.snap_low))
        g->fl.a = g->fl.snap_dst;   /* in place: the copy holds the old a */
    g->fl.b = g->fl.a >= 0 ? b : -1;
    g->fl.b_const = is_const(g, b, &v);
    g->fl.b_val = v;
    g->fl.res = d;
    g->fl.copy = -1;
    g->fl.logic = op->opc == INDEX_op_and || op->opc == INDEX_op_or || op->opc == INDEX_op_xor;
    g->fl.w32 = w32;
    g->fl.clobbers = g->e.flag_clobbers;
}

/* cond(x, 0) where the flags came from computing x: ZF is x == 0 (a 32-bit
 * op's result is zero-extended, so a 64-bit compare sees the same); after
 * and/or/xor (CF = OF = 0, SF the top bit) every condition reads as after
 * test x, x at the op's width. */
static bool result_match(const Gen *g, TCGCond c, bool w32, int x)
{
    if (x < 0 || (x != g->fl.res && x != g->fl.copy))
        return false;
    if (c == TCG_COND_EQ || c == TCG_COND_NE)
        return g->fl.w32 || !w32;
    return g->fl.logic && w32 == g->fl.w32 && c != TCG_COND_TSTEQ && c != TCG_COND_TSTNE;
}

static bool flags_match(Gen *g, TCGCond c, bool w32, int a, int b)
{
    int64_t v;
    if (!g->fl.valid || g->fl.clobbers != g->e.flag_clobbers)
        return false;
    if (is_const(g, b, &v) && v == 0 && result_match(g, c, w32, a))
        return true;
    if (g->fl.a < 0 || c == TCG_COND_TSTEQ || c == TCG_COND_TSTNE || w32 != g->fl.w32 || a != g->fl.a)
        return false;
    if (b == g->fl.b)
        return true;
    /* the same constant, from another temp */
    return g->fl.b_const && is_const(g, b, &v) && v == g->fl.b_val;
}

/* True when the host flags already hold the compare of a with b at this
 * width; else the caller emits a compare, and the flags are its. */
bool flags_hold_compare(Gen *g, TCGCond c, bool w32, int a, int b)
{
    if (!flags_match(g, c, w32, a, b)) {
        g->fl.valid = false;
        return false;
    }
    g->s->stat_flags_reused++;
    return true;
}
