/* Cold ops for the x86-64 backend (TCG_COLD, see tcg/cold.c): computed on
 * the slow path of the guest access they precede, not on the fast path.
 *
 * The ops are queued as they come; the access records, when its slow path
 * is made, where each input is at that moment (the registers the fast path
 * holds at its jump to the slow path), and the slow path runs them after
 * writing back the dirty globals and before the helper call that may fault.
 * The code uses RAX and RCX, saved on the stack around it, and writes each
 * result to its home (env for a global, the stack slot for a temp), which
 * is where later cold ops read it. The inputs stay allocated until the
 * access has been emitted, so nothing reuses their registers before the
 * slow path's jump. */
#include "tcg/x86_64/backend.h"

void cold_queue(Gen *g, const TCGOp *op)
{
    if (g->nb_cold_pending >= (int)ARRAY_SIZE(g->cold_pending)) {
        g->failed = true;   /* tcg_cold_sink's region bound keeps groups smaller */
        return;
    }
    g->cold_pending[g->nb_cold_pending++] = op;
}

static ColdLoc home_loc(Gen *g, int t)
{
    return (ColdLoc){ .kind = CL_MEM, .reg = (int8_t)temp_base(g, t), .off = temp_slot(g, t) };
}

/* Where input t is now; an output of an earlier op of the group is in its home. */
static ColdLoc input_loc(Gen *g, int t, int upto)
{
    for (int i = 0; i < upto; i++)
        if ((int)g->cold_pending[i]->args[0] == t)
            return home_loc(g, t);
    if (t == 0)
        return (ColdLoc){ .kind = CL_REG, .reg = RBP };
    const TempState *ts = &g->ts[t];
    switch (ts->val) {
    case TS_REG: return (ColdLoc){ .kind = CL_REG, .reg = ts->reg };
    case TS_CONST: return (ColdLoc){ .kind = CL_CONST, .cst = ts->cst };
    case TS_MEM: return home_loc(g, t);
    default: return (ColdLoc){ .kind = CL_CONST, .cst = 0 };   /* dead: IR bug */
    }
}

/* The pending group as ColdOps, with the inputs where they are now. */
static int record_group(Gen *g, ColdOp *out)
{
    for (int i = 0; i < g->nb_cold_pending; i++) {
        const TCGOp *op = g->cold_pending[i];
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        ColdOp *c = &out[i];
        c->opc = op->opc;
        c->w32 = (op->flags & TCG_W32) != 0;
        c->cond = op->opc == INDEX_op_setcond ? (uint8_t)op->args[3] : 0;
        c->nin = def->nb_iargs;
        for (int k = 0; k < def->nb_iargs; k++)
            c->in[k] = input_loc(g, (int)op->args[def->nb_oargs + k], i);
        c->out = home_loc(g, (int)op->args[0]);
    }
    return g->nb_cold_pending;
}

enum { COLD_BIAS = 16 };   /* RAX and RCX pushed: RSP-based slots move */

static void cold_mem(Emitter *e, uint32_t opc, int reg, ColdLoc l)
{
    em_rm(e, opc, 1, true, reg, l.reg, -1, 0, l.off + (l.reg == RSP ? COLD_BIAS : 0), false);
}

static void cold_load(Emitter *e, int d, ColdLoc l)
{
    if (l.kind == CL_CONST)
        movi(e, d, l.cst);
    else if (l.kind == CL_MEM)
        cold_mem(e, 0x8b, d, l);
    else if (l.reg == RAX || l.reg == RCX)   /* clobbered: the pushed copy */
        em_rm(e, 0x8b, 1, true, d, RSP, -1, 0, l.reg == RAX ? 8 : 0, false);
    else
        mov_rr(e, d, l.reg);
}

