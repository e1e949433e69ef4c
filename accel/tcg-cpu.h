/* Per-vCPU state of the translator accelerator (env->accel), shared by the
 * execution loop, the softmmu TLB, the TB cache and the backends. */
#ifndef ACCEL_TCG_CPU_H
#define ACCEL_TCG_CPU_H

#include <pthread.h>
#include <stdatomic.h>
#include "cpu/x86/cpu.h"
#include "system/memory.h"
#include "tcg/tb.h"
#include "tcg/tcg.h"

/* ---- softmmu TLB ------------------------------------------------------------
 * Direct-mapped, TLB_SIZE entries per MMU index. An entry matches an access of
 * size n at vaddr when ((vaddr + n - 1) & TARGET_PAGE_MASK) == addr_xxx; any
 * flag bit in addr_xxx's low bits makes the fast path miss on purpose. */
#define TARGET_PAGE_BITS 12
#define TARGET_PAGE_SIZE (1ULL << TARGET_PAGE_BITS)
#define TARGET_PAGE_MASK (~(TARGET_PAGE_SIZE - 1))
#define TLB_BITS 12
#define TLB_SIZE (1 << TLB_BITS)
#define TLB_INVALID_ADDR (~0ULL)
/* Slots a mode's fill log holds: more fills since the last flush make a CR3
 * write scan the whole table (512 left 2151 of 32768 drops of a workload
 * run to that, 2048 leaves 6). */
#define TLB_FILL_LOG 2048
#define TLB_RMAP_SIZE 1024   /* buckets of the physical-page reverse map */
/* Fully associative victim entries per MMU index: what a fill evicts from the
 * direct-mapped table lands there, and a miss looks there before walking. */
#define TLB_VICTIM_SIZE 8
#define TLB_MMIO  (1ULL << 1)   /* device memory (or page not fully RAM): slow path */
#define TLB_CODE  (1ULL << 2)   /* writes must invalidate translated code first */

typedef struct TLBEntry {
    uint64_t addr_read;
    uint64_t addr_write;
    uint64_t addr_code;
    uintptr_t addend;        /* host address = vaddr + addend (RAM/ROM) */
} TLBEntry;

typedef struct TLBExtra {
    uint64_t paddr;          /* physical page */
    bool global;             /* kept across CR3 writes */
} TLBExtra;

/* The non-global entries of a PCID that is not the current one (CR4.PCIDE):
 * set aside by a CR3 write that leaves it, put back by one that returns to
 * it with bit 63 (no flush) set. A few PCIDs at a time, least recently left
 * dropped first; what does not fit is dropped (a TLB may forget entries). */
#define TLB_PCID_SLOTS 8
#define TLB_PCID_ENTRIES 1024
typedef struct TLBSaved {
    TLBEntry e;
    uint64_t paddr;
    uint16_t idx;
    uint8_t mode;
} TLBSaved;
typedef struct TLBPcidSlot {
    int pcid;                /* -1: free */
    unsigned n;
    uint64_t left_at;        /* for least-recently-left replacement */
    TLBSaved *e;             /* TLB_PCID_ENTRIES, allocated on first use */
} TLBPcidSlot;

/* PCIDs, for the jump cache's non-global entries. */
#define JC_ASIDS 4096

