/* Multiboot v1 images (Multiboot Specification 0.6.96): ELF32 kernels, or any
 * format with the "a.out kludge" address fields (header flag 16).
 *
 * Guest memory after loading:
 *   0x9000...       the multiboot information structure, the memory map, the
 *                   command lines, the module list and the boot loader name
 *   kernel          where its program headers (or address fields) say
 *   modules         page-aligned, one after the other above the kernel
 * A kernel asking for video information (header flag 2) is told about the
 * 80x25 EGA text screen; graphics modes are not set up.
 * The CPU enters the kernel in 32-bit protected mode with flat segments,
 * paging and interrupts off, EAX = 0x2BADB002 and EBX = the information
 * structure, as section 3.2 of the specification requires. */
#include "system/loader.h"

#include <stdio.h>
#include <stdlib.h>

#include "cpu/x86/cpu.h"

#define MB_HEADER_MAGIC     0x1BADB002
#define MB_BOOT_MAGIC       0x2BADB002
#define MB_SEARCH_LIMIT     8192

/* Header flags: bits 0-15 are requirements a loader must honour or refuse. */
#define MBH_PAGE_ALIGN      (1u << 0)
#define MBH_MEMORY_INFO     (1u << 1)
#define MBH_VIDEO_MODE      (1u << 2)
#define MBH_AOUT_KLUDGE     (1u << 16)
#define MBH_KNOWN_REQUIRED  (MBH_PAGE_ALIGN | MBH_MEMORY_INFO | MBH_VIDEO_MODE)

/* Information structure flags and offsets. */
#define MBI_MEMORY          (1u << 0)
#define MBI_CMDLINE         (1u << 2)
#define MBI_MODS            (1u << 3)
#define MBI_MMAP            (1u << 6)
#define MBI_LOADER_NAME     (1u << 9)
#define MBI_FRAMEBUFFER     (1u << 12)
enum {
    MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_BOOT_DEVICE = 12,
    MBI_CMDLINE_ADDR = 16, MBI_MODS_COUNT = 20, MBI_MODS_ADDR = 24,
    MBI_MMAP_LENGTH = 44, MBI_MMAP_ADDR = 48, MBI_LOADER_NAME_ADDR = 64,
    MBI_FB_ADDR = 88, MBI_FB_PITCH = 96, MBI_FB_WIDTH = 100, MBI_FB_HEIGHT = 104,
    MBI_FB_BPP = 108, MBI_FB_TYPE = 109,
    MBI_SIZE = 116,
};
#define MB_MODULE_SIZE      16
#define MB_MMAP_ENTRY_SIZE  24      /* including its 4-byte size field */

#define INFO_AREA_START     0x9000
#define INFO_AREA_END       0x9fc00
#define MAX_MODULES         64

typedef struct MultibootHeader {
    uint32_t offset;            /* of the header in the file */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} MultibootHeader;

/* The information area is assembled in a host buffer, then copied. */
typedef struct InfoArea {
    uint8_t buf[INFO_AREA_END - INFO_AREA_START];
    uint32_t used;
} InfoArea;

/* Reserve len bytes (8-aligned) in the information area; returns the guest
 * address, or 0 when it is full. */
static uint32_t info_alloc(InfoArea *ia, uint32_t len)
{
    uint32_t off = ALIGN_UP(ia->used, 8u);
    if (len > sizeof(ia->buf) || off > sizeof(ia->buf) - len)
        return 0;
    ia->used = off + len;
    return INFO_AREA_START + off;
}

static uint8_t *info_ptr(InfoArea *ia, uint32_t addr)
{
    return ia->buf + (addr - INFO_AREA_START);
}

static uint32_t info_add_string(InfoArea *ia, const char *s)
{
    uint32_t addr = info_alloc(ia, strlen(s) + 1);
    if (addr)
        memcpy(info_ptr(ia, addr), s, strlen(s) + 1);
    return addr;
}

static bool find_header(const uint8_t *image, size_t size, MultibootHeader *h)
{
    size_t limit = MIN(size, (size_t)MB_SEARCH_LIMIT);
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = ld32(image + off), flags = ld32(image + off + 4);
        if (magic != MB_HEADER_MAGIC || (uint32_t)(magic + flags + ld32(image + off + 8)) != 0)
            continue;
        memset(h, 0, sizeof(*h));
        h->offset = off;
        h->flags = flags;
        if (off + 32 <= size) {
            h->header_addr = ld32(image + off + 12);
            h->load_addr = ld32(image + off + 16);
            h->load_end_addr = ld32(image + off + 20);
            h->bss_end_addr = ld32(image + off + 24);
            h->entry_addr = ld32(image + off + 28);
        }
        return true;
    }
    return false;
}

