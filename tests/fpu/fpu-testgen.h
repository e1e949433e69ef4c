/* Operand generators for the floating-point tests: random values from a
 * fixed seed with the special values mixed in heavily (zeros, infinities,
 * NaNs with payloads, denormals, x87 unsupported encodings, values at the
 * overflow/underflow thresholds and rounding boundaries). */
#ifndef TESTS_FPU_FPU_TESTGEN_H
#define TESTS_FPU_FPU_TESTGEN_H

#include <stdint.h>
#include "cpu/x86/softfloat.h"

typedef struct TestRng {
    uint64_t state;
} TestRng;

static inline uint64_t rng_next(TestRng *r)
{
    /* xorshift64* */
    uint64_t x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline unsigned rng_below(TestRng *r, unsigned n)
{
    return (unsigned)((rng_next(r) >> 32) % n);
}

/* A significand pattern: random, few bits set (exact / halfway cases), long
 * runs of ones (carries), or all-zero. `bits` is the fraction width. */
static inline uint64_t gen_fraction(TestRng *r, int bits)
{
    uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
    switch (rng_below(r, 6)) {
    case 0:
        return 0;
    case 1: {               /* a few bits */
        uint64_t f = 0;
        for (int i = rng_below(r, 4); i >= 0; i--)
            f |= 1ull << rng_below(r, bits);
        return f & mask;
    }
    case 2: {               /* run of ones at the top or the bottom */
        unsigned n = rng_below(r, bits) + 1;
        uint64_t run = n >= 64 ? ~0ull : (1ull << n) - 1;
        return (rng_below(r, 2) ? run : run << (bits - n)) & mask;
    }
    case 3:                 /* all ones minus a little */
        return (mask - rng_below(r, 4)) & mask;
    default:
        return rng_next(r) & mask;
    }
}

/* Biased exponent: anywhere, near the ends, near the middle, or special. */
static inline int gen_exponent(TestRng *r, int emax_biased, int bias)
{
    switch (rng_below(r, 8)) {
    case 0:
        return 0;                                   /* zero / denormal */
    case 1:
        return emax_biased;                         /* inf / NaN */
    case 2:
        return 1 + rng_below(r, 70);                /* near underflow */
    case 3:
        return emax_biased - 1 - rng_below(r, 70);  /* near overflow */
    case 4:
    case 5:
        return bias - 40 + rng_below(r, 80);        /* ordinary */
    default:
        return 1 + rng_below(r, emax_biased - 1);
    }
}

static inline float32 gen_float32(TestRng *r)
{
    uint32_t sign = rng_below(r, 2);
    uint32_t e = gen_exponent(r, 0xFF, 127);
    return (sign << 31) | (e << 23) | (uint32_t)gen_fraction(r, 23);
}

static inline float64 gen_float64(TestRng *r)
{
    uint64_t sign = rng_below(r, 2);
    uint64_t e = gen_exponent(r, 0x7FF, 1023);
    return (sign << 63) | (e << 52) | gen_fraction(r, 52);
}

/* floatx80 including pseudo-denormals, unnormals, pseudo-NaN/infinity when
 * unsupported is true (about 1 in 16). */
static inline floatx80 gen_floatx80(TestRng *r, bool unsupported)
{
    uint16_t sign = rng_below(r, 2);
    int e = gen_exponent(r, 0x7FFF, 16383);
    uint64_t mant = gen_fraction(r, 63);
    bool int_bit = e != 0;
    if (unsupported && rng_below(r, 16) == 0)
        int_bit = !int_bit;
    if (int_bit)
        mant |= 1ull << 63;
    return make_floatx80((uint16_t)(sign << 15 | e), mant);
}

/* A second operand related to the first: close to it (cancellation,
 * halfway sums), a power of two apart, or independent. */
static inline uint64_t gen_related(TestRng *r, uint64_t a, uint64_t b, int sign_bit)
{
    switch (rng_below(r, 6)) {
    case 0:
        return a ^ ((uint64_t)1 << sign_bit);           /* -a */
    case 1:
        return a + rng_below(r, 5) - 2;                 /* a few ulps away */
    case 2:
        return (a ^ ((uint64_t)1 << sign_bit)) + rng_below(r, 5) - 2;
    default:
        return b;
    }
}

#endif
