/* ACPI: table checksums and links, the \_S5 object, PM timer rate, SCI,
 * power-off through SLP_EN, the power button. */
#include "hw/acpi-pm.h"
#include "hw/acpi-tables.h"
#include "hw/i440fx.h"
#include "tests/unit/harness.h"

#include <stdlib.h>

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

TEST(tables_link_and_checksum)
{
    AcpiConfig cfg = { .ncpus = 2, .has_apic = true, .lapic_addr = 0xfee00000,
                       .ioapic_addr = 0xfec00000, .pm_base = 0x600, .sci_irq = 9 };
    size_t len;
    const uint32_t base = 0xf0000;
    uint8_t *t = acpi_build_tables(&cfg, base, &len);
    REQUIRE(len > 20 && len < 4096);
    CHECK(!memcmp(t, "RSD PTR ", 8));
    CHECK_EQ(sum(t, 20), 0);
    uint32_t rsdt = ld32(t + 16) - base;
    REQUIRE(rsdt < len);
    CHECK(!memcmp(t + rsdt, "RSDT", 4));
    CHECK_EQ(sum(t + rsdt, ld32(t + rsdt + 4)), 0);
    CHECK_EQ(ld32(t + rsdt + 4), 44);
    uint32_t fadt = ld32(t + rsdt + 36) - base, madt = ld32(t + rsdt + 40) - base;
    REQUIRE(fadt < len && madt < len);
    CHECK(!memcmp(t + fadt, "FACP", 4));
    CHECK_EQ(sum(t + fadt, ld32(t + fadt + 4)), 0);
    CHECK_EQ(ld32(t + fadt + 56), 0x600);
    CHECK_EQ(ld32(t + fadt + 64), 0x604);
    CHECK_EQ(ld32(t + fadt + 76), 0x608);
    CHECK_EQ(ld16(t + fadt + 46), 9);
    uint32_t dsdt = ld32(t + fadt + 40) - base, facs = ld32(t + fadt + 36) - base;
    REQUIRE(dsdt < len && facs < len);
    CHECK_EQ(facs % 64, 0);
    CHECK(!memcmp(t + facs, "FACS", 4));
    CHECK(!memcmp(t + dsdt, "DSDT", 4));
    CHECK_EQ(sum(t + dsdt, ld32(t + dsdt + 4)), 0);
    static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12 };
    CHECK(memmem(t + dsdt + 36, ld32(t + dsdt + 4) - 36, s5, sizeof(s5)) != NULL);
    CHECK(memmem(t + dsdt + 36, ld32(t + dsdt + 4) - 36, "_PRT", 4) != NULL);
    CHECK(!memcmp(t + madt, "APIC", 4));
    CHECK_EQ(sum(t + madt, ld32(t + madt + 4)), 0);
    CHECK_EQ(t[madt + 44], 0);            /* first entry: a local APIC */
    CHECK_EQ(t[madt + 44 + 16], 1);       /* after two CPUs: the I/O APIC */
    free(t);
}

/* -smp 6,sockets=2,cores=3: the MADT lists one enabled local APIC per CPU
 * with the topology's (sparse) APIC IDs, and the I/O APIC's ID after them. */
TEST(madt_follows_topology)
{
    AcpiConfig cfg = { .ncpus = 6, .topology = { 2, 3, 1 }, .has_apic = true,
                       .lapic_addr = 0xfee00000, .ioapic_addr = 0xfec00000,
                       .pm_base = 0x600, .sci_irq = 9 };
    size_t len;
    const uint32_t base = 0xf0000;
    uint8_t *t = acpi_build_tables(&cfg, base, &len);
    uint32_t rsdt = ld32(t + 16) - base, madt = ld32(t + rsdt + 40) - base;
    REQUIRE(madt < len && !memcmp(t + madt, "APIC", 4));
    CHECK_EQ(sum(t + madt, ld32(t + madt + 4)), 0);
    static const uint8_t ids[6] = { 0, 1, 2, 4, 5, 6 };
    const uint8_t *e = t + madt + 44;
    for (int i = 0; i < 6; i++, e += 8) {
        CHECK_EQ(e[0], 0);
        CHECK_EQ(e[2], i);                   /* processor UID */
        CHECK_EQ(e[3], ids[i]);              /* APIC ID */
        CHECK_EQ(ld32(e + 4) & 1, 1);        /* enabled */
    }
    CHECK_EQ(e[0], 1);
    CHECK_EQ(e[2], 7);                       /* I/O APIC ID */
    free(t);
}

/* Write the tables out for an AML disassembler (tests/acpi/test-acpi-iasl.sh):
 * KESTREL_ACPI_DUMP=dir makes this test leave dir/dsdt.dat and friends. */
static void dump_table(const char *dir, const char *name, const uint8_t *t)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(t, 1, ld32(t + 4), f);
        fclose(f);
    }
}

