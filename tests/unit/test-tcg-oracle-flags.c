/* Lazy flags against the host CPU: every flag producer followed by every
 * kind of flag consumer, in the same block (a static cc_op: the inline
 * forms of translate-cc.c) and in the next block (a dynamic cc_op: the
 * guarded inline form for the cc_op seen at translation, the helper for any
 * other). The "twice" cases enter the consumer block from two different
 * producers, so that the second entry misses the guess. Both backends,
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

typedef enum { SAME_BLOCK, NEXT_BLOCK, TWICE, AFTER_VAR_SHIFT, NLAYOUT } Layout;

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
        [AFTER_VAR_SHIFT] = "; shl eax,cl;",
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
