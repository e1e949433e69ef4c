/* Software floating point with x86 semantics: the same bits on any host.
 *
 * Formats
 *   float32, float64   IEEE binary32/binary64 as raw bit patterns (SSE).
 *   floatx80           the x87 80-bit format, the Float80 struct of cpu.h:
 *                      64-bit significand with explicit integer bit, 15-bit
 *                      exponent, sign in bit 15 of sexp.
 *
 * Which rules apply is decided by the format:
 *   - float32/float64 operations follow SSE: NaN result = first NaN operand
 *     (quietened), DAZ/FTZ from the status, default NaN 0xFFC00000 /
 *     0xFFF8000000000000.
 *   - floatx80 operations (and the conversions to/from floatx80, i.e. FLD/FST
 *     m32/m64) follow the x87: NaN result = the QNaN, or the NaN with the
 *     larger significand; unsupported encodings (unnormals, pseudo-NaN,
 *     pseudo-infinity) are invalid and give the real indefinite
 *     (sign 1, exponent 0x7FFF, significand 0xC000000000000000); precision
 *     control applies to add/sub/mul/div/sqrt; DAZ/FTZ are ignored.
 *
 * Status (FloatStatus): rounding mode (x86 RC encoding), x87 precision
 * control, FTZ/DAZ, and the sticky exception flags, whose bits are those of
 * the x87 status word and of MXCSR (IE DE ZE OE UE PE = bits 0..5).
 * FLOAT_FLAG_ROUNDED_UP is not an exception: it is set when an inexact result
 * was rounded away from the truncated value (the x87 reports it in C1).
 * Results are the masked responses, except for unmasked overflow/underflow
 * (see FloatStatus); a translator helper that finds an unmasked flag raised
 * raises #MF/#XM as the architecture says (and for SSE, or x87 IE/DE/ZE,
 * leaves the destination unchanged). Tininess is detected after rounding.
 *
 * Details reproduced (each checked against the host CPU in the tests):
 * divide-by-zero and invalid take precedence over DE; DE is not reported by
 * FST m32/m64, CVT(T)SS2SI & co, ROUNDSS/SD, or VCVTPH2PS, nor for a memory
 * operand whose partner is a NaN; MIN/MAX return the DAZ-flushed operand;
 * the x87 picks the positive NaN of two with equal significands; FTZ does
 * not apply to VCVTPS2PH; transcendentals always report inexact.
 *
 * Files: softfloat-round.c (formats, unpack, rounding, NaN rules),
 * softfloat-add.c, softfloat-muldiv.c, softfloat-sqrt.c,
 * softfloat-convert.c, softfloat-compare.c (+ CMP predicates, MIN/MAX),
 * softfloat-approx.c (RCP/RSQRT),
 * fpu-x87-arith.c (register/memory operand forms), fpu-x87-ops.c (FPREM,
 * FSCALE, FXTRACT), fpu-x87-trans.c + fpu-xfloat.c (transcendentals),
 * fpu-x87-const.c, fpu-x87-classify.c (FXAM, tags), fpu-bcd.c.
 *
 * Typical use from a helper (ADDPS: one status for the four lanes):
 *     FloatStatus st = float_status_from_mxcsr(env->mxcsr);
 *     for (i = 0; i < 4; i++)
 *         r.d[i] = float32_add(a.d[i], b.d[i], &st);
 *     env->mxcsr = sse_mxcsr_after(env->mxcsr, &st, &fault);
 *     if (fault) raise #XM (destination unchanged) else write r;
 * or for the x87 (FMUL m64fp; the *_float32/64 forms keep the x87's
 * operand rules for memory operands, see "x87 arithmetic forms"):
 *     FloatStatus st = float_status_from_fpuc(env->fpuc);
 *     r = floatx80_arith_float64(X87_FMUL, st0, m64, &st);
 *     env->fpus = fpu_fsw_after(env->fpus, env->fpuc, &st);
 *     write r unless an unmasked IE/DE/ZE is set; the pending exception
 *     (ES) is delivered as #MF by the next waiting instruction.
 *
 * Packed SSE operations are loops over the scalar functions with one status.
 * All functions are pure apart from the status flags; none touch host FP
 * state. Needs a compiler with unsigned __int128 (gcc/clang, 64-bit hosts).
 */
