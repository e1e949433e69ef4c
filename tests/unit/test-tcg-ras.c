/* Returns and indirect jumps in 64-bit code, on both backends: the return
 * stack (a RET popping what a CALL pushed goes straight to the block after
 * the CALL) must stay exact when the guest overwrites its return address,
 * rewrites the code it returns to, takes an exception between CALL and RET,
 * or returns at another privilege level; a RET must not need the C lookup
 * when its jump-cache slot keeps being taken by another block; and a CR3
 * write must make stale the jump cache's blocks of non-global pages only. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "harness.h"
#include "harness-machine.h"
#include "system/cpus.h"
#include "system/log.h"
#include "system/machine.h"
#include "system/memory.h"

#define RAM_BASE 0x10000000ULL
#define RAM_SIZE (1ULL << 20)
#define MAIN 0x1000      /* offsets in RAM */
#define FUNC 0x2000
#define OTHER 0x3000
#define GDT 0x9000
#define DATA 0xa000      /* a supervisor page, when paging is on */

static uint8_t *ram;

/* The return stack is optional (-accel tcg,return-stack=on): the tests run
 * with it, and those about exactness without it too. */
static bool ras_on = true;

static CPUX86State *new_cpu(bool interp)
{
    ram = test_machine_ram(RAM_BASE, RAM_SIZE);
    tcg_return_stack = ras_on;
    memset(ram, 0xf4, 0x10000);   /* HLT everywhere else */
    return test_cpu64_new(interp, 0);
}


static void start(CPUX86State *env, uint32_t off)
{
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESP] = RAM_BASE + RAM_SIZE - 64;
    env->rip = RAM_BASE + off;
    env->halted = false;
    env->exception_index = -1;
    cc_set_all(env, 0);
    env->eflags = 2;
    tcg_run_until_exit(env);
}

/* main: mov ecx, n; loop: call FUNC; <after, at MAIN + 10> */
static void put_call_loop(uint32_t n)
{
    PUT(MAIN, 0xb9, 0, 0, 0, 0, 0xe8, 0, 0, 0, 0);
    memcpy(ram + MAIN + 1, &n, 4);
    test_put_rel32(MAIN + 6, MAIN + 10, FUNC);
}

/* A linear PC in the same jump-cache set as lin (k = 1, 2, ...: different
 * ones). */
static uint64_t same_set(uint64_t lin, unsigned k)
{
    uint64_t other = lin ^ ((uint64_t)k << JMP_CACHE_SET_BITS) ^ k;
    CHECK_EQ(jmp_cache_hash(other), jmp_cache_hash(lin));
    return other;
}

/* Run the loop at MAIN (ECX counts its 100 rounds down) from a flushed
 * cache until it halts at end_rip, with fewer C lookups than rounds. */
static void run_loop_few_lookups(CPUX86State *env, bool interp, uint64_t end_rip)
{
    TCGCPU *t = tcg_cpu(env);
    tb_flush(t);
    t->stat_lookup_slow = 0;
    start(env, MAIN);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(env->rip, end_rip);
    if (!interp)
        CHECK(t->stat_lookup_slow < 20);
}

/* The callee jumps (indirectly) through a pad to a RET, and the pad, the
 * RET and the return address share one jump-cache set: more blocks than it
 * has ways, so each lookup of one would evict another. The return stack
 * leaves two of them to the cache. */
static void slot_collision(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    uint32_t after = MAIN + 10;
    uint32_t pad = (uint32_t)(same_set(RAM_BASE + after, 1) - RAM_BASE);
    uint32_t ret_at = (uint32_t)(same_set(RAM_BASE + after, 2) - RAM_BASE);
    put_call_loop(100);
    PUT(after, 0xff, 0xc9, 0x75, 0xf7, 0xf4);                   /* dec ecx; jnz loop; hlt */
    PUT(FUNC, 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0);        /* lea rax, [pad]; jmp rax */
    test_put_rel32(FUNC + 3, FUNC + 7, pad);
    PUT(pad, 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0);         /* lea rax, [ret_at]; jmp rax */
    test_put_rel32(pad + 3, pad + 7, ret_at);
    PUT(ret_at, 0xc3);                                          /* ret */
    /* without the return stack: three C lookups per round */
    run_loop_few_lookups(env, interp, RAM_BASE + after + 5);
    test_cpu_free(env);
}

