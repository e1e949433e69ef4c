/* Services of the execution engine (the translator's run loop and softmmu TLB)
 * for the CPU helpers in cpu/x86/ (system semantics, FPU, ...).
 *
 * Implemented by accel/tcg*.c. Under KVM these are not used.
 *
 * retaddr: helpers called from translated code pass GETPC() (the host return
 * address into the generated code); the engine maps it back to the guest
 * instruction so RIP and the lazy flags are restored exactly before an
 * exception is delivered. retaddr == 0 means "env is already synchronised"
 * (env->rip is the faulting instruction, cc_op valid), e.g. when called from
 * the execution loop itself. */
#ifndef CPU_X86_EXEC_H
#define CPU_X86_EXEC_H

#include <stdint.h>
#include "system/util.h"   /* before stdnoreturn.h: it uses __attribute__((noreturn)) */
#include <stdnoreturn.h>

#include "cpu/x86/cpu.h"

/* The host return address of the current helper, for retaddr arguments.
 * Use only directly in a function called from translated code. */
#define GETPC() ((uintptr_t)__builtin_return_address(0))

/* MMU index for data accesses at the current privilege level
 * (MMU_PHYS_IDX when paging is off, MMU_USER_IDX at CPL 3, else the kernel
 * indices; SMAP picks MMU_KERNEL_IDX unless EFLAGS.AC). */
int x86_mmu_index(CPUX86State *env);
/* MMU index for implicit supervisor accesses (descriptor tables, TSS, IDT):
 * MMU_KERNEL_NOSMAP_IDX, or MMU_PHYS_IDX with paging off. */
int x86_mmu_index_kernel(CPUX86State *env);

/* Linear-address ("virtual") memory access through the softmmu TLB, size 1, 2,
 * 4 or 8, any alignment (page-crossing accesses are split). A translation
 * failure raises #PF (or whatever the walker decides) via x86_raise_exception
 * and does not return. MMIO goes to the device with the machine lock held. */
uint64_t cpu_ld(CPUX86State *env, uint64_t vaddr, unsigned size, int mmu_idx,
                uintptr_t retaddr);
void cpu_st(CPUX86State *env, uint64_t vaddr, uint64_t value, unsigned size,
            int mmu_idx, uintptr_t retaddr);
/* Copy a whole buffer (no partial effect on a fault of a read: all pages are
 * checked before use). */
void cpu_ld_buf(CPUX86State *env, uint64_t vaddr, void *buf, unsigned len,
                int mmu_idx, uintptr_t retaddr);
void cpu_st_buf(CPUX86State *env, uint64_t vaddr, const void *buf, unsigned len,
                int mmu_idx, uintptr_t retaddr);

/* Guest-physical accesses (page walker, A/D bits), A20 mask applied.
 * MMIO goes to the device with the machine lock held. */
uint64_t cpu_phys_ld(CPUX86State *env, uint64_t paddr, unsigned size);
void cpu_phys_st(CPUX86State *env, uint64_t paddr, uint64_t value, unsigned size);

/* Raise an exception: sets env->exception_index/error_code, restores the guest
 * state of the faulting instruction from retaddr, and leaves the translated
 * code (longjmp to env->jmp_env). The loop then delivers it through the
 * interrupt helper. Never returns. */
_Noreturn void x86_raise_exception(CPUX86State *env, int vector, int error_code,
                                  uintptr_t retaddr);
_Noreturn void x86_raise_exception_noerr(CPUX86State *env, int vector,
                                        uintptr_t retaddr);
/* Restore RIP / lazy flags of the guest instruction executing at retaddr
 * (no-op when retaddr is 0 or not inside translated code). */
void cpu_restore_state(CPUX86State *env, uintptr_t retaddr);
/* Leave the translated code back to the loop; state must be synchronised
 * (e.g. after a helper changed CR0, or for HLT). Never returns. */
_Noreturn void cpu_loop_exit(CPUX86State *env);
_Noreturn void cpu_loop_exit_restore(CPUX86State *env, uintptr_t retaddr);

/* TLB maintenance, for CR0/CR3/CR4/EFER writes, INVLPG and A20 changes.
 * Safe to call from helpers running inside translated code. After a mode
 * change that affects decoding, the helper should also end the block: the
 * translator ends the TB after every instruction that calls such a helper. */
void tlb_flush(CPUX86State *env);
void tlb_flush_page(CPUX86State *env, uint64_t vaddr);
/* Drop every translation of the current PCID but the global ones. */
void tlb_flush_nonglobal(CPUX86State *env);
/* CR3 was written (env->cr[3] holds the new value): the TLB moves to the
 * new PCID (x86_pcid). keep (CR3 bit 63 under CR4.PCIDE) leaves that PCID's
 * entries valid; otherwise its non-global entries are dropped. Other PCIDs'
 * entries stay. */
void tlb_cr3_written(CPUX86State *env, bool keep);
/* INVPCID of a valid type (0 address, 1 PCID, 2 all with globals, 3 all
 * but globals), operands checked. */
void tlb_invpcid(CPUX86State *env, unsigned type, unsigned pcid, uint64_t addr);
/* Physical address of an access (X86_ACCESS_*) to vaddr through the TLB,
 * filling it on a miss; faults are raised through ra. */
uint64_t tlb_translate(CPUX86State *env, uint64_t vaddr, int access, int mmu_idx, uintptr_t ra);
/* DR7 was written: looked-up blocks may now need (or no longer need) the
 * breakpoint checks (accel/tcg-jmp-cache.c). */
void tcg_debug_regs_changed(CPUX86State *env);

/* Lazy flags (cpu/x86/cc.c): the architectural arithmetic flags (CC_MASK bits)
 * from env->cc_op / cc_dst / cc_src / cc_src2; and setting them explicitly
 * (switches env->cc_op to the "flags in cc_src" form). */
uint32_t cc_compute_all(CPUX86State *env);
void cc_set_all(CPUX86State *env, uint32_t flags);

/* Loops inside one translation (self-loops, regions) on, the default; the
 * CPU oracle turns them off to bound a run by counting blocks. */
extern bool x86_translate_loops;

/* Which direct transfers a translation goes on through (-accel tcg,follow=):
 * none, JMPs and then CALLs whose target lies ahead on its page, and then
 * conditional branches too (on at their fall-through, with a side exit). */
enum { FOLLOW_NONE, FOLLOW_JMP, FOLLOW_JMP_CALL, FOLLOW_ALL };
extern unsigned x86_translate_follow;

#endif
