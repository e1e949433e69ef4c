/* x86 -> IR: one routine per mnemonic, dispatched through a table.
 *
 * Precise exceptions: every routine performs all accesses that can fault
 * (guest loads/stores, faulting helpers) before it writes guest registers or
 * the lazy-flag globals, so a fault leaves the state of the instruction's
 * start (the execution engine restores RIP and cc_op from the insn_start). */
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/translate.h"
#include "cpu/x86/simd.h"
#include "cpu/x86/translate-helpers.h"
#include "system/util.h"

typedef void (*TransFn)(DisasContext *s);

#define W32(size) ((size) == 4 ? TCG_W32 : 0)

static unsigned dflag(DisasContext *s)
{
    return s->d.opsize == 2 ? 0 : s->d.opsize == 4 ? 1 : 2;
}

/* Before a helper that may fault or reads the CPU state: cc_op and RIP of
 * this instruction in env. */
static void sync(DisasContext *s)
{
    gen_sync_for_helper(s);
}

/* Before a helper after which the block ends and execution continues at
 * env->rip: RIP = the next instruction (a fault restores this one's). */
static void sync_next(DisasContext *s)
{
    gen_update_cc_op(s);
    gen_set_rip(s, s->next_pc);
}

static void end_block(DisasContext *s)
{
    s->is_jmp = DISAS_EXIT;
}

/* Call a helper that may change the lazy flags in env: cc_op becomes dynamic. */
static void flags_now_dynamic(DisasContext *s)
{
    s->cc_op = CC_OP_DYNAMIC;
    s->cc_op_dirty = false;
}

static void gen_ud(DisasContext *s) { gen_exception(s, EXCP_UD, 0, false); }

/* A memory read-modify-write that must be atomic: LOCK (or XCHG) on SMP. */
static bool use_atomic(DisasContext *s)
{
    return s->smp && s->d.has_modrm && s->d.mod != 3 &&
           ((s->d.prefix & P_LOCK) || s->d.mnemonic == I_XCHG);
}

/* Atomically apply op with v to the ModRM memory operand; the old value. */
static TCGv gen_atomic_fetch(DisasContext *s, unsigned op, TCGv v, unsigned size)
{
    TCGv old = tcg_temp_new();
    gen_lea_addr(s);
    TCGv addr = gen_checked_linear(s, s->A0, size, true);
    gen_update_cc_op(s);
    gen_helper(helper_atomic_fetch_op, old, 4, tcg_env, addr, v,
               tcg_const(op | size << 8 | (unsigned)s->mem_idx << 12));
    return old;
}

/* ---- integer arithmetic ---------------------------------------------------- */
static void trans_alu(DisasContext *s)
{
    unsigned op = s->d.mnemonic - I_ADD, size = op_size(s, 0), w = W32(size);
    bool atomic = op != 7 && use_atomic(s);
    TCGv a = TCG_NO_TEMP, b = gen_operand_load(s, 1);
    TCGv r = tcg_temp_new(), c = TCG_NO_TEMP;
    unsigned kind;
    if (atomic) {
        static const uint8_t aop[8] = { ATOMIC_ADD, ATOMIC_OR, ATOMIC_ADD, ATOMIC_SUB,
                                        ATOMIC_AND, ATOMIC_SUB, ATOMIC_XOR, 0 };
        TCGv v = b;
        if (op == 2 || op == 3) {
            c = gen_compute_cf(s);
            v = tcg_temp_new();
            tcg_gen_add(v, b, c);
        }
        a = gen_atomic_fetch(s, aop[op], v, size);
    } else {
        a = gen_operand_load(s, 0);
    }
    switch (op) {
    case 0: tcg_gen_op3(INDEX_op_add, w, r, a, b); kind = CC_K_ADD; break;
    case 1: tcg_gen_op3(INDEX_op_or, w, r, a, b); kind = CC_K_LOGIC; break;
    case 2:
        if (c == TCG_NO_TEMP)
            c = gen_compute_cf(s);
        tcg_gen_op3(INDEX_op_add, w, r, a, b);
        tcg_gen_op3(INDEX_op_add, w, r, r, c);
        kind = CC_K_ADC;
        break;
    case 3:
        if (c == TCG_NO_TEMP)
            c = gen_compute_cf(s);
        tcg_gen_op3(INDEX_op_sub, w, r, a, b);
        tcg_gen_op3(INDEX_op_sub, w, r, r, c);
        kind = CC_K_SBB;
        break;
    case 4: tcg_gen_op3(INDEX_op_and, w, r, a, b); kind = CC_K_LOGIC; break;
    case 5: case 7: tcg_gen_op3(INDEX_op_sub, w, r, a, b); kind = CC_K_SUB; break;
    default: tcg_gen_op3(INDEX_op_xor, w, r, a, b); kind = CC_K_LOGIC; break;
    }
    if (op != 7 && !atomic)
        gen_operand_store(s, 0, r);
    gen_cc_result(s, kind, size, r, kind == CC_K_LOGIC ? TCG_NO_TEMP : b, c);
    if (kind == CC_K_SUB) {
        s->last_cmp.a = a;
        s->last_cmp.b = b;
        s->last_cmp.size = size;
        s->last_cmp.insn = s->insn_count;
        s->last_cmp.cc_op = s->cc_op;
        s->last_cmp.sub = op == 5;
        s->last_cmp.zext = !atomic;
    }
}

static void trans_test(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    TCGv a = gen_operand_load(s, 0), b = gen_operand_load(s, 1), r = tcg_temp_new();
    tcg_gen_and(r, a, b);
    gen_cc_result(s, CC_K_LOGIC, size, r, TCG_NO_TEMP, TCG_NO_TEMP);
}

static void trans_incdec(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    bool inc = s->d.mnemonic == I_INC, atomic = use_atomic(s);
    TCGv cf = gen_compute_cf(s);
    TCGv a = atomic ? gen_atomic_fetch(s, inc ? ATOMIC_ADD : ATOMIC_SUB, tcg_const(1), size)
                    : gen_operand_load(s, 0);
    TCGv r = tcg_temp_new();
    tcg_gen_op3i(inc ? INDEX_op_add : INDEX_op_sub, W32(size), r, a, 1);
    if (!atomic)
        gen_operand_store(s, 0, r);
    gen_cc_result(s, inc ? CC_K_INC : CC_K_DEC, size, r, cf, TCG_NO_TEMP);
}

static void trans_not(DisasContext *s)
{
    if (use_atomic(s)) {
        gen_atomic_fetch(s, ATOMIC_XOR, tcg_const(size_mask(op_size(s, 0))), op_size(s, 0));
        return;
    }
    TCGv a = gen_operand_load(s, 0), r = tcg_temp_new();
    tcg_gen_op2(INDEX_op_not, 0, r, a);
    gen_operand_store(s, 0, r);
}

static void trans_neg(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    bool atomic = use_atomic(s);
    TCGv a = atomic ? gen_atomic_fetch(s, ATOMIC_NEG, tcg_const(0), size) : gen_operand_load(s, 0);
    TCGv r = tcg_temp_new();
    tcg_gen_op2(INDEX_op_neg, W32(size), r, a);
    if (!atomic)
        gen_operand_store(s, 0, r);
    gen_cc_result(s, CC_K_SUB, size, r, a, TCG_NO_TEMP);
}

static void trans_mul1(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    bool sign = s->d.mnemonic == I_IMUL1;
    TCGv src = gen_operand_load(s, 0), acc = gen_reg_load(s, R_EAX, size);
    TCGv lo = tcg_temp_new(), hi = tcg_temp_new(), ovf = tcg_temp_new();
    if (size == 8) {
        if (sign)
            tcg_gen_muls2(lo, hi, acc, src);
        else
            tcg_gen_mulu2(lo, hi, acc, src);
    } else {
        TCGv prod = tcg_temp_new();
        tcg_gen_op3(INDEX_op_mul, 0, prod, gen_ext(acc, size, sign), gen_ext(src, size, sign));
        tcg_gen_extu(lo, prod, size);
        tcg_gen_shri(hi, prod, size * 8);
        tcg_gen_extu(hi, hi, size);
    }
    if (sign) {
        TCGv sx = gen_sext(lo, size);
        tcg_gen_sari(sx, sx, 63);
        tcg_gen_extu(sx, sx, size);
        tcg_gen_setcond(TCG_COND_NE, 0, ovf, sx, hi);
    } else {
        tcg_gen_setcond(TCG_COND_NE, 0, ovf, hi, tcg_const(0));
    }
    if (size == 1) {
        TCGv ax = tcg_temp_new();
        tcg_gen_shli(ax, hi, 8);
        tcg_gen_or(ax, ax, lo);
        gen_reg_store(s, R_EAX, 2, ax);
    } else {
        gen_reg_store(s, R_EAX, size, lo);
        gen_reg_store(s, R_EDX, size, hi);
    }
    gen_cc_result(s, CC_K_MUL, size, lo, ovf, TCG_NO_TEMP);
}

