/* The jump cache of a vCPU: linear PC -> translated block, looked up at
 * every indirect jump, return and cross-page jump (inline by the x86_64
 * backend for 64-bit code, see tcg/x86_64/indirect.c; by tb_find and
 * tb_lookup_fast otherwise).
 *
 * The inline probe compares two words: the PC and a tag holding the block's
 * flags and the epoch of the store. So whatever else a lookup used to check
 * is kept true of every entry instead: invalidated blocks are removed from
 * the cache, DR7 changes (which add TBF_DEBUG to the flags) clear it, and
 * blocks with a CS base the probe does not know get a tag it never matches.
 * A CR3 write makes the entries of non-global pages stale (their epoch
 * moves on), not those of global pages: the TLB keeps their translations. */
#include "accel/tcg-cpu.h"
#include "cpu/x86/exec.h"

/* Transfer sites linked in an older generation miss from now on; global:
 * the global sites' too. */
static void xlink_bump(TCGCPU *t, bool global)
{
    for (int i = 0; i <= (int)global; i++) {
        if (++t->xlink_gen[i] == 0) {
            /* an old site could match again after the wrap: drop all code
             * first (the loop does it; entries check the exit flag) */
            t->xlink_gen[i] = 1;
            pthread_mutex_lock(&t->inval_lock);
            t->inval_overflow = true;
            pthread_mutex_unlock(&t->inval_lock);
            atomic_store(&t->exit_flag, 1);
        }
    }
}

static void jc_ras_clear(TCGCPU *t)
{
    memset(t->ras, 0, sizeof(t->ras));
}

void tb_jmp_cache_clear(TCGCPU *t)
{
    memset(t->jmp_cache, 0, sizeof(t->jmp_cache));
    memset(t->jc_page_filter, 0, sizeof(t->jc_page_filter));
    t->jc_page_filter_set = 0;
    jc_ras_clear(t);
    /* the filter forgot the pages sites link to (and DR7 may have changed) */
    xlink_bump(t, true);
}

static unsigned jc_page_bit(uint64_t linear)
{
    uint64_t h = (linear >> TARGET_PAGE_BITS) * 0x9e3779b97f4a7c15ULL;
    return (unsigned)(h >> (64 - JMP_CACHE_PAGE_FILTER_BITS));
}

static bool jc_page_maybe_cached(TCGCPU *t, uint64_t linear)
{
    unsigned b = jc_page_bit(linear);
    return t->jc_page_filter[b / 64] & (1ULL << (b % 64));
}

static void jc_page_note(TCGCPU *t, uint64_t linear)
{
    unsigned b = jc_page_bit(linear);
    if (t->jc_page_filter[b / 64] & (1ULL << (b % 64)))
        return;
    /* a filter that says yes to too much filters nothing: start afresh */
    if (++t->jc_page_filter_set > (1u << JMP_CACHE_PAGE_FILTER_BITS) / 16) {
        tb_jmp_cache_clear(t);
        t->jc_page_filter_set = 1;
    }
    t->jc_page_filter[b / 64] |= 1ULL << (b % 64);
}

static void jc_set_epoch_tags(TCGCPU *t)
{
    t->jc_epoch_tag = jc_tag(0, t->jc_epoch * 2);
    t->jc_gepoch_tag = jc_tag(0, t->jc_gepoch * 2 + 1);
}

void tb_jmp_cache_init(TCGCPU *t)
{
    t->xlink_gen[0] = t->xlink_gen[1] = 1;   /* 0: a site not linked yet */
    tb_jmp_cache_clear(t);
    t->jc_epoch = t->jc_gepoch = 0;
    jc_set_epoch_tags(t);
}

/* Tags hold 31 bits of each epoch: after a wrap an old entry could look
 * current, so the cache starts empty instead. */
static void jc_epoch_next(TCGCPU *t, uint32_t *epoch)
{
    xlink_bump(t, epoch == &t->jc_gepoch);
    *epoch = (*epoch + 1) & 0x7fffffffu;
    if (*epoch == 0) {
        tb_jmp_cache_clear(t);
        t->jc_all_since = 0;
        memset(t->jc_since, 0, sizeof(t->jc_since));
    }
    jc_set_epoch_tags(t);
}

