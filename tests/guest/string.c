/* String instructions: MOVS/STOS/LODS/CMPS/SCAS in byte, word and dword
 * sizes, with REP/REPE/REPNE, both directions, ECX = 0, 16-bit addressing
 * (SI/DI wrap at 64 KiB) and string port I/O (the UART scratch register). */
#include "runtime.h"

static uint8_t src[256], dst[256];

static void fill(uint8_t *p, unsigned n, uint8_t seed)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

struct regs { uint32_t esi, edi, ecx, eflags; };

static void test_movs(void)
{
    fill(src, sizeof(src), 1);
    memset(dst, 0, sizeof(dst));
    uint32_t s = (uint32_t)src, d = (uint32_t)dst, c = 100;
    asm volatile("cld; rep movsb" : "+S"(s), "+D"(d), "+c"(c) :: "memory");
    TEST_EQ("rep movsb copies", memcmp(dst, src, 100), 0);
    TEST_EQ("rep movsb leaves dst tail", dst[100], 0);
    TEST_EQ("rep movsb ESI", s, (uint32_t)src + 100);
    TEST_EQ("rep movsb EDI", d, (uint32_t)dst + 100);
    TEST_EQ("rep movsb ECX", c, 0);

    memset(dst, 0, sizeof(dst));
    s = (uint32_t)src; d = (uint32_t)dst; c = 10;
    asm volatile("cld; rep movsl" : "+S"(s), "+D"(d), "+c"(c) :: "memory");
    TEST_EQ("rep movsl copies", memcmp(dst, src, 40), 0);
    TEST_EQ("rep movsl EDI", d, (uint32_t)dst + 40);

    /* Backwards, overlapping: memmove to a higher address. */
    fill(src, sizeof(src), 3);
    uint8_t expect[64];
    memcpy(expect, src, 64);
    s = (uint32_t)src + 63; d = (uint32_t)src + 64 + 63; c = 64;
    asm volatile("std; rep movsb; cld" : "+S"(s), "+D"(d), "+c"(c) :: "memory");
    TEST_EQ("std rep movsb copies backwards", memcmp(src + 64, expect, 64), 0);
    TEST_EQ("std rep movsb ESI", s, (uint32_t)src - 1);

    /* Forwards, the destination one byte ahead of the source: each byte
     * copied is read again, so the first byte fills the run (not a memmove). */
    fill(src, sizeof(src), 5);
    uint8_t first = src[0];
    s = (uint32_t)src; d = (uint32_t)src + 1; c = 32;
    asm volatile("cld; rep movsb" : "+S"(s), "+D"(d), "+c"(c) :: "memory");
    TEST_EQ("rep movsb overlapping forwards replicates", src[32] == first && src[17] == first, 1);
    TEST_EQ("rep movsb overlapping forwards stops", src[33], (uint8_t)(5 + 33 * 7));

    s = (uint32_t)src; d = (uint32_t)dst; c = 0;
    dst[0] = 0xaa;
    asm volatile("cld; rep movsw" : "+S"(s), "+D"(d), "+c"(c) :: "memory");
    TEST_EQ("rep movsw with ECX=0 copies nothing", dst[0], 0xaa);
    TEST_EQ("rep movsw with ECX=0 keeps ESI", s, (uint32_t)src);
}

static void test_stos_lods(void)
{
    uint32_t d = (uint32_t)dst, c = 16;
    asm volatile("cld; rep stosw" : "+D"(d), "+c"(c) : "a"(0xbeef) : "memory");
    TEST_EQ("rep stosw value", *(uint16_t *)(dst + 30), 0xbeef);
    TEST_EQ("rep stosw EDI", d, (uint32_t)dst + 32);

    d = (uint32_t)dst; c = 8;
    asm volatile("cld; rep stosl" : "+D"(d), "+c"(c) : "a"(0x12345678) : "memory");
    TEST_EQ("rep stosl mixed bytes", *(uint32_t *)(dst + 28), 0x12345678);
    d = (uint32_t)dst + 4; c = 6;
    asm volatile("cld; rep stosl" : "+D"(d), "+c"(c) : "a"(0) : "memory");
    TEST_EQ("rep stosl zero", *(uint32_t *)(dst + 24) | *(uint32_t *)(dst + 4), 0);
    TEST_EQ("rep stosl zero stops", *(uint32_t *)(dst + 28), 0x12345678);

    d = (uint32_t)dst + 12; c = 4;
    asm volatile("std; rep stosb; cld" : "+D"(d), "+c"(c) : "a"(0x11) : "memory");
    TEST_EQ("std rep stosb value", *(uint32_t *)(dst + 9), 0x11111111);
    TEST_EQ("std rep stosb EDI", d, (uint32_t)dst + 8);

    fill(src, 16, 0x40);
    uint32_t s = (uint32_t)src, a = 0;
    c = 5;
    asm volatile("cld; rep lodsb" : "+S"(s), "+c"(c), "+a"(a) :: "memory");
    TEST_EQ("rep lodsb leaves the last byte in AL", a & 0xff, src[4]);
    s = (uint32_t)src;
    asm volatile("lodsl" : "+S"(s), "=a"(a) :: "memory");
    TEST_EQ("lodsl", a, *(uint32_t *)src);
}

