/* Integer instructions under test, shared by the guest program alu.c and the
 * host generator host/gen-alu.c, which runs the very same inline assembly
 * natively to produce the expected answers (build/tests/guest/alu-expected.h).
 * The asm is written to assemble both as 32-bit and as 64-bit code.
 *
 * Each op takes inputs a, b and the arithmetic flags in, and gives r1, r2
 * and the flags out. Only architecturally defined results are compared: see
 * alu_flag_mask() and alu_case_valid(). */
#ifndef GUEST_ALU_OPS_H
#define GUEST_ALU_OPS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct AluIO {
    uint32_t a, b, fin;
    uint32_t r1, r2, fout;
} AluIO;

#define F_C 0x001
#define F_P 0x004
#define F_A 0x010
#define F_Z 0x040
#define F_S 0x080
#define F_O 0x800
#define F_ALL (F_C | F_P | F_A | F_Z | F_S | F_O)

/* pushf/popf of the native width: in the host generator (64-bit, built with
 * -mno-red-zone) and in the guest alike. */
#define FLAGS_IN  "push %[fl]\n\tpopf\n\t"
#define FLAGS_OUT "\n\tpushf\n\tpop %[fl]"

#define BIN(name, T, C, insn)                                                 \
    static void op_##name(AluIO *io)                                          \
    {                                                                         \
        T a = (T)io->a, b = (T)io->b;                                         \
        unsigned long fl = io->fin;                                           \
        asm volatile(FLAGS_IN insn " %[b], %[a]" FLAGS_OUT                    \
                     : [a] "+" C(a), [fl] "+r"(fl) : [b] C(b) : "cc");        \
        io->r1 = a;                                                           \
        io->fout = (uint32_t)fl;                                              \
    }
#define UN(name, T, C, insn)                                                  \
    static void op_##name(AluIO *io)                                          \
    {                                                                         \
        T a = (T)io->a;                                                       \
        unsigned long fl = io->fin;                                           \
        asm volatile(FLAGS_IN insn " %[a]" FLAGS_OUT                          \
                     : [a] "+" C(a), [fl] "+r"(fl) :: "cc");                  \
        io->r1 = a;                                                           \
        io->fout = (uint32_t)fl;                                              \
    }
/* Shifts and rotates by CL = b. */
#define SHIFT(name, T, C, insn)                                               \
    static void op_##name(AluIO *io)                                          \
    {                                                                         \
        T a = (T)io->a;                                                       \
        uint8_t c = (uint8_t)io->b;                                           \
        unsigned long fl = io->fin;                                           \
        asm volatile(FLAGS_IN insn " %%cl, %[a]" FLAGS_OUT                    \
                     : [a] "+" C(a), [fl] "+r"(fl) : "c"(c) : "cc");          \
        io->r1 = a;                                                           \
        io->fout = (uint32_t)fl;                                              \
    }
/* Double shifts by an immediate count: a = destination, b = source. */
#define DSHIFT(name, insn, count)                                             \
    static void op_##name(AluIO *io)                                          \
    {                                                                         \
        uint32_t a = io->a, b = io->b;                                        \
        unsigned long fl = io->fin;                                           \
        asm volatile(FLAGS_IN insn " $" #count ", %[b], %[a]" FLAGS_OUT      \
                     : [a] "+r"(a), [fl] "+r"(fl) : [b] "r"(b) : "cc");       \
        io->r1 = a;                                                           \
        io->fout = (uint32_t)fl;                                              \
    }
/* One-operand multiply/divide: EDX:EAX (DX:AX, AX) op b. */
#define MULDIV(name, T, insn, setup)                                          \
    static void op_##name(AluIO *io)                                          \
    {                                                                         \
        uint32_t a = io->a, d = 0;                                            \
        T b = (T)io->b;                                                       \
        unsigned long fl = io->fin;                                           \
        asm volatile(FLAGS_IN setup insn " %[b]" FLAGS_OUT                    \
                     : "+a"(a), "+d"(d), [fl] "+r"(fl) : [b] "r"(b) : "cc");  \
        io->r1 = a;                                                           \
        io->r2 = d;                                                           \
        io->fout = (uint32_t)fl;                                              \
    }