#ifndef CPU_X86_SOFTFLOAT_H
#define CPU_X86_SOFTFLOAT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/x86/cpu.h"

typedef uint16_t float16;      /* F16C (VCVTPH2PS / VCVTPS2PH) only */
typedef uint32_t float32;
typedef uint64_t float64;
typedef Float80 floatx80;

/* Rounding modes: the x86 RC field values (FPU CW bits 10-11, MXCSR 13-14). */
enum {
    FLOAT_ROUND_NEAREST_EVEN = 0,
    FLOAT_ROUND_DOWN = 1,
    FLOAT_ROUND_UP = 2,
    FLOAT_ROUND_TO_ZERO = 3,
};

/* x87 precision control: significand bits of floatx80 arithmetic results. */
enum {
    FLOATX80_PREC_24 = 24,
    FLOATX80_PREC_53 = 53,
    FLOATX80_PREC_64 = 64,
};

/* Exception flags: bit positions of FSW and MXCSR. */
enum {
    FLOAT_FLAG_INVALID = 0x01,
    FLOAT_FLAG_DENORMAL = 0x02,
    FLOAT_FLAG_DIVBYZERO = 0x04,
    FLOAT_FLAG_OVERFLOW = 0x08,
    FLOAT_FLAG_UNDERFLOW = 0x10,
    FLOAT_FLAG_INEXACT = 0x20,
    FLOAT_FLAGS_EXCEPTIONS = 0x3f,
    FLOAT_FLAG_ROUNDED_UP = 0x100,  /* x87 C1 after an inexact result */
};

/* x87 status word bits besides the exception flags. */
#define FPU_C0 0x0100
#define FPU_C1 0x0200
#define FPU_C2 0x0400
#define FPU_C3 0x4000
#define FPU_SW_ES 0x0080
#define FPU_SW_B 0x8000

typedef struct FloatStatus {
    uint8_t rounding;          /* FLOAT_ROUND_* */
    uint8_t precision;         /* FLOATX80_PREC_*; 0 means 64 */
    bool flush_to_zero;        /* MXCSR.FTZ: tiny float32/64 results become 0 */
    bool denormals_are_zero;   /* MXCSR.DAZ: denormal float32/64 inputs are 0 */
    uint16_t flags;            /* FLOAT_FLAG_*, sticky: callers clear them */
    /* Unmasked overflow/underflow change the outcome: the x87 delivers the
     * result with its exponent biased by -/+24576 (FLOATX80_UNMASKED_BIAS)
     * into the register (SDM vol 1 8.5.4, 8.5.5), reporting OE/UE with PE
     * and C1 as usual; SSE traps with OE or UE (also for tiny exact
     * results), plus PE only when the result rounded with an unbounded
     * exponent is inexact, and delivers nothing (we return an infinity or
     * zero the caller drops). Other unmasked exceptions only suppress the
     * result: the caller's business. */
    bool overflow_unmasked;
    bool underflow_unmasked;
    bool x87;                  /* set by float_status_from_fpuc: an x87 store
                                * to m32/m64 with unmasked OE/UE reports only
                                * OE/UE (no PE, no C1) */
} FloatStatus;

/* Architectural state after an instruction, from its FloatStatus:
 * x87: the sticky exception bits, C1 = rounded up (cleared otherwise), and
 * ES/B when an exception is pending, i.e. unmasked in fcw; the caller keeps
 * C0/C2/C3/TOP and handles stack faults itself.
 * SSE: MXCSR with the new flags; *fault says an unmasked exception was
 * raised (#XM, or #UD without CR4.OSXMMEXCPT; the destination stays). */
