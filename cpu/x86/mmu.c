/* The page-table walker: 32-bit paging (with PSE 4 MiB pages), PAE and 4-level
 * paging (2 MiB and 1 GiB pages), NX, WP, SMEP, SMAP, reserved-bit checks and
 * the Accessed/Dirty bits; plus the linear-address accessors the system
 * helpers use for descriptor tables, the TSS, the IDT and interrupt stacks.
 *
 * MAXPHYADDR is 40 and linear addresses are 48 bits (CPUID 0x80000008). */
#include "cpu/x86/seg.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/memory.h"

#define PHYS_BITS 40
#define PHYS_MASK ((1ULL << PHYS_BITS) - 1)
#define PTE_P   (1ULL << 0)
#define PTE_RW  (1ULL << 1)
#define PTE_US  (1ULL << 2)
#define PTE_A   (1ULL << 5)
#define PTE_D   (1ULL << 6)
#define PTE_PS  (1ULL << 7)
#define PTE_G   (1ULL << 8)     /* in the leaf entry only */
#define PTE_NX  (1ULL << 63)
/* bits 51:MAXPHYADDR of 64-bit entries */
#define RSVD_HIGH (((1ULL << 52) - 1) & ~PHYS_MASK)
#define ADDR_4K (PHYS_MASK & ~0xfffULL)

static AddressSpace *sysmem(void)
{
    return current_machine->mem;
}

/* Device callbacks run with the machine lock held; RAM needs no lock. */
static bool is_ram(uint64_t pa, unsigned size)
{
    const FlatRange *fr = as_lookup_range(sysmem(), pa);
    return fr && fr->mr->kind != MR_IO && pa + size - 1 <= fr->end;
}

static uint64_t phys_ld(uint64_t pa, unsigned size)
{
    /* the hot path (page-table entries in RAM): one lookup, a direct load */
    const FlatRange *fr = as_lookup_range(sysmem(), pa);
    if (fr && fr->mr->kind != MR_IO && fr->mr->host && pa + size - 1 <= fr->end)
        return ldn(fr->mr->host + (pa - fr->mr->base), size);
    bool held = machine_lock_held();
    if (!held)
        machine_lock();
    uint64_t v = as_read(sysmem(), pa, size);
    if (!held)
        machine_unlock();
    return v;
}

static void phys_st(uint64_t pa, uint64_t val, unsigned size)
{
    if (is_ram(pa, size)) {
        as_write(sysmem(), pa, val, size);   /* notifies the translator of code writes */
        return;
    }
    bool held = machine_lock_held();
    if (!held)
        machine_lock();
    as_write(sysmem(), pa, val, size);
    if (!held)
        machine_unlock();
}

static uint64_t phys_read(CPUX86State *env, uint64_t pa, unsigned size)
{
    return phys_ld(pa & env->a20_mask, size);
}

/* Replace a paging entry if it still holds old (another vCPU may be updating
 * it); false when it changed under us and the walk must restart. */
