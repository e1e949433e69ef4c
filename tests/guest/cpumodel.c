/* What the CPU model promises about itself, checked the way a guest sees it:
 * IA32_ARCH_CAPABILITIES (MSR 0x10A) is readable exactly when
 * CPUID.(EAX=7,ECX=0):EDX[29] says so and is read-only (#GP(0) on any
 * write, the value unchanged); RDPID (F3 0F C7 /7) exists exactly when
 * CPUID.(EAX=7,ECX=0):ECX[22] says so, returns IA32_TSC_AUX (as RDTSCP's
 * ECX does), ignores CR4.TSD at CPL 3, takes the last of F2/F3, ignores 66,
 * and has no memory or LOCK form (#UD). The expected value of the MSR is
 * the unit test's (test-x86-cpuid): under KVM it is the host's. */
#include "runtime.h"

#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_TSC_AUX 0xc0000103u
#define CR4_TSD 0x4u

static bool cpuid7_bit(int reg, int bit)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    if (r[0] < 7)
        return false;
    cpuid(7, 0, r);
    return (r[reg] >> bit) & 1;
}

/* The same lines whatever the CPU says (KVM's output must equal the
 * translator's): each check expects what the CPUID bit implies. */
static void test_arch_capabilities(void)
{
    bool has = cpuid7_bit(3, 29);
    uint32_t lo = 0, hi = 0, lo2 = 0, hi2 = 0;
    int v = TRY("rdmsr", : "=a"(lo), "=d"(hi) : "c"(MSR_ARCH_CAPABILITIES));
    TEST_TRUE("RDMSR 0x10A works iff CPUID.7:EDX[29] (else #GP)", has ? v == -1 : v == EXCP_GP);
    int w = TRY("wrmsr", :: "c"(MSR_ARCH_CAPABILITIES), "a"(lo), "d"(hi));
    TEST_TRUE("WRMSR 0x10A (its own value): #GP(0)", w == EXCP_GP && fault_error == 0);
    w = TRY("wrmsr", :: "c"(MSR_ARCH_CAPABILITIES), "a"(0), "d"(0));
    TEST_TRUE("WRMSR 0x10A (zero): #GP(0)", w == EXCP_GP && fault_error == 0);
    int v2 = TRY("rdmsr", : "=a"(lo2), "=d"(hi2) : "c"(MSR_ARCH_CAPABILITIES));
    TEST_TRUE("RDMSR 0x10A again: unchanged", v2 == v && (v != -1 || (lo2 == lo && hi2 == hi)));
}

/* RDPID EAX with the prefixes given in front of F3 0F C7 F8 (or in its
 * place); EAX starts as 0xdeadbeef. */
#define RDPID_AS(bytes, out) TRY("mov $0xdeadbeef, %%eax\n\t.byte " bytes, : "=a"(out))

static bool rdpid_ok(bool has, int vec, uint32_t got, uint32_t want)
{
    return has ? vec == -1 && got == want : vec == EXCP_UD;
}

static volatile int user_rdpid_vec, user_rdtsc_vec;
static volatile uint32_t user_rdpid_val;

static void user_rdpid(void)
{
    uint32_t id = 0;
    user_rdpid_vec = RDPID_AS("0xf3, 0x0f, 0xc7, 0xf8", id);
    user_rdpid_val = id;
    user_rdtsc_vec = TRY("rdtsc", ::: "eax", "edx");
}

static void test_rdpid(void)
{
    bool has = cpuid7_bit(2, 22);
    uint32_t id = 0, aux = 0, esi = 0;
    wrmsr(MSR_TSC_AUX, 0x00c0ffee);
    int v = RDPID_AS("0xf3, 0x0f, 0xc7, 0xf8", id);
    TEST_TRUE("RDPID EAX = IA32_TSC_AUX iff CPUID.7:ECX[22] (else #UD)", rdpid_ok(has, v, id, 0x00c0ffee));
    uint32_t r[4];
    cpuid(0x80000001u, 0, r);
    v = TRY("rdtscp", : "=c"(aux) :: "eax", "edx");
    TEST_TRUE("RDTSCP ECX = IA32_TSC_AUX (when it has RDTSCP)",
              (r[3] >> 27) & 1 ? v == -1 && aux == 0x00c0ffee : v == EXCP_UD);
    v = TRY("mov $0xdeadbeef, %%esi\n\t.byte 0xf3, 0x0f, 0xc7, 0xfe", : "=S"(esi));
    TEST_TRUE("RDPID ESI", rdpid_ok(has, v, esi, 0x00c0ffee));
    v = RDPID_AS("0x66, 0xf3, 0x0f, 0xc7, 0xf8", id);
    TEST_TRUE("66 RDPID: still 32 bits", rdpid_ok(has, v, id, 0x00c0ffee));
    v = RDPID_AS("0xf2, 0xf3, 0x0f, 0xc7, 0xf8", id);
    TEST_TRUE("F2 F3 RDPID: F3 last, RDPID", rdpid_ok(has, v, id, 0x00c0ffee));
    v = RDPID_AS("0xf3, 0xf2, 0x0f, 0xc7, 0xf8", id);
    TEST_EQ("F3 F2 0F C7 /7: #UD", v, EXCP_UD);
    v = RDPID_AS("0xf0, 0xf3, 0x0f, 0xc7, 0xf8", id);
    TEST_EQ("LOCK RDPID: #UD", v, EXCP_UD);
    v = TRY(".byte 0xf3, 0x0f, 0xc7, 0x38", :: "a"(0x100000) : "memory");
    TEST_EQ("RDPID with a memory operand: #UD", v, EXCP_UD);

    /* CR4.TSD stops RDTSC at CPL 3, not RDPID */
    wrmsr(MSR_TSC_AUX, 7);
    write_cr4(read_cr4() | CR4_TSD);
    run_user(user_rdpid);
    write_cr4(read_cr4() & ~CR4_TSD);
    TEST_TRUE("RDPID at CPL 3 with CR4.TSD", rdpid_ok(has, user_rdpid_vec, user_rdpid_val, 7));
    TEST_EQ("RDTSC at CPL 3 with CR4.TSD: #GP", user_rdtsc_vec, EXCP_GP);

    v = TRY("wrmsr", :: "c"(MSR_TSC_AUX), "a"(0), "d"(1));
    TEST_EQ("WRMSR TSC_AUX bits 63:32: #GP", v, EXCP_GP);
}

void test_main(void)
{
    test_arch_capabilities();
    test_rdpid();
}