/* ---- backends ------------------------------------------------------------ */
struct TCGCPU;
typedef struct TCGBackend {
    const char *name;
    bool (*init)(char *err, size_t errlen);
    /* Generate code for tcg_ctx's ops into tb; false when the code buffer
     * is full (the caller flushes everything and retries). */
    bool (*gen_code)(TCGContext *s, TranslationBlock *tb);
    /* Run tb and whatever it chains to; returns the exit value. */
    uintptr_t (*exec)(CPUX86State *env, TranslationBlock *tb);
    /* Point goto_tb n of tb at dest (or back to its exit path when NULL). */
    void (*set_jump)(TranslationBlock *tb, int n, TranslationBlock *dest);
    /* Optional: point goto_tb n of tb at a jump-cache lookup of its target
     * (which tb may not chain to). */
    void (*set_jump_lookup)(TranslationBlock *tb, int n);
    /* Make every entry into tb leave to the loop (tb was invalidated). */
    void (*invalidate)(TranslationBlock *tb);
    /* Send every entry into tb's code on to dest's (tb was superseded). */
    void (*redirect)(TranslationBlock *tb, TranslationBlock *dest);
    /* Drop all code (after a full flush). */
    void (*reset)(void);
    /* Guest instruction index of the host return address ra inside tb, or -1. */
    int (*insn_from_ra)(TranslationBlock *tb, uintptr_t ra);
    /* Disassemble tb's host code into the log (-d out_asm). */
    void (*dump)(TranslationBlock *tb);
    /* Release t's backend state (code buffer). */
    void (*free_state)(struct TCGCPU *t);
} TCGBackend;

extern const TCGBackend tcg_backend_interp;
extern size_t tcg_code_buffer_size;   /* x86_64: bytes of host code per vCPU */
/* x86_64: the return stack (-accel tcg,return-stack=on). Off by default: in
 * the Linux workload it spares 1.2M of 2.2M C lookups but costs about 11
 * host instructions per CALL/RET pair (145M of them) over the inline jump
 * cache probe. */
extern bool tcg_return_stack;
/* -accel tcg,xfer-stats=on: count every lookup by kind of transfer in the
 * generated code, and each x86_64 transfer site's executions (-d jit). */
extern bool tcg_xfer_stats;
/* x86_64: transfer sites (-accel tcg,xfer-sites=on, tcg/x86_64/xlink.c).
 * Off by default: in the Linux workload they serve 311M of 350M lookups
 * (the jump-cache probe only 39M) but the run was no faster measurably
 * (generated code ~2% fewer samples, the C side ~6% more: 1.08M relinks
 * after the generation bumps of CR3 writes; host code +12%). */
extern bool tcg_xfer_sites;
void xlink_dump_sites(FILE *f, unsigned top);   /* the sites run most */
extern const TCGBackend tcg_backend_x86_64;

/* Exit values of exec: 0 = back to the loop; TB_EXIT_CHAIN(tb, n) = goto_tb n
 * of tb had no target yet (the loop finds it and patches the jump). */
#define TB_EXIT_CHAIN(tb, n) ((uintptr_t)(tb) | 1u | ((uintptr_t)(n) << 1))
#define TB_EXIT_IS_CHAIN(v) ((v) & 1)
#define TB_EXIT_TB(v) ((TranslationBlock *)((v) & ~(uintptr_t)7))
#define TB_EXIT_N(v) ((int)(((v) >> 1) & 3))   /* TBs are 8-byte aligned: n < 4 */

/* The jump cache: linear PC -> block (accel/tcg-jmp-cache.c). Two-way set
 * associative: a set is two entries in one 64-byte line, so the inline
 * probe's second compare costs no extra cache miss, and two hot targets
 * whose PCs hash alike (a function and its caller's return address, say)
 * no longer evict each other at every jump. 16K sets (1 MiB): a workload
 * run's blocks missed 227K times with 8K sets, 152K with 16K. */
#define JMP_CACHE_SET_BITS 14
#define JMP_CACHE_WAYS 2
#define JMP_CACHE_SIZE ((1 << JMP_CACHE_SET_BITS) * JMP_CACHE_WAYS)
/* A filter of the linear pages the jump cache has held blocks of, so that an
 * INVLPG of a page that never held code leaves the cache alone. */
#define JMP_CACHE_PAGE_FILTER_BITS 16

/* Set of linear PC lin (its first entry's index is set * JMP_CACHE_WAYS);
 * the x86_64 backend's inline probe computes the same. Folding keeps PCs
 * less than 2^JMP_CACHE_SET_BITS apart in different sets, which spreads a
 * program's nearby code better than a multiplicative hash (measured: 2.3M
 * instead of 1.8M misses with one way). */
