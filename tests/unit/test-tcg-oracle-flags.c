/* Lazy flags against the host CPU: every flag producer followed by every
 * kind of flag consumer, in the same block (a static cc_op: the inline
 * forms of translate-cc.c) and in the next block (a dynamic cc_op: the
 * guarded inline form for the cc_op seen at translation, the helper for any
 * other). The "twice" cases enter the consumer block from two different
 * producers, so that the second entry misses the guess; the loop cases
 * enter a loop head that reads flags first from another producer than the
 * one at the jump back, or from the same one (the back edge then skips the
 * guard). Both backends,
 * 64-bit mode, random operands from a fixed seed. */
#include <stdlib.h>
#include <string.h>
#include "cpu/x86/cc.h"
#include "cpu/x86/cpu.h"
#include "harness.h"
#include "harness-oracle.h"
#include "system/machine.h"

#define ITER 24
#define OSZPC (CC_O | CC_S | CC_Z | CC_P | CC_C)

typedef struct Insn {
    const char *name;
    uint8_t len, code[12];
    uint32_t flags_defined;     /* after a consumer; 0: O S Z P C */
} Insn;
#define I(name, ...) { name, sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }, 0 }
#define I_DEF(name, defined, ...) { name, sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }, defined }

/* Producers whose O S Z P C are all defined (AF is not always). */
static const Insn producers[] = {
    I("add eax,ebx", 0x01, 0xd8),     I("add al,bl", 0x00, 0xd8),
    I("sub rax,rbx", 0x48, 0x29, 0xd8), I("cmp ax,bx", 0x66, 0x39, 0xd8),
    I("sub bl,al", 0x28, 0xc3),       I("and eax,ebx", 0x21, 0xd8),
    I("xor rax,rbx", 0x48, 0x31, 0xd8), I("test bl,al", 0x84, 0xc3),
    I("inc eax", 0xff, 0xc0),         I("dec bx", 0x66, 0xff, 0xcb),
    I("inc rax", 0x48, 0xff, 0xc0),   I("dec al", 0xfe, 0xc8),
    I("adc eax,ebx", 0x11, 0xd8),     I("sbb rax,rbx", 0x48, 0x19, 0xd8),
    I("adc al,bl", 0x10, 0xd8),       I("neg eax", 0xf7, 0xd8),
    I("shl eax,1", 0xd1, 0xe0),       I("shr rax,1", 0x48, 0xd1, 0xe8),
    I("sar bl,1", 0xd0, 0xfb),        I("shl ax,1", 0x66, 0xd1, 0xe0),
};

/* Consumers; each reads only O S Z P C and leaves the flags defined. */
static const Insn consumers[] = {
    I("seto/setb/sete/setbe", 0x0f, 0x90, 0xc1, 0x0f, 0x92, 0xc2, 0x0f, 0x94, 0xc6),
    I("setbe/sets/setp", 0x0f, 0x96, 0xc1, 0x0f, 0x98, 0xc2, 0x0f, 0x9a, 0xc6),
    I("setl/setle", 0x0f, 0x9c, 0xc1, 0x0f, 0x9e, 0xc2),
    I("setno/setae/seta", 0x0f, 0x91, 0xc1, 0x0f, 0x93, 0xc2, 0x0f, 0x97, 0xc6),
    I("setnp/setge/setg", 0x0f, 0x9b, 0xc1, 0x0f, 0x9d, 0xc2, 0x0f, 0x9f, 0xc6),
    I("adc ecx,edx", 0x11, 0xd1),
    I("sbb ecx,edx", 0x19, 0xd1),
    I("inc esi;adc", 0xff, 0xc6, 0x11, 0xd1),
    I("inc esi;mov;adc", 0xff, 0xc6, 0x89, 0xd8, 0x11, 0xd1),
    I("inc esi;cmp;setb", 0xff, 0xc6, 0x39, 0xd6, 0x0f, 0x92, 0xc1),
    I("dec ecx;and;setne", 0xff, 0xc9, 0x21, 0xd1, 0x0f, 0x95, 0xc2),
    I("dec dl;sbb", 0xfe, 0xca, 0x19, 0xd1),
    I("cmovle ecx,edx", 0x0f, 0x4e, 0xca),
    I("cmova rcx,rdx", 0x48, 0x0f, 0x47, 0xca),
    I("jo +3;lea", 0x70, 0x03, 0x8d, 0x76, 0x01),
    I("jbe +3;lea", 0x76, 0x03, 0x8d, 0x76, 0x01),
    I("jl +3;lea", 0x7c, 0x03, 0x8d, 0x76, 0x01),
    I("jp +3;lea", 0x7a, 0x03, 0x8d, 0x76, 0x01),
    I("lahf;and ah,~AF", 0x9f, 0x80, 0xe4, 0xef),
    I("cmc;adc", 0xf5, 0x11, 0xd1),
    I("rol edx,5;lahf;and ah,~AF", 0xc1, 0xc2, 0x05, 0x9f, 0x80, 0xe4, 0xef),
    I("stc;sbb", 0xf9, 0x19, 0xd1),
    I_DEF("bt eax,3", CC_Z | CC_C, 0x0f, 0xba, 0xe0, 0x03),
    I_DEF("bts ecx,edx", CC_Z | CC_C, 0x0f, 0xab, 0xd1),
};

