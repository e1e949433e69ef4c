/* The execution engine under awkward guests, on both backends: more blocks
 * than the cache holds (full flush while running), an instruction running
 * off the end of RAM, jumps to non-canonical addresses, and precise state
 * (RIP, registers, lazy flags) when an exception interrupts a block. */
#include <stdlib.h>
#include <unistd.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "harness.h"
#include "system/log.h"
#include "harness-machine.h"
#include "system/cpus.h"
#include "system/machine.h"
#include "system/memory.h"

#define RAM_BASE 0x10000000ULL
#define RAM_SIZE (1ULL << 20)

static uint8_t *ram;

static void setup_machine(void)
{
    ram = test_machine_ram(RAM_BASE, RAM_SIZE);
}

static CPUX86State *new_cpu(bool interp)
{
    setup_machine();
    return test_cpu64_new(interp, 0);
}

static void run_at(CPUX86State *env, uint64_t rip)
{
    tb_flush(tcg_cpu(env));
    env->rip = rip;
    env->regs[R_ESP] = RAM_BASE + RAM_SIZE - 64;
    env->halted = false;
    env->exception_index = -1;
    cc_set_all(env, 0);
    env->eflags = 2;
    tcg_run_until_exit(env);
}

/* n blocks "inc eax; jmp +0", run twice (so that chained jumps into flushed
 * code would show); returns the full flushes it took. */
static unsigned run_blocks_twice(bool interp, int n)
{
    unsigned saved_follow = x86_translate_follow;
    x86_translate_follow = FOLLOW_NONE;   /* n blocks, not n / 5 */
    CPUX86State *env = new_cpu(interp);
    for (int i = 0; i < n; i++) {
        uint8_t *p = ram + 4 * i;
        p[0] = 0xff; p[1] = 0xc0; p[2] = 0xeb; p[3] = 0x00;
    }
    ram[4 * n] = 0xf4;
    /* go round twice so chained jumps into flushed code would show */
    memcpy(ram + 4 * n, (uint8_t[]){ 0xff, 0xc9, 0x0f, 0x85, 0, 0, 0, 0, 0xf4 }, 9);
    int32_t rel = -(4 * n + 8);
    memcpy(ram + 4 * n + 4, &rel, 4);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ECX] = 2;
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EAX], 2 * n);
    unsigned flushes = tcg_cpu(env)->flush_count - 1;   /* run_at flushes once */
    test_cpu_free(env);
    x86_translate_follow = saved_follow;
    return flushes;
}

/* A small code buffer holds fewer blocks than the guest runs: full flushes
 * while running. */
static void many_blocks(bool interp)
{
    size_t saved = tcg_code_buffer_size;
    tcg_code_buffer_size = 4 * MiB;
    CHECK(tb_cache_capacity(tcg_code_buffer_size) < 40000);
    CHECK(run_blocks_twice(interp, 40000) >= 1);
    tcg_code_buffer_size = saved;
}

TEST(many_blocks_flush_interp) { many_blocks(true); }
TEST(many_blocks_flush_x86_64) { many_blocks(false); }

/* The block table follows the code buffer: the default buffer holds the
 * 100000 blocks of a Linux workload run without a flush (65536 did not). */
static void many_blocks_no_flush(bool interp)
{
    CHECK(tb_cache_capacity(tcg_code_buffer_size) >= 100000);
    CHECK_EQ(run_blocks_twice(interp, 70000), 0);
}

TEST(many_blocks_fit_interp) { many_blocks_no_flush(true); }
TEST(many_blocks_fit_x86_64) { many_blocks_no_flush(false); }

TEST(tb_capacity_follows_code_buffer)
{
    CHECK_EQ(tb_cache_capacity(64 * MiB), 256 * 1024);
    CHECK_EQ(tb_cache_capacity(1 * MiB), 16384);            /* a floor for tiny buffers */
    CHECK_EQ(tb_cache_capacity(2048 * MiB), 512 * 1024);    /* a cap for huge ones */
    CHECK(tb_cache_capacity(128 * MiB) > tb_cache_capacity(64 * MiB));
}

static void off_the_end(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    uint64_t start = RAM_SIZE - 6;
    /* inc eax; inc eax; mov eax, imm32 (runs past the end of RAM) */
    memcpy(ram + start, (uint8_t[]){ 0xff, 0xc0, 0xff, 0xc0, 0xb8, 0x11 }, 6);
    memset(env->regs, 0, sizeof(env->regs));
    run_at(env, RAM_BASE + start);
    CHECK(env->exception_index >= 0);
    CHECK_EQ(env->rip, RAM_BASE + start + 4);   /* the incomplete instruction */
    CHECK_EQ(env->regs[R_EAX], 2);
    test_cpu_free(env);
}

TEST(off_the_end_of_ram_interp) { off_the_end(true); }
TEST(off_the_end_of_ram_x86_64) { off_the_end(false); }

static void noncanonical_jump(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    /* mov rax, 0x8000000000000000; jmp rax */
    memcpy(ram, (uint8_t[]){ 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xe0 }, 12);
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_GP);
    test_cpu_free(env);
}

TEST(noncanonical_jump_interp) { noncanonical_jump(true); }
TEST(noncanonical_jump_x86_64) { noncanonical_jump(false); }

/* RET, JMP r and CALL r to a non-canonical address: #GP(0) at the branch
 * with RSP as before it (no pop, no push). The raise sits after the
 * block's end, so the straight-line code up to its lookup has no label
 * (no point where the backend writes back and forgets its registers). */
static void noncanonical_branch(bool interp, const uint8_t *branch, unsigned len)
{
    CPUX86State *env = new_cpu(interp);
    /* mov rax, 0x8000000000000000; push rax; mov ebx, 1; <branch> */
    uint8_t code[32] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x50, 0xbb, 1, 0, 0, 0 };
    memcpy(code + 16, branch, len);
    memcpy(ram, code, 16 + len);
    memset(env->regs, 0, sizeof(env->regs));
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_GP);
    CHECK_EQ(env->error_code, 0);
    CHECK_EQ(env->rip, RAM_BASE + 16);
    CHECK_EQ(env->regs[R_ESP], RAM_BASE + RAM_SIZE - 64 - 8);
    CHECK_EQ(env->regs[R_EBX], 1);
    /* the faulting block is the last translated */
    TCGContext *s = tcg_cpu(env)->ctx;
    int first_label = -1, lookup = -1;
    for (int i = 1; i < s->nb_ops; i++) {
        if (s->ops[i].opc == INDEX_op_set_label && first_label < 0)
            first_label = i;
        if (s->ops[i].opc == INDEX_op_lookup_and_goto && lookup < 0)
            lookup = i;
    }
    if (getenv("TEST_DUMP_OPS"))
        tcg_dump_ops(s, stderr);
    CHECK(lookup > 0);
    CHECK(first_label < 0 || first_label > lookup);
    test_cpu_free(env);
}

static void noncanonical_branches(bool interp)
{
    noncanonical_branch(interp, (const uint8_t[]){ 0xc3 }, 1);           /* ret */
    noncanonical_branch(interp, (const uint8_t[]){ 0xc2, 8, 0 }, 3);     /* ret 8 */
    noncanonical_branch(interp, (const uint8_t[]){ 0xff, 0xe0 }, 2);     /* jmp rax */
    noncanonical_branch(interp, (const uint8_t[]){ 0xff, 0xd0 }, 2);     /* call rax */
}

TEST(noncanonical_branch_interp) { noncanonical_branches(true); }
TEST(noncanonical_branch_x86_64) { noncanonical_branches(false); }

/* RAM mapped 1:1 by 4 KiB pages, except one page */
#define HOLE (RAM_BASE + 0x80000)
static void enable_paging(CPUX86State *env)
{
    test_enable_paging(env, HOLE);
}

/* A fault in the middle of a block: RIP of the faulting instruction, the
 * registers and flags of the instructions before it, nothing after. */
static void precise_fault(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x01, 0xd8,             /* add eax, ebx          (sets flags)    */
        0xff, 0xc6,             /* inc esi                                */
        0x48, 0x8b, 0x0a,       /* mov rcx, [rdx]        (a hole: #PF)    */
        0xff, 0xc7,             /* inc edi               (must not run)   */
        0xf4,
    };
    memcpy(ram, code, sizeof(code));
    enable_paging(env);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EAX] = 0xffffffff;
    env->regs[R_EBX] = 1;
    env->regs[R_EDX] = HOLE + 8;
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE + 8);
    CHECK_EQ(env->rip, RAM_BASE + 4);
    CHECK_EQ(env->regs[R_EAX], 0);
    CHECK_EQ(env->regs[R_ESI], 1);
    CHECK_EQ(env->regs[R_EDI], 0);
    /* flags of "inc esi" (1): CF from the add (carry) kept, ZF clear */
    uint32_t f = cc_compute_all(env);
    CHECK_EQ(f & CC_C, CC_C);
    CHECK_EQ(f & CC_Z, 0);
    test_cpu_free(env);
}

TEST(precise_fault_interp) { precise_fault(true); }
TEST(precise_fault_x86_64) { precise_fault(false); }

/* The st ops of the last translation that write env->cc_op. */
static int cc_op_stores(CPUX86State *env)
{
    TCGContext *s = tcg_cpu(env)->ctx;
    int n = 0;
    if (getenv("TEST_DUMP_OPS"))
        tcg_dump_ops(s, stderr);
    for (int i = 0; i < s->nb_ops; i++)
        n += s->ops[i].opc == INDEX_op_st && (int64_t)s->ops[i].args[2] == (int64_t)offsetof(CPUX86State, cc_op);
    return n;
}

/* SHL by CL stores a cc_op chosen at run time. An ADD right after it
 * replaces the flags before anything could see them: that store is left
 * out (the block's exit stores ADD's). A fault between the two keeps it:
 * the fault shows the shift's flags. */
static void shift_cl_cc_op(bool interp)
{
    static const uint8_t add_then_fault[] = {
        0xd3, 0xe0,             /* shl eax, cl                            */
        0x83, 0xc3, 0x01,       /* add ebx, 1            (replaces flags) */
        0x48, 0x8b, 0x0a,       /* mov rcx, [rdx]        (a hole: #PF)    */
        0xf4,
    };
    static const uint8_t fault_then_add[] = {
        0xd3, 0xe0,             /* shl eax, cl                            */
        0x48, 0x8b, 0x0a,       /* mov rcx, [rdx]        (a hole: #PF)    */
        0x83, 0xc3, 0x01,       /* add ebx, 1            (must not run)   */
        0xf4,
    };
    for (int k = 0; k < 2; k++) {
        CPUX86State *env = new_cpu(interp);
        const uint8_t *code = k ? fault_then_add : add_then_fault;
        memcpy(ram, code, sizeof(add_then_fault));
        enable_paging(env);
        memset(env->regs, 0, sizeof(env->regs));
        env->regs[R_EAX] = 0x80000000;
        env->regs[R_ECX] = 1;
        env->regs[R_EBX] = 0x7fffffff;
        env->regs[R_EDX] = HOLE + 8;
        run_at(env, RAM_BASE);
        CHECK_EQ(env->exception_index, EXCP_PF);
        CHECK_EQ(env->regs[R_EAX], 0);
        uint32_t f = cc_compute_all(env);
        if (k == 0) {
            CHECK_EQ(env->rip, RAM_BASE + 5);
            CHECK_EQ(env->regs[R_EBX], 0x80000000);
            CHECK_EQ(f & (CC_C | CC_Z | CC_O | CC_S), CC_O | CC_S);   /* the add's */
            CHECK_EQ(cc_op_stores(env), 1);    /* the exit's static cc_op only */
        } else {
            CHECK_EQ(env->rip, RAM_BASE + 2);
            CHECK_EQ(env->regs[R_EBX], 0x7fffffff);
            CHECK_EQ(f & (CC_C | CC_Z), CC_C | CC_Z);   /* the shift's: bit 31 out, 0 left */
            CHECK_EQ(cc_op_stores(env), 2);
        }
        test_cpu_free(env);
    }
}

TEST(shift_cl_cc_op_interp) { shift_cl_cc_op(true); }
TEST(shift_cl_cc_op_x86_64) { shift_cl_cc_op(false); }

/* The taken way of a Jcc that ends a block (a chainable exit only it
 * reaches): once chained, the jcc itself jumps to the successor's code,
 * not to a jmp that does. */
static void jcc_exit_chains_directly(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0xff, 0xc9,             /* L: dec ecx                 */
        0x75, 0x03,             /* jnz T                      */
        0xc3,                   /* ret (to H)                 */
        0xf4, 0xf4,             /* H: hlt                     */
        0xeb, 0xf7,             /* T: jmp L (another block)   */
    };
    memcpy(ram, code, sizeof(code));
    uint64_t h = RAM_BASE + 5;
    memcpy(ram + RAM_SIZE - 64, &h, 8);   /* where run_at puts RSP */
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ECX] = 6;
    if (getenv("TEST_DUMP_OPS"))
        log_mask |= LOG_OUT_ASM | LOG_OP | LOG_IN_ASM;
    run_at(env, RAM_BASE);
    log_mask = 0;
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(env->rip, RAM_BASE + 6);
    if (!interp) {
        env->rip = RAM_BASE;
        atomic_store(&tcg_cpu(env)->exit_flag, 0);   /* else the lookup declines */
        TranslationBlock *tb = tb_lookup_fast(env);
        CHECK(tb != NULL);
        int n = -1;
        for (int i = 0; tb && i < TB_MAX_JMPS; i++)
            if (tb->jmp_target[i] && tb->jmp_target[i]->pc == RAM_BASE + 7)
                n = i;
        CHECK(n >= 0);
        if (n >= 0) {
            const uint8_t *c = tb->code;
            uint32_t at = tb->jmp_patch_ofs[n];
            CHECK_EQ(c[at - 2], 0x0f);                  /* jcc rel32 */
            CHECK_EQ(c[at - 1] & 0xf0, 0x80);
            int32_t rel;
            memcpy(&rel, c + at, 4);
            const uint8_t *to = c + at + 4 + rel, *dest = tb->jmp_target[n]->code;
            CHECK(to >= dest && to < dest + tb->jmp_target[n]->code_size);
        }
    }
    test_cpu_free(env);
}

TEST(jcc_exit_chains_directly_interp) { jcc_exit_chains_directly(true); }
TEST(jcc_exit_chains_directly_x86_64) { jcc_exit_chains_directly(false); }

static void divide_error(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    /* inc ebx; div ecx (ecx = 0) */
    memcpy(ram, (uint8_t[]){ 0xff, 0xc3, 0xf7, 0xf1, 0xf4 }, 5);
    memset(env->regs, 0, sizeof(env->regs));
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_DE);
    CHECK_EQ(env->rip, RAM_BASE + 2);
    CHECK_EQ(env->regs[R_EBX], 1);
    test_cpu_free(env);
}

TEST(divide_error_interp) { divide_error(true); }
TEST(divide_error_x86_64) { divide_error(false); }

/* DR0 execute breakpoint: #DB before the instruction runs; with EFLAGS.RF
 * set (as IRET from the handler leaves it) the instruction runs once. */
static void hw_breakpoint(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    /* inc eax; inc ebx; inc ecx; hlt */
    memcpy(ram, (uint8_t[]){ 0xff, 0xc0, 0xff, 0xc3, 0xff, 0xc1, 0xf4 }, 7);
    memset(env->regs, 0, sizeof(env->regs));
    env->dr[0] = RAM_BASE + 2;
    env->dr[7] = 0x401;           /* L0, execute, 1 byte */
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_DB);
    CHECK_EQ(env->rip, RAM_BASE + 2);
    CHECK_EQ(env->regs[R_EAX], 1);
    CHECK_EQ(env->regs[R_EBX], 0);
    /* resume over it */
    env->exception_index = -1;
    env->halted = false;
    env->eflags = 2 | RF_MASK;
    tcg_run_until_exit(env);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EBX], 1);
    CHECK_EQ(env->regs[R_ECX], 1);
    CHECK_EQ(env->eflags & RF_MASK, 0);
    test_cpu_free(env);
}

TEST(hw_breakpoint_interp) { hw_breakpoint(true); }
TEST(hw_breakpoint_x86_64) { hw_breakpoint(false); }

/* EFLAGS.TF: a #DB trap after each instruction, RIP at the next one. */
static void single_step_trap(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    memcpy(ram, (uint8_t[]){ 0xff, 0xc0, 0xff, 0xc3, 0xf4 }, 5);
    memset(env->regs, 0, sizeof(env->regs));
    tb_flush(tcg_cpu(env));
    env->rip = RAM_BASE;
    env->regs[R_ESP] = RAM_BASE + RAM_SIZE - 64;
    env->halted = false;
    env->exception_index = -1;
    cc_set_all(env, 0);
    env->eflags = 2 | TF_MASK;
    env->hflags |= HF_TF_MASK;
    tcg_run_until_exit(env);
    CHECK_EQ(env->exception_index, EXCP_DB);
    CHECK_EQ(env->rip, RAM_BASE + 2);
    CHECK_EQ(env->regs[R_EAX], 1);
    CHECK_EQ(env->regs[R_EBX], 0);
    test_cpu_free(env);
}

TEST(single_step_trap_interp) { single_step_trap(true); }
TEST(single_step_trap_x86_64) { single_step_trap(false); }

/* One vCPU rewrites code another vCPU has translated: the other one runs
 * the new code next time (the vCPUs run in turn on this thread). */
