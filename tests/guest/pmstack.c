/* Protected-mode stack limits of the instructions and events that push or
 * pop several slots at once (SDM vol 2 PUSHA/POPA/ENTER/INT n pseudo-code,
 * vol 3 6.15):
 *   - PUSHA/PUSHAD/POPAD/ENTER at CPL 3 on an expand-down or expand-up SS:
 *     #SS(0) when any slot (or ENTER's new ESP, or an old frame pointer it
 *     copies) is outside the limit, ESP and EBP unchanged. Kestrel checks
 *     every slot before the first write (the SDM: "starting or ending stack
 *     address"); the memory below ESP is not asserted: run natively in a
 *     32-bit process on LDT stacks, this machine's AMD CPU stores the slots
 *     that fit before its #SS (and ENTER its EBP); no Intel CPU was at
 *     hand to compare;
 *   - a ring-0 interrupt on the current stack (same privilege): the frame
 *     lands at SS.base + ESP - 12 on a based SS; without room for it the
 *     event is #SS (error code EXT) before anything is written, and an #SS
 *     that has no room either becomes #DF;
 *   - INT n from virtual-8086 mode with a bad ring-0 stack in the TSS:
 *     #TS(EXT) for a null SS0, #TS(SS0 selector) for a wrong RPL/DPL/type,
 *     #SS(SS0 selector) when not present or without room for the 36-byte
 *     frame.
 * Faults that cannot use the broken stack go to task gates. QEMU 7.2's TCG
 * checks none of these limits (far less the order); software KVM cannot
 * run task switches or IRET: the expectations come from the SDM. */
#include "runtime.h"

#define SEL_DOWN3  (FREE_SEL + 0x00)   /* DPL 3 expand-down 32-bit, base 0, limit LIM_DOWN */
#define SEL_UP3    (FREE_SEL + 0x08)   /* DPL 3 expand-up, base 0, limit LIM_UP */
#define SEL_BASED0 (FREE_SEL + 0x10)   /* DPL 0 expand-up, base ring0_stack, limit 0xfff */
#define SEL_DOWN0  (FREE_SEL + 0x18)   /* DPL 0 expand-down 32-bit, base 0, limit LIM_DOWN */
#define SEL_RO0    (FREE_SEL + 0x20)   /* DPL 0 read-only data */
#define SEL_NP0    (FREE_SEL + 0x28)   /* DPL 0 writable data, not present */
#define SEL_TASK   (FREE_SEL + 0x30)   /* the fault-handling task */

#define ACC_EXPAND_DOWN 0x04
#define ACC_WRITABLE    0x02

static uint8_t area[0x3000] __attribute__((aligned(4096)));
static uint8_t ring0_stack[0x1000] __attribute__((aligned(4096)));
/* Page-granular limits (the area is above 1 MiB): */
#define LIM_DOWN ((uint32_t)area + 0xfff)   /* expand-down: offsets above are valid */
#define LIM_UP   ((uint32_t)area + 0x1fff)  /* expand-up: offsets up to here are valid */
#define G_LIMIT(l) ((l) >> 12)

static void fill_area(void) { memset(area, 0xa5, sizeof(area)); }

/* Bytes [from, from + n) of the area untouched since fill_area. */
static bool untouched(uint32_t from, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (((volatile uint8_t *)from)[i] != 0xa5)
            return false;
    return true;
}

/* ---- PUSHA/POPA/ENTER at CPL 3 ---- */

/* Inputs and outputs of on_stack (globals: the instruction may change every
 * register, and memory operands must not depend on ESP). */
volatile uint32_t in_ss, in_esp, in_ebp, saved_esp, saved_ebp, out_esp, out_ebp, out_eax;

/* Run insn with SS:ESP = in_ss:in_esp, EBP = in_ebp, EAX = 0x5a5a5a5a; the
 * fault (if any) resumes at 9; the registers then are recorded. */
