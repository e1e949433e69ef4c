/* The translator against the host CPU: user-mode instruction snippets run
 * natively and under the translator (both backends, 64-bit mode) through the
 * oracle's harness (harness-oracle.h); registers, arithmetic flags, data and
 * stack must agree. Operands are random from a fixed seed; flags the
 * architecture leaves undefined for an instruction are masked. */
#include <stdlib.h>
#include "cpu/x86/cc.h"
#include "cpu/x86/cpu.h"
#include "harness.h"
#include "harness-oracle.h"
#include "system/machine.h"

#define DATA_ADDR ORACLE_DATA
#define DATA_SIZE 256
#define ITER 40

/* Operand shapes the random generator respects. */
enum { ANY, DIV32, IDIV32, DIV64, DIV8, STRING, SMALLCOUNT, BITNEG };

#define ALL (CC_MASK | DF_MASK)
#define OSZPC (CC_O | CC_S | CC_Z | CC_P | CC_C)
#define C ORACLE_TEMPLATE

static const OracleTemplate cases[] = {
    C("add r32", ALL, ANY, 0x01, 0xd8),
    C("add r64", ALL, ANY, 0x48, 0x01, 0xd8),
    C("add r8", ALL, ANY, 0x00, 0xd8),
    C("add ah,bh", ALL, ANY, 0x00, 0xfc),
    C("add r16", ALL, ANY, 0x66, 0x01, 0xd8),
    C("adc r32", ALL, ANY, 0x11, 0xd8),
    C("adc r64", ALL, ANY, 0x48, 0x11, 0xd8),
    C("sbb r8", ALL, ANY, 0x18, 0xd8),
    C("sbb r64", ALL, ANY, 0x48, 0x19, 0xd8),
    C("sub r32", ALL, ANY, 0x29, 0xd8),
    C("cmp r64", ALL, ANY, 0x48, 0x39, 0xd8),
    C("and r32", ALL & ~CC_A, ANY, 0x21, 0xd8),
    C("or r16", ALL & ~CC_A, ANY, 0x66, 0x09, 0xd8),
    C("xor r64", ALL & ~CC_A, ANY, 0x48, 0x31, 0xd8),
    C("add eax,imm8", ALL, ANY, 0x83, 0xc0, 0x80),
    C("sub rax,imm32", ALL, ANY, 0x48, 0x2d, 0x78, 0x56, 0x34, 0x92),
    C("cmp al,imm", ALL, ANY, 0x3c, 0x7f),
    C("adc ecx,imm8", ALL, ANY, 0x83, 0xd1, 0x01),
    C("add;adc;adc chain", ALL, ANY, 0x01, 0xd8, 0x11, 0xd1, 0x48, 0x11, 0xfe),
    C("sub;sbb;sbb chain", ALL, ANY, 0x29, 0xd8, 0x19, 0xd1, 0x48, 0x19, 0xfe),
    C("adc;sbb;adc r8", ALL, ANY, 0x10, 0xd8, 0x18, 0xd1, 0x10, 0xf2),
    C("shl;adc", ALL, ANY, 0xd1, 0xe0, 0x83, 0xd3, 0x00),
    C("shr;sbb", ALL, ANY, 0xc1, 0xe8, 0x03, 0x19, 0xdb),
    C("sar;adc", ALL, ANY, 0x48, 0xc1, 0xf8, 0x05, 0x48, 0x11, 0xd9),
    C("mul;adc", CC_C | CC_O, ANY, 0xf7, 0xe3, 0x11, 0xd1),
    C("inc r32", ALL, ANY, 0xff, 0xc0),
    C("dec r64", ALL, ANY, 0x48, 0xff, 0xc8),
    C("inc r8", ALL, ANY, 0xfe, 0xc3),
    C("neg r32", ALL, ANY, 0xf7, 0xd8),
    C("neg r8", ALL, ANY, 0xf6, 0xdb),
    C("not r64", ALL, ANY, 0x48, 0xf7, 0xd0),
    C("test r32", ALL & ~CC_A, ANY, 0x85, 0xd8),
    C("shl eax,cl", ALL & ~(CC_A | CC_O), ANY, 0xd3, 0xe0),
    C("shr rax,cl", ALL & ~(CC_A | CC_O), ANY, 0x48, 0xd3, 0xe8),
    C("sar bl,cl", ALL & ~(CC_A | CC_O), ANY, 0xd2, 0xfb),
    C("shl eax,1", ALL & ~CC_A, ANY, 0xd1, 0xe0),
    C("shr eax,1", ALL & ~CC_A, ANY, 0xd1, 0xe8),
    C("sar rax,1", ALL & ~CC_A, ANY, 0x48, 0xd1, 0xf8),
    C("shl eax,5", ALL & ~(CC_A | CC_O), ANY, 0xc1, 0xe0, 0x05),
    C("shr bx,9", ALL & ~(CC_A | CC_O), ANY, 0x66, 0xc1, 0xeb, 0x09),
    C("sar rdx,33", ALL & ~(CC_A | CC_O), ANY, 0x48, 0xc1, 0xfa, 0x21),
    C("rol eax,cl", CC_C | DF_MASK, ANY, 0xd3, 0xc0),
    C("ror r64,cl", CC_C | DF_MASK, ANY, 0x48, 0xd3, 0xc8),
    C("rol al,1", CC_C | CC_O, ANY, 0xd0, 0xc0),
    C("rol eax,7", CC_C | CC_S | CC_Z | CC_P | CC_A, ANY, 0xc1, 0xc0, 0x07),
    C("ror rbx,13", CC_C | CC_S | CC_Z | CC_P | CC_A, ANY, 0x48, 0xc1, 0xcb, 0x0d),
    C("rol bl,9", CC_C | CC_S | CC_Z | CC_P | CC_A, ANY, 0xc0, 0xc3, 0x09),
    C("ror cx,16", CC_C | CC_S | CC_Z | CC_P | CC_A, ANY, 0x66, 0xc1, 0xc9, 0x10),
    C("ror edx,1;adc", ALL, ANY, 0xd1, 0xca, 0x11, 0xd0),
    C("add;rol;jc-ish setc", 0, ANY, 0x01, 0xd8, 0xc1, 0xc0, 0x03, 0x0f, 0x92, 0xc1, 0x0f, 0x98, 0xc2),
    C("ror ax,1", CC_C | CC_O, ANY, 0x66, 0xd1, 0xc8),
    C("rcl eax,cl", CC_C, SMALLCOUNT, 0xd3, 0xd0),
    C("rcr bl,cl", CC_C, SMALLCOUNT, 0xd2, 0xdb),
    C("rcl rax,1", CC_C | CC_O, ANY, 0x48, 0xd1, 0xd0),
    C("rcr ax,1", CC_C | CC_O, ANY, 0x66, 0xd1, 0xd8),
    C("shld eax,ebx,cl", CC_C | CC_S | CC_Z | CC_P, ANY, 0x0f, 0xa5, 0xd8),
    C("shrd rax,rbx,cl", CC_C | CC_S | CC_Z | CC_P, ANY, 0x48, 0x0f, 0xad, 0xd8),
    C("shld eax,ebx,7", CC_C | CC_S | CC_Z | CC_P, ANY, 0x0f, 0xa4, 0xd8, 0x07),
    C("mul ebx", CC_C | CC_O, ANY, 0xf7, 0xe3),
    C("mul rbx", CC_C | CC_O, ANY, 0x48, 0xf7, 0xe3),
    C("mul bl", CC_C | CC_O, ANY, 0xf6, 0xe3),
    C("imul ebx", CC_C | CC_O, ANY, 0xf7, 0xeb),
    C("imul rbx", CC_C | CC_O, ANY, 0x48, 0xf7, 0xeb),
    C("imul bx", CC_C | CC_O, ANY, 0x66, 0xf7, 0xeb),
    C("imul eax,ebx", CC_C | CC_O, ANY, 0x0f, 0xaf, 0xc3),
    C("imul rax,rbx", CC_C | CC_O, ANY, 0x48, 0x0f, 0xaf, 0xc3),
    C("imul eax,ebx,-7", CC_C | CC_O, ANY, 0x6b, 0xc3, 0xf9),
    C("imul cx,dx,imm16", CC_C | CC_O, ANY, 0x66, 0x69, 0xca, 0x34, 0x92),
    C("div ebx", 0, DIV32, 0xf7, 0xf3),
    C("idiv ebx", 0, IDIV32, 0xf7, 0xfb),
    C("div rbx", 0, DIV64, 0x48, 0xf7, 0xf3),
    C("div bl", 0, DIV8, 0xf6, 0xf3),
    C("bt eax,ebx", CC_C, ANY, 0x0f, 0xa3, 0xd8),
    C("bts rax,rbx", CC_C, ANY, 0x48, 0x0f, 0xab, 0xd8),
    C("btr eax,13", CC_C, ANY, 0x0f, 0xba, 0xf0, 0x0d),
    C("btc ax,bx", CC_C, ANY, 0x66, 0x0f, 0xbb, 0xd8),
    C("bsf eax,ebx", CC_Z, ANY, 0x0f, 0xbc, 0xc3),
    C("bsr rax,rbx", CC_Z, ANY, 0x48, 0x0f, 0xbd, 0xc3),
    C("bswap eax", 0, ANY, 0x0f, 0xc8),
    C("bswap r9", 0, ANY, 0x49, 0x0f, 0xc9),
    C("cmpxchg ecx,ebx", ALL, ANY, 0x0f, 0xb1, 0xd9),
    C("cmpxchg cl,bl (eq)", ALL, ANY, 0x88, 0xc8, 0x0f, 0xb0, 0xd9),
    C("xadd eax,ebx", ALL, ANY, 0x0f, 0xc1, 0xd8),
    C("xchg r8,rax", 0, ANY, 0x49, 0x90),
    C("xchg eax,eax", 0, ANY, 0x90),
    C("xchg ebx,ecx", 0, ANY, 0x87, 0xcb),
    C("cbw", 0, ANY, 0x66, 0x98),
    C("cwde", 0, ANY, 0x98),
    C("cdqe", 0, ANY, 0x48, 0x98),
    C("cwd", 0, ANY, 0x66, 0x99),
    C("cdq", 0, ANY, 0x99),
    C("cqo", 0, ANY, 0x48, 0x99),
    C("movzx eax,bl", 0, ANY, 0x0f, 0xb6, 0xc3),
    C("movzx eax,bh", 0, ANY, 0x0f, 0xb6, 0xc7),
    C("movsx rax,bx", 0, ANY, 0x48, 0x0f, 0xbf, 0xc3),
    C("movsxd rax,ebx", 0, ANY, 0x48, 0x63, 0xc3),
    C("mov r16,r16", 0, ANY, 0x66, 0x89, 0xd8),
    C("mov r8,imm", 0, ANY, 0x40, 0xb6, 0x55),
    C("mov r64,imm64", 0, ANY, 0x49, 0xbb, 1, 2, 3, 4, 5, 6, 7, 0x88),
    C("lea sib", 0, ANY, 0x48, 0x8d, 0x44, 0x8b, 0x10),
    C("lea 32-bit addr", 0, ANY, 0x67, 0x8d, 0x44, 0x58, 0xf0),
    C("lahf", 0, ANY, 0x9f),
    C("sahf", ALL, ANY, 0x9e),
    C("cmc", ALL, ANY, 0xf5),
    C("stc;cld", ALL, ANY, 0xf9, 0xfc),
    C("cmp;setl/b/be/o/p/s/z", 0, ANY, 0x39, 0xd8, 0x0f, 0x9c, 0xc1, 0x0f, 0x92, 0xc2, 0x0f, 0x96,
      0xc6, 0x41, 0x0f, 0x90, 0xc0, 0x41, 0x0f, 0x9a, 0xc1, 0x41, 0x0f, 0x98, 0xc2),
    C("sub r8;setg/ge/a/nz", 0, ANY, 0x28, 0xd8, 0x0f, 0x9f, 0xc1, 0x0f, 0x9d, 0xc2,
      0x0f, 0x97, 0xc6, 0x41, 0x0f, 0x95, 0xc0),
    C("add;setc/o/le", 0, ANY, 0x01, 0xd8, 0x0f, 0x92, 0xc1, 0x0f, 0x90, 0xc2, 0x0f, 0x9e, 0xc6),
    C("and;setle/l/s", 0, ANY, 0x21, 0xd8, 0x0f, 0x9e, 0xc1, 0x0f, 0x9c, 0xc2, 0x0f, 0x98, 0xc6),
    C("inc;setbe/l", 0, ANY, 0xff, 0xc0, 0x0f, 0x96, 0xc1, 0x0f, 0x9c, 0xc2),
    C("flags;cmovs", 0, ANY, 0x0f, 0x4c, 0xc3, 0x48, 0x0f, 0x47, 0xca, 0x0f, 0x4b, 0xf7),
    C("cmp;cmovle r16", 0, ANY, 0x48, 0x39, 0xd1, 0x66, 0x0f, 0x4e, 0xc3),
    C("shl;jc", 0, ANY, 0xd3, 0xe0, 0x72, 0x02, 0x31, 0xc9, 0x90),
    C("dec;jnz loop", ALL, SMALLCOUNT, 0x83, 0xc0, 0x03, 0xff, 0xc9, 0x75, 0xf9),
    C("loop", ALL, SMALLCOUNT, 0xff, 0xc0, 0xe2, 0xfc),
    C("rep stosb", ALL, STRING, 0xf3, 0xaa),
    C("rep movsd", ALL, STRING, 0xf3, 0xa5),
    C("std;rep movsb;cld", ALL, STRING, 0xfd, 0xf3, 0xa4, 0xfc),
    C("repe cmpsb", ALL, STRING, 0xf3, 0xa6),
    C("repne scasb", ALL, STRING, 0xf2, 0xae),
    C("lodsq", ALL, STRING, 0x48, 0xad),
    C("stosw", ALL, STRING, 0x66, 0xab),
    C("add [rdi],eax", ALL, STRING, 0x01, 0x07),
    C("sub [rdi+8],bl", ALL, STRING, 0x28, 0x5f, 0x08),
    C("mov rax,[rsi+rcx*1]", 0, STRING, 0x48, 0x8b, 0x04, 0x0e),
    C("xchg [rdi],ebx", 0, STRING, 0x87, 0x1f),
    C("bts [rdi],ecx", CC_C, STRING, 0x0f, 0xab, 0x0f),
    C("push/pop", 0, ANY, 0x53, 0x41, 0x58),
    C("lock add [rdi],eax", ALL, STRING, 0xf0, 0x01, 0x07),
    C("lock sbb [rdi],eax", ALL, STRING, 0xf0, 0x19, 0x07),
    C("lock xadd [rdi],ebx", ALL, STRING, 0xf0, 0x0f, 0xc1, 0x1f),
    C("lock cmpxchg [rdi],ecx", ALL, STRING, 0xf0, 0x0f, 0xb1, 0x0f),
    C("mov eax,[rdi];lock cmpxchg", ALL, STRING, 0x8b, 0x07, 0xf0, 0x0f, 0xb1, 0x0f),
    C("lock inc dword [rdi]", ALL, STRING, 0xf0, 0xff, 0x07),
    C("lock neg byte [rdi+1]", ALL, STRING, 0xf0, 0xf6, 0x5f, 0x01),
    C("lock not qword [rdi]", ALL, STRING, 0xf0, 0x48, 0xf7, 0x17),
    C("lock btr [rdi],ecx", CC_C, STRING, 0xf0, 0x0f, 0xb3, 0x0f),
    C("bts [rdi],ecx (negative)", CC_C, BITNEG, 0x0f, 0xab, 0x0f),
    C("btc [rdi],rcx (negative)", CC_C, BITNEG, 0x48, 0x0f, 0xbb, 0x0f),
    C("cmpxchg8b [rdi]", CC_Z, STRING, 0x0f, 0xc7, 0x0f),
    C("mov;cmpxchg8b [rdi] (eq)", CC_Z, STRING, 0x8b, 0x07, 0x8b, 0x57, 0x04, 0x0f, 0xc7, 0x0f),
    C("lock cmpxchg8b [rdi]", CC_Z, STRING, 0xf0, 0x0f, 0xc7, 0x0f),
    C("movbe eax,[rdi]", 0, STRING, 0x0f, 0x38, 0xf0, 0x07),
    C("movbe [rdi],bx", 0, STRING, 0x66, 0x0f, 0x38, 0xf1, 0x1f),
    C("crc32 eax,bl", 0, ANY, 0xf2, 0x0f, 0x38, 0xf0, 0xc3),
    C("crc32 eax,ebx", 0, ANY, 0xf2, 0x0f, 0x38, 0xf1, 0xc3),
    C("crc32 rax,rbx", 0, ANY, 0xf2, 0x48, 0x0f, 0x38, 0xf1, 0xc3),
    C("popcnt eax,ebx", ALL, ANY, 0xf3, 0x0f, 0xb8, 0xc3),
    C("lzcnt rax,rbx", CC_C | CC_Z, ANY, 0xf3, 0x48, 0x0f, 0xbd, 0xc3),
    C("tzcnt ax,bx", CC_C | CC_Z, ANY, 0x66, 0xf3, 0x0f, 0xbc, 0xc3),
    C("enter 32,0;leave (64)", 0, ANY, 0xc8, 0x20, 0x00, 0x00, 0xc9),
    C("xlat (64)", 0, STRING, 0x48, 0x89, 0xfb, 0xd7),
    /* self-modifying code inside one block */
    C("smc: patch a later immediate", 0, ANY, 0xc7, 0x05, 0x01, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12,
      0xb8, 0x11, 0x11, 0x11, 0x11),
    C("smc: nop out a later inc", ALL, ANY, 0x48, 0x8d, 0x3d, 0x0a, 0x00, 0x00, 0x00, 0xc6, 0x07, 0x90,
      0xc6, 0x47, 0x01, 0x90, 0x90, 0x90, 0x90, 0xff, 0xc0),
    C("call/ret", 0, ANY, 0xe8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x04, 0x48, 0x89, 0xd8, 0xc3, 0x90),
};

