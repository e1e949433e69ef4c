/* Port 0x80: POST codes, accepted silently. */
#include "hw/ioport80.h"

#include "system/log.h"

static uint64_t ioport80_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return 0xff;
}

static void ioport80_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    IoPort80State *s = opaque;
    (void)offset;
    (void)size;
    s->last_code = (uint8_t)value;
    LOG(LOG_TRACE, "post code %#04x\n", s->last_code);
}

static const MemoryRegionOps ioport80_ops = {
    .read = ioport80_read, .write = ioport80_write, .min_access = 1, .max_access = 1,
};

IoPort80State *ioport80_create(AddressSpace *io)
{
    IoPort80State *s = xzalloc(sizeof(*s));
    as_add_io(io, "ioport80", 0x80, 1, &ioport80_ops, s, 0);
    return s;
}
