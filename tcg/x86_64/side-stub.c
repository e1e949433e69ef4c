/* Write-backs on the taken side of a branch only. A label's state has the
 * globals (and locals) in memory, so a brcond writes back every dirty one
 * before its jcc. When the fall-through gives some of them new values (or
 * discards them) before anything reads env, those stores are wasted there.
 * For a side exit (a label only that brcond goes to, after code that does
 * not fall into it, leaving forward through goto_tb) the stores are made at
 * the label instead: the jcc goes there with the registers as they were,
 * and the fall-through keeps them dirty. The taken way then has one more
 * jump (the exit's own instead of the jcc), so backward exits (loops,
 * mostly taken) keep their stores before the branch. Not in loop blocks:
 * their brconds have edge stubs (loop.c). */
#include "tcg/x86_64/backend.h"

/* Ops after which the fall-through's write-backs happen anyway, or that read
 * globals from env: the look-ahead stops there. */
static bool ends_look_ahead(const TCGOp *op)
{
    switch (op->opc) {
    case INDEX_op_call: case INDEX_op_set_label: case INDEX_op_br: case INDEX_op_brcond:
    case INDEX_op_goto_tb: case INDEX_op_exit_tb: case INDEX_op_lookup_and_goto:
    case INDEX_op_goto_loop: case INDEX_op_ld: case INDEX_op_st: case INDEX_op_vecop:
        return true;
    default:
        return false;
    }
}

static bool dirty(Gen *g, int t)
{
    TCGTempKind k = g->s->temps[t].kind;
    if (k != TEMP_GLOBAL && k != TEMP_LOCAL)
        return false;
    const TempState *ts = &g->ts[t];
    return (ts->val == TS_REG && g->reg_temp[ts->reg] == t && !ts->coherent) ||
           (ts->val == TS_CONST && !ts->coherent);
}

/* Whether dirty globals or locals the fall-through after op n gives new
 * values or discards before it could need them in env. */
static bool stores_saved(Gen *g, int n)
{
    TCGContext *s = g->s;
    for (int i = n + 1; i < s->nb_ops && i < n + 64; i++) {
        const TCGOp *op = &s->ops[i];
        if (ends_look_ahead(op))
            return false;
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        for (int k = 0; k < def->nb_oargs; k++) {
            int t = (int)(int64_t)op->args[k];
            if (t > 0 && dirty(g, t))
                return true;
        }
    }
    return false;
}

/* Side-exit labels: one brcond goes there, the op before does not fall
 * through, and the code there (stores of constants aside) is a goto_tb to
 * a PC after the branch's instruction. */
void plan_side_labels(Gen *g)
{
    TCGContext *s = g->s;
    uint8_t refs[TCG_MAX_LABELS];
    memset(refs, 0, (size_t)(s->nb_labels + 1));
    memset(g->side_label_pc, 0, sizeof(uint64_t) * (size_t)(s->nb_labels + 1));
    memset(g->side_stores, -1, sizeof(int16_t) * (size_t)(s->nb_labels + 1));
    for (int i = 0; i < s->nb_ops; i++) {
        const TCGOp *op = &s->ops[i];
        int l = -1;
        if (op->opc == INDEX_op_brcond)
            l = (int)op->args[3];
        else if (op->opc == INDEX_op_br || op->opc == INDEX_op_goto_loop)
            l = (int)(int64_t)op->args[0];
        if (l >= 0 && l <= s->nb_labels && refs[l] < 2)
            refs[l] += op->opc == INDEX_op_brcond ? 1 : 2;
    }
    for (int i = 1; i < s->nb_ops; i++) {
        const TCGOp *op = &s->ops[i];
        if (op->opc != INDEX_op_set_label)
            continue;
        unsigned prev = s->ops[i - 1].opc;
        int l = (int)op->args[0], k = i + 1;
        if (refs[l] != 1 || (prev != INDEX_op_goto_tb && prev != INDEX_op_exit_tb &&
                             prev != INDEX_op_lookup_and_goto && prev != INDEX_op_br))
            continue;
        while (k < s->nb_ops && (s->ops[k].opc == INDEX_op_discard || s->ops[k].opc == INDEX_op_movi ||
                                 s->ops[k].opc == INDEX_op_st))
            k++;
        if (k < s->nb_ops && s->ops[k].opc == INDEX_op_goto_tb)
            g->side_label_pc[l] = s->ops[k].args[1] | 1;   /* bit 0: a side exit (PCs compare >> 1) */
    }
}

/* brcond (op n) to label on condition code cc, the compare emitted: the jcc
 * straight to the side exit, which makes the write-backs. False (nothing
 * emitted) when not worth it or not possible. */
bool gen_side_stores_brcond(Gen *g, int n, int label, uint8_t cc)
{
    uint64_t to = g->side_label_pc[label];
    if (g->nb_carried || !(to & 1) || (to >> 1) <= (g->insn_pc >> 1) || g->nb_side_moves + 40 > MAX_SIDE_MOVES ||
        !stores_saved(g, n))
        return false;
    int first = g->nb_side_moves;
    for (int t = 1; t < g->s->nb_globals; t++)
        if (g->ts[t].val == TS_CONST && !g->ts[t].coherent)
            g->side_moves[g->nb_side_moves++] =
                (Move){ .kind = MV_STORE_IMM, .base = RBP, .off = temp_slot(g, t), .imm = g->ts[t].cst };
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        if (t >= 0 && dirty(g, t))
            g->side_moves[g->nb_side_moves++] =
                (Move){ .kind = MV_STORE, .reg = (int8_t)r, .base = (uint8_t)temp_base(g, t), .off = temp_slot(g, t) };
    }
    g->side_moves[g->nb_side_moves++] = (Move){ .kind = MV_MOVI };   /* the end */
    g->side_stores[label] = (int16_t)first;
    jump_to_label(g, label, cc);
    g->s->stat_side_stores++;
    return true;
}

/* At a side exit's label: the stores its brcond left to it. */
void gen_side_stores_at_label(Gen *g, int label)
{
    int i = g->side_stores[label];
    if (i < 0)
        return;
    Emitter *e = &g->e;
    for (; g->side_moves[i].kind != MV_MOVI; i++) {
        const Move *m = &g->side_moves[i];
        if (m->kind == MV_STORE) {
            em_rm(e, 0x89, 1, true, m->reg, m->base, -1, 0, m->off, false);
        } else {
            em_rm(e, 0xc7, 1, true, 0, m->base, -1, 0, m->off, false);
            em_u32(e, (uint32_t)m->imm);
        }
    }
}
