/* MMX/SSE..SSE4.2 and x87 against the host CPU. Each snippet
 * (test-simd-cases.h, assembled by gen-simd-cases.py) runs inside a wrapper
 * that loads XMM0-7, RAX-RDX, EFLAGS, MXCSR and the x87 control word from a
 * data block and stores them back (plus FNSAVE of the whole x87 state);
 * natively in a child process and under the translator (both backends), at
 * the same addresses, through the oracle's harness (harness-oracle.h). Operands are random from a fixed seed with signed
 * zeros, infinities, NaNs with payloads, denormals and values near rounding
 * boundaries, in every rounding mode, with DAZ/FTZ and x87 precision
 * control varied; the data blocks must agree bit for bit. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/simd.h"
#include "harness.h"
#include "harness-oracle.h"
#include "system/machine.h"
#include "system/memory.h"
#include "hw/ferr.h"
#include "system/irq.h"
#include "test-simd-cases.h"

#define CODE_ADDR ORACLE_CODE
#define DATA_ADDR ORACLE_DATA   /* the wrapper's data block (absolute in the prologue) */
#define STACK_ADDR 0x10080000ULL
#define DATA_SIZE 0x200
_Static_assert(DATA_SIZE <= ORACLE_MEM_CMP, "the data block is compared whole");
/* iterations per case; SIMD_ITER=n for a longer hunt */
static int ITER = 24;

enum { SHAPE_F32, SHAPE_F64, SHAPE_INT, SHAPE_X87, SHAPE_BCD };

typedef struct Case {
    const char *name;
    int shape;
    unsigned len;
    uint8_t code[32];
} Case;

static const Case cases[] = {
#define SIMD_CASE
#include "test-simd-cases.h"
#undef SIMD_CASE
};
#define NCASES ARRAY_SIZE(cases)

static const uint8_t prologue[] = SIMD_PROLOGUE;
static const uint8_t epilogue[] = SIMD_EPILOGUE;

/* data block layout (see gen-simd-cases.py) */
#define D_XMM 0x00
#define D_GPR 0x80
#define D_FLAGS_IN 0xa0
#define D_FLAGS_OUT 0xa8
#define D_MXCSR_IN 0xb0
#define D_MXCSR_OUT 0xb4
#define D_FCW 0xb8
#define D_MXCSR_DEFAULT 0xc0
#define D_MEM 0x100
#define D_FSAVE 0x180

/* ---- random operands ------------------------------------------------------------------ */
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint32_t rnd_f32(void)
{
    static const uint32_t special[] = {
        0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc12345, 0x7f812345,
        0xff8abcde, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x3f800000, 0xbf800000,
        0x4b000000, 0x3f000000, 0x3fc00000, 0x4f000000, 0xcf000000, 0x5f000000, 0x00400000,
    };
    uint64_t r = rnd();
    switch (r % 8) {
    case 0: case 1: case 2: return special[(r >> 8) % ARRAY_SIZE(special)];
    case 3: return (uint32_t)rnd();
    case 4: return (uint32_t)(rnd() & 0x807fffff);                 /* denormals */
    case 5: return (uint32_t)((rnd() & 0x807fffff) | 0x4b000000 | (r >> 40 & 1) << 23); /* near integers */
    default: return (uint32_t)((rnd() & 0x807fffff) | (uint32_t)(0x3c + r % 8) << 24);
    }
}

static uint64_t rnd_f64(void)
{
    static const uint64_t special[] = {
        0, 0x8000000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
        0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff8000012345678ull, 0x7ff0000012345678ull,
        0x0000000000000001ull, 0x800fffffffffffffull, 0x0010000000000000ull, 0x7fefffffffffffffull,
        0x3ff0000000000000ull, 0xbff0000000000000ull, 0x4330000000000000ull, 0x3fe0000000000000ull,
        0x41e0000000000000ull, 0xc1e0000000000000ull, 0x43e0000000000000ull, 0x3ff8000000000000ull,
        0x400921fb54442d18ull, 0x47efffffe0000000ull, 0x380fffffe0000000ull,
    };
    uint64_t r = rnd();
    switch (r % 8) {
    case 0: case 1: case 2: return special[(r >> 8) % ARRAY_SIZE(special)];
    case 3: return rnd();
    case 4: return rnd() & 0x800fffffffffffffull;
    case 5: return (rnd() & 0x800fffffffffffffull) | 0x4330000000000000ull;
    default: return (rnd() & 0x800fffffffffffffull) | (uint64_t)(0x3f8 + r % 16) << 52;
    }
}

