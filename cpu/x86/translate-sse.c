/* MMX and SSE..SSE4.2 to IR. A table keyed by opcode map, opcode and the
 * mandatory prefix (none, 66, F3, F2) says how the operands are found; moves
 * and bitwise logic are IR (128-bit registers as two 64-bit halves in env),
 * the hot integer operations inline IR or one host instruction
 * (translate-sse-ir.c), everything else one call of helper_sse() on
 * pointers into env (memory operands are first loaded into
 * env->simd_scratch[0]). */
#include "cpu/x86/simd.h"
#include "cpu/x86/translate.h"

enum {
    K_NONE,        /* #UD */
    K_OP,          /* reg = op(reg, rm) */
    K_OP_GPRSRC,   /* reg = op(reg, GPR/memory value) (cvtsi2ss, pinsr*) */
    K_OP_GPRDST,   /* GPR reg = op(rm) (cvtss2si, movmskps, pmovmskb, pextrw) */
    K_OP_EXTRACT,  /* GPR/memory rm = op(reg) (pextr*, extractps) */
    K_OP_FLAGS,    /* EFLAGS = op(reg, rm) (comiss, ptest, pcmpXstrX) */
    K_LOGIC,       /* pand/por/pxor/pandn & the ps/pd forms, in IR */
    K_LOAD,        /* reg = rm, whole register */
    K_STORE,       /* rm = reg, whole register */
    K_LOAD_SCALAR, /* movss/movsd/movq loads: memory zero-extends, register merges */
    K_STORE_SCALAR,
    K_MOVLPS,      /* low qword from memory; register form MOVHLPS */
    K_MOVHPS,      /* high qword from memory; register form MOVLHPS */
    K_STORE_LOW,   /* movlps/movlpd m64 = low qword */
    K_STORE_HIGH,  /* movhps/movhpd m64 = high qword */
    K_MOVD_LOAD,   /* mm/xmm = Ey zero-extended */
    K_MOVD_STORE,  /* Ey = low dword/qword of mm/xmm */
    K_MOVQ_STORE,  /* 66 0F D6: xmm/m64 = low qword, register form zeroes the high half */
    K_MOVQ2DQ,
    K_MOVDQ2Q,
    K_MOVNTI,
    K_SHIFT_IMM,   /* 0F 71..73 groups */
    K_EMMS,
    K_MASKMOV,
};

/* flags */
#define SF_MMX       0x01   /* operands are MMX registers (width 8) */
#define SF_UNALIGNED 0x02   /* a 16-byte memory operand needs no alignment */
#define SF_ALIGN     0x04   /* moves: 16-byte memory operand must be aligned */
#define SF_MMXSRC    0x08   /* XMM destination, MMX register source (cvtpi2ps/pd) */
#define SF_MMXDST    0x10   /* MMX destination, XMM source (cvtps2pi & co.) */
#define SF_REGONLY   0x20
#define SF_MEMONLY   0x40
#define SF_REXW_IMM  0x80   /* REX.W goes to the helper as imm bit 0 (or bit 8 with an imm8) */

typedef struct SseEntry {
    uint8_t kind;
    uint8_t msize;     /* memory operand size (0: the vector width) */
    uint8_t flags;
    uint16_t op;       /* SseOp, for the helper kinds */
} SseEntry;

#define ENT(k, m, f, o) { K_##k, m, f, SSE_##o }
#define X(o) ENT(OP, 0, 0, o)
#define XU(o) ENT(OP, 0, SF_UNALIGNED, o)
#define XS(o, m) ENT(OP, m, 0, o)
#define M(o) ENT(OP, 0, SF_MMX, o)
#define PI(o) { M(o), X(o) }
#define FP4(o) { X(o##ps), X(o##pd), XS(o##ss, 4), XS(o##sd, 8) }
#define LOGIC(o) ENT(LOGIC, 0, 0, o)
#define LOAD(f) { K_LOAD, 0, f, 0 }
#define STORE(f) { K_STORE, 0, f, 0 }
#define NONE { K_NONE, 0, 0, 0 }
#define SPEC(k, m, f) { K_##k, m, f, 0 }

