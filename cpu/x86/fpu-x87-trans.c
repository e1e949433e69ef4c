/* x87 transcendental functions: F2XM1, FYL2X, FYL2XP1, FPATAN, FSIN, FCOS,
 * FSINCOS, FPTAN.
 *
 * Method: everything is computed in XFloat (128-bit significand) with
 * series on reduced arguments, then rounded once to 64 bits with the status
 * rounding mode. Error: the intermediate error is below 2^-115 relative, so
 * the result is the correctly rounded one except when the exact value lies
 * within 2^-115 (relative) of a rounding boundary: at most 1 ulp of the
 * 64-bit significand from the exact result in every rounding mode, for all
 * finite operands (|x| < 2^63 for the trigonometric ones). Checked by
 * test-softfloat-trans-ref (exact match with FPU-independent references) and
 * test-softfloat-x87 (within 1 ulp of the host x87, which is not always
 * correctly rounded itself). Inexact is always reported, as on hardware.
 * Trigonometric arguments are reduced modulo pi/2 with the hardware's own
 * 66-bit pi (SDM vol 1 8.3.10), so for large arguments and next to
 * multiples of pi the results are those of the hardware (and differ from
 * the mathematically exact value as the hardware's do); the statement above
 * holds for sin/cos/tan(x - k * pi66 / 2).
 */
#include "cpu/x86/fpu-xfloat.h"

static const FloatFormat *const fx = &floatx80_format;

/* Constants (128-bit significands; derived with integer Machin/atanh series). */
#define XF_PI xf_const(0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1)
#define XF_LN2 xf_const(0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1)
#define XF_INV_LN2 xf_const(0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0)
/* 2/pi as a 320-bit binary fraction, most significant word first. */
static const uint64_t two_over_pi[5] = {
    0xa2f9836e4e441529ull, 0xfc2757d1f534ddc0ull, 0xdb6295993c439041ull,
    0xfe5163abdebbc561ull, 0xb7246e3a424dd2e0ull,
};

#define SERIES_MAX_TERMS 80
#define SERIES_EXP_GAP 130   /* stop when a term is this far below the sum */

static floatx80 pack80(FloatWide w)
{
    return wide_to_floatx80(w);
}

static XFloat xf_one(void)
{
    return xf_from_int(1);
}

static bool term_negligible(XFloat term, XFloat sum)
{
    return !term.sig || (sum.sig && term.exp < sum.exp - SERIES_EXP_GAP);
}

/* atanh(t) = t + t^3/3 + t^5/5 + ..., |t| <= 0.2 */
static XFloat xf_atanh_small(XFloat t)
{
    XFloat t2 = xf_mul(t, t), power = t, sum = t;
    for (unsigned k = 3; k < 2 * SERIES_MAX_TERMS; k += 2) {
        power = xf_mul(power, t2);
        XFloat term = xf_div_small(power, k);
        /* the first negligible term still gives the tail's direction */
        sum = xf_add(sum, term);
        if (term_negligible(term, sum))
            break;
    }
    return sum;
}

/* log2(x) for a finite positive x. */
static XFloat xf_log2(const FloatParts *x)
{
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)) */
    XFloat m = xf_from_parts(x);
    int32_t e = x->exp;
    m.exp = 0;
    if (m.sig > (((u128)0xb504f333f9de6484ull) << 64)) {   /* sqrt(2) / 2 * 2^128 */
        m.exp = -1;
        e++;
    }
    /* log2(m) = 2 / ln 2 * atanh((m - 1) / (m + 1)) */
    XFloat t = xf_div(xf_sub(m, xf_one()), xf_add(m, xf_one()));
    XFloat l = xf_ldexp(xf_mul(xf_atanh_small(t), XF_INV_LN2), 1);
    return xf_add(xf_from_int(e), l);
}

