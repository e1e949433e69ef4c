/* A tiny unit-test harness. Each tests/unit/test-NAME.c defines tests with
 *   TEST(some_name) { CHECK(x == 1); CHECK_EQ(a, b); if (!ok) SKIP("why"); }
 * and links with harness.c, whose main() runs them all (or those named on the
 * command line) and prints one line per test:
 *   PASS test-NAME/some_name      FAIL test-NAME/some_name: file:line: expr
 *   SKIP test-NAME/some_name: reason
 * tests/run.sh counts these lines. */
#ifndef TESTS_UNIT_HARNESS_H
#define TESTS_UNIT_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef void (*TestFn)(void);
void test_register(const char *name, TestFn fn);
void test_fail(const char *file, int line, const char *what);
void test_skip(const char *reason);
bool test_failed(void);
/* A scratch directory, created once per test binary, removed at exit. */
const char *test_tmpdir(void);

#define TEST(name)                                                        \
    static void test_##name(void);                                        \
    __attribute__((constructor)) static void test_register_##name(void)  \
    {                                                                     \
        test_register(#name, test_##name);                                \
    }                                                                     \
    static void test_##name(void)

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond))                                                      \
            test_fail(__FILE__, __LINE__, #cond);                         \
    } while (0)

#define CHECK_EQ(a, b)                                                    \
    do {                                                                  \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                  \
        if (a_ != b_) {                                                   \
            char m_[256];                                                 \
            snprintf(m_, sizeof(m_), "%s == %s (0x%" PRIx64 " != 0x%" PRIx64 ")", \
                     #a, #b, a_, b_);                                     \
            test_fail(__FILE__, __LINE__, m_);                            \
        }                                                                 \
    } while (0)

/* Stop the current test when a check failed (e.g. before dereferencing). */
#define REQUIRE(cond)                                                     \
    do {                                                                  \
        if (!(cond)) {                                                    \
            test_fail(__FILE__, __LINE__, #cond);                         \
            return;                                                       \
        }                                                                 \
    } while (0)

#define SKIP(reason)                                                      \
    do {                                                                  \
        test_skip(reason);                                                \
        return;                                                           \
    } while (0)

#endif
