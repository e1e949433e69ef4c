/* The virtio PCI transport's state, shared by its modern (virtio-pci.c) and
 * legacy (virtio-pci-legacy.c) register files. */
#ifndef HW_VIRTIO_PCI_INTERNAL_H
#define HW_VIRTIO_PCI_INTERNAL_H

#include "hw/virtio-msix.h"
#include "hw/virtio-pci.h"

struct VirtioPCI {
    PCIDevice *pci;
    VirtioDevice *vdev;
    uint32_t dfselect, gfselect;
    uint16_t queue_select;      /* shared by both interfaces */
    int cfg_cap;                /* offset of the PCI_CFG capability */
    VirtioMsix msix;            /* msix.cap < 0: INTx only */
};

/* The legacy register file in I/O BAR 0 (transitional devices). */
void virtio_pci_legacy_init(VirtioPCI *p);

#endif
