/* Small utilities shared by every part of Kestrel. */
#ifndef SYSTEM_UTIL_H
#define SYSTEM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define KiB (1024ULL)
#define MiB (1024ULL * 1024)
#define GiB (1024ULL * 1024 * 1024)

/* Allocation that never returns NULL: out of memory ends the process cleanly. */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "kestrel: <message>" on stderr. */
void error_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* error_report, then exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), __noreturn__));

/* Parse a size with an optional K/M/G/T suffix (binary units; a bare number
 * means bytes unless default_unit says otherwise). Returns false on junk or overflow. */
bool parse_size(const char *s, uint64_t default_unit, uint64_t *out);
/* Strict integer parsing (decimal, 0x hex, 0 octal); false on junk or overflow. */
bool parse_u64(const char *s, uint64_t *out);

/* Little-endian loads and stores on unaligned host memory. */
static inline uint16_t ld16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ld32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ld64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void st16(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void st32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void st64(void *p, uint64_t v) { memcpy(p, &v, 8); }
/* Big-endian (qcow2 and ATAPI are big-endian on disk/wire). */
static inline uint16_t ldbe16(const void *p) { return __builtin_bswap16(ld16(p)); }
static inline uint32_t ldbe32(const void *p) { return __builtin_bswap32(ld32(p)); }
static inline uint64_t ldbe64(const void *p) { return __builtin_bswap64(ld64(p)); }
static inline void stbe16(void *p, uint16_t v) { st16(p, __builtin_bswap16(v)); }
static inline void stbe32(void *p, uint32_t v) { st32(p, __builtin_bswap32(v)); }
static inline void stbe64(void *p, uint64_t v) { st64(p, __builtin_bswap64(v)); }

/* Load/store of 1, 2, 4 or 8 bytes, little-endian. */
static inline uint64_t ldn(const void *p, unsigned size)
{
    switch (size) {
    case 1: return *(const uint8_t *)p;
    case 2: return ld16(p);
    case 4: return ld32(p);
    default: return ld64(p);
    }
}
static inline void stn(void *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *(uint8_t *)p = (uint8_t)v; break;
    case 2: st16(p, (uint16_t)v); break;
    case 4: st32(p, (uint32_t)v); break;
    default: st64(p, v); break;
    }
}

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* Read or write a whole buffer, retrying on EINTR and short transfers.
 * Return 0 or -errno. pread_full returns -EIO on EOF before len bytes. */
int pread_full(int fd, void *buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
int write_full(int fd, const void *buf, size_t len);

#endif
