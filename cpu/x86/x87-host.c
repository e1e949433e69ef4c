/* x87 transcendentals on an x86-64 host's own FPU. The SDM does not define
 * their results to the last bit, and programs (glibc's expl, logl, ...) print
 * whatever the hardware gives; running the host instruction under the
 * guest's control word reproduces the host exactly, as KVM would. Used while
 * the guest masks every x87 exception and the operand is in the instruction's
 * range (so the host stack shape is known); x87_use_host_fpu = false forces
 * the softfloat implementation (fpu-x87-trans.c). Other hosts: never used. */
#include <string.h>
#include "cpu/x86/simd.h"
#include "cpu/x86/softfloat.h"

#if defined(__x86_64__) && defined(__GNUC__)
bool x87_use_host_fpu = true;

static long double to_host(floatx80 a)
{
    long double v = 0;
    memcpy(&v, &a.mant, 8);
    memcpy((char *)&v + 8, &a.sexp, 2);
    return v;
}

static floatx80 from_host(long double v)
{
    floatx80 r;
    memcpy(&r.mant, &v, 8);
    memcpy(&r.sexp, (char *)&v + 8, 2);
    return r;
}

/* The host's FSW after the instruction -> softfloat flags (C1 = rounded up). */
static uint16_t to_flags(uint16_t sw)
{
    return (uint16_t)((sw & 0x3f) | ((sw & 0x200) ? FLOAT_FLAG_ROUNDED_UP : 0));
}

/* Trigonometric operands the hardware reduces (|a| < 2^63), where it
 * neither sets C2 nor leaves the stack unchanged. */
static bool trig_in_range(floatx80 a)
{
    return (a.sexp & 0x7fff) < 0x3fff + 63;
}

#define PROLOGUE "fnstcw %[sv]\n\tfldcw %[ct]\n\tfnclex\n\t"
#define EPILOGUE "\n\tfnstsw %[sw]\n\tfldcw %[sv]"

bool x87_host_op(X87HostOp op, uint16_t fcw, floatx80 a, floatx80 b, floatx80 *r1, floatx80 *r2,
                 uint16_t *flags)
{
    uint16_t saved, sw = 0, ctrl = fcw | 0x3f;
    long double x = to_host(a), y = to_host(b), p = 0, q = 0;
    if (!x87_use_host_fpu || (fcw & 0x3f) != 0x3f)
        return false;
    switch (op) {
    case X87_HOST_F2XM1:
        __asm__ volatile(PROLOGUE "f2xm1" EPILOGUE
                         : "=t"(p), [sv] "=m"(saved), [sw] "=m"(sw) : "0"(x), [ct] "m"(ctrl));
        break;
    case X87_HOST_FYL2X:        /* st0 = x, st1 = y: y * log2(x) */
        __asm__ volatile(PROLOGUE "fyl2x" EPILOGUE
                         : "=t"(p), [sv] "=m"(saved), [sw] "=m"(sw) : "0"(x), "u"(y), [ct] "m"(ctrl)
                         : "st(1)");
        break;
    case X87_HOST_FYL2XP1:
        __asm__ volatile(PROLOGUE "fyl2xp1" EPILOGUE
                         : "=t"(p), [sv] "=m"(saved), [sw] "=m"(sw) : "0"(x), "u"(y), [ct] "m"(ctrl)
                         : "st(1)");
        break;
    case X87_HOST_FPATAN:       /* st0 = x, st1 = y: atan2(y, x) */
        __asm__ volatile(PROLOGUE "fpatan" EPILOGUE
                         : "=t"(p), [sv] "=m"(saved), [sw] "=m"(sw) : "0"(x), "u"(y), [ct] "m"(ctrl)
                         : "st(1)");
        break;
    case X87_HOST_FSIN:
    case X87_HOST_FCOS:
        if (!trig_in_range(a))
            return false;
        if (op == X87_HOST_FSIN)
            __asm__ volatile(PROLOGUE "fsin" EPILOGUE
                             : "=t"(p), [sv] "=m"(saved), [sw] "=m"(sw) : "0"(x), [ct] "m"(ctrl));
        else
            __asm__ volatile(PROLOGUE "fcos" EPILOGUE
                             : "=t"(p), [sv] "=m"(saved), [sw] "=m"(sw) : "0"(x), [ct] "m"(ctrl));
        break;
    case X87_HOST_FPTAN:        /* r1 = tan (st1 after), r2 = the pushed 1.0 (st0) */
    case X87_HOST_FSINCOS:      /* r1 = sin (st1 after), r2 = cos (st0) */
        if (!trig_in_range(a))
            return false;
        if (op == X87_HOST_FPTAN)
            __asm__ volatile(PROLOGUE "fptan" EPILOGUE
                             : "=t"(q), "=u"(p), [sv] "=m"(saved), [sw] "=m"(sw) : "0"(x), [ct] "m"(ctrl));
        else
            __asm__ volatile(PROLOGUE "fsincos" EPILOGUE
                             : "=t"(q), "=u"(p), [sv] "=m"(saved), [sw] "=m"(sw) : "0"(x), [ct] "m"(ctrl));
        *r2 = from_host(q);
        break;
    default:
        return false;
    }
    *r1 = from_host(p);
    *flags = to_flags(sw);
    return true;
}
#else
bool x87_use_host_fpu = false;

bool x87_host_op(X87HostOp op, uint16_t fcw, floatx80 a, floatx80 b, floatx80 *r1, floatx80 *r2,
                 uint16_t *flags)
{
    (void)op; (void)fcw; (void)a; (void)b; (void)r1; (void)r2; (void)flags;
    return false;
}
#endif
