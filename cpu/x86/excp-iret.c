/* IRET / IRETD / IRETQ in every mode: real mode, V86 (IOPL 3), protected mode
 * to the same or an outer privilege level, return to V86, nested-task return
 * through the TSS back link, and long mode. IRET ends NMI blocking. */
#include "cpu/x86/seg.h"

/* EFLAGS bits IRET/POPF may change, by privilege (SDM vol 2, IRET). */
#define FLAGS_ALWAYS (CC_MASK | TF_MASK | DF_MASK | NT_MASK | RF_MASK | AC_MASK | ID_MASK)

static uint32_t iret_flag_mask(CPUX86State *env, int dflag)
{
    uint32_t mask = FLAGS_ALWAYS;
    int c = cpl(env);
    if (c <= iopl(env))
        mask |= IF_MASK;
    if (c == 0)
        mask |= IOPL_MASK | VIF_MASK | VIP_MASK;
    if (dflag == 0)
        mask &= 0xffff;
    return mask;
}

static void iret_real(CPUX86State *env, int dflag, uintptr_t ra)
{
    unsigned size = dflag ? 4 : 2;
    StackPtr s = stack_current(env, 0);      /* V86 SS is always 16-bit */
    uint64_t mask = s.mask;
    uint64_t rip = stack_pop(env, &s, size, ra);
    uint32_t cs = (uint32_t)stack_pop(env, &s, size, ra) & 0xffff;
    uint32_t fl = (uint32_t)stack_pop(env, &s, size, ra);
    uint32_t upd;

    if (rip > env->segs[R_CS].limit)
        raise_gp0(env, ra);
    if (v86_mode(env))
        upd = FLAGS_ALWAYS | IF_MASK;     /* IOPL, VM, VIF, VIP stay */
    else
        upd = FLAGS_ALWAYS | IF_MASK | IOPL_MASK;
    if (!dflag)
        upd &= 0xffff;
    else
        upd &= ~(uint32_t)(VM_MASK | VIF_MASK | VIP_MASK);
    set_rsp_masked(env, s.sp, mask);
    x86_load_seg_real(env, R_CS, (uint16_t)cs);
    env->rip = rip;
    x86_set_eflags(env, fl, upd);
}

/* IRET with NT=1: return to the task in the back link of the current TSS. */
static void iret_task(CPUX86State *env, uint64_t next_rip, uintptr_t ra)
{
    uint32_t link = (uint32_t)x86_ld_linear(env, env->tr.base, 2, SYS_IDX, ra);
    Desc d;

    if ((link & 4) || !seg_read_desc(env, link, &d, false, ra))
        raise_err(env, EXCP_TS, link & 0xfffc, ra);
    int t = desc_type(&d);
    if (!desc_is_system(&d) || (t != SYS_TSS32_BUSY && t != SYS_TSS16_BUSY))
        raise_err(env, EXCP_TS, link & 0xfffc, ra);
    if (!desc_present(&d))
        raise_err(env, EXCP_NP, link & 0xfffc, ra);
    /* the old TSS records the instruction after the IRET */
    task_switch(env, link, &d, TASK_FROM_IRET, next_rip, 0, ra);
}

/* Return to virtual-8086 mode (32-bit IRET at CPL 0 with VM set in the image). */
static void iret_to_v86(CPUX86State *env, StackPtr *s, uint64_t rip, uint32_t cs,
                        uint32_t fl, uintptr_t ra)
{
    uint32_t esp = (uint32_t)stack_pop(env, s, 4, ra);
    uint32_t ss = (uint32_t)stack_pop(env, s, 4, ra);
    uint32_t es = (uint32_t)stack_pop(env, s, 4, ra);
    uint32_t ds = (uint32_t)stack_pop(env, s, 4, ra);
    uint32_t fs = (uint32_t)stack_pop(env, s, 4, ra);
    uint32_t gs = (uint32_t)stack_pop(env, s, 4, ra);

    x86_set_eflags(env, fl, FLAGS_ALWAYS | IF_MASK | IOPL_MASK | VM_MASK | VIF_MASK | VIP_MASK);
    seg_load_v86(env, R_CS, (uint16_t)cs);
    seg_load_v86(env, R_SS, (uint16_t)ss);
    seg_load_v86(env, R_ES, (uint16_t)es);
    seg_load_v86(env, R_DS, (uint16_t)ds);
    seg_load_v86(env, R_FS, (uint16_t)fs);
    seg_load_v86(env, R_GS, (uint16_t)gs);
    env->regs[R_ESP] = esp;
    env->rip = rip & 0xffff;
    x86_update_hflags(env);
}

