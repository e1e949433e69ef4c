/* Protected-mode segmentation: GDT and LDT loads, limits (expand-up and
 * expand-down), types and privileges, the faults they raise with their
 * error codes (#GP, #NP, #SS), LAR/LSL/VERR/VERW, and the other simple
 * exceptions (#DE, #BP, #OF, #BR, #UD). */
#include "runtime.h"

#define SEL_DATA      (FREE_SEL + 0x00)   /* base buf, limit 0xff, writable */
#define SEL_RODATA    (FREE_SEL + 0x08)   /* base buf, read-only */
#define SEL_NOTPRES   (FREE_SEL + 0x10)   /* not present */
#define SEL_EXPDOWN   (FREE_SEL + 0x18)   /* expand-down, limit 0xfff, 16-bit */
#define SEL_XONLY     (FREE_SEL + 0x20)   /* execute-only code */
#define SEL_DPL3DATA  (FREE_SEL + 0x28)
#define SEL_STACK2M   (FREE_SEL + 0x30)   /* stack segment, limit 2 MiB */
#define SEL_LDT       (FREE_SEL + 0x38)
#define SEL_RCODE     (FREE_SEL + 0x40)   /* readable code */
#define SEL_BEYOND    (GDT_ENTRIES * 8)   /* past the GDT limit */

static uint8_t buf[256] __attribute__((aligned(16)));
static uint64_t ldt[4];

static int load_fs(uint16_t sel)
{
    return TRY("mov %0, %%fs", :: "r"(sel) : "memory");
}

static void restore_fs(void)
{
    asm volatile("mov %0, %%fs" :: "r"(KERNEL_DS));
}

#define EXPECT_FAULT(name, vec, err, expr)                                  \
    do {                                                                  \
        int v_ = (expr);                                                  \
        TEST_EQ(name ": vector", v_, vec);                                \
        if (v_ >= 0 && (vec) != 3 && (vec) != 4)                          \
            TEST_EQ(name ": error code", fault_error, err);               \
    } while (0)

static void test_data_segments(void)
{
    for (int i = 0; i < 256; i++)
        buf[i] = (uint8_t)i;
    TEST_EQ("load a data segment", load_fs(SEL_DATA), -1);
    uint32_t v = 0;
    asm volatile("movl %%fs:0x10, %0" : "=r"(v));
    TEST_EQ("read through the segment base", v, 0x13121110);
    TEST_EQ("write at the limit", TRY("movb $0x77, %%fs:0xff", ::: "memory"), -1);
    TEST_EQ("the write landed", buf[0xff], 0x77);
    EXPECT_FAULT("read past the limit", EXCP_GP, 0, TRY("movb %%fs:0x100, %%al", ::: "eax"));
    EXPECT_FAULT("dword crossing the limit", EXCP_GP, 0, TRY("movl %%fs:0xfd, %%eax", ::: "eax"));
    TEST_TRUE("the accessed bit is set on load", gdt[SEL_DATA >> 3] & (1ull << 40));

    TEST_EQ("load a read-only segment", load_fs(SEL_RODATA), -1);
    EXPECT_FAULT("write to a read-only segment", EXCP_GP, 0, TRY("movb $1, %%fs:0", ::: "memory"));
    EXPECT_FAULT("load a not-present segment", EXCP_NP, SEL_NOTPRES, load_fs(SEL_NOTPRES));
    EXPECT_FAULT("load past the GDT limit", EXCP_GP, SEL_BEYOND, load_fs(SEL_BEYOND));
    EXPECT_FAULT("load execute-only code into FS", EXCP_GP, SEL_XONLY, load_fs(SEL_XONLY));
    TEST_EQ("load readable code into FS", load_fs(SEL_RCODE), -1);
    EXPECT_FAULT("write through a code segment", EXCP_GP, 0, TRY("movb $1, %%fs:0x200000", ::: "memory"));
    TEST_EQ("load the null selector into FS", load_fs(0), -1);
    EXPECT_FAULT("access through a null FS", EXCP_GP, 0, TRY("movl %%fs:0, %%eax", ::: "eax"));

    TEST_EQ("load an expand-down segment", load_fs(SEL_EXPDOWN), -1);
    EXPECT_FAULT("expand-down: offset at the limit faults", EXCP_GP, 0,
                 TRY("movb %%fs:0xfff, %%al", ::: "eax"));
    TEST_EQ("expand-down: offset above the limit", TRY("movb %%fs:0x1000, %%al", ::: "eax"), -1);
    TEST_EQ("expand-down: offset 0xffff", TRY("movb %%fs:0xffff, %%al", ::: "eax"), -1);
    EXPECT_FAULT("expand-down 16-bit: offset 0x10000", EXCP_GP, 0,
                 TRY("movb %%fs:0x10000, %%al", ::: "eax"));
    restore_fs();
}