/* Two indirect jump targets in one jump-cache set both stay in it: the
 * inline probe finds either without the C lookup. */
static void two_ways(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    uint32_t a = MAIN + 0x10;
    uint32_t b = (uint32_t)(same_set(RAM_BASE + a, 1) - RAM_BASE);
    PUT(MAIN, 0xb9, 100, 0, 0, 0);                              /* mov ecx, 100 */
    PUT(MAIN + 5, 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0);    /* loop: lea rax, [a]; jmp rax */
    test_put_rel32(MAIN + 8, MAIN + 12, a);
    PUT(a, 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0);           /* a: lea rax, [b]; jmp rax */
    test_put_rel32(a + 3, a + 7, b);
    PUT(b, 0xff, 0xc9, 0x0f, 0x85, 0, 0, 0, 0, 0xf4);           /* b: dec ecx; jnz loop; hlt */
    test_put_rel32(b + 4, b + 8, MAIN + 5);
    /* one way per set: two C lookups per round */
    run_loop_few_lookups(env, interp, RAM_BASE + b + 9);
    test_cpu_free(env);
}

/* A hot target that a colder block pushed to its set's second way moves
 * back to the first, where the inline probe looks: the runtime's whole
 * probe finds it there once, not at every jump. */
static void hot_entry_in_second_way(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    TCGCPU *t = tcg_cpu(env);
    uint32_t b = MAIN + 0x40, loop = MAIN + 0x80, back = MAIN + 0xc0;
    uint32_t c = (uint32_t)(same_set(RAM_BASE + b, 1) - RAM_BASE);
    PUT(MAIN, 0xb9, 100, 0, 0, 0, 0x31, 0xd2,                  /* mov ecx, 100; xor edx, edx */
        0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0);              /* lea rax, [b]; jmp rax */
    test_put_rel32(MAIN + 10, MAIN + 14, b);
    PUT(b, 0x85, 0xd2, 0x0f, 0x85, 0, 0, 0, 0,                 /* b: test edx, edx; jnz back */
        0xff, 0xc2, 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0);  /* inc edx; lea rax, [c]; jmp rax */
    test_put_rel32(b + 4, b + 8, back);
    test_put_rel32(b + 13, b + 17, c);
    PUT(c, 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0);           /* c (once): lea rax, [loop]; jmp rax */
    test_put_rel32(c + 3, c + 7, loop);
    PUT(loop, 0xff, 0xc9, 0x0f, 0x84, 0, 0, 0, 0,              /* loop: dec ecx; jz end */
        0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xff, 0xe0, 0xf4);        /* lea rax, [b]; jmp rax; end: hlt */
    test_put_rel32(loop + 4, loop + 8, loop + 17);
    test_put_rel32(loop + 11, loop + 15, b);
    PUT(back, 0xe9, 0, 0, 0, 0);                                /* back: jmp loop */
    test_put_rel32(back + 1, back + 5, loop);
    log_mask |= LOG_JIT_COUNT;   /* the runtime counts its probes */
    t->stat_jc_runtime = 0;
    run_loop_few_lookups(env, interp, RAM_BASE + loop + 18);
    log_mask &= ~LOG_JIT_COUNT;
    CHECK_EQ(env->regs[R_EDX], 1);
    /* without the move: one whole probe per round */
    CHECK(t->stat_jc_runtime < 10);
    test_cpu_free(env);
}

TEST(jc_hot_entry_in_second_way_interp) { hot_entry_in_second_way(true); }
TEST(jc_hot_entry_in_second_way_x86_64) { hot_entry_in_second_way(false); }

