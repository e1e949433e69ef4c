/* The translator against the host CPU: user-mode instruction snippets run
 * natively (in a child process, through a small register-loading
 * trampoline) and under the translator (both backends, 64-bit mode, flat
 * memory at the same addresses); registers, arithmetic flags and a data
 * buffer must agree. Operands are random from a fixed seed; flags the
 * architecture leaves undefined for an instruction are masked. */
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "harness.h"
#include "system/machine.h"
#include "system/memory.h"

#define CODE_ADDR 0x10000000ULL
#define DATA_ADDR 0x10010000ULL
#define STACK_ADDR 0x10080000ULL
#define RAM_SIZE  0x100000ULL
#define DATA_SIZE 256
#define ITER 40

typedef struct Regs {
    uint64_t r[16];
    uint64_t flags;
} Regs;

void oracle_native_run(Regs *state, const void *code);
#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl oracle_native_run\n"
    "oracle_native_run:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  push %rdi\n push %rsi\n"
    "  pushq 128(%rdi)\n popfq\n"
    "  mov 0(%rdi),%rax\n mov 8(%rdi),%rcx\n mov 16(%rdi),%rdx\n mov 24(%rdi),%rbx\n"
    "  mov 40(%rdi),%rbp\n mov 48(%rdi),%rsi\n mov 64(%rdi),%r8\n mov 72(%rdi),%r9\n"
    "  mov 80(%rdi),%r10\n mov 88(%rdi),%r11\n mov 96(%rdi),%r12\n mov 104(%rdi),%r13\n"
    "  mov 112(%rdi),%r14\n mov 120(%rdi),%r15\n mov 56(%rdi),%rdi\n"
    "  call *(%rsp)\n"
    "  push %rdi\n"
    "  mov 16(%rsp),%rdi\n"
    "  mov %rax,0(%rdi)\n mov %rcx,8(%rdi)\n mov %rdx,16(%rdi)\n mov %rbx,24(%rdi)\n"
    "  mov %rbp,40(%rdi)\n mov %rsi,48(%rdi)\n mov %r8,64(%rdi)\n mov %r9,72(%rdi)\n"
    "  mov %r10,80(%rdi)\n mov %r11,88(%rdi)\n mov %r12,96(%rdi)\n mov %r13,104(%rdi)\n"
    "  mov %r14,112(%rdi)\n mov %r15,120(%rdi)\n"
    "  pop %rax\n mov %rax,56(%rdi)\n"
    "  pushfq\n pop %rax\n mov %rax,128(%rdi)\n cld\n"
    "  add $16,%rsp\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n");
#else
/* Native runs need an x86-64 host. */
void oracle_native_run(Regs *state, const void *code) { (void)state; (void)code; }
#endif

/* Operand shapes the random generator respects. */
enum { ANY, DIV32, IDIV32, DIV64, DIV8, STRING, SMALLCOUNT, BITNEG };

typedef struct Case {
    const char *name;
    uint8_t code[24];
    unsigned len;
    uint32_t flag_mask;    /* which of CC_MASK | DF must match */
    int shape;
} Case;

#define ALL (CC_MASK | DF_MASK)
#define OSZPC (CC_O | CC_S | CC_Z | CC_P | CC_C)
#define C(name, mask, shape, ...) { name, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), mask, shape }

