/* Machine reset through the keyboard controller (command 0xfe on port
 * 0x64): two boots, the count kept in RAM that the loader does not touch.
 * test-allow-reboot
 */
#include "runtime.h"

#define BOOTS_ADDR 0x7fe0
#define MAGIC 0x600d0000u

void test_main(void)
{
    volatile uint32_t *boots = (volatile uint32_t *)BOOTS_ADDR;
    if ((*boots & 0xffff0000u) != MAGIC)
        *boots = MAGIC;
    uint32_t n = ++*boots & 0xffff;
    if (n == 1) {
        printf("boot 1: reset through the keyboard controller\n");
        outb(0x64, 0xfe);
        /* The reset takes effect asynchronously: wait for it (a machine that
         * never resets ends in the runner's timeout). */
        for (;;)
            asm volatile("cli; hlt");
    }
    *boots = 0;
    TEST_EQ("second boot after the reset", n, 2);
}
