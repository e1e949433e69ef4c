/* IR context, temps, labels and the op emitters. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "system/util.h"
#include "tcg/tcg.h"

__thread TCGContext *tcg_ctx;
const TCGv tcg_env = 0;

const TCGOpDef tcg_op_defs[NB_OPS] = {
#define TCG_OPC_DEF(name, o, i, c) [INDEX_op_##name] = { #name, o, i, c },
    TCG_OPCODES(TCG_OPC_DEF)
#undef TCG_OPC_DEF
};

TCGContext *tcg_context_new(void)
{
    TCGContext *s = xzalloc(sizeof(*s));
    s->ops = xmalloc(sizeof(TCGOp) * TCG_MAX_OPS);
    s->calls = xmalloc(sizeof(TCGCall) * TCG_MAX_OPS / 4);
    s->temps[0] = (TCGTemp){ .kind = TEMP_ENV, .in_use = true, .name = "env" };
    s->nb_globals = s->nb_temps = 1;
    return s;
}

void tcg_context_free(TCGContext *s)
{
    if (!s)
        return;
    free(s->ops);
    free(s->calls);
    free(s);
}

TCGv tcg_global_new(TCGContext *s, int env_offset, const char *name)
{
    int i = s->nb_globals++;
    s->temps[i] = (TCGTemp){ .kind = TEMP_GLOBAL, .in_use = true,
                             .env_offset = env_offset, .name = name };
    s->nb_temps = s->nb_globals;
    return i;
}

void tcg_func_start(TCGContext *s)
{
    s->nb_temps = s->nb_globals;
    s->nb_ops = 0;
    s->nb_labels = 0;
    s->nb_calls = 0;
    s->overflow = false;
}

/* Temps are never reused within a TB: the optimiser and the register
 * allocator rely on each normal temp's life being easy to see, and a TB has
 * few enough of them. */
static TCGv temp_alloc(TCGTempKind kind)
{
    TCGContext *s = tcg_ctx;
    if (s->nb_temps >= TCG_MAX_TEMPS) {
        s->overflow = true;
        return TCG_MAX_TEMPS - 1;   /* scribble temp; the TB is discarded */
    }
    int i = s->nb_temps++;
    s->temps[i] = (TCGTemp){ .kind = kind, .in_use = true };
    return i;
}

TCGv tcg_temp_new(void) { return temp_alloc(TEMP_NORMAL); }
TCGv tcg_temp_local_new(void) { return temp_alloc(TEMP_LOCAL); }
void tcg_temp_free(TCGv t) { (void)t; }

int gen_new_label(void)
{
    TCGContext *s = tcg_ctx;
    if (s->nb_labels >= TCG_MAX_LABELS - 1) {
        s->overflow = true;   /* the block is retranslated smaller */
        return TCG_MAX_LABELS - 1;
    }
    return s->nb_labels++;
}

int tcg_ops_left(void)
{
    TCGContext *s = tcg_ctx;
    int t = TCG_MAX_TEMPS - s->nb_temps;
    int o = TCG_MAX_OPS - s->nb_ops;
    return MIN(t, o);
}

TCGOp *tcg_emit(TCGOpcode opc, unsigned flags, int nargs, const TCGArg *args)
{
    TCGContext *s = tcg_ctx;
    static TCGOp scratch;
    if (s->nb_ops >= TCG_MAX_OPS) {
        s->overflow = true;
        return &scratch;
    }
    TCGOp *op = &s->ops[s->nb_ops++];
    op->opc = opc;
    op->flags = flags;
    op->dead = 0;
    op->call = NULL;
    memcpy(op->args, args, sizeof(TCGArg) * (size_t)nargs);
    memset(op->args + nargs, 0, sizeof(TCGArg) * (size_t)(6 - nargs));
    return op;
}

#define EMIT(opc, fl, ...)                                              \
    do {                                                                \
        TCGArg a_[] = { __VA_ARGS__ };                                  \
        tcg_emit(opc, fl, ARRAY_SIZE(a_), a_);                          \
    } while (0)

void tcg_gen_mov(TCGv d, TCGv a)
{
    if (d != a)
        EMIT(INDEX_op_mov, 0, d, a);
}

void tcg_gen_movi(TCGv d, uint64_t imm) { EMIT(INDEX_op_movi, 0, d, imm); }

TCGv tcg_const(uint64_t imm)
{
    TCGv t = tcg_temp_new();
    tcg_gen_movi(t, imm);
    return t;
}

void tcg_gen_op2(TCGOpcode opc, unsigned flags, TCGv d, TCGv a) { EMIT(opc, flags, d, a); }
void tcg_gen_op3(TCGOpcode opc, unsigned flags, TCGv d, TCGv a, TCGv b) { EMIT(opc, flags, d, a, b); }

void tcg_gen_op3i(TCGOpcode opc, unsigned flags, TCGv d, TCGv a, uint64_t imm)
{
    tcg_gen_op3(opc, flags, d, a, tcg_const(imm));
}

