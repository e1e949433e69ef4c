/* Floating point as user space uses it: SSE2 doubles, x87 long doubles,
 * libm, printf/strtod conversions, qsort. Built static with the host's gcc
 * and run both on the host and inside a Linux guest on the translator: the
 * outputs must be identical (tests/simd/test-simd-linux.sh). */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static double rnd_double(void)
{
    return ((double)(int64_t)next() / 9.3e15) * pow(10.0, (double)(next() % 40) - 20.0);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    double sum = 0;
    for (int i = 0; i < 200; i++) {
        double x = rnd_double();
        double y = rnd_double();
        printf("%d %.17g %.17g %.17g %.17g %.17g %.17g %.17g\n", i, x, x * y, x / y, sin(x), exp(fmod(x, 700.0)),
               log(fabs(x) + 1e-300), atan2(x, y));
        sum += sqrt(fabs(x)) + cbrt(y) + tanh(x) + pow(fabs(y), 0.3);
        long double lx = (long double)x * 1.000000000000000001L, ly = (long double)y;
        printf("L %.21Lg %.21Lg %.21Lg\n", lx * ly, lx / (ly + 1.0L), sqrtl(fabsl(lx)));
        /* glibc's expl and logl are built on F2XM1 and FYL2X: "T" lines
         * depend on the x87 transcendentals matching the hardware bit for bit */
        printf("T %.21Lg %.21Lg\n", expl(fmodl(lx, 11000.0L)), logl(fabsl(lx) + 1e-4000L));
        float f = (float)x;
        printf("F %.9g %.9g %d %lld\n", f * 3.0f, sinf(f), (int)f, (long long)llrint(x));
    }
    printf("sum %.17g\n", sum);

    static const char *strings[] = {
        "0.1", "1e308", "2.2250738585072011e-308", "4.9406564584124654e-324", "1.7976931348623157e308",
        "0x1.fffffffffffffp1023", "123456789012345678901234567890", "-0", "inf", "nan", "3.14159265358979323846",
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        double d = strtod(strings[i], NULL);
        long double ld = strtold(strings[i], NULL);
        printf("strtod %s %.17g %a %.25Lg\n", strings[i], d, d, ld);
    }

    double v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = rnd_double();
    qsort(v, 1000, sizeof(v[0]), cmp);
    uint64_t h = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t b;
        memcpy(&b, &v[i], 8);
        h = h * 1000003 ^ b;
    }
    printf("qsort %016llx %.17g %.17g\n", (unsigned long long)h, v[0], v[999]);

    static const int modes[] = { FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO };
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        volatile double a = 1.0, b = 3.0;
        volatile long double la = 1.0L, lb = 3.0L;
        printf("round %d %.17g %.21Lg %.17g\n", m, a / b, la / lb, rint(2.5));
    }
    fesetround(FE_TONEAREST);
    return 0;
}