static inline unsigned jmp_cache_hash(uint64_t lin)
{
    return (unsigned)(lin ^ (lin >> JMP_CACHE_SET_BITS)) & ((1u << JMP_CACHE_SET_BITS) - 1);
}

/* A jump-cache entry. The inline probe of 64-bit code matches pc and tag
 * alone: tag is the block's flags and the epoch it was stored in, so that
 * one compare checks the mode (64-bit code keys on hflags only) and that
 * no TLB flush happened since. Entries of invalidated blocks are removed,
 * and DR7 changes clear the cache: nothing else needs checking. */
typedef struct JmpCacheEntry {
    uint64_t pc;
    uint64_t tag;            /* jc_tag(flags, epoch); JC_TAG_NO_PROBE: C lookup only */
    const void *code;        /* tb->code */
    TranslationBlock *tb;
} JmpCacheEntry;

/* Low half of a tag that no mode matches (a block with a non-zero CS base). */
#define JC_TAG_NO_PROBE 0xffffffffu

static inline uint64_t jc_tag(uint32_t flags, uint32_t epoch)
{
    return (uint64_t)epoch << 32 | flags;
}

/* The return stack (accel/tcg-jmp-cache.c): a CALL in 64-bit code records
 * the return address it pushed, and a RET that pops the same address under
 * the same flags and epoch jumps straight to the block after the CALL. It
 * is indexed by the stack pointer at the return address, so it needs no
 * top-of-stack that exceptions or stack switches could leave wrong. */
#define RAS_BITS 6
#define RAS_SIZE (1 << RAS_BITS)

/* Per CALL site (in the calling block's arena): the block its return goes
 * to, once known. Only a block on the caller's physical page, with the
 * caller's flags, is recorded: such a block is right for every virtual PC
 * the (perhaps PC-relative, shared) calling code runs at. */
typedef struct RetSlot {
    const void *code;        /* NULL: not known yet */
    uint64_t phys_page;
    uint32_t flags;
} RetSlot;

typedef struct RasEntry {
    uint64_t rip;            /* the return address pushed */
    uint64_t tag;            /* jc_tag(caller's flags, epoch at the CALL) */
    RetSlot *slot;
    uint64_t pad;            /* 32 bytes: the generated code scales by shifting */
} RasEntry;

static inline unsigned ras_index(uint64_t rsp)
{
    return (unsigned)(rsp >> 3) & (RAS_SIZE - 1);
}

