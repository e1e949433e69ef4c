/* The portable backend: a direct interpreter of the IR. Each TB's ops are
 * "compiled" once into an array of IOps whose operands are resolved to
 * pointers (env fields for globals, the vCPU's frame for temps), so executing
 * an op is one switch and a few loads and stores. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/softfloat.h"
#include "system/log.h"
#include "system/util.h"
#include "tcg/tcg.h"

void *tb_arena_alloc(TCGCPU *t, size_t n);
TranslationBlock *tb_lookup_fast(CPUX86State *env);

typedef uint64_t (*HelperFn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

typedef struct IOp {
    uint16_t opc;
    uint8_t flags;
    uint8_t c;              /* condition or memop */
    int32_t aux;            /* label target (op index), mmu index, insn index, call arg count */
    uint64_t *o[2];
    uint64_t *i[4];
    uint64_t imm;           /* movi value, ld/st offset, exit value, helper */
    uint64_t **call_args;
} IOp;

/* fpop in software (any host): the x86 softfloat is IEEE 754 with the SSE
 * NaN rules, and its flag bits are MXCSR's. */
static void interp_fpop(unsigned fpop, uint64_t *d, uint64_t *flags, uint64_t a, uint64_t b)
{
    FloatStatus st = float_status_from_mxcsr(0x1f80);
    unsigned k = fpop & TCG_FP_OP_MASK;
    bool f32 = fpop & TCG_FP_F32, i64 = fpop & TCG_FP_I64;
    if (k == TCG_FP_TO_INT) {
        *d = f32 ? (i64 ? (uint64_t)float32_to_int64_round_to_zero((float32)a, &st)
                        : (uint32_t)float32_to_int32_round_to_zero((float32)a, &st))
                 : (i64 ? (uint64_t)float64_to_int64_round_to_zero(a, &st)
                        : (uint32_t)float64_to_int32_round_to_zero(a, &st));
    } else if (k == TCG_FP_FROM_INT) {
        *d = f32 ? (i64 ? int64_to_float32((int64_t)a, &st) : int32_to_float32((int32_t)a, &st))
                 : (i64 ? int64_to_float64((int64_t)a, &st) : int32_to_float64((int32_t)a, &st));
    } else if (k == TCG_FP_UCOM || k == TCG_FP_COM) {
        bool quiet = k == TCG_FP_UCOM;
        *d = float_relation_to_eflags((fpop & TCG_FP_F32)
                 ? float32_compare((float32)a, (float32)b, quiet, &st)
                 : float64_compare(a, b, quiet, &st));
    } else if (fpop & TCG_FP_F32) {
        float32 x = (float32)a, y = (float32)b;
        *d = k == TCG_FP_ADD ? float32_add(x, y, &st) : k == TCG_FP_SUB ? float32_sub(x, y, &st)
           : k == TCG_FP_MUL ? float32_mul(x, y, &st) : k == TCG_FP_DIV ? float32_div(x, y, &st)
           : float32_sqrt(x, &st);
    } else {
        *d = k == TCG_FP_ADD ? float64_add(a, b, &st) : k == TCG_FP_SUB ? float64_sub(a, b, &st)
           : k == TCG_FP_MUL ? float64_mul(a, b, &st) : k == TCG_FP_DIV ? float64_div(a, b, &st)
           : float64_sqrt(a, &st);
    }
    *flags = st.flags & FLOAT_FLAGS_EXCEPTIONS;
}

typedef struct IProg {
    int nb_ops;
    IOp ops[];
} IProg;

/* The interpreter's temps, one frame per vCPU (TBs are per vCPU, not re-entered). */
typedef struct InterpFrame {
    uint64_t env;
    uint64_t t[TCG_MAX_TEMPS];
} InterpFrame;

static uint64_t *resolve(TCGContext *s, InterpFrame *f, CPUX86State *env, TCGArg a)
{
    int i = (int)(int64_t)a;
    if (i < 0)
        return &f->t[TCG_MAX_TEMPS - 1];
    const TCGTemp *tp = &s->temps[i];
    switch (tp->kind) {
    case TEMP_ENV:
        return &f->env;
    case TEMP_GLOBAL:
        return (uint64_t *)((char *)env + tp->env_offset);
    default:
        return &f->t[i];
    }
}