static inline uint16_t fpu_fsw_after(uint16_t fsw, uint16_t fcw, const FloatStatus *s)
{
    fsw |= s->flags & FLOAT_FLAGS_EXCEPTIONS;
    fsw = (uint16_t)((fsw & ~FPU_C1) | (s->flags & FLOAT_FLAG_ROUNDED_UP ? FPU_C1 : 0));
    if (fsw & ~fcw & FLOAT_FLAGS_EXCEPTIONS)
        fsw |= FPU_SW_ES | FPU_SW_B;
    return fsw;
}

static inline uint32_t sse_mxcsr_after(uint32_t mxcsr, const FloatStatus *s, bool *fault)
{
    uint32_t flags = s->flags & FLOAT_FLAGS_EXCEPTIONS;
    *fault = (flags & ~(mxcsr >> 7)) != 0;
    return mxcsr | flags;
}

#define FLOATX80_UNMASKED_BIAS 24576

/* Status from the SSE control/status register (flags start clear). */
FloatStatus float_status_from_mxcsr(uint32_t mxcsr);
/* Status from the x87 control word (RC and PC fields; flags start clear). */
FloatStatus float_status_from_fpuc(uint16_t fpuc);

/* ---- constants and classification ---- */
#define FLOAT32_DEFAULT_NAN 0xFFC00000u
#define FLOAT64_DEFAULT_NAN 0xFFF8000000000000ull
#define FLOATX80_INDEFINITE_SEXP 0xFFFF
#define FLOATX80_INDEFINITE_MANT 0xC000000000000000ull

static inline floatx80 make_floatx80(uint16_t sexp, uint64_t mant)
{
    floatx80 r = { .mant = mant, .sexp = sexp };
    return r;
}
floatx80 floatx80_default_nan(void);
bool float32_is_nan(float32 a);
bool float32_is_signaling_nan(float32 a);
bool float64_is_nan(float64 a);
bool float64_is_signaling_nan(float64 a);
bool floatx80_is_nan(floatx80 a);
bool floatx80_is_signaling_nan(floatx80 a);
/* Unnormal, pseudo-NaN, pseudo-infinity: invalid operands on the x87. */
bool floatx80_is_unsupported(floatx80 a);

/* ---- arithmetic (correctly rounded) ---- */
float32 float32_add(float32 a, float32 b, FloatStatus *s);
float32 float32_sub(float32 a, float32 b, FloatStatus *s);
float32 float32_mul(float32 a, float32 b, FloatStatus *s);
float32 float32_div(float32 a, float32 b, FloatStatus *s);
float32 float32_sqrt(float32 a, FloatStatus *s);
float64 float64_add(float64 a, float64 b, FloatStatus *s);
float64 float64_sub(float64 a, float64 b, FloatStatus *s);
float64 float64_mul(float64 a, float64 b, FloatStatus *s);
float64 float64_div(float64 a, float64 b, FloatStatus *s);
float64 float64_sqrt(float64 a, FloatStatus *s);
floatx80 floatx80_add(floatx80 a, floatx80 b, FloatStatus *s);
floatx80 floatx80_sub(floatx80 a, floatx80 b, FloatStatus *s);
floatx80 floatx80_mul(floatx80 a, floatx80 b, FloatStatus *s);
floatx80 floatx80_div(floatx80 a, floatx80 b, FloatStatus *s);
floatx80 floatx80_sqrt(floatx80 a, FloatStatus *s);

/* RCPSS/RSQRTSS (and the packed forms): 12-bit approximations, see
 * softfloat-approx.c; no flags, denormal inputs and tiny results as zero. */
float32 float32_rcp_approx(float32 a, FloatStatus *s);
float32 float32_rsqrt_approx(float32 a, FloatStatus *s);

/* ---- comparisons ----
 * Result of comparing a with b. quiet=true: only SNaN operands raise invalid
 * (UCOMISS, FUCOM, CMPPS EQ/UNORD/NEQ/ORD); quiet=false: any NaN raises
 * invalid (COMISS, FCOM, CMPPS LT/LE/NLT/NLE). Denormal operands raise DE. */
