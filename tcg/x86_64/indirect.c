/* Indirect control transfer in the x86-64 backend: the jump to the block at
 * env->rip (indirect jumps, returns, cross-page jumps), first through the
 * transfer site's own link (xlink.c), then with the jump cache
 * probed inline in 64-bit code before the C lookup (accel/tcg-jmp-cache.c
 * keeps its entries exact, so a PC and a tag compare decide), and the
 * return stack: CALLs record their return address and the block after them
 * (RetSlot, RasEntry in accel/tcg-cpu.h), RETs that pop what was recorded
 * jump there without a lookup. */
#include "system/log.h"
#include "tcg/x86_64/backend.h"

#define ENV_OFF(f) ((int32_t)offsetof(CPUX86State, f))
#define CPU_OFF(f) ((int32_t)offsetof(TCGCPU, f))
#define JC_OFF(f) (CPU_OFF(jmp_cache) + (int32_t)offsetof(JmpCacheEntry, f))
#define RAS_OFF(f) (CPU_OFF(ras) + (int32_t)offsetof(RasEntry, f))
#define ENV_RSP (ENV_OFF(regs) + R_ESP * 8)

bool tcg_return_stack;

static uintptr_t lookup_code(CPUX86State *env)
{
    tcg_cpu(env)->stat_lookup_slow++;
    TranslationBlock *tb = tb_lookup_fast(env);
    CodeBuffer *cb = tcg_cpu(env)->backend_state;
    return tb ? (uintptr_t)tb->code : cb->exit0;
}

/* A jcc rel32 to be patched to the miss path. */
static size_t em_jcc_fwd(Emitter *e, const CodeBuffer *cb, uint8_t cc)
{
    em_byte(e, 0x0f);
    em_byte(e, (uint8_t)(0x80 | cc));
    size_t at = emitter_off(e, cb);
    em_u32(e, 0);
    return at;
}

static size_t jcc_fwd(Gen *g, uint8_t cc)
{
    return em_jcc_fwd(&g->e, g->cb, cc);
}

enum { CC_E = 0x4, CC_NE = 0x5 };

/* Which epoch the probe expects: the jump's targets are most likely on
 * pages like the block's own, global (the kernel's) or not. Either way a
 * hit is exact; the wrong guess only sends entries to the C lookup. */
static int32_t probe_epoch_tag(Gen *g)
{
    const TranslationBlock *tb = g->tb;
    bool global = !tb->pcrel && tlb_code_page_global(tcg_current_cpu->env, tb->cs_base + tb->pc);
    return global ? CPU_OFF(jc_gepoch_tag) : CPU_OFF(jc_epoch_tag);
}

/* A jcc rel32 to target, in the code buffer (as jmp_abs). */
static void jcc_abs(Emitter *e, uint8_t cc, uintptr_t target)
{
    em_byte(e, 0x0f);
    em_byte(e, (uint8_t)(0x80 | cc));
    em_u32(e, (uint32_t)(target - (em_rx(e) + 4)));
}

/* rax = env->rip, rcx = its jump-cache set * 64 */
static void em_jmp_cache_set(Emitter *e)
{
    _Static_assert(sizeof(JmpCacheEntry) == 32 && JMP_CACHE_WAYS == 2, "a set is 64 bytes");
    em_rm(e, 0x8b, 1, true, RAX, RBP, -1, 0, ENV_OFF(rip), false);
    mov_rr(e, RCX, RAX);
    em_rr(e, 0xc1, 1, true, 5, RCX, false);            /* shr rcx, JMP_CACHE_SET_BITS */
    em_byte(e, JMP_CACHE_SET_BITS);
    em_rr(e, 0x31, 1, false, RAX, RCX, false);         /* xor ecx, eax */
    em_rr(e, 0x81, 1, false, 4, RCX, false);           /* and ecx, sets - 1 */
    em_u32(e, (1u << JMP_CACHE_SET_BITS) - 1);
    em_rr(e, 0xc1, 1, false, 4, RCX, false);           /* shl ecx, 6 */
    em_byte(e, 6);
}

/* cmp rdx, [r12 + set + entry_tag] after rdx = hflags | [epoch tag]; set:
 * a register (rcx), or -1 for a constant set already in entry_tag */