TEST(dump_for_disassembler)
{
    const char *dir = getenv("KESTREL_ACPI_DUMP");
    if (!dir)
        SKIP("set KESTREL_ACPI_DUMP=dir to write the tables (the iasl test does)");
    AcpiConfig cfg = { .ncpus = 1, .has_apic = true, .lapic_addr = 0xfee00000,
                       .ioapic_addr = 0xfec00000, .pm_base = 0x600, .sci_irq = 9,
                       .pci_mem_start = 0x80000000 };
    size_t len;
    const uint32_t base = 0xf0000;
    uint8_t *t = acpi_build_tables(&cfg, base, &len);
    uint32_t rsdt = ld32(t + 16) - base;
    uint32_t fadt = ld32(t + rsdt + 36) - base, madt = ld32(t + rsdt + 40) - base;
    dump_table(dir, "dsdt", t + ld32(t + fadt + 40) - base);
    dump_table(dir, "facp", t + fadt);
    dump_table(dir, "apic", t + madt);
    free(t);
    CHECK(1);
}

TEST(tables_without_apic)
{
    AcpiConfig cfg = { .ncpus = 1, .pm_base = 0x600, .sci_irq = 9 };
    size_t len;
    uint8_t *t = acpi_build_tables(&cfg, 0xe0000, &len);
    uint32_t rsdt = ld32(t + 16) - 0xe0000;
    CHECK_EQ(ld32(t + rsdt + 4), 40);     /* only the FADT */
    free(t);
}

static int sci;
static void sci_handler(void *o, int n, int level) { sci = level; }

typedef struct Env {
    AddressSpace *mem, *io;
    I440fxState *pci;
    AcpiPmState *pm;
    IrqLine sci_line;
} Env;

static void setup(Env *e)
{
    e->mem = address_space_new("memory", 1ULL << 40);
    e->io = address_space_new("io", 0x10000);
    e->pci = i440fx_create(e->mem, e->io, NULL, NULL);
    irq_init(&e->sci_line, sci_handler, NULL, 9);
    e->pm = acpi_pm_create(e->pci->bus, &e->sci_line);
    sci = 0;
}

TEST(pm_timer_runs_at_3_58_mhz)
{
    Env e;
    setup(&e);
    clock_virtual_pause();
    uint32_t t0 = (uint32_t)as_read(e.io, 0x608, 4);
    clock_virtual_warp(NS_PER_SEC / 100);     /* 10 ms */
    uint32_t t1 = (uint32_t)as_read(e.io, 0x608, 4);
    uint32_t d = (t1 - t0) & 0xffffff;
    CHECK(d >= 35795 && d <= 35796);
    clock_virtual_resume();
}

TEST(pm_timer_overflow_raises_sci)
{
    Env e;
    setup(&e);
    as_write(e.io, 0x602, 1, 2);               /* TMR_EN */
    clock_virtual_warp(5 * NS_PER_SEC);        /* > 2^23 ticks */
    timers_run_expired();
    CHECK_EQ(as_read(e.io, 0x600, 2) & 1, 1);
    CHECK_EQ(sci, 1);
    as_write(e.io, 0x600, 1, 2);               /* write 1 to clear */
    CHECK_EQ(sci, 0);
    as_write(e.io, 0x602, 0, 2);
}

TEST(power_button_and_s5)
{
    Env e;
    setup(&e);
    CHECK_EQ(as_read(e.io, 0x604, 2) & 1, 1);  /* SCI_EN: ACPI mode */
    acpi_pm_power_button(e.pm);
    CHECK_EQ(sci, 0);                          /* not enabled */
    as_write(e.io, 0x602, 1 << 8, 2);
    CHECK_EQ(sci, 1);
    as_write(e.io, 0x600, 1 << 8, 2);
    CHECK_EQ(sci, 0);
    int status = -1;
    CHECK(!machine_handle_requests(&status));
    as_write(e.io, 0x604, (ACPI_S5_SLP_TYP << 10) | (1 << 13), 2);
    CHECK(machine_handle_requests(&status));
    CHECK_EQ(status, 0);
}

TEST(pm_block_moves_with_pmba)
{
    Env e;
    setup(&e);
    PCIDevice *d = e.pm->pci;
    pci_config_write(d, 0x40, 0xb000, 4);
    CHECK_EQ(pci_config_read(d, 0x40, 4), 0xb001);
    CHECK_EQ(as_read(e.io, 0x604, 2), 0xffff);  /* old place: unassigned */
    CHECK_EQ(as_read(e.io, 0xb004, 2) & 1, 1);
    pci_config_write(d, 0x80, 0, 1);             /* decoding off */
    CHECK_EQ(as_read(e.io, 0xb004, 2), 0xffff);
}
