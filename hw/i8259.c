/* 8259A programmable interrupt controller pair with the PIIX ELCR.
 * Facts from the Intel 8259A datasheet and the 82371AB (PIIX4) datasheet. */
#include "hw/i8259.h"

#include "system/log.h"
#include "system/machine.h"
#include "system/monitor.h"

#define MASTER 0
#define SLAVE 1
#define CASCADE_IRQ 2

#define ICW1_IC4   0x01
#define ICW1_SNGL  0x02
#define ICW1_LTIM  0x08
#define ICW1_INIT  0x10
#define ICW4_UPM   0x01
#define ICW4_AEOI  0x02
#define ICW4_SFNM  0x10
#define OCW3_SEL   0x08
#define OCW3_POLL  0x04
#define OCW3_RR    0x02
#define OCW3_RIS   0x01
#define OCW3_ESMM  0x40
#define OCW3_SMM   0x20

/* ---- priority resolution --------------------------------------------------- */

/* Rank of the highest-priority bit set in mask (0 = highest), 8 if none. */
static int priority_rank(const PicChip *c, uint8_t mask)
{
    for (int rank = 0; rank < 8; rank++)
        if (mask & (1u << ((c->top_priority + rank) & 7)))
            return rank;
    return 8;
}

static int rank_to_irq(const PicChip *c, int rank) { return (c->top_priority + rank) & 7; }

static uint8_t level_triggered(const PicChip *c) { return c->ltim ? 0xff : c->elcr; }

/* The input this chip would interrupt for now, or -1. */
static int chip_pending_irq(const PicState *s, int idx)
{
    const PicChip *c = &s->chip[idx];
    int req = priority_rank(c, c->irr & ~c->imr);
    if (req == 8)
        return -1;
    uint8_t blocking = c->isr;
    if (c->special_mask)
        blocking &= ~c->imr;          /* masked levels in service block nothing */
    if (idx == MASTER && c->special_fully_nested)
        blocking &= ~(1u << CASCADE_IRQ);  /* the slave may nest higher requests */
    return req < priority_rank(c, blocking) ? rank_to_irq(c, req) : -1;
}

static void chip_set_input(PicChip *c, int irq, int level)
{
    uint8_t m = (uint8_t)(1u << irq);
    if (level_triggered(c) & m) {
        if (level)
            c->irr |= m;
        else
            c->irr &= (uint8_t)~m;
    } else if (level && !(c->input & m)) {
        c->irr |= m;                  /* rising edge: latched until acknowledged */
    }
    c->input = level ? (c->input | m) : (c->input & (uint8_t)~m);
}

/* Propagate the slave's output to the master's IR2 and the master's to the CPU. */
static void update_outputs(PicState *s)
{
    chip_set_input(&s->chip[MASTER], CASCADE_IRQ, chip_pending_irq(s, SLAVE) >= 0);
    bool level = chip_pending_irq(s, MASTER) >= 0;
    if (level != s->int_level) {
        s->int_level = level;
        irq_set_level(s->int_out, level);
    }
}

static void input_changed(void *opaque, int n, int level)
{
    PicState *s = opaque;
    /* The master's IR2 belongs to the cascade: an ISA "IRQ 2" is wired to
     * IRQ 9 on AT boards, and the board should use in[9] for it. */
    if (n < 0 || n >= 16 || n == CASCADE_IRQ)
        return;
    chip_set_input(&s->chip[n >> 3], n & 7, level);
    update_outputs(s);
}

/* ---- acknowledge and end of interrupt --------------------------------------- */

static void chip_ack(PicChip *c, int irq)
{
    uint8_t m = (uint8_t)(1u << irq);
    /* A level-triggered request stays while its input is high. */
    c->irr = (uint8_t)((c->irr & ~m) | (c->input & level_triggered(c) & m));
    if (!c->auto_eoi)
        c->isr |= m;
    else if (c->rotate_on_aeoi)
        c->top_priority = (uint8_t)((irq + 1) & 7);
}

