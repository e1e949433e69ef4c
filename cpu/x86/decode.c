/* x86 decoder: opcode maps as tables in the Intel manual's operand notation
 * (SDM Vol. 2, Appendix A), then a small generic parser for prefixes,
 * ModRM/SIB/displacement and immediates driven by the operand kinds. */
#include <string.h>
#include "cpu/x86/cpu.h"
#include "cpu/x86/decode.h"
#include "cpu/x86/helpers.h"

const char *const x86_mnemonic_names[I_COUNT] = {
#define X86_MN_NAME(n) #n,
    X86_MNEMONICS(X86_MN_NAME)
#undef X86_MN_NAME
};

#define E(m, a, b, c, f, x) { I_##m, { O_##a, O_##b, O_##c }, (f), (x), NULL }
#define I0(m, f) E(m, NONE, NONE, NONE, f, 0)
#define I1(m, a, f) E(m, a, NONE, NONE, f, 0)
#define I2(m, a, b, f) E(m, a, b, NONE, f, 0)
#define I3(m, a, b, c, f) E(m, a, b, c, f, 0)
#define GRP(g, f) { I_INVALID, { 0, 0, 0 }, F_MODRM | F_GROUP | (f), 0, g }
#define NOENT { I_INVALID, { 0, 0, 0 }, 0, 0, NULL }
#define SSE_ENT { I_SSE, { 0, 0, 0 }, F_MODRM, 0, NULL }
#define SSE_IB { I_SSE, { O_Ib, 0, 0 }, F_MODRM, 0, NULL }   /* with an imm8 */
#define M F_MODRM   /* flag shorthand; the memory operand kind is Mn */

/* ---- groups (indexed by ModRM.reg) ----------------------------------------- */
#define ALU_GROUP(a, b, fl) {                                                    \
    I2(ADD, a, b, M | F_LOCK | fl), I2(OR, a, b, M | F_LOCK | fl),              \
    I2(ADC, a, b, M | F_LOCK | fl), I2(SBB, a, b, M | F_LOCK | fl),             \
    I2(AND, a, b, M | F_LOCK | fl), I2(SUB, a, b, M | F_LOCK | fl),             \
    I2(XOR, a, b, M | F_LOCK | fl), I2(CMP, a, b, M | fl) }
static const X86OpEntry grp1_EbIb[8] = ALU_GROUP(Eb, Ib, F_BYTE);
static const X86OpEntry grp1_EvIz[8] = ALU_GROUP(Ev, Iz, 0);
static const X86OpEntry grp1_EvIbs[8] = ALU_GROUP(Ev, Ibs, 0);

static const X86OpEntry grp1a[8] = { I1(POP, Ev, M | F_D64), NOENT, NOENT, NOENT, NOENT, NOENT, NOENT, NOENT };

#define SHIFT_GROUP(a, b, fl) {                                                  \
    I2(ROL, a, b, M | fl), I2(ROR, a, b, M | fl), I2(RCL, a, b, M | fl),        \
    I2(RCR, a, b, M | fl), I2(SHL, a, b, M | fl), I2(SHR, a, b, M | fl),        \
    I2(SHL, a, b, M | fl), I2(SAR, a, b, M | fl) }
static const X86OpEntry grp2_EbIb[8] = SHIFT_GROUP(Eb, Ib, F_BYTE);
static const X86OpEntry grp2_EvIb[8] = SHIFT_GROUP(Ev, Ib, 0);
static const X86OpEntry grp2_Eb1[8] = SHIFT_GROUP(Eb, ONE, F_BYTE);
static const X86OpEntry grp2_Ev1[8] = SHIFT_GROUP(Ev, ONE, 0);
static const X86OpEntry grp2_EbCL[8] = SHIFT_GROUP(Eb, CL, F_BYTE);
static const X86OpEntry grp2_EvCL[8] = SHIFT_GROUP(Ev, CL, 0);