static const SseEntry map1_tab[256][4] = {
    [0x10] = { LOAD(0), LOAD(0), SPEC(LOAD_SCALAR, 4, 0), SPEC(LOAD_SCALAR, 8, 0) },
    [0x11] = { STORE(0), STORE(0), SPEC(STORE_SCALAR, 4, 0), SPEC(STORE_SCALAR, 8, 0) },
    [0x12] = { SPEC(MOVLPS, 8, 0), SPEC(MOVLPS, 8, SF_MEMONLY), X(movsldup), ENT(OP, 8, 0, movddup) },
    [0x13] = { SPEC(STORE_LOW, 8, SF_MEMONLY), SPEC(STORE_LOW, 8, SF_MEMONLY) },
    [0x14] = { X(punpckldq), X(punpcklqdq) },
    [0x15] = { X(punpckhdq), X(punpckhqdq) },
    [0x16] = { SPEC(MOVHPS, 8, 0), SPEC(MOVHPS, 8, SF_MEMONLY), X(movshdup) },
    [0x17] = { SPEC(STORE_HIGH, 8, SF_MEMONLY), SPEC(STORE_HIGH, 8, SF_MEMONLY) },
    [0x28] = { LOAD(SF_ALIGN), LOAD(SF_ALIGN) },
    [0x29] = { STORE(SF_ALIGN), STORE(SF_ALIGN) },
    [0x2a] = { ENT(OP, 8, SF_MMXSRC, cvtpi2ps), ENT(OP, 8, SF_MMXSRC, cvtpi2pd),
               ENT(OP_GPRSRC, 0, SF_REXW_IMM, cvtsi2ss), ENT(OP_GPRSRC, 0, SF_REXW_IMM, cvtsi2sd) },
    [0x2b] = { STORE(SF_ALIGN | SF_MEMONLY), STORE(SF_ALIGN | SF_MEMONLY) },
    [0x2c] = { ENT(OP, 8, SF_MMXDST, cvttps2pi), ENT(OP, 0, SF_MMXDST, cvttpd2pi),
               ENT(OP_GPRDST, 4, SF_REXW_IMM, cvttss2si), ENT(OP_GPRDST, 8, SF_REXW_IMM, cvttsd2si) },
    [0x2d] = { ENT(OP, 8, SF_MMXDST, cvtps2pi), ENT(OP, 0, SF_MMXDST, cvtpd2pi),
               ENT(OP_GPRDST, 4, SF_REXW_IMM, cvtss2si), ENT(OP_GPRDST, 8, SF_REXW_IMM, cvtsd2si) },
    [0x2e] = { ENT(OP_FLAGS, 4, 0, ucomiss), ENT(OP_FLAGS, 8, 0, ucomisd) },
    [0x2f] = { ENT(OP_FLAGS, 4, 0, comiss), ENT(OP_FLAGS, 8, 0, comisd) },
    [0x50] = { ENT(OP_GPRDST, 0, SF_REGONLY, movmskps), ENT(OP_GPRDST, 0, SF_REGONLY, movmskpd) },
    [0x51] = FP4(sqrt),
    [0x52] = { X(rsqrtps), NONE, XS(rsqrtss, 4) },
    [0x53] = { X(rcpps), NONE, XS(rcpss, 4) },
    [0x54] = { LOGIC(pand), LOGIC(pand) },
    [0x55] = { LOGIC(pandn), LOGIC(pandn) },
    [0x56] = { LOGIC(por), LOGIC(por) },
    [0x57] = { LOGIC(pxor), LOGIC(pxor) },
    [0x58] = FP4(add),
    [0x59] = FP4(mul),
    [0x5a] = { ENT(OP, 8, 0, cvtps2pd), X(cvtpd2ps), XS(cvtss2sd, 4), XS(cvtsd2ss, 8) },
    [0x5b] = { X(cvtdq2ps), X(cvtps2dq), X(cvttps2dq) },
    [0x5c] = FP4(sub),
    [0x5d] = FP4(min),
    [0x5e] = FP4(div),
    [0x5f] = FP4(max),
    [0x60] = { ENT(OP, 4, SF_MMX, punpcklbw), X(punpcklbw) },
    [0x61] = { ENT(OP, 4, SF_MMX, punpcklwd), X(punpcklwd) },
    [0x62] = { ENT(OP, 4, SF_MMX, punpckldq), X(punpckldq) },
    [0x63] = PI(packsswb), [0x64] = PI(pcmpgtb), [0x65] = PI(pcmpgtw), [0x66] = PI(pcmpgtd),
    [0x67] = PI(packuswb), [0x68] = PI(punpckhbw), [0x69] = PI(punpckhwd), [0x6a] = PI(punpckhdq),
    [0x6b] = PI(packssdw),
    [0x6c] = { NONE, X(punpcklqdq) },
    [0x6d] = { NONE, X(punpckhqdq) },
    [0x6e] = { SPEC(MOVD_LOAD, 0, SF_MMX), SPEC(MOVD_LOAD, 0, 0) },
    [0x6f] = { LOAD(SF_MMX), LOAD(SF_ALIGN), LOAD(0) },
    [0x70] = { ENT(OP, 0, SF_MMX, pshufw), X(pshufd), X(pshufhw), X(pshuflw) },
    [0x71] = { SPEC(SHIFT_IMM, 0, SF_MMX | SF_REGONLY), SPEC(SHIFT_IMM, 0, SF_REGONLY) },
    [0x72] = { SPEC(SHIFT_IMM, 0, SF_MMX | SF_REGONLY), SPEC(SHIFT_IMM, 0, SF_REGONLY) },
    [0x73] = { SPEC(SHIFT_IMM, 0, SF_MMX | SF_REGONLY), SPEC(SHIFT_IMM, 0, SF_REGONLY) },
    [0x74] = PI(pcmpeqb), [0x75] = PI(pcmpeqw), [0x76] = PI(pcmpeqd),
    [0x77] = { SPEC(EMMS, 0, 0) },
    [0x7c] = { NONE, X(haddpd), NONE, X(haddps) },
    [0x7d] = { NONE, X(hsubpd), NONE, X(hsubps) },
    [0x7e] = { SPEC(MOVD_STORE, 0, SF_MMX), SPEC(MOVD_STORE, 0, 0), SPEC(LOAD_SCALAR, 8, 0) },
    [0x7f] = { STORE(SF_MMX), STORE(SF_ALIGN), STORE(0) },
    [0xc2] = { X(cmpps), X(cmppd), XS(cmpss, 4), XS(cmpsd, 8) },
    [0xc3] = { SPEC(MOVNTI, 0, SF_MEMONLY) },
    [0xc4] = { ENT(OP_GPRSRC, 2, SF_MMX, pinsrw), ENT(OP_GPRSRC, 2, 0, pinsrw) },
    [0xc5] = { ENT(OP_GPRDST, 0, SF_MMX | SF_REGONLY, pextrw), ENT(OP_GPRDST, 0, SF_REGONLY, pextrw) },
    [0xc6] = { X(shufps), X(shufpd) },
    [0xd0] = { NONE, X(addsubpd), NONE, X(addsubps) },
    [0xd1] = PI(psrlw), [0xd2] = PI(psrld), [0xd3] = PI(psrlq), [0xd4] = PI(paddq),
    [0xd5] = PI(pmullw),
    [0xd6] = { NONE, SPEC(MOVQ_STORE, 8, 0), SPEC(MOVQ2DQ, 0, SF_REGONLY), SPEC(MOVDQ2Q, 0, SF_REGONLY) },
    [0xd7] = { ENT(OP_GPRDST, 0, SF_MMX | SF_REGONLY, pmovmskb), ENT(OP_GPRDST, 0, SF_REGONLY, pmovmskb) },
    [0xd8] = PI(psubusb), [0xd9] = PI(psubusw), [0xda] = PI(pminub),
    [0xdb] = { ENT(LOGIC, 0, SF_MMX, pand), LOGIC(pand) },
    [0xdc] = PI(paddusb), [0xdd] = PI(paddusw), [0xde] = PI(pmaxub),
    [0xdf] = { ENT(LOGIC, 0, SF_MMX, pandn), LOGIC(pandn) },
    [0xe0] = PI(pavgb), [0xe1] = PI(psraw), [0xe2] = PI(psrad), [0xe3] = PI(pavgw),
    [0xe4] = PI(pmulhuw), [0xe5] = PI(pmulhw),
    [0xe6] = { NONE, X(cvttpd2dq), ENT(OP, 8, 0, cvtdq2pd), X(cvtpd2dq) },
    [0xe7] = { STORE(SF_MMX | SF_MEMONLY), STORE(SF_ALIGN | SF_MEMONLY) },
    [0xe8] = PI(psubsb), [0xe9] = PI(psubsw), [0xea] = PI(pminsw),
    [0xeb] = { ENT(LOGIC, 0, SF_MMX, por), LOGIC(por) },
    [0xec] = PI(paddsb), [0xed] = PI(paddsw), [0xee] = PI(pmaxsw),
    [0xef] = { ENT(LOGIC, 0, SF_MMX, pxor), LOGIC(pxor) },
    [0xf0] = { NONE, NONE, NONE, LOAD(SF_MEMONLY) },
    [0xf1] = PI(psllw), [0xf2] = PI(pslld), [0xf3] = PI(psllq), [0xf4] = PI(pmuludq),
    [0xf5] = PI(pmaddwd), [0xf6] = PI(psadbw),
    [0xf7] = { SPEC(MASKMOV, 0, SF_MMX | SF_REGONLY), SPEC(MASKMOV, 0, SF_REGONLY) },
    [0xf8] = PI(psubb), [0xf9] = PI(psubw), [0xfa] = PI(psubd), [0xfb] = PI(psubq),
    [0xfc] = PI(paddb), [0xfd] = PI(paddw), [0xfe] = PI(paddd),
};

