/* x86 -> IR translator: translation regions.
 *
 * A block normally ends at its first branch. When the code from the block's
 * start holds a loop within its page (a branch back to an instruction
 * before it), the block becomes a region instead: the instructions its
 * branches reach, planned by decoding ahead (region_plan), translated in
 * address order as one unit. Branches between them become IR branches to
 * labels; branches back become goto_loop (the exit check a block entry
 * makes, then straight back); everything else leaves as before. Loops whose
 * body spans several basic blocks then run without leaving translated code,
 * with guest registers in host registers around their back edges.
 *
 * Translation state at a label: each forward edge stores cc_op
 * (gen_update_cc_op), so env->cc_op is right on every path; the code after
 * a label assumes the static cc_op all its forward edges agree on, or a
 * dynamic one. A loop head (a planned back edge lands there) is dynamic on
 * a first pass, so every back edge may go there; when all its edges, back
 * edges too, brought one static cc_op, the block is translated again with
 * that cc_op static at the head (hints): its back edges then store nothing,
 * and the head's code stores cc_op on its ways out (cc_op_dirty). An edge
 * that disagrees on the second pass breaks the hints, and a third pass
 * translates as the first. Per-instruction shortcuts (last CMP operands,
 * prefetched flags) never cross a label. */
#include "cpu/x86/translate.h"

static uint64_t linear_of(DisasContext *s, uint64_t pc)
{
    uint64_t lin = s->cs_base + pc;
    return s->code64 ? lin : (uint32_t)lin;
}

static bool same_page(uint64_t a, uint64_t b)
{
    return (a >> 12) == (b >> 12);
}

/* ---- planning ---------------------------------------------------------------- */
/* How a decoded instruction goes on: to the next one, there or to a direct
 * target, to a direct target only, or elsewhere (leaving the region). */
enum { FLOW_NEXT, FLOW_COND, FLOW_JMP, FLOW_END };

static int insn_flow(const X86Decoded *d)
{
    switch (d->mnemonic) {
    case I_JCC: case I_LOOP: case I_LOOPZ: case I_LOOPNZ: case I_JCXZ:
        return FLOW_COND;
    case I_JMP:
        return d->e->op[0] == O_Jb || d->e->op[0] == O_Jz ? FLOW_JMP : FLOW_END;
    case I_CALL: case I_CALLF: case I_JMPF: case I_RET: case I_RETF: case I_IRET:
    case I_INT: case I_INT3: case I_INT1: case I_HLT: case I_UD: case I_UD0: case I_INVALID:
    case I_SYSCALL: case I_SYSRET: case I_SYSENTER: case I_SYSEXIT: case I_RSM:
        return FLOW_END;
    default:
        return FLOW_NEXT;
    }
}

/* A relative branch's target, as the translator computes it (trans_jcc). */
static uint64_t target_of(DisasContext *s, const X86Decoded *d, uint64_t next)
{
    uint64_t t = next + d->imm;
    if (!s->code64 && d->opsize == 2)
        t &= 0xffff;
    return mask_ip(s, t);
}

/* Index of pc among the first n planned instructions, or -1. */
static int planned_index(const Region *r, int n, uint64_t pc)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (r->pc[mid] == pc)
            return mid;
        if (r->pc[mid] < pc)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static RegionLabel *label_at(Region *r, uint64_t pc)
{
    for (int i = 0; i < r->nb_lab; i++)
        if (r->lab[i].pc == pc)
            return &r->lab[i];
    return NULL;
}

static uint32_t hint_for(const DisasContext *s, uint64_t pc)
{
    const CcHints *h = s->hints_in;
    for (int i = 0; h && i < h->n; i++)
        if (h->pc[i] == pc)
            return h->cc_op[i];
    return CC_OP_DYNAMIC;
}

static RegionLabel *label_get(DisasContext *s, uint64_t pc)
{
    Region *r = &s->region;
    RegionLabel *l = label_at(r, pc);
    if (l || r->nb_lab >= REGION_MAX_LABELS)
        return l;
    l = &r->lab[r->nb_lab++];
    *l = (RegionLabel){ .pc = pc, .label = gen_new_label(), .cc_op = CC_OP_DYNAMIC,
                        .hint = hint_for(s, pc), .back_cc = CC_OP_DYNAMIC, .fwd_cc = CC_OP_DYNAMIC,
                        .first_cc = CC_OP_DYNAMIC };
    return l;
}

