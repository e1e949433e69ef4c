/* The translation-block cache of a vCPU: lookup by physical PC (hash) and by
 * virtual PC (jump cache), translation on a miss, chaining, the physical
 * pages that hold code (for self-modifying code), and flushing.
 *
 * The jump cache itself is in accel/tcg-jmp-cache.c.
 *
 * 64-bit user code is translated PC-relative (see tb_use_pcrel): the same
 * physical code met at another virtual PC (a library or program mapped at a
 * new address in every process) gets an alias TB, a TB of its own for that
 * PC that runs the first translation's host code. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "accel/tcg-perfmap.h"
#include "accel/tcg-retrans.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/translate.h"
#include "cpu/x86/translate-helpers.h"
#include "system/gdbstub.h"
#include "system/log.h"
#include "system/util.h"

/* Capacity follows the code buffer (-accel tcg,tb-size=MIB): blocks average
 * about 400 bytes of host code, so one block per TB_BYTES_PER_BLOCK lets the
 * buffer, not the block table, decide when everything is flushed. The
 * tables are allocated zeroed and touched only as they fill (RSS follows use). */
#define TB_BYTES_PER_BLOCK 256
#define TB_MAX_MIN 16384
#define TB_MAX_MAX (512 * 1024)
#define ALIAS_PER_TB 2          /* blocks running another block's code */
#define PAGES_PER_TB 2          /* physical pages with code */
#define ARENA_PER_TB 1024       /* restore data; the interpreter's programs too */
#define ARENA_MIN (64 * MiB)
#define PAGE_HASH_SIZE (1 << 14)
#define MAX_INSNS_PER_TB 512

typedef struct PageDesc {
    uint64_t page;
    uintptr_t first;            /* tagged TB pointer: tb | which page of the tb */
    struct PageDesc *next;
    /* Pages with code and data mixed: after a few writes, a bitmap of the
     * bytes covered by TBs lets writes elsewhere on the page leave the code. */
    unsigned writes;
    uint8_t *code_bitmap;       /* TARGET_PAGE_SIZE bits, or NULL */
    /* Stores that trapped here without hitting translated code: a page
     * whose blocks are long dead (memory freed and reused for data) would
     * trap at every store for ever, so after enough of them its blocks all
     * go and the page is written freely again. */
    unsigned data_writes;
} PageDesc;

#define WRITES_BEFORE_BITMAP 4
#define DATA_WRITES_BEFORE_PAGE_FLUSH 256

struct TBCache {
    TranslationBlock *tbs;       /* translations, in code buffer order */
    int nb_tbs, tb_max;
    TranslationBlock *aliases;   /* TBs running another TB's code */
    int nb_aliases, alias_max;
    unsigned hash_bits;          /* both hashes have 1 << hash_bits buckets */
    TranslationBlock **hash;
    /* PC-relative translations by (physical PC, flags) */
    TranslationBlock **shared_hash;
    PageDesc *pages[PAGE_HASH_SIZE];
    PageDesc *page_pool;
    int nb_pages, page_max;
    uint8_t *arena;
    size_t arena_used, arena_size;
};

/* Blocks a code buffer of code_bytes holds before it flushes. */
unsigned tb_cache_capacity(size_t code_bytes)
{
    size_t n = code_bytes / TB_BYTES_PER_BLOCK;
    return (unsigned)MIN(MAX(n, (size_t)TB_MAX_MIN), (size_t)TB_MAX_MAX);
}

TBCache *tb_cache_new(size_t code_bytes)
{
    TBCache *c = xzalloc(sizeof(*c));
    c->tb_max = (int)tb_cache_capacity(code_bytes);
    c->alias_max = c->tb_max * ALIAS_PER_TB;
    c->page_max = c->tb_max * PAGES_PER_TB;
    /* about one bucket per block: chains stay short with the aliases in */
    c->hash_bits = 1;
    while ((1u << c->hash_bits) < (unsigned)c->tb_max)
        c->hash_bits++;
    c->arena_size = MAX((size_t)ARENA_MIN, (size_t)c->tb_max * ARENA_PER_TB);
    c->tbs = xzalloc(sizeof(TranslationBlock) * (size_t)c->tb_max);
    c->aliases = xzalloc(sizeof(TranslationBlock) * (size_t)c->alias_max);
    c->page_pool = xzalloc(sizeof(PageDesc) * (size_t)c->page_max);
    c->hash = xzalloc(sizeof(*c->hash) << c->hash_bits);
    c->shared_hash = xzalloc(sizeof(*c->shared_hash) << c->hash_bits);
    c->arena = xmalloc(c->arena_size);
    return c;
}

