/* The decoder against capstone: for random instruction bytes in 16, 32 and
 * 64-bit modes, the lengths must agree wherever both decode an integer
 * instruction; plus a table of encodings with known lengths and mnemonics. */
#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/x86/decode.h"
#include "cpu/x86/helpers.h"
#include "harness.h"

typedef struct Buf {
    const uint8_t *b;
    unsigned n;
} Buf;

static bool fetch(void *opaque, uint64_t pc, uint8_t *byte)
{
    Buf *b = opaque;
    if (pc >= b->n)
        return false;
    *byte = b->b[pc];
    return true;
}

static X86DecodeStatus decode(const uint8_t *bytes, unsigned n, int mode, X86Decoded *d)
{
    Buf b = { bytes, n };
    return x86_decode(d, 0, mode == 64, mode == 32, fetch, &b);
}

typedef struct Known {
    int mode;
    uint8_t bytes[15];
    unsigned len;
    X86Mnemonic mn;
} Known;

#define K(mode, len, mn, ...) { mode, { __VA_ARGS__ }, len, I_##mn }
static const Known known[] = {
    K(32, 2, ADD, 0x01, 0xd8),
    K(32, 6, ADD, 0x01, 0x05, 1, 2, 3, 4),
    K(16, 4, ADD, 0x01, 0x06, 1, 2),
    K(32, 8, MOV, 0xc7, 0x44, 0x24, 0x08, 1, 0, 0, 0),
    K(32, 11, MOV, 0xc7, 0x84, 0x24, 1, 0, 0, 0, 2, 0, 0, 0),
    K(64, 10, MOV, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8),
    K(64, 7, MOV, 0x48, 0xc7, 0xc0, 1, 2, 3, 4),
    K(64, 7, LEA, 0x48, 0x8d, 0x05, 0, 0, 0, 0),
    K(64, 3, MOVSXD, 0x48, 0x63, 0xc3),
    K(32, 2, ARPL, 0x63, 0xc3),
    K(32, 5, JMP, 0xe9, 0, 0, 0, 0),
    K(16, 3, JMP, 0xe9, 0, 0),
    K(64, 6, JCC, 0x0f, 0x84, 0, 0, 0, 0),
    K(32, 7, JMPF, 0xea, 1, 2, 3, 4, 5, 6),
    K(16, 5, CALLF, 0x9a, 1, 2, 3, 4),
    K(32, 4, ENTER, 0xc8, 0x10, 0x00, 0x01),
    K(64, 4, MOVBE, 0x0f, 0x38, 0xf0, 0x07),
    K(64, 5, CRC32, 0xf2, 0x0f, 0x38, 0xf1, 0xc3),
    K(64, 5, INVPCID, 0x66, 0x0f, 0x38, 0x82, 0x07),
    K(32, 9, INVPCID, 0x66, 0x0f, 0x38, 0x82, 0x05, 0, 0x10, 0, 0),
    K(32, 4, POPCNT, 0xf3, 0x0f, 0xb8, 0xc3),
    K(32, 4, TZCNT, 0xf3, 0x0f, 0xbc, 0xc3),
    K(32, 4, BT, 0x0f, 0xba, 0xe0, 0x05),
    K(32, 2, FPU, 0xd9, 0xe8),
    K(32, 5, SSE, 0x66, 0x0f, 0x70, 0xc0, 0x1b),
    K(64, 3, SWAPGS, 0x0f, 0x01, 0xf8),
    K(32, 3, CMPXCHG8B, 0x0f, 0xc7, 0x0f),
    K(32, 1, XCHG, 0x90),
};

TEST(known_encodings)
{
    for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        const Known *k = &known[i];
        X86Decoded d;
        X86DecodeStatus st = decode(k->bytes, 15, k->mode, &d);
        if (k->bytes[0] == 0x90 && k->len == 1) {
            CHECK_EQ(d.len, 1);
            continue;
        }
        if (st != DECODE_OK || d.len != k->len || d.mnemonic != k->mn) {
            char m[160];
            snprintf(m, sizeof(m), "encoding %u (%02x %02x %02x, %d-bit): status %d len %u mnemonic %s",
                     i, k->bytes[0], k->bytes[1], k->bytes[2], k->mode, st, d.len,
                     x86_mnemonic_names[d.mnemonic]);
            test_fail(__FILE__, __LINE__, m);
        }
    }
}

