/* Register allocation for the x86-64 backend: where each temp lives (register,
 * env/stack slot or constant), loading, spilling and writing back. */
#include "tcg/x86_64/backend.h"

int32_t temp_slot(Gen *g, int t)
{
    const TCGTemp *tp = &g->s->temps[t];
    if (tp->kind == TEMP_GLOBAL)
        return tp->env_offset;
    return t * 8;
}

int temp_base(Gen *g, int t)
{
    return g->s->temps[t].kind == TEMP_GLOBAL ? RBP : RSP;
}

static void temp_store(Gen *g, int t)
{
    TempState *ts = &g->ts[t];
    if (ts->val == TS_REG && !ts->coherent) {
        em_rm(&g->e, 0x89, 1, true, ts->reg, temp_base(g, t), -1, 0, temp_slot(g, t), false);
        ts->coherent = true;
    } else if (ts->val == TS_CONST && !ts->coherent) {
        /* a global holding a constant that fits a sign-extended imm32 */
        em_rm(&g->e, 0xc7, 1, true, 0, temp_base(g, t), -1, 0, temp_slot(g, t), false);
        em_u32(&g->e, (uint32_t)ts->cst);
        ts->coherent = true;
    }
}

/* Globals held as constants (no register) that memory has not seen yet. */
static void store_const_globals(Gen *g)
{
    for (int t = 1; t < g->s->nb_globals; t++)
        if (g->ts[t].val == TS_CONST && !g->ts[t].coherent)
            temp_store(g, t);
}

void reg_free(Gen *g, int r)
{
    g->reg_temp[r] = -1;
}

/* Move temp t out of its register into memory. */
void temp_spill(Gen *g, int t)
{
    TempState *ts = &g->ts[t];
    if (ts->val != TS_REG || t == 0)
        return;
    if (g->s->temps[t].kind == TEMP_NORMAL)
        ts->coherent = false;
    temp_store(g, t);
    reg_free(g, ts->reg);
    ts->val = TS_MEM;
    ts->reg = -1;
}

int reg_alloc(Gen *g, uint16_t avoid)
{
    uint16_t ok = ALLOCATABLE & ~avoid & ~g->locked;
    /* temps: a free caller-saved register first; globals: callee-saved first */
    for (int pass = 0; pass < 2; pass++) {
        bool caller = (pass == 0) != g->prefer_callee;
        uint16_t set = caller ? (ok & CALLER_SAVED) : (ok & ~CALLER_SAVED);
        for (int r = 0; r < 16; r++)
            if ((set & (1 << r)) && g->reg_temp[r] < 0)
                return r;
    }
    /* All taken: evict the cheapest. A global or local whose memory copy is
     * current costs nothing to drop; a dirty global must be stored some
     * time anyway; a normal temp costs a store and a reload. */
    int best = -1, best_cost = 3;
    for (int r = 0; r < 16; r++) {
        if (!(ok & (1 << r)))
            continue;
        int t = g->reg_temp[r];
        TCGTempKind k = g->s->temps[t].kind;
        int cost = k == TEMP_NORMAL ? 2 : g->ts[t].coherent ? 0 : 1;
        if (cost < best_cost) {
            best = r;
            best_cost = cost;
            if (cost == 0)
                break;
        }
    }
    if (best >= 0) {
        temp_spill(g, g->reg_temp[best]);
        return best;
    }
    g->failed = true;
    return RAX;
}

static void temp_assign(Gen *g, int t, int r)
{
    TempState *ts = &g->ts[t];
    if (ts->val == TS_REG && ts->reg != r && g->reg_temp[ts->reg] == t)
        reg_free(g, ts->reg);
    if (g->reg_temp[r] >= 0 && g->reg_temp[r] != t)
        g->ts[g->reg_temp[r]].val = TS_DEAD;   /* caller freed it deliberately */
    g->reg_temp[r] = t;
    ts->val = TS_REG;
    ts->reg = (int8_t)r;
    ts->coherent = false;
}

/* Put t in a register (not in avoid) and lock it for the current op. */
int temp_load(Gen *g, int t, uint16_t avoid)
{
    TempState *ts = &g->ts[t];
    if (t == 0)
        return RBP;
    if (ts->val == TS_REG && !(avoid & (1 << ts->reg))) {
        g->locked |= 1 << ts->reg;
        return ts->reg;
    }
    bool saved_pref = g->prefer_callee;
    g->prefer_callee = g->s->temps[t].kind == TEMP_GLOBAL;
    int r = reg_alloc(g, avoid);
    g->prefer_callee = saved_pref;
    switch (ts->val) {
    case TS_REG:
        mov_rr(&g->e, r, ts->reg);
        reg_free(g, ts->reg);
        g->reg_temp[r] = t;
        ts->reg = (int8_t)r;
        break;
    case TS_CONST:
        movi(&g->e, r, ts->cst);
        g->reg_temp[r] = t;
        ts->val = TS_REG;
        ts->reg = (int8_t)r;
        ts->coherent = false;
        break;
    case TS_MEM:
        em_rm(&g->e, 0x8b, 1, true, r, temp_base(g, t), -1, 0, temp_slot(g, t), false);
        g->reg_temp[r] = t;
        ts->val = TS_REG;
        ts->reg = (int8_t)r;
        ts->coherent = true;
        break;
    default:
        /* a dead temp read (IR bug or uninitialised local): treat as 0 */
        movi(&g->e, r, 0);
        g->reg_temp[r] = t;
        ts->val = TS_REG;
        ts->reg = (int8_t)r;
        ts->coherent = false;
        break;
    }
    g->locked |= 1 << r;
    return r;
}