/* Everything placed in guest memory must be RAM and stay clear of the
 * information area. */
static int check_placement(Machine *m, const char *what, uint64_t addr, uint64_t len,
                           char *err, size_t errlen)
{
    if (!loader_range_is_ram(m, addr, len)) {
        snprintf(err, errlen, "%s at 0x%llx-0x%llx is outside guest RAM", what,
                 (unsigned long long)addr, (unsigned long long)(addr + len - 1));
        return -1;
    }
    if (addr < INFO_AREA_END && addr + len > INFO_AREA_START) {
        snprintf(err, errlen, "%s at 0x%llx-0x%llx overlaps the multiboot information area "
                 "(0x%x-0x%x)", what, (unsigned long long)addr,
                 (unsigned long long)(addr + len - 1), INFO_AREA_START, INFO_AREA_END - 1);
        return -1;
    }
    return 0;
}

/* A piece of the image: file bytes [file_off, file_off + file_len) at guest
 * address addr, then zeroes up to mem_len. */
static int load_piece(Machine *m, const uint8_t *image, uint64_t file_off, uint64_t file_len,
                      uint64_t addr, uint64_t mem_len, char *err, size_t errlen)
{
    if (check_placement(m, "kernel segment", addr, mem_len, err, errlen) < 0)
        return -1;
    as_write_rom(m->mem, addr, image + file_off, file_len);
    static const uint8_t zeroes[4096];
    for (uint64_t done = file_len; done < mem_len; done += sizeof(zeroes))
        as_write_rom(m->mem, addr + done, zeroes, MIN(sizeof(zeroes), mem_len - done));
    return 0;
}

/* Loads with the header's address fields; sets *entry and *end. */
static int load_aout_kludge(Machine *m, const MultibootHeader *h, const uint8_t *image,
                            size_t size, uint32_t *entry, uint64_t *end,
                            char *err, size_t errlen)
{
    if (h->offset + 32 > size || h->header_addr < h->load_addr ||
        h->header_addr - h->load_addr > h->offset) {
        snprintf(err, errlen, "multiboot header address fields are inconsistent "
                 "(header_addr 0x%x, load_addr 0x%x)", h->header_addr, h->load_addr);
        return -1;
    }
    uint64_t file_off = h->offset - (h->header_addr - h->load_addr);
    uint64_t load_len = h->load_end_addr ? (uint64_t)h->load_end_addr - h->load_addr
                                         : size - file_off;
    if (h->load_end_addr && (h->load_end_addr < h->load_addr || file_off + load_len > size)) {
        snprintf(err, errlen, "multiboot load_end_addr 0x%x is %s", h->load_end_addr,
                 h->load_end_addr < h->load_addr ? "below load_addr" : "beyond the end of the file");
        return -1;
    }
    uint64_t mem_len = load_len;
    if (h->bss_end_addr) {
        if (h->bss_end_addr < h->load_addr + load_len) {
            snprintf(err, errlen, "multiboot bss_end_addr 0x%x is below the loaded image", h->bss_end_addr);
            return -1;
        }
        mem_len = (uint64_t)h->bss_end_addr - h->load_addr;
    }
    if (mem_len == 0) {
        snprintf(err, errlen, "multiboot image has nothing to load");
        return -1;
    }
    if (load_piece(m, image, file_off, load_len, h->load_addr, mem_len, err, errlen) < 0)
        return -1;
    *entry = h->entry_addr;
    *end = h->load_addr + mem_len;
    return 0;
}

/* ELF32 (little-endian, i386) program headers: PT_LOAD segments go to their
 * physical addresses; an entry point given as a virtual address inside a
 * segment is translated to the physical one. */