/* Mid-block dynamic cc_op: a variable shift (count 0 keeps the old flags). */
static const Insn var_shifts[] = {
    I("shl eax,cl", 0xd3, 0xe0),
};

typedef enum { SAME_BLOCK, NEXT_BLOCK, TWICE, AFTER_VAR_SHIFT, LOOP, LOOP_SAME_CC, NLAYOUT } Layout;

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void) { return oracle_xorshift(&rng_state); }

static uint64_t interesting(void)
{
    static const uint64_t v[] = {
        0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
        0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL,
    };
    uint64_t r = rnd();
    switch (r % 3) {
    case 0: return v[(r >> 8) % ARRAY_SIZE(v)];
    case 1: return rnd() & 0xff;
    default: return rnd();
    }
}

static void put(OracleCase *c, const uint8_t *b, unsigned n)
{
    memcpy(c->code + c->len, b, n);
    c->len += n;
}

static void put_insn(OracleCase *c, const Insn *i) { put(c, i->code, i->len); }

static void put_rel32(OracleCase *c, uint8_t op, unsigned target)
{
    int32_t rel = (int32_t)target - (int32_t)(c->len + 5);
    uint8_t b[5] = { op, (uint8_t)rel, (uint8_t)(rel >> 8), (uint8_t)(rel >> 16), (uint8_t)(rel >> 24) };
    put(c, b, 5);
}

/* p1 [jmp +0] consumer, or the consumer as a subroutine called after p1 and
 * after p2 (two entries with different cc_ops). */
