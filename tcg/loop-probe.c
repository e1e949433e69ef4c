/* Loop-invariant TLB probes: in a looping block (goto_loop: a self-loop or
 * a translation region), guest accesses whose address is a global the loop
 * never writes plus a bounded offset ([r9 + r15*4] with r15 a zero-extended
 * byte: a 1 KiB window) check their window once per entry into the loop
 * instead of once per access.
 *
 * A probe site is the block entry (before every op) or a pre-header: right
 * before the set_label of a loop head inside the block (a label some
 * goto_loop jumps back to), on the way in from above, not on the back edge.
 * Forward branches to such a head are pointed at a new label before the
 * probe. There a qemu_probe checks the whole window and leaves the addend in
 * a local temp; the accesses become qemu_ld/st_reuse of it. An odd addend
 * (the page was not in the TLB, or the window crosses a page) makes each of
 * them an ordinary access, as before.
 *
 * Which access may use which probe: a forward data-flow pass over the
 * block's control flow (fall-through, br/brcond forward, goto_loop back)
 * computes, before each op, the probes that ran on every path to it with
 * their base unchanged since and no non-pure helper call since. An access
 * uses a probe only when that holds and its address is the probe's base
 * plus an offset in the window; among those, the outermost site whose loop
 * (from its head to its last back edge) contains the access.
 *
 * Why the guest's view stays exact (see also tcg/mem-reuse.c):
 *  - Nothing between a probe and its reuses flushes the TLB or changes the
 *    paging mode: INVLPG, MOV CR, task switches are non-pure helpers, which
 *    the data-flow treats as ending every probe. The guest-memory slow paths
 *    only fill entries; a fill that evicts the probed entry leaves its
 *    translation correct, as a hardware TLB may keep it. TLB flush requests
 *    from devices and other vCPUs raise the exit flag, which every back edge
 *    checks: the block is left and the next entry probes again.
 *  - A window verified for writes had no TLB_CODE flag at the probe, and no
 *    code is translated while the block runs; a store that invalidates the
 *    running block leaves it (cpu_loop_exit).
 *  - The verified window contains every address the access can use, so a
 *    reuse never reaches past it; faults happen in the ordinary access of an
 *    unverified window, at the instruction that makes it. The probe itself
 *    accesses nothing and cannot fault. */
#include <string.h>
#include "tcg/tcg.h"

/* Bytes one hoisted window may span (a larger one crosses pages more often). */
#define LOOP_WINDOW_MAX 2048
/* Windows per site, and in all: each addend is a local the loop carries. */
#define SITE_PROBES_MAX 2
#define LOOP_PROBES_MAX 4
/* Probe sites (the entry and loop heads) and bases tracked: one bit each pair. */
#define SITES_MAX 8
#define BASES_MAX 8
/* Offsets beyond this are not tracked (sums stay far from overflow). */
#define RANGE_MAX (1 << 20)

/* What is known of a temp's value: base (a global not written since the
 * basic block began, or -1 for none) plus an offset in [lo, hi]; unknown
 * when !known. */
typedef struct Range {
    bool known;
    int base;
    int64_t lo, hi;
} Range;

typedef struct Window {
    int site, base, mmu;
    int64_t lo, hi;       /* [base + lo, base + hi) */
    bool writes;
    int addend;
} Window;

/* Where a probe can run: before op `at` (the head's set_label, or 0 for the
 * block entry); its loop ends at op `end` (the last back edge to it). */
typedef struct Site {
    int at, label, end;
    int pre_label;        /* the new label forward branches take, or -1 */
} Site;

typedef struct Access {
    int op;
    Range r;
} Access;

typedef struct LoopProbe {
    TCGContext *s;
    /* r[t] holds while gen[t] is the current basic block's */
    Range r[TCG_MAX_TEMPS];
    uint32_t gen[TCG_MAX_TEMPS];
    uint32_t bb;
    Site site[SITES_MAX];
    int nsites;
    int base[BASES_MAX];
    int nbases;
    Access acc[TCG_MAX_OPS / 16];
    int nacc;
    uint64_t valid[TCG_MAX_OPS / 16];   /* per access: the pairs valid there */
    int site_of_label[TCG_MAX_LABELS];  /* -1: not a head */
    uint64_t fwd_in[TCG_MAX_LABELS], back_in[TCG_MAX_LABELS];
    Window w[LOOP_PROBES_MAX];
    int nw;
} LoopProbe;