typedef struct TCGCPU {
    /* Read by generated code at every block entry: leave to the loop. Keep first. */
    atomic_int exit_flag;
    int pad0;
    TLBEntry tlb[MMU_MODES][TLB_SIZE];
    TLBExtra tlb_extra[MMU_MODES][TLB_SIZE];
    _Alignas(64) JmpCacheEntry jmp_cache[JMP_CACHE_SIZE];   /* set h: [h * WAYS], [h * WAYS + 1] */
    /* An entry is trusted as is only when its tag's epoch is current. TLB
     * flushes move the epochs on instead of clearing the cache; an older
     * entry is used after checking that its linear PC still maps to the
     * block's physical pages. Blocks on global pages (the kernel's) have an
     * epoch of their own, which CR3 writes leave alone: the tag's epoch field
     * is jc_epoch * 2 for the others, jc_gepoch * 2 + 1 for them. Each PCID
     * has its own non-global epoch (jc_pcid_epoch, 0: none yet or dropped),
     * numbered from one counter: a CR3 write that returns to a PCID with its
     * entries kept makes that PCID's epoch current again, so its entries hit
     * inline as they did before it left. */
    uint32_t jc_epoch, jc_gepoch;
    uint64_t jc_epoch_tag, jc_gepoch_tag;   /* jc_tag(0, epoch field) of each */
    RasEntry ras[RAS_SIZE];
    uint32_t jc_epoch_counter;              /* the last non-global epoch given out */
    uint32_t jc_pcid_epoch[JC_ASIDS];
    /* bit per hashed linear page that blocks in the cache may start on:
     * [0] entries with a non-global epoch, [1] global ones */
    uint64_t jc_page_filter[2][(1u << JMP_CACHE_PAGE_FILTER_BITS) / 64];
    unsigned jc_page_filter_set;
    /* The aligned region covering every 2M/4M/1G page entered since the last
     * full flush (mask 0: none): INVLPG inside it drops everything, since
     * the TLB holds such pages as 4K pieces. */
    uint64_t large_page_addr, large_page_mask;
    /* bit m: tlb[m] may hold valid entries (a flush skips the others) */
    unsigned tlb_filled_modes;
    /* bit m: tlb[m] may hold global entries (a CR3 write must keep them) */
    unsigned tlb_global_modes;
    /* The slots filled since the last flush of each mode (up to
     * TLB_FILL_LOG of them): a CR3 write clears just those. */
    uint16_t tlb_fill_log[MMU_MODES][TLB_FILL_LOG];
    unsigned tlb_fill_count[MMU_MODES];
    /* Physical page -> the main slots of a mode that may map it: chains
     * through the slots (slot + 1, 0 ends a chain; doubly linked, so a
     * slot leaves its chain in constant time), so tlb_protect_code looks
     * at a few slots instead of the whole TLB. A slot is on the chain of
     * the page it was last given (tlb_rmap_bucket: bucket + 1, 0 none)
     * until it is given another; readers check the entry itself. */
    uint16_t tlb_rmap_head[MMU_MODES][TLB_RMAP_SIZE];
    uint16_t tlb_rmap_next[MMU_MODES][TLB_SIZE];
    uint16_t tlb_rmap_prev[MMU_MODES][TLB_SIZE];   /* 0: the chain's head */
    uint16_t tlb_rmap_bucket[MMU_MODES][TLB_SIZE];
    /* The victim TLB (same entry format; only the slow path reads it). */
    TLBEntry tlb_victim[MMU_MODES][TLB_VICTIM_SIZE];
    TLBExtra tlb_victim_extra[MMU_MODES][TLB_VICTIM_SIZE];
    unsigned tlb_victim_next[MMU_MODES];   /* round-robin replacement */
    /* the PCID whose non-global entries the TLB holds; the others' */
    unsigned tlb_pcid;
    TLBPcidSlot tlb_pcid_slot[TLB_PCID_SLOTS];
    uint64_t tlb_pcid_clock;

    CPUX86State *env;
    struct VCPU *cpu;
    TCGContext *ctx;
    const TCGBackend *backend;
    struct TBCache *cache;

    /* interpreter: the instruction being executed (for precise unwinding) */
    TranslationBlock *interp_tb;
    int interp_insn;
    bool in_interp;
    void *interp_frame;
    void *backend_state;     /* x86_64: the code buffer */

    /* the board's interrupt acknowledge, called with the machine lock held */
    int (*board_intack)(CPUX86State *env);

    /* bumped by every full flush: TB pointers from before are stale */
    unsigned flush_count;
    /* statistics (monitor "info jit") */
    uint64_t stat_translated, stat_invalidated, stat_code_bytes, stat_guest_bytes;
    /* translations where an invalidated block started, and those of the same bytes
     * (-d jit only: accel/tcg-retrans.c) */
    uint64_t stat_retrans, stat_retrans_same;
    uint64_t stat_shared;    /* blocks that reuse a PC-relative translation */
    uint64_t stat_tlb_fills;             /* TLB misses that walked */
    uint64_t stat_tlb_victim_hits;       /* TLB misses the victim TLB served */
    uint64_t stat_slow_ld, stat_slow_st; /* guest accesses that left the inline fast path */
    uint64_t stat_slow_cross;            /* ... of them, accesses crossing a page */
    uint64_t stat_slow_code;             /* stores to pages holding translated code */
    uint64_t stat_slow_tlb_hit;          /* ... that the TLB entry allowed (a shared probe failed) */
    uint64_t stat_tlb_flushes;           /* full TLB flushes */
    uint64_t stat_tlb_flushes_nonglobal; /* CR3 writes that flushed */
    uint64_t stat_tlb_flushes_page;      /* INVLPG and the like */
    uint64_t stat_jc_revalidations;      /* jump-cache entries checked after a flush */
    uint64_t stat_jc_stale;              /* ... and found stale */
    uint64_t stat_hash_lookups;          /* jump-cache misses looked up by physical PC */
    uint64_t stat_pcid_switches;         /* CR3 writes to another PCID */
    uint64_t stat_pcid_restored;         /* ... that kept its entries */
    uint64_t stat_lookup_slow;   /* indirect jumps that took the C lookup (x86_64) */
    uint64_t stat_loop_passes;   /* blocks the loop looked up and ran */
    uint64_t stat_jump_lookups;  /* goto_tbs pointed at the jump cache (not chainable) */
    uint64_t stat_regions;       /* hot loop heads translated again as regions */
    /* -d jit: thread CPU ns spent translating: front end (decode to IR), middle
     * (optimiser, liveness), back end (host code) */
    uint64_t stat_xlate_ns[3];
    uint64_t stat_xlate_region_ns;   /* ... of it, translating regions */
    uint64_t stat_ir_ops, stat_ir_temps;   /* IR ops (after liveness) and temps of all translations */
    /* Transfer sites (tcg/x86_64/xlink.c): the blocks their lookups found,
     * jumped to straight while the generation of the link's class is the
     * one it was linked in. [1]: links to blocks on global pages, which CR3
     * writes leave alone (as the jump cache's global epoch); [0]: the
     * others. Bumped by everything that makes jump-cache entries stale or
     * removes them (and by invalidating a block a site links to). */
    uint32_t xlink_gen[2];
    uint64_t stat_xlink_links;   /* sites (re)linked to a block */
    uint64_t stat_xlink_patches; /* ... that patched their code (another block) */
    uint64_t stat_xlink_misses;  /* site misses that took the C path */
    uint64_t stat_xlink_mega;    /* sites given up (many targets, or none fit) */
    uint64_t stat_xfer[XFER_KINDS];        /* -accel tcg,xfer-stats=on: lookups */
    uint64_t stat_xfer_probe[XFER_KINDS];  /* ... that a site did not serve */
    uint64_t stat_back_trips;    /* back-edge trips counted in the loop (unchained) */
    uint64_t stat_entries;       /* block entries (-d jitcount: the code counts them) */
    /* -d jitcount: entries into the runtime's whole jump-cache probe (an
     * inline probe missed, or a jump sent to the jump cache), hits in each way */
    uint64_t stat_jc_runtime, stat_jc_runtime_hit[JMP_CACHE_WAYS];
    uint64_t stat_victim_probes, stat_victim_probe_hits[MMU_MODES];   /* -d jitcount: the slow paths' own */
    uint64_t stat_ras_hits;      /* -d jitcount: RETs the return stack sent to their block */
    uint64_t stat_cache_refills; /* ... that refilled the cache from the TLB (-d jitcount) */
    uint64_t stat_cache_uses;    /* accesses through loop access caches (-d jitcount) */
    uint64_t stat_probe_runs;    /* loop-invariant probes (qemu_probe) run (-d jitcount) */
    uint64_t stat_probe_misses;  /* ... that failed: that loop entry's accesses did their own checks */
    uint64_t stat_probe_crossing; /* ... whose window crossed a page */
    uint64_t stat_probe_write_misses; /* ... whose window was checked for writes */

    /* the next block is translated with one instruction (SMC within a block) */
    bool single_insn_next;

    /* requests from other threads, acted upon at the next loop turn: pages
     * written by DMA or by another vCPU, pages that became code elsewhere */
    pthread_mutex_t inval_lock;
    struct { uint64_t paddr; uint8_t kind, size; } inval[64];
    int nr_inval;
    bool inval_overflow;     /* drop all translations */
    bool tlb_flush_pending;  /* the memory layout changed: drop the TLB */
} TCGCPU;

