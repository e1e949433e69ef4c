/* Internals shared by the softfloat-*.c and fpu-*.c files: formats described
 * as data, operands unpacked into FloatParts, one rounding routine for all.
 *
 * Every format is handled through a common "wide" encoding: sign, biased
 * exponent and a 64-bit significand with the integer bit at bit 63 (the
 * floatx80 layout). float32/float64 fractions are left-aligned into it, so a
 * NaN payload keeps its position across formats. */
#ifndef CPU_X86_SOFTFLOAT_INTERNAL_H
#define CPU_X86_SOFTFLOAT_INTERNAL_H

#include <stddef.h>

#include "cpu/x86/softfloat.h"

typedef unsigned __int128 u128;

typedef struct FloatFormat {
    int exp_max_biased;   /* all-ones exponent: 0xFF, 0x7FF, 0x7FFF */
    int bias;
    int emin, emax;       /* unbiased exponents of normal numbers */
    int prec;             /* significand bits including the integer bit */
    bool explicit_int;    /* floatx80: the integer bit is stored */
    bool sse;             /* SSE NaN rules, DAZ/FTZ apply */
} FloatFormat;

extern const FloatFormat float16_format, float32_format, float64_format, floatx80_format;

typedef enum FloatClass {
    FC_ZERO,
    FC_NORMAL,          /* finite non-zero, including denormals */
    FC_INF,
    FC_QNAN,
    FC_SNAN,
    FC_UNSUPPORTED,     /* x87 unnormal / pseudo-NaN / pseudo-infinity */
} FloatClass;

/* An unpacked operand. For FC_NORMAL: value = sig * 2^(exp - 63) with bit 63
 * of sig set. For NaNs: sig is the raw wide significand (payload). */
typedef struct FloatParts {
    FloatClass cls;
    bool sign;
    bool denormal;      /* the encoding was a (pseudo-)denormal */
    int32_t exp;
    uint64_t sig;
} FloatParts;

/* The wide encoding of a packed value. */
typedef struct FloatWide {
    bool sign;
    int32_t bexp;
    uint64_t mant;
} FloatWide;

static inline bool is_nan_class(FloatClass c)
{
    return c == FC_QNAN || c == FC_SNAN;
}

static inline int clz64(uint64_t x)
{
    return x ? __builtin_clzll(x) : 64;
}

static inline int clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + clz64((uint64_t)x);
}

/* Shift right, OR-ing every bit shifted out into bit 0 ("sticky"). */
static inline u128 shift_right_jam128(u128 x, int n)
{
    if (n <= 0)
        return x;
    if (n >= 128)
        return x != 0;
    return (x >> n) | ((x & (((u128)1 << n) - 1)) != 0);
}

/* pack/unpack between formats and FloatWide, and classification (applying
 * DAZ for SSE formats); inline because every operation starts and ends
 * with them. */
#define BIT63 (1ull << 63)
#define QUIET_BIT (1ull << 62)

static inline FloatWide float16_to_wide(float16 a)
{
    FloatWide w = { .sign = a >> 15, .bexp = (a >> 10) & 0x1F };
    w.mant = (uint64_t)(a & 0x3FF) << 53;
    if (w.bexp)
        w.mant |= BIT63;
    return w;
}

static inline float16 wide_to_float16(FloatWide w)
{
    return (float16)((w.sign << 15) | (w.bexp << 10) | ((w.mant >> 53) & 0x3FF));
}

static inline FloatWide float32_to_wide(float32 a)
{
    FloatWide w = { .sign = a >> 31, .bexp = (a >> 23) & 0xFF };
    w.mant = (uint64_t)(a & 0x7FFFFF) << 40;
    if (w.bexp)
        w.mant |= BIT63;
    return w;
}

static inline FloatWide float64_to_wide(float64 a)
{
    FloatWide w = { .sign = a >> 63, .bexp = (a >> 52) & 0x7FF };
    w.mant = (a & 0xFFFFFFFFFFFFFull) << 11;
    if (w.bexp)
        w.mant |= BIT63;
    return w;
}

static inline FloatWide floatx80_to_wide(floatx80 a)
{
    FloatWide w = { .sign = a.sexp >> 15, .bexp = a.sexp & 0x7FFF, .mant = a.mant };
    return w;
}

static inline float32 wide_to_float32(FloatWide w)
{
    return ((uint32_t)w.sign << 31) | ((uint32_t)w.bexp << 23) |
           (uint32_t)((w.mant >> 40) & 0x7FFFFF);
}

static inline float64 wide_to_float64(FloatWide w)
{
    return ((uint64_t)w.sign << 63) | ((uint64_t)w.bexp << 52) |
           ((w.mant >> 11) & 0xFFFFFFFFFFFFFull);
}

