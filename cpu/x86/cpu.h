/* The guest x86 CPU: architectural state of one vCPU.
 *
 * Shared by the translator (accel/tcg.c, cpu/x86/translate*), the system
 * helpers (segmentation, paging, exceptions, cpu/x86/helpers.h), KVM
 * (accel/kvm.c, which copies this state to and from the kernel) and the
 * monitor/gdbstub. Fields may be added; the layout of existing ones is used by
 * generated code through offsetof(), never by hard-coded numbers. */
#ifndef CPU_X86_CPU_H
#define CPU_X86_CPU_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS };

/* EFLAGS bits */
#define CC_C    0x0001
#define CC_P    0x0004
#define CC_A    0x0010
#define CC_Z    0x0040
#define CC_S    0x0080
#define CC_O    0x0800
#define CC_MASK (CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O)
#define TF_MASK   0x00000100
#define IF_MASK   0x00000200
#define DF_MASK   0x00000400
#define IOPL_MASK 0x00003000
#define NT_MASK   0x00004000
#define RF_MASK   0x00010000
#define VM_MASK   0x00020000
#define AC_MASK   0x00040000
#define VIF_MASK  0x00080000
#define VIP_MASK  0x00100000
#define ID_MASK   0x00200000

/* CR0 / CR4 / EFER bits */
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)
#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE  (1u << 3)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_MCE (1u << 6)
#define CR4_PGE (1u << 7)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_UMIP (1u << 11)
#define CR4_FSGSBASE (1u << 16)
#define CR4_PCIDE (1u << 17)
#define CR4_OSXSAVE (1u << 18)
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* Exception vectors */
enum {
    EXCP_DE = 0, EXCP_DB, EXCP_NMI, EXCP_BP, EXCP_OF, EXCP_BR, EXCP_UD, EXCP_NM,
    EXCP_DF, EXCP_09, EXCP_TS, EXCP_NP, EXCP_SS, EXCP_GP, EXCP_PF, EXCP_0F,
    EXCP_MF, EXCP_AC, EXCP_MC, EXCP_XM,
};

/* A segment register with its cached descriptor. flags holds the descriptor's
 * attribute bits exactly where they sit in the descriptor's high dword
 * (type 8-11, S 12, DPL 13-14, P 15, AVL 20, L 21, D/B 22, G 23). */
typedef struct SegmentCache {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;     /* expanded byte limit (G applied) */
    uint32_t flags;
} SegmentCache;
#define DESC_TYPE_SHIFT 8
#define DESC_A_MASK   (1u << 8)
#define DESC_W_MASK   (1u << 9)    /* data: writable */
#define DESC_R_MASK   (1u << 9)    /* code: readable */
#define DESC_E_MASK   (1u << 10)   /* data: expand-down */
#define DESC_C_MASK   (1u << 10)   /* code: conforming */
#define DESC_CS_MASK  (1u << 11)   /* code segment */
#define DESC_S_MASK   (1u << 12)
#define DESC_DPL_SHIFT 13
#define DESC_P_MASK   (1u << 15)
#define DESC_L_MASK   (1u << 21)
#define DESC_B_MASK   (1u << 22)
#define DESC_G_MASK   (1u << 23)

typedef struct DescTable {
    uint64_t base;
    uint32_t limit;
} DescTable;

/* 80-bit x87 register: 64-bit significand (explicit integer bit) and
 * sign+15-bit exponent; kept as two integers so no host long double is needed. */
typedef struct Float80 {
    uint64_t mant;
    uint16_t sexp;
} Float80;

typedef union XMMReg {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
} XMMReg;

/* interrupt_request bits (set from any thread, atomically) */
#define CPU_INTERRUPT_HARD  (1u << 0)   /* INTR line from PIC/APIC */
#define CPU_INTERRUPT_NMI   (1u << 1)
#define CPU_INTERRUPT_INIT  (1u << 2)
#define CPU_INTERRUPT_SIPI  (1u << 3)
#define CPU_INTERRUPT_SMI   (1u << 4)
#define CPU_INTERRUPT_EXIT  (1u << 5)   /* leave the loop (kick), no interrupt */
#define CPU_INTERRUPT_TLBFLUSH (1u << 6)

