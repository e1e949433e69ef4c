/* Virtual-8086 mode extensions (CR4.VME) and protected-mode virtual
 * interrupts (CR4.PVI) with IOPL 0: CLI/STI/PUSHF/POPF act on VIF, STI with
 * VIP set is #GP, INT n goes to the 8086 program's own IVT when its bit in
 * the TSS interrupt redirection bitmap is clear and to the monitor (#GP)
 * when set; at CPL 3 CLI/STI change VIF instead of faulting. */
#include "runtime.h"

#define V86_BASE  0x5000
#define V86_SEG   (V86_BASE >> 4)
#define SEL_VTSS  (FREE_SEL + 0x00)
#define CR4_VME   (1u << 0)
#define CR4_PVI   (1u << 1)
#define EFL_VIF   (1u << 19)
#define EFL_VIP   (1u << 20)
#define STR_(x) #x
#define STR(x) STR_(x)

void vme_blob(void);
extern char vme_blob_end[], vme_results[];

/* Results (words): 0 FLAGS after CLI, 1 after STI, 2 set by the redirected
 * INT 0x40 handler, 3 FLAGS inside it, 4 FLAGS after its IRET, 5 FLAGS after
 * POPF of an image with IF clear, 6 after the faulting STI. */
#define R(n) "(vme_results - vme_blob + 2 * " #n ")"
asm(".code16\n"
    ".globl vme_blob, vme_blob_end, vme_results\n"
    "vme_blob:\n\t"
    "mov $" STR(V86_SEG) ", %ax\n\tmov %ax, %ds\n\t"
    "cli\n\tpushf\n\tpop %ax\n\tmov %ax, " R(0) "\n\t"
    "sti\n\tpushf\n\tpop %ax\n\tmov %ax, " R(1) "\n\t"
    "int $0x40\n\t"
    "pushf\n\tpop %ax\n\tmov %ax, " R(4) "\n\t"
    "push $0\n\tpopf\n\tpushf\n\tpop %ax\n\tmov %ax, " R(5) "\n\t"
    "int $0x41\n\t"                 /* bit set: the monitor, which sets VIP */
    "sti\n\t"                       /* VIP: #GP, the monitor clears VIP */
    "pushf\n\tpop %ax\n\tmov %ax, " R(6) "\n\t"
    "int $" STR(USER_EXIT_VECTOR) "\n"
    "vme_int40:\n\t"
    "movw $0x4040, " R(2) "\n\t"
    "pushf\n\tpop %ax\n\tmov %ax, " R(3) "\n\t"
    "iret\n"
    ".align 2\n"
    "vme_results: .space 16\n"
    "vme_blob_end:\n"
    ".code32\n");
void vme_int40(void);

static struct {
    struct tss32 t;
    uint8_t redirect[32];           /* the interrupt redirection bitmap */
} __attribute__((packed, aligned(128))) vtss;

static volatile int int41_seen, sti_faults, other_gp;

static uint8_t v86_byte(struct frame *f, uint32_t off)
{
    return *(volatile uint8_t *)((f->cs << 4) + ((f->eip + off) & 0xffff));
}

static void monitor_gp(struct frame *f)
{
    if (!(f->eflags & 0x20000)) {
        other_gp++;
        f->eip = fault_recover;       /* a CPL 3 fault (PVI off): resume after it */
        fault_vector = EXCP_GP;
        return;
    }
    uint8_t op = v86_byte(f, 0);
    if (op == 0xcd && v86_byte(f, 1) == USER_EXIT_VECTOR) {
        f->eip = (uint32_t)user_exit;
        f->cs = KERNEL_CS;
        f->eflags = 2;
    } else if (op == 0xcd && v86_byte(f, 1) == 0x41) {
        int41_seen++;
        f->eflags |= EFL_VIP;         /* a virtual interrupt is now pending */
        f->eip += 2;
    } else if (op == 0xfb) {
        sti_faults++;
        f->eflags &= ~EFL_VIP;
        f->eip += 1;
    } else {
        printf("unexpected #GP in V86 mode at %04x:%04x (%02x)\n", f->cs, f->eip, op);
        test_abort();
    }
}