static const X86OpEntry grp3_Eb[8] = {
    I2(TEST, Eb, Ib, M | F_BYTE), I2(TEST, Eb, Ib, M | F_BYTE),
    I1(NOT, Eb, M | F_LOCK | F_BYTE), I1(NEG, Eb, M | F_LOCK | F_BYTE),
    I1(MUL, Eb, M | F_BYTE), I1(IMUL1, Eb, M | F_BYTE),
    I1(DIV, Eb, M | F_BYTE), I1(IDIV, Eb, M | F_BYTE),
};
static const X86OpEntry grp3_Ev[8] = {
    I2(TEST, Ev, Iz, M), I2(TEST, Ev, Iz, M),
    I1(NOT, Ev, M | F_LOCK), I1(NEG, Ev, M | F_LOCK),
    I1(MUL, Ev, M), I1(IMUL1, Ev, M), I1(DIV, Ev, M), I1(IDIV, Ev, M),
};
static const X86OpEntry grp4[8] = {
    I1(INC, Eb, M | F_LOCK | F_BYTE), I1(DEC, Eb, M | F_LOCK | F_BYTE),
    NOENT, NOENT, NOENT, NOENT, NOENT, NOENT,
};
static const X86OpEntry grp5[8] = {
    I1(INC, Ev, M | F_LOCK), I1(DEC, Ev, M | F_LOCK),
    I1(CALL, Ev, M | F_F64), I1(CALLF, Mp, M | F_MEMONLY),
    I1(JMP, Ev, M | F_F64), I1(JMPF, Mp, M | F_MEMONLY),
    I1(PUSH, Ev, M | F_D64), NOENT,
};
static const X86OpEntry grp11_Eb[8] = { I2(MOV, Eb, Ib, M | F_BYTE), NOENT, NOENT, NOENT, NOENT, NOENT, NOENT, NOENT };
static const X86OpEntry grp11_Ev[8] = { I2(MOV, Ev, Iz, M), NOENT, NOENT, NOENT, NOENT, NOENT, NOENT, NOENT };

static const X86OpEntry grp6[8] = {
    I1(SLDT, Ev, M), I1(STR, Ev, M), I1(LLDT, Ew, M), I1(LTR, Ew, M),
    I1(VERR, Ew, M), I1(VERW, Ew, M), NOENT, NOENT,
};
/* 0F 01 with a memory operand; the register forms are in grp7_reg below. */
static const X86OpEntry grp7[8] = {
    I1(SGDT, Mn, M | F_MEMONLY), I1(SIDT, Mn, M | F_MEMONLY),
    I1(LGDT, Mn, M | F_MEMONLY), I1(LIDT, Mn, M | F_MEMONLY),
    I1(SMSW, Ev, M), NOENT, I1(LMSW, Ew, M), I1(INVLPG, Mn, M | F_MEMONLY),
};
static const X86OpEntry grp8[8] = {
    NOENT, NOENT, NOENT, NOENT,
    I2(BT, Ev, Ib, M), I2(BTS, Ev, Ib, M | F_LOCK),
    I2(BTR, Ev, Ib, M | F_LOCK), I2(BTC, Ev, Ib, M | F_LOCK),
};
static const X86OpEntry grp9[8] = {
    NOENT, I1(CMPXCHG8B, Mn, M | F_MEMONLY | F_LOCK), NOENT, NOENT, NOENT, NOENT,
    I1(RDRAND, Rv, M | F_REGONLY),
    I1(RDPID, Rv, M | F_REGONLY),   /* F3 only (without it RDSEED: not modelled) */
};
static const X86OpEntry grp15[8] = {
    I1(FXSAVE, Mn, M | F_MEMONLY), I1(FXRSTOR, Mn, M | F_MEMONLY),
    I1(LDMXCSR, Mn, M | F_MEMONLY), I1(STMXCSR, Mn, M | F_MEMONLY),
    I1(XSAVE, Mn, M | F_MEMONLY), I1(XRSTOR, Mn, M | F_MEMONLY),
    E(XSAVE, Mn, NONE, NONE, M | F_MEMONLY, 1),     /* aux 1: XSAVEOPT, saved as XSAVE does */
    I1(CLFLUSH, Mn, M | F_MEMONLY),
};
static const X86OpEntry grp15_reg[8] = {
    I1(RDFSBASE, Rv, M), I1(RDFSBASE, Rv, M), I1(RDFSBASE, Rv, M), I1(RDFSBASE, Rv, M),
    NOENT, E(FENCE, NONE, NONE, NONE, M, 0), E(FENCE, NONE, NONE, NONE, M, 1),
    E(FENCE, NONE, NONE, NONE, M, 2),
};

/* 66 0F AE /6 and /7 with a memory operand are CLWB and CLFLUSHOPT (not
 * XSAVEOPT and CLFLUSH): flushes like CLFLUSH when advertised, else #UD. */
static unsigned decode_66_0fae(const X86Decoded *d)
{
    bool clwb = ((d->modrm >> 3) & 7) == 6;
    return x86_cpu_has(clwb ? X86_FEAT_CLWB : X86_FEAT_CLFLUSHOPT) ? I_CLFLUSH : I_INVALID;
}

/* F3 0F C7 /7, register form: RDPID, r64 in 64-bit mode and r32 elsewhere
 * whatever 66 or REX.W say (as the host does). Without F3 (or with F2 after
 * it) the encoding is RDSEED, which the model does not have. */
