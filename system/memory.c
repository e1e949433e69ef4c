/* Address spaces: region bookkeeping, the flattened view, and dispatch. */
#include "system/memory.h"

#include <errno.h>
#include <stdlib.h>
#include "system/log.h"

void (*ram_write_notify)(uint64_t addr, uint64_t len);

AddressSpace *address_space_new(const char *name, uint64_t size)
{
    AddressSpace *as = xzalloc(sizeof(*as));
    as->name = name;
    as->size = size;
    return as;
}

void address_space_free(AddressSpace *as)
{
    if (!as)
        return;
    for (int i = 0; i < as->nr_regions; i++)
        free(as->regions[i]);
    free(as->regions);
    free(as->flat);
    free(as);
}

/* The region visible at addr: enabled, covering it, highest priority; among
 * equal priorities the one added last. */
static MemoryRegion *topmost_at(AddressSpace *as, uint64_t addr)
{
    MemoryRegion *best = NULL;
    for (int i = 0; i < as->nr_regions; i++) {
        MemoryRegion *mr = as->regions[i];
        if (!mr->enabled || addr < mr->base || addr - mr->base >= mr->size)
            continue;
        if (!best || mr->priority >= best->priority)
            best = mr;
    }
    return best;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Rebuild the flat view: cut the address space at every region edge, give
 * each piece its topmost region, merge neighbours with the same region. */
static void as_rebuild(AddressSpace *as)
{
    int nb = 0;
    uint64_t *bounds = xmalloc(sizeof(uint64_t) * (2 * (size_t)as->nr_regions + 1));
    for (int i = 0; i < as->nr_regions; i++) {
        MemoryRegion *mr = as->regions[i];
        if (!mr->enabled || !mr->size)
            continue;
        bounds[nb++] = mr->base;
        uint64_t end = mr->base + mr->size;   /* may wrap to 0 at 2^64 */
        if (end > mr->base && end < as->size)
            bounds[nb++] = end;
    }
    qsort(bounds, (size_t)nb, sizeof(uint64_t), cmp_u64);

    free(as->flat);
    as->flat = xmalloc(sizeof(FlatRange) * ((size_t)nb + 1));
    as->nr_flat = 0;
    for (int i = 0; i < nb; i++) {
        if (i > 0 && bounds[i] == bounds[i - 1])
            continue;
        uint64_t start = bounds[i];
        uint64_t end = as->size - 1;
        for (int j = i + 1; j < nb; j++) {
            if (bounds[j] != start) {
                end = bounds[j] - 1;
                break;
            }
        }
        MemoryRegion *mr = topmost_at(as, start);
        if (!mr)
            continue;
        FlatRange *prev = as->nr_flat ? &as->flat[as->nr_flat - 1] : NULL;
        if (prev && prev->mr == mr && prev->end + 1 == start) {
            prev->end = end;
            continue;
        }
        as->flat[as->nr_flat++] = (FlatRange){ start, end, mr };
    }
    free(bounds);
    as->generation++;
    if (as->layout_changed)
        as->layout_changed(as, as->layout_opaque);
}

static MemoryRegion *as_add(AddressSpace *as, const char *name, MemoryRegionKind kind,
                            uint64_t base, uint64_t size, int priority)
{
    MemoryRegion *mr = xzalloc(sizeof(*mr));
    mr->name = name;
    mr->kind = kind;
    mr->base = base;
    mr->size = size;
    mr->priority = priority;
    mr->enabled = true;
    mr->as = as;
    if (as->nr_regions == as->cap_regions) {
        as->cap_regions = as->cap_regions ? as->cap_regions * 2 : 16;
        as->regions = xrealloc(as->regions, sizeof(*as->regions) * (size_t)as->cap_regions);
    }
    as->regions[as->nr_regions++] = mr;
    return mr;
}

MemoryRegion *as_add_ram(AddressSpace *as, const char *name, uint64_t base,
                         uint64_t size, uint8_t *host, int priority)
{
    MemoryRegion *mr = as_add(as, name, MR_RAM, base, size, priority);
    mr->host = host;
    as_rebuild(as);
    return mr;
}

MemoryRegion *as_add_rom(AddressSpace *as, const char *name, uint64_t base,
                         uint64_t size, uint8_t *host, int priority)
{
    MemoryRegion *mr = as_add(as, name, MR_ROM, base, size, priority);
    mr->host = host;
    as_rebuild(as);
    return mr;
}

MemoryRegion *as_add_io(AddressSpace *as, const char *name, uint64_t base,
                        uint64_t size, const MemoryRegionOps *ops, void *opaque,
                        int priority)
{
    MemoryRegion *mr = as_add(as, name, MR_IO, base, size, priority);
    mr->ops = ops;
    mr->opaque = opaque;
    as_rebuild(as);
    return mr;
}

void mr_set_base(MemoryRegion *mr, uint64_t base)
{
    if (mr->base != base) {
        mr->base = base;
        as_rebuild(mr->as);
    }
}

void mr_set_enabled(MemoryRegion *mr, bool enabled)
{
    if (mr->enabled != enabled) {
        mr->enabled = enabled;
        as_rebuild(mr->as);
    }
}

void mr_set_kind(MemoryRegion *mr, MemoryRegionKind kind)
{
    if (mr->kind != kind) {
        mr->kind = kind;
        as_rebuild(mr->as);
    }
}

void as_remove(MemoryRegion *mr)
{
    AddressSpace *as = mr->as;
    for (int i = 0; i < as->nr_regions; i++) {
        if (as->regions[i] == mr) {
            memmove(&as->regions[i], &as->regions[i + 1],
                    sizeof(*as->regions) * (size_t)(as->nr_regions - i - 1));
            as->nr_regions--;
            break;
        }
    }
    free(mr);
    as_rebuild(as);
}

const FlatRange *as_lookup_range(AddressSpace *as, uint64_t addr)
{
    int lo = 0, hi = as->nr_flat - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const FlatRange *fr = &as->flat[mid];
        if (addr < fr->start)
            hi = mid - 1;
        else if (addr > fr->end)
            lo = mid + 1;
        else
            return fr;
    }
    return NULL;
}

