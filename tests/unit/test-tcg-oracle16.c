/* The translator against the host CPU for 16-bit code: snippets run natively
 * in 16-bit protected mode (LDT code and data segments based at 0x10000000,
 * 64 KiB limits, made with modify_ldt) and under the translator with the same
 * segments. 16-bit decoding is the same as in real mode: ModRM16 addressing
 * (BX/BP/SI/DI, SS for BP), 16-bit stack and IP wrap-around, operand and
 * address size prefixes, 16-bit string instructions. */
#include <asm/ldt.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "harness.h"
#include "system/machine.h"
#include "system/memory.h"

#define BASE 0x10000000ULL
#define DATA_OFF 0x4000
#define STACK_OFF 0x8000
#define FARPTR 0x10080100ULL
#define STUB64 0x10090000ULL
#define RAM_SIZE 0x100000ULL
#define DATA_SIZE 1024
#define ITER 60
#define SEL_CODE16 0x07   /* LDT entry 0, RPL 3 */
#define SEL_DATA16 0x0f   /* LDT entry 1, RPL 3 */

typedef struct Regs {
    uint64_t r[8];
    uint64_t flags;
} Regs;

void oracle16_run(Regs *state);
#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl oracle16_run\n"
    "oracle16_run:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  mov %rsp, oracle16_saved_rsp(%rip)\n"
    "  mov %rdi, oracle16_saved_state(%rip)\n"
    "  lea 1f(%rip), %rax\n"
    "  movabs $0x10090008, %rcx\n mov %rax, (%rcx)\n"
    "  movabs $0x10080100, %rcx\n movl $0, (%rcx)\n movw $0x07, 4(%rcx)\n"
    "  mov $0x0f, %eax\n mov %eax, %ds\n mov %eax, %es\n mov %eax, %ss\n"
    "  mov $0x10008000, %esp\n"
    "  pushq 64(%rdi)\n popfq\n"
    "  mov 0(%rdi),%eax\n mov 8(%rdi),%ecx\n mov 16(%rdi),%edx\n mov 24(%rdi),%ebx\n"
    "  mov 40(%rdi),%ebp\n mov 48(%rdi),%esi\n mov 56(%rdi),%edi\n"
    "  ljmpl *0x10080100\n"
    "1:\n"
    "  pushfq\n"
    "  push %rdi\n"
    "  mov $0x2b, %edi\n mov %edi, %ss\n mov %edi, %ds\n mov %edi, %es\n"
    "  mov oracle16_saved_state(%rip), %rdi\n"
    "  mov %eax,0(%rdi)\n mov %ecx,8(%rdi)\n mov %edx,16(%rdi)\n mov %ebx,24(%rdi)\n"
    "  mov %ebp,40(%rdi)\n mov %esi,48(%rdi)\n"
    "  pop %rax\n mov %eax,56(%rdi)\n"
    "  pop %rax\n mov %rax,64(%rdi)\n"
    "  cld\n"
    "  mov oracle16_saved_rsp(%rip), %rsp\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n"
    ".data\n"
    "oracle16_saved_rsp: .quad 0\n"
    "oracle16_saved_state: .quad 0\n"
    ".text\n");
#else
/* Native runs need an x86-64 host. */
void oracle16_run(Regs *state) { (void)state; }
#endif

enum { ANY, MEM, STR };

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
    C("add ax,bx", ALL, ANY, 0x01, 0xd8),
    C("sub al,ch", ALL, ANY, 0x28, 0xe8),
    C("add eax,ebx (66)", ALL, ANY, 0x66, 0x01, 0xd8),
    C("mov ax,[bx+si]", 0, MEM, 0x8b, 0x00),
    C("mov ax,[bx+di+2]", 0, MEM, 0x8b, 0x41, 0x02),
    C("mov ax,[bp-2]", 0, MEM, 0x8b, 0x46, 0xfe),
    C("add [bp+si+0x10],dx", ALL, MEM, 0x01, 0x52, 0x10),
    C("mov ax,[0x4010]", 0, MEM, 0xa1, 0x10, 0x40),
    C("mov cx,[0x4020] (modrm)", 0, MEM, 0x8b, 0x0e, 0x20, 0x40),
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
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static uint64_t rng = 0x1f2e3d4c5b6a7988ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void make_inputs(const Case *c, Regs *r, uint8_t *data)
{
    static const uint32_t v[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x12345678, 0xffffffff };
    for (int i = 0; i < 8; i++)
        r->r[i] = rnd() % 2 ? v[rnd() % (sizeof(v) / sizeof(v[0]))] : (uint32_t)rnd();
    r->r[R_ESP] = STACK_OFF;
    r->flags = (rnd() & CC_MASK) | 0x202;
    for (int i = 0; i < DATA_SIZE; i++)
        data[i] = (uint8_t)rnd();
    r->r[R_ECX] = (r->r[R_ECX] & 0xffff0000) | (rnd() % 20);
    if (c->shape == MEM) {
        /* [BX+SI], [BX+DI], [BX], [BX+AL] land in the data window */
        r->r[R_EBX] = DATA_OFF + rnd() % 0x100;
        r->r[R_ESI] = rnd() % 0x100;
        r->r[R_EDI] = rnd() % 0x100;
        r->r[R_EBP] = STACK_OFF - 0x100 + rnd() % 0x80;
    } else if (c->shape == STR) {
        r->r[R_ESI] = DATA_OFF + rnd() % 0x100;
        r->r[R_EDI] = DATA_OFF + 0x100 + rnd() % 0x100;
    }
}

