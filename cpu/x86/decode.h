/* The x86 instruction decoder: prefixes, REX, opcode maps (tables in the
 * Intel manual's operand notation), ModRM/SIB, displacement, immediates.
 * It knows lengths and operand shapes, not semantics (translate.c). */
#ifndef CPU_X86_DECODE_H
#define CPU_X86_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* Mnemonics: one semantic routine each in the translator. */
#define X86_MNEMONICS(X)                                                     \
    X(INVALID) X(ADD) X(OR) X(ADC) X(SBB) X(AND) X(SUB) X(XOR) X(CMP)       \
    X(INC) X(DEC) X(PUSH) X(POP) X(PUSHA) X(POPA) X(BOUND) X(ARPL)          \
    X(MOVSXD) X(IMUL3) X(JCC) X(TEST) X(XCHG) X(MOV) X(LEA) X(MOVSEG)       \
    X(NOP) X(CBW) X(CWD) X(CALLF) X(WAIT) X(PUSHF) X(POPF) X(SAHF) X(LAHF)  \
    X(MOVS) X(CMPS) X(STOS) X(LODS) X(SCAS) X(INS) X(OUTS)                  \
    X(ROL) X(ROR) X(RCL) X(RCR) X(SHL) X(SHR) X(SAR)                        \
    X(RET) X(LES) X(LDS) X(LSS) X(LFS) X(LGS) X(ENTER) X(LEAVE) X(RETF)     \
    X(INT3) X(INT) X(INTO) X(IRET) X(AAM) X(AAD) X(SALC) X(XLAT) X(FPU)     \
    X(LOOPNZ) X(LOOPZ) X(LOOP) X(JCXZ) X(IN) X(OUT) X(CALL) X(JMP) X(JMPF)  \
    X(INT1) X(HLT) X(CMC) X(NOT) X(NEG) X(MUL) X(IMUL1) X(DIV) X(IDIV)      \
    X(CLC) X(STC) X(CLI) X(STI) X(CLD) X(STD)                               \
    X(DAA) X(DAS) X(AAA) X(AAS)                                             \
    X(SLDT) X(STR) X(LLDT) X(LTR) X(VERR) X(VERW)                           \
    X(SGDT) X(SIDT) X(LGDT) X(LIDT) X(SMSW) X(LMSW) X(INVLPG) X(INVPCID) X(SWAPGS)     \
    X(RDTSCP) X(LAR) X(LSL) X(SYSCALL) X(CLTS) X(SYSRET) X(INVD) X(WBINVD)  \
    X(UD) X(MOVCR) X(MOVDR) X(WRMSR) X(RDTSC) X(RDMSR) X(RDPMC)             \
    X(SYSENTER) X(SYSEXIT) X(CMOV) X(SETCC) X(CPUID) X(BT) X(BTS) X(BTR)    \
    X(BTC) X(SHLD) X(SHRD) X(RSM) X(IMUL2) X(CMPXCHG) X(MOVZX) X(MOVSX)     \
    X(POPCNT) X(BSF) X(BSR) X(TZCNT) X(LZCNT) X(XADD) X(CMPXCHG8B) X(BSWAP) \
    X(MOVBE) X(CRC32) X(FENCE) X(SSE) X(MONITOR) X(MWAIT) X(RDRAND) X(CLFLUSH) \
    X(XGETBV) X(FXSAVE) X(FXRSTOR) X(LDMXCSR) X(STMXCSR) X(XSAVE) X(XRSTOR)  \
    X(RDFSBASE) X(PREFETCH) X(UD0) X(STAC) X(CLAC) X(RDPID)

typedef enum X86Mnemonic {
#define X86_MN_ENUM(n) I_##n,
    X86_MNEMONICS(X86_MN_ENUM)
#undef X86_MN_ENUM
    I_COUNT
} X86Mnemonic;
extern const char *const x86_mnemonic_names[I_COUNT];

/* Operand kinds, in the Intel manual's notation (Appendix A): the letter
 * says where the operand lives, the suffix its size (b byte, w word, d dword,
 * q qword, v operand size, z min(operand size, 4), y 4 or 8). */
