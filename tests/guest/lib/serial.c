/* COM1 output by polling: 115200 8N1, wait for THR empty (LSR bit 5). */
#include "runtime.h"

void serial_init(void)
{
    outb(COM1 + 1, 0x00);   /* no interrupts */
    outb(COM1 + 3, 0x80);   /* DLAB */
    outb(COM1 + 0, 0x01);   /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0x07);   /* FIFOs on and cleared */
    outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

void serial_putc(char c)
{
    for (int spins = 0; !(inb(COM1 + 5) & 0x20) && spins < 1000000; spins++)
        ;
    outb(COM1, (uint8_t)c);
}

void puts_raw(const char *s)
{
    while (*s)
        serial_putc(*s++);
}
