/* Differential fuzzer: the softfloat library against the host CPU's x87 and
 * SSE units on random operands and random control settings.
 *   FPU_FUZZ_SEED=n   (default 1)      FPU_FUZZ_COUNT=n  (default 1000000)
 * Prints each mismatch (at most 50) and ends with "N passed, N failed".
 * Build: cc -I. tests/fpu/fpu-fuzz.c build/libkestrel.a (tests/fpu/test-fpu-fuzz.sh). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/fpu/host-oracle.h"
#include "tests/fpu/fpu-testgen.h"

#if HOST_ORACLE_AVAILABLE

typedef struct SseOp32 {
    const char *name;
    uint32_t (*host)(uint32_t, uint32_t, uint32_t, unsigned *);
    float32 (*ours)(float32, float32, FloatStatus *);
} SseOp32;

typedef struct SseOp64 {
    const char *name;
    uint64_t (*host)(uint64_t, uint64_t, uint32_t, unsigned *);
    float64 (*ours)(float64, float64, FloatStatus *);
} SseOp64;

typedef struct X87Op {
    const char *name;
    uint16_t (*host)(floatx80, floatx80, uint16_t, floatx80 *);
    floatx80 (*ours)(floatx80, floatx80, FloatStatus *);
} X87Op;

static float32 sqrt32(float32 a, float32 b, FloatStatus *s) { (void)a; return float32_sqrt(b, s); }
static float64 sqrt64(float64 a, float64 b, FloatStatus *s) { (void)a; return float64_sqrt(b, s); }
static floatx80 sqrt80(floatx80 a, floatx80 b, FloatStatus *s) { (void)b; return floatx80_sqrt(a, s); }
static floatx80 rndint80(floatx80 a, floatx80 b, FloatStatus *s)
{
    (void)b;
    return floatx80_round_to_int(a, s);
}
static uint16_t host_fsqrt2(floatx80 a, floatx80 b, uint16_t cw, floatx80 *r)
{
    (void)b;
    return host_fsqrt(a, cw, r);
}
static uint16_t host_frndint2(floatx80 a, floatx80 b, uint16_t cw, floatx80 *r)
{
    (void)b;
    return host_frndint(a, cw, r);
}

static const SseOp32 sse32_ops[] = {
    { "addss", host_addss, float32_add }, { "subss", host_subss, float32_sub },
    { "mulss", host_mulss, float32_mul }, { "divss", host_divss, float32_div },
    { "minss", host_minss, float32_min }, { "maxss", host_maxss, float32_max },
    { "sqrtss", host_sqrtss, sqrt32 },
};
static const SseOp64 sse64_ops[] = {
    { "addsd", host_addsd, float64_add }, { "subsd", host_subsd, float64_sub },
    { "mulsd", host_mulsd, float64_mul }, { "divsd", host_divsd, float64_div },
    { "minsd", host_minsd, float64_min }, { "maxsd", host_maxsd, float64_max },
    { "sqrtsd", host_sqrtsd, sqrt64 },
};
static const X87Op x87_ops[] = {
    { "fadd", host_fadd, floatx80_add }, { "fsub", host_fsub, floatx80_sub },
    { "fmul", host_fmul, floatx80_mul }, { "fdiv", host_fdiv, floatx80_div },
    { "fsqrt", host_fsqrt2, sqrt80 }, { "frndint", host_frndint2, rndint80 },
    { "fscale", host_fscale, floatx80_scale },
};
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* float -> integer conversions (results widened to 64 bits) */
typedef struct ToIntOp {
    const char *name;
    bool dbl;
    int64_t (*host)(uint64_t, uint32_t, unsigned *);
    int64_t (*ours)(uint64_t, FloatStatus *);
} ToIntOp;
#define TO_INT(hname, oname, ftype)                                                  \
    static int64_t h_##hname(uint64_t a, uint32_t csr, unsigned *fl)                 \
    {                                                                                \
        return host_##hname((ftype)a, csr, fl);                                      \
    }                                                                                \
    static int64_t o_##hname(uint64_t a, FloatStatus *s) { return oname((ftype)a, s); }
