/* The machine: configuration from the command line, guest RAM, the two
 * address spaces, the vCPUs, the devices, and the reset/shutdown requests. */
#ifndef SYSTEM_MACHINE_H
#define SYSTEM_MACHINE_H

#include "system/chardev.h"
#include "system/irq.h"
#include "system/memory.h"
#include "system/opts.h"
#include "system/topology.h"

#define MAX_SERIAL 4
#define MAX_DRIVES 8
#define MAX_DEVICES 16
#define MAX_CPUS 64

typedef struct DriveConfig {
    char *file;
    char *format;       /* "raw", "qcow2", or NULL to probe */
    char *interface;    /* "ide", "virtio", "none" */
    char *media;        /* "disk" or "cdrom" */
    char *cache;        /* "writeback", "none", "writethrough", "unsafe", "directsync" */
    int index;          /* -1: next free */
    bool snapshot, readonly;
} DriveConfig;

typedef struct MachineConfig {
    uint64_t ram_size;
    int smp;
    CpuTopology topology;       /* -smp sockets=,cores=,threads= (product = smp) */
    const char *machine_type;   /* "pc" */
    const char *accel;          /* "tcg", "kvm" or NULL (auto) */
    Opts *accel_opts;           /* e.g. backend=interp for tcg */
    const char *cpu_model;
    const char *kernel, *initrd, *append;
    DriveConfig drives[MAX_DRIVES];
    int nr_drives;
    const char *boot_order;
    const char *serial[MAX_SERIAL];
    int nr_serial;
    const char *monitor;
    const char *qmp;
    const char *mons[4];        /* -mon chardev=ID,mode=... */
    int nr_mons;
    bool nographic;
    const char *display;        /* "sdl", "none" */
    bool no_reboot, no_shutdown;
    const char *name;
    Opts *devices[MAX_DEVICES];
    int nr_devices;
    const char *rtc_base;       /* "utc", "localtime" or a date */
    const char *gdb_dev;        /* -gdb DEV / -s */
    bool start_paused;          /* -S */
} MachineConfig;

typedef struct VCPU VCPU;

typedef void (*ResetHandler)(void *opaque);

typedef struct Machine {
    MachineConfig *cfg;
    AddressSpace *mem;          /* guest-physical memory */
    AddressSpace *io;           /* x86 port I/O, 64 KiB */
    uint8_t *ram;
    uint64_t ram_size;
    MemoryRegion *ram_below_4g, *ram_above_4g;
    VCPU *cpus[MAX_CPUS];
    int ncpus;
    Chardev *serial_chr[MAX_SERIAL];
    Chardev *monitor_chr;
    IrqLine *isa_irq;           /* 16 ISA IRQ lines (set up by the interrupt controllers) */
    IrqLine *gsi;               /* global system interrupts (I/O APIC inputs), 24 */
    struct AccelOps *accel;
    void *board;                /* board-specific state (hw/pc.c) */
} Machine;

extern Machine *current_machine;

/* Reset handlers run in registration order on machine reset. */
void machine_register_reset(ResetHandler fn, void *opaque);
void machine_run_reset_handlers(void);

/* Requests from devices or the monitor; acted upon by the main loop. */
void machine_request_reset(void);
void machine_request_shutdown(int exit_status);   /* power-off: status 0 */
void machine_request_debug_exit(int exit_status); /* isa-debug-exit */
void machine_request_pause(void);
/* Called from the main loop: act upon pending requests. Returns true when
 * the process should exit (status in *status). */
bool machine_handle_requests(int *status);

/* A20 gate (i8042 and port 0x92): the address mask the CPU applies. */
void machine_set_a20(bool enabled);
bool machine_a20(void);

#endif
