/* Classifying x87 registers: FXAM condition codes and the FSAVE/FSTENV tag
 * word values (SDM vol 1 8.1.7, vol 2 FXAM). */
#include "cpu/x86/softfloat-internal.h"

uint16_t floatx80_fxam(floatx80 a, bool empty)
{
    uint16_t sign = (a.sexp & 0x8000) ? FPU_C1 : 0;
    if (empty)
        return sign | FPU_C3 | FPU_C0;
    FloatStatus none = { 0 };
    FloatParts p = unpack80(a, &none);
    switch (p.cls) {
    case FC_UNSUPPORTED:
        return sign;
    case FC_QNAN:
    case FC_SNAN:
        return sign | FPU_C0;
    case FC_INF:
        return sign | FPU_C2 | FPU_C0;
    case FC_ZERO:
        return sign | FPU_C3;
    default:
        return sign | (p.denormal ? FPU_C3 | FPU_C2 : FPU_C2);
    }
}

uint8_t floatx80_tag(floatx80 a)
{
    FloatStatus none = { 0 };
    FloatParts p = unpack80(a, &none);
    if (p.cls == FC_ZERO)
        return FPU_TAG_ZERO;
    if (p.cls == FC_NORMAL && !p.denormal)
        return FPU_TAG_VALID;
    return FPU_TAG_SPECIAL;
}