void tb_jmp_cache_mark_stale(TCGCPU *t)
{
    jc_epoch_next(t, &t->jc_epoch);
    jc_epoch_next(t, &t->jc_gepoch);
}

void tb_jmp_cache_mark_stale_nonglobal(TCGCPU *t)
{
    jc_epoch_next(t, &t->jc_epoch);
}

/* The current epoch field for an entry of tb at linear PC lin: the global
 * one when all of tb's pages are global in the TLB now. */
static uint32_t jc_epoch_field(TCGCPU *t, const TranslationBlock *tb, uint64_t lin)
{
    bool global = tlb_code_page_global(t->env, lin) &&
                  (tb->phys_page2 == (uint64_t)-1 ||
                   tlb_code_page_global(t->env, (lin & TARGET_PAGE_MASK) + TARGET_PAGE_SIZE));
    return global ? t->jc_gepoch * 2 + 1 : t->jc_epoch * 2;
}

static bool jc_tag_current(const TCGCPU *t, uint64_t tag)
{
    uint32_t ep = (uint32_t)(tag >> 32);
    return ep == ((ep & 1) ? t->jc_gepoch * 2 + 1 : t->jc_epoch * 2);
}

void tb_jmp_cache_drop_asid(TCGCPU *t, unsigned asid)
{
    tb_jmp_cache_mark_stale_nonglobal(t);
    t->jc_since[asid] = t->jc_epoch;
}

void tb_jmp_cache_drop_all(TCGCPU *t)
{
    tb_jmp_cache_mark_stale(t);
    t->jc_all_since = t->jc_epoch;
}

void tb_jmp_cache_clear_page(TCGCPU *t, uint64_t linear)
{
    /* Blocks starting on this page or the previous one (which may span into
     * it) must not be trusted as they are: revalidate the global ones and
     * those of the current PCID on use (INVLPG leaves other PCIDs alone),
     * unless no block ever started there. */
    uint64_t page = linear & TARGET_PAGE_MASK;
    if (jc_page_maybe_cached(t, page) || jc_page_maybe_cached(t, page - TARGET_PAGE_SIZE)) {
        tb_jmp_cache_mark_stale(t);
        t->jc_since[t->tlb_pcid] = t->jc_epoch;
    }
}

/* A non-global entry from an older epoch nothing of which was flushed
 * since: one of the current PCID, which CR3 writes to other PCIDs and back
 * with bit 63 keep (as they keep its TLB entries). */
static bool jc_still_valid(const TCGCPU *t, unsigned i, uint64_t tag)
{
    uint32_t ep = (uint32_t)(tag >> 32);
    unsigned asid = t->jmp_cache_asid[i];
    if (ep & 1)
        return false;   /* global: its own epoch says it all */
    ep /= 2;
    return asid == t->tlb_pcid && ep >= t->jc_all_since && ep >= t->jc_since[asid];
}

/* Index of the entry of set h that holds pc, or -1. e->pc is tb->pc
 * (jc_store sets both): most calls miss, and the entries answer that
 * without a cache miss on the block. */
static int jc_way(const TCGCPU *t, unsigned h, uint64_t pc)
{
    for (unsigned i = h * JMP_CACHE_WAYS; i < (h + 1) * JMP_CACHE_WAYS; i++)
        if (t->jmp_cache[i].tb && t->jmp_cache[i].pc == pc)
            return (int)i;
    return -1;
}

/* Move entry i of set h to the set's first way, where inline probes look
 * (the entries before it move down one): the set's ways stay in order of
 * last use, and a store replaces the least recently used. Returns the
 * first way's index. */
static unsigned jc_promote(TCGCPU *t, unsigned h, unsigned i)
{
    unsigned first = h * JMP_CACHE_WAYS;
    JmpCacheEntry e = t->jmp_cache[i];
    uint16_t asid = t->jmp_cache_asid[i];
    for (unsigned w = i; w > first; w--) {
        t->jmp_cache[w] = t->jmp_cache[w - 1];
        t->jmp_cache_asid[w] = t->jmp_cache_asid[w - 1];
    }
    t->jmp_cache[first] = e;
    t->jmp_cache_asid[first] = asid;
    return first;
}

