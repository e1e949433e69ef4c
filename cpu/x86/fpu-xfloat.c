/* 128-bit-significand intermediate arithmetic for the transcendentals. */
#include "cpu/x86/fpu-xfloat.h"

XFloat xf_normalize(bool sign, int32_t exp, u128 sig)
{
    XFloat r = { .sign = sign };
    if (sig == 0)
        return r;
    int lz = clz128(sig);
    r.sig = sig << lz;
    r.exp = exp - lz;
    return r;
}

XFloat xf_from_parts(const FloatParts *p)
{
    XFloat r = { .sign = p->sign };
    if (p->cls == FC_NORMAL) {
        r.sig = (u128)p->sig << 64;
        r.exp = p->exp;
    }
    return r;
}

XFloat xf_from_int(int64_t v)
{
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    return xf_normalize(v < 0, 127, mag);
}

XFloat xf_const(uint64_t hi, uint64_t lo, int32_t exp)
{
    XFloat r = { .sign = false, .exp = exp, .sig = (u128)hi << 64 | lo };
    return r;
}

XFloat xf_mul(XFloat a, XFloat b)
{
    if (!a.sig || !b.sig)
        return xf_normalize(a.sign ^ b.sign, 0, 0);
    uint64_t ah = a.sig >> 64, al = (uint64_t)a.sig, bh = b.sig >> 64, bl = (uint64_t)b.sig;
    u128 hh = (u128)ah * bh, hl = (u128)ah * bl, lh = (u128)al * bh, ll = (u128)al * bl;
    /* high 128 bits of the 256-bit product, low part as a sticky-free carry */
    u128 mid = (hl & ~0ull) + (lh & ~0ull) + (ll >> 64);
    u128 hi = hh + (hl >> 64) + (lh >> 64) + (mid >> 64);
    /* product * 2^(ea + eb - 254) = hi * 2^(ea + eb + 1 - 127) */
    return xf_normalize(a.sign ^ b.sign, a.exp + b.exp + 1, hi);
}

XFloat xf_add(XFloat a, XFloat b)
{
    if (!b.sig)
        return a;
    if (!a.sig)
        return b;
    if (xf_cmp_abs(a, b) < 0) {
        XFloat t = a;
        a = b;
        b = t;
    }
    int64_t d = (int64_t)a.exp - b.exp;
    u128 x = a.sig >> 1;
    /* a sticky bit keeps the direction of a tail too small to see */
    u128 y = shift_right_jam128(b.sig >> 1, d > 200 ? 200 : (int)d);
    /* values are now sig * 2^(exp - 126) */
    return xf_normalize(a.sign, a.exp + 1, a.sign == b.sign ? x + y : x - y);
}

XFloat xf_div(XFloat a, XFloat b)
{
    if (!a.sig || !b.sig)
        return xf_normalize(a.sign ^ b.sign, 0, 0);
    u128 r = a.sig, q = 0;
    for (int i = 0; i < 128; i++) {
        bool carry = i && (r >> 127);
        if (i)
            r <<= 1;
        q <<= 1;
        if (carry || r >= b.sig) {
            r -= b.sig;
            q |= 1;
        }
    }
    /* q * 2^-127 = a.sig / b.sig */
    return xf_normalize(a.sign ^ b.sign, a.exp - b.exp, q);
}

XFloat xf_div_small(XFloat a, uint64_t d)
{
    if (!a.sig)
        return a;
    u128 q1 = a.sig / d, rem = a.sig % d;
    u128 q2 = (rem << 64) / d;
    int lz = clz128(q1);        /* d < 2^64 keeps lz <= 64 */
    u128 sig = lz ? (q1 << lz) | (q2 >> (64 - lz)) : q1;
    XFloat r = { .sign = a.sign, .exp = a.exp - lz, .sig = sig };
    return r;
}

int xf_cmp_abs(XFloat a, XFloat b)
{
    if (!a.sig || !b.sig)
        return (a.sig != 0) - (b.sig != 0);
    if (a.exp != b.exp)
        return a.exp > b.exp ? 1 : -1;
    return (a.sig > b.sig) - (a.sig < b.sig);
}

floatx80 xf_to_floatx80(XFloat a, FloatStatus *s)
{
    /* The hardware reports every transcendental result as inexact, even
     * log2 of a power of two. */
    u128 sig = a.sig;
    if (a.exp < floatx80_format.emin)
        sig |= 1;       /* a tiny result is never exact: report underflow */
    floatx80 r = wide_to_floatx80(round_pack(a.sign, a.exp, sig, &floatx80_format, 64, s));
    raise_flags(s, FLOAT_FLAG_INEXACT);
    return r;
}