/* IMUL Gv, Ev[, imm]: truncated signed product; CF = OF = it did not fit. */
static void trans_imul(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    TCGv a, b;
    if (s->d.mnemonic == I_IMUL3) {
        a = gen_operand_load(s, 1);
        b = gen_operand_load(s, 2);
    } else {
        a = gen_operand_load(s, 0);
        b = gen_operand_load(s, 1);
    }
    TCGv lo = tcg_temp_new(), ovf = tcg_temp_new();
    if (size == 8) {
        TCGv hi = tcg_temp_new(), sx = tcg_temp_new();
        tcg_gen_muls2(lo, hi, a, b);
        tcg_gen_sari(sx, lo, 63);
        tcg_gen_setcond(TCG_COND_NE, 0, ovf, sx, hi);
    } else {
        TCGv prod = tcg_temp_new();
        tcg_gen_op3(INDEX_op_mul, 0, prod, gen_sext(a, size), gen_sext(b, size));
        tcg_gen_setcond(TCG_COND_NE, 0, ovf, gen_sext(prod, size), prod);
        tcg_gen_extu(lo, prod, size);
    }
    gen_reg_store(s, s->d.reg, size, lo);
    gen_cc_result(s, CC_K_MUL, size, lo, ovf, TCG_NO_TEMP);
}

static void trans_div(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    TCGv src = gen_operand_load(s, 0);
    sync(s);
    if (s->d.mnemonic == I_DIV)
        gen_helper(helper_div, TCG_NO_TEMP, 3, tcg_env, tcg_const(size), src);
    else
        gen_helper(helper_idiv, TCG_NO_TEMP, 3, tcg_env, tcg_const(size), src);
}

/* ---- shifts and rotates ------------------------------------------------------ */
/* ROL/ROR by a non-zero immediate count: the rotation inline; CF and OF set
 * from the result, the other flags kept (often dead: the next ALU op
 * overwrites them and the liveness pass drops the computation). */
static void gen_rotate_imm(DisasContext *s, bool left, unsigned size, TCGv a, unsigned count)
{
    unsigned bits = size * 8, c = count % bits;
    TCGv r = tcg_temp_new();
    if (size >= 4) {
        tcg_gen_op3i(left ? INDEX_op_rotl : INDEX_op_rotr, W32(size), r, a, c);
    } else if (c == 0) {
        tcg_gen_mov(r, a);
    } else {
        TCGv hi = tcg_temp_new(), lo = tcg_temp_new();
        tcg_gen_shli(hi, a, left ? c : bits - c);
        tcg_gen_shri(lo, a, left ? bits - c : c);
        tcg_gen_or(r, hi, lo);
        tcg_gen_extu(r, r, size);
    }
    gen_operand_store(s, 0, r);
    TCGv cf = tcg_temp_new(), top = tcg_temp_new(), of = tcg_temp_new();
    tcg_gen_shri(top, r, bits - 1);
    tcg_gen_andi(top, top, 1);
    if (left) {
        tcg_gen_andi(cf, r, 1);
        tcg_gen_xor(of, top, cf);
    } else {
        tcg_gen_mov(cf, top);
        tcg_gen_shri(of, r, bits - 2);
        tcg_gen_andi(of, of, 1);
        tcg_gen_xor(of, of, top);
    }
    TCGv f = gen_compute_eflags(s);
    tcg_gen_andi(f, f, ~(uint64_t)(CC_C | CC_O));
    tcg_gen_or(f, f, cf);
    tcg_gen_shli(of, of, 11);
    tcg_gen_or(f, f, of);
    gen_set_eflags_cc(s, f);
}

/* SHL/SHR/SAR by CL, inline. A count of 0 (after masking) leaves the flags
 * alone, so the new lazy state is chosen by movcond and cc_op becomes a
 * run-time value. Flags left undefined by the SDM (OF for counts above 1)
 * follow the immediate-count forms. */
static void gen_shift_var(DisasContext *s, unsigned size, TCGv a)
{
    unsigned mn = s->d.mnemonic, kind = mn == I_SHL ? CC_K_SHL : mn == I_SHR ? CC_K_SHR : CC_K_SAR;
    TCGOpcode opc = mn == I_SHL ? INDEX_op_shl : mn == I_SHR ? INDEX_op_shr : INDEX_op_sar;
    TCGv count = tcg_temp_new(), cm1 = tcg_temp_new(), r = tcg_temp_new(), src = tcg_temp_new();
    tcg_gen_andi(count, gen_operand_load(s, 1), size == 8 ? 63 : 31);
    TCGv v = mn == I_SAR ? gen_sext(a, size) : a;
    tcg_gen_op3(opc, 0, r, v, count);
    tcg_gen_subi(cm1, count, 1);
    tcg_gen_op3(opc, 0, src, v, cm1);   /* meaningless for count 0: not selected */
    gen_operand_store(s, 0, r);         /* a store that faults comes before the flags */
    TCGv zero = tcg_const(0), old_op = s->cc_op == CC_OP_DYNAMIC
        ? gen_env_ld(ENV_OFF(cc_op), MO_32) : tcg_const(s->cc_op);
    TCGv op = tcg_temp_new();
    tcg_gen_movcond(TCG_COND_NE, 0, cpu_cc_dst, count, zero, gen_zext(r, size), cpu_cc_dst);
    tcg_gen_movcond(TCG_COND_NE, 0, cpu_cc_src, count, zero, gen_zext(src, size), cpu_cc_src);
    tcg_gen_movcond(TCG_COND_NE, 0, op, count, zero, tcg_const(CC_OP(kind, size_log2(size))), old_op);
    gen_env_st(op, ENV_OFF(cc_op), MO_32);
    flags_now_dynamic(s);
    gen_note_dynamic_cc_op_store(s);
}

static void trans_shift(DisasContext *s)
{
    unsigned size = op_size(s, 0), mn = s->d.mnemonic;
    unsigned k1 = s->d.e->op[1];
    unsigned cmask = size == 8 ? 63 : 31;
    TCGv a = gen_operand_load(s, 0);
    if (k1 == O_Ib || k1 == O_ONE) {
        unsigned c = (k1 == O_ONE ? 1 : s->d.imm) & cmask;
        if (c == 0) {
            /* no flags change, but a 32-bit register is still written
             * (zero-extended), as with a CL count of 0 */
            if (size == 4 && s->d.mod == 3)
                gen_operand_store(s, 0, a);
            return;
        }
        if (mn == I_SHL || mn == I_SHR || mn == I_SAR) {
            TCGv r = tcg_temp_new(), src = tcg_temp_new();
            TCGv v = mn == I_SAR ? gen_sext(a, size) : a;
            TCGOpcode opc = mn == I_SHL ? INDEX_op_shl : mn == I_SHR ? INDEX_op_shr : INDEX_op_sar;
            tcg_gen_op3i(opc, 0, r, v, c);
            tcg_gen_op3i(opc, 0, src, v, c - 1);
            gen_operand_store(s, 0, r);
            gen_cc_result(s, mn == I_SHL ? CC_K_SHL : mn == I_SHR ? CC_K_SHR : CC_K_SAR,
                          size, r, src, TCG_NO_TEMP);
            return;
        }
        if (mn == I_ROL || mn == I_ROR) {
            gen_rotate_imm(s, mn == I_ROL, size, a, c);
            return;
        }
    }
    if (mn == I_SHL || mn == I_SHR || mn == I_SAR) {
        gen_shift_var(s, size, a);
        return;
    }
    static const uint8_t ops[] = {
        [I_ROL] = SHIFT_ROL, [I_ROR] = SHIFT_ROR, [I_RCL] = SHIFT_RCL, [I_RCR] = SHIFT_RCR,
        [I_SHL] = SHIFT_SHL, [I_SHR] = SHIFT_SHR, [I_SAR] = SHIFT_SAR,
    };
    TCGv count = gen_operand_load(s, 1), r = tcg_temp_new();
    /* the helper sets the flags: a store that faults must come first */
    if (s->d.mod != 3)
        gen_operand_store(s, 0, a);
    gen_update_cc_op(s);
    gen_helper(helper_shift, r, 5, tcg_env, tcg_const(ops[mn]), tcg_const(size), a, count);
    flags_now_dynamic(s);
    gen_operand_store(s, 0, r);
}

static void trans_shxd(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    TCGv a = gen_operand_load(s, 0), b = gen_operand_load(s, 1), c = gen_operand_load(s, 2);
    TCGv r = tcg_temp_new();
    /* the helper sets the flags: a store that faults must come first */
    if (s->d.mod != 3)
        gen_operand_store(s, 0, a);
    gen_update_cc_op(s);
    if (s->d.mnemonic == I_SHLD)
        gen_helper(helper_shld, r, 5, tcg_env, tcg_const(size), a, b, c);
    else
        gen_helper(helper_shrd, r, 5, tcg_env, tcg_const(size), a, b, c);
    flags_now_dynamic(s);
    gen_operand_store(s, 0, r);
}

