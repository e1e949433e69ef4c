/* The CPU model "kestrel64": what CPUID reports.
 *
 * GenuineIntel, family 6 model 0x3a stepping 9 (an Ivy Bridge signature with
 * no model-specific quirks Linux would act on, and model >= 15 so Linux keeps
 * PAT). The hypervisor bit is set, so guests skip microcode loading and
 * bare-metal errata. Every feature bit the model can report is in the table
 * below; `on` says whether it is advertised. A bit is on only when Kestrel
 * implements the feature (in the translator, the helpers or the devices).
 * Physical addresses are 40 bits, linear 48.
 *
 * Speculative execution: none. The model advertises IA32_ARCH_CAPABILITIES
 * (leaf 7 EDX[29], MSR 0x10A) with the "not affected" bits RDCL_NO, SSB_NO,
 * MDS_NO, IF_PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO, BHI_NO,
 * PBRSB_NO, GDS_NO, RFDS_NO and ITS_NO (value 0x400000000d10e171, msr.c), and
 * no speculation controls (no IBRS/IBPB/STIBP/SSBD/MD_CLEAR, no SPEC_CTRL).
 * Debian's 6.1 guest then reports "Not affected" for Meltdown, L1TF, MDS,
 * TAA, MMIO stale data, SSB, ITLB multihit, GDS, RFDS and ITS. Linux still
 * applies two mitigations it keys on the vendor/family alone: Spectre v2
 * (retpolines: a family-6 Intel CPU without eIBRS) and the Spectre v1 SWAPGS
 * fences; and it marks BHI "Retpoline" because the hypervisor bit is set.
 * Under KVM the guest runs on the real CPU: MSR 0x10A is KVM's (the host's
 * truth), not this value. */
#include <pthread.h>
#include "cpu/x86/helpers.h"
#include "system/cpus.h"
#include "system/topology.h"
#include "system/util.h"

enum { EAX, EBX, ECX, EDX };

typedef struct FeatureBit {
    X86Feature feature;
    uint32_t leaf;
    uint8_t reg, bit;
    bool on;
    const char *name;   /* as Linux's /proc/cpuinfo spells it */
} FeatureBit;

