/* Segment limits in real mode and virtual-8086 mode: a word at offset 0xFFFF
 * or a dword at 0xFFFD raises #GP (#SS through SS), a 32-bit address beyond
 * 64 KiB faults, byte accesses up to 0xFFFF do not; string instructions and
 * CMPXCHG8B are checked too. Real mode keeps the limits cached in protected
 * mode: a 4 GiB limit (unreal mode) reaches above 1 MiB, a small one faults
 * earlier. The stack accesses of far CALL/RETF and IRET are checked too: SP
 * wraps from 0 to 0xfffe, but a word at 0xffff is #SS; so are PUSHA, POPA and
 * ENTER (helpers in the translator) (rmshutdown.c covers
 * an interrupt whose own delivery overflows). */
#include "runtime.h"

#define RM_BASE   0x7000
#define RM_SEG    (RM_BASE >> 4)
#define V86_BASE  0x5000
#define V86_SEG   (V86_BASE >> 4)
#define UNREAL_SEL (FREE_SEL + 0x00)     /* 16-bit data, 4 GiB limit */
#define SMALL_SEL  (FREE_SEL + 0x08)     /* 16-bit data, limit 0xfff */
#define HIGH_ADDR  0x300000              /* unreal-mode target, above the program */
#define NO_FAULT   0xee
#define STK_SEG    0x0900                /* the stack of the SS wrap cases */
#define STK_ALIAS  0x1800                /* STK_SEG:0xf000+x is STK_ALIAS:x */

/* One case: record the vector taken by insn (NO_FAULT when none) in
 * results[n]; the fault handler resumes at the local label 9n. All data is
 * reached through CS, so the cases may load DS, ES and SS freely. */
#define CASE(blob, n, setup, insn)                                           \
    "movb $" STR(NO_FAULT) ", %cs:(" #blob "_vec - " #blob ")\n\t"           \
    "movw $(9" #n "f - " #blob "), %cs:(" #blob "_resume - " #blob ")\n\t"   \
    setup "\n\t" insn "\n9" #n ":\n\t"                                       \
    "movb %cs:(" #blob "_vec - " #blob "), %al\n\t"                          \
    "movb %al, %cs:(" #blob "_results - " #blob " + " #n ")\n\t"
#define STR_(x) #x
#define STR(x) STR_(x)

/* A far pointer at DS:0xfffe (DS = 0) to the case's resume label, so that a
 * far jump that should have faulted lands there instead of running away. */
#define FAR_TO_RESUME(blob, label)                                                  \
    "movw $(" #label "f - " #blob "), %ds:0xfffe\n\t"                              \
    "mov $0x1000, %ax\n\tmov %ax, %es\n\tmov %cs, %es:0\n\t"                       \
    "xor %ax, %ax\n\tmov %ax, %es"

/* Stack cases: SS:SP = STK_SEG:sp, ES = STK_ALIAS to write the top of that
 * stack without crossing a limit; blob_ss/blob_sp keep the program's stack,
 * which STACK_BACK restores (and ES = 0) after each case. */
#define STACK_AT(blob, sp)                                                          \
    "mov %ss, %cs:(" #blob "_ss - " #blob ")\n\t"                                 \
    "mov %sp, %cs:(" #blob "_sp - " #blob ")\n\t"                                 \
    "mov $" STR(STK_SEG) ", %ax\n\tmov %ax, %ss\n\tmov $" #sp ", %sp\n\t"      \
    "mov $" STR(STK_ALIAS) ", %ax\n\tmov %ax, %es\n\t"
#define STACK_BACK(blob)                                                            \
    "mov %cs:(" #blob "_ss - " #blob "), %ss\n\t"                                 \
    "mov %cs:(" #blob "_sp - " #blob "), %sp\n\t"                                 \
    "xor %ax, %ax\n\tmov %ax, %es\n\t"

/* Far CALL/RETF and IRET at the SS wrap; each pushes or pops the far pointer
 * of its case's resume label, so that a missing fault lands there too. The
 * handler's own frame fits below SP in every case. */
