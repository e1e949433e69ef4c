/* 16550A UART: registers, receive FIFO, interrupt identification, loopback.
 * Facts from the National PC16550D datasheet and from what Linux's 8250
 * driver probes (autoconfig, the THRE and TXEN tests). */
#include "hw/serial.h"

#include "system/log.h"
#include "system/machine.h"

const uint16_t serial_isa_base[SERIAL_ISA_PORTS] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
const int serial_isa_irq[SERIAL_ISA_PORTS] = { 4, 3, 4, 3 };

enum {
    REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
    REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_RDI   0x01   /* received data available */
#define IER_THRI  0x02   /* transmitter holding register empty */
#define IER_RLSI  0x04   /* receiver line status */
#define IER_MSI   0x08   /* modem status */

#define IIR_NO_INT    0x01
#define IIR_MSI       0x00
#define IIR_THRI      0x02
#define IIR_RDI       0x04
#define IIR_RLSI      0x06
#define IIR_TIMEOUT   0x0c
#define IIR_FIFO_ON   0xc0

#define FCR_ENABLE    0x01
#define FCR_CLEAR_RX  0x02
#define FCR_CLEAR_TX  0x04
#define FCR_STORED    0xc9   /* enable, DMA mode, trigger level */

#define LCR_BREAK     0x40
#define LCR_DLAB      0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define MCR_MASK  0x1f

#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_PE    0x04
#define LSR_FE    0x08
#define LSR_BI    0x10
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define LSR_FIFO_ERR 0x80
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)
#define LSR_CHAR_ERRORS (LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

/* The UART's clock is 1.8432 MHz divided by 16. */
#define SERIAL_BAUD_BASE 115200

static const uint8_t rx_trigger_levels[4] = { 1, 4, 8, 14 };

/* ---- receive FIFO ---------------------------------------------------------- */

static bool fifo_mode(const SerialState *s) { return s->fcr & FCR_ENABLE; }

static unsigned rx_capacity(const SerialState *s)
{
    return fifo_mode(s) ? SERIAL_FIFO_SIZE : 1;
}

static uint16_t fifo_peek(const SerialFifo *f) { return f->data[f->head]; }

static uint16_t fifo_pop(SerialFifo *f)
{
    uint16_t v = f->data[f->head];
    f->head = (f->head + 1) % SERIAL_FIFO_SIZE;
    f->count--;
    return v;
}

static void fifo_push(SerialFifo *f, uint16_t v)
{
    f->data[(f->head + f->count) % SERIAL_FIFO_SIZE] = v;
    f->count++;
}

static bool fifo_has_errors(const SerialFifo *f)
{
    for (unsigned i = 0; i < f->count; i++)
        if (f->data[(f->head + i) % SERIAL_FIFO_SIZE] >> 8)
            return true;
    return false;
}

/* ---- interrupts ------------------------------------------------------------ */

static bool rx_data_ready_irq(const SerialState *s)
{
    if (fifo_mode(s))
        return s->rx.count >= rx_trigger_levels[s->fcr >> 6];
    return s->rx.count > 0;
}

/* The highest-priority pending interrupt, as IIR bits 0-3. */
static uint8_t pending_source(const SerialState *s)
{
    if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRORS))
        return IIR_RLSI;
    if ((s->ier & IER_RDI) && rx_data_ready_irq(s))
        return IIR_RDI;
    if ((s->ier & IER_RDI) && s->timeout_ipending)
        return IIR_TIMEOUT;
    if ((s->ier & IER_THRI) && s->thr_ipending)
        return IIR_THRI;
    if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
        return IIR_MSI;
    return IIR_NO_INT;
}

static void update_irq(SerialState *s)
{
    /* OUT2 enables the PC's interrupt buffer; loopback forces it off. */
    bool level = pending_source(s) != IIR_NO_INT &&
                 (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set_level(s->irq, level);
    }
}

/* ---- timing ---------------------------------------------------------------- */