static Range unknown(void) { return (Range){ .known = false }; }
static Range span(int64_t lo, int64_t hi) { return (Range){ .known = true, .base = -1, .lo = lo, .hi = hi }; }

static void new_basic_block(LoopProbe *lp)
{
    if (++lp->bb == 0) {
        memset(lp->gen, 0, sizeof(lp->gen));
        lp->bb = 1;
    }
}

/* The range of input temp t: a global not written yet in this basic block
 * is its own base; one written is what its last write left (an index, or
 * another global plus an offset: the data-flow then checks that global). */
static Range range_of(const LoopProbe *lp, int t)
{
    if (lp->gen[t] == lp->bb)
        return lp->r[t];
    if (lp->s->temps[t].kind == TEMP_GLOBAL)
        return (Range){ .known = true, .base = t, .lo = 0, .hi = 0 };
    return unknown();
}

static void set_range(LoopProbe *lp, int t, Range r)
{
    lp->r[t] = r;
    lp->gen[t] = lp->bb;
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

static int nb_outputs(const TCGOp *op)
{
    return op->opc == INDEX_op_discard || op->opc == INDEX_op_call ? 1 : tcg_op_defs[op->opc].nb_oargs;
}

static bool is_global(const TCGContext *s, TCGArg a)
{
    return (int64_t)a > 0 && s->temps[(int)a].kind == TEMP_GLOBAL;
}

/* The probe sites: the block entry and each loop head (in op order), or
 * false when the block does not loop or branches backwards otherwise. */
static bool find_sites(LoopProbe *lp)
{
    TCGContext *s = lp->s;
    if (s->nb_labels > TCG_MAX_LABELS)
        return false;
    for (int l = 0; l < s->nb_labels; l++)
        lp->site_of_label[l] = -1;
    lp->site[0] = (Site){ .at = 0, .label = -1, .end = -1, .pre_label = -1 };
    lp->nsites = 1;
    static __thread int bound_at[TCG_MAX_LABELS];
    for (int l = 0; l < s->nb_labels; l++)
        bound_at[l] = -1;
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        if (op->opc == INDEX_op_set_label) {
            bound_at[(int)op->args[0]] = n;
        } else if (op->opc == INDEX_op_br || op->opc == INDEX_op_brcond) {
            int l = (int)op->args[op->opc == INDEX_op_br ? 0 : 3];
            if (bound_at[l] >= 0)
                return false;   /* not a shape this pass knows */
        } else if (op->opc == INDEX_op_goto_loop) {
            int l = (int)(int64_t)op->args[0];
            if (l < 0 || l >= s->nb_labels || bound_at[l] < 0)
                return false;
            lp->site[0].end = n;
            int i = lp->site_of_label[l];
            if (i < 0 && lp->nsites < SITES_MAX) {
                i = lp->nsites++;
                lp->site[i] = (Site){ .at = bound_at[l], .label = l, .pre_label = -1 };
                lp->site_of_label[l] = i;
            }
            if (i >= 0)
                lp->site[i].end = n;
        }
    }
    return lp->site[0].end >= 0;
}

static int base_index(LoopProbe *lp, int t, bool add)
{
    for (int i = 0; i < lp->nbases; i++)
        if (lp->base[i] == t)
            return i;
    if (!add || lp->nbases == BASES_MAX)
        return -1;
    lp->base[lp->nbases] = t;
    return lp->nbases++;
}

static uint64_t pair_bit(int site, int base) { return 1ull << (site * BASES_MAX + base); }

/* The bits of every site's pairs with base b. */
static uint64_t base_mask(int b)
{
    uint64_t m = 0;
    for (int i = 0; i < SITES_MAX; i++)
        m |= pair_bit(i, b);
    return m;
}

static uint64_t site_mask(int site) { return 0xffull << (site * BASES_MAX); }

