/* x87 instructions (D8-DF) to IR: each is one helper call (x87-helpers.c)
 * after the pending-exception check of waiting instructions and the update
 * of the FPU instruction/data pointers. Also the entry point for every
 * FPU/MMX/SSE mnemonic the decoder hands over (x86_translate_fpu). */
#include "cpu/x86/simd.h"
#include "cpu/x86/translate.h"

/* Valid register forms: bit i of valid_reg[opcode & 7][ModRM.reg] set when
 * ST(i) is a defined encoding (undocumented aliases included, as hardware
 * executes them). */
static const uint8_t valid_reg[8][8] = {
    [0] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    [1] = { 0xff, 0xff, 0x01, 0xff, 0x33, 0x7f, 0xff, 0xff },
    [2] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x02, 0x00, 0x00 },
    [3] = { 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00 },
    [4] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    [5] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00 },
    [6] = { 0xff, 0xff, 0xff, 0x02, 0xff, 0xff, 0xff, 0xff },
    [7] = { 0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0x00 },
};

/* Memory forms that are undefined: bit reg of invalid_mem[opcode & 7]. */
static const uint8_t invalid_mem[8] = {
    [1] = 1u << 1, [3] = 1u << 4 | 1u << 6, [5] = 1u << 5,
};

/* Instructions that do not wait for pending exceptions (FN*), and control
 * instructions that leave FIP/FDP/FOP alone. */
static bool is_nowait(unsigned op, unsigned reg, unsigned rm, bool mem)
{
    if (mem)
        return (op == 1 && (reg == 6 || reg == 7)) || (op == 5 && (reg == 6 || reg == 7));
    return (op == 3 && reg == 4) || (op == 7 && reg == 4 && rm == 0);
}

static bool is_control(unsigned op, unsigned reg, bool mem)
{
    if (mem)
        return (op == 1 && reg >= 4) || (op == 5 && reg >= 4);
    return (op == 3 && reg == 4) || (op == 7 && reg == 4);
}

void gen_x87_check_pending(void)
{
    TCGv fsw = gen_env_ld(ENV_OFF(fpus), MO_16);
    int skip = gen_new_label();
    tcg_gen_brcondi(TCG_COND_TSTEQ, 0, fsw, 0x80, skip);
    gen_helper(helper_fpu_check_pending, TCG_NO_TEMP, 1, tcg_env);
    tcg_gen_set_label(skip);
}

static void gen_update_pointers(DisasContext *s, unsigned op, bool mem)
{
    gen_env_st(gen_pc_value(s, s->pc), ENV_OFF(fpip), MO_64);
    gen_env_st(tcg_const((op << 8 | s->d.modrm) & 0x7ff), ENV_OFF(fpop), MO_16);
    TCGv cs = gen_env_ld(ENV_OFF(segs[R_CS].selector), MO_16);
    gen_env_st(cs, ENV_OFF(fpcs), MO_16);
    if (mem) {
        int seg = s->d.seg >= 0 ? s->d.seg : s->d.default_seg;
        gen_env_st(gen_ea_offset(s), ENV_OFF(fpdp), MO_64);
        TCGv sel = gen_env_ld(ENV_OFF(segs[0].selector) + seg * (int64_t)sizeof(SegmentCache), MO_16);
        gen_env_st(sel, ENV_OFF(fpds), MO_16);
    }
}

/* Size of the memory operand (for the segment check) and whether it is written. */
static unsigned mem_size(unsigned op, unsigned reg, bool op32, bool *write)
{
    static const uint8_t arith[8] = { 4, 0, 4, 0, 8, 0, 2, 0 };
    /* the odd opcodes by reg: size, with bit 7 = written */
    static const uint8_t forms[8][8] = {
        [1] = { 4, 0, 0x84, 0x84, 0xff, 2, 0xfe, 0x82 },
        [3] = { 4, 0x84, 0x84, 0x84, 0, 10, 0, 0x8a },
        [5] = { 8, 0x88, 0x88, 0x88, 0xfd, 0, 0xfc, 0x82 },
        [7] = { 2, 0x82, 0x82, 0x82, 10, 8, 0x8a, 0x88 },
    };
    unsigned env = op32 ? 28 : 14;
    *write = false;
    if (!(op & 1))
        return arith[op];
    unsigned f = forms[op][reg];
    switch (f) {
    case 0xff: return env;                              /* FLDENV */
    case 0xfe: *write = true; return env;               /* FNSTENV */
    case 0xfd: return env + 80;                         /* FRSTOR */
    case 0xfc: *write = true; return env + 80;          /* FNSAVE */
    default:
        *write = f & 0x80;
        return f & 0x7f;
    }
}

/* The x87 condition of FCMOVcc as a Jcc condition code. */
static unsigned fcmov_jcc(unsigned op, unsigned reg)
{
    static const uint8_t cc[4] = { 0x2, 0x4, 0x6, 0xa };   /* B, E, BE, P(U) */
    return cc[reg & 3] | (op == 3 ? 1 : 0);                /* DB: the negations */
}

static void translate_x87(DisasContext *s)
{
    unsigned op = s->d.opcode & 7, modrm = s->d.modrm;
    unsigned reg = (modrm >> 3) & 7, rm = modrm & 7;
    bool mem = s->d.mod != 3;

    if (mem ? (invalid_mem[op] >> reg & 1) : !(valid_reg[op][reg] >> rm & 1)) {
        gen_exception(s, EXCP_UD, 0, false);
        return;
    }
    if (!is_nowait(op, reg, rm, mem)) {
        /* The check's label ends the life of the previous CMP's operand
         * temps: FCMOVcc must take its condition from the flags state. */
        s->last_cmp.insn = -100;
        gen_x87_check_pending();
    }
    if (!is_control(op, reg, mem))
        gen_update_pointers(s, op, mem);

    uint64_t desc = op << 8 | modrm;
    if (mem) {
        gen_lea_addr(s);
        if (s->d.opsize != 2)
            desc |= X87_DESC_OP32;
        if (s->pe && !s->vm86)
            desc |= X87_DESC_PROT;
        bool write;
        unsigned size = mem_size(op, reg, s->d.opsize != 2, &write);
        if (gen_is_stack_addr(s, s->A0))
            desc |= X87_DESC_STACK;
        TCGv addr = gen_checked_linear(s, s->A0, size, write);
        gen_helper(helper_fpu_mem, TCG_NO_TEMP, 3, tcg_env, addr, tcg_const(desc));
        return;
    }
    bool fcmov = (op == 2 || op == 3) && reg < 4;
    bool comi = (op == 3 || op == 7) && (reg == 5 || reg == 6);
    bool fnstsw_ax = op == 7 && reg == 4;
    TCGv arg = fcmov ? gen_setcc(s, fcmov_jcc(op, reg)) : tcg_const(0);
    TCGv ret = tcg_temp_new();
    gen_helper(helper_fpu_reg, ret, 3, tcg_env, tcg_const(desc), arg);
    if (comi)
        gen_set_eflags_cc(s, ret);
    else if (fnstsw_ax)
        gen_reg_store(s, R_EAX, 2, ret);
}

/* WAIT/FWAIT: only the pending-exception check. */
static void translate_wait(DisasContext *s)
{
    (void)s;
    gen_x87_check_pending();
}

void x86_translate_fpu(DisasContext *s)
{
    switch (s->d.mnemonic) {
    case I_FPU: translate_x87(s); break;
    case I_WAIT: translate_wait(s); break;
    case I_SSE: x86_translate_sse(s); break;
    default: x86_translate_xsave(s); break;
    }
}