TEST(invalid_encodings)
{
    static const uint8_t lock_reg[] = { 0xf0, 0x01, 0xc0 };
    static const uint8_t ud2[] = { 0x0f, 0x0b };
    static const uint8_t aaa64[] = { 0x37 };
    static const uint8_t lea_reg[] = { 0x8d, 0xc0 };
    static const uint8_t too_long[] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                        0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90 };
    X86Decoded d;
    CHECK_EQ(decode(lock_reg, 3, 32, &d), DECODE_UD);
    CHECK_EQ(decode(ud2, 2, 32, &d), DECODE_OK);
    CHECK_EQ(d.mnemonic, I_UD);
    CHECK_EQ(decode(aaa64, 1, 64, &d), DECODE_UD);
    CHECK_EQ(decode(aaa64, 1, 32, &d), DECODE_OK);
    CHECK_EQ(decode(lea_reg, 2, 32, &d), DECODE_UD);
    CHECK_EQ(decode(too_long, 16, 32, &d), DECODE_TOO_LONG);
    CHECK_EQ(decode(ud2, 1, 32, &d), DECODE_FETCH_FAULT);
    /* INVPCID needs the 66 prefix (F3/F2 make it something else) and memory */
    static const uint8_t invpcid_reg[] = { 0x66, 0x0f, 0x38, 0x82, 0xc0 };
    static const uint8_t invpcid_nop66[] = { 0x0f, 0x38, 0x82, 0x07 };
    static const uint8_t invpcid_f3[] = { 0xf3, 0x66, 0x0f, 0x38, 0x82, 0x07 };
    CHECK_EQ(decode(invpcid_reg, 5, 64, &d), DECODE_UD);
    CHECK(decode(invpcid_nop66, 4, 64, &d) != DECODE_OK || d.mnemonic != I_INVPCID);
    CHECK(decode(invpcid_f3, 6, 64, &d) != DECODE_OK || d.mnemonic != I_INVPCID);
}

/* Optional instructions decode exactly when the CPU model advertises them;
 * the members of the 0F AE and 0F C7 groups that the model lacks are #UD. */
TEST(optional_features)
{
    static const struct {
        const char *name;
        uint8_t bytes[4];
        unsigned n;
        int feature;        /* X86Feature, or -1: never implemented */
        X86Mnemonic mn;
    } cases[] = {
        { "RDRAND", { 0x0f, 0xc7, 0xf0 }, 3, X86_FEAT_RDRAND, I_RDRAND },
        { "RDSEED", { 0x0f, 0xc7, 0xf8 }, 3, -1, I_INVALID },
        { "RDPID", { 0xf3, 0x0f, 0xc7, 0xf8 }, 4, X86_FEAT_RDPID, I_RDPID },
        { "RDPID mem", { 0xf3, 0x0f, 0xc7, 0x38 }, 4, -1, I_INVALID },
        { "XRSTORS", { 0x0f, 0xc7, 0x18 }, 3, -1, I_INVALID },
        { "XSAVEC", { 0x0f, 0xc7, 0x20 }, 3, -1, I_INVALID },
        { "XSAVES", { 0x0f, 0xc7, 0x28 }, 3, -1, I_INVALID },
        { "VMPTRLD", { 0x0f, 0xc7, 0x30 }, 3, -1, I_INVALID },
        { "VMPTRST", { 0x0f, 0xc7, 0x38 }, 3, -1, I_INVALID },
        { "CLWB", { 0x66, 0x0f, 0xae, 0x30 }, 4, X86_FEAT_CLWB, I_CLFLUSH },
        { "CLFLUSHOPT", { 0x66, 0x0f, 0xae, 0x38 }, 4, X86_FEAT_CLFLUSHOPT, I_CLFLUSH },
        { "XSAVEOPT", { 0x0f, 0xae, 0x30 }, 3, X86_FEAT_XSAVE, I_XSAVE },
        { "CLFLUSH", { 0x0f, 0xae, 0x38 }, 3, X86_FEAT_CLFLUSH, I_CLFLUSH },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X86Decoded d;
        X86DecodeStatus st = decode(cases[i].bytes, cases[i].n, 32, &d);
        bool on = cases[i].feature >= 0 && x86_cpu_has((X86Feature)cases[i].feature) &&
                  cases[i].mn != I_INVALID;
        char m[120];
        snprintf(m, sizeof(m), "%s: status %d mnemonic %s, advertised %d", cases[i].name, st,
                 st == DECODE_OK ? x86_mnemonic_names[d.mnemonic] : "-", on);
        if (on ? st != DECODE_OK || d.mnemonic != cases[i].mn : st != DECODE_UD)
            test_fail(__FILE__, __LINE__, m);
    }
}

/* RDPID: the last of F2/F3 decides; 66 and REX.W change nothing (the
 * host's behaviour): r64 in 64-bit mode, r32 elsewhere. */
