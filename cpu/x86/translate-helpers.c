/* C helpers for translated x86 code: arithmetic with involved flag rules,
 * division, BCD, stack frames, port I/O, and the glue that adds the host
 * return address to the system helpers of cpu/x86/helpers.h. */
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/translate-helpers.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/memory.h"
#include "system/gdbstub.h"
#include "system/util.h"

/* ---- lazy flags ------------------------------------------------------------ */
uint64_t helper_cc_flags(uint64_t cc_op, uint64_t dst, uint64_t src, uint64_t src2)
{
    return cc_flags((uint32_t)cc_op, dst, src, src2);
}

uint64_t helper_cc_carry(uint64_t cc_op, uint64_t dst, uint64_t src, uint64_t src2)
{
    return cc_carry((uint32_t)cc_op, dst, src, src2);
}

_Noreturn void helper_raise_exception(CPUX86State *env, uint64_t vector, uint64_t error_code)
{
    x86_raise_exception(env, (int)vector, (int)error_code, 0);
}

_Noreturn void x86_fetch_fault(CPUX86State *env, uint64_t pc)
{
    uint64_t lin = x86_cs_base(env) + pc, ps;
    int prot;
    if (!(env->hflags & HF_CS64_MASK))
        lin = (uint32_t)lin;
    x86_tlb_fill(env, lin, X86_ACCESS_FETCH, x86_mmu_index(env), &prot, &ps, 0);
    /* Mapped, but not memory we can execute from (e.g. MMIO). */
    x86_raise_exception(env, EXCP_GP, 0, 0);
}

/* ---- register access by size ------------------------------------------------- */
static void set_reg(CPUX86State *env, int reg, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: env->regs[reg] = (env->regs[reg] & ~0xffULL) | (v & 0xff); break;
    case 2: env->regs[reg] = (env->regs[reg] & ~0xffffULL) | (v & 0xffff); break;
    case 4: env->regs[reg] = (uint32_t)v; break;
    default: env->regs[reg] = v; break;
    }
}

static uint32_t parity_flag(uint64_t v)
{
    return __builtin_parity((unsigned)(v & 0xff)) ? 0 : CC_P;
}

static uint32_t zsp_flags(uint64_t v, unsigned size)
{
    v &= size_mask(size);
    return (v == 0 ? CC_Z : 0) | ((v >> (size * 8 - 1)) & 1 ? CC_S : 0) | parity_flag(v);
}

static inline uint64_t msb(uint64_t v, unsigned bits) { return (v >> (bits - 1)) & 1; }

/* ---- shifts and rotates -------------------------------------------------------- */
uint64_t helper_shift(CPUX86State *env, uint64_t op, uint64_t size, uint64_t value, uint64_t count)
{
    unsigned bits = size * 8;
    uint64_t m = size_mask(size), v = value & m, r = v;
    count &= size == 8 ? 63 : 31;
    if (count == 0)
        return value;
    uint32_t flags = cc_compute_all(env), cf = flags & CC_C, of;
    switch (op) {
    case SHIFT_ROL: {
        unsigned c = count % bits;
        if (c)
            r = ((v << c) | (v >> (bits - c))) & m;
        cf = r & 1;
        of = msb(r, bits) ^ cf;
        flags = (flags & ~(CC_C | CC_O)) | cf | (of ? CC_O : 0);
        break;
    }
    case SHIFT_ROR: {
        unsigned c = count % bits;
        if (c)
            r = ((v >> c) | (v << (bits - c))) & m;
        cf = msb(r, bits);
        of = msb(r, bits) ^ ((r >> (bits - 2)) & 1);
        flags = (flags & ~(CC_C | CC_O)) | cf | (of ? CC_O : 0);
        break;
    }
    case SHIFT_RCL: case SHIFT_RCR: {
        unsigned c = count % (bits + 1);
        for (unsigned i = 0; i < c; i++) {
            uint32_t ncf;
            if (op == SHIFT_RCL) {
                ncf = msb(r, bits);
                r = ((r << 1) | cf) & m;
            } else {
                ncf = r & 1;
                r = (r >> 1) | ((uint64_t)cf << (bits - 1));
            }
            cf = ncf;
        }
        if (op == SHIFT_RCL)
            of = msb(r, bits) ^ cf;
        else
            of = msb(r, bits) ^ ((r >> (bits - 2)) & 1);
        flags = (flags & ~(CC_C | CC_O)) | cf | (of ? CC_O : 0);
        break;
    }
    case SHIFT_SHL: case SHIFT_SAL:
        r = count < bits ? (v << count) & m : 0;
        cf = count <= bits ? (v >> (bits - count)) & 1 : 0;
        of = msb(r, bits) ^ cf;
        flags = cf | (of ? CC_O : 0) | zsp_flags(r, size);
        break;
    case SHIFT_SHR:
        r = count < bits ? v >> count : 0;
        cf = count <= bits ? (v >> (count - 1)) & 1 : 0;
        flags = cf | (msb(v, bits) ? CC_O : 0) | zsp_flags(r, size);
        break;
    default: { /* SAR */
        int64_t sv = (int64_t)(v << (64 - bits)) >> (64 - bits);
        r = (uint64_t)(sv >> (count < 64 ? count : 63)) & m;
        cf = (sv >> (count - 1 < 63 ? count - 1 : 63)) & 1;
        flags = cf | zsp_flags(r, size);
        break;
    }
    }
    cc_set_all(env, flags);
    return r;
}

