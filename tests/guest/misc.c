/* Integer instructions beyond plain ALU ops: bit tests on memory with large
 * and negative offsets, ENTER/LEAVE, PUSHA/POPA, LOOP/JECXZ, XLAT,
 * CMPXCHG8B, XCHG, LEA forms, operand-size prefixes, LAHF/SAHF, RET imm,
 * three-operand IMUL, MOVS with a segment override, CPUID and RDTSC sanity. */
#include "runtime.h"

static void test_bit_memory(void)
{
    static uint32_t bits[8];
    memset(bits, 0, sizeof(bits));
    uint32_t base = (uint32_t)&bits[4];
    int32_t off = 100;                       /* dword 3 after base, bit 4 */
    asm volatile("btsl %1, (%0)" :: "r"(base), "r"(off) : "memory", "cc");
    TEST_EQ("BTS mem, reg 100: dword", bits[4 + 3], 1u << 4);
    off = -5;                                /* the dword before base, bit 27 */
    asm volatile("btsl %1, (%0)" :: "r"(base), "r"(off) : "memory", "cc");
    TEST_EQ("BTS mem, negative reg offset", bits[3], 1u << 27);
    uint8_t cf;
    asm volatile("btl %2, (%1)\n\tsetc %0" : "=q"(cf) : "r"(base), "r"(off) : "memory", "cc");
    TEST_EQ("BT mem, reg: CF", cf, 1);
    asm volatile("btrl %2, (%1)\n\tsetc %0" : "=q"(cf) : "r"(base), "r"(off) : "memory", "cc");
    TEST_EQ("BTR clears and reports", bits[3] | ((uint32_t)cf << 1), 2);
    asm volatile("btcl $33, (%1)\n\tsetc %0" : "=q"(cf) : "r"(base) : "memory", "cc");
    TEST_EQ("BTC mem, imm 33 stays in the dword (bit 1)", bits[4], 2);
    uint32_t w = 0;
    asm volatile("btsw %w1, %w0" : "+r"(w) : "r"(17) : "cc");
    TEST_EQ("BTS on a 16-bit register: offset modulo 16", w, 2);
}

/* Results of the stack tests go to globals: memory operands of inline asm
 * are ESP-relative and would move with the stack under test. */
uint32_t g_esp_before, g_ebp_in, g_esp_in, g_ebp_after, g_slot1, g_slot2, g_outer;
uint32_t g_saved[8], g_pusha_esp, g_a, g_b;

static void test_enter_leave(void)
{
    asm volatile("push %%ebp\n\t"
                 "mov %%esp, g_esp_before\n\t"
                 "mov $0x1234, %%ebp\n\t"
                 "enter $16, $0\n\t"
                 "mov %%ebp, g_ebp_in\n\t"
                 "mov %%esp, g_esp_in\n\t"
                 "leave\n\t"
                 "mov %%ebp, g_ebp_after\n\t"
                 "pop %%ebp" ::: "memory");
    TEST_EQ("ENTER 16,0: EBP = frame", g_ebp_in, g_esp_before - 4);
    TEST_EQ("ENTER 16,0: ESP below locals", g_esp_in, g_esp_before - 4 - 16);
    TEST_EQ("LEAVE restores EBP", g_ebp_after, 0x1234);

    /* Nesting level 2: copies one outer frame pointer, pushes the new one. */
    static uint32_t outer_frame[4] = { 0, 0xaaaa0001, 0, 0 };
    g_outer = (uint32_t)&outer_frame[2];
    asm volatile("push %%ebp\n\t"
                 "mov %%esp, g_esp_before\n\t"
                 "mov g_outer, %%ebp\n\t"
                 "enter $8, $2\n\t"
                 "mov -4(%%ebp), %%eax\n\t"
                 "mov %%eax, g_slot1\n\t"
                 "mov -8(%%ebp), %%eax\n\t"
                 "mov %%eax, g_slot2\n\t"
                 "mov %%ebp, g_ebp_in\n\t"
                 "leave\n\t"
                 "mov %%ebp, g_ebp_after\n\t"
                 "pop %%ebp" ::: "eax", "memory");
    TEST_EQ("ENTER 8,2: frame pointer", g_ebp_in, g_esp_before - 4);
    TEST_EQ("ENTER 8,2: copies the outer frame's pointer", g_slot1, outer_frame[1]);
    TEST_EQ("ENTER 8,2: pushes the new frame pointer", g_slot2, g_ebp_in);
    TEST_EQ("LEAVE after nested ENTER restores EBP", g_ebp_after, g_outer);
}