static void cross_cpu_smc(bool interp)
{
    CPUX86State *a = new_cpu(interp), *b = new_cpu(interp);
    static VCPU va, vb;
    va.env = a;
    vb.env = b;
    va.index = 0;
    vb.index = 1;
    current_machine->cpus[0] = &va;
    current_machine->cpus[1] = &vb;
    current_machine->ncpus = 2;
    code_map_init(RAM_BASE + RAM_SIZE);
    /* A: mov eax, 1; hlt   at RAM_BASE + 0x1000 */
    memcpy(ram + 0x1000, (uint8_t[]){ 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 }, 6);
    /* B: mov dword [RAM_BASE + 0x1001], 2; hlt   at RAM_BASE + 0x3000 */
    uint8_t store[] = { 0xc7, 0x04, 0x25, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0x00, 0xf4 };
    uint32_t target = (uint32_t)(RAM_BASE + 0x1001);
    memcpy(store + 3, &target, 4);
    memcpy(ram + 0x3000, store, sizeof(store));
    run_at(a, RAM_BASE + 0x1000);
    CHECK_EQ(a->regs[R_EAX], 1);
    run_at(b, RAM_BASE + 0x3000);
    CHECK_EQ(b->exception_index, -1);
    /* A again, without flushing its translations */
    a->rip = RAM_BASE + 0x1000;
    a->halted = false;
    tcg_run_until_exit(a);
    CHECK_EQ(a->regs[R_EAX], 2);
    current_machine->ncpus = 0;
    test_cpu_free(a);
    test_cpu_free(b);
}

TEST(cross_cpu_smc_interp) { cross_cpu_smc(true); }
TEST(cross_cpu_smc_x86_64) { cross_cpu_smc(false); }

/* Calls and returns in a loop: indirect jumps found through the jump cache
 * (inline in the x86-64 backend's 64-bit code). */
static void call_ret_loop(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0xb9, 0xe8, 0x03, 0x00, 0x00,   /* mov ecx, 1000 */
        0xe8, 0x06, 0x00, 0x00, 0x00,   /* L: call F (+6) */
        0xff, 0xc9,                     /* dec ecx */
        0x75, 0xf7,                     /* jnz L */
        0xf4,                           /* hlt */
        0x90,
        0xff, 0xc0,                     /* F: inc eax */
        0xc3,                           /* ret */
    };
    memcpy(ram + 0x2000, code, sizeof(code));
    memset(env->regs, 0, sizeof(env->regs));
    run_at(env, RAM_BASE + 0x2000);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 1000);
    test_cpu_free(env);
}

TEST(call_ret_loop_interp) { call_ret_loop(true); }
TEST(call_ret_loop_x86_64) { call_ret_loop(false); }

/* Two vCPUs in two host threads, each doing LOCK INC on the same counter
 * (and XCHG-based spinlock increments of a second one): nothing is lost. */
#include <pthread.h>

static void *run_cpu_thread(void *arg)
{
    CPUX86State *env = arg;
    tcg_run_until_exit(env);
    return NULL;
}

static void smp_lock_inc(bool interp)
{
    CPUX86State *a = new_cpu(interp), *b = new_cpu(interp);
    static VCPU va, vb;
    va.env = a;
    vb.env = b;
    current_machine->cpus[0] = &va;
    current_machine->cpus[1] = &vb;
    current_machine->ncpus = 2;
    /* ecx = 2000000; L: lock inc dword [0x10005000]
     *     spin: mov eax,1; xchg eax,[0x10005008]; test eax,eax; jnz spin
     *     inc dword [0x10005004]; mov dword [0x10005008], 0
     *     dec ecx; jnz L; hlt */
    static const uint8_t code[] = {
        0xb9, 0x80, 0x84, 0x1e, 0x00,
        0xf0, 0xff, 0x04, 0x25, 0x00, 0x50, 0x00, 0x10,
        0xb8, 0x01, 0x00, 0x00, 0x00,
        0x87, 0x04, 0x25, 0x08, 0x50, 0x00, 0x10,
        0x85, 0xc0,
        0x75, 0xf0,
        0xff, 0x04, 0x25, 0x04, 0x50, 0x00, 0x10,
        0xc7, 0x04, 0x25, 0x08, 0x50, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
        0xff, 0xc9,
        0x75, 0xd2,
        0xf4,
    };
    memcpy(ram + 0x4000, code, sizeof(code));
    memset(ram + 0x5000, 0, 16);
    CPUX86State *envs[2] = { a, b };
    for (int i = 0; i < 2; i++) {
        tb_flush(tcg_cpu(envs[i]));
        envs[i]->rip = RAM_BASE + 0x4000;
        envs[i]->regs[R_ESP] = RAM_BASE + RAM_SIZE - 64 - 0x1000 * i;
        envs[i]->halted = false;
        envs[i]->exception_index = -1;
        envs[i]->eflags = 2;
        cc_set_all(envs[i], 0);
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, run_cpu_thread, envs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK(a->halted && b->halted);
    CHECK_EQ(ld32(ram + 0x5000), 4000000);
    CHECK_EQ(ld32(ram + 0x5004), 4000000);
    current_machine->ncpus = 0;
    test_cpu_free(a);
    test_cpu_free(b);
}

TEST(smp_lock_inc_interp) { smp_lock_inc(true); }
TEST(smp_lock_inc_x86_64) { smp_lock_inc(false); }

/* A read-modify-write instruction faults as a write (#PF error code W=1),
 * even when its read is what misses; a plain read does not. */
static void rmw_fault_is_a_write(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t add_mem[] = { 0x01, 0x02, 0xf4 };     /* add [rdx], eax */
    static const uint8_t load[] = { 0x8b, 0x02, 0xf4 };        /* mov eax, [rdx] */
    memcpy(ram, add_mem, sizeof(add_mem));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = HOLE + 16;
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->error_code & 2, 2);
    memcpy(ram, load, sizeof(load));
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->error_code & 2, 0);
    test_cpu_free(env);
}

TEST(rmw_fault_is_a_write_interp) { rmw_fault_is_a_write(true); }
TEST(rmw_fault_is_a_write_x86_64) { rmw_fault_is_a_write(false); }

/* 64-bit mode: a non-canonical address through RSP/RBP is #SS(0). */
static void stack_noncanonical(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t via_rbp[] = { 0x48, 0x8b, 0x45, 0x00, 0xf4 };   /* mov rax, [rbp] */
    static const uint8_t via_rdx[] = { 0x48, 0x8b, 0x02, 0xf4 };         /* mov rax, [rdx] */
    memcpy(ram, via_rbp, sizeof(via_rbp));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBP] = 0x8000000000001000ULL;
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_SS);
    memcpy(ram, via_rdx, sizeof(via_rdx));
    env->regs[R_EDX] = 0x8000000000001000ULL;
    run_at(env, RAM_BASE);
    CHECK_EQ(env->exception_index, EXCP_GP);
    test_cpu_free(env);
}

TEST(stack_noncanonical_interp) { stack_noncanonical(true); }
TEST(stack_noncanonical_x86_64) { stack_noncanonical(false); }

/* The jump cache outlives CR3 writes: a block found by linear PC must still
 * be the one the new page tables map there. V maps to a different physical
 * page under a second set of tables; calls to V through a register (found
 * through the jump cache) across CR3 writes must run the right code. */
static void jump_cache_across_cr3(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    const uint64_t v = RAM_BASE + 0x90000, p2 = RAM_BASE + 0x91000;
    enable_paging(env);
    uint64_t tables_a = env->cr[3];
    /* tables B: a copy of A at 0xe0000.. with V -> p2 */
    uint64_t pml4 = 0xe0000, pdpt = 0xe1000, pd = 0xe2000, pt = 0xe3000;
    memcpy(ram + pt, ram + 0xf3000, 0x1000);
    memset(ram + pml4, 0, 0x3000);
    st64(ram + pml4, (RAM_BASE + pdpt) | 3);
    st64(ram + pdpt, (RAM_BASE + pd) | 3);
    st64(ram + pd + 8 * (RAM_BASE >> 21), (RAM_BASE + pt) | 3);
    st64(ram + pt + 8 * ((v - RAM_BASE) >> 12), p2 | 3);
    memcpy(ram + (v - RAM_BASE), (uint8_t[]){ 0xb8, 1, 0, 0, 0, 0xc3 }, 6);    /* mov eax, 1; ret */
    memcpy(ram + (p2 - RAM_BASE), (uint8_t[]){ 0xb8, 2, 0, 0, 0, 0xc3 }, 6);   /* mov eax, 2; ret */
    uint8_t code[64], *p = code;
    static const uint8_t after[3][6] = {
        { 0x41, 0x89, 0xc0, 0x0f, 0x22, 0xdb },   /* mov r8d, eax; mov cr3, rbx (B) */
        { 0x41, 0x89, 0xc1, 0x0f, 0x22, 0xde },   /* mov r9d, eax; mov cr3, rsi (A) */
        { 0x41, 0x89, 0xc2, 0xf4, 0x90, 0x90 },   /* mov r10d, eax; hlt */
    };
    for (int i = 0; i < 3; i++) {
        *p++ = 0x48; *p++ = 0xb8;                 /* mov rax, v */
        memcpy(p, &v, 8);
        p += 8;
        *p++ = 0xff; *p++ = 0xd0;                 /* call rax */
        memcpy(p, after[i], 6);
        p += 6;
    }
    memcpy(ram + 0x3000, code, (size_t)(p - code));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = RAM_BASE + pml4;
    env->regs[R_ESI] = tables_a;
    run_at(env, RAM_BASE + 0x3000);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[8], 1);
    CHECK_EQ(env->regs[9], 2);
    CHECK_EQ(env->regs[10], 1);
    test_cpu_free(env);
}

TEST(jump_cache_across_cr3_interp) { jump_cache_across_cr3(true); }
TEST(jump_cache_across_cr3_x86_64) { jump_cache_across_cr3(false); }

/* ---- self-looping blocks -------------------------------------------------------
 * A block whose branch re-enters it keeps guest registers and lazy flags in
 * host registers around the back edge; every way out must still see them. */
#define LOOP_CODE 0x4000

static void put_code(const uint8_t *code, size_t n)
{
    memcpy(ram + LOOP_CODE, code, n);
}

/* Byte checksum with carries (ADC reads the ADD's carry, ROL sets its own). */
static void loop_checksum(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x0f, 0xb6, 0x1e,       /* L: movzx ebx, byte [rsi] */
        0x01, 0xd8,             /* add eax, ebx             */
        0x83, 0xd2, 0x00,       /* adc edx, 0               */
        0xc1, 0xc0, 0x03,       /* rol eax, 3               */
        0x48, 0xff, 0xc6,       /* inc rsi                  */
        0xff, 0xc9,             /* dec ecx                  */
        0x75, 0xee,             /* jnz L                    */
        0xf4,
    };
    put_code(code, sizeof(code));
    const unsigned n = 3000, buf = 0x8000;
    uint32_t a = 0, d = 0;
    for (unsigned i = 0; i < n; i++) {
        ram[buf + i] = (uint8_t)(i * 37 + (i >> 3));
        uint64_t sum = (uint64_t)a + ram[buf + i];
        a = (uint32_t)sum;
        d += (uint32_t)(sum >> 32);
        a = a << 3 | a >> 29;
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = RAM_BASE + buf;
    env->regs[R_ECX] = n;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], a);
    CHECK_EQ(env->regs[R_EDX], d);
    CHECK_EQ(env->regs[R_ESI], RAM_BASE + buf + n);
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + sizeof(code));
    test_cpu_free(env);
}

TEST(loop_checksum_interp) { loop_checksum(true); }
TEST(loop_checksum_x86_64) { loop_checksum(false); }

/* A #PF in iteration 101: the registers and flags of iteration 100. */
static void loop_fault(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x03, 0x02,             /* L: add eax, [rdx] */
        0x48, 0x83, 0xc2, 0x08, /* add rdx, 8        */
        0xff, 0xc9,             /* dec ecx           */
        0x75, 0xf6,             /* jnz L             */
        0xf4,
    };
    put_code(code, sizeof(code));
    enable_paging(env);
    const unsigned k = 100;
    for (unsigned i = 0; i < k; i++)
        st32(ram + (HOLE - RAM_BASE) - 8 * (k - i), i + 1);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = HOLE - 8 * k;
    env->regs[R_ECX] = 0x80000000u + 1000;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->regs[R_EAX], k * (k + 1) / 2);
    CHECK_EQ(env->regs[R_EDX], HOLE);
    CHECK_EQ(env->regs[R_ECX], 0x80000000u + 1000 - k);
    /* flags of the last DEC: negative, not zero; CF from "add rdx, 8" (clear) */
    uint32_t f = cc_compute_all(env);
    CHECK_EQ(f & (CC_S | CC_Z | CC_C), CC_S);
    test_cpu_free(env);
}

TEST(loop_fault_interp) { loop_fault(true); }
TEST(loop_fault_x86_64) { loop_fault(false); }

/* Nested loops over ten guest registers (more than the carried set: the
 * inner loop's get the registers, tcg/x86_64/loop.c) and lazy flags; a #PF
 * in the middle of an inner loop: every register and the flags of the
 * instructions before it. */
static void nested_loop_fault(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x41, 0xb9, 0x04, 0x00, 0x00, 0x00, /* O: mov r9d, 4     */
        0x03, 0x02,                         /* I: add eax, [rdx] */
        0x48, 0x83, 0xc2, 0x08,             /* add rdx, 8        */
        0x49, 0x01, 0xda,                   /* add r10, rbx      */
        0x49, 0x31, 0xc3,                   /* xor r11, rax      */
        0x48, 0x01, 0xfe,                   /* add rsi, rdi      */
        0x41, 0xff, 0xc9,                   /* dec r9d           */
        0x75, 0xec,                         /* jnz I             */
        0x49, 0x83, 0xc0, 0x01,             /* add r8, 1         */
        0xff, 0xc9,                         /* dec ecx           */
        0x75, 0xde,                         /* jnz O             */
        0xf4,
    };
    put_code(code, sizeof(code));
    enable_paging(env);
    const unsigned k = 4 * 300 + 2;   /* the load of outer turn 300, inner turn 2 faults */
    for (unsigned i = 0; i < k; i++)
        st32(ram + (HOLE - RAM_BASE) - 8 * (k - i), i * 2654435761u);
    uint64_t r[16] = { 0 };
    r[R_EDX] = HOLE - 8 * k;
    r[R_ECX] = 100000;
    r[R_EBX] = 0x123456789abcdefULL;
    r[R_ESI] = 0x7000000000000000ULL;
    r[R_EDI] = 0x9000000000000001ULL;
    memset(env->regs, 0, sizeof(env->regs));
    memcpy(env->regs, r, sizeof(r));
    bool cf = false;
    for (unsigned i = 0, inner = 0; i < k; i++) {   /* the same in C */
        if (inner == 0)
            r[R_R9] = 4;
        r[R_EAX] = (uint32_t)(r[R_EAX] + (uint32_t)(i * 2654435761u));
        r[R_EDX] += 8;
        r[R_R10] += r[R_EBX];
        r[R_R11] ^= r[R_EAX];
        cf = r[R_ESI] + r[R_EDI] < r[R_ESI];
        r[R_ESI] += r[R_EDI];
        r[R_R9] = (uint32_t)(r[R_R9] - 1);
        if (++inner == 4) {
            inner = 0;
            r[R_R8]++;
            r[R_ECX] = (uint32_t)(r[R_ECX] - 1);
            cf = false;   /* add r8, 1: no carry */
        }
    }
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + 6);
    for (int i = 0; i < 16; i++)
        if (i != R_ESP)   /* run_at's stack */
            CHECK_EQ(env->regs[i], r[i]);
    /* the last DEC r9d (2 left): not zero, not negative; CF of add rsi, rdi */
    uint32_t f = cc_compute_all(env);
    CHECK_EQ(f & (CC_S | CC_Z | CC_C), cf ? CC_C : 0);
    test_cpu_free(env);
}

TEST(nested_loop_fault_interp) { nested_loop_fault(true); }
TEST(nested_loop_fault_x86_64) { nested_loop_fault(false); }

/* An endless loop left only through an exit request (what an interrupt or
 * another vCPU does): the registers agree with the memory it counts in. */
static void *run_one_turn(void *arg)
{
    tcg_run_for(arg, 1);
    return NULL;
}

static void wait_count(uint64_t counter, uint64_t at_least)
{
    for (int i = 0; i < 200000 && atomic_load((_Atomic uint64_t *)(ram + counter)) < at_least; i++)
        usleep(100);
}

/* Runs the endless loop at LOOP_CODE (rbx = the address of a counter it
 * increments) in a thread until it has counted to 100000, then asks it to
 * stop: the count it reached. */
static uint64_t run_counting_loop(CPUX86State *env)
{
    const unsigned counter = 0x9000;
    st64(ram + counter, 0);
    tb_flush(tcg_cpu(env));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = RAM_BASE + counter;
    env->rip = RAM_BASE + LOOP_CODE;
    env->halted = false;
    env->exception_index = -1;
    env->eflags = 2;
    pthread_t th;
    pthread_create(&th, NULL, run_one_turn, env);
    wait_count(counter, 100000);
    atomic_store(&tcg_cpu(env)->exit_flag, 1);
    pthread_join(th, NULL);
    return ld64(ram + counter);
}

