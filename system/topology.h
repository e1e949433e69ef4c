/* The CPU topology given by -smp (sockets x cores x threads) and the APIC
 * IDs it implies. As on hardware, an APIC ID is split into bit fields:
 * thread within core, core within socket, socket; each field is as wide as
 * the count it holds needs (rounded up to a power of two), so with 3 cores
 * per socket the IDs are sparse (0,1,2, 4,5,6, ...). CPUID leaves 1, 4 and
 * 0xB, the MADT and the local APICs all take their numbers from here. */
#ifndef SYSTEM_TOPOLOGY_H
#define SYSTEM_TOPOLOGY_H

#include <stdint.h>

typedef struct CpuTopology {
    unsigned sockets, cores, threads;   /* cores per socket, threads per core */
} CpuTopology;

/* Width in bits of the thread and core fields of an APIC ID. */
unsigned topology_thread_bits(const CpuTopology *t);
unsigned topology_core_bits(const CpuTopology *t);
/* The APIC ID of the CPU with this index (0 = boot CPU). */
uint32_t topology_apic_id(const CpuTopology *t, unsigned index);
/* The topology of the machine being run (1x1x1 before it is set up). */
const CpuTopology *machine_topology(void);

#endif
