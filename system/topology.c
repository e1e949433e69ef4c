/* CPU topology: APIC ID layout. See system/topology.h. */
#include "system/topology.h"

#include "system/machine.h"

/* Bits needed to number n items (0 for one item). */
static unsigned bits_for(unsigned n)
{
    unsigned b = 0;
    while ((1u << b) < n)
        b++;
    return b;
}

unsigned topology_thread_bits(const CpuTopology *t) { return bits_for(t->threads); }
unsigned topology_core_bits(const CpuTopology *t) { return bits_for(t->cores); }

uint32_t topology_apic_id(const CpuTopology *t, unsigned index)
{
    unsigned per_core = t->threads ? t->threads : 1, per_socket = per_core * (t->cores ? t->cores : 1);
    unsigned socket = index / per_socket, core = index % per_socket / per_core, thread = index % per_core;
    unsigned tb = topology_thread_bits(t), cb = topology_core_bits(t);
    return socket << (tb + cb) | core << tb | thread;
}

const CpuTopology *machine_topology(void)
{
    static const CpuTopology single = { 1, 1, 1 };
    if (current_machine && current_machine->cfg && current_machine->cfg->topology.sockets)
        return &current_machine->cfg->topology;
    return &single;
}