static const TCGOpcode ext_u[] = { 0, INDEX_op_ext8u, INDEX_op_ext16u, 0, INDEX_op_ext32u };
static const TCGOpcode ext_s[] = { 0, INDEX_op_ext8s, INDEX_op_ext16s, 0, INDEX_op_ext32s };

void tcg_gen_extu(TCGv d, TCGv a, unsigned size)
{
    if (size >= 8)
        tcg_gen_mov(d, a);
    else
        tcg_gen_op2(ext_u[size], 0, d, a);
}

void tcg_gen_deposit_low(TCGv d, TCGv a, TCGv b, unsigned size)
{
    EMIT(INDEX_op_deposit, 0, d, a, b, 8 * size);
}

void tcg_gen_exts(TCGv d, TCGv a, unsigned size)
{
    if (size >= 8)
        tcg_gen_mov(d, a);
    else
        tcg_gen_op2(ext_s[size], 0, d, a);
}

void tcg_gen_setcond(TCGCond c, unsigned flags, TCGv d, TCGv a, TCGv b)
{
    EMIT(INDEX_op_setcond, flags, d, a, b, c);
}

void tcg_gen_movcond(TCGCond c, unsigned flags, TCGv d, TCGv c1, TCGv c2, TCGv v1, TCGv v2)
{
    EMIT(INDEX_op_movcond, flags, d, c1, c2, v1, v2, c);
}

void tcg_gen_brcond(TCGCond c, unsigned flags, TCGv a, TCGv b, int label)
{
    EMIT(INDEX_op_brcond, flags, a, b, c, label);
}

void tcg_gen_brcondi(TCGCond c, unsigned flags, TCGv a, uint64_t imm, int label)
{
    tcg_gen_brcond(c, flags, a, tcg_const(imm), label);
}

void tcg_gen_br(int label) { EMIT(INDEX_op_br, 0, label); }
void tcg_gen_set_label(int label) { EMIT(INDEX_op_set_label, 0, label); }
void tcg_gen_mulu2(TCGv lo, TCGv hi, TCGv a, TCGv b) { EMIT(INDEX_op_mulu2, 0, lo, hi, a, b); }
void tcg_gen_muls2(TCGv lo, TCGv hi, TCGv a, TCGv b) { EMIT(INDEX_op_muls2, 0, lo, hi, a, b); }

void tcg_gen_ld(TCGv d, TCGv base, int64_t offset, unsigned memop)
{
    EMIT(INDEX_op_ld, 0, d, base, (TCGArg)offset, memop);
}

void tcg_gen_st(TCGv v, TCGv base, int64_t offset, unsigned memop)
{
    EMIT(INDEX_op_st, 0, v, base, (TCGArg)offset, memop);
}

void tcg_gen_qemu_ld(TCGv d, TCGv addr, unsigned memop, int mmu_idx)
{
    EMIT(INDEX_op_qemu_ld, 0, d, addr, memop, mmu_idx);
}

void tcg_gen_qemu_st(TCGv v, TCGv addr, unsigned memop, int mmu_idx)
{
    EMIT(INDEX_op_qemu_st, 0, v, addr, memop, mmu_idx);
}

void tcg_gen_call(void *func, const char *name, unsigned flags, TCGv ret, int nargs, ...)
{
    TCGContext *s = tcg_ctx;
    if (s->nb_calls >= TCG_MAX_OPS / 4) {
        s->overflow = true;
        return;
    }
    TCGCall *c = &s->calls[s->nb_calls++];
    c->func = func;
    c->name = name;
    c->flags = flags;
    c->nargs = nargs;
    c->has_ret = ret != TCG_NO_TEMP;
    va_list ap;
    va_start(ap, nargs);
    for (int i = 0; i < nargs && i < TCG_MAX_CALL_ARGS; i++)
        c->args[i] = va_arg(ap, TCGv);
    va_end(ap);
    TCGArg a = (TCGArg)(int64_t)ret;
    TCGOp *op = tcg_emit(INDEX_op_call, 0, 1, &a);
    op->call = c;
}

void tcg_gen_insn_start(uint64_t pc, uint32_t cc_op) { EMIT(INDEX_op_insn_start, 0, pc, cc_op); }
void tcg_gen_goto_tb(unsigned n, uint64_t pc) { EMIT(INDEX_op_goto_tb, 0, n, pc); }
void tcg_gen_exit_tb(uint64_t val) { EMIT(INDEX_op_exit_tb, 0, val); }
const char *tcg_xfer_kind_name(unsigned kind)
{
    static const char *const names[XFER_KINDS] = {
        "other", "direct jmp", "direct call", "region exit", "indirect jmp", "indirect call", "ret", "next page",
    };
    return kind < XFER_KINDS ? names[kind] : "?";
}

