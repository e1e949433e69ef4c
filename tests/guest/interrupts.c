/* Interrupts and privilege changes: interrupt vs trap gates (IF), gate DPL
 * and presence checks, CPL 3 entered by IRET and left by INT 0x80 with the
 * TSS stack switch, system calls, privileged instructions at CPL 3, IRET
 * checks, #TS from a task return, and #DF. */
#include "runtime.h"

#define VEC_INTGATE   0x40
#define VEC_TRAPGATE  0x41
#define VEC_NOTPRES   0x42
#define VEC_DPL0      0x43
#define VEC_SYSCALL   0x80

static volatile uint32_t seen_eflags, seen_frame_eflags, seen_cs, seen_ss, seen_esp, seen_frame_top;
static volatile int hits;

static void record(struct frame *f)
{
    hits++;
    seen_eflags = read_eflags();
    seen_frame_eflags = f->eflags;
    seen_cs = f->cs;
    seen_ss = (f->cs & 3) ? f->ss : 0;
    seen_esp = (f->cs & 3) ? f->esp : 0;
    seen_frame_top = (uint32_t)&f->v86_es;
}

/* System call: EAX = number, EBX/ECX arguments, result in EAX. */
static void syscall_handler(struct frame *f)
{
    record(f);
    switch (f->eax) {
    case 1: f->eax = f->ebx + f->ecx; break;
    case 2: f->eax = f->ebx * f->ecx; break;
    default: f->eax = (uint32_t)-1; break;
    }
}

static void gate(unsigned vec, unsigned type, unsigned dpl, bool present)
{
    idt_set_default(vec, dpl, type);
    if (!present) {
        extern char isr_stubs[];
        idt_set(vec, make_gate(KERNEL_CS, (uint32_t)(isr_stubs + 16 * vec), type, dpl, 0) &
                         ~(1ull << 47));
    }
}

static void test_gates(void)
{
    set_handler(VEC_INTGATE, record);
    set_handler(VEC_TRAPGATE, record);
    gate(VEC_INTGATE, 0xe, 0, true);
    gate(VEC_TRAPGATE, 0xf, 0, true);
    gate(VEC_NOTPRES, 0xe, 0, false);

    asm volatile("sti; int %0; cli" :: "i"(VEC_INTGATE) : "memory");
    TEST_EQ("interrupt gate: handler ran", hits, 1);
    TEST_EQ("interrupt gate clears IF", seen_eflags & IF_FLAG, 0);
    TEST_EQ("interrupt gate: saved EFLAGS has IF", seen_frame_eflags & IF_FLAG, IF_FLAG);
    asm volatile("sti; int %0; cli" :: "i"(VEC_TRAPGATE) : "memory");
    TEST_EQ("trap gate keeps IF", seen_eflags & IF_FLAG, IF_FLAG);
    TEST_EQ("same-privilege interrupt: CS", seen_cs, KERNEL_CS);

    int v = TRY("int %0", :: "i"(VEC_NOTPRES));
    TEST_EQ("not-present gate: #NP", v, EXCP_NP);
    TEST_EQ("not-present gate: error code (IDT bit)", fault_error, VEC_NOTPRES * 8 + 2);
}

/* ---- CPL 3 ---- */

static volatile int u_result[8];
static volatile uint32_t u_error[8];
static volatile uint32_t u_sum, u_product, u_cpl;

static void user_body(void)
{
    uint32_t cs;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    u_cpl = cs & 3;
    uint32_t r;
    asm volatile("int $0x80" : "=a"(r) : "a"(1), "b"(40), "c"(2) : "memory");
    u_sum = r;
    asm volatile("int $0x80" : "=a"(r) : "a"(2), "b"(6), "c"(7) : "memory");
    u_product = r;
    u_result[0] = TRY("int %0", :: "i"(VEC_DPL0));
    u_error[0] = fault_error;
    u_result[1] = TRY("hlt");
    u_error[1] = fault_error;
    u_result[2] = TRY("cli");
    u_result[3] = TRY("outb %%al, $0x80", ::: "eax");
    u_result[4] = TRY("mov %%cr0, %%eax", ::: "eax");
    u_result[5] = TRY("ud2");
    u_result[6] = TRY("lidt (%%esp)", ::: "memory");
}

