/* Monitor commands for the IDE CD-ROMs, as QEMU users type them:
 *   eject [-f] ide1-cd0
 *   change ide1-cd0 FILE [FORMAT]
 * Media opened here are closed here when replaced or ejected; the media the
 * machine opened from -drive/-cdrom stay with hw/drives.c. */
#include "hw/ide-internal.h"

#include <stdlib.h>
#include "system/monitor.h"

#define EV_EJECT_REQUEST 1

static IdeState *monitor_ide;
static BlockDev *opened_here[IDE_UNITS];

static int find_cdrom(IdeState *s, const char *device, char *err, size_t errlen)
{
    int unit = ide_find_unit(s, device);
    if (unit < 0 || s->ch[unit >> 1].drive[unit & 1].kind != IDE_CD) {
        snprintf(err, errlen, "Device '%s' not found (IDE CD-ROMs are named ide<bus>-cd<unit>)",
                 device);
        return -1;
    }
    return unit;
}

/* The medium this file opened for unit goes away now. */
static void forget_medium(int unit)
{
    if (opened_here[unit]) {
        blk_close(opened_here[unit]);
        opened_here[unit] = NULL;
    }
}

int ide_monitor_eject(IdeState *s, const char *device, bool force, char *err, size_t errlen)
{
    int unit = find_cdrom(s, device, err, errlen);
    if (unit < 0)
        return -1;
    IdeDrive *d = &s->ch[unit >> 1].drive[unit & 1];
    if (d->atapi.locked && !force) {
        d->atapi.media_event = EV_EJECT_REQUEST;    /* the guest may unlock and eject */
        snprintf(err, errlen, "Device '%s' is locked and force was not specified, "
                 "wait for tray to open and try again", device);
        return -1;
    }
    ide_cd_change(s, unit, NULL);
    forget_medium(unit);
    return 0;
}

int ide_monitor_change(IdeState *s, const char *device, const char *file, const char *format,
                       char *err, size_t errlen)
{
    int unit = find_cdrom(s, device, err, errlen);
    if (unit < 0)
        return -1;
    char berr[BLK_ERR_LEN] = "";
    BlockDev *bs = blk_open(file, format, BLK_O_RDONLY, berr, sizeof(berr));
    if (!bs) {
        snprintf(err, errlen, "Could not open '%s': %s", file, berr);
        return -1;
    }
    ide_cd_change(s, unit, bs);
    forget_medium(unit);
    opened_here[unit] = bs;
    return 0;
}

/* Split the next word off *p (space separated); NULL when none. */
static char *next_word(char **p)
{
    char *s = *p;
    while (*s == ' ')
        s++;
    if (!*s)
        return NULL;
    char *w = s;
    while (*s && *s != ' ')
        s++;
    if (*s)
        *s++ = 0;
    *p = s;
    return w;
}

static void cmd_eject(Monitor *mon, FILE *out, const char *args)
{
    char *copy = xstrdup(args), *p = copy, *w = next_word(&p);
    bool force = w && !strcmp(w, "-f");
    if (force)
        w = next_word(&p);
    char err[512];
    if (!w || next_word(&p))
        fprintf(out, "usage: eject [-f] device\n");
    else if (!monitor_ide)
        fprintf(out, "no IDE controller\n");
    else if (ide_monitor_eject(monitor_ide, w, force, err, sizeof(err)) < 0)
        fprintf(out, "%s\n", err);
    free(copy);
}

static void cmd_change(Monitor *mon, FILE *out, const char *args)
{
    char *copy = xstrdup(args), *p = copy;
    char *device = next_word(&p), *file = next_word(&p), *format = next_word(&p);
    char err[768];
    if (!device || !file || next_word(&p))
        fprintf(out, "usage: change device filename [format]\n");
    else if (!monitor_ide)
        fprintf(out, "no IDE controller\n");
    else if (ide_monitor_change(monitor_ide, device, file, format, err, sizeof(err)) < 0)
        fprintf(out, "%s\n", err);
    free(copy);
}

void ide_print_info(IdeState *s, FILE *out)
{
    for (int unit = 0; s && unit < IDE_UNITS; unit++) {
        const char *name = ide_unit_name(s, unit);
        IdeDrive *d = &s->ch[unit >> 1].drive[unit & 1];
        if (!name)
            continue;
        if (d->kind == IDE_HD) {
            fprintf(out, "%s: %s (%s%s), %" PRIu64 " sectors, write cache %s\n", name,
                    blk_filename(d->blk), blk_format(d->blk),
                    blk_is_read_only(d->blk) ? ", read-only" : "", d->nb_sectors,
                    d->write_cache ? "on" : "off");
            continue;
        }
        if (d->blk)
            fprintf(out, "%s: %s (%s, read-only)\n", name, blk_filename(d->blk),
                    blk_format(d->blk));
        else
            fprintf(out, "%s: [not inserted]\n", name);
        fprintf(out, "    Removable device: %s, tray %s\n",
                d->atapi.locked ? "locked" : "not locked", d->atapi.tray_open ? "open" : "closed");
    }
}

static void info_ide(Monitor *mon, FILE *out)
{
    if (!monitor_ide)
        fprintf(out, "no IDE controller\n");
    ide_print_info(monitor_ide, out);
}

void ide_monitor_register(IdeState *s)
{
    if (!monitor_ide) {
        monitor_register_command("eject", "[-f] device", "eject the medium of a CD-ROM (ide1-cd0)",
                                 cmd_eject);
        monitor_register_command("change", "device filename [format]",
                                 "insert a new medium in a CD-ROM", cmd_change);
        monitor_register_info("ide", "the IDE devices and their media", info_ide);
    }
    monitor_ide = s;
}
