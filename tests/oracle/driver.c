/* oracle-cpu: the differential run. Generates cases from a seed (or replays
 * regression files), runs them natively and under the translator's backends,
 * and prints PASS/FAIL/SKIP lines for tests/run.sh.
 *
 *   oracle-cpu [-s seed] [-n cases-per-mode] [-t seconds] [-m 64|32|16|all]
 *              [-b interp|x86_64|both] [-o dir] [-k known-file] [-v]
 *   oracle-cpu -r file.case...        replay regression cases
 *   oracle-cpu -s seed -m mode -x N -o dir   write random case N as a .case
 *   oracle-cpu -K                     system snippets against KVM
 *   -d in_asm,op,exec,...             the translator's log (as kestrel -d), to stderr
 *
 * -t makes it open-ended: batches until the time is up (a bound on the run,
 * not an assertion). -o writes every divergence as a regression case.
 * -k names known divergences: lines "mode|regex|reason" (mode 0: both), the
 * extended regex matched against the case's instruction list, a newline and
 * the comparison report; a matching divergence is counted and reported as
 * SKIP with the reason, never as PASS. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "system/log.h"
#include "tests/oracle/oracle.h"

#define BATCH 400
#define MAX_KNOWN 64
#define MAX_SHOWN 8

typedef struct Known {
    int mode;
    regex_t re;
    char reason[160];
    unsigned hits;
} Known;

static Known known[MAX_KNOWN];
static int nknown;
static const char *out_dir;
static bool verbose;

static void load_known(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f) && nknown < MAX_KNOWN) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *p1 = strchr(line, '|'), *p2 = strrchr(line, '|');
        if (!p1 || p2 == p1)
            continue;
        *p1 = *p2 = 0;
        Known *k = &known[nknown++];
        k->mode = atoi(line);
        if (regcomp(&k->re, p1 + 1, REG_EXTENDED | REG_NOSUB)) {
            fprintf(stderr, "%s: bad regex %s\n", path, p1 + 1);
            nknown--;
            continue;
        }
        snprintf(k->reason, sizeof(k->reason), "%s", p2 + 1);
    }
    fclose(f);
}

static Known *find_known(const OracleCase *c, const char *report)
{
    char text[5120];
    snprintf(text, sizeof(text), "%s\n%s", c->name, report);
    for (int i = 0; i < nknown; i++)
        if ((!known[i].mode || known[i].mode == c->mode) && !regexec(&known[i].re, text, 0, NULL, 0))
            return &known[i];
    return NULL;
}

typedef struct Tally {
    const char *label;
    unsigned cases, diverged, known, shown, saved, ref_faults;
} Tally;

static void show_case(const OracleCase *c, const OracleResult *ref, const OracleResult *got,
                      const char *backend, const char *report)
{
    char buf[1024];
    printf("  --- %d-bit, %s: %s\n  code:", c->mode, backend, c->name);
    for (unsigned i = 0; i < c->len; i++)
        printf(" %02x", c->code[i]);
    printf("\n%s", report);
    oracle_describe_result(ref, c->mode, buf, sizeof(buf));
    printf("  reference: %s\n", buf);
    oracle_describe_result(got, c->mode, buf, sizeof(buf));
    printf("  translator: %s\n", buf);
}

static void save_case(const OracleCase *c, const char *backend, const char *report, uint64_t seed,
                      unsigned idx, Tally *t)
{
    if (!out_dir)
        return;
    char path[512], comment[2048];
    snprintf(path, sizeof(path), "%s/%d-%" PRIu64 "-%u.case", out_dir, c->mode, seed, idx);
    if (access(path, F_OK) == 0)
        return;   /* the other backend already saved it */
    snprintf(comment, sizeof(comment), "found by make fuzz-cpu (seed %" PRIu64 " -m %d, case %u, %s backend)\n%.1900s",
             seed, c->mode, idx, backend, report);
    if (oracle_case_write(path, c, comment))
        t->saved++;
    else
        fprintf(stderr, "oracle: cannot write %s: %m\n", path);
}

/* Runs the cases on every selected backend against the references. */
static void run_batch(const OracleCase *cases, size_t n, const OracleResult *ref, OracleTCG **tcg,
                      const char *const *bnames, int nb, Tally *tally, uint64_t seed, unsigned base_idx)
{
    OracleResult got;
    char report[4096];
    for (int b = 0; b < nb; b++) {
        Tally *t = &tally[b];
        for (size_t i = 0; i < n; i++) {
            const OracleCase *c = &cases[i];
            t->cases++;
            if (ref[i].end == ORACLE_END_EXCEPTION)
                t->ref_faults++;
            /* nothing to compare with when the hardware did not finish */
            bool ref_done = ref[i].end != ORACLE_END_CRASH && ref[i].end != ORACLE_END_TIMEOUT;
            if (ref_done)
                oracle_tcg_run(tcg[b], c, &got);
            if (!ref_done || oracle_compare(c, &ref[i], &got, report, sizeof(report))) {
                if (!ref_done)
                    snprintf(report, sizeof(report), "  the reference did not complete (%d, rip %#" PRIx64 ")\n",
                             ref[i].vector, ref[i].st.rip);
                Known *k = find_known(c, report);
                if (k) {
                    k->hits++;
                    t->known++;
                    continue;
                }
                t->diverged++;
                if (t->shown++ < MAX_SHOWN || verbose)
                    show_case(c, &ref[i], &got, bnames[b], report);
                save_case(c, bnames[b], report, seed, base_idx + (unsigned)i, t);
            } else if (verbose) {
                char buf[1024];
                oracle_describe_result(&ref[i], c->mode, buf, sizeof(buf));
                printf("  ok %s: %s\n    %s\n", bnames[b], c->name, buf);
            }
        }
    }
}