/* 64-bit code far-jumps to 32-bit code: first through a selector with
 * base 0, then through one with base 0x1000 to the same offset. The second
 * must run the code 0x1000 further (the inline probe of the 64-bit block
 * matches the PC and the flags alone, which are the same both times). And
 * 64-bit code ignores a CS base, as the SDM says. */
static void far_jump_to_other_cs_base(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    uint32_t target = (uint32_t)(RAM_BASE + OTHER);
    PUT(OTHER, 0xb8, 1, 0, 0, 0, 0xf4);                         /* mov eax, 1; hlt */
    PUT(OTHER + 0x1000, 0xb8, 2, 0, 0, 0, 0xf4);                /* mov eax, 2; hlt */
    uint64_t gdt[4] = { 0, 0, 0x00cf9a000000ffffULL,            /* 0x10: 32-bit code, base 0 */
                        0x00cf9a001000ffffULL };                /* 0x18: base 0x1000 */
    memcpy(ram + GDT, gdt, sizeof(gdt));
    env->gdt.base = RAM_BASE + GDT;
    env->gdt.limit = sizeof(gdt) - 1;
    for (int i = 0; i < 2; i++) {                               /* far pointers at DATA */
        memcpy(ram + DATA + 8 * i, &target, 4);
        uint16_t sel = (uint16_t)(0x10 + 8 * i);
        memcpy(ram + DATA + 8 * i + 4, &sel, 2);
    }
    uint32_t ptr = (uint32_t)(RAM_BASE + DATA);
    PUT(MAIN, 0xff, 0x2c, 0x25, 0, 0, 0, 0);                    /* jmp far [DATA] */
    memcpy(ram + MAIN + 3, &ptr, 4);
    ptr += 8;
    PUT(FUNC, 0xff, 0x2c, 0x25, 0, 0, 0, 0);                    /* jmp far [DATA + 8] */
    memcpy(ram + FUNC + 3, &ptr, 4);
    SegmentCache cs64 = env->segs[R_CS];
    uint32_t hflags64 = env->hflags;
    start(env, MAIN);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 1);
    CHECK(!(env->hflags & HF_CS64_MASK));
    env->segs[R_CS] = cs64;
    env->hflags = hflags64;
    start(env, FUNC);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->segs[R_CS].base, 0x1000);
    CHECK_EQ(env->regs[R_EAX], 2);
    /* in 64-bit code a CS base counts as zero */
    cs64.base = 0x1000;
    env->segs[R_CS] = cs64;
    env->hflags = hflags64;
    start(env, OTHER);
    CHECK_EQ(env->exception_index, -1);
    CHECK_EQ(env->regs[R_EAX], 1);
    test_cpu_free(env);
}

TEST(jc_far_jump_to_other_cs_base_interp) { far_jump_to_other_cs_base(true); }
TEST(jc_far_jump_to_other_cs_base_x86_64) { far_jump_to_other_cs_base(false); }

TEST(jc_two_ways_interp) { two_ways(true); }
TEST(jc_two_ways_x86_64) { two_ways(false); }

TEST(ras_slot_collision_interp) { slot_collision(true); }
TEST(ras_slot_collision_x86_64) { slot_collision(false); }

/* The same test with the return stack off. */
static void ras_off(void (*test)(bool interp))
{
    ras_on = false;
    test(false);
    ras_on = true;
}

