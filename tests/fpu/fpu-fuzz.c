/* Differential fuzzer: the softfloat library against the host CPU's x87 and
 * SSE units on random operands and random control settings.
 *   FPU_FUZZ_SEED=n   (default 1)      FPU_FUZZ_COUNT=n  (default 1000000)
 *   FPU_FUZZ_DUMP=1   print the cases with the host's results as C
 *                     initializers (tests/fpu/vectors.inc) instead
 * Prints each mismatch (at most 50) and ends with "N passed, N failed".
 * Build: cc -I. tests/fpu/fpu-fuzz.c build/libkestrel.a (tests/fpu/test-fpu-fuzz.sh). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/fpu/fpu-testgen.h"
#include "tests/fpu/fpu-vector.h"
#include "tests/fpu/host-oracle.h"

#if HOST_ORACLE_AVAILABLE

static uint16_t host_fsqrt_of_a(floatx80 a, floatx80 b, uint16_t cw, floatx80 *r)
{
    (void)b;
    return host_fsqrt(a, cw, r);
}

static uint16_t host_frndint_of_a(floatx80 a, floatx80 b, uint16_t cw, floatx80 *r)
{
    (void)b;
    return host_frndint(a, cw, r);
}

typedef uint32_t (*HostSse32)(uint32_t, uint32_t, uint32_t, unsigned *);
typedef uint64_t (*HostSse64)(uint64_t, uint64_t, uint32_t, unsigned *);
typedef uint16_t (*HostX87)(floatx80, floatx80, uint16_t, floatx80 *);
#define SSE32_HOST(name) host_##name##ss,
#define SSE64_HOST(name) host_##name##sd,
#define X87_HOST(name, h, o) h,
static const HostSse32 host_sse32[] = { FPU_SSE_OPS(SSE32_HOST) };
static const HostSse64 host_sse64[] = { FPU_SSE_OPS(SSE64_HOST) };
static const HostX87 host_x87[] = { FPU_X87_OPS(X87_HOST) };
#undef SSE32_HOST
#undef SSE64_HOST
#undef X87_HOST

#define TO_INT_HOST(name, fn, dbl)                                                   \
    static int64_t host_to_int_##name(uint64_t a, uint32_t csr, unsigned *fl)        \
    {                                                                                \
        return dbl ? host_##name((uint64_t)a, csr, fl) : host_##name((uint32_t)a, csr, fl); \
    }
FPU_TO_INT_OPS(TO_INT_HOST)
#undef TO_INT_HOST
typedef int64_t (*HostToInt)(uint64_t, uint32_t, unsigned *);
#define TO_INT_ENTRY(name, fn, dbl) host_to_int_##name,
static const HostToInt host_to_int[] = { FPU_TO_INT_OPS(TO_INT_ENTRY) };
#undef TO_INT_ENTRY
#define TO_INT_DBL(name, fn, dbl) dbl,
static const bool to_int_double[] = { FPU_TO_INT_OPS(TO_INT_DBL) };
#undef TO_INT_DBL

typedef uint16_t (*HostM32)(floatx80, uint32_t, uint16_t, floatx80 *);
typedef uint16_t (*HostM64)(floatx80, uint64_t, uint16_t, floatx80 *);
static const HostM32 host_m32[6] = { host_fadds, host_fmuls, host_fsubs, host_fsubrs,
                                     host_fdivs, host_fdivrs };
static const HostM64 host_m64[6] = { host_faddl, host_fmull, host_fsubl, host_fsubrl,
                                     host_fdivl, host_fdivrl };

static uint16_t random_mxcsr(TestRng *r)
{
    return (uint16_t)host_mxcsr(rng_below(r, 4), rng_below(r, 2), rng_below(r, 2));
}

static uint16_t random_fpucw(TestRng *r)
{
    static const int precs[3] = { 24, 53, 64 };
    return host_fpucw(rng_below(r, 4), precs[rng_below(r, 3)]);
}

/* Random case of a random kind, with the host's result. */
static FpuVector random_vector(TestRng *r)
{
    FpuVector v = { .kind = (uint8_t)rng_below(r, VK_COUNT) };
    unsigned hf = 0;
    switch (v.kind) {
    case VK_SSE32:
        v.op = (uint8_t)rng_below(r, FV_SSE_OP_COUNT);
        v.mode = random_mxcsr(r);
        v.a.mant = gen_float32(r);
        v.b.mant = (uint32_t)gen_related(r, v.a.mant, gen_float32(r), 31);
        v.result.mant = host_sse32[v.op]((uint32_t)v.a.mant, (uint32_t)v.b.mant, v.mode, &hf);
        break;
    case VK_SSE64:
        v.op = (uint8_t)rng_below(r, FV_SSE_OP_COUNT);
        v.mode = random_mxcsr(r);
        v.a.mant = gen_float64(r);
        v.b.mant = gen_related(r, v.a.mant, gen_float64(r), 63);
        v.result.mant = host_sse64[v.op](v.a.mant, v.b.mant, v.mode, &hf);
        break;
    case VK_X87:
        v.op = (uint8_t)rng_below(r, FV_X87_OP_COUNT);
        v.mode = random_fpucw(r);
        v.a = gen_floatx80(r, true);
        v.b = gen_floatx80(r, true);
        hf = host_x87[v.op](v.a, v.b, v.mode, &v.result) & (0x3F | FPU_C1);
        break;
    case VK_TO_INT:
        v.op = (uint8_t)rng_below(r, FV_TO_INT_OP_COUNT);
        v.mode = random_mxcsr(r);
        if (to_int_double[v.op]) {
            v.a.mant = gen_float64(r);
            if (rng_below(r, 2))        /* around the integer range */
                v.a.mant = (v.a.mant & 0x800FFFFFFFFFFFFFull) |
                           (uint64_t)(1023 - 2 + rng_below(r, 68)) << 52;
        } else {
            v.a.mant = gen_float32(r);
            if (rng_below(r, 2))
                v.a.mant = (v.a.mant & 0x807FFFFFu) | (uint64_t)(127 - 2 + rng_below(r, 68)) << 23;
        }
        v.result.mant = (uint64_t)host_to_int[v.op](v.a.mant, v.mode, &hf);
        break;
    case VK_X87_M32:
        v.op = (uint8_t)rng_below(r, 6);
        v.mode = random_fpucw(r);
        v.a = gen_floatx80(r, true);
        v.b.mant = gen_float32(r);
        hf = host_m32[v.op](v.a, (uint32_t)v.b.mant, v.mode, &v.result) & (0x3F | FPU_C1);
        break;
    default:
        v.op = (uint8_t)rng_below(r, 6);
        v.mode = random_fpucw(r);
        v.a = gen_floatx80(r, true);
        v.b.mant = gen_float64(r);
        hf = host_m64[v.op](v.a, v.b.mant, v.mode, &v.result) & (0x3F | FPU_C1);
        break;
    }
    v.flags = (uint16_t)hf;
    return v;
}