static unsigned decode_rdpid(X86Decoded *d, bool code64)
{
    if (!(d->prefix & P_REPZ) || !x86_cpu_has(X86_FEAT_RDPID))
        return I_INVALID;
    d->opsize = code64 ? 8 : 4;
    return I_RDPID;
}

/* ---- one-byte opcode map --------------------------------------------------- */
/* CMP writes nothing: LOCK CMP is #UD */
#define ALU_ROW_L(m, lk)                                                         \
    I2(m, Eb, Gb, M | (lk) | F_BYTE), I2(m, Ev, Gv, M | (lk)),                  \
    I2(m, Gb, Eb, M | F_BYTE), I2(m, Gv, Ev, M),                                \
    I2(m, AL, Ib, F_BYTE), I2(m, rAX, Iz, 0)
#define ALU_ROW(m) ALU_ROW_L(m, F_LOCK)
#define SEGOP(m, s, f) E(m, SEG, NONE, NONE, (f), s)
#define R8(m, a, b, f) I2(m, a, b, f), I2(m, a, b, f), I2(m, a, b, f), I2(m, a, b, f), \
                       I2(m, a, b, f), I2(m, a, b, f), I2(m, a, b, f), I2(m, a, b, f)
#define CC16(m, a, f) E(m, a, NONE, NONE, f, 0), E(m, a, NONE, NONE, f, 1),       \
    E(m, a, NONE, NONE, f, 2), E(m, a, NONE, NONE, f, 3), E(m, a, NONE, NONE, f, 4), \
    E(m, a, NONE, NONE, f, 5), E(m, a, NONE, NONE, f, 6), E(m, a, NONE, NONE, f, 7), \
    E(m, a, NONE, NONE, f, 8), E(m, a, NONE, NONE, f, 9), E(m, a, NONE, NONE, f, 10), \
    E(m, a, NONE, NONE, f, 11), E(m, a, NONE, NONE, f, 12), E(m, a, NONE, NONE, f, 13), \
    E(m, a, NONE, NONE, f, 14), E(m, a, NONE, NONE, f, 15)
#define PREFIX NOENT   /* prefixes are consumed before the table is consulted */

