/* The x87 constant loads (FLDZ, FLD1, FLDPI, FLDL2T, FLDL2E, FLDLG2,
 * FLDLN2): the constants are held with more than 64 bits and rounded with
 * the current rounding mode, without exceptions (SDM vol 1 8.3.8). */
#include "cpu/x86/softfloat-internal.h"

typedef struct X87Constant {
    uint64_t hi, lo;    /* 128-bit significand, bit 127 = integer bit */
    int32_t exp;        /* unbiased exponent; value in [2^exp, 2^(exp+1)) */
} X87Constant;

/* Derived with integer Machin (pi) and atanh (ln 2, ln 10) series. */
static const X87Constant x87_constants[] = {
    [FLOATX80_CONST_ONE] = { 0x8000000000000000ull, 0, 0 },
    [FLOATX80_CONST_PI] = { 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1 },
    [FLOATX80_CONST_L2T] = { 0xd49a784bcd1b8afeull, 0x492bf6ff4dafdb4cull, 1 },
    [FLOATX80_CONST_L2E] = { 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0 },
    [FLOATX80_CONST_LG2] = { 0x9a209a84fbcff798ull, 0x8f8959ac0b7c9178ull, -2 },
    [FLOATX80_CONST_LN2] = { 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1 },
};

floatx80 floatx80_constant(FloatX80Constant which, const FloatStatus *s)
{
    if (which == FLOATX80_CONST_ZERO || which >= FLOATX80_CONST_COUNT)
        return make_floatx80(0, 0);
    const X87Constant *c = &x87_constants[which];
    FloatStatus quiet = *s;
    return wide_to_floatx80(round_pack(false, c->exp, (u128)c->hi << 64 | c->lo,
                                       &floatx80_format, 64, &quiet));
}
