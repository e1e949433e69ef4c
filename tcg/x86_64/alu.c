/* Integer ops of the x86-64 backend: compares, ALU, shifts, unary ops,
 * double-width multiply, setcond/movcond. */
#include "tcg/x86_64/backend.h"

/* ---- op lowering ---------------------------------------------------------------------- */
uint8_t cond_cc(TCGCond c)
{
    static const uint8_t cc[] = {
        [TCG_COND_EQ] = 0x4, [TCG_COND_NE] = 0x5, [TCG_COND_LT] = 0xc, [TCG_COND_GE] = 0xd,
        [TCG_COND_LE] = 0xe, [TCG_COND_GT] = 0xf, [TCG_COND_LTU] = 0x2, [TCG_COND_GEU] = 0x3,
        [TCG_COND_LEU] = 0x6, [TCG_COND_GTU] = 0x7, [TCG_COND_TSTEQ] = 0x4, [TCG_COND_TSTNE] = 0x5,
    };
    return cc[c];
}

static TCGCond swap_cond(TCGCond c)
{
    switch (c) {
    case TCG_COND_LT: return TCG_COND_GT;
    case TCG_COND_GT: return TCG_COND_LT;
    case TCG_COND_LE: return TCG_COND_GE;
    case TCG_COND_GE: return TCG_COND_LE;
    case TCG_COND_LTU: return TCG_COND_GTU;
    case TCG_COND_GTU: return TCG_COND_LTU;
    case TCG_COND_LEU: return TCG_COND_GEU;
    case TCG_COND_GEU: return TCG_COND_LEU;
    default: return c;
    }
}

/* Emit cmp/test for cond(a, b); returns the (possibly swapped) condition. */
TCGCond emit_compare(Gen *g, TCGCond c, bool w32, int ta, int tb)
{
    int64_t v;
    bool w = !w32;
    bool tst = c == TCG_COND_TSTEQ || c == TCG_COND_TSTNE;
    if (is_const(g, ta, &v) && !is_const(g, tb, &v)) {
        int t = ta; ta = tb; tb = t;
        c = swap_cond(c);
    }
    if (flags_hold_compare(g, c, w32, ta, tb))
        return c;   /* the subtraction just before set them */
    int ra = temp_load(g, ta, 0);
    if (is_const(g, tb, &v) && (w32 || fits_i32(v))) {
        if (tst) {
            em_rr(&g->e, 0xf7, 1, w, 0, ra, false);        /* test r, imm32 */
        } else if (v == 0) {
            em_rr(&g->e, 0x85, 1, w, ra, ra, false);       /* test r, r */
            return c;
        } else {
            em_rr(&g->e, 0x81, 1, w, 7, ra, false);        /* cmp r, imm32 */
        }
        em_u32(&g->e, (uint32_t)v);
        return c;
    }
    int rb = temp_load(g, tb, 0);
    em_rr(&g->e, tst ? 0x85 : 0x39, 1, w, rb, ra, false);  /* test/cmp ra, rb */
    return c;
}

/* rd = rd op rs (imul for mul), then the op's output is rd. */
static void alu_rr_into(Gen *g, const TCGOp *op, bool w, int rd, int rs, uint8_t opc)
{
    if (op->opc == INDEX_op_mul)
        em_rr(&g->e, 0xaf0f, 2, w, rd, rs, false);
    else
        em_rr(&g->e, opc, 1, w, rs, rd, false);
    free_dead_inputs(g, op, 1, 2);
    set_output(g, (int)op->args[0], rd);
}