typedef enum X86OpKind {
    O_NONE,
    O_Eb, O_Ew, O_Ed, O_Ev, O_Ey, O_Eq,     /* ModRM r/m */
    O_Gb, O_Gw, O_Gv, O_Gy, O_Gz,           /* ModRM reg */
    O_Mv, O_Mn,                             /* memory only (any size / none) */
    O_Rv,                                   /* ModRM r/m as register (MOV CR) */
    O_Ib, O_Iw, O_Iz, O_Ibs, O_Iv,          /* immediates (Ibs: sign-extended) */
    O_Jb, O_Jz,                             /* relative branch targets */
    O_Ob, O_Ov,                             /* moffs */
    O_AL, O_rAX, O_CL, O_DX, O_ONE,         /* fixed */
    O_Zb, O_Zv,                             /* register in opcode bits 0-2 */
    O_Sw,                                   /* segment register from ModRM reg */
    O_Ap,                                   /* direct far pointer */
    O_Xb, O_Xv, O_Yb, O_Yv,                 /* string source DS:rSI / dest ES:rDI */
    O_Cd, O_Dd,                             /* control/debug register (ModRM reg) */
    O_SEG,                                  /* fixed segment register (aux) */
    O_Mp,                                   /* far pointer in memory */
} X86OpKind;

/* Entry flags */
#define F_MODRM   0x0001   /* has a ModRM byte */
#define F_GROUP   0x0002   /* ModRM.reg selects the mnemonic from group[] */
#define F_I64     0x0004   /* invalid in 64-bit mode */
#define F_D64     0x0008   /* operand size defaults to 64 in 64-bit mode */
#define F_F64     0x0010   /* operand size forced to 64 in 64-bit mode */
#define F_LOCK    0x0020   /* LOCK allowed (with a memory destination) */
#define F_BYTE    0x0040   /* byte-sized operation */
#define F_O64     0x0080   /* valid only in 64-bit mode */
#define F_REP     0x0100   /* string op honouring REP prefixes */
#define F_MEMONLY 0x0200   /* ModRM.mod == 3 is #UD */
#define F_REGONLY 0x0400   /* ModRM.mod != 3 is #UD */

typedef struct X86OpEntry {
    uint8_t mn;             /* X86Mnemonic */
    uint8_t op[3];          /* X86OpKind */
    uint16_t flags;
    uint8_t aux;            /* mnemonic-specific (segment number, condition...) */
    const struct X86OpEntry *group;  /* F_GROUP: 8 entries by ModRM.reg */
} X86OpEntry;

/* Prefix bits */
#define P_LOCK  0x01
#define P_REPZ  0x02   /* F3 */
#define P_REPNZ 0x04   /* F2 */
#define P_OPSZ  0x08   /* 66 */
#define P_ADSZ  0x10   /* 67 */

typedef enum X86DecodeStatus {
    DECODE_OK,
    DECODE_UD,          /* invalid opcode: #UD */
    DECODE_TOO_LONG,    /* more than 15 bytes: #GP(0) */
    DECODE_FETCH_FAULT, /* the fetch callback failed */
} X86DecodeStatus;

typedef struct X86Decoded {
    uint64_t pc;            /* address of the first byte (EIP/RIP) */
    uint8_t len;
    uint8_t map;            /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A */
    uint8_t opcode;
    uint8_t prefix;         /* P_* */
    int8_t seg;             /* segment override, -1 none */
    uint8_t rex;            /* REX byte or 0 */
    uint8_t opsize;         /* 2, 4, 8 */
    uint8_t addrsize;       /* 2, 4, 8 */
    uint8_t mnemonic;
    const X86OpEntry *e;    /* the final (group-resolved) entry */
    /* ModRM */
    bool has_modrm;
    uint8_t modrm, mod, reg, rm;   /* reg/rm with REX.R/REX.B applied */
    /* memory operand (mod != 3) */
    int8_t base, index;     /* register numbers, -1 none; base -2 = RIP */
    uint8_t scale;          /* log2 */
    int64_t disp;
    int8_t default_seg;     /* DS or SS (rBP/rSP based) */
    /* immediates */
    uint64_t imm;           /* first immediate (sign-extended per kind) */
    uint64_t imm2;          /* second one (ENTER's Ib, far pointer selector) */
    uint8_t bytes[16];
} X86Decoded;

/* Fetch one code byte at address pc; false when it cannot be fetched. */
typedef bool (*X86FetchFn)(void *opaque, uint64_t pc, uint8_t *byte);

/* Decode one instruction. code64: 64-bit code segment; cs32: default
 * operand/address size 32 (ignored when code64). */
X86DecodeStatus x86_decode(X86Decoded *d, uint64_t pc, bool code64, bool cs32,
                           X86FetchFn fetch, void *opaque);

/* Operand size in bytes of an operand kind for this instruction (0: none). */
unsigned x86_operand_size(const X86Decoded *d, X86OpKind k);

#endif
