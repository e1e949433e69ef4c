/* Loop-invariant TLB probes: in a looping block (goto_loop: a self-loop or
 * a translation region), guest accesses whose address is a global the loop
 * (every op before its last back edge) never writes plus a bounded
 * offset ([r9 + r15*4] with r15 a zero-extended byte: a 1 KiB window) check
 * their window once per entry into the block instead of once per access.
 *
 * A qemu_probe before the first insn_start (the block set-up, which the
 * back edge does not re-run) checks the whole window and leaves the addend
 * in a local temp; the accesses become qemu_ld/st_reuse of it. An odd addend
 * (the page was not in the TLB, or the window crosses a page) makes each of
 * them an ordinary access, as before.
 *
 * Why the guest's view stays exact (see also tcg/mem-reuse.c):
 *  - Only blocks without non-pure helper calls: nothing inside an iteration
 *    flushes the TLB or changes the paging mode (INVLPG, MOV CR, task
 *    switches are helpers). The guest-memory slow paths only fill entries;
 *    a fill that evicts the probed entry leaves its translation correct, as
 *    a hardware TLB may keep it. TLB flush requests from devices and other
 *    vCPUs raise the exit flag, which the back edge checks: the block is
 *    left and the next entry probes again.
 *  - A window verified for writes had no TLB_CODE flag at the probe, and no
 *    code is translated while the loop runs; a store that invalidates the
 *    running block leaves it (cpu_loop_exit).
 *  - The verified window contains every address the access can use, so a
 *    reuse never reaches past it; faults happen in the ordinary access of an
 *    unverified window, at the instruction that makes it. */
#include <string.h>
#include "tcg/tcg.h"

/* Bytes one hoisted window may span (a larger one crosses pages more often). */
#define LOOP_WINDOW_MAX 2048
/* Windows per loop: each addend is a local the loop reloads. */
#define LOOP_PROBES_MAX 2
/* Offsets beyond this are not tracked (sums stay far from overflow). */
#define RANGE_MAX (1 << 20)

/* What is known of a temp's value: base (a loop-invariant global, or -1 for
 * none) plus an offset in [lo, hi]; unknown when !known. */
typedef struct Range {
    bool known;
    int base;
    int64_t lo, hi;
} Range;

typedef struct Window {
    int base, mmu;
    int64_t lo, hi;       /* [base + lo, base + hi) */
    bool writes;
    int addend;
} Window;

typedef struct LoopProbe {
    TCGContext *s;
    bool written[TCG_MAX_TEMPS];
    Range r[TCG_MAX_TEMPS];
    Window w[LOOP_PROBES_MAX];
    int nw;
} LoopProbe;

static bool ends_range_scan(TCGOpcode opc)
{
    return opc == INDEX_op_set_label || opc == INDEX_op_br || opc == INDEX_op_brcond;
}

static Range unknown(void) { return (Range){ .known = false }; }
static Range span(int64_t lo, int64_t hi) { return (Range){ .known = true, .base = -1, .lo = lo, .hi = hi }; }

/* The range of input temp t (a loop-invariant global is its own base). */
static Range range_of(const LoopProbe *lp, int t)
{
    const TCGContext *s = lp->s;
    if (s->temps[t].kind == TEMP_GLOBAL && !lp->written[t])
        return (Range){ .known = true, .base = t, .lo = 0, .hi = 0 };
    /* a global the loop writes: what its last write in this basic block
     * left (an index, never a base) */
    if (s->temps[t].kind != TEMP_NORMAL && s->temps[t].kind != TEMP_GLOBAL)
        return unknown();
    return lp->r[t];
}

static Range add_ranges(Range a, Range b)
{
    if (!a.known || !b.known || (a.base >= 0 && b.base >= 0))
        return unknown();
    Range r = { .known = true, .base = a.base >= 0 ? a.base : b.base, .lo = a.lo + b.lo, .hi = a.hi + b.hi };
    return r.lo < -RANGE_MAX || r.hi > RANGE_MAX ? unknown() : r;
}