static const FeatureBit features[] = {
    /* leaf 1 EDX */
    { X86_FEAT_FPU,      1, EDX, 0,  true,  "fpu" },      /* translate-x87.c */
    { X86_FEAT_VME,      1, EDX, 1,  true,  "vme" },      /* VME and PVI: ioperm.c, excp.c (tests/guest/vme.c) */
    { X86_FEAT_DE,       1, EDX, 2,  true,  "de" },
    { X86_FEAT_PSE,      1, EDX, 3,  true,  "pse" },
    { X86_FEAT_TSC,      1, EDX, 4,  true,  "tsc" },
    { X86_FEAT_MSR,      1, EDX, 5,  true,  "msr" },
    { X86_FEAT_PAE,      1, EDX, 6,  true,  "pae" },
    { X86_FEAT_MCE,      1, EDX, 7,  true,  "mce" },      /* banks as storage: cpu.h */
    { X86_FEAT_CX8,      1, EDX, 8,  true,  "cx8" },
    { X86_FEAT_APIC,     1, EDX, 9,  true,  "apic" },     /* cleared per vCPU without one */
    { X86_FEAT_SEP,      1, EDX, 11, true,  "sep" },
    { X86_FEAT_MTRR,     1, EDX, 12, true,  "mtrr" },
    { X86_FEAT_PGE,      1, EDX, 13, true,  "pge" },
    { X86_FEAT_MCA,      1, EDX, 14, true,  "mca" },
    { X86_FEAT_CMOV,     1, EDX, 15, true,  "cmov" },
    { X86_FEAT_PAT,      1, EDX, 16, true,  "pat" },
    { X86_FEAT_PSE36,    1, EDX, 17, true,  "pse36" },
    { X86_FEAT_CLFLUSH,  1, EDX, 19, true,  "clflush" },
    { X86_FEAT_MMX,      1, EDX, 23, true,  "mmx" },      /* translate-sse.c */
    { X86_FEAT_FXSR,     1, EDX, 24, true,  "fxsr" },     /* fxsave.c */
    { X86_FEAT_SSE,      1, EDX, 25, true,  "sse" },      /* translate-sse.c */
    { X86_FEAT_SSE2,     1, EDX, 26, true,  "sse2" },
    /* leaf 1 ECX */
    { X86_FEAT_SSE3,     1, ECX, 0,  true,  "pni" },
    { X86_FEAT_PCLMULQDQ, 1, ECX, 1, false, "pclmulqdq" },
    { X86_FEAT_SSSE3,    1, ECX, 9,  true,  "ssse3" },
    { X86_FEAT_CX16,     1, ECX, 13, true,  "cx16" },     /* translator: CMPXCHG16B (tests/unit/test-simd.c) */
    { X86_FEAT_SSE41,    1, ECX, 19, true,  "sse4_1" },
    { X86_FEAT_SSE42,    1, ECX, 20, true,  "sse4_2" },
    { X86_FEAT_X2APIC,   1, ECX, 21, false, "x2apic" },   /* per vCPU: when the APIC hooks have the MSRs */
    { X86_FEAT_MOVBE,    1, ECX, 22, true,  "movbe" },
    { X86_FEAT_POPCNT,   1, ECX, 23, true,  "popcnt" },
    { X86_FEAT_TSC_DEADLINE, 1, ECX, 24, false, "tsc_deadline_timer" }, /* per vCPU: when the APIC has it */
    { X86_FEAT_XSAVE,    1, ECX, 26, true,  "xsave" },    /* fxsave.c, with leaf 0xd */
    { X86_FEAT_AVX,      1, ECX, 28, false, "avx" },
    { X86_FEAT_RDRAND,   1, ECX, 30, false, "rdrand" },   /* the translator returns a counter, not entropy */
    { X86_FEAT_HYPERVISOR, 1, ECX, 31, true, "hypervisor" },
    /* the TLB keeps each PCID's entries across CR3 writes (accel/tcg-tlb.c) */
    { X86_FEAT_PCID,     1, ECX, 17, true,  "pcid" },
    /* leaf 7 subleaf 0 */
    { X86_FEAT_FSGSBASE, 7, EBX, 0,  false, "fsgsbase" }, /* the translator has RDFSBASE & co. as #UD */
    { X86_FEAT_BMI1,     7, EBX, 3,  false, "bmi1" },
    { X86_FEAT_SMEP,     7, EBX, 7,  true,  "smep" },
    { X86_FEAT_BMI2,     7, EBX, 8,  false, "bmi2" },
    { X86_FEAT_ERMS,     7, EBX, 9,  true,  "erms" },
    { X86_FEAT_INVPCID,  7, EBX, 10, true,  "invpcid" },  /* mmu.c, translate-insn.c */
    { X86_FEAT_ADX,      7, EBX, 19, false, "adx" },
    { X86_FEAT_SMAP,     7, EBX, 20, true,  "smap" },     /* the walker; STAC/CLAC in translate-insn.c */
    /* CLFLUSHOPT and CLWB, like CLFLUSH: no-ops (no caches to write back) */
    { X86_FEAT_CLFLUSHOPT, 7, EBX, 23, true, "clflushopt" },
    { X86_FEAT_CLWB,     7, EBX, 24, true,  "clwb" },
    { X86_FEAT_UMIP,     7, ECX, 2,  false, "umip" },
    { X86_FEAT_RDPID,    7, ECX, 22, true,  "rdpid" },    /* decode.c, translate-insn.c */
    /* IA32_ARCH_CAPABILITIES (msr.c, read-only): the translator does not
     * speculate, so the MSR sets every *_NO bit that describes such a CPU. */
    { X86_FEAT_ARCH_CAPABILITIES, 7, EDX, 29, true, "arch_capabilities" },
    /* leaf 0x80000001 */
    { X86_FEAT_LAHF_LM,  0x80000001, ECX, 0,  true,  "lahf_lm" },
    { X86_FEAT_ABM,      0x80000001, ECX, 5,  true,  "abm" },   /* LZCNT */
    { X86_FEAT_SYSCALL,  0x80000001, EDX, 11, true,  "syscall" },
    { X86_FEAT_NX,       0x80000001, EDX, 20, true,  "nx" },
    { X86_FEAT_PDPE1GB,  0x80000001, EDX, 26, true,  "pdpe1gb" },
    { X86_FEAT_RDTSCP,   0x80000001, EDX, 27, true,  "rdtscp" },
    { X86_FEAT_LM,       0x80000001, EDX, 29, true,  "lm" },
};

