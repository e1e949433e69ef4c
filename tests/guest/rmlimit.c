/* Segment limits in real mode and virtual-8086 mode: a word at offset 0xFFFF
 * or a dword at 0xFFFD raises #GP (#SS through SS), a 32-bit address beyond
 * 64 KiB faults, byte accesses up to 0xFFFF do not; string instructions and
 * CMPXCHG8B are checked too. Real mode keeps the limits cached in protected
 * mode: a 4 GiB limit (unreal mode) reaches above 1 MiB, a small one faults
 * earlier. */
#include "runtime.h"

#define RM_BASE   0x7000
#define RM_SEG    (RM_BASE >> 4)
#define V86_BASE  0x5000
#define V86_SEG   (V86_BASE >> 4)
#define UNREAL_SEL (FREE_SEL + 0x00)     /* 16-bit data, 4 GiB limit */
#define SMALL_SEL  (FREE_SEL + 0x08)     /* 16-bit data, limit 0xfff */
#define HIGH_ADDR  0x300000              /* unreal-mode target, above the program */
#define NO_FAULT   0xee

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
    "rm_blob_results: .space 32\n"
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
    "int $" STR(USER_EXIT_VECTOR) "\n"
    "v86_blob_vec: .byte 0\n"
    ".align 2\n"
    "v86_blob_resume: .word 0\n"
    "v86_blob_results: .space 32\n"
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
    TEST_EQ("V86 mode: error codes are 0", v86_errors, 0);
}

void test_main(void)
{
    test_real_mode();
    test_v86_mode();
}
