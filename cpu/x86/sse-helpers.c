/* The vector operations of MMX and SSE..SSE4.2, run by helper_sse() on
 * copies of the operands (so an unmasked floating-point exception leaves the
 * destination untouched). Floating point goes through softfloat with the
 * MXCSR rounding mode, DAZ and FTZ; integer operations are plain C on
 * the XMMReg lanes. */
#include <string.h>
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/simd.h"
#include "cpu/x86/softfloat.h"

typedef struct SseCtx {
    CPUX86State *env;
    XMMReg r, a, b;
    unsigned n;          /* vector width in bytes: 8 (MMX) or 16 */
    uint32_t imm;
    uintptr_t ra;
    FloatStatus st;      /* for floating-point operations */
    uint64_t ret;        /* value returned to generated code */
    bool nowrite;        /* the destination register is not written */
} SseCtx;

typedef void SseFn(SseCtx *c);

#define NB (c->n)
#define NW (c->n / 2)
#define ND (c->n / 4)
#define NQ (c->n / 8)

static int8_t sat8(int v) { return v > 127 ? 127 : v < -128 ? -128 : (int8_t)v; }
static int16_t sat16(int32_t v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : (int16_t)v; }
static uint8_t satu8(int v) { return v > 255 ? 255 : v < 0 ? 0 : (uint8_t)v; }
static uint16_t satu16(int32_t v) { return v > 65535 ? 65535 : v < 0 ? 0 : (uint16_t)v; }

/* ---- element-wise integer operations ------------------------------------------------- */
#define ELEMWISE(name, cnt, f, T, expr)                                        \
    static void op_##name(SseCtx *c)                                          \
    {                                                                         \
        for (unsigned i = 0; i < cnt; i++) {                                  \
            T x = (T)c->a.f[i], y = (T)c->b.f[i];                             \
            (void)x; (void)y;                                                 \
            c->r.f[i] = (expr);                                               \
        }                                                                     \
    }
ELEMWISE(paddb, NB, b, uint8_t, x + y)
ELEMWISE(paddw, NW, w, uint16_t, x + y)
ELEMWISE(paddd, ND, d, uint32_t, x + y)
ELEMWISE(paddq, NQ, q, uint64_t, x + y)
ELEMWISE(psubb, NB, b, uint8_t, x - y)
ELEMWISE(psubw, NW, w, uint16_t, x - y)
ELEMWISE(psubd, ND, d, uint32_t, x - y)
ELEMWISE(psubq, NQ, q, uint64_t, x - y)
ELEMWISE(paddsb, NB, b, int8_t, (uint8_t)sat8(x + y))
ELEMWISE(paddsw, NW, w, int16_t, (uint16_t)sat16(x + y))
ELEMWISE(paddusb, NB, b, uint8_t, satu8(x + y))
ELEMWISE(paddusw, NW, w, uint16_t, satu16(x + y))
ELEMWISE(psubsb, NB, b, int8_t, (uint8_t)sat8(x - y))
ELEMWISE(psubsw, NW, w, int16_t, (uint16_t)sat16(x - y))
ELEMWISE(psubusb, NB, b, uint8_t, satu8(x - y))
ELEMWISE(psubusw, NW, w, uint16_t, satu16(x - y))
ELEMWISE(pmullw, NW, w, int16_t, (uint16_t)((int32_t)x * y))
ELEMWISE(pmulhw, NW, w, int16_t, (uint16_t)(((int32_t)x * y) >> 16))
ELEMWISE(pmulhuw, NW, w, uint16_t, (uint16_t)(((uint32_t)x * y) >> 16))
ELEMWISE(pavgb, NB, b, uint8_t, (uint8_t)((x + y + 1) >> 1))
ELEMWISE(pavgw, NW, w, uint16_t, (uint16_t)((x + y + 1) >> 1))
ELEMWISE(pminub, NB, b, uint8_t, x < y ? x : y)
ELEMWISE(pmaxub, NB, b, uint8_t, x > y ? x : y)
ELEMWISE(pminsw, NW, w, int16_t, (uint16_t)(x < y ? x : y))
ELEMWISE(pmaxsw, NW, w, int16_t, (uint16_t)(x > y ? x : y))
ELEMWISE(pminsb, NB, b, int8_t, (uint8_t)(x < y ? x : y))
ELEMWISE(pmaxsb, NB, b, int8_t, (uint8_t)(x > y ? x : y))
ELEMWISE(pminsd, ND, d, int32_t, (uint32_t)(x < y ? x : y))
ELEMWISE(pmaxsd, ND, d, int32_t, (uint32_t)(x > y ? x : y))
ELEMWISE(pminuw, NW, w, uint16_t, x < y ? x : y)
ELEMWISE(pmaxuw, NW, w, uint16_t, x > y ? x : y)
ELEMWISE(pminud, ND, d, uint32_t, x < y ? x : y)
ELEMWISE(pmaxud, ND, d, uint32_t, x > y ? x : y)
ELEMWISE(pand, NQ, q, uint64_t, x & y)
ELEMWISE(pandn, NQ, q, uint64_t, ~x & y)
ELEMWISE(por, NQ, q, uint64_t, x | y)
ELEMWISE(pxor, NQ, q, uint64_t, x ^ y)
ELEMWISE(pcmpeqb, NB, b, uint8_t, x == y ? 0xff : 0)
ELEMWISE(pcmpeqw, NW, w, uint16_t, x == y ? 0xffff : 0)
ELEMWISE(pcmpeqd, ND, d, uint32_t, x == y ? 0xffffffffu : 0)
ELEMWISE(pcmpeqq, NQ, q, uint64_t, x == y ? ~0ULL : 0)
ELEMWISE(pcmpgtb, NB, b, int8_t, x > y ? 0xff : 0)
ELEMWISE(pcmpgtw, NW, w, int16_t, x > y ? 0xffff : 0)
ELEMWISE(pcmpgtd, ND, d, int32_t, x > y ? 0xffffffffu : 0)
ELEMWISE(pcmpgtq, NQ, q, int64_t, x > y ? ~0ULL : 0)
ELEMWISE(pmulld, ND, d, uint32_t, x * y)
ELEMWISE(psignb, NB, b, int8_t, (uint8_t)(y < 0 ? -x : y == 0 ? 0 : x))
ELEMWISE(psignw, NW, w, int16_t, (uint16_t)(y < 0 ? -x : y == 0 ? 0 : x))
ELEMWISE(psignd, ND, d, int32_t, (uint32_t)(y < 0 ? -(uint32_t)x : y == 0 ? 0 : (uint32_t)x))
ELEMWISE(pabsb, NB, b, int8_t, (uint8_t)(y < 0 ? -y : y))
ELEMWISE(pabsw, NW, w, int16_t, (uint16_t)(y < 0 ? -y : y))
ELEMWISE(pabsd, ND, d, int32_t, y < 0 ? -(uint32_t)y : (uint32_t)y)
ELEMWISE(pmulhrsw, NW, w, int16_t, (uint16_t)((((int32_t)x * y >> 14) + 1) >> 1))

