/* The machine's disks: every -drive/-hda/-cdrom opened through the block
 * layer when the machine is built, then claimed by the controller its
 * interface names (IDE channels, virtio-blk PCI functions). */
#ifndef HW_DRIVES_H
#define HW_DRIVES_H

#include "block/block.h"
#include "system/machine.h"

typedef struct Drive {
    DriveConfig *cfg;
    BlockDev *blk;
    bool cdrom;
    bool claimed;       /* a controller took it */
    int index;          /* the unit on its interface (IDE: 0-3) */
} Drive;

/* Open every configured drive; -1 with a message naming the drive on error. */
int drives_open(Machine *m, char *err, size_t errlen);
/* The drive on interface ("ide", "virtio") with that index, or NULL. */
Drive *drive_find(const char *interface, int index);
/* The n-th drive of an interface in command-line order, or NULL. */
Drive *drive_nth(const char *interface, int n);
/* -1 with a message if some drive was not taken by any controller. */
int drives_check_claimed(char *err, size_t errlen);
void drives_close_all(void);

#endif
