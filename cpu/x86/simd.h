/* MMX/SSE..SSE4.2 and x87 in the translator: what translate-sse.c,
 * translate-x87.c, the helpers (sse-helpers.c, x87-helpers.c) and fxsave.c
 * share. Generated code reaches the vector helpers through one dispatcher,
 * helper_sse(), which runs an operation from the SseOp table on copies of its
 * operands, so a faulting operation (#XM) changes nothing. */
#ifndef CPU_X86_SIMD_H
#define CPU_X86_SIMD_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/x86/cpu.h"
#include "tcg/tcg.h"

/* Every vector operation, named after its instruction. An operation computes
 * r from a (the destination's old value) and b (the source); r starts as a
 * copy of a. n is the vector width in bytes (8 for MMX, 16 for XMM), imm the
 * instruction's immediate or a variant selector. The floating-point
 * operations (the ones that read MXCSR or raise SIMD exceptions) come last,
 * from ADDPS on: helper_sse skips MXCSR for everything before. */
#define SSE_OPS(X)                                                            \
    X(paddb) X(paddw) X(paddd) X(paddq) X(psubb) X(psubw) X(psubd) X(psubq)  \
    X(paddsb) X(paddsw) X(paddusb) X(paddusw) X(psubsb) X(psubsw)            \
    X(psubusb) X(psubusw) X(pmullw) X(pmulhw) X(pmulhuw) X(pmuludq)          \
    X(pmaddwd) X(psadbw) X(pavgb) X(pavgw) X(pminub) X(pmaxub) X(pminsw)     \
    X(pmaxsw) X(pand) X(pandn) X(por) X(pxor) X(pcmpeqb) X(pcmpeqw)          \
    X(pcmpeqd) X(pcmpgtb) X(pcmpgtw) X(pcmpgtd) X(punpcklbw) X(punpcklwd)    \
    X(punpckldq) X(punpcklqdq) X(punpckhbw) X(punpckhwd) X(punpckhdq)        \
    X(punpckhqdq) X(packsswb) X(packssdw) X(packuswb) X(psrlw) X(psrld)      \
    X(psrlq) X(psraw) X(psrad) X(psllw) X(pslld) X(psllq) X(psrldq)          \
    X(pslldq) X(pshufd) X(pshufhw) X(pshuflw) X(pshufw) X(shufps) X(shufpd)  \
    X(pinsrw) X(pextrw) X(pmovmskb) X(movmskps) X(movmskpd)                  \
    X(pshufb) X(phaddw) X(phaddd) X(phaddsw) X(pmaddubsw) X(phsubw)          \
    X(phsubd) X(phsubsw) X(psignb) X(psignw) X(psignd) X(pmulhrsw) X(pabsb)  \
    X(pabsw) X(pabsd) X(palignr)                                             \
    X(pblendvb) X(blendvps) X(blendvpd) X(ptest) X(pmovsxbw) X(pmovsxbd)     \
    X(pmovsxbq) X(pmovsxwd) X(pmovsxwq) X(pmovsxdq) X(pmovzxbw) X(pmovzxbd)  \
    X(pmovzxbq) X(pmovzxwd) X(pmovzxwq) X(pmovzxdq) X(pmuldq) X(pcmpeqq)     \
    X(packusdw) X(pminsb) X(pminsd) X(pminuw) X(pminud) X(pmaxsb) X(pmaxsd)  \
    X(pmaxuw) X(pmaxud) X(pmulld) X(phminposuw) X(blendps) X(blendpd)        \
    X(pblendw) X(pextrb) X(pextrd) X(pextrq) X(extractps) X(pinsrb)          \
    X(pinsrd) X(pinsrq) X(insertps) X(mpsadbw) X(pcmpgtq)                    \
    X(pcmpestri) X(pcmpestrm) X(pcmpistri) X(pcmpistrm)                      \
    X(addps) X(addpd) X(addss) X(addsd) X(subps) X(subpd) X(subss) X(subsd)  \
    X(mulps) X(mulpd) X(mulss) X(mulsd) X(divps) X(divpd) X(divss) X(divsd)  \
    X(minps) X(minpd) X(minss) X(minsd) X(maxps) X(maxpd) X(maxss) X(maxsd)  \
    X(sqrtps) X(sqrtpd) X(sqrtss) X(sqrtsd) X(rcpps) X(rcpss) X(rsqrtps)     \
    X(rsqrtss) X(cmpps) X(cmppd) X(cmpss) X(cmpsd) X(comiss) X(ucomiss)      \
    X(comisd) X(ucomisd) X(haddps) X(haddpd) X(hsubps) X(hsubpd)             \
    X(addsubps) X(addsubpd) X(movsldup) X(movshdup) X(movddup)               \
    X(roundps) X(roundpd) X(roundss) X(roundsd) X(dpps) X(dppd)              \
    X(cvtpi2ps) X(cvtpi2pd) X(cvtsi2ss) X(cvtsi2sd) X(cvttps2pi)             \
    X(cvttpd2pi) X(cvttss2si) X(cvttsd2si) X(cvtps2pi) X(cvtpd2pi)           \
    X(cvtss2si) X(cvtsd2si) X(cvtps2pd) X(cvtpd2ps) X(cvtss2sd) X(cvtsd2ss)  \
    X(cvtdq2ps) X(cvtps2dq) X(cvttps2dq) X(cvttpd2dq) X(cvtdq2pd)            \
    X(cvtpd2dq)

