/* Runtime start-up, test reporting and the exit through isa-debug-exit. */
#include "runtime.h"

uint32_t mb_magic, mb_info;
static unsigned tests_run, tests_failed;

void runtime_init(void)
{
    serial_init();
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