static uint64_t rnd_int(void)
{
    static const uint64_t v[] = {
        0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
        0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, 0x0041004200430044ULL,
    };
    uint64_t r = rnd();
    switch (r % 4) {
    case 0: return v[(r >> 8) % ARRAY_SIZE(v)];
    case 1: return rnd() & 0x0707070707070707ULL;   /* small lanes: shift counts, equal bytes */
    case 2: return rnd() & 0x00ff00ff00ff00ffULL;
    default: return rnd();
    }
}

static void fill_lanes(uint8_t *p, unsigned len, int shape)
{
    for (unsigned i = 0; i < len; i += 8) {
        uint64_t v;
        if (shape == SHAPE_F32)
            v = rnd_f32() | (uint64_t)rnd_f32() << 32;
        else if (shape == SHAPE_F64 || shape == SHAPE_X87)
            v = rnd_f64();
        else
            v = rnd_int();
        memcpy(p + i, &v, 8);
    }
}

static void make_inputs(const Case *c, uint8_t *d)
{
    memset(d, 0, DATA_SIZE);
    fill_lanes(d + D_XMM, 0x80, c->shape);
    fill_lanes(d + D_MEM, 0x40, c->shape);
    if (c->shape == SHAPE_BCD) {
        for (int i = 0; i < 9; i++)
            d[D_MEM + i] = (uint8_t)(rnd() % 10 | (rnd() % 10) << 4);
        d[D_MEM + 9] = (uint8_t)(rnd() & 0x80);
    }
    for (int i = 0; i < 4; i++) {
        uint64_t v = c->shape == SHAPE_INT ? rnd_int() : rnd();
        if (i == 0 || i == 2)    /* EAX/EDX: explicit lengths of PCMPESTR* */
            v = (rnd() & 1) ? (uint64_t)(int64_t)(int8_t)(rnd() % 40 - 20) : v;
        memcpy(d + D_GPR + 8 * i, &v, 8);
    }
    uint64_t flags = (rnd() & CC_MASK) | 0x202;
    memcpy(d + D_FLAGS_IN, &flags, 8);
    uint32_t mxcsr = 0x1f80 | (uint32_t)(rnd() & 3) << 13 | (uint32_t)(rnd() & 0x3f);
    if (rnd() % 4 == 0)
        mxcsr |= 0x40;          /* DAZ */
    if (rnd() % 4 == 0)
        mxcsr |= 0x8000;        /* FTZ */
    memcpy(d + D_MXCSR_IN, &mxcsr, 4);
    static const uint16_t pc[3] = { 0, 2, 3 };
    uint16_t fcw = (uint16_t)(0x7f | pc[rnd() % 3] << 8 | (rnd() & 3) << 10);
    if (rnd() % 2)
        fcw = 0x37f | (uint16_t)((rnd() & 3) << 10);
    memcpy(d + D_FCW, &fcw, 2);
    uint32_t def = 0x1f80;
    memcpy(d + D_MXCSR_DEFAULT, &def, 4);
}

/* The wrapped snippet; `last` (if not 0) ends it for the exception tests. */
static unsigned build_code(const Case *c, uint8_t *mem, uint8_t last)
{
    unsigned n = 0;
    memcpy(mem + n, prologue, sizeof(prologue));
    n += sizeof(prologue);
    memcpy(mem + n, c->code, c->len);
    n += c->len;
    memcpy(mem + n, epilogue, sizeof(epilogue));
    n += sizeof(epilogue);
    if (last)
        mem[n++] = last;
    return n;
}

/* ---- the batch: every case with ITER inputs, natively once -------------------------------- */
static OracleBatch batch;