static int64_t char_time_ns(const SerialState *s)
{
    unsigned bits = 1 + 5 + (s->lcr & 3) + ((s->lcr & 0x08) ? 1 : 0) + ((s->lcr & 0x04) ? 2 : 1);
    unsigned divisor = s->divisor ? s->divisor : 0x10000;
    return (int64_t)bits * divisor * NS_PER_SEC / SERIAL_BAUD_BASE;
}

/* The character timeout fires after four character times without the FIFO
 * being written or read, while it holds data below the trigger level. */
static void restart_rx_timeout(SerialState *s)
{
    if (fifo_mode(s) && s->rx.count)
        timer_mod(&s->rx_timeout, clock_get_ns(CLOCK_VIRTUAL) + 4 * char_time_ns(s));
    else
        timer_del(&s->rx_timeout);
}

static void rx_timeout_expired(void *opaque)
{
    SerialState *s = opaque;
    if (fifo_mode(s) && s->rx.count) {
        s->timeout_ipending = true;
        update_irq(s);
    }
}

/* ---- modem lines ----------------------------------------------------------- */

static uint8_t effective_modem_inputs(const SerialState *s)
{
    if (!(s->mcr & MCR_LOOP))
        return s->modem_inputs;
    /* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
    uint8_t v = 0;
    if (s->mcr & MCR_DTR)  v |= MSR_DSR;
    if (s->mcr & MCR_RTS)  v |= MSR_CTS;
    if (s->mcr & MCR_OUT1) v |= MSR_RI;
    if (s->mcr & MCR_OUT2) v |= MSR_DCD;
    return v;
}

static void update_msr(SerialState *s)
{
    uint8_t now = effective_modem_inputs(s);
    uint8_t changed = (s->msr ^ now) & 0xf0;
    uint8_t deltas = 0;
    if (changed & MSR_CTS) deltas |= MSR_DCTS;
    if (changed & MSR_DSR) deltas |= MSR_DDSR;
    if ((changed & MSR_RI) && !(now & MSR_RI)) deltas |= MSR_TERI;  /* trailing edge only */
    if (changed & MSR_DCD) deltas |= MSR_DDCD;
    s->msr = (uint8_t)((s->msr & MSR_DELTAS) | deltas | now);
}

/* ---- receive --------------------------------------------------------------- */

/* A character (with its PE/FE/BI bits) arriving from the shift register. */
static void rx_char(SerialState *s, uint8_t byte, uint8_t errors)
{
    uint16_t entry = (uint16_t)(byte | (errors << 8));
    if (s->rx.count >= rx_capacity(s)) {
        s->lsr |= LSR_OE;
        if (fifo_mode(s))
            return;                    /* the shift register is overwritten */
        s->rx.data[s->rx.head] = entry;  /* the holding register is overwritten */
        s->lsr |= errors;
    } else {
        fifo_push(&s->rx, entry);
        if (s->rx.count == 1)
            s->lsr |= errors;          /* errors show when the char reaches the top */
    }
    s->lsr |= LSR_DR;
}

static void rx_chars_done(SerialState *s)
{
    restart_rx_timeout(s);
    update_irq(s);
}

int serial_can_receive(SerialState *s)
{
    int room = 0;
    if (!(s->mcr & MCR_LOOP))
        room = (int)(rx_capacity(s) - s->rx.count);
    if (room <= 0) {
        s->input_blocked = true;
        room = 0;
    }
    return room;
}

void serial_receive(SerialState *s, const uint8_t *buf, int len)
{
    for (int i = 0; i < len; i++)
        rx_char(s, buf[i], 0);
    rx_chars_done(s);
}

void serial_receive_break(SerialState *s)
{
    rx_char(s, 0, LSR_BI);
    rx_chars_done(s);
}

static void rx_clear(SerialState *s)
{
    s->rx.head = s->rx.count = 0;
    s->lsr &= (uint8_t)~LSR_DR;
    s->timeout_ipending = false;
    timer_del(&s->rx_timeout);
}