#define X66(o) { NONE, X(o) }
#define X66S(o, m) { NONE, XS(o, m) }
static const SseEntry map2_tab[256][4] = {
    [0x00] = PI(pshufb), [0x01] = PI(phaddw), [0x02] = PI(phaddd), [0x03] = PI(phaddsw),
    [0x04] = PI(pmaddubsw), [0x05] = PI(phsubw), [0x06] = PI(phsubd), [0x07] = PI(phsubsw),
    [0x08] = PI(psignb), [0x09] = PI(psignw), [0x0a] = PI(psignd), [0x0b] = PI(pmulhrsw),
    [0x10] = X66(pblendvb), [0x14] = X66(blendvps), [0x15] = X66(blendvpd),
    [0x17] = { NONE, ENT(OP_FLAGS, 0, 0, ptest) },
    [0x1c] = PI(pabsb), [0x1d] = PI(pabsw), [0x1e] = PI(pabsd),
    [0x20] = X66S(pmovsxbw, 8), [0x21] = X66S(pmovsxbd, 4), [0x22] = X66S(pmovsxbq, 2),
    [0x23] = X66S(pmovsxwd, 8), [0x24] = X66S(pmovsxwq, 4), [0x25] = X66S(pmovsxdq, 8),
    [0x28] = X66(pmuldq), [0x29] = X66(pcmpeqq),
    [0x2a] = { NONE, LOAD(SF_ALIGN | SF_MEMONLY) },
    [0x2b] = X66(packusdw),
    [0x30] = X66S(pmovzxbw, 8), [0x31] = X66S(pmovzxbd, 4), [0x32] = X66S(pmovzxbq, 2),
    [0x33] = X66S(pmovzxwd, 8), [0x34] = X66S(pmovzxwq, 4), [0x35] = X66S(pmovzxdq, 8),
    [0x37] = X66(pcmpgtq),
    [0x38] = X66(pminsb), [0x39] = X66(pminsd), [0x3a] = X66(pminuw), [0x3b] = X66(pminud),
    [0x3c] = X66(pmaxsb), [0x3d] = X66(pmaxsd), [0x3e] = X66(pmaxuw), [0x3f] = X66(pmaxud),
    [0x40] = X66(pmulld), [0x41] = X66(phminposuw),
};

