/* Process-context identifiers (CR4.PCIDE): the softmmu TLB holds the entries
 * of one PCID at a time, the current one (TCGCPU.tlb_pcid). A CR3 write to
 * another PCID sets the current PCID's non-global entries aside in a slot
 * and, when CR3 bit 63 says the new PCID's entries are still good, puts that
 * PCID's back: a guest switching between processes (Linux: one PCID per
 * recently run address space) finds its TLB and jump-cache entries as it
 * left them instead of walking the page tables again. INVPCID drops a PCID's
 * entries wherever they are. The jump cache follows through its tags (see
 * tb_jmp_cache_drop_asid). */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/exec.h"
#include "system/util.h"

static TLBPcidSlot *pcid_slot_find(TCGCPU *t, unsigned pcid)
{
    for (int i = 0; i < TLB_PCID_SLOTS; i++)
        if (t->tlb_pcid_slot[i].pcid == (int)pcid)
            return &t->tlb_pcid_slot[i];
    return NULL;
}

/* Forget pcid's set-aside entries (its jump-cache entries go with them). */
static void pcid_slot_drop(TCGCPU *t, unsigned pcid)
{
    TLBPcidSlot *s = pcid_slot_find(t, pcid);
    if (s) {
        s->pcid = -1;
        s->n = 0;
    }
    tb_jmp_cache_drop_asid(t, pcid);
}

/* An empty slot for pcid: a free one, else the one left longest ago. */
static TLBPcidSlot *pcid_slot_take(TCGCPU *t, unsigned pcid)
{
    TLBPcidSlot *best = NULL;
    for (int i = 0; i < TLB_PCID_SLOTS; i++) {
        TLBPcidSlot *s = &t->tlb_pcid_slot[i];
        if (s->pcid < 0) {
            best = s;
            break;
        }
        if (!best || s->left_at < best->left_at)
            best = s;
    }
    if (best->pcid >= 0)
        pcid_slot_drop(t, (unsigned)best->pcid);
    if (!best->e)
        best->e = xmalloc(sizeof(TLBSaved) * TLB_PCID_ENTRIES);
    best->pcid = (int)pcid;
    best->n = 0;
    best->left_at = ++t->tlb_pcid_clock;
    return best;
}

void tlb_pcid_reset(TCGCPU *t)
{
    for (int i = 0; i < TLB_PCID_SLOTS; i++) {
        t->tlb_pcid_slot[i].pcid = -1;
        t->tlb_pcid_slot[i].n = 0;
    }
}

void tlb_pcid_free(TCGCPU *t)
{
    for (int i = 0; i < TLB_PCID_SLOTS; i++) {
        free(t->tlb_pcid_slot[i].e);
        t->tlb_pcid_slot[i].e = NULL;
    }
}

/* Make pcid current: set the current one's entries aside, and take pcid's
 * back (keep) or drop them. */
static void pcid_switch(TCGCPU *t, unsigned pcid, bool keep)
{
    t->stat_pcid_switches++;
    tlb_drop_nonglobal(t, pcid_slot_take(t, t->tlb_pcid));
    t->tlb_pcid = pcid;
    TLBPcidSlot *s = keep ? pcid_slot_find(t, pcid) : NULL;
    /* the jump cache keeps a PCID's entries as long as its TLB slot */
    tb_jmp_cache_switch_pcid(t, pcid, s != NULL);
    if (!s) {
        pcid_slot_drop(t, pcid);
        return;
    }
    t->stat_pcid_restored++;
    unsigned victim_modes = tlb_victim_modes(t);   /* mostly none: non-global ones just went */
    for (unsigned i = 0; i < s->n; i++)
        tlb_put_back(t, &s->e[i], &victim_modes);
    s->pcid = -1;
    s->n = 0;
}

void tlb_cr3_written(CPUX86State *env, bool keep)
{
    TCGCPU *t = tcg_cpu(env);
    if (!t)
        return;
    unsigned pcid = x86_pcid(env);
    if (pcid != t->tlb_pcid)
        pcid_switch(t, pcid, keep);
    else if (!keep)
        tlb_flush_nonglobal(env);
    /* same PCID with bit 63: the entries stay, whatever CR3 now points to */
}

void tlb_invpcid(CPUX86State *env, unsigned type, unsigned pcid, uint64_t addr)
{
    TCGCPU *t = tcg_cpu(env);
    if (!t)
        return;
    switch (type) {
    case 0:   /* one address of one PCID (globals may go too) */
        if (pcid == t->tlb_pcid)
            tlb_flush_page(env, addr);
        else
            pcid_slot_drop(t, pcid);
        break;
    case 1:   /* one PCID */
        if (pcid == t->tlb_pcid)
            tlb_flush_nonglobal(env);
        else
            pcid_slot_drop(t, pcid);
        break;
    case 2:   /* everything */
        tlb_flush(env);
        break;
    default:  /* every PCID, globals kept */
        tlb_flush_nonglobal(env);
        for (int i = 0; i < TLB_PCID_SLOTS; i++)
            if (t->tlb_pcid_slot[i].pcid >= 0)
                pcid_slot_drop(t, (unsigned)t->tlb_pcid_slot[i].pcid);
        break;
    }
}
