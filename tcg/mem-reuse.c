/* TLB-probe sharing: guest memory accesses of one basic block whose
 * addresses are the same base value plus small constant displacements
 * ([rax], [rax+0x10], [rax+0x28] ...) share one TLB probe.
 *
 * The first access of such a group becomes qemu_ld/st_probe: besides its
 * own access it checks, once, that the whole window of the group (the lowest
 * to the highest byte any member touches) lies in one page whose TLB entry
 * allows every kind of access the group makes, and outputs the host addend
 * of that page (or an odd value when it could not). The later members become
 * qemu_ld/st_reuse: with an even addend they access host memory directly,
 * otherwise they do a full access of their own.
 *
 * Why this keeps the guest's view exact:
 *  - A verified window cannot fault, is plain RAM (no MMIO flag), and for
 *    writes carries no TLB_CODE flag (so a store to a page holding
 *    translated code still takes the slow path) and had its dirty bit set
 *    when the entry was filled; checking both the read and the write tag
 *    when a group mixes them means a read-then-write to a read-only page
 *    falls back and faults, precisely, at the write.
 *  - Nothing in a group's span can flush the TLB: groups end at helper
 *    calls (but pure ones), labels, br and exits. A group goes on past a
 *    brcond on its fall-through, which runs after the probe (the taken way
 *    leaves the group): its addend is then a local temp, and the values
 *    normal temps held before the brcond are forgotten (they die there).
 *    Entries evicted meanwhile by other
 *    accesses' fills are still correct translations (the hardware TLB may
 *    keep them as well); page-table writes need an INVLPG (a call) anyway.
 *  - With a failed probe every member does the full access it did before.
 *
 * Address values are tracked as (root value, constant offset, 32-bit wrap).
 * A W32 form means (root + offset) mod 2^32: a verified window contains the
 * first member's address and lies within one page, so it cannot straddle 0
 * or 2^32 and the 32-bit wrap never separates two members. */
#include <string.h>
#include "tcg/tcg.h"

/* Bytes one probe may cover: a larger window crosses a page more often. */
#define REUSE_WINDOW_MAX 512
/* Groups open at once (each holds a host register for its addend). */
#define REUSE_OPEN_MAX 4
#define REUSE_MEMBERS_MAX 32
/* Local addends given a discard (else a loop block stores them at labels). */
#define REUSE_DISCARDS_MAX 64

typedef struct AddrForm {
    uint32_t root;          /* value id; 0 = not known yet */
    bool w32;
    int64_t off;
} AddrForm;

typedef struct Group {
    uint32_t root;
    bool w32;
    int mmu;
    int64_t base_off;       /* the first member's offset from the root */
    int32_t lo, hi;         /* window [lo, hi) relative to the first member's address */
    bool reads, writes;
    bool crossed;           /* a brcond since the first member */
    bool local;             /* a member after it: the addend must outlive the branch */
    int nb;
    int ops[REUSE_MEMBERS_MAX];
    /* each member's address as a temp plus a displacement */
    int base[REUSE_MEMBERS_MAX];
    int32_t disp[REUSE_MEMBERS_MAX];
} Group;

/* A local addend, dead after its group's last member (op index `after`). */
typedef struct Discard {
    int after, temp;
} Discard;

/* What the pass knows of a temp's value; stale unless gen is the current one
 * (and, for a normal temp, gen_n: a brcond ends what normal temps hold). */
typedef struct ValueInfo {
    uint32_t gen, gen_n;
    bool is_const;
    AddrForm form;
    uint64_t cst;
    /* made by a 64-bit add of a constant: base temp (-1: none) + disp,
     * and the base's form then (the base may change afterwards) */
    int fold_base;
    int32_t fold_disp;
    AddrForm fold_form;
} ValueInfo;

typedef struct ReuseState {
    TCGContext *s;
    ValueInfo v[TCG_MAX_TEMPS];
    uint32_t gen, gen_n;
    uint32_t next_root;
    Group open[REUSE_OPEN_MAX];
    int nb_open;
    Discard discard[REUSE_DISCARDS_MAX];
    int nb_discards;
} ReuseState;

static bool is_guest_access(TCGOpcode opc)
{
    return opc == INDEX_op_qemu_ld || opc == INDEX_op_qemu_st;
}

/* Pure helpers (flag computations) touch no CPU state: a group spans them.
 * A brcond's fall-through goes on with the same values: a group spans it
 * too (its addend then a local: normal temps die at branches). */