static OracleBatch *get_batch(void)
{
    if (batch.cases)
        return &batch;
    if (getenv("SIMD_ITER") && atoi(getenv("SIMD_ITER")) > 0)
        ITER = atoi(getenv("SIMD_ITER"));
    oracle_batch_init(&batch, NCASES, (size_t)ITER, 64);
    for (unsigned ci = 0; ci < NCASES; ci++) {
        for (int k = 0; k < ITER; k++) {
            OracleCase *oc = oracle_batch_case(&batch, ci, (size_t)k);
            snprintf(oc->name, sizeof(oc->name), "%s", cases[ci].name);
            oc->len = build_code(&cases[ci], oc->code, 0);
            make_inputs(&cases[ci], oc->data);
        }
    }
    return &batch;
}

/* ---- the exception tests' machine: the oracle's RAM ------------------------------------ */
static uint8_t *guest_ram;

static void setup_machine(void)
{
    guest_ram = oracle_tcg_ram();
}

static CPUX86State *new_cpu(bool interp)
{
    CPUX86State *env = calloc(1, sizeof(*env));
    tcg_select_backend(interp);
    env->a20_mask = ~0ULL;
    env->exception_index = -1;
    env->old_exception = -1;
    env->cr[0] = CR0_PE | CR0_ET | CR0_NE | CR0_MP;
    env->cr[4] = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    env->efer = EFER_LME | EFER_LMA;
    env->segs[R_CS].flags = DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_L_MASK | DESC_R_MASK;
    env->segs[R_CS].limit = 0xffffffff;
    env->segs[R_CS].selector = 0x33;   /* Linux's user selectors, as in the native run */
    env->segs[R_SS].selector = 0x2b;
    for (int s = 0; s < 6; s++) {
        if (s == R_CS)
            continue;
        env->segs[s].flags = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_B_MASK;
        env->segs[s].limit = 0xffffffff;
    }
    env->hflags = HF_PE_MASK | HF_CS32_MASK | HF_SS32_MASK | HF_LMA_MASK | HF_CS64_MASK |
                  HF_OSFXSR_MASK | HF_MP_MASK;
    env->mxcsr = 0x1f80;
    env->fpuc = 0x37f;
    env->fptags = 0xff;
    tcg_cpu_create(env, NULL);
    return env;
}

/* Bytes whose value the architecture leaves to the implementation: FCS and
 * FDS in FNSAVE's image (deprecated on recent hosts: stored as 0), FIP and
 * FDP when the host lost them, and the contents of empty registers (FNINIT
 * does not clear them: stale values). */
static bool ignored_byte(const uint8_t *host, unsigned at)
{
    if ((at >= D_FSAVE + 16 && at < D_FSAVE + 18) || (at >= D_FSAVE + 24 && at < D_FSAVE + 28))
        return true;
    /* FIP and FDP: an AMD host stores 0 for them once the kernel has
     * restored the x87 state (a context switch of the native child between
     * the instruction and the FNSAVE); any other host value must match */
    if ((at >= D_FSAVE + 12 && at < D_FSAVE + 16) || (at >= D_FSAVE + 20 && at < D_FSAVE + 24)) {
        uint32_t v;
        memcpy(&v, host + (at & ~3u), 4);
        if (v == 0)
            return true;
    }
    if (at < D_FSAVE + 28 || at >= D_FSAVE + 108)
        return false;
    uint16_t fsw, ftw;
    memcpy(&fsw, host + D_FSAVE + 4, 2);
    memcpy(&ftw, host + D_FSAVE + 8, 2);
    unsigned i = (at - D_FSAVE - 28) / 10, phys = ((fsw >> 11) + i) & 7;
    return ((ftw >> (2 * phys)) & 3) == 3;
}

