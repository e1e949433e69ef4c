/* The x87 FPU: register stack, tags, status word and exception rules, and
 * the helpers the translator calls for each instruction (translate-x87.c).
 * Arithmetic is cpu/x86/softfloat.h; this file supplies the stack discipline:
 *   - reading an empty register is a stack underflow (IE + SF, C1 = 0),
 *     pushing onto a full one an overflow (IE + SF, C1 = 1); masked, the
 *     result is the real indefinite;
 *   - an unmasked IE/DE/ZE leaves the destination (and the stack) unchanged;
 *   - any unmasked exception sets ES and B; the next waiting instruction then
 *     raises #MF (CR0.NE = 1) or asserts FERR# to IRQ 13 (CR0.NE = 0).
 * Memory operands are read and written here with cpu_ld/cpu_st, all reads and
 * the store before any register changes. */
#include <string.h>
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/simd.h"
#include "cpu/x86/softfloat.h"
#include "system/irq.h"
#include "system/machine.h"
#include "system/mainloop.h"

#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_B  0x8000
#define FSW_TOP 0x3800
#define FSW_CC (FPU_C0 | FPU_C1 | FPU_C2 | FPU_C3)

/* ---- registers and tags ------------------------------------------------------------ */
static unsigned phys(CPUX86State *env, unsigned i) { return (env->fpstt + i) & 7; }
static floatx80 *st(CPUX86State *env, unsigned i) { return &env->fpregs[phys(env, i)]; }
static bool is_empty(CPUX86State *env, unsigned i) { return env->fptags >> phys(env, i) & 1; }
static void set_valid(CPUX86State *env, unsigned i) { env->fptags &= (uint8_t)~(1u << phys(env, i)); }

static void fpush(CPUX86State *env, floatx80 v)
{
    env->fpstt = (env->fpstt - 1) & 7;
    env->fpregs[env->fpstt] = v;
    env->fptags &= (uint8_t)~(1u << env->fpstt);
}

static void fpop(CPUX86State *env)
{
    env->fptags |= (uint8_t)(1u << env->fpstt);
    env->fpstt = (env->fpstt + 1) & 7;
}

static floatx80 indefinite(void) { return floatx80_default_nan(); }

static bool masked(CPUX86State *env, unsigned flag) { return env->fpuc & flag; }

static void set_ferr(bool level);

/* ES/B follow the unmasked exception flags; with CR0.NE = 0 a new error
 * asserts FERR# (IRQ 13) right away, as the chipset sees it. */
static void update_es(CPUX86State *env)
{
    if (env->fpus & ~env->fpuc & 0x3f) {
        if (!(env->fpus & FSW_ES) && !(env->cr[0] & CR0_NE))
            set_ferr(true);
        env->fpus |= FSW_ES | FSW_B;
    } else {
        env->fpus &= (uint16_t)~(FSW_ES | FSW_B);
    }
}

/* Stack underflow/overflow: returns true when IE is masked (the caller then
 * delivers the indefinite). */
static bool stack_fault(CPUX86State *env, bool overflow)
{
    env->fpus = (uint16_t)((env->fpus & ~FPU_C1) | FSW_IE | FSW_SF | (overflow ? FPU_C1 : 0));
    update_es(env);
    return masked(env, FSW_IE);
}

/* Merge the flags of an operation into FSW; false when the result must not
 * be written (unmasked IE, DE or ZE). */
static bool commit(CPUX86State *env, const FloatStatus *s)
{
    const unsigned before = FSW_IE | FSW_DE | FSW_ZE;   /* detected on the operands */
    unsigned f = s->flags & FLOAT_FLAGS_EXCEPTIONS;
    bool stopped = f & ~env->fpuc & before;
    env->fpus &= (uint16_t)~FPU_C1;
    if (stopped)
        f &= before;    /* the operation never ran: no PE/UE/OE, no rounding C1 */
    else if (s->flags & FLOAT_FLAG_ROUNDED_UP)
        env->fpus |= FPU_C1;
    env->fpus |= (uint16_t)f;
    update_es(env);
    return !stopped;
}

/* Also false for unmasked overflow/underflow: stores to memory are then
 * suppressed. */
static bool commit_store(CPUX86State *env, const FloatStatus *s)
{
    bool ok = commit(env, s);
    return ok && !(s->flags & ~env->fpuc & (FLOAT_FLAG_OVERFLOW | FLOAT_FLAG_UNDERFLOW));
}

static FloatStatus status(CPUX86State *env) { return float_status_from_fpuc(env->fpuc); }

uint16_t x87_status_word(CPUX86State *env)
{
    return (uint16_t)((env->fpus & ~FSW_TOP) | (env->fpstt & 7) << 11);
}

void x87_load_status_word(CPUX86State *env, uint16_t fsw)
{
    env->fpstt = (fsw >> 11) & 7;
    env->fpus = fsw & (uint16_t)~FSW_TOP;
    update_es(env);
}

