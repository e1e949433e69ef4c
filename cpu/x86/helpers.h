/* x86 system-level semantics: the helpers the translator calls from generated
 * code and from its execution loop (and that KVM/monitor/gdbstub may reuse).
 *
 * Implemented in cpu/x86/{cpu,seg*,mmu,excp*,syscall,cpuid,msr,cr,ioperm,debug}.c.
 *
 * Conventions, shared by every function below:
 *  - `ra` is the host return address into translated code (GETPC() from
 *    cpu/x86/exec.h), or 0 when env is already synchronised. A helper that
 *    faults calls x86_raise_exception(env, vec, err, ra) and does not return;
 *    every helper does all its checks (and all guest-memory writes that can
 *    fault) before it changes any register, so a fault leaves the registers as
 *    they were at the start of the instruction. (Exception: a task switch
 *    commits to the new task first; faults while loading the new task's
 *    segments are raised in the new task's context with retaddr 0, as the
 *    SDM specifies.) Without the translator linked (KVM-only builds, unit
 *    tests) faults longjmp to env->jmp_env with env->exception_index and
 *    env->error_code set (cpu/x86/excp-engine.c).
 *  - Before calling a helper that may fault or that reads/writes guest
 *    registers, the translator stores its cached guest registers (regs[],
 *    the lazy flags, and for helpers taking no next_rip, rip) into env.
 *  - "[ends TB]": the helper changes mode, CS, RIP or the stack in ways the
 *    translation depends on (it recomputes env->hflags itself); after it the
 *    generated code must reload everything from env and leave the block,
 *    continuing at env->rip.
 *  - "dflag": operand size of the instruction: 0 = 16-bit, 1 = 32-bit, 2 = 64-bit.
 *  - Selector error codes follow the SDM: (selector & 0xfffc) | EXT (bit 0,
 *    event was external/an exception) | IDT (bit 1) | TI comes from the selector.
 *  - Guest memory for system structures (GDT, LDT, IDT, TSS, page tables,
 *    interrupt stacks) is reached through the page walker below and
 *    current_machine->mem, with env->a20_mask applied. */
#ifndef CPU_X86_HELPERS_H
#define CPU_X86_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/x86/cpu.h"

/* ===================== paging (cpu/x86/mmu.c) ================================ */

/* access kinds for the walker */
enum { X86_ACCESS_READ = 0, X86_ACCESS_WRITE = 1, X86_ACCESS_FETCH = 2 };
/* prot bits returned by the walker: what the TLB entry may allow without a new walk.
 * WRITE is granted only when the Dirty bit is already set (so the first write
 * walks again and sets D). */
#define X86_PROT_READ  1
#define X86_PROT_WRITE 2
#define X86_PROT_EXEC  4
/* not a right: the leaf entry is global (G=1 with CR4.PGE), so the TLB keeps
 * the translation across CR3 writes */
#define X86_PROT_GLOBAL 8
/* #PF error code bits */
#define PF_ERR_P    (1u << 0)
#define PF_ERR_W    (1u << 1)
#define PF_ERR_U    (1u << 2)
#define PF_ERR_RSVD (1u << 3)
#define PF_ERR_I    (1u << 4)
/* Return values of x86_mmu_translate besides 0 (success): a #PF (error code in
 * the low 16 bits) or a #GP(0) for a non-canonical address in long mode. */
#define X86_MMU_PF  (1 << 29)
#define X86_MMU_GP  (1 << 30)

/* Translate a linear address for an access at mmu_idx (MMU_* from cpu.h; the
 * index decides user/supervisor and whether SMAP applies). Walks 32-bit (with
 * PSE 4 MiB pages), PAE or 4-level tables, checks P/RW/US/NX/WP/SMEP/SMAP and
 * reserved bits, sets Accessed (and Dirty on a write) atomically in guest RAM.
 * Returns 0 with *paddr (A20 applied), *prot (X86_PROT_*), *page_size (4K, 2M,
 * 4M or 1G; the TLB may map just the 4K page holding vaddr); or X86_MMU_PF |
 * pf_error_code, or X86_MMU_GP. Never raises, never touches CR2. */
int x86_mmu_translate(CPUX86State *env, uint64_t vaddr, int access, int mmu_idx,
                      uint64_t *paddr, int *prot, uint64_t *page_size);