static void op_pmuludq(SseCtx *c)
{
    for (unsigned i = 0; i < NQ; i++)
        c->r.q[i] = (uint64_t)c->a.d[2 * i] * c->b.d[2 * i];
}

static void op_pmuldq(SseCtx *c)
{
    for (unsigned i = 0; i < NQ; i++)
        c->r.q[i] = (uint64_t)((int64_t)(int32_t)c->a.d[2 * i] * (int32_t)c->b.d[2 * i]);
}

static void op_pmaddwd(SseCtx *c)
{
    for (unsigned i = 0; i < ND; i++) {
        int64_t s = (int64_t)(int16_t)c->a.w[2 * i] * (int16_t)c->b.w[2 * i] +
                    (int64_t)(int16_t)c->a.w[2 * i + 1] * (int16_t)c->b.w[2 * i + 1];
        c->r.d[i] = (uint32_t)s;   /* wraps only for 0x8000 * 4: as hardware */
    }
}

static void op_pmaddubsw(SseCtx *c)
{
    for (unsigned i = 0; i < NW; i++) {
        int32_t s = c->a.b[2 * i] * (int8_t)c->b.b[2 * i] + c->a.b[2 * i + 1] * (int8_t)c->b.b[2 * i + 1];
        c->r.w[i] = (uint16_t)sat16(s);
    }
}

static void op_psadbw(SseCtx *c)
{
    for (unsigned i = 0; i < NQ; i++) {
        unsigned s = 0;
        for (unsigned j = 0; j < 8; j++) {
            int d = c->a.b[8 * i + j] - c->b.b[8 * i + j];
            s += d < 0 ? -d : d;
        }
        c->r.q[i] = s;
    }
}

/* ---- unpack, pack, shuffle ------------------------------------------------------------ */
static void unpack(SseCtx *c, unsigned esize, bool high)
{
    unsigned half = c->n / 2, cnt = half / esize;
    const uint8_t *x = c->a.b + (high ? half : 0), *y = c->b.b + (high ? half : 0);
    for (unsigned i = 0; i < cnt; i++) {
        memcpy(c->r.b + 2 * i * esize, x + i * esize, esize);
        memcpy(c->r.b + (2 * i + 1) * esize, y + i * esize, esize);
    }
}
static void op_punpcklbw(SseCtx *c) { unpack(c, 1, false); }
static void op_punpcklwd(SseCtx *c) { unpack(c, 2, false); }
static void op_punpckldq(SseCtx *c) { unpack(c, 4, false); }
static void op_punpcklqdq(SseCtx *c) { unpack(c, 8, false); }
static void op_punpckhbw(SseCtx *c) { unpack(c, 1, true); }
static void op_punpckhwd(SseCtx *c) { unpack(c, 2, true); }
static void op_punpckhdq(SseCtx *c) { unpack(c, 4, true); }
static void op_punpckhqdq(SseCtx *c) { unpack(c, 8, true); }

static void op_packsswb(SseCtx *c)
{
    for (unsigned i = 0; i < NW; i++) {
        c->r.b[i] = (uint8_t)sat8((int16_t)c->a.w[i]);
        c->r.b[i + NW] = (uint8_t)sat8((int16_t)c->b.w[i]);
    }
}
static void op_packuswb(SseCtx *c)
{
    for (unsigned i = 0; i < NW; i++) {
        c->r.b[i] = satu8((int16_t)c->a.w[i]);
        c->r.b[i + NW] = satu8((int16_t)c->b.w[i]);
    }
}
static void op_packssdw(SseCtx *c)
{
    for (unsigned i = 0; i < ND; i++) {
        c->r.w[i] = (uint16_t)sat16((int32_t)c->a.d[i]);
        c->r.w[i + ND] = (uint16_t)sat16((int32_t)c->b.d[i]);
    }
}
static void op_packusdw(SseCtx *c)
{
    for (unsigned i = 0; i < ND; i++) {
        c->r.w[i] = satu16((int32_t)c->a.d[i]);
        c->r.w[i + ND] = satu16((int32_t)c->b.d[i]);
    }
}

static void op_pshufd(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        c->r.d[i] = c->b.d[(c->imm >> (2 * i)) & 3];
}
static void op_pshufw(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        c->r.w[i] = c->b.w[(c->imm >> (2 * i)) & 3];
}
static void op_pshuflw(SseCtx *c)
{
    op_pshufw(c);
    c->r.q[1] = c->b.q[1];
}
static void op_pshufhw(SseCtx *c)
{
    c->r.q[0] = c->b.q[0];
    for (unsigned i = 0; i < 4; i++)
        c->r.w[4 + i] = c->b.w[4 + ((c->imm >> (2 * i)) & 3)];
}
static void op_shufps(SseCtx *c)
{
    c->r.d[0] = c->a.d[c->imm & 3];
    c->r.d[1] = c->a.d[(c->imm >> 2) & 3];
    c->r.d[2] = c->b.d[(c->imm >> 4) & 3];
    c->r.d[3] = c->b.d[(c->imm >> 6) & 3];
}
static void op_shufpd(SseCtx *c)
{
    c->r.q[0] = c->a.q[c->imm & 1];
    c->r.q[1] = c->b.q[(c->imm >> 1) & 1];
}
static void op_pshufb(SseCtx *c)
{
    for (unsigned i = 0; i < NB; i++) {
        uint8_t sel = c->b.b[i];
        c->r.b[i] = (sel & 0x80) ? 0 : c->a.b[sel & (NB - 1)];
    }
}
static void op_palignr(SseCtx *c)
{
    uint8_t cat[32];
    memcpy(cat, c->b.b, NB);
    memcpy(cat + NB, c->a.b, NB);
    for (unsigned i = 0; i < NB; i++) {
        unsigned k = i + c->imm;
        c->r.b[i] = k < 2 * NB ? cat[k] : 0;
    }
}

