/* x87-only operations against the host FPU: FPREM, FPREM1, FSCALE, FXTRACT,
 * FBLD/FBSTP, and the transcendental functions (within their stated error). */
#include <string.h>

#include "tests/unit/harness.h"
#include "tests/fpu/host-oracle.h"
#include "tests/fpu/fpu-testgen.h"

#define CASES 4000
#define MAX_REPORTS 8

static int reports;

static __attribute__((unused)) void mismatch(const char *what, unsigned mode, floatx80 a, floatx80 b, floatx80 want,
                     unsigned want_flags, floatx80 got, unsigned got_flags)
{
    if (reports++ >= MAX_REPORTS)
        return;
    char m[320];
    snprintf(m, sizeof(m), "%s mode %#x: a=%04x:%016" PRIx64 " b=%04x:%016" PRIx64
             " host %04x:%016" PRIx64 " sw %#x, ours %04x:%016" PRIx64 " sw %#x", what, mode,
             a.sexp, a.mant, b.sexp, b.mant, want.sexp, want.mant, want_flags, got.sexp,
             got.mant, got_flags);
    test_fail(__FILE__, __LINE__, m);
}

static __attribute__((unused)) bool same80(floatx80 a, floatx80 b)
{
    return a.sexp == b.sexp && a.mant == b.mant;
}

static __attribute__((unused)) unsigned x87_flags(const FloatStatus *s)
{
    return (s->flags & FLOAT_FLAGS_EXCEPTIONS) | (s->flags & FLOAT_FLAG_ROUNDED_UP ? FPU_C1 : 0);
}

#define SW_MASK (0x3F | FPU_C0 | FPU_C1 | FPU_C2 | FPU_C3)

/* Precision control does not apply to these instructions: any will do. */
static __attribute__((unused)) int any_precision(TestRng *r)
{
    static const int precs[3] = { 24, 53, 64 };
    return precs[rng_below(r, 3)];
}

#if HOST_ORACLE_AVAILABLE

/* Operand pairs for FPREM: exponents close together or far apart. */
static void gen_prem_pair(TestRng *r, floatx80 *a, floatx80 *b)
{
    *a = gen_floatx80(r, true);
    *b = gen_floatx80(r, true);
    if (rng_below(r, 3) && (a->sexp & 0x7FFF) && (a->sexp & 0x7FFF) != 0x7FFF &&
        (b->mant >> 63)) {
        int e = (a->sexp & 0x7FFF) - (int)rng_below(r, 140) + 4;
        if (e > 0 && e < 0x7FFF)
            b->sexp = (uint16_t)((b->sexp & 0x8000) | e);
    }
}

TEST(fprem)
{
    TestRng rng = { 0x9E3 };
    int partial = 0, complete = 0;
    reports = 0;
    for (int ieee = 0; ieee < 2; ieee++)
        for (int i = 0; i < 3 * CASES; i++) {
            uint16_t cw = host_fpucw(rng_below(&rng, 4), any_precision(&rng));
            floatx80 a, b, want, got;
            gen_prem_pair(&rng, &a, &b);
            unsigned hf = (ieee ? host_fprem1(a, b, cw, &want) : host_fprem(a, b, cw, &want));
            hf &= SW_MASK;
            FloatStatus s = float_status_from_fpuc(cw);
            uint16_t cc;
            got = floatx80_prem(a, b, ieee, &cc, &s);
            unsigned gf = (s.flags & FLOAT_FLAGS_EXCEPTIONS) | cc;
            /* The condition codes are undefined for NaN results (hardware
             * leaves internal state in them). */
            if (floatx80_is_nan(want)) {
                hf &= 0x3F;
                gf &= 0x3F;
            }
            if (!same80(want, got) || hf != gf)
                mismatch(ieee ? "fprem1" : "fprem", cw, a, b, want, hf, got, gf);
            if (!floatx80_is_nan(want))
                *(hf & FPU_C2 ? &partial : &complete) += 1;
        }
    /* the generator must reach both kinds of reduction */
    CHECK(partial > 200);
    CHECK(complete > 1000);
}

