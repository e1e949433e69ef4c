/* What the IDE files share: the device, channel and bus-master state, and
 * the functions one part calls in another (hw/ide-core.c drives the task
 * file, hw/ide-atapi.c the packet commands, hw/ide-dma.c bus mastering,
 * hw/ide-piix.c the PCI function). */
#ifndef HW_IDE_INTERNAL_H
#define HW_IDE_INTERNAL_H

#include "hw/ide.h"

#define IDE_SECTOR      512
#define CD_SECTOR       2048
#define IDE_BUF_SIZE    (128 * 1024)            /* PIO staging buffer per device */
#define IDE_DMA_CHUNK   (512 * 1024)            /* bytes per block request under DMA */
#define IDE_MAX_MULT    16                      /* READ/WRITE MULTIPLE block limit */

/* Status register */
#define ST_BSY  0x80
#define ST_DRDY 0x40
#define ST_DF   0x20
#define ST_DSC  0x10
#define ST_DRQ  0x08
#define ST_ERR  0x01
/* Error register */
#define ER_UNC  0x40
#define ER_IDNF 0x10
#define ER_ABRT 0x04
/* Device control register */
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define CTL_HOB  0x80
/* Device register */
#define DEV_LBA  0x40
#define DEV_DEV  0x10

/* Bus-master registers (SFF-8038i) */
#define BM_CMD_START   0x01
#define BM_CMD_TO_MEM  0x08     /* "read/write control": the bus master writes memory */
#define BM_ST_ACTIVE   0x01
#define BM_ST_ERROR    0x02
#define BM_ST_INTR     0x04
#define BM_ST_CAPABLE  0x60     /* drive 0/1 DMA capable (storage for software) */
#define BM_MAX_PRDS    8192     /* a PRD table fits in 64 KiB */

typedef enum IdeKind { IDE_NONE, IDE_HD, IDE_CD } IdeKind;

typedef struct IdeDrive IdeDrive;
typedef struct IdeChannel IdeChannel;
typedef struct IdeAio IdeAio;

/* One block-layer request in flight. It owns its buffer, so a request
 * abandoned by a reset can finish into memory nobody else uses. */
typedef void IdeAioDone(IdeDrive *d, IdeAio *a, int ret);
struct IdeAio {
    IdeDrive *d;
    bool cancelled;
    IdeAioDone *done;
    uint8_t *buf;
    size_t len;
    uint32_t sectors;           /* what the request covers, for the continuation */
};

/* ATAPI (SFF-8020i / MMC) state of a CD-ROM. */
typedef struct AtapiState {
    uint8_t packet[12];
    bool dma;                   /* data phase by DMA (features bit 0) */
    uint32_t byte_limit;        /* byte count limit of a PIO DRQ block */
    uint8_t sense_key, asc, ascq;
    bool unit_attention;        /* medium changed, not reported yet */
    uint8_t media_event;        /* pending GET EVENT STATUS media event code */
    bool tray_open, locked;
    uint32_t sector_size;       /* of the transfer in progress (READ: 2048) */
} AtapiState;

struct IdeDrive {
    IdeChannel *ch;
    int unit;                   /* 0-3 */
    IdeKind kind;
    BlockDev *blk;              /* CD-ROM: the medium, NULL when empty */
    uint64_t nb_sectors;        /* HD: 512-byte sectors; CD: 2048-byte blocks */
    char serial[21], model[41], firmware[9];
    uint16_t cyls, heads, secs;         /* default CHS translation */
    uint16_t cur_heads, cur_secs;       /* INITIALIZE DEVICE PARAMETERS */

    /* Task file: writes reach both devices of a channel; the previous value
     * of each 48-bit register stays readable through HOB. */
    uint8_t feature, nsector, lbal, lbam, lbah;
    uint8_t hob_feature, hob_nsector, hob_lbal, hob_lbam, hob_lbah;
    uint8_t select, status, error;
    bool irq;                   /* INTRQ pending (cleared by a status read) */

    /* Settings */
    int mult_sectors;           /* 0: READ/WRITE MULTIPLE disabled */
    bool write_cache, standby;
    bool write_cache_default;   /* at power-on: off for cache=writethrough/directsync */
    uint8_t xfer_mode;          /* SET FEATURES 03h value (0: PIO default) */

    /* Command in progress */
    uint8_t cmd;
    bool lba48;
    uint64_t lba;               /* next sector to transfer */
    uint32_t remaining;         /* sectors left */
    uint32_t block_sectors;     /* PIO: sectors per DRQ block */
    uint32_t cur_block;         /* sectors in the current DRQ block */

