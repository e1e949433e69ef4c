/* Memory ops of the x86-64 backend: guest accesses with the inline softmmu TLB
 * fast path (single, probe, reuse), their out-of-line slow paths, and host
 * ld/st on env. */
#include "system/log.h"
#include "tcg/x86_64/backend.h"

/* ---- guest memory ------------------------------------------------------------------------ */

static MemAccess decode_mem_op(const TCGOp *op)
{
    MemAccess m = { .t_addend_out = -1, .t_addend_in = -1 };
    const TCGArg *a = op->args;
    switch (op->opc) {
    case INDEX_op_qemu_ld_probe:
        m = (MemAccess){ false, (unsigned)a[3], (int)a[4], (int)a[0], (int)a[2], (int)a[1], -1, a[5], 2, 1 };
        break;
    case INDEX_op_qemu_st_probe:
        m = (MemAccess){ true, (unsigned)a[3], (int)a[4], (int)a[1], (int)a[2], (int)a[0], -1, a[5], 1, 2 };
        break;
    case INDEX_op_qemu_ld_reuse:
        m = (MemAccess){ false, (unsigned)a[3], (int)a[4], (int)a[0], (int)a[1], -1, (int)a[2], 0, 1, 2,
                         (int32_t)a[5] };
        break;
    case INDEX_op_qemu_st_reuse:
        m = (MemAccess){ true, (unsigned)a[3], (int)a[4], (int)a[0], (int)a[1], -1, (int)a[2], 0, 0, 3,
                         (int32_t)a[5] };
        break;
    default:
        m.is_store = op->opc == INDEX_op_qemu_st;
        m.memop = (unsigned)a[2];
        m.mmu = (int)a[3];
        m.t_data = (int)a[0];
        m.t_addr = (int)a[1];
        m.first_in = m.is_store ? 0 : 1;
        m.n_in = m.is_store ? 2 : 1;
        break;
    }
    return m;
}

static unsigned access_perms(bool is_store, unsigned memop)
{
    return is_store || (memop & MO_RMW) ? TCG_WINDOW_WRITE : TCG_WINDOW_READ;
}

static void emit_jcc_rel32(Gen *g, uint8_t cc, size_t *patch)
{
    em_byte(&g->e, 0x0f);
    em_byte(&g->e, (uint8_t)(0x80 | cc));
    *patch = emitter_off(&g->e, g->cb);
    em_u32(&g->e, 0);
}

/* BMI2 on the host: RORX copies and shifts in one instruction. */
bool host_has_bmi2;

/* d = TLB entry offset of a's page: ((a >> 12) & (TLB_SIZE - 1)) << 5. The
 * rotate leaves the same bits in place as the shift (the mask drops the rest). */
static void emit_tlb_index(Emitter *e, int d, int a)
{
    if (host_has_bmi2 && d != a) {
        em_byte(e, 0xc4);                                  /* rorx d, a, 7 (VEX.LZ.F2.0F3A.W1 F0) */
        em_byte(e, (uint8_t)(((d & 8) ? 0 : 0x80) | 0x40 | ((a & 8) ? 0 : 0x20) | 0x03));
        em_byte(e, 0xfb);
        em_byte(e, 0xf0);
        em_byte(e, (uint8_t)(0xc0 | ((d & 7) << 3) | (a & 7)));
    } else {
        mov_rr(e, d, a);
        em_rr(e, 0xc1, 1, true, 5, d, false);              /* shr d, 12 - 5 */
    }
    em_byte(e, TARGET_PAGE_BITS - 5);
    em_rr(e, 0x81, 1, false, 4, d, false);                 /* and d32, mask << 5 */
    em_u32(e, (TLB_SIZE - 1) << 5);
}

/* The TLB check of the bytes [addr + lo, addr + lo + len) for the accesses
 * in perms: t1 = the entry's offset (kept for loading the addend), t2 =
 * the page of the last byte, compared with the entry's tag(s); each
 * mismatch jumps to a patch returned in patch[]. Returns their count. */