/* Evict whatever lives in register r (moving it elsewhere). */
void reg_evict(Gen *g, int r, uint16_t avoid)
{
    int t = g->reg_temp[r];
    if (t < 0)
        return;
    uint16_t saved = g->locked;
    g->locked |= 1 << r;
    int n = reg_alloc(g, avoid | (1 << r));
    g->locked = saved;
    mov_rr(&g->e, n, r);
    g->reg_temp[n] = t;
    g->ts[t].reg = (int8_t)n;
    if (saved & (1 << r))
        g->locked |= 1 << n;
    reg_free(g, r);
}

bool is_const(Gen *g, int t, int64_t *v)
{
    if (t != 0 && g->ts[t].val == TS_CONST) {
        *v = (int64_t)g->ts[t].cst;
        return true;
    }
    return false;
}

void free_dead_inputs(Gen *g, const TCGOp *op, int first_in, int n_in)
{
    for (int i = 0; i < n_in; i++) {
        if (!(op->dead & (1u << i)))
            continue;
        int t = (int)op->args[first_in + i];
        if (t <= 0 || g->s->temps[t].kind == TEMP_GLOBAL)
            continue;
        TempState *ts = &g->ts[t];
        if (ts->val == TS_REG && g->reg_temp[ts->reg] == t)
            reg_free(g, ts->reg);
        ts->val = TS_DEAD;
    }
}

/* Globals and locals are in memory, nothing else is live: the state at a
 * label (after the stores that lead there) or after an unconditional exit. */
void forget_registers(Gen *g)
{
    for (int r = 0; r < 16; r++)
        g->reg_temp[r] = -1;
    /* temps 1 .. nb_globals - 1 are the globals: no kind to look up */
    int nb_globals = g->s->nb_globals;
    for (int t = 1; t < nb_globals; t++) {
        g->ts[t].val = TS_MEM;
        g->ts[t].reg = -1;
        g->ts[t].coherent = true;
    }
    for (int t = nb_globals; t < g->s->nb_temps; t++) {
        g->ts[t].val = g->s->temps[t].kind == TEMP_LOCAL ? TS_MEM : TS_DEAD;
        g->ts[t].reg = -1;
        g->ts[t].coherent = true;
    }
}

/* Write back dirty globals (and locals); with drop, forget all registers. */
void sync_all(Gen *g, bool drop)
{
    store_const_globals(g);
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        if (t < 0)
            continue;
        TCGTempKind k = g->s->temps[t].kind;
        if (k == TEMP_GLOBAL || k == TEMP_LOCAL)
            temp_store(g, t);
    }
    if (drop)
        forget_registers(g);
}

void sync_globals(Gen *g)
{
    store_const_globals(g);
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        if (t >= 0 && g->s->temps[t].kind == TEMP_GLOBAL)
            temp_store(g, t);
    }
}


/* d = f(d, ...) (a global updated by its own op, see tcg/coalesce.c): d's
 * register, when it is in one, takes the result in place. -1 otherwise. */
int in_place_reg(Gen *g, const TCGOp *op, int in_index, uint16_t avoid)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    int t = (int)op->args[0];
    if (def->nb_oargs != 1 || t <= 0 || (int)op->args[def->nb_oargs + in_index] != t)
        return -1;
    const TempState *ts = &g->ts[t];
    if (ts->val != TS_REG || g->reg_temp[ts->reg] != t || (avoid & (1 << ts->reg)))
        return -1;
    g->locked |= 1 << ts->reg;
    return ts->reg;
}

/* Output register for d = f(a, ...): reuse a's register when a dies here. */
int out_reg_from(Gen *g, const TCGOp *op, int in_index, uint16_t avoid)
{
    int in_place = in_place_reg(g, op, in_index, avoid);
    if (in_place >= 0)
        return in_place;
    int home = loop_home_reg(g, op, avoid);
    if (home >= 0)
        return home;
    int t = (int)op->args[tcg_op_defs[op->opc].nb_oargs + in_index];
    TempState *ts = &g->ts[t];
    if ((op->dead & (1u << in_index)) && t > 0 && ts->val == TS_REG &&
        g->s->temps[t].kind != TEMP_GLOBAL && !(avoid & (1 << ts->reg)) &&
        g->reg_temp[ts->reg] == t) {
        int r = ts->reg;
        ts->val = TS_DEAD;
        reg_free(g, r);
        g->locked |= 1 << r;
        return r;
    }
    int r = reg_alloc(g, avoid);
    g->locked |= 1 << r;
    return r;
}

void set_output(Gen *g, int t, int r)
{
    temp_assign(g, t, r);
}