static int compare_case(OracleTCG *t, unsigned ci, char *why, size_t n)
{
    const Case *c = &cases[ci];
    OracleResult *got = malloc(sizeof(*got));
    int bad = 0;
    for (int k = 0; k < ITER && !bad; k++) {
        const OracleCase *oc = oracle_batch_case(&batch, ci, (size_t)k);
        const OracleResult *ref = &batch.native[oc - batch.cases];
        const uint8_t *in = oc->data;
        oracle_tcg_run(t, oc, got);
        if (ref->end != ORACLE_END_OK || got->end != ORACLE_END_OK) {
            char a[160], b[160];
            oracle_describe_result(ref, 64, a, sizeof(a));
            oracle_describe_result(got, 64, b, sizeof(b));
            snprintf(why, n, "%s (iter %d): did not reach the end: host %s; translator %s",
                     c->name, k, a, b);
            bad = 1;
            break;
        }
        for (unsigned at = 0; at < DATA_SIZE; at++) {
            if (got->data[at] == ref->data[at] || ignored_byte(ref->data, at))
                continue;
            unsigned base = at & ~7u;
            uint64_t g, want, inv;
            memcpy(&g, got->data + base, 8);
            memcpy(&want, ref->data + base, 8);
            memcpy(&inv, in + base, 8);
            uint32_t mx;
            memcpy(&mx, in + D_MXCSR_IN, 4);
            snprintf(why, n, "%s (iter %d, mxcsr %#x): data +%#x: %016" PRIx64 ", host %016" PRIx64
                     " (input %016" PRIx64 ")", c->name, k, mx, base, g, want, inv);
            if (getenv("SIMD_DEBUG")) {
                for (unsigned i = 0; i < 0x100; i += 8) {
                    uint64_t x, y, z;
                    memcpy(&x, got->data + i, 8);
                    memcpy(&y, ref->data + i, 8);
                    memcpy(&z, in + i, 8);
                    fprintf(stderr, "%03x in %016" PRIx64 " got %016" PRIx64 " host %016" PRIx64 "%s\n",
                            i, z, x, y, x != y ? "  <--" : "");
                }
            }
            bad = 1;
            break;
        }
    }
    free(got);
    return bad;
}

static void run_backend(bool interp, bool host_fpu)
{
    sse_use_host_fpu = host_fpu;
    tcg_vecop_use_host = host_fpu;   /* x86-64: helper_sse or the host's vector instructions */
    /* SIMD_X87_SOFT=1: softfloat transcendentals too (they may differ from
     * the host in the last bit; see fpu-x87-trans.c) */
    x87_use_host_fpu = !getenv("SIMD_X87_SOFT");
    if (!oracle_batch_run_native(get_batch()))
        SKIP(batch.why);
    OracleTCG *t = oracle_tcg_new(interp);
    int failures = 0;
    const char *only = getenv("SIMD_CASE");
    for (unsigned ci = 0; ci < NCASES; ci++) {
        char why[1024];
        if (only && !strstr(cases[ci].name, only))
            continue;
        if (compare_case(t, ci, why, sizeof(why))) {
            failures++;
            test_fail(__FILE__, __LINE__, why);
        }
    }
    CHECK_EQ(failures, 0);
    oracle_tcg_free(t);
    sse_use_host_fpu = true;
    tcg_vecop_use_host = true;
}

/* softfloat and helper_sse for every SSE operation, then the host fast paths (FPU, vecop) */
TEST(simd_oracle_x86_64) { run_backend(false, false); }
TEST(simd_oracle_interp) { run_backend(true, false); }
TEST(simd_oracle_host_fpu)
{
    if (!sse_use_host_fpu)
        SKIP("no host-FPU fast path on this host");
    run_backend(false, true);
}

/* ---- exceptions and state instructions (no host oracle: the SDM's rules) ------------------- */
#define CODE(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Run code at CODE_ADDR (RSI = DATA_ADDR) until HLT or an exception; returns
 * the exception vector or -1. */
static int run_code(CPUX86State *env, const uint8_t *code, size_t len)
{
    TCGCPU *t = tcg_cpu(env);
    memcpy(guest_ram, code, len);
    guest_ram[len] = 0xf4;
    tb_flush(t);
    env->regs[R_ESP] = STACK_ADDR;
    env->regs[R_ESI] = DATA_ADDR;
    env->rip = CODE_ADDR;
    env->eflags = 2;
    cc_set_all(env, 0);
    env->halted = false;
    env->exception_index = -1;
    tcg_run_until_exit(env);
    return env->exception_index;
}

