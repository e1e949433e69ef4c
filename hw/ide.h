/* The PIIX3 IDE controller (PCI 00:01.1): two legacy ATA channels (primary
 * 0x1f0-0x1f7/0x3f6 on ISA IRQ 14, secondary 0x170-0x177/0x376 on IRQ 15),
 * bus-master DMA (SFF-8038i) in BAR4, and up to four devices: ATA hard disks
 * and ATAPI CD-ROMs backed by the block layer.
 *
 * Units: 0 primary master, 1 primary slave, 2 secondary master, 3 secondary
 * slave. Guest disk I/O goes through blk_aio_submit(); its completions run
 * from the main loop (hw/drives.c registers blk_aio_eventfd() there). */
#ifndef HW_IDE_H
#define HW_IDE_H

#include "block/block.h"
#include "hw/pci.h"

#define IDE_UNITS 4

typedef struct IdeState IdeState;

/* The PCI function at 00:01.1 on bus with the legacy ports in bus->io.
 * irq14/irq15 are the ISA lines of the primary/secondary channel. Registers
 * its machine reset handler; no devices yet. */
IdeState *piix3_ide_create(PCIBus *bus, IrqLine *irq14, IrqLine *irq15);

/* Put a device on unit 0-3: a hard disk (blk required) or a CD-ROM (blk is
 * the medium, NULL for an empty drive). The controller never closes blk.
 * Returns 0, or -1 with a message. */
int ide_attach(IdeState *s, int unit, BlockDev *blk, bool cdrom, char *err, size_t errlen);

/* Whether the disk on unit starts with its write cache enabled (the
 * default; QEMU turns it off for cache=writethrough and directsync). With
 * it off every write reaches the medium (flush) before it completes. */
void ide_set_write_cache(IdeState *s, int unit, bool enabled);

/* Attach every -drive with if=ide (hw/drives.h) and mark it claimed
 * (cache=writethrough/directsync: write cache off, see above). With
 * default_cdrom, an empty CD-ROM goes on unit 2 when no drive uses it (what
 * QEMU's pc machine does). Returns 0, or -1 with a message. */
int piix3_ide_attach_drives(IdeState *s, bool default_cdrom, char *err, size_t errlen);

/* Monitor "change"/"eject": insert medium (or remove the current one with
 * NULL) in the CD-ROM on unit. The guest sees the tray cycle: a media event
 * and a UNIT ATTENTION (medium may have changed). The previous medium is not
 * closed: ide_cd_medium() before the call tells which it was.
 * Returns 0, or -ENODEV when unit holds no CD-ROM. */
int ide_cd_change(IdeState *s, int unit, BlockDev *medium);
/* The medium in the CD-ROM on unit (NULL: empty, or no CD-ROM there). */
BlockDev *ide_cd_medium(IdeState *s, int unit);
/* True when the guest locked the tray (PREVENT ALLOW MEDIUM REMOVAL). */
bool ide_cd_locked(IdeState *s, int unit);

/* QEMU-style names for the monitor: "ide1-cd0" is unit 2 holding a CD-ROM,
 * "ide0-hd1" unit 1 holding a disk. ide_unit_name() returns NULL for an
 * empty unit; ide_find_unit() returns the unit or -1. */
const char *ide_unit_name(IdeState *s, int unit);
int ide_find_unit(IdeState *s, const char *name);

/* The CHS translation a disk reports (IDENTIFY words 1/3/6), for the
 * board's CMOS; false when unit holds no disk. */
bool ide_hd_geometry(IdeState *s, int unit, uint16_t *cyls, uint16_t *heads, uint16_t *secs);

/* The monitor's "eject [-f] DEVICE" and "change DEVICE FILE [FORMAT]" (also
 * registered as monitor commands, with "info ide", by piix3_ide_create).
 * A locked tray refuses eject without force and asks the guest to eject
 * (media event). Media opened by change are closed when replaced or
 * ejected. Return 0, or -1 with a message. */
int ide_monitor_eject(IdeState *s, const char *device, bool force, char *err, size_t errlen);
int ide_monitor_change(IdeState *s, const char *device, const char *file, const char *format,
                       char *err, size_t errlen);
/* One line per device (and its medium) */
void ide_print_info(IdeState *s, FILE *out);

PCIDevice *ide_pci_device(IdeState *s);

/* Wait for every in-flight request of the controller (tests, shutdown). */
void ide_drain(IdeState *s);

#endif
