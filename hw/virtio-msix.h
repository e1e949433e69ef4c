/* MSI-X for the virtio PCI functions (PCI Local Bus 3.0, 6.8.2): the
 * capability, a vector table and pending-bit array in a memory BAR, and
 * message delivery through the bus's MSI hook (hw/pci.h). Nothing here is
 * virtio-specific; it lives next to its only user for now.
 *
 * Capability: +2 message control (table size - 1 in bits 10:0, function
 * mask bit 14, enable bit 15), +4 table offset | BIR, +8 PBA offset | BIR.
 * Table entry (16 bytes): le32 address low, le32 address high, le32 data,
 * le32 vector control (bit 0: masked). A message for a masked vector sets
 * its pending bit and goes out when the vector is unmasked. */
#ifndef HW_VIRTIO_MSIX_H
#define HW_VIRTIO_MSIX_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/pci.h"

#define MSIX_MAX_VECTORS     128
#define MSIX_ENTRY_SIZE      16
#define MSIX_BAR_SIZE        0x1000
#define MSIX_TABLE_OFFSET    0x000
#define MSIX_PBA_OFFSET      0x800
#define MSIX_CTRL_ENABLE     0x8000
#define MSIX_CTRL_MASKALL    0x4000
#define MSIX_ENTRY_MASKED    1

typedef struct VirtioMsix {
    PCIDevice *pci;
    int cap;                    /* capability offset, -1 without MSI-X */
    unsigned nvectors;
    uint8_t table[MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
    uint64_t pending[MSIX_MAX_VECTORS / 64];
} VirtioMsix;

/* Offer nvectors vectors with table and PBA in memory BAR bar. False (and
 * no capability) when the bus cannot deliver MSIs or there is no room. */
bool virtio_msix_init(VirtioMsix *m, PCIDevice *d, int bar, unsigned nvectors);
bool virtio_msix_enabled(const VirtioMsix *m);
/* Signal vector: sent now, or left pending while masked. */
void virtio_msix_notify(VirtioMsix *m, unsigned vector);
/* After a configuration-space write: act on enable and function mask. */
void virtio_msix_config_written(VirtioMsix *m, unsigned addr, unsigned len);
/* Device reset: every vector masked, nothing pending, MSI-X disabled. */
void virtio_msix_reset(VirtioMsix *m);

#endif