/* ---- random operands -------------------------------------------------------------------- */
static uint64_t rng_state = 0x853c49e6748fea9bULL;
static uint64_t rnd(void) { return oracle_xorshift(&rng_state); }

static uint64_t interesting(void)
{
    static const uint64_t v[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
        0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, 0x100000000ULL,
    };
    uint64_t r = rnd();
    switch (r % 4) {
    case 0: return v[(r >> 8) % ARRAY_SIZE(v)];
    case 1: return rnd() & 0xff;
    case 2: return (uint64_t)(int64_t)(int32_t)rnd();
    default: return rnd();
    }
}

static void make_inputs(const OracleTemplate *c, OracleCase *oc)
{
    uint64_t *r = oc->in.gpr;
    for (int i = 0; i < 16; i++)
        if (i != R_ESP)
            r[i] = interesting();
    oc->in.rflags = (rnd() & (CC_MASK)) | 0x202;
    for (int i = 0; i < DATA_SIZE; i++)
        oc->data[i] = (uint8_t)(rnd() % 7);
    switch (c->shape) {
    case DIV32:
        r[R_EBX] = (uint32_t)rnd() | 1;
        r[R_EDX] = (uint32_t)rnd() % (uint32_t)r[R_EBX];
        break;
    case IDIV32:
        r[R_EBX] = (uint64_t)(int64_t)(int32_t)(rnd() | 1);
        r[R_EAX] = (uint64_t)(int64_t)(int32_t)rnd();
        r[R_EDX] = ((int32_t)r[R_EAX] < 0) ? 0xffffffff : 0;
        if ((int32_t)r[R_EBX] == -1)
            r[R_EBX] = 3;
        break;
    case DIV64:
        r[R_EBX] = rnd() | 1;
        r[R_EDX] = rnd() % r[R_EBX];
        break;
    case DIV8:
        r[R_EBX] = (rnd() & 0xff) | 0x81;
        r[R_EAX] = (r[R_EAX] & ~0xffffULL) | (rnd() % (0x80 * (r[R_EBX] & 0xff)));
        break;
    case STRING:
        r[R_EDI] = DATA_ADDR + 64 + rnd() % 64;
        r[R_ESI] = DATA_ADDR + 64 + rnd() % 64;
        r[R_ECX] = rnd() % 40;
        oc->in.rflags &= ~(uint64_t)DF_MASK;
        break;
    case SMALLCOUNT:
        r[R_ECX] = 1 + rnd() % 20;
        break;
    case BITNEG:
        r[R_EDI] = DATA_ADDR + 128 + rnd() % 64;
        r[R_ECX] = (uint64_t)-(int64_t)(rnd() % 512);
        break;
    }
}

/* ---- the batch: every template with ITER inputs ---------------------------------------- */
#define NCASES ARRAY_SIZE(cases)

static OracleBatch batch;

static OracleBatch *get_batch(void)
{
    if (!batch.cases)
        oracle_batch_from_templates(&batch, cases, NCASES, ITER, 64, make_inputs);
    return &batch;
}

static void run_backend_ncpus(bool interp, int ncpus)
{
    oracle_tcg_ram();
    current_machine->ncpus = ncpus;   /* >1: LOCK'ed accesses take the atomic paths */
    int failures = oracle_batch_check(get_batch(), interp);
    current_machine->ncpus = 0;
    if (failures < 0)
        SKIP(batch.why);
    CHECK_EQ(failures, 0);
}

TEST(oracle_interp) { run_backend_ncpus(true, 0); }
TEST(oracle_x86_64) { run_backend_ncpus(false, 0); }
TEST(oracle_x86_64_smp_atomics) { run_backend_ncpus(false, 2); }
TEST(oracle_interp_smp_atomics) { run_backend_ncpus(true, 2); }
