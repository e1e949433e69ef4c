/* MOV to/from control registers, LMSW, CLTS, XSETBV: the mode switches
 * (paging, long-mode activation) with their reserved-bit and consistency checks. */
#include "cpu/x86/seg.h"

#define CR0_DEFINED (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | \
                     CR0_AM | CR0_NW | CR0_CD | CR0_PG)
#define CR3_LONG_RESERVED (~((1ULL << 40) - 1))

/* CR4 bits the model supports (the rest are reserved: #GP). */
static uint64_t cr4_valid(void)
{
    uint64_t v = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE |
                 CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (x86_cpu_has(X86_FEAT_VME))
        v |= CR4_VME | CR4_PVI;
    if (x86_cpu_has(X86_FEAT_MCE))
        v |= CR4_MCE;
    if (x86_cpu_has(X86_FEAT_SMEP))
        v |= CR4_SMEP;
    if (x86_cpu_has(X86_FEAT_SMAP))
        v |= CR4_SMAP;
    if (x86_cpu_has(X86_FEAT_FSGSBASE))
        v |= CR4_FSGSBASE;
    if (x86_cpu_has(X86_FEAT_XSAVE))
        v |= CR4_OSXSAVE;
    if (x86_cpu_has(X86_FEAT_UMIP))
        v |= CR4_UMIP;
    if (x86_cpu_has(X86_FEAT_PCID))
        v |= CR4_PCIDE;
    return v;
}

void x86_set_cr0(CPUX86State *env, uint64_t value)
{
    uint64_t old = env->cr[0];

    value |= CR0_ET;
    if ((value & CR0_PG) && !(old & CR0_PG) && (env->efer & EFER_LME))
        env->efer |= EFER_LMA;
    if (!(value & CR0_PG) && (old & CR0_PG))
        env->efer &= ~(uint64_t)EFER_LMA;
    env->cr[0] = value;
    if ((old ^ value) & (CR0_PG | CR0_WP | CR0_PE))
        sys_tlb_flush(env);
    x86_update_hflags(env);
}

void x86_set_cr4(CPUX86State *env, uint64_t value)
{
    uint64_t old = env->cr[4];
    env->cr[4] = value;
    /* Toggling PGE drops global entries too (SDM 4.10.4.1); PAE, PSE, SMEP
     * and SMAP change what the TLB's cached rights mean: drop all as well. */
    if ((old ^ value) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PCIDE))
        sys_tlb_flush(env);
    x86_update_hflags(env);
}

void x86_set_efer(CPUX86State *env, uint64_t value)
{
    uint64_t old = env->efer;
    env->efer = value;
    if ((old ^ value) & (EFER_NXE | EFER_LMA))
        sys_tlb_flush(env);
    x86_update_hflags(env);
}

/* Legacy PAE paging loads the four PDPTEs when CR3/CR0/CR4 change; a
 * reserved bit in a present one is a #GP on that MOV. */
static void check_pdptes(CPUX86State *env, uint64_t cr0, uint64_t cr3, uint64_t cr4,
                         uintptr_t ra)
{
    if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (env->efer & EFER_LMA) ||
        ((env->efer & EFER_LME) && !(env->cr[0] & CR0_PG)))
        return;
    if (!x86_pae_pdptes_valid(env, cr3))
        raise_gp0(env, ra);
}

static void write_cr0(CPUX86State *env, uint64_t value, uintptr_t ra)
{
    uint64_t old = env->cr[0];

    if (value >> 32)
        raise_gp0(env, ra);
    value = (value & CR0_DEFINED) | CR0_ET;
    if (((value & CR0_PG) && !(value & CR0_PE)) || ((value & CR0_NW) && !(value & CR0_CD)))
        raise_gp0(env, ra);
    if ((value & CR0_PG) && !(old & CR0_PG) && (env->efer & EFER_LME)) {
        /* long-mode activation needs PAE and must not start in 64-bit code */
        if (!(env->cr[4] & CR4_PAE) || (env->segs[R_CS].flags & DESC_L_MASK))
            raise_gp0(env, ra);
    }
    if (!(value & CR0_PG) && (old & CR0_PG) && (code64(env) || (env->cr[4] & CR4_PCIDE)))
        raise_gp0(env, ra);   /* leaving long mode needs CR4.PCIDE clear first */
    if ((value & CR0_PG) && !(old & CR0_PG))
        check_pdptes(env, value, env->cr[3], env->cr[4], ra);
    x86_set_cr0(env, value);
}

