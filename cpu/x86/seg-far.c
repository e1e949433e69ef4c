/* Far JMP, CALL and RET: direct transfers to code segments, call gates (with
 * the inner-privilege stack switch and parameter copy), task gates and TSS
 * targets, returns to outer privilege levels. */
#include "cpu/x86/seg.h"

static unsigned opsize_bytes(int dflag)
{
    return dflag == 2 ? 8 : dflag == 1 ? 4 : 2;
}

static bool target_is_64(CPUX86State *env, const Desc *d)
{
    return long_mode(env) && (d->hi & DESC_L_MASK);
}

/* The new RIP must lie within the new CS limit (or be canonical in 64-bit code). */
static void check_new_rip(CPUX86State *env, const Desc *d, uint64_t rip, uintptr_t ra)
{
    if (target_is_64(env, d)) {
        if ((uint64_t)((int64_t)(rip << 16) >> 16) != rip)
            raise_gp0(env, ra);
    } else if (rip > desc_limit(d)) {
        raise_gp0(env, ra);
    }
}

static void real_mode_jump(CPUX86State *env, uint32_t selector, uint64_t offset, uintptr_t ra)
{
    if (offset > env->segs[R_CS].limit)
        raise_gp0(env, ra);
    x86_load_seg_real(env, R_CS, (uint16_t)selector);
    env->rip = offset;
}

/* Read the descriptor for a far transfer target; #GP(0) for null, #GP(sel) for
 * beyond the table. */
static void read_target(CPUX86State *env, uint32_t selector, Desc *d, bool wide, uintptr_t ra)
{
    if ((selector & 0xfffc) == 0)
        raise_gp0(env, ra);
    if (!seg_read_desc(env, selector, d, wide, ra))
        raise_err(env, EXCP_GP, selector & 0xfffc, ra);
}

/* Checks for a direct transfer to a code segment. */
static void check_direct_code(CPUX86State *env, uint32_t selector, const Desc *d, uintptr_t ra)
{
    int c = cpl(env), dpl = desc_dpl(d);
    uint32_t err = selector & 0xfffc;

    if (!desc_is_code(d))
        raise_err(env, EXCP_GP, err, ra);
    if (desc_is_conforming(d) ? dpl > c : ((int)(selector & 3) > c || dpl != c))
        raise_err(env, EXCP_GP, err, ra);
    if (long_mode(env) && (d->hi & DESC_L_MASK) && (d->hi & DESC_B_MASK))
        raise_err(env, EXCP_GP, err, ra);
    if (!desc_present(d))
        raise_err(env, EXCP_NP, err, ra);
}

/* A task gate or a TSS descriptor as a JMP/CALL target. */
static void far_to_task(CPUX86State *env, uint32_t selector, Desc *d, int source,
                        uint64_t next_rip, uintptr_t ra)
{
    int dpl = desc_dpl(d), c = cpl(env);
    uint32_t err = selector & 0xfffc;

    if (long_mode(env) || dpl < c || dpl < (int)(selector & 3))
        raise_err(env, EXCP_GP, err, ra);
    if (!desc_present(d))
        raise_err(env, EXCP_NP, err, ra);
    uint32_t tss_sel = selector;
    if (desc_type(d) == SYS_TASKGATE) {
        tss_sel = d->lo >> 16;
        if ((tss_sel & 4) || !seg_read_desc(env, tss_sel, d, false, ra))
            raise_err(env, EXCP_GP, tss_sel & 0xfffc, ra);
        int t = desc_type(d);
        if (!desc_is_system(d) || (t != SYS_TSS32_AVAIL && t != SYS_TSS16_AVAIL))
            raise_err(env, EXCP_GP, tss_sel & 0xfffc, ra);
        if (!desc_present(d))
            raise_err(env, EXCP_NP, tss_sel & 0xfffc, ra);
    }
    task_switch(env, tss_sel, d, source, next_rip, 0, ra);
}

/* A call gate: checks shared by JMP and CALL. Returns the target code
 * descriptor in *cd, selector in *csel and offset in *off. */