static const X86OpEntry map1[256] = {
    /* 00 */ ALU_ROW(ADD), SEGOP(PUSH, R_ES, F_I64), SEGOP(POP, R_ES, F_I64),
    /* 08 */ ALU_ROW(OR), SEGOP(PUSH, R_CS, F_I64), NOENT,
    /* 10 */ ALU_ROW(ADC), SEGOP(PUSH, R_SS, F_I64), SEGOP(POP, R_SS, F_I64),
    /* 18 */ ALU_ROW(SBB), SEGOP(PUSH, R_DS, F_I64), SEGOP(POP, R_DS, F_I64),
    /* 20 */ ALU_ROW(AND), PREFIX, I0(DAA, F_I64),
    /* 28 */ ALU_ROW(SUB), PREFIX, I0(DAS, F_I64),
    /* 30 */ ALU_ROW(XOR), PREFIX, I0(AAA, F_I64),
    /* 38 */ ALU_ROW_L(CMP, 0), PREFIX, I0(AAS, F_I64),
    /* 40 */ R8(INC, Zv, NONE, F_I64), R8(DEC, Zv, NONE, F_I64),
    /* 50 */ R8(PUSH, Zv, NONE, F_D64), R8(POP, Zv, NONE, F_D64),
    /* 60 */ I0(PUSHA, F_I64), I0(POPA, F_I64), I2(BOUND, Gv, Mv, M | F_I64 | F_MEMONLY),
             I2(ARPL, Ew, Gw, M | F_I64),
             PREFIX, PREFIX, PREFIX, PREFIX,
    /* 68 */ I1(PUSH, Iz, F_D64), I3(IMUL3, Gv, Ev, Iz, M), I1(PUSH, Ibs, F_D64),
             I3(IMUL3, Gv, Ev, Ibs, M),
             I2(INS, Yb, DX, F_REP | F_BYTE), I2(INS, Yv, DX, F_REP),
             I2(OUTS, DX, Xb, F_REP | F_BYTE), I2(OUTS, DX, Xv, F_REP),
    /* 70 */ CC16(JCC, Jb, 0),
    /* 80 */ GRP(grp1_EbIb, F_BYTE), GRP(grp1_EvIz, 0), GRP(grp1_EbIb, F_BYTE | F_I64),
             GRP(grp1_EvIbs, 0),
             I2(TEST, Eb, Gb, M | F_BYTE), I2(TEST, Ev, Gv, M),
             I2(XCHG, Eb, Gb, M | F_LOCK | F_BYTE), I2(XCHG, Ev, Gv, M | F_LOCK),
    /* 88 */ I2(MOV, Eb, Gb, M | F_BYTE), I2(MOV, Ev, Gv, M), I2(MOV, Gb, Eb, M | F_BYTE),
             I2(MOV, Gv, Ev, M), I2(MOVSEG, Ev, Sw, M), I2(LEA, Gv, Mn, M | F_MEMONLY),
             I2(MOVSEG, Sw, Ew, M), GRP(grp1a, 0),
    /* 90 */ I2(XCHG, Zv, rAX, 0), I2(XCHG, Zv, rAX, 0), I2(XCHG, Zv, rAX, 0), I2(XCHG, Zv, rAX, 0),
             I2(XCHG, Zv, rAX, 0), I2(XCHG, Zv, rAX, 0), I2(XCHG, Zv, rAX, 0), I2(XCHG, Zv, rAX, 0),
    /* 98 */ I0(CBW, 0), I0(CWD, 0), I1(CALLF, Ap, F_I64), I0(WAIT, 0),
             I0(PUSHF, F_D64), I0(POPF, F_D64), I0(SAHF, 0), I0(LAHF, 0),
    /* A0 */ I2(MOV, AL, Ob, F_BYTE), I2(MOV, rAX, Ov, 0), I2(MOV, Ob, AL, F_BYTE),
             I2(MOV, Ov, rAX, 0),
             I2(MOVS, Yb, Xb, F_REP | F_BYTE), I2(MOVS, Yv, Xv, F_REP),
             I2(CMPS, Xb, Yb, F_REP | F_BYTE), I2(CMPS, Xv, Yv, F_REP),
    /* A8 */ I2(TEST, AL, Ib, F_BYTE), I2(TEST, rAX, Iz, 0),
             I2(STOS, Yb, AL, F_REP | F_BYTE), I2(STOS, Yv, rAX, F_REP),
             I2(LODS, AL, Xb, F_REP | F_BYTE), I2(LODS, rAX, Xv, F_REP),
             I2(SCAS, AL, Yb, F_REP | F_BYTE), I2(SCAS, rAX, Yv, F_REP),
    /* B0 */ R8(MOV, Zb, Ib, F_BYTE),
    /* B8 */ R8(MOV, Zv, Iv, 0),
    /* C0 */ GRP(grp2_EbIb, F_BYTE), GRP(grp2_EvIb, 0), I1(RET, Iw, F_F64), I0(RET, F_F64),
             I2(LES, Gz, Mp, M | F_I64 | F_MEMONLY), I2(LDS, Gz, Mp, M | F_I64 | F_MEMONLY),
             GRP(grp11_Eb, F_BYTE), GRP(grp11_Ev, 0),
    /* C8 */ I2(ENTER, Iw, Ib, F_D64), I0(LEAVE, F_D64), I1(RETF, Iw, 0), I0(RETF, 0),
             I0(INT3, 0), I1(INT, Ib, 0), I0(INTO, F_I64), I0(IRET, 0),
    /* D0 */ GRP(grp2_Eb1, F_BYTE), GRP(grp2_Ev1, 0), GRP(grp2_EbCL, F_BYTE), GRP(grp2_EvCL, 0),
             I1(AAM, Ib, F_I64), I1(AAD, Ib, F_I64), I0(SALC, F_I64), I0(XLAT, F_BYTE),
    /* D8 */ I0(FPU, M), I0(FPU, M), I0(FPU, M), I0(FPU, M),
             I0(FPU, M), I0(FPU, M), I0(FPU, M), I0(FPU, M),
    /* E0 */ I1(LOOPNZ, Jb, F_F64), I1(LOOPZ, Jb, F_F64), I1(LOOP, Jb, F_F64), I1(JCXZ, Jb, F_F64),
             I2(IN, AL, Ib, F_BYTE), I2(IN, rAX, Ib, 0), I2(OUT, Ib, AL, F_BYTE), I2(OUT, Ib, rAX, 0),
    /* E8 */ I1(CALL, Jz, F_F64), I1(JMP, Jz, F_F64), I1(JMPF, Ap, F_I64), I1(JMP, Jb, F_F64),
             I2(IN, AL, DX, F_BYTE), I2(IN, rAX, DX, 0), I2(OUT, DX, AL, F_BYTE), I2(OUT, DX, rAX, 0),
    /* F0 */ PREFIX, I0(INT1, 0), PREFIX, PREFIX, I0(HLT, 0), I0(CMC, 0),
             GRP(grp3_Eb, F_BYTE), GRP(grp3_Ev, 0),
    /* F8 */ I0(CLC, 0), I0(STC, 0), I0(CLI, 0), I0(STI, 0), I0(CLD, 0), I0(STD, 0),
             GRP(grp4, F_BYTE), GRP(grp5, 0),
};