static void loop_exit_request(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x48, 0xff, 0x03,       /* L: inc qword [rbx] */
        0x48, 0xff, 0xc0,       /* inc rax            */
        0xeb, 0xf8,             /* jmp L              */
    };
    put_code(code, sizeof(code));
    uint64_t count = run_counting_loop(env);
    CHECK(count >= 100000);
    CHECK_EQ(env->regs[R_EAX], count);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE);
    test_cpu_free(env);
}

TEST(loop_exit_request_interp) { loop_exit_request(true); }
TEST(loop_exit_request_x86_64) { loop_exit_request(false); }

/* The same endless loop as a cycle of chained blocks (no loops inside one
 * translation): a forward chained jump may skip the next block's exit
 * check, the backward one must not, or the request is never seen. */
static void chained_cycle_exit_request(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x48, 0xff, 0x03,       /* A: inc qword [rbx] */
        0xeb, 0x02,             /* jmp B              */
        0x0f, 0x0b,             /* ud2                */
        0x48, 0xff, 0xc0,       /* B: inc rax         */
        0xeb, 0xf4,             /* jmp A              */
    };
    put_code(code, sizeof(code));
    x86_translate_loops = false;
    alarm(60);   /* a cycle without a check never stops: fail, not hang */
    uint64_t count = run_counting_loop(env);
    alarm(0);
    x86_translate_loops = true;
    CHECK(count >= 100000);
    /* stopped at a block's start: A (rax one behind the count) or B */
    CHECK(env->rip == RAM_BASE + LOOP_CODE || env->rip == RAM_BASE + LOOP_CODE + 7);
    CHECK_EQ(env->regs[R_EAX], env->rip == RAM_BASE + LOOP_CODE ? count : count - 1);
    CHECK_EQ(env->exception_index, -1);
    test_cpu_free(env);
}

/* A block chained to a block on two pages, then a store into the second
 * page invalidates that one only: the chained jump now meets the patched
 * start, which must leave with the invalid block's RIP (chained jumps do
 * not store it), so that the loop translates it again and the new code
 * runs. Stale RIP (the first block's) would run the first block for ever. */
#define TWO_PAGE_A 0x5ff0
#define TWO_PAGE_B 0x5ffc
#define TWO_PAGE_IMM 0x6000

static void chained_into_invalid_two_page_block(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t a[] = {
        0xff, 0xc0,                         /* A: inc eax           */
        0xeb, 0x08,                         /* jmp B                */
        0x0f, 0x0b, 0x0f, 0x0b, 0x0f, 0x0b, 0x0f, 0x0b,
        0xff, 0xc1,                         /* B: inc ecx           */
        0x83, 0xc2, 0x01,                   /* add edx, 1 (imm8 on the next page) */
        0xf4,                               /* hlt                  */
    };
    static const uint8_t writer[] = { 0xc6, 0x03, 0x05, 0xf4 };   /* mov byte [rbx], 5; hlt */
    memcpy(ram + TWO_PAGE_A, a, sizeof(a));
    memcpy(ram + LOOP_CODE, writer, sizeof(writer));
    run_at(env, RAM_BASE + TWO_PAGE_A);
    CHECK(env->halted);
    alarm(60);
    for (int i = 0; i < 2; i++)   /* chained now */
        test_run_from(env, RAM_BASE + TWO_PAGE_A);
    env->regs[R_EBX] = RAM_BASE + TWO_PAGE_IMM;
    test_run_from(env, RAM_BASE + LOOP_CODE);
    CHECK(env->halted);
    test_run_from(env, RAM_BASE + TWO_PAGE_A);
    alarm(0);
    CHECK(env->halted);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->rip, RAM_BASE + TWO_PAGE_IMM + 2);
    CHECK_EQ(env->regs[R_EAX], 4);
    CHECK_EQ(env->regs[R_ECX], 4);
    CHECK_EQ(env->regs[R_EDX], 3 + 5);
    test_cpu_free(env);
}

TEST(chained_into_invalid_two_page_block_interp) { chained_into_invalid_two_page_block(true); }
TEST(chained_into_invalid_two_page_block_x86_64) { chained_into_invalid_two_page_block(false); }

TEST(chained_cycle_exit_request_interp) { chained_cycle_exit_request(true); }
TEST(chained_cycle_exit_request_x86_64) { chained_cycle_exit_request(false); }

/* The loop rewrites its own ADD immediate: later iterations add the new one. */
static void loop_self_modifying(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x05, 0x01, 0x00, 0x00, 0x00,         /* L: add eax, 1        */
        0xc7, 0x03, 0x02, 0x00, 0x00, 0x00,   /* mov dword [rbx], 2   */
        0xff, 0xc9,                           /* dec ecx              */
        0x75, 0xf1,                           /* jnz L                */
        0xf4,
    };
    put_code(code, sizeof(code));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = RAM_BASE + LOOP_CODE + 1;
    env->regs[R_ECX] = 10;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 1 + 2 * 9);
    CHECK_EQ(env->regs[R_ECX], 0);
    test_cpu_free(env);
}

TEST(loop_self_modifying_interp) { loop_self_modifying(true); }
TEST(loop_self_modifying_x86_64) { loop_self_modifying(false); }

/* DIV is a helper that reads and writes the registers in env. */
static void loop_env_helper(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x89, 0xf0,             /* L: mov eax, esi */
        0x31, 0xd2,             /* xor edx, edx    */
        0xf7, 0xf3,             /* div ebx         */
        0x01, 0xd7,             /* add edi, edx    */
        0xff, 0xc6,             /* inc esi         */
        0xff, 0xc9,             /* dec ecx         */
        0x75, 0xf2,             /* jnz L           */
        0xf4,
    };
    put_code(code, sizeof(code));
    uint32_t sum = 0;
    for (uint32_t v = 1000; v < 1500; v++)
        sum += v % 7;
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = 1000;
    env->regs[R_EBX] = 7;
    env->regs[R_ECX] = 500;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EDI], sum);
    CHECK_EQ(env->regs[R_ESI], 1500);
    CHECK_EQ(env->regs[R_EAX], 1499 / 7);
    CHECK_EQ(env->regs[R_EDX], 1499 % 7);
    test_cpu_free(env);
}

TEST(loop_env_helper_interp) { loop_env_helper(true); }
TEST(loop_env_helper_x86_64) { loop_env_helper(false); }
/* ---- shared TLB probes (tcg/mem-reuse.c): accesses through one base ------------------ */
#define DATA (RAM_BASE + 0x40000)

static uint64_t *pte_of(uint64_t va)
{
    return (uint64_t *)(ram + 0xf3000 + 8 * ((va - RAM_BASE) >> 12));
}

static void run_code(CPUX86State *env, const uint8_t *code, size_t n)
{
    memcpy(ram, code, n);
    run_at(env, RAM_BASE);
}

/* A loop whose block reads, writes and reads again through rdx: the first
 * turn fills the TLB through the fallbacks, the later ones use the shared
 * probe; values, the dirty bit and the final state must be exact. */
static void shared_probe_loop(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x02,             /* L: mov rax, [rdx]     */
        0x48, 0x89, 0x5a, 0x10,       /*    mov [rdx+16], rbx  */
        0x48, 0x8b, 0x72, 0x08,       /*    mov rsi, [rdx+8]   */
        0x48, 0x01, 0xc3,             /*    add rbx, rax       */
        0xff, 0xc9,                   /*    dec ecx            */
        0x75, 0xef,                   /*    jnz L              */
        0xf4,
    };
    st64(ram + (DATA - RAM_BASE), 5);
    st64(ram + (DATA - RAM_BASE) + 8, 7);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = DATA;
    env->regs[R_EBX] = 1;
    env->regs[R_ECX] = 3;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EBX], 16);
    CHECK_EQ(env->regs[R_EAX], 5);
    CHECK_EQ(env->regs[R_ESI], 7);
    CHECK_EQ(ld64(ram + (DATA - RAM_BASE) + 16), 11);
    CHECK_EQ(*pte_of(DATA) & 0x60, 0x60);   /* accessed and dirty */
    test_cpu_free(env);
}

TEST(shared_probe_loop_interp) { shared_probe_loop(true); }
TEST(shared_probe_loop_x86_64) { shared_probe_loop(false); }

/* The window crosses into the next page: each access on its own page. */
static void shared_probe_page_crossing(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x02,             /* L: mov rax, [rdx]     */
        0x48, 0x8b, 0x5a, 0x08,       /*    mov rbx, [rdx+8]   */
        0x48, 0x89, 0x42, 0x10,       /*    mov [rdx+16], rax  */
        0xff, 0xc9,                   /*    dec ecx            */
        0x75, 0xf2,                   /*    jnz L              */
        0xf4,
    };
    uint64_t p = DATA + 0x1000 - 8;
    st64(ram + (p - RAM_BASE), 0x1111);
    st64(ram + (p - RAM_BASE) + 8, 0x2222);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = p;
    env->regs[R_ECX] = 2;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 0x1111);
    CHECK_EQ(env->regs[R_EBX], 0x2222);
    CHECK_EQ(ld64(ram + (p - RAM_BASE) + 16), 0x1111);
    test_cpu_free(env);
}

TEST(shared_probe_page_crossing_interp) { shared_probe_page_crossing(true); }
TEST(shared_probe_page_crossing_x86_64) { shared_probe_page_crossing(false); }

/* The same, many turns: once both pages are in the TLB, the members with a
 * displacement check their own page inline (borrowing host registers) and
 * no access calls the C slow path; every other register keeps its value. */
static void shared_probe_page_crossing_inline(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x02,             /* L: mov rax, [rdx]     */
        0x48, 0x8b, 0x5a, 0x08,       /*    mov rbx, [rdx+8]   */
        0x48, 0x89, 0x42, 0x10,       /*    mov [rdx+16], rax  */
        0x88, 0x5a, 0x18,             /*    mov [rdx+24], bl   */
        0x48, 0x01, 0xde,             /*    add rsi, rbx       */
        0xff, 0xc9,                   /*    dec ecx            */
        0x75, 0xec,                   /*    jnz L              */
        0xf4,
    };
    uint64_t p = DATA + 0x1000 - 8;
    st64(ram + (p - RAM_BASE), 0x1111);
    st64(ram + (p - RAM_BASE) + 8, 0x2233);
    memset(env->regs, 0, sizeof(env->regs));
    for (int r = R_EDI; r < 16; r++)
        env->regs[r] = 0x100 + r;
    env->regs[R_EDX] = p;
    env->regs[R_ECX] = 100;
    env->regs[R_ESI] = 0;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 0x1111);
    CHECK_EQ(env->regs[R_EBX], 0x2233);
    CHECK_EQ(env->regs[R_ESI], 100 * 0x2233);
    CHECK_EQ(env->regs[R_EDX], p);
    for (int r = R_EDI; r < 16; r++)
        CHECK_EQ(env->regs[r], 0x100 + r);
    CHECK_EQ(ld64(ram + (p - RAM_BASE) + 16), 0x1111);
    CHECK_EQ(ram[p - RAM_BASE + 24], 0x33);
    if (!interp)
        CHECK(tcg_cpu(env)->stat_slow_tlb_hit == 0);
    test_cpu_free(env);
}

TEST(shared_probe_page_crossing_inline_interp) { shared_probe_page_crossing_inline(true); }
TEST(shared_probe_page_crossing_inline_x86_64) { shared_probe_page_crossing_inline(false); }

/* Two pages whose TLB slots collide (16 MiB apart), used in turns: the one
 * the main table does not hold is found in the victim TLB by the code
 * itself, not by a helper call that swaps the two at every access. */
#define COLLIDING (DATA + ((uint64_t)TLB_SIZE << TARGET_PAGE_BITS))
static void victim_tlb_inline(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t pt2 = 0xf4000;   /* maps COLLIDING to DATA + 0x1000 */
    memset(ram + pt2, 0, 0x1000);
    st64(ram + 0xf2000 + 8 * ((COLLIDING >> 21) & 511), (RAM_BASE + pt2) | 3);
    st64(ram + pt2 + 8 * ((COLLIDING >> 12) & 511), (DATA + 0x1000) | 3);
    /* a loop (the probe is emitted in looping blocks) whose addresses move
     * (so that no loop-invariant probe checks them once for all turns) */
    static const uint8_t code[] = {
        0x48, 0x8b, 0x04, 0xca,       /* L: mov rax, [rdx+rcx*8]   */
        0x48, 0x01, 0x04, 0xce,       /*    add [rsi+rcx*8], rax   */
        0x48, 0x03, 0x1c, 0xce,       /*    add rbx, [rsi+rcx*8]   */
        0xff, 0xc9,                   /*    dec ecx                */
        0x75, 0xf0,                   /*    jnz L                  */
        0xf4,
    };
    for (int i = 0; i <= 100; i++) {
        st64(ram + (DATA - RAM_BASE) + 8 * i, 3);
        st64(ram + (DATA - RAM_BASE) + 0x1000 + 8 * i, i);
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = DATA;
    env->regs[R_ESI] = COLLIDING;
    env->regs[R_ECX] = 100;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(ld64(ram + (DATA - RAM_BASE) + 0x1000 + 8 * 37), 40);
    CHECK_EQ(env->regs[R_EBX], 100 * 101 / 2 + 300);
    CHECK_EQ(env->regs[R_EAX], 3);
    if (!interp)
        CHECK(tcg_cpu(env)->stat_tlb_victim_hits < 10);
    test_cpu_free(env);
}

TEST(victim_tlb_inline_interp) { victim_tlb_inline(true); }
TEST(victim_tlb_inline_x86_64) { victim_tlb_inline(false); }

/* A page the main table lost to a colliding one used once, then used
 * alone: the victim probe's hit moves it back into the main table, so the
 * loop's accesses after the first are inline hits, not probes. */
static void victim_tlb_hot_page_moves_back(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t pt2 = 0xf4000;   /* maps COLLIDING to DATA + 0x1000 */
    memset(ram + pt2, 0, 0x1000);
    st64(ram + 0xf2000 + 8 * ((COLLIDING >> 21) & 511), (RAM_BASE + pt2) | 3);
    st64(ram + pt2 + 8 * ((COLLIDING >> 12) & 511), (DATA + 0x1000) | 3);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x02,             /*    mov rax, [rdx]         (DATA: filled) */
        0x48, 0x8b, 0x06,             /*    mov rax, [rsi]         (COLLIDING: DATA to the victims) */
        0x48, 0x03, 0x1c, 0xca,       /* L: add rbx, [rdx+rcx*8]   */
        0xff, 0xc9,                   /*    dec ecx                */
        0x75, 0xf8,                   /*    jnz L                  */
        0x48, 0x03, 0x1e,             /*    add rbx, [rsi]         (COLLIDING again) */
        0xf4,
    };
    for (int i = 0; i <= 100; i++)
        st64(ram + (DATA - RAM_BASE) + 8 * i, i);
    st64(ram + (DATA - RAM_BASE) + 0x1000, 7);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = DATA;
    env->regs[R_ESI] = COLLIDING;
    env->regs[R_ECX] = 100;
    log_mask |= LOG_JIT_COUNT;   /* the probes count themselves */
    run_code(env, code, sizeof(code));
    log_mask &= ~LOG_JIT_COUNT;
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EBX], 100 * 101 / 2 + 7);
    CHECK_EQ(env->regs[R_EAX], 7);
    /* without the move: a probe per turn */
    if (!interp)
        CHECK(tcg_cpu(env)->stat_victim_probes < 10);
    test_cpu_free(env);
}

TEST(victim_tlb_hot_page_moves_back_interp) { victim_tlb_hot_page_moves_back(true); }
TEST(victim_tlb_hot_page_moves_back_x86_64) { victim_tlb_hot_page_moves_back(false); }

/* A writable alias of a code page that came back into the main TLB through
 * the victim probe's swap: translating code on the page must still mark
 * that entry, so a store through the alias invalidates the code. */
#define ALIAS_CODE (RAM_BASE + 0x30000)   /* mov eax, 0x11; ret */
static void victim_swapped_alias_of_code(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t pt2 = 0xf4000;   /* maps COLLIDING (DATA's TLB slot) to ALIAS_CODE */
    memset(ram + pt2, 0, 0x1000);
    st64(ram + 0xf2000 + 8 * ((COLLIDING >> 21) & 511), (RAM_BASE + pt2) | 3);
    st64(ram + pt2 + 8 * ((COLLIDING >> 12) & 511), ALIAS_CODE | 3);
    memcpy(ram + (ALIAS_CODE - RAM_BASE), (uint8_t[]){ 0xb8, 0x11, 0, 0, 0, 0xc3 }, 6);
    uint8_t code[] = {
        0x48, 0x89, 0x86, 0, 1, 0, 0, /*  0: mov [rsi+0x100], rax  (the alias: filled, writable) */
        0x48, 0x8b, 0x07,             /*  7: mov rax, [rdi]        (DATA: the alias to victims) */
        0xb9, 0x10, 0, 0, 0,          /* 10: mov ecx, 16                                      */
        0x48, 0x03, 0x1c, 0xce,       /* 15: L: add rbx, [rsi+rcx*8] (victim probe: swapped back) */
        0xff, 0xc9,                   /* 19: dec ecx                                          */
        0x75, 0xf8,                   /* 21: jnz L                                            */
        0xe8, 0, 0, 0, 0,             /* 23: call ALIAS_CODE                                  */
        0x89, 0xc5,                   /* 28: mov ebp, eax                                     */
        0xc6, 0x46, 0x01, 0x22,       /* 30: mov byte [rsi+1], 0x22 (the immediate)            */
        0xe8, 0, 0, 0, 0,             /* 34: call ALIAS_CODE                                  */
        0xf4,                         /* 39: hlt                                              */
    };
    int32_t rel = (int32_t)(ALIAS_CODE - (RAM_BASE + 28));
    memcpy(code + 24, &rel, 4);
    rel = (int32_t)(ALIAS_CODE - (RAM_BASE + 39));
    memcpy(code + 35, &rel, 4);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = COLLIDING;
    env->regs[R_EDI] = DATA;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EBP], 0x11);
    CHECK_EQ(env->regs[R_EAX], 0x22);
    test_cpu_free(env);
}

