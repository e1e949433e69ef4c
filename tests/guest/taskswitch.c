/* Hardware task switches: JMP and CALL to a TSS, IRET back through the
 * nested-task link, a task gate in the IDT; the busy bits, NT, the back
 * link, CR0.TS and the state saved in the outgoing TSS. */
#include "runtime.h"

#define TSSB_SEL (FREE_SEL + 0x00)

static struct tss32 tss_b __attribute__((aligned(128)));
static uint8_t stack_b[2048] __attribute__((aligned(16)));
volatile uint32_t b_runs, b_eflags, b_link, b_tr;

void task_b_jmp(void);
void task_b_iret(void);
asm(".text\n"
    "task_b_jmp:\n\t"
    "incl b_runs\n\t"
    "str %ax\n\tmovzwl %ax, %eax\n\tmov %eax, b_tr\n\t"
    "ljmp $0x50, $0\n\t"                 /* back to the first task (TSS_SEL) */
    "task_b_iret:\n\t"
    "incl b_runs\n\t"
    "pushf\n\tpop %eax\n\tmov %eax, b_eflags\n\t"
    "str %ax\n\tmovzwl %ax, %eax\n\tmov %eax, b_tr\n\t"
    "iret\n\t"                           /* NT set: return to the linked task */
    "jmp task_b_iret\n");

static void prepare_b(void (*entry)(void))
{
    memset(&tss_b, 0, sizeof(tss_b));
    tss_b.eip = (uint32_t)entry;
    tss_b.esp = (uint32_t)(stack_b + sizeof(stack_b));
    tss_b.eflags = 2;
    tss_b.cs = KERNEL_CS;
    tss_b.ds = tss_b.es = tss_b.fs = tss_b.gs = tss_b.ss = KERNEL_DS;
    tss_b.cr3 = read_cr3();
    tss_b.iomap_base = sizeof(tss_b);
    gdt_set(TSSB_SEL, make_desc((uint32_t)&tss_b, sizeof(tss_b) - 1, ACC_TSS32, 0));
}

static bool busy(unsigned sel) { return gdt[sel >> 3] & (2ull << 40); }

static void clts(void) { asm volatile("clts"); }

void test_main(void)
{
    TEST_TRUE("our TSS is busy", busy(TSS_SEL));

    prepare_b(task_b_jmp);
    clts();
    asm volatile("ljmp %0, $0" :: "i"(TSSB_SEL) : "memory");
    TEST_EQ("JMP to a TSS runs the task", b_runs, 1);
    TEST_EQ("TR in the new task", b_tr, TSSB_SEL);
    TEST_TRUE("JMP: the task we left is not busy", !busy(TSSB_SEL));
    TEST_TRUE("JMP back: our TSS busy again", busy(TSS_SEL));
    TEST_EQ("task switch sets CR0.TS", read_cr0() & 8, 8);
    TEST_EQ("JMP leaves no back link", tss_b.link, 0);
    TEST_TRUE("the outgoing state is saved in its TSS", tss_b.eip > (uint32_t)task_b_jmp &&
              tss_b.eip <= (uint32_t)task_b_iret);
    clts();

    prepare_b(task_b_iret);
    asm volatile("lcall %0, $0" :: "i"(TSSB_SEL) : "memory");
    TEST_EQ("CALL to a TSS runs the task", b_runs, 2);
    TEST_EQ("CALL: NT set in the called task", b_eflags & 0x4000, 0x4000);
    TEST_EQ("CALL: back link to the caller", tss_b.link, TSS_SEL);
    TEST_EQ("IRET returned: NT clear here", read_eflags() & 0x4000, 0);
    TEST_TRUE("IRET: the nested task is not busy", !busy(TSSB_SEL));
    clts();

    /* A task gate in the IDT. */
    prepare_b(task_b_iret);
    idt_set(0x50, make_gate(TSSB_SEL, 0, 0x5, 0, 0));
    asm volatile("int $0x50" ::: "memory");
    TEST_EQ("INT through a task gate runs the task", b_runs, 3);
    TEST_EQ("task gate: back link", tss_b.link, TSS_SEL);
    uint16_t tr;
    asm volatile("str %0" : "=r"(tr));
    TEST_EQ("TR back to our TSS", tr, TSS_SEL);
    clts();
}