static void em_tag_compare(Emitter *e, int32_t epoch_tag, int set, int32_t entry_tag)
{
    em_rm(e, 0x8b, 1, false, RDX, RBP, -1, 0, ENV_OFF(hflags), false);
    em_rm(e, 0x0b, 1, true, RDX, R12, -1, 0, epoch_tag, false);   /* or rdx, [epoch tag] */
    em_rm(e, 0x3b, 1, true, RDX, R12, set, 0, entry_tag, false);
}

static void em_cs_base_zero(Emitter *e)
{
    em_rm(e, 0x83, 1, true, 7, RBP, -1, 0,
          ENV_OFF(segs) + (int32_t)(R_CS * sizeof(SegmentCache) + offsetof(SegmentCache, base)), false);
    em_byte(e, 0);                                     /* cmp qword [cs.base], 0 */
}

/* -d jitcount: add qword [r12 + off], 1 (flags are dead between blocks) */
static void em_count(Emitter *e, int32_t off)
{
    if (log_enabled(LOG_JIT_COUNT))
        em_count_u64(e, off);
}

/* Swap the two ways of the set at rcx: a block found in way 1 moves to way
 * 0, where the inline probes look, and the other becomes the one the next
 * store replaces. Clobbers xmm0-xmm3 (no value lives in them between
 * blocks). */
static void em_jmp_cache_promote(Emitter *e)
{
    _Static_assert(JMP_CACHE_WAYS == 2 && sizeof(JmpCacheEntry) == 32, "a set is two 32-byte ways");
    const int32_t set = CPU_OFF(jmp_cache);
    for (int x = 0; x < 4; x++)
        em_movdqu(e, false, x, RCX, set + 16 * x);
    for (int x = 0; x < 4; x++)                                /* way 0's halves to way 1 and back */
        em_movdqu(e, true, x, RCX, set + 16 * (x ^ 2));
}

/* The whole jump-cache probe for the block at env->rip: an entry of its
 * set with rip as pc and tag jc_tag(hflags, either epoch) is the block to
 * run in 64-bit code, where a block's flags are hflags, provided the CS
 * base is zero (entries of other blocks carry a tag no mode has). Jumps to
 * it; falls through on a miss. Clobbers rax, rcx, rdx. */
static void em_jmp_cache_probe_all(Emitter *e, CodeBuffer *cb)
{
    size_t miss[8];
    unsigned n = 0;
    em_count(e, CPU_OFF(stat_jc_runtime));
    em_jmp_cache_set(e);
    for (int way = 0; way < JMP_CACHE_WAYS; way++) {
        int32_t off = way * (int32_t)sizeof(JmpCacheEntry);
        em_rm(e, 0x3b, 1, true, RAX, R12, RCX, 0, JC_OFF(pc) + off, false);
        size_t next_way = em_jcc_fwd(e, cb, CC_NE);
        em_tag_compare(e, CPU_OFF(jc_epoch_tag), RCX, JC_OFF(tag) + off);
        size_t tag_ok = em_jcc_fwd(e, cb, CC_E);
        em_tag_compare(e, CPU_OFF(jc_gepoch_tag), RCX, JC_OFF(tag) + off);
        miss[n++] = em_jcc_fwd(e, cb, CC_NE);
        patch_rel32(cb, tag_ok, emitter_off(e, cb));
        em_cs_base_zero(e);
        miss[n++] = em_jcc_fwd(e, cb, CC_NE);
        em_count(e, CPU_OFF(stat_jc_runtime_hit[way]));
        if (way > 0)
            em_jmp_cache_promote(e);
        em_rm(e, 0xff, 1, false, 4, R12, RCX, 0, JC_OFF(code), false);   /* jmp [way 0's code] */
        patch_rel32(cb, next_way, emitter_off(e, cb));
    }
    for (unsigned i = 0; i < n; i++)
        patch_rel32(cb, miss[i], emitter_off(e, cb));
}

/* 64-bit code's inline probe: the set's first way, with the epoch the
 * site expects (probe_epoch_tag); anything else goes to the runtime's
 * whole probe and then the C lookup (emit_jmp_cache_lookup). When the
 * translator knew the target (expect: a direct jump to another page) the
 * set is a constant; the entry's PC is compared all the same (a
 * PC-relative block may run elsewhere), and the whole probe hashes
 * env->rip. The CS base is zero here: in 64-bit code it counts as zero
 * (x86_cs_base), and a block that leaves 64-bit code for a CS with another
 * base goes through the loop (helper_end_block_needs_loop). */