/* ---- shifts: count from b (register/memory form) or imm (the translator puts
 * the immediate in b's low qword) ---- */
#define SHIFT(name, cnt, f, T, bits, expr)                                     \
    static void op_##name(SseCtx *c)                                          \
    {                                                                         \
        uint64_t k = c->b.q[0];                                               \
        for (unsigned i = 0; i < cnt; i++) {                                  \
            T x = (T)c->a.f[i];                                               \
            c->r.f[i] = (expr);                                               \
        }                                                                     \
    }
SHIFT(psrlw, NW, w, uint16_t, 16, k > 15 ? 0 : (uint16_t)(x >> k))
SHIFT(psrld, ND, d, uint32_t, 32, k > 31 ? 0 : x >> k)
SHIFT(psrlq, NQ, q, uint64_t, 64, k > 63 ? 0 : x >> k)
SHIFT(psllw, NW, w, uint16_t, 16, k > 15 ? 0 : (uint16_t)(x << k))
SHIFT(pslld, ND, d, uint32_t, 32, k > 31 ? 0 : x << k)
SHIFT(psllq, NQ, q, uint64_t, 64, k > 63 ? 0 : x << k)
SHIFT(psraw, NW, w, int16_t, 16, (uint16_t)(x >> (k > 15 ? 15 : k)))
SHIFT(psrad, ND, d, int32_t, 32, (uint32_t)(x >> (k > 31 ? 31 : k)))

static void op_psrldq(SseCtx *c)
{
    unsigned k = c->b.q[0] > 16 ? 16 : (unsigned)c->b.q[0];
    for (unsigned i = 0; i < 16; i++)
        c->r.b[i] = i + k < 16 ? c->a.b[i + k] : 0;
}
static void op_pslldq(SseCtx *c)
{
    unsigned k = c->b.q[0] > 16 ? 16 : (unsigned)c->b.q[0];
    for (unsigned i = 0; i < 16; i++)
        c->r.b[i] = i >= k ? c->a.b[i - k] : 0;
}

/* ---- horizontal integer ops (SSSE3) ---- */
static void horizontal16(SseCtx *c, int kind)
{
    XMMReg r;
    for (unsigned half = 0; half < 2; half++) {
        const XMMReg *src = half ? &c->b : &c->a;
        for (unsigned i = 0; i < NW / 2; i++) {
            int32_t x = (int16_t)src->w[2 * i], y = (int16_t)src->w[2 * i + 1];
            int32_t v = kind == 0 ? x + y : kind == 1 ? x - y : kind == 2 ? sat16(x + y) : sat16(x - y);
            r.w[half * NW / 2 + i] = (uint16_t)v;
        }
    }
    memcpy(&c->r, &r, NB);
}
static void op_phaddw(SseCtx *c) { horizontal16(c, 0); }
static void op_phsubw(SseCtx *c) { horizontal16(c, 1); }
static void op_phaddsw(SseCtx *c) { horizontal16(c, 2); }
static void op_phsubsw(SseCtx *c) { horizontal16(c, 3); }
static void horizontal32(SseCtx *c, bool sub)
{
    XMMReg r;
    for (unsigned half = 0; half < 2; half++) {
        const XMMReg *src = half ? &c->b : &c->a;
        for (unsigned i = 0; i < ND / 2; i++)
            r.d[half * ND / 2 + i] = sub ? src->d[2 * i] - src->d[2 * i + 1] : src->d[2 * i] + src->d[2 * i + 1];
    }
    memcpy(&c->r, &r, NB);
}
static void op_phaddd(SseCtx *c) { horizontal32(c, false); }
static void op_phsubd(SseCtx *c) { horizontal32(c, true); }

/* ---- SSE4.1 integer ---- */
static void op_pblendvb(SseCtx *c)
{
    for (unsigned i = 0; i < 16; i++)
        if (c->env->xmm[0].b[i] & 0x80)
            c->r.b[i] = c->b.b[i];
}
static void op_blendvps(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        if (c->env->xmm[0].d[i] >> 31)
            c->r.d[i] = c->b.d[i];
}
static void op_blendvpd(SseCtx *c)
{
    for (unsigned i = 0; i < 2; i++)
        if (c->env->xmm[0].q[i] >> 63)
            c->r.q[i] = c->b.q[i];
}
static void op_blendps(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        if (c->imm & (1u << i))
            c->r.d[i] = c->b.d[i];
}
static void op_blendpd(SseCtx *c)
{
    for (unsigned i = 0; i < 2; i++)
        if (c->imm & (1u << i))
            c->r.q[i] = c->b.q[i];
}
static void op_pblendw(SseCtx *c)
{
    for (unsigned i = 0; i < 8; i++)
        if (c->imm & (1u << i))
            c->r.w[i] = c->b.w[i];
}
/* PTEST: ZF = (a & b) == 0, CF = (~a & b) == 0; returned as EFLAGS bits. */
static void op_ptest(SseCtx *c)
{
    uint64_t z = (c->a.q[0] & c->b.q[0]) | (c->a.q[1] & c->b.q[1]);
    uint64_t cf = (~c->a.q[0] & c->b.q[0]) | (~c->a.q[1] & c->b.q[1]);
    c->ret = (z ? 0 : CC_Z) | (cf ? 0 : CC_C);
    c->r = c->a;
}

#define PMOVX(name, fs, T, fd, TD, cnt)                                       \
    static void op_##name(SseCtx *c)                                          \
    {                                                                         \
        XMMReg r;                                                             \
        for (unsigned i = 0; i < cnt; i++)                                    \
            r.fd[i] = (TD)(T)c->b.fs[i];                                       \
        c->r = r;                                                             \
    }