/* ---- bit operations ------------------------------------------------------------ */
static void trans_bt(DisasContext *s)
{
    unsigned size = op_size(s, 0), bits = size * 8, mn = s->d.mnemonic;
    TCGv bitoff = gen_operand_load(s, 1), bit = tcg_temp_new(), v;
    bool is_reg_offset = s->d.e->op[1] != O_Ib;
    tcg_gen_andi(bit, bitoff, bits - 1);
    TCGv addr = TCG_NO_TEMP;
    if (s->d.mod == 3) {
        v = gen_reg_load(s, s->d.rm, size);
    } else {
        if (is_reg_offset) {
            /* The bit offset addresses memory beyond the operand (signed):
             * part of the effective address, so it wraps at the address size
             * and goes through the segment checks. */
            TCGv disp = gen_sext(bitoff, size);
            tcg_gen_sari(disp, disp, size_log2(size) + 3);
            tcg_gen_shli(disp, disp, size_log2(size));
            TCGv ea = gen_ea_offset(s);
            tcg_gen_add(ea, ea, disp);
            s->A0 = gen_linear(s, ea, s->d.seg >= 0 ? s->d.seg : s->d.default_seg);
            s->a0_valid = true;
        } else {
            gen_lea_addr(s);
        }
        addr = s->A0;
        if (mn != I_BT && use_atomic(s)) {
            TCGv m = tcg_temp_new();
            tcg_gen_shl(m, tcg_const(1), bit);
            if (mn == I_BTR)
                tcg_gen_op2(INDEX_op_not, 0, m, m);
            v = tcg_temp_new();
            addr = gen_checked_linear(s, addr, size, true);
            gen_update_cc_op(s);
            gen_helper(helper_atomic_fetch_op, v, 4, tcg_env, addr, m,
                       tcg_const((mn == I_BTS ? ATOMIC_OR : mn == I_BTR ? ATOMIC_AND : ATOMIC_XOR) |
                                 size << 8 | (unsigned)s->mem_idx << 12));
            mn = I_BT;   /* the memory is done; only CF is left */
        } else {
            v = mn == I_BT ? gen_ld(s, addr, size) : gen_ld_rmw(s, addr, size);
        }
    }
    TCGv cf = tcg_temp_new();
    tcg_gen_shr(cf, v, bit);
    tcg_gen_andi(cf, cf, 1);
    if (mn != I_BT) {
        TCGv m = tcg_temp_new(), r = tcg_temp_new();
        tcg_gen_shl(m, tcg_const(1), bit);
        if (mn == I_BTS)
            tcg_gen_or(r, v, m);
        else if (mn == I_BTR) {
            tcg_gen_op2(INDEX_op_not, 0, m, m);
            tcg_gen_and(r, v, m);
        } else
            tcg_gen_xor(r, v, m);
        if (s->d.mod == 3)
            gen_reg_store(s, s->d.rm, size, r);
        else
            gen_st(s, addr, r, size);
    }
    TCGv f;
    if (s->cc_op == CC_OP_EFLAGS) {
        f = gen_compute_eflags(s);
        tcg_gen_andi(f, f, ~(uint64_t)CC_C);
    } else {
        /* ZF is kept and OF SF AF PF are undefined (SDM): ZF alone, no
         * full flags computation */
        f = gen_compute_zf(s);
        tcg_gen_shli(f, f, 6);
    }
    tcg_gen_or(f, f, cf);
    gen_set_eflags_cc(s, f);
}

/* Write a register of size bytes only when cond(a, b) holds (keeps the
 * whole 64-bit register otherwise, as CMPXCHG/BSF/CMOV-like cases need). */
static void gen_reg_store_if(DisasContext *s, int reg, unsigned size, TCGv v, TCGCond c, TCGv a, TCGv b)
{
    TCGv old = tcg_temp_new(), merged = tcg_temp_new();
    tcg_gen_mov(old, cpu_regs[reg]);
    if (size == 4 || size == 8) {
        tcg_gen_extu(merged, v, size);
    } else {
        TCGv keep = tcg_temp_new(), part = gen_zext(v, size);
        tcg_gen_andi(keep, old, ~size_mask(size));
        tcg_gen_or(merged, keep, part);
    }
    tcg_gen_movcond(c, 0, cpu_regs[reg], a, b, merged, old);
}

static void trans_bitcount(DisasContext *s)
{
    static const uint8_t ops[I_COUNT] = {
        [I_BSF] = BITCOUNT_BSF, [I_BSR] = BITCOUNT_BSR, [I_TZCNT] = BITCOUNT_TZCNT,
        [I_LZCNT] = BITCOUNT_LZCNT, [I_POPCNT] = BITCOUNT_POPCNT,
    };
    unsigned size = op_size(s, 0);
    TCGv src = gen_operand_load(s, 1), old = gen_reg_load(s, s->d.reg, size), r = tcg_temp_new();
    gen_update_cc_op(s);
    gen_helper(helper_bitcount, r, 5, tcg_env, tcg_const(ops[s->d.mnemonic]),
               tcg_const(size), src, old);
    flags_now_dynamic(s);
    if (s->d.mnemonic == I_BSF || s->d.mnemonic == I_BSR)
        /* a zero source leaves the destination alone, upper half included */
        gen_reg_store_if(s, s->d.reg, size, r, TCG_COND_NE, gen_zext(src, size), tcg_const(0));
    else
        gen_reg_store(s, s->d.reg, size, r);
}

static void trans_bswap(DisasContext *s)
{
    unsigned size = s->d.opsize;
    int reg = (s->d.opcode & 7) | ((s->d.rex & 1) << 3);
    TCGv r = tcg_temp_new();
    if (size == 2)
        tcg_gen_movi(r, 0);   /* undefined; hardware gives 0 in the low word */
    else
        tcg_gen_op2(INDEX_op_bswap, W32(size), r, cpu_regs[reg]);
    gen_reg_store(s, reg, size, r);
}

/* ---- moves --------------------------------------------------------------------- */
static void trans_mov(DisasContext *s)
{
    gen_operand_store(s, 0, gen_operand_load(s, 1));
}

static void trans_movx(DisasContext *s)
{
    unsigned src_size = op_size(s, 1);
    TCGv v = gen_operand_load(s, 1);
    bool sign = s->d.mnemonic != I_MOVZX;
    gen_operand_store(s, 0, gen_ext(v, src_size, sign));
}

static void trans_lea(DisasContext *s)
{
    TCGv off = gen_ea_offset(s);
    gen_reg_store(s, s->d.reg, s->d.opsize, off);
}

static void trans_xchg(DisasContext *s)
{
    if (s->d.opcode == 0x90 && s->d.map == 0 && !(s->d.rex & 1))
        return;   /* NOP / PAUSE */
    if (use_atomic(s)) {
        TCGv b = gen_operand_load(s, 1);
        gen_operand_store(s, 1, gen_atomic_fetch(s, ATOMIC_XCHG, b, op_size(s, 0)));
        return;
    }
    TCGv a = gen_operand_load(s, 0), b = gen_operand_load(s, 1);
    gen_operand_store(s, 0, b);   /* memory (if any) first */
    gen_operand_store(s, 1, a);
}

static void trans_cmov(DisasContext *s)
{
    unsigned size = s->d.opsize;
    TCGv v = gen_reg_load(s, s->d.rm, size);
    if (s->d.mod != 3) {
        gen_lea_addr(s);
        v = gen_ld(s, s->A0, size);
    }
    TCGv old = gen_reg_load(s, s->d.reg, size), r = tcg_temp_new();
    gen_movcond_cc(s, s->d.e->aux, r, v, old);
    gen_reg_store(s, s->d.reg, size, r);
}

static void trans_setcc(DisasContext *s)
{
    gen_operand_store(s, 0, gen_setcc(s, s->d.e->aux));
}

static void trans_cbw(DisasContext *s)
{
    unsigned size = s->d.opsize;
    TCGv v = gen_sext(cpu_regs[R_EAX], size / 2);
    gen_reg_store(s, R_EAX, size, v);
}

static void trans_cwd(DisasContext *s)
{
    unsigned size = s->d.opsize;
    TCGv v = gen_sext(cpu_regs[R_EAX], size);
    tcg_gen_sari(v, v, 63);
    gen_reg_store(s, R_EDX, size, v);
}

static void trans_cmpxchg(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    TCGv dst = gen_operand_load(s, 0), src = gen_operand_load(s, 1);
    TCGv acc = gen_reg_load(s, R_EAX, size);
    TCGv diff = tcg_temp_new();
    if (s->d.mod == 3 && size == 1) {
        /* byte register (maybe AH..BH): a byte write changes nothing else */
        TCGv newv = tcg_temp_new();
        tcg_gen_movcond(TCG_COND_EQ, 0, newv, acc, dst, src, dst);
        gen_operand_store(s, 0, newv);
    } else if (s->d.mod == 3) {
        /* register destination: written only on a match */
        gen_reg_store_if(s, s->d.rm, size, src, TCG_COND_EQ, acc, dst);
    } else if (use_atomic(s)) {
        TCGv old = tcg_temp_new();
        gen_lea_addr(s);
        TCGv addr = gen_checked_linear(s, s->A0, size, true);
        gen_update_cc_op(s);
        gen_helper(helper_atomic_cmpxchg, old, 5, tcg_env, addr, acc, src,
                   tcg_const(size << 8 | (unsigned)s->mem_idx << 12));
        dst = old;
    } else {
        /* memory destination: always written (locked read-modify-write) */
        TCGv newv = tcg_temp_new();
        tcg_gen_movcond(TCG_COND_EQ, 0, newv, acc, dst, src, dst);
        gen_operand_store(s, 0, newv);
    }
    /* the accumulator is written only on a mismatch */
    gen_reg_store_if(s, R_EAX, size, dst, TCG_COND_NE, acc, dst);
    tcg_gen_op3(INDEX_op_sub, 0, diff, acc, dst);
    gen_cc_result(s, CC_K_SUB, size, diff, dst, TCG_NO_TEMP);
}

static void trans_xadd(DisasContext *s)
{
    unsigned size = op_size(s, 0);
    bool atomic = use_atomic(s);
    TCGv b = gen_operand_load(s, 1);
    TCGv a = atomic ? gen_atomic_fetch(s, ATOMIC_ADD, b, size) : gen_operand_load(s, 0);
    TCGv r = tcg_temp_new();
    tcg_gen_op3(INDEX_op_add, W32(size), r, a, b);
    if (s->d.mod == 3) {
        /* XADD r, r with one register twice leaves the sum: DEST is written last */
        gen_operand_store(s, 1, a);
        gen_operand_store(s, 0, r);
    } else {
        /* the memory store may fault: before any register changes */
        if (!atomic)
            gen_operand_store(s, 0, r);
        gen_operand_store(s, 1, a);
    }
    gen_cc_result(s, CC_K_ADD, size, r, b, TCG_NO_TEMP);
}