#define ON_STACK(insn)                                                       \
    ({                                                                       \
        fault_vector = -1;                                                   \
        asm volatile("mov %%esp, saved_esp\n\t"                              \
                     "mov %%ebp, saved_ebp\n\t"                              \
                     "movl $9f, fault_recover\n\t"                           \
                     "mov in_ss, %%eax\n\t"                                  \
                     "mov %%ax, %%ss\n\t"                                    \
                     "mov in_esp, %%esp\n\t"                                 \
                     "mov in_ebp, %%ebp\n\t"                                 \
                     "mov $0x5a5a5a5a, %%eax\n\t"                            \
                     insn "\n"                                               \
                     "9: mov %%esp, out_esp\n\t"                             \
                     "mov %%ebp, out_ebp\n\t"                                \
                     "mov %%eax, out_eax\n\t"                                \
                     "mov $" STR(USER_DS | 3) ", %%eax\n\t"                  \
                     "mov %%ax, %%ss\n\t"                                    \
                     "mov saved_esp, %%esp\n\t"                              \
                     "mov saved_ebp, %%ebp\n\t"                              \
                     "movl $0, fault_recover"                                \
                     ::: "eax", "ebx", "ecx", "edx", "esi", "edi", "memory"); \
        fault_vector;                                                        \
    })
#define STR_(x) #x
#define STR(x) STR_(x)

/* One case at CPL 3: the instruction, SS (DPL 3), ESP, EBP. */
static volatile int which, u_vec;
static volatile uint32_t u_err;

static void set_stack(uint32_t ss, uint32_t esp, uint32_t ebp)
{
    in_ss = ss | 3;
    in_esp = esp;
    in_ebp = ebp;
}

static void user_case(void)
{
    int v = -1;
    switch (which) {
    case 0: v = ON_STACK("pushal"); break;
    case 1: v = ON_STACK("pushaw"); break;
    case 2: v = ON_STACK("popal"); break;
    case 3: v = ON_STACK("enter $16, $0"); break;
    case 4: v = ON_STACK("enter $0, $3"); break;
    case 5: v = ON_STACK("enter $0, $2"); break;
    case 6: v = ON_STACK("enter $8, $2"); break;
    }
    u_vec = v;
    u_err = fault_error;
}

enum { PUSHAD, PUSHAW, POPAD, ENTER_16_0, ENTER_0_3, ENTER_0_2, ENTER_8_2 };

static void run_case(int insn, uint32_t ss, uint32_t esp, uint32_t ebp)
{
    fill_area();
    set_stack(ss, esp, ebp);
    which = insn;
    u_vec = -2;
    run_user(user_case);
}

static bool ss0_fault(void) { return u_vec == EXCP_SS && u_err == 0; }