void gen_alu(Gen *g, const TCGOp *op)
{
    static const uint8_t grp1[NB_OPS] = {
        [INDEX_op_add] = 0, [INDEX_op_or] = 1, [INDEX_op_and] = 4, [INDEX_op_sub] = 5, [INDEX_op_xor] = 6,
    };
    static const uint8_t rr_opc[NB_OPS] = {
        [INDEX_op_add] = 0x01, [INDEX_op_or] = 0x09, [INDEX_op_and] = 0x21, [INDEX_op_sub] = 0x29,
        [INDEX_op_xor] = 0x31,
    };
    bool w = !(op->flags & TCG_W32);
    int td = (int)op->args[0], ta = (int)op->args[1], tb = (int)op->args[2];
    int64_t v;
    bool commutative = op->opc != INDEX_op_sub;
    /* d = c op a for a commutative op with a constant first operand */
    if (commutative && is_const(g, ta, &v) && !is_const(g, tb, &v)) {
        int t = ta; ta = tb; tb = t;
    }
    if (is_const(g, tb, &v) && (!w || fits_i32(v))) {
        int ra = temp_load(g, ta, 0);
        int rd = out_reg_from(g, op, ta == (int)op->args[1] ? 0 : 1, 0);
        if (rd != ra && (op->opc == INDEX_op_add || op->opc == INDEX_op_sub) &&
            fits_i32(op->opc == INDEX_op_sub ? -v : v)) {
            /* three-operand add: lea rd, [ra + v] (32-bit lea zero-extends) */
            int32_t disp = (int32_t)(op->opc == INDEX_op_sub ? -v : v);
            em_rm(&g->e, 0x8d, 1, w, rd, ra, -1, 0, disp, false);
            free_dead_inputs(g, op, 1, 2);
            set_output(g, td, rd);
            return;
        }
        mov_rr(&g->e, rd, ra);
        if (op->opc == INDEX_op_mul) {
            em_rr(&g->e, 0x69, 1, w, rd, rd, false);
            em_u32(&g->e, (uint32_t)v);
        } else if (v == (int8_t)v) {
            em_rr(&g->e, 0x83, 1, w, grp1[op->opc], rd, false);
            em_byte(&g->e, (uint8_t)v);
        } else {
            em_rr(&g->e, 0x81, 1, w, grp1[op->opc], rd, false);
            em_u32(&g->e, (uint32_t)v);
        }
        if (op->opc != INDEX_op_mul)
            flags_note_alu(g, op, td, ta, tb, !w);
        free_dead_inputs(g, op, 1, 2);
        set_output(g, td, rd);
        return;
    }
    int ra = temp_load(g, ta, 0);
    int rb = temp_load(g, tb, 0);
    int ia = ta == (int)op->args[1] ? 0 : 1;
    /* a global updated by its own op: in place (d = d op b, or d = d op a) */
    int rd = ta != tb ? in_place_reg(g, op, ia, 1 << rb) : -1;
    if (rd < 0 && commutative && ta != tb) {
        rd = in_place_reg(g, op, 1 - ia, 1 << ra);
        if (rd >= 0) {
            rb = ra;
            ra = rd;
        }
    }
    if (rd >= 0) {
        alu_rr_into(g, op, w, rd, rb, rr_opc[op->opc]);
        if (op->opc != INDEX_op_mul && (ia == 0 || op->opc != INDEX_op_sub))   /* d = a op b in a's register */
            flags_note_alu(g, op, td, ta, tb, !w);
        return;
    }
    if (commutative && (op->dead & 2) && tb > 0 && g->s->temps[tb].kind != TEMP_GLOBAL &&
        ta != tb) {
        rd = out_reg_from(g, op, ta == (int)op->args[1] ? 1 : 0, 0);
        /* rd = rb's register: d = b op a */
        if (rd == rb) {
            alu_rr_into(g, op, w, rd, ra, rr_opc[op->opc]);
            return;
        }
    } else {
        rd = out_reg_from(g, op, ta == (int)op->args[1] ? 0 : 1, 1 << rb);
    }
    if (rd == rb && ra != rb) {
        /* only possible for a non-commutative op when out_reg_from could not
         * avoid it; go through a scratch register */
        int sc = reg_alloc(g, (1 << ra) | (1 << rb));
        mov_rr(&g->e, sc, ra);
        em_rr(&g->e, rr_opc[op->opc], 1, w, rb, sc, false);
        mov_rr(&g->e, rd, sc);
    } else if (op->opc == INDEX_op_add && rd != ra && rd != rb) {
        em_rm(&g->e, 0x8d, 1, w, rd, ra, rb, 0, 0, false);   /* lea rd, [ra + rb] */
    } else {
        mov_rr(&g->e, rd, ra);
        if (op->opc == INDEX_op_mul)
            em_rr(&g->e, 0xaf0f, 2, w, rd, rb, false);
        else
            em_rr(&g->e, rr_opc[op->opc], 1, w, rb, rd, false);
    }
    if (op->opc != INDEX_op_mul && !(op->opc == INDEX_op_add && rd != ra && rd != rb))   /* not lea */
        flags_note_alu(g, op, td, ta, tb, !w);   /* a op b, by either way above */
    free_dead_inputs(g, op, 1, 2);
    set_output(g, td, rd);
}