void region_start(DisasContext *s)
{
    Region *r = &s->region;
    r->loops = true;
    RegionLabel *l = label_get(s, s->tb->pc);
    l->loop_head = true;
}

/* The nearest pending target after pc, or -1. */
static uint64_t next_target(const uint64_t *pending, int np, uint64_t pc)
{
    uint64_t best = (uint64_t)-1;
    for (int i = 0; i < np; i++)
        if (pending[i] > pc && pending[i] < best)
            best = pending[i];
    return best;
}

/* Decode ahead from the block's start, in address order: what falls
 * through, and after an unconditional jump the nearest target a branch
 * already seen jumps to (skipping what nothing reaches). Ends at the page,
 * at a way out with no target ahead, or at the size cap; then drops what
 * follows the last branch back (no cycle goes through it). */
bool region_plan(DisasContext *s, X86FetchFn fetch, void *opaque)
{
    Region *r = &s->region;
    uint64_t start = s->tb->pc, pc = start, start_lin = linear_of(s, start);
    uint64_t target[REGION_MAX_INSNS], pending[REGION_MAX_INSNS];
    int n = 0, np = 0, last_back = -1, first_branch = -1;
    X86Decoded d;
    while (n < REGION_MAX_INSNS) {
        uint64_t lin = linear_of(s, pc);
        if (!same_page(lin, start_lin) ||
            x86_decode(&d, pc, s->code64, s->code32, fetch, opaque) != DECODE_OK ||
            !same_page(lin + d.len - 1, start_lin))
            break;
        uint64_t next = mask_ip(s, pc + d.len);
        int flow = insn_flow(&d);
        if (flow != FLOW_NEXT && first_branch < 0)
            first_branch = n;   /* a way out, or a branch */
        r->pc[n] = pc;
        target[n] = (uint64_t)-1;
        if (flow == FLOW_COND || flow == FLOW_JMP) {
            uint64_t t = target_of(s, &d, next);
            if (t >= start && same_page(linear_of(s, t), start_lin)) {
                target[n] = t;
                if (t <= pc && planned_index(r, n + 1, t) >= 0)
                    last_back = n;
                else if (t > pc)
                    pending[np++] = t;
            }
        }
        n++;
        if ((flow == FLOW_NEXT || flow == FLOW_COND) && next > pc) {
            pc = next;
            continue;
        }
        pc = next_target(pending, np, pc);
        if (pc == (uint64_t)-1)
            break;
    }
    if (last_back < 0)
        return false;
    /* only one branch, back to the start: a plain self-loop, translated as
     * a block (its loop-invariant accesses get tcg/loop-probe.c's probes) */
    if (last_back == first_branch && target[last_back] == start)
        return false;
    r->n = last_back + 1;
    for (int i = 0; i < r->n; i++) {
        if (target[i] > r->pc[i])
            continue;   /* forward, or none: a label when an edge comes */
        RegionLabel *l = label_get(s, target[i]);
        if (l)
            l->loop_head = true;
    }
    r->on = true;
    return true;
}

/* ---- labels and edges ---------------------------------------------------------- */
/* A forward edge to l from here: env->cc_op made right, and l's cc_op the
 * static one all its forward edges agree on. */
static void label_edge(DisasContext *s, RegionLabel *l)
{
    gen_update_cc_op(s);
    if (l->hint != CC_OP_DYNAMIC && s->cc_op != l->hint)
        s->hints_broken = true;
    if (!l->seen)
        l->cc_op = l->first_cc = s->cc_op;
    else if (l->cc_op != s->cc_op)
        l->cc_op = CC_OP_DYNAMIC;
    l->seen = true;
}

/* The cc_op the code after l assumes, once its forward edges are known. */
static uint32_t label_cc_op(RegionLabel *l)
{
    if (!l->seen)
        return CC_OP_DYNAMIC;
    if (!l->loop_head)
        return l->cc_op;
    l->fwd_cc = l->cc_op;
    return l->hint != CC_OP_DYNAMIC && l->cc_op == l->hint ? l->hint : CC_OP_DYNAMIC;
}

/* Code after a label: none of the shortcuts of straight-line code. */
static void enter_label_state(DisasContext *s, uint32_t cc_op)
{
    s->cc_op = cc_op;
    s->cc_op_dirty = false;
    s->label_guess = CC_OP_DYNAMIC;
    s->last_cmp.insn = -100;
    s->cc_pre.insn = -100;
    s->cc_pre.guard_first = -1;
    s->ret_pop = 0;
}