static void unblock_input(SerialState *s)
{
    if (s->input_blocked && s->chr && serial_can_receive(s) > 0) {
        s->input_blocked = false;
        chardev_accept_input(s->chr);
    }
}

static uint8_t read_rbr(SerialState *s)
{
    uint8_t byte = 0;
    if (s->rx.count) {
        byte = (uint8_t)fifo_pop(&s->rx);
        if (s->rx.count)
            s->lsr |= (uint8_t)(fifo_peek(&s->rx) >> 8);
        else
            s->lsr &= (uint8_t)~LSR_DR;
    }
    s->timeout_ipending = false;
    restart_rx_timeout(s);
    unblock_input(s);
    return byte;
}

/* ---- transmit -------------------------------------------------------------- */

static void write_thr(SerialState *s, uint8_t byte)
{
    if (s->mcr & MCR_LOOP) {
        rx_char(s, byte, 0);
        restart_rx_timeout(s);
    } else if (s->chr) {
        chardev_write(s->chr, &byte, 1);
    }
    /* Sent at once: the holding register is empty again, which re-arms the
     * THRE interrupt the write itself had cleared. */
    s->lsr |= LSR_THRE | LSR_TEMT;
    s->thr_ipending = true;
}

/* ---- register access ------------------------------------------------------- */

static uint8_t read_iir(SerialState *s)
{
    uint8_t src = pending_source(s);
    if (src == IIR_THRI)
        s->thr_ipending = false;   /* reading IIR acknowledges THRE */
    return (uint8_t)(src | (fifo_mode(s) ? IIR_FIFO_ON : 0));
}

static uint8_t read_lsr(SerialState *s)
{
    uint8_t v = s->lsr;
    if (fifo_mode(s) && fifo_has_errors(&s->rx))
        v |= LSR_FIFO_ERR;
    s->lsr &= (uint8_t)~LSR_ERRORS;
    return v;
}

static uint64_t serial_read(void *opaque, uint64_t offset, unsigned size)
{
    SerialState *s = opaque;
    uint8_t v = 0xff;
    (void)size;
    switch (offset) {
    case REG_RBR_THR:
        v = (s->lcr & LCR_DLAB) ? (uint8_t)s->divisor : read_rbr(s);
        break;
    case REG_IER:
        v = (s->lcr & LCR_DLAB) ? (uint8_t)(s->divisor >> 8) : s->ier;
        break;
    case REG_IIR_FCR: v = read_iir(s); break;
    case REG_LCR: v = s->lcr; break;
    case REG_MCR: v = s->mcr; break;
    case REG_LSR: v = read_lsr(s); break;
    case REG_MSR:
        v = s->msr;
        s->msr &= (uint8_t)~MSR_DELTAS;
        break;
    case REG_SCR: v = s->scr; break;
    }
    update_irq(s);
    return v;
}

static void write_ier(SerialState *s, uint8_t v)
{
    uint8_t newly = (uint8_t)(v & ~s->ier);
    s->ier = v & 0x0f;
    /* Enabling THRI while the transmitter is empty raises it at once (Linux
     * checks this in its THRE and TXEN tests). */
    if ((newly & IER_THRI) && (s->lsr & LSR_THRE))
        s->thr_ipending = true;
}

static void write_fcr(SerialState *s, uint8_t v)
{
    /* Toggling the enable bit clears both FIFOs; the other bits are only
     * programmed while the enable bit is written as 1. */
    if ((v ^ s->fcr) & FCR_ENABLE)
        rx_clear(s);
    if (!(v & FCR_ENABLE)) {
        s->fcr = 0;
    } else {
        if (v & FCR_CLEAR_RX)
            rx_clear(s);
        /* The transmit FIFO is always empty: output leaves at once. */
        s->fcr = v & FCR_STORED;
    }
    unblock_input(s);                  /* cleared or larger: there may be room now */
}