typedef struct Result {
    Regs in, out;
    uint8_t data_in[DATA_SIZE], data_out[DATA_SIZE];
} Result;

static Result *native;
static bool native_tried;

static bool set_ldt(int entry, bool code)
{
    struct user_desc d = {
        .entry_number = (unsigned)entry,
        .base_addr = (unsigned)BASE,
        .limit = 0xffff,
        .seg_32bit = 0,
        .contents = code ? 2 : 0,
        .read_exec_only = 0,
        .limit_in_pages = 0,
        .seg_not_present = 0,
        .useable = 1,
    };
    return syscall(SYS_modify_ldt, 1, &d, sizeof(d)) == 0;
}

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
        uint8_t *mem = mmap((void *)BASE, RAM_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (mem != (void *)BASE || !set_ldt(0, true) || !set_ldt(1, false))
            _exit(2);
        static const uint8_t stub[] = { 0xff, 0x25, 0x02, 0x00, 0x00, 0x00 };
        memcpy(mem + (STUB64 - BASE), stub, sizeof(stub));
        for (unsigned c = 0; c < NCASES; c++) {
            for (int k = 0; k < ITER; k++) {
                Result *r = &res[c * ITER + k];
                memcpy(mem, cases[c].code, cases[c].len);
                /* jmp far 0x33:STUB64 with a 32-bit offset */
                uint8_t back[8] = { 0x66, 0xea, 0x00, 0x00, 0x09, 0x10, 0x33, 0x00 };
                memcpy(mem + cases[c].len, back, sizeof(back));
                memset(mem + 0x100, 0, 0x10000 - 0x100);
                memcpy(mem + DATA_OFF, r->data_in, DATA_SIZE);
                r->out = r->in;
                oracle16_run(&r->out);
                memcpy(r->data_out, mem + DATA_OFF, DATA_SIZE);
            }
        }
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (getenv("ORACLE_DEBUG"))
        fprintf(stderr, "child status %#x\n", st);
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
        as_add_ram(m.mem, "ram", BASE, RAM_SIZE, guest_ram, 0);
        current_machine = &m;
    }
    CPUX86State *env = calloc(1, sizeof(*env));
    tcg_select_backend(interp);
    env->a20_mask = ~0ULL;
    env->exception_index = -1;
    env->old_exception = -1;
    env->cr[0] = CR0_PE | CR0_ET;
    for (int s = 0; s < 6; s++) {
        env->segs[s].base = BASE;
        env->segs[s].limit = 0xffff;
        env->segs[s].selector = s == R_CS ? SEL_CODE16 : SEL_DATA16;
        env->segs[s].flags = DESC_P_MASK | DESC_S_MASK | (3 << DESC_DPL_SHIFT) | DESC_A_MASK |
                             (s == R_CS ? DESC_CS_MASK | DESC_R_MASK : DESC_W_MASK);
    }
    env->hflags = HF_PE_MASK | HF_ADDSEG_MASK | 3;   /* CPL 3, 16-bit code and stack */
    tcg_cpu_create(env, NULL);
    return env;
}

static void run_case(CPUX86State *env, const Case *c, const Result *r, Regs *out, uint8_t *data)
{
    memcpy(guest_ram, c->code, c->len);
    guest_ram[c->len] = 0x90;
    guest_ram[c->len + 1] = 0xf4;   /* HLT at CPL 3 raises #GP: the end marker */
    memset(guest_ram + 0x100, 0, 0x10000 - 0x100);
    memcpy(guest_ram + DATA_OFF, r->data_in, DATA_SIZE);
    tb_flush(tcg_cpu(env));
    for (int i = 0; i < 8; i++)
        env->regs[i] = (uint32_t)r->in.r[i];
    env->regs[R_ESP] = STACK_OFF;
    env->rip = 0;
    env->eflags = (r->in.flags & ~(uint64_t)CC_MASK) | 2;
    cc_set_all(env, (uint32_t)r->in.flags & CC_MASK);
    env->halted = false;
    env->exception_index = -1;
    tcg_run_until_exit(env);
    for (int i = 0; i < 8; i++)
        out->r[i] = (uint32_t)env->regs[i];
    out->flags = cc_compute_all(env) | (env->eflags & ~(uint64_t)CC_MASK);
    if (env->exception_index != EXCP_GP || env->rip != c->len + 1)
        out->flags = ~0ULL;
    memcpy(data, guest_ram + DATA_OFF, DATA_SIZE);
}

static void run_backend(bool interp)
{
    if (!run_native())
        SKIP("cannot run 16-bit code natively (modify_ldt or the fixed mapping unavailable)");
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
            if (!m[0] && out.flags == ~0ULL)
                snprintf(m, sizeof(m), "%s: stopped early (exception %d at %#" PRIx64 ")", c->name,
                         env->exception_index, env->rip);
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

TEST(oracle16_interp) { run_backend(true); }
TEST(oracle16_x86_64) { run_backend(false); }