/* As above, and on failure raises the fault (CR2 = vaddr for #PF) through
 * x86_raise_exception(env, ..., ra). Returns the physical address. This is what
 * the softmmu calls on a TLB miss. */
uint64_t x86_tlb_fill(CPUX86State *env, uint64_t vaddr, int access, int mmu_idx,
                      int *prot, uint64_t *page_size, uintptr_t ra);
/* Debug translation (monitor, gdbstub): never faults, never sets A/D bits,
 * ignores permissions. Returns 0 and *paddr, or -1 when not mapped. */
int x86_mmu_debug_translate(CPUX86State *env, uint64_t vaddr, uint64_t *paddr);

/* Linear-address accesses used by the system helpers (descriptor tables, TSS,
 * IDT, interrupt stacks): size 1/2/4/8, page-crossing split, faults raised
 * with ra (#PF with CR2, #GP for non-canonical). mmu_idx as for translate. */
uint64_t x86_ld_linear(CPUX86State *env, uint64_t lin, unsigned size, int mmu_idx,
                       uintptr_t ra);
void x86_st_linear(CPUX86State *env, uint64_t lin, uint64_t val, unsigned size,
                   int mmu_idx, uintptr_t ra);
/* INVLPG: flush the TLB entry for linear address addr. CPL checked by the caller
 * (x86_check_cpl0). */
void x86_invlpg(CPUX86State *env, uint64_t addr);
/* INVPCID of the type and descriptor (PCID field, linear address) given:
 * #GP(0) for a type above 3, PCID field bits 63:12 set, a PCID other than 0
 * for types 0/1 without CR4.PCIDE, or a non-canonical address for type 0.
 * The caller checks CPL 0 and the type before it reads the descriptor, as
 * KVM does (#UD cases are the translator's). */
void x86_invpcid(CPUX86State *env, uint64_t type, uint64_t pcid, uint64_t addr, uintptr_t ra);
/* Is the address canonical for the current mode (always true outside long mode)? */
bool x86_is_canonical(CPUX86State *env, uint64_t addr);

/* ===================== segmentation (cpu/x86/seg*.c) ========================= */

/* MOV/POP Sreg, LDS/LES/LFS/LGS/LSS: load segment register seg (R_ES..R_GS)
 * with selector. Real/V86 mode: base = sel << 4, no checks. Protected mode:
 * null selector (#GP(0) for SS except 64-bit mode at CPL<3 with RPL=CPL),
 * limit/type/DPL/RPL/present checks: #GP(sel), #SS(sel) or #NP(sel). Sets the
 * Accessed bit. Updates hflags. Loading SS: the translator also sets the
 * interrupt shadow (HF_INHIBIT_IRQ_MASK) and ends the TB. */
void x86_load_seg(CPUX86State *env, int seg, uint32_t selector, uintptr_t ra);
/* Like x86_load_seg for real/V86 mode without checks (mode-independent raw load). */
void x86_load_seg_real(CPUX86State *env, int seg, uint16_t selector);
/* Limit and type check for an access of size bytes at offset in segment seg
 * (expand-up and expand-down, 16/32-bit B flag; null/unusable segment; write to
 * read-only data or code; read of execute-only code). #SS(0) for SS, else
 * #GP(0). In 64-bit mode only FS/GS bases apply and no check is done. Returns
 * the linear address (base + offset, truncated to 32 bits outside long mode).
 * The translator calls it for non-flat segments (or generates the checks). */
uint64_t x86_seg_check(CPUX86State *env, int seg, uint64_t offset, unsigned size,
                       bool write, uintptr_t ra);
/* A segment with base 0, a 4 GiB limit and read/write data access. */
bool x86_seg_is_flat(const SegmentCache *sc);
/* The segment-check bits of a translation block's flags for the current
 * state: TBF_SEGCHECK (protected mode, some data segment is not flat) and
 * TBF_SEG_INLINE(seg) (cpu/x86/translate.h). */
uint32_t x86_seg_tb_flags(const CPUX86State *env);
/* Translated code marks an access that failed its inline limit check by
 * setting bit 63 (#GP(0)) or bit 62 (#SS(0)) of the linear address, which no
 * TLB entry matches; the TLB miss path calls this to raise the fault. */
