/* RCPSS/RCPPS and RSQRTSS/RSQRTPS: approximations whose exact bits are a
 * hardware table (different on Intel and AMD). We return the exact value
 * rounded to 12 significant bits, well within the architectural bound
 * (relative error <= 1.5 * 2^-12), with the hardware's special cases:
 * no flags at all (not even for SNaN), denormal inputs count as zero
 * (infinity out), results below the normal range are flushed to zero. */
#include "cpu/x86/softfloat-internal.h"

#define APPROX_BITS 12

static float32 approx_special(const FloatParts *a, bool rsqrt, bool *done)
{
    *done = true;
    if (is_nan_class(a->cls))
        return (a->sign ? 0x80000000u : 0) | 0x7FC00000u | (uint32_t)((a->sig >> 40) & 0x3FFFFF);
    if (a->cls == FC_ZERO || a->denormal)
        return (a->sign ? 0x80000000u : 0) | 0x7F800000u;
    if (rsqrt && a->sign)
        return FLOAT32_DEFAULT_NAN;
    if (a->cls == FC_INF)
        return a->sign ? 0x80000000u : 0;
    *done = false;
    return 0;
}

/* Round a positive float64 result to APPROX_BITS bits as float32, flushing
 * what is below the normal range. */
static float32 approx_pack(bool sign, float64 r)
{
    FloatStatus quiet = { .rounding = FLOAT_ROUND_NEAREST_EVEN };
    FloatParts p = unpack64(r, &quiet);
    FloatWide w = round_pack(sign, p.exp, (u128)p.sig << 64, &float32_format, APPROX_BITS,
                             &quiet);
    if (w.bexp == 0)
        return sign ? 0x80000000u : 0;
    return wide_to_float32(w);
}

float32 float32_rcp_approx(float32 a, FloatStatus *s)
{
    FloatStatus none = { .rounding = FLOAT_ROUND_NEAREST_EVEN };
    FloatParts p = unpack32(a, &none);
    bool done;
    float32 special = approx_special(&p, false, &done);
    (void)s;        /* never raises anything */
    if (done)
        return special;
    float64 x = float32_to_float64(a & 0x7FFFFFFFu, &none);
    return approx_pack(p.sign, float64_div(0x3FF0000000000000ull, x, &none));
}

float32 float32_rsqrt_approx(float32 a, FloatStatus *s)
{
    FloatStatus none = { .rounding = FLOAT_ROUND_NEAREST_EVEN };
    FloatParts p = unpack32(a, &none);
    bool done;
    float32 special = approx_special(&p, true, &done);
    (void)s;
    if (done)
        return special;
    float64 x = float32_to_float64(a, &none);
    return approx_pack(false, float64_div(0x3FF0000000000000ull, float64_sqrt(x, &none), &none));
}