int pic_intack(PicState *s)
{
    PicChip *master = &s->chip[MASTER], *slave = &s->chip[SLAVE];
    int irq = chip_pending_irq(s, MASTER);
    int vector;
    if (irq < 0) {
        /* The request went away before the acknowledge: spurious IRQ 7. */
        vector = master->vector_base | 7;
    } else {
        chip_ack(master, irq);
        if (irq == CASCADE_IRQ && !master->single) {
            int sirq = chip_pending_irq(s, SLAVE);
            if (sirq < 0) {
                vector = slave->vector_base | 7;  /* spurious IRQ 15 */
            } else {
                chip_ack(slave, sirq);
                vector = slave->vector_base | sirq;
            }
        } else {
            vector = master->vector_base | irq;
        }
    }
    update_outputs(s);
    return vector;
}

bool pic_int_pending(const PicState *s) { return s->int_level; }

/* The in-service bit a non-specific EOI ends, or -1. */
static int highest_in_service(const PicChip *c)
{
    int rank = priority_rank(c, c->isr);
    return rank == 8 ? -1 : rank_to_irq(c, rank);
}

static void ocw2(PicChip *c, uint8_t v)
{
    int level = v & 7;
    int irq;
    switch (v >> 5) {
    case 0: c->rotate_on_aeoi = false; break;
    case 4: c->rotate_on_aeoi = true; break;
    case 1:                                    /* non-specific EOI */
    case 5:                                    /* ... and rotate */
        irq = highest_in_service(c);
        if (irq >= 0) {
            c->isr &= (uint8_t)~(1u << irq);
            if (v >> 5 == 5)
                c->top_priority = (uint8_t)((irq + 1) & 7);
        }
        break;
    case 3:                                    /* specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        break;
    case 7:                                    /* specific EOI and rotate */
        c->isr &= (uint8_t)~(1u << level);
        c->top_priority = (uint8_t)((level + 1) & 7);
        break;
    case 6:                                    /* set priority: level becomes lowest */
        c->top_priority = (uint8_t)((level + 1) & 7);
        break;
    default:                                   /* 2: no operation */
        break;
    }
}

static void ocw3(PicChip *c, uint8_t v)
{
    if (v & OCW3_POLL)
        c->poll = true;
    if (v & OCW3_RR)
        c->read_isr = v & OCW3_RIS;
    if (v & OCW3_ESMM)
        c->special_mask = v & OCW3_SMM;
}

/* ---- initialisation --------------------------------------------------------- */

static void icw1(PicChip *c, uint8_t v)
{
    c->icw4_needed = v & ICW1_IC4;
    c->single = v & ICW1_SNGL;
    c->ltim = v & ICW1_LTIM;
    c->init_step = 2;
    /* The edge latches are cleared: inputs already high must go low and
     * high again to request (level-triggered ones request while high). */
    c->irr = c->input & level_triggered(c);
    c->isr = 0;
    c->imr = 0;
    c->top_priority = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->auto_eoi = false;
    c->rotate_on_aeoi = false;
    c->special_fully_nested = false;
}

static void icw_data(PicChip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = v & 0xf8;
        c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
        break;
    case 3:
        c->icw3 = v;
        c->init_step = c->icw4_needed ? 4 : 0;
        break;
    case 4:
        if (!(v & ICW4_UPM))
            LOG_ONCE(LOG_UNIMP, 0, "i8259: MCS-80/85 mode (ICW4 bit 0 clear) not supported\n");
        c->auto_eoi = v & ICW4_AEOI;
        c->special_fully_nested = v & ICW4_SFNM;
        c->init_step = 0;
        break;
    }
}

/* ---- port access ------------------------------------------------------------ */

static uint8_t poll_read(PicState *s, int idx)
{
    PicChip *c = &s->chip[idx];
    c->poll = false;
    int irq = chip_pending_irq(s, idx);
    if (irq < 0)
        return 0;
    chip_ack(c, irq);
    return (uint8_t)(0x80 | irq);
}

static uint64_t chip_read(PicState *s, int idx, uint64_t offset)
{
    PicChip *c = &s->chip[idx];
    uint8_t v;
    if (c->poll)
        v = poll_read(s, idx);
    else if (offset == 0)
        v = c->read_isr ? c->isr : c->irr;
    else
        v = c->imr;
    update_outputs(s);
    return v;
}