#define X86_LINEAR_GP_MARK (1ULL << 63)
#define X86_LINEAR_SS_MARK (1ULL << 62)
void x86_seg_raise_marked(CPUX86State *env, uint64_t vaddr, uintptr_t ra);
/* LLDT / LTR (CPL 0 checked here: #GP(0)); descriptor checks #GP(sel)/#NP(sel);
 * LTR marks the TSS busy. 16-byte system descriptors in long mode. #UD in
 * real/V86 mode. */
void x86_lldt(CPUX86State *env, uint32_t selector, uintptr_t ra);
void x86_ltr(CPUX86State *env, uint32_t selector, uintptr_t ra);
/* LAR / LSL: the access rights (descriptor high dword & 0x00f0ff00) or the
 * expanded limit, or -1 when the selector is not valid for the instruction at
 * this CPL (the translator sets ZF = (result != -1) and leaves the destination
 * unchanged on -1). Never fault except #PF/#GP on reading the table, and #UD in
 * real/V86 mode. */
int64_t x86_lar(CPUX86State *env, uint32_t selector, uintptr_t ra);
int64_t x86_lsl(CPUX86State *env, uint32_t selector, uintptr_t ra);
/* VERR / VERW: true (ZF=1) when the segment is readable / writable at this CPL. */
bool x86_verr(CPUX86State *env, uint32_t selector, uintptr_t ra);
bool x86_verw(CPUX86State *env, uint32_t selector, uintptr_t ra);

/* Far JMP ptr16:off / m16:off [ends TB]. Real/V86: CS = sel, RIP = off.
 * Protected: code segment (conforming/non-conforming rules), call gate (no
 * privilege change on JMP), task gate or TSS (task switch); #GP/#NP/#TS with
 * selector error codes; #GP(0) for an offset beyond the new CS limit.
 * next_rip is the address of the following instruction (saved in the old TSS
 * on a task switch). */
void x86_ljmp(CPUX86State *env, uint32_t selector, uint64_t offset,
              uint64_t next_rip, uintptr_t ra);
/* Far CALL [ends TB]: pushes CS:next_rip with operand size dflag; through call
 * gates with privilege change: new SS:RSP from the TSS (#TS), copies
 * param_count parameters (32-bit gates: dwords, 16-bit: words; none in 64-bit
 * mode), pushes old SS:RSP. Task gates/TSS: task switch with NT and back link. */
void x86_lcall(CPUX86State *env, uint32_t selector, uint64_t offset, int dflag,
               uint64_t next_rip, uintptr_t ra);
/* Far RET [imm16] [ends TB]: pops CS:RIP (dflag), releases imm bytes; to an
 * outer privilege level also pops SS:RSP and nulls DS/ES/FS/GS whose DPL <
 * the new CPL (data or non-conforming code). */
void x86_lret(CPUX86State *env, int dflag, unsigned imm, uintptr_t ra);
/* IRET / IRETD / IRETQ [ends TB]: real mode; V86 (IOPL 3, else #GP(0)); protected
 * mode same/outer privilege, return to V86 (from CPL 0), NT=1 task return
 * through the back link (#TS; next_rip is saved in the old TSS); 64-bit mode
 * always pops SS:RSP. Unblocks NMIs. */
void x86_iret(CPUX86State *env, int dflag, uint64_t next_rip, uintptr_t ra);

/* ===================== interrupts and exceptions (cpu/x86/excp*.c) ========== */

/* Deliver an interrupt or exception now (does not longjmp except on a nested
 * fault, which goes through x86_raise_exception with ra=0 and comes back here
 * for delivery, possibly as #DF; a fault while delivering #DF is a triple fault:
 * machine_request_reset()). Real mode: IVT; protected: interrupt/trap/task gates
 * with TSS stack switch and V86 exit; long mode: 64-bit IDT, IST, aligned stack.
 * is_soft_int: INT n/INT3/INTO/ICEBP (gate DPL was checked by the caller; pushes
 * next_rip); otherwise the pushed RIP is env->rip (fault) or next_rip for traps
 * the caller passes explicitly. Sets CR2 only via x86_tlb_fill. Updates hflags. */
void x86_do_interrupt(CPUX86State *env, int vector, int is_soft_int,
                      int error_code, int has_error_code, uint64_t next_rip);
/* Deliver env->exception_index (with env->error_code when the vector has one)
 * at env->rip, then reset exception_index to -1. Called by the execution loop
 * after a longjmp from x86_raise_exception. */
