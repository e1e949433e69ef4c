/* Looping blocks for the x86-64 backend (goto_loop: self-loops and the
 * loops of translation regions): guest registers carried in host registers
 * around the back edges. */
#include <limits.h>
#include <string.h>
#include "tcg/x86_64/backend.h"

/* ---- loops ---------------------------------------------------------------------------------
 * A block with back edges (goto_loop) keeps its most used globals in fixed
 * host registers at every label: loaded at its first label (the loop head
 * of its start, after the entry check), written back only on the ways out
 * (exits, the slow paths of guest memory accesses, helper calls, the exit
 * request at a back edge).
 * Callee-saved registers first: they survive pure helper calls. */
static const int loop_regs[LOOP_MAX_CARRIED] = { RBX, R13, R14, R15, RSI, RDI, R8, R9, R10 };

static int carried_index(Gen *g, int t)
{
    for (int i = 0; i < g->nb_carried; i++)
        if (g->carried[i].temp == t)
            return i;
    return -1;
}

/* Globals, and locals (the addends of tcg/loop-probe.c) that only the
 * set-up before the first insn_start or a pre-header's probe writes (a
 * label before the probe loads its register with a value nothing reads). */
static bool may_carry(const TCGContext *s, int t)
{
    return t > 0 && (t < s->nb_globals || s->temps[t].kind == TEMP_LOCAL);
}

/* A use costs an uncarried temp a load (read) or a store (write) once per
 * basic block, however often the block reads or writes it: a lazy-flag
 * operand that every ALU op writes but nothing reads in the loop costs one
 * store at the block's end, not one per write. */
typedef struct UseCount {
    int uses[TCG_MAX_TEMPS];
    int read_bb[TCG_MAX_TEMPS], write_bb[TCG_MAX_TEMPS];
    int bb;
} UseCount;

static void count_use(const TCGContext *s, UseCount *u, TCGArg a, bool write, int weight)
{
    int t = (int)(int64_t)a;
    int *seen = write ? u->write_bb : u->read_bb;
    if (!may_carry(s, t) || seen[t] == u->bb)
        return;
    seen[t] = u->bb;
    u->uses[t] += weight;
}

static bool ends_basic_block(const TCGOp *op)
{
    switch (op->opc) {
    case INDEX_op_set_label: case INDEX_op_br: case INDEX_op_brcond: case INDEX_op_goto_loop:
    case INDEX_op_goto_tb: case INDEX_op_exit_tb: case INDEX_op_lookup_and_goto:
        return true;
    case INDEX_op_call:
        return !(op->call->flags & TCG_CALL_PURE);   /* globals go to env and back */
    default:
        return false;
    }
}

/* How much a use at each op counts: 8 times more for each loop around it
 * (a goto_loop back to a label encloses the ops from the label to it), so
 * that an inner loop's globals win the registers over those of the code
 * around it, which runs less often. */
static void loop_weights(const TCGContext *s, int *weight)
{
    int label_op[TCG_MAX_LABELS];
    for (int l = 0; l < TCG_MAX_LABELS; l++)
        label_op[l] = -1;
    for (int n = 0; n < s->nb_ops; n++) {
        weight[n] = 0;
        if (s->ops[n].opc == INDEX_op_set_label)
            label_op[(int)s->ops[n].args[0]] = n;
    }
    weight[s->nb_ops] = 0;
    for (int n = 0; n < s->nb_ops; n++) {   /* depth as a difference array */
        int l = (int)(int64_t)s->ops[n].args[0];
        if (s->ops[n].opc != INDEX_op_goto_loop || l < 0 || l >= TCG_MAX_LABELS || label_op[l] < 0 ||
            label_op[l] > n)
            continue;
        weight[label_op[l]]++;
        weight[n + 1]--;
    }
    for (int n = 0, depth = 0; n < s->nb_ops; n++) {
        depth += weight[n];
        weight[n] = 1 << (3 * (depth < 4 ? depth : 4));
    }
}

static bool has_back_edge(const TCGContext *s)
{
    for (int n = s->nb_ops - 1; n >= 0; n--)
        if (s->ops[n].opc == INDEX_op_goto_loop)
            return true;
    return false;
}

