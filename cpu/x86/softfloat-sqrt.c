/* Square root: digit-by-digit (one result bit per step) integer square root
 * of the significand, 66 bits plus a sticky remainder, rounded once. */
#include "cpu/x86/softfloat-internal.h"

/* floor(sqrt(m * 16)) for m < 2^128 with the top two bits not both zero: a
 * 66-bit root; *inexact says whether the remainder was non-zero. */
static u128 isqrt_66(u128 m, bool *inexact)
{
    u128 root = 0, rem = 0;
    for (int i = 0; i < 66; i++) {
        rem = (rem << 2) | (uint64_t)(m >> 126);
        m <<= 2;
        u128 trial = (root << 2) | 1;
        root <<= 1;
        if (rem >= trial) {
            rem -= trial;
            root |= 1;
        }
    }
    *inexact = rem != 0;
    return root;
}

FloatWide wide_sqrt(FloatWide wa, const FloatFormat *f, FloatStatus *s)
{
    FloatParts a = parts_unpack(wa, f, s);
    if (a.cls >= FC_QNAN)
        return propagate_nan(&a, NULL, f, s);
    if (a.cls == FC_ZERO)
        return wide_zero(a.sign);
    if (a.sign) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return wide_default_nan(f);
    }
    if (a.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (a.cls == FC_INF)
        return wide_inf(false, f);
    /* value = m * 2^e with e even; m = sig << 64 or << 63 */
    int32_t e = a.exp - 127;
    u128 m = (u128)a.sig << 64;
    if (e & 1) {
        m >>= 1;
        e += 1;
    }
    bool inexact;
    u128 root = isqrt_66(m, &inexact);
    /* sqrt(value) = root / 4 * 2^(e/2); the sticky bit goes below root */
    return round_pack(false, e / 2 + 124, root << 1 | inexact, f, result_prec(f, s), s);
}

float32 float32_sqrt(float32 a, FloatStatus *s)
{
    return wide_to_float32(wide_sqrt(float32_to_wide(a), &float32_format, s));
}

float64 float64_sqrt(float64 a, FloatStatus *s)
{
    return wide_to_float64(wide_sqrt(float64_to_wide(a), &float64_format, s));
}

floatx80 floatx80_sqrt(floatx80 a, FloatStatus *s)
{
    return wide_to_floatx80(wide_sqrt(floatx80_to_wide(a), &floatx80_format, s));
}