void x86_deliver_pending_exception(CPUX86State *env);
/* Does this exception vector push an error code (8, 10-14, 17, 21)? */
bool x86_exception_has_error_code(int vector);
/* Called by the execution loop at block boundaries: take a pending INIT, NMI
 * (unless blocked) or INTR (when IF=1 and no interrupt shadow) from
 * env->interrupt_request; the vector comes from env->intack. Returns true
 * when an event was delivered (CS:RIP changed, env->halted cleared). */
bool x86_cpu_exec_interrupt(CPUX86State *env);
/* Start-up IPI for an AP in wait-for-SIPI state: the APIC stores the vector in
 * env->sipi_vector and raises CPU_INTERRUPT_SIPI; x86_cpu_exec_interrupt then
 * starts the CPU in real mode at vector:0000 (CS = vector << 8). INIT (raised as
 * CPU_INTERRUPT_INIT) resets the CPU, keeping MTRRs/PAT/APIC base/TSC, and puts
 * an AP (APIC_BASE.BSP = 0) into wait-for-SIPI (halted). */
/* CPU_INTERRUPT_TLBFLUSH (A20 changes from other threads) is also handled
 * there: the vCPU flushes its own TLB. */
struct Machine;
/* Called by machine_set_a20: new env->a20_mask on every CPU, TLB flush requested. */
void x86_machine_a20_changed(struct Machine *m, bool enabled);
/* Would an event in interrupt_request wake a halted CPU now? */
bool x86_cpu_has_work(CPUX86State *env);
/* INT n [ends TB]: in protected mode #GP(vec*8+2) when the gate DPL < CPL; in
 * V86 mode with IOPL<3 #GP(0); then delivers with next_rip pushed. */
void x86_int(CPUX86State *env, int vector, uint64_t next_rip, uintptr_t ra);
/* INT3 (vector 3, as INT n but no V86 IOPL check), INTO (#OF when OF=1, else
 * nothing; V86 IOPL check as INT n; reads OF through the lazy flags), ICEBP/INT1
 * (vector 1, no DPL check, delivered as a trap). All [ends TB]. */
void x86_int3(CPUX86State *env, uint64_t next_rip, uintptr_t ra);
void x86_into(CPUX86State *env, uint64_t next_rip, uintptr_t ra);
void x86_icebp(CPUX86State *env, uint64_t next_rip, uintptr_t ra);
/* HLT: #GP(0) if CPL>0; sets env->halted and RIP = next_rip, then leaves the
 * translated code (cpu_loop_exit). Never returns. */
void x86_hlt(CPUX86State *env, uint64_t next_rip, uintptr_t ra) __attribute__((__noreturn__));

/* ===================== flags, privilege, I/O (cpu/x86/cpu.c, ioperm.c) ====== */

/* CLI / STI: IOPL rules (#GP(0) when CPL > IOPL in protected mode, or IOPL < 3
 * in V86 mode); with CR4.VME (V86) or CR4.PVI (CPL 3) and IOPL < 3 they clear
 * or set VIF instead (STI with VIP set: #GP(0)). STI: the translator sets the
 * interrupt shadow. */
void x86_cli(CPUX86State *env, uintptr_t ra);
void x86_sti(CPUX86State *env, uintptr_t ra);
/* PUSHF: the image to push (VM and RF cleared); #GP(0) in V86 with IOPL<3,
 * except 16-bit PUSHF under CR4.VME (IF shows VIF, IOPL shows 3).
 * x86_pushf is x86_pushf_op with dflag 1 (callers that know the operand size
 * should use x86_pushf_op, which VME needs). */
uint64_t x86_pushf_op(CPUX86State *env, int dflag, uintptr_t ra);
uint64_t x86_pushf(CPUX86State *env, uintptr_t ra);
/* POPF: writes EFLAGS with the mode's mask (IOPL only at CPL 0, IF only when
 * CPL <= IOPL, VM/RF/VIP/VIF never; 16-bit keeps the high half); #GP(0) in V86
 * with IOPL<3, except 16-bit POPF under CR4.VME (IF goes to VIF; #GP(0) if
 * that would enable with VIP set, or sets TF). [ends TB] (TF/IF/AC may change). */
void x86_popf(CPUX86State *env, uint64_t value, int dflag, uintptr_t ra);
/* #GP(0) unless CPL is 0 (privileged instructions: LGDT, LIDT, INVLPG, WBINVD,
 * MOV CR/DR, RDMSR/WRMSR, CLTS, LMSW...). Also #GP(0) in V86 mode. */