static int emit_tlb_check(Gen *g, int ra, int32_t lo, unsigned len, unsigned perms, int t1, int t2,
                          int32_t ent, size_t patch[2])
{
    Emitter *e = &g->e;
    int32_t last = lo + (int32_t)len - 1;
    if (lo) {
        em_rm(e, 0x8d, 1, true, t1, ra, -1, 0, lo, false);   /* lea t1, [a + lo] */
        emit_tlb_index(e, t1, t1);
    } else {
        emit_tlb_index(e, t1, ra);
    }
    if (last)
        em_rm(e, 0x8d, 1, true, t2, ra, -1, 0, last, false);  /* lea t2, [a + last] */
    else
        mov_rr(e, t2, ra);
    em_rr(e, 0x81, 1, true, 4, t2, false);                 /* and t2, page mask */
    em_u32(e, (uint32_t)TARGET_PAGE_MASK);
    int n = 0;
    static const struct { unsigned perm; int32_t off; } tags[] = {
        { TCG_WINDOW_READ, offsetof(TLBEntry, addr_read) },
        { TCG_WINDOW_WRITE, offsetof(TLBEntry, addr_write) },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(tags); i++) {
        if (!(perms & tags[i].perm))
            continue;
        em_rm(e, 0x3b, 1, true, t2, R12, t1, 0, ent + tags[i].off, false);   /* cmp t2, [r12 + t1 + tag] */
        emit_jcc_rel32(g, 0x5, &patch[n++]);
    }
    return n;
}

static int32_t tlb_table_offset(int mmu)
{
    return (int32_t)(offsetof(TCGCPU, tlb) + (size_t)mmu * TLB_SIZE * sizeof(TLBEntry));
}

static void emit_host_access(Emitter *e, bool is_store, unsigned memop, int data, int ra, int radd,
                             int32_t disp)
{
    if (is_store)
        store_mem(e, memop, data, ra, radd, disp);
    else
        load_mem(e, memop & MO_VALUE, data, ra, radd, disp);
}

/* A helper-call record for this access, with the dirty globals to write
 * back first (the helper may fault). NULL when the block has too many. */
static SlowPath *slow_path_new(Gen *g)
{
    if (g->nb_slow >= (int)ARRAY_SIZE(g->slow) || g->nb_fallback >= (int)ARRAY_SIZE(g->fallback)) {
        g->failed = true;
        return NULL;
    }
    SlowPath *sp = &g->slow[g->nb_slow++];
    sp->nsync = 0;
    sp->none_reg = -1;
    sp->addr_disp = 0;
    for (int r = 0; r < 16; r++) {
        int t = g->reg_temp[r];
        if (t >= 0 && g->s->temps[t].kind == TEMP_GLOBAL && !g->ts[t].coherent) {
            sp->sync[sp->nsync].reg = (int8_t)r;
            sp->sync[sp->nsync].off = g->s->temps[t].env_offset;
            sp->nsync++;
        }
    }
    for (int t = 1; t < g->s->nb_globals && sp->nsync < ARRAY_SIZE(sp->sync); t++) {
        if (g->ts[t].val == TS_CONST && !g->ts[t].coherent) {
            sp->sync[sp->nsync].reg = -1;
            sp->sync[sp->nsync].off = g->s->temps[t].env_offset;
            sp->sync[sp->nsync].imm = (int32_t)g->ts[t].cst;
            sp->nsync++;
        }
    }
    return sp;
}

/* Allocatable registers that hold no value and are not locked by the op. */
static uint16_t idle_regs(const Gen *g)
{
    uint16_t m = 0;
    for (int r = 0; r < 16; r++)
        if ((ALLOCATABLE & ~g->locked & (1 << r)) && g->reg_temp[r] < 0)
            m |= (uint16_t)(1 << r);
    return m;
}

/* Inline: a plain access does the full check; a probe checks its whole
 * window and outputs the addend; a reuse tests the addend it was given.
 * Whatever fails goes out of line (MemFallback, then SlowPath; a reuse with
 * a displacement straight to the SlowPath: it has no address register). */
