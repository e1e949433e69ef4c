/* Internal to the system helpers (cpu/x86/seg*.c, excp*.c, syscall.c, cr.c...):
 * descriptor decoding, system-structure memory access, stack pushes, raising. */
#ifndef CPU_X86_SEG_H
#define CPU_X86_SEG_H

/* util.h first: its noreturn attributes predate <stdnoreturn.h> in exec.h */
#include "system/util.h"
#include "cpu/x86/cpu.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"

/* Implicit supervisor accesses (GDT/LDT/IDT/TSS, interrupt stacks): SMAP
 * applies to them regardless of EFLAGS.AC (SDM 4.6.1), hence MMU_KERNEL_IDX. */
#define SYS_IDX MMU_KERNEL_IDX

/* System descriptor types (S = 0) */
enum {
    SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALLGATE16 = 4,
    SYS_TASKGATE = 5, SYS_INTGATE16 = 6, SYS_TRAPGATE16 = 7,
    SYS_TSS32_AVAIL = 9, SYS_TSS32_BUSY = 11, SYS_CALLGATE32 = 12,
    SYS_INTGATE32 = 14, SYS_TRAPGATE32 = 15,
};

/* A descriptor as two dwords (and the upper 8 bytes of a 16-byte one). */
typedef struct Desc {
    uint32_t lo, hi;
    uint32_t hi2;       /* bits 63:32 of the base for 16-byte system descriptors */
} Desc;

static inline uint64_t desc_base(const Desc *d)
{
    return (d->lo >> 16) | ((d->hi & 0xff) << 16) | (d->hi & 0xff000000u);
}
static inline uint32_t desc_limit(const Desc *d)
{
    uint32_t limit = (d->lo & 0xffff) | (d->hi & 0x000f0000u);
    return (d->hi & DESC_G_MASK) ? (limit << 12) | 0xfff : limit;
}
static inline uint32_t desc_flags(const Desc *d) { return d->hi & 0x00f0ff00u; }
static inline int desc_dpl(const Desc *d) { return (d->hi >> DESC_DPL_SHIFT) & 3; }
static inline int desc_type(const Desc *d) { return (d->hi >> DESC_TYPE_SHIFT) & 15; }
static inline bool desc_present(const Desc *d) { return d->hi & DESC_P_MASK; }
static inline bool desc_is_system(const Desc *d) { return !(d->hi & DESC_S_MASK); }
static inline bool desc_is_code(const Desc *d)
{
    return (d->hi & DESC_S_MASK) && (d->hi & DESC_CS_MASK);
}
static inline bool desc_is_conforming(const Desc *d)
{
    return desc_is_code(d) && (d->hi & DESC_C_MASK);
}
static inline bool desc_is_writable_data(const Desc *d)
{
    return (d->hi & DESC_S_MASK) && !(d->hi & DESC_CS_MASK) && (d->hi & DESC_W_MASK);
}
static inline bool desc_is_readable(const Desc *d)
{
    return (d->hi & DESC_S_MASK) && (!(d->hi & DESC_CS_MASK) || (d->hi & DESC_R_MASK));
}

static inline int cpl(CPUX86State *env) { return env->hflags & HF_CPL_MASK; }
static inline bool long_mode(CPUX86State *env) { return env->hflags & HF_LMA_MASK; }
static inline bool code64(CPUX86State *env) { return env->hflags & HF_CS64_MASK; }
static inline bool v86_mode(CPUX86State *env) { return env->eflags & VM_MASK; }
static inline bool prot_mode(CPUX86State *env) { return env->cr[0] & CR0_PE; }
static inline int iopl(CPUX86State *env) { return (env->eflags >> 12) & 3; }

/* The execution engine's services, or stand-ins without it (excp-engine.c). */
noreturn void sys_raise_exception(CPUX86State *env, int vector, uint32_t error_code,
                                  uintptr_t ra);
uint32_t sys_cc_get(CPUX86State *env);
void sys_cc_set(CPUX86State *env, uint32_t flags);
void sys_tlb_flush(CPUX86State *env);
void sys_tlb_flush_page(CPUX86State *env, uint64_t vaddr);
void sys_tlb_flush_nonglobal(CPUX86State *env);
void sys_tlb_cr3_written(CPUX86State *env, bool keep);
void sys_tlb_invpcid(CPUX86State *env, unsigned type, unsigned pcid, uint64_t addr);
/* Linear to physical for the helpers' own accesses: through the TLB, or a
 * page walk without the translator. Faults are raised through ra. */
uint64_t sys_translate(CPUX86State *env, uint64_t lin, int access, int mmu_idx, uintptr_t ra);
void sys_restore_state(CPUX86State *env, uintptr_t ra);
noreturn void sys_loop_exit(CPUX86State *env);

/* Raise an exception; never returns. */
static inline noreturn void raise_err(CPUX86State *env, int vec, uint32_t err, uintptr_t ra)
{
    sys_raise_exception(env, vec, err, ra);
}
static inline noreturn void raise_gp0(CPUX86State *env, uintptr_t ra)
{
    sys_raise_exception(env, EXCP_GP, 0, ra);
}
static inline noreturn void raise_ud(CPUX86State *env, uintptr_t ra)
{
    sys_raise_exception(env, EXCP_UD, 0, ra);
}

/* Read the descriptor for selector from the GDT or LDT. Returns false when the
 * selector's index is beyond the table limit (the caller picks the fault).
 * wide: read a 16-byte system descriptor (long mode). */