void x86_check_cpl0(CPUX86State *env, uintptr_t ra);
/* IN/OUT/INS/OUTS permission: when in protected mode with CPL > IOPL, or in V86
 * mode, every bit for port..port+size-1 in the TSS I/O bitmap must be 0, else
 * #GP(0) (also when TR is not a 32/64-bit TSS or the bitmap is beyond its limit). */
void x86_check_io(CPUX86State *env, uint32_t port, unsigned size, uintptr_t ra);

/* ===================== control and debug registers (cpu/x86/cr.c, debug.c) == */

/* MOV CRn, reg [ends TB]: CR0 (PE/PG consistency, PG needs PE, #GP on
 * CD=0/NW=1, reserved bits; setting PG with EFER.LME activates long mode, needs
 * CR4.PAE and not CS.L; clearing PG leaves it), CR2, CR3 (reserved bits above
 * MAXPHYADDR), CR4 (reserved and unsupported bits, PAE can't clear in long
 * mode), CR8 (TPR). Flushes the TLB as the architecture requires, updates hflags.
 * #GP(0) on a bad value, #UD for CR1/CR5-7/CR9-15. CPL checked here. */
void x86_write_cr(CPUX86State *env, int reg, uint64_t value, uintptr_t ra);
/* MOV reg, CRn (CPL checked; CR8 from the local APIC's TPR when present). */
uint64_t x86_read_cr(CPUX86State *env, int reg, uintptr_t ra);
/* LMSW (low 4 bits of CR0; can set but not clear PE) and CLTS. CPL checked.
 * [ends TB] */
void x86_lmsw(CPUX86State *env, uint32_t value, uintptr_t ra);
void x86_clts(CPUX86State *env, uintptr_t ra);
/* XSETBV: XCR[ECX] = EDX:EAX. #UD unless CR4.OSXSAVE; #GP(0) at CPL>0, for
 * ECX != 0, x87 bit clear, AVX without SSE, or components the model lacks
 * (x86_xcr0_supported()). [ends TB] */
void x86_xsetbv(CPUX86State *env, uintptr_t ra);
/* XCR0 components the model supports: x87 and SSE, plus AVX when advertised. */
uint64_t x86_xcr0_supported(void);
/* Write CR0/CR4/EFER without any check, then recompute hflags and flush TLB
 * (reset, loaders, KVM state sync, tests). */
void x86_set_cr0(CPUX86State *env, uint64_t value);
void x86_set_cr4(CPUX86State *env, uint64_t value);
void x86_set_efer(CPUX86State *env, uint64_t value);
/* MOV DRn, reg / MOV reg, DRn: CPL checked; DR4/DR5 alias DR6/DR7 unless CR4.DE
 * (#UD); #DB with DR6.BD when DR7.GD is set; #GP(0) on writing 1s to the upper
 * 32 bits of DR6/DR7 in 64-bit mode. Writing DR7 [ends TB] (breakpoints are
 * part of the translation). */
void x86_write_dr(CPUX86State *env, int reg, uint64_t value, uintptr_t ra);
uint64_t x86_read_dr(CPUX86State *env, int reg, uintptr_t ra);

/* Debug contract with the translator:
 *  - Instruction breakpoints: when x86_insn_breakpoints_enabled(env), the
 *    translator calls x86_check_insn_breakpoint(env, ra) before each guest
 *    instruction (RIP synced): it raises #DB (fault, DR6.Bn) when an enabled
 *    execute breakpoint matches CS.base+RIP and EFLAGS.RF is 0.
 *  - Data breakpoints: when x86_data_breakpoints_enabled(env), the translator
 *    calls x86_debug_data_access(env, linear, size, is_write) after each
 *    data access (it records matching Bn in env->dr6_pending), and
 *    x86_debug_insn_end(env, next_rip, false) after each instruction.
 *  - Single step: when HF_TF_MASK was set at the start of an instruction, the
 *    translator calls x86_debug_insn_end(env, next_rip, true) after it (one
 *    instruction per TB). x86_debug_insn_end needs env fully synchronised to the
 *    state *after* the instruction (registers, lazy flags); when a trap is due it
 *    sets RIP = next_rip, DR6.BS (single_step) and the pending Bn bits, and
 *    raises #DB with retaddr 0 (a trap: nothing to restore); else it returns.
 *  - EFLAGS.RF: x86_check_insn_breakpoint skips the check for one instruction
 *    when RF=1 and clears RF (equivalent to hardware clearing it when that
 *    instruction completes); x86_debug_insn_end clears it too. Elsewhere RF
 *    may stay set until the next event entry (harmless without breakpoints).
 *  - Both are part of the TB key through hflags (HF_TF_MASK) and DR7 (the
 *    translator: x86_write_dr tells it, and its jump cache starts afresh). */