static inline TCGCPU *tcg_cpu(CPUX86State *env) { return (TCGCPU *)env->accel; }

/* accel/tcg-tlb.c */
void tlb_init(TCGCPU *t);
uint64_t tcg_ld_slow(CPUX86State *env, uint64_t vaddr, unsigned memop, int mmu_idx, uintptr_t ra);
void tcg_st_slow(CPUX86State *env, uint64_t vaddr, uint64_t value, unsigned memop, int mmu_idx, uintptr_t ra);
void *tlb_host_ptr(CPUX86State *env, uint64_t vaddr, bool write, int mmu_idx, uintptr_t ra);
/* Protect a physical page's TLB entries for writes (it now holds code). */
void tlb_protect_code(TCGCPU *t, uint64_t paddr_page);
void tlb_unprotect_code(TCGCPU *t, uint64_t paddr_page);
/* Shared with accel/tcg-pcid.c: drop the current PCID's non-global entries,
 * moving them into save when given. */
void tlb_drop_nonglobal(TCGCPU *t, TLBPcidSlot *save);
/* Put a set-aside entry back in its slot. *victim_modes: the modes whose
 * victim TLB may hold entries (from tlb_victim_modes, updated here): the
 * others' need no search for a copy of its page. */
void tlb_put_back(TCGCPU *t, const TLBSaved *s, unsigned *victim_modes);
unsigned tlb_victim_modes(TCGCPU *t);