static InterpFrame *frame_of(TCGCPU *t)
{
    /* Allocated on first use; lives as long as the vCPU. */
    if (!t->interp_frame) {
        InterpFrame *f = xzalloc(sizeof(*f));
        f->env = (uint64_t)(uintptr_t)t->env;
        t->interp_frame = f;
    }
    return t->interp_frame;
}

static bool interp_gen_code(TCGContext *s, TranslationBlock *tb)
{
    TCGCPU *t = tcg_current_cpu;
    CPUX86State *env = t->env;
    InterpFrame *f = frame_of(t);
    IProg *p = tb_arena_alloc(t, sizeof(IProg) + sizeof(IOp) * (size_t)s->nb_ops);
    int *label_pos = xzalloc(sizeof(int) * (size_t)(s->nb_labels + 1));
    if (!p) {
        free(label_pos);
        return false;
    }
    int n = 0, insn = -1, loop_head = 0;
    for (int k = 0; k < s->nb_ops; k++) {
        const TCGOp *op = &s->ops[k];
        if (op->opc == INDEX_op_set_label) {
            label_pos[op->args[0]] = n;
            continue;
        }
        /* the return stack is the x86_64 backend's: nothing to do here */
        if (op->opc == INDEX_op_discard || op->opc == INDEX_op_ras_push)
            continue;
        const TCGOpDef *def = &tcg_op_defs[op->opc];
        IOp *io = &p->ops[n++];
        memset(io, 0, sizeof(*io));
        io->opc = op->opc;
        io->flags = op->flags;
        int a = 0;
        for (int j = 0; j < def->nb_oargs; j++)
            io->o[j] = resolve(s, f, env, op->args[a++]);
        for (int j = 0; j < def->nb_iargs; j++)
            io->i[j] = resolve(s, f, env, op->args[a++]);
        switch (op->opc) {
        case INDEX_op_movi:
            io->imm = op->args[1];
            break;
        case INDEX_op_setcond:
            io->c = (uint8_t)op->args[3];
            break;
        case INDEX_op_deposit:
            io->imm = ~0ULL >> (64 - op->args[3]);   /* the field's mask */
            break;
        case INDEX_op_movcond:
            io->c = (uint8_t)op->args[5];
            break;
        case INDEX_op_fpop:
            io->c = (uint8_t)op->args[4];
            break;
        case INDEX_op_vecop:   /* the env slots as pointers */
            io->imm = op->args[0];
            for (int j = 0; j < 3; j++)
                io->i[j] = (uint64_t *)((char *)env + op->args[1 + j]);
            break;
        case INDEX_op_brcond:
            io->c = (uint8_t)op->args[2];
            io->aux = (int32_t)op->args[3];   /* label id, fixed below */
            break;
        case INDEX_op_br: case INDEX_op_goto_loop:
            io->aux = (int32_t)op->args[0];
            break;
        case INDEX_op_ld: case INDEX_op_st:
            io->imm = op->args[a];
            io->c = (uint8_t)op->args[a + 1];
            break;
        case INDEX_op_qemu_ld: case INDEX_op_qemu_st:
            io->c = (uint8_t)op->args[a];
            io->aux = (int32_t)op->args[a + 1];
            break;
        case INDEX_op_qemu_probe:
            io->aux = (int32_t)op->args[a];
            io->imm = op->args[a + 1];
            break;
        case INDEX_op_qemu_ld_probe: case INDEX_op_qemu_st_probe:
        case INDEX_op_qemu_ld_reuse: case INDEX_op_qemu_st_reuse:
            io->c = (uint8_t)op->args[a];
            io->aux = (int32_t)op->args[a + 1];
            io->imm = op->args[a + 2];   /* the window; a reuse's displacement */
            break;
        case INDEX_op_insn_start:
            if (insn < 0)
                loop_head = n - 1;
            io->aux = ++insn;
            break;
        case INDEX_op_goto_tb:
            io->aux = (int32_t)op->args[0];
            io->imm = op->args[1];
            break;
        case INDEX_op_exit_tb:
            io->imm = op->args[0];
            break;
        case INDEX_op_call: {
            const TCGCall *c = op->call;
            io->o[0] = c->has_ret ? resolve(s, f, env, op->args[0]) : NULL;
            io->imm = (uint64_t)(uintptr_t)c->func;
            io->aux = c->nargs;
            io->call_args = tb_arena_alloc(t, sizeof(uint64_t *) * TCG_MAX_CALL_ARGS);
            if (!io->call_args) {
                free(label_pos);
                return false;
            }
            for (int j = 0; j < c->nargs; j++)
                io->call_args[j] = resolve(s, f, env, c->args[j]);
            break;
        }
        default:
            break;
        }
    }
    for (int k = 0; k < n; k++) {
        IOp *io = &p->ops[k];
        if (io->opc == INDEX_op_brcond || io->opc == INDEX_op_br || io->opc == INDEX_op_goto_loop)
            io->aux = label_pos[io->aux];
        /* no label: back to the first instruction; the block set-up before
         * it must not run again (it reads RIP, which the loop does not keep) */
        else if (io->opc == INDEX_op_goto_loop)
            io->aux = loop_head;
    }
    free(label_pos);
    p->nb_ops = n;
    tb->code = p;
    tb->code_size = (uint32_t)(sizeof(IProg) + sizeof(IOp) * (size_t)n);
    return true;
}