void tcg_gen_lookup_and_goto(uint64_t ret_pop, TCGXferKind kind, uint64_t expect)
{
    EMIT(INDEX_op_lookup_and_goto, 0, ret_pop, kind, expect);
}
void tcg_gen_ras_push(TCGv rsp, TCGv ret_addr) { EMIT(INDEX_op_ras_push, 0, rsp, ret_addr); }
void tcg_gen_goto_loop(int label) { EMIT(INDEX_op_goto_loop, 0, (TCGArg)(int64_t)label); }
void tcg_gen_discard(TCGv t) { EMIT(INDEX_op_discard, 0, t); }
void tcg_gen_fpop(unsigned fpop, TCGv d, TCGv flags, TCGv a, TCGv b)
{
    EMIT(INDEX_op_fpop, 0, d, flags, a, b, fpop);
}

void tcg_gen_vecop(uint64_t desc, int64_t d, int64_t s, int64_t r)
{
    EMIT(INDEX_op_vecop, 0, desc, (TCGArg)d, (TCGArg)s, (TCGArg)r);
}

const bool tcg_op_side_effects[NB_OPS] = {
    [INDEX_op_brcond] = true, [INDEX_op_br] = true, [INDEX_op_set_label] = true,
    [INDEX_op_st] = true, [INDEX_op_qemu_ld] = true, [INDEX_op_qemu_st] = true, [INDEX_op_vecop] = true,
    [INDEX_op_qemu_ld_probe] = true, [INDEX_op_qemu_st_probe] = true,
    [INDEX_op_qemu_ld_reuse] = true, [INDEX_op_qemu_st_reuse] = true,
    [INDEX_op_call] = true, [INDEX_op_insn_start] = true, [INDEX_op_goto_tb] = true,
    [INDEX_op_exit_tb] = true, [INDEX_op_lookup_and_goto] = true, [INDEX_op_discard] = true,
    [INDEX_op_goto_loop] = true, [INDEX_op_ras_push] = true,
};

/* ---- -d op ----------------------------------------------------------------- */
static const char *cond_names[] = {
    "never", "always", "eq", "ne", "lt", "ge", "le", "gt",
    "ltu", "geu", "leu", "gtu", "tsteq", "tstne",
};

static void dump_temp(TCGContext *s, FILE *f, TCGArg t)
{
    int i = (int)(int64_t)t;
    if (i < 0 || i >= TCG_MAX_TEMPS) {
        fprintf(f, "-");
        return;
    }
    const TCGTemp *tp = &s->temps[i];
    if (tp->name)
        fprintf(f, "%s", tp->name);
    else
        fprintf(f, "%s%d", tp->kind == TEMP_LOCAL ? "loc" : "tmp", i - s->nb_globals);
}

void tcg_dump_ops(TCGContext *s, FILE *f)
{
    for (int n = 0; n < s->nb_ops; n++) {
        const TCGOp *op = &s->ops[n];
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        if (op->opc == INDEX_op_discard && (int64_t)op->args[0] < 0)
            continue;   /* removed by the optimiser */
        if (op->opc == INDEX_op_insn_start) {
            fprintf(f, " ---- 0x%" PRIx64 " cc_op=%u\n", (uint64_t)op->args[0],
                    (unsigned)op->args[1]);
            continue;
        }
        if (op->opc == INDEX_op_call) {
            fprintf(f, " call %s", op->call->name);
            if (op->call->has_ret) {
                fprintf(f, " -> ");
                dump_temp(s, f, op->args[0]);
            }
            for (int i = 0; i < op->call->nargs; i++) {
                fprintf(f, i ? ", " : " (");
                dump_temp(s, f, op->call->args[i]);
            }
            fprintf(f, "%s\n", op->call->nargs ? ")" : "");
            continue;
        }
        fprintf(f, " %s%s%s", def->name, op->flags & TCG_W32 ? "_i32" : "", op->flags & TCG_COLD ? " [cold]" : "");
        int k = 0;
        for (int i = 0; i < def->nb_oargs + def->nb_iargs; i++, k++) {
            fprintf(f, i ? ", " : " ");
            dump_temp(s, f, op->args[k]);
        }
        for (int i = 0; i < def->nb_cargs; i++, k++) {
            fprintf(f, k ? ", " : " ");
            bool is_cond = (op->opc == INDEX_op_setcond || op->opc == INDEX_op_movcond ||
                            op->opc == INDEX_op_brcond) && i == 0;
            if (is_cond && op->args[k] < ARRAY_SIZE(cond_names))
                fprintf(f, "%s", cond_names[op->args[k]]);
            else if (op->opc == INDEX_op_brcond || op->opc == INDEX_op_br ||
                     op->opc == INDEX_op_set_label || op->opc == INDEX_op_goto_loop)
                fprintf(f, "$L%d", (int)op->args[k]);
            else
                fprintf(f, "$0x%" PRIx64, (uint64_t)op->args[k]);
        }
        fprintf(f, "\n");
    }
}