static void trans_cmpxchg8b(DisasContext *s)
{
    gen_lea_addr(s);
    TCGv addr = gen_checked_linear(s, s->A0, s->d.opsize == 8 ? 16 : 8, true);
    sync(s);
    bool stack = gen_is_stack_addr(s, s->A0);
    gen_helper(helper_cmpxchg8b, TCG_NO_TEMP, 3, tcg_env, addr,
               tcg_const((s->d.opsize == 8 ? CMPXCHG_WIDE : 0) | (stack ? CMPXCHG_STACK : 0)));
    flags_now_dynamic(s);
}

static void trans_movbe(DisasContext *s)
{
    unsigned size = s->d.opsize;
    TCGv v = gen_operand_load(s, 1), r = tcg_temp_new();
    if (size == 2) {
        TCGv hi = tcg_temp_new();
        tcg_gen_shli(hi, v, 8);
        tcg_gen_shri(r, v, 8);
        tcg_gen_or(r, r, hi);
    } else {
        tcg_gen_op2(INDEX_op_bswap, W32(size), r, v);
    }
    gen_operand_store(s, 0, r);
}

static void trans_crc32(DisasContext *s)
{
    unsigned size = op_size(s, 1);
    TCGv v = gen_operand_load(s, 1), crc = gen_reg_load(s, s->d.reg, 4), r = tcg_temp_new();
    gen_helper_pure(helper_crc32, r, 3, crc, v, tcg_const(size));
    gen_reg_store(s, s->d.reg, op_size(s, 0), r);
}

/* ---- stack ------------------------------------------------------------------- */
static void trans_push(DisasContext *s)
{
    unsigned size = s->d.opsize;
    TCGv v;
    if (s->d.e->op[0] == O_SEG)
        v = gen_env_ld(ENV_OFF(segs[0].selector) + s->d.e->aux * (int64_t)sizeof(SegmentCache), MO_16);
    else
        v = gen_operand_load(s, 0);
    gen_push(s, v, size);
}

static void trans_pop(DisasContext *s)
{
    unsigned size = s->d.opsize;
    TCGv v = gen_pop_peek(s, size, 0);
    if (s->d.e->op[0] == O_SEG) {
        int seg = s->d.e->aux;
        sync(s);
        gen_helper(helper_load_seg, TCG_NO_TEMP, 3, tcg_env, tcg_const(seg), v);
        gen_pop_commit(s, size);
        if (seg == R_SS)
            gen_helper(helper_set_inhibit_irq, TCG_NO_TEMP, 1, tcg_env);
        gen_set_rip(s, s->next_pc);
        end_block(s);
        return;
    }
    if (s->d.e->op[0] == O_Ev && s->d.mod != 3) {
        /* The destination address is computed after RSP is incremented,
         * but a faulting store leaves RSP as it was. */
        TCGv old_sp = tcg_temp_new();
        tcg_gen_mov(old_sp, cpu_regs[R_ESP]);
        gen_pop_commit(s, size);
        gen_lea_addr(s);
        tcg_gen_mov(cpu_regs[R_ESP], old_sp);
        gen_st(s, s->A0, v, size);
        gen_pop_commit(s, size);
        return;
    }
    gen_pop_commit(s, size);
    gen_operand_store(s, 0, v);
}

static void trans_pusha(DisasContext *s)
{
    sync(s);
    gen_helper(s->d.mnemonic == I_PUSHA ? (void *)helper_pusha : (void *)helper_popa,
               TCG_NO_TEMP, 2, tcg_env, tcg_const(s->d.opsize));
}

static void trans_enter(DisasContext *s)
{
    sync(s);
    gen_helper(helper_enter, TCG_NO_TEMP, 4, tcg_env, tcg_const(s->d.opsize),
               tcg_const(s->d.imm & 0xffff), tcg_const(s->d.imm2 & 31));
}

static void trans_leave(DisasContext *s)
{
    unsigned size = s->d.opsize, ss = stack_size(s);
    TCGv bp = gen_zext(cpu_regs[R_EBP], ss);
    TCGv v = gen_ld(s, gen_linear_sized(s, bp, R_SS, ss), size);
    TCGv sp = tcg_temp_new();
    tcg_gen_addi(sp, bp, size);
    gen_reg_store(s, R_ESP, ss, sp);
    gen_reg_store(s, R_EBP, size, v);
}

static void trans_pushf(DisasContext *s)
{
    TCGv v = tcg_temp_new();
    sync(s);
    gen_helper(helper_pushf, v, 2, tcg_env, tcg_const(dflag(s)));
    gen_push(s, v, s->d.opsize);
}

static void trans_popf(DisasContext *s)
{
    unsigned size = s->d.opsize;
    TCGv v = gen_pop_peek(s, size, 0);
    sync_next(s);
    gen_helper(helper_popf, TCG_NO_TEMP, 3, tcg_env, v, tcg_const(dflag(s)));
    flags_now_dynamic(s);
    gen_pop_commit(s, size);
    end_block(s);
}

/* ---- flags ------------------------------------------------------------------- */
static void trans_flagop(DisasContext *s)
{
    TCGv f = gen_compute_eflags(s);
    switch (s->d.mnemonic) {
    case I_CMC: tcg_gen_xori(f, f, CC_C); break;
    case I_CLC: tcg_gen_andi(f, f, ~(uint64_t)CC_C); break;
    default: tcg_gen_ori(f, f, CC_C); break;
    }
    gen_set_eflags_cc(s, f);
}

static void trans_dirflag(DisasContext *s)
{
    TCGv f = gen_env_ld(ENV_OFF(eflags), MO_64);
    if (s->d.mnemonic == I_STD)
        tcg_gen_ori(f, f, DF_MASK);
    else
        tcg_gen_andi(f, f, ~(uint64_t)DF_MASK);
    gen_env_st(f, ENV_OFF(eflags), MO_64);
}

static void trans_lahf(DisasContext *s)
{
    TCGv f = gen_compute_eflags(s);
    tcg_gen_ori(f, f, 2);
    TCGv ax = tcg_temp_new();
    tcg_gen_shli(ax, f, 8);
    {
        TCGv keep = tcg_temp_new();
        tcg_gen_andi(keep, cpu_regs[R_EAX], ~0xff00ULL);
        tcg_gen_andi(ax, ax, 0xff00);
        tcg_gen_or(cpu_regs[R_EAX], keep, ax);
    }
}

static void trans_sahf(DisasContext *s)
{
    TCGv f = gen_compute_eflags(s), ah = tcg_temp_new();
    tcg_gen_shri(ah, cpu_regs[R_EAX], 8);
    tcg_gen_andi(ah, ah, CC_S | CC_Z | CC_A | CC_P | CC_C);
    tcg_gen_andi(f, f, CC_O);
    tcg_gen_or(f, f, ah);
    gen_set_eflags_cc(s, f);
}

static void trans_salc(DisasContext *s)
{
    TCGv cf = gen_compute_cf(s), v = tcg_temp_new();
    tcg_gen_op2(INDEX_op_neg, 0, v, cf);
    gen_reg_store(s, R_EAX, 1, v);
}

static void trans_cli(DisasContext *s)
{
    sync(s);
    gen_helper(helper_cli, TCG_NO_TEMP, 1, tcg_env);
}

static void trans_sti(DisasContext *s)
{
    sync_next(s);
    gen_helper(helper_sti, TCG_NO_TEMP, 1, tcg_env);
    gen_helper(helper_set_inhibit_irq, TCG_NO_TEMP, 1, tcg_env);
    end_block(s);
}

/* ---- control transfer ---------------------------------------------------------- */
/* A relative branch target: with a 16-bit operand size the upper half of EIP
 * is cleared (outside 64-bit mode). */
static uint64_t branch_target(DisasContext *s)
{
    uint64_t t = s->next_pc + s->d.imm;
    return (!s->code64 && s->d.opsize == 2) ? (t & 0xffff) : t;
}
/* An indirect branch to a non-canonical address (64-bit mode) or past the
 * CS limit faults at the branch, before its push or pop (#GP(0)), not at
 * the target. Stores RIP = t first (a later fault of the push restores RIP
 * from the instruction's start), so t need not outlive the check's branch;
 * the raise goes after the block's end, so the straight-line code keeps its
 * registers (no label in it). */
static void gen_set_branch_target(DisasContext *s, TCGv t)
{
    gen_set_rip_tcg(t);
    bool inline_raise = s->nb_fault >= (int)ARRAY_SIZE(s->fault);
    int bad = gen_new_label(), ok = inline_raise ? gen_new_label() : -1;
    gen_update_cc_op(s);
    if (s->code64) {
        TCGv sext = tcg_temp_new();
        tcg_gen_shli(sext, t, 16);
        tcg_gen_sari(sext, sext, 16);
        tcg_gen_brcond(inline_raise ? TCG_COND_EQ : TCG_COND_NE, 0, sext, t, inline_raise ? ok : bad);
    } else {
        TCGv limit = gen_env_ld(ENV_OFF(segs[R_CS].limit), MO_32);
        tcg_gen_brcond(inline_raise ? TCG_COND_LEU : TCG_COND_GTU, 0, t, limit, inline_raise ? ok : bad);
    }
    if (inline_raise) {
        tcg_gen_set_label(bad);
        gen_set_rip(s, s->pc);
        gen_helper(helper_raise_exception, TCG_NO_TEMP, 3, tcg_env, tcg_const(EXCP_GP), tcg_const(0));
        tcg_gen_set_label(ok);
        return;
    }
    s->fault[s->nb_fault].label = bad;
    s->fault[s->nb_fault].pc = s->pc;
    s->nb_fault++;
}

