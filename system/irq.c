/* Shared interrupt lines. */
#include "system/irq.h"

static void irq_or_handler(void *opaque, int n, int level)
{
    IrqOr *o = opaque;
    unsigned before = o->levels != 0;
    if (level)
        o->levels |= 1u << n;
    else
        o->levels &= ~(1u << n);
    unsigned after = o->levels != 0;
    if (before != after)
        irq_set_level(o->out, (int)after);
}

void irq_or_init(IrqOr *o, IrqLine *out)
{
    o->levels = 0;
    o->out = out;
    for (int i = 0; i < IRQ_OR_MAX_INPUTS; i++)
        irq_init(&o->in[i], irq_or_handler, o, i);
}
