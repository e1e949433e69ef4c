/* C helpers called from translated x86 code (translate-helpers.c,
 * translate-string.c). Arguments are 64-bit values; env first where needed.
 * Helpers that raise exceptions use GETPC() for precise unwinding. */
#ifndef CPU_X86_TRANSLATE_HELPERS_H
#define CPU_X86_TRANSLATE_HELPERS_H

#include <stdint.h>

#include "cpu/x86/cpu.h"

/* lazy flags */
uint64_t helper_cc_flags(uint64_t cc_op, uint64_t dst, uint64_t src, uint64_t src2);
uint64_t helper_cc_carry(uint64_t cc_op, uint64_t dst, uint64_t src, uint64_t src2);

/* exceptions: env->rip and cc_op already synchronised */
_Noreturn void helper_raise_exception(CPUX86State *env, uint64_t vector, uint64_t error_code);
/* Code fetch failed while translating the first instruction of a block. */
_Noreturn void x86_fetch_fault(CPUX86State *env, uint64_t pc);

/* arithmetic with complex flags: results in env (regs / lazy flags) */
enum { SHIFT_ROL, SHIFT_ROR, SHIFT_RCL, SHIFT_RCR, SHIFT_SHL, SHIFT_SHR, SHIFT_SAL, SHIFT_SAR };
uint64_t helper_shift(CPUX86State *env, uint64_t op, uint64_t size, uint64_t value, uint64_t count);
uint64_t helper_shld(CPUX86State *env, uint64_t size, uint64_t dst, uint64_t src, uint64_t count);
uint64_t helper_shrd(CPUX86State *env, uint64_t size, uint64_t dst, uint64_t src, uint64_t count);
void helper_div(CPUX86State *env, uint64_t size, uint64_t divisor);
void helper_idiv(CPUX86State *env, uint64_t size, uint64_t divisor);
enum { BCD_DAA, BCD_DAS, BCD_AAA, BCD_AAS, BCD_AAM, BCD_AAD };
void helper_bcd(CPUX86State *env, uint64_t op, uint64_t imm);
enum { BITCOUNT_BSF, BITCOUNT_BSR, BITCOUNT_TZCNT, BITCOUNT_LZCNT, BITCOUNT_POPCNT };
uint64_t helper_bitcount(CPUX86State *env, uint64_t op, uint64_t size, uint64_t src, uint64_t old);
/* desc: CMPXCHG_WIDE for CMPXCHG16B, CMPXCHG_STACK when addr was made
 * through SS in 64-bit mode (non-canonical is #SS(0)) */
#define CMPXCHG_WIDE 1u
#define CMPXCHG_STACK 2u
void helper_cmpxchg8b(CPUX86State *env, uint64_t addr, uint64_t desc);
uint64_t helper_crc32(uint64_t crc, uint64_t value, uint64_t size);

/* LOCK'ed read-modify-write on SMP machines (translate-atomic.c): return the
 * old value. desc = op | size << 8 | mmu_idx << 12. */
enum { ATOMIC_ADD, ATOMIC_SUB, ATOMIC_AND, ATOMIC_OR, ATOMIC_XOR, ATOMIC_XCHG, ATOMIC_NEG };
uint64_t helper_atomic_fetch_op(CPUX86State *env, uint64_t addr, uint64_t value, uint64_t desc);
uint64_t helper_atomic_cmpxchg(CPUX86State *env, uint64_t addr, uint64_t expected, uint64_t newv,
                               uint64_t desc);
/* CMPXCHG8B (half 4) / CMPXCHG16B (half 8), atomically: true when cmp[]
 * matched and newv[] was stored, else cmp[] holds the memory's halves. */
bool x86_atomic_cmpxchg_pair(CPUX86State *env, uint64_t addr, unsigned half, uint64_t cmp[2],
                             const uint64_t newv[2], int mmu, uintptr_t ra);
void helper_mfence(CPUX86State *env);
/* A fallback atomic that left through longjmp (SMC) still held its lock. */
void x86_atomic_fallback_abandon(void);

/* stack frames */
void helper_pusha(CPUX86State *env, uint64_t size);
void helper_popa(CPUX86State *env, uint64_t size);
void helper_enter(CPUX86State *env, uint64_t size, uint64_t frame, uint64_t level);
void helper_bound(CPUX86State *env, uint64_t addr, uint64_t size, uint64_t index);

/* port I/O: device access with the machine lock held (no permission check) */
uint64_t x86_port_read(CPUX86State *env, uint32_t port, unsigned size);
void x86_port_write(CPUX86State *env, uint32_t port, uint64_t value, unsigned size);
uint64_t helper_in(CPUX86State *env, uint64_t port, uint64_t size);
void helper_out(CPUX86State *env, uint64_t port, uint64_t value, uint64_t size);

/* string instructions: one call runs up to a batch of iterations and returns
 * 1 when the instruction must run again (REP not finished), else 0. */