static bool ends_group_span(const TCGOp *op)
{
    switch (op->opc) {
    case INDEX_op_call:
        return !(op->call->flags & TCG_CALL_PURE);
    case INDEX_op_set_label: case INDEX_op_br:
    case INDEX_op_goto_tb: case INDEX_op_exit_tb: case INDEX_op_lookup_and_goto:
    case INDEX_op_goto_loop:
        return true;
    default:
        return false;
    }
}

static AddrForm fresh_form(ReuseState *rs)
{
    return (AddrForm){ .root = ++rs->next_root, .w32 = false, .off = 0 };
}

static bool stale(const ReuseState *rs, int t)
{
    const ValueInfo *v = &rs->v[t];
    return v->gen != rs->gen || (v->gen_n != rs->gen_n && rs->s->temps[t].kind == TEMP_NORMAL);
}

static ValueInfo *info(ReuseState *rs, int t)
{
    ValueInfo *v = &rs->v[t];
    if (stale(rs, t))
        *v = (ValueInfo){ .gen = rs->gen, .gen_n = rs->gen_n, .form = fresh_form(rs), .fold_base = -1 };
    return v;
}

static AddrForm form_of(ReuseState *rs, int t) { return info(rs, t)->form; }
static bool is_const(ReuseState *rs, int t) { return info(rs, t)->is_const; }
static uint64_t const_of(ReuseState *rs, int t) { return rs->v[t].cst; }

static void set_value(ReuseState *rs, int t, AddrForm f, bool c, uint64_t cst)
{
    rs->v[t] = (ValueInfo){ .gen = rs->gen, .gen_n = rs->gen_n, .is_const = c, .form = f, .cst = cst, .fold_base = -1 };
}

/* Forget every value: after a call (globals may change) or a label (values
 * may arrive from elsewhere). */
static void forget_values(ReuseState *rs)
{
    if (++rs->gen == 0) {
        memset(rs->v, 0, sizeof(rs->v));
        rs->gen = 1;
    }
}

/* At a brcond: normal temps are dead after it, globals and locals go on. */
static void forget_normal_temps(ReuseState *rs)
{
    if (++rs->gen_n == 0) {
        forget_values(rs);
        rs->gen_n = 1;
    }
}

/* The form of a + c, with a 32-bit result when w32. */
static AddrForm form_plus(ReuseState *rs, AddrForm a, uint64_t c, bool w32)
{
    if (a.w32 && !w32)
        return fresh_form(rs);   /* (x mod 2^32) + c: not a root plus offset */
    a.off = (int64_t)((uint64_t)a.off + c);
    if (w32) {
        a.w32 = true;
        a.off = (int32_t)a.off;
    }
    return a;
}

/* Track the value an op writes to its first output. */
static void track_def(ReuseState *rs, const TCGOp *op)
{
    const TCGOpDef *def = &tcg_op_defs[op->opc];
    switch (op->opc) {
    case INDEX_op_movi: case INDEX_op_mov: case INDEX_op_ext32u: case INDEX_op_add: case INDEX_op_sub:
        break;
    default:
        /* an unknown value: made a fresh root when (if ever) it is read */
        for (int i = 0; i < def->nb_oargs; i++)
            rs->v[(int)op->args[i]].gen = 0;
        return;
    }
    int d = (int)op->args[0];
    bool w32 = op->flags & TCG_W32;
    AddrForm f;
    bool dconst = false;
    uint64_t dval = 0;
    int a = def->nb_iargs >= 1 ? (int)op->args[def->nb_oargs] : -1;
    int b = def->nb_iargs >= 2 ? (int)op->args[def->nb_oargs + 1] : -1;
    switch (op->opc) {
    case INDEX_op_movi:
        f = fresh_form(rs);
        dconst = true;
        dval = op->args[1];
        break;
    case INDEX_op_mov:
        f = w32 ? form_plus(rs, form_of(rs, a), 0, true) : form_of(rs, a);
        dconst = is_const(rs, a);
        dval = w32 ? (uint32_t)const_of(rs, a) : const_of(rs, a);
        break;
    case INDEX_op_ext32u:
        f = form_plus(rs, form_of(rs, a), 0, true);
        break;
    case INDEX_op_add:
        if (is_const(rs, b))
            f = form_plus(rs, form_of(rs, a), const_of(rs, b), w32);
        else if (is_const(rs, a))
            f = form_plus(rs, form_of(rs, b), const_of(rs, a), w32);
        else
            f = fresh_form(rs);
        break;
    case INDEX_op_sub:
        f = is_const(rs, b) ? form_plus(rs, form_of(rs, a), -const_of(rs, b), w32) : fresh_form(rs);
        break;
    default:
        f = fresh_form(rs);
        break;
    }
    /* before d is written: d may be the constant's own temp */
    int base = -1;
    int64_t c = 0;
    AddrForm base_form = { 0 };
    if (op->opc == INDEX_op_add && !w32) {
        base = is_const(rs, b) ? a : is_const(rs, a) ? b : -1;
        c = base < 0 ? 0 : (int64_t)const_of(rs, base == a ? b : a);
        if (base > 0)
            base_form = form_of(rs, base);
    }
    set_value(rs, d, f, dconst, dval);
    if (base > 0 && base != d && c == (int32_t)c) {
        rs->v[d].fold_base = base;
        rs->v[d].fold_disp = (int32_t)c;
        rs->v[d].fold_form = base_form;
    }
}

