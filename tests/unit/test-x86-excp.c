/* Interrupt and exception delivery: the stack frames in real, protected and
 * long mode, privilege changes, V86, IST, double and triple faults, IRET. */
#include "tests/unit/test-x86-fixture.h"

#define GDT 0x10000
#define IDT 0x11000
#define TSS 0x12000
enum { SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x18, SEL_DATA3 = 0x20,
       SEL_TSS = 0x28, SEL_CODE64 = 0x38 };

static int iopl_of(uint64_t fl) { return (int)((fl >> 12) & 3); }

static void idt_set(int vec, uint64_t gate) { w64(IDT + vec * 8, gate); }

static void idt64_set(int vec, uint16_t sel, uint64_t off, int type, int dpl, int ist)
{
    w64(IDT + vec * 16, make_gate(sel, (uint32_t)off, type, dpl) | ((uint64_t)ist << 32));
    w64(IDT + vec * 16 + 8, off >> 32);
}

TEST(real_mode_ivt)
{
    fixture();
    w32(0x21 * 4, 0x12345678);                /* CS 0x1234, IP 0x5678 */
    env.segs[R_SS].base = 0x20000;
    env.segs[R_SS].selector = 0x2000;
    env.regs[R_ESP] = 0x100;
    env.segs[R_CS].selector = 0x0700;
    env.segs[R_CS].base = 0x7000;
    x86_set_eflags(&env, IF_MASK | TF_MASK | CC_C, ~0u);
    EXPECT_OK(x86_int(&env, 0x21, 0x55, 0));
    CHECK_EQ(env.segs[R_CS].selector, 0x1234);
    CHECK_EQ(env.segs[R_CS].base, 0x12340);
    CHECK_EQ(env.rip, 0x5678);
    CHECK_EQ(env.regs[R_ESP], 0xfa);
    CHECK_EQ(r16(0x200fa), 0x55);
    CHECK_EQ(r16(0x200fc), 0x0700);
    CHECK_EQ(r16(0x200fe), IF_MASK | TF_MASK | CC_C | 2);
    CHECK(!(env.eflags & (IF_MASK | TF_MASK)));
    /* IRET restores everything */
    EXPECT_OK(x86_iret(&env, 0, 0, 0));
    CHECK_EQ(env.rip, 0x55);
    CHECK_EQ(env.segs[R_CS].selector, 0x0700);
    CHECK_EQ(env.regs[R_ESP], 0x100);
    CHECK_EQ(x86_get_eflags(&env), IF_MASK | TF_MASK | CC_C | 2);
}

