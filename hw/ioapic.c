/* I/O APIC. Facts from the Intel 82093AA I/O APIC datasheet and the SDM
 * vol. 3 chapter 11 (message destinations). */
#include "hw/ioapic.h"

#include "system/log.h"
#include "system/machine.h"
#include "system/monitor.h"

enum { REG_ID = 0x00, REG_VERSION = 0x01, REG_ARB = 0x02, REG_RTE_FIRST = 0x10 };
enum { MMIO_REGSEL = 0x00, MMIO_WINDOW = 0x10 };

/* Bits the guest can write in an entry (delivery status and remote IRR are not). */
#define RTE_WRITABLE (~(IOAPIC_RTE_DELIVERY_STATUS | IOAPIC_RTE_REMOTE_IRR) & \
                      (0xff000000000000ffULL | 0x1ff00ULL))

static bool pin_asserted(const IoApicState *s, int pin) { return s->input & (1u << pin); }

static ApicMessage entry_message(uint64_t rte)
{
    return (ApicMessage){
        .vector = (uint8_t)rte,
        .delivery_mode = (rte >> 8) & 7,
        .logical = rte & (1ULL << 11),
        .dest = (uint8_t)(rte >> 56),
        .level_triggered = rte & IOAPIC_RTE_LEVEL,
        .assert = true,
    };
}

/* Send the pin's message if it is asserted, unmasked and (level) not waiting
 * for an EOI. */
static void service_pin(IoApicState *s, int pin)
{
    uint64_t *rte = &s->rte[pin];
    if ((*rte & IOAPIC_RTE_MASKED) || !pin_asserted(s, pin))
        return;
    ApicMessage m = entry_message(*rte);
    if (*rte & IOAPIC_RTE_LEVEL) {
        if (*rte & IOAPIC_RTE_REMOTE_IRR)
            return;
        /* Only fixed and lowest-priority messages are EOI'd by a local APIC. */
        if (m.delivery_mode == APIC_DM_FIXED || m.delivery_mode == APIC_DM_LOWEST)
            *rte |= IOAPIC_RTE_REMOTE_IRR;
    }
    if (s->bus)
        apic_bus_deliver(s->bus, &m);
}

static void set_input(void *opaque, int pin, int level)
{
    IoApicState *s = opaque;
    if (pin < 0 || pin >= IOAPIC_NUM_PINS)
        return;
    bool was = pin_asserted(s, pin);
    if (level)
        s->input |= 1u << pin;
    else
        s->input &= ~(1u << pin);
    if (s->rte[pin] & IOAPIC_RTE_LEVEL) {
        if (level)
            service_pin(s, pin);
    } else if (level && !was) {
        service_pin(s, pin);                 /* rising edge */
    }
}

void ioapic_eoi(IoApicState *s, int vector)
{
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t *rte = &s->rte[pin];
        if ((*rte & IOAPIC_RTE_REMOTE_IRR) && (int)(*rte & 0xff) == vector) {
            *rte &= ~IOAPIC_RTE_REMOTE_IRR;
            service_pin(s, pin);             /* still asserted: again */
        }
    }
}

static void eoi_listener(void *opaque, int vector) { ioapic_eoi(opaque, vector); }

/* ---- registers ------------------------------------------------------------------ */

uint32_t ioapic_reg_read(IoApicState *s, uint8_t index)
{
    switch (index) {
    case REG_ID:
    case REG_ARB:
        return (uint32_t)(s->id & 0xf) << 24;
    case REG_VERSION:
        return IOAPIC_VERSION;
    default:
        break;
    }
    unsigned n = (unsigned)(index - REG_RTE_FIRST) / 2;
    if (index >= REG_RTE_FIRST && n < IOAPIC_NUM_PINS)
        return (uint32_t)(s->rte[n] >> (index & 1 ? 32 : 0));
    LOG_ONCE(LOG_GUEST_ERRORS, index, "ioapic: read of unknown register 0x%02x\n", index);
    return 0xffffffffu;
}

static void write_entry(IoApicState *s, int pin, bool high, uint32_t value)
{
    uint64_t old = s->rte[pin];
    uint64_t mask = high ? 0xffffffff00000000ULL : 0xffffffffULL;
    uint64_t v = high ? (uint64_t)value << 32 : value;
    uint64_t rte = (old & ~(mask & RTE_WRITABLE)) | (v & mask & RTE_WRITABLE);
    if (!(rte & IOAPIC_RTE_LEVEL))
        rte &= ~IOAPIC_RTE_REMOTE_IRR;       /* edge entries have no remote IRR */
    s->rte[pin] = rte;
    /* A level-triggered input still high gets through once unmasked. */
    if ((rte & IOAPIC_RTE_LEVEL) && !(rte & IOAPIC_RTE_MASKED))
        service_pin(s, pin);
}