static void test_multi_push(void)
{
    gdt_set(SEL_DOWN3, make_desc(0, G_LIMIT(LIM_DOWN), ACC_DATA | ACC_DPL(3) | ACC_EXPAND_DOWN, FL_DB | FL_G));
    gdt_set(SEL_UP3, make_desc(0, G_LIMIT(LIM_UP), ACC_DATA | ACC_DPL(3), FL_DB | FL_G));

    /* room for 5 of the 8 dwords below an expand-down limit */
    run_case(PUSHAD, SEL_DOWN3, LIM_DOWN + 1 + 20, 0);
    TEST_TRUE("PUSHAD past an expand-down limit: #SS(0)", ss0_fault());
    TEST_TRUE("PUSHAD #SS: ESP kept", out_esp == LIM_DOWN + 1 + 20);
    /* ESP 4 above an expand-up limit: the first slot is outside */
    run_case(PUSHAD, SEL_UP3, LIM_UP + 1 + 4, 0);
    TEST_TRUE("PUSHAD above an expand-up limit: #SS(0), ESP kept", ss0_fault() && out_esp == LIM_UP + 5);
    run_case(PUSHAW, SEL_DOWN3, LIM_DOWN + 1 + 10, 0);
    TEST_TRUE("PUSHA (16-bit) past an expand-down limit: #SS(0), ESP kept",
              ss0_fault() && out_esp == LIM_DOWN + 1 + 10);
    /* 6 of the 8 dwords inside an expand-up limit */
    run_case(POPAD, SEL_UP3, LIM_UP + 1 - 24, 0);
    TEST_TRUE("POPAD past an expand-up limit: #SS(0)", ss0_fault());
    TEST_TRUE("POPAD #SS: ESP and EAX kept", out_esp == LIM_UP + 1 - 24 && out_eax == 0x5a5a5a5a);
    run_case(PUSHAD, SEL_DOWN3, LIM_DOWN + 1 + 32, 0);
    TEST_TRUE("PUSHAD with exactly room: no fault", u_vec == -1 && out_esp == LIM_DOWN + 1);
    TEST_EQ("PUSHAD with exactly room: EAX on top", *(volatile uint32_t *)(LIM_DOWN + 1 + 28), 0x5a5a5a5a);

    /* EBP fits, the new ESP (16 lower) does not */
    run_case(ENTER_16_0, SEL_DOWN3, LIM_DOWN + 1 + 4, 0x11111111);
    TEST_TRUE("ENTER 16,0 with the new ESP past the limit: #SS(0)", ss0_fault());
    TEST_TRUE("ENTER #SS: ESP, EBP kept", out_esp == LIM_DOWN + 5 && out_ebp == 0x11111111);
    /* EBP and one copied frame pointer fit, the third slot does not */
    run_case(ENTER_0_3, SEL_DOWN3, LIM_DOWN + 1 + 8, LIM_DOWN + 0x80);
    TEST_TRUE("ENTER 0,3 past the limit: #SS(0), ESP kept", ss0_fault() && out_esp == LIM_DOWN + 1 + 8);
    /* the old frame pointer it copies (at EBP - 4) straddles the limit */
    run_case(ENTER_0_2, SEL_UP3, LIM_UP - 0x40, LIM_UP + 3);
    TEST_TRUE("ENTER 0,2 copying a frame pointer across the limit: #SS(0)",
              ss0_fault() && out_esp == LIM_UP - 0x40);
    /* everything inside */
    fill_area();
    *(volatile uint32_t *)(LIM_DOWN + 0x200 - 4) = 0xfeedf00d;
    set_stack(SEL_DOWN3, LIM_DOWN + 0x100, LIM_DOWN + 0x200);
    which = ENTER_8_2;
    run_user(user_case);
    TEST_TRUE("ENTER 8,2 inside the limit: no fault, ESP - 20, EBP",
              u_vec == -1 && out_esp == LIM_DOWN + 0x100 - 20 && out_ebp == LIM_DOWN + 0x100 - 4);
    TEST_EQ("ENTER 8,2: the copied frame pointer", *(volatile uint32_t *)(LIM_DOWN + 0x100 - 8), 0xfeedf00d);
}

/* ---- the fault-handling task: a task gate for #SS, #TS or #DF ---- */

static struct tss32 task_tss __attribute__((aligned(128)));
static uint8_t task_stack[2048] __attribute__((aligned(16)));
volatile uint32_t task_hits, task_error, task_fix_eip, task_fix_esp, task_fix_ss0, task_fix_esp0;
void task_entry(void);

/* Runs as its own task: takes the error code, repairs the interrupted task
 * (the runtime's TSS): either its ring-0 stack (task_fix_ss0 != 0) or its
 * SS:ESP and EIP (task_fix_eip != 0), then IRET back to it. */
asm(".text\n"
    "task_entry:\n\t"
    "popl task_error\n\t"
    "incl task_hits\n\t"
    "call task_repair\n\t"
    "iret\n\t"
    "jmp task_entry\n");

void task_repair(void);
void task_repair(void)
{
    if (task_fix_ss0) {
        tss.ss0 = (uint16_t)task_fix_ss0;
        tss.esp0 = task_fix_esp0;
    }
    if (task_fix_eip) {
        tss.eip = task_fix_eip;
        tss.esp = task_fix_esp;
        tss.ss = KERNEL_DS;
    }
}

static void prepare_task(void)
{
    memset(&task_tss, 0, sizeof(task_tss));
    task_tss.eip = (uint32_t)task_entry;
    task_tss.esp = (uint32_t)(task_stack + sizeof(task_stack));
    task_tss.eflags = 2;
    task_tss.cs = KERNEL_CS;
    task_tss.ds = task_tss.es = task_tss.fs = task_tss.gs = task_tss.ss = KERNEL_DS;
    task_tss.cr3 = read_cr3();
    task_tss.iomap_base = sizeof(task_tss);
    gdt_set(SEL_TASK, make_desc((uint32_t)&task_tss, sizeof(task_tss) - 1, ACC_TSS32, 0));
    task_hits = task_error = task_fix_eip = task_fix_esp = task_fix_ss0 = task_fix_esp0 = 0;
}

