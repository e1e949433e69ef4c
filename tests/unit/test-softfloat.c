/* softfloat arithmetic (add, sub, mul, div, sqrt) against the host CPU, bit
 * for bit with the exception flags, for float32/float64 (SSE, every
 * rounding mode with and without FTZ/DAZ) and floatx80 (x87, every rounding
 * mode and precision control). */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "tests/unit/harness.h"
#include "tests/fpu/host-oracle.h"
#include "tests/fpu/fpu-testgen.h"

#define CASES 2500
#define MAX_REPORTS 8

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT, OP_COUNT };
static const char *const op_names[OP_COUNT] __attribute__((unused)) = { "add", "sub", "mul", "div", "sqrt" };

static int reports;

static __attribute__((unused)) void report(const char *what, uint64_t a, uint64_t b, uint64_t want, uint64_t got,
                   unsigned want_flags, unsigned got_flags, unsigned mode)
{
    if (reports++ >= MAX_REPORTS)
        return;
    char m[256];
    snprintf(m, sizeof(m), "%s mode %#x: a=%#" PRIx64 " b=%#" PRIx64 " host %#" PRIx64
             " flags %#x, ours %#" PRIx64 " flags %#x", what, mode, a, b, want,
             want_flags, got, got_flags);
    test_fail(__FILE__, __LINE__, m);
}

#if HOST_ORACLE_AVAILABLE
static uint32_t host32(int op, uint32_t a, uint32_t b, uint32_t csr, unsigned *fl)
{
    switch (op) {
    case OP_ADD: return host_addss(a, b, csr, fl);
    case OP_SUB: return host_subss(a, b, csr, fl);
    case OP_MUL: return host_mulss(a, b, csr, fl);
    case OP_DIV: return host_divss(a, b, csr, fl);
    default: return host_sqrtss(0, a, csr, fl);
    }
}

static uint32_t ours32(int op, uint32_t a, uint32_t b, FloatStatus *s)
{
    switch (op) {
    case OP_ADD: return float32_add(a, b, s);
    case OP_SUB: return float32_sub(a, b, s);
    case OP_MUL: return float32_mul(a, b, s);
    case OP_DIV: return float32_div(a, b, s);
    default: return float32_sqrt(a, s);
    }
}

static uint64_t host64(int op, uint64_t a, uint64_t b, uint32_t csr, unsigned *fl)
{
    switch (op) {
    case OP_ADD: return host_addsd(a, b, csr, fl);
    case OP_SUB: return host_subsd(a, b, csr, fl);
    case OP_MUL: return host_mulsd(a, b, csr, fl);
    case OP_DIV: return host_divsd(a, b, csr, fl);
    default: return host_sqrtsd(0, a, csr, fl);
    }
}

static uint64_t ours64(int op, uint64_t a, uint64_t b, FloatStatus *s)
{
    switch (op) {
    case OP_ADD: return float64_add(a, b, s);
    case OP_SUB: return float64_sub(a, b, s);
    case OP_MUL: return float64_mul(a, b, s);
    case OP_DIV: return float64_div(a, b, s);
    default: return float64_sqrt(a, s);
    }
}

static void run_sse(bool dbl)
{
    TestRng rng = { dbl ? 0x5EED64 : 0x5EED32 };
    reports = 0;
    for (int op = 0; op < OP_COUNT; op++)
        for (unsigned mode = 0; mode < 16; mode++) {
            int rc = mode & 3;
            bool ftz = mode & 4, daz = mode & 8;
            uint32_t csr = host_mxcsr(rc, ftz, daz);
            for (int i = 0; i < CASES; i++) {
                FloatStatus s = float_status_from_mxcsr(csr);
                unsigned hf;
                uint64_t a, b, want, got;
                if (dbl) {
                    a = gen_float64(&rng);
                    b = gen_related(&rng, a, gen_float64(&rng), 63);
                    want = host64(op, a, b, csr, &hf);
                    got = ours64(op, a, b, &s);
                } else {
                    a = gen_float32(&rng);
                    b = (uint32_t)gen_related(&rng, a, gen_float32(&rng), 31);
                    want = host32(op, (uint32_t)a, (uint32_t)b, csr, &hf);
                    got = ours32(op, (uint32_t)a, (uint32_t)b, &s);
                }
                unsigned gf = s.flags & FLOAT_FLAGS_EXCEPTIONS;
                if (want != got || hf != gf)
                    report(op_names[op], a, b, want, got, hf, gf, mode);
            }
        }
}

