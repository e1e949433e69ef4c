/* Segmentation: descriptor reads, segment register loads with their checks,
 * segment limit checks, LLDT/LTR, LAR/LSL/VERR/VERW, and the stack helpers the
 * far-transfer and interrupt code share. */
#include "cpu/x86/seg.h"
#include "cpu/x86/translate.h"

uint64_t seg_desc_addr(CPUX86State *env, uint32_t selector)
{
    const uint64_t base = (selector & 4) ? env->ldt.base : env->gdt.base;
    return base + (selector & ~7u);
}

bool seg_read_desc(CPUX86State *env, uint32_t selector, Desc *d, bool wide, uintptr_t ra)
{
    uint32_t limit = (selector & 4) ? env->ldt.limit : env->gdt.limit;
    uint32_t index = selector & 0xfff8;

    /* an LDT selector with no usable LDT loaded */
    if ((selector & 4) && !(env->ldt.flags & DESC_P_MASK))
        return false;
    if (index + (wide ? 15u : 7u) > limit)
        return false;
    uint64_t addr = seg_desc_addr(env, selector);
    d->lo = (uint32_t)x86_ld_linear(env, addr, 4, SYS_IDX, ra);
    d->hi = (uint32_t)x86_ld_linear(env, addr + 4, 4, SYS_IDX, ra);
    d->hi2 = wide ? (uint32_t)x86_ld_linear(env, addr + 8, 4, SYS_IDX, ra) : 0;
    return true;
}

void seg_set_accessed(CPUX86State *env, uint32_t selector, Desc *d, uintptr_t ra)
{
    if (d->hi & DESC_A_MASK)
        return;
    d->hi |= DESC_A_MASK;
    x86_update_linear32(env, seg_desc_addr(env, selector) + 4, ~0u, DESC_A_MASK, ra);
}

void seg_cache_load(CPUX86State *env, int seg, uint32_t selector, const Desc *d)
{
    SegmentCache *s = &env->segs[seg];
    s->selector = (uint16_t)selector;
    s->base = desc_base(d);
    s->limit = desc_limit(d);
    s->flags = desc_flags(d);
}

void seg_load_null(CPUX86State *env, int seg, uint32_t selector, int dpl)
{
    SegmentCache *s = &env->segs[seg];
    s->selector = (uint16_t)selector;
    s->base = 0;
    s->limit = 0;
    s->flags = (uint32_t)dpl << DESC_DPL_SHIFT;
    if (seg == R_SS && long_mode(env)) {
        /* 64-bit mode: a null SS stays usable for pushes and keeps CPL */
        s->flags |= DESC_S_MASK | DESC_W_MASK | DESC_A_MASK | DESC_P_MASK | DESC_B_MASK;
        s->limit = 0xffffffff;
    }
}

void seg_load_v86(CPUX86State *env, int seg, uint16_t selector)
{
    SegmentCache *s = &env->segs[seg];
    s->selector = selector;
    s->base = (uint64_t)selector << 4;
    s->limit = 0xffff;
    s->flags = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_A_MASK | (3u << DESC_DPL_SHIFT);
    if (seg == R_CS)
        s->flags |= DESC_CS_MASK;
}

void x86_load_seg_real(CPUX86State *env, int seg, uint16_t selector)
{
    if (env->eflags & VM_MASK) {
        seg_load_v86(env, seg, selector);
    } else {
        /* real mode: only selector and base change; limit and attributes
         * stay as cached (what "unreal mode" relies on) */
        env->segs[seg].selector = selector;
        env->segs[seg].base = (uint64_t)selector << 4;
    }
    x86_update_hflags(env);
}