/* log2(1 + x) for x > -1, accurate for tiny x. */
static XFloat xf_log2p1(const FloatParts *x)
{
    XFloat xx = xf_from_parts(x);
    XFloat t = xf_div(xx, xf_add(xf_from_int(2), xx));
    if (xf_cmp_abs(t, xf_div_small(xf_one(), 6)) <= 0)
        return xf_ldexp(xf_mul(xf_atanh_small(t), XF_INV_LN2), 1);
    /* larger x: log2(1 + x) through the general logarithm of 1 + x */
    XFloat y = xf_add(xx, xf_one());
    FloatParts p = { .cls = FC_NORMAL, .sign = false, .exp = y.exp,
                     .sig = (uint64_t)(y.sig >> 64) };
    XFloat l = xf_log2(&p);
    /* the bits of 1 + x beyond 64 bits: log2(y) = log2(p) + log2(y / p) */
    XFloat py = xf_from_parts(&p);
    XFloat corr = xf_div(xf_sub(y, py), py);
    return xf_add(l, xf_mul(corr, XF_INV_LN2));
}

/* e^y - 1 for |y| <= 1/256: Taylor series */
static XFloat xf_expm1_series(XFloat y)
{
    XFloat term = y, sum = y;
    for (unsigned k = 2; k < SERIES_MAX_TERMS; k++) {
        term = xf_div_small(xf_mul(term, y), k);
        /* the first negligible term still gives the tail's direction */
        sum = xf_add(sum, term);
        if (term_negligible(term, sum))
            break;
    }
    return sum;
}

/* e^y - 1 for |y| <= 1: the series on y / 2^k, then k doublings
 * expm1(2z) = expm1(z) * (expm1(z) + 2), which never cancel. */
static XFloat xf_expm1_small(XFloat y)
{
    int k = y.sig && y.exp > -9 ? y.exp + 9 : 0;
    XFloat e = xf_expm1_series(xf_ldexp(y, -k));
    XFloat two = xf_from_int(2);
    for (int i = 0; i < k; i++)
        e = xf_mul(e, xf_add(e, two));
    return e;
}

/* atan(t) for 0 <= t <= 1 */
static XFloat xf_atan_unit(XFloat t)
{
    XFloat base = { 0 };
    /* above tan(pi/8): atan(t) = pi/4 + atan((t - 1) / (t + 1)) */
    if (xf_cmp_abs(t, xf_const(0xd413cccfe7799211ull, 0x65f626cdd52afa7cull, -2)) > 0) {
        t = xf_div(xf_sub(t, xf_one()), xf_add(t, xf_one()));
        base = xf_ldexp(XF_PI, -2);
    }
    XFloat t2 = xf_mul(t, t), power = t, sum = t;
    for (unsigned k = 3; k < 4 * SERIES_MAX_TERMS; k += 2) {
        power = xf_neg(xf_mul(power, t2));
        XFloat term = xf_div_small(power, k);
        /* the first negligible term still gives the tail's direction */
        sum = xf_add(sum, term);
        if (term_negligible(term, sum))
            break;
    }
    return xf_add(base, sum);
}

/* sin(r) (odd = true) or cos(r) for |r| <= pi/4: the Taylor series with
 * terms r^k / k!, k odd or even. */
static XFloat xf_sin_or_cos_small(XFloat r, bool odd)
{
    XFloat r2 = xf_mul(r, r);
    XFloat term = odd ? r : xf_one(), sum = term;
    for (unsigned k = odd ? 2 : 1; k < 2 * SERIES_MAX_TERMS; k += 2) {
        term = xf_neg(xf_div_small(xf_mul(term, r2), (uint64_t)k * (k + 1)));
        /* the first negligible term still gives the tail's direction */
        sum = xf_add(sum, term);
        if (term_negligible(term, sum))
            break;
    }
    return sum;
}

