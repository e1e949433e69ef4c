/* Port 0x92 (PIIX port 92h, "system control port A"). */
#include "hw/port92.h"

#include "system/machine.h"

#define P92_INIT 0x01
#define P92_A20  0x02

static uint64_t port92_read(void *opaque, uint64_t offset, unsigned size)
{
    Port92State *s = opaque;
    (void)offset;
    (void)size;
    return (s->value & P92_INIT) | (machine_a20() ? P92_A20 : 0);
}

static void port92_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    Port92State *s = opaque;
    (void)offset;
    (void)size;
    bool rising_init = (value & P92_INIT) && !(s->value & P92_INIT);
    s->value = (uint8_t)(value & P92_INIT);
    machine_set_a20(value & P92_A20);
    if (rising_init)
        machine_request_reset();
}

static const MemoryRegionOps port92_ops = {
    .read = port92_read, .write = port92_write, .min_access = 1, .max_access = 1,
};

static void port92_reset(void *opaque)
{
    Port92State *s = opaque;
    s->value = 0;
}

Port92State *port92_create(AddressSpace *io)
{
    Port92State *s = xzalloc(sizeof(*s));
    as_add_io(io, "port92", 0x92, 1, &port92_ops, s, 0);
    machine_register_reset(port92_reset, s);
    return s;
}
