/* Machine reset by triple fault: the first boot leaves a mark in RAM that
 * the loader does not overwrite and triple-faults (no IDT: #GP -> #DF ->
 * shutdown); the machine resets, the loader runs again, and the second boot
 * finds the mark. Run without -no-reboot.
 * test-allow-reboot
 */
#include "runtime.h"

#define MARK_ADDR 0x7ff0
#define MARK 0x7e5e7b00u

void test_main(void)
{
    volatile uint32_t *mark = (volatile uint32_t *)MARK_ADDR;
    if (*mark != MARK) {
        printf("first boot: triple fault\n");
        *mark = MARK;
        lidt(0, 0);
        asm volatile("int3");
        printf("still running after a triple fault\n");
        test_abort();
    }
    *mark = 0;
    printf("second boot\n");
    TEST_EQ("rebooted after the triple fault", 1, 1);
    TEST_EQ("multiboot magic after reset", mb_magic, 0x2BADB002);
}
