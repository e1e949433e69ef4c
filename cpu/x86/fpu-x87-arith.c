/* x87 arithmetic on ST0 and a register or memory operand (m32fp/m64fp):
 * the memory operand enters the operation in its own format, so its
 * classification (denormal, SNaN) is the one the x87 rules see. */
#include "cpu/x86/softfloat-internal.h"

static floatx80 arith_parts(X87Arith op, FloatParts st, FloatParts src, FloatStatus *s)
{
    const FloatFormat *f = &floatx80_format;
    FloatWide r;
    switch (op) {
    case X87_FADD:
        r = parts_add(st, src, false, f, s);
        break;
    case X87_FMUL:
        r = parts_mul(st, src, f, s);
        break;
    case X87_FSUB:
        r = parts_add(st, src, true, f, s);
        break;
    case X87_FSUBR:
        r = parts_add(src, st, true, f, s);
        break;
    case X87_FDIV:
        r = parts_div(st, src, f, s);
        break;
    default:
        r = parts_div(src, st, f, s);
        break;
    }
    return wide_to_floatx80(r);
}

floatx80 floatx80_arith(X87Arith op, floatx80 st, floatx80 src, FloatStatus *s)
{
    return arith_parts(op, unpack80(st, s), unpack80(src, s), s);
}

floatx80 floatx80_arith_float32(X87Arith op, floatx80 st, float32 src, FloatStatus *s)
{
    return arith_parts(op, unpack80(st, s), unpack32(src, s), s);
}

floatx80 floatx80_arith_float64(X87Arith op, floatx80 st, float64 src, FloatStatus *s)
{
    return arith_parts(op, unpack80(st, s), unpack64(src, s), s);
}

FloatRelation floatx80_compare_float32(floatx80 st, float32 src, bool quiet, FloatStatus *s)
{
    FloatParts a = unpack80(st, s), b = unpack32(src, s);
    return compare_parts(&a, &b, quiet, s);
}

FloatRelation floatx80_compare_float64(floatx80 st, float64 src, bool quiet, FloatStatus *s)
{
    FloatParts a = unpack80(st, s), b = unpack64(src, s);
    return compare_parts(&a, &b, quiet, s);
}
