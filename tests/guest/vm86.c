/* Virtual-8086 mode: entered by IRET with EFLAGS.VM, real-mode addressing
 * under protected mode, INT n through the protected-mode IDT (IOPL 3) or
 * #GP (IOPL < 3), CLI/HLT/port I/O sensitivity, exceptions taken to the
 * protected-mode handlers with the VM86 segment registers saved. */
#include "runtime.h"

#define V86_BASE 0x5000
#define V86_SEG  (V86_BASE >> 4)
#define V86_STACK 0x4ff0

void v86_blob_start(void);
extern char v86_blob_end[], v86_results[];

asm(".code16\n"
    ".globl v86_blob_start, v86_blob_end, v86_results\n"
    "v86_blob_start:\n\t"
    "mov $" "0x500" ", %ax\n\t"
    "mov %ax, %ds\n\t"
    /* 0: segment arithmetic */
    "mov $0x4f0, %ax\n\tmov %ax, %es\n\tmovw $0xbeef, %es:0x20\n\t"
    "xor %ax, %ax\n\tmov %ax, %es\n\tmov %es:0x4f20, %ax\n\t"
    "mov %ax, v86_results - v86_blob_start + 0\n\t"
    /* 1: INT 0x31: with IOPL 3 through the IDT (handler sets AX) */
    "xor %ax, %ax\n\tint $0x31\n\tmov %ax, v86_results - v86_blob_start + 2\n\t"
    /* CLI: IOPL-sensitive; HLT and IN: always #GP here */
    "cli\n\thlt\n\tin $0x80, %al\n\t"
    /* 2: PUSHF shows IOPL */
    "pushf\n\tpop %ax\n\tmov %ax, v86_results - v86_blob_start + 4\n\t"
    /* 3: #DE in VM86 goes to the protected-mode handler */
    "xor %bl, %bl\n\tmov $1, %ax\n\tdiv %bl\n\t"
    "mov $0x600d, %ax\n\tmov %ax, v86_results - v86_blob_start + 6\n\t"
    "int $0x81\n"
    ".align 2\n"
    "v86_results: .space 8\n"
    "v86_blob_end:\n"
    ".code32\n");

static volatile int gp_count, de_count, int31_count;
static volatile uint32_t int31_vm, int31_ds_saved, int31_cs;
static volatile uint8_t gp_opcodes[8];

static uint8_t v86_byte(struct frame *f, uint32_t off)
{
    return *(volatile uint8_t *)((f->cs << 4) + ((f->eip + off) & 0xffff));
}

/* A minimal VM86 monitor: note the sensitive instruction and skip it;
 * INT 0x81 (leave) is honoured by sending the frame to user_exit. */
static void gp_handler(struct frame *f)
{
    if (!(f->eflags & 0x20000)) {
        printf("#GP outside VM86 at %08x\n", f->eip);
        test_abort();
    }
    uint8_t op = v86_byte(f, 0);
    if (gp_count < 8)
        gp_opcodes[gp_count] = op;
    gp_count++;
    if (op == 0xcd && v86_byte(f, 1) == USER_EXIT_VECTOR) {
        f->eip = (uint32_t)user_exit;
        f->cs = KERNEL_CS;
        f->eflags = 2;
        return;
    }
    f->eip += (op == 0xcd || op == 0xe4) ? 2 : 1;
}

static void de_handler(struct frame *f)
{
    de_count++;
    f->eip += 2;                    /* div %bl */
}

static void int31_handler(struct frame *f)
{
    int31_count++;
    int31_vm = f->eflags & 0x20000;
    int31_ds_saved = f->v86_ds;
    int31_cs = f->cs;
    f->eax = (f->eax & ~0xffffu) | 0x3131;
}

static const uint16_t *results(void)
{
    return (const uint16_t *)(V86_BASE + (v86_results - (char *)v86_blob_start));
}

static void run(uint32_t iopl)
{
    memcpy((void *)V86_BASE, (void *)v86_blob_start, v86_blob_end - (char *)v86_blob_start);
    gp_count = de_count = int31_count = 0;
    run_vm86((uint32_t)V86_SEG << 16, V86_STACK, iopl << 12);
    idt_reload();
}

void test_main(void)
{
    set_handler(EXCP_GP, gp_handler);
    set_handler(EXCP_DE, de_handler);
    set_handler(0x31, int31_handler);
    idt_set_default(0x31, 3, 0xe);

    run(3);
    const uint16_t *r = results();
    TEST_EQ("IOPL 3: segment arithmetic", r[0], 0xbeef);
    TEST_EQ("IOPL 3: INT 0x31 reaches the protected-mode handler", int31_count, 1);
    TEST_EQ("IOPL 3: the handler's AX comes back", r[1], 0x3131);
    TEST_EQ("IOPL 3: interrupt frame has EFLAGS.VM", int31_vm, 0x20000);
    TEST_EQ("IOPL 3: VM86 DS saved in the frame", int31_ds_saved, V86_SEG);
    TEST_EQ("IOPL 3: VM86 CS saved in the frame", int31_cs, V86_SEG);
    TEST_EQ("IOPL 3: #GP for HLT and IN only", gp_count, 2);
    TEST_EQ("IOPL 3: HLT faults", gp_opcodes[0], 0xf4);
    TEST_EQ("IOPL 3: IN without an I/O bitmap faults", gp_opcodes[1], 0xe4);
    TEST_EQ("IOPL 3: PUSHF shows IOPL 3", r[2] & 0x3000, 0x3000);
    TEST_EQ("IOPL 3: #DE handled in protected mode", de_count, 1);
    TEST_EQ("IOPL 3: execution continued after #DE", r[3], 0x600d);

    run(0);
    r = results();
    TEST_EQ("IOPL 0: INT 0x31 raises #GP instead", int31_count, 0);
    TEST_EQ("IOPL 0: AX unchanged", r[1], 0);
    TEST_EQ("IOPL 0: #GP for INT, CLI, HLT, IN, PUSHF, INT 0x81", gp_count, 6);
    TEST_EQ("IOPL 0: first #GP is INT", gp_opcodes[0], 0xcd);
    TEST_EQ("IOPL 0: CLI faults", gp_opcodes[1], 0xfa);
    TEST_EQ("IOPL 0: PUSHF faults too", gp_opcodes[4], 0x9c);
    set_handler(EXCP_GP, 0);
}
