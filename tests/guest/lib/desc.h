/* Descriptor tables of the guest runtime: the GDT layout every test program
 * shares, the IDT with one stub per vector, the TSSs, and fault recovery. */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

/* GDT selectors. The long-mode ones follow the order SYSCALL/SYSRET need:
 * STAR[47:32] = KERNEL_CS64 (SS = +8), STAR[63:48] = USER_CS32_LM
 * (SYSRET to 64-bit: SS = +8, CS = +16). SYSENTER needs KERNEL_CS, +8 data,
 * +16 user code, +24 user data: the first four entries. */
#define KERNEL_CS     0x08
#define KERNEL_DS     0x10
#define USER_CS       0x18
#define USER_DS       0x20
#define KERNEL_CS64   0x28
#define KERNEL_DS64   0x30
#define USER_CS32_LM  0x38
#define USER_DS64     0x40
#define USER_CS64     0x48
#define TSS_SEL       0x50
#define CODE16_SEL    0x58
#define DATA16_SEL    0x60
#define TSS64_SEL     0x68          /* 16 bytes: 0x68 and 0x70 */
#define FREE_SEL      0x78          /* first entry tests may use */
#define GDT_ENTRIES   32

/* INT vector that leaves run_user() (lib/user.S). */
#define USER_EXIT_VECTOR 0x81

#define IF_FLAG 0x200

/* Exception vectors. */
#define EXCP_DE 0
#define EXCP_DB 1
#define EXCP_BP 3
#define EXCP_OF 4
#define EXCP_BR 5
#define EXCP_UD 6
#define EXCP_NM 7
#define EXCP_DF 8
#define EXCP_TS 10
#define EXCP_NP 11
#define EXCP_SS 12
#define EXCP_GP 13
#define EXCP_PF 14
#define EXCP_AC 17

#ifndef __ASSEMBLER__
#include <stdint.h>

struct frame {
    uint32_t ds, es;
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;               /* only on a privilege change */
    uint32_t v86_es, v86_ds, v86_fs, v86_gs;   /* only from virtual-8086 mode */
};

struct tss32 {
    uint16_t link, r0;
    uint32_t esp0; uint16_t ss0, r1;
    uint32_t esp1; uint16_t ss1, r2;
    uint32_t esp2; uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap_base;
} __attribute__((packed));

extern uint64_t gdt[GDT_ENTRIES];
extern struct tss32 tss;
extern uint8_t *const kernel_stack_end;   /* top of the ring-0 stack in the TSS */

/* Descriptor access bytes (bits 8..15 of the high dword) and flag nibbles. */
#define ACC_CODE   0x9a     /* present, DPL0, code, readable */
#define ACC_DATA   0x92     /* present, DPL0, data, writable */
#define ACC_DPL(n) ((n) << 5)
#define ACC_TSS32  0x89     /* present, available 32-bit TSS */
#define ACC_LDT    0x82
#define FL_G   0x8
#define FL_DB  0x4
#define FL_L   0x2

static inline uint64_t make_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}
/* Gates: type 0xe interrupt, 0xf trap, 0xc call gate, 0x5 task gate (32-bit). */
static inline uint64_t make_gate(uint16_t sel, uint32_t off, unsigned type, unsigned dpl, unsigned params)
{
    return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)(params & 0x1f) << 32) |
           ((uint64_t)(0x80 | (dpl << 5) | type) << 40) | ((uint64_t)(off >> 16) << 48);
}
void gdt_set(unsigned sel, uint64_t desc);
void idt_set(unsigned vector, uint64_t gate);
/* Point a vector back at its default stub (as a 32-bit interrupt gate of the given DPL). */
void idt_set_default(unsigned vector, unsigned dpl, unsigned type);
void load_segments(void);
/* Back to the runtime's IDT and TSS after a test replaced them. */
void idt_reload(void);
void tss_reload(void);
/* Run fn at CPL 3 and return to CPL 0 when it returns (lib/user.S). */
void run_user(void (*fn)(void));
extern uint8_t user_stack_top[];
/* Run virtual-8086 code at cs:ip (stack ss:sp) with the given EFLAGS (IOPL). */
void run_vm86(uint32_t cs_ip, uint32_t ss_sp, uint32_t eflags);
extern char user_exit[];     /* reload CS/DS/ES/FS/GS/SS with the kernel selectors */

/* Interrupt handlers, called by the common stub with the saved frame; they may
 * change it (e.g. EIP to resume elsewhere). NULL: the default (fault recovery,
 * else "unexpected exception" and a failed test). */
typedef void (*irq_handler_t)(struct frame *f);
void set_handler(unsigned vector, irq_handler_t fn);

/* Fault recovery: TRY runs one instruction (or a few); when an exception is
 * taken inside, execution resumes after it. Evaluates to the vector taken, or
 * -1. fault_error/fault_cr2/fault_eip describe the last recovered exception. */
extern volatile uint32_t fault_recover;
extern volatile int fault_vector;
extern volatile uint32_t fault_error, fault_cr2, fault_eip, fault_cs;
#define TRY(insn, ...)                                                    \
    ({                                                                    \
        fault_vector = -1;                                                \
        asm volatile("movl $9f, fault_recover\n\t" insn "\n9:\n\t"        \
                     "movl $0, fault_recover" __VA_ARGS__);               \
        fault_vector;                                                     \
    })

static inline void lgdt(const void *base, uint16_t limit)
{
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d = { limit, (uint32_t)base };
    asm volatile("lgdt %0" :: "m"(d));
}
static inline void lidt(const void *base, uint16_t limit)
{
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d = { limit, (uint32_t)base };
    asm volatile("lidt %0" :: "m"(d));
}
static inline void ltr(uint16_t sel) { asm volatile("ltr %0" :: "r"(sel)); }
static inline void lldt(uint16_t sel) { asm volatile("lldt %0" :: "r"(sel)); }
#endif
#endif
