/* The host CPU as the oracle: run one x87 or SSE instruction natively with a
 * given control word / MXCSR and return its result and exception flags.
 * x86-64 hosts only (HOST_ORACLE_AVAILABLE); every function restores the
 * caller's x87 control word and MXCSR. All exceptions stay masked. */
#ifndef TESTS_FPU_HOST_ORACLE_H
#define TESTS_FPU_HOST_ORACLE_H

#include <stdint.h>
#include <string.h>

#include "cpu/x86/softfloat.h"

#if defined(__x86_64__) && !defined(HOST_ORACLE_DISABLE)
#define HOST_ORACLE_AVAILABLE 1

#include <cpuid.h>

/* AVX (and so the VEX encodings) usable: CPU support and OS-enabled state. */
static inline bool host_has_avx(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28)))
        return false;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6) == 6;
}

static inline bool host_has_f16c(void)
{
    unsigned a, b, c, d;
    return host_has_avx() && __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}

static inline uint32_t host_mxcsr(int rounding, bool ftz, bool daz)
{
    return 0x1F80u | ((uint32_t)rounding << 13) | (ftz ? 0x8000u : 0) | (daz ? 0x40u : 0);
}

/* PC field for 24/53/64-bit precision, all exceptions masked. */
static inline uint16_t host_fpucw(int rounding, int precision)
{
    unsigned pc = precision == 24 ? 0 : precision == 53 ? 2 : 3;
    return (uint16_t)(0x7Fu | (pc << 8) | ((unsigned)rounding << 10));
}

/* ---- SSE scalar: r = a OP b in xmm0/xmm1, flags = MXCSR & 0x3F ---- */
#define HOST_SSE_BINOP(fn, insn, ty, mov)                                        \
    static inline ty fn(ty a, ty b, uint32_t csr, unsigned *flags)               \
    {                                                                            \
        ty r;                                                                    \
        uint32_t saved, out;                                                     \
        __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\t"                \
                         mov " %[a], %%xmm0\n\t" mov " %[b], %%xmm1\n\t"         \
                         insn " %%xmm1, %%xmm0\n\t" mov " %%xmm0, %[r]\n\t"      \
                         "stmxcsr %[out]\n\tldmxcsr %[saved]"                    \
                         : [r] "=r"(r), [saved] "=m"(saved), [out] "=m"(out)     \
                         : [a] "r"(a), [b] "r"(b), [csr] "m"(csr)                \
                         : "xmm0", "xmm1");                                      \
        *flags = out & 0x3F;                                                     \
        return r;                                                                \
    }
HOST_SSE_BINOP(host_addss, "addss", uint32_t, "movd")
HOST_SSE_BINOP(host_subss, "subss", uint32_t, "movd")
HOST_SSE_BINOP(host_mulss, "mulss", uint32_t, "movd")
HOST_SSE_BINOP(host_divss, "divss", uint32_t, "movd")
HOST_SSE_BINOP(host_minss, "minss", uint32_t, "movd")
HOST_SSE_BINOP(host_maxss, "maxss", uint32_t, "movd")
HOST_SSE_BINOP(host_sqrtss, "sqrtss", uint32_t, "movd")     /* of b */
HOST_SSE_BINOP(host_rcpss, "rcpss", uint32_t, "movd")       /* of b */
HOST_SSE_BINOP(host_rsqrtss, "rsqrtss", uint32_t, "movd")   /* of b */
HOST_SSE_BINOP(host_cvtss2sd, "cvtss2sd", uint64_t, "movq") /* of b (low 32 bits) */
HOST_SSE_BINOP(host_cvtsd2ss, "cvtsd2ss", uint64_t, "movq") /* of b, result low 32 */
HOST_SSE_BINOP(host_addsd, "addsd", uint64_t, "movq")
HOST_SSE_BINOP(host_subsd, "subsd", uint64_t, "movq")
HOST_SSE_BINOP(host_mulsd, "mulsd", uint64_t, "movq")
HOST_SSE_BINOP(host_divsd, "divsd", uint64_t, "movq")
HOST_SSE_BINOP(host_minsd, "minsd", uint64_t, "movq")
HOST_SSE_BINOP(host_maxsd, "maxsd", uint64_t, "movq")
HOST_SSE_BINOP(host_sqrtsd, "sqrtsd", uint64_t, "movq")
#undef HOST_SSE_BINOP

/* F16C conversions (imm 4: MXCSR rounding). */
static inline uint32_t host_vcvtph2ps(uint16_t a, uint32_t csr, unsigned *flags)
{
    uint32_t r, saved, out, in = a;
    __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\tvmovd %[a], %%xmm1\n\t"
                     "vcvtph2ps %%xmm1, %%xmm0\n\tvmovd %%xmm0, %[r]\n\t"
                     "stmxcsr %[out]\n\tldmxcsr %[saved]"
                     : [r] "=r"(r), [saved] "=m"(saved), [out] "=m"(out)
                     : [a] "r"(in), [csr] "m"(csr) : "xmm0", "xmm1");
    *flags = out & 0x3F;
    return r;
}

