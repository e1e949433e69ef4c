/* Inline IR for the hot integer SIMD operations (what glibc's string and
 * memory functions and compilers' SSE2 code use most), so they cost no helper
 * call: lane-wise add/sub/compare-equal as SWAR arithmetic on 64-bit halves,
 * shuffles and unpacks as 32/64-bit moves or bit spreading, PMOVMSKB by a
 * gathering multiply, PMINUB/PMAXUB from the lanes' borrows, byte shifts and
 * PALIGNR as qword windows. The other 16-byte integer operations (PSHUFB,
 * PCMPISTRI, PMULLW, PACK*...) become one vecop, the host's own instruction
 * on the env slots, where the host has it; the rest goes to helper_sse
 * (sse-helpers.c). All give the same results (tests/unit/test-simd.c checks
 * each path against the host). */
#include "cpu/x86/simd.h"
#include "cpu/x86/translate.h"
#include "system/util.h"

/* A 64-bit constant with `lane` repeated for a lane width of bits. */
static uint64_t repeat(uint64_t lane, unsigned bits)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i += bits)
        r |= lane << i;
    return r;
}

static TCGv andi(TCGv a, uint64_t m)
{
    TCGv r = tcg_temp_new();
    tcg_gen_andi(r, a, m);
    return r;
}

/* lanes of a + b (sub: a - b) without carries across lanes */
static TCGv swar_add(TCGv a, TCGv b, unsigned bits, bool sub)
{
    uint64_t h = repeat(1ULL << (bits - 1), bits);
    TCGv r = tcg_temp_new(), t = tcg_temp_new();
    if (bits == 64) {
        tcg_gen_op3(sub ? INDEX_op_sub : INDEX_op_add, 0, r, a, b);
        return r;
    }
    if (!sub) {
        tcg_gen_add(r, andi(a, ~h), andi(b, ~h));
        tcg_gen_xor(t, a, b);
    } else {
        TCGv ah = tcg_temp_new();
        tcg_gen_ori(ah, a, h);
        tcg_gen_sub(r, ah, andi(b, ~h));
        tcg_gen_op2(INDEX_op_not, 0, t, b);
        tcg_gen_xor(t, t, a);
    }
    tcg_gen_xor(r, r, andi(t, h));
    return r;
}

/* lanes all ones where a == b */
static TCGv swar_cmpeq(TCGv a, TCGv b, unsigned bits)
{
    TCGv x = tcg_temp_new(), r = tcg_temp_new();
    tcg_gen_xor(x, a, b);
    if (bits == 64) {
        tcg_gen_setcond(TCG_COND_EQ, 0, r, x, tcg_const(0));
        tcg_gen_op2(INDEX_op_neg, 0, r, r);
        return r;
    }
    uint64_t h = repeat(1ULL << (bits - 1), bits), l = ~h;
    TCGv t = tcg_temp_new();
    tcg_gen_addi(t, andi(x, l), l);         /* high bit set: low bits nonzero */
    tcg_gen_or(t, t, x);                    /* ... or the high bit itself */
    tcg_gen_op2(INDEX_op_not, 0, t, t);
    tcg_gen_andi(t, t, h);                  /* high bit set: lane equal */
    tcg_gen_shri(t, t, bits - 1);
    tcg_gen_op3(INDEX_op_mul, 0, r, t, tcg_const(bits == 32 ? 0xffffffffULL : (1ULL << bits) - 1));
    return r;
}

/* lanes all ones where a < b (unsigned): the borrow out of each lane's a - b */
static TCGv swar_ltu(TCGv a, TCGv b, unsigned bits)
{
    uint64_t h = repeat(1ULL << (bits - 1), bits);
    TCGv d = swar_add(a, b, bits, true), t = tcg_temp_new(), lt = tcg_temp_new();
    tcg_gen_xor(t, a, b);
    tcg_gen_op2(INDEX_op_not, 0, t, t);
    tcg_gen_and(t, t, d);                   /* same top bits: borrow = top bit of a - b */
    tcg_gen_op2(INDEX_op_not, 0, lt, a);
    tcg_gen_and(lt, lt, b);                 /* different top bits: borrow = b's */
    tcg_gen_or(lt, lt, t);
    tcg_gen_andi(lt, lt, h);
    tcg_gen_shri(lt, lt, bits - 1);
    tcg_gen_op3(INDEX_op_mul, 0, lt, lt, tcg_const(bits == 32 ? 0xffffffffULL : (1ULL << bits) - 1));
    return lt;
}

