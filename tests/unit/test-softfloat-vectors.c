/* Recorded host-CPU results (tests/fpu/vectors.inc, made by the fuzzer's
 * FPU_FUZZ_DUMP mode on an x86-64 host) replayed against the library: the
 * hardware oracle for hosts that are not x86. Regenerate with
 *   FPU_FUZZ_DUMP=1 FPU_FUZZ_SEED=2026 FPU_FUZZ_COUNT=2400 fpu-fuzz > tests/fpu/vectors.inc */
#include <fenv.h>

#include "tests/unit/harness.h"
#include "tests/fpu/fpu-vector.h"

static const FpuVector vectors[] = {
#include "tests/fpu/vectors.inc"
};

static int replay(void)
{
    int failures = 0;
    unsigned kinds_seen = 0;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const FpuVector *v = &vectors[i];
        floatx80 got;
        uint16_t flags;
        fpu_vector_eval(v, &got, &flags);
        kinds_seen |= 1u << v->kind;
        if (got.mant == v->result.mant && got.sexp == v->result.sexp && flags == v->flags)
            continue;
        if (failures++ < 8) {
            char m[256];
            snprintf(m, sizeof(m), "vector %zu (kind %u op %u mode %#x): want %04x:%016" PRIx64
                     "/%#x, got %04x:%016" PRIx64 "/%#x", i, v->kind, v->op, v->mode,
                     v->result.sexp, v->result.mant, v->flags, got.sexp, got.mant, flags);
            test_fail(__FILE__, __LINE__, m);
        }
    }
    CHECK_EQ(kinds_seen, (1u << VK_COUNT) - 1);
    return failures;
}

TEST(recorded_host_results)
{
    replay();
}

/* The library never touches host floating point: the host's own rounding
 * mode must not matter. */
TEST(host_rounding_mode_is_irrelevant)
{
    static const int modes[] = {
#ifdef FE_UPWARD
        FE_UPWARD,
#endif
#ifdef FE_DOWNWARD
        FE_DOWNWARD,
#endif
#ifdef FE_TOWARDZERO
        FE_TOWARDZERO,
#endif
        -1,
    };
    int saved = fegetround();
    for (unsigned i = 0; modes[i] != -1; i++) {
        if (fesetround(modes[i]) != 0)
            continue;
        int failures = replay();
        fesetround(saved);
        CHECK_EQ(failures, 0);
    }
    fesetround(saved);
}
