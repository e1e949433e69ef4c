/* Formats, packing and unpacking, the single rounding routine and the NaN
 * rules (SDM vol 1 4.8.3.5 / table 4-7, 4.9.1.5 underflow, 8.5). */
#include "cpu/x86/softfloat-internal.h"

const FloatFormat float16_format = {
    .exp_max_biased = 0x1F, .bias = 15, .emin = -14, .emax = 15,
    .prec = 11, .explicit_int = false, .sse = true,
};
const FloatFormat float32_format = {
    .exp_max_biased = 0xFF, .bias = 127, .emin = -126, .emax = 127,
    .prec = 24, .explicit_int = false, .sse = true,
};
const FloatFormat float64_format = {
    .exp_max_biased = 0x7FF, .bias = 1023, .emin = -1022, .emax = 1023,
    .prec = 53, .explicit_int = false, .sse = true,
};
const FloatFormat floatx80_format = {
    .exp_max_biased = 0x7FFF, .bias = 16383, .emin = -16382, .emax = 16383,
    .prec = 64, .explicit_int = true, .sse = false,
};


FloatStatus float_status_from_mxcsr(uint32_t mxcsr)
{
    FloatStatus s = {
        .rounding = (mxcsr >> 13) & 3,
        .precision = 64,
        .flush_to_zero = (mxcsr >> 15) & 1,
        .denormals_are_zero = (mxcsr >> 6) & 1,
        .overflow_unmasked = !((mxcsr >> 10) & 1),
        .underflow_unmasked = !((mxcsr >> 11) & 1),
    };
    return s;
}

FloatStatus float_status_from_fpuc(uint16_t fpuc)
{
    /* PC: 00 = 24 bits, 01 reserved (treated as 64), 10 = 53, 11 = 64 */
    static const uint8_t prec_of_pc[4] = { 24, 64, 53, 64 };
    FloatStatus s = {
        .rounding = (fpuc >> 10) & 3,
        .precision = prec_of_pc[(fpuc >> 8) & 3],
        .overflow_unmasked = !((fpuc >> 3) & 1),
        .underflow_unmasked = !((fpuc >> 4) & 1),
        .x87 = true,
    };
    return s;
}

bool float32_is_nan(float32 a)
{
    return (a & 0x7FFFFFFF) > 0x7F800000;
}

bool float32_is_signaling_nan(float32 a)
{
    return float32_is_nan(a) && !(a & 0x00400000);
}

bool float64_is_nan(float64 a)
{
    return (a & ~(1ull << 63)) > 0x7FF0000000000000ull;
}

bool float64_is_signaling_nan(float64 a)
{
    return float64_is_nan(a) && !(a & (1ull << 51));
}

bool floatx80_is_nan(floatx80 a)
{
    return (a.sexp & 0x7FFF) == 0x7FFF && (a.mant & BIT63) && (a.mant << 1);
}

bool floatx80_is_signaling_nan(floatx80 a)
{
    return floatx80_is_nan(a) && !(a.mant & QUIET_BIT);
}

bool floatx80_is_unsupported(floatx80 a)
{
    return (a.sexp & 0x7FFF) && !(a.mant & BIT63);
}

floatx80 floatx80_default_nan(void)
{
    return make_floatx80(FLOATX80_INDEFINITE_SEXP, FLOATX80_INDEFINITE_MANT);
}

/* ---- special results ---- */

FloatWide wide_zero(bool sign)
{
    FloatWide w = { .sign = sign };
    return w;
}

FloatWide wide_inf(bool sign, const FloatFormat *f)
{
    FloatWide w = { .sign = sign, .bexp = f->exp_max_biased, .mant = BIT63 };
    return w;
}

FloatWide wide_default_nan(const FloatFormat *f)
{
    FloatWide w = { .sign = true, .bexp = f->exp_max_biased, .mant = BIT63 | QUIET_BIT };
    return w;
}

FloatWide quiet_nan_of(const FloatParts *a, const FloatFormat *f)
{
    FloatWide w = { .sign = a->sign, .bexp = f->exp_max_biased,
                    .mant = a->sig | BIT63 | QUIET_BIT };
    return w;
}

/* x87: of two NaNs, a QNaN wins over an SNaN, else the larger significand. */
static const FloatParts *x87_pick_nan(const FloatParts *a, const FloatParts *b)
{
    if (!is_nan_class(b->cls))
        return a;
    if (!is_nan_class(a->cls))
        return b;
    if (a->cls != b->cls)
        return a->cls == FC_QNAN ? a : b;
    uint64_t ma = a->sig << 1, mb = b->sig << 1;
    if (ma != mb)
        return ma > mb ? a : b;
    return a->sign ? b : a;
}

FloatWide propagate_nan(const FloatParts *a, const FloatParts *b, const FloatFormat *f,
                        FloatStatus *s)
{
    if (a->cls == FC_UNSUPPORTED || (b && b->cls == FC_UNSUPPORTED)) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return wide_default_nan(f);
    }
    if (a->cls == FC_SNAN || (b && b->cls == FC_SNAN))
        raise_flags(s, FLOAT_FLAG_INVALID);
    const FloatParts *pick;
    if (!b)
        pick = a;
    else if (f->sse)
        pick = is_nan_class(a->cls) ? a : b;
    else
        pick = x87_pick_nan(a, b);
    return quiet_nan_of(pick, f);
}

/* ---- rounding ---- */