#define PT_LOAD 1
static int load_elf32(Machine *m, const uint8_t *image, size_t size,
                      uint32_t *entry, uint64_t *end, char *err, size_t errlen)
{
    if (size < 52 || memcmp(image, "\x7f" "ELF", 4) != 0) {
        snprintf(err, errlen, "multiboot image is not ELF and its header does not set "
                 "the address fields (flag 16)");
        return -1;
    }
    if (image[4] == 2) {
        snprintf(err, errlen, "multiboot image is a 64-bit ELF: multiboot v1 needs ELF32");
        return -1;
    }
    uint16_t machine = ld16(image + 18), phentsize = ld16(image + 42), phnum = ld16(image + 44);
    uint32_t phoff = ld32(image + 28);
    if (image[4] != 1 || image[5] != 1 || machine != 3) {
        snprintf(err, errlen, "multiboot ELF image is not 32-bit little-endian i386");
        return -1;
    }
    if (phnum == 0 || phentsize < 32 || phoff > size ||
        (uint64_t)phnum * phentsize > size - phoff) {
        snprintf(err, errlen, "multiboot ELF image has truncated or missing program headers");
        return -1;
    }
    uint32_t e_entry = ld32(image + 24);
    bool loaded = false;
    *entry = e_entry;
    *end = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = image + phoff + (uint64_t)i * phentsize;
        uint32_t type = ld32(ph), off = ld32(ph + 4), vaddr = ld32(ph + 8), paddr = ld32(ph + 12);
        uint32_t filesz = ld32(ph + 16), memsz = ld32(ph + 20);
        if (type != PT_LOAD || memsz == 0)
            continue;
        if (filesz > memsz || off > size || filesz > size - off) {
            snprintf(err, errlen, "multiboot ELF segment %u is truncated (offset 0x%x, "
                     "%u bytes in the file of %zu)", i, off, filesz, size);
            return -1;
        }
        if (load_piece(m, image, off, filesz, paddr, memsz, err, errlen) < 0)
            return -1;
        if (e_entry >= vaddr && e_entry - vaddr < memsz)
            *entry = e_entry - vaddr + paddr;
        *end = MAX(*end, (uint64_t)paddr + memsz);
        loaded = true;
    }
    if (!loaded) {
        snprintf(err, errlen, "multiboot ELF image has no loadable segment");
        return -1;
    }
    return 0;
}

/* Next item of a comma-separated list (",," stands for a comma); returns a
 * malloc'ed string and advances *p, or NULL at the end. */
static char *next_list_item(const char **p)
{
    const char *s = *p;
    if (!s)
        return NULL;
    char *out = xmalloc(strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s == ',') {
            if (s[1] != ',')
                break;
            s++;
        }
        *o++ = *s;
    }
    *o = 0;
    *p = *s ? s + 1 : NULL;
    return out;
}

/* Modules from "-initrd 'file args,file2'": each file is loaded page-aligned
 * from *next; its command line is the whole item, as GRUB and QEMU pass it. */
static int load_modules(Machine *m, InfoArea *ia, uint64_t *next, uint32_t *count,
                        uint32_t *list_addr, char *err, size_t errlen)
{
    const char *p = m->cfg->initrd;
    char *items[MAX_MODULES];
    uint32_t n = 0;
    for (char *item; (item = next_list_item(&p)); ) {
        if (n == MAX_MODULES) {
            free(item);
            snprintf(err, errlen, "too many multiboot modules (at most %d)", MAX_MODULES);
            goto fail;
        }
        items[n++] = item;
    }
    *count = n;
    *list_addr = info_alloc(ia, MB_MODULE_SIZE * (n ? n : 1));
    if (!*list_addr) {
        snprintf(err, errlen, "multiboot module list does not fit in the information area");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        char *file = xstrdup(items[i]);
        file[strcspn(file, " ")] = 0;
        if (!*file) {
            snprintf(err, errlen, "empty multiboot module name in -initrd");
            free(file);
            goto fail;
        }
        size_t size;
        uint8_t *data = loader_read_file(file, m->ram_size, &size, err, errlen);
        free(file);
        if (!data)
            goto fail;
        uint64_t start = ALIGN_UP(*next, 4096);
        int r = size ? check_placement(m, "multiboot module", start, size, err, errlen) : 0;
        if (r == 0) {
            as_write_rom(m->mem, start, data, size);
            *next = start + size;
        }
        free(data);
        uint32_t str = info_add_string(ia, items[i]);
        if (r < 0 || !str) {
            if (!str && r == 0)
                snprintf(err, errlen, "multiboot module command lines do not fit in the information area");
            goto fail;
        }
        uint8_t *mod = info_ptr(ia, *list_addr + i * MB_MODULE_SIZE);
        st32(mod, start);
        st32(mod + 4, start + size);
        st32(mod + 8, str);
        st32(mod + 12, 0);
    }
    for (uint32_t i = 0; i < n; i++)
        free(items[i]);
    return 0;
fail:
    for (uint32_t i = 0; i < n; i++)
        free(items[i]);
    return -1;
}

static uint32_t add_memory_map(Machine *m, InfoArea *ia, uint32_t *length)
{
    E820Entry map[E820_MAX];
    int n = pc_memory_map(m, map, E820_MAX);
    uint32_t addr = info_alloc(ia, n * MB_MMAP_ENTRY_SIZE);
    for (int i = 0; addr && i < n; i++) {
        uint8_t *e = info_ptr(ia, addr + i * MB_MMAP_ENTRY_SIZE);
        st32(e, MB_MMAP_ENTRY_SIZE - 4);
        st64(e + 4, map[i].addr);
        st64(e + 12, map[i].size);
        st32(e + 20, map[i].type);
    }
    *length = n * MB_MMAP_ENTRY_SIZE;
    return addr;
}