static inline floatx80 wide_to_floatx80(FloatWide w)
{
    return make_floatx80((uint16_t)((w.sign << 15) | w.bexp), w.mant);
}

static inline FloatParts parts_unpack(FloatWide w, const FloatFormat *f, const FloatStatus *s)
{
    FloatParts p = { .sign = w.sign, .sig = w.mant };
    bool int_bit = w.mant & BIT63;

    if (w.bexp == f->exp_max_biased) {
        if (f->explicit_int && !int_bit)
            p.cls = FC_UNSUPPORTED;
        else if (!(w.mant << 1))
            p.cls = FC_INF;
        else
            p.cls = (w.mant & QUIET_BIT) ? FC_QNAN : FC_SNAN;
        return p;
    }
    if (w.bexp == 0) {
        if (w.mant == 0) {
            p.cls = FC_ZERO;
            return p;
        }
        if (f->sse && s->denormals_are_zero) {
            p.cls = FC_ZERO;
            p.sig = 0;
            return p;
        }
        /* (pseudo-)denormal: value = mant * 2^(emin - 63) */
        int shift = clz64(w.mant);
        p.cls = FC_NORMAL;
        p.denormal = true;
        p.sig = w.mant << shift;
        p.exp = f->emin - shift;
        return p;
    }
    if (f->explicit_int && !int_bit) {
        p.cls = FC_UNSUPPORTED;     /* unnormal */
        return p;
    }
    p.cls = FC_NORMAL;
    p.exp = w.bexp - f->bias;
    return p;
}

static inline FloatParts unpack32(float32 a, const FloatStatus *s)
{
    return parts_unpack(float32_to_wide(a), &float32_format, s);
}
static inline FloatParts unpack64(float64 a, const FloatStatus *s)
{
    return parts_unpack(float64_to_wide(a), &float64_format, s);
}
static inline FloatParts unpack80(floatx80 a, const FloatStatus *s)
{
    return parts_unpack(floatx80_to_wide(a), &floatx80_format, s);
}

/* Round sig * 2^(exp - 127) (sig need not be normalized; any set low bit
 * counts as sticky) to prec significand bits in format f, raising the
 * flags, and return the packed wide value. */
FloatWide round_pack(bool sign, int32_t exp, u128 sig, const FloatFormat *f, int prec,
                     FloatStatus *s);

/* Special results */
FloatWide wide_zero(bool sign);
FloatWide wide_inf(bool sign, const FloatFormat *f);
FloatWide wide_default_nan(const FloatFormat *f);
/* The NaN result of an operation with NaN (or unsupported) operands,
 * following the format's rules; raises invalid for SNaN/unsupported.
 * b may be NULL for one-operand operations. */
FloatWide propagate_nan(const FloatParts *a, const FloatParts *b, const FloatFormat *f,
                        FloatStatus *s);
/* The quiet version of a NaN operand (payload kept). */
FloatWide quiet_nan_of(const FloatParts *a, const FloatFormat *f);

/* Precision for arithmetic results of format f under status s. */
static inline int result_prec(const FloatFormat *f, const FloatStatus *s)
{
    if (f->explicit_int && s->precision && s->precision < 64)
        return s->precision;
    return f->prec;
}

/* Generic arithmetic on wide values (the per-format functions wrap these). */
FloatWide wide_add(FloatWide a, FloatWide b, bool subtract, const FloatFormat *f,
                   FloatStatus *s);
FloatWide wide_mul(FloatWide a, FloatWide b, const FloatFormat *f, FloatStatus *s);
FloatWide wide_div(FloatWide a, FloatWide b, const FloatFormat *f, FloatStatus *s);
FloatWide wide_sqrt(FloatWide a, const FloatFormat *f, FloatStatus *s);
/* The same on operands already unpacked (possibly from different formats:
 * FloatParts do not depend on the format); the result is in format f. */
FloatWide parts_add(FloatParts a, FloatParts b, bool subtract, const FloatFormat *f,
                    FloatStatus *s);
FloatWide parts_mul(FloatParts a, FloatParts b, const FloatFormat *f, FloatStatus *s);
FloatWide parts_div(FloatParts a, FloatParts b, const FloatFormat *f, FloatStatus *s);
FloatRelation compare_parts(const FloatParts *a, const FloatParts *b, bool quiet,
                            FloatStatus *s);

/* Round to a signed integer of `bits` bits (status rounding mode, or toward
 * zero); invalid and the most negative value when it does not fit. */
int64_t wide_to_int(FloatWide w, const FloatFormat *f, int bits, bool truncate,
                    FloatStatus *s);

/* Round to an integral value in the same format (status rounding mode). */
FloatWide wide_round_to_int(FloatWide a, const FloatFormat *f, FloatStatus *s);

static inline void raise_flags(FloatStatus *s, unsigned flags)
{
    s->flags |= flags;
}

#endif
