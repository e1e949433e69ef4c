/* Stack accesses the CPU makes itself (far CALL, RETF, IRET): in protected
 * mode each one is checked against the SS limit (expand-up and expand-down),
 * #SS(0) on the current stack; in virtual-8086 mode they are CPL-3 accesses,
 * so a supervisor-only stack page is #PF with U=1 in the error code. */
#include "runtime.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define SEL_DOWN (FREE_SEL + 0x00)     /* DPL 3, expand-down, 32-bit, base 0 */
#define SEL_UP   (FREE_SEL + 0x08)     /* DPL 3, expand-up, 32-bit, base 0 */
#define STACK_LIMIT 0x00080000u        /* both segments' limit (byte granular) */

#define P 0x001
#define W 0x002
#define U 0x004
#define PS 0x080
#define PF_P 0x01
#define PF_W 0x02
#define PF_U 0x04

/* ---- protected mode, CPL 3 (faults are taken on the TSS stack) ---- */

static volatile int pm_call_vec, pm_ret_vec;
static volatile uint32_t pm_call_err;

/* ESP = limit + 5 on an expand-down stack: room for one dword of the 8-byte
 * far CALL frame only. */
static void user_far_call(void)
{
    fault_vector = -1;
    asm volatile("mov %%esp, %%edi\n\t"
                 "movl $9f, fault_recover\n\t"
                 "mov %[ss], %%ss\n\t"
                 "mov %[sp], %%esp\n\t"
                 "lcall %[cs], $1f\n\t"
                 "jmp 9f\n"
                 "1: lret\n"
                 "9: mov %[uds], %%ss\n\t"
                 "mov %%edi, %%esp\n\t"
                 "movl $0, fault_recover"
                 :: [ss] "r"(SEL_DOWN | 3), [sp] "r"(STACK_LIMIT + 5),
                    [cs] "i"(USER_CS | 3), [uds] "r"(USER_DS | 3)
                 : "edi", "memory");
    pm_call_vec = fault_vector;
    pm_call_err = fault_error;
}

/* ESP = limit - 3 on an expand-up stack: RETF's EIP fits, its CS does not.
 * The words there name this code, so a missing check returns normally. */
static void user_far_ret(void)
{
    fault_vector = -1;
    asm volatile("mov %%esp, %%edi\n\t"
                 "movl $9f, fault_recover\n\t"
                 "movl $9f, %c[lim] - 3\n\t"
                 "movl %[cs], %c[lim] + 1\n\t"
                 "mov %[ss], %%ss\n\t"
                 "mov %[sp], %%esp\n\t"
                 "lret\n"
                 "9: mov %[uds], %%ss\n\t"
                 "mov %%edi, %%esp\n\t"
                 "movl $0, fault_recover"
                 :: [ss] "r"(SEL_UP | 3), [sp] "r"(STACK_LIMIT - 3), [lim] "i"(STACK_LIMIT),
                    [cs] "i"(USER_CS | 3), [uds] "r"(USER_DS | 3)
                 : "edi", "memory");
    pm_ret_vec = fault_vector;
}

/* An inner stack from the TSS too small for the frame: #SS with the new SS
 * selector as error code. The #SS gate leads to CPL-3 code here, so that it
 * is taken on the current (user) stack and not on the broken ring-0 one. */
#define SEL_SMALL  (FREE_SEL + 0x10)   /* DPL 0, expand-up, limit small_stack + 0xfff */
#define SEL_CGATE  (FREE_SEL + 0x18)   /* call gate, DPL 3, to cgate_target */

static uint8_t small_stack[0x2000] __attribute__((aligned(4096)));
volatile uint32_t ss3_hit, ss3_error, ss3_resume;
void ss3_stub(void), cgate_target(void);

asm(".globl ss3_stub, cgate_target\n"
    "ss3_stub:\n\t"                    /* CPL 3: error code, EIP, CS, EFLAGS */
    "popl ss3_error\n\t"
    "movl $1, ss3_hit\n\t"
    "addl $12, %esp\n\t"
    "jmp *ss3_resume\n"
    "cgate_target:\n\t"                /* ring 0, reached only without the check */
    "lret\n");

static void int31_handler(struct frame *f) { (void)f; }

/* The way back to ring 0 (INT USER_EXIT_VECTOR) needs a good TSS stack:
 * without paging, CPL-3 code can put it back itself. */
static void restore_tss_stack(void)
{
    tss.ss0 = KERNEL_DS;
    tss.esp0 = (uint32_t)kernel_stack_end;
}

static void user_int_inner(void)
{
    asm volatile("movl $1f, ss3_resume\n\tint $0x31\n1:" ::: "memory");
    restore_tss_stack();
}

static void user_call_gate_inner(void)
{
    asm volatile("movl $1f, ss3_resume\n\tlcall %[gate], $0\n1:"
                 :: [gate] "i"(SEL_CGATE | 3) : "memory");
    restore_tss_stack();
}

static void run_inner(void (*fn)(void))
{
    ss3_hit = ss3_error = 0;
    tss.ss0 = SEL_SMALL;
    tss.esp0 = (uint32_t)small_stack + 0x1008;   /* above the limit */
    run_user(fn);
}