PMOVX(pmovsxbw, b, int8_t, w, uint16_t, 8)
PMOVX(pmovsxbd, b, int8_t, d, uint32_t, 4)
PMOVX(pmovsxbq, b, int8_t, q, uint64_t, 2)
PMOVX(pmovsxwd, w, int16_t, d, uint32_t, 4)
PMOVX(pmovsxwq, w, int16_t, q, uint64_t, 2)
PMOVX(pmovsxdq, d, int32_t, q, uint64_t, 2)
PMOVX(pmovzxbw, b, uint8_t, w, uint16_t, 8)
PMOVX(pmovzxbd, b, uint8_t, d, uint32_t, 4)
PMOVX(pmovzxbq, b, uint8_t, q, uint64_t, 2)
PMOVX(pmovzxwd, w, uint16_t, d, uint32_t, 4)
PMOVX(pmovzxwq, w, uint16_t, q, uint64_t, 2)
PMOVX(pmovzxdq, d, uint32_t, q, uint64_t, 2)

static void op_phminposuw(SseCtx *c)
{
    unsigned best = 0;
    for (unsigned i = 1; i < 8; i++)
        if (c->b.w[i] < c->b.w[best])
            best = i;
    c->r.q[1] = 0;
    c->r.q[0] = c->b.w[best] | (uint64_t)best << 16;
}

static void op_mpsadbw(SseCtx *c)
{
    unsigned aoff = ((c->imm >> 2) & 1) * 4, boff = (c->imm & 3) * 4;
    XMMReg r;
    for (unsigned i = 0; i < 8; i++) {
        unsigned s = 0;
        for (unsigned j = 0; j < 4; j++) {
            int d = c->a.b[aoff + i + j] - c->b.b[boff + j];
            s += d < 0 ? -d : d;
        }
        r.w[i] = (uint16_t)s;
    }
    c->r = r;
}

/* Extract/insert: b is the source (xmm, or the GPR/memory value in b.q[0]);
 * extracts return the value. */
static void op_pextrb(SseCtx *c) { c->ret = c->b.b[c->imm & 15]; }
static void op_pextrw(SseCtx *c) { c->ret = c->b.w[c->imm & (NW - 1)]; }
static void op_pextrd(SseCtx *c) { c->ret = c->b.d[c->imm & 3]; }
static void op_pextrq(SseCtx *c) { c->ret = c->b.q[c->imm & 1]; }
static void op_extractps(SseCtx *c) { c->ret = c->b.d[c->imm & 3]; }
static void op_pinsrb(SseCtx *c) { c->r.b[c->imm & 15] = c->b.b[0]; }
static void op_pinsrw(SseCtx *c) { c->r.w[c->imm & (NW - 1)] = c->b.w[0]; }
static void op_pinsrd(SseCtx *c) { c->r.d[c->imm & 3] = c->b.d[0]; }
static void op_pinsrq(SseCtx *c) { c->r.q[c->imm & 1] = c->b.q[0]; }
/* INSERTPS: imm bit 8 (set by the translator) = memory source: the dword
 * comes from b.d[0] instead of b.d[imm[7:6]]. */
static void op_insertps(SseCtx *c)
{
    uint32_t v = (c->imm & 0x100) ? c->b.d[0] : c->b.d[(c->imm >> 6) & 3];
    c->r.d[(c->imm >> 4) & 3] = v;
    for (unsigned i = 0; i < 4; i++)
        if (c->imm & (1u << i))
            c->r.d[i] = 0;
}

static void op_pmovmskb(SseCtx *c)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < NB; i++)
        m |= (uint64_t)(c->b.b[i] >> 7) << i;
    c->ret = m;
}
static void op_movmskps(SseCtx *c)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < 4; i++)
        m |= (uint64_t)(c->b.d[i] >> 31) << i;
    c->ret = m;
}
static void op_movmskpd(SseCtx *c) { c->ret = (c->b.q[0] >> 63) | (c->b.q[1] >> 63) << 1; }

/* ---- SSE4.2 string compares --------------------------------------------------------- */
/* imm: [1:0] format (ub, uw, sb, sw), [3:2] aggregation (equal any, ranges,
 * equal each, equal ordered), [5:4] polarity, [6] most-significant index /
 * byte-or-word mask. Explicit lengths come from EAX/EDX, implicit ones end
 * at the first zero element. */
static int pcmpstr_elem(const XMMReg *v, unsigned i, unsigned fmt)
{
    switch (fmt) {
    case 0: return v->b[i];
    case 1: return v->w[i];
    case 2: return (int8_t)v->b[i];
    default: return (int16_t)v->w[i];
    }
}

static unsigned pcmpstr_len_implicit(const XMMReg *v, unsigned fmt, unsigned ne)
{
    unsigned i = 0;
    while (i < ne && pcmpstr_elem(v, i, fmt) != 0)
        i++;
    return i;
}

static unsigned pcmpstr_len_explicit(int64_t len, unsigned ne)
{
    if (len < 0)
        len = len == INT64_MIN ? (int64_t)ne : -len;
    return len > (int64_t)ne ? ne : (unsigned)len;
}