TEST(victim_swapped_alias_of_code_interp) { victim_swapped_alias_of_code(true); }
TEST(victim_swapped_alias_of_code_x86_64) { victim_swapped_alias_of_code(false); }

/* Two probe windows that never verify (each straddles a page), on pages
 * whose TLB slots collide pairwise: every access goes the single-access way
 * of a folded reuse, and the page its slot does not hold is found in the
 * victim TLB there, not by a helper call that swaps the pair at every
 * access. */
static void victim_tlb_folded(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t pt2 = 0xf4000;   /* COLLIDING -> DATA + 0x1000, next page -> DATA + 0x2000 */
    memset(ram + pt2, 0, 0x1000);
    st64(ram + 0xf2000 + 8 * ((COLLIDING >> 21) & 511), (RAM_BASE + pt2) | 3);
    st64(ram + pt2 + 8 * ((COLLIDING >> 12) & 511), (DATA + 0x1000) | 3);
    st64(ram + pt2 + 8 * (((COLLIDING + 0x1000) >> 12) & 511), (DATA + 0x2000) | 3);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x86, 0xf8, 0x0f, 0x00, 0x00,   /* L: mov rax, [rsi+0xff8]  */
        0x48, 0x03, 0x86, 0x00, 0x10, 0x00, 0x00,   /*    add rax, [rsi+0x1000] */
        0x48, 0x03, 0x87, 0xf8, 0x0f, 0x00, 0x00,   /*    add rax, [rdi+0xff8]  */
        0x48, 0x03, 0x87, 0x00, 0x10, 0x00, 0x00,   /*    add rax, [rdi+0x1000] */
        0x48, 0x01, 0xc3,                           /*    add rbx, rax          */
        0xff, 0xc9,                                 /*    dec ecx               */
        0x75, 0xdd,                                 /*    jnz L                 */
        0xf4,
    };
    st64(ram + (DATA - RAM_BASE) + 0xff8, 1);
    st64(ram + (DATA - RAM_BASE) + 0x1000, 2);
    st64(ram + (DATA - RAM_BASE) + 0x1ff8, 3);
    st64(ram + (DATA - RAM_BASE) + 0x2000, 4);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = DATA;
    env->regs[R_EDI] = COLLIDING;
    env->regs[R_ECX] = 100;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EBX], 1000);
    if (!interp)
        CHECK(tcg_cpu(env)->stat_tlb_victim_hits < 10);
    test_cpu_free(env);
}

TEST(victim_tlb_folded_interp) { victim_tlb_folded(true); }
TEST(victim_tlb_folded_x86_64) { victim_tlb_folded(false); }

/* A fault in the middle of a group: the window runs into an unmapped page;
 * the first access and the instruction after it completed, nothing else. */
static void shared_probe_fault_in_middle(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x02,             /* mov rax, [rdx]      */
        0xff, 0xc6,                   /* inc esi             */
        0x48, 0x8b, 0x5a, 0x08,       /* mov rbx, [rdx+8]    (#PF) */
        0xff, 0xc7,                   /* inc edi             */
        0xf4,
    };
    st64(ram + (HOLE - 8 - RAM_BASE), 0x4242);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = HOLE - 8;
    env->regs[R_EBX] = 0x99;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE);
    CHECK_EQ(env->rip, RAM_BASE + 5);
    CHECK_EQ(env->regs[R_EAX], 0x4242);
    CHECK_EQ(env->regs[R_ESI], 1);
    CHECK_EQ(env->regs[R_EBX], 0x99);
    CHECK_EQ(env->regs[R_EDI], 0);
    test_cpu_free(env);
}

TEST(shared_probe_fault_in_middle_interp) { shared_probe_fault_in_middle(true); }
TEST(shared_probe_fault_in_middle_x86_64) { shared_probe_fault_in_middle(false); }

/* Read then write on a read-only page (CR0.WP) whose read entry is in the
 * TLB (a previous block read it): the shared probe must not let the write
 * through; it faults as a write, at the store, after the read completed. */
static void shared_probe_readonly_write(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    *pte_of(DATA) &= ~2ULL;
    env->cr[0] |= CR0_WP;
    tlb_flush(env);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x0a,             /* mov rcx, [rdx]      (fills the TLB) */
        0xeb, 0x00,                   /* jmp +0              (next block)    */
        0x48, 0x8b, 0x02,             /* mov rax, [rdx]      */
        0xff, 0xc6,                   /* inc esi             */
        0x48, 0x89, 0x5a, 0x08,       /* mov [rdx+8], rbx    (#PF W) */
        0xf4,
    };
    st64(ram + (DATA - RAM_BASE), 0x77);
    st64(ram + (DATA - RAM_BASE) + 8, 0x88);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = DATA;
    env->regs[R_EBX] = 0x55;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->error_code & 3, 3);
    CHECK_EQ(env->rip, RAM_BASE + 10);
    CHECK_EQ(env->regs[R_EAX], 0x77);
    CHECK_EQ(env->regs[R_ESI], 1);
    CHECK_EQ(ld64(ram + (DATA - RAM_BASE) + 8), 0x88);
    test_cpu_free(env);
}

TEST(shared_probe_readonly_write_interp) { shared_probe_readonly_write(true); }
TEST(shared_probe_readonly_write_x86_64) { shared_probe_readonly_write(false); }

/* A clean page read first (its TLB entry lacks write permission until the
 * walker sets the dirty bit): a read-write group must set D on its write. */
static void shared_probe_dirty_bit(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x0a,             /* mov rcx, [rdx]      (fills the TLB) */
        0xeb, 0x00,                   /* jmp +0              (next block)    */
        0x48, 0x8b, 0x02,             /* mov rax, [rdx]      */
        0x48, 0x89, 0x5a, 0x08,       /* mov [rdx+8], rbx    */
        0xf4,
    };
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = DATA;
    env->regs[R_EBX] = 0x1234;
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(*pte_of(DATA) & 0x60, 0x60);
    CHECK_EQ(ld64(ram + (DATA - RAM_BASE) + 8), 0x1234);
    test_cpu_free(env);
}

TEST(shared_probe_dirty_bit_interp) { shared_probe_dirty_bit(true); }
TEST(shared_probe_dirty_bit_x86_64) { shared_probe_dirty_bit(false); }

/* Two stores through one base into the block's own code page: each must
 * reach the code (the shared probe never covers a page holding code). */
static void shared_probe_code_page(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x89, 0x0a,                   /* mov [rdx], ecx        */
        0x89, 0x4a, 0x05,             /* mov [rdx+5], ecx      */
        0xb8, 0x11, 0x11, 0x11, 0x11, /* mov eax, 0x11111111   (imm at +6)  */
        0xbb, 0x22, 0x22, 0x22, 0x22, /* mov ebx, 0x22222222   (imm at +11) */
        0xf4,
    };
    for (int round = 0; round < 2; round++) {
        memset(env->regs, 0, sizeof(env->regs));
        env->regs[R_EDX] = RAM_BASE + 6;
        env->regs[R_ECX] = 0x33333333u + (unsigned)round;
        run_code(env, code, sizeof(code));
        CHECK_EQ(env->exception_index, -1);
        CHECK_EQ(env->regs[R_EAX], 0x33333333u + (unsigned)round);
        CHECK_EQ(env->regs[R_EBX], 0x33333333u + (unsigned)round);
    }
    test_cpu_free(env);
}

TEST(shared_probe_code_page_interp) { shared_probe_code_page(true); }
TEST(shared_probe_code_page_x86_64) { shared_probe_code_page(false); }

/* ---- shared probes past a brcond (tcg/mem-reuse.c) ----------------------------------------- */
/* [rdx] read, then on the JNZ's fall-through [rdx+8] written through the
 * same probe: every second record is skipped. */
static const uint8_t brcond_share[] = {
    0x8b, 0x02,                         /* L: mov eax, [rdx]   */
    0xa9, 0x01, 0x00, 0x00, 0x00,       /* test eax, 1         */
    0x75, 0x03,                         /* jnz S               */
    0x89, 0x4a, 0x08,                   /* mov [rdx+8], ecx    */
    0x48, 0x83, 0xc2, 0x10,             /* S: add rdx, 16      */
    0xff, 0xc9,                         /* dec ecx             */
    0x75, 0xec,                         /* jnz L               */
    0xf4,
};
#define BRCOND_SHARE_STORE 9

static void shared_probe_past_brcond(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    const unsigned n = 100;
    uint64_t buf = DATA + 0x2000;   /* the records cross into the next page */
    for (unsigned i = 0; i < n; i++) {
        st32(ram + (buf - RAM_BASE) + 16 * i, i * 3);
        st32(ram + (buf - RAM_BASE) + 16 * i + 8, 0xdead);
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = buf;
    env->regs[R_ECX] = n;
    run_code(env, brcond_share, sizeof(brcond_share));
    CHECK_EQ(env->exception_index, -1);
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(ld32(ram + (buf - RAM_BASE) + 16 * i + 8), (i * 3) & 1 ? 0xdead : n - i);
    CHECK_EQ(env->regs[R_EDX], buf + 16 * n);
    CHECK_EQ(env->regs[R_EAX], (n - 1) * 3);
    CHECK_EQ(*pte_of(buf) & 0x60, 0x60);
    test_cpu_free(env);
}

TEST(shared_probe_past_brcond_interp) { shared_probe_past_brcond(true); }
TEST(shared_probe_past_brcond_x86_64) { shared_probe_past_brcond(false); }

/* The records' page is read-only: the probe (a read, checking the group's
 * write too) never verifies, and the write after the brcond faults
 * precisely, with the read's result in eax. */
static void shared_probe_past_brcond_readonly(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t buf = DATA + 0x2000;
    for (unsigned i = 0; i < 8; i++)
        st32(ram + (buf - RAM_BASE) + 16 * i, i < 5 ? 1 : 4);   /* odd: skipped */
    *pte_of(buf) = buf | 1;   /* present, not writable */
    env->cr[0] |= CR0_WP;
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = buf;
    env->regs[R_ECX] = 8;
    run_code(env, brcond_share, sizeof(brcond_share));
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], buf + 16 * 5 + 8);
    CHECK_EQ(env->rip, RAM_BASE + BRCOND_SHARE_STORE);
    CHECK_EQ(env->regs[R_EAX], 4);
    CHECK_EQ(env->regs[R_EDX], buf + 16 * 5);
    CHECK_EQ(env->regs[R_ECX], 3);
    CHECK_EQ(cc_compute_all(env) & (CC_Z | CC_S | CC_C), CC_Z);   /* test eax, 1 */
    test_cpu_free(env);
}

TEST(shared_probe_past_brcond_readonly_interp) { shared_probe_past_brcond_readonly(true); }
TEST(shared_probe_past_brcond_readonly_x86_64) { shared_probe_past_brcond_readonly(false); }

/* CPUID (a helper) changes EBX, which no instruction of the loop writes:
 * the loop must use and leave the helper's value, not the one it entered with. */
static void loop_helper_writes_reg(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x31, 0xc0,             /* L: xor eax, eax */
        0x0f, 0xa2,             /* cpuid           */
        0x01, 0xde,             /* add esi, ebx    */
        0xff, 0xcf,             /* dec edi         */
        0x75, 0xf6,             /* jnz L           */
        0xf4,
    };
    put_code(code, sizeof(code));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = 0x5555;
    env->regs[R_EDI] = 20;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->regs[R_EBX] != 0x5555);
    CHECK_EQ(env->regs[R_ESI], (uint32_t)(20 * env->regs[R_EBX]));
    test_cpu_free(env);
}

TEST(loop_helper_writes_reg_interp) { loop_helper_writes_reg(true); }
TEST(loop_helper_writes_reg_x86_64) { loop_helper_writes_reg(false); }

/* A #PF after a branch inside the loop body (DEC keeps CF: the carry of the
 * previous iteration's flags, which a guard on the incoming flag state
 * branches on): the registers of the faulting iteration up to the fault. */
static void loop_fault_after_branch(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0xff, 0xc9,             /* L: dec ecx        */
        0x03, 0x02,             /* add eax, [rdx]    */
        0x48, 0x83, 0xc2, 0x08, /* add rdx, 8        */
        0x85, 0xc9,             /* test ecx, ecx     */
        0x75, 0xf4,             /* jnz L             */
        0xf4,
    };
    put_code(code, sizeof(code));
    enable_paging(env);
    const unsigned k = 70;
    for (unsigned i = 0; i < k; i++)
        st32(ram + (HOLE - RAM_BASE) - 8 * (k - i), 2 * i + 1);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = HOLE - 8 * k;
    env->regs[R_ECX] = 1000;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + 2);
    CHECK_EQ(env->regs[R_EAX], k * k);
    CHECK_EQ(env->regs[R_EDX], HOLE);
    CHECK_EQ(env->regs[R_ECX], 1000 - k - 1);
    /* flags of that DEC: positive, not zero, CF from TEST (clear) */
    CHECK_EQ(cc_compute_all(env) & (CC_S | CC_Z | CC_C), 0);
    test_cpu_free(env);
}

TEST(loop_fault_after_branch_interp) { loop_fault_after_branch(true); }
TEST(loop_fault_after_branch_x86_64) { loop_fault_after_branch(false); }

/* ---- loop-invariant probes (tcg/loop-probe.c): one window check per loop entry ---------- */
/* Looping blocks translated with hoisted probes so far. */
static uint64_t loop_probes(CPUX86State *env)
{
    return tcg_cpu(env)->ctx->stat_loop_probes;
}

static uint32_t table_entry(unsigned i) { return i * 0x9e3779b1u ^ (i << 7); }

static uint32_t crc_ref(uint32_t crc, const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        crc = (crc >> 8) ^ table_entry((p[i] ^ crc) & 0xff);
    return crc;
}

/* The kernel decompressor's CRC32 loop, its table read through r9 (which the
 * loop never writes) at a byte index: [r9 + r15*4]. A first block reads the
 * table so its page is in the TLB when the loop probes it (warm), or not. */
static void loop_probe_crc(bool interp, uint64_t table, bool warm)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t warmup[] = {
        0x41, 0x8b, 0x01,             /* mov eax, [r9]              */
        0xeb, 0x00,                   /* jmp L                      */
    };
    static const uint8_t loop[] = {
        0x44, 0x0f, 0xb6, 0x3f,       /* L: movzx r15d, byte [rdi]  */
        0x48, 0x83, 0xc7, 0x01,       /* add rdi, 1                 */
        0x41, 0x31, 0xcf,             /* xor r15d, ecx              */
        0xc1, 0xe9, 0x08,             /* shr ecx, 8                 */
        0x45, 0x0f, 0xb6, 0xff,       /* movzx r15d, r15b           */
        0x43, 0x33, 0x0c, 0xb9,       /* xor ecx, [r9 + r15*4]      */
        0x4c, 0x39, 0xc7,             /* cmp rdi, r8                */
        0x75, 0xe5,                   /* jne L                      */
        0xf4,
    };
    uint8_t code[sizeof(warmup) + sizeof(loop)];
    size_t at = warm ? sizeof(warmup) : 0;
    memcpy(code, warmup, sizeof(warmup));
    memcpy(code + at, loop, sizeof(loop));
    for (unsigned i = 0; i < 256; i++)
        st32(ram + (table - RAM_BASE) + 4 * i, table_entry(i));
    const unsigned n = 3000;
    uint8_t *buf = ram + (DATA - RAM_BASE) + 0x3000;
    for (unsigned i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 5));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ECX] = 0xffffffff;
    env->regs[R_EDI] = DATA + 0x3000;
    env->regs[8] = DATA + 0x3000 + n;
    env->regs[9] = table;
    uint64_t hoisted = loop_probes(env);
    run_code(env, code, at + sizeof(loop));
    CHECK_EQ(loop_probes(env), hoisted + 1);   /* the loop's block (a region when warm) */
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_ECX], crc_ref(0xffffffff, buf, n));
    CHECK_EQ(env->regs[R_EDI], DATA + 0x3000 + n);
    CHECK_EQ(env->rip, RAM_BASE + at + sizeof(loop));
    test_cpu_free(env);
}

TEST(loop_probe_crc_interp) { loop_probe_crc(true, DATA + 0x100, true); }
TEST(loop_probe_crc_x86_64) { loop_probe_crc(false, DATA + 0x100, true); }
TEST(loop_probe_crc_cold_interp) { loop_probe_crc(true, DATA + 0x100, false); }
TEST(loop_probe_crc_cold_x86_64) { loop_probe_crc(false, DATA + 0x100, false); }
/* the table straddles two pages: the window never verifies */
TEST(loop_probe_crc_crossing_interp) { loop_probe_crc(true, DATA + 0xe00, true); }
TEST(loop_probe_crc_crossing_x86_64) { loop_probe_crc(false, DATA + 0xe00, true); }