void x86_load_seg(CPUX86State *env, int seg, uint32_t selector, uintptr_t ra)
{
    selector &= 0xffff;
    if (!prot_mode(env) || v86_mode(env)) {
        x86_load_seg_real(env, seg, (uint16_t)selector);
        return;
    }
    int rpl = selector & 3, dpl, c = cpl(env);
    Desc d;

    if ((selector & 0xfffc) == 0) {
        /* null: allowed for data segments; for SS only in 64-bit mode with RPL = CPL < 3 */
        if (seg == R_SS && !(code64(env) && c != 3 && rpl == c))
            raise_gp0(env, ra);
        seg_load_null(env, seg, selector, seg == R_SS ? c : 0);
        x86_update_hflags(env);
        return;
    }
    if (!seg_read_desc(env, selector, &d, false, ra))
        raise_err(env, EXCP_GP, selector & 0xfffc, ra);
    dpl = desc_dpl(&d);
    if (seg == R_SS) {
        if (rpl != c || dpl != c || !desc_is_writable_data(&d))
            raise_err(env, EXCP_GP, selector & 0xfffc, ra);
        if (!desc_present(&d))
            raise_err(env, EXCP_SS, selector & 0xfffc, ra);
    } else {
        if (!desc_is_readable(&d))
            raise_err(env, EXCP_GP, selector & 0xfffc, ra);
        /* data and non-conforming code need DPL >= max(CPL, RPL) */
        if (!desc_is_conforming(&d) && (dpl < c || dpl < rpl))
            raise_err(env, EXCP_GP, selector & 0xfffc, ra);
        if (!desc_present(&d))
            raise_err(env, EXCP_NP, selector & 0xfffc, ra);
    }
    seg_set_accessed(env, selector, &d, ra);
    seg_cache_load(env, seg, selector, &d);
    x86_update_hflags(env);
}

uint64_t x86_seg_check(CPUX86State *env, int seg, uint64_t offset, unsigned size,
                       bool write, uintptr_t ra)
{
    const SegmentCache *s = &env->segs[seg];
    int vec = seg == R_SS ? EXCP_SS : EXCP_GP;

    if (code64(env))
        return ((seg == R_FS || seg == R_GS) ? s->base : 0) + offset;
    if (prot_mode(env) && !v86_mode(env)) {
        if (!(s->flags & DESC_P_MASK))
            raise_err(env, vec, 0, ra);             /* null selector */
        if (s->flags & DESC_CS_MASK) {
            if (write || !(s->flags & DESC_R_MASK))
                raise_err(env, vec, 0, ra);
        } else if (write && !(s->flags & DESC_W_MASK)) {
            raise_err(env, vec, 0, ra);
        }
    }
    uint64_t last = offset + size - 1;
    if (!(s->flags & DESC_CS_MASK) && (s->flags & DESC_E_MASK)) {
        uint64_t upper = (s->flags & DESC_B_MASK) ? 0xffffffffULL : 0xffff;
        if (offset <= s->limit || last > upper)
            raise_err(env, vec, 0, ra);
    } else if (last > s->limit || last < offset) {
        raise_err(env, vec, 0, ra);
    }
    return (uint32_t)(s->base + offset);
}

bool x86_seg_is_flat(const SegmentCache *sc)
{
    return sc->base == 0 && sc->limit == 0xffffffffu && (sc->flags & DESC_P_MASK) &&
           (sc->flags & (DESC_CS_MASK | DESC_W_MASK | DESC_E_MASK)) == DESC_W_MASK;
}

static bool seg_is_expand_down(const SegmentCache *sc)
{
    return (sc->flags & (DESC_CS_MASK | DESC_E_MASK)) == DESC_E_MASK;
}

/* Can translated code check accesses through sc with a limit compare alone?
 * Protected mode: a present, writable, expand-up data segment (reads and
 * writes are allowed, only the limit remains). Real and virtual-8086 mode (no
 * type checks): an expand-up segment whose limit covers 64 KiB, so that a
 * byte access with a 16-bit offset never needs a check. */
static bool seg_limit_only(const SegmentCache *sc, bool prot)
{
    if (prot)
        return (sc->flags & (DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_W_MASK | DESC_E_MASK)) ==
               (DESC_P_MASK | DESC_S_MASK | DESC_W_MASK);
    return !seg_is_expand_down(sc) && sc->limit >= 0xffff;
}