static const SseEntry map3_tab[256][4] = {
    [0x08] = X66(roundps), [0x09] = X66(roundpd), [0x0a] = X66S(roundss, 4), [0x0b] = X66S(roundsd, 8),
    [0x0c] = X66(blendps), [0x0d] = X66(blendpd), [0x0e] = X66(pblendw),
    [0x0f] = PI(palignr),
    [0x14] = { NONE, ENT(OP_EXTRACT, 1, 0, pextrb) },
    [0x15] = { NONE, ENT(OP_EXTRACT, 2, 0, pextrw) },
    [0x16] = { NONE, ENT(OP_EXTRACT, 4, SF_REXW_IMM, pextrd) },
    [0x17] = { NONE, ENT(OP_EXTRACT, 4, 0, extractps) },
    [0x20] = { NONE, ENT(OP_GPRSRC, 1, 0, pinsrb) },
    [0x21] = { NONE, ENT(OP, 4, 0, insertps) },
    [0x22] = { NONE, ENT(OP_GPRSRC, 4, SF_REXW_IMM, pinsrd) },
    [0x40] = X66(dpps), [0x41] = X66(dppd), [0x42] = X66(mpsadbw),
    [0x60] = { NONE, ENT(OP_FLAGS, 0, SF_UNALIGNED | SF_REXW_IMM, pcmpestrm) },
    [0x61] = { NONE, ENT(OP_FLAGS, 0, SF_UNALIGNED | SF_REXW_IMM, pcmpestri) },
    [0x62] = { NONE, ENT(OP_FLAGS, 0, SF_UNALIGNED, pcmpistrm) },
    [0x63] = { NONE, ENT(OP_FLAGS, 0, SF_UNALIGNED, pcmpistri) },
};

/* ---- operand locations in env ---------------------------------------------------- */
static int64_t xmm_off(int r) { return ENV_OFF(xmm) + (int64_t)sizeof(XMMReg) * r; }
static int64_t mmx_off(int r) { return ENV_OFF(fpregs) + (int64_t)sizeof(Float80) * (r & 7); }
static int64_t scratch_off(int k) { return ENV_OFF(simd_scratch) + (int64_t)sizeof(XMMReg) * k; }

static TCGv env_ptr(int64_t off)
{
    TCGv p = tcg_temp_new();
    tcg_gen_addi(p, tcg_env, off);
    return p;
}

/* An MMX instruction: pending x87 exceptions first, then TOP = 0 and all
 * registers valid. */
static void gen_mmx_enter(void)
{
    gen_x87_check_pending();
    gen_env_st(tcg_const(0), ENV_OFF(fpstt), MO_32);
    gen_env_st(tcg_const(0), ENV_OFF(fptags), MO_8);
}

/* A write to an MMX register sets its exponent word to all ones. */
static void gen_mmx_written(int r)
{
    gen_env_st(tcg_const(0xffff), mmx_off(r) + (int64_t)offsetof(Float80, sexp), MO_16);
}

/* #GP(0) unless addr is 16-byte aligned. Returns the address to use after the
 * check (a local temp: it crosses the label). */
static TCGv gen_check_align16(DisasContext *s, TCGv addr)
{
    TCGv a = tcg_temp_local_new(), t = tcg_temp_new();
    int ok = gen_new_label();
    tcg_gen_mov(a, addr);
    tcg_gen_andi(t, a, 15);
    tcg_gen_brcondi(TCG_COND_EQ, 0, t, 0, ok);
    gen_helper(helper_sse_misaligned, TCG_NO_TEMP, 1, tcg_env);
    tcg_gen_set_label(ok);
    if (addr == s->ss_linear)
        s->ss_linear = a;
    return a;
}

/* Load size bytes (16, 8, 4, 2, 1) of the memory operand into env at off. */
static void gen_load_mem(DisasContext *s, int64_t off, unsigned size, bool align)
{
    gen_lea_addr(s);
    bool align16 = align && size == 16;
    TCGv addr = size <= 8 ? s->A0 : align16 ? gen_checked_linear_align16(s, s->A0, size, false)
                                            : gen_checked_linear(s, s->A0, size, false);
    if (align16)
        addr = gen_check_align16(s, addr);
    if (size == 16) {
        TCGv lo = gen_ld(s, addr, 8);
        TCGv hi = gen_ld(s, gen_addr_offset(s, addr, 8), 8);
        gen_env_st(lo, off, MO_64);
        gen_env_st(hi, off + 8, MO_64);
    } else {
        gen_env_st(gen_ld(s, addr, size), off, size_log2(size));
    }
}

static void gen_store_mem(DisasContext *s, int64_t off, unsigned size, bool align)
{
    gen_lea_addr(s);
    bool align16 = align && size == 16;
    TCGv addr = size <= 8 ? s->A0 : align16 ? gen_checked_linear_align16(s, s->A0, size, true)
                                            : gen_checked_linear(s, s->A0, size, true);
    if (align16)
        addr = gen_check_align16(s, addr);
    if (size == 16) {
        /* Both halves are read before either is stored. */
        TCGv lo = gen_env_ld(off, MO_64), hi = gen_env_ld(off + 8, MO_64);
        gen_st(s, addr, lo, 8);
        gen_st(s, gen_addr_offset(s, addr, 8), hi, 8);
    } else {
        gen_st(s, addr, gen_env_ld(off, size_log2(size)), size);
    }
}

static void gen_copy(int64_t dst, int64_t src, unsigned size)
{
    for (unsigned i = 0; i < size; i += 8)
        gen_env_st(gen_env_ld(src + i, MO_64), dst + i, MO_64);
}

static void gen_zero(int64_t dst, unsigned size)
{
    TCGv z = tcg_const(0);
    for (unsigned i = 0; i < size; i += 8)
        gen_env_st(z, dst + i, MO_64);
}

typedef struct SseOperands {
    int64_t d, s;      /* env offsets of the destination (reg) and source (rm) */
    unsigned width;    /* 8 or 16 */
    bool mmx_reg, mmx_rm;
} SseOperands;

static void find_operands(DisasContext *s, const SseEntry *e, SseOperands *o)
{
    bool mmx = e->flags & SF_MMX;
    o->mmx_reg = mmx || (e->flags & SF_MMXDST);
    o->mmx_rm = mmx || (e->flags & SF_MMXSRC);
    o->width = o->mmx_reg ? 8 : 16;
    o->d = o->mmx_reg ? mmx_off(s->d.reg) : xmm_off(s->d.reg);
    if (s->d.mod == 3)
        o->s = o->mmx_rm ? mmx_off(s->d.rm) : xmm_off(s->d.rm);
    else
        o->s = scratch_off(0);
}