static void iret_protected(CPUX86State *env, int dflag, uint64_t next_rip, uintptr_t ra)
{
    unsigned size = dflag == 2 ? 8 : dflag == 1 ? 4 : 2;
    StackPtr s = stack_current(env, 0);
    Desc d, ssd;

    if (env->eflags & NT_MASK) {
        if (long_mode(env))
            raise_gp0(env, ra);
        iret_task(env, next_rip, ra);
        return;
    }
    uint64_t rip = stack_pop(env, &s, size, ra);
    uint32_t cs = (uint32_t)stack_pop(env, &s, size, ra) & 0xffff;
    uint32_t fl = (uint32_t)stack_pop(env, &s, size, ra);
    int c = cpl(env);

    if (dflag == 1 && (fl & VM_MASK) && c == 0 && !long_mode(env)) {
        iret_to_v86(env, &s, rip, cs, fl, ra);
        return;
    }
    if ((cs & 0xfffc) == 0)
        raise_gp0(env, ra);
    if (!seg_read_desc(env, cs, &d, false, ra))
        raise_err(env, EXCP_GP, cs & 0xfffc, ra);
    int rpl = cs & 3, dpl = desc_dpl(&d);
    if (!desc_is_code(&d) || rpl < c ||
        (desc_is_conforming(&d) ? dpl > rpl : dpl != rpl))
        raise_err(env, EXCP_GP, cs & 0xfffc, ra);
    if (long_mode(env) && (d.hi & DESC_L_MASK) && (d.hi & DESC_B_MASK))
        raise_err(env, EXCP_GP, cs & 0xfffc, ra);
    if (!desc_present(&d))
        raise_err(env, EXCP_NP, cs & 0xfffc, ra);
    bool to64 = long_mode(env) && (d.hi & DESC_L_MASK);
    if (to64 ? (uint64_t)((int64_t)(rip << 16) >> 16) != rip : rip > desc_limit(&d))
        raise_gp0(env, ra);

    uint32_t upd = iret_flag_mask(env, dflag);
    /* 64-bit mode always pops SS:RSP; elsewhere only on a privilege change */
    if (rpl == c && !code64(env)) {
        seg_set_accessed(env, cs, &d, ra);
        set_rsp_masked(env, s.sp, s.mask);
        load_cs_cpl(env, cs, &d, c);
        env->rip = rip;
        x86_set_eflags(env, fl, upd);
        return;
    }
    uint64_t new_sp = stack_pop(env, &s, size, ra);
    uint32_t ss = (uint32_t)stack_pop(env, &s, size, ra) & 0xffff;
    if ((ss & 0xfffc) == 0 && to64 && rpl != 3)
        ssd = (Desc){ 0 };
    else
        seg_check_stack(env, ss, rpl, &ssd, EXCP_GP, 0, ra);

    seg_set_accessed(env, cs, &d, ra);
    if (ss & 0xfffc) {
        seg_set_accessed(env, ss, &ssd, ra);
        seg_cache_load(env, R_SS, ss, &ssd);
    } else {
        seg_load_null(env, R_SS, ss, rpl);
    }
    load_cs_cpl(env, cs, &d, rpl);
    uint64_t new_mask = to64 ? ~0ULL : (ssd.hi & DESC_B_MASK) ? 0xffffffffULL : 0xffff;
    set_rsp_masked(env, new_sp, new_mask);
    env->rip = rip;
    /* the flag mask is decided by the CPL before the return */
    x86_set_eflags(env, fl, upd);
    if (rpl > c)
        seg_null_inaccessible(env, rpl);
    x86_update_hflags(env);
}

/* The linear address of the stack word at SS:(offset & 0xffff), limit-checked
 * (a word at 0xffff is #SS(0)). */
static uint64_t vme_stack_word(CPUX86State *env, uint64_t offset, uintptr_t ra)
{
    return x86_seg_check(env, R_SS, offset & 0xffff, 2, false, ra);
}

/* 16-bit IRET in V86 mode under CR4.VME with IOPL < 3: IF of the image goes
 * to VIF (#GP(0) if that enables with VIP set, or the image has TF). */
static void iret_vme16(CPUX86State *env, uintptr_t ra)
{
    uint64_t sp = env->regs[R_ESP] & 0xffff;
    uint16_t ip = (uint16_t)x86_ld_linear(env, vme_stack_word(env, sp, ra), 2, MMU_USER_IDX, ra);
    uint16_t cs = (uint16_t)x86_ld_linear(env, vme_stack_word(env, sp + 2, ra), 2, MMU_USER_IDX, ra);
    uint16_t fl = (uint16_t)x86_ld_linear(env, vme_stack_word(env, sp + 4, ra), 2, MMU_USER_IDX, ra);

    if (ip > env->segs[R_CS].limit)
        raise_gp0(env, ra);
    x86_vme_load_flags16(env, fl, ra);        /* checks first, then loads */
    set_rsp_masked(env, sp + 6, 0xffff);
    x86_load_seg_real(env, R_CS, cs);
    env->rip = ip;
}

void x86_iret(CPUX86State *env, int dflag, uint64_t next_rip, uintptr_t ra)
{
    if (!prot_mode(env)) {
        iret_real(env, dflag, ra);
    } else if (v86_mode(env)) {
        if (x86_vme_active(env) && dflag == 0) {
            iret_vme16(env, ra);
            env->nmi_masked = false;
            return;
        }
        if (iopl(env) < 3)
            raise_gp0(env, ra);
        iret_real(env, dflag, ra);
    } else {
        iret_protected(env, dflag, next_rip, ra);
    }
    env->nmi_masked = false;
}
