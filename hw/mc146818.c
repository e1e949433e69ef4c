/* MC146818 RTC and CMOS RAM, and the PC CMOS layout.
 * Facts from the Motorola MC146818A datasheet (registers A-D, update cycle,
 * periodic rates at the 32.768 kHz time base) and from what SeaBIOS and Linux
 * read from CMOS. */
#include "hw/mc146818.h"

#include <stdio.h>
#include <time.h>
#include "system/log.h"
#include "system/machine.h"

#define REG_A_UIP     0x80
#define REG_A_DV      0x70
#define REG_A_DV_32K  0x20     /* the normal 32.768 kHz time base */
#define REG_A_RS      0x0f
#define REG_B_SET     0x80
#define REG_B_PIE     0x40
#define REG_B_AIE     0x20
#define REG_B_UIE     0x10
#define REG_B_SQWE    0x08
#define REG_B_BINARY  0x04
#define REG_B_24H     0x02
#define REG_C_IRQF    0x80
#define REG_C_PF      0x40
#define REG_C_AF      0x20
#define REG_C_UF      0x10
#define REG_D_VRT     0x80

#define DIVIDER_HZ    32768
/* UIP rises 244 us (8 time-base clocks) before each update. */
#define UIP_NS        ((int64_t)8 * NS_PER_SEC / DIVIDER_HZ)
#define ALARM_ANY     0xc0

/* ---- register formats ------------------------------------------------------- */

static bool binary_mode(const RtcState *s) { return s->cmos[RTC_REG_B] & REG_B_BINARY; }

