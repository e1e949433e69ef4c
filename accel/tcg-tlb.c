/* The softmmu: per-vCPU TLB from linear to host addresses, its slow paths
 * (page walk through the system helpers, MMIO dispatch, page-crossing
 * accesses, stores to pages holding translated code), and the memory-access
 * services of cpu/x86/exec.h. */
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/util.h"

static void rmap_note(TCGCPU *t, int m, unsigned i, uint64_t ppage);

/* ---- the victim TLB ----------------------------------------------------------- */
static bool tlb_entry_maps_page(const TLBEntry *e, uint64_t page)
{
    return (e->addr_read & TARGET_PAGE_MASK) == page || (e->addr_write & TARGET_PAGE_MASK) == page ||
           (e->addr_code & TARGET_PAGE_MASK) == page;
}

static bool tlb_entry_valid(const TLBEntry *e)
{
    return e->addr_read != TLB_INVALID_ADDR || e->addr_write != TLB_INVALID_ADDR ||
           e->addr_code != TLB_INVALID_ADDR;
}

static uint64_t tlb_entry_page(const TLBEntry *e);

/* The generated code's victim probe swaps a victim with the main entry of
 * its slot (tcg/x86_64/ldst.c) and leaves the reverse map alone: the main
 * slot a victim came from may be on the chain of another page (the
 * victim's). Put that slot on its own page's chain: before victim v goes,
 * and before the chains are read. */