static void read_call_gate(CPUX86State *env, uint32_t selector, const Desc *g, Desc *cd,
                           uint32_t *csel, uint64_t *off, uintptr_t ra)
{
    int dpl = desc_dpl(g), c = cpl(env);

    if (dpl < c || dpl < (int)(selector & 3))
        raise_err(env, EXCP_GP, selector & 0xfffc, ra);
    if (!desc_present(g))
        raise_err(env, EXCP_NP, selector & 0xfffc, ra);
    *csel = g->lo >> 16;
    *off = g->lo & 0xffff;
    if (desc_type(g) != SYS_CALLGATE16)
        *off |= g->hi & 0xffff0000u;
    if (long_mode(env))
        *off |= (uint64_t)g->hi2 << 32;
    read_target(env, *csel, cd, false, ra);
    uint32_t err = *csel & 0xfffc;
    if (!desc_is_code(cd) || desc_dpl(cd) > c)
        raise_err(env, EXCP_GP, err, ra);
    if (long_mode(env) && (!(cd->hi & DESC_L_MASK) || (cd->hi & DESC_B_MASK)))
        raise_err(env, EXCP_GP, err, ra);
    if (!desc_present(cd))
        raise_err(env, EXCP_NP, err, ra);
}

static bool is_call_gate(CPUX86State *env, const Desc *d)
{
    int t = desc_type(d);
    return desc_is_system(d) && (t == SYS_CALLGATE32 || (!long_mode(env) && t == SYS_CALLGATE16));
}

static bool is_task_target(const Desc *d)
{
    int t = desc_type(d);
    return desc_is_system(d) && (t == SYS_TASKGATE || t == SYS_TSS16_AVAIL ||
                                 t == SYS_TSS32_AVAIL || t == SYS_TSS16_BUSY ||
                                 t == SYS_TSS32_BUSY);
}

void x86_ljmp(CPUX86State *env, uint32_t selector, uint64_t offset,
              uint64_t next_rip, uintptr_t ra)
{
    Desc d, cd;
    selector &= 0xffff;

    if (!prot_mode(env) || v86_mode(env)) {
        real_mode_jump(env, selector, offset, ra);
        return;
    }
    read_target(env, selector, &d, false, ra);
    if (!desc_is_system(&d)) {
        check_direct_code(env, selector, &d, ra);
        check_new_rip(env, &d, offset, ra);
        seg_set_accessed(env, selector, &d, ra);
        load_cs_cpl(env, selector, &d, cpl(env));
        env->rip = offset;
        return;
    }
    if (is_task_target(&d)) {
        if (desc_type(&d) == SYS_TSS16_BUSY || desc_type(&d) == SYS_TSS32_BUSY)
            raise_err(env, EXCP_GP, selector & 0xfffc, ra);
        far_to_task(env, selector, &d, TASK_FROM_JMP, next_rip, ra);
        return;
    }
    if (!is_call_gate(env, &d))
        raise_err(env, EXCP_GP, selector & 0xfffc, ra);
    if (long_mode(env))
        read_target(env, selector, &d, true, ra);
    uint32_t csel;
    read_call_gate(env, selector, &d, &cd, &csel, &offset, ra);
    /* JMP never changes privilege: conforming, or DPL == CPL */
    if (!desc_is_conforming(&cd) && desc_dpl(&cd) != cpl(env))
        raise_err(env, EXCP_GP, csel & 0xfffc, ra);
    check_new_rip(env, &cd, offset, ra);
    seg_set_accessed(env, csel, &cd, ra);
    load_cs_cpl(env, csel, &cd, cpl(env));
    env->rip = offset;
}