/* Computes IntRes2 and the flags; returns the mask. */
static unsigned pcmpstr(SseCtx *c, bool explicit_len)
{
    unsigned fmt = c->imm & 3, agg = (c->imm >> 2) & 3, pol = (c->imm >> 4) & 3;
    unsigned ne = (fmt & 1) ? 8 : 16;
    const XMMReg *a = &c->a, *b = &c->b;
    unsigned la, lb;
    if (explicit_len) {
        bool w = c->imm & 0x100;    /* REX.W: 64-bit lengths */
        int64_t ra = w ? (int64_t)c->env->regs[R_EAX] : (int32_t)c->env->regs[R_EAX];
        int64_t rb = w ? (int64_t)c->env->regs[R_EDX] : (int32_t)c->env->regs[R_EDX];
        la = pcmpstr_len_explicit(ra, ne);
        lb = pcmpstr_len_explicit(rb, ne);
    } else {
        la = pcmpstr_len_implicit(a, fmt, ne);
        lb = pcmpstr_len_implicit(b, fmt, ne);
    }
    unsigned res = 0;
    for (unsigned j = 0; j < ne; j++) {      /* j indexes b (the string) */
        bool bit = false;
        switch (agg) {
        case 0:     /* equal any */
            for (unsigned i = 0; i < la && j < lb; i++)
                if (pcmpstr_elem(a, i, fmt) == pcmpstr_elem(b, j, fmt))
                    bit = true;
            break;
        case 1:     /* ranges: pairs in a */
            for (unsigned i = 0; i + 1 < la && j < lb; i += 2) {
                int lo = pcmpstr_elem(a, i, fmt), hi = pcmpstr_elem(a, i + 1, fmt);
                int v = pcmpstr_elem(b, j, fmt);
                if (v >= lo && v <= hi)
                    bit = true;
            }
            break;
        case 2: {   /* equal each */
            bool va = j < la, vb = j < lb;
            if (va && vb)
                bit = pcmpstr_elem(a, j, fmt) == pcmpstr_elem(b, j, fmt);
            else
                bit = !va && !vb;
            break;
        }
        default: {  /* equal ordered: a is a substring starting at b[j] */
            bit = true;
            for (unsigned i = 0; i < ne - j && i < la; i++) {
                if (j + i >= lb) {
                    bit = false;
                    break;
                }
                if (pcmpstr_elem(a, i, fmt) != pcmpstr_elem(b, j + i, fmt)) {
                    bit = false;
                    break;
                }
            }
            break;
        }
        }
        if (bit)
            res |= 1u << j;
    }
    unsigned full = (1u << ne) - 1;
    if (pol == 1)
        res ^= full;
    else if (pol == 3)
        res ^= (1u << lb) - 1;
    res &= full;
    uint64_t fl = 0;
    if (res)
        fl |= CC_C;
    if (lb < ne)
        fl |= CC_Z;
    if (la < ne)
        fl |= CC_S;
    if (res & 1)
        fl |= CC_O;
    c->ret = fl;
    return res;
}

static void pcmpstri(SseCtx *c, bool explicit_len)
{
    unsigned ne = (c->imm & 1) ? 8 : 16;
    unsigned res = pcmpstr(c, explicit_len), idx;
    if (!res)
        idx = ne;
    else if (c->imm & 0x40)
        idx = 31 - __builtin_clz(res);
    else
        idx = __builtin_ctz(res);
    c->ret |= (uint64_t)idx << 32;     /* ECX: the translator writes it */
    c->r = c->a;
}

static void pcmpstrm(SseCtx *c, bool explicit_len)
{
    unsigned ne = (c->imm & 1) ? 8 : 16;
    unsigned res = pcmpstr(c, explicit_len);
    XMMReg m;
    memset(&m, 0, sizeof(m));
    if (c->imm & 0x40) {
        for (unsigned i = 0; i < ne; i++) {
            bool bit = res >> i & 1;
            if (ne == 16)
                m.b[i] = bit ? 0xff : 0;
            else
                m.w[i] = bit ? 0xffff : 0;
        }
    } else {
        m.q[0] = res;
    }
    c->env->xmm[0] = m;
    c->nowrite = true;
}
static void op_pcmpestri(SseCtx *c) { pcmpstri(c, true); }
static void op_pcmpistri(SseCtx *c) { pcmpstri(c, false); }
static void op_pcmpestrm(SseCtx *c) { pcmpstrm(c, true); }
static void op_pcmpistrm(SseCtx *c) { pcmpstrm(c, false); }

/* ---- floating point ------------------------------------------------------------------ */
#define F32BIN(name, fn, cnt)                                                  \
    static void op_##name(SseCtx *c)                                          \
    {                                                                         \
        for (unsigned i = 0; i < cnt; i++)                                    \
            c->r.d[i] = fn(c->a.d[i], c->b.d[i], &c->st);                     \
    }
#define F64BIN(name, fn, cnt)                                                  \
    static void op_##name(SseCtx *c)                                          \
    {                                                                         \
        for (unsigned i = 0; i < cnt; i++)                                    \
            c->r.q[i] = fn(c->a.q[i], c->b.q[i], &c->st);                     \
    }
F32BIN(addps, float32_add, 4) F32BIN(addss, float32_add, 1)
F64BIN(addpd, float64_add, 2) F64BIN(addsd, float64_add, 1)
F32BIN(subps, float32_sub, 4) F32BIN(subss, float32_sub, 1)
F64BIN(subpd, float64_sub, 2) F64BIN(subsd, float64_sub, 1)
F32BIN(mulps, float32_mul, 4) F32BIN(mulss, float32_mul, 1)
F64BIN(mulpd, float64_mul, 2) F64BIN(mulsd, float64_mul, 1)
F32BIN(divps, float32_div, 4) F32BIN(divss, float32_div, 1)
F64BIN(divpd, float64_div, 2) F64BIN(divsd, float64_div, 1)
F32BIN(minps, float32_min, 4) F32BIN(minss, float32_min, 1)
F64BIN(minpd, float64_min, 2) F64BIN(minsd, float64_min, 1)
F32BIN(maxps, float32_max, 4) F32BIN(maxss, float32_max, 1)
F64BIN(maxpd, float64_max, 2) F64BIN(maxsd, float64_max, 1)

static void op_sqrtps(SseCtx *c) { for (unsigned i = 0; i < 4; i++) c->r.d[i] = float32_sqrt(c->b.d[i], &c->st); }
static void op_sqrtss(SseCtx *c) { c->r.d[0] = float32_sqrt(c->b.d[0], &c->st); }
static void op_sqrtpd(SseCtx *c) { for (unsigned i = 0; i < 2; i++) c->r.q[i] = float64_sqrt(c->b.q[i], &c->st); }
static void op_sqrtsd(SseCtx *c) { c->r.q[0] = float64_sqrt(c->b.q[0], &c->st); }

/* RCP/RSQRT: the hardware gives a 12-bit approximation from its own tables;
 * we give the correctly rounded value truncated to 12 significand bits, which
 * meets the architectural error bound (|rel err| <= 1.5 * 2^-12) but is not
 * bit-identical with any particular processor. No exceptions are reported. */