/* accel/tcg-pcid.c */
void tlb_pcid_reset(TCGCPU *t);   /* forget every other PCID (full flush) */
void tlb_pcid_free(TCGCPU *t);
bool tlb_code_page_global(CPUX86State *env, uint64_t linear);

/* accel/tcg-tb.c */
typedef struct TBCache TBCache;
TBCache *tb_cache_new(size_t code_bytes);   /* sized for a code buffer of code_bytes */
unsigned tb_cache_capacity(size_t code_bytes);
void tb_cache_free(TBCache *c);
unsigned tb_cache_count(TCGCPU *t);   /* TBs in the cache now */
TranslationBlock *tb_find(TCGCPU *t, uint64_t pc, uint64_t cs_base, uint32_t flags, uint32_t cflags);
TranslationBlock *tb_lookup_fast(CPUX86State *env);   /* jump cache + hash, no translation */
/* Translate old's code again with a region planned from its start (a hot
 * loop head) and let the new block supersede it; returns the new block. */
TranslationBlock *tb_retranslate_region(TCGCPU *t, TranslationBlock *old);
/* Trips of a back edge before its target becomes a region (0: plan a
 * region whenever a block is translated): -accel tcg,region-trips=N. */
#define REGION_TRIPS_DEFAULT 64
extern unsigned tcg_region_trips;
TranslationBlock *tb_from_host_ra(TCGCPU *t, uintptr_t ra);
void tb_flush(TCGCPU *t);
/* Invalidate every TB on the physical page; returns true when code was there. */
bool tb_invalidate_phys_page(TCGCPU *t, uint64_t paddr_page);
bool tb_invalidate_phys_range(TCGCPU *t, uint64_t paddr, unsigned len);
void tb_note_data_write(TCGCPU *t, uint64_t paddr_page);
void tb_release_pages(TCGCPU *t);
bool tb_page_has_code(TCGCPU *t, uint64_t paddr_page);
/* Would a write of size bytes at paddr (within one page) touch translated
 * code? (Exact once a page has seen a few writes.) */
