/* The translator against the host CPU for 16-bit code, through the oracle's
 * harness (harness-oracle.h): natively in 16-bit protected mode on the LDT
 * segments the harness installs with modify_ldt (CS, DS/ES and SS based at
 * the oracle's code, data and stack, 64 KiB limits), under the translator
 * with the same segments. 16-bit decoding is the same as in real mode:
 * ModRM16 addressing (BX/BP/SI/DI, SS for BP), 16-bit stack, operand and
 * address size prefixes, 16-bit string instructions. */
#include "cpu/x86/cc.h"
#include "cpu/x86/cpu.h"
#include "harness.h"
#include "harness-oracle.h"
#include "system/util.h"

#define DATA_SIZE 1024
#define ITER 60
#define SP16 (ORACLE_RSP & 0xffff)   /* the stack offset the harness starts with */

enum { ANY, MEM, STR };

#define ALL (CC_MASK | DF_MASK)
#define C ORACLE_TEMPLATE

static const OracleTemplate cases[] = {
    C("add ax,bx", ALL, ANY, 0x01, 0xd8),
    C("sub al,ch", ALL, ANY, 0x28, 0xe8),
    C("add eax,ebx (66)", ALL, ANY, 0x66, 0x01, 0xd8),
    C("mov ax,[bx+si]", 0, MEM, 0x8b, 0x00),
    C("mov ax,[bx+di+2]", 0, MEM, 0x8b, 0x41, 0x02),
    C("mov ax,[bp-2]", 0, MEM, 0x8b, 0x46, 0xfe),
    C("add [bp+si+0x10],dx", ALL, MEM, 0x01, 0x52, 0x10),
    C("mov ax,[0x0010]", 0, MEM, 0xa1, 0x10, 0x00),
    C("mov cx,[0x0020] (modrm)", 0, MEM, 0x8b, 0x0e, 0x20, 0x00),
    C("mov ax,[ebx] (67)", 0, MEM, 0x67, 0x8b, 0x03),
    C("lea ax,[bx+si+5]", 0, ANY, 0x8d, 0x40, 0x05),
    C("lea ax,[bp+di-0x80]", 0, ANY, 0x8d, 0x43, 0x80),
    C("push/pop", 0, ANY, 0x53, 0x51, 0x58, 0x5a),
    C("push/pop 32", 0, ANY, 0x66, 0x53, 0x66, 0x58),
    C("call/ret near", 0, ANY, 0xe8, 0x02, 0x00, 0xeb, 0x03, 0x89, 0xd8, 0xc3, 0x90),
    C("pusha/popa", 0, ANY, 0x60, 0x61),
    C("enter/leave", 0, MEM, 0xc8, 0x04, 0x00, 0x00, 0x89, 0xe0, 0xc9),
    C("mul bx", CC_C | CC_O, ANY, 0xf7, 0xe3),
    C("imul cx", CC_C | CC_O, ANY, 0xf7, 0xe9),
    C("cbw;cwd", 0, ANY, 0x98, 0x99),
    C("shl ax,cl", CC_C | CC_Z | CC_S | CC_P, ANY, 0xd3, 0xe0),
    C("rol bx,1", CC_C | CC_O, ANY, 0xd1, 0xc3),
    C("loop", 0, ANY, 0x40, 0xe2, 0xfd),
    C("jcxz", 0, ANY, 0xe3, 0x01, 0x40, 0x41),
    C("rep movsb", ALL, STR, 0xf3, 0xa4),
    C("rep stosw", ALL, STR, 0xf3, 0xab),
    C("repe cmpsb", ALL, STR, 0xf3, 0xa6),
    C("lodsw;scasb", ALL, STR, 0xad, 0xae),
    C("xlat", 0, MEM, 0xd7),
    C("movzx eax,word[bx+si]", 0, MEM, 0x66, 0x0f, 0xb7, 0x00),
    C("xchg [bx+si],ax", 0, MEM, 0x87, 0x00),
    C("inc word [bx+di]", ALL, MEM, 0xff, 0x01),
    C("movsx eax,al;cdq", 0, ANY, 0x66, 0x0f, 0xbe, 0xc0, 0x66, 0x99),
};

static uint64_t rng = 0x1f2e3d4c5b6a7988ULL;
static uint64_t rnd(void) { return oracle_xorshift(&rng); }

static void make_inputs(const OracleTemplate *c, OracleCase *oc)
{
    static const uint32_t v[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x12345678, 0xffffffff };
    uint64_t *r = oc->in.gpr;
    for (int i = 0; i < 8; i++)
        if (i != R_ESP)
            r[i] = rnd() % 2 ? v[rnd() % ARRAY_SIZE(v)] : (uint32_t)rnd();
    oc->in.rflags = (rnd() & CC_MASK) | 0x202;
    for (int i = 0; i < DATA_SIZE; i++)
        oc->data[i] = (uint8_t)rnd();
    r[R_ECX] = (r[R_ECX] & 0xffff0000) | (rnd() % 20);
    if (c->shape == MEM) {
        /* [BX+SI], [BX+DI], [BX], [BX+AL] land in the data, [BP...] in the stack */
        r[R_EBX] = rnd() % 0x100;
        r[R_ESI] = rnd() % 0x100;
        r[R_EDI] = rnd() % 0x100;
        r[R_EBP] = SP16 - 0x100 + rnd() % 0x80;
    } else if (c->shape == STR) {
        r[R_ESI] = rnd() % 0x100;
        r[R_EDI] = 0x100 + rnd() % 0x100;
    }
}

static OracleBatch batch;

static void run_backend(bool interp)
{
    if (!batch.cases)
        oracle_batch_from_templates(&batch, cases, ARRAY_SIZE(cases), ITER, 16, make_inputs);
    int failures = oracle_batch_check(&batch, interp);
    if (failures < 0)
        SKIP(batch.why);
    CHECK_EQ(failures, 0);
}

TEST(oracle16_interp) { run_backend(true); }
TEST(oracle16_x86_64) { run_backend(false); }