_Static_assert(HF_AC_MASK < TBF_SEG_INLINE(0), "hflags and the TBF_SEG_INLINE bits overlap");

uint32_t x86_seg_tb_flags(const CPUX86State *env)
{
    uint32_t hf = env->hflags, f = 0;
    if (hf & HF_CS64_MASK)
        return 0;
    bool prot = (hf & (HF_PE_MASK | HF_VM_MASK)) == HF_PE_MASK;
    for (int seg = R_ES; seg <= R_GS; seg++) {
        const SegmentCache *sc = &env->segs[seg];
        if (seg != R_CS && prot && !x86_seg_is_flat(sc))
            f |= TBF_SEGCHECK;
        if ((seg != R_CS || !prot) && seg_limit_only(sc, prot))
            f |= TBF_SEG_INLINE(seg);
    }
    /* all flat: no checks at all, and the inline bits do not split the TB cache */
    return (f & TBF_SEGCHECK) || !prot ? f : 0;
}

void x86_seg_raise_marked(CPUX86State *env, uint64_t vaddr, uintptr_t ra)
{
    if (likely(!(vaddr >> 62)) || (env->hflags & HF_CS64_MASK))
        return;
    raise_err(env, (vaddr & X86_LINEAR_GP_MARK) ? EXCP_GP : EXCP_SS, 0, ra);
}

/* ---- LDTR and TR ---- */

static void load_system_seg(CPUX86State *env, uint32_t selector, bool is_tr, uintptr_t ra)
{
    Desc d;
    bool wide = long_mode(env);

    if (!prot_mode(env) || v86_mode(env))
        raise_ud(env, ra);
    x86_check_cpl0(env, ra);
    selector &= 0xffff;
    if ((selector & 0xfffc) == 0) {
        if (is_tr)
            raise_gp0(env, ra);
        env->ldt = (SegmentCache){ .selector = (uint16_t)selector };
        return;
    }
    if ((selector & 4) || !seg_read_desc(env, selector, &d, wide, ra))
        raise_err(env, EXCP_GP, selector & 0xfffc, ra);
    int type = desc_type(&d);
    bool ok = is_tr ? (type == SYS_TSS32_AVAIL || (!wide && type == SYS_TSS16_AVAIL))
                    : type == SYS_LDT;
    if (!desc_is_system(&d) || !ok)
        raise_err(env, EXCP_GP, selector & 0xfffc, ra);
    if (!desc_present(&d))
        raise_err(env, EXCP_NP, selector & 0xfffc, ra);
    uint64_t base = desc_base(&d);
    if (wide) {
        base |= (uint64_t)d.hi2 << 32;
        if (!x86_is_canonical(env, base))
            raise_err(env, EXCP_GP, selector & 0xfffc, ra);
    }
    SegmentCache *s = is_tr ? &env->tr : &env->ldt;
    if (is_tr) {
        /* mark busy; another vCPU may have loaded it meanwhile */
        uint32_t old = x86_update_linear32(env, seg_desc_addr(env, selector) + 4, ~0u,
                                           2u << DESC_TYPE_SHIFT, ra);
        if (old & (2u << DESC_TYPE_SHIFT))
            raise_err(env, EXCP_GP, selector & 0xfffc, ra);
        d.hi |= 2u << DESC_TYPE_SHIFT;
    }
    s->selector = (uint16_t)selector;
    s->base = base;
    s->limit = desc_limit(&d);
    s->flags = desc_flags(&d);
}

void x86_lldt(CPUX86State *env, uint32_t selector, uintptr_t ra)
{
    load_system_seg(env, selector, false, ra);
}

void x86_ltr(CPUX86State *env, uint32_t selector, uintptr_t ra)
{
    load_system_seg(env, selector, true, ra);
}

/* ---- LAR, LSL, VERR, VERW ---- */

/* Read the descriptor and apply the privilege rule common to the four
 * instructions: conforming code is always visible, anything else needs
 * DPL >= CPL and DPL >= RPL. */
