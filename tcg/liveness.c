/* Liveness: a backward pass that marks, for each op, the inputs whose value
 * dies there (TCGOp.dead), and removes ops whose results are never used --
 * which is how lazy-flag results overwritten before being read disappear.
 *
 * At the end of the block and at every branch or label, globals and locals
 * are live and normal temps are dead. Ops that may leave the block (guest
 * memory accesses, non-pure calls) keep every global live: an exception
 * there must see the up-to-date CPU state. */
#include <string.h>
#include "tcg/tcg.h"

static void mark_removed(TCGOp *op)
{
    op->opc = INDEX_op_discard;
    op->args[0] = (TCGArg)(int64_t)TCG_NO_TEMP;
    op->call = NULL;
    op->dead = 0;
}

static bool ends_block(TCGOpcode opc)
{
    switch (opc) {
    case INDEX_op_set_label: case INDEX_op_br: case INDEX_op_brcond:
    case INDEX_op_goto_tb: case INDEX_op_exit_tb: case INDEX_op_lookup_and_goto:
    case INDEX_op_goto_loop:
        return true;
    default:
        return false;
    }
}

static void liveness_pass(TCGContext *s)
{
    static __thread bool live[TCG_MAX_TEMPS];
    int nb_temps = s->nb_temps;

    for (int i = 0; i < nb_temps; i++)
        live[i] = s->temps[i].kind != TEMP_NORMAL;

    for (int n = s->nb_ops - 1; n >= 0; n--) {
        TCGOp *op = &s->ops[n];
        TCGOpcode opc = op->opc;
        const TCGOpDef *def = &tcg_op_defs[opc];

        if (ends_block(opc)) {
            for (int i = 0; i < nb_temps; i++)
                live[i] = s->temps[i].kind != TEMP_NORMAL;
        }
        if (opc == INDEX_op_discard) {
            int t = (int)(int64_t)op->args[0];
            if (t >= 0)
                live[t] = false;
            continue;
        }
        if (opc == INDEX_op_call) {
            const TCGCall *c = op->call;
            int ret = (int)(int64_t)op->args[0];
            bool pure = c->flags & TCG_CALL_PURE;
            if (pure && c->has_ret && ret >= 0 && !live[ret]) {
                mark_removed(op);
                continue;
            }
            if (c->has_ret && ret >= 0)
                live[ret] = false;
            if (!pure)
                for (int i = 0; i < nb_temps; i++)
                    if (s->temps[i].kind == TEMP_GLOBAL)
                        live[i] = true;
            op->dead = 0;
            for (int i = 0; i < c->nargs; i++) {
                int t = c->args[i];
                if (!live[t])
                    op->dead |= 1u << i;
            }
            for (int i = 0; i < c->nargs; i++)
                live[c->args[i]] = true;
            continue;
        }

        bool side = tcg_op_has_side_effects(op);
        if (!side && def->nb_oargs) {
            bool any_live = false;
            for (int i = 0; i < def->nb_oargs; i++)
                if (live[(int)op->args[i]])
                    any_live = true;
            if (!any_live) {
                mark_removed(op);
                continue;
            }
        }
        for (int i = 0; i < def->nb_oargs; i++)
            live[(int)op->args[i]] = false;
        if (tcg_op_is_guest_mem(opc)) {
            for (int i = 0; i < nb_temps; i++)
                if (s->temps[i].kind == TEMP_GLOBAL)
                    live[i] = true;
        }
        op->dead = 0;
        for (int i = 0; i < def->nb_iargs; i++) {
            int t = (int)op->args[def->nb_oargs + i];
            if (!live[t])
                op->dead |= 1u << i;
        }
        for (int i = 0; i < def->nb_iargs; i++)
            live[(int)op->args[def->nb_oargs + i]] = true;
        /* An input used twice in one op dies at most once: clear the bit of
         * the earlier duplicate so a backend frees it once. */
        for (int i = 0; i < def->nb_iargs; i++)
            for (int j = i + 1; j < def->nb_iargs; j++)
                if (op->args[def->nb_oargs + i] == op->args[def->nb_oargs + j])
                    op->dead &= ~(1u << i);
    }
}

void tcg_liveness(TCGContext *s)
{
    tcg_cold_sink(s);   /* first: where the moved ops' inputs die changes */
    liveness_pass(s);
}