uint64_t helper_shld(CPUX86State *env, uint64_t size, uint64_t dst, uint64_t src, uint64_t count)
{
    unsigned bits = size * 8;
    uint64_t m = size_mask(size), r, cf;
    count &= size == 8 ? 63 : 31;
    if (count == 0)
        return dst;
    dst &= m;
    src &= m;
    if (size == 8) {
        r = (dst << count) | (src >> (64 - count));
        cf = (dst >> (64 - count)) & 1;
    } else {
        /* dst:src:dst as a wide value covers counts up to 31 for 16-bit operands. */
        unsigned __int128 w = ((unsigned __int128)dst << (2 * bits)) |
                              ((unsigned __int128)src << bits) | dst;
        r = (uint64_t)((w << count) >> (2 * bits)) & m;
        cf = (uint64_t)(w >> (3 * bits - count)) & 1;
    }
    uint32_t of = msb(r, bits) ^ msb(dst, bits);
    cc_set_all(env, (uint32_t)cf | (of ? CC_O : 0) | zsp_flags(r, size));
    return r;
}

uint64_t helper_shrd(CPUX86State *env, uint64_t size, uint64_t dst, uint64_t src, uint64_t count)
{
    unsigned bits = size * 8;
    uint64_t m = size_mask(size), r, cf;
    count &= size == 8 ? 63 : 31;
    if (count == 0)
        return dst;
    dst &= m;
    src &= m;
    if (size == 8) {
        r = (dst >> count) | (src << (64 - count));
        cf = (dst >> (count - 1)) & 1;
    } else {
        unsigned __int128 w = ((unsigned __int128)dst << (2 * bits)) |
                              ((unsigned __int128)src << bits) | dst;
        r = (uint64_t)(w >> count) & m;
        cf = (uint64_t)(w >> (count - 1)) & 1;
    }
    uint32_t of = msb(r, bits) ^ msb(dst, bits);
    cc_set_all(env, (uint32_t)cf | (of ? CC_O : 0) | zsp_flags(r, size));
    return r;
}

/* ---- division ------------------------------------------------------------------ */
void helper_div(CPUX86State *env, uint64_t size, uint64_t divisor)
{
    uintptr_t ra = GETPC();
    uint64_t m = size_mask(size);
    divisor &= m;
    if (divisor == 0)
        x86_raise_exception(env, EXCP_DE, 0, ra);
    if (size == 1) {
        uint32_t n = env->regs[R_EAX] & 0xffff, q = n / divisor, r = n % divisor;
        if (q > 0xff)
            x86_raise_exception(env, EXCP_DE, 0, ra);
        set_reg(env, R_EAX, 2, (r << 8) | q);
        return;
    }
    unsigned bits = size * 8;
    unsigned __int128 n = ((unsigned __int128)(env->regs[R_EDX] & m) << bits) | (env->regs[R_EAX] & m);
    unsigned __int128 q = n / divisor, r = n % divisor;
    if (q > m)
        x86_raise_exception(env, EXCP_DE, 0, ra);
    set_reg(env, R_EAX, size, (uint64_t)q);
    set_reg(env, R_EDX, size, (uint64_t)r);
}