void tb_cache_free(TBCache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nb_pages; i++)
        free(c->page_pool[i].code_bitmap);
    free(c->tbs);
    free(c->aliases);
    free(c->page_pool);
    free(c->hash);
    free(c->shared_hash);
    free(c->arena);
    free(c);
}

void *tb_arena_alloc(TCGCPU *t, size_t n);
void *tb_arena_alloc(TCGCPU *t, size_t n)
{
    TBCache *c = t->cache;
    n = ALIGN_UP(n, 16);
    if (c->arena_used + n > c->arena_size)
        return NULL;
    void *p = c->arena + c->arena_used;
    c->arena_used += n;
    return p;
}

/* The same physical code is often mapped at different virtual addresses
 * (shared libraries, PIE programs): all of pc, phys_pc and flags count. */
static unsigned tb_hash(const TBCache *c, uint64_t phys_pc, uint64_t pc, uint32_t flags)
{
    uint64_t h = (phys_pc ^ (pc * 0xff51afd7ed558ccdULL) ^ ((uint64_t)flags << 32)) * 0x9e3779b97f4a7c15ULL;
    return (unsigned)(h >> (64 - c->hash_bits));
}

static unsigned shared_hash(const TBCache *c, uint64_t phys_pc, uint32_t flags)
{
    uint64_t h = (phys_pc ^ ((uint64_t)flags << 40)) * 0x9e3779b97f4a7c15ULL;
    return (unsigned)(h >> (64 - c->hash_bits));
}

static unsigned page_hash(uint64_t page)
{
    return (unsigned)((page >> TARGET_PAGE_BITS) * 0x9e3779b1u >> 8) & (PAGE_HASH_SIZE - 1);
}


uint32_t tb_flags_of(CPUX86State *env)
{
    uint32_t f = env->hflags | x86_seg_tb_flags(env);
    if ((env->dr[7] & 0xff) && (x86_insn_breakpoints_enabled(env) || x86_data_breakpoints_enabled(env)))
        f |= TBF_DEBUG;
    return f;
}

static PageDesc *page_find(TBCache *c, uint64_t page, bool alloc)
{
    unsigned h = page_hash(page);
    for (PageDesc *p = c->pages[h]; p; p = p->next)
        if (p->page == page)
            return p;
    if (!alloc || c->nb_pages >= c->page_max)
        return NULL;
    PageDesc *p = &c->page_pool[c->nb_pages++];
    p->page = page;
    p->first = 0;
    p->writes = 0;
    p->code_bitmap = NULL;
    p->next = c->pages[h];
    c->pages[h] = p;
    return p;
}

bool tb_page_has_code(TCGCPU *t, uint64_t paddr_page)
{
    PageDesc *p = page_find(t->cache, paddr_page, false);
    return p && p->first;
}

/* ---- machine-wide code pages -------------------------------------------------
 * How many vCPUs hold translations of each physical page, so that a store by
 * any vCPU to a page another one translated takes the slow path and reaches
 * the others (self-modifying code across vCPUs). */
static _Atomic uint16_t *code_map;
static uint64_t code_map_pages;

void code_map_init(uint64_t max_paddr)
{
    free((void *)code_map);   /* (re)initialised before any vCPU translates */
    code_map_pages = max_paddr >> TARGET_PAGE_BITS;
    code_map = calloc(code_map_pages, sizeof(*code_map));
    if (!code_map)
        code_map_pages = 0;
}

static _Atomic uint16_t *code_map_slot(uint64_t page)
{
    uint64_t i = page >> TARGET_PAGE_BITS;
    return i < code_map_pages ? &code_map[i] : NULL;
}

unsigned code_page_users(TCGCPU *t, uint64_t paddr_page)
{
    _Atomic uint16_t *c = code_map_slot(paddr_page);
    if (c)
        return atomic_load(c);
    return tb_page_has_code(t, paddr_page);
}

bool code_page_in_use(TCGCPU *t, uint64_t paddr_page)
{
    _Atomic uint16_t *c = code_map_slot(paddr_page);
    if (c)
        return atomic_load(c) != 0;
    return tb_page_has_code(t, paddr_page);
}