bool x86_insn_breakpoints_enabled(CPUX86State *env);
bool x86_data_breakpoints_enabled(CPUX86State *env);
void x86_check_insn_breakpoint(CPUX86State *env, uintptr_t ra);
void x86_debug_data_access(CPUX86State *env, uint64_t linear, unsigned size,
                           bool is_write);
void x86_debug_insn_end(CPUX86State *env, uint64_t next_rip, bool single_step);

/* ===================== MSRs, TSC, CPUID (cpu/x86/msr.c, cpuid.c) =========== */

/* RDMSR / WRMSR [WRMSR ends TB]: msr = ECX, value EDX:EAX; CPL checked; #GP(0)
 * on unknown MSRs or bad values (EFER reserved bits, non-canonical bases...). */
void x86_rdmsr(CPUX86State *env, uintptr_t ra);
void x86_wrmsr(CPUX86State *env, uintptr_t ra);
/* The same without the register plumbing (KVM sync, monitor, tests):
 * return 0, or -1 where the guest would get #GP. */
int x86_msr_read(CPUX86State *env, uint32_t msr, uint64_t *value);
int x86_msr_write(CPUX86State *env, uint32_t msr, uint64_t value);

/* Guest TSC frequency: the TSC counts at this rate of CLOCK_VIRTUAL. */
#define X86_TSC_HZ 2000000000ULL
uint64_t x86_get_tsc(CPUX86State *env);
void x86_set_tsc(CPUX86State *env, uint64_t value);
/* RDTSC / RDTSCP / RDPID: #GP(0) when CR4.TSD and CPL > 0 (not for RDPID);
 * set EDX:EAX (and ECX = TSC_AUX) / write the result. */
void x86_rdtsc(CPUX86State *env, uintptr_t ra);
void x86_rdtscp(CPUX86State *env, uintptr_t ra);
uint64_t x86_rdpid(CPUX86State *env, uintptr_t ra);
/* RDPMC: not implemented (#GP(0)). */

/* CPUID instruction: leaf EAX, subleaf ECX; writes EAX/EBX/ECX/EDX. */
void x86_cpuid_insn(CPUX86State *env);
/* The model "kestrel64": the values for one leaf/subleaf (per-vCPU fields such
 * as the APIC ID and OSXSAVE come from env; env may be NULL). Leaves beyond the
 * maximum return the highest basic leaf, as Intel CPUs do. */
void x86_cpuid(CPUX86State *env, uint32_t leaf, uint32_t subleaf,
               uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx);
/* Every leaf of the model, for KVM (filter with KVM_GET_SUPPORTED_CPUID and
 * pass to KVM_SET_CPUID2). Returns the number written (at most max). */
