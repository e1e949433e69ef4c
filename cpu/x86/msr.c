/* Model-specific registers: RDMSR/WRMSR, the guest TSC, RDTSC/RDTSCP/RDPID.
 * Unknown MSRs (and bad values) are #GP, as on hardware. */
#include <stddef.h>
#include "cpu/x86/seg.h"
#include "system/log.h"
#include "system/timer.h"

const X86ApicHooks *x86_apic_hooks;

enum {
    MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APIC_BASE = 0x1b,
    MSR_FEATURE_CONTROL = 0x3a, MSR_UCODE_REV = 0x8b, MSR_MTRRCAP = 0xfe,
    MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
    MSR_ARCH_CAPABILITIES = 0x10a, MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a, MSR_MCG_CTL = 0x17b, MSR_MC0_CTL = 0x400, MSR_MISC_ENABLE = 0x1a0,
    MSR_DEBUGCTL = 0x1d9, MSR_MTRR_VAR = 0x200, MSR_MTRR_FIX64K = 0x250,
    MSR_MTRR_FIX16K = 0x258, MSR_MTRR_FIX4K = 0x268, MSR_PAT = 0x277,
    MSR_MTRR_DEF = 0x2ff, MSR_TSC_DEADLINE = 0x6e0, MSR_X2APIC_FIRST = 0x800,
    MSR_X2APIC_LAST = 0x8ff,
    MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
    MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100,
    MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
};

/* ---- the TSC: X86_TSC_HZ (2 GHz) = 2 ticks per virtual nanosecond ---- */

uint64_t x86_get_tsc(CPUX86State *env)
{
    return (uint64_t)clock_get_ns(CLOCK_VIRTUAL) * (X86_TSC_HZ / NS_PER_SEC) + env->tsc_offset;
}

void x86_set_tsc(CPUX86State *env, uint64_t value)
{
    env->tsc_offset = value - (uint64_t)clock_get_ns(CLOCK_VIRTUAL) * (X86_TSC_HZ / NS_PER_SEC);
}

/* ---- plain storage MSRs: a table of fields ---- */

enum { MSR_ANY, MSR_CANONICAL, MSR_RO };
typedef struct MsrField {
    uint32_t index;
    uint16_t offset;     /* in CPUX86State */
    uint8_t check;
} MsrField;

#define F(idx, field, chk) { idx, offsetof(CPUX86State, field), chk }
static const MsrField msr_fields[] = {
    F(MSR_SYSENTER_CS, sysenter_cs, MSR_ANY),
    F(MSR_SYSENTER_ESP, sysenter_esp, MSR_CANONICAL),
    F(MSR_SYSENTER_EIP, sysenter_eip, MSR_CANONICAL),
    F(MSR_MTRRCAP, mtrr_cap, MSR_RO),
    F(MSR_MTRR_DEF, mtrr_deftype, MSR_ANY),
    F(MSR_STAR, star, MSR_ANY),
    F(MSR_LSTAR, lstar, MSR_CANONICAL),
    F(MSR_CSTAR, cstar, MSR_CANONICAL),
    F(MSR_FMASK, fmask, MSR_ANY),
    F(MSR_FS_BASE, segs[R_FS].base, MSR_CANONICAL),
    F(MSR_GS_BASE, segs[R_GS].base, MSR_CANONICAL),
    F(MSR_KERNEL_GS_BASE, kernel_gs_base, MSR_CANONICAL),
};
#undef F

static uint64_t *msr_field(CPUX86State *env, uint32_t index, int *check)
{
    for (size_t i = 0; i < ARRAY_SIZE(msr_fields); i++) {
        if (msr_fields[i].index == index) {
            *check = msr_fields[i].check;
            return (uint64_t *)((char *)env + msr_fields[i].offset);
        }
    }
    return NULL;
}