TO_INT(cvtss2si32, float32_to_int32, uint32_t)
TO_INT(cvttss2si32, float32_to_int32_round_to_zero, uint32_t)
TO_INT(cvtss2si64, float32_to_int64, uint32_t)
TO_INT(cvttss2si64, float32_to_int64_round_to_zero, uint32_t)
TO_INT(cvtsd2si32, float64_to_int32, uint64_t)
TO_INT(cvttsd2si32, float64_to_int32_round_to_zero, uint64_t)
TO_INT(cvtsd2si64, float64_to_int64, uint64_t)
TO_INT(cvttsd2si64, float64_to_int64_round_to_zero, uint64_t)
#undef TO_INT
static const ToIntOp to_int_ops[] = {
    { "cvtss2si32", false, h_cvtss2si32, o_cvtss2si32 },
    { "cvttss2si32", false, h_cvttss2si32, o_cvttss2si32 },
    { "cvtss2si64", false, h_cvtss2si64, o_cvtss2si64 },
    { "cvttss2si64", false, h_cvttss2si64, o_cvttss2si64 },
    { "cvtsd2si32", true, h_cvtsd2si32, o_cvtsd2si32 },
    { "cvttsd2si32", true, h_cvttsd2si32, o_cvttsd2si32 },
    { "cvtsd2si64", true, h_cvtsd2si64, o_cvtsd2si64 },
    { "cvttsd2si64", true, h_cvttsd2si64, o_cvttsd2si64 },
};

static unsigned long failures;

static void fail(const char *name, unsigned mode, const char *operands, const char *results)
{
    if (++failures <= 50)
        printf("FAIL %s mode %#x: %s: %s\n", name, mode, operands, results);
}

static bool to_int_case(TestRng *rng)
{
    const ToIntOp *op = &to_int_ops[rng_below(rng, COUNT_OF(to_int_ops))];
    uint32_t csr = host_mxcsr(rng_below(rng, 4), rng_below(rng, 2), rng_below(rng, 2));
    uint64_t a;
    if (op->dbl) {
        a = gen_float64(rng);
        if (rng_below(rng, 2))      /* around the integer range */
            a = (a & 0x800FFFFFFFFFFFFFull) | (uint64_t)(1023 - 2 + rng_below(rng, 68)) << 52;
    } else {
        a = gen_float32(rng);
        if (rng_below(rng, 2))
            a = (a & 0x807FFFFFu) | (uint64_t)(127 - 2 + rng_below(rng, 68)) << 23;
    }
    unsigned hf;
    FloatStatus s = float_status_from_mxcsr(csr);
    int64_t want = op->host(a, csr, &hf), got = op->ours(a, &s);
    if (want == got && hf == (s.flags & 0x3Fu))
        return true;
    char ops[64], res[128];
    snprintf(ops, sizeof(ops), "%016" PRIx64, a);
    snprintf(res, sizeof(res), "host %" PRId64 "/%#x ours %" PRId64 "/%#x", want, hf, got,
             s.flags & 0x3F);
    fail(op->name, csr, ops, res);
    return false;
}

/* x87 arithmetic with an m32fp/m64fp operand */
static bool x87_mem_case(TestRng *rng)
{
    typedef uint16_t (*HostM32)(floatx80, uint32_t, uint16_t, floatx80 *);
    typedef uint16_t (*HostM64)(floatx80, uint64_t, uint16_t, floatx80 *);
    static const HostM32 m32[6] = { host_fadds, host_fmuls, host_fsubs, host_fsubrs,
                                    host_fdivs, host_fdivrs };
    static const HostM64 m64[6] = { host_faddl, host_fmull, host_fsubl, host_fsubrl,
                                    host_fdivl, host_fdivrl };
    static const int precs[3] = { 24, 53, 64 };
    X87Arith op = (X87Arith)rng_below(rng, 6);
    uint16_t cw = host_fpucw(rng_below(rng, 4), precs[rng_below(rng, 3)]);
    floatx80 a = gen_floatx80(rng, true), want, got;
    FloatStatus s = float_status_from_fpuc(cw);
    uint64_t m;
    unsigned hf;
    if (rng_below(rng, 2)) {
        m = gen_float32(rng);
        hf = m32[op](a, (uint32_t)m, cw, &want);
        got = floatx80_arith_float32(op, a, (uint32_t)m, &s);
    } else {
        m = gen_float64(rng);
        hf = m64[op](a, m, cw, &want);
        got = floatx80_arith_float64(op, a, m, &s);
    }
    hf &= 0x3F | FPU_C1;
    unsigned gf = (s.flags & 0x3F) | (s.flags & FLOAT_FLAG_ROUNDED_UP ? FPU_C1 : 0);
    if (want.sexp == got.sexp && want.mant == got.mant && hf == gf)
        return true;
    char ops[128], res[160];
    snprintf(ops, sizeof(ops), "op %d %04x:%016" PRIx64 " %016" PRIx64, op, a.sexp, a.mant, m);
    snprintf(res, sizeof(res), "host %04x:%016" PRIx64 "/%#x ours %04x:%016" PRIx64 "/%#x",
             want.sexp, want.mant, hf, got.sexp, got.mant, gf);
    fail("x87 m32/m64 arith", cw, ops, res);
    return false;
}