static void prot32(void)
{
    fixture();
    w64(GDT + SEL_CODE0, make_desc(0, 0xffffffff, CODE_FLAGS(0) | DESC_B_MASK));
    w64(GDT + SEL_DATA0, make_desc(0, 0xffffffff, DATA_FLAGS(0) | DESC_B_MASK));
    w64(GDT + SEL_CODE3, make_desc(0, 0xffffffff, CODE_FLAGS(3) | DESC_B_MASK));
    w64(GDT + SEL_DATA3, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    w64(GDT + SEL_TSS, make_desc(TSS, 0x67, DESC_P_MASK | (9 << DESC_TYPE_SHIFT)));
    env.gdt.base = GDT;
    env.gdt.limit = 0x3f;
    env.idt.base = IDT;
    env.idt.limit = 0x7ff;
    w32(TSS + 4, 0x8000);
    w32(TSS + 8, SEL_DATA0);
    x86_set_cr0(&env, env.cr[0] | CR0_PE);
    load_cached(R_CS, SEL_CODE0, make_desc(0, 0xffffffff, CODE_FLAGS(0) | DESC_B_MASK));
    for (int s = R_ES; s <= R_GS; s++)
        if (s != R_CS)
            load_cached(s, SEL_DATA0, make_desc(0, 0xffffffff, DATA_FLAGS(0) | DESC_B_MASK));
    x86_update_hflags(&env);
    EXPECT_OK(x86_ltr(&env, SEL_TSS, 0));
}

static void ring3(void)
{
    load_cached(R_CS, SEL_CODE3 | 3, make_desc(0, 0xffffffff, CODE_FLAGS(3) | DESC_B_MASK));
    load_cached(R_SS, SEL_DATA3 | 3, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    for (int s = R_ES; s <= R_GS; s++)
        if (s != R_CS && s != R_SS)
            load_cached(s, SEL_DATA3 | 3, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    x86_update_hflags(&env);
}

TEST(protected_exception_from_ring3)
{
    prot32();
    idt_set(EXCP_GP, make_gate(SEL_CODE0, 0xc0001000, 14, 0));
    ring3();
    env.regs[R_ESP] = 0x7000;
    env.rip = 0x401000;
    x86_set_eflags(&env, IF_MASK, ~0u);
    env.exception_index = EXCP_GP;
    env.error_code = 0x18;
    x86_deliver_pending_exception(&env);
    CHECK_EQ(env.exception_index, -1);
    CHECK_EQ(env.hflags & HF_CPL_MASK, 0);
    CHECK_EQ(env.rip, 0xc0001000);
    CHECK_EQ(env.segs[R_SS].selector, SEL_DATA0);
    CHECK_EQ(env.regs[R_ESP], 0x8000 - 24);
    CHECK_EQ(r32(0x8000 - 4), SEL_DATA3 | 3);
    CHECK_EQ(r32(0x8000 - 8), 0x7000);
    CHECK_EQ(r32(0x8000 - 12), IF_MASK | RF_MASK | 2);   /* faults push RF=1 */
    CHECK_EQ(r32(0x8000 - 16), SEL_CODE3 | 3);
    CHECK_EQ(r32(0x8000 - 20), 0x401000);
    CHECK_EQ(r32(0x8000 - 24), 0x18);
    CHECK(!(env.eflags & IF_MASK));           /* interrupt gate */
    /* IRET (after popping the error code) back to ring 3 */
    env.regs[R_ESP] += 4;
    EXPECT_OK(x86_iret(&env, 1, 0, 0));
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    CHECK_EQ(env.rip, 0x401000);
    CHECK_EQ(env.regs[R_ESP], 0x7000);
    CHECK(env.eflags & IF_MASK);
}

TEST(soft_int_dpl_check)
{
    prot32();
    idt_set(0x80, make_gate(SEL_CODE0, 0x2000, 15, 0));
    ring3();
    EXPECT_EXC(x86_int(&env, 0x80, 0x1002, 0), EXCP_GP, 0x80 * 8 + 2);
    idt_set(0x80, make_gate(SEL_CODE0, 0x2000, 15, 3));
    env.regs[R_ESP] = 0x7000;
    x86_set_eflags(&env, IF_MASK, ~0u);
    EXPECT_OK(x86_int(&env, 0x80, 0x1002, 0));
    CHECK_EQ(env.rip, 0x2000);
    CHECK(env.eflags & IF_MASK);              /* trap gate keeps IF */
    CHECK_EQ(r32(0x8000 - 20), 0x1002);       /* pushed EIP is the next instruction */
    /* an exception ignores the gate DPL; a missing gate is #GP(vec*8+2+EXT) */
    ring3();
    EXPECT_EXC(x86_do_interrupt(&env, EXCP_UD, 0, 0, 0, env.rip), EXCP_GP, EXCP_UD * 8 + 3);
}

TEST(nested_fault_error_code_has_ext)
{
    prot32();
    EXPECT_EXC(x86_do_interrupt(&env, EXCP_UD, 0, 0, 0, env.rip), EXCP_GP, EXCP_UD * 8 + 2 + 1);
}

TEST(double_and_triple_fault)
{
    prot32();
    idt_set(EXCP_DF, make_gate(SEL_CODE0, 0x3000, 14, 0));
    env.regs[R_ESP] = 0x9000;
    /* #GP whose gate is not present -> #NP (contributory) -> #DF */
    idt_set(EXCP_GP, make_gate(SEL_CODE0, 0x2000, 14, 0) & ~((uint64_t)DESC_P_MASK << 32));
    EXPECT_EXC(x86_do_interrupt(&env, EXCP_GP, 0, 0, 1, env.rip), EXCP_NP, EXCP_GP * 8 + 2 + 1);
    x86_deliver_pending_exception(&env);
    CHECK_EQ(env.rip, 0x3000);
    CHECK_EQ(r32(0x9000 - 4 * 4), 0);         /* #DF error code 0 */
    CHECK_EQ(env.old_exception, -1);
    /* benign first: #UD gate missing -> #GP delivered normally */
    idt_set(EXCP_GP, make_gate(SEL_CODE0, 0x2000, 14, 0));
    env.regs[R_ESP] = 0x9000;
    EXPECT_EXC(x86_do_interrupt(&env, EXCP_UD, 0, 0, 0, env.rip), EXCP_GP, EXCP_UD * 8 + 3);
    x86_deliver_pending_exception(&env);
    CHECK_EQ(env.rip, 0x2000);
    /* fault while delivering #DF: triple fault */
    idt_set(EXCP_DF, 0);
    idt_set(EXCP_GP, 0);
    EXPECT_EXC(x86_do_interrupt(&env, EXCP_GP, 0, 0, 1, env.rip), EXCP_GP, -1);
    /* #GP during #GP -> #DF, whose gate is missing too */
    EXPECT_EXC(x86_deliver_pending_exception(&env), EXCP_GP, EXCP_DF * 8 + 3);
    env.halted = false;
    x86_deliver_pending_exception(&env);
    CHECK(env.halted);                        /* shutdown; machine reset requested */
}

TEST(v86_interrupt_frame)
{
    prot32();
    idt_set(0x0d, make_gate(SEL_CODE0, 0x5000, 14, 0));
    /* enter V86 mode: flags VM, segments real-style */
    x86_set_eflags(&env, VM_MASK | IF_MASK, ~0u);
    static const uint16_t sels[6] = { 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000 };
    for (int s = 0; s < 6; s++)
        x86_load_seg_real(&env, s, sels[s]);
    env.regs[R_ESP] = 0xfff0;
    env.rip = 0x100;
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    CHECK(env.hflags & HF_VM_MASK);
    env.exception_index = EXCP_GP;
    env.error_code = 0;
    x86_deliver_pending_exception(&env);
    CHECK(!(env.eflags & VM_MASK));
    CHECK_EQ(env.hflags & HF_CPL_MASK, 0);
    CHECK_EQ(env.rip, 0x5000);
    /* GS FS DS ES SS ESP EFLAGS CS EIP err */
    uint32_t top = 0x8000;
    CHECK_EQ(r32(top - 4), 0x6000);
    CHECK_EQ(r32(top - 8), 0x5000);
    CHECK_EQ(r32(top - 12), 0x4000);
    CHECK_EQ(r32(top - 16), 0x1000);
    CHECK_EQ(r32(top - 20), 0x3000);
    CHECK_EQ(r32(top - 24), 0xfff0);
    CHECK(r32(top - 28) & VM_MASK);
    CHECK_EQ(r32(top - 32), 0x2000);
    CHECK_EQ(r32(top - 36), 0x100);
    CHECK_EQ(env.segs[R_DS].selector, 0);
    /* IRETD from ring 0 with VM in the image returns to V86 */
    env.regs[R_ESP] = top - 36;
    EXPECT_OK(x86_iret(&env, 1, 0, 0));
    CHECK(env.eflags & VM_MASK);
    CHECK_EQ(env.segs[R_CS].base, 0x20000);
    CHECK_EQ(env.segs[R_GS].selector, 0x6000);
    CHECK_EQ(env.regs[R_ESP], 0xfff0);
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    /* INT n in V86 with IOPL < 3 is #GP(0) */
    EXPECT_EXC(x86_int(&env, 0x21, 0x102, 0), EXCP_GP, 0);
}

static void long_mode(void)
{
    prot32();
    w64(GDT + SEL_CODE64, make_desc(0, 0xfffff, CODE_FLAGS(0) | DESC_L_MASK));
    w64(GDT + 0x40, make_desc(0, 0xfffff, CODE_FLAGS(3) | DESC_L_MASK));
    /* 64-bit TSS: 16-byte descriptor */
    w64(GDT + SEL_TSS, make_desc(TSS, 0x67, DESC_P_MASK | (9 << DESC_TYPE_SHIFT)));
    w64(GDT + SEL_TSS + 8, 0);
    env.gdt.limit = 0x4f;
    env.idt.limit = 0xfff;
    /* identity-map the first 2 MiB */
    w64(0x1000, 0x2000 | 7);
    w64(0x2000, 0x3000 | 7);
    w64(0x3000, 0x0 | 7 | 0x80);
    env.cr[3] = 0x1000;
    x86_set_cr4(&env, CR4_PAE);
    x86_set_efer(&env, EFER_LME);
    x86_set_cr0(&env, env.cr[0] | CR0_PG);
    CHECK(env.efer & EFER_LMA);
    load_cached(R_CS, SEL_CODE64, make_desc(0, 0xfffff, CODE_FLAGS(0) | DESC_L_MASK));
    x86_update_hflags(&env);
    CHECK(env.hflags & HF_CS64_MASK);
    w64(TSS + 4, 0x80000);                    /* RSP0 */
    w64(TSS + 36 + 8, 0x90008);               /* IST2 (not 16-aligned on purpose) */
    env.tr.flags = (env.tr.flags & ~(15u << 8)) | (11u << 8);
    env.tr.base = TSS;
    env.tr.limit = 0x67;
}

TEST(long_mode_frames)
{
    long_mode();
    idt64_set(EXCP_PF, SEL_CODE64, 0xffffffff80001000ULL, 14, 0, 0);
    idt64_set(EXCP_NMI, SEL_CODE64, 0xffffffff80002000ULL, 14, 0, 2);
    /* from ring 3 (64-bit) */
    load_cached(R_CS, 0x40 | 3, make_desc(0, 0xfffff, CODE_FLAGS(3) | DESC_L_MASK));
    load_cached(R_SS, SEL_DATA3 | 3, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    x86_update_hflags(&env);
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    env.regs[R_ESP] = 0x7777;
    env.rip = 0x400123;
    env.exception_index = EXCP_PF;
    env.error_code = 6;
    x86_deliver_pending_exception(&env);
    CHECK_EQ(env.rip, 0xffffffff80001000ULL);
    CHECK_EQ(env.hflags & HF_CPL_MASK, 0);
    CHECK(env.hflags & HF_CS64_MASK);
    CHECK_EQ(env.segs[R_SS].selector, 0);
    CHECK_EQ(env.regs[R_ESP], 0x80000 - 48);
    CHECK_EQ(r64(0x80000 - 8), SEL_DATA3 | 3);
    CHECK_EQ(r64(0x80000 - 16), 0x7777);
    CHECK_EQ(r64(0x80000 - 32), 0x40 | 3);
    CHECK_EQ(r64(0x80000 - 40), 0x400123);
    CHECK_EQ(r64(0x80000 - 48), 6);
    /* NMI through IST2 in ring 0: stack aligned down to 16 */
    x86_cpu_interrupt(&env, CPU_INTERRUPT_NMI);
    CHECK(x86_cpu_exec_interrupt(&env));
    CHECK(env.nmi_masked);
    CHECK_EQ(env.rip, 0xffffffff80002000ULL);
    CHECK_EQ(env.regs[R_ESP], 0x90000 - 40);
    CHECK_EQ(r64(0x90000 - 16), 0x80000 - 48);
    /* IRETQ back, NMIs unblocked; 64-bit IRET pops SS:RSP even at the same CPL */
    EXPECT_OK(x86_iret(&env, 2, 0, 0));
    CHECK(!env.nmi_masked);
    CHECK_EQ(env.rip, 0xffffffff80001000ULL);
    CHECK_EQ(env.regs[R_ESP], 0x80000 - 48);
    /* IRETQ to ring 3: drop the error code first */
    env.regs[R_ESP] += 8;
    EXPECT_OK(x86_iret(&env, 2, 0, 0));
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    CHECK_EQ(env.rip, 0x400123);
    CHECK_EQ(env.regs[R_ESP], 0x7777);
}

TEST(external_interrupt_needs_if)
{
    long_mode();
    idt64_set(0x30, SEL_CODE64, 0x4000, 14, 0, 0);
    env.regs[R_ESP] = 0x50000;
    env.intack = NULL;
    x86_cpu_set_irq(&env, 1);
    CHECK(!x86_cpu_has_work(&env));           /* IF = 0 */
    CHECK(!x86_cpu_exec_interrupt(&env));
    x86_set_eflags(&env, IF_MASK, IF_MASK);
    CHECK(x86_cpu_has_work(&env));
    x86_cpu_set_irq(&env, 0);
    CHECK(!x86_cpu_has_work(&env));
}

TEST(syscall_sysret)
{
    long_mode();
    env.star = ((uint64_t)(0x18 | 3) << 48) | ((uint64_t)SEL_CODE64 << 32);
    env.lstar = 0xffffffff81000000ULL;
    env.fmask = IF_MASK | TF_MASK;
    EXPECT_EXC(x86_syscall(&env, 0x1002, 0), EXCP_UD, 0);
    x86_set_efer(&env, env.efer | EFER_SCE);
    load_cached(R_CS, 0x2b, make_desc(0, 0xfffff, CODE_FLAGS(3) | DESC_L_MASK));
    load_cached(R_SS, 0x23, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    x86_update_hflags(&env);
    x86_set_eflags(&env, IF_MASK | CC_Z, ~0u);
    EXPECT_OK(x86_syscall(&env, 0x1002, 0));
    CHECK_EQ(env.regs[R_ECX], 0x1002);
    CHECK_EQ(env.regs[R_R11], IF_MASK | CC_Z | 2);
    CHECK_EQ(env.rip, 0xffffffff81000000ULL);
    CHECK_EQ(env.segs[R_CS].selector, SEL_CODE64);
    CHECK_EQ(env.segs[R_SS].selector, SEL_CODE64 + 8);
    CHECK_EQ(env.hflags & HF_CPL_MASK, 0);
    CHECK(env.hflags & HF_CS64_MASK);
    CHECK(!(env.eflags & IF_MASK));
    EXPECT_OK(x86_sysret(&env, 2, 0));
    CHECK_EQ(env.segs[R_CS].selector, 0x2b);
    CHECK_EQ(env.segs[R_SS].selector, 0x23);
    CHECK_EQ(env.rip, 0x1002);
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    CHECK(env.eflags & IF_MASK);
    EXPECT_EXC(x86_sysret(&env, 2, 0), EXCP_GP, 0);
    EXPECT_EXC(x86_swapgs(&env, 0), EXCP_GP, 0);
}

TEST(sysenter_sysexit)
{
    prot32();
    EXPECT_EXC(x86_sysenter(&env, 0), EXCP_GP, 0);
    env.sysenter_cs = SEL_CODE0;
    env.sysenter_esp = 0x8800;
    env.sysenter_eip = 0xc0100000;
    ring3();
    EXPECT_OK(x86_sysenter(&env, 0));
    CHECK_EQ(env.hflags & HF_CPL_MASK, 0);
    CHECK_EQ(env.segs[R_SS].selector, SEL_CODE0 + 8);
    CHECK_EQ(env.rip, 0xc0100000);
    CHECK_EQ(env.regs[R_ESP], 0x8800);
    env.regs[R_ECX] = 0x7000;
    env.regs[R_EDX] = 0x401000;
    EXPECT_OK(x86_sysexit(&env, 1, 0));
    CHECK_EQ(env.segs[R_CS].selector, (SEL_CODE0 + 16) | 3);
    CHECK_EQ(env.segs[R_SS].selector, (SEL_CODE0 + 24) | 3);
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    CHECK_EQ(env.rip, 0x401000);
}

TEST(cr_writes)
{
    prot32();
    EXPECT_EXC(x86_write_cr(&env, 0, CR0_PG, 0), EXCP_GP, 0);            /* PG without PE */
    EXPECT_EXC(x86_write_cr(&env, 0, CR0_PE | CR0_NW, 0), EXCP_GP, 0);   /* NW without CD */
    EXPECT_EXC(x86_write_cr(&env, 4, 1u << 30, 0), EXCP_GP, 0);          /* reserved */
    EXPECT_EXC(x86_write_cr(&env, 4, CR4_PCIDE, 0), EXCP_GP, 0);         /* outside IA-32e mode */
    EXPECT_EXC(x86_write_cr(&env, 5, 0, 0), EXCP_UD, 0);
    EXPECT_EXC(x86_write_cr(&env, 8, 0x10, 0), EXCP_GP, 0);
    EXPECT_OK(x86_write_cr(&env, 8, 0xf, 0));
    CHECK_EQ(x86_read_cr(&env, 8, 0), 0xf);
    /* long mode activation needs PAE */
    CHECK_EQ(x86_msr_write(&env, 0xc0000080, EFER_LME), 0);
    w64(0x1000, 0x2000 | 7);
    env.cr[3] = 0x1000;
    EXPECT_EXC(x86_write_cr(&env, 0, CR0_PE | CR0_PG, 0), EXCP_GP, 0);
    EXPECT_OK(x86_write_cr(&env, 4, CR4_PAE, 0));
    EXPECT_OK(x86_write_cr(&env, 0, CR0_PE | CR0_PG, 0));
    CHECK(env.efer & EFER_LMA);
    CHECK_EQ(x86_msr_write(&env, 0xc0000080, 0), -1);     /* LME is locked while paging */
    EXPECT_EXC(x86_write_cr(&env, 4, 0, 0), EXCP_GP, 0);  /* PAE stays on in long mode */
    /* CR3 bit 63 is reserved without CR4.PCIDE */
    EXPECT_EXC(x86_write_cr(&env, 3, 0x1000 | 1ULL << 63, 0), EXCP_GP, 0);
    /* PCIDE is set only while CR3[11:0] (the PCID) is 0 */
    EXPECT_OK(x86_write_cr(&env, 3, 0x1005, 0));
    EXPECT_EXC(x86_write_cr(&env, 4, CR4_PAE | CR4_PCIDE, 0), EXCP_GP, 0);
    EXPECT_OK(x86_write_cr(&env, 3, 0x1000, 0));
    EXPECT_OK(x86_write_cr(&env, 4, CR4_PAE | CR4_PCIDE, 0));
    /* with PCIDE: CR3[11:0] is the PCID, bit 63 (no flush) is not stored */
    EXPECT_OK(x86_write_cr(&env, 3, 0x1abc | 1ULL << 63, 0));
    CHECK_EQ(x86_read_cr(&env, 3, 0), 0x1abc);
    EXPECT_EXC(x86_write_cr(&env, 3, 0x1000 | 1ULL << 62, 0), EXCP_GP, 0);   /* still reserved */
    EXPECT_OK(x86_write_cr(&env, 4, CR4_PAE | CR4_PCIDE, 0));   /* already set: no PCID check */
    EXPECT_EXC(x86_invpcid(&env, 0, 5, 1ULL << 63, 0), EXCP_GP, 0);   /* non-canonical */
    EXPECT_OK(x86_invpcid(&env, 0, 5, 0x1000, 0));
    EXPECT_OK(x86_invpcid(&env, 1, 5, 1ULL << 63, 0));          /* type 1: no address */
    /* leaving long mode needs PCIDE clear first */
    env.segs[R_CS].flags &= ~DESC_L_MASK;   /* compatibility mode */
    x86_update_hflags(&env);
    EXPECT_EXC(x86_write_cr(&env, 0, CR0_PE, 0), EXCP_GP, 0);
    EXPECT_OK(x86_write_cr(&env, 4, CR4_PAE, 0));               /* clearing PCIDE is allowed */
    EXPECT_OK(x86_write_cr(&env, 0, CR0_PE, 0));
    CHECK(!(env.efer & EFER_LMA));
    /* INVPCID operand checks (CPL and the type are the translator's helper's) */
    EXPECT_EXC(x86_invpcid(&env, 1, 1, 0, 0), EXCP_GP, 0);      /* PCID 1 without PCIDE */
    EXPECT_OK(x86_invpcid(&env, 1, 0, 0, 0));
    EXPECT_OK(x86_invpcid(&env, 2, 0, 0, 0));
    EXPECT_EXC(x86_invpcid(&env, 3, 0x1000, 0, 0), EXCP_GP, 0); /* PCID field bits 63:12 */
    EXPECT_EXC(x86_invpcid(&env, 4, 0, 0, 0), EXCP_GP, 0);
    /* LMSW cannot clear PE */
    EXPECT_OK(x86_lmsw(&env, 0, 0));
    CHECK(env.cr[0] & CR0_PE);
    ring3();
    EXPECT_EXC(x86_read_cr(&env, 0, 0), EXCP_GP, 0);
}

TEST(debug_registers)
{
    prot32();
    EXPECT_OK(x86_write_dr(&env, 7, 0x1 | (1u << 16), 0));   /* L0, write breakpoint */
    CHECK(x86_data_breakpoints_enabled(&env));
    CHECK(!x86_insn_breakpoints_enabled(&env));
    EXPECT_OK(x86_write_dr(&env, 0, 0x5000, 0));
    uint64_t v = 0;
    EXPECT_OK(v = x86_read_dr(&env, 5, 0));                  /* DR5 aliases DR7 without CR4.DE */
    CHECK_EQ(v, 0x401 | (1u << 16));
    x86_set_cr4(&env, CR4_DE);
    EXPECT_EXC(x86_read_dr(&env, 5, 0), EXCP_UD, 0);
    x86_debug_data_access(&env, 0x4fff, 2, true);
    env.rip = 0x100;
    EXPECT_EXC(x86_debug_insn_end(&env, 0x103, false), EXCP_DB, -1);
    CHECK_EQ(env.rip, 0x103);
    CHECK_EQ(env.dr[6] & 0x400f, 1);
    EXPECT_EXC(x86_debug_insn_end(&env, 0x105, true), EXCP_DB, -1);
    CHECK(env.dr[6] & (1u << 14));
    /* general detect */
    EXPECT_OK(x86_write_dr(&env, 7, 0x400 | (1u << 13), 0));
    EXPECT_EXC(x86_write_dr(&env, 0, 0, 0), EXCP_DB, -1);
    CHECK(env.dr[6] & (1u << 13));
    CHECK(!(env.dr[7] & (1u << 13)));
    /* instruction breakpoint, suppressed by RF */
    EXPECT_OK(x86_write_dr(&env, 1, 0x2000, 0));
    EXPECT_OK(x86_write_dr(&env, 7, 0x4, 0));
    CHECK(x86_insn_breakpoints_enabled(&env));
    env.rip = 0x2000;
    EXPECT_EXC(x86_check_insn_breakpoint(&env, 0), EXCP_DB, -1);
    CHECK_EQ(env.dr[6] & 0xf, 2);
    x86_set_eflags(&env, RF_MASK, RF_MASK);
    EXPECT_OK(x86_check_insn_breakpoint(&env, 0));
    CHECK(!(env.eflags & RF_MASK));                         /* one instruction only */
    EXPECT_EXC(x86_check_insn_breakpoint(&env, 0), EXCP_DB, -1);
}

TEST(compat_mode_round_trip)
{
    long_mode();
    idt64_set(0x80, SEL_CODE64, 0xffffffff80003000ULL, 14, 3, 0);
    /* 32-bit user code in long mode (compatibility mode) */
    load_cached(R_CS, SEL_CODE3 | 3, make_desc(0, 0xffffffff, CODE_FLAGS(3) | DESC_B_MASK));
    load_cached(R_SS, SEL_DATA3 | 3, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    x86_update_hflags(&env);
    CHECK(!(env.hflags & HF_CS64_MASK));
    CHECK(env.hflags & HF_CS32_MASK);
    env.regs[R_ESP] = 0xffffd000ULL;
    EXPECT_OK(x86_int(&env, 0x80, 0x8048002, 0));
    CHECK(env.hflags & HF_CS64_MASK);
    CHECK_EQ(r64(0x80000 - 40), 0x8048002);
    CHECK_EQ(r64(0x80000 - 16), 0xffffd000ULL);
    EXPECT_OK(x86_iret(&env, 2, 0, 0));
    CHECK(!(env.hflags & HF_CS64_MASK));
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    CHECK_EQ(env.rip, 0x8048002);
    CHECK_EQ(env.regs[R_ESP], 0xffffd000ULL);
    /* IRETQ to a 32-bit segment with a non-canonical-looking EIP is fine;
     * to 64-bit code a non-canonical RIP is #GP(0) */
    EXPECT_OK(x86_int(&env, 0x80, 0x8048004, 0));
    w64(env.regs[R_ESP], 0x0000900000000000ULL);
    w64(env.regs[R_ESP] + 8, 0x40 | 3);
    EXPECT_EXC(x86_iret(&env, 2, 0, 0), EXCP_GP, 0);
}

TEST(exception_through_task_gate_16bit_tss)
{
    prot32();
    /* a 16-bit TSS for the handler task */
    enum { SEL_TSS16 = 0x30, TSS16 = 0x13000 };
    w64(GDT + SEL_TSS16, make_desc(TSS16, 0x2b, DESC_P_MASK | (1 << DESC_TYPE_SHIFT)));
    env.gdt.limit = 0x3f;
    w16(TSS16 + 14, 0x4444);                  /* IP */
    w16(TSS16 + 16, 0x0002);                  /* FLAGS */
    w16(TSS16 + 26, 0x6000);                  /* SP */
    w16(TSS16 + 34, SEL_DATA0);               /* ES CS SS DS */
    w16(TSS16 + 36, SEL_CODE0);
    w16(TSS16 + 38, SEL_DATA0);
    w16(TSS16 + 40, SEL_DATA0);
    idt_set(EXCP_GP, make_gate(SEL_TSS16, 0, 5, 0));
    env.rip = 0x1234;
    env.regs[R_EAX] = 0xdeadbeef;
    env.exception_index = EXCP_GP;
    env.error_code = 0x50;
    x86_deliver_pending_exception(&env);
    CHECK_EQ(env.tr.selector, SEL_TSS16);
    CHECK_EQ(env.rip, 0x4444);
    CHECK(env.eflags & NT_MASK);
    CHECK_EQ(r16(TSS16), SEL_TSS);            /* back link */
    CHECK_EQ(r32(TSS + 32), 0x1234);          /* faulting EIP in the old 32-bit TSS */
    CHECK_EQ(r32(TSS + 40), 0xdeadbeef);
    CHECK_EQ(env.regs[R_ESP] & 0xffff, 0x6000 - 2);
    CHECK_EQ(r16(0x6000 - 2), 0x50);          /* error code, 16 bits */
    CHECK_EQ(env.regs[R_EAX], 0xdead0000);    /* 16-bit TSS loads only the low halves (AX = 0) */
}

TEST(init_and_sipi)
{
    fixture();
    x86_msr_write(&env, 0x1b, 0xfee00800);    /* an AP: BSP bit clear */
    env.cr[0] |= CR0_PE;
    x86_cpu_interrupt(&env, CPU_INTERRUPT_INIT);
    CHECK(x86_cpu_has_work(&env));
    CHECK(x86_cpu_exec_interrupt(&env));
    CHECK(env.wait_for_sipi);
    CHECK(env.halted);
    CHECK(!(env.cr[0] & CR0_PE));
    CHECK_EQ(env.apic_base, 0xfee00800);
    x86_set_eflags(&env, IF_MASK, IF_MASK);
    x86_cpu_set_irq(&env, 1);
    CHECK(!x86_cpu_has_work(&env));           /* only a SIPI wakes it */
    x86_cpu_set_irq(&env, 0);
    env.sipi_vector = 0x9a;
    x86_cpu_interrupt(&env, CPU_INTERRUPT_SIPI);
    CHECK(x86_cpu_exec_interrupt(&env));
    CHECK(!env.halted);
    CHECK_EQ(env.segs[R_CS].selector, 0x9a00);
    CHECK_EQ(env.segs[R_CS].base, 0x9a000);
    CHECK_EQ(env.rip, 0);
}

static int test_vector = -1;
static int fake_intack(CPUX86State *e)
{
    (void)e;
    return test_vector;
}

TEST(external_interrupt_delivery_and_shadow)
{
    fixture();
    w32(0x40 * 4, 0x00001000);                /* 0000:1000 */
    env.segs[R_SS].base = 0;
    env.regs[R_ESP] = 0x8000;
    env.intack = fake_intack;
    test_vector = 0x40;
    x86_set_eflags(&env, IF_MASK, IF_MASK);
    x86_cpu_set_irq(&env, 1);
    env.hflags |= HF_INHIBIT_IRQ_MASK;        /* STI / MOV SS shadow */
    CHECK(!x86_cpu_exec_interrupt(&env));
    env.hflags &= ~HF_INHIBIT_IRQ_MASK;
    env.rip = 0x55;
    CHECK(x86_cpu_exec_interrupt(&env));
    CHECK_EQ(env.rip, 0x1000);
    CHECK_EQ(r16(0x8000 - 6), 0x55);          /* the interrupted instruction */
    CHECK(!(env.eflags & IF_MASK));
    /* a spurious acknowledge delivers nothing */
    test_vector = -1;
    x86_set_eflags(&env, IF_MASK, IF_MASK);
    CHECK(!x86_cpu_exec_interrupt(&env));
    x86_cpu_set_irq(&env, 0);
}

TEST(protected_16bit_gate_and_iret)
{
    prot32();
    /* a 16-bit code segment and stack, as 286-era code uses */
    w64(GDT + 0x30, make_desc(0x20000, 0xffff, CODE_FLAGS(0)));
    w64(GDT + 0x38, make_desc(0x30000, 0xffff, DATA_FLAGS(0)));
    env.gdt.limit = 0x3f;
    idt_set(0x21, make_gate(0x30, 0x0100, 6, 0));          /* 16-bit interrupt gate */
    load_cached(R_CS, 0x30, make_desc(0x20000, 0xffff, CODE_FLAGS(0)));
    load_cached(R_SS, 0x38, make_desc(0x30000, 0xffff, DATA_FLAGS(0)));
    x86_update_hflags(&env);
    CHECK(!(env.hflags & (HF_CS32_MASK | HF_SS32_MASK)));
    env.regs[R_ESP] = 0xabcd0200;                          /* upper half must survive */
    x86_set_eflags(&env, IF_MASK | CC_C, ~0u);
    EXPECT_OK(x86_int(&env, 0x21, 0x0456, 0));
    CHECK_EQ(env.rip, 0x100);
    CHECK_EQ(env.regs[R_ESP], 0xabcd01fa);
    CHECK_EQ(r16(0x30000 + 0x1fa), 0x0456);
    CHECK_EQ(r16(0x30000 + 0x1fc), 0x30);
    CHECK_EQ(r16(0x30000 + 0x1fe), IF_MASK | CC_C | 2);
    CHECK(!(env.eflags & IF_MASK));
    EXPECT_OK(x86_iret(&env, 0, 0, 0));
    CHECK_EQ(env.rip, 0x456);
    CHECK_EQ(env.regs[R_ESP], 0xabcd0200);
    CHECK(env.eflags & IF_MASK);
    /* 16-bit far call and return within the segment */
    EXPECT_OK(x86_lcall(&env, 0x30, 0x2000, 0, 0x0460, 0));
    CHECK_EQ(env.regs[R_ESP], 0xabcd01fc);
    EXPECT_OK(x86_lret(&env, 0, 0, 0));
    CHECK_EQ(env.rip, 0x460);
    /* beyond the 16-bit limit */
    EXPECT_EXC(x86_ljmp(&env, 0x30, 0x10000, 0, 0), EXCP_GP, 0);
}

/* V86 with CR4.VME and IOPL 0: the virtual interrupt flag and INT redirection. */
TEST(vme_virtual_interrupt_flag_and_redirection)
{
    prot32();
    /* TSS with an I/O map base at 0x88: the redirection bitmap is 0x68..0x87 */
    w64(GDT + SEL_TSS, make_desc(TSS, 0x88 + 8192 / 8, DESC_P_MASK | (11 << DESC_TYPE_SHIFT)));
    env.tr.limit = 0x88 + 8192 / 8;
    w16(TSS + 102, 0x88);
    w8(TSS + 0x68 + 0x21 / 8, 1u << (0x21 & 7));   /* INT 21h goes to the monitor */
    idt_set(EXCP_GP, make_gate(SEL_CODE0, 0x5000, 14, 0));
    w32(0x10 * 4, 0xc0001234);                     /* IVT: INT 10h -> C000:1234 */
    x86_set_cr4(&env, CR4_VME);
    x86_set_eflags(&env, VM_MASK | IF_MASK, ~0u);  /* IOPL 0 */
    for (int s = 0; s < 6; s++)
        x86_load_seg_real(&env, s, 0x1000);
    env.regs[R_ESP] = 0x100;
    env.rip = 0x10;

    EXPECT_OK(x86_cli(&env, 0));
    CHECK(env.eflags & IF_MASK);                   /* real IF untouched */
    CHECK(!(env.eflags & VIF_MASK));
    uint64_t img = 0;
    EXPECT_OK(img = x86_pushf_op(&env, 0, 0));
    CHECK_EQ(img & (IF_MASK | IOPL_MASK), IOPL_MASK);  /* IF shows VIF (0), IOPL shows 3 */
    EXPECT_EXC(x86_pushf_op(&env, 1, 0), EXCP_GP, 0);  /* PUSHFD still faults */
    EXPECT_OK(x86_sti(&env, 0));
    CHECK(env.eflags & VIF_MASK);
    env.eflags |= VIP_MASK;
    EXPECT_EXC(x86_sti(&env, 0), EXCP_GP, 0);
    EXPECT_EXC(x86_popf(&env, IF_MASK, 0, 0), EXCP_GP, 0);   /* enabling with VIP pending */
    env.eflags &= ~(uint64_t)VIP_MASK;
    EXPECT_OK(x86_popf(&env, CC_C, 0, 0));
    CHECK(!(env.eflags & VIF_MASK));
    CHECK(env.eflags & IF_MASK);
    CHECK(x86_get_eflags(&env) & CC_C);

    /* INT 10h is redirected to the 8086 handler; VIF was 0 so the image has IF 0 */
    EXPECT_OK(x86_int(&env, 0x10, 0x12, 0));
    CHECK(env.eflags & VM_MASK);
    CHECK_EQ(env.segs[R_CS].selector, 0xc000);
    CHECK_EQ(env.rip, 0x1234);
    CHECK_EQ(env.regs[R_ESP], 0xfa);
    CHECK_EQ(r16(0x10000 + 0xfa), 0x12);
    CHECK_EQ(r16(0x10000 + 0xfc), 0x1000);
    CHECK_EQ(r16(0x10000 + 0xfe) & (IF_MASK | IOPL_MASK), IOPL_MASK);
    /* 16-bit IRET back, setting VIF from the image */
    w16(0x10000 + 0xfe, (uint16_t)(IF_MASK | CC_Z | 2));
    EXPECT_OK(x86_iret(&env, 0, 0, 0));
    CHECK_EQ(env.segs[R_CS].selector, 0x1000);
    CHECK_EQ(env.rip, 0x12);
    CHECK(env.eflags & VIF_MASK);
    CHECK_EQ(iopl_of(env.eflags), 0);
    /* INT 21h is not redirected: IOPL 0 -> #GP(0) to the monitor */
    EXPECT_EXC(x86_int(&env, 0x21, 0x14, 0), EXCP_GP, 0);
}

TEST(pvi_cli_sti_at_cpl3)
{
    prot32();
    ring3();
    EXPECT_EXC(x86_cli(&env, 0), EXCP_GP, 0);
    x86_set_cr4(&env, CR4_PVI);
    x86_set_eflags(&env, IF_MASK | VIF_MASK, ~0u);
    EXPECT_OK(x86_cli(&env, 0));
    CHECK(env.eflags & IF_MASK);
    CHECK(!(env.eflags & VIF_MASK));
    EXPECT_OK(x86_sti(&env, 0));
    CHECK(env.eflags & VIF_MASK);
}

TEST(iret_and_lret_privilege_rules)
{
    prot32();
    ring3();
    env.regs[R_ESP] = 0x7000;
    /* an IRET frame that tries to return to ring 0 from ring 3 */
    w32(0x7000, 0x1000);
    w32(0x7004, SEL_CODE0);
    w32(0x7008, 2);
    EXPECT_EXC(x86_iret(&env, 1, 0, 0), EXCP_GP, SEL_CODE0);
    EXPECT_EXC(x86_lret(&env, 1, 0, 0), EXCP_GP, SEL_CODE0);
    /* a not-present target */
    w64(GDT + 0x30, make_desc(0, 0xffffffff, (CODE_FLAGS(3) | DESC_B_MASK) & ~DESC_P_MASK));
    env.gdt.limit = 0x3f;
    w32(0x7004, 0x30 | 3);
    EXPECT_EXC(x86_iret(&env, 1, 0, 0), EXCP_NP, 0x30);
    /* ring 3 cannot raise IOPL or clear IF through IRET */
    w32(0x7004, SEL_CODE3 | 3);
    w32(0x7008, IOPL_MASK | 2);
    x86_set_eflags(&env, IF_MASK, ~0u);
    EXPECT_OK(x86_iret(&env, 1, 0, 0));
    CHECK_EQ(iopl_of(env.eflags), 0);
    CHECK(env.eflags & IF_MASK);
    CHECK_EQ(env.regs[R_ESP], 0x700c);
}

TEST(sysenter_in_long_mode_and_sysexit64)
{
    long_mode();
    env.sysenter_cs = SEL_CODE64;             /* 0x38: SS 0x40, user CS +32, SS +40 */
    env.sysenter_esp = 0xffff880000001000ULL;
    env.sysenter_eip = 0xffffffff81002000ULL;
    EXPECT_OK(x86_sysenter(&env, 0));
    CHECK(env.hflags & HF_CS64_MASK);
    CHECK_EQ(env.rip, 0xffffffff81002000ULL);
    CHECK_EQ(env.regs[R_ESP], 0xffff880000001000ULL);
    env.regs[R_ECX] = 0x7fff0000;
    env.regs[R_EDX] = 0x400000;
    EXPECT_OK(x86_sysexit(&env, 2, 0));
    CHECK_EQ(env.segs[R_CS].selector, (SEL_CODE64 + 32) | 3);
    CHECK(env.hflags & HF_CS64_MASK);
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    CHECK_EQ(env.regs[R_ESP], 0x7fff0000);
    EXPECT_EXC(x86_sysexit(&env, 2, 0), EXCP_GP, 0);      /* CPL 3 */
    env.tsc_aux = 0x12345;                                 /* RDPID ignores CPL and CR4.TSD */
    env.cr[4] |= CR4_TSD;
    volatile uint64_t id = 0;
    EXPECT_OK(id = x86_rdpid(&env, 0));
    CHECK_EQ(id, 0x12345);
}