TranslationBlock *jc_lookup(TCGCPU *t, unsigned h, uint64_t lin, uint64_t pc, uint64_t cs_base, uint32_t flags)
{
    int i = jc_way(t, h, pc);
    if (i < 0)
        return NULL;
    i = (int)jc_promote(t, h, (unsigned)i);
    JmpCacheEntry *e = &t->jmp_cache[i];
    TranslationBlock *tb = e->tb;
    if (tb->pc != pc || tb->cs_base != cs_base || tb->flags != flags || tb->cflags != 0)
        return NULL;
    if (jc_tag_current(t, e->tag))
        return tb;
    if (jc_still_valid(t, (unsigned)i, e->tag)) {
        t->stat_jc_kept++;
    } else {
        /* trusted again once its pages are seen to map as before */
        t->stat_jc_revalidations++;
        if (!tb_maps_at(t->env, tb, lin)) {
            t->stat_jc_stale++;
            return NULL;
        }
    }
    t->jmp_cache_asid[i] = (uint16_t)t->tlb_pcid;
    e->tag = jc_tag((uint32_t)e->tag, jc_epoch_field(t, tb, lin));
    return tb;
}

/* Where a new entry for pc goes in set h: the first way, over an entry
 * with the same PC (a block of other flags, or a stale one) moved there,
 * else over the least recently used entry moved there. */
static unsigned jc_slot_for(TCGCPU *t, unsigned h, uint64_t pc)
{
    int i = jc_way(t, h, pc);
    return jc_promote(t, h, i >= 0 ? (unsigned)i : h * JMP_CACHE_WAYS + JMP_CACHE_WAYS - 1);
}

void jc_store(TCGCPU *t, unsigned h, uint64_t lin, TranslationBlock *tb)
{
    jc_page_note(t, lin);
    unsigned i = jc_slot_for(t, h, tb->pc);
    JmpCacheEntry *e = &t->jmp_cache[i];
    e->pc = tb->pc;
    e->tag = jc_tag(tb->cs_base == 0 ? tb->flags : JC_TAG_NO_PROBE, jc_epoch_field(t, tb, lin));
    e->code = tb->code;
    e->tb = tb;
    t->jmp_cache_asid[i] = (uint16_t)t->tlb_pcid;
}

static uint64_t tb_linear_pc(const TranslationBlock *tb)
{
    uint64_t l = tb->cs_base + tb->pc;
    return (tb->flags & HF_CS64_MASK) ? l : (uint32_t)l;
}

void jc_remove(TCGCPU *t, const TranslationBlock *tb)
{
    if (tb->xlinked)
        xlink_bump(t, true);
    unsigned h = jmp_cache_hash(tb_linear_pc(tb));
    for (unsigned i = h * JMP_CACHE_WAYS; i < (h + 1) * JMP_CACHE_WAYS; i++)
        if (t->jmp_cache[i].tb == tb)
            memset(&t->jmp_cache[i], 0, sizeof(t->jmp_cache[i]));
}

/* May the call site's slot hold tb, the block its return went to? Only a
 * block on the caller's physical page (and that page alone), with the
 * caller's flags: the slot lives in the caller's code, which may run at
 * several virtual PCs (PC-relative code) and in several address spaces; the
 * return address is on the caller's virtual page, so wherever the caller
 * runs, it maps to this block's page, and the RET checked the flags. */
bool ras_slot_accepts(const RetSlot *slot, const TranslationBlock *tb)
{
    return tb->cflags == 0 && tb->cs_base == 0 && tb->flags == slot->flags &&
           tb->phys_page2 == (uint64_t)-1 && (tb->phys_pc & TARGET_PAGE_MASK) == slot->phys_page;
}

bool xlink_admit(TCGCPU *t, TranslationBlock *tb, uint64_t lin, bool *global, uint32_t *gen)
{
    if (tb->cflags != 0 || tb->cs_base != 0 || !(tb->flags & HF_CS64_MASK))
        return false;
    /* an INVLPG of its pages must move the generation on */
    jc_page_note(t, lin);
    tb->xlinked = true;
    *global = jc_epoch_field(t, tb, lin) & 1;
    *gen = t->xlink_gen[*global];
    return true;
}

/* DR7 changed: blocks looked up from now on may need TBF_DEBUG, which the
 * inline probe does not look at. */
void tcg_debug_regs_changed(CPUX86State *env)
{
    TCGCPU *t = tcg_cpu(env);
    if (t)
        tb_jmp_cache_clear(t);
}