static void report_tallies(const Tally *tally, int nb)
{
    for (int b = 0; b < nb; b++) {
        const Tally *t = &tally[b];
        if (t->diverged)
            printf("FAIL oracle/%s: %u of %u cases diverge from the hardware%s\n", t->label,
                   t->diverged, t->cases, t->saved ? " (saved as regression cases)" : "");
        else
            printf("PASS oracle/%s: %u cases (%u faulting), no unknown divergence\n", t->label,
                   t->cases, t->ref_faults);
    }
}

static void report_known(const char *run)
{
    for (int i = 0; i < nknown; i++) {
        if (known[i].hits)
            printf("SKIP oracle/%s-known-%d: %u case(s) hit a known translator bug: %s\n", run, i,
                   known[i].hits, known[i].reason);
        known[i].hits = 0;
    }
}

/* The system snippets: KVM is the reference. */
static int run_system(OracleTCG **tcg, const char *const *bnames, int nb)
{
    static OracleCase cases[64];
    static OracleResult ref[64];
    char why[256];
    OracleKVM *k = oracle_kvm_new(why, sizeof(why));
    if (!k) {
        printf("SKIP oracle/system-kvm: KVM unusable: %s\n", why);
        return 0;
    }
    size_t n = oracle_system_cases(cases, 64);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        oracle_kvm_run(k, &cases[i], &ref[kept]);
        if (ref[kept].end == ORACLE_END_CRASH) {
            /* e.g. the nested kvm_pvm cannot emulate the instruction:
             * nothing to compare against */
            printf("SKIP oracle/system-kvm: \"%s\": KVM could not run it (%s at %#" PRIx64 ")%s\n",
                   cases[i].name, ref[kept].why[0] ? ref[kept].why : "no state", ref[kept].st.rip,
                   access("/sys/module/kvm_pvm", F_OK) == 0
                       ? "; the nested kvm_pvm emulates CPL 0 code, and QEMU with -accel kvm stops on the same instructions there"
                       : "");
            continue;
        }
        cases[kept++] = cases[i];
    }
    n = kept;
    oracle_kvm_free(k);
    Tally tally[2] = { { 0 } };
    for (int b = 0; b < nb; b++)
        tally[b].label = !strcmp(bnames[b], "interp") ? "system-kvm-interp" : "system-kvm-x86_64";
    run_batch(cases, n, ref, tcg, bnames, nb, tally, 0, 0);
    report_tallies(tally, nb);
    report_known("system");
    return 0;
}

/* Regenerates case idx of seed/mode (the index fuzz-cpu reports) and
 * writes it to out_dir, to replay one divergence without the whole run. */
static int extract(uint64_t seed, int mode, unsigned idx)
{
    OracleGen g;
    OracleCase c;
    oracle_gen_init(&g, seed + (uint64_t)mode, mode);
    for (unsigned i = 0; i <= idx; i++)
        oracle_gen_case(&g, &c);
    char path[512], comment[256];
    snprintf(path, sizeof(path), "%s/%d-%" PRIu64 "-%u.case", out_dir ? out_dir : ".", mode, seed, idx);
    snprintf(comment, sizeof(comment), "seed %" PRIu64 " -m %d, case %u", seed, mode, idx);
    if (!oracle_case_write(path, &c, comment)) {
        fprintf(stderr, "oracle: cannot write %s: %m\n", path);
        return 1;
    }
    printf("%s: %s\n", path, c.name);
    return 0;
}