static bool one_case(TestRng *rng)
{
    char ops[128], res[160];
    unsigned kind = rng_below(rng, 5);
    if (kind == 3)
        return to_int_case(rng);
    if (kind == 4)
        return x87_mem_case(rng);
    if (kind == 0) {
        const SseOp32 *op = &sse32_ops[rng_below(rng, COUNT_OF(sse32_ops))];
        uint32_t csr = host_mxcsr(rng_below(rng, 4), rng_below(rng, 2), rng_below(rng, 2));
        float32 a = gen_float32(rng), b = (uint32_t)gen_related(rng, a, gen_float32(rng), 31);
        unsigned hf;
        FloatStatus s = float_status_from_mxcsr(csr);
        uint32_t want = op->host(a, b, csr, &hf), got = op->ours(a, b, &s);
        if (want == got && hf == (s.flags & 0x3Fu))
            return true;
        snprintf(ops, sizeof(ops), "%08x %08x", a, b);
        snprintf(res, sizeof(res), "host %08x/%#x ours %08x/%#x", want, hf, got, s.flags & 0x3F);
        fail(op->name, csr, ops, res);
        return false;
    }
    if (kind == 1) {
        const SseOp64 *op = &sse64_ops[rng_below(rng, COUNT_OF(sse64_ops))];
        uint32_t csr = host_mxcsr(rng_below(rng, 4), rng_below(rng, 2), rng_below(rng, 2));
        float64 a = gen_float64(rng), b = gen_related(rng, a, gen_float64(rng), 63);
        unsigned hf;
        FloatStatus s = float_status_from_mxcsr(csr);
        uint64_t want = op->host(a, b, csr, &hf), got = op->ours(a, b, &s);
        if (want == got && hf == (s.flags & 0x3Fu))
            return true;
        snprintf(ops, sizeof(ops), "%016" PRIx64 " %016" PRIx64, a, b);
        snprintf(res, sizeof(res), "host %016" PRIx64 "/%#x ours %016" PRIx64 "/%#x", want, hf,
                 got, s.flags & 0x3F);
        fail(op->name, csr, ops, res);
        return false;
    }
    static const int precs[3] = { 24, 53, 64 };
    const X87Op *op = &x87_ops[rng_below(rng, COUNT_OF(x87_ops))];
    uint16_t cw = host_fpucw(rng_below(rng, 4), precs[rng_below(rng, 3)]);
    floatx80 a = gen_floatx80(rng, true), b = gen_floatx80(rng, true), want, got;
    FloatStatus s = float_status_from_fpuc(cw);
    unsigned hf = op->host(a, b, cw, &want) & (0x3F | FPU_C1);
    got = op->ours(a, b, &s);
    unsigned gf = (s.flags & 0x3F) | (s.flags & FLOAT_FLAG_ROUNDED_UP ? FPU_C1 : 0);
    if (want.sexp == got.sexp && want.mant == got.mant && hf == gf)
        return true;
    snprintf(ops, sizeof(ops), "%04x:%016" PRIx64 " %04x:%016" PRIx64, a.sexp, a.mant, b.sexp,
             b.mant);
    snprintf(res, sizeof(res), "host %04x:%016" PRIx64 "/%#x ours %04x:%016" PRIx64 "/%#x",
             want.sexp, want.mant, hf, got.sexp, got.mant, gf);
    fail(op->name, cw, ops, res);
    return false;
}

int main(void)
{
    const char *seed_env = getenv("FPU_FUZZ_SEED"), *count_env = getenv("FPU_FUZZ_COUNT");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : 1;
    unsigned long count = count_env ? strtoul(count_env, NULL, 0) : 1000000;
    TestRng rng = { seed * 0x9E3779B97F4A7C15ull + 1 };
    unsigned long passed = 0;
    for (unsigned long i = 0; i < count; i++)
        passed += one_case(&rng);
    printf("seed %" PRIu64 ": %lu passed, %lu failed\n", seed, passed, failures);
    return failures != 0;
}

#else
int main(void)
{
    printf("SKIP fpu-fuzz: host is not x86-64, no hardware oracle\n");
    return 0;
}
#endif