/* This vCPU started (delta 1) or stopped (-1) holding code of a page. */
static void code_map_update(TCGCPU *t, uint64_t page, int delta)
{
    _Atomic uint16_t *c = code_map_slot(page);
    if (!c)
        return;
    if (delta > 0) {
        if (atomic_fetch_add(c, 1) == 0)
            tcg_request_others(t, page, INVAL_PROTECT, 0);
    } else {
        atomic_fetch_sub(c, 1);
    }
}

static void page_drop_bitmap(PageDesc *p)
{
    free(p->code_bitmap);
    p->code_bitmap = NULL;
}

/* This vCPU holds no code of any page any more (for the machine-wide map
 * other vCPUs and stores consult). */
void tb_release_pages(TCGCPU *t)
{
    TBCache *c = t->cache;
    for (int i = 0; i < c->nb_pages; i++) {
        page_drop_bitmap(&c->page_pool[i]);
        if (c->page_pool[i].first)
            code_map_update(t, c->page_pool[i].page, -1);
        c->page_pool[i].first = 0;
    }
}

void tb_flush(TCGCPU *t)
{
    TBCache *c = t->cache;
    tb_release_pages(t);
    c->nb_tbs = 0;
    c->nb_aliases = 0;
    c->nb_pages = 0;
    c->arena_used = 0;
    memset(c->hash, 0, sizeof(*c->hash) << c->hash_bits);
    memset(c->shared_hash, 0, sizeof(*c->shared_hash) << c->hash_bits);
    memset(c->pages, 0, sizeof(c->pages));
    tb_jmp_cache_clear(t);
    tlb_init(t);
    t->backend->reset();
    t->flush_count++;
}

/* ---- physical PC of a virtual one, without faulting ------------------------------ */
static bool get_phys(CPUX86State *env, uint64_t linear, uint64_t *phys)
{
    uint8_t b;
    return x86_fetch_code_byte(env, linear, &b, phys);
}

static uint64_t linear_pc(CPUX86State *env, uint64_t pc, uint64_t cs_base)
{
    uint64_t l = cs_base + pc;
    return (env->hflags & HF_CS64_MASK) ? l : (uint32_t)l;
}

/* A block spanning two pages is only valid where its second page maps to the
 * same physical page as when it was translated. */
static bool second_page_matches(CPUX86State *env, const TranslationBlock *tb, uint64_t lin)
{
    if (tb->phys_page2 == (uint64_t)-1)
        return true;
    uint64_t p2;
    return get_phys(env, (lin & TARGET_PAGE_MASK) + TARGET_PAGE_SIZE, &p2) &&
           (p2 & TARGET_PAGE_MASK) == tb->phys_page2;
}

bool tb_maps_at(CPUX86State *env, const TranslationBlock *tb, uint64_t lin)
{
    uint64_t phys;
    return get_phys(env, lin, &phys) && phys == tb->phys_pc && second_page_matches(env, tb, lin);
}

static TranslationBlock *hash_lookup(TCGCPU *t, uint64_t phys, uint64_t pc, uint64_t cs_base,
                                     uint32_t flags, uint32_t cflags)
{
    CPUX86State *env = t->env;
    t->stat_hash_lookups++;
    for (TranslationBlock *tb = t->cache->hash[tb_hash(t->cache, phys, pc, flags)]; tb; tb = tb->hash_next) {
        if (tb->phys_pc != phys || tb->pc != pc || tb->cs_base != cs_base ||
            tb->flags != flags || tb->cflags != cflags || tb->invalid)
            continue;
        if (!second_page_matches(env, tb, linear_pc(env, pc, cs_base)))
            continue;
        return tb;
    }
    return NULL;
}

static void page_add_tb(TCGCPU *t, uint64_t page, TranslationBlock *tb, int which)
{
    PageDesc *p = page_find(t->cache, page, true);
    if (!p)
        return;
    page_drop_bitmap(p);   /* rebuilt on demand with the new TB */
    bool first_code = !p->first;
    if (first_code)
        p->data_writes = 0;
    tb->page_next[which] = (TranslationBlock *)p->first;
    p->first = (uintptr_t)tb | (uintptr_t)which;
    if (first_code) {
        tlb_protect_code(t, page);
        code_map_update(t, page, 1);
    }
}

/* ---- translation -------------------------------------------------------------------- */
/* 64-bit user code: where the same physical code runs at many virtual
 * addresses. Kernel code keeps absolute PCs (one address, slightly faster). */
static bool tb_use_pcrel(uint32_t flags)
{
    return (flags & HF_CS64_MASK) && (flags & HF_CPL_MASK) == 3;
}