TEST(fscale)
{
    TestRng rng = { 0x5CA1E };
    static const int precs[3] = { 24, 53, 64 };
    reports = 0;
    for (int i = 0; i < 3 * CASES; i++) {
        uint16_t cw = host_fpucw(rng_below(&rng, 4), precs[rng_below(&rng, 3)]);
        floatx80 a = gen_floatx80(&rng, true), b = gen_floatx80(&rng, true), want, got;
        if (rng_below(&rng, 2)) {       /* a scale that lands in range or just outside */
            int n = (int)rng_below(&rng, 40000) - 20000;
            if (rng_below(&rng, 2))
                n = (int)rng_below(&rng, 200) - 100;
            b = int32_to_floatx80(n, &(FloatStatus){ 0 });
            if (rng_below(&rng, 2) && n)
                b.mant |= rng_next(&rng) >> (1 + rng_below(&rng, 63)) >> 16;
        }
        unsigned hf = host_fscale(a, b, cw, &want) & SW_MASK;
        FloatStatus s = float_status_from_fpuc(cw);
        got = floatx80_scale(a, b, &s);
        unsigned gf = x87_flags(&s);
        if (!same80(want, got) || hf != gf)
            mismatch("fscale", cw, a, b, want, hf, got, gf);
    }
}

TEST(fxtract)
{
    TestRng rng = { 0xE7 };
    reports = 0;
    for (int i = 0; i < CASES; i++) {
        uint16_t cw = host_fpucw(rng_below(&rng, 4), any_precision(&rng));
        floatx80 a = gen_floatx80(&rng, true), wsig, wexp, gsig, gexp;
        unsigned hf = host_fxtract(a, cw, &wsig, &wexp) & SW_MASK;
        FloatStatus s = float_status_from_fpuc(cw);
        gsig = floatx80_extract(a, &gexp, &s);
        unsigned gf = x87_flags(&s);
        if (!same80(wsig, gsig) || !same80(wexp, gexp) || hf != gf)
            mismatch("fxtract", cw, a, wexp, wsig, hf, gsig, gf);
        if (!same80(wexp, gexp))
            mismatch("fxtract exponent", cw, a, a, wexp, hf, gexp, gf);
    }
}

#else
TEST(host_oracle) { SKIP("host is not x86-64: no hardware oracle"); }
#endif

#if HOST_ORACLE_AVAILABLE
static HostBcd gen_bcd(TestRng *r)
{
    HostBcd b;
    if (rng_below(r, 4) == 0) {     /* raw bytes: invalid digits, bits 0-6 of byte 9 */
        for (int i = 0; i < 10; i++)
            b.b[i] = (uint8_t)rng_next(r);
        return b;
    }
    int digits = rng_below(r, 19);
    for (int i = 0; i < 9; i++) {
        unsigned lo = rng_below(r, 10), hi = rng_below(r, 10);
        if (2 * i >= digits)
            lo = 0;
        if (2 * i + 1 >= digits)
            hi = 0;
        b.b[i] = (uint8_t)(hi << 4 | lo);
    }
    b.b[9] = rng_below(r, 2) ? 0x80 : 0;
    return b;
}

TEST(bcd)
{
    TestRng rng = { 0xBCD };
    reports = 0;
    for (int i = 0; i < CASES; i++) {
        uint16_t cw = host_fpucw(rng_below(&rng, 4), any_precision(&rng));
        HostBcd in = gen_bcd(&rng);
        floatx80 want, got;
        unsigned hf = host_fbld(in, cw, &want) & SW_MASK;
        FloatStatus s = float_status_from_fpuc(cw);
        got = floatx80_from_bcd(in.b, &s);
        unsigned gf = x87_flags(&s);
        if (!same80(want, got) || hf != gf)
            mismatch("fbld", cw, want, want, want, hf, got, gf);

        /* store: integers up to and beyond 10^18, fractions, specials */
        floatx80 x = gen_floatx80(&rng, true);
        if (rng_below(&rng, 3)) {
            x.sexp = (uint16_t)((x.sexp & 0x8000) | (16383 - 2 + rng_below(&rng, 64)));
            x.mant |= 1ull << 63;
        }
        if (rng_below(&rng, 8) == 0) {      /* right at 10^18 - 1 and 10^18 */
            x = int64_to_floatx80((int64_t)999999999999999999ll + rng_below(&rng, 3), &s);
            if (rng_below(&rng, 2))
                x.sexp ^= 0x8000;
        }
        HostBcd hout, gout;
        memset(&hout, 0x5A, sizeof(hout));
        hf = host_fbstp(x, cw, &hout) & SW_MASK;
        s = float_status_from_fpuc(cw);
        floatx80_to_bcd(x, gout.b, &s);
        gf = x87_flags(&s);
        if (memcmp(&hout, &gout, sizeof(hout)) || hf != gf) {
            floatx80 hb = make_floatx80((uint16_t)(hout.b[9] << 8 | hout.b[8]), 0);
            floatx80 gb = make_floatx80((uint16_t)(gout.b[9] << 8 | gout.b[8]), 0);
            memcpy(&hb.mant, hout.b, 8);
            memcpy(&gb.mant, gout.b, 8);
            mismatch("fbstp", cw, x, x, hb, hf, gb, gf);
        }
    }
}
#endif

