/* Conversions: integer <-> float, between float formats, round to integral. */
#include "cpu/x86/softfloat-internal.h"

/* ---- integer to float ---- */

static FloatWide int_to_wide(int64_t a, const FloatFormat *f, FloatStatus *s)
{
    bool sign = a < 0;
    uint64_t mag = sign ? -(uint64_t)a : (uint64_t)a;
    /* value = (mag << 64) * 2^(63 - 127) */
    return round_pack(sign, 63, (u128)mag << 64, f, f->prec, s);
}

float32 int32_to_float32(int32_t a, FloatStatus *s)
{
    return wide_to_float32(int_to_wide(a, &float32_format, s));
}

float32 int64_to_float32(int64_t a, FloatStatus *s)
{
    return wide_to_float32(int_to_wide(a, &float32_format, s));
}

float64 int32_to_float64(int32_t a, FloatStatus *s)
{
    return wide_to_float64(int_to_wide(a, &float64_format, s));
}

float64 int64_to_float64(int64_t a, FloatStatus *s)
{
    return wide_to_float64(int_to_wide(a, &float64_format, s));
}

floatx80 int32_to_floatx80(int32_t a, FloatStatus *s)
{
    return wide_to_floatx80(int_to_wide(a, &floatx80_format, s));
}

floatx80 int64_to_floatx80(int64_t a, FloatStatus *s)
{
    return wide_to_floatx80(int_to_wide(a, &floatx80_format, s));
}

/* ---- float to integer ---- */

/* A finite value as a 64.64 fixed-point number (magnitude), or false when
 * it is 2^64 or more. */
static bool parts_to_fixed(const FloatParts *p, u128 *fixed)
{
    if (p->cls == FC_ZERO) {
        *fixed = 0;
        return true;
    }
    if (p->exp > 63)
        return false;
    int shift = 63 - p->exp;       /* value * 2^64 = (sig << 64) >> shift */
    *fixed = shift_right_jam128((u128)p->sig << 64, shift > 200 ? 200 : shift);
    return true;
}

/* Round a 64.64 fixed-point magnitude to an integer; *up says whether it
 * went away from the truncated value. */
static u128 round_fixed(u128 fixed, bool sign, int mode, bool *up)
{
    uint64_t rest = (uint64_t)fixed;
    u128 mag = fixed >> 64;
    *up = false;
    if (!rest)
        return mag;
    switch (mode) {
    case FLOAT_ROUND_NEAREST_EVEN:
        *up = rest > (1ull << 63) || (rest == (1ull << 63) && (mag & 1));
        break;
    case FLOAT_ROUND_DOWN:
        *up = sign;
        break;
    case FLOAT_ROUND_UP:
        *up = !sign;
        break;
    }
    return mag + *up;
}

/* Round to an integer of `bits` bits (signed); NaN, infinity and
 * out-of-range give invalid and the most negative value. */
int64_t wide_to_int(FloatWide w, const FloatFormat *f, int bits, bool truncate,
                    FloatStatus *s)
{
    FloatParts p = parts_unpack(w, f, s);
    int64_t indefinite = (int64_t)(~0ull << (bits - 1));
    u128 fixed;
    if (p.cls != FC_ZERO && p.cls != FC_NORMAL) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return indefinite;
    }
    if (!parts_to_fixed(&p, &fixed)) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return indefinite;
    }
    bool up;
    u128 mag = round_fixed(fixed, p.sign, truncate ? FLOAT_ROUND_TO_ZERO : s->rounding, &up);
    bool inexact = (uint64_t)fixed != 0;
    u128 limit = ((u128)1 << (bits - 1)) - !p.sign;
    if (mag > limit) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        return indefinite;
    }
    if (inexact)
        raise_flags(s, FLOAT_FLAG_INEXACT | (up ? FLOAT_FLAG_ROUNDED_UP : 0));
    return p.sign ? (int64_t)-(uint64_t)mag : (int64_t)(uint64_t)mag;
}