/* Section 3.2: 32-bit protected mode, flat segments (CS 0x10 and data 0x18,
 * the selectors GRUB uses), paging and interrupts off, A20 on; the kernel
 * loads its own GDT and IDT. */
/* Header flag 2 asks for video information: the screen is the 80x25 EGA
 * text mode (framebuffer type 2), which is what the machine starts in. */
static void set_text_framebuffer(uint8_t *mbi)
{
    st64(mbi + MBI_FB_ADDR, 0xb8000);
    st32(mbi + MBI_FB_PITCH, 80 * 2);
    st32(mbi + MBI_FB_WIDTH, 80);
    st32(mbi + MBI_FB_HEIGHT, 25);
    mbi[MBI_FB_BPP] = 16;
    mbi[MBI_FB_TYPE] = 2;
}

static void set_entry_state(CPUX86State *env, uint32_t entry, uint32_t info)
{
    loader_enter_flat_pm(env, 0x10, 0x18, entry);
    env->regs[R_EAX] = MB_BOOT_MAGIC;
    env->regs[R_EBX] = info;
}

int load_multiboot(Machine *m, CPUX86State *env, const uint8_t *image, size_t size,
                   char *err, size_t errlen)
{
    MultibootHeader h;
    if (!find_header(image, size, &h))
        return 0;
    uint32_t unsupported = h.flags & 0xffff & ~MBH_KNOWN_REQUIRED;
    if (unsupported) {
        snprintf(err, errlen, "multiboot image requires unsupported features (header flags 0x%x)",
                 unsupported);
        return -1;
    }
    uint32_t entry;
    uint64_t end;
    int r = (h.flags & MBH_AOUT_KLUDGE)
                ? load_aout_kludge(m, &h, image, size, &entry, &end, err, errlen)
                : load_elf32(m, image, size, &entry, &end, err, errlen);
    if (r < 0)
        return -1;
    if (!loader_range_is_ram(m, entry, 1)) {
        snprintf(err, errlen, "multiboot entry point 0x%x is outside guest RAM", entry);
        return -1;
    }

    InfoArea *ia = xzalloc(sizeof(*ia));
    uint32_t info = info_alloc(ia, MBI_SIZE);
    uint8_t *mbi = info_ptr(ia, info);
    uint32_t flags = MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME;
    if (h.flags & MBH_VIDEO_MODE) {
        flags |= MBI_FRAMEBUFFER;
        set_text_framebuffer(mbi);
    }
    uint64_t upper_kib = (pc_ram_below_4g_end(m) - 1 * MiB) / KiB;

    st32(mbi + MBI_MEM_LOWER, INFO_AREA_END / KiB);
    st32(mbi + MBI_MEM_UPPER, (uint32_t)upper_kib);
    char *cmdline = xasprintf("%s%s%s", m->cfg->kernel, m->cfg->append ? " " : "",
                              m->cfg->append ? m->cfg->append : "");
    uint32_t cmd_addr = info_add_string(ia, cmdline);
    free(cmdline);
    uint32_t mods_count = 0, mods_addr = 0, mmap_len = 0;
    uint32_t mmap_addr = add_memory_map(m, ia, &mmap_len);
    uint32_t name_addr = info_add_string(ia, "Kestrel");
    if (!cmd_addr || !mmap_addr || !name_addr) {
        snprintf(err, errlen, "multiboot command line is too long for the information area");
        free(ia);
        return -1;
    }
    uint64_t next = end;
    if (load_modules(m, ia, &next, &mods_count, &mods_addr, err, errlen) < 0) {
        free(ia);
        return -1;
    }
    st32(mbi + MBI_CMDLINE_ADDR, cmd_addr);
    st32(mbi + MBI_MODS_COUNT, mods_count);
    st32(mbi + MBI_MODS_ADDR, mods_addr);
    st32(mbi + MBI_MMAP_LENGTH, mmap_len);
    st32(mbi + MBI_MMAP_ADDR, mmap_addr);
    st32(mbi + MBI_LOADER_NAME_ADDR, name_addr);
    st32(mbi + MBI_FLAGS, flags);
    as_write_rom(m->mem, INFO_AREA_START, ia->buf, ia->used);
    free(ia);

    set_entry_state(env, entry, info);
    return 1;
}