/* signed order = unsigned order with the sign bits flipped */
static TCGv flip(TCGv a, unsigned bits)
{
    TCGv r = tcg_temp_new();
    tcg_gen_xori(r, a, repeat(1ULL << (bits - 1), bits));
    return r;
}

/* min/max from the a < b mask: min takes a there, max takes b */
static TCGv swar_select(TCGv a, TCGv b, TCGv lt, bool max)
{
    TCGv x = tcg_temp_new(), r = tcg_temp_new();
    tcg_gen_xor(x, a, b);
    tcg_gen_and(x, x, lt);
    tcg_gen_xor(r, max ? a : b, x);
    return r;
}

/* logical shift of every lane by a constant count */
static TCGv swar_shift(TCGv a, unsigned bits, unsigned count, bool left)
{
    TCGv r = tcg_temp_new();
    if (count >= bits) {
        tcg_gen_movi(r, 0);
        return r;
    }
    uint64_t lane = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
    uint64_t keep = left ? (lane << count) & lane : lane >> count;
    if (left)
        tcg_gen_shli(r, a, count);
    else
        tcg_gen_shri(r, a, count);
    if (bits < 64)
        tcg_gen_andi(r, r, repeat(keep, bits));
    return r;
}

static int lane_bits(unsigned op)
{
    switch (op) {
    case SSE_paddb: case SSE_psubb: case SSE_pcmpeqb: return 8;
    case SSE_paddw: case SSE_psubw: case SSE_pcmpeqw: return 16;
    case SSE_paddd: case SSE_psubd: case SSE_pcmpeqd: return 32;
    case SSE_paddq: case SSE_psubq: case SSE_pcmpeqq: return 64;
    case SSE_pminub: case SSE_pmaxub: case SSE_pcmpgtb: return 8;
    case SSE_pminsw: case SSE_pmaxsw: case SSE_pcmpgtw: return 16;
    case SSE_pcmpgtd: return 32;
    default: return 0;
    }
}

/* Operations computed per 64-bit half from the halves of d and s. */
static bool gen_halves(unsigned op, int64_t d, int64_t s, unsigned width)
{
    int bits = lane_bits(op);
    if (!bits)
        return false;
    TCGv r[2];
    for (unsigned i = 0; i < width / 8; i++) {
        TCGv a = gen_env_ld(d + 8 * i, MO_64), b = gen_env_ld(s + 8 * i, MO_64);
        switch (op) {
        case SSE_pcmpeqb: case SSE_pcmpeqw: case SSE_pcmpeqd: case SSE_pcmpeqq:
            r[i] = swar_cmpeq(a, b, bits);
            break;
        case SSE_pminub: case SSE_pmaxub:
            r[i] = swar_select(a, b, swar_ltu(a, b, 8), op == SSE_pmaxub);
            break;
        case SSE_pminsw: case SSE_pmaxsw:
            r[i] = swar_select(a, b, swar_ltu(flip(a, 16), flip(b, 16), 16), op == SSE_pmaxsw);
            break;
        case SSE_pcmpgtb: case SSE_pcmpgtw: case SSE_pcmpgtd:
            r[i] = swar_ltu(flip(b, bits), flip(a, bits), bits);    /* a > b: b < a */
            break;
        default:
            r[i] = swar_add(a, b, bits, op == SSE_psubb || op == SSE_psubw || op == SSE_psubd ||
                                        op == SSE_psubq);
            break;
        }
    }
    for (unsigned i = 0; i < width / 8; i++)
        gen_env_st(r[i], d + 8 * i, MO_64);
    return true;
}

