/* The kestrel64 CPUID model and the MSRs: vendor, brand, address sizes, the
 * feature table agreeing with x86_cpu_has, #GP on unknown MSRs, TSC. */
#include "tests/unit/test-x86-fixture.h"
#include "system/timer.h"

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    x86_cpuid(NULL, leaf, sub, &r[0], &r[1], &r[2], &r[3]);
}

TEST(vendor_and_brand)
{
    uint32_t r[4];
    char vendor[13] = { 0 }, brand[49] = { 0 };
    cpuid(0, 0, r);
    CHECK(r[0] >= 7);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    CHECK(strcmp(vendor, "GenuineIntel") == 0);
    for (uint32_t i = 0; i < 3; i++) {
        cpuid(0x80000002 + i, 0, r);
        memcpy(brand + 16 * i, r, 16);
    }
    CHECK(strcmp(brand, "Kestrel Virtual CPU") == 0);
    cpuid(0x80000008, 0, r);
    CHECK_EQ(r[0] & 0xff, 40);
    CHECK_EQ((r[0] >> 8) & 0xff, 48);
    cpuid(0x80000000, 0, r);
    CHECK_EQ(r[0], 0x80000008);
}

TEST(features_match_table)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    CHECK_EQ(!!(r[3] & (1u << 6)), x86_cpu_has(X86_FEAT_PAE));
    CHECK_EQ(!!(r[3] & (1u << 11)), x86_cpu_has(X86_FEAT_SEP));
    CHECK_EQ(!!(r[3] & (1u << 0)), x86_cpu_has(X86_FEAT_FPU));
    CHECK(r[2] & (1u << 31));                 /* hypervisor */
    CHECK_EQ((r[0] >> 8) & 15, 6);            /* family 6 */
    cpuid(0x80000001, 0, r);
    CHECK(r[3] & (1u << 29));                 /* lm */
    CHECK(r[3] & (1u << 20));                 /* nx */
    CHECK_EQ(!!(r[3] & (1u << 27)), x86_cpu_has(X86_FEAT_RDTSCP));
    cpuid(7, 0, r);
    CHECK_EQ(!!(r[1] & (1u << 7)), x86_cpu_has(X86_FEAT_SMEP));
    CHECK_EQ(!!(r[1] & (1u << 20)), x86_cpu_has(X86_FEAT_SMAP));
    /* out-of-range leaves repeat the highest basic leaf */
    uint32_t hi[4];
    cpuid(0, 0, r);
    cpuid(r[0], 0, hi);
    cpuid(0x40000000, 0, r);
    CHECK(memcmp(r, hi, sizeof(r)) == 0);
}

TEST(entries_for_kvm)
{
    X86CPUIDEntry e[64];
    int n = x86_cpuid_entries(NULL, e, 64);
    CHECK(n > 10);
    bool saw_leaf4_sub2 = false, saw_ext8 = false;
    for (int i = 0; i < n; i++) {
        uint32_t r[4];
        cpuid(e[i].leaf, e[i].subleaf, r);
        CHECK_EQ(r[0], e[i].eax);
        CHECK_EQ(r[3], e[i].edx);
        saw_leaf4_sub2 |= e[i].leaf == 4 && e[i].subleaf == 2 && e[i].has_subleaf;
        saw_ext8 |= e[i].leaf == 0x80000008;
    }
    CHECK(saw_leaf4_sub2);
    CHECK(saw_ext8);
}

TEST(cpuid_instruction)
{
    fixture();
    env.regs[R_EAX] = 0x80000008;
    x86_cpuid_insn(&env);
    CHECK_EQ(env.regs[R_EAX], 0x3028);
    CHECK_EQ(env.regs[R_EDX], 0);
}

