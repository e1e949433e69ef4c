/* The translator against the host CPU for 32-bit code: the snippets run
 * natively in compatibility mode (a far jump to Linux's 32-bit user code
 * segment 0x23, on a stack below 4 GiB, returning through a far jump to a
 * 64-bit stub), and under the translator in 32-bit protected mode. Covers
 * what 64-bit mode lacks: BCD adjustment, PUSHA/POPA, ENTER with nesting,
 * SALC, 16-bit LOOP/JCXZ, the one-byte INC/DEC forms. */
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
#define STACK_TOP 0x10080000ULL
#define FARPTR 0x10080100ULL
#define STUB64 0x10090000ULL
#define RAM_SIZE 0x100000ULL
#define DATA_SIZE 256
#define ITER 60

typedef struct Regs {
    uint64_t r[8];
    uint64_t flags;
} Regs;

/* oracle32_run(state): runs the 32-bit code at CODE_ADDR with the registers
 * of *state (ESP = STACK_TOP), returns them in *state. */
void oracle32_run(Regs *state);
#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl oracle32_run\n"
    "oracle32_run:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  mov %rsp, oracle32_saved_rsp(%rip)\n"
    "  mov %rdi, oracle32_saved_state(%rip)\n"
    "  lea 1f(%rip), %rax\n"
    "  movabs $0x10090008, %rcx\n mov %rax, (%rcx)\n"       /* the stub's way back */
    "  movabs $0x10080100, %rcx\n movl $0x10000000, (%rcx)\n movw $0x23, 4(%rcx)\n"
    "  mov $0x2b, %eax\n mov %eax, %ds\n mov %eax, %es\n"
    "  mov $0x10080000, %esp\n"
    "  pushq 64(%rdi)\n popfq\n"
    "  mov 0(%rdi),%eax\n mov 8(%rdi),%ecx\n mov 16(%rdi),%edx\n mov 24(%rdi),%ebx\n"
    "  mov 40(%rdi),%ebp\n mov 48(%rdi),%esi\n mov 56(%rdi),%edi\n"
    "  ljmpl *0x10080100\n"
    "1:\n"
    "  pushfq\n"
    "  push %rdi\n"
    "  mov oracle32_saved_state(%rip), %rdi\n"
    "  mov %eax,0(%rdi)\n mov %ecx,8(%rdi)\n mov %edx,16(%rdi)\n mov %ebx,24(%rdi)\n"
    "  mov %ebp,40(%rdi)\n mov %esi,48(%rdi)\n"
    "  pop %rax\n mov %eax,56(%rdi)\n"
    "  pop %rax\n mov %rax,64(%rdi)\n"
    "  cld\n"
    "  mov oracle32_saved_rsp(%rip), %rsp\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n"
    ".data\n"
    "oracle32_saved_rsp: .quad 0\n"
    "oracle32_saved_state: .quad 0\n"
    ".text\n");
#else
/* Native runs need an x86-64 host. */
void oracle32_run(Regs *state) { (void)state; }
#endif

enum { ANY, STRING, FRAME, LOOP16 };

typedef struct Case {
    const char *name;
    uint8_t code[24];
    unsigned len;
    uint32_t flag_mask;
    int shape;
} Case;

#define ALL (CC_MASK | DF_MASK)
#define C(name, mask, shape, ...) { name, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), mask, shape }