void gen_guest_mem(Gen *g, const TCGOp *op)
{
    MemAccess m = decode_mem_op(op);
    bool probe = m.t_addend_out >= 0, reuse = m.t_addend_in >= 0;
    int cache = probe || reuse ? -1 : loop_cache_of(g, op);
    unsigned size = 1u << (m.memop & MO_SIZE);
    int ra = temp_load(g, m.t_addr, 0);
    int rv = m.is_store ? temp_load(g, m.t_data, 0) : -1;
    int radd_in = reuse ? temp_load(g, m.t_addend_in, 0) : -1;
    bool folded = reuse && m.disp;
    int t1 = -1, t2 = -1;       /* t2: a probe's addend output */
    if (!folded || !m.is_store) {
        t1 = reg_alloc(g, 0);
        g->locked |= 1 << t1;
    }
    if (!folded) {
        t2 = reg_alloc(g, 0);
        g->locked |= 1 << t2;
    }
    Emitter *e = &g->e;
    cold_before_slow_path(g);
    SlowPath *sp = slow_path_new(g);
    if (!sp)
        return;
    cold_attach(g, sp);
    int32_t ent = tlb_table_offset(m.mmu);
    /* a load's result may take the address register when the address dies */
    int rd = m.is_store ? rv
             : (op->dead & 1) && m.t_addr > 0 && g->s->temps[m.t_addr].kind != TEMP_GLOBAL ? ra : t1;
    if (!m.is_store) {
        int home = loop_home_reg(g, op, (1 << t1) | (t2 >= 0 ? 1 << t2 : 0));
        if (home >= 0)
            rd = home;   /* a loop's global loaded straight into its register */
    }
    size_t jumps[2];
    int nj;
    if (reuse) {
        em_rr(e, 0xf6, 1, false, 0, radd_in, true);        /* test radd8, 1 */
        em_byte(e, TCG_ADDEND_NONE);
        emit_jcc_rel32(g, 0x5, &jumps[0]);
        nj = 1;
        emit_host_access(e, m.is_store, m.memop, rd, ra, radd_in, m.disp);
    } else if (cache >= 0) {
        const AccessCache *c = &g->cache[cache];
        if (log_enabled(LOG_JIT_COUNT)) {   /* add qword [r12 + uses], 1 */
            em_rm(e, 0x83, 1, true, 0, R12, -1, 0, (int32_t)offsetof(TCGCPU, stat_cache_uses), false);
            em_byte(e, 1);
        }
        mov_rr(e, t1, ra);
        em_rr(e, 0x81, 1, true, 4, t1, false);             /* and t1, page mask | (size - 1) */
        em_u32(e, (uint32_t)TARGET_PAGE_MASK | (size - 1));
        em_rm(e, 0x3b, 1, true, t1, RSP, -1, 0, c->tag_slot, false);       /* cmp t1, [rsp + tag] */
        emit_jcc_rel32(g, 0x5, &jumps[0]);
        nj = 1;
        em_rm(e, 0x8b, 1, true, t2, RSP, -1, 0, c->addend_slot, false);    /* mov t2, [rsp + addend] */
        emit_host_access(e, m.is_store, m.memop, rd, ra, t2, 0);
    } else {
        int32_t lo = probe ? tcg_window_lo(m.window) : 0;
        unsigned len = probe ? tcg_window_len(m.window) : size;
        unsigned perms = probe ? tcg_window_perms(m.window) : access_perms(m.is_store, m.memop);
        nj = emit_tlb_check(g, ra, lo, len, perms, t1, t2, ent, jumps);
        em_rm(e, 0x8b, 1, true, t2, R12, t1, 0, ent + (int32_t)offsetof(TLBEntry, addend), false);
        emit_host_access(e, m.is_store, m.memop, rd, ra, t2, 0);
    }
    uintptr_t done = em_rx(e);
    if (probe || reuse || cache >= 0) {
        MemFallback *fb = &g->fallback[g->nb_fallback++];
        *fb = (MemFallback){ .npatch = nj, .is_store = m.is_store, .memop = m.memop, .mmu = m.mmu,
                             .addr_reg = (int8_t)ra, .data_reg = (int8_t)rd, .t1 = (int8_t)t1,
                             .t2 = (int8_t)t2, .none_reg = (int8_t)(probe ? t2 : -1),
                             .disp = folded ? m.disp : 0, .done_rx = done, .slow = (int)(sp - g->slow),
                             .cache = cache };
        memcpy(fb->patch, jumps, sizeof(jumps));
        if (folded)
            fb->free_regs = idle_regs(g) & ~(1 << rd) & ~(1 << ra) & ~(1 << radd_in);
    } else {
        sp->jne_patch = jumps[0];
    }
    sp->is_store = m.is_store;
    sp->memop = m.memop;
    sp->mmu = m.mmu;
    sp->addr_reg = ra;
    sp->addr_disp = folded ? m.disp : 0;
    sp->data_reg = rd;
    sp->done_rx = done;
    sp->none_reg = (int8_t)(probe ? t2 : -1);
    sp->t1 = (int8_t)(folded ? -1 : t1);
    sp->t2 = (int8_t)(folded ? -1 : t2);
    uint16_t save = 0;
    for (int r = 0; r < 16; r++)
        if ((CALLER_SAVED & (1 << r)) && g->reg_temp[r] >= 0 && (m.is_store || r != rd))
            save |= 1 << r;
    if (!m.is_store && rd != ra)
        save &= ~(1 << rd);
    sp->save = save;
    free_dead_inputs(g, op, m.first_in, m.n_in);
    if (!m.is_store)
        set_output(g, m.t_data, rd);
    if (probe)
        set_output(g, m.t_addend_out, t2);
    cold_done(g);
}