void helper_idiv(CPUX86State *env, uint64_t size, uint64_t divisor)
{
    uintptr_t ra = GETPC();
    unsigned bits = size * 8;
    int64_t d = (int64_t)(divisor << (64 - bits)) >> (64 - bits);
    if (d == 0)
        x86_raise_exception(env, EXCP_DE, 0, ra);
    __int128 n;
    if (size == 1) {
        n = (int16_t)env->regs[R_EAX];
    } else {
        uint64_t m = size_mask(size);
        unsigned __int128 u = ((unsigned __int128)(env->regs[R_EDX] & m) << bits) |
                              (env->regs[R_EAX] & m);
        /* sign-extend the 2*bits-wide dividend */
        unsigned sh = 128 - 2 * bits;
        n = (__int128)(u << sh) >> sh;
    }
    __int128 min128 = (__int128)((unsigned __int128)1 << 127);
    if (d == -1 && n == min128)
        x86_raise_exception(env, EXCP_DE, 0, ra);
    __int128 q = n / d, r = n % d;
    __int128 lo = -((__int128)1 << (bits - 1)), hi = ((__int128)1 << (bits - 1)) - 1;
    if (q < lo || q > hi)
        x86_raise_exception(env, EXCP_DE, 0, ra);
    if (size == 1) {
        set_reg(env, R_EAX, 2, (((uint64_t)r & 0xff) << 8) | ((uint64_t)q & 0xff));
        return;
    }
    set_reg(env, R_EAX, size, (uint64_t)q);
    set_reg(env, R_EDX, size, (uint64_t)r);
}

/* ---- BCD ----------------------------------------------------------------------- */
void helper_bcd(CPUX86State *env, uint64_t op, uint64_t imm)
{
    uint32_t flags = cc_compute_all(env);
    uint32_t al = env->regs[R_EAX] & 0xff, ah = (env->regs[R_EAX] >> 8) & 0xff;
    bool af = flags & CC_A, cf = flags & CC_C;
    switch (op) {
    case BCD_DAA: case BCD_DAS: {
        uint32_t old_al = al;
        bool old_cf = cf;
        cf = false;
        if ((al & 0xf) > 9 || af) {
            if (op == BCD_DAA) {
                cf = old_cf || al + 6 > 0xff;
                al = (al + 6) & 0xff;
            } else {
                cf = old_cf || al < 6;
                al = (al - 6) & 0xff;
            }
            af = true;
        } else {
            af = false;
        }
        if (old_al > 0x99 || old_cf) {
            al = (op == BCD_DAA ? al + 0x60 : al - 0x60) & 0xff;
            cf = true;
        }
        set_reg(env, R_EAX, 1, al);
        cc_set_all(env, (cf ? CC_C : 0) | (af ? CC_A : 0) | zsp_flags(al, 1));
        return;
    }
    case BCD_AAA: case BCD_AAS: {
        uint32_t ax = env->regs[R_EAX] & 0xffff;
        if ((al & 0xf) > 9 || af) {
            if (op == BCD_AAA)
                ax += 0x106;
            else {
                ax = (ax - 6) & 0xffff;   /* the borrow reaches AH, as on current CPUs */
                ax = ((((ax >> 8) - 1) & 0xff) << 8) | (ax & 0xff);
            }
            af = cf = true;
        } else {
            af = cf = false;
        }
        ax = (ax & 0xff00) | (ax & 0x0f);
        set_reg(env, R_EAX, 2, ax);
        cc_set_all(env, (cf ? CC_C : 0) | (af ? CC_A : 0) | zsp_flags(ax & 0xff, 1));
        return;
    }
    case BCD_AAM:
        if ((imm & 0xff) == 0)
            x86_raise_exception(env, EXCP_DE, 0, GETPC());
        ah = al / imm;
        al = al % imm;
        set_reg(env, R_EAX, 2, (ah << 8) | al);
        cc_set_all(env, zsp_flags(al, 1));
        return;
    default: /* AAD */
        al = (al + ah * (uint32_t)imm) & 0xff;
        set_reg(env, R_EAX, 2, al);
        cc_set_all(env, zsp_flags(al, 1));
        return;
    }
}