static CPUX86State *excp_cpu(uint64_t cr0_set, uint64_t cr4_clear)
{
    setup_machine();
    memset(guest_ram + (DATA_ADDR - CODE_ADDR), 0, 0x1000);
    CPUX86State *env = new_cpu(false);
    env->cr[0] |= cr0_set;
    env->cr[4] &= ~cr4_clear;
    if (cr0_set & CR0_TS)
        env->hflags |= HF_TS_MASK;
    if (cr0_set & CR0_EM)
        env->hflags |= HF_EM_MASK;
    if (cr4_clear & CR4_OSFXSR)
        env->hflags &= ~HF_OSFXSR_MASK;
    return env;
}

static void free_cpu(CPUX86State *env)
{
    tcg_cpu_destroy(env);
    free(env);
}

TEST(simd_cr0_ts_em_and_osfxsr)
{
    CPUX86State *env = excp_cpu(CR0_TS, 0);
    CHECK_EQ(run_code(env, CODE(0x0f, 0x58, 0xc1)), EXCP_NM);          /* addps */
    CHECK_EQ(run_code(env, CODE(0xd9, 0xe8)), EXCP_NM);                /* fld1 */
    CHECK_EQ(run_code(env, CODE(0x0f, 0xfc, 0xc1)), EXCP_NM);          /* paddb mm */
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x06)), EXCP_NM);          /* fxsave [rsi] */
    free_cpu(env);

    env = excp_cpu(CR0_EM, 0);
    CHECK_EQ(run_code(env, CODE(0x0f, 0x58, 0xc1)), EXCP_UD);          /* SSE: #UD */
    CHECK_EQ(run_code(env, CODE(0x0f, 0xfc, 0xc1)), EXCP_UD);          /* MMX: #UD */
    CHECK_EQ(run_code(env, CODE(0xd9, 0xe8)), EXCP_NM);                /* x87: #NM */
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x16)), EXCP_UD);          /* ldmxcsr */
    free_cpu(env);

    env = excp_cpu(0, CR4_OSFXSR);
    CHECK_EQ(run_code(env, CODE(0x0f, 0x58, 0xc1)), EXCP_UD);          /* SSE needs OSFXSR */
    CHECK_EQ(run_code(env, CODE(0x66, 0x0f, 0xfc, 0xc1)), EXCP_UD);    /* so does SSE2 */
    CHECK_EQ(run_code(env, CODE(0x0f, 0xfc, 0xc1)), -1);               /* MMX does not */
    CHECK_EQ(run_code(env, CODE(0xd9, 0xe8)), -1);
    free_cpu(env);
}

TEST(simd_alignment)
{
    CPUX86State *env = excp_cpu(0, 0);
    CHECK_EQ(run_code(env, CODE(0x66, 0x0f, 0x6f, 0x46, 0x01)), EXCP_GP);   /* movdqa xmm0,[rsi+1] */
    CHECK_EQ(env->rip, CODE_ADDR);
    CHECK_EQ(run_code(env, CODE(0xf3, 0x0f, 0x6f, 0x46, 0x01)), -1);        /* movdqu */
    CHECK_EQ(run_code(env, CODE(0x0f, 0x29, 0x46, 0x08)), EXCP_GP);         /* movaps [rsi+8],xmm0 */
    CHECK_EQ(run_code(env, CODE(0x0f, 0x58, 0x46, 0x04)), EXCP_GP);         /* addps xmm0,[rsi+4] */
    CHECK_EQ(run_code(env, CODE(0xf3, 0x0f, 0x58, 0x46, 0x04)), -1);        /* addss: scalar */
    CHECK_EQ(run_code(env, CODE(0x66, 0x0f, 0x3a, 0x63, 0x46, 0x01, 0x0c)), -1); /* pcmpistri */
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x46, 0x08)), EXCP_GP);         /* fxsave [rsi+8] */
    free_cpu(env);
}