enum { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS, STR_INS, STR_OUTS };
/* desc = op | size << 4 | addrsize << 8 | seg << 12 | rep << 16 (1 REPZ, 2 REPNZ) */
uint64_t helper_string(CPUX86State *env, uint64_t desc);

/* segment limit/type check (desc = size | SEG_CHECK_WRITE): the linear address */
#define SEG_CHECK_WRITE 0x10000
#define SEG_CHECK_ALIGN16 0x20000   /* #GP(0) first when base + offset is misaligned */
uint64_t helper_seg_check(CPUX86State *env, uint64_t seg, uint64_t offset, uint64_t desc);
/* CLFLUSH & co.: the address check of a byte read (stack: made through RSP/RBP) */
void helper_clflush(CPUX86State *env, uint64_t addr, uint64_t stack);

/* system instruction glue (wrappers adding GETPC) */
void helper_load_seg(CPUX86State *env, uint64_t seg, uint64_t selector);
void helper_ljmp(CPUX86State *env, uint64_t selector, uint64_t offset, uint64_t next_rip);
void helper_lcall(CPUX86State *env, uint64_t selector, uint64_t offset, uint64_t dflag, uint64_t next_rip);
void helper_lret(CPUX86State *env, uint64_t dflag, uint64_t imm);
void helper_iret(CPUX86State *env, uint64_t dflag, uint64_t next_rip);
void helper_int(CPUX86State *env, uint64_t vector, uint64_t next_rip);
void helper_int3(CPUX86State *env, uint64_t next_rip);
void helper_into(CPUX86State *env, uint64_t next_rip);
void helper_icebp(CPUX86State *env, uint64_t next_rip);
void helper_hlt(CPUX86State *env, uint64_t next_rip);
void helper_cli(CPUX86State *env);
void helper_sti(CPUX86State *env);
uint64_t helper_pushf(CPUX86State *env, uint64_t dflag);   /* VME needs the operand size */
void helper_popf(CPUX86State *env, uint64_t value, uint64_t dflag);
void helper_check_cpl0(CPUX86State *env);
void helper_write_cr(CPUX86State *env, uint64_t reg, uint64_t value);
uint64_t helper_read_cr(CPUX86State *env, uint64_t reg);
void helper_write_dr(CPUX86State *env, uint64_t reg, uint64_t value);
uint64_t helper_read_dr(CPUX86State *env, uint64_t reg);
void helper_lmsw(CPUX86State *env, uint64_t value);
void helper_clts(CPUX86State *env);
void helper_invlpg(CPUX86State *env, uint64_t addr);
void helper_invpcid(CPUX86State *env, uint64_t type, uint64_t desc);
void helper_rdmsr(CPUX86State *env);
void helper_wrmsr(CPUX86State *env);
void helper_rdtsc(CPUX86State *env);
void helper_rdtscp(CPUX86State *env);
void helper_cpuid(CPUX86State *env);
void helper_lldt(CPUX86State *env, uint64_t sel);
void helper_ltr(CPUX86State *env, uint64_t sel);
uint64_t helper_lar(CPUX86State *env, uint64_t sel);
uint64_t helper_lsl(CPUX86State *env, uint64_t sel);
uint64_t helper_verr(CPUX86State *env, uint64_t sel);
uint64_t helper_verw(CPUX86State *env, uint64_t sel);
void helper_syscall(CPUX86State *env, uint64_t next_rip);
void helper_sysret(CPUX86State *env, uint64_t dflag);
void helper_sysenter(CPUX86State *env);
void helper_sysexit(CPUX86State *env, uint64_t dflag);
void helper_swapgs(CPUX86State *env);
void helper_set_ac(CPUX86State *env, uint64_t on);     /* STAC/CLAC: EFLAGS.AC and hflags */
void helper_lgdt_lidt(CPUX86State *env, uint64_t addr, uint64_t which, uint64_t opsize64);
void helper_sgdt_sidt(CPUX86State *env, uint64_t addr, uint64_t which, uint64_t long_mode);
void helper_check_io(CPUX86State *env, uint64_t port, uint64_t size);
void helper_fpu_unavailable(CPUX86State *env);
void helper_set_inhibit_irq(CPUX86State *env);
/* debugging: EFLAGS.TF trap after an instruction (env->rip = next), DR7
 * breakpoints, and gdb breakpoints (stop the VM at env->rip) */
void helper_single_step(CPUX86State *env);
void helper_insn_breakpoint(CPUX86State *env);
void helper_data_breakpoint(CPUX86State *env, uint64_t linear, uint64_t desc);
void helper_insn_end(CPUX86State *env, uint64_t next_rip);
void helper_gdb_breakpoint(CPUX86State *env);
/* end of a block that changed CPU state (accel/tcg.c): 1 when the main loop
 * must run (an event can be taken now, the CPU halted, ...) rather than the
 * next block be looked up */
uint64_t helper_end_block_needs_loop(CPUX86State *env, uint64_t from_code64);

#endif