void gen_fault_exits(DisasContext *s)
{
    for (int i = 0; i < s->nb_fault; i++) {
        tcg_gen_set_label(s->fault[i].label);
        gen_set_rip(s, s->fault[i].pc);   /* cc_op was stored before the branch */
        gen_helper(helper_raise_exception, TCG_NO_TEMP, 3, tcg_env, tcg_const(EXCP_GP), tcg_const(0));
    }
    s->nb_fault = 0;
}

static void trans_jmp(DisasContext *s)
{
    if (s->d.e->op[0] == O_Jb || s->d.e->op[0] == O_Jz) {
        if (!gen_follow(s, branch_target(s), false))
            gen_jmp_to(s, branch_target(s), 0);
        return;
    }
    gen_set_branch_target(s, gen_zext(gen_operand_load(s, 0), s->d.opsize));
    s->xfer_kind = XFER_INDIRECT_JMP;
    s->is_jmp = DISAS_JUMP;
}

static void trans_call(DisasContext *s)
{
    unsigned size = s->d.opsize;
    if (s->d.e->op[0] == O_Jz) {
        TCGv ret = gen_pc_value(s, s->next_pc);
        gen_push(s, ret, size);
        gen_ras_push(s, ret, size);
        s->xfer_kind = XFER_DIRECT_CALL;
        if (!gen_follow(s, branch_target(s), true))
            gen_jmp_to(s, branch_target(s), 0);
        return;
    }
    gen_set_branch_target(s, gen_zext(gen_operand_load(s, 0), size));
    TCGv ret = gen_pc_value(s, s->next_pc);
    gen_push(s, ret, size);
    gen_ras_push(s, ret, size);
    s->xfer_kind = XFER_INDIRECT_CALL;
    s->is_jmp = DISAS_JUMP;
}

static void trans_ret(DisasContext *s)
{
    unsigned size = s->d.opsize;
    gen_set_branch_target(s, gen_pop_peek(s, size, 0));
    unsigned imm = s->d.e->op[0] == O_Iw ? (unsigned)s->d.imm : 0;
    gen_sp_add(s, size + imm);
    if (s->code64 && size == 8)
        s->ret_pop = size + imm;
    s->xfer_kind = XFER_RET;
    s->is_jmp = DISAS_JUMP;
}

static void trans_jcc(DisasContext *s)
{
    /* in a region, cc_op is stored on the edges that need it */
    if (gen_region_jcc(s, s->d.e->aux, branch_target(s)))
        return;   /* falls through to the next instruction of the region */
    gen_update_cc_op(s);
    int taken = gen_new_label();
    if (gen_is_self_loop(s, branch_target(s))) {
        /* the back edge falls through, so registers stay in host registers */
        int leave = taken;
        gen_jcc(s, s->d.e->aux ^ 1, leave);
        gen_jmp_to(s, branch_target(s), 1);
        tcg_gen_set_label(leave);
        gen_jmp_to(s, s->next_pc, 0);
        return;
    }
    if (gen_follow_jcc(s, s->d.e->aux, branch_target(s)))
        return;
    gen_jcc(s, s->d.e->aux, taken);
    gen_jmp_to(s, s->next_pc, 0);
    tcg_gen_set_label(taken);
    gen_jmp_to(s, branch_target(s), 1);
}

static void trans_loop(DisasContext *s)
{
    unsigned as = s->d.addrsize, mn = s->d.mnemonic;
    int taken = gen_new_label();
    gen_update_cc_op(s);
    TCGv c = tcg_temp_new();
    if (mn == I_JCXZ) {
        tcg_gen_extu(c, cpu_regs[R_ECX], as);
        tcg_gen_brcondi(TCG_COND_EQ, 0, c, 0, taken);
    } else {
        tcg_gen_subi(c, cpu_regs[R_ECX], 1);
        gen_reg_store(s, R_ECX, as, c);
        TCGv cz = gen_zext(cpu_regs[R_ECX], as);
        if (mn == I_LOOP && gen_is_self_loop(s, branch_target(s))) {
            tcg_gen_brcondi(TCG_COND_EQ, 0, cz, 0, taken);   /* taken = leave */
            gen_jmp_to(s, branch_target(s), 1);
            tcg_gen_set_label(taken);
            gen_jmp_to(s, s->next_pc, 0);
            return;
        }
        if (mn == I_LOOP) {
            tcg_gen_brcondi(TCG_COND_NE, 0, cz, 0, taken);
        } else {
            int not_taken = gen_new_label();
            s->last_cmp.insn = -100;   /* its temps end at the brcond below */
            tcg_gen_brcondi(TCG_COND_EQ, 0, cz, 0, not_taken);
            gen_jcc(s, mn == I_LOOPZ ? 4 : 5, taken);   /* Z / NZ */
            tcg_gen_set_label(not_taken);
        }
    }
    gen_jmp_to(s, s->next_pc, 0);
    tcg_gen_set_label(taken);
    gen_jmp_to(s, branch_target(s), 1);
}

static void trans_far(DisasContext *s)
{
    unsigned mn = s->d.mnemonic;
    TCGv sel, off;
    if (s->d.e->op[0] == O_Ap) {
        sel = tcg_const(s->d.imm2);
        off = tcg_const(s->d.imm);
    } else {
        unsigned size = s->d.opsize;
        gen_lea_addr(s);
        off = gen_ld(s, s->A0, size);
        sel = gen_ld(s, gen_addr_offset(s, s->A0, size), 2);
    }
    sync(s);
    if (mn == I_JMPF)
        gen_helper(helper_ljmp, TCG_NO_TEMP, 4, tcg_env, sel, off, gen_pc_value(s, s->next_pc));
    else
        gen_helper(helper_lcall, TCG_NO_TEMP, 5, tcg_env, sel, off, tcg_const(dflag(s)),
                   gen_pc_value(s, s->next_pc));
    flags_now_dynamic(s);
    end_block(s);
}

static void trans_retf(DisasContext *s)
{
    unsigned imm = s->d.e->op[0] == O_Iw ? (unsigned)s->d.imm : 0;
    sync(s);
    gen_helper(helper_lret, TCG_NO_TEMP, 3, tcg_env, tcg_const(dflag(s)), tcg_const(imm));
    flags_now_dynamic(s);
    end_block(s);
}

static void trans_iret(DisasContext *s)
{
    sync(s);
    gen_helper(helper_iret, TCG_NO_TEMP, 3, tcg_env, tcg_const(dflag(s)), gen_pc_value(s, s->next_pc));
    flags_now_dynamic(s);
    end_block(s);
}

static void trans_int(DisasContext *s)
{
    TCGv next = gen_pc_value(s, s->next_pc);
    sync(s);
    switch (s->d.mnemonic) {
    case I_INT: gen_helper(helper_int, TCG_NO_TEMP, 3, tcg_env, tcg_const(s->d.imm & 0xff), next); break;
    case I_INT3: gen_helper(helper_int3, TCG_NO_TEMP, 2, tcg_env, next); break;
    case I_INT1: gen_helper(helper_icebp, TCG_NO_TEMP, 2, tcg_env, next); break;
    default:
        gen_set_rip(s, s->next_pc);
        gen_helper(helper_into, TCG_NO_TEMP, 2, tcg_env, next);
        break;
    }
    flags_now_dynamic(s);
    end_block(s);
}

static void trans_hlt(DisasContext *s)
{
    sync(s);
    gen_helper(helper_hlt, TCG_NO_TEMP, 2, tcg_env, gen_pc_value(s, s->next_pc));
    s->is_jmp = DISAS_NORETURN;
}

/* ---- segments ------------------------------------------------------------------ */
static void trans_movseg(DisasContext *s)
{
    int sreg = (s->d.modrm >> 3) & 7;
    if (sreg > R_GS) {
        gen_ud(s);
        return;
    }
    if (s->d.e->op[0] == O_Sw) {
        if (sreg == R_CS) {
            gen_ud(s);
            return;
        }
        TCGv v = gen_operand_load(s, 1);
        sync(s);
        gen_helper(helper_load_seg, TCG_NO_TEMP, 3, tcg_env, tcg_const(sreg), v);
        if (sreg == R_SS)
            gen_helper(helper_set_inhibit_irq, TCG_NO_TEMP, 1, tcg_env);
        gen_set_rip(s, s->next_pc);
        end_block(s);
        return;
    }
    TCGv v = gen_env_ld(ENV_OFF(segs[0].selector) + sreg * (int64_t)sizeof(SegmentCache), MO_16);
    if (s->d.mod == 3) {
        gen_reg_store(s, s->d.rm, s->d.opsize, v);
    } else {
        gen_lea_addr(s);
        gen_st(s, s->A0, v, 2);
    }
}

static void trans_lxs(DisasContext *s)
{
    static const int8_t segs[I_COUNT] = {
        [I_LES] = R_ES, [I_LDS] = R_DS, [I_LSS] = R_SS, [I_LFS] = R_FS, [I_LGS] = R_GS,
    };
    unsigned size = s->d.opsize;
    int seg = segs[s->d.mnemonic];
    gen_lea_addr(s);
    TCGv off = gen_ld(s, s->A0, size);
    TCGv sel = gen_ld(s, gen_addr_offset(s, s->A0, size), 2);
    sync(s);
    gen_helper(helper_load_seg, TCG_NO_TEMP, 3, tcg_env, tcg_const(seg), sel);
    gen_reg_store(s, s->d.reg, size, off);
    gen_set_rip(s, s->next_pc);
    end_block(s);
}