TEST(simd_unmasked_xm)
{
    CPUX86State *env = excp_cpu(0, 0);
    env->mxcsr = 0x1f80 & ~0x200;                    /* ZM clear */
    env->xmm[0].d[0] = 0x3f800000;
    env->xmm[1].d[0] = 0;
    /* divss xmm0, xmm1 */
    CHECK_EQ(run_code(env, CODE(0xf3, 0x0f, 0x5e, 0xc1)), EXCP_XM);
    CHECK_EQ(env->xmm[0].d[0], 0x3f800000);          /* destination unchanged */
    CHECK(env->mxcsr & 4);                           /* ZE recorded */
    env->cr[4] &= ~(uint64_t)CR4_OSXMMEXCPT;
    CHECK_EQ(run_code(env, CODE(0xf3, 0x0f, 0x5e, 0xc1)), EXCP_UD);
    /* masked: infinity, ZE */
    env->mxcsr = 0x1f80;
    CHECK_EQ(run_code(env, CODE(0xf3, 0x0f, 0x5e, 0xc1)), -1);
    CHECK_EQ(env->xmm[0].d[0], 0x7f800000);
    CHECK_EQ(env->mxcsr, 0x1f84);
    /* LDMXCSR with a reserved bit: #GP */
    uint32_t bad = 0x10000;
    memcpy(guest_ram + (DATA_ADDR - CODE_ADDR), &bad, 4);
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x16)), EXCP_GP);
    free_cpu(env);
}

/* x87: an unmasked exception is reported at the next waiting instruction:
 * #MF with CR0.NE, nothing (FERR#) without. */
TEST(simd_x87_deferred_mf)
{
    /* fldz; fld1; fdivrp st(1) -> 1/0 with ZM clear; then fld1 */
    static const uint8_t code[] = { 0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xf1, 0xd9, 0xe8 };
    CPUX86State *env = excp_cpu(0, 0);
    env->fpuc = 0x37f & ~4;
    env->fptags = 0xff;
    /* fldcw from memory would need a load; set the control word directly */
    CHECK_EQ(run_code(env, code, sizeof(code)), EXCP_MF);
    CHECK_EQ(env->rip, CODE_ADDR + 6);               /* at the waiting fld1, not the fdivrp */
    CHECK(env->fpus & 0x0084);                       /* ES, ZE */
    CHECK_EQ(env->fpstt, 6);                         /* fdivrp neither wrote nor popped */
    free_cpu(env);

    env = excp_cpu(0, 0);
    env->cr[0] &= ~(uint64_t)CR0_NE;
    env->fpuc = 0x37f & ~4;
    env->fptags = 0xff;
    CHECK_EQ(run_code(env, code, sizeof(code)), -1);
    free_cpu(env);

    /* MMX instructions also deliver a pending x87 exception */
    env = excp_cpu(0, 0);
    env->fpus = 0x0084;
    CHECK_EQ(run_code(env, CODE(0x0f, 0xfc, 0xc1)), EXCP_MF);     /* paddb mm0, mm1 */
    CHECK_EQ(run_code(env, CODE(0x0f, 0x58, 0xc1)), -1);          /* SSE does not */
    free_cpu(env);

    /* fnclex clears ES: no #MF afterwards */
    static const uint8_t code2[] = { 0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xf1, 0xdb, 0xe2, 0xd9, 0xe8 };
    env = excp_cpu(0, 0);
    env->fpuc = 0x37f & ~4;
    env->fptags = 0xff;
    CHECK_EQ(run_code(env, code2, sizeof(code2)), -1);
    CHECK_EQ(env->fpus & 0x80, 0);
    free_cpu(env);
}