/* Index into env->mtrr_fixed for the 11 fixed-range MTRRs, or -1. */
static int mtrr_fixed_index(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX64K)
        return 0;
    if (msr == MSR_MTRR_FIX16K || msr == MSR_MTRR_FIX16K + 1)
        return 1 + (int)(msr - MSR_MTRR_FIX16K);
    if (msr >= MSR_MTRR_FIX4K && msr < MSR_MTRR_FIX4K + 8)
        return 3 + (int)(msr - MSR_MTRR_FIX4K);
    return -1;
}

static bool is_canonical48(uint64_t v)
{
    return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

/* Each PAT entry must be a defined memory type: UC, WC, WT, WP, WB, UC-. */
static bool pat_valid(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (v >> (8 * i)) & 0xff;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

/* IA32_ARCH_CAPABILITIES: every "not affected" bit that describes a CPU
 * whose memory accesses, branches and returns all retire in program order.
 * The translator predicts nothing and leaves no speculative footprint a
 * guest could time, so none of these attacks exists on this CPU. Left clear:
 * IBRS_ALL (1), RSBA (2), RRSBA (19) (no branch predictors to restrict; with
 * them Linux would program IA32_SPEC_CTRL, which is not modelled),
 * TSX_CTRL (7), FB_CLEAR (17), GDS_CTRL (25), RFDS_CLEAR (28) (no such
 * controls). ITS_NO (62) is a bit hypervisors synthesize
 * (hardware never sets it); the model is a virtual CPU (CPUID.1:ECX[31]), so
 * it states it, and without it Linux assumes any Intel guest may run on an
 * affected host and sends every RET through a thunk. */
#define ARCH_CAPABILITIES_VALUE                                                    \
    ((1ull << 0) |  /* RDCL_NO: no rogue data cache load (Meltdown): no KPTI */    \
     (1ull << 4) |  /* SSB_NO: loads never bypass older stores */                  \
     (1ull << 5) |  /* MDS_NO: no microarchitectural data sampling */              \
     (1ull << 6) |  /* IF_PSCHANGE_MC_NO: page-size changes never machine-check */ \
     (1ull << 8) |  /* TAA_NO: no TSX asynchronous abort */                        \
     (1ull << 13) | /* SBDR_SSDP_NO: MMIO stale data, SBDR/SSDP variants */        \
     (1ull << 14) | /* FBSDP_NO: MMIO stale data, fill buffer variant */           \
     (1ull << 15) | /* PSDP_NO: MMIO stale data, primary stale data variant */     \
     (1ull << 20) | /* BHI_NO: no branch history injection */                      \
     (1ull << 24) | /* PBRSB_NO: no post-barrier return stack predictions */       \
     (1ull << 26) | /* GDS_NO: no gather data sampling */                          \
     (1ull << 27) | /* RFDS_NO: no register file data sampling */                  \
     (1ull << 62))  /* ITS_NO: no indirect target selection */

/* MCG_CAP: the bank count, and MCG_CTL_P (bit 8): MCG_CTL is present. */
#define MCG_CAP_VALUE ((uint64_t)X86_MCE_BANKS | (1u << 8))

static uint64_t efer_valid_bits(void)
{
    uint64_t v = EFER_SCE | EFER_LME | EFER_LMA;
    if (x86_cpu_has(X86_FEAT_NX))
        v |= EFER_NXE;
    return v;
}

/* MCi_CTL takes any value; MCi_STATUS only 0 (no software error injection,
 * MCG_CAP.SER_P clear); MCi_ADDR/MISC are storage. */
static int write_mce_bank(CPUX86State *env, uint32_t idx, uint64_t value)
{
    if ((idx & 3) == 1 && value != 0)
        return -1;
    env->mce_banks[idx] = value;
    return 0;
}

int x86_msr_read(CPUX86State *env, uint32_t msr, uint64_t *value)
{
    int check, fixed;
    uint64_t *field = msr_field(env, msr, &check);

    if (field) {
        *value = *field;
        return 0;
    }
    if ((fixed = mtrr_fixed_index(msr)) >= 0) {
        *value = env->mtrr_fixed[fixed];
        return 0;
    }
    if (msr >= MSR_MTRR_VAR && msr < MSR_MTRR_VAR + 16) {
        *value = env->mtrr_var[msr - MSR_MTRR_VAR];
        return 0;
    }
    if (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * X86_MCE_BANKS) {
        *value = env->mce_banks[msr - MSR_MC0_CTL];
        return 0;
    }
    if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) {
        if (!env->apic || !x86_apic_hooks || !x86_apic_hooks->msr_read)
            return -1;
        return x86_apic_hooks->msr_read(env->apic, msr, value);
    }
    switch (msr) {
    case MSR_TSC: *value = x86_get_tsc(env); return 0;
    case MSR_PLATFORM_ID: *value = 0; return 0;
    case MSR_APIC_BASE: *value = env->apic_base; return 0;
    case MSR_FEATURE_CONTROL: *value = 1; return 0;     /* locked, no VMX/SMX */
    case MSR_UCODE_REV: *value = 0; return 0;
    case MSR_ARCH_CAPABILITIES:
        if (!x86_cpu_has(X86_FEAT_ARCH_CAPABILITIES))
            return -1;
        *value = ARCH_CAPABILITIES_VALUE;
        return 0;
    case MSR_MCG_CAP: *value = MCG_CAP_VALUE; return 0;
    case MSR_MCG_STATUS: *value = env->mcg_status; return 0;
    case MSR_MCG_CTL: *value = env->mcg_ctl; return 0;
    case MSR_MISC_ENABLE: *value = env->misc_enable; return 0;
    case MSR_DEBUGCTL: *value = 0; return 0;
    case MSR_PAT: *value = env->pat; return 0;
    case MSR_TSC_DEADLINE: *value = env->tsc_deadline; return 0;
    case MSR_EFER: *value = env->efer; return 0;
    case MSR_TSC_AUX:
        if (!x86_cpu_has(X86_FEAT_RDTSCP) && !x86_cpu_has(X86_FEAT_RDPID))
            return -1;
        *value = env->tsc_aux;
        return 0;
    }
    return -1;
}

static int write_efer(CPUX86State *env, uint64_t value)
{
    if (value & ~efer_valid_bits())
        return -1;
    /* LME cannot change while paging is on; LMA is read-only */
    if ((env->cr[0] & CR0_PG) && ((value ^ env->efer) & EFER_LME))
        return -1;
    value = (value & ~(uint64_t)EFER_LMA) | (env->efer & EFER_LMA);
    x86_set_efer(env, value);
    return 0;
}

static int write_apic_base(CPUX86State *env, uint64_t value)
{
    /* bits 7:0, 9 and 63:MAXPHYADDR are reserved; 10 (x2APIC) needs x2APIC */
    uint64_t rsvd = 0x2ffULL | ~((1ULL << 40) - 1);
    if (!x86_cpu_has_x2apic(env))
        rsvd |= 1u << 10;
    if (value & rsvd)
        return -1;
    env->apic_base = value;
    if (env->apic && x86_apic_hooks && x86_apic_hooks->set_base)
        x86_apic_hooks->set_base(env->apic, value);
    return 0;
}

int x86_msr_write(CPUX86State *env, uint32_t msr, uint64_t value)
{
    int check, fixed;
    uint64_t *field = msr_field(env, msr, &check);

    if (field) {
        if (check == MSR_RO || (check == MSR_CANONICAL && !is_canonical48(value)))
            return -1;
        *field = value;
        return 0;
    }
    if ((fixed = mtrr_fixed_index(msr)) >= 0) {
        env->mtrr_fixed[fixed] = value;
        return 0;
    }
    if (msr >= MSR_MTRR_VAR && msr < MSR_MTRR_VAR + 16) {
        env->mtrr_var[msr - MSR_MTRR_VAR] = value;
        return 0;
    }
    if (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * X86_MCE_BANKS)
        return write_mce_bank(env, msr - MSR_MC0_CTL, value);
    if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) {
        if (!env->apic || !x86_apic_hooks || !x86_apic_hooks->msr_write)
            return -1;
        return x86_apic_hooks->msr_write(env->apic, msr, value);
    }
    switch (msr) {
    case MSR_TSC: x86_set_tsc(env, value); return 0;
    case MSR_APIC_BASE: return write_apic_base(env, value);
    case MSR_UCODE_REV: return 0;                       /* the microcode-revision ritual */
    case MSR_MCG_STATUS: return value ? -1 : 0;
    case MSR_MCG_CTL:
        /* all ones or all zeros enable or disable every feature (SDM 15.3.1.3) */
        if (value != 0 && value != ~0ULL)
            return -1;
        env->mcg_ctl = value;
        return 0;
    case MSR_MISC_ENABLE: env->misc_enable = value; return 0;
    case MSR_DEBUGCTL: return value ? -1 : 0;
    case MSR_PAT:
        if (!pat_valid(value))
            return -1;
        env->pat = value;
        return 0;
    case MSR_TSC_DEADLINE:
        env->tsc_deadline = value;
        if (env->apic && x86_apic_hooks && x86_apic_hooks->set_tsc_deadline)
            x86_apic_hooks->set_tsc_deadline(env->apic, value);
        return 0;
    case MSR_EFER: return write_efer(env, value);
    case MSR_TSC_AUX:
        if ((!x86_cpu_has(X86_FEAT_RDTSCP) && !x86_cpu_has(X86_FEAT_RDPID)) || (value >> 32))
            return -1;
        env->tsc_aux = value;
        return 0;
    }
    return -1;
}