static void emit_push(Emitter *e, int r)
{
    em_rex(e, false, 0, 0, r, false);
    em_byte(e, (uint8_t)(0x50 + (r & 7)));
}

static void emit_pop(Emitter *e, int r)
{
    em_rex(e, false, 0, 0, r, false);
    em_byte(e, (uint8_t)(0x58 + (r & 7)));
}

/* Point the rel8 at offset at the emitter's position (less than 128 bytes on). */
static void patch_rel8(CodeBuffer *cb, const Emitter *e, size_t at)
{
    if (at < cb->size)
        cb->rw[at] = (uint8_t)(emitter_off(e, cb) - (at + 1));
}

/* The single-access check of a reuse with a folded displacement: it has no
 * registers of its own for the address and the TLB check, so it takes
 * three, idle ones first, others saved on the stack around it. Without
 * this, every such access of a group whose shared probe failed (its window
 * straddles a page, as a stack frame does for some stack placements)
 * called the C slow path. */
static void emit_folded_fallback(Gen *g, MemFallback *fb)
{
    Emitter *e = &g->e;
    int r[3], n = 0;
    for (int c = 0; c < 16 && n < 3; c++)
        if (fb->free_regs & (1 << c))
            r[n++] = c;
    int first_push = n;
    /* busy ones, saved: never the address or the data */
    for (int c = 0; c < 16 && n < 3; c++)
        if ((ALLOCATABLE & (1 << c)) && !(fb->free_regs & (1 << c)) && c != fb->addr_reg && c != fb->data_reg)
            r[n++] = c;
    for (int i = first_push; i < 3; i++)
        emit_push(e, r[i]);
    unsigned size = 1u << (fb->memop & MO_SIZE);
    int32_t ent = tlb_table_offset(fb->mmu);
    size_t miss[2];
    em_rm(e, 0x8d, 1, true, r[0], fb->addr_reg, -1, 0, fb->disp, false);   /* lea r0, [addr + disp] */
    int nm = emit_tlb_check(g, r[0], 0, size, access_perms(fb->is_store, fb->memop), r[1], r[2], ent, miss);
    em_rm(e, 0x8b, 1, true, r[2], R12, r[1], 0, ent + (int32_t)offsetof(TLBEntry, addend), false);
    emit_host_access(e, fb->is_store, fb->memop, fb->data_reg, r[0], r[2], 0);
    for (int i = 2; i >= first_push; i--)
        emit_pop(e, r[i]);
    jmp_abs(e, fb->done_rx);
    /* a miss: the victim TLB (r[0] the address, r[2] its last byte's
     * page), then the registers back as they were and the helper call */
    for (int i = 0; i < nm; i++)
        patch_rel32(g->cb, miss[i], emitter_off(e, g->cb));
    bool write = fb->is_store || (fb->memop & MO_RMW);
    uintptr_t fn = g->cb->victim_probe[fb->mmu][write][r[1]][r[2]];
    if (fn) {
        mov_rr(e, r[1], r[0]);
        em_byte(e, 0xe8);                                  /* call fn */
        em_u32(e, (uint32_t)(int32_t)((int64_t)fn - (int64_t)(em_rx(e) + 4)));
        em_byte(e, 0x75);                                  /* jne helper */
        size_t victim_miss = emitter_off(e, g->cb);
        em_byte(e, 0);
        emit_host_access(e, fb->is_store, fb->memop, fb->data_reg, r[0], r[2], 0);
        for (int i = 2; i >= first_push; i--)
            emit_pop(e, r[i]);
        jmp_abs(e, fb->done_rx);
        patch_rel8(g->cb, e, victim_miss);
    }
    for (int i = 2; i >= first_push; i--)
        emit_pop(e, r[i]);
    em_byte(e, 0xe9);
    g->slow[fb->slow].jne_patch = emitter_off(e, g->cb);
    em_u32(e, 0);
}