TEST(float32_arith) { run_sse(false); }
TEST(float64_arith) { run_sse(true); }

static uint16_t host80(int op, floatx80 a, floatx80 b, uint16_t cw, floatx80 *r)
{
    switch (op) {
    case OP_ADD: return host_fadd(a, b, cw, r);
    case OP_SUB: return host_fsub(a, b, cw, r);
    case OP_MUL: return host_fmul(a, b, cw, r);
    case OP_DIV: return host_fdiv(a, b, cw, r);
    default: return host_fsqrt(a, cw, r);
    }
}

static floatx80 ours80(int op, floatx80 a, floatx80 b, FloatStatus *s)
{
    switch (op) {
    case OP_ADD: return floatx80_add(a, b, s);
    case OP_SUB: return floatx80_sub(a, b, s);
    case OP_MUL: return floatx80_mul(a, b, s);
    case OP_DIV: return floatx80_div(a, b, s);
    default: return floatx80_sqrt(a, s);
    }
}

/* Exception flags plus C1 (set when rounded up) as the x87 reports them. */
static __attribute__((unused)) unsigned x87_flags(const FloatStatus *s)
{
    return (s->flags & FLOAT_FLAGS_EXCEPTIONS) | (s->flags & FLOAT_FLAG_ROUNDED_UP ? FPU_C1 : 0);
}

TEST(floatx80_arith)
{
    TestRng rng = { 0x5EED80 };
    reports = 0;
    static const int precs[3] = { 24, 53, 64 };
    for (int op = 0; op < OP_COUNT; op++)
        for (unsigned mode = 0; mode < 12; mode++) {
            int rc = mode & 3, prec = precs[mode >> 2];
            uint16_t cw = host_fpucw(rc, prec);
            for (int i = 0; i < CASES; i++) {
                floatx80 a = gen_floatx80(&rng, true), b = gen_floatx80(&rng, true);
                if (rng_below(&rng, 3) == 0) {
                    b = a;
                    b.mant += rng_below(&rng, 5) - 2;
                    if (rng_below(&rng, 2))
                        b.sexp ^= 0x8000;
                }
                floatx80 want, got;
                unsigned hf = host80(op, a, b, cw, &want) & (0x3F | FPU_C1);
                FloatStatus s = float_status_from_fpuc(cw);
                got = ours80(op, a, b, &s);
                unsigned gf = x87_flags(&s);
                if (want.mant != got.mant || want.sexp != got.sexp || hf != gf) {
                    char what[160];
                    snprintf(what, sizeof(what), "fx80 %s a.sexp=%#x b.sexp=%#x h.sexp=%#x o.sexp=%#x",
                             op_names[op], a.sexp, b.sexp, want.sexp, got.sexp);
                    report(what, a.mant, b.mant, want.mant, got.mant, hf, gf, mode);
                }
            }
        }
}
/* PC = 01 is reserved; the hardware treats it like 64-bit precision. */
TEST(reserved_precision_control)
{
    TestRng rng = { 0x9C01 };
    reports = 0;
    for (int i = 0; i < CASES; i++) {
        uint16_t cw = (uint16_t)(0x7F | 1 << 8 | rng_below(&rng, 4) << 10);
        floatx80 a = gen_floatx80(&rng, false), b = gen_floatx80(&rng, false), want, got;
        int op = (int)rng_below(&rng, OP_COUNT);
        unsigned hf = host80(op, a, b, cw, &want) & (0x3F | FPU_C1);
        FloatStatus s = float_status_from_fpuc(cw);
        got = ours80(op, a, b, &s);
        unsigned gf = x87_flags(&s);
        if (want.mant != got.mant || want.sexp != got.sexp || hf != gf)
            report("fx80 PC=01", a.mant, b.mant, want.mant, got.mant, hf, gf, cw);
    }
}
#if defined(__linux__)
/* SSE with unmasked overflow/underflow: the instruction traps (#XM, SIGFPE)
 * and the flags it leaves in MXCSR are read from the signal context. */
static sigjmp_buf fpe_jump;
static volatile uint32_t fpe_mxcsr;

