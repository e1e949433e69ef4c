/* Packed BCD for FBLD/FBSTP: 18 decimal digits, two per byte, least
 * significant first in bytes 0-8; bit 7 of byte 9 is the sign. */
#include <string.h>

#include "cpu/x86/softfloat-internal.h"

#define BCD_DIGITS 18
#define BCD_LIMIT 1000000000000000000ull   /* 10^18 */

floatx80 floatx80_from_bcd(const uint8_t bcd[10], FloatStatus *s)
{
    uint64_t value = 0;
    /* Nibbles above 9 are not valid BCD (the SDM leaves the result
     * undefined); weighting them like digits, as the hardware turns out to
     * do, cannot overflow 64 bits. Bits 0-6 of byte 9 are ignored. */
    for (int i = BCD_DIGITS / 2 - 1; i >= 0; i--)
        value = value * 100 + (bcd[i] >> 4) * 10 + (bcd[i] & 15);
    bool sign = bcd[9] & 0x80;
    FloatWide w = round_pack(sign, 63, (u128)value << 64, &floatx80_format, 64, s);
    if (value == 0)
        w = wide_zero(sign);
    return wide_to_floatx80(w);
}

static void bcd_indefinite(uint8_t bcd[10])
{
    memset(bcd, 0, 10);
    bcd[7] = 0xC0;
    bcd[8] = 0xFF;
    bcd[9] = 0xFF;
}

void floatx80_to_bcd(floatx80 a, uint8_t bcd[10], FloatStatus *s)
{
    FloatStatus tmp = *s;
    tmp.flags = 0;
    int64_t v = wide_to_int(floatx80_to_wide(a), &floatx80_format, 64, false, &tmp);
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    if ((tmp.flags & FLOAT_FLAG_INVALID) || mag >= BCD_LIMIT) {
        raise_flags(s, FLOAT_FLAG_INVALID);
        bcd_indefinite(bcd);
        return;
    }
    raise_flags(s, tmp.flags);
    for (int i = 0; i < BCD_DIGITS / 2; i++) {
        unsigned lo = mag % 10, hi = (mag / 10) % 10;
        bcd[i] = (uint8_t)(hi << 4 | lo);
        mag /= 100;
    }
    bcd[9] = (a.sexp & 0x8000) ? 0x80 : 0;
}
