/* Cold ops: computations whose results only a fault would see.
 *
 * Lazy flags keep values that are usually dead before anything reads them
 * but must be in env if the next guest memory access faults: a SHR's carry
 * source, a CMP's difference, an INC's preserved carry, all replaced by the
 * next flag producer right after the access. The liveness pass must keep
 * them (the access may fault), so they cost host instructions on every run
 * of the block although only the rare fault path reads them.
 *
 * This pass moves such ops, and the ops computing their inputs that nothing
 * else reads, to just before that access and flags them TCG_COLD (see
 * tcg.h): a backend may then compute them only on the access's slow path.
 * The move is legal when, between the op's old place and the access, no
 * other op reads its result or redefines its inputs, and the result is
 * dead after the access (replaced before anything reads it, no exit, label
 * or further fault point in between). */
#include <string.h>
#include "tcg/tcg.h"

enum { MAX_REGION = 32 };   /* ops looked at before an access: translation time matters */

bool tcg_op_can_be_cold(unsigned opc)
{
    switch (opc) {
    case INDEX_op_mov: case INDEX_op_add: case INDEX_op_sub: case INDEX_op_and:
    case INDEX_op_or: case INDEX_op_xor: case INDEX_op_shl: case INDEX_op_shr:
    case INDEX_op_sar: case INDEX_op_neg: case INDEX_op_not: case INDEX_op_ext8s:
    case INDEX_op_ext8u: case INDEX_op_ext16s: case INDEX_op_ext16u: case INDEX_op_ext32s:
    case INDEX_op_ext32u: case INDEX_op_setcond:
        return true;
    default:
        return false;
    }
}

/* Ops after which nothing is known about the block's flow or the globals:
 * a region of movable ops never crosses one. */
static bool is_barrier(const TCGOp *op)
{
    switch (op->opc) {
    case INDEX_op_set_label: case INDEX_op_br: case INDEX_op_brcond:
    case INDEX_op_goto_tb: case INDEX_op_exit_tb: case INDEX_op_lookup_and_goto:
    case INDEX_op_goto_loop: case INDEX_op_call:
        return true;
    default:
        return tcg_op_is_guest_mem(op->opc);
    }
}

static bool is_global(const TCGContext *s, int t)
{
    return t > 0 && s->temps[t].kind == TEMP_GLOBAL;
}

static bool op_uses_input(const TCGOp *op, int t)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    for (int i = 0; i < def->nb_iargs; i++)
        if ((int)(int64_t)op->args[def->nb_oargs + i] == t)
            return true;
    return false;
}

/* Does op read temp t? Barriers read every global (exits and faults expose
 * the CPU state; a helper may read env), an env ld/st a global's slot. */
static bool op_reads(const TCGContext *s, const TCGOp *op, int t)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    if (op->opc == INDEX_op_discard || op->opc == INDEX_op_insn_start)
        return false;
    if (op->opc == INDEX_op_call) {
        for (int i = 0; i < op->call->nargs; i++)
            if (op->call->args[i] == t)
                return true;
        return is_global(s, t) && !(op->call->flags & TCG_CALL_PURE);
    }
    if (is_global(s, t) && is_barrier(op))
        return true;
    if ((op->opc == INDEX_op_ld || op->opc == INDEX_op_st) && is_global(s, t) &&
        (int64_t)op->args[def->nb_oargs + def->nb_iargs] == s->temps[t].env_offset)
        return true;
    return op_uses_input(op, t);
}

/* Does op (re)define t? A discard counts: the value is gone. */
static bool op_writes(const TCGContext *s, const TCGOp *op, int t)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    if (op->opc == INDEX_op_call) {
        if ((int)(int64_t)op->args[0] == t && op->call->has_ret)
            return true;
        return is_global(s, t) && !(op->call->flags & TCG_CALL_PURE);
    }
    if (op->opc == INDEX_op_st && is_global(s, t) &&
        (int64_t)op->args[def->nb_oargs + def->nb_iargs] == s->temps[t].env_offset)
        return true;
    for (int i = 0; i < def->nb_oargs; i++)
        if ((int)(int64_t)op->args[i] == t)
            return true;
    return false;
}

static bool ends_basic_block(const TCGOp *op)
{
    return is_barrier(op) && op->opc != INDEX_op_call && !tcg_op_is_guest_mem(op->opc);
}

/* For each access, the globals (bit = temp index) replaced after it
 * before anything can read them: one backward pass per block, when the
 * globals fit the mask. */
static __thread uint64_t dead_globals[TCG_MAX_OPS];
static __thread bool have_dead_globals;

static uint64_t temp_bit(const TCGContext *s, TCGArg a)
{
    int t = (int)(int64_t)a;
    return t > 0 && t < s->nb_globals ? 1ULL << t : 0;
}