static void build(OracleCase *c, Layout l, const Insn *p1, const Insn *p2, const Insn *use)
{
    static const uint8_t jmp0[] = { 0xeb, 0x00 };
    c->len = 0;
    switch (l) {
    case SAME_BLOCK:
        put_insn(c, p1);
        put_insn(c, use);
        break;
    case NEXT_BLOCK:
        put_insn(c, p1);
        put(c, jmp0, 2);
        put_insn(c, use);
        break;
    case AFTER_VAR_SHIFT:
        put_insn(c, p1);
        put_insn(c, &var_shifts[0]);
        put_insn(c, use);
        break;
    case LOOP: {    /* p1; mov r8d,3; jmp +0; L: use; dec r8d; jnz L */
        static const uint8_t count[] = { 0x41, 0xb8, 0x03, 0x00, 0x00, 0x00 }, dec[] = { 0x41, 0xff, 0xc8 };
        put_insn(c, p1);
        put(c, count, sizeof(count));
        put(c, jmp0, 2);
        unsigned head = c->len;
        put_insn(c, use);
        put(c, dec, sizeof(dec));
        put(c, (const uint8_t[]){ 0x75, (uint8_t)(head - (c->len + 2)) }, 2);
        break;
    }
    case LOOP_SAME_CC: {   /* p1; mov r8d,4; dec r8d; jmp +0; L: use; dec r8d; jnz L */
        /* the loop is entered with the cc_op its back edge leaves (DEC, CF
         * from p1): the back edge skips the head's cc_op guard */
        static const uint8_t count[] = { 0x41, 0xb8, 0x04, 0x00, 0x00, 0x00 }, dec[] = { 0x41, 0xff, 0xc8 };
        put_insn(c, p1);
        put(c, count, sizeof(count));
        put(c, dec, sizeof(dec));
        put(c, jmp0, 2);
        unsigned head = c->len;
        put_insn(c, use);
        put(c, dec, sizeof(dec));
        put(c, (const uint8_t[]){ 0x75, (uint8_t)(head - (c->len + 2)) }, 2);
        break;
    }
    default: {   /* p1; call L; p2; call L; jmp end; L: use; ret; end: */
        unsigned sub = p1->len + 5 + p2->len + 5 + 5;
        put_insn(c, p1);
        put_rel32(c, 0xe8, sub);
        put_insn(c, p2);
        put_rel32(c, 0xe8, sub);
        put_rel32(c, 0xe9, sub + use->len + 1);
        put_insn(c, use);
        put(c, (const uint8_t[]){ 0xc3 }, 1);
        break;
    }
    }
    static const char *const lname[NLAYOUT] = {
        [SAME_BLOCK] = ";", [NEXT_BLOCK] = "; jmp +0;", [TWICE] = ", then",
        [AFTER_VAR_SHIFT] = "; shl eax,cl;", [LOOP] = "; 3 times (dec r8d; jnz):",
        [LOOP_SAME_CC] = "; dec r8d; 3 times (dec r8d; jnz):",
    };
    snprintf(c->name, sizeof(c->name), "%s%s%s%s %s", p1->name, lname[l],
             l == TWICE ? " " : "", l == TWICE ? p2->name : "", l == TWICE ? "; each: call" : use->name);
    if (l == TWICE)
        snprintf(c->name + strlen(c->name), sizeof(c->name) - strlen(c->name), " %s", use->name);
}

static OracleBatch batch;

static OracleBatch *get_batch(void)
{
    if (batch.cases)
        return &batch;
    size_t np = ARRAY_SIZE(producers), nc = ARRAY_SIZE(consumers);
    size_t n = np * nc * NLAYOUT;
    oracle_batch_init(&batch, n, ITER, 64);
    size_t t = 0;
    for (size_t l = 0; l < NLAYOUT; l++) {
        for (size_t p = 0; p < np; p++) {
            for (size_t u = 0; u < nc; u++, t++) {
                for (size_t k = 0; k < ITER; k++) {
                    OracleCase *c = oracle_batch_case(&batch, t, k);
                    build(c, (Layout)l, &producers[p], &producers[(p + 1 + u) % np], &consumers[u]);
                    /* AF: undefined after logic ops and shifts, so never compared */
                    uint32_t defined = consumers[u].flags_defined ? consumers[u].flags_defined : OSZPC;
                    c->flag_mask = c->flag_mask_fault = defined | DF_MASK;
                    uint64_t *r = c->in.gpr;
                    for (int i = 0; i < 16; i++)
                        if (i != R_ESP)
                            r[i] = interesting();
                    if (l == AFTER_VAR_SHIFT)   /* count 0 keeps the flags; 1 defines OF */
                        r[R_ECX] = (r[R_ECX] & ~0xffULL) | (k % 2);
                    c->in.rflags = (rnd() & CC_MASK) | 0x202;
                }
            }
        }
    }
    return &batch;
}

static void run_backend(bool interp)
{
    oracle_tcg_ram();
    int failures = oracle_batch_check(get_batch(), interp);
    if (failures < 0)
        SKIP(batch.why);
    CHECK_EQ(failures, 0);
}