/* ---- bit counting ---------------------------------------------------------------- */
uint64_t helper_bitcount(CPUX86State *env, uint64_t op, uint64_t size, uint64_t src, uint64_t old)
{
    unsigned bits = size * 8;
    uint64_t v = src & size_mask(size), r;
    uint32_t flags;
    switch (op) {
    case BITCOUNT_BSF: case BITCOUNT_BSR:
        if (v == 0) {
            cc_set_all(env, CC_Z);
            return old;
        }
        r = op == BITCOUNT_BSF ? (uint64_t)__builtin_ctzll(v) : 63 - (uint64_t)__builtin_clzll(v);
        flags = 0;
        break;
    case BITCOUNT_TZCNT:
        r = v ? (uint64_t)__builtin_ctzll(v) : bits;
        flags = (v == 0 ? CC_C : 0) | (r == 0 ? CC_Z : 0);
        break;
    case BITCOUNT_LZCNT:
        r = v ? (uint64_t)__builtin_clzll(v) - (64 - bits) : bits;
        flags = (v == 0 ? CC_C : 0) | (r == 0 ? CC_Z : 0);
        break;
    default:
        r = (uint64_t)__builtin_popcountll(v);
        flags = v == 0 ? CC_Z : 0;
        break;
    }
    cc_set_all(env, flags);
    return r;
}

void helper_cmpxchg8b(CPUX86State *env, uint64_t addr, uint64_t desc)
{
    uintptr_t ra = GETPC();
    int mmu = x86_mmu_index(env);
    bool wide = desc & CMPXCHG_WIDE;
    unsigned half = wide ? 8 : 4;
    /* the canonical check comes before the alignment check */
    if ((desc & CMPXCHG_STACK) && !x86_is_canonical(env, addr))
        x86_raise_exception(env, EXCP_SS, 0, ra);
    if (wide && (addr & 15))
        x86_raise_exception(env, EXCP_GP, 0, ra);
    /* atomic against other vCPUs; a fault is reported as the write it is */
    uint64_t m = size_mask(half);
    uint64_t cmp[2] = { env->regs[R_EAX] & m, env->regs[R_EDX] & m };
    uint64_t newv[2] = { env->regs[R_EBX] & m, env->regs[R_ECX] & m };
    uint32_t flags = cc_compute_all(env) & ~CC_Z;
    if (x86_atomic_cmpxchg_pair(env, addr, half, cmp, newv, mmu, ra)) {
        flags |= CC_Z;
    } else {
        set_reg(env, R_EAX, half, cmp[0]);
        set_reg(env, R_EDX, half, cmp[1]);
    }
    cc_set_all(env, flags);
}

uint64_t helper_crc32(uint64_t crc, uint64_t value, uint64_t size)
{
    /* CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, bit by bit. */
    uint32_t c = (uint32_t)crc;
    for (unsigned i = 0; i < size * 8; i++) {
        uint32_t bit = (c ^ (uint32_t)(value >> i)) & 1;
        c = (c >> 1) ^ (bit ? 0x82F63B78u : 0);
    }
    return c;
}

/* ---- stack frames ---------------------------------------------------------------- */
static unsigned stack_bytes(CPUX86State *env)
{
    return (env->hflags & HF_CS64_MASK) ? 8 : (env->hflags & HF_SS32_MASK) ? 4 : 2;
}

static uint64_t stack_linear(CPUX86State *env, uint64_t sp)
{
    unsigned ss = stack_bytes(env);
    if (ss == 8)
        return sp;
    return (uint32_t)(env->segs[R_SS].base + (sp & size_mask(ss)));
}

/* Protected mode with a 16/32-bit stack that is not flat: n slots of size
 * bytes at sp + i * step (i = 0..n-1) are limit- and type-checked before the
 * instruction touches any of them, so #SS(0) leaves memory as it was too
 * (SDM PUSHA/POPA: "#SS(0) if the starting or ending stack address is
 * outside the stack segment limit"; AMD CPUs store the slots that fit
 * first, which no program can rely on). Real and V86 mode and a flat 32-bit
 * stack check each access as it comes (stack_addr); a 64-bit stack has no
 * limit. */
static bool stack_needs_pm_check(CPUX86State *env)
{
    return (env->hflags & HF_PE_MASK) && !(env->hflags & HF_VM_MASK) && stack_bytes(env) != 8 &&
           !(stack_bytes(env) == 4 && x86_seg_is_flat(&env->segs[R_SS]));
}