/* Four normal returns, then the callee overwrites its return address. */
static void overwritten_return(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    uint32_t after = MAIN + 10;
    put_call_loop(5);
    PUT(after, 0xff, 0xc9, 0x75, 0xf7, 0xf4);                   /* dec ecx; jnz loop; hlt */
    PUT(FUNC, 0x83, 0xf9, 0x01,                                 /* cmp ecx, 1 */
        0x75, 0x0b,                                             /* jne .ret */
        0x48, 0x8d, 0x05, 0, 0, 0, 0,                           /* lea rax, [OTHER] */
        0x48, 0x89, 0x04, 0x24,                                 /* mov [rsp], rax */
        0xc3);                                                  /* .ret: ret */
    test_put_rel32(FUNC + 8, FUNC + 12, OTHER);
    PUT(OTHER, 0xb8, 42, 0, 0, 0, 0xf4);                        /* mov eax, 42; hlt */
    tb_flush(tcg_cpu(env));
    start(env, MAIN);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EAX], 42);
    CHECK_EQ(env->regs[R_ECX], 1);
    CHECK_EQ(env->rip, RAM_BASE + OTHER + 6);
    test_cpu_free(env);
}

TEST(ras_overwritten_return_interp) { overwritten_return(true); }
TEST(ras_overwritten_return_x86_64) { overwritten_return(false); }
TEST(ras_off_overwritten_return_x86_64) { ras_off(overwritten_return); }

/* The callee rewrites the instruction it returns to (after the return
 * stack knows that block): the new instruction runs. */
static void smc_return_target(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    uint32_t after = MAIN + 10;
    put_call_loop(5);
    PUT(after, 0x81, 0xc3, 1, 0, 0, 0,                          /* add ebx, 1 */
        0xff, 0xc9, 0x75, 0xf1, 0xf4);                          /* dec ecx; jnz loop; hlt */
    PUT(FUNC, 0x83, 0xf9, 0x02,                                 /* cmp ecx, 2 */
        0x75, 0x0a,                                             /* jne .ret */
        0xc7, 0x05, 0, 0, 0, 0, 100, 0, 0, 0,                   /* mov dword [after + 2], 100 */
        0xc3);                                                  /* .ret: ret */
    test_put_rel32(FUNC + 7, FUNC + 15, after + 2);
    tb_flush(tcg_cpu(env));
    start(env, MAIN);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EBX], 1 + 1 + 1 + 100 + 100);
    test_cpu_free(env);
}

TEST(ras_smc_return_target_interp) { smc_return_target(true); }
TEST(ras_smc_return_target_x86_64) { smc_return_target(false); }
TEST(ras_off_smc_return_target_x86_64) { ras_off(smc_return_target); }

/* A #UD in the callee (in the third round: the return stack knows the
 * block after the loop's call by then) leaves to the loop; resumed after it, the RET
 * returns where it should. */
static void exception_in_callee(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    uint32_t after = MAIN + 10;
    put_call_loop(4);
    PUT(after, 0xff, 0xc3, 0xff, 0xc9, 0x75, 0xf5, 0xf4);       /* inc ebx; dec ecx; jnz loop; hlt */
    PUT(FUNC, 0x83, 0xf9, 0x02,                                 /* cmp ecx, 2 */
        0x75, 0x02,                                             /* jne .ret */
        0x0f, 0x0b,                                             /* ud2 */
        0xc3);                                                  /* .ret: ret */
    tb_flush(tcg_cpu(env));
    start(env, MAIN);
    CHECK_EQ(env->exception_index, EXCP_UD);
    CHECK_EQ(env->rip, RAM_BASE + FUNC + 5);
    CHECK_EQ(env->regs[R_EBX], 2);
    /* "handle" it: skip the UD2 */
    env->exception_index = -1;
    env->rip += 2;
    tcg_run_until_exit(env);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EBX], 4);
    CHECK_EQ(env->regs[R_ECX], 0);
    test_cpu_free(env);
}

TEST(ras_exception_in_callee_interp) { exception_in_callee(true); }
TEST(ras_exception_in_callee_x86_64) { exception_in_callee(false); }
TEST(ras_off_exception_in_callee_x86_64) { ras_off(exception_in_callee); }

/* 4-level tables mapping RAM 1:1 for user and supervisor, but DATA for the
 * supervisor only. */
static void enable_paging(CPUX86State *env)
{
    uint32_t pt = test_page_tables(0xf0000, 7);
    st64(ram + pt + 8 * (DATA >> 12), (RAM_BASE + DATA) | 3);
    test_paging_on(env, RAM_BASE + 0xf0000);
}