#if HOST_ORACLE_AVAILABLE
TEST(fxam)
{
    TestRng rng = { 0xFA };
    reports = 0;
    for (int i = 0; i < CASES; i++) {
        floatx80 a = gen_floatx80(&rng, true);
        unsigned hf = host_fxam(a) & (FPU_C0 | FPU_C1 | FPU_C2 | FPU_C3);
        unsigned gf = floatx80_fxam(a, false);
        if (hf != gf)
            mismatch("fxam", 0, a, a, a, hf, a, gf);
    }
    CHECK_EQ(floatx80_fxam(make_floatx80(0x8000, 0), true), FPU_C3 | FPU_C1 | FPU_C0);
}

TEST(tags)
{
    TestRng rng = { 0x7A6 };
    reports = 0;
    for (int i = 0; i < CASES; i++) {
        floatx80 a = gen_floatx80(&rng, true);
        unsigned want = host_tag(a), got = floatx80_tag(a);
        if (want != got)
            mismatch("tag", 0, a, a, a, want, a, got);
    }
}

TEST(constants)
{
    typedef uint16_t (*HostConst)(uint16_t, floatx80 *);
    static const HostConst host[FLOATX80_CONST_COUNT] = {
        host_fldz, host_fld1, host_fldpi, host_fldl2t, host_fldl2e, host_fldlg2, host_fldln2,
    };
    reports = 0;
    for (int rc = 0; rc < 4; rc++)
        for (int c = 0; c < FLOATX80_CONST_COUNT; c++) {
            uint16_t cw = host_fpucw(rc, 64);
            floatx80 want;
            unsigned hf = host[c](cw, &want) & 0x3F;     /* C0 C2 C3 are undefined */
            FloatStatus s = float_status_from_fpuc(cw);
            floatx80 got = floatx80_constant((FloatX80Constant)c, &s);
            if (!same80(want, got) || hf != 0)
                mismatch("fld constant", (unsigned)(rc << 8 | c), want, want, want, hf, got, 0);
        }
}
#endif

#if HOST_ORACLE_AVAILABLE
/* FADD/FMUL/FSUB/FSUBR/FDIV/FDIVR with register, m32fp and m64fp operands,
 * and FCOM m32fp/m64fp. */