bool tb_write_hits_code(TCGCPU *t, uint64_t paddr, unsigned size);
/* Machine-wide: does any vCPU hold translations of this physical page? */
bool code_page_in_use(TCGCPU *t, uint64_t paddr_page);
unsigned code_page_users(TCGCPU *t, uint64_t paddr_page);
void code_map_init(uint64_t max_paddr);
/* Kinds of cross-thread requests (TCGCPU.inval) */
enum { INVAL_PAGE, INVAL_WRITE, INVAL_PROTECT };
void tcg_request(TCGCPU *t, uint64_t paddr, unsigned kind, unsigned size);
/* Ask every other vCPU (all when self is NULL) to act on a page. */
void tcg_request_others(TCGCPU *self, uint64_t paddr, unsigned kind, unsigned size);
/* Do tb's pages still map at linear PC lin as when it was translated? */
bool tb_maps_at(CPUX86State *env, const TranslationBlock *tb, uint64_t lin);

/* accel/tcg-jmp-cache.c */
void tb_jmp_cache_clear(TCGCPU *t);
void tb_jmp_cache_clear_page(TCGCPU *t, uint64_t linear);
/* CR3 now holds PCID pcid (a switch from another): its entries are current
 * again when keep (CR3 bit 63) and they were not dropped since. */
void tb_jmp_cache_switch_pcid(TCGCPU *t, unsigned pcid, bool keep);
/* Set up t's jump cache (empty, first epochs). */
void tb_jmp_cache_init(TCGCPU *t);
/* The entry for linear PC lin (hash h), or NULL. */
TranslationBlock *jc_lookup(TCGCPU *t, unsigned h, uint64_t lin, uint64_t pc, uint64_t cs_base, uint32_t flags);
void jc_store(TCGCPU *t, unsigned h, uint64_t lin, TranslationBlock *tb);
/* tb is being invalidated: drop its entry. */
void jc_remove(TCGCPU *t, const TranslationBlock *tb);
bool ras_slot_accepts(const RetSlot *slot, const TranslationBlock *tb);
/* May a transfer site jump straight to tb, found at linear PC lin? If so,
 * tb's invalidation and every change to where lin leads make the generation
 * returned in *gen stale: xlink_gen[*global], global when CR3 writes do not
 * (all of tb's pages are global). */
bool xlink_admit(TCGCPU *t, TranslationBlock *tb, uint64_t lin, bool *global, uint32_t *gen);
/* Non-global entries found under PCID asid are stale from now on; all
 * entries are. */
void tb_jmp_cache_drop_asid(TCGCPU *t, unsigned asid);
void tb_jmp_cache_drop_all(TCGCPU *t);
void tb_set_jump(TCGCPU *t, TranslationBlock *tb, int n, TranslationBlock *dest);
/* Flags of the current state that are part of the TB key. */
uint32_t tb_flags_of(CPUX86State *env);

/* accel/tcg.c */
extern bool tcg_use_interp;
/* Translation statistics of every vCPU, for the monitor ("info jit"). */
void tcg_dump_jit_info(FILE *f);
extern __thread TCGCPU *tcg_current_cpu;   /* the vCPU this thread runs */
TCGCPU *tcg_cpu_create(CPUX86State *env, struct VCPU *cpu);
void tcg_cpu_destroy(CPUX86State *env);
void tcg_select_backend(bool interp);
void tcg_run_until_exit(CPUX86State *env);
/* The same with a bound: at most max_turns returns to the loop (something
 * else must set exit_flag now and then); false when the bound was hit. */
bool tcg_run_for(CPUX86State *env, unsigned max_turns);
/* Store hit code: invalidate; may longjmp when the running block changed itself. */
void tcg_code_write(CPUX86State *env, uint64_t paddr, unsigned size, uintptr_t ra);

#endif