typedef enum FloatRelation {
    FLOAT_RELATION_LESS = -1,
    FLOAT_RELATION_EQUAL = 0,
    FLOAT_RELATION_GREATER = 1,
    FLOAT_RELATION_UNORDERED = 2,
} FloatRelation;
FloatRelation float32_compare(float32 a, float32 b, bool quiet, FloatStatus *s);
FloatRelation float64_compare(float64 a, float64 b, bool quiet, FloatStatus *s);
FloatRelation floatx80_compare(floatx80 a, floatx80 b, bool quiet, FloatStatus *s);

/* CMPSS/CMPSD/CMPPS/CMPPD (predicates 0-7) and VCMP* (0-31): whether the
 * predicate holds; signaling predicates raise invalid on any NaN, quiet ones
 * only on SNaN. */
bool float32_compare_predicate(float32 a, float32 b, unsigned predicate, FloatStatus *s);
bool float64_compare_predicate(float64 a, float64 b, unsigned predicate, FloatStatus *s);

/* SSE MINSS/MAXSS/MINSD/MAXSD: returns b when either is NaN (invalid on any
 * NaN) or both are zero, else the smaller/larger. */
float32 float32_min(float32 a, float32 b, FloatStatus *s);
float32 float32_max(float32 a, float32 b, FloatStatus *s);
float64 float64_min(float64 a, float64 b, FloatStatus *s);
float64 float64_max(float64 a, float64 b, FloatStatus *s);

/* ---- conversions ----
 * Float to integer: the status rounding mode, or truncation for the
 * _round_to_zero variants (CVTT*, FISTTP). NaN, infinity and out-of-range give
 * invalid and the integer indefinite (the most negative value). */
float32 int32_to_float32(int32_t a, FloatStatus *s);
float32 int64_to_float32(int64_t a, FloatStatus *s);
float64 int32_to_float64(int32_t a, FloatStatus *s);
float64 int64_to_float64(int64_t a, FloatStatus *s);
floatx80 int32_to_floatx80(int32_t a, FloatStatus *s);
floatx80 int64_to_floatx80(int64_t a, FloatStatus *s);

int32_t float32_to_int32(float32 a, FloatStatus *s);
int32_t float32_to_int32_round_to_zero(float32 a, FloatStatus *s);
int64_t float32_to_int64(float32 a, FloatStatus *s);
int64_t float32_to_int64_round_to_zero(float32 a, FloatStatus *s);
int32_t float64_to_int32(float64 a, FloatStatus *s);
int32_t float64_to_int32_round_to_zero(float64 a, FloatStatus *s);
int64_t float64_to_int64(float64 a, FloatStatus *s);
int64_t float64_to_int64_round_to_zero(float64 a, FloatStatus *s);
int16_t floatx80_to_int16(floatx80 a, FloatStatus *s);           /* FIST m16 */
int16_t floatx80_to_int16_round_to_zero(floatx80 a, FloatStatus *s);
int32_t floatx80_to_int32(floatx80 a, FloatStatus *s);
int32_t floatx80_to_int32_round_to_zero(floatx80 a, FloatStatus *s);
int64_t floatx80_to_int64(floatx80 a, FloatStatus *s);
int64_t floatx80_to_int64_round_to_zero(floatx80 a, FloatStatus *s);

/* Between formats. float32->float64 (CVTSS2SD) honours DAZ; float64->float32
 * (CVTSD2SS) rounds and honours DAZ/FTZ. The floatx80 ones are the x87's
 * FLD m32/m64 (exact; SNaN -> invalid + QNaN; denormal -> DE) and
 * FST m32/m64 (rounded with the status rounding mode). */
float64 float32_to_float64(float32 a, FloatStatus *s);
float32 float64_to_float32(float64 a, FloatStatus *s);
floatx80 float32_to_floatx80(float32 a, FloatStatus *s);
floatx80 float64_to_floatx80(float64 a, FloatStatus *s);
float32 floatx80_to_float32(floatx80 a, FloatStatus *s);
float64 floatx80_to_float64(floatx80 a, FloatStatus *s);

