/* A tour of the processor modes, as an OS boot would take it: start in
 * 32-bit protected mode (multiboot), drop to real mode and come back
 * (lib/realmode.S), SYSENTER/SYSEXIT between CPL 3 and CPL 0, then long mode
 * with 4-level paging: a page fault fixed by its handler, CPL 3 with SYSCALL
 * and INT 0x80, and back to 32-bit protected mode (lib/longmode.S). */
#include "runtime.h"

uint16_t *realmode_results(void);
void realmode_run(void);
void longmode_run(uint64_t *pml4);
void idt64_init(void);
extern uint64_t lm_results[16], lm_pf_pte, lm_pf_slot, lm_pf_va, lm_pf_error, lm_pf_cr2;
extern uint32_t lm_pf_count, lm_unexpected;
extern uint8_t tss64[], tss64_stack_top[];

static void test_real_mode(void)
{
    realmode_run();
    idt_reload();
    const uint16_t *r = realmode_results();
    TEST_EQ("back in protected mode", read_cr0() & 1, 1);
    TEST_EQ("real mode: CR0.PE clear", r[0], 0);
    TEST_EQ("real mode: segment * 16 + offset", r[1], 0x1234);
    TEST_EQ("real mode: INT through the IVT", r[2], 1);
    TEST_EQ("real mode: IF clear in the handler", r[3], 0);
    TEST_EQ("real mode: far jump loads CS", r[4], 0x5f0);
    TEST_EQ("real mode: 32-bit operands and addresses", r[5] | (uint32_t)r[6] << 16, 0x12345678);
    TEST_EQ("real mode: PUSH SP pushes the old SP", r[7], 0);
}

/* ---- SYSENTER / SYSEXIT (32-bit) ---- */

static volatile uint32_t se_cpl, se_result, se_user_cpl_after;

/* CPL 0 entry: EAX tripled, back to EDX/ECX with SYSEXIT. */
asm(".text\n"
    "sysenter_entry:\n\t"
    "mov %cs, %ebx\n\t"
    "and $3, %ebx\n\t"
    "mov %ebx, se_cpl\n\t"
    "lea (%eax, %eax, 2), %eax\n\t"
    "sysexit\n");
extern char sysenter_entry[];

static void user_sysenter(void)
{
    uint32_t r;
    asm volatile("mov %%esp, %%ecx\n\tmov $1f, %%edx\n\tsysenter\n1:"
                 : "=a"(r) : "a"(14) : "ebx", "ecx", "edx", "memory");
    se_result = r;
    uint32_t cs;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    se_user_cpl_after = cs & 3;
}

static void test_sysenter(void)
{
    static uint8_t sysenter_stack[1024] __attribute__((aligned(16)));
    wrmsr(0x174, KERNEL_CS);
    wrmsr(0x175, (uint32_t)(sysenter_stack + sizeof(sysenter_stack)));
    wrmsr(0x176, (uint32_t)sysenter_entry);
    run_user(user_sysenter);
    TEST_EQ("SYSENTER reaches CPL 0", se_cpl, 0);
    TEST_EQ("SYSENTER/SYSEXIT result", se_result, 42);
    TEST_EQ("SYSEXIT returns to CPL 3", se_user_cpl_after, 3);
}

/* ---- long mode ---- */

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_win[512] __attribute__((aligned(4096)));
static uint64_t pt_win[512] __attribute__((aligned(4096)));
static uint64_t fault_page[512] __attribute__((aligned(4096)));

#define P 1
#define W 2
#define U 4
#define PS 0x80

static void test_long_mode(void)
{
    for (int i = 0; i < 8; i++)
        pd_low[i] = ((uint64_t)i << 21) | PS | U | W | P;   /* 16 MiB identity */
    pdpt[0] = (uint32_t)pd_low | U | W | P;
    pdpt[1] = (uint32_t)pd_win | U | W | P;                   /* 1 GiB: the window */
    pd_win[0] = (uint32_t)pt_win | U | W | P;
    pt_win[5] = 0;                                            /* faults first */
    pml4[0] = (uint32_t)pdpt | U | W | P;
    fault_page[3] = 0xfeedfacecafebeefull;
    lm_pf_pte = (uint32_t)fault_page | W | P;
    lm_pf_slot = (uint32_t)&pt_win[5];
    lm_pf_va = 0x40000000 + 5 * 4096 + 3 * 8;

    idt64_init();
    gdt_set(TSS64_SEL, make_desc((uint32_t)tss64, 103, ACC_TSS32, 0));
    gdt_set(TSS64_SEL + 8, 0);
    longmode_run(pml4);
    idt_reload();
    tss_reload();

    TEST_EQ("long mode: no unexpected exception", lm_unexpected, 0);
    TEST_EQ("long mode: EFER.LMA set", lm_results[0] & (1u << 10), 1u << 10);
    TEST_EQ("long mode: 64-bit multiply and add", lm_results[1],
            0x23456789abcdef00ull + 0x1ull);
    TEST_EQ("long mode: the faulting load restarted", lm_results[2], 0xfeedfacecafebeefull);
    TEST_EQ("long mode: one page fault", lm_pf_count, 1);
    TEST_EQ("long mode: #PF error code", lm_pf_error, 0);
    TEST_EQ("long mode: CR2", lm_pf_cr2, lm_pf_va);
    TEST_EQ("long mode: IRETQ to CPL 3", lm_results[3], 3);
    TEST_EQ("long mode: SYSCALL/SYSRET result", lm_results[4], 42);
    /* PF from the AND that computed the CPL just before. */
    TEST_EQ("long mode: SYSCALL saved RFLAGS in R11", lm_results[5] & 0x3ff, 0x6);
    TEST_EQ("long mode: INT 0x80 from CPL 3", lm_results[6], 0x0000222244446666ull);
    TEST_EQ("long mode: SYSCALL entered KERNEL_CS64", lm_results[7], KERNEL_CS64);
    TEST_EQ("long mode: INT 0x80 used TSS.RSP0", lm_results[8], (uint32_t)tss64_stack_top - 40);
    TEST_EQ("back in 32-bit protected mode, paging off", read_cr0() & 0x80000001, 1);
    TEST_EQ("EFER.LME and LMA clear", rdmsr(0xc0000080) & 0x500, 0);
}

void test_main(void)
{
    test_real_mode();
    test_sysenter();
    test_long_mode();
    printf("mode tour complete\n");
}