TEST(flags_oracle_x86_64) { run_backend(false); }
TEST(flags_oracle_interp) { run_backend(true); }

/* ---- faults where only the fault sees a flag result ---------------------------
 * A flag producer (or register write) whose result the next instructions
 * replace right after a memory access is computed only on that access's slow
 * path (tcg/cold.c): a #PF there must still see it, registers and flags as
 * the host has them at the faulting instruction. Each template runs with the
 * access in the data (no fault: the slow path of the first TLB miss, then
 * the fast path) and in the unmapped page after it (#PF). */
typedef enum { F_CRC, F_STRLEN, F_BASE_RBX, F_BASE_RSI } FaultShape;

typedef struct FaultTemplate {
    const char *name;
    uint8_t code[48];
    unsigned len;
    uint32_t mask_end, mask_fault;
    FaultShape shape;
} FaultTemplate;
#define FT(name, end, fault, shape, ...) \
    { name, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), end, fault, shape }
#define SZPC (CC_S | CC_Z | CC_P | CC_C)
#define ALL6 (OSZPC | CC_A)

static const FaultTemplate fault_templates[] = {
    /* the kernel decompressor's CRC32 loop: SHR's carry source, RCX and cc_dst
     * only for the table load's fault */
    FT("crc32 loop (xor ecx,[r9+r15*4] faults)", OSZPC, SZPC, F_CRC,
       0x44, 0x0f, 0xb6, 0x3f, 0x48, 0x83, 0xc7, 0x01, 0x41, 0x31, 0xcf, 0xc1, 0xe9, 0x08,
       0x45, 0x0f, 0xb6, 0xff, 0x43, 0x33, 0x0c, 0xb9, 0x4c, 0x39, 0xc7, 0x75, 0xe5),
    /* strlen: INC's preserved carry (ADD's on the first round, CMP's later),
     * replaced by the CMP whose load faults; the loop is a block of its own */
    FT("mov [rsi],-1; add ebx,edx; L: inc rax; cmp byte [rax],0; jne L", ALL6, ALL6, F_STRLEN,
       0x48, 0xc7, 0x06, 0xff, 0xff, 0xff, 0xff, 0x01, 0xd3,
       0x48, 0xff, 0xc0, 0x80, 0x38, 0x00, 0x75, 0xf8),
    FT("mov [rsi],-1; add ebx,edx; jmp +0; L: inc rax; cmp byte [rax],0; jne L", ALL6, ALL6, F_STRLEN,
       0x48, 0xc7, 0x06, 0xff, 0xff, 0xff, 0xff, 0x01, 0xd3, 0xeb, 0x00,
       0x48, 0xff, 0xc0, 0x80, 0x38, 0x00, 0x75, 0xf8),
    FT("add eax,ebx; inc rcx; cmp byte [rsi],0", ALL6, ALL6, F_BASE_RSI,
       0x01, 0xd8, 0x48, 0xff, 0xc1, 0x80, 0x3e, 0x00),
    FT("cmp rsi,rdx; mov rdx,[rbx]; sub edi,1", ALL6, ALL6, F_BASE_RBX,
       0x48, 0x39, 0xd6, 0x48, 0x8b, 0x13, 0x83, 0xef, 0x01),
    FT("sub al,cl; movzx ecx,byte [rbx]; test ecx,edx", OSZPC, ALL6, F_BASE_RBX,
       0x28, 0xc8, 0x0f, 0xb6, 0x0b, 0x85, 0xd1),
    FT("shr eax,3; mov [rsi],ecx; and eax,edx", OSZPC, SZPC, F_BASE_RSI,
       0xc1, 0xe8, 0x03, 0x89, 0x0e, 0x21, 0xd0),
    FT("sar bl,1; mov ecx,[rsi]; or ecx,edx", OSZPC, OSZPC, F_BASE_RSI,
       0xd0, 0xfb, 0x8b, 0x0e, 0x09, 0xd1),
    FT("neg eax; add ecx,[rsi]; xor edx,ecx", OSZPC, ALL6, F_BASE_RSI,
       0xf7, 0xd8, 0x03, 0x0e, 0x31, 0xca),
    FT("shl ax,cl; xchg [rbx],dx; dec edi", OSZPC | CC_A, CC_S | CC_Z | CC_P, F_BASE_RBX,
       0x66, 0xd3, 0xe0, 0x66, 0x87, 0x13, 0xff, 0xcf),
    FT("movsx eax,bl; sub eax,ecx; mov [rsi+4],eax; cmp edx,edi", ALL6, ALL6, F_BASE_RSI,
       0x0f, 0xbe, 0xc3, 0x29, 0xc8, 0x89, 0x46, 0x04, 0x39, 0xfa),
};