/* F16C: half to single is exact (MXCSR.DAZ ignored, no DE); single to half rounds
 * with the status rounding mode, honours DAZ but not FTZ (pass a copy with the immediate's mode for
 * VCVTPS2PH imm < 4). */
float32 float16_to_float32(float16 a, FloatStatus *s);
float16 float32_to_float16(float32 a, FloatStatus *s);

/* Round to an integral value in the same format with the status rounding
 * mode (FRNDINT; ROUNDSS/ROUNDSD with an explicit mode via a copied status). */
floatx80 floatx80_round_to_int(floatx80 a, FloatStatus *s);
float32 float32_round_to_int(float32 a, FloatStatus *s);
float64 float64_round_to_int(float64 a, FloatStatus *s);
/* ROUNDSS/ROUNDSD/ROUNDPS/ROUNDPD with their immediate: bits 1:0 the
 * rounding mode unless bit 2 (use MXCSR.RC); bit 3 suppresses inexact. */
float32 float32_round_imm(float32 a, uint8_t imm, FloatStatus *s);
float64 float64_round_imm(float64 a, uint8_t imm, FloatStatus *s);

/* ---- x87 arithmetic forms (fpu-x87-arith.c) ----
 * The x87 instructions with a memory operand (FADD m32fp, FCOM m64fp, ...)
 * do not convert the operand first: a denormal m32/m64 is not reported (DE)
 * when the other operand is a NaN, and an SNaN operand loses to a QNaN one.
 * These take the operands as they are: st = ST0 (or the destination
 * register), src = the other operand; FSUBR/FDIVR compute src - st and
 * src / st. Integer forms (FIADD ...) convert exactly first with
 * int32_to_floatx80 and use the register form. */
typedef enum X87Arith {
    X87_FADD, X87_FMUL, X87_FSUB, X87_FSUBR, X87_FDIV, X87_FDIVR,
} X87Arith;
floatx80 floatx80_arith(X87Arith op, floatx80 st, floatx80 src, FloatStatus *s);
floatx80 floatx80_arith_float32(X87Arith op, floatx80 st, float32 src, FloatStatus *s);
floatx80 floatx80_arith_float64(X87Arith op, floatx80 st, float64 src, FloatStatus *s);
FloatRelation floatx80_compare_float32(floatx80 st, float32 src, bool quiet, FloatStatus *s);
FloatRelation floatx80_compare_float64(floatx80 st, float64 src, bool quiet, FloatStatus *s);

/* ---- x87 specials (fpu-x87-ops.c) ---- */
/* FPREM (ieee=false: truncated quotient) / FPREM1 (ieee=true: quotient
 * rounded to nearest). *cc receives the condition codes for FSW: C2 set =
 * incomplete reduction (exponent difference > 63: the exponent is reduced by
 * 32..63 bits, run again); otherwise quotient bits Q2 -> C0, Q1 -> C3,
 * Q0 -> C1. For NaN results the hardware leaves undefined values in C0/C1/C3
 * (we give 0). */
floatx80 floatx80_prem(floatx80 a, floatx80 b, bool ieee, uint16_t *cc, FloatStatus *s);
/* FSCALE: a * 2^trunc(b). */
floatx80 floatx80_scale(floatx80 a, floatx80 b, FloatStatus *s);
/* FXTRACT: a = sig * 2^exp; returns sig (goes to ST0), *exp gets the
 * exponent as a floatx80 (goes to ST1 after the push). */
floatx80 floatx80_extract(floatx80 a, floatx80 *exp, FloatStatus *s);

/* FXAM: class codes (C3 C2 C0) and sign (C1) of a register, or empty. */
uint16_t floatx80_fxam(floatx80 a, bool empty);
/* The two-bit tag of a non-empty register for the full tag word (FSTENV,
 * FSAVE, FXSAVE's abridged tags expanded on FXRSTOR): */