/* rax = rax OP rcx (or OP rax) */
static void cold_compute(Emitter *e, const ColdOp *c)
{
    static const uint8_t rr_opc[NB_OPS] = {
        [INDEX_op_add] = 0x01, [INDEX_op_sub] = 0x29, [INDEX_op_and] = 0x21,
        [INDEX_op_or] = 0x09, [INDEX_op_xor] = 0x31,
    };
    static const uint8_t shift_ext[NB_OPS] = {
        [INDEX_op_shl] = 4, [INDEX_op_shr] = 5, [INDEX_op_sar] = 7,
    };
    bool w = !c->w32;
    switch (c->opc) {
    case INDEX_op_mov: break;
    case INDEX_op_add: case INDEX_op_sub: case INDEX_op_and: case INDEX_op_or: case INDEX_op_xor:
        em_rr(e, rr_opc[c->opc], 1, w, RCX, RAX, false);
        break;
    case INDEX_op_shl: case INDEX_op_shr: case INDEX_op_sar:
        em_rr(e, 0xd3, 1, w, shift_ext[c->opc], RAX, false);   /* by cl: modulo the width */
        break;
    case INDEX_op_neg: case INDEX_op_not:
        em_rr(e, 0xf7, 1, w, c->opc == INDEX_op_neg ? 3 : 2, RAX, false);
        break;
    case INDEX_op_ext8s: em_rr(e, 0xbe0f, 2, true, RAX, RAX, true); break;
    case INDEX_op_ext8u: em_rr(e, 0xb60f, 2, false, RAX, RAX, true); break;
    case INDEX_op_ext16s: em_rr(e, 0xbf0f, 2, true, RAX, RAX, false); break;
    case INDEX_op_ext16u: em_rr(e, 0xb70f, 2, false, RAX, RAX, false); break;
    case INDEX_op_ext32s: em_rr(e, 0x63, 1, true, RAX, RAX, false); break;
    case INDEX_op_ext32u: em_rr(e, 0x89, 1, false, RAX, RAX, false); break;
    case INDEX_op_setcond: {
        TCGCond cond = (TCGCond)c->cond;
        if (cond == TCG_COND_NEVER || cond == TCG_COND_ALWAYS) {
            movi(e, RAX, cond == TCG_COND_ALWAYS);
            return;
        }
        bool tst = cond == TCG_COND_TSTEQ || cond == TCG_COND_TSTNE;
        em_rr(e, tst ? 0x85 : 0x39, 1, w, RCX, RAX, false);            /* cmp/test rax, rcx */
        em_rr(e, 0x900f | ((uint32_t)cond_cc(cond) << 8), 2, false, 0, RAX, true);   /* setcc al */
        em_rr(e, 0xb60f, 2, false, RAX, RAX, true);                     /* movzx eax, al */
        return;
    }
    default: break;   /* tcg_op_can_be_cold() admits no other op */
    }
    if (c->w32)
        em_rr(e, 0x89, 1, false, RAX, RAX, false);   /* mov eax, eax: a W32 result is zero-extended */
}

void emit_cold_code(Gen *g, const ColdOp *c, int n)
{
    Emitter *e = &g->e;
    em_byte(e, 0x50 + RAX);
    em_byte(e, 0x50 + RCX);
    for (int i = 0; i < n; i++) {
        cold_load(e, RAX, c[i].in[0]);
        if (c[i].nin > 1)
            cold_load(e, RCX, c[i].in[1]);
        cold_compute(e, &c[i]);
        cold_mem(e, 0x89, RAX, c[i].out);
    }
    em_byte(e, 0x58 + RCX);
    em_byte(e, 0x58 + RAX);
}

/* After the group: its inputs die now. Its results are in their homes
 * (computed in place), or were never computed on this path (deferred to a
 * slow path: dead from here on). */
static void release_group(Gen *g, bool computed)
{
    for (int i = 0; i < g->nb_cold_pending; i++) {
        const TCGOp *op = g->cold_pending[i];
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        free_dead_inputs(g, op, def->nb_oargs, def->nb_iargs);
        int d = (int)op->args[0];
        TempState *ts = &g->ts[d];
        if (ts->val == TS_REG && g->reg_temp[ts->reg] == d)
            reg_free(g, ts->reg);
        ts->reg = -1;
        if (g->s->temps[d].kind == TEMP_GLOBAL) {
            ts->val = TS_MEM;
            ts->coherent = true;
        } else {
            ts->val = computed ? TS_MEM : TS_DEAD;
            ts->coherent = true;
        }
    }
    g->nb_cold_pending = 0;
}

/* A group not followed by an access (not made by tcg_cold_sink), or one
 * the block's record has no room for: in place. */
void cold_flush_inline(Gen *g)
{
    ColdOp c[ARRAY_SIZE(g->cold_pending)];
    emit_cold_code(g, c, record_group(g, c));
    release_group(g, true);
}

/* Before the access's slow path is made (its registers allocated): a group
 * that cannot be deferred runs now, ahead of the write-back list. */
void cold_before_slow_path(Gen *g)
{
    if (g->nb_cold_pending && g->nb_cold + g->nb_cold_pending > (int)ARRAY_SIZE(g->cold))
        cold_flush_inline(g);
}

/* The pending group into the slow path just made. */
void cold_attach(Gen *g, SlowPath *sp)
{
    sp->cold_n = 0;
    if (!g->nb_cold_pending)
        return;
    sp->cold_first = (int16_t)g->nb_cold;
    sp->cold_n = (int16_t)record_group(g, &g->cold[g->nb_cold]);
    g->nb_cold += sp->cold_n;
}

/* The access that took the group is emitted. */
void cold_done(Gen *g)
{
    if (g->nb_cold_pending)
        release_group(g, false);
}
