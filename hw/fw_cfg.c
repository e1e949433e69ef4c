/* fw_cfg: items, the file directory, byte-wise and DMA access. */
#include "hw/fw_cfg.h"

#include <stdlib.h>
#include "system/log.h"
#include "system/machine.h"

#define DMA_CTL_ERROR  0x01
#define DMA_CTL_READ   0x02
#define DMA_CTL_SKIP   0x04
#define DMA_CTL_SELECT 0x08
#define DMA_CTL_WRITE  0x10
#define DMA_SIGNATURE  0x51454d5520434647ULL   /* "QEMU CFG", read big-endian */

static FwCfgItem *item(FwCfgState *s, uint16_t key)
{
    if (key >= 0x8000)
        return (key - 0x8000u) < ARRAY_SIZE(s->arch) ? &s->arch[key - 0x8000] : NULL;
    return key < ARRAY_SIZE(s->items) ? &s->items[key] : NULL;
}

void fw_cfg_add_bytes(FwCfgState *s, uint16_t key, const void *data, uint32_t len)
{
    FwCfgItem *it = item(s, key);
    if (!it)
        return;
    free(it->data);
    it->data = xmalloc(len);
    memcpy(it->data, data, len);
    it->len = len;
}

void fw_cfg_add_i16(FwCfgState *s, uint16_t key, uint16_t v)
{
    uint8_t b[2];
    st16(b, v);
    fw_cfg_add_bytes(s, key, b, 2);
}

void fw_cfg_add_i32(FwCfgState *s, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    st32(b, v);
    fw_cfg_add_bytes(s, key, b, 4);
}

void fw_cfg_add_i64(FwCfgState *s, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    st64(b, v);
    fw_cfg_add_bytes(s, key, b, 8);
}

/* The directory: a big-endian count, then {size, select, reserved, name[56]}. */
static void rebuild_directory(FwCfgState *s)
{
    uint32_t len = 4 + 64 * (uint32_t)s->nr_files;
    uint8_t *dir = xzalloc(len);
    stbe32(dir, (uint32_t)s->nr_files);
    for (int i = 0; i < s->nr_files; i++) {
        uint8_t *e = dir + 4 + 64 * i;
        stbe32(e, s->items[FW_CFG_FILE_FIRST + i].len);
        stbe16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, s->file_names[i], FW_CFG_NAME_LEN);
    }
    fw_cfg_add_bytes(s, FW_CFG_FILE_DIR, dir, len);
    free(dir);
}

int fw_cfg_add_file(FwCfgState *s, const char *name, const void *data, uint32_t len)
{
    int i;
    for (i = 0; i < s->nr_files; i++)
        if (!strncmp(s->file_names[i], name, FW_CFG_NAME_LEN))
            break;
    if (i == s->nr_files) {
        if (s->nr_files == FW_CFG_MAX_FILES || FW_CFG_FILE_FIRST + i >= (int)ARRAY_SIZE(s->items))
            return -1;
        snprintf(s->file_names[i], FW_CFG_NAME_LEN, "%s", name);
        s->nr_files++;
    }
    fw_cfg_add_bytes(s, (uint16_t)(FW_CFG_FILE_FIRST + i), data, len);
    rebuild_directory(s);
    return FW_CFG_FILE_FIRST + i;
}

static void select_key(FwCfgState *s, uint16_t key)
{
    s->selector = key;
    s->offset = 0;
}

static uint8_t read_byte(FwCfgState *s)
{
    FwCfgItem *it = item(s, s->selector);
    if (!it || s->offset >= it->len)
        return 0;
    return it->data[s->offset++];
}

/* Run the DMA request described at guest address addr. */
static void run_dma(FwCfgState *s, uint64_t addr)
{
    uint8_t req[16];
    if (dma_read(s->dma_as, addr, req, sizeof(req)) < 0)
        return;                                  /* nowhere to even report the error */
    uint32_t ctl = ldbe32(req), len = ldbe32(req + 4);
    uint64_t buf = ldbe64(req + 8);
    bool error = false;
    if (ctl & DMA_CTL_SELECT)
        select_key(s, (uint16_t)(ctl >> 16));
    FwCfgItem *it = item(s, s->selector);
    uint32_t avail = it && s->offset < it->len ? it->len - s->offset : 0;
    if (ctl & DMA_CTL_WRITE) {
        error = true;                            /* items are read-only */
    } else if (ctl & (DMA_CTL_READ | DMA_CTL_SKIP)) {
        uint32_t n = MIN(len, avail);
        if ((ctl & DMA_CTL_READ) && n && dma_write(s->dma_as, buf, it->data + s->offset, n) < 0)
            error = true;
        /* Past the end of the item a read gives zeroes. */
        if (!error && (ctl & DMA_CTL_READ) && len > n) {
            uint8_t zero[256] = { 0 };
            for (uint32_t done = n; done < len && !error; done += sizeof(zero))
                error = dma_write(s->dma_as, buf + done, zero, MIN(sizeof(zero), len - done)) < 0;
        }
        s->offset += n;
    }
    if (error)
        LOG(LOG_GUEST_ERRORS, "fw_cfg: DMA request at 0x%" PRIx64 " failed\n", addr);
    uint8_t done[4];
    stbe32(done, error ? DMA_CTL_ERROR : 0);
    dma_write(s->dma_as, addr, done, 4);
}

/* 0x510-0x511 is one region: a 16-bit write selects, a byte read at either
 * port reads data (SeaBIOS reads 0x511; the selector itself is write-only). */
static uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)read_byte(opaque) << (8 * i);
    return v;
}

static void port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    if (size == 2 && off == 0)
        select_key(opaque, (uint16_t)val);
    else
        LOG_ONCE(LOG_GUEST_ERRORS, off, "fw_cfg: %u-byte write at offset %u ignored\n",
                 size, (unsigned)off);
}

static uint64_t dma_port_read(void *opaque, uint64_t off, unsigned size)
{
    /* The signature reads big-endian: bytes "QEMU CFG" in order. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= ((DMA_SIGNATURE >> (8 * (7 - (off + i)))) & 0xff) << (8 * i);
    return v;
}

static void dma_port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FwCfgState *s = opaque;
    if (size == 4 && off == 0) {
        s->dma_addr_high = __builtin_bswap32((uint32_t)val);
    } else if (size == 4 && off == 4) {
        run_dma(s, (uint64_t)s->dma_addr_high << 32 | __builtin_bswap32((uint32_t)val));
        s->dma_addr_high = 0;
    } else if (size == 8 && off == 0) {
        run_dma(s, __builtin_bswap64(val));
    }
}

static const MemoryRegionOps port_ops = { port_read, port_write, 1, 2 };
static const MemoryRegionOps dma_ops = { dma_port_read, dma_port_write, 1, 8 };

static void fw_cfg_reset(void *opaque)
{
    FwCfgState *s = opaque;
    select_key(s, 0);
    s->dma_addr_high = 0;
}

FwCfgState *fw_cfg_create(AddressSpace *io, AddressSpace *dma_as)
{
    FwCfgState *s = xzalloc(sizeof(*s));
    s->dma_as = dma_as;
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(s, FW_CFG_ID, 0x3);           /* traditional interface + DMA */
    rebuild_directory(s);
    as_add_io(io, "fw_cfg", 0x510, 2, &port_ops, s, 0);
    as_add_io(io, "fw_cfg-dma", 0x514, 8, &dma_ops, s, 0);
    machine_register_reset(fw_cfg_reset, s);
    return s;
}
