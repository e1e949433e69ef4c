/* x86-64 machine-code encoder for the backend: registers, ModRM/SIB/REX,
 * and the handful of instruction forms the backend emits. */
#ifndef TCG_X86_64_EMIT_H
#define TCG_X86_64_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
    R8, R9, R10, R11, R12, R13, R14, R15,
};

/* Code being emitted: written through the RW view, executed at the RX view. */
typedef struct Emitter {
    uint8_t *rw;          /* write pointer (RW view) */
    uint8_t *rw_end;
    intptr_t rx_delta;    /* rx address = rw address + rx_delta */
    bool overflow;
    uint32_t flag_clobbers;   /* movi's xor-zeroing: see flags.c */
} Emitter;

static inline uintptr_t em_rx(const Emitter *e) { return (uintptr_t)e->rw + e->rx_delta; }

static inline void em_byte(Emitter *e, uint8_t b)
{
    if (e->rw >= e->rw_end) {
        e->overflow = true;
        return;
    }
    *e->rw++ = b;
}

static inline void em_u32(Emitter *e, uint32_t v)
{
    if (e->rw_end - e->rw >= 4) {   /* one bound check (little-endian host) */
        memcpy(e->rw, &v, 4);
        e->rw += 4;
        return;
    }
    for (int i = 0; i < 4; i++)
        em_byte(e, (uint8_t)(v >> (8 * i)));
}

static inline void em_u64(Emitter *e, uint64_t v)
{
    if (e->rw_end - e->rw >= 8) {
        memcpy(e->rw, &v, 8);
        e->rw += 8;
        return;
    }
    em_u32(e, (uint32_t)v);
    em_u32(e, (uint32_t)(v >> 32));
}

/* The encoders write whole instructions (at most EM_INSN_MAX bytes) through
 * a local pointer: a byte store through e->rw may alias *e, so emitting
 * byte by byte reloads the pointer and the bound at every byte. em_rr and
 * em_rm check the bound once, and go byte by byte only near the end. */
#define EM_INSN_MAX 16

/* REX prefix: w = 64-bit operand; force = emit even when 0x40 (byte regs 4-7). */
static inline uint8_t *enc_rex(uint8_t *p, bool w, int reg, int index, int base, bool force)
{
    uint8_t rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0);
    if (rex != 0x40 || force)
        *p++ = rex;
    return p;
}

/* opcode bytes (1..3, given as an int with the first byte lowest) */
static inline uint8_t *enc_opc(uint8_t *p, uint32_t opc, int n)
{
    for (int i = 0; i < n; i++)
        *p++ = (uint8_t)(opc >> (8 * i));
    return p;
}

static inline uint8_t *enc_rr(uint8_t *p, uint32_t opc, int nopc, bool w, int reg, int rm, bool byte_regs)
{
    p = enc_rex(p, w, reg, 0, rm, byte_regs && ((reg >= 4 && reg < 8) || (rm >= 4 && rm < 8)));
    p = enc_opc(p, opc, nopc);
    *p++ = (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7));
    return p;
}

static inline uint8_t *enc_rm(uint8_t *p, uint32_t opc, int nopc, bool w, int reg, int base, int index,
                              int scale, int32_t disp, bool byte_regs)
{
    p = enc_rex(p, w, reg, index < 0 ? 0 : index, base, byte_regs && reg >= 4 && reg < 8);
    p = enc_opc(p, opc, nopc);
    int mod = (disp == 0 && (base & 7) != RBP) ? 0 : (disp >= -128 && disp <= 127) ? 1 : 2;
    if (index < 0 && (base & 7) != RSP) {
        *p++ = (uint8_t)((mod << 6) | ((reg & 7) << 3) | (base & 7));
    } else {
        *p++ = (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4);
        int idx = index < 0 ? 4 : index;
        *p++ = (uint8_t)((scale << 6) | ((idx & 7) << 3) | (base & 7));
    }
    if (mod == 1) {
        *p++ = (uint8_t)disp;
    } else if (mod == 2) {
        uint32_t d = (uint32_t)disp;
        memcpy(p, &d, 4);   /* little-endian host */
        p += 4;
    }
    return p;
}

/* Near the end of the buffer: what em_byte would do with each byte. */
static inline void em_copy_slow(Emitter *e, const uint8_t *b, const uint8_t *end)
{
    for (; b < end; b++)
        em_byte(e, *b);
}

static inline bool em_room(const Emitter *e) { return e->rw_end - e->rw >= EM_INSN_MAX; }

/* Out of line: a local buffer in em_rr/em_rm would cost every call a stack
 * frame (and a stack-protector check). */
static __attribute__((noinline, cold, unused)) void em_rr_slow(Emitter *e, uint32_t opc, int nopc, bool w,
                                                               int reg, int rm, bool byte_regs)
{
    uint8_t b[EM_INSN_MAX];
    em_copy_slow(e, b, enc_rr(b, opc, nopc, w, reg, rm, byte_regs));
}

static __attribute__((noinline, cold, unused)) void em_rm_slow(Emitter *e, uint32_t opc, int nopc, bool w,
                                                               int reg, int base, int index, int scale,
                                                               int32_t disp, bool byte_regs)
{
    uint8_t b[EM_INSN_MAX];
    em_copy_slow(e, b, enc_rm(b, opc, nopc, w, reg, base, index, scale, disp, byte_regs));
}

static inline void em_rex(Emitter *e, bool w, int reg, int index, int base, bool force)
{
    uint8_t rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0);
    if (rex != 0x40 || force)
        em_byte(e, rex);
}

static inline void em_opc(Emitter *e, uint32_t opc, int n)
{
    for (int i = 0; i < n; i++)
        em_byte(e, (uint8_t)(opc >> (8 * i)));
}

/* op reg, rm (register direct) */
static inline void em_rr(Emitter *e, uint32_t opc, int nopc, bool w, int reg, int rm, bool byte_regs)
{
    if (em_room(e)) {
        e->rw = enc_rr(e->rw, opc, nopc, w, reg, rm, byte_regs);
        return;
    }
    em_rr_slow(e, opc, nopc, w, reg, rm, byte_regs);
}

/* op reg, [base + index*scale + disp]; index -1 for none */
static inline void em_rm(Emitter *e, uint32_t opc, int nopc, bool w, int reg, int base, int index,
                         int scale, int32_t disp, bool byte_regs)
{
    if (em_room(e)) {
        e->rw = enc_rm(e->rw, opc, nopc, w, reg, base, index, scale, disp, byte_regs);
        return;
    }
    em_rm_slow(e, opc, nopc, w, reg, base, index, scale, disp, byte_regs);
}

/* movdqu xmm, [r12 + r + disp] (store: movdqu [r12 + r + disp], xmm): 16
 * bytes of the TCGCPU, for swapping table entries (no value lives in an
 * xmm register there) */
static inline void em_movdqu(Emitter *e, bool store, int xmm, int r, int32_t disp)
{
    em_byte(e, 0xf3);
    em_rm(e, store ? 0x7f0f : 0x6f0f, 2, false, xmm, R12, r, 0, disp, false);
}

/* add qword [r12 + off], 1: a -d jitcount counter of the TCGCPU */
static inline void em_count_u64(Emitter *e, int32_t off)
{
    em_rm(e, 0x83, 1, true, 0, R12, -1, 0, off, false);
    em_byte(e, 1);
}

static inline bool fits_i32(int64_t v) { return v == (int32_t)v; }

#endif
