/* -d item parsing, -D files, LOG_ONCE and the capstone disassembly. */
#include "tests/unit/harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "system/log.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

TEST(parse_single_and_list)
{
    unsigned m = 0;
    char err[128];
    CHECK(log_parse_items("int", &m, err, sizeof(err)));
    CHECK_EQ(m, LOG_INT);
    CHECK(log_parse_items("in_asm,out_asm,guest_errors", &m, err, sizeof(err)));
    CHECK_EQ(m, LOG_IN_ASM | LOG_OUT_ASM | LOG_GUEST_ERRORS);
    CHECK(log_parse_items("op,exec,cpu,unimp,trace", &m, err, sizeof(err)));
    CHECK_EQ(m, LOG_OP | LOG_EXEC | LOG_CPU | LOG_UNIMP | LOG_TRACE);
}

TEST(parse_unknown_item_named_in_error)
{
    unsigned m = 0x1234;
    char err[128];
    CHECK(!log_parse_items("int,bogus,cpu", &m, err, sizeof(err)));
    CHECK(strstr(err, "'bogus'") != NULL);
    CHECK_EQ(m, 0x1234);          /* untouched on error */
    CHECK(!log_parse_items("in_as", &m, err, sizeof(err)));
    CHECK(strstr(err, "'in_as'") != NULL);
    CHECK(!log_parse_items("int_x", &m, err, sizeof(err)));
}

TEST(parse_empty_items)
{
    unsigned m;
    char err[128];
    CHECK(!log_parse_items("", &m, err, sizeof(err)));
    CHECK(err[0] != '\0');
    CHECK(!log_parse_items("int,,cpu", &m, err, sizeof(err)));
    CHECK(strstr(err, "empty") != NULL);
    CHECK(!log_parse_items("int,", &m, err, sizeof(err)));
    CHECK(err[0] != '\0');
}

TEST(parse_help_returns_false_with_empty_error)
{
    unsigned m;
    char err[128] = "x";
    CHECK(!log_parse_items("help", &m, err, sizeof(err)));
    CHECK_EQ(err[0], 0);
}

TEST(help_lists_every_item)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/help.txt", test_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    log_print_items_help(f);
    fclose(f);
    const char *text = slurp(path);
    REQUIRE(text);
    const char *names[] = { "in_asm", "out_asm", "op", "int", "exec", "cpu",
                            "guest_errors", "unimp", "trace" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK(strstr(text, names[i]) != NULL);
}

TEST(log_file_and_once)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/log.txt", test_tmpdir());
    REQUIRE(log_set_file(path));
    log_mask = LOG_GUEST_ERRORS;
    LOG(LOG_GUEST_ERRORS, "hello %d\n", 42);
    LOG(LOG_INT, "not logged\n");
    for (int i = 0; i < 3; i++) {
        for (int port = 0x60; port < 0x62; port++)
            LOG_ONCE(LOG_GUEST_ERRORS, port, "once port 0x%x\n", port);
    }
    fflush(log_file());
    const char *text = slurp(path);
    REQUIRE(text);
    CHECK(strstr(text, "hello 42\n") != NULL);
    CHECK(strstr(text, "not logged") == NULL);
    const char *a = strstr(text, "once port 0x60\n");
    const char *b = strstr(text, "once port 0x61\n");
    CHECK(a && !strstr(a + 1, "once port 0x60"));
    CHECK(b && !strstr(b + 1, "once port 0x61"));
    log_mask = 0;
}

TEST(log_set_file_failure)
{
    CHECK(!log_set_file("/nonexistent-dir/for/sure/log.txt"));
}

TEST(once_many_keys)
{
    /* Grows the table past its first size; each key is first exactly once. */
    int firsts = 0;
    for (int round = 0; round < 2; round++) {
        for (uint64_t k = 0; k < 5000; k++)
            firsts += log_first_time("many", 1, k);
    }
    CHECK_EQ(firsts, 5000);
}

static void *log_thread(void *arg)
{
    for (int i = 0; i < 200; i++)
        log_printf("thread %d line %d end\n", (int)(intptr_t)arg, i);
    return NULL;
}

TEST(log_lines_do_not_interleave)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/threads.txt", test_tmpdir());
    REQUIRE(log_set_file(path));
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, log_thread, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    fflush(log_file());
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    char line[256];
    int n = 0, bad = 0;
    while (fgets(line, sizeof(line), f)) {
        int th, ln;
        char end[8];
        if (sscanf(line, "thread %d line %d %7s", &th, &ln, end) != 3 || strcmp(end, "end"))
            bad++;
        n++;
    }
    fclose(f);
    CHECK_EQ(n, 800);
    CHECK_EQ(bad, 0);
}

static char *disas_string(const void *code, size_t len, uint64_t addr, int mode,
                          int max, size_t *consumed)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    *consumed = log_disas_x86_to(f, code, len, addr, mode, max);
    fclose(f);
    return buf;
}

TEST(disas_64_32_16)
{
    size_t n;
    /* mov rax, rbx ; ret */
    static const uint8_t c64[] = { 0x48, 0x89, 0xd8, 0xc3 };
    char *s = disas_string(c64, sizeof(c64), 0x1000, 64, 0, &n);
    CHECK_EQ(n, 4);
    CHECK(strstr(s, "0x0000000000001000:") != NULL);
    CHECK(strstr(s, "48 89 d8") != NULL);
    CHECK(strstr(s, "mov rax, rbx") != NULL);
    CHECK(strstr(s, "0x0000000000001003:") != NULL);
    CHECK(strstr(s, "ret") != NULL);
    free(s);
    /* the same bytes in 32-bit mode: dec eax ; mov eax, ebx ; ret */
    s = disas_string(c64, sizeof(c64), 0, 32, 0, &n);
    CHECK(strstr(s, "dec eax") != NULL);
    CHECK(strstr(s, "mov eax, ebx") != NULL);
    free(s);
    /* 16-bit: mov ax, bx */
    static const uint8_t c16[] = { 0x89, 0xd8 };
    s = disas_string(c16, sizeof(c16), 0x7c00, 16, 0, &n);
    CHECK(strstr(s, "mov ax, bx") != NULL);
    free(s);
}

TEST(disas_bad_bytes_and_count)
{
    size_t n;
    /* 0x0f 0xff is undefined; nop nop nop follow */
    static const uint8_t c[] = { 0x0f, 0xff, 0x90, 0x90, 0x90 };
    char *s = disas_string(c, sizeof(c), 0, 64, 3, &n);
    CHECK(strstr(s, "nop") != NULL);
    free(s);
    /* a truncated instruction at the end shows as bad, never reads past len */
    static const uint8_t t[] = { 0x90, 0x48, 0xb8, 0x01 };
    s = disas_string(t, sizeof(t), 0, 64, 0, &n);
    CHECK_EQ(n, 4);
    CHECK(strstr(s, "(bad)") != NULL);
    free(s);
    static const uint8_t nops[] = { 0x90, 0x90, 0x90, 0x90 };
    s = disas_string(nops, sizeof(nops), 0, 32, 2, &n);
    CHECK_EQ(n, 2);
    free(s);
}
