/* MSI-X table, pending bits and delivery (see hw/virtio-msix.h). */
#include "hw/virtio-msix.h"

#include "system/log.h"
#include "system/util.h"

static uint8_t *entry(VirtioMsix *m, unsigned v)
{
    return m->table + (size_t)v * MSIX_ENTRY_SIZE;
}

static uint16_t control(const VirtioMsix *m)
{
    return ld16(m->pci->config + m->cap + 2);
}

bool virtio_msix_enabled(const VirtioMsix *m)
{
    return m->cap >= 0 && (control(m) & MSIX_CTRL_ENABLE);
}

static bool masked(VirtioMsix *m, unsigned v)
{
    return (control(m) & MSIX_CTRL_MASKALL) || (ld32(entry(m, v) + 12) & MSIX_ENTRY_MASKED);
}

static bool is_pending(const VirtioMsix *m, unsigned v)
{
    return m->pending[v / 64] & (1ULL << (v % 64));
}

static void set_pending(VirtioMsix *m, unsigned v, bool on)
{
    if (on)
        m->pending[v / 64] |= 1ULL << (v % 64);
    else
        m->pending[v / 64] &= ~(1ULL << (v % 64));
}

static void send(VirtioMsix *m, unsigned v)
{
    PCIBus *bus = m->pci->bus;
    const uint8_t *e = entry(m, v);
    if (!(ld16(m->pci->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        LOG(LOG_GUEST_ERRORS, "%s: MSI-X message without bus mastering dropped\n", m->pci->name);
        return;
    }
    bus->msi(bus->msi_opaque, ld64(e), ld32(e + 8));
}

void virtio_msix_notify(VirtioMsix *m, unsigned vector)
{
    if (!virtio_msix_enabled(m) || vector >= m->nvectors)
        return;
    if (masked(m, vector)) {
        set_pending(m, vector, true);
        return;
    }
    send(m, vector);
}

/* Send what became deliverable after an unmask. */
static void flush_pending(VirtioMsix *m)
{
    if (!virtio_msix_enabled(m))
        return;
    for (unsigned v = 0; v < m->nvectors; v++) {
        if (is_pending(m, v) && !masked(m, v)) {
            set_pending(m, v, false);
            send(m, v);
        }
    }
}

void virtio_msix_config_written(VirtioMsix *m, unsigned addr, unsigned len)
{
    if (m->cap >= 0 && addr < (unsigned)m->cap + 4 && addr + len > (unsigned)m->cap + 2)
        flush_pending(m);
}

/* ---- the table and PBA BAR ------------------------------------------------------- */

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
    VirtioMsix *m = opaque;
    (void)size;
    off &= ~3ULL;
    uint64_t table_end = (uint64_t)m->nvectors * MSIX_ENTRY_SIZE;
    if (off < table_end)
        return ld32(m->table + off);
    if (off >= MSIX_PBA_OFFSET && off < MSIX_PBA_OFFSET + sizeof(m->pending)) {
        unsigned word = (unsigned)(off - MSIX_PBA_OFFSET) / 8;
        unsigned shift = (unsigned)(off & 4) * 8;
        return (uint32_t)(m->pending[word] >> shift);
    }
    return 0;
}

static void bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    VirtioMsix *m = opaque;
    (void)size;
    off &= ~3ULL;
    if (off >= (uint64_t)m->nvectors * MSIX_ENTRY_SIZE)
        return;                 /* the PBA is read-only */
    unsigned v = (unsigned)off / MSIX_ENTRY_SIZE;
    if ((off & 15) == 12)
        val &= MSIX_ENTRY_MASKED;      /* other vector-control bits are reserved */
    st32(m->table + off, (uint32_t)val);
    if ((off & 15) == 12 && is_pending(m, v) && !masked(m, v) && virtio_msix_enabled(m)) {
        set_pending(m, v, false);
        send(m, v);
    }
}

/* Dword accesses only (qwords are split by the memory layer). */
static const MemoryRegionOps msix_bar_ops = { bar_read, bar_write, 4, 4 };

bool virtio_msix_init(VirtioMsix *m, PCIDevice *d, int bar, unsigned nvectors)
{
    m->pci = d;
    m->cap = -1;
    m->nvectors = nvectors;
    if (!d->bus->msi || nvectors == 0 || nvectors > MSIX_MAX_VECTORS)
        return false;
    int cap = pci_add_capability(d, PCI_CAP_ID_MSIX, 12);
    if (cap < 0)
        return false;
    m->cap = cap;
    pci_register_bar(d, bar, 0, MSIX_BAR_SIZE, &msix_bar_ops, m);
    st16(d->config + cap + 2, (uint16_t)(nvectors - 1));
    st32(d->config + cap + 4, MSIX_TABLE_OFFSET | (uint32_t)bar);
    st32(d->config + cap + 8, MSIX_PBA_OFFSET | (uint32_t)bar);
    st16(d->wmask + cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    virtio_msix_reset(m);
    return true;
}

void virtio_msix_reset(VirtioMsix *m)
{
    if (m->cap < 0)
        return;
    memset(m->table, 0, sizeof(m->table));
    for (unsigned v = 0; v < m->nvectors; v++)
        st32(entry(m, v) + 12, MSIX_ENTRY_MASKED);
    memset(m->pending, 0, sizeof(m->pending));
    uint8_t *ctrl = m->pci->config + m->cap + 2;
    st16(ctrl, (uint16_t)(ld16(ctrl) & ~(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL)));
}
