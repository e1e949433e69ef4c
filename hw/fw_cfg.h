/* fw_cfg: the firmware configuration interface SeaBIOS reads (QEMU's
 * docs/specs/fw_cfg.txt describes the same wire protocol).
 *   0x510  selector (16-bit write)      0x511  data (8-bit, sequential)
 *   0x514  DMA address (big-endian: high dword at 0x514, low at 0x518; the
 *          low write starts the transfer); a 64-bit read gives "QEMU CFG".
 * Items are selected by 16-bit keys; named files get keys from 0x20 up and
 * are listed in the directory at key 0x19. */
#ifndef HW_FW_CFG_H
#define HW_FW_CFG_H

#include "system/memory.h"

enum {
    FW_CFG_SIGNATURE = 0x00,
    FW_CFG_ID        = 0x01,
    FW_CFG_UUID      = 0x02,
    FW_CFG_RAM_SIZE  = 0x03,
    FW_CFG_NOGRAPHIC = 0x04,
    FW_CFG_NB_CPUS   = 0x05,
    FW_CFG_MACHINE_ID = 0x06,
    FW_CFG_KERNEL_ADDR = 0x07,
    FW_CFG_KERNEL_SIZE = 0x08,
    FW_CFG_KERNEL_CMDLINE = 0x09,
    FW_CFG_INITRD_ADDR = 0x0a,
    FW_CFG_INITRD_SIZE = 0x0b,
    FW_CFG_BOOT_DEVICE = 0x0c,
    FW_CFG_NUMA      = 0x0d,
    FW_CFG_BOOT_MENU = 0x0e,
    FW_CFG_MAX_CPUS  = 0x0f,
    FW_CFG_FILE_DIR  = 0x19,
    FW_CFG_FILE_FIRST = 0x20,
    FW_CFG_E820_TABLE = 0x8003,
};

#define FW_CFG_MAX_FILES 64
#define FW_CFG_NAME_LEN 56

typedef struct FwCfgItem {
    uint8_t *data;
    uint32_t len;
} FwCfgItem;

typedef struct FwCfgState {
    AddressSpace *dma_as;
    FwCfgItem items[0x40];           /* standard keys and files (0x20 + n) */
    FwCfgItem arch[0x10];            /* 0x8000 + n */
    char file_names[FW_CFG_MAX_FILES][FW_CFG_NAME_LEN];
    int nr_files;
    uint16_t selector;
    uint32_t offset;
    uint32_t dma_addr_high;
} FwCfgState;

FwCfgState *fw_cfg_create(AddressSpace *io, AddressSpace *dma_as);
/* The item takes a copy of data. */
void fw_cfg_add_bytes(FwCfgState *s, uint16_t key, const void *data, uint32_t len);
void fw_cfg_add_i16(FwCfgState *s, uint16_t key, uint16_t v);   /* little-endian */
void fw_cfg_add_i32(FwCfgState *s, uint16_t key, uint32_t v);
void fw_cfg_add_i64(FwCfgState *s, uint16_t key, uint64_t v);
/* A named file ("etc/e820", "bootorder"); returns its key, or -1 if full. */
int fw_cfg_add_file(FwCfgState *s, const char *name, const void *data, uint32_t len);

#endif