/* edx += table[byte] over a byte buffer, with table = rbx (never written). */
static const uint8_t sum_loop[] = {
    0x8b, 0x3b,                   /* mov edi, [rbx]        (warm-up) */
    0xeb, 0x00,                   /* jmp L                           */
    0x0f, 0xb6, 0x06,             /* L: movzx eax, byte [rsi]        */
    0x48, 0x83, 0xc6, 0x01,       /* add rsi, 1                      */
    0x03, 0x14, 0x83,             /* add edx, [rbx + rax*4]          */
    0xff, 0xc9,                   /* dec ecx                         */
    0x75, 0xf2,                   /* jnz L                           */
    0xf4,
};
#define SUM_LOOP_ADD (RAM_BASE + 11)   /* the table access */

/* The window runs into an unmapped page: it never verifies, each access
 * is an ordinary one, and the one into the hole faults precisely. */
static void loop_probe_fault_in_window(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t table = HOLE - 0x200;
    for (unsigned i = 0; i < 0x80; i++)
        st32(ram + (table - RAM_BASE) + 4 * i, i + 1);
    const unsigned k = 50;
    uint8_t *buf = ram + (DATA - RAM_BASE);
    uint32_t sum = 0;
    for (unsigned i = 0; i < k; i++) {
        buf[i] = (uint8_t)(i * 7 % 0x80);
        sum += buf[i] + 1;
    }
    buf[k] = 0x90;                /* [table + 0x240]: in the hole */
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = table;
    env->regs[R_ESI] = DATA;
    env->regs[R_ECX] = 1000;
    run_code(env, sum_loop, sizeof(sum_loop));
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], table + 0x240);
    CHECK_EQ(env->rip, SUM_LOOP_ADD);
    CHECK_EQ(env->regs[R_EDX], sum);
    CHECK_EQ(env->regs[R_ESI], DATA + k + 1);
    CHECK_EQ(env->regs[R_EAX], 0x90);
    CHECK_EQ(env->regs[R_ECX], 1000 - k);
    test_cpu_free(env);
}

/* The last table entry straddles the hole by two bytes: the window must
 * cover the whole access (it cannot verify), and that access faults. */
static void loop_probe_last_entry_crosses(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t table = HOLE - 0x3fe;
    for (unsigned i = 0; i < 255; i++)
        st32(ram + (table - RAM_BASE) + 4 * i, i * 3);
    const unsigned k = 300;
    uint8_t *buf = ram + (DATA - RAM_BASE);
    uint32_t sum = 0;
    for (unsigned i = 0; i < k; i++) {
        buf[i] = (uint8_t)(i * 11 % 255);
        sum += buf[i] * 3;
    }
    buf[k] = 0xff;
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = table;
    env->regs[R_ESI] = DATA;
    env->regs[R_ECX] = 1000;
    st32(ram + (table - RAM_BASE), 0);
    run_code(env, sum_loop, sizeof(sum_loop));
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE);
    CHECK_EQ(env->rip, SUM_LOOP_ADD);
    CHECK_EQ(env->regs[R_EDX], sum);
    CHECK_EQ(env->regs[R_ECX], 1000 - k);
    test_cpu_free(env);
}

TEST(loop_probe_last_entry_crosses_interp) { loop_probe_last_entry_crosses(true); }
TEST(loop_probe_last_entry_crosses_x86_64) { loop_probe_last_entry_crosses(false); }

TEST(loop_probe_fault_in_window_interp) { loop_probe_fault_in_window(true); }
TEST(loop_probe_fault_in_window_x86_64) { loop_probe_fault_in_window(false); }

/* The window verified (warm), then another access of the loop faults: the
 * registers of the iterations before, through the hoisted reads. */
static void loop_probe_then_fault(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t table = DATA + 0x400;
    for (unsigned i = 0; i < 256; i++)
        st32(ram + (table - RAM_BASE) + 4 * i, table_entry(i));
    const unsigned k = 77;
    uint64_t bytes = HOLE - k;    /* the byte pointer walks into the hole */
    uint32_t sum = 0;
    for (unsigned i = 0; i < k; i++) {
        ram[bytes - RAM_BASE + i] = (uint8_t)(i * 29 + 3);
        sum += table_entry((uint8_t)(i * 29 + 3));
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = table;
    env->regs[R_ESI] = bytes;
    env->regs[R_ECX] = 1000;
    run_code(env, sum_loop, sizeof(sum_loop));
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE);
    CHECK_EQ(env->rip, RAM_BASE + 4);
    CHECK_EQ(env->regs[R_EDX], sum);
    CHECK_EQ(env->regs[R_ESI], HOLE);
    CHECK_EQ(env->regs[R_ECX], 1000 - k);
    test_cpu_free(env);
}

TEST(loop_probe_then_fault_interp) { loop_probe_then_fault(true); }
TEST(loop_probe_then_fault_x86_64) { loop_probe_then_fault(false); }

/* Linux's SHA-1 message schedule and rounds 20-39 (sha1_transform, where
 * the boot crashed): W[] through rdx, which the loop never writes, at
 * masked indexes: one hoisted window. The body needs more registers than
 * the host has, so the probe's addend, carried around the loop, is evicted
 * and reloaded from its stack slot, which must hold it. */
static const uint8_t sha1_loop[] = {
    0x41, 0x89, 0xf9,                   /* L: mov r9d, edi             */
    0x89, 0xd9,                         /* mov ecx, ebx                */
    0x89, 0xef,                         /* mov edi, ebp                */
    0x89, 0xc6,                         /* mov esi, eax                */
    0x8d, 0x58, 0x08,                   /* lea ebx, [rax + 8]          */
    0x83, 0xe6, 0x0f,                   /* and esi, 0xf                */
    0x83, 0xe3, 0x0f,                   /* and ebx, 0xf                */
    0x48, 0x8d, 0x2c, 0xb2,             /* lea rbp, [rdx + rsi*4]      */
    0x8d, 0x70, 0x0d,                   /* lea esi, [rax + 0xd]        */
    0x83, 0xe6, 0x0f,                   /* and esi, 0xf                */
    0x8b, 0x34, 0xb2,                   /* mov esi, [rdx + rsi*4]      */
    0x33, 0x34, 0x9a,                   /* xor esi, [rdx + rbx*4]      */
    0x8d, 0x58, 0x02,                   /* lea ebx, [rax + 2]          */
    0x83, 0xc0, 0x01,                   /* add eax, 1                  */
    0x83, 0xe3, 0x0f,                   /* and ebx, 0xf                */
    0x33, 0x75, 0x00,                   /* xor esi, [rbp]              */
    0x33, 0x34, 0x9a,                   /* xor esi, [rdx + rbx*4]      */
    0x89, 0xcb,                         /* mov ebx, ecx                */
    0xd1, 0xc6,                         /* rol esi, 1                  */
    0xc1, 0xc3, 0x05,                   /* rol ebx, 5                  */
    0x89, 0x75, 0x00,                   /* mov [rbp], esi              */
    0x44, 0x89, 0xd5,                   /* mov ebp, r10d               */
    0x21, 0xfd,                         /* and ebp, edi                */
    0x8d, 0x9c, 0x1d, 0xdc, 0xbc, 0x1b, 0x8f, /* lea ebx, [rbp + rbx - 0x70e44324] */
    0x44, 0x89, 0xd5,                   /* mov ebp, r10d               */
    0x41, 0xc1, 0xca, 0x02,             /* ror r10d, 2                 */
    0x31, 0xfd,                         /* xor ebp, edi                */
    0x44, 0x21, 0xcd,                   /* and ebp, r9d                */
    0x01, 0xeb,                         /* add ebx, ebp                */
    0x44, 0x89, 0xd5,                   /* mov ebp, r10d               */
    0x41, 0x89, 0xca,                   /* mov r10d, ecx               */
    0x01, 0xf3,                         /* add ebx, esi                */
    0x44, 0x01, 0xdb,                   /* add ebx, r11d               */
    0x45, 0x89, 0xcb,                   /* mov r11d, r9d               */
    0x83, 0xf8, 0x3c,                   /* cmp eax, 0x3c               */
    0x75, 0x98,                         /* jne L                       */
    0xf4,
};

static uint32_t rol32(uint32_t x, unsigned n) { return x << n | x >> (32 - n); }

/* What sha1_loop does, one turn per i (a: ebx, b: edi, c: r10, d: ebp in
 * and out through the register moves, e: r11). */
static void sha1_ref(uint32_t *ebx, uint32_t *edi, uint32_t *ebp, uint32_t *r10, uint32_t *r11,
                     uint32_t *eax, uint32_t *w)
{
    uint32_t r9 = 0, ecx = 0, esi = 0;
    do {
        r9 = *edi;
        ecx = *ebx;
        *edi = *ebp;
        uint32_t *slot = &w[*eax & 15];
        esi = w[(*eax + 13) & 15] ^ w[(*eax + 8) & 15] ^ *slot ^ w[(*eax + 2) & 15];
        (*eax)++;
        esi = rol32(esi, 1);
        *slot = esi;
        uint32_t f = (*r10 & *edi) + rol32(ecx, 5) - 0x70e44324u;
        uint32_t g = (*r10 ^ *edi) & r9;
        *r10 = *r10 >> 2 | *r10 << 30;
        *ebx = f + g + esi + *r11;
        *ebp = *r10;
        *r10 = ecx;
        *r11 = r9;
    } while (*eax != 0x3c);
}

static void loop_probe_sha1(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    uint64_t w = DATA + 0x200;
    uint32_t ref[16];
    for (unsigned i = 0; i < 16; i++) {
        ref[i] = table_entry(i + 1);
        st32(ram + (w - RAM_BASE) + 4 * i, ref[i]);
    }
    uint32_t ebx = 0x67452301, edi = 0xefcdab89, ebp = 0x98badcfe, r10 = 0x10325476, r11 = 0xc3d2e1f0;
    uint32_t eax = 20;
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = ebx;
    env->regs[R_EDI] = edi;
    env->regs[R_EBP] = ebp;
    env->regs[10] = r10;
    env->regs[11] = r11;
    env->regs[R_EAX] = eax;
    env->regs[R_EDX] = w;
    sha1_ref(&ebx, &edi, &ebp, &r10, &r11, &eax, ref);
    memcpy(ram + LOOP_CODE, sha1_loop, sizeof(sha1_loop));
    uint64_t hoisted = loop_probes(env);
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(loop_probes(env), hoisted + 1);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], eax);
    CHECK_EQ(env->regs[R_EBX], ebx);
    CHECK_EQ(env->regs[R_EDI], edi);
    CHECK_EQ(env->regs[R_EBP], ebp);
    CHECK_EQ(env->regs[10], r10);
    CHECK_EQ(env->regs[11], r11);
    for (unsigned i = 0; i < 16; i++)
        CHECK_EQ(ld32(ram + (w - RAM_BASE) + 4 * i), ref[i]);
    test_cpu_free(env);
}

TEST(loop_probe_sha1_interp) { loop_probe_sha1(true); }
TEST(loop_probe_sha1_x86_64) { loop_probe_sha1(false); }

/* The hoisted read's page holds the loop's own code, which the loop
 * rewrites through another register: each read sees the new bytes, and
 * each iteration runs the immediate the previous one stored. */
static void loop_probe_code_page_smc(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x8b, 0x03,                         /* L: mov eax, [rbx]     (rbx = the imm below) */
        0x81, 0xc6, 0x01, 0x00, 0x00, 0x00, /* add esi, imm32 (1)    */
        0x01, 0xc6,                         /* add esi, eax          */
        0x89, 0x3a,                         /* mov [rdx], edi        (rdx = the imm: SMC) */
        0xff, 0xc7,                         /* inc edi               */
        0xff, 0xc9,                         /* dec ecx               */
        0x75, 0xee,                         /* jnz L                 */
        0xf4,
    };
    put_code(code, sizeof(code));
    const unsigned n = 40;
    uint32_t imm = 1, esi = 0, edi = 100;
    for (unsigned i = 0; i < n; i++) {
        esi += imm + imm;
        imm = edi++;
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = RAM_BASE + LOOP_CODE + 4;
    env->regs[R_EDX] = RAM_BASE + LOOP_CODE + 4;
    env->regs[R_EDI] = 100;
    env->regs[R_ECX] = n;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_ESI], esi);
    CHECK_EQ(env->regs[R_EDI], edi);
    CHECK_EQ(ld32(ram + LOOP_CODE + 4), imm);
    test_cpu_free(env);
}

TEST(loop_probe_code_page_smc_interp) { loop_probe_code_page_smc(true); }
TEST(loop_probe_code_page_smc_x86_64) { loop_probe_code_page_smc(false); }

/* The shootdown tests' set-up: code at LOOP_CODE reading [rbx] (a qword 1
 * on its page, 2 on the other frame) and counting its turns at [rcx]. */
#define SHOOTDOWN_COUNTER 0x9000u
#define SHOOTDOWN_PAGE (DATA + 0x5000)
#define SHOOTDOWN_OTHER (DATA + 0x6000)

static void shootdown_setup(CPUX86State *env, const uint8_t *code, size_t size)
{
    put_code(code, size);
    st64(ram + SHOOTDOWN_COUNTER, 0);
    st64(ram + (SHOOTDOWN_PAGE - RAM_BASE) + 8, 1);
    st64(ram + (SHOOTDOWN_OTHER - RAM_BASE) + 8, 2);
    tb_flush(tcg_cpu(env));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = SHOOTDOWN_PAGE + 8;
    env->regs[R_ECX] = RAM_BASE + SHOOTDOWN_COUNTER;
    env->rip = RAM_BASE + LOOP_CODE;
    env->halted = false;
    env->exception_index = -1;
    env->eflags = 2;
}

/* After turns turns of the running loop: the page table moves the page to
 * the other frame, a TLB flush is requested as an IPI would, the loop
 * stops. */
static void shootdown_after(CPUX86State *env, pthread_t th, uint64_t turns)
{
    wait_count(SHOOTDOWN_COUNTER, turns);
    *pte_of(SHOOTDOWN_PAGE) = SHOOTDOWN_OTHER | 3;
    TCGCPU *t = tcg_cpu(env);
    pthread_mutex_lock(&t->inval_lock);
    t->tlb_flush_pending = true;
    pthread_mutex_unlock(&t->inval_lock);
    atomic_store(&t->exit_flag, 1);
    pthread_join(th, NULL);
}

/* An endless loop reading [rbx] is stopped by a TLB shootdown (what an IPI
 * or a memory-map change does: flush requested, exit flag raised) after the
 * page table moved rbx's page: the next entry probes again and reads the
 * new page. */
static void loop_probe_shootdown(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t code[] = {
        0x48, 0x8b, 0x03,       /* L: mov rax, [rbx] */
        0x48, 0x01, 0xc6,       /* add rsi, rax      */
        0x48, 0xff, 0xc7,       /* inc rdi           */
        0x48, 0xff, 0x01,       /* inc qword [rcx]   */
        0xeb, 0xf2,             /* jmp L             */
    };
    shootdown_setup(env, code, sizeof(code));
    pthread_t th;
    pthread_create(&th, NULL, run_one_turn, env);
    TCGCPU *t = tcg_cpu(env);
    shootdown_after(env, th, 1000);
    uint64_t n1 = env->regs[R_EDI];
    CHECK(n1 >= 1000);
    CHECK_EQ(env->regs[R_ESI], n1);   /* the old mapping until the flush */
    pthread_create(&th, NULL, run_one_turn, env);
    wait_count(SHOOTDOWN_COUNTER, n1 + 1000);
    atomic_store(&t->exit_flag, 1);
    pthread_join(th, NULL);
    uint64_t n2 = env->regs[R_EDI];
    CHECK(n2 >= n1 + 1000);
    CHECK_EQ(env->regs[R_ESI], n1 + 2 * (n2 - n1));
    CHECK_EQ(ld64(ram + SHOOTDOWN_COUNTER), n2);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE);
    test_cpu_free(env);
}

TEST(loop_probe_shootdown_interp) { loop_probe_shootdown(true); }
TEST(loop_probe_shootdown_x86_64) { loop_probe_shootdown(false); }

/* ---- pre-header probes (tcg/loop-probe.c): loops whose head is inside a region ----------- */
/* Loop heads inside a block given probes before them so far. */
static uint64_t preheader_probes(CPUX86State *env)
{
    return tcg_cpu(env)->ctx->stat_preheader_probes;
}

/* The decompressor's dict_repeat: per match (ebx of them, lengths at rsi)
 * rax = rdi (written on every outer turn: no probe at the block entry), then
 * an inner loop copies a byte from dist back through [rax] (buffer), [rax+8]
 * (dist), [rax+0x10] (pos, read and written) and, for a byte 0xee,
 * [rax+0x18] (sum, read and written): one window, probed before the inner
 * head, which a forward JB also reaches. Long matches count in [rax+0x20]. */