/* hflags: mode bits derived from the state, which change how code decodes
 * and runs; part of a translation block's key. Recomputed by x86_update_hflags. */
#define HF_CPL_MASK     0x0003
#define HF_PE_MASK      (1u << 2)   /* CR0.PE */
#define HF_CS32_MASK    (1u << 3)   /* 32-bit code segment */
#define HF_SS32_MASK    (1u << 4)   /* 32-bit stack segment */
#define HF_LMA_MASK     (1u << 5)   /* long mode active */
#define HF_CS64_MASK    (1u << 6)   /* 64-bit code segment */
#define HF_VM_MASK      (1u << 7)   /* virtual-8086 mode */
#define HF_ADDSEG_MASK  (1u << 8)   /* some of DS/ES/SS have a non-zero base */
#define HF_PG_MASK      (1u << 9)
#define HF_TF_MASK      (1u << 10)  /* single-step */
#define HF_INHIBIT_IRQ_MASK (1u << 11) /* STI / MOV SS shadow */
#define HF_OSFXSR_MASK  (1u << 12)
#define HF_EM_MASK      (1u << 13)
#define HF_TS_MASK      (1u << 14)
#define HF_MP_MASK      (1u << 15)
#define HF_SMAP_MASK    (1u << 16)
#define HF_IOPL_SHIFT   17          /* 2 bits: IOPL, for CLI/STI/IN/OUT in translation */
#define HF_AC_MASK      (1u << 19)  /* EFLAGS.AC (SMAP override) */
/* Bits 20..31 are taken by translation-block flags (TBF_* in cpu/x86/translate.h). */

/* MMU indices: which permission check a memory access gets. */
enum {
    MMU_KERNEL_IDX = 0,      /* CPL < 3, SMAP enforced when enabled */
    MMU_KERNEL_NOSMAP_IDX,   /* CPL < 3, SMAP not applicable (EFLAGS.AC or implicit) */
    MMU_USER_IDX,            /* CPL 3 */
    MMU_PHYS_IDX,            /* paging off: linear = physical */
    MMU_MODES
};

struct VCPU;