/* Moves of 32-bit lanes: dst lane i = (src[i] ? s : d) lane sel[i]. */
static void gen_dword_shuffle(int64_t d, int64_t s, const int8_t from_s[4], const uint8_t sel[4])
{
    TCGv v[4];
    for (int i = 0; i < 4; i++)
        v[i] = gen_env_ld((from_s[i] ? s : d) + 4 * sel[i], MO_32);
    for (int i = 0; i < 4; i++)
        gen_env_st(v[i], d + 4 * i, MO_32);
}

static bool gen_shuffle(unsigned op, int64_t d, int64_t s, unsigned width, uint32_t imm)
{
    if (width != 16)
        return false;
    static const int8_t all_s[4] = { 1, 1, 1, 1 };
    static const int8_t alt[4] = { 0, 1, 0, 1 };
    static const uint8_t lo[4] = { 0, 0, 1, 1 }, hi[4] = { 2, 2, 3, 3 };
    switch (op) {
    case SSE_pshufd: {
        uint8_t sel[4] = { imm & 3, (imm >> 2) & 3, (imm >> 4) & 3, (imm >> 6) & 3 };
        gen_dword_shuffle(d, s, all_s, sel);
        return true;
    }
    case SSE_shufps: {
        static const int8_t from[4] = { 0, 0, 1, 1 };
        uint8_t sel[4] = { imm & 3, (imm >> 2) & 3, (imm >> 4) & 3, (imm >> 6) & 3 };
        gen_dword_shuffle(d, s, from, sel);
        return true;
    }
    case SSE_shufpd: {
        TCGv a = gen_env_ld(d + 8 * (imm & 1), MO_64), b = gen_env_ld(s + 8 * ((imm >> 1) & 1), MO_64);
        gen_env_st(a, d, MO_64);
        gen_env_st(b, d + 8, MO_64);
        return true;
    }
    case SSE_punpckldq: gen_dword_shuffle(d, s, alt, lo); return true;
    case SSE_punpckhdq: gen_dword_shuffle(d, s, alt, hi); return true;
    case SSE_punpcklqdq:
        gen_env_st(gen_env_ld(s, MO_64), d + 8, MO_64);
        return true;
    case SSE_punpckhqdq: {
        TCGv a = gen_env_ld(d + 8, MO_64), b = gen_env_ld(s + 8, MO_64);
        gen_env_st(a, d, MO_64);
        gen_env_st(b, d + 8, MO_64);
        return true;
    }
    default:
        return false;
    }
}

/* The 32 low bits of x with each element of esize bits moved to the low
 * half of a 2*esize slot (zeros between). */
static TCGv spread(TCGv x, unsigned esize)
{
    TCGv r = tcg_temp_new(), t = tcg_temp_new();
    tcg_gen_andi(r, x, 0xffffffffULL);
    tcg_gen_shli(t, r, 16);
    tcg_gen_or(r, r, t);
    tcg_gen_andi(r, r, 0x0000ffff0000ffffULL);
    if (esize == 8) {
        tcg_gen_shli(t, r, 8);
        tcg_gen_or(r, r, t);
        tcg_gen_andi(r, r, 0x00ff00ff00ff00ffULL);
    }
    return r;
}

static TCGv interleave(TCGv a, TCGv b, unsigned esize)
{
    TCGv r = spread(a, esize), t = spread(b, esize);
    tcg_gen_shli(t, t, esize);
    tcg_gen_or(r, r, t);
    return r;
}