static void trans_arpl(DisasContext *s)
{
    if (!s->pe || s->vm86) {
        gen_ud(s);
        return;
    }
    TCGv dst = gen_operand_load(s, 0), src = gen_operand_load(s, 1);
    TCGv drpl = tcg_temp_new(), srpl = tcg_temp_new(), adj = tcg_temp_new(), z = tcg_temp_new();
    tcg_gen_andi(drpl, dst, 3);
    tcg_gen_andi(srpl, src, 3);
    tcg_gen_setcond(TCG_COND_LTU, 0, z, drpl, srpl);
    TCGv nv = tcg_temp_new();
    tcg_gen_andi(nv, dst, ~3ULL);
    tcg_gen_or(nv, nv, srpl);
    tcg_gen_movcond(TCG_COND_NE, 0, adj, z, tcg_const(0), nv, dst);
    gen_operand_store(s, 0, adj);
    TCGv f = gen_compute_eflags(s);
    tcg_gen_andi(f, f, ~(uint64_t)CC_Z);
    tcg_gen_shli(z, z, 6);
    tcg_gen_or(f, f, z);
    gen_set_eflags_cc(s, f);
}

/* ---- strings and I/O ------------------------------------------------------------ */
/* The element step for string instructions: +size, or -size when EFLAGS.DF. */
static TCGv gen_string_step(unsigned size)
{
    TCGv df = gen_env_ld(ENV_OFF(eflags), MO_64), step = tcg_temp_new();
    tcg_gen_shri(df, df, 10);           /* DF is bit 10 */
    tcg_gen_andi(df, df, 1);
    tcg_gen_shli(df, df, size_log2(size) + 1);
    tcg_gen_op3(INDEX_op_sub, 0, step, tcg_const(size), df);
    return step;
}

static void gen_string_advance(DisasContext *s, int reg, TCGv step)
{
    TCGv v = tcg_temp_new();
    tcg_gen_add(v, cpu_regs[reg], step);
    gen_reg_store(s, reg, s->d.addrsize, v);
}

/* One MOVS/STOS/LODS/CMPS/SCAS without REP, inline. */
static void gen_string_once(DisasContext *s, unsigned mn, unsigned size)
{
    int seg = default_data_seg(s);
    TCGv step = gen_string_step(size);
    TCGv src = TCG_NO_TEMP, dst = TCG_NO_TEMP;
    if (mn == I_MOVS || mn == I_LODS || mn == I_CMPS)
        src = gen_ld(s, gen_linear(s, cpu_regs[R_ESI], seg), size);
    if (mn == I_CMPS || mn == I_SCAS)
        dst = gen_ld(s, gen_linear(s, cpu_regs[R_EDI], R_ES), size);
    if (mn == I_MOVS)
        gen_st(s, gen_linear(s, cpu_regs[R_EDI], R_ES), src, size);
    else if (mn == I_STOS)
        gen_st(s, gen_linear(s, cpu_regs[R_EDI], R_ES), gen_reg_load(s, R_EAX, size), size);
    if (mn == I_LODS)
        gen_reg_store(s, R_EAX, size, src);
    if (mn == I_CMPS || mn == I_SCAS) {
        TCGv a = mn == I_CMPS ? src : gen_reg_load(s, R_EAX, size), r = tcg_temp_new();
        tcg_gen_sub(r, a, dst);
        gen_cc_result(s, CC_K_SUB, size, r, dst, TCG_NO_TEMP);
    }
    if (mn != I_STOS && mn != I_SCAS)
        gen_string_advance(s, R_ESI, step);
    if (mn != I_LODS)
        gen_string_advance(s, R_EDI, step);
}

/* REPE/REPNE CMPS/SCAS set the flags at every iteration: a fault in a later
 * one must keep them, not restore the flag state from before the instruction
 * (env->cc_op is synchronised before the helper runs). */
static void insn_flags_set_by_helper(void)
{
    for (int i = tcg_ctx->nb_ops - 1; i >= 0; i--) {
        if (tcg_ctx->ops[i].opc == INDEX_op_insn_start) {
            tcg_ctx->ops[i].args[1] = CC_OP_DYNAMIC;
            return;
        }
    }
}

static void trans_string(DisasContext *s)
{
    static const uint8_t ops[I_COUNT] = {
        [I_MOVS] = STR_MOVS, [I_CMPS] = STR_CMPS, [I_STOS] = STR_STOS, [I_LODS] = STR_LODS,
        [I_SCAS] = STR_SCAS, [I_INS] = STR_INS, [I_OUTS] = STR_OUTS,
    };
    unsigned mn = s->d.mnemonic;
    unsigned size = (s->d.e->flags & F_BYTE) ? 1 : s->d.opsize;
    unsigned rep = (s->d.prefix & P_REPZ) ? 1 : (s->d.prefix & P_REPNZ) ? 2 : 0;
    int seg = default_data_seg(s);
    if (rep && mn != I_CMPS && mn != I_SCAS)
        rep = 1;
    if (!rep && mn != I_INS && mn != I_OUTS) {
        gen_string_once(s, mn, size);
        return;
    }
    uint64_t desc = ops[mn] | size << 4 | (uint64_t)s->d.addrsize << 8 |
                    (uint64_t)seg << 12 | (uint64_t)rep << 16;
    TCGv again = tcg_temp_new();
    sync(s);
    if (mn == I_CMPS || mn == I_SCAS)
        insn_flags_set_by_helper();
    gen_helper(helper_string, again, 2, tcg_env, tcg_const(desc));
    flags_now_dynamic(s);
    if (!rep)
        return;
    int redo = gen_new_label();
    tcg_gen_brcondi(TCG_COND_NE, 0, again, 0, redo);
    gen_jmp_to(s, s->next_pc, 0);
    tcg_gen_set_label(redo);
    gen_jmp_to(s, s->pc, 1);
}

static void trans_inout(DisasContext *s)
{
    bool in = s->d.mnemonic == I_IN;
    unsigned size = (s->d.e->flags & F_BYTE) ? 1 : (s->d.opsize == 2 ? 2 : 4);
    unsigned pk = s->d.e->op[in ? 1 : 0];
    TCGv port = pk == O_DX ? gen_reg_load(s, R_EDX, 2) : tcg_const(s->d.imm & 0xff);
    sync(s);
    if (in) {
        TCGv v = tcg_temp_new();
        gen_helper(helper_in, v, 3, tcg_env, port, tcg_const(size));
        gen_reg_store(s, R_EAX, size, v);
    } else {
        TCGv v = gen_reg_load(s, R_EAX, size);
        gen_helper(helper_out, TCG_NO_TEMP, 4, tcg_env, port, v, tcg_const(size));
    }
}

static void trans_xlat(DisasContext *s)
{
    TCGv off = tcg_temp_new();
    tcg_gen_op2(INDEX_op_ext8u, 0, off, cpu_regs[R_EAX]);
    tcg_gen_add(off, off, cpu_regs[R_EBX]);
    TCGv v = gen_ld(s, gen_linear(s, off, default_data_seg(s)), 1);
    gen_reg_store(s, R_EAX, 1, v);
}

/* ---- BCD and misc integer -------------------------------------------------------- */
static void trans_bcd(DisasContext *s)
{
    static const uint8_t ops[I_COUNT] = {
        [I_DAA] = BCD_DAA, [I_DAS] = BCD_DAS, [I_AAA] = BCD_AAA, [I_AAS] = BCD_AAS,
        [I_AAM] = BCD_AAM, [I_AAD] = BCD_AAD,
    };
    sync(s);
    gen_helper(helper_bcd, TCG_NO_TEMP, 3, tcg_env, tcg_const(ops[s->d.mnemonic]),
               tcg_const(s->d.imm & 0xff));
    flags_now_dynamic(s);
}

static void trans_bound(DisasContext *s)
{
    gen_lea_addr(s);
    TCGv bounds = gen_checked_linear(s, s->A0, 2 * s->d.opsize, false);
    TCGv idx = gen_reg_load(s, s->d.reg, s->d.opsize);
    sync(s);
    gen_helper(helper_bound, TCG_NO_TEMP, 4, tcg_env, bounds, tcg_const(s->d.opsize), idx);
}

static void trans_nop(DisasContext *s) { (void)s; }

/* LFENCE and SFENCE order nothing more than x86 hosts already do; MFENCE
 * must drain the store buffer when other vCPUs can look. */
static void trans_fence(DisasContext *s)
{
    if (s->smp && s->d.e->aux == 1)
        gen_helper(helper_mfence, TCG_NO_TEMP, 1, tcg_env);
}

/* CLFLUSH (CLFLUSHOPT, CLWB): checked like a byte read, nothing stored */
static void trans_clflush(DisasContext *s)
{
    gen_lea_addr(s);
    bool stack = gen_is_stack_addr(s, s->A0);
    TCGv addr = gen_checked_linear(s, s->A0, 1, false);
    sync(s);
    gen_helper(helper_clflush, TCG_NO_TEMP, 3, tcg_env, addr, tcg_const(stack));
}

static void trans_ud(DisasContext *s) { gen_ud(s); }

