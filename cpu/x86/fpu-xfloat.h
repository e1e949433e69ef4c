/* A 128-bit-significand float used as the intermediate precision of the x87
 * transcendental functions: value = sig * 2^(exp - 127), sig normalized
 * (bit 127 set) or zero. Operations truncate; each loses at most ~2^-126
 * relative, so a chain of a few hundred stays far below the 2^-64 of the
 * final floatx80 rounding. */
#ifndef CPU_X86_FPU_XFLOAT_H
#define CPU_X86_FPU_XFLOAT_H

#include "cpu/x86/softfloat-internal.h"

typedef struct XFloat {
    bool sign;
    int32_t exp;
    u128 sig;
} XFloat;

XFloat xf_normalize(bool sign, int32_t exp, u128 sig);
XFloat xf_from_parts(const FloatParts *p);
XFloat xf_from_int(int64_t v);
XFloat xf_const(uint64_t hi, uint64_t lo, int32_t exp);
static inline XFloat xf_neg(XFloat a)
{
    a.sign = !a.sign;
    return a;
}
static inline bool xf_is_zero(XFloat a)
{
    return a.sig == 0;
}
XFloat xf_mul(XFloat a, XFloat b);
XFloat xf_add(XFloat a, XFloat b);
static inline XFloat xf_sub(XFloat a, XFloat b)
{
    return xf_add(a, xf_neg(b));
}
XFloat xf_div(XFloat a, XFloat b);
XFloat xf_div_small(XFloat a, uint64_t d);
static inline XFloat xf_ldexp(XFloat a, int32_t n)
{
    if (a.sig)
        a.exp += n;
    return a;
}
/* Compare magnitudes: -1, 0, 1. */
int xf_cmp_abs(XFloat a, XFloat b);
/* Round to floatx80 (64-bit significand, status rounding mode, flags);
 * always raises inexact, as the x87 does for its transcendentals. */
floatx80 xf_to_floatx80(XFloat a, FloatStatus *s);

#endif