/* SHLX/SHRX/SARX d, a, b (BMI2): the count in any register, masked as the
 * IR says (mod 64, mod 32 for W32), no CL, no copy of a into d, flags kept.
 * VEX.LZ.{66,F2,F3}.0F38.W F7 /r: d in ModRM.reg, a in ModRM.rm, b in vvvv. */
static void gen_shift_bmi2(Gen *g, const TCGOp *op, bool w)
{
    int td = (int)op->args[0];
    int ra = temp_load(g, (int)op->args[1], 0);
    int rb = temp_load(g, (int)op->args[2], 0);
    int rd = out_reg_from(g, op, 0, 0);
    uint8_t pp = op->opc == INDEX_op_shl ? 1 : op->opc == INDEX_op_sar ? 2 : 3;
    Emitter *e = &g->e;
    em_byte(e, 0xc4);
    em_byte(e, (uint8_t)(((rd & 8) ? 0 : 0x80) | 0x40 | ((ra & 8) ? 0 : 0x20) | 0x02));
    em_byte(e, (uint8_t)((w ? 0x80 : 0) | ((~rb & 15) << 3) | pp));
    em_byte(e, 0xf7);
    em_byte(e, (uint8_t)(0xc0 | ((rd & 7) << 3) | (ra & 7)));
    free_dead_inputs(g, op, 1, 2);
    set_output(g, td, rd);
}

void gen_shift(Gen *g, const TCGOp *op)
{
    static const uint8_t ext[NB_OPS] = {
        [INDEX_op_rotl] = 0, [INDEX_op_rotr] = 1, [INDEX_op_shl] = 4, [INDEX_op_shr] = 5, [INDEX_op_sar] = 7,
    };
    bool w = !(op->flags & TCG_W32);
    int td = (int)op->args[0], ta = (int)op->args[1], tb = (int)op->args[2];
    int64_t v;
    if (is_const(g, tb, &v)) {
        int ra = temp_load(g, ta, 0);
        int rd = out_reg_from(g, op, 0, 0);
        mov_rr(&g->e, rd, ra);
        em_rr(&g->e, 0xc1, 1, w, ext[op->opc], rd, false);
        em_byte(&g->e, (uint8_t)(v & (w ? 63 : 31)));
        free_dead_inputs(g, op, 1, 2);
        set_output(g, td, rd);
        return;
    }
    if (host_has_bmi2 && op->opc != INDEX_op_rotl && op->opc != INDEX_op_rotr) {
        gen_shift_bmi2(g, op, w);
        return;
    }
    /* count in CL */
    if (g->reg_temp[RCX] != tb)
        reg_evict(g, RCX, 0);
    int rb = temp_load(g, tb, 0);
    if (rb != RCX) {
        mov_rr(&g->e, RCX, rb);
        g->locked |= 1 << RCX;
    }
    g->locked |= 1 << RCX;
    int ra = temp_load(g, ta, 1 << RCX);
    int rd = out_reg_from(g, op, 0, 1 << RCX);
    mov_rr(&g->e, rd, ra);
    em_rr(&g->e, 0xd3, 1, w, ext[op->opc], rd, false);
    free_dead_inputs(g, op, 1, 2);
    set_output(g, td, rd);
}