typedef struct X86CPUIDEntry {
    uint32_t leaf, subleaf;
    bool has_subleaf;          /* the leaf depends on ECX */
    uint32_t eax, ebx, ecx, edx;
} X86CPUIDEntry;
int x86_cpuid_entries(CPUX86State *env, X86CPUIDEntry *out, int max);
/* Feature tests against the model, e.g. x86_cpu_has(X86_FEAT_NX). */
typedef enum X86Feature {
    /* leaf 1 EDX */
    X86_FEAT_FPU, X86_FEAT_VME, X86_FEAT_DE, X86_FEAT_PSE, X86_FEAT_TSC,
    X86_FEAT_MSR, X86_FEAT_PAE, X86_FEAT_MCE, X86_FEAT_CX8, X86_FEAT_APIC,
    X86_FEAT_SEP, X86_FEAT_MTRR, X86_FEAT_PGE, X86_FEAT_MCA, X86_FEAT_CMOV,
    X86_FEAT_PAT, X86_FEAT_PSE36, X86_FEAT_CLFLUSH, X86_FEAT_MMX, X86_FEAT_FXSR,
    X86_FEAT_SSE, X86_FEAT_SSE2,
    /* leaf 1 ECX */
    X86_FEAT_SSE3, X86_FEAT_PCLMULQDQ, X86_FEAT_SSSE3, X86_FEAT_CX16,
    X86_FEAT_SSE41, X86_FEAT_SSE42, X86_FEAT_X2APIC, X86_FEAT_MOVBE,
    X86_FEAT_POPCNT, X86_FEAT_TSC_DEADLINE, X86_FEAT_XSAVE, X86_FEAT_OSXSAVE,
    X86_FEAT_AVX, X86_FEAT_RDRAND, X86_FEAT_HYPERVISOR, X86_FEAT_PCID,
    /* leaf 7 */
    X86_FEAT_FSGSBASE, X86_FEAT_BMI1, X86_FEAT_SMEP, X86_FEAT_BMI2,
    X86_FEAT_ERMS, X86_FEAT_INVPCID, X86_FEAT_SMAP, X86_FEAT_ADX,
    X86_FEAT_CLFLUSHOPT, X86_FEAT_CLWB, X86_FEAT_UMIP, X86_FEAT_RDPID, X86_FEAT_ARCH_CAPABILITIES,
    /* leaf 0x80000001 */
    X86_FEAT_LAHF_LM, X86_FEAT_ABM, X86_FEAT_SYSCALL, X86_FEAT_NX,
    X86_FEAT_PDPE1GB, X86_FEAT_RDTSCP, X86_FEAT_LM,
    X86_FEAT_COUNT
} X86Feature;
bool x86_cpu_has(X86Feature feature);
/* Per-vCPU: x2APIC is reported when the vCPU's APIC hooks implement its MSRs
 * (TSC-deadline likewise with set_tsc_deadline). */
bool x86_cpu_has_x2apic(CPUX86State *env);

/* ===================== fast system calls (cpu/x86/syscall.c) ================ */

/* SYSCALL [ends TB]: #UD unless EFER.SCE (and in long mode); long mode: RCX =
 * next_rip, R11 = RFLAGS, RFLAGS &= ~SFMASK, CS/SS from STAR[47:32],
 * RIP = LSTAR (64-bit) or CSTAR (compatibility); legacy: ECX = next_rip,
 * EIP = STAR[31:0], clears IF/VM/RF. */
void x86_syscall(CPUX86State *env, uint64_t next_rip, uintptr_t ra);
/* SYSRET [ends TB]: #UD unless SCE; #GP(0) at CPL>0 or non-canonical RCX in
 * 64-bit form; dflag 2 returns to 64-bit code (CS = STAR[63:48]+16). */
void x86_sysret(CPUX86State *env, int dflag, uintptr_t ra);
/* SYSENTER / SYSEXIT [ends TB]: #GP(0) when SYSENTER_CS is null (and, for
 * SYSEXIT, CPL>0 or real mode); dflag 2 SYSEXIT returns to 64-bit code. */
void x86_sysenter(CPUX86State *env, uintptr_t ra);
void x86_sysexit(CPUX86State *env, int dflag, uintptr_t ra);
/* SWAPGS: #UD outside 64-bit mode, #GP(0) at CPL>0. */
void x86_swapgs(CPUX86State *env, uintptr_t ra);

/* ===================== the local APIC hookup ================================= */

/* Installed by hw/apic.c when the machine has a local APIC (env->apic != NULL);
 * with no hooks, APIC_BASE is plain storage and CR8 is env->cr8. */
typedef struct X86ApicHooks {
    void (*set_base)(void *apic, uint64_t value);       /* IA32_APIC_BASE write */
    void (*set_tpr)(void *apic, uint8_t cr8);           /* CR8 write (bits 3:0) */
    uint8_t (*get_tpr)(void *apic);                     /* CR8 read */
    void (*set_tsc_deadline)(void *apic, uint64_t tsc); /* IA32_TSC_DEADLINE */
    /* x2APIC MSRs 0x800-0x8ff: 0 ok, -1 for #GP. NULL: #GP. */
    int (*msr_read)(void *apic, uint32_t msr, uint64_t *value);
    int (*msr_write)(void *apic, uint32_t msr, uint64_t value);
} X86ApicHooks;
extern const X86ApicHooks *x86_apic_hooks;

#endif