/* k = round(|x| * 2/pi) for 1/2 <= |x| < 2^63, from the 320-bit 2/pi. */
static uint64_t quadrant_count(const FloatParts *x)
{
    /* P = X * (2/pi * 2^320), 384 bits; x * 2/pi = P * 2^(ex - 383) */
    uint64_t p[6];                  /* little-endian words */
    u128 carry = 0;
    for (int i = 4; i >= 0; i--) {
        u128 prod = (u128)x->sig * two_over_pi[i] + carry;
        p[4 - i] = (uint64_t)prod;
        carry = prod >> 64;
    }
    p[5] = (uint64_t)carry;
    /* The integer part is the top ex + 1 bits; the next bit is the half. */
    int int_bits = x->exp + 1;
    uint64_t k = int_bits ? p[5] >> (64 - int_bits) : 0;
    bool half = int_bits ? (p[5] >> (63 - int_bits)) & 1 : p[5] >> 63;
    return k + half;
}

/* |x| = k * pi/2 + r. The reduction uses the x87's own 66-bit pi,
 * 0xC90FDAA22168C234C * 2^-66, exactly as the hardware does, so that
 * results match it for large arguments; r is exact. */
#define HW_PI_HI 0xCull              /* top 4 bits of the 68-bit pattern */
#define HW_PI_LO 0x90FDAA22168C234Cull
static unsigned reduce_pi_over_2(const FloatParts *x, XFloat *r)
{
    if (x->exp < -1) {              /* |x| < 1/2: nothing to reduce */
        *r = xf_from_parts(x);
        r->sign = false;
        return 0;
    }
    uint64_t k = quadrant_count(x);
    /* In units of 2^-67: |x| = X << (ex + 4), pi/2 = C. The difference is
     * below 2^67 in magnitude, so arithmetic modulo 2^128 is exact. */
    u128 c = (u128)HW_PI_HI << 64 | HW_PI_LO;
    u128 d = ((u128)x->sig << (x->exp + 4)) - (u128)k * c;
    bool neg = d >> 127;
    *r = xf_normalize(neg, 127 - 67, neg ? -d : d);
    return (unsigned)(k & 3);
}

/* ---- the instructions ---- */

floatx80 floatx80_f2xm1(floatx80 fa, FloatStatus *s)
{
    FloatParts a = unpack80(fa, s);
    if (a.cls >= FC_QNAN)
        return pack80(propagate_nan(&a, NULL, fx, s));
    if (a.cls == FC_ZERO)
        return pack80(wide_zero(a.sign));
    if (a.cls == FC_INF)
        return a.sign ? make_floatx80(0xBFFF, 1ull << 63) : pack80(wide_inf(false, fx));
    if (a.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    bool beyond_one = a.exp > 0 || (a.exp == 0 && a.sig != 1ull << 63);
    if (beyond_one) {
        /* Outside the domain (undefined in the SDM): the hardware returns
         * the operand, inexact. */
        raise_flags(s, FLOAT_FLAG_INEXACT);
        return fa;
    }
    return xf_to_floatx80(xf_expm1_small(xf_mul(xf_from_parts(&a), XF_LN2)), s);
}

/* y * L where L is a logarithm described by its class; shared by FYL2X and
 * FYL2XP1 for the special operands. */
static floatx80 scaled_log_special(const FloatParts *y, FloatClass lcls, bool lsign,
                                   FloatStatus *s)
{
    bool sign = y->sign ^ lsign;
    if ((y->cls == FC_ZERO && lcls == FC_INF) || (y->cls == FC_INF && lcls == FC_ZERO)) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return pack80(wide_default_nan(fx));
    }
    if (y->cls == FC_INF || lcls == FC_INF)
        return pack80(wide_inf(sign, fx));
    return pack80(wide_zero(sign));
}

