/* Transfer sites in the x86-64 backend (-accel tcg,xfer-sites=on, see
 * accel/tcg-cpu.h for why not by default): each lookup_and_goto of 64-bit
 * code (a jump to another page, an indirect jump, a RET, a region's extra
 * exit) first tries the blocks it went to before, with direct jumps patched
 * into its code:
 *
 *     mov rsi, SITE
 *     mov eax, [cpu.xlink_gen[class]]          ; the class of the block linked
 *     cmp eax, [rsi + gen]                     ; nothing moved since the link
 *     jne miss
 *     cmp dword [env.hflags], FLAGS            ; the block's flags
 *     jne miss
 *     mov rax, PC ; cmp rax, [env.rip] ; jne miss   (target not known statically)
 *     jmp BLOCK
 *   miss:
 *     jmp relink                               ; or, once given up, to probe
 *   relink:
 *     xlink_miss(env, site); jmp rax
 *   probe:                                     ; (indirect.c: the jump cache)
 *
 * A site is only linked to what the jump cache would have found (the lookup
 * that links it goes through it), and its generation moves on whenever a
 * jump-cache entry could turn stale (TLB flushes, INVLPG, the cache being
 * cleared) or a linked block is invalidated (accel/tcg-jmp-cache.c). The
 * generation is data, so that relinking to the same block after a CR3 write
 * patches no code (which costs the host a pipeline flush). A direct jump's
 * target RIP is a constant of the block (unless PC-relative), so it is not
 * compared. Sites that see many targets, or targets a site may not hold,
 * give up: their first instruction becomes a jump to the probe. */
#include <stdlib.h>
#include "tcg/x86_64/backend.h"

#define ENV_OFF(f) ((int32_t)offsetof(CPUX86State, f))
#define CPU_OFF(f) ((int32_t)offsetof(TCGCPU, f))

/* Target changes of a site before it gives up (polymorphic: the probe's
 * hashing beats patching code all the time). */
#define XLINK_MAX_CHANGES 16

bool tcg_xfer_stats;
bool tcg_xfer_sites;

/* A site whose target is not a constant (indirect jumps, RETs) holds up to
 * XLINK_WAYS targets of one class and flags: RETs of functions called from
 * two places hit. */
#define XLINK_WAYS 4
/* A RIP no code runs at (not canonical): an empty way */
#define XLINK_NO_PC 0x8000000000000000ULL

typedef struct XferSite {
    uint32_t gen;            /* xlink_gen[global] when linked; 0: not linked */
    uint32_t flags;          /* the linked blocks' */
    uint64_t pc[XLINK_WAYS];           /* ... RIPs (need_pc; else pc[0] only) */
    const void *code[XLINK_WAYS];      /* ... code */
    /* offsets in the code buffer of the immediates and jumps to patch */
    uint32_t start_at, gen_disp_at, flags_at, miss_at, probe_at;
    uint32_t pc_at[XLINK_WAYS], jmp_at[XLINK_WAYS];
    uint16_t changes;
    uint8_t kind;
    uint8_t ways;            /* XLINK_WAYS when need_pc, else 1 */
    uint8_t next;            /* the way replaced next */
    bool global;             /* linked to blocks on global pages: xlink_gen[1] */
    bool need_pc;
    bool linked;
    bool given_up;
    uint64_t execs, probes;  /* xfer-stats: executions, those that probed */
    uint64_t tb_pc;          /* xfer-stats: the block holding the site */
} XferSite;

/* xfer-stats: every site made (leaked with its code on a flush: statistics
 * runs only). */
static struct {
    pthread_mutex_t lock;
    XferSite **v;
    size_t n, cap;
} all_sites = { .lock = PTHREAD_MUTEX_INITIALIZER };

static XferSite *site_new(Gen *g)
{
    if (!tcg_xfer_stats) {
        XferSite *s = tb_arena_alloc(tcg_current_cpu, sizeof(XferSite));
        if (s)
            memset(s, 0, sizeof(*s));
        return s;
    }
    XferSite *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->tb_pc = g->tb->pc;
    pthread_mutex_lock(&all_sites.lock);
    if (all_sites.n == all_sites.cap) {
        size_t cap = all_sites.cap ? all_sites.cap * 2 : 4096;
        XferSite **v = realloc(all_sites.v, cap * sizeof(*v));
        if (v) {
            all_sites.v = v;
            all_sites.cap = cap;
        }
    }
    if (all_sites.n < all_sites.cap)
        all_sites.v[all_sites.n++] = s;
    pthread_mutex_unlock(&all_sites.lock);
    return s;
}

static void patch_bytes(CodeBuffer *cb, size_t at, const void *v, size_t n)
{
    if (at + n <= cb->size)
        memcpy(cb->rw + at, v, n);
}

/* inc qword [addr] (clobbers rax) */
static void count_at(Emitter *e, uint64_t *addr)
{
    movi(e, RAX, (uintptr_t)addr);
    em_rm(e, 0xff, 1, true, 0, RAX, -1, 0, 0, false);
}

