/* FXSAVE/FXRSTOR and XSAVE/XRSTOR for the x87 and SSE state components,
 * XSETBV. The legacy 512-byte region (SDM vol. 1, 10.5.1):
 *     0 FCW, 2 FSW, 4 abridged FTW (1 = valid), 6 FOP,
 *     8 FIP, 12 FCS, 16 FDP, 20 FDS (FXSAVE64: 8 FIP[63:0], 16 FDP[63:0]),
 *    24 MXCSR, 28 MXCSR_MASK, 32 + 16i ST(i), 160 + 16i XMMi.
 * XSAVE adds the 64-byte header at 512 (XSTATE_BV, XCOMP_BV, zeros).
 * Bytes 464..511 belong to software and are never written; XMM8-15 only in
 * 64-bit mode. */
#include <string.h>
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/simd.h"

#define XFEATURE_X87 1u
#define XFEATURE_SSE 2u
#define XSAVE_HEADER 512

static unsigned nxmm(uint64_t desc) { return (desc & XSAVE_DESC_CODE64) ? 16 : 8; }

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void x87_to_image(CPUX86State *env, uint8_t *img, uint64_t desc)
{
    put16(img + 0, env->fpuc);
    put16(img + 2, x87_status_word(env));
    img[4] = (uint8_t)~env->fptags;
    img[5] = 0;
    put16(img + 6, env->fpop & 0x7ff);
    if (desc & XSAVE_DESC_REXW) {
        put64(img + 8, env->fpip);
        put64(img + 16, env->fpdp);
    } else {
        put32(img + 8, (uint32_t)env->fpip);
        put32(img + 12, env->fpcs);
        put32(img + 16, (uint32_t)env->fpdp);
        put32(img + 20, env->fpds);
    }
    for (unsigned i = 0; i < 8; i++) {
        const Float80 *r = &env->fpregs[(env->fpstt + i) & 7];
        memset(img + 32 + 16 * i, 0, 16);
        put64(img + 32 + 16 * i, r->mant);
        put16(img + 40 + 16 * i, r->sexp);
    }
}

static void x87_from_image(CPUX86State *env, const uint8_t *img, uint64_t desc)
{
    env->fpuc = (get16(img + 0) & 0x1f7f) | 0x40;   /* bit 6 reads as 1 */
    x87_load_status_word(env, get16(img + 2));
    env->fptags = (uint8_t)~img[4];
    env->fpop = get16(img + 6) & 0x7ff;
    if (desc & XSAVE_DESC_REXW) {
        env->fpip = get64(img + 8);
        env->fpdp = get64(img + 16);
    } else {
        env->fpip = get32(img + 8);
        env->fpcs = get16(img + 12);
        env->fpdp = get32(img + 16);
        env->fpds = get16(img + 20);
    }
    for (unsigned i = 0; i < 8; i++) {
        Float80 *r = &env->fpregs[(env->fpstt + i) & 7];
        r->mant = get64(img + 32 + 16 * i);
        r->sexp = get16(img + 40 + 16 * i);
    }
}

static void mxcsr_to_image(CPUX86State *env, uint8_t *img)
{
    put32(img + 24, env->mxcsr);
    put32(img + 28, MXCSR_MASK);
}

static void xmm_to_image(CPUX86State *env, uint8_t *img, uint64_t desc)
{
    for (unsigned i = 0; i < nxmm(desc); i++)
        memcpy(img + 160 + 16 * i, &env->xmm[i], 16);
}

static void xmm_from_image(CPUX86State *env, const uint8_t *img, uint64_t desc)
{
    for (unsigned i = 0; i < nxmm(desc); i++)
        memcpy(&env->xmm[i], img + 160 + 16 * i, 16);
}

static void check_align(CPUX86State *env, uint64_t addr, unsigned align, uintptr_t ra)
{
    if (addr & (align - 1))
        x86_raise_exception(env, EXCP_GP, 0, ra);
}

static void check_stack_canonical(CPUX86State *env, uint64_t addr, uint64_t desc, uintptr_t ra)
{
    if ((desc & XSAVE_DESC_STACK) && !x86_is_canonical(env, addr))
        x86_raise_exception(env, EXCP_SS, 0, ra);
}

void helper_fxsave(CPUX86State *env, uint64_t addr, uint64_t desc)
{
    uintptr_t ra = GETPC();
    check_stack_canonical(env, addr, desc, ra);
    uint8_t img[416];
    check_align(env, addr, 16, ra);
    memset(img, 0, sizeof(img));
    x87_to_image(env, img, desc);
    mxcsr_to_image(env, img);
    xmm_to_image(env, img, desc);
    cpu_st_buf(env, addr, img, 160 + 16 * nxmm(desc), x86_mmu_index(env), ra);
}