static const Case cases[] = {
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
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

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

static void make_inputs(const Case *c, Regs *r, uint8_t *data)
{
    for (int i = 0; i < 16; i++)
        r->r[i] = interesting();
    r->r[R_ESP] = 0;
    r->flags = (rnd() & (CC_MASK)) | 0x202;
    for (int i = 0; i < DATA_SIZE; i++)
        data[i] = (uint8_t)(rnd() % 7);
    switch (c->shape) {
    case DIV32:
        r->r[R_EBX] = (uint32_t)rnd() | 1;
        r->r[R_EDX] = (uint32_t)rnd() % (uint32_t)r->r[R_EBX];
        break;
    case IDIV32:
        r->r[R_EBX] = (uint64_t)(int64_t)(int32_t)(rnd() | 1);
        r->r[R_EAX] = (uint64_t)(int64_t)(int32_t)rnd();
        r->r[R_EDX] = ((int32_t)r->r[R_EAX] < 0) ? 0xffffffff : 0;
        if ((int32_t)r->r[R_EBX] == -1)
            r->r[R_EBX] = 3;
        break;
    case DIV64:
        r->r[R_EBX] = rnd() | 1;
        r->r[R_EDX] = rnd() % r->r[R_EBX];
        break;
    case DIV8:
        r->r[R_EBX] = (rnd() & 0xff) | 0x81;
        r->r[R_EAX] = (r->r[R_EAX] & ~0xffffULL) | (rnd() % (0x80 * (r->r[R_EBX] & 0xff)));
        break;
    case STRING:
        r->r[R_EDI] = DATA_ADDR + 64 + rnd() % 64;
        r->r[R_ESI] = DATA_ADDR + 64 + rnd() % 64;
        r->r[R_ECX] = rnd() % 40;
        r->flags &= ~(uint64_t)DF_MASK;
        break;
    case SMALLCOUNT:
        r->r[R_ECX] = 1 + rnd() % 20;
        break;
    case BITNEG:
        r->r[R_EDI] = DATA_ADDR + 128 + rnd() % 64;
        r->r[R_ECX] = (uint64_t)-(int64_t)(rnd() % 512);
        break;
    }
}

/* ---- native runs (child process) ----------------------------------------------------------- */
typedef struct Result {
    Regs in, out;
    uint8_t data_in[DATA_SIZE], data_out[DATA_SIZE];
} Result;

#define NCASES ARRAY_SIZE(cases)

static Result *run_native_all(void)
{
#if !defined(__x86_64__)
    return NULL;
#endif
    Result *res = mmap(NULL, sizeof(Result) * NCASES * ITER, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED)
        return NULL;
    for (unsigned c = 0; c < NCASES; c++)
        for (int k = 0; k < ITER; k++)
            make_inputs(&cases[c], &res[c * ITER + k].in, res[c * ITER + k].data_in);
    pid_t pid = fork();
    if (pid == 0) {
        uint8_t *mem = mmap((void *)CODE_ADDR, RAM_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (mem != (void *)CODE_ADDR)
            _exit(2);
        for (unsigned c = 0; c < NCASES; c++) {
            memcpy(mem, cases[c].code, cases[c].len);
            mem[cases[c].len] = 0xc3;
            for (int k = 0; k < ITER; k++) {
                Result *r = &res[c * ITER + k];
                memset(mem + (DATA_ADDR - CODE_ADDR), 0, 4096);
                memcpy(mem + (DATA_ADDR - CODE_ADDR), r->data_in, DATA_SIZE);
                r->out = r->in;
                oracle_native_run(&r->out, mem);
                memcpy(r->data_out, mem + (DATA_ADDR - CODE_ADDR), DATA_SIZE);
            }
        }
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        munmap(res, sizeof(Result) * NCASES * ITER);
        return NULL;
    }
    return res;
}

/* ---- translated runs ---------------------------------------------------------------------- */
static uint8_t *guest_ram;

static void setup_machine(void)
{
    static Machine m;
    if (current_machine)
        return;
    guest_ram = aligned_alloc(4096, RAM_SIZE);
    memset(guest_ram, 0, RAM_SIZE);
    m.mem = address_space_new("memory", 1ULL << 32);
    m.io = address_space_new("io", 0x10000);
    as_add_ram(m.mem, "ram", CODE_ADDR, RAM_SIZE, guest_ram, 0);
    current_machine = &m;
}

static CPUX86State *new_cpu(bool interp)
{
    CPUX86State *env = calloc(1, sizeof(*env));
    tcg_select_backend(interp);
    env->a20_mask = ~0ULL;
    env->exception_index = -1;
    env->old_exception = -1;
    env->cr[0] = CR0_PE | CR0_ET;
    env->cr[4] = CR4_PAE;
    env->efer = EFER_LME | EFER_LMA;
    env->segs[R_CS].flags = DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_L_MASK | DESC_R_MASK;
    env->segs[R_CS].limit = 0xffffffff;
    for (int s = 0; s < 6; s++) {
        if (s == R_CS)
            continue;
        env->segs[s].flags = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_B_MASK;
        env->segs[s].limit = 0xffffffff;
    }
    env->hflags = HF_PE_MASK | HF_CS32_MASK | HF_SS32_MASK | HF_LMA_MASK | HF_CS64_MASK;
    tcg_cpu_create(env, NULL);
    return env;
}

static void run_translated(CPUX86State *env, const Case *c, const Result *r, Regs *out, uint8_t *data)
{
    TCGCPU *t = tcg_cpu(env);
    memcpy(guest_ram, c->code, c->len);
    guest_ram[c->len] = 0xf4;   /* hlt ends the run */
    memset(guest_ram + (DATA_ADDR - CODE_ADDR), 0, 4096);
    memcpy(guest_ram + (DATA_ADDR - CODE_ADDR), r->data_in, DATA_SIZE);
    tb_flush(t);
    for (int i = 0; i < 16; i++)
        env->regs[i] = r->in.r[i];
    env->regs[R_ESP] = STACK_ADDR;
    env->rip = CODE_ADDR;
    env->eflags = (r->in.flags & ~(uint64_t)CC_MASK) | 2;
    cc_set_all(env, (uint32_t)r->in.flags & CC_MASK);
    env->halted = false;
    env->exception_index = -1;
    tcg_run_until_exit(env);
    for (int i = 0; i < 16; i++)
        out->r[i] = env->regs[i];
    out->flags = cc_compute_all(env) | (env->eflags & ~(uint64_t)CC_MASK);
    memcpy(data, guest_ram + (DATA_ADDR - CODE_ADDR), DATA_SIZE);
    if (env->exception_index >= 0 || !env->halted)
        out->flags = ~0ULL;   /* did not reach the HLT: reported as a mismatch */
}

static Result *native;
static bool native_tried;

static bool get_native(void)
{
    if (!native_tried) {
        native_tried = true;
        native = run_native_all();
    }
    return native != NULL;
}

static int compare_case(CPUX86State *env, unsigned ci, char *why, size_t n)
{
    const Case *c = &cases[ci];
    int bad = 0;
    for (int k = 0; k < ITER; k++) {
        const Result *r = &native[ci * ITER + k];
        Regs out;
        uint8_t data[DATA_SIZE];
        run_translated(env, c, r, &out, data);
        for (int i = 0; i < 16; i++) {
            if (i == R_ESP)
                continue;
            if (out.r[i] != r->out.r[i]) {
                if (!bad++)
                    snprintf(why, n, "%s: reg %d = %#" PRIx64 ", host %#" PRIx64 " (in rax=%#" PRIx64
                             " rbx=%#" PRIx64 " rcx=%#" PRIx64 " rdx=%#" PRIx64 " fl=%#" PRIx64 ")",
                             c->name, i, out.r[i], r->out.r[i], r->in.r[0], r->in.r[3], r->in.r[1],
                             r->in.r[2], r->in.flags);
            }
        }
        if ((out.flags ^ r->out.flags) & c->flag_mask) {
            if (!bad++)
                snprintf(why, n, "%s: flags %#" PRIx64 ", host %#" PRIx64 " (mask %#x; in rax=%#" PRIx64
                         " rbx=%#" PRIx64 " rcx=%#" PRIx64 " fl=%#" PRIx64 ")", c->name,
                         out.flags & (CC_MASK | DF_MASK), r->out.flags & (CC_MASK | DF_MASK),
                         c->flag_mask, r->in.r[0], r->in.r[3], r->in.r[1], r->in.flags);
        }
        if (memcmp(data, r->data_out, DATA_SIZE)) {
            int at = 0;
            while (data[at] == r->data_out[at])
                at++;
            if (getenv("ORACLE_DEBUG")) {
                fprintf(stderr, "k=%d\n", k);
                for (int i = 0; i < DATA_SIZE; i++)
                    fprintf(stderr, "%02x%s", data[i], i % 32 == 31 ? "\n" : " ");
                for (int i = 0; i < DATA_SIZE; i++)
                    fprintf(stderr, "%02x%s", r->data_out[i], i % 32 == 31 ? "\n" : " ");
                for (int i = 0; i < DATA_SIZE; i++)
                    fprintf(stderr, "%02x%s", r->data_in[i], i % 32 == 31 ? "\n" : " ");
            }
            if (!bad++)
                snprintf(why, n, "%s: data differs at +%d: %02x, host %02x (rsi=%#" PRIx64
                         " rdi=%#" PRIx64 " rcx=%#" PRIx64 ")", c->name, at, data[at],
                         r->data_out[at], r->in.r[R_ESI], r->in.r[R_EDI], r->in.r[R_ECX]);
        }
    }
    return bad;
}

static void run_backend_ncpus(bool interp, int ncpus)
{
    if (!get_native())
        SKIP("cannot run the snippets natively (no fixed mapping at 0x10000000?)");
    setup_machine();
    current_machine->ncpus = ncpus;   /* >1: LOCK'ed accesses take the atomic paths */
    CPUX86State *env = new_cpu(interp);
    int failures = 0;
    for (unsigned ci = 0; ci < NCASES; ci++) {
        char why[512];
        if (compare_case(env, ci, why, sizeof(why))) {
            failures++;
            test_fail(__FILE__, __LINE__, why);
        }
    }
    CHECK_EQ(failures, 0);
    current_machine->ncpus = 0;
    tcg_cpu_destroy(env);
    free(env);
}

TEST(oracle_interp) { run_backend_ncpus(true, 0); }
TEST(oracle_x86_64) { run_backend_ncpus(false, 0); }
TEST(oracle_x86_64_smp_atomics) { run_backend_ncpus(false, 2); }
TEST(oracle_interp_smp_atomics) { run_backend_ncpus(true, 2); }