/* The guest bytes [start, end) of a TB, disassembled at their PCs. */
static void log_in_asm_run(CPUX86State *env, const TranslationBlock *tb, unsigned start, unsigned end)
{
    uint8_t buf[4096];
    unsigned n = end > start ? MIN(end - start, sizeof(buf)) : 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t ph;
        if (!x86_fetch_code_byte(env, linear_pc(env, tb->pc + start + i, tb->cs_base), &buf[i], &ph))
            n = i;
    }
    int mode = (tb->flags & HF_CS64_MASK) ? 64 : (tb->flags & HF_CS32_MASK) ? 32 : 16;
    log_disas_x86(buf, n, tb->pc + start, mode);
}

/* The guest code of tb: its runs between the jumps it followed. */
static void log_in_asm(CPUX86State *env, const TranslationBlock *tb, const TranslationBlock *shared)
{
    log_printf("IN: pc=0x%" PRIx64 " cs_base=0x%" PRIx64 " flags=0x%x", tb->pc, tb->cs_base, tb->flags);
    if (shared)
        log_printf(" (runs the translation made at pc=0x%" PRIx64 ")", shared->pc);
    log_printf("\n");
    unsigned start = 0;
    for (unsigned i = 0; i < tb->nb_follow; i++) {
        log_in_asm_run(env, tb, start, tb->follow[i].jmp_end);
        start = tb->follow[i].target;
    }
    log_in_asm_run(env, tb, start, tb->size);
    log_printf("\n");
}

static void hash_insert(TBCache *c, TranslationBlock *tb)
{
    unsigned h = tb_hash(c, tb->phys_pc, tb->pc, tb->flags);
    tb->hash_next = c->hash[h];
    c->hash[h] = tb;
}

/* Make tb findable by PC and invalidated with its pages. */
static void tb_publish(TCGCPU *t, TranslationBlock *tb)
{
    hash_insert(t->cache, tb);
    page_add_tb(t, tb->phys_pc & TARGET_PAGE_MASK, tb, 0);
    if (tb->phys_page2 != (uint64_t)-1)
        page_add_tb(t, tb->phys_page2, tb, 1);
}

/* A PC-relative translation of phys with these flags that is valid at
 * linear PC lin (its second page, if any, maps the same), or NULL. */
static TranslationBlock *shared_lookup(TCGCPU *t, uint64_t phys, uint64_t lin, uint64_t cs_base,
                                       uint32_t flags, uint32_t cflags)
{
    for (TranslationBlock *tb = t->cache->shared_hash[shared_hash(t->cache, phys, flags)]; tb; tb = tb->shared_next) {
        if (tb->phys_pc == phys && tb->flags == flags && tb->cs_base == cs_base && tb->cflags == cflags &&
            !tb->invalid && second_page_matches(t->env, tb, lin))
            return tb;
    }
    return NULL;
}

/* A TB for pc that runs the code of the PC-relative translation base. */
static TranslationBlock *tb_alias(TCGCPU *t, TranslationBlock *base, uint64_t pc)
{
    TBCache *c = t->cache;
    if (c->nb_aliases >= c->alias_max)
        return NULL;
    TranslationBlock *tb = &c->aliases[c->nb_aliases++];
    *tb = *base;
    tb->pc = pc;
    tb->alias = true;
    memset(tb->jmp_target, 0, sizeof(tb->jmp_target));
    tb->jmp_in = NULL;
    tb->hash_next = tb->shared_next = NULL;
    tb->page_next[0] = tb->page_next[1] = NULL;
    t->stat_shared++;
    if (log_enabled(LOG_IN_ASM))
        log_in_asm(t->env, tb, base);
    tb_publish(t, tb);
    return tb;
}

/* A back edge taken this often makes its target a region (0: every block
 * is planned as one when translated). */
unsigned tcg_region_trips = REGION_TRIPS_DEFAULT;

/* For the -d jit translation times: the thread's CPU time (a machine
 * shared with other work preempts us often), only under -d jit (it is a
 * system call, ~0.4 us). */