TEST(simd_fxsave_xsave)
{
    CPUX86State *env = excp_cpu(0, 0);
    uint8_t *mem = guest_ram + (DATA_ADDR - CODE_ADDR);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 4; j++)
            env->xmm[i].d[j] = 0x01010101u * (uint32_t)(i + 1) + (uint32_t)j;
    env->mxcsr = 0x3f80;
    env->fpuc = 0x27f;
    /* fld1; fldpi; rex.w fxsave [rsi] */
    CHECK_EQ(run_code(env, CODE(0xd9, 0xe8, 0xd9, 0xeb, 0x48, 0x0f, 0xae, 0x06)), -1);
    uint16_t fcw, fsw;
    uint32_t mxcsr, mask;
    memcpy(&fcw, mem, 2);
    memcpy(&fsw, mem + 2, 2);
    memcpy(&mxcsr, mem + 24, 4);
    memcpy(&mask, mem + 28, 4);
    CHECK_EQ(fcw, 0x27f);
    CHECK_EQ((fsw >> 11) & 7, 6);
    CHECK_EQ(mem[4], 0xc0);                          /* abridged tags: registers 6 and 7 valid */
    CHECK_EQ(mxcsr, 0x3f80);
    CHECK_EQ(mask, 0xffff);
    uint64_t pi_mant;
    memcpy(&pi_mant, mem + 32, 8);
    CHECK_EQ(pi_mant, 0xc90fdaa22168c235ULL);        /* ST0 = pi */
    CHECK_EQ(mem[160 + 16 * 15], 16);                /* XMM15 in 64-bit mode */

    /* without REX.W: FIP/FCS and FDP/FDS as 32-bit offset + selector */
    env->segs[R_CS].selector = 0x33;
    /* fld dword [rsi]; fxsave [rsi+64]; fstp st(0) */
    CHECK_EQ(run_code(env, CODE(0xd9, 0x06, 0x0f, 0xae, 0x46, 0x40, 0xdd, 0xd8)), -1);
    uint32_t fip, fdp;
    uint16_t fcs;
    memcpy(&fip, mem + 64 + 8, 4);
    memcpy(&fcs, mem + 64 + 12, 2);
    memcpy(&fdp, mem + 64 + 16, 4);
    CHECK_EQ(fip, (uint32_t)CODE_ADDR);
    CHECK_EQ(fcs, 0x33);
    CHECK_EQ(fdp, (uint32_t)DATA_ADDR);
    CHECK_EQ(mem[64 + 6], 0x06);                     /* FOP = D9 06 & 0x7ff */
    CHECK_EQ(mem[64 + 7], 0x01);
    CHECK_EQ(run_code(env, CODE(0x48, 0x0f, 0xae, 0x06)), -1);   /* back to the 64-bit image */

    /* wipe, then fxrstor brings everything back */
    memset(env->xmm, 0, sizeof(env->xmm));
    env->mxcsr = 0x1f80;
    env->fptags = 0xff;
    CHECK_EQ(run_code(env, CODE(0x48, 0x0f, 0xae, 0x0e)), -1);
    CHECK_EQ(env->xmm[15].d[3], 0x10101010u + 3);
    CHECK_EQ(env->mxcsr, 0x3f80);
    CHECK_EQ(env->fptags, 0x3f);
    CHECK_EQ(env->fpstt, 6);

    /* reserved MXCSR bit in the image: #GP */
    mask = 0x20000;
    memcpy(mem + 24, &mask, 4);
    CHECK_EQ(run_code(env, CODE(0x48, 0x0f, 0xae, 0x0e)), EXCP_GP);

    /* XSAVE needs CR4.OSXSAVE */
    env->regs[R_EAX] = 3;
    env->regs[R_EDX] = 0;
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x26)), EXCP_UD);
    env->cr[4] |= CR4_OSXSAVE;
    env->xcr0 = 3;
    memset(mem, 0xee, 0x300);
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x26)), -1);   /* xsave [rsi] */
    uint64_t bv;
    memcpy(&bv, mem + 512, 8);
    CHECK_EQ(bv, 0xeeeeeeeeeeeeeeefULL);             /* bits outside RFBM unchanged */
    CHECK_EQ(mem[464], 0xee);                        /* software-available bytes untouched */
    /* XRSTOR with XSTATE_BV = 0: both components to their initial state */
    memset(mem + 512, 0, 64);
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x2e)), -1);
    CHECK_EQ(env->xmm[3].q[0], 0);
    CHECK_EQ(env->fpuc, 0x37f);
    CHECK_EQ(env->fptags, 0xff);
    /* header with XCOMP_BV set: #GP */
    mem[512 + 15] = 0x80;
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x2e)), EXCP_GP);
    /* misaligned: #GP */
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x66, 0x10)), EXCP_GP);

    /* XSAVEOPT (NP 0F AE /6): advertised in CPUID.(0xD,1):EAX[0], saves
     * the x87/SSE components as XSAVE does */
    uint32_t a, b, c, d;
    x86_cpuid(env, 0xd, 1, &a, &b, &c, &d);
    CHECK_EQ(a & 1, 1);
    memset(mem, 0xee, 0x300);
    env->xmm[5].q[0] = 0x1122334455667788ULL;
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x36)), -1);   /* xsaveopt [rsi] */
    memcpy(&bv, mem + 512, 8);
    CHECK_EQ(bv, 0xeeeeeeeeeeeeeeefULL);
    uint64_t x5;
    memcpy(&x5, mem + 160 + 5 * 16, 8);
    CHECK_EQ(x5, 0x1122334455667788ULL);
    CHECK_EQ(mem[464], 0xee);
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x76, 0x10)), EXCP_GP);   /* misaligned */
    env->cr[4] &= ~CR4_OSXSAVE;
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x36)), EXCP_UD);
    free_cpu(env);
}