/* 64-bit mode: a non-canonical stack address is #SS(0), not #GP(0). Real and
 * V86 mode, and a flat 32-bit stack: SS limit checked access by access like
 * PUSH/POP (a word at 0xffff is #SS(0); so is a dword at ESP 0xfffffffe,
 * which wraps past the 4 GiB limit, after the earlier accesses of ENTER or
 * PUSHA have faulted or stored, as the hardware does). Other protected-mode
 * stacks were checked up front (stack_needs_pm_check). */
static uint64_t stack_addr(CPUX86State *env, uint64_t sp, unsigned size, uintptr_t ra)
{
    uint64_t lin = stack_linear(env, sp);
    unsigned ss = stack_bytes(env);
    if (ss == 8 && !x86_is_canonical(env, lin))
        x86_raise_exception(env, EXCP_SS, 0, ra);
    if (ss != 8 && !stack_needs_pm_check(env))
        x86_seg_check(env, R_SS, sp & size_mask(ss), size, true, ra);
    return lin;
}

static void set_sp(CPUX86State *env, uint64_t sp)
{
    set_reg(env, R_ESP, stack_bytes(env), sp);
}

static void check_stack_slots(CPUX86State *env, uint64_t sp, int64_t step, unsigned size,
                              unsigned n, bool write, uintptr_t ra)
{
    uint64_t mask = size_mask(stack_bytes(env));
    for (unsigned i = 0; i < n; i++)
        x86_seg_check(env, R_SS, (sp + (uint64_t)(step * (int64_t)i)) & mask, size, write, ra);
}

void helper_pusha(CPUX86State *env, uint64_t size)
{
    uintptr_t ra = GETPC();
    int mmu = x86_mmu_index(env);
    uint64_t sp = env->regs[R_ESP];
    if (stack_needs_pm_check(env))
        check_stack_slots(env, sp - size, -(int64_t)size, (unsigned)size, 8, true, ra);
    for (int r = R_EAX; r <= R_EDI; r++) {
        sp -= size;
        cpu_st(env, stack_addr(env, sp, size, ra), env->regs[r] & size_mask(size), size, mmu, ra);
    }
    set_sp(env, sp);
}

void helper_popa(CPUX86State *env, uint64_t size)
{
    uintptr_t ra = GETPC();
    int mmu = x86_mmu_index(env);
    uint64_t sp = env->regs[R_ESP], v[8];
    if (stack_needs_pm_check(env))
        check_stack_slots(env, sp, (int64_t)size, (unsigned)size, 8, false, ra);
    for (int r = R_EDI; r >= R_EAX; r--) {
        v[r] = cpu_ld(env, stack_addr(env, sp, size, ra), size, mmu, ra);
        sp += size;
    }
    for (int r = R_EAX; r <= R_EDI; r++)
        if (r != R_ESP)
            set_reg(env, r, size, v[r]);
    set_sp(env, sp);
}

/* ENTER's stack slots: BP pushed, level - 1 frame pointers copied from
 * below BP, the new frame pointer, and the new SP ("#SS(0) if the new value
 * of SP or ESP is outside the stack segment limit"), one slot at it. */
static void check_enter_slots(CPUX86State *env, uint64_t sp, uint64_t bp, uint64_t size,
                              uint64_t frame, uint64_t level, uintptr_t ra)
{
    unsigned pushes = 1 + (unsigned)level;
    check_stack_slots(env, sp - size, -(int64_t)size, (unsigned)size, pushes, true, ra);
    if (level > 1)
        check_stack_slots(env, bp - size, -(int64_t)size, (unsigned)size, (unsigned)level - 1, false, ra);
    check_stack_slots(env, sp - pushes * size - frame, 0, (unsigned)size, 1, true, ra);
}

void helper_enter(CPUX86State *env, uint64_t size, uint64_t frame, uint64_t level)
{
    uintptr_t ra = GETPC();
    int mmu = x86_mmu_index(env);
    unsigned ss = stack_bytes(env);
    uint64_t sp = env->regs[R_ESP], bp = env->regs[R_EBP];
    if (stack_needs_pm_check(env))
        check_enter_slots(env, sp, bp, size, frame, level, ra);
    sp -= size;
    cpu_st(env, stack_addr(env, sp, size, ra), bp & size_mask(size), size, mmu, ra);
    uint64_t frame_temp = sp;
    if (level > 0) {
        for (unsigned i = 1; i < level; i++) {
            bp -= size;
            uint64_t v = cpu_ld(env, stack_addr(env, bp, size, ra), size, mmu, ra);
            sp -= size;
            cpu_st(env, stack_addr(env, sp, size, ra), v, size, mmu, ra);
        }
        sp -= size;
        cpu_st(env, stack_addr(env, sp, size, ra), frame_temp & size_mask(size), size, mmu, ra);
    }
    /* the hardware write-checks the bottom of the new frame (the final SP)
     * before committing, so an unmapped frame faults on ENTER itself */
    if (frame) {
        uint64_t bottom = stack_addr(env, sp - frame, 1, ra);
        tlb_host_ptr(env, bottom, true, mmu, ra);
        tlb_host_ptr(env, stack_addr(env, sp - frame + size - 1, 1, ra), true, mmu, ra);
    }
    set_reg(env, R_EBP, ss == 2 && size != 2 ? 2 : size, frame_temp);
    set_sp(env, sp - frame);
}