static const uint8_t repeat_loop[] = {
    0x48, 0x89, 0xf8,                   /* O: mov rax, rdi                 */
    0x8b, 0x0e,                         /* mov ecx, [rsi]                  */
    0x48, 0x83, 0xc6, 0x04,             /* add rsi, 4                      */
    0x83, 0xf9, 0x03,                   /* cmp ecx, 3                      */
    0x72, 0x05,                         /* jb I                            */
    0x48, 0x83, 0x40, 0x20, 0x01,       /* add qword [rax+0x20], 1         */
    0x4c, 0x8b, 0x00,                   /* I: mov r8, [rax]                */
    0x48, 0x8b, 0x50, 0x10,             /* mov rdx, [rax+0x10]             */
    0x49, 0x89, 0xd1,                   /* mov r9, rdx                     */
    0x4c, 0x2b, 0x48, 0x08,             /* sub r9, [rax+8]                 */
    0x47, 0x0f, 0xb6, 0x14, 0x08,       /* movzx r10d, byte [r8+r9]        */
    0x45, 0x88, 0x14, 0x10,             /* mov [r8+rdx], r10b              */
    0x48, 0x83, 0xc2, 0x01,             /* add rdx, 1                      */
    0x48, 0x89, 0x50, 0x10,             /* mov [rax+0x10], rdx             */
    0x41, 0x81, 0xfa, 0xee, 0x00, 0x00, 0x00, /* cmp r10d, 0xee            */
    0x75, 0x04,                         /* jne S                           */
    0x4c, 0x01, 0x50, 0x18,             /* add [rax+0x18], r10             */
    0xff, 0xc9,                         /* S: dec ecx                      */
    0x75, 0xd0,                         /* jnz I                           */
    0xff, 0xcb,                         /* dec ebx                         */
    0x75, 0xb9,                         /* jnz O                           */
    0xf4,
};
#define REPEAT_SUM_ADD 0x3b   /* add [rax+0x18], r10 */

enum { REPEAT_POS0 = 16, REPEAT_DIST = 5 };

/* Where linear address v is in ram, through the page tables. */
static uint8_t *vram(uint64_t v)
{
    return ram + ((*pte_of(v) & ~0xfffULL) - RAM_BASE) + (v & 0xfff);
}

/* Runs repeat_loop with the struct at d, the buffer at buf, n matches of
 * the given lengths, as a region from its first instruction. */
static void run_repeat(CPUX86State *env, uint64_t d, uint64_t buf, const uint32_t *len, unsigned n)
{
    put_code(repeat_loop, sizeof(repeat_loop));
    uint64_t lens = DATA + 0x3000;
    for (unsigned i = 0; i < n; i++)
        st32(ram + (lens - RAM_BASE) + 4 * i, len[i]);
    for (unsigned i = 0; i < REPEAT_POS0; i++)
        ram[buf - RAM_BASE + i] = (uint8_t)(0x10 + i);
    ram[buf - RAM_BASE + REPEAT_POS0 - REPEAT_DIST + 2] = 0xee;   /* the third byte copied */
    st64(vram(d), buf);
    st64(vram(d + 8), REPEAT_DIST);
    st64(vram(d + 0x10), REPEAT_POS0);
    if (d + 0x28 <= HOLE || d >= HOLE + 0x1000) {
        st64(vram(d + 0x18), 0);
        st64(vram(d + 0x20), 0);
    }
    memset(env->regs, 0, sizeof(env->regs));
    /* rax on entry: another struct's page, mapped elsewhere (a probe of it
     * reused for rdi's would read the wrong frame) */
    env->regs[R_EAX] = DATA + 0x100;
    static const uint8_t warm[] = { 0x4c, 0x89, 0x18, 0xf4 };   /* mov [rax], r11; hlt: in the TLB */
    memcpy(ram + LOOP_CODE + 0x800, warm, sizeof(warm));
    run_at(env, RAM_BASE + LOOP_CODE + 0x800);
    env->regs[R_EDI] = d;
    env->regs[R_ESI] = lens;
    env->regs[R_EBX] = n;
    unsigned saved = tcg_region_trips;
    tcg_region_trips = 0;   /* a region from O: I is a loop head inside it */
    test_run_from(env, RAM_BASE + LOOP_CODE);   /* no flush: the TLB stays warm */
    tcg_region_trips = saved;
}

static void preheader_repeat(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint32_t len[] = { 2, 7, 1, 4, 3, 9, 2, 5, 1, 6 };
    const unsigned n = sizeof(len) / sizeof(len[0]);
    uint64_t d = DATA + 0x7100, buf = DATA + 0x1000;
    *pte_of(d) = (DATA + 0x8000) | 3;   /* not where rax's page maps */
    tlb_flush(env);
    uint8_t ref[256];
    memset(ref, 0, sizeof(ref));
    for (unsigned i = 0; i < REPEAT_POS0; i++)
        ref[i] = (uint8_t)(0x10 + i);
    ref[REPEAT_POS0 - REPEAT_DIST + 2] = 0xee;
    uint64_t pos = REPEAT_POS0, sum = 0, longs = 0;
    for (unsigned m = 0; m < n; m++) {
        longs += len[m] >= 3;
        for (unsigned i = 0; i < len[m]; i++, pos++) {
            ref[pos] = ref[pos - REPEAT_DIST];
            sum += ref[pos] == 0xee ? 0xee : 0;
        }
    }
    uint64_t before = preheader_probes(env);
    run_repeat(env, d, buf, len, n);
    CHECK_EQ(preheader_probes(env), before + 1);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + sizeof(repeat_loop));
    CHECK_EQ(ld64(vram(d + 0x10)), pos);
    CHECK_EQ(ld64(vram(d + 0x18)), sum);
    CHECK_EQ(ld64(vram(d + 0x20)), longs);
    CHECK(memcmp(ram + (buf - RAM_BASE), ref, pos) == 0);
    CHECK_EQ(env->regs[R_EDX], pos);
    CHECK_EQ(*pte_of(d) & 0x60, 0x60);   /* accessed and dirty */
    test_cpu_free(env);
}

TEST(preheader_repeat_interp) { preheader_repeat(true); }
TEST(preheader_repeat_x86_64) { preheader_repeat(false); }

/* The struct ends in the hole: the window [rax, rax+0x20) never verifies,
 * every access through rax is an ordinary one, and the first sum update
 * (the third byte copied, in the second match) faults precisely, after the
 * byte and pos were stored. */
static void preheader_fault_unverified(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint32_t len[] = { 2, 2, 2, 2 };
    uint64_t d = HOLE - 0x18, buf = DATA + 0x1000;
    run_repeat(env, d, buf, len, 4);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + REPEAT_SUM_ADD);
    CHECK_EQ(env->regs[R_EAX], d);
    CHECK_EQ(env->regs[R_EBX], 3);
    CHECK_EQ(env->regs[R_ECX], 2);
    CHECK_EQ(env->regs[R_EDX], REPEAT_POS0 + 3);
    CHECK_EQ(env->regs[R_ESI], DATA + 0x3000 + 8);
    CHECK_EQ(env->regs[8], buf);
    CHECK_EQ(env->regs[9], REPEAT_POS0 + 2 - REPEAT_DIST);
    CHECK_EQ(env->regs[10], 0xee);
    CHECK_EQ(ld64(vram(d + 0x10)), REPEAT_POS0 + 3);
    CHECK_EQ(ram[buf - RAM_BASE + REPEAT_POS0 + 2], 0xee);
    CHECK_EQ(cc_compute_all(env) & (CC_Z | CC_C | CC_S), CC_Z);   /* cmp r10d, 0xee */
    test_cpu_free(env);
}

TEST(preheader_fault_unverified_interp) { preheader_fault_unverified(true); }
TEST(preheader_fault_unverified_x86_64) { preheader_fault_unverified(false); }

/* The inner loop stores through rax (written on each outer turn) into the
 * immediate of the MOV after the loops, on the page of its own code: the
 * window must not verify for writes, so each store reaches the code. The
 * second round finds that MOV translated with the first round's value. */
static void preheader_store_to_code(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x48, 0x89, 0xf8,               /* O: mov rax, rdi            */
        0xb9, 0x03, 0x00, 0x00, 0x00,   /* mov ecx, 3                 */
        0x8d, 0x14, 0x0e,               /* I: lea edx, [rsi+rcx]      */
        0x89, 0x50, 0x04,               /* mov [rax+4], edx           */
        0xff, 0xc9,                     /* dec ecx                    */
        0x75, 0xf6,                     /* jnz I                      */
        0xff, 0xcb,                     /* dec ebx                    */
        0x75, 0xea,                     /* jnz O                      */
        0xbd, 0x11, 0x11, 0x11, 0x11,   /* mov ebp, imm (at +0x17)    */
        0xf4,
    };
    for (unsigned round = 0; round < 2; round++) {
        put_code(code, sizeof(code));
        memset(env->regs, 0, sizeof(env->regs));
        env->regs[R_EDI] = RAM_BASE + LOOP_CODE + 0x17 - 4;
        env->regs[R_ESI] = 0x1000 * (round + 1);
        env->regs[R_EBX] = 3;
        unsigned saved = tcg_region_trips;
        tcg_region_trips = 0;
        run_at(env, RAM_BASE + LOOP_CODE);
        tcg_region_trips = saved;
        CHECK_EQ(env->exception_index, -1);
        CHECK_EQ(env->regs[R_EBP], 0x1000 * (round + 1) + 1);
        CHECK_EQ(ld32(ram + LOOP_CODE + 0x17), 0x1000 * (round + 1) + 1);
    }
    test_cpu_free(env);
}

TEST(preheader_store_to_code_interp) { preheader_store_to_code(true); }
TEST(preheader_store_to_code_x86_64) { preheader_store_to_code(false); }

/* loop_probe_shootdown with the base written before the loop head (the
 * probe runs before the head, inside the region): the flush request stops
 * the loop at its back edge and the next entry reads the new page. */
static void preheader_shootdown(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enable_paging(env);
    static const uint8_t code[] = {
        0x48, 0x89, 0xd8,       /* mov rax, rbx      */
        0x48, 0x8b, 0x10,       /* L: mov rdx, [rax] */
        0x48, 0x01, 0xd6,       /* add rsi, rdx      */
        0x48, 0xff, 0xc7,       /* inc rdi           */
        0x48, 0xff, 0x01,       /* inc qword [rcx]   */
        0xeb, 0xf2,             /* jmp L             */
    };
    shootdown_setup(env, code, sizeof(code));
    unsigned saved = tcg_region_trips;
    tcg_region_trips = 0;
    uint64_t before = preheader_probes(env);
    pthread_t th;
    pthread_create(&th, NULL, run_one_turn, env);
    TCGCPU *t = tcg_cpu(env);
    shootdown_after(env, th, 1000);
    CHECK_EQ(preheader_probes(env), before + 1);
    uint64_t n1 = env->regs[R_EDI];
    CHECK(n1 >= 1000);
    CHECK_EQ(env->regs[R_ESI], n1);   /* the old mapping until the flush */
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + 3);
    pthread_create(&th, NULL, run_one_turn, env);
    wait_count(SHOOTDOWN_COUNTER, n1 + 1000);
    atomic_store(&t->exit_flag, 1);
    pthread_join(th, NULL);
    tcg_region_trips = saved;
    uint64_t n2 = env->regs[R_EDI];
    CHECK(n2 >= n1 + 1000);
    CHECK_EQ(env->regs[R_ESI], n1 + 2 * (n2 - n1));
    CHECK_EQ(ld64(ram + SHOOTDOWN_COUNTER), n2);
    test_cpu_free(env);
}

TEST(preheader_shootdown_interp) { preheader_shootdown(true); }
TEST(preheader_shootdown_x86_64) { preheader_shootdown(false); }

/* ---- translation regions ---------------------------------------------------------
 * Loops whose body spans several basic blocks of one page run as one
 * translation (cpu/x86/translate-region.c): branches inside it become IR
 * branches, branches back become back edges with the exit check. A loop
 * head becomes a region once a back edge to it was taken
 * tcg_region_trips times (before, its blocks are plain). */
static uint64_t regions_made(CPUX86State *env)
{
    return tcg_cpu(env)->stat_regions;
}

/* Does the block the loop finds at pc now hold a region? */
static bool region_at(CPUX86State *env, uint64_t pc)
{
    uint64_t rip = env->rip;
    env->rip = pc;
    atomic_store(&tcg_cpu(env)->exit_flag, 0);   /* else the lookup declines */
    TranslationBlock *tb = tb_lookup_fast(env);
    env->rip = rip;
    return tb && tb->region && !tb->invalid;
}

/* if/else inside a loop: odd elements added to EBX, even ones subtracted
 * from EDX; the loop and its two paths are one translation. */
static void if_else_loop(bool interp, unsigned n)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x8b, 0x06,             /* L: mov eax, [rsi]  */
        0xa8, 0x01,             /* test al, 1         */
        0x74, 0x04,             /* jz EVEN            */
        0x01, 0xc3,             /* add ebx, eax       */
        0xeb, 0x02,             /* jmp NEXT           */
        0x29, 0xc2,             /* EVEN: sub edx, eax */
        0x48, 0x83, 0xc6, 0x04, /* NEXT: add rsi, 4   */
        0xff, 0xc9,             /* dec ecx            */
        0x75, 0xec,             /* jnz L              */
        0xf4,
    };
    put_code(code, sizeof(code));
    const unsigned buf = 0x8000;
    uint32_t b = 0, d = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t v = i * 2654435761u;
        st32(ram + buf + 4 * i, v);
        if (v & 1)
            b += v;
        else
            d -= v;
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = RAM_BASE + buf;
    env->regs[R_ECX] = n;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EBX], b);
    CHECK_EQ(env->regs[R_EDX], d);
    CHECK_EQ(env->regs[R_ESI], RAM_BASE + buf + 4 * n);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + sizeof(code));
    /* n iterations take the back edge n - 1 times */
    bool hot = n - 1 >= tcg_region_trips;
    CHECK_EQ(region_at(env, RAM_BASE + LOOP_CODE), hot);
    if (tcg_region_trips)
        CHECK_EQ(regions_made(env), hot);
    else
        CHECK_EQ(tb_cache_count(tcg_cpu(env)), 2);   /* the loop, the HLT's block */
    test_cpu_free(env);
}

static void region_if_else_loop(bool interp)
{
    if_else_loop(interp, 1000);
}

TEST(region_if_else_loop_interp) { region_if_else_loop(true); }
TEST(region_if_else_loop_x86_64) { region_if_else_loop(false); }

/* A loop that ends before its back edge is hot stays in plain blocks (cold
 * code is cheaper to translate so); one more trip makes it a region. */
static void region_only_when_hot(bool interp)
{
    /* its blocks end at every branch (going on through the JZ would make
     * the odd path a self-loop, whose trips are not counted) */
    unsigned saved_follow = x86_translate_follow;
    x86_translate_follow = FOLLOW_JMP_CALL;
    if_else_loop(interp, tcg_region_trips);
    if_else_loop(interp, tcg_region_trips + 1);
    x86_translate_follow = saved_follow;
}

TEST(region_only_when_hot_interp) { region_only_when_hot(true); }
TEST(region_only_when_hot_x86_64) { region_only_when_hot(false); }

/* region-trips=0: every block is planned as a region when translated. */
static void region_planned_at_once(bool interp)
{
    unsigned saved = tcg_region_trips;
    tcg_region_trips = 0;
    if_else_loop(interp, 3);
    tcg_region_trips = saved;
}

TEST(region_planned_at_once_interp) { region_planned_at_once(true); }
TEST(region_planned_at_once_x86_64) { region_planned_at_once(false); }

/* An outer loop enters the inner one through a jump chained to the inner
 * head's plain block before the head became a region: later entries run
 * the region (x86_64: the superseded block's entry jumps there; the
 * interpreter chains again). */
static void region_entered_through_old_chain(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0xb9, 0x64, 0x00, 0x00, 0x00, /* P: mov ecx, 100 */
        0xeb, 0x00,             /* jmp L (chained)    */
        0x83, 0xc0, 0x01,       /* L: add eax, 1      */
        0xa8, 0x01,             /* test al, 1         */
        0x74, 0x03,             /* jz E               */
        0x83, 0xc3, 0x01,       /* add ebx, 1         */
        0xff, 0xc9,             /* E: dec ecx         */
        0x75, 0xf2,             /* jnz L              */
        0xff, 0xca,             /* dec edx            */
        0x75, 0xe7,             /* jnz P              */
        0xf4,
    };
    put_code(code, sizeof(code));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = 20;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 2000);
    CHECK_EQ(env->regs[R_EBX], 1000);
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(env->regs[R_EDX], 0);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + sizeof(code));
    /* the outer loop (20 trips) stays plain */
    CHECK_EQ(regions_made(env), 1);
    CHECK(region_at(env, RAM_BASE + LOOP_CODE + 7));
    CHECK(!region_at(env, RAM_BASE + LOOP_CODE));
    test_cpu_free(env);
}

TEST(region_entered_through_old_chain_interp) { region_entered_through_old_chain(true); }
TEST(region_entered_through_old_chain_x86_64) { region_entered_through_old_chain(false); }

/* An entry block falling into a loop head, an inner loop whose back edge
 * falls through to more of the region, and an outer back edge to the same
 * head (the kernel decompressor's LZMA loops have this shape). */
static void region_nested_back_edges(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x45, 0x31, 0xd2,       /* xor r10d, r10d     */
        0x83, 0xc0, 0x01,       /* M: add eax, 1      */
        0x39, 0xd8,             /* cmp eax, ebx       */
        0x72, 0xf9,             /* jb M               */
        0x83, 0xc2, 0x01,       /* add edx, 1         */
        0x31, 0xc0,             /* xor eax, eax       */
        0x41, 0x01, 0xd2,       /* add r10d, edx      */
        0x39, 0xca,             /* cmp edx, ecx       */
        0x72, 0xed,             /* jb M               */
        0xf4,
    };
    put_code(code, sizeof(code));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = 37;
    env->regs[R_ECX] = 300;
    env->regs[R_R10] = 0x5555;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EDX], 300);
    CHECK_EQ(env->regs[R_EAX], 0);
    CHECK_EQ(env->regs[R_R10], 300 * 301 / 2);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + sizeof(code));
    /* CMP 300, 300 last: ZF, no carry */
    CHECK_EQ(cc_compute_all(env) & (CC_Z | CC_C), CC_Z);
    CHECK_EQ(regions_made(env), 1);
    CHECK(region_at(env, RAM_BASE + LOOP_CODE + 3));
    test_cpu_free(env);
}