#define MAX_BASIC_LEAF 0x16
/* The core crystal clock of leaf 0x15 is the local APIC's timer input
 * (hw/apic.c APIC_BUS_HZ, 1 GHz): Linux takes the APIC timer rate from it and
 * the TSC rate (X86_TSC_HZ) as crystal * 2 / 1, without calibrating. */
#define CRYSTAL_HZ 1000000000u
#define MAX_EXT_LEAF 0x80000008u
#define FAMILY 6
#define MODEL 0x3a
#define STEPPING 9

bool x86_cpu_has_x2apic(CPUX86State *env)
{
    return env && env->apic && x86_apic_hooks && x86_apic_hooks->msr_read &&
           x86_apic_hooks->msr_write;
}

static const FeatureBit *feature_bit(X86Feature f)
{
    for (size_t i = 0; i < ARRAY_SIZE(features); i++)
        if (features[i].feature == f)
            return &features[i];
    return NULL;
}

/* x86_cpu_has is asked on hot paths (the page walker): index the table once. */
static bool feature_on[X86_FEAT_COUNT];
static pthread_once_t feature_once = PTHREAD_ONCE_INIT;

static void index_features(void)
{
    for (int i = 0; i < X86_FEAT_COUNT; i++) {
        const FeatureBit *b = feature_bit((X86Feature)i);
        feature_on[i] = b && b->on;
    }
}

bool x86_cpu_has(X86Feature f)
{
    pthread_once(&feature_once, index_features);
    return (unsigned)f < X86_FEAT_COUNT && feature_on[f];
}

static void apply_features(uint32_t leaf, uint32_t r[4])
{
    for (size_t i = 0; i < ARRAY_SIZE(features); i++)
        if (features[i].on && features[i].leaf == leaf)
            r[features[i].reg] |= 1u << features[i].bit;
}

static void put_string(uint32_t r[4], const char *s16)
{
    for (int i = 0; i < 4; i++)
        memcpy(&r[i], s16 + 4 * i, 4);
}

/* ---- topology (-smp sockets/cores/threads, system/topology.h) ---------------- */

static uint32_t initial_apic_id(CPUX86State *env)
{
    return env && env->vcpu ? topology_apic_id(machine_topology(), (unsigned)env->vcpu->index) : 0;
}

/* Logical processors a package has room for in its APIC IDs. */
static uint32_t package_id_span(void)
{
    const CpuTopology *t = machine_topology();
    return 1u << (topology_thread_bits(t) + topology_core_bits(t));
}

/* Leaf 0xB: extended topology, SMT level then core level. */
static void topology_leaf(CPUX86State *env, uint32_t subleaf, uint32_t r[4])
{
    const CpuTopology *t = machine_topology();
    unsigned tb = topology_thread_bits(t), cb = topology_core_bits(t);
    r[ECX] = subleaf & 0xff;
    r[EDX] = initial_apic_id(env);
    if (subleaf == 0) {
        r[EAX] = tb;
        r[EBX] = t->threads;
        r[ECX] |= 1u << 8;                              /* level type: SMT */
    } else if (subleaf == 1) {
        r[EAX] = tb + cb;
        r[EBX] = t->threads * t->cores;
        r[ECX] |= 2u << 8;                              /* level type: core */
    }
}