/* The single-access check, for a probe or reuse op whose shared one failed. */
void emit_mem_fallback(Gen *g, MemFallback *fb)
{
    Emitter *e = &g->e;
    for (int i = 0; i < fb->npatch; i++)
        patch_rel32(g->cb, fb->patch[i], emitter_off(e, g->cb));
    if (fb->disp) {
        emit_folded_fallback(g, fb);
        return;
    }
    unsigned size = 1u << (fb->memop & MO_SIZE);
    int32_t ent = tlb_table_offset(fb->mmu);
    size_t miss[2];
    emit_tlb_check(g, fb->addr_reg, 0, size, access_perms(fb->is_store, fb->memop), fb->t1, fb->t2, ent, miss);
    g->slow[fb->slow].jne_patch = miss[0];
    if (fb->cache >= 0)   /* t2: the page, which the entry at the address's index holds */
        em_rm(e, 0x89, 1, true, fb->t2, RSP, -1, 0, g->cache[fb->cache].tag_slot, false);
    em_rm(e, 0x8b, 1, true, fb->t2, R12, fb->t1, 0, ent + (int32_t)offsetof(TLBEntry, addend), false);
    if (fb->cache >= 0) {
        em_rm(e, 0x89, 1, true, fb->t2, RSP, -1, 0, g->cache[fb->cache].addend_slot, false);
        if (log_enabled(LOG_JIT_COUNT)) {   /* add qword [r12 + refills], 1 */
            em_rm(e, 0x83, 1, true, 0, R12, -1, 0, (int32_t)offsetof(TCGCPU, stat_cache_refills), false);
            em_byte(e, 1);
        }
    }
    emit_host_access(e, fb->is_store, fb->memop, fb->data_reg, fb->addr_reg, fb->t2, 0);
    if (fb->none_reg >= 0)
        movi(e, fb->none_reg, TCG_ADDEND_NONE);
    jmp_abs(e, fb->done_rx);
}

/* The victim probe's hit: swap the victim entry at r12 + t1 with the main
 * entry of page t2 (their TLBExtra too), so that a hot page a colder one
 * pushed out of the main table is found inline again, and leave the addend
 * in t2. Uses a pushed scratch register and xmm0-xmm3 (no value lives in
 * them). The main slot was filled since the last flush (the victim entry
 * came from it) or holds a global entry: the fill log needs nothing. */
static void emit_victim_swap(Emitter *e, int mmu, int t1, int t2)
{
    _Static_assert(sizeof(TLBEntry) == 32 && sizeof(TLBExtra) == 16, "entries are 32 bytes, extras 16");
    const int32_t main_base = (int32_t)offsetof(TCGCPU, tlb[mmu]);
    const int32_t victim_base = (int32_t)offsetof(TCGCPU, tlb_victim[mmu]);
    int s = (t1 != RAX && t2 != RAX) ? RAX : (t1 != RCX && t2 != RCX) ? RCX : RDX;
    em_rex(e, false, 0, 0, s, false);
    em_byte(e, (uint8_t)(0x50 + (s & 7)));                 /* push s */
    emit_tlb_index(e, s, t2);                               /* s = main entry offset in tlb[mmu] */
    for (int x = 0; x < 2; x++) {
        em_movdqu(e, false, x, t1, 16 * x);
        em_movdqu(e, false, 2 + x, s, main_base + 16 * x);
    }
    for (int x = 0; x < 2; x++) {
        em_movdqu(e, true, x, s, main_base + 16 * x);
        em_movdqu(e, true, 2 + x, t1, 16 * x);
    }
    em_rm(e, 0x8b, 1, true, t2, R12, s, 0, main_base + (int32_t)offsetof(TLBEntry, addend), false);
    em_rr(e, 0xd1, 1, true, 5, s, false);                  /* shr s, 1: the extra's offset */
    em_rr(e, 0x81, 1, true, 5, t1, false);                 /* sub t1, victim_base */
    em_u32(e, (uint32_t)victim_base);
    em_rr(e, 0xd1, 1, true, 5, t1, false);                 /* shr t1, 1 */
    const int32_t main_x = (int32_t)offsetof(TCGCPU, tlb_extra[mmu]);
    const int32_t victim_x = (int32_t)offsetof(TCGCPU, tlb_victim_extra[mmu]);
    em_movdqu(e, false, 0, t1, victim_x);
    em_movdqu(e, false, 1, s, main_x);
    em_movdqu(e, true, 0, s, main_x);
    em_movdqu(e, true, 1, t1, victim_x);
    em_rex(e, false, 0, 0, s, false);
    em_byte(e, (uint8_t)(0x58 + (s & 7)));                 /* pop s */
    em_rr(e, 0x39, 1, true, t1, t1, false);                /* cmp t1, t1: ZF set, a hit */
}