void ioapic_reg_write(IoApicState *s, uint8_t index, uint32_t value)
{
    unsigned n = (unsigned)(index - REG_RTE_FIRST) / 2;
    if (index == REG_ID) {
        s->id = (uint8_t)((value >> 24) & 0xf);
    } else if (index == REG_VERSION || index == REG_ARB) {
        /* read-only */
    } else if (index >= REG_RTE_FIRST && n < IOAPIC_NUM_PINS) {
        write_entry(s, (int)n, index & 1, value);
    } else {
        LOG_ONCE(LOG_GUEST_ERRORS, index, "ioapic: write to unknown register 0x%02x\n", index);
    }
}

/* ---- MMIO: IOREGSEL and IOWIN (dword registers; narrower accesses act on
 * their bytes of the dword) ------------------------------------------------------- */

static uint32_t window_value(IoApicState *s, uint64_t dword)
{
    switch (dword) {
    case MMIO_REGSEL: return s->regsel;
    case MMIO_WINDOW: return ioapic_reg_read(s, s->regsel);
    default: return 0;
    }
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    IoApicState *s = opaque;
    uint32_t v = window_value(s, offset & ~3ULL);
    unsigned shift = (offset & 3) * 8;
    return (v >> shift) & (size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    IoApicState *s = opaque;
    uint64_t dword = offset & ~3ULL;
    unsigned shift = (offset & 3) * 8;
    uint32_t mask = (size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1) << shift;
    uint32_t v = (window_value(s, dword) & ~mask) | (((uint32_t)value << shift) & mask);
    if (dword == MMIO_REGSEL)
        s->regsel = (uint8_t)v;
    else if (dword == MMIO_WINDOW)
        ioapic_reg_write(s, s->regsel, v);
}

static const MemoryRegionOps ioapic_mmio_ops = {
    .read = mmio_read, .write = mmio_write, .min_access = 1, .max_access = 4,
};

/* ---- "info ioapic" ------------------------------------------------------------- */

void ioapic_dump(IoApicState *s, FILE *f)
{
    static const char *const modes[8] = { "fixed", "lowest", "smi", "reserved", "nmi",
                                          "init", "reserved", "extint" };
    fprintf(f, "I/O APIC id %u, IOREGSEL 0x%02x, asserted inputs 0x%06x\n", s->id, s->regsel,
            s->input);
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t r = s->rte[pin];
        fprintf(f, "  pin %2d: 0x%016" PRIx64 " vector 0x%02x %-8s dest 0x%02x %s %s %s%s%s\n",
                pin, r, (unsigned)(r & 0xff), modes[(r >> 8) & 7], (unsigned)(r >> 56),
                r & (1ULL << 11) ? "logical " : "physical",
                r & IOAPIC_RTE_LEVEL ? "level" : "edge ",
                r & IOAPIC_RTE_POLARITY_LOW ? "active-low " : "active-high",
                r & IOAPIC_RTE_REMOTE_IRR ? " remote-irr" : "",
                r & IOAPIC_RTE_MASKED ? " masked" : "");
    }
}

static IoApicState *info_ioapic_state;

static void info_ioapic(Monitor *mon, FILE *out)
{
    (void)mon;
    if (info_ioapic_state)
        ioapic_dump(info_ioapic_state, out);
    else
        fprintf(out, "no I/O APIC\n");
}

/* ---- ISA IRQs to the 8259 and the I/O APIC --------------------------------------- */

static void isa_fanout_set(void *opaque, int irq, int level)
{
    IoApicIsaFanout *f = opaque;
    if (irq < 0 || irq >= 16)
        return;
    if (f->pic_in)
        irq_set_level(&f->pic_in[irq], level);
    if (f->gsi)
        irq_set_level(&f->gsi[irq == 0 ? 2 : irq], level);
}

void ioapic_isa_fanout_init(IoApicIsaFanout *f, IrqLine *pic_in, IrqLine *gsi)
{
    f->pic_in = pic_in;
    f->gsi = gsi;
    for (int i = 0; i < 16; i++)
        irq_init(&f->isa_irq[i], isa_fanout_set, f, i);
}

/* ---- life cycle ------------------------------------------------------------------- */

void ioapic_reset(IoApicState *s)
{
    s->id = s->initial_id;
    s->regsel = 0;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++)
        s->rte[i] = IOAPIC_RTE_MASKED;
}

static void reset_handler(void *opaque) { ioapic_reset(opaque); }

IoApicState *ioapic_create(AddressSpace *mem, ApicBus *bus, uint64_t base, uint8_t id)
{
    IoApicState *s = xzalloc(sizeof(*s));
    s->bus = bus;
    s->initial_id = id & 0xf;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++)
        irq_init(&s->in[i], set_input, s, i);
    if (mem)
        s->mmio = as_add_io(mem, "ioapic", base, 0x1000, &ioapic_mmio_ops, s, 10);
    if (bus)
        apic_bus_set_eoi_listener(bus, eoi_listener, s);
    ioapic_reset(s);
    machine_register_reset(reset_handler, s);
    if (!info_ioapic_state)
        monitor_register_info("ioapic", "the I/O APIC's redirection table", info_ioapic);
    info_ioapic_state = s;
    return s;
}