#define STACK_CASES(blob, seg)                                                      \
    CASE(blob, 30, STACK_AT(blob, 0xfffe)                                           \
         "movw $(930f - " #blob "), %es:0xffe\n\tmov %cs, %ss:0", "lret")          \
    STACK_BACK(blob)                                                                \
    CASE(blob, 31, STACK_AT(blob, 0xffff)                                           \
         "movw $(931f - " #blob "), %es:0xfff\n\tmov %cs, %ss:1", "lret")          \
    STACK_BACK(blob)                                                                \
    CASE(blob, 32, STACK_AT(blob, 0xfffd)                                           \
         "movw $(932f - " #blob "), %es:0xffd\n\tmov %cs, %es:0xfff\n\t"          \
         "movw $2, %ss:1", "iret")                                                  \
    STACK_BACK(blob)                                                                \
    CASE(blob, 33, STACK_AT(blob, 0xfffc)                                           \
         "movw $(933f - " #blob "), %es:0xffc\n\tmov %cs, %es:0xffe\n\t"          \
         "movw $2, %ss:0", "iret")                                                  \
    STACK_BACK(blob)                                                                \
    CASE(blob, 34, STACK_AT(blob, 6), "lcalll $" seg ", $(934f - " #blob ")")     \
    STACK_BACK(blob)                                                                \
    CASE(blob, 35, STACK_AT(blob, 4), "lcall $" seg ", $(935f - " #blob ")")      \
    STACK_BACK(blob)                                                                \
    CASE(blob, 36, STACK_AT(blob, 0xf), "pusha")                                    \
    STACK_BACK(blob)                                                                \
    CASE(blob, 37, STACK_AT(blob, 0xfff1), "popa")                                  \
    STACK_BACK(blob)                                                                \
    CASE(blob, 38, STACK_AT(blob, 6), "enterl $0, $1")                              \
    STACK_BACK(blob)
#define STACK_FIRST 30
#define NSTACK 9

static const uint8_t stack_expected[NSTACK] = {
    NO_FAULT, EXCP_SS, EXCP_SS, NO_FAULT, EXCP_SS, NO_FAULT, EXCP_SS, EXCP_SS, EXCP_SS,
};
static const char *const stack_names[NSTACK] = {
    "RETF at SP = 0xfffe, CS wraps to 0", "RETF at SP = 0xffff",
    "IRET at SP = 0xfffd, CS at 0xffff", "IRET at SP = 0xfffc, FLAGS wraps to 0",
    "32-bit CALL far at SP = 6, EIP at 0xfffe", "CALL far at SP = 4",
    "PUSHA at SP = 0xf, DI at 0xffff", "POPA at SP = 0xfff1, AX at 0xffff",
    "32-bit ENTER $0, $1 at SP = 6, the frame pointer at 0xfffe",
};

/* The cases both modes share (DS, ES = 0 on entry; SS = the stack). */
#define COMMON_CASES(blob)                                                          \
    CASE(blob, 0, "", "mov %ds:0xffff, %al")                                        \
    CASE(blob, 1, "", "mov %ds:0xfffe, %ax")                                        \
    CASE(blob, 2, "", "mov %ds:0xffff, %ax")                                        \
    CASE(blob, 3, "", "movl %ds:0xfffc, %eax")                                      \
    CASE(blob, 4, "", "movl %ds:0xfffd, %eax")                                      \
    CASE(blob, 5, "", "movw $1, %es:0xffff")                                        \
    CASE(blob, 6, "", "mov %ss:0xffff, %ax")                                        \
    CASE(blob, 7, "mov $0xffff, %bp", "mov 0(%bp), %ax")                            \
    CASE(blob, 8, "mov $0xffff, %ebx", "addr32 mov (%ebx), %al")                    \
    CASE(blob, 9, "mov $0x10000, %ebx", "addr32 mov (%ebx), %al")                   \
    CASE(blob, 10, "mov $0xffff, %si; cld", "lodsw")                                \
    CASE(blob, 11, "mov $0xfffe, %si; cld", "lodsw")                                \
    CASE(blob, 12, "mov $0xfffe, %di; mov $2, %cx; cld", "rep stosb")               \
    CASE(blob, 13, "mov $0xffff, %di; mov $1, %cx; cld", "rep stosw")               \
    CASE(blob, 14, "", "mov %cs:0xffff, %ax")                                       \
    CASE(blob, 15, "", "cmpxchg8b %ds:0xfff9")                                      \
    CASE(blob, 16, "", "cmpxchg8b %ds:0xfff8")                                      \
    CASE(blob, 17, "", "incw %ds:0xffff")                                           \
    CASE(blob, 18, "", "mov %ss:0xfffe, %ax")                                       \
    CASE(blob, 19, "", "les %ds:0xfffe, %di")                                       \
    CASE(blob, 20, "", "bound %ax, %ds:0xfffe")                                     \
    CASE(blob, 21, FAR_TO_RESUME(blob, 921), "ljmp *%ds:0xfffe")
#define NCOMMON 22

static const uint8_t common_expected[NCOMMON] = {
    NO_FAULT, NO_FAULT, EXCP_GP, NO_FAULT, EXCP_GP, EXCP_GP, EXCP_SS, EXCP_SS,
    NO_FAULT, EXCP_GP, EXCP_GP, NO_FAULT, NO_FAULT, EXCP_GP, EXCP_GP, EXCP_GP,
    NO_FAULT, EXCP_GP, NO_FAULT, EXCP_GP, EXCP_GP, EXCP_GP,
};
static const char *const common_names[NCOMMON] = {
    "byte at 0xffff", "word at 0xfffe", "word at 0xffff", "dword at 0xfffc",
    "dword at 0xfffd", "word store at ES:0xffff", "SS override, word at 0xffff",
    "[BP] = 0xffff is SS-relative", "addr32 byte at 0xffff", "addr32 byte at 0x10000",
    "LODSW at SI = 0xffff", "LODSW at SI = 0xfffe", "REP STOSB up to 0xffff",
    "REP STOSW at DI = 0xffff", "CS override, word at 0xffff",
    "CMPXCHG8B at 0xfff9", "CMPXCHG8B at 0xfff8", "INC word at 0xffff",
    "SS override, word at 0xfffe", "LES: selector past 0xffff", "BOUND: upper bound past 0xffff",
    "JMP far: selector past 0xffff",
};

static const char *prefixed(char *buf, const char *prefix, const char *name)
{
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    memcpy(buf + n, name, strlen(name) + 1);
    return buf;
}

/* ---- real mode ---------------------------------------------------------------- */
void rm_blob(void);
extern char rm_blob_end[], rm_blob_results[], rm_blob_si[];
uint32_t rm_saved_esp;

asm(".code32\n"
    ".globl rml_run\n"
    "rml_run:\n\t"
    "push %ebp\n\tpush %ebx\n\tpush %esi\n\tpush %edi\n\tcli\n\t"
    "mov $rm_blob, %esi\n\tmov $" STR(RM_BASE) ", %edi\n\t"
    "mov $(rm_blob_end - rm_blob), %ecx\n\tcld\n\trep movsb\n\t"
    "mov %esp, rm_saved_esp\n\t"
    "ljmp $" STR(CODE16_SEL) ", $(" STR(RM_BASE) " + rm_pm16 - rm_blob)\n"
    "rml_back:\n\t"
    "mov $" STR(KERNEL_DS) ", %ax\n\t"
    "mov %ax, %ds\n\tmov %ax, %es\n\tmov %ax, %fs\n\tmov %ax, %gs\n\tmov %ax, %ss\n\t"
    "mov rm_saved_esp, %esp\n\t"
    "pop %edi\n\tpop %esi\n\tpop %ebx\n\tpop %ebp\n\tret\n"

    ".code16\n"
    ".globl rm_blob, rm_blob_end, rm_blob_results, rm_blob_si\n"
    "rm_blob:\n"
    "rm_pm16:\n\t"                        /* 16-bit protected mode: cache the limits */
    "mov $" STR(DATA16_SEL) ", %ax\n\t"
    "mov %ax, %ds\n\tmov %ax, %es\n\tmov %ax, %ss\n\t"
    "mov $" STR(UNREAL_SEL) ", %ax\n\tmov %ax, %fs\n\t"
    "mov $" STR(SMALL_SEL) ", %ax\n\tmov %ax, %gs\n\t"
    "mov %cr0, %eax\n\tand $~1, %eax\n\tmov %eax, %cr0\n\t"
    "ljmp $" STR(RM_SEG) ", $(rm_real - rm_blob)\n"
    "rm_real:\n\t"
    "xor %ax, %ax\n\tmov %ax, %ss\n\tmov $" STR(RM_BASE) " - 16, %sp\n\t"
    "mov %ax, %ds\n\tmov %ax, %es\n\t"
    "lidt %cs:(rm_blob_idtr - rm_blob)\n\t"
    "movw $(rm_isr_ss - rm_blob), 12 * 4\n\tmovw $" STR(RM_SEG) ", 12 * 4 + 2\n\t"
    "movw $(rm_isr_gp - rm_blob), 13 * 4\n\tmovw $" STR(RM_SEG) ", 13 * 4 + 2\n\t"
    COMMON_CASES(rm_blob)
    /* unreal FS: 32-bit offsets above 1 MiB, a word at 0xffff */
    CASE(rm_blob, 22, "mov $" STR(HIGH_ADDR) ", %ebx", "addr32 movl $0x5a5a1234, %fs:(%ebx)")
    CASE(rm_blob, 23, "", "mov %fs:0xffff, %ax")
    /* GS keeps a 0xfff limit */
    CASE(rm_blob, 24, "", "mov %gs:0xfff, %al")
    CASE(rm_blob, 25, "", "mov %gs:0x1000, %al")
    /* SI is unchanged by the faulting LODSW */
    "mov $0xffff, %si\n\t"
    CASE(rm_blob, 26, "", "lodsw")
    "mov %si, %cs:(rm_blob_si - rm_blob)\n\t"
    CASE(rm_blob, 27, "", "les %ds:0xfffc, %di")
    CASE(rm_blob, 28, "", "sgdt %ds:0xfffc")
    CASE(rm_blob, 29, "", "sgdt %ds:0xfffa")
    STACK_CASES(rm_blob, STR(RM_SEG))
    "cli\n\t"
    "mov %cr0, %eax\n\tor $1, %eax\n\tmov %eax, %cr0\n\t"
    "ljmpl $" STR(KERNEL_CS) ", $rml_back\n"
    "rm_isr_gp:\n\t"
    "movb $13, %cs:(rm_blob_vec - rm_blob)\n\tjmp rm_isr_common\n"
    "rm_isr_ss:\n\t"
    "movb $12, %cs:(rm_blob_vec - rm_blob)\n"
    "rm_isr_common:\n\t"
    "push %bp\n\tmov %sp, %bp\n\tpush %ax\n\t"
    "mov %cs:(rm_blob_resume - rm_blob), %ax\n\tmov %ax, 2(%bp)\n\t"
    "pop %ax\n\tpop %bp\n\tiret\n"
    ".align 4\n"
    "rm_blob_idtr: .word 0x3ff\n\t.long 0\n"
    "rm_blob_vec: .byte 0\n"
    ".align 2\n"
    "rm_blob_resume: .word 0\n"
    "rm_blob_si: .word 0\n"
    "rm_blob_ss: .word 0\n"
    "rm_blob_sp: .word 0\n"
    "rm_blob_results: .space 48\n"
    "rm_blob_end:\n"
    ".code32\n");

void rml_run(void);

static const uint8_t *rm_results(void)
{
    return (const uint8_t *)(RM_BASE + (rm_blob_results - (char *)rm_blob));
}

static void test_real_mode(void)
{
    gdt_set(UNREAL_SEL, make_desc(0, 0xfffff, ACC_DATA, FL_G));
    gdt_set(SMALL_SEL, make_desc(0, 0xfff, ACC_DATA, 0));
    *(volatile uint32_t *)HIGH_ADDR = 0;
    rml_run();
    idt_reload();
    const uint8_t *r = rm_results();
    char name[80];
    for (int i = 0; i < NCOMMON; i++) {
        TEST_EQ(prefixed(name, "real mode: ", common_names[i]), r[i], common_expected[i]);
    }
    TEST_EQ("unreal mode: store above 1 MiB", r[22], NO_FAULT);
    TEST_EQ("unreal mode: the store landed", *(volatile uint32_t *)HIGH_ADDR, 0x5a5a1234);
    TEST_EQ("unreal mode: word at 0xffff", r[23], NO_FAULT);
    TEST_EQ("real mode, limit 0xfff kept: byte at 0xfff", r[24], NO_FAULT);
    TEST_EQ("real mode, limit 0xfff kept: byte at 0x1000", r[25], EXCP_GP);
    TEST_EQ("real mode: faulting LODSW", r[26], EXCP_GP);
    TEST_EQ("real mode: LES, far pointer ends at 0xffff", r[27], NO_FAULT);
    TEST_EQ("real mode: SGDT past 0xffff", r[28], EXCP_GP);
    TEST_EQ("real mode: SGDT ends at 0xffff", r[29], NO_FAULT);
    for (int i = 0; i < NSTACK; i++) {
        TEST_EQ(prefixed(name, "real mode: ", stack_names[i]), r[STACK_FIRST + i], stack_expected[i]);
    }
    TEST_EQ("real mode: SI unchanged by the fault",
            *(volatile uint16_t *)(RM_BASE + (rm_blob_si - (char *)rm_blob)), 0xffff);
}

/* ---- virtual-8086 mode ------------------------------------------------------------ */
void v86_blob(void);
extern char v86_blob_end[], v86_blob_results[], v86_blob_vec[], v86_blob_resume[];

asm(".code16\n"
    ".globl v86_blob, v86_blob_end, v86_blob_results, v86_blob_vec, v86_blob_resume\n"
    "v86_blob:\n\t"
    COMMON_CASES(v86_blob)
    STACK_CASES(v86_blob, STR(V86_SEG))
    /* the handler runs on the ring-0 stack: a push at SP = 1 can be seen */
    CASE(v86_blob, 39, STACK_AT(v86_blob, 1), "lcall $" STR(V86_SEG) ", $(939f - v86_blob)")
    STACK_BACK(v86_blob)
    CASE(v86_blob, 40, STACK_AT(v86_blob, 1), "push %ax")
    STACK_BACK(v86_blob)
    CASE(v86_blob, 41, STACK_AT(v86_blob, 2), "pushl %eax")
    STACK_BACK(v86_blob)
    CASE(v86_blob, 42, STACK_AT(v86_blob, 0xffff), "pop %ax")
    STACK_BACK(v86_blob)
    CASE(v86_blob, 43, STACK_AT(v86_blob, 0), "push %ax")
    STACK_BACK(v86_blob)
    "int $" STR(USER_EXIT_VECTOR) "\n"
    "v86_blob_vec: .byte 0\n"
    ".align 2\n"
    "v86_blob_resume: .word 0\n"
    "v86_blob_ss: .word 0\n"
    "v86_blob_sp: .word 0\n"
    "v86_blob_results: .space 48\n"
    "v86_blob_end:\n"
    ".code32\n");

static volatile uint32_t v86_errors;

static void v86_fault(struct frame *f)
{
    if (!(f->eflags & 0x20000)) {
        printf("fault %u outside VM86 at %08x\n", f->vector, f->eip);
        test_abort();
    }
    *(volatile uint8_t *)(V86_BASE + (v86_blob_vec - (char *)v86_blob)) = (uint8_t)f->vector;
    v86_errors |= f->error;
    f->eip = *(volatile uint16_t *)(V86_BASE + (v86_blob_resume - (char *)v86_blob));
}

static void test_v86_mode(void)
{
    memcpy((void *)V86_BASE, (void *)v86_blob, v86_blob_end - (char *)v86_blob);
    set_handler(EXCP_GP, v86_fault);
    set_handler(EXCP_SS, v86_fault);
    run_vm86((uint32_t)V86_SEG << 16, (uint32_t)V86_SEG << 16 | 0xff0, 3u << 12);
    set_handler(EXCP_GP, NULL);
    set_handler(EXCP_SS, NULL);
    const uint8_t *r = (const uint8_t *)(V86_BASE + (v86_blob_results - (char *)v86_blob));
    char name[80];
    for (int i = 0; i < NCOMMON; i++) {
        TEST_EQ(prefixed(name, "V86 mode: ", common_names[i]), r[i], common_expected[i]);
    }
    for (int i = 0; i < NSTACK; i++) {
        TEST_EQ(prefixed(name, "V86 mode: ", stack_names[i]), r[STACK_FIRST + i], stack_expected[i]);
    }
    TEST_EQ("V86 mode: CALL far at SP = 1, CS at 0xffff", r[39], EXCP_SS);
    TEST_EQ("V86 mode: PUSH at SP = 1", r[40], EXCP_SS);
    TEST_EQ("V86 mode: 32-bit PUSH at SP = 2", r[41], EXCP_SS);
    TEST_EQ("V86 mode: POP at SP = 0xffff", r[42], EXCP_SS);
    TEST_EQ("V86 mode: PUSH at SP = 0 wraps", r[43], NO_FAULT);
    TEST_EQ("V86 mode: error codes are 0", v86_errors, 0);
}

void test_main(void)
{
    test_real_mode();
    test_v86_mode();
}