/* Leaf 4: deterministic cache parameters. L1 and L2 belong to a core (shared
 * by its threads), L3 to the package. */
static void cache_leaf(uint32_t subleaf, uint32_t r[4])
{
    static const struct { uint8_t type, level; uint32_t ways, sets; } caches[] = {
        { 1, 1, 8, 64 },        /* L1d 32 KiB */
        { 2, 1, 8, 64 },        /* L1i 32 KiB */
        { 3, 2, 8, 512 },       /* L2 256 KiB */
        { 3, 3, 16, 8192 },     /* L3 8 MiB */
    };
    if (subleaf >= ARRAY_SIZE(caches))
        return;
    const CpuTopology *t = machine_topology();
    unsigned tb = topology_thread_bits(t), cb = topology_core_bits(t);
    uint32_t sharing = caches[subleaf].level == 3 ? (1u << (tb + cb)) - 1 : (1u << tb) - 1;
    r[EAX] = caches[subleaf].type | (uint32_t)caches[subleaf].level << 5 | 1u << 8 |
             sharing << 14 | ((1u << cb) - 1) << 26;
    r[EBX] = 63 | (caches[subleaf].ways - 1) << 22;
    r[ECX] = caches[subleaf].sets - 1;
    r[EDX] = caches[subleaf].level == 3 ? 2 : 0;    /* inclusive L3 */
}

/* Leaf 0xd: XSAVE layout. The legacy region (512 bytes) and header (64)
 * come first, AVX's upper halves at 576 (256 bytes). */
static void xsave_leaf(CPUX86State *env, uint32_t subleaf, uint32_t r[4])
{
    uint64_t supported = x86_xcr0_supported();
    uint64_t enabled = env ? env->xcr0 : 1;
    uint32_t max_size = (supported & 4) ? 832 : 576;

    if (subleaf == 0) {
        r[EAX] = (uint32_t)supported;
        r[EBX] = (enabled & 4) ? 832 : 576;
        r[ECX] = max_size;
        r[EDX] = (uint32_t)(supported >> 32);
    } else if (subleaf == 1) {
        r[EAX] = 1;                 /* XSAVEOPT (fxsave.c: saves as XSAVE does) */
    } else if (subleaf == 2 && (supported & 4)) {
        r[EAX] = 256;
        r[EBX] = 576;
    }
}

