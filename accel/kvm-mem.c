/* KVM memory slots: one per RAM or ROM flat range of the guest-physical
 * address space, page-aligned inward (the unaligned edges, if any, are left to
 * MMIO exits, which reach the same memory through as_read/as_write). ROM
 * slots are read-only (KVM_MEM_READONLY) so that guest writes exit as MMIO
 * and are ignored by the ROM region, as under the translator.
 *
 * The slots follow the layout: after every change (PCI BARs, PAM shadowing)
 * kvm_mem_sync() deletes the slots that no longer match and adds the new
 * ones. Slot flags are kept so that dirty logging can be switched on for
 * every slot later (migration). */
#include "accel/kvm-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#define PAGE_SIZE 4096ull

static bool readonly_supported;

static int set_slot(KVMState *s, int id, const KVMSlot *slot)
{
    struct kvm_userspace_memory_region r = {
        .slot = id,
        .flags = slot ? slot->flags : 0,
        .guest_phys_addr = slot ? slot->gpa : s->slots[id].gpa,
        .memory_size = slot ? slot->size : 0,
        .userspace_addr = slot ? (uintptr_t)slot->host : 0,
    };
    if (ioctl(s->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        error_report("kvm: cannot %s memory slot %d at 0x%llx (%llu bytes): %s",
                     slot ? "add" : "remove", id, (unsigned long long)r.guest_phys_addr,
                     (unsigned long long)r.memory_size, strerror(errno));
        return -1;
    }
    return 0;
}

/* The slot a flat range should have; false when it gets none. */
static bool slot_for_range(const KVMState *s, const FlatRange *fr, KVMSlot *out)
{
    const MemoryRegion *mr = fr->mr;
    if ((mr->kind != MR_RAM && mr->kind != MR_ROM) || !mr->enabled || !mr->host)
        return false;
    uint64_t start = ALIGN_UP(fr->start, PAGE_SIZE);
    uint64_t end = ALIGN_DOWN(fr->end + 1, PAGE_SIZE);
    uint8_t *host = mr->host + (start - mr->base);
    if (end <= start || ((uintptr_t)host & (PAGE_SIZE - 1)))
        return false;
    *out = (KVMSlot){
        .used = true, .gpa = start, .size = end - start, .host = host,
        .flags = (mr->kind == MR_ROM && readonly_supported ? KVM_MEM_READONLY : 0) |
                 (s->dirty_logging ? KVM_MEM_LOG_DIRTY_PAGES : 0),
    };
    return true;
}

/* Same memory; the flags may still differ (dirty logging switched). */
static bool same_slot(const KVMSlot *a, const KVMSlot *b)
{
    return a->used && b->used && a->gpa == b->gpa && a->size == b->size &&
           a->host == b->host &&
           (a->flags & KVM_MEM_READONLY) == (b->flags & KVM_MEM_READONLY);
}

void kvm_mem_sync(KVMState *s)
{
    AddressSpace *as = s->m->mem;
    KVMSlot *want = xzalloc(sizeof(KVMSlot) * (as->nr_flat + 1));
    int nwant = 0;
    for (int i = 0; i < as->nr_flat; i++)
        if (slot_for_range(s, &as->flat[i], &want[nwant]))
            nwant++;

    pthread_mutex_lock(&s->slots_lock);
    /* Remove what changed first: KVM refuses overlapping slots. */
    for (int id = 0; id < s->max_slots; id++) {
        if (!s->slots[id].used)
            continue;
        bool keep = false;
        for (int j = 0; j < nwant && !keep; j++)
            if (same_slot(&s->slots[id], &want[j])) {
                keep = true;
                want[j].used = false;      /* already present */
                /* Flags change in place: the memory never disappears. */
                if (s->slots[id].flags != want[j].flags && set_slot(s, id, &want[j]) == 0)
                    s->slots[id].flags = want[j].flags;
            }
        if (!keep) {
            set_slot(s, id, NULL);
            s->slots[id].used = false;
        }
    }
    int id = 0;
    for (int j = 0; j < nwant; j++) {
        if (!want[j].used)
            continue;
        while (id < s->max_slots && s->slots[id].used)
            id++;
        if (id == s->max_slots) {
            error_report("kvm: out of memory slots; 0x%llx-0x%llx left to MMIO exits",
                         (unsigned long long)want[j].gpa,
                         (unsigned long long)(want[j].gpa + want[j].size - 1));
            continue;
        }
        if (set_slot(s, id, &want[j]) == 0)
            s->slots[id] = want[j];
    }
    pthread_mutex_unlock(&s->slots_lock);
    free(want);
}

static void layout_changed(AddressSpace *as, void *opaque)
{
    KVMState *s = opaque;
    if (s->prev_layout_changed)
        s->prev_layout_changed(as, s->prev_layout_opaque);
    kvm_mem_sync(s);
}

int kvm_mem_init(KVMState *s, char *err, size_t errlen)
{
    int n = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    s->max_slots = n > 0 ? MIN(n, KVM_MAX_SLOTS) : 32;
    readonly_supported = ioctl(s->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
    pthread_mutex_init(&s->slots_lock, NULL);
    AddressSpace *as = s->m->mem;
    if (!as) {
        snprintf(err, errlen, "kvm: the machine has no memory address space");
        return -1;
    }
    s->prev_layout_changed = as->layout_changed;
    s->prev_layout_opaque = as->layout_opaque;
    as->layout_changed = layout_changed;
    as->layout_opaque = s;
    kvm_mem_sync(s);
    return 0;
}

/* ---- dirty page tracking ---- */

static int set_dirty_logging(bool on)
{
    KVMState *s = &kvm_state;
    if (s->vm_fd < 0) {
        errno = ENODEV;
        return -1;
    }
    s->dirty_logging = on;
    kvm_mem_sync(s);
    return 0;
}

int kvm_dirty_log_start(void) { return set_dirty_logging(true); }
int kvm_dirty_log_stop(void) { return set_dirty_logging(false); }

int kvm_dirty_log_sync(void (*mark)(uint64_t gpa, void *opaque), void *opaque)
{
    KVMState *s = &kvm_state;
    int ret = 0;
    pthread_mutex_lock(&s->slots_lock);
    for (int id = 0; id < s->max_slots && ret == 0; id++) {
        const KVMSlot *slot = &s->slots[id];
        if (!slot->used || !(slot->flags & KVM_MEM_LOG_DIRTY_PAGES))
            continue;
        uint64_t pages = slot->size / PAGE_SIZE;
        uint64_t *bitmap = xzalloc(ALIGN_UP(pages, 64) / 8);
        struct kvm_dirty_log log = { .slot = id, .dirty_bitmap = bitmap };
        if (ioctl(s->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
            ret = -1;
        } else {
            for (uint64_t w = 0; w < ALIGN_UP(pages, 64) / 64; w++)
                for (uint64_t bits = bitmap[w]; bits; bits &= bits - 1)
                    mark(slot->gpa + (w * 64 + __builtin_ctzll(bits)) * PAGE_SIZE, opaque);
        }
        free(bitmap);
    }
    pthread_mutex_unlock(&s->slots_lock);
    return ret;
}
