/* The human monitor (HMP-style, as QEMU users know it), prompt "(kestrel) ".
 *
 *   -monitor SPEC        main.c: chr = chardev_new(SPEC); monitor_new(chr)
 *   -serial mon:stdio    chardev_new creates the monitor itself (Ctrl-A c
 *                        switches between the serial port and the monitor)
 *   -monitor stdio together with -serial stdio: both get the one terminal,
 *                        Ctrl-A c switches (the first attached has the focus)
 *
 * Commands run on the I/O thread with the machine lock held. "help" lists
 * them; devices may add "info NAME" subcommands with monitor_register_info. */
#ifndef SYSTEM_MONITOR_H
#define SYSTEM_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "system/chardev.h"

typedef struct Monitor Monitor;
struct CPUX86State;

/* Start a monitor on chr (it attaches as a frontend). NULL chr: NULL. */
Monitor *monitor_new(Chardev *chr);
/* The monitor of a "mon:" chardev: it leaves the focus to the frontend
 * attached next (the serial port). Called by chardev_new. */
Monitor *monitor_new_mux(Chardev *chr);

/* Release a monitor once its chardev is freed (mon: monitors go with theirs). */
void monitor_free(Monitor *mon);

/* The QMP-style JSON monitor (-qmp SPEC): main.c calls
 * qmp_monitor_new(chardev_new(SPEC)). See system/monitor-qmp.c. */
typedef struct QmpMonitor QmpMonitor;
QmpMonitor *qmp_monitor_new(Chardev *chr);
void qmp_monitor_free(QmpMonitor *q);

/* -mon chardev=ID[,mode=readline|control][,pretty=on]: a human (readline)
 * or QMP (control) monitor on the chardev made by -chardev ...,id=ID.
 * Returns 0, or -1 with a message in err. */
int monitor_add_from_opts(const char *opts, char *err, size_t errlen);

/* Output to the monitor's terminal ("\n" line ends, as typed output). */
void monitor_printf(Monitor *mon, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run one command line, as if typed (no prompt printed). */
void monitor_execute(Monitor *mon, const char *line);

/* "info NAME" provided elsewhere (e.g. a device: "info pic"). */
typedef void (*MonitorInfoFn)(Monitor *mon, FILE *out);
void monitor_register_info(const char *name, const char *help, MonitorInfoFn fn);
/* A whole command provided elsewhere (e.g. "savevm TAG", "screendump FILE"):
 * fn prints to out; args is the rest of the line with spaces trimmed. The
 * strings must stay valid (literals). */
typedef void (*MonitorCommandFn)(Monitor *mon, FILE *out, const char *args);
void monitor_register_command(const char *name, const char *args_help, const char *help,
                              MonitorCommandFn fn);

/* system_powerdown asks this handler (the ACPI power button); without one
 * the machine shuts down at once, as if powered off. */
void monitor_set_powerdown_handler(void (*fn)(void *opaque), void *opaque);

/* ---- debugger memory access (monitor x/xp, gdbstub m/M) ----------------------- */
/* Read or write guest memory at a virtual (linear) address of env's current
 * address space, page by page through the debug page walk; nothing faults, no
 * A/D bits are set. Returns 0, or -1 when some page is not mapped (pages
 * before it were transferred). */
int debug_virt_rw(struct CPUX86State *env, uint64_t addr, void *buf, size_t len, bool is_write);
/* Virtual -> physical for debuggers; -1 when not mapped. */
int debug_virt_to_phys(struct CPUX86State *env, uint64_t addr, uint64_t *paddr);

#endif