static void test_cmps_scas(void)
{
    fill(src, 64, 9);
    memcpy(dst, src, 64);
    dst[37] ^= 0xff;
    uint32_t s = (uint32_t)src, d = (uint32_t)dst, c = 64, fl;
    asm volatile("cld; repe cmpsb; pushf; pop %3" : "+S"(s), "+D"(d), "+c"(c), "=r"(fl) :: "memory");
    TEST_EQ("repe cmpsb stops after the mismatch", s, (uint32_t)src + 38);
    TEST_EQ("repe cmpsb ECX", c, 64 - 38);
    TEST_EQ("repe cmpsb ZF clear", fl & 0x40, 0);

    s = (uint32_t)src; d = (uint32_t)src; c = 16;
    asm volatile("cld; repe cmpsl; pushf; pop %3" : "+S"(s), "+D"(d), "+c"(c), "=r"(fl) :: "memory");
    TEST_EQ("repe cmpsl equal: ECX", c, 0);
    TEST_EQ("repe cmpsl equal: ZF set", fl & 0x40, 0x40);

    const char *text = "find the needle: x marks the spot";
    d = (uint32_t)text; c = strlen(text);
    asm volatile("cld; repne scasb; pushf; pop %2" : "+D"(d), "+c"(c), "=r"(fl) : "a"('x') : "memory");
    TEST_EQ("repne scasb finds the byte", d - (uint32_t)text, 18);
    TEST_EQ("repne scasb ZF set", fl & 0x40, 0x40);

    d = (uint32_t)text; c = 8;
    asm volatile("cld; repne scasb; pushf; pop %2" : "+D"(d), "+c"(c), "=r"(fl) : "a"('#') : "memory");
    TEST_EQ("repne scasb not found: ECX", c, 0);
    TEST_EQ("repne scasb not found: ZF clear", fl & 0x40, 0);

    uint16_t words[4] = { 5, 5, 5, 6 };
    d = (uint32_t)words; c = 4;
    asm volatile("cld; repe scasw" : "+D"(d), "+c"(c) : "a"(5) : "memory");
    TEST_EQ("repe scasw stops at the different word", c, 0);
    TEST_EQ("repe scasw EDI", d, (uint32_t)words + 8);
}

/* addr16: SI/DI/CX are 16-bit and wrap inside the first 64 KiB. */
static void test_addr16(void)
{
    volatile uint8_t *low = (volatile uint8_t *)0x7000;
    for (int i = 0; i < 16; i++) {
        low[i] = (uint8_t)(0xa0 + i);
        low[0x100 + i] = 0;
    }
    uint32_t s = 0xdead7000, d = 0xbeef7100, c = 0xffff0010;
    asm volatile("cld; addr16 rep movsb" : "+S"(s), "+D"(d), "+c"(c) :: "memory");
    TEST_EQ("addr16 rep movsb copies", low[0x10f], 0xaf);
    TEST_EQ("addr16 rep movsb ESI high half kept", s, 0xdead7010);
    TEST_EQ("addr16 rep movsb EDI high half kept", d, 0xbeef7110);
    TEST_EQ("addr16 rep movsb CX counts, ECX high half kept", c, 0xffff0000);

    /* DI wraps from 0xffff to 0 with addr16 std. */
    volatile uint8_t *zero_page = (volatile uint8_t *)0;
    uint8_t saved0 = zero_page[0];
    d = 0x0000; c = 2;
    asm volatile("std; addr16 rep stosb; cld" : "+D"(d), "+c"(c) : "a"(0x5c) : "memory");
    TEST_EQ("addr16 std stosb wraps DI to 0xfffe", d & 0xffff, 0xfffe);
    TEST_EQ("addr16 stosb wrote at 0", zero_page[0], 0x5c);
    TEST_EQ("addr16 stosb wrote at 0xffff", *(volatile uint8_t *)0xffff, 0x5c);
    zero_page[0] = saved0;
}

/* String port I/O through the 16550 scratch register (COM1 + 7). */
static void test_string_io(void)
{
    static const uint8_t bytes[4] = { 0x12, 0x34, 0x56, 0x78 };
    uint32_t s = (uint32_t)bytes, c = 4;
    asm volatile("cld; rep outsb" : "+S"(s), "+c"(c) : "d"(COM1 + 7) : "memory");
    TEST_EQ("rep outsb: last byte in the scratch register", inb(COM1 + 7), 0x78);
    TEST_EQ("rep outsb ESI", s, (uint32_t)bytes + 4);
    uint8_t in[4] = { 0 };
    uint32_t d = (uint32_t)in;
    c = 3;
    asm volatile("cld; rep insb" : "+D"(d), "+c"(c) : "d"(COM1 + 7) : "memory");
    TEST_EQ("rep insb reads the scratch register each time", in[0] + in[1] + in[2], 3 * 0x78);
    TEST_EQ("rep insb stops at ECX", in[3], 0);
}

void test_main(void)
{
    test_movs();
    test_stos_lods();
    test_cmps_scas();
    test_addr16();
    test_string_io();
}
