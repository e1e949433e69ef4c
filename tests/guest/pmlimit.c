/* Segment limits of non-flat protected-mode data segments as the translator
 * checks them inline (a based, expand-up, writable segment) and through its
 * helper (read-only, expand-down), and the limit checks of the 512-byte
 * FXSAVE/FXRSTOR and 576-byte XSAVE/XRSTOR areas. */
#include "runtime.h"

#define SEL_RW     (FREE_SEL + 0x00)   /* base buf, limit set per case */
#define SEL_RO     (FREE_SEL + 0x08)   /* base buf, read-only, limit 0xff */
#define SEL_DOWN   (FREE_SEL + 0x10)   /* base buf, expand-down, limit 0xff, 16-bit */
#define CR4_OSFXSR  (1u << 9)
#define CR4_OSXSAVE (1u << 18)

static uint8_t buf[0x1000] __attribute__((aligned(64)));

static void load_fs(uint16_t sel)
{
    asm volatile("mov %0, %%fs" :: "r"(sel) : "memory");
}

static void set_rw_limit(uint32_t limit)
{
    gdt_set(SEL_RW, make_desc((uint32_t)buf, limit, ACC_DATA, FL_DB));
    load_fs(SEL_RW);
}

static void test_inline_checks(void)
{
    set_rw_limit(0xff);
    buf[0xff] = 0x5a;
    uint32_t v = 0;
    TEST_EQ("byte at the limit", TRY("movzbl %%fs:0xff, %0", : "=r"(v) :: "memory"), -1);
    TEST_EQ("byte at the limit reads through the base", v, 0x5a);
    TEST_EQ("word at limit - 1", TRY("movw %%fs:0xfe, %%ax", ::: "eax"), -1);
    TEST_EQ("word at the limit", TRY("movw %%fs:0xff, %%ax", ::: "eax"), EXCP_GP);
    TEST_EQ("dword store crossing the limit", TRY("movl $1, %%fs:0xfd", ::: "memory"), EXCP_GP);
    TEST_EQ("the faulting store wrote nothing", buf[0xfd], 0);
    TEST_EQ("read-modify-write past the limit", TRY("incl %%fs:0xfe", ::: "memory"), EXCP_GP);
    TEST_EQ("offset far past the limit", TRY("movb %%fs:0x80000000, %%al", ::: "eax"), EXCP_GP);
    TEST_EQ("error code 0", fault_error, 0);
    uint32_t idx = 0x100;
    TEST_EQ("indexed access past the limit", TRY("movb %%fs:(%0), %%al", :: "r"(idx) : "eax"), EXCP_GP);
    idx = 0xfc;
    TEST_EQ("indexed dword at limit - 3", TRY("movl %%fs:(%0), %%eax", :: "r"(idx) : "eax"), -1);

    /* not only limits: the helper path */
    gdt_set(SEL_RO, make_desc((uint32_t)buf, 0xff, ACC_DATA & ~2, FL_DB));
    load_fs(SEL_RO);
    TEST_EQ("read-only: read", TRY("movb %%fs:0x10, %%al", ::: "eax"), -1);
    TEST_EQ("read-only: write", TRY("movb $1, %%fs:0x10", ::: "memory"), EXCP_GP);
    gdt_set(SEL_DOWN, make_desc((uint32_t)buf, 0xff, ACC_DATA | 4, 0));
    load_fs(SEL_DOWN);
    TEST_EQ("expand-down: at the limit", TRY("movb %%fs:0xff, %%al", ::: "eax"), EXCP_GP);
    TEST_EQ("expand-down: above the limit", TRY("movb %%fs:0x100, %%al", ::: "eax"), -1);
    TEST_EQ("expand-down: word at 0xffff (16-bit)", TRY("movw %%fs:0xffff, %%ax", ::: "eax"), EXCP_GP);
    load_fs(KERNEL_DS);
}

static void test_fxsave_area(void)
{
    write_cr4(read_cr4() | CR4_OSFXSR);
    set_rw_limit(0x1ff);
    TEST_EQ("FXSAVE: area ends at the limit", TRY("fxsave %%fs:0", ::: "memory"), -1);
    TEST_EQ("FXRSTOR: area ends at the limit", TRY("fxrstor %%fs:0", ::: "memory"), -1);
    TEST_EQ("FXSAVE: area crosses the limit", TRY("fxsave %%fs:0x10", ::: "memory"), EXCP_GP);
    TEST_EQ("FXRSTOR: area crosses the limit", TRY("fxrstor %%fs:0x10", ::: "memory"), EXCP_GP);
    set_rw_limit(0x3ff);
    TEST_EQ("FXSAVE at 0x200, limit 0x3ff", TRY("fxsave %%fs:0x200", ::: "memory"), -1);
    TEST_EQ("FXSAVE at 0x210, limit 0x3ff", TRY("fxsave %%fs:0x210", ::: "memory"), EXCP_GP);

    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[2] & (1u << 26))) {
        printf("# no XSAVE: its area is not checked\n");
        load_fs(KERNEL_DS);
        return;
    }
    write_cr4(read_cr4() | CR4_OSXSAVE);
    memset(buf, 0, 0x240);          /* XSAVE writes only XSTATE_BV of the header */
    set_rw_limit(0x23f);
    TEST_EQ("XSAVE: area with header ends at the limit",
            TRY("xsave %%fs:0", :: "a"(3), "d"(0) : "memory"), -1);
    TEST_EQ("XRSTOR: area with header ends at the limit",
            TRY("xrstor %%fs:0", :: "a"(3), "d"(0) : "memory"), -1);
    set_rw_limit(0x23e);
    TEST_EQ("XSAVE: header crosses the limit",
            TRY("xsave %%fs:0", :: "a"(3), "d"(0) : "memory"), EXCP_GP);
    TEST_EQ("XRSTOR: header crosses the limit",
            TRY("xrstor %%fs:0", :: "a"(3), "d"(0) : "memory"), EXCP_GP);
    load_fs(KERNEL_DS);
    write_cr4(read_cr4() & ~CR4_OSXSAVE);
}

void test_main(void)
{
    test_inline_checks();
    test_fxsave_area();
}