uint16_t x87_full_tag_word(CPUX86State *env)
{
    uint16_t t = 0;
    for (unsigned i = 0; i < 8; i++) {
        unsigned tag = (env->fptags >> i & 1) ? FPU_TAG_EMPTY : floatx80_tag(env->fpregs[i]);
        t |= (uint16_t)(tag << (2 * i));
    }
    return t;
}

void x87_set_tag_word(CPUX86State *env, uint16_t full)
{
    uint8_t abridged = 0;
    for (unsigned i = 0; i < 8; i++)
        if (((full >> (2 * i)) & 3) == FPU_TAG_EMPTY)
            abridged |= (uint8_t)(1u << i);
    env->fptags = abridged;
}

void x87_reset(CPUX86State *env)
{
    env->fpuc = 0x37f;
    env->fpus = 0;
    env->fpstt = 0;
    env->fptags = 0xff;
    env->fpop = 0;
    env->fpip = env->fpdp = 0;
    env->fpcs = env->fpds = 0;
}

/* ---- pending exceptions ------------------------------------------------------------ */
/* FERR# drives IRQ 13 when CR0.NE = 0 (the PC's DOS-compatible wiring); a
 * write to port 0xF0 (IGNNE#) or FNCLEX/FNINIT drops it. */
static void set_ferr(bool level)
{
    if (!current_machine || !current_machine->isa_irq)
        return;
    bool lock = !machine_lock_held();   /* the PIC is a device: machine lock */
    if (lock)
        machine_lock();
    irq_set_level(&current_machine->isa_irq[13], level);
    if (lock)
        machine_unlock();
}

void x87_ignne(void)
{
    set_ferr(false);
}

/* With CR0.NE = 0 the error went out as IRQ 13 when it happened; the
 * instruction then proceeds (as with IGNNE# asserted). */
void helper_fpu_check_pending(CPUX86State *env)
{
    if ((env->fpus & FSW_ES) && (env->cr[0] & CR0_NE))
        x86_raise_exception(env, EXCP_MF, 0, GETPC());
}

/* ---- memory operand formats --------------------------------------------------------- */
static floatx80 load_operand(CPUX86State *env, uint64_t addr, unsigned fmt, FloatStatus *s, uintptr_t ra)
{
    int idx = x86_mmu_index(env);
    switch (fmt) {
    case X87_M32FP: return float32_to_floatx80((float32)cpu_ld(env, addr, 4, idx, ra), s);
    case X87_M64FP: return float64_to_floatx80(cpu_ld(env, addr, 8, idx, ra), s);
    case X87_M16INT: return int32_to_floatx80((int16_t)cpu_ld(env, addr, 2, idx, ra), s);
    case X87_M32INT: return int32_to_floatx80((int32_t)cpu_ld(env, addr, 4, idx, ra), s);
    case X87_M64INT: return int64_to_floatx80((int64_t)cpu_ld(env, addr, 8, idx, ra), s);
    case X87_M80FP: {
        uint8_t b[10];
        cpu_ld_buf(env, addr, b, 10, idx, ra);
        floatx80 v;
        memcpy(&v.mant, b, 8);
        memcpy(&v.sexp, b + 8, 2);
        return v;
    }
    default: {     /* X87_M80BCD */
        uint8_t b[10];
        cpu_ld_buf(env, addr, b, 10, idx, ra);
        return floatx80_from_bcd(b, s);
    }
    }
}

static unsigned fmt_size(unsigned fmt)
{
    static const uint8_t size[] = { [X87_M32FP] = 4, [X87_M64FP] = 8, [X87_M16INT] = 2,
                                    [X87_M32INT] = 4, [X87_M64INT] = 8, [X87_M80FP] = 10,
                                    [X87_M80BCD] = 10 };
    return size[fmt];
}

/* The value FST/FIST store for v; for the masked invalid response the
 * conversions already give the format's indefinite. */
static void convert_for_store(floatx80 v, unsigned fmt, bool truncate, FloatStatus *s, uint8_t out[10])
{
    uint64_t x = 0;
    switch (fmt) {
    case X87_M32FP: x = floatx80_to_float32(v, s); break;
    case X87_M64FP: x = floatx80_to_float64(v, s); break;
    case X87_M16INT:
        x = (uint16_t)(truncate ? floatx80_to_int16_round_to_zero(v, s) : floatx80_to_int16(v, s));
        break;
    case X87_M32INT:
        x = (uint32_t)(truncate ? floatx80_to_int32_round_to_zero(v, s) : floatx80_to_int32(v, s));
        break;
    case X87_M64INT:
        x = (uint64_t)(truncate ? floatx80_to_int64_round_to_zero(v, s) : floatx80_to_int64(v, s));
        break;
    case X87_M80FP:
        memcpy(out, &v.mant, 8);
        memcpy(out + 8, &v.sexp, 2);
        return;
    default:
        floatx80_to_bcd(v, out, s);
        return;
    }
    memcpy(out, &x, 8);
}