    /* PIO: the data port moves bytes of buf[pos, end); then pio_done runs.
     * Reads stage a chunk of several DRQ blocks in buf[0, fill). */
    uint8_t *buf;
    uint32_t pos, end, fill;
    void (*pio_done)(IdeDrive *d);

    /* DMA: set up by the command, run when the bus master is started. */
    bool dma_pending, dma_running, dma_to_mem;
    void (*dma_run)(IdeDrive *d);

    IdeAio *aio;
    AtapiState atapi;
};

typedef struct Bmdma {
    uint8_t cmd, status;
    uint32_t prd_table;
    /* Cursor in the PRD table of the transfer in progress. */
    uint32_t prd_index;
    uint64_t cur_addr;
    uint32_t cur_left;
    bool eot;
} Bmdma;

struct IdeChannel {
    IdeState *s;
    int index;                  /* 0 primary, 1 secondary */
    IdeDrive drive[2];
    int cur;                    /* selected device (DEV bit) */
    uint8_t ctrl;               /* device control register */
    IrqLine *irq;
    int irq_level;
    Bmdma bm;
};

struct IdeState {
    PCIDevice *pci;
    IdeChannel ch[2];
    MemoryRegion *cmd_io[2], *ctl_io[2];
};

static inline IdeDrive *ide_cur(IdeChannel *ch) { return &ch->drive[ch->cur]; }
static inline bool ide_present(const IdeDrive *d) { return d->kind != IDE_NONE; }

/* ---- hw/ide-core.c ---- */
void ide_channel_init(IdeChannel *ch, IdeState *s, int index, IrqLine *irq);
void ide_drive_setup(IdeDrive *d, IdeKind kind, BlockDev *blk);
void ide_channel_reset(IdeChannel *ch, bool hard);
uint32_t ide_cmd_read(IdeChannel *ch, unsigned reg, unsigned size);
void ide_cmd_write(IdeChannel *ch, unsigned reg, uint32_t val, unsigned size);
uint8_t ide_altstatus_read(IdeChannel *ch);
void ide_ctrl_write(IdeChannel *ch, uint8_t val);
void ide_set_irq(IdeDrive *d);
void ide_update_irq(IdeChannel *ch);
uint8_t ide_ready_status(const IdeDrive *d);
void ide_cmd_ok(IdeDrive *d);                   /* status ready, INTRQ */
void ide_cmd_error(IdeDrive *d, uint8_t error); /* ERR with error bits, INTRQ */
void ide_set_signature(IdeDrive *d);
void ide_cancel(IdeDrive *d);
void ide_pio_window(IdeDrive *d, uint32_t pos, uint32_t len, void (*done)(IdeDrive *));
/* ---- hw/ide-identify.c ---- */
/* IDENTIFY (PACKET) DEVICE data for d into d->buf[0, 512). */
void ide_identify_fill(IdeDrive *d);
/* Asynchronous block I/O with a private buffer of len bytes. */
IdeAio *ide_aio_new(IdeDrive *d, size_t len);
void ide_aio_submit(IdeAio *a, BlockAioOp op, uint64_t offset, IdeAioDone *done);

/* ---- hw/ide-atapi.c ---- */
void atapi_packet_command(IdeDrive *d);
void atapi_reset(IdeDrive *d, bool hard);
void atapi_set_medium(IdeDrive *d, BlockDev *blk);
/* A medium change seen by the guest (media event, UNIT ATTENTION). */
void atapi_change_medium(IdeDrive *d, BlockDev *blk);
void atapi_dma_error(IdeDrive *d);

/* ---- hw/ide-monitor.c ---- */
void ide_monitor_register(IdeState *s);

/* ---- hw/ide-dma.c ---- */
/* The command waits for the bus master (started now or later). */
void ide_dma_begin(IdeDrive *d, bool to_mem, void (*run)(IdeDrive *d));
/* Move len bytes between buf and guest memory along the PRD table.
 * Returns 0, or -1 when the table is exhausted or hostile (BM error set). */
int ide_dma_rw(IdeDrive *d, uint8_t *buf, uint32_t len);
/* The transfer is over: the bus master stops being active (unless the PRD
 * table is longer than the transfer), error marks it failed. */
void ide_dma_end(IdeDrive *d, bool error);
void ide_bm_reset(IdeChannel *ch);
uint64_t ide_bm_read(IdeState *s, unsigned off);
void ide_bm_write(IdeState *s, unsigned off, uint8_t val);
void ide_bm_note_irq(IdeChannel *ch);

#endif
