/* One floating-point test case as data ("vector"): operation, control
 * setting, operands, and the result with its flags. The fuzzer fills the
 * expected part from the host CPU (and can dump vectors as C initializers);
 * fpu_vector_eval() computes the same with the softfloat library on any
 * host, so recorded vectors test non-x86 hosts too. */
#ifndef TESTS_FPU_FPU_VECTOR_H
#define TESTS_FPU_FPU_VECTOR_H

#include <stdint.h>
#include "cpu/x86/softfloat.h"

typedef enum FpuVectorKind {
    VK_SSE32,       /* op: FPU_SSE_OPS, mode = MXCSR */
    VK_SSE64,
    VK_X87,         /* op: FPU_X87_OPS, mode = FPU control word */
    VK_TO_INT,      /* op: FPU_TO_INT_OPS, mode = MXCSR */
    VK_X87_M32,     /* op: X87Arith with an m32fp operand */
    VK_X87_M64,
    VK_COUNT,
} FpuVectorKind;

typedef struct FpuVector {
    uint8_t kind, op;
    uint16_t mode;
    floatx80 a, b;          /* SSE / memory operands: the bits in .mant */
    floatx80 result;        /* integer results: the bits in .mant */
    uint16_t flags;         /* exceptions, plus C1 for the x87 */
} FpuVector;

/* Operation lists. SSE: X(name), the host instruction is name##ss/sd and
 * fv_sse32/64 below evaluates op number i the same order. */
#define FPU_SSE_OPS(X) X(add) X(sub) X(mul) X(div) X(min) X(max) X(sqrt)
/* x87 register forms: X(name, host function, our function). */
#define FPU_X87_OPS(X)                                                     \
    X(fadd, host_fadd, floatx80_add) X(fsub, host_fsub, floatx80_sub)      \
    X(fmul, host_fmul, floatx80_mul) X(fdiv, host_fdiv, floatx80_div)      \
    X(fsqrt, host_fsqrt_of_a, fv_sqrt80)                                   \
    X(frndint, host_frndint_of_a, fv_rndint80)                             \
    X(fscale, host_fscale, floatx80_scale)
/* float -> integer: X(instruction, our function, source is float64). */
#define FPU_TO_INT_OPS(X)                                                  \
    X(cvtss2si32, float32_to_int32, false)                                 \
    X(cvttss2si32, float32_to_int32_round_to_zero, false)                  \
    X(cvtss2si64, float32_to_int64, false)                                 \
    X(cvttss2si64, float32_to_int64_round_to_zero, false)                  \
    X(cvtsd2si32, float64_to_int32, true)                                  \
    X(cvttsd2si32, float64_to_int32_round_to_zero, true)                   \
    X(cvtsd2si64, float64_to_int64, true)                                  \
    X(cvttsd2si64, float64_to_int64_round_to_zero, true)

#define FV_COUNT1(name) +1
#define FV_COUNT3(name, h, o) +1
enum {
    FV_SSE_OP_COUNT = 0 FPU_SSE_OPS(FV_COUNT1),
    FV_X87_OP_COUNT = 0 FPU_X87_OPS(FV_COUNT3),
    FV_TO_INT_OP_COUNT = 0 FPU_TO_INT_OPS(FV_COUNT3),
};
#undef FV_COUNT1
#undef FV_COUNT3

/* Uniform wrappers for the float -> integer conversions. */
#define FV_TO_INT_WRAP(name, fn, dbl)                                      \
    static inline int64_t fv_##name(uint64_t a, FloatStatus *s)            \
    {                                                                      \
        return dbl ? fn((float64)a, s) : fn((float32)a, s);                \
    }
FPU_TO_INT_OPS(FV_TO_INT_WRAP)
#undef FV_TO_INT_WRAP

static inline floatx80 fv_sqrt80(floatx80 a, floatx80 b, FloatStatus *s)
{
    (void)b;
    return floatx80_sqrt(a, s);
}

static inline floatx80 fv_rndint80(floatx80 a, floatx80 b, FloatStatus *s)
{
    (void)b;
    return floatx80_round_to_int(a, s);
}

static inline uint16_t fv_x87_flags(const FloatStatus *s)
{
    return (uint16_t)((s->flags & FLOAT_FLAGS_EXCEPTIONS) |
                      (s->flags & FLOAT_FLAG_ROUNDED_UP ? FPU_C1 : 0));
}

static inline float32 fv_sse32(unsigned op, float32 a, float32 b, FloatStatus *s)
{
    switch (op) {
    case 0: return float32_add(a, b, s);
    case 1: return float32_sub(a, b, s);
    case 2: return float32_mul(a, b, s);
    case 3: return float32_div(a, b, s);
    case 4: return float32_min(a, b, s);
    case 5: return float32_max(a, b, s);
    default: return float32_sqrt(b, s);     /* SQRTSS xmm0, xmm1 */
    }
}

static inline float64 fv_sse64(unsigned op, float64 a, float64 b, FloatStatus *s)
{
    switch (op) {
    case 0: return float64_add(a, b, s);
    case 1: return float64_sub(a, b, s);
    case 2: return float64_mul(a, b, s);
    case 3: return float64_div(a, b, s);
    case 4: return float64_min(a, b, s);
    case 5: return float64_max(a, b, s);
    default: return float64_sqrt(b, s);
    }
}

/* Our result for v's operation and operands (v->result/flags untouched). */
static inline void fpu_vector_eval(const FpuVector *v, floatx80 *result, uint16_t *flags)
{
    typedef floatx80 (*X87Fn)(floatx80, floatx80, FloatStatus *);
#define FV_X87_FN(name, h, o) o,
    static const X87Fn x87[] = { FPU_X87_OPS(FV_X87_FN) };
#undef FV_X87_FN
    bool x87_mode = v->kind == VK_X87 || v->kind == VK_X87_M32 || v->kind == VK_X87_M64;
    FloatStatus s = x87_mode ? float_status_from_fpuc(v->mode) : float_status_from_mxcsr(v->mode);
    *result = make_floatx80(0, 0);
    switch (v->kind) {
    case VK_SSE32:
        result->mant = fv_sse32(v->op, (float32)v->a.mant, (float32)v->b.mant, &s);
        break;
    case VK_SSE64:
        result->mant = fv_sse64(v->op, v->a.mant, v->b.mant, &s);
        break;
    case VK_X87:
        *result = x87[v->op % FV_X87_OP_COUNT](v->a, v->b, &s);
        break;
    case VK_TO_INT: {
        typedef int64_t (*ToIntFn)(uint64_t, FloatStatus *);
#define FV_TO_INT_FN(name, fn, dbl) fv_##name,
        static const ToIntFn to_int[] = { FPU_TO_INT_OPS(FV_TO_INT_FN) };
#undef FV_TO_INT_FN
        result->mant = (uint64_t)to_int[v->op % FV_TO_INT_OP_COUNT](v->a.mant, &s);
        break;
    }
    case VK_X87_M32:
        *result = floatx80_arith_float32((X87Arith)v->op, v->a, (float32)v->b.mant, &s);
        break;
    case VK_X87_M64:
        *result = floatx80_arith_float64((X87Arith)v->op, v->a, v->b.mant, &s);
        break;
    }
    *flags = x87_mode ? fv_x87_flags(&s) : (uint16_t)(s.flags & FLOAT_FLAGS_EXCEPTIONS);
}

#endif