static const uint16_t *results(void)
{
    return (const uint16_t *)(V86_BASE + (vme_results - (char *)vme_blob));
}

static void test_vme(void)
{
    memcpy((void *)V86_BASE, (void *)vme_blob, vme_blob_end - (char *)vme_blob);
    uint16_t *ivt;
    asm("" : "=r"(ivt) : "0"(0));     /* the real-mode IVT at linear 0 */
    ivt[0x40 * 2] = (uint16_t)((char *)vme_int40 - (char *)vme_blob);
    ivt[0x40 * 2 + 1] = V86_SEG;

    vtss.t = tss;
    uint16_t end = sizeof(struct tss32) + sizeof(vtss.redirect);
    vtss.t.iomap_base = end;               /* no I/O bitmap; the redirection bitmap just below */
    memset(vtss.redirect, 0, sizeof(vtss.redirect));
    vtss.redirect[0x41 / 8] |= 1u << (0x41 & 7);
    vtss.redirect[USER_EXIT_VECTOR / 8] |= 1u << (USER_EXIT_VECTOR & 7);
    gdt_set(SEL_VTSS, make_desc((uint32_t)&vtss, end - 1u, ACC_TSS32, 0));
    ltr(SEL_VTSS);
    write_cr4(read_cr4() | CR4_VME);
    set_handler(EXCP_GP, monitor_gp);
    run_vm86((uint32_t)V86_SEG << 16, (uint32_t)V86_SEG << 16 | 0xff0, 0);
    write_cr4(read_cr4() & ~CR4_VME);
    tss_reload();
    idt_reload();

    const uint16_t *r = results();
    TEST_EQ("CLI: PUSHF shows IF = VIF = 0", r[0] & IF_FLAG, 0);
    TEST_EQ("PUSHF shows IOPL 3", r[0] & 0x3000, 0x3000);
    TEST_EQ("STI: PUSHF shows IF = VIF = 1", r[1] & IF_FLAG, IF_FLAG);
    TEST_EQ("INT 0x40 (bit clear) runs the 8086 handler", r[2], 0x4040);
    TEST_EQ("the redirected INT clears VIF", r[3] & IF_FLAG, 0);
    TEST_EQ("its IRET restores VIF", r[4] & IF_FLAG, IF_FLAG);
    TEST_EQ("POPF with IF clear clears VIF", r[5] & IF_FLAG, 0);
    TEST_EQ("INT 0x41 (bit set) goes to the monitor", int41_seen, 1);
    TEST_EQ("STI with VIP set faults", sti_faults, 1);
    TEST_EQ("after the monitor: VIF still clear", r[6] & IF_FLAG, 0);
}

static volatile uint32_t pvi_flags[3];

static void pvi_user(void)
{
    uint32_t f;
    asm volatile("sti\n\tpushf\n\tpop %0" : "=r"(f));
    pvi_flags[0] = f;
    asm volatile("cli\n\tpushf\n\tpop %0" : "=r"(f));
    pvi_flags[1] = f;
}

static void pvi_user_faults(void)
{
    pvi_flags[2] = (uint32_t)TRY("cli");
}

static void test_pvi(void)
{
    set_handler(EXCP_GP, monitor_gp);
    write_cr4(read_cr4() | CR4_PVI);
    run_user(pvi_user);
    write_cr4(read_cr4() & ~CR4_PVI);
    other_gp = 0;
    run_user(pvi_user_faults);
    set_handler(EXCP_GP, NULL);
    TEST_EQ("PVI: STI at CPL 3 sets VIF", pvi_flags[0] & EFL_VIF, EFL_VIF);
    TEST_EQ("PVI: ... and leaves IF clear", pvi_flags[0] & IF_FLAG, 0);
    TEST_EQ("PVI: CLI at CPL 3 clears VIF", pvi_flags[1] & EFL_VIF, 0);
    TEST_EQ("without PVI: CLI at CPL 3 is #GP", other_gp, 1);
}

void test_main(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    TEST_TRUE("CPUID advertises VME (and PVI)", r[3] & (1u << 1));
    if (!(r[3] & (1u << 1)))
        return;
    test_vme();
    test_pvi();
}