/* Victim TLB probes: before its helper call, a slow path looks for the page
 * among the victim TLB's entries itself, and on a hit swaps that entry with
 * the main table's. Two hot pages whose TLB slots collide (guest ASLR places
 * heap, stack and mmap areas at random, so some layouts have such pairs;
 * without it, the stack's top pages and those at the top of the mmap area
 * are 128 MiB apart, a multiple of the table's 16 MiB) then cost this
 * instead of a helper call; a hot page that a colder one pushed out comes
 * back at its first use (without the swap it stayed in the victim TLB:
 * 83M-450M probes in a workload run with guest ASLR, 0.8M with it). The
 * entries are exact translations, as the main table's are; an access that
 * crosses a page still goes to the helper.
 *
 * One probe per MMU index, kind of access and register pair, called by the
 * slow paths (a copy in each would make a fifth more code): t1 holds the
 * address, t2 the page of its last byte; on return ZF is set and t2 holds
 * the addend when an entry matched; t1 is clobbered. */
static void emit_victim_probe_fn(CodeBuffer *cb, Emitter *e, int mmu, bool write, int t1, int t2)
{
    int32_t tag = write ? (int32_t)offsetof(TLBEntry, addr_write) : (int32_t)offsetof(TLBEntry, addr_read);
    int32_t base = (int32_t)(offsetof(TCGCPU, tlb_victim) + (size_t)mmu * TLB_VICTIM_SIZE * sizeof(TLBEntry));
    int32_t end = base + (int32_t)(TLB_VICTIM_SIZE * sizeof(TLBEntry));
    const bool count = log_enabled(LOG_JIT_COUNT);
    if (count)   /* add qword [r12 + probes], 1 (the flags are set below) */
        em_count_u64(e, (int32_t)offsetof(TCGCPU, stat_victim_probes));
    em_rr(e, 0x31, 1, true, t2, t1, false);                /* xor t1, t2 */
    em_rr(e, 0xc1, 1, true, 5, t1, false);                 /* shr t1, 12: 0 when on t2's page */
    em_byte(e, TARGET_PAGE_BITS);
    em_byte(e, 0x75);                                      /* jnz miss */
    size_t cross = emitter_off(e, cb);
    em_byte(e, 0);
    em_rr(e, 0xc7, 1, false, 0, t1, false);                /* mov t1d, base */
    em_u32(e, (uint32_t)base);
    size_t loop = emitter_off(e, cb);
    em_rm(e, 0x3b, 1, true, t2, R12, t1, 0, tag, false);   /* cmp t2, [r12 + t1 + tag] */
    em_byte(e, 0x74);                                      /* je hit */
    size_t hit = emitter_off(e, cb);
    em_byte(e, 0);
    em_rr(e, 0x83, 1, true, 0, t1, false);                 /* add t1, entry size */
    em_byte(e, (uint8_t)sizeof(TLBEntry));
    em_rr(e, 0x81, 1, false, 7, t1, false);                /* cmp t1d, end */
    em_u32(e, (uint32_t)end);
    em_byte(e, 0x75);                                      /* jne loop */
    em_byte(e, (uint8_t)(int8_t)(loop - (emitter_off(e, cb) + 1)));
    patch_rel8(cb, e, cross);
    em_rr(e, 0x85, 1, true, RSP, RSP, false);              /* miss: test rsp, rsp (ZF clear) */
    em_byte(e, 0xc3);                                      /* ret */
    patch_rel8(cb, e, hit);
    emit_victim_swap(e, mmu, t1, t2);
    if (count) {
        em_count_u64(e, (int32_t)offsetof(TCGCPU, stat_victim_probe_hits[mmu]));
        em_rr(e, 0x39, 1, true, t1, t1, false);            /* cmp t1, t1: ZF again */
    }
    em_byte(e, 0xc3);                                      /* ret (ZF set) */
}

void emit_victim_probes(CodeBuffer *cb, Emitter *e)
{
    for (int m = 0; m < MMU_MODES; m++)
        for (int w = 0; w < 2; w++)
            for (int t1 = 0; t1 < 16; t1++)
                for (int t2 = 0; t2 < 16; t2++) {
                    if (t1 == t2 || !(ALLOCATABLE & (1 << t1)) || !(ALLOCATABLE & (1 << t2))) {
                        cb->victim_probe[m][w][t1][t2] = 0;
                        continue;
                    }
                    cb->victim_probe[m][w][t1][t2] = em_rx(e);
                    emit_victim_probe_fn(cb, e, m, w, t1, t2);
                }
}

