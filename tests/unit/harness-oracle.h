/* Unit tests against the host CPU, through the differential oracle's
 * harness (tests/oracle): a test fills a batch of cases (code, initial
 * state, data), the batch runs once natively in a child process, then under
 * the translator (either backend), and the results are compared as the
 * oracle compares them. The batch is laid out as groups of `iters` cases
 * (one group per instruction template); a group reports its first
 * divergence. */
#ifndef TESTS_UNIT_HARNESS_ORACLE_H
#define TESTS_UNIT_HARNESS_ORACLE_H

#include "tests/oracle/oracle.h"

typedef struct OracleBatch {
    OracleCase *cases;
    OracleResult *native;    /* NULL until run (or when it cannot run) */
    size_t n, iters;
    bool tried;
    bool faults_expected;    /* a case may end in an exception (compared as such) */
    char why[160];           /* why the native run is impossible */
} OracleBatch;

/* n_templates groups of iters cases, zeroed: mode 64, state RSP/RIP/MXCSR as
 * the oracle starts them. */
void oracle_batch_init(OracleBatch *b, size_t n_templates, size_t iters, int mode);
/* The case for template t, iteration k. */
OracleCase *oracle_batch_case(OracleBatch *b, size_t t, size_t k);
/* Runs the batch natively (once; later calls return the first answer). */
bool oracle_batch_run_native(OracleBatch *b);
/* Runs the batch under the translator (interp: the portable backend) and
 * reports each diverging template with test_fail. Returns the number of
 * diverging templates, or -1 (with b->why) when the host cannot run them. A
 * case the host itself did not complete is a divergence (a bad test input),
 * unless it faulted and the batch says faults_expected. */
int oracle_batch_check(OracleBatch *b, bool interp);

/* A fixed instruction template: the snippet, the flags compared and the
 * shape of the random inputs it needs (the test's own enum). */
typedef struct OracleTemplate {
    const char *name;
    uint8_t code[24];
    unsigned len;
    uint32_t flag_mask;
    int shape;
} OracleTemplate;
#define ORACLE_TEMPLATE(name, mask, shape, ...) \
    { name, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), mask, shape }

/* A batch of n templates x iters cases in the given mode; inputs(t, c) sets
 * the registers, flags and data of one case (RSP, RIP and MXCSR are set). */
void oracle_batch_from_templates(OracleBatch *b, const OracleTemplate *t, size_t n,
                                 size_t iters, int mode,
                                 void (*inputs)(const OracleTemplate *t, OracleCase *c));

/* xorshift64: the tests' fixed-seed operand generators. */
uint64_t oracle_xorshift(uint64_t *state);

#endif
