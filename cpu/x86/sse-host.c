/* Fast path for the common SSE floating-point operations on an x86-64 host:
 * the host executes the same instruction under the guest's MXCSR (rounding,
 * DAZ, FTZ; exceptions masked) and reports the same flags, so the result is
 * bit-identical to the softfloat path and to hardware, at a fraction of the
 * cost. Used only while the guest masks every SSE exception (the unmasked
 * responses differ and stay with softfloat); sse_use_host_fpu = false forces
 * softfloat everywhere (the tests run both). On other hosts: never used. */
#include <string.h>
#include "cpu/x86/simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
bool sse_use_host_fpu = true;

typedef double v2df __attribute__((vector_size(16)));

static v2df vload(const XMMReg *p)
{
    v2df v;
    memcpy(&v, p, 16);
    return v;
}

static void vstore(XMMReg *p, v2df v)
{
    memcpy(p, &v, 16);
}

/* Run one instruction "insn %[y], %[x]" between loading ctrl into MXCSR and
 * reading the flags back; the host's MXCSR is restored in the same asm so no
 * compiler-generated floating point can run under the guest's. */
#define HOST_BIN(name, insn)                                                   \
    static uint32_t host_##name(XMMReg *r, const XMMReg *a, const XMMReg *b, uint32_t ctrl) \
    {                                                                         \
        v2df x = vload(a), y = vload(b);                                      \
        uint32_t saved, flags;                                                \
        __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[ct]\n\t" insn " %[y], %[x]\n\t" \
                         "stmxcsr %[fl]\n\tldmxcsr %[sv]"                     \
                         : [x] "+x"(x), [sv] "=m"(saved), [fl] "=m"(flags)    \
                         : [y] "x"(y), [ct] "m"(ctrl));                       \
        vstore(r, x);                                                         \
        return flags;                                                         \
    }
HOST_BIN(addps, "addps") HOST_BIN(addpd, "addpd") HOST_BIN(addss, "addss") HOST_BIN(addsd, "addsd")
HOST_BIN(subps, "subps") HOST_BIN(subpd, "subpd") HOST_BIN(subss, "subss") HOST_BIN(subsd, "subsd")
HOST_BIN(mulps, "mulps") HOST_BIN(mulpd, "mulpd") HOST_BIN(mulss, "mulss") HOST_BIN(mulsd, "mulsd")
HOST_BIN(divps, "divps") HOST_BIN(divpd, "divpd") HOST_BIN(divss, "divss") HOST_BIN(divsd, "divsd")
HOST_BIN(minps, "minps") HOST_BIN(minpd, "minpd") HOST_BIN(minss, "minss") HOST_BIN(minsd, "minsd")
HOST_BIN(maxps, "maxps") HOST_BIN(maxpd, "maxpd") HOST_BIN(maxss, "maxss") HOST_BIN(maxsd, "maxsd")
HOST_BIN(sqrtps, "sqrtps") HOST_BIN(sqrtpd, "sqrtpd") HOST_BIN(sqrtss, "sqrtss") HOST_BIN(sqrtsd, "sqrtsd")
HOST_BIN(cvtss2sd, "cvtss2sd") HOST_BIN(cvtsd2ss, "cvtsd2ss")
HOST_BIN(cvtps2pd, "cvtps2pd") HOST_BIN(cvtpd2ps, "cvtpd2ps")
HOST_BIN(cvtdq2ps, "cvtdq2ps") HOST_BIN(cvtdq2pd, "cvtdq2pd")
HOST_BIN(cvtps2dq, "cvtps2dq") HOST_BIN(cvttps2dq, "cvttps2dq")
HOST_BIN(cvtpd2dq, "cvtpd2dq") HOST_BIN(cvttpd2dq, "cvttpd2dq")

typedef uint32_t HostBin(XMMReg *r, const XMMReg *a, const XMMReg *b, uint32_t ctrl);

static HostBin *const host_bin[SSE_OP_COUNT] = {
#define B(n) [SSE_##n] = host_##n,
    B(addps) B(addpd) B(addss) B(addsd) B(subps) B(subpd) B(subss) B(subsd)
    B(mulps) B(mulpd) B(mulss) B(mulsd) B(divps) B(divpd) B(divss) B(divsd)
    B(minps) B(minpd) B(minss) B(minsd) B(maxps) B(maxpd) B(maxss) B(maxsd)
    B(sqrtps) B(sqrtpd) B(sqrtss) B(sqrtsd) B(cvtss2sd) B(cvtsd2ss) B(cvtps2pd) B(cvtpd2ps)
    B(cvtdq2ps) B(cvtdq2pd) B(cvtps2dq) B(cvttps2dq) B(cvtpd2dq) B(cvttpd2dq)
#undef B
};

/* COMISS & co.: EFLAGS ZF PF CF. */
#define HOST_COMI(name, insn)                                                  \
    static uint32_t host_##name(const XMMReg *a, const XMMReg *b, uint32_t ctrl, uint64_t *ret) \
    {                                                                         \
        v2df x = vload(a), y = vload(b);                                      \
        uint32_t saved, flags;                                                \
        uint8_t z, p, c;                                                      \
        __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[ct]\n\t" insn " %[y], %[x]\n\t" \
                         "setz %[z]\n\tsetp %[p]\n\tsetc %[c]\n\t"            \
                         "stmxcsr %[fl]\n\tldmxcsr %[sv]"                     \
                         : [sv] "=m"(saved), [fl] "=m"(flags), [z] "=q"(z), [p] "=q"(p), [c] "=q"(c) \
                         : [x] "x"(x), [y] "x"(y), [ct] "m"(ctrl) : "cc");    \
        *ret = (z ? CC_Z : 0) | (p ? CC_P : 0) | (c ? CC_C : 0);              \
        return flags;                                                         \
    }
HOST_COMI(comiss, "comiss") HOST_COMI(ucomiss, "ucomiss")
HOST_COMI(comisd, "comisd") HOST_COMI(ucomisd, "ucomisd")

/* CVT(T)SD2SI/CVT(T)SS2SI: imm bit 0 = 64-bit result. */
#define HOST_CVT2SI(name, insn)                                                \
    static uint32_t host_##name(const XMMReg *b, uint32_t imm, uint32_t ctrl, uint64_t *ret) \
    {                                                                         \
        v2df y = vload(b);                                                    \
        uint32_t saved, flags;                                                \
        uint64_t v;                                                           \
        if (imm & 1)                                                          \
            __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[ct]\n\t" insn "q %[y], %[v]\n\t" \
                             "stmxcsr %[fl]\n\tldmxcsr %[sv]"                 \
                             : [sv] "=m"(saved), [fl] "=m"(flags), [v] "=r"(v) \
                             : [y] "x"(y), [ct] "m"(ctrl));                   \
        else                                                                  \
            __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[ct]\n\t" insn "l %[y], %k[v]\n\t" \
                             "stmxcsr %[fl]\n\tldmxcsr %[sv]"                 \
                             : [sv] "=m"(saved), [fl] "=m"(flags), [v] "=r"(v) \
                             : [y] "x"(y), [ct] "m"(ctrl));                   \
        *ret = (imm & 1) ? v : (uint32_t)v;                                   \
        return flags;                                                         \
    }
HOST_CVT2SI(cvtsd2si, "cvtsd2si") HOST_CVT2SI(cvttsd2si, "cvttsd2si")
HOST_CVT2SI(cvtss2si, "cvtss2si") HOST_CVT2SI(cvttss2si, "cvttss2si")

/* CVTSI2SD/SS from b.q[0]. */
#define HOST_CVTSI2(name, insn)                                                \
    static uint32_t host_##name(XMMReg *r, const XMMReg *a, const XMMReg *b, uint32_t imm, uint32_t ctrl) \
    {                                                                         \
        v2df x = vload(a);                                                    \
        uint32_t saved, flags;                                                \
        uint64_t v = b->q[0];                                                 \
        if (imm & 1)                                                          \
            __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[ct]\n\t" insn "q %[v], %[x]\n\t" \
                             "stmxcsr %[fl]\n\tldmxcsr %[sv]"                 \
                             : [x] "+x"(x), [sv] "=m"(saved), [fl] "=m"(flags) \
                             : [v] "r"(v), [ct] "m"(ctrl));                   \
        else                                                                  \
            __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[ct]\n\t" insn "l %k[v], %[x]\n\t" \
                             "stmxcsr %[fl]\n\tldmxcsr %[sv]"                 \
                             : [x] "+x"(x), [sv] "=m"(saved), [fl] "=m"(flags) \
                             : [v] "r"(v), [ct] "m"(ctrl));                   \
        vstore(r, x);                                                         \
        return flags;                                                         \
    }
