/* Lazy arithmetic flags: the encoding of env->cc_op and its operands.
 *
 * cc_op = (kind << 2) | log2(operand size). For each kind, what cc_dst,
 * cc_src and cc_src2 hold:
 *   ADD    dst = result, src = second operand
 *   ADC    dst = result, src = second operand, src2 = carry in (0/1)
 *   SUB    dst = result, src = second operand (CMP, NEG: first is 0)
 *   SBB    dst = result, src = second operand, src2 = borrow in
 *   LOGIC  dst = result (CF = OF = AF = 0)
 *   INC    dst = result, src = CF before the instruction
 *   DEC    dst = result, src = CF before
 *   SHL    dst = result, src = operand shifted by count-1 (CF = its top bit)
 *   SHR    dst = result, src = operand shifted by count-1 (CF = its bit 0)
 *   SAR    same as SHR, OF = 0
 *   MUL    dst = low result, src = non-zero when the result overflowed
 *   EFLAGS src = the flags themselves (CC_MASK bits), any size
 * CC_OP_DYNAMIC exists only inside the translator ("env->cc_op is current"). */
#ifndef CPU_X86_CC_H
#define CPU_X86_CC_H

#include <stdint.h>
#include "cpu/x86/cpu.h"

enum {
    CC_K_EFLAGS, CC_K_ADD, CC_K_ADC, CC_K_SUB, CC_K_SBB, CC_K_LOGIC,
    CC_K_INC, CC_K_DEC, CC_K_SHL, CC_K_SHR, CC_K_SAR, CC_K_MUL,
    CC_K_COUNT,
};
#define CC_OP(kind, size_log2) (((kind) << 2) | (size_log2))
#define CC_OP_KIND(op) ((op) >> 2)
#define CC_OP_SIZE_LOG2(op) ((op) & 3)
#define CC_OP_EFLAGS CC_OP(CC_K_EFLAGS, 0)
#define CC_OP_DYNAMIC 0xffu

/* All arithmetic flags (CC_MASK bits) of a lazy state. */
uint32_t cc_flags(uint32_t cc_op, uint64_t dst, uint64_t src, uint64_t src2);
/* Just CF (0 or 1). */
uint32_t cc_carry(uint32_t cc_op, uint64_t dst, uint64_t src, uint64_t src2);
/* Evaluate an x86 condition (the low nibble of Jcc/SETcc/CMOVcc). */
bool cc_condition(uint32_t flags, unsigned cond);

#endif
