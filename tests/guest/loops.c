/* Hot loops (blocks that branch back to themselves, and loops of several
 * basic blocks that the translator makes one region, keeping guest
 * registers in host registers around the back edges): results against
 * plain C, a timer interrupt that stops an endless loop sees its
 * registers, and a loop that rewrites its own code. */
#include "runtime.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIT_CH0 0x40
#define PIT_MODE 0x43
#define IRQ0_VECTOR 0x20

/* CRC-32 with a table, one byte per iteration: the kernel decompressor's loop. */
static uint32_t crc_table[256];

static void make_crc_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_bitwise(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static uint32_t crc_loop(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xffffffffu, t;
    const uint8_t *end = p + n;
    asm volatile("1: movzbl (%[p]), %[t]\n\t"
                 "inc %[p]\n\t"
                 "xor %[c], %[t]\n\t"
                 "shr $8, %[c]\n\t"
                 "movzbl %b[t], %[t]\n\t"
                 "xor (%[tab], %[t], 4), %[c]\n\t"
                 "cmp %[end], %[p]\n\t"
                 "jne 1b"
                 : [c] "+r"(c), [p] "+r"(p), [t] "=&q"(t)
                 : [end] "r"(end), [tab] "r"(crc_table)
                 : "cc", "memory");
    return ~c;
}

/* An overlapping copy that wraps around a window: LZMA's match copy. */
static void copy_loop(uint8_t *win, uint32_t size, uint32_t dst, uint32_t src, uint32_t len)
{
    asm volatile("1: movzbl (%[w], %[s]), %%eax\n\t"
                 "mov %%al, (%[w], %[d])\n\t"
                 "inc %[d]\n\t"
                 "inc %[s]\n\t"
                 "cmp %[size], %[s]\n\t"
                 "cmove %[zero], %[s]\n\t"
                 "dec %[len]\n\t"
                 "jnz 1b"
                 : [d] "+r"(dst), [s] "+r"(src), [len] "+r"(len)
                 : [w] "r"(win), [size] "m"(size), [zero] "r"(0)
                 : "eax", "cc", "memory");
}

static void copy_c(uint8_t *win, uint32_t size, uint32_t dst, uint32_t src, uint32_t len)
{
    while (len--) {
        win[dst++] = win[src++];
        if (src == size)
            src = 0;
    }
}

static uint8_t buf[8192], win_a[4096], win_b[4096];

/* ---- loops of several basic blocks ------------------------------------------ */
/* if/else in the body: odd elements summed, even ones subtracted. */
static void if_else_loop(const uint32_t *p, uint32_t n, uint32_t *odd, uint32_t *even)
{
    uint32_t v;
    asm volatile("1: mov (%[p]), %[v]\n\t"
                 "test $1, %[v]\n\t"
                 "jz 2f\n\t"
                 "add %[v], %[odd]\n\t"
                 "jmp 3f\n"
                 "2: sub %[v], %[even]\n"
                 "3: add $4, %[p]\n\t"
                 "dec %[n]\n\t"
                 "jnz 1b"
                 : [p] "+r"(p), [n] "+r"(n), [v] "=&r"(v), [odd] "+r"(*odd), [even] "+r"(*even)
                 :: "cc", "memory");
}

/* Bits counted one at a time: an inner loop (its head inside the region)
 * with two paths each jumping back to it, in an outer loop. */
static void bit_count_loop(const uint32_t *p, uint32_t n, uint32_t *ones, uint32_t *zeros)
{
    uint32_t w;
    asm volatile("1: mov (%[p]), %[w]\n\t"
                 "add $4, %[p]\n"
                 "2: test %[w], %[w]\n\t"
                 "jz 4f\n\t"
                 "test $1, %[w]\n\t"
                 "jz 3f\n\t"
                 "incl %[ones]\n\t"
                 "shr %[w]\n\t"
                 "jmp 2b\n"
                 "3: incl %[zeros]\n\t"
                 "shr %[w]\n\t"
                 "jmp 2b\n"
                 "4: dec %[n]\n\t"
                 "jnz 1b"
                 : [p] "+r"(p), [n] "+r"(n), [w] "=&r"(w), [ones] "+m"(*ones), [zeros] "+m"(*zeros)
                 :: "cc", "memory");
}

/* ---- a timer interrupt stops an endless loop -------------------------------- */
volatile uint32_t ticks, mirror;
uint32_t irq_saved_esp, irq_resume, irq_regs[8];   /* PUSHAL order: edi first */

asm(".text\n"
    "irq0_loops:\n\t"
    "pushal\n\t"
    "mov %esp, %esi\n\t"
    "mov $irq_regs, %edi\n\t"
    "mov $8, %ecx\n\t"
    "cld\n\t"
    "rep movsl\n\t"
    "incl ticks\n\t"
    "movb $0x20, %al\n\toutb %al, $0x20\n\t"     /* non-specific EOI */
    "mov irq_saved_esp, %esp\n\t"
    "jmp *irq_resume\n");
extern char irq0_loops[];

static void interrupted_loop(void)
{
    asm volatile("mov %%esp, irq_saved_esp\n\t"
                 "movl $1f, irq_resume\n\t"
                 "xor %%eax, %%eax\n\t"
                 "mov $5, %%ebx\n\t"
                 "sti\n\t"
                 "2: inc %%eax\n\t"
                 "lea 5(%%eax, %%eax, 2), %%ebx\n\t"
                 "mov %%eax, mirror\n\t"
                 "jmp 2b\n"
                 "1: cli"
                 ::: "memory", "eax", "ebx", "ecx", "edx", "esi", "edi", "cc");
}

/* Two paths: EBX = 3 * EAX + 5 when EAX is odd, + 7 when even. */
static void interrupted_region_loop(void)
{
    asm volatile("mov %%esp, irq_saved_esp\n\t"
                 "movl $1f, irq_resume\n\t"
                 "xor %%eax, %%eax\n\t"
                 "mov $7, %%ebx\n\t"
                 "sti\n\t"
                 "2: inc %%eax\n\t"
                 "test $1, %%al\n\t"
                 "jz 3f\n\t"
                 "lea 5(%%eax, %%eax, 2), %%ebx\n\t"
                 "jmp 4f\n"
                 "3: lea 7(%%eax, %%eax, 2), %%ebx\n"
                 "4: mov %%eax, mirror\n\t"
                 "jmp 2b\n"
                 "1: cli"
                 ::: "memory", "eax", "ebx", "ecx", "edx", "esi", "edi", "cc");
}

static uint32_t two_path_value(uint32_t eax)
{
    return 3 * eax + (eax & 1 ? 5 : 7);
}

static void start_timer(void)
{
    /* channel 0, mode 2, about 50 ms: time for the few instructions between
     * one tick and the loop even when each exit of a KVM nested in software
     * takes long (a tick due at the loop's STI would end it at once) */
    outb(PIT_MODE, 0x34);
    outb(PIT_CH0, 60000 & 0xff);
    outb(PIT_CH0, 60000 >> 8);
    outb(PIC1_DATA, 0xfe);                   /* unmask IRQ 0 only */
}

static void stop_timer(void)
{
    outb(PIC1_DATA, 0xff);
    outb(PIT_MODE, 0x30);
}

/* Waits with interrupts on until irq0_loops ends the wait (no IRET: KVM
 * nested in software cannot run it at CPL 0). The IRQ may reach the CPU
 * some time after it was raised (KVM: the timer runs in another thread). */
static void wait_for_tick(void)
{
    asm volatile("mov %%esp, irq_saved_esp\n\t"
                 "movl $1f, irq_resume\n\t"
                 "sti\n"
                 "2: pause\n\t"
                 "jmp 2b\n"
                 "1: cli"
                 ::: "memory", "eax", "ebx", "ecx", "edx", "esi", "edi", "cc");
}

/* Runs an endless loop until a timer tick ends it, after at least
 * LOOP_MIN_COUNT iterations. Programming the timer raises IRQ 0 at once (its
 * output goes high): that one is waited for first. A tick already
 * due when the loop starts (a slow or busy host, KVM nested in software)
 * ends it early: run it again, so no count depends on time. */
#define LOOP_MIN_COUNT 200u
static void run_interrupted(void (*loop)(void))
{
    for (int attempt = 0; attempt < 50; attempt++) {
        idt_set(IRQ0_VECTOR, make_gate(KERNEL_CS, (uint32_t)irq0_loops, 0xe, 0, 0));
        start_timer();
        wait_for_tick();
        ticks = 0;
        mirror = 0;
        loop();
        stop_timer();
        if (irq_regs[7] >= LOOP_MIN_COUNT)
            return;
    }
}

/* ---- a loop rewriting the immediate of its own ADD ------------------------- */
static uint32_t self_modifying_loop(void)
{
    uint32_t sum = 0, n = 10;
    asm volatile("1: add $1, %[sum]\n\t"
                 "movb $2, 1b + 2\n\t"          /* 83 /0 ib: the immediate byte */
                 "dec %[n]\n\t"
                 "jnz 1b\n\t"
                 "movb $1, 1b + 2"
                 : [sum] "+r"(sum), [n] "+r"(n) :: "cc", "memory");
    return sum;
}

void test_main(void)
{
    make_crc_table();
    for (uint32_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 5));
    TEST_EQ("CRC-32 loop, 1 byte", crc_loop(buf, 1), crc_bitwise(buf, 1));
    TEST_EQ("CRC-32 loop, 8 KiB", crc_loop(buf, sizeof(buf)), crc_bitwise(buf, sizeof(buf)));

    for (uint32_t i = 0; i < sizeof(win_a); i++)
        win_a[i] = win_b[i] = (uint8_t)(i * 7);
    copy_loop(win_a, 3000, 10, 2990, 2000);
    copy_c(win_b, 3000, 10, 2990, 2000);
    copy_loop(win_a, 3000, 100, 99, 1);
    copy_c(win_b, 3000, 100, 99, 1);
    TEST_EQ("overlapping window copy loop", memcmp(win_a, win_b, sizeof(win_a)), 0);

    TEST_EQ("loop rewriting its own code", self_modifying_loop(), 1 + 2 * 9);

    static uint32_t words[1000];
    uint32_t odd = 0, even = 0, c_odd = 0, c_even = 0, ones = 0, zeros = 0, c_ones = 0, c_zeros = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t v = words[i] = i * 2654435761u >> (i % 29);
        if (v & 1)
            c_odd += v;
        else
            c_even -= v;
        for (; v; v >>= 1) {
            c_ones += v & 1;
            c_zeros += !(v & 1);
        }
    }
    if_else_loop(words, 1000, &odd, &even);
    TEST_TRUE("if/else loop of three blocks", odd == c_odd && even == c_even);
    bit_count_loop(words, 1000, &ones, &zeros);
    TEST_TRUE("inner loop with two back edges, in an outer loop", ones == c_ones && zeros == c_zeros);

    run_interrupted(interrupted_loop);
    uint32_t eax = irq_regs[7], ebx = irq_regs[4];
    TEST_EQ("timer interrupt ended the endless loop", ticks, 1);
    /* taken between two instructions: EAX counted, EBX and the mirror at most one behind */
    TEST_TRUE("EAX at the interrupt is the loop's count", eax - mirror <= 1 && eax >= LOOP_MIN_COUNT);
    TEST_TRUE("EBX at the interrupt agrees with EAX",
              ebx == 3 * eax + 5 || ebx == 3 * (eax - 1) + 5);

    run_interrupted(interrupted_region_loop);
    eax = irq_regs[7];
    ebx = irq_regs[4];
    TEST_EQ("timer interrupt ended the endless two-path loop", ticks, 1);
    TEST_TRUE("EAX at the interrupt is the two-path loop's count", eax - mirror <= 1 && eax >= LOOP_MIN_COUNT);
    TEST_TRUE("EBX at the interrupt agrees with EAX on either path",
              ebx == two_path_value(eax) || ebx == two_path_value(eax - 1));
}