TEST(region_nested_back_edges_interp) { region_nested_back_edges(true); }
TEST(region_nested_back_edges_x86_64) { region_nested_back_edges(false); }

/* Two paths setting the flags differently (ADD, SUB) meet at a label; ADC
 * after it reads the carry of the path taken. */
static void region_flags_meet_at_label(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0xf6, 0xc1, 0x01,       /* P: test cl, 1      */
        0x74, 0x04,             /* jz SUB             */
        0x01, 0xf0,             /* add eax, esi       */
        0xeb, 0x02,             /* jmp JOIN           */
        0x29, 0xf0,             /* SUB: sub eax, esi  */
        0x83, 0xd2, 0x00,       /* JOIN: adc edx, 0   */
        0xff, 0xc9,             /* dec ecx            */
        0x75, 0xee,             /* jnz P              */
        0xf4,
    };
    put_code(code, sizeof(code));
    uint32_t a = 0x12345, d = 0, s = 0x9e3779b9;
    for (uint32_t c = 777; c; c--) {
        bool carry;
        if (c & 1) {
            carry = (uint64_t)a + s > 0xffffffffu;
            a += s;
        } else {
            carry = a < s;
            a -= s;
        }
        d += carry;
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EAX] = 0x12345;
    env->regs[R_ESI] = s;
    env->regs[R_ECX] = 777;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], a);
    CHECK_EQ(env->regs[R_EDX], d);
    CHECK_EQ(regions_made(env), 1);
    CHECK(region_at(env, RAM_BASE + LOOP_CODE));
    test_cpu_free(env);
}

TEST(region_flags_meet_at_label_interp) { region_flags_meet_at_label(true); }
TEST(region_flags_meet_at_label_x86_64) { region_flags_meet_at_label(false); }

/* A loop head inside a region (not its start) whose entry and back edge
 * both leave CMP's flags: a second translation keeps that cc_op static at
 * the head (the back edge stores no cc_op). DEC there keeps the carry the
 * CMP made, ADC adds it up, SETC reads it after the last DEC; add_entry
 * enters with ADD's flags instead (edges disagree: no static cc_op). With
 * fault_at, the load at the head faults in iteration fault_at: EFLAGS are
 * those of the previous iteration's CMP, never stored by the back edge. */
static void static_cc_loop_head(bool interp, bool add_entry, unsigned fault_at)
{
    CPUX86State *env = new_cpu(interp);
    uint8_t code[] = {
        0x39, 0xc8,             /* cmp eax, ecx (add eax, ecx) */
        0x8b, 0x06,             /* L: mov eax, [rsi]  */
        0xff, 0xca,             /* dec edx            */
        0x74, 0x0b,             /* jz OUT             */
        0x83, 0xd5, 0x00,       /* adc ebp, 0         */
        0x48, 0x83, 0xc6, 0x04, /* add rsi, 4         */
        0x39, 0xc8,             /* cmp eax, ecx       */
        0xeb, 0xef,             /* jmp L              */
        0x0f, 0x92, 0xc3,       /* OUT: setc bl       */
        0xf4,
    };
    if (add_entry)
        code[0] = 0x01;
    put_code(code, sizeof(code));
    const unsigned n = 1000;
    const uint32_t c = 0x80000000u, a0 = 0x90000000u;
    uint64_t buf = fault_at ? HOLE - 4 * fault_at : RAM_BASE + 0x8000;
    if (fault_at)
        enable_paging(env);
    uint32_t a[1000];
    for (unsigned i = 0; i < n; i++) {
        a[i] = i * 2654435761u;
        if (!fault_at || i < fault_at)
            st32(ram + (buf - RAM_BASE) + 4 * i, a[i]);
    }
    bool carry = add_entry ? (uint64_t)a0 + c > 0xffffffffu : a0 < c;
    uint32_t sum = 0;
    unsigned last = fault_at ? fault_at : n - 1;   /* the iteration that stops */
    for (unsigned i = 0; i < last; i++) {
        sum += carry;
        carry = a[i] < c;
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EAX] = a0;
    env->regs[R_ECX] = c;
    env->regs[R_EDX] = n;
    env->regs[R_ESI] = buf;
    unsigned saved = tcg_region_trips;
    tcg_region_trips = 0;   /* a region from the CMP on: L is a loop head inside it */
    run_at(env, RAM_BASE + LOOP_CODE);
    tcg_region_trips = saved;
    if (fault_at) {
        CHECK_EQ(env->exception_index, EXCP_PF);
        CHECK_EQ(env->cr[2], HOLE);
        CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + 2);
        CHECK_EQ(env->regs[R_EAX], a[fault_at - 1]);
        CHECK_EQ(env->regs[R_EDX], n - fault_at);
        uint32_t d = a[fault_at - 1] - c;
        uint32_t want = (carry ? CC_C : 0) | (d ? 0 : CC_Z) | (d >> 31 ? CC_S : 0);
        CHECK_EQ(cc_compute_all(env) & (CC_S | CC_Z | CC_C), want);
    } else {
        CHECK_EQ(env->exception_index, -1);
        CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + sizeof(code));
        CHECK_EQ(env->regs[R_EAX], a[n - 1]);
        CHECK_EQ(env->regs[R_EBX], carry);
        CHECK_EQ(env->regs[R_EDX], 0);
        CHECK_EQ(cc_compute_all(env) & CC_C, carry ? CC_C : 0);
    }
    CHECK_EQ(env->regs[R_EBP], sum);
    CHECK_EQ(env->regs[R_ESI], buf + 4 * last);
    CHECK(region_at(env, RAM_BASE + LOOP_CODE));
    CHECK_EQ(tcg_cpu(env)->ctx->stat_static_loop_cc, add_entry ? 0 : 1);
    test_cpu_free(env);
}

TEST(region_static_cc_loop_head_interp) { static_cc_loop_head(true, false, 0); }
TEST(region_static_cc_loop_head_x86_64) { static_cc_loop_head(false, false, 0); }
TEST(region_static_cc_edges_disagree_interp) { static_cc_loop_head(true, true, 0); }
TEST(region_static_cc_edges_disagree_x86_64) { static_cc_loop_head(false, true, 0); }
TEST(region_static_cc_fault_at_head_interp) { static_cc_loop_head(true, false, 700); }
TEST(region_static_cc_fault_at_head_x86_64) { static_cc_loop_head(false, false, 700); }

/* A loop head inside a region whose edges disagree (fall-in: DEC's flags,
 * back edge: TEST's): its cc_op stays dynamic, and DEC there reads CF from
 * whichever came (the first forward edge's cc_op is the guess the code
 * checks; the back edge takes the other way). ADC adds up that carry:
 * CMP's on the first trip, TEST's 0 on the others. */
static void region_dynamic_label_guess(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x8b, 0x06,             /* L0: mov eax, [rsi] */
        0x48, 0x83, 0xc6, 0x04, /* add rsi, 4         */
        0x39, 0xf8,             /* cmp eax, edi       */
        0xff, 0xcb,             /* dec ebx            */
        0xff, 0xca,             /* L2: dec edx        */
        0x83, 0xd5, 0x00,       /* adc ebp, 0         */
        0xf6, 0xc2, 0x03,       /* test dl, 3         */
        0x75, 0xf6,             /* jnz L2             */
        0x85, 0xdb,             /* test ebx, ebx      */
        0x75, 0xe8,             /* jnz L0             */
        0xf4,
    };
    put_code(code, sizeof(code));
    const unsigned n = 300, buf = 0x8000;
    const uint32_t lim = 0x80000000u;
    uint32_t below = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t v = i * 2654435761u;
        st32(ram + buf + 4 * i, v);
        below += v < lim;
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = RAM_BASE + buf;
    env->regs[R_EDI] = lim;
    env->regs[R_EBX] = n;
    env->regs[R_EDX] = 4 * n;
    unsigned saved = tcg_region_trips;
    tcg_region_trips = 0;   /* a region from L0 on: L2 is a label inside it */
    run_at(env, RAM_BASE + LOOP_CODE);
    tcg_region_trips = saved;
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + sizeof(code));
    CHECK_EQ(env->regs[R_EBP], below);
    CHECK_EQ(env->regs[R_EDX], 0);
    CHECK_EQ(env->regs[R_ESI], RAM_BASE + buf + 4 * n);
    CHECK(region_at(env, RAM_BASE + LOOP_CODE));
    test_cpu_free(env);
}

TEST(region_dynamic_label_guess_interp) { region_dynamic_label_guess(true); }
TEST(region_dynamic_label_guess_x86_64) { region_dynamic_label_guess(false); }

/* The bytes the block the loop finds at pc translates (0: none). */
static uint32_t block_size_at(CPUX86State *env, uint64_t pc)
{
    uint64_t rip = env->rip;
    env->rip = pc;
    atomic_store(&tcg_cpu(env)->exit_flag, 0);
    TranslationBlock *tb = tb_lookup_fast(env);
    env->rip = rip;
    return tb && !tb->invalid ? tb->size : 0;
}

/* A loop of 76 instructions (a branch over one, 70 ADDs): its back edge is
 * within a region's plan, so the whole loop is one translation. */
static void region_long_body(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    enum { ADDS = 70 };
    uint8_t code[7 + 3 * ADDS + 9];
    size_t n = 0;
    static const uint8_t head[] = {
        0xf6, 0xc1, 0x01,       /* L: test cl, 1      */
        0x74, 0x02,             /* jz SKIP            */
        0xff, 0xc6,             /* inc esi            */
    };
    memcpy(code, head, sizeof(head));
    n = sizeof(head);
    for (int i = 0; i < ADDS; i++) {   /* SKIP: add eax, 3 (x70) */
        code[n++] = 0x83, code[n++] = 0xc0, code[n++] = 0x03;
    }
    code[n++] = 0xff, code[n++] = 0xc9;                 /* dec ecx */
    int32_t rel = -(int32_t)(n + 6);                    /* jnz L (rel32) */
    code[n++] = 0x0f, code[n++] = 0x85;
    memcpy(code + n, &rel, 4);
    n += 4;
    code[n++] = 0xf4;
    put_code(code, n);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ECX] = 500;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 3u * ADDS * 500);
    CHECK_EQ(env->regs[R_ESI], 250);
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(regions_made(env), 1);
    CHECK_EQ(block_size_at(env, RAM_BASE + LOOP_CODE), n - 1);   /* all but the HLT */
    test_cpu_free(env);
}

TEST(region_long_body_interp) { region_long_body(true); }
TEST(region_long_body_x86_64) { region_long_body(false); }

/* A #PF in the second basic block of the region, in a late iteration: RIP
 * of the faulting instruction, registers and flags of that iteration. */
static void region_fault_in_second_block(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x83, 0xc3, 0x01,       /* F: add ebx, 1      */
        0xf6, 0xc3, 0x03,       /* test bl, 3         */
        0x75, 0x06,             /* jnz SKIP           */
        0x03, 0x02,             /* add eax, [rdx]     */
        0x48, 0x83, 0xc2, 0x08, /* add rdx, 8         */
        0xff, 0xc9,             /* SKIP: dec ecx      */
        0x75, 0xee,             /* jnz F              */
        0xf4,
    };
    put_code(code, sizeof(code));
    enable_paging(env);
    const unsigned k = 50;
    for (unsigned i = 0; i < k; i++)
        st32(ram + (HOLE - RAM_BASE) - 8 * (k - i), 3 * i + 1);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EDX] = HOLE - 8 * k;
    env->regs[R_ECX] = 1000;
    run_at(env, RAM_BASE + LOOP_CODE);
    unsigned faulting = 4 * (k + 1);   /* every 4th iteration loads */
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->cr[2], HOLE);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE + 8);
    CHECK_EQ(env->regs[R_EBX], faulting);
    CHECK_EQ(env->regs[R_EAX], 3 * k * (k - 1) / 2 + k);
    CHECK_EQ(env->regs[R_EDX], HOLE);
    CHECK_EQ(env->regs[R_ECX], 1000 - (faulting - 1));
    /* flags of TEST (204 & 3 = 0): ZF only */
    CHECK_EQ(cc_compute_all(env) & (CC_S | CC_Z | CC_C), CC_Z);
    CHECK_EQ(regions_made(env), 1);
    CHECK(region_at(env, RAM_BASE + LOOP_CODE));
    test_cpu_free(env);
}

TEST(region_fault_in_second_block_interp) { region_fault_in_second_block(true); }
TEST(region_fault_in_second_block_x86_64) { region_fault_in_second_block(false); }

/* The loop rewrites the immediate of an instruction in another of its
 * basic blocks: the iterations after the store add the new value. With
 * trips = 1, each store invalidates the region (and the plain block it
 * superseded), and the next back edge taken makes a region again. */
static void self_modifying_loop(bool interp, unsigned trips, unsigned n)
{
    unsigned saved = tcg_region_trips;
    tcg_region_trips = trips;
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x83, 0xc0, 0x01,       /* S: add eax, 1          */
        0xf6, 0xc1, 0x01,       /* test cl, 1             */
        0x74, 0x03,             /* jz T                   */
        0xc6, 0x03, 0x05,       /* mov byte [rbx], 5      */
        0x83, 0xc2, 0x01,       /* T: add edx, 1 (imm: [rbx]) */
        0xff, 0xc9,             /* dec ecx                */
        0x75, 0xee,             /* jnz S                  */
        0xf4,
    };
    put_code(code, sizeof(code));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = RAM_BASE + LOOP_CODE + 13;
    env->regs[R_ECX] = n;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], n);
    /* ECX n (even) adds 1; ECX n - 1 stores, then every ADD adds 5 */
    CHECK_EQ(env->regs[R_EDX], 1 + (n - 1) * 5);
    CHECK_EQ(ram[LOOP_CODE + 13], 5);
    if (trips)
        CHECK(regions_made(env) >= 2);
    test_cpu_free(env);
    tcg_region_trips = saved;
}

static void region_self_modifying(bool interp)
{
    self_modifying_loop(interp, 0, 10);
    self_modifying_loop(interp, 1, 200);
}

TEST(region_self_modifying_interp) { region_self_modifying(true); }
TEST(region_self_modifying_x86_64) { region_self_modifying(false); }

/* An endless two-path loop left only through an exit request (an
 * interrupt): registers agree with the counter it keeps in memory. */
static void region_exit_request(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x48, 0xff, 0x03,       /* E: inc qword [rbx] */
        0xa8, 0x01,             /* test al, 1         */
        0x74, 0x03,             /* jz E2              */
        0x48, 0xff, 0xc2,       /* inc rdx            */
        0x48, 0xff, 0xc0,       /* E2: inc rax        */
        0xeb, 0xf1,             /* jmp E              */
    };
    put_code(code, sizeof(code));
    uint64_t count = run_counting_loop(env);
    CHECK(count >= 100000);
    CHECK_EQ(env->regs[R_EAX], count);
    CHECK_EQ(env->regs[R_EDX], count / 2);
    CHECK_EQ(env->rip, RAM_BASE + LOOP_CODE);
    CHECK_EQ(regions_made(env), 1);
    CHECK(region_at(env, RAM_BASE + LOOP_CODE));
    test_cpu_free(env);
}

TEST(region_exit_request_interp) { region_exit_request(true); }
TEST(region_exit_request_x86_64) { region_exit_request(false); }

/* Sign conditions from a recorded flag producer (not right after CMP): SF,
 * L and LE of 32- and 64-bit logic and subtraction results, overflow
 * included, as SETcc into byte registers and as a Jcc. */
static void sign_conditions(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0xb8, 0x00, 0x00, 0x00, 0x80,       /* mov eax, 0x80000000 */
        0x85, 0xc0,                         /* test eax, eax */
        0x90,                               /* nop */
        0x41, 0x0f, 0x98, 0xc0,             /* sets r8b: 1 */
        0x41, 0x0f, 0x9e, 0xc1,             /* setle r9b: 1 */
        0x41, 0x0f, 0x9f, 0xc2,             /* setg r10b: 0 */
        0xba, 0x05, 0x00, 0x00, 0x00,       /* mov edx, 5 */
        0x83, 0xea, 0x07,                   /* sub edx, 7 */
        0x90,
        0x41, 0x0f, 0x9c, 0xc3,             /* setl r11b: 1 */
        0x41, 0x0f, 0x9d, 0xc4,             /* setge r12b: 0 */
        0x41, 0x0f, 0x98, 0xc5,             /* sets r13b: 1 */
        0xb9, 0xff, 0xff, 0xff, 0x7f,       /* mov ecx, 0x7fffffff */
        0x83, 0xe9, 0xff,                   /* sub ecx, -1: overflows, SF = OF = 1 */
        0x90,
        0x41, 0x0f, 0x9c, 0xc6,             /* setl r14b: 0 */
        0x41, 0x0f, 0x9e, 0xc7,             /* setle r15b: 0 */
        0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, /* mov rax, -1 */
        0x48, 0x85, 0xc0,                   /* test rax, rax */
        0x90,
        0x0f, 0x98, 0xc3,                   /* sets bl: 1 */
        0x0f, 0x9e, 0xc7,                   /* setle bh: 1 */
        0x78, 0x02,                         /* js +2 (taken) */
        0xff, 0xc6,                         /* inc esi */
        0xf4,                               /* hlt */
    };
    memset(env->regs, 0, sizeof(env->regs));
    run_code(env, code, sizeof(code));
    CHECK_EQ(env->exception_index, -1);
    static const uint64_t want[16] = {
        [R_EAX] = ~0ULL, [R_EBX] = 0x101, [R_ECX] = 0x80000000, [R_EDX] = 0xfffffffe,
        [8] = 1, [9] = 1, [10] = 0, [11] = 1, [12] = 0, [13] = 1, [14] = 0, [15] = 0,
    };
    for (int r = 0; r < 16; r++)
        if (r != R_ESP)
            CHECK_EQ(env->regs[r], want[r]);
    test_cpu_free(env);
}

