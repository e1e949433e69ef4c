/* Opening the configured drives and handing them to their controllers. */
#include "hw/drives.h"

#include "system/mainloop.h"

#include <poll.h>
#include <stdlib.h>

static Drive drives[MAX_DRIVES];
static int nr_drives;

static const char *drive_interface(const DriveConfig *c)
{
    return c->interface ? c->interface : "ide";
}

/* Give every drive without index= the next free unit of its interface. */
static int assign_index(DriveConfig *c, int slot, char *err, size_t errlen)
{
    if (c->index >= 0) {
        for (int i = 0; i < slot; i++) {
            if (drives[i].index == c->index && !strcmp(drive_interface(drives[i].cfg), drive_interface(c))) {
                snprintf(err, errlen, "-drive %s: index=%d on if=%s is taken by %s", c->file,
                         c->index, drive_interface(c), drives[i].cfg->file);
                return -1;
            }
        }
        return c->index;
    }
    for (int idx = 0;; idx++) {
        bool used = false;
        for (int i = 0; i < slot; i++)
            used |= drives[i].index == idx && !strcmp(drive_interface(drives[i].cfg), drive_interface(c));
        /* Later drives with an explicit index keep theirs. */
        for (int i = slot + 1; i < current_machine->cfg->nr_drives; i++) {
            DriveConfig *o = &current_machine->cfg->drives[i];
            used |= o->index == idx && !strcmp(drive_interface(o), drive_interface(c));
        }
        if (!used)
            return idx;
    }
}

/* Every controller's block completions (IDE, virtio-blk, a CD inserted
 * later from the monitor) run their callbacks in the main loop. */
static void block_completions_ready(void *opaque, int fd, short revents)
{
    (void)opaque;
    (void)fd;
    (void)revents;
    blk_aio_poll_completions();
}

int drives_open(Machine *m, char *err, size_t errlen)
{
    main_loop_set_fd(blk_aio_eventfd(), POLLIN, block_completions_ready, NULL);
    for (int i = 0; i < m->cfg->nr_drives; i++) {
        DriveConfig *c = &m->cfg->drives[i];
        Drive *d = &drives[nr_drives];
        d->cfg = c;
        d->cdrom = c->media && !strcmp(c->media, "cdrom");
        int idx = assign_index(c, i, err, errlen);
        if (idx < 0)
            return -1;
        d->index = idx;
        int flags = (c->readonly || d->cdrom) ? BLK_O_RDONLY : BLK_O_RDWR;
        if (c->snapshot)
            flags |= BLK_O_SNAPSHOT;
        char berr[BLK_ERR_LEN] = "";
        d->blk = blk_open(c->file, c->format, flags, berr, sizeof(berr));
        if (!d->blk) {
            snprintf(err, errlen, "-drive %s: %s", c->file, berr);
            return -1;
        }
        nr_drives++;
    }
    return 0;
}

Drive *drive_find(const char *interface, int index)
{
    for (int i = 0; i < nr_drives; i++)
        if (drives[i].index == index && !strcmp(drive_interface(drives[i].cfg), interface))
            return &drives[i];
    return NULL;
}

Drive *drive_nth(const char *interface, int n)
{
    for (int i = 0; i < nr_drives; i++)
        if (!strcmp(drive_interface(drives[i].cfg), interface) && n-- == 0)
            return &drives[i];
    return NULL;
}

int drives_check_claimed(char *err, size_t errlen)
{
    for (int i = 0; i < nr_drives; i++) {
        Drive *d = &drives[i];
        if (d->claimed || !strcmp(drive_interface(d->cfg), "none"))
            continue;
        snprintf(err, errlen, "-drive %s: no controller for if=%s index=%d (%s)", d->cfg->file,
                 drive_interface(d->cfg), d->index,
                 !strcmp(drive_interface(d->cfg), "ide") && d->index > 3 ? "IDE has units 0-3"
                 : "the controller is not implemented yet");
        return -1;
    }
    return 0;
}

void drives_close_all(void)
{
    for (int i = 0; i < nr_drives; i++)
        if (drives[i].blk)
            blk_close(drives[i].blk);
    nr_drives = 0;
}