/* The guest accesses whose address is a base global plus a bounded offset,
 * with that range (per basic block: ranges do not cross labels). */
static void find_accesses(LoopProbe *lp)
{
    TCGContext *s = lp->s;
    lp->nacc = 0;
    lp->nbases = 0;
    new_basic_block(lp);
    bool seen_insn = false;
    for (int n = 0; n <= lp->site[0].end; n++) {
        TCGOp *op = &s->ops[n];
        /* the set-up before the first insn_start runs once, not per iteration */
        if (op->opc == INDEX_op_set_label || op->opc == INDEX_op_br || op->opc == INDEX_op_brcond ||
            (op->opc == INDEX_op_insn_start && !seen_insn)) {
            seen_insn |= op->opc == INDEX_op_insn_start;
            new_basic_block(lp);
            continue;
        }
        if ((op->opc == INDEX_op_qemu_ld || op->opc == INDEX_op_qemu_st) &&
            lp->nacc < (int)(sizeof(lp->acc) / sizeof(lp->acc[0]))) {
            Range r = range_of(lp, (int)op->args[1]);
            if (r.known && r.base >= 0 && base_index(lp, r.base, true) >= 0)
                lp->acc[lp->nacc++] = (Access){ .op = n, .r = r };
        }
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        if (op->opc == INDEX_op_call || op->opc == INDEX_op_discard) {
            if ((int64_t)op->args[0] >= 0)
                set_range(lp, (int)op->args[0], unknown());
        } else if (def->nb_oargs) {
            Range v = def->nb_oargs == 1 ? value_range(lp, op) : unknown();
            for (int i = 0; i < def->nb_oargs; i++)
                set_range(lp, (int)op->args[i], unknown());
            set_range(lp, (int)op->args[0], v);
        }
    }
}

/* The pairs (site, base) an op ends: a write of the base, or a helper that
 * may change the TLB. */
static uint64_t kills(const LoopProbe *lp, const TCGOp *op)
{
    if (op->opc == INDEX_op_call && !(op->call->flags & TCG_CALL_PURE))
        return ~0ull;
    uint64_t k = 0;
    for (int i = 0; i < nb_outputs(op); i++)
        if (is_global(lp->s, op->args[i]))
            for (int b = 0; b < lp->nbases; b++)
                if (lp->base[b] == (int)op->args[i])
                    k |= base_mask(b);
    return k;
}

/* One pass of the data-flow; true when a back edge's state changed. */
static bool flow_pass(LoopProbe *lp, uint64_t all)
{
    TCGContext *s = lp->s;
    bool changed = false;
    for (int l = 0; l < s->nb_labels; l++)
        lp->fwd_in[l] = all;
    uint64_t st = site_mask(0) & all;   /* the entry's probes run first */
    bool reach = true;
    int a = 0;
    for (int n = 0; n <= lp->site[0].end; n++) {
        const TCGOp *op = &s->ops[n];
        switch (op->opc) {
        case INDEX_op_set_label: {
            int l = (int)op->args[0], i = lp->site_of_label[l];
            st = (reach ? st : all) & lp->fwd_in[l];
            if (i > 0)
                st = (st | site_mask(i)) & lp->back_in[l];
            reach = true;
            break;
        }
        case INDEX_op_br:
            lp->fwd_in[(int)op->args[0]] &= st;
            reach = false;
            break;
        case INDEX_op_brcond:
            lp->fwd_in[(int)op->args[3]] &= st;
            break;
        case INDEX_op_goto_loop: {
            int l = (int)(int64_t)op->args[0];
            uint64_t b = lp->back_in[l] & st;
            if (b != lp->back_in[l]) {
                lp->back_in[l] = b;
                changed = true;
            }
            break;
        }
        case INDEX_op_goto_tb: case INDEX_op_exit_tb: case INDEX_op_lookup_and_goto:
            reach = false;
            break;
        default:
            if (a < lp->nacc && lp->acc[a].op == n)
                lp->valid[a++] = reach ? st : 0;
            st &= ~kills(lp, op);
            break;
        }
    }
    return changed;
}

