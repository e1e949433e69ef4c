/* Copy coalescing: `d = f(...); mov G, d` with d a normal temp and G a global
 * becomes `G = f(...)`, and the later reads of d read G.
 *
 * The front end computes a result into a scratch temp and then copies it to
 * the guest register (and often to the lazy-flag operands as well). Without
 * this pass the backend computes into one host register and copies to the
 * global's register (`lea rcx, [r13 + 1]; mov r13, rcx`); with it the op can
 * update the global in place (`add r13, 1`).
 *
 * Why the guest's view stays exact: G takes its new value at the def instead
 * of at the mov, so nothing between the two may read or write G or observe
 * the CPU state (guest memory accesses, calls, env loads and stores, insn
 * boundaries, control flow); and a read of d may become a read of G only
 * while G still holds d's value (no write to G, no non-pure call before it).
 * d is a normal temp: dead at the end of its basic block. */
#include <string.h>
#include "system/util.h"
#include "tcg/tcg.h"

/* How far back the def may be, and how far forward d's reads are followed. */
#define DEF_SCAN_MAX 16
#define USE_SCAN_MAX 512

static bool ends_block(TCGOpcode opc)
{
    switch (opc) {
    case INDEX_op_set_label: case INDEX_op_br: case INDEX_op_brcond: case INDEX_op_goto_tb:
    case INDEX_op_exit_tb: case INDEX_op_lookup_and_goto: case INDEX_op_goto_loop:
        return true;
    default:
        return false;
    }
}

static bool reads(const TCGOp *op, int t)
{
    if (op->opc == INDEX_op_call) {
        for (int i = 0; i < op->call->nargs; i++)
            if (op->call->args[i] == t)
                return true;
        return false;
    }
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    for (int i = 0; i < def->nb_iargs; i++)
        if ((int)op->args[def->nb_oargs + i] == t)
            return true;
    return false;
}

/* Whether op may change t (discard counts: t is undefined afterwards). */
static bool writes(const TCGContext *s, const TCGOp *op, int t)
{
    if (op->opc == INDEX_op_discard)
        return (int)(int64_t)op->args[0] == t;
    if (op->opc == INDEX_op_call)
        return (int)(int64_t)op->args[0] == t ||
               (!(op->call->flags & TCG_CALL_PURE) && s->temps[t].kind == TEMP_GLOBAL);
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    for (int i = 0; i < def->nb_oargs; i++)
        if ((int)op->args[i] == t)
            return true;
    return false;
}

static void rename_reads(TCGOp *op, int from, int to)
{
    if (op->opc == INDEX_op_call) {
        for (int i = 0; i < op->call->nargs; i++)
            if (op->call->args[i] == from)
                op->call->args[i] = to;
        return;
    }
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    for (int i = 0; i < def->nb_iargs; i++)
        if ((int)op->args[def->nb_oargs + i] == from)
            op->args[def->nb_oargs + i] = (TCGArg)to;
}

/* An op that may compute straight into a global: one output, and a fault
 * (qemu_ld) leaves the output unwritten. */
static bool can_define_global(const TCGOp *op)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    if (def->nb_oargs != 1 || op->opc == INDEX_op_call || op->opc == INDEX_op_discard)
        return false;
    return op->opc == INDEX_op_qemu_ld || !tcg_op_has_side_effects(op);
}

/* Between the def and the mov: arithmetic only. */
static bool is_quiet(const TCGOp *op)
{
    return !tcg_op_has_side_effects(op) && op->opc != INDEX_op_ld;
}

/* The index of the op defining d before mov n when mov n can take its
 * place, else -1. */
static int find_def(TCGContext *s, int n, int d, int g)
{
    for (int k = n - 1; k >= 0 && k >= n - DEF_SCAN_MAX; k--) {
        TCGOp *op = &s->ops[k];
        if (writes(s, op, d))
            return can_define_global(op) && (int)op->args[0] == d ? k : -1;
        if (!is_quiet(op) || reads(op, g) || writes(s, op, g))
            return -1;
    }
    return -1;
}

/* Where the forward scans may stop early (translation time: a scan to the
 * end of a long basic block per mov was the pass's main cost). The pass
 * only ever turns reads of a normal temp into reads of a global, and
 * changes no op's kind except mov into discard, so both stay exact. */