static const Case cases[] = {
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
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static uint64_t rng = 0x7a5c3e1f9b8d6042ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint32_t interesting(void)
{
    static const uint32_t v[] = { 0, 1, 9, 0x0a, 0x0f, 0x10, 0x19, 0x7f, 0x80, 0x99, 0x9a, 0xff,
                                  0x100, 0xffff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff };
    uint64_t r = rnd();
    return r % 3 ? v[(r >> 8) % (sizeof(v) / sizeof(v[0]))] : (uint32_t)rnd();
}

typedef struct Result {
    Regs in, out;
    uint8_t data_in[DATA_SIZE], data_out[DATA_SIZE];
} Result;

static void make_inputs(const Case *c, Regs *r, uint8_t *data)
{
    for (int i = 0; i < 8; i++)
        r->r[i] = interesting();
    r->r[R_ESP] = STACK_TOP;
    r->flags = (rnd() & CC_MASK) | 0x202;
    for (int i = 0; i < DATA_SIZE; i++)
        data[i] = (uint8_t)rnd();
    switch (c->shape) {
    case STRING:
        r->r[R_EDI] = DATA_ADDR + 64 + rnd() % 64;
        r->r[R_ESI] = DATA_ADDR + 64 + rnd() % 64;
        r->r[R_EBX] = DATA_ADDR;
        r->r[R_ECX] = rnd() % 40;
        break;
    case FRAME:
        r->r[R_EBP] = STACK_TOP - 0x100 - 4 * (rnd() % 16);
        break;
    case LOOP16:
        r->r[R_ECX] = (rnd() & 0xffff0000) | (rnd() % 5);
        break;
    }
}

static Result *native;
static bool native_tried;

static bool run_native(void)
{
#if !defined(__x86_64__)
    return false;
#endif
    if (native_tried)
        return native != NULL;
    native_tried = true;
    Result *res = mmap(NULL, sizeof(Result) * NCASES * ITER, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED)
        return false;
    for (unsigned c = 0; c < NCASES; c++)
        for (int k = 0; k < ITER; k++)
            make_inputs(&cases[c], &res[c * ITER + k].in, res[c * ITER + k].data_in);
    pid_t pid = fork();
    if (pid == 0) {
        uint8_t *mem = mmap((void *)CODE_ADDR, RAM_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (mem != (void *)CODE_ADDR)
            _exit(2);
        /* 64-bit stub: jmp *[rip + 2] -> the address at STUB64 + 8 */
        static const uint8_t stub[] = { 0xff, 0x25, 0x02, 0x00, 0x00, 0x00 };
        memcpy(mem + (STUB64 - CODE_ADDR), stub, sizeof(stub));
        for (unsigned c = 0; c < NCASES; c++) {
            for (int k = 0; k < ITER; k++) {
                Result *r = &res[c * ITER + k];
                memcpy(mem, cases[c].code, cases[c].len);
                /* ljmp $0x33, $STUB64 */
                uint8_t back[7] = { 0xea, 0, 0, 0x09, 0x10, 0x33, 0x00 };
                memcpy(mem + cases[c].len, back, sizeof(back));
                memset(mem + (DATA_ADDR - CODE_ADDR), 0, 4096);
                memcpy(mem + (DATA_ADDR - CODE_ADDR), r->data_in, DATA_SIZE);
                memset(mem + (STACK_TOP - CODE_ADDR) - 0x1000, 0, 0x1000);
                r->out = r->in;
                oracle32_run(&r->out);
                memcpy(r->data_out, mem + (DATA_ADDR - CODE_ADDR), DATA_SIZE);
            }
        }
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        munmap(res, sizeof(Result) * NCASES * ITER);
        return false;
    }
    native = res;
    return true;
}

static uint8_t *guest_ram;

static CPUX86State *new_cpu(bool interp)
{
    static Machine m;
    if (!current_machine) {
        guest_ram = aligned_alloc(4096, RAM_SIZE);
        m.mem = address_space_new("memory", 1ULL << 32);
        m.io = address_space_new("io", 0x10000);
        as_add_ram(m.mem, "ram", CODE_ADDR, RAM_SIZE, guest_ram, 0);
        current_machine = &m;
    } else if (!guest_ram) {
        guest_ram = aligned_alloc(4096, RAM_SIZE);
        as_add_ram(current_machine->mem, "ram32", CODE_ADDR, RAM_SIZE, guest_ram, 1);
    }
    CPUX86State *env = calloc(1, sizeof(*env));
    tcg_select_backend(interp);
    env->a20_mask = ~0ULL;
    env->exception_index = -1;
    env->old_exception = -1;
    env->cr[0] = CR0_PE | CR0_ET;
    env->segs[R_CS].flags = DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_B_MASK | DESC_R_MASK |
                            DESC_G_MASK;
    env->segs[R_CS].limit = 0xffffffff;
    for (int s = 0; s < 6; s++) {
        if (s == R_CS)
            continue;
        env->segs[s].flags = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_B_MASK | DESC_G_MASK;
        env->segs[s].limit = 0xffffffff;
    }
    env->hflags = HF_PE_MASK | HF_CS32_MASK | HF_SS32_MASK;
    tcg_cpu_create(env, NULL);
    return env;
}

static void run_case(CPUX86State *env, const Case *c, const Result *r, Regs *out, uint8_t *data)
{
    memcpy(guest_ram, c->code, c->len);
    guest_ram[c->len] = 0xf4;
    memset(guest_ram + (DATA_ADDR - CODE_ADDR), 0, 4096);
    memcpy(guest_ram + (DATA_ADDR - CODE_ADDR), r->data_in, DATA_SIZE);
    memset(guest_ram + (STACK_TOP - CODE_ADDR) - 0x1000, 0, 0x1000);
    tb_flush(tcg_cpu(env));
    for (int i = 0; i < 8; i++)
        env->regs[i] = (uint32_t)r->in.r[i];
    env->regs[R_ESP] = STACK_TOP;
    env->rip = CODE_ADDR;
    env->eflags = (r->in.flags & ~(uint64_t)CC_MASK) | 2;
    cc_set_all(env, (uint32_t)r->in.flags & CC_MASK);
    env->halted = false;
    env->exception_index = -1;
    tcg_run_until_exit(env);
    for (int i = 0; i < 8; i++)
        out->r[i] = (uint32_t)env->regs[i];
    out->flags = cc_compute_all(env) | (env->eflags & ~(uint64_t)CC_MASK);
    if (env->exception_index >= 0 || !env->halted)
        out->flags = ~0ULL;
    memcpy(data, guest_ram + (DATA_ADDR - CODE_ADDR), DATA_SIZE);
}

static void run_backend(bool interp)
{
    if (!run_native())
        SKIP("cannot run 32-bit code natively (no compatibility mode or fixed mapping)");
    CPUX86State *env = new_cpu(interp);
    int failures = 0;
    for (unsigned ci = 0; ci < NCASES; ci++) {
        const Case *c = &cases[ci];
        for (int k = 0; k < ITER; k++) {
            const Result *r = &native[ci * ITER + k];
            Regs out;
            uint8_t data[DATA_SIZE];
            run_case(env, c, r, &out, data);
            char m[300] = "";
            for (int i = 0; i < 8 && !m[0]; i++)
                if (i != R_ESP && (uint32_t)out.r[i] != (uint32_t)r->out.r[i])
                    snprintf(m, sizeof(m), "%s: reg %d = %#x, host %#x (eax=%#x ebx=%#x ecx=%#x fl=%#x)",
                             c->name, i, (uint32_t)out.r[i], (uint32_t)r->out.r[i], (uint32_t)r->in.r[0],
                             (uint32_t)r->in.r[3], (uint32_t)r->in.r[1], (uint32_t)r->in.flags);
            if (!m[0] && ((out.flags ^ r->out.flags) & c->flag_mask))
                snprintf(m, sizeof(m), "%s: flags %#x, host %#x (eax=%#x ebx=%#x fl=%#x)", c->name,
                         (uint32_t)out.flags & ALL, (uint32_t)r->out.flags & ALL, (uint32_t)r->in.r[0],
                         (uint32_t)r->in.r[3], (uint32_t)r->in.flags);
            if (!m[0] && memcmp(data, r->data_out, DATA_SIZE))
                snprintf(m, sizeof(m), "%s: data differs", c->name);
            if (m[0]) {
                test_fail(__FILE__, __LINE__, m);
                failures++;
                break;
            }
        }
    }
    CHECK_EQ(failures, 0);
    tcg_cpu_destroy(env);
    free(env);
}

TEST(oracle32_interp) { run_backend(true); }
TEST(oracle32_x86_64) { run_backend(false); }