/* The memory size of the source operand. */
static unsigned src_mem_size(const SseEntry *e, const SseOperands *o)
{
    if (e->msize)
        return e->msize;
    return (e->flags & SF_MMXSRC) ? 8 : (e->flags & SF_MMXDST) ? 16 : o->width;
}

static void gen_source(DisasContext *s, const SseEntry *e, const SseOperands *o)
{
    if (s->d.mod != 3) {
        unsigned size = src_mem_size(e, o);
        gen_load_mem(s, o->s, size, size == 16 && !(e->flags & SF_UNALIGNED));
    }
}

static uint32_t helper_imm(DisasContext *s, const SseEntry *e)
{
    uint32_t imm = (uint32_t)(s->d.imm & 0xff);
    if (e->flags & SF_REXW_IMM) {
        bool w = s->d.rex & 8;
        if (s->d.map == 3)
            imm |= w ? 0x100 : 0;
        else
            imm = w;
    }
    return imm;
}

static TCGv gen_call_op(DisasContext *s, const SseEntry *e, int64_t d, int64_t src, unsigned width,
                        uint32_t imm)
{
    (void)s;
    TCGv ret = tcg_temp_new();
    gen_helper(helper_sse, ret, 4, tcg_env, env_ptr(d), env_ptr(src),
               tcg_const(SSE_DESC(e->op, width, imm)));
    return ret;
}

/* Idioms on one register (PXOR x, x and co.): the result does not depend
 * on the value. Returns the constant for the operation, or false. */
static bool same_register_idiom(const DisasContext *s, const SseEntry *e, uint64_t *value)
{
    if (s->d.mod != 3 || s->d.reg != s->d.rm)
        return false;
    switch (e->op) {
    case SSE_pxor: case SSE_pandn: case SSE_psubb: case SSE_psubw: case SSE_psubd: case SSE_psubq:
        *value = 0;
        return true;
    case SSE_pcmpeqb: case SSE_pcmpeqw: case SSE_pcmpeqd: case SSE_pcmpeqq:
        *value = ~0ULL;
        return true;
    default:
        return false;
    }
}

static bool gen_same_register_idiom(DisasContext *s, const SseEntry *e, const SseOperands *o)
{
    uint64_t v;
    if ((e->flags & (SF_MMXSRC | SF_MMXDST)) || !same_register_idiom(s, e, &v))
        return false;
    TCGv c = tcg_const(v);
    for (unsigned i = 0; i < o->width; i += 8)
        gen_env_st(c, o->d + i, MO_64);
    if (o->mmx_reg)
        gen_mmx_written(s->d.reg);
    return true;
}

static void trans_op(DisasContext *s, const SseEntry *e)
{
    SseOperands o;
    find_operands(s, e, &o);
    if (gen_same_register_idiom(s, e, &o))
        return;
    gen_source(s, e, &o);
    uint32_t imm = helper_imm(s, e);
    if (e->op == SSE_insertps && s->d.mod != 3)
        imm |= 0x100;
    if (!(o.mmx_reg ^ o.mmx_rm) && (gen_sse_ir_scalar_fp(e->op, o.d, o.s, imm) ||
                                    gen_sse_ir(e->op, o.d, o.s, o.width, imm)))
        ;   /* inline */
    else
        gen_call_op(s, e, o.d, o.s, o.width, imm);
    if (o.mmx_reg)
        gen_mmx_written(s->d.reg);
}

static void trans_op_flags(DisasContext *s, const SseEntry *e)
{
    SseOperands o;
    find_operands(s, e, &o);
    gen_source(s, e, &o);
    TCGv f = gen_sse_ir_fp_compare(e->op, o.d, o.s);
    if (f == TCG_NO_TEMP && e->op == SSE_pcmpistri)
        f = gen_sse_ir_pcmpistri(o.d, o.s, helper_imm(s, e), scratch_off(1));
    if (f == TCG_NO_TEMP)
        f = gen_call_op(s, e, o.d, o.s, o.width, helper_imm(s, e));
    if (e->op == SSE_pcmpistri || e->op == SSE_pcmpestri) {
        /* ECX = the index, from the result's high half */
        TCGv idx = tcg_temp_new();
        tcg_gen_shri(idx, f, 32);
        gen_reg_store(s, R_ECX, 4, idx);
    }
    gen_set_eflags_cc(s, f);
}

/* cvtsi2ss & co., pinsr*: the integer operand goes to scratch[0]. */
static void trans_op_gprsrc(DisasContext *s, const SseEntry *e)
{
    SseOperands o;
    find_operands(s, e, &o);
    unsigned size = e->msize ? e->msize : 4;
    if ((e->flags & SF_REXW_IMM) && (s->d.rex & 8))
        size = 8;
    TCGv v;
    if (s->d.mod == 3) {
        v = gen_reg_load(s, s->d.rm, size == 8 ? 8 : 4);
    } else {
        gen_lea_addr(s);
        v = gen_ld(s, s->A0, size);
    }
    gen_env_st(v, scratch_off(0), MO_64);
    const SseEntry q = { K_OP_GPRSRC, 8, 0, SSE_pinsrq };
    if (e->op == SSE_pinsrd && size == 8)
        e = &q;
    if (o.mmx_reg || !gen_sse_ir_cvt_from_int(e->op, o.d, scratch_off(0), helper_imm(s, e)))
        gen_call_op(s, e, o.d, scratch_off(0), o.width, helper_imm(s, e));
    if (o.mmx_reg)
        gen_mmx_written(s->d.reg);
}