static void test_stack_segment(void)
{
    uint16_t sel = 0;
    EXPECT_FAULT("null selector into SS", EXCP_GP, 0, TRY("mov %0, %%ss", :: "r"(sel)));
    sel = SEL_DPL3DATA;
    EXPECT_FAULT("DPL3 data into SS at CPL0", EXCP_GP, SEL_DPL3DATA, TRY("mov %0, %%ss", :: "r"(sel)));
    sel = SEL_RODATA;
    EXPECT_FAULT("read-only data into SS", EXCP_GP, SEL_RODATA, TRY("mov %0, %%ss", :: "r"(sel)));
    sel = SEL_NOTPRES;
    EXPECT_FAULT("not-present segment into SS", EXCP_SS, SEL_NOTPRES, TRY("mov %0, %%ss", :: "r"(sel)));
    /* Stack accesses beyond SS's limit raise #SS(0); the handler still runs
     * on the same stack, well inside the limit. */
    sel = SEL_STACK2M;
    int v = TRY("mov %0, %%ss\n\tmov $0x300000, %%ebp\n\tmovl (%%ebp), %%eax", :: "r"(sel) : "eax", "ebp");
    asm volatile("mov %0, %%ss" :: "r"(KERNEL_DS));
    TEST_EQ("stack access past SS's limit: #SS", v, EXCP_SS);
    TEST_EQ("stack access past SS's limit: error code", fault_error, 0);
}

static void test_ldt(void)
{
    ldt[0] = make_desc((uint32_t)buf, 0xff, ACC_DATA, 0);
    ldt[1] = make_desc(0, 0xfffff, ACC_DATA, FL_G | FL_DB) & ~(1ull << 47);  /* not present */
    gdt_set(SEL_LDT, make_desc((uint32_t)ldt, sizeof(ldt) - 1, ACC_LDT, 0));
    uint16_t sel = SEL_DATA;
    EXPECT_FAULT("LLDT of a non-LDT descriptor", EXCP_GP, SEL_DATA, TRY("lldt %0", :: "r"(sel)));
    lldt(SEL_LDT);
    buf[0] = 0x5a;
    TEST_EQ("load an LDT selector", load_fs(0x04), -1);
    uint8_t b = 0;
    asm volatile("movb %%fs:0, %0" : "=q"(b));
    TEST_EQ("read through an LDT segment", b, 0x5a);
    EXPECT_FAULT("not-present LDT segment", EXCP_NP, 0x0c, load_fs(0x0c));
    EXPECT_FAULT("selector past the LDT limit", EXCP_GP, 0x24, load_fs(0x24));
    uint16_t s = 0;
    asm volatile("sldt %0" : "=r"(s));
    TEST_EQ("SLDT", s, SEL_LDT);
    lldt(0);
    EXPECT_FAULT("LDT selector with a null LDT", EXCP_GP, 0x04, load_fs(0x04));
    restore_fs();
}