/* ---- access caches --------------------------------------------------------------------------
 * A plain guest access in a loop whose address steps through memory (a
 * global the block only moves by constants: CRC and copy loops, stream
 * filters) usually falls on the page its last iteration used. Such an
 * access keeps that page and its addend in two frame slots: the inline
 * check is the page compare alone; a mismatch does the full TLB check out
 * of line and refills the slots from the entry it hit.
 *
 * Exact whatever the address does: the slots only ever hold a page and the
 * addend its TLB entry had when the check passed (a tag compare, so no
 * MMIO, code or not-dirty page, and write permission for stores), or the
 * tag -1, which no address matches (its low bits are set). They are reset
 * at every entry into the block and after every non-pure helper call (the
 * calls that may change the TLB or the paging mode); flush requests from
 * outside raise the exit flag, seen at each back edge. A hit needs the
 * address aligned to the access size (the compare keeps the low bits), so
 * no hit crosses a page; misaligned accesses always take the full check. */

static bool is_access(TCGOpcode opc) { return opc == INDEX_op_qemu_ld || opc == INDEX_op_qemu_st; }

/* Temps that only movi writes, and globals that only a constant add or sub
 * or a copy of another global writes (the others stay false). */
static void find_steppers(const TCGContext *s, bool *cst, bool *steps, bool *written)
{
    for (int t = 0; t < s->nb_temps; t++) {
        cst[t] = s->temps[t].kind == TEMP_NORMAL;
        steps[t] = s->temps[t].kind == TEMP_GLOBAL;
        written[t] = false;
    }
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        int nout = op->opc == INDEX_op_call || op->opc == INDEX_op_discard ? 1 : tcg_op_defs[op->opc].nb_oargs;
        for (int i = 0; i < nout; i++) {
            int t = (int)(int64_t)op->args[i];
            if (t <= 0)
                continue;
            written[t] = true;
            if (op->opc != INDEX_op_movi)
                cst[t] = false;
        }
    }
    /* a global that starts out stepping loses it at a write that is not
     * a constant step of itself or of a stepping global, or a copy of one */
    for (bool changed = true; changed;) {
        changed = false;
        for (int n = 0; n < s->nb_ops; n++) {
            const TCGOp *op = &s->ops[n];
            int nout = op->opc == INDEX_op_call || op->opc == INDEX_op_discard ? 1 : tcg_op_defs[op->opc].nb_oargs;
            for (int i = 0; i < nout; i++) {
                int t = (int)(int64_t)op->args[i];
                if (t <= 0 || !steps[t] || op->opc == INDEX_op_discard)
                    continue;
                int from = -1;
                if (op->opc == INDEX_op_add || op->opc == INDEX_op_sub)
                    from = cst[(int)op->args[2]] ? (int)op->args[1]
                           : op->opc == INDEX_op_add && cst[(int)op->args[1]] ? (int)op->args[2] : -1;
                else if (op->opc == INDEX_op_mov)
                    from = (int)op->args[1];
                if (i != 0 || from <= 0 || !steps[from]) {
                    steps[t] = false;
                    changed = true;
                }
            }
        }
    }
}

static bool stepping(const TCGContext *s, const bool *steps, const bool *written, int t)
{
    return t > 0 && s->temps[t].kind == TEMP_GLOBAL && steps[t] && written[t];
}

/* Whether access op n's address is a stepping global, or a sum or copy
 * (made in its basic block) with one. */
static bool invariant(const TCGContext *s, const bool *written, int t)
{
    return t > 0 && s->temps[t].kind == TEMP_GLOBAL && !written[t];
}