static void print_vector(FILE *f, const FpuVector *v, const char *prefix)
{
    fprintf(f, "%s{ %u, %u, 0x%04x, { 0x%016" PRIx64 "ull, 0x%04x }, { 0x%016" PRIx64
            "ull, 0x%04x }, { 0x%016" PRIx64 "ull, 0x%04x }, 0x%03x },\n", prefix, v->kind,
            v->op, v->mode, v->a.mant, v->a.sexp, v->b.mant, v->b.sexp, v->result.mant,
            v->result.sexp, v->flags);
}

int main(void)
{
    const char *seed_env = getenv("FPU_FUZZ_SEED"), *count_env = getenv("FPU_FUZZ_COUNT");
    const char *dump_env = getenv("FPU_FUZZ_DUMP");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : 1;
    unsigned long count = count_env ? strtoul(count_env, NULL, 0) : 1000000;
    bool dump = dump_env && *dump_env && *dump_env != '0';
    TestRng rng = { seed * 0x9E3779B97F4A7C15ull + 1 };
    unsigned long passed = 0, failed = 0;
    if (dump)
        printf("/* Generated by FPU_FUZZ_DUMP=1 FPU_FUZZ_SEED=%" PRIu64 " FPU_FUZZ_COUNT=%lu "
               "tests/fpu/fpu-fuzz on the host FPU: do not edit. */\n", seed, count);
    for (unsigned long i = 0; i < count; i++) {
        FpuVector v = random_vector(&rng);
        if (dump) {
            print_vector(stdout, &v, "");
            continue;
        }
        floatx80 got;
        uint16_t flags;
        fpu_vector_eval(&v, &got, &flags);
        if (got.mant == v.result.mant && got.sexp == v.result.sexp && flags == v.flags) {
            passed++;
            continue;
        }
        if (++failed <= 50) {
            print_vector(stdout, &v, "FAIL host ");
            printf("     ours result 0x%016" PRIx64 " 0x%04x flags 0x%03x\n", got.mant, got.sexp,
                   flags);
        }
    }
    if (!dump)
        printf("seed %" PRIu64 ": %lu passed, %lu failed\n", seed, passed, failed);
    return failed != 0;
}

#else
int main(void)
{
    printf("SKIP fpu-fuzz: host is not x86-64, no hardware oracle\n");
    return 0;
}
#endif