static uint8_t encode(const RtcState *s, int v)
{
    return binary_mode(s) ? (uint8_t)v : (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static int decode(const RtcState *s, uint8_t v)
{
    return binary_mode(s) ? v : (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t encode_hour(const RtcState *s, int h)
{
    if (s->cmos[RTC_REG_B] & REG_B_24H)
        return encode(s, h);
    int h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(encode(s, h12) | (h >= 12 ? 0x80 : 0));
}

static int decode_hour(const RtcState *s, uint8_t v)
{
    if (s->cmos[RTC_REG_B] & REG_B_24H)
        return decode(s, v);
    int h = decode(s, v & 0x7f) % 12;   /* 12 AM is midnight */
    return (v & 0x80) ? h + 12 : h;
}

static void time_to_regs(RtcState *s, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return;
    int year = tm.tm_year + 1900;
    s->cmos[RTC_SECONDS] = encode(s, tm.tm_sec);
    s->cmos[RTC_MINUTES] = encode(s, tm.tm_min);
    s->cmos[RTC_HOURS] = encode_hour(s, tm.tm_hour);
    s->cmos[RTC_DAY_OF_WEEK] = encode(s, tm.tm_wday + 1);
    s->cmos[RTC_DAY_OF_MONTH] = encode(s, tm.tm_mday);
    s->cmos[RTC_MONTH] = encode(s, tm.tm_mon + 1);
    s->cmos[RTC_YEAR] = encode(s, year % 100);
    s->cmos[CMOS_CENTURY] = encode(s, year / 100 % 100);
}

static int64_t regs_to_time(const RtcState *s)
{
    struct tm tm = {
        .tm_sec = decode(s, s->cmos[RTC_SECONDS]),
        .tm_min = decode(s, s->cmos[RTC_MINUTES]),
        .tm_hour = decode_hour(s, s->cmos[RTC_HOURS]),
        .tm_mday = decode(s, s->cmos[RTC_DAY_OF_MONTH]),
        .tm_mon = decode(s, s->cmos[RTC_MONTH]) - 1,
    };
    int year = decode(s, s->cmos[RTC_YEAR]) % 100;
    int century = decode(s, s->cmos[CMOS_CENTURY]);
    if (century < 19 || century > 99)
        century = year < 70 ? 20 : 19;   /* no usable century byte: pivot at 1970 */
    tm.tm_year = century * 100 + year - 1900;
    return (int64_t)timegm(&tm);
}

/* ---- the clock --------------------------------------------------------------- */

/* DV 010 is the PC's 32.768 kHz setting; 000 and 001 (other crystals) are
 * taken as running too, as guests that write them expect a ticking clock.
 * 11x holds the divider chain in reset and the rest are test modes: stopped. */
static bool divider_running(const RtcState *s)
{
    return (s->cmos[RTC_REG_A] & REG_A_DV) <= REG_A_DV_32K;
}

/* Updates happen only with the time base running and SET clear. */
static bool clock_running(const RtcState *s)
{
    return divider_running(s) && !(s->cmos[RTC_REG_B] & REG_B_SET);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static int64_t seconds_elapsed(const RtcState *s, int64_t now)
{
    return floor_div(now - s->base_ns, NS_PER_SEC);
}

static int64_t time_now(const RtcState *s, int64_t now)
{
    return clock_running(s) ? s->base_time + seconds_elapsed(s, now) : s->base_time;
}

/* Bring the time registers up to date (frozen ones hold what the guest wrote). */
static void refresh_regs(RtcState *s, int64_t now)
{
    if (clock_running(s))
        time_to_regs(s, time_now(s, now));
}

static bool update_in_progress(const RtcState *s, int64_t now)
{
    if (!clock_running(s))
        return false;
    int64_t phase = (now - s->base_ns) - seconds_elapsed(s, now) * NS_PER_SEC;
    return phase >= NS_PER_SEC - UIP_NS;
}

/* ---- interrupts -------------------------------------------------------------- */

static void update_irq(RtcState *s)
{
    uint8_t b = s->cmos[RTC_REG_B], c = s->cmos[RTC_REG_C] & ~REG_C_IRQF;
    bool irqf = ((c & REG_C_PF) && (b & REG_B_PIE)) ||
                ((c & REG_C_AF) && (b & REG_B_AIE)) ||
                ((c & REG_C_UF) && (b & REG_B_UIE));
    s->cmos[RTC_REG_C] = (uint8_t)(c | (irqf ? REG_C_IRQF : 0));
    if (irqf != s->irq_level) {
        s->irq_level = irqf;
        irq_set_level(s->irq, irqf);
    }
}

static bool alarm_field_matches(uint8_t alarm, uint8_t now)
{
    return (alarm & ALARM_ANY) == ALARM_ANY || alarm == now;
}

static bool alarm_matches(const RtcState *s)
{
    return alarm_field_matches(s->cmos[RTC_SECONDS_ALARM], s->cmos[RTC_SECONDS]) &&
           alarm_field_matches(s->cmos[RTC_MINUTES_ALARM], s->cmos[RTC_MINUTES]) &&
           alarm_field_matches(s->cmos[RTC_HOURS_ALARM], s->cmos[RTC_HOURS]);
}

static void arm_update_timer(RtcState *s)
{
    if (!clock_running(s)) {
        timer_del(&s->update_timer);
        return;
    }
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    timer_mod(&s->update_timer, s->base_ns + (seconds_elapsed(s, now) + 1) * NS_PER_SEC);
}

/* An update cycle ended: the time registers show the new second. */
static void update_timer_expired(void *opaque)
{
    RtcState *s = opaque;
    if (!clock_running(s))
        return;
    refresh_regs(s, clock_get_ns(CLOCK_VIRTUAL));
    s->cmos[RTC_REG_C] |= REG_C_UF;
    if (alarm_matches(s))
        s->cmos[RTC_REG_C] |= REG_C_AF;
    update_irq(s);
    arm_update_timer(s);
}

/* Periodic interrupt period in 32.768 kHz clocks, 0 when off. */
static uint64_t periodic_clocks(const RtcState *s)
{
    unsigned rs = s->cmos[RTC_REG_A] & REG_A_RS;
    if (!rs || !divider_running(s))
        return 0;
    return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

static uint64_t periods_at(const RtcState *s, int64_t now)
{
    uint64_t period = periodic_clocks(s);
    if (!period || now <= s->divider_base_ns)
        return 0;
    uint64_t clocks = (uint64_t)((unsigned __int128)(now - s->divider_base_ns) * DIVIDER_HZ / NS_PER_SEC);
    return clocks / period;
}

/* PF is set at the periodic rate whether or not PIE is on; without PIE it is
 * worked out when register C is read instead of by a timer. */
static void catch_up_periodic(RtcState *s, int64_t now)
{
    uint64_t n = periods_at(s, now);
    if (n > s->periods_seen)
        s->cmos[RTC_REG_C] |= REG_C_PF;
    s->periods_seen = n;
}

static void arm_periodic_timer(RtcState *s)
{
    uint64_t period = periodic_clocks(s);
    if (!period || !(s->cmos[RTC_REG_B] & REG_B_PIE)) {
        timer_del(&s->periodic_timer);
        return;
    }
    uint64_t clocks = (s->periods_seen + 1) * period;
    int64_t delta = (int64_t)(((unsigned __int128)clocks * NS_PER_SEC + DIVIDER_HZ - 1) / DIVIDER_HZ);
    timer_mod(&s->periodic_timer, s->divider_base_ns + delta);
}

static void periodic_timer_expired(void *opaque)
{
    RtcState *s = opaque;
    catch_up_periodic(s, clock_get_ns(CLOCK_VIRTUAL));
    update_irq(s);
    arm_periodic_timer(s);
}

/* Rate or time base changed: count periods afresh from now, without a PF. */
static void resync_periodic(RtcState *s, int64_t now)
{
    s->periods_seen = periods_at(s, now);
    arm_periodic_timer(s);
}

/* ---- register writes ---------------------------------------------------------- */

/* The clock stops (SET, divider reset) or starts again; phase_ns is where the
 * new second starts on restart. */
static void clock_state_changed(RtcState *s, bool was_running, int64_t now, int64_t phase_ns)
{
    bool running = clock_running(s);
    if (was_running && !running) {
        s->base_time = s->base_time + seconds_elapsed(s, now);
    } else if (!was_running && running) {
        s->base_time = regs_to_time(s);
        s->base_ns = phase_ns;
    }
    arm_update_timer(s);
}

static void write_reg_a(RtcState *s, uint8_t v, int64_t now)
{
    bool was_running = clock_running(s);
    bool divider_was_running = divider_running(s);
    if (was_running)
        refresh_regs(s, now);            /* a stopped clock keeps what they show */
    s->cmos[RTC_REG_A] = v & ~REG_A_UIP;
    if (!divider_was_running && divider_running(s))
        s->divider_base_ns = now;        /* the chain restarts from reset */
    /* After a divider reset the first update comes half a second later. */
    clock_state_changed(s, was_running, now, now - NS_PER_SEC / 2);
    resync_periodic(s, now);
}

static void write_reg_b(RtcState *s, uint8_t v, int64_t now)
{
    bool was_running = clock_running(s);
    if (was_running)
        refresh_regs(s, now);
    if (v & REG_B_SET)
        v &= (uint8_t)~REG_B_UIE;        /* setting SET clears UIE */
    s->cmos[RTC_REG_B] = v;
    clock_state_changed(s, was_running, now, now);
    if (clock_running(s))
        refresh_regs(s, now);            /* the format may have changed */
    arm_periodic_timer(s);
    update_irq(s);
}

/* A time register written: with the clock running, the new value takes
 * effect at once and the fraction of the current second is kept. */
static void write_time_reg(RtcState *s, int idx, uint8_t v, int64_t now)
{
    if (!clock_running(s)) {
        s->cmos[idx] = v;
        return;
    }
    refresh_regs(s, now);
    s->cmos[idx] = v;
    s->base_time = regs_to_time(s) - seconds_elapsed(s, now);
    refresh_regs(s, now);
}

static bool is_time_reg(int idx)
{
    return idx == RTC_SECONDS || idx == RTC_MINUTES || idx == RTC_HOURS ||
           (idx >= RTC_DAY_OF_WEEK && idx <= RTC_YEAR) || idx == CMOS_CENTURY;
}

static uint8_t read_data(RtcState *s)
{
    int idx = s->index;
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    uint8_t v;
    switch (idx) {
    case RTC_REG_A:
        return (uint8_t)(s->cmos[idx] | (update_in_progress(s, now) ? REG_A_UIP : 0));
    case RTC_REG_C:
        catch_up_periodic(s, now);
        update_irq(s);
        v = s->cmos[idx];
        s->cmos[idx] = 0;                /* reading C clears every flag */
        update_irq(s);
        arm_periodic_timer(s);
        return v;
    case RTC_REG_D:
        return REG_D_VRT;
    default:
        if (is_time_reg(idx))
            refresh_regs(s, now);
        return s->cmos[idx];
    }
}

static void write_data(RtcState *s, uint8_t v)
{
    int idx = s->index;
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    switch (idx) {
    case RTC_REG_A: write_reg_a(s, v, now); break;
    case RTC_REG_B: write_reg_b(s, v, now); break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;                           /* read-only */
    default:
        if (is_time_reg(idx))
            write_time_reg(s, idx, v, now);
        else
            s->cmos[idx] = v;
        break;
    }
}

static uint64_t rtc_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    if (offset == 0)
        return 0xff;                     /* the index register is write-only */
    return read_data(opaque);
}

static void rtc_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    RtcState *s = opaque;
    (void)size;
    if (offset == 0) {
        s->index = value & 0x7f;
        s->nmi_disabled = value & 0x80;
    } else {
        write_data(s, (uint8_t)value);
    }
}

static const MemoryRegionOps rtc_ops = {
    .read = rtc_read, .write = rtc_write, .min_access = 1, .max_access = 1,
};

/* ---- API ---------------------------------------------------------------------- */

void rtc_set_time(RtcState *s, int64_t seconds)
{
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    if (clock_running(s)) {
        s->base_time = seconds;
        s->base_ns = now;
        refresh_regs(s, now);
        arm_update_timer(s);
    } else {
        s->base_time = seconds;
        time_to_regs(s, seconds);
    }
}

int64_t rtc_get_time(RtcState *s)
{
    return clock_running(s) ? time_now(s, clock_get_ns(CLOCK_VIRTUAL)) : regs_to_time(s);
}

static bool parse_date(const char *spec, int64_t *out)
{
    struct tm tm = { 0 };
    int n = 0;
    if (sscanf(spec, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || !n)
        return false;
    const char *rest = spec + n;
    if (*rest) {
        int m = 0;
        if (sscanf(rest, "T%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &m) != 3 ||
            !m || rest[m])
            return false;
    }
    if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
        tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 ||
        tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 59)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return true;
}

int rtc_set_base(RtcState *s, const char *spec, char *err, size_t errlen)
{
    int64_t host = clock_get_ns(CLOCK_HOST) / NS_PER_SEC, t;
    if (!spec || !strcmp(spec, "utc")) {
        t = host;
    } else if (!strcmp(spec, "localtime")) {
        time_t tt = (time_t)host;
        struct tm tm;
        localtime_r(&tt, &tm);
        t = host + tm.tm_gmtoff;         /* the guest reads local time as its clock */
    } else if (!parse_date(spec, &t)) {
        snprintf(err, errlen, "-rtc base=%s: expected utc, localtime or "
                 "YYYY-MM-DD[THH:MM:SS] (from 1970)", spec);
        return -1;
    }
    rtc_set_time(s, t);
    return 0;
}

bool rtc_nmi_disabled(const RtcState *s) { return s->nmi_disabled; }

void rtc_set_cmos(RtcState *s, int idx, uint8_t val)
{
    if (idx <= RTC_REG_D || idx >= RTC_CMOS_SIZE || idx == CMOS_CENTURY)
        return;                          /* the clock owns those */
    s->cmos[idx] = val;
}

uint8_t rtc_get_cmos(RtcState *s, int idx)
{
    if (idx < 0 || idx >= RTC_CMOS_SIZE)
        return 0xff;
    uint8_t saved = s->index;
    s->index = (uint8_t)idx;
    uint8_t v = idx == RTC_REG_C ? s->cmos[idx] : read_data(s);
    s->index = saved;
    return v;
}

void rtc_update_checksum(RtcState *s)
{
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum += s->cmos[i];
    s->cmos[CMOS_CHECKSUM_HIGH] = (uint8_t)(sum >> 8);
    s->cmos[CMOS_CHECKSUM_LOW] = (uint8_t)sum;
}

static uint8_t boot_device_code(char c)
{
    switch (c) {
    case 'a': return 1;                  /* floppy */
    case 'c': return 2;                  /* hard disk */
    case 'd': return 3;                  /* CD-ROM */
    case 'n': return 4;                  /* network */
    default: return 0;
    }
}

void rtc_fill_pc_cmos(RtcState *s, const RtcPcLayout *l)
{
    uint64_t below = l->ram_below_4g;
    /* Base memory: 640 KiB. */
    s->cmos[CMOS_BASE_MEM_LOW] = 640 & 0xff;
    s->cmos[CMOS_BASE_MEM_HIGH] = 640 >> 8;
    /* Extended memory above 1 MiB in KiB, capped at 65535. */
    uint64_t ext = below > MiB ? (below - MiB) / KiB : 0;
    if (ext > 0xffff)
        ext = 0xffff;
    s->cmos[CMOS_EXT_MEM_LOW] = s->cmos[CMOS_EXT_MEM_LOW2] = (uint8_t)ext;
    s->cmos[CMOS_EXT_MEM_HIGH] = s->cmos[CMOS_EXT_MEM_HIGH2] = (uint8_t)(ext >> 8);
    /* Memory above 16 MiB (below 4 GiB) in 64 KiB units. */
    uint64_t above16 = below > 16 * MiB ? (below - 16 * MiB) / (64 * KiB) : 0;
    if (above16 > 0xffff)
        above16 = 0xffff;
    s->cmos[CMOS_MEM_ABOVE_16M_LOW] = (uint8_t)above16;
    s->cmos[CMOS_MEM_ABOVE_16M_HIGH] = (uint8_t)(above16 >> 8);
    uint64_t above4g = l->ram_above_4g / (64 * KiB);
    if (above4g > 0xffffff)
        above4g = 0xffffff;
    s->cmos[CMOS_MEM_ABOVE_4G_LOW] = (uint8_t)above4g;
    s->cmos[CMOS_MEM_ABOVE_4G_MID] = (uint8_t)(above4g >> 8);
    s->cmos[CMOS_MEM_ABOVE_4G_HIGH] = (uint8_t)(above4g >> 16);
    s->cmos[CMOS_SMP_COUNT] = (uint8_t)(l->cpus > 0 ? l->cpus - 1 : 0);

    /* Equipment: FPU, PS/2 mouse port, VGA (00), floppies. */
    int floppies = l->floppies < 0 ? 0 : l->floppies > 2 ? 2 : l->floppies;
    uint8_t equip = 0x02 | 0x04;
    if (floppies)
        equip |= (uint8_t)(0x01 | (floppies - 1) << 6);
    s->cmos[CMOS_EQUIPMENT] = equip;
    s->cmos[CMOS_FLOPPY_TYPES] = (uint8_t)((floppies >= 1 ? 0x40 : 0) | (floppies >= 2 ? 0x04 : 0));

    /* Boot order: first and second devices in 0x3d, third in 0x38 bits 7-4. */
    const char *order = l->boot_order ? l->boot_order : "cdn";
    uint8_t dev[3] = { 0, 0, 0 };
    for (int i = 0, n = 0; order[i] && n < 3; i++) {
        uint8_t code = boot_device_code(order[i]);
        if (code)
            dev[n++] = code;
    }
    s->cmos[CMOS_BOOT_FLAGS_1ST_2ND] = (uint8_t)(dev[1] << 4 | dev[0]);
    s->cmos[CMOS_BOOT_FLAGS_3RD] = (uint8_t)((s->cmos[CMOS_BOOT_FLAGS_3RD] & 0x0f) | dev[2] << 4);
    rtc_update_checksum(s);
}

/* ---- life cycle ----------------------------------------------------------------- */

void rtc_reset(RtcState *s)
{
    s->cmos[RTC_REG_B] &= (uint8_t)~(REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE);
    s->cmos[RTC_REG_C] = 0;
    update_irq(s);
    arm_periodic_timer(s);
    arm_update_timer(s);
}

static void rtc_reset_handler(void *opaque) { rtc_reset(opaque); }

RtcState *rtc_create(AddressSpace *io, IrqLine *irq8)
{
    RtcState *s = xzalloc(sizeof(*s));
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    s->irq = irq8;
    s->cmos[RTC_REG_A] = REG_A_DV_32K | 0x06;   /* 1024 Hz, as the BIOS sets it */
    s->cmos[RTC_REG_B] = REG_B_24H;
    s->cmos[RTC_REG_D] = REG_D_VRT;
    s->base_ns = now;
    s->divider_base_ns = now;
    s->base_time = clock_get_ns(CLOCK_HOST) / NS_PER_SEC;
    timer_init(&s->update_timer, CLOCK_VIRTUAL, update_timer_expired, s);
    timer_init(&s->periodic_timer, CLOCK_VIRTUAL, periodic_timer_expired, s);
    refresh_regs(s, now);
    resync_periodic(s, now);
    arm_update_timer(s);
    as_add_io(io, "rtc", 0x70, 2, &rtc_ops, s, 0);
    machine_register_reset(rtc_reset_handler, s);
    return s;
}
