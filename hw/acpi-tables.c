/* ACPI table builder. Every table is laid out by its offsets in the ACPI
 * specification and checksummed so its bytes sum to zero. */
#include "hw/acpi-tables.h"

#include <stdlib.h>
#include "hw/acpi-aml.h"
#include "hw/acpi-pm.h"

#define OEM_ID       "KESTRL"
#define OEM_TABLE_ID "KESTREL "
#define CREATOR_ID   "KSTL"

typedef struct Blob {
    uint8_t *buf;
    size_t len, cap;
    uint32_t base;
} Blob;

static uint32_t blob_alloc(Blob *b, size_t n, size_t align)
{
    size_t off = ALIGN_UP(b->len, align);
    if (off + n > b->cap) {
        b->cap = (off + n) * 2;
        b->buf = xrealloc(b->buf, b->cap);
    }
    memset(b->buf + b->len, 0, off + n - b->len);
    b->len = off + n;
    return (uint32_t)off;
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

/* The 36-byte header every table but the RSDP and FACS starts with. */
static uint32_t table_begin(Blob *b, const char *sig, uint8_t revision, size_t len)
{
    uint32_t off = blob_alloc(b, len, 16);
    uint8_t *t = b->buf + off;
    memcpy(t, sig, 4);
    st32(t + 4, (uint32_t)len);
    t[8] = revision;
    memcpy(t + 10, OEM_ID, 6);
    memcpy(t + 16, OEM_TABLE_ID, 8);
    st32(t + 24, 1);                         /* OEM revision */
    memcpy(t + 28, CREATOR_ID, 4);
    st32(t + 32, 1);                         /* creator revision */
    return off;
}

static void table_end(Blob *b, uint32_t off)
{
    uint8_t *t = b->buf + off;
    t[9] = 0;
    t[9] = checksum(t, ld32(t + 4));
}

static uint32_t build_facs(Blob *b)
{
    uint32_t off = blob_alloc(b, 64, 64);
    memcpy(b->buf + off, "FACS", 4);
    st32(b->buf + off + 4, 64);
    return off;
}

/* The PCI root bridge: what it decodes (_CRS) and where each slot's INTx
 * pins go (_PRT): PIRQ (slot + pin) & 3, which reaches I/O APIC GSI 16-19. */
static void aml_pci_root(Aml *a, const AcpiConfig *cfg)
{
    aml_scope_open(a, "\\_SB_");
    aml_device_open(a, "PCI0");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0A03");
    aml_name(a, "_ADR");
    aml_integer(a, 0);
    aml_name(a, "_UID");
    aml_integer(a, 0);
    aml_name(a, "_CRS");
    aml_buffer_open(a);
    aml_res_word_bus(a, 0, 0xff);
    aml_res_io(a, 0xcf8, 0xcf8, 1, 8);
    aml_res_word_io(a, 0x0000, 0x0cf7);
    aml_res_word_io(a, 0x0d00, 0xffff);
    aml_res_dword_mem(a, 0xa0000, 0xbffff, false);
    aml_res_dword_mem(a, cfg->pci_mem_start, 0xfebfffff, false);
    aml_res_end(a);
    aml_close(a);
    aml_name(a, "_PRT");
    aml_package_open(a, 31 * 4);
    for (int slot = 1; slot < 32; slot++) {
        for (int pin = 0; pin < 4; pin++) {
            aml_package_open(a, 4);
            aml_integer(a, (uint64_t)slot << 16 | 0xffff);
            aml_integer(a, (uint64_t)pin);
            aml_integer(a, 0);                        /* no link device: a GSI */
            aml_integer(a, 16 + (uint64_t)((slot + pin) & 3));
            aml_close(a);
        }
    }
    aml_close(a);
    aml_close(a);     /* Device */
    aml_close(a);     /* Scope */
}

/* The DSDT: the PCI root bridge (APIC mode) and \_S5 for power-off. */
static uint32_t build_dsdt(Blob *b, const AcpiConfig *cfg)
{
    Aml a;
    aml_init(&a);
    if (cfg->has_apic)
        aml_pci_root(&a, cfg);
    aml_name(&a, "_S5_");
    aml_package_open(&a, 4);
    aml_integer(&a, ACPI_S5_SLP_TYP);
    aml_integer(&a, ACPI_S5_SLP_TYP);
    aml_integer(&a, 0);
    aml_integer(&a, 0);
    aml_close(&a);
    uint32_t off = table_begin(b, "DSDT", 1, 36 + a.len);
    memcpy(b->buf + off + 36, a.buf, a.len);
    aml_free(&a);
    table_end(b, off);
    return off;
}

static uint32_t build_fadt(Blob *b, const AcpiConfig *cfg, uint32_t facs, uint32_t dsdt)
{
    uint32_t off = table_begin(b, "FACP", 1, 116);
    uint8_t *t = b->buf + off;
    st32(t + 36, b->base + facs);            /* FIRMWARE_CTRL */
    st32(t + 40, b->base + dsdt);            /* DSDT */
    st16(t + 46, cfg->sci_irq);              /* SCI_INT */
    st32(t + 48, 0);                         /* SMI_CMD: ACPI is always on */
    st32(t + 56, cfg->pm_base);              /* PM1a_EVT_BLK */
    st32(t + 64, cfg->pm_base + 4);          /* PM1a_CNT_BLK */
    st32(t + 76, cfg->pm_base + 8);          /* PM_TMR_BLK */
    t[88] = 4;                               /* PM1_EVT_LEN */
    t[89] = 2;                               /* PM1_CNT_LEN */
    t[91] = 4;                               /* PM_TMR_LEN */
    st16(t + 96, 0xfff);                     /* P_LVL2_LAT: C2 unsupported */
    st16(t + 98, 0xfff);                     /* P_LVL3_LAT: C3 unsupported */
    t[108] = 0x32;                           /* CENTURY: CMOS index */
    /* WBINVD, PROC_C1, SLP_BUTTON (no sleep button), RTC_S4 */
    st32(t + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 7));
    table_end(b, off);
    return off;
}

