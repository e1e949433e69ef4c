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

/* Liveness of temps as stamps: t is live while stamp[t] == gen, so making
 * every normal temp dead at a block end is one increment, not a scan of all
 * temps (translation time: blocks have hundreds of temps and many ends). */
typedef struct Live {
    uint32_t gen;
    int nb_keep, nb_globals;
    int keep[TCG_MAX_TEMPS];          /* the temps live at block ends: all but normal */
    uint32_t stamp[TCG_MAX_TEMPS];
} Live;

static __thread Live lv;

static inline bool is_live(int t) { return lv.stamp[t] == lv.gen; }
static inline void set_live(int t) { lv.stamp[t] = lv.gen; }
static inline void set_dead(int t) { lv.stamp[t] = 0; }

/* At a block end: globals and locals live, normal temps dead. */
static void block_end(void)
{
    if (++lv.gen == 0) {
        memset(lv.stamp, 0, sizeof(lv.stamp));
        lv.gen = 1;
    }
    for (int i = 0; i < lv.nb_keep; i++)
        set_live(lv.keep[i]);
}

/* Temps 1 .. nb_globals - 1 are the globals (tcg_global_new). */
static void globals_live(void)
{
    for (int i = 1; i < lv.nb_globals; i++)
        set_live(i);
}

static void liveness_pass(TCGContext *s)
{
    lv.nb_keep = 0;
    lv.nb_globals = s->nb_globals;
    for (int i = 0; i < s->nb_temps; i++)
        if (s->temps[i].kind != TEMP_NORMAL)
            lv.keep[lv.nb_keep++] = i;
    block_end();

    for (int n = s->nb_ops - 1; n >= 0; n--) {
        TCGOp *op = &s->ops[n];
        TCGOpcode opc = op->opc;
        const TCGOpDef *def = &tcg_op_defs[opc];

        if (ends_block(opc))
            block_end();
        if (opc == INDEX_op_discard) {
            int t = (int)(int64_t)op->args[0];
            if (t >= 0)
                set_dead(t);
            continue;
        }
        if (opc == INDEX_op_call) {
            const TCGCall *c = op->call;
            int ret = (int)(int64_t)op->args[0];
            bool pure = c->flags & TCG_CALL_PURE;
            if (pure && c->has_ret && ret >= 0 && !is_live(ret)) {
                mark_removed(op);
                continue;
            }
            if (c->has_ret && ret >= 0)
                set_dead(ret);
            if (!pure)
                globals_live();
            op->dead = 0;
            for (int i = 0; i < c->nargs; i++) {
                int t = c->args[i];
                if (!is_live(t))
                    op->dead |= 1u << i;
            }
            for (int i = 0; i < c->nargs; i++)
                set_live(c->args[i]);
            continue;
        }

        bool side = tcg_op_has_side_effects(op);
        if (!side && def->nb_oargs) {
            bool any_live = false;
            for (int i = 0; i < def->nb_oargs; i++)
                if (is_live((int)op->args[i]))
                    any_live = true;
            if (!any_live) {
                mark_removed(op);
                continue;
            }
        }
        for (int i = 0; i < def->nb_oargs; i++)
            set_dead((int)op->args[i]);
        if (tcg_op_is_guest_mem(opc))
            globals_live();
        op->dead = 0;
        for (int i = 0; i < def->nb_iargs; i++) {
            int t = (int)op->args[def->nb_oargs + i];
            if (!is_live(t))
                op->dead |= 1u << i;
        }
        for (int i = 0; i < def->nb_iargs; i++)
            set_live((int)op->args[def->nb_oargs + i]);
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
