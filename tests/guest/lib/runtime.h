/* The bare-metal runtime of the guest test programs: port I/O, COM1 output,
 * a small printf, test assertions and the exit through isa-debug-exit.
 *
 * A program defines test_main(); crt0.S calls runtime_init(), test_main()
 * and test_finish(), which prints the summary and exits with code 0 (all
 * passed: process exit status 1) or 1 (status 3). */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "desc.h"

#define DEBUG_EXIT_PORT 0xf4
#define COM1 0x3f8

static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint32_t read_cr0(void) { uint32_t v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr2v(void) { uint32_t v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr3(void) { uint32_t v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr4(void) { uint32_t v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint32_t v) { asm volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(uint32_t v) { asm volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(uint32_t v) { asm volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline uint32_t read_eflags(void) { uint32_t v; asm volatile("pushf; pop %0" : "=r"(v)); return v; }
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return lo | (uint64_t)hi << 32;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline void invlpg(uint32_t va) { asm volatile("invlpg (%0)" :: "r"(va) : "memory"); }

/* Multiboot values the loader handed over. */
extern uint32_t mb_magic, mb_info, mb_entry_eflags;

void serial_init(void);
void serial_putc(char c);
void puts_raw(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

void runtime_init(void);
void desc_init(void);
void test_main(void);
/* Summary line and exit: code 0 when every check passed, else 1. */
void test_finish(void) __attribute__((noreturn));
/* Something went badly wrong (unexpected exception): fail and exit now. */
void test_abort(void) __attribute__((noreturn));
/* Exit through isa-debug-exit (status (code << 1) | 1); halts if absent. */
void exit_test(uint32_t code) __attribute__((noreturn));

void test_report(const char *name, bool ok, uint64_t got, uint64_t expected);
#define TEST_EQ(name, got, expected)                                      \
    do {                                                                  \
        uint64_t got_ = (uint64_t)(got), exp_ = (uint64_t)(expected);     \
        test_report(name, got_ == exp_, got_, exp_);                      \
    } while (0)
#define TEST_TRUE(name, cond) test_report(name, !!(cond), !!(cond), 1)

#endif