/* PUNPCKL/H BW and WD: the elements of one half of d and s interleaved. */
static bool gen_unpack(unsigned op, int64_t d, int64_t s, unsigned width)
{
    unsigned esize;
    bool high;
    switch (op) {
    case SSE_punpcklbw: esize = 8; high = false; break;
    case SSE_punpckhbw: esize = 8; high = true; break;
    case SSE_punpcklwd: esize = 16; high = false; break;
    case SSE_punpckhwd: esize = 16; high = true; break;
    default: return false;
    }
    int64_t half = high ? width / 2 : 0;
    if (width == 8) {
        TCGv a = gen_env_ld(d + half, MO_32), b = gen_env_ld(s + half, MO_32);
        gen_env_st(interleave(a, b, esize), d, MO_64);
        return true;
    }
    TCGv a = gen_env_ld(d + half, MO_64), b = gen_env_ld(s + half, MO_64);
    TCGv lo = interleave(a, b, esize), ah = tcg_temp_new(), bh = tcg_temp_new();
    tcg_gen_shri(ah, a, 32);
    tcg_gen_shri(bh, b, 32);
    TCGv hi = interleave(ah, bh, esize);
    gen_env_st(lo, d, MO_64);
    gen_env_st(hi, d + 8, MO_64);
    return true;
}

/* ---- scalar floating point --------------------------------------------------
 * The scalar SSE operations compiled code runs most (arithmetic, compares,
 * conversions) become one fpop on the low lane while MXCSR has its default
 * control bits (all exceptions masked, round to nearest, no DAZ/FTZ), which
 * is how such code runs; any other MXCSR takes helper_sse as before. Same
 * results and flags either way. */
typedef struct FpOpMap { uint16_t op; uint8_t fpop; } FpOpMap;

static const FpOpMap fp_arith[] = {
    { SSE_addsd, TCG_FP_ADD }, { SSE_subsd, TCG_FP_SUB }, { SSE_mulsd, TCG_FP_MUL },
    { SSE_divsd, TCG_FP_DIV }, { SSE_sqrtsd, TCG_FP_SQRT },
    { SSE_addss, TCG_FP_ADD | TCG_FP_F32 }, { SSE_subss, TCG_FP_SUB | TCG_FP_F32 },
    { SSE_mulss, TCG_FP_MUL | TCG_FP_F32 }, { SSE_divss, TCG_FP_DIV | TCG_FP_F32 },
    { SSE_sqrtss, TCG_FP_SQRT | TCG_FP_F32 },
};
static const FpOpMap fp_compare[] = {
    { SSE_ucomisd, TCG_FP_UCOM }, { SSE_comisd, TCG_FP_COM },
    { SSE_ucomiss, TCG_FP_UCOM | TCG_FP_F32 }, { SSE_comiss, TCG_FP_COM | TCG_FP_F32 },
};
static const FpOpMap fp_from_int[] = {
    { SSE_cvtsi2sd, TCG_FP_FROM_INT }, { SSE_cvtsi2ss, TCG_FP_FROM_INT | TCG_FP_F32 },
};
static const FpOpMap fp_to_int[] = {
    { SSE_cvttsd2si, TCG_FP_TO_INT }, { SSE_cvttss2si, TCG_FP_TO_INT | TCG_FP_F32 },
};

/* The fpop for op in the map, or -1. */
static int fpop_of(const FpOpMap *map, size_t n, unsigned op)
{
    for (size_t i = 0; i < n; i++)
        if (map[i].op == op)
            return map[i].fpop;
    return -1;
}
#define FPOP_OF(map, op) fpop_of(map, ARRAY_SIZE(map), op)

/* Fast-path entry: on to the returned label unless MXCSR's control bits are
 * the default ones. */
static int gen_fast_guard(void)
{
    int slow = gen_new_label();
    TCGv ctrl = gen_env_ld(ENV_OFF(mxcsr), MO_32);
    tcg_gen_andi(ctrl, ctrl, 0xffc0);
    tcg_gen_brcondi(TCG_COND_NE, 0, ctrl, 0x1f80, slow);
    return slow;
}

/* Fast-path exit: the flags raised into MXCSR; then the slow path, helper_sse
 * on the same operands (its result, if any, into ret). */
