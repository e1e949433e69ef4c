/* Debug registers: MOV to/from DR0-DR7 (DR4/DR5 aliasing, general detect),
 * instruction and data breakpoints, single-step traps with the DR6 bits.
 * The translator contract is in cpu/x86/helpers.h. */
#include "cpu/x86/seg.h"

#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define DR6_FIXED 0xffff0ff0ULL      /* bits that read as 1 */
#define DR6_WRITABLE 0xe00fULL
#define DR7_GD (1u << 13)
#define DR7_FIXED 0x400ULL
#define DR7_WRITABLE 0xffff23ffULL

enum { BP_EXEC = 0, BP_WRITE = 1, BP_IO = 2, BP_RW = 3 };

static bool bp_enabled(uint64_t dr7, int i) { return (dr7 >> (i * 2)) & 3; }
static int bp_type(uint64_t dr7, int i) { return (dr7 >> (16 + i * 4)) & 3; }
static uint64_t bp_len(uint64_t dr7, int i)
{
    static const uint8_t len[4] = { 1, 2, 8, 4 };
    return len[(dr7 >> (18 + i * 4)) & 3];
}

/* MOV DR with DR7.GD set: #DB (fault) with DR6.BD, and GD cleared for the handler. */
static int check_dr_access(CPUX86State *env, int reg, uintptr_t ra)
{
    x86_check_cpl0(env, ra);
    if (reg == 4 || reg == 5) {
        if (env->cr[4] & CR4_DE)
            raise_ud(env, ra);
        reg += 2;
    }
    if (reg > 7)
        raise_ud(env, ra);
    if (env->dr[7] & DR7_GD) {
        env->dr[6] = (env->dr[6] & ~0xfULL) | DR6_BD;
        env->dr[7] &= ~(uint64_t)DR7_GD;
        sys_raise_exception(env, EXCP_DB, 0, ra);
    }
    return reg;
}

void x86_write_dr(CPUX86State *env, int reg, uint64_t value, uintptr_t ra)
{
    reg = check_dr_access(env, reg, ra);
    if (!code64(env))
        value = (uint32_t)value;
    if (reg < 4) {
        env->dr[reg] = value;
    } else if (reg == 6) {
        if (value >> 32)
            raise_gp0(env, ra);
        env->dr[6] = (value & DR6_WRITABLE) | DR6_FIXED;
    } else {
        if (value >> 32)
            raise_gp0(env, ra);
        env->dr[7] = (value & DR7_WRITABLE) | DR7_FIXED;
        tcg_debug_regs_changed(env);
    }
}

uint64_t x86_read_dr(CPUX86State *env, int reg, uintptr_t ra)
{
    reg = check_dr_access(env, reg, ra);
    return env->dr[reg];
}

static bool any_bp(CPUX86State *env, bool exec)
{
    for (int i = 0; i < 4; i++)
        if (bp_enabled(env->dr[7], i) && (bp_type(env->dr[7], i) == BP_EXEC) == exec &&
            bp_type(env->dr[7], i) != BP_IO)
            return true;
    return false;
}

bool x86_insn_breakpoints_enabled(CPUX86State *env)
{
    return any_bp(env, true);
}

bool x86_data_breakpoints_enabled(CPUX86State *env)
{
    return any_bp(env, false);
}

void x86_check_insn_breakpoint(CPUX86State *env, uintptr_t ra)
{
    uint64_t pc = x86_cs_base(env) + env->rip, hits = 0;

    if (!code64(env))
        pc = (uint32_t)pc;
    if (env->eflags & RF_MASK) {
        /* RF suppresses breakpoints for this one instruction; clearing it
         * now is equivalent to clearing it when the instruction completes
         * (if the instruction faults, the fault frame carries RF=1 anyway) */
        env->eflags &= ~(uint64_t)RF_MASK;
        return;
    }
    for (int i = 0; i < 4; i++)
        if (bp_enabled(env->dr[7], i) && bp_type(env->dr[7], i) == BP_EXEC && env->dr[i] == pc)
            hits |= 1u << i;
    if (!hits)
        return;
    env->dr[6] = (env->dr[6] & ~0xfULL) | hits;
    sys_raise_exception(env, EXCP_DB, 0, ra);
}

void x86_debug_data_access(CPUX86State *env, uint64_t linear, unsigned size, bool is_write)
{
    for (int i = 0; i < 4; i++) {
        int type = bp_type(env->dr[7], i);
        if (!bp_enabled(env->dr[7], i) || type == BP_EXEC || type == BP_IO)
            continue;
        if (type == BP_WRITE && !is_write)
            continue;
        uint64_t len = bp_len(env->dr[7], i);
        uint64_t start = env->dr[i] & ~(len - 1);
        if (linear < start + len && linear + size > start)
            env->dr6_pending |= 1u << i;
    }
}

void x86_debug_insn_end(CPUX86State *env, uint64_t next_rip, bool single_step)
{
    uint64_t bits = env->dr6_pending;

    env->eflags &= ~(uint64_t)RF_MASK;      /* the instruction completed */
    if (single_step)
        bits |= DR6_BS;
    if (!bits)
        return;
    env->dr6_pending = 0;
    env->dr[6] = (env->dr[6] & ~0xfULL) | bits;
    env->rip = next_rip;
    sys_raise_exception(env, EXCP_DB, 0, 0);
}