void gen_unary(Gen *g, const TCGOp *op)
{
    bool w = !(op->flags & TCG_W32);
    int td = (int)op->args[0], ta = (int)op->args[1];
    int ra = temp_load(g, ta, 0);
    int rd;
    switch (op->opc) {
    case INDEX_op_mov:
        rd = loop_home_reg(g, op, 0);
        if (rd < 0 && (op->dead & 1) && ta > 0 && g->s->temps[ta].kind != TEMP_GLOBAL) {
            rd = out_reg_from(g, op, 0, 0);   /* a's register: no move */
        } else {
            if (rd < 0)
                rd = reg_alloc(g, 0);
            g->locked |= 1 << rd;
            mov_rr(&g->e, rd, ra);
        }
        break;
    case INDEX_op_neg: case INDEX_op_not:
        rd = out_reg_from(g, op, 0, 0);
        mov_rr(&g->e, rd, ra);
        em_rr(&g->e, 0xf7, 1, w, op->opc == INDEX_op_neg ? 3 : 2, rd, false);
        break;
    case INDEX_op_bswap:
        rd = out_reg_from(g, op, 0, 0);
        mov_rr(&g->e, rd, ra);
        em_rex(&g->e, w, 0, 0, rd, false);
        em_byte(&g->e, 0x0f);
        em_byte(&g->e, (uint8_t)(0xc8 + (rd & 7)));
        break;
    default:
        rd = out_reg_from(g, op, 0, 0);
        switch (op->opc) {
        case INDEX_op_ext8s: em_rr(&g->e, 0xbe0f, 2, true, rd, ra, true); break;
        case INDEX_op_ext8u: em_rr(&g->e, 0xb60f, 2, false, rd, ra, true); break;
        case INDEX_op_ext16s: em_rr(&g->e, 0xbf0f, 2, true, rd, ra, false); break;
        case INDEX_op_ext16u: em_rr(&g->e, 0xb70f, 2, false, rd, ra, false); break;
        case INDEX_op_ext32s: em_rr(&g->e, 0x63, 1, true, rd, ra, false); break;
        default: em_rr(&g->e, 0x89, 1, false, ra, rd, false); break;   /* ext32u: mov r32 */
        }
        break;
    }
    free_dead_inputs(g, op, 1, 1);
    set_output(g, td, rd);
}

/* d = a with its low 8 or 16 bits from b: a copy of a, then a byte or word
 * move into it (in place when d is a's register). */
void gen_deposit(Gen *g, const TCGOp *op)
{
    int td = (int)op->args[0], ta = (int)op->args[1], tb = (int)op->args[2];
    int ra = temp_load(g, ta, 0);
    int rb = temp_load(g, tb, 0);
    int rd = out_reg_from(g, op, 0, 1 << rb);   /* the copy of a must not hit b */
    mov_rr(&g->e, rd, ra);
    if (op->args[3] == 16)
        em_byte(&g->e, 0x66);
    em_rr(&g->e, op->args[3] == 16 ? 0x89 : 0x88, 1, false, rb, rd, op->args[3] != 16);
    free_dead_inputs(g, op, 1, 2);
    set_output(g, td, rd);
}

void gen_mul2(Gen *g, const TCGOp *op)
{
    int tlo = (int)op->args[0], thi = (int)op->args[1], ta = (int)op->args[2], tb = (int)op->args[3];
    reg_evict(g, RAX, 1 << RDX);
    reg_evict(g, RDX, 1 << RAX);
    g->locked |= (1 << RAX) | (1 << RDX);
    int ra = temp_load(g, ta, (1 << RAX) | (1 << RDX));
    mov_rr(&g->e, RAX, ra);
    int rb = temp_load(g, tb, (1 << RAX) | (1 << RDX));
    em_rr(&g->e, 0xf7, 1, true, op->opc == INDEX_op_mulu2 ? 4 : 5, rb, false);
    free_dead_inputs(g, op, 2, 2);
    set_output(g, tlo, RAX);
    set_output(g, thi, RDX);
}

void gen_setcond(Gen *g, const TCGOp *op)
{
    int td = (int)op->args[0];
    int rd = reg_alloc(g, 0);
    g->locked |= 1 << rd;
    TCGCond c = (TCGCond)op->args[3];
    if (flags_hold_compare(g, c, op->flags & TCG_W32, (int)op->args[1], (int)op->args[2])) {
        /* the flags are set already: setcc, then zero-extend */
        em_rr(&g->e, 0x900f | ((uint32_t)cond_cc(c) << 8), 2, false, 0, rd, true);
        em_rr(&g->e, 0xb60f, 2, false, rd, rd, true);   /* movzx rd32, rd8 */
        free_dead_inputs(g, op, 1, 2);
        set_output(g, td, rd);
        return;
    }
    movi(&g->e, rd, 0);   /* before the compare: xor changes flags */
    c = emit_compare(g, c, op->flags & TCG_W32, (int)op->args[1], (int)op->args[2]);
    em_rr(&g->e, 0x900f | ((uint32_t)cond_cc(c) << 8), 2, false, 0, rd, true);
    free_dead_inputs(g, op, 1, 2);
    set_output(g, td, rd);
}