static uint64_t host_ld(const void *p, unsigned memop)
{
    switch (memop) {
    case MO_8: return *(const uint8_t *)p;
    case MO_8S: return (uint64_t)(int64_t)*(const int8_t *)p;
    case MO_16: return ld16(p);
    case MO_16S: return (uint64_t)(int64_t)(int16_t)ld16(p);
    case MO_32: return ld32(p);
    case MO_32S: return (uint64_t)(int64_t)(int32_t)ld32(p);
    default: return ld64(p);
    }
}

static inline TLBEntry *tlb_entry(TCGCPU *t, int mmu, uint64_t addr)
{
    return &t->tlb[mmu][(addr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1)];
}

static uint64_t guest_ld(CPUX86State *env, TCGCPU *t, const IOp *op, uint64_t addr)
{
    unsigned size = 1u << (op->c & MO_SIZE);
    TLBEntry *e = tlb_entry(t, op->aux, addr);
    uint64_t tag = (op->c & MO_RMW) ? e->addr_write : e->addr_read;
    if (likely(tag == ((addr + size - 1) & TARGET_PAGE_MASK)))
        return host_ld((void *)(uintptr_t)(addr + e->addend), op->c & MO_VALUE);
    return tcg_ld_slow(env, addr, op->c, op->aux, (uintptr_t)op);
}

static void guest_st(CPUX86State *env, TCGCPU *t, const IOp *op, uint64_t addr, uint64_t v)
{
    unsigned size = 1u << (op->c & MO_SIZE);
    TLBEntry *e = tlb_entry(t, op->aux, addr);
    if (likely(e->addr_write == ((addr + size - 1) & TARGET_PAGE_MASK)))
        stn((void *)(uintptr_t)(addr + e->addend), size, v);
    else
        tcg_st_slow(env, addr, v, op->c, op->aux, (uintptr_t)op);
}

/* The addend of a probe op's window (after its own access), or the odd
 * "none" when the TLB entry does not cover it for the window's accesses. */
static uint64_t window_addend(TCGCPU *t, const IOp *op, uint64_t addr)
{
    uint64_t lo = addr + (uint64_t)(int64_t)tcg_window_lo(op->imm);
    uint64_t tag = (lo + tcg_window_len(op->imm) - 1) & TARGET_PAGE_MASK;
    unsigned perms = tcg_window_perms(op->imm);
    TLBEntry *e = tlb_entry(t, op->aux, lo);
    if (((perms & TCG_WINDOW_READ) && e->addr_read != tag) || ((perms & TCG_WINDOW_WRITE) && e->addr_write != tag))
        return TCG_ADDEND_NONE;
    return e->addend;
}

