/* Address spaces: guest-physical memory and the port-I/O space.
 *
 * An AddressSpace holds regions (RAM, ROM, or I/O with read/write callbacks),
 * each at a base address with a priority; where regions overlap, the higher
 * priority wins (equal priorities: the later-added one). The regions are
 * flattened into a sorted list of ranges on every change, so a lookup is a
 * binary search. Accesses that hit no region read all ones, discard writes
 * and are logged once per address (guest_errors).
 *
 * Device callbacks get the offset inside their region and a size of 1, 2, 4
 * or 8. A device that only implements some sizes sets min/max access size in
 * its ops; wider or narrower accesses are split or widened for it.
 *
 * Threading: the region layout changes only with the machine lock held
 * (system/cpus.h); every change bumps as->generation so that TLBs and KVM
 * memory slots can notice. */
#ifndef SYSTEM_MEMORY_H
#define SYSTEM_MEMORY_H

#include "system/util.h"

typedef struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
    /* Access sizes the device handles itself (0 means 1 and 8). */
    unsigned min_access, max_access;
} MemoryRegionOps;

typedef enum MemoryRegionKind {
    MR_RAM,   /* host memory, read/write */
    MR_ROM,   /* host memory, read-only to the guest (writes ignored) */
    MR_IO,    /* device callbacks */
} MemoryRegionKind;

typedef struct AddressSpace AddressSpace;

typedef struct MemoryRegion {
    const char *name;
    MemoryRegionKind kind;
    uint64_t base, size;
    int priority;
    bool enabled;
    uint8_t *host;                /* RAM/ROM backing, size bytes */
    const MemoryRegionOps *ops;   /* MR_IO */
    void *opaque;
    AddressSpace *as;
    uint64_t ram_offset;          /* offset in the machine's RAM block (RAM only) */
} MemoryRegion;

typedef struct FlatRange {
    uint64_t start, end;          /* [start, end] inclusive */
    MemoryRegion *mr;
} FlatRange;

struct AddressSpace {
    const char *name;
    uint64_t size;                /* addresses are < size (2^16 for ports) */
    MemoryRegion **regions;
    int nr_regions, cap_regions;
    FlatRange *flat;
    int nr_flat;
    unsigned generation;
    /* Called after every layout change (e.g. to flush TLBs, update KVM slots). */
    void (*layout_changed)(AddressSpace *as, void *opaque);
    void *layout_opaque;
};

AddressSpace *address_space_new(const char *name, uint64_t size);
void address_space_free(AddressSpace *as);

/* Add regions. The returned region belongs to the address space. */
MemoryRegion *as_add_ram(AddressSpace *as, const char *name, uint64_t base,
                         uint64_t size, uint8_t *host, int priority);
MemoryRegion *as_add_rom(AddressSpace *as, const char *name, uint64_t base,
                         uint64_t size, uint8_t *host, int priority);
MemoryRegion *as_add_io(AddressSpace *as, const char *name, uint64_t base,
                        uint64_t size, const MemoryRegionOps *ops, void *opaque,
                        int priority);
/* Move, resize, enable or disable a region (PCI BARs, PAM shadowing). */
void mr_set_base(MemoryRegion *mr, uint64_t base);
void mr_set_enabled(MemoryRegion *mr, bool enabled);
void mr_set_kind(MemoryRegion *mr, MemoryRegionKind kind);
void as_remove(MemoryRegion *mr);

/* The region covering addr, or NULL for unassigned; *offset is addr - base. */
MemoryRegion *as_lookup(AddressSpace *as, uint64_t addr, uint64_t *offset);
/* The flat range covering addr, or NULL. */
const FlatRange *as_lookup_range(AddressSpace *as, uint64_t addr);

/* CPU-style accesses of 1, 2, 4 or 8 bytes (little-endian, any alignment; an
 * access crossing region boundaries is split into bytes). */
uint64_t as_read(AddressSpace *as, uint64_t addr, unsigned size);
void as_write(AddressSpace *as, uint64_t addr, uint64_t value, unsigned size);

/* Bulk accesses by the CPU side (loaders, monitor, debugger): go through
 * RAM, ROM and I/O alike, byte by byte where needed. Never fail. */
void as_rw_buf(AddressSpace *as, uint64_t addr, void *buf, uint64_t len, bool is_write);
/* Loaders may write into ROM too. */
void as_write_rom(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len);

/* ---- DMA: the only way devices touch guest memory. ----------------------------
 * Bounds-checked: the whole range must lie in RAM (ROM too for reads) or the
 * call fails with -EFAULT and touches nothing; no guest value can make it
 * reach host memory outside guest RAM. */
int dma_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len);
int dma_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len);
/* A host pointer to [addr, addr+len) when it lies inside one RAM region, else NULL.
 * The pointer is valid until the next layout change. */
void *dma_map(AddressSpace *as, uint64_t addr, uint64_t len, bool is_write);

/* Hook run for guest-visible RAM writes through as_write/dma_write, so the
 * translator can invalidate code on modified pages. */
extern void (*ram_write_notify)(uint64_t addr, uint64_t len);

#endif