/* Whether the bits below the rounding position make the result go up. */
static inline bool round_increments(u128 sig, u128 rest, int lsb_shift, bool sign, int mode)
{
    u128 half = (u128)1 << (lsb_shift - 1);
    switch (mode) {
    case FLOAT_ROUND_NEAREST_EVEN:
        return rest > half || (rest == half && ((sig >> lsb_shift) & 1));
    case FLOAT_ROUND_DOWN:
        return sign && rest;
    case FLOAT_ROUND_UP:
        return !sign && rest;
    default:
        return false;
    }
}

static FloatWide overflow_result(bool sign, const FloatFormat *f, int prec, FloatStatus *s)
{
    raise_flags(s, FLOAT_FLAG_OVERFLOW | FLOAT_FLAG_INEXACT);
    bool to_inf = s->rounding == FLOAT_ROUND_NEAREST_EVEN ||
                  (s->rounding == FLOAT_ROUND_UP && !sign) ||
                  (s->rounding == FLOAT_ROUND_DOWN && sign);
    if (to_inf) {
        raise_flags(s, FLOAT_FLAG_ROUNDED_UP);
        return wide_inf(sign, f);
    }
    FloatWide w = { .sign = sign, .bexp = f->emax + f->bias,
                    .mant = ~0ull << (64 - prec) };
    return w;
}

/* Tiny after rounding: the result rounded with an unbounded exponent is
 * below 2^emin. Only exp == emin - 1 can carry up to 2^emin. */
static bool tiny_after_rounding(u128 sig, int32_t exp, const FloatFormat *f, int lsb_shift,
                                bool sign, int mode)
{
    if (exp >= f->emin)
        return false;
    u128 rest_mask = ((u128)1 << lsb_shift) - 1;
    return !(exp == f->emin - 1 && (sig | rest_mask) == ~(u128)0 &&
             round_increments(sig, sig & rest_mask, lsb_shift, sign, mode));
}

/* The x87's unmasked overflow/underflow response for a register
 * destination: the rounded result with its exponent biased back into range
 * by 24576; infinity or zero when even that does not fit. Returns false
 * when the result is to be packed normally with *exp. */
static bool x87_rebias(bool sign, int32_t *exp, bool tiny, const FloatFormat *f,
                       FloatStatus *s, FloatWide *special)
{
    if (*exp > f->emax && s->overflow_unmasked) {
        raise_flags(s, FLOAT_FLAG_OVERFLOW);
        *exp -= FLOATX80_UNMASKED_BIAS;
        if (*exp > f->emax) {
            raise_flags(s, FLOAT_FLAG_INEXACT | FLOAT_FLAG_ROUNDED_UP);
            *special = wide_inf(sign, f);
            return true;
        }
    } else if (tiny && *exp < f->emin && s->underflow_unmasked) {
        raise_flags(s, FLOAT_FLAG_UNDERFLOW);
        *exp += FLOATX80_UNMASKED_BIAS;
        if (*exp < f->emin) {
            raise_flags(s, FLOAT_FLAG_INEXACT);
            *special = wide_zero(sign);
            return true;
        }
    }
    return false;
}

FloatWide round_pack(bool sign, int32_t exp, u128 sig, const FloatFormat *f, int prec,
                     FloatStatus *s)
{
    if (sig == 0)
        return wide_zero(sign);
    int lz = clz128(sig);
    sig <<= lz;
    exp -= lz;

    int lsb_shift = 128 - prec;
    u128 rest_mask = ((u128)1 << lsb_shift) - 1;
    bool tiny = tiny_after_rounding(sig, exp, f, lsb_shift, sign, s->rounding);
    /* an unmasked underflow keeps a tiny result normalized (x87: to deliver
     * it biased; SSE: to report inexact as the trap sees it) */
    bool keep_normalized = tiny && s->underflow_unmasked;
    if (exp < f->emin && !keep_normalized) {
        sig = shift_right_jam128(sig, f->emin - exp);
        exp = f->emin;
    }

    u128 rest = sig & rest_mask;
    bool up = round_increments(sig, rest, lsb_shift, sign, s->rounding);
    sig &= ~rest_mask;
    if (up) {
        sig += (u128)1 << lsb_shift;
        if (sig == 0) {     /* carried out of bit 127 */
            sig = (u128)1 << 127;
            exp++;
        }
    }

    /* SSE traps on an unmasked overflow/underflow and delivers nothing; the
     * precision exception then says whether the result rounded with an
     * unbounded exponent was inexact. An x87 store to m32/m64 (same
     * formats, x87 status) reports the OE/UE alone. */
    if (f->sse && ((exp > f->emax && s->overflow_unmasked) || keep_normalized)) {
        raise_flags(s, (keep_normalized ? FLOAT_FLAG_UNDERFLOW : FLOAT_FLAG_OVERFLOW) |
                       (rest && !s->x87 ? FLOAT_FLAG_INEXACT : 0));
        return keep_normalized ? wide_zero(sign) : wide_inf(sign, f);
    }
    if (tiny && f->sse && s->flush_to_zero) {     /* only reached masked */
        raise_flags(s, FLOAT_FLAG_UNDERFLOW | FLOAT_FLAG_INEXACT);
        return wide_zero(sign);
    }
    FloatWide special;
    if (f->explicit_int && x87_rebias(sign, &exp, tiny, f, s, &special))
        return special;
    if (exp > f->emax)
        return overflow_result(sign, f, prec, s);
    if (rest) {
        raise_flags(s, FLOAT_FLAG_INEXACT | (up ? FLOAT_FLAG_ROUNDED_UP : 0));
        if (tiny)
            raise_flags(s, FLOAT_FLAG_UNDERFLOW);
    }
    FloatWide w = { .sign = sign, .mant = (uint64_t)(sig >> 64) };
    w.bexp = (w.mant & BIT63) ? exp + f->bias : 0;
    return w;
}