/* The third time (the second from the loop's call site), the callee IRETs
 * to user code (CPL 3) with the return address still on the stack, and the
 * user code RETs to it: the same address, the same RSP, another privilege
 * level. The block after the CALL must be the CPL 3 translation (its load
 * from a supervisor page faults), not the kernel's one the return stack
 * knows from the round before. */
static void return_at_other_cpl(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    uint32_t after = MAIN + 10;
    put_call_loop(3);
    PUT(after, 0x8b, 0x04, 0x25, 0, 0, 0, 0,                    /* mov eax, [DATA] */
        0xff, 0xc9, 0x75, 0xf0, 0xf4);                          /* dec ecx; jnz loop; hlt */
    uint32_t data = (uint32_t)(RAM_BASE + DATA);
    memcpy(ram + after + 3, &data, 4);
    PUT(FUNC, 0x83, 0xf9, 0x01,                                 /* cmp ecx, 1 */
        0x75, 0x14,                                             /* jne .ret */
        0x48, 0x89, 0xe0,                                       /* mov rax, rsp */
        0x6a, 0x2b, 0x50,                                       /* push 0x2b (SS); push rax (RSP) */
        0x6a, 0x02, 0x6a, 0x33,                                 /* push 2 (RFLAGS); push 0x33 (CS) */
        0x48, 0x8d, 0x05, 0, 0, 0, 0, 0x50,                     /* lea rax, [OTHER]; push rax */
        0x48, 0xcf,                                             /* iretq */
        0xc3);                                                  /* .ret: ret */
    test_put_rel32(FUNC + 18, FUNC + 22, OTHER);
    PUT(OTHER, 0xc3);                                           /* ret (at CPL 3) */
    uint64_t gdt[7] = { 0 };
    gdt[5] = 0x00cff2000000ffffULL;   /* 0x2b: user data */
    gdt[6] = 0x0020fa0000000000ULL;   /* 0x33: user 64-bit code */
    memcpy(ram + GDT, gdt, sizeof(gdt));
    env->gdt.base = RAM_BASE + GDT;
    env->gdt.limit = sizeof(gdt) - 1;
    enable_paging(env);
    tb_flush(tcg_cpu(env));
    start(env, MAIN);
    CHECK_EQ(env->exception_index, EXCP_PF);
    CHECK_EQ(env->hflags & HF_CPL_MASK, 3);
    CHECK_EQ(env->rip, RAM_BASE + after);
    CHECK_EQ(env->regs[R_ECX], 1);
    test_cpu_free(env);
}

TEST(ras_return_at_other_cpl_interp) { return_at_other_cpl(true); }
TEST(ras_return_at_other_cpl_x86_64) { return_at_other_cpl(false); }
TEST(ras_off_return_at_other_cpl_x86_64) { ras_off(return_at_other_cpl); }

/* Two address spaces that share the kernel's code page (global) and map
 * the page at NPAGE to different code. Switching CR3 makes the jump cache's
 * blocks of NPAGE stale (the CALL there must find the other space's code),
 * not those of the global page: their lookups stay inline. */
#define NPAGE 0x4000
#define CR3_A 0xf0000
#define CR3_B 0xf4000

static void address_space(uint32_t pml4, uint32_t n_phys)
{
    uint32_t pt = test_page_tables(pml4, 3);
    st64(ram + pt + 8 * (NPAGE >> 12), (RAM_BASE + n_phys) | 3);
    st64(ram + pt + 8 * (MAIN >> 12), (RAM_BASE + MAIN) | 0x103);   /* G */
}