MemoryRegion *as_lookup(AddressSpace *as, uint64_t addr, uint64_t *offset)
{
    const FlatRange *fr = as_lookup_range(as, addr);
    if (!fr)
        return NULL;
    if (offset)
        *offset = addr - fr->mr->base;
    return fr->mr;
}

/* ---- device dispatch with access-size adaptation ------------------------------ */

static uint64_t io_read(MemoryRegion *mr, uint64_t off, unsigned size);
static void io_write(MemoryRegion *mr, uint64_t off, uint64_t val, unsigned size);

static unsigned ops_min(const MemoryRegionOps *ops) { return ops->min_access ? ops->min_access : 1; }
static unsigned ops_max(const MemoryRegionOps *ops) { return ops->max_access ? ops->max_access : 8; }

static uint64_t io_read(MemoryRegion *mr, uint64_t off, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    if (!ops->read)
        return size_mask(size);
    if (size > ops_max(ops)) {          /* split, little-endian */
        unsigned part = ops_max(ops);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i += part)
            v |= io_read(mr, off + i, part) << (i * 8);
        return v;
    }
    if (size < ops_min(ops)) {          /* widen to an aligned access */
        unsigned w = ops_min(ops);
        uint64_t aligned = off & ~(uint64_t)(w - 1);
        unsigned shift = (unsigned)(off - aligned) * 8;
        if (off - aligned + size > w)   /* straddles: bytewise */
            return io_read(mr, aligned, w) >> shift;
        return (ops->read(mr->opaque, aligned, w) >> shift) & size_mask(size);
    }
    return ops->read(mr->opaque, off, size) & size_mask(size);
}

