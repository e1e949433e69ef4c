/* Addition and subtraction: exact sum in 128 bits, rounded once. */
#include "cpu/x86/softfloat-internal.h"

/* An exact zero result of x + (-x): +0, or -0 when rounding down. */
static FloatWide exact_zero_sum(bool sign_a, bool sign_b, const FloatStatus *s)
{
    if (sign_a == sign_b)
        return wide_zero(sign_a);
    return wide_zero(s->rounding == FLOAT_ROUND_DOWN);
}

static FloatWide add_finite(const FloatParts *a, const FloatParts *b, const FloatFormat *f,
                            FloatStatus *s)
{
    int prec = result_prec(f, s);
    if (a->cls == FC_ZERO && b->cls == FC_ZERO)
        return exact_zero_sum(a->sign, b->sign, s);
    if (b->cls == FC_ZERO)
        return round_pack(a->sign, a->exp, (u128)a->sig << 64, f, prec, s);
    if (a->cls == FC_ZERO)
        return round_pack(b->sign, b->exp, (u128)b->sig << 64, f, prec, s);

    /* Order by magnitude so that big - small is never negative. */
    const FloatParts *big = a, *small = b;
    if (b->exp > a->exp || (b->exp == a->exp && b->sig > a->sig)) {
        big = b;
        small = a;
    }
    /* One spare top bit for the carry of an addition: value = sig * 2^(exp - 126). */
    u128 x = (u128)big->sig << 63;
    int64_t diff = (int64_t)big->exp - small->exp;
    u128 y = shift_right_jam128((u128)small->sig << 63, diff > 200 ? 200 : (int)diff);
    if (big->sign == small->sign)
        return round_pack(big->sign, big->exp + 1, x + y, f, prec, s);
    if (x == y)
        return exact_zero_sum(a->sign, b->sign, s);
    return round_pack(big->sign, big->exp + 1, x - y, f, prec, s);
}

FloatWide wide_add(FloatWide wa, FloatWide wb, bool subtract, const FloatFormat *f,
                   FloatStatus *s)
{
    return parts_add(parts_unpack(wa, f, s), parts_unpack(wb, f, s), subtract, f, s);
}

FloatWide parts_add(FloatParts a, FloatParts b, bool subtract, const FloatFormat *f,
                    FloatStatus *s)
{
    if (subtract)
        b.sign = !b.sign;
    if (a.cls >= FC_QNAN || b.cls >= FC_QNAN) {
        if (subtract)
            b.sign = !b.sign;      /* a NaN keeps its own sign */
        return propagate_nan(&a, &b, f, s);
    }
    if (a.denormal || b.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (a.cls == FC_INF || b.cls == FC_INF) {
        if (a.cls == FC_INF && b.cls == FC_INF && a.sign != b.sign) {
            raise_flags(s, FLOAT_FLAG_INVALID);
            return wide_default_nan(f);
        }
        return wide_inf(a.cls == FC_INF ? a.sign : b.sign, f);
    }
    return add_finite(&a, &b, f, s);
}

float32 float32_add(float32 a, float32 b, FloatStatus *s)
{
    return wide_to_float32(wide_add(float32_to_wide(a), float32_to_wide(b), false,
                                    &float32_format, s));
}

float32 float32_sub(float32 a, float32 b, FloatStatus *s)
{
    return wide_to_float32(wide_add(float32_to_wide(a), float32_to_wide(b), true,
                                    &float32_format, s));
}

float64 float64_add(float64 a, float64 b, FloatStatus *s)
{
    return wide_to_float64(wide_add(float64_to_wide(a), float64_to_wide(b), false,
                                    &float64_format, s));
}

float64 float64_sub(float64 a, float64 b, FloatStatus *s)
{
    return wide_to_float64(wide_add(float64_to_wide(a), float64_to_wide(b), true,
                                    &float64_format, s));
}

floatx80 floatx80_add(floatx80 a, floatx80 b, FloatStatus *s)
{
    return wide_to_floatx80(wide_add(floatx80_to_wide(a), floatx80_to_wide(b), false,
                                     &floatx80_format, s));
}

floatx80 floatx80_sub(floatx80 a, floatx80 b, FloatStatus *s)
{
    return wide_to_floatx80(wide_add(floatx80_to_wide(a), floatx80_to_wide(b), true,
                                     &floatx80_format, s));
}