TEST(rdpid_prefixes)
{
    static const struct { uint8_t bytes[6]; unsigned n; int mode; X86DecodeStatus st; unsigned size; } cases[] = {
        { { 0xf3, 0x0f, 0xc7, 0xf8 }, 4, 64, DECODE_OK, 8 },
        { { 0x66, 0xf3, 0x0f, 0xc7, 0xf8 }, 5, 64, DECODE_OK, 8 },
        { { 0xf3, 0x48, 0x0f, 0xc7, 0xf8 }, 5, 64, DECODE_OK, 8 },
        { { 0xf2, 0xf3, 0x0f, 0xc7, 0xf8 }, 5, 64, DECODE_OK, 8 },
        { { 0xf3, 0xf2, 0x0f, 0xc7, 0xf8 }, 5, 64, DECODE_UD, 0 },
        { { 0xf0, 0xf3, 0x0f, 0xc7, 0xf8 }, 5, 64, DECODE_UD, 0 },
        { { 0x66, 0xf3, 0x0f, 0xc7, 0xf8 }, 5, 32, DECODE_OK, 4 },
        { { 0xf3, 0x0f, 0xc7, 0xf8 }, 4, 16, DECODE_OK, 4 },
    };
    if (!x86_cpu_has(X86_FEAT_RDPID))
        return;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X86Decoded d;
        X86DecodeStatus st = decode(cases[i].bytes, cases[i].n, cases[i].mode, &d);
        CHECK_EQ(st, cases[i].st);
        if (st == DECODE_OK) {
            CHECK_EQ(d.mnemonic, I_RDPID);
            CHECK_EQ(d.opsize, cases[i].size);
        }
    }
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static unsigned make_random(uint8_t *b, int mode)
{
    static const uint8_t prefixes[] = { 0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36 };
    unsigned n = 0;
    unsigned np = rnd() % 3;
    for (unsigned i = 0; i < np; i++)
        b[n++] = prefixes[rnd() % sizeof(prefixes)];
    if (mode == 64 && rnd() % 2)
        b[n++] = 0x40 | (rnd() & 15);
    switch (rnd() % 4) {
    case 0: case 1:
        do
            b[n] = (uint8_t)rnd();
        while (b[n] == 0x0f || b[n] == 0xf0 || (b[n] & 0xf0) == 0x40 ||
               memchr(prefixes, b[n], sizeof(prefixes)) || (b[n] >= 0xd8 && b[n] <= 0xdf));
        n++;
        break;
    case 2:
        b[n++] = 0x0f;
        b[n++] = (uint8_t)rnd();
        break;
    default:
        b[n++] = 0x0f;
        b[n++] = 0x38;
        b[n++] = 0xf0 | (rnd() & 1);
        break;
    }
    while (n < 15)
        b[n++] = (uint8_t)rnd();
    return 15;
}

static bool compared_mnemonic(unsigned mn)
{
    /* SSE/x87 lengths are checked by the FPU work; system ones vary by capstone version */
    return mn != I_SSE && mn != I_FPU && mn != I_FXSAVE && mn != I_FXRSTOR && mn != I_LDMXCSR &&
           mn != I_STMXCSR && mn != I_XSAVE && mn != I_XRSTOR && mn != I_RDFSBASE && mn != I_UD0 &&
           mn != I_PREFETCH && mn != I_NOP && mn != I_UD;
}

static void random_lengths(int mode, cs_mode cmode)
{
    csh h;
    if (cs_open(CS_ARCH_X86, cmode, &h) != CS_ERR_OK)
        SKIP("capstone cannot open x86");
    int mismatches = 0, compared = 0;
    char first[256] = "";
    for (int i = 0; i < 60000; i++) {
        uint8_t b[16];
        unsigned n = make_random(b, mode);
        X86Decoded d;
        if (decode(b, n, mode, &d) != DECODE_OK || !compared_mnemonic(d.mnemonic))
            continue;
        /* 66 on near branches in 64-bit mode: Intel ignores it (so do we),
         * capstone follows AMD's 16-bit form (and mis-sizes some REX.W forms) */
        if (mode == 64 && ((d.prefix & P_OPSZ) || (d.rex & 8)) && (d.e->flags & (F_F64 | F_D64)))
            continue;
        cs_insn *insn;
        size_t cnt = cs_disasm(h, b, n, 0, 1, &insn);
        if (cnt != 1)
            continue;
        compared++;
        if (insn->size != d.len) {
            if (getenv("DECODE_DEBUG") || !mismatches++) {
                if (mismatches == 0)
                    mismatches++;
                int k = snprintf(first, sizeof(first), "%d-bit: ", mode);
                for (unsigned j = 0; j < (unsigned)insn->size + 2 && j < 15; j++)
                    k += snprintf(first + k, sizeof(first) - (size_t)k, "%02x ", b[j]);
                snprintf(first + k, sizeof(first) - (size_t)k, "-> ours %u (%s), capstone %u (%s %s)",
                         d.len, x86_mnemonic_names[d.mnemonic], insn->size, insn->mnemonic, insn->op_str);
                if (getenv("DECODE_DEBUG"))
                    fprintf(stderr, "%s\n", first);
            }
        }
        cs_free(insn, cnt);
    }
    cs_close(&h);
    if (mismatches)
        test_fail(__FILE__, __LINE__, first);
    CHECK_EQ(mismatches, 0);
    CHECK(compared > 10000);
}

TEST(lengths_vs_capstone_16) { random_lengths(16, CS_MODE_16); }
TEST(lengths_vs_capstone_32) { random_lengths(32, CS_MODE_32); }
TEST(lengths_vs_capstone_64) { random_lengths(64, CS_MODE_64); }