bool seg_read_desc(CPUX86State *env, uint32_t selector, Desc *d, bool wide, uintptr_t ra);
/* Set the Accessed bit of a code/data descriptor in its table. */
void seg_set_accessed(CPUX86State *env, uint32_t selector, Desc *d, uintptr_t ra);
/* Linear address of the descriptor for selector. */
uint64_t seg_desc_addr(CPUX86State *env, uint32_t selector);
/* Load a segment cache from a descriptor without checks (hflags not updated). */
void seg_cache_load(CPUX86State *env, int seg, uint32_t selector, const Desc *d);
/* A null selector in a data segment register: unusable (present bit clear).
 * dpl is kept for SS in 64-bit mode, where CPL = SS.DPL. */
void seg_load_null(CPUX86State *env, int seg, uint32_t selector, int dpl);
/* Real-mode/V86 segment: base = sel << 4 (V86: limit 64K, DPL 3 attributes). */
void seg_load_v86(CPUX86State *env, int seg, uint16_t selector);
/* After a return to an outer privilege level: null DS/ES/FS/GS whose DPL is
 * below the new CPL (data or non-conforming code). */
void seg_null_inaccessible(CPUX86State *env, int new_cpl);
/* Validate selector as a stack segment for privilege level dpl (task switch,
 * call gate, interrupt): fault vector EXCP_TS (or EXCP_GP for RET/IRET) on a
 * bad selector, EXCP_SS on not-present. Fills *d. */
void seg_check_stack(CPUX86State *env, uint32_t selector, int dpl, Desc *d,
                     int fault_vec, uint32_t ext, uintptr_t ra);

/* Stack pointer arithmetic respecting the SS size (16/32/64-bit). */
uint64_t stack_mask(CPUX86State *env, uint32_t ss_flags);
/* Push/pop helpers on an explicit (ss_base, sp, mask) stack; sp is updated in
 * the local variable, not in env, so that a fault leaves env untouched.
 * The optional fields (zero = off) make each access a CPL-3 one (user page
 * check) and check it against the segment limit, raising #SS(fault_err). */
typedef struct StackPtr {
    uint64_t base, sp, mask;
    bool user, checked, expand_down;
    uint32_t limit, fault_err;
} StackPtr;
void stack_push(CPUX86State *env, StackPtr *s, uint64_t value, unsigned size, uintptr_t ra);
/* Limit-check the n pushes of size bytes s is about to make, before the
 * first one: a frame without room is #SS(fault_err) with nothing written. */
void stack_reserve(CPUX86State *env, const StackPtr *s, unsigned n, unsigned size, uintptr_t ra);
uint64_t stack_pop(CPUX86State *env, StackPtr *s, unsigned size, uintptr_t ra);
/* The current SS:rSP at the current CPL (V86 and ring 3: user accesses),
 * limit-checked unless SS is flat or the code is 64-bit: a fault is
 * #SS(fault_err) (0 for instructions, EXT for event delivery). */
StackPtr stack_current(CPUX86State *env, uint32_t fault_err);
/* Check the accesses of s against the limit of the stack descriptor d (a new
 * inner stack): #SS(fault_err), the new SS selector (SDM vol 3, 6.15 #SS). */
void stack_check_desc(StackPtr *s, const Desc *d, uint32_t fault_err);
/* Write back a stack pointer into RSP with the mask (upper bits kept for 16-bit). */
void set_rsp_masked(CPUX86State *env, uint64_t sp, uint64_t mask);

/* Task switch (cpu/x86/seg-task.c). source tells how it was reached. */
enum { TASK_FROM_JMP, TASK_FROM_CALL, TASK_FROM_IRET, TASK_FROM_INT };
void task_switch(CPUX86State *env, uint32_t tss_selector, Desc *tss_desc,
                 int source, uint64_t next_rip, uint32_t ext, uintptr_t ra);
/* Read the stack for privilege level dpl from the current TSS (legacy). */
void tss_get_stack(CPUX86State *env, int dpl, uint32_t *ss, uint32_t *esp,
                   uint32_t ext, uintptr_t ra);
/* Read RSPn (ist = 0) or ISTn from the 64-bit TSS. */
uint64_t tss64_get_stack(CPUX86State *env, int dpl, int ist, uint32_t ext, uintptr_t ra);

/* Event delivery (cpu/x86/excp.c). kind says what the event is: a software
 * interrupt (INT n/INT3/INTO: gate DPL checked, EXT=0), an exception, an
 * external interrupt or NMI, or ICEBP (like an exception: no DPL check, EXT=1). */
enum { EVENT_SOFT, EVENT_EXCEPTION, EVENT_EXTERNAL, EVENT_ICEBP };
void deliver_event(CPUX86State *env, int vector, int kind, uint32_t error_code,
                   bool has_error_code, uint64_t next_rip, uintptr_t ra);

/* Atomically (like the locked cycles of the hardware) replace the dword at a
 * linear address with (old & and_mask) | or_mask; returns the old value.
 * For descriptor Accessed and Busy bits, which other vCPUs may update too. */
uint32_t x86_update_linear32(CPUX86State *env, uint64_t lin, uint32_t and_mask,
                             uint32_t or_mask, uintptr_t ra);
/* Virtual-8086 mode extensions (cpu/x86/ioperm.c): V86 with CR4.VME and
 * IOPL < 3; loading a 16-bit FLAGS image there (POPF, IRET). */
bool x86_vme_active(CPUX86State *env);
void x86_vme_load_flags16(CPUX86State *env, uint32_t fl, uintptr_t ra);
/* Legacy PAE: are the four PDPTEs at cr3 free of reserved bits? (cpu/x86/mmu.c) */
bool x86_pae_pdptes_valid(CPUX86State *env, uint64_t cr3);

/* Set CS and RIP together with CPL; updates hflags. */
void load_cs_cpl(CPUX86State *env, uint32_t selector, const Desc *d, int new_cpl);

#endif