static void clts(void) { asm volatile("clts"); }

/* ---- a ring-0 interrupt on the current, non-flat stack ---- */

volatile uint32_t h_esp, h_eip, h_cs, h_eflags;
void int40_stub(void);
extern char int40_return[];
asm(".text\n"
    "int40_stub:\n\t"                 /* SS-relative: the frame as pushed */
    "mov %esp, h_esp\n\t"
    "push %eax\n\t"
    "mov 4(%esp), %eax\n\tmov %eax, h_eip\n\t"
    "mov 8(%esp), %eax\n\tmov %eax, h_cs\n\t"
    "mov 12(%esp), %eax\n\tmov %eax, h_eflags\n\t"
    "pop %eax\n\t"
    "iret\n");

/* INT 0x40 (or ud2) with SS:ESP = in_ss:in_esp at CPL 0; after a task
 * repaired us we continue at 9 with the saved ESP. */
#define RING0_ON_STACK(insn, label)                                          \
    asm volatile("mov %%esp, saved_esp\n\t"                                  \
                 "mov %%esp, task_fix_esp\n\t"                               \
                 "movl $9f, task_fix_eip\n\t"                                \
                 "mov in_ss, %%eax\n\t"                                      \
                 "mov %%ax, %%ss\n\t"                                        \
                 "mov in_esp, %%esp\n\t"                                     \
                 insn "\n" label                                             \
                 "9: mov $" STR(KERNEL_DS) ", %%eax\n\t"                     \
                 "mov %%ax, %%ss\n\t"                                        \
                 "mov saved_esp, %%esp"                                      \
                 ::: "eax", "memory")

/* INT 0x40 (or UD2) at CPL 0 with 8 bytes of room on the expand-down SS. */
static void no_room_ring0(bool ud)
{
    prepare_task();
    fill_area();
    in_ss = SEL_DOWN0;
    in_esp = LIM_DOWN + 1 + 8;
    if (ud)
        RING0_ON_STACK("ud2", "");
    else
        RING0_ON_STACK("int $0x40", "");
    clts();
}

static void test_same_privilege(void)
{
    gdt_set(SEL_BASED0, make_desc((uint32_t)ring0_stack, 0xfff, ACC_DATA, FL_DB));
    gdt_set(SEL_DOWN0, make_desc(0, G_LIMIT(LIM_DOWN), ACC_DATA | ACC_EXPAND_DOWN, FL_DB | FL_G));
    idt_set(0x40, make_gate(KERNEL_CS, (uint32_t)int40_stub, 0xe, 0, 0));

    /* room: the frame lands at base + ESP - 12 */
    in_ss = SEL_BASED0;
    in_esp = 0x100;
    RING0_ON_STACK("int $0x40", ".globl int40_return\nint40_return:\n");
    TEST_EQ("ring-0 INT on a based SS: handler's ESP", h_esp, 0x100 - 12);
    TEST_EQ("frame EIP (read through SS)", h_eip, (uint32_t)int40_return);
    TEST_EQ("frame CS", h_cs, KERNEL_CS);
    TEST_EQ("frame at base + ESP - 12 (linear)", *(volatile uint32_t *)(ring0_stack + 0x100 - 12),
            (uint32_t)int40_return);

    /* no room for the frame (8 of 12 bytes), #SS to a task gate: #SS(0)
     * for INT n (EXT 0), #SS(1) for an exception (#UD) */
    idt_set(EXCP_SS, make_gate(SEL_TASK, 0, 0x5, 0, 0));
    no_room_ring0(false);
    TEST_TRUE("ring-0 INT without room on an expand-down SS: #SS(0)", task_hits == 1 && task_error == 0);
    TEST_TRUE("... nothing of the frame written", untouched(LIM_DOWN + 1, 8));
    no_room_ring0(true);
    TEST_TRUE("ring-0 #UD without room: #SS(EXT = 1)", task_hits == 1 && task_error == 1);
    TEST_TRUE("... nothing written", untouched(LIM_DOWN + 1, 8));

    /* #SS through an interrupt gate has no room either: #DF (task gate) */
    idt_set_default(EXCP_SS, 0, 0xe);
    idt_set(EXCP_DF, make_gate(SEL_TASK, 0, 0x5, 0, 0));
    no_room_ring0(false);
    TEST_TRUE("ring-0 INT, no room for the frame nor for #SS: #DF(0)", task_hits == 1 && task_error == 0);
    TEST_TRUE("... nothing written", untouched(LIM_DOWN + 1, 8));
    idt_set_default(EXCP_DF, 0, 0xe);
    idt_set_default(0x40, 0, 0xe);
}

