/* printf-lite: %d %i %u %x %X %o %c %s %p %%, flags '-' '0', a width, and the
 * length modifiers l and ll (64-bit values). Output goes to COM1. */
#include "runtime.h"

static void put_padded(const char *s, int len, int width, bool left, char pad)
{
    if (!left)
        for (int i = len; i < width; i++)
            serial_putc(pad);
    for (int i = 0; i < len; i++)
        serial_putc(s[i]);
    if (left)
        for (int i = len; i < width; i++)
            serial_putc(' ');
}

/* Digits of v in base 2..16 into the end of buf; returns the first digit. */
static char *format_unsigned(char *end, uint64_t v, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v);
    return p;
}

int vprintf(const char *fmt, va_list ap)
{
    char buf[32];
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            serial_putc(*f);
            continue;
        }
        f++;
        bool left = false;
        char pad = ' ';
        for (;; f++) {
            if (*f == '-')
                left = true;
            else if (*f == '0')
                pad = '0';
            else
                break;
        }
        int width = 0;
        while (*f >= '0' && *f <= '9')
            width = width * 10 + (*f++ - '0');
        int longs = 0;
        while (*f == 'l')
            longs++, f++;
        char *end = buf + sizeof(buf), *p;
        uint64_t u;
        int64_t s;
        switch (*f) {
        case 'd': case 'i':
            s = longs >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
            p = format_unsigned(end, s < 0 ? -(uint64_t)s : (uint64_t)s, 10, false);
            if (s < 0)
                *--p = '-';
            put_padded(p, end - p, width, left, pad);
            break;
        case 'u': case 'x': case 'X': case 'o':
            u = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
            p = format_unsigned(end, u, *f == 'u' ? 10 : *f == 'o' ? 8 : 16, *f == 'X');
            put_padded(p, end - p, width, left, pad);
            break;
        case 'p':
            p = format_unsigned(end, (uint32_t)va_arg(ap, void *), 16, false);
            *--p = 'x';
            *--p = '0';
            put_padded(p, end - p, width, left, pad);
            break;
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            put_padded(buf, 1, width, left, ' ');
            break;
        case 's':
            p = va_arg(ap, char *);
            if (!p)
                p = "(null)";
            put_padded(p, strlen(p), width, left, ' ');
            break;
        case '%':
            serial_putc('%');
            break;
        case 0:
            return 0;
        default:
            serial_putc('%');
            serial_putc(*f);
            break;
        }
    }
    return 0;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    return 0;
}
