/* Runtime start-up, test reporting and the exit through isa-debug-exit. */
#include "runtime.h"

uint32_t mb_magic, mb_info, mb_entry_eflags;
static unsigned tests_run, tests_failed;

/* Both 8259s remapped to vectors 0x20-0x2f and fully masked: the tests
 * decide which hardware interrupts they take. */
static void pic_mask_all(void)
{
    static const uint8_t icw[2][4] = { { 0x11, 0x20, 0x04, 0x01 }, { 0x11, 0x28, 0x02, 0x01 } };
    static const uint16_t base[2] = { 0x20, 0xa0 };
    for (int i = 0; i < 2; i++) {
        outb(base[i], icw[i][0]);
        outb(base[i] + 1, icw[i][1]);
        outb(base[i] + 1, icw[i][2]);
        outb(base[i] + 1, icw[i][3]);
        outb(base[i] + 1, 0xff);
    }
}

void runtime_init(void)
{
    serial_init();
    pic_mask_all();
    desc_init();
}

void exit_test(uint32_t code)
{
    outl(DEBUG_EXIT_PORT, code);
    /* No isa-debug-exit device: stop here. */
    for (;;)
        asm volatile("cli; hlt");
}

void test_report(const char *name, bool ok, uint64_t got, uint64_t expected)
{
    tests_run++;
    if (ok) {
        printf("ok %u - %s\n", tests_run, name);
        return;
    }
    tests_failed++;
    printf("not ok %u - %s: got 0x%llx expected 0x%llx\n", tests_run, name,
           (unsigned long long)got, (unsigned long long)expected);
}

void test_finish(void)
{
    printf("%u tests, %u failed\n", tests_run, tests_failed);
    printf(tests_failed ? "FAILED\n" : "PASSED\n");
    exit_test(tests_failed ? 1 : 0);
}

void test_abort(void)
{
    printf("%u tests, %u failed, aborted\nFAILED\n", tests_run, tests_failed + 1);
    exit_test(2);
}