static uint64_t xlate_clock(void)
{
    struct timespec ts;
    if (!log_enabled(LOG_JIT))
        return 0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static TranslationBlock *tb_gen_code(TCGCPU *t, uint64_t phys, uint64_t pc, uint64_t cs_base,
                                     uint32_t flags, uint32_t cflags, bool region)
{
    TBCache *c = t->cache;
    CPUX86State *env = t->env;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->nb_tbs >= c->tb_max || c->arena_used > c->arena_size - 256 * KiB) {
            tb_flush(t);
            continue;
        }
        TranslationBlock *tb = &c->tbs[c->nb_tbs];
        memset(tb, 0, sizeof(*tb));
        tb->pc = pc;
        tb->cs_base = cs_base;
        tb->flags = flags;
        tb->cflags = cflags;
        tb->phys_pc = phys;
        tb->phys_page2 = (uint64_t)-1;
        tb->pcrel = tb_use_pcrel(flags);
        tb->region = region || tcg_region_trips == 0;

        uint64_t t0 = xlate_clock();
        x86_translate_block(env, tb, MAX_INSNS_PER_TB);
        TCGContext *s = tcg_ctx;
        if (s->overflow) {
            /* Too big for the IR buffers: retry with one instruction. */
            tb->cflags |= CF_SINGLE_INSN;
            x86_translate_block(env, tb, 1);
            tb->cflags = cflags;
        }
        if (log_enabled(LOG_IN_ASM))
            log_in_asm(env, tb, NULL);
        if (log_enabled(LOG_OP)) {
            log_printf("OP: pc=0x%" PRIx64 "\n", pc);
            tcg_dump_ops(s, log_file());
        }
        uint64_t t1 = xlate_clock();
        tcg_optimize(s);
        tcg_liveness(s);
        uint64_t t2 = xlate_clock();
        t->stat_ir_ops += (uint64_t)s->nb_ops;
        t->stat_ir_temps += (uint64_t)s->nb_temps;
        if (log_enabled(LOG_OP)) {
            log_printf("OP after optimisation:\n");
            tcg_dump_ops(s, log_file());
            log_printf("\n");
        }
        /* per-instruction restore data */
        unsigned n = tb->icount ? tb->icount : 1;
        tb->insn_pc = tb_arena_alloc(t, n * sizeof(uint64_t));
        tb->insn_cc_op = tb_arena_alloc(t, n * sizeof(uint32_t));
        tb->insn_host_end = tb_arena_alloc(t, n * sizeof(uint32_t));
        if (!tb->insn_pc || !tb->insn_cc_op || !tb->insn_host_end) {
            tb_flush(t);
            continue;
        }
        unsigned k = 0;
        for (int i = 0; i < s->nb_ops && k < n; i++) {
            if (s->ops[i].opc == INDEX_op_insn_start) {
                /* PC-relative: the offset from the start's page */
                tb->insn_pc[k] = s->ops[i].args[0] - (tb->pcrel ? TB_PAGE_BASE(pc) : 0);
                tb->insn_cc_op[k] = (uint32_t)s->ops[i].args[1];
                tb->insn_host_end[k] = 0;
                k++;
            }
        }
        tb->icount = k;
        if (!t->backend->gen_code(s, tb)) {
            tb_flush(t);
            continue;
        }
        uint64_t t3 = xlate_clock();
        t->stat_xlate_ns[0] += t1 - t0;
        t->stat_xlate_ns[1] += t2 - t1;
        t->stat_xlate_ns[2] += t3 - t2;
        if (tb->region)
            t->stat_xlate_region_ns += t3 - t0;
        if (log_enabled(LOG_OUT_ASM) && t->backend->dump)
            t->backend->dump(tb);
        if (log_enabled(LOG_PERFMAP))
            perfmap_note_tb(tb);
        c->nb_tbs++;
        t->stat_translated++;
        t->stat_code_bytes += tb->code_size;
        t->stat_guest_bytes += tb->size;
        retrans_note_new(t, tb);
        tb_publish(t, tb);
        if (tb->pcrel) {
            unsigned h = shared_hash(c, phys, flags);
            tb->shared_next = c->shared_hash[h];
            c->shared_hash[h] = tb;
        }
        return tb;
    }
    fatal("translator: cannot translate the block at 0x%" PRIx64 " (code buffer too small)", pc);
}

/* Reuse a PC-relative translation of the same physical code (not while
 * the debugger has breakpoints: they are compiled in at their addresses). */
static TranslationBlock *tb_share(TCGCPU *t, uint64_t phys, uint64_t pc, uint64_t cs_base,
                                  uint32_t flags, uint32_t cflags)
{
    if (!tb_use_pcrel(flags) || atomic_load(&gdb_nr_breakpoints))
        return NULL;
    TranslationBlock *base = shared_lookup(t, phys, linear_pc(t->env, pc, cs_base), cs_base, flags, cflags);
    return base ? tb_alias(t, base, pc) : NULL;
}