HOST_CVTSI2(cvtsi2sd, "cvtsi2sd") HOST_CVTSI2(cvtsi2ss, "cvtsi2ss")

/* CMPccPS/PD/SS/SD: the predicate is an immediate in the instruction. */
#define HOST_CMP_ONE(insn, k)                                                  \
    case k:                                                                   \
        __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[ct]\n\t" insn " $" #k ", %[y], %[x]\n\t" \
                         "stmxcsr %[fl]\n\tldmxcsr %[sv]"                     \
                         : [x] "+x"(x), [sv] "=m"(saved), [fl] "=m"(flags)    \
                         : [y] "x"(y), [ct] "m"(ctrl));                       \
        break;
#define HOST_CMP(name, insn)                                                   \
    static uint32_t host_##name(XMMReg *r, const XMMReg *a, const XMMReg *b, uint32_t imm, uint32_t ctrl) \
    {                                                                         \
        v2df x = vload(a), y = vload(b);                                      \
        uint32_t saved, flags = 0;                                            \
        switch (imm & 7) {                                                    \
        HOST_CMP_ONE(insn, 0) HOST_CMP_ONE(insn, 1) HOST_CMP_ONE(insn, 2) HOST_CMP_ONE(insn, 3) \
        HOST_CMP_ONE(insn, 4) HOST_CMP_ONE(insn, 5) HOST_CMP_ONE(insn, 6) HOST_CMP_ONE(insn, 7) \
        }                                                                     \
        vstore(r, x);                                                         \
        return flags;                                                         \
    }