static void tlb_victim_repair_rmap(TCGCPU *t, int m, unsigned v)
{
    const TLBEntry *ve = &t->tlb_victim[m][v];
    if (!tlb_entry_valid(ve))
        return;
    unsigned i = (tlb_entry_page(ve) >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    if (tlb_entry_valid(&t->tlb[m][i]))
        rmap_note(t, m, i, t->tlb_extra[m][i].paddr);
}

static void tlb_victim_invalidate(TCGCPU *t, int m, unsigned v)
{
    tlb_victim_repair_rmap(t, m, v);
    memset(&t->tlb_victim[m][v], 0xff, sizeof(TLBEntry));
    t->tlb_victim_extra[m][v].paddr = ~0ULL;
    t->tlb_victim_extra[m][v].global = false;
}

static void tlb_victim_clear_mode(TCGCPU *t, int m)
{
    for (unsigned v = 0; v < TLB_VICTIM_SIZE; v++)
        tlb_victim_invalidate(t, m, v);
    t->tlb_victim_next[m] = 0;
}

/* Drop mode m's victim entries for a page (it is being refilled or flushed). */
static void tlb_victim_drop_page(TCGCPU *t, int m, uint64_t page)
{
    for (unsigned v = 0; v < TLB_VICTIM_SIZE; v++)
        if (tlb_entry_maps_page(&t->tlb_victim[m][v], page))
            tlb_victim_invalidate(t, m, v);
}

/* A valid main entry about to be overwritten: keep it in the victim TLB. */
static void tlb_victim_evict(TCGCPU *t, int m, unsigned idx)
{
    unsigned v = t->tlb_victim_next[m];
    t->tlb_victim_next[m] = (v + 1) % TLB_VICTIM_SIZE;
    tlb_victim_repair_rmap(t, m, v);
    t->tlb_victim[m][v] = t->tlb[m][idx];
    t->tlb_victim_extra[m][v] = t->tlb_extra[m][idx];
}

static uint64_t tlb_tag_for(const TLBEntry *e, int access)
{
    return access == X86_ACCESS_WRITE ? e->addr_write : access == X86_ACCESS_FETCH ? e->addr_code : e->addr_read;
}

static inline bool tlb_hit(uint64_t tag, uint64_t vaddr)
{
    return (tag & TARGET_PAGE_MASK) == (vaddr & TARGET_PAGE_MASK) && tag != TLB_INVALID_ADDR;
}


/* On a main-TLB miss: when a victim entry allows this access to vaddr's page,
 * swap it with the main slot (no walk needed) and return the main entry.
 * The swapped-in slot is in the fill log already: the entry was filled there
 * after the last flush, or it is global. */
static TLBEntry *tlb_victim_swap_in(TCGCPU *t, int m, uint64_t vaddr, int access)
{
    for (unsigned v = 0; v < TLB_VICTIM_SIZE; v++) {
        TLBEntry *ve = &t->tlb_victim[m][v];
        if (!tlb_hit(tlb_tag_for(ve, access), vaddr))
            continue;
        unsigned idx = (vaddr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
        TLBEntry e = t->tlb[m][idx];
        TLBExtra x = t->tlb_extra[m][idx];
        t->tlb[m][idx] = *ve;
        t->tlb_extra[m][idx] = t->tlb_victim_extra[m][v];
        *ve = e;
        t->tlb_victim_extra[m][v] = x;
        rmap_note(t, m, idx, t->tlb_extra[m][idx].paddr);
        t->stat_tlb_victim_hits++;
        return &t->tlb[m][idx];
    }
    return NULL;
}

/* ---- the physical-page reverse map -------------------------------------------- */
static unsigned rmap_bucket(uint64_t ppage)
{
    uint64_t pfn = ppage >> TARGET_PAGE_BITS;
    return (unsigned)(pfn ^ (pfn >> 10) ^ (pfn >> 20)) & (TLB_RMAP_SIZE - 1);
}

/* Take main slot i of mode m off the chain it is on, if any. */
static void rmap_unlink(TCGCPU *t, int m, unsigned i)
{
    unsigned b = t->tlb_rmap_bucket[m][i];
    if (!b)
        return;
    unsigned prev = t->tlb_rmap_prev[m][i], next = t->tlb_rmap_next[m][i];
    if (prev)
        t->tlb_rmap_next[m][prev - 1] = (uint16_t)next;
    else
        t->tlb_rmap_head[m][b - 1] = (uint16_t)next;
    if (next)
        t->tlb_rmap_prev[m][next - 1] = (uint16_t)prev;
    t->tlb_rmap_bucket[m][i] = 0;
}

/* Main slot i of mode m now maps physical page ppage: every slot holding a
 * valid entry is on its page's chain. */
static void rmap_note(TCGCPU *t, int m, unsigned i, uint64_t ppage)
{
    unsigned b = rmap_bucket(ppage) + 1;
    if (t->tlb_rmap_bucket[m][i] == b)
        return;
    rmap_unlink(t, m, i);
    unsigned head = t->tlb_rmap_head[m][b - 1];
    t->tlb_rmap_next[m][i] = (uint16_t)head;
    t->tlb_rmap_prev[m][i] = 0;
    if (head)
        t->tlb_rmap_prev[m][head - 1] = (uint16_t)(i + 1);
    t->tlb_rmap_head[m][b - 1] = (uint16_t)(i + 1);
    t->tlb_rmap_bucket[m][i] = (uint16_t)b;
}

void tlb_init(TCGCPU *t)
{
    memset(t->tlb_rmap_head, 0, sizeof(t->tlb_rmap_head));
    memset(t->tlb_rmap_bucket, 0, sizeof(t->tlb_rmap_bucket));
    memset(t->tlb, 0xff, sizeof(t->tlb));
    memset(t->tlb_extra, 0, sizeof(t->tlb_extra));
    for (int m = 0; m < MMU_MODES; m++)
        for (int i = 0; i < TLB_SIZE; i++)
            t->tlb_extra[m][i].paddr = ~0ULL;
    t->large_page_addr = t->large_page_mask = 0;
    t->tlb_filled_modes = 0;
    t->tlb_global_modes = 0;
    memset(t->tlb_fill_count, 0, sizeof(t->tlb_fill_count));
    for (int m = 0; m < MMU_MODES; m++)
        tlb_victim_clear_mode(t, m);
    tlb_pcid_reset(t);
    t->tlb_pcid = t->env ? x86_pcid(t->env) : 0;
}

static void tlb_invalidate_entry(TCGCPU *t, int m, unsigned idx)
{
    memset(&t->tlb[m][idx], 0xff, sizeof(TLBEntry));
    t->tlb_extra[m][idx].paddr = ~0ULL;
    t->tlb_extra[m][idx].global = false;
}

/* Whether mode m's entries depend on the paging structures (with paging on,
 * the identity entries of MMU_PHYS_IDX do not: they change with the memory
 * layout or A20, which flush with paging off or through tlb_init). */
static bool tlb_mode_follows_paging(CPUX86State *env, int m)
{
    return m != MMU_PHYS_IDX || !(env->cr[0] & CR0_PG);
}

void tlb_flush(CPUX86State *env)
{
    TCGCPU *t = tcg_cpu(env);
    if (!t)
        return;
    /* Clear only what can be stale; tlb_extra is only read behind a valid
     * entry (its global flags are rewritten with each fill). */
    for (int m = 0; m < MMU_MODES; m++) {
        if (!(t->tlb_filled_modes & (1u << m)) || !tlb_mode_follows_paging(env, m))
            continue;
        memset(t->tlb[m], 0xff, sizeof(t->tlb[m]));
        tlb_victim_clear_mode(t, m);
        t->tlb_filled_modes &= ~(1u << m);
        t->tlb_global_modes &= ~(1u << m);
        t->tlb_fill_count[m] = 0;
    }
    t->large_page_addr = t->large_page_mask = 0;
    t->stat_tlb_flushes++;
    tlb_pcid_reset(t);
    t->tlb_pcid = x86_pcid(env);
    tb_jmp_cache_drop_all(t);
}

/* Invalidate a non-global entry, saving it first when save has room. */
static void tlb_drop_entry(TCGCPU *t, int m, unsigned i, TLBPcidSlot *save)
{
    TLBEntry *e = &t->tlb[m][i];
    if (t->tlb_extra[m][i].global || !tlb_entry_valid(e))
        return;
    if (save && save->n < TLB_PCID_ENTRIES)
        save->e[save->n++] = (TLBSaved){ *e, t->tlb_extra[m][i].paddr, (uint16_t)i, (uint8_t)m };
    memset(e, 0xff, sizeof(*e));
}

void tlb_drop_nonglobal(TCGCPU *t, TLBPcidSlot *save)
{
    CPUX86State *env = t->env;
    for (int m = 0; m < MMU_MODES; m++) {
        if (!(t->tlb_filled_modes & (1u << m)) || !tlb_mode_follows_paging(env, m))
            continue;
        bool globals = t->tlb_global_modes & (1u << m);
        unsigned n = t->tlb_fill_count[m];
        t->tlb_fill_count[m] = 0;
        if (n <= TLB_FILL_LOG) {
            /* every valid non-global entry was filled since the last flush */
            for (unsigned k = 0; k < n; k++)
                tlb_drop_entry(t, m, t->tlb_fill_log[m][k], save);
        } else if (!globals && !save) {
            memset(t->tlb[m], 0xff, sizeof(t->tlb[m]));
        } else {
            for (unsigned i = 0; i < TLB_SIZE; i++)
                tlb_drop_entry(t, m, i, save);
        }
        for (unsigned v = 0; v < TLB_VICTIM_SIZE; v++)
            if (!t->tlb_victim_extra[m][v].global)
                tlb_victim_invalidate(t, m, v);
        if (!globals)
            t->tlb_filled_modes &= ~(1u << m);
    }
    /* the large-page region stays: global large pages may remain */
}

void tlb_flush_nonglobal(CPUX86State *env)
{
    TCGCPU *t = tcg_cpu(env);
    if (!t)
        return;
    tlb_drop_nonglobal(t, NULL);
    t->stat_tlb_flushes_nonglobal++;
    tb_jmp_cache_drop_asid(t, t->tlb_pcid);
}

/* Grow the large-page region to cover the page_size page at vaddr. */
static void tlb_add_large_page(TCGCPU *t, uint64_t vaddr, uint64_t page_size)
{
    uint64_t mask = ~(page_size - 1);
    if (t->large_page_mask) {
        mask &= t->large_page_mask;
        while ((t->large_page_addr ^ vaddr) & mask)
            mask <<= 1;
    }
    t->large_page_mask = mask;
    t->large_page_addr = vaddr & mask;
}

void tlb_flush_page(CPUX86State *env, uint64_t vaddr)
{
    TCGCPU *t = tcg_cpu(env);
    if (!t)
        return;
    if (t->large_page_mask && (vaddr & t->large_page_mask) == t->large_page_addr) {
        tlb_flush(env);
        return;
    }
    uint64_t page = vaddr & TARGET_PAGE_MASK;
    unsigned idx = (vaddr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    t->stat_tlb_flushes_page++;
    for (int m = 0; m < MMU_MODES; m++) {
        if (tlb_entry_maps_page(&t->tlb[m][idx], page))
            tlb_invalidate_entry(t, m, idx);
        tlb_victim_drop_page(t, m, page);
    }
    tb_jmp_cache_clear_page(t, vaddr);
}

int x86_mmu_index(CPUX86State *env)
{
    if (!(env->cr[0] & CR0_PG))
        return MMU_PHYS_IDX;
    if ((env->hflags & HF_CPL_MASK) == 3)
        return MMU_USER_IDX;
    if ((env->cr[4] & CR4_SMAP) && !(env->eflags & AC_MASK))
        return MMU_KERNEL_IDX;
    return MMU_KERNEL_NOSMAP_IDX;
}

int x86_mmu_index_kernel(CPUX86State *env)
{
    return (env->cr[0] & CR0_PG) ? MMU_KERNEL_NOSMAP_IDX : MMU_PHYS_IDX;
}

/* Note slot idx of mode m as filled since the last flush. */
static void tlb_log_fill(TCGCPU *t, int m, unsigned idx)
{
    t->tlb_filled_modes |= 1u << m;
    unsigned n = t->tlb_fill_count[m];
    if (n < TLB_FILL_LOG)
        t->tlb_fill_log[m][n] = (uint16_t)idx;
    if (n <= TLB_FILL_LOG)
        t->tlb_fill_count[m] = n + 1;
}

static uint64_t tlb_entry_page(const TLBEntry *e)
{
    uint64_t tag = e->addr_read != TLB_INVALID_ADDR ? e->addr_read :
                   e->addr_code != TLB_INVALID_ADDR ? e->addr_code : e->addr_write;
    return tag & TARGET_PAGE_MASK;
}

unsigned tlb_victim_modes(TCGCPU *t)
{
    unsigned modes = 0;
    for (int m = 0; m < MMU_MODES; m++)
        for (unsigned v = 0; v < TLB_VICTIM_SIZE; v++)
            if (tlb_entry_valid(&t->tlb_victim[m][v]))
                modes |= 1u << m;
    return modes;
}

void tlb_put_back(TCGCPU *t, const TLBSaved *s, unsigned *victim_modes)
{
    int m = s->mode;
    unsigned i = s->idx;
    TLBEntry *e = &t->tlb[m][i];
    uint64_t vpage = tlb_entry_page(&s->e);
    if (*victim_modes & (1u << m))
        tlb_victim_drop_page(t, m, vpage);
    if (tlb_entry_valid(e) && !tlb_entry_maps_page(e, vpage)) {
        tlb_victim_evict(t, m, i);
        *victim_modes |= 1u << m;
    }
    *e = s->e;
    /* the page may have gained or lost translated code meanwhile */
    if (e->addr_write != TLB_INVALID_ADDR && !(e->addr_write & TLB_MMIO))
        e->addr_write = (e->addr_write & ~TLB_CODE) | (code_page_in_use(t, s->paddr) ? TLB_CODE : 0);
    t->tlb_extra[m][i].paddr = s->paddr;
    t->tlb_extra[m][i].global = false;
    rmap_note(t, m, i, s->paddr);
    tlb_log_fill(t, m, i);
}

/* ---- filling ---------------------------------------------------------------- */
static TLBEntry *tlb_set_entry(CPUX86State *env, uint64_t vaddr, uint64_t paddr, int prot,
                               uint64_t page_size, int mmu_idx);

/* Walk (raising a fault through ra when the access is not allowed) and fill
 * the entry for vaddr's page. */
static TLBEntry *tlb_fill(CPUX86State *env, uint64_t vaddr, int access, int mmu_idx, uintptr_t ra)
{
    TLBEntry *e = tlb_victim_swap_in(tcg_cpu(env), mmu_idx, vaddr, access);
    if (e)
        return e;
    int prot = 0;
    uint64_t page_size = TARGET_PAGE_SIZE;
    tcg_cpu(env)->stat_tlb_fills++;
    uint64_t paddr = x86_tlb_fill(env, vaddr, access, mmu_idx, &prot, &page_size, ra);
    return tlb_set_entry(env, vaddr, paddr, prot, page_size, mmu_idx);
}

/* Fill the entry for vaddr's page from a completed walk. */
static TLBEntry *tlb_set_entry(CPUX86State *env, uint64_t vaddr, uint64_t paddr, int prot,
                               uint64_t page_size, int mmu_idx)
{
    TCGCPU *t = tcg_cpu(env);
    if (page_size > TARGET_PAGE_SIZE)
        tlb_add_large_page(t, vaddr, page_size);
    uint64_t vpage = vaddr & TARGET_PAGE_MASK, ppage = paddr & TARGET_PAGE_MASK;
    unsigned idx = (vaddr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    TLBEntry *e = &t->tlb[mmu_idx][idx];
    TLBExtra *x = &t->tlb_extra[mmu_idx][idx];
    /* one copy of a page per mode: a stale victim copy could lack a permission */
    tlb_victim_drop_page(t, mmu_idx, vpage);
    if (tlb_entry_valid(e) && !tlb_entry_maps_page(e, vpage))
        tlb_victim_evict(t, mmu_idx, idx);
    tlb_log_fill(t, mmu_idx, idx);

    uint64_t flags = 0;
    uint8_t *host = NULL;
    bool rom = false;
    Machine *m = current_machine;
    const FlatRange *fr = m ? as_lookup_range(m->mem, ppage) : NULL;
    if (fr && fr->mr->kind != MR_IO && fr->start <= ppage &&
        fr->end >= ppage + TARGET_PAGE_SIZE - 1 && fr->mr->host) {
        host = fr->mr->host + (ppage - fr->mr->base);
        rom = fr->mr->kind == MR_ROM;
    } else {
        flags |= TLB_MMIO;
    }
    e->addend = host ? (uintptr_t)host - (uintptr_t)vpage : 0;
    e->addr_read = (prot & X86_PROT_READ) ? vpage | flags : TLB_INVALID_ADDR;
    e->addr_code = (prot & X86_PROT_EXEC) ? vpage | flags : TLB_INVALID_ADDR;
    if (prot & X86_PROT_WRITE) {
        uint64_t wflags = flags;
        if (rom)
            wflags |= TLB_MMIO;   /* writes to ROM are dropped by the slow path */
        else if (code_page_in_use(t, ppage))
            wflags |= TLB_CODE;
        e->addr_write = vpage | wflags;
    } else {
        e->addr_write = TLB_INVALID_ADDR;
    }
    x->paddr = ppage;
    rmap_note(t, mmu_idx, idx, ppage);
    x->global = (prot & X86_PROT_GLOBAL) != 0;
    if (x->global)
        t->tlb_global_modes |= 1u << mmu_idx;
    return e;
}

static void tlb_entry_mark_code(TLBEntry *e, const TLBExtra *x, uint64_t paddr_page, bool code)
{
    if (x->paddr == paddr_page && e->addr_write != TLB_INVALID_ADDR)
        e->addr_write = code ? e->addr_write | TLB_CODE : e->addr_write & ~TLB_CODE;
}

/* Set (or clear) TLB_CODE in the write tag of every valid entry, main or
 * victim, that maps physical page paddr_page. */
static void tlb_mark_code(TCGCPU *t, uint64_t paddr_page, bool code)
{
    unsigned b = rmap_bucket(paddr_page);
    for (int m = 0; m < MMU_MODES; m++) {
        for (unsigned v = 0; v < TLB_VICTIM_SIZE; v++)
            tlb_victim_repair_rmap(t, m, v);
        for (unsigned s = t->tlb_rmap_head[m][b]; s; s = t->tlb_rmap_next[m][s - 1])
            tlb_entry_mark_code(&t->tlb[m][s - 1], &t->tlb_extra[m][s - 1], paddr_page, code);
        for (unsigned v = 0; v < TLB_VICTIM_SIZE; v++)
            tlb_entry_mark_code(&t->tlb_victim[m][v], &t->tlb_victim_extra[m][v], paddr_page, code);
    }
}

void tlb_protect_code(TCGCPU *t, uint64_t paddr_page)
{
    tlb_mark_code(t, paddr_page, true);
}

void tlb_unprotect_code(TCGCPU *t, uint64_t paddr_page)
{
    tlb_mark_code(t, paddr_page, false);
}

/* ---- one access inside a single page ---------------------------------------- */
static uint64_t mmio_read(uint64_t paddr, unsigned size)
{
    Machine *m = current_machine;
    if (!m)
        return size_mask(size);
    bool lock = !machine_lock_held();
    if (lock)
        machine_lock();
    uint64_t v = as_read(m->mem, paddr, size);
    if (lock)
        machine_unlock();
    return v;
}

static void mmio_write(uint64_t paddr, uint64_t v, unsigned size)
{
    Machine *m = current_machine;
    if (!m)
        return;
    bool lock = !machine_lock_held();
    if (lock)
        machine_lock();
    as_write(m->mem, paddr, v, size);
    if (lock)
        machine_unlock();
}

/* A read; with write_intent (read-modify-write) the page must also allow the
 * write, so a fault reports it as one, as the hardware does. */
static uint64_t ld_page_access(CPUX86State *env, uint64_t vaddr, unsigned size, int mmu_idx,
                               uintptr_t ra, bool write_intent)
{
    TCGCPU *t = tcg_cpu(env);
    int access = write_intent ? X86_ACCESS_WRITE : X86_ACCESS_READ;
    if (!t) {
        /* no translator state (KVM, tools): walk and access directly */
        int prot;
        uint64_t ps, pa = x86_tlb_fill(env, vaddr, access, mmu_idx, &prot, &ps, ra);
        return cpu_phys_ld(env, pa, size);
    }
    unsigned idx = (vaddr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    TLBEntry *e = &t->tlb[mmu_idx][idx];
    if (write_intent && !tlb_hit(e->addr_write, vaddr))
        e = tlb_fill(env, vaddr, X86_ACCESS_WRITE, mmu_idx, ra);
    if (!tlb_hit(e->addr_read, vaddr))
        e = tlb_fill(env, vaddr, X86_ACCESS_READ, mmu_idx, ra);
    if (e->addr_read & TLB_MMIO) {
        uint64_t pa = t->tlb_extra[mmu_idx][idx].paddr | (vaddr & ~TARGET_PAGE_MASK);
        return mmio_read(pa, size);
    }
    return ldn((void *)(vaddr + e->addend), size);
}

static uint64_t ld_page(CPUX86State *env, uint64_t vaddr, unsigned size, int mmu_idx, uintptr_t ra)
{
    return ld_page_access(env, vaddr, size, mmu_idx, ra, false);
}

static void st_page(CPUX86State *env, uint64_t vaddr, uint64_t v, unsigned size, int mmu_idx, uintptr_t ra)
{
    TCGCPU *t = tcg_cpu(env);
    if (!t) {
        int prot;
        uint64_t ps, pa = x86_tlb_fill(env, vaddr, X86_ACCESS_WRITE, mmu_idx, &prot, &ps, ra);
        cpu_phys_st(env, pa, v, size);
        return;
    }
    unsigned idx = (vaddr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    TLBEntry *e = &t->tlb[mmu_idx][idx];
    if (!tlb_hit(e->addr_write, vaddr))
        e = tlb_fill(env, vaddr, X86_ACCESS_WRITE, mmu_idx, ra);
    uint64_t pa = t->tlb_extra[mmu_idx][idx].paddr | (vaddr & ~TARGET_PAGE_MASK);
    if (e->addr_write & TLB_CODE) {
        t->stat_slow_code++;
        tcg_code_write(env, pa, size, ra);
        e = &t->tlb[mmu_idx][idx];   /* the entry may have been refilled */
        if (!tlb_hit(e->addr_write, vaddr))
            e = tlb_fill(env, vaddr, X86_ACCESS_WRITE, mmu_idx, ra);
    }
    if (e->addr_write & TLB_MMIO) {
        Machine *m = current_machine;
        const FlatRange *fr = m ? as_lookup_range(m->mem, pa) : NULL;
        if (fr && fr->mr->kind == MR_ROM)
            return;
        mmio_write(pa, v, size);
        return;
    }
    stn((void *)(vaddr + e->addend), size, v);
}

/* Host pointer for vaddr when its page is plain RAM for this access (TLB
 * filled, faults raised through ra), or NULL when the access must go the
 * slow way (MMIO, ROM writes, pages holding code for writes). */
void *tlb_host_ptr(CPUX86State *env, uint64_t vaddr, bool write, int mmu_idx, uintptr_t ra)
{
    TCGCPU *t = tcg_cpu(env);
    unsigned idx = (vaddr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    TLBEntry *e = &t->tlb[mmu_idx][idx];
    uint64_t tag = write ? e->addr_write : e->addr_read;
    if (!tlb_hit(tag, vaddr)) {
        e = tlb_fill(env, vaddr, write ? X86_ACCESS_WRITE : X86_ACCESS_READ, mmu_idx, ra);
        tag = write ? e->addr_write : e->addr_read;
    }
    if (tag & (TLB_MMIO | TLB_CODE))
        return NULL;
    return (void *)(uintptr_t)(vaddr + e->addend);
}

uint64_t tlb_translate(CPUX86State *env, uint64_t vaddr, int access, int mmu_idx, uintptr_t ra)
{
    TCGCPU *t = tcg_cpu(env);
    unsigned idx = (vaddr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    if (!tlb_hit(tlb_tag_for(&t->tlb[mmu_idx][idx], access), vaddr))
        tlb_fill(env, vaddr, access, mmu_idx, ra);
    return t->tlb_extra[mmu_idx][idx].paddr | (vaddr & ~TARGET_PAGE_MASK);
}

/* Page-crossing accesses: both pages are translated before anything is written. */
static bool crosses_page(uint64_t vaddr, unsigned size)
{
    return ((vaddr ^ (vaddr + size - 1)) & TARGET_PAGE_MASK) != 0;
}

uint64_t cpu_ld(CPUX86State *env, uint64_t vaddr, unsigned size, int mmu_idx, uintptr_t ra)
{
    if (!crosses_page(vaddr, size))
        return ld_page(env, vaddr, size, mmu_idx, ra);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= ld_page(env, vaddr + i, 1, mmu_idx, ra) << (8 * i);
    return v;
}

void cpu_st(CPUX86State *env, uint64_t vaddr, uint64_t value, unsigned size, int mmu_idx, uintptr_t ra)
{
    if (!crosses_page(vaddr, size)) {
        st_page(env, vaddr, value, size, mmu_idx, ra);
        return;
    }
    /* Probe both pages for writing, in address order as the hardware does
     * (the first one that faults sets CR2), so a fault leaves memory untouched. */
    TCGCPU *t = tcg_cpu(env);
    uint64_t pages[2] = { vaddr, (vaddr + size - 1) & TARGET_PAGE_MASK };
    for (int p = 0; t && p < 2; p++) {
        unsigned idx = (pages[p] >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
        if (!tlb_hit(t->tlb[mmu_idx][idx].addr_write, pages[p]))
            tlb_fill(env, pages[p], X86_ACCESS_WRITE, mmu_idx, ra);
    }
    for (unsigned i = 0; i < size; i++)
        st_page(env, vaddr + i, value >> (8 * i), 1, mmu_idx, ra);
}

void cpu_ld_buf(CPUX86State *env, uint64_t vaddr, void *buf, unsigned len, int mmu_idx, uintptr_t ra)
{
    uint8_t *p = buf;
    for (unsigned i = 0; i < len; i++)
        p[i] = (uint8_t)cpu_ld(env, vaddr + i, 1, mmu_idx, ra);
}

void cpu_st_buf(CPUX86State *env, uint64_t vaddr, const void *buf, unsigned len, int mmu_idx, uintptr_t ra)
{
    const uint8_t *p = buf;
    /* Probe every page first: no partial write on a fault. */
    for (uint64_t a = vaddr & TARGET_PAGE_MASK; a < vaddr + len && tcg_cpu(env); a += TARGET_PAGE_SIZE) {
        TCGCPU *t = tcg_cpu(env);
        uint64_t probe = a < vaddr ? vaddr : a;
        unsigned idx = (probe >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
        if (!tlb_hit(t->tlb[mmu_idx][idx].addr_write, probe))
            tlb_fill(env, probe, X86_ACCESS_WRITE, mmu_idx, ra);
    }
    for (unsigned i = 0; i < len; i++)
        cpu_st(env, vaddr + i, p[i], 1, mmu_idx, ra);
}

/* 64-bit mode: a non-canonical stack address is #SS(0) (the walker would
 * say #GP(0)). */
static void check_stack_canonical(CPUX86State *env, uint64_t vaddr, unsigned memop, uintptr_t ra)
{
    if ((memop & MO_STACK) && (env->hflags & HF_CS64_MASK) && !x86_is_canonical(env, vaddr))
        x86_raise_exception(env, EXCP_SS, 0, ra);
}

/* -d jit statistics: why accesses leave the inline fast path. An entry that
 * allowed the access means the code's own check was not tried (a shared
 * probe failed and the access had no inline fallback). */
static void count_slow(CPUX86State *env, uint64_t vaddr, unsigned size, int mmu_idx, bool store)
{
    TCGCPU *t = tcg_cpu(env);
    if (!t)
        return;
    if (store)
        t->stat_slow_st++;
    else
        t->stat_slow_ld++;
    if (crosses_page(vaddr, size)) {
        t->stat_slow_cross++;
        return;
    }
    const TLBEntry *e = &t->tlb[mmu_idx][(vaddr >> TARGET_PAGE_BITS) & (TLB_SIZE - 1)];
    uint64_t tag = store ? e->addr_write : e->addr_read;
    if (tlb_hit(tag, vaddr) && !(tag & (TLB_MMIO | TLB_CODE)))
        t->stat_slow_tlb_hit++;
}

/* Called from generated code (and the interpreter) on a TLB miss. */
uint64_t tcg_ld_slow(CPUX86State *env, uint64_t vaddr, unsigned memop, int mmu_idx, uintptr_t ra)
{
    unsigned size = 1u << (memop & MO_SIZE);
    count_slow(env, vaddr, size, mmu_idx, false);
    x86_seg_raise_marked(env, vaddr, ra);
    check_stack_canonical(env, vaddr, memop, ra);
    uint64_t v;
    if (!(memop & MO_RMW)) {
        v = cpu_ld(env, vaddr, size, mmu_idx, ra);
    } else if (!crosses_page(vaddr, size)) {
        v = ld_page_access(env, vaddr, size, mmu_idx, ra, true);
    } else {
        /* byte by byte in address order: the first page faults first */
        v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= ld_page_access(env, vaddr + i, 1, mmu_idx, ra, true) << (8 * i);
    }
    if (memop & MO_SIGN) {
        unsigned sh = 64 - 8 * size;
        v = (uint64_t)((int64_t)(v << sh) >> sh);
    }
    return v;
}

void tcg_st_slow(CPUX86State *env, uint64_t vaddr, uint64_t value, unsigned memop, int mmu_idx, uintptr_t ra)
{
    count_slow(env, vaddr, 1u << (memop & MO_SIZE), mmu_idx, true);
    x86_seg_raise_marked(env, vaddr, ra);
    check_stack_canonical(env, vaddr, memop, ra);
    cpu_st(env, vaddr, value, 1u << (memop & MO_SIZE), mmu_idx, ra);
}

/* ---- physical accesses (walker) ------------------------------------------------ */
uint64_t cpu_phys_ld(CPUX86State *env, uint64_t paddr, unsigned size)
{
    Machine *m = current_machine;
    paddr &= env->a20_mask;
    if (!m)
        return size_mask(size);
    const FlatRange *fr = as_lookup_range(m->mem, paddr);
    if (fr && fr->mr->kind != MR_IO && fr->mr->host && paddr + size - 1 <= fr->end)
        return ldn(fr->mr->host + (paddr - fr->mr->base), size);
    return mmio_read(paddr, size);
}

void cpu_phys_st(CPUX86State *env, uint64_t paddr, uint64_t value, unsigned size)
{
    Machine *m = current_machine;
    paddr &= env->a20_mask;
    if (!m)
        return;
    const FlatRange *fr = as_lookup_range(m->mem, paddr);
    if (fr && fr->mr->kind == MR_RAM && fr->mr->host && paddr + size - 1 <= fr->end) {
        TCGCPU *t = tcg_cpu(env);
        if (t && tb_page_has_code(t, paddr & TARGET_PAGE_MASK))
            tb_invalidate_phys_page(t, paddr & TARGET_PAGE_MASK);
        stn(fr->mr->host + (paddr - fr->mr->base), size, value);
        return;
    }
    if (fr && fr->mr->kind == MR_ROM)
        return;
    mmio_write(paddr, value, size);
}

/* Code fetch for the translator: no fault raised here. */
#include "cpu/x86/translate.h"
bool x86_fetch_code_byte(CPUX86State *env, uint64_t linear, uint8_t *byte, uint64_t *phys)
{
    TCGCPU *t = tcg_cpu(env);
    int mmu_idx = x86_mmu_index(env);
    unsigned idx = (linear >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    TLBEntry *e = &t->tlb[mmu_idx][idx];
    if (!tlb_hit(e->addr_code, linear) && !tlb_victim_swap_in(t, mmu_idx, linear, X86_ACCESS_FETCH)) {
        uint64_t paddr, ps;
        int prot;
        /* one walk: it faults nothing, and fills the entry when it succeeds */
        t->stat_tlb_fills++;
        if (x86_mmu_translate(env, linear, X86_ACCESS_FETCH, mmu_idx, &paddr, &prot, &ps) != 0)
            return false;
        e = tlb_set_entry(env, linear, paddr, prot, ps, mmu_idx);
        if (!tlb_hit(e->addr_code, linear))
            return false;
    }
    if (e->addr_code & TLB_MMIO) {
        /* Code in ROM/RAM only; a page partly covered (e.g. BIOS shadow edges)
         * is read through the address space. */
        uint64_t pa = t->tlb_extra[mmu_idx][idx].paddr | (linear & ~TARGET_PAGE_MASK);
        Machine *m = current_machine;
        const FlatRange *fr = m ? as_lookup_range(m->mem, pa) : NULL;
        if (!fr || fr->mr->kind == MR_IO)
            return false;
        *byte = fr->mr->host[pa - fr->mr->base];
        *phys = pa;
        return true;
    }
    *byte = *(uint8_t *)(linear + e->addend);
    *phys = t->tlb_extra[mmu_idx][idx].paddr | (linear & ~TARGET_PAGE_MASK);
    return true;
}

/* Is the code page holding linear in the TLB as a global page (one that a
 * CR3 write keeps)? */
bool tlb_code_page_global(CPUX86State *env, uint64_t linear)
{
    TCGCPU *t = tcg_cpu(env);
    int mmu_idx = x86_mmu_index(env);
    unsigned idx = (linear >> TARGET_PAGE_BITS) & (TLB_SIZE - 1);
    return tlb_hit(t->tlb[mmu_idx][idx].addr_code, linear) && t->tlb_extra[mmu_idx][idx].global;
}

/* Host pointer to the start of the code page holding linear (plain RAM or
 * ROM, TLB entry filled), and its physical address; NULL otherwise (the
 * translator then fetches byte by byte). */
const uint8_t *x86_code_page_ptr(CPUX86State *env, uint64_t linear, uint64_t *phys_page)
{
    uint8_t b;
    uint64_t phys;
    if (!x86_fetch_code_byte(env, linear, &b, &phys))
        return NULL;
    TCGCPU *t = tcg_cpu(env);
    int mmu_idx = x86_mmu_index(env);
    TLBEntry *e = &t->tlb[mmu_idx][(linear >> TARGET_PAGE_BITS) & (TLB_SIZE - 1)];
    if (!tlb_hit(e->addr_code, linear) || (e->addr_code & TLB_MMIO))
        return NULL;
    *phys_page = phys & TARGET_PAGE_MASK;
    return (const uint8_t *)(uintptr_t)((linear & TARGET_PAGE_MASK) + e->addend);
}
