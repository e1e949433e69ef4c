/* "info tlb" and "info mem": the guest's page tables as the monitor shows
 * them, walked from CR3 through guest-physical memory in whichever paging
 * mode the CPU is in (32-bit with 4 MiB pages, PAE, 4- and 5-level).
 * Nothing is modified; a hostile table (loops, all-present garbage) only
 * costs a bounded number of steps. */
#include <inttypes.h>
#include <string.h>

#include "cpu/x86/cpu.h"
#include "system/cpus.h"
#include "system/machine.h"
#include "system/monitor-internal.h"
#include "system/util.h"

#define PTE_P   (1ULL << 0)
#define PTE_RW  (1ULL << 1)
#define PTE_US  (1ULL << 2)
#define PTE_A   (1ULL << 5)
#define PTE_D   (1ULL << 6)
#define PTE_PS  (1ULL << 7)
#define PTE_G   (1ULL << 8)
#define PTE_NX  (1ULL << 63)
#define CR0_PG_BIT  (1ULL << 31)
#define CR4_PSE_BIT (1ULL << 4)
#define CR4_PAE_BIT (1ULL << 5)
#define CR4_LA57_BIT (1ULL << 12)
#define EFER_LMA_BIT (1ULL << 10)
#define EFER_NXE_BIT (1ULL << 11)

#define WALK_MAX_STEPS (2u << 20)
#define TLB_MAX_LINES 65536

typedef struct Mapping {
    uint64_t vaddr, paddr, size;
    bool write, user, exec, global, accessed, dirty;
} Mapping;

typedef void (*MappingFn)(void *opaque, const Mapping *m);

typedef struct Walk {
    AddressSpace *as;
    int levels;               /* 2 (32-bit), 3 (PAE), 4 or 5 */
    bool wide;                /* 8-byte entries */
    bool pse;                 /* 32-bit: 4 MiB pages allowed */
    bool nxe;
    unsigned steps;
    bool truncated;
    MappingFn fn;
    void *opaque;
} Walk;

/* Bits of the virtual address each level decodes, top level first. */
static unsigned level_shift(const Walk *w, int level)
{
    /* level counts down: levels-1 is the top, 0 the page table */
    return w->wide ? 12 + 9 * (unsigned)level : 12 + 10 * (unsigned)level;
}

static unsigned level_entries(const Walk *w, int level)
{
    if (!w->wide)
        return 1024;
    if (w->levels == 3 && level == 2)
        return 4;             /* the PAE page-directory-pointer table */
    return 512;
}

static uint64_t entry_addr(const Walk *w, uint64_t e)
{
    return w->wide ? e & 0x000ffffffffff000ULL : e & 0xfffff000ULL;
}

static uint64_t canonical(const Walk *w, uint64_t va)
{
    if (w->levels < 4)
        return va;
    unsigned bits = w->levels == 5 ? 57 : 48;
    return (uint64_t)((int64_t)(va << (64 - bits)) >> (64 - bits));
}

static void walk_table(Walk *w, uint64_t table, int level, uint64_t va_base,
                       bool write, bool user, bool exec)
{
    unsigned n = level_entries(w, level), size = w->wide ? 8 : 4;
    uint8_t buf[4096];
    as_rw_buf(w->as, table, buf, (uint64_t)n * size, false);
    for (unsigned i = 0; i < n; i++) {
        if (++w->steps > WALK_MAX_STEPS) {
            w->truncated = true;
            return;
        }
        uint64_t e = w->wide ? ld64(buf + i * 8) : ld32(buf + i * 4);
        if (!(e & PTE_P))
            continue;
        uint64_t va = va_base + ((uint64_t)i << level_shift(w, level));
        /* PAE PDPTEs carry no permission bits */
        bool is_pdpte = w->levels == 3 && level == 2;
        bool wr = write && (is_pdpte || (e & PTE_RW));
        bool us = user && (is_pdpte || (e & PTE_US));
        bool ex = exec && !(w->nxe && (e & PTE_NX));
        bool large = level > 0 && !is_pdpte && (e & PTE_PS) && (w->wide ? level <= 2 : w->pse);
        if (level == 0 || large) {
            uint64_t page = 1ULL << level_shift(w, level);
            uint64_t pa = entry_addr(w, e);
            if (large)
                pa &= ~(page - 1) & (w->wide ? 0x000fffffffffffffULL : 0xffffffffULL);
            Mapping m = { canonical(w, va), pa, page, wr, us, ex, (e & PTE_G) != 0,
                          (e & PTE_A) != 0, (e & PTE_D) != 0 };
            w->fn(w->opaque, &m);
            continue;
        }
        walk_table(w, entry_addr(w, e), level - 1, va, wr, us, ex);
        if (w->truncated)
            return;
    }
}

