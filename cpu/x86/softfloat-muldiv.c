/* Multiplication and division: exact product / 128-bit quotient with a sticky
 * bit for the remainder, rounded once. */
#include "cpu/x86/softfloat-internal.h"

FloatWide wide_mul(FloatWide wa, FloatWide wb, const FloatFormat *f, FloatStatus *s)
{
    return parts_mul(parts_unpack(wa, f, s), parts_unpack(wb, f, s), f, s);
}

FloatWide parts_mul(FloatParts a, FloatParts b, const FloatFormat *f, FloatStatus *s)
{
    bool sign = a.sign ^ b.sign;
    if (a.cls >= FC_QNAN || b.cls >= FC_QNAN)
        return propagate_nan(&a, &b, f, s);
    if ((a.cls == FC_INF && b.cls == FC_ZERO) || (a.cls == FC_ZERO && b.cls == FC_INF)) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return wide_default_nan(f);
    }
    if (a.denormal || b.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (a.cls == FC_INF || b.cls == FC_INF)
        return wide_inf(sign, f);
    if (a.cls == FC_ZERO || b.cls == FC_ZERO)
        return wide_zero(sign);
    /* value = product * 2^(ea + eb - 126) */
    u128 product = (u128)a.sig * b.sig;
    return round_pack(sign, a.exp + b.exp + 1, product, f, result_prec(f, s), s);
}

FloatWide wide_div(FloatWide wa, FloatWide wb, const FloatFormat *f, FloatStatus *s)
{
    return parts_div(parts_unpack(wa, f, s), parts_unpack(wb, f, s), f, s);
}

FloatWide parts_div(FloatParts a, FloatParts b, const FloatFormat *f, FloatStatus *s)
{
    bool sign = a.sign ^ b.sign;
    if (a.cls >= FC_QNAN || b.cls >= FC_QNAN)
        return propagate_nan(&a, &b, f, s);
    if ((a.cls == FC_INF && b.cls == FC_INF) || (a.cls == FC_ZERO && b.cls == FC_ZERO)) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return wide_default_nan(f);
    }
    /* divide-by-zero takes precedence over the denormal operand exception */
    if (b.cls == FC_ZERO && a.cls != FC_INF) {
        raise_flags(s, FLOAT_FLAG_DIVBYZERO);
        return wide_inf(sign, f);
    }
    if (a.denormal || b.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (a.cls == FC_INF)
        return wide_inf(sign, f);
    if (b.cls == FC_INF || a.cls == FC_ZERO)
        return wide_zero(sign);
    /* Two steps of 128/64 division give 128 quotient bits: a/b * 2^128 =
     * q1 * 2^64 + q2 + r2 / b. Keep 127 bits and a sticky bit. */
    u128 q1 = ((u128)a.sig << 64) / b.sig;
    u128 r1 = ((u128)a.sig << 64) % b.sig;
    u128 q2 = (r1 << 64) / b.sig;
    u128 r2 = (r1 << 64) % b.sig;
    u128 sig = (q1 << 62) | (q2 >> 2) | ((q2 & 3) != 0 || r2 != 0);
    /* sig * 2^-126 = a.sig / b.sig */
    return round_pack(sign, a.exp - b.exp + 1, sig, f, result_prec(f, s), s);
}

float32 float32_mul(float32 a, float32 b, FloatStatus *s)
{
    return wide_to_float32(wide_mul(float32_to_wide(a), float32_to_wide(b), &float32_format, s));
}

float32 float32_div(float32 a, float32 b, FloatStatus *s)
{
    return wide_to_float32(wide_div(float32_to_wide(a), float32_to_wide(b), &float32_format, s));
}

float64 float64_mul(float64 a, float64 b, FloatStatus *s)
{
    return wide_to_float64(wide_mul(float64_to_wide(a), float64_to_wide(b), &float64_format, s));
}

float64 float64_div(float64 a, float64 b, FloatStatus *s)
{
    return wide_to_float64(wide_div(float64_to_wide(a), float64_to_wide(b), &float64_format, s));
}

floatx80 floatx80_mul(floatx80 a, floatx80 b, FloatStatus *s)
{
    return wide_to_floatx80(wide_mul(floatx80_to_wide(a), floatx80_to_wide(b),
                                     &floatx80_format, s));
}

floatx80 floatx80_div(floatx80 a, floatx80 b, FloatStatus *s)
{
    return wide_to_floatx80(wide_div(floatx80_to_wide(a), floatx80_to_wide(b),
                                     &floatx80_format, s));
}