static bool steps_through_memory(const TCGContext *s, const bool *cst, const bool *steps, const bool *written, int n)
{
    int a = (int)s->ops[n].args[1];
    if (stepping(s, steps, written, a))
        return true;
    for (int k = n - 1; k >= 0 && n - k < 32; k--) {
        const TCGOp *op = &s->ops[k];
        if (op->opc == INDEX_op_set_label)
            return false;
        if (tcg_op_defs[op->opc].nb_oargs < 1 || (int)op->args[0] != a)
            continue;
        int x = (int)op->args[1], y = op->opc == INDEX_op_add ? (int)op->args[2] : -1;
        if (op->opc == INDEX_op_mov || (op->opc == INDEX_op_add && cst[y]))
            return stepping(s, steps, written, x);
        if (op->opc == INDEX_op_add && cst[x])
            return stepping(s, steps, written, y);
        /* a stepping index into a buffer the block does not move */
        return op->opc == INDEX_op_add && ((stepping(s, steps, written, x) && invariant(s, written, y)) ||
                                           (stepping(s, steps, written, y) && invariant(s, written, x)));
    }
    return false;
}

/* Whether the block's loop is a search: it leaves on a compare of a value
 * loaded from guest memory (strlen, a string table lookup). Searches end
 * after a few turns, so a cache would mostly cost its refill; loops that
 * leave on a count or a bound (checksums, copies, filters) run long. */
static bool is_search(const TCGContext *s, bool *loaded)
{
    int last_back = -1, label_op[TCG_MAX_LABELS];
    for (int l = 0; l < s->nb_labels && l < TCG_MAX_LABELS; l++)
        label_op[l] = INT_MAX;
    for (int t = 0; t < s->nb_temps; t++)
        loaded[t] = false;
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        if (op->opc == INDEX_op_goto_loop)
            last_back = n;
        else if (op->opc == INDEX_op_set_label && (int)op->args[0] < TCG_MAX_LABELS)
            label_op[(int)op->args[0]] = n;
        if (op->opc == INDEX_op_call || op->opc == INDEX_op_discard || !def->nb_oargs)
            continue;
        bool taint = tcg_op_is_guest_mem(op->opc);
        for (int i = 0; i < def->nb_iargs && !taint; i++) {
            int t = (int)(int64_t)op->args[def->nb_oargs + i];
            taint = t > 0 && t < s->nb_temps && loaded[t];
        }
        for (int i = 0; i < def->nb_oargs; i++) {
            int t = (int)(int64_t)op->args[i];
            if (t > 0 && taint)
                loaded[t] = true;
        }
    }
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        if (op->opc != INDEX_op_brcond || (int)op->args[3] >= TCG_MAX_LABELS)
            continue;
        int a = (int)op->args[0], b = (int)op->args[1];
        bool on_load = (a > 0 && loaded[a]) || (b > 0 && loaded[b]);
        if (on_load && label_op[(int)op->args[3]] > last_back)
            return true;
    }
    return false;
}

/* The accesses that get a cache: stepping ones inside a loop, first come. */
static void plan_caches(Gen *g, const int *weight)
{
    const TCGContext *s = g->s;
    static __thread bool cst[TCG_MAX_TEMPS], steps[TCG_MAX_TEMPS], written[TCG_MAX_TEMPS], loaded[TCG_MAX_TEMPS];
    if (s->nb_temps > TCG_MAX_TEMPS - 2 * LOOP_MAX_CACHES)
        return;
    bool found = false;
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        if (weight[n] > 1 && op->opc == INDEX_op_call && !(op->call->flags & TCG_CALL_PURE))
            return;   /* it would empty the caches at every turn */
        found |= is_access(op->opc) && weight[n] > 1;
    }
    if (!found || is_search(s, loaded))
        return;
    find_steppers(s, cst, steps, written);
    for (int n = 0; n < s->nb_ops && g->nb_caches < LOOP_MAX_CACHES; n++) {
        if (!is_access(s->ops[n].opc) || weight[n] <= 1 || !steps_through_memory(s, cst, steps, written, n))
            continue;
        int i = g->nb_caches++;
        g->cache[i] = (AccessCache){ .op = n, .tag_slot = (TCG_MAX_TEMPS - 1 - 2 * i) * 8,
                                     .addend_slot = (TCG_MAX_TEMPS - 2 - 2 * i) * 8 };
    }
    g->s->stat_access_caches += g->nb_caches;
}

int loop_cache_of(const Gen *g, const TCGOp *op)
{
    int n = (int)(op - g->s->ops);
    for (int i = 0; i < g->nb_caches; i++)
        if (g->cache[i].op == n)
            return i;
    return -1;
}