static void gen_jmp_cache_probe(Gen *g, uint64_t expect)
{
    Emitter *e = &g->e;
    uintptr_t slow = g->cb->jmp_cache_lookup;
    int set = RCX;
    int32_t off = 0;
    if (expect == TCG_RIP_UNKNOWN) {
        em_jmp_cache_set(e);
    } else {
        em_rm(e, 0x8b, 1, true, RAX, RBP, -1, 0, ENV_OFF(rip), false);
        set = -1;
        off = (int32_t)(jmp_cache_hash(expect) * JMP_CACHE_WAYS * sizeof(JmpCacheEntry));
    }
    em_rm(e, 0x3b, 1, true, RAX, R12, set, 0, JC_OFF(pc) + off, false);
    jcc_abs(e, CC_NE, slow);
    em_tag_compare(e, probe_epoch_tag(g), set, JC_OFF(tag) + off);
    jcc_abs(e, CC_NE, slow);
    em_rm(e, 0xff, 1, false, 4, R12, set, 0, JC_OFF(code) + off, false);   /* jmp [entry.code] */
}

/* The runtime's end of an indirect jump whose inline probe missed: the
 * whole probe, then the C lookup. */
void emit_jmp_cache_lookup(CodeBuffer *cb, Emitter *e)
{
    cb->jmp_cache_lookup = em_rx(e);
    em_jmp_cache_probe_all(e, cb);
    mov_rr(e, RDI, RBP);
    call_abs(e, (uintptr_t)lookup_code);
    em_rr(e, 0xff, 1, false, 4, RAX, false);   /* jmp rax */
}

/* The runtime's jump out of a PC-relative block through a goto_tb the loop
 * may not chain (gen_goto_tb): env->rip is stored and rsi holds the exit
 * value, which it leaves with when the jump cache does not have the block. */
void emit_jmp_cache_exit(CodeBuffer *cb, Emitter *e)
{
    cb->jmp_cache_exit = em_rx(e);
    em_jmp_cache_probe_all(e, cb);
    mov_rr(e, RAX, RSI);
    jmp_abs(e, cb->epilogue);
}

/* idx = ras_index(rsp) * sizeof(RasEntry), from rsp in the same register */
static void ras_offset(Emitter *e, int r)
{
    _Static_assert(sizeof(RasEntry) == 32, "the return stack scales by 32 = 8 << 2");
    em_rr(e, 0x81, 1, false, 4, r, false);             /* and r32, (size - 1) << 3 */
    em_u32(e, (RAS_SIZE - 1) << 3);
    em_rr(e, 0xc1, 1, false, 4, r, false);             /* shl r32, 2 */
    em_byte(e, 2);
}

/* The return stack's entry for a CALL that pushed op's input 1 at RSP input
 * 0: (return address, tag, the call site's slot). */
void gen_ras_record(Gen *g, const TCGOp *op)
{
    Emitter *e = &g->e;
    RetSlot *slot = NULL;
    /* (not in a self-looping block, whose registers are laid out for the loop) */
    if (tcg_return_stack && (g->tb->flags & HF_CS64_MASK) && !log_enabled(LOG_EXEC | LOG_CPU) && !g->nb_carried)
        slot = tb_arena_alloc(tcg_current_cpu, sizeof(*slot));
    if (slot) {
        *slot = (RetSlot){ .code = NULL, .phys_page = g->tb->phys_pc & TARGET_PAGE_MASK, .flags = g->tb->flags };
        int rsp = temp_load(g, (int)op->args[0], 0);
        int val = temp_load(g, (int)op->args[1], 0);
        int idx = reg_alloc(g, 0);
        g->locked |= 1 << idx;
        int tmp = reg_alloc(g, 0);
        g->locked |= 1 << tmp;
        em_rr(e, 0x89, 1, false, rsp, idx, false);     /* mov idx32, rsp32 */
        ras_offset(e, idx);
        em_rm(e, 0x89, 1, true, val, R12, idx, 0, RAS_OFF(rip), false);
        em_rm(e, 0x8b, 1, true, tmp, R12, -1, 0, CPU_OFF(jc_epoch_tag), false);
        em_rr(e, 0x81, 1, true, 1, tmp, false);        /* or tmp, flags */
        em_u32(e, g->tb->flags);
        em_rm(e, 0x89, 1, true, tmp, R12, idx, 0, RAS_OFF(tag), false);
        movi(e, tmp, (uintptr_t)slot);
        em_rm(e, 0x89, 1, true, tmp, R12, idx, 0, RAS_OFF(slot), false);
    }
    free_dead_inputs(g, op, 0, 2);
}

