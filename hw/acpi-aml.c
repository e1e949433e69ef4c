/* AML encoding (ACPI spec 20.2: opcodes, package lengths, name strings). */
#include "hw/acpi-aml.h"

#include <stdlib.h>
#include "system/util.h"

enum {
    ZERO_OP = 0x00, ONE_OP = 0x01, NAME_OP = 0x08, BYTE_PREFIX = 0x0a,
    WORD_PREFIX = 0x0b, DWORD_PREFIX = 0x0c, STRING_PREFIX = 0x0d, QWORD_PREFIX = 0x0e,
    SCOPE_OP = 0x10, BUFFER_OP = 0x11, PACKAGE_OP = 0x12, EXT_OP_PREFIX = 0x5b,
    DEVICE_OP = 0x82, ROOT_CHAR = 0x5c, DUAL_NAME_PREFIX = 0x2e, MULTI_NAME_PREFIX = 0x2f,
};

void aml_init(Aml *a)
{
    memset(a, 0, sizeof(*a));
}

void aml_free(Aml *a)
{
    free(a->buf);
    a->buf = NULL;
}

void aml_bytes(Aml *a, const void *p, size_t n)
{
    if (a->len + n > a->cap) {
        a->cap = (a->len + n) * 2 + 64;
        a->buf = xrealloc(a->buf, a->cap);
    }
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

void aml_byte(Aml *a, uint8_t b)
{
    aml_bytes(a, &b, 1);
}

static void le(Aml *a, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_name_string(Aml *a, const char *path)
{
    if (*path == '\\') {
        aml_byte(a, ROOT_CHAR);
        path++;
    }
    int nseg = 1;
    for (const char *p = path; *p; p++)
        nseg += *p == '.';
    if (nseg == 2)
        aml_byte(a, DUAL_NAME_PREFIX);
    else if (nseg > 2) {
        aml_byte(a, MULTI_NAME_PREFIX);
        aml_byte(a, (uint8_t)nseg);
    }
    while (*path) {
        char seg[4] = { '_', '_', '_', '_' };
        for (int i = 0; i < 4 && *path && *path != '.'; i++)
            seg[i] = *path++;
        aml_bytes(a, seg, 4);
        if (*path == '.')
            path++;
    }
}

void aml_integer(Aml *a, uint64_t v)
{
    if (v == 0)
        aml_byte(a, ZERO_OP);
    else if (v == 1)
        aml_byte(a, ONE_OP);
    else if (v <= 0xff) {
        aml_byte(a, BYTE_PREFIX);
        le(a, v, 1);
    } else if (v <= 0xffff) {
        aml_byte(a, WORD_PREFIX);
        le(a, v, 2);
    } else if (v <= 0xffffffffULL) {
        aml_byte(a, DWORD_PREFIX);
        le(a, v, 4);
    } else {
        aml_byte(a, QWORD_PREFIX);
        le(a, v, 8);
    }
}

void aml_string(Aml *a, const char *s)
{
    aml_byte(a, STRING_PREFIX);
    aml_bytes(a, s, strlen(s) + 1);
}

void aml_eisaid(Aml *a, const char *id)
{
    uint32_t v = (uint32_t)(id[0] - 0x40) << 26 | (uint32_t)(id[1] - 0x40) << 21 |
                 (uint32_t)(id[2] - 0x40) << 16 | (uint32_t)strtoul(id + 3, NULL, 16);
    aml_byte(a, DWORD_PREFIX);
    le(a, __builtin_bswap32(v), 4);
}

void aml_name(Aml *a, const char *path)
{
    aml_byte(a, NAME_OP);
    aml_name_string(a, path);
}

static void open_pkg(Aml *a)
{
    a->open[a->depth++] = a->len;
}

void aml_scope_open(Aml *a, const char *path)
{
    aml_byte(a, SCOPE_OP);
    open_pkg(a);
    aml_name_string(a, path);
}

void aml_device_open(Aml *a, const char *path)
{
    aml_byte(a, EXT_OP_PREFIX);
    aml_byte(a, DEVICE_OP);
    open_pkg(a);
    aml_name_string(a, path);
}

void aml_package_open(Aml *a, uint8_t nelems)
{
    aml_byte(a, PACKAGE_OP);
    open_pkg(a);
    aml_byte(a, nelems);
}

void aml_buffer_open(Aml *a)
{
    aml_byte(a, BUFFER_OP);
    open_pkg(a);
    aml_byte(a, 0xff);            /* marker: the size integer is inserted at close */
}

/* Insert n bytes at position pos. */
static void insert(Aml *a, size_t pos, const uint8_t *p, size_t n)
{
    aml_bytes(a, p, n);           /* grow */
    memmove(a->buf + pos + n, a->buf + pos, a->len - n - pos);
    memcpy(a->buf + pos, p, n);
}

/* PkgLength: the length includes its own bytes (20.2.4). */
static size_t encode_pkglen(size_t body, uint8_t out[4])
{
    if (body + 1 < 0x40) {
        out[0] = (uint8_t)(body + 1);
        return 1;
    }
    for (size_t n = 2; n <= 4; n++) {
        size_t total = body + n;
        if (total < (1ULL << (4 + 8 * (n - 1)))) {
            out[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
            for (size_t i = 1; i < n; i++)
                out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
            return n;
        }
    }
    return 0;
}

void aml_close(Aml *a)
{
    size_t start = a->open[--a->depth];
    if (a->buf[start - 1] == BUFFER_OP && a->buf[start] == 0xff) {
        /* Buffer: replace the marker by the size of the data that follows. */
        size_t data = a->len - start - 1;
        memmove(a->buf + start, a->buf + start + 1, data);
        a->len--;
        Aml size;
        aml_init(&size);
        aml_integer(&size, data);
        insert(a, start, size.buf, size.len);
        aml_free(&size);
    }
    uint8_t pl[4];
    size_t n = encode_pkglen(a->len - start, pl);
    insert(a, start, pl, n);
}

/* ---- resource descriptors --------------------------------------------------------- */

void aml_res_io(Aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
    aml_byte(a, 0x47);            /* I/O port, 16-bit decode */
    aml_byte(a, 0x01);
    le(a, min, 2);
    le(a, max, 2);
    aml_byte(a, align);
    aml_byte(a, len);
}

/* Word address space descriptor: type 0 memory, 1 I/O, 2 bus number. */
static void word_space(Aml *a, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
    aml_byte(a, 0x88);
    le(a, 13, 2);
    aml_byte(a, type);
    aml_byte(a, 0x0c);            /* min and max fixed, producer */
    aml_byte(a, type_flags);
    le(a, 0, 2);                  /* granularity */
    le(a, min, 2);
    le(a, max, 2);
    le(a, 0, 2);                  /* translation */
    le(a, (uint32_t)max - min + 1, 2);
}

void aml_res_word_bus(Aml *a, uint16_t min, uint16_t max)
{
    word_space(a, 2, 0, min, max);
}

void aml_res_word_io(Aml *a, uint16_t min, uint16_t max)
{
    word_space(a, 1, 0x03, min, max);   /* ISA and non-ISA ranges */
}

void aml_res_dword_mem(Aml *a, uint32_t min, uint32_t max, bool cacheable)
{
    aml_byte(a, 0x87);
    le(a, 23, 2);
    aml_byte(a, 0);               /* memory */
    aml_byte(a, 0x0c);
    aml_byte(a, (uint8_t)((cacheable ? 1 : 0) << 1 | 1));   /* read-write */
    le(a, 0, 4);
    le(a, min, 4);
    le(a, max, 4);
    le(a, 0, 4);
    le(a, (uint64_t)max - min + 1, 4);
}

void aml_res_qword_mem(Aml *a, uint64_t min, uint64_t max)
{
    aml_byte(a, 0x8a);
    le(a, 43, 2);
    aml_byte(a, 0);
    aml_byte(a, 0x0c);
    aml_byte(a, 0x03);            /* cacheable, read-write */
    le(a, 0, 8);
    le(a, min, 8);
    le(a, max, 8);
    le(a, 0, 8);
    le(a, max - min + 1, 8);
}

void aml_res_end(Aml *a)
{
    aml_byte(a, 0x79);
    aml_byte(a, 0x00);            /* checksum 0: "treat as correct" */
}