#define SSE8 SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT
static const X86OpEntry map2[256] = {
    /* 00 */ GRP(grp6, 0), GRP(grp7, 0), I2(LAR, Gv, Ew, M), I2(LSL, Gv, Ew, M),
             NOENT, I0(SYSCALL, 0), I0(CLTS, 0), I0(SYSRET, 0),
    /* 08 */ I0(INVD, 0), I0(WBINVD, 0), NOENT, I0(UD, 0), NOENT, I1(PREFETCH, Mn, M), NOENT, NOENT,
    /* 10 */ SSE8,
    /* 18 */ I1(PREFETCH, Ev, M), I1(NOP, Ev, M), I1(NOP, Ev, M), I1(NOP, Ev, M),
             I1(NOP, Ev, M), I1(NOP, Ev, M), I1(NOP, Ev, M), I1(NOP, Ev, M),
    /* 20 */ I2(MOVCR, Rv, Cd, M | F_F64), I2(MOVDR, Rv, Dd, M | F_F64),
             I2(MOVCR, Cd, Rv, M | F_F64), I2(MOVDR, Dd, Rv, M | F_F64), NOENT, NOENT, NOENT, NOENT,
    /* 28 */ SSE8,
    /* 30 */ I0(WRMSR, 0), I0(RDTSC, 0), I0(RDMSR, 0), I0(RDPMC, 0),
             I0(SYSENTER, 0), I0(SYSEXIT, 0), NOENT, NOENT,
    /* 38 */ NOENT, NOENT, NOENT, NOENT, NOENT, NOENT, NOENT, NOENT,
    /* 40 */ CC16(CMOV, NONE, M),
    /* 50 */ SSE8, SSE8,
    /* 60 */ SSE8, SSE8,
    /* 70 */ SSE_IB, SSE_IB, SSE_IB, SSE_IB, SSE_ENT, SSE_ENT, SSE_ENT,
             { I_SSE, { 0, 0, 0 }, 0, 0, NULL },   /* EMMS: no ModRM */
             SSE8,
    /* 80 */ CC16(JCC, Jz, F_F64),
    /* 90 */ CC16(SETCC, Eb, M | F_BYTE),
    /* A0 */ SEGOP(PUSH, R_FS, F_D64), SEGOP(POP, R_FS, F_D64), I0(CPUID, 0),
             I2(BT, Ev, Gv, M), I3(SHLD, Ev, Gv, Ib, M), I3(SHLD, Ev, Gv, CL, M), NOENT, NOENT,
    /* A8 */ SEGOP(PUSH, R_GS, F_D64), SEGOP(POP, R_GS, F_D64), I0(RSM, 0),
             I2(BTS, Ev, Gv, M | F_LOCK), I3(SHRD, Ev, Gv, Ib, M), I3(SHRD, Ev, Gv, CL, M),
             GRP(grp15, 0), I2(IMUL2, Gv, Ev, M),
    /* B0 */ I2(CMPXCHG, Eb, Gb, M | F_LOCK | F_BYTE), I2(CMPXCHG, Ev, Gv, M | F_LOCK),
             I2(LSS, Gv, Mp, M | F_MEMONLY), I2(BTR, Ev, Gv, M | F_LOCK),
             I2(LFS, Gv, Mp, M | F_MEMONLY), I2(LGS, Gv, Mp, M | F_MEMONLY),
             I2(MOVZX, Gv, Eb, M), I2(MOVZX, Gv, Ew, M),
    /* B8 */ I2(POPCNT, Gv, Ev, M), I0(UD, M), GRP(grp8, 0), I2(BTC, Ev, Gv, M | F_LOCK),
             I2(BSF, Gv, Ev, M), I2(BSR, Gv, Ev, M), I2(MOVSX, Gv, Eb, M), I2(MOVSX, Gv, Ew, M),
    /* C0 */ I2(XADD, Eb, Gb, M | F_LOCK | F_BYTE), I2(XADD, Ev, Gv, M | F_LOCK),
             SSE_IB, SSE_ENT, SSE_IB, SSE_IB, SSE_IB, GRP(grp9, 0),
    /* C8 */ R8(BSWAP, Zv, NONE, 0),
    /* D0 */ SSE8, SSE8,
    /* E0 */ SSE8, SSE8,
    /* F0 */ SSE8, SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT, SSE_ENT, I0(UD0, M),
};