static float32 approx12(float32 v)
{
    if ((v & 0x7f800000) == 0x7f800000 || (v & 0x7f800000) == 0)
        return v;
    return v & ~0x7ffu;
}
static float32 rcp32(float32 x)
{
    FloatStatus st = { .rounding = FLOAT_ROUND_NEAREST_EVEN, .denormals_are_zero = true,
                       .flush_to_zero = true };
    if ((x & 0x7fffffff) == 0 || ((x & 0x7f800000) == 0))
        return (x & 0x80000000) | 0x7f800000;
    return approx12(float32_div(0x3f800000, x, &st));
}
static float32 rsqrt32(float32 x)
{
    FloatStatus st = { .rounding = FLOAT_ROUND_NEAREST_EVEN, .denormals_are_zero = true,
                       .flush_to_zero = true };
    if ((x & 0x7fffffff) == 0 || ((x & 0x7f800000) == 0))
        return (x & 0x80000000) | 0x7f800000;
    if (x & 0x80000000)
        return float32_is_nan(x) ? x | 0x00400000 : FLOAT32_DEFAULT_NAN;
    return approx12(float32_div(0x3f800000, float32_sqrt(x, &st), &st));
}
static void op_rcpps(SseCtx *c) { for (unsigned i = 0; i < 4; i++) c->r.d[i] = rcp32(c->b.d[i]); }
static void op_rcpss(SseCtx *c) { c->r.d[0] = rcp32(c->b.d[0]); }
static void op_rsqrtps(SseCtx *c) { for (unsigned i = 0; i < 4; i++) c->r.d[i] = rsqrt32(c->b.d[i]); }
static void op_rsqrtss(SseCtx *c) { c->r.d[0] = rsqrt32(c->b.d[0]); }

static void op_cmpps(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        c->r.d[i] = float32_compare_predicate(c->a.d[i], c->b.d[i], c->imm & 7, &c->st) ? ~0u : 0;
}
static void op_cmpss(SseCtx *c)
{
    c->r.d[0] = float32_compare_predicate(c->a.d[0], c->b.d[0], c->imm & 7, &c->st) ? ~0u : 0;
}
static void op_cmppd(SseCtx *c)
{
    for (unsigned i = 0; i < 2; i++)
        c->r.q[i] = float64_compare_predicate(c->a.q[i], c->b.q[i], c->imm & 7, &c->st) ? ~0ULL : 0;
}
static void op_cmpsd(SseCtx *c)
{
    c->r.q[0] = float64_compare_predicate(c->a.q[0], c->b.q[0], c->imm & 7, &c->st) ? ~0ULL : 0;
}
static void op_comiss(SseCtx *c) { c->ret = float_relation_to_eflags(float32_compare(c->a.d[0], c->b.d[0], false, &c->st)); }
static void op_ucomiss(SseCtx *c) { c->ret = float_relation_to_eflags(float32_compare(c->a.d[0], c->b.d[0], true, &c->st)); }
static void op_comisd(SseCtx *c) { c->ret = float_relation_to_eflags(float64_compare(c->a.q[0], c->b.q[0], false, &c->st)); }
static void op_ucomisd(SseCtx *c) { c->ret = float_relation_to_eflags(float64_compare(c->a.q[0], c->b.q[0], true, &c->st)); }

static void op_haddps(SseCtx *c)
{
    XMMReg r;
    r.d[0] = float32_add(c->a.d[0], c->a.d[1], &c->st);
    r.d[1] = float32_add(c->a.d[2], c->a.d[3], &c->st);
    r.d[2] = float32_add(c->b.d[0], c->b.d[1], &c->st);
    r.d[3] = float32_add(c->b.d[2], c->b.d[3], &c->st);
    c->r = r;
}
static void op_hsubps(SseCtx *c)
{
    XMMReg r;
    r.d[0] = float32_sub(c->a.d[0], c->a.d[1], &c->st);
    r.d[1] = float32_sub(c->a.d[2], c->a.d[3], &c->st);
    r.d[2] = float32_sub(c->b.d[0], c->b.d[1], &c->st);
    r.d[3] = float32_sub(c->b.d[2], c->b.d[3], &c->st);
    c->r = r;
}
static void op_haddpd(SseCtx *c)
{
    XMMReg r;
    r.q[0] = float64_add(c->a.q[0], c->a.q[1], &c->st);
    r.q[1] = float64_add(c->b.q[0], c->b.q[1], &c->st);
    c->r = r;
}
static void op_hsubpd(SseCtx *c)
{
    XMMReg r;
    r.q[0] = float64_sub(c->a.q[0], c->a.q[1], &c->st);
    r.q[1] = float64_sub(c->b.q[0], c->b.q[1], &c->st);
    c->r = r;
}
static void op_addsubps(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        c->r.d[i] = (i & 1) ? float32_add(c->a.d[i], c->b.d[i], &c->st)
                            : float32_sub(c->a.d[i], c->b.d[i], &c->st);
}
static void op_addsubpd(SseCtx *c)
{
    c->r.q[0] = float64_sub(c->a.q[0], c->b.q[0], &c->st);
    c->r.q[1] = float64_add(c->a.q[1], c->b.q[1], &c->st);
}
static void op_movsldup(SseCtx *c)
{
    XMMReg r = { .d = { c->b.d[0], c->b.d[0], c->b.d[2], c->b.d[2] } };
    c->r = r;
}
static void op_movshdup(SseCtx *c)
{
    XMMReg r = { .d = { c->b.d[1], c->b.d[1], c->b.d[3], c->b.d[3] } };
    c->r = r;
}
static void op_movddup(SseCtx *c)
{
    XMMReg r = { .q = { c->b.q[0], c->b.q[0] } };
    c->r = r;
}

/* ROUND*: imm[2] = use MXCSR.RC, else imm[1:0]; imm[3] = suppress precision. */
static FloatStatus round_status(SseCtx *c)
{
    FloatStatus st = c->st;
    if (!(c->imm & 4))
        st.rounding = c->imm & 3;
    st.flags = 0;
    return st;
}
static void round_done(SseCtx *c, FloatStatus *st)
{
    if (c->imm & 8)
        st->flags &= ~(FLOAT_FLAG_INEXACT | FLOAT_FLAG_ROUNDED_UP);
    c->st.flags |= st->flags;
}
static void op_roundps(SseCtx *c)
{
    FloatStatus st = round_status(c);
    for (unsigned i = 0; i < 4; i++)
        c->r.d[i] = float32_round_to_int(c->b.d[i], &st);
    round_done(c, &st);
}
static void op_roundss(SseCtx *c)
{
    FloatStatus st = round_status(c);
    c->r.d[0] = float32_round_to_int(c->b.d[0], &st);
    round_done(c, &st);
}
static void op_roundpd(SseCtx *c)
{
    FloatStatus st = round_status(c);
    for (unsigned i = 0; i < 2; i++)
        c->r.q[i] = float64_round_to_int(c->b.q[i], &st);
    round_done(c, &st);
}
static void op_roundsd(SseCtx *c)
{
    FloatStatus st = round_status(c);
    c->r.q[0] = float64_round_to_int(c->b.q[0], &st);
    round_done(c, &st);
}

