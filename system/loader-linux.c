/* The Linux x86 boot protocol (Documentation/x86/boot.rst): a bzImage is
 * loaded without firmware and entered through its 32-bit entry point.
 *
 *   0x01000  GDT with the flat __BOOT_CS (0x10) and __BOOT_DS (0x18)
 *   0x10000  boot_params ("zero page"): setup header copy, e820 map
 *   0x20000  kernel command line
 *   1 MiB    the protected-mode kernel (the part after the setup sectors)
 *   top      the initrd, as high as initrd_addr_max and RAM allow
 * Entry: 32-bit protected mode, paging off, interrupts off, flat segments,
 * ESI = boot_params, EIP = code32_start. */
#include "system/loader.h"

#include <stdlib.h>
#include "cpu/x86/cpu.h"

#define GDT_ADDR         0x1000
#define BOOT_PARAMS_ADDR 0x10000
#define CMDLINE_ADDR     0x20000
#define CMDLINE_MAX      0x10000
#define KERNEL_ADDR      0x100000

/* Offsets in the setup header / boot_params (bootparam.h). */
enum {
    BP_ACPI_RSDP     = 0x070,
    BP_EXT_RD_IMAGE  = 0x0c0,
    BP_EXT_RD_SIZE   = 0x0c4,
    BP_EXT_CMDLINE   = 0x0c8,
    BP_E820_ENTRIES  = 0x1e8,
    HDR_SETUP_SECTS  = 0x1f1,
    HDR_VID_MODE     = 0x1fa,
    HDR_BOOT_FLAG    = 0x1fe,
    HDR_MAGIC        = 0x202,
    HDR_VERSION      = 0x206,
    HDR_TYPE_OF_LOADER = 0x210,
    HDR_LOADFLAGS    = 0x211,
    HDR_CODE32_START = 0x214,
    HDR_RAMDISK_IMAGE = 0x218,
    HDR_RAMDISK_SIZE = 0x21c,
    HDR_HEAP_END_PTR = 0x224,
    HDR_CMD_LINE_PTR = 0x228,
    HDR_INITRD_MAX   = 0x22c,
    HDR_CMDLINE_SIZE = 0x238,
    HDR_END          = 0x280,   /* setup header ends before this in every version */
    BP_E820_TABLE    = 0x2d0,
    BP_E820_MAX      = 128,
};
#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80

uint64_t linux_acpi_rsdp_addr;   /* set by the board when it builds ACPI tables */

static void write_boot_gdt(Machine *m)
{
    /* null, null, flat code 0x10, flat data 0x18 */
    static const uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffULL, 0x00cf93000000ffffULL };
    as_write_rom(m->mem, GDT_ADDR, gdt, sizeof(gdt));
}

static void set_entry_state(CPUX86State *env, uint32_t entry)
{
    loader_enter_flat_pm(env, 0x10, 0x18, entry);
    env->gdt.base = GDT_ADDR;
    env->gdt.limit = 4 * 8 - 1;
    memset(env->regs, 0, sizeof(env->regs));
    env->regs[R_ESI] = BOOT_PARAMS_ADDR;
}

static int load_initrd(Machine *m, uint8_t *bp, uint32_t initrd_max, char *err, size_t errlen)
{
    const char *path = m->cfg->initrd;
    if (!path)
        return 0;
    uint64_t top = MIN(pc_ram_below_4g_end(m), (uint64_t)initrd_max + 1);
    size_t size;
    uint8_t *data = loader_read_file(path, top, &size, err, errlen);
    if (!data)
        return -1;
    uint64_t addr = ALIGN_DOWN(top - size, 4096);
    if (size > top || addr < KERNEL_ADDR + 16 * MiB || !loader_range_is_ram(m, addr, size)) {
        snprintf(err, errlen, "-initrd: '%s' (%zu bytes) does not fit in guest RAM below "
                 "0x%" PRIx64 " (try more -m)", path, size, top);
        free(data);
        return -1;
    }
    as_write_rom(m->mem, addr, data, size);
    free(data);
    st32(bp + HDR_RAMDISK_IMAGE, (uint32_t)addr);
    st32(bp + HDR_RAMDISK_SIZE, (uint32_t)size);
    return 0;
}