enum { FPU_TAG_VALID = 0, FPU_TAG_ZERO = 1, FPU_TAG_SPECIAL = 2, FPU_TAG_EMPTY = 3 };
uint8_t floatx80_tag(floatx80 a);
/* Condition codes of FCOM/FUCOM/FTST/FICOM (C3 C2 C0) and the EFLAGS bits of
 * FCOMI/FUCOMI/COMISS/UCOMISS (ZF PF CF) for a comparison result. */
uint16_t float_relation_to_fsw(FloatRelation r);
uint32_t float_relation_to_eflags(FloatRelation r);

/* FLDZ, FLD1, FLDPI, FLDL2T, FLDL2E, FLDLG2, FLDLN2: rounded with the status
 * rounding mode; no flags. */
typedef enum FloatX80Constant {
    FLOATX80_CONST_ZERO,
    FLOATX80_CONST_ONE,
    FLOATX80_CONST_PI,
    FLOATX80_CONST_L2T,     /* log2(10) */
    FLOATX80_CONST_L2E,     /* log2(e) */
    FLOATX80_CONST_LG2,     /* log10(2) */
    FLOATX80_CONST_LN2,     /* ln(2) */
    FLOATX80_CONST_COUNT,
} FloatX80Constant;
floatx80 floatx80_constant(FloatX80Constant which, const FloatStatus *s);

/* ---- packed BCD (fpu-bcd.c): 10 bytes, 18 digits little endian + sign ---- */
floatx80 floatx80_from_bcd(const uint8_t bcd[10], FloatStatus *s);     /* FBLD */
void floatx80_to_bcd(floatx80 a, uint8_t bcd[10], FloatStatus *s);      /* FBSTP */

/* ---- x87 transcendentals (fpu-x87-trans.c) ----
 * Computed with 128-bit intermediate precision (relative error < 2^-115)
 * and rounded once with the status rounding mode to a 64-bit significand
 * (precision control does not apply, as on hardware); inexact is always
 * reported, as the hardware does. Stated error: correctly rounded except
 * when the exact value lies within 2^-115 of a rounding boundary, so at
 * most 1 ulp in any case. Tested: 340 reference values computed without an
 * FPU (tests/fpu/gen-trans-reference.py) must match exactly, and random
 * operands must be within 1 ulp of the host x87 (bit-exact in ~95%).
 * Trigonometric arguments are reduced modulo pi/2 with the x87's own 66-bit
 * pi, like the hardware, so large arguments give the hardware's results.
 * Operands outside an instruction's architectural domain, which the SDM
 * leaves undefined, behave as on the (AMD) hardware the tests ran on:
 * F2XM1 with |x| > 1 and FYL2XP1 with -inf < x <= -1 return x (inexact);
 * FYL2XP1 with x >= 1 - sqrt(2)/2 gives y * log2(1 + x).
 * Trigonometric functions return false (operand unchanged: the caller sets
 * C2) when |a| >= 2^63. */
floatx80 floatx80_f2xm1(floatx80 a, FloatStatus *s);                  /* 2^a - 1, |a| <= 1 */
floatx80 floatx80_fyl2x(floatx80 x, floatx80 y, FloatStatus *s);      /* y * log2(x) */
floatx80 floatx80_fyl2xp1(floatx80 x, floatx80 y, FloatStatus *s);    /* y * log2(x + 1) */
floatx80 floatx80_fpatan(floatx80 x, floatx80 y, FloatStatus *s);     /* atan2(y, x) */
bool floatx80_fsin(floatx80 a, floatx80 *r, FloatStatus *s);
bool floatx80_fcos(floatx80 a, floatx80 *r, FloatStatus *s);
bool floatx80_fsincos(floatx80 a, floatx80 *sin, floatx80 *cos, FloatStatus *s);
/* FPTAN: *r = tan(a) replaces ST0, then *one is pushed: 1.0, or the same NaN
 * as *r for NaN and invalid operands. */
bool floatx80_fptan(floatx80 a, floatx80 *r, floatx80 *one, FloatStatus *s);

#endif
