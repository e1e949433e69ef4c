/* -smp topology: the APIC ID layout (system/topology.c) and what CPUID says
 * about it on each vCPU (leaves 1, 4 and 0xB), as Linux reads them
 * (arch/x86/kernel/cpu/topology.c, cacheinfo.c). */
#include "tests/unit/harness.h"
#include <stdlib.h>
#include "cpu/x86/helpers.h"
#include "system/cpus.h"
#include "system/machine.h"
#include "system/topology.h"

TEST(apic_ids_dense_when_powers_of_two)
{
    CpuTopology t = { 2, 2, 2 };
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(topology_apic_id(&t, i), i);
    CHECK_EQ(topology_thread_bits(&t), 1);
    CHECK_EQ(topology_core_bits(&t), 1);
}

TEST(apic_ids_sparse_with_three_cores)
{
    CpuTopology t = { 2, 3, 1 };     /* socket field starts at bit 2 */
    static const uint32_t want[6] = { 0, 1, 2, 4, 5, 6 };
    for (unsigned i = 0; i < 6; i++)
        CHECK_EQ(topology_apic_id(&t, i), want[i]);
    CpuTopology u = { 1, 3, 3 };     /* threads: 2 bits, cores: 2 bits */
    CHECK_EQ(topology_apic_id(&u, 3), 1u << 2);
    CHECK_EQ(topology_apic_id(&u, 8), 2u << 2 | 2);
}

TEST(apic_id_is_index_without_topology)
{
    CpuTopology none = { 0, 0, 0 };
    CHECK_EQ(topology_apic_id(&none, 5), 5);
}

/* CPUID of vCPU index under a machine with topology t. */
static void cpuid_on(const CpuTopology *t, int index, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    static MachineConfig cfg;
    static Machine m;
    static VCPU cpu;
    static CPUX86State env;
    cfg.topology = *t;
    cfg.smp = (int)(t->sockets * t->cores * t->threads);
    m.cfg = &cfg;
    Machine *saved = current_machine;
    current_machine = &m;
    cpu.index = index;
    env.vcpu = &cpu;
    x86_cpuid(&env, leaf, sub, &r[0], &r[1], &r[2], &r[3]);
    current_machine = saved;
}

TEST(cpuid_leaf1_apic_id_and_logical_count)
{
    CpuTopology t = { 2, 3, 2 };     /* thread field 1 bit, core field 2 bits */
    uint32_t r[4];
    cpuid_on(&t, 7, 1, 0, r);        /* socket 1, core 0, thread 1 */
    CHECK_EQ(r[1] >> 24, topology_apic_id(&t, 7));
    CHECK_EQ(topology_apic_id(&t, 7), 1u << 3 | 1);
    CHECK_EQ((r[1] >> 16) & 0xff, 8);            /* IDs a package spans */
    CHECK(r[3] & (1u << 28));                    /* HTT */
    CpuTopology one = { 4, 1, 1 };
    cpuid_on(&one, 2, 1, 0, r);
    CHECK_EQ(r[1] >> 24, 2);
    CHECK(!(r[3] & (1u << 28)));                 /* one logical CPU per package */
}

TEST(cpuid_leaf_b_levels)
{
    CpuTopology t = { 2, 3, 2 };
    uint32_t r[4];
    cpuid_on(&t, 7, 0xb, 0, r);
    CHECK_EQ(r[0], 1);                           /* shift to the core ID */
    CHECK_EQ(r[1], 2);                           /* threads per core */
    CHECK_EQ((r[2] >> 8) & 0xff, 1);             /* SMT level */
    CHECK_EQ(r[3], topology_apic_id(&t, 7));
    cpuid_on(&t, 7, 0xb, 1, r);
    CHECK_EQ(r[0], 3);                           /* shift to the package ID */
    CHECK_EQ(r[1], 6);                           /* logical CPUs per package */
    CHECK_EQ((r[2] >> 8) & 0xff, 2);             /* core level */
    CHECK_EQ(r[2] & 0xff, 1);
    cpuid_on(&t, 7, 0xb, 2, r);
    CHECK_EQ(r[1], 0);                           /* the end of the levels */
    CHECK_EQ((r[2] >> 8) & 0xff, 0);
}

TEST(cpuid_leaf4_sharing)
{
    CpuTopology t = { 1, 4, 2 };
    uint32_t r[4];
    cpuid_on(&t, 0, 4, 0, r);                    /* L1d: shared by a core's threads */
    CHECK_EQ(((r[0] >> 14) & 0xfff) + 1, 2);
    CHECK_EQ((r[0] >> 26) + 1, 4);               /* cores per package */
    cpuid_on(&t, 0, 4, 3, r);                    /* L3: the whole package */
    CHECK_EQ((r[0] >> 5) & 7, 3);
    CHECK_EQ(((r[0] >> 14) & 0xfff) + 1, 8);
}
