/* The translator against the host CPU for 32-bit code, through the oracle's
 * harness (harness-oracle.h): natively in compatibility mode (Linux's 32-bit
 * user code segment), under the translator in 32-bit protected mode at
 * CPL 3. Covers what 64-bit mode lacks: BCD adjustment, PUSHA/POPA, ENTER
 * with nesting, SALC, 16-bit LOOP/JCXZ, the one-byte INC/DEC forms. */
#include "cpu/x86/cc.h"
#include "cpu/x86/cpu.h"
#include "harness.h"
#include "harness-oracle.h"
#include "system/util.h"

#define DATA_SIZE 256
#define ITER 60

enum { ANY, STRING, FRAME, LOOP16 };

#define ALL (CC_MASK | DF_MASK)
#define C ORACLE_TEMPLATE

static const OracleTemplate cases[] = {
    C("daa", CC_C | CC_A | CC_S | CC_Z | CC_P, ANY, 0x27),
    C("das", CC_C | CC_A | CC_S | CC_Z | CC_P, ANY, 0x2f),
    C("add;daa", CC_C | CC_A | CC_S | CC_Z | CC_P, ANY, 0x00, 0xd8, 0x27),
    C("sub;das", CC_C | CC_A | CC_S | CC_Z | CC_P, ANY, 0x28, 0xd8, 0x2f),
    C("aaa", CC_C | CC_A, ANY, 0x37),
    C("aas", CC_C | CC_A, ANY, 0x3f),
    C("add;aaa", CC_C | CC_A, ANY, 0x00, 0xd8, 0x37),
    C("aam 10", CC_S | CC_Z | CC_P, ANY, 0xd4, 0x0a),
    C("aam 7", CC_S | CC_Z | CC_P, ANY, 0xd4, 0x07),
    C("aad 10", CC_S | CC_Z | CC_P, ANY, 0xd5, 0x0a),
    C("aad 3", CC_S | CC_Z | CC_P, ANY, 0xd5, 0x03),
    C("salc", 0, ANY, 0xd6),
    C("inc/dec short", ALL, ANY, 0x40, 0x4b, 0x47, 0x4e),
    C("pusha;popa", 0, ANY, 0x60, 0x61),
    C("pusha;pop*2", 0, ANY, 0x60, 0x58, 0x5b, 0x83, 0xc4, 0x18),
    C("pushaw;popaw", 0, ANY, 0x66, 0x60, 0x66, 0x61),
    C("push ax;pop bx", 0, ANY, 0x66, 0x50, 0x66, 0x5b),
    C("enter 8,0;leave", 0, FRAME, 0xc8, 0x08, 0x00, 0x00, 0x89, 0xe0, 0xc9),
    C("enter 16,3;leave", 0, FRAME, 0xc8, 0x10, 0x00, 0x03, 0x89, 0xe0, 0x8b, 0x4d, 0xf8, 0xc9),
    C("xlat", 0, STRING, 0xd7),
    C("rcl bl,cl", CC_C, ANY, 0xd2, 0xd3),
    C("rcr bx,cl", CC_C, ANY, 0x66, 0xd3, 0xdb),
    C("cwde;cdq", 0, ANY, 0x98, 0x99),
    C("loopw", 0, LOOP16, 0x40, 0x67, 0xe2, 0xfc),
    C("jcxz", 0, LOOP16, 0x67, 0xe3, 0x01, 0x40, 0x41),
    C("bswap;xchg", 0, ANY, 0x0f, 0xc9, 0x87, 0xd1),
    C("lahf;sahf", ALL, ANY, 0x9f, 0x80, 0xf4, 0xd5, 0x9e),
    C("call/ret", 0, ANY, 0xe8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x03, 0x89, 0xd8, 0xc3, 0x90),
    C("ret imm", 0, ANY, 0x68, 0x11, 0x22, 0x33, 0x44, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x58, 0x83, 0xc0, 0x08,
      0x50, 0xc2, 0x04, 0x00),
    C("rep stosw", ALL, STRING, 0xf3, 0x66, 0xab),
    C("rep movsb", ALL, STRING, 0xf3, 0xa4),
    C("add [edi],al", ALL, STRING, 0x00, 0x07),
};

static uint64_t rng = 0x7a5c3e1f9b8d6042ULL;
static uint64_t rnd(void) { return oracle_xorshift(&rng); }

static uint32_t interesting(void)
{
    static const uint32_t v[] = { 0, 1, 9, 0x0a, 0x0f, 0x10, 0x19, 0x7f, 0x80, 0x99, 0x9a, 0xff,
                                  0x100, 0xffff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff };
    uint64_t r = rnd();
    return r % 3 ? v[(r >> 8) % ARRAY_SIZE(v)] : (uint32_t)rnd();
}

static void make_inputs(const OracleTemplate *c, OracleCase *oc)
{
    uint64_t *r = oc->in.gpr;
    for (int i = 0; i < 8; i++)
        if (i != R_ESP)
            r[i] = interesting();
    oc->in.rflags = (rnd() & CC_MASK) | 0x202;
    for (int i = 0; i < DATA_SIZE; i++)
        oc->data[i] = (uint8_t)rnd();
    switch (c->shape) {
    case STRING:
        r[R_EDI] = ORACLE_DATA + 64 + rnd() % 64;
        r[R_ESI] = ORACLE_DATA + 64 + rnd() % 64;
        r[R_EBX] = ORACLE_DATA;
        r[R_ECX] = rnd() % 40;
        break;
    case FRAME:
        r[R_EBP] = ORACLE_RSP - 0x100 - 4 * (rnd() % 16);
        break;
    case LOOP16:
        r[R_ECX] = (rnd() & 0xffff0000) | (rnd() % 5);
        break;
    }
}

static OracleBatch batch;

static void run_backend(bool interp)
{
    if (!batch.cases)
        oracle_batch_from_templates(&batch, cases, ARRAY_SIZE(cases), ITER, 32, make_inputs);
    int failures = oracle_batch_check(&batch, interp);
    if (failures < 0)
        SKIP(batch.why);
    CHECK_EQ(failures, 0);
}

TEST(oracle32_interp) { run_backend(true); }
TEST(oracle32_x86_64) { run_backend(false); }