/* A pointer into the data (the access succeeds) or, every other case, into
 * the unmapped page after it (#PF). */
static uint64_t data_or_hole(size_t k, unsigned span)
{
    return k % 2 ? ORACLE_DATA + rnd() % span : ORACLE_HOLE + rnd() % 64;
}

static void fault_inputs(const FaultTemplate *t, OracleCase *c, size_t k)
{
    uint64_t *r = c->in.gpr;
    for (int i = 0; i < 16; i++)
        if (i != R_ESP)
            r[i] = interesting();
    for (unsigned i = 0; i < ORACLE_MEM_CMP; i++)
        c->data[i] = (uint8_t)rnd();
    c->in.rflags = (rnd() & CC_MASK) | 0x202;
    switch (t->shape) {
    case F_CRC:      /* 16 bytes; a 1 KiB table in the data, or ending 256 bytes into the hole */
        r[R_EDI] = ORACLE_DATA;
        r[8] = ORACLE_DATA + 16;
        r[9] = k % 2 ? ORACLE_DATA + 0x100 : ORACLE_HOLE - 256 * 4 + 256 + (rnd() % 64) * 4;
        break;
    case F_STRLEN:   /* up to 8 non-zero bytes before the hole; a zero in the data */
        r[R_ESI] = ORACLE_HOLE - 8;
        r[R_EAX] = k % 2 ? ORACLE_DATA + rnd() % 512 : ORACLE_HOLE - 1 - rnd() % 8;
        c->data[r[R_EAX] % ORACLE_MEM_CMP] = 0;
        if (k % 2) {
            uint64_t z = r[R_EAX] + 1 + rnd() % 8 - ORACLE_DATA;
            if (z < ORACLE_MEM_CMP)
                c->data[z] = 0;
        }
        break;
    case F_BASE_RBX:
        r[R_EBX] = data_or_hole(k, 512);
        break;
    case F_BASE_RSI:
        r[R_ESI] = data_or_hole(k, 512);
        break;
    }
}

static OracleBatch fault_batch;

static OracleBatch *get_fault_batch(void)
{
    if (fault_batch.cases)
        return &fault_batch;
    size_t n = ARRAY_SIZE(fault_templates);
    oracle_batch_init(&fault_batch, n, ITER, 64);
    fault_batch.faults_expected = true;
    for (size_t t = 0; t < n; t++) {
        const FaultTemplate *ft = &fault_templates[t];
        for (size_t k = 0; k < ITER; k++) {
            OracleCase *c = oracle_batch_case(&fault_batch, t, k);
            snprintf(c->name, sizeof(c->name), "%s", ft->name);
            memcpy(c->code, ft->code, ft->len);
            c->len = ft->len;
            c->flag_mask = ft->mask_end | DF_MASK;
            c->flag_mask_fault = ft->mask_fault | DF_MASK;
            fault_inputs(ft, c, k);
        }
    }
    return &fault_batch;
}

static void run_faults(bool interp)
{
    oracle_tcg_ram();
    int failures = oracle_batch_check(get_fault_batch(), interp);
    if (failures < 0)
        SKIP(fault_batch.why);
    CHECK_EQ(failures, 0);
}

TEST(fault_sees_cold_flags_x86_64) { run_faults(false); }
TEST(fault_sees_cold_flags_interp) { run_faults(true); }