void x86_rdmsr(CPUX86State *env, uintptr_t ra)
{
    uint32_t msr = (uint32_t)env->regs[R_ECX];
    uint64_t v;

    x86_check_cpl0(env, ra);
    if (x86_msr_read(env, msr, &v) < 0) {
        LOG_ONCE(LOG_UNIMP, msr, "rdmsr: unknown or unreadable MSR %#x (#GP)\n", msr);
        raise_gp0(env, ra);
    }
    env->regs[R_EAX] = (uint32_t)v;
    env->regs[R_EDX] = (uint32_t)(v >> 32);
}

void x86_wrmsr(CPUX86State *env, uintptr_t ra)
{
    uint32_t msr = (uint32_t)env->regs[R_ECX];
    uint64_t v = (uint32_t)env->regs[R_EAX] | (env->regs[R_EDX] << 32);

    x86_check_cpl0(env, ra);
    if (x86_msr_write(env, msr, v) < 0) {
        LOG_ONCE(LOG_UNIMP, msr, "wrmsr: unknown MSR or bad value %#x <- %#llx (#GP)\n",
                 msr, (unsigned long long)v);
        raise_gp0(env, ra);
    }
}

static void check_tsd(CPUX86State *env, uintptr_t ra)
{
    if ((env->cr[4] & CR4_TSD) && cpl(env) != 0)
        raise_gp0(env, ra);
}

void x86_rdtsc(CPUX86State *env, uintptr_t ra)
{
    check_tsd(env, ra);
    uint64_t tsc = x86_get_tsc(env);
    env->regs[R_EAX] = (uint32_t)tsc;
    env->regs[R_EDX] = (uint32_t)(tsc >> 32);
}

void x86_rdtscp(CPUX86State *env, uintptr_t ra)
{
    if (!x86_cpu_has(X86_FEAT_RDTSCP))
        raise_ud(env, ra);
    x86_rdtsc(env, ra);
    env->regs[R_ECX] = (uint32_t)env->tsc_aux;
}

uint64_t x86_rdpid(CPUX86State *env, uintptr_t ra)
{
    if (!x86_cpu_has(X86_FEAT_RDPID))
        raise_ud(env, ra);
    return env->tsc_aux;
}
