/* x86 -> IR translator: the block loop and the building blocks the
 * instruction routines (translate-insn.c) use: registers, addressing,
 * memory, stack and block exits (lazy flags: translate-cc.c). */
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/translate.h"
#include "cpu/x86/simd.h"
#include "cpu/x86/translate-helpers.h"
#include "system/gdbstub.h"
#include "system/log.h"
#include "system/machine.h"
#include "system/util.h"

TCGv cpu_regs[16];
TCGv cpu_cc_dst, cpu_cc_src, cpu_cc_src2;
void (*x86_translate_fpu_hook)(DisasContext *s) = x86_translate_fpu;

static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

void x86_tcg_init_globals(void)
{
    TCGContext *s = tcg_ctx;
    for (int i = 0; i < 16; i++)
        cpu_regs[i] = tcg_global_new(s, ENV_OFF(regs[i]), reg_names[i]);
    cpu_cc_dst = tcg_global_new(s, ENV_OFF(cc_dst), "cc_dst");
    cpu_cc_src = tcg_global_new(s, ENV_OFF(cc_src), "cc_src");
    cpu_cc_src2 = tcg_global_new(s, ENV_OFF(cc_src2), "cc_src2");
}

/* ---- small utilities -------------------------------------------------------- */
unsigned size_log2(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

TCGv gen_ext(TCGv v, unsigned size, bool sign)
{
    TCGv t = tcg_temp_new();
    if (sign)
        tcg_gen_exts(t, v, size);
    else
        tcg_gen_extu(t, v, size);
    return t;
}

TCGv gen_sext(TCGv v, unsigned size) { return gen_ext(v, size, true); }
TCGv gen_zext(TCGv v, unsigned size) { return gen_ext(v, size, false); }

TCGv gen_env_ld(int64_t off, unsigned memop)
{
    TCGv t = tcg_temp_new();
    tcg_gen_ld(t, tcg_env, off, memop);
    return t;
}

void gen_env_st(TCGv v, int64_t off, unsigned memop)
{
    tcg_gen_st(v, tcg_env, off, memop);
}

uint64_t mask_ip(DisasContext *s, uint64_t ip)
{
    if (s->code64)
        return ip;
    return s->code32 ? (uint32_t)ip : (uint16_t)ip;
}

/* ---- registers ---------------------------------------------------------------- */
static bool is_high_byte(DisasContext *s, int reg)
{
    return reg >= 4 && reg < 8 && !s->d.rex;
}

TCGv gen_reg_load(DisasContext *s, int reg, unsigned size)
{
    TCGv t = tcg_temp_new();
    if (size == 1 && is_high_byte(s, reg)) {
        tcg_gen_shri(t, cpu_regs[reg - 4], 8);
        tcg_gen_op2(INDEX_op_ext8u, 0, t, t);
    } else {
        tcg_gen_extu(t, cpu_regs[reg], size);
    }
    return t;
}

/* Replace bits [shift, shift + 8*size) of reg with v. */
static void gen_deposit_reg(TCGv reg, TCGv v, unsigned size, unsigned shift)
{
    if (!shift) {
        tcg_gen_deposit_low(reg, reg, v, size);
        return;
    }
    uint64_t field = size_mask(size) << shift;
    TCGv keep = tcg_temp_new(), ins = tcg_temp_new();
    tcg_gen_andi(keep, reg, ~field);
    tcg_gen_extu(ins, v, size);
    if (shift)
        tcg_gen_shli(ins, ins, shift);
    tcg_gen_or(reg, keep, ins);
}

void gen_reg_store(DisasContext *s, int reg, unsigned size, TCGv v)
{
    switch (size) {
    case 1:
        if (is_high_byte(s, reg))
            gen_deposit_reg(cpu_regs[reg - 4], v, 1, 8);
        else
            gen_deposit_reg(cpu_regs[reg], v, 1, 0);
        break;
    case 2:
        gen_deposit_reg(cpu_regs[reg], v, 2, 0);
        break;
    case 4:
        tcg_gen_extu(cpu_regs[reg], v, 4);
        break;
    default:
        tcg_gen_mov(cpu_regs[reg], v);
        break;
    }
}

/* ---- addressing --------------------------------------------------------------- */
TCGv gen_seg_base(int seg)
{
    return gen_env_ld(ENV_OFF(segs[0].base) + seg * (int64_t)sizeof(SegmentCache), MO_64);
}

int default_data_seg(DisasContext *s)
{
    return s->d.seg >= 0 ? s->d.seg : R_DS;
}

TCGv gen_ea_offset(DisasContext *s)
{
    const X86Decoded *d = &s->d;
    TCGv t = tcg_temp_new();
    if (d->base == -2) {
        tcg_gen_mov(t, gen_pc_value(s, s->next_pc + d->disp));
    } else {
        tcg_gen_movi(t, d->disp);
        if (d->base >= 0)
            tcg_gen_add(t, t, cpu_regs[d->base]);
        if (d->index >= 0) {
            TCGv i = tcg_temp_new();
            tcg_gen_shli(i, cpu_regs[d->index], d->scale);
            tcg_gen_add(t, t, i);
        }
    }
    if (d->addrsize < 8)
        tcg_gen_extu(t, t, d->addrsize);
    return t;
}

TCGv gen_linear_sized(DisasContext *s, TCGv offset, int seg, unsigned addrsize)
{
    TCGv t = tcg_temp_new();
    if (addrsize < 8)
        tcg_gen_extu(t, offset, addrsize);
    else
        tcg_gen_mov(t, offset);
    if (s->code64) {
        if (seg == R_FS || seg == R_GS)
            tcg_gen_add(t, t, gen_seg_base(seg));
        if (seg == R_SS)
            s->ss_linear = t;
        return t;
    }
    TCGv off = t;
    bool need_base = s->addseg || seg == R_FS || seg == R_GS || seg == R_CS || !s->pe || s->vm86;
    if (need_base) {
        t = tcg_temp_new();
        tcg_gen_add(t, off, gen_seg_base(seg));
        tcg_gen_extu(t, t, 4);
    }
    if (seg == R_SS)
        s->ss_linear = t;
    /* protected mode checks non-flat segments (and CS); real and V86 mode
     * check limits (a word at offset 0xFFFF faults, as on hardware) */
    if (s->segcheck || seg == R_CS || !s->pe || s->vm86) {
        int i = s->nb_segrec++ & 7;
        s->segrec[i].linear = t;
        s->segrec[i].offset = off;
        s->segrec[i].seg = seg;
        s->segrec[i].addrsize = addrsize;
    }
    return t;
}

TCGv gen_linear(DisasContext *s, TCGv offset, int seg)
{
    return gen_linear_sized(s, offset, seg, s->d.addrsize);
}

void gen_lea_addr(DisasContext *s)
{
    if (s->a0_valid)
        return;
    int seg = s->d.seg >= 0 ? s->d.seg : s->d.default_seg;
    s->A0 = gen_linear(s, gen_ea_offset(s), seg);
    s->a0_valid = true;
}

static int find_segrec(DisasContext *s, TCGv addr)
{
    for (int i = 0; i < 8 && i < s->nb_segrec; i++)
        if (s->segrec[i].linear == addr)
            return i;
    return -1;
}

/* The limit check alone, without a helper call or a branch (which would end
 * the IR basic block): an access beyond the limit gets a marked linear
 * address, which misses the TLB, and the miss path raises #GP(0) or #SS(0)
 * (x86_seg_raise_marked). */
static TCGv gen_inline_limit_check(DisasContext *s, int i, unsigned size)
{
    int seg = s->segrec[i].seg;
    bool real = !s->pe || s->vm86;
    if (real && s->segrec[i].addrsize == 2 && size == 1)
        return s->segrec[i].linear;     /* the limit is at least 0xFFFF */
    TCGv last = tcg_temp_new(), over = tcg_temp_new(), t = tcg_temp_new();
    tcg_gen_addi(last, s->segrec[i].offset, size - 1);
    TCGv limit = gen_env_ld(ENV_OFF(segs[0].limit) + seg * (int64_t)sizeof(SegmentCache), MO_32);
    tcg_gen_setcond(TCG_COND_GTU, 0, over, last, limit);
    tcg_gen_shli(over, over, seg == R_SS ? 62 : 63);
    tcg_gen_or(t, s->segrec[i].linear, over);
    return t;
}

/* With segment checks on: the checked linear address for an access through
 * an address made by gen_linear. Helper-made accesses (inline_ok false) and
 * segments that need more than a limit check call helper_seg_check, which
 * raises #GP/#SS. */
static TCGv checked_addr(DisasContext *s, TCGv addr, unsigned size, uint32_t how, bool inline_ok)
{
    int i = find_segrec(s, addr);
    if (i < 0)
        return addr;
    if (inline_ok && (s->flags & TBF_SEG_INLINE(s->segrec[i].seg)))
        return gen_inline_limit_check(s, i, size);
    TCGv t = tcg_temp_new();
    gen_helper(helper_seg_check, t, 4, tcg_env, tcg_const(s->segrec[i].seg),
               s->segrec[i].offset, tcg_const(size | how));
    return t;
}

TCGv gen_checked_linear(DisasContext *s, TCGv addr, unsigned size, bool write)
{
    return checked_addr(s, addr, size, write ? SEG_CHECK_WRITE : 0, false);
}

TCGv gen_checked_linear_align16(DisasContext *s, TCGv addr, unsigned size, bool write)
{
    return checked_addr(s, addr, size, (write ? SEG_CHECK_WRITE : 0) | SEG_CHECK_ALIGN16, false);
}

/* With debug registers armed: report each data access for DR0-3 matches. */
static void gen_data_breakpoint(DisasContext *s, TCGv addr, unsigned size, bool write)
{
    if (s->flags & TBF_DEBUG)
        gen_helper(helper_data_breakpoint, TCG_NO_TEMP, 3, tcg_env, addr,
                   tcg_const(size | (write ? 0x100 : 0)));
}

/* MO_STACK for accesses through SS in 64-bit mode (#SS on non-canonical). */
static unsigned stack_flag(DisasContext *s, TCGv addr)
{
    return s->code64 && addr == s->ss_linear ? MO_STACK : 0;
}

bool gen_is_stack_addr(DisasContext *s, TCGv addr)
{
    return stack_flag(s, addr) != 0;
}

TCGv gen_addr_offset(DisasContext *s, TCGv addr, int64_t delta)
{
    TCGv t = tcg_temp_new();
    tcg_gen_addi(t, addr, delta);
    if (addr == s->ss_linear)
        s->ss_linear = t;
    /* still limit-checked, at offset + delta (no 16-bit wrap: hardware faults) */
    int i = find_segrec(s, addr);
    if (i >= 0) {
        TCGv off = t;
        if (s->segrec[i].offset != addr) {
            off = tcg_temp_new();
            tcg_gen_addi(off, s->segrec[i].offset, delta);
        }
        int j = s->nb_segrec++ & 7;
        s->segrec[j] = s->segrec[i];
        s->segrec[j].linear = t;
        s->segrec[j].offset = off;
    }
    return t;
}

TCGv gen_ld(DisasContext *s, TCGv addr, unsigned size)
{
    unsigned flags = stack_flag(s, addr);
    addr = checked_addr(s, addr, size, 0, true);
    TCGv t = tcg_temp_new();
    tcg_gen_qemu_ld(t, addr, size_log2(size) | flags, s->mem_idx);
    gen_data_breakpoint(s, addr, size, false);
    return t;
}

TCGv gen_ld_rmw(DisasContext *s, TCGv addr, unsigned size)
{
    unsigned flags = stack_flag(s, addr);
    addr = checked_addr(s, addr, size, SEG_CHECK_WRITE, true);   /* the write permission first */
    TCGv t = tcg_temp_new();
    tcg_gen_qemu_ld(t, addr, size_log2(size) | flags | MO_RMW, s->mem_idx);
    gen_data_breakpoint(s, addr, size, false);
    return t;
}

void gen_st(DisasContext *s, TCGv addr, TCGv v, unsigned size)
{
    unsigned flags = stack_flag(s, addr);
    addr = checked_addr(s, addr, size, SEG_CHECK_WRITE, true);
    gen_data_breakpoint(s, addr, size, true);
    tcg_gen_qemu_st(v, addr, size_log2(size) | flags, s->mem_idx);
}

/* ---- operands by kind ----------------------------------------------------------- */
unsigned op_size(DisasContext *s, int i)
{
    return x86_operand_size(&s->d, s->d.e->op[i]);
}

static TCGv moffs_addr(DisasContext *s)
{
    return gen_linear(s, tcg_const(s->d.imm), default_data_seg(s));
}

TCGv gen_operand_load(DisasContext *s, int i)
{
    const X86Decoded *d = &s->d;
    unsigned k = d->e->op[i], size = op_size(s, i);
    switch (k) {
    case O_Eb: case O_Ew: case O_Ed: case O_Ev: case O_Ey: case O_Eq: case O_Mv:
        if (d->mod == 3)
            return gen_reg_load(s, d->rm, size);
        gen_lea_addr(s);
        return i == 0 && s->rmw ? gen_ld_rmw(s, s->A0, size) : gen_ld(s, s->A0, size);
    case O_Rv:
        return gen_reg_load(s, d->rm, size);
    case O_Gb: case O_Gw: case O_Gv: case O_Gy: case O_Gz:
        return gen_reg_load(s, d->reg, size);
    case O_Zb: case O_Zv:
        return gen_reg_load(s, (d->opcode & 7) | ((d->rex & 1) << 3), size);
    case O_AL: case O_rAX:
        return gen_reg_load(s, R_EAX, size);
    case O_CL:
        return gen_reg_load(s, R_ECX, 1);
    case O_DX:
        return gen_reg_load(s, R_EDX, 2);
    case O_ONE:
        return tcg_const(1);
    case O_Ib: case O_Iw:
        return tcg_const(d->imm & size_mask(size));
    case O_Ibs: case O_Iz: case O_Iv:
        return tcg_const(d->imm & size_mask(d->opsize));
    case O_Ob: case O_Ov:
        return gen_ld(s, moffs_addr(s), size);
    default:
        return tcg_const(0);
    }
}

void gen_operand_store(DisasContext *s, int i, TCGv v)
{
    const X86Decoded *d = &s->d;
    unsigned k = d->e->op[i], size = op_size(s, i);
    switch (k) {
    case O_Eb: case O_Ew: case O_Ed: case O_Ev: case O_Ey: case O_Eq: case O_Mv:
        if (d->mod == 3) {
            gen_reg_store(s, d->rm, size, v);
        } else {
            gen_lea_addr(s);
            gen_st(s, s->A0, v, size);
        }
        break;
    case O_Rv:
        gen_reg_store(s, d->rm, size, v);
        break;
    case O_Gb: case O_Gw: case O_Gv: case O_Gy: case O_Gz:
        gen_reg_store(s, d->reg, size, v);
        break;
    case O_Zb: case O_Zv:
        gen_reg_store(s, (d->opcode & 7) | ((d->rex & 1) << 3), size, v);
        break;
    case O_AL: case O_rAX:
        gen_reg_store(s, R_EAX, size, v);
        break;
    case O_Ob: case O_Ov:
        gen_st(s, moffs_addr(s), v, size);
        break;
    default:
        break;
    }
}

/* ---- stack -------------------------------------------------------------------- */
unsigned stack_size(DisasContext *s)
{
    return s->code64 ? 8 : s->ss32 ? 4 : 2;
}

void gen_push(DisasContext *s, TCGv v, unsigned size)
{
    unsigned ss = stack_size(s);
    TCGv sp = tcg_temp_new();
    tcg_gen_subi(sp, cpu_regs[R_ESP], size);
    TCGv addr = gen_linear_sized(s, sp, R_SS, ss);
    gen_st(s, addr, v, size);
    gen_reg_store(s, R_ESP, ss, sp);
}

TCGv gen_pop_peek(DisasContext *s, unsigned size, unsigned offset)
{
    TCGv sp = tcg_temp_new();
    tcg_gen_addi(sp, cpu_regs[R_ESP], offset);
    return gen_ld(s, gen_linear_sized(s, sp, R_SS, stack_size(s)), size);
}

void gen_sp_add(DisasContext *s, int64_t delta)
{
    TCGv sp = tcg_temp_new();
    tcg_gen_addi(sp, cpu_regs[R_ESP], (uint64_t)delta);
    gen_reg_store(s, R_ESP, stack_size(s), sp);
}

void gen_pop_commit(DisasContext *s, unsigned size)
{
    gen_sp_add(s, size);
}

/* ---- control flow ------------------------------------------------------------ */
TCGv gen_pc_value(DisasContext *s, uint64_t pc)
{
    if (!s->tb->pcrel)
        return tcg_const(pc);
    /* relative to the start's page, whatever virtual address it runs at */
    TCGv v = gen_env_ld(ENV_OFF(tb_pc_base), MO_64);
    if (pc != TB_PAGE_BASE(s->tb->pc))
        tcg_gen_addi(v, v, pc - TB_PAGE_BASE(s->tb->pc));
    return v;
}

void gen_set_rip(DisasContext *s, uint64_t rip)
{
    gen_env_st(gen_pc_value(s, rip), ENV_OFF(rip), MO_64);
}

void gen_set_rip_tcg(TCGv v)
{
    gen_env_st(v, ENV_OFF(rip), MO_64);
}

void gen_sync_for_helper(DisasContext *s)
{
    gen_update_cc_op(s);
    gen_set_rip(s, s->pc);
}

static bool same_page(uint64_t a, uint64_t b)
{
    return (a >> 12) == (b >> 12);
}

/* EFLAGS.TF was set at the start of this instruction: #DB after it (env->rip
 * already holds the next instruction). */
static void gen_single_step_trap(DisasContext *s)
{
    if (s->flags & HF_TF_MASK) {
        gen_update_cc_op(s);
        gen_helper(helper_single_step, TCG_NO_TEMP, 1, tcg_env);
    }
}

/* Leave the block for the TB at env->rip (cc_op and RIP are stored), looked
 * up with the flags env has now. recheck: the block may have changed state
 * the main loop acts on (IF, the interrupt shadow, halting, a mode change),
 * so ask whether the loop must run before going on; the block after STI or
 * MOV SS asks too, as the event it held back may be taken now. */
static void gen_goto_next_tb(DisasContext *s, bool recheck, TCGXferKind kind, uint64_t expect)
{
    if ((s->flags & HF_TF_MASK) || (s->tb->cflags & CF_SINGLE_INSN)) {
        gen_single_step_trap(s);
        tcg_gen_exit_tb(0);
        return;
    }
    if (recheck || (s->flags & HF_INHIBIT_IRQ_MASK)) {
        int to_loop = gen_new_label();
        TCGv needed = tcg_temp_new();
        gen_helper(helper_end_block_needs_loop, needed, 2, tcg_env, tcg_const(s->code64));
        tcg_gen_brcondi(TCG_COND_NE, 0, needed, 0, to_loop);
        tcg_gen_lookup_and_goto(s->ret_pop, kind, expect);
        tcg_gen_set_label(to_loop);
        tcg_gen_exit_tb(0);
        return;
    }
    tcg_gen_lookup_and_goto(s->ret_pop, kind, expect);
}

/* A CALL pushed ret_addr: in 64-bit code, when the return address is on
 * this block's page (where the return stack can record the block after the
 * CALL once for all the virtual PCs this code runs at), say so. */
void gen_ras_push(DisasContext *s, TCGv ret_addr, unsigned size)
{
    if (!s->code64 || size != 8 || s->cs_base != 0 || (s->tb->cflags & CF_SINGLE_INSN) ||
        !same_page(s->next_pc, s->tb->pc) || s->tb->flags > INT32_MAX)
        return;
    tcg_gen_ras_push(cpu_regs[R_ESP], ret_addr);
}

/* A direct jump to target goes back to a loop head of this block (its
 * start, or a label of its region): the backend can then keep guest
 * registers in host registers. */
bool gen_is_self_loop(DisasContext *s, uint64_t target)
{
    return region_back_edge(s, mask_ip(s, target)) >= 0;
}

/* What an unchained direct jump to target (at linear lin) is, for the
 * lookup that makes it. */
static TCGXferKind jmp_kind(const DisasContext *s, uint64_t target, uint64_t lin)
{
    if (same_page(lin, s->cs_base + s->tb->pc))
        return s->region.loops ? XFER_REGION_EXIT : XFER_OTHER;
    if (s->xfer_kind == XFER_DIRECT_CALL)
        return XFER_DIRECT_CALL;
    return target == s->next_pc ? XFER_NEXT : XFER_DIRECT_JMP;
}

/* A goto_tb slot not used yet, or n when all are taken. Regions keep to
 * their two. */
static int free_jmp_slot(DisasContext *s, int n)
{
    int slots = s->region.n ? 2 : TB_MAX_JMPS;
    for (int i = 0; i < slots; i++)
        if (!s->jmp_used[i])
            return i;
    return n;
}

void gen_jmp_to(DisasContext *s, uint64_t target, int n)
{
    target = mask_ip(s, target);
    gen_discard_dead_cc(s);
    s->is_jmp = DISAS_NORETURN;
    int head = region_back_edge(s, target);
    if (head >= 0) {
        /* RIP (and cc_op, when the head has it static) are stored only
         * when an exit request stops the loop; back at the start, past its
         * cc_op guard when the back edge passes it */
        if (!region_take_back_edge(s, target))
            gen_update_cc_op(s);
        if (target == s->tb->pc && s->loop_entry.label >= 0 && s->cc_op == s->loop_entry.cc_op)
            head = s->loop_entry.label;
        tcg_gen_goto_loop(head);
        gen_update_cc_op(s);
        gen_set_rip(s, target);
        tcg_gen_exit_tb(0);
        return;
    }
    gen_update_cc_op(s);
    int ahead = region_forward_label(s, target);
    if (ahead >= 0) {
        tcg_gen_br(ahead);
        return;
    }
    region_note_exit(s, target);
    if (s->jmp_used[n] && (s->region.loops || s->nb_side))
        n = free_jmp_slot(s, n);   /* a region or side exits: any free slot */
    uint64_t lin = s->cs_base + target;
    if (!s->jmp_used[n] && same_page(lin, s->cs_base + s->tb->pc) &&
        !(s->flags & (HF_TF_MASK | HF_INHIBIT_IRQ_MASK))) {
        s->jmp_used[n] = true;
        if (target < s->tb->pc)
            s->tb->back_edge |= 1u << n;   /* perhaps a loop: its head may become a region */
        /* RIP is stored only if the jump leaves for the loop */
        tcg_gen_goto_tb(n, s->tb->pcrel ? target - TB_PAGE_BASE(s->tb->pc) : target);
    } else {
        gen_set_rip(s, target);
        gen_goto_next_tb(s, false, jmp_kind(s, target, lin), s->code64 ? lin : TCG_RIP_UNKNOWN);
    }
}

void gen_exception(DisasContext *s, int vector, int error_code, bool has_error)
{
    gen_sync_for_helper(s);
    gen_helper(helper_raise_exception, TCG_NO_TEMP, 3, tcg_env, tcg_const(vector),
               tcg_const(has_error ? error_code : 0));
    s->is_jmp = DISAS_NORETURN;
}

/* ---- the block loop ------------------------------------------------------------ */
typedef struct FetchCtx {
    DisasContext *s;
    uint64_t page2;
    /* the page last fetched from, read straight from host memory */
    uint64_t cached_lin_page, cached_phys_page;
    const uint8_t *cached_host;
} FetchCtx;

static bool fetch_byte(void *opaque, uint64_t pc, uint8_t *byte)
{
    FetchCtx *f = opaque;
    DisasContext *s = f->s;
    uint64_t lin = s->cs_base + pc, phys;
    if (!s->code64)
        lin = (uint32_t)lin;
    if (f->cached_host && (lin & ~0xfffULL) == f->cached_lin_page) {
        *byte = f->cached_host[lin & 0xfff];
        phys = f->cached_phys_page | (lin & 0xfff);
    } else {
        if (!x86_fetch_code_byte(s->env, lin, byte, &phys))
            return false;
        f->cached_host = x86_code_page_ptr(s->env, lin, &f->cached_phys_page);
        f->cached_lin_page = lin & ~0xfffULL;
    }
    uint64_t start = s->cs_base + s->tb->pc;
    if (!s->code64)
        start = (uint32_t)start;
    if (!same_page(lin, start))
        f->page2 = phys & ~0xfffULL;
    return true;
}

static void init_context(DisasContext *s, CPUX86State *env, TranslationBlock *tb)
{
    memset(s, 0, sizeof(*s));
    s->env = env;
    s->tb = tb;
    s->flags = tb->flags;
    s->cs_base = tb->cs_base;
    s->code64 = tb->flags & HF_CS64_MASK;
    s->code32 = tb->flags & HF_CS32_MASK;
    s->ss32 = tb->flags & HF_SS32_MASK;
    s->addseg = tb->flags & HF_ADDSEG_MASK;
    s->pe = tb->flags & HF_PE_MASK;
    s->vm86 = tb->flags & HF_VM_MASK;
    s->cpl = tb->flags & HF_CPL_MASK;
    s->iopl = (tb->flags >> HF_IOPL_SHIFT) & 3;
    if (!(tb->flags & HF_PG_MASK))
        s->mem_idx = MMU_PHYS_IDX;
    else if (s->cpl == 3)
        s->mem_idx = MMU_USER_IDX;
    else if ((tb->flags & HF_SMAP_MASK) && !(tb->flags & HF_AC_MASK))
        s->mem_idx = MMU_KERNEL_IDX;
    else
        s->mem_idx = MMU_KERNEL_NOSMAP_IDX;
    s->cc_op = CC_OP_DYNAMIC;
    s->segcheck = tb->flags & TBF_SEGCHECK;
    s->last_cmp.insn = -100;
    s->cc_pre.insn = -100;
    s->cc_pre.guard_first = -1;
    s->dyn_cc.st = -1;
    s->loop_entry.label = -1;
    s->label_guess = CC_OP_DYNAMIC;
    s->smp = current_machine && current_machine->ncpus > 1;
}

/* The end of a block's straight-line code after its last instruction, by
 * how that instruction ends (s->is_jmp; DISAS_NORETURN afterwards). */
static void gen_block_end(DisasContext *s)
{
    if (s->is_jmp != DISAS_NORETURN)
        gen_discard_dead_cc(s);
    switch (s->is_jmp) {
    case DISAS_NEXT:
    case DISAS_TOO_MANY:
        gen_jmp_to(s, s->next_pc, 0);
        break;
    case DISAS_EXIT:
        gen_update_cc_op(s);
        gen_goto_next_tb(s, true, XFER_OTHER, TCG_RIP_UNKNOWN);
        break;
    case DISAS_JUMP:
        gen_update_cc_op(s);
        gen_goto_next_tb(s, false, s->xfer_kind, TCG_RIP_UNKNOWN);
        break;
    case DISAS_NORETURN:
        break;
    }
    s->is_jmp = DISAS_NORETURN;
}

/* A region's next planned instruction to translate into *pc; false when
 * the plan is done. A fall-through out of the plan leaves for *pc first. */
static bool region_next_pc(DisasContext *s, uint64_t *pc)
{
    Region *r = &s->region;
    while (r->next < r->n) {
        uint64_t want = r->pc[r->next];
        if (!r->flow_ended && want != *pc) {
            s->next_pc = *pc;
            gen_jmp_to(s, *pc, 0);
            r->flow_ended = true;
        }
        r->next++;
        if (region_enter_insn(s, want)) {
            *pc = want;
            return true;
        }
    }
    return false;
}

/* Loops inside one translation (self-loops, regions) run until an exit
 * request; harnesses that bound a run by counting blocks (the CPU oracle)
 * turn them off. */
bool x86_translate_loops = true;

/* One translation of tb into tcg_ctx, keeping the loop heads of hints_in
 * static and finding those of hints_out (translate-region.c); false when
 * an edge disagreed with hints_in. */
static bool translate_pass(CPUX86State *env, TranslationBlock *tb, int max_insns,
                           const CcHints *hints_in, CcHints *hints_out)
{
    DisasContext ctx, *s = &ctx;
    FetchCtx f = { s, (uint64_t)-1, 0, 0, NULL };
    Region *r = &s->region;
    init_context(s, env, tb);
    s->hints_in = hints_in;
    s->hints_out = hints_out;
    tb->back_edge = 0;
    tb->nb_follow = 0;
    tcg_func_start(tcg_ctx);
    if ((tb->cflags & CF_SINGLE_INSN) || (s->flags & (HF_TF_MASK | HF_INHIBIT_IRQ_MASK)))
        max_insns = 1;
    s->max_insns = max_insns;
    if (max_insns > 1 && x86_translate_loops) {
        region_start(s);
        /* only for hot loop heads (tb->region); breakpoints: plain
         * blocks, which stop before each one */
        if (tb->region && !(s->flags & TBF_DEBUG) && !atomic_load(&gdb_nr_breakpoints)) {
            FetchCtx scan = f;
            region_plan(s, fetch_byte, &scan);
        }
    }

    uint64_t pc = tb->pc, end = tb->pc;
    for (;;) {
        if (r->on) {
            if (!region_next_pc(s, &pc))
                break;
        } else if (r->loops && s->insn_count == 0) {
            region_enter_insn(s, pc);   /* binds the start's label */
        }
        s->pc = pc;
        s->is_jmp = DISAS_NEXT;
        s->ret_pop = 0;   /* a RET ends the straight-line code it is in */
        s->xfer_kind = XFER_OTHER;
        s->a0_valid = false;
        s->nb_segrec = 0;
        s->ss_linear = TCG_NO_TEMP;
        if (atomic_load(&gdb_nr_breakpoints)) {
            uint64_t lin = s->cs_base + pc;
            if (!s->code64)
                lin = (uint32_t)lin;
            if (gdb_breakpoint_hit(env, lin)) {
                if (s->insn_count > 0) {
                    /* end the block; the next one starts with the breakpoint */
                    s->next_pc = pc;
                    s->is_jmp = DISAS_TOO_MANY;
                    break;
                }
                tcg_gen_insn_start(pc, s->cc_op);
                s->insn_count++;
                gen_sync_for_helper(s);
                gen_helper(helper_gdb_breakpoint, TCG_NO_TEMP, 1, tcg_env);
                s->next_pc = pc + 1;
                s->is_jmp = DISAS_NORETURN;
                break;
            }
        }
        tcg_gen_insn_start(pc, s->cc_op);
        gen_discard_dead_cc(s);
        s->insn_count++;
        if (s->flags & TBF_DEBUG) {
            gen_sync_for_helper(s);
            gen_helper(helper_insn_breakpoint, TCG_NO_TEMP, 1, tcg_env);
        }
        X86DecodeStatus st = x86_decode(&s->d, pc, s->code64, s->code32, fetch_byte, &f);
        if (st == DECODE_FETCH_FAULT) {
            if (s->insn_count == 1) {
                /* The block's first instruction itself cannot be fetched:
                 * raise the fault now (env is at tb->pc). */
                x86_fetch_fault(env, pc + s->d.len - 1);
            }
            /* Leave this instruction to the next block, which will fault. */
            s->insn_count--;
            tcg_ctx->nb_ops--;   /* drop its insn_start */
            s->next_pc = pc;
            s->is_jmp = DISAS_TOO_MANY;
            break;
        }
        s->next_pc = pc + s->d.len;
        if (!s->code64)
            s->next_pc = mask_ip(s, s->next_pc);
        if (s->flags & HF_INHIBIT_IRQ_MASK) {
            /* The shadow lasts one instruction (this block has just one). */
            TCGv h = gen_env_ld(ENV_OFF(hflags), MO_32);
            tcg_gen_andi(h, h, ~(uint64_t)HF_INHIBIT_IRQ_MASK);
            gen_env_st(h, ENV_OFF(hflags), MO_32);
        }
        if (st == DECODE_UD)
            gen_exception(s, EXCP_UD, 0, false);
        else if (st == DECODE_TOO_LONG)
            gen_exception(s, EXCP_GP, 0, true);
        else
            x86_translate_insn(s);
        if ((s->flags & TBF_DEBUG) && s->is_jmp == DISAS_NEXT) {
            gen_update_cc_op(s);
            gen_helper(helper_insn_end, TCG_NO_TEMP, 2, tcg_env, gen_pc_value(s, s->next_pc));
        }
        pc = s->next_pc;
        end = MAX(end, s->pc + s->d.len);
        if (s->is_jmp != DISAS_NEXT) {
            if (!r->on)
                break;
            /* a region goes on at its next label */
            gen_block_end(s);
            r->flow_ended = true;
        }
        if (s->insn_count >= max_insns || tcg_ops_left() < 256 ||
            !same_page(s->cs_base + pc, s->cs_base + tb->pc) || f.page2 != (uint64_t)-1) {
            if (!r->flow_ended)
                s->is_jmp = DISAS_TOO_MANY;
            break;
        }
    }

    if (r->on && r->flow_ended)
        s->is_jmp = DISAS_NORETURN;
    gen_block_end(s);
    gen_side_exits(s);
    gen_fault_exits(s);
    if (r->loops)
        region_finish(s);
    /* a region, or a block that followed jumps: the bytes from its start
     * to its highest instruction's end */
    tb->size = (uint32_t)((r->n || tb->nb_follow ? end : pc) - tb->pc);
    if (tb->size == 0)
        tb->size = 1;
    tb->icount = s->insn_count;
    tb->phys_page2 = f.page2;
    if (hints_out)
        region_collect_hints(s);
    return !s->hints_broken;
}

void x86_translate_block(CPUX86State *env, TranslationBlock *tb, int max_insns)
{
    CcHints hints = { 0 };
    translate_pass(env, tb, max_insns, NULL, &hints);
    if (!hints.n)
        return;
    if (translate_pass(env, tb, max_insns, &hints, NULL))
        tcg_ctx->stat_static_loop_cc++;
    else
        translate_pass(env, tb, max_insns, NULL, NULL);
}