/* DPPS: products of the lanes selected by imm[7:4], summed pairwise as the
 * hardware does ((p0 + p1) + (p2 + p3)), broadcast to the lanes in imm[3:0]. */
static void op_dpps(SseCtx *c)
{
    float32 p[4];
    for (unsigned i = 0; i < 4; i++)
        p[i] = (c->imm & (0x10u << i)) ? float32_mul(c->a.d[i], c->b.d[i], &c->st) : 0;
    float32 s01 = float32_add(p[0], p[1], &c->st), s23 = float32_add(p[2], p[3], &c->st);
    float32 sum = float32_add(s01, s23, &c->st);
    for (unsigned i = 0; i < 4; i++)
        c->r.d[i] = (c->imm & (1u << i)) ? sum : 0;
}
static void op_dppd(SseCtx *c)
{
    float64 p[2];
    for (unsigned i = 0; i < 2; i++)
        p[i] = (c->imm & (0x10u << i)) ? float64_mul(c->a.q[i], c->b.q[i], &c->st) : 0;
    float64 sum = float64_add(p[0], p[1], &c->st);
    for (unsigned i = 0; i < 2; i++)
        c->r.q[i] = (c->imm & (1u << i)) ? sum : 0;
}

/* ---- conversions. For GPR sources the translator puts the value in b.q[0];
 * imm bit 0 = 64-bit integer (REX.W). Results bound for a GPR are returned. */
static void op_cvtpi2ps(SseCtx *c)
{
    c->r.d[0] = int32_to_float32((int32_t)c->b.d[0], &c->st);
    c->r.d[1] = int32_to_float32((int32_t)c->b.d[1], &c->st);
}
static void op_cvtpi2pd(SseCtx *c)
{
    XMMReg r = { .q = { int32_to_float64((int32_t)c->b.d[0], &c->st),
                        int32_to_float64((int32_t)c->b.d[1], &c->st) } };
    c->r = r;
}
static void op_cvtsi2ss(SseCtx *c)
{
    c->r.d[0] = (c->imm & 1) ? int64_to_float32((int64_t)c->b.q[0], &c->st)
                             : int32_to_float32((int32_t)c->b.d[0], &c->st);
}
static void op_cvtsi2sd(SseCtx *c)
{
    c->r.q[0] = (c->imm & 1) ? int64_to_float64((int64_t)c->b.q[0], &c->st)
                             : int32_to_float64((int32_t)c->b.d[0], &c->st);
}
static void op_cvttss2si(SseCtx *c)
{
    c->ret = (c->imm & 1) ? (uint64_t)float32_to_int64_round_to_zero(c->b.d[0], &c->st)
                          : (uint32_t)float32_to_int32_round_to_zero(c->b.d[0], &c->st);
}
static void op_cvtss2si(SseCtx *c)
{
    c->ret = (c->imm & 1) ? (uint64_t)float32_to_int64(c->b.d[0], &c->st)
                          : (uint32_t)float32_to_int32(c->b.d[0], &c->st);
}
static void op_cvttsd2si(SseCtx *c)
{
    c->ret = (c->imm & 1) ? (uint64_t)float64_to_int64_round_to_zero(c->b.q[0], &c->st)
                          : (uint32_t)float64_to_int32_round_to_zero(c->b.q[0], &c->st);
}
static void op_cvtsd2si(SseCtx *c)
{
    c->ret = (c->imm & 1) ? (uint64_t)float64_to_int64(c->b.q[0], &c->st)
                          : (uint32_t)float64_to_int32(c->b.q[0], &c->st);
}
/* to MMX: the destination is an mm register (width 8) */
static void op_cvttps2pi(SseCtx *c)
{
    c->r.d[0] = (uint32_t)float32_to_int32_round_to_zero(c->b.d[0], &c->st);
    c->r.d[1] = (uint32_t)float32_to_int32_round_to_zero(c->b.d[1], &c->st);
}
static void op_cvtps2pi(SseCtx *c)
{
    c->r.d[0] = (uint32_t)float32_to_int32(c->b.d[0], &c->st);
    c->r.d[1] = (uint32_t)float32_to_int32(c->b.d[1], &c->st);
}
static void op_cvttpd2pi(SseCtx *c)
{
    c->r.d[0] = (uint32_t)float64_to_int32_round_to_zero(c->b.q[0], &c->st);
    c->r.d[1] = (uint32_t)float64_to_int32_round_to_zero(c->b.q[1], &c->st);
}
static void op_cvtpd2pi(SseCtx *c)
{
    c->r.d[0] = (uint32_t)float64_to_int32(c->b.q[0], &c->st);
    c->r.d[1] = (uint32_t)float64_to_int32(c->b.q[1], &c->st);
}
static void op_cvtps2pd(SseCtx *c)
{
    XMMReg r = { .q = { float32_to_float64(c->b.d[0], &c->st), float32_to_float64(c->b.d[1], &c->st) } };
    c->r = r;
}
static void op_cvtpd2ps(SseCtx *c)
{
    XMMReg r = { .d = { float64_to_float32(c->b.q[0], &c->st), float64_to_float32(c->b.q[1], &c->st), 0, 0 } };
    c->r = r;
}
static void op_cvtss2sd(SseCtx *c) { c->r.q[0] = float32_to_float64(c->b.d[0], &c->st); }
static void op_cvtsd2ss(SseCtx *c) { c->r.d[0] = float64_to_float32(c->b.q[0], &c->st); }
static void op_cvtdq2ps(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        c->r.d[i] = int32_to_float32((int32_t)c->b.d[i], &c->st);
}
static void op_cvtps2dq(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        c->r.d[i] = (uint32_t)float32_to_int32(c->b.d[i], &c->st);
}
static void op_cvttps2dq(SseCtx *c)
{
    for (unsigned i = 0; i < 4; i++)
        c->r.d[i] = (uint32_t)float32_to_int32_round_to_zero(c->b.d[i], &c->st);
}
static void op_cvttpd2dq(SseCtx *c)
{
    XMMReg r = { .d = { (uint32_t)float64_to_int32_round_to_zero(c->b.q[0], &c->st),
                        (uint32_t)float64_to_int32_round_to_zero(c->b.q[1], &c->st), 0, 0 } };
    c->r = r;
}
static void op_cvtpd2dq(SseCtx *c)
{
    XMMReg r = { .d = { (uint32_t)float64_to_int32(c->b.q[0], &c->st),
                        (uint32_t)float64_to_int32(c->b.q[1], &c->st), 0, 0 } };
    c->r = r;
}
static void op_cvtdq2pd(SseCtx *c)
{
    XMMReg r = { .q = { int32_to_float64((int32_t)c->b.d[0], &c->st),
                        int32_to_float64((int32_t)c->b.d[1], &c->st) } };
    c->r = r;
}