/* The slow path's call of its victim probe; a hit does the access here. */
static void emit_victim_probe(Gen *g, const SlowPath *sp)
{
    Emitter *e = &g->e;
    bool write = sp->is_store || (sp->memop & MO_RMW);
    uintptr_t fn = g->cb->victim_probe[sp->mmu][write][sp->t1][sp->t2];
    if (!fn)
        return;
    mov_rr(e, sp->t1, sp->addr_reg);
    em_byte(e, 0xe8);                                      /* call fn */
    em_u32(e, (uint32_t)(int32_t)((int64_t)fn - (int64_t)(em_rx(e) + 4)));
    em_byte(e, 0x75);                                      /* jne helper */
    size_t miss = emitter_off(e, g->cb);
    em_byte(e, 0);
    emit_host_access(e, sp->is_store, sp->memop, sp->data_reg, sp->addr_reg, sp->t2, 0);
    if (sp->none_reg >= 0)
        movi(e, sp->none_reg, TCG_ADDEND_NONE);
    jmp_abs(e, sp->done_rx);
    patch_rel8(g->cb, e, miss);
}

void emit_slow_path(Gen *g, SlowPath *sp)
{
    Emitter *e = &g->e;
    patch_rel32(g->cb, sp->jne_patch, emitter_off(e, g->cb));
    if (sp->t1 >= 0 && sp->t2 >= 0)
        emit_victim_probe(g, sp);
    for (int i = 0; i < sp->nsync; i++) {
        if (sp->sync[i].reg < 0) {
            em_rm(e, 0xc7, 1, true, 0, RBP, -1, 0, sp->sync[i].off, false);
            em_u32(e, (uint32_t)sp->sync[i].imm);
        } else {
            em_rm(e, 0x89, 1, true, sp->sync[i].reg, RBP, -1, 0, sp->sync[i].off, false);
        }
    }
    if (sp->cold_n)   /* after the write-back: a cold result replaces an older value */
        emit_cold_code(g, &g->cold[sp->cold_first], sp->cold_n);
    int n = 0;
    for (int r = 0; r < 16; r++) {
        if (sp->save & (1 << r)) {
            em_rex(e, false, 0, 0, r, false);
            em_byte(e, (uint8_t)(0x50 + (r & 7)));
            n++;
        }
    }
    if (n & 1)
        em_rr(e, 0x83, 1, true, 5, RSP, false), em_byte(e, 8);   /* sub rsp, 8 */
    if (sp->is_store) {
        /* value -> rdx, address -> rsi, whatever registers they are in */
        em_rex(e, false, 0, 0, sp->data_reg, false);
        em_byte(e, (uint8_t)(0x50 + (sp->data_reg & 7)));
        em_rex(e, false, 0, 0, sp->addr_reg, false);
        em_byte(e, (uint8_t)(0x50 + (sp->addr_reg & 7)));
        em_byte(e, 0x58 + RSI);
        em_byte(e, 0x58 + RDX);
        if (sp->addr_disp)
            em_rm(e, 0x8d, 1, true, RSI, RSI, -1, 0, sp->addr_disp, false);   /* lea rsi, [rsi + disp] */
        mov_rr(e, RDI, RBP);
        movi(e, RCX, sp->memop);
        movi(e, R8, (uint64_t)sp->mmu);
        em_rex(e, true, 0, 0, R9, false);
        em_byte(e, (uint8_t)(0xb8 + (R9 & 7)));
        em_u64(e, sp->done_rx);
        call_abs(e, (uintptr_t)tcg_st_slow);
    } else {
        if (sp->addr_disp)
            em_rm(e, 0x8d, 1, true, RSI, sp->addr_reg, -1, 0, sp->addr_disp, false);
        else
            mov_rr(e, RSI, sp->addr_reg);
        mov_rr(e, RDI, RBP);
        movi(e, RDX, sp->memop);
        movi(e, RCX, (uint64_t)sp->mmu);
        em_rex(e, true, 0, 0, R8, false);
        em_byte(e, (uint8_t)(0xb8 + (R8 & 7)));
        em_u64(e, sp->done_rx);
        call_abs(e, (uintptr_t)tcg_ld_slow);
        mov_rr(e, sp->data_reg, RAX);
    }
    if (n & 1)
        em_rr(e, 0x83, 1, true, 0, RSP, false), em_byte(e, 8);   /* add rsp, 8 */
    for (int r = 15; r >= 0; r--) {
        if (sp->save & (1 << r)) {
            em_rex(e, false, 0, 0, r, false);
            em_byte(e, (uint8_t)(0x58 + (r & 7)));
        }
    }
    if (sp->none_reg >= 0)
        movi(e, sp->none_reg, TCG_ADDEND_NONE);
    jmp_abs(e, sp->done_rx);
}