/* Every cache empty: at the block's entry and after a helper that may
 * change the TLB. */
void loop_caches_reset(Gen *g)
{
    for (int i = 0; i < g->nb_caches; i++) {
        em_rm(&g->e, 0xc7, 1, true, 0, RSP, -1, 0, g->cache[i].tag_slot, false);   /* mov qword [rsp + tag], -1 */
        em_u32(&g->e, 0xffffffffu);
    }
}

/* The temps to carry around the loop, best first (the most used ones,
 * weighted by loop depth), at most LOOP_MAX_CARRIED; written[t]: whether
 * the block writes global t. */
static int pick_homes(const TCGContext *s, const int *weight, int *temps, bool *written)
{
    static __thread UseCount u;
    int *uses = u.uses;
    memset(uses, 0, sizeof(int) * (size_t)s->nb_temps);
    memset(u.read_bb, 0xff, sizeof(int) * (size_t)s->nb_temps);
    memset(u.write_bb, 0xff, sizeof(int) * (size_t)s->nb_temps);
    u.bb = 0;
    memset(written, 0, sizeof(bool) * (size_t)s->nb_temps);
    int set_up = 0;   /* ops before the first insn_start */
    while (set_up < s->nb_ops && s->ops[set_up].opc != INDEX_op_insn_start)
        set_up++;
    for (int n = s->nb_ops - 1; n >= 0; n--) {
        const TCGOp *op = &s->ops[n];
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        for (int i = 0; i < def->nb_oargs; i++) {   /* a call's: its result */
            int t = (int)(int64_t)op->args[i];
            if (t > 0 && t < s->nb_globals)
                written[t] = true;
            else if (t > 0 && s->temps[t].kind == TEMP_LOCAL && n > set_up && op->opc != INDEX_op_qemu_probe)
                uses[t] = INT_MIN / 2;   /* written in the body: not carried */
        }
        if (ends_basic_block(op))
            u.bb++;
        if (op->opc == INDEX_op_call) {
            count_use(s, &u, op->args[0], true, weight[n]);
            for (int i = 0; i < op->call->nargs; i++)
                count_use(s, &u, (TCGArg)op->call->args[i], false, weight[n]);
        } else if (op->opc != INDEX_op_discard) {
            for (int i = 0; i < def->nb_oargs + def->nb_iargs; i++)
                count_use(s, &u, op->args[i], i < def->nb_oargs, weight[n]);
        }
    }
    int n = 0;
    while (n < LOOP_MAX_CARRIED) {
        int best = 0;
        for (int t = 1; t < s->nb_temps; t++)
            if (uses[t] > uses[best] && may_carry(s, t))
                best = t;
        if (!best)
            break;
        temps[n++] = best;
        uses[best] = 0;
    }
    return n;
}

int loop_homes(const TCGContext *s, int *temps)
{
    static __thread int weight[TCG_MAX_OPS + 1];
    static __thread bool written[TCG_MAX_TEMPS];
    if (!has_back_edge(s))
        return 0;
    loop_weights(s, weight);
    return pick_homes(s, weight, temps, written);
}

/* Picks the globals to carry around the loop and the accesses that get a
 * page cache; false when the block does not loop (most do not: they skip
 * the counting). */
bool plan_loop(Gen *g)
{
    TCGContext *s = g->s;
    g->nb_carried = 0;
    g->nb_caches = 0;
    if (!has_back_edge(s))
        return false;
    bool written[TCG_MAX_TEMPS];
    int weight[TCG_MAX_OPS + 1], temps[LOOP_MAX_CARRIED];
    loop_weights(s, weight);
    plan_caches(g, weight);
    g->nb_carried = pick_homes(s, weight, temps, written);
    for (int i = 0; i < g->nb_carried; i++) {
        g->carried[i].temp = temps[i];
        g->carried[i].reg = loop_regs[i];
        g->carried[i].written = written[temps[i]];
    }
    return true;
}

/* The output register of op for a global carried around the loop: its home
 * register when that is free or holds the value op overwrites (and op does
 * not read it), so that the back edge has nothing to move; else -1. */