/* Where a RET whose slot was empty goes: the block at env->rip, recorded in
 * the call site's slot when it is one the slot may hold. */
static uintptr_t ras_fill(CPUX86State *env, RetSlot *slot)
{
    tcg_cpu(env)->stat_lookup_slow++;
    TranslationBlock *tb = tb_lookup_fast(env);
    if (!tb)
        return ((CodeBuffer *)tcg_cpu(env)->backend_state)->exit0;
    if (ras_slot_accepts(slot, tb))
        slot->code = tb->code;
    return (uintptr_t)tb->code;
}

/* A RET that added pop to RSP: when the entry at the RSP it popped from
 * holds env->rip and this block's flags and the current epoch, go to its
 * block. Falls through otherwise. */
static void gen_ras_pop(Gen *g, uint64_t pop)
{
    Emitter *e = &g->e;
    size_t miss[2];
    em_rm(e, 0x8b, 1, true, RAX, RBP, -1, 0, ENV_RSP, false);
    em_rr(e, 0x81, 1, true, 5, RAX, false);            /* sub rax, pop */
    em_u32(e, (uint32_t)pop);
    ras_offset(e, RAX);
    em_rm(e, 0x8b, 1, true, RDX, RBP, -1, 0, ENV_OFF(rip), false);
    em_rm(e, 0x3b, 1, true, RDX, R12, RAX, 0, RAS_OFF(rip), false);
    miss[0] = jcc_fwd(g, CC_NE);
    em_rm(e, 0x8b, 1, true, RCX, R12, -1, 0, CPU_OFF(jc_epoch_tag), false);
    em_rr(e, 0x81, 1, true, 1, RCX, false);            /* or rcx, flags */
    em_u32(e, g->tb->flags);
    em_rm(e, 0x3b, 1, true, RCX, R12, RAX, 0, RAS_OFF(tag), false);
    miss[1] = jcc_fwd(g, CC_NE);
    em_rm(e, 0x8b, 1, true, RSI, R12, RAX, 0, RAS_OFF(slot), false);
    em_rm(e, 0x8b, 1, true, RDX, RSI, -1, 0, (int32_t)offsetof(RetSlot, code), false);
    em_rr(e, 0x85, 1, true, RDX, RDX, false);          /* test rdx, rdx */
    size_t fill = jcc_fwd(g, CC_E);
    em_count(e, CPU_OFF(stat_ras_hits));
    em_rr(e, 0xff, 1, false, 4, RDX, false);           /* jmp rdx */
    patch_rel32(g->cb, fill, emitter_off(e, g->cb));
    mov_rr(e, RDI, RBP);
    call_abs(e, (uintptr_t)ras_fill);
    em_rr(e, 0xff, 1, false, 4, RAX, false);           /* jmp rax */
    for (unsigned i = 0; i < ARRAY_SIZE(miss); i++)
        patch_rel32(g->cb, miss[i], emitter_off(e, g->cb));
}

void gen_lookup_and_goto(Gen *g, const TCGOp *op)
{
    Emitter *e = &g->e;
    sync_all(g, false);
    unsigned kind = (unsigned)op->args[1];
    if (tcg_xfer_stats)   /* inc qword [stat_xfer[kind]] */
        em_rm(e, 0xff, 1, true, 0, R12, -1, 0, CPU_OFF(stat_xfer[kind]), false);
    if ((g->tb->flags & HF_CS64_MASK) && !log_enabled(LOG_EXEC | LOG_CPU)) {
        if (gen_xlink_site(g, op) && tcg_xfer_stats)
            em_rm(e, 0xff, 1, true, 0, R12, -1, 0, CPU_OFF(stat_xfer_probe[kind]), false);
        if (tcg_return_stack && op->args[0] && g->tb->flags <= INT32_MAX)
            gen_ras_pop(g, op->args[0]);
        gen_jmp_cache_probe(g, op->args[2]);
        return;
    }
    mov_rr(e, RDI, RBP);
    call_abs(e, (uintptr_t)lookup_code);
    em_rr(e, 0xff, 1, false, 4, RAX, false);   /* jmp rax */
}
