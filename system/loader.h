/* Direct kernel boot (-kernel/-initrd/-append): loads the image into guest
 * RAM and sets the boot CPU up to enter it, with no firmware involved.
 *
 * load_kernel() recognises the image type: a Linux bzImage (the 32-bit boot
 * protocol, loader-linux.c) or a multiboot v1 image (loader-multiboot.c). It is called once
 * the machine is built and the CPU reset (x86_cpu_reset). */
#ifndef SYSTEM_LOADER_H
#define SYSTEM_LOADER_H

#include "system/machine.h"

struct CPUX86State;

/* Load m->cfg->kernel (modules/initrd from m->cfg->initrd, command line from
 * m->cfg->append) and set env for its entry. Returns 0, or -1 with a message
 * in err (bad image, does not fit in RAM, unreadable file...). */
int load_kernel(Machine *m, struct CPUX86State *env, char *err, size_t errlen);

/* ---- helpers shared by the image loaders ---- */

/* The physical memory map the firmware would report (BIOS e820 types). */
enum { E820_RAM = 1, E820_RESERVED = 2 };
typedef struct E820Entry {
    uint64_t addr, size;
    uint32_t type;
} E820Entry;
#define E820_MAX 8
int pc_memory_map(Machine *m, E820Entry *map, int max);
/* End of the RAM that starts at 1 MiB, below 4 GiB (exclusive). */
uint64_t pc_ram_below_4g_end(Machine *m);

/* True when [addr, addr + len) lies entirely in guest RAM (not ROM, not I/O). */
bool loader_range_is_ram(Machine *m, uint64_t addr, uint64_t len);

/* Read a whole file of at most max_size bytes. Returns a malloc'ed buffer
 * (size in *size) or NULL with a message in err. */
uint8_t *loader_read_file(const char *path, uint64_t max_size, size_t *size,
                          char *err, size_t errlen);

/* 32-bit protected mode with flat 4 GiB segments (code selector cs, data
 * selector ds for DS/ES/FS/GS/SS), paging and interrupts off, A20 on, EIP =
 * entry: the entry state of both the multiboot and the Linux 32-bit boot
 * protocols. General registers are left to the caller. */
void loader_enter_flat_pm(struct CPUX86State *env, uint16_t cs, uint16_t ds, uint32_t entry);

/* Each image format: 1 = loaded, 0 = not this format, -1 = error (err set). */
int load_multiboot(Machine *m, struct CPUX86State *env, const uint8_t *image,
                   size_t size, char *err, size_t errlen);
int load_linux(Machine *m, struct CPUX86State *env, const uint8_t *image,
               size_t size, char *err, size_t errlen);
/* Physical address of the ACPI RSDP the board built (0: none), passed to Linux. */
extern uint64_t linux_acpi_rsdp_addr;

#endif