/* 64-bit mode: a non-canonical address through RBP/RSP (SS) is #SS(0) in
 * the x87, SSE and FXSAVE paths too (the #GP(0) of other bases comes from
 * the page walker, and this machine runs without paging). */
TEST(simd_noncanonical_stack_ss)
{
    CPUX86State *env = excp_cpu(0, 0);
    env->regs[R_EBP] = 0x8000000000000000ULL;
    CHECK_EQ(run_code(env, CODE(0xd9, 0x45, 0x00)), EXCP_SS);          /* fld dword [rbp] */
    CHECK_EQ(run_code(env, CODE(0xdd, 0x5d, 0x00)), EXCP_SS);          /* fstp qword [rbp] */
    CHECK_EQ(run_code(env, CODE(0x0f, 0x10, 0x45, 0x00)), EXCP_SS);    /* movups xmm0, [rbp] */
    CHECK_EQ(run_code(env, CODE(0x0f, 0x28, 0x45, 0x00)), EXCP_SS);    /* movaps xmm0, [rbp] */
    CHECK_EQ(run_code(env, CODE(0x0f, 0x29, 0x45, 0x00)), EXCP_SS);    /* movaps [rbp], xmm0 */
    CHECK_EQ(run_code(env, CODE(0x0f, 0xae, 0x45, 0x00)), EXCP_SS);    /* fxsave [rbp] */
    free_cpu(env);
}

/* CR0.NE = 0: an unmasked x87 exception raises IRQ 13 at once; a write to
 * port 0xF0 lowers it; no #MF. */
static int irq13_level = -1;
static void record_irq(void *opaque, int n, int level)
{
    (void)opaque;
    if (n == 13)
        irq13_level = level;
}

TEST(simd_x87_ferr_irq13)
{
    static IrqLine lines[16];
    CPUX86State *env = excp_cpu(0, 0);
    for (int i = 0; i < 16; i++)
        irq_init(&lines[i], record_irq, NULL, i);
    IrqLine *saved = current_machine->isa_irq;
    current_machine->isa_irq = lines;
    static bool port;
    if (!port) {
        ferr_port_create(current_machine->io);
        port = true;
    }
    env->cr[0] &= ~(uint64_t)CR0_NE;
    env->fpuc = 0x37f & ~4;
    env->fptags = 0xff;
    /* fldz; fld1; fdivrp st(1) */
    CHECK_EQ(run_code(env, CODE(0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xf1)), -1);
    CHECK_EQ(irq13_level, 1);
    /* fld1 (waiting: proceeds); mov al, 0; out 0xf0, al */
    CHECK_EQ(run_code(env, CODE(0xd9, 0xe8, 0xb0, 0x00, 0xe6, 0xf0)), -1);
    CHECK_EQ(irq13_level, 0);
    current_machine->isa_irq = saved;
    free_cpu(env);
}