static inline uint16_t host_vcvtps2ph(uint32_t a, uint32_t csr, unsigned *flags)
{
    uint32_t r, saved, out;
    __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\tvmovd %[a], %%xmm1\n\t"
                     "vcvtps2ph $4, %%xmm1, %%xmm0\n\tvmovd %%xmm0, %[r]\n\t"
                     "stmxcsr %[out]\n\tldmxcsr %[saved]"
                     : [r] "=r"(r), [saved] "=m"(saved), [out] "=m"(out)
                     : [a] "r"(a), [csr] "m"(csr) : "xmm0", "xmm1");
    *flags = out & 0x3F;
    return (uint16_t)r;
}

/* ROUNDSS/ROUNDSD with an immediate (a macro per immediate value). */
#define HOST_ROUND(fn, insn, ty, mov, imm)                                       \
    static inline ty fn(ty b, uint32_t csr, unsigned *flags)                     \
    {                                                                            \
        ty r;                                                                    \
        uint32_t saved, out;                                                     \
        __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\t"                \
                         mov " %[b], %%xmm1\n\t" insn " $" #imm ", %%xmm1, %%xmm0\n\t" \
                         mov " %%xmm0, %[r]\n\tstmxcsr %[out]\n\tldmxcsr %[saved]" \
                         : [r] "=r"(r), [saved] "=m"(saved), [out] "=m"(out)     \
                         : [b] "r"(b), [csr] "m"(csr) : "xmm0", "xmm1");         \
        *flags = out & 0x3F;                                                     \
        return r;                                                                \
    }
#define HOST_ROUND_PAIR(imm)                                                     \
    HOST_ROUND(host_roundss_##imm, "roundss", uint32_t, "movd", imm)            \
    HOST_ROUND(host_roundsd_##imm, "roundsd", uint64_t, "movq", imm)
HOST_ROUND_PAIR(0) HOST_ROUND_PAIR(1) HOST_ROUND_PAIR(2) HOST_ROUND_PAIR(3)
HOST_ROUND_PAIR(4) HOST_ROUND_PAIR(5) HOST_ROUND_PAIR(6) HOST_ROUND_PAIR(7)
HOST_ROUND_PAIR(8) HOST_ROUND_PAIR(9) HOST_ROUND_PAIR(10) HOST_ROUND_PAIR(11)
HOST_ROUND_PAIR(12) HOST_ROUND_PAIR(13) HOST_ROUND_PAIR(14) HOST_ROUND_PAIR(15)
#undef HOST_ROUND_PAIR
#undef HOST_ROUND
static inline uint32_t host_roundss(uint32_t b, uint32_t csr, unsigned *flags)
{
    return host_roundss_4(b, csr, flags);
}
static inline uint64_t host_roundsd(uint64_t b, uint32_t csr, unsigned *flags)
{
    return host_roundsd_4(b, csr, flags);
}
typedef uint32_t (*HostRound32)(uint32_t, uint32_t, unsigned *);
typedef uint64_t (*HostRound64)(uint64_t, uint32_t, unsigned *);
#define HOST_ROUND_ROW(t, a, b, c, d) host_##t##_##a, host_##t##_##b, host_##t##_##c, host_##t##_##d
static const HostRound32 host_roundss_table[16] = {
    HOST_ROUND_ROW(roundss, 0, 1, 2, 3), HOST_ROUND_ROW(roundss, 4, 5, 6, 7),
    HOST_ROUND_ROW(roundss, 8, 9, 10, 11), HOST_ROUND_ROW(roundss, 12, 13, 14, 15),
};
static const HostRound64 host_roundsd_table[16] = {
    HOST_ROUND_ROW(roundsd, 0, 1, 2, 3), HOST_ROUND_ROW(roundsd, 4, 5, 6, 7),
    HOST_ROUND_ROW(roundsd, 8, 9, 10, 11), HOST_ROUND_ROW(roundsd, 12, 13, 14, 15),
};
#undef HOST_ROUND_ROW

/* COMISS/UCOMISS/COMISD/UCOMISD: returns a FloatRelation. */
#define HOST_SSE_COMPARE(fn, insn, ty, mov)                                      \
    static inline int fn(ty a, ty b, uint32_t csr, unsigned *flags)              \
    {                                                                            \
        uint32_t saved, out;                                                     \
        bool z, p, c;                                                            \
        __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\t"                \
                         mov " %[a], %%xmm0\n\t" mov " %[b], %%xmm1\n\t"         \
                         insn " %%xmm1, %%xmm0\n\t"                              \
                         "stmxcsr %[out]\n\tldmxcsr %[saved]"                    \
                         : "=@ccz"(z), "=@ccp"(p), "=@ccc"(c),                   \
                           [saved] "=m"(saved), [out] "=m"(out)                  \
                         : [a] "r"(a), [b] "r"(b), [csr] "m"(csr)                \
                         : "xmm0", "xmm1");                                      \
        *flags = out & 0x3F;                                                     \
        if (p)                                                                   \
            return FLOAT_RELATION_UNORDERED;                                     \
        return z ? FLOAT_RELATION_EQUAL : c ? FLOAT_RELATION_LESS                \
                                            : FLOAT_RELATION_GREATER;            \
    }
HOST_SSE_COMPARE(host_comiss, "comiss", uint32_t, "movd")
HOST_SSE_COMPARE(host_ucomiss, "ucomiss", uint32_t, "movd")
HOST_SSE_COMPARE(host_comisd, "comisd", uint64_t, "movq")
HOST_SSE_COMPARE(host_ucomisd, "ucomisd", uint64_t, "movq")
#undef HOST_SSE_COMPARE

/* CMPSS/CMPSD with an immediate predicate (VEX forms for 8-31). The result
 * is the low element's mask: true when all ones. */
#define HOST_SSE_CMP(fn, insn, ty, mov, imm)                                     \
    static inline bool fn(ty a, ty b, uint32_t csr, unsigned *flags)             \
    {                                                                            \
        ty r;                                                                    \
        uint32_t saved, out;                                                     \
        __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\t"                \
                         mov " %[a], %%xmm0\n\t" mov " %[b], %%xmm1\n\t"         \
                         insn " $" #imm ", %%xmm1, %%xmm0\n\t"                   \
                         mov " %%xmm0, %[r]\n\t"                                  \
                         "stmxcsr %[out]\n\tldmxcsr %[saved]"                    \
                         : [r] "=r"(r), [saved] "=m"(saved), [out] "=m"(out)     \
                         : [a] "r"(a), [b] "r"(b), [csr] "m"(csr)                \
                         : "xmm0", "xmm1");                                      \
        *flags = out & 0x3F;                                                     \
        return r & 1;                                                            \
    }
#define HOST_CMP_PAIR(n)                                                         \
    HOST_SSE_CMP(host_cmpss_##n, "cmpss", uint32_t, "movd", n)                  \
    HOST_SSE_CMP(host_cmpsd_##n, "cmpsd", uint64_t, "movq", n)
HOST_CMP_PAIR(0) HOST_CMP_PAIR(1) HOST_CMP_PAIR(2) HOST_CMP_PAIR(3)
HOST_CMP_PAIR(4) HOST_CMP_PAIR(5) HOST_CMP_PAIR(6) HOST_CMP_PAIR(7)

#define HOST_AVX_CMP(fn, insn, ty, mov, imm)                                     \
    static inline bool fn(ty a, ty b, uint32_t csr, unsigned *flags)             \
    {                                                                            \
        ty r;                                                                    \
        uint32_t saved, out;                                                     \
        __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\t"                \
                         mov " %[a], %%xmm0\n\t" mov " %[b], %%xmm1\n\t"         \
                         insn " $" #imm ", %%xmm1, %%xmm0, %%xmm0\n\t"           \
                         mov " %%xmm0, %[r]\n\t"                                  \
                         "stmxcsr %[out]\n\tldmxcsr %[saved]"                    \
                         : [r] "=r"(r), [saved] "=m"(saved), [out] "=m"(out)     \
                         : [a] "r"(a), [b] "r"(b), [csr] "m"(csr)                \
                         : "xmm0", "xmm1");                                      \
        *flags = out & 0x3F;                                                     \
        return r & 1;                                                            \
    }
#define HOST_AVX_PAIR(n)                                                         \
    HOST_AVX_CMP(host_vcmpss_##n, "vcmpss", uint32_t, "vmovd", n)               \
    HOST_AVX_CMP(host_vcmpsd_##n, "vcmpsd", uint64_t, "vmovq", n)
#define HOST_AVX_PAIR4(n) HOST_AVX_PAIR(n) HOST_AVX_PAIR(n##1) HOST_AVX_PAIR(n##2) HOST_AVX_PAIR(n##3)
HOST_AVX_PAIR(0) HOST_AVX_PAIR(1) HOST_AVX_PAIR(2) HOST_AVX_PAIR(3)
HOST_AVX_PAIR(4) HOST_AVX_PAIR(5) HOST_AVX_PAIR(6) HOST_AVX_PAIR(7)
HOST_AVX_PAIR(8) HOST_AVX_PAIR(9) HOST_AVX_PAIR(10) HOST_AVX_PAIR(11)
HOST_AVX_PAIR(12) HOST_AVX_PAIR(13) HOST_AVX_PAIR(14) HOST_AVX_PAIR(15)
HOST_AVX_PAIR(16) HOST_AVX_PAIR(17) HOST_AVX_PAIR(18) HOST_AVX_PAIR(19)
HOST_AVX_PAIR(20) HOST_AVX_PAIR(21) HOST_AVX_PAIR(22) HOST_AVX_PAIR(23)
HOST_AVX_PAIR(24) HOST_AVX_PAIR(25) HOST_AVX_PAIR(26) HOST_AVX_PAIR(27)
HOST_AVX_PAIR(28) HOST_AVX_PAIR(29) HOST_AVX_PAIR(30) HOST_AVX_PAIR(31)
typedef bool (*HostCmp32)(uint32_t, uint32_t, uint32_t, unsigned *);
typedef bool (*HostCmp64)(uint64_t, uint64_t, uint32_t, unsigned *);
static const HostCmp32 host_cmpss_table[8] = {
    host_cmpss_0, host_cmpss_1, host_cmpss_2, host_cmpss_3,
    host_cmpss_4, host_cmpss_5, host_cmpss_6, host_cmpss_7,
};
static const HostCmp64 host_cmpsd_table[8] = {
    host_cmpsd_0, host_cmpsd_1, host_cmpsd_2, host_cmpsd_3,
    host_cmpsd_4, host_cmpsd_5, host_cmpsd_6, host_cmpsd_7,
};
#define HOST_AVX_ROW(t, a, b, c, d) host_##t##_##a, host_##t##_##b, host_##t##_##c, host_##t##_##d
static const HostCmp32 host_vcmpss_table[32] = {
    HOST_AVX_ROW(vcmpss, 0, 1, 2, 3), HOST_AVX_ROW(vcmpss, 4, 5, 6, 7),
    HOST_AVX_ROW(vcmpss, 8, 9, 10, 11), HOST_AVX_ROW(vcmpss, 12, 13, 14, 15),
    HOST_AVX_ROW(vcmpss, 16, 17, 18, 19), HOST_AVX_ROW(vcmpss, 20, 21, 22, 23),
    HOST_AVX_ROW(vcmpss, 24, 25, 26, 27), HOST_AVX_ROW(vcmpss, 28, 29, 30, 31),
};
static const HostCmp64 host_vcmpsd_table[32] = {
    HOST_AVX_ROW(vcmpsd, 0, 1, 2, 3), HOST_AVX_ROW(vcmpsd, 4, 5, 6, 7),
    HOST_AVX_ROW(vcmpsd, 8, 9, 10, 11), HOST_AVX_ROW(vcmpsd, 12, 13, 14, 15),
    HOST_AVX_ROW(vcmpsd, 16, 17, 18, 19), HOST_AVX_ROW(vcmpsd, 20, 21, 22, 23),
    HOST_AVX_ROW(vcmpsd, 24, 25, 26, 27), HOST_AVX_ROW(vcmpsd, 28, 29, 30, 31),
};
#undef HOST_AVX_ROW
#undef HOST_AVX_PAIR
#undef HOST_AVX_PAIR4
#undef HOST_AVX_CMP
#undef HOST_CMP_PAIR
#undef HOST_SSE_CMP

/* float -> integer: insn reads xmm0, writes a 32- or 64-bit register. */
#define HOST_SSE_TO_INT(fn, insn, ty, rty, mov, rsz)                             \
    static inline rty fn(ty a, uint32_t csr, unsigned *flags)                    \
    {                                                                            \
        rty r;                                                                   \
        uint32_t saved, out;                                                     \
        __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\t"                \
                         mov " %[a], %%xmm0\n\t" insn " %%xmm0, %" rsz "[r]\n\t" \
                         "stmxcsr %[out]\n\tldmxcsr %[saved]"                    \
                         : [r] "=r"(r), [saved] "=m"(saved), [out] "=m"(out)     \
                         : [a] "r"(a), [csr] "m"(csr) : "xmm0");                 \
        *flags = out & 0x3F;                                                     \
        return r;                                                                \
    }
HOST_SSE_TO_INT(host_cvtss2si32, "cvtss2si", uint32_t, int32_t, "movd", "k")
HOST_SSE_TO_INT(host_cvttss2si32, "cvttss2si", uint32_t, int32_t, "movd", "k")
HOST_SSE_TO_INT(host_cvtss2si64, "cvtss2si", uint32_t, int64_t, "movd", "q")
HOST_SSE_TO_INT(host_cvttss2si64, "cvttss2si", uint32_t, int64_t, "movd", "q")
HOST_SSE_TO_INT(host_cvtsd2si32, "cvtsd2si", uint64_t, int32_t, "movq", "k")
HOST_SSE_TO_INT(host_cvttsd2si32, "cvttsd2si", uint64_t, int32_t, "movq", "k")
HOST_SSE_TO_INT(host_cvtsd2si64, "cvtsd2si", uint64_t, int64_t, "movq", "q")
HOST_SSE_TO_INT(host_cvttsd2si64, "cvttsd2si", uint64_t, int64_t, "movq", "q")
#undef HOST_SSE_TO_INT

/* integer -> float */
#define HOST_SSE_FROM_INT(fn, insn, ity, rty, mov, isz)                          \
    static inline rty fn(ity a, uint32_t csr, unsigned *flags)                   \
    {                                                                            \
        rty r;                                                                   \
        uint32_t saved, out;                                                     \
        __asm__ volatile("stmxcsr %[saved]\n\tldmxcsr %[csr]\n\t"                \
                         insn " %" isz "[a], %%xmm0\n\t" mov " %%xmm0, %[r]\n\t" \
                         "stmxcsr %[out]\n\tldmxcsr %[saved]"                    \
                         : [r] "=r"(r), [saved] "=m"(saved), [out] "=m"(out)     \
                         : [a] "r"(a), [csr] "m"(csr) : "xmm0");                 \
        *flags = out & 0x3F;                                                     \
        return r;                                                                \
    }
HOST_SSE_FROM_INT(host_cvtsi2ss32, "cvtsi2ssl", int32_t, uint32_t, "movd", "k")
HOST_SSE_FROM_INT(host_cvtsi2ss64, "cvtsi2ssq", int64_t, uint32_t, "movd", "q")
HOST_SSE_FROM_INT(host_cvtsi2sd32, "cvtsi2sdl", int32_t, uint64_t, "movq", "k")
HOST_SSE_FROM_INT(host_cvtsi2sd64, "cvtsi2sdq", int64_t, uint64_t, "movq", "q")
#undef HOST_SSE_FROM_INT

/* ---- x87: status word returned (exceptions, C0-C3) ---- */
#define X87_PRE "fnstcw %[saved]\n\tfldcw %[cw]\n\tfnclex\n\t"
#define X87_POST "fldcw %[saved]\n\tfnclex"
#define X87_CLOBBERS "st", "st(1)", "st(2)", "ax"

/* st0 = a, st1 = b; insn computes into st0 (e.g. "fadd %st(1), %st"). */
#define HOST_X87_BINOP(fn, insn)                                                 \
    static inline uint16_t fn(floatx80 a, floatx80 b, uint16_t cw, floatx80 *r)  \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE "fldt %[b]\n\tfldt %[a]\n\t" insn "\n\t"        \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"                   \
                         "fstpt %[r]\n\tfstp %%st(0)\n\t" X87_POST               \
                         : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)      \
                         : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)                  \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
HOST_X87_BINOP(host_fadd, "fadd %%st(1), %%st")
HOST_X87_BINOP(host_fsub, "fsub %%st(1), %%st")
HOST_X87_BINOP(host_fmul, "fmul %%st(1), %%st")
HOST_X87_BINOP(host_fdiv, "fdiv %%st(1), %%st")
HOST_X87_BINOP(host_fsubr, "fsubr %%st(1), %%st")
HOST_X87_BINOP(host_fdivr, "fdivr %%st(1), %%st")
HOST_X87_BINOP(host_fprem, "fprem")
HOST_X87_BINOP(host_fprem1, "fprem1")
HOST_X87_BINOP(host_fscale, "fscale")
#undef HOST_X87_BINOP

/* The same with exceptions possibly unmasked: the state is read with the
 * non-waiting FNSAVE (which also discards the pending exception), so the
 * x87's unmasked response (biased exponent) is visible. r = ST0 after. */
typedef struct HostFsave {
    uint8_t env[28];
    uint8_t st[8][10];
} HostFsave;
#define HOST_X87_BINOP_NOWAIT(fn, insn)                                          \
    static inline uint16_t fn(floatx80 a, floatx80 b, uint16_t cw, floatx80 *r)  \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        HostFsave st;                                                            \
        __asm__ volatile("fnstcw %[saved]\n\tfninit\n\tfldcw %[cw]\n\t"          \
                         "fldt %[b]\n\tfldt %[a]\n\t" insn "\n\t"              \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"                   \
                         "fnsave %[st]\n\tfldcw %[saved]"                         \
                         : [st] "=m"(st), [saved] "=m"(saved), [sw] "=m"(sw)     \
                         : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)                  \
                         : X87_CLOBBERS);                                        \
        memcpy(&r->mant, st.st[0], 8);                                           \
        memcpy(&r->sexp, st.st[0] + 8, 2);                                       \
        return sw;                                                               \
    }
HOST_X87_BINOP_NOWAIT(host_fmul_nowait, "fmul %%st(1), %%st")
HOST_X87_BINOP_NOWAIT(host_fdiv_nowait, "fdiv %%st(1), %%st")
HOST_X87_BINOP_NOWAIT(host_fadd_nowait, "fadd %%st(1), %%st")
HOST_X87_BINOP_NOWAIT(host_fscale_nowait, "fscale")
#undef HOST_X87_BINOP_NOWAIT

/* ST0 = a OP m (m32fp / m64fp). */
#define HOST_X87_MEMOP(fn, insn, ty)                                             \
    static inline uint16_t fn(floatx80 a, ty m, uint16_t cw, floatx80 *r)        \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE "fldt %[a]\n\t" insn " %[m]\n\t"                \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"                   \
                         "fstpt %[r]\n\t" X87_POST                               \
                         : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)      \
                         : [a] "m"(a), [m] "m"(m), [cw] "m"(cw)                  \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
#define HOST_X87_MEMOPS(name)                                                    \
    HOST_X87_MEMOP(host_##name##s, #name "s", uint32_t)                         \
    HOST_X87_MEMOP(host_##name##l, #name "l", uint64_t)
HOST_X87_MEMOPS(fadd)
HOST_X87_MEMOPS(fmul)
HOST_X87_MEMOPS(fsub)
HOST_X87_MEMOPS(fsubr)
HOST_X87_MEMOPS(fdiv)
HOST_X87_MEMOPS(fdivr)
#undef HOST_X87_MEMOPS
#undef HOST_X87_MEMOP

/* FCOMP m32fp / m64fp: status word after comparing ST0 with m. */
#define HOST_X87_MEMCMP(fn, insn, ty)                                            \
    static inline uint16_t fn(floatx80 a, ty m, uint16_t cw)                     \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE "fldt %[a]\n\t" insn " %[m]\n\t"                \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t" X87_POST          \
                         : [saved] "=m"(saved), [sw] "=m"(sw)                    \
                         : [a] "m"(a), [m] "m"(m), [cw] "m"(cw)                  \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
HOST_X87_MEMCMP(host_fcomps, "fcomps", uint32_t)
HOST_X87_MEMCMP(host_fcompl, "fcompl", uint64_t)
#undef HOST_X87_MEMCMP

/* FSTP m32/m64 with exceptions possibly unmasked (state dropped by FNSAVE). */
#define HOST_X87_STORE_NOWAIT(fn, ty, insn)                                      \
    static inline uint16_t fn(floatx80 a, uint16_t cw, ty *r)                    \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        HostFsave st;                                                            \
        __asm__ volatile("fnstcw %[saved]\n\tfninit\n\tfldcw %[cw]\n\t"          \
                         "fldt %[a]\n\t" insn " %[r]\n\t"                        \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"                   \
                         "fnsave %[st]\n\tfldcw %[saved]"                         \
                         : [r] "=m"(*r), [st] "=m"(st), [saved] "=m"(saved),     \
                           [sw] "=m"(sw)                                         \
                         : [a] "m"(a), [cw] "m"(cw)                              \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
HOST_X87_STORE_NOWAIT(host_fstps_nowait, uint32_t, "fstps")
HOST_X87_STORE_NOWAIT(host_fstpl_nowait, uint64_t, "fstpl")
#undef HOST_X87_STORE_NOWAIT

/* st1 = y, st0 = x; the instruction pops, leaving one result. */
#define HOST_X87_POPOP(fn, insn)                                                 \
    static inline uint16_t fn(floatx80 x, floatx80 y, uint16_t cw, floatx80 *r)  \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE "fldt %[y]\n\tfldt %[x]\n\t" insn "\n\t"        \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"                   \
                         "fstpt %[r]\n\t" X87_POST                               \
                         : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)      \
                         : [x] "m"(x), [y] "m"(y), [cw] "m"(cw)                  \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
HOST_X87_POPOP(host_fyl2x, "fyl2x")
HOST_X87_POPOP(host_fyl2xp1, "fyl2xp1")
HOST_X87_POPOP(host_fpatan, "fpatan")
#undef HOST_X87_POPOP

/* Unary on st0. */
#define HOST_X87_UNOP(fn, insn)                                                  \
    static inline uint16_t fn(floatx80 a, uint16_t cw, floatx80 *r)              \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE "fldt %[a]\n\t" insn "\n\t"                     \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"                   \
                         "fstpt %[r]\n\t" X87_POST                               \
                         : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)      \
                         : [a] "m"(a), [cw] "m"(cw)                              \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
HOST_X87_UNOP(host_fsqrt, "fsqrt")
HOST_X87_UNOP(host_frndint, "frndint")
HOST_X87_UNOP(host_f2xm1, "f2xm1")
HOST_X87_UNOP(host_fsin, "fsin")
HOST_X87_UNOP(host_fcos, "fcos")
#undef HOST_X87_UNOP

/* Two results: st0 -> r0, st1 -> r1 (when the instruction pushed; with C2
 * set after FSINCOS/FPTAN nothing was pushed and r1 is left alone). */
#define HOST_X87_UNOP2(fn, insn)                                                 \
    static inline uint16_t fn(floatx80 a, uint16_t cw, floatx80 *r0, floatx80 *r1) \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE "fldt %[a]\n\t" insn "\n\t"                     \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"                   \
                         "fstpt %[r0]\n\ttestw $0x400, %%ax\n\tjnz 1f\n\t"       \
                         "fstpt %[r1]\n1:\n\t" X87_POST                          \
                         : [r0] "=m"(*r0), [r1] "+m"(*r1), [saved] "=m"(saved),  \
                           [sw] "=m"(sw)                                         \
                         : [a] "m"(a), [cw] "m"(cw)                              \
                         : X87_CLOBBERS, "cc");                                  \
        return sw;                                                               \
    }
HOST_X87_UNOP2(host_fsincos, "fsincos")
HOST_X87_UNOP2(host_fptan, "fptan")
HOST_X87_UNOP2(host_fxtract, "fxtract")
#undef HOST_X87_UNOP2

/* Compare st0 = a with st1 = b: returns the status word (C0 C2 C3). */
#define HOST_X87_COMPARE(fn, insn)                                               \
    static inline uint16_t fn(floatx80 a, floatx80 b, uint16_t cw)               \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE "fldt %[b]\n\tfldt %[a]\n\t" insn "\n\t"        \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t" X87_POST          \
                         : [saved] "=m"(saved), [sw] "=m"(sw)                    \
                         : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)                  \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
HOST_X87_COMPARE(host_fcompp, "fcompp")
HOST_X87_COMPARE(host_fucompp, "fucompp")
#undef HOST_X87_COMPARE

/* Memory conversions: load form lds, store form sts. */
#define HOST_X87_LOAD(fn, ty, insn)                                              \
    static inline uint16_t fn(ty a, uint16_t cw, floatx80 *r)                    \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE insn " %[a]\n\t"                                \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"                   \
                         "fstpt %[r]\n\t" X87_POST                               \
                         : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)      \
                         : [a] "m"(a), [cw] "m"(cw)                              \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
HOST_X87_LOAD(host_flds, uint32_t, "flds")
HOST_X87_LOAD(host_fldl, uint64_t, "fldl")
HOST_X87_LOAD(host_fildl, int32_t, "fildl")
HOST_X87_LOAD(host_fildll, int64_t, "fildll")
#undef HOST_X87_LOAD

#define HOST_X87_STORE(fn, ty, insn)                                             \
    static inline uint16_t fn(floatx80 a, uint16_t cw, ty *r)                    \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE "fldt %[a]\n\t" insn " %[r]\n\t"                \
                         "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t" X87_POST          \
                         : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)      \
                         : [a] "m"(a), [cw] "m"(cw)                              \
                         : X87_CLOBBERS);                                        \
        return sw;                                                               \
    }
HOST_X87_STORE(host_fstps, uint32_t, "fstps")
HOST_X87_STORE(host_fstpl, uint64_t, "fstpl")
HOST_X87_STORE(host_fistps, int16_t, "fistps")
HOST_X87_STORE(host_fistpl, int32_t, "fistpl")
HOST_X87_STORE(host_fistpll, int64_t, "fistpll")
HOST_X87_STORE(host_fisttps, int16_t, "fisttps")
HOST_X87_STORE(host_fisttpl, int32_t, "fisttpl")
HOST_X87_STORE(host_fisttpll, int64_t, "fisttpll")
#undef HOST_X87_STORE

static inline uint16_t host_fxam(floatx80 a)
{
    uint16_t saved, sw, cw = 0x37F;
    __asm__ volatile(X87_PRE "fldt %[a]\n\tfxam\n\tfnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"
                     "fstp %%st(0)\n\t" X87_POST
                     : [saved] "=m"(saved), [sw] "=m"(sw)
                     : [a] "m"(a), [cw] "m"(cw) : X87_CLOBBERS);
    return sw;
}

/* The tag FSTENV reports for a register holding a (TOP = 7 after the load). */
static inline unsigned host_tag(floatx80 a)
{
    uint16_t saved, cw = 0x37F;
    uint16_t env[14];
    __asm__ volatile(X87_PRE "fldt %[a]\n\tfnstenv %[env]\n\tfstp %%st(0)\n\t" X87_POST
                     : [saved] "=m"(saved), [env] "=m"(env)
                     : [a] "m"(a), [cw] "m"(cw) : X87_CLOBBERS);
    return (env[4] >> 14) & 3;
}

#define HOST_X87_CONST(fn, insn)                                                 \
    static inline uint16_t fn(uint16_t cw, floatx80 *r)                          \
    {                                                                            \
        uint16_t saved, sw;                                                      \
        __asm__ volatile(X87_PRE insn "\n\tfnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"   \
                         "fstpt %[r]\n\t" X87_POST                               \
                         : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)      \
                         : [cw] "m"(cw) : X87_CLOBBERS);                         \
        return sw;                                                               \
    }
HOST_X87_CONST(host_fldz, "fldz")
HOST_X87_CONST(host_fld1, "fld1")
HOST_X87_CONST(host_fldpi, "fldpi")
HOST_X87_CONST(host_fldl2t, "fldl2t")
HOST_X87_CONST(host_fldl2e, "fldl2e")
HOST_X87_CONST(host_fldlg2, "fldlg2")
HOST_X87_CONST(host_fldln2, "fldln2")
#undef HOST_X87_CONST

typedef struct HostBcd {
    uint8_t b[10];
} HostBcd;

static inline uint16_t host_fbld(HostBcd a, uint16_t cw, floatx80 *r)
{
    uint16_t saved, sw;
    __asm__ volatile(X87_PRE "fbld %[a]\n\tfnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"
                     "fstpt %[r]\n\t" X87_POST
                     : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)
                     : [a] "m"(a), [cw] "m"(cw) : X87_CLOBBERS);
    return sw;
}

static inline uint16_t host_fbstp(floatx80 a, uint16_t cw, HostBcd *r)
{
    uint16_t saved, sw;
    __asm__ volatile(X87_PRE "fldt %[a]\n\tfbstp %[r]\n\t"
                     "fnstsw %%ax\n\tmovw %%ax, %[sw]\n\t" X87_POST
                     : [r] "=m"(*r), [saved] "=m"(saved), [sw] "=m"(sw)
                     : [a] "m"(a), [cw] "m"(cw) : X87_CLOBBERS);
    return sw;
}

#undef X87_PRE
#undef X87_POST
#undef X87_CLOBBERS

#else
#define HOST_ORACLE_AVAILABLE 0
#endif

#endif
