/* x87-only arithmetic: FPREM/FPREM1 partial remainder, FSCALE, FXTRACT
 * (SDM vol 2 instruction pages, vol 1 8.3). */
#include "cpu/x86/softfloat-internal.h"

static const FloatFormat *const fx = &floatx80_format;

static floatx80 pack80(FloatWide w)
{
    return wide_to_floatx80(w);
}

/* The exponent difference at which FPREM stops doing a complete reduction,
 * and how far one partial step goes: it reduces the exponent difference to
 * a value in [32, 63], keeping the remainder's exponent a multiple of 32
 * below the dividend's. */
#define PREM_MAX_COMPLETE 63
static int prem_partial_bits(int32_t diff)
{
    return 32 + (diff & 31);
}

/* (a_sig * 2^shift) mod b_sig, and the low quotient bits. */
static uint64_t prem_reduce(uint64_t a_sig, uint64_t b_sig, int shift, uint64_t *quotient)
{
    u128 r = a_sig;
    uint64_t q = 0;
    if (r >= b_sig) {
        r -= b_sig;
        q = 1;
    }
    for (int i = 0; i < shift; i++) {
        r <<= 1;
        q <<= 1;
        if (r >= b_sig) {
            r -= b_sig;
            q |= 1;
        }
    }
    *quotient = q;
    return (uint64_t)r;
}

static uint16_t quotient_cc(uint64_t q)
{
    return ((q & 4) ? FPU_C0 : 0) | ((q & 2) ? FPU_C3 : 0) | ((q & 1) ? FPU_C1 : 0);
}

floatx80 floatx80_prem(floatx80 fa, floatx80 fb, bool ieee, uint16_t *cc, FloatStatus *s)
{
    FloatParts a = unpack80(fa, s), b = unpack80(fb, s);
    *cc = 0;
    if (a.cls >= FC_QNAN || b.cls >= FC_QNAN)
        return pack80(propagate_nan(&a, &b, fx, s));
    if (a.cls == FC_INF || b.cls == FC_ZERO) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return pack80(wide_default_nan(fx));
    }
    if (a.denormal || b.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (a.cls == FC_ZERO)
        return pack80(wide_zero(a.sign));
    int32_t diff = a.exp - b.exp;
    if (b.cls == FC_INF || diff < -1 || (diff == -1 && !ieee))
        return pack80(round_pack(a.sign, a.exp, (u128)a.sig << 64, fx, 64, s));

    if (diff == -1) {
        /* FPREM1 with |a| in [|b|/2, |b|): quotient 1 unless exactly half. */
        if (a.sig <= b.sig)
            return pack80(round_pack(a.sign, a.exp, (u128)a.sig << 64, fx, 64, s));
        *cc = quotient_cc(1);
        u128 r = ((u128)b.sig << 1) - a.sig;   /* times 2^(eb - 64) */
        return pack80(round_pack(!a.sign, b.exp + 63, r, fx, 64, s));
    }
    if (diff > PREM_MAX_COMPLETE) {
        int bits = prem_partial_bits(diff);
        uint64_t q;
        uint64_t r = prem_reduce(a.sig, b.sig, bits, &q);
        *cc = FPU_C2;
        if (r == 0)
            return pack80(wide_zero(a.sign));
        return pack80(round_pack(a.sign, b.exp + 64 + (diff - bits), r, fx, 64, s));
    }
    uint64_t q;
    uint64_t r = prem_reduce(a.sig, b.sig, diff, &q);
    bool sign = a.sign;
    u128 rr = r;
    if (ieee && ((rr << 1) > b.sig || ((rr << 1) == b.sig && (q & 1)))) {
        rr = b.sig - rr;
        sign = !sign;
        q++;
    }
    *cc = quotient_cc(q);
    if (rr == 0)
        return pack80(wide_zero(a.sign));
    return pack80(round_pack(sign, b.exp + 64, rr, fx, 64, s));
}

floatx80 floatx80_scale(floatx80 fa, floatx80 fb, FloatStatus *s)
{
    FloatParts a = unpack80(fa, s), b = unpack80(fb, s);
    if (a.cls >= FC_QNAN || b.cls >= FC_QNAN)
        return pack80(propagate_nan(&a, &b, fx, s));
    if (b.cls == FC_INF) {
        bool invalid = b.sign ? a.cls == FC_INF : a.cls == FC_ZERO;
        if (invalid) {
            raise_flags(s, FLOAT_FLAG_INVALID);
            return pack80(wide_default_nan(fx));
        }
        if (a.denormal)
            raise_flags(s, FLOAT_FLAG_DENORMAL);
        if (a.cls == FC_INF || (!b.sign && a.cls == FC_NORMAL))
            return pack80(wide_inf(a.sign, fx));
        return pack80(wide_zero(a.sign));
    }
    if (a.denormal || b.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (a.cls == FC_INF)
        return pack80(wide_inf(a.sign, fx));
    if (a.cls == FC_ZERO)
        return pack80(wide_zero(a.sign));
    /* trunc(b), clamped far beyond the exponent range */
    int32_t n = 0;
    if (b.cls == FC_NORMAL && b.exp >= 0)
        n = b.exp > 20 ? (1 << 20) : (int32_t)(b.sig >> (63 - b.exp));
    if (b.sign)
        n = -n;
    return pack80(round_pack(a.sign, a.exp + n, (u128)a.sig << 64, fx, 64, s));
}

floatx80 floatx80_extract(floatx80 fa, floatx80 *exp, FloatStatus *s)
{
    FloatParts a = unpack80(fa, s);
    switch (a.cls) {
    case FC_QNAN:
    case FC_SNAN:
    case FC_UNSUPPORTED: {
        floatx80 nan = pack80(propagate_nan(&a, NULL, fx, s));
        *exp = nan;
        return nan;
    }
    case FC_ZERO:
        raise_flags(s, FLOAT_FLAG_DIVBYZERO);
        *exp = pack80(wide_inf(true, fx));
        return pack80(wide_zero(a.sign));
    case FC_INF:
        *exp = pack80(wide_inf(false, fx));
        return pack80(wide_inf(a.sign, fx));
    default:
        break;
    }
    if (a.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    *exp = int32_to_floatx80(a.exp, s);
    return make_floatx80((uint16_t)(a.sign << 15 | fx->bias), a.sig);
}
