/* IRQ lines: a device raises or lowers a line; whoever owns the line (PIC,
 * I/O APIC, CPU) gets a callback with the line number and level. */
#ifndef SYSTEM_IRQ_H
#define SYSTEM_IRQ_H

typedef void (*IrqHandler)(void *opaque, int n, int level);

typedef struct IrqLine {
    IrqHandler handler;
    void *opaque;
    int n;
} IrqLine;

static inline void irq_init(IrqLine *irq, IrqHandler handler, void *opaque, int n)
{
    irq->handler = handler;
    irq->opaque = opaque;
    irq->n = n;
}

/* Set the level of a line; an unconnected line (handler NULL) ignores it. */
static inline void irq_set_level(IrqLine *irq, int level)
{
    if (irq && irq->handler)
        irq->handler(irq->opaque, irq->n, level);
}
static inline void irq_raise(IrqLine *irq) { irq_set_level(irq, 1); }
static inline void irq_lower(IrqLine *irq) { irq_set_level(irq, 0); }
static inline void irq_pulse(IrqLine *irq)
{
    irq_set_level(irq, 1);
    irq_set_level(irq, 0);
}

/* Several sources sharing one line (e.g. COM1 and COM3 on ISA IRQ 4): the
 * output is the OR of the inputs. Give each source one of in[]. */
#define IRQ_OR_MAX_INPUTS 8
typedef struct IrqOr {
    IrqLine in[IRQ_OR_MAX_INPUTS];
    unsigned levels;
    IrqLine *out;
} IrqOr;
void irq_or_init(IrqOr *o, IrqLine *out);

#endif