static bool visible_desc(CPUX86State *env, uint32_t selector, Desc *d, uintptr_t ra)
{
    if (!prot_mode(env) || v86_mode(env))
        raise_ud(env, ra);
    selector &= 0xffff;
    if ((selector & 0xfffc) == 0 || !seg_read_desc(env, selector, d, false, ra))
        return false;
    if (desc_is_conforming(d))
        return true;
    int dpl = desc_dpl(d);
    return dpl >= cpl(env) && dpl >= (int)(selector & 3);
}

/* System types LAR (all=true) or LSL (all=false) accept; long mode allows
 * only LDT and 64-bit TSS (and call gates for LAR). */
static bool system_type_ok(CPUX86State *env, int type, bool lar)
{
    static const uint16_t legacy_lar = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 |
                                       1u << 9 | 1u << 11 | 1u << 12;
    static const uint16_t legacy_lsl = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 9 | 1u << 11;
    static const uint16_t long_lar = 1u << 2 | 1u << 9 | 1u << 11 | 1u << 12;
    static const uint16_t long_lsl = 1u << 2 | 1u << 9 | 1u << 11;
    uint16_t ok = long_mode(env) ? (lar ? long_lar : long_lsl) : (lar ? legacy_lar : legacy_lsl);
    return ok & (1u << type);
}

int64_t x86_lar(CPUX86State *env, uint32_t selector, uintptr_t ra)
{
    Desc d;
    if (!visible_desc(env, selector, &d, ra))
        return -1;
    if (desc_is_system(&d) && !system_type_ok(env, desc_type(&d), true))
        return -1;
    return d.hi & 0x00ffff00u;       /* bits 19:16 (limit) as this host's hardware returns them */
}

int64_t x86_lsl(CPUX86State *env, uint32_t selector, uintptr_t ra)
{
    Desc d;
    if (!visible_desc(env, selector, &d, ra))
        return -1;
    if (desc_is_system(&d) && !system_type_ok(env, desc_type(&d), false))
        return -1;
    return desc_limit(&d);
}

bool x86_verr(CPUX86State *env, uint32_t selector, uintptr_t ra)
{
    Desc d;
    return visible_desc(env, selector, &d, ra) && desc_is_readable(&d);
}

bool x86_verw(CPUX86State *env, uint32_t selector, uintptr_t ra)
{
    Desc d;
    return visible_desc(env, selector, &d, ra) && desc_is_writable_data(&d);
}

/* ---- stacks ---- */

uint64_t stack_mask(CPUX86State *env, uint32_t ss_flags)
{
    if (code64(env))
        return ~0ULL;
    return (ss_flags & DESC_B_MASK) ? 0xffffffffULL : 0xffff;
}

/* Does an access of size bytes at offset fit the stack segment? Expand-up:
 * [0, limit]; expand-down: (limit, 0xffff or 0xffffffff by the B flag]. */
static bool stack_fits(const StackPtr *s, uint64_t offset, unsigned size)
{
    uint64_t last = offset + size - 1;
    if (s->expand_down)
        return offset > s->limit && last <= s->mask;
    return last <= s->limit;
}

static void stack_access_check(CPUX86State *env, const StackPtr *s, uint64_t offset,
                               unsigned size, uintptr_t ra)
{
    if (s->checked && !stack_fits(s, offset, size))
        raise_err(env, EXCP_SS, s->fault_err, ra);
}

static int stack_mmu_idx(const StackPtr *s)
{
    return s->user ? MMU_USER_IDX : SYS_IDX;
}

void stack_push(CPUX86State *env, StackPtr *s, uint64_t value, unsigned size, uintptr_t ra)
{
    uint64_t sp = (s->sp - size) & s->mask;
    stack_access_check(env, s, sp, size, ra);
    s->sp = sp;
    x86_st_linear(env, s->base + sp, value, size, stack_mmu_idx(s), ra);
}

