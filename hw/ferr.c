/* Port 0xF0: clear the FPU error interrupt (see hw/ferr.h). */
#include "hw/ferr.h"
#include "cpu/x86/simd.h"

static uint64_t ferr_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return 0xff;
}

static void ferr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)value;
    (void)size;
    x87_ignne();
}

static const MemoryRegionOps ferr_ops = {
    .read = ferr_read, .write = ferr_write, .min_access = 1, .max_access = 1,
};

void ferr_port_create(AddressSpace *io)
{
    as_add_io(io, "ferr", 0xf0, 1, &ferr_ops, NULL, 0);
}