static void fill_e820(Machine *m, uint8_t *bp)
{
    E820Entry map[E820_MAX];
    int n = pc_memory_map(m, map, E820_MAX);
    for (int i = 0; i < n && i < BP_E820_MAX; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        st64(e, map[i].addr);
        st64(e + 8, map[i].size);
        st32(e + 16, map[i].type);
    }
    bp[BP_E820_ENTRIES] = (uint8_t)n;
}

int load_linux(Machine *m, CPUX86State *env, const uint8_t *image, size_t size,
               char *err, size_t errlen)
{
    if (size < HDR_END || ld16(image + HDR_BOOT_FLAG) != 0xaa55 ||
        memcmp(image + HDR_MAGIC, "HdrS", 4) != 0)
        return 0;
    uint16_t version = ld16(image + HDR_VERSION);
    if (version < 0x0206) {
        snprintf(err, errlen, "Linux boot protocol %u.%02u is too old (2.06 or later needed)",
                 version >> 8, version & 0xff);
        return -1;
    }
    if (!(image[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "zImage kernels (not loaded high) are not supported; use a bzImage");
        return -1;
    }
    unsigned setup_sects = image[HDR_SETUP_SECTS] ? image[HDR_SETUP_SECTS] : 4;
    size_t setup_size = (setup_sects + 1) * 512;
    if (setup_size >= size) {
        snprintf(err, errlen, "bzImage truncated: %zu bytes, setup alone is %zu", size, setup_size);
        return -1;
    }
    size_t kernel_size = size - setup_size;
    if (!loader_range_is_ram(m, KERNEL_ADDR, kernel_size + 16 * MiB)) {
        snprintf(err, errlen, "the kernel (%zu bytes) does not fit in guest RAM (try more -m)",
                 kernel_size);
        return -1;
    }

    uint8_t *bp = xzalloc(4096);
    size_t hdr_len = MIN((size_t)(0x202 + image[0x201]), (size_t)HDR_END) - HDR_SETUP_SECTS;
    memcpy(bp + HDR_SETUP_SECTS, image + HDR_SETUP_SECTS, hdr_len);
    st16(bp + HDR_VID_MODE, 0xffff);                     /* "normal" */
    bp[HDR_TYPE_OF_LOADER] = 0xff;                       /* undefined boot loader */
    bp[HDR_LOADFLAGS] = (uint8_t)((bp[HDR_LOADFLAGS] & ~0x20) | CAN_USE_HEAP);
    st16(bp + HDR_HEAP_END_PTR, 0xfe00);

    const char *cmdline = m->cfg->append ? m->cfg->append : "";
    uint32_t cmdline_max = CMDLINE_MAX - 1;
    if (version >= 0x0206 && ld32(image + HDR_CMDLINE_SIZE))
        cmdline_max = MIN(cmdline_max, ld32(image + HDR_CMDLINE_SIZE));
    if (strlen(cmdline) > cmdline_max) {
        snprintf(err, errlen, "-append: command line of %zu bytes exceeds the kernel's %u",
                 strlen(cmdline), cmdline_max);
        free(bp);
        return -1;
    }
    as_write_rom(m->mem, CMDLINE_ADDR, cmdline, strlen(cmdline) + 1);
    st32(bp + HDR_CMD_LINE_PTR, CMDLINE_ADDR);

    uint32_t initrd_max = ld32(image + HDR_INITRD_MAX);
    if (!initrd_max)
        initrd_max = 0x37ffffff;
    if (load_initrd(m, bp, initrd_max, err, errlen) < 0) {
        free(bp);
        return -1;
    }
    fill_e820(m, bp);
    if (linux_acpi_rsdp_addr)
        st64(bp + BP_ACPI_RSDP, linux_acpi_rsdp_addr);

    as_write_rom(m->mem, KERNEL_ADDR, image + setup_size, kernel_size);
    as_write_rom(m->mem, BOOT_PARAMS_ADDR, bp, 4096);
    free(bp);
    write_boot_gdt(m);
    set_entry_state(env, KERNEL_ADDR);
    return 1;
}