TEST(x87_operand_forms)
{
    typedef uint16_t (*HostReg)(floatx80, floatx80, uint16_t, floatx80 *);
    typedef uint16_t (*HostM32)(floatx80, uint32_t, uint16_t, floatx80 *);
    typedef uint16_t (*HostM64)(floatx80, uint64_t, uint16_t, floatx80 *);
    static const HostReg reg[6] = { host_fadd, host_fmul, host_fsub, host_fsubr, host_fdiv,
                                    host_fdivr };
    static const HostM32 m32[6] = { host_fadds, host_fmuls, host_fsubs, host_fsubrs, host_fdivs,
                                    host_fdivrs };
    static const HostM64 m64[6] = { host_faddl, host_fmull, host_fsubl, host_fsubrl, host_fdivl,
                                    host_fdivrl };
    static const int precs[3] = { 24, 53, 64 };
    TestRng rng = { 0xF0F };
    reports = 0;
    for (int i = 0; i < 6 * CASES; i++) {
        X87Arith op = (X87Arith)rng_below(&rng, 6);
        uint16_t cw = host_fpucw(rng_below(&rng, 4), precs[rng_below(&rng, 3)]);
        floatx80 a = gen_floatx80(&rng, true), b = gen_floatx80(&rng, true), want, got;
        float32 f = gen_float32(&rng);
        float64 d = gen_float64(&rng);
        unsigned hf, gf;
        FloatStatus s = float_status_from_fpuc(cw);
        switch (rng_below(&rng, 4)) {
        case 0:
            hf = reg[op](a, b, cw, &want);
            got = floatx80_arith(op, a, b, &s);
            break;
        case 1:
            hf = m32[op](a, f, cw, &want);
            got = floatx80_arith_float32(op, a, f, &s);
            b = make_floatx80(0, f);
            break;
        case 2:
            hf = m64[op](a, d, cw, &want);
            got = floatx80_arith_float64(op, a, d, &s);
            b = make_floatx80(0, d);
            break;
        default:
            want = got = a;
            if (rng_below(&rng, 2)) {
                hf = host_fcomps(a, f, cw);
                gf = float_relation_to_fsw(floatx80_compare_float32(a, f, false, &s));
                b = make_floatx80(0, f);
            } else {
                hf = host_fcompl(a, d, cw);
                gf = float_relation_to_fsw(floatx80_compare_float64(a, d, false, &s));
                b = make_floatx80(0, d);
            }
            hf &= SW_MASK;
            gf |= x87_flags(&s);
            if (hf != gf)
                mismatch("fcom mem", cw, a, b, want, hf, got, gf);
            continue;
        }
        hf &= 0x3F | FPU_C1;
        gf = x87_flags(&s);
        if (!same80(want, got) || hf != gf)
            mismatch("x87 arith form", cw | (unsigned)op << 16, a, b, want, hf, got, gf);
    }
}
#endif

/* The x87's unmasked overflow/underflow response: result biased by 24576. */
#if HOST_ORACLE_AVAILABLE
TEST(unmasked_overflow_underflow)
{
    TestRng rng = { 0xB1A5 };
    static const int precs[3] = { 24, 53, 64 };
    reports = 0;
    for (int i = 0; i < CASES; i++) {
        unsigned mask = rng_below(&rng, 4);     /* which of OE/UE are unmasked */
        uint16_t cw = host_fpucw(rng_below(&rng, 4), precs[rng_below(&rng, 3)]);
        cw &= (uint16_t)~((mask & 1 ? 0x08 : 0) | (mask & 2 ? 0x10 : 0));
        floatx80 a = gen_floatx80(&rng, false), b = gen_floatx80(&rng, false), want, got;
        /* exponents that overflow or underflow the product/quotient */
        if (rng_below(&rng, 4)) {
            int ea = (int)rng_below(&rng, 0x7FFE) + 1;
            int eb = rng_below(&rng, 2) ? 0x7FFE - (int)rng_below(&rng, 64) - ea + 16383
                                        : 16383 - ea + (int)rng_below(&rng, 128) - 64;
            if (eb > 0 && eb < 0x7FFF) {
                a.sexp = (uint16_t)((a.sexp & 0x8000) | ea);
                b.sexp = (uint16_t)((b.sexp & 0x8000) | eb);
                a.mant |= 1ull << 63;
                b.mant |= 1ull << 63;
            }
        }
        unsigned op = rng_below(&rng, 4);
        FloatStatus s = float_status_from_fpuc(cw);
        unsigned hf;
        switch (op) {
        case 0:
            hf = host_fmul_nowait(a, b, cw, &want);
            got = floatx80_mul(a, b, &s);
            break;
        case 1:
            hf = host_fdiv_nowait(a, b, cw, &want);
            got = floatx80_div(a, b, &s);
            break;
        case 2:
            hf = host_fadd_nowait(a, b, cw, &want);
            got = floatx80_add(a, b, &s);
            break;
        default:
            /* far enough to leave even the biased exponent range */
            b = int32_to_floatx80((int32_t)rng_below(&rng, 120000) - 60000, &(FloatStatus){ 0 });
            hf = host_fscale_nowait(a, b, cw, &want);
            got = floatx80_scale(a, b, &s);
            break;
        }
        hf &= 0x3F | FPU_C1 | FPU_SW_ES | FPU_SW_B;
        unsigned gf = fpu_fsw_after(0, cw, &s);
        if (!same80(want, got) || hf != gf)
            mismatch(op == 0 ? "fmul" : op == 1 ? "fdiv" : op == 2 ? "fadd" : "fscale", cw, a, b,
                     want, hf, got, gf);
    }
}
#endif

/* ---- transcendentals: within 1 ulp of the host ---- */
#if HOST_ORACLE_AVAILABLE
typedef unsigned __int128 u128;