void gen_movcond(Gen *g, const TCGOp *op)
{
    int td = (int)op->args[0], t2 = (int)op->args[4];
    int rv1 = temp_load(g, (int)op->args[3], 0);
    int rd = in_place_reg(g, op, 3, 0);   /* d = c ? v1 : d: a conditional move into d */
    int64_t v2;
    if (rd < 0 && t2 != td && is_const(g, t2, &v2)) {
        /* the constant straight into d (before the compare: movi may xor) */
        rd = loop_home_reg(g, op, 0);
        if (rd < 0)
            rd = reg_alloc(g, 0);
        g->locked |= 1 << rd;
        movi(&g->e, rd, (uint64_t)v2);
    } else {
        int rv2 = temp_load(g, t2, 0);
        if (rd < 0)
            rd = loop_home_reg(g, op, 0);
        if (rd < 0)
            rd = reg_alloc(g, 0);
        g->locked |= 1 << rd;
        mov_rr(&g->e, rd, rv2);
    }
    TCGCond c = emit_compare(g, (TCGCond)op->args[5], op->flags & TCG_W32, (int)op->args[1], (int)op->args[2]);
    em_rr(&g->e, 0x400f | ((uint32_t)cond_cc(c) << 8), 2, true, rd, rv1, false);
    free_dead_inputs(g, op, 1, 4);
    set_output(g, td, rd);
}

/* t = x << c (c = 1..3); d = y + t, t dying there: one lea d, [y + x * 2^c]
 * (the front end's scaled-index address). False when op and next do not
 * have that shape; then nothing is emitted. */
bool gen_scaled_add(Gen *g, const TCGOp *op, const TCGOp *next)
{
    int64_t c;
    int t = (int)op->args[0], x = (int)op->args[1];
    if (op->opc != INDEX_op_shl || next->opc != INDEX_op_add || op->flags != next->flags ||
        !is_const(g, (int)op->args[2], &c) || c < 1 || c > 3 || g->s->temps[t].kind != TEMP_NORMAL)
        return false;
    int iy = (int)next->args[2] == t ? 0 : (int)next->args[1] == t ? 1 : -1;
    if (iy < 0 || (int)next->args[1 + iy] == t || !(next->dead & (1u << (1 - iy))))
        return false;
    int y = (int)next->args[1 + iy], td = (int)next->args[0];
    int64_t v;
    if (is_const(g, y, &v))
        return false;
    int rx = temp_load(g, x, 0);
    int ry = temp_load(g, y, 0);
    int rd = out_reg_from(g, next, iy, 0);
    em_rm(&g->e, 0x8d, 1, !(op->flags & TCG_W32), rd, ry, rx, (int)c, 0, false);
    free_dead_inputs(g, op, 1, 2);
    free_dead_inputs(g, next, 1, 2);
    set_output(g, td, rd);
    return true;
}

/* setcond t, a, b; deposit d, d, t, 8 with t dying there (the guest's SETcc
 * into a low byte register): the compare, then setcc straight into d's low
 * byte, which leaves the rest of d as the deposit does. False when the ops
 * do not have that shape; then nothing is emitted. */
bool gen_setcond_into_byte(Gen *g, const TCGOp *op, const TCGOp *next)
{
    int t = (int)op->args[0], d = (int)next->args[0];
    if (next->opc != INDEX_op_deposit || next->args[3] != 8 || (int)next->args[1] != d ||
        (int)next->args[2] != t || (int)op->args[1] == t || (int)op->args[2] == t || !(next->dead & 2) ||
        g->s->temps[t].kind != TEMP_NORMAL || d <= 0 || ((op->flags | next->flags) & TCG_COLD))
        return false;
    /* a loop block's carried global must stay in its home register */
    if (g->nb_carried && g->ts[d].val != TS_REG)
        return false;
    int rd = temp_load(g, d, 0);   /* before the compare: a constant's movi may xor */
    TCGCond c = emit_compare(g, (TCGCond)op->args[3], op->flags & TCG_W32, (int)op->args[1], (int)op->args[2]);
    em_rr(&g->e, 0x900f | ((uint32_t)cond_cc(c) << 8), 2, false, 0, rd, true);   /* setcc rd8 */
    free_dead_inputs(g, op, 1, 2);
    if (g->ts[t].val == TS_REG && g->reg_temp[g->ts[t].reg] == t)
        reg_free(g, g->ts[t].reg);
    g->ts[t].val = TS_DEAD;
    set_output(g, d, rd);
    g->s->stat_setcc_into_byte++;
    return true;
}