void helper_bound(CPUX86State *env, uint64_t addr, uint64_t size, uint64_t index)
{
    uintptr_t ra = GETPC();
    int mmu = x86_mmu_index(env);
    int64_t lo = (int64_t)cpu_ld(env, addr, size, mmu, ra), hi = (int64_t)cpu_ld(env, addr + size, size, mmu, ra);
    int64_t i = (int64_t)index;
    if (size == 2) {
        lo = (int16_t)lo;
        hi = (int16_t)hi;
        i = (int16_t)i;
    } else {
        lo = (int32_t)lo;
        hi = (int32_t)hi;
        i = (int32_t)i;
    }
    if (i < lo || i > hi)
        x86_raise_exception(env, EXCP_BR, 0, ra);
}

/* ---- port I/O -------------------------------------------------------------------- */
uint64_t x86_port_read(CPUX86State *env, uint32_t port, unsigned size)
{
    (void)env;
    Machine *m = current_machine;
    if (!m || !m->io)
        return size_mask(size);
    bool lock = !machine_lock_held();
    if (lock)
        machine_lock();
    uint64_t v = as_read(m->io, port & 0xffff, size);
    if (lock)
        machine_unlock();
    return v;
}

void x86_port_write(CPUX86State *env, uint32_t port, uint64_t value, unsigned size)
{
    (void)env;
    Machine *m = current_machine;
    if (!m || !m->io)
        return;
    bool lock = !machine_lock_held();
    if (lock)
        machine_lock();
    as_write(m->io, port & 0xffff, value, size);
    if (lock)
        machine_unlock();
}

uint64_t helper_in(CPUX86State *env, uint64_t port, uint64_t size)
{
    x86_check_io(env, (uint32_t)port, (unsigned)size, GETPC());
    return x86_port_read(env, (uint32_t)port, (unsigned)size);
}

void helper_out(CPUX86State *env, uint64_t port, uint64_t value, uint64_t size)
{
    x86_check_io(env, (uint32_t)port, (unsigned)size, GETPC());
    x86_port_write(env, (uint32_t)port, value, (unsigned)size);
}

void helper_check_io(CPUX86State *env, uint64_t port, uint64_t size)
{
    x86_check_io(env, (uint32_t)port, (unsigned)size, GETPC());
}

uint64_t helper_seg_check(CPUX86State *env, uint64_t seg, uint64_t offset, uint64_t desc)
{
    if ((desc & SEG_CHECK_ALIGN16) && ((env->segs[seg].base + offset) & 15))
        x86_raise_exception(env, EXCP_GP, 0, GETPC());
    return x86_seg_check(env, (int)seg, offset, desc & 0xffff, desc & SEG_CHECK_WRITE, GETPC());
}

/* CLFLUSH/CLFLUSHOPT/CLWB: nothing to flush, but the line's address is
 * translated as for a read (#PF, non-canonical #GP, #SS through RSP/RBP),
 * without touching the memory (it may be MMIO). */
void helper_clflush(CPUX86State *env, uint64_t addr, uint64_t stack)
{
    uintptr_t ra = GETPC();
    int prot;
    uint64_t page_size;
    if (stack && !x86_is_canonical(env, addr))
        x86_raise_exception(env, EXCP_SS, 0, ra);
    x86_tlb_fill(env, addr, X86_ACCESS_READ, x86_mmu_index(env), &prot, &page_size, ra);
}

/* ---- system glue ---------------------------------------------------------------------- */
void helper_load_seg(CPUX86State *env, uint64_t seg, uint64_t selector)
{
    x86_load_seg(env, (int)seg, (uint32_t)selector & 0xffff, GETPC());
}