TEST(msr_unknown_and_reserved)
{
    uint64_t v;
    fixture();
    CHECK_EQ(x86_msr_read(&env, 0x12345678, &v), -1);
    CHECK_EQ(x86_msr_write(&env, 0xc0000080, 1u << 20), -1);       /* EFER reserved */
    CHECK_EQ(x86_msr_write(&env, 0xc0000082, 0x0000800000000000ULL), -1); /* LSTAR non-canonical */
    CHECK_EQ(x86_msr_write(&env, 0x277, 0x0202020202020202ULL), -1); /* PAT type 2 */
    CHECK_EQ(x86_msr_write(&env, 0xfe, 0), -1);                     /* MTRRcap read-only */
    CHECK_EQ(x86_msr_write(&env, 0xc0000102, 0xffff800000001000ULL), 0);
    CHECK_EQ(x86_msr_read(&env, 0xc0000102, &v), 0);
    CHECK_EQ(v, 0xffff800000001000ULL);
    CHECK_EQ(x86_msr_write(&env, 0xc0000100, 0x1234000), 0);        /* FS base */
    CHECK_EQ(env.segs[R_FS].base, 0x1234000);
    CHECK_EQ(x86_msr_write(&env, 0x20f, 0xfff000800), 0);           /* MTRR mask 7 */
    CHECK_EQ(env.mtrr_var[15], 0xfff000800);
    CHECK_EQ(x86_msr_read(&env, 0x1b, &v), 0);
    CHECK_EQ(v & ~0xfffULL, 0xfee00000);
    CHECK(v & (1u << 8));                                           /* BSP */
    CHECK_EQ(x86_msr_read(&env, 0x277, &v), 0);
    CHECK_EQ(v, 0x0007040600070406ULL);
    /* RDMSR/WRMSR raise #GP */
    env.regs[R_ECX] = 0x12345678;
    EXPECT_EXC(x86_rdmsr(&env, 0), EXCP_GP, 0);
    env.regs[R_ECX] = 0xc0000081;
    env.regs[R_EAX] = 0x11112222;
    env.regs[R_EDX] = 0x00230010;
    EXPECT_OK(x86_wrmsr(&env, 0));
    CHECK_EQ(env.star, 0x0023001011112222ULL);
    env.regs[R_EAX] = env.regs[R_EDX] = 0;
    EXPECT_OK(x86_rdmsr(&env, 0));
    CHECK_EQ(env.regs[R_EAX], 0x11112222);
    CHECK_EQ(env.regs[R_EDX], 0x00230010);
}

/* IA32_ARCH_CAPABILITIES: advertised in CPUID.7.0:EDX[29], read-only, the
 * documented "not affected" bits (cpu/x86/cpuid.c): RDCL_NO, SSB_NO, MDS_NO,
 * IF_PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO, BHI_NO,
 * PBRSB_NO, GDS_NO, RFDS_NO, ITS_NO. */
TEST(msr_arch_capabilities)
{
    uint32_t a, b, c, d;
    uint64_t v;
    fixture();
    x86_cpuid(&env, 7, 0, &a, &b, &c, &d);
    CHECK(d & (1u << 29));
    CHECK_EQ(x86_msr_read(&env, 0x10a, &v), 0);
    CHECK_EQ(v, 0x400000000d10e171ULL);
    CHECK_EQ(x86_msr_write(&env, 0x10a, v), -1);
    CHECK_EQ(x86_msr_write(&env, 0x10a, 0), -1);
    env.regs[R_ECX] = 0x10a;
    env.regs[R_EAX] = env.regs[R_EDX] = 0;
    EXPECT_OK(x86_rdmsr(&env, 0));
    CHECK_EQ(env.regs[R_EAX], 0x0d10e171);
    CHECK_EQ(env.regs[R_EDX], 0x40000000);
    EXPECT_EXC(x86_wrmsr(&env, 0), EXCP_GP, 0);
}

