/* CPUID under KVM: the CPU model's leaves (cpu/x86/cpuid.c), with the feature
 * bits the host KVM cannot provide removed (KVM_GET_SUPPORTED_CPUID). In a
 * build without the model, the host's supported leaves filtered down to
 * integer features: this project's KVM cannot run SSE/AVX guests.
 * IA32_ARCH_CAPABILITIES (leaf 7 EDX[29]) passes when KVM offers it; the MSR
 * is then KVM's own where KVM answers it, describing the host CPU the guest
 * really runs on, not the translator's "not affected" value (cpu/x86/msr.c).
 *
 * The MSRs that exist only with a CPUID bit and reach the CPU model on a
 * user-space exit are answered only when the CPUID the guest really sees
 * has the bit (kvm_msr_hidden): under the software kvm_pvm that is not the
 * table given to KVM but the host's own CPUID (see guest_cpuid_reg). */
#include "accel/kvm-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "cpu/x86/helpers.h"

#pragma weak x86_cpuid_entries

#define MAX_ENTRIES 256

typedef struct CpuidList {
    struct kvm_cpuid2 hdr;
    struct kvm_cpuid_entry2 e[MAX_ENTRIES];
} CpuidList;

static int get_supported(KVMState *s, CpuidList *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof(*l));
    l->hdr.nent = MAX_ENTRIES;
    if (ioctl(s->fd, KVM_GET_SUPPORTED_CPUID, l) < 0) {
        snprintf(err, errlen, "kvm: KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static const struct kvm_cpuid_entry2 *find(const CpuidList *l, uint32_t leaf, uint32_t sub)
{
    for (unsigned i = 0; i < l->hdr.nent; i++) {
        const struct kvm_cpuid_entry2 *e = &l->e[i];
        if (e->function == leaf &&
            (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == sub))
            return e;
    }
    return NULL;
}

/* Integer-only feature masks for the no-model fallback, per register. */
static const struct { uint32_t leaf, sub; uint32_t ebx, ecx, edx; } integer_only[] = {
    /* leaf 1: no SSE*, AVX, FMA, AES, PCLMUL, XSAVE, F16C, VMX, MONITOR */
    { 1, 0, ~0u, ~(1u << 0 | 1u << 1 | 1u << 3 | 1u << 5 | 1u << 9 | 1u << 12 | 1u << 19 |
                   1u << 20 | 1u << 25 | 1u << 26 | 1u << 27 | 1u << 28 | 1u << 29),
      ~(1u << 25 | 1u << 26) },
    /* leaf 7: FSGSBASE, BMI1, SMEP, BMI2, ERMS, INVPCID, ADX, SMAP, CLFLUSHOPT; UMIP, RDPID */
    { 7, 0, 1u << 0 | 1u << 3 | 1u << 7 | 1u << 8 | 1u << 9 | 1u << 10 | 1u << 19 | 1u << 20 |
            1u << 23,
      1u << 2 | 1u << 22, 0 },
    /* 0x80000001: LAHF_LM, ABM, PREFETCHW; no MMXEXT/3DNow! */
    { 0x80000001, 0, ~0u, 1u << 0 | 1u << 5 | 1u << 8, ~(1u << 22 | 1u << 30 | 1u << 31) },
};

static void filter_integer_only(struct kvm_cpuid_entry2 *e)
{
    for (unsigned i = 0; i < ARRAY_SIZE(integer_only); i++) {
        if (e->function == integer_only[i].leaf && e->index == integer_only[i].sub) {
            e->ebx &= integer_only[i].ebx;
            e->ecx &= integer_only[i].ecx;
            e->edx &= integer_only[i].edx;
        }
    }
    if (e->function == 1)
        e->ecx |= 1u << 31;                    /* running under a hypervisor */
    if (e->function == 0xd || e->function == 0x14)
        e->eax = e->ebx = e->ecx = e->edx = 0; /* XSAVE / trace leaves */
}

/* The leaves that hold feature flags: the model may only claim what KVM has. */
static bool is_feature_leaf(uint32_t leaf)
{
    return leaf == 1 || leaf == 7 || leaf == 0x80000001;
}

static int from_model(CPUX86State *env, const CpuidList *sup, CpuidList *out)
{
    static X86CPUIDEntry model[MAX_ENTRIES];
    int n = x86_cpuid_entries(env, model, MAX_ENTRIES);
    out->hdr.nent = 0;
    for (int i = 0; i < n; i++) {
        struct kvm_cpuid_entry2 *e = &out->e[out->hdr.nent++];
        *e = (struct kvm_cpuid_entry2){
            .function = model[i].leaf, .index = model[i].subleaf,
            .flags = model[i].has_subleaf ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
            .eax = model[i].eax, .ebx = model[i].ebx, .ecx = model[i].ecx, .edx = model[i].edx,
        };
        if (is_feature_leaf(e->function)) {
            const struct kvm_cpuid_entry2 *h = find(sup, e->function, e->index);
            bool keep_hv = e->function == 1 && (e->ecx & (1u << 31));
            e->ebx &= h ? h->ebx : 0;
            e->ecx &= h ? h->ecx : 0;
            e->edx &= h ? h->edx : 0;
            if (e->function == 1)
                e->ebx = model[i].ebx;        /* APIC ID, CLFLUSH size: not features */
            if (keep_hv)
                e->ecx |= 1u << 31;
        }
    }
    return 0;
}

static void set_apic_id(CpuidList *l, unsigned id)
{
    for (unsigned i = 0; i < l->hdr.nent; i++) {
        struct kvm_cpuid_entry2 *e = &l->e[i];
        if (e->function == 1)
            e->ebx = (e->ebx & 0x00ffffff) | (id << 24);
        if (e->function == 0xb || e->function == 0x1f)
            e->edx = id;
    }
}

/* The TSC-deadline timer needs the guest TSC at the model's rate. */
static void hide_tsc_deadline(CpuidList *l)
{
    for (unsigned i = 0; i < l->hdr.nent; i++)
        if (l->e[i].function == 1)
            l->e[i].ecx &= ~(1u << 24);
}

enum { EAX, EBX, ECX, EDX };

/* MSRs the CPU model answers on a user-space exit that exist only with a
 * CPUID feature bit. */
static const struct { uint32_t msr, leaf; uint8_t reg, bit; } gated_msrs[] = {
    { 0x10a, 7, EDX, 29 },      /* IA32_ARCH_CAPABILITIES */
};

static uint32_t entry_reg(const struct kvm_cpuid_entry2 *e, int reg)
{
    const uint32_t r[4] = { e->eax, e->ebx, e->ecx, e->edx };
    return r[reg];
}

/* What CPUID (leaf, subleaf 0) returns in the guest. KVM intercepts CPUID
 * and answers from the KVM_SET_CPUID2 table, but the software kvm_pvm runs
 * the guest kernel in ring 3 without CPUID faulting: the instruction runs
 * natively there and returns what it returns to Kestrel itself (a guest's
 * leaf 7 under kvm_pvm is the host's, not the table's: test-kvm checks). */
static uint32_t guest_cpuid_reg(const CpuidList *table, bool native, uint32_t leaf, int reg)
{
    if (native) {
#if defined(__x86_64__) || defined(__i386__)
        uint32_t r[4] = { 0 };
        if (__get_cpuid_max(leaf & 0x80000000u, NULL) >= leaf)
            __cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
        return r[reg];
#else
        return 0;
#endif
    }
    const struct kvm_cpuid_entry2 *e = find(table, leaf, 0);
    return e ? entry_reg(e, reg) : 0;
}

static uint32_t hidden_msr_mask(const CpuidList *table, bool native)
{
    uint32_t mask = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(gated_msrs); i++)
        if (!(guest_cpuid_reg(table, native, gated_msrs[i].leaf, gated_msrs[i].reg) >>
              gated_msrs[i].bit & 1))
            mask |= 1u << i;
    return mask;
}

bool kvm_msr_hidden(const KVMVCPU *v, uint32_t msr)
{
    for (unsigned i = 0; i < ARRAY_SIZE(gated_msrs); i++)
        if (gated_msrs[i].msr == msr)
            return v->hidden_msrs >> i & 1;
    return false;
}

int kvm_setup_cpuid(KVMState *s, KVMVCPU *v, CPUX86State *env, char *err, size_t errlen)
{
    static CpuidList sup, out;
    if (get_supported(s, &sup, err, errlen) < 0)
        return -1;
    if (x86_cpuid_entries) {
        from_model(env, &sup, &out);
    } else {
        out = sup;
        for (unsigned i = 0; i < out.hdr.nent; i++)
            filter_integer_only(&out.e[i]);
        set_apic_id(&out, v->cpu->index);
    }
    if (!s->tsc_scaled)
        hide_tsc_deadline(&out);
    if (ioctl(v->fd, KVM_SET_CPUID2, &out) < 0) {
        snprintf(err, errlen, "kvm: KVM_SET_CPUID2: %s", strerror(errno));
        return -1;
    }
    v->hidden_msrs = hidden_msr_mask(&out, kvm_pvm_loaded());
    return 0;
}