/* x87 / SSE: #NM when CR0.EM/TS say so; otherwise the FPU translator. */
static void trans_fpu(DisasContext *s)
{
    bool sse = s->d.mnemonic != I_FPU && s->d.mnemonic != I_WAIT;
    if (s->d.mnemonic == I_WAIT) {
        if ((s->flags & (HF_TS_MASK | HF_MP_MASK)) == (HF_TS_MASK | HF_MP_MASK))
            gen_exception(s, EXCP_NM, 0, false);
        else if (x86_translate_fpu_hook)
            x86_translate_fpu_hook(s);
        return;
    }
    if (!sse && (s->flags & (HF_EM_MASK | HF_TS_MASK))) {
        gen_exception(s, EXCP_NM, 0, false);
        return;
    }
    if (sse && (s->flags & HF_TS_MASK)) {
        gen_exception(s, EXCP_NM, 0, false);
        return;
    }
    if (x86_translate_fpu_hook) {
        x86_translate_fpu_hook(s);
        return;
    }
    gen_ud(s);
}

/* ---- system instructions ------------------------------------------------------------ */
static void trans_cpuid(DisasContext *s)
{
    sync(s);
    gen_helper(helper_cpuid, TCG_NO_TEMP, 1, tcg_env);
}

static void trans_rdtsc(DisasContext *s)
{
    sync(s);
    gen_helper(s->d.mnemonic == I_RDTSC ? (void *)helper_rdtsc : (void *)helper_rdtscp,
               TCG_NO_TEMP, 1, tcg_env);
}

static void trans_msr(DisasContext *s)
{
    if (s->d.mnemonic == I_RDMSR) {
        sync(s);
        gen_helper(helper_rdmsr, TCG_NO_TEMP, 1, tcg_env);
        return;
    }
    sync_next(s);
    gen_helper(helper_wrmsr, TCG_NO_TEMP, 1, tcg_env);
    end_block(s);
}

static void trans_movcr(DisasContext *s)
{
    bool is_cr = s->d.mnemonic == I_MOVCR;
    int reg = s->d.reg;
    if (is_cr && (s->d.prefix & P_LOCK))
        reg |= 8;   /* AMD's LOCK MOV CR0 = CR8 */
    if (s->d.e->op[0] == O_Rv) {
        TCGv v = tcg_temp_new();
        sync(s);
        gen_helper(is_cr ? (void *)helper_read_cr : (void *)helper_read_dr, v, 2,
                   tcg_env, tcg_const(reg));
        gen_reg_store(s, s->d.rm, s->code64 ? 8 : 4, v);
        return;
    }
    TCGv v = gen_reg_load(s, s->d.rm, s->code64 ? 8 : 4);
    sync_next(s);
    gen_helper(is_cr ? (void *)helper_write_cr : (void *)helper_write_dr, TCG_NO_TEMP, 3,
               tcg_env, tcg_const(reg), v);
    end_block(s);
}

static void trans_desc_table(DisasContext *s)
{
    unsigned mn = s->d.mnemonic;
    gen_lea_addr(s);
    /* limit + base: 6 bytes (10 in 64-bit mode, which has no limits) */
    TCGv table = gen_checked_linear(s, s->A0, 6, mn == I_SGDT || mn == I_SIDT);
    sync(s);
    if (mn == I_LGDT || mn == I_LIDT) {
        gen_helper(helper_lgdt_lidt, TCG_NO_TEMP, 4, tcg_env, table,
                   tcg_const(mn == I_LIDT), tcg_const(s->code64 ? 1 : s->d.opsize == 2 ? 2 : 0));
        gen_set_rip(s, s->next_pc);
        end_block(s);
    } else {
        gen_helper(helper_sgdt_sidt, TCG_NO_TEMP, 4, tcg_env, table,
                   tcg_const(mn == I_SIDT), tcg_const(s->code64));
    }
}

static void trans_smsw(DisasContext *s)
{
    TCGv v = gen_env_ld(ENV_OFF(cr[0]), MO_64);
    if (s->d.mod == 3) {
        gen_reg_store(s, s->d.rm, s->d.opsize, v);
    } else {
        gen_lea_addr(s);
        gen_st(s, s->A0, v, 2);
    }
}

static void trans_sys_noarg(DisasContext *s)
{
    unsigned mn = s->d.mnemonic;
    switch (mn) {
    case I_LMSW: {
        TCGv v = gen_operand_load(s, 0);
        sync_next(s);
        gen_helper(helper_lmsw, TCG_NO_TEMP, 2, tcg_env, v);
        break;
    }
    case I_CLTS:
        sync_next(s);
        gen_helper(helper_clts, TCG_NO_TEMP, 1, tcg_env);
        break;
    case I_INVLPG:
        gen_lea_addr(s);
        sync_next(s);
        gen_helper(helper_invlpg, TCG_NO_TEMP, 2, tcg_env, s->A0);
        break;
    case I_INVD: case I_WBINVD:
        sync(s);
        gen_helper(helper_check_cpl0, TCG_NO_TEMP, 1, tcg_env);
        return;
    case I_SYSCALL:
        sync(s);
        gen_helper(helper_syscall, TCG_NO_TEMP, 2, tcg_env, gen_pc_value(s, s->next_pc));
        break;
    case I_SYSRET:
        sync(s);
        gen_helper(helper_sysret, TCG_NO_TEMP, 2, tcg_env, tcg_const(dflag(s)));
        break;
    case I_SYSENTER:
        sync(s);
        gen_helper(helper_sysenter, TCG_NO_TEMP, 1, tcg_env);
        break;
    case I_SYSEXIT:
        sync(s);
        gen_helper(helper_sysexit, TCG_NO_TEMP, 2, tcg_env, tcg_const(dflag(s)));
        break;
    case I_SWAPGS:
        sync_next(s);
        gen_helper(helper_swapgs, TCG_NO_TEMP, 1, tcg_env);
        break;
    case I_STAC: case I_CLAC:
        /* CPL 0 only (real mode included); V86 and CPL > 0 are #UD */
        if (s->cpl != 0 || s->vm86 || !x86_cpu_has(X86_FEAT_SMAP)) {
            gen_ud(s);
            return;
        }
        sync_next(s);
        gen_helper(helper_set_ac, TCG_NO_TEMP, 2, tcg_env, tcg_const(mn == I_STAC));
        break;
    default:
        gen_ud(s);
        return;
    }
    flags_now_dynamic(s);
    end_block(s);
}

static void trans_invpcid(DisasContext *s)
{
    if (s->vm86 || !x86_cpu_has(X86_FEAT_INVPCID)) {
        gen_ud(s);
        return;
    }
    TCGv type = gen_reg_load(s, s->d.reg, s->code64 ? 8 : 4);
    gen_lea_addr(s);
    TCGv desc = gen_checked_linear(s, s->A0, 16, false);
    sync_next(s);
    gen_helper(helper_invpcid, TCG_NO_TEMP, 3, tcg_env, type, desc);
    flags_now_dynamic(s);
    end_block(s);
}

static void trans_ldt_tr(DisasContext *s)
{
    unsigned mn = s->d.mnemonic;
    if (!s->pe || s->vm86) {
        gen_ud(s);
        return;
    }
    if (mn == I_SLDT || mn == I_STR) {
        TCGv v = gen_env_ld(mn == I_SLDT ? ENV_OFF(ldt.selector) : ENV_OFF(tr.selector), MO_16);
        if (s->d.mod == 3) {
            gen_reg_store(s, s->d.rm, s->d.opsize, v);
        } else {
            gen_lea_addr(s);
            gen_st(s, s->A0, v, 2);
        }
        return;
    }
    TCGv sel = gen_operand_load(s, 0);
    if (mn == I_LLDT || mn == I_LTR) {
        sync_next(s);
        gen_helper(mn == I_LLDT ? (void *)helper_lldt : (void *)helper_ltr, TCG_NO_TEMP, 2,
                   tcg_env, sel);
        end_block(s);
        return;
    }
    /* VERR / VERW: ZF = result */
    TCGv ok = tcg_temp_new();
    sync(s);
    gen_helper(mn == I_VERR ? (void *)helper_verr : (void *)helper_verw, ok, 2, tcg_env, sel);
    TCGv f = gen_compute_eflags(s);
    tcg_gen_andi(f, f, ~(uint64_t)CC_Z);
    tcg_gen_shli(ok, ok, 6);
    tcg_gen_or(f, f, ok);
    gen_set_eflags_cc(s, f);
}

static void trans_lar_lsl(DisasContext *s)
{
    if (!s->pe || s->vm86) {
        gen_ud(s);
        return;
    }
    TCGv sel = gen_operand_load(s, 1), r = tcg_temp_new();
    sync(s);
    gen_helper(s->d.mnemonic == I_LAR ? (void *)helper_lar : (void *)helper_lsl, r, 2, tcg_env, sel);
    TCGv valid = tcg_temp_new();
    tcg_gen_setcond(TCG_COND_NE, 0, valid, r, tcg_const((uint64_t)-1));
    TCGv old = gen_reg_load(s, s->d.reg, s->d.opsize), nv = tcg_temp_new();
    tcg_gen_movcond(TCG_COND_NE, 0, nv, valid, tcg_const(0), r, old);
    /* On failure the destination is left alone, even its upper half. */
    TCGv full = tcg_temp_new();
    tcg_gen_mov(full, cpu_regs[s->d.reg]);
    TCGv wr = tcg_temp_new();
    if (s->d.opsize == 2) {
        TCGv keep = tcg_temp_new();
        tcg_gen_andi(keep, full, ~0xffffULL);
        tcg_gen_andi(nv, nv, 0xffff);
        tcg_gen_or(wr, keep, nv);
    } else {
        tcg_gen_extu(wr, nv, s->d.opsize);
    }
    tcg_gen_movcond(TCG_COND_NE, 0, cpu_regs[s->d.reg], valid, tcg_const(0), wr, full);
    TCGv f = gen_compute_eflags(s);
    tcg_gen_andi(f, f, ~(uint64_t)CC_Z);
    tcg_gen_shli(valid, valid, 6);
    tcg_gen_or(f, f, valid);
    gen_set_eflags_cc(s, f);
}