void helper_ljmp(CPUX86State *env, uint64_t selector, uint64_t offset, uint64_t next_rip)
{
    x86_ljmp(env, (uint32_t)selector & 0xffff, offset, next_rip, GETPC());
}

void helper_lcall(CPUX86State *env, uint64_t selector, uint64_t offset, uint64_t dflag, uint64_t next_rip)
{
    x86_lcall(env, (uint32_t)selector & 0xffff, offset, (int)dflag, next_rip, GETPC());
}

void helper_lret(CPUX86State *env, uint64_t dflag, uint64_t imm) { x86_lret(env, (int)dflag, (unsigned)imm, GETPC()); }
void helper_iret(CPUX86State *env, uint64_t dflag, uint64_t next_rip) { x86_iret(env, (int)dflag, next_rip, GETPC()); }
void helper_int(CPUX86State *env, uint64_t vector, uint64_t next_rip) { x86_int(env, (int)vector, next_rip, GETPC()); }
void helper_int3(CPUX86State *env, uint64_t next_rip) { x86_int3(env, next_rip, GETPC()); }
void helper_into(CPUX86State *env, uint64_t next_rip) { x86_into(env, next_rip, GETPC()); }
void helper_icebp(CPUX86State *env, uint64_t next_rip) { x86_icebp(env, next_rip, GETPC()); }
void helper_hlt(CPUX86State *env, uint64_t next_rip) { x86_hlt(env, next_rip, GETPC()); }
void helper_cli(CPUX86State *env) { x86_cli(env, GETPC()); }
void helper_sti(CPUX86State *env) { x86_sti(env, GETPC()); }
uint64_t helper_pushf(CPUX86State *env, uint64_t dflag) { return x86_pushf_op(env, (int)dflag, GETPC()); }
void helper_popf(CPUX86State *env, uint64_t value, uint64_t dflag) { x86_popf(env, value, (int)dflag, GETPC()); }
void helper_check_cpl0(CPUX86State *env) { x86_check_cpl0(env, GETPC()); }
void helper_write_cr(CPUX86State *env, uint64_t reg, uint64_t value) { x86_write_cr(env, (int)reg, value, GETPC()); }
uint64_t helper_read_cr(CPUX86State *env, uint64_t reg) { return x86_read_cr(env, (int)reg, GETPC()); }
void helper_write_dr(CPUX86State *env, uint64_t reg, uint64_t value) { x86_write_dr(env, (int)reg, value, GETPC()); }
uint64_t helper_read_dr(CPUX86State *env, uint64_t reg) { return x86_read_dr(env, (int)reg, GETPC()); }
void helper_lmsw(CPUX86State *env, uint64_t value) { x86_lmsw(env, (uint32_t)value, GETPC()); }
void helper_clts(CPUX86State *env) { x86_clts(env, GETPC()); }

void helper_invlpg(CPUX86State *env, uint64_t addr)
{
    x86_check_cpl0(env, GETPC());
    x86_invlpg(env, addr);
}

/* INVPCID: type in a register, a 16-byte descriptor at linear address desc */
void helper_invpcid(CPUX86State *env, uint64_t type, uint64_t desc)
{
    uintptr_t ra = GETPC();
    x86_check_cpl0(env, ra);
    if (type > 3)
        x86_raise_exception(env, EXCP_GP, 0, ra);
    int mmu = x86_mmu_index(env);
    uint64_t pcid = cpu_ld(env, desc, 8, mmu, ra);
    uint64_t addr = cpu_ld(env, desc + 8, 8, mmu, ra);
    x86_invpcid(env, type, pcid, addr, ra);
}