void x86_cpuid(CPUX86State *env, uint32_t leaf, uint32_t subleaf,
               uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    uint32_t r[4] = { 0, 0, 0, 0 };
    static const char brand[48] = "Kestrel Virtual CPU";

    if ((leaf > MAX_BASIC_LEAF && leaf < 0x80000000u) || leaf > MAX_EXT_LEAF)
        leaf = MAX_BASIC_LEAF;      /* Intel: out-of-range leaves repeat the last basic one */
    switch (leaf) {
    case 0:
        r[EAX] = MAX_BASIC_LEAF;
        memcpy(&r[EBX], "Genu", 4);
        memcpy(&r[EDX], "ineI", 4);
        memcpy(&r[ECX], "ntel", 4);
        break;
    case 1:
        r[EAX] = (MODEL >> 4) << 16 | FAMILY << 8 | (MODEL & 15) << 4 | STEPPING;
        r[EBX] = 8u << 8;                               /* CLFLUSH line: 64 bytes */
        r[EBX] |= initial_apic_id(env) << 24;
        apply_features(1, r);
        if (package_id_span() > 1) {                    /* several logical CPUs per package */
            r[EBX] |= MIN(package_id_span(), 255u) << 16;
            r[EDX] |= 1u << 28;                         /* HTT: EBX[23:16] is valid */
        }
        /* no local APIC, or globally disabled in IA32_APIC_BASE */
        if (env && env->vcpu && (!env->apic || !(env->apic_base & (1u << 11))))
            r[EDX] &= ~(1u << 9);
        if (env && (env->cr[4] & CR4_OSXSAVE))
            r[ECX] |= 1u << 27;
        /* what the local APIC model behind the hooks provides */
        if (env && env->apic && x86_apic_hooks && x86_apic_hooks->set_tsc_deadline)
            r[ECX] |= 1u << 24;
        if (x86_cpu_has_x2apic(env))
            r[ECX] |= 1u << 21;
        break;
    case 2:
        r[EAX] = 1;                                     /* one round, no descriptors: see leaf 4 */
        break;
    case 4:
        cache_leaf(subleaf, r);
        break;
    case 0xb:
        topology_leaf(env, subleaf, r);
        break;
    case 6:
        r[EAX] = 1u << 2;                               /* ARAT: the APIC timer never stops */
        break;
    case 7:
        if (subleaf == 0)
            apply_features(7, r);
        break;
    case 0xd:
        if (x86_cpu_has(X86_FEAT_XSAVE))
            xsave_leaf(env, subleaf, r);
        break;
    case 0x15:
        r[EAX] = 1;
        r[EBX] = (uint32_t)(X86_TSC_HZ / CRYSTAL_HZ);
        r[ECX] = CRYSTAL_HZ;
        break;
    case 0x16:
        r[EAX] = r[EBX] = (uint32_t)(X86_TSC_HZ / 1000000);    /* base and max MHz */
        r[ECX] = CRYSTAL_HZ / 1000000;                      /* bus MHz */
        break;
    case 0x80000000u:
        r[EAX] = MAX_EXT_LEAF;
        break;
    case 0x80000001u:
        apply_features(0x80000001u, r);
        break;
    case 0x80000002u: case 0x80000003u: case 0x80000004u:
        put_string(r, brand + 16 * (leaf - 0x80000002u));
        break;
    case 0x80000006u:
        r[ECX] = 256u << 16 | 6u << 12 | 64;            /* L2: 256 KiB, 8-way, 64-byte lines */
        break;
    case 0x80000007u:
        r[EDX] = 1u << 8;                               /* invariant TSC */
        break;
    case 0x80000008u:
        r[EAX] = 48u << 8 | 40;
        break;
    default:                                  /* 3, 5, 8-0xa, 0xc, 0xe-0x14, 0x80000005: zeros */
        break;
    }
    *eax = r[EAX];
    *ebx = r[EBX];
    *ecx = r[ECX];
    *edx = r[EDX];
}

void x86_cpuid_insn(CPUX86State *env)
{
    uint32_t a, b, c, d;
    x86_cpuid(env, (uint32_t)env->regs[R_EAX], (uint32_t)env->regs[R_ECX], &a, &b, &c, &d);
    env->regs[R_EAX] = a;
    env->regs[R_EBX] = b;
    env->regs[R_ECX] = c;
    env->regs[R_EDX] = d;
}

int x86_cpuid_entries(CPUX86State *env, X86CPUIDEntry *out, int max)
{
    int n = 0;
    uint32_t a, b, c, d;

    for (uint32_t leaf = 0; leaf <= MAX_EXT_LEAF; leaf++) {
        if (leaf == MAX_BASIC_LEAF + 1)
            leaf = 0x80000000u;
        bool indexed = leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd;
        uint32_t nsub = leaf == 4 ? 5 : leaf == 0xd ? 3 : leaf == 0xb ? 3 : 1;
        for (uint32_t sub = 0; sub < nsub && n < max; sub++) {
            x86_cpuid(env, leaf, sub, &a, &b, &c, &d);
            out[n++] = (X86CPUIDEntry){ leaf, sub, indexed, a, b, c, d };
        }
    }
    return n;
}