static bool same_form(AddrForm x, AddrForm y)
{
    return x.root == y.root && x.off == y.off && x.w32 == y.w32;
}

/* The access address as base + disp: the add that made it folded into the
 * access when its base still holds the same value (a 64-bit sum only: a
 * 32-bit one wraps, host addressing does not). */
static void address_parts(ReuseState *rs, int addr, int *base, int32_t *disp)
{
    ValueInfo *v = info(rs, addr);
    *base = addr;
    *disp = 0;
    if (v->fold_base > 0 && same_form(form_of(rs, v->fold_base), v->fold_form)) {
        *base = v->fold_base;
        *disp = v->fold_disp;
    }
}

/* Turn a group of two or more members into one probe and its reusers. */
static void rewrite_group(ReuseState *rs, const Group *g)
{
    TCGContext *s = rs->s;
    if (g->nb < 2 || s->nb_temps >= TCG_MAX_TEMPS)
        return;
    TCGContext *saved = tcg_ctx;
    tcg_ctx = s;
    TCGv addend = g->local ? tcg_temp_local_new() : tcg_temp_new();
    tcg_ctx = saved;
    if (g->local && rs->nb_discards < REUSE_DISCARDS_MAX)
        rs->discard[rs->nb_discards++] = (Discard){ g->ops[g->nb - 1], addend };
    unsigned perms = (g->reads ? TCG_WINDOW_READ : 0) | (g->writes ? TCG_WINDOW_WRITE : 0);
    for (int i = 0; i < g->nb; i++) {
        TCGOp *op = &s->ops[g->ops[i]];
        bool store = op->opc == INDEX_op_qemu_st;
        TCGArg data = op->args[0], addr = op->args[1], memop = op->args[2], mmu = op->args[3];
        if (i == 0) {
            uint64_t window = tcg_window_pack(g->lo, (unsigned)(g->hi - g->lo), perms);
            if (store) {
                op->opc = INDEX_op_qemu_st_probe;
                op->args[0] = (TCGArg)addend;
                op->args[1] = data;
                op->args[2] = addr;
            } else {
                op->opc = INDEX_op_qemu_ld_probe;
                op->args[0] = data;
                op->args[1] = (TCGArg)addend;
                op->args[2] = addr;
            }
            op->args[3] = memop;
            op->args[4] = mmu;
            op->args[5] = window;
        } else {
            op->opc = store ? INDEX_op_qemu_st_reuse : INDEX_op_qemu_ld_reuse;
            op->args[0] = data;
            op->args[1] = (TCGArg)g->base[i];
            op->args[2] = (TCGArg)addend;
            op->args[3] = memop;
            op->args[4] = mmu;
            op->args[5] = (TCGArg)(int64_t)g->disp[i];
        }
    }
}

static void close_group(ReuseState *rs, int i)
{
    rewrite_group(rs, &rs->open[i]);
    rs->open[i] = rs->open[--rs->nb_open];
}

static void close_all(ReuseState *rs)
{
    while (rs->nb_open)
        close_group(rs, 0);
}

/* The window of g with [rel, rel + size) added (rel: from the first
 * member's address), or false when it would grow too big. */