static void gen_fast_end(TCGv flags, int slow, unsigned op, int64_t d, int64_t s, uint32_t imm,
                         TCGv ret)
{
    int done = gen_new_label();
    TCGv m = gen_env_ld(ENV_OFF(mxcsr), MO_32);
    tcg_gen_or(m, m, flags);
    gen_env_st(m, ENV_OFF(mxcsr), MO_32);
    tcg_gen_br(done);
    tcg_gen_set_label(slow);
    TCGv pd = tcg_temp_new(), ps = tcg_temp_new();
    tcg_gen_addi(pd, tcg_env, (uint64_t)d);
    tcg_gen_addi(ps, tcg_env, (uint64_t)s);
    gen_helper(helper_sse, ret == TCG_NO_TEMP ? tcg_temp_new() : ret, 4, tcg_env, pd, ps,
               tcg_const(SSE_DESC(op, 16, imm)));
    tcg_gen_set_label(done);
}

/* ADDSD & co.: d.low = d.low OP s.low (SQRT: of s.low); the rest of d stays. */
bool gen_sse_ir_scalar_fp(unsigned op, int64_t d, int64_t s, uint32_t imm)
{
    int fpop = FPOP_OF(fp_arith, op);
    if (fpop < 0)
        return false;
    unsigned mo = (fpop & TCG_FP_F32) ? MO_32 : MO_64;
    int slow = gen_fast_guard();
    TCGv a = gen_env_ld(d, mo), b = gen_env_ld(s, mo), r = tcg_temp_new(), fl = tcg_temp_new();
    bool unary = (fpop & TCG_FP_OP_MASK) == TCG_FP_SQRT;
    tcg_gen_fpop((unsigned)fpop, r, fl, unary ? b : a, b);
    gen_env_st(r, d, mo);
    gen_fast_end(fl, slow, op, d, s, imm, TCG_NO_TEMP);
    return true;
}

/* (U)COMISD/(U)COMISS: the EFLAGS bits (ZF PF CF), or TCG_NO_TEMP for other ops. */
TCGv gen_sse_ir_fp_compare(unsigned op, int64_t d, int64_t s)
{
    int fpop = FPOP_OF(fp_compare, op);
    if (fpop < 0)
        return TCG_NO_TEMP;
    unsigned mo = (fpop & TCG_FP_F32) ? MO_32 : MO_64;
    TCGv eflags = tcg_temp_local_new(), fl = tcg_temp_new();
    int slow = gen_fast_guard();
    tcg_gen_fpop((unsigned)fpop, eflags, fl, gen_env_ld(d, mo), gen_env_ld(s, mo));
    gen_fast_end(fl, slow, op, d, s, 0, eflags);
    return eflags;
}

/* CVTSI2SD/SS: the integer at env offset s (64-bit when imm bit 0) into the
 * low lane of d. */
bool gen_sse_ir_cvt_from_int(unsigned op, int64_t d, int64_t s, uint32_t imm)
{
    int fpop = FPOP_OF(fp_from_int, op);
    if (fpop < 0)
        return false;
    fpop |= (imm & 1) ? TCG_FP_I64 : 0;
    int slow = gen_fast_guard();
    TCGv r = tcg_temp_new(), fl = tcg_temp_new(), a = gen_env_ld(s, (imm & 1) ? MO_64 : MO_32);
    tcg_gen_fpop((unsigned)fpop, r, fl, a, a);
    gen_env_st(r, d, (fpop & TCG_FP_F32) ? MO_32 : MO_64);
    gen_fast_end(fl, slow, op, d, s, imm, TCG_NO_TEMP);
    return true;
}

/* CVTTSD2SI/SS of the low lane at s: the integer (the helper's result goes
 * through scratch d), or TCG_NO_TEMP for other ops. */
TCGv gen_sse_ir_cvt_to_int(unsigned op, int64_t d, int64_t s, uint32_t imm)
{
    int fpop = FPOP_OF(fp_to_int, op);
    if (fpop < 0)
        return TCG_NO_TEMP;
    fpop |= (imm & 1) ? TCG_FP_I64 : 0;
    TCGv r = tcg_temp_local_new(), fl = tcg_temp_new();
    int slow = gen_fast_guard();
    TCGv a = gen_env_ld(s, (fpop & TCG_FP_F32) ? MO_32 : MO_64);
    tcg_gen_fpop((unsigned)fpop, r, fl, a, a);
    gen_fast_end(fl, slow, op, d, s, imm, r);
    return r;
}

