/* MC146818 real-time clock and CMOS RAM at 0x70 (index, bit 7 masks NMI)
 * and 0x71 (data), raising IRQ 8.
 *
 * The clock counts guest time: it starts from the host's date (or -rtc base=)
 * and advances with CLOCK_VIRTUAL, so it stops while the machine is paused
 * and agrees with every other guest time source. Update-ended, alarm and
 * periodic interrupts come from CLOCK_VIRTUAL timers. */
#ifndef HW_MC146818_H
#define HW_MC146818_H

#include "system/irq.h"
#include "system/memory.h"
#include "system/timer.h"

#define RTC_CMOS_SIZE 128

/* CMOS locations the PC firmware and OSes read (beyond the clock registers). */
enum {
    RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01, RTC_MINUTES = 0x02,
    RTC_MINUTES_ALARM = 0x03, RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05,
    RTC_DAY_OF_WEEK = 0x06, RTC_DAY_OF_MONTH = 0x07, RTC_MONTH = 0x08,
    RTC_YEAR = 0x09, RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c,
    RTC_REG_D = 0x0d,
    CMOS_SHUTDOWN_STATUS = 0x0f,
    CMOS_FLOPPY_TYPES = 0x10,
    CMOS_DISK_TYPES = 0x12,
    CMOS_EQUIPMENT = 0x14,
    CMOS_BASE_MEM_LOW = 0x15, CMOS_BASE_MEM_HIGH = 0x16,     /* KiB below 640K */
    CMOS_EXT_MEM_LOW = 0x17, CMOS_EXT_MEM_HIGH = 0x18,       /* KiB above 1M, capped */
    CMOS_CHECKSUM_HIGH = 0x2e, CMOS_CHECKSUM_LOW = 0x2f,     /* of 0x10-0x2d */
    CMOS_EXT_MEM_LOW2 = 0x30, CMOS_EXT_MEM_HIGH2 = 0x31,
    CMOS_CENTURY = 0x32,
    CMOS_MEM_ABOVE_16M_LOW = 0x34, CMOS_MEM_ABOVE_16M_HIGH = 0x35,  /* 64K units */
    CMOS_BOOT_FLAGS_3RD = 0x38,                             /* bits 7-4: third boot device */
    CMOS_BOOT_FLAGS_1ST_2ND = 0x3d,
    CMOS_MEM_ABOVE_4G_LOW = 0x5b, CMOS_MEM_ABOVE_4G_MID = 0x5c,
    CMOS_MEM_ABOVE_4G_HIGH = 0x5d,                          /* 64K units */
    CMOS_SMP_COUNT = 0x5f,                                  /* CPUs - 1 (SeaBIOS) */
};

typedef struct RtcState {
    uint8_t cmos[RTC_CMOS_SIZE];   /* clock registers in the guest's format, then RAM */
    uint8_t index;
    bool nmi_disabled;             /* port 0x70 bit 7 */
    /* The clock: guest time base_time (seconds since 1970, "UTC" of the guest)
     * began at CLOCK_VIRTUAL base_ns; whole seconds since then are added. */
    int64_t base_time;
    int64_t base_ns;
    /* The 32.768 kHz divider chain that paces periodic interrupts. */
    int64_t divider_base_ns;
    uint64_t periods_seen;         /* periodic interrupts counted into PF so far */
    bool irq_level;

    IrqLine *irq;
    Timer update_timer;            /* each second: UF, alarm */
    Timer periodic_timer;          /* while PIE is set */
} RtcState;

RtcState *rtc_create(AddressSpace *io, IrqLine *irq8);
/* -rtc base=utc|localtime|YYYY-MM-DD[THH:MM:SS]; -1 with a message on junk. */
int rtc_set_base(RtcState *s, const char *spec, char *err, size_t errlen);
/* Set the clock to a time (seconds since 1970, as the guest will read it). */
void rtc_set_time(RtcState *s, int64_t seconds);
int64_t rtc_get_time(RtcState *s);
/* Machine reset: the RESET pin clears the interrupt enables and flags; the
 * time and the CMOS RAM survive (battery-backed). */
void rtc_reset(RtcState *s);
bool rtc_nmi_disabled(const RtcState *s);

/* CMOS RAM for the board; indexes 0x0e-0x7f (the clock registers are refused). */
void rtc_set_cmos(RtcState *s, int idx, uint8_t val);
uint8_t rtc_get_cmos(RtcState *s, int idx);

/* The PC CMOS layout SeaBIOS and Linux read. */
typedef struct RtcPcLayout {
    uint64_t ram_below_4g;      /* bytes */
    uint64_t ram_above_4g;      /* bytes */
    int cpus;
    const char *boot_order;     /* "cdn...": a floppy, c disk, d cdrom, n network */
    int floppies;               /* 1.44M drives, 0-2 */
} RtcPcLayout;
void rtc_fill_pc_cmos(RtcState *s, const RtcPcLayout *l);
/* Recompute the checksum over 0x10-0x2d after changing those bytes. */
void rtc_update_checksum(RtcState *s);

#endif