static uintptr_t interp_exec(CPUX86State *env, TranslationBlock *tb)
{
    TCGCPU *t = tcg_cpu(env);
    bool set_up = true;   /* entered from the loop or a lookup, not chained */
next_tb:
    if (tb->invalid)
        return 0;
    if (set_up && tb->pcrel)
        env->tb_pc_base = TB_PAGE_BASE(env->rip);
    t->in_interp = true;
    t->interp_tb = tb;
    if (log_enabled(LOG_JIT_COUNT))
        t->stat_entries++;
    const IOp *code = ((const IProg *)tb->code)->ops;
    const IOp *op = code;
    for (;;) {
        bool w = op->flags & TCG_W32;
        uint64_t r;
        switch (op->opc) {
#define BIN(name, expr)                                                       \
        case INDEX_op_##name: {                                               \
            uint64_t a = *op->i[0], b = *op->i[1];                            \
            r = (expr);                                                       \
            *op->o[0] = w ? (uint32_t)r : r;                                  \
            break;                                                            \
        }
        BIN(add, a + b)
        BIN(sub, a - b)
        BIN(mul, a * b)
        BIN(and, a & b)
        BIN(or, a | b)
        BIN(xor, a ^ b)
        BIN(shl, w ? (uint64_t)((uint32_t)a << (b & 31)) : a << (b & 63))
        BIN(shr, w ? (uint64_t)((uint32_t)a >> (b & 31)) : a >> (b & 63))
        BIN(sar, w ? (uint64_t)(uint32_t)((int32_t)a >> (b & 31)) : (uint64_t)((int64_t)a >> (b & 63)))
        BIN(rotl, w ? (uint64_t)(((uint32_t)a << (b & 31)) | ((uint32_t)a >> ((32 - (b & 31)) & 31)))
                    : (a << (b & 63)) | (a >> ((64 - (b & 63)) & 63)))
        BIN(rotr, w ? (uint64_t)(((uint32_t)a >> (b & 31)) | ((uint32_t)a << ((32 - (b & 31)) & 31)))
                    : (a >> (b & 63)) | (a << ((64 - (b & 63)) & 63)))
#undef BIN
        case INDEX_op_mov: *op->o[0] = *op->i[0]; break;
        case INDEX_op_movi: *op->o[0] = op->imm; break;
        case INDEX_op_neg: r = -*op->i[0]; *op->o[0] = w ? (uint32_t)r : r; break;
        case INDEX_op_not: r = ~*op->i[0]; *op->o[0] = w ? (uint32_t)r : r; break;
        case INDEX_op_ext8s: *op->o[0] = (uint64_t)(int64_t)(int8_t)*op->i[0]; break;
        case INDEX_op_ext8u: *op->o[0] = (uint8_t)*op->i[0]; break;
        case INDEX_op_ext16s: *op->o[0] = (uint64_t)(int64_t)(int16_t)*op->i[0]; break;
        case INDEX_op_ext16u: *op->o[0] = (uint16_t)*op->i[0]; break;
        case INDEX_op_ext32s: *op->o[0] = (uint64_t)(int64_t)(int32_t)*op->i[0]; break;
        case INDEX_op_ext32u: *op->o[0] = (uint32_t)*op->i[0]; break;
        case INDEX_op_deposit: *op->o[0] = (*op->i[0] & ~op->imm) | (*op->i[1] & op->imm); break;
        case INDEX_op_bswap:
            *op->o[0] = w ? __builtin_bswap32((uint32_t)*op->i[0]) : __builtin_bswap64(*op->i[0]);
            break;
        case INDEX_op_mulu2: {
            unsigned __int128 p = (unsigned __int128)*op->i[0] * *op->i[1];
            *op->o[0] = (uint64_t)p;
            *op->o[1] = (uint64_t)(p >> 64);
            break;
        }
        case INDEX_op_fpop:
            interp_fpop(op->c, op->o[0], op->o[1], *op->i[0], *op->i[1]);
            break;
        case INDEX_op_vecop:
            tcg_vecop_c(op->imm, op->i[0], op->i[1], op->i[2]);
            break;
        case INDEX_op_muls2: {
            __int128 p = (__int128)(int64_t)*op->i[0] * (int64_t)*op->i[1];
            *op->o[0] = (uint64_t)p;
            *op->o[1] = (uint64_t)((unsigned __int128)p >> 64);
            break;
        }
        case INDEX_op_setcond:
            *op->o[0] = tcg_cond_eval((TCGCond)op->c, w, *op->i[0], *op->i[1]);
            break;
        case INDEX_op_movcond:
            *op->o[0] = tcg_cond_eval((TCGCond)op->c, w, *op->i[0], *op->i[1]) ? *op->i[2] : *op->i[3];
            break;
        case INDEX_op_brcond:
            if (tcg_cond_eval((TCGCond)op->c, w, *op->i[0], *op->i[1])) {
                op = code + op->aux;
                continue;
            }
            break;
        case INDEX_op_br:
            op = code + op->aux;
            continue;
        case INDEX_op_ld:
            *op->o[0] = host_ld((const char *)(uintptr_t)*op->i[0] + op->imm, op->c);
            break;
        case INDEX_op_st:
            stn((char *)(uintptr_t)*op->i[1] + op->imm, 1u << (op->c & MO_SIZE), *op->i[0]);
            break;
        case INDEX_op_qemu_ld:
            *op->o[0] = guest_ld(env, t, op, *op->i[0]);
            break;
        case INDEX_op_qemu_st:
            guest_st(env, t, op, *op->i[1], *op->i[0]);
            break;
        case INDEX_op_qemu_ld_probe: {
            uint64_t addr = *op->i[0];
            *op->o[0] = guest_ld(env, t, op, addr);
            *op->o[1] = window_addend(t, op, addr);
            break;
        }
        case INDEX_op_qemu_st_probe: {
            uint64_t addr = *op->i[1];
            guest_st(env, t, op, addr, *op->i[0]);
            *op->o[0] = window_addend(t, op, addr);
            break;
        }
        case INDEX_op_qemu_probe:
            *op->o[0] = window_addend(t, op, *op->i[0]);
            break;
        case INDEX_op_qemu_ld_reuse: {
            uint64_t addr = *op->i[0] + op->imm, addend = *op->i[1];
            *op->o[0] = addend & TCG_ADDEND_NONE ? guest_ld(env, t, op, addr)
                        : host_ld((void *)(uintptr_t)(addr + addend), op->c & MO_VALUE);
            break;
        }
        case INDEX_op_qemu_st_reuse: {
            uint64_t addr = *op->i[1] + op->imm, addend = *op->i[2];
            if (addend & TCG_ADDEND_NONE)
                guest_st(env, t, op, addr, *op->i[0]);
            else
                stn((void *)(uintptr_t)(addr + addend), 1u << (op->c & MO_SIZE), *op->i[0]);
            break;
        }
        case INDEX_op_call: {
            uint64_t a[TCG_MAX_CALL_ARGS] = { 0 };
            for (int j = 0; j < op->aux; j++)
                a[j] = *op->call_args[j];
            r = ((HelperFn)(uintptr_t)op->imm)(a[0], a[1], a[2], a[3], a[4], a[5]);
            if (op->o[0])
                *op->o[0] = r;
            /* a helper may have run other code paths that reset these */
            t->in_interp = true;
            t->interp_tb = tb;
            break;
        }
        case INDEX_op_insn_start:
            t->interp_insn = op->aux;
            break;
        case INDEX_op_goto_tb: {
            int n = op->aux;
            TranslationBlock *next = tb->jmp_target[n];
            if (next && !next->invalid &&
                !atomic_load_explicit(&t->exit_flag, memory_order_relaxed)) {
                set_up = !tb_chain_keeps_page_base(tb, next);
                tb = next;
                goto next_tb;
            }
            env->rip = op->imm + (tb->pcrel ? env->tb_pc_base : 0);
            return TB_EXIT_CHAIN(tb, n);
        }
        case INDEX_op_exit_tb:
            return (uintptr_t)op->imm;
        case INDEX_op_goto_loop:
            /* invalidating a TB also requests an exit */
            if (!atomic_load_explicit(&t->exit_flag, memory_order_relaxed)) {
                op = code + op->aux;
                continue;
            }
            break;
        case INDEX_op_lookup_and_goto: {
            TranslationBlock *next = tb_lookup_fast(env);
            if (next) {
                set_up = true;
                tb = next;
                goto next_tb;
            }
            return 0;
        }
        default:
            break;
        }
        op++;
    }
}

static void interp_set_jump(TranslationBlock *tb, int n, TranslationBlock *dest)
{
    (void)tb; (void)n; (void)dest;   /* jmp_target is read at run time */
}

static void interp_invalidate(TranslationBlock *tb) { (void)tb; }
/* chained jumps into an invalid block leave to the loop, which chains them again */
static void interp_redirect(TranslationBlock *tb, TranslationBlock *dest) { (void)tb; (void)dest; }
static void interp_reset(void) {}

static int interp_insn_from_ra(TranslationBlock *tb, uintptr_t ra)
{
    (void)tb; (void)ra;
    return -1;
}

static void interp_dump(TranslationBlock *tb)
{
    const IProg *p = tb->code;
    log_printf("OUT: [interpreter program: %d ops, %u bytes]\n\n", p->nb_ops, tb->code_size);
}

const TCGBackend tcg_backend_interp = {
    .name = "interp",
    .gen_code = interp_gen_code,
    .exec = interp_exec,
    .set_jump = interp_set_jump,
    .invalidate = interp_invalidate,
    .redirect = interp_redirect,
    .reset = interp_reset,
    .insn_from_ra = interp_insn_from_ra,
    .dump = interp_dump,
};