/* Distance in ulps (64-bit significand) between two finite floatx80 of the
 * same sign, through their ordering as integers. */
static uint64_t ulp_distance(floatx80 a, floatx80 b)
{
    if ((a.sexp ^ b.sexp) & 0x8000)
        return (a.mant | b.mant) ? UINT64_MAX : 0;
    u128 ka = (u128)(a.sexp & 0x7FFF) << 63 | (a.mant & ~(1ull << 63));
    u128 kb = (u128)(b.sexp & 0x7FFF) << 63 | (b.mant & ~(1ull << 63));
    u128 d = ka > kb ? ka - kb : kb - ka;
    return d > UINT64_MAX ? UINT64_MAX : (uint64_t)d;
}

typedef struct TransStats {
    int exact, one_ulp, total;
} TransStats;

/* Same bits and flags, or both finite within 1 ulp with the same exception
 * flags apart from the rounding-dependent C1. */
static void check_trans(const char *what, uint16_t cw, floatx80 a, floatx80 b, floatx80 want,
                        unsigned hf, floatx80 got, unsigned gf, TransStats *st)
{
    st->total++;
    if (same80(want, got) && hf == gf) {
        st->exact++;
        return;
    }
    bool finite = (want.sexp & 0x7FFF) != 0x7FFF && (got.sexp & 0x7FFF) != 0x7FFF;
    if (finite && ulp_distance(want, got) <= 1 && (hf & ~FPU_C1) == (gf & ~FPU_C1)) {
        st->one_ulp++;
        return;
    }
    mismatch(what, cw, a, b, want, hf, got, gf);
}

static floatx80 gen_in_range(TestRng *r, int emin, int emax)
{
    floatx80 x = gen_floatx80(r, true);     /* specials and unsupported too */
    if (rng_below(r, 8)) {
        int e = emin + (int)rng_below(r, (unsigned)(emax - emin + 1));
        x.sexp = (uint16_t)((x.sexp & 0x8000) | (16383 + e));
        x.mant |= 1ull << 63;
    }
    return x;
}

#define TRANS_CASES 3000

TEST(f2xm1)
{
    TestRng rng = { 0xF2 };
    TransStats st = { 0 };
    reports = 0;
    for (int i = 0; i < TRANS_CASES; i++) {
        uint16_t cw = host_fpucw(rng_below(&rng, 4), any_precision(&rng));
        /* |x| > 1 is outside the architectural domain (undefined) */
        floatx80 a = gen_in_range(&rng, -70, rng_below(&rng, 8) ? -1 : 4), want, got;
        unsigned hf = host_f2xm1(a, cw, &want) & SW_MASK;
        FloatStatus s = float_status_from_fpuc(cw);
        got = floatx80_f2xm1(a, &s);
        check_trans("f2xm1", cw, a, a, want, hf, got, x87_flags(&s), &st);
    }
    printf("f2xm1: %d exact, %d within 1 ulp, of %d\n", st.exact, st.one_ulp, st.total);
}

TEST(fyl2x)
{
    TestRng rng = { 0x1062 };
    TransStats st = { 0 };
    reports = 0;
    for (int i = 0; i < TRANS_CASES; i++) {
        uint16_t cw = host_fpucw(rng_below(&rng, 4), any_precision(&rng));
        floatx80 x = gen_floatx80(&rng, true), y = gen_in_range(&rng, -20, 20), want, got;
        if (rng_below(&rng, 2))
            x.sexp &= 0x7FFF;           /* mostly positive */
        if (rng_below(&rng, 4) == 0)    /* close to 1 */
            x = make_floatx80(rng_below(&rng, 2) ? 0x3FFF : 0x3FFE,
                              rng_below(&rng, 2) ? (1ull << 63) + rng_below(&rng, 1000)
                                                 : ~0ull - rng_below(&rng, 1000));
        unsigned hf = host_fyl2x(x, y, cw, &want) & SW_MASK;
        FloatStatus s = float_status_from_fpuc(cw);
        got = floatx80_fyl2x(x, y, &s);
        check_trans("fyl2x", cw, x, y, want, hf, got, x87_flags(&s), &st);
    }
    printf("fyl2x: %d exact, %d within 1 ulp, of %d\n", st.exact, st.one_ulp, st.total);
}