static const X86OpEntry movbe_load = I2(MOVBE, Gv, Mv, M | F_MEMONLY);
static const X86OpEntry movbe_store = I2(MOVBE, Mv, Gv, M | F_MEMONLY);
static const X86OpEntry crc32_b = I2(CRC32, Gy, Eb, M);
static const X86OpEntry crc32_v = I2(CRC32, Gy, Ev, M);
/* 66 0F 38 82: the register operand is 64-bit in 64-bit mode, else 32 */
static const X86OpEntry invpcid = I2(INVPCID, Gy, Mn, M | F_MEMONLY);
static const X86OpEntry sse_entry = SSE_ENT;
static const X86OpEntry sse_imm_entry = I1(SSE, Ib, M);
static const X86OpEntry ud_entry = NOENT;

/* 0F 01 with mod == 3: (reg, rm) pairs. */
static const X86OpEntry *grp7_reg(unsigned reg, unsigned rm)
{
    static const X86OpEntry monitor = I0(MONITOR, M), mwait = I0(MWAIT, M),
        stac = I0(STAC, M), clac = I0(CLAC, M),
        xgetbv = I0(XGETBV, M), xsetbv = E(XGETBV, NONE, NONE, NONE, M, 1), swapgs = I0(SWAPGS, M | F_O64), rdtscp = I0(RDTSCP, M),
        smsw = I1(SMSW, Ev, M), lmsw = I1(LMSW, Ew, M);
    switch (reg) {
    case 1: return rm == 0 ? &monitor : rm == 1 ? &mwait : rm == 2 ? &clac : rm == 3 ? &stac : &ud_entry;
    case 2: return rm == 0 ? &xgetbv : rm == 1 ? &xsetbv : &ud_entry;   /* aux 1: XSETBV */
    case 4: return &smsw;
    case 6: return &lmsw;
    case 7: return rm == 0 ? &swapgs : rm == 1 ? &rdtscp : &ud_entry;
    default: return &ud_entry;
    }
}

/* ---- the parser ------------------------------------------------------------ */
typedef struct Cursor {
    X86Decoded *d;
    X86FetchFn fetch;
    void *opaque;
    bool fault;
} Cursor;

static uint8_t next_byte(Cursor *c)
{
    X86Decoded *d = c->d;
    uint8_t b = 0;
    if (d->len >= 15) {
        d->len++;
        return 0;
    }
    if (!c->fetch(c->opaque, d->pc + d->len, &b))
        c->fault = true;
    d->bytes[d->len++] = b;
    return b;
}

static uint64_t next_imm(Cursor *c, unsigned size, bool sign)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)next_byte(c) << (8 * i);
    if (sign && size < 8) {
        unsigned sh = 64 - 8 * size;
        v = (uint64_t)((int64_t)(v << sh) >> sh);
    }
    return v;
}

static void decode_modrm_16(Cursor *c)
{
    static const int8_t base16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
    static const int8_t index16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1 };
    X86Decoded *d = c->d;
    unsigned rm = d->modrm & 7;
    d->base = base16[rm];
    d->index = index16[rm];
    d->scale = 0;
    d->default_seg = (rm == 2 || rm == 3 || rm == 6) ? R_SS : R_DS;
    if (d->mod == 0 && rm == 6) {
        d->base = -1;
        d->default_seg = R_DS;
        d->disp = next_imm(c, 2, true);
    } else if (d->mod == 1) {
        d->disp = next_imm(c, 1, true);
    } else if (d->mod == 2) {
        d->disp = next_imm(c, 2, true);
    }
}

static void decode_modrm_32(Cursor *c, bool code64)
{
    X86Decoded *d = c->d;
    unsigned rm = d->modrm & 7;
    unsigned rexb = (d->rex & 1) << 3;
    d->index = -1;
    d->scale = 0;
    if (rm == 4) {
        uint8_t sib = next_byte(c);
        unsigned idx = ((sib >> 3) & 7) | ((d->rex & 2) << 2);
        d->scale = sib >> 6;
        d->index = idx == 4 ? -1 : (int8_t)idx;
        unsigned base = sib & 7;
        if (base == 5 && d->mod == 0) {
            d->base = -1;
            d->disp = next_imm(c, 4, true);
        } else {
            d->base = base | rexb;
        }
    } else if (rm == 5 && d->mod == 0) {
        d->base = code64 ? -2 : -1;   /* RIP-relative in 64-bit mode */
        d->disp = next_imm(c, 4, true);
    } else {
        d->base = rm | rexb;
    }
    if (d->mod == 1)
        d->disp = next_imm(c, 1, true);
    else if (d->mod == 2)
        d->disp = next_imm(c, 4, true);
    d->default_seg = (d->base == R_ESP || d->base == R_EBP) ? R_SS : R_DS;
}