/* Result to the GPR named by ModRM.reg. */
static void trans_op_gprdst(DisasContext *s, const SseEntry *e)
{
    bool mmx = e->flags & SF_MMX;
    int64_t src;
    if (s->d.mod == 3) {
        src = mmx ? mmx_off(s->d.rm) : xmm_off(s->d.rm);
    } else {
        src = scratch_off(0);
        gen_load_mem(s, src, e->msize ? e->msize : 16, !e->msize);
    }
    TCGv r;
    if (e->op == SSE_pmovmskb)
        r = gen_sse_ir_pmovmskb(src, mmx ? 8 : 16);
    else if (mmx || (r = gen_sse_ir_cvt_to_int(e->op, scratch_off(1), src, helper_imm(s, e))) == TCG_NO_TEMP)
        r = gen_call_op(s, e, scratch_off(1), src, mmx ? 8 : 16, helper_imm(s, e));
    gen_reg_store(s, s->d.reg, (s->d.rex & 8) && (e->flags & SF_REXW_IMM) ? 8 : 4, r);
}

/* pextr*, extractps: from xmm reg to a GPR or memory (rm). */
static void trans_op_extract(DisasContext *s, const SseEntry *e)
{
    bool w = (e->flags & SF_REXW_IMM) && (s->d.rex & 8);
    const SseEntry q = { K_OP_EXTRACT, 8, 0, SSE_pextrq };
    const SseEntry *op = w ? &q : e;
    TCGv r = gen_call_op(s, op, scratch_off(1), xmm_off(s->d.reg), 16, (uint32_t)(s->d.imm & 0xff));
    if (s->d.mod == 3) {
        gen_reg_store(s, s->d.rm, w ? 8 : 4, r);
    } else {
        gen_lea_addr(s);
        gen_st(s, s->A0, r, op->msize);
    }
}

static void trans_logic(DisasContext *s, const SseEntry *e)
{
    SseOperands o;
    find_operands(s, e, &o);
    if (gen_same_register_idiom(s, e, &o))
        return;
    gen_source(s, e, &o);
    for (unsigned i = 0; i < o.width; i += 8) {
        TCGv a = gen_env_ld(o.d + i, MO_64), b = gen_env_ld(o.s + i, MO_64), r = tcg_temp_new();
        switch (e->op) {
        case SSE_pand: tcg_gen_and(r, a, b); break;
        case SSE_pandn: tcg_gen_op2(INDEX_op_not, 0, a, a); tcg_gen_and(r, a, b); break;
        case SSE_por: tcg_gen_or(r, a, b); break;
        default: tcg_gen_xor(r, a, b); break;
        }
        gen_env_st(r, o.d + i, MO_64);
    }
    if (o.mmx_reg)
        gen_mmx_written(s->d.reg);
}

static void trans_load(DisasContext *s, const SseEntry *e)
{
    SseOperands o;
    find_operands(s, e, &o);
    if (s->d.mod == 3)
        gen_copy(o.d, o.s, o.width);
    else if (o.width == 16 && !(e->flags & SF_ALIGN))
        gen_load_mem(s, o.d, 16, false);   /* no partial write: loads come first */
    else
        gen_load_mem(s, o.d, o.width, e->flags & SF_ALIGN);
    if (o.mmx_reg)
        gen_mmx_written(s->d.reg);
}

static void trans_store(DisasContext *s, const SseEntry *e)
{
    SseOperands o;
    find_operands(s, e, &o);
    if (s->d.mod == 3) {
        gen_copy(o.s, o.d, o.width);
        if (o.mmx_reg)
            gen_mmx_written(s->d.rm);
    } else {
        gen_store_mem(s, o.d, o.width, e->flags & SF_ALIGN);
    }
}

/* movss/movsd/movq (F3 0F 7E) loads. */
static void trans_load_scalar(DisasContext *s, const SseEntry *e)
{
    int64_t d = xmm_off(s->d.reg);
    unsigned size = e->msize;
    bool movq = s->d.opcode == 0x7e;
    if (s->d.mod != 3) {
        TCGv v;
        gen_lea_addr(s);
        v = gen_ld(s, s->A0, size);
        gen_zero(d, 16);
        gen_env_st(v, d, size_log2(size));
    } else if (movq) {
        gen_env_st(gen_env_ld(xmm_off(s->d.rm), MO_64), d, MO_64);
        gen_env_st(tcg_const(0), d + 8, MO_64);
    } else {
        gen_env_st(gen_env_ld(xmm_off(s->d.rm), size_log2(size)), d, size_log2(size));
    }
}

static void trans_store_scalar(DisasContext *s, const SseEntry *e)
{
    int64_t src = xmm_off(s->d.reg);
    unsigned size = e->msize;
    if (s->d.mod == 3) {
        gen_env_st(gen_env_ld(src, size_log2(size)), xmm_off(s->d.rm), size_log2(size));
    } else {
        gen_store_mem(s, src, size, false);
    }
}

static void trans_movlps(DisasContext *s, bool high)
{
    int64_t d = xmm_off(s->d.reg);
    if (s->d.mod == 3) {
        /* MOVHLPS: low = src high; MOVLHPS: high = src low */
        int64_t src = xmm_off(s->d.rm) + (high ? 0 : 8);
        gen_env_st(gen_env_ld(src, MO_64), d + (high ? 8 : 0), MO_64);
        return;
    }
    gen_lea_addr(s);
    gen_env_st(gen_ld(s, s->A0, 8), d + (high ? 8 : 0), MO_64);
}