static void test_inner_stack(void)
{
    uint32_t limit = (uint32_t)small_stack + 0xfff;
    gdt_set(SEL_SMALL, make_desc(0, limit >> 12, ACC_DATA, FL_DB | FL_G));
    gdt_set(SEL_CGATE, make_gate(KERNEL_CS, (uint32_t)cgate_target, 0xc, 3, 0));
    idt_set(EXCP_SS, make_gate(USER_CS, (uint32_t)ss3_stub, 0xe, 0, 0));
    set_handler(0x31, int31_handler);
    idt_set_default(0x31, 3, 0xe);

    run_inner(user_int_inner);
    TEST_EQ("INT n to ring 0, TSS stack past its limit: #SS", ss3_hit, 1);
    TEST_EQ("INT n: #SS error code is the new SS selector", ss3_error, SEL_SMALL);
    run_inner(user_call_gate_inner);
    TEST_EQ("call gate to ring 0, TSS stack past its limit: #SS", ss3_hit, 1);
    TEST_EQ("call gate: #SS error code is the new SS selector", ss3_error, SEL_SMALL);

    idt_set_default(EXCP_SS, 0, 0xe);
    idt_set_default(0x31, 0, 0xe);
    set_handler(0x31, 0);
}

static void test_protected(void)
{
    gdt_set(SEL_DOWN, make_desc(0, STACK_LIMIT, ACC_DATA | ACC_DPL(3) | 4, FL_DB));
    gdt_set(SEL_UP, make_desc(0, STACK_LIMIT, ACC_DATA | ACC_DPL(3), FL_DB));
    run_user(user_far_call);
    TEST_EQ("CPL 3: far CALL past an expand-down SS limit is #SS", pm_call_vec, EXCP_SS);
    TEST_EQ("CPL 3: far CALL #SS error code 0", pm_call_err, 0);
    run_user(user_far_ret);
    TEST_EQ("CPL 3: RETF popping past the SS limit is #SS", pm_ret_vec, EXCP_SS);
}

/* ---- virtual-8086 mode with a supervisor-only stack page ---- */

#define V86_BASE  0x5000
#define V86_SEG   (V86_BASE >> 4)
#define V86_SS    0x700                /* stack page 0x7000: supervisor only */
#define V86_SP    0x100

void v86_stk_blob(void);
extern char v86_stk_end[], v86_stk_call[], v86_stk_ret[], v86_stk_iret[], v86_stk_done[];

asm(".code16\n"
    ".globl v86_stk_blob, v86_stk_end, v86_stk_call, v86_stk_ret, v86_stk_iret, v86_stk_done\n"
    "v86_stk_blob:\n"
    "v86_stk_call: lcall $" STR(V86_SEG) ", $(v86_stk_done - v86_stk_blob)\n"
    "v86_stk_ret: lret\n"
    "v86_stk_iret: iret\n"
    "v86_stk_done: int $0x81\n"
    "v86_stk_end:\n"
    ".code32\n");

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));
static volatile int pf_count;
static volatile uint32_t pf_error, pf_cr2;

/* Note the fault and leave VM86 through user_exit, like INT 0x81 would. */
static void pf_handler(struct frame *f)
{
    if (!(f->eflags & 0x20000)) {
        printf("#PF outside VM86 at %08x cr2 %08x\n", f->eip, read_cr2v());
        test_abort();
    }
    pf_count++;
    pf_error = f->error;
    pf_cr2 = read_cr2v();
    f->eip = (uint32_t)user_exit;
    f->cs = KERNEL_CS;
    f->eflags = 2;
}

static uint16_t blob_offset(const char *label)
{
    return (uint16_t)(label - (char *)v86_stk_blob);
}

/* Run one entry of the blob; the stack holds a return frame to "done", so
 * that a missing page check returns and exits normally. */
static void run_v86_entry(const char *entry)
{
    volatile uint16_t *stack = (volatile uint16_t *)((V86_SS << 4) + V86_SP);
    stack[0] = blob_offset(v86_stk_done);
    stack[1] = V86_SEG;
    stack[2] = 0x0002;
    pf_count = 0;
    pf_error = pf_cr2 = 0;
    run_vm86((uint32_t)V86_SEG << 16 | blob_offset(entry), (uint32_t)V86_SS << 16 | V86_SP, 3u << 12);
    idt_reload();
}

static void test_v86(void)
{
    memcpy((void *)V86_BASE, (void *)v86_stk_blob, v86_stk_end - (char *)v86_stk_blob);
    for (uint32_t i = 0; i < 1024; i++)
        pt[i] = (i << 12) | U | W | P;
    pt[(V86_SS << 4) >> 12] = (V86_SS << 4) | W | P;
    pd[0] = (uint32_t)pt | U | W | P;
    for (uint32_t i = 1; i < 4; i++)
        pd[i] = (i << 22) | PS | U | W | P;
    write_cr4(read_cr4() | (1u << 4));
    write_cr3((uint32_t)pd);
    write_cr0(read_cr0() | 0x80000000u);
    set_handler(EXCP_PF, pf_handler);

    uint32_t top = (V86_SS << 4) + V86_SP;
    run_v86_entry(v86_stk_call);
    TEST_EQ("V86: far CALL to a supervisor stack page is #PF", pf_count, 1);
    TEST_EQ("V86: far CALL error code P|W|U", pf_error, PF_P | PF_W | PF_U);
    TEST_EQ("V86: far CALL CR2", pf_cr2, top - 2);
    run_v86_entry(v86_stk_ret);
    TEST_EQ("V86: RETF from a supervisor stack page is #PF", pf_count, 1);
    TEST_EQ("V86: RETF error code P|U", pf_error, PF_P | PF_U);
    TEST_EQ("V86: RETF CR2", pf_cr2, top);
    run_v86_entry(v86_stk_iret);
    TEST_EQ("V86: IRET from a supervisor stack page is #PF", pf_count, 1);
    TEST_EQ("V86: IRET error code P|U", pf_error, PF_P | PF_U);

    set_handler(EXCP_PF, 0);
    write_cr0(read_cr0() & ~0x80000000u);
}

void test_main(void)
{
    test_protected();
    test_inner_stack();
    test_v86();
}
