/* Lazy arithmetic flags: compute EFLAGS' arithmetic bits when they are read.
 * See cc.h for what each cc_op keeps in cc_dst/cc_src/cc_src2. */
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"

static inline uint64_t trunc_to(uint64_t v, unsigned bits)
{
    return bits == 64 ? v : v & ((1ULL << bits) - 1);
}

static inline uint32_t sign_of(uint64_t v, unsigned bits)
{
    return (v >> (bits - 1)) & 1;
}

static uint32_t parity(uint64_t v)
{
    return __builtin_parity((unsigned)(v & 0xff)) ? 0 : CC_P;
}

/* ZF, SF and PF from a result. */
static uint32_t zsp(uint64_t dst, unsigned bits)
{
    dst = trunc_to(dst, bits);
    return (dst == 0 ? CC_Z : 0) | (sign_of(dst, bits) ? CC_S : 0) | parity(dst);
}

static uint32_t add_flags(uint64_t a, uint64_t b, uint64_t d, uint32_t cf, unsigned bits)
{
    uint32_t of = sign_of((a ^ d) & (b ^ d), bits);
    return (cf ? CC_C : 0) | ((a ^ b ^ d) & CC_A) | (of ? CC_O : 0) | zsp(d, bits);
}

static uint32_t sub_flags(uint64_t a, uint64_t b, uint64_t d, uint32_t cf, unsigned bits)
{
    uint32_t of = sign_of((a ^ b) & (a ^ d), bits);
    return (cf ? CC_C : 0) | ((a ^ b ^ d) & CC_A) | (of ? CC_O : 0) | zsp(d, bits);
}

/* CF of a lazy state; d and s already truncated to bits. */
static inline uint32_t carry_of(unsigned kind, uint64_t d, uint64_t s, uint64_t src, uint64_t src2,
                                unsigned bits)
{
    uint64_t a;
    switch (kind) {
    case CC_K_EFLAGS: return src & CC_C;
    case CC_K_ADD: return d < s;
    case CC_K_ADC: return src2 ? d <= s : d < s;
    case CC_K_SUB: a = trunc_to(d + s, bits); return a < s;
    case CC_K_SBB: a = trunc_to(d + s + src2, bits); return src2 ? a <= s : a < s;
    case CC_K_INC: case CC_K_DEC: return src & 1;
    case CC_K_SHL: return sign_of(src, bits);
    case CC_K_SHR: case CC_K_SAR: return src & 1;
    case CC_K_MUL: return src != 0;
    default: return 0;   /* LOGIC */
    }
}

uint32_t cc_carry(uint32_t cc_op, uint64_t dst, uint64_t src, uint64_t src2)
{
    unsigned bits = 8u << CC_OP_SIZE_LOG2(cc_op);
    return carry_of(CC_OP_KIND(cc_op), trunc_to(dst, bits), trunc_to(src, bits), src, src2, bits);
}

/* One switch: the carry is computed inline by the kinds that need it. */
uint32_t cc_flags(uint32_t cc_op, uint64_t dst, uint64_t src, uint64_t src2)
{
    unsigned bits = 8u << CC_OP_SIZE_LOG2(cc_op), kind = CC_OP_KIND(cc_op);
    uint64_t d = trunc_to(dst, bits), s = trunc_to(src, bits);
    uint64_t minint = 1ULL << (bits - 1);
    uint32_t cf;
    switch (kind) {
    case CC_K_EFLAGS:
        return src & CC_MASK;
    case CC_K_ADD:
        return add_flags(trunc_to(d - s, bits), s, d, d < s, bits);
    case CC_K_ADC:
        return add_flags(trunc_to(d - s - src2, bits), s, d, carry_of(kind, d, s, src, src2, bits), bits);
    case CC_K_SUB: {
        uint64_t a = trunc_to(d + s, bits);
        return sub_flags(a, s, d, a < s, bits);
    }
    case CC_K_SBB:
        return sub_flags(trunc_to(d + s + src2, bits), s, d, carry_of(kind, d, s, src, src2, bits), bits);
    case CC_K_LOGIC:
        return zsp(d, bits);
    case CC_K_INC:
        return (src & 1) | ((d & 0xf) == 0 ? CC_A : 0) | (d == minint ? CC_O : 0) | zsp(d, bits);
    case CC_K_DEC:
        return (src & 1) | ((d & 0xf) == 0xf ? CC_A : 0) | (d == minint - 1 ? CC_O : 0) | zsp(d, bits);
    case CC_K_SHL:
        cf = sign_of(src, bits);
        return cf | ((sign_of(d, bits) ^ cf) ? CC_O : 0) | zsp(d, bits);
    case CC_K_SHR:
        return (src & 1) | (sign_of(s, bits) ? CC_O : 0) | zsp(d, bits);
    case CC_K_SAR:
        return (src & 1) | zsp(d, bits);
    case CC_K_MUL:
        return (src != 0 ? CC_C | CC_O : 0) | zsp(d, bits);
    default:
        return 0;
    }
}

bool cc_condition(uint32_t f, unsigned cond)
{
    bool r;
    switch ((cond >> 1) & 7) {
    case 0: r = f & CC_O; break;                                  /* O */
    case 1: r = f & CC_C; break;                                  /* B */
    case 2: r = f & CC_Z; break;                                  /* Z */
    case 3: r = f & (CC_C | CC_Z); break;                         /* BE */
    case 4: r = f & CC_S; break;                                  /* S */
    case 5: r = f & CC_P; break;                                  /* P */
    case 6: r = !(f & CC_S) != !(f & CC_O); break;                /* L */
    default: r = (f & CC_Z) || (!(f & CC_S) != !(f & CC_O)); break; /* LE */
    }
    return (cond & 1) ? !r : r;
}

uint32_t cc_compute_all(CPUX86State *env)
{
    return cc_flags(env->cc_op, env->cc_dst, env->cc_src, env->cc_src2);
}

void cc_set_all(CPUX86State *env, uint32_t flags)
{
    env->cc_op = CC_OP_EFLAGS;
    env->cc_src = flags & CC_MASK;
    env->cc_dst = 0;
    env->cc_src2 = 0;
}