static void on_sigfpe(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    fpe_mxcsr = ((ucontext_t *)context)->uc_mcontext.fpregs->mxcsr;
    siglongjmp(fpe_jump, 1);
}

/* Run the host instruction; true when it trapped (*flags from the trap). */
static __attribute__((noinline)) bool host_may_trap(int op, bool dbl, uint64_t a, uint64_t b,
                                                    uint32_t csr, uint64_t *r, unsigned *flags)
{
    if (sigsetjmp(fpe_jump, 1)) {
        uint32_t clean = 0x1F80;
        __asm__ volatile("ldmxcsr %0" : : "m"(clean));
        *flags = fpe_mxcsr & 0x3F;
        *r = 0;
        return true;
    }
    *r = dbl ? host64(op, a, b, csr, flags) : host32(op, (uint32_t)a, (uint32_t)b, csr, flags);
    return false;
}

TEST(sse_unmasked_overflow_underflow)
{
    struct sigaction sa = { .sa_sigaction = on_sigfpe, .sa_flags = SA_SIGINFO }, old;
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGFPE, &sa, &old) == 0);
    TestRng rng = { 0x7A9 };
    int traps = 0;
    reports = 0;
    for (int i = 0; i < 4 * CASES; i++) {
        uint32_t csr = host_mxcsr(rng_below(&rng, 4), rng_below(&rng, 2), rng_below(&rng, 2));
        csr &= ~((rng_below(&rng, 2) ? 0x800u : 0) | (rng_below(&rng, 2) ? 0x400u : 0));
        int op = (int)rng_below(&rng, 4);
        bool dbl = rng_below(&rng, 2);
        uint64_t a = dbl ? gen_float64(&rng) : gen_float32(&rng);
        uint64_t b = dbl ? gen_float64(&rng) : gen_float32(&rng);
        unsigned hf;
        uint64_t want;
        bool trapped = host_may_trap(op, dbl, a, b, csr, &want, &hf);
        traps += trapped;
        FloatStatus s = float_status_from_mxcsr(csr);
        uint64_t got = dbl ? ours64(op, a, b, &s) : ours32(op, (uint32_t)a, (uint32_t)b, &s);
        unsigned gf = s.flags & FLOAT_FLAGS_EXCEPTIONS;
        bool fault;
        sse_mxcsr_after(csr, &s, &fault);
        CHECK_EQ(fault, trapped);
        if ((!trapped && want != got) || hf != gf)
            report(op_names[op], a, b, want, got, hf, gf, csr);
    }
    sigaction(SIGFPE, &old, NULL);
    CHECK(traps > 200);     /* the operands do reach the trapping cases */
}
#endif
#else
TEST(float32_arith) { SKIP("host is not x86-64: no hardware oracle"); }
TEST(float64_arith) { SKIP("host is not x86-64: no hardware oracle"); }
TEST(floatx80_arith) { SKIP("host is not x86-64: no hardware oracle"); }
#endif

/* Host-independent spot checks of documented values. */
TEST(known_values)
{
    FloatStatus s = float_status_from_mxcsr(0x1F80);
    CHECK_EQ(float32_add(0x3F800000, 0x3F800000, &s), 0x40000000);   /* 1 + 1 = 2 */
    CHECK_EQ(s.flags, 0);
    CHECK_EQ(float32_div(0x3F800000, 0, &s), 0x7F800000);           /* 1/0 = inf */
    CHECK_EQ(s.flags, FLOAT_FLAG_DIVBYZERO);
    s.flags = 0;
    CHECK_EQ(float64_sqrt(0xBFF0000000000000ull, &s), FLOAT64_DEFAULT_NAN);
    CHECK_EQ(s.flags, FLOAT_FLAG_INVALID);
    FloatStatus x = float_status_from_fpuc(0x037F);
    floatx80 one = make_floatx80(0x3FFF, 1ull << 63), three = make_floatx80(0x4000, 3ull << 62);
    floatx80 q = floatx80_div(one, three, &x);
    CHECK_EQ(q.sexp, 0x3FFD);
    CHECK_EQ(q.mant, 0xAAAAAAAAAAAAAAABull);
    CHECK_EQ(x.flags, FLOAT_FLAG_INEXACT | FLOAT_FLAG_ROUNDED_UP);
}
