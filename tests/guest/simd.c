/* x87, MMX and SSE in 32-bit protected mode, with the exceptions delivered
 * through the IDT: CPUID bits, CR0.EM/TS/NE/MP and CR4.OSFXSR/OSXMMEXCPT/
 * OSXSAVE, #NM, #UD, #XM, deferred #MF, alignment #GP, FXSAVE/FXRSTOR,
 * XSAVE/XRSTOR/XGETBV/XSETBV, FNSAVE/FRSTOR and FNSTENV formats, and a few
 * results computed both ways (known IEEE bit patterns). */
#include "runtime.h"

#define EXCP_MF 16
#define EXCP_XM 19
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)

static uint8_t area[1024] __attribute__((aligned(64)));
static uint64_t q[4] __attribute__((aligned(16)));
static uint32_t d32;
static uint16_t w16;

static void test_cpuid(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    TEST_EQ("CPUID.1 EDX: fpu mmx fxsr sse sse2", r[3] & 0x07800001u, 0x07800001u);
    TEST_EQ("CPUID.1 ECX: sse3 ssse3 sse4.1 sse4.2 popcnt xsave cx16", r[2] & 0x04982201u, 0x04982201u);
    TEST_EQ("CPUID.1 ECX: no avx", r[2] & (1u << 28), 0);
    cpuid(0xd, 0, r);
    TEST_EQ("CPUID.D.0 EAX: x87 + SSE", r[0], 3);
    TEST_EQ("CPUID.D.0 ECX: 576 bytes", r[2], 576);
}

static void enable_sse(void)
{
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    asm volatile("fninit");
    d32 = 0x1f80;
    asm volatile("ldmxcsr %0" :: "m"(d32));
}

static void test_results(void)
{
    /* x87: sqrt(2) to m64, 1/3 in extended precision rounded to m64 */
    d32 = 2;
    asm volatile("fildl %1; fsqrt; fstpl %0" : "=m"(q[0]) : "m"(d32));
    TEST_EQ("FSQRT 2 -> m64", q[0], 0x3ff6a09e667f3bcdULL);
    asm volatile("fld1; fildl %1; fdivrp; fstpl %0" : "=m"(q[0]) : "m"(d32));
    TEST_EQ("1/2 via FDIVRP", q[0], 0x3fe0000000000000ULL);
    d32 = 3;
    asm volatile("fld1; fildl %1; fdivrp; fstpl %0" : "=m"(q[0]) : "m"(d32));
    TEST_EQ("1/3 via x87 -> m64", q[0], 0x3fd5555555555555ULL);
    asm volatile("fldpi; fistpl %0" : "=m"(d32));
    TEST_EQ("FISTP pi", d32, 3);
    asm volatile("fnstsw %0" : "=m"(w16));
    TEST_EQ("stack empty again: TOP 0", (w16 >> 11) & 7, 0);

    /* SSE2: 1/3 and a packed integer add */
    q[0] = 0x3ff0000000000000ULL;
    q[1] = 0x4008000000000000ULL;
    asm volatile("movsd %0, %%xmm0; divsd %1, %%xmm0; movsd %%xmm0, %0" : "+m"(q[0]) : "m"(q[1]));
    TEST_EQ("DIVSD 1/3", q[0], 0x3fd5555555555555ULL);
    q[0] = 0x00ff00ff7fffffffULL;
    q[1] = 0x0101010101010101ULL;
    q[2] = 0x0101010101010101ULL;
    q[3] = 0xffffffffffffffffULL;
    asm volatile("movdqa q, %%xmm1; paddb q+16, %%xmm1; movdqa %%xmm1, q" ::: "memory");
    TEST_EQ("PADDB low", q[0], 0x0100010080000000ULL);
    TEST_EQ("PADDB high (wraps)", q[1], 0);
    d32 = (uint32_t)-7;
    asm volatile("cvtsi2sd %1, %%xmm2; cvttsd2si %%xmm2, %%eax; mov %%eax, %0" : "=m"(d32) : "m"(d32) : "eax");
    TEST_EQ("CVTSI2SD/CVTTSD2SI round trip", d32, (uint32_t)-7);
    /* MMX */
    q[0] = 0x0001000200030004ULL;
    asm volatile("movq %0, %%mm0; pmaddwd %%mm0, %%mm0; movq %%mm0, %0; emms" : "+m"(q[0]));
    TEST_EQ("PMADDWD mm", q[0], ((uint64_t)(1 + 4) << 32) | (9 + 16));
}