static bool pte_cmpxchg(CPUX86State *env, uint64_t pa, unsigned size,
                        uint64_t old, uint64_t new)
{
    pa &= env->a20_mask;
    void *host = dma_map(sysmem(), pa, size, true);
    bool ok;

    if (host && size == 8) {
        ok = __atomic_compare_exchange_n((uint64_t *)host, &old, new, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    } else if (host) {
        uint32_t o = (uint32_t)old;
        ok = __atomic_compare_exchange_n((uint32_t *)host, &o, (uint32_t)new, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    } else {
        /* page tables outside RAM: nothing to race with, but keep it sane */
        ok = phys_ld(pa, size) == old;
        if (ok)
            phys_st(pa, new, size);
        return ok;
    }
    if (ok && ram_write_notify)
        ram_write_notify(pa, size);
    return ok;
}

typedef struct WalkEntry {
    uint64_t addr;      /* guest-physical address of the entry */
    uint64_t value;
    unsigned size;      /* 4 or 8 */
    bool has_ad;        /* A bit exists (not in PAE PDPTEs) */
} WalkEntry;

typedef struct Walk {
    WalkEntry e[5];
    int n;
    uint64_t paddr, page_size;
    bool rw, us, nx;    /* combined rights of all levels */
} Walk;

enum { WALK_OK, WALK_NOT_PRESENT, WALK_RSVD };

static int walk_entry(CPUX86State *env, Walk *w, uint64_t pa, unsigned size,
                      bool has_ad, uint64_t rsvd, uint64_t *value)
{
    uint64_t v = phys_read(env, pa, size);
    w->e[w->n++] = (WalkEntry){ pa, v, size, has_ad };
    *value = v;
    if (!(v & PTE_P))
        return WALK_NOT_PRESENT;
    if (v & rsvd)
        return WALK_RSVD;
    if (has_ad) {
        w->rw &= !!(v & PTE_RW);
        w->us &= !!(v & PTE_US);
    }
    w->nx |= !!(v & PTE_NX);
    return WALK_OK;
}

static int walk_32bit(CPUX86State *env, uint64_t vaddr, Walk *w)
{
    uint64_t pde, pte;
    int r = walk_entry(env, w, (env->cr[3] & 0xfffff000) + ((vaddr >> 22) & 0x3ff) * 4,
                       4, true, 0, &pde);
    if (r != WALK_OK)
        return r;
    if ((pde & PTE_PS) && (env->cr[4] & CR4_PSE)) {
        if (pde & (1u << 21))           /* beyond PSE-36 with MAXPHYADDR 40 */
            return WALK_RSVD;
        w->page_size = 4 * MiB;
        w->paddr = (pde & 0xffc00000) | ((pde & 0x1fe000ULL) << 19);
        return WALK_OK;
    }
    r = walk_entry(env, w, (pde & 0xfffff000) + ((vaddr >> 12) & 0x3ff) * 4, 4, true, 0, &pte);
    if (r != WALK_OK)
        return r;
    w->page_size = 4 * KiB;
    w->paddr = pte & 0xfffff000;
    return WALK_OK;
}

/* The levels below the top for PAE and 4-level paging. level: 4 = PML4 ... 1 = PT. */
static int walk_64bit_levels(CPUX86State *env, uint64_t vaddr, uint64_t table, int level, Walk *w)
{
    uint64_t nx_rsvd = (env->efer & EFER_NXE) ? 0 : PTE_NX;
    /* legacy PAE reserves bits 62:MAXPHYADDR; 4-level paging only 51:MAXPHYADDR
     * (62:52 are ignored or protection keys there) */
    uint64_t high = (env->efer & EFER_LMA) ? RSVD_HIGH : (~PHYS_MASK & ~PTE_NX);
    uint64_t v;

    for (;; level--) {
        uint64_t rsvd = high | nx_rsvd;
        if (level == 4)
            rsvd |= PTE_PS;
        if (level == 3 && !x86_cpu_has(X86_FEAT_PDPE1GB))
            rsvd |= PTE_PS;
        unsigned shift = 12 + 9 * (level - 1);
        int r = walk_entry(env, w, table + ((vaddr >> shift) & 511) * 8, 8, true, rsvd, &v);
        if (r != WALK_OK)
            return r;
        if ((level == 3 || level == 2) && (v & PTE_PS)) {
            uint64_t size = 1ULL << shift;
            /* bits 12 (PAT) .. shift-1 must be zero apart from PAT */
            if (v & (size - 1) & ~0x1fffULL)
                return WALK_RSVD;
            w->page_size = size;
            w->paddr = v & PHYS_MASK & ~(size - 1);
            return WALK_OK;
        }
        if (level == 1) {
            w->page_size = 4 * KiB;
            w->paddr = v & ADDR_4K;
            return WALK_OK;
        }
        table = v & ADDR_4K;
    }
}

static int walk_pae(CPUX86State *env, uint64_t vaddr, Walk *w)
{
    /* PDPTE: bits 2:1, 8:5 and 63:MAXPHYADDR reserved */
    const uint64_t rsvd = 0x1e6ULL | ~PHYS_MASK;
    uint64_t pdpte;
    int r = walk_entry(env, w, (env->cr[3] & 0xffffffe0) + ((vaddr >> 30) & 3) * 8, 8,
                       false, rsvd, &pdpte);
    if (r != WALK_OK)
        return r;
    return walk_64bit_levels(env, vaddr, pdpte & ADDR_4K, 2, w);
}

static int walk_tables(CPUX86State *env, uint64_t vaddr, Walk *w)
{
    memset(w, 0, sizeof(*w));
    w->rw = w->us = true;
    if (env->efer & EFER_LMA)
        return walk_64bit_levels(env, vaddr, env->cr[3] & ADDR_4K, 4, w);
    if (env->cr[4] & CR4_PAE)
        return walk_pae(env, vaddr, w);
    return walk_32bit(env, vaddr, w);
}

/* What mmu_idx may do with a page of these combined rights. */
static int page_prot(CPUX86State *env, const Walk *w, int mmu_idx)
{
    bool nx = w->nx && (env->efer & EFER_NXE);
    int prot = 0;

    if (mmu_idx == MMU_USER_IDX) {
        if (w->us)
            prot = X86_PROT_READ | (w->rw ? X86_PROT_WRITE : 0) | (nx ? 0 : X86_PROT_EXEC);
        return prot;
    }
    bool smap_blocks = w->us && mmu_idx == MMU_KERNEL_IDX && (env->cr[4] & CR4_SMAP);
    bool smep_blocks = w->us && (env->cr[4] & CR4_SMEP);
    if (!smap_blocks) {
        prot |= X86_PROT_READ;
        if (w->rw || !(env->cr[0] & CR0_WP))
            prot |= X86_PROT_WRITE;
    }
    if (!nx && !smep_blocks)
        prot |= X86_PROT_EXEC;
    return prot;
}

/* Set Accessed on every level (and Dirty on the leaf for a write). */
static bool walk_set_ad(CPUX86State *env, const Walk *w, bool write)
{
    for (int i = 0; i < w->n; i++) {
        const WalkEntry *e = &w->e[i];
        uint64_t want = e->value;
        if (!e->has_ad)
            continue;
        want |= PTE_A;
        if (write && i == w->n - 1)
            want |= PTE_D;
        if (want != e->value && !pte_cmpxchg(env, e->addr, e->size, e->value, want))
            return false;
    }
    return true;
}

bool x86_is_canonical(CPUX86State *env, uint64_t addr)
{
    if (!(env->efer & EFER_LMA))
        return true;
    return (uint64_t)((int64_t)(addr << 16) >> 16) == addr;
}

int x86_mmu_translate(CPUX86State *env, uint64_t vaddr, int access, int mmu_idx,
                      uint64_t *paddr, int *prot, uint64_t *page_size)
{
    if (mmu_idx == MMU_PHYS_IDX || !(env->cr[0] & CR0_PG)) {
        *paddr = (vaddr & 0xffffffffULL) & env->a20_mask;
        *prot = X86_PROT_READ | X86_PROT_WRITE | X86_PROT_EXEC;
        *page_size = 4 * KiB;
        return 0;
    }
    if (!x86_is_canonical(env, vaddr))
        return X86_MMU_GP;
    if (!(env->efer & EFER_LMA))
        vaddr &= 0xffffffffULL;

    uint32_t err = (access == X86_ACCESS_WRITE ? PF_ERR_W : 0) |
                   (mmu_idx == MMU_USER_IDX ? PF_ERR_U : 0);
    if (access == X86_ACCESS_FETCH &&
        ((env->cr[4] & CR4_SMEP) || ((env->cr[4] & CR4_PAE) && (env->efer & EFER_NXE))))
        err |= PF_ERR_I;

    for (int attempt = 0;; attempt++) {
        Walk w;
        env->stat_walks++;
        int r = walk_tables(env, vaddr, &w);
        if (r == WALK_NOT_PRESENT)
            return X86_MMU_PF | err;
        if (r == WALK_RSVD)
            return X86_MMU_PF | err | PF_ERR_P | PF_ERR_RSVD;
        int p = page_prot(env, &w, mmu_idx);
        static const int need[3] = { X86_PROT_READ, X86_PROT_WRITE, X86_PROT_EXEC };
        if (!(p & need[access]))
            return X86_MMU_PF | err | PF_ERR_P;
        bool write = access == X86_ACCESS_WRITE;
        if (!walk_set_ad(env, &w, write) && attempt < 16)
            continue;
        uint64_t leaf = w.e[w.n - 1].value;
        if (!write && !(leaf & PTE_D))
            p &= ~X86_PROT_WRITE;       /* the first write must walk to set D */
        if ((leaf & PTE_G) && (env->cr[4] & CR4_PGE))
            p |= X86_PROT_GLOBAL;
        *prot = p;
        *page_size = w.page_size;
        *paddr = (w.paddr | (vaddr & (w.page_size - 1))) & env->a20_mask;
        return 0;
    }
}

uint64_t x86_tlb_fill(CPUX86State *env, uint64_t vaddr, int access, int mmu_idx,
                      int *prot, uint64_t *page_size, uintptr_t ra)
{
    uint64_t paddr;
    int r = x86_mmu_translate(env, vaddr, access, mmu_idx, &paddr, prot, page_size);

    if (likely(r == 0))
        return paddr;
    if (r & X86_MMU_GP)
        raise_gp0(env, ra);
    env->cr[2] = (env->efer & EFER_LMA) ? vaddr : (uint32_t)vaddr;
    raise_err(env, EXCP_PF, r & 0xffff, ra);
}

int x86_mmu_debug_translate(CPUX86State *env, uint64_t vaddr, uint64_t *paddr)
{
    Walk w;

    if (!(env->cr[0] & CR0_PG)) {
        *paddr = (vaddr & 0xffffffffULL) & env->a20_mask;
        return 0;
    }
    if (!x86_is_canonical(env, vaddr))
        return -1;
    if (!(env->efer & EFER_LMA))
        vaddr &= 0xffffffffULL;
    if (walk_tables(env, vaddr, &w) != WALK_OK)
        return -1;
    *paddr = (w.paddr | (vaddr & (w.page_size - 1))) & env->a20_mask;
    return 0;
}

/* ---- linear accesses for the system helpers ---- */

static uint64_t linear_wrap(CPUX86State *env, uint64_t lin)
{
    return (env->efer & EFER_LMA) ? lin : (uint32_t)lin;
}

/* Interrupt delivery, IRET and descriptor loads make several accesses each:
 * the TLB spares them a walk apiece. */
static uint64_t translate_or_raise(CPUX86State *env, uint64_t lin, int access,
                                   int mmu_idx, uintptr_t ra)
{
    return sys_translate(env, linear_wrap(env, lin), access, mmu_idx, ra);
}

uint64_t x86_ld_linear(CPUX86State *env, uint64_t lin, unsigned size, int mmu_idx,
                       uintptr_t ra)
{
    lin = linear_wrap(env, lin);
    if (((lin & 0xfff) + size) > 0x1000) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= x86_ld_linear(env, lin + i, 1, mmu_idx, ra) << (8 * i);
        return v;
    }
    return phys_ld(translate_or_raise(env, lin, X86_ACCESS_READ, mmu_idx, ra), size);
}

void x86_st_linear(CPUX86State *env, uint64_t lin, uint64_t val, unsigned size,
                   int mmu_idx, uintptr_t ra)
{
    lin = linear_wrap(env, lin);
    if (((lin & 0xfff) + size) > 0x1000) {
        /* both pages must be writable before any byte is stored */
        uint64_t pa[8];
        for (unsigned i = 0; i < size; i++)
            pa[i] = translate_or_raise(env, lin + i, X86_ACCESS_WRITE, mmu_idx, ra);
        for (unsigned i = 0; i < size; i++)
            phys_st(pa[i], (val >> (8 * i)) & 0xff, 1);
        return;
    }
    phys_st(translate_or_raise(env, lin, X86_ACCESS_WRITE, mmu_idx, ra), val, size);
}

void x86_invlpg(CPUX86State *env, uint64_t addr)
{
    sys_tlb_flush_page(env, addr);
}

void x86_invpcid(CPUX86State *env, uint64_t type, uint64_t pcid, uint64_t addr, uintptr_t ra)
{
    if (type > 3 || pcid > 0xfff)
        raise_gp0(env, ra);
    if (type <= 1 && pcid && !(env->cr[4] & CR4_PCIDE))
        raise_gp0(env, ra);
    if (type == 0 && !x86_is_canonical(env, addr))
        raise_gp0(env, ra);
    sys_tlb_invpcid(env, (unsigned)type, (unsigned)pcid, addr);
}

bool x86_pae_pdptes_valid(CPUX86State *env, uint64_t cr3)
{
    const uint64_t rsvd = 0x1e6ULL | ~PHYS_MASK;
    for (int i = 0; i < 4; i++) {
        uint64_t e = phys_read(env, (cr3 & 0xffffffe0) + i * 8, 8);
        if ((e & PTE_P) && (e & rsvd))
            return false;
    }
    return true;
}

uint32_t x86_update_linear32(CPUX86State *env, uint64_t lin, uint32_t and_mask,
                             uint32_t or_mask, uintptr_t ra)
{
    lin = linear_wrap(env, lin);
    if ((lin & 0xfff) > 0xffc) {            /* page-crossing: no atomicity needed in practice */
        uint32_t v = (uint32_t)x86_ld_linear(env, lin, 4, SYS_IDX, ra);
        x86_st_linear(env, lin, (v & and_mask) | or_mask, 4, SYS_IDX, ra);
        return v;
    }
    uint64_t pa = translate_or_raise(env, lin, X86_ACCESS_WRITE, SYS_IDX, ra);
    uint32_t *host = (pa & 3) ? NULL : dma_map(sysmem(), pa, 4, true);
    if (!host) {
        uint32_t v = (uint32_t)phys_ld(pa, 4);
        phys_st(pa, (v & and_mask) | or_mask, 4);
        return v;
    }
    uint32_t old = __atomic_load_n(host, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(host, &old, (old & and_mask) | or_mask, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        ;
    if (ram_write_notify)
        ram_write_notify(pa, 4);
    return old;
}