static void test_user(void)
{
    set_handler(VEC_SYSCALL, syscall_handler);
    gate(VEC_SYSCALL, 0xe, 3, true);
    gate(VEC_DPL0, 0xe, 0, true);
    hits = 0;
    run_user(user_body);
    TEST_EQ("IRET to CPL 3", u_cpl, 3);
    TEST_EQ("INT 0x80 system call 1", u_sum, 42);
    TEST_EQ("INT 0x80 system call 2", u_product, 42);
    TEST_EQ("system call: CS from CPL 3", seen_cs, USER_CS | 3);
    TEST_EQ("system call: SS saved", seen_ss, USER_DS | 3);
    TEST_TRUE("system call: user ESP saved", seen_esp > (uint32_t)user_stack_top - 8192 &&
              seen_esp <= (uint32_t)user_stack_top);
    TEST_EQ("system call: stack switched to TSS.ESP0", seen_frame_top, tss.esp0);
    TEST_EQ("INT to a DPL 0 gate from CPL 3: #GP", u_result[0], EXCP_GP);
    TEST_EQ("INT to a DPL 0 gate from CPL 3: error code", u_error[0], VEC_DPL0 * 8 + 2);
    TEST_EQ("HLT at CPL 3: #GP", u_result[1], EXCP_GP);
    TEST_EQ("HLT at CPL 3: error code", u_error[1], 0);
    TEST_EQ("CLI at CPL 3 with IOPL 0: #GP", u_result[2], EXCP_GP);
    TEST_EQ("OUT at CPL 3 with IOPL 0: #GP", u_result[3], EXCP_GP);
    TEST_EQ("MOV from CR0 at CPL 3: #GP", u_result[4], EXCP_GP);
    TEST_EQ("UD2 at CPL 3: #UD", u_result[5], EXCP_UD);
    TEST_EQ("LIDT at CPL 3: #GP", u_result[6], EXCP_GP);
}

/* IRET to CPL 3 with a DPL 0 code segment: #GP(selector). */
static void test_iret_checks(void)
{
    /* The pushed frame stays on the stack after the fault: dropped at 1:. */
    fault_vector = -1;
    asm volatile("movl $1f, fault_recover\n\t"
                 "pushl %0\n\tpushl $0\n\tpushf\n\tpushl %1\n\tpushl $0\n\tiret\n"
                 "1:\n\tadd $20, %%esp\n\tmovl $0, fault_recover"
                 :: "i"(USER_DS | 3), "i"(KERNEL_CS | 3) : "memory");
    int v = fault_vector;
    TEST_EQ("IRET to a DPL 0 code segment with RPL 3: #GP", v, EXCP_GP);
    TEST_EQ("IRET to a DPL 0 code segment with RPL 3: error code", fault_error, KERNEL_CS);
}

/* IRET with NT set returns to the task in the TSS back link: a back link
 * that is not a busy TSS raises #TS(back link). */
static void test_task_return(void)
{
    tss.link = KERNEL_DS;
    int v = TRY("pushf\n\torl $0x4000, (%%esp)\n\tpopf\n\tiret", ::: "memory");
    asm volatile("pushf\n\tandl $~0x4000, (%%esp)\n\tpopf" ::: "memory");
    tss.link = 0;
    TEST_EQ("IRET with NT to a non-TSS back link: #TS", v, EXCP_TS);
    TEST_EQ("IRET with NT: error code is the back link", fault_error, KERNEL_DS);
}

/* A contributory fault while delivering another one: #DF. */
static void test_double_fault(void)
{
    gate(EXCP_NP, 0xe, 0, false);
    int v = TRY("int %0", :: "i"(VEC_NOTPRES));
    gate(EXCP_NP, 0xe, 0, true);
    TEST_EQ("#NP while delivering #NP: #DF", v, EXCP_DF);
    TEST_EQ("#DF error code", fault_error, 0);
}

void test_main(void)
{
    test_gates();
    test_user();
    test_iret_checks();
    test_task_return();
    test_double_fault();
}