static void test_pusha_popa(void)
{
    asm volatile("mov %%esp, g_pusha_esp\n\t"
                 "pusha\n\t"
                 "mov %%esp, %%esi\n\t"
                 "mov $8, %%ecx\n\t"
                 "mov $g_saved, %%edi\n\t"
                 "cld\n\trep movsl\n\t"
                 "popa" ::: "memory", "esi", "edi", "ecx");
    TEST_EQ("PUSHA: EDI lowest, ESP slot holds the old ESP", g_saved[3], g_pusha_esp);
    asm volatile("mov $0x11, %%eax\n\tmov $0x22, %%ebx\n\tpusha\n\t"
                 "xor %%eax, %%eax\n\txor %%ebx, %%ebx\n\tpopa\n\t"
                 "mov %%eax, g_a\n\tmov %%ebx, g_b" ::: "eax", "ebx", "memory");
    TEST_EQ("POPA restores", g_a + g_b, 0x33);
}

static void test_loops(void)
{
    uint32_t n = 0, c = 10;
    asm volatile("1: incl %0\n\tloop 1b" : "+r"(n), "+c"(c));
    TEST_EQ("LOOP runs ECX times", n, 10);
    c = 0;
    n = 0;
    asm volatile("jecxz 1f\n\tmovl $1, %0\n1:" : "+r"(n) : "c"(c));
    TEST_EQ("JECXZ taken with ECX=0", n, 0);
    static const uint8_t data[8] = { 5, 5, 5, 7, 5, 5, 5, 5 };
    uint32_t i = 0;
    c = 8;
    asm volatile("1: cmpb $5, (%2,%0)\n\tlea 1(%0), %0\n\tloope 1b"
                 : "+r"(i), "+c"(c) : "r"(data) : "cc");
    TEST_EQ("LOOPE stops on the mismatch", i, 4);
    TEST_EQ("LOOPE: ECX left", c, 4);
}