typedef struct CPUX86State {
    /* ---- integer state ---- */
    uint64_t regs[16];
    uint64_t rip;
    /* Translator: the page of RIP at entry to the running PC-relative block
     * (its code computes RIP values from it, so one translation serves every
     * virtual address of the same physical code; blocks chained on one page
     * share it). The backends set it at entry: see TB_PAGE_BASE. */
    uint64_t tb_pc_base;
    /* EFLAGS without the arithmetic flags, which are lazy: see cc_* below.
     * x86_get_eflags()/x86_set_eflags() give the architectural value. */
    uint64_t eflags;
    /* Lazy arithmetic flags: cc_op says which operation set them and cc_dst,
     * cc_src, cc_src2 hold its result/operands (translator's encoding). */
    uint32_t cc_op;
    uint64_t cc_dst, cc_src, cc_src2;
    uint32_t hflags;

    SegmentCache segs[6];
    SegmentCache ldt, tr;
    DescTable gdt, idt;

    uint64_t cr[5];          /* cr[0], cr[2], cr[3], cr[4]; cr[1] unused */
    uint64_t cr8;            /* TPR (mirrors the local APIC's) */
    uint64_t dr[8];
    uint64_t dr6_pending;    /* data-breakpoint hits (DR6.Bn) awaiting the end-of-instruction #DB trap */
    uint64_t efer;
    uint64_t star, lstar, cstar, fmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t tsc_offset;     /* guest TSC = scaled virtual clock + tsc_offset */
    uint64_t tsc_aux, pat, apic_base, misc_enable, tsc_deadline;
    uint64_t mtrr_cap, mtrr_deftype, mtrr_fixed[11], mtrr_var[16];
    /* Machine-check architecture: MCG_CTL and X86_MCE_BANKS banks of
     * CTL/STATUS/ADDR/MISC, storage only (no errors are ever reported). */
#define X86_MCE_BANKS 10
    uint64_t mcg_ctl, mcg_status, mce_banks[X86_MCE_BANKS * 4];
    uint64_t xcr0;

    /* ---- x87 / MMX / SSE ---- */
    Float80 fpregs[8];       /* physical registers; ST(i) = fpregs[(fpstt+i)&7]; MMX alias mant */
    unsigned fpstt;          /* top of stack */
    uint16_t fpus, fpuc;     /* status word (without TOP), control word */
    uint8_t fptags;          /* abridged: bit i set = register i empty */
    uint16_t fpop;
    uint64_t fpip, fpdp;
    uint16_t fpcs, fpds;
    XMMReg xmm[16];
    uint32_t mxcsr;
    /* Translator scratch for SSE/MMX (cpu/x86/translate-sse.c): [0] holds a
     * memory or GPR source operand, [1] a result bound for a GPR. */
    XMMReg simd_scratch[2];

    /* ---- events ---- */
    atomic_uint interrupt_request;
    bool halted;
    int exception_index;     /* pending exception, -1 none */
    int error_code;
    bool nmi_masked;
    bool wait_for_sipi;      /* AP after INIT: only a SIPI starts it */
    int sipi_vector;         /* set by the APIC before CPU_INTERRUPT_SIPI */
    int old_exception;       /* for double-fault detection, -1 none */
    uint64_t a20_mask;       /* physical address mask (A20 gate) */

    /* ---- glue ---- */
    struct VCPU *vcpu;
    void *apic;              /* hw/apic.c state, NULL without a local APIC */
    /* Acknowledge an external interrupt: returns its vector, or -1 (spurious). */
    int (*intack)(struct CPUX86State *env);
    jmp_buf jmp_env;         /* the execution loop's exit point */
    void *accel;             /* accelerator-private */
    uint64_t stat_walks;     /* page-table walks (-d jit statistics) */
} CPUX86State;

/* The PCID the TLB tags new entries with: CR3[11:0] under CR4.PCIDE, else 0. */
static inline unsigned x86_pcid(const CPUX86State *env)
{
    return (env->cr[4] & CR4_PCIDE) ? (unsigned)(env->cr[3] & 0xfff) : 0;
}

/* Architectural EFLAGS including the lazily computed arithmetic flags. */
uint32_t x86_get_eflags(CPUX86State *env);
void x86_set_eflags(CPUX86State *env, uint32_t value, uint32_t update_mask);
/* Recompute env->hflags from CR0/CR4/EFER/segments/EFLAGS. */
void x86_update_hflags(CPUX86State *env);

/* The base code addresses add to RIP: none in 64-bit mode (the SDM: the CS
 * base is treated as zero there, whatever the descriptor held). */
static inline uint64_t x86_cs_base(const CPUX86State *env)
{
    return (env->hflags & HF_CS64_MASK) ? 0 : env->segs[R_CS].base;
}
/* Power-on / INIT state (real mode, CS:IP = F000:FFF0). */
void x86_cpu_reset(CPUX86State *env);
/* Set the INTR line level (called by the PIC/APIC with the machine lock held). */
void x86_cpu_set_irq(CPUX86State *env, int level);
void x86_cpu_interrupt(CPUX86State *env, unsigned mask);       /* set bits and kick */
void x86_cpu_reset_interrupt(CPUX86State *env, unsigned mask);
/* Print the registers like QEMU's "info registers" (monitor, -d cpu). */
struct _IO_FILE;
void x86_cpu_dump_state(CPUX86State *env, struct _IO_FILE *f);

#endif