TranslationBlock *tb_find(TCGCPU *t, uint64_t pc, uint64_t cs_base, uint32_t flags, uint32_t cflags)
{
    CPUX86State *env = t->env;
    uint64_t lin = linear_pc(env, pc, cs_base);
    unsigned h = jmp_cache_hash(lin);
    TranslationBlock *tb = cflags == 0 ? jc_lookup(t, h, lin, pc, cs_base, flags) : NULL;
    if (tb)
        return tb;
    uint64_t phys;
    if (!get_phys(env, lin, &phys))
        x86_fetch_fault(env, pc);
    tb = hash_lookup(t, phys, pc, cs_base, flags, cflags);
    if (!tb)
        tb = tb_share(t, phys, pc, cs_base, flags, cflags);
    if (!tb)
        tb = tb_gen_code(t, phys, pc, cs_base, flags, cflags, false);
    if (cflags == 0)
        jc_store(t, h, lin, tb);
    return tb;
}

TranslationBlock *tb_lookup_fast(CPUX86State *env)
{
    TCGCPU *t = tcg_cpu(env);
    if (atomic_load_explicit(&t->exit_flag, memory_order_relaxed) || log_enabled(LOG_EXEC | LOG_CPU))
        return NULL;   /* back to the loop (which traces each block under -d exec/cpu) */
    uint64_t pc = env->rip, cs_base = x86_cs_base(env);
    uint32_t flags = tb_flags_of(env);
    uint64_t lin = linear_pc(env, pc, cs_base);
    unsigned h = jmp_cache_hash(lin);
    TranslationBlock *tb = jc_lookup(t, h, lin, pc, cs_base, flags);
    if (tb)
        return tb;
    uint64_t phys;
    if (!get_phys(env, lin, &phys))
        return NULL;
    tb = hash_lookup(t, phys, pc, cs_base, flags, 0);
    if (!tb)
        tb = tb_share(t, phys, pc, cs_base, flags, 0);
    if (tb)
        jc_store(t, h, lin, tb);
    return tb;
}

TranslationBlock *tb_from_host_ra(TCGCPU *t, uintptr_t ra)
{
    TBCache *c = t->cache;
    /* TBs are laid out in the code buffer in allocation order: binary search. */
    int lo = 0, hi = c->nb_tbs - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        TranslationBlock *tb = &c->tbs[mid];
        uintptr_t start = (uintptr_t)tb->code;
        if (ra < start)
            hi = mid - 1;
        else if (ra >= start + tb->code_size)
            lo = mid + 1;
        else
            return tb;
    }
    return NULL;
}

/* Code shared by several virtual PCs may jump straight only to code right
 * for all of them: PC-relative, same flags, and on the same physical page
 * (a direct jump stays on its block's virtual page), on one page only. */
static bool shared_jump_ok(const TranslationBlock *tb, const TranslationBlock *dest)
{
    return dest->pcrel && dest->flags == tb->flags && dest->cs_base == tb->cs_base &&
           dest->cflags == tb->cflags && dest->phys_page2 == (uint64_t)-1 &&
           (dest->phys_pc & TARGET_PAGE_MASK) == (tb->phys_pc & TARGET_PAGE_MASK);
}

void tb_set_jump(TCGCPU *t, TranslationBlock *tb, int n, TranslationBlock *dest)
{
    if (tb->invalid || dest->invalid)
        return;
    if (tb->pcrel && !shared_jump_ok(tb, dest)) {
        /* the jump cache checks what chaining cannot, on every pass */
        if (t->backend->set_jump_lookup)
            t->backend->set_jump_lookup(tb, n);
        t->stat_jump_lookups++;
        return;
    }
    if (!tb_chain_keeps_page_base(tb, dest))
        return;   /* its set-up would read RIP, which a chained jump leaves unset */
    if (tb->jmp_target[n] == dest)
        return;
    TBJumpIn *in = tb_arena_alloc(t, sizeof(*in));
    if (!in)
        return;   /* unchained: the loop goes on linking it until a flush */
    *in = (TBJumpIn){ tb, n, dest->jmp_in };
    dest->jmp_in = in;
    tb->jmp_target[n] = dest;
    t->backend->set_jump(tb, n, dest);
}