unsigned x86_operand_size(const X86Decoded *d, X86OpKind k)
{
    switch (k) {
    case O_Eb: case O_Gb: case O_Ib: case O_AL: case O_CL: case O_Zb: case O_Ob:
    case O_Xb: case O_Yb: case O_Jb:
        return 1;
    case O_Ew: case O_Gw: case O_Iw: case O_Sw: case O_DX:
        return 2;
    case O_Ed:
        return 4;
    case O_Eq:
        return 8;
    case O_Ey: case O_Gy:
        return d->opsize == 8 ? 8 : 4;
    case O_Gz: case O_Iz: case O_Jz:
        return d->opsize == 2 ? 2 : 4;
    case O_Cd: case O_Dd: case O_Rv:
        return d->opsize == 8 ? 8 : 4;
    case O_NONE:
        return 0;
    case O_ONE:
        return 1;
    default:
        return d->opsize;
    }
}

static void decode_immediates(Cursor *c)
{
    X86Decoded *d = c->d;
    bool first = true;
    for (int i = 0; i < 3; i++) {
        uint64_t v;
        unsigned k = d->e->op[i];
        switch (k) {
        case O_Ib: v = next_imm(c, 1, false); break;
        case O_Ibs: case O_Jb: v = next_imm(c, 1, true); break;
        case O_Iw: v = next_imm(c, 2, false); break;
        case O_Iz: case O_Jz: v = next_imm(c, x86_operand_size(d, k), true); break;
        case O_Iv: v = next_imm(c, d->opsize, false); break;
        case O_Ob: case O_Ov: v = next_imm(c, d->addrsize, false); break;
        case O_Ap:
            v = next_imm(c, d->opsize == 2 ? 2 : 4, false);
            d->imm2 = next_imm(c, 2, false);
            break;
        default:
            continue;
        }
        if (first)
            d->imm = v;
        else
            d->imm2 = v;
        first = false;
    }
}

/* Opcode map lookup for maps 2 and 3 (0F 38 / 0F 3A): only a few integer
 * members; the rest are SSE and raise #UD until SSE exists. */
static const X86OpEntry *lookup_map3(X86Decoded *d)
{
    if (d->map == 3)
        return &sse_imm_entry;
    if (d->opcode == 0xf0 || d->opcode == 0xf1) {
        if (d->prefix & P_REPNZ)
            return d->opcode == 0xf0 ? &crc32_b : &crc32_v;
        return d->opcode == 0xf0 ? &movbe_load : &movbe_store;
    }
    if (d->opcode == 0x82 && (d->prefix & P_OPSZ) && !(d->prefix & (P_REPZ | P_REPNZ)))
        return &invpcid;
    return &sse_entry;
}