/* CALL through a gate to a more privileged non-conforming segment. */
static void call_gate_inner(CPUX86State *env, const Desc *gate, uint32_t csel,
                            const Desc *cd, uint64_t offset, uint64_t next_rip, uintptr_t ra)
{
    int new_cpl = desc_dpl(cd);
    StackPtr old = stack_current(env, 0);
    uint32_t old_ss = env->segs[R_SS].selector, old_cs = env->segs[R_CS].selector;
    uint64_t old_sp = env->regs[R_ESP];
    Desc ssd;

    if (long_mode(env)) {
        uint64_t rsp = tss64_get_stack(env, new_cpl, 0, 0, ra);
        StackPtr s = { 0, rsp, ~0ULL };
        stack_push(env, &s, old_ss, 8, ra);
        stack_push(env, &s, old_sp, 8, ra);
        stack_push(env, &s, old_cs, 8, ra);
        stack_push(env, &s, next_rip, 8, ra);
        seg_set_accessed(env, csel, (Desc *)cd, ra);
        load_cs_cpl(env, csel, cd, new_cpl);
        seg_load_null(env, R_SS, (uint32_t)new_cpl, new_cpl);
        env->regs[R_ESP] = s.sp;
        env->rip = offset;
        x86_update_hflags(env);
        return;
    }
    uint32_t ss, esp;
    tss_get_stack(env, new_cpl, &ss, &esp, 0, ra);
    seg_check_stack(env, ss, new_cpl, &ssd, EXCP_TS, 0, ra);
    unsigned size = desc_type(gate) == SYS_CALLGATE32 ? 4 : 2;
    unsigned params = gate->hi & 0x1f;
    uint64_t mask = (ssd.hi & DESC_B_MASK) ? 0xffffffffULL : 0xffff;
    StackPtr s = { desc_base(&ssd), esp & mask, mask };
    stack_check_desc(&s, &ssd, ss & 0xfffc);

    stack_reserve(env, &s, 4 + params, size, ra);
    stack_push(env, &s, old_ss, size, ra);
    stack_push(env, &s, old_sp & old.mask, size, ra);
    for (int i = (int)params - 1; i >= 0; i--) {
        StackPtr src = old;     /* read as the hardware does, as a supervisor */
        src.user = false;
        src.sp = (old.sp + (unsigned)i * size) & old.mask;
        stack_push(env, &s, stack_pop(env, &src, size, ra), size, ra);
    }
    stack_push(env, &s, old_cs, size, ra);
    stack_push(env, &s, next_rip, size, ra);
    seg_set_accessed(env, ss, &ssd, ra);
    seg_set_accessed(env, csel, (Desc *)cd, ra);
    seg_cache_load(env, R_SS, ss, &ssd);
    load_cs_cpl(env, csel, cd, new_cpl);
    set_rsp_masked(env, s.sp, mask);
    env->rip = offset;
    x86_update_hflags(env);
}

static void push_return(CPUX86State *env, unsigned size, uint64_t next_rip, uintptr_t ra)
{
    StackPtr s = stack_current(env, 0);
    stack_reserve(env, &s, 2, size, ra);
    stack_push(env, &s, env->segs[R_CS].selector, size, ra);
    stack_push(env, &s, next_rip, size, ra);
    set_rsp_masked(env, s.sp, s.mask);
}