static Range value_range(const LoopProbe *lp, const TCGOp *op)
{
    const TCGArg *a = op->args;
    bool w32 = op->flags & TCG_W32;
    switch (op->opc) {
    case INDEX_op_movi:
        return (int64_t)a[1] >= -RANGE_MAX && (int64_t)a[1] <= RANGE_MAX ? span((int64_t)a[1], (int64_t)a[1])
                                                                         : unknown();
    case INDEX_op_mov:
        return range_of(lp, (int)a[1]);
    case INDEX_op_ext8u:
        return span(0, 0xff);
    case INDEX_op_ext16u:
        return span(0, 0xffff);
    case INDEX_op_qemu_ld: {
        unsigned memop = (unsigned)a[2];
        if (memop & MO_SIGN)
            return unknown();
        return (memop & MO_SIZE) == MO_8 ? span(0, 0xff) : (memop & MO_SIZE) == MO_16 ? span(0, 0xffff) : unknown();
    }
    case INDEX_op_and: {
        Range c = range_of(lp, (int)a[2]);
        if (c.known && c.base < 0 && c.lo == c.hi && c.lo >= 0)
            return span(0, c.lo);
        return unknown();
    }
    case INDEX_op_shl: {
        Range x = range_of(lp, (int)a[1]), c = range_of(lp, (int)a[2]);
        if (!x.known || x.base >= 0 || x.lo < 0 || !c.known || c.base >= 0 || c.lo != c.hi || c.lo < 0 ||
            c.lo > 4 || (x.hi << c.lo) > RANGE_MAX)
            return unknown();
        return span(x.lo << c.lo, x.hi << c.lo);
    }
    case INDEX_op_add:
        /* a 32-bit sum wraps at 4 GiB, a host address does not */
        return w32 ? unknown() : add_ranges(range_of(lp, (int)a[1]), range_of(lp, (int)a[2]));
    case INDEX_op_sub: {
        Range c = range_of(lp, (int)a[2]);
        if (w32 || !c.known || c.base >= 0 || c.lo != c.hi)
            return unknown();
        return add_ranges(range_of(lp, (int)a[1]), span(-c.lo, -c.lo));
    }
    default:
        return unknown();
    }
}

/* The window of an access at addr (range r), widened to take it, or NULL. */
static Window *window_for(LoopProbe *lp, Range r, unsigned size, int mmu, bool write)
{
    for (int i = 0; i < lp->nw; i++) {
        Window *w = &lp->w[i];
        if (w->base != r.base || w->mmu != mmu)
            continue;
        int64_t lo = r.lo < w->lo ? r.lo : w->lo, hi = r.hi + size > w->hi ? r.hi + size : w->hi;
        if (hi - lo > LOOP_WINDOW_MAX)
            return NULL;
        w->lo = lo;
        w->hi = hi;
        w->writes |= write;
        return w;
    }
    if (lp->nw == LOOP_PROBES_MAX || r.hi + size - r.lo > LOOP_WINDOW_MAX || lp->s->nb_temps >= TCG_MAX_TEMPS)
        return NULL;
    Window *w = &lp->w[lp->nw++];
    TCGContext *saved = tcg_ctx;
    tcg_ctx = lp->s;
    *w = (Window){ .base = r.base, .mmu = mmu, .lo = r.lo, .hi = r.hi + size, .writes = write,
                   .addend = tcg_temp_local_new() };
    tcg_ctx = saved;
    return w;
}

static void to_reuse(TCGOp *op, int addend)
{
    bool store = op->opc == INDEX_op_qemu_st;
    TCGArg data = op->args[0], addr = op->args[1], memop = op->args[2], mmu = op->args[3];
    op->opc = store ? INDEX_op_qemu_st_reuse : INDEX_op_qemu_ld_reuse;
    op->args[0] = data;
    op->args[1] = addr;
    op->args[2] = (TCGArg)addend;
    op->args[3] = memop;
    op->args[4] = mmu;
    op->args[5] = 0;
}

/* The end of the loop body (the last goto_loop: a self-loop's back edge or
 * the last of a translation region's), or -1 when the block does not loop
 * or may change the TLB in its body. Every back edge goes to a label after
 * the probes (which come first); br and brcond only jump forward, so what
 * follows the last back edge only leaves. */