static void test_misc_data(void)
{
    static const uint8_t table[256] = { [0x42] = 0x99 };
    uint32_t al = 0x42;
    asm volatile("xlat" : "+a"(al) : "b"(table));
    TEST_EQ("XLAT", al & 0xff, 0x99);

    uint64_t mem = 0x1122334455667788ull;
    uint32_t lo = 0x55667788, hi = 0x11223344, zf;
    asm volatile("lock cmpxchg8b %0\n\tsetz %b1" : "+m"(mem), "=q"(zf), "+a"(lo), "+d"(hi)
                 : "b"(0xdeadbeef), "c"(0xcafef00d) : "cc");
    TEST_EQ("CMPXCHG8B equal: stores ECX:EBX", mem, 0xcafef00ddeadbeefull);
    TEST_EQ("CMPXCHG8B equal: ZF", zf & 1, 1);
    lo = hi = 0;
    asm volatile("cmpxchg8b %0\n\tsetz %b1" : "+m"(mem), "=q"(zf), "+a"(lo), "+d"(hi)
                 : "b"(1), "c"(2) : "cc");
    TEST_EQ("CMPXCHG8B different: loads EDX:EAX", ((uint64_t)hi << 32) | lo, 0xcafef00ddeadbeefull);
    TEST_EQ("CMPXCHG8B different: ZF clear", zf & 1, 0);

    uint32_t x = 5, y = 9;
    asm volatile("xchg %0, %1" : "+m"(x), "+r"(y));
    TEST_EQ("XCHG mem, reg", x * 100 + y, 905);

    uint32_t r, base = 0x1000, idx = 0x10;
    asm("lea 0x7(%1,%2,8), %0" : "=r"(r) : "r"(base), "r"(idx));
    TEST_EQ("LEA base+index*8+disp", r, 0x1087);
    asm("lea -0x10(,%1,4), %0" : "=r"(r) : "r"(idx));
    TEST_EQ("LEA index*4-disp, no base", r, 0x30);
    asm("addr16 lea 0x10(%%bx,%%si), %0" : "=r"(r) : "b"(0xfff0), "S"(0x0008));
    TEST_EQ("LEA with 16-bit addressing wraps", r, 0x0008);

    uint32_t v = 0x1234ffff;
    asm("addw $1, %w0" : "+r"(v) :: "cc");
    TEST_EQ("ADD 16-bit keeps the upper half", v, 0x12340000);
    v = 0xabcd1234;
    asm("movb $0x77, %h0" : "+Q"(v));
    TEST_EQ("MOV to AH-style high byte register", v, 0xabcd7734);

    uint32_t ah_flags;
    asm volatile("mov $0xd5, %%ah\n\tsahf\n\tlahf\n\tmovzbl %%ah, %0" : "=r"(ah_flags) :: "eax", "cc");
    TEST_EQ("SAHF/LAHF round trip", ah_flags, 0xd7);

    int32_t m;
    asm("imul $-3, %1, %0" : "=r"(m) : "r"(7) : "cc");
    TEST_EQ("IMUL r, r, imm8", (uint32_t)m, (uint32_t)-21);

    uint32_t esp0, esp1;
    asm volatile("mov %%esp, %0\n\t"
                 "push $0\n\tpush $0\n\t"
                 "call 1f\n\t"
                 "jmp 2f\n"
                 "1: ret $8\n"
                 "2: mov %%esp, %1" : "=&r"(esp0), "=&r"(esp1) :: "memory");
    TEST_EQ("RET imm16 pops the arguments", esp1, esp0);

    int8_t small = -2;
    uint32_t zx, sx;
    asm("movzbl %2, %0\n\tmovsbl %2, %1" : "=&r"(zx), "=&r"(sx) : "m"(small));
    TEST_EQ("MOVZX/MOVSX from memory", zx + sx, 0xfe + 0xfffffffe);
}

static void test_segment_override(void)
{
    /* MOVS reads DS (overridable), writes ES (never overridden). */
    static char src[8] = "abcdefg", dst[8];
    uint32_t s = (uint32_t)src, d = (uint32_t)dst, c = 8;
    asm volatile("mov %%ds, %%ax\n\tmov %%ax, %%fs\n\t"
                 "cld\n\trep movsb %%fs:(%%esi), %%es:(%%edi)"
                 : "+S"(s), "+D"(d), "+c"(c) :: "eax", "memory");
    TEST_EQ("MOVS with an FS source override", memcmp(src, dst, 8), 0);
}

static void test_cpuid_rdtsc(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    TEST_TRUE("CPUID leaf 0: a maximum leaf", r[0] >= 1);
    cpuid(1, 0, r);
    TEST_TRUE("CPUID 1: TSC and CX8 present", (r[3] & 0x110) == 0x110);
    uint32_t lo1, hi1, lo2, hi2;
    asm volatile("rdtsc" : "=a"(lo1), "=d"(hi1));
    for (volatile int i = 0; i < 1000; i++)
        ;
    asm volatile("rdtsc" : "=a"(lo2), "=d"(hi2));
    uint64_t t1 = (uint64_t)hi1 << 32 | lo1, t2 = (uint64_t)hi2 << 32 | lo2;
    TEST_TRUE("RDTSC does not go backwards", t2 > t1);
}

void test_main(void)
{
    test_bit_memory();
    test_enter_leave();
    test_pusha_popa();
    test_loops();
    test_misc_data();
    test_segment_override();
    test_cpuid_rdtsc();
}