BIN(add32, uint32_t, "r", "addl")
BIN(adc32, uint32_t, "r", "adcl")
BIN(sub32, uint32_t, "r", "subl")
BIN(sbb32, uint32_t, "r", "sbbl")
BIN(and32, uint32_t, "r", "andl")
BIN(or32, uint32_t, "r", "orl")
BIN(xor32, uint32_t, "r", "xorl")
BIN(cmp32, uint32_t, "r", "cmpl")
BIN(test32, uint32_t, "r", "testl")
BIN(add16, uint16_t, "r", "addw")
BIN(sbb16, uint16_t, "r", "sbbw")
BIN(cmp16, uint16_t, "r", "cmpw")
BIN(add8, uint8_t, "q", "addb")
BIN(adc8, uint8_t, "q", "adcb")
BIN(sub8, uint8_t, "q", "subb")
BIN(xor8, uint8_t, "q", "xorb")
BIN(imul32, uint32_t, "r", "imull")
BIN(imul16, uint16_t, "r", "imulw")
BIN(bt32, uint32_t, "r", "btl")
BIN(bts32, uint32_t, "r", "btsl")
BIN(btr32, uint32_t, "r", "btrl")
BIN(btc32, uint32_t, "r", "btcl")
BIN(bsf32, uint32_t, "r", "bsfl")
BIN(bsr32, uint32_t, "r", "bsrl")
UN(inc32, uint32_t, "r", "incl")
UN(dec32, uint32_t, "r", "decl")
UN(neg32, uint32_t, "r", "negl")
UN(not32, uint32_t, "r", "notl")
UN(inc8, uint8_t, "q", "incb")
UN(neg16, uint16_t, "r", "negw")
UN(bswap32, uint32_t, "r", "bswap")
SHIFT(shl32, uint32_t, "r", "shll")
SHIFT(shr32, uint32_t, "r", "shrl")
SHIFT(sar32, uint32_t, "r", "sarl")
SHIFT(rol32, uint32_t, "r", "roll")
SHIFT(ror32, uint32_t, "r", "rorl")
SHIFT(rcl32, uint32_t, "r", "rcll")
SHIFT(rcr32, uint32_t, "r", "rcrl")
SHIFT(shl8, uint8_t, "q", "shlb")
SHIFT(sar16, uint16_t, "r", "sarw")
DSHIFT(shld1, "shldl", 1)
DSHIFT(shld4, "shldl", 4)
DSHIFT(shrd1, "shrdl", 1)
DSHIFT(shrd13, "shrdl", 13)
MULDIV(mul32, uint32_t, "mull", "")
MULDIV(imul1_32, uint32_t, "imull", "")
MULDIV(mul8, uint8_t, "mulb", "")
MULDIV(div32, uint32_t, "divl", "")
MULDIV(idiv32, uint32_t, "idivl", "cltd\n\t")
MULDIV(div16, uint16_t, "divw", "")

/* XADD writes both operands: r1 = a + b, r2 = old a. */
static void op_xadd32(AluIO *io)
{
    uint32_t a = io->a, b = io->b;
    unsigned long fl = io->fin;
    asm volatile(FLAGS_IN "xaddl %[b], %[a]" FLAGS_OUT
                 : [a] "+r"(a), [b] "+r"(b), [fl] "+r"(fl) :: "cc");
    io->r1 = a;
    io->r2 = b;
    io->fout = (uint32_t)fl;
}

/* The 16 conditions after CMP a, b: bit n = SETcc with cc = n. */
static void op_setcc(AluIO *io)
{
    uint32_t bits = 0;
    uint8_t v;
#define SETCC(n, cc)                                                              \
    asm volatile("cmpl %[b], %[a]\n\tset" cc " %[v]" : [v] "=q"(v)               \
                 : [a] "r"(io->a), [b] "r"(io->b) : "cc");                        \
    bits |= (uint32_t)v << n;
    SETCC(0, "o") SETCC(1, "no") SETCC(2, "b") SETCC(3, "ae") SETCC(4, "e") SETCC(5, "ne")
    SETCC(6, "be") SETCC(7, "a") SETCC(8, "s") SETCC(9, "ns") SETCC(10, "p") SETCC(11, "np")
    SETCC(12, "l") SETCC(13, "ge") SETCC(14, "le") SETCC(15, "g")
#undef SETCC
    io->r1 = bits;
    io->fout = 0;
}

