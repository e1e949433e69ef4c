/* The multiboot information structure the loader hands over: memory sizes,
 * the memory map, the command line, modules with their command lines.
 * test-guest.sh provides module1 ("module-one\n") and module2 ("module-two\n").
 * test-args: -m 128 -append "mbtest=1 hello" -initrd "$T_TMP/module1 modarg x,$T_TMP/module2"
 */
#include "runtime.h"

extern char __image_end[];

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4], mmap_length, mmap_addr;
};
struct mb_module { uint32_t start, end, string, reserved; };
struct mb_mmap { uint32_t size; uint64_t addr, len; uint32_t type; } __attribute__((packed));

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void check_modules(const struct mb_info *mbi)
{
    TEST_EQ("mods flag", mbi->flags & (1u << 3), 1u << 3);
    TEST_EQ("mods_count", mbi->mods_count, 2);
    if (mbi->mods_count != 2)
        return;
    const struct mb_module *mod = (const struct mb_module *)mbi->mods_addr;
    static const char *const contents[2] = { "module-one\n", "module-two\n" };
    static const char *const cmdlines[2] = { "module1 modarg x", "module2" };
    for (int i = 0; i < 2; i++) {
        TEST_EQ(i ? "module 2 page-aligned" : "module 1 page-aligned", mod[i].start & 0xfff, 0);
        TEST_TRUE(i ? "module 2 above the kernel" : "module 1 above the kernel",
                  mod[i].start >= (uint32_t)__image_end);
        TEST_EQ(i ? "module 2 size" : "module 1 size", mod[i].end - mod[i].start, strlen(contents[i]));
        TEST_EQ(i ? "module 2 contents" : "module 1 contents",
                memcmp((const void *)mod[i].start, contents[i], strlen(contents[i])), 0);
        TEST_TRUE(i ? "module 2 command line" : "module 1 command line",
                  mod[i].string && ends_with((const char *)mod[i].string, cmdlines[i]));
    }
    TEST_TRUE("modules do not overlap", mod[1].start >= mod[0].end);
}

static void check_mmap(const struct mb_info *mbi)
{
    TEST_EQ("mmap flag", mbi->flags & (1u << 6), 1u << 6);
    uint64_t available = 0;
    bool covers_kernel = false, covers_zero = false;
    uint32_t p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
    int entries = 0;
    while (p < end && entries < 64) {
        const struct mb_mmap *e = (const struct mb_mmap *)p;
        if (e->type == 1) {
            available += e->len;
            if (e->addr <= 0x100000 && e->addr + e->len >= (uint32_t)__image_end)
                covers_kernel = true;
            if (e->addr == 0)
                covers_zero = true;
        }
        p += e->size + 4;
        entries++;
    }
    TEST_TRUE("mmap has entries", entries >= 2);
    TEST_TRUE("mmap: RAM at 1 MiB holds the kernel", covers_kernel);
    TEST_TRUE("mmap: base memory at 0 is available", covers_zero);
    /* 128 MiB of RAM, less the holes below 1 MiB. */
    TEST_TRUE("mmap: available RAM adds up", available >= 126 * 1024 * 1024ull &&
              available <= 128 * 1024 * 1024ull);
}

void test_main(void)
{
    TEST_EQ("EAX holds the multiboot magic", mb_magic, 0x2BADB002);
    const struct mb_info *mbi = (const struct mb_info *)mb_info;
    TEST_EQ("memory flag", mbi->flags & 1, 1);
    TEST_TRUE("mem_lower is about 640 KiB", mbi->mem_lower >= 600 && mbi->mem_lower <= 640);
    /* 128 MiB less the first; firmware may keep some at the top (ACPI). */
    TEST_TRUE("mem_upper is about 127 MiB", mbi->mem_upper >= 126 * 1024 && mbi->mem_upper <= 127 * 1024);
    TEST_EQ("cmdline flag", mbi->flags & 4, 4);
    TEST_TRUE("cmdline ends with -append", (mbi->flags & 4) &&
              ends_with((const char *)mbi->cmdline, " mbtest=1 hello"));
    check_modules(mbi);
    check_mmap(mbi);
    /* The entry state of section 3.2 (crt0 saved EFLAGS before changing it). */
    TEST_EQ("entered with paging off, protection on", read_cr0() & 0x80000001, 1);
    TEST_EQ("entered with interrupts off", mb_entry_eflags & IF_FLAG, 0);
    TEST_EQ("entered outside virtual-8086 mode", mb_entry_eflags & 0x20000, 0);
    /* A20 on: addresses differing only in bit 20 are different memory. */
    volatile uint32_t *lo = (volatile uint32_t *)0x200000, *hi = (volatile uint32_t *)0x300000;
    *lo = 0x11111111;
    *hi = 0x22222222;
    TEST_EQ("A20 gate enabled", *lo, 0x11111111);
}