/* ---- byte shifts: PSRLDQ, PSLLDQ, PALIGNR ---------------------------------------
 * Each is a window of nout qwords taken k bytes into a little-endian
 * concatenation of qwords (zero past either end). */
static void gen_byte_window(const TCGv *src, unsigned nsrc, unsigned k, unsigned nout, TCGv *out)
{
    unsigned j = k / 8, r = 8 * (k % 8);
    for (unsigned i = 0; i < nout; i++) {
        unsigned lo = i + j, hi = i + j + 1;
        TCGv v = tcg_temp_new();
        if (lo >= nsrc) {
            tcg_gen_movi(v, 0);
        } else if (r == 0) {
            tcg_gen_mov(v, src[lo]);
        } else {
            tcg_gen_shri(v, src[lo], r);
            if (hi < nsrc) {
                TCGv t = tcg_temp_new();
                tcg_gen_shli(t, src[hi], 64 - r);
                tcg_gen_or(v, v, t);
            }
        }
        out[i] = v;
    }
}

/* Loads the n qwords at env offset off into v from index at. */
static void load_qwords(TCGv *v, unsigned at, int64_t off, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        v[at + i] = gen_env_ld(off + 8 * i, MO_64);
}

static void store_qwords(const TCGv *v, int64_t off, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        gen_env_st(v[i], off + 8 * i, MO_64);
}

/* PALIGNR: the bytes of s:d (s low) from imm on. */
static bool gen_palignr(int64_t d, int64_t s, unsigned width, uint32_t imm)
{
    unsigned n = width / 8;
    TCGv cat[4] = { TCG_NO_TEMP, TCG_NO_TEMP, TCG_NO_TEMP, TCG_NO_TEMP }, r[2];
    load_qwords(cat, 0, s, n);
    load_qwords(cat, n, d, n);
    gen_byte_window(cat, 2 * n, (imm & 0xff) >= 2 * width ? 4 * width : imm & 0xff, n, r);
    store_qwords(r, d, n);
    return true;
}

/* PSRLDQ/PSLLDQ by count bytes (16 or more: zero). */
static void gen_byte_shift(int64_t d, unsigned count, bool left)
{
    TCGv v[4], r[2];
    unsigned k = count > 16 ? 16 : count;
    if (left) {
        /* zeros below the register: the window starts 16 - k bytes in */
        load_qwords(v, 2, d, 2);
        v[0] = v[1] = tcg_const(0);
        gen_byte_window(v, 4, 16 - k, 2, r);
    } else {
        load_qwords(v, 0, d, 2);
        gen_byte_window(v, 2, k, 2, r);
    }
    store_qwords(r, d, 2);
}

/* ---- host vector instructions (vecop) -------------------------------------------------
 * The 16-byte integer operations as one IR op that the x86-64 backend emits
 * as the host's own instruction on the env slots (the interpreter runs
 * tcg_vecop_c) instead of a call of helper_sse. */
typedef struct VecHost {
    uint8_t form, map, opcode, digit, has_imm;
} VecHost;