static void trans_store_half(DisasContext *s, bool high)
{
    gen_store_mem(s, xmm_off(s->d.reg) + (high ? 8 : 0), 8, false);
}

static void trans_movd_load(DisasContext *s, const SseEntry *e)
{
    bool mmx = e->flags & SF_MMX;
    unsigned size = (s->d.rex & 8) ? 8 : 4;
    int64_t d = mmx ? mmx_off(s->d.reg) : xmm_off(s->d.reg);
    TCGv v;
    if (s->d.mod == 3) {
        v = gen_reg_load(s, s->d.rm, size);
    } else {
        gen_lea_addr(s);
        v = gen_ld(s, s->A0, size);
    }
    gen_env_st(v, d, MO_64);
    if (mmx)
        gen_mmx_written(s->d.reg);
    else
        gen_env_st(tcg_const(0), d + 8, MO_64);
}

static void trans_movd_store(DisasContext *s, const SseEntry *e)
{
    bool mmx = e->flags & SF_MMX;
    unsigned size = (s->d.rex & 8) ? 8 : 4;
    int64_t src = mmx ? mmx_off(s->d.reg) : xmm_off(s->d.reg);
    TCGv v = gen_env_ld(src, size == 8 ? MO_64 : MO_32);
    if (s->d.mod == 3) {
        gen_reg_store(s, s->d.rm, size, v);
    } else {
        gen_lea_addr(s);
        gen_st(s, s->A0, v, size);
    }
}

static void trans_movq_store(DisasContext *s)
{
    int64_t src = xmm_off(s->d.reg);
    if (s->d.mod == 3) {
        int64_t d = xmm_off(s->d.rm);
        gen_env_st(gen_env_ld(src, MO_64), d, MO_64);
        gen_env_st(tcg_const(0), d + 8, MO_64);
    } else {
        gen_store_mem(s, src, 8, false);
    }
}

static void trans_movq2dq(DisasContext *s, bool to_xmm)
{
    if (to_xmm) {
        int64_t d = xmm_off(s->d.reg);
        gen_env_st(gen_env_ld(mmx_off(s->d.rm), MO_64), d, MO_64);
        gen_env_st(tcg_const(0), d + 8, MO_64);
    } else {
        gen_env_st(gen_env_ld(xmm_off(s->d.rm), MO_64), mmx_off(s->d.reg), MO_64);
        gen_mmx_written(s->d.reg);
    }
}

static void trans_movnti(DisasContext *s)
{
    unsigned size = (s->d.rex & 8) ? 8 : 4;
    gen_lea_addr(s);
    gen_st(s, s->A0, gen_reg_load(s, s->d.reg, size), size);
}

/* 0F 71/72/73 /r ib: shift the rm register by an immediate. */
static void trans_shift_imm(DisasContext *s, const SseEntry *e)
{
    static const uint16_t ops[3][8] = {
        [0] = { [2] = SSE_psrlw, [4] = SSE_psraw, [6] = SSE_psllw },
        [1] = { [2] = SSE_psrld, [4] = SSE_psrad, [6] = SSE_pslld },
        [2] = { [2] = SSE_psrlq, [3] = SSE_psrldq, [6] = SSE_psllq, [7] = SSE_pslldq },
    };
    bool mmx = e->flags & SF_MMX;
    unsigned reg = (s->d.modrm >> 3) & 7;
    unsigned op = ops[s->d.opcode - 0x71][reg];
    if (!op || (mmx && (op == SSE_psrldq || op == SSE_pslldq))) {
        gen_exception(s, EXCP_UD, 0, false);
        return;
    }
    int64_t d = mmx ? mmx_off(s->d.rm) : xmm_off(s->d.rm);
    gen_env_st(tcg_const(s->d.imm & 0xff), scratch_off(0), MO_64);
    SseEntry se = { K_OP, 0, 0, (uint16_t)op };
    if (!gen_sse_ir_shift_imm(op, d, mmx ? 8 : 16, s->d.imm & 0xff))
        gen_call_op(s, &se, d, scratch_off(0), mmx ? 8 : 16, 0);
    if (mmx)
        gen_mmx_written(s->d.rm);
}

static void trans_maskmov(DisasContext *s, const SseEntry *e)
{
    bool mmx = e->flags & SF_MMX;
    int seg = s->d.seg >= 0 ? s->d.seg : R_DS;
    TCGv addr = gen_linear(s, gen_reg_load(s, R_EDI, s->d.addrsize), seg);
    addr = gen_checked_linear(s, addr, mmx ? 8 : 16, true);
    int64_t v = mmx ? mmx_off(s->d.reg) : xmm_off(s->d.reg);
    int64_t m = mmx ? mmx_off(s->d.rm) : xmm_off(s->d.rm);
    gen_helper(helper_maskmov, TCG_NO_TEMP, 5, tcg_env, env_ptr(v), env_ptr(m), addr,
               tcg_const(mmx ? 8 : 16));
}

/* EMMS is an MMX instruction too: TOP = 0 as for the others (SDM vol. 3,
 * 12.2), but all registers empty. */
static void trans_emms(void)
{
    gen_x87_check_pending();
    gen_env_st(tcg_const(0), ENV_OFF(fpstt), MO_32);
    gen_env_st(tcg_const(0xff), ENV_OFF(fptags), MO_8);
}

/* The mandatory-prefix column: F2 and F3 win over 66. */
static unsigned prefix_column(const X86Decoded *d)
{
    if (d->prefix & P_REPNZ)
        return 3;
    if (d->prefix & P_REPZ)
        return 2;
    if (d->prefix & P_OPSZ)
        return 1;
    return 0;
}