int loop_home_reg(Gen *g, const TCGOp *op, uint16_t avoid)
{
    if (!g->nb_carried)
        return -1;
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    int t = (int)op->args[0], i = carried_index(g, t);
    if (i < 0)
        return -1;
    for (int k = 0; k < def->nb_iargs; k++)
        if ((int)op->args[def->nb_oargs + k] == t)
            return -1;
    int r = g->carried[i].reg, cur = g->reg_temp[r];
    if (((avoid | g->locked) & (1 << r)) || (cur >= 0 && cur != t))
        return -1;
    g->locked |= 1 << r;
    return r;
}

/* A discarded global (a lazy-flag operand the cc_op no longer uses) that is
 * carried and sits in its home register stays there, its value now
 * meaningless and never written back: the back edge then has nothing to
 * reload (freeing it would cost a load into the home register at every
 * label). */
bool loop_keep_discarded(Gen *g, int t)
{
    if (carried_index(g, t) < 0 || g->ts[t].val != TS_REG || g->reg_temp[g->ts[t].reg] != t ||
        g->ts[t].reg != g->carried[carried_index(g, t)].reg)
        return false;
    g->ts[t].coherent = true;
    return true;
}

/* The allocator's state at a label: carried globals in their
 * registers, the rest in memory. The back edge does not store the carried
 * globals, so those the block writes are dirty; the others hold what env
 * holds (a helper that changes env makes them reload). */
static void enter_loop_head_state(Gen *g)
{
    forget_registers(g);
    for (int i = 0; i < g->nb_carried; i++) {
        int t = g->carried[i].temp, r = g->carried[i].reg;
        g->reg_temp[r] = t;
        g->ts[t].val = TS_REG;
        g->ts[t].reg = (int8_t)r;
        g->ts[t].coherent = !g->carried[i].written;
    }
}

/* The moves that bring the registers to the state of a loop block's labels
 * and loop head (enter_loop_head_state): everything not carried in memory,
 * the carried globals in their registers (a parallel move: xchg breaks
 * cycles). Planned on copies, so a stub can take them out of line.
 * A carried local (a probe's addend, set before the loop) is stored too:
 * the loop head takes it as coherent, so the body may drop its register
 * and reload it from its slot. */
static int plan_label_moves(Gen *g, Move *mv)
{
    int n = 0, loc[LOOP_MAX_CARRIED], who[16];
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        TCGTempKind k = t > 0 ? g->s->temps[t].kind : TEMP_NORMAL;
        who[r] = -1;
        if ((k == TEMP_LOCAL || (k == TEMP_GLOBAL && carried_index(g, t) < 0)) &&
            g->ts[t].val == TS_REG && !g->ts[t].coherent)
            mv[n++] = (Move){ .kind = MV_STORE, .reg = (int8_t)r, .base = (uint8_t)temp_base(g, t),
                              .off = temp_slot(g, t) };
    }
    for (int t = 1; t < g->s->nb_globals && n < MAX_MOVES - 2 * LOOP_MAX_CARRIED; t++)
        if (g->ts[t].val == TS_CONST && !g->ts[t].coherent && carried_index(g, t) < 0)
            mv[n++] = (Move){ .kind = MV_STORE_IMM, .base = RBP, .off = temp_slot(g, t), .imm = g->ts[t].cst };
    for (int i = 0; i < g->nb_carried; i++) {
        const TempState *ts = &g->ts[g->carried[i].temp];
        loc[i] = ts->val == TS_REG && g->reg_temp[ts->reg] == g->carried[i].temp ? ts->reg : -1;
        if (loc[i] >= 0)
            who[loc[i]] = i;
    }
    /* each step puts one global home for good */
    for (int i = 0; i < g->nb_carried; i++) {
        int home = g->carried[i].reg, x = loc[i];
        if (x < 0 || x == home)
            continue;
        int j = who[home];
        if (j >= 0) {
            mv[n++] = (Move){ .kind = MV_XCHG, .reg = (int8_t)home, .reg2 = (int8_t)x };
            loc[j] = x;
            who[x] = j;
        } else {
            mv[n++] = (Move){ .kind = MV_MOV, .reg = (int8_t)home, .reg2 = (int8_t)x };
            who[x] = -1;
        }
        loc[i] = home;
        who[home] = i;
    }
    for (int i = 0; i < g->nb_carried; i++) {
        int t = g->carried[i].temp, home = g->carried[i].reg;
        if (loc[i] >= 0)
            continue;
        if (g->ts[t].val == TS_CONST)
            mv[n++] = (Move){ .kind = MV_MOVI, .reg = (int8_t)home, .imm = g->ts[t].cst };
        else
            mv[n++] = (Move){ .kind = MV_LOAD, .reg = (int8_t)home, .base = (uint8_t)temp_base(g, t),
                              .off = temp_slot(g, t) };
    }
    return n;
}