static void compute_dead_globals(const TCGContext *s)
{
    have_dead_globals = s->nb_globals <= 64;
    if (!have_dead_globals)
        return;
    uint64_t all = s->nb_globals == 64 ? ~0ULL : (1ULL << s->nb_globals) - 1, live = all;
    for (int n = s->nb_ops - 1; n >= 0; n--) {
        const TCGOp *op = &s->ops[n];
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        if (tcg_op_is_guest_mem(op->opc))
            dead_globals[n] = ~live;
        if (op->opc == INDEX_op_insn_start)
            continue;
        if (op->opc == INDEX_op_discard) {
            live &= ~temp_bit(s, op->args[0]);
            continue;
        }
        if (op->opc == INDEX_op_call) {
            if (!(op->call->flags & TCG_CALL_PURE)) {
                live = all;
                continue;
            }
            if (op->call->has_ret)
                live &= ~temp_bit(s, op->args[0]);
            for (int i = 0; i < op->call->nargs; i++)
                live |= temp_bit(s, (TCGArg)op->call->args[i]);
            continue;
        }
        if (is_barrier(op) || op->opc == INDEX_op_ld || op->opc == INDEX_op_st) {
            live = all;   /* an env ld/st may name a global's slot: as if all read */
            continue;
        }
        for (int i = 0; i < def->nb_oargs; i++)
            live &= ~temp_bit(s, op->args[i]);
        for (int i = 0; i < def->nb_iargs; i++)
            live |= temp_bit(s, op->args[def->nb_oargs + i]);
    }
}

/* After the access at m, is d dead until redefined? A normal temp ends
 * with its basic block; a global must be replaced before anything (an
 * exit, a label, a fault point) can read it. */
static bool dead_after(const TCGContext *s, int m, int d)
{
    bool global = is_global(s, d);
    if (global && have_dead_globals)
        return dead_globals[m] >> d & 1;
    for (int n = m + 1; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        if (op_reads(s, op, d))
            return false;
        if (op_writes(s, op, d))
            return true;
        if (!global && ends_basic_block(op))
            return true;
    }
    return !global;
}

/* Temps the current group reads, stamped with the access they belong to:
 * a normal temp is worth sinking only when the group is its reader. */
static __thread int group_reads[TCG_MAX_TEMPS];
static __thread int group_stamp;

static void note_group_inputs(const TCGOp *op)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    for (int i = 0; i < def->nb_iargs; i++) {
        int t = (int)(int64_t)op->args[def->nb_oargs + i];
        if (t >= 0 && t < TCG_MAX_TEMPS)
            group_reads[t] = group_stamp;
    }
}

/* May the op at o join the cold group of the access at m? cold[] marks
 * the ops between them already in the group. */
static bool can_sink(const TCGContext *s, int o, int m, const bool *cold, int base)
{
    const TCGOp *op = &s->ops[o];
    if (!tcg_op_can_be_cold(op->opc) || (op->flags & TCG_COLD))
        return false;
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    int d = (int)(int64_t)op->args[0];
    if (d <= 0 || s->temps[d].kind == TEMP_LOCAL)
        return false;
    if (!is_global(s, d) && group_reads[d] != group_stamp)
        return false;
    if (op_uses_input(&s->ops[m], d) || !dead_after(s, m, d))   /* the cheap refusals first */
        return false;
    for (int n = o + 1; n <= m; n++) {
        const TCGOp *x = &s->ops[n];
        bool in_group = n < m && cold[n - base];
        if (op_writes(s, x, d) || (n < m && !in_group && op_reads(s, x, d)))
            return false;
        if (in_group)
            continue;
        for (int i = 0; i < def->nb_iargs; i++)
            if (op_writes(s, x, (int)(int64_t)op->args[def->nb_oargs + i]))
                return false;
    }
    return true;
}

/* The cold group of the access at m, moved right before it. */
static bool sink_into(TCGContext *s, int m)
{
    int start = m;
    uint64_t written = 0;   /* globals the region's movable ops write */
    while (start > 0 && m - start < MAX_REGION && !is_barrier(&s->ops[start - 1])) {
        const TCGOp *op = &s->ops[--start];
        if (tcg_op_can_be_cold(op->opc))
            written |= temp_bit(s, op->args[0]);
    }
    /* a group starts with a global that only the fault reads */
    if (have_dead_globals && !(written & dead_globals[m]))
        return false;
    bool cold[MAX_REGION] = { false };
    int found = 0;
    if (++group_stamp == 0)
        memset(group_reads, 0, sizeof(group_reads)), group_stamp = 1;
    for (int o = m - 1; o >= start; o--) {
        if (can_sink(s, o, m, cold, start)) {
            cold[o - start] = true;
            found++;
            note_group_inputs(&s->ops[o]);
        }
    }
    if (!found)
        return false;
    TCGOp moved[MAX_REGION];
    int k = 0, w = start;
    for (int o = start; o < m; o++) {
        if (cold[o - start])
            moved[k++] = s->ops[o];
        else
            s->ops[w++] = s->ops[o];
    }
    for (int i = 0; i < k; i++) {
        moved[i].flags |= TCG_COLD;
        s->ops[w++] = moved[i];
    }
    return true;
}

bool tcg_cold_sink(TCGContext *s)
{
    bool any = false;
    compute_dead_globals(s);
    for (int m = 0; m < s->nb_ops; m++)
        if (tcg_op_is_guest_mem(s->ops[m].opc) && sink_into(s, m))
            any = true;
    return any;
}