bool region_enter_insn(DisasContext *s, uint64_t pc)
{
    Region *r = &s->region;
    RegionLabel *l = label_at(r, pc);
    if (r->flow_ended && !l)
        return false;
    if (l && !l->bound) {
        if (!r->flow_ended)
            label_edge(s, l);   /* falls into it */
        tcg_gen_set_label(l->label);
        l->bound = l->code = true;
        l->cc_op = label_cc_op(l);
        enter_label_state(s, l->cc_op);
        /* a loop head at the start: env's cc_op now (the back edge's) is the guess */
        if (l->pc != s->tb->pc)
            s->label_guess = l->first_cc;
        if (l->loop_head && l->cc_op != CC_OP_DYNAMIC)
            s->cc_op_dirty = true;   /* back edges leave env->cc_op as it was */
    }
    r->flow_ended = false;
    return true;
}

int region_forward_label(DisasContext *s, uint64_t target)
{
    Region *r = &s->region;
    if (!r->on || planned_index(r, r->n, target) < r->next)
        return -1;
    RegionLabel *l = label_get(s, target);
    if (!l || l->bound)
        return -1;
    label_edge(s, l);
    return l->label;
}

int region_back_edge(DisasContext *s, uint64_t target)
{
    RegionLabel *l = label_at(&s->region, target);
    if (!l || !l->code || (l->cc_op != CC_OP_DYNAMIC && l->cc_op != s->cc_op))
        return -1;
    return l->label;
}

bool region_take_back_edge(DisasContext *s, uint64_t target)
{
    RegionLabel *l = label_at(&s->region, target);
    if (!l->back_seen)
        l->back_cc = s->cc_op;
    else if (l->back_cc != s->cc_op)
        l->back_cc = CC_OP_DYNAMIC;
    l->back_seen = true;
    return l->cc_op != CC_OP_DYNAMIC;
}

void region_note_exit(DisasContext *s, uint64_t target)
{
    RegionLabel *l = label_at(&s->region, target);
    if (l && l->code && l->hint != CC_OP_DYNAMIC)
        s->hints_broken = true;   /* a back edge the first pass took leaves */
}

void region_collect_hints(DisasContext *s)
{
    Region *r = &s->region;
    CcHints *h = s->hints_out;
    h->n = 0;
    for (int i = 0; i < r->nb_lab; i++) {
        const RegionLabel *l = &r->lab[i];
        if (l->loop_head && l->code && l->back_seen && l->fwd_cc != CC_OP_DYNAMIC &&
            l->back_cc == l->fwd_cc) {
            h->pc[h->n] = l->pc;
            h->cc_op[h->n++] = l->fwd_cc;
        }
    }
}

bool gen_region_jcc(DisasContext *s, unsigned cond, uint64_t target)
{
    Region *r = &s->region;
    if (!r->on || r->next >= r->n || r->pc[r->next] != s->next_pc)
        return false;
    target = mask_ip(s, target);
    int label = region_forward_label(s, target);
    if (label < 0) {
        if (r->nb_stub >= REGION_MAX_STUBS)
            return false;
        RegionStub *st = &r->stub[r->nb_stub++];
        *st = (RegionStub){ .label = gen_new_label(), .target = target, .cc_op = s->cc_op,
                            .cc_op_dirty = s->cc_op_dirty };
        label = st->label;
    }
    gen_jcc(s, cond, label);
    return true;
}

void region_finish(DisasContext *s)
{
    Region *r = &s->region;
    r->on = false;   /* nothing ahead any more: jumps go back or leave */
    for (int i = 0; i < r->nb_stub; i++) {
        tcg_gen_set_label(r->stub[i].label);
        enter_label_state(s, r->stub[i].cc_op);
        s->cc_op_dirty = r->stub[i].cc_op_dirty;   /* gen_jmp_to stores it unless it loops */
        gen_jmp_to(s, r->stub[i].target, 0);
    }
    /* planned instructions the translation did not reach (block full) */
    for (int i = 0; i < r->nb_lab; i++) {
        RegionLabel *l = &r->lab[i];
        if (l->bound || !l->seen)
            continue;
        tcg_gen_set_label(l->label);
        l->bound = true;
        enter_label_state(s, l->cc_op);
        gen_jmp_to(s, l->pc, 0);
    }
}