static uint32_t build_madt(Blob *b, const AcpiConfig *cfg)
{
    size_t len = 44 + 8 * (size_t)cfg->ncpus + 12 + 2 * 10;
    uint32_t off = table_begin(b, "APIC", 1, len);
    uint8_t *t = b->buf + off;
    st32(t + 36, cfg->lapic_addr);
    st32(t + 40, 1);                         /* PCAT_COMPAT: there are 8259s too */
    uint8_t *e = t + 44;
    for (int i = 0; i < cfg->ncpus; i++, e += 8) {
        e[0] = 0;                            /* processor local APIC */
        e[1] = 8;
        e[2] = (uint8_t)i;                   /* ACPI processor UID */
        e[3] = (uint8_t)topology_apic_id(&cfg->topology, (unsigned)i);   /* APIC ID */
        st32(e + 4, 1);                      /* enabled */
    }
    e[0] = 1;                                /* I/O APIC */
    e[1] = 12;
    /* its ID follows the CPUs' */
    e[2] = (uint8_t)(topology_apic_id(&cfg->topology, (unsigned)MAX(cfg->ncpus, 1) - 1) + 1);
    st32(e + 4, cfg->ioapic_addr);
    st32(e + 8, 0);                          /* GSI base */
    e += 12;
    /* Interrupt source overrides: the PIT's IRQ0 is GSI 2; the SCI is
     * level-triggered, active high. */
    static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } iso[2] = {
        { 0, 2, 0x0000 }, { 9, 9, 0x000d },
    };
    for (int i = 0; i < 2; i++, e += 10) {
        e[0] = 2;
        e[1] = 10;
        e[2] = 0;                            /* ISA bus */
        e[3] = iso[i].irq;
        st32(e + 4, iso[i].gsi);
        st16(e + 8, iso[i].flags);
    }
    table_end(b, off);
    return off;
}

uint8_t *acpi_build_tables(const AcpiConfig *cfg, uint32_t base, size_t *len)
{
    Blob b = { .base = base };
    uint32_t rsdp = blob_alloc(&b, 20, 16);   /* at base: the RSDP scan finds it */
    uint32_t facs = build_facs(&b);
    uint32_t dsdt = build_dsdt(&b, cfg);
    uint32_t fadt = build_fadt(&b, cfg, facs, dsdt);
    uint32_t madt = cfg->has_apic ? build_madt(&b, cfg) : 0;
    int nent = cfg->has_apic ? 2 : 1;
    uint32_t rsdt = table_begin(&b, "RSDT", 1, 36 + 4 * (size_t)nent);
    st32(b.buf + rsdt + 36, base + fadt);
    if (cfg->has_apic)
        st32(b.buf + rsdt + 40, base + madt);
    table_end(&b, rsdt);

    uint8_t *r = b.buf + rsdp;                /* ACPI 1.0 RSDP (revision 0) */
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, OEM_ID, 6);
    r[15] = 0;
    st32(r + 16, base + rsdt);
    r[8] = checksum(r, 20);
    *len = b.len;
    return b.buf;
}
