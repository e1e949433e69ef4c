/* Hardware task switching (32-bit and 16-bit TSS) through JMP, CALL, INT/
 * exceptions (task gates) and IRET with NT, and the TSS stack lookups used by
 * privilege changes. Not available in long mode (callers raise #GP first). */
#include "cpu/x86/seg.h"

static uint32_t tr_error(CPUX86State *env, uint32_t ext)
{
    return (env->tr.selector & 0xfffc) | ext;
}

void tss_get_stack(CPUX86State *env, int dpl, uint32_t *ss, uint32_t *esp,
                   uint32_t ext, uintptr_t ra)
{
    bool is32 = (env->tr.flags >> DESC_TYPE_SHIFT) & 8;
    unsigned shift = is32 ? 1 : 0;
    uint32_t index = (uint32_t)(dpl * 4 + 2) << shift;

    if (!(env->tr.flags & DESC_P_MASK) || index + (4u << shift) - 1 > env->tr.limit)
        raise_err(env, EXCP_TS, tr_error(env, ext), ra);
    uint64_t base = env->tr.base + index;
    if (is32) {
        *esp = (uint32_t)x86_ld_linear(env, base, 4, SYS_IDX, ra);
        *ss = (uint32_t)x86_ld_linear(env, base + 4, 2, SYS_IDX, ra);
    } else {
        *esp = (uint32_t)x86_ld_linear(env, base, 2, SYS_IDX, ra);
        *ss = (uint32_t)x86_ld_linear(env, base + 2, 2, SYS_IDX, ra);
    }
}

uint64_t tss64_get_stack(CPUX86State *env, int dpl, int ist, uint32_t ext, uintptr_t ra)
{
    uint32_t index = ist ? 36 + (uint32_t)(ist - 1) * 8 : 4 + (uint32_t)dpl * 8;

    if (!(env->tr.flags & DESC_P_MASK) || index + 7 > env->tr.limit)
        raise_err(env, EXCP_TS, tr_error(env, ext), ra);
    return x86_ld_linear(env, env->tr.base + index, 8, SYS_IDX, ra);
}

/* The registers a TSS holds, in 32-bit form. */
typedef struct TaskState {
    uint32_t cr3, eip, eflags, regs[8], ldt;
    uint16_t segs[6];
} TaskState;

/* TSS field offsets: 32-bit and 16-bit layouts */
typedef struct TssLayout {
    unsigned eip, eflags, regs, reg_size, segs, nsegs, ldt, min_limit;
} TssLayout;
static const TssLayout tss32 = { 32, 36, 40, 4, 72, 6, 96, 0x67 };
static const TssLayout tss16 = { 14, 16, 18, 2, 34, 4, 42, 0x2b };

static uint32_t ld(CPUX86State *env, uint64_t a, unsigned size, uintptr_t ra)
{
    return (uint32_t)x86_ld_linear(env, a, size, SYS_IDX, ra);
}

static void read_task_state(CPUX86State *env, uint64_t base, const TssLayout *l,
                            TaskState *t, uintptr_t ra)
{
    unsigned rs = l->reg_size;
    memset(t, 0, sizeof(*t));
    t->cr3 = l == &tss32 ? ld(env, base + 28, 4, ra) : 0;
    t->eip = ld(env, base + l->eip, rs, ra);
    t->eflags = ld(env, base + l->eflags, rs, ra);
    for (int i = 0; i < 8; i++)
        t->regs[i] = ld(env, base + l->regs + i * rs, rs, ra);
    for (unsigned i = 0; i < l->nsegs; i++)
        t->segs[i] = (uint16_t)ld(env, base + l->segs + i * rs, 2, ra);
    t->ldt = ld(env, base + l->ldt, 2, ra);
}

static void save_task_state(CPUX86State *env, uint64_t base, const TssLayout *l,
                            uint64_t eip, uint32_t eflags, uintptr_t ra)
{
    unsigned rs = l->reg_size;
    x86_st_linear(env, base + l->eip, eip, rs, SYS_IDX, ra);
    x86_st_linear(env, base + l->eflags, eflags, rs, SYS_IDX, ra);
    for (int i = 0; i < 8; i++)
        x86_st_linear(env, base + l->regs + i * rs, env->regs[i], rs, SYS_IDX, ra);
    for (unsigned i = 0; i < l->nsegs; i++)
        x86_st_linear(env, base + l->segs + i * rs, env->segs[i].selector, 2, SYS_IDX, ra);
}

static void set_busy(CPUX86State *env, uint32_t selector, bool busy, uintptr_t ra)
{
    const uint32_t b = 2u << DESC_TYPE_SHIFT;
    x86_update_linear32(env, seg_desc_addr(env, selector) + 4, busy ? ~0u : ~b, busy ? b : 0, ra);
}

/* Load the new task's LDT; faults are #TS in the new task's context. */
static void task_load_ldt(CPUX86State *env, uint32_t sel)
{
    Desc d;
    sel &= 0xffff;
    if ((sel & 0xfffc) == 0) {
        env->ldt = (SegmentCache){ .selector = (uint16_t)sel };
        return;
    }
    if ((sel & 4) || !seg_read_desc(env, sel, &d, false, 0) ||
        !desc_is_system(&d) || desc_type(&d) != SYS_LDT)
        raise_err(env, EXCP_TS, sel & 0xfffc, 0);
    if (!desc_present(&d))
        raise_err(env, EXCP_TS, sel & 0xfffc, 0);
    env->ldt = (SegmentCache){ (uint16_t)sel, desc_base(&d), desc_limit(&d), desc_flags(&d) };
}