#define DEFINE_TO_INT(name, type, ftype, to_wide, fmt, bits, trunc)   \
    type name(ftype a, FloatStatus *s)                                  \
    {                                                                   \
        return (type)wide_to_int(to_wide(a), &fmt, bits, trunc, s);     \
    }

DEFINE_TO_INT(float32_to_int32, int32_t, float32, float32_to_wide, float32_format, 32, false)
DEFINE_TO_INT(float32_to_int32_round_to_zero, int32_t, float32, float32_to_wide, float32_format, 32, true)
DEFINE_TO_INT(float32_to_int64, int64_t, float32, float32_to_wide, float32_format, 64, false)
DEFINE_TO_INT(float32_to_int64_round_to_zero, int64_t, float32, float32_to_wide, float32_format, 64, true)
DEFINE_TO_INT(float64_to_int32, int32_t, float64, float64_to_wide, float64_format, 32, false)
DEFINE_TO_INT(float64_to_int32_round_to_zero, int32_t, float64, float64_to_wide, float64_format, 32, true)
DEFINE_TO_INT(float64_to_int64, int64_t, float64, float64_to_wide, float64_format, 64, false)
DEFINE_TO_INT(float64_to_int64_round_to_zero, int64_t, float64, float64_to_wide, float64_format, 64, true)
DEFINE_TO_INT(floatx80_to_int16, int16_t, floatx80, floatx80_to_wide, floatx80_format, 16, false)
DEFINE_TO_INT(floatx80_to_int16_round_to_zero, int16_t, floatx80, floatx80_to_wide, floatx80_format, 16, true)
DEFINE_TO_INT(floatx80_to_int32, int32_t, floatx80, floatx80_to_wide, floatx80_format, 32, false)
DEFINE_TO_INT(floatx80_to_int32_round_to_zero, int32_t, floatx80, floatx80_to_wide, floatx80_format, 32, true)
DEFINE_TO_INT(floatx80_to_int64, int64_t, floatx80, floatx80_to_wide, floatx80_format, 64, false)
DEFINE_TO_INT(floatx80_to_int64_round_to_zero, int64_t, floatx80, floatx80_to_wide, floatx80_format, 64, true)

/* ---- between float formats ---- */

/* The x87 stores (FST m32/m64) do not report denormal sources; the loads
 * and the SSE conversions do. */