static void test_availability(void)
{
    write_cr0(read_cr0() | CR0_TS);
    TEST_EQ("CR0.TS: SSE #NM", TRY("addps %xmm1, %xmm0"), EXCP_NM);
    TEST_EQ("CR0.TS: x87 #NM", TRY("fld1"), EXCP_NM);
    TEST_EQ("CR0.TS+MP: FWAIT #NM", TRY("fwait"), EXCP_NM);
    asm volatile("clts");
    write_cr0(read_cr0() | CR0_EM);
    TEST_EQ("CR0.EM: SSE #UD", TRY("addps %xmm1, %xmm0"), EXCP_UD);
    TEST_EQ("CR0.EM: MMX #UD", TRY("paddb %mm1, %mm0"), EXCP_UD);
    TEST_EQ("CR0.EM: x87 #NM", TRY("fld1"), EXCP_NM);
    write_cr0(read_cr0() & ~CR0_EM);
    write_cr4(read_cr4() & ~CR4_OSFXSR);
    TEST_EQ("CR4.OSFXSR clear: SSE #UD", TRY("addps %xmm1, %xmm0"), EXCP_UD);
    TEST_EQ("CR4.OSFXSR clear: MMX runs", TRY("paddb %mm1, %mm0; emms"), -1);
    write_cr4(read_cr4() | CR4_OSFXSR);
    TEST_EQ("MOVDQA misaligned: #GP", TRY("movdqa area+1, %xmm0"), EXCP_GP);
    TEST_EQ("MOVDQU misaligned: fine", TRY("movdqu area+1, %xmm0"), -1);
}

static void test_exceptions(void)
{
    /* #XM: unmasked divide-by-zero */
    d32 = 0x1f80 & ~0x200;
    asm volatile("ldmxcsr %0" :: "m"(d32));
    q[0] = 0x3f800000;
    q[1] = 0;
    asm volatile("movss %0, %%xmm0; movss %1, %%xmm1" :: "m"(q[0]), "m"(q[1]));
    TEST_EQ("DIVSS by 0 unmasked: #XM", TRY("divss %xmm1, %xmm0"), EXCP_XM);
    asm volatile("stmxcsr %0; movss %%xmm0, %1" : "=m"(d32), "=m"(q[2]));
    TEST_EQ("MXCSR.ZE set", d32 & 4, 4);
    TEST_EQ("destination unchanged", (uint32_t)q[2], 0x3f800000);
    write_cr4(read_cr4() & ~CR4_OSXMMEXCPT);
    TEST_EQ("without OSXMMEXCPT: #UD", TRY("divss %xmm1, %xmm0"), EXCP_UD);
    write_cr4(read_cr4() | CR4_OSXMMEXCPT);
    d32 = 0x1f80;
    asm volatile("ldmxcsr %0" :: "m"(d32));
    d32 = 0x10000;
    TEST_EQ("LDMXCSR reserved bit: #GP", TRY("ldmxcsr d32"), EXCP_GP);

    /* #MF: reported by the next waiting instruction */
    w16 = 0x37f & ~4;
    asm volatile("fninit; fldcw %0" :: "m"(w16));
    TEST_EQ("FDIV by 0 (ZM clear) completes", TRY("fldz; fld1; fdivp"), -1);
    TEST_EQ("next waiting instruction: #MF", TRY("fwait"), EXCP_MF);
    asm volatile("fnstsw %0" : "=m"(w16));
    TEST_EQ("FSW: ES and ZE", w16 & 0x84, 0x84);
    TEST_EQ("FNCLEX does not wait", TRY("fnclex"), -1);
    TEST_EQ("after FNCLEX: no #MF", TRY("fwait"), -1);
    /* stack underflow, masked: IE + SF, C1 = 0, the indefinite */
    asm volatile("fninit; fstpl %0; fnstsw %1" : "=m"(q[0]), "=m"(w16));
    TEST_EQ("underflow: IE SF", w16 & 0x241, 0x41);
    TEST_EQ("underflow: stores the indefinite", q[0], 0xfff8000000000000ULL);
    asm volatile("fninit");
}