static void write_cr4(CPUX86State *env, uint64_t value, uintptr_t ra)
{
    if (value & ~cr4_valid())
        raise_gp0(env, ra);
    if ((env->efer & EFER_LMA) && !(value & CR4_PAE))
        raise_gp0(env, ra);
    /* PCIDE: IA-32e mode only, and set only while the current PCID is 0 */
    if ((value & CR4_PCIDE) && !(env->cr[4] & CR4_PCIDE) &&
        (!(env->efer & EFER_LMA) || (env->cr[3] & 0xfff)))
        raise_gp0(env, ra);
    if ((value ^ env->cr[4]) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP))
        check_pdptes(env, env->cr[0], env->cr[3], value, ra);
    x86_set_cr4(env, value);
}

static void write_cr3(CPUX86State *env, uint64_t value, uintptr_t ra)
{
    bool keep = false;
    if (env->efer & EFER_LMA) {
        /* CR4.PCIDE: bit 63 keeps the new PCID's TLB entries; it is not stored */
        if (env->cr[4] & CR4_PCIDE) {
            keep = value >> 63;
            value &= ~(1ULL << 63);
        }
        if (value & CR3_LONG_RESERVED)
            raise_gp0(env, ra);
    } else {
        value = (uint32_t)value;
        check_pdptes(env, env->cr[0], value, env->cr[4], ra);
    }
    env->cr[3] = value;
    sys_tlb_cr3_written(env, keep);   /* global pages stay (CR4.PGE) */
}

static void write_cr8(CPUX86State *env, uint64_t value, uintptr_t ra)
{
    if (value & ~0xfULL)
        raise_gp0(env, ra);
    env->cr8 = value;
    if (env->apic && x86_apic_hooks && x86_apic_hooks->set_tpr)
        x86_apic_hooks->set_tpr(env->apic, (uint8_t)value);
}

void x86_write_cr(CPUX86State *env, int reg, uint64_t value, uintptr_t ra)
{
    if (reg == 1 || (reg > 4 && reg != 8))
        raise_ud(env, ra);
    x86_check_cpl0(env, ra);
    switch (reg) {
    case 0: write_cr0(env, value, ra); break;
    case 2: env->cr[2] = value; break;
    case 3: write_cr3(env, value, ra); break;
    case 4: write_cr4(env, value, ra); break;
    case 8: write_cr8(env, value, ra); break;
    }
}

uint64_t x86_read_cr(CPUX86State *env, int reg, uintptr_t ra)
{
    if (reg == 1 || (reg > 4 && reg != 8))
        raise_ud(env, ra);
    x86_check_cpl0(env, ra);
    if (reg == 8) {
        if (env->apic && x86_apic_hooks && x86_apic_hooks->get_tpr)
            env->cr8 = x86_apic_hooks->get_tpr(env->apic) & 0xf;
        return env->cr8;
    }
    return env->cr[reg];
}

void x86_lmsw(CPUX86State *env, uint32_t value, uintptr_t ra)
{
    x86_check_cpl0(env, ra);
    /* only MP, EM, TS and PE; PE can be set but not cleared */
    uint64_t cr0 = (env->cr[0] & ~0xeULL) | (value & 0xf) | (env->cr[0] & CR0_PE);
    x86_set_cr0(env, cr0);
}

void x86_clts(CPUX86State *env, uintptr_t ra)
{
    x86_check_cpl0(env, ra);
    env->cr[0] &= ~(uint64_t)CR0_TS;
    x86_update_hflags(env);
}

#define XCR0_X87 1ULL
#define XCR0_SSE 2ULL
#define XCR0_AVX 4ULL

uint64_t x86_xcr0_supported(void)
{
    return XCR0_X87 | XCR0_SSE | (x86_cpu_has(X86_FEAT_AVX) ? XCR0_AVX : 0);
}

void x86_xsetbv(CPUX86State *env, uintptr_t ra)
{
    uint64_t v = (uint32_t)env->regs[R_EAX] | (env->regs[R_EDX] << 32);

    if (!(env->cr[4] & CR4_OSXSAVE))
        raise_ud(env, ra);
    x86_check_cpl0(env, ra);
    if ((uint32_t)env->regs[R_ECX] != 0 || !(v & XCR0_X87) || (v & ~x86_xcr0_supported()) ||
        ((v & XCR0_AVX) && !(v & XCR0_SSE)))
        raise_gp0(env, ra);
    env->xcr0 = v;
}