TEST(tsc)
{
    fixture();
    uint64_t a = x86_get_tsc(&env);
    CHECK_EQ(x86_msr_write(&env, 0x10, 1000000000000ULL), 0);
    uint64_t b = x86_get_tsc(&env);
    CHECK(b >= 1000000000000ULL);
    CHECK(b < 1000000000000ULL + 1000000000000ULL);    /* virtual time, loosely */
    (void)a;
    /* CR4.TSD: RDTSC at CPL 3 faults */
    x86_set_cr4(&env, CR4_TSD);
    EXPECT_OK(x86_rdtsc(&env, 0));
    env.cr[0] |= CR0_PE;
    env.segs[R_SS].flags |= 3u << DESC_DPL_SHIFT;
    x86_update_hflags(&env);
    EXPECT_EXC(x86_rdtsc(&env, 0), EXCP_GP, 0);
}

TEST(reset_state)
{
    fixture();
    CHECK_EQ(env.rip, 0xfff0);
    CHECK_EQ(env.segs[R_CS].base, 0xffff0000);
    CHECK_EQ(env.cr[0], 0x60000010);
    CHECK_EQ(x86_get_eflags(&env), 2);
    CHECK_EQ(env.dr[6], 0xffff0ff0);
    CHECK_EQ(env.dr[7], 0x400);
    uint32_t r[4];
    cpuid(1, 0, r);
    CHECK_EQ(env.regs[R_EDX], r[0]);
    CHECK_EQ(env.hflags & (HF_PE_MASK | HF_CPL_MASK | HF_CS32_MASK), 0);
    /* eflags round trip through the lazy flags */
    x86_set_eflags(&env, CC_C | CC_Z | CC_O | DF_MASK | IF_MASK, ~0u);
    CHECK_EQ(x86_get_eflags(&env), CC_C | CC_Z | CC_O | DF_MASK | IF_MASK | 2);
    x86_set_eflags(&env, 0, CC_Z);
    CHECK_EQ(x86_get_eflags(&env), CC_C | CC_O | DF_MASK | IF_MASK | 2);
}

TEST(dump_state)
{
    fixture();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    REQUIRE(f != NULL);
    x86_cpu_dump_state(&env, f);
    fclose(f);
    CHECK(strstr(buf, "EIP=0000fff0") != NULL);
    CHECK(strstr(buf, "CS =f000 ffff0000 0000ffff") != NULL);
    free(buf);
}

TEST(eflags_reserved_bits_stay_clear)
{
    fixture();
    x86_set_eflags(&env, 0xffffffffu, ~0u);
    CHECK_EQ(x86_get_eflags(&env), 0x003f7fd7u);
    x86_set_eflags(&env, 0, ~0u);
    CHECK_EQ(x86_get_eflags(&env), 2);
}

TEST(xsetbv)
{
    fixture();
    env.regs[R_ECX] = 0;
    env.regs[R_EAX] = 3;
    env.regs[R_EDX] = 0;
    EXPECT_EXC(x86_xsetbv(&env, 0), EXCP_UD, 0);          /* CR4.OSXSAVE clear */
    x86_set_cr4(&env, CR4_OSXSAVE);
    EXPECT_OK(x86_xsetbv(&env, 0));
    CHECK_EQ(env.xcr0, 3);
    env.regs[R_EAX] = 2;                                  /* x87 bit must stay */
    EXPECT_EXC(x86_xsetbv(&env, 0), EXCP_GP, 0);
    env.regs[R_EAX] = 1 | 0x80;                           /* unsupported component */
    EXPECT_EXC(x86_xsetbv(&env, 0), EXCP_GP, 0);
    env.regs[R_EAX] = 1;
    env.regs[R_ECX] = 1;
    EXPECT_EXC(x86_xsetbv(&env, 0), EXCP_GP, 0);
    CHECK_EQ(env.xcr0, 3);
}

TEST(tsc_frequency_leaves)
{
    uint32_t r[4];
    cpuid(0x15, 0, r);
    REQUIRE(r[0] != 0);
    CHECK_EQ((uint64_t)r[2] * r[1] / r[0], X86_TSC_HZ);
    cpuid(0x16, 0, r);
    CHECK_EQ(r[0], X86_TSC_HZ / 1000000);
}