/* Jumps chained to tb go back to their exit paths, so that the loop links
 * them to tb's next translation (a jump left chained would enter the
 * invalid code, which leaves for the loop at every pass). */
static void tb_unchain_incoming(TCGCPU *t, TranslationBlock *tb)
{
    for (TBJumpIn *in = tb->jmp_in; in; in = in->next) {
        if (in->from->jmp_target[in->n] != tb || in->from->invalid)
            continue;
        in->from->jmp_target[in->n] = NULL;
        t->backend->set_jump(in->from, in->n, NULL);
    }
    tb->jmp_in = NULL;
}

/* ---- invalidation --------------------------------------------------------------------- */
static void hash_remove(TBCache *c, TranslationBlock *tb)
{
    TranslationBlock **pp = &c->hash[tb_hash(c, tb->phys_pc, tb->pc, tb->flags)];
    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == tb) {
            *pp = tb->hash_next;
            return;
        }
    }
}

static void shared_remove(TBCache *c, TranslationBlock *tb)
{
    TranslationBlock **pp = &c->shared_hash[shared_hash(c, tb->phys_pc, tb->flags)];
    for (; *pp; pp = &(*pp)->shared_next) {
        if (*pp == tb) {
            *pp = tb->shared_next;
            return;
        }
    }
}

/* old is replaced by tb: no lookup finds it, and what still enters it
 * (chained jumps, an alias's or the return stack's code pointer) goes on
 * in tb's code. */
static void tb_supersede(TCGCPU *t, TranslationBlock *old, TranslationBlock *tb)
{
    TBCache *c = t->cache;
    old->invalid = true;
    jc_remove(t, old);
    hash_remove(c, old);
    if (old->pcrel && !old->alias)
        shared_remove(c, old);
    t->backend->redirect(old, tb);
}

TranslationBlock *tb_retranslate_region(TCGCPU *t, TranslationBlock *old)
{
    /* a flush while translating recycles old's slot: take what we need first */
    uint64_t pc = old->pc, cs_base = old->cs_base, phys = old->phys_pc;
    uint32_t flags = old->flags, cflags = old->cflags;
    unsigned gen = t->flush_count;
    TranslationBlock *tb = tb_gen_code(t, phys, pc, cs_base, flags, cflags, true);
    t->stat_regions++;
    if (gen == t->flush_count)
        tb_supersede(t, old, tb);
    if (cflags == 0) {
        uint64_t lin = linear_pc(t->env, pc, cs_base);
        jc_store(t, jmp_cache_hash(lin), lin, tb);
    }
    return tb;
}

static __thread TCGCPU *t_for_remove;

static void page_remove_tb(TBCache *c, uint64_t page, TranslationBlock *tb)
{
    PageDesc *p = page_find(c, page, false);
    if (!p)
        return;
    uintptr_t *pp = &p->first;
    while (*pp) {
        TranslationBlock *cur = (TranslationBlock *)(*pp & ~(uintptr_t)1);
        int which = *pp & 1;
        if (cur == tb) {
            *pp = (uintptr_t)cur->page_next[which];
            if (!p->first)
                code_map_update(t_for_remove, page, -1);
            return;
        }
        pp = (uintptr_t *)&cur->page_next[which];
    }
}

/* tb, reached through its page list entry `which`, is no longer valid:
 * nothing finds it, and its code leaves to the loop. The caller unlinks it
 * from that page's list; this unlinks it from the other page it spans. */
static void tb_invalidate_one(TCGCPU *t, TranslationBlock *tb, int which)
{
    TBCache *c = t->cache;
    tb->invalid = true;
    /* a self-loop checks only the exit flag at its back edge */
    atomic_store(&t->exit_flag, 1);
    t->stat_invalidated++;
    retrans_note_invalid(t, tb);
    jc_remove(t, tb);
    hash_remove(c, tb);
    if (tb->pcrel && !tb->alias)
        shared_remove(c, tb);
    t->backend->invalidate(tb);
    tb_unchain_incoming(t, tb);
    t_for_remove = t;
    if (which == 0 && tb->phys_page2 != (uint64_t)-1)
        page_remove_tb(c, tb->phys_page2, tb);
    else if (which == 1)
        page_remove_tb(c, tb->phys_pc & TARGET_PAGE_MASK, tb);
}

/* The page no longer holds translated code. */
static void page_code_gone(TCGCPU *t, uint64_t paddr_page)
{
    code_map_update(t, paddr_page, -1);
    if (!code_page_in_use(t, paddr_page))
        tlb_unprotect_code(t, paddr_page);
}

