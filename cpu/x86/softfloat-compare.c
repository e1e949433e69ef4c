/* Comparisons (FCOM/FUCOM/FCOMI, COMISS/UCOMISS, CMPPS) and SSE min/max. */
#include "cpu/x86/softfloat-internal.h"

/* Operands that make even a quiet comparison invalid. */
static bool signals_invalid(FloatClass c)
{
    return c == FC_SNAN || c == FC_UNSUPPORTED;
}

FloatRelation compare_parts(const FloatParts *a, const FloatParts *b, bool quiet,
                            FloatStatus *s)
{
    if (a->cls >= FC_QNAN || b->cls >= FC_QNAN) {
        bool signaling = signals_invalid(a->cls) || signals_invalid(b->cls);
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

uint16_t float_relation_to_fsw(FloatRelation r)
{
    static const uint16_t cc[4] = { FPU_C0, FPU_C3, 0, FPU_C3 | FPU_C2 | FPU_C0 };
    return cc[r + 1];
}

uint32_t float_relation_to_eflags(FloatRelation r)
{
    static const uint32_t fl[4] = { CC_C, CC_Z, 0, CC_Z | CC_P | CC_C };
    return fl[r + 1];
}

/* The 32 VCMP predicates as data: which relations make them true, and
 * whether a QNaN operand raises invalid (signaling). Predicates 0-7 are the
 * SSE CMPPS ones. */
enum { REL_LT = 1, REL_EQ = 2, REL_GT = 4, REL_UN = 8 };
static const struct {
    uint8_t true_for;
    bool signaling;
} compare_predicates[32] = {
    { REL_EQ, false },                  /* EQ_OQ */
    { REL_LT, true },                   /* LT_OS */
    { REL_LT | REL_EQ, true },          /* LE_OS */
    { REL_UN, false },                  /* UNORD_Q */
    { REL_LT | REL_GT | REL_UN, false },/* NEQ_UQ */
    { REL_EQ | REL_GT | REL_UN, true }, /* NLT_US */
    { REL_GT | REL_UN, true },          /* NLE_US */
    { REL_LT | REL_EQ | REL_GT, false },/* ORD_Q */
    { REL_EQ | REL_UN, false },         /* EQ_UQ */
    { REL_LT | REL_UN, true },          /* NGE_US */
    { REL_LT | REL_EQ | REL_UN, true }, /* NGT_US */
    { 0, false },                       /* FALSE_OQ */
    { REL_LT | REL_GT, false },         /* NEQ_OQ */
    { REL_EQ | REL_GT, true },          /* GE_OS */
    { REL_GT, true },                   /* GT_OS */
    { REL_LT | REL_EQ | REL_GT | REL_UN, false }, /* TRUE_UQ */
    { REL_EQ, true },                   /* EQ_OS */
    { REL_LT, false },                  /* LT_OQ */
    { REL_LT | REL_EQ, false },         /* LE_OQ */
    { REL_UN, true },                   /* UNORD_S */
    { REL_LT | REL_GT | REL_UN, true }, /* NEQ_US */
    { REL_EQ | REL_GT | REL_UN, false },/* NLT_UQ */
    { REL_GT | REL_UN, false },         /* NLE_UQ */
    { REL_LT | REL_EQ | REL_GT, true }, /* ORD_S */
    { REL_EQ | REL_UN, true },          /* EQ_US */
    { REL_LT | REL_UN, false },         /* NGE_UQ */
    { REL_LT | REL_EQ | REL_UN, false },/* NGT_UQ */
    { 0, true },                        /* FALSE_OS */
    { REL_LT | REL_GT, true },          /* NEQ_OS */
    { REL_EQ | REL_GT, false },         /* GE_OQ */
    { REL_GT, false },                  /* GT_OQ */
    { REL_LT | REL_EQ | REL_GT | REL_UN, true }, /* TRUE_US */
};

static bool predicate_holds(FloatRelation r, unsigned predicate)
{
    static const uint8_t bit_of[4] = { REL_LT, REL_EQ, REL_GT, REL_UN };
    return compare_predicates[predicate & 31].true_for & bit_of[r + 1];
}

bool float32_compare_predicate(float32 a, float32 b, unsigned predicate, FloatStatus *s)
{
    bool quiet = !compare_predicates[predicate & 31].signaling;
    return predicate_holds(float32_compare(a, b, quiet, s), predicate);
}

bool float64_compare_predicate(float64 a, float64 b, unsigned predicate, FloatStatus *s)
{
    bool quiet = !compare_predicates[predicate & 31].signaling;
    return predicate_holds(float64_compare(a, b, quiet, s), predicate);
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