typedef enum SseOp {
#define SSE_OP_ENUM(n) SSE_##n,
    SSE_OPS(SSE_OP_ENUM)
#undef SSE_OP_ENUM
    SSE_OP_COUNT
} SseOp;

/* desc of helper_sse: op | width << 16 | imm << 24 (imm up to 32 bits) */
#define SSE_DESC(op, width, imm) ((uint64_t)(op) | (uint64_t)(width) << 16 | (uint64_t)(imm) << 24)

/* Run operation desc on *d (destination, also the first operand) and *s;
 * returns the low 64 bits of the result (for results bound for a GPR or
 * EFLAGS). d and s point into env. */
uint64_t helper_sse(CPUX86State *env, void *d, const void *s, uint64_t desc);
/* The host-FPU fast path (sse-host.c, x86-64 hosts): runs op on the host
 * under the guest's MXCSR when every exception is masked; false when it
 * does not apply. sse_use_host_fpu = false forces softfloat (tests). */
extern bool sse_use_host_fpu;
bool sse_host_op(unsigned op, XMMReg *r, const XMMReg *a, const XMMReg *b, uint32_t imm,
                 uint32_t *mxcsr, uint64_t *ret);
/* MASKMOVQ/MASKMOVDQU: store the bytes of *v selected by the sign bits of
 * *mask at linear address addr. */
void helper_maskmov(CPUX86State *env, const void *v, const void *mask, uint64_t addr, uint64_t width);
/* #GP(0) for a misaligned operand of an aligned SSE move/operation. */
void helper_sse_misaligned(CPUX86State *env);
/* LDMXCSR (reserved bits: #GP(0)) and STMXCSR values. */
void helper_ldmxcsr(CPUX86State *env, uint64_t value);

/* Bits of MXCSR the model implements (DAZ included): the rest are reserved. */
#define MXCSR_MASK 0xffffu

/* x87 (x87-helpers.c) */
/* memory operand formats */
enum { X87_M32FP, X87_M64FP, X87_M16INT, X87_M32INT, X87_M64INT, X87_M80FP, X87_M80BCD };
/* desc bits of helper_fpu_mem beside opcode << 8 | ModRM: the environment
 * format of FLDENV/FSTENV/FSAVE/FRSTOR */