static FloatWide wide_convert(FloatWide w, const FloatFormat *from, const FloatFormat *to,
                              FloatStatus *s)
{
    bool report_denormal = !from->explicit_int;
    FloatParts p = parts_unpack(w, from, s);
    switch (p.cls) {
    case FC_UNSUPPORTED:
    case FC_QNAN:
    case FC_SNAN:
        return propagate_nan(&p, NULL, to, s);
    case FC_ZERO:
        return wide_zero(p.sign);
    case FC_INF:
        return wide_inf(p.sign, to);
    default:
        break;
    }
    if (p.denormal && report_denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    /* value = (sig << 64) * 2^(exp - 127) */
    return round_pack(p.sign, p.exp, (u128)p.sig << 64, to, to->prec, s);
}

float64 float32_to_float64(float32 a, FloatStatus *s)
{
    return wide_to_float64(wide_convert(float32_to_wide(a), &float32_format, &float64_format, s));
}

float32 float64_to_float32(float64 a, FloatStatus *s)
{
    return wide_to_float32(wide_convert(float64_to_wide(a), &float64_format, &float32_format, s));
}

floatx80 float32_to_floatx80(float32 a, FloatStatus *s)
{
    return wide_to_floatx80(wide_convert(float32_to_wide(a), &float32_format,
                                         &floatx80_format, s));
}

floatx80 float64_to_floatx80(float64 a, FloatStatus *s)
{
    return wide_to_floatx80(wide_convert(float64_to_wide(a), &float64_format,
                                         &floatx80_format, s));
}

float32 floatx80_to_float32(floatx80 a, FloatStatus *s)
{
    return wide_to_float32(wide_convert(floatx80_to_wide(a), &floatx80_format,
                                        &float32_format, s));
}

float64 floatx80_to_float64(floatx80 a, FloatStatus *s)
{
    return wide_to_float64(wide_convert(floatx80_to_wide(a), &floatx80_format,
                                        &float64_format, s));
}

float32 float16_to_float32(float16 a, FloatStatus *s)
{
    /* Half denormals are neither flushed (DAZ) nor reported (DE). */
    FloatStatus t = *s;
    t.denormals_are_zero = false;
    float32 r = wide_to_float32(wide_convert(float16_to_wide(a), &float16_format,
                                             &float32_format, &t));
    s->flags |= t.flags & ~FLOAT_FLAG_DENORMAL;
    return r;
}

float16 float32_to_float16(float32 a, FloatStatus *s)
{
    /* tiny halves are delivered as denormals whatever MXCSR.FTZ says */
    FloatStatus t = *s;
    t.flush_to_zero = false;
    float16 r = wide_to_float16(wide_convert(float32_to_wide(a), &float32_format,
                                             &float16_format, &t));
    s->flags = t.flags;
    return r;
}

/* ---- round to integral ---- */

FloatWide wide_round_to_int(FloatWide w, const FloatFormat *f, FloatStatus *s)
{
    FloatParts p = parts_unpack(w, f, s);
    if (p.cls >= FC_QNAN)
        return propagate_nan(&p, NULL, f, s);
    if (p.cls == FC_ZERO)
        return wide_zero(p.sign);
    if (p.cls == FC_INF)
        return wide_inf(p.sign, f);
    if (p.denormal && f->explicit_int)     /* FRNDINT reports it, ROUNDSS not */
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (p.exp >= 63)        /* already integral */
        return round_pack(p.sign, p.exp, (u128)p.sig << 64, f, f->prec, s);
    u128 fixed;
    parts_to_fixed(&p, &fixed);
    bool up;
    u128 mag = round_fixed(fixed, p.sign, s->rounding, &up);
    if ((uint64_t)fixed)
        raise_flags(s, FLOAT_FLAG_INEXACT | (up ? FLOAT_FLAG_ROUNDED_UP : 0));
    if (mag == 0)
        return wide_zero(p.sign);
    /* value = mag * 2^(127 - 127); exact */
    return round_pack(p.sign, 127, mag, f, f->prec, s);
}

floatx80 floatx80_round_to_int(floatx80 a, FloatStatus *s)
{
    return wide_to_floatx80(wide_round_to_int(floatx80_to_wide(a), &floatx80_format, s));
}

float32 float32_round_to_int(float32 a, FloatStatus *s)
{
    return wide_to_float32(wide_round_to_int(float32_to_wide(a), &float32_format, s));
}

float64 float64_round_to_int(float64 a, FloatStatus *s)
{
    return wide_to_float64(wide_round_to_int(float64_to_wide(a), &float64_format, s));
}

/* The status ROUNDSS & co. run with: the immediate's rounding mode, and
 * inexact reported or not. */
static FloatStatus round_imm_status(const FloatStatus *s, uint8_t imm)
{
    FloatStatus t = *s;
    if (!(imm & 4))
        t.rounding = imm & 3;
    t.flags = 0;
    return t;
}

static void round_imm_flags(FloatStatus *s, const FloatStatus *t, uint8_t imm)
{
    s->flags |= t->flags & ((imm & 8) ? ~(unsigned)(FLOAT_FLAG_INEXACT | FLOAT_FLAG_ROUNDED_UP)
                                      : ~0u);
}

float32 float32_round_imm(float32 a, uint8_t imm, FloatStatus *s)
{
    FloatStatus t = round_imm_status(s, imm);
    float32 r = float32_round_to_int(a, &t);
    round_imm_flags(s, &t, imm);
    return r;
}

float64 float64_round_imm(float64 a, uint8_t imm, FloatStatus *s)
{
    FloatStatus t = round_imm_status(s, imm);
    float64 r = float64_round_to_int(a, &t);
    round_imm_flags(s, &t, imm);
    return r;
}
