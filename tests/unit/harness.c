#include "tests/unit/harness.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TESTS 512

static struct { const char *name; TestFn fn; } tests[MAX_TESTS];
static int ntests;
static const char *suite = "test";
static bool cur_failed;
static const char *cur_skip;
static const char *cur_name;
static char tmpdir[256];

void test_register(const char *name, TestFn fn)
{
    if (ntests < MAX_TESTS) {
        tests[ntests].name = name;
        tests[ntests].fn = fn;
        ntests++;
    }
}

void test_fail(const char *file, int line, const char *what)
{
    if (!cur_failed)
        printf("FAIL %s/%s: %s:%d: %s\n", suite, cur_name, file, line, what);
    else
        printf("     %s:%d: %s\n", file, line, what);
    cur_failed = true;
}

void test_skip(const char *reason) { cur_skip = reason; }
bool test_failed(void) { return cur_failed; }

static void remove_tmpdir(void)
{
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/kestrel-test.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    suite = slash ? slash + 1 : argv[0];
    int failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < ntests; i++) {
        if (argc > 1) {
            bool wanted = false;
            for (int j = 1; j < argc; j++)
                wanted |= strcmp(argv[j], tests[i].name) == 0;
            if (!wanted)
                continue;
        }
        cur_name = tests[i].name;
        cur_failed = false;
        cur_skip = NULL;
        tests[i].fn();
        if (cur_failed)
            failed++;
        else if (cur_skip)
            printf("SKIP %s/%s: %s\n", suite, cur_name, cur_skip);
        else
            printf("PASS %s/%s\n", suite, cur_name);
    }
    return failed ? 1 : 0;
}
