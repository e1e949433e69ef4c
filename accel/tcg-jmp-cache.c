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
 * moves on), not those of global pages: the TLB keeps their translations;
 * one back to a PCID whose TLB entries were kept makes that PCID's epoch
 * current again. */
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

/* Filter 1 holds the pages of entries with the global epoch, filter 0 the
 * others': an INVLPG of a page only filter 0 may hold leaves the global
 * entries current. */
static bool jc_page_maybe_cached(TCGCPU *t, uint64_t linear, bool global)
{
    unsigned b = jc_page_bit(linear);
    return t->jc_page_filter[global][b / 64] & (1ULL << (b % 64));
}

/* Note the page of an entry at linear (global: with the global epoch);
 * false when that emptied the cache (the filter had filled up). */
static bool jc_page_note(TCGCPU *t, uint64_t linear, bool global)
{
    unsigned b = jc_page_bit(linear);
    uint64_t *word = &t->jc_page_filter[global][b / 64];
    if (*word & (1ULL << (b % 64)))
        return true;
    bool kept = true;
    /* a filter that says yes to too much filters nothing: start afresh */
    if (++t->jc_page_filter_set > (1u << JMP_CACHE_PAGE_FILTER_BITS) / 16) {
        tb_jmp_cache_clear(t);
        t->jc_page_filter_set = 1;
        kept = false;
    }
    *word |= 1ULL << (b % 64);
    return kept;
}

static void jc_set_epoch_tags(TCGCPU *t)
{
    t->jc_epoch_tag = jc_tag(0, t->jc_epoch * 2);
    t->jc_gepoch_tag = jc_tag(0, t->jc_gepoch * 2 + 1);
}

/* Tags hold 31 bits of each epoch: after a wrap an old entry could look
 * current, so the cache starts empty instead (with no PCID's entries
 * remembered). */
static uint32_t jc_epoch_after(TCGCPU *t, uint32_t epoch)
{
    epoch = (epoch + 1) & 0x7fffffffu;
    if (epoch == 0) {
        tb_jmp_cache_clear(t);
        memset(t->jc_pcid_epoch, 0, sizeof(t->jc_pcid_epoch));
        epoch = 1;
    }
    return epoch;
}

/* Entries of global pages stored so far are stale. */
static void jc_new_gepoch(TCGCPU *t)
{
    xlink_bump(t, true);
    t->jc_gepoch = jc_epoch_after(t, t->jc_gepoch);
    jc_set_epoch_tags(t);
}

/* The current PCID's non-global entries stored so far are stale: it gets a
 * new epoch, one no other PCID ever had. */
static void jc_new_epoch(TCGCPU *t)
{
    xlink_bump(t, false);
    t->jc_epoch_counter = jc_epoch_after(t, t->jc_epoch_counter);
    t->jc_epoch = t->jc_epoch_counter;
    t->jc_pcid_epoch[t->tlb_pcid % JC_ASIDS] = t->jc_epoch;
    jc_set_epoch_tags(t);
}

void tb_jmp_cache_init(TCGCPU *t)
{
    t->xlink_gen[0] = t->xlink_gen[1] = 1;   /* 0: a site not linked yet */
    tb_jmp_cache_clear(t);
    t->jc_epoch_counter = t->jc_gepoch = 0;
    tb_jmp_cache_drop_all(t);
}

void tb_jmp_cache_switch_pcid(TCGCPU *t, unsigned pcid, bool keep)
{
    uint32_t epoch = t->jc_pcid_epoch[pcid % JC_ASIDS];
    if (!keep || epoch == 0) {
        jc_new_epoch(t);
        return;
    }
    /* transfer sites linked to the PCID left's blocks must miss */
    xlink_bump(t, false);
    t->jc_epoch = epoch;
    jc_set_epoch_tags(t);
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
    if (asid == t->tlb_pcid)
        jc_new_epoch(t);
    else
        t->jc_pcid_epoch[asid % JC_ASIDS] = 0;
}

void tb_jmp_cache_drop_all(TCGCPU *t)
{
    memset(t->jc_pcid_epoch, 0, sizeof(t->jc_pcid_epoch));
    jc_new_gepoch(t);
    jc_new_epoch(t);
}

/* May entries of the kind (global or not) hold blocks that start on
 * linear's page or the previous one (which may span into it)? */
static bool jc_blocks_may_span(TCGCPU *t, uint64_t linear, bool global)
{
    uint64_t page = linear & TARGET_PAGE_MASK;
    return jc_page_maybe_cached(t, page, global) || jc_page_maybe_cached(t, page - TARGET_PAGE_SIZE, global);
}

void tb_jmp_cache_clear_page(TCGCPU *t, uint64_t linear)
{
    /* Blocks starting on this page or the previous one (which may span into
     * it) must not be trusted as they are: revalidate the global ones (when
     * a global entry's block may start there) and those of the current PCID
     * on use (INVLPG leaves other PCIDs alone), unless no block ever started
     * there. The return stack's tags hold the non-global epoch, whatever
     * page the return goes to: it moves on in both cases. */
    bool global = jc_blocks_may_span(t, linear, true);
    if (global)
        jc_new_gepoch(t);
    if (global || jc_blocks_may_span(t, linear, false))
        jc_new_epoch(t);
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
    for (unsigned w = i; w > first; w--)
        t->jmp_cache[w] = t->jmp_cache[w - 1];
    t->jmp_cache[first] = e;
    return first;
}

TranslationBlock *jc_lookup(TCGCPU *t, unsigned h, uint64_t lin, uint64_t pc, uint64_t cs_base, uint32_t flags)
{
    int i = jc_way(t, h, pc);
    if (i < 0)
        return NULL;
    JmpCacheEntry *e = &t->jmp_cache[jc_promote(t, h, (unsigned)i)];
    TranslationBlock *tb = e->tb;
    if (tb->pc != pc || tb->cs_base != cs_base || tb->flags != flags || tb->cflags != 0)
        return NULL;
    if (jc_tag_current(t, e->tag))
        return tb;
    /* trusted again once its pages are seen to map as before */
    t->stat_jc_revalidations++;
    if (!tb_maps_at(t->env, tb, lin)) {
        t->stat_jc_stale++;
        return NULL;
    }
    uint32_t field = jc_epoch_field(t, tb, lin);
    /* (its pages may have become global or stopped being so) */
    if (jc_page_note(t, lin, field & 1))
        e->tag = jc_tag((uint32_t)e->tag, field);
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
    uint32_t field = jc_epoch_field(t, tb, lin);
    jc_page_note(t, lin, field & 1);
    unsigned i = jc_slot_for(t, h, tb->pc);
    JmpCacheEntry *e = &t->jmp_cache[i];
    e->pc = tb->pc;
    e->tag = jc_tag(tb->cs_base == 0 ? tb->flags : JC_TAG_NO_PROBE, field);
    e->code = tb->code;
    e->tb = tb;
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
    *global = jc_epoch_field(t, tb, lin) & 1;
    jc_page_note(t, lin, *global);
    tb->xlinked = true;
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