static void give_up(CodeBuffer *cb, XferSite *s)
{
    tcg_current_cpu->stat_xlink_mega++;
    s->given_up = true;
    s->gen = 0;
    patch_rel32(cb, s->miss_at, s->probe_at);
    /* over the mov rsi, SITE (10 bytes) */
    uint8_t jmp[5] = { 0xe9 };
    int32_t rel = (int32_t)((int64_t)s->probe_at - (int64_t)(s->start_at + 5));
    memcpy(jmp + 1, &rel, 4);
    patch_bytes(cb, s->start_at, jmp, 5);
}

static void set_way(TCGCPU *t, CodeBuffer *cb, XferSite *s, unsigned w, uint64_t pc, const void *code)
{
    if (s->pc[w] == pc && s->code[w] == code)
        return;
    t->stat_xlink_patches++;
    s->pc[w] = pc;
    s->code[w] = code;
    if (s->need_pc)
        patch_bytes(cb, s->pc_at[w], &pc, 8);
    if (code)
        patch_rel32(cb, s->jmp_at[w], (size_t)((const uint8_t *)code - cb->rx));
}

static int way_of(const XferSite *s, uint64_t pc)
{
    for (unsigned w = 0; w < s->ways; w++)
        if (s->pc[w] == pc)
            return (int)w;
    return -1;
}

/* The site missed: look the block up, link the site to it when it may. */
static uintptr_t xlink_miss(CPUX86State *env, XferSite *s)
{
    TCGCPU *t = tcg_cpu(env);
    CodeBuffer *cb = t->backend_state;
    t->stat_xlink_misses++;
    TranslationBlock *tb = tb_lookup_fast(env);
    if (!tb)
        return cb->exit0;
    uint32_t gen;
    bool global;
    /* (a block with TBF_DEBUG: the check compares hflags) */
    if (tb->flags != env->hflags || !xlink_admit(t, tb, env->rip, &global, &gen)) {
        give_up(cb, s);
        return (uintptr_t)tb->code;
    }
    uint64_t pc = s->need_pc ? env->rip : 0;
    /* the other ways stay when they are current, of the same class and flags */
    bool keep = s->linked && s->gen == t->xlink_gen[s->global] && global == s->global && tb->flags == s->flags;
    int w = way_of(s, pc);
    /* (flags that keep changing would bring every run here) */
    bool flags_changed = s->linked && tb->flags != s->flags;
    if (s->linked && (w < 0 || flags_changed)) {
        unsigned free_way = 0;
        while (free_way < s->ways && s->pc[free_way] != XLINK_NO_PC)
            free_way++;
        if (!keep || free_way == s->ways || flags_changed) {
            if (++s->changes >= XLINK_MAX_CHANGES) {
                give_up(cb, s);
                return (uintptr_t)tb->code;
            }
        }
        if (w < 0) {
            w = keep && free_way < s->ways ? (int)free_way : s->next;
            s->next = (uint8_t)((w + 1) % s->ways);
        }
    }
    if (w < 0)
        w = 0;
    t->stat_xlink_links++;
    if (!keep)
        for (unsigned i = 0; i < s->ways; i++)
            if (i != (unsigned)w)
                set_way(t, cb, s, i, XLINK_NO_PC, NULL);
    set_way(t, cb, s, (unsigned)w, pc, tb->code);
    if (tb->flags != s->flags) {
        patch_bytes(cb, s->flags_at, &tb->flags, 4);
        s->flags = tb->flags;
    }
    if (global != s->global) {
        int32_t disp = CPU_OFF(xlink_gen[global]);
        patch_bytes(cb, s->gen_disp_at, &disp, 4);
        s->global = global;
    }
    s->linked = true;
    s->gen = gen;
    return (uintptr_t)tb->code;
}

static size_t jne_fwd(Gen *g)
{
    em_byte(&g->e, 0x0f);
    em_byte(&g->e, 0x85);
    size_t at = emitter_off(&g->e, g->cb);
    em_u32(&g->e, 0);
    return at;
}

/* Emits the site's check and relink path for op, which fall through to
 * where the caller emits the probe; nothing for a transfer no site serves
 * (NULL). */