#define RR(o, m, opc) [SSE_##o] = { TCG_VEC_RR, m, opc, 0, 0 }
#define RRI(o, m, opc) [SSE_##o] = { TCG_VEC_RR, m, opc, 0, 1 }
static const VecHost vec_host[SSE_OP_COUNT] = {
    RR(paddb, 1, 0xfc), RR(paddw, 1, 0xfd), RR(paddd, 1, 0xfe), RR(paddq, 1, 0xd4),
    RR(psubb, 1, 0xf8), RR(psubw, 1, 0xf9), RR(psubd, 1, 0xfa), RR(psubq, 1, 0xfb),
    RR(paddsb, 1, 0xec), RR(paddsw, 1, 0xed), RR(paddusb, 1, 0xdc), RR(paddusw, 1, 0xdd),
    RR(psubsb, 1, 0xe8), RR(psubsw, 1, 0xe9), RR(psubusb, 1, 0xd8), RR(psubusw, 1, 0xd9),
    RR(pcmpeqb, 1, 0x74), RR(pcmpeqw, 1, 0x75), RR(pcmpeqd, 1, 0x76),
    RR(pcmpgtb, 1, 0x64), RR(pcmpgtw, 1, 0x65), RR(pcmpgtd, 1, 0x66),
    RR(pminub, 1, 0xda), RR(pmaxub, 1, 0xde), RR(pminsw, 1, 0xea), RR(pmaxsw, 1, 0xee),
    RR(pand, 1, 0xdb), RR(pandn, 1, 0xdf), RR(por, 1, 0xeb), RR(pxor, 1, 0xef),
    RR(punpcklbw, 1, 0x60), RR(punpcklwd, 1, 0x61), RR(punpckldq, 1, 0x62), RR(punpcklqdq, 1, 0x6c),
    RR(punpckhbw, 1, 0x68), RR(punpckhwd, 1, 0x69), RR(punpckhdq, 1, 0x6a), RR(punpckhqdq, 1, 0x6d),
    RR(packsswb, 1, 0x63), RR(packuswb, 1, 0x67), RR(packssdw, 1, 0x6b),
    RR(pavgb, 1, 0xe0), RR(pavgw, 1, 0xe3), RR(pmullw, 1, 0xd5), RR(pmulhw, 1, 0xe5),
    RR(pmulhuw, 1, 0xe4), RR(pmuludq, 1, 0xf4), RR(pmaddwd, 1, 0xf5), RR(psadbw, 1, 0xf6),
    RR(psrlw, 1, 0xd1), RR(psrld, 1, 0xd2), RR(psrlq, 1, 0xd3), RR(psraw, 1, 0xe1),
    RR(psrad, 1, 0xe2), RR(psllw, 1, 0xf1), RR(pslld, 1, 0xf2), RR(psllq, 1, 0xf3),
    [SSE_pshufd] = { TCG_VEC_FROM_S, 1, 0x70, 0, 1 },
    RR(pshufb, 2, 0x00), RR(phaddw, 2, 0x01), RR(phaddd, 2, 0x02), RR(phaddsw, 2, 0x03),
    RR(pmaddubsw, 2, 0x04), RR(phsubw, 2, 0x05), RR(phsubd, 2, 0x06), RR(phsubsw, 2, 0x07),
    RR(psignb, 2, 0x08), RR(psignw, 2, 0x09), RR(psignd, 2, 0x0a), RR(pmulhrsw, 2, 0x0b),
    RR(pabsb, 2, 0x1c), RR(pabsw, 2, 0x1d), RR(pabsd, 2, 0x1e), RRI(palignr, 3, 0x0f),
    RR(pmuldq, 2, 0x28), RR(pcmpeqq, 2, 0x29), RR(packusdw, 2, 0x2b),
    RR(pminsb, 2, 0x38), RR(pminsd, 2, 0x39), RR(pminuw, 2, 0x3a), RR(pminud, 2, 0x3b),
    RR(pmaxsb, 2, 0x3c), RR(pmaxsd, 2, 0x3d), RR(pmaxuw, 2, 0x3e), RR(pmaxud, 2, 0x3f),
    RR(pmulld, 2, 0x40),
};
#undef RR
#undef RRI

/* The shift-by-immediate forms (0F 71-73 /digit) of the same operations. */
typedef struct VecShift {
    uint16_t op;
    uint8_t opcode, digit;
} VecShift;
static const VecShift vec_shift_imm[] = {
    { SSE_psrlw, 0x71, 2 }, { SSE_psraw, 0x71, 4 }, { SSE_psllw, 0x71, 6 },
    { SSE_psrld, 0x72, 2 }, { SSE_psrad, 0x72, 4 }, { SSE_pslld, 0x72, 6 },
    { SSE_psrlq, 0x73, 2 }, { SSE_psrldq, 0x73, 3 }, { SSE_psllq, 0x73, 6 }, { SSE_pslldq, 0x73, 7 },
};

static bool gen_vecop_if_available(uint64_t desc, int64_t d, int64_t s, int64_t r)
{
    if (!tcg_vecop_available(desc))
        return false;
    tcg_gen_vecop(desc, d, s, r);
    return true;
}