static void trans_rdrand(DisasContext *s)
{
    /* Random bits are not needed to be good: a counter-based value, CF=1. */
    TCGv v = gen_env_ld(ENV_OFF(tsc_offset), MO_64), f = tcg_const(CC_C);
    tcg_gen_xori(v, v, 0x9e3779b97f4a7c15ULL);
    gen_reg_store(s, s->d.rm, s->d.opsize, v);
    gen_set_eflags_cc(s, f);
}

/* RDPID: IA32_TSC_AUX (bits 63:32 are always zero), not subject to CR4.TSD;
 * the decoder gives #UD when the model lacks it. */
static void trans_rdpid(DisasContext *s)
{
    gen_reg_store(s, s->d.rm, s->d.opsize, gen_env_ld(ENV_OFF(tsc_aux), MO_64));
}

static void trans_xgetbv(DisasContext *s)
{
    if (s->d.e->aux == 1) {     /* XSETBV (cpu/x86/fxsave.c) */
        sync(s);
        gen_helper(helper_xsetbv, TCG_NO_TEMP, 1, tcg_env);
        return;
    }
    TCGv v = gen_env_ld(ENV_OFF(xcr0), MO_64), hi = tcg_temp_new();
    if (!(s->env->cr[4] & CR4_OSXSAVE)) {
        gen_ud(s);
        return;
    }
    tcg_gen_shri(hi, v, 32);
    gen_reg_store(s, R_EAX, 4, v);
    gen_reg_store(s, R_EDX, 4, hi);
}

static const TransFn trans_table[I_COUNT] = {
    [I_ADD] = trans_alu, [I_OR] = trans_alu, [I_ADC] = trans_alu, [I_SBB] = trans_alu,
    [I_AND] = trans_alu, [I_SUB] = trans_alu, [I_XOR] = trans_alu, [I_CMP] = trans_alu,
    [I_TEST] = trans_test, [I_INC] = trans_incdec, [I_DEC] = trans_incdec,
    [I_NOT] = trans_not, [I_NEG] = trans_neg, [I_MUL] = trans_mul1, [I_IMUL1] = trans_mul1,
    [I_IMUL2] = trans_imul, [I_IMUL3] = trans_imul, [I_DIV] = trans_div, [I_IDIV] = trans_div,
    [I_ROL] = trans_shift, [I_ROR] = trans_shift, [I_RCL] = trans_shift, [I_RCR] = trans_shift,
    [I_SHL] = trans_shift, [I_SHR] = trans_shift, [I_SAR] = trans_shift,
    [I_SHLD] = trans_shxd, [I_SHRD] = trans_shxd,
    [I_BT] = trans_bt, [I_BTS] = trans_bt, [I_BTR] = trans_bt, [I_BTC] = trans_bt,
    [I_BSF] = trans_bitcount, [I_BSR] = trans_bitcount, [I_TZCNT] = trans_bitcount,
    [I_LZCNT] = trans_bitcount, [I_POPCNT] = trans_bitcount, [I_BSWAP] = trans_bswap,
    [I_MOV] = trans_mov, [I_MOVZX] = trans_movx, [I_MOVSX] = trans_movx, [I_MOVSXD] = trans_movx,
    [I_LEA] = trans_lea, [I_XCHG] = trans_xchg, [I_CMOV] = trans_cmov, [I_SETCC] = trans_setcc,
    [I_CBW] = trans_cbw, [I_CWD] = trans_cwd, [I_CMPXCHG] = trans_cmpxchg, [I_XADD] = trans_xadd,
    [I_CMPXCHG8B] = trans_cmpxchg8b, [I_MOVBE] = trans_movbe, [I_CRC32] = trans_crc32,
    [I_PUSH] = trans_push, [I_POP] = trans_pop, [I_PUSHA] = trans_pusha, [I_POPA] = trans_pusha,
    [I_ENTER] = trans_enter, [I_LEAVE] = trans_leave, [I_PUSHF] = trans_pushf, [I_POPF] = trans_popf,
    [I_CMC] = trans_flagop, [I_CLC] = trans_flagop, [I_STC] = trans_flagop,
    [I_CLD] = trans_dirflag, [I_STD] = trans_dirflag, [I_LAHF] = trans_lahf, [I_SAHF] = trans_sahf,
    [I_SALC] = trans_salc, [I_CLI] = trans_cli, [I_STI] = trans_sti,
    [I_JMP] = trans_jmp, [I_CALL] = trans_call, [I_RET] = trans_ret, [I_JCC] = trans_jcc,
    [I_LOOP] = trans_loop, [I_LOOPZ] = trans_loop, [I_LOOPNZ] = trans_loop, [I_JCXZ] = trans_loop,
    [I_JMPF] = trans_far, [I_CALLF] = trans_far, [I_RETF] = trans_retf, [I_IRET] = trans_iret,
    [I_INT] = trans_int, [I_INT3] = trans_int, [I_INTO] = trans_int, [I_INT1] = trans_int,
    [I_HLT] = trans_hlt, [I_MOVSEG] = trans_movseg,
    [I_LES] = trans_lxs, [I_LDS] = trans_lxs, [I_LSS] = trans_lxs, [I_LFS] = trans_lxs,
    [I_LGS] = trans_lxs, [I_ARPL] = trans_arpl,
    [I_MOVS] = trans_string, [I_CMPS] = trans_string, [I_STOS] = trans_string,
    [I_LODS] = trans_string, [I_SCAS] = trans_string, [I_INS] = trans_string,
    [I_OUTS] = trans_string, [I_IN] = trans_inout, [I_OUT] = trans_inout, [I_XLAT] = trans_xlat,
    [I_DAA] = trans_bcd, [I_DAS] = trans_bcd, [I_AAA] = trans_bcd, [I_AAS] = trans_bcd,
    [I_AAM] = trans_bcd, [I_AAD] = trans_bcd, [I_BOUND] = trans_bound,
    [I_NOP] = trans_nop, [I_PREFETCH] = trans_nop, [I_FENCE] = trans_fence,
    [I_CLFLUSH] = trans_clflush, [I_MONITOR] = trans_nop, [I_MWAIT] = trans_nop,
    [I_UD] = trans_ud, [I_UD0] = trans_ud, [I_RSM] = trans_ud, [I_RDPMC] = trans_ud,
    [I_RDFSBASE] = trans_ud,
    [I_FPU] = trans_fpu, [I_WAIT] = trans_fpu, [I_SSE] = trans_fpu, [I_FXSAVE] = trans_fpu,
    [I_FXRSTOR] = trans_fpu, [I_LDMXCSR] = trans_fpu, [I_STMXCSR] = trans_fpu,
    [I_XSAVE] = trans_fpu, [I_XRSTOR] = trans_fpu,
    [I_CPUID] = trans_cpuid, [I_RDTSC] = trans_rdtsc, [I_RDTSCP] = trans_rdtsc,
    [I_RDMSR] = trans_msr, [I_WRMSR] = trans_msr, [I_MOVCR] = trans_movcr, [I_MOVDR] = trans_movcr,
    [I_LGDT] = trans_desc_table, [I_LIDT] = trans_desc_table, [I_SGDT] = trans_desc_table,
    [I_SIDT] = trans_desc_table, [I_SMSW] = trans_smsw,
    [I_LMSW] = trans_sys_noarg, [I_CLTS] = trans_sys_noarg, [I_INVLPG] = trans_sys_noarg, [I_INVPCID] = trans_invpcid,
    [I_INVD] = trans_sys_noarg, [I_WBINVD] = trans_sys_noarg, [I_SYSCALL] = trans_sys_noarg,
    [I_SYSRET] = trans_sys_noarg, [I_SYSENTER] = trans_sys_noarg, [I_SYSEXIT] = trans_sys_noarg,
    [I_SWAPGS] = trans_sys_noarg, [I_STAC] = trans_sys_noarg, [I_CLAC] = trans_sys_noarg,
    [I_SLDT] = trans_ldt_tr, [I_STR] = trans_ldt_tr, [I_LLDT] = trans_ldt_tr, [I_LTR] = trans_ldt_tr,
    [I_VERR] = trans_ldt_tr, [I_VERW] = trans_ldt_tr, [I_LAR] = trans_lar_lsl, [I_LSL] = trans_lar_lsl,
    [I_RDRAND] = trans_rdrand, [I_RDPID] = trans_rdpid, [I_XGETBV] = trans_xgetbv,
};

/* Instructions whose first operand is read and then written. */
static bool is_read_modify_write(unsigned mn)
{
    switch (mn) {
    case I_ADD: case I_OR: case I_ADC: case I_SBB: case I_AND: case I_SUB: case I_XOR:
    case I_INC: case I_DEC: case I_NOT: case I_NEG:
    case I_ROL: case I_ROR: case I_RCL: case I_RCR: case I_SHL: case I_SHR: case I_SAR:
    case I_SHLD: case I_SHRD: case I_XCHG: case I_XADD: case I_CMPXCHG:
        return true;
    default:
        return false;
    }
}

void x86_translate_insn(DisasContext *s)
{
    s->rmw = is_read_modify_write(s->d.mnemonic);
    TransFn fn = trans_table[s->d.mnemonic];
    if (!fn) {
        gen_ud(s);
        return;
    }
    gen_cc_prefetch(s);
    fn(s);
}
