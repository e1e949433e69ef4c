/* Call gates: a far CALL through a gate at the same privilege, and from
 * CPL 3 to CPL 0 with the TSS stack switch and parameter copy, RETF with
 * an immediate back to CPL 3; gate DPL and presence checks; conforming
 * code keeps the caller's CPL. */
#include "runtime.h"

#define GATE_SEL      (FREE_SEL + 0x00)    /* DPL 3, 2 parameters */
#define GATE_DPL0     (FREE_SEL + 0x08)
#define GATE_NOTPRES  (FREE_SEL + 0x10)
#define CONFORMING    (FREE_SEL + 0x18)    /* conforming code, DPL 0 */

volatile uint32_t cg_cs, cg_p0, cg_p1, cg_old_esp, cg_old_ss, cg_esp, cg_calls;

/* Gate target: record what the CPU put on the stack; RETF pops the two
 * parameters from both stacks. */
asm(".text\n"
    ".globl gate_target\n"
    "gate_target:\n\t"
    "incl cg_calls\n\t"
    "mov %cs, %eax\n\tmov %eax, cg_cs\n\t"
    "mov %esp, cg_esp\n\t"
    "mov 8(%esp), %eax\n\tmov %eax, cg_p0\n\t"
    "mov 12(%esp), %eax\n\tmov %eax, cg_p1\n\t"
    "mov 16(%esp), %eax\n\tmov %eax, cg_old_esp\n\t"
    "mov 20(%esp), %eax\n\tmov %eax, cg_old_ss\n\t"
    "lret $8\n"
    ".globl conforming_target\n"
    "conforming_target:\n\t"
    "mov %cs, %eax\n\t"
    "lret\n");
extern char gate_target[], conforming_target[];

static void call_gate(void)
{
    asm volatile("pushl $0x22\n\tpushl $0x11\n\tlcall %0, $0" :: "i"(GATE_SEL) : "eax", "memory");
}

static volatile int u_dpl0, u_notpres;
static volatile uint32_t u_err_dpl0, u_err_notpres, u_after_cs, u_esp_before, u_esp_after, u_conf_cs;

static void user_body(void)
{
    uint32_t before, after, cs;
    asm volatile("mov %%esp, %0" : "=r"(before));
    call_gate();
    asm volatile("mov %%esp, %0\n\tmov %%cs, %1" : "=r"(after), "=r"(cs));
    u_esp_before = before;
    u_esp_after = after;
    u_after_cs = cs;
    u_dpl0 = TRY("lcall %0, $0", :: "i"(GATE_DPL0) : "memory");
    u_err_dpl0 = fault_error;
    u_notpres = TRY("lcall %0, $0", :: "i"(GATE_NOTPRES) : "memory");
    u_err_notpres = fault_error;
    uint32_t c;
    asm volatile("lcall %1, $conforming_target" : "=a"(c) : "i"(CONFORMING) : "memory");
    u_conf_cs = c;
}

void test_main(void)
{
    gdt_set(GATE_SEL, make_gate(KERNEL_CS, (uint32_t)gate_target, 0xc, 3, 2));
    gdt_set(GATE_DPL0, make_gate(KERNEL_CS, (uint32_t)gate_target, 0xc, 0, 2));
    gdt_set(GATE_NOTPRES, make_gate(KERNEL_CS, (uint32_t)gate_target, 0xc, 3, 2) & ~(1ull << 47));
    gdt_set(CONFORMING, make_desc(0, 0xfffff, 0x9e, FL_G | FL_DB));

    uint32_t esp;
    asm volatile("mov %%esp, %0" : "=r"(esp));
    call_gate();
    TEST_EQ("CPL 0 call through a gate", cg_calls, 1);
    TEST_EQ("CPL 0 call: target CS", cg_cs, KERNEL_CS);
    TEST_EQ("CPL 0 call: no stack switch", cg_esp, esp - 16);
    TEST_EQ("CPL 0 call: first parameter", cg_p0, 0x11);

    run_user(user_body);
    TEST_EQ("CPL 3 call through a DPL 3 gate", cg_calls, 2);
    TEST_EQ("CPL 3 call: target runs at CPL 0", cg_cs, KERNEL_CS);
    TEST_EQ("CPL 3 call: stack switched to TSS.ESP0", cg_esp, tss.esp0 - 24);
    TEST_EQ("CPL 3 call: parameter 0 copied", cg_p0, 0x11);
    TEST_EQ("CPL 3 call: parameter 1 copied", cg_p1, 0x22);
    TEST_EQ("CPL 3 call: caller SS saved", cg_old_ss, USER_DS | 3);
    TEST_EQ("CPL 3 call: caller ESP saved (after its pushes)", cg_old_esp, u_esp_before - 8);
    TEST_EQ("RETF $8 back to CPL 3: CS", u_after_cs, USER_CS | 3);
    TEST_EQ("RETF $8 back to CPL 3: parameters popped", u_esp_after, u_esp_before);
    TEST_EQ("DPL 0 gate from CPL 3: #GP", u_dpl0, EXCP_GP);
    TEST_EQ("DPL 0 gate from CPL 3: error code", u_err_dpl0, GATE_DPL0);
    TEST_EQ("not-present gate: #NP", u_notpres, EXCP_NP);
    TEST_EQ("not-present gate: error code", u_err_notpres, GATE_NOTPRES);
    TEST_EQ("conforming code keeps CPL 3", u_conf_cs & 3, 3);
    TEST_EQ("conforming code: CS RPL is the CPL", u_conf_cs, CONFORMING | 3);
}