floatx80 floatx80_fyl2x(floatx80 fx_, floatx80 fy, FloatStatus *s)
{
    FloatParts x = unpack80(fx_, s), y = unpack80(fy, s);
    if (x.cls >= FC_QNAN || y.cls >= FC_QNAN)
        return pack80(propagate_nan(&x, &y, fx, s));
    if (x.sign && x.cls != FC_ZERO) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return pack80(wide_default_nan(fx));
    }
    if (x.cls == FC_ZERO) {
        if (y.cls == FC_ZERO) {
            raise_flags(s, FLOAT_FLAG_INVALID);
            return pack80(wide_default_nan(fx));
        }
        if (y.cls != FC_INF)
            raise_flags(s, FLOAT_FLAG_DIVBYZERO);   /* takes precedence over DE */
        return pack80(wide_inf(!y.sign, fx));
    }
    if (x.denormal || y.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    bool is_one = x.cls == FC_NORMAL && x.exp == 0 && x.sig == 1ull << 63;
    if (x.cls == FC_INF)
        return scaled_log_special(&y, FC_INF, false, s);
    if (is_one)
        return scaled_log_special(&y, FC_ZERO, false, s);
    bool below_one = x.exp < 0;
    if (y.cls != FC_NORMAL)
        return scaled_log_special(&y, FC_NORMAL, below_one, s);
    return xf_to_floatx80(xf_mul(xf_from_parts(&y), xf_log2(&x)), s);
}

floatx80 floatx80_fyl2xp1(floatx80 fx_, floatx80 fy, FloatStatus *s)
{
    FloatParts x = unpack80(fx_, s), y = unpack80(fy, s);
    if (x.cls >= FC_QNAN || y.cls >= FC_QNAN)
        return pack80(propagate_nan(&x, &y, fx, s));
    if (x.sign && x.cls == FC_INF) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return pack80(wide_default_nan(fx));
    }
    if (x.denormal || y.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (x.cls == FC_INF || x.cls == FC_ZERO || y.cls != FC_NORMAL)
        return scaled_log_special(&y, x.cls == FC_NORMAL ? FC_NORMAL : x.cls, x.sign, s);
    if (x.sign && x.exp >= 0) {
        /* x <= -1 (undefined in the SDM): the hardware returns x, inexact */
        raise_flags(s, FLOAT_FLAG_INEXACT);
        return fx_;
    }
    return xf_to_floatx80(xf_mul(xf_from_parts(&y), xf_log2p1(&x)), s);
}