/* ---- host memory ld/st ------------------------------------------------------------------- */
void gen_host_ld(Gen *g, const TCGOp *op)
{
    int td = (int)op->args[0], tbase = (int)op->args[1];
    int32_t off = (int32_t)op->args[2];
    int rb = temp_load(g, tbase, 0);
    int rd = reg_alloc(g, 0);
    g->locked |= 1 << rd;
    load_mem(&g->e, (unsigned)op->args[3], rd, rb, -1, off);
    free_dead_inputs(g, op, 1, 1);
    set_output(g, td, rd);
}

void gen_host_st(Gen *g, const TCGOp *op)
{
    int tv = (int)op->args[0], tbase = (int)op->args[1];
    int32_t off = (int32_t)op->args[2];
    unsigned memop = (unsigned)op->args[3];
    int64_t v;
    int rb = temp_load(g, tbase, 0);
    if (is_const(g, tv, &v) && fits_i32(v) && (memop & MO_SIZE) >= MO_32) {
        em_rm(&g->e, 0xc7, 1, (memop & MO_SIZE) == MO_64, 0, rb, -1, 0, off, false);
        em_u32(&g->e, (uint32_t)v);
    } else {
        int rv = temp_load(g, tv, 0);
        store_mem(&g->e, memop, rv, rb, -1, off);
    }
    free_dead_inputs(g, op, 0, 2);
}

/* -d jitcount: add qword [r12 + counter], 1 (the host flags are dead here). */
static void emit_jit_count(Emitter *e, int32_t counter)
{
    if (!log_enabled(LOG_JIT_COUNT))
        return;
    em_rm(e, 0x83, 1, true, 0, R12, -1, 0, counter, false);
    em_byte(e, 1);
}

/* qemu_probe: the window's TLB check alone; the addend, or the odd "none"
 * when it fails (no access, so nothing to fault or call). */
void gen_guest_probe(Gen *g, const TCGOp *op)
{
    int td = (int)op->args[0], ta = (int)op->args[1], mmu = (int)op->args[2];
    uint64_t window = op->args[3];
    int ra = temp_load(g, ta, 0);
    int t1 = reg_alloc(g, 0);
    g->locked |= 1 << t1;
    int t2 = reg_alloc(g, 0);
    g->locked |= 1 << t2;
    Emitter *e = &g->e;
    int32_t ent = tlb_table_offset(mmu);
    size_t miss[2];
    emit_jit_count(e, (int32_t)offsetof(TCGCPU, stat_probe_runs));
    int nm = emit_tlb_check(g, ra, tcg_window_lo(window), tcg_window_len(window), tcg_window_perms(window),
                            t1, t2, ent, miss);
    em_rm(e, 0x8b, 1, true, t2, R12, t1, 0, ent + (int32_t)offsetof(TLBEntry, addend), false);
    em_byte(e, 0xe9);                                  /* jmp done */
    size_t done = emitter_off(e, g->cb);
    em_u32(e, 0);
    for (int i = 0; i < nm; i++)
        patch_rel32(g->cb, miss[i], emitter_off(e, g->cb));
    emit_jit_count(e, (int32_t)offsetof(TCGCPU, stat_probe_misses));
    if (tcg_window_perms(window) & TCG_WINDOW_WRITE)
        emit_jit_count(e, (int32_t)offsetof(TCGCPU, stat_probe_write_misses));
    if (log_enabled(LOG_JIT_COUNT)) {   /* the window's first and last bytes on two pages: count it */
        em_rm(e, 0x8d, 1, true, t1, ra, -1, 0, tcg_window_lo(window), false);   /* lea t1, [a + lo] */
        em_rr(e, 0x31, 1, true, t2, t1, false);        /* xor t1, t2 (t2: the last byte's page) */
        em_rr(e, 0xc1, 1, true, 5, t1, false);         /* shr t1, 12 */
        em_byte(e, TARGET_PAGE_BITS);
        em_byte(e, 0x74);                              /* jz one_page */
        size_t one_page = emitter_off(e, g->cb);
        em_byte(e, 0);
        emit_jit_count(e, (int32_t)offsetof(TCGCPU, stat_probe_crossing));
        patch_rel8(g->cb, e, one_page);
    }
    movi(e, t2, TCG_ADDEND_NONE);
    patch_rel32(g->cb, done, emitter_off(e, g->cb));
    free_dead_inputs(g, op, 1, 1);
    set_output(g, td, t2);
}