static bool window_fits(const Group *g, int64_t off, unsigned size, int32_t *lo, int32_t *hi)
{
    int64_t rel = (int64_t)((uint64_t)off - (uint64_t)g->base_off);   /* offsets wrap */
    if (rel < -REUSE_WINDOW_MAX || rel > REUSE_WINDOW_MAX)
        return false;
    *lo = rel < g->lo ? (int32_t)rel : g->lo;
    int64_t end = rel + (int64_t)size;
    *hi = end > g->hi ? (int32_t)end : g->hi;
    return *hi - *lo <= REUSE_WINDOW_MAX;
}

static void add_access(ReuseState *rs, int n)
{
    const TCGOp *op = &rs->s->ops[n];
    unsigned memop = (unsigned)op->args[2];
    int mmu = (int)op->args[3];
    unsigned size = 1u << (memop & MO_SIZE);
    bool write = op->opc == INDEX_op_qemu_st || (memop & MO_RMW);
    AddrForm f = form_of(rs, (int)op->args[1]);
    for (int i = 0; i < rs->nb_open; i++) {
        Group *g = &rs->open[i];
        if (g->root != f.root || g->w32 != f.w32 || g->mmu != mmu)
            continue;
        int32_t lo, hi;
        if (g->nb < REUSE_MEMBERS_MAX && window_fits(g, f.off, size, &lo, &hi)) {
            g->lo = lo;
            g->hi = hi;
            g->reads |= !write;
            g->writes |= write;
            g->local |= g->crossed;
            address_parts(rs, (int)op->args[1], &g->base[g->nb], &g->disp[g->nb]);
            g->ops[g->nb++] = n;
            return;
        }
        close_group(rs, i);
        break;
    }
    if (rs->nb_open == REUSE_OPEN_MAX)
        close_group(rs, 0);
    Group *g = &rs->open[rs->nb_open++];
    *g = (Group){ .root = f.root, .w32 = f.w32, .mmu = mmu, .base_off = f.off, .lo = 0,
                  .hi = (int32_t)size, .reads = !write, .writes = write, .nb = 1 };
    g->ops[0] = n;
    g->base[0] = (int)op->args[1];
    g->disp[0] = 0;
}

/* A discard after each local addend's last member: it is dead there, and a
 * local the backend thinks live is stored at every label and branch. */
static void insert_discards(ReuseState *rs)
{
    TCGContext *s = rs->s;
    int k = rs->nb_discards;
    if (!k || s->nb_ops + k > TCG_MAX_OPS)
        return;
    for (int i = 1; i < k; i++)   /* by op index (groups close out of order) */
        for (int j = i; j > 0 && rs->discard[j - 1].after > rs->discard[j].after; j--) {
            Discard t = rs->discard[j];
            rs->discard[j] = rs->discard[j - 1];
            rs->discard[j - 1] = t;
        }
    int to = s->nb_ops + k;
    for (int n = s->nb_ops - 1; n >= 0; n--) {
        while (k && rs->discard[k - 1].after == n) {
            k--;
            s->ops[--to] = (TCGOp){ .opc = INDEX_op_discard, .args = { (TCGArg)rs->discard[k].temp } };
        }
        s->ops[--to] = s->ops[n];
    }
    s->nb_ops += rs->nb_discards;
}

void tcg_mem_reuse(TCGContext *s)
{
    static __thread ReuseState rs;
    int accesses = 0;
    for (int n = 0; n < s->nb_ops && accesses < 2; n++)
        accesses += is_guest_access(s->ops[n].opc);
    if (accesses < 2)
        return;
    rs.s = s;
    rs.nb_open = 0;
    rs.nb_discards = 0;
    rs.next_root = 0;
    forget_values(&rs);
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        TCGOpcode opc = op->opc;
        if (ends_group_span(op)) {
            close_all(&rs);
            forget_values(&rs);
        } else if (opc == INDEX_op_brcond) {
            for (int i = 0; i < rs.nb_open; i++)
                rs.open[i].crossed = true;
            forget_normal_temps(&rs);
        }
        if (is_guest_access(opc))
            add_access(&rs, n);
        if (opc == INDEX_op_call) {
            int ret = (int)(int64_t)op->args[0];
            if (op->call->has_ret && ret >= 0)
                rs.v[ret].gen = 0;
        } else if (opc == INDEX_op_discard) {
            if ((int64_t)op->args[0] >= 0)
                rs.v[(int)op->args[0]].gen = 0;   /* undefined from here: never a base */
        } else {
            track_def(&rs, op);
        }
    }
    close_all(&rs);
    insert_discards(&rs);
}
