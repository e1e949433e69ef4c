/* SMBIOS: entry point checksums, table address and length, structure walk
 * (formatted area, string sets, end-of-table), strings resolved by index. */
#include "hw/smbios.h"
#include "system/util.h"
#include "tests/unit/harness.h"

#include <stdlib.h>

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* The n-th string (1-based) of the structure at p, or NULL. */
static const char *string_of(const uint8_t *p, int n)
{
    const char *s = (const char *)p + p[1];
    for (int i = 1; *s; i++) {
        if (i == n)
            return s;
        s += strlen(s) + 1;
    }
    return NULL;
}

TEST(entry_point_and_structures)
{
    SmbiosConfig cfg = { .ncpus = 2, .cpuid_1_eax = 0x306a9, .cpuid_1_edx = 0x178bfbff,
                         .name = "guest-1", .ram_size = 512 * MiB };
    size_t len;
    const uint32_t base = 0xf8000;
    uint8_t *t = smbios_build(&cfg, base, &len);
    REQUIRE(len > 0x20);
    CHECK(!memcmp(t, "_SM_", 4));
    CHECK_EQ(sum(t, t[5]), 0);
    CHECK(!memcmp(t + 0x10, "_DMI_", 5));
    CHECK_EQ(sum(t + 0x10, 0x0f), 0);
    uint32_t addr = ld32(t + 0x18);
    uint16_t tlen = ld16(t + 0x16), count = ld16(t + 0x1c);
    CHECK_EQ(addr, base + 0x20);
    CHECK_EQ(addr - base + tlen, len);
    /* Walk every structure to the end-of-table marker. */
    const uint8_t *p = t + (addr - base), *end = t + len;
    int seen = 0, cpus = 0;
    bool saw_end = false;
    size_t maxs = 0;
    while (p + 4 <= end) {
        const uint8_t *next = p + p[1];
        while (next + 1 < end && (next[0] || next[1]))
            next++;
        next += 2;
        maxs = MAX(maxs, (size_t)(next - p));
        CHECK_EQ(ld16(p + 2), seen);                 /* handles in order */
        if (p[0] == 1) {
            CHECK(!strcmp(string_of(p, p[4]), "Kestrel"));
            CHECK(!strcmp(string_of(p, p[5]), "guest-1"));
        }
        if (p[0] == 4) {
            cpus++;
            CHECK_EQ(ld32(p + 8), 0x306a9);
            CHECK(!strcmp(string_of(p, p[0x10]), "Kestrel Virtual CPU"));
        }
        if (p[0] == 0)
            CHECK(!strcmp(string_of(p, p[5]), KESTREL_VERSION));
        seen++;
        if (p[0] == 127) {
            saw_end = true;
            p = next;
            break;
        }
        p = next;
    }
    CHECK(saw_end);
    CHECK(p == end);
    CHECK_EQ(seen, count);
    CHECK_EQ(cpus, 2);
    CHECK_EQ(ld16(t + 8), maxs);
    free(t);
}