static void write_lcr(SerialState *s, uint8_t v)
{
    bool break_starts = (v & LCR_BREAK) && !(s->lcr & LCR_BREAK);
    s->lcr = v;
    /* In loopback the receiver sees our own break. */
    if (break_starts && (s->mcr & MCR_LOOP))
        serial_receive_break(s);
}

static void write_mcr(SerialState *s, uint8_t v)
{
    s->mcr = v & MCR_MASK;
    update_msr(s);
    unblock_input(s);
}

static void serial_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    SerialState *s = opaque;
    uint8_t v = (uint8_t)value;
    (void)size;
    switch (offset) {
    case REG_RBR_THR:
        if (s->lcr & LCR_DLAB)
            s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
        else
            write_thr(s, v);
        break;
    case REG_IER:
        if (s->lcr & LCR_DLAB)
            s->divisor = (uint16_t)((s->divisor & 0x00ff) | (v << 8));
        else
            write_ier(s, v);
        break;
    case REG_IIR_FCR: write_fcr(s, v); break;
    case REG_LCR: write_lcr(s, v); break;
    case REG_MCR: write_mcr(s, v); break;
    case REG_LSR:
        /* Factory test register on real parts; ignore. */
        LOG_ONCE(LOG_GUEST_ERRORS, s->base, "serial %#x: write to LSR ignored\n", s->base);
        break;
    case REG_MSR:
        break;
    case REG_SCR: s->scr = v; break;
    }
    update_irq(s);
}

static const MemoryRegionOps serial_ops = {
    .read = serial_read,
    .write = serial_write,
    .min_access = 1,
    .max_access = 1,
};

/* ---- chardev frontend ------------------------------------------------------ */

static int fe_can_receive(void *opaque) { return serial_can_receive(opaque); }

static void fe_receive(void *opaque, const uint8_t *buf, int len)
{
    SerialState *s = opaque;
    /* Never take more than there is room for, whatever the backend does. */
    int room = serial_can_receive(s);
    serial_receive(s, buf, len < room ? len : room);
}

static void fe_event(void *opaque, int event)
{
    if (event == CHR_EVENT_BREAK)
        serial_receive_break(opaque);
}

/* ---- life cycle ------------------------------------------------------------ */

void serial_reset(SerialState *s)
{
    s->divisor = 12;  /* 9600 baud */
    s->ier = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->fcr = 0;
    s->scr = 0;
    s->lsr = LSR_THRE | LSR_TEMT;
    s->msr = effective_modem_inputs(s);
    s->thr_ipending = false;
    rx_clear(s);
    update_irq(s);
    unblock_input(s);
}

static void serial_reset_handler(void *opaque) { serial_reset(opaque); }

SerialState *serial_create(AddressSpace *io, uint16_t base, IrqLine *irq, Chardev *chr)
{
    SerialState *s = xzalloc(sizeof(*s));
    s->base = base;
    s->irq = irq;
    s->chr = chr;
    /* A null-modem cable with the other side ready: CTS, DSR and DCD on. */
    s->modem_inputs = MSR_CTS | MSR_DSR | MSR_DCD;
    timer_init(&s->rx_timeout, CLOCK_VIRTUAL, rx_timeout_expired, s);
    serial_reset(s);
    s->mr = as_add_io(io, "serial", base, 8, &serial_ops, s, 0);
    if (chr) {
        s->fe = (ChardevFrontend){
            .can_receive = fe_can_receive,
            .receive = fe_receive,
            .event = fe_event,
            .opaque = s,
        };
        chardev_attach(chr, &s->fe);
    }
    machine_register_reset(serial_reset_handler, s);
    return s;
}

SerialState *serial_isa_create(AddressSpace *io, int index, IrqLine *isa_irqs, Chardev *chr)
{
    if (index < 0 || index >= SERIAL_ISA_PORTS)
        return NULL;
    return serial_create(io, serial_isa_base[index], &isa_irqs[serial_isa_irq[index]], chr);
}