bool tb_invalidate_phys_page(TCGCPU *t, uint64_t paddr_page)
{
    PageDesc *p = page_find(t->cache, paddr_page, false);
    if (!p || !p->first)
        return false;
    uintptr_t cur = p->first;
    p->first = 0;
    page_drop_bitmap(p);
    while (cur) {
        TranslationBlock *tb = (TranslationBlock *)(cur & ~(uintptr_t)1);
        int which = cur & 1;
        cur = (uintptr_t)tb->page_next[which];
        if (!tb->invalid)
            tb_invalidate_one(t, tb, which);
    }
    page_code_gone(t, paddr_page);
    return true;
}

static void tb_range_on_page(const TranslationBlock *tb, int which, unsigned *start, unsigned *end);

void tb_note_data_write(TCGCPU *t, uint64_t paddr_page)
{
    PageDesc *p = page_find(t->cache, paddr_page, false);
    if (p && p->first && ++p->data_writes >= DATA_WRITES_BEFORE_PAGE_FLUSH)
        tb_invalidate_phys_page(t, paddr_page);
}

/* Invalidate the blocks whose code covers a byte of [paddr, paddr + len),
 * which lies on one page: a store next to other blocks of the page (the
 * kernel patching one call site, a JIT writing its next function) leaves
 * them be. */
bool tb_invalidate_phys_range(TCGCPU *t, uint64_t paddr, unsigned len)
{
    uint64_t page = paddr & TARGET_PAGE_MASK;
    PageDesc *p = page_find(t->cache, page, false);
    if (!p || !p->first)
        return false;
    unsigned lo = (unsigned)(paddr - page), hi = lo + len;
    bool any = false;
    uintptr_t *pp = &p->first;
    while (*pp) {
        TranslationBlock *tb = (TranslationBlock *)(*pp & ~(uintptr_t)1);
        int which = *pp & 1;
        unsigned start, end;
        tb_range_on_page(tb, which, &start, &end);
        if (tb->invalid || start >= hi || end <= lo) {
            pp = (uintptr_t *)&tb->page_next[which];
            continue;
        }
        *pp = (uintptr_t)tb->page_next[which];
        tb_invalidate_one(t, tb, which);
        any = true;
    }
    if (any) {
        page_drop_bitmap(p);
        if (!p->first)
            page_code_gone(t, page);
    }
    return any;
}

/* The byte range [start, end) of the page that TB covers. */
static void tb_range_on_page(const TranslationBlock *tb, int which, unsigned *start, unsigned *end)
{
    uint64_t first_page_bytes = TARGET_PAGE_SIZE - (tb->phys_pc & ~TARGET_PAGE_MASK);
    if (which == 0) {
        *start = (unsigned)(tb->phys_pc & ~TARGET_PAGE_MASK);
        *end = (unsigned)MIN((uint64_t)*start + tb->size, TARGET_PAGE_SIZE);
    } else {
        *start = 0;
        *end = (unsigned)MIN(tb->size - first_page_bytes, TARGET_PAGE_SIZE);
    }
}

static void build_code_bitmap(PageDesc *p)
{
    p->code_bitmap = xzalloc(TARGET_PAGE_SIZE / 8);
    for (uintptr_t cur = p->first; cur;) {
        TranslationBlock *tb = (TranslationBlock *)(cur & ~(uintptr_t)1);
        int which = cur & 1;
        unsigned start, end;
        tb_range_on_page(tb, which, &start, &end);
        for (unsigned i = start; i < end; i++)
            p->code_bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
        cur = (uintptr_t)tb->page_next[which];
    }
}

bool tb_write_hits_code(TCGCPU *t, uint64_t paddr, unsigned size)
{
    PageDesc *p = page_find(t->cache, paddr & TARGET_PAGE_MASK, false);
    if (!p || !p->first)
        return false;
    if (!p->code_bitmap) {
        if (++p->writes < WRITES_BEFORE_BITMAP)
            return true;
        build_code_bitmap(p);
    }
    unsigned off = (unsigned)(paddr & ~TARGET_PAGE_MASK);
    for (unsigned i = off; i < off + size && i < TARGET_PAGE_SIZE; i++)
        if (p->code_bitmap[i / 8] & (1u << (i % 8)))
            return true;
    return false;
}

unsigned tb_cache_count(TCGCPU *t)
{
    return (unsigned)t->cache->nb_tbs;
}