static void indefinite_for_store(unsigned fmt, uint8_t out[10])
{
    static const uint64_t ind[] = { [X87_M32FP] = FLOAT32_DEFAULT_NAN, [X87_M64FP] = FLOAT64_DEFAULT_NAN,
                                    [X87_M16INT] = 0x8000, [X87_M32INT] = 0x80000000u,
                                    [X87_M64INT] = 0x8000000000000000ull };
    if (fmt == X87_M80FP) {
        floatx80 v = indefinite();
        memcpy(out, &v.mant, 8);
        memcpy(out + 8, &v.sexp, 2);
    } else if (fmt == X87_M80BCD) {
        static const uint8_t bcd_ind[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
        memcpy(out, bcd_ind, 10);
    } else {
        memcpy(out, &ind[fmt], 8);
    }
}

/* ---- memory forms --------------------------------------------------------------------- */
/* FLD m32/m64/m80, FILD, FBLD. */
static void fld_mem(CPUX86State *env, uint64_t addr, unsigned fmt, uintptr_t ra)
{
    FloatStatus s = status(env);
    floatx80 v = load_operand(env, addr, fmt, &s, ra);
    if (!is_empty(env, 7)) {
        if (stack_fault(env, true))
            fpush(env, indefinite());
        return;
    }
    if (commit(env, &s))
        fpush(env, v);
}

/* FST/FSTP/FIST/FISTP/FISTTP/FBSTP. */
static void fst_mem(CPUX86State *env, uint64_t addr, unsigned fmt, bool pop, bool truncate, uintptr_t ra)
{
    uint8_t out[10];
    FloatStatus s = status(env);
    bool store;
    bool underflow = is_empty(env, 0);
    if (underflow) {
        store = masked(env, FSW_IE);
        indefinite_for_store(fmt, out);
    } else {
        convert_for_store(*st(env, 0), fmt, truncate, &s, out);
        store = !(s.flags & ~env->fpuc & (FLOAT_FLAGS_EXCEPTIONS & ~FLOAT_FLAG_INEXACT));
    }
    if (store)
        cpu_st_buf(env, addr, out, fmt_size(fmt), x86_mmu_index(env), ra);
    if (underflow) {
        stack_fault(env, false);
    } else if (!commit_store(env, &s)) {
        return;
    }
    if (pop && store)
        fpop(env);
}

static const X87Arith arith_of_reg[8] = {
    X87_FADD, X87_FMUL, X87_FADD, X87_FADD, X87_FSUB, X87_FSUBR, X87_FDIV, X87_FDIVR,
};

/* C3 C2 C0 from a compare. */
static void set_cc(CPUX86State *env, FloatRelation r)
{
    env->fpus = (uint16_t)((env->fpus & ~FSW_CC) | float_relation_to_fsw(r));
}

/* D8/DA/DC/DE memory arithmetic and compares. */
static void arith_mem(CPUX86State *env, uint64_t addr, unsigned fmt, unsigned reg, uintptr_t ra)
{
    int idx = x86_mmu_index(env);
    FloatStatus s = status(env);
    uint64_t raw = cpu_ld(env, addr, fmt_size(fmt), idx, ra);
    bool compare = reg == 2 || reg == 3;
    if (is_empty(env, 0)) {
        bool go_on = stack_fault(env, false);
        if (compare)
            env->fpus |= FPU_C0 | FPU_C2 | FPU_C3;      /* unordered, even when unmasked */
        if (go_on && !compare) {
            *st(env, 0) = indefinite();
            set_valid(env, 0);
        }
        if (reg == 3 && go_on)
            fpop(env);
        return;
    }
    floatx80 a = *st(env, 0);
    if (compare) {
        FloatRelation r;
        if (fmt == X87_M32FP)
            r = floatx80_compare_float32(a, (float32)raw, false, &s);
        else if (fmt == X87_M64FP)
            r = floatx80_compare_float64(a, raw, false, &s);
        else
            r = floatx80_compare(a, load_operand(env, addr, fmt, &s, ra), false, &s);
        if (commit(env, &s) && reg == 3)     /* as compare_reg */
            fpop(env);
        set_cc(env, r);
        return;
    }
    floatx80 r;
    if (fmt == X87_M32FP)
        r = floatx80_arith_float32(arith_of_reg[reg], a, (float32)raw, &s);
    else if (fmt == X87_M64FP)
        r = floatx80_arith_float64(arith_of_reg[reg], a, raw, &s);
    else
        r = floatx80_arith(arith_of_reg[reg], a, load_operand(env, addr, fmt, &s, ra), &s);
    if (commit(env, &s))
        *st(env, 0) = r;
}

/* ---- environment: FLDENV/FSTENV/FSAVE/FRSTOR ----------------------------------------- */
/* mode bits of desc for the environment formats */
static unsigned env_size(uint64_t desc) { return (desc & X87_DESC_OP32) ? 28 : 14; }

static void store_env(CPUX86State *env, uint8_t *b, uint64_t desc)
{
    bool op32 = desc & X87_DESC_OP32, prot = desc & X87_DESC_PROT;
    uint32_t w[7];
    w[0] = env->fpuc | (op32 ? 0xffff0000u : 0);
    w[1] = x87_status_word(env) | (op32 ? 0xffff0000u : 0);
    w[2] = x87_full_tag_word(env) | (op32 ? 0xffff0000u : 0);
    if (prot) {
        w[3] = (uint32_t)env->fpip;
        w[4] = env->fpcs | (uint32_t)(env->fpop & 0x7ff) << 16;
        w[5] = (uint32_t)env->fpdp;
        w[6] = env->fpds | (op32 ? 0xffff0000u : 0);
    } else {
        /* real/V86 formats: 20- or 32-bit linear pointers split in two */
        uint32_t ip = (uint32_t)env->fpip + ((uint32_t)env->fpcs << 4);
        uint32_t dp = (uint32_t)env->fpdp + ((uint32_t)env->fpds << 4);
        w[3] = (ip & 0xffff) | (op32 ? 0xffff0000u : 0);
        w[4] = (ip >> 16) << 12 | (env->fpop & 0x7ff);
        w[5] = (dp & 0xffff) | (op32 ? 0xffff0000u : 0);
        w[6] = (dp >> 16) << 12;
    }
    if (op32) {
        memcpy(b, w, 28);
    } else {
        for (int i = 0; i < 7; i++) {
            uint16_t h = (uint16_t)w[i];
            memcpy(b + 2 * i, &h, 2);
        }
    }
}

static void load_env(CPUX86State *env, const uint8_t *b, uint64_t desc)
{
    bool op32 = desc & X87_DESC_OP32, prot = desc & X87_DESC_PROT;
    uint32_t w[7];
    if (op32) {
        memcpy(w, b, 28);
    } else {
        for (int i = 0; i < 7; i++) {
            uint16_t h;
            memcpy(&h, b + 2 * i, 2);
            w[i] = h;
        }
    }
    env->fpuc = (uint16_t)((w[0] & 0x1f7f) | 0x40);   /* bit 6 reads as 1 */
    x87_set_tag_word(env, (uint16_t)w[2]);
    x87_load_status_word(env, (uint16_t)w[1]);
    if (prot) {
        env->fpip = w[3];
        env->fpcs = (uint16_t)w[4];
        env->fpop = (w[4] >> 16) & 0x7ff;
        env->fpdp = w[5];
        env->fpds = (uint16_t)w[6];
    } else {
        env->fpip = (w[3] & 0xffff) | (w[4] >> 12) << 16;
        env->fpop = w[4] & 0x7ff;
        env->fpdp = (w[5] & 0xffff) | (w[6] >> 12) << 16;
        env->fpcs = env->fpds = 0;
    }
}

static void fstenv(CPUX86State *env, uint64_t addr, uint64_t desc, uintptr_t ra)
{
    uint8_t b[28];
    store_env(env, b, desc);
    cpu_st_buf(env, addr, b, env_size(desc), x86_mmu_index(env), ra);
    env->fpuc |= 0x3f;      /* FSTENV masks all exceptions */
    update_es(env);
}

static void fldenv(CPUX86State *env, uint64_t addr, uint64_t desc, uintptr_t ra)
{
    uint8_t b[28];
    cpu_ld_buf(env, addr, b, env_size(desc), x86_mmu_index(env), ra);
    load_env(env, b, desc);
}

static void fsave(CPUX86State *env, uint64_t addr, uint64_t desc, uintptr_t ra)
{
    uint8_t b[28 + 80];
    unsigned n = env_size(desc);
    store_env(env, b, desc);
    for (unsigned i = 0; i < 8; i++) {
        memcpy(b + n + 10 * i, &st(env, i)->mant, 8);
        memcpy(b + n + 10 * i + 8, &st(env, i)->sexp, 2);
    }
    cpu_st_buf(env, addr, b, n + 80, x86_mmu_index(env), ra);
    x87_reset(env);
}

static void frstor(CPUX86State *env, uint64_t addr, uint64_t desc, uintptr_t ra)
{
    uint8_t b[28 + 80];
    unsigned n = env_size(desc);
    cpu_ld_buf(env, addr, b, n + 80, x86_mmu_index(env), ra);
    load_env(env, b, desc);
    for (unsigned i = 0; i < 8; i++) {
        memcpy(&st(env, i)->mant, b + n + 10 * i, 8);
        memcpy(&st(env, i)->sexp, b + n + 10 * i + 8, 2);
    }
}

/* One helper for every x87 instruction with a memory operand.
 * desc = opcode low 3 bits << 8 | ModRM | X87_DESC_* mode bits. */
void helper_fpu_mem(CPUX86State *env, uint64_t addr, uint64_t desc)
{
    uintptr_t ra = GETPC();
    unsigned op = (desc >> 8) & 7, reg = (desc >> 3) & 7;
    if ((desc & X87_DESC_STACK) && !x86_is_canonical(env, addr))
        x86_raise_exception(env, EXCP_SS, 0, ra);
    static const uint8_t arith_fmt[8] = { [0] = X87_M32FP, [2] = X87_M32INT, [4] = X87_M64FP,
                                          [6] = X87_M16INT };
    if (!(op & 1)) {
        arith_mem(env, addr, arith_fmt[op], reg, ra);
        return;
    }
    int idx = x86_mmu_index(env);
    switch (op << 3 | reg) {
    case 010: fld_mem(env, addr, X87_M32FP, ra); break;
    case 012: fst_mem(env, addr, X87_M32FP, false, false, ra); break;
    case 013: fst_mem(env, addr, X87_M32FP, true, false, ra); break;
    case 014: fldenv(env, addr, desc, ra); break;
    case 015:
        env->fpuc = (uint16_t)((cpu_ld(env, addr, 2, idx, ra) & 0x1f7f) | 0x40);   /* bit 6 reads as 1 */
        update_es(env);
        break;
    case 016: fstenv(env, addr, desc, ra); break;
    case 017: cpu_st(env, addr, env->fpuc, 2, idx, ra); break;
    case 030: fld_mem(env, addr, X87_M32INT, ra); break;
    case 031: fst_mem(env, addr, X87_M32INT, true, true, ra); break;
    case 032: fst_mem(env, addr, X87_M32INT, false, false, ra); break;
    case 033: fst_mem(env, addr, X87_M32INT, true, false, ra); break;
    case 035: fld_mem(env, addr, X87_M80FP, ra); break;
    case 037: fst_mem(env, addr, X87_M80FP, true, false, ra); break;
    case 050: fld_mem(env, addr, X87_M64FP, ra); break;
    case 051: fst_mem(env, addr, X87_M64INT, true, true, ra); break;
    case 052: fst_mem(env, addr, X87_M64FP, false, false, ra); break;
    case 053: fst_mem(env, addr, X87_M64FP, true, false, ra); break;
    case 054: frstor(env, addr, desc, ra); break;
    case 056: fsave(env, addr, desc, ra); break;
    case 057: cpu_st(env, addr, x87_status_word(env), 2, idx, ra); break;
    case 070: fld_mem(env, addr, X87_M16INT, ra); break;
    case 071: fst_mem(env, addr, X87_M16INT, true, true, ra); break;
    case 072: fst_mem(env, addr, X87_M16INT, false, false, ra); break;
    case 073: fst_mem(env, addr, X87_M16INT, true, false, ra); break;
    case 074: fld_mem(env, addr, X87_M80BCD, ra); break;
    case 075: fld_mem(env, addr, X87_M64INT, ra); break;
    case 076: fst_mem(env, addr, X87_M80BCD, true, false, ra); break;
    case 077: fst_mem(env, addr, X87_M64INT, true, false, ra); break;
    default: x86_raise_exception(env, EXCP_UD, 0, ra);
    }
}

/* ---- register forms ---------------------------------------------------------------------- */
/* ST(dst) = ST(dst) op ST(src) with the library's operand order: st = the
 * destination's value, src = the other. */
static void arith_reg(CPUX86State *env, X87Arith op, unsigned dst, unsigned src, bool pop)
{
    if (is_empty(env, dst) || is_empty(env, src)) {
        if (!stack_fault(env, false))
            return;
        *st(env, dst) = indefinite();
        set_valid(env, dst);
    } else {
        FloatStatus s = status(env);
        floatx80 r = floatx80_arith(op, *st(env, dst), *st(env, src), &s);
        if (!commit(env, &s))
            return;
        *st(env, dst) = r;
    }
    if (pop)
        fpop(env);
}

/* FCOM/FUCOM family: condition codes; pops 0, 1 or 2. The hardware writes
 * the condition codes even when the compare stops on an unmasked exception
 * (then without popping): "unordered" for an empty register or #IA, the
 * relation for #D. */
static void compare_reg(CPUX86State *env, unsigned i, bool quiet, unsigned pops)
{
    if (is_empty(env, 0) || is_empty(env, i)) {
        bool go_on = stack_fault(env, false);
        env->fpus |= FPU_C0 | FPU_C2 | FPU_C3;
        if (!go_on)
            return;
    } else {
        FloatStatus s = status(env);
        FloatRelation r = floatx80_compare(*st(env, 0), *st(env, i), quiet, &s);
        bool ok = commit(env, &s);
        set_cc(env, r);
        if (!ok)
            return;
    }
    while (pops--)
        fpop(env);
}

/* FFREE: the tag to empty; C1 reads 0 afterwards on the hardware (the SDM
 * leaves C0-C3 undefined). */
static void ffree(CPUX86State *env, unsigned i)
{
    env->fptags |= (uint8_t)(1u << phys(env, i));
    env->fpus &= (uint16_t)~FPU_C1;
}

/* FCOMI/FUCOMI(P): returns the EFLAGS bits (ZF PF CF), written even on an
 * unmasked exception (see compare_reg). */
static uint64_t comi_reg(CPUX86State *env, unsigned i, bool quiet, bool pop)
{
    uint64_t fl;
    if (is_empty(env, 0) || is_empty(env, i)) {
        if (!stack_fault(env, false))
            return CC_Z | CC_P | CC_C;      /* unordered, no pop (see compare_reg) */
        fl = CC_Z | CC_P | CC_C;
    } else {
        FloatStatus s = status(env);
        uint16_t c1 = env->fpus & FPU_C1;   /* the hardware leaves C1 alone here */
        FloatRelation r = floatx80_compare(*st(env, 0), *st(env, i), quiet, &s);
        bool ok = commit(env, &s);
        env->fpus = (uint16_t)((env->fpus & ~FPU_C1) | c1);
        fl = float_relation_to_eflags(r);
        if (!ok)
            return fl;
    }
    if (pop)
        fpop(env);
    return fl;
}

static bool need(CPUX86State *env, unsigned n, unsigned dst)
{
    for (unsigned i = 0; i < n; i++) {
        if (is_empty(env, i)) {
            if (stack_fault(env, false)) {
                *st(env, dst) = indefinite();
                set_valid(env, dst);
            }
            return false;
        }
    }
    return true;
}

/* FPTAN, FXTRACT, FSINCOS with ST(7) in use: a masked stack overflow still
 * pushes, leaving the indefinite in both results (as the hardware does). */
static void two_result_overflow(CPUX86State *env)
{
    if (stack_fault(env, true)) {
        *st(env, 0) = indefinite();
        fpush(env, indefinite());
    }
}

static void push_checked(CPUX86State *env, floatx80 v)
{
    if (!is_empty(env, 7)) {
        if (stack_fault(env, true))
            fpush(env, indefinite());
        return;
    }
    fpush(env, v);
}

/* The host FPU's transcendental when it applies (x87-host.c); s->flags set. */
static bool host(CPUX86State *env, X87HostOp op, floatx80 a, floatx80 b, floatx80 *r1, floatx80 *r2,
                 FloatStatus *s)
{
    uint16_t flags;
    if (!x87_host_op(op, env->fpuc, a, b, r1, r2, &flags))
        return false;
    s->flags |= flags;
    return true;
}

/* FTST: ST0 against +0.0, with FCOM's rule (compare_reg): the condition
 * codes even on an unmasked exception. */
static void ftst(CPUX86State *env)
{
    if (is_empty(env, 0)) {
        stack_fault(env, false);
        env->fpus |= FPU_C0 | FPU_C2 | FPU_C3;
        return;
    }
    FloatStatus s = status(env);
    FloatRelation rel = floatx80_compare(*st(env, 0), make_floatx80(0, 0), false, &s);
    commit(env, &s);
    set_cc(env, rel);
}

/* Unary operations on ST0 (D9 E0..FF). */
static void unary(CPUX86State *env, unsigned which)
{
    FloatStatus s = status(env);
    floatx80 r, r2;
    uint16_t cc;
    switch (which) {
    case 0x20:  /* FCHS */
    case 0x21:  /* FABS */
        if (!need(env, 1, 0))
            return;
        if (which == 0x20)
            st(env, 0)->sexp ^= 0x8000;
        else
            st(env, 0)->sexp &= 0x7fff;
        env->fpus &= (uint16_t)~FPU_C1;
        return;
    case 0x24:  /* FTST */
        ftst(env);
        return;
    case 0x25:  /* FXAM */
        env->fpus = (uint16_t)((env->fpus & ~FSW_CC) | floatx80_fxam(*st(env, 0), is_empty(env, 0)));
        return;
    case 0x28: case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: {
        static const FloatX80Constant k[7] = {
            FLOATX80_CONST_ONE, FLOATX80_CONST_L2T, FLOATX80_CONST_L2E, FLOATX80_CONST_PI,
            FLOATX80_CONST_LG2, FLOATX80_CONST_LN2, FLOATX80_CONST_ZERO,
        };
        env->fpus &= (uint16_t)~FPU_C1;
        push_checked(env, floatx80_constant(k[which - 0x28], &s));
        return;
    }
    case 0x30:  /* F2XM1 */
        if (!need(env, 1, 0))
            return;
        if (!host(env, X87_HOST_F2XM1, *st(env, 0), *st(env, 0), &r, NULL, &s))
            r = floatx80_f2xm1(*st(env, 0), &s);
        if (commit(env, &s))
            *st(env, 0) = r;
        return;
    case 0x31:  /* FYL2X */
    case 0x39:  /* FYL2XP1 */
        if (!need(env, 2, 1)) {
            if (masked(env, FSW_IE))
                fpop(env);
            return;
        }
        if (!host(env, which == 0x31 ? X87_HOST_FYL2X : X87_HOST_FYL2XP1, *st(env, 0), *st(env, 1),
                  &r, NULL, &s))
            r = which == 0x31 ? floatx80_fyl2x(*st(env, 0), *st(env, 1), &s)
                              : floatx80_fyl2xp1(*st(env, 0), *st(env, 1), &s);
        if (commit(env, &s)) {
            *st(env, 1) = r;
            fpop(env);
        }
        return;
    case 0x32:  /* FPTAN */
        if (!need(env, 1, 0))
            return;
        if (!host(env, X87_HOST_FPTAN, *st(env, 0), *st(env, 0), &r, &r2, &s) &&
            !floatx80_fptan(*st(env, 0), &r, &r2, &s)) {
            env->fpus |= FPU_C2;
            return;
        }
        env->fpus &= (uint16_t)~FPU_C2;
        if (!is_empty(env, 7)) {
            two_result_overflow(env);
            return;
        }
        if (commit(env, &s)) {
            *st(env, 0) = r;
            fpush(env, r2);
        }
        return;
    case 0x33:  /* FPATAN */
        if (!need(env, 2, 1)) {
            if (masked(env, FSW_IE))
                fpop(env);
            return;
        }
        if (!host(env, X87_HOST_FPATAN, *st(env, 0), *st(env, 1), &r, NULL, &s))
            r = floatx80_fpatan(*st(env, 0), *st(env, 1), &s);
        if (commit(env, &s)) {
            *st(env, 1) = r;
            fpop(env);
        }
        return;
    case 0x34:  /* FXTRACT */
        if (is_empty(env, 0)) {
            /* masked underflow: both results are the indefinite, pushed
             * as a normal FXTRACT pushes (the hardware's TOP-1) */
            if (stack_fault(env, false)) {
                *st(env, 0) = indefinite();
                set_valid(env, 0);
                fpush(env, indefinite());
            }
            return;
        }
        if (!is_empty(env, 7)) {
            two_result_overflow(env);
            return;
        }
        r = floatx80_extract(*st(env, 0), &r2, &s);
        if (commit(env, &s)) {
            *st(env, 0) = r2;
            fpush(env, r);
        }
        return;
    case 0x35:  /* FPREM1 */
    case 0x38:  /* FPREM */
        if (!need(env, 2, 0)) {
            if (masked(env, FSW_IE))
                env->fpus &= (uint16_t)~FPU_C2;     /* "complete", as the hardware reports */
            return;
        }
        cc = 0;
        {
            uint16_t before = env->fpus;
            r = floatx80_prem(*st(env, 0), *st(env, 1), which == 0x35, &cc, &s);
            if (commit(env, &s)) {
                *st(env, 0) = r;
                /* a NaN result (NaN or invalid operands) has no quotient:
                 * the hardware clears C1 and C2 and leaves C0 and C3; an
                 * infinite divisor is quotient 0 */
                if (floatx80_is_nan(r))
                    cc = before & (FPU_C0 | FPU_C3);
                env->fpus = (uint16_t)((env->fpus & ~FSW_CC) | cc);
            }
        }
        return;
    case 0x36:  /* FDECSTP */
        env->fpstt = (env->fpstt - 1) & 7;
        env->fpus &= (uint16_t)~FPU_C1;
        return;
    case 0x37:  /* FINCSTP */
        env->fpstt = (env->fpstt + 1) & 7;
        env->fpus &= (uint16_t)~FPU_C1;
        return;
    case 0x3a:  /* FSQRT */
        if (need(env, 1, 0) && (r = floatx80_sqrt(*st(env, 0), &s), commit(env, &s)))
            *st(env, 0) = r;
        return;
    case 0x3b:  /* FSINCOS */
        if (!need(env, 1, 0))
            return;
        if (!host(env, X87_HOST_FSINCOS, *st(env, 0), *st(env, 0), &r, &r2, &s) &&
            !floatx80_fsincos(*st(env, 0), &r, &r2, &s)) {
            env->fpus |= FPU_C2;
            return;
        }
        env->fpus &= (uint16_t)~FPU_C2;
        if (!is_empty(env, 7)) {
            two_result_overflow(env);
            return;
        }
        if (commit(env, &s)) {
            *st(env, 0) = r;
            fpush(env, r2);
        }
        return;
    case 0x3c:  /* FRNDINT */
        if (need(env, 1, 0) && (r = floatx80_round_to_int(*st(env, 0), &s), commit(env, &s)))
            *st(env, 0) = r;
        return;
    case 0x3d:  /* FSCALE */
        if (need(env, 2, 0) && (r = floatx80_scale(*st(env, 0), *st(env, 1), &s), commit(env, &s)))
            *st(env, 0) = r;
        return;
    case 0x3e:  /* FSIN */
    case 0x3f: { /* FCOS */
        if (!need(env, 1, 0))
            return;
        bool ok = host(env, which == 0x3e ? X87_HOST_FSIN : X87_HOST_FCOS, *st(env, 0), *st(env, 0), &r,
                       NULL, &s) ||
                  (which == 0x3e ? floatx80_fsin(*st(env, 0), &r, &s) : floatx80_fcos(*st(env, 0), &r, &s));
        if (!ok) {
            env->fpus |= FPU_C2;
            return;
        }
        env->fpus &= (uint16_t)~FPU_C2;
        if (commit(env, &s))
            *st(env, 0) = r;
        return;
    }
    default:
        return;
    }
}

static void fxch(CPUX86State *env, unsigned i)
{
    if (is_empty(env, 0) || is_empty(env, i)) {
        if (!stack_fault(env, false))
            return;
        if (is_empty(env, 0))
            *st(env, 0) = indefinite();
        if (is_empty(env, i))
            *st(env, i) = indefinite();
        set_valid(env, 0);
        set_valid(env, i);
    }
    floatx80 t = *st(env, 0);
    *st(env, 0) = *st(env, i);
    *st(env, i) = t;
    env->fpus &= (uint16_t)~FPU_C1;
}

static void fst_reg(CPUX86State *env, unsigned i, bool pop)
{
    if (is_empty(env, 0)) {
        if (!stack_fault(env, false))
            return;
        *st(env, i) = indefinite();
    } else {
        *st(env, i) = *st(env, 0);
        env->fpus &= (uint16_t)~FPU_C1;
    }
    set_valid(env, i);
    if (pop)
        fpop(env);
}

/* An empty source is reported before a full stack (C1 = 0), as the
 * hardware does when both apply. */
static void fld_reg(CPUX86State *env, unsigned i)
{
    if (is_empty(env, i)) {
        if (stack_fault(env, false))
            fpush(env, indefinite());
        return;
    }
    if (!is_empty(env, 7)) {
        if (stack_fault(env, true))
            fpush(env, indefinite());
        return;
    }
    env->fpus &= (uint16_t)~FPU_C1;
    fpush(env, *st(env, i));
}

static void fcmov(CPUX86State *env, unsigned i, bool cond)
{
    if (is_empty(env, 0) || is_empty(env, i)) {
        if (stack_fault(env, false)) {
            *st(env, 0) = indefinite();
            set_valid(env, 0);
        }
        return;
    }
    if (cond)
        *st(env, 0) = *st(env, i);
}

static void fnclex(CPUX86State *env)
{
    env->fpus &= (uint16_t)~(0x3f | FSW_SF | FSW_ES | FSW_B);
    set_ferr(false);
}

/* One helper for the register forms (mod == 3). desc = opcode low 3 bits << 8
 * | ModRM; arg: FCMOV condition (0/1). Returns the new EFLAGS bits (FCOMI)
 * or AX (FNSTSW AX). */
uint64_t helper_fpu_reg(CPUX86State *env, uint64_t desc, uint64_t arg)
{
    unsigned op = (desc >> 8) & 7, reg = (desc >> 3) & 7, i = desc & 7;
    static const X87Arith rev[8] = {
        X87_FADD, X87_FMUL, X87_FADD, X87_FADD, X87_FSUBR, X87_FSUB, X87_FDIVR, X87_FDIV,
    };
    switch (op) {
    case 0:
        if (reg == 2 || reg == 3)
            compare_reg(env, i, false, reg == 3);
        else
            arith_reg(env, arith_of_reg[reg], 0, i, false);
        return 0;
    case 1:
        switch (reg) {
        case 0: fld_reg(env, i); break;
        case 1: fxch(env, i); break;
        case 2: break;                                  /* FNOP */
        case 3: fst_reg(env, i, true); break;           /* FSTP1 alias */
        default: unary(env, (reg - 4) * 8 + i + 0x20); break;
        }
        return 0;
    case 2:
        if (reg < 4)
            fcmov(env, i, arg);
        else                                            /* DA E9: FUCOMPP */
            compare_reg(env, 1, true, 2);
        return 0;
    case 3:
        if (reg < 4) {
            fcmov(env, i, arg);
        } else if (reg == 4) {
            if (i == 2)
                fnclex(env);
            else if (i == 3)
                x87_reset(env), set_ferr(false);
        } else {
            return comi_reg(env, i, reg == 5, false);
        }
        return 0;
    case 4:
    case 6:
        if (op == 6 && reg == 3)                        /* DE D9: FCOMPP */
            compare_reg(env, 1, false, 2);
        else if (reg == 2 || reg == 3)                  /* FCOM/FCOMP and their aliases */
            compare_reg(env, i, false, op == 6 || reg == 3);
        else
            arith_reg(env, rev[reg], i, 0, op == 6);
        return 0;
    case 5:
        switch (reg) {
        case 0: ffree(env, i); break;
        case 1: fxch(env, i); break;
        case 2: fst_reg(env, i, false); break;
        case 3: fst_reg(env, i, true); break;
        case 4: compare_reg(env, i, true, 0); break;
        case 5: compare_reg(env, i, true, 1); break;
        }
        return 0;
    default:
        switch (reg) {
        case 0:                                                        /* FFREEP */
            ffree(env, i);
            fpop(env);
            return 0;
        case 1: fxch(env, i); return 0;
        case 2: case 3: fst_reg(env, i, true); return 0;
        case 4: return x87_status_word(env);                           /* FNSTSW AX */
        default: return comi_reg(env, i, reg == 5, true);
        }
    }
}

/* FNSTSW m16 / AX and the pending check for MMX instructions use these. */
uint64_t helper_fpu_status_word(CPUX86State *env)
{
    return x87_status_word(env);
}
