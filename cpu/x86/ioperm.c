/* I/O privilege: IOPL rules for CLI/STI/PUSHF/POPF (with the virtual
 * interrupt flag of CR4.VME/PVI), privileged-instruction checks, and the TSS
 * I/O permission bitmap for IN/OUT/INS/OUTS. */
#include "cpu/x86/seg.h"

void x86_check_cpl0(CPUX86State *env, uintptr_t ra)
{
    if (cpl(env) != 0)
        raise_gp0(env, ra);
}

/* May this code change IF (CLI/STI)? Real mode: yes; V86: IOPL 3; else CPL <= IOPL. */
static bool if_allowed(CPUX86State *env)
{
    if (!prot_mode(env))
        return true;
    if (v86_mode(env))
        return iopl(env) == 3;
    return cpl(env) <= iopl(env);
}

/* CLI/STI act on VIF instead of IF: V86 mode with CR4.VME, or CPL 3 with
 * CR4.PVI, when IOPL < 3. */
static bool virtual_if(CPUX86State *env)
{
    if (!prot_mode(env) || iopl(env) == 3)
        return false;
    if (v86_mode(env))
        return env->cr[4] & CR4_VME;
    return (env->cr[4] & CR4_PVI) && cpl(env) == 3;
}

bool x86_vme_active(CPUX86State *env)
{
    return v86_mode(env) && iopl(env) < 3 && (env->cr[4] & CR4_VME);
}

void x86_cli(CPUX86State *env, uintptr_t ra)
{
    if (virtual_if(env)) {
        env->eflags &= ~(uint64_t)VIF_MASK;
        return;
    }
    if (!if_allowed(env))
        raise_gp0(env, ra);
    env->eflags &= ~(uint64_t)IF_MASK;
}

void x86_sti(CPUX86State *env, uintptr_t ra)
{
    if (virtual_if(env)) {
        if (env->eflags & VIP_MASK)
            raise_gp0(env, ra);        /* a virtual interrupt is pending: let the monitor run */
        env->eflags |= VIF_MASK;
        return;
    }
    if (!if_allowed(env))
        raise_gp0(env, ra);
    env->eflags |= IF_MASK;
}

uint64_t x86_pushf_op(CPUX86State *env, int dflag, uintptr_t ra)
{
    uint32_t fl = x86_get_eflags(env) & ~(uint32_t)(VM_MASK | RF_MASK);

    if (x86_vme_active(env) && dflag == 0) {
        /* the 8086 program sees VIF as IF, and IOPL 3 */
        fl = (fl & ~(uint32_t)IF_MASK) | IOPL_MASK | ((fl & VIF_MASK) ? IF_MASK : 0);
        return fl & 0xffff;
    }
    if (v86_mode(env) && iopl(env) < 3)
        raise_gp0(env, ra);
    return fl;
}

uint64_t x86_pushf(CPUX86State *env, uintptr_t ra)
{
    return x86_pushf_op(env, 1, ra);
}

/* A 16-bit FLAGS image popped by POPF/IRET under VME: IF goes to VIF; a
 * pending virtual interrupt with IF=1, or TF=1, is for the monitor (#GP). */
void x86_vme_load_flags16(CPUX86State *env, uint32_t fl, uintptr_t ra)
{
    if (((fl & IF_MASK) && (env->eflags & VIP_MASK)) || (fl & TF_MASK))
        raise_gp0(env, ra);
    uint32_t upd = CC_MASK | TF_MASK | DF_MASK | NT_MASK;
    x86_set_eflags(env, fl, upd);
    if (fl & IF_MASK)
        env->eflags |= VIF_MASK;
    else
        env->eflags &= ~(uint64_t)VIF_MASK;
}

void x86_popf(CPUX86State *env, uint64_t value, int dflag, uintptr_t ra)
{
    uint32_t mask = CC_MASK | TF_MASK | DF_MASK | NT_MASK | AC_MASK | ID_MASK | RF_MASK;

    if (x86_vme_active(env) && dflag == 0) {
        x86_vme_load_flags16(env, (uint32_t)value & 0xffff, ra);
        return;
    }
    if (v86_mode(env) && iopl(env) < 3)
        raise_gp0(env, ra);
    if (!v86_mode(env) && cpl(env) == 0)
        mask |= IOPL_MASK;
    if (if_allowed(env))
        mask |= IF_MASK;
    if (dflag == 0)
        mask &= 0xffff;
    /* POPF clears RF; VM, VIF and VIP never change */
    x86_set_eflags(env, (uint32_t)value & ~(uint32_t)RF_MASK, mask);
}

void x86_check_io(CPUX86State *env, uint32_t port, unsigned size, uintptr_t ra)
{
    if (!prot_mode(env) || (!v86_mode(env) && cpl(env) <= iopl(env)))
        return;
    int type = (env->tr.flags >> DESC_TYPE_SHIFT) & 15;
    /* only a 32-bit (or 64-bit) TSS has a bitmap */
    if (!(env->tr.flags & DESC_P_MASK) || (type != SYS_TSS32_AVAIL && type != SYS_TSS32_BUSY) ||
        env->tr.limit < 103)
        raise_gp0(env, ra);
    uint32_t map = (uint32_t)x86_ld_linear(env, env->tr.base + 102, 2, SYS_IDX, ra);
    uint32_t off = map + (port >> 3);
    if (off + 1 > env->tr.limit)
        raise_gp0(env, ra);
    uint32_t bits = (uint32_t)x86_ld_linear(env, env->tr.base + off, 2, SYS_IDX, ra);
    uint32_t want = ((1u << size) - 1) << (port & 7);
    if (bits & want)
        raise_gp0(env, ra);
}