XferSite *gen_xlink_site(Gen *g, const TCGOp *op)
{
    unsigned kind = (unsigned)op->args[1];
    const TranslationBlock *tb = g->tb;
    /* near transfers only: CS (its base) stays the block's */
    if (!tcg_xfer_sites || kind == XFER_OTHER || tb->cs_base != 0 || !(tb->flags & HF_CS64_MASK) || (tb->cflags & CF_SINGLE_INSN))
        return NULL;
    XferSite *s = site_new(g);
    if (!s)
        return NULL;
    Emitter *e = &g->e;
    CodeBuffer *cb = g->cb;
    s->kind = (uint8_t)kind;
    s->need_pc = !xfer_kind_direct(kind) || tb->pcrel;
    s->ways = s->need_pc ? XLINK_WAYS : 1;
    for (unsigned w = 0; w < XLINK_WAYS; w++)
        s->pc[w] = XLINK_NO_PC;
    if (tcg_xfer_stats)
        count_at(e, &s->execs);
    size_t miss[3];
    unsigned nmiss = 0;
    s->start_at = (uint32_t)emitter_off(e, cb);
    em_rex(e, true, 0, 0, RSI, false);
    em_byte(e, 0xb8 + (RSI & 7));
    em_u64(e, (uintptr_t)s);                            /* mov rsi, SITE (10 bytes) */
    _Static_assert(offsetof(TCGCPU, xlink_gen) > 127, "the generation's displacement is 32-bit");
    em_rm(e, 0x8b, 1, false, RAX, R12, -1, 0, CPU_OFF(xlink_gen[0]), false);
    s->gen_disp_at = (uint32_t)emitter_off(e, cb) - 4;
    em_rm(e, 0x3b, 1, false, RAX, RSI, -1, 0, (int32_t)offsetof(XferSite, gen), false);
    miss[nmiss++] = jne_fwd(g);
    em_rm(e, 0x81, 1, false, 7, RBP, -1, 0, ENV_OFF(hflags), false);
    s->flags_at = (uint32_t)emitter_off(e, cb);
    em_u32(e, 0);                                       /* cmp dword [hflags], FLAGS */
    miss[nmiss++] = jne_fwd(g);
    if (s->need_pc) {
        em_rm(e, 0x8b, 1, true, RDX, RBP, -1, 0, ENV_OFF(rip), false);   /* mov rdx, [rip] */
        for (unsigned w = 0; w < XLINK_WAYS; w++) {
            em_rex(e, true, 0, 0, RAX, false);
            em_byte(e, 0xb8 + (RAX & 7));
            s->pc_at[w] = (uint32_t)emitter_off(e, cb);
            em_u64(e, XLINK_NO_PC);                     /* mov rax, PC */
            em_rr(e, 0x39, 1, true, RDX, RAX, false);   /* cmp rax, rdx */
            em_byte(e, 0x0f);
            em_byte(e, 0x84);
            s->jmp_at[w] = (uint32_t)emitter_off(e, cb);
            em_u32(e, 0);                               /* je BLOCK */
        }
    } else {
        em_byte(e, 0xe9);
        s->jmp_at[0] = (uint32_t)emitter_off(e, cb);
        em_u32(e, 0);                                   /* jmp BLOCK */
    }
    size_t miss_jmp = emitter_off(e, cb);
    for (unsigned i = 0; i < nmiss; i++)
        patch_rel32(cb, miss[i], miss_jmp);
    for (unsigned w = 0; w < s->ways; w++)
        patch_rel32(cb, s->jmp_at[w], miss_jmp);        /* (not taken while unlinked) */
    em_byte(e, 0xe9);
    s->miss_at = (uint32_t)emitter_off(e, cb);
    em_u32(e, 0);                                       /* jmp relink (or probe) */
    patch_rel32(cb, s->miss_at, emitter_off(e, cb));
    mov_rr(e, RDI, RBP);                                /* (rsi: the site) */
    call_abs(e, (uintptr_t)xlink_miss);
    em_rr(e, 0xff, 1, false, 4, RAX, false);            /* jmp rax */
    s->probe_at = (uint32_t)emitter_off(e, cb);
    if (tcg_xfer_stats)
        count_at(e, &s->probes);
    return s;
}

/* xfer-stats: the sites executed most, and those that probed most, for
 * -d jit. */
static int by_execs(const void *a, const void *b)
{
    const XferSite *x = *(XferSite *const *)a, *y = *(XferSite *const *)b;
    return x->execs < y->execs ? 1 : x->execs > y->execs ? -1 : 0;
}

static int by_probes(const void *a, const void *b)
{
    const XferSite *x = *(XferSite *const *)a, *y = *(XferSite *const *)b;
    return x->probes < y->probes ? 1 : x->probes > y->probes ? -1 : 0;
}

static void dump_top(FILE *f, unsigned top, const char *what)
{
    for (size_t i = 0; i < all_sites.n && i < top && all_sites.v[i]->execs; i++) {
        const XferSite *s = all_sites.v[i];
        fprintf(f, "xfer site (%s) %#" PRIx64 " %-13s %12" PRIu64 " runs, %12" PRIu64 " probed, %u changes%s%s%s\n",
                what, s->tb_pc, tcg_xfer_kind_name(s->kind), s->execs, s->probes, s->changes, s->given_up ? ", given up" : "",
                s->global ? ", global" : "", s->need_pc ? ", checks RIP" : "");
    }
}

void xlink_dump_sites(FILE *f, unsigned top)
{
    pthread_mutex_lock(&all_sites.lock);
    qsort(all_sites.v, all_sites.n, sizeof(*all_sites.v), by_execs);
    dump_top(f, top, "runs");
    qsort(all_sites.v, all_sites.n, sizeof(*all_sites.v), by_probes);
    dump_top(f, top, "probes");
    pthread_mutex_unlock(&all_sites.lock);
}