static int replay(char **files, int nfiles, OracleTCG **tcg, const char *const *bnames, int nb)
{
    OracleCase *cases = calloc((size_t)nfiles, sizeof(*cases));
    OracleResult *ref = calloc((size_t)nfiles, sizeof(*ref));
    char why[512];
    int n = 0;
    for (int i = 0; i < nfiles; i++) {
        if (oracle_case_read(files[i], &cases[n], why, sizeof(why)))
            n++;
        else
            printf("FAIL oracle/replay: %s\n", why);
    }
    if (!oracle_native_run(cases, ref, (size_t)n, why, sizeof(why))) {
        printf("SKIP oracle/replay: %s\n", why);
        return 0;
    }
    Tally tally[2] = { { .label = "replay-interp" }, { .label = "replay-x86_64" } };
    for (int b = 0; b < nb; b++)
        tally[b].label = !strcmp(bnames[b], "interp") ? "replay-interp" : "replay-x86_64";
    run_batch(cases, (size_t)n, ref, tcg, bnames, nb, tally, 0, 0);
    report_tallies(tally, nb);
    report_known("replay");
    free(cases);
    free(ref);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    unsigned count = 2000;
    double seconds = 0;
    const char *modes = "all", *backends = "both";
    bool do_replay = false, do_system = false, count_given = false;
    long extract_idx = -1;
    int opt;
    char logerr[128];
    while ((opt = getopt(argc, argv, "s:n:t:m:b:o:k:x:d:rvK")) != -1) {
        switch (opt) {
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'n': count = (unsigned)strtoul(optarg, NULL, 0); count_given = true; break;
        case 't': seconds = atof(optarg); break;
        case 'm': modes = optarg; break;
        case 'b': backends = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'k': load_known(optarg); break;
        case 'r': do_replay = true; break;
        case 'v': verbose = true; break;
        case 'K': do_system = true; break;
        case 'x': extract_idx = strtol(optarg, NULL, 0); break;
        case 'd':
            if (!log_parse_items(optarg, &log_mask, logerr, sizeof(logerr))) {
                fprintf(stderr, "oracle-cpu: -d: %s\n", logerr);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: %s [-s seed] [-n count] [-t seconds] [-m 64|32|16|all] "
                    "[-b interp|x86_64|both] [-o dir] [-k known] [-d log] [-v] | -r files... | -x index\n", argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (extract_idx >= 0)
        return extract(seed, atoi(modes), (unsigned)extract_idx);
    if (seconds > 0 && !count_given)
        count = 0;   /* time-bounded only */
    const char *bnames[2];
    OracleTCG *tcg[2];
    int nb = 0;
    if (strcmp(backends, "x86_64"))
        bnames[nb] = "interp", tcg[nb++] = oracle_tcg_new(true);
    if (strcmp(backends, "interp")) {
#if defined(__x86_64__)
        bnames[nb] = "x86_64", tcg[nb++] = oracle_tcg_new(false);
#endif
    }
    if (do_replay || do_system) {
        int rc = do_replay ? replay(argv + optind, argc - optind, tcg, bnames, nb)
                           : run_system(tcg, bnames, nb);
        for (int b = 0; b < nb; b++)
            oracle_tcg_free(tcg[b]);
        return rc;
    }

    /* "all" (and the older "both", now the same) or one mode */
    int mode_list[3], nm = 0;
    static const int every_mode[] = { 64, 32, 16 };
    for (unsigned i = 0; i < 3; i++)
        if (!strcmp(modes, "all") || !strcmp(modes, "both") || atoi(modes) == every_mode[i])
            mode_list[nm++] = every_mode[i];
    if (!nm) {
        fprintf(stderr, "oracle-cpu: -m takes 64, 32, 16 or all\n");
        return 2;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    OracleCase *cases = calloc(BATCH, sizeof(*cases));
    OracleResult *ref = calloc(BATCH, sizeof(*ref));
    printf("oracle: seed %" PRIu64 ", %u/%u instruction forms (64/32- and 16-bit), backends %s\n",
           seed, oracle_gen_forms(64), oracle_gen_forms(32), backends);
    int failed = 0;
    for (int mi = 0; mi < nm; mi++) {
        int mode = mode_list[mi];
        Tally tally[2] = { { 0 } };
        char labels[2][32];
        for (int b = 0; b < nb; b++) {
            snprintf(labels[b], sizeof(labels[b]), "%d-bit-%s", mode, bnames[b]);
            tally[b].label = labels[b];
        }
        OracleGen g;
        oracle_gen_init(&g, seed + (uint64_t)mode, mode);
        for (unsigned done = 0; seconds > 0 || done < count;) {
            size_t n = BATCH;
            if (seconds <= 0 && count - done < n)
                n = count - done;
            for (size_t i = 0; i < n; i++)
                oracle_gen_case(&g, &cases[i]);
            char why[256];
            if (!oracle_native_run(cases, ref, n, why, sizeof(why))) {
                printf("SKIP oracle/%d-bit: %s\n", mode, why);
                break;
            }
            run_batch(cases, n, ref, tcg, bnames, nb, tally, seed, done);
            done += (unsigned)n;
            if (seconds > 0) {
                struct timespec t1;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                double el = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
                if (el >= seconds * (mi + 1) / nm || (count && done >= count))
                    break;
            }
        }
        report_tallies(tally, nb);
        for (int b = 0; b < nb; b++)
            failed |= tally[b].diverged != 0;
    }
    report_known("random");
    for (int b = 0; b < nb; b++)
        oracle_tcg_free(tcg[b]);
    free(cases);
    free(ref);
    return failed ? 1 : 0;
}
