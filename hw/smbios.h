/* SMBIOS (DMTF DSP0134, 2.8): the tables behind Linux's "DMI:" line and
 * dmidecode — BIOS, system, chassis, processors, boot information — for
 * direct boot, where no firmware provides them. */
#ifndef HW_SMBIOS_H
#define HW_SMBIOS_H

#include <stddef.h>
#include <stdint.h>

typedef struct SmbiosConfig {
    int ncpus;
    uint32_t cpuid_1_eax, cpuid_1_edx;   /* processor signature and features */
    const char *name;                    /* -name, or NULL */
    uint64_t ram_size;
} SmbiosConfig;

/* Build the entry point (at base, 16-byte aligned, in 0xf0000-0xfffff where
 * the scan finds it) followed by the structure table. Caller frees. */
uint8_t *smbios_build(const SmbiosConfig *cfg, uint32_t base, size_t *len);

#endif