void helper_rdmsr(CPUX86State *env) { x86_rdmsr(env, GETPC()); }
void helper_wrmsr(CPUX86State *env) { x86_wrmsr(env, GETPC()); }
void helper_rdtsc(CPUX86State *env) { x86_rdtsc(env, GETPC()); }
void helper_rdtscp(CPUX86State *env) { x86_rdtscp(env, GETPC()); }
void helper_cpuid(CPUX86State *env) { x86_cpuid_insn(env); }
void helper_lldt(CPUX86State *env, uint64_t sel) { x86_lldt(env, (uint32_t)sel & 0xffff, GETPC()); }
void helper_ltr(CPUX86State *env, uint64_t sel) { x86_ltr(env, (uint32_t)sel & 0xffff, GETPC()); }
uint64_t helper_lar(CPUX86State *env, uint64_t sel) { return (uint64_t)x86_lar(env, (uint32_t)sel & 0xffff, GETPC()); }
uint64_t helper_lsl(CPUX86State *env, uint64_t sel) { return (uint64_t)x86_lsl(env, (uint32_t)sel & 0xffff, GETPC()); }
uint64_t helper_verr(CPUX86State *env, uint64_t sel) { return x86_verr(env, (uint32_t)sel & 0xffff, GETPC()); }
uint64_t helper_verw(CPUX86State *env, uint64_t sel) { return x86_verw(env, (uint32_t)sel & 0xffff, GETPC()); }
void helper_syscall(CPUX86State *env, uint64_t next_rip) { x86_syscall(env, next_rip, GETPC()); }
void helper_sysret(CPUX86State *env, uint64_t dflag) { x86_sysret(env, (int)dflag, GETPC()); }
void helper_sysenter(CPUX86State *env) { x86_sysenter(env, GETPC()); }
void helper_sysexit(CPUX86State *env, uint64_t dflag) { x86_sysexit(env, (int)dflag, GETPC()); }
void helper_swapgs(CPUX86State *env) { x86_swapgs(env, GETPC()); }

void helper_set_ac(CPUX86State *env, uint64_t on)
{
    env->eflags = on ? env->eflags | AC_MASK : env->eflags & ~(uint64_t)AC_MASK;
    x86_update_hflags(env);     /* HF_AC_MASK picks the SMAP or no-SMAP MMU index */
}

/* mode: 1 = 64-bit (8-byte base), 0 = 32-bit operand size, 2 = 16-bit (24-bit base) */
void helper_lgdt_lidt(CPUX86State *env, uint64_t addr, uint64_t which, uint64_t mode)
{
    uintptr_t ra = GETPC();
    x86_check_cpl0(env, ra);
    int mmu = x86_mmu_index(env);
    uint32_t limit = (uint32_t)cpu_ld(env, addr, 2, mmu, ra);
    uint64_t base = cpu_ld(env, addr + 2, mode == 1 ? 8 : 4, mmu, ra);
    if (mode == 2)
        base &= 0xffffff;
    if (mode == 1 && !x86_is_canonical(env, base))
        x86_raise_exception(env, EXCP_GP, 0, ra);
    DescTable *t = which ? &env->idt : &env->gdt;
    t->base = base;
    t->limit = limit;
}

void helper_sgdt_sidt(CPUX86State *env, uint64_t addr, uint64_t which, uint64_t long_mode)
{
    uintptr_t ra = GETPC();
    if ((env->cr[4] & CR4_UMIP) && (env->hflags & HF_CPL_MASK))
        x86_raise_exception(env, EXCP_GP, 0, ra);
    int mmu = x86_mmu_index(env);
    DescTable *t = which ? &env->idt : &env->gdt;
    cpu_st(env, addr, t->limit & 0xffff, 2, mmu, ra);
    cpu_st(env, addr + 2, long_mode ? t->base : (uint32_t)t->base, long_mode ? 8 : 4, mmu, ra);
}

void helper_set_inhibit_irq(CPUX86State *env)
{
    env->hflags |= HF_INHIBIT_IRQ_MASK;
}

void helper_fpu_unavailable(CPUX86State *env)
{
    x86_raise_exception(env, EXCP_NM, 0, GETPC());
}

/* ---- debugging ------------------------------------------------------------------------- */
void helper_single_step(CPUX86State *env)
{
    if (env->eflags & TF_MASK)
        x86_debug_insn_end(env, env->rip, true);
}

void helper_insn_breakpoint(CPUX86State *env)
{
    x86_check_insn_breakpoint(env, GETPC());
}

void helper_data_breakpoint(CPUX86State *env, uint64_t linear, uint64_t desc)
{
    x86_debug_data_access(env, linear, desc & 0xff, desc & 0x100);
}

void helper_insn_end(CPUX86State *env, uint64_t next_rip)
{
    x86_debug_insn_end(env, next_rip, false);
    env->eflags &= ~(uint64_t)RF_MASK;   /* the instruction completed */
}

void helper_gdb_breakpoint(CPUX86State *env)
{
    gdb_vcpu_stopped(env, GDB_SIGTRAP);
    cpu_loop_exit(env);
}