#define X87_DESC_OP32 (1u << 16)   /* 32-bit operand size: 28-byte environment */
#define X87_DESC_PROT (1u << 17)   /* protected mode (not real/V86): selector:offset pointers */
#define X87_DESC_STACK (1u << 18)  /* 64-bit mode, through SS: non-canonical is #SS(0) */
void helper_fpu_mem(CPUX86State *env, uint64_t addr, uint64_t desc);
uint64_t helper_fpu_reg(CPUX86State *env, uint64_t desc, uint64_t arg);
/* #MF (CR0.NE) or FERR# (IRQ 13) when FSW.ES is set: waiting instructions. */
void helper_fpu_check_pending(CPUX86State *env);
uint64_t helper_fpu_status_word(CPUX86State *env);
/* x87 transcendentals on the host FPU (x87-host.c, x86-64 hosts): false when
 * not applicable (unmasked exceptions, trig operand out of range, other
 * host, or x87_use_host_fpu = false). flags: softfloat FLOAT_FLAG_* bits. */
typedef enum X87HostOp {
    X87_HOST_F2XM1, X87_HOST_FYL2X, X87_HOST_FYL2XP1, X87_HOST_FPATAN,
    X87_HOST_FSIN, X87_HOST_FCOS, X87_HOST_FPTAN, X87_HOST_FSINCOS,
} X87HostOp;
extern bool x87_use_host_fpu;
bool x87_host_op(X87HostOp op, uint16_t fcw, Float80 a, Float80 b, Float80 *r1, Float80 *r2,
                 uint16_t *flags);
/* Port 0xF0 write: IGNNE#, drops FERR#. */
void x87_ignne(void);
void x87_set_tag_word(CPUX86State *env, uint16_t full);     /* FLDENV/FRSTOR */
uint16_t x87_full_tag_word(CPUX86State *env);               /* FSTENV/FSAVE */
uint16_t x87_status_word(CPUX86State *env);                 /* FSW with TOP */
void x87_load_status_word(CPUX86State *env, uint16_t fsw);
void x87_reset(CPUX86State *env);                           /* FNINIT */

/* FXSAVE/FXRSTOR/XSAVE/XRSTOR (fxsave.c). desc: bit 0 REX.W (64-bit
 * FIP/FDP), bit 1 64-bit mode (XMM8-15 saved). addr is linear. */
#define XSAVE_DESC_REXW 1u
#define XSAVE_DESC_CODE64 2u
#define XSAVE_DESC_STACK 4u     /* 64-bit mode, through SS: non-canonical is #SS(0) */
void helper_fxsave(CPUX86State *env, uint64_t addr, uint64_t desc);
void helper_fxrstor(CPUX86State *env, uint64_t addr, uint64_t desc);
void helper_xsave(CPUX86State *env, uint64_t addr, uint64_t desc);
void helper_xrstor(CPUX86State *env, uint64_t addr, uint64_t desc);
void helper_xsetbv(CPUX86State *env);

/* Translator entry points (translate-x87.c, translate-sse.c). */
struct DisasContext;
void x86_translate_fpu(struct DisasContext *s);      /* any FPU/MMX/SSE mnemonic */
void x86_translate_sse(struct DisasContext *s);
void x86_translate_xsave(struct DisasContext *s);    /* FXSAVE ... LDMXCSR/STMXCSR */
/* Inline IR for hot integer operations (translate-sse-ir.c); false: use the helper.
 * d, s: env offsets of the operands; width 8 (MMX) or 16. */
/* FSW.ES set: #MF / FERR# (waiting x87 and all MMX instructions). */
void gen_x87_check_pending(void);
bool gen_sse_ir(unsigned op, int64_t d, int64_t s, unsigned width, uint32_t imm);
bool gen_sse_ir_scalar_fp(unsigned op, int64_t d, int64_t s, uint32_t imm);
TCGv gen_sse_ir_fp_compare(unsigned op, int64_t d, int64_t s);
bool gen_sse_ir_cvt_from_int(unsigned op, int64_t d, int64_t s, uint32_t imm);
TCGv gen_sse_ir_cvt_to_int(unsigned op, int64_t d, int64_t s, uint32_t imm);
bool gen_sse_ir_shift_imm(unsigned op, int64_t d, unsigned width, unsigned count);
TCGv gen_sse_ir_pmovmskb(int64_t s, unsigned width);
TCGv gen_sse_ir_pcmpistri(int64_t d, int64_t s, uint32_t imm, int64_t r);

#endif