static void io_write(MemoryRegion *mr, uint64_t off, uint64_t val, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    if (!ops->write)
        return;
    if (size > ops_max(ops)) {
        unsigned part = ops_max(ops);
        for (unsigned i = 0; i < size; i += part)
            io_write(mr, off + i, (val >> (i * 8)) & size_mask(part), part);
        return;
    }
    if (size < ops_min(ops)) {          /* read-modify-write of the aligned unit */
        unsigned w = ops_min(ops);
        uint64_t aligned = off & ~(uint64_t)(w - 1);
        unsigned shift = (unsigned)(off - aligned) * 8;
        uint64_t old = ops->read ? ops->read(mr->opaque, aligned, w) : 0;
        uint64_t mask = size_mask(size) << shift;
        ops->write(mr->opaque, aligned, (old & ~mask) | ((val << shift) & mask), w);
        return;
    }
    ops->write(mr->opaque, off, val & size_mask(size), size);
}

static void log_unassigned(AddressSpace *as, uint64_t addr, unsigned size, bool is_write,
                           uint64_t val)
{
    if (is_write)
        LOG_ONCE(LOG_GUEST_ERRORS, addr ^ ((uint64_t)(uintptr_t)as << 1) ^ 1,
                 "%s: unassigned write of %u bytes at 0x%" PRIx64 " (value 0x%" PRIx64 ")\n",
                 as->name, size, addr, val);
    else
        LOG_ONCE(LOG_GUEST_ERRORS, addr ^ ((uint64_t)(uintptr_t)as << 1),
                 "%s: unassigned read of %u bytes at 0x%" PRIx64 "\n", as->name, size, addr);
}

static uint64_t read_byte_slow(AddressSpace *as, uint64_t addr);
static void write_byte_slow(AddressSpace *as, uint64_t addr, uint8_t val);

uint64_t as_read(AddressSpace *as, uint64_t addr, unsigned size)
{
    const FlatRange *fr = as_lookup_range(as, addr);
    if (!fr || addr + size - 1 > fr->end || addr + size - 1 < addr) {
        if (!fr && (size == 1 || !as_lookup_range(as, addr + size - 1))) {
            log_unassigned(as, addr, size, false, 0);
            return size_mask(size);
        }
        uint64_t v = 0;                  /* crosses a boundary: bytewise */
        for (unsigned i = 0; i < size; i++)
            v |= read_byte_slow(as, addr + i) << (i * 8);
        return v;
    }
    MemoryRegion *mr = fr->mr;
    uint64_t off = addr - mr->base;
    if (mr->kind == MR_IO)
        return io_read(mr, off, size);
    return ldn(mr->host + off, size);
}

void as_write(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size)
{
    const FlatRange *fr = as_lookup_range(as, addr);
    if (!fr || addr + size - 1 > fr->end || addr + size - 1 < addr) {
        if (!fr && (size == 1 || !as_lookup_range(as, addr + size - 1))) {
            log_unassigned(as, addr, size, true, val);
            return;
        }
        for (unsigned i = 0; i < size; i++)
            write_byte_slow(as, addr + i, (uint8_t)(val >> (i * 8)));
        return;
    }
    MemoryRegion *mr = fr->mr;
    uint64_t off = addr - mr->base;
    switch (mr->kind) {
    case MR_IO:
        io_write(mr, off, val, size);
        break;
    case MR_RAM:
        stn(mr->host + off, size, val);
        if (ram_write_notify)
            ram_write_notify(addr, size);
        break;
    case MR_ROM:
        LOG_ONCE(LOG_GUEST_ERRORS, addr, "%s: write to ROM %s at 0x%" PRIx64 " ignored\n",
                 as->name, mr->name, addr);
        break;
    }
}

static uint64_t read_byte_slow(AddressSpace *as, uint64_t addr)
{
    return as_read(as, addr, 1);
}

static void write_byte_slow(AddressSpace *as, uint64_t addr, uint8_t val)
{
    as_write(as, addr, val, 1);
}

