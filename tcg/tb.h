/* Translation blocks: one translated piece of guest code and what the
 * execution engine needs to find, chain, invalidate and unwind it. */
#ifndef TCG_TB_H
#define TCG_TB_H

#include <stdbool.h>
#include <stdint.h>

/* A PC-relative block's env->tb_pc_base for the RIP it is entered at. */
#define TB_PAGE_BASE(rip) ((rip) & ~(uint64_t)0xfff)

/* Chainable exits (goto_tb slots) of a block: the two ways of its last
 * branch, and the side exits of the conditional branches it went through. */
#define TB_MAX_JMPS 4

/* Direct jumps and calls one translation may follow (tb->follow). */
#define TB_MAX_FOLLOW 4

/* tb->cflags */
#define CF_SINGLE_INSN 1u    /* translate one instruction only (SMC, single-step) */

typedef struct TranslationBlock {
    uint64_t pc;             /* EIP/RIP of the first instruction */
    uint64_t cs_base;
    uint32_t flags;          /* hflags and EFLAGS bits the translation depends on */
    uint32_t cflags;
    uint64_t phys_pc;        /* physical address of the first byte */
    uint64_t phys_page2;     /* second page spanned, or -1 */
    uint32_t size;           /* guest bytes */
    uint32_t icount;
    bool invalid;
    /* The code computes RIP values from env->tb_pc_base (the page of the
     * block's start, TB_PAGE_BASE) instead of embedding pc: shared by every TB
     * with the same physical code and flags (insn_pc[] then holds offsets
     * from that page). */
    bool pcrel;
    /* a TB that reuses another one's code at a different virtual PC */
    bool alias;
    /* Translation regions (cpu/x86/translate-region.c) only for hot loops:
     * region: translated with a region planned from pc (asked for when
     * back edges to pc became hot). back_edge: the goto_tb slots that jump
     * back before pc on its page (loop candidates): the execution loop
     * leaves them unchained and counts their trips into the target's
     * loop_trips until it becomes a region. */
    bool region;
    /* a transfer site jumps straight to this block (tcg/x86_64/xlink.c) */
    bool xlinked;
    uint8_t back_edge;
    uint16_t loop_trips;
    /* Direct JMPs and CALLs the translation followed to a later address on
     * its page (cpu/x86/translate.c: gen_follow): where each one ends and
     * where its target starts, as offsets from pc. The translated bytes are
     * the runs between them; size spans them all, gaps included (a write
     * to a gap invalidates the block too: safe, rarely needed). */
    uint8_t nb_follow;
    struct { uint16_t jmp_end, target; } follow[TB_MAX_FOLLOW];

    /* backend code: host code (x86_64) or an interpreter program */
    void *code;
    uint32_t code_size;

    /* per guest instruction: pc, cc_op at its start, end offset in the host code */
    uint64_t *insn_pc;
    uint32_t *insn_cc_op;
    uint32_t *insn_host_end;

    /* chaining: jmp_target[n] is the TB that goto_tb n currently jumps to */
    struct TranslationBlock *jmp_target[TB_MAX_JMPS];
    /* the jumps ever chained to this TB (entries whose jmp_target moved on
     * are stale), unchained when it is invalidated */
    struct TBJumpIn *jmp_in;
    uint32_t jmp_patch_ofs[TB_MAX_JMPS];   /* x86_64: offset of the rel32 to patch */
    uint32_t jmp_reset_ofs[TB_MAX_JMPS];   /* x86_64: offset of the unchained exit path */
    uint32_t jmp_lookup_ofs[TB_MAX_JMPS];  /* x86_64: of the exit through the jump cache (0: none) */
    /* x86_64: where chained jumps may enter (offsets in code): past the
     * PC-relative set-up at the exit check, and past the exit check too */
    uint16_t entry_checked, entry_unchecked;
    uint32_t entry_exit;         /* x86_64: the exit check's way out (stores RIP) */

    struct TranslationBlock *hash_next;     /* physical hash chain */
    struct TranslationBlock *shared_next;   /* chain of PC-relative translations by (phys, flags) */
    struct TranslationBlock *page_next[2];  /* TBs on the same physical page */
} TranslationBlock;

typedef struct TBJumpIn {
    TranslationBlock *from;
    int n;
    struct TBJumpIn *next;
} TBJumpIn;

/* A chained jump from tb leaves env->tb_pc_base right for dest: chained
 * jumps stay on their block's page (gen_jmp_to), so a PC-relative dest
 * reached from a PC-relative block has the same page base. */
static inline bool tb_chain_keeps_page_base(const TranslationBlock *tb, const TranslationBlock *dest)
{
    return !dest->pcrel || tb->pcrel;
}

#endif