static void test_descriptor_queries(void)
{
    uint32_t limit = 0, rights = 0, zf = 0;
    asm volatile("lsl %2, %0\n\tsetz %b1" : "=r"(limit), "=q"(zf) : "r"((uint32_t)SEL_DATA) : "cc");
    TEST_EQ("LSL: limit", limit, 0xff);
    TEST_EQ("LSL: ZF", zf & 1, 1);
    asm volatile("lar %2, %0\n\tsetz %b1" : "=r"(rights), "=q"(zf) : "r"((uint32_t)SEL_RODATA) : "cc");
    TEST_EQ("LAR: access rights", rights & 0xf0ff00, 0x409100);
    zf = 1;
    asm volatile("lsl %2, %0\n\tsetz %b1" : "+r"(limit), "=q"(zf) : "r"((uint32_t)SEL_BEYOND) : "cc");
    TEST_EQ("LSL past the GDT: ZF clear", zf & 1, 0);
    asm volatile("verr %w1\n\tsetz %b0" : "=q"(zf) : "r"(SEL_XONLY) : "cc");
    TEST_EQ("VERR on execute-only code", zf & 1, 0);
    asm volatile("verr %w1\n\tsetz %b0" : "=q"(zf) : "r"(SEL_RCODE) : "cc");
    TEST_EQ("VERR on readable code", zf & 1, 1);
    asm volatile("verw %w1\n\tsetz %b0" : "=q"(zf) : "r"(SEL_RODATA) : "cc");
    TEST_EQ("VERW on read-only data", zf & 1, 0);
    asm volatile("verw %w1\n\tsetz %b0" : "=q"(zf) : "r"(SEL_DATA) : "cc");
    TEST_EQ("VERW on writable data", zf & 1, 1);
}

static void test_simple_exceptions(void)
{
    uint32_t zero = 0;
    EXPECT_FAULT("DIV by zero: #DE", EXCP_DE, 0,
                 TRY("xor %%edx, %%edx\n\tmov $1, %%eax\n\tdivl %0", :: "r"(zero) : "eax", "edx"));
    uint32_t minus1 = 0xffffffff;
    EXPECT_FAULT("IDIV overflow: #DE", EXCP_DE, 0,
                 TRY("mov $0x80000000, %%eax\n\tcltd\n\tidivl %0", :: "r"(minus1) : "eax", "edx"));
    EXPECT_FAULT("INT3: #BP", EXCP_BP, 0, TRY("int3"));
    TEST_EQ("#BP is a trap: EIP after INT3", *(uint8_t *)(fault_eip - 1), 0xcc);
    EXPECT_FAULT("INTO with OF set: #OF", EXCP_OF, 0,
                 TRY("mov $0x7fffffff, %%eax\n\tadd $1, %%eax\n\tinto", ::: "eax"));
    TEST_EQ("INTO with OF clear", TRY("xor %%eax, %%eax\n\tinto", ::: "eax"), -1);
    static const int32_t bounds[2] = { 10, 20 };
    int32_t index = 25;
    EXPECT_FAULT("BOUND out of range: #BR", EXCP_BR, 0, TRY("bound %0, %1", :: "r"(index), "m"(bounds)));
    index = 15;
    TEST_EQ("BOUND in range", TRY("bound %0, %1", :: "r"(index), "m"(bounds)), -1);
    EXPECT_FAULT("UD2: #UD", EXCP_UD, 0, TRY("ud2"));
    EXPECT_FAULT("MOV to CS: #UD", EXCP_UD, 0, TRY(".byte 0x8e, 0xc8"));
    EXPECT_FAULT("LOCK on a register operand: #UD", EXCP_UD, 0, TRY(".byte 0xf0, 0x01, 0xc0"));
    EXPECT_FAULT("write through CS: #GP", EXCP_GP, 0, TRY("movl $0, %%cs:0x100000", ::: "memory"));
}

void test_main(void)
{
    gdt_set(SEL_DATA, make_desc((uint32_t)buf, 0xff, ACC_DATA, FL_DB));
    gdt_set(SEL_RODATA, make_desc((uint32_t)buf, 0xff, 0x90, FL_DB));
    gdt_set(SEL_NOTPRES, make_desc(0, 0xfffff, ACC_DATA & 0x7f, FL_G | FL_DB));
    gdt_set(SEL_EXPDOWN, make_desc(0, 0xfff, 0x96, 0));
    gdt_set(SEL_XONLY, make_desc(0, 0xfffff, 0x98, FL_G | FL_DB));
    gdt_set(SEL_DPL3DATA, make_desc(0, 0xfffff, ACC_DATA | ACC_DPL(3), FL_G | FL_DB));
    gdt_set(SEL_STACK2M, make_desc(0, 0x1ff, ACC_DATA, FL_G | FL_DB));
    gdt_set(SEL_RCODE, make_desc(0, 0xfffff, ACC_CODE, FL_G | FL_DB));
    test_data_segments();
    test_stack_segment();
    test_ldt();
    test_descriptor_queries();
    test_simple_exceptions();
}
