/* Fast system calls: SYSCALL/SYSRET (long mode, and the legacy form with
 * EFER.SCE), SYSENTER/SYSEXIT (incl. the 64-bit SYSEXIT), SWAPGS. They load
 * flat segments without reading descriptors, as the hardware does. */
#include "cpu/x86/seg.h"

/* A flat 4 GiB segment with the given selector and privilege. */
static void load_flat(CPUX86State *env, int seg, uint32_t selector, int dpl, bool code,
                      bool code64)
{
    SegmentCache *s = &env->segs[seg];
    s->selector = (uint16_t)selector;
    s->base = 0;
    s->limit = 0xffffffff;
    s->flags = DESC_P_MASK | DESC_S_MASK | DESC_G_MASK | DESC_A_MASK |
               (uint32_t)dpl << DESC_DPL_SHIFT |
               (code ? DESC_CS_MASK | DESC_R_MASK : DESC_W_MASK) |
               (code64 ? DESC_L_MASK : DESC_B_MASK);
}

void x86_syscall(CPUX86State *env, uint64_t next_rip, uintptr_t ra)
{
    if (!(env->efer & EFER_SCE))
        raise_ud(env, ra);
    uint32_t sel = (uint32_t)(env->star >> 32) & 0xffff;
    uint32_t flags = x86_get_eflags(env);

    if (long_mode(env)) {
        bool from64 = code64(env);
        env->regs[R_ECX] = next_rip;
        env->regs[R_R11] = flags & ~(uint32_t)RF_MASK;
        load_flat(env, R_CS, sel & 0xfffc, 0, true, true);
        load_flat(env, R_SS, (sel + 8) & 0xfffc, 0, false, false);
        x86_set_eflags(env, flags & ~(uint32_t)env->fmask & ~(uint32_t)RF_MASK, ~0u);
        env->rip = from64 ? env->lstar : env->cstar;
    } else {
        env->regs[R_ECX] = (uint32_t)next_rip;
        load_flat(env, R_CS, sel & 0xfffc, 0, true, false);
        load_flat(env, R_SS, (sel + 8) & 0xfffc, 0, false, false);
        x86_set_eflags(env, flags & ~(uint32_t)(IF_MASK | VM_MASK | RF_MASK), ~0u);
        env->rip = (uint32_t)env->star;
    }
    x86_update_hflags(env);
}

void x86_sysret(CPUX86State *env, int dflag, uintptr_t ra)
{
    if (!(env->efer & EFER_SCE))
        raise_ud(env, ra);
    if (!prot_mode(env) || cpl(env) != 0)
        raise_gp0(env, ra);
    uint32_t sel = (uint32_t)(env->star >> 48) & 0xffff;

    if (long_mode(env)) {
        uint64_t rip = env->regs[R_ECX];
        if (dflag == 2 && !x86_is_canonical(env, rip))
            raise_gp0(env, ra);
        if (dflag == 2)
            load_flat(env, R_CS, ((sel + 16) & 0xfffc) | 3, 3, true, true);
        else
            load_flat(env, R_CS, (sel & 0xfffc) | 3, 3, true, false);
        load_flat(env, R_SS, ((sel + 8) & 0xfffc) | 3, 3, false, false);
        x86_set_eflags(env, (uint32_t)env->regs[R_R11] & ~(uint32_t)(RF_MASK | VM_MASK), ~0u);
        env->rip = dflag == 2 ? rip : (uint32_t)rip;
    } else {
        load_flat(env, R_CS, (sel & 0xfffc) | 3, 3, true, false);
        load_flat(env, R_SS, ((sel + 8) & 0xfffc) | 3, 3, false, false);
        env->eflags |= IF_MASK;
        env->rip = (uint32_t)env->regs[R_ECX];
    }
    x86_update_hflags(env);
}

void x86_sysenter(CPUX86State *env, uintptr_t ra)
{
    uint32_t sel = (uint32_t)env->sysenter_cs & 0xfffc;

    if (!prot_mode(env) || sel == 0)
        raise_gp0(env, ra);
    bool lm = long_mode(env);
    env->eflags &= ~(uint64_t)(VM_MASK | IF_MASK | RF_MASK);
    load_flat(env, R_CS, sel, 0, true, lm);
    load_flat(env, R_SS, sel + 8, 0, false, false);
    env->regs[R_ESP] = lm ? env->sysenter_esp : (uint32_t)env->sysenter_esp;
    env->rip = lm ? env->sysenter_eip : (uint32_t)env->sysenter_eip;
    x86_update_hflags(env);
}

void x86_sysexit(CPUX86State *env, int dflag, uintptr_t ra)
{
    uint32_t sel = (uint32_t)env->sysenter_cs & 0xfffc;

    if (!prot_mode(env) || v86_mode(env) || cpl(env) != 0 || sel == 0)
        raise_gp0(env, ra);
    if (dflag == 2) {
        if (!x86_is_canonical(env, env->regs[R_EDX]) || !x86_is_canonical(env, env->regs[R_ECX]))
            raise_gp0(env, ra);
        load_flat(env, R_CS, (sel + 32) | 3, 3, true, true);
        load_flat(env, R_SS, (sel + 40) | 3, 3, false, false);
        env->regs[R_ESP] = env->regs[R_ECX];
        env->rip = env->regs[R_EDX];
    } else {
        load_flat(env, R_CS, (sel + 16) | 3, 3, true, false);
        load_flat(env, R_SS, (sel + 24) | 3, 3, false, false);
        env->regs[R_ESP] = (uint32_t)env->regs[R_ECX];
        env->rip = (uint32_t)env->regs[R_EDX];
    }
    x86_update_hflags(env);
}

void x86_swapgs(CPUX86State *env, uintptr_t ra)
{
    if (!code64(env))
        raise_ud(env, ra);
    if (cpl(env) != 0)
        raise_gp0(env, ra);
    uint64_t t = env->segs[R_GS].base;
    env->segs[R_GS].base = env->kernel_gs_base;
    env->kernel_gs_base = t;
}
