/* Decimal-adjust instructions, exhaustively: DAA/DAS over every AL with
 * every AF/CF, AAA/AAS over AL and AF, AAM/AAD over AL with several bases,
 * against the SDM's pseudocode. Undefined flags are not compared. */
#include "runtime.h"

#define F_C 0x001
#define F_P 0x004
#define F_A 0x010
#define F_Z 0x040
#define F_S 0x080
#define F_O 0x800

static uint32_t szp(uint8_t v)
{
    uint32_t f = 0;
    if (!v)
        f |= F_Z;
    if (v & 0x80)
        f |= F_S;
    if (!(__builtin_popcount(v) & 1))
        f |= F_P;
    return f;
}

static void ref_daa(uint8_t *al, uint32_t *fl)
{
    uint8_t old_al = *al;
    bool old_cf = *fl & F_C;
    uint32_t f = 0;
    if ((*al & 0xf) > 9 || (*fl & F_A)) {
        bool carry = *al > 0xf9;
        *al += 6;
        f |= (old_cf || carry) ? F_C : 0;
        f |= F_A;
    }
    if (old_al > 0x99 || old_cf) {
        *al += 0x60;
        f |= F_C;
    }
    *fl = f | szp(*al);
}

static void ref_das(uint8_t *al, uint32_t *fl)
{
    uint8_t old_al = *al;
    bool old_cf = *fl & F_C;
    uint32_t f = 0;
    if ((*al & 0xf) > 9 || (*fl & F_A)) {
        bool borrow = *al < 6;
        *al -= 6;
        f |= (old_cf || borrow) ? F_C : 0;
        f |= F_A;
    }
    if (old_al > 0x99 || old_cf) {
        *al -= 0x60;
        f |= F_C;
    }
    *fl = f | szp(*al);
}

static uint32_t run_flags_op(const char *which, uint16_t *ax, uint32_t flags_in)
{
    uint32_t fl = flags_in | 2;
    uint16_t a = *ax;
    if (which[0] == 'd' && which[2] == 'a')
        asm volatile("push %1; popf; daa; pushf; pop %1" : "+a"(a), "+r"(fl) :: "cc");
    else if (which[0] == 'd')
        asm volatile("push %1; popf; das; pushf; pop %1" : "+a"(a), "+r"(fl) :: "cc");
    else if (which[2] == 'a')
        asm volatile("push %1; popf; aaa; pushf; pop %1" : "+a"(a), "+r"(fl) :: "cc");
    else
        asm volatile("push %1; popf; aas; pushf; pop %1" : "+a"(a), "+r"(fl) :: "cc");
    *ax = a;
    return fl;
}

static void test_daa_das(const char *which)
{
    const uint32_t mask = F_C | F_A | F_Z | F_S | F_P;
    unsigned bad = 0;
    for (unsigned al = 0; al < 256; al++) {
        for (unsigned in = 0; in < 4; in++) {
            uint32_t fin = (in & 1 ? F_C : 0) | (in & 2 ? F_A : 0);
            uint16_t ax = 0x5500 | al;
            uint32_t got = run_flags_op(which, &ax, fin);
            uint8_t ref_al = al;
            uint32_t ref_fl = fin;
            if (which[2] == 'a')
                ref_daa(&ref_al, &ref_fl);
            else
                ref_das(&ref_al, &ref_fl);
            if ((ax & 0xff) != ref_al || (ax >> 8) != 0x55 || ((got ^ ref_fl) & mask)) {
                if (bad++ < 3)
                    printf("# %s al=%02x flags=%03x: got %04x %03x expected %02x %03x\n", which,
                           al, fin, ax, got & mask, ref_al, ref_fl & mask);
            }
        }
    }
    TEST_EQ(which[2] == 'a' ? "DAA exhaustive" : "DAS exhaustive", bad, 0);
}

/* AAA/AAS: AL low nibble, AH adjusted, only AF and CF defined. */
static void test_aaa_aas(bool add)
{
    unsigned bad = 0;
    for (unsigned al = 0; al < 256; al++) {
        for (unsigned af = 0; af < 2; af++) {
            uint16_t ax = 0x1200 | al;
            uint32_t got = run_flags_op(add ? "aaa" : "aas", &ax, af ? F_A : 0);
            uint16_t ref = 0x1200 | al;
            uint32_t ref_fl = 0;
            if ((al & 0xf) > 9 || af) {
                /* The AX +/- 0x106 form of newer CPUs. */
                ref = add ? (uint16_t)(ref + 0x106) : (uint16_t)(ref - 0x106);
                ref_fl = F_A | F_C;
            }
            ref &= 0xff0f;
            if (ax != ref || ((got ^ ref_fl) & (F_A | F_C))) {
                if (bad++ < 3)
                    printf("# %s al=%02x af=%u: got %04x %03x expected %04x %03x\n",
                           add ? "aaa" : "aas", al, af, ax, got & 0x11, ref, ref_fl);
            }
        }
    }
    TEST_EQ(add ? "AAA exhaustive" : "AAS exhaustive", bad, 0);
}

static void test_aam_aad(void)
{
    unsigned bad = 0;
    for (unsigned al = 0; al < 256; al++) {
        uint16_t ax = 0x3300 | al;
        uint32_t fl;
        asm volatile("aam; pushf; pop %1" : "+a"(ax), "=r"(fl) :: "cc");
        uint16_t ref = (uint16_t)((al / 10) << 8 | (al % 10));
        if (ax != ref || ((fl ^ szp(ref & 0xff)) & (F_Z | F_S | F_P)))
            bad++;
        ax = 0x0700 | al;
        asm volatile("aad $16; pushf; pop %1" : "+a"(ax), "=r"(fl) :: "cc");
        uint8_t r8 = (uint8_t)(al + 7 * 16);
        if (ax != r8 || ((fl ^ szp(r8)) & (F_Z | F_S | F_P)))
            bad++;
    }
    TEST_EQ("AAM 10 and AAD 16 over every AL", bad, 0);
    int v = TRY("mov $0x55, %%eax\n\taam $0", ::: "eax");
    TEST_EQ("AAM 0: #DE", v, EXCP_DE);
}

void test_main(void)
{
    test_daa_das("daa");
    test_daa_das("das");
    test_aaa_aas(true);
    test_aaa_aas(false);
    test_aam_aad();
}