floatx80 floatx80_fpatan(floatx80 fx_, floatx80 fy, FloatStatus *s)
{
    FloatParts x = unpack80(fx_, s), y = unpack80(fy, s);
    if (x.cls >= FC_QNAN || y.cls >= FC_QNAN)
        return pack80(propagate_nan(&y, &x, fx, s));
    if (x.denormal || y.denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    XFloat r;
    if (y.cls == FC_ZERO) {
        if (!x.sign)
            return pack80(wide_zero(y.sign));
        r = XF_PI;
    } else if (y.cls == FC_INF) {
        if (x.cls == FC_INF)
            r = x.sign ? xf_mul(XF_PI, xf_const(0xc000000000000000ull, 0, -1))   /* 3/4 */
                       : xf_ldexp(XF_PI, -2);
        else
            r = xf_ldexp(XF_PI, -1);
    } else if (x.cls == FC_INF) {
        if (!x.sign)
            return pack80(wide_zero(y.sign));
        r = XF_PI;
    } else if (x.cls == FC_ZERO) {
        r = xf_ldexp(XF_PI, -1);
    } else {
        XFloat ax = xf_from_parts(&x), ay = xf_from_parts(&y);
        ax.sign = ay.sign = false;
        if (xf_cmp_abs(ay, ax) <= 0)
            r = xf_atan_unit(xf_div(ay, ax));
        else
            r = xf_sub(xf_ldexp(XF_PI, -1), xf_atan_unit(xf_div(ax, ay)));
        if (x.sign)
            r = xf_sub(XF_PI, r);
    }
    r.sign = y.sign;
    return xf_to_floatx80(r, s);
}

/* Common checks of the trigonometric instructions. Returns false when the
 * instruction does nothing (|a| >= 2^63: C2 set by the caller); otherwise
 * *done says whether *special holds the result already. */
static bool trig_prepare(floatx80 fa, FloatParts *a, bool *done, floatx80 *special,
                         FloatStatus *s)
{
    *a = unpack80(fa, s);
    *done = true;
    if (a->cls >= FC_QNAN) {
        *special = pack80(propagate_nan(a, NULL, fx, s));
        return true;
    }
    if (a->cls == FC_INF) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        *special = pack80(wide_default_nan(fx));
        return true;
    }
    if (a->cls == FC_NORMAL && a->exp >= 63)
        return false;
    if (a->denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    *done = false;
    return true;
}

/* sin and/or cos (whichever pointer is non-NULL) of a finite |a| < 2^63. */
static void trig_eval(const FloatParts *a, XFloat *sin, XFloat *cos)
{
    XFloat r;
    unsigned q = reduce_pi_over_2(a, &r);
    /* sin(x) is +-sin(r) in even quadrants, +-cos(r) in odd ones; cos(x)
     * the other way round. Signs by quadrant: sin + + - -, cos + - - +. */
    if (sin) {
        *sin = xf_sin_or_cos_small(r, !(q & 1));
        if ((q >= 2) != a->sign)
            *sin = xf_neg(*sin);
    }
    if (cos) {
        *cos = xf_sin_or_cos_small(r, q & 1);
        if (q == 1 || q == 2)
            *cos = xf_neg(*cos);
    }
}

bool floatx80_fsin(floatx80 fa, floatx80 *r, FloatStatus *s)
{
    FloatParts a;
    bool done;
    if (!trig_prepare(fa, &a, &done, r, s))
        return false;
    if (done)
        return true;
    if (a.cls == FC_ZERO) {
        *r = fa;
        return true;
    }
    XFloat sn;
    trig_eval(&a, &sn, NULL);
    *r = xf_to_floatx80(sn, s);
    return true;
}

bool floatx80_fcos(floatx80 fa, floatx80 *r, FloatStatus *s)
{
    FloatParts a;
    bool done;
    if (!trig_prepare(fa, &a, &done, r, s))
        return false;
    if (done)
        return true;
    if (a.cls == FC_ZERO) {
        *r = make_floatx80(0x3FFF, 1ull << 63);
        return true;
    }
    XFloat cs;
    trig_eval(&a, NULL, &cs);
    *r = xf_to_floatx80(cs, s);
    return true;
}

bool floatx80_fsincos(floatx80 fa, floatx80 *rs, floatx80 *rc, FloatStatus *s)
{
    FloatParts a;
    bool done;
    if (!trig_prepare(fa, &a, &done, rs, s))
        return false;
    if (done) {
        *rc = *rs;
        return true;
    }
    if (a.cls == FC_ZERO) {
        *rs = fa;
        *rc = make_floatx80(0x3FFF, 1ull << 63);
        return true;
    }
    XFloat sn, cs;
    trig_eval(&a, &sn, &cs);
    *rs = xf_to_floatx80(sn, s);
    *rc = xf_to_floatx80(cs, s);
    return true;
}

bool floatx80_fptan(floatx80 fa, floatx80 *r, floatx80 *one, FloatStatus *s)
{
    FloatParts a;
    bool done;
    if (!trig_prepare(fa, &a, &done, r, s))
        return false;
    if (done) {
        *one = *r;
        return true;
    }
    *one = make_floatx80(0x3FFF, 1ull << 63);
    if (a.cls == FC_ZERO) {
        *r = fa;
        return true;
    }
    XFloat sn, cs;
    trig_eval(&a, &sn, &cs);
    *r = xf_to_floatx80(xf_div(sn, cs), s);
    return true;
}