/* Load one segment register of the new task with the task-switch checks. */
static void task_load_seg(CPUX86State *env, int seg, uint32_t sel)
{
    int c = cpl(env), rpl = sel & 3;
    uint32_t err = sel & 0xfffc;
    Desc d;

    if ((sel & 0xfffc) == 0) {
        if (seg == R_SS || seg == R_CS)
            raise_err(env, EXCP_TS, err, 0);
        seg_load_null(env, seg, sel, 0);
        return;
    }
    if (!seg_read_desc(env, sel, &d, false, 0))
        raise_err(env, EXCP_TS, err, 0);
    int dpl = desc_dpl(&d);
    if (seg == R_CS) {
        if (!desc_is_code(&d) || (desc_is_conforming(&d) ? dpl > rpl : dpl != rpl))
            raise_err(env, EXCP_TS, err, 0);
        if (!desc_present(&d))
            raise_err(env, EXCP_NP, err, 0);
    } else if (seg == R_SS) {
        if (rpl != c || dpl != c || !desc_is_writable_data(&d))
            raise_err(env, EXCP_TS, err, 0);
        if (!desc_present(&d))
            raise_err(env, EXCP_SS, err, 0);
    } else {
        if (!desc_is_readable(&d) || (!desc_is_conforming(&d) && (dpl < c || dpl < rpl)))
            raise_err(env, EXCP_TS, err, 0);
        if (!desc_present(&d))
            raise_err(env, EXCP_NP, err, 0);
    }
    seg_set_accessed(env, sel, &d, 0);
    seg_cache_load(env, seg, sel, &d);
}

void task_switch(CPUX86State *env, uint32_t tss_sel, Desc *d, int source,
                 uint64_t next_rip, uint32_t ext, uintptr_t ra)
{
    const TssLayout *nl = (desc_type(d) & 8) ? &tss32 : &tss16;
    const TssLayout *ol = ((env->tr.flags >> DESC_TYPE_SHIFT) & 8) ? &tss32 : &tss16;
    uint64_t new_base = desc_base(d);
    TaskState t;

    if (desc_limit(d) < nl->min_limit)
        raise_err(env, EXCP_TS, (tss_sel & 0xfffc) | ext, ra);
    if (!(env->tr.flags & DESC_P_MASK) || env->tr.limit < ol->min_limit)
        raise_err(env, EXCP_TS, tr_error(env, ext), ra);

    /* everything that can fault in the old task's context comes first */
    read_task_state(env, new_base, nl, &t, ra);
    uint32_t old_eflags = x86_get_eflags(env);
    if (source == TASK_FROM_IRET)
        old_eflags &= ~NT_MASK;
    save_task_state(env, env->tr.base, ol, next_rip, old_eflags, ra);
    if (source == TASK_FROM_JMP || source == TASK_FROM_IRET)
        set_busy(env, env->tr.selector, false, ra);
    if (source == TASK_FROM_CALL || source == TASK_FROM_INT) {
        x86_st_linear(env, new_base, env->tr.selector, 2, SYS_IDX, ra);
        t.eflags |= NT_MASK;
    }
    if (source != TASK_FROM_IRET)
        set_busy(env, tss_sel, true, ra);

    /* commit: from here on the state is the new task's */
    env->tr.selector = (uint16_t)tss_sel;
    env->tr.base = new_base;
    env->tr.limit = desc_limit(d);
    env->tr.flags = desc_flags(d) | (2u << DESC_TYPE_SHIFT);
    env->cr[0] |= CR0_TS;
    if (nl == &tss32 && (env->cr[0] & CR0_PG) && t.cr3 != (uint32_t)env->cr[3]) {
        env->cr[3] = t.cr3;
        sys_tlb_flush(env);
    }
    if (nl == &tss16)
        t.eflags = (x86_get_eflags(env) & 0xffff0000u) | (t.eflags & 0xffff);
    x86_set_eflags(env, t.eflags, 0x3f7fd5);   /* all defined bits */
    env->rip = nl == &tss16 ? (t.eip & 0xffff) : t.eip;
    for (int i = 0; i < 8; i++) {
        if (nl == &tss16)
            env->regs[i] = (env->regs[i] & ~0xffffULL) | (t.regs[i] & 0xffff);
        else
            env->regs[i] = t.regs[i];
    }
    /* selectors first, unusable, with CPL = the new CS.RPL via SS.DPL */
    for (int i = 0; i < 6; i++) {
        env->segs[i] = (SegmentCache){ .selector = t.segs[i] };
    }
    env->segs[R_SS].flags = (uint32_t)(t.segs[R_CS] & 3) << DESC_DPL_SHIFT;
    if (t.eflags & VM_MASK) {
        x86_update_hflags(env);
        task_load_ldt(env, t.ldt);
        for (int i = 0; i < 6; i++)
            seg_load_v86(env, i, t.segs[i]);
        x86_update_hflags(env);
        return;
    }
    x86_update_hflags(env);
    task_load_ldt(env, t.ldt);
    static const int order[6] = { R_CS, R_SS, R_ES, R_DS, R_FS, R_GS };
    for (int i = 0; i < 6; i++) {
        if (order[i] >= (int)nl->nsegs && order[i] >= R_FS)
            seg_load_null(env, order[i], 0, 0);
        else
            task_load_seg(env, order[i], t.segs[order[i]]);
        x86_update_hflags(env);
    }
    if (env->rip > env->segs[R_CS].limit)
        raise_gp0(env, 0);
}
