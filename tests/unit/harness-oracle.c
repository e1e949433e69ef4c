/* The oracle's harness for the unit tests (see harness-oracle.h). The
 * oracle's sources are compiled into this one object: tests/unit/harness*.c
 * is what every unit test links with, and tests/oracle/build.sh builds the
 * same files into the oracle driver. */
#include "tests/oracle/native.c"
#include "tests/oracle/tcg-run.c"
#include "tests/oracle/sys-tables.c"
#include "tests/oracle/compare.c"

#include <stdlib.h>
#include "tests/unit/harness.h"
#include "tests/unit/harness-oracle.h"

uint64_t oracle_xorshift(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

void oracle_batch_init(OracleBatch *b, size_t n_templates, size_t iters, int mode)
{
    memset(b, 0, sizeof(*b));
    b->n = n_templates * iters;
    b->iters = iters;
    b->cases = calloc(b->n, sizeof(*b->cases));
    for (size_t i = 0; i < b->n; i++) {
        OracleCase *c = &b->cases[i];
        c->mode = mode;
        c->in.gpr[OR_RSP] = ORACLE_RSP;
        c->in.rip = ORACLE_CODE;
        c->in.rflags = 0x202;
        c->in.mxcsr = 0x1f80;
    }
}

OracleCase *oracle_batch_case(OracleBatch *b, size_t t, size_t k)
{
    return &b->cases[t * b->iters + k];
}

void oracle_batch_from_templates(OracleBatch *b, const OracleTemplate *t, size_t n,
                                 size_t iters, int mode,
                                 void (*inputs)(const OracleTemplate *t, OracleCase *c))
{
    oracle_batch_init(b, n, iters, mode);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < iters; k++) {
            OracleCase *c = oracle_batch_case(b, i, k);
            snprintf(c->name, sizeof(c->name), "%s", t[i].name);
            memcpy(c->code, t[i].code, t[i].len);
            c->len = t[i].len;
            c->flag_mask = c->flag_mask_fault = t[i].flag_mask;
            inputs(&t[i], c);
        }
    }
}

bool oracle_batch_run_native(OracleBatch *b)
{
    if (!b->tried) {
        b->tried = true;
        b->native = calloc(b->n, sizeof(*b->native));
        if (!oracle_native_run(b->cases, b->native, b->n, b->why, sizeof(b->why))) {
            free(b->native);
            b->native = NULL;
        } else if (b->n && b->native[0].end == ORACLE_END_CRASH &&
                   b->native[0].vector == ORACLE_NO_LDT16) {
            snprintf(b->why, sizeof(b->why), "the host kernel refuses 16-bit LDT segments");
            free(b->native);
            b->native = NULL;
        }
    }
    return b->native != NULL;
}

static void report(const OracleCase *c, size_t k, const OracleResult *ref, bool faults_ok, const char *diff)
{
    char msg[1024];
    const uint64_t *g = c->in.gpr;
    int n = snprintf(msg, sizeof(msg), "%s (iteration %zu; in rax=%#" PRIx64 " rcx=%#" PRIx64
                     " rdx=%#" PRIx64 " rbx=%#" PRIx64 " rsi=%#" PRIx64 " rdi=%#" PRIx64
                     " rflags=%#" PRIx64 ")", c->name, k, g[0], g[1], g[2], g[3], g[6], g[7],
                     c->in.rflags);
    if (ref->end != ORACLE_END_OK && !(faults_ok && ref->end == ORACLE_END_EXCEPTION)) {
        char what[256];
        oracle_describe_result(ref, c->mode, what, sizeof(what));
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": the host did not complete it: %s", what);
    } else {
        snprintf(msg + n, sizeof(msg) - (size_t)n, ":\n%s", diff);
    }
    test_fail(__FILE__, __LINE__, msg);
}

int oracle_batch_check(OracleBatch *b, bool interp)
{
    if (!oracle_batch_run_native(b))
        return -1;
    OracleTCG *t = oracle_tcg_new(interp);
    OracleResult *got = malloc(sizeof(*got));
    int bad_templates = 0;
    for (size_t i = 0; i < b->n; i++) {
        const OracleCase *c = &b->cases[i];
        const OracleResult *ref = &b->native[i];
        oracle_tcg_run(t, c, got);
        char diff[2048] = "";
        bool completed = ref->end == ORACLE_END_OK ||
                         (b->faults_expected && ref->end == ORACLE_END_EXCEPTION);
        if (completed && !oracle_compare(c, ref, got, diff, sizeof(diff)))
            continue;
        report(c, i % b->iters, ref, b->faults_expected, diff);
        bad_templates++;
        i = (i / b->iters + 1) * b->iters - 1;   /* on to the next template */
    }
    free(got);
    oracle_tcg_free(t);
    return bad_templates;
}
