/* Host flags reused by a compare: a guest CMP becomes a subtraction (its
 * lazy-flag result, kept for a later fault or exit) and a compare of the
 * same operands (the branch, cmov or setcc that reads the flags). The
 * subtraction's host `sub` already set the flags the compare would set, so
 * the compare is left out when nothing in between can have changed them or
 * the operands: only ops that emit moves, loads and stores (no xor-zeroing:
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

void flags_before_op(Gen *g, const TCGOp *op)
{
    if (!g->fl.valid)
        return;
    if (!keeps_flags(op->opc) || g->nb_cold_pending) {
        g->fl.valid = false;
        return;
    }
    /* an operand given a new value: the flags no longer describe it */
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    for (int i = 0; i < def->nb_oargs; i++)
        if ((int)op->args[i] == g->fl.a || (int)op->args[i] == g->fl.b)
            g->fl.valid = false;
}

/* The `sub` of a - b (width w32) was just emitted and set the flags; d is
 * the op's output (a new value for a or b would not be what the compare
 * reads). */
void flags_note_sub(Gen *g, int d, int a, int b, bool w32)
{
    int64_t v = 0;
    g->fl.valid = d != a && d != b;
    g->fl.a = a;
    g->fl.b = b;
    g->fl.b_const = is_const(g, b, &v);
    g->fl.b_val = v;
    g->fl.w32 = w32;
    g->fl.clobbers = g->e.flag_clobbers;
}

static bool flags_match(Gen *g, TCGCond c, bool w32, int a, int b)
{
    int64_t v;
    if (!g->fl.valid || g->fl.clobbers != g->e.flag_clobbers || c == TCG_COND_TSTEQ ||
        c == TCG_COND_TSTNE || w32 != g->fl.w32 || a != g->fl.a)
        return false;
    if (b == g->fl.b)
        return true;
    /* the same constant, from another temp */
    return g->fl.b_const && is_const(g, b, &v) && v == g->fl.b_val;
}

/* True when the host flags already hold cmp a, b at this width; else the
 * caller emits a compare, and the flags are its. */
bool flags_hold_compare(Gen *g, TCGCond c, bool w32, int a, int b)
{
    if (!flags_match(g, c, w32, a, b)) {
        g->fl.valid = false;
        return false;
    }
    g->s->stat_flags_reused++;
    return true;
}