static void cr3_switches(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    address_space(CR3_A, NPAGE);
    address_space(CR3_B, NPAGE + 0x1000);
    PUT(NPAGE, 0xb8, 1, 0, 0, 0, 0xc3);                         /* A: mov eax, 1; ret */
    PUT(NPAGE + 0x1000, 0xb8, 2, 0, 0, 0, 0xc3);                /* B: mov eax, 2; ret */
    uint32_t a = (uint32_t)(RAM_BASE + CR3_A), b = (uint32_t)(RAM_BASE + CR3_B);
    uint32_t n = (uint32_t)(RAM_BASE + NPAGE);
    PUT(MAIN, 0xb9, 50, 0, 0, 0,                                /* mov ecx, 50 */
        0xb8, 0, 0, 0, 0, 0x0f, 0x22, 0xd8,                     /* loop: mov eax, A; mov cr3, rax */
        0x48, 0xc7, 0xc0, 0, 0, 0, 0, 0xff, 0xd0,               /* mov rax, NPAGE; call rax */
        0x01, 0xc2,                                             /* add edx, eax */
        0xb8, 0, 0, 0, 0, 0x0f, 0x22, 0xd8,                     /* mov eax, B; mov cr3, rax */
        0x48, 0xc7, 0xc0, 0, 0, 0, 0, 0xff, 0xd0,               /* mov rax, NPAGE; call rax */
        0x01, 0xc2,                                             /* add edx, eax */
        0xff, 0xc9, 0x75, 0xd6, 0xf4);                          /* dec ecx; jnz loop; hlt */
    memcpy(ram + MAIN + 6, &a, 4);
    memcpy(ram + MAIN + 0x19, &b, 4);
    memcpy(ram + MAIN + 0x10, &n, 4);
    memcpy(ram + MAIN + 0x23, &n, 4);
    env->cr[4] |= CR4_PGE;
    test_paging_on(env, RAM_BASE + CR3_A);
    TCGCPU *t = tcg_cpu(env);
    tb_flush(t);
    t->stat_lookup_slow = 0;
    start(env, MAIN);
    CHECK_EQ(env->exception_index, -1);
    CHECK(env->halted);
    CHECK_EQ(env->regs[R_EDX], 50 * (1 + 2));
    CHECK_EQ(env->regs[R_ECX], 0);
    /* the CALLs after each switch look up in C; the blocks after the
     * switches would too if the global page's entries went stale */
    if (!interp)
        CHECK(t->stat_lookup_slow < 150);
    test_cpu_free(env);
}

TEST(jc_cr3_switches_interp) { cr3_switches(true); }
TEST(jc_cr3_switches_x86_64) { cr3_switches(false); }

/* Code on a global page calls code on a non-global one and back: each
 * jump's target has the other epoch than the inline probe expects (its own
 * page's), which the runtime's probe finds without the C lookup. */
static void probe_other_epoch(bool interp)
{
    CPUX86State *env = new_cpu(interp);
    address_space(CR3_A, NPAGE);
    PUT(NPAGE, 0xb8, 1, 0, 0, 0, 0xc3);                         /* mov eax, 1; ret */
    uint32_t n = (uint32_t)(RAM_BASE + NPAGE);
    PUT(MAIN, 0xb9, 100, 0, 0, 0,                               /* mov ecx, 100 */
        0x48, 0xc7, 0xc0, 0, 0, 0, 0, 0xff, 0xd0,               /* loop: mov rax, NPAGE; call rax */
        0x01, 0xc2,                                             /* add edx, eax */
        0xff, 0xc9, 0x75, 0xf1, 0xf4);                          /* dec ecx; jnz loop; hlt */
    memcpy(ram + MAIN + 8, &n, 4);
    env->cr[4] |= CR4_PGE;
    test_paging_on(env, RAM_BASE + CR3_A);
    run_loop_few_lookups(env, interp, RAM_BASE + MAIN + 21);
    CHECK_EQ(env->regs[R_EDX], 100);
    test_cpu_free(env);
}

TEST(jc_probe_other_epoch_interp) { probe_other_epoch(true); }
TEST(jc_probe_other_epoch_x86_64) { probe_other_epoch(false); }
TEST(ras_off_jc_probe_other_epoch_x86_64) { ras_off(probe_other_epoch); }