/* ---- dispatch ------------------------------------------------------------------------- */
static SseFn *const sse_fns[SSE_OP_COUNT] = {
#define SSE_OP_FN(n) [SSE_##n] = op_##n,
    SSE_OPS(SSE_OP_FN)
#undef SSE_OP_FN
};

/* Flags raised: merge into MXCSR; an unmasked one raises #XM (CR4.OSXMMEXCPT)
 * or #UD without writing the destination. When an unmasked invalid, denormal
 * or divide-by-zero happened, the post-computation flags are not reported. */
static void sse_finish_fp(SseCtx *c)
{
    CPUX86State *env = c->env;
    unsigned flags = c->st.flags & FLOAT_FLAGS_EXCEPTIONS;
    unsigned unmasked = flags & ~(env->mxcsr >> 7) & FLOAT_FLAGS_EXCEPTIONS;
    if (unmasked & (FLOAT_FLAG_INVALID | FLOAT_FLAG_DENORMAL | FLOAT_FLAG_DIVBYZERO))
        flags &= FLOAT_FLAG_INVALID | FLOAT_FLAG_DENORMAL | FLOAT_FLAG_DIVBYZERO;
    env->mxcsr |= flags;
    if (unmasked) {
        int vec = (env->cr[4] & CR4_OSXMMEXCPT) ? EXCP_XM : EXCP_UD;
        x86_raise_exception(env, vec, 0, c->ra);
    }
}

/* The floating-point operations come last in SSE_OPS, from ADDPS on. */
static bool sse_op_is_fp(unsigned op)
{
    return op >= SSE_addps;
}

uint64_t helper_sse(CPUX86State *env, void *d, const void *s, uint64_t desc)
{
    SseCtx c;
    unsigned op = desc & 0xffff;
    c.env = env;
    c.n = (desc >> 16) & 0xff;
    c.imm = (uint32_t)(desc >> 24);
    c.ra = GETPC();
    c.ret = 0;
    c.nowrite = false;
    if (op >= SSE_OP_COUNT || (c.n != 8 && c.n != 16))
        x86_raise_exception(env, EXCP_UD, 0, c.ra);
    memset(&c.a, 0, sizeof(c.a));
    memset(&c.b, 0, sizeof(c.b));
    /* Whole registers are read (an MMX register is followed by its exponent
     * word inside env): cvtpd2pi & co. read 16 bytes into an 8-byte result. */
    memcpy(&c.a, d, sizeof(c.a));
    memcpy(&c.b, s, sizeof(c.b));
    c.r = c.a;
    if (!sse_op_is_fp(op)) {
        /* integer: no MXCSR, no exceptions */
        sse_fns[op](&c);
        if (!c.nowrite)
            memcpy(d, &c.r, c.n);
        return c.ret;
    }
    if (sse_host_op(op, &c.r, &c.a, &c.b, c.imm, &env->mxcsr, &c.ret)) {
        memcpy(d, &c.r, c.n);
        return c.ret;
    }
    c.st = float_status_from_mxcsr(env->mxcsr);
    sse_fns[op](&c);
    if (c.st.flags)
        sse_finish_fp(&c);
    if (!c.nowrite)
        memcpy(d, &c.r, c.n);
    return c.ret;
}

/* vecop in C (tcg.h): the interpreter's implementation. fe_op is the SseOp;
 * shifts take their count in b, as helper_sse's callers pass it. */
void tcg_vecop_c(uint64_t desc, void *d, const void *s, uint64_t *r)
{
    SseCtx c = { .n = 16, .imm = TCG_VEC_IMM(desc) };
    unsigned op = TCG_VEC_FE_OP(desc);
    memcpy(&c.a, d, 16);
    memcpy(&c.b, s, 16);
    c.r = c.a;
    switch (TCG_VEC_FORM(desc)) {
    case TCG_VEC_SHIFT:
        memset(&c.b, 0, sizeof(c.b));
        c.b.q[0] = c.imm;
        c.imm = 0;
        /* fall through */
    default:
        if (op >= SSE_OP_COUNT || sse_op_is_fp(op))
            return;
        sse_fns[op](&c);
        break;
    }
    if (TCG_VEC_FORM(desc) == TCG_VEC_STRI)
        *r = c.ret;
    else
        memcpy(d, &c.r, 16);
}

void helper_maskmov(CPUX86State *env, const void *v, const void *mask, uint64_t addr, uint64_t width)
{
    uint8_t val[16], m[16];
    uintptr_t ra = GETPC();
    int idx = x86_mmu_index(env);
    /* hardware checks the address even when the mask selects no byte;
     * DS:RDI is never a stack access (an SS override is ignored in 64-bit mode) */
    if (!x86_is_canonical(env, addr))
        x86_raise_exception(env, EXCP_GP, 0, ra);
    memcpy(val, v, width);
    memcpy(m, mask, width);
    for (unsigned i = 0; i < width; i++)
        if (m[i] & 0x80)
            cpu_st(env, addr + i, val[i], 1, idx, ra);
}

void helper_sse_misaligned(CPUX86State *env)
{
    x86_raise_exception(env, EXCP_GP, 0, GETPC());
}

void helper_ldmxcsr(CPUX86State *env, uint64_t value)
{
    if (value & ~(uint64_t)MXCSR_MASK)
        x86_raise_exception(env, EXCP_GP, 0, GETPC());
    env->mxcsr = (uint32_t)value;
}