static __thread int last_read[TCG_MAX_TEMPS];   /* op index, -1: none */
/* The last op naming a normal temp as its output (or discarding it), -1:
 * none. The pass only takes outputs away (a def's d becomes g), so this
 * stays an upper bound: past it no op writes the temp. */
static __thread int last_write[TCG_MAX_TEMPS];
static __thread int next_end[TCG_MAX_OPS + 1];  /* first op >= k ending a basic block */

static void scan_ops(const TCGContext *s)
{
    memset(last_read, -1, sizeof(int) * (size_t)s->nb_temps);
    memset(last_write, -1, sizeof(int) * (size_t)s->nb_temps);
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        if (op->opc == INDEX_op_call) {
            for (int i = 0; i < op->call->nargs; i++)
                last_read[op->call->args[i]] = n;
            if ((int64_t)op->args[0] >= 0)
                last_write[(int)op->args[0]] = n;
            continue;
        }
        if (op->opc == INDEX_op_discard) {
            if ((int64_t)op->args[0] >= 0)
                last_write[(int)op->args[0]] = n;
            continue;
        }
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        for (int i = 0; i < def->nb_oargs; i++)
            if ((int64_t)op->args[i] >= 0)
                last_write[(int)op->args[i]] = n;
        for (int i = 0; i < def->nb_iargs; i++)
            last_read[(int)op->args[def->nb_oargs + i]] = n;
    }
    next_end[s->nb_ops] = s->nb_ops;
    for (int n = s->nb_ops - 1; n >= 0; n--)
        next_end[n] = ends_block(s->ops[n].opc) ? n : next_end[n + 1];
}

/* Whether some op in [from, to] writes d or ends the basic block. */
static bool stops_within(const TCGContext *s, int from, int to, int d)
{
    if (next_end[from] <= to)
        return true;
    if (last_write[d] < from)
        return false;
    for (int k = from; k <= to; k++)
        if (writes(s, &s->ops[k], d))
            return true;
    return false;
}

/* Whether every read of d after op n still finds d's value in g. */
static bool reads_see_global(TCGContext *s, int n, int d, int g)
{
    bool g_changed = false;
    for (int k = n + 1; k < s->nb_ops && k <= n + USE_SCAN_MAX; k++) {
        if (k > last_read[d])   /* no read left: only where the scan ends matters */
            return stops_within(s, k, MIN(s->nb_ops - 1, n + USE_SCAN_MAX), d) ||
                   n + USE_SCAN_MAX >= s->nb_ops - 1;
        const TCGOp *op = &s->ops[k];
        if (g_changed && reads(op, d))
            return false;
        if ((k <= last_write[d] && writes(s, op, d)) || ends_block(op->opc))
            return true;
        if (!g_changed)
            g_changed = writes(s, op, g);
    }
    return n + USE_SCAN_MAX >= s->nb_ops - 1;
}

static void coalesce(TCGContext *s, int def, int n, int d, int g)
{
    s->ops[def].args[0] = (TCGArg)g;
    for (int k = def + 1; k < n; k++)
        rename_reads(&s->ops[k], d, g);
    s->ops[n].opc = INDEX_op_discard;
    s->ops[n].args[0] = (TCGArg)(int64_t)TCG_NO_TEMP;
    for (int k = n + 1; k < s->nb_ops && k <= last_read[d]; k++) {
        TCGOp *op = &s->ops[k];
        rename_reads(op, d, g);
        if ((k <= last_write[d] && writes(s, op, d)) || ends_block(op->opc))
            break;
    }
}

void tcg_coalesce(TCGContext *s)
{
    scan_ops(s);
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        if (op->opc != INDEX_op_mov || op->flags)
            continue;
        int g = (int)op->args[0], d = (int)op->args[1];
        if (g == d || s->temps[g].kind != TEMP_GLOBAL || s->temps[d].kind != TEMP_NORMAL)
            continue;
        int def = find_def(s, n, d, g);
        if (def >= 0 && reads_see_global(s, n, d, g))
            coalesce(s, def, n, d, g);
    }
}
