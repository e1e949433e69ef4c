/* The demo guest: a banner over COM1, then exit through isa-debug-exit.
 *   kestrel -nographic -kernel build/tests/guest/hello.elf \
 *           -device isa-debug-exit,iobase=0xf4,iosize=4 */
#include "runtime.h"

void test_main(void)
{
    printf("Hello from a Kestrel guest!\n");
    printf("Booted by a multiboot loader: magic %08x, info at %08x\n", mb_magic, mb_info);
    TEST_EQ("multiboot magic", mb_magic, 0x2BADB002);
}
