/* Virtio over PCI. The modern (VIRTIO 1.x) interface: vendor 0x1af4,
 * device 0x1040 + virtio device type, revision 1 (or, for a transitional
 * device that also has the legacy interface in I/O BAR 0, the legacy ID,
 * revision 0 and the type in the subsystem ID), and vendor-specific
 * capabilities locating the common configuration, notification, ISR and
 * device configuration structures in a 64-bit memory BAR, plus the
 * PCI-configuration access window (VIRTIO_PCI_CAP_PCI_CFG) for firmware
 * that cannot reach a BAR above 4 GiB. Interrupts: INTx (INTA) driven by
 * the ISR bits, or MSI-X (one vector per queue plus one for configuration
 * changes) when the bus can deliver MSIs (PCIBus.msi set by the board). */
#ifndef HW_VIRTIO_PCI_H
#define HW_VIRTIO_PCI_H

#include "hw/virtio.h"

#define VIRTIO_PCI_VENDOR_ID        0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE   0x1040
#define VIRTIO_PCI_SUBSYS_ID        0x1100  /* modern-only devices */
#define VIRTIO_PCI_LEGACY_BLK_ID    0x1001  /* transitional block device */

/* cfg_type of the vendor capabilities (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG   1
#define VIRTIO_PCI_CAP_NOTIFY_CFG   2
#define VIRTIO_PCI_CAP_ISR_CFG      3
#define VIRTIO_PCI_CAP_DEVICE_CFG   4
#define VIRTIO_PCI_CAP_PCI_CFG      5

/* struct virtio_pci_cap field offsets. */
#define VIRTIO_PCI_CAP_LEN          2
#define VIRTIO_PCI_CAP_CFG_TYPE     3
#define VIRTIO_PCI_CAP_BAR          4
#define VIRTIO_PCI_CAP_OFFSET       8
#define VIRTIO_PCI_CAP_LENGTH       12
#define VIRTIO_PCI_NOTIFY_CAP_MULT  16      /* notify_off_multiplier */
#define VIRTIO_PCI_CFG_CAP_DATA     16      /* pci_cfg_data */

/* struct virtio_pci_common_cfg field offsets (4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00
#define VIRTIO_PCI_COMMON_DF            0x04
#define VIRTIO_PCI_COMMON_GFSELECT      0x08
#define VIRTIO_PCI_COMMON_GF            0x0c
#define VIRTIO_PCI_COMMON_MSIX          0x10
#define VIRTIO_PCI_COMMON_NUMQ          0x12
#define VIRTIO_PCI_COMMON_STATUS        0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1e
#define VIRTIO_PCI_COMMON_Q_DESC        0x20
#define VIRTIO_PCI_COMMON_Q_AVAIL       0x28
#define VIRTIO_PCI_COMMON_Q_USED        0x30
#define VIRTIO_PCI_COMMON_Q_NDATA       0x38
#define VIRTIO_PCI_COMMON_Q_RESET       0x3a
#define VIRTIO_PCI_COMMON_SIZE          0x3c

#define VIRTIO_MSI_NO_VECTOR            VIRTIO_NO_VECTOR
#define VIRTIO_PCI_MSIX_BAR             1       /* MSI-X table and PBA, when offered */

/* Where the structures sit in the BAR (what the capabilities say). */
#define VIRTIO_PCI_BAR                  4
#define VIRTIO_PCI_BAR_SIZE             0x4000
#define VIRTIO_PCI_COMMON_OFFSET        0x0000
#define VIRTIO_PCI_ISR_OFFSET           0x1000
#define VIRTIO_PCI_DEVICE_OFFSET        0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET        0x3000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER    4

typedef struct VirtioPCI VirtioPCI;

/* Put vdev (already virtio_device_init'ed) on bus at devfn (-1: first free
 * slot) with the given PCI class code. legacy_device_id != 0 (e.g. 0x1001
 * for a block device) makes a transitional device that also has the legacy
 * interface in I/O BAR 0 (hw/virtio-pci-legacy.c); 0 makes a modern-only
 * one. Registers a machine reset handler. NULL when the slot is taken. */
VirtioPCI *virtio_pci_create(PCIBus *bus, int devfn, VirtioDevice *vdev, uint32_t class_code,
                             uint16_t legacy_device_id);
PCIDevice *virtio_pci_device(VirtioPCI *p);
/* Device reset plus PCI function reset (machine reset). */
void virtio_pci_reset(VirtioPCI *p);

#endif