HOST_CMP(cmpps, "cmpps") HOST_CMP(cmppd, "cmppd") HOST_CMP(cmpss, "cmpss") HOST_CMP(cmpsd, "cmpsd")

bool sse_host_op(unsigned op, XMMReg *r, const XMMReg *a, const XMMReg *b, uint32_t imm,
                 uint32_t *mxcsr, uint64_t *ret)
{
    /* guest control bits, all exceptions masked, flags cleared */
    uint32_t ctrl = (*mxcsr & ~0x3fu) | 0x1f80;
    uint32_t flags;
    if (!sse_use_host_fpu || (*mxcsr & 0x1f80) != 0x1f80 || op >= SSE_OP_COUNT)
        return false;
    if (host_bin[op]) {
        flags = host_bin[op](r, a, b, ctrl);
    } else {
        switch (op) {
        case SSE_comiss: flags = host_comiss(a, b, ctrl, ret); break;
        case SSE_ucomiss: flags = host_ucomiss(a, b, ctrl, ret); break;
        case SSE_comisd: flags = host_comisd(a, b, ctrl, ret); break;
        case SSE_ucomisd: flags = host_ucomisd(a, b, ctrl, ret); break;
        case SSE_cvtsd2si: flags = host_cvtsd2si(b, imm, ctrl, ret); break;
        case SSE_cvttsd2si: flags = host_cvttsd2si(b, imm, ctrl, ret); break;
        case SSE_cvtss2si: flags = host_cvtss2si(b, imm, ctrl, ret); break;
        case SSE_cvttss2si: flags = host_cvttss2si(b, imm, ctrl, ret); break;
        case SSE_cvtsi2sd: flags = host_cvtsi2sd(r, a, b, imm, ctrl); break;
        case SSE_cvtsi2ss: flags = host_cvtsi2ss(r, a, b, imm, ctrl); break;
        case SSE_cmpps: flags = host_cmpps(r, a, b, imm, ctrl); break;
        case SSE_cmppd: flags = host_cmppd(r, a, b, imm, ctrl); break;
        case SSE_cmpss: flags = host_cmpss(r, a, b, imm, ctrl); break;
        case SSE_cmpsd: flags = host_cmpsd(r, a, b, imm, ctrl); break;
        default: return false;
        }
    }
    *mxcsr |= flags & 0x3f;
    return true;
}
#else
bool sse_use_host_fpu = false;

bool sse_host_op(unsigned op, XMMReg *r, const XMMReg *a, const XMMReg *b, uint32_t imm,
                 uint32_t *mxcsr, uint64_t *ret)
{
    (void)op; (void)r; (void)a; (void)b; (void)imm; (void)mxcsr; (void)ret;
    return false;
}
#endif
