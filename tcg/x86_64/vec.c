/* SSE ops of the x86-64 backend: fpop (scalar float under the default MXCSR)
 * and vecop (one host SSE instruction on env's XMM slots). */
#include "tcg/x86_64/backend.h"

/* fpop: the host's own SSE instruction under a freshly loaded default MXCSR
 * (flags cleared), the flags read back with STMXCSR. The C code of the
 * emulator runs under the same default control bits, so nothing needs
 * restoring; xmm0/xmm1 are scratch (no temp lives in an xmm register). */
void gen_fpop(Gen *g, const TCGOp *op)
{
    static const uint8_t opc[] = {
        [TCG_FP_ADD] = 0x58, [TCG_FP_SUB] = 0x5c, [TCG_FP_MUL] = 0x59, [TCG_FP_DIV] = 0x5e,
        [TCG_FP_SQRT] = 0x51, [TCG_FP_UCOM] = 0x2e, [TCG_FP_COM] = 0x2f,
        [TCG_FP_TO_INT] = 0x2c, [TCG_FP_FROM_INT] = 0x2a,
    };
    Emitter *e = &g->e;
    unsigned fpop = (unsigned)op->args[4], k = fpop & TCG_FP_OP_MASK;
    bool f32 = fpop & TCG_FP_F32, i64 = fpop & TCG_FP_I64;
    bool compare = k == TCG_FP_UCOM || k == TCG_FP_COM;
    const int32_t scratch = TCG_MAX_TEMPS * 8;   /* the frame's spare slot */
    /* inputs stay locked in their registers until the end of the op */
    int ra = temp_load(g, (int)op->args[2], 0);
    int rb = temp_load(g, (int)op->args[3], 0);
    if (k != TCG_FP_FROM_INT) {
        em_byte(e, 0x66);
        em_rr(e, 0x6e0f, 2, !f32, 0, ra, false);           /* movq/movd xmm0, ra */
        em_byte(e, 0x66);
        em_rr(e, 0x6e0f, 2, !f32, 1, rb, false);           /* movq/movd xmm1, rb */
    }
    free_dead_inputs(g, op, 2, 2);
    int rd = reg_alloc(g, 0);
    g->locked |= 1 << rd;
    int rf = reg_alloc(g, 0);
    g->locked |= 1 << rf;
    em_rm(e, 0xc7, 1, false, 0, RSP, -1, 0, scratch, false);
    em_u32(e, 0x1f80);                                     /* mov dword [rsp + scratch], 0x1f80 */
    em_rm(e, 0xae0f, 2, false, 2, RSP, -1, 0, scratch, false);   /* ldmxcsr */
    uint32_t two = 0x000f | (uint32_t)opc[k] << 8;
    if (k == TCG_FP_TO_INT) {
        em_byte(e, f32 ? 0xf3 : 0xf2);
        em_rr(e, two, 2, i64, rd, 0, false);               /* cvttsd2si/ss rd, xmm0 */
    } else if (k == TCG_FP_FROM_INT) {
        em_byte(e, f32 ? 0xf3 : 0xf2);
        em_rr(e, two, 2, i64, 0, ra, false);               /* cvtsi2sd/ss xmm0, ra */
    } else if (compare) {
        if (!f32)
            em_byte(e, 0x66);                              /* (u)comisd; (u)comiss has none */
        em_rr(e, two, 2, false, 0, 1, false);
        em_byte(e, 0x9c);                                  /* pushfq; pop rd; and rd, ZF|PF|CF */
        em_rex(e, false, 0, 0, rd, false);
        em_byte(e, (uint8_t)(0x58 + (rd & 7)));
        em_rr(e, 0x83, 1, false, 4, rd, false);
        em_byte(e, 0x45);
    } else {
        em_byte(e, f32 ? 0xf3 : 0xf2);
        em_rr(e, two, 2, false, 0, 1, false);              /* addsd & co. xmm0, xmm1 */
    }
    em_rm(e, 0xae0f, 2, false, 3, RSP, -1, 0, scratch, false);   /* stmxcsr */
    em_rm(e, 0x8b, 1, false, rf, RSP, -1, 0, scratch, false);
    em_rr(e, 0x83, 1, false, 4, rf, false);                /* and rf, 0x3f */
    em_byte(e, 0x3f);
    if (!compare && k != TCG_FP_TO_INT) {
        em_byte(e, 0x66);
        em_rr(e, 0x7e0f, 2, !f32, 0, rd, false);           /* movq/movd rd, xmm0 */
    }
    set_output(g, (int)op->args[0], rd);
    set_output(g, (int)op->args[1], rf);
}