static int loop_end(LoopProbe *lp)
{
    TCGContext *s = lp->s;
    int end = -1;
    for (int n = 0; n < s->nb_ops; n++)
        if (s->ops[n].opc == INDEX_op_goto_loop)
            end = n;
    if (end < 0)
        return -1;
    memset(lp->written, 0, sizeof(bool) * (size_t)s->nb_temps);
    for (int n = 0; n < end; n++) {
        const TCGOp *op = &s->ops[n];
        if (op->opc == INDEX_op_call && !(op->call->flags & TCG_CALL_PURE))
            return -1;
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        int nout = op->opc == INDEX_op_discard || op->opc == INDEX_op_call ? 1 : def->nb_oargs;
        for (int i = 0; i < nout; i++)
            if ((int64_t)op->args[i] >= 0)
                lp->written[(int)op->args[i]] = true;
    }
    return end;
}

static bool insert_probes(LoopProbe *lp)
{
    TCGContext *s = lp->s;
    if (s->nb_ops + lp->nw > TCG_MAX_OPS)
        return false;
    memmove(&s->ops[lp->nw], &s->ops[0], sizeof(TCGOp) * (size_t)s->nb_ops);
    s->nb_ops += lp->nw;
    for (int i = 0; i < lp->nw; i++) {
        const Window *w = &lp->w[i];
        unsigned perms = TCG_WINDOW_READ | (w->writes ? TCG_WINDOW_WRITE : 0);
        s->ops[i] = (TCGOp){ .opc = INDEX_op_qemu_probe };
        s->ops[i].args[0] = (TCGArg)w->addend;
        s->ops[i].args[1] = (TCGArg)w->base;
        s->ops[i].args[2] = (TCGArg)w->mmu;
        s->ops[i].args[3] = tcg_window_pack((int32_t)w->lo, (unsigned)(w->hi - w->lo), perms);
    }
    return true;
}

void tcg_loop_probe(TCGContext *s)
{
    static __thread LoopProbe lp;
    lp.s = s;
    lp.nw = 0;
    int end = loop_end(&lp);
    if (end < 0)
        return;
    int hoisted[TCG_MAX_OPS / 64], nh = 0, addend[TCG_MAX_OPS / 64];
    for (int i = 0; i < s->nb_temps; i++)
        lp.r[i] = unknown();
    bool seen_insn = false;
    for (int n = 0; n < end; n++) {
        TCGOp *op = &s->ops[n];
        /* the set-up before the first insn_start runs once, not per iteration */
        if (ends_range_scan(op->opc) || (op->opc == INDEX_op_insn_start && !seen_insn)) {
            seen_insn |= op->opc == INDEX_op_insn_start;
            for (int i = 0; i < s->nb_temps; i++)
                lp.r[i] = unknown();
            continue;
        }
        if ((op->opc == INDEX_op_qemu_ld || op->opc == INDEX_op_qemu_st) && nh < (int)(sizeof(hoisted) / sizeof(hoisted[0]))) {
            unsigned memop = (unsigned)op->args[2];
            Range r = range_of(&lp, (int)op->args[1]);
            bool write = op->opc == INDEX_op_qemu_st || (memop & MO_RMW);
            Window *w = r.known && r.base >= 0 ? window_for(&lp, r, 1u << (memop & MO_SIZE), (int)op->args[3], write)
                                               : NULL;
            if (w) {
                hoisted[nh] = n;
                addend[nh++] = w->addend;
            }
        }
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        if (op->opc == INDEX_op_call || op->opc == INDEX_op_discard) {
            if ((int64_t)op->args[0] >= 0)
                lp.r[(int)op->args[0]] = unknown();
        } else if (def->nb_oargs) {
            Range v = def->nb_oargs == 1 ? value_range(&lp, op) : unknown();
            for (int i = 0; i < def->nb_oargs; i++)
                lp.r[(int)op->args[i]] = unknown();
            lp.r[(int)op->args[0]] = v;
        }
    }
    if (!nh || !insert_probes(&lp))
        return;
    s->stat_loop_probes++;
    for (int i = 0; i < nh; i++)
        to_reuse(&s->ops[hoisted[i] + lp.nw], addend[i]);
}