/* CMOVcc after TEST a, a, and CMPXCHG with EAX = b. */
static void op_cmov(AluIO *io)
{
    uint32_t r = 0, s = 0;
    asm volatile("testl %[a], %[a]\n\tcmovsl %[b], %[r]\n\tcmovzl %[b], %[s]"
                 : [r] "+r"(r), [s] "+r"(s) : [a] "r"(io->a), [b] "r"(io->b) : "cc");
    io->r1 = r;
    io->r2 = s;
    io->fout = 0;
}

static void op_cmpxchg(AluIO *io)
{
    uint32_t mem = io->a, eax = io->b, newv = 0x5a5a5a5a;
    unsigned long fl = io->fin;
    asm volatile(FLAGS_IN "cmpxchgl %[n], %[m]" FLAGS_OUT
                 : [m] "+r"(mem), "+a"(eax), [fl] "+r"(fl) : [n] "r"(newv) : "cc");
    io->r1 = mem;
    io->r2 = eax;
    io->fout = (uint32_t)fl;
}

/* MOVSX/MOVZX and the sign-extensions of the accumulator. */
static void op_extend(AluIO *io)
{
    int32_t sx8, sx16;
    uint32_t zx8, cwde = io->a;
    asm("movsbl %b1, %0" : "=r"(sx8) : "q"(io->a));
    asm("movswl %w1, %0" : "=r"(sx16) : "r"(io->a));
    asm("movzbl %b1, %0" : "=r"(zx8) : "q"(io->b));
    asm("cwtl" : "+a"(cwde));
    io->r1 = (uint32_t)sx8 ^ ((uint32_t)sx16 << 1) ^ (zx8 << 3);
    io->r2 = cwde;
    io->fout = 0;
}

typedef enum { M_ALL, M_LOGIC, M_SHIFT, M_ROT, M_MUL, M_NONE, M_BT, M_BS, M_DSHIFT1, M_DSHIFT } MaskKind;
typedef enum { V_ANY, V_DIV32, V_IDIV32, V_DIV16, V_BS } ValidKind;

typedef struct AluOp {
    const char *name;
    void (*fn)(AluIO *io);
    MaskKind mask;
    ValidKind valid;
    unsigned width;        /* operand bits, for the count masking of shifts */
} AluOp;