X86DecodeStatus x86_decode(X86Decoded *d, uint64_t pc, bool code64, bool cs32,
                           X86FetchFn fetch, void *opaque)
{
    Cursor c = { d, fetch, opaque, false };
    memset(d, 0, sizeof(*d));
    d->pc = pc;
    d->seg = -1;
    d->base = d->index = -1;

    uint8_t b;
    for (;;) {
        b = next_byte(&c);
        if (c.fault)
            return DECODE_FETCH_FAULT;
        if (d->len > 15)
            return DECODE_TOO_LONG;
        switch (b) {
        case 0xf0: d->prefix |= P_LOCK; break;
        case 0xf2: d->prefix = (d->prefix & ~P_REPZ) | P_REPNZ; break;
        case 0xf3: d->prefix = (d->prefix & ~P_REPNZ) | P_REPZ; break;
        case 0x66: d->prefix |= P_OPSZ; break;
        case 0x67: d->prefix |= P_ADSZ; break;
        case 0x26: d->seg = R_ES; break;
        case 0x2e: d->seg = R_CS; break;
        case 0x36: d->seg = R_SS; break;
        case 0x3e: d->seg = R_DS; break;
        case 0x64: d->seg = R_FS; break;
        case 0x65: d->seg = R_GS; break;
        default:
            if (code64 && (b & 0xf0) == 0x40) {
                d->rex = b;   /* the last REX counts, if the opcode follows it */
                continue;
            }
            goto prefixes_done;
        }
        d->rex = 0;   /* a REX not directly before the opcode is ignored */
    }
prefixes_done:
    if (code64) {
        /* In 64-bit mode ES/CS/SS/DS overrides are ignored. */
        if (d->seg >= 0 && d->seg < R_FS)
            d->seg = -1;
    }

    const X86OpEntry *e;
    d->opcode = b;
    if (b == 0x0f) {
        b = next_byte(&c);
        d->opcode = b;
        if (b == 0x38 || b == 0x3a) {
            d->map = b == 0x38 ? 2 : 3;
            d->opcode = next_byte(&c);
            e = lookup_map3(d);
        } else {
            d->map = 1;
            e = &map2[b];
        }
    } else if (b == 0x63 && code64) {
        static const X86OpEntry movsxd = I2(MOVSXD, Gv, Ed, M);
        e = &movsxd;
    } else {
        e = &map1[b];
    }
    if (c.fault)
        return DECODE_FETCH_FAULT;

    /* Sizes. */
    bool rexw = d->rex & 8;
    if (code64) {
        if (rexw)
            d->opsize = 8;
        else if (e->flags & F_F64)
            d->opsize = 8;
        else if (e->flags & F_D64)
            d->opsize = (d->prefix & P_OPSZ) ? 2 : 8;
        else
            d->opsize = (d->prefix & P_OPSZ) ? 2 : 4;
        d->addrsize = (d->prefix & P_ADSZ) ? 4 : 8;
    } else {
        bool big = cs32 ^ !!(d->prefix & P_OPSZ);
        d->opsize = big ? 4 : 2;
        d->addrsize = (cs32 ^ !!(d->prefix & P_ADSZ)) ? 4 : 2;
    }

    unsigned flags = e->flags;
    if (flags & F_MODRM) {
        d->has_modrm = true;
        d->modrm = next_byte(&c);
        d->mod = d->modrm >> 6;
        d->reg = ((d->modrm >> 3) & 7) | ((d->rex & 4) << 1);
        d->rm = (d->modrm & 7) | ((d->rex & 1) << 3);
        /* MOV to/from CR/DR ignores mod: always a register operand. */
        bool force_reg = d->map == 1 && (d->opcode & 0xfc) == 0x20;
        if (d->mod != 3 && !force_reg) {
            if (d->addrsize == 2)
                decode_modrm_16(&c);
            else
                decode_modrm_32(&c, code64);
        } else {
            d->mod = 3;
        }
        if (flags & F_GROUP) {
            unsigned reg = (d->modrm >> 3) & 7;
            const X86OpEntry *g;
            if (e->group == grp7 && d->mod == 3)
                g = grp7_reg(reg, d->modrm & 7);
            else if (e->group == grp15 && d->mod == 3)
                g = &grp15_reg[reg];
            else
                g = &e->group[reg];
            /* The group member's own size rules (e.g. CALL/JMP Ev are F64). */
            if (code64 && !rexw && (g->flags & (F_F64 | F_D64)))
                d->opsize = (g->flags & F_F64) || !(d->prefix & P_OPSZ) ? 8 : 2;
            flags |= g->flags;
            e = g;
        }
    }
    if (c.fault)
        return DECODE_FETCH_FAULT;
    d->e = e;
    d->mnemonic = e->mn;

    /* Special members decided by prefixes. */
    if (d->map == 1) {
        if (d->opcode == 0xb8 && !(d->prefix & P_REPZ))
            d->mnemonic = I_INVALID;
        else if (d->opcode == 0xbc && (d->prefix & P_REPZ))
            d->mnemonic = I_TZCNT;
        else if (d->opcode == 0xbd && (d->prefix & P_REPZ))
            d->mnemonic = I_LZCNT;
        else if (d->opcode == 0xc7 && ((d->modrm >> 3) & 7) == 1 && rexw)
            d->opsize = 8;   /* CMPXCHG16B */
        else if (d->opcode == 0xae && d->mod != 3 && (d->prefix & P_OPSZ) && ((d->modrm >> 3) & 6) == 6)
            d->mnemonic = decode_66_0fae(d);
        if (d->mnemonic == I_RDRAND && !x86_cpu_has(X86_FEAT_RDRAND))
            d->mnemonic = I_INVALID;
        if (d->mnemonic == I_RDPID)
            d->mnemonic = decode_rdpid(d, code64);
    }

    decode_immediates(&c);
    if (c.fault)
        return DECODE_FETCH_FAULT;
    if (d->len > 15)
        return DECODE_TOO_LONG;

    if (d->mnemonic == I_INVALID)
        return DECODE_UD;
    if (code64 && (flags & F_I64))
        return DECODE_UD;
    if (!code64 && (flags & F_O64))
        return DECODE_UD;
    if ((flags & F_MEMONLY) && d->mod == 3)
        return DECODE_UD;
    if ((flags & F_REGONLY) && d->mod != 3)
        return DECODE_UD;
    if (d->prefix & P_LOCK) {
        if (!(flags & F_LOCK) || d->mod == 3)
            return DECODE_UD;
    }
    return DECODE_OK;
}