static const SseEntry *lookup(const X86Decoded *d)
{
    unsigned col = prefix_column(d);
    switch (d->map) {
    case 1: return &map1_tab[d->opcode][col];
    case 2: return &map2_tab[d->opcode][col];
    case 3: return &map3_tab[d->opcode][col];
    default: return NULL;
    }
}

/* Availability: CR0.EM makes every MMX/SSE instruction #UD; SSE also needs
 * CR4.OSFXSR. (CR0.TS -> #NM was checked by the caller.) */
static bool sse_allowed(DisasContext *s, const SseEntry *e)
{
    if (s->flags & HF_EM_MASK)
        return false;
    bool mmx_only = (e->flags & SF_MMX) || e->kind == K_EMMS;
    return mmx_only || (s->flags & HF_OSFXSR_MASK);
}

void x86_translate_sse(DisasContext *s)
{
    const SseEntry *e = lookup(&s->d);
    if (!e || e->kind == K_NONE || !sse_allowed(s, e) ||
        ((e->flags & SF_REGONLY) && s->d.mod != 3) || ((e->flags & SF_MEMONLY) && s->d.mod == 3) ||
        (s->d.prefix & P_LOCK)) {
        gen_exception(s, EXCP_UD, 0, false);
        return;
    }
    /* MMX state first: its pending-exception check has a label, which
     * must come before any temp of this instruction. */
    if ((e->flags & SF_MMX) || (e->flags & SF_MMXDST) || ((e->flags & SF_MMXSRC) && s->d.mod == 3) ||
        e->kind == K_MOVQ2DQ || e->kind == K_MOVDQ2Q)
        gen_mmx_enter();
    switch (e->kind) {
    case K_OP: trans_op(s, e); break;
    case K_OP_GPRSRC: trans_op_gprsrc(s, e); break;
    case K_OP_GPRDST: trans_op_gprdst(s, e); break;
    case K_OP_EXTRACT: trans_op_extract(s, e); break;
    case K_OP_FLAGS: trans_op_flags(s, e); break;
    case K_LOGIC: trans_logic(s, e); break;
    case K_LOAD: trans_load(s, e); break;
    case K_STORE: trans_store(s, e); break;
    case K_LOAD_SCALAR: trans_load_scalar(s, e); break;
    case K_STORE_SCALAR: trans_store_scalar(s, e); break;
    case K_MOVLPS: trans_movlps(s, false); break;
    case K_MOVHPS: trans_movlps(s, true); break;
    case K_STORE_LOW: trans_store_half(s, false); break;
    case K_STORE_HIGH: trans_store_half(s, true); break;
    case K_MOVD_LOAD: trans_movd_load(s, e); break;
    case K_MOVD_STORE: trans_movd_store(s, e); break;
    case K_MOVQ_STORE: trans_movq_store(s); break;
    case K_MOVQ2DQ: trans_movq2dq(s, true); break;
    case K_MOVDQ2Q: trans_movq2dq(s, false); break;
    case K_MOVNTI: trans_movnti(s); break;
    case K_SHIFT_IMM: trans_shift_imm(s, e); break;
    case K_EMMS: trans_emms(); break;
    case K_MASKMOV: trans_maskmov(s, e); break;
    default: gen_exception(s, EXCP_UD, 0, false); break;
    }
}

/* ---- FXSAVE/FXRSTOR/XSAVE/XRSTOR/LDMXCSR/STMXCSR ------------------------------------------ */
void x86_translate_xsave(DisasContext *s)
{
    unsigned mn = s->d.mnemonic;
    bool mxcsr_op = mn == I_LDMXCSR || mn == I_STMXCSR;
    if (mxcsr_op && ((s->flags & HF_EM_MASK) || !(s->flags & HF_OSFXSR_MASK))) {
        gen_exception(s, EXCP_UD, 0, false);
        return;
    }
    if ((mn == I_FXSAVE || mn == I_FXRSTOR) && (s->flags & HF_EM_MASK)) {
        gen_exception(s, EXCP_NM, 0, false);
        return;
    }
    gen_lea_addr(s);
    TCGv desc = tcg_const(((s->d.rex & 8) ? XSAVE_DESC_REXW : 0) | (s->code64 ? XSAVE_DESC_CODE64 : 0) |
                          (gen_is_stack_addr(s, s->A0) ? XSAVE_DESC_STACK : 0));
    /* the segment limit covers the whole area: 512 bytes, plus the XSAVE
     * header (the model has no extended components) */
    bool legacy = mn == I_FXSAVE || mn == I_FXRSTOR, save = mn == I_FXSAVE || mn == I_XSAVE;
    TCGv area = mxcsr_op ? s->A0 : gen_checked_linear(s, s->A0, legacy ? 512 : 576, save);
    switch (mn) {
    case I_FXSAVE: gen_helper(helper_fxsave, TCG_NO_TEMP, 3, tcg_env, area, desc); break;
    case I_FXRSTOR: gen_helper(helper_fxrstor, TCG_NO_TEMP, 3, tcg_env, area, desc); break;
    case I_XSAVE: gen_helper(helper_xsave, TCG_NO_TEMP, 3, tcg_env, area, desc); break;
    case I_XRSTOR: gen_helper(helper_xrstor, TCG_NO_TEMP, 3, tcg_env, area, desc); break;
    case I_LDMXCSR:
        gen_helper(helper_ldmxcsr, TCG_NO_TEMP, 2, tcg_env, gen_ld(s, s->A0, 4));
        break;
    case I_STMXCSR:
        gen_st(s, s->A0, gen_env_ld(ENV_OFF(mxcsr), MO_32), 4);
        break;
    default:
        gen_exception(s, EXCP_UD, 0, false);
        break;
    }
}