void x86_lcall(CPUX86State *env, uint32_t selector, uint64_t offset, int dflag,
               uint64_t next_rip, uintptr_t ra)
{
    unsigned size = opsize_bytes(dflag);
    Desc d, cd;
    selector &= 0xffff;

    if (!prot_mode(env) || v86_mode(env)) {
        if (offset > env->segs[R_CS].limit)
            raise_gp0(env, ra);
        push_return(env, size, next_rip, ra);
        real_mode_jump(env, selector, offset, ra);
        return;
    }
    read_target(env, selector, &d, false, ra);
    if (!desc_is_system(&d)) {
        check_direct_code(env, selector, &d, ra);
        check_new_rip(env, &d, offset, ra);
        seg_set_accessed(env, selector, &d, ra);
        push_return(env, size, next_rip, ra);
        load_cs_cpl(env, selector, &d, cpl(env));
        env->rip = offset;
        return;
    }
    if (is_task_target(&d)) {
        if (desc_type(&d) == SYS_TSS16_BUSY || desc_type(&d) == SYS_TSS32_BUSY)
            raise_err(env, EXCP_GP, selector & 0xfffc, ra);
        far_to_task(env, selector, &d, TASK_FROM_CALL, next_rip, ra);
        return;
    }
    if (!is_call_gate(env, &d))
        raise_err(env, EXCP_GP, selector & 0xfffc, ra);
    if (long_mode(env))
        read_target(env, selector, &d, true, ra);
    uint32_t csel;
    read_call_gate(env, selector, &d, &cd, &csel, &offset, ra);
    check_new_rip(env, &cd, offset, ra);
    if (!desc_is_conforming(&cd) && desc_dpl(&cd) < cpl(env)) {
        call_gate_inner(env, &d, csel, &cd, offset, next_rip, ra);
        return;
    }
    /* same privilege through a gate: the gate's size decides the push size */
    size = long_mode(env) ? 8 : desc_type(&d) == SYS_CALLGATE32 ? 4 : 2;
    seg_set_accessed(env, csel, &cd, ra);
    push_return(env, size, next_rip, ra);
    load_cs_cpl(env, csel, &cd, cpl(env));
    env->rip = offset;
}

void x86_lret(CPUX86State *env, int dflag, unsigned imm, uintptr_t ra)
{
    unsigned size = opsize_bytes(dflag);
    StackPtr s = stack_current(env, 0);
    uint64_t new_rip = stack_pop(env, &s, size, ra);
    uint32_t sel = (uint32_t)stack_pop(env, &s, size, ra) & 0xffff;
    Desc d, ssd;

    if (!prot_mode(env) || v86_mode(env)) {
        if (new_rip > env->segs[R_CS].limit)
            raise_gp0(env, ra);
        set_rsp_masked(env, s.sp + imm, s.mask);
        x86_load_seg_real(env, R_CS, (uint16_t)sel);
        env->rip = new_rip;
        return;
    }
    int c = cpl(env), rpl = sel & 3;
    read_target(env, sel, &d, false, ra);
    uint32_t err = sel & 0xfffc;
    if (!desc_is_code(&d) || rpl < c)
        raise_err(env, EXCP_GP, err, ra);
    if (desc_is_conforming(&d) ? desc_dpl(&d) > rpl : desc_dpl(&d) != rpl)
        raise_err(env, EXCP_GP, err, ra);
    if (!desc_present(&d))
        raise_err(env, EXCP_NP, err, ra);

    if (rpl == c) {
        check_new_rip(env, &d, new_rip, ra);
        seg_set_accessed(env, sel, &d, ra);
        set_rsp_masked(env, s.sp + imm, s.mask);
        load_cs_cpl(env, sel, &d, c);
        env->rip = new_rip;
        return;
    }
    /* return to an outer privilege level: SS:RSP follow on the old stack */
    s.sp = (s.sp + imm) & s.mask;
    uint64_t new_sp = stack_pop(env, &s, size, ra);
    uint32_t ss = (uint32_t)stack_pop(env, &s, size, ra) & 0xffff;
    bool to64 = target_is_64(env, &d);
    if ((ss & 0xfffc) == 0 && to64 && rpl != 3) {
        ssd = (Desc){ 0 };
    } else {
        seg_check_stack(env, ss, rpl, &ssd, EXCP_GP, 0, ra);
    }
    check_new_rip(env, &d, new_rip, ra);
    seg_set_accessed(env, sel, &d, ra);
    if (ss & 0xfffc) {
        seg_set_accessed(env, ss, &ssd, ra);
        seg_cache_load(env, R_SS, ss, &ssd);
    } else {
        seg_load_null(env, R_SS, ss, rpl);
    }
    load_cs_cpl(env, sel, &d, rpl);
    uint64_t mask = to64 ? ~0ULL : (env->segs[R_SS].flags & DESC_B_MASK) ? 0xffffffffULL : 0xffff;
    set_rsp_masked(env, new_sp + imm, mask);
    env->rip = new_rip;
    seg_null_inaccessible(env, rpl);
    x86_update_hflags(env);
}
