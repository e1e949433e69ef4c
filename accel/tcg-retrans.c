/* Counting retranslations of invalidated blocks (see tcg-retrans.h). Only
 * under -d jit: hashing the bytes costs time. A direct-mapped table keeps
 * the last invalidated block per slot, so the counts are lower bounds. */
#include <stdlib.h>
#include "accel/tcg-retrans.h"
#include "system/log.h"
#include "system/machine.h"
#include "system/memory.h"
#include "system/util.h"

enum { RETRANS_SLOTS = 1 << 16 };

typedef struct RetransSlot {
    uint64_t phys_pc, pc, hash;   /* hash 0: the bytes were not hashable */
    uint32_t flags, size;
    bool used;
} RetransSlot;

static __thread RetransSlot *slots;

static unsigned slot_of(uint64_t phys_pc, uint64_t pc, uint32_t flags)
{
    uint64_t h = (phys_pc * 0x9E3779B97F4A7C15ULL) ^ (pc * 0xC2B2AE3D27D4EB4FULL) ^ flags;
    return (unsigned)(h >> 40) & (RETRANS_SLOTS - 1);
}

/* FNV-1a over the bytes [start, end) of the RAM page at phys_page; false
 * when the page is not plain RAM/ROM. */
static bool hash_page_bytes(uint64_t phys_page, unsigned start, unsigned end, uint64_t *h)
{
    Machine *m = current_machine;
    const FlatRange *fr = m ? as_lookup_range(m->mem, phys_page) : NULL;
    if (!fr || fr->mr->kind == MR_IO || !fr->mr->host || phys_page + TARGET_PAGE_SIZE - 1 > fr->end)
        return false;
    const uint8_t *p = fr->mr->host + (phys_page - fr->mr->base);
    for (unsigned i = start; i < end; i++)
        *h = (*h ^ p[i]) * 0x100000001B3ULL;
    return true;
}

/* A hash of the guest bytes the block spans (0: not hashable). */
static uint64_t code_hash(const TranslationBlock *tb)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    unsigned off = (unsigned)(tb->phys_pc & ~TARGET_PAGE_MASK);
    unsigned first = (unsigned)MIN((uint64_t)off + tb->size, TARGET_PAGE_SIZE);
    if (!hash_page_bytes(tb->phys_pc & TARGET_PAGE_MASK, off, first, &h))
        return 0;
    if (tb->phys_page2 != (uint64_t)-1 &&
        !hash_page_bytes(tb->phys_page2, 0, (unsigned)MIN(tb->size - (first - off), TARGET_PAGE_SIZE), &h))
        return 0;
    return h | 1;
}

void retrans_note_invalid(TCGCPU *t, const TranslationBlock *tb)
{
    (void)t;
    if (!log_enabled(LOG_JIT) || tb->alias)
        return;
    if (!slots)
        slots = xzalloc(sizeof(RetransSlot) * RETRANS_SLOTS);
    slots[slot_of(tb->phys_pc, tb->pc, tb->flags)] = (RetransSlot){
        .phys_pc = tb->phys_pc, .pc = tb->pc, .flags = tb->flags, .size = tb->size, .hash = code_hash(tb),
        .used = true,
    };
}

void retrans_note_new(TCGCPU *t, const TranslationBlock *tb)
{
    if (!slots || !log_enabled(LOG_JIT))
        return;
    RetransSlot *s = &slots[slot_of(tb->phys_pc, tb->pc, tb->flags)];
    if (!s->used || s->phys_pc != tb->phys_pc || s->pc != tb->pc || s->flags != tb->flags)
        return;
    t->stat_retrans++;
    if (s->hash && s->size == tb->size && s->hash == code_hash(tb))
        t->stat_retrans_same++;
    s->used = false;   /* counted once */
}