TEST(fyl2xp1)
{
    TestRng rng = { 0x1062B1 };
    TransStats st = { 0 };
    reports = 0;
    for (int i = 0; i < TRANS_CASES; i++) {
        uint16_t cw = host_fpucw(rng_below(&rng, 4), any_precision(&rng));
        floatx80 x = gen_in_range(&rng, -80, rng_below(&rng, 4) ? -3 : 2);
        floatx80 y = gen_in_range(&rng, -20, 20), want, got;
        unsigned ex = x.sexp & 0x7FFF;
        if (ex >= 0x3FFF + 3 && ex != 0x7FFF && !(x.sexp & 0x8000))
            continue;   /* far outside the domain: not checked */
        unsigned hf = host_fyl2xp1(x, y, cw, &want) & SW_MASK;
        FloatStatus s = float_status_from_fpuc(cw);
        got = floatx80_fyl2xp1(x, y, &s);
        check_trans("fyl2xp1", cw, x, y, want, hf, got, x87_flags(&s), &st);
    }
    printf("fyl2xp1: %d exact, %d within 1 ulp, of %d\n", st.exact, st.one_ulp, st.total);
}

TEST(fpatan)
{
    TestRng rng = { 0xA7A };
    TransStats st = { 0 };
    reports = 0;
    for (int i = 0; i < TRANS_CASES; i++) {
        uint16_t cw = host_fpucw(rng_below(&rng, 4), any_precision(&rng));
        floatx80 x = gen_in_range(&rng, -40, 40), y = gen_in_range(&rng, -40, 40), want, got;
        unsigned hf = host_fpatan(x, y, cw, &want) & SW_MASK;
        FloatStatus s = float_status_from_fpuc(cw);
        got = floatx80_fpatan(x, y, &s);
        check_trans("fpatan", cw, x, y, want, hf, got, x87_flags(&s), &st);
    }
    printf("fpatan: %d exact, %d within 1 ulp, of %d\n", st.exact, st.one_ulp, st.total);
}

TEST(fsin_fcos_fptan)
{
    TestRng rng = { 0x517 };
    TransStats st = { 0 };
    reports = 0;
    for (int i = 0; i < TRANS_CASES; i++) {
        uint16_t cw = host_fpucw(rng_below(&rng, 4), any_precision(&rng));
        floatx80 a = gen_in_range(&rng, -70, 70), want, want2, got, got2;
        unsigned hf, gf;
        bool ok;
        FloatStatus s = float_status_from_fpuc(cw);
        hf = host_fsin(a, cw, &want) & SW_MASK;
        ok = floatx80_fsin(a, &got, &s);
        gf = x87_flags(&s) | (ok ? 0 : FPU_C2);
        if (!ok)
            got = a;
        check_trans("fsin", cw, a, a, want, hf, got, gf, &st);

        s = float_status_from_fpuc(cw);
        hf = host_fcos(a, cw, &want) & SW_MASK;
        ok = floatx80_fcos(a, &got, &s);
        gf = x87_flags(&s) | (ok ? 0 : FPU_C2);
        if (!ok)
            got = a;
        check_trans("fcos", cw, a, a, want, hf, got, gf, &st);

        s = float_status_from_fpuc(cw);
        want2 = got2 = make_floatx80(0, 0);
        hf = host_fsincos(a, cw, &want, &want2) & SW_MASK;
        ok = floatx80_fsincos(a, &got2, &got, &s);     /* host: st0 = cos, st1 = sin */
        gf = x87_flags(&s) | (ok ? 0 : FPU_C2);
        if (!ok)
            got = a;
        check_trans("fsincos cos", cw, a, a, want, hf, got, gf, &st);
        if (ok)
            check_trans("fsincos sin", cw, a, a, want2, hf, got2, gf, &st);

        s = float_status_from_fpuc(cw);
        hf = host_fptan(a, cw, &want, &want2) & SW_MASK;
        ok = floatx80_fptan(a, &got2, &got, &s);
        gf = x87_flags(&s) | (ok ? 0 : FPU_C2);
        if (!ok)
            got = a;
        check_trans("fptan one", cw, a, a, want, hf, got, gf, &st);
        if (ok)
            check_trans("fptan", cw, a, a, want2, hf, got2, gf, &st);
    }
    printf("trig: %d exact, %d within 1 ulp, of %d\n", st.exact, st.one_ulp, st.total);
}
#endif