/* op on the XMM registers at d and s as one host instruction. */
static bool gen_vec_host(unsigned op, int64_t d, int64_t s, uint32_t imm)
{
    const VecHost *v = &vec_host[op];
    if (!v->map)
        return false;
    return gen_vecop_if_available(TCG_VEC_DESC(v->form, v->map, v->opcode, v->digit, v->has_imm, imm, op),
                                  d, s, 0);
}

static bool gen_vec_host_shift_imm(unsigned op, int64_t d, unsigned count)
{
    for (size_t i = 0; i < ARRAY_SIZE(vec_shift_imm); i++) {
        const VecShift *v = &vec_shift_imm[i];
        if (v->op == op)
            return gen_vecop_if_available(TCG_VEC_DESC(TCG_VEC_SHIFT, 1, v->opcode, v->digit, 1, count, op),
                                          d, d, 0);
    }
    return false;
}

/* PCMPISTRI: EFLAGS bits | the index << 32 (the result passes through the
 * env slot at r), or TCG_NO_TEMP when the host cannot. */
TCGv gen_sse_ir_pcmpistri(int64_t d, int64_t s, uint32_t imm, int64_t r)
{
    if (!gen_vecop_if_available(TCG_VEC_DESC(TCG_VEC_STRI, 3, 0x63, 0, 1, imm, SSE_pcmpistri), d, s, r))
        return TCG_NO_TEMP;
    return gen_env_ld(r, MO_64);
}

/* SWAR IR first where we have it: each op loads and stores its halves
 * through env, and a chain of 16-byte vecops through env measured twice as
 * slow as the same chain in SWAR (store-to-load forwarding of vector
 * registers). vecop takes what would otherwise be a helper call. */
bool gen_sse_ir(unsigned op, int64_t d, int64_t s, unsigned width, uint32_t imm)
{
    if (op == SSE_palignr)
        return gen_palignr(d, s, width, imm);
    return gen_halves(op, d, s, width) || gen_shuffle(op, d, s, width, imm) ||
           gen_unpack(op, d, s, width) || (width == 16 && gen_vec_host(op, d, s, imm));
}

/* Shift by immediate (0F 71-73) of the register at d. */
bool gen_sse_ir_shift_imm(unsigned op, int64_t d, unsigned width, unsigned count)
{
    unsigned bits;
    bool left;
    switch (op) {
    case SSE_psllw: bits = 16; left = true; break;
    case SSE_pslld: bits = 32; left = true; break;
    case SSE_psllq: bits = 64; left = true; break;
    case SSE_psrlw: bits = 16; left = false; break;
    case SSE_psrld: bits = 32; left = false; break;
    case SSE_psrlq: bits = 64; left = false; break;
    case SSE_pslldq: case SSE_psrldq:
        if (width != 16)
            return false;
        gen_byte_shift(d, count, op == SSE_pslldq);
        return true;
    default:
        return width == 16 && gen_vec_host_shift_imm(op, d, count);
    }
    TCGv r[2];
    for (unsigned i = 0; i < width / 8; i++)
        r[i] = swar_shift(gen_env_ld(d + 8 * i, MO_64), bits, count, left);
    for (unsigned i = 0; i < width / 8; i++)
        gen_env_st(r[i], d + 8 * i, MO_64);
    return true;
}

/* PMOVMSKB: the byte sign bits of the register at s, gathered. */
TCGv gen_sse_ir_pmovmskb(int64_t s, unsigned width)
{
    TCGv r = tcg_temp_new();
    tcg_gen_movi(r, 0);
    for (unsigned i = 0; i < width / 8; i++) {
        TCGv m = andi(gen_env_ld(s + 8 * i, MO_64), 0x8080808080808080ULL);
        tcg_gen_op3(INDEX_op_mul, 0, m, m, tcg_const(0x0002040810204081ULL));
        tcg_gen_shri(m, m, 56);
        if (i)
            tcg_gen_shli(m, m, 8);
        tcg_gen_or(r, r, m);
    }
    return r;
}