static void emit_moves(Gen *g, const Move *mv, int n)
{
    Emitter *e = &g->e;
    for (int i = 0; i < n; i++) {
        const Move *m = &mv[i];
        switch (m->kind) {
        case MV_STORE:
            em_rm(e, 0x89, 1, true, m->reg, m->base, -1, 0, m->off, false);
            break;
        case MV_STORE_IMM:
            em_rm(e, 0xc7, 1, true, 0, m->base, -1, 0, m->off, false);
            em_u32(e, (uint32_t)m->imm);
            break;
        case MV_MOV:
            mov_rr(e, m->reg, m->reg2);
            break;
        case MV_XCHG:
            em_rr(e, 0x87, 1, true, m->reg, m->reg2, false);
            break;
        case MV_LOAD:
            em_rm(e, 0x8b, 1, true, m->reg, m->base, -1, 0, m->off, false);
            break;
        case MV_MOVI:
            movi(e, m->reg, m->imm);
            break;
        }
    }
}

/* Inline: to the label state (before a label, a br, the back edge). */
void to_label_state(Gen *g)
{
    Move mv[MAX_MOVES];
    emit_moves(g, mv, plan_label_moves(g, mv));
    enter_loop_head_state(g);
}

/* brcond in a loop block: the moves on the taken side, out of line (or
 * inline, jumped over, when the stubs are used up); the fall-through keeps
 * its registers. */
void gen_loop_brcond(Gen *g, int label, TCGCond c)
{
    Move mv[MAX_MOVES];
    int n = plan_label_moves(g, mv);
    Emitter *e = &g->e;
    if (!n) {
        jump_to_label(g, label, cond_cc(c));
        return;
    }
    if (g->nb_stubs < MAX_EDGE_STUBS) {
        EdgeStub *st = &g->stubs[g->nb_stubs++];
        memcpy(st->mv, mv, sizeof(Move) * (size_t)n);
        st->n = n;
        st->label = label;
        em_byte(e, 0x0f);
        em_byte(e, (uint8_t)(0x80 | cond_cc(c)));
        st->jcc_patch = emitter_off(e, g->cb);
        em_u32(e, 0);
        return;
    }
    em_byte(e, 0x0f);
    em_byte(e, (uint8_t)(0x80 | (cond_cc(c) ^ 1)));   /* the opposite: skip the moves */
    size_t skip = emitter_off(e, g->cb);
    em_u32(e, 0);
    emit_moves(g, mv, n);
    jump_to_label(g, label, 0xff);
    patch_rel32(g->cb, skip, emitter_off(e, g->cb));
}

void emit_edge_stub(Gen *g, const EdgeStub *st)
{
    patch_rel32(g->cb, st->jcc_patch, emitter_off(&g->e, g->cb));
    emit_moves(g, st->mv, st->n);
    jump_to_label(g, st->label, 0xff);
}

/* The back edge: to the loop head's state, then back to the loop head
 * (a bound label) unless an exit was requested. */
void gen_goto_loop(Gen *g, int label)
{
    Emitter *e = &g->e;
    to_label_state(g);
    em_rm(e, 0x83, 1, false, 7, R12, -1, 0, (int32_t)offsetof(TCGCPU, exit_flag), false);
    em_byte(e, 0);
    jump_to_label(g, label, 0x4);                      /* je head */
    /* falls through to the ops that leave, in the loop head's state */
}
