/* SMBIOS structures (DSP0134 chapter 7): each a formatted area whose string
 * fields are indexes into the NUL-terminated strings that follow it. */
#include "hw/smbios.h"

#include <stdlib.h>
#include "system/util.h"

#define EP_LEN 0x1f

typedef struct Table {
    uint8_t *buf;
    size_t len, cap;
    size_t max_struct;
    uint16_t count;
    size_t start;            /* of the structure being built */
    uint8_t nstrings;
} Table;

static void put(Table *t, const void *p, size_t n)
{
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2;
        t->buf = xrealloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
}

/* Start a structure: type, formatted length, handle = its number. */
static uint8_t *begin(Table *t, uint8_t type, uint8_t length)
{
    t->start = t->len;
    t->nstrings = 0;
    uint8_t hdr[256] = { type, length };
    st16(hdr + 2, t->count);
    put(t, hdr, length);
    return t->buf + t->start;
}

/* Append a string; returns its index for the formatted area. */
static uint8_t str(Table *t, const char *s)
{
    put(t, s, strlen(s) + 1);
    return ++t->nstrings;
}

static void end(Table *t)
{
    if (!t->nstrings)
        put(t, "", 1);       /* an empty string set is two NULs */
    put(t, "", 1);
    t->max_struct = MAX(t->max_struct, t->len - t->start);
    t->count++;
}

/* The formatted area may move as strings grow the buffer: set fields by
 * offset, evaluating the value (which may add a string) first. */
#define FIELD8(t, off, v)  do { uint8_t v_ = (uint8_t)(v); (t)->buf[(t)->start + (off)] = v_; } while (0)
#define FIELD16(t, off, v) do { uint16_t v_ = (uint16_t)(v); st16((t)->buf + (t)->start + (off), v_); } while (0)
#define FIELD32(t, off, v) do { uint32_t v_ = (uint32_t)(v); st32((t)->buf + (t)->start + (off), v_); } while (0)
#define FIELD64(t, off, v) do { uint64_t v_ = (uint64_t)(v); st64((t)->buf + (t)->start + (off), v_); } while (0)

static void type0_bios(Table *t)
{
    begin(t, 0, 0x18);
    FIELD8(t, 0x04, str(t, "Kestrel"));
    FIELD8(t, 0x05, str(t, KESTREL_VERSION));
    FIELD16(t, 0x06, 0xe800);                     /* BIOS starting segment */
    FIELD8(t, 0x08, str(t, "11/22/2026"));
    FIELD64(t, 0x0a, 1u << 3);                    /* characteristics not supported */
    FIELD8(t, 0x13, 1u << 4);                     /* a virtual machine */
    FIELD8(t, 0x14, 0);
    FIELD8(t, 0x15, 1);
    FIELD8(t, 0x16, 0xff);                        /* no embedded controller */
    FIELD8(t, 0x17, 0xff);
    end(t);
}

static void type1_system(Table *t, const SmbiosConfig *cfg)
{
    begin(t, 1, 0x1b);
    FIELD8(t, 0x04, str(t, "Kestrel"));
    FIELD8(t, 0x05, str(t, cfg->name ? cfg->name : "Standard PC (i440FX + PIIX)"));
    FIELD8(t, 0x06, str(t, KESTREL_VERSION));
    /* UUID left zero: "not present but settable" would be all ones */
    FIELD8(t, 0x18, 6);                           /* woken by the power switch */
    FIELD8(t, 0x1a, str(t, "Virtual Machine"));
    end(t);
}

static void type3_chassis(Table *t)
{
    begin(t, 3, 0x0d);
    FIELD8(t, 0x04, str(t, "Kestrel"));
    FIELD8(t, 0x05, 1);                           /* other */
    FIELD8(t, 0x09, 3);                           /* boot-up state: safe */
    FIELD8(t, 0x0a, 3);                           /* power supply: safe */
    FIELD8(t, 0x0b, 3);                           /* thermal: safe */
    FIELD8(t, 0x0c, 2);                           /* security: none */
    end(t);
}