/* ---- INT n from virtual-8086 mode with a bad ring-0 stack in the TSS ---- */

#define V86_BASE 0x6000
#define V86_SEG  (V86_BASE >> 4)
static const uint8_t v86_int81[] = { 0xcd, USER_EXIT_VECTOR };   /* INT 0x81 */

/* Enter V86 at INT 0x81 (IOPL 3: through the IDT to ring 0) with the TSS's
 * SS0:ESP0 = ss0:esp0. The bad stack sends INT 0x81 to the task gate of
 * vec, which puts the good stack back and returns; INT 0x81 then leaves. */
static void v86_bad_stack(int vec, uint16_t ss0, uint32_t esp0)
{
    prepare_task();
    task_fix_ss0 = KERNEL_DS;
    task_fix_esp0 = (uint32_t)kernel_stack_end;
    idt_set(vec, make_gate(SEL_TASK, 0, 0x5, 0, 0));
    memcpy((void *)V86_BASE, v86_int81, sizeof(v86_int81));
    tss.ss0 = ss0;
    tss.esp0 = esp0;
    run_vm86((uint32_t)V86_SEG << 16, (uint32_t)V86_SEG << 16 | 0x800, 3u << 12);
    idt_reload();
    clts();
    tss.ss0 = KERNEL_DS;
    tss.esp0 = (uint32_t)kernel_stack_end;
    idt_set_default(vec, 0, 0xe);
}

static void test_v86_inner_stack(void)
{
    gdt_set(SEL_RO0, make_desc(0, 0xfffff, ACC_DATA & ~ACC_WRITABLE, FL_DB | FL_G));
    gdt_set(SEL_NP0, make_desc(0, 0xfffff, ACC_DATA & ~0x80, FL_DB | FL_G));
    uint32_t esp0 = (uint32_t)kernel_stack_end;

    v86_bad_stack(EXCP_TS, 0, esp0);
    TEST_TRUE("V86 INT n, null SS0: #TS(0)", task_hits == 1 && task_error == 0);
    v86_bad_stack(EXCP_TS, KERNEL_DS | 1, esp0);
    TEST_TRUE("V86 INT n, SS0 RPL 1: #TS(SS0)", task_hits == 1 && task_error == KERNEL_DS);
    v86_bad_stack(EXCP_TS, USER_DS, esp0);
    TEST_TRUE("V86 INT n, SS0 with DPL 3: #TS(SS0)", task_hits == 1 && task_error == USER_DS);
    v86_bad_stack(EXCP_TS, SEL_RO0, esp0);
    TEST_TRUE("V86 INT n, read-only SS0: #TS(SS0)", task_hits == 1 && task_error == SEL_RO0);
    v86_bad_stack(EXCP_SS, SEL_NP0, esp0);
    TEST_TRUE("V86 INT n, SS0 not present: #SS(SS0)", task_hits == 1 && task_error == SEL_NP0);
    fill_area();
    v86_bad_stack(EXCP_SS, SEL_DOWN0, LIM_DOWN + 1 + 32);
    TEST_TRUE("V86 INT n, 32 of the 36 bytes of room: #SS(SS0)", task_hits == 1 && task_error == SEL_DOWN0);
    TEST_TRUE("... nothing written", untouched(LIM_DOWN + 1, 32));
}

void test_main(void)
{
    test_multi_push();
    test_same_privilege();
    test_v86_inner_stack();
}