static void chip_write(PicState *s, int idx, uint64_t offset, uint8_t v)
{
    PicChip *c = &s->chip[idx];
    if (offset == 0) {
        if (v & ICW1_INIT)
            icw1(c, v);
        else if (v & OCW3_SEL)
            ocw3(c, v);
        else
            ocw2(c, v);
    } else if (c->init_step) {
        icw_data(c, v);
    } else {
        c->imr = v;                            /* OCW1 */
    }
    update_outputs(s);
}

static uint64_t master_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    return chip_read(opaque, MASTER, offset);
}

static void master_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)size;
    chip_write(opaque, MASTER, offset, (uint8_t)value);
}

static uint64_t slave_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    return chip_read(opaque, SLAVE, offset);
}

static void slave_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)size;
    chip_write(opaque, SLAVE, offset, (uint8_t)value);
}

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned size)
{
    PicState *s = opaque;
    (void)size;
    return s->chip[offset & 1].elcr;
}

static void elcr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    PicState *s = opaque;
    PicChip *c = &s->chip[offset & 1];
    (void)size;
    c->elcr = (uint8_t)value & c->elcr_mask;
    /* Inputs now level-triggered request exactly while high. */
    uint8_t level = level_triggered(c);
    c->irr = (uint8_t)((c->irr & ~level) | (c->input & level));
    update_outputs(s);
}

static const MemoryRegionOps master_ops = {
    .read = master_read, .write = master_write, .min_access = 1, .max_access = 1,
};
static const MemoryRegionOps slave_ops = {
    .read = slave_read, .write = slave_write, .min_access = 1, .max_access = 1,
};
static const MemoryRegionOps elcr_ops = {
    .read = elcr_read, .write = elcr_write, .min_access = 1, .max_access = 1,
};

/* ---- life cycle -------------------------------------------------------------- */

static void chip_reset(PicChip *c)
{
    uint8_t input = c->input, elcr_mask = c->elcr_mask;
    memset(c, 0, sizeof(*c));
    c->input = input;
    c->elcr_mask = elcr_mask;
}

void pic_reset(PicState *s)
{
    chip_reset(&s->chip[MASTER]);
    chip_reset(&s->chip[SLAVE]);
    update_outputs(s);
}

static void pic_reset_handler(void *opaque) { pic_reset(opaque); }

/* "info pic" shows the machine's PIC (the last one created). */
static PicState *monitor_pic;

static void info_pic(Monitor *mon, FILE *out)
{
    static const char *const names[2] = { "master", "slave" };
    (void)mon;
    if (!monitor_pic) {
        fprintf(out, "no PIC\n");
        return;
    }
    for (int i = 0; i < 2; i++) {
        const PicChip *c = &monitor_pic->chip[i];
        fprintf(out, "pic %-6s irr=%02x imr=%02x isr=%02x input=%02x elcr=%02x vector_base=%02x "
                "top_priority=%d%s%s%s%s%s\n",
                names[i], c->irr, c->imr, c->isr, c->input, c->elcr, c->vector_base,
                c->top_priority, c->auto_eoi ? " auto-eoi" : "",
                c->special_fully_nested ? " sfnm" : "", c->special_mask ? " special-mask" : "",
                c->ltim ? " level" : "", c->init_step ? " initialising" : "");
    }
    fprintf(out, "INT output %s\n", monitor_pic->int_level ? "asserted" : "idle");
}

PicState *pic_create(AddressSpace *io, IrqLine *int_out)
{
    PicState *s = xzalloc(sizeof(*s));
    s->int_out = int_out;
    /* IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered. */
    s->chip[MASTER].elcr_mask = 0xf8;
    s->chip[SLAVE].elcr_mask = 0xde;
    for (int i = 0; i < 16; i++)
        irq_init(&s->in[i], input_changed, s, i);
    as_add_io(io, "pic-master", 0x20, 2, &master_ops, s, 0);
    as_add_io(io, "pic-slave", 0xa0, 2, &slave_ops, s, 0);
    as_add_io(io, "elcr", 0x4d0, 2, &elcr_ops, s, 0);
    pic_reset(s);
    machine_register_reset(pic_reset_handler, s);
    if (!monitor_pic)
        monitor_register_info("pic", "the 8259 interrupt controllers", info_pic);
    monitor_pic = s;
    return s;
}