static void type4_processor(Table *t, const SmbiosConfig *cfg, int i)
{
    char socket[16];
    snprintf(socket, sizeof(socket), "CPU %d", i);
    begin(t, 4, 0x1a);
    FIELD8(t, 0x04, str(t, socket));
    FIELD8(t, 0x05, 3);                           /* central processor */
    FIELD8(t, 0x06, 1);                           /* family: other */
    FIELD8(t, 0x07, str(t, "Kestrel"));
    FIELD32(t, 0x08, cfg->cpuid_1_eax);
    FIELD32(t, 0x0c, cfg->cpuid_1_edx);
    FIELD8(t, 0x10, str(t, "Kestrel Virtual CPU"));
    FIELD16(t, 0x14, 2000);                       /* MHz, as the TSC runs */
    FIELD16(t, 0x16, 2000);
    FIELD8(t, 0x18, 0x41);                        /* socket populated, CPU enabled */
    FIELD8(t, 0x19, 1);                           /* upgrade: other */
    end(t);
}

static void type16_17_19_memory(Table *t, const SmbiosConfig *cfg)
{
    uint16_t array = t->count;
    begin(t, 16, 0x0f);                           /* physical memory array */
    FIELD8(t, 0x04, 3);                           /* system board */
    FIELD8(t, 0x05, 3);                           /* system memory */
    FIELD8(t, 0x06, 3);                           /* no error correction */
    FIELD32(t, 0x07, MIN(cfg->ram_size / KiB, 0x7fffffffULL));
    FIELD16(t, 0x0b, 0xfffe);                     /* no error information */
    FIELD16(t, 0x0d, 1);                          /* one device */
    end(t);
    begin(t, 17, 0x15);                           /* memory device */
    FIELD16(t, 0x04, array);
    FIELD16(t, 0x06, 0xfffe);
    FIELD16(t, 0x08, 0xffff);                     /* widths unknown */
    FIELD16(t, 0x0a, 0xffff);
    FIELD16(t, 0x0c, cfg->ram_size / MiB < 0x7fff ? cfg->ram_size / MiB : 0x7fff);
    FIELD8(t, 0x0e, 9);                           /* form factor: DIMM */
    FIELD8(t, 0x10, str(t, "DIMM 0"));
    FIELD8(t, 0x12, 7);                           /* type: RAM */
    FIELD16(t, 0x13, 2);                          /* type detail: unknown */
    end(t);
    begin(t, 19, 0x0f);                           /* memory array mapped address */
    FIELD32(t, 0x04, 0);
    FIELD32(t, 0x08, MIN(cfg->ram_size / KiB, 0xffffffffULL) - 1);
    FIELD16(t, 0x0c, array);
    FIELD8(t, 0x0e, 1);                           /* partition width */
    end(t);
}

static void type32_boot(Table *t)
{
    begin(t, 32, 0x0b);                           /* boot status 0: no errors */
    end(t);
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    while (n--)
        sum = (uint8_t)(sum + *p++);
    return (uint8_t)-sum;
}

uint8_t *smbios_build(const SmbiosConfig *cfg, uint32_t base, size_t *len)
{
    Table t = { 0 };
    uint8_t ep[0x20] = { 0 };
    put(&t, ep, sizeof(ep));                      /* entry point, filled below */
    size_t table_start = t.len;
    type0_bios(&t);
    type1_system(&t, cfg);
    type3_chassis(&t);
    for (int i = 0; i < cfg->ncpus; i++)
        type4_processor(&t, cfg, i);
    type16_17_19_memory(&t, cfg);
    type32_boot(&t);
    begin(&t, 127, 4);
    end(&t);

    uint8_t *e = t.buf;
    memcpy(e, "_SM_", 4);
    e[5] = EP_LEN;
    e[6] = 2;                                     /* version 2.8 */
    e[7] = 8;
    st16(e + 8, (uint16_t)t.max_struct);
    memcpy(e + 0x10, "_DMI_", 5);
    st16(e + 0x16, (uint16_t)(t.len - table_start));
    st32(e + 0x18, base + (uint32_t)table_start);
    st16(e + 0x1c, t.count);
    e[0x1e] = 0x28;
    e[0x15] = checksum(e + 0x10, 0x0f);           /* intermediate checksum */
    e[4] = checksum(e, EP_LEN);
    *len = t.len;
    return t.buf;
}