/* ---- vecop: the host's own SSE instruction on env slots ----------------------------------
 * xmm0/xmm1 are scratch, as for fpop; env slots are only 8-byte aligned,
 * so both operands come in with MOVDQU (legacy SSE memory operands must be
 * aligned). */
bool tcg_vecop_use_host = true;

/* The host extension an instruction of the 0F/0F38/0F3A maps needs. */
static bool host_has_vec_insn(uint64_t desc)
{
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned map = TCG_VEC_MAP(desc), opc = TCG_VEC_OPCODE(desc);
    __builtin_cpu_init();
    if (map == 1)
        return true;                                        /* SSE2: every x86-64 */
    if ((map == 2 && (opc <= 0x0b || (opc >= 0x1c && opc <= 0x1e))) || (map == 3 && opc == 0x0f))
        return __builtin_cpu_supports("ssse3");
    if (map == 3 && opc >= 0x60 && opc <= 0x63)
        return __builtin_cpu_supports("sse4.2");
    return __builtin_cpu_supports("sse4.1");
#else
    (void)desc;
    return false;
#endif
}

bool tcg_vecop_available(uint64_t desc)
{
    if (tcg_use_interp)
        return true;
    return tcg_vecop_use_host && host_has_vec_insn(desc);
}

static void movdqu_xmm_env(Emitter *e, int xmm, int32_t off, bool store)
{
    em_byte(e, 0xf3);
    em_rm(e, store ? 0x7f0f : 0x6f0f, 2, false, xmm, RBP, -1, 0, off, false);
}

/* 66 <map> opcode with ModRM register form reg, rm */
static void emit_vec_insn(Emitter *e, uint64_t desc, int reg, int rm)
{
    static const uint32_t escape[4] = { 0, 0x0f, 0x380f, 0x3a0f };
    unsigned map = TCG_VEC_MAP(desc);
    em_byte(e, 0x66);
    em_rr(e, escape[map] | TCG_VEC_OPCODE(desc) << (map == 1 ? 8 : 16), map == 1 ? 2 : 3, false, reg, rm,
          false);
}

void gen_vecop(Gen *g, const TCGOp *op)
{
    Emitter *e = &g->e;
    uint64_t desc = op->args[0];
    int32_t d = (int32_t)op->args[1], src = (int32_t)op->args[2], r = (int32_t)op->args[3];
    switch (TCG_VEC_FORM(desc)) {
    case TCG_VEC_RR:
        movdqu_xmm_env(e, 0, d, false);
        movdqu_xmm_env(e, 1, src, false);
        emit_vec_insn(e, desc, 0, 1);
        if (TCG_VEC_HAS_IMM(desc))
            em_byte(e, (uint8_t)TCG_VEC_IMM(desc));
        break;
    case TCG_VEC_FROM_S:
        movdqu_xmm_env(e, 1, src, false);
        emit_vec_insn(e, desc, 0, 1);
        em_byte(e, (uint8_t)TCG_VEC_IMM(desc));
        break;
    case TCG_VEC_SHIFT:
        movdqu_xmm_env(e, 0, d, false);
        emit_vec_insn(e, desc, (int)TCG_VEC_DIGIT(desc), 0);
        em_byte(e, (uint8_t)TCG_VEC_IMM(desc));
        break;
    case TCG_VEC_STRI:
        reg_evict(g, RCX, 0);
        movdqu_xmm_env(e, 0, d, false);
        movdqu_xmm_env(e, 1, src, false);
        emit_vec_insn(e, desc, 0, 1);                       /* pcmpistri xmm0, xmm1, imm */
        em_byte(e, (uint8_t)TCG_VEC_IMM(desc));
        em_rm(e, 0x89, 1, false, RCX, RBP, -1, 0, r + 4, false);    /* mov [rbp + r + 4], ecx */
        em_byte(e, 0x9c);                                   /* pushfq; pop rcx */
        em_byte(e, 0x59);
        em_rr(e, 0x81, 1, false, 4, RCX, false);            /* and ecx, CF|ZF|SF|OF */
        em_u32(e, 0x8c1);
        em_rm(e, 0x89, 1, false, RCX, RBP, -1, 0, r, false);        /* mov [rbp + r], ecx */
        return;
    default:
        g->failed = true;
        return;
    }
    movdqu_xmm_env(e, 0, d, true);
}
