#!/usr/bin/env python3
"""Reference values for the x87 transcendental tests, independent of any
FPU: every function is evaluated in 480-bit fixed point with integer series
(Machin's formula for pi, atanh series for logarithms, Taylor series for
exp/sin/cos/atan), then rounded to nearest-even to a 64-bit significand.
Prints the C table included by tests/unit/test-softfloat-trans-ref.c:
    python3 tests/fpu/gen-trans-reference.py > tests/fpu/trans-reference.inc
"""
import random

P = 480                       # fraction bits of the fixed-point numbers
ONE = 1 << P
HW_PI_HALF = 0xC90FDAA22168C234C  # the x87's pi/2 = this * 2^-67


def tdiv(a, b):               # division truncating toward zero (series terms)
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def atan_inv(n):              # atan(1/n)
    s, t, k, sign = 0, ONE // n, 1, 1
    while t:
        s += sign * (t // k)
        t //= n * n
        k += 2
        sign = -sign
    return s


PI = 4 * (4 * atan_inv(5) - atan_inv(239))


def atanh_fixed(t):           # atanh(t), t fixed point, |t| < 1/2
    if t < 0:
        return -atanh_fixed(-t)
    s, p, k = 0, t, 1
    t2 = t * t >> P
    while p:
        s += p // k
        p = p * t2 >> P
        k += 2
    return s


LN2 = 2 * atanh_fixed(ONE // 3)


def ln_fixed(x):              # x > 0 fixed point
    e = 0
    while x >= 2 * ONE:
        x >>= 1
        e += 1
    while x < ONE:
        x <<= 1
        e -= 1
    t = ((x - ONE) << P) // (x + ONE)
    return e * LN2 + 2 * atanh_fixed(t)


def exp_fixed(y):             # e^y, |y| <= 1
    s, term, k = ONE, ONE, 1
    while term:
        term = tdiv(term * y, k * ONE)
        s += term
        k += 1
    return s


def atan_fixed(t):            # 0 <= t <= 1
    if t > ONE * 4 // 10:     # atan(t) = pi/4 + atan((t-1)/(t+1))
        return PI // 4 + atan_fixed_small(((t - ONE) << P) // (t + ONE))
    return atan_fixed_small(t)


def atan_fixed_small(t):
    if t < 0:
        return -atan_fixed_small(-t)
    s, p, k, sign = 0, t, 1, 1
    t2 = t * t >> P
    while p:
        s += sign * (p // k)
        p = p * t2 >> P
        k += 2
        sign = -sign
    return s


def sincos_fixed(r):          # |r| <= pi/4 + a little
    r2 = r * r >> P
    s, term, k = r, r, 1
    while term:
        term = tdiv(-term * r2, (k + 1) * (k + 2) * ONE)
        s += term
        k += 2
    c, term, k = ONE, ONE, 0
    while term:
        term = tdiv(-term * r2, (k + 1) * (k + 2) * ONE)
        c += term
        k += 2
    return s, c


def to_fixed(sexp, mant):     # exact value of a floatx80 as fixed point (may truncate)
    e = (sexp & 0x7FFF) - 16383 - 63
    v = mant << P
    v = v << e if e >= 0 else v >> -e
    return -v if sexp & 0x8000 else v


def round80(v):
    """Round a fixed-point value to floatx80 (nearest-even), as (sexp, mant)."""
    sign = 0x8000 if v < 0 else 0
    v = abs(v)
    if v == 0:
        return sign, 0
    n = v.bit_length()
    shift = n - 64
    m = v >> shift
    rest = v - (m << shift)
    half = 1 << (shift - 1)
    if rest > half or (rest == half and m & 1):
        m += 1
        if m >> 64:
            m >>= 1
            shift += 1
    e = shift - P + 63 + 16383
    return sign | e, m


def random_fx80(rng, emin, emax):
    e = rng.randint(emin, emax)
    return (rng.getrandbits(1) << 15) | (16383 + e), rng.getrandbits(63) | (1 << 63)


def main():
    rng = random.Random(2024)
    rows = []
    for _ in range(40):       # F2XM1, |x| < 1
        a = random_fx80(rng, -60, -1)
        x = to_fixed(*a)
        rows.append(("F2XM1", a, (0, 0), round80(exp_fixed(x * LN2 >> P) - ONE)))
    for _ in range(40):       # FYL2X, x > 0, y moderate
        x = random_fx80(rng, -300, 300)
        x = (x[0] & 0x7FFF, x[1])
        y = random_fx80(rng, -8, 8)
        l2 = (ln_fixed(to_fixed(*x)) << P) // LN2
        rows.append(("FYL2X", x, y, round80(l2 * to_fixed(*y) >> P)))
    for _ in range(40):       # FYL2XP1, |x| < 1/4
        x = random_fx80(rng, -60, -3)
        y = random_fx80(rng, -8, 8)
        l2 = (ln_fixed(ONE + to_fixed(*x)) << P) // LN2
        rows.append(("FYL2XP1", x, y, round80(l2 * to_fixed(*y) >> P)))
    for _ in range(40):       # FPATAN(x = ST0, y = ST1)
        x = random_fx80(rng, -10, 10)
        y = random_fx80(rng, -10, 10)
        fx, fy = to_fixed(*x), to_fixed(*y)
        ax, ay = abs(fx), abs(fy)
        r = atan_fixed((ay << P) // ax) if ay <= ax else PI // 2 - atan_fixed((ax << P) // ay)
        if fx < 0:
            r = PI - r
        rows.append(("FPATAN", x, y, round80(-r if fy < 0 else r)))
    for _ in range(60):       # FSIN, FCOS, FPTAN with the hardware's reduction
        a = random_fx80(rng, -20, 62)
        x = abs(to_fixed(*a))
        pi_half = HW_PI_HALF << (P - 67)
        k = (x + pi_half // 2) // pi_half if (a[0] & 0x7FFF) >= 16383 - 1 else 0
        r = x - k * pi_half
        s, c = sincos_fixed(r)
        s, c = [(s, c), (c, -s), (-s, -c), (-c, s)][k & 3]
        if a[0] & 0x8000:
            s = -s
        rows.append(("FSIN", a, (0, 0), round80(s)))
        rows.append(("FCOS", a, (0, 0), round80(c)))
        rows.append(("FPTAN", a, (0, 0), round80((s << P) // c)))
    print("/* Generated by tests/fpu/gen-trans-reference.py: do not edit. */")
    for f, a, b, r in rows:
        print("{ TR_%s, { 0x%016xull, 0x%04x }, { 0x%016xull, 0x%04x }, { 0x%016xull, 0x%04x } },"
              % (f, a[1], a[0], b[1], b[0], r[1], r[0]))


main()
