/* The x87 transcendentals against reference values computed without any
 * FPU (tests/fpu/gen-trans-reference.py: 480-bit integer series, rounded to
 * nearest-even): our results must be the correctly rounded ones. The trig
 * references use the x87's 66-bit pi for the reduction, as we do. Runs on
 * every host. */
#include "tests/unit/harness.h"
#include "cpu/x86/softfloat.h"

enum { TR_F2XM1, TR_FYL2X, TR_FYL2XP1, TR_FPATAN, TR_FSIN, TR_FCOS, TR_FPTAN };
static const char *const tr_names[] = { "f2xm1", "fyl2x", "fyl2xp1", "fpatan", "fsin",
                                        "fcos", "fptan" };

typedef struct TransReference {
    int fn;
    floatx80 a, b, want;    /* a = ST0 (x), b = ST1 (y) where used */
} TransReference;

static const TransReference references[] = {
#include "tests/fpu/trans-reference.inc"
};

static floatx80 evaluate(const TransReference *t, FloatStatus *s)
{
    floatx80 r = make_floatx80(0, 0), one;
    switch (t->fn) {
    case TR_F2XM1: return floatx80_f2xm1(t->a, s);
    case TR_FYL2X: return floatx80_fyl2x(t->a, t->b, s);
    case TR_FYL2XP1: return floatx80_fyl2xp1(t->a, t->b, s);
    case TR_FPATAN: return floatx80_fpatan(t->a, t->b, s);
    case TR_FSIN: floatx80_fsin(t->a, &r, s); return r;
    case TR_FCOS: floatx80_fcos(t->a, &r, s); return r;
    default: floatx80_fptan(t->a, &r, &one, s); return r;
    }
}

TEST(correctly_rounded)
{
    int failures = 0;
    for (size_t i = 0; i < sizeof(references) / sizeof(references[0]); i++) {
        const TransReference *t = &references[i];
        FloatStatus s = float_status_from_fpuc(0x037F);
        floatx80 got = evaluate(t, &s);
        if ((got.sexp != t->want.sexp || got.mant != t->want.mant) && failures++ < 8) {
            char m[200];
            snprintf(m, sizeof(m), "%s(%04x:%016" PRIx64 ", %04x:%016" PRIx64 ") = %04x:%016"
                     PRIx64 ", reference %04x:%016" PRIx64, tr_names[t->fn], t->a.sexp,
                     t->a.mant, t->b.sexp, t->b.mant, got.sexp, got.mant, t->want.sexp,
                     t->want.mant);
            test_fail(__FILE__, __LINE__, m);
        }
        CHECK(s.flags & FLOAT_FLAG_INEXACT);
    }
}

/* Documented special values (SDM tables for each instruction). */
TEST(special_values)
{
    FloatStatus s = float_status_from_fpuc(0x037F);
    floatx80 one = make_floatx80(0x3FFF, 1ull << 63), zero = make_floatx80(0, 0);
    floatx80 inf = make_floatx80(0x7FFF, 1ull << 63), r;
    /* FPATAN(x = 1, y = 1) = pi/4, FPATAN(x = -0, y = +0) = pi */
    r = floatx80_fpatan(one, one, &s);
    CHECK_EQ(r.sexp, 0x3FFE);
    CHECK_EQ(r.mant, 0xC90FDAA22168C235ull);
    r = floatx80_fpatan(make_floatx80(0x8000, 0), zero, &s);
    CHECK_EQ(r.sexp, 0x4000);
    CHECK_EQ(r.mant, 0xC90FDAA22168C235ull);
    /* FYL2X(x = 8, y = 1) = 3; x = 0 divides by zero; x < 0 is invalid */
    r = floatx80_fyl2x(make_floatx80(0x4002, 1ull << 63), one, &s);
    CHECK_EQ(r.sexp, 0x4000);
    CHECK_EQ(r.mant, 0xC000000000000000ull);
    s.flags = 0;
    r = floatx80_fyl2x(zero, one, &s);
    CHECK_EQ(r.sexp, 0xFFFF);
    CHECK_EQ(s.flags, FLOAT_FLAG_DIVBYZERO);
    s.flags = 0;
    r = floatx80_fyl2x(make_floatx80(0xBFFF, 1ull << 63), one, &s);
    CHECK_EQ(s.flags, FLOAT_FLAG_INVALID);
    /* FSIN(inf) is invalid; |x| >= 2^63 is left alone (C2) */
    s.flags = 0;
    CHECK(floatx80_fsin(inf, &r, &s));
    CHECK_EQ(s.flags, FLOAT_FLAG_INVALID);
    CHECK_EQ(r.mant, FLOATX80_INDEFINITE_MANT);
    CHECK(!floatx80_fcos(make_floatx80(0x403E, 1ull << 63), &r, &s));
    /* F2XM1(-inf) = -1, F2XM1(-0) = -0 */
    r = floatx80_f2xm1(make_floatx80(0xFFFF, 1ull << 63), &s);
    CHECK_EQ(r.sexp, 0xBFFF);
    r = floatx80_f2xm1(make_floatx80(0x8000, 0), &s);
    CHECK_EQ(r.sexp, 0x8000);
    CHECK_EQ(r.mant, 0);
}
