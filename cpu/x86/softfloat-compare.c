/* Comparisons (FCOM/FUCOM/FCOMI, COMISS/UCOMISS, CMPPS) and SSE min/max. */
#include "cpu/x86/softfloat-internal.h"

static FloatRelation compare_parts(const FloatParts *a, const FloatParts *b, bool quiet,
                                   FloatStatus *s)
{
    if (a->cls >= FC_QNAN || b->cls >= FC_QNAN) {
        bool signaling = a->cls != FC_QNAN && a->cls >= FC_QNAN;
        signaling |= b->cls != FC_QNAN && b->cls >= FC_QNAN;
        if (!quiet || signaling)
            raise_flags(s, FLOAT_FLAG_INVALID);
        return FLOAT_RELATION_UNORDERED;
    }
    if (a->denormal || b->denormal)
        raise_flags(s, FLOAT_FLAG_DENORMAL);
    if (a->cls == FC_ZERO && b->cls == FC_ZERO)
        return FLOAT_RELATION_EQUAL;
    if (a->sign != b->sign)
        return a->sign ? FLOAT_RELATION_LESS : FLOAT_RELATION_GREATER;
    /* Same sign: order the magnitudes, zero < finite < infinity. */
    int ma = a->cls == FC_ZERO ? 0 : a->cls == FC_INF ? 2 : 1;
    int mb = b->cls == FC_ZERO ? 0 : b->cls == FC_INF ? 2 : 1;
    int order = (ma > mb) - (ma < mb);
    if (order == 0 && ma == 1) {
        if (a->exp != b->exp)
            order = a->exp > b->exp ? 1 : -1;
        else
            order = (a->sig > b->sig) - (a->sig < b->sig);
    }
    if (a->sign)
        order = -order;
    return (FloatRelation)order;
}

FloatRelation float32_compare(float32 a, float32 b, bool quiet, FloatStatus *s)
{
    FloatParts pa = unpack32(a, s), pb = unpack32(b, s);
    return compare_parts(&pa, &pb, quiet, s);
}

FloatRelation float64_compare(float64 a, float64 b, bool quiet, FloatStatus *s)
{
    FloatParts pa = unpack64(a, s), pb = unpack64(b, s);
    return compare_parts(&pa, &pb, quiet, s);
}

FloatRelation floatx80_compare(floatx80 a, floatx80 b, bool quiet, FloatStatus *s)
{
    FloatParts pa = unpack80(a, s), pb = unpack80(b, s);
    return compare_parts(&pa, &pb, quiet, s);
}

/* MIN: a < b ? a : b, MAX: a > b ? a : b; anything unordered or equal gives
 * b. The comparison is a signaling one (invalid on any NaN). With DAZ the
 * operands are returned as the comparison saw them (denormals as zeros). */
float32 float32_min(float32 a, float32 b, FloatStatus *s)
{
    FloatParts pa = unpack32(a, s), pb = unpack32(b, s);
    if (compare_parts(&pa, &pb, false, s) == FLOAT_RELATION_LESS)
        return pa.cls == FC_ZERO ? a & 0x80000000u : a;
    return pb.cls == FC_ZERO ? b & 0x80000000u : b;
}

float32 float32_max(float32 a, float32 b, FloatStatus *s)
{
    FloatParts pa = unpack32(a, s), pb = unpack32(b, s);
    if (compare_parts(&pa, &pb, false, s) == FLOAT_RELATION_GREATER)
        return pa.cls == FC_ZERO ? a & 0x80000000u : a;
    return pb.cls == FC_ZERO ? b & 0x80000000u : b;
}

float64 float64_min(float64 a, float64 b, FloatStatus *s)
{
    FloatParts pa = unpack64(a, s), pb = unpack64(b, s);
    if (compare_parts(&pa, &pb, false, s) == FLOAT_RELATION_LESS)
        return pa.cls == FC_ZERO ? a & 1ull << 63 : a;
    return pb.cls == FC_ZERO ? b & 1ull << 63 : b;
}

float64 float64_max(float64 a, float64 b, FloatStatus *s)
{
    FloatParts pa = unpack64(a, s), pb = unpack64(b, s);
    if (compare_parts(&pa, &pb, false, s) == FLOAT_RELATION_GREATER)
        return pa.cls == FC_ZERO ? a & 1ull << 63 : a;
    return pb.cls == FC_ZERO ? b & 1ull << 63 : b;
}
