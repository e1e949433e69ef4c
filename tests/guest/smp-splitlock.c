/* LOCK-prefixed instructions on operands that cross a page boundary (split
 * locks) from two CPUs at once: atomic on hardware, so nothing may be lost.
 * (Linux's KVM, when it has to emulate such an access, does it as a plain
 * write; the software KVM of some hosts does: there this one fails, with
 * QEMU as with Kestrel.)
 * test-args: -smp 2
 */
#include "runtime.h"
#include "smp.h"

#define ROUNDS 50000
#define SPIN_LIMIT 400000000u

static volatile uint8_t area[3][4096] __attribute__((aligned(4096)));
#define ADD_COUNTER ((volatile uint32_t *)&area[0][4094])    /* pages 0 and 1 */
#define XADD_COUNTER ((volatile uint16_t *)&area[1][4095])   /* pages 1 and 2 */
volatile uint32_t go, done_count;

static void count(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        asm volatile("lock addl $1, %0" : "+m"(*ADD_COUNTER));
        uint16_t one = 1;
        asm volatile("lock xaddw %0, %1" : "+r"(one), "+m"(*XADD_COUNTER));
    }
    asm volatile("lock incl %0" : "+m"(done_count));
}

static void ap_main(void)
{
    while (!go)
        asm volatile("pause");
    count();
    for (;;)
        asm volatile("cli; hlt");
}

void test_main(void)
{
    ap_start_all(ap_main);
    go = 1;
    count();
    for (uint32_t spins = 0; done_count != 2 && spins < SPIN_LIMIT; spins++)
        asm volatile("pause");
    TEST_EQ("both CPUs finished", done_count, 2);
    /* one yes/no line: the counts a non-atomic host loses vary from run to run */
    bool none_lost = *ADD_COUNTER == 2 * ROUNDS && *XADD_COUNTER == (uint16_t)(2 * ROUNDS);
    TEST_TRUE("LOCK ADD and LOCK XADD across a page boundary lose nothing", none_lost);
}
