/* The random generator's instruction table, in the notation of the Intel
 * SDM's opcode tables: the "Opcode" column ("REX.W + 0F AF /r", "C1 /4 ib",
 * "50+rd") and the operand list of the "Instruction" column ("r/m64, imm8").
 * One extension: a size "v" in an operand list ("r/mv, rv") stands for the
 * three rows 16 (66 prefix), 32 and 64 (REX.W) that the manual spells out,
 * and "z" for the immediate that goes with them (imm16, imm32, imm32).
 *
 * Adding an instruction group is adding rows. Flags: rd = read, wr = left
 * defined, ud = left undefined by the SDM *and* varying on real hardware
 * (each such mask says which instruction's "Flags Affected" it follows). */
#ifndef TESTS_ORACLE_GEN_TABLE_H
#define TESTS_ORACLE_GEN_TABLE_H

#include <stdint.h>

/* EFLAGS bits */
#define FC 0x001u
#define FP 0x004u
#define FA 0x010u
#define FZ 0x040u
#define FS 0x080u
#define FD 0x400u
#define FO 0x800u
#define FARITH (FC | FP | FA | FZ | FS | FO)

/* modes */
#define M32 1u
#define M64 2u
#define MBOTH (M32 | M64)

/* how the generator prepares and judges a form */
enum {
    K_PLAIN,     /* random registers, memory operand set up by the generator */
    K_SHIFT,     /* SHL/SHR/SAR: flags depend on the count (set with MOV CL) */
    K_ROT,       /* ROL/ROR */
    K_RC,        /* RCL/RCR */
    K_SHXD,      /* SHLD/SHRD */
    K_DIV,       /* DIV/IDIV: dividend and divisor set up, #DE sometimes */
    K_STRING,    /* RSI/RDI/RCX set up, DF chosen */
    K_XLAT,      /* RBX at the data */
    K_STACK,     /* changes RSP by the operand size (push: -, pop: +) */
    K_ENTER,
    K_LEAVE,
    K_BTMEM,     /* BT* m, r: the bit offset register set small */
    K_SSE,       /* XMM operands: XMM state compared */
    K_X87,       /* x87 and MMX: only in snippets framed by FXRSTOR/FXSAVE */
    K_SELECTOR,  /* LAR/LSL/VERR/VERW: the source register holds a selector of
                  * the GDT entries the host and the oracle share */
    K_INTN,      /* INT imm8: any vector but 0x80 (a system call on the host) */
    K_SEGLOAD,   /* MOV DS/ES, r16: a selector as for K_SELECTOR (the harness
                  * restores DS and ES after each case) */
    K_FARRET,    /* RETF: returns to the next instruction through CS:RIP pushed
                  * before it (Linux's user code selector of the mode) */
    K_IRET,      /* IRET: the same with SS, RSP and the flags pushed too */
    K_RDPID,     /* RDPID: followed by an AND that clears bits 21:0 of the
                  * result (the host's TSC_AUX is Linux's node and CPU number,
                  * which depend on where the child runs); the upper bits
                  * still show the operand size written */
};

/* attributes */
#define A_LOCK    0x01u   /* LOCK allowed with a memory destination */
#define A_REP     0x02u   /* REP allowed */
#define A_REPE    0x04u   /* REPE/REPNE allowed */
#define A_POP     0x08u   /* K_STACK: pops */
#define A_ALIGN16 0x10u   /* the memory operand must be 16-byte aligned (#GP) */
#define A_NOMEM   0x20u   /* LEA: the "memory" operand is not accessed */
#define A_RARE    0x40u   /* picked less often */

typedef struct InsnForm {
    const char *mnem;
    const char *opcode;
    const char *operands;
    uint8_t modes;
    uint8_t kind;
    uint8_t attr;
    uint16_t rd, wr, ud;
} InsnForm;

/* ROW(mnemonic, opcode, operands, modes, kind, attr, rd, wr, ud) */
#define ROW(...) { __VA_ARGS__ }

/* ALU ops: ADD OR ADC SBB AND SUB XOR CMP share their shape. AND/OR/XOR/TEST
 * leave AF undefined (SDM: "The state of the AF flag is undefined"). */