TEST(sign_conditions_interp) { sign_conditions(true); }
TEST(sign_conditions_x86_64) { sign_conditions(false); }

/* ---- loop access caches (tcg/x86_64/loop.c): a stepping access keeps its page ------------ */
#define STREAM (RAM_BASE + 0x60000)   /* three pages, mapped out of order */

/* Maps STREAM's pages to the frames 0x64000, 0x66000, 0x65000 (so that the
 * addend of one page reads the wrong bytes for the next) and fills them
 * with the bytes the guest sees at STREAM + i = f(i). */
static void map_stream(CPUX86State *env, uint8_t (*f)(unsigned))
{
    static const uint32_t frame[3] = { 0x64000, 0x66000, 0x65000 };
    enable_paging(env);
    for (int p = 0; p < 3; p++) {
        *pte_of(STREAM + 0x1000 * (uint64_t)p) = (RAM_BASE + frame[p]) | 3;
        for (unsigned i = 0; i < 0x1000; i++)
            ram[frame[p] + i] = f(0x1000 * (unsigned)p + i);
    }
}

static uint8_t stream_byte(unsigned i) { return (uint8_t)(i * 7 + (i >> 8)); }

/* A byte copy and sum through two stepping pointers that cross pages
 * mapped out of order: each page's bytes come through its own addend. */
static void loop_cache_pages(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x0f, 0xb6, 0x1e,       /* L: movzx ebx, byte [rsi] */
        0x01, 0xd8,             /* add eax, ebx             */
        0x88, 0x1f,             /* mov [rdi], bl            */
        0x48, 0xff, 0xc6,       /* inc rsi                  */
        0x48, 0xff, 0xc7,       /* inc rdi                  */
        0xff, 0xc9,             /* dec ecx                  */
        0x75, 0xef,             /* jnz L                    */
        0xf4,
    };
    put_code(code, sizeof(code));
    map_stream(env, stream_byte);
    const unsigned from = 0xf00, n = 0x1200, to = 0x10;   /* reads 3 pages, writes 2 */
    uint32_t sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += stream_byte(from + i);
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = STREAM + from;
    env->regs[R_EDI] = DATA + to;
    env->regs[R_ECX] = n;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], sum);
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(ram[(DATA - RAM_BASE) + to + i], stream_byte(from + i));
    if (!interp)
        CHECK_EQ(tcg_cpu(env)->ctx->stat_access_caches, 2);
    test_cpu_free(env);
}

TEST(loop_cache_pages_interp) { loop_cache_pages(true); }
TEST(loop_cache_pages_x86_64) { loop_cache_pages(false); }

/* Misaligned dword loads stepping by 3 over the out-of-order pages: some
 * cross a page (two frames), none may take a cached page for both. */
static void loop_cache_misaligned(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x03, 0x06,             /* L: add eax, [rsi] */
        0x48, 0x83, 0xc6, 0x03, /* add rsi, 3        */
        0xff, 0xc9,             /* dec ecx           */
        0x75, 0xf6,             /* jnz L             */
        0xf4,
    };
    put_code(code, sizeof(code));
    map_stream(env, stream_byte);
    const unsigned from = 0xe01, n = 0x600;
    uint32_t sum = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned a = from + 3 * i;
        sum += (uint32_t)stream_byte(a) | (uint32_t)stream_byte(a + 1) << 8 | (uint32_t)stream_byte(a + 2) << 16 |
               (uint32_t)stream_byte(a + 3) << 24;
    }
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = STREAM + from;
    env->regs[R_ECX] = n;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], sum);
    test_cpu_free(env);
}

TEST(loop_cache_misaligned_interp) { loop_cache_misaligned(true); }
TEST(loop_cache_misaligned_x86_64) { loop_cache_misaligned(false); }

/* The loop remaps the page it reads and INVLPGs it at every turn: each
 * read sees the mapping the turn before left (frames of ones and twos). */
static void loop_cache_invlpg(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x0f, 0xb6, 0x1e,       /* L: movzx ebx, byte [rsi] */
        0x01, 0xd8,             /* add eax, ebx             */
        0x4c, 0x31, 0x02,       /* xor [rdx], r8: remap     */
        0x0f, 0x01, 0x3e,       /* invlpg [rsi]             */
        0x48, 0xff, 0xc6,       /* inc rsi                  */
        0xff, 0xc9,             /* dec ecx                  */
        0x75, 0xee,             /* jnz L                    */
        0xf4,
    };
    put_code(code, sizeof(code));
    enable_paging(env);
    memset(ram + 0x64000, 1, 0x1000);
    memset(ram + 0x65000, 2, 0x1000);
    *pte_of(STREAM) = (RAM_BASE + 0x64000) | 3;
    const unsigned n = 100;
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = STREAM;
    env->regs[R_EDX] = RAM_BASE + 0xf3000 + 8 * ((STREAM - RAM_BASE) >> 12);   /* the PTE, mapped 1:1 */
    env->regs[8] = 0x64000 ^ 0x65000;
    env->regs[R_ECX] = n;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], n / 2 * 1 + n / 2 * 2);
    test_cpu_free(env);
}

TEST(loop_cache_invlpg_interp) { loop_cache_invlpg(true); }
TEST(loop_cache_invlpg_x86_64) { loop_cache_invlpg(false); }

/* A stepping store walks over the loop's own ADD immediate, a byte a turn:
 * each turn adds what the turns before wrote (1, 2, 0x202, 0x20202). */
static void loop_cache_self_modifying(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x05, 0x01, 0x00, 0x00, 0x00,   /* L: add eax, 1      */
        0xc6, 0x03, 0x02,               /* mov byte [rbx], 2  */
        0x48, 0xff, 0xc3,               /* inc rbx            */
        0xff, 0xc9,                     /* dec ecx            */
        0x75, 0xf1,                     /* jnz L              */
        0xf4,
    };
    put_code(code, sizeof(code));
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EBX] = RAM_BASE + LOOP_CODE + 1;
    env->regs[R_ECX] = 4;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 1 + 2 + 0x202 + 0x20202);
    CHECK_EQ(env->regs[R_ECX], 0);
    test_cpu_free(env);
}

TEST(loop_cache_self_modifying_interp) { loop_cache_self_modifying(true); }
TEST(loop_cache_self_modifying_x86_64) { loop_cache_self_modifying(false); }

/* A search (strlen: the loop leaves on a loaded byte) runs a few turns per
 * entry: its access gets no cache, which would mostly cost refills. */
static void loop_cache_not_for_search(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    static const uint8_t code[] = {
        0x48, 0xff, 0xc0,       /* L: inc rax          */
        0x80, 0x38, 0x00,       /* cmp byte [rax], 0   */
        0x75, 0xf8,             /* jnz L               */
        0xf4,
    };
    put_code(code, sizeof(code));
    memset(ram + 0x8000, 'x', 0x100);
    ram[0x8000 + 0x80] = 0;
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_EAX] = RAM_BASE + 0x8000 - 1;
    run_at(env, RAM_BASE + LOOP_CODE);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], RAM_BASE + 0x8000 + 0x80);
    if (!interp)
        CHECK_EQ(tcg_cpu(env)->ctx->stat_access_caches, 0);
    test_cpu_free(env);
}

TEST(loop_cache_not_for_search_interp) { loop_cache_not_for_search(true); }
TEST(loop_cache_not_for_search_x86_64) { loop_cache_not_for_search(false); }

/* A store invalidates the blocks whose bytes it hits, not the others on
 * the page (the kernel patching one call site must not throw away the
 * code around it). A and B are blocks on one page: a store into A's
 * immediate leaves B translated, and A runs its new code. */
#define RANGE_PAGE 0x7000
#define RANGE_A (RANGE_PAGE + 0x10)
#define RANGE_B (RANGE_PAGE + 0x100)
#define RANGE_WRITER 0x8000

static void store_invalidates_hit_blocks_only(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    static const uint8_t a[] = { 0xba, 0x11, 0, 0, 0, 0xf4 };   /* mov edx, 0x11; hlt */
    static const uint8_t b[] = { 0xb9, 0x22, 0, 0, 0, 0xf4 };   /* mov ecx, 0x22; hlt */
    static const uint8_t writer[] = { 0xc6, 0x03, 0x33, 0xf4 };  /* mov byte [rbx], 0x33; hlt */
    memcpy(ram + RANGE_A, a, sizeof(a));
    memcpy(ram + RANGE_B, b, sizeof(b));
    memcpy(ram + RANGE_WRITER, writer, sizeof(writer));
    run_at(env, RAM_BASE + RANGE_A);
    test_run_from(env, RAM_BASE + RANGE_B);
    uint64_t translated = t->stat_translated, invalidated = t->stat_invalidated;
    env->regs[R_EBX] = RAM_BASE + RANGE_A + 1;
    test_run_from(env, RAM_BASE + RANGE_WRITER);
    CHECK(env->halted);
    CHECK_EQ(t->stat_invalidated, invalidated + 1);   /* A alone */
    test_run_from(env, RAM_BASE + RANGE_B);
    CHECK_EQ(env->regs[R_ECX], 0x22);
    CHECK_EQ(t->stat_translated, translated + 1);     /* the writer; B kept */
    test_run_from(env, RAM_BASE + RANGE_A);
    CHECK_EQ(env->regs[R_EDX], 0x33);                 /* A's new code */
    test_cpu_free(env);
}

TEST(store_invalidates_hit_blocks_only_interp) { store_invalidates_hit_blocks_only(true); }
TEST(store_invalidates_hit_blocks_only_x86_64) { store_invalidates_hit_blocks_only(false); }

/* A valid block chained to a block the store invalidated: the chained jump
 * enters past the start (forward: past the exit check too), so those
 * entries must leave for the loop as well, or the stale code runs. One
 * chain goes forward (A -> B), one backward (C -> B). */
static void chained_past_start_into_invalidated(bool interp)
{
    unsigned saved_follow = x86_translate_follow;
    x86_translate_follow = FOLLOW_NONE;   /* A, B and C stay apart */
    CPUX86State *env = new_cpu(interp);
    static const uint8_t a[] = { 0xff, 0xc0, 0xe9, 0, 0, 0, 0 };   /* A: inc eax; jmp B */
    static const uint8_t b[] = { 0xba, 0x11, 0, 0, 0, 0xf4 };      /* B: mov edx, 0x11; hlt */
    static const uint8_t c[] = { 0xff, 0xc1, 0xe9, 0, 0, 0, 0 };   /* C: inc ecx; jmp B */
    static const uint8_t writer[] = { 0x88, 0x0b, 0xf4 };           /* mov [rbx], cl; hlt */
    uint32_t pa = RANGE_PAGE + 0x10, pb = RANGE_PAGE + 0x200, pc = RANGE_PAGE + 0x400;
    memcpy(ram + pa, a, sizeof(a));
    test_put_rel32(pa + 3, pa + 7, pb);
    memcpy(ram + pb, b, sizeof(b));
    memcpy(ram + pc, c, sizeof(c));
    test_put_rel32(pc + 3, pc + 7, pb);
    memcpy(ram + RANGE_WRITER, writer, sizeof(writer));
    memset(env->regs, 0, sizeof(env->regs));
    run_at(env, RAM_BASE + pa);
    for (int i = 0; i < 3; i++) {   /* chained from the second run on */
        test_run_from(env, RAM_BASE + pa);
        test_run_from(env, RAM_BASE + pc);
    }
    CHECK_EQ(env->regs[R_EDX], 0x11);
    CHECK_EQ(env->regs[R_ECX], 3);
    env->regs[R_EBX] = RAM_BASE + pb + 1;
    env->regs[R_ECX] = 0x33;
    test_run_from(env, RAM_BASE + RANGE_WRITER);
    env->regs[R_ECX] = 3;
    env->regs[R_EDX] = 0;
    test_run_from(env, RAM_BASE + pa);
    CHECK_EQ(env->regs[R_EDX], 0x33);
    CHECK_EQ(env->rip, RAM_BASE + pb + 6);
    env->regs[R_ECX] = 0x44;
    test_run_from(env, RAM_BASE + RANGE_WRITER);
    env->regs[R_ECX] = 3;
    env->regs[R_EDX] = 0;
    test_run_from(env, RAM_BASE + pc);
    CHECK_EQ(env->regs[R_EDX], 0x44);
    CHECK_EQ(env->regs[R_EAX], 5);
    CHECK_EQ(env->regs[R_ECX], 4);
    test_cpu_free(env);
    x86_translate_follow = saved_follow;
}

TEST(chained_past_start_into_invalidated_interp) { chained_past_start_into_invalidated(true); }
TEST(chained_past_start_into_invalidated_x86_64) { chained_past_start_into_invalidated(false); }

/* A page whose blocks are dead (its memory now holds data) must not trap
 * every store for ever: after enough stores that hit no translated code,
 * its blocks go and stores run at full speed again. */
static void data_stores_free_dead_code_page(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    static const uint8_t a[] = { 0xba, 0x11, 0, 0, 0, 0xf4 };   /* mov edx, 0x11; hlt */
    /* mov ecx, 5000; loop: mov [rbx], ecx; dec ecx; jnz loop; hlt */
    static const uint8_t writer[] = { 0xb9, 0x88, 0x13, 0, 0, 0x89, 0x0b, 0xff, 0xc9, 0x75, 0xfa, 0xf4 };
    memcpy(ram + RANGE_A, a, sizeof(a));
    memcpy(ram + RANGE_WRITER, writer, sizeof(writer));
    run_at(env, RAM_BASE + RANGE_A);
    uint64_t trapped = t->stat_slow_code, invalidated = t->stat_invalidated;
    env->regs[R_EBX] = RAM_BASE + RANGE_PAGE + 0x800;
    test_run_from(env, RAM_BASE + RANGE_WRITER);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(ld32(ram + RANGE_PAGE + 0x800), 1);
    if (!interp)
        CHECK(t->stat_slow_code - trapped < 1000);
    CHECK_EQ(t->stat_invalidated, invalidated + 1);   /* A, the page's block */
    test_run_from(env, RAM_BASE + RANGE_A);
    CHECK_EQ(env->regs[R_EDX], 0x11);
    test_cpu_free(env);
}

TEST(data_stores_free_dead_code_page_interp) { data_stores_free_dead_code_page(true); }
TEST(data_stores_free_dead_code_page_x86_64) { data_stores_free_dead_code_page(false); }

/* A block chained to a block a store invalidated is linked to the new
 * translation: it does not leave for the loop at every pass. */
static void rechained_after_invalidation(bool interp)
{
    unsigned saved_follow = x86_translate_follow;
    x86_translate_follow = FOLLOW_NONE;
    CPUX86State *env = new_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    /* A: inc eax; jmp B; B: inc edx; hlt (one page: chained) */
    uint32_t pa = RANGE_PAGE + 0x10, pb = RANGE_PAGE + 0x400;
    static const uint8_t a[] = { 0xff, 0xc0, 0xe9, 0, 0, 0, 0 };
    static const uint8_t b[] = { 0xff, 0xc2, 0xf4 };
    memcpy(ram + pa, a, sizeof(a));
    test_put_rel32(pa + 3, pa + 7, pb);
    memcpy(ram + pb, b, sizeof(b));
    static const uint8_t writer[] = { 0x88, 0x0b, 0xf4 };          /* mov [rbx], cl; hlt */
    memcpy(ram + RANGE_WRITER, writer, sizeof(writer));
    run_at(env, RAM_BASE + pa);
    test_run_from(env, RAM_BASE + pa);                              /* chained now */
    env->regs[R_EBX] = RAM_BASE + pb + 2;                           /* B's HLT: the same byte */
    env->regs[R_ECX] = 0xf4;
    test_run_from(env, RAM_BASE + RANGE_WRITER);
    memset(env->regs, 0, sizeof(env->regs));
    uint64_t passes = t->stat_loop_passes;
    for (int i = 0; i < 100; i++)
        test_run_from(env, RAM_BASE + pa);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EAX], 100);
    CHECK_EQ(env->regs[R_EDX], 100);
    /* one pass a run (A), not two (A, then B after the invalid code) */
    if (!interp)
        CHECK(t->stat_loop_passes - passes < 150);
    test_cpu_free(env);
    x86_translate_follow = saved_follow;
}

TEST(rechained_after_invalidation_interp) { rechained_after_invalidation(true); }
TEST(rechained_after_invalidation_x86_64) { rechained_after_invalidation(false); }