static void test_save_restore(void)
{
    /* FXSAVE/FXRSTOR, 32-bit layout */
    q[0] = 0x1122334455667788ULL;
    q[1] = 0x99aabbccddeeff00ULL;
    asm volatile("fninit; fld1; fldpi; movdqa %0, %%xmm7; fxsave area" :: "m"(q[0]) : "memory");
    TEST_EQ("FXSAVE FCW", *(uint16_t *)&area[0], 0x37f);
    TEST_EQ("FXSAVE TOP", (*(uint16_t *)&area[2] >> 11) & 7, 6);
    TEST_EQ("FXSAVE abridged tags", area[4], 0xc0);
    TEST_EQ("FXSAVE MXCSR", *(uint32_t *)&area[24], 0x1f80);
    TEST_EQ("FXSAVE ST0 = pi", *(uint64_t *)&area[32], 0xc90fdaa22168c235ULL);
    TEST_EQ("FXSAVE XMM7", *(uint64_t *)&area[160 + 7 * 16], 0x1122334455667788ULL);
    asm volatile("fninit; pxor %%xmm7, %%xmm7; fxrstor area; movdqa %%xmm7, %0; fstpl %1"
                 : "=m"(q[2]), "=m"(q[0]) :: "memory");
    TEST_EQ("FXRSTOR XMM7", q[3], 0x99aabbccddeeff00ULL);
    TEST_EQ("FXRSTOR ST0 = pi", q[0], 0x400921fb54442d18ULL);
    TEST_EQ("FXSAVE misaligned: #GP", TRY("fxsave area+8"), EXCP_GP);
    *(uint32_t *)&area[24] = 0x40000;
    TEST_EQ("FXRSTOR reserved MXCSR: #GP", TRY("fxrstor area"), EXCP_GP);

    /* FNSAVE (32-bit) / FRSTOR and the 16-bit FNSTENV */
    w16 = 0x27f;
    asm volatile("fninit; fldcw %1; fld1; fnsave area; fnstcw %0" : "=m"(d32) : "m"(w16) : "memory");
    TEST_EQ("FNSAVE reinitialises: FCW", d32 & 0xffff, 0x37f);
    TEST_EQ("FNSAVE image: FCW", *(uint16_t *)&area[0], 0x27f);
    TEST_EQ("FNSAVE FTW: ST0 valid", *(uint16_t *)&area[8], 0x3fff);
    TEST_EQ("FNSAVE ST0 = 1.0 exponent", *(uint16_t *)&area[28 + 8], 0x3fff);
    asm volatile("frstor area; fstpl %0" : "=m"(q[0]) :: "memory");
    TEST_EQ("FRSTOR then FSTP", q[0], 0x3ff0000000000000ULL);
    asm volatile("fninit; fld1; data16 fnstenv area; fninit" ::: "memory");
    TEST_EQ("FNSTENV 16-bit: FCW", *(uint16_t *)&area[0], 0x37f);
    TEST_EQ("FNSTENV 16-bit: FTW", *(uint16_t *)&area[4], 0xffff & ~(3u << 14));
    TEST_EQ("FNSTENV 16-bit: FIP", *(uint16_t *)&area[6] != 0, 1);

    /* XSAVE/XRSTOR */
    TEST_EQ("XSAVE without OSXSAVE: #UD", TRY("xsave area", :: "a"(3), "d"(0)), EXCP_UD);
    write_cr4(read_cr4() | CR4_OSXSAVE);
    uint32_t r[4];
    cpuid(1, 0, r);
    TEST_EQ("CPUID.1 ECX.OSXSAVE follows CR4", (r[2] >> 27) & 1, 1);
    asm volatile("xsetbv" :: "c"(0), "a"(3), "d"(0));
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    TEST_EQ("XGETBV XCR0", lo, 3);
    TEST_EQ("XSETBV without x87: #GP", TRY("xsetbv", :: "c"(0), "a"(2), "d"(0)), EXCP_GP);
    memset(area, 0, sizeof(area));
    asm volatile("fninit; fldpi; movdqa %0, %%xmm5; xsave area" :: "m"(q[0]), "a"(3), "d"(0) : "memory");
    TEST_EQ("XSAVE XSTATE_BV", *(uint64_t *)&area[512], 3);
    asm volatile("fninit; pxor %%xmm5, %%xmm5; xrstor area; movdqa %%xmm5, %0; fstpl %1"
                 : "=m"(q[2]), "=m"(q[1]) : "a"(3), "d"(0) : "memory");
    TEST_EQ("XRSTOR XMM5", q[2], q[0]);
    TEST_EQ("XRSTOR ST0 = pi", q[1], 0x400921fb54442d18ULL);
    area[512] = 0;      /* XSTATE_BV = 0: initial state */
    asm volatile("xrstor area; fnstcw %0" : "=m"(w16) : "a"(3), "d"(0) : "memory");
    TEST_EQ("XRSTOR init: FCW", w16, 0x37f);
    TEST_EQ("XRSTOR misaligned: #GP", TRY("xrstor area+16", :: "a"(3), "d"(0)), EXCP_GP);
}

void test_main(void)
{
    test_cpuid();
    enable_sse();
    test_results();
    test_availability();
    test_exceptions();
    test_save_restore();
}
