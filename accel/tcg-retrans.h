/* Counting retranslations of invalidated blocks (-d jit): how many new
 * translations start where an invalidated block started (same physical PC,
 * PC and flags), and how many of those translate the very same guest bytes
 * (the invalidation was for a write elsewhere on the page, or one that
 * stored what was there). The bytes are hashed when the block is
 * invalidated: before the store for the guest's own writes, after it for
 * invalidations requested by DMA or other vCPUs (those may count as the
 * same bytes wrongly). */
#ifndef ACCEL_TCG_RETRANS_H
#define ACCEL_TCG_RETRANS_H

#include "accel/tcg-cpu.h"

/* tb is being invalidated: remember its key and a hash of its bytes. */
void retrans_note_invalid(TCGCPU *t, const TranslationBlock *tb);
/* tb was just translated: count it if an invalidated block had its key. */
void retrans_note_new(TCGCPU *t, const TranslationBlock *tb);

#endif