static bool flow(LoopProbe *lp)
{
    uint64_t all = lp->nsites * BASES_MAX >= 64 ? ~0ull : (1ull << (lp->nsites * BASES_MAX)) - 1;
    for (int l = 0; l < lp->s->nb_labels; l++)
        lp->back_in[l] = all;
    for (int pass = 0; pass < 16; pass++)
        if (!flow_pass(lp, all))
            return true;
    return false;
}

/* The window of an access at addr (range r) from site, widened to take it,
 * or NULL. */
static Window *window_for(LoopProbe *lp, int site, Range r, unsigned size, int mmu, bool write)
{
    int in_site = 0;
    for (int i = 0; i < lp->nw; i++) {
        Window *w = &lp->w[i];
        if (w->site != site)
            continue;
        in_site++;
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
    if (lp->nw == LOOP_PROBES_MAX || in_site == SITE_PROBES_MAX || r.hi + size - r.lo > LOOP_WINDOW_MAX ||
        lp->s->nb_temps >= TCG_MAX_TEMPS - 1)
        return NULL;
    Window *w = &lp->w[lp->nw++];
    TCGContext *saved = tcg_ctx;
    tcg_ctx = lp->s;
    *w = (Window){ .site = site, .base = r.base, .mmu = mmu, .lo = r.lo, .hi = r.hi + size, .writes = write,
                   .addend = tcg_temp_local_new() };
    tcg_ctx = saved;
    return w;
}

/* A fixed offset from the base (lo == hi) is the address itself: the
 * reuse takes the base and the offset as its displacement, and the add that
 * made the address may die. The base holds the probe's value there (else the
 * probe would not be valid), as it did when the address was computed. */
static void to_reuse(TCGOp *op, int addend, Range r)
{
    bool store = op->opc == INDEX_op_qemu_st;
    TCGArg data = op->args[0], addr = op->args[1], memop = op->args[2], mmu = op->args[3];
    bool fold = r.lo == r.hi;
    op->opc = store ? INDEX_op_qemu_st_reuse : INDEX_op_qemu_ld_reuse;
    op->args[0] = data;
    op->args[1] = fold ? (TCGArg)r.base : addr;
    op->args[2] = (TCGArg)addend;
    op->args[3] = memop;
    op->args[4] = mmu;
    op->args[5] = fold ? (TCGArg)r.lo : 0;
}

/* An access inside a loop goes to the first site (the entry, then heads in
 * op order) whose loop holds it and whose probe of its base is valid there.
 * Returns the addend of the window it joined, or -1. */
static int assign(LoopProbe *lp, int a)
{
    const TCGOp *op = &lp->s->ops[lp->acc[a].op];
    unsigned memop = (unsigned)op->args[2];
    bool write = op->opc == INDEX_op_qemu_st || (memop & MO_RMW);
    int b = base_index(lp, lp->acc[a].r.base, false), n = lp->acc[a].op;
    bool in_loop = false;   /* else the probe would cost what the access does */
    for (int i = 1; i < lp->nsites && !in_loop; i++)
        in_loop = n > lp->site[i].at && n <= lp->site[i].end;
    for (int i = 0; i < lp->nsites && in_loop; i++) {
        const Site *st = &lp->site[i];
        if (n <= st->at || n > st->end || !(lp->valid[a] & pair_bit(i, b)))
            continue;
        Window *w = window_for(lp, i, lp->acc[a].r, 1u << (memop & MO_SIZE), (int)op->args[3], write);
        if (w)
            return w->addend;
    }
    return -1;
}

static TCGOp probe_op(const Window *w)
{
    unsigned perms = TCG_WINDOW_READ | (w->writes ? TCG_WINDOW_WRITE : 0);
    TCGOp op = { .opc = INDEX_op_qemu_probe };
    op.args[0] = (TCGArg)w->addend;
    op.args[1] = (TCGArg)w->base;
    op.args[2] = (TCGArg)w->mmu;
    op.args[3] = tcg_window_pack((int32_t)w->lo, (unsigned)(w->hi - w->lo), perms);
    return op;
}

/* Ops inserted before op n: a pre-header's label, then its probes. */
static int inserted_before(const LoopProbe *lp, int n, TCGOp *out)
{
    int k = 0;
    for (int i = 0; i < lp->nsites; i++) {
        if (lp->site[i].at != n)
            continue;
        if (lp->site[i].pre_label >= 0 && out)
            out[k] = (TCGOp){ .opc = INDEX_op_set_label, .args = { (TCGArg)lp->site[i].pre_label } };
        k += lp->site[i].pre_label >= 0;
        for (int j = 0; j < lp->nw; j++)
            if (lp->w[j].site == i) {
                if (out)
                    out[k] = probe_op(&lp->w[j]);
                k++;
            }
    }
    return k;
}

static bool site_has_probes(const LoopProbe *lp, int i)
{
    for (int j = 0; j < lp->nw; j++)
        if (lp->w[j].site == i)
            return true;
    return false;
}

static bool branches_to(const TCGOp *op, int label)
{
    return (op->opc == INDEX_op_br && (int)op->args[0] == label) ||
           (op->opc == INDEX_op_brcond && (int)op->args[3] == label);
}

/* Forward branches to a head with probes go to a new label before them.
 * Returns the labels made, or -1 when they do not fit (nothing changed). */
static int make_pre_labels(LoopProbe *lp)
{
    TCGContext *s = lp->s;
    bool need[SITES_MAX] = { false };
    int n_need = 0;
    for (int i = 1; i < lp->nsites; i++) {
        if (!site_has_probes(lp, i))
            continue;
        for (int n = 0; n < lp->site[i].at && !need[i]; n++)
            need[i] = branches_to(&s->ops[n], lp->site[i].label);
        n_need += need[i];
    }
    if (s->nb_labels + n_need > TCG_MAX_LABELS - 1)
        return -1;
    for (int i = 1; i < lp->nsites; i++) {
        if (!need[i])
            continue;
        lp->site[i].pre_label = s->nb_labels++;
        for (int n = 0; n < lp->site[i].at; n++) {
            TCGOp *op = &s->ops[n];
            if (!branches_to(op, lp->site[i].label))
                continue;
            op->args[op->opc == INDEX_op_br ? 0 : 3] = (TCGArg)lp->site[i].pre_label;
        }
    }
    return n_need;
}

/* Moves the ops apart (from the end, in place) and writes the inserted ones. */
static void insert_ops(LoopProbe *lp, int total)
{
    TCGContext *s = lp->s;
    int to = s->nb_ops + total;
    for (int n = s->nb_ops - 1; n >= 0; n--) {
        s->ops[--to] = s->ops[n];
        TCGOp ins[LOOP_PROBES_MAX + SITES_MAX];
        int k = inserted_before(lp, n, ins);
        while (k)
            s->ops[--to] = ins[--k];
    }
    s->nb_ops += total;
}

void tcg_loop_probe(TCGContext *s)
{
    static __thread LoopProbe lp;
    lp.s = s;
    lp.nw = 0;
    if (!find_sites(&lp))
        return;
    find_accesses(&lp);
    if (!lp.nacc || !flow(&lp))
        return;
    int hoisted[TCG_MAX_OPS / 16], addend[TCG_MAX_OPS / 16], nh = 0;
    for (int a = 0; a < lp.nacc; a++) {
        int t = assign(&lp, a);
        if (t >= 0) {
            hoisted[nh] = a;
            addend[nh++] = t;
        }
    }
    if (!nh)
        return;
    /* the count first: labels are made only when the ops fit */
    int n_labels = 0;
    for (int i = 1; i < lp.nsites; i++)
        n_labels += site_has_probes(&lp, i);
    if (s->nb_ops + lp.nw + n_labels > TCG_MAX_OPS)
        return;
    n_labels = make_pre_labels(&lp);
    if (n_labels < 0)
        return;
    int total = lp.nw + n_labels;
    for (int i = 0; i < nh; i++)
        to_reuse(&s->ops[lp.acc[hoisted[i]].op], addend[i], lp.acc[hoisted[i]].r);
    insert_ops(&lp, total);
    s->stat_loop_probes++;
    for (int i = 1; i < lp.nsites; i++)
        s->stat_preheader_probes += site_has_probes(&lp, i);
}