#define ALU(m, o0, o1, o2, o3, o4, o5, rd, ud)                                          \
    ROW(m, o0 " /r", "r/m8, r8", MBOTH, K_PLAIN, A_LOCK, rd, FARITH & ~(ud), ud),        \
    ROW(m, o1 " /r", "r/mv, rv", MBOTH, K_PLAIN, A_LOCK, rd, FARITH & ~(ud), ud),        \
    ROW(m, o2 " /r", "r8, r/m8", MBOTH, K_PLAIN, 0, rd, FARITH & ~(ud), ud),             \
    ROW(m, o3 " /r", "rv, r/mv", MBOTH, K_PLAIN, 0, rd, FARITH & ~(ud), ud),             \
    ROW(m, o4 " ib", "AL, imm8", MBOTH, K_PLAIN, 0, rd, FARITH & ~(ud), ud),             \
    ROW(m, o5 " iz", "rAX, immz", MBOTH, K_PLAIN, 0, rd, FARITH & ~(ud), ud)

#define GRP1(m, d, rd, ud)                                                                \
    ROW(m, "80 /" #d " ib", "r/m8, imm8", MBOTH, K_PLAIN, A_LOCK, rd, FARITH & ~(ud), ud), \
    ROW(m, "81 /" #d " iz", "r/mv, immz", MBOTH, K_PLAIN, A_LOCK, rd, FARITH & ~(ud), ud), \
    ROW(m, "83 /" #d " ib", "r/mv, imm8", MBOTH, K_PLAIN, A_LOCK, rd, FARITH & ~(ud), ud)

/* Shifts and rotates in their three count forms; K_* judges the flags. */
#define SHIFTS(m, d, kind)                                                                \
    ROW(m, "D0 /" #d, "r/m8, 1", MBOTH, kind, 0, 0, 0, 0),                                \
    ROW(m, "D1 /" #d, "r/mv, 1", MBOTH, kind, 0, 0, 0, 0),                                \
    ROW(m, "D2 /" #d, "r/m8, CL", MBOTH, kind, 0, 0, 0, 0),                               \
    ROW(m, "D3 /" #d, "r/mv, CL", MBOTH, kind, 0, 0, 0, 0),                               \
    ROW(m, "C0 /" #d " ib", "r/m8, imm8", MBOTH, kind, 0, 0, 0, 0),                       \
    ROW(m, "C1 /" #d " ib", "r/mv, imm8", MBOTH, kind, 0, 0, 0, 0)

#define X87(m, op, opnds) ROW(m, op, opnds, MBOTH, K_X87, 0, 0, 0, 0)
#define CC_ROWS(m, op, opnds, kind) ROW(m, op, opnds, MBOTH, kind, 0, FARITH, 0, 0)

/* MUL/IMUL: SF ZF AF PF undefined (SDM), and AMD and Intel differ there. */
#define MULF FC | FO, FS | FZ | FA | FP
/* BT*: OF SF AF PF undefined (SDM); AMD also lists ZF. */
#define BTF FC, FO | FS | FA | FP | FZ
/* BSF/BSR: all but ZF undefined. */
#define BSF_F FZ, FC | FO | FS | FA | FP
/* TZCNT/LZCNT: OF SF AF PF undefined. */
#define TZF FC | FZ, FO | FS | FA | FP

static const InsnForm gen_table[] = {
    ALU("ADD", "00", "01", "02", "03", "04", "05", 0, 0),
    ALU("OR", "08", "09", "0A", "0B", "0C", "0D", 0, FA),
    ALU("ADC", "10", "11", "12", "13", "14", "15", FC, 0),
    ALU("SBB", "18", "19", "1A", "1B", "1C", "1D", FC, 0),
    ALU("AND", "20", "21", "22", "23", "24", "25", 0, FA),
    ALU("SUB", "28", "29", "2A", "2B", "2C", "2D", 0, 0),
    ALU("XOR", "30", "31", "32", "33", "34", "35", 0, FA),
    ALU("CMP", "38", "39", "3A", "3B", "3C", "3D", 0, 0),
    GRP1("ADD", 0, 0, 0), GRP1("OR", 1, 0, FA), GRP1("ADC", 2, FC, 0), GRP1("SBB", 3, FC, 0),
    GRP1("AND", 4, 0, FA), GRP1("SUB", 5, 0, 0), GRP1("XOR", 6, 0, FA), GRP1("CMP", 7, 0, 0),
    ROW("TEST", "84 /r", "r/m8, r8", MBOTH, K_PLAIN, 0, 0, FARITH & ~FA, FA),
    ROW("TEST", "85 /r", "r/mv, rv", MBOTH, K_PLAIN, 0, 0, FARITH & ~FA, FA),
    ROW("TEST", "A8 ib", "AL, imm8", MBOTH, K_PLAIN, 0, 0, FARITH & ~FA, FA),
    ROW("TEST", "F6 /0 ib", "r/m8, imm8", MBOTH, K_PLAIN, 0, 0, FARITH & ~FA, FA),
    ROW("TEST", "F7 /0 iz", "r/mv, immz", MBOTH, K_PLAIN, 0, 0, FARITH & ~FA, FA),
    /* INC/DEC keep CF */
    ROW("INC", "FE /0", "r/m8", MBOTH, K_PLAIN, A_LOCK, 0, FARITH & ~FC, 0),
    ROW("INC", "FF /0", "r/mv", MBOTH, K_PLAIN, A_LOCK, 0, FARITH & ~FC, 0),
    ROW("DEC", "FE /1", "r/m8", MBOTH, K_PLAIN, A_LOCK, 0, FARITH & ~FC, 0),
    ROW("DEC", "FF /1", "r/mv", MBOTH, K_PLAIN, A_LOCK, 0, FARITH & ~FC, 0),
    ROW("INC", "40+rd", "r32", M32, K_PLAIN, 0, 0, FARITH & ~FC, 0),
    ROW("DEC", "48+rw", "r16", M32, K_PLAIN, 0, 0, FARITH & ~FC, 0),
    ROW("NOT", "F6 /2", "r/m8", MBOTH, K_PLAIN, A_LOCK, 0, 0, 0),
    ROW("NOT", "F7 /2", "r/mv", MBOTH, K_PLAIN, A_LOCK, 0, 0, 0),
    ROW("NEG", "F6 /3", "r/m8", MBOTH, K_PLAIN, A_LOCK, 0, FARITH, 0),
    ROW("NEG", "F7 /3", "r/mv", MBOTH, K_PLAIN, A_LOCK, 0, FARITH, 0),

    SHIFTS("ROL", 0, K_ROT), SHIFTS("ROR", 1, K_ROT), SHIFTS("RCL", 2, K_RC), SHIFTS("RCR", 3, K_RC),
    SHIFTS("SHL", 4, K_SHIFT), SHIFTS("SHR", 5, K_SHIFT), SHIFTS("SAR", 7, K_SHIFT),
    ROW("SHLD", "0F A4 /r ib", "r/mv, rv, imm8", MBOTH, K_SHXD, 0, 0, 0, 0),
    ROW("SHLD", "0F A5 /r", "r/mv, rv, CL", MBOTH, K_SHXD, 0, 0, 0, 0),
    ROW("SHRD", "0F AC /r ib", "r/mv, rv, imm8", MBOTH, K_SHXD, 0, 0, 0, 0),
    ROW("SHRD", "0F AD /r", "r/mv, rv, CL", MBOTH, K_SHXD, 0, 0, 0, 0),

    ROW("MUL", "F6 /4", "r/m8", MBOTH, K_PLAIN, 0, 0, MULF),
    ROW("MUL", "F7 /4", "r/mv", MBOTH, K_PLAIN, 0, 0, MULF),
    ROW("IMUL", "F6 /5", "r/m8", MBOTH, K_PLAIN, 0, 0, MULF),
    ROW("IMUL", "F7 /5", "r/mv", MBOTH, K_PLAIN, 0, 0, MULF),
    ROW("IMUL", "0F AF /r", "rv, r/mv", MBOTH, K_PLAIN, 0, 0, MULF),
    ROW("IMUL", "6B /r ib", "rv, r/mv, imm8", MBOTH, K_PLAIN, 0, 0, MULF),
    ROW("IMUL", "69 /r iz", "rv, r/mv, immz", MBOTH, K_PLAIN, 0, 0, MULF),
    /* DIV/IDIV: all arithmetic flags undefined */
    ROW("DIV", "F6 /6", "r/m8", MBOTH, K_DIV, 0, 0, 0, FARITH),
    ROW("DIV", "F7 /6", "r/mv", MBOTH, K_DIV, 0, 0, 0, FARITH),
    ROW("IDIV", "F6 /7", "r/m8", MBOTH, K_DIV, 0, 0, 0, FARITH),
    ROW("IDIV", "F7 /7", "r/mv", MBOTH, K_DIV, 0, 0, 0, FARITH),

    ROW("BT", "0F A3 /r", "r/mv, rv", MBOTH, K_BTMEM, 0, 0, BTF),
    ROW("BTS", "0F AB /r", "r/mv, rv", MBOTH, K_BTMEM, A_LOCK, 0, BTF),
    ROW("BTR", "0F B3 /r", "r/mv, rv", MBOTH, K_BTMEM, A_LOCK, 0, BTF),
    ROW("BTC", "0F BB /r", "r/mv, rv", MBOTH, K_BTMEM, A_LOCK, 0, BTF),
    ROW("BT", "0F BA /4 ib", "r/mv, imm8", MBOTH, K_PLAIN, 0, 0, BTF),
    ROW("BTS", "0F BA /5 ib", "r/mv, imm8", MBOTH, K_PLAIN, A_LOCK, 0, BTF),
    ROW("BTR", "0F BA /6 ib", "r/mv, imm8", MBOTH, K_PLAIN, A_LOCK, 0, BTF),
    ROW("BTC", "0F BA /7 ib", "r/mv, imm8", MBOTH, K_PLAIN, A_LOCK, 0, BTF),
    ROW("BSF", "0F BC /r", "rv, r/mv", MBOTH, K_PLAIN, 0, 0, BSF_F),
    ROW("BSR", "0F BD /r", "rv, r/mv", MBOTH, K_PLAIN, 0, 0, BSF_F),
    ROW("TZCNT", "F3 0F BC /r", "rv, r/mv", MBOTH, K_PLAIN, 0, 0, TZF),
    ROW("LZCNT", "F3 0F BD /r", "rv, r/mv", MBOTH, K_PLAIN, 0, 0, TZF),
    ROW("POPCNT", "F3 0F B8 /r", "rv, r/mv", MBOTH, K_PLAIN, 0, 0, FARITH, 0),

    ROW("CMPXCHG", "0F B0 /r", "r/m8, r8", MBOTH, K_PLAIN, A_LOCK, 0, FARITH, 0),
    ROW("CMPXCHG", "0F B1 /r", "r/mv, rv", MBOTH, K_PLAIN, A_LOCK, 0, FARITH, 0),
    ROW("CMPXCHG8B", "0F C7 /1", "m64", MBOTH, K_PLAIN, A_LOCK, 0, FZ, 0),
    /* cache-line flushes: no architectural effect beyond the memory operand */
    ROW("CLFLUSH", "0F AE /7", "m8", MBOTH, K_PLAIN, A_RARE, 0, 0, 0),
    ROW("CLFLUSHOPT", "66 0F AE /7", "m8", MBOTH, K_PLAIN, A_RARE, 0, 0, 0),
    ROW("CLWB", "66 0F AE /6", "m8", MBOTH, K_PLAIN, A_RARE, 0, 0, 0),
    ROW("CMPXCHG16B", "REX.W + 0F C7 /1", "m128", M64, K_PLAIN, A_LOCK | A_ALIGN16, 0, FZ, 0),
    ROW("XADD", "0F C0 /r", "r/m8, r8", MBOTH, K_PLAIN, A_LOCK, 0, FARITH, 0),
    ROW("XADD", "0F C1 /r", "r/mv, rv", MBOTH, K_PLAIN, A_LOCK, 0, FARITH, 0),
    ROW("XCHG", "86 /r", "r/m8, r8", MBOTH, K_PLAIN, A_LOCK, 0, 0, 0),
    ROW("XCHG", "87 /r", "r/mv, rv", MBOTH, K_PLAIN, A_LOCK, 0, 0, 0),
    ROW("XCHG", "90+rd", "rAX, rv", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("BSWAP", "0F C8+rd", "r32", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("BSWAP", "REX.W + 0F C8+rd", "r64", M64, K_PLAIN, 0, 0, 0, 0),

    ROW("CBW", "66 98", "", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("CWDE", "98", "", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("CDQE", "REX.W + 98", "", M64, K_PLAIN, 0, 0, 0, 0),
    ROW("CWD", "66 99", "", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("CDQ", "99", "", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("CQO", "REX.W + 99", "", M64, K_PLAIN, 0, 0, 0, 0),
    ROW("MOVZX", "0F B6 /r", "rv, r/m8", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOVZX", "0F B7 /r", "r32, r/m16", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOVSX", "0F BE /r", "rv, r/m8", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOVSX", "0F BF /r", "r32, r/m16", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOVSXD", "REX.W + 63 /r", "r64, r/m32", M64, K_PLAIN, 0, 0, 0, 0),
    ROW("MOV", "88 /r", "r/m8, r8", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOV", "89 /r", "r/mv, rv", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOV", "8B /r", "rv, r/mv", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOV", "C7 /0 iz", "r/mv, immz", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOV", "B0+rb ib", "r8, imm8", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOV", "REX.W + B8+rd io", "r64, imm64", M64, K_PLAIN, 0, 0, 0, 0),
    ROW("MOVBE", "0F 38 F0 /r", "rv, mv", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("MOVBE", "0F 38 F1 /r", "mv, rv", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("LEA", "8D /r", "rv, m", MBOTH, K_PLAIN, A_NOMEM, 0, 0, 0),
    ROW("CRC32", "F2 0F 38 F0 /r", "r32, r/m8", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("CRC32", "F2 0F 38 F1 /r", "r32, r/m32", MBOTH, K_PLAIN, 0, 0, 0, 0),
    ROW("RDPID", "F3 0F C7 /7", "r32", M32, K_RDPID, A_RARE, 0, FC | FP | FZ | FS | FO, FA),
    ROW("RDPID", "F3 0F C7 /7", "r64", M64, K_RDPID, A_RARE, 0, FC | FP | FZ | FS | FO, FA),

    /* SETcc/CMOVcc read the condition's flags: all of them, conservatively */
    ROW("SETcc", "0F 90+cc /0", "r/m8", MBOTH, K_PLAIN, 0, FARITH, 0, 0),
    ROW("CMOVcc", "0F 40+cc /r", "rv, r/mv", MBOTH, K_PLAIN, 0, FARITH, 0, 0),
    ROW("LAHF", "9F", "", MBOTH, K_PLAIN, 0, FS | FZ | FA | FP | FC, 0, 0),
    ROW("SAHF", "9E", "", MBOTH, K_PLAIN, 0, 0, FS | FZ | FA | FP | FC, 0),
    ROW("CMC", "F5", "", MBOTH, K_PLAIN, 0, FC, FC, 0),
    ROW("CLC", "F8", "", MBOTH, K_PLAIN, 0, 0, FC, 0),
    ROW("STC", "F9", "", MBOTH, K_PLAIN, 0, 0, FC, 0),

    /* strings: CMPS/SCAS set flags as SUB */
    ROW("MOVSB", "A4", "", MBOTH, K_STRING, A_REP, FD, 0, 0),
    ROW("MOVSW", "66 A5", "", MBOTH, K_STRING, A_REP, FD, 0, 0),
    ROW("MOVSD", "A5", "", MBOTH, K_STRING, A_REP, FD, 0, 0),
    ROW("MOVSQ", "REX.W + A5", "", M64, K_STRING, A_REP, FD, 0, 0),
    ROW("STOSB", "AA", "", MBOTH, K_STRING, A_REP, FD, 0, 0),
    ROW("STOSW", "66 AB", "", MBOTH, K_STRING, A_REP, FD, 0, 0),
    ROW("STOSD", "AB", "", MBOTH, K_STRING, A_REP, FD, 0, 0),
    ROW("STOSQ", "REX.W + AB", "", M64, K_STRING, A_REP, FD, 0, 0),
    ROW("LODSB", "AC", "", MBOTH, K_STRING, A_REP, FD, 0, 0),
    ROW("LODSD", "AD", "", MBOTH, K_STRING, A_REP, FD, 0, 0),
    ROW("LODSQ", "REX.W + AD", "", M64, K_STRING, A_REP, FD, 0, 0),
    ROW("CMPSB", "A6", "", MBOTH, K_STRING, A_REPE, FD, FARITH, 0),
    ROW("CMPSW", "66 A7", "", MBOTH, K_STRING, A_REPE, FD, FARITH, 0),
    ROW("CMPSQ", "REX.W + A7", "", M64, K_STRING, A_REPE, FD, FARITH, 0),
    ROW("SCASB", "AE", "", MBOTH, K_STRING, A_REPE, FD, FARITH, 0),
    ROW("SCASD", "AF", "", MBOTH, K_STRING, A_REPE, FD, FARITH, 0),
    ROW("XLAT", "D7", "", MBOTH, K_XLAT, 0, 0, 0, 0),

    ROW("PUSH", "50+rd", "rv", MBOTH, K_STACK, 0, 0, 0, 0),
    ROW("POP", "58+rd", "rv", MBOTH, K_STACK, A_POP, 0, 0, 0),
    ROW("PUSH", "FF /6", "r/mv", MBOTH, K_STACK, 0, 0, 0, 0),
    ROW("POP", "8F /0", "r/mv", MBOTH, K_STACK, A_POP, 0, 0, 0),
    ROW("PUSH", "6A ib", "imm8", MBOTH, K_STACK, 0, 0, 0, 0),
    ROW("PUSH", "68 id", "imm32", MBOTH, K_STACK, 0, 0, 0, 0),
    ROW("PUSHF", "9C", "", MBOTH, K_STACK, 0, FARITH | FD, 0, 0),
    ROW("ENTER", "C8 iw ib", "imm16, imm8", MBOTH, K_ENTER, 0, 0, 0, 0),
    ROW("LEAVE", "C9", "", MBOTH, K_LEAVE, 0, 0, 0, 0),

    /* 32-bit only: BCD (AAA/AAS: OF SF ZF PF undefined; DAA/DAS: OF;
     * AAM/AAD: OF AF CF), PUSHA/POPA, SALC */
    ROW("DAA", "27", "", M32, K_PLAIN, 0, FC | FA, FC | FA | FS | FZ | FP, FO),
    ROW("DAS", "2F", "", M32, K_PLAIN, 0, FC | FA, FC | FA | FS | FZ | FP, FO),
    ROW("AAA", "37", "", M32, K_PLAIN, 0, FA, FA | FC, FO | FS | FZ | FP),
    ROW("AAS", "3F", "", M32, K_PLAIN, 0, FA, FA | FC, FO | FS | FZ | FP),
    ROW("AAM", "D4 ib", "imm8", M32, K_PLAIN, 0, 0, FS | FZ | FP, FO | FA | FC),
    ROW("AAD", "D5 ib", "imm8", M32, K_PLAIN, 0, 0, FS | FZ | FP, FO | FA | FC),
    ROW("PUSHA", "60", "", M32, K_STACK, A_RARE, 0, 0, 0),
    ROW("SALC", "D6", "", M32, K_PLAIN, A_RARE, FC, 0, 0),

    /* descriptor checks at CPL 3 (register sources only: a selector in
     * memory would be random data, naming descriptors only the host has) */
    ROW("LAR", "0F 02 /r", "rv, r16", MBOTH, K_SELECTOR, 0, 0, FZ, 0),
    ROW("LSL", "0F 03 /r", "rv, r16", MBOTH, K_SELECTOR, 0, 0, FZ, 0),
    ROW("VERR", "0F 00 /4", "r16", MBOTH, K_SELECTOR, 0, 0, FZ, 0),
    ROW("VERW", "0F 00 /5", "r16", MBOTH, K_SELECTOR, 0, 0, FZ, 0),

    /* segment loads at CPL 3 (DS and ES only: FS and GS hold the native
     * child's TLS and data bases, SS its stack) */
    ROW("MOV DS,", "8E /3", "r16", MBOTH, K_SEGLOAD, 0, 0, 0, 0),
    ROW("MOV ES,", "8E /0", "r16", MBOTH, K_SEGLOAD, 0, 0, 0, 0),

    /* software interrupts at CPL 3: INT3 and INTO through DPL 3 gates (as
     * Linux sets them), INT n through DPL 0 ones: #GP(n * 8 + 2) */
    ROW("INT3", "CC", "", MBOTH, K_PLAIN, A_RARE, 0, 0, 0),
    ROW("INTO", "CE", "", M32, K_PLAIN, A_RARE, FO, 0, 0),
    ROW("INT", "CD ib", "imm8", MBOTH, K_INTN, A_RARE, 0, 0, 0),

    /* far returns to the same privilege level (not in 16-bit mode: its code
     * segment is in the native child's LDT only); the forms without REX.W in
     * 64-bit mode pop 32-bit halves of the 64-bit pushes: #GP on CS 0 */
    ROW("RETF", "CB", "", MBOTH, K_FARRET, A_RARE, 0, 0, 0),
    ROW("RETF", "REX.W + CB", "", M64, K_FARRET, A_RARE, 0, 0, 0),
    ROW("RETF", "CA iw", "imm16", MBOTH, K_FARRET, A_RARE, 0, 0, 0),
    ROW("IRET", "CF", "", MBOTH, K_IRET, A_RARE, FARITH | FD, FARITH | FD, 0),
    ROW("IRETQ", "REX.W + CF", "", M64, K_IRET, A_RARE, FARITH | FD, FARITH | FD, 0),

    /* privileged or I/O at CPL 3: #GP in both */
    ROW("CLI", "FA", "", MBOTH, K_PLAIN, A_RARE, 0, 0, 0),
    ROW("HLT", "F4", "", MBOTH, K_PLAIN, A_RARE, 0, 0, 0),
    ROW("IN", "EC", "", MBOTH, K_PLAIN, A_RARE, 0, 0, 0),
    ROW("UD2", "0F 0B", "", MBOTH, K_PLAIN, A_RARE, 0, 0, 0),

    /* SSE2 integer and SSE floating point (default MXCSR) */
    ROW("PADDB", "66 0F FC /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PADDW", "66 0F FD /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PADDD", "66 0F FE /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PADDQ", "66 0F D4 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PSUBUSB", "66 0F D8 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PADDSW", "66 0F ED /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PMULLW", "66 0F D5 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PMULUDQ", "66 0F F4 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PAND", "66 0F DB /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PXOR", "66 0F EF /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PCMPEQB", "66 0F 74 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PCMPGTD", "66 0F 66 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PUNPCKLBW", "66 0F 60 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PACKSSWB", "66 0F 63 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PSHUFD", "66 0F 70 /r ib", "xmm1, xmm2/m128, imm8", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PSRLW", "66 0F 71 /2 ib", "xmm1, imm8", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("PSRAD", "66 0F 72 /4 ib", "xmm1, imm8", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("PSLLQ", "66 0F 73 /6 ib", "xmm1, imm8", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("PSRLDQ", "66 0F 73 /3 ib", "xmm1, imm8", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("PSLLDQ", "66 0F 73 /7 ib", "xmm1, imm8", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("PSRAW", "66 0F 71 /4 ib", "xmm1, imm8", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("PMADDUBSW", "66 0F 38 04 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PABSB", "66 0F 38 1C /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PMINSD", "66 0F 38 39 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PMULLD", "66 0F 38 40 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PSHUFB", "66 0F 38 00 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PALIGNR", "66 0F 3A 0F /r ib", "xmm1, xmm2/m128, imm8", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("PCMPISTRI", "66 0F 3A 63 /r ib", "xmm1, xmm2/m128, imm8", MBOTH, K_SSE, 0, 0, FARITH, 0),
    ROW("PMOVMSKB", "66 0F D7 /r", "r32, xmm", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("MOVDQA", "66 0F 6F /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("MOVDQA", "66 0F 7F /r", "xmm2/m128, xmm1", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("MOVDQU", "F3 0F 6F /r", "xmm1, xmm2/m128", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("MOVDQU", "F3 0F 7F /r", "xmm2/m128, xmm1", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("MOVD", "66 0F 6E /r", "xmm, r/m32", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("MOVD", "66 0F 7E /r", "r/m32, xmm", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("MOVQ", "66 REX.W + 0F 6E /r", "xmm, r/m64", M64, K_SSE, 0, 0, 0, 0),
    ROW("MOVQ", "F3 0F 7E /r", "xmm1, xmm2/m64", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("ADDPS", "0F 58 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("MULPD", "66 0F 59 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("SUBSD", "F2 0F 5C /r", "xmm1, xmm2/m64", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("DIVSS", "F3 0F 5E /r", "xmm1, xmm2/m32", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("MINPS", "0F 5D /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("SQRTPD", "66 0F 51 /r", "xmm1, xmm2/m128", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),
    ROW("CVTTSD2SI", "F2 0F 2C /r", "r32, xmm1/m64", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("CVTSI2SD", "F2 0F 2A /r", "xmm1, r/m32", MBOTH, K_SSE, 0, 0, 0, 0),
    ROW("UCOMISD", "66 0F 2E /r", "xmm1, xmm2/m64", MBOTH, K_SSE, 0, 0, FARITH, 0),
    ROW("SHUFPS", "0F C6 /r ib", "xmm1, xmm2/m128, imm8", MBOTH, K_SSE, A_ALIGN16, 0, 0, 0),

    /* x87: the snippet starts with FXRSTOR of a random image and ends with
     * FXSAVE into the compared data. No transcendentals (FSIN, F2XM1...):
     * their last bits are the implementation's. "+i" picks ST(i). */
    X87("FLD", "D9 /0", "m32fp"), X87("FLD", "DD /0", "m64fp"), X87("FLD", "DB /5", "m80fp"),
    X87("FLD", "D9 C0+i", "ST(i)"), X87("FST", "DD /2", "m64fp"), X87("FSTP", "DB /7", "m80fp"),
    X87("FST", "D9 /2", "m32fp"), X87("FSTP", "DD D8+i", "ST(i)"),
    X87("FILD", "DB /0", "m32int"), X87("FILD", "DF /0", "m16int"), X87("FILD", "DF /5", "m64int"),
    X87("FISTP", "DF /7", "m64int"), X87("FIST", "DB /2", "m32int"), X87("FISTTP", "DB /1", "m32int"),
    X87("FBSTP", "DF /6", "m80bcd"), X87("FBLD", "DF /4", "m80bcd"),
    X87("FADD", "D8 C0+i", "ST(0), ST(i)"), X87("FADD", "DC /0", "m64fp"), X87("FADDP", "DE C0+i", "ST(i), ST(0)"),
    X87("FSUB", "D8 E0+i", "ST(0), ST(i)"), X87("FSUBR", "D8 /5", "m32fp"), X87("FSUBRP", "DE E0+i", "ST(i), ST(0)"),
    X87("FMUL", "DC C8+i", "ST(i), ST(0)"), X87("FMUL", "D8 /1", "m32fp"), X87("FIMUL", "DE /1", "m16int"),
    X87("FDIV", "D8 F0+i", "ST(0), ST(i)"), X87("FDIVR", "DC /7", "m64fp"), X87("FIDIV", "DA /6", "m32int"),
    X87("FDIVP", "DE F8+i", "ST(i), ST(0)"),
    X87("FCHS", "D9 E0", ""), X87("FABS", "D9 E1", ""), X87("FSQRT", "D9 FA", ""), X87("FRNDINT", "D9 FC", ""),
    X87("FSCALE", "D9 FD", ""), X87("FXTRACT", "D9 F4", ""), X87("FPREM", "D9 F8", ""), X87("FPREM1", "D9 F5", ""),
    X87("FCOM", "D8 D0+i", "ST(i)"), X87("FCOMP", "DC /3", "m64fp"), X87("FUCOMPP", "DA E9", ""),
    X87("FTST", "D9 E4", ""), X87("FXAM", "D9 E5", ""), X87("FNSTSW AX", "DF E0", ""), X87("FNSTSW", "DD /7", "m16"),
    X87("FNSTCW", "D9 /7", "m16"), X87("FXCH", "D9 C8+i", "ST(i)"), X87("FLD1", "D9 E8", ""), X87("FLDZ", "D9 EE", ""),
    X87("FLDPI", "D9 EB", ""), X87("FLDL2E", "D9 EA", ""), X87("FINCSTP", "D9 F7", ""), X87("FDECSTP", "D9 F6", ""),
    X87("FFREE", "DD C0+i", "ST(i)"), X87("FNCLEX", "DB E2", ""), X87("FNINIT", "DB E3", ""),
    ROW("FUCOMI", "DB E8+i", "ST, ST(i)", MBOTH, K_X87, 0, 0, FARITH, 0),
    ROW("FCOMIP", "DF F0+i", "ST, ST(i)", MBOTH, K_X87, 0, 0, FARITH, 0),
    ROW("FCMOVB", "DA C0+i", "ST(0), ST(i)", MBOTH, K_X87, 0, FC, 0, 0),
    ROW("FCMOVNBE", "DB D0+i", "ST(0), ST(i)", MBOTH, K_X87, 0, FC | FZ, 0, 0),
    ROW("FLDCW", "D9 /5", "m16", MBOTH, K_X87, A_RARE, 0, 0, 0),

    /* MMX (the x87 registers' mantissas) */
    X87("PADDB", "0F FC /r", "mm, mm/m64"), X87("PSUBW", "0F F9 /r", "mm, mm/m64"),
    X87("PMULLW", "0F D5 /r", "mm, mm/m64"), X87("PAND", "0F DB /r", "mm, mm/m64"),
    X87("PCMPEQD", "0F 76 /r", "mm, mm/m64"), X87("PUNPCKLBW", "0F 60 /r", "mm, mm/m32"),
    X87("PACKUSWB", "0F 67 /r", "mm, mm/m64"), X87("PSRLQ", "0F 73 /2 ib", "mm, imm8"),
    X87("MOVQ", "0F 6F /r", "mm, mm/m64"), X87("MOVQ", "0F 7F /r", "mm/m64, mm"),
    X87("MOVD", "0F 6E /r", "mm, r/m32"), X87("MOVD", "0F 7E /r", "r/m32, mm"),
    X87("PSHUFW", "0F 70 /r ib", "mm, mm/m64, imm8"), X87("PMOVMSKB", "0F D7 /r", "r32, mm"),
    X87("EMMS", "0F 77", ""),
};

#endif