void stack_reserve(CPUX86State *env, const StackPtr *s, unsigned n, unsigned size, uintptr_t ra)
{
    if (!s->checked)
        return;
    for (unsigned i = 1; i <= n; i++)
        stack_access_check(env, s, (s->sp - i * size) & s->mask, size, ra);
}

uint64_t stack_pop(CPUX86State *env, StackPtr *s, unsigned size, uintptr_t ra)
{
    stack_access_check(env, s, s->sp, size, ra);
    uint64_t v = x86_ld_linear(env, s->base + s->sp, size, stack_mmu_idx(s), ra);
    s->sp = (s->sp + size) & s->mask;
    return v;
}

/* A segment whose every offset the stack pointer can hold is valid needs no
 * check (the flat case: expand-up, 4 GiB limit). In real and V86 mode the
 * cached limit applies too (a word at 0xffff is #SS; SP = 0 wraps). */
static void stack_set_limit(StackPtr *s, uint32_t flags, uint32_t limit, uint32_t fault_err)
{
    s->expand_down = (flags & DESC_S_MASK) && !(flags & DESC_CS_MASK) && (flags & DESC_E_MASK);
    s->limit = limit;
    s->checked = s->expand_down || limit != 0xffffffffu;
    s->fault_err = fault_err;
}

StackPtr stack_current(CPUX86State *env, uint32_t fault_err)
{
    const SegmentCache *ss = &env->segs[R_SS];
    uint64_t mask = stack_mask(env, ss->flags);
    StackPtr s = { code64(env) ? 0 : ss->base, env->regs[R_ESP] & mask, mask };

    s.user = cpl(env) == 3;
    if (!code64(env))
        stack_set_limit(&s, ss->flags, ss->limit, fault_err);
    return s;
}

void stack_check_desc(StackPtr *s, const Desc *d, uint32_t fault_err)
{
    stack_set_limit(s, desc_flags(d), desc_limit(d), fault_err);
}

void set_rsp_masked(CPUX86State *env, uint64_t sp, uint64_t mask)
{
    env->regs[R_ESP] = (env->regs[R_ESP] & ~mask) | (sp & mask);
    if (mask == 0xffffffffULL)
        env->regs[R_ESP] = (uint32_t)sp;     /* 32-bit writes zero-extend */
}

void seg_check_stack(CPUX86State *env, uint32_t selector, int dpl, Desc *d,
                     int fault_vec, uint32_t ext, uintptr_t ra)
{
    uint32_t err = (selector & 0xfffc) | ext;

    if ((selector & 0xfffc) == 0)
        raise_err(env, fault_vec, ext, ra);
    if (!seg_read_desc(env, selector, d, false, ra))
        raise_err(env, fault_vec, err, ra);
    if ((int)(selector & 3) != dpl || desc_dpl(d) != dpl || !desc_is_writable_data(d))
        raise_err(env, fault_vec, err, ra);
    if (!desc_present(d))
        raise_err(env, EXCP_SS, err, ra);
}

void seg_null_inaccessible(CPUX86State *env, int new_cpl)
{
    static const int segs[] = { R_ES, R_DS, R_FS, R_GS };
    for (unsigned i = 0; i < 4; i++) {
        SegmentCache *s = &env->segs[segs[i]];
        int dpl = (s->flags >> DESC_DPL_SHIFT) & 3;
        bool conforming_code = (s->flags & DESC_CS_MASK) && (s->flags & DESC_C_MASK);
        /* in 64-bit mode null selectors may stay loaded with their flags */
        if ((s->selector & 0xfffc) == 0 && !(s->flags & DESC_P_MASK))
            continue;
        if (!conforming_code && dpl < new_cpl)
            seg_load_null(env, segs[i], 0, 0);
    }
}

void load_cs_cpl(CPUX86State *env, uint32_t selector, const Desc *d, int new_cpl)
{
    seg_cache_load(env, R_CS, (selector & 0xfffc) | (uint32_t)new_cpl, d);
    x86_update_hflags(env);
}