void as_rw_buf(AddressSpace *as, uint64_t addr, void *buf, uint64_t len, bool is_write)
{
    uint8_t *p = buf;
    while (len) {
        const FlatRange *fr = as_lookup_range(as, addr);
        if (fr && fr->mr->kind != MR_IO) {
            uint64_t n = MIN(len, fr->end - addr + 1);
            uint8_t *host = fr->mr->host + (addr - fr->mr->base);
            if (!is_write)
                memcpy(p, host, n);
            else if (fr->mr->kind == MR_RAM) {
                memcpy(host, p, n);
                if (ram_write_notify)
                    ram_write_notify(addr, n);
            }
            p += n;
            addr += n;
            len -= n;
            if (!n)
                break;
            continue;
        }
        if (is_write)
            as_write(as, addr, *p, 1);
        else
            *p = (uint8_t)as_read(as, addr, 1);
        p++;
        addr++;
        len--;
    }
}

void as_write_rom(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len)
{
    const uint8_t *p = buf;
    while (len) {
        const FlatRange *fr = as_lookup_range(as, addr);
        if (fr && fr->mr->kind != MR_IO) {
            uint64_t n = MIN(len, fr->end - addr + 1);
            memcpy(fr->mr->host + (addr - fr->mr->base), p, n);
            if (ram_write_notify)
                ram_write_notify(addr, n);
            p += n;
            addr += n;
            len -= n;
            continue;
        }
        as_write(as, addr, *p, 1);
        p++;
        addr++;
        len--;
    }
}

/* ---- DMA ------------------------------------------------------------------------ */

/* Check that [addr, addr+len) lies wholly in RAM (or ROM for reads). */
static bool dma_range_ok(AddressSpace *as, uint64_t addr, uint64_t len, bool is_write)
{
    if (len == 0)
        return true;
    if (addr + len < addr || addr + len - 1 >= as->size)
        return false;
    uint64_t a = addr, left = len;
    while (left) {
        const FlatRange *fr = as_lookup_range(as, a);
        if (!fr || fr->mr->kind == MR_IO || (is_write && fr->mr->kind != MR_RAM))
            return false;
        uint64_t n = MIN(left, fr->end - a + 1);
        a += n;
        left -= n;
    }
    return true;
}

static int dma_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len, bool is_write)
{
    if (!dma_range_ok(as, addr, len, is_write)) {
        LOG(LOG_GUEST_ERRORS, "%s: DMA %s of %" PRIu64 " bytes at 0x%" PRIx64
            " outside guest RAM refused\n", as->name, is_write ? "write" : "read", len, addr);
        return -EFAULT;
    }
    uint8_t *p = buf;
    while (len) {
        const FlatRange *fr = as_lookup_range(as, addr);
        uint64_t n = MIN(len, fr->end - addr + 1);
        uint8_t *host = fr->mr->host + (addr - fr->mr->base);
        if (is_write) {
            memcpy(host, p, n);
            if (ram_write_notify)
                ram_write_notify(addr, n);
        } else {
            memcpy(p, host, n);
        }
        p += n;
        addr += n;
        len -= n;
    }
    return 0;
}

int dma_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len)
{
    return dma_rw(as, addr, buf, len, false);
}

int dma_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len)
{
    return dma_rw(as, addr, (void *)buf, len, true);
}

void *dma_map(AddressSpace *as, uint64_t addr, uint64_t len, bool is_write)
{
    if (len == 0 || addr + len < addr)
        return NULL;
    const FlatRange *fr = as_lookup_range(as, addr);
    if (!fr || addr + len - 1 > fr->end)
        return NULL;
    if (fr->mr->kind != MR_RAM && !(fr->mr->kind == MR_ROM && !is_write))
        return NULL;
    if (is_write && ram_write_notify)
        ram_write_notify(addr, len);
    return fr->mr->host + (addr - fr->mr->base);
}
