/* isa-debug-exit: a write of V to the port ends the process with status
 * (V << 1) | 1, so test programs can report success or failure.
 *   -device isa-debug-exit,iobase=0xf4,iosize=4 */
#include "hw/devices.h"

#include <stdlib.h>
#include "system/machine.h"

typedef struct DebugExit {
    unsigned iosize;
} DebugExit;

static uint64_t debug_exit_read(void *opaque, uint64_t off, unsigned size)
{
    return size_mask(size);
}

static void debug_exit_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    DebugExit *d = opaque;
    uint64_t v = val & size_mask(MIN(size, d->iosize));
    machine_request_debug_exit((int)((v << 1) | 1));
}

static const MemoryRegionOps debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .max_access = 4,
};

static int debug_exit_create(Machine *m, Opts *o, char *err, size_t errlen)
{
    uint64_t iobase = 0x501, iosize = 2;
    const char *s;
    if ((s = opts_get(o, "iobase")) && (!parse_u64(s, &iobase) || iobase > 0xffff)) {
        snprintf(err, errlen, "isa-debug-exit: bad iobase '%s'", s);
        return -1;
    }
    if ((s = opts_get(o, "iosize")) &&
        (!parse_u64(s, &iosize) || (iosize != 1 && iosize != 2 && iosize != 4))) {
        snprintf(err, errlen, "isa-debug-exit: bad iosize '%s' (1, 2 or 4)", s);
        return -1;
    }
    if (iobase + iosize > 0x10000) {
        snprintf(err, errlen, "isa-debug-exit: ports 0x%" PRIx64 "+%" PRIu64 " past 0xffff",
                 iobase, iosize);
        return -1;
    }
    DebugExit *d = xzalloc(sizeof(*d));
    d->iosize = (unsigned)iosize;
    as_add_io(m->io, "isa-debug-exit", iobase, iosize, &debug_exit_ops, d, 1);
    return 0;
}

const DeviceType device_isa_debug_exit = {
    .name = "isa-debug-exit",
    .help = "iobase=PORT,iosize=1|2|4: writing V exits with status (V<<1)|1",
    .create = debug_exit_create,
};