void helper_fxrstor(CPUX86State *env, uint64_t addr, uint64_t desc)
{
    uintptr_t ra = GETPC();
    check_stack_canonical(env, addr, desc, ra);
    uint8_t img[416];
    check_align(env, addr, 16, ra);
    cpu_ld_buf(env, addr, img, 160 + 16 * nxmm(desc), x86_mmu_index(env), ra);
    uint32_t mxcsr = get32(img + 24);
    if (mxcsr & ~MXCSR_MASK)
        x86_raise_exception(env, EXCP_GP, 0, ra);
    x87_from_image(env, img, desc);
    env->mxcsr = mxcsr;
    xmm_from_image(env, img, desc);
}

static uint64_t rfbm(CPUX86State *env)
{
    return env->xcr0 & ((uint32_t)env->regs[R_EAX] | env->regs[R_EDX] << 32);
}

static void check_xsave_enabled(CPUX86State *env, uintptr_t ra)
{
    if (!(env->cr[4] & CR4_OSXSAVE))
        x86_raise_exception(env, EXCP_UD, 0, ra);
}

void helper_xsave(CPUX86State *env, uint64_t addr, uint64_t desc)
{
    uintptr_t ra = GETPC();
    int idx = x86_mmu_index(env);
    check_xsave_enabled(env, ra);
    check_stack_canonical(env, addr, desc, ra);
    check_align(env, addr, 64, ra);
    uint64_t mask = rfbm(env);
    uint8_t img[416];
    memset(img, 0, sizeof(img));
    /* Everything is read (and all pages probed) before anything is written. */
    uint64_t bv = cpu_ld(env, addr + XSAVE_HEADER, 8, idx, ra);
    if (mask & (XFEATURE_X87 | XFEATURE_SSE))
        cpu_ld_buf(env, addr, img, 160 + 16 * nxmm(desc), idx, ra);
    if (mask & XFEATURE_X87)
        x87_to_image(env, img, desc);
    if (mask & XFEATURE_SSE) {
        mxcsr_to_image(env, img);
        xmm_to_image(env, img, desc);
    }
    if (mask & (XFEATURE_X87 | XFEATURE_SSE))
        cpu_st_buf(env, addr, img, 160 + 16 * nxmm(desc), idx, ra);
    /* XINUSE is kept at 1 for enabled components: allowed by the SDM. */
    bv = (bv & ~mask) | (mask & (XFEATURE_X87 | XFEATURE_SSE));
    cpu_st(env, addr + XSAVE_HEADER, bv, 8, idx, ra);
}

void helper_xrstor(CPUX86State *env, uint64_t addr, uint64_t desc)
{
    uintptr_t ra = GETPC();
    int idx = x86_mmu_index(env);
    check_xsave_enabled(env, ra);
    check_stack_canonical(env, addr, desc, ra);
    check_align(env, addr, 64, ra);
    uint8_t hdr[64], img[416];
    cpu_ld_buf(env, addr + XSAVE_HEADER, hdr, 64, idx, ra);
    cpu_ld_buf(env, addr, img, 160 + 16 * nxmm(desc), idx, ra);
    uint64_t bv = get64(hdr);
    for (unsigned i = 8; i < 24; i++)     /* XCOMP_BV (no compacted form) and reserved */
        if (hdr[i])
            x86_raise_exception(env, EXCP_GP, 0, ra);
    if (bv & ~env->xcr0)
        x86_raise_exception(env, EXCP_GP, 0, ra);
    uint64_t mask = rfbm(env);
    uint32_t mxcsr = get32(img + 24);
    if ((mask & XFEATURE_SSE) && (mxcsr & ~MXCSR_MASK))
        x86_raise_exception(env, EXCP_GP, 0, ra);
    if (mask & XFEATURE_X87) {
        if (bv & XFEATURE_X87) {
            x87_from_image(env, img, desc);
        } else {
            x87_reset(env);
            memset(env->fpregs, 0, sizeof(env->fpregs));
        }
    }
    if (mask & XFEATURE_SSE) {
        env->mxcsr = mxcsr;
        if (bv & XFEATURE_SSE)
            xmm_from_image(env, img, desc);
        else
            memset(env->xmm, 0, sizeof(XMMReg) * nxmm(desc));
    }
}

void helper_xsetbv(CPUX86State *env)
{
    x86_xsetbv(env, GETPC());
}
