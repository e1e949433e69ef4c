/* The x86-64 host backend: IR -> machine code.
 *
 * Registers: rbp holds env, r12 the vCPU's TCGCPU (TLB and exit flag); the
 * other 13 general registers are allocated to temps op by op (a local
 * allocator driven by the liveness pass: values stay in registers within a
 * basic block, globals are written back when the IR contract says so). The
 * stack frame holds spill slots for every temp.
 *
 * Guest memory accesses inline the TLB lookup (index, compare, add) and call
 * the C slow path out of line, saving the caller-saved registers it needs.
 *
 * Code lives in a per-vCPU buffer mapped twice from a memfd: a writable view
 * and an executable one (W^X); hosts that refuse get one RWX mapping. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "accel/tcg-perfmap.h"
#include "system/log.h"
#include "tcg/x86_64/backend.h"

/* per vCPU, unless -accel tcg,tb-size=MIB. A Linux boot plus the bench
 * workload fills ~62 MiB (superblocks, victim-TLB routines): room to spare,
 * and only pages that hold code are ever touched. */
#define CODE_BUF_SIZE (128 * MiB)
size_t tcg_code_buffer_size = CODE_BUF_SIZE;

/* ---- code buffer ------------------------------------------------------------------ */
static CodeBuffer *code_buffer_new(void)
{
    CodeBuffer *cb = xzalloc(sizeof(*cb));
    cb->size = tcg_code_buffer_size;
    /* perf looks up /tmp/perf-PID.map only for anonymous executable
     * mappings, never for a memfd: -d perfmap trades W^X for an RWX one. */
    int fd = log_enabled(LOG_PERFMAP) ? -1 : memfd_create("kestrel-jit", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, (off_t)cb->size) == 0) {
        void *rw = mmap(NULL, cb->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        void *rx = mmap(NULL, cb->size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        if (rw != MAP_FAILED && rx != MAP_FAILED) {
            close(fd);
            cb->rw = rw;
            cb->rx = rx;
            return cb;
        }
        if (rw != MAP_FAILED)
            munmap(rw, cb->size);
        if (rx != MAP_FAILED)
            munmap(rx, cb->size);
    }
    if (fd >= 0)
        close(fd);
    void *p = mmap(NULL, cb->size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fatal("translator: cannot map a code buffer");
    cb->rw = cb->rx = p;
    return cb;
}

static void emitter_at(Emitter *e, CodeBuffer *cb, size_t off, size_t limit)
{
    e->rw = cb->rw + off;
    e->rw_end = cb->rw + limit;
    e->rx_delta = (intptr_t)(cb->rx - cb->rw);
    e->overflow = false;
    e->flag_clobbers = 0;
}


/* ---- labels ------------------------------------------------------------------------ */
void jump_to_label(Gen *g, int label, uint8_t jcc /* 0xff = jmp */)
{
    if (jcc == 0xff) {
        em_byte(&g->e, 0xe9);
    } else {
        em_byte(&g->e, 0x0f);
        em_byte(&g->e, (uint8_t)(0x80 | jcc));
    }
    size_t at = emitter_off(&g->e, g->cb);
    em_u32(&g->e, 0);
    if (g->nb_fwd < (int)ARRAY_SIZE(g->fwd)) {
        g->fwd[g->nb_fwd].patch = at;
        g->fwd[g->nb_fwd].label = label;
        g->nb_fwd++;
    } else {
        g->failed = true;
    }
}

void patch_rel32(CodeBuffer *cb, size_t at, size_t target)
{
    if (at + 4 > cb->size)
        return;   /* the emitter ran out of buffer: this block is dropped and the buffer flushed */
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
    memcpy(cb->rw + at, &rel, 4);
}

/* ---- calls ----------------------------------------------------------------------------- */
static void gen_call(Gen *g, const TCGOp *op)
{
    const TCGCall *c = op->call;
    bool pure = c->flags & TCG_CALL_PURE;
    if (!pure)
        sync_globals(g);
    /* Everything in caller-saved registers goes to memory first; then the
     * arguments load without conflicts. */
    for (int r = 0; r < 16; r++)
        if ((CALLER_SAVED & (1 << r)) && g->reg_temp[r] >= 0)
            temp_spill(g, g->reg_temp[r]);
    g->locked = 0;
    for (int i = 0; i < c->nargs; i++) {
        int t = c->args[i], r = call_arg_regs[i];
        TempState *ts = &g->ts[t];
        if (t == 0)
            mov_rr(&g->e, r, RBP);
        else if (ts->val == TS_REG)
            mov_rr(&g->e, r, ts->reg);
        else if (ts->val == TS_CONST)
            movi(&g->e, r, ts->cst);
        else if (ts->val == TS_MEM)
            em_rm(&g->e, 0x8b, 1, true, r, temp_base(g, t), -1, 0, temp_slot(g, t), false);
        else
            movi(&g->e, r, 0);
    }
    for (int i = 0; i < c->nargs; i++) {
        if (!(op->dead & (1u << i)))
            continue;
        int t = c->args[i];
        if (t <= 0 || g->s->temps[t].kind == TEMP_GLOBAL)
            continue;
        if (g->ts[t].val == TS_REG)
            reg_free(g, g->ts[t].reg);
        g->ts[t].val = TS_DEAD;
    }
    call_abs(&g->e, (uintptr_t)c->func);
    if (!pure) {
        loop_caches_reset(g);   /* the helper may have changed the TLB */
        /* the helper may have changed any global */
        for (int r = 0; r < 16; r++) {
            int t = g->reg_temp[r];
            if (t >= 0 && g->s->temps[t].kind == TEMP_GLOBAL) {
                reg_free(g, r);
                g->ts[t].val = TS_MEM;
                g->ts[t].coherent = true;
            }
        }
        for (int t = 1; t < g->s->nb_globals; t++) {
            if (g->ts[t].val == TS_CONST) {
                g->ts[t].val = TS_MEM;
                g->ts[t].coherent = true;
            }
        }
    }
    int ret = (int)(int64_t)op->args[0];
    if (c->has_ret && ret >= 0)
        set_output(g, ret, RAX);
}

/* ---- block exits ------------------------------------------------------------------------ */
static void gen_exit(Gen *g, uint64_t val)
{
    movi(&g->e, RAX, val);
    jmp_abs(&g->e, g->cb->epilogue);
}

/* env->rip = pc, a goto_tb's (an offset from the page base in a
 * PC-relative block). Clobbers rax. */
static void gen_store_rip(Gen *g, uint64_t pc)
{
    Emitter *e = &g->e;
    const int32_t rip = (int32_t)offsetof(CPUX86State, rip);
    if (g->tb->pcrel) {
        em_rm(e, 0x8b, 1, true, RAX, RBP, -1, 0, (int32_t)offsetof(CPUX86State, tb_pc_base), false);
        em_rm(e, 0x8d, 1, true, RAX, RAX, -1, 0, (int32_t)pc, false);   /* lea rax, [rax + pc] */
    } else if (fits_i32((int64_t)pc)) {
        em_rm(e, 0xc7, 1, true, 0, RBP, -1, 0, rip, false);              /* mov qword [rip], imm32 */
        em_u32(e, (uint32_t)pc);
        return;
    } else {
        movi(e, RAX, pc);
    }
    em_rm(e, 0x89, 1, true, RAX, RBP, -1, 0, rip, false);
}

static uint32_t tb_offset(Gen *g)
{
    return (uint32_t)(emitter_off(&g->e, g->cb) - (size_t)((uint8_t *)g->tb->code - g->cb->rx));
}

/* The unchained way out of goto_tb n (jmp_reset_ofs): stores RIP, leaves. */
static void gen_exit_stub(Gen *g, int n, uint64_t pc)
{
    g->tb->jmp_reset_ofs[n] = tb_offset(g);
    gen_store_rip(g, pc);
    gen_exit(g, TB_EXIT_CHAIN(g->tb, n));
    /* A PC-relative block may chain only to blocks that are right for every
     * virtual PC it runs at (tb_set_jump): for the others (blocks on two
     * pages, mostly) the loop points the jump here, to the jump cache,
     * instead of having every pass come back to it. */
    g->tb->jmp_lookup_ofs[n] = 0;
    if (g->tb->pcrel && !log_enabled(LOG_EXEC | LOG_CPU)) {
        g->tb->jmp_lookup_ofs[n] = tb_offset(g);
        gen_store_rip(g, pc);
        movi(&g->e, RSI, TB_EXIT_CHAIN(g->tb, n));
        jmp_abs(&g->e, g->cb->jmp_cache_exit);
    }
}

/* The patched jump (unless a direct exit's jcc is), its way out later:
 * gen_exit_stubs, and the jump pointed there (patch_exit_jumps). */
static void gen_goto_tb(Gen *g, int n, uint64_t pc)
{
    Emitter *e = &g->e;
    if (!g->direct_exit[n]) {
        em_byte(e, 0xe9);
        g->tb->jmp_patch_ofs[n] = tb_offset(g);
        em_u32(e, 0);
    }
    if (g->nb_exit_stubs < (int)ARRAY_SIZE(g->exit_stub)) {
        g->exit_stub[g->nb_exit_stubs].n = (int8_t)n;
        g->exit_stub[g->nb_exit_stubs].pc = pc;
        g->nb_exit_stubs++;
        return;
    }
    gen_exit_stub(g, n, pc);
    patch_rel32(g->cb, (size_t)((uint8_t *)g->tb->code - g->cb->rx) + g->tb->jmp_patch_ofs[n],
                (size_t)((uint8_t *)g->tb->code - g->cb->rx) + g->tb->jmp_reset_ofs[n]);
}

static void gen_exit_stubs(Gen *g)
{
    for (int i = 0; i < g->nb_exit_stubs; i++)
        gen_exit_stub(g, g->exit_stub[i].n, g->exit_stub[i].pc);
}

/* After the labels' patching (a direct exit's jcc went to its label):
 * each deferred exit's jump goes to its stub until chained. */
static void patch_exit_jumps(Gen *g)
{
    size_t start = (size_t)((uint8_t *)g->tb->code - g->cb->rx);
    for (int i = 0; i < g->nb_exit_stubs; i++) {
        int n = g->exit_stub[i].n;
        patch_rel32(g->cb, start + g->tb->jmp_patch_ofs[n], start + g->tb->jmp_reset_ofs[n]);
    }
}

/* Labels bound to a chainable exit that one brcond alone reaches (the op
 * before the label does not fall through into it): that brcond's jcc is
 * patched to the successor itself, not to a jmp that is (one taken branch
 * instead of two on the way out). */
static void plan_direct_exits(Gen *g)
{
    TCGContext *s = g->s;
    int8_t refs[TCG_MAX_LABELS];
    memset(refs, 0, sizeof(int8_t) * (size_t)(s->nb_labels + 1));
    memset(g->label_exit, -1, sizeof(int8_t) * (size_t)(s->nb_labels + 1));
    memset(g->direct_exit, 0, sizeof(g->direct_exit));
    /* one walk (translation time): the labels right after an exit and
     * followed by a goto_tb are candidates until every jump is counted */
    int cand_label[TCG_MAX_LABELS], cand_exit[TCG_MAX_LABELS], nb_cand = 0;
    for (int i = 0; i < s->nb_ops; i++) {
        const TCGOp *op = &s->ops[i];
        int l = -1;
        if (op->opc == INDEX_op_brcond)
            l = (int)op->args[3];
        else if (op->opc == INDEX_op_br || op->opc == INDEX_op_goto_loop)
            l = (int)(int64_t)op->args[0];
        if (l >= 0 && l <= s->nb_labels && refs[l] < 2)
            refs[l]++;
        if (op->opc != INDEX_op_set_label || i == 0 || nb_cand == TCG_MAX_LABELS)
            continue;
        unsigned prev = s->ops[i - 1].opc;
        if (prev != INDEX_op_goto_tb && prev != INDEX_op_exit_tb && prev != INDEX_op_lookup_and_goto &&
            prev != INDEX_op_br)
            continue;
        int k = i + 1;
        while (k < s->nb_ops && s->ops[k].opc == INDEX_op_discard)
            k++;
        if (k < s->nb_ops && s->ops[k].opc == INDEX_op_goto_tb) {
            cand_label[nb_cand] = (int)op->args[0];
            cand_exit[nb_cand++] = (int)s->ops[k].args[0];
        }
    }
    for (int c = 0; c < nb_cand; c++)
        if (refs[cand_label[c]] == 1)
            g->label_exit[cand_label[c]] = (int8_t)cand_exit[c];
}

/* brcond to a direct exit's label: its jcc is the exit's patched jump. */
static bool gen_direct_exit_jcc(Gen *g, int label, TCGCond c)
{
    int n = g->label_exit[label];
    if (n < 0 || g->nb_carried)
        return false;
    sync_all(g, false);   /* plain movs: the flags survive */
    jump_to_label(g, label, cond_cc(c));
    g->tb->jmp_patch_ofs[n] = tb_offset(g) - 4;
    g->direct_exit[n] = true;
    return true;
}

/* The exit check's way out: a chained jump did not store RIP, so this
 * block stores its own start. */
static void gen_entry_exit(Gen *g, size_t jcc_patch)
{
    const TranslationBlock *tb = g->tb;
    size_t at = emitter_off(&g->e, g->cb);
    g->tb->entry_exit = (uint32_t)(at - (size_t)((uint8_t *)tb->code - g->cb->rx));
    patch_rel32(g->cb, jcc_patch, at);
    gen_store_rip(g, tb->pcrel ? tb->pc - TB_PAGE_BASE(tb->pc) : tb->pc);
    jmp_abs(&g->e, g->cb->exit0);
}

/* ---- entries ------------------------------------------------------------------------------ *
 * A block's code starts with its entries: [PC-relative set-up] [exit check]
 * [body]. The loop and the lookups enter at the start; chained jumps may
 * skip the set-up and, going forward, the exit check (chain_entry). */
static size_t gen_entries(Gen *g)
{
    Emitter *e = &g->e;
    TranslationBlock *tb = g->tb;
    size_t start = (size_t)((uint8_t *)tb->code - g->cb->rx);
    if (tb->pcrel) {   /* env->tb_pc_base = TB_PAGE_BASE(env->rip) */
        em_rm(e, 0x8b, 1, true, RAX, RBP, -1, 0, (int32_t)offsetof(CPUX86State, rip), false);
        em_rr(e, 0x81, 1, true, 4, RAX, false);          /* and rax, ~0xfff */
        em_u32(e, (uint32_t)TB_PAGE_BASE(~(uint64_t)0));
        em_rm(e, 0x89, 1, true, RAX, RBP, -1, 0, (int32_t)offsetof(CPUX86State, tb_pc_base), false);
    }
    tb->entry_checked = (uint16_t)(emitter_off(e, g->cb) - start);
    /* leave when the loop asked us to */
    em_rm(e, 0x83, 1, false, 7, R12, -1, 0, (int32_t)offsetof(TCGCPU, exit_flag), false);
    em_byte(e, 0);
    em_byte(e, 0x0f);
    em_byte(e, 0x85);
    size_t exit_patch = emitter_off(e, g->cb);
    em_u32(e, 0);   /* to gen_entry_exit */
    tb->entry_unchecked = (uint16_t)(emitter_off(e, g->cb) - start);
    if (log_enabled(LOG_JIT_COUNT)) {   /* add qword [r12 + stat_entries], 1: every entry passes here */
        em_rm(e, 0x83, 1, true, 0, R12, -1, 0, (int32_t)offsetof(TCGCPU, stat_entries), false);
        em_byte(e, 1);
    }
    return exit_patch;
}

/* Where a chained jump from tb enters dest. Past the set-up when dest's
 * page base is tb's; past the exit check too when the jump goes forward on
 * the page: every cycle of chained jumps then passes a check, so an exit
 * request is seen. Only into a block on one page: invalidating it then
 * invalidates tb too (both start on that page), so no valid block jumps
 * past the patched start of an invalid one. */
static uint32_t chain_entry(const TranslationBlock *tb, const TranslationBlock *dest)
{
    if (!tb_chain_keeps_page_base(tb, dest) || dest->phys_page2 != (uint64_t)-1)
        return 0;
    uint64_t from = tb->cs_base + tb->pc, to = dest->cs_base + dest->pc;
    if (!(tb->flags & HF_CS64_MASK)) {
        from = (uint32_t)from;
        to = (uint32_t)to;
    }
    bool forward = TB_PAGE_BASE(from) == TB_PAGE_BASE(to) && to > from;
    return forward ? dest->entry_unchecked : dest->entry_checked;
}

/* ---- the driver --------------------------------------------------------------------------- */
static bool x86_64_gen_code(TCGContext *s, TranslationBlock *tb)
{
    TCGCPU *t = tcg_current_cpu;
    CodeBuffer *cb = t->backend_state;
    if (!cb->gen)
        cb->gen = xmalloc(sizeof(Gen));
    Gen *g = cb->gen;
    g->s = s;
    g->tb = tb;
    g->cb = cb;
    g->nb_fwd = 0;
    g->nb_slow = 0;
    g->nb_stubs = 0;
    g->nb_fallback = 0;
    g->nb_exit_stubs = 0;
    g->nb_cold_pending = 0;
    g->nb_cold = 0;
    g->failed = false;
    g->locked = 0;
    g->fl.valid = false;
    g->fl.copy_dst = g->fl.copy_src = -1;
    g->fl.late_forget = -1;
    memset(g->label_bound, 0, sizeof(bool) * (size_t)(s->nb_labels + 1));
    for (int r = 0; r < 16; r++)
        g->reg_temp[r] = -1;
    for (int i = 0; i < s->nb_temps; i++) {
        TCGTempKind k = s->temps[i].kind;
        g->ts[i].val = (k == TEMP_GLOBAL || k == TEMP_LOCAL) ? TS_MEM : TS_DEAD;
        g->ts[i].reg = -1;
        g->ts[i].coherent = true;
    }

    size_t start = ALIGN_UP(cb->used, 16);
    emitter_at(&g->e, cb, start, cb->size);
    Emitter *e = &g->e;
    tb->code = cb->rx + start;

    size_t entry_exit_patch = gen_entries(g);
    plan_loop(g);
    plan_direct_exits(g);
    loop_caches_reset(g);   /* past every entry point */

    int insn = -1;
    for (int n = 0; n < s->nb_ops && !g->failed && !e->overflow; n++) {
        const TCGOp *op = &s->ops[n];
        g->locked = 0;
        g->prefer_callee = tcg_op_defs[op->opc].nb_oargs && (int64_t)op->args[0] >= 0 &&
                           s->temps[(int)op->args[0]].kind == TEMP_GLOBAL;
        flags_before_op(g, op);
        if (op->flags & TCG_COLD) {   /* for the next access's slow path */
            cold_queue(g, op);
            continue;
        }
        if (g->nb_cold_pending && !tcg_op_is_guest_mem(op->opc))
            cold_flush_inline(g);
        switch (op->opc) {
        case INDEX_op_discard: {
            int tt = (int)(int64_t)op->args[0];
            if (tt <= 0 || loop_keep_discarded(g, tt))
                break;
            if (g->ts[tt].val == TS_REG && g->reg_temp[g->ts[tt].reg] == tt)
                reg_free(g, g->ts[tt].reg);
            if (s->temps[tt].kind == TEMP_GLOBAL) {
                /* its value no longer matters: no write-back */
                g->ts[tt].val = TS_MEM;
                g->ts[tt].reg = -1;
                g->ts[tt].coherent = true;
            } else {
                g->ts[tt].val = TS_DEAD;
            }
            break;
        }
        case INDEX_op_movi: {
            int td = (int)op->args[0];
            TCGTempKind k = s->temps[td].kind;
            if (k == TEMP_NORMAL || (k == TEMP_GLOBAL && fits_i32((int64_t)op->args[1]))) {
                if (g->ts[td].val == TS_REG && g->reg_temp[g->ts[td].reg] == td)
                    reg_free(g, g->ts[td].reg);
                g->ts[td].val = TS_CONST;
                g->ts[td].cst = op->args[1];
                g->ts[td].reg = -1;
                if (k == TEMP_GLOBAL)
                    g->ts[td].coherent = false;
            } else {
                int r = g->ts[td].val == TS_REG ? g->ts[td].reg : reg_alloc(g, 0);
                movi(e, r, op->args[1]);
                set_output(g, td, r);
            }
            break;
        }
        case INDEX_op_mov:
            if (g->ts[(int)op->args[1]].val == TS_CONST && s->temps[(int)op->args[0]].kind == TEMP_NORMAL) {
                int td = (int)op->args[0];
                if (g->ts[td].val == TS_REG)
                    reg_free(g, g->ts[td].reg);
                g->ts[td].val = TS_CONST;
                g->ts[td].cst = g->ts[(int)op->args[1]].cst;
                free_dead_inputs(g, op, 1, 1);
                break;
            }
            gen_unary(g, op);
            break;
        case INDEX_op_add: case INDEX_op_sub: case INDEX_op_and: case INDEX_op_or:
        case INDEX_op_xor: case INDEX_op_mul:
            gen_alu(g, op);
            break;
        case INDEX_op_shl:
            if (n + 1 < s->nb_ops && gen_scaled_add(g, op, &s->ops[n + 1])) {
                n++;
                break;
            }
            gen_shift(g, op);
            break;
        case INDEX_op_shr: case INDEX_op_sar: case INDEX_op_rotl: case INDEX_op_rotr:
            gen_shift(g, op);
            break;
        case INDEX_op_neg: case INDEX_op_not: case INDEX_op_bswap:
        case INDEX_op_ext8s: case INDEX_op_ext8u: case INDEX_op_ext16s: case INDEX_op_ext16u:
        case INDEX_op_ext32s: case INDEX_op_ext32u:
            gen_unary(g, op);
            break;
        case INDEX_op_mulu2: case INDEX_op_muls2:
            gen_mul2(g, op);
            break;
        case INDEX_op_deposit:
            gen_deposit(g, op);
            break;
        case INDEX_op_fpop:
            gen_fpop(g, op);
            break;
        case INDEX_op_vecop:
            gen_vecop(g, op);
            break;
        case INDEX_op_setcond:
            if (n + 1 < s->nb_ops && gen_setcond_into_byte(g, op, &s->ops[n + 1])) {
                n++;
                flags_before_op(g, &s->ops[n]);   /* the deposit's output changed */
                break;
            }
            gen_setcond(g, op);
            break;
        case INDEX_op_movcond:
            gen_movcond(g, op);
            break;
        case INDEX_op_brcond: {
            TCGCond c = (TCGCond)op->args[2];
            if (c == TCG_COND_NEVER)
                break;
            if (c == TCG_COND_ALWAYS) {
                if (g->nb_carried)
                    to_label_state(g);
                else
                    sync_all(g, false);
                jump_to_label(g, (int)op->args[3], 0xff);
                break;
            }
            c = emit_compare(g, c, op->flags & TCG_W32, (int)op->args[0], (int)op->args[1]);
            free_dead_inputs(g, op, 0, 2);
            if (gen_direct_exit_jcc(g, (int)op->args[3], c))
                break;
            if (g->nb_carried) {
                gen_loop_brcond(g, (int)op->args[3], c);
                break;
            }
            sync_all(g, false);   /* plain movs: the flags survive */
            jump_to_label(g, (int)op->args[3], cond_cc(c));
            break;
        }
        case INDEX_op_br:
            if (g->nb_carried)
                to_label_state(g);
            else
                sync_all(g, false);
            jump_to_label(g, (int)op->args[0], 0xff);
            break;
        case INDEX_op_set_label: {
            /* a loop block's labels keep the carried globals in registers */
            if (g->nb_carried)
                to_label_state(g);
            else
                sync_all(g, true);
            int l = (int)op->args[0];
            g->label_off[l] = emitter_off(e, cb);
            g->label_bound[l] = true;
            break;
        }
        case INDEX_op_ld:
            gen_host_ld(g, op);
            break;
        case INDEX_op_st:
            gen_host_st(g, op);
            break;
        case INDEX_op_qemu_ld: case INDEX_op_qemu_st:
        case INDEX_op_qemu_ld_probe: case INDEX_op_qemu_st_probe:
        case INDEX_op_qemu_ld_reuse: case INDEX_op_qemu_st_reuse:
            gen_guest_mem(g, op);
            break;
        case INDEX_op_qemu_probe:
            gen_guest_probe(g, op);
            break;
        case INDEX_op_call:
            gen_call(g, op);
            break;
        case INDEX_op_insn_start:
            if (insn >= 0 && (unsigned)insn < tb->icount)
                tb->insn_host_end[insn] = (uint32_t)(emitter_off(e, cb) - start);
            insn++;
            break;
        case INDEX_op_goto_tb:
            sync_all(g, false);
            gen_goto_tb(g, (int)op->args[0], op->args[1]);
            break;
        case INDEX_op_exit_tb:
            sync_all(g, false);
            gen_exit(g, op->args[0]);
            break;
        case INDEX_op_goto_loop:
            gen_goto_loop(g, (int)(int64_t)op->args[0]);
            break;
        case INDEX_op_lookup_and_goto:
            gen_lookup_and_goto(g, op);
            break;
        case INDEX_op_ras_push:
            gen_ras_record(g, op);
            break;
        default:
            g->failed = true;
            break;
        }
    }
    if (insn >= 0 && (unsigned)insn < tb->icount)
        tb->insn_host_end[insn] = (uint32_t)(emitter_off(e, cb) - start);
    /* fallbacks first: they patch their slow paths' jumps */
    for (int i = 0; i < g->nb_fallback && !e->overflow; i++)
        emit_mem_fallback(g, &g->fallback[i]);
    for (int i = 0; i < g->nb_slow && !e->overflow; i++)
        emit_slow_path(g, &g->slow[i]);
    for (int i = 0; i < g->nb_stubs && !e->overflow; i++)
        emit_edge_stub(g, &g->stubs[i]);
    if (!e->overflow)
        gen_exit_stubs(g);
    if (!e->overflow)
        gen_entry_exit(g, entry_exit_patch);
    if (e->overflow)
        return false;
    if (g->failed)
        fatal("x86_64 backend: cannot generate code for the block at 0x%" PRIx64, tb->pc);
    for (int i = 0; i < g->nb_fwd; i++) {
        int l = g->fwd[i].label;
        if (!g->label_bound[l])
            fatal("x86_64 backend: branch to an unbound label");
        patch_rel32(cb, g->fwd[i].patch, g->label_off[l]);
    }
    patch_exit_jumps(g);
    size_t end = emitter_off(e, cb);
    tb->code_size = (uint32_t)(end - start);
    cb->used = end;
    return true;
}

/* ---- runtime ------------------------------------------------------------------------------ */
static void emit_runtime(CodeBuffer *cb)
{
    Emitter em, *e = &em;
    emitter_at(e, cb, 0, cb->size);
    cb->prologue = em_rx(e);
    static const int saved[] = { RBP, RBX, R12, R13, R14, R15 };
    for (unsigned i = 0; i < ARRAY_SIZE(saved); i++) {
        em_rex(e, false, 0, 0, saved[i], false);
        em_byte(e, (uint8_t)(0x50 + (saved[i] & 7)));
    }
    em_rr(e, 0x81, 1, true, 5, RSP, false);   /* sub rsp, FRAME_SIZE */
    em_u32(e, FRAME_SIZE);
    mov_rr(e, RBP, RDI);
    mov_rr(e, R12, RSI);
    em_rr(e, 0xff, 1, false, 4, RDX, false);  /* jmp rdx */

    cb->exit0 = em_rx(e);
    movi(e, RAX, 0);
    cb->epilogue = em_rx(e);
    em_rr(e, 0x81, 1, true, 0, RSP, false);   /* add rsp, FRAME_SIZE */
    em_u32(e, FRAME_SIZE);
    for (int i = (int)ARRAY_SIZE(saved) - 1; i >= 0; i--) {
        em_rex(e, false, 0, 0, saved[i], false);
        em_byte(e, (uint8_t)(0x58 + (saved[i] & 7)));
    }
    em_byte(e, 0xc3);
    uintptr_t victim = em_rx(e);
    emit_victim_probes(cb, e);
    emit_jmp_cache_exit(cb, e);
    emit_jmp_cache_lookup(cb, e);
    uintptr_t end = em_rx(e);
    perfmap_note_runtime(cb->prologue, victim - cb->prologue, "prologue-epilogue");
    perfmap_note_runtime(victim, cb->jmp_cache_exit - victim, "victim-tlb-probes");
    perfmap_note_runtime(cb->jmp_cache_exit, cb->jmp_cache_lookup - cb->jmp_cache_exit, "jmp-cache-exit");
    perfmap_note_runtime(cb->jmp_cache_lookup, end - cb->jmp_cache_lookup, "jmp-cache-lookup");
    cb->first_tb = ALIGN_UP(emitter_off(e, cb), 64);
    cb->used = cb->first_tb;
}

static bool x86_64_init(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    host_has_bmi2 = __builtin_cpu_supports("bmi2");
    return true;
}

static CodeBuffer *buffer_of(TCGCPU *t)
{
    if (!t->backend_state) {
        CodeBuffer *cb = code_buffer_new();
        emit_runtime(cb);
        t->backend_state = cb;
    }
    return t->backend_state;
}

static uintptr_t x86_64_exec(CPUX86State *env, TranslationBlock *tb)
{
    TCGCPU *t = tcg_cpu(env);
    CodeBuffer *cb = buffer_of(t);
    uintptr_t (*entry)(void *, void *, void *) = (uintptr_t (*)(void *, void *, void *))cb->prologue;
    return entry(env, t, tb->code);
}

static void x86_64_set_jump(TranslationBlock *tb, int n, TranslationBlock *dest)
{
    CodeBuffer *cb = tcg_current_cpu->backend_state;
    size_t at = (size_t)((uint8_t *)tb->code - cb->rx) + tb->jmp_patch_ofs[n];
    size_t target = (size_t)((uint8_t *)tb->code - cb->rx) + tb->jmp_reset_ofs[n];
    if (dest)
        target = (size_t)((uint8_t *)dest->code - cb->rx) + chain_entry(tb, dest);
    patch_rel32(cb, at, target);
}

static void x86_64_set_jump_lookup(TranslationBlock *tb, int n)
{
    CodeBuffer *cb = tcg_current_cpu->backend_state;
    size_t code = (size_t)((uint8_t *)tb->code - cb->rx);
    if (tb->jmp_lookup_ofs[n])
        patch_rel32(cb, code + tb->jmp_patch_ofs[n], code + tb->jmp_lookup_ofs[n]);
}

/* Overwrites the 5 bytes at offset at of the code buffer with a jmp to target. */
static void write_jmp_at(CodeBuffer *cb, size_t at, uintptr_t target)
{
    Emitter em;
    emitter_at(&em, cb, at, at + 5);
    jmp_abs(&em, target);
}

/* Every way in now leaves: its start (the loop, lookups and, into a block
 * on two pages, chained jumps enter there) jumps to the exit with RIP
 * stored. A PC-relative block's start is entered with RIP set only (its
 * page base is not set yet there), so it leaves straight. Chained jumps past
 * the start come from blocks that may stay valid (a store invalidates only
 * the blocks it hits): the body's first bytes, where both later entries
 * lead (entry_checked falls through its exit check to entry_unchecked),
 * jump to the exit too, which stores this block's PC (from the page base
 * those jumps keep). The entries are more than 5 bytes apart. */
static void x86_64_invalidate(TranslationBlock *tb)
{
    CodeBuffer *cb = tcg_current_cpu->backend_state;
    size_t at = (size_t)((uint8_t *)tb->code - cb->rx);
    uintptr_t entry_exit = (uintptr_t)tb->code + tb->entry_exit;
    write_jmp_at(cb, at, tb->pcrel ? cb->exit0 : entry_exit);
    write_jmp_at(cb, at + tb->entry_unchecked, entry_exit);
}

/* Each way into tb goes on at the same entry of dest (the same code, flags
 * and PC): its start (the loop, lookups), and where chained jumps enter,
 * past the PC-relative set-up and past the exit check (chain_entry). The
 * entries are more than 5 bytes apart. */
static void x86_64_redirect(TranslationBlock *tb, TranslationBlock *dest)
{
    CodeBuffer *cb = tcg_current_cpu->backend_state;
    const uint32_t from[3] = { 0, tb->entry_checked, tb->entry_unchecked };
    const uint32_t to[3] = { 0, dest->entry_checked, dest->entry_unchecked };
    for (int i = 0; i < 3; i++) {
        if (i > 0 && from[i] == from[i - 1])
            continue;
        write_jmp_at(cb, (size_t)((uint8_t *)tb->code - cb->rx) + from[i], (uintptr_t)dest->code + to[i]);
    }
}

static void x86_64_reset(void)
{
    TCGCPU *t = tcg_current_cpu;
    if (t && t->backend_state) {
        CodeBuffer *cb = t->backend_state;
        cb->used = cb->first_tb;
    }
}

static int x86_64_insn_from_ra(TranslationBlock *tb, uintptr_t ra)
{
    uintptr_t off = ra - (uintptr_t)tb->code;
    for (unsigned i = 0; i < tb->icount; i++)
        if (off <= tb->insn_host_end[i])
            return (int)i;
    return (int)tb->icount - 1;
}

static void x86_64_dump(TranslationBlock *tb)
{
    log_printf("OUT: [size=%u]\n", tb->code_size);
    log_disas_x86(tb->code, tb->code_size, (uintptr_t)tb->code, 64);
    log_printf("\n");
}

static void x86_64_free_state(TCGCPU *t)
{
    CodeBuffer *cb = t->backend_state;
    if (!cb)
        return;
    munmap(cb->rx, cb->size);
    if (cb->rw != cb->rx)
        munmap(cb->rw, cb->size);
    free(cb->gen);
    free(cb);
    t->backend_state = NULL;
}

static bool x86_64_gen_code_entry(TCGContext *s, TranslationBlock *tb)
{
    buffer_of(tcg_current_cpu);
    return x86_64_gen_code(s, tb);
}

const TCGBackend tcg_backend_x86_64 = {
    .name = "x86_64",
    .init = x86_64_init,
    .gen_code = x86_64_gen_code_entry,
    .exec = x86_64_exec,
    .set_jump = x86_64_set_jump,
    .set_jump_lookup = x86_64_set_jump_lookup,
    .invalidate = x86_64_invalidate,
    .redirect = x86_64_redirect,
    .reset = x86_64_reset,
    .insn_from_ra = x86_64_insn_from_ra,
    .dump = x86_64_dump,
    .free_state = x86_64_free_state,
};