static const AluOp alu_ops[] = {
    { "add32", op_add32, M_ALL, V_ANY, 32 }, { "adc32", op_adc32, M_ALL, V_ANY, 32 },
    { "sub32", op_sub32, M_ALL, V_ANY, 32 }, { "sbb32", op_sbb32, M_ALL, V_ANY, 32 },
    { "and32", op_and32, M_LOGIC, V_ANY, 32 }, { "or32", op_or32, M_LOGIC, V_ANY, 32 },
    { "xor32", op_xor32, M_LOGIC, V_ANY, 32 }, { "cmp32", op_cmp32, M_ALL, V_ANY, 32 },
    { "test32", op_test32, M_LOGIC, V_ANY, 32 }, { "add16", op_add16, M_ALL, V_ANY, 16 },
    { "sbb16", op_sbb16, M_ALL, V_ANY, 16 }, { "cmp16", op_cmp16, M_ALL, V_ANY, 16 },
    { "add8", op_add8, M_ALL, V_ANY, 8 }, { "adc8", op_adc8, M_ALL, V_ANY, 8 },
    { "sub8", op_sub8, M_ALL, V_ANY, 8 }, { "xor8", op_xor8, M_LOGIC, V_ANY, 8 },
    { "imul32", op_imul32, M_MUL, V_ANY, 32 }, { "imul16", op_imul16, M_MUL, V_ANY, 16 },
    { "bt32", op_bt32, M_BT, V_ANY, 32 }, { "bts32", op_bts32, M_BT, V_ANY, 32 },
    { "btr32", op_btr32, M_BT, V_ANY, 32 }, { "btc32", op_btc32, M_BT, V_ANY, 32 },
    { "bsf32", op_bsf32, M_BS, V_BS, 32 }, { "bsr32", op_bsr32, M_BS, V_BS, 32 },
    { "xadd32", op_xadd32, M_ALL, V_ANY, 32 },
    { "inc32", op_inc32, M_ALL, V_ANY, 32 }, { "dec32", op_dec32, M_ALL, V_ANY, 32 },
    { "neg32", op_neg32, M_ALL, V_ANY, 32 }, { "not32", op_not32, M_ALL, V_ANY, 32 },
    { "inc8", op_inc8, M_ALL, V_ANY, 8 }, { "neg16", op_neg16, M_ALL, V_ANY, 16 },
    { "bswap32", op_bswap32, M_ALL, V_ANY, 32 },
    { "shl32", op_shl32, M_SHIFT, V_ANY, 32 }, { "shr32", op_shr32, M_SHIFT, V_ANY, 32 },
    { "sar32", op_sar32, M_SHIFT, V_ANY, 32 }, { "rol32", op_rol32, M_ROT, V_ANY, 32 },
    { "ror32", op_ror32, M_ROT, V_ANY, 32 }, { "rcl32", op_rcl32, M_ROT, V_ANY, 32 },
    { "rcr32", op_rcr32, M_ROT, V_ANY, 32 }, { "shl8", op_shl8, M_SHIFT, V_ANY, 8 },
    { "sar16", op_sar16, M_SHIFT, V_ANY, 16 },
    { "shld1", op_shld1, M_DSHIFT1, V_ANY, 32 }, { "shld4", op_shld4, M_DSHIFT, V_ANY, 32 },
    { "shrd1", op_shrd1, M_DSHIFT1, V_ANY, 32 }, { "shrd13", op_shrd13, M_DSHIFT, V_ANY, 32 },
    { "mul32", op_mul32, M_MUL, V_ANY, 32 }, { "imul1_32", op_imul1_32, M_MUL, V_ANY, 32 },
    { "mul8", op_mul8, M_MUL, V_ANY, 8 },
    { "div32", op_div32, M_NONE, V_DIV32, 32 }, { "idiv32", op_idiv32, M_NONE, V_IDIV32, 32 },
    { "div16", op_div16, M_NONE, V_DIV16, 16 },
    { "setcc", op_setcc, M_NONE, V_ANY, 32 }, { "cmov", op_cmov, M_NONE, V_ANY, 32 },
    { "cmpxchg", op_cmpxchg, M_ALL, V_ANY, 32 }, { "extend", op_extend, M_NONE, V_ANY, 32 },
};
#define ALU_NOPS (sizeof(alu_ops) / sizeof(alu_ops[0]))

static const uint32_t alu_inputs[] = {
    0, 1, 2, 7, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
    0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x12345678, 0xdeadbeef,
};
#define ALU_NIN (sizeof(alu_inputs) / sizeof(alu_inputs[0]))
static const uint32_t alu_flags_in[] = { 0x002, 0x002 | F_ALL };
#define ALU_NFLAGS 2

/* Whether a case runs at all (no #DE, no undefined destination). */
static inline bool alu_case_valid(const AluOp *op, uint32_t a, uint32_t b)
{
    switch (op->valid) {
    case V_DIV32: return b != 0;                       /* EDX = 0: quotient fits */
    case V_IDIV32: return b != 0 && !(a == 0x80000000 && b == 0xffffffff);
    case V_DIV16: return (uint16_t)b != 0 && (a & 0xffff) / (uint16_t)b <= 0xffff;
    case V_BS: return b != 0;
    default: return true;
    }
}

/* The flags an op defines for these inputs (the others may differ between
 * CPUs and are not compared). */
static inline uint32_t alu_flag_mask(const AluOp *op, uint32_t a, uint32_t b)
{
    (void)a;
    unsigned count = b & 31;
    switch (op->mask) {
    case M_ALL: return F_ALL;
    case M_LOGIC: return F_ALL & ~F_A;
    case M_SHIFT:
        /* count 0: nothing changes; 1: OF defined; AF never. */
        if (count == 0)
            return F_ALL;
        return (F_C | F_P | F_Z | F_S | (count == 1 ? F_O : 0)) &
               (count >= op->width && op->width < 32 ? ~(uint32_t)F_C : ~0u);
    case M_ROT:
        if (count == 0)
            return F_ALL;
        return F_P | F_A | F_Z | F_S | F_C | (count == 1 ? F_O : 0);
    case M_DSHIFT1: return F_ALL & ~F_A;
    case M_DSHIFT: return F_C | F_P | F_Z | F_S;
    case M_MUL: return F_C | F_O;
    case M_BT: return F_C;
    case M_BS: return F_Z;
    default: return 0;
    }
}

#endif
