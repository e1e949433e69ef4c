/* PCI: a bus of devices with 256-byte configuration spaces, reached through
 * configuration mechanism #1 (ports 0xCF8/0xCFC), BARs that map device
 * regions into memory or port I/O when the command register enables them,
 * and INTx lines swizzled onto four PIRQ lines that the board routes. */
#ifndef HW_PCI_H
#define HW_PCI_H

#include "system/irq.h"
#include "system/memory.h"

#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e
#define PCI_ROM_ADDRESS    0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_COMMAND_IO     0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT 0x8
#define PCI_STATUS_CAP_LIST  0x10

#define PCI_BAR_IO         0x1
#define PCI_BAR_MEM64      0x4
#define PCI_BAR_PREFETCH   0x8

#define PCI_NUM_BARS 6
#define PCI_DEVFN(slot, fn) (((slot) << 3) | (fn))

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

typedef struct PCIBar {
    uint64_t size;              /* 0: unused */
    uint8_t type;               /* PCI_BAR_IO, or memory flags (MEM64, PREFETCH) */
    const MemoryRegionOps *ops;
    void *opaque;
    MemoryRegion *mr;           /* mapped region, NULL while unmapped */
    uint64_t addr;              /* where it is mapped */
} PCIBar;

struct PCIDevice {
    const char *name;
    PCIBus *bus;
    int devfn;
    uint8_t config[256];
    uint8_t wmask[256];         /* bits the guest may write */
    uint8_t w1cmask[256];       /* bits cleared by writing 1 (status) */
    PCIBar bars[PCI_NUM_BARS];
    int irq_level;              /* the INTx pin's current level */
    /* Optional hooks around the generic configuration-space handling. */
    uint32_t (*config_read)(PCIDevice *d, unsigned addr, unsigned len);
    void (*config_write)(PCIDevice *d, unsigned addr, uint32_t val, unsigned len);
    void *opaque;
    uint8_t cap_free;           /* next free capability offset (0: none added yet) */
};

struct PCIBus {
    AddressSpace *mem, *io;
    PCIDevice *devices[256];
    uint32_t config_address;    /* the 0xCF8 register */
    uint8_t reset_control;      /* 0xCF9: the PIIX reset control register */
    int pirq_count[4];          /* devices asserting each PIRQ line */
    /* The board routes PIRQ A-D (level changes) e.g. through PIIX3 to the PIC. */
    void (*set_pirq)(void *opaque, int pirq, int level);
    void *pirq_opaque;
    /* MSI/MSI-X messages (a dword write of data to addr, 0xfeeXXXXX on a
     * PC) from devices, e.g. apic_bus_msi. NULL: the board cannot deliver
     * them, and devices offer INTx only. */
    void (*msi)(void *opaque, uint64_t addr, uint32_t data);
    void *msi_opaque;
};

PCIBus *pci_bus_new(AddressSpace *mem, AddressSpace *io);
/* Registers 0xCF8/0xCFC in bus->io. */
void pci_bus_register_config_ports(PCIBus *bus);

/* Add a device at devfn (-1: first free slot, function 0). Returns it with its
 * config space zeroed except IDs and class; wmask set for command, latency,
 * interrupt line, and the BARs as they are registered. */
PCIDevice *pci_device_new(PCIBus *bus, const char *name, int devfn, uint16_t vendor,
                          uint16_t device, uint32_t class_code, uint8_t revision);
/* Declare BAR n of size bytes (a power of two; I/O at least 4, memory at
 * least 16). It is mapped when the guest programs it and enables decoding. */
void pci_register_bar(PCIDevice *d, int n, uint8_t type, uint64_t size,
                      const MemoryRegionOps *ops, void *opaque);
/* Interrupt pin: 1 = INTA ... 4 = INTD, 0 = none. */
void pci_set_interrupt_pin(PCIDevice *d, int pin);
/* Drive the device's INTx pin (respects the command register's INTx disable). */
void pci_set_irq(PCIDevice *d, int level);
/* The PIRQ line (0-3) a device's pin reaches on bus 0: the standard swizzle. */
int pci_pirq_of(const PCIDevice *d);

uint32_t pci_config_read(PCIDevice *d, unsigned addr, unsigned len);
void pci_config_write(PCIDevice *d, unsigned addr, uint32_t val, unsigned len);
/* The generic handling, for config_read/config_write hooks to fall back on. */
uint32_t pci_default_config_read(PCIDevice *d, unsigned addr, unsigned len);
void pci_default_config_write(PCIDevice *d, unsigned addr, uint32_t val, unsigned len);

#define PCI_CAP_ID_VNDR 0x09    /* vendor-specific capability */
#define PCI_CAP_ID_MSIX 0x11
/* Append a capability of size bytes (>= 2) to the list in config space (from
 * 0x40 on, dword aligned): writes its ID and links it, sets the status
 * register's capability-list bit. Returns its offset, or -1 when full. */
int pci_add_capability(PCIDevice *d, uint8_t id, uint8_t size);
/* Re-evaluate BAR mappings (after command or BAR writes, or reset). */
void pci_update_mappings(PCIDevice *d);
void pci_device_reset(PCIDevice *d);

/* Bus-master DMA, refused unless the device has bus mastering enabled. */
int pci_dma_read(PCIDevice *d, uint64_t addr, void *buf, uint64_t len);
int pci_dma_write(PCIDevice *d, uint64_t addr, const void *buf, uint64_t len);

#endif