/* Walk env's page tables; false when paging is off. */
static bool walk_mappings(CPUX86State *env, MappingFn fn, void *opaque, bool *truncated)
{
    if (!(env->cr[0] & CR0_PG_BIT))
        return false;
    Walk w = { .as = current_machine->mem, .fn = fn, .opaque = opaque,
               .nxe = (env->efer & EFER_NXE_BIT) != 0 };
    uint64_t top;
    if (env->efer & EFER_LMA_BIT) {
        w.levels = (env->cr[4] & CR4_LA57_BIT) ? 5 : 4;
        w.wide = true;
        top = env->cr[3] & 0x000ffffffffff000ULL;
    } else if (env->cr[4] & CR4_PAE_BIT) {
        w.levels = 3;
        w.wide = true;
        top = env->cr[3] & 0xffffffe0ULL;
    } else {
        w.levels = 2;
        w.pse = (env->cr[4] & CR4_PSE_BIT) != 0;
        top = env->cr[3] & 0xfffff000ULL;
    }
    walk_table(&w, top, w.levels - 1, 0, true, true, true);
    *truncated = w.truncated;
    return true;
}

typedef struct TlbPrint {
    FILE *out;
    unsigned lines;
} TlbPrint;

static void print_tlb_entry(void *opaque, const Mapping *m)
{
    TlbPrint *t = opaque;
    FILE *out = t->out;
    if (++t->lines > TLB_MAX_LINES) {
        if (t->lines == TLB_MAX_LINES + 1)
            fprintf(out, "(more mappings not shown; \"info mem\" summarises them)\n");
        return;
    }
    fprintf(out, "%016" PRIx64 ": %016" PRIx64 " %s %c%c%c %c%c%c\n", m->vaddr, m->paddr,
            m->size >= GiB ? "1G" : m->size >= 4 * MiB ? "4M" : m->size >= 2 * MiB ? "2M" : "4K",
            m->exec ? 'x' : '-', m->write ? 'w' : '-', m->user ? 'u' : 's',
            m->global ? 'G' : '-', m->accessed ? 'A' : '-', m->dirty ? 'D' : '-');
}

/* info mem: runs of contiguous virtual memory with the same rights. */
typedef struct MemRun {
    FILE *out;
    bool open;
    uint64_t start, end;      /* [start, end) */
    bool write, user, exec;
} MemRun;

static void mem_run_flush(MemRun *r)
{
    if (r->open)
        fprintf(r->out, "%016" PRIx64 "-%016" PRIx64 " %016" PRIx64 " %c%c%c%c\n", r->start,
                r->end, r->end - r->start, r->user ? 'u' : '-', 'r', r->write ? 'w' : '-',
                r->exec ? 'x' : '-');
    r->open = false;
}

static void mem_run_add(void *opaque, const Mapping *m)
{
    MemRun *r = opaque;
    if (r->open && m->vaddr == r->end && m->write == r->write && m->user == r->user &&
        m->exec == r->exec) {
        r->end += m->size;
        return;
    }
    mem_run_flush(r);
    *r = (MemRun){ r->out, true, m->vaddr, m->vaddr + m->size, m->write, m->user, m->exec };
}

static CPUX86State *paging_cpu(Monitor *mon, FILE *out)
{
    Machine *m = current_machine;
    if (!m || m->ncpus == 0) {
        fprintf(out, "no machine is running\n");
        return NULL;
    }
    return m->cpus[mon->cpu_index < m->ncpus ? mon->cpu_index : 0]->env;
}

void monitor_info_tlb(Monitor *mon, FILE *out)
{
    CPUX86State *env = paging_cpu(mon, out);
    bool truncated = false;
    if (!env)
        return;
    TlbPrint t = { out, 0 };
    bool paused = monitor_pause_for_state();
    if (!walk_mappings(env, print_tlb_entry, &t, &truncated))
        fprintf(out, "PG disabled\n");
    if (truncated)
        fprintf(out, "(stopped: the page tables have too many entries)\n");
    if (paused)
        monitor_resume_after_state();
}

void monitor_info_mem(Monitor *mon, FILE *out)
{
    CPUX86State *env = paging_cpu(mon, out);
    bool truncated = false;
    if (!env)
        return;
    MemRun run = { .out = out };
    bool paused = monitor_pause_for_state();
    if (!walk_mappings(env, mem_run_add, &run, &truncated))
        fprintf(out, "PG disabled\n");
    mem_run_flush(&run);
    if (truncated)
        fprintf(out, "(stopped: the page tables have too many entries)\n");
    if (paused)
        monitor_resume_after_state();
}
