/* Segmentation: segment register loads and their faults, limit checks,
 * LLDT/LTR, LAR/LSL/VERR/VERW, far JMP/CALL/RET through call gates, task
 * switches. */
#include "tests/unit/test-x86-fixture.h"

#define GDT 0x10000
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x18, SEL_DATA3 = 0x20,
    SEL_NP = 0x28, SEL_RO = 0x30, SEL_EXPDOWN = 0x38, SEL_CODE_XO = 0x40,
    SEL_CONF = 0x48, SEL_GATE = 0x50, SEL_TSS = 0x58, SEL_LDT = 0x60,
    SEL_TSS2 = 0x68, SEL_TASKGATE = 0x70,
};
#define TSS 0x20000
#define TSS2 0x21000

static void gdt_set(unsigned sel, uint64_t d) { w64(GDT + (sel & ~7u), d); }

/* 32-bit protected mode at CPL 0 with flat segments. */
static void prot32(void)
{
    fixture();
    gdt_set(SEL_CODE0, make_desc(0, 0xffffffff, CODE_FLAGS(0) | DESC_B_MASK));
    gdt_set(SEL_DATA0, make_desc(0, 0xffffffff, DATA_FLAGS(0) | DESC_B_MASK));
    gdt_set(SEL_CODE3, make_desc(0, 0xffffffff, CODE_FLAGS(3) | DESC_B_MASK));
    gdt_set(SEL_DATA3, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    gdt_set(SEL_NP, make_desc(0, 0xffff, DATA_FLAGS(0) & ~DESC_P_MASK));
    gdt_set(SEL_RO, make_desc(0x1000, 0xfff, DESC_P_MASK | DESC_S_MASK | (3 << DESC_DPL_SHIFT)));
    gdt_set(SEL_EXPDOWN, make_desc(0, 0x0fff, DATA_FLAGS(3) | DESC_E_MASK));
    gdt_set(SEL_CODE_XO, make_desc(0, 0xffff, DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | (3 << DESC_DPL_SHIFT)));
    gdt_set(SEL_CONF, make_desc(0, 0xffffffff, CODE_FLAGS(0) | DESC_C_MASK | DESC_B_MASK));
    gdt_set(SEL_TSS, make_desc(TSS, 0x67, DESC_P_MASK | (9 << DESC_TYPE_SHIFT)));
    gdt_set(SEL_TSS2, make_desc(TSS2, 0x67, DESC_P_MASK | (9 << DESC_TYPE_SHIFT)));
    env.gdt.base = GDT;
    env.gdt.limit = 0x7f;
    x86_set_cr0(&env, env.cr[0] | CR0_PE);
    load_cached(R_CS, SEL_CODE0, make_desc(0, 0xffffffff, CODE_FLAGS(0) | DESC_B_MASK));
    for (int s = R_ES; s <= R_GS; s++)
        if (s != R_CS)
            load_cached(s, SEL_DATA0, make_desc(0, 0xffffffff, DATA_FLAGS(0) | DESC_B_MASK));
    x86_update_hflags(&env);
    env.regs[R_ESP] = 0x9000;
}

/* Pretend to run at CPL 3 with ring-3 flat segments. */
static void to_ring3(void)
{
    load_cached(R_CS, SEL_CODE3 | 3, make_desc(0, 0xffffffff, CODE_FLAGS(3) | DESC_B_MASK));
    load_cached(R_SS, SEL_DATA3 | 3, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    x86_update_hflags(&env);
}

TEST(mode_bits)
{
    prot32();
    CHECK_EQ(env.hflags & HF_CPL_MASK, 0);
    CHECK(env.hflags & HF_PE_MASK);
    CHECK(env.hflags & HF_CS32_MASK);
    CHECK(env.hflags & HF_SS32_MASK);
    to_ring3();
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
}

TEST(load_data_segments)
{
    prot32();
    EXPECT_OK(x86_load_seg(&env, R_DS, SEL_RO | 3, 0));
    CHECK_EQ(env.segs[R_DS].base, 0x1000);
    CHECK_EQ(env.segs[R_DS].limit, 0xfff);
    CHECK(r32(GDT + SEL_RO + 4) & DESC_A_MASK);          /* accessed bit set */
    EXPECT_EXC(x86_load_seg(&env, R_DS, SEL_NP, 0), EXCP_NP, SEL_NP);
    EXPECT_EXC(x86_load_seg(&env, R_DS, 0x80, 0), EXCP_GP, 0x80);          /* beyond the GDT limit */
    EXPECT_EXC(x86_load_seg(&env, R_DS, SEL_CODE_XO, 0), EXCP_GP, SEL_CODE_XO); /* execute-only */
    EXPECT_EXC(x86_load_seg(&env, R_DS, 4, 0), EXCP_GP, 4);                /* LDT, none loaded */
    EXPECT_OK(x86_load_seg(&env, R_ES, 0, 0));                             /* null is fine */
    CHECK(!(env.segs[R_ES].flags & DESC_P_MASK));
    to_ring3();
    EXPECT_EXC(x86_load_seg(&env, R_DS, SEL_DATA0, 0), EXCP_GP, SEL_DATA0); /* DPL < CPL */
    EXPECT_OK(x86_load_seg(&env, R_DS, SEL_CONF, 0));                      /* conforming code: ok */
}

TEST(load_stack_segment)
{
    prot32();
    EXPECT_EXC(x86_load_seg(&env, R_SS, 0, 0), EXCP_GP, 0);
    EXPECT_EXC(x86_load_seg(&env, R_SS, SEL_DATA3 | 3, 0), EXCP_GP, SEL_DATA3); /* RPL != CPL */
    EXPECT_EXC(x86_load_seg(&env, R_SS, SEL_RO, 0), EXCP_GP, SEL_RO);      /* read-only */
    gdt_set(SEL_NP, make_desc(0, 0xffff, (DATA_FLAGS(0) & ~DESC_P_MASK)));
    EXPECT_EXC(x86_load_seg(&env, R_SS, SEL_NP, 0), EXCP_SS, SEL_NP);
    EXPECT_OK(x86_load_seg(&env, R_SS, SEL_DATA0, 0));
}

TEST(real_mode_load_keeps_limit)
{
    fixture();
    env.segs[R_DS].limit = 0xffffffff;        /* "unreal mode" */
    EXPECT_OK(x86_load_seg(&env, R_DS, 0x1234, 0));
    CHECK_EQ(env.segs[R_DS].base, 0x12340);
    CHECK_EQ(env.segs[R_DS].limit, 0xffffffff);
}

TEST(limit_checks)
{
    uint64_t lin = 0;
    prot32();
    EXPECT_OK(x86_load_seg(&env, R_DS, SEL_RO, 0));
    EXPECT_OK(lin = x86_seg_check(&env, R_DS, 0xffc, 4, false, 0));
    CHECK_EQ(lin, 0x1ffc);
    EXPECT_EXC(x86_seg_check(&env, R_DS, 0xffd, 4, false, 0), EXCP_GP, 0);
    EXPECT_EXC(x86_seg_check(&env, R_DS, 0, 1, true, 0), EXCP_GP, 0);      /* read-only */
    /* expand-down, 16-bit: valid offsets are limit+1 .. 0xffff */
    EXPECT_OK(x86_load_seg(&env, R_ES, SEL_EXPDOWN, 0));
    EXPECT_EXC(x86_seg_check(&env, R_ES, 0xfff, 1, false, 0), EXCP_GP, 0);
    EXPECT_OK(x86_seg_check(&env, R_ES, 0x1000, 2, true, 0));
    EXPECT_EXC(x86_seg_check(&env, R_ES, 0xffff, 2, false, 0), EXCP_GP, 0);
    /* SS faults are #SS */
    env.segs[R_SS].limit = 0xff;
    EXPECT_EXC(x86_seg_check(&env, R_SS, 0x100, 1, true, 0), EXCP_SS, 0);
    /* null segment */
    EXPECT_OK(x86_load_seg(&env, R_FS, 0, 0));
    EXPECT_EXC(x86_seg_check(&env, R_FS, 0, 1, false, 0), EXCP_GP, 0);
}

TEST(lar_lsl_verr_verw)
{
    prot32();
    int64_t r = 0;
    EXPECT_OK(r = x86_lar(&env, SEL_RO, 0));
    CHECK_EQ(r, (make_desc(0x1000, 0xfff, DESC_P_MASK | DESC_S_MASK | (3 << DESC_DPL_SHIFT)) >> 32) & 0x00f0ff00);
    EXPECT_OK(r = x86_lsl(&env, SEL_CODE0, 0));
    CHECK_EQ(r, 0xffffffff);
    EXPECT_OK(r = x86_lsl(&env, SEL_TSS, 0));
    CHECK_EQ(r, 0x67);
    EXPECT_OK(r = x86_lar(&env, 0, 0));
    CHECK_EQ(r, -1);
    CHECK(x86_verr(&env, SEL_RO, 0));
    CHECK(!x86_verw(&env, SEL_RO, 0));
    CHECK(x86_verw(&env, SEL_DATA0, 0));
    CHECK(!x86_verr(&env, SEL_CODE_XO, 0));
    to_ring3();
    EXPECT_OK(r = x86_lar(&env, SEL_DATA0, 0));
    CHECK_EQ(r, -1);                                      /* not visible at CPL 3 */
    fixture();
    EXPECT_EXC(x86_lar(&env, 8, 0), EXCP_UD, 0);          /* real mode */
}

TEST(ltr_lldt)
{
    prot32();
    EXPECT_OK(x86_ltr(&env, SEL_TSS, 0));
    CHECK_EQ(env.tr.base, TSS);
    CHECK_EQ((r32(GDT + SEL_TSS + 4) >> 8) & 15, 11);     /* busy */
    EXPECT_EXC(x86_ltr(&env, SEL_TSS, 0), EXCP_GP, SEL_TSS);   /* already busy */
    EXPECT_EXC(x86_lldt(&env, SEL_DATA0, 0), EXCP_GP, SEL_DATA0);
    gdt_set(SEL_LDT, make_desc(0x30000, 0xf, DESC_P_MASK | (2 << DESC_TYPE_SHIFT)));
    EXPECT_OK(x86_lldt(&env, SEL_LDT, 0));
    CHECK_EQ(env.ldt.base, 0x30000);
    /* a data segment in the LDT */
    w64(0x30008, make_desc(0x4000, 0xffff, DATA_FLAGS(0)));
    EXPECT_OK(x86_load_seg(&env, R_DS, 0x08 | 4, 0));
    CHECK_EQ(env.segs[R_DS].base, 0x4000);
    EXPECT_EXC(x86_load_seg(&env, R_DS, 0x10 | 4, 0), EXCP_GP, 0x14);   /* beyond LDT limit */
    to_ring3();
    EXPECT_EXC(x86_lldt(&env, 0, 0), EXCP_GP, 0);
}

TEST(far_jmp_and_call_same_privilege)
{
    prot32();
    EXPECT_OK(x86_ljmp(&env, SEL_CONF, 0x1234, 0, 0));
    CHECK_EQ(env.segs[R_CS].selector, SEL_CONF);
    CHECK_EQ(env.rip, 0x1234);
    EXPECT_EXC(x86_ljmp(&env, SEL_DATA0, 0, 0, 0), EXCP_GP, SEL_DATA0);
    EXPECT_EXC(x86_ljmp(&env, SEL_CODE3, 0, 0, 0), EXCP_GP, SEL_CODE3);   /* DPL != CPL */
    EXPECT_EXC(x86_ljmp(&env, 0, 0, 0, 0), EXCP_GP, 0);
    env.regs[R_ESP] = 0x9000;
    EXPECT_OK(x86_lcall(&env, SEL_CODE0, 0x5678, 1, 0x1111, 0));
    CHECK_EQ(env.regs[R_ESP], 0x9000 - 8);
    CHECK_EQ(r32(0x9000 - 8), 0x1111);
    CHECK_EQ(r32(0x9000 - 4), SEL_CONF);
    EXPECT_OK(x86_lret(&env, 1, 0, 0));
    CHECK_EQ(env.rip, 0x1111);
    CHECK_EQ(env.segs[R_CS].selector, SEL_CONF);
    CHECK_EQ(env.regs[R_ESP], 0x9000);
}

/* CALL through a 32-bit call gate from ring 3 to ring 0 with 2 parameters,
 * then RET 8 back to ring 3. */
TEST(call_gate_privilege_change)
{
    prot32();
    w64(GDT + SEL_GATE, make_gate(SEL_CODE0, 0x4000, 12, 3) | (2ULL << 32));
    w32(TSS + 4, 0x8000);                     /* ESP0 */
    w32(TSS + 8, SEL_DATA0);                  /* SS0 */
    EXPECT_OK(x86_ltr(&env, SEL_TSS, 0));
    to_ring3();
    load_cached(R_DS, SEL_DATA3 | 3, make_desc(0, 0xffffffff, DATA_FLAGS(3) | DESC_B_MASK));
    env.regs[R_ESP] = 0x7000 - 8;
    w32(0x7000 - 8, 0xaaaa);                  /* parameter 1 (top of stack) */
    w32(0x7000 - 4, 0xbbbb);                  /* parameter 2 */
    EXPECT_OK(x86_lcall(&env, SEL_GATE | 3, 0, 1, 0x2222, 0));
    CHECK_EQ(env.hflags & HF_CPL_MASK, 0);
    CHECK_EQ(env.segs[R_CS].selector, SEL_CODE0);
    CHECK_EQ(env.segs[R_SS].selector, SEL_DATA0);
    CHECK_EQ(env.rip, 0x4000);
    CHECK_EQ(env.regs[R_ESP], 0x8000 - 24);
    CHECK_EQ(r32(0x8000 - 4), SEL_DATA3 | 3);  /* old SS */
    CHECK_EQ(r32(0x8000 - 8), 0x7000 - 8);     /* old ESP */
    CHECK_EQ(r32(0x8000 - 12), 0xbbbb);        /* parameters, same order */
    CHECK_EQ(r32(0x8000 - 16), 0xaaaa);
    CHECK_EQ(r32(0x8000 - 20), SEL_CODE3 | 3); /* old CS */
    CHECK_EQ(r32(0x8000 - 24), 0x2222);        /* return EIP */
    EXPECT_OK(x86_lret(&env, 1, 8, 0));
    CHECK_EQ(env.hflags & HF_CPL_MASK, 3);
    CHECK_EQ(env.rip, 0x2222);
    CHECK_EQ(env.regs[R_ESP], 0x7000);
    CHECK_EQ(env.segs[R_SS].selector, SEL_DATA3 | 3);
    CHECK_EQ(env.segs[R_DS].selector, SEL_DATA3 | 3);  /* DPL 3: kept */
}

TEST(call_gate_checks)
{
    prot32();
    w64(GDT + SEL_GATE, make_gate(SEL_CODE0, 0x4000, 12, 0));
    to_ring3();
    EXPECT_EXC(x86_lcall(&env, SEL_GATE | 3, 0, 1, 0, 0), EXCP_GP, SEL_GATE);   /* gate DPL < CPL */
    w64(GDT + SEL_GATE, make_gate(SEL_CODE0, 0x4000, 12, 3) & ~((uint64_t)DESC_P_MASK << 32));
    EXPECT_EXC(x86_lcall(&env, SEL_GATE | 3, 0, 1, 0, 0), EXCP_NP, SEL_GATE);
    w64(GDT + SEL_GATE, make_gate(SEL_DATA0, 0x4000, 12, 3));
    EXPECT_EXC(x86_lcall(&env, SEL_GATE | 3, 0, 1, 0, 0), EXCP_GP, SEL_DATA0);
    /* JMP through a gate cannot change privilege */
    w64(GDT + SEL_GATE, make_gate(SEL_CODE0, 0x4000, 12, 3));
    EXPECT_EXC(x86_ljmp(&env, SEL_GATE | 3, 0, 0, 0), EXCP_GP, SEL_CODE0);
    /* no TSS: #TS on the stack switch */
    env.tr.limit = 0;
    EXPECT_EXC(x86_lcall(&env, SEL_GATE | 3, 0, 1, 0, 0), EXCP_TS, -1);
}

TEST(task_switch_call_and_iret)
{
    prot32();
    EXPECT_OK(x86_ltr(&env, SEL_TSS, 0));
    /* the new task: EIP 0x6000, EAX 0x42, flat ring-0 segments */
    w32(TSS2 + 32, 0x6000);
    w32(TSS2 + 36, 0x2);
    w32(TSS2 + 40, 0x42);
    w32(TSS2 + 56, 0x5000);                   /* ESP */
    w16(TSS2 + 72, SEL_DATA0);
    w16(TSS2 + 76, SEL_CODE0);
    w16(TSS2 + 80, SEL_DATA0);
    w16(TSS2 + 84, SEL_DATA0);
    env.regs[R_EAX] = 0x99;
    EXPECT_OK(x86_lcall(&env, SEL_TSS2, 0, 1, 0x3333, 0));
    CHECK_EQ(env.tr.selector, SEL_TSS2);
    CHECK_EQ(env.rip, 0x6000);
    CHECK_EQ(env.regs[R_EAX], 0x42);
    CHECK_EQ(env.regs[R_ESP], 0x5000);
    CHECK(env.eflags & NT_MASK);
    CHECK(env.cr[0] & CR0_TS);
    CHECK_EQ(r16(TSS2), SEL_TSS);             /* back link */
    CHECK_EQ(r32(TSS + 32), 0x3333);          /* old EIP saved */
    CHECK_EQ(r32(TSS + 40), 0x99);
    CHECK_EQ((r32(GDT + SEL_TSS2 + 4) >> 8) & 15, 11);
    CHECK_EQ((r32(GDT + SEL_TSS + 4) >> 8) & 15, 11);  /* CALL keeps the old one busy */
    /* IRET with NT returns */
    EXPECT_OK(x86_iret(&env, 1, 0x6001, 0));
    CHECK_EQ(env.tr.selector, SEL_TSS);
    CHECK_EQ(env.rip, 0x3333);
    CHECK_EQ(env.regs[R_EAX], 0x99);
    CHECK_EQ((r32(GDT + SEL_TSS2 + 4) >> 8) & 15, 9);  /* no longer busy */
    CHECK_EQ(r32(TSS2 + 32), 0x6001);
    CHECK(!(r32(TSS2 + 36) & NT_MASK));
    /* a busy TSS cannot be called */
    EXPECT_EXC(x86_lcall(&env, SEL_TSS, 0, 1, 0, 0), EXCP_GP, SEL_TSS);
}

TEST(task_gate_jmp)
{
    prot32();
    EXPECT_OK(x86_ltr(&env, SEL_TSS, 0));
    w64(GDT + SEL_TASKGATE, make_gate(SEL_TSS2, 0, 5, 0));
    w32(TSS2 + 32, 0x7000);
    w16(TSS2 + 72, SEL_DATA0);
    w16(TSS2 + 76, SEL_CODE0);
    w16(TSS2 + 80, SEL_DATA0);
    w16(TSS2 + 84, SEL_DATA0);
    EXPECT_OK(x86_ljmp(&env, SEL_TASKGATE, 0, 0x100, 0));
    CHECK_EQ(env.rip, 0x7000);
    CHECK(!(env.eflags & NT_MASK));
    CHECK_EQ((r32(GDT + SEL_TSS + 4) >> 8) & 15, 9);   /* JMP frees the old task */
    /* a bad segment in the new task faults with #TS in the new task */
    w16(TSS + 80, SEL_RO);                              /* SS read-only */
    w16(TSS + 76, SEL_CODE0);
    EXPECT_EXC(x86_ljmp(&env, SEL_TSS, 0, 0x200, 0), EXCP_TS, SEL_RO);
    CHECK_EQ(env.tr.selector, SEL_TSS);
}

TEST(io_permission_bitmap)
{
    prot32();
    gdt_set(SEL_TSS, make_desc(TSS, 0x67 + 0x2000 / 8 + 1, DESC_P_MASK | (9 << DESC_TYPE_SHIFT)));
    EXPECT_OK(x86_ltr(&env, SEL_TSS, 0));
    w16(TSS + 102, 0x68);
    w8(TSS + 0x68 + 0x3f8 / 8, 0xfe);          /* only port 0x3f8 allowed */
    w8(TSS + 0x68 + 0x2000 / 8, 0xff);
    EXPECT_OK(x86_check_io(&env, 0x1234, 4, 0));   /* CPL 0 <= IOPL 0 */
    to_ring3();
    EXPECT_OK(x86_check_io(&env, 0x3f8, 1, 0));
    EXPECT_EXC(x86_check_io(&env, 0x3f8, 2, 0), EXCP_GP, 0);
    EXPECT_OK(x86_check_io(&env, 0x80, 1, 0));                  /* bit clear: allowed */
    EXPECT_EXC(x86_check_io(&env, 0xffff, 1, 0), EXCP_GP, 0);    /* beyond the limit */
    x86_set_eflags(&env, 3u << 12, IOPL_MASK);
    EXPECT_OK(x86_check_io(&env, 0xffff, 1, 0));
}
